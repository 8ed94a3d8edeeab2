r"""Virtual IPs that move (issue 5): keepalived (VRRP) and BGP /32s on VMs of different hosts.

  lab of 3 hosts, encoding LAB_ENCAP (vxlan here, embed6 in test_keepalived_embed6.py)

  tenant T, network 10.0.0.0/16, subnet A 10.0.1.0/24, VIP 10.0.1.100
      ka1 (h1)  keepalived priority 150 (state MASTER)   claimable ["10.0.1.100/32"]
      ka2 (h2)  keepalived priority 100 (state BACKUP)   claimable ["10.0.1.100/32"]
      c   (h3)  the client
  tenant U, network 10.0.0.0/16, subnet 10.0.1.0/24, the same VIP 10.0.1.100 in another
  network (its BGP reaches veneer-routerd as VXLAN, on embed6 labs too)
      b1 (h1), b2 (h2)  routing ports, claimable ["10.0.1.100/32"], the VIP on lo, BIRD 2
                        peering with the gateway 10.0.1.1 (AS 64512), announcing 10.0.1.100/32
      d  (h3)  the client

keepalived runs unmodified from Debian (`keepalived -n -l -D -f CONF -p PID -r VRRP_PID -c
CHECK_PID` inside the VM), with the stock sample's vrrp_instance (virtual_router_id 51,
advert_int 1, PASS authentication) and only the interface and addresses changed; VRRP is
multicast (224.0.0.18), so the two VMs hear each other only when the agents replicate the
subnet's link-local multicast to the other ports of the subnet (head-end replication). The
master moves the VIP with gratuitous ARPs, which the master's agent reports as a claim
(how=garp); source_dest_check stays on: the VIP becomes one of the holder's addresses.

KA_VRRP=unicast in the environment runs the same tests with unicast VRRP (unicast_peer: the
other VM's address), which needs no replication: a diagnostic, to tell a replication problem
from a claim problem.

Probes: the client sends a UDP probe to VIP:9999 every 10 ms (a thread of this process, its
socket opened in the client's namespace) and a responder in each keepalived VM (a socket
bound to VIP:9999 with IP_FREEBIND, so it answers only while the VIP is local) echoes it
with the VM's name: the client sees who answers and how long no one did. A UDP echo rather
than ping because it says which VM answered. The TCP check uses a small echo server
(0.0.0.0:7007) in each VM.

What each test proves:
  test_master_holds_the_vip        steady state: ka1 alone has the VIP configured, veneerd
                                   shows it in ka1's vips and the history has ka1's garp
                                   claim, probes are answered by ka1 and ka2 stays BACKUP
                                   (it hears ka1's adverts: no split brain)
  test_graceful_stop_moves_to_backup  SIGTERM to ka1's keepalived (priority 0 advert): ka2
                                   takes the VIP (vips, how=garp) and answers within 5 s;
                                   a TCP connection held to the VIP is reset by ka2 (no
                                   shared TCP state between two machines: asserted), a new
                                   one reaches ka2
  test_master_returns_preempts     ka1 started again: it preempts (priority 150), holds the
                                   VIP again and answers, ka2 back to BACKUP, gap < 5 s
  test_link_down_moves_to_backup   ka1's interface down inside its VM (no more adverts):
                                   ka2 takes over after ~3 advert intervals (gap < 10 s);
                                   link up: ka1 takes it back
  test_bgp_*                       the same failover driven by BGP /32 announcements
Gaps are printed (pytest -s) with the test's figures; bench/vip_failover.py measures them
against the same keepalived pair on a plain Linux bridge.
"""

import json
import os
import pathlib
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from topolab import in_netns, packet_socket, wait_until

LAB_HOSTS = 3
LAB_ENCAP = "vxlan"

VIP = "10.0.1.100"
VIP_CLAIM = VIP + "/32"
PROBE_PORT = 9999
TCP_PORT = 7007
IP_FREEBIND = 15
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4
PACKET_OTHERHOST = 3
PROBE = struct.Struct("!QQ")  # seq, send time (monotonic ns)


# ---------------------------------------------------------------------------------------------
# keepalived, one instance per VM (also used by bench/vip_failover.py)

def keepalived_conf(name, dev, priority, state, vip=VIP, plen=24, unicast_peer=None):
    """Debian's sample vrrp_instance (keepalived.conf.sample), with our interface, VIP and
    priority: multicast VRRP, advert_int 1, preemption on (the default). With unicast_peer
    (a diagnostic, KA_VRRP=unicast) the adverts go to that address instead of 224.0.0.18."""
    uni = ("    unicast_peer {\n        %s\n    }\n" % unicast_peer) if unicast_peer else ""
    return """! Configuration File for keepalived (%s)

global_defs {
   router_id %s
}

vrrp_instance VI_1 {
    state %s
    interface %s
    virtual_router_id 51
    priority %d
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        %s/%d
    }
%s}
""" % (name, name, state, dev, priority, vip, plen, uni)


class Keepalived:
    """keepalived in the foreground in namespace ns; its files (config, three pid files, log)
    in workdir. The Popen is keepalived's parent process itself (`ip netns exec` execs it);
    stop() sends it SIGTERM (the VRRP child sends priority 0 and removes the VIP) and waits,
    by that PID only."""

    def __init__(self, ns, workdir, name, dev, priority, state, vip=VIP, unicast_peer=None):
        self.ns, self.name = ns, name
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "keepalived.conf"
        self.log = self.dir / "keepalived.log"
        self.pids = [self.dir / n for n in ("keepalived.pid", "vrrp.pid", "check.pid")]
        self.conf.write_text(keepalived_conf(name, dev, priority, state, vip,
                                             unicast_peer=unicast_peer))
        self.proc = None

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        for p in self.pids:
            p.unlink(missing_ok=True)
        out = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "keepalived", "-n", "-l", "-D",
                 "-f", str(self.conf), "-p", str(self.pids[0]), "-r", str(self.pids[1]),
                 "-c", str(self.pids[2])],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            out.close()
        wait_until(lambda: self.pids[1].exists() or self.proc.poll() is not None, 10,
                   what="keepalived %s VRRP child" % self.name)
        if self.proc.poll() is not None:
            raise AssertionError("keepalived %s exited (%s):\n%s"
                                 % (self.name, self.proc.returncode, self.log_tail()))
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM (graceful: priority 0 advert), then SIGKILL after timeout. Returns the
        monotonic time just before the signal."""
        t = time.monotonic()
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return t

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        for f in [self.conf, self.log] + self.pids:
            f.unlink(missing_ok=True)
        try:
            self.dir.rmdir()
        except OSError:
            pass


def has_addr(ns, dev, ip=VIP):
    r = subprocess.run(["ip", "-n", ns, "-j", "-4", "addr", "show", "dev", dev],
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        return False
    return any(a["local"] == ip for a in json.loads(r.stdout)[0]["addr_info"])


def link_set(ns, dev, state):
    """`ip link set DEV up|down` in ns; returns the monotonic time just before."""
    t = time.monotonic()
    subprocess.run(["ip", "-n", ns, "link", "set", "dev", dev, state], check=True)
    return t


# ---------------------------------------------------------------------------------------------
# Probes (also used by bench/vip_failover.py)

def clock_offset_ns():
    """CLOCK_REALTIME - CLOCK_MONOTONIC, the tightest of a few reads (kernel packet stamps are
    CLOCK_REALTIME)."""
    best = None
    for _ in range(5):
        a = time.monotonic_ns()
        r = time.time_ns()
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, r - (a + b) // 2)
    return best[1]


class Responder(threading.Thread):
    """Echoes probes to VIP:port, prefixed with `name`, from a socket in ns bound to the VIP
    with IP_FREEBIND: it answers only while the VIP is one of the VM's addresses."""

    def __init__(self, ns, name, vip=VIP, port=PROBE_PORT):
        super().__init__(daemon=True)
        with in_netns(ns):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        self.sock.bind((vip, port))
        self.sock.settimeout(0.1)
        self.tag = name.encode()[:8].ljust(8, b"\0")
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self.tag + data, addr)
            except OSError:
                pass

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


class Prober:
    """A UDP probe to VIP:port every `interval` s from a socket in the client's namespace;
    replies are read by a second thread. sent[seq] = send time; answers[seq] = (who, time)
    of the first answer (monotonic s)."""

    def __init__(self, ns, src_ip, vip=VIP, port=PROBE_PORT, interval=0.01):
        self.vip, self.port, self.interval = vip, port, interval
        with in_netns(ns):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src_ip, 0))
        self.sock.settimeout(0.1)
        self.sent = []
        self.answers = {}
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._send, daemon=True),
                        threading.Thread(target=self._recv, daemon=True)]
        for t in self.threads:
            t.start()

    def _send(self):
        nxt = time.monotonic()
        pad = b"\0" * 16
        while not self.stop_ev.is_set():
            now = time.monotonic()
            if now < nxt:
                time.sleep(nxt - now)
            t = time.monotonic()
            seq = len(self.sent)
            self.sent.append(t)
            try:
                self.sock.sendto(PROBE.pack(seq, int(t * 1e9)) + pad, (self.vip, self.port))
            except OSError:
                pass
            nxt += self.interval
            if nxt < t - 0.005:
                nxt = t  # after a stall: no burst

    def _recv(self):
        while not self.stop_ev.is_set():
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            t = time.monotonic()
            if len(data) < 8 + PROBE.size:
                continue
            who = data[:8].rstrip(b"\0").decode(errors="replace")
            seq, _ = PROBE.unpack(data[8:8 + PROBE.size])
            self.answers.setdefault(seq, (who, t))

    def mark(self):
        """The next sequence number: probes from here on are after this moment."""
        return len(self.sent)

    def last_answerer(self, window=0.1):
        """Who answered the last probes sent at least 50 ms ago (None if nobody did)."""
        now = time.monotonic()
        seqs = [s for s, t in enumerate(list(self.sent)) if now - window - 0.05 <= t < now - 0.05]
        who = {self.answers[s][0] for s in seqs if s in self.answers}
        return who.pop() if len(who) == 1 and all(s in self.answers for s in seqs) else None

    def wait_answerer(self, who, timeout):
        return wait_until(lambda: self.last_answerer() == who, timeout, interval=0.02,
                          what="probes answered by %s only" % who)

    def gap(self, since, until=None):
        """The longest stretch without an answer among probes from seq `since` to `until`
        (exclusive): (gap in seconds from the last answered probe's send time to the next
        answered probe's send time, unanswered probes in it, the first answerer after)."""
        sent = list(self.sent)
        until = len(sent) if until is None else until
        # start from the last answered probe before `since`
        prev = since - 1
        while prev >= 0 and prev not in self.answers:
            prev -= 1
        best = (0.0, 0, None)
        for s in range(max(since, prev + 1), until):
            if s not in self.answers:
                continue
            if prev >= 0:
                g = sent[s] - sent[prev]
                if g > best[0]:
                    best = (g, s - prev - 1, self.answers[s][0])
            prev = s
        return best

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(2)
        self.sock.close()


class Arrivals(threading.Thread):
    """A packet socket on a VM's interface: probes arriving (to VIP:port) and gratuitous ARPs
    for the VIP and VRRP adverts (IP protocol 112) leaving and arriving, kernel-stamped, on
    CLOCK_MONOTONIC. probes = [(t, seq)], garps = [t], adverts = [t] (leaving),
    adverts_in = [t] (arriving)."""

    def __init__(self, ns, dev, vip=VIP, port=PROBE_PORT):
        super().__init__(daemon=True)
        self.sock = packet_socket(ns, dev)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.05)
        self.vip = socket.inet_aton(vip)
        self.port = port
        self.offset_ns = clock_offset_ns()
        self.probes, self.garps, self.adverts, self.adverts_in = [], [], [], []
        self.stop_ev = threading.Event()
        self.start()

    def _stamp(self, anc):
        for lvl, typ, val in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(val) >= 16:
                sec, nsec = struct.unpack("qq", val[:16])
                return (sec * 1000000000 + nsec - self.offset_ns) / 1e9
        return time.monotonic()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                data, anc, _, addr = self.sock.recvmsg(2048, 64)
            except socket.timeout:
                continue
            except OSError:
                if self.stop_ev.is_set():
                    return
                time.sleep(0.05)  # the interface went down: keep the socket, retry
                continue
            etype = data[12:14]
            if addr[2] == PACKET_OUTGOING:
                # ARP, sender and target protocol address both the VIP: gratuitous
                if etype == b"\x08\x06" and len(data) >= 42 and data[28:32] == self.vip \
                        and data[38:42] == self.vip:
                    self.garps.append(self._stamp(anc))
                elif etype == b"\x08\x00" and len(data) >= 34 and data[23] == 112:
                    self.adverts.append(self._stamp(anc))
                continue
            # a frame for another MAC (a bridge flooding a destination it forgot when the
            # old master's port lost carrier) is not delivered to this VM: not counted
            if addr[2] == PACKET_OTHERHOST:
                continue
            if etype == b"\x08\x00" and len(data) >= 34 and data[23] == 112:
                self.adverts_in.append(self._stamp(anc))
                continue
            if etype != b"\x08\x00" or len(data) < 42 + PROBE.size or data[23] != 17 \
                    or data[30:34] != self.vip:
                continue
            u = 14 + (data[14] & 15) * 4
            if struct.unpack("!H", data[u + 2:u + 4])[0] != self.port:
                continue
            seq, _ = PROBE.unpack(data[u + 8:u + 8 + PROBE.size])
            self.probes.append((self._stamp(anc), seq))

    def first_after(self, t):
        return next((x for x, _ in list(self.probes) if x > t), None)

    def last_before(self, t):
        xs = [x for x, _ in list(self.probes) if x <= t]
        return xs[-1] if xs else None

    def advert_before(self, t):
        xs = [x for x in list(self.adverts) if x <= t]
        return xs[-1] if xs else None

    def advert_after(self, t, arriving=False):
        return next((x for x in list(self.adverts_in if arriving else self.adverts) if x > t),
                    None)

    def garp_after(self, t):
        return next((x for x in list(self.garps) if x > t), None)

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()


class EchoServer(threading.Thread):
    """TCP echo on 0.0.0.0:port in ns, each answer prefixed with `name:`."""

    def __init__(self, ns, name, port=TCP_PORT):
        super().__init__(daemon=True)
        with in_netns(ns):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.tag = name.encode()
        self.conns = []
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(self.tag + b":" + d)
        except OSError:
            return

    def stop(self):
        self.stop_ev.set()
        self.join(2)
        self.sock.close()
        for c in self.conns:
            c.close()


# ---------------------------------------------------------------------------------------------
# The topology

def record(name, value):
    print("\n[figure] %s: %s" % (name, value))


@pytest.fixture(scope="module")
def vrrp(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    ka1 = lab.vm(lab.port(sa, "h1", claimable=[VIP_CLAIM]), "ka1")
    ka2 = lab.vm(lab.port(sa, "h2", claimable=[VIP_CLAIM]), "ka2")
    c = lab.vm(lab.port(sa, "h3"), "c")
    uni = os.environ.get("KA_VRRP") == "unicast"
    kas = {"ka1": Keepalived(ka1.ns, lab.peer_dir("ka1"), "ka1", ka1.dev, 150, "MASTER",
                             unicast_peer=ka2.ip if uni else None),
           "ka2": Keepalived(ka2.ns, lab.peer_dir("ka2"), "ka2", ka2.dev, 100, "BACKUP",
                             unicast_peer=ka1.ip if uni else None)}
    helpers = []
    try:
        helpers += [Responder(ka1.ns, "ka1"), Responder(ka2.ns, "ka2"),
                    EchoServer(ka1.ns, "ka1"), EchoServer(ka2.ns, "ka2")]
        arr = {"ka1": Arrivals(ka1.ns, ka1.dev), "ka2": Arrivals(ka2.ns, ka2.dev)}
        helpers += list(arr.values())
        # ka2 first: it becomes master alone, then ka1 preempts it (as a restarted master).
        kas["ka2"].start()
        kas["ka1"].start()
        prober = Prober(c.ns, c.ip)
        helpers.append(prober)
        yield {"lab": lab, "vms": {"ka1": ka1, "ka2": ka2, "c": c}, "ka": kas,
               "prober": prober, "arr": arr, "subnet": sa}
    finally:
        for h in reversed(helpers):
            h.stop()
        for k in kas.values():
            k.cleanup()


def holder(lab, vms):
    """{name: vips} for the keepalived VMs, from the API."""
    return {n: lab.api.get("/v1/ports/" + vm.id)["vips"] for n, vm in vms.items()
            if n.startswith("ka")}


def vip_configured(vms):
    return sorted(n for n in ("ka1", "ka2") if has_addr(vms[n].ns, vms[n].dev))


def wait_holder(v, name, timeout=10):
    """The VIP is configured in `name` only, veneerd shows `name` holding it, and probes are
    answered by `name`."""
    lab, vms = v["lab"], v["vms"]
    other = "ka2" if name == "ka1" else "ka1"
    wait_until(lambda: vip_configured(vms) == [name], timeout,
               what="the VIP configured in %s only (keepalived: no split brain); "
               "%s log:\n%s" % (name, other, v["ka"][other].log_tail(8)))
    wait_until(lambda: holder(lab, vms) == {name: [VIP], other: []}, timeout,
               what="veneerd: %s holds %s" % (name, VIP))
    v["prober"].wait_answerer(name, timeout)


def last_claim(lab, port):
    items = lab.api.get("/v1/claims?port=%s&ip=%s&result=applied" % (port, VIP))["items"]
    return items[-1] if items else None


def test_master_holds_the_vip(vrrp):
    lab, vms = vrrp["lab"], vrrp["vms"]
    wait_holder(vrrp, "ka1", timeout=20)
    claim = last_claim(lab, vms["ka1"].id)
    assert claim is not None and claim["how"] == "garp", claim
    # ka2 holds it no longer, nor configures it: it hears ka1's adverts (replicated
    # multicast) and stays BACKUP, the VIP kept in ka1 for 3 advert intervals
    time.sleep(3.5)
    assert vip_configured(vms) == ["ka1"], vrrp["ka"]["ka2"].log_tail(10)
    assert holder(lab, vms) == {"ka1": [VIP], "ka2": []}
    assert vrrp["prober"].last_answerer() == "ka1"


def _tcp_connect(vm, ip=VIP, port=TCP_PORT):
    with in_netns(vm.ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((ip, port))
    return s


def _tcp_echo(s, data=b"hello"):
    s.sendall(data)
    return s.recv(4096)


def test_graceful_stop_moves_to_backup(vrrp):
    lab, vms, pr, arr = vrrp["lab"], vrrp["vms"], vrrp["prober"], vrrp["arr"]
    wait_holder(vrrp, "ka1", timeout=20)
    conn = _tcp_connect(vms["c"])
    try:
        assert _tcp_echo(conn) == b"ka1:hello"
        mark = pr.mark()
        t0 = vrrp["ka"]["ka1"].stop()
        wait_holder(vrrp, "ka2", timeout=10)
        gap, lost, who = pr.gap(mark)
        t1 = arr["ka2"].first_after(t0)
        garp = arr["ka2"].garp_after(t0)
        record("graceful stop: client gap",
               "%.0f ms (%d probes of 10 ms unanswered), first probe at ka2 %.0f ms after "
               "SIGTERM, ka2's GARP -> first probe at ka2 %s ms"
               % (gap * 1e3, lost, (t1 - t0) * 1e3,
                  "%.1f" % ((t1 - garp) * 1e3) if garp and t1 else "?"))
        assert gap < 5.0, (gap, lost, who)
        claim = last_claim(lab, vms["ka2"].id)
        assert claim["how"] == "garp" and claim["reason"] == "taken from %s" % vms["ka1"].id, \
            claim
        # The connection was ka1's: ka2 has no state for it and answers with a reset (a VIP
        # moving between two machines keeps no TCP connection unless they share state).
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            r = _tcp_echo(conn, b"again")
            assert r != b"", "the old connection answered %r" % r
            raise AssertionError("the old connection answered %r" % r)
    finally:
        conn.close()
    fresh = _tcp_connect(vms["c"])
    try:
        assert _tcp_echo(fresh) == b"ka2:hello"
    finally:
        fresh.close()


def test_master_returns_preempts(vrrp):
    lab, vms, pr = vrrp["lab"], vrrp["vms"], vrrp["prober"]
    if vrrp["ka"]["ka1"].running():
        vrrp["ka"]["ka1"].stop()
        wait_holder(vrrp, "ka2", timeout=10)
    mark = pr.mark()
    vrrp["ka"]["ka1"].start()
    wait_holder(vrrp, "ka1", timeout=10)
    gap, lost, who = pr.gap(mark)
    record("master returns: client gap", "%.0f ms (%d probes unanswered)" % (gap * 1e3, lost))
    assert gap < 5.0, (gap, lost, who)
    fresh = _tcp_connect(vms["c"])
    try:
        assert _tcp_echo(fresh) == b"ka1:hello"
    finally:
        fresh.close()


def test_link_down_moves_to_backup(vrrp):
    lab, vms, pr, arr = vrrp["lab"], vrrp["vms"], vrrp["prober"], vrrp["arr"]
    ka1 = vms["ka1"]
    if not vrrp["ka"]["ka1"].running():
        vrrp["ka"]["ka1"].start()
    wait_holder(vrrp, "ka1", timeout=10)
    mark = pr.mark()
    t0 = link_set(ka1.ns, ka1.dev, "down")
    try:
        # ka1 keeps the VIP configured (its interface is down: keepalived FAULT), so only
        # ka2's side is checked here
        wait_until(lambda: holder(lab, vms) == {"ka1": [], "ka2": [VIP]}, 10,
                   what="veneerd: ka2 holds the VIP")
        pr.wait_answerer("ka2", 10)
        gap, lost, who = pr.gap(mark)
        t1 = arr["ka2"].first_after(t0)
        record("link down: client gap", "%.0f ms (%d probes unanswered), first probe at ka2 "
               "%.0f ms after the link went down" % (gap * 1e3, lost, (t1 - t0) * 1e3))
        assert gap < 10.0, (gap, lost, who)
        # ~3 advert intervals (master down interval 3 + skew (256-100)/256 s), never sooner
        assert t1 - t0 > 2.5, t1 - t0
    finally:
        mark = pr.mark()
        link_set(ka1.ns, ka1.dev, "up")
    wait_holder(vrrp, "ka1", timeout=10)
    gap, lost, who = pr.gap(mark)
    record("link up again: client gap", "%.0f ms (%d probes unanswered)" % (gap * 1e3, lost))
    assert gap < 5.0, (gap, lost, who)


# ---------------------------------------------------------------------------------------------
# The same by BGP /32

GW = "10.0.1.1"
ROUTER_ASN = 64512


@pytest.fixture(scope="module")
def bgp(lab):
    from peers import Bird
    u = lab.tenant()
    net = lab.network(u, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")
    vms = {}
    for name, host in (("b1", "h1"), ("b2", "h2")):
        vms[name] = lab.vm(lab.port(sa, host, routing=True, claimable=[VIP_CLAIM]), name)
        vms[name].sh("ip", "addr", "add", VIP + "/32", "dev", "lo", check=True)
    vms["d"] = lab.vm(lab.port(sa, "h3"), "d")
    birds, helpers = {}, []
    try:
        for i, name in enumerate(("b1", "b2")):
            vm = vms[name]
            birds[name] = Bird(vm.ns, lab.peer_dir(name), vm.ip, 65001 + i,
                               neighbors=[{"ip": GW, "asn": ROUTER_ASN}], announce=[])
            birds[name].start()
        # each answers from its own socket bound to the VIP (it is on lo in both)
        helpers += [Responder(vms["b1"].ns, "b1"), Responder(vms["b2"].ns, "b2")]
        prober = Prober(vms["d"].ns, vms["d"].ip)
        helpers.append(prober)
        yield {"lab": lab, "vms": vms, "birds": birds, "prober": prober, "net": net}
    finally:
        for h in reversed(helpers):
            h.stop()
        for b in birds.values():
            b.stop()


def bgp_holder(lab, vms):
    return {n: lab.api.get("/v1/ports/" + vms[n].id)["vips"] for n in ("b1", "b2")}


def wait_bgp_holder(b, name, timeout=15):
    lab, vms = b["lab"], b["vms"]
    other = "b2" if name == "b1" else "b1"
    wait_until(lambda: bgp_holder(lab, vms) == {name: [VIP], other: []}, timeout,
               what="veneerd: %s holds %s" % (name, VIP))
    b["prober"].wait_answerer(name, timeout)


def test_bgp_announcements_claim_the_later_announcer_holds(bgp):
    lab, vms, birds = bgp["lab"], bgp["vms"], bgp["birds"]
    for n in ("b1", "b2"):
        birds[n].wait_established(GW, timeout=60)
    birds["b1"].announce(VIP_CLAIM)
    wait_bgp_holder(bgp, "b1")
    birds["b2"].announce(VIP_CLAIM)
    wait_bgp_holder(bgp, "b2")
    claim = last_claim(lab, vms["b2"].id)
    assert claim["how"] == "bgp" and claim["reason"] == "taken from %s" % vms["b1"].id, claim
    # a claim, not a route: the router's table does not carry it
    routes = lab.api.get("/v1/routers/%s/routes" % bgp["net"]["main_router"])["items"]
    assert VIP_CLAIM not in [r["destination"] for r in routes], routes


def test_bgp_withdraw_releases_to_the_other_announcer(bgp):
    lab, vms, birds, pr = bgp["lab"], bgp["vms"], bgp["birds"], bgp["prober"]
    for n in ("b1", "b2"):
        birds[n].announce(VIP_CLAIM)
    wait_bgp_holder(bgp, "b2")
    mark = pr.mark()
    birds["b2"].withdraw(VIP_CLAIM)
    wait_bgp_holder(bgp, "b1")
    gap, lost, who = pr.gap(mark)
    record("bgp withdraw: client gap", "%.0f ms (%d probes unanswered)" % (gap * 1e3, lost))
    assert gap < 5.0, (gap, lost, who)
    claim = last_claim(lab, vms["b1"].id)
    assert (claim["how"], claim["reason"]) == ("bgp", "next bgp claimant"), claim


def test_bgp_session_end_releases_to_the_other_announcer(bgp):
    lab, vms, birds, pr = bgp["lab"], bgp["vms"], bgp["birds"], bgp["prober"]
    birds["b2"].announce(VIP_CLAIM)
    wait_bgp_holder(bgp, "b2")
    mark = pr.mark()
    birds["b2"].stop(keep_log=True)  # SIGTERM: BIRD closes its session (Cease)
    wait_bgp_holder(bgp, "b1")
    gap, lost, who = pr.gap(mark)
    record("bgp session end: client gap", "%.0f ms (%d probes unanswered)"
           % (gap * 1e3, lost))
    assert gap < 5.0, (gap, lost, who)
    claim = last_claim(lab, vms["b1"].id)
    assert (claim["how"], claim["reason"]) == ("bgp", "next bgp claimant"), claim
    # the last announcer withdrawing leaves the address to nobody
    birds["b1"].withdraw(VIP_CLAIM)
    wait_until(lambda: bgp_holder(lab, vms) == {"b1": [], "b2": []}, 15,
               what="nobody holds the VIP")
    released = lab.api.get("/v1/claims?ip=%s&result=released&port=%s"
                           % (VIP, vms["b1"].id))["items"]
    assert released and released[-1]["reason"] == "withdrawn by bgp", released
