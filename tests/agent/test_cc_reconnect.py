"""Reconnection and static stability.

  veneerd stops   -> agents keep their view and revision unchanged (static stability)
  veneerd returns -> agents reconnect and catch up by delta (HELLO carries their revision)
  an agent restarts -> it holds nothing, so it gets a fresh snapshot of the same state
"""

import signal
import sqlite3
import time

import pytest

import agentkit as ak
import topo

OBJECT_KINDS = ("networks", "routers", "links", "subnets", "ports", "routes")


@pytest.fixture
def world(cluster):
    b = cluster.b
    addr = {"h1": ak.substrate4(), "h2": ak.substrate4()}
    for n in ("h1", "h2"):
        b.host(n, address=addr[n])
    t = topo.build(b, "h1", "h2")
    a1 = cluster.agent("h1", address=addr["h1"])
    a2 = cluster.agent("h2", address=addr["h2"])
    for a in (a1, a2):
        ak.wait_view(cluster.veneerd, a)
    return t, a1, a2


def objects(dump):
    return {k: dump["state"][k] for k in OBJECT_KINDS}


def watch_unchanged(agent, before, seconds=1.5):
    """Samples the agent's dump for a while: its view (and revision) must not move."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        now = agent.state()
        assert now["state"] == before["state"], "the view changed while veneerd was away"
        assert now["sync"]["connected"] is False
        n += 1
        time.sleep(0.05)
    return n


def test_veneerd_restart_no_change_resumes_by_delta(cluster, world):
    t, a1, a2 = world
    v = cluster.veneerd
    before = {a.host: a.state() for a in (a1, a2)}
    rc, killed = v.stop()
    assert rc == 0 and not killed, v.log_tail()
    for a in (a1, a2):
        ak.wait_until(lambda: a.sync()["disconnects"] == 1, what="%s disconnected" % a.host)
    # Static stability: the whole view and its revision stay as they were.
    for a in (a1, a2):
        dump = a.state()
        assert dump["state"] == before[a.host]["state"]
        assert dump["sync"]["connected"] is False
    assert watch_unchanged(a1, before["h1"]) > 5

    v.start(keep_ports=True)
    for a in (a1, a2):
        ak.wait_until(lambda: a.sync()["connects"] == 2 and a.sync()["connected"],
                      what="%s reconnected" % a.host)
        dump, _ = ak.wait_view(v, a)
        s = dump["sync"]
        assert s["snapshots"] == 1, s           # by delta, not a new snapshot
        assert s["deltas"] > before[a.host]["sync"]["deltas"], s
        assert objects(dump) == objects(before[a.host])
        h = v.host(a.host)
        assert h["state"] == "up" and h["agent"]["connected"] is True, h
        assert h["agent"]["applied_revision"] == v.revision(), h


def test_changes_while_away_arrive_by_delta(cluster, world):
    """veneerd restarts while an agent is frozen; changes are made before the agent comes
    back (a network lost, one gained, objects changed): one delta brings it up to date."""
    t, a1, a2 = world
    v, b = cluster.veneerd, cluster.b
    before = a1.state()
    a1.proc.send_signal(signal.SIGSTOP)
    try:
        v.stop()
        v.start(keep_ports=True)
        ak.wait_applied(v, "h2", v.revision())
        # h1 loses b3 (its only port there moves to h2), gains a2, and a1 changes.
        p_b3 = [p for p in cluster.admin.items("/v1/ports?network=%s" % t["b3"]["id"])]
        b.patch("/v1/ports/%s" % p_b3[0]["id"], {"host": "h2"})
        sa2 = cluster.admin.items("/v1/subnets?network=%s" % t["a2"]["id"])[0]
        b.port(sa2["id"], host="h1")
        b.patch("/v1/routers/%s" % t["r2"]["id"], {"asn": 65123})
        b.delete("/v1/routes/%s" % [r for r in cluster.admin.items(
            "/v1/routes?router=%s" % t["r3"]["id"])][0]["id"])
        b.patch("/v1/ports/%s" % t["p1"]["id"], {"extra_ips": ["10.0.1.99"]})
    finally:
        a1.proc.send_signal(signal.SIGCONT)
    ak.wait_until(lambda: a1.sync()["connects"] == 2 and a1.sync()["connected"],
                  what="h1 reconnected")
    dump, want = ak.wait_view(v, a1)
    assert set(dump["state"]["networks"]) == {t["a1"]["id"], t["a2"]["id"]}
    assert dump["sync"]["snapshots"] == 1, dump["sync"]
    assert dump["sync"]["deltas"] > before["sync"]["deltas"]
    assert dump["state"]["routers"][t["r2"]["id"]]["asn"] == 65123
    ak.wait_view(v, a2)


def test_agent_restart_gets_fresh_snapshot(cluster, world):
    t, a1, a2 = world
    v = cluster.veneerd
    before = a1.state()
    rc, killed = a1.stop()
    assert rc == 0 and not killed
    a1.start()
    a1.wait_connected()
    dump, _ = ak.wait_view(v, a1)
    s = dump["sync"]
    assert s["snapshots"] == 1 and s["connects"] == 1, s  # a new process: a new snapshot
    assert objects(dump) == objects(before)
    assert set(dump["state"]["networks"]) == t["want_nets"]["h1"]
    # The other agent saw h1 go down and up by delta.
    d2, _ = ak.wait_view(v, a2)
    assert d2["state"]["hosts"]["h1"]["up"] is True
    assert d2["sync"]["snapshots"] == 1


def test_veneerd_kill9_agents_keep_state_and_resume(cluster, world):
    t, a1, a2 = world
    v = cluster.veneerd
    before = a1.state()
    v.kill9()
    ak.wait_until(lambda: a1.sync()["disconnects"] == 1, what="h1 disconnected")
    assert a1.state()["state"] == before["state"]
    v.start(keep_ports=True)
    ak.wait_until(lambda: a1.sync()["connects"] == 2 and a1.sync()["connected"],
                  what="h1 reconnected")
    dump, _ = ak.wait_view(v, a1)
    assert dump["sync"]["snapshots"] == 1
    assert objects(dump) == objects(before)


def test_host_not_up_without_agent_after_veneerd_crash(cluster, world):
    t, a1, a2 = world
    v = cluster.veneerd
    v.kill9()
    a2.stop()            # h2's agent will not come back
    v.start(keep_ports=True)
    ak.wait_until(lambda: a1.sync()["connected"], what="h1 reconnected")
    ak.wait_view(v, a1)
    h2 = v.host("h2")
    assert h2["agent"] == {"connected": False}, h2
    # docs/api.md: "`up` while its agent is connected and `down` after".
    assert h2["state"] != "up", h2
    assert a1.state()["state"]["hosts"]["h2"]["up"] is False


def test_reconnect_to_restored_store(cluster):
    """Store A is backed up at revision Rb; A goes on to R (the agent applies it); veneerd
    comes back on the backup, which is written past R before the agent returns. The agent
    must end up with the restored store's state."""
    v = cluster.veneerd
    b = cluster.b
    a1 = cluster.agent("h1")
    t = b.tenant()
    x = b.network(t["id"], "10.0.0.0/16")
    sx = b.subnet(x["id"], "10.0.1.0/24")
    b.port(sx["id"], host="h1")
    ak.wait_view(v, a1)
    backup = cluster.dir / "veneerd-b"
    backup.mkdir()
    src = sqlite3.connect(str(v.store))
    dst = sqlite3.connect(str(backup / "veneer.db"))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    # After the backup: objects the restored store will not have.
    p2 = b.port(sx["id"], host="h1")
    r2 = b.router(x["id"])
    dump, _ = ak.wait_view(v, a1)
    r_agent = dump["state"]["revision"]
    assert p2["id"] in dump["state"]["ports"] and r2["id"] in dump["state"]["routers"]
    a1.proc.send_signal(signal.SIGSTOP)
    restored = ak.Veneerd(backup, admin_token=v.admin_token, agent_token=v.agent_token)
    try:
        v.stop()
        restored.port, restored.agent_port = v.port, v.agent_port
        restored.start(keep_ports=True)
        b2 = ak.Builder(restored)
        p3 = b2.port(sx["id"], host="h1")   # a revision the agent thinks it has seen
        while restored.revision() <= r_agent:
            b2.tenant()
    finally:
        a1.proc.send_signal(signal.SIGCONT)
    try:
        ak.wait_until(lambda: a1.sync()["connects"] == 2 and a1.sync()["connected"],
                      what="h1 reconnected to the restored store")
        ak.wait_applied(restored, "h1", restored.revision())
        st = a1.state()["state"]
        stale = [i for i in (p2["id"], r2["id"]) if i in st["ports"] or i in st["routers"]]
        missing = [] if p3["id"] in st["ports"] else [p3["id"]]
        assert not stale and not missing, \
            "the agent keeps %s (not in the restored store) and misses %s" % (stale, missing)
        ak.wait_view(restored, a1, timeout=3)
    finally:
        restored.stop()
