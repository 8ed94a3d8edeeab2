"""Flow control and coalescing: veneerd keeps at most one batch in flight per agent (the
agent's ACK releases the next); changes committed meanwhile are coalesced into one delta.

  200 API writes --> veneerd --[batch r1]--> agent
                      (r2..r200 wait)  <--ACK r1--
                      --[one batch up to r200]-->
"""

import signal
import threading

import pytest

import agentkit as ak


@pytest.fixture
def one_port(cluster):
    a = cluster.agent("h1")
    b = cluster.b
    t = b.tenant()
    n = b.network(t["id"], "10.0.0.0/16")
    s = b.subnet(n["id"], "10.0.0.0/22")
    p = b.port(s["id"], host="h1")
    ak.wait_view(cluster.veneerd, a)
    return a, p


def extra(i):
    return ["10.0.%d.%d" % (1 + (i // 250) % 2, 1 + i % 250)]


def test_quick_writes_coalesce(cluster, one_port):
    """200 writes from 8 concurrent clients: the agent ends at the last revision, having
    applied far fewer than 200 deltas."""
    a, p = one_port
    v = cluster.veneerd
    before = a.sync()
    revs = []
    errors = []
    lock = threading.Lock()

    def writer(k):
        c = ak.Client(v, v.admin_token)
        try:
            for i in range(25):
                _, rev = c.patch("/v1/ports/%s" % p["id"], {"extra_ips": extra(k * 25 + i)})
                with lock:
                    revs.append(rev)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert len(revs) == 200 and len(set(revs)) == 200, "every write its own revision"
    last = max(revs)
    h = ak.wait_applied(v, "h1", last)
    assert h["agent"]["applied_revision"] == last == v.revision()
    dump, _ = ak.wait_view(v, a)
    assert dump["state"]["revision"] == last
    after = dump["sync"]
    n = after["deltas"] - before["deltas"]
    assert 1 <= n < 200, "deltas for 200 writes: %d" % n
    assert after["snapshots"] == 1 and after["connects"] == 1, after
    final = cluster.admin.fetch("/v1/ports/%s" % p["id"])
    assert dump["state"]["ports"][p["id"]]["extra_ips"] == final["extra_ips"]


def test_one_batch_in_flight(cluster, one_port):
    """Deterministic: the agent is frozen (SIGSTOP) during 200 sequential writes. veneerd
    sends at most the one batch that was in flight and waits for its ACK; when the agent
    resumes, everything else arrives as ONE coalesced delta."""
    a, p = one_port
    v = cluster.veneerd
    before = a.sync()
    start_rev = v.revision()
    a.proc.send_signal(signal.SIGSTOP)
    try:
        last = None
        for i in range(200):
            _, last = v.admin.patch("/v1/ports/%s" % p["id"], {"extra_ips": extra(i)})
        h = v.host("h1")
        # Nothing past the first write was acknowledged, and nothing piles up for it:
        # at most one batch was sent.
        assert h["agent"]["applied_revision"] <= start_rev, h
        assert h["agent"]["queued_bytes"] < 4096, h
    finally:
        a.proc.send_signal(signal.SIGCONT)
    ak.wait_applied(v, "h1", last)
    dump, _ = ak.wait_view(v, a)
    s = dump["sync"]
    n = s["deltas"] - before["deltas"]
    assert 1 <= n <= 2, "200 writes while frozen gave %d deltas" % n
    assert s["snapshots"] == 1 and s["connects"] == 1, s
    assert dump["state"]["ports"][p["id"]]["extra_ips"] == extra(199)
    # Few messages: the coalesced batch carries the port once, not 200 times.
    assert s["messages"] - before["messages"] < 30, (before, s)


def test_sequential_writes_all_arrive(cluster, one_port):
    """One client, one write after the other: every revision reaches the agent (here the
    agent usually keeps up, so little coalesces: that is fine); the last one wins."""
    a, p = one_port
    v = cluster.veneerd
    before = a.sync()
    last = None
    for i in range(200):
        _, last = v.admin.patch("/v1/ports/%s" % p["id"], {"extra_ips": extra(i)})
    ak.wait_applied(v, "h1", last)
    dump, _ = ak.wait_view(v, a)
    assert dump["state"]["ports"][p["id"]]["extra_ips"] == extra(199)
    s = dump["sync"]
    assert 1 <= s["deltas"] - before["deltas"] <= 200
    assert s["snapshots"] == 1
