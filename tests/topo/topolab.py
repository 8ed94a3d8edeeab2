"""Helpers for the topology tests: a veneer-lab deployment driven from Python.

    root namespace: pytest (this process), veneerd at 198.18.K.254
        |  veth
    NAME-sub: the substrate bridge
        |
    NAME-h1 .. NAME-hN: one veneer-agent each (control socket /run/veneer-lab/NAME/hN.sock)
        |  TAP per port, created by the agent inside the VM's namespace
    NAME-VM: a "VM" (a network namespace) configured by a real DHCP client

Standard library plus scapy (frames are built with scapy, sent and captured with AF_PACKET
sockets opened inside the VM namespaces, so no helper process and no sleep is needed).
Everything is torn down by Lab.down(), which the fixtures call even when a test fails.
"""

import ctypes
import json
import os
import pathlib
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

REPO = pathlib.Path(__file__).resolve().parents[2]
LAB_TOOL = REPO / "scripts" / "veneer-lab"
RUN = pathlib.Path("/run/veneer-lab")

# Labs that are up, so a failing test's report can show their logs (conftest.py).
ACTIVE = []


# ---------------------------------------------------------------------------------------------
# Generic helpers

def wait_until(fn, timeout=10.0, interval=0.05, what="condition"):
    """Calls fn until it returns a true value (an exception counts as false) and returns that
    value; after `timeout` seconds fails the test with the last result."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except Exception as exc:  # noqa: BLE001 - retried, reported on timeout
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s; last result: %r"
                                 % (timeout, what, last))
        time.sleep(interval)


def unique_name():
    """A lab name that no other run uses: 't' and 4 hex digits (veneer-lab allows 1-8 a-z0-9)."""
    while True:
        name = "t" + secrets.token_hex(2)
        if not (RUN / name).exists() and not any(ns.startswith(name + "-")
                                                 for ns in netns_list()):
            return name


def netns_list():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def _reap(p):
    """Waits for p in a daemon thread, so an exited child never lingers as a zombie (which
    `kill -0` would still see)."""
    threading.Thread(target=p.wait, daemon=True).start()
    return p


# ---------------------------------------------------------------------------------------------
# Network namespaces from inside this process

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


@contextmanager
def in_netns(ns):
    """Runs the body with this thread in network namespace `ns`; sockets made there stay
    there after the thread comes back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = None
    try:
        there = os.open("/run/netns/%s" % ns, os.O_RDONLY)
        _setns(there)
        try:
            yield
        finally:
            try:
                _setns(home)
            except OSError:  # pragma: no cover - the test process must not stay in a VM
                os._exit(99)
    finally:
        os.close(home)
        if there is not None:
            os.close(there)


ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def packet_socket(ns, dev):
    """An AF_PACKET socket bound to dev inside namespace ns."""
    with in_netns(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: floods fit
            s.bind((dev, ETH_P_ALL))
        except OSError:
            s.close()
            raise
    return s


class Sniffer:
    """Captures every frame arriving on a VM's interface (not the ones the VM sends) until
    stop(). frames() gives the raw bytes."""

    def __init__(self, vm):
        self.vm = vm
        self.sock = packet_socket(vm.ns, vm.dev)
        self.sock.settimeout(0.05)
        self._frames = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            with self._lock:
                self._frames.append(data)

    def frames(self):
        with self._lock:
            return list(self._frames)

    def clear(self):
        with self._lock:
            self._frames.clear()

    def stop(self):
        """Stops capturing, keeping what is still queued in the socket; returns the frames.
        Stopping again (a `with` block after an explicit stop) only returns them."""
        if self._stop.is_set():
            return self.frames()
        self._stop.set()
        self._thread.join(2)
        self.sock.setblocking(False)
        try:
            while True:
                data, addr = self.sock.recvfrom(65536)
                if addr[2] != PACKET_OUTGOING:
                    with self._lock:
                        self._frames.append(data)
        except (BlockingIOError, OSError):
            pass
        self.sock.close()
        return self.frames()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def echoes_reach(pinger, dst, candidates, name, count=2):
    """pinger pings dst while every VM of candidates ({name: VM}) captures: true when the
    pings were answered and the echo requests arrived at `name` only; and the counts."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import Ether

    def is_echo(f):
        p = Ether(f)
        return IP in p and p[IP].dst == dst and ICMP in p and p[ICMP].type == 8

    sn = {n: Sniffer(vm) for n, vm in candidates.items()}
    try:
        ok = pinger.ping_ok(dst, count=count)
    finally:
        seen = {n: s.stop() for n, s in sn.items()}
    got = {n: sum(1 for f in fs if is_echo(f)) for n, fs in seen.items()}
    return ok and got[name] >= count and all(v == 0 for n, v in got.items() if n != name), got


def send_frames(vm, frames):
    """Writes raw Ethernet frames (bytes or scapy packets) on the VM's interface, as the VM."""
    s = packet_socket(vm.ns, vm.dev)
    try:
        for f in frames:
            s.send(bytes(f))
    finally:
        s.close()


def proc_snmp(ns):
    """The Ip: counters of /proc/net/snmp inside namespace ns, as a dict."""
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"],
                         capture_output=True, text=True, check=True).stdout
    lines = [line.split() for line in out.splitlines() if line.startswith("Ip:")]
    return {k: int(v) for k, v in zip(lines[0][1:], lines[1][1:])}


# ---------------------------------------------------------------------------------------------
# The REST API

class ApiError(AssertionError):
    def __init__(self, method, path, status, body):
        super().__init__("%s %s -> %s %s" % (method, path, status, body))
        self.status = status
        self.body = body


class Api:
    def __init__(self, url, token):
        self.url = url
        self.token = token

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, method=method, data=data, headers={
            "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=15) as f:
                raw = f.read()
        except urllib.error.HTTPError as e:
            raise ApiError(method, path, e.code, e.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None

    def get(self, path):
        return self.req("GET", path)

    def post(self, path, body):
        return self.req("POST", path, body)

    def patch(self, path, body):
        return self.req("PATCH", path, body)

    def delete(self, path):
        return self.req("DELETE", path)


# ---------------------------------------------------------------------------------------------
# Lab and VMs

class Vm:
    def __init__(self, lab, name, port, dhcp):
        self.lab = lab
        self.name = name
        self.ns = "%s-%s" % (lab.name, name)
        self.port = port
        self.id = port["id"]
        self.dev = port["device"]
        self.ip = port["ip"]
        self.mac = port["mac"]
        self.host = port["host"]
        self.dhcp = dhcp

    def __repr__(self):
        return "<vm %s %s on %s>" % (self.name, self.ip, self.host)

    def sh(self, *cmd, timeout=30, check=False):
        return self.lab.sh(self.ns, *cmd, timeout=timeout, check=check)

    def popen(self, *cmd, **kw):
        return self.lab.popen(self.ns, *cmd, **kw)

    def ping(self, dst, count=1, wait=1, extra=()):
        """Runs ping; returns the CompletedProcess (stdout has ping's text)."""
        return self.sh("ping", "-n", "-c", str(count), "-W", str(wait), "-i", "0.2",
                       *extra, dst, timeout=count * 0.2 + wait + 10)

    def ping_ok(self, dst, count=1, wait=1, extra=()):
        r = self.ping(dst, count, wait, extra)
        return r.returncode == 0 and (" %d received" % count) in r.stdout

    def link(self):
        """`ip -j link show dev` inside the VM, or None when the device is gone."""
        r = self.sh("ip", "-j", "link", "show", "dev", self.dev)
        return json.loads(r.stdout)[0] if r.returncode == 0 else None

    def addrs(self):
        r = self.sh("ip", "-j", "-4", "addr", "show", "dev", self.dev, check=True)
        return [(a["local"], a["prefixlen"]) for a in json.loads(r.stdout)[0]["addr_info"]]

    def routes(self):
        return json.loads(self.sh("ip", "-j", "-4", "route", "show", check=True).stdout)


class Lab:
    def __init__(self, name=None):
        self.name = name or unique_name()
        self.dir = RUN / self.name
        self.api = None
        self.hosts = 0
        self.vms = {}
        self._procs = []
        self._vm_seq = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def tool(self, *args, timeout=60, check=True):
        r = subprocess.run([str(LAB_TOOL), *args, "--name", self.name], capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("veneer-lab %s failed (rc %d):\n%s%s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def up(self, hosts=2, encap="vxlan", substrate=None):
        ACTIVE.append(self)
        self.hosts = hosts
        extra = ("--substrate", substrate) if substrate else ()
        self.tool("up", "--hosts", str(hosts), "--encap", encap, *extra)
        env = {}
        for line in (self.dir / "env").read_text().splitlines():
            m = re.match(r"export (\w+)=(.*)$", line)
            if m:
                env[m.group(1)] = m.group(2)
        self.env = env
        self.api = Api(env["VENEER_URL"], env["VENEER_TOKEN"])
        return self

    def down(self):
        """Stops what this process started, then `veneer-lab down`. Returns what remains of
        the lab afterwards (namespaces, /etc/netns entries, a failed down): should be []."""
        problems = []
        try:
            for p in self._procs:
                if p.poll() is None:
                    try:
                        p.send_signal(signal.SIGTERM)
                        p.wait(3)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(3)
                    except ProcessLookupError:
                        pass
            problems += self._stop_daemons()
            r = self.tool("down", check=False, timeout=120)
            if r.returncode != 0:
                problems.append("veneer-lab down: rc %d %s" % (r.returncode, r.stderr.strip()))
        finally:
            if self in ACTIVE:
                ACTIVE.remove(self)
        problems += [ns for ns in netns_list() if ns.startswith(self.name + "-")]
        problems += [str(p) for p in pathlib.Path("/etc/netns").glob(self.name + "-*")]
        return problems

    def _stop_daemons(self):
        """Before `down`: every agent, routerd and veneerd must still be running (none
        crashed); each is stopped with SIGTERM and its log is searched for sanitizer reports
        (a sanitizer build, VENEER_BUILD=..., reports leaks at exit). Returns the problems."""
        problems = []
        if not self.dir.exists():
            return problems
        for pidfile in sorted(self.dir.glob("*.pid")):
            tag = pidfile.stem
            if not (tag in ("veneerd", "routerd") or tag.startswith("agent-")):
                continue
            try:
                pid = int(pidfile.read_text())
                os.kill(pid, 0)
                stat = pathlib.Path("/proc/%d/stat" % pid).read_text()
            except (OSError, ValueError):
                problems.append("%s is not running at teardown (crashed?)" % tag)
                continue
            if stat.split()[2] == "Z":
                problems.append("%s is not running at teardown (crashed?)" % tag)
                continue
            if tag.startswith("agent-"):
                self.tool("agent", tag[len("agent-"):], "stop", check=False)
            elif tag == "routerd":
                self.tool("routerd", "stop", check=False)
            else:
                os.kill(pid, signal.SIGTERM)
                try:
                    wait_until(lambda: not pathlib.Path("/proc/%d" % pid).exists() or
                               pathlib.Path("/proc/%d/stat" % pid).read_text().split()[2]
                               == "Z", 10, what="veneerd to exit")
                except AssertionError as e:
                    problems.append(str(e))
        for log in sorted(self.dir.glob("*.log")):
            text = log.read_text(errors="replace")
            for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if pat in text:
                    i = text.index(pat)
                    problems.append("%s: %s" % (log.name, text[max(0, i - 200):i + 1500]))
        return problems

    def log_tails(self, lines=25):
        out = []
        for f in sorted(self.dir.glob("*.log")):
            try:
                text = f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append("== %s ==\n%s" % (f, "\n".join(text)))
        return "\n".join(out)

    def peer_dir(self, name):
        """A work directory for a daemon (BIRD, FRR, keepalived...) inside the lab's: every
        directory on the way is searchable, since some daemons drop privileges (FRR runs as
        user frr), which pytest's tmp_path does not allow."""
        d = self.dir / "peers" / name
        d.mkdir(parents=True, exist_ok=True)
        for p in (self.dir, self.dir / "peers", d):
            p.chmod(0o755)
        return d

    # -- processes in namespaces --------------------------------------------------------------
    def sh(self, ns, *cmd, timeout=30, check=False):
        r = subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("in %s: %s -> rc %d\n%s%s" % (ns, " ".join(cmd), r.returncode,
                                                              r.stdout, r.stderr))
        return r

    def popen(self, ns, *cmd, **kw):
        """A background process in namespace ns, stopped (SIGTERM) by down() at the latest."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.STDOUT)
        kw.setdefault("text", True)
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)
        self._procs.append(p)
        return p

    # -- agents and veneerd -------------------------------------------------------------------
    def agent_ctl(self, host, command):
        """One command on the agent's control socket; its JSON answer."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(str(self.dir / ("%s.sock" % host)))
            s.sendall(command.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        finally:
            s.close()
        return json.loads(out)

    def agent_status(self, host):
        return self.agent_ctl(host, "status")

    def agent_state(self, host):
        """The agent's whole view (the `state` command)."""
        return self.agent_ctl(host, "state")["state"]

    def drops(self, host):
        return self.agent_status(host)["dataplane"]["drops"]

    def port_counters(self, host, port_id):
        return self.agent_status(host)["dataplane"]["ports"].get(port_id)

    def agent(self, host, action):
        return self.tool("agent", host, action)

    def bgp_session(self, router, port_id):
        """The API's view of port_id's BGP session with `router` (None when it has none)."""
        s = [x for x in self.api.get("/v1/routers/%s/bgp" % router)["sessions"]
             if x["port"] == port_id]
        return s[0] if s else None

    def wait_bgp_established(self, router, port_id, timeout=30):
        """Until veneerd shows that session established; returns it."""
        return wait_until(lambda: (s := self.bgp_session(router, port_id)) and
                          s["state"] == "established" and s, timeout,
                          what="%s established in veneerd" % port_id)

    def wait_connected(self, timeout=20):
        """Every host's agent is connected to veneerd (as veneerd and the agent both see it)."""
        for i in range(1, self.hosts + 1):
            h = "h%d" % i
            wait_until(lambda: self.api.get("/v1/hosts/" + h)["agent"]["connected"]
                       and self.agent_status(h)["sync"]["connected"], timeout,
                       what="agent %s connected" % h)

    def wait_applied(self, revision, timeout=15):
        """Every connected agent has applied at least `revision`."""
        for i in range(1, self.hosts + 1):
            h = "h%d" % i
            wait_until(lambda: self.api.get("/v1/hosts/" + h)["agent"].get(
                "applied_revision", 0) >= revision, timeout,
                what="agent %s at revision %d" % (h, revision))

    def veneerd_pid(self):
        return int((self.dir / "veneerd.pid").read_text())

    def veneerd_stop(self):
        """SIGTERM to veneerd; returns its command line, for veneerd_start()."""
        pid = self.veneerd_pid()
        argv = pathlib.Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")[:-1]
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not pathlib.Path("/proc/%d" % pid).exists() or
                   pathlib.Path("/proc/%d/stat" % pid).read_text().split()[2] == "Z",
                   10, what="veneerd %d to exit" % pid)
        return [a.decode() for a in argv]

    def veneerd_start(self, argv):
        log = open(self.dir / "veneerd.log", "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        _reap(p)
        (self.dir / "veneerd.pid").write_text("%d\n" % p.pid)
        wait_until(lambda: urllib.request.urlopen(self.env["VENEER_URL"] + "/v1/health",
                                                  timeout=2).status == 200,
                   10, what="veneerd health")
        return p

    # -- resources ----------------------------------------------------------------------------
    def tenant(self, name=None):
        return self.api.post("/v1/tenants", {"name": name or "ten" + secrets.token_hex(3)})

    def network(self, tenant, cidr, name=None):
        return self.api.post("/v1/networks", {"name": name or "net" + secrets.token_hex(3),
                                              "cidr": cidr, "tenant": tenant["id"]})

    def router(self, net, name):
        return self.api.post("/v1/routers", {"network": net["id"], "name": name})

    def link(self, a, b):
        return self.api.post("/v1/links", {"a": a, "b": b})

    def subnet(self, net, cidr, router=None):
        body = {"network": net["id"], "cidr": cidr}
        if router:
            body["router"] = router
        return self.api.post("/v1/subnets", body)

    def port(self, subnet, host, **kw):
        body = {"subnet": subnet["id"], "host": host}
        body.update(kw)
        return self.api.post("/v1/ports", body)

    def vm(self, port, name=None, dhcp="dhclient", ipv6=False):
        """A VM for `port` (a port dict, bound to a host): its namespace, the TAP placed there
        by the agent, and the address from a real DHCP client. IPv6 is turned off in the VM
        unless asked (its router solicitations would only add noise to the drop counters)."""
        if name is None:
            self._vm_seq += 1
            name = "v%d" % self._vm_seq
        self.tool("vm", name, "--port", port["id"], "--dhcp", dhcp, timeout=60)
        port = self.api.get("/v1/ports/" + port["id"])
        v = Vm(self, name, port, dhcp)
        if not ipv6:
            v.sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", check=True)
            v.sh("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % v.dev, check=True)
        self.vms[name] = v
        return v
