"""Virtual IP claims against their own veneerd: the holder and the history survive a SIGTERM
restart and a kill -9 right after the 2xx; a port claiming faster than its limit (10 per
second, burst 20) gets 429 rate_limited with Retry-After, those refusals write nothing, and
another port's claim goes through at once during the storm.

  tenant: net 10.0.0.0/16 -- subnet 10.0.1.0/24: storm (claimable 10.0.1.128/25), calm
"""

import threading
import time

import vapi
from vapi import assert_error


def world(api):
    t, tc = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/16", client=tc)
    s = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    return tc, n, s


def claim(c, port, ip):
    return c.post("/v1/ports/%s/claim" % port["id"], {"ip": ip})


def test_holder_survives_restart_and_kill9(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    tc, n, s = world(api)
    p1 = api.port(s["id"], client=tc, claimable=["10.0.1.96/27"])
    p2 = api.port(s["id"], client=tc, claimable=["10.0.1.96/27"])
    assert claim(tc, p1, "10.0.1.100").status == 200
    assert claim(tc, p2, "10.0.1.100").status == 200
    assert claim(tc, p1, "10.0.1.101").status == 200
    assert claim(tc, p1, "10.0.1.1").status == 422
    before = {p["id"]: p for p in tc.items("/v1/ports")}
    hist = tc.items("/v1/claims")
    assert len(hist) == 4

    srv.restart()
    tc = api.client(tc.token)
    assert {p["id"]: p["vips"] for p in tc.items("/v1/ports")} == {
        p1["id"]: ["10.0.1.101"], p2["id"]: ["10.0.1.100"]}
    assert {p["id"]: p for p in tc.items("/v1/ports")} == before
    assert tc.items("/v1/claims") == hist
    # the history keeps growing in order after a restart
    r = claim(tc, p1, "10.0.1.100")
    assert r.status == 200, r
    h = tc.items("/v1/claims")
    assert h[:4] == hist and h[4]["port"] == p1["id"] and h[4]["id"] > hist[-1]["id"]

    # kill -9 right after the answer: what was answered is there
    r = claim(tc, p2, "10.0.1.102")
    assert r.status == 200, r
    rev = vapi.check_write_headers(r)
    srv.kill9()
    srv.start()
    tc = api.client(tc.token)
    assert tc.fetch("/v1/ports/" + p2["id"])["vips"] == ["10.0.1.102"]
    assert tc.fetch("/v1/ports/" + p1["id"])["vips"] == ["10.0.1.100", "10.0.1.101"]
    last = tc.items("/v1/claims")[-1]
    assert (last["port"], last["ip"], last["result"], last["revision"]) == (
        p2["id"], "10.0.1.102", "applied", rev)
    assert tc.revision() == rev


def test_rate_limit_and_storm_isolation(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    tc, n, s = world(api)
    storm = api.port(s["id"], client=tc, claimable=["10.0.1.128/25"])
    calm = api.port(s["id"], client=tc, claimable=["10.0.1.64/27"])
    calm2 = api.port(s["id"], client=tc, claimable=["10.0.1.64/27"])

    # 60 different addresses back to back: the burst of 20 passes, then about 10 per second
    start = time.monotonic()
    statuses = []
    retry = None
    for i in range(60):
        r = claim(tc, storm, "10.0.1.%d" % (130 + i))
        statuses.append(r.status)
        if r.status == 429:
            err = assert_error(r, 429, "rate_limited", "ip")
            assert storm["id"] in err["message"]
            retry = r.headers.get("Retry-After")
    elapsed = time.monotonic() - start
    assert set(statuses) == {200, 429}, statuses
    assert statuses[:20] == [200] * 20, statuses
    assert statuses.count(200) <= 20 + 10 * elapsed + 1, (statuses, elapsed)
    assert retry is not None and retry.isdigit() and 1 <= int(retry) <= 2, retry
    # refusals for rate write nothing: only the applied claims are in the history
    h = tc.items("/v1/claims?port=" + storm["id"])
    assert len(h) == statuses.count(200) and {x["result"] for x in h} == {"applied"}
    held = tc.fetch("/v1/ports/" + storm["id"])["vips"]
    assert len(held) == statuses.count(200)

    # another port's claims are not slowed down by a storm going on meanwhile
    stop = threading.Event()
    counts = {"429": 0}

    def hammer():
        c = api.client(tc.token)
        i = 0
        while not stop.is_set():
            i += 1
            if c.post("/v1/ports/%s/claim" % storm["id"],
                      {"ip": "10.0.1.%d" % (200 + i % 50)}).status == 429:
                counts["429"] += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        vapi.wait_until(lambda: counts["429"] > 20, timeout=10, what="storm refused")
        for ip, p in (("10.0.1.70", calm), ("10.0.1.70", calm2), ("10.0.1.71", calm)):
            t0 = time.monotonic()
            r = claim(tc, p, ip)
            assert r.status == 200, r
            assert time.monotonic() - t0 < 2.0
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert tc.fetch("/v1/ports/" + calm["id"])["vips"] == ["10.0.1.71"]
    assert tc.fetch("/v1/ports/" + calm2["id"])["vips"] == ["10.0.1.70"]

    text = api.admin.get("/metrics").raw.decode()
    line = [x for x in text.splitlines()
            if x.startswith('veneer_claims_refused_total{reason="rate_limited"}')]
    assert line and float(line[0].split()[-1]) >= statuses.count(429) + 20, line

    # the bucket refills
    vapi.wait_until(lambda: claim(tc, storm, "10.0.1.250").status == 200, timeout=5,
                    what="storm port allowed again")
