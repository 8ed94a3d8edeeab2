r"""Two tenants with the same addresses (and even the same MACs) on the same hosts.

  tenant X, network 10.0.0.0/16          tenant Y, network 10.0.0.0/16
     A 10.0.1.0/24 (main)                   A 10.0.1.0/24 (main)
      |              |                       |              |
     x1             x2                      y1             y2
   10.0.1.10      10.0.1.11               10.0.1.10      10.0.1.11
   02:00:0a:00:01:0a  ..:0b               02:00:0a:00:01:0a  ..:0b
    (h1)           (h2)                    (h1)           (h2)

  Only the VNI tells the two tenants apart on the substrate. Each tenant floods its own peer
  with its own ping pattern (X: 0xaa, Y: 0xbb) at the same time; sniffers in all four VMs prove
  that no frame of one tenant ever reaches the other's VMs.
"""

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether

from topolab import Sniffer

LAB_HOSTS = 2
MACS = {"10.0.1.10": "02:00:0a:00:01:0a", "10.0.1.11": "02:00:0a:00:01:0b"}
FLOOD = 2000


@pytest.fixture(scope="module")
def topo(lab):
    vms = {}
    nets = []
    for tn in ("x", "y"):
        net = lab.network(lab.tenant(), "10.0.0.0/16")
        nets.append(net)
        sub = lab.subnet(net, "10.0.1.0/24")
        for i, (ip, host) in enumerate((("10.0.1.10", "h1"), ("10.0.1.11", "h2")), 1):
            vms["%s%d" % (tn, i)] = lab.vm(lab.port(sub, host, ip=ip, mac=MACS[ip]),
                                           "%s%d" % (tn, i))
    assert nets[0]["vnid"] != nets[1]["vnid"]
    return vms


def _icmp_patterns(frames):
    """Counts of ICMP echo requests/replies by payload pattern byte."""
    out = {}
    for raw in frames:
        p = Ether(raw)
        if ICMP not in p or IP not in p:
            continue
        data = bytes(p[ICMP].payload)
        for pat in (0xaa, 0xbb):
            if bytes([pat]) * 16 in data:
                key = (pat, "request" if p[ICMP].type == 8 else "reply" if p[ICMP].type == 0
                       else "other")
                out[key] = out.get(key, 0) + 1
    return out


def test_addresses_and_macs_really_overlap(topo):
    x1, y1, x2, y2 = topo["x1"], topo["y1"], topo["x2"], topo["y2"]
    assert (x1.ip, x1.mac, x1.host) == (y1.ip, y1.mac, y1.host)
    assert (x2.ip, x2.mac, x2.host) == (y2.ip, y2.mac, y2.host)
    assert x1.dev != y1.dev


def test_each_tenant_pings_its_own_peer(topo):
    for a, b in (("x1", "x2"), ("x2", "x1"), ("y1", "y2"), ("y2", "y1")):
        r = topo[a].ping(topo[b].ip, count=2)
        assert " 2 received" in r.stdout, "%s -> %s:\n%s" % (a, b, r.stdout)


def test_simultaneous_floods_never_cross_tenants(topo):
    sniffers = {n: Sniffer(topo[n]) for n in ("x1", "x2", "y1", "y2")}
    try:
        px = topo["x1"].popen("ping", "-n", "-q", "-f", "-c", str(FLOOD), "-w", "30", "-s", "64",
                              "-p", "aa", topo["x2"].ip)
        py = topo["y1"].popen("ping", "-n", "-q", "-f", "-c", str(FLOOD), "-w", "30", "-s", "64",
                              "-p", "bb", topo["y2"].ip)
        outx, _ = px.communicate(timeout=60)
        outy, _ = py.communicate(timeout=60)
    finally:
        seen = {n: _icmp_patterns(s.stop()) for n, s in sniffers.items()}
    assert px.returncode == 0 and "%d received" % FLOOD in outx, outx
    assert py.returncode == 0 and "%d received" % FLOOD in outy, outy
    # Each tenant's frames arrive where they should ...
    assert seen["x2"].get((0xaa, "request")) == FLOOD, seen
    assert seen["x1"].get((0xaa, "reply")) == FLOOD, seen
    assert seen["y2"].get((0xbb, "request")) == FLOOD, seen
    assert seen["y1"].get((0xbb, "reply")) == FLOOD, seen
    # ... and never in the other tenant's VMs.
    for n in ("x1", "x2"):
        assert not [k for k in seen[n] if k[0] == 0xbb], "tenant Y frames in %s: %s" % (n, seen)
    for n in ("y1", "y2"):
        assert not [k for k in seen[n] if k[0] == 0xaa], "tenant X frames in %s: %s" % (n, seen)
