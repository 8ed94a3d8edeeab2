"""Durability (docs/api.md, Conventions): a write is answered only after it is committed, so
every acknowledged object survives a clean restart and a kill -9 in the middle of a burst of
concurrent writes, with the same ids, vnids and revisions; the store stays intact and no write
is half applied."""

import signal
import sqlite3
import threading
import time

import pytest

import vapi
from vapi import assert_error

LISTS = ["/v1/tenants", "/v1/networks", "/v1/routers", "/v1/links", "/v1/subnets",
         "/v1/ports", "/v1/hosts", "/v1/routes"]


def snapshot(admin):
    snap = {p: admin.items(p) for p in LISTS}
    for t in snap["/v1/tenants"]:
        p = "/v1/tenants/%s/tokens" % t["id"]
        snap[p] = admin.items(p)
    for r in snap["/v1/routers"]:
        p = "/v1/routers/%s/routes" % r["id"]
        snap[p] = admin.fetch(p)
    for p in LISTS:
        for o in snap[p]:
            one = "%s/%s" % (p, o["id"])
            snap[one] = admin.fetch(one)
    return snap


def integrity(store):
    db = sqlite3.connect(str(store), timeout=5)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchall()
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        db.close()
    assert ok == [("ok",)], ok
    assert mode.lower() == "wal", mode


def build(api):
    admin = api.admin
    t1, c1 = api.tenant()
    t2, _ = api.tenant()
    spare = api.token(t1["id"])
    revoked = api.token(t1["id"])
    assert admin.delete("/v1/tenants/%s/tokens/%s" % (t1["id"], revoked["id"])).status == 204
    h1 = api.host()
    h2 = api.host(address="2001:db8::77", encap="embed6", prefix="fd00:77::/56")
    n = c1.create("/v1/networks", {"name": "prod", "cidr": ["10.0.0.0/16", "172.16.0.0/24"]})
    n2 = api.network(t2["id"], cidr="10.0.0.0/16")
    gone = api.network(t2["id"], cidr="10.9.0.0/16")
    assert admin.delete("/v1/networks/" + gone["id"]).status == 204
    r1 = api.router(n["id"], asn=65010, client=c1)
    api.link(n["main_router"], r1["id"], client=c1)
    s1 = api.subnet(n["id"], "10.0.1.0/24", client=c1, name="web")
    s2 = api.subnet(n["id"], "172.16.0.0/25", router=r1["id"], client=c1)
    p1 = api.port(s1["id"], client=c1, host=h1["name"], name="vm1", extra_ips=["10.0.1.50"],
                  claimable=["10.0.1.60/32"], source_dest_check=False, routing=True,
                  mac="02:01:02:03:04:05")
    # device names are the admin's to choose (docs/api.md, Ports)
    assert admin.patch("/v1/ports/" + p1["id"], {"device": "tapvm1"}).status == 200
    api.port(s2["id"], client=c1, host=h2["name"])
    api.port(api.subnet(n2["id"], "10.0.1.0/24")["id"])
    api.route(n["main_router"], "0.0.0.0/0", p1["id"], client=c1)
    api.route(n["main_router"], "10.5.0.0/16", r1["id"], client=c1)
    api.route(r1["id"], "10.6.0.0/16", "blackhole", client=c1)
    assert admin.patch("/v1/ports/" + p1["id"], {"name": "vm1-renamed"}).status == 200
    return dict(c1=c1, t1=t1, spare=spare, revoked=revoked, gone=gone, vnids=[
        n["vnid"], n2["vnid"], gone["vnid"]])


def test_sigterm_restart_keeps_everything(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    admin = api.admin
    w = build(api)
    before = snapshot(admin)
    rev = admin.revision()

    rc, killed = srv.stop()
    assert not killed, "veneerd ignored SIGTERM for 10 s"
    assert rc == 0, "veneerd exited with %s on SIGTERM:\n%s" % (rc, srv.log_tail())
    integrity(srv.store)
    srv.start()

    assert admin.revision() == rev
    after = snapshot(admin)
    assert after.keys() == before.keys()
    for k in before:
        assert after[k] == before[k], k
    # tokens: the kept ones still work, the revoked one stays revoked
    assert w["c1"].get("/v1/networks").status == 200
    assert api.client(w["spare"]["token"]).get("/v1/networks").status == 200
    assert_error(api.client(w["revoked"]["token"]).get("/v1/networks"), 401,
                 "unauthenticated")
    assert_error(admin.get("/v1/networks/" + w["gone"]["id"]), 404, "not_found")
    # the revision and the vnid allocator continue where they were
    n = api.network(w["t1"]["id"])
    assert n["revision"] == rev + 1
    assert n["vnid"] not in w["vnids"], (n["vnid"], w["vnids"])


def test_restart_twice_and_write_in_between(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    t, c = api.tenant()
    n = api.network(t["id"])
    # the admin token is configuration, not state: a new one replaces the old at restart
    old_admin = srv.admin_token
    srv.stop()
    srv.admin_token = "admin2-" + old_admin
    srv.start()
    assert_error(api.admin.get("/v1/tenants", token=old_admin), 401, "unauthenticated")
    api.admin.token = srv.admin_token
    assert api.admin.fetch("/v1/networks/" + n["id"]) == n
    assert c.fetch("/v1/networks/" + n["id"]) == n
    s = api.subnet(n["id"], "10.0.1.0/24", client=c)
    srv.restart()
    assert api.admin.fetch("/v1/subnets/" + s["id"]) == s
    assert api.admin.fetch("/v1/networks/" + n["id"]) == n
    assert api.port(s["id"], client=c)["ip"] == "10.0.1.2"


class Burst:
    """Writer threads that record every acknowledged (2xx) answer."""

    def __init__(self, api, tenant, subnets):
        self.api = api
        self.tenant = tenant
        self.subnets = subnets
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ports, self.networks, self.deleted, self.deleting = [], [], [], []
        self.errors = []
        self.threads = []

    def _run(self, fn):
        admin = vapi.Client(self.api.server, self.api.server.admin_token)
        while not self.stop.is_set():
            try:
                fn(admin)
            except (OSError, vapi.http.client.HTTPException):
                if not self.api.server.alive():
                    return
                time.sleep(0.005)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                with self.lock:
                    self.errors.append(repr(exc))
                return

    def port(self, i):
        def fn(admin):
            r = admin.post("/v1/ports", {"subnet": self.subnets[i % len(self.subnets)]})
            if r.status == 201:
                with self.lock:
                    self.ports.append(r.json)
            elif r.status != 503:
                raise AssertionError(repr(r))
        return fn

    def network(self, admin):
        r = admin.post("/v1/networks", {"name": vapi.uniq("b"), "cidr": "10.0.0.0/16",
                                        "tenant": self.tenant})
        if r.status == 201:
            with self.lock:
                self.networks.append(r.json)
        elif r.status != 503:
            raise AssertionError(repr(r))

    def churn(self, admin):
        r = admin.post("/v1/networks", {"name": vapi.uniq("c"), "cidr": "10.0.0.0/16",
                                        "tenant": self.tenant})
        if r.status != 201:
            return
        with self.lock:
            self.networks.append(r.json)
            self.deleting.append(r.json["id"])
        d = admin.delete("/v1/networks/" + r.json["id"])
        if d.status == 204:
            with self.lock:
                self.deleted.append(r.json["id"])

    def start(self):
        fns = [self.port(i) for i in range(4)] + [self.network, self.network, self.churn]
        for fn in fns:
            th = threading.Thread(target=self._run, args=(fn,), daemon=True)
            th.start()
            self.threads.append(th)

    def count(self):
        with self.lock:
            return len(self.ports) + len(self.networks)

    def join(self):
        self.stop.set()
        for th in self.threads:
            th.join(20)
            assert not th.is_alive()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill9", "sigterm"])
def test_stop_during_concurrent_writes(make_server, sig):
    srv = make_server()
    api = vapi.Api(srv)
    admin = api.admin
    t, _ = api.tenant()
    base = api.network(t["id"], cidr="10.0.0.0/8")
    subnets = [api.subnet(base["id"], "10.%d.0.0/16" % i)["id"] for i in (1, 2)]
    burst = Burst(api, t["id"], subnets)
    burst.start()
    try:
        vapi.wait_until(lambda: burst.count() >= 150 or burst.errors, timeout=20,
                        what="150 acknowledged writes")
        time.sleep(0.05)
        if sig == signal.SIGKILL:
            srv.kill9()
        else:
            rc, killed = srv.stop()
            assert not killed and rc == 0, "SIGTERM under load: rc %s, needed SIGKILL %s" % (
                rc, killed)
    finally:
        burst.join()
    assert not burst.errors, burst.errors[:5]
    assert burst.count() >= 150

    integrity(srv.store)  # the process is dead: open the store directly
    srv.start()

    # every acknowledged object is there, exactly as acknowledged
    for p in burst.ports:
        r = admin.get("/v1/ports/" + p["id"])
        assert r.status == 200 and r.json == p, (p, r)
    deleted = set(burst.deleted)
    for n in burst.networks:
        r = admin.get("/v1/networks/" + n["id"])
        if n["id"] in burst.deleting and n["id"] not in deleted and r.status == 404:
            continue  # its delete was in flight at the kill: either outcome is right
        if n["id"] in deleted:
            assert_error(r, 404, "not_found")
            assert_error(admin.get("/v1/routers/" + n["main_router"]), 404, "not_found")
        else:
            assert r.status == 200 and r.json == n, (n, r)
    max_rev = max(o["revision"] for o in burst.ports + burst.networks)
    assert admin.revision() >= max_rev

    # nothing half applied: every network has exactly its main router, every port its subnet
    routers = admin.items("/v1/routers")
    mains = {}
    for r in routers:
        if r["main"]:
            assert r["network"] not in mains, r
            mains[r["network"]] = r["id"]
    nets = admin.items("/v1/networks")
    assert {n["id"]: n["main_router"] for n in nets} == mains
    net_ids = {n["id"] for n in nets}
    assert all(r["network"] in net_ids for r in routers)
    ports = admin.items("/v1/ports?network=" + base["id"])
    acked = {p["id"] for p in burst.ports}
    assert acked <= {p["id"] for p in ports}
    for sid in subnets:
        ips = [p["ip"] for p in ports if p["subnet"] == sid]
        assert len(ips) == len(set(ips)), "two ports hold one address"
    vnids = [n["vnid"] for n in nets]
    assert len(vnids) == len(set(vnids))
    macs = [p["mac"] for p in ports]
    assert len(macs) == len(set(macs))

    # the daemon goes on: new writes continue past the last revision
    p = api.port(subnets[0])
    assert p["revision"] == admin.revision() > max_rev
    rc, killed = srv.stop()
    assert not killed and rc == 0, rc
    integrity(srv.store)


def test_token_stored_only_as_hash(make_server):
    srv = make_server()
    api = vapi.Api(srv)
    t, c = api.tenant()
    tok = api.token(t["id"])
    srv.stop()
    blob = b"".join(p.read_bytes() for p in srv.store.parent.glob(srv.store.name + "*"))
    for secret in (tok["token"], c.token):
        assert secret.encode() not in blob, "a token is stored in clear"
        assert secret[4:].encode() not in blob, "a token is stored in clear"
    srv.start()
    assert api.client(tok["token"]).get("/v1/networks").status == 200


def test_store_busy_answers_503_and_changes_nothing(make_server):
    srv = make_server()
    admin = srv.client()
    t = admin.create("/v1/tenants", {"name": "before"})
    rev = admin.revision()
    db = sqlite3.connect(str(srv.store), timeout=5, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        r = admin.post("/v1/tenants", {"name": "during"}, timeout=60)
        assert_error(r, 503, "unavailable")
        # reads still work while the store is locked for writing
        assert admin.fetch("/v1/tenants/" + t["id"]) == t
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert admin.revision() == rev
    assert admin.items("/v1/tenants?name=during") == []
    r = admin.post("/v1/tenants", {"name": "during"})
    assert r.status == 201 and r.json["revision"] == rev + 1, r
