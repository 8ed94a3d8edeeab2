"""Hostile input on veneerd's agent port, from a raw TCP socket (ccwire.py encodes the wire
format independently of the C code).

  raw socket --bytes--> veneerd agent port <--session-- well-behaved agent "good"
                           |
  each case: veneerd answers (ERROR for a refused HELLO, possibly for a framing error) and
  closes that connection; it keeps running and answering /v1/health; "good" stays connected
  on its first session and keeps receiving deltas.
"""

import struct
import time

import pytest

import agentkit as ak
import ccwire as w


@pytest.fixture(scope="module")
def env(module_cluster):
    c = module_cluster
    good = c.agent("good")
    t = c.b.tenant()
    n = c.b.network(t["id"], "10.0.0.0/16")
    s = c.b.subnet(n["id"], "10.0.1.0/24")
    p = c.b.port(s["id"], host="good")
    ak.wait_view(c.veneerd, good)
    return {"c": c, "good": good, "port": p, "subnet": s, "net": n}


@pytest.fixture(autouse=True)
def still_fine(env):
    """After each case: veneerd alive and healthy, "good" still on its first session and
    receiving deltas."""
    yield
    c, good = env["c"], env["good"]
    v = c.veneerd
    assert v.alive(), "veneerd died:\n%s" % v.log_tail()
    assert v.healthy(), "veneerd does not answer /v1/health"
    c.b.patch("/v1/ports/%s" % env["port"]["id"], {"name": ak.uniq("p")})
    ak.wait_applied(v, "good", c.b.rev)
    dump, _ = ak.wait_view(v, good)
    assert dump["state"]["ports"][env["port"]["id"]]["network"] == env["net"]["id"]
    s = good.sync()
    assert s["connects"] == 1 and s["disconnects"] == 0 and s["connected"], s


def raw(env):
    return w.Raw(env["c"].veneerd.agent_port)


def token(env):
    return env["c"].veneerd.agent_token


def hello_body(env, host=None, **kw):
    kw.setdefault("address", ak.substrate4())
    return w.hello_body(host or ak.uniq("raw"), token(env), **kw)


def expect_close(conn, error=None, allow_reset=False, registered=False):
    """Reads until veneerd closes. error=(code, reason substring): the first (and only)
    message must be that ERROR. Without `error`, anything received must be ERROR messages.
    registered: the peer had a session, so batches and pings may come before the ERROR,
    which must then be the last message."""
    data = conn.read_until_eof()
    conn.close()
    if conn.reset:
        assert allow_reset, "veneerd reset the connection instead of closing it (got %r)" % data
    if not data and (conn.reset or error is None):
        return []
    msgs = w.parse_stream(data)
    assert msgs, "veneerd closed without an ERROR"
    if registered:
        msgs = msgs[-1:]
    assert all(m.type == w.ERROR for m in msgs), msgs
    assert len(msgs) == 1, msgs
    if error is not None:
        code, reason = error
        assert msgs[0]["code"] == code, msgs
        assert reason in msgs[0]["reason"], msgs
    return msgs


def host_absent(env, name):
    r = env["c"].admin.req("GET", "/v1/hosts/%s" % name)
    assert r.status == 404, r


# --- framing ---------------------------------------------------------------------------------

def valid_hello(env):
    return w.frame(w.HELLO, hello_body(env))


FRAMING = {
    "http_request": lambda e: b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage_bytes": lambda e: bytes((i * 37 + 11) & 0xFF for i in range(300)),
    "zeros": lambda e: bytes(64),
    "wrong_magic": lambda e: w.frame(w.HELLO, hello_body(e), magic=0x4E56),
    "wrong_version_2": lambda e: w.frame(w.HELLO, hello_body(e), version=2),
    "wrong_version_0": lambda e: w.frame(w.HELLO, hello_body(e), version=0),
    "length_0": lambda e: w.header(w.HELLO, 0) + bytes(32),
    "length_7": lambda e: w.header(w.HELLO, 7) + bytes(32),
    "length_65537": lambda e: w.header(w.HELLO, 65537) + bytes(32),
    "length_max_u32": lambda e: w.header(w.HELLO, 0xFFFFFFFF) + bytes(32),
    "body_one_byte_short": lambda e: w.frame(w.HELLO, hello_body(e)[:-1]),
    "body_one_byte_long": lambda e: w.frame(w.HELLO, hello_body(e) + b"\0"),
    "ping_body_short": lambda e: w.frame(w.PING, bytes(7)),
    "ping_body_long": lambda e: w.frame(w.PING, bytes(9)),
    "type_0": lambda e: w.frame(0, bytes(8)),
    "type_max": lambda e: w.frame(w.TYPE_MAX, bytes(8)),
    "type_255": lambda e: w.frame(255, bytes(8)),
}
FRAMING_REASON = {
    "http_request": "bad magic", "garbage_bytes": "bad magic", "zeros": "bad magic",
    "wrong_magic": "bad magic", "wrong_version_2": "bad version",
    "wrong_version_0": "bad version", "length_0": "bad length", "length_7": "bad length",
    "length_65537": "bad length", "length_max_u32": "bad length",
    "body_one_byte_short": "bad length", "body_one_byte_long": "bad length",
    "ping_body_short": "bad length", "ping_body_long": "bad length",
    "type_0": "unknown type", "type_max": "unknown type", "type_255": "unknown type",
}


@pytest.mark.parametrize("case", sorted(FRAMING))
def test_framing_error_closes(env, case):
    conn = raw(env)
    assert conn.send(FRAMING[case](env))
    msgs = expect_close(conn)
    # When veneerd says why, it says the right thing.
    if msgs:
        assert msgs[0]["code"] == 400 and FRAMING_REASON[case] in msgs[0]["reason"], msgs


def test_exact_length_accepted(env):
    """Control for the one-byte cases: the same HELLO with its exact length registers."""
    name = ak.uniq("raw")
    conn = raw(env)
    assert conn.send(w.frame(w.HELLO, hello_body(env, host=name)))
    msgs = conn.read_msgs(2)
    assert msgs[0].type == w.WELCOME and msgs[0]["version"] == 1, msgs
    assert msgs[1].type == w.BEGIN and msgs[1]["kind"] == w.SNAPSHOT, msgs
    # Read the whole snapshot before closing (a close in the middle of it is another
    # story: test_cc_registration.py::test_connection_reset_mid_snapshot_makes_host_down).
    while not any(m.type == w.END for m in msgs):
        msgs = conn.read_msgs(len(msgs) + 1)
    conn.close()
    ak.wait_until(lambda: env["c"].veneerd.host(name)["state"] == "down",
                  what="raw host down after close")


def test_truncated_message_then_close(env):
    """Half a HELLO, then silence: the connection waits (an API write still reaches "good"
    meanwhile); when the peer closes its side, veneerd closes too."""
    c = env["c"]
    name = ak.uniq("raw")
    msg = w.frame(w.HELLO, hello_body(env, host=name))
    conn = raw(env)
    assert conn.send(msg[:len(msg) // 2])
    c.b.patch("/v1/ports/%s" % env["port"]["id"], {"name": ak.uniq("p")})
    ak.wait_applied(c.veneerd, "good", c.b.rev)
    conn.shut_write()
    assert expect_close(conn) == []
    host_absent(env, name)


def test_truncated_header_then_close(env):
    conn = raw(env)
    assert conn.send(b"\x56\x4e\x01")
    conn.shut_write()
    assert expect_close(conn) == []


@pytest.mark.parametrize("case", ["random_1mb", "header_says_1mb"])
def test_one_megabyte_blob(env, case):
    blob = bytes((i * 131 + 7) & 0xFF for i in range(1 << 20))
    if case == "header_says_1mb":
        blob = w.header(w.HELLO, 1 << 20) + blob
    conn = raw(env)
    conn.send(blob)  # may fail half-way: veneerd closes as soon as it has seen enough
    expect_close(conn, allow_reset=True)


# --- conversation errors ---------------------------------------------------------------------

@pytest.mark.parametrize("first", ["ping", "ack", "pong", "port_state", "welcome", "error",
                                   "begin", "end", "net", "delete", "stats"])
def test_not_hello_first(env, first):
    msg = {
        "ping": w.ping(7), "ack": w.ack(1), "pong": w.frame(w.PONG, w.u64(1)),
        "port_state": w.frame(w.PORT_STATE, w.s(env["port"]["id"]) + w.u8(1)),
        "welcome": w.frame(w.WELCOME, w.u8(1) + w.u64(1)),
        "error": w.frame(w.ERROR, w.u16(1) + w.s("x")),
        "begin": w.frame(w.BEGIN, w.u8(w.SNAPSHOT) + w.u64(1)),
        "end": w.frame(w.END, w.u64(1) + w.u64(1)),
        "net": w.frame(w.NET, w.s("net-0000000000000001") + w.u32(5) + w.u8(0)),
        "delete": w.frame(w.DELETE, w.u8(w.PORT) + w.s(env["port"]["id"])),
        "stats": w.stats([("src_mac", 1)], [(env["port"]["id"], 1, 2, 3)]),
    }[first]
    before = env["c"].admin.fetch("/v1/ports/%s" % env["port"]["id"])["state"]
    conn = raw(env)
    assert conn.send(msg)
    expect_close(conn, (400, "HELLO first"))
    # The port's observed state was not touched by an unregistered peer.
    assert env["c"].admin.fetch("/v1/ports/%s" % env["port"]["id"])["state"] == before


HELLO_REFUSED = {
    # name: (hello kwargs, expected code, reason substring)
    "bad_credential": (dict(credential="wrong-token-0123456789"), 403, "bad credential"),
    "empty_credential": (dict(credential=""), 403, "bad credential"),
    "host_underscore": (dict(host="Bad_Host"), 403, "bad host name"),
    "host_leading_dash": (dict(host="-lead"), 403, "bad host name"),
    "host_empty": (dict(host=""), 403, "bad host name"),
    # (the decoder reports the encap read past the failed string: "bad value")
    "host_64_chars": (dict(host="h" * 64), 400, "malformed message"),
    "host_nonprintable": (dict(host=b"h\x01st"), 400, "bad string"),
    "host_nul": (dict(host=b"ho\x00st"), 400, "bad string"),
    "host_non_ascii": (dict(host="h\u00e9st".encode()), 400, "bad string"),
    "credential_del": (dict(credential=b"tok\x7fen"), 400, "bad string"),
    "encap_7": (dict(encap=7), 400, "bad value"),
    "encap_0": (dict(encap=0), 400, "bad value"),
    "no_common_version": (dict(min_version=2, max_version=3), 403, "version"),
    "no_address": (dict(address=None), 403, "substrate address"),
    "embed6_no_prefix": (dict(encap=w.ENCAP_EMBED6, address="2001:db8::77"), 403, "prefix"),
    "embed6_prefix_too_long": (dict(encap=w.ENCAP_EMBED6, address="2001:db8::78",
                                    prefix="fd00:9::/96"), 403, "prefix"),
    "too_many_nets": (dict(revision=1, nets=["net-%016x" % i for i in range(1025)]), 400,
                      "bad value"),
    "net_id_nonprintable": (dict(revision=1, nets=[b"net-\x02"]), 400, "bad string"),
}


@pytest.mark.parametrize("case", sorted(HELLO_REFUSED))
def test_hello_refused(env, case):
    kw, code, reason = HELLO_REFUSED[case]
    kw = dict(kw)
    host = kw.pop("host", None)
    name = host if host is not None else ak.uniq("raw")
    cred = kw.pop("credential", token(env))
    kw.setdefault("address", ak.substrate4())
    body = w.hello_body(name, cred, **kw)
    if len(body) + w.HDR_LEN > w.MAX_MSG:
        pytest.fail("case too large for one message")
    conn = raw(env)
    assert conn.send(w.frame(w.HELLO, body))
    expect_close(conn, (code, reason))
    if isinstance(name, str) and name:
        host_absent(env, name)


def test_address_family_bad(env):
    """An address of family 5, and an IPv4 address with prefix length 33."""
    for addr in (bytes([5, 32]) + bytes(16), bytes([4, 33]) + bytes([192, 0, 2, 9]) + bytes(12)):
        body = (w.u8(1) + w.u8(1) + w.s(ak.uniq("raw")) + w.s(token(env)) + w.u8(1) + addr +
                w.addr(None) + w.u64(0) + w.u64(0) + w.u16(0))
        conn = raw(env)
        assert conn.send(w.frame(w.HELLO, body))
        expect_close(conn, (400, "malformed"))


# --- a registered raw peer -------------------------------------------------------------------

def register(env, name=None, **kw):
    """A raw session through WELCOME and the snapshot (ACKed): (conn, name, revision)."""
    name = name or ak.uniq("raw")
    conn = raw(env)
    assert conn.send(w.frame(w.HELLO, hello_body(env, host=name, **kw)))
    msgs = conn.read_msgs(2)
    assert [m.type for m in msgs[:2]] == [w.WELCOME, w.BEGIN], msgs
    rev = msgs[1]["revision"]
    # Read to the END of the snapshot (it may all have come at once already).
    deadline = time.monotonic() + 10
    while not any(m.type == w.END for m in msgs):
        assert time.monotonic() < deadline, "no END of the snapshot: %r" % msgs
        msgs = conn.read_msgs(len(msgs) + 1, timeout=max(0.1, deadline - time.monotonic()))
    end = [m for m in msgs if m.type == w.END][0]
    assert end["value"] == rev, msgs
    conn.buf = b""
    assert conn.send(w.ack(rev))
    ak.wait_applied(env["c"].veneerd, name, rev)
    return conn, name, rev


def test_raw_session_works(env):
    """The encoder is right: a raw peer registers, gets a snapshot, ACKs it, pings."""
    conn, name, rev = register(env)
    h = env["c"].veneerd.host(name)
    assert h["state"] == "up" and h["agent"]["applied_revision"] == rev, h
    assert conn.send(w.ping(12345))
    msgs = conn.read_msgs(1)
    pongs = [m for m in msgs if m.type == w.PONG]
    assert pongs and pongs[0]["value"] == 12345, msgs
    conn.close()
    ak.wait_until(lambda: env["c"].veneerd.host(name)["state"] == "down", what="down")


@pytest.mark.parametrize("case", ["hello_twice", "ack_not_sent", "object_from_agent",
                                  "begin_from_agent"])
def test_registered_peer_misbehaves(env, case):
    conn, name, rev = register(env)
    msg, reason = {
        "hello_twice": (w.frame(w.HELLO, hello_body(env, host=name)), "HELLO twice"),
        "ack_not_sent": (w.ack(rev + 1000), "ACK"),
        "object_from_agent": (w.frame(w.NET, w.s("net-0000000000000001") + w.u32(5) +
                                      w.u8(0)), "unexpected"),
        "begin_from_agent": (w.frame(w.BEGIN, w.u8(w.DELTA) + w.u64(rev)), "unexpected"),
    }[case]
    assert conn.send(msg)
    expect_close(conn, (400, reason), registered=True)
    ak.wait_until(lambda: env["c"].veneerd.host(name)["state"] == "down", what="down")


def test_port_state_only_for_own_ports(env):
    """PORT_STATE from a registered peer changes only ports bound to its own host."""
    c = env["c"]
    conn, name, rev = register(env)
    own = c.b.port(env["subnet"]["id"], host=name)
    assert own["state"] == "down"
    # "good"'s port: unbound first, so that its agent reports nothing about it meanwhile.
    other = c.b.port(env["subnet"]["id"])
    for pid in (other["id"], env["port"]["id"]):
        assert conn.send(w.frame(w.PORT_STATE, w.s(pid) + w.u8(0)))
        assert conn.send(w.frame(w.PORT_STATE, w.s(pid) + w.u8(1)))
    good_before = c.admin.fetch("/v1/ports/%s" % env["port"]["id"])["state"]
    assert conn.send(w.frame(w.PORT_STATE, w.s(env["port"]["id"]) +
                             w.u8(0 if good_before == "up" else 1)))
    assert conn.send(w.frame(w.PORT_STATE, w.s(own["id"]) + w.u8(1)))
    ak.wait_until(lambda: c.admin.fetch("/v1/ports/%s" % own["id"])["state"] == "up",
                  what="own port up")
    # Messages are handled in order: by now the others were looked at, and left alone.
    assert c.admin.fetch("/v1/ports/%s" % env["port"]["id"])["state"] == good_before
    assert c.admin.fetch("/v1/ports/%s" % other["id"])["state"] == "unbound"
    c.b.delete("/v1/ports/%s" % other["id"])
    assert conn.send(w.frame(w.PORT_STATE, w.s(own["id"]) + w.u8(2)))  # up must be 0 or 1
    expect_close(conn, (400, "bad value"), registered=True)
    c.b.delete("/v1/ports/%s" % own["id"])


def test_many_idle_unregistered_connections(env):
    """Connections that never say anything do not disturb anyone (they are left open or
    closed by the heartbeat; "good" is checked afterwards)."""
    conns = [raw(env) for _ in range(50)]
    c = env["c"]
    c.b.patch("/v1/ports/%s" % env["port"]["id"], {"name": ak.uniq("p")})
    ak.wait_applied(c.veneerd, "good", c.b.rev)
    for cn in conns:
        cn.close()


def test_slow_byte_by_byte_hello(env):
    """A HELLO delivered one byte at a time is put together and accepted."""
    name = ak.uniq("raw")
    msg = w.frame(w.HELLO, hello_body(env, host=name))
    conn = raw(env)
    for i in range(len(msg)):
        assert conn.send(msg[i:i + 1])
        if i % 16 == 0:
            time.sleep(0.001)
    msgs = conn.read_msgs(1)
    assert msgs[0].type == w.WELCOME, msgs
    conn.close()


def test_two_messages_in_one_segment(env):
    """HELLO and PING in one write: both are handled in order."""
    name = ak.uniq("raw")
    conn = raw(env)
    assert conn.send(w.frame(w.HELLO, hello_body(env, host=name)) + w.ping(99))
    msgs = conn.read_msgs(1)
    deadline = time.monotonic() + 5
    while not any(m.type == w.PONG for m in msgs) and time.monotonic() < deadline:
        msgs = conn.read_msgs(len(msgs) + 1, timeout=max(0.1, deadline - time.monotonic()))
    assert msgs[0].type == w.WELCOME
    assert any(m.type == w.PONG and m["value"] == 99 for m in msgs), msgs
    conn.close()


def test_header_fields_big_endian(env):
    """Sanity of the test's own encoder against the C side: a length written little endian
    is refused as a bad length."""
    body = hello_body(env)
    bad = struct.pack(">HBB", w.MAGIC, w.VERSION, w.HELLO) + struct.pack("<I", 8 + len(body))
    conn = raw(env)
    assert conn.send(bad + body)
    msgs = expect_close(conn)
    assert not msgs or "bad length" in msgs[0]["reason"], msgs


# --- STATS (agent counters) ------------------------------------------------------------------

STATS_BAD = {
    "too_many_reasons": (lambda e: w.stats(nreasons=w.MAX_REASONS + 1), "bad value"),
    "too_many_ports": (lambda e: w.stats(nports=w.MAX_STAT_PORTS + 1), "bad value"),
    "reason_missing": (lambda e: w.stats(nreasons=2, reasons=[("a", 1)]), "malformed"),
    "reason_name_32": (lambda e: w.stats(reasons=[("r" * 32, 1)]), "malformed"),
    "reason_name_ctl": (lambda e: w.stats(reasons=[(b"r\x1b[2J", 1)]), "malformed"),
    "port_count_short": (lambda e: w.frame(w.STATS, w.stats_body(
        ports=[(e["port"]["id"], 1, 2, 3)])[:-1]), "malformed"),
    "trailing_byte": (lambda e: w.frame(w.STATS, w.stats_body([("a", 1)]) + b"\0"),
                      "bad length"),
}


@pytest.mark.parametrize("case", sorted(STATS_BAD))
def test_stats_malformed(env, case):
    make, reason = STATS_BAD[case]
    conn, name, rev = register(env)
    assert conn.send(make(env))
    expect_close(conn, (400, reason), registered=True)


def test_stats_only_for_own_ports(env):
    """Counters a peer reports show on its own ports only, never on another host's."""
    c = env["c"]
    conn, name, rev = register(env)
    own = c.b.port(env["subnet"]["id"], host=name)
    good_before = c.admin.fetch("/v1/ports/%s" % env["port"]["id"]).get("counters")
    assert conn.send(w.stats([("src_mac", 7), ("no_route", 3)],
                             [(own["id"], 11, 12, 13), (env["port"]["id"], 666, 666, 666)]))

    def shown():
        p = c.admin.fetch("/v1/ports/%s" % own["id"])
        return p if p.get("counters") == {"rx": 11, "tx": 12, "drops": 13} else None
    ak.wait_until(shown, what="own port counters")
    h = c.veneerd.host(name)
    assert h["agent"].get("drops") == {"src_mac": 7, "no_route": 3}, h
    good_after = c.admin.fetch("/v1/ports/%s" % env["port"]["id"]).get("counters")
    assert good_after != {"rx": 666, "tx": 666, "drops": 666}, good_after
    assert good_before is None or isinstance(good_before, dict)
    conn.close()
    c.b.delete("/v1/ports/%s" % own["id"])
