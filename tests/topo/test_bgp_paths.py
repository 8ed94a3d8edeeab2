r"""Paths chosen by BGP: an appliance between two subnets, and ECMP with failover.

  tenant T, network 10.0.0.0/16 (import policy: allow_subnet_override), router main AS 64512

        A 10.0.1.0/24                          B 10.0.2.0/24
        |        |                              |        |
       a1       fw.a ===== fw (ExaBGP) ===== fw.b       b1
      (h1)      (h2)   forwards A <-> B       (h2)      (h1)
                 |                                       |
            session with 10.0.1.1:               session with 10.0.2.1:
            "10.0.2.0/24 via fw.a"               "10.0.1.0/24 via fw.b"

        C 10.0.3.0/24: e1 (h1), e2 (h2): BIRD, AS 65011 and 65012, both announce
        10.60.0.0/24 (each holds 10.60.0.1 on its loopback)

  The patents' firewall example: once fw announces each subnet to the other side, traffic
  between a1 and b1 crosses fw (seen on both of its interfaces); when its sessions go,
  traffic is direct again. Two appliances with equal paths are an ECMP set: flows spread
  over both; when one stops, all go to the other.
"""

import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from peers import Bird, Exabgp
from topolab import Sniffer, wait_until

LAB_HOSTS = 2
ASN = 64512
ANYCAST = "10.60.0.1"


def second_port(lab, vm, subnet, ip):
    """Gives VM a second interface: a port of `subnet` on the same host, static address."""
    port = lab.port(subnet, vm.host, routing=True, source_dest_check=False, ip=ip)
    out = lab.agent_ctl(vm.host, "attach %s /run/netns/%s" % (port["id"], vm.ns))
    assert out.get("attached") == port["id"], out
    wait_until(lambda: vm.sh("ip", "link", "show", port["device"]).returncode == 0, 10,
               what="the second TAP in %s" % vm.ns)
    vm.sh("ip", "addr", "add", ip + "/24", "dev", port["device"], check=True)
    vm.sh("ip", "link", "set", port["device"], "up", check=True)
    return port


def selected(lab, router, prefix):
    items = lab.api.get("/v1/routers/%s/routes" % router)["items"]
    return sorted((r["origin"], r["target"]) for r in items
                  if r["destination"] == prefix and r["selected"])


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    net = lab.api.patch("/v1/networks/" + net["id"],
                        {"import_policy": {"allow_subnet_override": True}})
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    sc = lab.subnet(net, "10.0.3.0/24")
    fw = lab.vm(lab.port(sa, "h2", routing=True, source_dest_check=False, ip="10.0.1.10"),
                "fw")
    fwb = second_port(lab, fw, sb, "10.0.2.10")
    fw.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
    vms = {"fw": fw, "a1": lab.vm(lab.port(sa, "h1"), "a1"),
           "b1": lab.vm(lab.port(sb, "h1"), "b1")}
    for name, host in (("e1", "h1"), ("e2", "h2")):
        vms[name] = lab.vm(lab.port(sc, host, routing=True, source_dest_check=False), name)
        vms[name].sh("ip", "addr", "add", ANYCAST + "/32", "dev", "lo", check=True)
    daemons = {}
    try:
        daemons["fw"] = Exabgp(fw.ns, lab.peer_dir("fw"), "10.0.1.10", 65010, neighbors=[
            {"ip": "10.0.1.1", "asn": ASN, "local_ip": "10.0.1.10"},
            {"ip": "10.0.2.1", "asn": ASN, "local_ip": "10.0.2.10"}]).start()
        for name, asn in (("e1", 65011), ("e2", 65012)):
            daemons[name] = Bird(vms[name].ns, lab.peer_dir(name), vms[name].ip, asn,
                                 neighbors=[{"ip": "10.0.3.1", "asn": ASN}],
                                 announce=["10.60.0.0/24"]).start()
        yield {"net": net, "router": net["main_router"], "vms": vms, "fwb": fwb,
               "daemons": daemons}
    finally:
        for d in daemons.values():
            d.stop()


def _icmp_seen(frames, src, dst):
    out = 0
    for f in frames:
        p = Ether(f)
        if IP in p and p[IP].src == src and p[IP].dst == dst and p[IP].proto == 1:
            out += 1
    return out


def test_firewall_inserts_itself_between_subnets(topo, lab):
    fw, a1, b1 = topo["vms"]["fw"], topo["vms"]["a1"], topo["vms"]["b1"]
    exa = topo["daemons"]["fw"]
    exa.wait_established("10.0.1.1", timeout=60)
    exa.wait_established("10.0.2.1", timeout=60)
    assert a1.ping_ok(b1.ip, count=1, wait=2)
    # Direct first: nothing of a1 -> b1 crosses fw.
    with Sniffer(fw) as s:
        assert a1.ping_ok(b1.ip, count=3, wait=2)
        assert _icmp_seen(s.stop(), a1.ip, b1.ip) == 0
    exa.announce("10.0.2.0/24", neighbor="10.0.1.1", nexthop="10.0.1.10")
    exa.announce("10.0.1.0/24", neighbor="10.0.2.1", nexthop="10.0.2.10")
    wait_until(lambda: selected(lab, topo["router"], "10.0.2.0/24") ==
               [("bgp", fw.id)], 30, what="10.0.2.0/24 via fw")
    wait_until(lambda: selected(lab, topo["router"], "10.0.1.0/24") ==
               [("bgp", topo["fwb"]["id"])], 30, what="10.0.1.0/24 via fw's B port")
    lab.wait_applied(lab.api.get("/v1/networks/" + topo["net"]["id"])["revision"])
    # Now a1's echo requests enter fw on its A side (fw.a sees them arrive).
    wait_until(lambda: a1.ping_ok(b1.ip, count=1, wait=2), 20, what="a1 -> b1 through fw")
    with Sniffer(fw) as s:
        assert a1.ping_ok(b1.ip, count=3, wait=2)
        seen = _icmp_seen(s.stop(), a1.ip, b1.ip)
    assert seen >= 3, "a1's packets to b1 did not pass through the firewall"
    # The appliance really is on the path: with forwarding off, a1 no longer reaches b1.
    fw.sh("sysctl", "-qw", "net.ipv4.ip_forward=0", check=True)
    assert not a1.ping_ok(b1.ip, count=2, wait=1)
    fw.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
    # The sessions end: the learned routes go and traffic is direct again.
    exa.shutdown_neighbor("10.0.1.1")
    exa.shutdown_neighbor("10.0.2.1")
    for pfx in ("10.0.1.0/24", "10.0.2.0/24"):
        wait_until(lambda: [o for o, _ in selected(lab, topo["router"], pfx)] ==
                   ["connected"], 30, what="%s connected again" % pfx)
    fw.sh("sysctl", "-qw", "net.ipv4.ip_forward=0", check=True)
    wait_until(lambda: a1.ping_ok(b1.ip, count=1, wait=1), 20, what="a1 -> b1 direct again")


def _udp_flows(vm, dst, n=64, port=9):
    """n UDP datagrams from n source ports (n flows), sent from inside the VM."""
    code = ("import socket\n"
            "for i in range(%d):\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    s.bind(('', 20000 + i)); s.sendto(b'x', ('%s', %d)); s.close()\n"
            % (n, dst, port))
    vm.sh("/usr/bin/python3", "-c", code, check=True)


def _udp_to(frames, dst):
    return sum(1 for f in frames if IP in Ether(f) and Ether(f)[IP].dst == dst and
               UDP in Ether(f))


def test_ecmp_then_failover(topo, lab):
    e1, e2, a1 = topo["vms"]["e1"], topo["vms"]["e2"], topo["vms"]["a1"]
    for name in ("e1", "e2"):
        topo["daemons"][name].wait_established("10.0.3.1", timeout=60)
    wait_until(lambda: selected(lab, topo["router"], "10.60.0.0/24") ==
               sorted([("bgp", e1.id), ("bgp", e2.id)]), 30, what="an ECMP pair")
    lab.wait_applied(lab.api.get("/v1/networks/" + topo["net"]["id"])["revision"])
    with Sniffer(e1) as s1, Sniffer(e2) as s2:
        _udp_flows(a1, ANYCAST)
        wait_until(lambda: _udp_to(s1.frames(), ANYCAST) + _udp_to(s2.frames(), ANYCAST)
                   >= 64, 10, what="all 64 flows delivered")
        n1, n2 = _udp_to(s1.stop(), ANYCAST), _udp_to(s2.stop(), ANYCAST)
    assert n1 > 0 and n2 > 0 and n1 + n2 == 64, (n1, n2)
    # e1 goes away (BIRD stops: Cease), its path is withdrawn, everything goes to e2.
    t0 = time.monotonic()
    topo["daemons"]["e1"].stop()
    wait_until(lambda: selected(lab, topo["router"], "10.60.0.0/24") == [("bgp", e2.id)],
               30, what="e2 alone")
    lab.wait_applied(lab.api.get("/v1/networks/" + topo["net"]["id"])["revision"])
    elapsed = time.monotonic() - t0
    with Sniffer(e1) as s1, Sniffer(e2) as s2:
        _udp_flows(a1, ANYCAST)
        wait_until(lambda: _udp_to(s2.frames(), ANYCAST) >= 64, 10, what="all flows at e2")
        assert _udp_to(s1.stop(), ANYCAST) == 0
        s2.stop()
    assert elapsed < 10, "failover took %.1f s" % elapsed
    assert a1.ping_ok(ANYCAST, count=1, wait=2)
