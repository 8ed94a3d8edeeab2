#!/usr/bin/python3
"""Veneer's embed6 substrate encoding against TAYGA doing SIIT, side by side, in the same lab.

  A = Veneer embed6: a veneer-lab with two hosts and --encap embed6 (NAME-sub is a plain IPv6
      router with one route per host prefix fd10:K:I00::/56); one tenant, one network, one /24
      subnet, a port on h1 and one on h2, each with a VM namespace configured by DHCP
      (`veneer-lab vm`, TAP MTU 1472). VM1 -> VM2: VM1 TAP -> veneer-agent h1 (IPv4 -> IPv6,
      RFC 7915-style, no encapsulation; addresses host prefix|slot|VNID|IPv4) -> the IPv6
      router (host-prefix route) -> veneer-agent h2 (packet socket on eth0, IPv6 -> IPv4) ->
      VM2 TAP.
  B = TAYGA 0.9 (Debian `tayga`), stateless SIIT, in the SAME host namespaces: per host NAME-hI
      one tayga process with its own config file, data dir and pid file in a private temporary
      directory, on its own TUN `nat64ref`; a reference VM namespace NAME-tI (veth, eth0
      10.98.0.I/24, MTU 1472 like Veneer's TAPs) behind it. No NAT64 prefix: two explicit
      address maps (tayga `map`, RFC 7757 EAM style), the same in both instances,
          10.98.0.1 <-> fd10:K:100:ff:ff00:0:a62:1   (inside h1's host prefix)
          10.98.0.2 <-> fd10:K:200:ff:ff00:0:a62:2   (inside h2's host prefix)
      i.e. the embed6 layout prefix|slot 0xffff|VNID 0|IPv4, a slot no Veneer port has. In
      NAME-hI: IPv4 forwarding, proxy ARP on the veth (the reference VM ARPs for its peer as
      Veneer's VMs do), 10.98.0.I/32 via the veth, the peer's /32 into the TUN; IPv6 forwarding
      with a route prefix|0xffff::/72 into the TUN and a blackhole route for the rest of the
      host prefix. VM1 -> VM2: veth -> h1 kernel forwards into nat64ref -> tayga h1 (IPv4 ->
      IPv6) -> kernel -> eth0 -> the same IPv6 router, by the same host-prefix route -> h2 eth0
      -> kernel forwards into nat64ref -> tayga h2 (IPv6 -> IPv4) -> kernel -> veth -> VM2.

  What B changes in the host namespaces, and what that costs A and B:
    - IPv6 forwarding in NAME-hI. Without it the kernel cannot route the translated packets
      into tayga's TUN. With it alone, A's embed6 packets (not addressed to the host) would be
      forwarded back to the router and loop until their hop limit ran out: hence the blackhole
      route for the host prefix, added before forwarding is switched on. For A, the kernel's
      copy of each arriving embed6 packet now ends at the blackhole route instead of at the
      "forwarding disabled" check; the same early drop either way.
    - veneer-agent's packet socket on eth0 receives every IPv6 packet arriving there, so
      running agents also read B's packets (and drop them: "sub_vni", VNID 0 is no network):
      a property of embed6 as built, not of TAYGA, worth 0.4 of a core during B's TCP test on
      a 2-CPU machine. So by default the agents are stopped (SIGSTOP) for each of B's tests and
      continued after it (then DRAIN_S to read the backlog before the next A test; a pause
      lasts < 8 s, well inside the control channel's 15 s heartbeat timeout). --no-pause
      leaves them running, to measure what that coexistence costs. Either way the other
      side's translators are measured as "bystanders" (the agents during B, the idle tayga
      processes during A), and they are inside the machine figure.

Each metric is measured A then B, alternately, --pairs times (default 5). Reported per metric:
A median (range), B median (range), and A/B as the median (range) of the per-pair ratios.

  1. TCP bulk: iperf3 -c -t 5 -J, one stream VM1 -> VM2; receiver Gbit/s, sender retransmits,
     the two translators' share of a core each (which one saturates), their sum per Gbit/s,
     the bystanders' share (see 4) and the machine's busy cores.
  2. UDP small packets: iperf3 -u -l 64 -b 0 -t 3 (unlimited offered load): packets/s delivered
     at the receiver (packets - lost as the iperf3 server counts them), loss %, and the rate
     the sender managed. Per pair, where the packets went: for A the agents' counters (read by
     agent h1 from VM1's TAP, sent as IPv6, received by agent h2, written to VM2's TAP) and
     VM1's TAP tx_dropped (agent h1 not reading fast enough); for B the TUN counters (h1
     nat64ref: into tayga h1 and its tx_dropped = tayga h1 not reading fast enough; out of
     tayga h1; the same on h2); for both, Udp RcvbufErrors in VM2 (iperf3 server's socket).
  3. Latency at low rate: ping -i 0.01 -c 300 (56-byte payload); p50 and p99 of the
     individual replies (nearest rank), in microseconds.
  4. CPU per delivered packet, during test 2:
     - translators: utime+stime (/proc/PID/stat) of both veneer-agent processes for A, of
       both tayga processes for B, over the packets delivered. Both are single-threaded user
       space processes reading and writing a TAP/TUN (and, for A, a raw IPv6 socket and a
       packet socket); their system time includes that I/O. The kernel's forwarding work
       (B: veth -> TUN and TUN -> eth0 in each host; A: the IPv6 input of the packet-socket
       copy) runs in softirq, which this kernel (tick accounting, no IRQ time accounting)
       charges to whichever task it interrupts: it is in the machine figure, not here.
     - machine: busy jiffies from /proc/stat (user+nice+system+irq+softirq, all CPUs) over the
       packets delivered. Counts everything on the machine, other load included (shown: cores
       busy before and after the run).
     - per translator: share of a core during the test (near 1.0 = that process is the limit).
     - bystanders: the other side's translators during the test (see above).
     Under overload every figure includes the sender's work on packets dropped later: it is
     per delivered packet, not per handled one. /proc resolution is 1/CLK_TCK (10 ms).

usage (root; stdlib only; needs tayga, iperf3, ping, ip; builds nothing: `ninja -C build`):
  /usr/bin/python3 bench/embed6.py [--pairs 5] [--no-pause] [--name LAB] [--build DIR]
About 2.5 minutes with the defaults. Creates lab NAME (default e6b<digits>; it refuses a name
already up) and removes it, the reference namespaces, links, routes, tayga processes, their TUNs
and files, and every other process it started, on exit, failure or signal.
"""
import argparse
import atexit
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")
IPERF_PORT = "5302"
VM_MTU = 1472  # Veneer's embed6 TAPs: 1500 - 20 (IPv6 replaces IPv4) - 8 (fragment header)
TUN = "nat64ref"
VETH = "tref"
REF_SLOT = 0xFFFF  # the slot of B's addresses in the host prefixes: no Veneer port has it
DRAIN_S = 0.3  # after continuing paused agents, before the next measurement

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
    resume_all()
    stop_all_procs()
    while _undo:
        desc, fn = _undo.pop()
        try:
            fn()
        except Exception as e:  # keep going: everything else must still go
            print("cleanup: %s: %s" % (desc, e), file=sys.stderr)


def _on_signal(signum, _frame):
    sys.exit(128 + signum)  # raises SystemExit: finally blocks and atexit run


def run(cmd, check=True, timeout=60, env=None):
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


_paused = []  # PIDs of agents we stopped (SIGSTOP) for a B test and have not continued


class paused:
    """Stops the given agents (SIGSTOP) for the duration of a with block, then continues them
    and gives them DRAIN_S to read what queued up on their sockets (B's packets, which they
    drop), so that this work does not fall into the next A window. Each PID is checked to
    still be a veneer-agent before it is signalled."""

    def __init__(self, pids):
        self.pids = pids

    def __enter__(self):
        for pid in self.pids:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() != "veneer-agent":
                    raise RuntimeError("PID %d is no longer a veneer-agent" % pid)
            _paused.append(pid)
            os.kill(pid, signal.SIGSTOP)

    def __exit__(self, *_exc):
        if self.pids:
            resume_all()
            time.sleep(DRAIN_S)


def resume_all():
    while _paused:
        pid = _paused.pop()
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------------------------------
# the lab (A) and the reference (B)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"export (\w+)=(.*)", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    return env


def link_stats(ns, dev):
    j = json.loads(run(["ip", "-n", ns, "-j", "-s", "link", "show", dev]).stdout)[0]
    return j["stats64"], j["mtu"]


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
        self.lab("up", "--name", self.name, "--hosts", "2", "--encap", "embed6")
        env = read_env(self.dir + "/env")
        self.url, admin = env["VENEER_URL"], env["VENEER_TOKEN"]
        with open(self.dir + "/index") as f:
            self.k = int(f.read().strip())
        tid = self.vctl(admin, "-o", "id", "tenant", "create", "--name", "bench")
        tok = self.vctl(admin, "-o", "id", "token", "create", "--tenant", tid, "--name", "bench")
        net = self.vctl(tok, "-o", "id", "network", "create", "--name", "bench", "--cidr",
                        "10.77.0.0/16")
        sub = self.vctl(tok, "-o", "id", "subnet", "create", "--network", net, "--cidr",
                        "10.77.1.0/24", "--name", "bench")
        self.ns, self.ip, self.dev = {}, {}, {}
        for i in (1, 2):
            port = self.vctl(tok, "-o", "id", "port", "create", "--subnet", sub, "--host",
                             "h%d" % i, "--name", "vm%d" % i)
            self.lab("vm", "v%d" % i, "--port", port, "--name", self.name)
            info = json.loads(self.vctl(tok, "-o", "json", "port", "show", port))
            self.ns[i] = "%s-v%d" % (self.name, i)
            self.ip[i] = info["ip"]
            self.dev[i] = info["device"]
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
        st, _ = link_stats(self.ns[1], p1["device"])
        return {"h1_tap_rx": p1["rx"], "h1_sub_tx": h1["substrate_tx"],
                "h2_sub_rx": h2["substrate_rx"], "h2_tap_tx": p2["tx"],
                "vm1_tap_txdrop": st["tx"]["dropped"],
                "sub_vni": h1["drops"].get("sub_vni", 0) + h2["drops"].get("sub_vni", 0)}


def e6_addr(k, host, slot, vnid, v4):
    """The embed6 layout: host prefix fd10:K:I00::/56 | slot (16) | VNID (24) | IPv4 (32)."""
    prefix = ipaddress.IPv6Network("fd10:%x:%x00::/56" % (k, host))
    return ipaddress.IPv6Address(int(prefix.network_address) | slot << 56 | vnid << 32 |
                                 int(ipaddress.IPv4Address(v4)))


def sysctl_set(ns, key, value):
    """Sets a sysctl in a namespace; registers putting the old value back."""
    old = run(["ip", "netns", "exec", ns, "sysctl", "-n", key]).stdout.strip()
    register("sysctl %s=%s in %s" % (key, old, ns),
             lambda: run(["ip", "netns", "exec", ns, "sysctl", "-qw", "%s=%s" % (key, old)],
                         check=False))
    run(["ip", "netns", "exec", ns, "sysctl", "-qw", "%s=%s" % (key, value)])


def route_add(ns, *spec):
    """ip route add SPEC in a namespace; registers its deletion."""
    spec = list(spec)
    fam = spec[:1] if spec[0] == "-6" else []
    spec = spec[len(fam):]
    register("route %s in %s" % (" ".join(spec), ns),
             lambda: run(["ip", "-n", ns] + fam + ["route", "del"] + spec, check=False))
    run(["ip", "-n", ns] + fam + ["route", "add"] + spec)


class Tayga:
    """B: one tayga per host namespace, a reference VM namespace behind each."""

    def __init__(self, lab):
        self.lab = lab
        self.pids, self.procs = [], []
        self.ns, self.ip = {}, {}
        self.v6 = {i: e6_addr(lab.k, i, REF_SLOT, 0, "10.98.0.%d" % i) for i in (1, 2)}

    def up(self):
        n, k = self.lab.name, self.lab.k
        self.dir = tempfile.mkdtemp(prefix="embed6-bench-%s-" % n, dir="/run")
        register("rm -r " + self.dir, lambda: shutil.rmtree(self.dir, ignore_errors=True))
        for i in (1, 2):
            j = 3 - i
            h, t = "%s-h%d" % (n, i), "%s-t%d" % (n, i)
            if os.path.exists("/run/netns/" + t):
                raise RuntimeError("namespace %s exists already" % t)
            register("netns del " + t, lambda t=t: run(["ip", "netns", "del", t]))
            run(["ip", "netns", "add", t])
            run(["ip", "-n", t, "link", "set", "lo", "up"])
            register("link del %s in %s" % (VETH, h),
                     lambda h=h: run(["ip", "-n", h, "link", "del", VETH], check=False))
            run(["ip", "-n", h, "link", "add", VETH, "mtu", str(VM_MTU), "type", "veth", "peer",
                 "name", "eth0", "netns", t])
            run(["ip", "-n", t, "link", "set", "eth0", "mtu", str(VM_MTU)])
            run(["ip", "-n", t, "addr", "add", "10.98.0.%d/24" % i, "dev", "eth0"])
            run(["ip", "-n", t, "link", "set", "eth0", "up"])
            run(["ip", "-n", h, "link", "set", VETH, "up"])
            self.ns[i], self.ip[i] = t, "10.98.0.%d" % i

            # tayga: its own config, data dir and pid file; it makes the TUN and removes it
            # when it exits (not persistent), in the namespace it runs in.
            d = os.path.join(self.dir, "h%d" % i)
            os.makedirs(os.path.join(d, "data"))
            conf = os.path.join(d, "tayga.conf")
            with open(conf, "w") as f:
                f.write("tun-device %s\n" % TUN)
                f.write("ipv4-addr 10.98.255.%d\n" % i)  # source of its ICMPv4 errors
                f.write("ipv6-addr %s\n" % e6_addr(k, i, REF_SLOT, 0, "10.98.255.%d" % i))
                for m in (1, 2):
                    f.write("map 10.98.0.%d %s\n" % (m, self.v6[m]))
                f.write("data-dir %s\n" % os.path.join(d, "data"))
            register("link del %s in %s" % (TUN, h),  # only if tayga's exit left it
                     lambda h=h: run(["ip", "-n", h, "link", "del", TUN], check=False))
            log = open(os.path.join(d, "tayga.log"), "w")
            p = subprocess.Popen(["ip", "netns", "exec", h, "tayga", "-c", conf, "-n", "-p",
                                  os.path.join(d, "tayga.pid")],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            _procs.add(p)
            self.procs.append(p)
            deadline = time.monotonic() + 5
            while run(["ip", "-n", h, "link", "show", TUN], check=False).returncode != 0:
                if p.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(d, "tayga.log")) as f:
                        raise RuntimeError("tayga in %s did not start: %s" % (h, f.read()))
                time.sleep(0.05)
            with open("/proc/%d/comm" % p.pid) as f:  # ip netns exec execs tayga: same PID
                if f.read().strip() != "tayga":
                    raise RuntimeError("PID %d is not tayga" % p.pid)
            self.pids.append(p.pid)
            run(["ip", "-n", h, "link", "set", TUN, "up"])

            # IPv4 side: the reference VM ARPs for its peer on its /24; the host answers.
            route_add(h, "10.98.0.%d/32" % i, "dev", VETH)
            route_add(h, "10.98.0.%d/32" % j, "dev", TUN)
            sysctl_set(h, "net.ipv4.conf.%s.proxy_arp" % VETH, "1")
            sysctl_set(h, "net.ipv4.neigh.%s.proxy_delay" % VETH, "0")
            sysctl_set(h, "net.ipv4.ip_forward", "1")
            # IPv6 side: this host's mapped addresses into the TUN; the rest of the host prefix
            # (A's embed6 packets, taken by the agent's packet socket) to a blackhole, before
            # forwarding goes on, so that the kernel never sends them back to the router.
            route_add(h, "-6", "blackhole", "fd10:%x:%x00::/56" % (k, i))
            route_add(h, "-6", str(ipaddress.IPv6Network("%s/72" % self.v6[i], strict=False)),
                      "dev", TUN)
            sysctl_set(h, "net.ipv6.conf.all.forwarding", "1")

    def alive(self):
        for p in self.procs:
            if p.poll() is not None:
                raise RuntimeError("tayga PID %d exited (%s)" % (p.pid, p.returncode))

    def counters(self):
        out = {}
        for i in (1, 2):
            st, _ = link_stats("%s-h%d" % (self.lab.name, i), TUN)
            # TUN tx = kernel -> tayga; TUN rx = tayga -> kernel
            out["h%d_in" % i] = st["tx"]["packets"]
            out["h%d_indrop" % i] = st["tx"]["dropped"]
            out["h%d_out" % i] = st["rx"]["packets"]
        return out


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


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])  # fields 14 utime, 15 stime


class Side:
    def __init__(self, label, ns, ip, counters, translators, bystanders, pause=()):
        self.label, self.ns, self.ip = label, ns, ip
        self.counters = counters  # () -> dict of path counters
        self.translators, self.bystanders = translators, bystanders  # PIDs
        self.pause = list(pause)  # PIDs stopped during this side's tests

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


def iperf(side, args, duration):
    """One iperf3 test VM1 -> VM2: a one-off server in VM2, stopped by PID; client JSON.
    Returns (json, cpu) where cpu holds the CPU deltas over the client's run."""
    with paused(side.pause):
        return _iperf(side, args, duration)


def _iperf(side, args, duration):
    err = "?"
    for _attempt in (1, 2, 3):
        srv = subprocess.Popen(side.exec(2, ["iperf3", "-s", "-1", "-p", IPERF_PORT]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _procs.add(srv)
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not listening(srv.pid, int(IPERF_PORT)):
                time.sleep(0.02)
            tr0 = [proc_cpu(p) for p in side.translators]
            by0 = sum(proc_cpu(p) for p in side.bystanders)
            m0, t0 = cpu_busy(), time.monotonic()
            r = run(side.exec(1, ["iperf3", "-c", side.ip[2], "-p", IPERF_PORT, "-J",
                                  "-t", str(duration)] + args),
                    check=False, timeout=duration + 30)
            m1, t1 = cpu_busy(), time.monotonic()
            tr1 = [proc_cpu(p) for p in side.translators]
            by1 = sum(proc_cpu(p) for p in side.bystanders)
            try:
                d = json.loads(r.stdout)
            except ValueError:
                d = {"error": "no JSON: " + r.stderr[-300:]}
            if "error" not in d:
                try:
                    srv.wait(timeout=5)  # -1: the server ends after its one test
                except subprocess.TimeoutExpired:
                    pass
                dt = t1 - t0
                return d, {"tr": [(b - a) / CLK for a, b in zip(tr0, tr1)],
                           "by": (by1 - by0) / CLK, "machine": (m1 - m0) / CLK, "dt": dt}
            err = d["error"]
        finally:
            stop_proc(srv)
        time.sleep(0.5)
    raise RuntimeError("%s: iperf3 %s: %s" % (side.label, " ".join(args), err))


def tcp_test(side):
    d, cpu = iperf(side, [], 5)
    return {"gbps": d["end"]["sum_received"]["bits_per_second"] / 1e9,
            "retr": d["end"]["sum_sent"].get("retransmits", 0),
            "tr_cores": [x / cpu["dt"] for x in cpu["tr"]],
            "by_cores": cpu["by"] / cpu["dt"],
            "busy_cores": cpu["machine"] / cpu["dt"]}


def udp_test(side, duration=3):
    """iperf3 UDP, 64-byte payloads, unlimited offered load (-b 0)."""
    c0 = side.counters()
    c0["vm2_rcvbuf"] = udp_rcvbuf_errors(side.ns[2])
    d, cpu = iperf(side, ["-u", "-l", "64", "-b", "0"], duration)
    c1 = side.counters()
    c1["vm2_rcvbuf"] = udp_rcvbuf_errors(side.ns[2])
    sent = d["end"]["sum_sent"]
    recv = d["end"].get("sum_received") or d["end"]["sum"]
    delivered = max(recv["packets"] - recv["lost_packets"], 0)
    per = 1e9 / max(delivered, 1)
    out = {"sent_pps": sent["packets"] / sent["seconds"],
           "pps": delivered / recv["seconds"],
           "loss": 100.0 * recv["lost_packets"] / max(recv["packets"], 1),
           "tr_ns": sum(cpu["tr"]) * per,
           "tr_cores": [x / cpu["dt"] for x in cpu["tr"]],
           "by_ns": cpu["by"] * per,
           "sys_ns": cpu["machine"] * per,
           "busy_cores": cpu["machine"] / cpu["dt"]}
    out["path"] = {k: c1[k] - c0[k] for k in c0}
    out["path"]["sent"] = sent["packets"]
    out["path"]["delivered"] = delivered
    return out


def ping_test(side):
    with paused(side.pause):
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
    print("  %-38s A %-22s B %-22s A/B %s" % (title + " [" + unit + "]", med_range(a, fmt),
                                               med_range(b, fmt), rs))
    return statistics.median(ratios) if ratios else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--no-pause", action="store_true",
                    help="keep the agents running during B's tests (they read B's packets)")
    ap.add_argument("--name", default="e6b%d" % (os.getpid() % 100000))
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
    for tool in ("tayga", "iperf3", "ping", "ip"):
        if shutil.which(tool) is None:
            sys.exit("missing %s (apt-get install -y %s)" % (tool, tool))
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    t_start = time.monotonic()
    bg0 = background()
    try:
        lab = Lab(a.name, build)
        lab.up()
        ref = Tayga(lab)
        ref.up()
        A = Side("A", lab.ns, lab.ip, lab.counters, lab.agent_pids, ref.pids)
        B = Side("B", ref.ns, ref.ip,
                 lambda: dict(ref.counters(), sub_vni=lab.counters()["sub_vni"]),
                 ref.pids, lab.agent_pids, () if a.no_pause else lab.agent_pids)
        mtu = {"A": [link_stats(lab.ns[i], lab.dev[i])[1] for i in (1, 2)],
               "B": [link_stats(ref.ns[i], "eth0")[1] for i in (1, 2)]}
        if mtu["A"] != mtu["B"]:
            raise RuntimeError("VM MTUs differ: A %s, B %s" % (mtu["A"], mtu["B"]))
        for s in (A, B):  # ARP and neighbour warm-up, and a connectivity check
            r = run(s.exec(1, ["ping", "-n", "-c", "5", "-i", "0.2", "-W", "2", s.ip[2]]),
                    check=False)
            if " 0 received" in r.stdout or r.returncode != 0:
                raise RuntimeError("%s: VM1 cannot reach VM2 %s\n%s" % (s.label, s.ip[2],
                                                                        r.stdout))
        ref.alive()
        tv = run(["dpkg-query", "-W", "-f", "${Version}", "tayga"], check=False).stdout
        print("Veneer embed6 (A) vs TAYGA %s SIIT (B), lab %s (K=%d), %d CPUs, kernel %s"
              % (tv or "?", a.name, lab.k, os.cpu_count(), os.uname().release))
        print("A: %s %s -> %s %s via veneer-agent h1/h2 (embed6, IPv6 router), agent PIDs %s"
              % (A.ns[1], A.ip[1], A.ns[2], A.ip[2], lab.agent_pids))
        print("B: %s %s -> %s %s via tayga h1/h2 on TUN %s, PIDs %s; maps 10.98.0.1 <-> %s, "
              "10.98.0.2 <-> %s" % (B.ns[1], B.ip[1], B.ns[2], B.ip[2], TUN, ref.pids,
                                    ref.v6[1], ref.v6[2]))
        print("VM interface MTU: A %s, B %s; during B's tests the agents are %s"
              % (mtu["A"], mtu["B"], "left running (--no-pause): they read B's packets too"
                 if a.no_pause else "stopped (SIGSTOP, --no-pause to keep them running)"))
        print("setup %.0f s; %d pairs, each metric A then B\n" % (time.monotonic() - t_start,
                                                                 a.pairs))
        sys.stdout.flush()
        res = {"A": [], "B": []}
        for p in range(a.pairs):
            pair = {"A": {}, "B": {}}
            for s in (A, B):
                pair[s.label]["tcp"] = tcp_test(s)
            for s in (A, B):
                pair[s.label]["udp"] = udp_test(s)
            for s in (A, B):
                pair[s.label]["ping"] = ping_test(s)
            ref.alive()
            for lb in ("A", "B"):
                x = pair[lb]
                u = x["udp"]
                print("pair %d %s: tcp %.3f Gbit/s (retr %d, translators h1 %.2f h2 %.2f cores, "
                      "bystanders %.2f) "
                      "| udp64 sent %.1f kpps, delivered %.1f kpps, loss %.1f%%, translators "
                      "%.0f ns/pkt (h1 %.2f, h2 %.2f cores), machine %.0f ns/pkt (%.2f cores), "
                      "bystanders %.0f ns/pkt | ping p50 %.0f p99 %.0f us"
                      % (p + 1, lb, x["tcp"]["gbps"], x["tcp"]["retr"], x["tcp"]["tr_cores"][0],
                         x["tcp"]["tr_cores"][1], x["tcp"]["by_cores"], u["sent_pps"] / 1e3,
                         u["pps"] / 1e3, u["loss"], u["tr_ns"], u["tr_cores"][0],
                         u["tr_cores"][1], u["sys_ns"], u["busy_cores"], u["by_ns"],
                         x["ping"]["p50"], x["ping"]["p99"]))
                q = u["path"]
                if lb == "A":
                    print("         A udp64 path: client sent %d; VM1 TAP dropped %d (agent h1 "
                          "not reading fast enough); agent h1 read %d, sent %d; agent h2 "
                          "received %d, wrote to VM2 TAP %d; VM2 socket buffer full %d; iperf3 "
                          "server got %d" % (q["sent"], q["vm1_tap_txdrop"], q["h1_tap_rx"],
                                             q["h1_sub_tx"], q["h2_sub_rx"], q["h2_tap_tx"],
                                             q["vm2_rcvbuf"], q["delivered"]))
                else:
                    print("         B udp64 path: client sent %d; into tayga h1 %d (TUN queue "
                          "full: %d), out of it %d; into tayga h2 %d (TUN queue full: %d), out "
                          "of it %d; VM2 socket buffer full %d; iperf3 server got %d; "
                          "B packets the agents read and dropped %d"
                          % (q["sent"], q["h1_in"], q["h1_indrop"], q["h1_out"], q["h2_in"],
                             q["h2_indrop"], q["h2_out"], q["vm2_rcvbuf"], q["delivered"],
                             q["sub_vni"]))
                res[lb].append(x)
            sys.stdout.flush()

        def col(lb, *keys):
            out = []
            for x in res[lb]:
                for k in keys:
                    x = x[k]
                out.append(x)
            return out

        print("\nPer metric: median (range) over %d pairs; A/B = median (range) of per-pair "
              "ratios" % a.pairs)
        r = {}
        print(" 1. TCP bulk, 1 stream, 5 s")
        r["tcp"] = row("throughput", col("A", "tcp", "gbps"), col("B", "tcp", "gbps"), "%.3f",
                       "Gbit/s")
        row("retransmits", col("A", "tcp", "retr"), col("B", "tcp", "retr"), "%.0f", "segs")
        row("translator h1 busy", [c[0] for c in col("A", "tcp", "tr_cores")],
            [c[0] for c in col("B", "tcp", "tr_cores")], "%.2f", "cores")
        row("translator h2 busy", [c[1] for c in col("A", "tcp", "tr_cores")],
            [c[1] for c in col("B", "tcp", "tr_cores")], "%.2f", "cores")
        r["tcp_cpu"] = row("translators h1+h2 per Gbit/s",
                           [sum(c) / g for c, g in zip(col("A", "tcp", "tr_cores"),
                                                       col("A", "tcp", "gbps"))],
                           [sum(c) / g for c, g in zip(col("B", "tcp", "tr_cores"),
                                                       col("B", "tcp", "gbps"))],
                           "%.2f", "cores")
        print("  %-38s A %-22s B %s" % ("bystanders busy [cores]",
                                         med_range(col("A", "tcp", "by_cores"), "%.2f"),
                                         med_range(col("B", "tcp", "by_cores"), "%.2f")))
        row("machine busy", col("A", "tcp", "busy_cores"), col("B", "tcp", "busy_cores"),
            "%.2f", "cores")
        print(" 2. UDP 64-byte payload, unlimited offered load (-b 0), 3 s")
        row("offered by the sender", [v / 1e3 for v in col("A", "udp", "sent_pps")],
            [v / 1e3 for v in col("B", "udp", "sent_pps")], "%.1f", "kpps")
        r["pps"] = row("delivered to the receiver", [v / 1e3 for v in col("A", "udp", "pps")],
                       [v / 1e3 for v in col("B", "udp", "pps")], "%.1f", "kpps")
        r["loss"] = row("loss", col("A", "udp", "loss"), col("B", "udp", "loss"), "%.1f", "%")
        print(" 3. Latency, ping -i 0.01 -c 300")
        r["p50"] = row("RTT p50", col("A", "ping", "p50"), col("B", "ping", "p50"), "%.0f", "us")
        r["p99"] = row("RTT p99", col("A", "ping", "p99"), col("B", "ping", "p99"), "%.0f", "us")
        print(" 4. CPU per delivered packet, udp64 unlimited. translators = utime+stime of A's "
              "two agents / B's two taygas;")
        print("    machine = /proc/stat user+nice+system+irq+softirq of all CPUs (includes "
              "other load); bystanders = the other side's translators")
        r["cpu"] = row("translators h1+h2", col("A", "udp", "tr_ns"), col("B", "udp", "tr_ns"),
                       "%.0f", "ns/pkt")
        r["mcpu"] = row("machine", col("A", "udp", "sys_ns"), col("B", "udp", "sys_ns"), "%.0f",
                        "ns/pkt")
        print("  %-38s A %-22s B %s" % ("bystanders [ns/pkt]",
                                         med_range(col("A", "udp", "by_ns"), "%.0f"),
                                         med_range(col("B", "udp", "by_ns"), "%.0f")))
        row("translator h1 busy", [c[0] for c in col("A", "udp", "tr_cores")],
            [c[0] for c in col("B", "udp", "tr_cores")], "%.2f", "cores")
        row("translator h2 busy", [c[1] for c in col("A", "udp", "tr_cores")],
            [c[1] for c in col("B", "udp", "tr_cores")], "%.2f", "cores")
        row("machine busy", col("A", "udp", "busy_cores"), col("B", "udp", "busy_cores"),
            "%.2f", "cores")

        print("\nSummary (A = Veneer embed6, B = TAYGA SIIT; A/B medians of per-pair ratios)")
        print("  TCP throughput A/B                %.3f" % r["tcp"])
        print("  translator CPU per Gbit/s A/B     %.2f (TCP)" % r["tcp_cpu"])
        print("  64-byte delivered pps A/B         %.3f" % r["pps"])
        print("  RTT p50 A/B                       %.2f   p99 A/B %.2f" % (r["p50"], r["p99"]))
        print("  translator CPU per packet A/B     %.2f (64-byte UDP)" % r["cpu"])
        print("  machine CPU per packet A/B        %.2f (64-byte UDP%s)" % (
            r["mcpu"], "" if not a.no_pause else "; B's includes the agents reading B's "
            "packets: %s ns/pkt" % med_range(col("B", "udp", "by_ns"), "%.0f")))
        lost = 0
        for h in ("h1", "h2"):
            with open("%s/agent-%s.log" % (lab.dir, h), errors="replace") as f:
                lost += f.read().count("veneerd connection lost")
        print("  agents' control channel lost during the run: %d time(s)%s"
              % (lost, "" if a.no_pause else " (agents paused during B)"))
        print("  background load: %.2f cores busy before the run, %.2f after (of %d)"
              % (bg0, background(), os.cpu_count()))
        print("  total run time %.0f s" % (time.monotonic() - t_start))
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
