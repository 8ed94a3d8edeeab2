"""Every bad-input class of the error table (docs/api.md, Errors): each refused request answers
the documented status, code and field, changes nothing (the revision does not move), never
answers 5xx (vapi.Client fails the test on any 5xx but 503), and the server stays up
(conftest checks /v1/health after each test)."""

import http.client
import json

import pytest

import vapi
from vapi import assert_error, missing_id, uniq

NET_CIDR = "10.20.0.0/16"


@pytest.fixture(scope="module")
def base(api):
    t, tc = api.tenant()
    n = api.network(t["id"], cidr=NET_CIDR)
    r1 = api.router(n["id"])
    api.link(n["main_router"], r1["id"])
    s = api.subnet(n["id"], "10.20.1.0/24")
    p = api.port(s["id"])
    h = api.host()
    e6 = api.host(encap="embed6", prefix="fd00:aa::/56")
    return dict(api=api, tenant=t["id"], tclient=tc, net=n["id"], main=n["main_router"],
                r1=r1["id"], sub=s["id"], port=p["id"], port_obj=p, host=h["name"],
                e6=e6["name"], e6_obj=e6)


_sub_counter = iter(range(10, 250))


def valid(kind, b):
    """A fresh body that the server accepts for POST of kind."""
    if kind == "tenants":
        return {"name": uniq("t")}
    if kind == "networks":
        return {"name": uniq("n"), "cidr": "10.30.0.0/16", "tenant": b["tenant"]}
    if kind == "routers":
        return {"network": b["net"], "name": uniq("r")}
    if kind == "links":
        ra = b["api"].router(b["net"])["id"]
        rb = b["api"].router(b["net"])["id"]
        return {"a": ra, "b": rb}
    if kind == "subnets":
        return {"network": b["net"], "cidr": "10.20.%d.0/24" % next(_sub_counter)}
    if kind == "ports":
        return {"subnet": b["sub"]}
    if kind == "hosts":
        return {"name": uniq("h"), "address": vapi.host_address()}
    if kind == "routes":
        n = vapi.seq()
        return {"router": b["main"], "destination": "172.%d.%d.0/24" % (16 + n // 250 % 16,
                                                                        n % 250),
                "target": "blackhole"}
    if kind == "tokens":
        return {"name": uniq("k")}
    raise AssertionError(kind)


def coll(kind, b):
    return "/v1/tenants/%s/tokens" % b["tenant"] if kind == "tokens" else "/v1/" + kind


CREATE_KINDS = ["tenants", "networks", "routers", "links", "subnets", "ports", "hosts",
                "routes", "tokens"]


def refused(admin, method, path, status, code, field=vapi.ANY, client=None, **kw):
    """Sends a request that must be refused and checks that it changed nothing."""
    rev = admin.revision()
    r = (client or admin).req(method, path, **kw)
    err = assert_error(r, status, code, field)
    assert admin.revision() == rev, "refused request advanced the revision: %r" % (r,)
    return err


# ---------------------------------------------------------------------------------------------
# Body syntax
# ---------------------------------------------------------------------------------------------

MALFORMED = [b"{", b'{"name": }', b'{"name": "x",}', b"{'name': 'x'}", b'{"name": "x"} z',
             b"nul", b'{"name": "x"}{"name": "y"}', b'{"name": "x\\q"}', b'{"name": NaN}',
             b'{"asn": 01}', b"[1,]", b'{"name": "x"', b'{name: "x"}', b"\x00",
             b'{"name": "\x01"}', b'{"name": "a\x00b"}',
             b'{"name": "\xff\xfe"}', b'{"name": "\xc0\xaf"}', b'{"name": "\xed\xa0\x80"}']


@pytest.mark.parametrize("raw", MALFORMED, ids=lambda r: repr(r)[:30])
def test_malformed_json(admin, base, raw):
    refused(admin, "POST", "/v1/networks", 400, "malformed_json", raw_body=raw)
    refused(admin, "PATCH", "/v1/networks/" + base["net"], 400, "malformed_json",
            raw_body=raw)


@pytest.mark.parametrize("raw", [b"[]", b'[{"name": "x"}]', b'"x"', b"1", b"null", b"true",
                                 b"1.5"])
def test_body_not_an_object(admin, base, raw):
    refused(admin, "POST", "/v1/tenants", 400, "invalid_body", raw_body=raw)
    refused(admin, "PATCH", "/v1/ports/" + base["port"], 400, "invalid_body", raw_body=raw)


def test_empty_body_on_create(admin, base):
    refused(admin, "POST", "/v1/tenants", 400, {"malformed_json", "invalid_body"},
            raw_body=b"")


def test_body_where_none_is_taken(api, admin, base):
    rt = api.route(base["main"], "172.31.0.0/16", "blackhole")
    refused(admin, "DELETE", "/v1/routes/" + rt["id"], 400, "invalid_body", body={})
    refused(admin, "DELETE", "/v1/routes/" + rt["id"], 400, "invalid_body",
            raw_body=b'{"force": true}')
    assert admin.get("/v1/routes/" + rt["id"]).status == 200
    assert_error(admin.get("/v1/networks", body={"name": "x"}), 400, "invalid_body")
    assert admin.delete("/v1/routes/" + rt["id"]).status == 204


def test_escaped_nul_and_lone_surrogates(admin, base):
    for raw in (b'{"name": "a\\u0000b"}', b'{"name": "\\ud800"}', b'{"name": "\\udc00x"}'):
        refused(admin, "POST", "/v1/tenants", 400, {"malformed_json", "invalid_value"},
                raw_body=raw)


def test_deep_nesting_and_huge_numbers(admin, base):
    deep = b'{"name": ' + b"[" * 20000 + b"]" * 20000 + b"}"
    r = admin.post("/v1/tenants", raw_body=deep)
    assert_error(r, 400, {"malformed_json", "invalid_type"})
    arr = b"[" * 30000 + b"]" * 30000
    assert_error(admin.post("/v1/tenants", raw_body=arr), 400,
                 {"malformed_json", "invalid_body"})
    for num in (b"1e400", b"99999999999999999999999999", b"-99999999999999999999999"):
        body = b'{"network": "%s", "name": "big", "asn": %s}' % (base["net"].encode(), num)
        r = admin.post("/v1/routers", raw_body=body)
        assert_error(r, 400, {"malformed_json", "invalid_value", "invalid_type"})


# ---------------------------------------------------------------------------------------------
# Fields: unknown, missing, wrong type
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", CREATE_KINDS)
def test_unknown_field_on_create(admin, base, kind):
    body = valid(kind, base)
    body["bogus"] = 1
    refused(admin, "POST", coll(kind, base), 400, "unknown_field", "bogus", body=body)
    body = valid(kind, base)
    body["Name" if "name" in body else "Subnet"] = "x"
    refused(admin, "POST", coll(kind, base), 400, "unknown_field", body=body)


PATCHABLE = [("networks", "net"), ("routers", "r1"), ("subnets", "sub"), ("ports", "port"),
             ("hosts", "host"), ("tenants", "tenant")]


@pytest.mark.parametrize("kind,key", PATCHABLE)
def test_unknown_field_on_patch(admin, base, kind, key):
    path = "/v1/%s/%s" % (kind, base[key])
    before = admin.fetch(path)
    refused(admin, "PATCH", path, 400, "unknown_field", "bogus", body={"bogus": True})
    refused(admin, "PATCH", path, 400, "unknown_field", "zzz",
            body={"zzz": 1} if kind == "hosts" else {"name": "fine-name", "zzz": 1})
    assert admin.fetch(path) == before


REQUIRED = {"tenants": ["name"], "networks": ["name", "cidr", "tenant"],
            "routers": ["network", "name"], "links": ["a", "b"],
            "subnets": ["network", "cidr"], "ports": ["subnet"], "hosts": ["name", "address"],
            "routes": ["router", "destination", "target"]}


@pytest.mark.parametrize("kind,field", [(k, f) for k, fs in REQUIRED.items() for f in fs])
def test_missing_field(admin, base, kind, field):
    body = valid(kind, base)
    del body[field]
    refused(admin, "POST", coll(kind, base), 400, "missing_field", field, body=body)
    body = valid(kind, base)
    body[field] = None
    refused(admin, "POST", coll(kind, base), 400, "missing_field", field, body=body)


def test_missing_everything(admin, base):
    for kind in REQUIRED:
        refused(admin, "POST", coll(kind, base), 400, "missing_field", body={})


WRONG_TYPES = [
    ("tenants", "name", [5, True, [], {}, 1.5, ["x"]]),
    ("tokens", "name", [5, False, ["x"]]),
    ("networks", "name", [5, True, {"x": 1}]),
    ("networks", "cidr", [5, True, {}, [5], [["10.30.0.0/16"]], 1.5]),
    ("networks", "tenant", [5, [], True]),
    ("routers", "network", [5, []]),
    ("routers", "name", [5, []]),
    ("routers", "asn", ["64512", True, 1.5, [64512], {}]),
    ("routers", "mac", [5, True, ["02:00:00:00:00:01"]]),
    ("links", "a", [5, {}]),
    ("links", "b", [True, ["x"]]),
    ("subnets", "cidr", [5, ["10.20.200.0/24"], {}]),
    ("subnets", "router", [5, False]),
    ("subnets", "name", [5]),
    ("ports", "subnet", [5, []]),
    ("ports", "ip", [5, ["10.20.1.50"], True]),
    ("ports", "extra_ips", ["10.20.1.50", [5], {}, 5, True]),
    ("ports", "claimable", ["10.20.1.0/28", [5], {"a": 1}]),
    ("ports", "source_dest_check", ["true", 1, 0, "yes", []]),
    ("ports", "routing", ["false", 1, {}]),
    ("ports", "device", [5, True, ["tap0"]]),
    ("ports", "host", [5, ["x"]]),
    ("ports", "mac", [2, {}]),
    ("ports", "name", [[], 7]),
    ("hosts", "name", [5, []]),
    ("hosts", "address", [5, ["198.18.200.1"], True]),
    ("hosts", "encap", [1, True, ["vxlan"]]),
    ("hosts", "prefix", [5, ["fd00::/48"]]),
    ("routes", "router", [5]),
    ("routes", "destination", [5, ["10.0.0.0/8"], 1.5]),
    ("routes", "target", [5, True, []]),
]


@pytest.mark.parametrize("kind,field,values", WRONG_TYPES, ids=lambda x: str(x)[:20])
def test_wrong_type_on_create(admin, base, kind, field, values):
    for v in values:
        body = valid(kind, base)
        body[field] = v
        refused(admin, "POST", coll(kind, base), 400, "invalid_type", field, body=body)


def test_wrong_type_on_patch(admin, base):
    cases = [("networks", "net", "name", 5), ("networks", "net", "cidr", 5),
             ("routers", "r1", "asn", "1"), ("subnets", "sub", "router", 5),
             ("ports", "port", "source_dest_check", "no"), ("ports", "port", "routing", 1),
             ("ports", "port", "extra_ips", "10.20.1.9"), ("ports", "port", "host", 5),
             ("ports", "port", "device", []), ("hosts", "host", "address", 5),
             ("tenants", "tenant", "name", False)]
    for kind, key, field, value in cases:
        path = "/v1/%s/%s" % (kind, base[key])
        before = admin.fetch(path)
        refused(admin, "PATCH", path, 400, "invalid_type", field, body={field: value})
        assert admin.fetch(path) == before


# ---------------------------------------------------------------------------------------------
# Names, strings and lists
# ---------------------------------------------------------------------------------------------

BAD_NAMES = ["", "-abc", ".abc", "_abc", "a b", "a/b", "a\tb", "caf\u00e9", "a:b", "a\nb",
             "\u2603", "a@b", "a,b", " abc", "abc "]
NAMED = ["tenants", "networks", "routers", "subnets", "ports", "tokens"]


@pytest.mark.parametrize("kind", NAMED)
def test_bad_names(admin, base, kind):
    for name in BAD_NAMES:
        body = valid(kind, base)
        body["name"] = name
        refused(admin, "POST", coll(kind, base), 400, "invalid_value", "name", body=body)
    body = valid(kind, base)
    body["name"] = "n" * 65
    refused(admin, "POST", coll(kind, base), 400, "too_long", "name", body=body)
    body = valid(kind, base)
    body["name"] = "n" * 4000
    refused(admin, "POST", coll(kind, base), 400, "too_long", "name", body=body)


@pytest.mark.parametrize("kind", NAMED)
def test_good_names(admin, base, kind):
    for name in ("a", "Z", "9", "A.b_c-d", "0-start", "x" * 64):
        body = valid(kind, base)
        body["name"] = name
        r = admin.post(coll(kind, base), body)
        assert r.status == 201 and r.json["name"] == body["name"], r


def test_patch_bad_name(admin, base):
    for kind, key in PATCHABLE:
        if kind == "hosts":
            continue
        path = "/v1/%s/%s" % (kind, base[key])
        before = admin.fetch(path)
        refused(admin, "PATCH", path, 400, "invalid_value", "name", body={"name": "-x"})
        refused(admin, "PATCH", path, 400, "too_long", "name", body={"name": "a" * 65})
        refused(admin, "PATCH", path, 400, "invalid_value", "name", body={"name": ""})
        assert admin.fetch(path) == before


def test_host_names(admin, base):
    for name in ("Host1", "-h", ".h", "h_1", "", "h h", "h/1", "h:1", "H"):
        refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "name",
                body={"name": name, "address": vapi.host_address()})
    refused(admin, "POST", "/v1/hosts", 400, "too_long", "name",
            body={"name": "h" * 64, "address": vapi.host_address()})
    for name in ("h" * 62 + str(vapi.seq() % 10), "1host-%d" % vapi.seq(),
                 "a.b-c%d" % vapi.seq()):
        r = admin.post("/v1/hosts", {"name": name, "address": vapi.host_address()})
        assert r.status == 201 and r.json["id"] == name, r


def test_device_names(admin, base):
    for dev in ("", "a/b", "a b", "tap0\n", "t\u00e9", "tap:0", "tap@0"):
        refused(admin, "POST", "/v1/ports", 400, "invalid_value", "device",
                body={"subnet": base["sub"], "device": dev})
    refused(admin, "POST", "/v1/ports", 400, "too_long", "device",
            body={"subnet": base["sub"], "device": "d" * 16})
    refused(admin, "PATCH", "/v1/ports/" + base["port"], 400, "too_long", "device",
            body={"device": "d" * 16})
    r = admin.post("/v1/ports", {"subnet": base["sub"], "device": "D.9_x-" + "y" * 9,
                                 "host": base["host"]})
    assert r.status == 201 and r.json["device"] == "D.9_x-" + "y" * 9, r
    refused(admin, "POST", "/v1/ports", 409, "duplicate", "device",
            body={"subnet": base["sub"], "device": "D.9_x-" + "y" * 9, "host": base["host"]})
    # moving a port onto a host where its device name is taken
    other = admin.create("/v1/ports", {"subnet": base["sub"], "device": "D.9_x-" + "y" * 9})
    refused(admin, "PATCH", "/v1/ports/" + other["id"], 409, "duplicate", "device",
            body={"host": base["host"]})


def test_long_lists(api, admin, base):
    cidrs = ["10.%d.0.0/16" % i for i in range(17)]
    refused(admin, "POST", "/v1/networks", 400, "too_long", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidrs})
    n = api.network(base["tenant"], cidr=cidrs[:16])
    assert len(n["cidr"]) == 16
    refused(admin, "PATCH", "/v1/networks/" + n["id"], 400, "too_long", "cidr",
            body={"cidr": cidrs})
    s = api.subnet(n["id"], "10.3.0.0/24")
    extra = ["10.3.0.%d" % i for i in range(100, 133)]
    refused(admin, "POST", "/v1/ports", 400, "too_long", "extra_ips",
            body={"subnet": s["id"], "extra_ips": extra})
    claim = ["10.3.1.%d/32" % i for i in range(33)]
    refused(admin, "POST", "/v1/ports", 400, "too_long", "claimable",
            body={"subnet": s["id"], "claimable": claim})
    p = api.port(s["id"], extra_ips=extra[:32], claimable=claim[:32])
    assert sorted(p["extra_ips"]) == sorted(extra[:32]) and len(p["claimable"]) == 32
    refused(admin, "PATCH", "/v1/ports/" + p["id"], 400, "too_long", "extra_ips",
            body={"extra_ips": extra + ["10.3.0.200"]})
    r = admin.post("/v1/networks", {"name": "x", "tenant": base["tenant"], "cidr": []})
    assert_error(r, 400, {"invalid_value", "missing_field"}, "cidr")


# ---------------------------------------------------------------------------------------------
# CIDRs and addresses
# ---------------------------------------------------------------------------------------------

GARBAGE_CIDRS = ["10.0.0.0/33", "10.0.0/8", "010.0.0.0/8", " 10.0.0.0/8", "10.0.0.0/8 ",
                 "10.0.0.0/8x", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0//8", "10.0.0.0/-8",
                 "256.0.0.0/8", "10.0.0.0.0/8", "10.0.0.0/8/8", "", "x", "::/0",
                 "fd00::/48", "10.0.0.0/0x8", "10.0.0.0/+8", "1O.0.0.0/8",
                 "10.0.0.0/ 8", "0x0a.0.0.0/8", "10.0.0.0/8,11.0.0.0/8"]


@pytest.mark.parametrize("cidr", GARBAGE_CIDRS)
def test_garbage_cidrs(admin, base, cidr):
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidr})
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": ["10.40.0.0/16", cidr]})
    refused(admin, "POST", "/v1/subnets", 400, "invalid_value", "cidr",
            body={"network": base["net"], "cidr": cidr})
    refused(admin, "POST", "/v1/routes", 400, "invalid_value", "destination",
            body={"router": base["main"], "destination": cidr, "target": "blackhole"})
    refused(admin, "POST", "/v1/ports", 400, "invalid_value", "claimable",
            body={"subnet": base["sub"], "claimable": [cidr]})


HOST_BITS = [("10.0.0.1/16", "network"), ("10.20.1.1/24", "subnet"),
             ("10.20.0.128/16", "network"), ("10.20.5.4/22", "subnet"),
             ("10.1.2.3/8", "route"), ("10.20.1.5/30", "claimable")]


def test_host_bits_set(admin, base):
    for cidr, where in HOST_BITS:
        if where == "network":
            err = refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
                          body={"name": "x", "tenant": base["tenant"], "cidr": cidr})
        elif where == "subnet":
            err = refused(admin, "POST", "/v1/subnets", 400, "invalid_value", "cidr",
                          body={"network": base["net"], "cidr": cidr})
        elif where == "route":
            err = refused(admin, "POST", "/v1/routes", 400, "invalid_value", "destination",
                          body={"router": base["main"], "destination": cidr,
                                "target": "blackhole"})
        else:
            err = refused(admin, "POST", "/v1/ports", 400, "invalid_value", "claimable",
                          body={"subnet": base["sub"], "claimable": [cidr]})
        assert "host bits" in err["message"] or "/" in err["message"], err


@pytest.mark.parametrize("cidr", ["10.0.0.0/7", "10.0.0.0/31", "10.0.0.0/32", "0.0.0.0/0",
                                  "10.0.0.0/4"])
def test_network_and_subnet_prefix_length(admin, base, cidr):
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidr})
    sub = cidr.replace("10.0.0.0", "10.20.0.0") if cidr.endswith(("/31", "/32")) else cidr
    refused(admin, "POST", "/v1/subnets", 400, "invalid_value", "cidr",
            body={"network": base["net"], "cidr": sub})


def test_prefix_length_bounds_accepted(api, admin, base):
    n = api.network(base["tenant"], cidr=["11.0.0.0/8", "12.0.0.0/30"])
    assert sorted(n["cidr"]) == ["11.0.0.0/8", "12.0.0.0/30"]
    assert api.subnet(n["id"], "11.0.0.0/8")["gateway_ip"] == "11.0.0.1"
    assert api.subnet(n["id"], "12.0.0.0/30")["gateway_ip"] == "12.0.0.1"
    for d in ("0.0.0.0/0", "11.1.2.3/32"):
        assert api.route(n["main_router"], d, "blackhole")["destination"] == d


RESERVED = ["0.0.0.0/8", "0.1.0.0/16", "127.0.0.0/8", "127.1.2.0/24", "169.254.0.0/16",
            "169.254.10.0/24", "169.0.0.0/8", "224.0.0.0/4", "224.0.0.0/8", "239.1.0.0/16",
            "240.0.0.0/4", "240.0.0.0/8", "250.0.0.0/8", "255.255.255.0/24", "224.0.0.0/3"]


@pytest.mark.parametrize("cidr", RESERVED)
def test_reserved_network_cidrs(admin, base, cidr):
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidr})
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": ["10.0.0.0/8", cidr]})
    refused(admin, "PATCH", "/v1/networks/" + base["net"], 400, "invalid_value", "cidr",
            body={"cidr": [NET_CIDR, cidr]})


def test_reserved_boundaries_accepted(api, base):
    for cidr in ("1.0.0.0/8", "126.0.0.0/8", "128.0.0.0/8", "169.253.0.0/16",
                 "169.255.0.0/16", "223.255.255.0/24", "100.64.0.0/10", "192.168.0.0/16"):
        assert api.network(base["tenant"], cidr=cidr)["cidr"] == [cidr]


@pytest.mark.parametrize("cidrs", [["10.0.0.0/16", "10.0.1.0/24"], ["10.0.0.0/16", "10.0.0.0/16"],
                                   ["10.0.0.0/8", "10.255.255.252/30"],
                                   ["192.168.1.0/24", "10.0.0.0/8", "192.168.0.0/16"]])
def test_network_cidrs_overlap_each_other(admin, base, cidrs):
    refused(admin, "POST", "/v1/networks", 400, "invalid_value", "cidr",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidrs})
    refused(admin, "PATCH", "/v1/networks/" + base["net"], 400, "invalid_value", "cidr",
            body={"cidr": cidrs + [NET_CIDR] if NET_CIDR not in cidrs else cidrs})


def test_adjacent_network_cidrs_and_overlap_across_networks_ok(api, base):
    n = api.network(base["tenant"], cidr=["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/23"])
    assert len(n["cidr"]) == 3
    api.network(base["tenant"], cidr=NET_CIDR)  # overlaps base's network: fine


def test_subnet_range_and_overlap(admin, base):
    for cidr in ("10.21.0.0/24", "10.0.0.0/8", "10.20.0.0/15", "192.168.0.0/24"):
        refused(admin, "POST", "/v1/subnets", 422, "out_of_range", "cidr",
                body={"network": base["net"], "cidr": cidr})
    for cidr in ("10.20.1.0/24", "10.20.0.0/16", "10.20.1.128/25", "10.20.0.0/23",
                 "10.20.1.4/30"):
        refused(admin, "POST", "/v1/subnets", 409, "overlap", "cidr",
                body={"network": base["net"], "cidr": cidr})


BAD_IPS = ["10.20.1.256", "10.20.1", "10.20.1.5/32", " 10.20.1.5", "10.20.1.5 ", "::1",
           "010.20.1.5", "10.20.1.5.6", "", "x", "10.20.1.-5", "0x0a.20.1.5"]


def test_port_addresses(admin, base):
    sub = base["sub"]
    for ip in BAD_IPS:
        refused(admin, "POST", "/v1/ports", 400, "invalid_value", "ip",
                body={"subnet": sub, "ip": ip})
        refused(admin, "POST", "/v1/ports", 400, "invalid_value", "extra_ips",
                body={"subnet": sub, "extra_ips": ["10.20.1.90", ip]})
    for ip in ("10.20.1.0", "10.20.1.1", "10.20.1.255", "10.20.2.5", "192.168.1.5",
               "10.21.1.5"):
        refused(admin, "POST", "/v1/ports", 422, "out_of_range", "ip",
                body={"subnet": sub, "ip": ip})
        refused(admin, "POST", "/v1/ports", 422, "out_of_range", "extra_ips",
                body={"subnet": sub, "extra_ips": [ip]})
        refused(admin, "PATCH", "/v1/ports/" + base["port"], 422, "out_of_range",
                "extra_ips", body={"extra_ips": [ip]})
    used = base["port_obj"]["ip"]
    refused(admin, "POST", "/v1/ports", 409, "in_use", "ip", body={"subnet": sub, "ip": used})
    refused(admin, "POST", "/v1/ports", 409, "in_use", "extra_ips",
            body={"subnet": sub, "extra_ips": [used]})
    for claim in ("10.21.0.0/24", "10.0.0.0/8", "192.168.0.1/32"):
        refused(admin, "POST", "/v1/ports", 422, "out_of_range", "claimable",
                body={"subnet": sub, "claimable": [claim]})


BAD_MACS = ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "03:00:00:00:00:01",
            "33:33:00:00:00:01", "02:00:00:00:00", "02:00:00:00:00:00:00", "02:00:00:00:00:0g",
            "0200.0000.0001", "02:00:00:00:00:001", "", "02:00:00:00:00:0", "x",
            "02:00:00:00:00:01 ", "020000000001", "02::00:00:00:01"]


@pytest.mark.parametrize("mac", BAD_MACS)
def test_bad_macs(admin, base, mac):
    refused(admin, "POST", "/v1/routers", 400, "invalid_value", "mac",
            body={"network": base["net"], "name": uniq("r"), "mac": mac})
    refused(admin, "POST", "/v1/ports", 400, "invalid_value", "mac",
            body={"subnet": base["sub"], "mac": mac})


ASN_BAD = [0, -1, 23456, 65535, 4294967295, 4294967296, 2 ** 40]
ASN_OK = [1, 23455, 23457, 65534, 65536, 4294967294]


def test_asn_range(admin, base):
    for asn in ASN_BAD:
        refused(admin, "POST", "/v1/routers", 400, "invalid_value", "asn",
                body={"network": base["net"], "name": uniq("r"), "asn": asn})
        refused(admin, "PATCH", "/v1/routers/" + base["r1"], 400, "invalid_value", "asn",
                body={"asn": asn})
    for asn in ASN_OK:
        r = admin.post("/v1/routers", {"network": base["net"], "name": uniq("r"), "asn": asn})
        assert r.status == 201 and r.json["asn"] == asn, r


# ---------------------------------------------------------------------------------------------
# Hosts
# ---------------------------------------------------------------------------------------------

def test_host_inputs(admin, base):
    def host(**kw):
        return dict({"name": uniq("h"), "address": vapi.host_address()}, **kw)

    for addr in ("198.18.0.256", "x", "", "224.0.0.1", "239.255.255.250", "255.255.255.255",
                 "0.0.0.0", "ff02::1", "::", "198.18.0.1/32", "2001:db8::/64", " 198.18.0.1",
                 "2001:db8:::1"):
        refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "address",
                body=host(address=addr))
    for encap in ("gre", "VXLAN", "", "geneve"):
        refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "encap",
                body=host(encap=encap))
    refused(admin, "POST", "/v1/hosts", 400, "missing_field", "prefix", body=host(encap="embed6"))
    refused(admin, "POST", "/v1/hosts", 400, "missing_field", "prefix",
            body=host(encap="embed6", prefix=None))
    refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "prefix",
            body=host(encap="vxlan", prefix="fd00:bb::/56"))
    refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "prefix",
            body=host(prefix="fd00:bb::/56"))
    for prefix in ("fd00::/31", "fd00::/73", "fd00::/128", "fd00:bb::1/56", "10.0.0.0/8",
                   "garbage", "fd00:bb::", "fd00:bb::/56x", "fd00:bb:::/56"):
        refused(admin, "POST", "/v1/hosts", 400, "invalid_value", "prefix",
                body=host(encap="embed6", prefix=prefix))
    for prefix in ("fd01:bb::/32", "fd00:bb:cc:dd00::/72"):
        r = admin.post("/v1/hosts", host(encap="embed6", prefix=prefix))
        assert r.status == 201 and r.json["prefix"] == prefix, r
    refused(admin, "POST", "/v1/hosts", 409, "overlap", "prefix",
            body=host(encap="embed6", prefix="fd00:aa:0:1::/64"))
    refused(admin, "POST", "/v1/hosts", 409, "overlap", "prefix",
            body=host(encap="embed6", prefix="fd00:aa::/32"))
    e6 = base["e6_obj"]
    refused(admin, "POST", "/v1/hosts", 409, "duplicate", "address",
            body=host(address=e6["address"]))
    refused(admin, "POST", "/v1/hosts", 409, "duplicate", "name",
            body=host(name=base["host"]))
    # the same IPv6 address written differently is the same address
    v6 = admin.create("/v1/hosts", host(address="2001:db8:0:1::5"))
    refused(admin, "POST", "/v1/hosts", 409, "duplicate", "address",
            body=host(address="2001:0db8:0000:0001:0000:0000:0000:0005"))
    # switching to vxlan keeps no prefix; switching to embed6 needs one
    path = "/v1/hosts/" + v6["name"]
    refused(admin, "PATCH", path, 400, "missing_field", "prefix", body={"encap": "embed6"})
    refused(admin, "PATCH", path, 400, "invalid_value", "prefix", body={"prefix": "fd00:cc::/56"})


# ---------------------------------------------------------------------------------------------
# Immutable fields
# ---------------------------------------------------------------------------------------------

def test_immutable_fields(admin, base):
    cases = [("routers", base["r1"], "mac", "02:00:00:12:34:56"),
             ("subnets", base["sub"], "cidr", "10.20.99.0/24"),
             ("ports", base["port"], "ip", "10.20.1.99"),
             ("ports", base["port"], "mac", "02:00:00:12:34:57"),
             ("ports", base["port"], "subnet", missing_id("sub"))]
    for kind, oid, field, value in cases:
        path = "/v1/%s/%s" % (kind, oid)
        before = admin.fetch(path)
        refused(admin, "PATCH", path, 422, "immutable", field, body={field: value})
        refused(admin, "PATCH", path, 422, "immutable", field,
                body={field: value, "name": "also-renamed"})
        assert admin.fetch(path) == before


# ---------------------------------------------------------------------------------------------
# HTTP level: size, media type, query, path, method
# ---------------------------------------------------------------------------------------------

def test_body_too_large(admin, base):
    big = json.dumps({"name": "a" * 70000}).encode()
    refused(admin, "POST", "/v1/tenants", 413, "body_too_large", raw_body=big)
    cidrs = ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(5000)]
    refused(admin, "POST", "/v1/networks", 413, "body_too_large",
            body={"name": "x", "tenant": base["tenant"], "cidr": cidrs})
    refused(admin, "PATCH", "/v1/ports/" + base["port"], 413, "body_too_large",
            raw_body=b'{"name": "' + b"b" * (1 << 20) + b'"}')
    refused(admin, "POST", "/v1/tenants", 413, "body_too_large",
            raw_body=b" " * 65536 + b'{"name": "x"}')
    # just under the limit is read and judged on its content
    under = json.dumps({"name": "a" * (65536 - 200)}).encode()
    assert len(under) < 65536
    refused(admin, "POST", "/v1/tenants", 400, "too_long", "name", raw_body=under)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/xml",
                                   "application/jsonx"])
def test_wrong_content_type(admin, base, ctype):
    body = json.dumps(valid("tenants", base)).encode()
    refused(admin, "POST", "/v1/tenants", 415, "unsupported_media_type", raw_body=body,
            headers={"Content-Type": ctype})
    refused(admin, "PATCH", "/v1/tenants/" + base["tenant"], 415, "unsupported_media_type",
            raw_body=b'{"name": "renamed"}', headers={"Content-Type": ctype})


def test_json_content_type_with_charset(admin, base):
    body = valid("tenants", base)
    r = admin.post("/v1/tenants", raw_body=json.dumps(body),
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201 and r.json["name"] == body["name"], r


LIST_PATHS = ["/v1/tenants", "/v1/networks", "/v1/routers", "/v1/links", "/v1/subnets",
              "/v1/ports", "/v1/hosts", "/v1/routes", "TOKENS"]
NOT_FILTERS = {"/v1/tenants": "tenant", "/v1/networks": "router", "/v1/routers": "tenant",
               "/v1/links": "name", "/v1/subnets": "cidr", "/v1/ports": "mac",
               "/v1/hosts": "name", "/v1/routes": "target", "TOKENS": "tenant"}


@pytest.mark.parametrize("path", LIST_PATHS)
def test_invalid_query(admin, base, path):
    nf = NOT_FILTERS[path]
    if path == "TOKENS":
        path = "/v1/tenants/%s/tokens" % base["tenant"]
    assert_error(admin.get(path + "?bogus=1"), 400, "invalid_query", "bogus")
    assert_error(admin.get(path + "?limit=5&bogus"), 400, "invalid_query", "bogus")
    assert_error(admin.get("%s?%s=x" % (path, nf)), 400, "invalid_query", nf)
    for lim in ("0", "1001", "-1", "abc", "", "1e3", "2147483648", "5x", "%20"):
        assert_error(admin.get("%s?limit=%s" % (path, lim)), 400, "invalid_query", "limit")
    assert admin.get(path + "?limit=1").status == 200


def test_query_filters_with_bad_values(admin, base):
    """A well-formed filter that matches nothing answers an empty list, never 5xx."""
    for q in ("/v1/ports?ip=10.99.99.99", "/v1/networks?name=nothing",
              "/v1/hosts?encap=vxlan&limit=1", "/v1/ports?host=nohost"):
        r = admin.get(q)
        assert r.status == 200, r
    for q in ("/v1/ports?ip=%27%3B%20DROP%20TABLE%20ports%3B--", "/v1/networks?name=%00",
              "/v1/networks?name=" + "a" * 3000, "/v1/ports?ip=999.1.1.1",
              "/v1/hosts?encap=gre"):
        r = admin.get(q)
        assert r.status in (200, 400), r
        if r.status == 400:
            assert_error(r, 400, "invalid_query")
        else:
            assert r.json["items"] == [], r
    assert admin.get("/v1/ports").status == 200


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/", "/v1/nothing", "/v2/networks",
                                  "/v1/networks/net-0000000000000000/nothing",
                                  "/v1/tenants/x/tokens/y/z", "/v1/hosts/a/b",
                                  "/v1//networks", "/metrics/x", "/v1/health/x",
                                  "/V1/networks", "/v1/networkss", "/v1/routers/x/routes/y"])
def test_unknown_path(admin, path):
    assert_error(admin.get(path), 404, "not_found")
    assert_error(admin.post(path, {}), 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("PUT", "/v1/networks"), ("DELETE", "/v1/networks"), ("PATCH", "/v1/networks"),
    ("PUT", "/v1/networks/ID"), ("POST", "/v1/networks/ID"), ("POST", "/v1/health"),
    ("DELETE", "/v1/health"), ("POST", "/metrics"), ("DELETE", "/v1/tenants"),
    ("PATCH", "/v1/links"), ("PUT", "/v1/hosts/HOST"), ("POST", "/v1/routers/RID/routes"),
    ("DELETE", "/v1/routers/RID/routes"), ("PATCH", "/v1/tenants/TEN/tokens"),
    ("PUT", "/v1/tenants/TEN/tokens"), ("PATCH", "/v1/routes"), ("POST", "/v1/ports/PID"),
])
def test_wrong_method(admin, base, method, path):
    path = (path.replace("ID", base["net"]).replace("HOST", base["host"])
            .replace("RID", base["r1"]).replace("TEN", base["tenant"])
            .replace("PID", base["port"]))
    body = {} if method in ("PUT", "POST", "PATCH") else None
    refused(admin, method, path, 405, "method_not_allowed", body=body)


def test_unusual_methods(admin, base):
    for method in ("TRACE", "FOO"):
        try:
            r = admin.req(method, "/v1/networks", allow_5xx=True)
        except (http.client.HTTPException, ConnectionError):
            continue  # refusing to talk is fine; crashing is not (checked below)
        assert r.status in (400, 404, 405, 501), r
    assert admin.get("/v1/networks").status == 200


def test_non_json_accept_and_odd_headers(admin, base):
    r = admin.get("/v1/networks", headers={"Accept": "text/html", "X-Junk": "\x7f" * 10})
    assert r.status == 200 and isinstance(r.json["items"], list), r
    r = admin.get("/v1/networks", headers={"Authorization": "Bearer " + "a" * 8000})
    assert_error(r, 401, "unauthenticated")


def test_nul_bytes_in_path_and_query(api, admin, base):
    """A percent-encoded NUL is part of the id, name or number it is in: the id does not
    exist (404) and the query value is malformed (400), never a shorter string."""
    net, port = base["net"], base["port_obj"]
    before = admin.fetch("/v1/networks/" + net)
    for path in ("/v1/networks/%s%%00junk" % net, "/v1/networks/%s%%00" % net,
                 "/v1/ports/%s%%00x" % port["id"], "/v1/hosts/%s%%00x" % base["host"]):
        assert_error(admin.get(path), 404, "not_found")
    assert_error(admin.get("/v1/routers/%s%%00/routes" % base["main"]), 404, "not_found")
    refused(admin, "PATCH", "/v1/networks/%s%%00junk" % net, 404, "not_found",
            body={"name": "renamed-through-nul"})
    rt = api.route(base["main"], "172.30.0.0/16", "blackhole")
    refused(admin, "DELETE", "/v1/routes/%s%%00junk" % rt["id"], 404, "not_found")
    assert admin.fetch("/v1/networks/" + net) == before
    assert admin.get("/v1/routes/" + rt["id"]).status == 200
    assert admin.delete("/v1/routes/" + rt["id"]).status == 204

    assert_error(admin.get("/v1/networks?limit=1%00x"), 400, "invalid_query", "limit")
    assert_error(admin.get("/v1/ports?ip=%s%%00" % port["ip"]), 400, "invalid_query", "ip")
    for q in ("/v1/ports?subnet=%s%%00x" % base["sub"],
              "/v1/networks?tenant=%s%%00" % base["tenant"],
              "/v1/networks?name=%s%%00zzz" % before["name"]):
        r = admin.get(q)
        if r.status == 400:
            assert_error(r, 400, "invalid_query")
        else:
            assert r.status == 200 and r.json["items"] == [], r
