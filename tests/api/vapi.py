"""Helpers for the veneerd REST API tests (docs/api.md).

Standard library only: a process wrapper for veneerd (start, SIGTERM stop, kill -9, restart on the
same store), a tiny HTTP client that can send arbitrary bytes and headers, retry-until-true
helpers, and builders that create tenants, tokens, hosts and networks with unique names.
"""

import http.client
import itertools
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

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BINARY = "build/src/veneerd/veneerd"

ID_PREFIX = {
    "tenants": "ten", "tokens": "tok", "networks": "net", "routers": "rtr",
    "links": "lnk", "subnets": "sub", "ports": "port", "routes": "rte",
}
TOKEN_RE = re.compile(r"^vnr_[0-9a-f]{64}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")

# Servers whose logs are attached to the report of a failing test (see conftest.py).
TOUCHED = set()
_ALL = []
_ALL_LOCK = threading.Lock()


def id_re(prefix):
    return re.compile(r"^%s-[0-9a-f]{16}$" % re.escape(prefix))


def is_id(value, prefix):
    return isinstance(value, str) and id_re(prefix).match(value) is not None


def missing_id(prefix):
    """A well-formed id of the kind that (practically) cannot exist."""
    return "%s-%s" % (prefix, secrets.token_hex(8))


_counter = itertools.count(1)
_counter_lock = threading.Lock()


def seq():
    with _counter_lock:
        return next(_counter)


def uniq(prefix="x"):
    """A unique valid name (also valid as a host name when prefix is lower case)."""
    return "%s-%d-%s" % (prefix, seq(), secrets.token_hex(2))


def host_address():
    n = seq()
    return "198.18.%d.%d" % ((n // 250) % 250, n % 250 + 1)


def host_prefix6():
    n = seq()
    return "fdee:%x:%x::/48" % ((n >> 16) & 0xffff, n & 0xffff)


def wait_until(fn, timeout=10.0, interval=0.05, what="condition"):
    """Calls fn until it returns a true value (exceptions count as false); returns that value."""
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


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def veneerd_binary():
    value = os.environ.get("VENEERD")
    if not value:
        return REPO / DEFAULT_BINARY
    p = pathlib.Path(value)
    if p.is_absolute() or p.exists():
        return p.resolve()
    return REPO / p


class Resp(tuple):
    """(status, json_or_None, headers) with .status .json .headers .raw attributes."""

    def __new__(cls, status, body, headers, raw, method, path):
        t = tuple.__new__(cls, (status, body, headers))
        t.raw = raw
        t.method = method
        t.path = path
        return t

    status = property(lambda self: self[0])
    json = property(lambda self: self[1])
    headers = property(lambda self: self[2])

    def __repr__(self):
        raw = self.raw if len(self.raw) < 600 else self.raw[:600] + b"..."
        return "<%s %s -> %s %r>" % (self.method, self.path, self.status, raw)


_DEFAULT = object()


class Client:
    def __init__(self, server, token):
        self.server = server
        self.token = token

    def req(self, method, path, body=None, token=_DEFAULT, raw_body=None, headers=None,
            timeout=15.0, allow_5xx=False):
        """Sends one request on a new connection. body is JSON-encoded; raw_body is sent as is
        (bytes or str) with a JSON Content-Type unless headers override it. headers maps names
        to values; a None value removes a default header. Any 5xx other than 503 fails the test
        unless allow_5xx."""
        TOUCHED.add(self.server)
        tok = self.token if token is _DEFAULT else token
        hdrs = {}
        if tok is not None:
            hdrs["Authorization"] = "Bearer %s" % tok
        data = None
        if raw_body is not None:
            data = raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        for k, v in (headers or {}).items():
            for existing in [h for h in hdrs if h.lower() == k.lower()]:
                del hdrs[existing]
            if v is not None:
                hdrs[k] = v
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # The server may answer (413) and close before reading a large body.
                pass
            resp = conn.getresponse()
            raw = resp.read()
            status, rheaders = resp.status, resp.headers
        finally:
            conn.close()
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        r = Resp(status, parsed, rheaders, raw, method, path)
        if status >= 500 and status != 503 and not allow_5xx:
            raise AssertionError("server error: %r" % (r,))
        if raw and not path.startswith("/metrics"):
            # "Every request and response body is JSON (Content-Type: application/json)"
            ctype = rheaders.get("Content-Type", "")
            assert ctype.startswith("application/json") and parsed is not None, \
                "response body is not JSON (Content-Type %r): %r" % (ctype, r)
        return r

    # Shorthands -------------------------------------------------------------------------
    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.req(method, path, body=body, **kw)
        assert r.status == status, "expected %d: %r" % (status, r)
        return r.json

    def create(self, path, body, **kw):
        """POST that must answer 201 with an object; checks the revision header."""
        r = self.req("POST", path, body=body, **kw)
        assert r.status == 201, "expected 201: %r" % (r,)
        assert isinstance(r.json, dict), r
        check_write_headers(r)
        return r.json

    def fetch(self, path, **kw):
        return self.ok("GET", path, **kw)

    def items(self, path, **kw):
        """All items of a list, following `next` pages."""
        out = []
        sep = "&" if "?" in path else "?"
        url = path
        for _ in range(10000):
            body = self.ok("GET", url, **kw)
            assert isinstance(body, dict) and isinstance(body.get("items"), list), body
            out.extend(body["items"])
            nxt = body.get("next")
            if not nxt:
                return out
            url = "%s%safter=%s" % (path, sep, nxt)
        raise AssertionError("pagination did not end")

    def ids(self, path, **kw):
        return [o["id"] for o in self.items(path, **kw)]

    def revision(self):
        r = self.req("GET", "/v1/health", token=None)
        assert r.status == 200, r
        return r.json["revision"]


def check_write_headers(r):
    rev = r.headers.get("X-Veneer-Revision")
    assert rev is not None and rev.isdigit(), "write answer without X-Veneer-Revision: %r" % (r,)
    if isinstance(r.json, dict) and "revision" in r.json:
        assert r.json["revision"] == int(rev), (r.json, rev)
    return int(rev)


ANY = object()


def field_matches(got, want):
    if got == want:
        return True
    return isinstance(got, str) and (got.startswith(want + "[") or got.startswith(want + "."))


def assert_error(r, status, code, field=ANY):
    """status, error code and (when given) field of an error answer. code may be a set."""
    assert r.status == status, "expected %d %s: %r" % (status, code, r)
    body = r.json
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), \
        "error answer without {error:{...}}: %r" % (r,)
    err = body["error"]
    codes = code if isinstance(code, (set, frozenset, tuple, list)) else {code}
    assert err.get("code") in codes, "expected code %s: %r" % (code, r)
    assert isinstance(err.get("message"), str) and err["message"], "no message: %r" % (r,)
    if field is not ANY:
        if field is None:
            assert err.get("field") in (None, ""), "unexpected field: %r" % (r,)
        else:
            assert field_matches(err.get("field"), field), \
                "expected field %r: %r" % (field, r)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), "error Content-Type %r: %r" % (ctype, r)
    return err


def error_shape(r, *ids):
    """(status, code, field, message with the given ids blanked) for comparing two errors."""
    err = (r.json or {}).get("error") or {}
    msg = err.get("message") or ""
    for i in ids:
        if i:
            msg = msg.replace(i, "<ID>")
    return (r.status, err.get("code"), err.get("field"), msg)


def mac_ok_generated(mac):
    """Locally administered unicast, lower case colon form."""
    if not isinstance(mac, str) or not MAC_RE.match(mac):
        return False
    first = int(mac[:2], 16)
    return (first & 0x01) == 0 and (first & 0x02) == 0x02


def ip4(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


# --------------------------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------------------------

class Server:
    """One veneerd process on a store in `directory`; restartable on the same store."""

    def __init__(self, directory, admin_token=None, rate_limit="0", extra_args=(),
                 admin_token_in_env=False):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = self.dir / "veneer.db"
        self.log_path = self.dir / "veneerd.stderr"
        self.admin_token = admin_token or ("admin-" + secrets.token_hex(16))
        self.rate_limit = rate_limit
        self.extra_args = list(extra_args)
        self.admin_token_in_env = admin_token_in_env
        self.proc = None
        self.port = None
        self.expect_up = False
        self.starts = 0
        with _ALL_LOCK:
            _ALL.append(self)

    # ----------------------------------------------------------------------------------
    def args(self):
        admin = [] if self.admin_token_in_env else ["--admin-token", self.admin_token]
        return [str(veneerd_binary()), "--listen", "127.0.0.1:%d" % self.port,
                "--store", str(self.store)] + admin + ["--rate-limit", self.rate_limit] + \
            self.extra_args

    def start(self, timeout=10.0):
        binary = veneerd_binary()
        if not binary.exists():
            raise AssertionError("veneerd binary not found at %s (set VENEERD)" % binary)
        for attempt in range(3):
            self.port = free_port()
            self.starts += 1
            with open(self.log_path, "ab") as log:
                log.write(("=== start #%d: %s\n" % (self.starts, " ".join(self.args())))
                          .encode())
                log.flush()
                env = dict(os.environ)
                env.pop("VENEER_ADMIN_TOKEN", None)
                if self.admin_token_in_env:
                    env["VENEER_ADMIN_TOKEN"] = self.admin_token
                self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log, cwd=str(self.dir),
                                             env=env)
            self.expect_up = True
            TOUCHED.add(self)
            deadline = time.monotonic() + timeout
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    self.expect_up = False
                    tail = self.log_tail()
                    if attempt < 2 and ("in use" in tail.lower() or "bind" in tail.lower()):
                        break  # port race: retry on another port
                    raise AssertionError("veneerd exited with %s during start-up:\n%s"
                                         % (rc, tail))
                if self._healthy():
                    return self
                if time.monotonic() >= deadline:
                    self.stop()
                    raise AssertionError("veneerd not ready after %.0fs:\n%s"
                                         % (timeout, self.log_tail()))
                time.sleep(0.02)
        raise AssertionError("veneerd could not bind a port:\n%s" % self.log_tail())

    def _healthy(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/v1/health")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r.status == 200 and json.loads(body).get("status") == "ok"
        except (OSError, ValueError, http.client.HTTPException):
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout. Returns (returncode, needed_sigkill)."""
        self.expect_up = False
        if self.proc is None:
            return None, False
        if self.proc.poll() is not None:
            return self.proc.returncode, False
        killed = False
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            killed = True
            self.proc.kill()
            self.proc.wait(10)
        return self.proc.returncode, killed

    def kill9(self):
        self.expect_up = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        return self.proc.returncode

    def restart(self, timeout=10.0):
        self.stop()
        return self.start(timeout)

    def log_tail(self, lines=80):
        try:
            text = self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def client(self, token=_DEFAULT):
        return Client(self, self.admin_token if token is _DEFAULT else token)


def stop_all():
    with _ALL_LOCK:
        servers = list(_ALL)
    for s in servers:
        try:
            s.stop(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------------------------
# Object builders
# --------------------------------------------------------------------------------------------

class Api:
    """Builders on one server, acting as the admin unless told otherwise."""

    def __init__(self, server):
        self.server = server
        self.admin = Client(server, server.admin_token)

    def client(self, token):
        return Client(self.server, token)

    def tenant(self, name=None):
        """Creates a tenant and one token; returns (tenant, client with that token)."""
        t = self.admin.create("/v1/tenants", {"name": name or uniq("t")})
        tok = self.admin.create("/v1/tenants/%s/tokens" % t["id"], {"name": "main"})
        return t, Client(self.server, tok["token"])

    def token(self, tenant_id, name=None):
        return self.admin.create("/v1/tenants/%s/tokens" % tenant_id,
                                 {"name": name or uniq("tok")})

    def host(self, name=None, address=None, encap=None, prefix=None):
        body = {"name": name or uniq("h"), "address": address or host_address()}
        if encap:
            body["encap"] = encap
        if encap == "embed6" and prefix is None:
            prefix = host_prefix6()
        if prefix:
            body["prefix"] = prefix
        return self.admin.create("/v1/hosts", body)

    def network(self, tenant_id, cidr="10.0.0.0/16", name=None, client=None):
        """As the admin (naming the tenant) unless a tenant client is given."""
        body = {"name": name or uniq("n"), "cidr": cidr}
        if client is None:
            body["tenant"] = tenant_id
            client = self.admin
        return client.create("/v1/networks", body)

    def router(self, network_id, name=None, client=None, **extra):
        body = dict({"network": network_id, "name": name or uniq("r")}, **extra)
        return (client or self.admin).create("/v1/routers", body)

    def link(self, a, b, client=None):
        return (client or self.admin).create("/v1/links", {"a": a, "b": b})

    def subnet(self, network_id, cidr, client=None, **extra):
        body = dict({"network": network_id, "cidr": cidr}, **extra)
        return (client or self.admin).create("/v1/subnets", body)

    def port(self, subnet_id, client=None, **extra):
        body = dict({"subnet": subnet_id}, **extra)
        return (client or self.admin).create("/v1/ports", body)

    def route(self, router_id, destination, target, client=None):
        return (client or self.admin).create(
            "/v1/routes", {"router": router_id, "destination": destination, "target": target})
