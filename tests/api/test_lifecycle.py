"""Life cycle of every resource: create (fields, ids, defaults), get, list (filters, pagination),
patch, delete, 404 afterwards, 409 has_dependents, revisions (docs/api.md, Resources)."""

import datetime

import pytest

import vapi
from vapi import assert_error, is_id, uniq


def check_created(obj):
    assert vapi.TIME_RE.match(obj["created"]), obj
    ts = datetime.datetime.fromisoformat(obj["created"].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - ts).total_seconds()) < 600, obj


def check_gone(client, path):
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.delete(path), 404, "not_found")


def check_deleted(r):
    assert r.status == 204, r
    assert r.raw == b"", r
    vapi.check_write_headers(r)


def only_ids(client, path):
    return sorted(o["id"] for o in client.items(path))


# ---------------------------------------------------------------------------------------------
# Health
# ---------------------------------------------------------------------------------------------

def test_health_needs_no_token(admin):
    r = admin.get("/v1/health", token=None)
    assert r.status == 200, r
    assert r.json["status"] == "ok"
    assert isinstance(r.json["revision"], int) and r.json["revision"] >= 0
    assert isinstance(r.json["version"], str) and r.json["version"]
    assert r.headers.get("Content-Type", "").startswith("application/json")


# ---------------------------------------------------------------------------------------------
# Tenants and tokens
# ---------------------------------------------------------------------------------------------

def test_tenant_lifecycle(api, admin):
    name = uniq("tenant")
    rev0 = admin.revision()
    r = admin.post("/v1/tenants", {"name": name})
    assert r.status == 201, r
    t = r.json
    assert set(t) == {"id", "name", "created", "revision"}, t
    assert is_id(t["id"], "ten") and t["name"] == name
    check_created(t)
    assert t["revision"] == rev0 + 1 == vapi.check_write_headers(r)
    assert admin.revision() == rev0 + 1
    path = "/v1/tenants/" + t["id"]
    assert admin.fetch(path) == t

    assert [o["id"] for o in admin.items("/v1/tenants?name=" + name)] == [t["id"]]
    assert t["id"] in only_ids(admin, "/v1/tenants")

    assert_error(admin.post("/v1/tenants", {"name": name}), 409, "duplicate", "name")
    other = admin.create("/v1/tenants", {"name": uniq("tenant")})
    assert_error(admin.patch(path, {"name": other["name"]}), 409, "duplicate", "name")

    new = uniq("renamed")
    r = admin.patch(path, {"name": new})
    assert r.status == 200, r
    assert r.json["name"] == new and r.json["id"] == t["id"]
    assert r.json["created"] == t["created"]
    assert r.json["revision"] == vapi.check_write_headers(r) > t["revision"]
    assert admin.fetch(path) == r.json
    assert admin.items("/v1/tenants?name=" + name) == []

    tok = api.token(t["id"])
    tc = api.client(tok["token"])
    assert tc.get(path).status == 200

    check_deleted(admin.delete(path))
    check_gone(admin, path)
    assert t["id"] not in only_ids(admin, "/v1/tenants")
    # its tokens go with it
    assert_error(tc.get(path), 401, "unauthenticated")
    assert_error(tc.get("/v1/networks"), 401, "unauthenticated")


def test_tenant_with_networks_cannot_be_deleted(api, admin):
    t, _ = api.tenant()
    net = api.network(t["id"])
    path = "/v1/tenants/" + t["id"]
    err = assert_error(admin.delete(path), 409, "has_dependents")
    assert net["id"] in err["message"] or "network" in err["message"], err
    assert admin.get(path).status == 200
    check_deleted(admin.delete("/v1/networks/" + net["id"]))
    check_deleted(admin.delete(path))


def test_token_lifecycle(api, admin):
    t = admin.create("/v1/tenants", {"name": uniq("tenant")})
    base = "/v1/tenants/%s/tokens" % t["id"]
    r = admin.post(base, {"name": "ci"})
    assert r.status == 201, r
    tok = r.json
    assert set(tok) == {"id", "tenant", "name", "created", "token"}, tok
    assert is_id(tok["id"], "tok") and tok["tenant"] == t["id"] and tok["name"] == "ci"
    assert vapi.TOKEN_RE.match(tok["token"]), tok
    check_created(tok)
    vapi.check_write_headers(r)

    anon = admin.create(base, {})
    assert is_id(anon["id"], "tok") and vapi.TOKEN_RE.match(anon["token"])
    assert anon["token"] != tok["token"]

    tc = api.client(tok["token"])
    assert tc.fetch("/v1/tenants/" + t["id"])["id"] == t["id"]
    # the tenant itself may create tokens
    own = tc.create(base, {"name": "self-made"})
    assert own["tenant"] == t["id"] and vapi.TOKEN_RE.match(own["token"])
    assert api.client(own["token"]).get("/v1/networks").status == 200

    r = admin.get(base)
    assert r.status == 200, r
    listed = {o["id"]: o for o in r.json["items"]}
    assert set(listed) == {tok["id"], anon["id"], own["id"]}
    for secret in (tok["token"], anon["token"], own["token"]):
        assert secret.encode() not in r.raw, "token secret shown in a list"
    for o in listed.values():
        assert "token" not in o, o
    assert listed[tok["id"]] == {k: v for k, v in tok.items() if k != "token"}
    assert [o["id"] for o in tc.items(base)] == sorted(listed)

    # deleting through another tenant's path finds nothing and revokes nothing
    other = admin.create("/v1/tenants", {"name": uniq("tenant")})
    assert_error(admin.delete("/v1/tenants/%s/tokens/%s" % (other["id"], tok["id"])),
                 404, "not_found")
    assert tc.get("/v1/networks").status == 200

    check_deleted(admin.delete("%s/%s" % (base, tok["id"])))
    assert_error(tc.get("/v1/networks"), 401, "unauthenticated")  # at once
    assert_error(admin.delete("%s/%s" % (base, tok["id"])), 404, "not_found")
    assert tok["id"] not in [o["id"] for o in admin.items(base)]
    # the other tokens still work; a tenant may revoke its own
    oc = api.client(own["token"])
    check_deleted(oc.delete("%s/%s" % (base, anon["id"])))
    assert_error(api.client(anon["token"]).get("/v1/networks"), 401, "unauthenticated")
    assert oc.get("/v1/networks").status == 200


# ---------------------------------------------------------------------------------------------
# Networks and routers
# ---------------------------------------------------------------------------------------------

NETWORK_KEYS = {"id", "tenant", "name", "cidr", "vnid", "main_router", "import_policy", "created",
                "revision"}
ROUTER_KEYS = {"id", "network", "tenant", "name", "mac", "asn", "bgp_hold_time", "main",
               "created", "revision"}


def test_network_lifecycle(api, admin):
    t, _ = api.tenant()
    name = uniq("net")
    rev0 = admin.revision()
    r = admin.post("/v1/networks", {"name": name, "cidr": "10.0.0.0/16", "tenant": t["id"]})
    assert r.status == 201, r
    n = r.json
    assert set(n) == NETWORK_KEYS, n
    assert is_id(n["id"], "net") and n["tenant"] == t["id"] and n["name"] == name
    assert n["cidr"] == ["10.0.0.0/16"]
    assert isinstance(n["vnid"], int) and 1 <= n["vnid"] <= 16777215
    assert is_id(n["main_router"], "rtr")
    check_created(n)
    # one write, one revision, even though the main router is created with it
    assert n["revision"] == rev0 + 1 == vapi.check_write_headers(r) == admin.revision()

    main = admin.fetch("/v1/routers/" + n["main_router"])
    assert set(main) == ROUTER_KEYS, main
    assert main["name"] == "main" and main["main"] is True
    assert main["network"] == n["id"] and main["tenant"] == t["id"]
    assert main["asn"] == 64512
    assert vapi.mac_ok_generated(main["mac"]), main
    assert main["revision"] == n["revision"]

    path = "/v1/networks/" + n["id"]
    assert admin.fetch(path) == n
    assert [o["id"] for o in admin.items("/v1/networks?name=" + name)] == [n["id"]]
    n2 = api.network(t["id"], cidr=["10.1.0.0/16", "192.168.0.0/24"])
    assert sorted(n2["cidr"]) == ["10.1.0.0/16", "192.168.0.0/24"]
    assert only_ids(admin, "/v1/networks?tenant=" + t["id"]) == sorted([n["id"], n2["id"]])
    assert admin.items("/v1/networks?name=" + uniq("nothing")) == []

    r = admin.patch(path, {"name": name + "-b"})
    assert r.status == 200, r
    assert r.json["name"] == name + "-b" and r.json["vnid"] == n["vnid"]
    assert r.json["main_router"] == n["main_router"] and r.json["cidr"] == n["cidr"]
    assert r.json["revision"] == vapi.check_write_headers(r) > n["revision"]

    # cidr replaces the list
    r = admin.patch(path, {"cidr": ["10.0.0.0/16", "172.16.0.0/20"]})
    assert r.status == 200, r
    assert sorted(r.json["cidr"]) == ["10.0.0.0/16", "172.16.0.0/20"]
    sub = api.subnet(n["id"], "172.16.1.0/24")
    err = assert_error(admin.patch(path, {"cidr": ["10.0.0.0/16"]}), 409, "has_dependents")
    assert sorted(admin.fetch(path)["cidr"]) == ["10.0.0.0/16", "172.16.0.0/20"], err
    # narrowing a CIDR so that it no longer holds a subnet is removing it
    assert_error(admin.patch(path, {"cidr": ["10.0.0.0/16", "172.16.0.0/24"]}),
                 409, "has_dependents")
    r = admin.patch(path, {"cidr": ["10.0.0.0/16", "172.16.0.0/23"]})
    assert r.status == 200, r
    r = admin.patch(path, {"cidr": "172.16.0.0/20"})  # a single string is a list of one
    assert r.status == 200, r
    assert r.json["cidr"] == ["172.16.0.0/20"]

    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/subnets/" + sub["id"]))
    check_deleted(admin.delete(path))
    check_gone(admin, path)
    # the main router went with it
    check_gone(admin, "/v1/routers/" + n["main_router"])
    assert n["main_router"] not in only_ids(admin, "/v1/routers")


def test_network_delete_refused_while_dependents(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    path = "/v1/networks/" + n["id"]

    r1 = api.router(n["id"])
    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routers/" + r1["id"]))

    rt = api.route(n["main_router"], "10.99.0.0/16", "blackhole")
    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routes/" + rt["id"]))

    s = api.subnet(n["id"], "10.0.5.0/24")
    assert_error(admin.delete(path), 409, "has_dependents")
    assert admin.get("/v1/subnets/" + s["id"]).status == 200
    assert admin.get("/v1/routers/" + n["main_router"]).status == 200
    check_deleted(admin.delete("/v1/subnets/" + s["id"]))
    check_deleted(admin.delete(path))


def test_vnids_unique_and_not_reused(api, admin):
    t, _ = api.tenant()
    nets = [api.network(t["id"]) for _ in range(6)]
    vnids = [n["vnid"] for n in nets]
    assert len(set(vnids)) == len(vnids), vnids
    for n in nets[:3]:
        check_deleted(admin.delete("/v1/networks/" + n["id"]))
    later = [api.network(t["id"])["vnid"] for _ in range(3)]
    assert not set(later) & set(vnids), (vnids, later)
    everything = [o["vnid"] for o in admin.items("/v1/networks")]
    assert len(set(everything)) == len(everything)


def test_router_lifecycle(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    main = admin.fetch("/v1/routers/" + n["main_router"])
    name = uniq("r")
    r = admin.post("/v1/routers", {"network": n["id"], "name": name})
    assert r.status == 201, r
    rt = r.json
    assert set(rt) == ROUTER_KEYS, rt
    assert is_id(rt["id"], "rtr") and rt["name"] == name and rt["main"] is False
    assert rt["network"] == n["id"] and rt["tenant"] == t["id"] and rt["asn"] == 64512
    assert vapi.mac_ok_generated(rt["mac"]) and rt["mac"] != main["mac"]
    check_created(rt)
    vapi.check_write_headers(r)
    path = "/v1/routers/" + rt["id"]
    assert admin.fetch(path) == rt

    custom = api.router(n["id"], asn=65001, mac="02:11:22:33:44:55")
    assert custom["asn"] == 65001 and custom["mac"] == "02:11:22:33:44:55"
    assert_error(admin.post("/v1/routers", {"network": n["id"], "name": name}),
                 409, "duplicate", "name")
    assert_error(admin.post("/v1/routers", {"network": n["id"], "name": "main"}),
                 409, "duplicate", "name")
    assert_error(admin.post("/v1/routers", {"network": n["id"], "name": uniq("r"),
                                            "mac": "02:11:22:33:44:55"}),
                 409, "duplicate", "mac")
    assert_error(admin.post("/v1/routers", {"network": n["id"], "name": uniq("r"),
                                            "mac": main["mac"]}),
                 409, "duplicate", "mac")
    # names and MACs are unique per network only
    n2 = api.network(t["id"])
    elsewhere = api.router(n2["id"], name=name, mac="02:11:22:33:44:55")
    assert elsewhere["name"] == name

    assert only_ids(admin, "/v1/routers?network=" + n["id"]) == sorted(
        [main["id"], rt["id"], custom["id"]])
    assert only_ids(admin, "/v1/routers?name=" + name) == sorted([rt["id"], elsewhere["id"]])
    assert only_ids(admin, "/v1/routers?network=%s&name=%s" % (n["id"], name)) == [rt["id"]]

    r = admin.patch(path, {"name": name + "-b", "asn": 4200000000})
    assert r.status == 200, r
    assert r.json["name"] == name + "-b" and r.json["asn"] == 4200000000
    assert r.json["mac"] == rt["mac"] and r.json["revision"] > rt["revision"]
    vapi.check_write_headers(r)
    assert_error(admin.patch(path, {"mac": "02:00:00:00:99:99"}), 422, "immutable", "mac")
    assert_error(admin.patch(path, {"name": custom["name"]}), 409, "duplicate", "name")
    assert_error(admin.patch(path, {"name": "main"}), 409, "duplicate", "name")
    assert admin.fetch(path)["name"] == name + "-b"
    assert admin.fetch(path)["mac"] == rt["mac"]

    err = assert_error(admin.delete("/v1/routers/" + main["id"]), 409, "has_dependents")
    assert admin.get("/v1/routers/" + main["id"]).status == 200, err

    check_deleted(admin.delete(path))
    check_gone(admin, path)


def test_has_dependents_message_names_them(api, admin):
    """409 has_dependents: "the message names them" (the dependent objects)."""
    t, _ = api.tenant()
    n = api.network(t["id"])
    r1 = api.router(n["id"])
    lk = api.link(n["main_router"], r1["id"])
    s = api.subnet(n["id"], "10.0.1.0/24")
    h = api.host()
    p = api.port(s["id"], host=h["name"])
    rt = api.route(n["main_router"], "10.9.0.0/16", p["id"])
    rt2 = api.route(n["main_router"], "10.8.0.0/16", r1["id"])
    cases = [("/v1/tenants/" + t["id"], [n["id"]]),
             ("/v1/networks/" + n["id"], [s["id"], r1["id"], lk["id"], rt["id"], rt2["id"]]),
             ("/v1/subnets/" + s["id"], [p["id"]]),
             ("/v1/ports/" + p["id"], [rt["id"]]),
             ("/v1/routers/" + r1["id"], [lk["id"], rt2["id"]]),
             ("/v1/links/" + lk["id"], [rt2["id"]]),
             ("/v1/hosts/" + h["name"], [p["id"]])]
    wrong = []
    for path, deps in cases:
        err = assert_error(admin.delete(path), 409, "has_dependents")
        if not any(d in err["message"] for d in deps):
            wrong.append((path, err["message"]))
    assert not wrong, "has_dependents messages that name no dependent: %r" % wrong


def test_router_delete_refused_while_dependents(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    r1 = api.router(n["id"])
    r2 = api.router(n["id"])
    p1 = "/v1/routers/" + r1["id"]

    s = api.subnet(n["id"], "10.0.1.0/24", router=r1["id"])
    assert_error(admin.delete(p1), 409, "has_dependents")
    check_deleted(admin.delete("/v1/subnets/" + s["id"]))

    own = api.route(r1["id"], "10.50.0.0/16", "blackhole")
    assert_error(admin.delete(p1), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routes/" + own["id"]))

    lk = api.link(r1["id"], r2["id"])
    assert_error(admin.delete(p1), 409, "has_dependents")
    assert_error(admin.delete("/v1/routers/" + r2["id"]), 409, "has_dependents")
    # a route on r2 that targets r1
    tgt = api.route(r2["id"], "10.60.0.0/16", r1["id"])
    assert tgt["target_type"] == "router"
    assert_error(admin.delete(p1), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routes/" + tgt["id"]))
    check_deleted(admin.delete("/v1/links/" + lk["id"]))
    check_deleted(admin.delete(p1))
    check_gone(admin, p1)


def test_generated_macs_unique(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.0.0/24")
    macs = [api.router(n["id"])["mac"] for _ in range(8)]
    macs += [api.port(s["id"])["mac"] for _ in range(8)]
    macs.append(admin.fetch("/v1/routers/" + n["main_router"])["mac"])
    assert all(vapi.mac_ok_generated(m) for m in macs), macs
    assert len(set(macs)) == len(macs), macs


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------

def test_link_lifecycle(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    main = n["main_router"]
    r1 = api.router(n["id"])
    r2 = api.router(n["id"])
    r = admin.post("/v1/links", {"a": main, "b": r1["id"]})
    assert r.status == 201, r
    lk = r.json
    assert set(lk) == {"id", "network", "a", "b", "created", "revision"}, lk
    assert is_id(lk["id"], "lnk") and lk["network"] == n["id"]
    assert {lk["a"], lk["b"]} == {main, r1["id"]}
    check_created(lk)
    vapi.check_write_headers(r)
    path = "/v1/links/" + lk["id"]
    assert admin.fetch(path) == lk

    assert_error(admin.post("/v1/links", {"a": main, "b": r1["id"]}), 409, "duplicate")
    assert_error(admin.post("/v1/links", {"a": r1["id"], "b": main}), 409, "duplicate")
    r = admin.post("/v1/links", {"a": r2["id"], "b": r2["id"]})
    assert_error(r, r.status, {"invalid_value", "invalid_reference"})
    assert r.status in (400, 422), r
    n2 = api.network(t["id"])
    assert_error(admin.post("/v1/links", {"a": main, "b": n2["main_router"]}),
                 422, "invalid_reference")

    lk2 = api.link(r1["id"], r2["id"])
    assert only_ids(admin, "/v1/links?network=" + n["id"]) == sorted([lk["id"], lk2["id"]])
    assert only_ids(admin, "/v1/links?router=" + r1["id"]) == sorted([lk["id"], lk2["id"]])
    assert only_ids(admin, "/v1/links?router=" + main) == [lk["id"]]
    assert only_ids(admin, "/v1/links?router=" + r2["id"]) == [lk2["id"]]
    assert admin.items("/v1/links?network=" + n2["id"]) == []

    assert_error(admin.patch(path, {"a": r2["id"]}), 405, "method_not_allowed")

    # a static route of one end targeting the other end holds the link
    rt = api.route(main, "10.77.0.0/16", r1["id"])
    assert_error(admin.delete(path), 409, "has_dependents")
    assert admin.get(path).status == 200
    rt2 = api.route(r1["id"], "10.78.0.0/16", main)
    check_deleted(admin.delete("/v1/routes/" + rt["id"]))
    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routes/" + rt2["id"]))
    check_deleted(admin.delete(path))
    check_gone(admin, path)


# ---------------------------------------------------------------------------------------------
# Subnets
# ---------------------------------------------------------------------------------------------

SUBNET_KEYS = {"id", "network", "tenant", "name", "cidr", "router", "gateway_ip", "created",
               "revision"}


def test_subnet_lifecycle(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"], cidr=["10.0.0.0/16", "10.9.0.0/24"])
    r1 = api.router(n["id"])
    r = admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.1.0/24"})
    assert r.status == 201, r
    s = r.json
    assert set(s) == SUBNET_KEYS, s
    assert is_id(s["id"], "sub") and s["network"] == n["id"] and s["tenant"] == t["id"]
    assert s["cidr"] == "10.0.1.0/24" and s["router"] == n["main_router"]
    assert s["gateway_ip"] == "10.0.1.1"
    check_created(s)
    vapi.check_write_headers(r)
    path = "/v1/subnets/" + s["id"]
    assert admin.fetch(path) == s

    s2 = api.subnet(n["id"], "10.0.2.4/30", router=r1["id"], name="small")
    assert s2["router"] == r1["id"] and s2["name"] == "small" and s2["gateway_ip"] == "10.0.2.5"
    s3 = api.subnet(n["id"], "10.9.0.128/25")  # in the second CIDR
    assert s3["gateway_ip"] == "10.9.0.129"

    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.1.0/24"}),
                 409, "overlap", "cidr")
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.0.0/23"}),
                 409, "overlap", "cidr")
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.1.128/25"}),
                 409, "overlap", "cidr")
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.1.0.0/24"}),
                 422, "out_of_range", "cidr")
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.9.0.0/23"}),
                 422, "out_of_range", "cidr")
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.3.0/24",
                                            "name": "small"}), 409, "duplicate", "name")
    n2 = api.network(t["id"])
    assert api.subnet(n2["id"], "10.0.1.0/24", name="small")["name"] == "small"
    assert_error(admin.post("/v1/subnets", {"network": n["id"], "cidr": "10.0.3.0/24",
                                            "router": n2["main_router"]}),
                 422, "invalid_reference", "router")

    assert only_ids(admin, "/v1/subnets?network=" + n["id"]) == sorted(
        [s["id"], s2["id"], s3["id"]])
    assert only_ids(admin, "/v1/subnets?router=" + r1["id"]) == [s2["id"]]
    assert only_ids(admin, "/v1/subnets?network=%s&name=small" % n["id"]) == [s2["id"]]
    small = admin.items("/v1/subnets?name=small")
    assert {s2["id"]} < {o["id"] for o in small} and all(o["name"] == "small" for o in small)

    r = admin.patch(path, {"name": "renamed", "router": r1["id"]})
    assert r.status == 200, r
    assert r.json["name"] == "renamed" and r.json["router"] == r1["id"]
    assert r.json["cidr"] == s["cidr"] and r.json["revision"] > s["revision"]
    vapi.check_write_headers(r)
    assert only_ids(admin, "/v1/subnets?router=" + r1["id"]) == sorted([s["id"], s2["id"]])
    assert_error(admin.patch(path, {"cidr": "10.0.4.0/24"}), 422, "immutable", "cidr")
    assert_error(admin.patch(path, {"router": n2["main_router"]}),
                 422, "invalid_reference", "router")
    assert_error(admin.patch(path, {"name": "small"}), 409, "duplicate", "name")
    assert admin.fetch(path)["cidr"] == "10.0.1.0/24"

    p = api.port(s["id"])
    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/ports/" + p["id"]))
    check_deleted(admin.delete(path))
    check_gone(admin, path)


# ---------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------

PORT_KEYS = {"id", "network", "subnet", "tenant", "host", "name", "mac", "ip", "extra_ips",
             "vips", "claimable", "source_dest_check", "routing", "bgp", "device", "state",
             "created", "revision", "counters"}


def test_port_defaults_and_fields(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.1.0/24")
    r = admin.post("/v1/ports", {"subnet": s["id"]})
    assert r.status == 201, r
    p = r.json
    assert set(p) == PORT_KEYS, p
    assert is_id(p["id"], "port") and p["subnet"] == s["id"] and p["network"] == n["id"]
    assert p["tenant"] == t["id"] and p["host"] is None and p["state"] == "unbound"
    assert p["ip"] == "10.0.1.2"
    assert p["extra_ips"] == [] and p["claimable"] == []
    assert p["source_dest_check"] is True and p["routing"] is False
    assert vapi.mac_ok_generated(p["mac"]), p
    dev = p["device"]
    assert isinstance(dev, str) and len(dev) == 14 and dev.startswith("vn"), p
    assert all(c in "0123456789abcdef" for c in dev[2:]), p
    assert dev[2:] in p["id"], p
    check_created(p)
    vapi.check_write_headers(r)
    path = "/v1/ports/" + p["id"]
    assert admin.fetch(path) == p

    h = api.host()
    full = api.port(s["id"], host=h["name"], name="web", mac="02:aa:bb:cc:dd:01",
                    ip="10.0.1.100", extra_ips=["10.0.1.101", "10.0.1.102"],
                    claimable=["10.0.1.200/32", "10.0.2.0/24"], source_dest_check=False,
                    routing=True, device="tap-web0")
    assert full["host"] == h["name"] and full["state"] == "down" and full["name"] == "web"
    assert full["mac"] == "02:aa:bb:cc:dd:01" and full["ip"] == "10.0.1.100"
    assert sorted(full["extra_ips"]) == ["10.0.1.101", "10.0.1.102"]
    assert sorted(full["claimable"]) == ["10.0.1.200/32", "10.0.2.0/24"]
    assert full["source_dest_check"] is False and full["routing"] is True
    assert full["device"] == "tap-web0"
    # several ports may list the same claimable address; universally administered MACs are fine
    again = api.port(s["id"], claimable=["10.0.1.200/32"], mac="00:16:3e:00:00:01")
    assert again["claimable"] == ["10.0.1.200/32"] and again["mac"] == "00:16:3e:00:00:01"
    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "claimable": ["10.1.0.0/24"]}),
                 422, "out_of_range", "claimable")

    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "name": "web"}),
                 409, "duplicate", "name")
    s2 = api.subnet(n["id"], "10.0.3.0/24")
    assert api.port(s2["id"], name="web")["name"] == "web"  # unique in the subnet only
    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "mac": "02:aa:bb:cc:dd:01"}),
                 409, "duplicate", "mac")
    main_mac = admin.fetch("/v1/routers/" + n["main_router"])["mac"]
    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "mac": main_mac}),
                 409, "duplicate", "mac")
    n2 = api.network(t["id"])
    s3 = api.subnet(n2["id"], "10.0.1.0/24")
    assert api.port(s3["id"], mac="02:aa:bb:cc:dd:01")["mac"] == "02:aa:bb:cc:dd:01"
    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "host": uniq("nohost")}),
                 422, "invalid_reference", "host")
    assert_error(admin.post("/v1/ports", {"subnet": s["id"], "host": h["name"],
                                          "device": "tap-web0"}), 409, "duplicate", "device")
    h2 = api.host()
    assert api.port(s["id"], host=h2["name"], device="tap-web0")["device"] == "tap-web0"


def test_port_ip_allocation(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.7.0/29")  # .0 network, .1 gateway, .7 broadcast
    a = api.port(s["id"])
    b = api.port(s["id"])
    assert (a["ip"], b["ip"]) == ("10.0.7.2", "10.0.7.3")
    c = api.port(s["id"], ip="10.0.7.5")
    d = api.port(s["id"])
    assert d["ip"] == "10.0.7.4"
    e = api.port(s["id"])
    assert e["ip"] == "10.0.7.6"
    r = admin.post("/v1/ports", {"subnet": s["id"]})  # full
    assert r.status in (409, 422), r
    assert_error(r, r.status, {"in_use", "out_of_range"})
    check_deleted(admin.delete("/v1/ports/" + b["id"]))
    assert api.port(s["id"])["ip"] == "10.0.7.3"  # lowest free again
    assert c["ip"] == "10.0.7.5"

    # allocation skips addresses held as extra_ips
    s2 = api.subnet(n["id"], "10.0.8.0/24")
    api.port(s2["id"], ip="10.0.8.10", extra_ips=["10.0.8.2", "10.0.8.3"])
    assert api.port(s2["id"])["ip"] == "10.0.8.4"
    assert_error(admin.post("/v1/ports", {"subnet": s2["id"], "ip": "10.0.8.3"}),
                 409, "in_use", "ip")
    assert_error(admin.post("/v1/ports", {"subnet": s2["id"], "ip": "10.0.8.10"}),
                 409, "in_use", "ip")
    assert_error(admin.post("/v1/ports", {"subnet": s2["id"], "extra_ips": ["10.0.8.10"]}),
                 409, "in_use", "extra_ips")
    assert_error(admin.post("/v1/ports", {"subnet": s2["id"], "extra_ips": ["10.0.8.255"]}),
                 422, "out_of_range", "extra_ips")
    assert_error(admin.post("/v1/ports", {"subnet": s2["id"], "extra_ips": ["10.0.9.1"]}),
                 422, "out_of_range", "extra_ips")
    # an address is per network: the same address in another network is free
    n2 = api.network(t["id"])
    s3 = api.subnet(n2["id"], "10.0.8.0/24")
    assert api.port(s3["id"], ip="10.0.8.10")["ip"] == "10.0.8.10"


def test_port_list_patch_delete(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    s1 = api.subnet(n["id"], "10.0.1.0/24")
    s2 = api.subnet(n["id"], "10.0.2.0/24")
    h = api.host()
    p1 = api.port(s1["id"], name="a", host=h["name"])
    p2 = api.port(s1["id"], name="b")
    p3 = api.port(s2["id"], name="a")
    n2 = api.network(t["id"])
    other = api.port(api.subnet(n2["id"], "10.0.1.0/24")["id"], name="a")

    assert only_ids(admin, "/v1/ports?network=" + n["id"]) == sorted(
        [p1["id"], p2["id"], p3["id"]])
    assert only_ids(admin, "/v1/ports?subnet=" + s1["id"]) == sorted([p1["id"], p2["id"]])
    assert only_ids(admin, "/v1/ports?host=" + h["name"]) == [p1["id"]]
    assert only_ids(admin, "/v1/ports?name=a&network=" + n["id"]) == sorted(
        [p1["id"], p3["id"]])
    by_ip = admin.items("/v1/ports?ip=" + other["ip"])
    assert other["id"] in [o["id"] for o in by_ip] and p1["ip"] == other["ip"]
    assert p1["id"] in [o["id"] for o in by_ip]
    assert all(o["ip"] == other["ip"] for o in by_ip), by_ip
    assert only_ids(admin, "/v1/ports?ip=%s&network=%s" % (p1["ip"], n["id"])) == [p1["id"]]

    path = "/v1/ports/" + p2["id"]
    body = {"name": "b2", "host": h["name"], "extra_ips": ["10.0.1.50"],
            "claimable": ["10.0.1.60/32"], "source_dest_check": False, "routing": True,
            "device": "tap-b2"}
    r = admin.patch(path, body)
    assert r.status == 200, r
    for k, v in body.items():
        assert r.json[k] == v, (k, r.json)
    assert r.json["state"] == "down"
    assert r.json["ip"] == p2["ip"] and r.json["mac"] == p2["mac"]
    assert r.json["revision"] == vapi.check_write_headers(r) > p2["revision"]
    assert admin.fetch(path) == r.json
    assert only_ids(admin, "/v1/ports?host=" + h["name"]) == sorted([p1["id"], p2["id"]])

    r = admin.patch(path, {"host": None})
    assert r.status == 200, r
    assert r.json["host"] is None and r.json["state"] == "unbound"
    assert r.json["device"] == "tap-b2"

    assert_error(admin.patch(path, {"ip": "10.0.1.77"}), 422, "immutable", "ip")
    assert_error(admin.patch(path, {"mac": "02:00:00:00:77:77"}), 422, "immutable", "mac")
    assert_error(admin.patch(path, {"subnet": s2["id"]}), 422, "immutable", "subnet")
    assert_error(admin.patch(path, {"extra_ips": [p1["ip"]]}), 409, "in_use", "extra_ips")
    assert_error(admin.patch(path, {"host": uniq("nohost")}), 422, "invalid_reference", "host")
    assert_error(admin.patch(path, {"name": "a"}), 409, "duplicate", "name")
    cur = admin.fetch(path)
    assert cur["ip"] == p2["ip"] and cur["name"] == "b2" and cur["extra_ips"] == ["10.0.1.50"]

    # a port targeted by a static route cannot be deleted
    rt = api.route(n["main_router"], "10.200.0.0/16", p2["id"])
    assert rt["target_type"] == "port"
    assert_error(admin.delete(path), 409, "has_dependents")
    check_deleted(admin.delete("/v1/routes/" + rt["id"]))
    check_deleted(admin.delete(path))
    check_gone(admin, path)
    # its addresses are free again
    assert api.port(s1["id"], ip="10.0.1.50")["ip"] == "10.0.1.50"


# ---------------------------------------------------------------------------------------------
# Hosts
# ---------------------------------------------------------------------------------------------

HOST_KEYS = {"id", "name", "address", "encap", "prefix", "state", "last_seen", "created",
             "revision", "agent"}


def test_host_lifecycle(api, admin):
    name = uniq("h")
    addr = vapi.host_address()
    r = admin.post("/v1/hosts", {"name": name, "address": addr})
    assert r.status == 201, r
    h = r.json
    assert set(h) == HOST_KEYS, h
    assert h["id"] == name == h["name"] and h["address"] == addr
    assert h["encap"] == "vxlan" and h["prefix"] is None
    assert h["state"] == "unknown" and h["last_seen"] is None
    assert h["agent"] == {"connected": False}
    check_created(h)
    vapi.check_write_headers(r)
    path = "/v1/hosts/" + name
    assert admin.fetch(path) == h

    e6 = api.host(address="2001:db8::10", encap="embed6", prefix="fd00:1::/56")
    assert e6["encap"] == "embed6" and e6["prefix"] == "fd00:1::/56"
    assert e6["address"] == "2001:db8::10"

    assert_error(admin.post("/v1/hosts", {"name": name, "address": vapi.host_address()}),
                 409, "duplicate", "name")
    assert_error(admin.post("/v1/hosts", {"name": uniq("h"), "address": addr}),
                 409, "duplicate", "address")
    assert_error(admin.post("/v1/hosts", {"name": uniq("h"), "address": "2001:db8::10"}),
                 409, "duplicate", "address")
    for overlapping in ("fd00:1::/48", "fd00:1:0:10::/60", "fd00:1::/56"):
        assert_error(admin.post("/v1/hosts", {"name": uniq("h"),
                                              "address": vapi.host_address(),
                                              "encap": "embed6", "prefix": overlapping}),
                     409, "overlap", "prefix")

    assert name in [o["id"] for o in admin.items("/v1/hosts?encap=vxlan")]
    assert name not in [o["id"] for o in admin.items("/v1/hosts?encap=embed6")]
    assert e6["id"] in [o["id"] for o in admin.items("/v1/hosts?encap=embed6")]
    assert e6["id"] not in [o["id"] for o in admin.items("/v1/hosts?encap=vxlan")]

    addr2 = vapi.host_address()
    r = admin.patch(path, {"address": addr2})
    assert r.status == 200, r
    assert r.json["address"] == addr2 and r.json["revision"] > h["revision"]
    vapi.check_write_headers(r)
    assert_error(admin.patch(path, {"address": "2001:db8::10"}), 409, "duplicate", "address")
    assert_error(admin.patch(path, {"address": "224.0.0.5"}), 400, "invalid_value", "address")
    assert_error(admin.patch(path, {"encap": "embed6", "prefix": "fd00:1::/64"}),
                 409, "overlap", "prefix")
    assert admin.fetch(path)["encap"] == "vxlan"
    r = admin.patch(path, {"encap": "embed6", "prefix": "fd00:2::/56"})
    assert r.status == 200, r
    assert r.json["encap"] == "embed6" and r.json["prefix"] == "fd00:2::/56"

    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.0.0/24")
    p = api.port(s["id"], host=name)
    assert_error(admin.delete(path), 409, "has_dependents")
    assert admin.patch("/v1/ports/" + p["id"], {"host": None}).status == 200
    check_deleted(admin.delete(path))
    check_gone(admin, path)
    # its address and prefix are free again
    api.host(address=addr2, encap="embed6", prefix="fd00:2::/56")


# ---------------------------------------------------------------------------------------------
# Static routes
# ---------------------------------------------------------------------------------------------

ROUTE_KEYS = {"id", "network", "router", "destination", "target", "target_type", "created",
              "revision"}


def test_static_route_lifecycle(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    main = n["main_router"]
    r1 = api.router(n["id"])
    r2 = api.router(n["id"])
    api.link(main, r1["id"])
    s = api.subnet(n["id"], "10.0.1.0/24")
    p = api.port(s["id"])

    r = admin.post("/v1/routes", {"router": main, "destination": "0.0.0.0/0",
                                  "target": "blackhole"})
    assert r.status == 201, r
    bh = r.json
    assert set(bh) == ROUTE_KEYS, bh
    assert is_id(bh["id"], "rte") and bh["network"] == n["id"] and bh["router"] == main
    assert bh["destination"] == "0.0.0.0/0" and bh["target"] == "blackhole"
    assert bh["target_type"] == "blackhole"
    check_created(bh)
    vapi.check_write_headers(r)
    path = "/v1/routes/" + bh["id"]
    assert admin.fetch(path) == bh

    to_port = api.route(main, "10.10.0.0/16", p["id"])
    assert to_port["target"] == p["id"] and to_port["target_type"] == "port"
    to_rtr = api.route(main, "10.10.0.0/16", r1["id"])  # same destination: ECMP
    assert to_rtr["target"] == r1["id"] and to_rtr["target_type"] == "router"
    host32 = api.route(r1["id"], "10.20.30.40/32", "blackhole")
    assert host32["destination"] == "10.20.30.40/32"

    assert_error(admin.post("/v1/routes", {"router": main, "destination": "10.10.0.0/16",
                                           "target": p["id"]}), 409, "duplicate")
    # a router target must be joined to this router by a link
    assert_error(admin.post("/v1/routes", {"router": main, "destination": "10.11.0.0/16",
                                           "target": r2["id"]}),
                 422, "invalid_reference", "target")
    assert_error(admin.post("/v1/routes", {"router": main, "destination": "10.11.0.0/16",
                                           "target": main}),
                 422, "invalid_reference", "target")
    n2 = api.network(t["id"])
    p_other = api.port(api.subnet(n2["id"], "10.0.1.0/24")["id"])
    assert_error(admin.post("/v1/routes", {"router": main, "destination": "10.11.0.0/16",
                                           "target": p_other["id"]}),
                 422, "invalid_reference", "target")
    other_rt = api.route(n2["main_router"], "10.11.0.0/16", "blackhole")

    assert only_ids(admin, "/v1/routes?network=" + n["id"]) == sorted(
        [bh["id"], to_port["id"], to_rtr["id"], host32["id"]])
    assert only_ids(admin, "/v1/routes?router=" + main) == sorted(
        [bh["id"], to_port["id"], to_rtr["id"]])
    assert only_ids(admin, "/v1/routes?router=" + r1["id"]) == [host32["id"]]
    assert only_ids(admin, "/v1/routes?network=" + n2["id"]) == [other_rt["id"]]

    # cannot be changed in place
    assert_error(admin.patch(path, {"destination": "10.0.0.0/8"}), 405, "method_not_allowed")
    assert admin.fetch(path) == bh

    check_deleted(admin.delete(path))
    check_gone(admin, path)
    assert bh["id"] not in only_ids(admin, "/v1/routes?router=" + main)


# ---------------------------------------------------------------------------------------------
# Revisions, pagination
# ---------------------------------------------------------------------------------------------

def test_token_writes_advance_revision(api, admin):
    """Token creation and revocation are acknowledged writes like any other."""
    t = admin.create("/v1/tenants", {"name": uniq("t")})
    rev = admin.revision()
    r = admin.post("/v1/tenants/%s/tokens" % t["id"], {"name": "x"})
    assert r.status == 201, r
    assert vapi.check_write_headers(r) == rev + 1 == admin.revision(), r
    r = admin.delete("/v1/tenants/%s/tokens/%s" % (t["id"], r.json["id"]))
    assert r.status == 204, r
    assert vapi.check_write_headers(r) == rev + 2 == admin.revision(), r


def test_every_write_advances_revision_by_one(api, admin):
    rev = admin.revision()
    r = admin.post("/v1/tenants", {"name": uniq("t")})
    assert r.status == 201
    assert vapi.check_write_headers(r) == rev + 1 == admin.revision()
    tid = r.json["id"]
    # a refused write changes nothing
    assert_error(admin.post("/v1/tenants", {"name": r.json["name"]}), 409, "duplicate")
    assert admin.revision() == rev + 1
    r = admin.patch("/v1/tenants/" + tid, {"name": uniq("t")})
    assert vapi.check_write_headers(r) == rev + 2 == r.json["revision"] == admin.revision()
    r = admin.post("/v1/networks", {"name": uniq("n"), "cidr": "10.0.0.0/8", "tenant": tid})
    assert vapi.check_write_headers(r) == rev + 3 == admin.revision()
    nid = r.json["id"]
    r = admin.post("/v1/subnets", {"network": nid, "cidr": "10.1.0.0/16"})
    assert vapi.check_write_headers(r) == rev + 4
    sid = r.json["id"]
    r = admin.post("/v1/ports", {"subnet": sid})
    assert vapi.check_write_headers(r) == rev + 5
    r = admin.delete("/v1/ports/" + r.json["id"])
    assert r.status == 204 and vapi.check_write_headers(r) == rev + 6
    assert admin.revision() == rev + 6
    # reads do not advance it
    admin.get("/v1/networks")
    admin.get("/v1/subnets/" + sid)
    assert admin.revision() == rev + 6
    # the revision of an object is the one at which it last changed
    assert admin.fetch("/v1/subnets/" + sid)["revision"] == rev + 4
    # deleting a network (and its main router with it) is one write too
    n2 = admin.create("/v1/networks", {"name": uniq("n"), "cidr": "10.0.0.0/8", "tenant": tid})
    assert n2["revision"] == rev + 7
    r = admin.delete("/v1/networks/" + n2["id"])
    assert r.status == 204 and vapi.check_write_headers(r) == rev + 8 == admin.revision()


LISTS = ["/v1/tenants", "/v1/networks", "/v1/routers", "/v1/links", "/v1/subnets",
         "/v1/ports", "/v1/hosts", "/v1/routes", "TOKENS"]


@pytest.fixture(scope="module")
def populated(api):
    t, _ = api.tenant()
    for _ in range(5):
        api.token(t["id"])
        api.tenant()
        api.host()
    n = api.network(t["id"])
    routers = [api.router(n["id"]) for _ in range(5)]
    for r in routers:
        api.link(n["main_router"], r["id"])
    for i in range(5):
        s = api.subnet(n["id"], "10.0.%d.0/24" % i)
        api.port(s["id"])
        api.port(s["id"])
        api.route(n["main_router"], "10.%d.0.0/16" % (100 + i), "blackhole")
    return t


@pytest.mark.parametrize("path", LISTS)
def test_pagination(api, admin, populated, path):
    if path == "TOKENS":
        path = "/v1/tenants/%s/tokens" % populated["id"]
    full = admin.get(path)
    assert full.status == 200, full
    items = full.json["items"]
    assert "next" not in full.json or full.json["next"] in (None, ""), full
    ids = [o["id"] for o in items]
    assert len(ids) >= 5, ids
    one = path if "/tokens" not in path else None
    for o in items[:3] if one else []:
        assert admin.fetch("%s/%s" % (one, o["id"])) == o
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    pages, url = [], path + "?limit=2"
    for _ in range(100):
        r = admin.get(url)
        assert r.status == 200, r
        page = [o["id"] for o in r.json["items"]]
        pages.append(page)
        assert 1 <= len(page) <= 2, r
        if not r.json.get("next"):
            break
        assert len(page) == 2
        url = "%s?limit=2&after=%s" % (path, r.json["next"])
    assert [i for p in pages for i in p] == ids

    r = admin.get("%s?limit=%d" % (path, len(ids)))
    assert [o["id"] for o in r.json["items"]] == ids
    assert not r.json.get("next"), "next given although nothing remains: %r" % (r,)
    r = admin.get("%s?limit=1&after=%s" % (path, ids[2]))
    assert [o["id"] for o in r.json["items"]] == [ids[3]]
    r = admin.get("%s?after=%s" % (path, ids[-1]))
    assert r.json["items"] == [] and not r.json.get("next")
    assert [o["id"] for o in admin.get(path + "?limit=1000").json["items"]] == ids
    for bad in ("0", "1001", "-1", "abc", "", "1.5"):
        assert_error(admin.get("%s?limit=%s" % (path, bad)), 400, "invalid_query", "limit")
