r"""Virtual IP claims over the control channel, from raw sessions (ccwire.py): an agent reports a
gratuitous ARP (CLAIM how=GARP) for a port of its host; veneerd records the new holder and every
agent holding the network receives the old and the new holder's PORT with their owned lists.
Claims for another host's port are refused (wrong_host); BGP claims are routerd's alone (an
agent sending one is closed with 403); routerd's announce / withdraw follow the next-claimant
rule; a claim storm from one port does not hold up another port's claim; the holder survives a
veneerd restart and an agent reconnecting from nothing.

  raw agent "ha" (pa, pa2, r1, r2: host ha) --\
  raw agent "hb" (pb: host hb) ---------------- veneerd agent port <-- raw routerd (role 1)
                                                  |
  tenant: net 10.0.0.0/16, subnet 10.0.1.0/24, claimable 10.0.1.96/27 (storm: 10.0.1.128/25)
"""

import select
import time

import pytest

import agentkit as ak
import ccwire as w

NEXT = 0


class Peer:
    """A raw registered session: ACKs every batch, answers pings, and keeps the last PORT
    seen of every port (decoded) and any ERROR."""

    def __init__(self, veneerd, host=None, role=w.ROLE_AGENT):
        self.veneerd = veneerd
        self.host = host or ak.uniq("raw")
        self.conn = w.Raw(veneerd.agent_port)
        self.buf = b""
        self.ports = {}
        self.port_msgs = 0
        self.errors = []
        self.closed = False
        self.applied = 0
        token = veneerd.routerd_token if role == w.ROLE_ROUTERD else veneerd.agent_token
        assert self.conn.send(w.hello(self.host, token, address=ak.substrate4(), role=role))
        self.wait(lambda: self.applied > 0, what="snapshot of %s" % self.host)

    def send(self, data):
        assert self.conn.send(data)

    def _handle(self, m):
        if m.type == w.PORT:
            p = w.port_fields(m.body)
            self.ports[p["id"]] = p
            self.port_msgs += 1
        elif m.type == w.END:
            self.conn.send(w.ack(m["value"]))
            self.applied = m["value"]
        elif m.type == w.PING:
            self.conn.send(w.frame(w.PONG, w.u64(m["value"])))
        elif m.type == w.ERROR:
            self.errors.append((m["code"], m["reason"]))

    def pump(self, timeout=0.05):
        if self.closed:
            return
        r, _, _ = select.select([self.conn.sock], [], [], timeout)
        if not r:
            return
        try:
            data = self.conn.sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return
        self.buf += data
        while len(self.buf) >= w.HDR_LEN:
            n = w.HDR.unpack_from(self.buf, 0)[3]
            if len(self.buf) < n:
                break
            self._handle(w.parse_stream(self.buf[:n])[0])
            self.buf = self.buf[n:]

    def wait(self, pred, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() >= deadline:
                raise AssertionError("%s: timed out waiting for %s (errors %r, closed %s)"
                                     % (self.host, what, self.errors, self.closed))
            self.pump(0.05)

    def owned(self, port):
        p = self.ports.get(port["id"])
        return p["owned"] if p else None

    def wait_owned(self, port, owned, what=None):
        self.wait(lambda: self.owned(port) == owned, what=what or "%s owning %r (has %r)"
                  % (port["id"], owned, self.owned(port)))

    def sync(self, rev=None):
        """Until this session applied the store's revision (or rev)."""
        rev = rev or self.veneerd.revision()
        self.wait(lambda: self.applied >= rev, what="revision %d" % rev)

    def close(self):
        self.conn.close()


def api_vips(c, port):
    return c.admin.fetch("/v1/ports/" + port["id"])["vips"]


def history(c, port):
    return c.admin.items("/v1/claims?port=" + port["id"])


def counter(c, name):
    return ak.metric(c.veneerd, name)


@pytest.fixture(scope="module")
def env(module_cluster):
    c = module_cluster
    t = c.b.tenant()
    n = c.b.network(t["id"], "10.0.0.0/16")
    s = c.b.subnet(n["id"], "10.0.1.0/24")
    a = Peer(c.veneerd, ak.uniq("ha"))
    b = Peer(c.veneerd, ak.uniq("hb"))
    env = {"c": c, "net": n, "subnet": s, "a": a, "b": b}
    yield env
    a.close()
    b.close()


def port(env, host, **kw):
    kw.setdefault("claimable", ["10.0.1.96/27"])
    p = env["c"].b.port(env["subnet"]["id"], host=host.host, **kw)
    for peer in (env["a"], env["b"]):
        peer.sync()
    return p


def test_garp_claim_moves_the_address(env):
    c, a, b = env["c"], env["a"], env["b"]
    pa, pb = port(env, a), port(env, b)
    assert a.owned(pa) == [] and b.owned(pa) == []

    a.send(w.claim(pa["id"], "10.0.1.100"))
    # every agent holding the network hears of the new holder
    a.wait_owned(pa, ["10.0.1.100"])
    b.wait_owned(pa, ["10.0.1.100"])
    assert api_vips(c, pa) == ["10.0.1.100"]
    h = history(c, pa)
    assert [(x["ip"], x["how"], x["result"]) for x in h] == [("10.0.1.100", "garp", "applied")]

    # the address moves to pb (its agent saw pb's gratuitous ARP): both ports are re-sent
    b.send(w.claim(pb["id"], "10.0.1.100"))
    for peer in (a, b):
        peer.wait_owned(pb, ["10.0.1.100"])
        peer.wait_owned(pa, [])
    assert api_vips(c, pa) == [] and api_vips(c, pb) == ["10.0.1.100"]
    rev = c.veneerd.revision()

    # keepalived's repeated gratuitous ARPs change nothing: no revision, no history
    for _ in range(6):
        b.send(w.claim(pb["id"], "10.0.1.100"))
    b.send(w.ping(77))
    b.wait(lambda: b.applied >= rev, what="settled")
    time.sleep(0.3)
    b.pump()
    assert c.veneerd.revision() == rev
    assert len(history(c, pb)) == 1


def test_refusals_from_an_agent(env):
    c, a, b = env["c"], env["a"], env["b"]
    pa, pb = port(env, a), port(env, b)
    wrong = counter(c, 'veneer_claims_refused_total{reason="wrong_host"}')
    unknown = counter(c, 'veneer_claims_refused_total{reason="unknown_port"}')
    garp = counter(c, 'veneer_claims_total{how="garp"}')
    rev = c.veneerd.revision()

    a.send(w.claim(pb["id"], "10.0.1.101"))                   # hb's port, from ha
    a.send(w.claim("port-0000000000000000", "10.0.1.101"))    # no such port
    a.send(w.claim(pa["id"], "10.0.1.200"))                   # not claimable
    a.send(w.claim(pa["id"], "10.0.2.200"))                   # not in its subnet
    a.send(w.claim(pa["id"], pb["ip"]))                       # another port's address
    a.send(w.claim(pa["id"], "10.0.1.255"))                   # broadcast
    ak.wait_until(lambda: len(history(c, pa)) == 4, what="refusals recorded")
    assert [x["reason"] for x in history(c, pa)] == ["not_claimable", "not_in_subnet",
                                                      "fixed_address", "reserved"]
    # Counted, not written into pb's tenant's history: any host could fill it otherwise.
    ak.wait_until(lambda: counter(c, 'veneer_claims_refused_total{reason="wrong_host"}')
                  == wrong + 1, what="wrong_host counted")
    assert history(c, pb) == []
    assert counter(c, 'veneer_claims_refused_total{reason="unknown_port"}') == unknown + 1
    assert counter(c, 'veneer_claims_total{how="garp"}') == garp + 6
    assert c.veneerd.revision() == rev
    assert api_vips(c, pa) == [] and api_vips(c, pb) == []
    # the session is still fine
    a.send(w.claim(pa["id"], "10.0.1.102"))
    a.wait_owned(pa, ["10.0.1.102"])
    assert not a.errors and not a.closed


@pytest.mark.parametrize("how", [w.CLAIM_BGP, w.RELEASE_BGP])
def test_bgp_claims_only_from_routerd(env, how):
    c = env["c"]
    peer = Peer(c.veneerd, ak.uniq("hx"))
    p = port(env, peer, routing=True)
    peer.sync()
    rev = c.veneerd.revision()
    peer.send(w.claim(p["id"], "10.0.1.103", how))
    peer.wait(lambda: peer.closed, what="closed by veneerd")
    assert peer.errors and peer.errors[-1][0] == 403, peer.errors
    assert "routerd" in peer.errors[-1][1]
    # (the host going down is the only change)
    ak.wait_until(lambda: c.veneerd.host(peer.host)["state"] == "down", what="down")
    assert c.veneerd.revision() == rev + 1 and api_vips(c, p) == []
    assert history(c, p) == []
    peer.close()
    c.b.delete("/v1/ports/" + p["id"])


def test_routerd_announce_withdraw_next_claimant(env):
    c, a = env["c"], env["a"]
    rd = Peer(c.veneerd, ak.uniq("rd"), role=w.ROLE_ROUTERD)
    r1, r2 = port(env, a, routing=True), port(env, a, routing=True)
    plain = port(env, a)
    rd.sync()
    vip = "10.0.1.110"

    rd.send(w.claim(r1["id"], vip, w.CLAIM_BGP))
    a.wait_owned(r1, [vip])
    rd.send(w.claim(r2["id"], vip, w.CLAIM_BGP))       # the most recent announcer holds it
    a.wait_owned(r2, [vip])
    a.wait_owned(r1, [])
    rd.send(w.claim(r2["id"], vip, w.CLAIM_BGP))       # a refresh by the holder: nothing
    rd.send(w.claim(r2["id"], vip, w.RELEASE_BGP))     # withdrawn: r1 still announces it
    a.wait_owned(r1, [vip])
    a.wait_owned(r2, [])
    h = [x for x in c.admin.items("/v1/claims?ip=" + vip) if x["network"] == env["net"]["id"]]
    assert [(x["port"], x["how"], x["result"], x["reason"]) for x in h] == [
        (r1["id"], "bgp", "applied", None),
        (r2["id"], "bgp", "applied", "taken from %s" % r1["id"]),
        (r2["id"], "bgp", "released", "withdrawn by bgp"),
        (r1["id"], "bgp", "applied", "next bgp claimant")]
    assert h[2]["revision"] == h[3]["revision"]

    # the last announcer withdraws: nobody holds it
    rd.send(w.claim(r1["id"], vip, w.RELEASE_BGP))
    a.wait_owned(r1, [])
    assert api_vips(c, r1) == [] and api_vips(c, r2) == []
    # a withdrawal of what it never announced changes nothing
    rev = c.veneerd.revision()
    rd.send(w.claim(r2["id"], vip, w.RELEASE_BGP))

    # a port without routing cannot claim by BGP; routerd's session reports no ARP
    unknown = counter(c, 'veneer_claims_refused_total{reason="unknown_port"}')
    wrong = counter(c, 'veneer_claims_refused_total{reason="wrong_host"}')
    rd.send(w.claim(plain["id"], vip, w.CLAIM_BGP))
    rd.send(w.claim(plain["id"], vip, w.CLAIM_GARP))
    ak.wait_until(lambda: counter(c, 'veneer_claims_refused_total{reason="unknown_port"}')
                  == unknown + 1, what="unknown_port counted")
    ak.wait_until(lambda: counter(c, 'veneer_claims_refused_total{reason="wrong_host"}')
                  == wrong + 1, what="wrong_host counted")
    assert history(c, plain) == []
    assert c.veneerd.revision() == rev

    # a gratuitous ARP takes it from a BGP holder; that holder's withdrawal leaves it alone
    rd.send(w.claim(r1["id"], vip, w.CLAIM_BGP))
    a.wait_owned(r1, [vip])
    a.send(w.claim(plain["id"], vip))
    a.wait_owned(plain, [vip])
    rd.send(w.claim(r1["id"], vip, w.RELEASE_BGP))
    rd.send(w.ping(5))
    time.sleep(0.3)
    assert api_vips(c, plain) == [vip]
    # turning routing off drops r2's standing announcement too: nothing comes back to it
    rd.send(w.claim(r2["id"], vip, w.CLAIM_BGP))
    a.wait_owned(r2, [vip])
    c.b.patch("/v1/ports/" + r2["id"], {"routing": False})
    a.wait_owned(r2, [])
    assert [x["reason"] for x in history(c, r2)][-1] == "routing turned off"
    assert api_vips(c, plain) == [] and api_vips(c, r1) == []
    assert not rd.errors and not rd.closed
    rd.close()


def test_storm_does_not_delay_another_port(env):
    c, a = env["c"], env["a"]
    storm = port(env, a, claimable=["10.0.1.128/25"])
    calm = port(env, a)
    limited = counter(c, 'veneer_claims_refused_total{reason="rate_limited"}')
    burst = b"".join(w.claim(storm["id"], "10.0.1.%d" % (129 + i % 120)) for i in range(600))
    t0 = time.monotonic()
    a.send(burst + w.claim(calm["id"], "10.0.1.120"))
    a.wait_owned(calm, ["10.0.1.120"], what="the calm port's claim")
    took = time.monotonic() - t0
    assert took < 5.0, took
    held = api_vips(c, storm)
    # 20 at once, then 10 per second: the rest were counted and dropped, not written
    assert 20 <= len(held) <= 20 + 10 * took + 2, (len(held), took)
    assert len(history(c, storm)) == len(held)
    # (the addresses come round 5 times: repeats for held ones are no-ops, not refusals)
    assert counter(c, 'veneer_claims_refused_total{reason="rate_limited"}') >= \
        limited + 600 - 5 * len(held)
    assert not a.closed and not a.errors


def test_holder_survives_restart_of_veneerd_and_agent(cluster):
    c = cluster
    t = c.b.tenant()
    n = c.b.network(t["id"], "10.0.0.0/16")
    s = c.b.subnet(n["id"], "10.0.1.0/24")
    a = Peer(c.veneerd, ak.uniq("ha"))
    p = c.b.port(s["id"], host=a.host, claimable=["10.0.1.96/27"])
    a.sync()
    a.send(w.claim(p["id"], "10.0.1.100"))
    a.wait_owned(p, ["10.0.1.100"])
    a.close()

    # an agent coming back from nothing gets the holder in its snapshot
    a2 = Peer(c.veneerd, a.host)
    assert a2.owned(p) == ["10.0.1.100"]
    a2.close()

    c.veneerd.stop()
    c.veneerd.start(keep_ports=True)
    assert api_vips(c, p) == ["10.0.1.100"]
    a3 = Peer(c.veneerd, a.host)
    assert a3.owned(p) == ["10.0.1.100"]
    # and it still moves after the restart
    q = c.b.port(s["id"], host=a.host, claimable=["10.0.1.96/27"])
    a3.sync()
    a3.send(w.claim(q["id"], "10.0.1.100"))
    a3.wait_owned(q, ["10.0.1.100"])
    a3.wait_owned(p, [])
    a3.close()


def test_routerd_resync_after_registering(env):
    """A routerd that registers again (veneerd or routerd restarted) re-sends every BGP
    claim it holds, then CLAIMS_SYNCED: re-sent claims move nothing, new ones apply, and
    claimants it did not re-send (withdrawn while veneerd was away, or lost with a crashed
    routerd) are withdrawn, each address going to its next claimant."""
    c, a = env["c"], env["a"]
    host = ak.uniq("rd")
    r1, r2, r3 = (port(env, a, routing=True) for _ in range(3))
    vip, vip2, vip3 = "10.0.1.111", "10.0.1.112", "10.0.1.113"
    rd = Peer(c.veneerd, host, role=w.ROLE_ROUTERD)
    rd.send(w.claim(r1["id"], vip, w.CLAIM_BGP))
    rd.send(w.claim(r2["id"], vip, w.CLAIM_BGP))        # r2 the most recent: it holds vip
    rd.send(w.claim(r3["id"], vip2, w.CLAIM_BGP))
    a.wait_owned(r2, [vip])
    a.wait_owned(r3, [vip2])
    rd.close()

    # The new session re-sends r1 (a queued claimant) and r2: r1 must not take vip back.
    rd2 = Peer(c.veneerd, host, role=w.ROLE_ROUTERD)
    before = len(history(c, r1))
    rd2.send(w.claim(r1["id"], vip, w.CLAIM_BGP))
    rd2.send(w.claim(r2["id"], vip, w.CLAIM_BGP))
    rd2.send(w.claim(r1["id"], vip3, w.CLAIM_BGP))       # announced while veneerd was away
    a.wait_owned(r1, [vip3])
    assert api_vips(c, r2) == [vip] and len(history(c, r1)) == before + 1
    # r3's vip2 was not re-sent: withdrawn at the end of the resync, nobody else wants it
    rev = c.veneerd.revision()
    rd2.send(w.claim("", "0.0.0.0", w.CLAIMS_SYNCED))
    a.wait_owned(r3, [])
    assert c.veneerd.revision() > rev and api_vips(c, r2) == [vip]
    assert history(c, r3)[-1]["reason"] == "withdrawn by bgp"
    assert not rd2.errors and not rd2.closed

    # Once synced, the holder's withdrawal goes to r1, the claimant re-sent above.
    rd2.send(w.claim(r2["id"], vip, w.RELEASE_BGP))
    a.wait_owned(r1, sorted([vip, vip3]))
    # A second marker with no new registration withdraws nothing.
    rd2.send(w.claim("", "0.0.0.0", w.CLAIMS_SYNCED))
    rd2.send(w.ping(7))
    time.sleep(0.3)
    assert sorted(api_vips(c, r1)) == sorted([vip, vip3])
    rd2.send(w.claim(r1["id"], vip, w.RELEASE_BGP))
    rd2.send(w.claim(r1["id"], vip3, w.RELEASE_BGP))
    a.wait_owned(r1, [])
    rd2.close()


def test_claims_synced_is_routerds_and_carries_nothing(env):
    c = env["c"]
    peer = Peer(c.veneerd, ak.uniq("hx"))
    peer.sync()
    peer.send(w.claim("", "0.0.0.0", w.CLAIMS_SYNCED))  # an agent may not end a resync
    peer.wait(lambda: peer.closed, what="closed by veneerd")
    assert peer.errors and peer.errors[-1][0] == 403, peer.errors
    peer.close()
    rd = Peer(c.veneerd, ak.uniq("rd"), role=w.ROLE_ROUTERD)
    p = port(env, env["a"], routing=True)
    rd.send(w.claim(p["id"], "10.0.1.114", w.CLAIMS_SYNCED))  # a marker names no port
    rd.wait(lambda: rd.closed, what="closed by veneerd")
    assert rd.errors and rd.errors[-1][0] == 400, rd.errors
    rd.close()
