r"""The embed6 substrate: no encapsulation, the IPv4 packet translated into an IPv6 one
whose addresses name the sending and receiving ports (host prefix | slot | VNID | IPv4),
routed by a plain IPv6 router that knows one route per host prefix and nothing of networks.

   substrate:  h1 (fd10:K:100::/56) ---- IPv6 router ---- h2 (fd10:K:200::/56)

  tenant T, 10.0.0.0/16:  main -- link -- edge        tenant U, the same 10.0.0.0/16:
        A 10.0.1.0/24 on main, C 10.0.3.0/24 on edge        A' 10.0.1.0/24
        a1 (h1)  a2 (h2)       c1 (h2)                      u1 (h1)  u2 (h2)
"""

import subprocess

import pytest

from topolab import wait_until

LAB_HOSTS = 2
LAB_ENCAP = "embed6"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    edge = lab.router(net, "edge")
    lab.link(net["main_router"], edge["id"])
    sa = lab.subnet(net, "10.0.1.0/24")
    sc = lab.subnet(net, "10.0.3.0/24", router=edge["id"])
    u = lab.tenant()
    unet = lab.network(u, "10.0.0.0/16")
    su = lab.subnet(unet, "10.0.1.0/24")
    return {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2", dhcp="udhcpc"),
        "c1": lab.vm(lab.port(sc, "h2"), "c1"),
        "u1": lab.vm(lab.port(su, "h1"), "u1"),
        "u2": lab.vm(lab.port(su, "h2"), "u2"),
    }


def test_hosts_registered_as_embed6(topo, lab):
    for h in ("h1", "h2"):
        host = lab.api.get("/v1/hosts/" + h)
        assert host["encap"] == "embed6" and host["prefix"].endswith("/56"), host
        assert host["agent"]["connected"], host


def test_same_subnet_across_hosts(topo):
    a1, a2 = topo["a1"], topo["a2"]
    out = a1.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", a2.ip).stdout
    assert " 0% packet loss" in out, out
    # The substrate router is a hop: TTL is carried in the hop limit (design brief).
    assert "ttl=63" in out, out


def test_routed_across_hosts_and_traceroute(topo):
    a1, c1 = topo["a1"], topo["c1"]
    assert a1.ping_ok(c1.ip, count=3, extra=("-i", "0.2"))
    out = a1.sh("traceroute", "-n", "-q", "1", "-w", "1", c1.ip).stdout
    lines = out.splitlines()[1:]
    assert lines[0].split()[1] == "10.0.1.1" and lines[1].split()[1] == "10.0.3.1", out
    assert lines[-1].split()[1] == c1.ip, out


def test_translation_is_on_the_wire(topo, lab):
    """Between the hosts travel IPv6 packets (next header ICMPv6), not VXLAN."""
    a1, a2 = topo["a1"], topo["a2"]
    sniff = subprocess.Popen(["ip", "netns", "exec", lab.name + "-h2", "timeout", "5",
                              "tcpdump", "-n", "-l", "-i", "eth0", "-c", "2",
                              "ip6 and icmp6 and not ip6[40] >= 133"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_until(lambda: a1.ping_ok(a2.ip, count=1) and sniff.poll() is not None, 10,
                   what="two translated packets seen on h2's substrate link")
    finally:
        if sniff.poll() is None:
            sniff.kill()
    out = sniff.stdout.read()
    assert "fd10:" in out and ("echo request" in out or "echo reply" in out), out


def test_overlapping_tenants_isolated(topo, lab):
    a1, a2, u1, u2 = topo["a1"], topo["a2"], topo["u1"], topo["u2"]
    assert a1.ip == u1.ip and a2.ip == u2.ip  # the same addresses on the same hosts
    assert a1.ping_ok(a2.ip, count=2) and u1.ping_ok(u2.ip, count=2)
    before = lab.port_counters("h2", u2.port["id"])["tx"]
    assert a1.ping_ok(a2.ip, count=5, extra=("-i", "0.1"))
    assert lab.port_counters("h2", u2.port["id"])["tx"] == before


def test_ipv4_fragments_arrive_whole(topo):
    """A 3000-byte UDP datagram leaves a1 as IPv4 fragments, crosses the substrate as IPv6
    packets with fragment headers, and reaches a2's socket whole."""
    a1, a2 = topo["a1"], topo["a2"]
    server = a2.popen("/usr/bin/python3", "-c",
                      "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                      "s.bind(('0.0.0.0', 9999)); s.settimeout(10); "
                      "d, _ = s.recvfrom(65535); print(len(d), d == bytes(range(256)) * 11 + "
                      "bytes(range(184)))", stdout=subprocess.PIPE, text=True)
    payload = "bytes(range(256)) * 11 + bytes(range(184))"  # 3000 bytes
    wait_until(lambda: a2.sh("ss", "-uln").stdout.count(":9999") > 0, 5, what="server up")
    a1.sh("/usr/bin/python3", "-c",
          "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
          "s.sendto(%s, ('%s', 9999))" % (payload, a2.ip), check=True)
    out, _ = server.communicate(timeout=15)
    assert out.split() == ["3000", "True"], out


def test_df_too_big_for_the_substrate_gets_frag_needed(topo, lab):
    """A VM that raises its own MTU past what the substrate carries: a DF packet gets ICMP
    fragmentation-needed with the MTU that fits (1500 - 20 bytes of translation)."""
    a1, a2 = topo["a1"], topo["a2"]
    a1.sh("ip", "link", "set", "dev", a1.dev, "mtu", "3000", check=True)
    try:
        r = a1.sh("ping", "-c", "1", "-W", "2", "-M", "do", "-s", "2000", a2.ip)
        assert "Frag needed and DF set (mtu = 1480)" in r.stdout, r.stdout
        assert "10.0.1.1" in r.stdout, r.stdout  # from the router, as a real one would
        assert lab.drops("h1")["too_big"] >= 1
    finally:
        a1.sh("ip", "link", "set", "dev", a1.dev, "mtu", "1472", check=True)
    assert a1.ping_ok(a2.ip, count=1)
