"""Effective routing table GET /v1/routers/{id}/routes: connected, static and link routes,
selection by distance then metric, ECMP sets, ordering (docs/api.md, Routers)."""

import ipaddress

import pytest

from vapi import assert_error, missing_id

ITEM_KEYS = {"destination", "origin", "target", "target_type", "distance", "metric",
             "selected"}


def table(admin, router_id):
    r = admin.get("/v1/routers/%s/routes" % router_id)
    assert r.status == 200, r
    items = r.json["items"]
    for it in items:
        assert ITEM_KEYS <= set(it) <= ITEM_KEYS | {"route"}, it
        assert it["origin"] in ("connected", "static", "link"), it
        assert isinstance(it["metric"], int) and isinstance(it["selected"], bool), it
        assert it["distance"] == {"connected": 0, "static": 1, "link": 20}[it["origin"]], it
    # ordered by prefix length (longest first), then address
    keys = [(-ipaddress.ip_network(i["destination"]).prefixlen,
             int(ipaddress.ip_network(i["destination"]).network_address)) for i in items]
    assert keys == sorted(keys), [i["destination"] for i in items]
    return items


def entries(items, dest):
    return [i for i in items if i["destination"] == dest]


def one(items, dest, **want):
    got = entries(items, dest)
    assert len(got) == 1, (dest, got, items)
    for k, v in want.items():
        assert got[0].get(k) == v, (k, v, got[0])
    return got[0]


@pytest.fixture(scope="module")
def chain(api):
    """
        S0 10.0.0.0/24       S1 10.0.1.0/24      S2 10.0.2.0/24
             |                   |  P (appliance)     |
            R0 (main) ------- R1 ------------------- R2
        R0: 10.7.0.0/16 -> R1     R1: 10.8.0.0/16 -> P    R2: 10.9.0.0/16 -> blackhole
    """
    t, _ = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/8")
    r0 = n["main_router"]
    r1 = api.router(n["id"], name="r1")["id"]
    r2 = api.router(n["id"], name="r2")["id"]
    l01 = api.link(r0, r1)
    l12 = api.link(r1, r2)
    s0 = api.subnet(n["id"], "10.0.0.0/24")
    s1 = api.subnet(n["id"], "10.0.1.0/24", router=r1)
    s2 = api.subnet(n["id"], "10.0.2.0/24", router=r2)
    p = api.port(s1["id"], source_dest_check=False, routing=True)
    rt7 = api.route(r0, "10.7.0.0/16", r1)
    rt8 = api.route(r1, "10.8.0.0/16", p["id"])
    rt9 = api.route(r2, "10.9.0.0/16", "blackhole")
    return dict(net=n, r0=r0, r1=r1, r2=r2, s0=s0, s1=s1, s2=s2, p=p, rt7=rt7, rt8=rt8,
                rt9=rt9, l01=l01, l12=l12)


def test_chain_from_r0(admin, chain):
    c = chain
    items = table(admin, c["r0"])
    assert [i["destination"] for i in items] == [
        "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.7.0.0/16", "10.8.0.0/16",
        "10.9.0.0/16"], items
    one(items, "10.0.0.0/24", origin="connected", target=c["s0"]["id"], target_type="subnet",
        distance=0, metric=0, selected=True)
    one(items, "10.0.1.0/24", origin="link", target=c["r1"], target_type="router",
        distance=20, metric=1, selected=True)
    one(items, "10.0.2.0/24", origin="link", target=c["r1"], target_type="router",
        distance=20, metric=2, selected=True)
    one(items, "10.7.0.0/16", origin="static", target=c["r1"], target_type="router",
        distance=1, metric=0, selected=True, route=c["rt7"]["id"])
    one(items, "10.8.0.0/16", origin="link", target=c["r1"], metric=1, selected=True)
    one(items, "10.9.0.0/16", origin="link", target=c["r1"], metric=2, selected=True)


def test_chain_from_r1_and_r2(admin, chain):
    c = chain
    items = table(admin, c["r1"])
    one(items, "10.0.0.0/24", origin="link", target=c["r0"], metric=1, selected=True)
    one(items, "10.0.1.0/24", origin="connected", target=c["s1"]["id"], selected=True)
    one(items, "10.0.2.0/24", origin="link", target=c["r2"], metric=1, selected=True)
    one(items, "10.8.0.0/16", origin="static", target=c["p"]["id"], target_type="port",
        route=c["rt8"]["id"], selected=True)
    one(items, "10.9.0.0/16", origin="link", target=c["r2"], metric=1, selected=True)
    # R0's static route targets a router: it is not carried across links
    assert entries(items, "10.7.0.0/16") == []

    items = table(admin, c["r2"])
    assert [i["destination"] for i in items] == [
        "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.8.0.0/16", "10.9.0.0/16"], items
    one(items, "10.0.0.0/24", origin="link", target=c["r1"], metric=2)
    one(items, "10.8.0.0/16", origin="link", target=c["r1"], metric=1)
    one(items, "10.9.0.0/16", origin="static", target="blackhole", target_type="blackhole",
        route=c["rt9"]["id"], selected=True)


def test_selection_distance_then_metric(api, admin, chain):
    c = chain
    # a static route beats a link route for the same destination
    over = api.route(c["r0"], "10.0.2.0/24", "blackhole")
    # a connected subnet beats what a neighbour has as a static route
    shadow = api.route(c["r1"], "10.0.0.0/24", "blackhole")
    # the same destination at one and at two hops: the nearer one is selected
    near = api.route(c["r1"], "10.50.0.0/16", "blackhole")
    far = api.route(c["r2"], "10.50.0.0/16", "blackhole")
    try:
        items = table(admin, c["r0"])
        e = entries(items, "10.0.2.0/24")
        st = [i for i in e if i["origin"] == "static"]
        lk = [i for i in e if i["origin"] == "link"]
        assert len(st) == 1 and st[0]["selected"] and st[0]["route"] == over["id"], e
        assert len(lk) == 1 and not lk[0]["selected"] and lk[0]["metric"] == 2, e

        e = entries(items, "10.0.0.0/24")
        assert [i["origin"] for i in e if i["selected"]] == ["connected"], e
        assert any(i["origin"] == "link" and not i["selected"] for i in e), e

        e = entries(items, "10.50.0.0/16")
        assert e and all(i["origin"] == "link" for i in e), e
        sel = [i for i in e if i["selected"]]
        assert len(sel) == 1 and sel[0]["metric"] == 1 and sel[0]["target"] == c["r1"], e
        assert all(not i["selected"] for i in e if i["metric"] > 1), e

        # from R1, its own static route (distance 1) wins over R2's (link, distance 20)
        e = entries(table(admin, c["r1"]), "10.50.0.0/16")
        sel = [i for i in e if i["selected"]]
        assert len(sel) == 1 and sel[0]["origin"] == "static", e
    finally:
        for rt in (over, shadow, near, far):
            assert admin.delete("/v1/routes/" + rt["id"]).status == 204


def test_static_ecmp(api, admin, chain):
    c = chain
    a = api.route(c["r1"], "10.60.0.0/16", c["p"]["id"])
    b = api.route(c["r1"], "10.60.0.0/16", "blackhole")
    cc = api.route(c["r1"], "10.60.0.0/16", c["r2"])
    try:
        e = entries(table(admin, c["r1"]), "10.60.0.0/16")
        assert len(e) == 3 and all(i["selected"] and i["origin"] == "static" for i in e), e
        assert {i["route"] for i in e} == {a["id"], b["id"], cc["id"]}
        assert {(i["target"], i["target_type"]) for i in e} == {
            (c["p"]["id"], "port"), ("blackhole", "blackhole"), (c["r2"], "router")}
        # from R0 only the port and blackhole routes are carried, one hop away
        e = entries(table(admin, c["r0"]), "10.60.0.0/16")
        assert e and all(i["origin"] == "link" and i["target"] == c["r1"]
                         and i["metric"] == 1 and i["selected"] for i in e), e
    finally:
        for rt in (a, b, cc):
            assert admin.delete("/v1/routes/" + rt["id"]).status == 204


def test_link_ecmp_diamond(api, admin):
    """
              +-- RA --+
        R0 ---+        +--- R3 (10.3.0.0/24)
              +-- RB --+
    """
    t, _ = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/8")
    r0 = n["main_router"]
    ra, rb, r3 = (api.router(n["id"])["id"] for _ in range(3))
    for x, y in ((r0, ra), (r0, rb), (ra, r3), (rb, r3)):
        api.link(x, y)
    s3 = api.subnet(n["id"], "10.3.0.0/24", router=r3)
    api.subnet(n["id"], "10.1.0.0/24", router=ra)

    e = entries(table(admin, r0), "10.3.0.0/24")
    assert len(e) == 2, e
    assert {i["target"] for i in e} == {ra, rb}
    assert all(i["origin"] == "link" and i["metric"] == 2 and i["selected"] for i in e), e
    e = entries(table(admin, r0), "10.1.0.0/24")
    assert len(e) == 1 and e[0]["target"] == ra and e[0]["metric"] == 1, e
    e = entries(table(admin, r3), "10.1.0.0/24")
    assert len(e) == 1 and e[0]["target"] == ra and e[0]["metric"] == 1, e

    # a direct link makes the path one hop and the only shortest one
    direct = api.link(r0, r3)
    e = entries(table(admin, r0), "10.3.0.0/24")
    sel = [i for i in e if i["selected"]]
    assert len(sel) == 1 and sel[0]["target"] == r3 and sel[0]["metric"] == 1, e
    # removing it restores the ECMP set
    assert admin.delete("/v1/links/" + direct["id"]).status == 204
    e = entries(table(admin, r0), "10.3.0.0/24")
    assert {i["target"] for i in e if i["selected"]} == {ra, rb}, e
    # a moved subnet moves its routes
    assert admin.patch("/v1/subnets/" + s3["id"], {"router": r0}).status == 200
    e = entries(table(admin, r0), "10.3.0.0/24")
    assert len(e) == 1 and e[0]["origin"] == "connected" and e[0]["selected"], e


def test_unlinked_router_sees_only_its_own(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    r1 = api.router(n["id"])["id"]
    api.subnet(n["id"], "10.0.1.0/24")
    s = api.subnet(n["id"], "10.0.2.0/24", router=r1)
    items = table(admin, r1)
    assert [(i["destination"], i["origin"], i["target"]) for i in items] == [
        ("10.0.2.0/24", "connected", s["id"])], items
    assert table(admin, api.router(n["id"])["id"]) == []


def test_routes_of_missing_router(admin):
    assert_error(admin.get("/v1/routers/%s/routes" % missing_id("rtr")), 404, "not_found")
    assert_error(admin.post("/v1/routers/%s/routes" % missing_id("rtr"), {}),
                 405, "method_not_allowed")


def expected_tables(routers, links, subnets, routes):
    """The effective table of every router, computed from the spec's rules."""
    adj = {r: set() for r in routers}
    for a, b in links:
        adj[a].add(b)
        adj[b].add(a)

    def hops(src):
        dist, frontier = {src: 0}, [src]
        while frontier:
            nxt = []
            for x in frontier:
                for y in adj[x]:
                    if y not in dist:
                        dist[y] = dist[x] + 1
                        nxt.append(y)
            frontier = nxt
        return dist

    dist = {r: hops(r) for r in routers}

    def own(r, carried):
        out = [(s["cidr"], "connected", s["id"], "subnet", None) for s in subnets
               if s["router"] == r]
        out += [(t["destination"], "static", t["target"], t["target_type"], t["id"])
                for t in routes if t["router"] == r and
                not (carried and t["target_type"] == "router")]
        return out

    tables = {}
    for r in routers:
        rows = []
        for dest, origin, target, ttype, rid in own(r, False):
            rows.append((dest, origin, target, ttype, 0 if origin == "connected" else 1, 0,
                         rid))
        for y, h in dist[r].items():
            if y == r:
                continue
            firsts = [n for n in adj[r] if dist[n].get(y) == h - 1]
            for dest, _, _, _, _ in own(y, True):
                for n in firsts:
                    rows.append((dest, "link", n, "router", 20, h, None))
        tables[r] = sorted(rows)
    return tables


@pytest.mark.parametrize("seed", [7, 2024, 99])
def test_random_topologies_match_model(api, admin, seed):
    """Random router graphs (possibly disconnected) with unique destinations: every router's
    table lists exactly the connected, static and shortest-path link routes of the model."""
    import random
    rnd = random.Random(seed)
    t, _ = api.tenant()
    n = api.network(t["id"], cidr="10.0.0.0/8")
    routers = [n["main_router"]] + [api.router(n["id"])["id"] for _ in range(7)]
    links = []
    for i in range(len(routers)):
        for j in range(i + 1, len(routers)):
            if rnd.random() < 0.3:
                api.link(routers[i], routers[j])
                links.append((routers[i], routers[j]))
    subnets, ports, routes = [], [], []
    k = 0
    for r in routers:
        for _ in range(rnd.randint(0, 2)):
            k += 1
            subnets.append(api.subnet(n["id"], "10.0.%d.0/24" % k, router=r))
    for s in subnets[:3]:
        ports.append(api.port(s["id"]))
    k = 0
    for r in routers:
        linked = [b if a == r else a for a, b in links if r in (a, b)]
        choices = ["blackhole"] + [p["id"] for p in ports] + linked
        for _ in range(rnd.randint(0, 2)):
            k += 1
            routes.append(api.route(r, "10.%d.0.0/16" % (100 + k), rnd.choice(choices)))
    want = expected_tables(routers, links, subnets, routes)
    for r in routers:
        got = sorted((i["destination"], i["origin"], i["target"], i["target_type"],
                      i["distance"], i["metric"],
                      i.get("route") if i["origin"] != "link" else None)
                     for i in table(admin, r))
        assert got == want[r], (r, links)
        assert all(i["selected"] for i in table(admin, r))
