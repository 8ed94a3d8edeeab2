#!/usr/bin/env python3
"""Port-creation rate of veneerd's API, single client, against the durability floor.

Each round creates N ports through POST /v1/ports on one keep-alive connection (every answer
is a committed, fsynced write), and, interleaved with it, does N single-row INSERT+COMMIT
transactions with Python's sqlite3 in WAL mode with synchronous=FULL in the same directory: the
cost of the durability veneerd promises, with no API around it. The ratio says how much of the
floor the API keeps. Also measured: GET /v1/ports/{id} (reads). Reports median and range over
the rounds.

usage: bench/api_rate.py [--veneerd build/src/veneerd/veneerd] [--rounds 5] [--n 1000]
"""
import argparse
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ADMIN = "bench-admin-token-0123456789"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, port, token):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def req(self, method, path, body=None):
        self.c.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=self.h)
        r = self.c.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError("%s %s -> %d %s" % (method, path, r.status, data[:200]))
        return json.loads(data) if data else None


def start(veneerd, work):
    port = free_port()
    log = open(os.path.join(work, "veneerd.log"), "w")
    p = subprocess.Popen([veneerd, "--store", os.path.join(work, "v.db"), "--listen",
                          "127.0.0.1:%d" % port, "--admin-token", ADMIN, "--rate-limit", "0"],
                         stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.02)
    p.kill()
    sys.exit("veneerd did not start")


def api_round(cl, subnet, n):
    ids = []
    t0 = time.perf_counter()
    for _ in range(n):
        ids.append(cl.req("POST", "/v1/ports", {"subnet": subnet, "host": "h1"})["id"])
    create = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for pid in ids:
        cl.req("GET", "/v1/ports/" + pid)
    read = n / (time.perf_counter() - t0)
    for pid in ids:
        cl.req("DELETE", "/v1/ports/" + pid)
    return create, read


def sqlite_round(path, n):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, v TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (os.urandom(8).hex(), "x" * 200))
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    db.execute("DELETE FROM t")
    db.close()
    return rate


def summary(xs):
    return "median %.0f (range %.0f-%.0f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--veneerd", default="build/src/veneerd/veneerd")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="veneer-bench-") as work:
        proc, port = start(a.veneerd, work)
        try:
            adm = Client(port, ADMIN)
            t = adm.req("POST", "/v1/tenants", {"name": "bench"})
            tok = adm.req("POST", "/v1/tenants/%s/tokens" % t["id"], {})["token"]
            adm.req("POST", "/v1/hosts", {"name": "h1", "address": "192.0.2.1"})
            cl = Client(port, tok)
            net = cl.req("POST", "/v1/networks", {"name": "b", "cidr": "10.0.0.0/8"})
            sub = cl.req("POST", "/v1/subnets", {"network": net["id"], "cidr": "10.0.0.0/16"})
            creates, reads, floors, ratios = [], [], [], []
            for r in range(a.rounds):
                # A/B interleaved: API then floor, in the same directory, same disk.
                c, rd = api_round(cl, sub["id"], a.n)
                f = sqlite_round(os.path.join(work, "floor.db"), a.n)
                creates.append(c)
                reads.append(rd)
                floors.append(f)
                ratios.append(c / f)
                print("round %d: create %.0f/s, get %.0f/s, sqlite floor %.0f commits/s, "
                      "ratio %.2f" % (r + 1, c, rd, f, c / f))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print("POST /v1/ports:   %s requests/s (single client, keep-alive, %d per round)"
          % (summary(creates), a.n))
    print("GET /v1/ports/ID: %s requests/s" % summary(reads))
    print("SQLite floor:     %s fsynced commits/s" % summary(floors))
    print("ratio create/floor: median %.2f (range %.2f-%.2f)"
          % (statistics.median(ratios), min(ratios), max(ratios)))


if __name__ == "__main__":
    main()
