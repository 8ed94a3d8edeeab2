#!/usr/bin/python3
"""Virtual IP failover (issue 5): keepalived on Veneer against keepalived on a plain bridge.

Issue 5: "Report the gap in milliseconds for each case against keepalived on a plain Linux
bridge measured in the same run" and "claim-to-forwarding time (the claiming GARP leaving the
VM to the first packet delivered to the new owner) measured for 1 and 50 hosts; target: the
client sees no longer a gap than the same keepalived pair on a plain Linux bridge (<= 1.0x in
the same run)".

Part 1, failover, A/B interleaved:
  A, Veneer: a tests/topo lab of 3 hosts (--encap vxlan and/or embed6), one subnet
     10.0.1.0/24; ka1 (h1) and ka2 (h2) with claimable ["10.0.1.100/32"] (source_dest_check
     on), the client c on h3. The VRRP adverts cross the substrate by the agents' head-end
     replication; the master's gratuitous ARP is its agent's claim, veneerd's revision moves
     the VIP in every agent, the client's agent forwards to the new holder.
  B, reference: namespaces PFX-k1, PFX-k2, PFX-c, each with an eth0 veth into a Linux bridge
     in PFX-br (10.0.1.11, .12, .13/24); the client's ARP cache follows the gratuitous ARP.
  Both: the same keepalived configuration (tests/topo/test_keepalived.keepalived_conf: the
  Debian sample's vrrp_instance, priorities 150 (ka1, MASTER) / 100, advert_int 1,
  VIP 10.0.1.100/24), run unmodified (`keepalived -n -l -D -f CONF -p -r -c`). A UDP probe
  to VIP:9999 every --interval (1 ms) from the client, answered by a socket bound to the VIP
  in each keepalived VM (IP_FREEBIND: only the VM that has the VIP answers); packet sockets
  on both VMs' interfaces stamp (kernel, SO_TIMESTAMPNS, on CLOCK_MONOTONIC) each probe
  arriving and each gratuitous ARP for the VIP leaving. Only the side under trial probes.

  Cases (each pair runs them in this order, A then B, so ka1 is master at each start):
    graceful  SIGTERM to ka1's keepalived (t0): it sends priority 0, ka2 takes over
    return    ka1's keepalived started again (t0): it preempts ka2
    linkdown  `ip link set eth down` in ka1 (t0): no more adverts, ka2 after ~3.6 s
    linkup    the link up again (t0): ka1 preempts
  Per trial:
    gap      client-visible: the longest stretch without an answer (send time of the next
             answered probe minus that of the last answered one; 1 ms when nothing is lost)
    switch   first probe arriving at the new master minus the last one arriving at the old
             one (negative: both received for a while)
    detect   t0 to the new master's first gratuitous ARP (keepalived's own time)
    adv      linkdown only: the old master's last VRRP advert leaving it to the first probe at
             the new one (the link-down gap without the phase of the advert timer at t0,
             which spreads the gap itself over a second)
    ctf      that gratuitous ARP leaving the VM to the first probe arriving at the new master
             (claim-to-forwarding; on the bridge: the client's ARP cache updated)
    transit  graceful only: ka1's priority-0 advert leaving it to arriving at ka2 (the
             network's share of `detect`: on Veneer, the agents' replication)

Part 2, claim-to-forwarding against the number of hosts (--ctf-trials, interleaved):
  bridge   the reference namespaces of part 1;
  1 host   a lab with --hosts 1: ka1, ka2 and c on h1;
  N hosts  a lab with --hosts N (--ctf-hosts, default 50): ka1 h1, ka2 h2, c h3 and an idle
           port on each other host, so that every agent holds the network and the claim's
           revision goes to all N.
  No keepalived here: each trial moves the VIP (ip addr del/add) and sends one gratuitous
  ARP from the new owner's packet socket (the frame keepalived sends), alternately from ka2
  and ka1; the time from that GARP leaving (outgoing packet stamp) to the first probe (1 ms)
  arriving at the new owner.

Output: one line per trial, then per encoding and case A median (range), B median (range)
and A/B as the median (range) of the per-pair ratios; then part 2's series (median, p90,
max) and the ratio N/1. Failed trials (no takeover within 15 s: for A, e.g. adverts not
replicated, a split brain) are printed and left out.

usage (root; Debian's /usr/bin/python3; keepalived; builds nothing):
  VENEER_BUILD=build /usr/bin/python3 bench/vip_failover.py [--pairs 5]
      [--encap vxlan,embed6] [--cases graceful,return,linkdown,linkup] [--interval 0.001]
      [--ctf-trials 20] [--ctf-hosts 50] [--vrrp multicast|unicast] [--no-ctf]
      [--no-failover]
--vrrp unicast gives both keepalived instances a unicast_peer (the other VM): a diagnostic
that needs no replication of multicast in the agents; the default is multicast VRRP.
Everything it makes (labs, namespaces, keepalived instances, sockets) is removed at the end,
also on failure or SIGTERM/SIGINT, by name and PID.
"""
import argparse
import os
import pathlib
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "topo"))

from topolab import Lab, netns_list, packet_socket, wait_until  # noqa: E402
from test_keepalived import (VIP, VIP_CLAIM, Arrivals, Keepalived, Prober,  # noqa: E402
                             Responder, has_addr, link_set)

CASES = ("graceful", "return", "linkdown", "linkup")
METRICS = ("gap", "switch", "detect", "adv", "ctf", "transit")
TIMEOUT = 15.0


def log(*a):
    print(*a, flush=True)


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check)


# ---------------------------------------------------------------------------------------------
# The two sides of part 1

class Side:
    """Three VMs (namespaces and interface names) with keepalived on two."""

    label = "?"

    def __init__(self, workdir, interval, vrrp="multicast"):
        self.workdir = pathlib.Path(workdir)
        self.interval = interval
        self.vrrp = vrrp
        self.ka = {}
        self.resp = []
        self.arr = {}
        self.prober = None

    def vm(self, name):  # -> (ns, dev, ip)
        raise NotImplementedError

    def start(self):
        for name, prio, state in (("ka2", 100, "BACKUP"), ("ka1", 150, "MASTER")):
            ns, dev, _ = self.vm(name)
            d = self.workdir / ("%s-%s" % (self.label, name))
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(self.workdir, 0o755)
            os.chmod(d, 0o755)
            self.resp.append(Responder(ns, name))
            self.arr[name] = Arrivals(ns, dev)
            peer = self.vm("ka1" if name == "ka2" else "ka2")[2]
            self.ka[name] = Keepalived(ns, d, name, dev, prio, state,
                                       unicast_peer=peer if self.vrrp == "unicast" else None)
            self.ka[name].start()

    def configured(self):
        return sorted(n for n in ("ka1", "ka2") if has_addr(self.vm(n)[0], self.vm(n)[1]))

    def probe_start(self):
        ns, _, ip = self.vm("c")
        self.prober = Prober(ns, ip, interval=self.interval)

    def probe_stop(self):
        if self.prober is not None:
            self.prober.stop()
            self.prober = None

    def steady(self, who, timeout=TIMEOUT):
        """`who` alone has the VIP and answers."""
        wait_until(lambda: self.configured() == [who], timeout, interval=0.05,
                   what="%s: VIP configured in %s only" % (self.label, who))
        self.prober.wait_answerer(who, timeout)

    def stop(self):
        self.probe_stop()
        for k in self.ka.values():
            try:
                k.cleanup()
            except Exception as e:  # noqa: BLE001 - the rest must still stop
                log("keepalived %s: %s" % (k.name, e))
        for r in self.resp:
            r.stop()
        for a in self.arr.values():
            a.stop()


class Bridge(Side):
    """B: PFX-br holds br0; PFX-k1, PFX-k2, PFX-c each an eth0 veth into it."""

    label = "bridge"
    IPS = {"ka1": "10.0.1.11", "ka2": "10.0.1.12", "c": "10.0.1.13"}

    def __init__(self, prefix, workdir, interval, vrrp):
        super().__init__(workdir, interval, vrrp)
        self.prefix = prefix
        self.made = []

    def vm(self, name):
        return ("%s-%s" % (self.prefix, name), "eth0", self.IPS[name])

    def up(self):
        br = self.prefix + "-br"
        sh("ip", "netns", "add", br)
        self.made.append(br)
        sh("ip", "-n", br, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", br, "link", "set", "br0", "up")
        for name, ip in self.IPS.items():
            ns = "%s-%s" % (self.prefix, name)
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", name,
               "netns", br)
            sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", br, "link", "set", name, "master", "br0", "up")
        return self

    def down(self):
        left = []
        for ns in reversed(self.made):
            if sh("ip", "netns", "del", ns, check=False).returncode != 0:
                left.append(ns)
        self.made = []
        return left


class Veneer(Side):
    """A: a lab of 3 hosts; ka1 h1, ka2 h2, c h3."""

    def __init__(self, encap, workdir, interval, vrrp):
        super().__init__(workdir, interval, vrrp)
        self.encap = encap
        self.label = encap
        self.lab = Lab()
        self.vms = {}

    def vm(self, name):
        v = self.vms[name]
        return (v.ns, v.dev, v.ip)

    def up(self):
        self.lab.up(hosts=3, encap=self.encap)
        lab = self.lab
        t = lab.tenant()
        net = lab.network(t, "10.0.0.0/16")
        sa = lab.subnet(net, "10.0.1.0/24")
        self.vms["ka1"] = lab.vm(lab.port(sa, "h1", claimable=[VIP_CLAIM]), "ka1")
        self.vms["ka2"] = lab.vm(lab.port(sa, "h2", claimable=[VIP_CLAIM]), "ka2")
        self.vms["c"] = lab.vm(lab.port(sa, "h3"), "c")
        return self

    def down(self):
        return self.lab.down()


# ---------------------------------------------------------------------------------------------
# One trial

def trial(side, case):
    """Runs `case` on `side` (ka1 master at the start, and again at the end of `return` and
    `linkup`); returns {metric: ms} or raises AssertionError."""
    old, new = ("ka1", "ka2") if case in ("graceful", "linkdown") else ("ka2", "ka1")
    ka1_ns, ka1_dev, _ = side.vm("ka1")
    if old == "ka1" and not side.ka["ka1"].running():
        restore(side)  # --cases without return/linkup: ka1 is master again before each pair
    side.probe_start()
    try:
        side.steady(old)
        time.sleep(0.2)
        pr = side.prober
        mark = pr.mark()
        if case == "graceful":
            t0 = side.ka["ka1"].stop()
        elif case == "return":
            t0 = time.monotonic()
            side.ka["ka1"].start()
        elif case == "linkdown":
            t0 = link_set(ka1_ns, ka1_dev, "down")
        else:
            t0 = link_set(ka1_ns, ka1_dev, "up")
        if case == "linkdown":  # ka1 keeps the VIP configured while its link is down
            pr.wait_answerer(new, TIMEOUT)
        else:
            side.steady(new)
        time.sleep(0.3)
        gap, lost, who = pr.gap(mark)
        a_new, a_old = side.arr[new], side.arr[old]
        first_new = a_new.first_after(t0)
        last_old = a_old.last_before(first_new + 5.0) if first_new else None
        garp = a_new.garp_after(t0)
        ctf = a_new.first_after(garp) if garp else None
        adv = side.arr[old].advert_before(t0) if case == "linkdown" else None
        # graceful: ka1's priority-0 advert, leaving it -> arriving at ka2 (the network's part
        # of `detect`; keepalived then waits its skew time)
        transit = None
        if case == "graceful":
            sent0 = side.arr[old].advert_after(t0)
            got0 = side.arr[new].advert_after(sent0, arriving=True) if sent0 else None
            transit = got0 - sent0 if got0 else None
        ms = lambda x: None if x is None else x * 1e3  # noqa: E731
        return {"gap": ms(gap), "lost": lost, "who": who,
                "switch": ms(first_new - last_old) if first_new and last_old else None,
                "detect": ms(garp - t0) if garp else None,
                "adv": ms(first_new - adv) if adv and first_new else None,
                "ctf": ms(ctf - garp) if ctf and garp else None,
                "transit": ms(transit)}
    finally:
        side.probe_stop()


def restore(side):
    """After a failed trial: ka1's link up and keepalived running."""
    ns, dev, _ = side.vm("ka1")
    try:
        link_set(ns, dev, "up")
    except subprocess.CalledProcessError:
        pass
    if not side.ka["ka1"].running():
        side.ka["ka1"].start()
    time.sleep(1)


def fmt(v, nd=1):
    return "-" if v is None else ("%.*f" % (nd, v))


def med_range(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return "%s [%s .. %s]" % (fmt(statistics.median(xs)), fmt(min(xs)), fmt(max(xs)))


def ratio_line(a, b):
    rs = [x / y for x, y in zip(a, b) if x is not None and y is not None and y > 0]
    if not rs:
        return "-"
    return "%.2f [%.2f .. %.2f]" % (statistics.median(rs), min(rs), max(rs))


def part1(args, bridge, workdir):
    results = {}
    for encap in args.encap:
        side = Veneer(encap, workdir, args.interval, args.vrrp)
        try:
            log("== %s: lab %s up (3 hosts)" % (encap, side.lab.name))
            side.up()
            side.start()
            res = {c: {"A": [], "B": []} for c in args.cases}
            for i in range(args.pairs):
                for case in args.cases:
                    for tag, s in (("A", side), ("B", bridge)):
                        try:
                            r = trial(s, case)
                        except AssertionError as e:
                            r = None
                            log("  pair %d %-8s %s %-7s FAILED: %s" % (i + 1, case, tag,
                                                                      s.label, str(e)[:300]))
                            restore(s)
                        res[case][tag].append(r)
                        if r:
                            log("  pair %d %-8s %s %-7s gap %7s ms (%4d lost)  switch %7s  "
                                "detect %7s  adv %7s  ctf %6s  transit %5s" % (
                                    i + 1, case, tag, s.label, fmt(r["gap"]), r["lost"],
                                    fmt(r["switch"]), fmt(r["detect"]), fmt(r["adv"]),
                                    fmt(r["ctf"]), fmt(r["transit"], 2)))
            results[encap] = res
            log("  agents' drops: %s" % "; ".join(
                "h%d %s" % (k, {n: v for n, v in side.lab.drops("h%d" % k).items() if v})
                for k in (1, 2, 3)))
        finally:
            side.stop()
            left = side.down()
            if left:
                log("lab %s not entirely gone: %s" % (side.lab.name, left))
    return results


def part1_summary(args, results):
    log("")
    log("Part 1: failover gaps, ms, median [min .. max] of %d pairs; A = Veneer, B = keepalived "
        "on a Linux bridge" % args.pairs)
    log("| encap | case | metric | A Veneer | B bridge | A/B (per pair) |")
    log("|---|---|---|---|---|---|")
    for encap, res in results.items():
        for case in args.cases:
            for m in METRICS:
                a = [r[m] if r else None for r in res[case]["A"]]
                b = [r[m] if r else None for r in res[case]["B"]]
                log("| %s | %s | %s | %s | %s | %s |" % (
                    encap, case, m, med_range(a), med_range(b),
                    ratio_line(a, b) if m in ("gap", "detect", "adv") else ""))
            fa = sum(1 for r in res[case]["A"] if r is None)
            fb = sum(1 for r in res[case]["B"] if r is None)
            if fa or fb:
                log("| %s | %s | failed trials | %d | %d | |" % (encap, case, fa, fb))


# ---------------------------------------------------------------------------------------------
# Part 2: claim-to-forwarding against the number of hosts

def garp_frame(mac, ip):
    """The gratuitous ARP request keepalived sends: broadcast, sender = target = the VIP."""
    m = bytes.fromhex(mac.replace(":", ""))
    a = socket.inet_aton(ip)
    return (b"\xff" * 6 + m + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + m + a +
            b"\x00" * 6 + a)


class CtfSide:
    """ka1, ka2 and c (ns, dev, ip, mac); the VIP moved by hand with one GARP."""

    def __init__(self, label, vms, interval):
        self.label = label
        self.vms = vms  # name -> (ns, dev, ip, mac)
        self.arr = {n: Arrivals(vms[n][0], vms[n][1]) for n in ("ka1", "ka2")}
        self.resp = [Responder(vms[n][0], n) for n in ("ka1", "ka2")]
        self.holder = None
        self.interval = interval
        self.prober = None

    def move(self, to):
        """Moves the VIP to `to`: addr del on the other, add on `to`, one GARP from `to`."""
        other = "ka1" if to == "ka2" else "ka2"
        ons, odev = self.vms[other][:2]
        sh("ip", "-n", ons, "addr", "del", VIP + "/24", "dev", odev, check=False)
        ns, dev, _, mac = self.vms[to]
        sh("ip", "-n", ns, "addr", "add", VIP + "/24", "dev", dev, check=False)
        s = packet_socket(ns, dev)
        try:
            s.send(garp_frame(mac, VIP))
        finally:
            s.close()
        self.holder = to

    def trial(self):
        to = "ka2" if self.holder == "ka1" else "ka1"
        t_send = time.monotonic()
        self.move(to)
        a = self.arr[to]
        garp = wait_until(lambda: a.garp_after(t_send - 0.001), 2, interval=0.005,
                          what="%s: the GARP seen leaving %s" % (self.label, to))
        first = wait_until(lambda: a.first_after(garp), 5, interval=0.005,
                           what="%s: a probe at %s after its GARP" % (self.label, to))
        self.prober.wait_answerer(to, 5)
        return (first - garp) * 1e3

    def start(self):
        ns, _, ip, _ = self.vms["c"]
        self.move("ka1")
        self.prober = Prober(ns, ip, interval=self.interval)
        self.prober.wait_answerer("ka1", 10)

    def stop(self):
        if self.prober:
            self.prober.stop()
        for x in list(self.arr.values()) + self.resp:
            x.stop()


def ctf_lab(hosts, interval):
    lab = Lab()
    lab.up(hosts=hosts)
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    h = (lambda i: "h1") if hosts == 1 else (lambda i: "h%d" % i)
    vms = {}
    for i, name in enumerate(("ka1", "ka2", "c"), 1):
        kw = {"claimable": [VIP_CLAIM]} if name != "c" else {}
        v = lab.vm(lab.port(sa, h(i), **kw), name)
        vms[name] = (v.ns, v.dev, v.ip, v.mac)
    for i in range(4, hosts + 1):
        lab.port(sa, "h%d" % i)  # idle: the host's agent holds the network
    lab.wait_applied(lab.api.get("/v1/health")["revision"], timeout=60)
    return lab, CtfSide("%d host%s" % (hosts, "s" if hosts > 1 else ""), vms, interval)


def part2(args, bridge):
    series = {}
    labs, sides = [], []
    try:
        bvms = {n: bridge.vm(n) + (sh("ip", "-n", bridge.vm(n)[0], "-j", "link", "show",
                                      "eth0").stdout.split('"address":"')[1][:17],)
                for n in ("ka1", "ka2", "c")}
        sides.append(CtfSide("bridge", bvms, args.interval))
        for hosts in (1, args.ctf_hosts):
            t = time.monotonic()
            lab, side = ctf_lab(hosts, args.interval)
            labs.append(lab)
            sides.append(side)
            log("== part 2: lab %s with %d host(s) up and configured in %.1f s"
                % (lab.name, hosts, time.monotonic() - t))
        for s in sides:
            s.start()
            series[s.label] = []
        for i in range(args.ctf_trials):
            line = []
            for s in sides:
                try:
                    v = s.trial()
                except AssertionError as e:
                    v = None
                    log("  trial %d %s FAILED: %s" % (i + 1, s.label, str(e)[:300]))
                series[s.label].append(v)
                line.append("%s %s" % (s.label, fmt(v)))
                time.sleep(0.15)
            log("  trial %2d  %s ms" % (i + 1, "  ".join(line)))
    finally:
        for s in sides:
            s.stop()
        for lab in labs:
            left = lab.down()
            if left:
                log("lab %s not entirely gone: %s" % (lab.name, left))
    log("")
    log("Part 2: claim-to-forwarding, GARP leaving the VM -> first probe (every %.1f ms) at "
        "the new owner, ms, %d trials" % (args.interval * 1e3, args.ctf_trials))
    log("| series | median | p90 | min | max | failed |")
    log("|---|---|---|---|---|---|")
    for label, xs in series.items():
        ok = sorted(x for x in xs if x is not None)
        if not ok:
            log("| %s | - | - | - | - | %d |" % (label, len(xs)))
            continue
        p90 = ok[min(len(ok) - 1, int(round(0.9 * (len(ok) - 1))))]
        log("| %s | %s | %s | %s | %s | %d |" % (label, fmt(statistics.median(ok)), fmt(p90),
                                                 fmt(ok[0]), fmt(ok[-1]), len(xs) - len(ok)))
    keys = list(series)
    if len(keys) == 3:
        log("ratio %s / %s (per trial): %s" % (keys[2], keys[1],
                                               ratio_line(series[keys[2]], series[keys[1]])))
    return series


def cpu_times():
    """The machine's CPU time counters (/proc/stat's first line: user .. steal)."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]


def steal_share(a, b):
    """Percent of all CPU time between two cpu_times() readings that the hypervisor took
    (a vCPU not running: everything on it, a Veneer daemon on a failover's path or a
    kernel softirq alike, waits)."""
    d = [y - x for x, y in zip(a, b)]
    return 100.0 * d[7] / sum(d) if sum(d) else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--encap", default="vxlan,embed6")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--interval", type=float, default=0.001)
    ap.add_argument("--ctf-trials", type=int, default=20)
    ap.add_argument("--ctf-hosts", type=int, default=50)
    ap.add_argument("--vrrp", choices=("multicast", "unicast"), default="multicast",
                    help="unicast: keepalived's unicast_peer on both sides (a diagnostic "
                    "that needs no replication of multicast)")
    ap.add_argument("--no-ctf", action="store_true")
    ap.add_argument("--no-failover", action="store_true")
    args = ap.parse_args()
    args.encap = [e for e in args.encap.split(",") if e]
    args.cases = [c for c in args.cases.split(",") if c]
    if set(args.cases) - set(CASES):
        ap.error("--cases: of %s" % ",".join(CASES))
    if os.geteuid() != 0:
        sys.exit("vip_failover.py needs root (network namespaces)")
    if shutil.which("keepalived") is None:
        sys.exit("vip_failover.py needs keepalived (scripts/install-deps.sh)")
    sys.setswitchinterval(0.0005)

    def on_signal(signo, frame):
        raise KeyboardInterrupt("signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)

    while True:
        prefix = "vf" + secrets.token_hex(2)
        if not any(ns.startswith(prefix + "-") for ns in netns_list()):
            break
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="vip_failover-", dir="/run"))
    bridge = Bridge(prefix, workdir, args.interval, args.vrrp)
    t_start, cpu0 = time.monotonic(), cpu_times()
    rc = 1
    try:
        log("build %s; reference namespaces %s-*; probes every %.1f ms; VRRP %s"
            % (os.environ.get("VENEER_BUILD", REPO / "build"), prefix, args.interval * 1e3,
               args.vrrp))
        bridge.up()
        bridge.start()
        results = part1(args, bridge, workdir) if not args.no_failover else {}
        bridge.stop()
        # part 2 moves the VIP by hand: no keepalived there
        if not args.no_ctf:
            part2(args, bridge)
        if results:
            part1_summary(args, results)
        log("machine: %d CPUs, load %s; CPU time stolen by the hypervisor %.1f%%; total %.0f s"
            % (os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()),
               steal_share(cpu0, cpu_times()), time.monotonic() - t_start))
        rc = 0
    finally:
        try:
            bridge.stop()
        except Exception as e:  # noqa: BLE001 - the namespaces must still go
            log("bridge stop: %s" % e)
        left = bridge.down()
        if left:
            log("reference namespaces not removed: %s" % left)
            rc = rc or 1
        shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
