#!/usr/bin/python3
"""Veneer's data plane against kernel vxlan + bridge, side by side, in the same lab.

  A = Veneer: a veneer-lab with two hosts; one tenant, one network, one /24 subnet, a port on
      h1 and one on h2, each with a VM namespace configured by DHCP (`veneer-lab vm`). Traffic
      VM1 -> VM2 goes VM1 TAP -> veneer-agent h1 -> VXLAN (UDP 4789) over the substrate bridge
      -> veneer-agent h2 -> VM2 TAP.
  B = the reference, in the SAME host namespaces: per host a kernel vxlan device (VNI 4242,
      UDP 4790, unicast remote = the other host) and a Linux bridge enslaving it and one end of
      a veth pair whose other end is a reference VM namespace (NAME-r1 10.99.0.1/24, NAME-r2
      10.99.0.2/24, MTU 1450 like Veneer's TAPs).

Each metric is measured A then B, alternately, --pairs times (default 5), so both see the same
machine at nearly the same moment. Reported per metric: A median (range), B median (range), and
A/B as the median (range) of the per-pair ratios. Never a bare absolute number alone.

  1. TCP bulk: iperf3 -c -t 5 -J, one stream VM1 -> VM2; receiver Gbit/s; sender retransmits.
  2. UDP small packets: iperf3 -u -l 64 -b 0 -t 3 (unlimited offered load): packets/s
     delivered at the receiver (packets - lost as the iperf3 server counts them) and loss %.
     Per pair, where the packets went: for A the agents' control-socket counters (read by agent
     h1 from the TAP, sent, received by agent h2, written to VM2's TAP; all in segments: with
     the TAPs' TSO a super-frame counts as the segments it is cut into), VM1's TAP tx_dropped
     (the agent did not read fast enough) and Udp RcvbufErrors in NAME-h2 (agent h2's socket
     full); for both, Udp RcvbufErrors in VM2 (the iperf3 server's socket full).
  3. Loss-free rate: bisection (--search-steps trials, default 5, each iperf3 -u -l 64 -t 1 at
     a paced rate) over [0, min(rate sent, 1.5 x rate delivered) in test 2 of the same pair and
     side]; reported is the highest rate actually sent with loss < 0.1 % (0 if none passed). If
     the top of the bracket already passes, that is reported and marked "top of the bracket".
  4. Latency at low rate: ping -i 0.01 -c 300 (56-byte payload); p50 and p99 of the individual
     reply times (nearest rank), in microseconds.
  5. CPU per delivered packet, during test 2 (and during the highest loss-free trial of 3):
     - path: utime+stime of the processes on the path - iperf3 client and server (rusage of
       the reaped children), the ksoftirqd/N threads and, for A, both veneer-agent processes
       (/proc/PID/stat) - over the packets delivered. This kernel uses tick accounting without
       IRQ time accounting, so softirq work (where B's veth, bridge and vxlan run, and the
       kernel half of A's path) is charged to the task it interrupts: mostly the sender and
       receiver, else ksoftirqd; softirq that interrupts an idle CPU is missed by both. This is
       the figure comparable between A and B, and it is not polluted by other load.
     - machine: busy jiffies from /proc/stat (user+nice+system+irq+softirq, all CPUs; idle,
       iowait and steal not counted) over the packets delivered. It counts everything on the
       machine, including load that is not ours (shown: background cores busy before and
       after the run); quoted for completeness.
     - A only: utime+stime of both veneer-agent processes per packet delivered, and each
       agent's share of a core (a single-threaded agent near 1.0 is the bottleneck).
     Under overload (test 2) every figure includes the sender's work on packets dropped later:
     per delivered packet, not per handled one. /proc resolution is 1/CLK_TCK (10 ms).

usage (root; stdlib only; needs iperf3, ping, ip; builds nothing - run `ninja -C build` first):
  /usr/bin/python3 bench/dataplane.py [--pairs 5] [--search-steps 5] [--no-search]
                                      [--name LAB] [--build DIR]
Takes about 4 minutes with the defaults. Creates lab NAME (default dpb<digits>) and removes it,
the reference namespaces, links and every process it started, on exit, failure or signal.
"""
import argparse
import atexit
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")
IPERF_PORT = "5301"
VNI_REF = "4242"
PORT_REF = "4790"
LOSS_FREE = 0.1  # percent

# ---------------------------------------------------------------------------------------------
# cleanup: every resource is registered before (or right after) it is made, undone in reverse

_undo = []
_cleaned = False


def register(desc, fn):
    _undo.append((desc, fn))


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # finish the cleanup
        signal.signal(sig, signal.SIG_IGN)
    stop_all_procs()
    while _undo:
        desc, fn = _undo.pop()
        try:
            fn()
        except Exception as e:  # keep going: everything else must still go
            print("cleanup: %s: %s" % (desc, e), file=sys.stderr)


def _on_signal(signum, _frame):
    sys.exit(128 + signum)  # raises SystemExit: finally blocks and atexit run


def run(cmd, check=True, timeout=60, env=None, quiet=False):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError("%s -> exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout[-2000:],
                                                     r.stderr[-2000:]))
    return r


_procs = set()  # Popen objects of the processes we started and have not reaped


def stop_proc(p, wait=3.0):
    """Stops one process we started (TERM, then KILL) by its Popen, which knows whether it has
    been reaped already: a recycled PID is never signalled."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    _procs.discard(p)


def stop_all_procs():
    for p in list(_procs):
        stop_proc(p)


# ---------------------------------------------------------------------------------------------
# the lab (A) and the reference (B)


class Lab:
    def __init__(self, name, build):
        self.name = name
        self.build = build
        self.tool = os.path.join(REPO, "scripts", "veneer-lab")
        self.ctl = os.path.join(build, "src", "ctl", "veneerctl")
        self.dir = "/run/veneer-lab/" + name
        self.env = dict(os.environ, VENEER_BUILD=build)

    def lab(self, *args, timeout=120):
        return run([self.tool] + list(args), timeout=timeout, env=self.env)

    def vctl(self, token, *args):
        env = dict(self.env, VENEER_URL=self.url, VENEER_TOKEN=token)
        return run([self.ctl] + list(args), env=env).stdout.strip()

    def up(self):
        if os.path.exists(self.dir):
            sys.exit("lab %s is already up: pick another --name (not taking down someone's lab)"
                     % self.name)
        register("veneer-lab down --name " + self.name,
                 lambda: self.lab("down", "--name", self.name))
        self.lab("up", "--name", self.name, "--hosts", "2")
        env = {}
        with open(self.dir + "/env") as f:
            for line in f:
                m = re.match(r"export (\w+)=(.*)", line.strip())
                if m:
                    env[m.group(1)] = m.group(2)
        self.url, admin = env["VENEER_URL"], env["VENEER_TOKEN"]
        with open(self.dir + "/index") as f:
            self.k = int(f.read().strip())
        tid = self.vctl(admin, "-o", "id", "tenant", "create", "--name", "bench")
        tok = self.vctl(admin, "-o", "id", "token", "create", "--tenant", tid, "--name", "bench")
        net = self.vctl(tok, "-o", "id", "network", "create", "--name", "bench", "--cidr",
                        "10.77.0.0/16")
        sub = self.vctl(tok, "-o", "id", "subnet", "create", "--network", net, "--cidr",
                        "10.77.1.0/24", "--name", "bench")
        self.ns, self.ip = {}, {}
        for i in (1, 2):
            port = self.vctl(tok, "-o", "id", "port", "create", "--subnet", sub, "--host",
                             "h%d" % i, "--name", "vm%d" % i)
            self.lab("vm", "v%d" % i, "--port", port, "--name", self.name)
            info = json.loads(self.vctl(tok, "-o", "json", "port", "show", port))
            self.ns[i] = "%s-v%d" % (self.name, i)
            self.ip[i] = info["ip"]
        self.agent_pids = []
        for h in ("h1", "h2"):
            with open("%s/agent-%s.pid" % (self.dir, h)) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() != "veneer-agent":
                    raise RuntimeError("agent-%s.pid does not name a veneer-agent" % h)
            self.agent_pids.append(pid)

    def agent_status(self, host):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect("%s/%s.sock" % (self.dir, host))
        s.sendall(b"status\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        return json.loads(out)["dataplane"]

    def counters(self):
        h1, h2 = self.agent_status("h1"), self.agent_status("h2")
        p1 = list(h1["ports"].values())[0]
        p2 = list(h2["ports"].values())[0]
        j = json.loads(run(["ip", "-n", self.ns[1], "-j", "-s", "link", "show", p1["device"]])
                       .stdout)
        return {"h1_tap_rx": p1["rx"], "h1_sub_tx": h1["substrate_tx"],
                "h2_sub_rx": h2["substrate_rx"], "h2_tap_tx": p2["tx"],
                "vm1_tap_txdrop": j[0]["stats64"]["tx"]["dropped"],
                "h2_rcvbuf": udp_rcvbuf_errors("%s-h2" % self.name)}


def ref_up(lab):
    """Kernel vxlan + bridge in the lab's host namespaces, veth to namespaces NAME-r1/-r2."""
    n, k = lab.name, lab.k
    ns, ip = {}, {}
    for i in (1, 2):
        j = 3 - i
        h, r = "%s-h%d" % (n, i), "%s-r%d" % (n, i)
        if os.path.exists("/run/netns/" + r):
            raise RuntimeError("namespace %s exists already" % r)
        register("netns del " + r, lambda r=r: run(["ip", "netns", "del", r]))
        run(["ip", "netns", "add", r])
        run(["ip", "-n", r, "link", "set", "lo", "up"])
        for dev in ("vxref", "brref", "vref"):  # the veth peer goes with vref or with NAME-rI
            register("link del %s in %s" % (dev, h),
                     lambda h=h, dev=dev: run(["ip", "-n", h, "link", "del", dev], check=False))
        run(["ip", "-n", h, "link", "add", "vxref", "type", "vxlan", "id", VNI_REF, "local",
             "198.18.%d.%d" % (k, i), "remote", "198.18.%d.%d" % (k, j), "dstport", PORT_REF,
             "dev", "eth0"])
        run(["ip", "-n", h, "link", "add", "brref", "type", "bridge"])
        run(["ip", "-n", h, "link", "add", "vref", "mtu", "1450", "type", "veth", "peer", "name",
             "eth0", "netns", r])
        run(["ip", "-n", h, "link", "set", "vxref", "master", "brref"])
        run(["ip", "-n", h, "link", "set", "vref", "master", "brref"])
        for dev in ("vxref", "vref", "brref"):
            run(["ip", "-n", h, "link", "set", dev, "up"])
        run(["ip", "-n", r, "link", "set", "eth0", "mtu", "1450"])
        run(["ip", "-n", r, "addr", "add", "10.99.0.%d/24" % i, "dev", "eth0"])
        run(["ip", "-n", r, "link", "set", "eth0", "up"])
        ns[i], ip[i] = r, "10.99.0.%d" % i
    return ns, ip


# ---------------------------------------------------------------------------------------------
# measurements


def cpu_busy():
    """Busy jiffies of the whole machine: user+nice+system+irq+softirq over all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    return v[0] + v[1] + v[2] + v[5] + v[6]


def udp_rcvbuf_errors(ns):
    """Udp RcvbufErrors of a namespace: datagrams dropped because a socket buffer was full."""
    lines = [ln.split() for ln in run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"])
             .stdout.splitlines() if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def background(seconds=1.0):
    """Cores busy on the machine while this benchmark sends nothing."""
    m0, t0 = cpu_busy(), time.monotonic()
    time.sleep(seconds)
    return (cpu_busy() - m0) / CLK / (time.monotonic() - t0)


def proc_cpu(pids):
    t = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        t += int(rest[11]) + int(rest[12])  # fields 14 utime, 15 stime
    return t


class Side:
    def __init__(self, label, ns, ip, lab=None):
        self.label, self.ns, self.ip, self.lab = label, ns, ip, lab

    def exec(self, i, cmd):
        return ["ip", "netns", "exec", self.ns[i]] + cmd


def listening(pid, port):
    """Whether the process (in its namespace) has a TCP socket listening on port; read from
    /proc rather than by running ss, so that no helper process runs inside a CPU window."""
    for f in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, f)) as fh:
                for ln in fh.readlines()[1:]:
                    x = ln.split()
                    if x[3] == "0A" and int(x[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ksoftirqd_pids():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().startswith("ksoftirqd/"):
                        out.append(int(d))
            except OSError:
                pass
    return out


KSOFTIRQD = []


def iperf(side, args, duration):
    """One iperf3 test VM1 -> VM2: a one-off server in VM2, stopped by PID; client JSON."""
    for attempt in (1, 2, 3):
        srv = subprocess.Popen(side.exec(2, ["iperf3", "-s", "-1", "-p", IPERF_PORT]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _procs.add(srv)
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not listening(srv.pid, int(IPERF_PORT)):
                time.sleep(0.02)
            r = run(side.exec(1, ["iperf3", "-c", side.ip[2], "-p", IPERF_PORT, "-J",
                                  "-t", str(duration)] + args),
                    check=False, timeout=duration + 30)
            try:
                d = json.loads(r.stdout)
            except ValueError:
                d = {"error": "no JSON: " + r.stderr[-300:]}
            if "error" not in d:
                try:
                    srv.wait(timeout=5)  # -1: the server ends after its one test
                except subprocess.TimeoutExpired:
                    pass
                return d
            err = d["error"]
        finally:
            stop_proc(srv)
        time.sleep(0.5)
    raise RuntimeError("%s: iperf3 %s: %s" % (side.label, " ".join(args), err))


def tcp_test(side):
    d = iperf(side, [], 5)
    return {"gbps": d["end"]["sum_received"]["bits_per_second"] / 1e9,
            "retr": d["end"]["sum_sent"].get("retransmits", 0)}


def udp_test(side, agents, rate_pps=None, duration=3):
    """iperf3 UDP, 64-byte payloads; rate None = unlimited (-b 0)."""
    b = "0" if rate_pps is None else str(int(rate_pps * 64 * 8))
    c0 = side.lab.counters() if side.lab else {}
    c0["vm2_rcvbuf"] = udp_rcvbuf_errors(side.ns[2])
    a0, k0, ch0 = [proc_cpu([p]) for p in agents], proc_cpu(KSOFTIRQD), children_cpu()
    m0, t0 = cpu_busy(), time.monotonic()
    d = iperf(side, ["-u", "-l", "64", "-b", b], duration)
    m1, t1 = cpu_busy(), time.monotonic()
    a1, k1, ch1 = [proc_cpu([p]) for p in agents], proc_cpu(KSOFTIRQD), children_cpu()
    c1 = side.lab.counters() if side.lab else {}
    c1["vm2_rcvbuf"] = udp_rcvbuf_errors(side.ns[2])
    sent = d["end"]["sum_sent"]
    recv = d["end"].get("sum_received") or d["end"]["sum"]
    delivered = max(recv["packets"] - recv["lost_packets"], 0)
    out = {"sent_pps": sent["packets"] / sent["seconds"],
           "pps": delivered / recv["seconds"],
           "loss": 100.0 * recv["lost_packets"] / max(recv["packets"], 1),
           "delivered": delivered,
           "busy_cores": (m1 - m0) / CLK / (t1 - t0),
           "sys_ns": (m1 - m0) * 1e9 / CLK / max(delivered, 1)}
    path_s = (ch1 - ch0) + (sum(a1) - sum(a0) + k1 - k0) / CLK
    out["path_ns"] = path_s * 1e9 / max(delivered, 1)
    out["path_cores"] = path_s / (t1 - t0)
    if agents:
        da = [y - x for x, y in zip(a0, a1)]
        out["agent_ns"] = sum(da) * 1e9 / CLK / max(delivered, 1)
        out["agent_cores"] = [x / CLK / (t1 - t0) for x in da]
    out["path"] = {k: c1[k] - c0[k] for k in c0}
    out["path"]["sent"] = sent["packets"]
    out["path"]["delivered"] = delivered
    return out


def search(side, agents, top_pps, steps):
    """Highest sent rate with loss < LOSS_FREE %, bisecting [0, top_pps]."""
    lo, hi, best = 0.0, top_pps, None
    trial = udp_test(side, agents, top_pps, 1)
    if trial["loss"] < LOSS_FREE:
        trial["top"] = True
        return trial
    for _ in range(steps - 1):
        mid = (lo + hi) / 2
        trial = udp_test(side, agents, mid, 1)
        if trial["loss"] < LOSS_FREE:
            lo, best = mid, trial
        else:
            hi = mid
    return best or {"sent_pps": 0.0, "pps": 0.0, "loss": 100.0, "sys_ns": float("nan"),
                    "agent_ns": float("nan"), "path_ns": float("nan")}


def ping_test(side):
    r = run(side.exec(1, ["ping", "-n", "-i", "0.01", "-c", "300", "-W", "1", side.ip[2]]),
            check=False, timeout=60)
    t = sorted(float(x) * 1000 for x in re.findall(r"time=([0-9.]+) ms", r.stdout))
    if len(t) < 30:
        raise RuntimeError("%s: ping got %d replies\n%s" % (side.label, len(t), r.stdout[-500:]))

    def rank(p):
        return t[min(len(t) - 1, max(0, -(-len(t) * p // 100) - 1))]

    return {"p50": rank(50), "p99": rank(99), "lost": 300 - len(t)}


# ---------------------------------------------------------------------------------------------
# report


def med_range(xs, fmt):
    xs = [x for x in xs if x == x]  # drop NaN
    if not xs:
        return "n/a"
    return ("%s (%s-%s)" % (fmt, fmt, fmt)) % (statistics.median(xs), min(xs), max(xs))


def row(title, a, b, fmt, unit):
    ratios = [x / y for x, y in zip(a, b) if y and x == x and y == y]
    rs = med_range(ratios, "%.3f") if ratios else "n/a"
    print("  %-40s A %-22s B %-22s A/B %s" % (title + " [" + unit + "]", med_range(a, fmt),
                                               med_range(b, fmt), rs))
    return statistics.median(ratios) if ratios else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--search-steps", type=int, default=5)
    ap.add_argument("--no-search", action="store_true", help="skip the loss-free rate search")
    ap.add_argument("--name", default="dpb%d" % (os.getpid() % 100000))
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces)")
    if a.pairs < 1:
        sys.exit("--pairs: at least 1 (5 or more for a result worth quoting)")
    build = os.path.abspath(a.build)
    for b in ("src/veneerd/veneerd", "src/agent/veneer-agent", "src/ctl/veneerctl"):
        if not os.access(os.path.join(build, b), os.X_OK):
            sys.exit("missing %s/%s: run ninja -C %s" % (build, b, build))
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    t_start = time.monotonic()
    KSOFTIRQD.extend(ksoftirqd_pids())
    bg0 = background()
    try:
        lab = Lab(a.name, build)
        lab.up()
        rns, rip = ref_up(lab)
        A = Side("A", lab.ns, lab.ip, lab)
        B = Side("B", rns, rip)
        for s in (A, B):  # ARP and learning warm-up, and a connectivity check
            r = run(s.exec(1, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", s.ip[2]]),
                    check=False)
            if " 0 received" in r.stdout or r.returncode != 0:
                raise RuntimeError("%s: VM1 cannot reach VM2 %s\n%s" % (s.label, s.ip[2],
                                                                        r.stdout))
        print("Veneer data plane (A) vs kernel vxlan+bridge (B), lab %s, %d CPUs, kernel %s"
              % (a.name, os.cpu_count(), os.uname().release))
        print("A: %s %s -> %s %s via veneer-agent h1/h2 (VXLAN UDP 4789), agent PIDs %s"
              % (A.ns[1], A.ip[1], A.ns[2], A.ip[2], lab.agent_pids))
        print("B: %s %s -> %s %s via veth+bridge+vxlan (VNI %s, UDP %s) in %s-h1/h2"
              % (B.ns[1], B.ip[1], B.ns[2], B.ip[2], VNI_REF, PORT_REF, a.name))
        print("setup %.0f s; %d pairs, each metric A then B\n" % (time.monotonic() - t_start,
                                                                 a.pairs))
        res = {"A": [], "B": []}
        for p in range(a.pairs):
            pair = {"A": {}, "B": {}}
            for s in (A, B):
                pair[s.label]["tcp"] = tcp_test(s)
            for s in (A, B):
                pair[s.label]["udp"] = udp_test(s, lab.agent_pids if s is A else [])
            for s in (A, B):
                pair[s.label]["ping"] = ping_test(s)
            if not a.no_search:
                for s in (A, B):
                    u = pair[s.label]["udp"]
                    top = min(u["sent_pps"], 1.5 * u["pps"])
                    pair[s.label]["lf"] = search(s, lab.agent_pids if s is A else [],
                                                 top, a.search_steps)
            for lb in ("A", "B"):
                x = pair[lb]
                line = ("pair %d %s: tcp %.2f Gbit/s (retr %d) | udp64 sent %.0f kpps, "
                        "delivered %.1f kpps, loss %.1f%%, path CPU %.0f ns/pkt (%.2f cores), "
                        "machine %.0f ns/pkt (%.2f cores)"
                        % (p + 1, lb, x["tcp"]["gbps"], x["tcp"]["retr"],
                           x["udp"]["sent_pps"] / 1e3, x["udp"]["pps"] / 1e3, x["udp"]["loss"],
                           x["udp"]["path_ns"], x["udp"]["path_cores"], x["udp"]["sys_ns"],
                           x["udp"]["busy_cores"]))
                if "agent_ns" in x["udp"]:
                    line += ", agents %.0f ns/pkt (h1 %.2f, h2 %.2f cores)" % (
                        x["udp"]["agent_ns"], x["udp"]["agent_cores"][0],
                        x["udp"]["agent_cores"][1])
                line += " | ping p50 %.0f p99 %.0f us" % (x["ping"]["p50"], x["ping"]["p99"])
                if "lf" in x:
                    line += " | loss-free %.1f kpps%s" % (
                        x["lf"]["sent_pps"] / 1e3,
                        " (top of the bracket)" if x["lf"].get("top") else "")
                print(line)
                q = x["udp"]["path"]
                if lb == "A":
                    print("         A udp64 path: client sent %d; VM1 TAP dropped %d (agent h1 "
                          "not reading fast enough); agent h1 read %d, sent %d; h2 UDP socket "
                          "buffer full %d; agent h2 received %d, wrote to VM2 TAP %d; VM2 "
                          "socket buffer full %d; iperf3 server got %d"
                          % (q["sent"], q["vm1_tap_txdrop"], q["h1_tap_rx"], q["h1_sub_tx"],
                             q["h2_rcvbuf"], q["h2_sub_rx"], q["h2_tap_tx"], q["vm2_rcvbuf"],
                             q["delivered"]))
                else:
                    print("         B udp64 path: client sent %d; VM2 socket buffer full %d; "
                          "iperf3 server got %d" % (q["sent"], q["vm2_rcvbuf"], q["delivered"]))
                res[lb].append(x)
            sys.stdout.flush()

        def col(lb, *keys):
            out = []
            for x in res[lb]:
                for k in keys:
                    x = x.get(k, float("nan")) if isinstance(x, dict) else float("nan")
                out.append(x)
            return out

        print("\nPer metric: median (range) over %d pairs; A/B = median (range) of per-pair "
              "ratios" % a.pairs)
        r = {}
        print(" 1. TCP bulk, 1 stream, 5 s")
        r["tcp"] = row("throughput", col("A", "tcp", "gbps"), col("B", "tcp", "gbps"), "%.2f",
                       "Gbit/s")
        row("retransmits", col("A", "tcp", "retr"), col("B", "tcp", "retr"), "%.0f", "segs")
        print(" 2. UDP 64-byte payload, unlimited offered load (-b 0), 3 s")
        row("offered by the sender", [v / 1e3 for v in col("A", "udp", "sent_pps")],
            [v / 1e3 for v in col("B", "udp", "sent_pps")], "%.1f", "kpps")
        r["pps"] = row("delivered to the receiver", [v / 1e3 for v in col("A", "udp", "pps")],
                       [v / 1e3 for v in col("B", "udp", "pps")], "%.1f", "kpps")
        row("loss", col("A", "udp", "loss"), col("B", "udp", "loss"), "%.1f", "%")
        if not a.no_search:
            print(" 3. Loss-free rate (loss < %.1f %%, %d bisection steps of 1 s, 64-byte UDP)"
                  % (LOSS_FREE, a.search_steps))
            r["lf"] = row("highest rate sent loss-free", [v / 1e3 for v in col("A", "lf",
                                                                              "sent_pps")],
                          [v / 1e3 for v in col("B", "lf", "sent_pps")], "%.1f", "kpps")
        print(" 4. Latency, ping -i 0.01 -c 300")
        r["p50"] = row("RTT p50", col("A", "ping", "p50"), col("B", "ping", "p50"), "%.0f", "us")
        r["p99"] = row("RTT p99", col("A", "ping", "p99"), col("B", "ping", "p99"), "%.0f", "us")
        print(" 5. CPU per delivered packet. path = utime+stime of iperf3 client and server, "
              "ksoftirqd/*, and A's agents;")
        print("    machine = /proc/stat user+nice+system+irq+softirq of all CPUs (includes other "
              "load on the machine)")
        r["cpu"] = row("path, udp64 unlimited", col("A", "udp", "path_ns"),
                       col("B", "udp", "path_ns"), "%.0f", "ns/pkt")
        if not a.no_search:
            r["cpu_lf"] = row("path, at the loss-free rate", col("A", "lf", "path_ns"),
                              col("B", "lf", "path_ns"), "%.0f", "ns/pkt")
        row("path busy, udp64 unlimited", col("A", "udp", "path_cores"),
            col("B", "udp", "path_cores"), "%.2f", "cores")
        r["mcpu"] = row("machine, udp64 unlimited", col("A", "udp", "sys_ns"),
                        col("B", "udp", "sys_ns"), "%.0f", "ns/pkt")
        if not a.no_search:
            r["mcpu_lf"] = row("machine, at the loss-free rate", col("A", "lf", "sys_ns"),
                               col("B", "lf", "sys_ns"), "%.0f", "ns/pkt")
        row("machine busy, udp64 unlimited", col("A", "udp", "busy_cores"),
            col("B", "udp", "busy_cores"), "%.2f", "cores")
        print("  %-40s A %s" % ("agents h1+h2 utime+stime [ns/pkt]",
                                med_range(col("A", "udp", "agent_ns"), "%.0f")))
        print("  %-40s A h1 %s, h2 %s" % (
            "agent CPU, udp64 unlimited [cores]",
            med_range([c[0] for c in col("A", "udp", "agent_cores")], "%.2f"),
            med_range([c[1] for c in col("A", "udp", "agent_cores")], "%.2f")))
        if not a.no_search:
            print("  %-40s A %s" % ("agents h1+h2, at loss-free rate [ns/pkt]",
                                    med_range(col("A", "lf", "agent_ns"), "%.0f")))

        print("\nSummary (A = Veneer, B = kernel vxlan+bridge; A/B medians of per-pair ratios)")
        print("  TCP throughput A/B            %.3f" % r["tcp"])
        print("  64-byte delivered pps A/B     %.3f" % r["pps"])
        if "lf" in r:
            print("  64-byte loss-free pps A/B     %.3f" % r["lf"])
        print("  RTT p50 A/B                   %.2f   p99 A/B %.2f" % (r["p50"], r["p99"]))
        print("  path CPU per packet A/B       %.2f (udp64 unlimited)%s"
              % (r["cpu"], ", %.2f (at loss-free rate)" % r["cpu_lf"] if "cpu_lf" in r else ""))
        print("  machine CPU per packet A/B    %.2f (udp64 unlimited)%s"
              % (r["mcpu"], ", %.2f (at loss-free rate)" % r["mcpu_lf"] if "mcpu_lf" in r
                 else ""))
        print("  background load: %.2f cores busy before the run, %.2f after (of %d)"
              % (bg0, background(), os.cpu_count()))
        print("  total run time %.0f s" % (time.monotonic() - t_start))
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
