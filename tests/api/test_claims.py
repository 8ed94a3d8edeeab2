"""Virtual IPs that move, through the API (docs/api.md, Virtual IPs): POST /v1/ports/{id}/claim,
the holder shown as the port's `vips`, the history in GET /v1/claims, every refusal with its
reason code (and a history row), a repeat by the holder that changes nothing, releases by a
PATCH of claimable or addresses and by DELETE, tenant isolation, and the holder and history
surviving a SIGTERM restart and a kill -9 after the 2xx.

  tenant A: net 10.0.0.0/16 -- subnet 10.0.1.0/24: p1, p2 (claimable 10.0.1.96/27), ...
                            -- subnet 10.0.2.0/24
  tenant B: its own network with the same CIDR (overlapping addresses are another tenant's)
"""

import time

import pytest

import vapi
from vapi import assert_error


def claim(c, port, ip, **kw):
    return c.post("/v1/ports/%s/claim" % port["id"], {"ip": ip}, **kw)


def claim_ok(c, port, ip):
    """A claim that must apply; waits out the port's rate limit when a test makes many."""
    for _ in range(200):
        r = claim(c, port, ip)
        if r.status != 429:
            break
        time.sleep(0.12)
    assert r.status == 200, r
    return r


def history(c, **filters):
    q = "&".join("%s=%s" % kv for kv in filters.items())
    return c.items("/v1/claims" + ("?" + q if q else ""))


def vips(c, port):
    return c.fetch("/v1/ports/" + port["id"])["vips"]


@pytest.fixture(scope="module")
def w(api):
    t, tc = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/16", client=tc)
    s1 = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    s2 = api.subnet(n["id"], "10.0.2.0/24", client=tc)
    return dict(t=t, tc=tc, n=n, s1=s1, s2=s2)


def port(api, w, **kw):
    kw.setdefault("claimable", ["10.0.1.96/27"])
    return api.port(w["s1"]["id"], client=w["tc"], **kw)


def test_claim_moves_the_address(api, w):
    tc = w["tc"]
    p1, p2 = port(api, w), port(api, w)
    assert p1["vips"] == [] and p2["vips"] == []

    r = claim(tc, p1, "10.0.1.100")
    assert r.status == 200, r
    rev1 = vapi.check_write_headers(r)
    assert r.json["id"] == p1["id"] and r.json["vips"] == ["10.0.1.100"]
    assert r.json["revision"] == rev1
    assert vips(tc, p1) == ["10.0.1.100"]

    # another claimant takes it: both ports change at that revision
    r = claim(tc, p2, "10.0.1.100")
    assert r.status == 200, r
    rev2 = vapi.check_write_headers(r)
    assert rev2 == rev1 + 1
    assert r.json["vips"] == ["10.0.1.100"]
    a = tc.fetch("/v1/ports/" + p1["id"])
    assert a["vips"] == [] and a["revision"] == rev2

    # a second address; vips are in address order
    claim_ok(tc, p2, "10.0.1.99")
    assert vips(tc, p2) == ["10.0.1.99", "10.0.1.100"]
    # the port list shows them too, and the ip filter does not find virtual IPs (fixed only)
    listed = {p["id"]: p for p in tc.items("/v1/ports?network=" + w["n"]["id"])}
    assert listed[p2["id"]]["vips"] == ["10.0.1.99", "10.0.1.100"]

    h = history(tc, port=p2["id"])
    assert [(x["ip"], x["how"], x["result"]) for x in h] == [
        ("10.0.1.100", "api", "applied"), ("10.0.1.99", "api", "applied")]
    assert h[0]["reason"] == "taken from %s" % p1["id"] and h[0]["revision"] == rev2
    assert h[1]["reason"] is None
    for x in h:
        assert set(x) == {"id", "network", "ip", "port", "how", "result", "reason", "at",
                          "revision"}
        assert vapi.is_id(x["id"], "clm") and x["network"] == w["n"]["id"]
        assert vapi.TIME_RE.match(x["at"]), x


def test_repeat_by_the_holder_is_a_no_op(api, w):
    tc = w["tc"]
    p = port(api, w)
    claim_ok(tc, p, "10.0.1.101")
    rev = tc.revision()
    before = history(tc, port=p["id"])
    # keepalived sends several gratuitous ARPs on becoming master: nothing changes
    for _ in range(6):
        r = claim(tc, p, "10.0.1.101")
        assert r.status == 200 and r.json["vips"] == ["10.0.1.101"], r
    assert tc.revision() == rev
    assert history(tc, port=p["id"]) == before
    # and costs no tokens: many more repeats still answer 200
    for _ in range(40):
        assert claim(tc, p, "10.0.1.101").status == 200


REFUSALS = [
    # (claimable, ip, code)
    (["10.0.2.0/24"], "10.0.2.50", "not_in_subnet"),   # claimable elsewhere in the network
    (["10.0.1.96/27"], "10.0.3.7", "not_in_subnet"),
    (["10.0.1.0/24"], "10.0.1.0", "reserved"),         # network address
    (["10.0.1.0/24"], "10.0.1.1", "reserved"),         # gateway
    (["10.0.1.0/24"], "10.0.1.255", "reserved"),       # broadcast
    (["10.0.1.96/27"], "10.0.1.130", "not_claimable"),
    ([], "10.0.1.97", "not_claimable"),
]


@pytest.mark.parametrize("claimable,ip,code", REFUSALS)
def test_refusals(api, w, claimable, ip, code):
    tc = w["tc"]
    p = port(api, w, claimable=claimable)
    rev = tc.revision()
    r = claim(tc, p, ip)
    err = assert_error(r, 422, code, "ip")
    assert ip in err["message"]
    assert tc.revision() == rev
    assert vips(tc, p) == []
    h = history(tc, port=p["id"])
    assert [(x["ip"], x["how"], x["result"], x["reason"], x["revision"]) for x in h] == [
        (ip, "api", "refused", code, None)]


def test_fixed_addresses_are_not_claimable(api, w):
    tc = w["tc"]
    other = port(api, w, extra_ips=["10.0.1.110"])
    p = port(api, w, claimable=["10.0.1.0/24"])
    for ip in (other["ip"], "10.0.1.110", p["ip"]):   # another's ip, extra_ips, its own ip
        assert_error(claim(tc, p, ip), 422, "fixed_address", "ip")
    assert [x["reason"] for x in history(tc, port=p["id"])] == ["fixed_address"] * 3
    assert vips(tc, p) == [] and vips(tc, other) == []


def test_bad_requests(api, w):
    tc = w["tc"]
    p = port(api, w)
    assert_error(tc.post("/v1/ports/%s/claim" % p["id"], {}), 400, "missing_field", "ip")
    assert_error(tc.post("/v1/ports/%s/claim" % p["id"], {"ip": "10.0.1.300"}), 400,
                 "invalid_value", "ip")
    assert_error(tc.post("/v1/ports/%s/claim" % p["id"], {"ip": 5}), 400, "invalid_type", "ip")
    assert_error(tc.post("/v1/ports/%s/claim" % p["id"], {"ip": "10.0.1.100", "x": 1}), 400,
                 "unknown_field", "x")
    assert_error(tc.post("/v1/ports/%s/claim" % vapi.missing_id("port"),
                         {"ip": "10.0.1.100"}), 404, "not_found")
    assert_error(tc.get("/v1/ports/%s/claim" % p["id"]), 405, "method_not_allowed")
    assert_error(tc.get("/v1/claims?result=won"), 400, "invalid_query", "result")
    assert_error(tc.get("/v1/claims?how=arp"), 400, "invalid_query", "how")
    assert_error(tc.get("/v1/claims?ip=10.0.1"), 400, "invalid_query", "ip")
    assert_error(tc.get("/v1/claims?colour=red"), 400, "invalid_query", "colour")
    assert history(tc, port=p["id"]) == []


def test_limit_of_held_addresses(api, w):
    tc = w["tc"]
    p = port(api, w, claimable=["10.0.1.128/26"])
    ips = ["10.0.1.%d" % i for i in range(140, 172)]
    for ip in ips:
        claim_ok(tc, p, ip)
    assert len(vips(tc, p)) == 32
    for _ in range(50):
        r = claim(tc, p, "10.0.1.180")
        if r.status != 429:
            break
        time.sleep(0.12)
    assert_error(r, 409, "limit_exceeded", "ip")
    # what it holds it may still claim again (a no-op)
    assert claim(tc, p, ips[0]).status == 200


def test_history_list_filters_and_pages(api, w):
    tc = w["tc"]
    p1, p2 = port(api, w), port(api, w)
    claim_ok(tc, p1, "10.0.1.120")
    claim_ok(tc, p2, "10.0.1.120")
    assert_error(claim(tc, p2, "10.0.1.1"), 422, "reserved")
    claim_ok(tc, p1, "10.0.1.121")
    mine = [x for x in history(tc) if x["port"] in (p1["id"], p2["id"])]
    assert [(x["port"], x["ip"], x["result"]) for x in mine] == [
        (p1["id"], "10.0.1.120", "applied"), (p2["id"], "10.0.1.120", "applied"),
        (p2["id"], "10.0.1.1", "refused"), (p1["id"], "10.0.1.121", "applied")]
    # ordered by id, which is the order the claims were made (times never go back)
    all_ids = [x["id"] for x in history(tc)]
    assert all_ids == sorted(all_ids)
    ats = [x["at"] for x in history(tc)]
    assert ats == sorted(ats)
    # filters
    assert [x["id"] for x in history(tc, ip="10.0.1.120")][-2:] == [mine[0]["id"], mine[1]["id"]]
    assert all(x["ip"] == "10.0.1.120" for x in history(tc, ip="10.0.1.120"))
    assert [x["id"] for x in history(tc, port=p2["id"], result="refused")] == [mine[2]["id"]]
    assert {x["result"] for x in history(tc, result="applied")} == {"applied"}
    assert {x["how"] for x in history(tc, how="api")} == {"api"}
    assert history(tc, how="garp") == []
    assert len(history(tc, network=w["n"]["id"])) == len(history(tc))
    # pages of 1 walk the same list
    got, after = [], None
    for _ in range(100):
        q = "/v1/claims?port=%s&limit=1" % p1["id"] + ("&after=" + after if after else "")
        page = tc.fetch(q)
        got += page["items"]
        after = page.get("next")
        if not after:
            break
    assert [x["id"] for x in got] == [mine[0]["id"], mine[3]["id"]]


def test_patch_claimable_releases(api, w):
    tc = w["tc"]
    p = port(api, w, claimable=["10.0.1.96/27"])
    claim_ok(tc, p, "10.0.1.97")
    claim_ok(tc, p, "10.0.1.98")
    # still covered: kept
    r = tc.patch("/v1/ports/" + p["id"], {"claimable": ["10.0.1.96/28", "10.0.1.200/32"]})
    assert r.status == 200 and r.json["vips"] == ["10.0.1.97", "10.0.1.98"], r
    # 10.0.1.98 no longer covered: released at the PATCH's revision
    r = tc.patch("/v1/ports/" + p["id"], {"claimable": ["10.0.1.97/32"]})
    assert r.status == 200 and r.json["vips"] == ["10.0.1.97"], r
    rev = vapi.check_write_headers(r)
    h = history(tc, port=p["id"], result="released")
    assert [(x["ip"], x["how"], x["reason"], x["revision"]) for x in h] == [
        ("10.0.1.98", "api", "claimable changed", rev)]
    # nobody holds it now: another port may take it
    q = port(api, w)
    claim_ok(tc, q, "10.0.1.98")
    # other PATCHes keep what is held
    r = tc.patch("/v1/ports/" + p["id"], {"name": vapi.uniq("p")})
    assert r.json["vips"] == ["10.0.1.97"]
    r = tc.patch("/v1/ports/" + p["id"], {"claimable": []})
    assert r.json["vips"] == []


def test_fixed_addresses_and_held_addresses(api, w):
    tc = w["tc"]
    p, q = port(api, w), port(api, w)
    claim_ok(tc, p, "10.0.1.105")
    # held as a virtual IP: in use for another port's fixed addresses
    assert_error(tc.patch("/v1/ports/" + q["id"], {"extra_ips": ["10.0.1.105"]}), 409,
                 "in_use", "extra_ips")
    assert_error(tc.post("/v1/ports", {"subnet": w["s1"]["id"], "ip": "10.0.1.105"}), 409,
                 "in_use", "ip")
    # the port holding it may make it fixed: it is then no longer a virtual IP
    r = tc.patch("/v1/ports/" + p["id"], {"extra_ips": ["10.0.1.105"]})
    assert r.status == 200, r
    assert r.json["vips"] == [] and r.json["extra_ips"] == ["10.0.1.105"]
    h = history(tc, port=p["id"], result="released")
    assert [(x["ip"], x["reason"]) for x in h] == [("10.0.1.105", "now a fixed address of the port")]


def test_allocation_skips_held_addresses(api):
    t, tc = api.tenant()
    n = api.network(t["id"], cidr="10.9.0.0/16", client=tc)
    s = api.subnet(n["id"], "10.9.0.0/29", client=tc)   # usable: .2 .. .6
    p = api.port(s["id"], client=tc, claimable=["10.9.0.0/29"])
    assert p["ip"] == "10.9.0.2"
    claim_ok(tc, p, "10.9.0.3")
    assert api.port(s["id"], client=tc)["ip"] == "10.9.0.4"


def test_delete_releases_and_keeps_history(api, w):
    tc = w["tc"]
    p, q = port(api, w), port(api, w)
    claim_ok(tc, p, "10.0.1.106")
    claim_ok(tc, p, "10.0.1.107")
    r = tc.delete("/v1/ports/" + p["id"])
    assert r.status == 204, r
    h = history(tc, port=p["id"])
    assert [(x["ip"], x["result"], x["reason"]) for x in h] == [
        ("10.0.1.106", "applied", None), ("10.0.1.107", "applied", None),
        ("10.0.1.106", "released", "port deleted"), ("10.0.1.107", "released", "port deleted")]
    assert h[2]["revision"] == h[3]["revision"] == tc.revision()
    claim_ok(tc, q, "10.0.1.106")
    assert vips(tc, q) == ["10.0.1.106"]


def test_tenant_isolation(api, w):
    tc = w["tc"]
    p = port(api, w)
    claim_ok(tc, p, "10.0.1.108")
    tb, cb = api.tenant()
    nb = api.network(tb["id"], cidr="10.0.0.0/16", client=cb)
    sb = api.subnet(nb["id"], "10.0.1.0/24", client=cb)
    pb = api.port(sb["id"], client=cb, claimable=["10.0.1.96/27"])
    # another tenant's port is not found, whatever the body
    for body in ({"ip": "10.0.1.108"}, {}):
        assert_error(cb.post("/v1/ports/%s/claim" % p["id"], body), 404, "not_found")
    # the same address in B's own network is B's to claim, and moves nothing of A's
    claim_ok(cb, pb, "10.0.1.108")
    assert vips(tc, p) == ["10.0.1.108"] and vips(cb, pb) == ["10.0.1.108"]
    # each sees only its own history
    assert {x["network"] for x in history(cb)} == {nb["id"]}
    assert history(cb, port=p["id"]) == []
    assert history(cb, network=w["n"]["id"]) == []
    assert all(x["network"] != nb["id"] for x in history(tc))
    # the admin sees both, and may claim for a tenant's port
    both = {x["network"] for x in history(api.admin)}
    assert {w["n"]["id"], nb["id"]} <= both
    q = port(api, w)
    claim_ok(api.admin, q, "10.0.1.108")
    assert vips(tc, p) == [] and vips(tc, q) == ["10.0.1.108"]


def test_metrics(api, w):
    tc = w["tc"]
    p = port(api, w)

    def counters():
        out = {}
        for line in api.admin.get("/metrics").raw.decode().splitlines():
            if line.startswith("veneer_claims"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    before = counters()
    claim_ok(tc, p, "10.0.1.109")
    assert_error(claim(tc, p, "10.0.1.1"), 422, "reserved")
    after = counters()
    assert after['veneer_claims_total{how="api"}'] - before['veneer_claims_total{how="api"}'] == 2
    k = 'veneer_claims_refused_total{reason="reserved"}'
    assert after[k] - before[k] == 1
    for reason in ("unknown_port", "wrong_host", "not_in_subnet", "reserved", "fixed_address",
                   "not_claimable", "limit_exceeded", "rate_limited"):
        assert 'veneer_claims_refused_total{reason="%s"}' % reason in after
    for how in ("garp", "bgp", "api"):
        assert 'veneer_claims_total{how="%s"}' % how in after
