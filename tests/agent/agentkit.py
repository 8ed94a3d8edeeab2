"""Helpers for the control-channel tests (veneerd <-> veneer-agent).

Standard library only. Process wrappers for veneerd and veneer-agent (every process is
recorded and stopped by PID: SIGTERM, then SIGKILL), a small HTTP client for the REST API,
the agent's local control socket (`status` / `state`), a bounded retry-until-true helper, and
the *expected* agent view computed from the API objects (docs/api.md) in the shape of the
agent's `state` dump (src/agent/state.c), so that tests compare the two field by field.
"""

import ctypes
import http.client
import ipaddress
import itertools
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULTS = {
    "VENEERD": "build/src/veneerd/veneerd",
    "VENEER_AGENT": "build/src/agent/veneer-agent",
    "VENEERCTL": "build/src/ctl/veneerctl",
}

# Every process started by these helpers, so that nothing outlives the run (see stop_all).
_PROCS = []
_PROCS_LOCK = threading.Lock()

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def seq():
    with _counter_lock:
        return next(_counter)


def uniq(prefix="x"):
    """A unique valid name (valid as a host name when prefix is lower case)."""
    return "%s-%d-%s" % (prefix, seq(), secrets.token_hex(2))


# --------------------------------------------------------------------------------------------
# A private network namespace for the whole run
# --------------------------------------------------------------------------------------------
#
# veneer-agent now has a data plane: a vxlan agent binds UDP 4789 on its substrate address,
# and it creates a (persistent) TAP device for every port bound to its host. So that no TAP
# is left in the machine's namespace and any substrate address can be bound, the test process
# (its main thread) moves into a new network namespace with loopback up and non-local binds
# allowed before it starts anything; everything it starts inherits it. netns_leave() goes
# back home (the tests do so after each module, so that other suites run in the same pytest
# process are not affected); the namespace disappears, TAPs and all, with its last process.
# Without the privilege for that, everything stays where it is, substrate addresses come from
# 127.0.0.0/8 and an agent cannot create its TAPs (it logs that and goes on).

CLONE_NEWNET = 0x40000000
PRIVATE_NETNS = False
_HOME_NETNS = None


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def netns_enter():
    """Moves this thread into a new network namespace; True on success."""
    global PRIVATE_NETNS, _HOME_NETNS
    if PRIVATE_NETNS:
        return True
    if os.environ.get("VENEER_TEST_NETNS", "1") == "0":
        return False
    try:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if _libc().unshare(CLONE_NEWNET) != 0:
            os.close(home)
            return False
    except (OSError, AttributeError):
        os.close(home)
        return False
    _HOME_NETNS, PRIVATE_NETNS = home, True
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for path in ("/proc/sys/net/ipv4/ip_nonlocal_bind", "/proc/sys/net/ipv6/ip_nonlocal_bind"):
        with open(path, "w") as f:
            f.write("1\n")
    return True


def netns_leave():
    """Back to the namespace netns_enter() left (call after stopping what ran inside)."""
    global PRIVATE_NETNS, _HOME_NETNS
    if not PRIVATE_NETNS:
        return
    if _libc().setns(_HOME_NETNS, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back to the original network namespace")
    os.close(_HOME_NETNS)
    _HOME_NETNS, PRIVATE_NETNS = None, False


def substrate4():
    n = seq()
    if PRIVATE_NETNS:
        return "198.18.%d.%d" % ((n // 250) % 250, n % 250 + 1)
    return "127.77.%d.%d" % ((n // 250) % 250, n % 250 + 1)


def substrate6():
    """An IPv6 substrate address (bindable by a vxlan agent only in the private namespace)."""
    return "2001:db8:%x::%x" % (seq(), seq())


def prefix6(length=56):
    n = seq()
    return str(ipaddress.IPv6Network(("fd%02x:%x:%x::" % (n % 256, n, seq()), length),
                                     strict=False))


def binary(env):
    value = os.environ.get(env) or DEFAULTS[env]
    p = pathlib.Path(value)
    if not p.is_absolute():
        p = REPO / p
    if not p.exists():
        raise AssertionError("%s not found at %s (set %s)" % (env, p, env))
    return p


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_until(fn, timeout=10.0, interval=0.02, what="condition"):
    """Calls fn until it returns a true value (exceptions count as false); returns that value.
    Fails the test after timeout seconds with the last result."""
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


def make_tempdir():
    """A short path (unix socket paths are limited to 107 bytes); removed by the caller."""
    return pathlib.Path(tempfile.mkdtemp(prefix="vnag-"))


def remove_tempdir(path):
    shutil.rmtree(str(path), ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------

class Proc:
    """One child process with its stderr/stdout in a log file."""

    def __init__(self, name, log_path):
        self.name = name
        self.log_path = pathlib.Path(log_path)
        self.proc = None
        self.starts = 0
        self.expect_up = False

    def spawn(self, argv, cwd=None):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("=== start #%d: %s\n" % (self.starts, " ".join(map(str, argv))))
                      .encode())
            log.flush()
            env = dict(os.environ)
            env.pop("VENEER_ADMIN_TOKEN", None)
            env.pop("VENEER_AGENT_TOKEN", None)
            self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, cwd=cwd, env=env)
        self.expect_up = True
        with _PROCS_LOCK:
            _PROCS.append(self.proc)
        return self.proc

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """It should be running and is not."""
        return self.expect_up and self.proc is not None and self.proc.poll() is not None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout. Returns (returncode, needed_sigkill)."""
        self.expect_up = False
        return stop_proc(self.proc, timeout)

    def kill9(self):
        self.expect_up = False
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def log_tail(self, lines=60):
        try:
            text = self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self):
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""


def stop_proc(proc, timeout=10.0):
    if proc is None:
        return None, False
    if proc.poll() is not None:
        return proc.returncode, False
    try:
        proc.send_signal(signal.SIGCONT)  # a test may have stopped it
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout)
        return proc.returncode, False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        return proc.returncode, True


def stop_all():
    """Stops every process these helpers started (by PID), at exit or in teardown."""
    with _PROCS_LOCK:
        procs = list(_PROCS)
    for p in procs:
        try:
            stop_proc(p, timeout=5)
        except Exception:  # noqa: BLE001 - best effort
            pass


class Veneerd(Proc):
    """veneerd on a store in `directory`, with the API and the agent port on 127.0.0.1."""

    def __init__(self, directory, admin_token=None, agent_token=None):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        super().__init__("veneerd", self.dir / "veneerd.log")
        self.store = self.dir / "veneer.db"
        self.admin_token = admin_token or ("admin-" + secrets.token_hex(16))
        self.agent_token = agent_token or ("agent-" + secrets.token_hex(16))
        self.routerd_token = "routerd-" + secrets.token_hex(16)
        self.port = None
        self.agent_port = None
        self.admin = Client(self, self.admin_token)

    @property
    def agent_addr(self):
        return "127.0.0.1:%d" % self.agent_port

    def start(self, timeout=10.0, keep_ports=False):
        """Starts (again, on the same store). keep_ports: reuse the previous API and agent
        ports, as a restarted daemon would (agents keep dialling the same address)."""
        for attempt in range(3):
            if not keep_ports or self.port is None:
                self.port, self.agent_port = free_port(), free_port()
            self.spawn([binary("VENEERD"), "--store", self.store, "--listen",
                        "127.0.0.1:%d" % self.port, "--admin-token", self.admin_token,
                        "--rate-limit", "0", "--agent-listen", self.agent_addr,
                        "--agent-token", self.agent_token,
                        "--routerd-token", self.routerd_token], cwd=str(self.dir))
            deadline = time.monotonic() + timeout
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    tail = self.log_tail()
                    if attempt < 2 and ("in use" in tail.lower()):
                        if keep_ports:
                            time.sleep(0.2)  # the old socket may linger a moment
                        break
                    raise AssertionError("veneerd exited with %s during start-up:\n%s"
                                         % (rc, tail))
                if self.healthy() and self._agent_port_open():
                    return self
                if time.monotonic() >= deadline:
                    self.stop()
                    raise AssertionError("veneerd not ready after %.0fs:\n%s"
                                         % (timeout, self.log_tail()))
                time.sleep(0.02)
        raise AssertionError("veneerd could not bind its ports:\n%s" % self.log_tail())

    def _agent_port_open(self):
        try:
            socket.create_connection(("127.0.0.1", self.agent_port), timeout=1).close()
            return True
        except OSError:
            return False

    def healthy(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/v1/health")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r.status == 200 and json.loads(body).get("status") == "ok"
        except (OSError, ValueError, http.client.HTTPException):
            return False

    def revision(self):
        return self.admin.fetch("/v1/health")["revision"]

    def host(self, name):
        return self.admin.fetch("/v1/hosts/%s" % name)


class Agent(Proc):
    """One veneer-agent with its control socket in `directory`."""

    def __init__(self, directory, veneerd, host, address=None, token=None, encap=None,
                 prefix=None):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        super().__init__("agent %s" % host, self.dir / ("agent-%s-%d.log" % (host, seq())))
        self.veneerd = veneerd
        self.host = host
        self.address = address or substrate4()
        self.token = token
        self.encap = encap
        self.prefix = prefix
        self.ctl = self.dir / ("ctl-%d.sock" % seq())

    def argv(self):
        argv = [binary("VENEER_AGENT"), "--host", self.host, "--veneerd",
                self.veneerd.agent_addr, "--address", self.address, "--token",
                self.token if self.token is not None else self.veneerd.agent_token,
                "--ctl", self.ctl]
        if self.encap:
            argv += ["--encap", self.encap]
        if self.prefix:
            argv += ["--prefix", self.prefix]
        return argv

    def start(self, timeout=10.0):
        self.spawn(self.argv(), cwd=str(self.dir))
        wait_until(lambda: self._ctl_up(), timeout, what="agent %s control socket" % self.host)
        return self

    def _ctl_up(self):
        if not self.alive():
            raise AssertionError("agent %s exited (rc %s):\n%s" % (
                self.host, self.proc.returncode, self.log_tail()))
        return self.query("status") is not None

    def query(self, cmd="status", timeout=5.0):
        """One command on the control socket; the parsed JSON answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(str(self.ctl))
            s.sendall(cmd.encode() + b"\n")
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        finally:
            s.close()
        return json.loads(b"".join(chunks))

    def status(self):
        return self.query("status")

    def state(self):
        return self.query("state")

    def sync(self):
        return self.status()["sync"]

    def wait_connected(self, timeout=10.0):
        return wait_until(lambda: self.sync()["connected"] and self.status()["state"]
                          ["revision"] > 0, timeout, what="agent %s synced" % self.host)

    def wait_revision(self, rev, timeout=10.0):
        """Until the agent's view is at revision >= rev; returns the `state` dump."""
        def ok():
            st = self.state()
            return st if st["state"]["revision"] >= rev else None
        return wait_until(ok, timeout, what="agent %s at revision %d" % (self.host, rev))


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, body, headers, raw, method, path):
        self.status, self.json, self.headers, self.raw = status, body, headers, raw
        self.method, self.path = method, path

    @property
    def revision(self):
        rev = self.headers.get("X-Veneer-Revision")
        assert rev is not None and rev.isdigit(), "no X-Veneer-Revision: %r" % (self,)
        return int(rev)

    def __repr__(self):
        raw = self.raw if len(self.raw) < 600 else self.raw[:600] + b"..."
        return "<%s %s -> %s %r>" % (self.method, self.path, self.status, raw)


class Client:
    """A tiny JSON client (a new connection per request) acting with one token."""

    def __init__(self, server, token):
        self.server = server
        self.token = token

    def req(self, method, path, body=None, timeout=15.0):
        hdrs = {"Authorization": "Bearer %s" % self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        parsed = json.loads(raw) if raw else None
        return Resp(r.status, parsed, r.headers, raw, method, path)

    def ok(self, method, path, body=None, status=None):
        r = self.req(method, path, body)
        want = status or {"GET": 200, "PATCH": 200, "POST": 201, "DELETE": 204}[method]
        assert r.status == want, "expected %d: %r" % (want, r)
        return r

    def fetch(self, path):
        return self.ok("GET", path).json

    def items(self, path):
        out, url = [], path
        sep = "&" if "?" in path else "?"
        while True:
            body = self.fetch(url)
            out.extend(body["items"])
            if not body.get("next"):
                return out
            url = "%s%safter=%s" % (path, sep, body["next"])

    def create(self, path, body):
        """POST -> (object, revision)."""
        r = self.ok("POST", path, body)
        return r.json, r.revision

    def patch(self, path, body):
        r = self.ok("PATCH", path, body)
        return r.json, r.revision

    def delete(self, path):
        return self.ok("DELETE", path).revision


class Builder:
    """Creates objects as the admin; remembers the revision of the last write."""

    def __init__(self, veneerd):
        self.c = veneerd.admin
        self.rev = 0

    def _mk(self, path, body):
        obj, self.rev = self.c.create(path, body)
        return obj

    def tenant(self, name=None):
        return self._mk("/v1/tenants", {"name": name or uniq("t")})

    def host(self, name=None, address=None, encap=None, prefix=None):
        body = {"name": name or uniq("h"), "address": address or substrate4()}
        if encap:
            body["encap"] = encap
        if prefix:
            body["prefix"] = prefix
        return self._mk("/v1/hosts", body)

    def network(self, tenant, cidr="10.0.0.0/16", name=None):
        return self._mk("/v1/networks", {"name": name or uniq("n"), "cidr": cidr,
                                         "tenant": tenant})

    def router(self, network, name=None, **extra):
        return self._mk("/v1/routers", dict({"network": network, "name": name or uniq("r")},
                                            **extra))

    def link(self, a, b):
        return self._mk("/v1/links", {"a": a, "b": b})

    def subnet(self, network, cidr, **extra):
        return self._mk("/v1/subnets", dict({"network": network, "cidr": cidr}, **extra))

    def port(self, subnet, **extra):
        return self._mk("/v1/ports", dict({"subnet": subnet}, **extra))

    def route(self, router, destination, target):
        return self._mk("/v1/routes", {"router": router, "destination": destination,
                                       "target": target})

    def patch(self, path, body):
        obj, self.rev = self.c.patch(path, body)
        return obj

    def delete(self, path):
        self.rev = self.c.delete(path)
        return self.rev


def veneerctl(veneerd, *args, timeout=15):
    """Runs veneerctl against veneerd as the admin: (returncode, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("VENEER_URL", None)
    env.pop("VENEER_TOKEN", None)
    argv = [str(binary("VENEERCTL")), "--url", "http://127.0.0.1:%d" % veneerd.port,
            "--token", veneerd.admin_token] + list(args)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=env)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def main_router(client, network_id):
    rs = [r for r in client.items("/v1/routers?network=%s" % network_id) if r["main"]]
    assert len(rs) == 1, rs
    return rs[0]


# --------------------------------------------------------------------------------------------
# The agent's view, expected from the API
# --------------------------------------------------------------------------------------------

KINDS = ("hosts", "networks", "routers", "links", "subnets", "ports", "routes")


def _agent_host(h):
    return {"encap": h["encap"], "up": h["state"] == "up"}


def _agent_net(n):
    return {"vnid": n["vnid"], "cidr": list(n["cidr"])}


def _agent_router(r):
    return {"network": r["network"], "mac": r["mac"], "asn": r["asn"], "main": r["main"]}


def _agent_link(lk):
    return {"network": lk["network"], "a": lk["a"], "b": lk["b"]}


def _agent_subnet(s):
    return {"network": s["network"], "router": s["router"], "cidr": s["cidr"]}


def _agent_port(p):
    return {"network": p["network"], "subnet": p["subnet"], "host": p["host"] or "",
            "mac": p["mac"], "ip": p["ip"], "device": p["device"],
            "source_dest_check": p["source_dest_check"], "routing": p["routing"],
            "extra_ips": list(p["extra_ips"]), "claimable": list(p["claimable"]),
            "vips": list(p.get("vips", []))}


def _agent_route(r):
    return {"network": r["network"], "router": r["router"], "destination": r["destination"],
            "target_type": r["target_type"], "target": r["target"]}


def api_world(client):
    """Every object of every kind the agents care about, as the admin sees it."""
    return {
        "hosts": client.items("/v1/hosts"),
        "networks": client.items("/v1/networks"),
        "routers": client.items("/v1/routers"),
        "links": client.items("/v1/links"),
        "subnets": client.items("/v1/subnets"),
        "ports": client.items("/v1/ports"),
        "routes": client.items("/v1/routes"),
    }


def expected_view(world, host):
    """What the agent of `host` must hold: every host, and every object of exactly the
    networks that have a port bound to `host`."""
    nets = {p["network"] for p in world["ports"] if p["host"] == host}
    conv = {"routers": _agent_router, "links": _agent_link, "subnets": _agent_subnet,
            "ports": _agent_port, "routes": _agent_route}
    out = {
        "hosts": {h["name"]: _agent_host(h) for h in world["hosts"]},
        "networks": {n["id"]: _agent_net(n) for n in world["networks"] if n["id"] in nets},
    }
    for kind, fn in conv.items():
        out[kind] = {o["id"]: fn(o) for o in world[kind] if o["network"] in nets}
    return out


def view_of(dump):
    """The maps of an agent's `state` dump, normalised for comparison (CIDR lists sorted
    the same way on both sides)."""
    st = dump["state"]
    return {k: st.get(k, {}) for k in KINDS}


def _norm(view):
    out = {}
    for kind, objs in view.items():
        o2 = {}
        for key, val in objs.items():
            val = dict(val)
            for f in ("cidr", "extra_ips", "claimable", "vips"):
                if isinstance(val.get(f), list):
                    val[f] = sorted(val[f])
            o2[key] = val
        out[kind] = o2
    return out


def view_diff(got, want):
    """Human-readable differences between two views ([] when equal)."""
    got, want = _norm(got), _norm(want)
    diffs = []
    for kind in KINDS:
        g, w = got.get(kind, {}), want.get(kind, {})
        for key in sorted(set(g) | set(w)):
            if key not in g:
                diffs.append("%s %s: missing on the agent (want %r)" % (kind, key, w[key]))
            elif key not in w:
                diffs.append("%s %s: unexpected on the agent (%r)" % (kind, key, g[key]))
            elif g[key] != w[key]:
                fields = sorted(set(g[key]) | set(w[key]))
                bad = ["%s: agent %r, api %r" % (f, g[key].get(f), w[key].get(f))
                       for f in fields if g[key].get(f) != w[key].get(f)]
                diffs.append("%s %s: %s" % (kind, key, "; ".join(bad)))
    return diffs


def counts_of(view):
    return {k: len(view[k]) for k in KINDS}


def metric(veneerd, name):
    """The value of one sample of veneerd's GET /metrics (name with its labels)."""
    conn = http.client.HTTPConnection("127.0.0.1", veneerd.port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer %s"
                                                 % veneerd.admin_token})
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no metric %s" % name)


def wait_view(veneerd, agent, timeout=10.0):
    """Until the agent is at the store's revision and its view equals the one expected from
    the API. Returns (dump, expected view)."""
    box = {}

    def ok():
        rev = veneerd.revision()
        dump = agent.state()
        if dump["state"]["revision"] != rev:
            box["last"] = "agent at %d, store at %d" % (dump["state"]["revision"], rev)
            return False
        world = api_world(veneerd.admin)
        if veneerd.revision() != rev:
            return False  # changed meanwhile: look again
        want = expected_view(world, agent.host)
        diffs = view_diff(view_of(dump), want)
        if diffs:
            box["last"] = diffs
            return False
        box["dump"], box["want"] = dump, want
        return True

    try:
        wait_until(ok, timeout, what="agent %s view" % agent.host)
    except AssertionError as exc:
        raise AssertionError("%s\nlast difference: %s" % (exc, box.get("last"))) from None
    return box["dump"], box["want"]


def wait_applied(veneerd, host, rev, timeout=10.0):
    """Until the API says the host's agent applied revision >= rev; returns the host."""
    def ok():
        h = veneerd.host(host)
        ag = h.get("agent") or {}
        return h if ag.get("connected") and ag.get("applied_revision", 0) >= rev else None
    return wait_until(ok, timeout, what="host %s applied_revision >= %d" % (host, rev))


def same_address(a, b):
    return ipaddress.ip_address(a) == ipaddress.ip_address(b)


def same_network6(a, b):
    return ipaddress.ip_network(a) == ipaddress.ip_network(b)
