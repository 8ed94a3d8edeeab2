"""BGP in the API (docs/api.md, "BGP"): a router's bgp_hold_time, a network's import_policy, a
port's bgp settings (validation naming the nested field, defaults, normalization, PATCH
semantics, the password never shown), and the read views of what veneer-routerd reports
(GET /v1/routers/{id}/bgp and .../bgp/routes) and the effective table's learned routes.

veneer-routerd's reports are written straight into the store with a second SQLite connection
(WAL mode lets it write while veneerd runs), as routerd's side of veneerd would write them.

    S1 10.0.1.0/24 (P1, P2 routing; Q plain)   S2 10.0.2.0/24
                 \\                            /
                  R0 (main) ------------------+------- R1 (linked) -- S3 10.0.3.0/24 (P3 routing)
"""

import json
import re
import sqlite3
import time

import pytest

import vapi
from vapi import assert_error, ip4, missing_id, uniq

DEFAULT_POLICY = {"allow": [{"prefix": "0.0.0.0/0", "le": 32}], "deny": [],
                  "allow_subnet_override": False, "max_prefix": 100, "max_prefix_warning": 75,
                  "update_rate": 50, "update_burst": 200}
ROUTE_KEYS = {"id", "prefix", "port", "nexthop", "nexthop_port", "status", "reason", "selected",
              "as_path", "origin", "med", "local_pref", "communities", "large_communities",
              "updated"}
SESSION_KEYS = {"port", "peer_ip", "peer_asn", "state", "since", "uptime_s", "hold_time",
                "prefixes", "last_error"}


# --------------------------------------------------------------------------------------------
# Writing what routerd reports
# --------------------------------------------------------------------------------------------

def db(server):
    c = sqlite3.connect(str(server.store), timeout=10)
    c.execute("PRAGMA busy_timeout = 10000")
    return c


def now_ms():
    return int(time.time() * 1000)


_lrt = iter(range(1, 1 << 30))


def learned(server, port, prefix, nexthop=None, nexthop_port=None, status="accepted",
            reason=None, selected=1, attrs=None, override=0, router=None, tenant=None,
            rid=None):
    """Inserts one learned route for port (its network, tenant and router by default)."""
    addr, length = prefix.split("/")
    with db(server) as c:
        net, ten, rtr, ip = c.execute(
            "SELECT p.network, p.tenant, s.router, p.ip FROM ports p JOIN subnets s ON "
            "s.id = p.subnet WHERE p.id = ?", (port,)).fetchone()
        rid = rid or "lrt-%016x" % next(_lrt)
        c.execute("INSERT INTO learned_routes (id, network, tenant, router, port, addr, len, "
                  "nexthop, nexthop_port, status, reason, selected, attrs, updated, revision, "
                  "override) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                  (rid, net, tenant or ten, router or rtr, port, ip4(addr), int(length),
                   ip4(nexthop) if nexthop else ip, nexthop_port, status, reason, selected,
                   json.dumps(attrs if attrs is not None else
                              {"as_path": [65001], "origin": "igp", "med": None,
                               "local_pref": None, "communities": [],
                               "large_communities": []}),
                   now_ms(), override))
    return rid


def session(server, port, state="established", since=None, peer_asn=65001, hold_time=90,
            received=0, accepted=0, rejected=0, last_error=None):
    with db(server) as c:
        net, rtr, ip = c.execute(
            "SELECT p.network, s.router, p.ip FROM ports p JOIN subnets s ON s.id = p.subnet "
            "WHERE p.id = ?", (port,)).fetchone()
        c.execute("INSERT OR REPLACE INTO bgp_sessions (port, network, router, peer_ip, state, "
                  "since, peer_asn, peer_router_id, hold_time, received, accepted, rejected, "
                  "last_error, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (port, net, rtr, ip, state, since, peer_asn, ip, hold_time, received,
                   accepted, rejected, last_error, now_ms()))


def count(server, sql, *args):
    with db(server) as c:
        return c.execute(sql, args).fetchone()[0]


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def topo(api):
    t, client = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/16")
    r0 = n["main_router"]
    r1 = api.router(n["id"], name="r1")["id"]
    api.link(r0, r1)
    s1 = api.subnet(n["id"], "10.0.1.0/24")
    s2 = api.subnet(n["id"], "10.0.2.0/24")
    s3 = api.subnet(n["id"], "10.0.3.0/24", router=r1)
    p1 = api.port(s1["id"], routing=True, source_dest_check=False, ip="10.0.1.10")
    p2 = api.port(s1["id"], routing=True, ip="10.0.1.20",
                  bgp={"peer_asn": 65020, "password": "p2-secret"})
    q = api.port(s1["id"], ip="10.0.1.30")
    p3 = api.port(s3["id"], routing=True, ip="10.0.3.10")
    return dict(tenant=t, client=client, net=n, r0=r0, r1=r1, s1=s1, s2=s2, s3=s3, p1=p1,
                p2=p2, q=q, p3=p3)


def fresh_net(api):
    t, client = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/16")
    s = api.subnet(n["id"], "10.0.1.0/24")
    return t, client, n, s


# --------------------------------------------------------------------------------------------
# Routers: bgp_hold_time
# --------------------------------------------------------------------------------------------

def test_router_hold_time(api, admin):
    t, client, n, _ = fresh_net(api)
    main = admin.fetch("/v1/routers/" + n["main_router"])
    assert main["bgp_hold_time"] == 90
    r = api.router(n["id"])
    assert r["bgp_hold_time"] == 90
    for ok in (0, 3, 90, 65535):
        rt = api.router(n["id"], bgp_hold_time=ok, client=client)
        assert rt["bgp_hold_time"] == ok
        assert admin.fetch("/v1/routers/" + rt["id"])["bgp_hold_time"] == ok
    for bad in (1, 2, -1, 65536):
        assert_error(admin.post("/v1/routers", {"network": n["id"], "name": uniq("r"),
                                                "bgp_hold_time": bad}),
                     400, "invalid_value", "bgp_hold_time")
    for bad in ("90", 9.5, True, [90]):
        assert_error(admin.post("/v1/routers", {"network": n["id"], "name": uniq("r"),
                                                "bgp_hold_time": bad}),
                     400, "invalid_type", "bgp_hold_time")
    path = "/v1/routers/" + r["id"]
    got = admin.ok("PATCH", path, {"bgp_hold_time": 9})
    assert got["bgp_hold_time"] == 9 and got["asn"] == r["asn"]
    assert admin.ok("PATCH", path, {"name": uniq("r")})["bgp_hold_time"] == 9
    assert_error(admin.patch(path, {"bgp_hold_time": 2}), 400, "invalid_value", "bgp_hold_time")
    assert_error(admin.patch(path, {"bgp_hold_time": None}), 400, "invalid_type",
                 "bgp_hold_time")
    assert admin.fetch(path)["bgp_hold_time"] == 9
    assert [x["bgp_hold_time"] for x in admin.items("/v1/routers?network=" + n["id"])
            if x["id"] == r["id"]] == [9]


# --------------------------------------------------------------------------------------------
# Networks: import_policy
# --------------------------------------------------------------------------------------------

def test_network_policy_default(api, admin):
    t, client, n, _ = fresh_net(api)
    assert n["import_policy"] == DEFAULT_POLICY
    assert admin.fetch("/v1/networks/" + n["id"])["import_policy"] == DEFAULT_POLICY
    made = client.create("/v1/networks", {"name": uniq("n"), "cidr": "10.1.0.0/16",
                                          "import_policy": None})
    assert made["import_policy"] == DEFAULT_POLICY
    made = client.create("/v1/networks", {"name": uniq("n"), "cidr": "10.1.0.0/16",
                                          "import_policy": {}})
    assert made["import_policy"] == DEFAULT_POLICY


def test_network_policy_normalized(api, admin):
    t, client, _, _ = fresh_net(api)
    pol = {"deny": [{"prefix": "10.0.0.0/8", "ge": 8}],
           "allow": [{"prefix": "192.168.0.0/16", "ge": 24},
                     {"prefix": "172.16.0.0/12", "le": 24},
                     {"prefix": "100.64.0.0/10", "ge": 20, "le": 28},
                     {"prefix": "198.51.100.0/24"},
                     {"prefix": "0.0.0.0/0", "ge": None}],
           "max_prefix": 1000, "update_burst": 1000000}
    n = client.create("/v1/networks", {"name": uniq("n"), "cidr": "10.0.0.0/16",
                                       "import_policy": pol})
    want = dict(DEFAULT_POLICY, max_prefix=1000, update_burst=1000000,
                deny=[{"prefix": "10.0.0.0/8", "ge": 8, "le": 32}],
                allow=[{"prefix": "192.168.0.0/16", "ge": 24, "le": 32},
                       {"prefix": "172.16.0.0/12", "le": 24},
                       {"prefix": "100.64.0.0/10", "ge": 20, "le": 28},
                       {"prefix": "198.51.100.0/24"},
                       {"prefix": "0.0.0.0/0"}])
    assert n["import_policy"] == want
    path = "/v1/networks/" + n["id"]
    assert admin.fetch(path)["import_policy"] == want
    # a PATCH without import_policy keeps it; with one, replaces it whole (defaults refill)
    assert admin.ok("PATCH", path, {"name": uniq("n")})["import_policy"] == want
    got = admin.ok("PATCH", path, {"import_policy": {"update_rate": 7,
                                                     "allow_subnet_override": True}})
    assert got["import_policy"] == dict(DEFAULT_POLICY, update_rate=7,
                                        allow_subnet_override=True)
    # an empty allow list is a policy that accepts nothing
    got = admin.ok("PATCH", path, {"import_policy": {"allow": []}})
    assert got["import_policy"] == dict(DEFAULT_POLICY, allow=[])
    # null puts the defaults back
    assert admin.ok("PATCH", path, {"import_policy": None})["import_policy"] == DEFAULT_POLICY
    # the extremes of each number
    edge = {"max_prefix": 1, "max_prefix_warning": 100, "update_rate": 100000,
            "update_burst": 1}
    assert admin.ok("PATCH", path, {"import_policy": edge})["import_policy"] == \
        dict(DEFAULT_POLICY, **edge)
    # 64 entries is the most
    many = [{"prefix": "10.%d.0.0/16" % i} for i in range(64)]
    assert len(admin.ok("PATCH", path, {"import_policy": {"deny": many}})
               ["import_policy"]["deny"]) == 64


BAD_POLICIES = [
    ("x", "invalid_type", "import_policy"),
    ([], "invalid_type", "import_policy"),
    (5, "invalid_type", "import_policy"),
    ({"bogus": 1}, "unknown_field", "import_policy.bogus"),
    ({"allow": {}}, "invalid_type", "import_policy.allow"),
    ({"deny": "10.0.0.0/8"}, "invalid_type", "import_policy.deny"),
    ({"allow": [{"prefix": "10.%d.0.0/16" % i} for i in range(65)]}, "too_long",
     "import_policy.allow"),
    ({"allow": ["10.0.0.0/8"]}, "invalid_type", "import_policy.allow[0]"),
    ({"allow": [{}]}, "missing_field", "import_policy.allow[0].prefix"),
    ({"allow": [{"prefix": "10.0.0.1/8"}]}, "invalid_value", "import_policy.allow[0].prefix"),
    ({"allow": [{"prefix": "10.0.0.0/33"}]}, "invalid_value", "import_policy.allow[0].prefix"),
    ({"allow": [{"prefix": "nope"}]}, "invalid_value", "import_policy.allow[0].prefix"),
    ({"allow": [{"prefix": 10}]}, "invalid_type", "import_policy.allow[0].prefix"),
    ({"deny": [{"prefix": "10.0.0.0/8"}, {"prefix": "10.0.0.0/16", "ge": 8}]}, "invalid_value",
     "import_policy.deny[1].ge"),
    ({"deny": [{"prefix": "10.0.0.0/16", "le": 8}]}, "invalid_value",
     "import_policy.deny[0].le"),
    ({"deny": [{"prefix": "10.0.0.0/16", "ge": 24, "le": 20}]}, "invalid_value",
     "import_policy.deny[0].le"),
    ({"deny": [{"prefix": "10.0.0.0/16", "le": 33}]}, "invalid_value",
     "import_policy.deny[0].le"),
    ({"deny": [{"prefix": "10.0.0.0/16", "ge": "24"}]}, "invalid_type",
     "import_policy.deny[0].ge"),
    ({"deny": [{"prefix": "10.0.0.0/16", "eq": 24}]}, "unknown_field",
     "import_policy.deny[0].eq"),
    ({"allow_subnet_override": "yes"}, "invalid_type", "import_policy.allow_subnet_override"),
    ({"max_prefix": 0}, "invalid_value", "import_policy.max_prefix"),
    ({"max_prefix": 1000001}, "invalid_value", "import_policy.max_prefix"),
    ({"max_prefix": 1.5}, "invalid_type", "import_policy.max_prefix"),
    ({"max_prefix_warning": 0}, "invalid_value", "import_policy.max_prefix_warning"),
    ({"max_prefix_warning": 101}, "invalid_value", "import_policy.max_prefix_warning"),
    ({"update_rate": 0}, "invalid_value", "import_policy.update_rate"),
    ({"update_rate": 100001}, "invalid_value", "import_policy.update_rate"),
    ({"update_burst": 0}, "invalid_value", "import_policy.update_burst"),
    ({"update_burst": 1000001}, "invalid_value", "import_policy.update_burst"),
]


@pytest.mark.parametrize("policy,code,field", BAD_POLICIES)
def test_network_policy_refused(api, admin, topo, policy, code, field):
    rev = admin.revision()
    r = admin.post("/v1/networks", {"name": uniq("n"), "cidr": "10.0.0.0/16",
                                    "tenant": topo["tenant"]["id"], "import_policy": policy})
    err = assert_error(r, 400, code)
    assert err["field"] == field, r
    assert field in err["message"], r
    path = "/v1/networks/" + topo["net"]["id"]
    err = assert_error(admin.patch(path, {"import_policy": policy}), 400, code)
    assert err["field"] == field
    assert admin.revision() == rev
    assert admin.fetch(path)["import_policy"] == DEFAULT_POLICY


# --------------------------------------------------------------------------------------------
# Ports: bgp
# --------------------------------------------------------------------------------------------

def test_port_bgp_default_and_fields(api, admin):
    t, client, n, s = fresh_net(api)
    p = api.port(s["id"])
    assert p["bgp"] == {}
    pw = "Tcp-MD5 key with spaces ~!" + "x" * 54
    assert len(pw) == 80
    full = {"peer_asn": 4294967294, "password": pw, "max_prefix": 1000000,
            "max_prefix_warning": 1, "ttl_security": True,
            "import_policy": {"allow": [{"prefix": "10.9.0.0/16", "le": 24}]}}
    r = client.post("/v1/ports", {"subnet": s["id"], "routing": True, "bgp": full})
    assert r.status == 201, r
    assert pw.encode() not in r.raw
    want = {"peer_asn": 4294967294, "password_set": True, "max_prefix": 1000000,
            "max_prefix_warning": 1, "ttl_security": True,
            "import_policy": dict(DEFAULT_POLICY,
                                  allow=[{"prefix": "10.9.0.0/16", "le": 24}])}
    assert r.json["bgp"] == want
    path = "/v1/ports/" + r.json["id"]
    g = client.get(path)
    assert g.json["bgp"] == want and pw.encode() not in g.raw
    lst = admin.get("/v1/ports?subnet=" + s["id"])
    assert pw.encode() not in lst.raw
    # stored in clear for routerd (TCP-MD5 needs the key itself)
    stored = json.loads(count(admin.server, "SELECT bgp FROM ports WHERE id = ?", r.json["id"]))
    assert stored["password"] == pw and stored["peer_asn"] == 4294967294
    # minimal settings: what was not given stays absent (the network's applies)
    m = api.port(s["id"], bgp={"peer_asn": 1})
    assert m["bgp"] == {"peer_asn": 1, "password_set": False, "ttl_security": False}
    m = api.port(s["id"], bgp={"ttl_security": False})
    assert m["bgp"] == {"password_set": False, "ttl_security": False}
    assert api.port(s["id"], bgp=None)["bgp"] == {}
    assert api.port(s["id"], bgp={})["bgp"] == {}
    assert api.port(s["id"], bgp={"peer_asn": None})["bgp"] == {}


def test_port_bgp_patch(api, admin):
    t, client, n, s = fresh_net(api)
    p = api.port(s["id"], routing=True, bgp={"peer_asn": 65001, "password": "k1",
                                            "max_prefix": 10})
    path = "/v1/ports/" + p["id"]
    rev = admin.revision()
    # PATCH replaces the whole object
    r = client.patch(path, {"bgp": {"max_prefix_warning": 50}})
    assert r.status == 200, r
    assert r.json["bgp"] == {"password_set": False, "max_prefix_warning": 50,
                             "ttl_security": False}
    assert r.json["revision"] == rev + 1 == admin.revision()
    # other fields leave it alone
    r = client.patch(path, {"name": "web"})
    assert r.json["bgp"]["max_prefix_warning"] == 50
    r = client.patch(path, {"bgp": {"password": "k2", "peer_asn": 65002}})
    assert r.json["bgp"] == {"peer_asn": 65002, "password_set": True, "ttl_security": False}
    assert b"k2" not in r.raw
    # null clears
    r = client.patch(path, {"bgp": None})
    assert r.json["bgp"] == {}
    assert count(admin.server, "SELECT bgp FROM ports WHERE id = ?", p["id"]) == "{}"
    # a refused PATCH changes nothing, not even the other fields of the body
    client.patch(path, {"bgp": {"peer_asn": 65003}})
    r = client.patch(path, {"name": "other", "bgp": {"peer_asn": 0}})
    assert_error(r, 400, "invalid_value", "bgp.peer_asn")
    g = client.fetch(path)
    assert g["name"] == "web" and g["bgp"]["peer_asn"] == 65003


BAD_BGP = [
    ("x", "invalid_type", "bgp"),
    ([], "invalid_type", "bgp"),
    (True, "invalid_type", "bgp"),
    ({"bogus": 1}, "unknown_field", "bgp.bogus"),
    ({"peer_asn": 0}, "invalid_value", "bgp.peer_asn"),
    ({"peer_asn": 4294967295}, "invalid_value", "bgp.peer_asn"),
    ({"peer_asn": 23456}, "invalid_value", "bgp.peer_asn"),
    ({"peer_asn": "65001"}, "invalid_type", "bgp.peer_asn"),
    ({"password": ""}, "invalid_value", "bgp.password"),
    ({"password": "y" * 81}, "too_long", "bgp.password"),
    ({"password": "tab\there"}, "invalid_value", "bgp.password"),
    ({"password": "caf\u00e9"}, "invalid_value", "bgp.password"),
    ({"password": 12345}, "invalid_type", "bgp.password"),
    ({"max_prefix": 0}, "invalid_value", "bgp.max_prefix"),
    ({"max_prefix": 1000001}, "invalid_value", "bgp.max_prefix"),
    ({"max_prefix_warning": 0}, "invalid_value", "bgp.max_prefix_warning"),
    ({"max_prefix_warning": 101}, "invalid_value", "bgp.max_prefix_warning"),
    ({"ttl_security": 1}, "invalid_type", "bgp.ttl_security"),
    ({"import_policy": "all"}, "invalid_type", "bgp.import_policy"),
    ({"import_policy": {"max_prefix": 0}}, "invalid_value", "bgp.import_policy.max_prefix"),
    ({"import_policy": {"allow": [{"prefix": "10.0.0.1/8"}]}}, "invalid_value",
     "bgp.import_policy.allow[0].prefix"),
    ({"import_policy": {"deny": [{"prefix": "10.0.0.0/8", "x": 1}]}}, "unknown_field",
     "bgp.import_policy.deny[0].x"),
]


@pytest.mark.parametrize("bgp,code,field", BAD_BGP)
def test_port_bgp_refused(admin, topo, bgp, code, field):
    rev = admin.revision()
    r = admin.post("/v1/ports", {"subnet": topo["s2"]["id"], "bgp": bgp})
    err = assert_error(r, 400, code)
    assert err["field"] == field, r
    assert field in err["message"], r
    if isinstance(bgp, dict) and isinstance(bgp.get("password"), str) and bgp["password"]:
        assert bgp["password"] not in err["message"]
    path = "/v1/ports/" + topo["p2"]["id"]
    err = assert_error(admin.patch(path, {"bgp": bgp}), 400, code)
    assert err["field"] == field
    assert admin.revision() == rev
    assert admin.fetch(path)["bgp"] == {"peer_asn": 65020, "password_set": True,
                                        "ttl_security": False}


def test_config_survives_restart(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    t, _ = api.tenant()
    n = api.network(t["id"])
    a = api.admin
    a.ok("PATCH", "/v1/networks/" + n["id"], {"import_policy": {"max_prefix": 5}})
    a.ok("PATCH", "/v1/routers/" + n["main_router"], {"bgp_hold_time": 30})
    s = api.subnet(n["id"], "10.0.1.0/24")
    p = api.port(s["id"], bgp={"password": "secret", "peer_asn": 65001})
    srv.restart()
    assert a.fetch("/v1/networks/" + n["id"])["import_policy"]["max_prefix"] == 5
    assert a.fetch("/v1/routers/" + n["main_router"])["bgp_hold_time"] == 30
    assert a.fetch("/v1/ports/" + p["id"])["bgp"] == {"peer_asn": 65001, "password_set": True,
                                                     "ttl_security": False}


# --------------------------------------------------------------------------------------------
# GET /v1/routers/{id}/bgp
# --------------------------------------------------------------------------------------------

def test_bgp_sessions(api, admin, topo):
    c = topo
    body = admin.fetch("/v1/routers/%s/bgp" % c["r0"])
    assert set(body) == {"router", "asn", "hold_time", "sessions"}
    assert body["router"] == c["r0"] and body["asn"] == 64512 and body["hold_time"] == 90
    ss = body["sessions"]
    # routing ports of the router's subnets only, ordered by port id
    assert [x["port"] for x in ss] == sorted([c["p1"]["id"], c["p2"]["id"]])
    for x in ss:
        assert set(x) == SESSION_KEYS, x
        assert x["state"] == "idle" and x["since"] is None and x["uptime_s"] == 0
        assert x["prefixes"] == {"received": 0, "accepted": 0, "rejected": 0}
        assert x["last_error"] is None and x["hold_time"] is None
    by = {x["port"]: x for x in ss}
    assert by[c["p1"]["id"]]["peer_ip"] == "10.0.1.10" and by[c["p1"]["id"]]["peer_asn"] is None
    assert by[c["p2"]["id"]]["peer_asn"] == 65020  # configured
    r1 = admin.fetch("/v1/routers/%s/bgp" % c["r1"])
    assert [x["port"] for x in r1["sessions"]] == [c["p3"]["id"]]

    # routerd reports: p1 established 65 s ago with a learned AS; p2 active with an error
    since = now_ms() - 65000
    session(admin.server, c["p1"]["id"], since=since, peer_asn=65111, hold_time=30,
            received=7, accepted=5, rejected=2)
    session(admin.server, c["p2"]["id"], state="active", since=now_ms() - 5000, peer_asn=None,
            hold_time=None, last_error="hold timer expired")
    by = {x["port"]: x for x in admin.fetch("/v1/routers/%s/bgp" % c["r0"])["sessions"]}
    a = by[c["p1"]["id"]]
    assert a["state"] == "established" and a["peer_asn"] == 65111 and a["hold_time"] == 30
    assert 64 <= a["uptime_s"] <= 70, a
    assert vapi.TIME_RE.match(a["since"]), a
    assert a["prefixes"] == {"received": 7, "accepted": 5, "rejected": 2}
    b = by[c["p2"]["id"]]
    assert b["state"] == "active" and b["uptime_s"] == 0 and b["peer_asn"] == 65020
    assert b["last_error"] == "hold timer expired" and vapi.TIME_RE.match(b["since"])
    # a port that stops routing leaves the list (its row stays until routerd clears it)
    admin.ok("PATCH", "/v1/ports/" + c["p2"]["id"], {"routing": False})
    assert [x["port"] for x in admin.fetch("/v1/routers/%s/bgp" % c["r0"])["sessions"]] == \
        [c["p1"]["id"]]
    admin.ok("PATCH", "/v1/ports/" + c["p2"]["id"], {"routing": True})
    # hold time and ASN follow the router
    admin.ok("PATCH", "/v1/routers/" + c["r0"], {"bgp_hold_time": 0, "asn": 65500})
    body = admin.fetch("/v1/routers/%s/bgp" % c["r0"])
    assert body["hold_time"] == 0 and body["asn"] == 65500
    admin.ok("PATCH", "/v1/routers/" + c["r0"], {"bgp_hold_time": 90, "asn": 64512})


def test_bgp_views_refuse_queries_and_methods(admin, topo):
    base = "/v1/routers/%s/bgp" % topo["r0"]
    assert_error(admin.get(base + "?x=1"), 400, "invalid_query", "x")
    assert_error(admin.post(base, {}), 405, "method_not_allowed")
    assert_error(admin.delete(base + "/routes"), 405, "method_not_allowed")
    for q, field in (("status=maybe", "status"), ("prefix=10.0.0.1/8", "prefix"),
                     ("prefix=x", "prefix"), ("limit=0", "limit"), ("limit=1001", "limit"),
                     ("after=zz", "after"), ("bogus=1", "bogus")):
        assert_error(admin.get(base + "/routes?" + q), 400, "invalid_query", field)
    assert_error(admin.get("/v1/routers/%s/bgp" % missing_id("rtr")), 404, "not_found")
    assert_error(admin.get("/v1/routers/%s/bgp/routes" % missing_id("rtr")), 404, "not_found")


# --------------------------------------------------------------------------------------------
# GET /v1/routers/{id}/bgp/routes
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def routes(admin, topo):
    c, srv = topo, admin.server
    p1, p2 = c["p1"]["id"], c["p2"]["id"]
    attrs = {"as_path": [65001, 65002], "origin": "egp", "med": 20, "local_pref": 150,
             "communities": ["65000:1", "65000:2"], "large_communities": ["65000:1:2"]}
    ids = {
        "a1": learned(srv, p1, "10.50.0.0/16", nexthop_port=p1, attrs=attrs),
        "a2": learned(srv, p2, "10.50.0.0/16", nexthop_port=p2),
        "b1": learned(srv, p1, "9.0.0.0/8", nexthop="10.0.1.20", nexthop_port=p2),
        "r1": learned(srv, p1, "10.0.1.0/24", status="rejected", selected=0,
                      reason="covers subnet sub-x"),
        "r2": learned(srv, p2, "192.168.0.0/16", status="rejected", selected=0,
                      reason="denied by import policy", attrs={}),
        "n1": learned(srv, p2, "10.60.0.0/16", selected=0, nexthop_port=p2),
        "n2": learned(srv, p1, "10.70.0.0/16", nexthop="10.0.9.9", nexthop_port=None),
    }
    return ids


def test_learned_routes_items(admin, topo, routes):
    c = topo
    items = admin.items("/v1/routers/%s/bgp/routes" % c["r0"])
    for it in items:
        assert set(it) == ROUTE_KEYS, it
        assert vapi.TIME_RE.match(it["updated"]), it
    got = [(i["prefix"], i["port"]) for i in items]
    p1, p2 = c["p1"]["id"], c["p2"]["id"]
    # ordered by prefix (address, then length), then port
    assert got == [("9.0.0.0/8", p1), ("10.0.1.0/24", p1),
                   ("10.50.0.0/16", min(p1, p2)), ("10.50.0.0/16", max(p1, p2)),
                   ("10.60.0.0/16", p2), ("10.70.0.0/16", p1), ("192.168.0.0/16", p2)]
    by = {i["id"]: i for i in items}
    a1 = by[routes["a1"]]
    assert a1 == dict(a1, prefix="10.50.0.0/16", port=p1, nexthop="10.0.1.10",
                      nexthop_port=p1, status="accepted", reason=None, selected=True,
                      as_path=[65001, 65002], origin="egp", med=20, local_pref=150,
                      communities=["65000:1", "65000:2"], large_communities=["65000:1:2"])
    b1 = by[routes["b1"]]
    assert b1["nexthop"] == "10.0.1.20" and b1["nexthop_port"] == p2
    r2 = by[routes["r2"]]
    assert r2["status"] == "rejected" and r2["reason"] == "denied by import policy"
    assert r2["selected"] is False
    # attributes absent from the store show their empty values
    assert r2["as_path"] == [] and r2["communities"] == [] and r2["origin"] is None
    assert r2["med"] is None and r2["local_pref"] is None
    assert by[routes["n2"]]["nexthop_port"] is None
    # another router's view holds none of these
    assert admin.items("/v1/routers/%s/bgp/routes" % c["r1"]) == []


def test_learned_routes_filters(admin, topo, routes):
    base = "/v1/routers/%s/bgp/routes" % topo["r0"]
    ids = lambda q: {i["id"] for i in admin.items(base + q)}  # noqa: E731
    assert ids("?status=rejected") == {routes["r1"], routes["r2"]}
    assert ids("?status=accepted") == {routes[k] for k in ("a1", "a2", "b1", "n1", "n2")}
    assert ids("?port=" + topo["p2"]["id"]) == {routes[k] for k in ("a2", "r2", "n1")}
    assert ids("?prefix=10.50.0.0/16") == {routes["a1"], routes["a2"]}
    assert ids("?prefix=10.50.0.0/16&port=" + topo["p1"]["id"]) == {routes["a1"]}
    assert ids("?prefix=10.50.0.0/17") == set()
    assert ids("?status=rejected&port=" + topo["p1"]["id"]) == {routes["r1"]}
    assert ids("?port=" + missing_id("port")) == set()


def test_learned_routes_pages(admin, topo, routes):
    base = "/v1/routers/%s/bgp/routes" % topo["r0"]
    whole = admin.fetch(base)["items"]
    assert "next" not in admin.fetch(base)
    got, url, nexts = [], base + "?limit=2", []
    while True:
        page = admin.fetch(url)
        assert len(page["items"]) <= 2
        got.extend(page["items"])
        if "next" not in page:
            break
        assert not nexts or page["next"] > nexts[-1]  # cursors grow
        nexts.append(page["next"])
        url = base + "?limit=2&after=" + page["next"]
    assert got == whole
    # a route withdrawn between two pages does not lose the place
    page = admin.fetch(base + "?limit=3")
    last = page["items"][-1]
    victim = learned(admin.server, topo["p1"]["id"], "10.55.0.0/16", nexthop_port=None)
    with db(admin.server) as c:
        c.execute("DELETE FROM learned_routes WHERE id = ?", (last["id"],))
    rest = admin.fetch(base + "?after=" + page["next"])["items"]
    seen = {x["id"] for x in page["items"]}
    assert [i["id"] for i in rest] == [i["id"] for i in admin.fetch(base)["items"]
                                       if i["id"] not in seen]
    assert victim in {i["id"] for i in rest}
    # put the withdrawn route back for the other tests
    with db(admin.server) as c:
        c.execute("DELETE FROM learned_routes WHERE id = ?", (victim,))
    learned(admin.server, last["port"], last["prefix"], nexthop=last["nexthop"],
            nexthop_port=last["nexthop_port"], status=last["status"], reason=last["reason"],
            selected=int(last["selected"]), rid=last["id"],
            attrs={k: last[k] for k in ("as_path", "origin", "med", "local_pref",
                                        "communities", "large_communities")})
    strip = lambda items: [dict(i, updated=None) for i in items]  # noqa: E731
    assert strip(admin.fetch(base)["items"]) == strip(whole)


# --------------------------------------------------------------------------------------------
# Tenant isolation
# --------------------------------------------------------------------------------------------

def test_bgp_views_tenant_isolation(api, admin, topo, routes):
    c = topo
    _, other = api.tenant()
    mine = c["client"]
    for path in ("/v1/routers/%s/bgp", "/v1/routers/%s/bgp/routes"):
        a = mine.get(path % c["r0"])
        assert a.status == 200, a
        b = other.get(path % c["r0"])
        nx = other.get(path % missing_id("rtr"))
        assert_error(b, 404, "not_found")
        assert vapi.error_shape(b, c["r0"]) == vapi.error_shape(nx, nx.path.split("/")[3])
    assert {i["id"] for i in mine.items("/v1/routers/%s/bgp/routes" % c["r0"])} == \
        set(admin.ids("/v1/routers/%s/bgp/routes" % c["r0"]))
    # a row that names another tenant is not shown to this one (the admin sees it)
    stray = learned(admin.server, c["p1"]["id"], "10.99.0.0/16", tenant="ten-0000000000000000")
    assert stray not in {i["id"] for i in mine.items("/v1/routers/%s/bgp/routes" % c["r0"])}
    assert stray in set(admin.ids("/v1/routers/%s/bgp/routes" % c["r0"]))
    with db(admin.server) as conn:
        conn.execute("DELETE FROM learned_routes WHERE id = ?", (stray,))
    # settings of another tenant's objects cannot be touched
    assert_error(other.patch("/v1/ports/" + c["p1"]["id"], {"bgp": {"peer_asn": 1}}), 404,
                 "not_found")
    assert_error(other.patch("/v1/networks/" + c["net"]["id"], {"import_policy": {}}), 404,
                 "not_found")
    assert_error(other.patch("/v1/routers/" + c["r0"], {"bgp_hold_time": 3}), 404, "not_found")


# --------------------------------------------------------------------------------------------
# The effective table
# --------------------------------------------------------------------------------------------

def effective(admin, router):
    items = admin.fetch("/v1/routers/%s/routes" % router)["items"]
    for it in items:
        assert it["distance"] == {"connected": 0, "static": 1, "bgp": 10,
                                  "link": 20}[it["origin"]], it
        if it["origin"] == "bgp":
            assert it["target_type"] == "port" and re.match(r"^lrt-", it["learned"]), it
            assert "route" not in it
        else:
            assert "learned" not in it
    return items


def test_effective_routes_learned(admin, topo, routes):
    c = topo
    items = effective(admin, c["r0"])
    bgp = [i for i in items if i["origin"] == "bgp"]
    # accepted and selected with a next-hop port only: a1, a2 (ECMP) and b1
    assert sorted((i["destination"], i["target"], i["learned"]) for i in bgp) == sorted([
        ("10.50.0.0/16", c["p1"]["id"], routes["a1"]),
        ("10.50.0.0/16", c["p2"]["id"], routes["a2"]),
        ("9.0.0.0/8", c["p2"]["id"], routes["b1"])])
    assert all(i["selected"] and i["metric"] == 0 for i in bgp)
    assert not [i for i in items if i["destination"] in ("10.60.0.0/16", "10.70.0.0/16",
                                                         "192.168.0.0/16")]
    # the connected subnet keeps its route: the rejected announcement of it is not there
    conn = [i for i in items if i["destination"] == "10.0.1.0/24"]
    assert [(i["origin"], i["selected"]) for i in conn] == [("connected", True)]
    # the linked router gets them as link routes through r0
    far = [i for i in effective(admin, c["r1"]) if i["destination"] in ("10.50.0.0/16",
                                                                          "9.0.0.0/8")]
    assert sorted((i["destination"], i["origin"], i["target"], i["metric"], i["selected"])
                  for i in far) == [("10.50.0.0/16", "link", c["r0"], 1, True),
                                    ("9.0.0.0/8", "link", c["r0"], 1, True)]
    # a static route (distance 1) beats a learned one (10)
    st = admin.create("/v1/routes", {"router": c["r0"], "destination": "9.0.0.0/8",
                                     "target": "blackhole"})
    nine = [i for i in effective(admin, c["r0"]) if i["destination"] == "9.0.0.0/8"]
    assert sorted((i["origin"], i["selected"]) for i in nine) == [("bgp", False),
                                                                 ("static", True)]
    admin.ok("DELETE", "/v1/routes/" + st["id"], status=204)


def test_effective_routes_subnet_override(admin, topo, routes):
    """An appliance (p1) whose policy allows subnet override announces S2: r0 sends S2's
    traffic to it instead of delivering it directly; without override the subnet wins."""
    c = topo
    plain = learned(admin.server, c["p2"]["id"], "10.0.2.0/24", nexthop_port=c["p2"]["id"])
    s2 = [i for i in effective(admin, c["r0"]) if i["destination"] == "10.0.2.0/24"]
    assert sorted((i["origin"], i["selected"]) for i in s2) == [("bgp", False),
                                                               ("connected", True)]
    over = learned(admin.server, c["p1"]["id"], "10.0.2.0/24", nexthop_port=c["p1"]["id"],
                   override=1)
    s2 = [i for i in effective(admin, c["r0"]) if i["destination"] == "10.0.2.0/24"]
    sel = [(i["origin"], i["target"], i.get("learned")) for i in s2 if i["selected"]]
    assert sel == [("bgp", c["p1"]["id"], over)], s2
    assert [i["selected"] for i in s2 if i["origin"] == "connected"] == [False]
    # the linked router still reaches S2 through r0 (one link entry, not two)
    far = [i for i in effective(admin, c["r1"]) if i["destination"] == "10.0.2.0/24"]
    assert [(i["origin"], i["target"], i["selected"]) for i in far] == \
        [("link", c["r0"], True)]
    with db(admin.server) as conn:
        conn.execute("DELETE FROM learned_routes WHERE id IN (?, ?)", (plain, over))
    s2 = [i for i in effective(admin, c["r0"]) if i["destination"] == "10.0.2.0/24"]
    assert [(i["origin"], i["selected"]) for i in s2] == [("connected", True)]


# --------------------------------------------------------------------------------------------
# Deleting a port
# --------------------------------------------------------------------------------------------

def test_port_delete_removes_its_rows(api, admin):
    t, client, n, s = fresh_net(api)
    p = api.port(s["id"], routing=True, bgp={"password": "x"})
    other = api.port(s["id"], routing=True)
    srv = admin.server
    session(srv, p["id"], received=2, accepted=2)
    session(srv, other["id"])
    mine = [learned(srv, p["id"], "10.70.%d.0/24" % i, nexthop_port=p["id"]) for i in range(3)]
    kept = learned(srv, other["id"], "10.80.0.0/16", nexthop_port=other["id"])
    assert len([i for i in effective(admin, n["main_router"]) if i["origin"] == "bgp"]) == 4
    via = learned(srv, other["id"], "10.90.0.0/16", nexthop_port=p["id"])  # third party
    rev = admin.revision()
    client.ok("DELETE", "/v1/ports/" + p["id"], status=204)
    assert admin.revision() == rev + 1  # one write, one revision
    # Agents hear that every installed route of the port, and through it, is gone.
    with db(srv) as c:
        kinds = sorted(c.execute("SELECT kind, id, op FROM changes WHERE revision = ?",
                                 (rev + 1,)).fetchall())
    assert kinds == sorted([("port", p["id"], "delete")] +
                           [("lroute", i, "delete") for i in mine + [via]]), kinds
    with db(srv) as c:
        row = c.execute("SELECT nexthop_port, selected FROM learned_routes WHERE id = ?",
                        (via,)).fetchone()
    assert tuple(row) == (None, 0)  # the other port's route stays visible, not installed
    assert count(srv, "SELECT COUNT(*) FROM learned_routes WHERE port = ?", p["id"]) == 0
    assert count(srv, "SELECT COUNT(*) FROM bgp_sessions WHERE port = ?", p["id"]) == 0
    assert count(srv, "SELECT COUNT(*) FROM learned_routes WHERE id = ?", kept) == 1
    assert count(srv, "SELECT COUNT(*) FROM bgp_sessions WHERE port = ?", other["id"]) == 1
    assert not set(mine) & set(admin.ids("/v1/routers/%s/bgp/routes" % n["main_router"]))
    bgp = [i for i in effective(admin, n["main_router"]) if i["origin"] == "bgp"]
    assert [i["learned"] for i in bgp] == [kept]
    assert [x["port"] for x in admin.fetch("/v1/routers/%s/bgp" % n["main_router"])
            ["sessions"]] == [other["id"]]
