"""Deltas: every kind of change made through the API reaches the agents that hold the network
(and only those), as deltas on the live session, and the API shows each agent's
applied_revision reaching the write's X-Veneer-Revision.

  admin --PATCH/POST/DELETE--> veneerd --BEGIN(delta) objects/DELETEs END--> agents h1, h2
"""

import pytest

import agentkit as ak


class Deltas:
    def __init__(self, cluster):
        self.c = cluster
        self.b = cluster.b
        self.v = cluster.veneerd
        self.steps = 0

    def agents(self):
        return [a for a in self.c.agents if a.alive()]

    def check(self, what):
        """After a write: every agent acknowledges it (API) and holds the expected view."""
        rev = self.b.rev
        self.steps += 1
        for a in self.agents():
            h = ak.wait_applied(self.v, a.host, rev)
            assert h["agent"]["applied_revision"] >= rev, (what, h)
            dump, want = ak.wait_view(self.v, a)
            assert dump["state"]["revision"] >= rev, (what, dump["state"]["revision"], rev)
            h = self.v.host(a.host)
            assert h["agent"]["networks"] == len(want["networks"]), (what, h)
        return {a.host: ak.view_of(a.state()) for a in self.agents()}


@pytest.fixture
def deltas(cluster):
    a1 = cluster.agent("h1")
    a2 = cluster.agent("h2")
    d = Deltas(cluster)
    d.a1, d.a2 = a1, a2
    return d


def test_every_change_reaches_the_agents(cluster, deltas):
    d, b, adm = deltas, cluster.b, cluster.admin
    a1, a2 = d.a1, d.a2
    base = {a.host: a.sync() for a in (a1, a2)}

    # A network with no port on any host: nobody holds it.
    ta, tb = b.tenant(), b.tenant()
    n = b.network(ta["id"], "10.0.0.0/16")
    main = ak.main_router(adm, n["id"])
    v = d.check("network created")
    assert v["h1"]["networks"] == {} and v["h2"]["networks"] == {}
    s1 = b.subnet(n["id"], "10.0.1.0/24")
    d.check("subnet created in a network nobody holds")

    # First port on h1: h1 gains the whole network.
    p1 = b.port(s1["id"], host="h1")
    v = d.check("port created on h1")
    assert set(v["h1"]["networks"]) == {n["id"]} and v["h2"]["networks"] == {}
    assert set(v["h1"]["routers"]) == {main["id"]} and set(v["h1"]["subnets"]) == {s1["id"]}

    # Routers: create, rename, change asn.
    r2 = b.router(n["id"], name="edge")
    d.check("router created")
    b.patch("/v1/routers/%s" % r2["id"], {"name": "edge-renamed"})
    d.check("router renamed (nothing the agent keeps changes, the revision does)")
    b.patch("/v1/routers/%s" % r2["id"], {"asn": 65010})
    v = d.check("router asn")
    assert v["h1"]["routers"][r2["id"]]["asn"] == 65010

    # Links and subnets.
    lk = b.link(main["id"], r2["id"])
    v = d.check("link created")
    assert v["h1"]["links"][lk["id"]] == {"network": n["id"], "a": main["id"], "b": r2["id"]}
    s2 = b.subnet(n["id"], "10.0.2.0/24", router=r2["id"])
    d.check("subnet on r2")
    b.patch("/v1/subnets/%s" % s2["id"], {"router": main["id"]})
    v = d.check("subnet moved to main")
    assert v["h1"]["subnets"][s2["id"]]["router"] == main["id"]
    b.patch("/v1/subnets/%s" % s2["id"], {"name": "back"})
    d.check("subnet renamed")

    # A port on h2: h2 gains the network.
    p2 = b.port(s2["id"], host="h2")
    v = d.check("port created on h2")
    assert set(v["h2"]["networks"]) == {n["id"]}
    assert v["h1"]["ports"][p2["id"]]["host"] == "h2"

    # An unbound port, bound, unbound.
    p3 = b.port(s1["id"])
    v = d.check("unbound port")
    assert v["h1"]["ports"][p3["id"]]["host"] == ""
    b.patch("/v1/ports/%s" % p3["id"], {"host": "h1"})
    v = d.check("port bound")
    assert v["h2"]["ports"][p3["id"]]["host"] == "h1"
    b.patch("/v1/ports/%s" % p3["id"], {"host": None})
    d.check("port unbound")

    # Every mutable port field.
    b.patch("/v1/ports/%s" % p1["id"], {"extra_ips": ["10.0.1.100", "10.0.1.101"],
                                         "claimable": ["10.0.50.0/24"],
                                         "source_dest_check": False, "routing": True,
                                         "name": "fw", "device": "tapx1"})
    v = d.check("port fields")
    assert v["h2"]["ports"][p1["id"]]["extra_ips"] == ["10.0.1.100", "10.0.1.101"]
    assert v["h2"]["ports"][p1["id"]]["device"] == "tapx1"
    b.patch("/v1/ports/%s" % p1["id"], {"extra_ips": [], "claimable": [],
                                         "source_dest_check": True, "routing": False})
    v = d.check("port fields back")
    assert v["h1"]["ports"][p1["id"]]["extra_ips"] == []

    # Static routes of every target type, created then deleted.
    rp = b.route(main["id"], "0.0.0.0/0", p1["id"])
    rr = b.route(main["id"], "10.9.0.0/16", r2["id"])
    rb = b.route(r2["id"], "192.168.0.0/16", "blackhole")
    v = d.check("routes created")
    assert {v["h2"]["routes"][x["id"]]["target_type"] for x in (rp, rr, rb)} == \
        {"port", "router", "blackhole"}
    b.delete("/v1/routes/%s" % rr["id"])
    v = d.check("route deleted")
    assert rr["id"] not in v["h1"]["routes"] and rr["id"] not in v["h2"]["routes"]

    # Network CIDRs and name.
    b.patch("/v1/networks/%s" % n["id"], {"cidr": ["10.0.0.0/16", "192.168.100.0/24"]})
    v = d.check("network cidr added")
    assert sorted(v["h1"]["networks"][n["id"]]["cidr"]) == ["10.0.0.0/16", "192.168.100.0/24"]
    b.patch("/v1/networks/%s" % n["id"], {"cidr": ["10.0.0.0/16"]})
    d.check("network cidr removed")
    b.patch("/v1/networks/%s" % n["id"], {"name": ak.uniq("renamed")})
    d.check("network renamed")

    # Hosts: create, change, delete (every agent holds every host).
    b.host("h3")
    v = d.check("host created")
    assert v["h1"]["hosts"]["h3"] == {"encap": "vxlan", "up": False}
    b.patch("/v1/hosts/h3", {"encap": "embed6", "prefix": ak.prefix6()})
    v = d.check("host encap changed")
    assert v["h2"]["hosts"]["h3"]["encap"] == "embed6"
    b.patch("/v1/hosts/h3", {"address": ak.substrate6()})
    d.check("host address changed")
    b.delete("/v1/hosts/h3")
    v = d.check("host deleted")
    assert "h3" not in v["h1"]["hosts"] and "h3" not in v["h2"]["hosts"]

    # Changes in another tenant's identical network, held by nobody: no agent sees them.
    m = b.network(tb["id"], "10.0.0.0/16")
    sm = b.subnet(m["id"], "10.0.1.0/24")
    pm = b.port(sm["id"], ip="10.0.1.2")
    b.patch("/v1/ports/%s" % pm["id"], {"name": "other"})
    v = d.check("other tenant's network")
    assert m["id"] not in v["h1"]["networks"] and m["id"] not in v["h2"]["networks"]

    # Port moved between hosts: h1 loses its last port of n and drops the network whole
    # (routers, links, subnets, ports, routes); h2 keeps it.
    b.patch("/v1/ports/%s" % p1["id"], {"host": "h2"})
    v = d.check("port moved h1 -> h2")
    assert all(v["h1"][k] == {} for k in ("networks", "routers", "links", "subnets", "ports",
                                          "routes")), v["h1"]
    assert set(v["h2"]["networks"]) == {n["id"]}
    assert v["h2"]["ports"][p1["id"]]["host"] == "h2"
    # Changes while h1 does not hold n do not reach h1.
    b.patch("/v1/routers/%s" % r2["id"], {"asn": 65011})
    v = d.check("change in a network h1 dropped")
    assert v["h1"]["routers"] == {}
    # ... and moving it back brings the whole network back, current.
    b.patch("/v1/ports/%s" % p1["id"], {"host": "h1"})
    v = d.check("port moved h2 -> h1")
    assert v["h1"]["routers"][r2["id"]]["asn"] == 65011
    assert set(v["h1"]["routes"]) == {rp["id"], rb["id"]}

    # The other tenant's network gains a port on h1: h1 holds both identical networks.
    pm2 = b.port(sm["id"], host="h1", ip="10.0.1.3")
    v = d.check("second tenant's port on h1")
    assert set(v["h1"]["networks"]) == {n["id"], m["id"]}
    b.delete("/v1/ports/%s" % pm2["id"])
    v = d.check("second tenant's port deleted")
    assert set(v["h1"]["networks"]) == {n["id"]}
    assert not any(o["network"] == m["id"] for k in ("routers", "subnets", "ports")
                   for o in v["h1"][k].values())

    # Deletions of everything, in dependency order.
    b.delete("/v1/routes/%s" % rp["id"])
    b.delete("/v1/routes/%s" % rb["id"])
    d.check("routes deleted")
    b.delete("/v1/links/%s" % lk["id"])
    v = d.check("link deleted")
    assert v["h1"]["links"] == {} and v["h2"]["links"] == {}
    b.delete("/v1/ports/%s" % p2["id"])
    v = d.check("h2's last port deleted")
    assert v["h2"]["networks"] == {} and v["h2"]["ports"] == {} and v["h2"]["routers"] == {}
    b.delete("/v1/subnets/%s" % s2["id"])
    d.check("subnet deleted")
    b.delete("/v1/routers/%s" % r2["id"])
    v = d.check("router deleted")
    assert r2["id"] not in v["h1"]["routers"]
    b.delete("/v1/ports/%s" % p3["id"])
    d.check("unbound port deleted")
    b.delete("/v1/ports/%s" % p1["id"])
    v = d.check("h1's last port deleted")
    assert all(v["h1"][k] == {} for k in ("networks", "routers", "links", "subnets", "ports",
                                          "routes")), v["h1"]
    b.delete("/v1/subnets/%s" % s1["id"])
    b.delete("/v1/networks/%s" % n["id"])
    d.check("network deleted")

    # All of it by delta on one session each.
    for a in (a1, a2):
        s = a.sync()
        assert s["snapshots"] == 1 and s["connects"] == 1 and s["disconnects"] == 0, s
        assert s["deltas"] > base[a.host]["deltas"], s
    assert d.steps >= 39


def test_network_deleted_whole_while_held(cluster, deltas):
    """A network that goes away in one coalesced batch with its last objects: the agent
    drops all of it (the agent is stopped while the deletions are made, so they coalesce)."""
    d, b, adm = deltas, cluster.b, cluster.admin
    t = b.tenant()
    n = b.network(t["id"], "10.1.0.0/16")
    main = ak.main_router(adm, n["id"])
    r2 = b.router(n["id"])
    lk = b.link(main["id"], r2["id"])
    s = b.subnet(n["id"], "10.1.1.0/24", router=r2["id"])
    p = b.port(s["id"], host="h1")
    rt = b.route(r2["id"], "10.2.0.0/16", p["id"])
    v = d.check("network held by h1")
    assert set(v["h1"]["networks"]) == {n["id"]}
    before = d.a1.sync()["deltas"]
    d.a1.proc.send_signal(ak.signal.SIGSTOP)
    try:
        for path in ("/v1/routes/%s" % rt["id"], "/v1/ports/%s" % p["id"],
                     "/v1/subnets/%s" % s["id"], "/v1/links/%s" % lk["id"],
                     "/v1/routers/%s" % r2["id"], "/v1/networks/%s" % n["id"]):
            b.delete(path)
    finally:
        d.a1.proc.send_signal(ak.signal.SIGCONT)
    v = d.check("network deleted")
    assert all(v["h1"][k] == {} for k in ("networks", "routers", "links", "subnets", "ports",
                                          "routes")), v["h1"]
    # At most the batch in flight when it stopped, and one coalesced batch after it.
    assert d.a1.sync()["deltas"] - before <= 2, d.a1.sync()
