r"""Steering to an appliance by a static route, and source/destination checking.

  tenant T, network 10.0.0.0/16
                     main   static route 10.0.9.0/24 -> port of "app"
                   /      \
       A 10.0.1.0/24       B 10.0.2.0/24
        |        |            |
       a1       a2           app (appliance: one port)
      (h1)     (h2)          (h2)

  Traffic from A to 10.0.9.5 follows the route to app's port. While app's port has
  source_dest_check on, it may receive only its own addresses: nothing for 10.0.9.5 reaches it,
  whether the sender is on another host (a1) or on the appliance's host (a2). With the check
  off, the packets arrive with their destination (10.0.9.5) unchanged.
"""

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether

from topolab import Sniffer, wait_until

LAB_HOSTS = 2
TARGET = "10.0.9.5"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    app = lab.vm(lab.port(sb, "h2"), "app")
    route = lab.api.post("/v1/routes", {"router": net["main_router"],
                                        "destination": "10.0.9.0/24", "target": app.id})
    lab.wait_applied(route["revision"])
    return {
        "net": net, "route": route, "app": app,
        "main": lab.api.get("/v1/routers/" + net["main_router"]),
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
    }


def _to_target(frames):
    """The frames (parsed) whose IPv4 destination is TARGET."""
    parsed = [Ether(f) for f in frames]
    return [p for p in parsed if IP in p and p[IP].dst == TARGET]


def _total_drops(lab, host):
    return sum(lab.drops(host).values())


def test_static_route_targets_the_appliance(topo, lab):
    routes = lab.api.get("/v1/routers/%s/routes" % topo["main"]["id"])["items"]
    sel = [r for r in routes if r["destination"] == "10.0.9.0/24"]
    assert [(r["origin"], r["target"], r["target_type"], r["selected"]) for r in sel] == \
        [("static", topo["app"].id, "port", True)], routes


def test_checked_appliance_receives_nothing_from_another_host(topo, lab):
    a1, app = topo["a1"], topo["app"]
    assert app.port["source_dest_check"] is True and a1.host != app.host
    before = lab.drops(app.host)["sub_receiver"]
    with Sniffer(app) as sn:
        a1.ping(TARGET, count=3)
        wait_until(lambda: lab.drops(app.host)["sub_receiver"] >= before + 3, 5,
                   what="sub_receiver counted on the appliance's host")
        got = _to_target(sn.frames())
    assert got == [], "the checked appliance received traffic for %s" % TARGET


def test_checked_appliance_receives_nothing_from_its_own_host(topo, lab):
    a2, app = topo["a2"], topo["app"]
    assert a2.host == app.host
    before = _total_drops(lab, app.host)
    with Sniffer(app) as sn:
        a2.ping(TARGET, count=3)
        wait_until(lambda: _total_drops(lab, app.host) >= before + 3 or
                   _to_target(sn.frames()), 5, what="a drop counted or a delivery")
        got = _to_target(sn.frames())
    assert got == [], "the checked appliance received %d packets for %s" % (len(got), TARGET)
    assert _total_drops(lab, app.host) >= before + 3


def test_unchecked_appliance_receives_with_destination_unchanged(topo, lab):
    a1, a2, app = topo["a1"], topo["a2"], topo["app"]
    p = lab.api.patch("/v1/ports/" + app.id, {"source_dest_check": False})
    assert p["source_dest_check"] is False
    lab.wait_applied(p["revision"])
    before = lab.drops(app.host)["sub_receiver"]
    with Sniffer(app) as sn:
        a1.ping(TARGET, count=3)
        a2.ping(TARGET, count=3)
        got = wait_until(lambda: len(_to_target(sn.frames())) >= 6 and _to_target(sn.frames()),
                         5, what="6 packets for %s at the appliance" % TARGET)
    assert len(got) == 6, [g.summary() for g in got]
    assert sorted(g[IP].src for g in got) == sorted([a1.ip] * 3 + [a2.ip] * 3)
    for g in got:
        assert g[IP].dst == TARGET and g[ICMP].type == 8
        assert g[IP].ttl == 63, "one router on the way (main)"
        # Delivered to the appliance's MAC, from the router of its subnet.
        assert (g.dst, g.src) == (app.mac, topo["main"]["mac"]), g.summary()
    assert lab.drops(app.host)["sub_receiver"] == before
