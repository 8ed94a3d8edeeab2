"""Tenant isolation (docs/api.md, Authentication): a tenant token sees and changes only its own
resources; another tenant's id answers exactly like a missing id (404 on the path, 422 in a
body); admin resources answer 403; bad tokens 401."""

import pytest

import vapi
from vapi import assert_error, error_shape, missing_id, uniq


def build(api, client):
    """A full set of resources, created with the tenant's own token. Identical CIDRs and
    addresses for both tenants."""
    n = client.create("/v1/networks", {"name": "net", "cidr": "10.0.0.0/16"})
    r1 = api.router(n["id"], name="r1", client=client)
    lk = api.link(n["main_router"], r1["id"], client=client)
    s = api.subnet(n["id"], "10.0.1.0/24", client=client, name="s")
    p = api.port(s["id"], client=client, name="p")
    rt = api.route(n["main_router"], "10.50.0.0/16", p["id"], client=client)
    rt2 = api.route(n["main_router"], "10.51.0.0/16", r1["id"], client=client)
    return {"networks": n, "routers": r1, "links": lk, "subnets": s, "ports": p,
            "routes": rt, "routes2": rt2, "main": n["main_router"]}


@pytest.fixture(scope="module")
def world(api):
    ta, ca = api.tenant(uniq("alice"))
    tb, cb = api.tenant(uniq("bob"))
    wa = build(api, ca)
    wb = build(api, cb)
    wa.update(tenant=ta, client=ca, token=api.token(ta["id"]))
    wb.update(tenant=tb, client=cb, token=api.token(tb["id"]))
    return wa, wb


def test_identical_cidrs_for_two_tenants(world):
    a, b = world
    assert a["networks"]["cidr"] == b["networks"]["cidr"] == ["10.0.0.0/16"]
    assert a["networks"]["vnid"] != b["networks"]["vnid"]
    assert a["subnets"]["cidr"] == b["subnets"]["cidr"] == "10.0.1.0/24"
    assert a["ports"]["ip"] == b["ports"]["ip"] == "10.0.1.2"
    assert a["networks"]["tenant"] == a["tenant"]["id"]
    for k in ("routers", "subnets", "ports"):
        assert a[k]["tenant"] == a["tenant"]["id"] and b[k]["tenant"] == b["tenant"]["id"]


def test_admin_sees_both(admin, world):
    a, b = world
    for kind in ("networks", "routers", "links", "subnets", "ports", "routes"):
        ids = {o["id"] for o in admin.items("/v1/" + kind)}
        assert a[kind]["id"] in ids and b[kind]["id"] in ids, kind
    ids = {o["id"] for o in admin.items("/v1/networks?tenant=" + a["tenant"]["id"])}
    assert ids == {a["networks"]["id"]}


KINDS = ["networks", "routers", "links", "subnets", "ports", "routes"]
PATCHES = {"networks": {"name": "renamed"}, "routers": {"name": "renamed"},
           "subnets": {"name": "renamed"}, "ports": {"name": "renamed"},
           "links": {"a": "x"}, "routes": {"destination": "10.0.0.0/8"}}


def compare_foreign_missing(rf, rm, fid, mid):
    assert rf.status not in (200, 201, 204), rf
    assert error_shape(rf, fid) == error_shape(rm, mid), (rf, rm)


@pytest.mark.parametrize("kind", KINDS)
def test_get_one(world, kind):
    a, b = world
    ca = a["client"]
    own = ca.get("/v1/%s/%s" % (kind, a[kind]["id"]))
    assert own.status == 200 and own.json == a[kind], own
    fid, mid = b[kind]["id"], missing_id(vapi.ID_PREFIX[kind])
    rf = ca.get("/v1/%s/%s" % (kind, fid))
    rm = ca.get("/v1/%s/%s" % (kind, mid))
    assert_error(rf, 404, "not_found")
    assert_error(rm, 404, "not_found")
    compare_foreign_missing(rf, rm, fid, mid)


@pytest.mark.parametrize("kind", KINDS)
def test_patch(admin, world, kind):
    a, b = world
    ca = a["client"]
    fid, mid = b[kind]["id"], missing_id(vapi.ID_PREFIX[kind])
    rf = ca.patch("/v1/%s/%s" % (kind, fid), PATCHES[kind])
    rm = ca.patch("/v1/%s/%s" % (kind, mid), PATCHES[kind])
    compare_foreign_missing(rf, rm, fid, mid)
    assert admin.fetch("/v1/%s/%s" % (kind, fid)) == b[kind]  # unchanged
    if kind in ("links", "routes"):
        assert_error(rf, 405, "method_not_allowed")
        assert_error(ca.patch("/v1/%s/%s" % (kind, a[kind]["id"]), PATCHES[kind]),
                     405, "method_not_allowed")
        return
    assert_error(rf, 404, "not_found")
    own = ca.patch("/v1/%s/%s" % (kind, a[kind]["id"]), {"name": "mine-" + kind})
    assert own.status == 200 and own.json["name"] == "mine-" + kind, own
    back = ca.patch("/v1/%s/%s" % (kind, a[kind]["id"]), {"name": a[kind]["name"]})
    assert back.status == 200, back


@pytest.mark.parametrize("kind", KINDS)
def test_delete(api, admin, world, kind):
    a, b = world
    ca = a["client"]
    fid, mid = b[kind]["id"], missing_id(vapi.ID_PREFIX[kind])
    rf = ca.delete("/v1/%s/%s" % (kind, fid))
    rm = ca.delete("/v1/%s/%s" % (kind, mid))
    assert_error(rf, 404, "not_found")
    compare_foreign_missing(rf, rm, fid, mid)
    assert admin.fetch("/v1/%s/%s" % (kind, fid)) == b[kind]  # still there
    # the tenant can delete a throwaway object of its own
    net = a["networks"]["id"]
    throwaway = {
        "networks": lambda: ca.create("/v1/networks", {"name": "tmp", "cidr": "10.0.0.0/16"}),
        "routers": lambda: api.router(net, client=ca),
        "links": lambda: api.link(a["routers"]["id"], api.router(net, client=ca)["id"],
                                  client=ca),
        "subnets": lambda: api.subnet(net, "10.0.99.0/24", client=ca),
        "ports": lambda: api.port(a["subnets"]["id"], client=ca),
        "routes": lambda: api.route(a["main"], "10.99.0.0/16", "blackhole", client=ca),
    }[kind]()
    r = ca.delete("/v1/%s/%s" % (kind, throwaway["id"]))
    assert r.status == 204, r
    assert_error(ca.get("/v1/%s/%s" % (kind, throwaway["id"])), 404, "not_found")


def test_router_routes_subresource(world):
    a, b = world
    ca = a["client"]
    assert ca.get("/v1/routers/%s/routes" % a["main"]).status == 200
    fid, mid = b["main"], missing_id("rtr")
    rf = ca.get("/v1/routers/%s/routes" % fid)
    rm = ca.get("/v1/routers/%s/routes" % mid)
    assert_error(rf, 404, "not_found")
    compare_foreign_missing(rf, rm, fid, mid)


def test_tenants_and_tokens_paths(api, admin, world):
    a, b = world
    ca, cb = a["client"], b["client"]
    ta, tb = a["tenant"]["id"], b["tenant"]["id"]
    mt = missing_id("ten")
    assert ca.fetch("/v1/tenants/" + ta) == admin.fetch("/v1/tenants/" + ta)
    assert [o["id"] for o in ca.items("/v1/tenants")] == [ta]
    assert ca.items("/v1/tenants?name=" + b["tenant"]["name"]) == []

    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"name": uniq("x")}),
                                 ("DELETE", "", None), ("GET", "/tokens", None),
                                 ("POST", "/tokens", {"name": "x"})):
        rf = ca.req(method, "/v1/tenants/%s%s" % (tb, suffix), body=body)
        rm = ca.req(method, "/v1/tenants/%s%s" % (mt, suffix), body=body)
        assert rf.status in (403, 404), rf
        assert_error(rf, rf.status, {"not_found", "forbidden"})
        compare_foreign_missing(rf, rm, tb, mt)
    assert admin.fetch("/v1/tenants/" + tb) == b["tenant"]

    # tenant writes on tenants are admin-only
    assert_error(ca.patch("/v1/tenants/" + ta, {"name": uniq("x")}), 403, "forbidden")
    assert_error(ca.delete("/v1/tenants/" + ta), 403, "forbidden")
    assert_error(ca.post("/v1/tenants", {"name": uniq("x")}), 403, "forbidden")
    assert admin.fetch("/v1/tenants/" + ta) == a["tenant"]

    # tokens: own list works, another tenant's token is not found through either path
    assert a["token"]["id"] in [o["id"] for o in ca.items("/v1/tenants/%s/tokens" % ta)]
    btok = b["token"]["id"]
    mtok = missing_id("tok")
    for path_t in (ta, tb):
        rf = ca.delete("/v1/tenants/%s/tokens/%s" % (path_t, btok))
        rm = ca.delete("/v1/tenants/%s/tokens/%s" % (path_t, mtok))
        assert_error(rf, 404, "not_found")
        compare_foreign_missing(rf, rm, btok, mtok)
    assert api.client(b["token"]["token"]).get("/v1/networks").status == 200
    assert cb.get("/v1/networks").status == 200


@pytest.mark.parametrize("kind", KINDS)
def test_lists_never_show_foreign(world, kind):
    a, b = world
    for me, other in ((a, b), (b, a)):
        got = me["client"].items("/v1/" + kind)
        ids = {o["id"] for o in got}
        assert me[kind]["id"] in ids
        assert not ids & {other[k]["id"] for k in KINDS}, (kind, got)
        my_nets = {o["id"] for o in me["client"].items("/v1/networks")}
        for o in got:
            if kind == "networks":
                assert o["tenant"] == me["tenant"]["id"], o
            else:
                assert o["network"] in my_nets, o


LIST_FILTERS = [("networks", "tenant", "tenant", "ten"), ("routers", "network", "networks", "net"),
                ("links", "network", "networks", "net"), ("links", "router", "routers", "rtr"),
                ("subnets", "network", "networks", "net"), ("subnets", "router", "main", "rtr"),
                ("ports", "network", "networks", "net"), ("ports", "subnet", "subnets", "sub"),
                ("routes", "network", "networks", "net"), ("routes", "router", "main", "rtr")]


@pytest.mark.parametrize("kind,param,key,prefix", LIST_FILTERS)
def test_list_filter_by_foreign_id(world, kind, param, key, prefix):
    a, b = world
    ca = a["client"]
    fid = b[key]["id"] if isinstance(b[key], dict) else b[key]
    mid = missing_id(prefix)
    rf = ca.get("/v1/%s?%s=%s" % (kind, param, fid))
    rm = ca.get("/v1/%s?%s=%s" % (kind, param, mid))
    assert error_shape(rf, fid) == error_shape(rm, mid) and rf.status == rm.status, (rf, rm)
    if rf.status == 200:
        assert rf.json["items"] == [] and rm.json["items"] == [], rf
    own = a[key]["id"] if isinstance(a[key], dict) else a[key]
    r = ca.get("/v1/%s?%s=%s" % (kind, param, own))
    assert r.status == 200 and r.json["items"], r


def refs(a, b):
    """(method, path, body with REF, field, B's object, cross_network): each answers 422
    invalid_reference for B's id exactly as for a missing one. cross_network: the body also
    names an object of A's network, so even the admin gets 422."""
    na, ma = a["networks"]["id"], a["main"]
    return [
        ("POST", "/v1/routers", {"network": "REF", "name": "x"}, "network", b["networks"],
         False),
        ("POST", "/v1/subnets", {"network": "REF", "cidr": "10.0.9.0/24"}, "network",
         b["networks"], False),
        ("POST", "/v1/subnets", {"network": na, "cidr": "10.0.9.0/24", "router": "REF"},
         "router", b["routers"], True),
        ("PATCH", "/v1/subnets/" + a["subnets"]["id"], {"router": "REF"}, "router",
         b["routers"], True),
        ("POST", "/v1/links", {"a": a["routers"]["id"], "b": "REF"}, "b", b["routers"], True),
        ("POST", "/v1/links", {"a": "REF", "b": a["routers"]["id"]}, "a", b["main"], True),
        ("POST", "/v1/ports", {"subnet": "REF"}, "subnet", b["subnets"], False),
        ("POST", "/v1/routes", {"router": "REF", "destination": "10.9.0.0/16",
                                "target": "blackhole"}, "router", b["main"], False),
        ("POST", "/v1/routes", {"router": ma, "destination": "10.9.0.0/16", "target": "REF"},
         "target", b["ports"], True),
        ("POST", "/v1/routes", {"router": ma, "destination": "10.9.0.0/16", "target": "REF"},
         "target", b["routers"], True),
    ]


def test_body_references_to_foreign_objects(admin, world):
    a, b = world
    ca = a["client"]
    for method, path, body, field, foreign, cross in refs(a, b):
        fid = foreign["id"] if isinstance(foreign, dict) else foreign
        mid = missing_id(fid.split("-")[0])
        rev = admin.revision()
        fb = {k: (fid if v == "REF" else v) for k, v in body.items()}
        mb = {k: (mid if v == "REF" else v) for k, v in body.items()}
        rf = ca.req(method, path, body=fb)
        rm = ca.req(method, path, body=mb)
        assert_error(rf, 422, "invalid_reference", field)
        assert error_shape(rf, fid) == error_shape(rm, mid), (rf, rm)
        if cross:  # which of a link's two ends is blamed is the server's choice
            assert_error(admin.req(method, path, body=fb), 422, "invalid_reference",
                         vapi.ANY if path == "/v1/links" else field)
        assert admin.revision() == rev, "a refused request changed something: %r" % (rf,)


def test_admin_network_needs_existing_tenant(admin):
    mt = missing_id("ten")
    r = admin.post("/v1/networks", {"name": "x", "cidr": "10.0.0.0/16", "tenant": mt})
    assert_error(r, 422, "invalid_reference", "tenant")
    assert_error(admin.post("/v1/networks", {"name": "x", "cidr": "10.0.0.0/16"}),
                 400, "missing_field", "tenant")


def test_tenant_may_not_send_tenant(admin, world):
    a, b = world
    rev = admin.revision()
    for t in (a["tenant"]["id"], b["tenant"]["id"]):
        r = a["client"].post("/v1/networks", {"name": "sneaky", "cidr": "10.1.0.0/16",
                                               "tenant": t})
        assert_error(r, 403, "forbidden", "tenant")
    assert admin.revision() == rev
    assert admin.items("/v1/networks?name=sneaky") == []


ADMIN_ONLY = [("GET", "/v1/hosts", None), ("POST", "/v1/hosts", "HOSTBODY"),
              ("GET", "/v1/hosts/HOST", None), ("PATCH", "/v1/hosts/HOST", {"address": "198.19.0.9"}),
              ("DELETE", "/v1/hosts/HOST", None), ("GET", "/v1/hosts/nosuchhost", None),
              ("POST", "/v1/tenants", {"name": "x"}), ("GET", "/metrics", None)]


@pytest.mark.parametrize("method,path,body", ADMIN_ONLY)
def test_admin_resources_forbidden(api, admin, world, method, path, body):
    a, _ = world
    h = api.host()
    path = path.replace("HOST", h["name"])
    if body == "HOSTBODY":
        body = {"name": uniq("h"), "address": vapi.host_address()}
    rev = admin.revision()
    assert_error(a["client"].req(method, path, body=body), 403, "forbidden")
    assert admin.revision() == rev
    assert admin.fetch("/v1/hosts/" + h["name"]) == h


BAD_TOKENS = [None, "", "vnr_" + "0" * 64, "vnr_" + "g" * 64, "nonsense", "ADMIN-PREFIX"]


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("method,path", [("GET", "/v1/networks"), ("GET", "/v1/tenants"),
                                         ("POST", "/v1/networks"), ("GET", "/v1/hosts"),
                                         ("GET", "/metrics"), ("DELETE", "/v1/networks/X")])
def test_unauthenticated(server, admin, world, token, method, path):
    a, _ = world
    if token == "ADMIN-PREFIX":
        token = server.admin_token[:-1]
    path = path.replace("X", a["networks"]["id"])
    body = {"name": "x", "cidr": "10.0.0.0/16"} if method == "POST" else None
    rev = admin.revision()
    assert_error(admin.req(method, path, body=body, token=token), 401, "unauthenticated")
    assert admin.revision() == rev


def test_wrong_auth_scheme(admin, world):
    a, _ = world
    tok = a["token"]["token"]
    # Not here: "Bearer TOKEN\x00junk". libmicrohttpd 0.9.75 ends a header value at an
    # embedded NUL before veneerd sees it (and reports that shorter length), so it is
    # indistinguishable from "Bearer TOKEN"; it still takes the real token to get in.
    for value in ("Basic " + tok, tok, "Bearer", "Bearer  " + tok + "x", "bearer",
                  "Bearer " + tok[:-1]):
        r = admin.get("/v1/networks", headers={"Authorization": value})
        assert_error(r, 401, "unauthenticated")


def test_revoked_token_and_deleted_tenant(api, admin):
    t, c = api.tenant()
    tok2 = api.token(t["id"])
    c2 = api.client(tok2["token"])
    assert c2.get("/v1/networks").status == 200
    assert admin.delete("/v1/tenants/%s/tokens/%s" % (t["id"], tok2["id"])).status == 204
    assert_error(c2.get("/v1/networks"), 401, "unauthenticated")
    assert_error(c2.get("/v1/tenants/" + t["id"]), 401, "unauthenticated")
    assert c.get("/v1/networks").status == 200
    assert admin.delete("/v1/tenants/" + t["id"]).status == 204
    assert_error(c.get("/v1/networks"), 401, "unauthenticated")
    assert_error(c.post("/v1/networks", {"name": "x", "cidr": "10.0.0.0/16"}),
                 401, "unauthenticated")


def test_admin_changes_tenant_resources(admin, world):
    a, _ = world
    path = "/v1/subnets/" + a["subnets"]["id"]
    r = admin.patch(path, {"name": "by-admin"})
    assert r.status == 200 and r.json["name"] == "by-admin", r
    assert a["client"].fetch(path)["name"] == "by-admin"
    assert admin.patch(path, {"name": a["subnets"]["name"]}).status == 200
