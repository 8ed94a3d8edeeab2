"""Quotas, admin-only device names, and the consistency rules a code review asked for
(docs/api.md: Quotas, Ports, Networks)."""

import vapi
from vapi import assert_error


def test_token_quota(api, admin):
    t, tc = api.tenant()
    # the tenant's first token exists already; fill up to the quota of 100
    for _ in range(99):
        assert tc.post("/v1/tenants/%s/tokens" % t["id"], {}).status == 201
    rev = admin.revision()
    assert_error(tc.post("/v1/tenants/%s/tokens" % t["id"], {}), 409, "limit_exceeded")
    assert admin.revision() == rev
    # another tenant is not affected
    t2, tc2 = api.tenant()
    assert tc2.post("/v1/tenants/%s/tokens" % t2["id"], {}).status == 201


def test_router_quota(api, admin):
    t, tc = api.tenant()
    n = api.network(t["id"], client=tc)
    for i in range(255):  # main is the first of 256
        api.router(n["id"], name="r%d" % i, client=tc)
    assert_error(tc.post("/v1/routers", {"network": n["id"], "name": "one-too-many"}), 409,
                 "limit_exceeded")
    assert len(admin.items("/v1/routers?network=" + n["id"])) == 256


def test_device_is_admin_only(api, admin):
    t, tc = api.tenant()
    n = api.network(t["id"], client=tc)
    s = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    rev = admin.revision()
    assert_error(tc.post("/v1/ports", {"subnet": s["id"], "device": "secret0"}), 403,
                 "forbidden", "device")
    p = api.port(s["id"], client=tc)
    assert_error(tc.patch("/v1/ports/" + p["id"], {"device": "secret0"}), 403, "forbidden",
                 "device")
    assert admin.revision() == rev + 1  # only the port create
    r = admin.patch("/v1/ports/" + p["id"], {"device": "secret0"})
    assert r.status == 200 and r.json["device"] == "secret0", r


def test_cidr_shrink_keeps_claimable_ranges(api, admin):
    t, tc = api.tenant()
    n = api.network(t["id"], cidr=["10.0.0.0/16", "10.1.0.0/16"], client=tc)
    s = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    p = api.port(s["id"], client=tc, claimable=["10.1.0.0/24"])
    rev = admin.revision()
    err = assert_error(tc.patch("/v1/networks/" + n["id"], {"cidr": ["10.0.0.0/16"]}), 409,
                       "has_dependents", "cidr")
    assert p["id"] in err["message"] and "10.1.0.0/24" in err["message"]
    assert admin.revision() == rev
    assert tc.fetch("/v1/networks/" + n["id"])["cidr"] == ["10.0.0.0/16", "10.1.0.0/16"]


def test_empty_patch_advances_revision(api, admin):
    t, _ = api.tenant()
    rev = admin.revision()
    r = admin.patch("/v1/tenants/" + t["id"], {})
    assert r.status == 200
    assert int(r.headers["X-Veneer-Revision"]) == rev + 1 == r.json["revision"]


def test_port_that_changes_host_is_down(api, admin):
    h1, h2 = api.host(), api.host()
    t, tc = api.tenant()
    n = api.network(t["id"], client=tc)
    s = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    p = api.port(s["id"], client=tc)
    assert p["state"] == "unbound"
    p = tc.patch("/v1/ports/" + p["id"], {"host": h1["name"]}).json
    assert p["state"] == "down"
    p = tc.patch("/v1/ports/" + p["id"], {"host": h2["name"]}).json
    assert p["state"] == "down" and p["host"] == h2["name"]
    p = tc.patch("/v1/ports/" + p["id"], {"host": None}).json
    assert p["state"] == "unbound" and p["host"] is None


def test_claimable_listed_twice(api, admin):
    t, tc = api.tenant()
    n = api.network(t["id"], client=tc)
    s = api.subnet(n["id"], "10.0.1.0/24", client=tc)
    assert_error(tc.post("/v1/ports", {"subnet": s["id"],
                                       "claimable": ["10.0.1.9/32", "10.0.1.9/32"]}),
                 400, "invalid_value", "claimable")
