#!/usr/bin/env python3
"""Propagation latency of a change from the API to the agents, 1 agent against 50.

Two deployments run side by side on this machine, each a veneerd with its agents: A with
N=1 agent, B with N=50 agents. In each, every host has a port in the same network, so every
agent must apply every change. Rounds are interleaved A, B, reference (K rounds each):

  A/B: PATCH a port's name; note time.monotonic() when the 2xx answer arrives; poll
       GET /v1/hosts (admin) until every host's agent.applied_revision reaches the answer's
       X-Veneer-Revision; the round's latency is max(agent.applied_at_monotonic_ms) - that
       2xx time (veneerd stamps each ACK with CLOCK_MONOTONIC in whole ms, the clock of
       Python's time.monotonic(); so a value has -1..0 ms of truncation, and may be 0 or even
       slightly negative when an agent acknowledges before Python has read the answer).
  reference: one GET /v1/health round trip on the same kind of keep-alive connection,
       what the HTTP path alone costs.

Also shown: from the moment the PATCH was sent to the last ACK (always positive, so its
N=50/N=1 ratio is defined even when N=1 acknowledges within the truncation of its stamp),
the PATCH round trip itself, and "poll saw all", from the 2xx until the poll saw every agent
at the revision (an upper bound that includes the polling interval).

Reports median, p90 and max per series and the ratio N=50 / N=1. Every process is stopped
(SIGTERM, then SIGKILL) and the temporary directory removed, whatever happens. Run as root,
it moves into a private network namespace first (agents create TAPs and bind their substrate
address), like tests/agent.

usage: bench/propagation.py [--rounds 30] [--agents 50]
"""
import argparse
import http.client
import json
import math
import pathlib
import signal
import statistics
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "agent"))

import agentkit as ak  # noqa: E402  (process wrappers shared with the agent tests)


class Keep:
    """One keep-alive HTTP connection with the admin token."""

    def __init__(self, veneerd):
        self.v = veneerd
        self.c = http.client.HTTPConnection("127.0.0.1", veneerd.port, timeout=30)
        self.h = {"Authorization": "Bearer " + veneerd.admin_token,
                  "Content-Type": "application/json"}

    def req(self, method, path, body=None):
        self.c.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=self.h)
        r = self.c.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError("%s %s -> %d %s" % (method, path, r.status, data[:200]))
        return r, (json.loads(data) if data else None)


class Deployment:
    def __init__(self, workdir, label, n):
        self.label, self.n = label, n
        self.v = ak.Veneerd(workdir / label)
        self.agents = []
        self.ports = []

    def start(self):
        self.v.start()
        self.agents = [ak.Agent(self.v.dir / "agents", self.v, "%s-h%02d" % (self.label, i))
                       for i in range(self.n)]
        for a in self.agents:
            a.spawn(a.argv(), cwd=str(a.dir))
        for a in self.agents:
            ak.wait_until(lambda: a.ctl.exists() and a.sync()["connected"], timeout=30,
                          what="agent %s connected" % a.host)
        b = ak.Builder(self.v)
        t = b.tenant()
        net = b.network(t["id"], "10.0.0.0/16")
        sub = b.subnet(net["id"], "10.0.0.0/22")
        self.ports = [b.port(sub["id"], host=a.host) for a in self.agents]
        self.wait_all(b.rev)
        self.http = Keep(self.v)
        return self

    def hosts(self):
        _, body = self.http.req("GET", "/v1/hosts") if hasattr(self, "http") else \
            (None, self.v.admin.fetch("/v1/hosts"))
        return body["items"]

    def wait_all(self, rev, timeout=30.0):
        """Polls until every agent applied rev; returns (hosts, monotonic time seen)."""
        deadline = time.monotonic() + timeout
        while True:
            hs = self.hosts()
            if len(hs) == self.n and all(h["agent"].get("connected") and
                                         h["agent"]["applied_revision"] >= rev for h in hs):
                return hs, time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError("%s: agents not at revision %d after %.0fs" % (
                    self.label, rev, timeout))
            time.sleep(0.002)

    def round(self, i):
        port = self.ports[i % len(self.ports)]
        tsend = time.monotonic()
        r, _ = self.http.req("PATCH", "/v1/ports/%s" % port["id"], {"name": "r%d" % i})
        t2xx = time.monotonic()
        rev = int(r.headers["X-Veneer-Revision"])
        hs, seen = self.wait_all(rev)
        if any(h["agent"]["applied_revision"] != rev for h in hs):
            return None  # something else moved the revision: not a clean sample
        last_ack = max(h["agent"]["applied_at_monotonic_ms"] for h in hs)
        return (last_ack - t2xx * 1000.0, (seen - t2xx) * 1000.0,
                last_ack - tsend * 1000.0, (t2xx - tsend) * 1000.0)

    def stop(self):
        for a in self.agents:
            a.stop(timeout=5)
        self.v.stop(timeout=5)


def health_rtt(http):
    t0 = time.monotonic()
    http.req("GET", "/v1/health")
    return (time.monotonic() - t0) * 1000.0


def summary(xs):
    s = sorted(xs)
    p90 = s[max(0, math.ceil(0.9 * len(s)) - 1)]
    return statistics.median(s), p90, s[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--agents", type=int, default=50)
    args = ap.parse_args()

    def on_signal(signo, frame):
        raise KeyboardInterrupt("signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)

    netns = ak.netns_enter()
    work = ak.make_tempdir()
    deps = []
    t_start = time.monotonic()
    try:
        a = Deployment(work, "a", 1)
        b = Deployment(work, "b", args.agents)
        deps = [a, b]
        for d in deps:
            d.start()
        t_ready = time.monotonic()
        ref_http = Keep(a.v)
        res = {k: [] for k in ("a", "b", "a_seen", "b_seen", "a_send", "b_send", "a_patch",
                               "b_patch", "ref")}
        skipped = 0
        for i in range(args.rounds):
            for d in (a, b):
                r = d.round(i)
                if r is None:
                    skipped += 1
                    continue
                res[d.label].append(r[0])
                res[d.label + "_seen"].append(r[1])
                res[d.label + "_send"].append(r[2])
                res[d.label + "_patch"].append(r[3])
            res["ref"].append(health_rtt(ref_http))
        t_end = time.monotonic()

        print("propagation of one change, API 2xx -> last agent's ACK (ms, %d rounds, "
              "interleaved)" % args.rounds)
        print("  machine: %d agents + 1 on one host, %s network namespace"
              % (args.agents, "private" if netns else "the caller's"))
        print("  %-34s %8s %8s %8s" % ("series", "median", "p90", "max"))
        rows = [("N=1   2xx -> last ACK", res["a"]), ("N=%d  2xx -> last ACK" % args.agents,
                                                     res["b"]),
                ("N=1   request sent -> last ACK", res["a_send"]),
                ("N=%d  request sent -> last ACK" % args.agents, res["b_send"]),
                ("N=1   2xx -> poll saw all", res["a_seen"]),
                ("N=%d  2xx -> poll saw all" % args.agents, res["b_seen"]),
                ("N=1   PATCH round trip", res["a_patch"]),
                ("N=%d  PATCH round trip" % args.agents, res["b_patch"]),
                ("reference GET /v1/health RTT", res["ref"])]
        for name, xs in rows:
            if xs:
                print("  %-34s %8.2f %8.2f %8.2f" % ((name,) + summary(xs)))
        mr = summary(res["ref"])[0]

        def ratio(x, y):
            # Below 1 ms the N=1 value is within the stamps' truncation: no meaningful ratio.
            return "%.1f" % (x / y) if y >= 1.0 else "n/a (N=1 < 1 ms)"
        for what, ka, kb in (("2xx -> last ACK", "a", "b"),
                             ("request sent -> last ACK", "a_send", "b_send")):
            ma, pa, xa = summary(res[ka])
            mb, pb, xb = summary(res[kb])
            print("  ratio N=%d / N=1, %s: median %s, p90 %s, max %s" % (
                args.agents, what, ratio(mb, ma), ratio(pb, pa), ratio(xb, xa)))
        print("  N=%d median 2xx -> last ACK = %.1f GET /v1/health round trips"
              % (args.agents, summary(res["b"])[0] / mr))
        if skipped:
            print("  (%d samples skipped: the revision moved past the write)" % skipped)
        print("  ACK stamps are whole ms (CLOCK_MONOTONIC, truncated): +-1 ms per value")
        print("  setup %.1fs, rounds %.1fs, total %.1fs" % (t_ready - t_start, t_end - t_ready,
                                                       t_end - t_start))
        return 0
    finally:
        for d in deps:
            try:
                d.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print("stop %s: %s" % (d.label, exc), file=sys.stderr)
        ak.stop_all()
        ak.remove_tempdir(work)


if __name__ == "__main__":
    sys.exit(main())
