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
  The VMs' TAPs have TSO and checksum offload on: a1 hands its agent TCP super-frames, the
  agent segments them to the MSS, and a2's agent merges the segments back into super-frames.
"""

import ctypes
import fcntl
import json
import socket
import struct

import pytest

from topolab import in_netns, proc_snmp, wait_until

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


SIOCETHTOOL = 0x8946
ETHTOOL_GTXCSUM = 0x16
ETHTOOL_GTSO = 0x1e


def _ethtool_get(vm, cmd):
    """What `ethtool -k` reads: one ETHTOOL_G* value of the VM's interface (ethtool itself is
    not among the installed packages)."""
    ev = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
    ifr = struct.pack("16sP16x", vm.dev.encode(), ctypes.addressof(ev))
    with in_netns(vm.ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    finally:
        s.close()
    return struct.unpack("II", ev.raw[:8])[1]


def _stats(vm):
    r = vm.sh("ip", "-j", "-s", "link", "show", "dev", vm.dev, check=True)
    return json.loads(r.stdout)[0]["stats64"]


@pytest.mark.parametrize("pair", [("a1", "a2"), ("a1", "b1")], ids=["same_subnet", "routed"])
def test_tcp_with_tap_offloads(topo, lab, pair):
    """TSO is on in the VM; the agents segment and merge: the sending VM hands over far fewer
    frames than the segments its agent sends, the receiving VM gets far fewer frames than
    the segments its agent receives, and nothing is dropped as malformed on the way."""
    client, server = topo[pair[0]], topo[pair[1]]
    for vm in (client, server):
        assert _ethtool_get(vm, ETHTOOL_GTSO) == 1, "TSO off on %s" % vm.dev
        assert _ethtool_get(vm, ETHTOOL_GTXCSUM) == 1, "tx checksum offload off on %s" % vm.dev
    sent0, got0 = _stats(client)["tx"]["packets"], _stats(server)["rx"]["packets"]
    seg0 = lab.port_counters(client.host, client.id)["rx"]
    del0 = lab.port_counters(server.host, server.id)["tx"]
    drops0 = (lab.drops(client.host), lab.drops(server.host))
    out = _iperf(lab, client, server, duration=3)
    assert out["end"]["sum_received"]["bytes"] > 10 << 20, out["end"]
    frames_sent = _stats(client)["tx"]["packets"] - sent0
    frames_got = _stats(server)["rx"]["packets"] - got0
    segs_sent = lab.port_counters(client.host, client.id)["rx"] - seg0
    segs_got = lab.port_counters(server.host, server.id)["tx"] - del0
    assert segs_sent > 2 * frames_sent, (segs_sent, frames_sent)
    assert segs_got > 2 * frames_got, (segs_got, frames_got)
    for before, host in zip(drops0, (client.host, server.host)):
        after = lab.drops(host)
        for reason in ("parse", "sub_decode", "too_big"):
            assert after[reason] == before[reason], (host, reason, before, after)
