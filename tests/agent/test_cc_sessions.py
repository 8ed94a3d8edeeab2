"""Two sessions for one host: a newer agent with the same --host replaces the older session;
the host never goes down in between.

  agent A --host h1 --\
                       >-- veneerd: one session per host, the newest wins
  agent B --host h1 --/
"""

import time

import pytest

import agentkit as ak


def setup_host(cluster):
    b = cluster.b
    addr = ak.substrate4()
    b.host("h1", address=addr)
    t = b.tenant()
    n = b.network(t["id"], "10.0.0.0/16")
    s = b.subnet(n["id"], "10.0.1.0/24")
    b.port(s["id"], host="h1")
    first = cluster.agent("h1", address=addr)
    ak.wait_view(cluster.veneerd, first)
    return addr, n


def test_second_session_replaces_first(cluster):
    addr, n = setup_host(cluster)
    v = cluster.veneerd
    first = cluster.agents[0]
    watcher = cluster.agent("hw")  # another agent: sees h1's state by delta
    second = cluster.agent("h1", address=addr, wait=False)

    states = []

    def replaced():
        states.append(v.host("h1")["state"])
        return first.sync()["disconnects"] >= 1 and second.sync()["connected"]
    ak.wait_until(replaced, what="second session replaced the first")
    assert set(states) == {"up"}, states
    h = v.host("h1")
    assert h["state"] == "up" and h["agent"]["connected"] is True, h
    # The second session got a full snapshot of h1's networks.
    s2 = second.status()
    assert s2["sync"]["snapshots"] == 1, s2
    # End the contest: stop the first agent. The second holds the host from then on.
    first.stop()
    ak.wait_until(lambda: second.sync()["connected"], what="second connected")
    dump, want = ak.wait_view(v, second)
    assert set(dump["state"]["networks"]) == {n["id"]}
    h = v.host("h1")
    assert h["state"] == "up" and h["agent"]["connected"] is True, h
    wd, _ = ak.wait_view(v, watcher)
    assert wd["state"]["hosts"]["h1"]["up"] is True


def test_replacement_is_stable(cluster):
    addr, n = setup_host(cluster)
    v = cluster.veneerd
    first = cluster.agents[0]
    second = cluster.agent("h1", address=addr, wait=False)
    ak.wait_until(lambda: first.sync()["disconnects"] >= 1 and second.sync()["connected"],
                  what="second session replaced the first")
    rev = v.revision()
    c1, c2 = first.sync()["connects"], second.sync()["connects"]
    # Watch for 2 s: the newer session keeps the host; nobody re-registers.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        time.sleep(0.1)
    assert (first.sync()["connects"], second.sync()["connects"]) == (c1, c2), \
        (first.sync(), second.sync())
    assert v.revision() == rev, "registrations keep advancing the revision"
