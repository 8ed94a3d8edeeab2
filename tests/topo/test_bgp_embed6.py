r"""BGP with the virtual router on an embed6 lab: between hosts no encapsulation, but a
routing port's BGP travels to veneer-routerd as VXLAN over the IPv6 substrate, so that the
appliance's TTL 255 arrives as sent (GTSM) rather than lowered by each substrate router.

   h1 (fd10:K:100::/56) ---- IPv6 router ---- h2 (fd10:K:200::/56)
                                  |
                         rd (fd00:0:K:c8::2, VXLAN UDP 4789 only)

  tenant T, network 10.0.0.0/16, router main (AS 64512), subnet A 10.0.1.0/24
      a1   (h1)  a client, no routing
      bird (h2)  routing, bgp.ttl_security, source_dest_check off: BIRD 2 with
                 `ttl security on`, announcing 10.51.0.0/24 (10.51.0.1 on its lo)
      gtsm (h1)  routing, bgp.ttl_security: RawBgp sessions with a chosen TTL

What each test proves:
  test_routerd_on_the_embed6_substrate  the lab starts routerd for embed6, registered
                                   and connected at its IPv6 substrate address
  test_bird_established_with_gtsm  BIRD (GTSM on both sides: it drops what arrives below
                                   TTL 255) reaches Established; veneerd shows it; h2's
                                   agent counts frames to and from routerd
  test_learned_route_installed     10.51.0.0/24 in the router's effective table, the BIRD
                                   port as target
  test_bird_receives_the_subnet    10.0.1.0/24 from AS 64512 with the gateway as next hop
  test_traffic_follows_the_learned_route  a1 (h1) reaches 10.51.0.1 through BIRD (h2),
                                   over the translated substrate
  test_gtsm_low_ttl_gets_no_session  TTL 254 never gets past OpenSent
  test_gtsm_ttl_255_on_the_wire_and_established  TTL 255 establishes and a route it sends
                                   is installed; on routerd's link the SYN is VXLAN with
                                   the inner TTL still 255
  test_full_size_segments_fit_the_substrate  4 KiB UPDATEs cross as full-size segments
                                   (MSS 1390, from routerd's TUN MTU 1430) that fit 1500
                                   bytes of VXLAN over IPv6: no IPv6 fragment on either side
  test_vxlan_from_anyone_else_is_dropped  a VXLAN datagram to an embed6 agent from another
                                   host (posing as routerd's answer) is dropped, counted
                                   sub_not_routerd, before it is even decoded
"""

import re
import socket
import struct
import subprocess
import time

import pytest

from peers import Bird, RawBgp, raw_established
from topolab import in_netns, wait_until

LAB_HOSTS = 2
LAB_ENCAP = "embed6"
ASN = 64512
GW = "10.0.1.1"
BIRD_ASN = 65001
RAW_ASN = 65010
PFX = "10.51.0.0/24"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    gtsm = {"ttl_security": True}
    vms = {
        "a1": lab.vm(lab.port(sa, "h1"), "a1"),
        "bird": lab.vm(lab.port(sa, "h2", routing=True, source_dest_check=False, bgp=gtsm),
                       "bird"),
        "gtsm": lab.vm(lab.port(sa, "h1", routing=True, bgp=gtsm), "gtsm"),
    }
    b = vms["bird"]
    b.sh("ip", "addr", "add", "10.51.0.1/32", "dev", "lo", check=True)
    b.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", check=True)
    bird = Bird(b.ns, lab.peer_dir("bird"), b.ip, BIRD_ASN,
                neighbors=[{"ip": GW, "asn": ASN, "ttl_security": True}], announce=[PFX])
    raws = []
    try:
        bird.start()
        yield {"net": net, "vms": vms, "bird": bird, "raws": raws,
               "router": net["main_router"]}
    finally:
        for r in raws:
            r.close()
        bird.stop()


def session(lab, topo, name):
    return lab.bgp_session(topo["router"], topo["vms"][name].id)


def wait_established(lab, topo, name, timeout=30):
    return lab.wait_bgp_established(topo["router"], topo["vms"][name].id, timeout)


def installed(lab, topo, pfx):
    return [(r["origin"], r["target"], r["selected"]) for r in lab.api.get(
        "/v1/routers/%s/routes" % topo["router"])["items"] if r["destination"] == pfx]


def test_routerd_on_the_embed6_substrate(topo, lab):
    rd = lab.api.get("/v1/hosts/rd")
    assert rd["agent"]["connected"] and rd["address"].endswith(":c8::2"), rd
    for h in ("h1", "h2"):
        assert lab.api.get("/v1/hosts/" + h)["encap"] == "embed6"


def test_bird_established_with_gtsm(topo, lab):
    topo["bird"].wait_established(GW, timeout=60)
    s = wait_established(lab, topo, "bird")
    assert s["peer_asn"] == BIRD_ASN, s
    dp = lab.agent_status("h2")["dataplane"]
    assert dp["to_routerd"] > 0 and dp["from_routerd"] > 0, dp


def test_learned_route_installed(topo, lab):
    port = topo["vms"]["bird"].id
    wait_until(lambda: installed(lab, topo, PFX) == [("bgp", port, True)], 30,
               what="%s from BIRD in the effective table" % PFX)


def test_bird_receives_the_subnet(topo):
    def got():
        paths = topo["bird"].received_routes().get("10.0.1.0/24", [])
        return any(x["nexthop"] == GW and x["as_path"][:1] == [ASN] for x in paths)
    wait_until(got, 30, what="BIRD to receive 10.0.1.0/24 from the router")


def test_traffic_follows_the_learned_route(topo, lab):
    a1 = topo["vms"]["a1"]
    wait_until(lambda: a1.ping_ok("10.51.0.1", count=1, wait=1), 30,
               what="a1 (h1) to reach 10.51.0.1 through BIRD (h2)")
    before = lab.port_counters("h2", topo["vms"]["bird"].id)["tx"]
    assert a1.ping_ok("10.51.0.1", count=3, extra=("-i", "0.2"))
    assert lab.port_counters("h2", topo["vms"]["bird"].id)["tx"] >= before + 3


def _raw_session(topo, name, **kw):
    """A RawBgp from that VM to the gateway, Established (peers.raw_established)."""
    r = raw_established(topo["vms"][name], GW, RAW_ASN, **kw)
    topo["raws"].append(r)
    return r


def test_gtsm_low_ttl_gets_no_session(topo, lab):
    vm = topo["vms"]["gtsm"]
    r = RawBgp(vm.ns, vm.ip, GW, local_asn=RAW_ASN, ttl=254)
    try:
        try:
            r.connect(timeout=3)
            r.send_open()
            r.send_keepalive()
        except (OSError, AssertionError):
            pass
        end = time.monotonic() + 4
        while time.monotonic() < end:
            s = session(lab, topo, "gtsm")
            assert s is None or s["state"] not in ("openconfirm", "established"), s
            time.sleep(0.2)
    finally:
        r.close()


def _sniff_rd(lab, count, filt):
    """tcpdump on routerd's substrate link (`count` packets matching filt, verbose), once
    it says it is listening."""
    p = subprocess.Popen(["ip", "netns", "exec", lab.name + "-rd", "timeout", "20",
                          "tcpdump", "-nn", "-v", "-l", "-i", "eth0", "-c", str(count), filt],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    assert "listening on" in line, line
    return p


def test_gtsm_ttl_255_on_the_wire_and_established(topo, lab):
    h1 = lab.api.get("/v1/hosts/h1")["address"]
    # From h1 to routerd's VXLAN port, the inner TCP with SYN set: IPv6 40 + UDP 8 +
    # VXLAN 8 + Ethernet 14 + IPv4 20 + the TCP flags' offset 13 (libpcap cannot index
    # udp[] over IPv6).
    sniff = _sniff_rd(lab, 1, "ip6 src %s and udp dst port 4789 and ip6[103] & 2 != 0" % h1)
    try:
        r = _raw_session(topo, "gtsm", ttl=255)
        out, _ = sniff.communicate(timeout=20)
    finally:
        if sniff.poll() is None:
            sniff.kill()
    # tcpdump decodes UDP 4789 as VXLAN: the inner IPv4 SYN to the gateway, TTL 255.
    assert "VXLAN" in out and "ttl 255" in out and "> %s.179" % GW in out, out
    wait_established(lab, topo, "gtsm")
    r.send_update(nlri=["10.72.0.0/24"], nexthop=topo["vms"]["gtsm"].ip)
    wait_until(lambda: installed(lab, topo, "10.72.0.0/24") ==
               [("bgp", topo["vms"]["gtsm"].id, True)], 30, what="10.72.0.0/24 installed")
    r.close()


def _snmp6(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp6"],
                         capture_output=True, text=True, check=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines() if line.strip())}


def test_full_size_segments_fit_the_substrate(topo, lab):
    """An embed6 VM's MTU is 1472, but its session with routerd travels as VXLAN over IPv6
    (70 bytes): routerd's TUN MTU of 1430 makes both TCPs use segments that fill 1500 bytes
    of substrate exactly, so nothing is fragmented on the way (counted by both kernels)."""
    vm = topo["vms"]["gtsm"]
    r = _raw_session(topo, "gtsm", ttl=255)
    h1, rd = _snmp6(lab.name + "-h1"), _snmp6(lab.name + "-rd")
    withdrawn = ["10.%d.%d.0/24" % (100 + j // 250, j % 250) for j in range(4000)]
    for k in range(4):  # 4 UPDATEs of 4023 bytes: full-size segments
        r.send_update(withdrawn=withdrawn[k * 1000:(k + 1) * 1000])
    r.send_update(nlri=["10.73.0.0/24"], nexthop=vm.ip)
    wait_until(lambda: installed(lab, topo, "10.73.0.0/24") == [("bgp", vm.id, True)], 30,
               what="10.73.0.0/24 installed after the large UPDATEs")
    # the VM's MSS (TCP options excluded) follows routerd's 1390, not its own MTU's 1432
    ss = vm.sh("ss", "-tin", "dst", GW, check=True).stdout
    mss = [int(m) for m in re.findall(r"\bmss:(\d+)", ss)]
    assert mss and all(1300 < m <= 1390 for m in mss), ss
    assert _snmp6(lab.name + "-h1")["Ip6FragCreates"] == h1["Ip6FragCreates"]
    assert _snmp6(lab.name + "-rd")["Ip6ReasmReqds"] == rd["Ip6ReasmReqds"]
    r.close()


def test_vxlan_from_anyone_else_is_dropped(topo, lab):
    """h1 sends h2's agent what routerd would send the BIRD port (router MAC, TCP from
    179): it does not come from routerd's address, so it is refused before decoding."""
    net, bird = topo["net"], topo["vms"]["bird"]
    rmac = bytes.fromhex(lab.api.get("/v1/routers/" + topo["router"])["mac"].replace(":", ""))
    h2 = lab.api.get("/v1/hosts/h2")["address"]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 255, 6, 0,
                     socket.inet_aton(GW), socket.inet_aton(bird.ip))
    tcp = struct.pack("!HHIIBBHHH", 179, 40000, 1, 0, 0x50, 0x12, 8192, 0, 0)
    frame = bytes.fromhex(bird.mac.replace(":", "")) + rmac + b"\x08\x00" + ip + tcp
    vxlan = struct.pack("!II", 0x08000000, net["vnid"] << 8) + frame
    before = lab.drops("h2")
    with in_netns(lab.name + "-h1"):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        for _ in range(5):
            s.sendto(vxlan, (h2, 4789))
    finally:
        s.close()
    wait_until(lambda: lab.drops("h2")["sub_not_routerd"] >= before["sub_not_routerd"] + 5,
               10, what="the 5 datagrams counted sub_not_routerd on h2")
    after = lab.drops("h2")
    assert after["sub_routerd"] == before["sub_routerd"], (before, after)
