#!/usr/bin/python3
"""BGP ingestion: veneer-routerd against BIRD 2, fed the same routes by the same sender.

    NAME-s  10.201.0.2/30 (AS 65100)  --veth NAMEs | NAMEr--  10.201.0.1/30 (AS 65000)  NAME-r
    sender: a raw BGP speaker in this                       receiver: veneer-routerd (A) or
    process (a socket opened in NAME-s)                     BIRD 2 (B), a fresh instance per
                                                            trial

What is measured (issue 4: target A <= 1.0 x B's time and <= 1.5 x B's memory per route):
  time     from Established (the sender has sent its KEEPALIVE and received the receiver's)
           to the moment the receiver's RIB holds all N prefixes. The sender starts writing
           the precomputed UPDATEs right after Established and ends with End-of-RIB. The
           receiver is polled every 2 ms for the first half second, every 10 ms up to 2 s,
           then every --poll seconds: BIRD's "Routes: N imported" of the protocol (`show
           protocols all NAME` on one persistent control connection), routerd's rib.prefixes
           of `status` (one connection per poll, as its control socket answers and closes);
           the end time is the poll that first saw N, so it is late by up to one interval.
  memory   per route, two ways: (1) the receiver's own accounting, BIRD's `show memory`
           "Routing tables" + "Route attributes" (effective bytes) after minus before, and
           routerd's rib.bytes, each over N; (2) the process's VmRSS (/proc/PID/status)
           after minus before, over N: the figure that is comparable between the two, since
           the two accountings do not count the same things.
  cpu      on-CPU time of the receiver process (all threads) during the ingest, per route:
           /proc/PID/task/*/schedstat, in ns (utime+stime of /proc/PID/stat would count 10 ms
           ticks, too coarse at N=100k); it includes answering the polls.
The sender's own ceiling is measured once per workload (the same UPDATE stream into a TCP
sink in NAME-r that only reads), so that a slow sender cannot pass for a slow receiver.

Workloads: N prefixes (--n, default 100000 and 1000000), each in its own /24 block of
16.0.0.0/4, lengths /24 (6 in 10), /25, /26, /28, /32, packed into UPDATEs of at most 4096
bytes. Default: one attribute set for all (ORIGIN IGP, AS_PATH 65100 64512 64513, NEXT_HOP,
MED 0). --attrs-variety: a distinct set per --per-set prefixes (default 4: 250000 sets for
1M), AS_PATH 65100 + 1..5 ASNs, MED and a community derived from the set number.

Trials are interleaved A then B, --pairs times (default 5) per workload; reported per
receiver: median (range), and A/B as the median (range) of the per-pair ratios.

The veneer-routerd side runs its bench mode, `veneer-routerd --bench-listen ADDR:179 --asn N
--ctl SOCK`, in the receiver namespace: one passive session accepting any peer, every route
taken into the table with no policy and no reporting (its Adj-RIB-In, as BIRD's `import all`
fills its table). Its control socket answers `status` with JSON (sessions[].state
"Established", sessions[].prefixes_received, rib.prefixes, rib.bytes, rib.attr_sets) and
closes. `ip netns exec` execs the binary, so the PID measured is routerd's own (checked
through /proc/PID/exe). `--only bird` runs BIRD alone (no ratio then: the figures are the
reference, not a result).

usage (root; stdlib only; needs bird2; builds nothing):
  /usr/bin/python3 bench/bgp_ingest.py [--n 100000,1000000] [--pairs 5] [--attrs-variety]
      [--per-set 4] [--only bird|routerd] [--routerd build/src/routerd/veneer-routerd]
      [--poll 0.05] [--timeout 900] [--name NAME]
Namespaces, the veth, every process and the temporary directory are removed on exit,
failure or signal, by name and PID.
"""
import argparse
import atexit
import ctypes
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK = os.sysconf("SC_CLK_TCK")
R_IP, S_IP = "10.201.0.1", "10.201.0.2"
R_ASN, S_ASN = 65000, 65100
SINK_PORT = 1790
MAX_MSG = 4096
LENS = (24, 24, 24, 24, 24, 24, 25, 26, 28, 32)

# ---------------------------------------------------------------------------------------------
# cleanup: every resource is registered when made, undone in reverse (as bench/dataplane.py)

_undo = []
_cleaned = False


def register(desc, fn):
    _undo.append((desc, fn))


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while _undo:
        desc, fn = _undo.pop()
        try:
            fn()
        except Exception as e:  # keep going: everything else must still go
            print("cleanup: %s: %s" % (desc, e), file=sys.stderr)


def _on_signal(signum, _frame):
    sys.exit(128 + signum)


def run(cmd, check=True, timeout=60):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s -> exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout[-2000:],
                                                     r.stderr[-2000:]))
    return r


def wait_until(fn, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except Exception as e:  # noqa: BLE001 - retried, reported on timeout
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise RuntimeError("timed out after %.0fs waiting for %s; last: %r"
                               % (timeout, what, last))
        time.sleep(interval)


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, 0x40000000) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


def socket_in(ns, *args):
    """A socket created inside namespace ns (this thread goes there and comes back)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        _setns(there)
        try:
            return socket.socket(*args)
        finally:
            _setns(home)
    finally:
        os.close(home)
        os.close(there)


def spawn(ns, argv, log):
    out = open(log, "ab")
    try:
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    finally:
        out.close()
    return p


def stop_proc(p, wait=10.0):
    """TERM then KILL, by the Popen we hold (never a recycled PID)."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cpu_busy():
    """Busy jiffies of the whole machine: user+nice+system+irq+softirq over all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


def background(seconds=1.0):
    """Cores busy on the machine while this benchmark does nothing."""
    m0, t0 = cpu_busy(), time.monotonic()
    time.sleep(seconds)
    return (cpu_busy() - m0) / CLK / (time.monotonic() - t0)


def proc_cpu(pid):
    """CPU seconds of the process: on-CPU nanoseconds of all its threads from schedstat
    (utime+stime in /proc/PID/stat count whole 10 ms ticks: 0.1 us per route at N=100k)."""
    try:
        total = 0
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / CLK


def proc_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# ---------------------------------------------------------------------------------------------
# the sender: precomputed UPDATE stream


def _attrs(as_path, med, community=None):
    def attr(flags, t, v):
        return struct.pack("!BBB", flags, t, len(v)) + v
    a = attr(0x40, 1, b"\0")
    a += attr(0x40, 2, struct.pack("!BB", 2, len(as_path)) +
              struct.pack("!%dI" % len(as_path), *as_path))
    a += attr(0x40, 3, ipaddress.ip_address(S_IP).packed)
    a += attr(0x80, 4, struct.pack("!I", med))
    if community is not None:
        a += attr(0xC0, 8, struct.pack("!I", community))
    return a


def _update(attrs, nlri):
    body = b"\0\0" + struct.pack("!H", len(attrs)) + attrs + nlri
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body


def build_stream(n, variety, per_set):
    """All UPDATEs for n prefixes, as one bytes object, and the count of UPDATEs and of
    distinct attribute sets."""
    base = 16 << 24
    shared = _attrs([S_ASN, 64512, 64513], 0)
    out, updates, sets = [], 0, 0
    cur_attrs, cur = None, []
    room = 0

    def flush():
        nonlocal updates
        if cur:
            out.append(_update(cur_attrs, b"".join(cur)))
            updates += 1

    for i in range(n):
        if variety:
            s = i // per_set
            if i % per_set == 0:
                # private 4-byte ASNs: never the receiver's own (that would be a loop,
                # which BIRD treats as a withdrawal) nor the sender's
                path = [S_ASN] + [4200000000 + (s * 7919 + k * 104729) % 1000000
                                  for k in range(1 + s % 5)]
                a = _attrs(path, s % 1000, (S_ASN << 16) | (s & 0xFFFF))
                sets += 1
            else:
                a = cur_attrs
        else:
            a = shared
            sets = 1
        ln = LENS[i % len(LENS)]
        p = bytes([ln]) + (base + (i << 8)).to_bytes(4, "big")[:(ln + 7) // 8]
        if a is not cur_attrs or len(p) > room:
            flush()
            cur_attrs, cur = a, []
            room = MAX_MSG - 23 - len(a)
        cur.append(p)
        room -= len(p)
    flush()
    out.append(_update(b"", b""))  # End-of-RIB
    return b"".join(out), updates, sets


class Sender:
    """Connects from the sender namespace, exchanges OPEN/KEEPALIVE, and writes the stream
    as soon as the session is Established. Reads (and drops) what the receiver sends, in a
    thread, so its messages never block it. Hold time 3600 s: no keepalive is due during a
    trial."""

    def __init__(self, ns, stream):
        self.ns = ns
        self.stream = stream
        self.t_established = None
        self.t_sent = None
        self.error = None
        self.sock = None

    def _open(self):
        caps = [struct.pack("!BBHBB", 1, 4, 1, 0, 1), struct.pack("!BBI", 65, 4, S_ASN)]
        opt = b"".join(struct.pack("!BB", 2, len(c)) + c for c in caps)
        body = struct.pack("!BHH4sB", 4, S_ASN, 3600, ipaddress.ip_address(S_IP).packed,
                           len(opt)) + opt
        return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 1) + body

    def connect(self, timeout=30):
        def attempt():
            s = socket_in(self.ns, socket.AF_INET, socket.SOCK_STREAM)
            s.bind((S_IP, 0))
            s.settimeout(2)
            try:
                s.connect((R_IP, 179))
            except OSError:
                s.close()
                raise
            return s
        self.sock = wait_until(attempt, timeout, 0.1, "TCP connection to the receiver")
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def establish(self, timeout=30):
        """OPEN exchange up to Established; records t_established (monotonic)."""
        s = self.sock
        s.sendall(self._open())
        buf, got_open, deadline = b"", False, time.monotonic() + timeout
        while True:
            while len(buf) >= 19 and len(buf) >= struct.unpack("!H", buf[16:18])[0]:
                ln = struct.unpack("!H", buf[16:18])[0]
                t, buf = buf[18], buf[ln:]
                if t == 3:
                    raise RuntimeError("receiver sent a NOTIFICATION during the OPEN exchange")
                if t == 1:
                    got_open = True
                    s.sendall(b"\xff" * 16 + struct.pack("!HB", 19, 4))
                elif t == 4 and got_open:
                    self.t_established = time.monotonic()
                    self._rest = buf
                    return
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                raise RuntimeError("no OPEN/KEEPALIVE from the receiver in %ds" % timeout)
            b = s.recv(65536)
            if not b:
                raise RuntimeError("receiver closed the connection during the OPEN exchange")
            buf += b

    def _drain(self):
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def send(self):
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            self.sock.sendall(self.stream)
            self.t_sent = time.monotonic()
        except OSError as e:
            self.error = e

    def start(self):
        """Connect, establish, then send in a thread; returns at Established."""
        self.connect()
        self.establish()
        self.thread = threading.Thread(target=self.send, daemon=True)
        self.thread.start()

    def close(self):
        if self.sock:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None


def sender_ceiling(sns, rns, stream):
    """Seconds the sender needs to write the stream into a sink in the receiver namespace
    that only reads (what the sender alone can do over this veth)."""
    ls = socket_in(rns, socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((R_IP, SINK_PORT))
    ls.listen(1)
    got = [0]

    def sink():
        c, _ = ls.accept()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            got[0] += len(b)
        c.close()
    th = threading.Thread(target=sink, daemon=True)
    th.start()
    s = socket_in(sns, socket.AF_INET, socket.SOCK_STREAM)
    s.bind((S_IP, 0))
    s.connect((R_IP, SINK_PORT))
    t0 = time.monotonic()
    s.sendall(stream)
    s.shutdown(socket.SHUT_WR)
    th.join(60)
    t1 = time.monotonic()
    s.close()
    ls.close()
    if got[0] != len(stream):
        raise RuntimeError("sink got %d of %d bytes" % (got[0], len(stream)))
    return t1 - t0


# ---------------------------------------------------------------------------------------------
# receivers: start / established / count / memory / stop


class BirdReceiver:
    """BIRD 2 in the receiver namespace: one passive eBGP protocol `sender` (import all,
    export none), a device protocol for next-hop resolution, no kernel protocol (the RIB is
    what is measured, not the FIB). Queried on its control socket directly (one persistent
    connection), not through birdc, to keep the polling cheap."""

    label = "bird"

    def __init__(self, ns, workdir):
        self.ns = ns
        self.dir = workdir
        self.conf = os.path.join(workdir, "bird.conf")
        self.sock_path = os.path.join(workdir, "bird.ctl")
        self.log = os.path.join(workdir, "bird.log")
        self.proc = None
        self.ctl = None

    def start(self):
        with open(self.conf, "w") as f:
            f.write("router id %s;\n"
                    "log \"%s\" { info, warning, error, fatal };\n"
                    "protocol device { scan time 60; }\n"
                    "protocol bgp sender {\n"
                    "  local %s as %d; neighbor %s as %d; passive on;\n"
                    "  hold time 3600; keepalive time 1200;\n"
                    "  ipv4 { import all; export none; };\n"
                    "}\n" % (R_IP, self.log, R_IP, R_ASN, S_IP, S_ASN))
        self.proc = spawn(self.ns, ["bird", "-f", "-c", self.conf, "-s", self.sock_path, "-P",
                                    os.path.join(self.dir, "bird.pid")], self.log)
        register("bird %d" % self.proc.pid, lambda p=self.proc: stop_proc(p))

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("bird exited: %s" % open(self.log).read()[-1000:])
            if not os.path.exists(self.sock_path):
                return False
            self.ctl = socket.socket(socket.AF_UNIX)
            self.ctl.connect(self.sock_path)
            self._read()  # the greeting
            return True
        wait_until(ready, 20, what="bird control socket")
        self.pid = self.proc.pid

    def _read(self):
        buf = b""
        while True:
            b = self.ctl.recv(65536)
            if not b:
                raise RuntimeError("bird closed its control socket")
            buf += b
            lines = buf.split(b"\n")
            for ln in lines[:-1]:
                if re.match(rb"^\d{4} ", ln):
                    return buf.decode(errors="replace")

    def cmd(self, c):
        self.ctl.sendall(c.encode() + b"\n")
        return self._read()

    def established(self):
        return "Established" in self.cmd("show protocols sender")

    def count(self):
        m = re.search(r"Routes:\s+(\d+) imported", self.cmd("show protocols all sender"))
        return int(m.group(1)) if m else 0

    def memory(self):
        """{"accounted": Routing tables + Route attributes (effective), "rss": VmRSS}"""
        mem = {}
        for line in self.cmd("show memory").splitlines():
            m = re.match(r"^\d{4}[- ]?\s*([A-Za-z][A-Za-z ]*?):\s+([\d.]+)\s+(B|kB|MB|GB)",
                         line) or re.match(r"^\s+([A-Za-z][A-Za-z ]*?):\s+([\d.]+)\s+"
                                           r"(B|kB|MB|GB)", line)
            if m:
                mem[m.group(1)] = float(m.group(2)) * {"B": 1, "kB": 1024, "MB": 1 << 20,
                                                       "GB": 1 << 30}[m.group(3)]
        if "Routing tables" not in mem or "Route attributes" not in mem:
            raise RuntimeError("bird show memory: %r" % mem)
        return {"accounted": mem["Routing tables"] + mem["Route attributes"],
                "total": mem.get("Total", 0), "rss": proc_rss(self.pid)}

    def stop(self):
        if self.ctl:
            self.ctl.close()
            self.ctl = None
        if self.proc:
            stop_proc(self.proc)
            self.proc = None


class RouterdReceiver:
    """veneer-routerd in bench mode (see the module header): started directly (no wrapper
    process), polled on its control socket, one connection per `status`."""

    label = "routerd"

    def __init__(self, ns, workdir, binary):
        self.ns = ns
        self.dir = workdir
        self.binary = binary
        self.sock_path = os.path.join(workdir, "routerd.ctl")
        self.log = os.path.join(workdir, "routerd.log")
        self.proc = None

    def start(self):
        self.proc = spawn(self.ns, [self.binary, "--bench-listen", "%s:179" % R_IP, "--asn",
                                    str(R_ASN), "--ctl", self.sock_path], self.log)
        register("routerd %d" % self.proc.pid, lambda p=self.proc: stop_proc(p))

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("veneer-routerd exited: %s" % open(self.log).read()[-1000:])
            return os.path.exists(self.sock_path) and self.status() is not None
        wait_until(ready, 20, what="veneer-routerd control socket")
        self.pid = self.proc.pid
        exe = os.path.realpath("/proc/%d/exe" % self.pid)
        if exe != os.path.realpath(self.binary):
            raise RuntimeError("PID %d is %s, not %s: RSS and CPU would be a wrapper's"
                               % (self.pid, exe, self.binary))

    def status(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        try:
            s.connect(self.sock_path)
            s.sendall(b"status\n")
            out = b""
            while True:
                b = s.recv(1 << 16)
                if not b:
                    break
                out += b
        finally:
            s.close()
        return json.loads(out)

    def _sessions(self):
        ss = self.status().get("sessions", [])
        return list(ss.values()) if isinstance(ss, dict) else ss

    def established(self):
        return any(str(x.get("state", "")).lower() == "established" for x in self._sessions())

    def count(self):
        return int(self.status()["rib"]["prefixes"])

    def memory(self):
        return {"accounted": float(self.status()["rib"]["bytes"]), "rss": proc_rss(self.pid)}

    def stop(self):
        if self.proc:
            stop_proc(self.proc)
            self.proc = None


# ---------------------------------------------------------------------------------------------
# one trial


def trial(rx, sns, stream, n, poll, timeout):
    """Fresh receiver; returns the measures of one ingest of the stream."""
    rx.start()
    try:
        time.sleep(0.2)  # let the idle receiver settle before the baseline
        m0 = rx.memory()
        c0 = proc_cpu(rx.pid)
        snd = Sender(sns, stream)
        try:
            snd.start()
            t0 = snd.t_established
            wait_until(rx.established, 10, 0.01, "%s to see Established" % rx.label)
            t_poll0 = time.monotonic()
            polls, got, last, t_last = 0, 0, -1, time.monotonic()
            while True:
                got = rx.count()
                polls += 1
                now = time.monotonic()
                if got >= n:
                    break
                if got != last:
                    last, t_last = got, now
                elif snd.t_sent and now - t_last > 30:
                    raise RuntimeError("%s stalled at %d of %d prefixes (rejected some?)"
                                       % (rx.label, got, n))
                if snd.error:
                    raise RuntimeError("sender: %s" % snd.error)
                if rx.proc.poll() is not None:
                    raise RuntimeError("%s exited during the ingest" % rx.label)
                if now - t0 > timeout:
                    raise RuntimeError("%s holds %d of %d after %ds" % (rx.label, got, n,
                                                                        timeout))
                el = now - t_poll0
                time.sleep(0.002 if el < 0.5 else 0.01 if el < 2 else poll)
            t1 = time.monotonic()
            c1 = proc_cpu(rx.pid)
            time.sleep(0.2)
            m1 = rx.memory()
            return {"time": t1 - t0, "sent": (snd.t_sent or t1) - t0, "count": got,
                    "acc_per_route": (m1["accounted"] - m0["accounted"]) / n,
                    "rss_per_route": (m1["rss"] - m0["rss"]) / n,
                    "cpu": c1 - c0, "cpu_per_route_us": (c1 - c0) * 1e6 / n, "polls": polls,
                    "rss_after": m1["rss"]}
        finally:
            snd.close()
    finally:
        rx.stop()


# ---------------------------------------------------------------------------------------------
# report


def med_range(xs, fmt):
    xs = [x for x in xs if x == x]
    if not xs:
        return "n/a"
    return ("%s (%s-%s)" % (fmt, fmt, fmt)) % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", default="100000,1000000", help="prefix counts, comma-separated")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--attrs-variety", action="store_true",
                    help="a distinct attribute set per --per-set prefixes")
    ap.add_argument("--per-set", type=int, default=4)
    ap.add_argument("--only", choices=("bird", "routerd"))
    ap.add_argument("--routerd", default=os.path.join(REPO, "build", "src", "routerd",
                                                      "veneer-routerd"))
    ap.add_argument("--poll", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--name", default="bgi%04x" % (os.getpid() & 0xFFFF))
    a = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces)")
    if a.pairs < 1:
        sys.exit("--pairs: at least 1 (5 or more for a result worth quoting)")
    sizes = [int(x) for x in a.n.split(",") if x]
    if max(sizes) > 1 << 20:
        sys.exit("--n: at most %d (one /24 block of 16.0.0.0/4 each)" % (1 << 20))
    sides = ["routerd", "bird"] if a.only is None else [a.only]
    if "routerd" in sides and not os.access(a.routerd, os.X_OK):
        sys.exit("missing %s: build it, or run --only bird" % a.routerd)
    if "bird" in sides and not shutil.which("bird"):
        sys.exit("bird is not installed (scripts/install-deps.sh)")
    sns, rns = a.name + "-s", a.name + "-r"
    for ns in (sns, rns):
        if os.path.exists("/run/netns/" + ns):
            sys.exit("namespace %s exists: pick another --name" % ns)

    atexit.register(cleanup)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    t_start = time.monotonic()
    bg0 = background()
    try:
        tmp = tempfile.mkdtemp(prefix="bgp-ingest-")
        register("rm " + tmp, lambda: shutil.rmtree(tmp, ignore_errors=True))
        for ns in (sns, rns):
            register("netns del " + ns, lambda ns=ns: run(["ip", "netns", "del", ns]))
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", a.name + "s", "netns", sns, "type", "veth", "peer", "name",
             a.name + "r", "netns", rns])
        for ns, dev, ip in ((sns, a.name + "s", S_IP), (rns, a.name + "r", R_IP)):
            run(["ip", "-n", ns, "addr", "add", ip + "/30", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        wait_until(lambda: run(["ip", "netns", "exec", sns, "ping", "-c", "1", "-W", "1", R_IP],
                               check=False).returncode == 0, 10, what="veth up")
        print("BGP ingestion: %s, %d CPUs, kernel %s; namespaces %s -> %s; %s"
              % (" vs ".join({"routerd": "A veneer-routerd", "bird": "B BIRD %s" % run(
                  ["bird", "--version"], check=False).stderr.split()[-1]}[s] for s in sides),
                 os.cpu_count(), os.uname().release, sns, rns,
                 "attrs-variety (a set per %d prefixes)" % a.per_set if a.attrs_variety
                 else "one shared attribute set"))
        summary = []
        for n in sizes:
            t = time.monotonic()
            stream, updates, sets = build_stream(n, a.attrs_variety, a.per_set)
            ceil = min(sender_ceiling(sns, rns, stream) for _ in range(3))
            print("\nN=%d: %d UPDATEs, %.1f MB, %d attribute set(s), built in %.1f s; sender "
                  "ceiling %.3f s (%.0f k prefixes/s into a sink)"
                  % (n, updates, len(stream) / 1e6, sets, time.monotonic() - t, ceil,
                     n / ceil / 1e3))
            res = {s: [] for s in sides}
            for p in range(a.pairs):
                for s in sides:
                    wd = os.path.join(tmp, "%s-%d-%d" % (s, n, p))
                    os.mkdir(wd)
                    rx = BirdReceiver(rns, wd) if s == "bird" else \
                        RouterdReceiver(rns, wd, a.routerd)
                    r = trial(rx, sns, stream, n, a.poll, a.timeout)
                    res[s].append(r)
                    print("  pair %d %-7s %7.3f s (%.0f k routes/s; sender done at %.3f s), "
                          "accounted %.1f B/route, RSS %.1f B/route, CPU %.2f us/route "
                          "(%d polls)" % (p + 1, s, r["time"], n / r["time"] / 1e3, r["sent"],
                                          r["acc_per_route"], r["rss_per_route"],
                                          r["cpu_per_route_us"], r["polls"]))
                    sys.stdout.flush()
            print(" N=%d, median (range) over %d pairs:" % (n, a.pairs))
            for s in sides:
                x = res[s]
                print("  %-7s time %s s | accounted %s B/route | RSS %s B/route | CPU %s "
                      "us/route" % (s, med_range([r["time"] for r in x], "%.3f"),
                                    med_range([r["acc_per_route"] for r in x], "%.1f"),
                                    med_range([r["rss_per_route"] for r in x], "%.1f"),
                                    med_range([r["cpu_per_route_us"] for r in x], "%.2f")))
            if len(sides) == 2:
                A, B = res["routerd"], res["bird"]
                rt = [x["time"] / y["time"] for x, y in zip(A, B)]
                rm = [x["rss_per_route"] / y["rss_per_route"] for x, y in zip(A, B)
                      if y["rss_per_route"] > 0]
                ra = [x["acc_per_route"] / y["acc_per_route"] for x, y in zip(A, B)
                      if y["acc_per_route"] > 0]
                rc = [x["cpu"] / y["cpu"] for x, y in zip(A, B) if y["cpu"] > 0]
                print("  A/B     time %s (target <= 1.0) | RSS/route %s (target <= 1.5) | "
                      "accounted/route %s | CPU %s" % (med_range(rt, "%.3f"),
                                                       med_range(rm, "%.3f"),
                                                       med_range(ra, "%.3f"),
                                                       med_range(rc, "%.3f")))
                summary.append((n, statistics.median(rt), statistics.median(rm) if rm
                                else float("nan"), statistics.median(rc) if rc
                                else float("nan")))
        if summary:
            print("\nSummary (A = veneer-routerd, B = BIRD; medians of per-pair ratios)")
            for n, rt, rm, rc in summary:
                print("  N=%-8d time A/B %.3f %s   memory/route (RSS) A/B %.3f %s   CPU A/B "
                      "%.3f" % (n, rt, "ok" if rt <= 1.0 else "ABOVE TARGET", rm,
                                "ok" if rm <= 1.5 else "ABOVE TARGET", rc))
        else:
            print("\nOnly %s ran: these are reference figures, not a comparison." % sides[0])
        print("background load: %.2f cores busy before the run, %.2f after (of %d); wall "
              "time suffers from it, CPU per route much less" % (bg0, background(),
                                                                  os.cpu_count()))
        print("total run time %.0f s" % (time.monotonic() - t_start))
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
