"""Snapshot content: what an agent holds right after registering is exactly the state of the
networks with a port on its host (all their routers, links, subnets, ports and routes), and
every host; nothing of any other network, of its own tenant or another (topo.py).
"""

import agentkit as ak
import topo


def test_snapshot_matches_api(cluster):
    b = cluster.b
    addr = {n: ak.substrate4() for n in ("h1", "h2", "h3")}
    for n in ("h1", "h2", "h3"):
        b.host(n, address=addr[n])
    t = topo.build(b, "h1", "h2")

    # h1 last: its whole view then comes from its snapshot alone (no delta after it).
    a3 = cluster.agent("h3", address=addr["h3"])
    a2 = cluster.agent("h2", address=addr["h2"])
    a1 = cluster.agent("h1", address=addr["h1"])

    views = {}
    for a in (a1, a2, a3):
        dump, want = ak.wait_view(cluster.veneerd, a)
        views[a.host] = dump
        assert dump["sync"]["snapshots"] == 1 and dump["sync"]["connects"] == 1, dump["sync"]
        # Counts agree with the maps.
        assert dump["state"]["counts"] == ak.counts_of(ak.view_of(dump)), dump["state"]["counts"]
        assert set(dump["state"]["hosts"]) == {"h1", "h2", "h3"}
        assert all(h["up"] for h in dump["state"]["hosts"].values()), dump["state"]["hosts"]
    # h1's view came from its snapshot only.
    s1 = a1.status()
    assert s1["sync"]["deltas"] == 0, s1["sync"]

    # Exactly the networks with a port on the host.
    assert set(views["h1"]["state"]["networks"]) == t["want_nets"]["h1"]
    assert set(views["h2"]["state"]["networks"]) == t["want_nets"]["h2"]
    assert views["h3"]["state"]["networks"] == {}
    for kind in ("routers", "links", "subnets", "ports", "routes"):
        assert views["h3"]["state"][kind] == {}, kind

    # Tenant isolation on the agent side: nothing of a network it must not have.
    for host, dump in views.items():
        allowed = t["want_nets"].get(host, set())
        for kind in ("routers", "links", "subnets", "ports", "routes"):
            for oid, obj in dump["state"][kind].items():
                assert obj["network"] in allowed, (host, kind, oid, obj)
    assert t["b2"]["id"] not in views["h1"]["state"]["networks"]
    assert t["b2"]["id"] not in views["h2"]["state"]["networks"]

    # The same address in two tenants' networks: both present on h1, each in its network.
    same_ip = [p for p in views["h1"]["state"]["ports"].values() if p["ip"] == "10.0.1.10"]
    assert sorted(p["network"] for p in same_ip) == sorted([t["a1"]["id"], t["b3"]["id"]])

    # Field by field on the interesting objects (wait_view compared everything; these say
    # what the fields must be, independently of the API's view).
    st = views["h1"]["state"]
    p1 = st["ports"][t["p1"]["id"]]
    assert p1 == {"network": t["a1"]["id"], "subnet": t["s1"]["id"], "host": "h1",
                  "mac": t["p1"]["mac"], "ip": "10.0.1.10", "device": "tapfw0",
                  "source_dest_check": False, "routing": True,
                  "extra_ips": ["10.0.1.11", "10.0.1.12"],
                  "claimable": ["10.0.200.0/24", "172.16.0.128/25"], "vips": []}, p1
    assert st["ports"][t["p3"]["id"]]["host"] == ""          # unbound, still sent
    assert st["ports"][t["p2"]["id"]]["host"] == "h2"        # another host's port
    assert st["ports"][t["p2"]["id"]]["source_dest_check"] is True
    assert st["ports"][t["p2"]["id"]]["routing"] is False
    assert sorted(st["networks"][t["a1"]["id"]]["cidr"]) == ["10.0.0.0/16", "172.16.0.0/24"]
    assert st["networks"][t["a1"]["id"]]["vnid"] == t["a1"]["vnid"]
    assert st["routers"][t["r2"]["id"]]["asn"] == 65001
    assert st["routers"][t["r3"]["id"]]["mac"] == "02:00:00:00:aa:03"
    assert st["routers"][t["a1_main"]["id"]]["main"] is True
    assert st["routers"][t["r2"]["id"]]["main"] is False
    assert st["subnets"][t["s2"]["id"]] == {"network": t["a1"]["id"], "router": t["r2"]["id"],
                                            "cidr": "10.0.2.0/24"}
    types = sorted(r["target_type"] for r in st["routes"].values()
                   if r["network"] == t["a1"]["id"])
    assert types == ["blackhole", "blackhole", "port", "router", "router", "router"], types
    bh = [r for r in st["routes"].values() if r["target_type"] == "blackhole"]
    assert all(r["target"] == "blackhole" for r in bh), bh
    assert len(st["links"]) == 2

    # The API's view of the sessions agrees.
    for a in (a1, a2, a3):
        h = cluster.veneerd.host(a.host)
        assert h["agent"]["connected"] is True
        assert h["agent"]["networks"] == len(t["want_nets"].get(a.host, ())), h


def test_snapshot_hosts_embed6(cluster):
    """Every host is in every view, with its encap and up/down state."""
    b = cluster.b
    off = b.host(encap="embed6", prefix=ak.prefix6(), address=ak.substrate6())
    e6 = cluster.agent(address=ak.substrate6(), encap="embed6", prefix=ak.prefix6(64))
    v4 = cluster.agent()
    dump, _ = ak.wait_view(cluster.veneerd, v4)
    hosts = dump["state"]["hosts"]
    assert hosts[off["name"]] == {"encap": "embed6", "up": False}, hosts
    assert hosts[e6.host] == {"encap": "embed6", "up": True}, hosts
    assert hosts[v4.host] == {"encap": "vxlan", "up": True}, hosts
    ak.wait_view(cluster.veneerd, e6)
