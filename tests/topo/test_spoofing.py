r"""Hostile frames from a VM: spoofed, malformed, tagged, fragmented, addressed elsewhere.

  tenant A, network 10.0.0.0/16                    tenant B, network 172.16.0.0/16
                 main                                         main
               /      \                                        |
     A 10.0.1.0/24     B 10.0.2.0/24                  B1 172.16.1.0/24
      |     |    |        |                              |          |
      s    v2   v1        r                             w1         w2
    (h1)  (h1) (h2)     (h2)                           (h1)       (h2)
  spoofer

  s writes raw frames on its interface (AF_PACKET, built with scapy). Each case carries a
  marker; sniffers in v1, v2, r, w1 and w2 prove that none of them arrives anywhere (a legit
  "barrier" ping from s to v1, v2 and r, seen by their sniffers, shows that everything sent
  before it has been handled). Each case must be counted exactly under its drop reason in
  the status of s's agent, and the agent must stay healthy.
"""

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPOption_LSRR, IPOption_NOP, IPOption_SSRR
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether, LLC
from scapy.packet import Padding, Raw
from scapy.utils import checksum

from topolab import Sniffer, send_frames, wait_until

LAB_HOSTS = 2
FOREIGN_MAC = "02:00:de:ad:be:ef"
FOREIGN_IP = "10.0.1.250"  # inside s's subnet, held by no port
BCAST = "ff:ff:ff:ff:ff:ff"
VICTIMS = ("v1", "v2", "r", "w1", "w2")


@pytest.fixture(scope="module")
def topo(lab):
    na = lab.network(lab.tenant(), "10.0.0.0/16")
    sa = lab.subnet(na, "10.0.1.0/24")
    sb = lab.subnet(na, "10.0.2.0/24")
    nb = lab.network(lab.tenant(), "172.16.0.0/16")
    sw = lab.subnet(nb, "172.16.1.0/24")
    t = {
        "s": lab.vm(lab.port(sa, "h1"), "s"),
        "v1": lab.vm(lab.port(sa, "h2"), "v1"),
        "v2": lab.vm(lab.port(sa, "h1"), "v2"),
        "r": lab.vm(lab.port(sb, "h2"), "r"),
        "w1": lab.vm(lab.port(sw, "h1"), "w1"),
        "w2": lab.vm(lab.port(sw, "h2"), "w2"),
        "gw": sa["gateway_ip"],
        "rmac": lab.api.get("/v1/routers/" + na["main_router"])["mac"],
    }
    # Every VM knows its peers (ARP), so the barrier pings need nothing else.
    for n in ("v1", "v2", "r"):
        assert t["s"].ping_ok(t[n].ip)
    assert t["w1"].ping_ok(t["w2"].ip)
    return t


def _marker(case):
    return ("VNRSPOOF-%s-" % case).encode() * 2


def _with_options(src, dst, opts, payload):
    """An IPv4 packet whose option bytes are exactly `opts` (a multiple of 4), checksum right."""
    raw = bytearray(bytes(IP(src=src, dst=dst, options=[IPOption_NOP()] * len(opts)) / payload))
    raw[20:20 + len(opts)] = opts
    raw[10:12] = b"\0\0"
    ihl = (raw[0] & 0x0f) * 4
    raw[10:12] = checksum(bytes(raw[:ihl])).to_bytes(2, "big")
    return bytes(raw)


def _ether_ip(t, m, **ip):
    """s -> v1 ICMP echo with marker m, with IP fields overridden by ip."""
    s, v1 = t["s"], t["v1"]
    fields = dict(src=s.ip, dst=v1.ip)
    fields.update(ip)
    return Ether(src=s.mac, dst=v1.mac) / IP(**fields) / ICMP() / Raw(m)


# case id -> (frames builder (topo, marker) -> [frame], expected drop reason(s))
# A tuple of reasons accepts any one of them; None accepts any single reason.
CASES = {
    # Port security: source MAC and source address.
    "src_mac_foreign": (lambda t, m: [
        Ether(src=FOREIGN_MAC, dst=t["v1"].mac) / IP(src=t["s"].ip, dst=t["v1"].ip) / ICMP() /
        Raw(m)], "src_mac"),
    "src_mac_of_other_vm": (lambda t, m: [
        Ether(src=t["v2"].mac, dst=t["v1"].mac) / IP(src=t["v2"].ip, dst=t["v1"].ip) / ICMP() /
        Raw(m)], "src_mac"),
    "src_ip_unused": (lambda t, m: [_ether_ip(t, m, src=FOREIGN_IP)], "src_ip"),
    "src_ip_of_other_vm": (lambda t, m: [_ether_ip(t, m, src=t["v2"].ip)], "src_ip"),
    "src_ip_of_other_tenant": (lambda t, m: [_ether_ip(t, m, src=t["w1"].ip)], "src_ip"),
    "src_ip_routed": (lambda t, m: [_ether_ip(t, m, src=FOREIGN_IP, dst=t["r"].ip)], "src_ip"),
    "src_ip_udp": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) / IP(src=FOREIGN_IP, dst=t["v1"].ip) /
        UDP(sport=1234, dport=5678) / Raw(m)], "src_ip"),
    # ARP claiming what the port does not hold.
    "arp_claims_other_address": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / ARP(op=2, hwsrc=t["s"].mac, psrc=t["v1"].ip,
                                               hwdst=BCAST, pdst=t["v1"].ip) / Padding(m)],
        "arp_spoof"),
    "arp_foreign_sender_mac": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / ARP(op=1, hwsrc=FOREIGN_MAC, psrc=t["s"].ip,
                                               pdst=t["v1"].ip) / Padding(m)], "arp_spoof"),
    "arp_foreign_sender_ip": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / ARP(op=1, hwsrc=t["s"].mac, psrc=FOREIGN_IP,
                                               pdst=t["gw"]) / Padding(m)], "arp_spoof"),
    "arp_gratuitous_for_other_vm": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / ARP(op=1, hwsrc=t["s"].mac, psrc=t["v2"].ip,
                                               pdst=t["v2"].ip) / Padding(m)], "arp_spoof"),
    # The other tenant's MACs and addresses mean nothing in s's network.
    "arp_for_other_tenant_address": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / ARP(op=1, hwsrc=t["s"].mac, psrc=t["s"].ip,
                                               pdst=t["w2"].ip) / Padding(m)], "arp_unknown"),
    "to_other_tenant_address": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["w2"].mac) / IP(src=t["s"].ip, dst=t["w2"].ip) / ICMP() /
        Raw(m)], "no_route"),
    "to_other_tenant_mac": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["w2"].mac) / IP(src=t["s"].ip, dst=FOREIGN_IP) / ICMP() /
        Raw(m)], "no_host"),
    # VLAN tags.
    "vlan_tagged": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) / Dot1Q(vlan=5) /
        IP(src=t["s"].ip, dst=t["v1"].ip) / ICMP() / Raw(m)], "vlan"),
    "vlan_priority_tag": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) / Dot1Q(vlan=0, prio=5) /
        IP(src=t["s"].ip, dst=t["v1"].ip) / ICMP() / Raw(m)], "vlan"),
    "vlan_qinq": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac, type=0x88a8) / Dot1Q(vlan=7) /
        IP(src=t["s"].ip, dst=t["v1"].ip) / ICMP() / Raw(m)], ("vlan", "parse")),
    # Not IPv4 at all.
    "ipv6": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) / IPv6(src="fe80::1", dst="fe80::2") /
        ICMPv6EchoRequest(data=m)], "not_ipv4"),
    "llc_8023": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["v1"].mac, type=3 + len(m))) + bytes(LLC()) + m],
        ("parse", "not_ipv4")),
    # Truncated and malformed IPv4 headers.
    "ipv4_truncated": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["v1"].mac, type=0x0800)) +
        bytes(IP(src=t["s"].ip, dst=t["v1"].ip))[:12] + m], "parse"),
    "ipv4_ihl_too_small": (lambda t, m: [_ether_ip(t, m, ihl=4)], "parse"),
    "ipv4_ihl_past_total_length": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["v1"].mac, type=0x0800)) +
        bytes(IP(src=t["s"].ip, dst=t["v1"].ip, ihl=15, len=40) / Raw(m))], "parse"),
    "ipv4_total_length_too_big": (lambda t, m: [_ether_ip(t, m, len=1400)], "parse"),
    "ipv4_total_length_too_small": (lambda t, m: [_ether_ip(t, m, len=12)], "parse"),
    "ipv4_version_6": (lambda t, m: [_ether_ip(t, m, version=6)], "parse"),
    "ipv4_bad_header_checksum": (lambda t, m: [_ether_ip(t, m, chksum=0x1234)], "parse"),
    "ipv4_bad_header_checksum_routed": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["rmac"]) / IP(src=t["s"].ip, dst=t["r"].ip, chksum=0x1234) /
        ICMP() / Raw(m)], "parse"),
    "ipv4_option_bad_length": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["v1"].mac, type=0x0800)) +
        _with_options(t["s"].ip, t["v1"].ip, b"\x07\x28\x04\x00", ICMP() / Raw(m))], "parse"),
    # Fragments that no honest sender makes, or with a spoofed source.
    "frag_past_64k": (lambda t, m: [
        _ether_ip(t, m, frag=8189, proto=1) / Raw(b"x" * 100)], "parse"),
    "frag_not_multiple_of_8": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) /
        IP(src=t["s"].ip, dst=t["v1"].ip, flags="MF", proto=1) / Raw(m + b"123")], "parse"),
    "frag_spoofed_source": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["v1"].mac) /
        IP(src=FOREIGN_IP, dst=t["v1"].ip, flags="MF", proto=1) / Raw(m[:16])], "src_ip"),
    # Broadcast and multicast IP are not forwarded, but for link-local multicast and the
    # broadcasts of the sender's own subnet (flooded in it: test_vip.py).
    "ip_broadcast_other_subnet": (lambda t, m: [
        Ether(src=t["s"].mac, dst=BCAST) / IP(src=t["s"].ip, dst="10.0.2.255") / ICMP() /
        Raw(m)], "broadcast"),
    "ip_multicast": (lambda t, m: [
        Ether(src=t["s"].mac, dst="01:00:5e:01:01:01") / IP(src=t["s"].ip, dst="239.1.1.1") /
        ICMP() / Raw(m)], "broadcast"),
    "ip_multicast_link_local_spoofed": (lambda t, m: [
        Ether(src=t["s"].mac, dst="01:00:5e:00:00:12") / IP(src=FOREIGN_IP, dst="224.0.0.18") /
        ICMP() / Raw(m)], "src_ip"),
    # Addressed to a router, not echo; and a TTL that expires at the router.
    "udp_to_router": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["rmac"]) / IP(src=t["s"].ip, dst=t["gw"]) /
        UDP(sport=1234, dport=53) / Raw(m)], "to_router"),
    "ttl_expires_at_router": (lambda t, m: [
        Ether(src=t["s"].mac, dst=t["rmac"]) / IP(src=t["s"].ip, dst=t["r"].ip, ttl=1) /
        ICMP() / Raw(m)], "ttl"),
}

CASES.update({
    "ipv4_lsrr": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["v1"].mac, type=0x0800)) +
        bytes(IP(src=t["s"].ip, dst=t["v1"].ip,
                 options=[IPOption_LSRR(routers=[t["v1"].ip])]) / ICMP() / Raw(m))],
        "source_route"),
    "ipv4_ssrr_routed": (lambda t, m: [
        bytes(Ether(src=t["s"].mac, dst=t["rmac"], type=0x0800)) +
        bytes(IP(src=t["s"].ip, dst=t["r"].ip,
                 options=[IPOption_SSRR(routers=[t["r"].ip])]) / ICMP() / Raw(m))],
        "source_route"),
})

PARAMS = [pytest.param(k, id=k) for k in CASES]


def _case(name):
    return CASES[name] if name in CASES else XFAIL_CASES[name][0]


def _barrier(t, sniffers, tag):
    """Legit echo requests from s to v1, v2 and r; returns once each has seen its own."""
    s = t["s"]
    frames = {}
    for n in ("v1", "v2", "r"):
        frames[n] = (b"VNRBARRIER-%s-%s" % (tag.encode(), n.encode())) * 2
        dst_mac = t["rmac"] if n == "r" else t[n].mac
        send_frames(s, [Ether(src=s.mac, dst=dst_mac) / IP(src=s.ip, dst=t[n].ip) /
                        ICMP(id=0x4242) / Raw(frames[n])])
    for n, m in frames.items():
        wait_until(lambda: any(m in f for f in sniffers[n].frames()), 5,
                   what="barrier ping at %s" % n)


@pytest.mark.parametrize("case", PARAMS)
def test_hostile_frame_is_dropped_and_counted(topo, lab, case):
    build, reason = _case(case)
    s = topo["s"]
    m = _marker(case)
    frames = build(topo, m)
    before = lab.agent_status(s.host)["dataplane"]
    sniffers = {n: Sniffer(topo[n]) for n in VICTIMS}
    try:
        send_frames(s, frames)
        _barrier(topo, sniffers, case)
    finally:
        seen = {n: sn.stop() for n, sn in sniffers.items()}
    after = lab.agent_status(s.host)["dataplane"]

    delivered = {n: len([f for f in fs if m in f or FOREIGN_MAC.replace(":", "") in f.hex()[12:24]])
                 for n, fs in seen.items()}
    assert all(v == 0 for v in delivered.values()), "delivered: %s" % delivered

    delta = {k: after["drops"][k] - before["drops"][k] for k in after["drops"]
             if after["drops"][k] != before["drops"][k]}
    n = len(frames)
    if reason is None:
        assert len(delta) == 1 and list(delta.values()) == [n], \
            "expected %d drop(s) under one reason, got %s" % (n, delta)
    else:
        reasons = (reason,) if isinstance(reason, str) else reason
        assert len(delta) == 1 and list(delta.values()) == [n] and list(delta)[0] in reasons, \
            "expected %d drop(s) under %s, got %s" % (n, "/".join(reasons), delta)
    port_delta = after["ports"][s.id]["drops"] - before["ports"][s.id]["drops"]
    assert port_delta == n, "the port's own drop counter moved by %d" % port_delta


def test_agent_healthy_after_hostile_frames(topo, lab):
    s = topo["s"]
    for n in ("v1", "v2", "r"):
        r = s.ping(topo[n].ip, count=2)
        assert " 2 received" in r.stdout, r.stdout
    assert topo["w1"].ping_ok(topo["w2"].ip, count=2)
    for i in range(1, lab.hosts + 1):
        st = lab.agent_status("h%d" % i)
        assert st["sync"]["connected"] is True and st["sync"]["disconnects"] == 0, st["sync"]
