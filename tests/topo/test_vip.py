r"""Virtual IPs that move (claims by gratuitous ARP), and link-local multicast and broadcast
flooded inside a subnet (so that VRRP advertisements reach their peers), over VXLAN
(test_vip_embed6.py runs the same tests over embed6).

  tenant T, network 10.0.0.0/16, main router            tenant U, the same 10.0.0.0/16
     A 10.0.1.0/24                      B 10.0.2.0/24          U1 10.0.1.0/24
     a (h1) .11   b (h2) .12   c (h1) .13     k (h2)                u1 (h1)  u2 (h2)
     claimable 10.0.1.100/32 (a, b, c)        claimable 10.0.1.100/32 too
     c may also claim 10.0.1.12/32 (b's own address: never granted)

  GARPs are crafted with scapy in a, b, c and k; the holder is read from the API (vips,
  /v1/claims) and proven by traffic: a and b both carry 10.0.1.100 on their interface, and
  k's pings reach only the holder. Refusals leave the holder as it was and are counted by
  the agent. Floods from a reach b and c (both hosts) and nothing of B or of tenant U.
"""

import os
import signal
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP
from scapy.packet import Raw

from topolab import Sniffer, echoes_reach, send_frames, wait_until

LAB_HOSTS = 2
LAB_ENCAP = "vxlan"
VIP = "10.0.1.100"
BCAST = "ff:ff:ff:ff:ff:ff"
FOREIGN_MAC = "02:00:de:ad:be:ef"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    sb = lab.subnet(net, "10.0.2.0/24")
    u = lab.tenant()
    unet = lab.network(u, "10.0.0.0/16")
    su = lab.subnet(unet, "10.0.1.0/24")
    cl = [VIP + "/32"]
    topo = {
        "a": lab.vm(lab.port(sa, "h1", ip="10.0.1.11", claimable=cl), "a"),
        "b": lab.vm(lab.port(sa, "h2", ip="10.0.1.12", claimable=cl), "b"),
        "c": lab.vm(lab.port(sa, "h1", ip="10.0.1.13", claimable=cl + ["10.0.1.12/32"]), "c"),
        "k": lab.vm(lab.port(sb, "h2", claimable=cl), "k"),
        "u1": lab.vm(lab.port(su, "h1"), "u1"),
        "u2": lab.vm(lab.port(su, "h2"), "u2"),
        "net": net,
    }
    # a and b answer for the address whenever traffic for it reaches them.
    for n in ("a", "b"):
        v = topo[n]
        v.sh("ip", "addr", "add", VIP + "/32", "dev", v.dev, check=True)
        v.sh("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1", check=True)
    assert topo["k"].ping_ok(topo["a"].ip) and topo["k"].ping_ok(topo["b"].ip)
    assert topo["u1"].ping_ok(topo["u2"].ip)
    return topo


def garp(vm, ip=VIP, op=1, hwsrc=None, esrc=None):
    """A gratuitous ARP from vm for ip: a request (sender = target) or an unsolicited reply."""
    hw = hwsrc or vm.mac
    arp = ARP(op=op, hwsrc=hw, psrc=ip, pdst=ip,
              hwdst="00:00:00:00:00:00" if op == 1 else BCAST)
    return Ether(src=esrc or vm.mac, dst=BCAST) / arp


def vips(lab, vm):
    return lab.api.get("/v1/ports/" + vm.id)["vips"]


def holder(lab, topo):
    held = [n for n in ("a", "b", "c", "k") if VIP in vips(lab, topo[n])]
    assert len(held) <= 1, held
    return held[0] if held else None


def claims(lab, topo, **filters):
    q = "&".join("%s=%s" % kv for kv in dict(network=topo["net"]["id"], ip=VIP,
                                            **filters).items())
    return lab.api.get("/v1/claims?limit=1000&" + q)["items"]


def dp(lab, host):
    return lab.agent_status(host)["dataplane"]


def move_to(lab, topo, name, op=1, timeout=5):
    """A GARP from `name`; returns once veneerd and every agent have the new holder."""
    v = topo[name]
    t0 = time.monotonic()
    send_frames(v, [garp(v, op=op)])
    wait_until(lambda: holder(lab, topo) == name, timeout, what="%s to hold %s" % (name, VIP))
    rev = lab.api.get("/v1/ports/" + v.id).get("revision")
    if rev:
        lab.wait_applied(rev)
    wait_until(lambda: all(VIP in agent_port(lab, h, v.id).get("vips", [])
                           for h in ("h1", "h2")), timeout,
               what="agents to know %s holds %s" % (name, VIP))
    return time.monotonic() - t0


def agent_port(lab, host, port_id):
    return lab.agent_state(host)["ports"].get(port_id, {})


def echo_reaches(lab, topo, name):
    """k pings the address; the echo requests arrive at `name` and at no other candidate."""
    return echoes_reach(topo["k"], VIP, {n: topo[n] for n in ("a", "b", "c")}, name)


# -- claims by gratuitous ARP -------------------------------------------------------------------

def test_garp_moves_the_address_and_traffic_follows(topo, lab):
    before = dp(lab, "h2")
    took = move_to(lab, topo, "b")
    assert took < 3, took
    after = dp(lab, "h2")
    assert after["claims_sent"] > before["claims_sent"]
    assert after["ports"][topo["b"].id]["claims"] > before["ports"][topo["b"].id]["claims"]
    last = claims(lab, topo, port=topo["b"].id, result="applied")[-1]
    assert last["how"] == "garp" and last["ip"] == VIP, last
    ok, got = echo_reaches(lab, topo, "b")
    assert ok, got

    # An unsolicited reply moves it back to a, on the other host.
    move_to(lab, topo, "a", op=2)
    assert vips(lab, topo["b"]) == []
    ok, got = echo_reaches(lab, topo, "a")
    assert ok, got


def test_holder_garps_change_nothing(topo, lab):
    move_to(lab, topo, "a")
    n = len(claims(lab, topo))
    before = dp(lab, "h1")
    # keepalived's announcements as master: 3 and 3 more.
    send_frames(topo["a"], [garp(topo["a"])] * 6)
    time.sleep(0.5)
    after = dp(lab, "h1")
    assert after["claims_sent"] == before["claims_sent"]
    assert after["drops"]["arp_spoof"] == before["drops"]["arp_spoof"]
    assert len(claims(lab, topo)) == n and holder(lab, topo) == "a"


REFUSED = {
    # name: (sender, frame builder, host of the sender's agent, reason counted there)
    "not_claimable": ("b", lambda t: garp(t["b"], ip="10.0.1.200"), "h2", "arp_spoof"),
    "fixed_address_of_another_port": ("c", lambda t: garp(t["c"], ip=t["b"].ip), "h1",
                                      "arp_spoof"),
    "reserved_address": ("c", lambda t: garp(t["c"], ip="10.0.1.255"), "h1", "arp_spoof"),
    "foreign_sender_mac": ("b", lambda t: garp(t["b"], hwsrc=FOREIGN_MAC), "h2", "arp_spoof"),
    "foreign_source_mac": ("b", lambda t: garp(t["b"], hwsrc=FOREIGN_MAC, esrc=FOREIGN_MAC),
                           "h2", "src_mac"),
    "other_subnet": ("k", lambda t: garp(t["k"]), "h2", "arp_spoof"),
    "other_tenant": ("u2", lambda t: garp(t["u2"]), "h2", "arp_spoof"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_claim_changes_nothing_and_is_counted(topo, lab, case):
    if holder(lab, topo) != "a":
        move_to(lab, topo, "a")
    sender, build, host, reason = REFUSED[case]
    n = len(claims(lab, topo))
    before = dp(lab, host)
    send_frames(topo[sender], [build(topo)] * 3)
    wait_until(lambda: dp(lab, host)["drops"][reason] - before["drops"][reason] == 3, 5,
               what="3 drops counted as %s" % reason)
    time.sleep(0.3)
    after = dp(lab, host)
    assert after["claims_sent"] == before["claims_sent"]
    delta = {k: after["drops"][k] - before["drops"][k] for k in after["drops"]
             if after["drops"][k] != before["drops"][k]}
    assert delta == {reason: 3}, delta
    assert holder(lab, topo) == "a" and len(claims(lab, topo)) == n
    assert VIP not in vips(lab, topo[sender]) and vips(lab, topo["c"]) == []
    if case == "fixed_address_of_another_port":
        assert lab.api.get("/v1/ports/" + topo["c"].id)["vips"] == []


def _agent_pid(lab, host):
    return int((lab.dir / ("agent-%s.pid" % host)).read_text())


def test_claim_storm_is_rate_limited_and_another_claim_applies(topo, lab):
    """c's storm (queued while its agent is stopped, so that one batch holds it) is cut to
    the agent's burst; a's claim right after it, on the same agent, applies at once."""
    move_to(lab, topo, "b")
    before = dp(lab, "h1")
    pid = _agent_pid(lab, "h1")
    os.kill(pid, signal.SIGSTOP)
    try:
        send_frames(topo["c"], [garp(topo["c"])] * 200)
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: holder(lab, topo) == "c", 5, what="c to hold the address")
    mid = dp(lab, "h1")
    sent = mid["claims_sent"] - before["claims_sent"]
    limited = mid["drops"]["claim_rate"] - before["drops"]["claim_rate"]
    assert 1 <= sent <= 10 and limited >= 50, (sent, limited)
    assert mid["ports"][topo["c"].id]["claims"] - before["ports"][topo["c"].id]["claims"] == sent
    took = move_to(lab, topo, "a")
    assert took < 2, took
    applied = [x for x in claims(lab, topo, result="applied")][-2:]
    assert [x["port"] for x in applied] == [topo["c"].id, topo["a"].id], applied


def test_holder_survives_veneerd_restart_and_claims_offline_are_counted(topo, lab):
    move_to(lab, topo, "b")
    argv = lab.veneerd_stop()
    try:
        wait_until(lambda: not lab.agent_status("h1")["sync"]["connected"], 10,
                   what="h1 to notice veneerd is gone")
        before = dp(lab, "h1")
        send_frames(topo["a"], [garp(topo["a"])] * 2)
        wait_until(lambda: dp(lab, "h1")["drops"]["claim_offline"] -
                   before["drops"]["claim_offline"] == 2, 5, what="claim_offline counted")
        # Forwarding goes on with the last view: b still gets the traffic.
        ok, got = echo_reaches(lab, topo, "b")
        assert ok, got
    finally:
        lab.veneerd_start(argv)
    lab.wait_connected()
    assert holder(lab, topo) == "b"
    ok, got = echo_reaches(lab, topo, "b")
    assert ok, got


def test_holder_survives_agent_restart(topo, lab):
    move_to(lab, topo, "b")
    lab.agent("h2", "restart")
    lab.wait_connected()
    assert holder(lab, topo) == "b"
    wait_until(lambda: echo_reaches(lab, topo, "b")[0], 10, what="traffic to b again")
    # And the restarted agent reports claims again.
    move_to(lab, topo, "a")
    move_to(lab, topo, "b")


# -- link-local multicast and broadcast ---------------------------------------------------------

MEMBERS = ("b", "c")           # a's subnet, on both hosts
OUTSIDERS = ("k", "u1", "u2")  # another subnet; another tenant with the same addresses


def _marker(tag):
    return ("VNRFLOOD-%s-" % tag).encode() * 2


def _flood_once(topo, lab, frames, marker):
    sn = {n: Sniffer(topo[n]) for n in MEMBERS + OUTSIDERS}
    try:
        send_frames(topo["a"], frames)
        wait_until(lambda: all(any(marker in f for f in sn[n].frames()) for n in MEMBERS), 5,
                   what="the flood at %s" % ", ".join(MEMBERS))
        time.sleep(0.3)
    finally:
        seen = {n: s.stop() for n, s in sn.items()}
    return {n: [f for f in fs if marker in f] for n, fs in seen.items()}


FLOODS = {
    "mdns": lambda t, m: Ether(src=t["a"].mac, dst="01:00:5e:00:00:fb") /
    IP(src=t["a"].ip, dst="224.0.0.251", ttl=255) / UDP(sport=5353, dport=5353) / Raw(m),
    "all_hosts_ttl1": lambda t, m: Ether(src=t["a"].mac, dst="01:00:5e:00:00:01") /
    IP(src=t["a"].ip, dst="224.0.0.1", ttl=1) / UDP(sport=4000, dport=4000) / Raw(m),
    "limited_broadcast": lambda t, m: Ether(src=t["a"].mac, dst=BCAST) /
    IP(src=t["a"].ip, dst="255.255.255.255") / UDP(sport=4000, dport=4001) / Raw(m),
    "subnet_broadcast": lambda t, m: Ether(src=t["a"].mac, dst=BCAST) /
    IP(src=t["a"].ip, dst="10.0.1.255") / UDP(sport=4000, dport=4002) / Raw(m),
    # VRRP carries no payload: its own bytes (a virtual router id per marker) mark it.
    "vrrp": lambda t, m: Ether(src=t["a"].mac, dst="01:00:5e:00:00:12") /
    IP(src=t["a"].ip, dst="224.0.0.18", ttl=255) /
    VRRP(vrid=sum(m) % 255 + 1, priority=100, addrlist=[VIP]),
}


def _mark(frame, m):
    """What identifies the frame at the receivers: m, or the VRRP message itself."""
    return bytes(frame[VRRP]) if VRRP in frame else m


@pytest.mark.parametrize("case", list(FLOODS))
def test_flood_reaches_the_subnet_only(topo, lab, case):
    frame = FLOODS[case](topo, _marker(case))
    before = dp(lab, "h1")
    got = _flood_once(topo, lab, [frame], _mark(frame, _marker(case)))
    assert all(len(got[n]) == 1 for n in MEMBERS), {n: len(v) for n, v in got.items()}
    assert all(len(got[n]) == 0 for n in OUTSIDERS), {n: len(v) for n, v in got.items()}
    sent = bytes(frame)
    for n in MEMBERS:
        r = Ether(got[n][0])
        # Unchanged: same MACs, TTL (no router on the way), payload.
        assert r.dst == Ether(sent).dst and r.src == topo["a"].mac, r.summary()
        assert r[IP].ttl == frame[IP].ttl and r[IP].src == topo["a"].ip, r.summary()
        assert bytes(r[IP])[20:] == bytes(frame[IP])[20:], r.summary()
    after = dp(lab, "h1")
    assert after["ports"][topo["a"].id]["flooded"] == before["ports"][topo["a"].id]["flooded"] + 1


def test_vrrp_advert_parses_at_the_peer(topo, lab):
    """TTL 255 (VRRPv2 receivers drop anything else), checksums right, on both hosts."""
    frame = FLOODS["vrrp"](topo, _marker("vrrp2"))
    got = _flood_once(topo, lab, [frame], _mark(frame, b""))
    for n in MEMBERS:
        r = Ether(got[n][0])
        assert VRRP in r and r[VRRP].vrid == frame[VRRP].vrid and r[IP].proto == 112
        assert r[IP].ttl == 255 and r[VRRP].addrlist == [VIP], r.show(dump=True)
        ip = IP(bytes(r[IP]))
        del ip.chksum
        assert IP(bytes(ip)).chksum == r[IP].chksum
        v = VRRP(bytes(r[VRRP]))
        del v.chksum
        assert VRRP(bytes(v)).chksum == r[VRRP].chksum


FLOOD_DROPS = {
    # Not link-local: still dropped as broadcast.
    "multicast_not_link_local": (lambda t, m: Ether(src=t["a"].mac, dst="01:00:5e:01:01:01") /
                                 IP(src=t["a"].ip, dst="239.1.1.1") / UDP() / Raw(m),
                                 "broadcast"),
    "other_subnet_broadcast": (lambda t, m: Ether(src=t["a"].mac, dst=BCAST) /
                               IP(src=t["a"].ip, dst="10.0.2.255") / UDP() / Raw(m), "broadcast"),
    # Port security first.
    "spoofed_source": (lambda t, m: Ether(src=t["a"].mac, dst="01:00:5e:00:00:fb") /
                       IP(src=t["c"].ip, dst="224.0.0.251", ttl=255) / UDP() / Raw(m),
                       "src_ip"),
    "foreign_source_mac": (lambda t, m: Ether(src=FOREIGN_MAC, dst="01:00:5e:00:00:fb") /
                           IP(src=t["a"].ip, dst="224.0.0.251", ttl=255) / UDP() / Raw(m),
                           "src_mac"),
}


@pytest.mark.parametrize("case", list(FLOOD_DROPS))
def test_flood_refused(topo, lab, case):
    build, reason = FLOOD_DROPS[case]
    m = _marker(case)
    before = dp(lab, "h1")
    sn = {n: Sniffer(topo[n]) for n in MEMBERS + OUTSIDERS}
    try:
        send_frames(topo["a"], [build(topo, m)])
        wait_until(lambda: dp(lab, "h1")["drops"][reason] == before["drops"][reason] + 1, 5,
                   what="a drop counted as %s" % reason)
        time.sleep(0.3)
    finally:
        seen = {n: s.stop() for n, s in sn.items()}
    assert all(not any(m in f for f in fs) for fs in seen.values())
    after = dp(lab, "h1")
    assert after["flooded"] == before["flooded"]


def test_flood_rate_limit(topo, lab):
    n = 1500
    m = _marker("rate")
    frames = [bytes(FLOODS["mdns"](topo, m))] * n
    time.sleep(2.5)  # the bucket refills after the tests before
    before = dp(lab, "h1")
    sn = Sniffer(topo["b"])
    rx = lambda: dp(lab, "h1")["ports"][topo["a"].id]["rx"]  # noqa: E731
    t0 = time.monotonic()
    try:
        send_frames(topo["a"], frames)
        elapsed = time.monotonic() - t0
        # Until the agent has read what the TAP queue kept (it may drop some itself).
        def settled():
            now = rx()
            time.sleep(0.2)
            return rx() == now
        wait_until(settled, 5, what="the agent to read the frames")
        time.sleep(0.3)
    finally:
        got = len([f for f in sn.stop() if m in f])
    after = dp(lab, "h1")
    read = after["ports"][topo["a"].id]["rx"] - before["ports"][topo["a"].id]["rx"]
    flooded = after["ports"][topo["a"].id]["flooded"] - before["ports"][topo["a"].id]["flooded"]
    limited = after["drops"]["flood_rate"] - before["drops"]["flood_rate"]
    allowed = 400 + 200 * (elapsed + 1)
    assert read > 600 and limited > 0 and flooded <= allowed, (read, flooded, limited, elapsed)
    assert read - 5 <= flooded + limited <= read and flooded >= 400 * 0.9, (read, flooded,
                                                                           limited)
    assert got <= flooded, (got, flooded)
    # The bucket refills: a flood a second later goes through.
    time.sleep(1)
    m2 = _marker("after-rate")
    res = _flood_once(topo, lab, [FLOODS["mdns"](topo, m2)], m2)
    assert all(len(res[x]) == 1 for x in MEMBERS)
