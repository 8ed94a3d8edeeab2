"""Fixtures for the veneerctl end-to-end tests (docs/veneerctl.md).

Standard library only.  Binaries: $VENEERD (default build/src/veneerd/veneerd) and $VENEERCTL
(default build/src/ctl/veneerctl), relative to the repository root unless absolute.

- `veneerd`: one veneerd for the whole session on a fresh store (SIGTERM, then SIGKILL, at the
  end); modules that need a store of their own use `Veneerd` directly.
- `api`: a tiny urllib client of the REST API, used to set up objects quickly and to check what
  the CLI did independently of the CLI.
- `ctl`: runs veneerctl through subprocess, giving URL and token either through the
  VENEER_URL/VENEER_TOKEN environment (mode "env") or through --url/--token (mode "flags").
- `capture`: a fake API server that records every request it gets, to see exactly what
  veneerctl sends (or that it sends nothing).
"""

import http.server
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
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

ID_RE = {p: re.compile(r"^%s-[0-9a-f]{16}$" % p)
         for p in ("ten", "tok", "net", "rtr", "lnk", "sub", "port", "rte")}
SECRET_RE = re.compile(r"^vnr_[0-9a-f]{64}$")


def binary(var, default):
    value = os.environ.get(var) or default
    p = pathlib.Path(value)
    if not p.is_absolute():
        p = REPO / p
    if not p.exists():
        pytest.exit("%s binary not found at %s (set %s)" % (var, p, var), returncode=1)
    return p


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


_seq = itertools.count(1)


def uniq(prefix="n"):
    """A unique valid name (also a valid host name when prefix is lower case)."""
    return "%s-%d-%s" % (prefix, next(_seq), secrets.token_hex(2))


def missing_id(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(8))


def wait_until(fn, timeout=10.0, what="condition"):
    """Retries fn until it returns a true value (no fixed sleep: short polling)."""
    deadline = time.monotonic() + timeout
    while True:
        if fn():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.01)


# ------------------------------------------------------------------------------------------
# veneerd
# ------------------------------------------------------------------------------------------

class Veneerd:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.admin_token = "admin-" + secrets.token_hex(16)
        self.log_path = self.dir / "veneerd.log"
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/v1/health", timeout=1) as r:
                return r.status == 200 and json.loads(r.read()).get("status") == "ok"
        except (OSError, ValueError):
            return False

    def start(self):
        exe = binary("VENEERD", "build/src/veneerd/veneerd")
        for _attempt in range(3):
            self.port = free_port()
            args = [str(exe), "--listen", "127.0.0.1:%d" % self.port,
                    "--store", str(self.dir / "veneer.db"),
                    "--admin-token", self.admin_token, "--rate-limit", "0"]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, cwd=str(self.dir))
            deadline = time.monotonic() + 10
            while self.proc.poll() is None and not self.healthy():
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("veneerd not healthy after 10 s:\n" + self.log())
                time.sleep(0.01)
            if self.proc.poll() is None:
                return self
            if "bind" not in self.log().lower() and "in use" not in self.log().lower():
                break
        raise AssertionError("veneerd exited during start-up:\n" + self.log())

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


# ------------------------------------------------------------------------------------------
# REST client (urllib)
# ------------------------------------------------------------------------------------------

_ADMIN = object()


class Api:
    def __init__(self, server):
        self.server = server

    def req(self, method, path, body=None, token=_ADMIN):
        tok = self.server.admin_token if token is _ADMIN else token
        headers = {"Accept": "application/json"}
        data = None
        if tok is not None:
            headers["Authorization"] = "Bearer " + tok
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        rq = urllib.request.Request(self.server.url + path, data=data, method=method,
                                    headers=headers)
        try:
            with urllib.request.urlopen(rq, timeout=15) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)

    def ok(self, method, path, body=None, status=200, token=_ADMIN):
        st, js = self.req(method, path, body, token=token)
        assert st == status, "%s %s -> %s %r (expected %s)" % (method, path, st, js, status)
        return js

    def create(self, path, body, token=_ADMIN):
        return self.ok("POST", path, body, status=201, token=token)

    def get(self, path, token=_ADMIN):
        return self.ok("GET", path, token=token)

    def status(self, path, token=_ADMIN):
        return self.req("GET", path, token=token)[0]

    def items(self, path, token=_ADMIN):
        """Every item of a list, following `next`."""
        out, after = [], None
        sep = "&" if "?" in path else "?"
        while True:
            page = self.get(path + ("%safter=%s" % (sep, after) if after else ""), token=token)
            out.extend(page["items"])
            after = page.get("next")
            if not after:
                return out

    def ids(self, path, token=_ADMIN, field="id"):
        return [o[field] for o in self.items(path, token=token)]

    def revision(self):
        return self.get("/v1/health", token=None)["revision"]

    def error_line(self, method, path, body=None, token=_ADMIN):
        """The stderr line veneerctl should print for a refused request (sent directly)."""
        st, js = self.req(method, path, body, token=token)
        assert st >= 400, "expected a refusal: %s %s -> %s %r" % (method, path, st, js)
        return st, format_error(st, js)

    # builders ----------------------------------------------------------------------------
    def tenant(self):
        return self.create("/v1/tenants", {"name": uniq("t")})

    def token(self, tenant_id):
        return self.create("/v1/tenants/%s/tokens" % tenant_id, {"name": uniq("k")})

    def network(self, tenant_id, cidr="10.0.0.0/16", token=_ADMIN):
        body = {"name": uniq("net"), "cidr": cidr}
        if token is _ADMIN:
            body["tenant"] = tenant_id
        return self.create("/v1/networks", body, token=token)


def format_error(status, js):
    err = js["error"]
    line = "veneerctl: %d %s: %s" % (status, err["code"], err["message"])
    if err.get("field"):
        line += " (field: %s)" % err["field"]
    return line + "\n"


# ------------------------------------------------------------------------------------------
# veneerctl runner
# ------------------------------------------------------------------------------------------

class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    @property
    def lines(self):
        return self.out.splitlines()

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "<veneerctl %s -> rc=%s\n--- stdout ---\n%s\n--- stderr ---\n%s>" % (
            " ".join(self.argv), self.rc, self.out[:3000], self.err[:3000])


class Ctl:
    """ctl(*args, token=..., url=..., mode=...) runs veneerctl and returns a Result.

    mode "env" passes URL and token as VENEER_URL / VENEER_TOKEN, mode "flags" as --url and
    --token before RESOURCE (the environment then holds no VENEER_* variable)."""

    def __init__(self, server, mode="env"):
        self.server = server
        self.mode = mode
        self.exe = str(binary("VENEERCTL", "build/src/ctl/veneerctl"))

    def __call__(self, *args, token=_ADMIN, url=None, mode=None, env=None, timeout=30):
        mode = mode or self.mode
        tok = self.server.admin_token if token is _ADMIN else token
        url = url or self.server.url
        e = {k: v for k, v in os.environ.items() if not k.startswith("VENEER_")}
        argv = [self.exe]
        if mode == "env":
            e["VENEER_URL"] = url
            if tok is not None:
                e["VENEER_TOKEN"] = tok
        elif mode == "flags":
            argv += ["--url", url]
            if tok is not None:
                argv += ["--token", tok]
        else:
            assert mode == "raw"
        e.update(env or {})
        argv += [str(a) for a in args]
        p = subprocess.run(argv, env=e, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        return Result(argv[1:], p.returncode, p.stdout.decode("utf-8", "replace"),
                      p.stderr.decode("utf-8", "replace"))

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0 and r.err == "", r
        return r

    def id(self, *args, **kw):
        """Runs with -o id; returns the single id printed."""
        r = self.ok("-o", "id", *args, **kw)
        assert len(r.lines) == 1 and r.out == r.lines[0] + "\n", r
        return r.lines[0]


# ------------------------------------------------------------------------------------------
# Output format helpers (docs/veneerctl.md "Output")
# ------------------------------------------------------------------------------------------

def _scalar(v):
    if v is None or v == "":
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (dict, list)):
        # not specified by the docs; veneerctl prints nested values as compact JSON
        v = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if isinstance(v, str):
        return re.sub(r"[\x00-\x1f\x7f]", "?", v)
    return str(v)


def cell(v):
    """How a JSON value prints in a table cell or a KEY: VALUE line: lists joined with commas,
    booleans yes/no, null / empty string / empty list '-', control characters '?'."""
    if isinstance(v, list):
        return ",".join(_scalar(x) for x in v) if v else "-"
    return _scalar(v)


def parse_table(out, columns):
    """Checks a table (header first, aligned columns, no trailing blanks) and returns its rows
    as lists of cells (cells never hold blanks in these tests)."""
    lines = out.splitlines()
    assert out.endswith("\n") and lines, "empty table: %r" % out
    header = lines[0]
    assert header.split() == list(columns), "header %r, expected %r" % (header, columns)
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    rows = []
    for line in lines[1:]:
        assert line == line.rstrip(), "trailing blanks: %r" % line
        ms = list(re.finditer(r"\S+", line))
        assert len(ms) == len(columns), "row %r does not have %d cells" % (line, len(columns))
        assert [m.start() for m in ms] == starts, \
            "row %r not aligned under header %r" % (line, header)
        rows.append([m.group() for m in ms])
    return rows


def row_of(obj, fields):
    return [cell(obj.get(f)) for f in fields]


def parse_show(out):
    """KEY: VALUE lines -> list of (key, value) in order."""
    pairs = []
    for line in out.splitlines():
        m = re.match(r"^([^\s:]+): +(\S.*)$", line)
        assert m, "not a KEY: VALUE line: %r" % line
        pairs.append((m.group(1), m.group(2)))
    return pairs


def show_pairs(obj):
    return [(k, cell(v)) for k, v in obj.items()]


# ------------------------------------------------------------------------------------------
# Capturing fake server
# ------------------------------------------------------------------------------------------

class Capture:
    """Records requests; answers with self.respond(method, path, body) -> (status, bytes)."""

    def __init__(self):
        self.requests = []
        self.respond = self.default_respond
        cap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                body = json.loads(raw) if raw else None
                cap.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "raw": raw,
                                     "body": body})
                status, data = cap.respond(self.command, self.path, body)
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @staticmethod
    def default_respond(method, path, body):
        if method == "DELETE":
            return 204, b""
        obj = {"id": "net-00000000000000aa"}
        if isinstance(body, dict):
            obj.update(body)
        if method == "GET" and path.split("?")[0].count("/") == 2:
            return 200, json.dumps({"items": [obj]}).encode()
        return (201 if method == "POST" else 200), json.dumps(obj).encode()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def veneerd(tmp_path_factory):
    srv = Veneerd(tmp_path_factory.mktemp("veneerd"))
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def api(veneerd):
    return Api(veneerd)


@pytest.fixture
def ctl(veneerd):
    return Ctl(veneerd, "env")


@pytest.fixture(params=["env", "flags"])
def ctlm(request, veneerd):
    """veneerctl with URL and token from the environment, then from --url/--token."""
    return Ctl(veneerd, request.param)


@pytest.fixture(scope="session")
def _capture_server():
    cap = Capture()
    try:
        yield cap
    finally:
        cap.close()


@pytest.fixture
def capture(_capture_server):
    """The recording fake server, with no request recorded and the default answers."""
    _capture_server.requests.clear()
    _capture_server.respond = _capture_server.default_respond
    return _capture_server


@pytest.fixture(autouse=True)
def _veneerd_stays_up(request):
    """The shared veneerd is still running after every test that used it."""
    srv = request.getfixturevalue("veneerd") if "veneerd" in request.fixturenames else None
    yield
    if srv is not None:
        assert srv.alive(), "veneerd died:\n" + srv.log()
