r"""Pings and traceroute through the emulated routers (vxlan, IPv4 substrate).

  tenant T, network 10.0.0.0/16

          main  ----------- link -----------  edge
         /     \                               |
   A 10.0.1.0/24  B 10.0.2.0/24           C 10.0.3.0/24
     |      |        |                         |
    a1     a2       b1                        c1
   (h1)   (h2)     (h2)                      (h2)

  10.0.200.0/24 is inside the network's CIDR but in no subnet and no route: no route.
"""

import re

import pytest

from topolab import wait_until

LAB_HOSTS = 2


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    edge = lab.router(net, "edge")
    lab.link(net["main_router"], edge["id"])
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    sc = lab.subnet(net, "10.0.3.0/24", router=edge["id"])
    vms = {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
        "b1": lab.vm(lab.port(sb, "h2"), "b1"),
        "c1": lab.vm(lab.port(sc, "h2"), "c1"),
    }
    vms["gateways"] = [sa["gateway_ip"], sb["gateway_ip"], sc["gateway_ip"]]
    return vms


def _ttls(out):
    return [int(x) for x in re.findall(r"ttl=(\d+)", out)]


def test_same_subnet_across_hosts(topo):
    a1, a2 = topo["a1"], topo["a2"]
    assert a1.host != a2.host
    r = a1.ping(a2.ip, count=3)
    assert r.returncode == 0 and " 3 received" in r.stdout, r.stdout + r.stderr
    # No router on the way: the TTL the peer's kernel set (64) arrives unchanged.
    assert _ttls(r.stdout) == [64, 64, 64], r.stdout
    r = a2.ping(a1.ip, count=2)
    assert " 2 received" in r.stdout, r.stdout


def test_routed_across_hosts(topo):
    a1, b1 = topo["a1"], topo["b1"]
    r = a1.ping(b1.ip, count=3)
    assert r.returncode == 0 and " 3 received" in r.stdout, r.stdout + r.stderr
    assert _ttls(r.stdout) == [63, 63, 63], r.stdout  # one router each way
    r = b1.ping(a1.ip, count=2)
    assert " 2 received" in r.stdout, r.stdout


def test_traceroute_through_two_routers(topo):
    a1, c1 = topo["a1"], topo["c1"]
    r = a1.sh("traceroute", "-n", "-q", "1", "-w", "1", c1.ip, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    hops = [line.split()[1] for line in r.stdout.splitlines()[1:]]
    # main answers from its address on a1's subnet, edge from its own (the gateway of C).
    assert hops == ["10.0.1.1", "10.0.3.1", c1.ip], r.stdout
    r = a1.ping(c1.ip, count=2)
    assert _ttls(r.stdout) == [62, 62], r.stdout


def test_ping_every_router_interface(topo):
    a1 = topo["a1"]
    for gw in topo["gateways"]:
        r = a1.ping(gw, count=1)
        assert r.returncode == 0 and ("bytes from %s:" % gw) in r.stdout, \
            "no echo reply from router address %s:\n%s" % (gw, r.stdout)


def test_no_route_is_net_unreachable(topo, lab):
    a1 = topo["a1"]
    before = lab.drops(a1.host)["no_route"]
    r = a1.ping("10.0.200.5", count=1)
    assert "From 10.0.1.1 icmp_seq=1 Destination Net Unreachable" in r.stdout, r.stdout
    wait_until(lambda: lab.drops(a1.host)["no_route"] == before + 1, 5,
               what="no_route counted once")


def test_unused_address_in_remote_subnet_is_host_unreachable(topo):
    a1 = topo["a1"]
    # Behind main (one router): main answers from its address on the sender's subnet.
    r = a1.ping("10.0.2.200", count=1)
    assert "From 10.0.1.1 icmp_seq=1 Destination Host Unreachable" in r.stdout, r.stdout
    # Behind edge (two routers): edge answers, from its address.
    r = a1.ping("10.0.3.200", count=1)
    assert "From 10.0.3.1 icmp_seq=1 Destination Host Unreachable" in r.stdout, r.stdout


def test_counters_reach_the_api(topo, lab):
    """The agents report their counters to veneerd: a port's rx/tx and the host's drops by
    reason are visible through the API (what veneerctl shows), not only on the control socket."""
    a1, b1 = topo["a1"], topo["b1"]
    before = lab.api.get("/v1/ports/" + a1.port["id"])["counters"] or {"rx": 0, "tx": 0}
    assert b1.ping_ok(a1.ip, count=5, extra=("-i", "0.2"))
    # a1 received 5 echo requests and sent 5 replies; the agent reports every 2 s.
    wait_until(lambda: (lambda c: c and c["tx"] >= before["tx"] + 5 and
                        c["rx"] >= before["rx"] + 5)(
        lab.api.get("/v1/ports/" + a1.port["id"])["counters"]), 10,
        what="a1's counters in the API")
    drops = lab.api.get("/v1/hosts/h1")["agent"]["drops"]
    assert set(drops) >= {"src_mac", "src_ip", "arp_spoof", "no_route", "sub_sender"}, drops
    assert all(isinstance(v, int) and v >= 0 for v in drops.values()), drops
