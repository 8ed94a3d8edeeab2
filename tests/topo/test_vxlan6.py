r"""VXLAN over an IPv6 substrate, and what the wire carries, as Wireshark decodes it.

   substrate:  h1 (fd00:0:K:1::2) ---- IPv6 router ---- h2 (fd00:0:K:2::2)

  tenant T, 10.0.0.0/16, subnet A 10.0.1.0/24:  a1 (h1)  a2 (h2)
"""

import subprocess

import pytest

from topolab import wait_until

LAB_HOSTS = 2
LAB_SUBSTRATE = "ipv6"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    return {"net": net, "a1": lab.vm(lab.port(sa, "h1"), "a1"),
            "a2": lab.vm(lab.port(sa, "h2"), "a2")}


def test_ping_and_mtu(topo):
    a1, a2 = topo["a1"], topo["a2"]
    assert a1.ping_ok(a2.ip, count=3, extra=("-i", "0.2"))
    # 70 bytes of VXLAN over IPv6 on a 1500-byte substrate: the VM's MTU is 1430.
    assert a1.link()["mtu"] == 1430, a1.link()
    assert a1.ping_ok(a2.ip, count=1, extra=("-M", "do", "-s", "1402"))


def test_tshark_decodes_vxlan(topo, lab):
    """tshark on h2's substrate link sees VXLAN over IPv6 with the network's VNID and, inside,
    an Ethernet frame from a1's port MAC to a2's port MAC carrying the ping."""
    a1, a2 = topo["a1"], topo["a2"]
    cap = subprocess.Popen(
        ["ip", "netns", "exec", lab.name + "-h2", "timeout", "10", "tshark", "-l", "-n",
         "-i", "eth0", "-c", "2", "-f", "udp port 4789", "-Y", "vxlan && icmp.type == 8",
         "-T", "fields", "-e", "ipv6.src", "-e", "vxlan.vni", "-e", "eth.src", "-e", "eth.dst",
         "-e", "ip.src", "-e", "ip.dst"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_until(lambda: a1.ping_ok(a2.ip, count=1) and cap.poll() is not None, 15,
                   what="tshark decoding two VXLAN packets")
    finally:
        if cap.poll() is None:
            cap.kill()
    rows = [line.split("\t") for line in cap.stdout.read().splitlines() if line.strip()]
    assert rows, "tshark decoded nothing"
    src6, vni, esrc, edst, isrc, idst = rows[0]
    assert src6.endswith(":1::2"), rows  # from h1's substrate address
    assert int(vni) == topo["net"]["vnid"], rows
    assert esrc.split(",")[-1] == a1.port["mac"] and edst.split(",")[-1] == a2.port["mac"], rows
    assert isrc.split(",")[-1] == a1.ip and idst.split(",")[-1] == a2.ip, rows
