"""HTTP-level behaviour and concurrency: persistent connections, a slow or broken client does
not stall others, bodies over --max-body (also chunked, also announced with Expect) answer 413,
the admin token may come from VENEER_ADMIN_TOKEN, list pages default to 1000 items, and
uniqueness and address allocation hold under concurrent writers (docs/api.md, Conventions)."""

import http.client
import json
import socket
import threading
import time

import vapi
from vapi import assert_error, uniq


def raw_exchange(port, data, timeout=3.0):
    """Sends raw bytes, returns what the server answers until it closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return out
    except socket.timeout:
        pass
    finally:
        s.close()
    return out


def parse_raw(out):
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body.strip() else None


def test_keep_alive_connection_serves_many_requests(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    auth = {"Authorization": "Bearer " + server.admin_token,
            "Content-Type": "application/json"}
    try:
        for _ in range(3):
            conn.request("GET", "/v1/health")
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["status"] == "ok"
        conn.request("POST", "/v1/tenants", body=b"{", headers=auth)
        r = conn.getresponse()
        assert r.status == 400 and json.loads(r.read())["error"]["code"] == "malformed_json"
        name = uniq("ka")
        conn.request("POST", "/v1/tenants", body=json.dumps({"name": name}), headers=auth)
        r = conn.getresponse()
        assert r.status == 201 and json.loads(r.read())["name"] == name
    finally:
        conn.close()


def test_http10_request(server):
    out = raw_exchange(server.port, b"GET /v1/health HTTP/1.0\r\n\r\n")
    status, body = parse_raw(out)
    assert status == 200 and body["status"] == "ok", out


def test_stalled_client_does_not_block_others(server, admin):
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        stalled.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                        + server.admin_token.encode()
                        + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                        + b'{"na')
        half = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        half.sendall(b"GET /v1/netw")
        t0 = time.monotonic()
        for _ in range(5):
            assert admin.get("/v1/networks").status == 200
        assert time.monotonic() - t0 < 2.0
        half.close()
    finally:
        stalled.close()
    assert admin.get("/v1/health", token=None).status == 200


def test_garbage_on_the_wire(server, admin):
    for junk in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff" * 100, b"GET\r\n\r\n",
                 b"GET / HTTP/9.9\r\n\r\n", b"GET /v1/health HTTP/1.1\r\nBad Header\r\n\r\n",
                 b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"):
        out = raw_exchange(server.port, junk, timeout=1.0)
        if out:
            status = int(out.split(b" ")[1])
            assert 400 <= status < 500 or status == 505, out[:200]
        assert admin.get("/v1/health", token=None).status == 200


def test_chunked_and_announced_bodies_over_the_limit(server, admin):
    rev = admin.revision()
    auth = b"Authorization: Bearer " + server.admin_token.encode() + b"\r\n"
    chunks = b"".join(b"400\r\n" + b" " * 1024 + b"\r\n" for _ in range(80)) + b"0\r\n\r\n"
    out = raw_exchange(server.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth
                       + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       + chunks)
    status, body = parse_raw(out)
    assert status == 413 and body["error"]["code"] == "body_too_large", out[:300]
    out = raw_exchange(server.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth
                       + b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                       + b"Content-Length: 10000000\r\n\r\n")
    status, body = parse_raw(out)
    assert status == 413 and body["error"]["code"] == "body_too_large", out[:300]
    # a small chunked body is read normally
    name = uniq("chunked").encode()
    payload = b'{"name": "' + name + b'"}'
    out = raw_exchange(server.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth
                       + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       + b"%x\r\n" % len(payload) + payload + b"\r\n0\r\n\r\n")
    status, body = parse_raw(out)
    assert status == 201 and body["name"] == name.decode(), out[:300]
    assert admin.revision() == rev + 1


def test_max_body_option(make_server):
    srv = make_server(extra_args=["--max-body", "1024"])
    admin = srv.client()
    assert_error(admin.post("/v1/tenants", {"name": "a" * 2000}), 413, "body_too_large")
    assert_error(admin.post("/v1/tenants", {"name": "a" * 100}), 400, "too_long", "name")
    assert admin.post("/v1/tenants", {"name": "small"}).status == 201


def test_admin_token_from_environment(make_server):
    srv = make_server(admin_token_in_env=True)
    admin = srv.client()
    assert admin.get("/v1/tenants").status == 200
    assert_error(admin.get("/v1/tenants", token="wrong-" + srv.admin_token), 401,
                 "unauthenticated")


def test_default_page_is_1000(make_server):
    srv = make_server()
    admin = srv.client()
    made = []
    lock = threading.Lock()

    def writer(k):
        c = srv.client()
        for i in range(k, 1003, 4):
            r = c.post("/v1/tenants", {"name": "bulk-%04d" % i})
            assert r.status == 201, r
            with lock:
                made.append(r.json["id"])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert len(made) == 1003
    r = admin.get("/v1/tenants")
    assert r.status == 200 and len(r.json["items"]) == 1000, len(r.json["items"])
    ids = sorted(made)
    assert [o["id"] for o in r.json["items"]] == ids[:1000]
    assert r.json.get("next")
    r2 = admin.get("/v1/tenants?after=" + r.json["next"])
    assert [o["id"] for o in r2.json["items"]] == ids[1000:] and not r2.json.get("next")
    r3 = admin.get("/v1/tenants?limit=1000&after=" + ids[2])
    assert len(r3.json["items"]) == 1000 and not r3.json.get("next")


def run_together(n, fn):
    """Runs fn(i) in n threads released at once; returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return results


def test_concurrent_duplicates_one_winner(api, admin):
    name = uniq("race")
    res = run_together(8, lambda i: admin.post("/v1/tenants", {"name": name}))
    assert sorted(r.status for r in res) == [201] + [409] * 7, res
    for r in res:
        if r.status == 409:
            assert_error(r, 409, "duplicate", "name")
    assert len(admin.items("/v1/tenants?name=" + name)) == 1

    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.1.0/24")
    res = run_together(8, lambda i: admin.post("/v1/ports", {"subnet": s["id"],
                                                             "ip": "10.0.1.77"}))
    assert sorted(r.status for r in res) == [201] + [409] * 7, res
    for r in res:
        if r.status == 409:
            assert_error(r, 409, "in_use", "ip")

    r1, r2 = api.router(n["id"]), api.router(n["id"])
    res = run_together(8, lambda i: admin.post("/v1/links", {"a": (r1, r2)[i % 2]["id"],
                                                             "b": (r2, r1)[i % 2]["id"]}))
    assert sorted(r.status for r in res) == [201] + [409] * 7, res
    assert len(admin.items("/v1/links?router=" + r1["id"])) == 1

    host = api.host()
    res = run_together(6, lambda i: admin.post("/v1/hosts", {"name": uniq("h"),
                                                             "address": host["address"]}))
    assert all(r.status == 409 for r in res), res


def test_concurrent_allocation_fills_subnet_exactly(api, admin):
    t, _ = api.tenant()
    n = api.network(t["id"])
    s = api.subnet(n["id"], "10.0.2.0/28")  # 16 - network - gateway - broadcast = 13
    res = run_together(20, lambda i: admin.post("/v1/ports", {"subnet": s["id"]}))
    ok = [r.json for r in res if r.status == 201]
    refused = [r for r in res if r.status != 201]
    assert len(ok) == 13, [r.status for r in res]
    assert sorted(vapi.ip4(p["ip"]) for p in ok) == list(range(vapi.ip4("10.0.2.2"),
                                                               vapi.ip4("10.0.2.15")))
    for r in refused:
        assert r.status == 409 and r.json["error"]["code"] == "in_use", r
    macs = [p["mac"] for p in ok]
    assert len(set(macs)) == len(macs)
    revs = sorted(p["revision"] for p in ok)
    assert len(set(revs)) == len(revs), "two writes acknowledged at one revision"
