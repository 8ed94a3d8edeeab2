r"""iperf3 between VMs on different hosts, and the overlay MTU (1450) without fragmentation.

  tenant T, network 10.0.0.0/16
                    main
                  /      \
       A 10.0.1.0/24      B 10.0.2.0/24
        |         |          |
       a1        a2         b1
      (h1)      (h2)       (h2)

  same subnet: a1 -> a2    routed: a1 -> b1 (through main)
  The substrate is a plain 1500-byte Ethernet bridge: a 1450-byte overlay packet plus 50 bytes
  of VXLAN/UDP/IPv4 fills it exactly, and nothing may be fragmented anywhere.
"""

import json

import pytest

from topolab import proc_snmp, wait_until

LAB_HOSTS = 2
FRAG_COUNTERS = ("FragCreates", "FragOKs", "FragFails", "ReasmReqds", "ReasmFails")


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    return {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "a2": lab.vm(lab.port(sa, "h2"), "a2"),
        "b1": lab.vm(lab.port(sb, "h2"), "b1"),
    }


def _frag_counters(lab, vms):
    """Fragmentation counters of every host namespace and of the VMs involved."""
    spaces = ["%s-h%d" % (lab.name, i) for i in range(1, lab.hosts + 1)] + [v.ns for v in vms]
    return {ns: {k: proc_snmp(ns)[k] for k in FRAG_COUNTERS} for ns in spaces}


def _iperf(lab, client, server, *args, duration):
    before = _frag_counters(lab, [client, server])
    srv = server.popen("iperf3", "-s", "-1", "-B", server.ip, "-J")
    wait_until(lambda: ":5201 " in server.sh("ss", "-Hltn").stdout, 5, what="iperf3 server")
    r = client.sh("iperf3", "-c", server.ip, "-t", str(duration), "-J", *args,
                  timeout=duration + 30)
    srv.wait(15)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and "error" not in out, r.stdout[-2000:] + r.stderr
    assert _frag_counters(lab, [client, server]) == before, "something was fragmented"
    return out


@pytest.mark.parametrize("pair", [("a1", "a2"), ("a1", "b1")], ids=["same_subnet", "routed"])
def test_tcp(topo, lab, pair):
    client, server = topo[pair[0]], topo[pair[1]]
    assert client.host != server.host
    out = _iperf(lab, client, server, duration=5)
    end = out["end"]
    assert end["sum_received"]["bits_per_second"] > 0, end
    assert end["sum_received"]["bytes"] > 0, end


@pytest.mark.parametrize("pair", [("a1", "a2"), ("a1", "b1")], ids=["same_subnet", "routed"])
def test_udp(topo, lab, pair):
    client, server = topo[pair[0]], topo[pair[1]]
    out = _iperf(lab, client, server, "-u", "-b", "100M", duration=3)
    s = out["end"]["sum"]
    assert s["packets"] > 1000, s
    assert s["lost_percent"] < 5.0, s


@pytest.mark.parametrize("dst", ["a2", "b1"], ids=["same_subnet", "routed"])
def test_path_mtu_1450_without_fragmentation(topo, lab, dst):
    a1, peer = topo["a1"], topo[dst]
    before = _frag_counters(lab, [a1, peer])
    # 1422 bytes of ICMP data + 8 + 20 = 1450: fits, with DF set.
    r = a1.ping(peer.ip, count=3, extra=("-M", "do", "-s", "1422"))
    assert " 3 received" in r.stdout, r.stdout + r.stderr
    # One more byte does not fit the VM's interface: refused locally, never sent.
    r = a1.ping(peer.ip, count=1, extra=("-M", "do", "-s", "1423"))
    assert r.returncode != 0
    assert "message too long, mtu=1450" in r.stdout + r.stderr, r.stdout + r.stderr
    assert _frag_counters(lab, [a1, peer]) == before


@pytest.mark.parametrize("dst", ["a2", "b1"], ids=["same_subnet", "routed"])
def test_fragmented_datagrams_from_a_vm_are_carried(topo, dst):
    """A VM may fragment its own datagrams (ping -s 3000 at MTU 1450: three fragments); the
    fragments are ordinary IPv4 packets for the agents and the peer reassembles them."""
    a1, peer = topo["a1"], topo[dst]
    r = a1.ping(peer.ip, count=2, extra=("-s", "3000"))
    assert " 2 received" in r.stdout and "3008 bytes from" in r.stdout, r.stdout + r.stderr
