#!/usr/bin/python3
"""BGP withdrawal to data-plane change: how long traffic keeps going to a path that is gone.

Issue 4: "A session going down (or hold timer expiry) withdraws its routes; traffic falls back
to the remaining paths. Report the time from the withdrawal to the data plane's change."

    one lab (tests/topo/topolab.Lab, 3 hosts), tenant T, network 10.0.0.0/16, router AS 64512

        A 10.0.1.0/24: c (h3), the client      C 10.0.3.0/24, gateway 10.0.3.1
                                                 x (h1) routing port, 10.60.0.1/32 on lo
                                                 y (h2) routing port, 10.60.0.1/32 on lo

    x: a RawBgp driven from this process (AS 65011), AS_PATH [65011]      preferred
    y: a second RawBgp (AS 65012), AS_PATH [65012, 65012] (one prepend)  the backup
    both announce 10.60.0.0/24 with themselves as next hop; a keepalive thread per speaker
    keeps each session up and drains what the router sends.

    c sends a UDP probe to 10.60.0.1:9999 every 1 ms (a thread of this process, its socket
    opened inside c's namespace); each carries a sequence number and its send time. A
    packet-socket reader in x and one in y record each probe arriving (kernel receive
    timestamp, SO_TIMESTAMPNS, converted to this process's CLOCK_MONOTONIC).

A trial: x announces (a fresh session in modes close and hold); wait until the effective
table (GET /v1/routers/ID/routes) selects x alone and every agent applied that revision, and
probes arrive at x (none at y); then, at t0:
  withdraw  x sends an UPDATE withdrawing 10.60.0.0/24 (t0 = time.monotonic() immediately
            before the sendall);
  close     x sends NOTIFICATION Cease/2 (administrative shutdown) and closes the connection
            (t0 = before that sendall): the routes of a closed session are withdrawn;
  hold      x (hold time 3 s, keepalives every 1 s) stops sending keepalives; t0 = the send
            time of its last message, so routerd's hold timer expires at about t0 + 3 s.
t1 = the first probe received at y after t0 (the data plane's change), t2 = the last probe
received at x after t0; t1 - t2 > 0 is a gap (probes lost meanwhile are counted), < 0 an
overlap. Each trial uses a new probe socket (a new source port: a new flow for ECMP hashing).

Breakdown of each trial, on the one machine clock (wall-clock stamps are converted with the
offset CLOCK_REALTIME - CLOCK_MONOTONIC read by this process at t0):
  rd down   routerd's log line "port X: BGP session down" (close, hold; ms). A plain
            withdrawal leaves no stamp in routerd.
  vd y      veneerd's learned_routes.updated of y's route (ms, CLOCK_REALTIME, taken inside
            the transaction that makes y's route installed, before its commit/fsync): routerd
            reports y's route selected first, then x's route gone (two transactions, two
            revisions: RY, then RX). Read read-only from the lab's SQLite store (the API shows
            whole seconds only), with the revision of each change (table `changes`).
  ag RY/RX  when the client host's agent (h3: the sending side decides the path) applied RY
            and RX: its log line "applied revision N" (agents run with --debug ctl; ms).
  ack       veneerd's stamp of h3's acknowledgement of the final revision,
            agent.applied_at_monotonic_ms of GET /v1/hosts/h3 (CLOCK_MONOTONIC, whole ms).
Between RY and RX the table holds x and y as an equal-cost pair (the router has not yet
reported x's route gone): a flow then hashes to x or y, so t1 lands at RY or at RX.

Output: one line per trial, then per mode median (range) of each column. No reference runs
beside it (this figure is not a ratio target); the columns show where the time goes.

  2 commits what two fsynced SQLite commits (WAL, synchronous=FULL, as veneerd's store) cost
            on the store's file system, measured after each trial (a duration).

usage (root; Debian's /usr/bin/python3, standard library; builds nothing):
  VENEER_BUILD=build /usr/bin/python3 bench/bgp_withdraw.py [--trials 10]
      [--mode withdraw|close|hold|all] [--build DIR] [--hold 3] [--name LAB]
The lab is taken down at the end (Lab.down()), also on failure or SIGTERM/SIGINT; every
process and socket this script made is stopped by its PID / closed.
"""
import argparse
import calendar
import os
import pathlib
import re
import select
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "topo"))

import topolab  # noqa: E402
from topolab import Lab, in_netns, packet_socket, wait_until  # noqa: E402
from peers import (NOTIFICATION, UPDATE, bgp_msg, raw_established,  # noqa: E402
                   update_body)

PFX = "10.60.0.0/24"
ANYCAST = "10.60.0.1"
ANY_B = socket.inet_aton(ANYCAST)
GW_C = "10.0.3.1"
PROBE_PORT = 9999
PROBE = struct.Struct("!QQ")  # seq, send time (monotonic ns)
X_ASN, Y_ASN = 65011, 65012
SO_TIMESTAMPNS = 35
CLIENT_HOST = "h3"


def log(*a):
    print(*a, flush=True)


def clock_offset_ns():
    """CLOCK_REALTIME - CLOCK_MONOTONIC, the tightest of a few reads."""
    best = None
    for _ in range(5):
        a = time.monotonic_ns()
        r = time.time_ns()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, r - (a + b) // 2)
    return best[1]


# ---------------------------------------------------------------------------------------------
# BGP speakers

class Speaker:
    """A RawBgp session from a VM to its gateway, kept up by a thread that sends keepalives
    (every hold/3) and reads and discards what the router sends."""

    def __init__(self, vm, asn, hold=90, prepend=()):
        self.vm, self.asn, self.hold, self.prepend = vm, asn, hold, list(prepend)
        self.raw = None
        self.lock = threading.Lock()
        self.keepalives = True
        self.last_sent = 0.0
        self.closed_at = None
        self._stop = threading.Event()
        self._thread = None

    def up(self, timeout=60):
        # the port's previous connection may still be closing in routerd: retried
        self.raw = raw_established(self.vm, GW_C, self.asn, timeout, hold=self.hold)
        self.last_sent = time.monotonic()
        self.keepalives = True
        self.closed_at = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        hold = min(self.hold, self.raw.peer_open["hold"] or self.hold)
        interval = max(0.2, hold / 3.0)
        sock = self.raw.sock
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.05)
                if r and not sock.recv(65536):
                    self.closed_at = time.monotonic()
                    return
                with self.lock:
                    if self.keepalives and time.monotonic() - self.last_sent >= interval:
                        self.raw.send_keepalive()
                        self.last_sent = time.monotonic()
            except (OSError, ValueError):
                self.closed_at = self.closed_at or time.monotonic()
                return

    def _send(self, data):
        with self.lock:
            t = time.monotonic()
            self.raw.sock.sendall(data)
            self.last_sent = t
        return t

    def announce(self):
        with self.lock:
            self.raw.send_update(nlri=[PFX], as_path=self.prepend)
            self.last_sent = time.monotonic()

    def withdraw(self):
        """Sends the withdrawal; returns time.monotonic() read immediately before sendall."""
        return self._send(bgp_msg(UPDATE, update_body(withdrawn=[PFX])))

    def cease(self):
        """NOTIFICATION Cease / administrative shutdown, then close; returns t0."""
        msg = bgp_msg(NOTIFICATION, bytes([6, 2]))
        with self.lock:
            t = time.monotonic()
            self.raw.sock.sendall(msg)
            self.keepalives = False
        self.down()
        return t

    def mute(self):
        """Stops the keepalives; returns the send time of the last message sent."""
        with self.lock:
            self.keepalives = False
            return self.last_sent

    def down(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        if self.raw is not None:
            self.raw.close()
            self.raw = None


# ---------------------------------------------------------------------------------------------
# Probes

class Prober(threading.Thread):
    """Sends one UDP probe to ANYCAST every `interval` s from inside the client's namespace.
    sent[seq] = send time (monotonic s)."""

    def __init__(self, vm, interval=0.001):
        super().__init__(daemon=True)
        self.vm, self.interval = vm, interval
        self.sent = []
        self.lock = threading.Lock()
        self.sock = self._socket()
        self.stop_ev = threading.Event()

    def _socket(self):
        with in_netns(self.vm.ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.vm.ip, 0))
        return s

    def new_flow(self):
        """A new socket (new source port); returns the port."""
        s = self._socket()
        with self.lock:
            old, self.sock = self.sock, s
        old.close()
        return s.getsockname()[1]

    def run(self):
        nxt = time.monotonic()
        pad = b"\0" * 16
        while not self.stop_ev.is_set():
            now = time.monotonic()
            if now < nxt:
                time.sleep(nxt - now)
            with self.lock:
                t = time.monotonic()
                seq = len(self.sent)
                self.sent.append(t)
                try:
                    self.sock.sendto(PROBE.pack(seq, int(t * 1e9)) + pad, (ANYCAST, PROBE_PORT))
                except OSError:
                    pass
            nxt += self.interval
            if nxt < t - 0.005:
                nxt = t  # after a stall: no burst

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


class Reader(threading.Thread):
    """Records each probe arriving on a VM's interface: got = [(seq, t_kernel, t_user)],
    times on CLOCK_MONOTONIC (the kernel's receive stamp is CLOCK_REALTIME, converted with
    the offset read when the reader started and refreshed by set_offset)."""

    def __init__(self, vm):
        super().__init__(daemon=True)
        self.vm = vm
        self.sock = packet_socket(vm.ns, vm.dev)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.05)
        self.got = []
        self.seen = set()
        self.offset_ns = clock_offset_ns()
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                data, anc, _, addr = self.sock.recvmsg(2048, 64)
            except socket.timeout:
                continue
            except OSError:
                return
            tu = time.monotonic()
            if addr[2] == topolab.PACKET_OUTGOING or len(data) < 14 + 20 + 8 + PROBE.size:
                continue
            if data[12:14] != b"\x08\x00" or data[23] != 17 or data[30:34] != ANY_B:
                continue
            ihl = (data[14] & 15) * 4
            u = 14 + ihl
            if struct.unpack("!H", data[u + 2:u + 4])[0] != PROBE_PORT:
                continue
            seq, _ = PROBE.unpack(data[u + 8:u + 8 + PROBE.size])
            tk = tu
            for lvl, typ, val in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(val) >= 16:
                    sec, nsec = struct.unpack("qq", val[:16])
                    tk = (sec * 1000000000 + nsec - self.offset_ns) / 1e9
            self.got.append((seq, tk, tu))
            self.seen.add(seq)

    def set_offset(self, off):
        self.offset_ns = off

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# Log and store readers

LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) (\S+) (\w+): (.*)$")


def wall_hms_to_mono(h, m, s, ms, offset_ns, now_wall):
    """A UTC HH:MM:SS.mmm stamp of today (or yesterday/tomorrow, whichever is nearest now)
    -> CLOCK_MONOTONIC seconds."""
    day = calendar.timegm(time.gmtime(now_wall)[:3] + (0, 0, 0))
    w = day + h * 3600 + m * 60 + s + ms / 1000.0
    for cand in (w - 86400, w + 86400):
        if abs(cand - now_wall) < abs(w - now_wall):
            w = cand
    return w - offset_ns / 1e9


class LogTail:
    """Lines appended to a log file since the last mark()."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def mark(self):
        try:
            self.pos = self.path.stat().st_size
        except FileNotFoundError:
            self.pos = 0

    def new_lines(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            return f.read().decode(errors="replace").splitlines()


def parse_stamped(lines, pattern, offset_ns, now_wall):
    """[(monotonic s, match)] for the lines whose message matches `pattern`."""
    out = []
    for line in lines:
        m = LOG_LINE.match(line)
        if not m:
            continue
        mm = re.search(pattern, m.group(7))
        if mm:
            out.append((wall_hms_to_mono(int(m.group(1)), int(m.group(2)), int(m.group(3)),
                                         int(m.group(4)), offset_ns, now_wall), mm))
    return out


class Store:
    """veneerd's SQLite store, read-only (WAL: readers never block its writer)."""

    def __init__(self, path):
        self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)

    def learned(self, port):
        """(id, updated ms realtime, revision, selected) of the port's row for PFX."""
        net = int.from_bytes(socket.inet_aton("10.60.0.0"), "big")
        r = self.db.execute("SELECT id, updated, revision, selected FROM learned_routes "
                            "WHERE port = ? AND addr = ? AND len = 24", (port, net)).fetchone()
        self.db.commit()
        return r

    def change_rev(self, kind, ident, op):
        r = self.db.execute("SELECT MAX(revision) FROM changes WHERE kind = ? AND id = ? AND "
                            "op = ?", (kind, ident, op)).fetchone()
        self.db.commit()
        return r[0] if r else None

    def close(self):
        self.db.close()


class Floor:
    """What two durable commits cost here: single-row INSERT+COMMIT transactions with
    Python's sqlite3 (WAL, synchronous=FULL, like veneerd's store) in the lab's directory,
    on the store's file system. Measured after each trial."""

    def __init__(self, path):
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")

    def two_commits(self, n=5):
        ts = []
        for i in range(n):
            t = time.monotonic()
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO t VALUES (?)", (i,))
            self.db.execute("COMMIT")
            ts.append(time.monotonic() - t)
        return 2000 * statistics.median(ts)

    def close(self):
        self.db.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(str(self.path) + suffix)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------------------------
# The lab

def restart_agents_debug(lab):
    """Each agent again with the same command line plus --debug ctl, so that it logs
    "applied revision N" (done before any port exists)."""
    for i in range(1, lab.hosts + 1):
        tag = "agent-h%d" % i
        pidf = lab.dir / (tag + ".pid")
        pid = int(pidf.read_text())
        argv = [a.decode() for a in
                pathlib.Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")[:-1]]
        if not argv or not argv[0].endswith("veneer-agent"):
            raise RuntimeError("%s: pid %d is not the agent: %r" % (tag, pid, argv))
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not pathlib.Path("/proc/%d" % pid).exists() or
                   pathlib.Path("/proc/%d/stat" % pid).read_text().split()[2] == "Z",
                   10, what="%s to exit" % tag)
        out = open(lab.dir / (tag + ".log"), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", "%s-h%d" % (lab.name, i)] + argv +
                             ["--debug", "ctl"], stdout=out, stderr=out,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        topolab._reap(p)
        pidf.write_text("%d\n" % p.pid)
    lab.wait_connected(timeout=30)


def selected(lab, router):
    items = lab.api.get("/v1/routers/%s/routes" % router)["items"]
    return sorted((r["origin"], r["target"]) for r in items
                  if r["destination"] == PFX and r["selected"])


class Bench:
    def __init__(self, lab, hold):
        self.lab = lab
        self.hold = hold

    def setup(self):
        lab = self.lab
        restart_agents_debug(lab)
        t = lab.tenant()
        self.net = lab.network(t, "10.0.0.0/16")
        sa = lab.subnet(self.net, "10.0.1.0/24")
        sc = lab.subnet(self.net, "10.0.3.0/24")
        self.router = self.net["main_router"]
        self.x = lab.vm(lab.port(sc, "h1", routing=True, source_dest_check=False), "x")
        self.y = lab.vm(lab.port(sc, "h2", routing=True, source_dest_check=False), "y")
        for v in (self.x, self.y):
            v.sh("ip", "addr", "add", ANYCAST + "/32", "dev", "lo", check=True)
        self.c = lab.vm(lab.port(sa, CLIENT_HOST), "c")
        self.store = Store(lab.dir / "veneer.db")
        self.floor = Floor(lab.dir / "bw-floor.db")
        self.rd_log = LogTail(lab.dir / "routerd.log")
        self.ag_log = LogTail(lab.dir / ("agent-%s.log" % CLIENT_HOST))
        self.ys = Speaker(self.y, Y_ASN, prepend=[Y_ASN]).up()
        self.ys.announce()
        wait_until(lambda: selected(lab, self.router) == [("bgp", self.y.id)], 30,
                   what="10.60.0.0/24 via y")
        self.rx = Reader(self.x)
        self.ry = Reader(self.y)
        self.rx.start()
        self.ry.start()
        self.prober = Prober(self.c)
        self.prober.start()
        wait_until(lambda: len(self.ry.got) > 50, 30, what="probes reaching y")
        self.xs = None

    def prepare(self, mode):
        """x up (if needed) and announcing, the table at x alone, applied, probes at x."""
        lab = self.lab
        if self.xs is None or self.xs.raw is None or self.xs.closed_at is not None:
            if self.xs is not None:
                self.xs.down()
            hold = self.hold if mode == "hold" else 90
            self.xs = Speaker(self.x, X_ASN, hold=hold).up()
        self.xs.announce()
        wait_until(lambda: selected(lab, self.router) == [("bgp", self.x.id)], 30,
                   what="10.60.0.0/24 via x alone")
        # x's route installed at its row's revision (a global revision: the network's own
        # revision does not move with learned routes)
        xrow = wait_until(lambda: (r := self.store.learned(self.x.id)) and r[3] and r, 10,
                          what="x's learned route in the store")
        lab.wait_applied(xrow[2])
        sport = self.prober.new_flow()
        time.sleep(0.05)

        def at_x_only():
            nx, ny = len(self.rx.got), len(self.ry.got)
            time.sleep(0.2)
            return len(self.rx.got) - nx >= 100 and len(self.ry.got) == ny
        wait_until(at_x_only, 10, interval=0.01, what="probes at x only")
        return sport

    def trial(self, mode):
        lab = self.lab
        sport = self.prepare(mode)
        xrow = self.store.learned(self.x.id)
        base_rev = self.lab.api.get("/v1/hosts/" + CLIENT_HOST)["agent"]["applied_revision"]
        self.rd_log.mark()
        self.ag_log.mark()
        off = clock_offset_ns()
        self.rx.set_offset(off)
        self.ry.set_offset(off)
        nx0, ny0 = len(self.rx.got), len(self.ry.got)
        if mode == "withdraw":
            t0 = self.xs.withdraw()
        elif mode == "close":
            t0 = self.xs.cease()
        else:
            # t0 is x's last message: wait for a keepalive sent after the checks above
            tm = time.monotonic()
            wait_until(lambda: self.xs.last_sent > tm, 5, interval=0.001,
                       what="a keepalive from x")
            t0 = self.xs.mute()
        limit = (self.hold + 10) if mode == "hold" else 10
        wait_until(lambda: any(tk > t0 for _, tk, _ in self.ry.got[ny0:]), limit,
                   interval=0.005, what="a probe at y after the withdrawal")
        wait_until(lambda: selected(lab, self.router) == [("bgp", self.y.id)], 30,
                   what="10.60.0.0/24 via y alone")
        yrow = wait_until(lambda: (r := self.store.learned(self.y.id)) and r[3] and r, 10,
                          what="y's learned route selected in the store")
        rx = wait_until(lambda: self.store.change_rev("lroute", xrow[0], "delete"), 10,
                        what="x's route deleted in the store")
        final = max(yrow[2], rx)
        lab.wait_applied(final)
        time.sleep(0.3)  # stragglers
        now_wall = time.time()
        if mode != "withdraw":
            self.xs.down()
        r = {"mode": mode, "sport": sport, "t0": t0}
        # from 3 s before the mark: in mode hold, t0 (the last keepalive) precedes it by <= 1 s
        gy = [(s, tk) for s, tk, _ in self.ry.got[max(0, ny0 - 3000):] if tk > t0]
        gx = [(s, tk) for s, tk, _ in self.rx.got[max(0, nx0 - 3000):] if tk > t0]
        first_y = min(gy, key=lambda g: g[1])
        r["t1"] = (first_y[1] - t0) * 1000
        r["t2"] = (max(tk for _, tk in gx) - t0) * 1000 if gx else None
        last_x_seq = max((s for s, _ in gx), default=None)
        # probes sent after t0, before the first at y, that arrived nowhere
        seen = {s for s, _ in gx} | {s for s, _ in gy}
        sent = self.prober.sent
        lost = [s for s in range(len(sent)) if sent[s] > t0 and s < first_y[0]
                and s not in seen]
        r["lost"] = len(lost)
        if os.environ.get("BW_DEBUG") and lost:  # where the lost probes were sent
            ts = [(sent[s] - t0) * 1000 for s in lost]
            runs, start, prev = [], ts[0], ts[0]
            for t in ts[1:] + [None]:
                if t is None or t - prev > 1.5:
                    runs.append("%.0f..%.0f" % (start, prev))
                    start = t
                prev = t
            log("    lost probes sent at (ms after t0): %s" % " ".join(runs[:30]))
        r["late_x"] = sum(1 for s, _ in gx if s > first_y[0])  # at x after y began
        r["last_x_seq_sent"] = ((sent[last_x_seq] - t0) * 1000) if last_x_seq is not None \
            else None
        # routerd
        downs = parse_stamped(self.rd_log.new_lines(),
                              r"port %s: BGP session down: (.*)" % re.escape(self.x.id), off,
                              now_wall)
        r["rd"] = (downs[0][0] - t0) * 1000 if downs else None
        r["rd_why"] = downs[0][1].group(1) if downs else None
        # veneerd: y installed (RY), x gone (RX)
        r["vd_y"] = ((yrow[1] - off / 1e6) / 1000.0 - t0) * 1000
        r["RY"] = yrow[2]
        r["RX"] = rx
        pre = [s for s in range(len(sent)) if t0 - 1.0 < sent[s] < t0 - 0.1]
        r["pre_loss"] = sum(1 for s in pre if s not in self.rx.seen and s not in
                            self.ry.seen) / max(1, len(pre))
        r["base"] = base_rev
        r["final"] = final
        # the client host's agent
        applied = {int(m.group(1)): t for t, m in parse_stamped(
            self.ag_log.new_lines(), r"applied revision (\d+)", off, now_wall)}

        def applied_at(rev):
            ts = [t for rv, t in applied.items() if rev is not None and rv >= rev]
            return (min(ts) - t0) * 1000 if ts else None
        r["ag_RY"] = applied_at(r["RY"])
        r["ag_RX"] = applied_at(r["RX"])
        r["ag_revs"] = sorted(applied)
        r["order"] = "same" if r["RY"] == r["RX"] else \
            "y first" if r["RY"] < r["RX"] else "x first"
        r["split"] = r["RY"] != r["RX"] and min(r["RY"], r["RX"]) in applied
        r["commit2"] = self.floor.two_commits()
        h = lab.api.get("/v1/hosts/" + CLIENT_HOST)["agent"]
        r["ack"] = (h["applied_at_monotonic_ms"] - t0 * 1000) \
            if h.get("applied_revision") == final else None
        return r

    def stop(self):
        for attr in ("prober", "rx", "ry"):
            o = getattr(self, attr, None)
            if o is not None:
                o.stop()
        for attr in ("xs", "ys"):
            o = getattr(self, attr, None)
            if o is not None:
                o.down()
        if getattr(self, "store", None) is not None:
            self.store.close()
        if getattr(self, "floor", None) is not None:
            self.floor.close()


# ---------------------------------------------------------------------------------------------
# Report

COLS = [("t1", "t1 y"), ("t2", "t2 x"), ("rd", "rd down"), ("vd_y", "vd y"),
        ("ag_RY", "ag RY"), ("ag_RX", "ag RX"), ("ack", "ack"), ("commit2", "2 commits")]


def fmt(v):
    return "%8s" % "-" if v is None else "%8.1f" % v


def trial_line(i, r):
    return ("  %2d %s  lost %3d  late_x %d  agent h3 %s->%s RY %s RX %s (%s) applied %s  "
            "flow %d  pre-loss %.1f%%%s" % (
        i, " ".join(fmt(r[k]) for k, _ in COLS), r["lost"], r["late_x"], r["base"], r["final"],
        r["RY"], r["RX"], r["order"], ",".join(map(str, r["ag_revs"])), r["sport"],
        r["pre_loss"] * 100,
        "  (%s)" % r["rd_why"] if r["rd_why"] else ""))


def summary(mode, rs, hold):
    log("%s: %d trials, ms from t0 (median [min .. max])" % (mode, len(rs)))
    derived = {"gap": ("t1", "t2"), "vd_ag": ("ag_RX", "vd_y"), "ag_t1": ("t1", "ag_RX"),
               "rd_vd": ("vd_y", "rd")}
    for k, name in COLS + [("lost", "lost probes"), ("gap", "gap t1-t2"),
                           ("rd_vd", "rd -> vd y"), ("vd_ag", "vd y -> ag RX"),
                           ("ag_t1", "ag RX -> t1")]:
        if k in derived:
            a, b = derived[k]
            xs = [r[a] - r[b] for r in rs if r[a] is not None and r[b] is not None]
        else:
            xs = [r[k] for r in rs if r[k] is not None]
        if xs:
            log("  %-12s %8.1f  [%.1f .. %.1f]%s" % (name, statistics.median(xs), min(xs),
                                                     max(xs), "" if len(xs) == len(rs) else
                                                     "  (%d of %d)" % (len(xs), len(rs))))
    if mode == "hold":
        xs = [r["t1"] - hold * 1000 for r in rs]
        log("  %-12s %8.1f  [%.1f .. %.1f]" % ("t1 - hold", statistics.median(xs), min(xs),
                                              max(xs)))
    for order, what in (("same", "y installed and x removed in one revision"),
                        ("y first", "y installed first: a transient x+y ECMP pair"),
                        ("x first", "x removed first: a transient revision with no route")):
        n = [r for r in rs if r["order"] == order]
        if n:
            log("  %s: %d of %d trials, applied by h3 as a revision of its own in %d"
                % (what, len(n), len(rs), sum(1 for r in n if r["split"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--mode", choices=("withdraw", "close", "hold", "all"), default="all")
    ap.add_argument("--build", help="build directory (sets VENEER_BUILD)")
    ap.add_argument("--hold", type=int, default=3, help="x's hold time in mode hold (s)")
    ap.add_argument("--name", help="lab name (default: a fresh one)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bgp_withdraw.py needs root (network namespaces)")
    if args.build:
        os.environ["VENEER_BUILD"] = str(pathlib.Path(args.build).resolve())
    modes = ["withdraw", "close", "hold"] if args.mode == "all" else [args.mode]
    sys.setswitchinterval(0.0005)

    def on_signal(signo, frame):
        raise KeyboardInterrupt("signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)

    lab = Lab(args.name)
    bench = None
    results = {m: [] for m in modes}
    t_start = time.monotonic()
    rc = 1
    try:
        log("lab %s, build %s" % (lab.name, os.environ.get("VENEER_BUILD", REPO / "build")))
        lab.up(hosts=3)
        bench = Bench(lab, args.hold)
        bench.setup()
        log("x %s (h1), y %s (h2), client %s (%s); probes every 1 ms to %s:%d"
            % (bench.x.ip, bench.y.ip, bench.c.ip, CLIENT_HOST, ANYCAST, PROBE_PORT))
        for mode in modes:
            log("mode %s%s" % (mode, " (hold %d s)" % args.hold if mode == "hold" else ""))
            log("   # %s" % " ".join("%8s" % n for _, n in COLS))
            fails = 0
            while len(results[mode]) < args.trials:
                try:
                    r = bench.trial(mode)
                except AssertionError as e:
                    fails += 1
                    log("  trial failed: %s" % str(e)[:300])
                    if bench.xs is not None:
                        bench.xs.down()
                    if fails > 3:
                        raise
                    continue
                results[mode].append(r)
                log(trial_line(len(results[mode]), r))
            if bench.xs is not None:
                bench.xs.down()
                bench.xs = None
            log("  agents' drop counters: %s" % "; ".join(
                "h%d %s" % (i, {k: v for k, v in lab.drops("h%d" % i).items() if v})
                for i in range(1, 4)))
        log("")
        for mode in modes:
            summary(mode, results[mode], args.hold)
        log("columns: t1 y = first probe at y, t2 x = last probe at x, rd down = routerd's "
            "log of the session's end, vd y = veneerd's stamp of y's route installed, "
            "ag RY / ag RX = client host's agent applied y's / x's revision, ack = veneerd's "
            "stamp of that agent's ACK of the final revision; all minus t0. 2 commits = the "
            "cost of two fsynced SQLite commits on the store's file system, measured after "
            "the trial (a duration, not a time since t0)")
        log("machine: %d CPUs, load %s; total %.0f s" % (
            os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()),
            time.monotonic() - t_start))
        rc = 0
    finally:
        if bench is not None:
            try:
                bench.stop()
            except Exception as exc:  # noqa: BLE001 - the lab must still go down
                log("stop: %s" % exc)
        left = lab.down()
        if left:
            log("lab %s not entirely gone: %s" % (lab.name, left))
            rc = rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
