"""BGP through veneerctl (docs/veneerctl.md): what the --bgp-*, --import-policy and
--allow-subnet-override options send (recording fake server), the read-modify-write of
`network update --allow-subnet-override`, and `router bgp` / `router bgp-routes` against
veneerd in every output format, with routerd's reports written into veneerd's store."""

import json
import sqlite3
import time

import pytest

from conftest import parse_table, row_of

BGP_COLS = ["PORT", "PEER_IP", "PEER_ASN", "STATE", "UPTIME", "RECEIVED", "ACCEPTED",
            "REJECTED", "LAST_ERROR"]
LRT_COLS = ["PREFIX", "PORT", "NEXTHOP", "STATUS", "SELECTED", "AS_PATH", "REASON"]
LRT_FIELDS = ["prefix", "port", "nexthop", "status", "selected", "as_path", "reason"]


def one(capture):
    assert len(capture.requests) == 1, capture.requests
    return capture.requests[0]


# --------------------------------------------------------------------------------------------
# What is sent
# --------------------------------------------------------------------------------------------

def test_bgp_options_sent(ctl, capture, tmp_path):
    pol = tmp_path / "policy.json"
    pol.write_text('{"allow": [{"prefix": "10.9.0.0/16", "le": 24}], "max_prefix": 10}')
    cases = [
        (["router", "create", "--network", "net-1", "--name", "r", "--bgp-hold-time", "30"],
         "POST", "/v1/routers", {"network": "net-1", "name": "r", "bgp_hold_time": 30}),
        (["router", "update", "rtr-1", "--bgp-hold-time", "0"],
         "PATCH", "/v1/routers/rtr-1", {"bgp_hold_time": 0}),
        (["port", "create", "--subnet", "sub-1", "--routing", "on", "--bgp-peer-asn", "65001",
          "--bgp-password", "s3cret key", "--bgp-max-prefix", "50",
          "--bgp-max-prefix-warning", "80", "--bgp-ttl-security", "on"],
         "POST", "/v1/ports", {"subnet": "sub-1", "routing": True,
                               "bgp": {"peer_asn": 65001, "password": "s3cret key",
                                       "max_prefix": 50, "max_prefix_warning": 80,
                                       "ttl_security": True}}),
        (["port", "update", "port-1", "--bgp-ttl-security", "off",
          "--bgp-import-policy", '{"deny": []}'],
         "PATCH", "/v1/ports/port-1", {"bgp": {"ttl_security": False,
                                               "import_policy": {"deny": []}}}),
        (["port", "update", "port-1", "--bgp-clear"],
         "PATCH", "/v1/ports/port-1", {"bgp": None}),
        (["network", "create", "--name", "n", "--cidr", "10.0.0.0/16", "--import-policy",
          str(pol)],
         "POST", "/v1/networks", {"name": "n", "cidr": "10.0.0.0/16", "import_policy": {
             "allow": [{"prefix": "10.9.0.0/16", "le": 24}], "max_prefix": 10}}),
        # the flag wins over the same member of the file, whatever the order
        (["network", "create", "--name", "n", "--cidr", "10.0.0.0/16",
          "--allow-subnet-override", "on", "--import-policy",
          '{"allow_subnet_override": false, "update_rate": 5}'],
         "POST", "/v1/networks", {"name": "n", "cidr": "10.0.0.0/16", "import_policy": {
             "allow_subnet_override": True, "update_rate": 5}}),
        (["network", "update", "net-1", "--import-policy", str(pol),
          "--allow-subnet-override", "on"],
         "PATCH", "/v1/networks/net-1", {"import_policy": {
             "allow": [{"prefix": "10.9.0.0/16", "le": 24}], "max_prefix": 10,
             "allow_subnet_override": True}}),
        (["router", "bgp-routes", "rtr-1", "--status", "rejected", "--port", "port-1",
          "--prefix", "10.0.0.0/8"],
         "GET", "/v1/routers/rtr-1/bgp/routes?status=rejected&port=port-1&prefix=10.0.0.0%2F8",
         None),
    ]
    default = capture.respond
    capture.respond = lambda m, p, b: (200, b'{"items": []}') if m == "GET" else \
        default(m, p, b)
    for args, method, path, body in cases:
        capture.requests.clear()
        r = ctl(*args, url=capture.url)
        assert r.rc == 0, r
        req = one(capture)
        assert (req["method"], req["path"]) == (method, path), (args, req)
        assert req["body"] == body, (args, req)


def test_allow_subnet_override_update_merges(ctl, capture):
    """Alone on update, the flag changes that member only: GET first, then the whole policy."""
    current = {"allow": [{"prefix": "10.0.0.0/8", "le": 24}], "deny": [],
               "allow_subnet_override": False, "max_prefix": 7, "max_prefix_warning": 75,
               "update_rate": 50, "update_burst": 200}

    def respond(method, path, body):
        if method == "GET":
            return 200, json.dumps({"id": "net-1", "import_policy": current}).encode()
        return 200, json.dumps(dict(body, id="net-1")).encode()

    capture.respond = respond
    r = ctl("network", "update", "net-1", "--allow-subnet-override", "on", url=capture.url)
    assert r.rc == 0, r
    assert [(q["method"], q["path"]) for q in capture.requests] == [
        ("GET", "/v1/networks/net-1"), ("PATCH", "/v1/networks/net-1")]
    assert capture.requests[1]["body"] == {"import_policy": dict(current,
                                                                 allow_subnet_override=True)}
    # a GET that fails stops before the PATCH, with the GET's exit code
    capture.requests.clear()
    capture.respond = lambda m, p, b: (404, json.dumps(
        {"error": {"code": "not_found", "message": "network net-1 not found"}}).encode())
    r = ctl("network", "update", "net-1", "--allow-subnet-override", "off", url=capture.url)
    assert r.rc == 4, r
    assert [q["method"] for q in capture.requests] == ["GET"]


@pytest.mark.parametrize("args,msg", [
    (["port", "update", "port-1", "--bgp-clear", "--bgp-peer-asn", "1"],
     "--bgp-peer-asn conflicts with --bgp-clear"),
    (["port", "create", "--subnet", "s", "--bgp-peer-asn", "x"], "expected an integer"),
    (["port", "create", "--subnet", "s", "--bgp-ttl-security", "yes"], "expected on or off"),
    (["network", "create", "--name", "n", "--cidr", "10.0.0.0/16", "--import-policy",
      "/nonexistent/policy.json"], "--import-policy"),
    (["network", "create", "--name", "n", "--cidr", "10.0.0.0/16", "--import-policy",
      "{not json"], "--import-policy"),
    (["network", "update", "net-1", "--import-policy", '{"a": 1, "a": 2}'], "--import-policy"),
    (["router", "bgp"], "missing ID"),
    (["router", "bgp", "rtr-1", "--status", "accepted"], "unknown option"),
    (["router", "bgp-routes", "rtr-1", "--bogus", "1"], "unknown option"),
])
def test_bgp_usage_errors(ctl, capture, args, msg):
    r = ctl(*args, url=capture.url)
    assert r.rc == 2, r
    assert msg in r.err and r.out == "", r
    assert capture.requests == []


def test_import_policy_must_be_an_object(ctl, capture, tmp_path):
    f = tmp_path / "list.json"
    f.write_text("[1, 2]")
    r = ctl("network", "update", "net-1", "--import-policy", str(f), url=capture.url)
    assert r.rc == 2 and "expected a JSON object" in r.err, r
    assert capture.requests == []


def test_bgp_sub_answer_checked(ctl, capture):
    capture.respond = lambda m, p, b: (200, b'{"router": "rtr-1", "sessions": 5}')
    r = ctl("router", "bgp", "rtr-1", url=capture.url)
    assert r.rc == 3 and r.out == "", r


# --------------------------------------------------------------------------------------------
# Against veneerd
# --------------------------------------------------------------------------------------------

def store(veneerd):
    c = sqlite3.connect(str(veneerd.dir / "veneer.db"), timeout=10)
    c.execute("PRAGMA busy_timeout = 10000")
    return c


def ip4(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


@pytest.fixture(scope="module")
def bgpnet(api, veneerd):
    ten = api.tenant()["id"]
    tok = api.token(ten)["token"]
    net = api.network(ten, cidr="10.0.0.0/16")
    sub = api.create("/v1/subnets", {"network": net["id"], "cidr": "10.0.1.0/24"})["id"]
    p1 = api.create("/v1/ports", {"subnet": sub, "routing": True, "ip": "10.0.1.10"})
    p2 = api.create("/v1/ports", {"subnet": sub, "routing": True, "ip": "10.0.1.20",
                                  "bgp": {"peer_asn": 65020}})
    main = net["main_router"]
    now = int(time.time() * 1000)
    with store(veneerd) as c:
        c.execute("INSERT INTO bgp_sessions (port, network, router, peer_ip, state, since, "
                  "peer_asn, hold_time, received, accepted, rejected, last_error, updated) "
                  "VALUES (?, ?, ?, ?, 'established', ?, 65010, 90, 3, 2, 1, NULL, ?)",
                  (p1["id"], net["id"], main, ip4("10.0.1.10"), now - 3725000, now))
        for i, (pfx, port, status, sel, reason) in enumerate([
                ("10.50.0.0/16", p1["id"], "accepted", 1, None),
                ("10.51.0.0/16", p1["id"], "accepted", 0, None),
                ("192.168.0.0/16", p1["id"], "rejected", 0, "denied"),
                ("10.52.0.0/16", p2["id"], "accepted", 1, None)]):
            a, n = pfx.split("/")
            c.execute("INSERT INTO learned_routes (id, network, tenant, router, port, addr, len,"
                      " nexthop, nexthop_port, status, reason, selected, attrs, updated, "
                      "revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                      ("lrt-%016x" % (0xc11000 + i), net["id"], ten, main, port, ip4(a), int(n),
                       ip4("10.0.1.10"), port, status, reason, sel,
                       json.dumps({"as_path": [65010, 65011], "origin": "igp"}), now))
    return dict(ten=ten, tok=tok, net=net, main=main, p1=p1, p2=p2)


def test_router_bgp(ctlm, api, bgpnet):
    b = bgpnet
    want = api.get("/v1/routers/%s/bgp" % b["main"])
    r = ctlm("router", "bgp", b["main"], token=b["tok"])
    assert r.rc == 0 and r.err == "", r
    rows = parse_table(r.out, BGP_COLS)
    byport = {x["port"]: x for x in want["sessions"]}
    assert [row[0] for row in rows] == sorted(byport)
    first = rows[[row[0] for row in rows].index(b["p1"]["id"])]
    assert first[1:4] == ["10.0.1.10", "65010", "established"]
    assert first[4].startswith("01:02:0"), r  # FRR-style uptime of 3725 s
    assert first[5:] == ["3", "2", "1", "-"]
    second = rows[[row[0] for row in rows].index(b["p2"]["id"])]
    assert second[1:] == ["10.0.1.20", "65020", "idle", "-", "0", "0", "0", "-"]
    r = ctlm("-o", "json", "router", "bgp", b["main"], token=b["tok"])
    got = r.json()
    assert r.rc == 0 and set(got) == {"router", "asn", "hold_time", "sessions"}, r
    assert [x["port"] for x in got["sessions"]] == [x["port"] for x in want["sessions"]]
    r = ctlm("-o", "id", "router", "bgp", b["main"], token=b["tok"])
    assert r.rc == 0 and r.lines == sorted(byport), r
    # another tenant's router: 404, exit 4
    other = api.token(api.tenant()["id"])["token"]
    r = ctlm("router", "bgp", b["main"], token=other)
    assert r.rc == 4 and "404 not_found" in r.err, r


def test_router_bgp_routes(ctlm, api, bgpnet):
    b = bgpnet
    want = api.items("/v1/routers/%s/bgp/routes" % b["main"])
    r = ctlm("router", "bgp-routes", b["main"], token=b["tok"])
    assert r.rc == 0 and r.err == "", r
    rows = parse_table(r.out, LRT_COLS)
    assert rows == [row_of(e, LRT_FIELDS) for e in want], r
    assert [row[0] for row in rows] == ["10.50.0.0/16", "10.51.0.0/16", "10.52.0.0/16",
                                        "192.168.0.0/16"]
    assert rows[0][5] == "65010,65011" and rows[0][4] == "yes" and rows[1][4] == "no"
    r = ctlm("router", "bgp-routes", b["main"], "--status", "rejected", token=b["tok"])
    assert [row[0] for row in parse_table(r.out, LRT_COLS)] == ["192.168.0.0/16"], r
    assert parse_table(r.out, LRT_COLS)[0][6] == "denied"
    r = ctlm("-o", "id", "router", "bgp-routes", b["main"], "--port", b["p2"]["id"],
             token=b["tok"])
    assert r.rc == 0 and r.lines == ["lrt-%016x" % (0xc11000 + 3)], r
    r = ctlm("-o", "json", "router", "bgp-routes", b["main"], "--prefix", "10.50.0.0/16")
    assert r.rc == 0 and [x["prefix"] for x in r.json()] == ["10.50.0.0/16"], r
    r = ctlm("router", "bgp-routes", b["main"], "--status", "maybe")
    assert r.rc == 1 and "invalid_query" in r.err and "(field: status)" in r.err, r


def test_bgp_settings_round_trip(ctl, api, bgpnet, tmp_path):
    b = bgpnet
    pol = tmp_path / "p.json"
    pol.write_text('{"allow": [{"prefix": "10.9.0.0/16", "ge": 24}], "max_prefix": 10}')
    nid = ctl.id("network", "update", b["net"]["id"], "--import-policy", str(pol),
                 token=b["tok"])
    got = api.get("/v1/networks/" + nid)["import_policy"]
    assert got["allow"] == [{"prefix": "10.9.0.0/16", "ge": 24, "le": 32}]
    assert got["max_prefix"] == 10 and got["allow_subnet_override"] is False
    ctl.id("network", "update", nid, "--allow-subnet-override", "on", token=b["tok"])
    now = api.get("/v1/networks/" + nid)["import_policy"]
    assert now == dict(got, allow_subnet_override=True)  # the rest is kept
    r = ctl("network", "update", nid, "--import-policy", '{"max_prefix": 0}', token=b["tok"])
    assert r.rc == 1 and "(field: import_policy.max_prefix)" in r.err, r
    # ports: the options together are the whole object; the password never comes back
    pid = ctl.id("port", "update", b["p2"]["id"], "--bgp-peer-asn", "65030",
                 "--bgp-password", "hunter2", "--bgp-ttl-security", "on", token=b["tok"])
    r = ctl("-o", "json", "port", "show", pid, token=b["tok"])
    assert r.json()["bgp"] == {"peer_asn": 65030, "password_set": True,
                               "ttl_security": True}, r
    assert "hunter2" not in r.out
    r = ctl("port", "show", pid)
    assert "hunter2" not in r.out and "password_set" in r.out, r
    r = ctl("port", "update", pid, "--bgp-peer-asn", "23456", token=b["tok"])
    assert r.rc == 1 and "(field: bgp.peer_asn)" in r.err, r
    ctl.id("port", "update", pid, "--bgp-peer-asn", "65020", token=b["tok"])
    assert api.get("/v1/ports/" + pid)["bgp"] == {"peer_asn": 65020, "password_set": False,
                                                 "ttl_security": False}
    rid = ctl.id("router", "update", b["main"], "--bgp-hold-time", "9", token=b["tok"])
    assert api.get("/v1/routers/" + rid)["bgp_hold_time"] == 9
    r = ctl("router", "update", rid, "--bgp-hold-time", "1")
    assert r.rc == 1 and "(field: bgp_hold_time)" in r.err, r
    ctl.id("router", "update", rid, "--bgp-hold-time", "90")
    # a port made with BGP settings from the start, then cleared
    sub = api.get("/v1/ports/" + pid)["subnet"]
    new = ctl.id("port", "create", "--subnet", sub, "--routing", "on", "--bgp-max-prefix",
                 "20", "--bgp-max-prefix-warning", "90", token=b["tok"])
    assert api.get("/v1/ports/" + new)["bgp"] == {"password_set": False, "max_prefix": 20,
                                                 "max_prefix_warning": 90,
                                                 "ttl_security": False}
    ctl.id("port", "update", new, "--bgp-clear", token=b["tok"])
    assert api.get("/v1/ports/" + new)["bgp"] == {}
