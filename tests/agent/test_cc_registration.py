"""Registration: an agent's HELLO creates or updates its host (docs/api.md, Hosts).

  veneer-agent --host h --address A [--encap E --prefix P] --> veneerd --> GET /v1/hosts/h
"""

import json
import socket
import struct

import pytest

import agentkit as ak
import ccwire as w


def check_registered(cluster, agent, encap, prefix=None):
    def synced():
        h = cluster.veneerd.host(agent.host)
        ag = h["agent"]
        return h if ag.get("connected") and ag["applied_revision"] >= h["revision"] else None
    h = ak.wait_until(synced, what="host %s connected and synced" % agent.host)
    assert h["name"] == agent.host and h["id"] == agent.host
    assert h["state"] == "up", h
    assert h["last_seen"] is not None, h
    assert ak.same_address(h["address"], agent.address), h
    assert h["encap"] == encap, h
    if prefix is None:
        assert h["prefix"] is None, h
    else:
        assert h["prefix"] is not None and ak.same_network6(h["prefix"], prefix), h
    ag = h["agent"]
    assert ag["connected"] is True
    assert ag["peer"] == "127.0.0.1", ag
    for k in ("since", "applied_revision", "applied_at_monotonic_ms", "networks",
              "queued_bytes"):
        assert k in ag, ag
    # The agent acknowledged a snapshot at least as new as its own registration.
    assert ag["applied_revision"] >= h["revision"], h
    assert ag["networks"] == 0
    st = agent.status()
    assert st["host"] == agent.host
    assert st["sync"]["connected"] is True and st["sync"]["snapshots"] == 1, st
    assert st["sync"]["refused"] == 0, st
    assert st["state"]["revision"] >= ag["applied_revision"], (st, ag)
    # Its own host is in its view, up, with the encap it reported.
    dump = agent.wait_revision(h["revision"])
    assert dump["state"]["hosts"][agent.host] == {"encap": encap, "up": True}, dump
    return h


@pytest.mark.parametrize("kind", ["vxlan4", "vxlan6", "embed6", "embed6_72"])
def test_registration_creates_host(cluster, kind):
    host = ak.uniq("h")
    assert cluster.admin.req("GET", "/v1/hosts/%s" % host).status == 404
    if kind == "vxlan4":
        a = cluster.agent(host, address=ak.substrate4())
        check_registered(cluster, a, "vxlan")
    elif kind == "vxlan6":
        if not ak.PRIVATE_NETNS:
            pytest.skip("a vxlan agent binds its IPv6 substrate address: needs the private "
                        "network namespace (root)")
        a = cluster.agent(host, address=ak.substrate6(), encap="vxlan")
        check_registered(cluster, a, "vxlan")
    else:
        plen = 72 if kind == "embed6_72" else 56
        prefix = ak.prefix6(plen)
        a = cluster.agent(host, address=ak.substrate6(), encap="embed6", prefix=prefix)
        check_registered(cluster, a, "embed6", prefix)


def test_registration_overrides_admin_host(cluster):
    """A host the admin created with other values takes what the agent reports."""
    h = cluster.b.host(encap="embed6", prefix=ak.prefix6(48), address=ak.substrate6())
    assert h["state"] == "unknown" and h["last_seen"] is None and \
        h["agent"] == {"connected": False}, h
    a = cluster.agent(h["name"], address=ak.substrate4())
    got = check_registered(cluster, a, "vxlan")
    assert got["created"] == h["created"]


def test_wrong_token_refused(cluster):
    host = ak.uniq("h")
    a = cluster.agent(host, token="not-the-agent-token-" + "x" * 8, wait=False)
    ak.wait_until(lambda: a.sync()["refused"] >= 1, what="agent refused")
    st = a.status()
    assert st["sync"]["connected"] is False, st
    assert st["sync"]["snapshots"] == 0 and st["state"]["revision"] == 0, st
    assert st["state"]["counts"]["hosts"] == 0, st
    r = cluster.admin.req("GET", "/v1/hosts/%s" % host)
    assert r.status == 404, r
    assert host not in [x["name"] for x in cluster.admin.items("/v1/hosts")]
    # It keeps retrying (with backoff) and keeps being refused; veneerd is fine.
    ak.wait_until(lambda: a.sync()["refused"] >= 2, what="second refusal")
    assert cluster.veneerd.healthy()
    assert cluster.admin.req("GET", "/v1/hosts/%s" % host).status == 404


def test_address_of_another_host_refused(cluster):
    other = cluster.b.host()
    host = ak.uniq("h")
    a = cluster.agent(host, address=other["address"], wait=False)
    ak.wait_until(lambda: a.sync()["refused"] >= 1, what="agent refused")
    assert cluster.admin.req("GET", "/v1/hosts/%s" % host).status == 404
    assert cluster.veneerd.host(other["name"])["state"] == "unknown"


def test_stop_makes_host_down(cluster):
    a = cluster.agent()
    up = check_registered(cluster, a, "vxlan")
    rc, killed = a.stop()
    assert rc == 0 and not killed

    def down():
        h = cluster.veneerd.host(a.host)
        return h if h["state"] == "down" else None
    h = ak.wait_until(down, what="host down")
    assert h["agent"] == {"connected": False}, h
    assert h["revision"] > up["revision"], (up, h)
    assert ak.same_address(h["address"], a.address)
    # A host that went down can come back.
    a.start()
    a.wait_connected()
    h = ak.wait_until(lambda: (lambda h: h if h["state"] == "up" else None)(
        cluster.veneerd.host(a.host)), what="host up again")
    assert h["agent"]["connected"] is True


def test_veneerctl_shows_agent(cluster):
    """The operator's view: veneerctl host show (JSON) carries the agent's session."""
    a = cluster.agent()
    h = check_registered(cluster, a, "vxlan")
    rc, out, err = ak.veneerctl(cluster.veneerd, "host", "show", a.host, "-o", "json")
    assert rc == 0, (rc, out, err)
    shown = json.loads(out)
    assert shown["state"] == "up" and shown["agent"]["connected"] is True, shown
    assert shown["agent"]["applied_revision"] >= h["revision"], shown
    a.stop()
    ak.wait_until(lambda: cluster.veneerd.host(a.host)["state"] == "down", what="down")
    rc, out, err = ak.veneerctl(cluster.veneerd, "host", "show", a.host, "-o", "json")
    assert rc == 0 and json.loads(out)["agent"] == {"connected": False}, (rc, out, err)


def test_kill9_agent_makes_host_down(cluster):
    """An agent that dies without a goodbye: veneerd sees the closed TCP connection."""
    a = cluster.agent()
    check_registered(cluster, a, "vxlan")
    a.kill9()
    h = ak.wait_until(lambda: (lambda h: h if h["state"] == "down" else None)(
        cluster.veneerd.host(a.host)), what="host down")
    assert h["agent"] == {"connected": False}


# --- registration must not store what the API refuses ----------------------------------------

@pytest.mark.parametrize("address", ["224.0.0.1", "255.255.255.255", "0.0.0.0", "ff02::1",
                                     "::"])
def test_registration_refuses_non_unicast_address(cluster, address):
    """Sent from a raw client (ccwire): a real agent may not be able to bind such an
    address, but veneerd must not depend on that."""
    r = cluster.admin.req("POST", "/v1/hosts", {"name": ak.uniq("h"), "address": address})
    assert r.status == 400, r  # the API's rule
    host = ak.uniq("h")
    conn = w.Raw(cluster.veneerd.agent_port)
    try:
        assert conn.send(w.hello(host, cluster.veneerd.agent_token, address=address))
        msgs = conn.read_msgs(1)
    finally:
        conn.close()
    assert msgs[0].type == w.ERROR, msgs
    assert cluster.admin.req("GET", "/v1/hosts/%s" % host).status == 404, \
        cluster.veneerd.host(host)


def test_registration_refuses_overlapping_prefix(cluster):
    first = cluster.agent(address=ak.substrate6(), encap="embed6", prefix="fd00:77::/48")
    assert cluster.veneerd.host(first.host)["prefix"] == "fd00:77::/48"
    r = cluster.admin.req("POST", "/v1/hosts", {
        "name": ak.uniq("h"), "address": ak.substrate6(), "encap": "embed6",
        "prefix": "fd00:77:0:5::/64"})
    assert r.status == 409 and r.json["error"]["code"] == "overlap", r  # the API's rule
    host = ak.uniq("h")
    a = cluster.agent(host, address=ak.substrate6(), encap="embed6", prefix="fd00:77:0:5::/64",
                      wait=False)
    ak.wait_until(lambda: a.sync()["refused"] >= 1 or a.sync()["connected"],
                  what="agent answered")
    hosts = {h["name"]: h for h in cluster.admin.items("/v1/hosts")}
    assert host not in hosts, hosts.get(host)
    assert a.sync()["refused"] >= 1


def test_connection_reset_mid_snapshot_makes_host_down(cluster):
    """Many hosts make the snapshot long (one HOST message each); the raw peer resets the
    connection as soon as WELCOME arrives, while veneerd is still writing the snapshot."""
    for _ in range(200):
        cluster.b.host()
    stuck = []
    for _ in range(5):
        name = ak.uniq("raw")
        conn = w.Raw(cluster.veneerd.agent_port)
        assert conn.send(w.hello(name, cluster.veneerd.agent_token, address=ak.substrate4()))
        conn.read_msgs(1)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST

        def settled():
            h = cluster.veneerd.host(name)
            return h if h["agent"] == {"connected": False} and h["state"] != "up" else None
        try:
            ak.wait_until(settled, timeout=3, what="host %s down" % name)
        except AssertionError:
            stuck.append(cluster.veneerd.host(name))
            break
    assert not stuck, "hosts left 'up' without an agent: %r" % stuck


@pytest.mark.parametrize("which", ["agent", "wrong"])
def test_routerd_role_needs_routerd_credential(cluster, which):
    """The routing manager receives every tenant's TCP-MD5 keys: an agent's credential (or
    any other) does not make a routerd. Only veneerd's --routerd-token does."""
    host = ak.uniq("rd")
    token = cluster.veneerd.agent_token if which == "agent" else "x" * 40
    conn = w.Raw(cluster.veneerd.agent_port)
    try:
        assert conn.send(w.hello(host, token, address=ak.substrate4(), role=w.ROLE_ROUTERD))
        msgs = conn.read_msgs(1)
    finally:
        conn.close()
    assert msgs[0].type == w.ERROR and msgs[0]["code"] == 403, msgs
    assert "credential" in msgs[0]["reason"], msgs


def test_routerd_role_with_routerd_credential(cluster):
    host = ak.uniq("rd")
    conn = w.Raw(cluster.veneerd.agent_port)
    try:
        assert conn.send(w.hello(host, cluster.veneerd.routerd_token, address=ak.substrate4(),
                                 role=w.ROLE_ROUTERD))
        msgs = conn.read_msgs(1)
    finally:
        conn.close()
    assert msgs[0].type == w.WELCOME, msgs
