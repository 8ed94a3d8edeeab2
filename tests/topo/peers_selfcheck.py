#!/usr/bin/python3
"""Self-check of tests/topo/peers.py with the real daemons, run by hand (not part of the
suite):

    pcRID-a  10.200.0.1/24 --veth pcRIDa | pcRIDb-- 10.200.0.2/24  pcRID-b
      BIRD   AS 65001                               FRR   AS 65002   (MD5, GTSM, hold 9)
      BIRD   AS 65001                               GoBGP AS 65003   (MD5)
      BIRD   AS 65001                               ExaBGP AS 65004  (raw attributes)
      BIRD   AS 65001   (passive)                   RawBgp AS 65005  (bad OPENs, one UPDATE)

One pair at a time, fresh instances each: sessions Established, routes exchanged both ways
with their attributes, runtime announce/withdraw, neighbor shutdown/enable, RFC 7606 classes
sent by ExaBGP as raw attributes, NOTIFICATIONs answering bad headers and OPENs.

    /usr/bin/python3 tests/topo/peers_selfcheck.py [bird-frr gobgp-bird exabgp-bird raw-bird]

Root. Everything (namespaces, veth, processes, files) is removed in `finally`, by name or PID.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peers  # noqa: E402
from topolab import wait_until  # noqa: E402

A_IP, B_IP = "10.200.0.1", "10.200.0.2"


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def one(routes, prefix):
    assert prefix in routes, "%s not received; got %s" % (prefix, sorted(routes))
    assert len(routes[prefix]) == 1, routes[prefix]
    return routes[prefix][0]


def check_attrs(r, **want):
    for k, v in want.items():
        assert r[k] == v, "%s: want %r, got %r (route %r)" % (k, v, r[k], r)


def wait_route(p, prefix, timeout=20, **want):
    def ok():
        r = p.received_routes().get(prefix)
        if not r:
            return None
        check_attrs(r[0], **want)
        return r[0]
    return wait_until(ok, timeout, what="%s to hold %s %s" % (p.kind, prefix, want))


def wait_gone(p, prefix, timeout=20):
    return wait_until(lambda: prefix not in p.received_routes(), timeout,
                      what="%s to drop %s" % (p.kind, prefix))


def pair_bird_frr(env):
    nb_b = {"ip": B_IP, "asn": 65002, "password": "s3cret", "ttl_security": True, "hold": 9}
    nb_a = {"ip": A_IP, "asn": 65001, "password": "s3cret", "ttl_security": True, "hold": 9}
    bird = env.add(peers.Bird(env.a, env.wd("bird1"), A_IP, 65001, [nb_b],
                              announce=[("10.101.0.0/24", {"med": 11, "communities": ["65001:1"],
                                                            "as_path": [64999]})]))
    frr = env.add(peers.Frr(env.b, env.wd("frr"), B_IP, 65002, [nb_a],
                            announce=[("10.102.0.0/24", {"med": 22,
                                                         "communities": ["65002:2"]})]))
    bird.start()
    frr.start()
    bird.wait_established(B_IP, 40)
    frr.wait_established(A_IP, 10)
    print("  bird<->frr Established (MD5, GTSM, hold 9)")
    # FRR enforces the key: a SYN without it goes unanswered. (GTSM is only seen to agree:
    # FRR sets the minimum TTL on the accepted socket, after the handshake.)
    for kw, ok in (({"ttl": 255}, False), ({"md5": "s3cret", "ttl": 255}, True)):
        s = peers.RawBgp(env.a, A_IP, B_IP, **kw)
        try:
            s.connect(2)
            got = True
        except AssertionError:
            got = False
        finally:
            s.close()
        assert got == ok, "TCP connect to FRR with %s: %s" % (kw, got)
    print("  FRR's port 179: no answer without the MD5 key; with it, connects")
    r = wait_route(bird, "10.102.0.0/24", as_path=[65002], nexthop=B_IP, med=22,
                   communities=["65002:2"], origin="igp")
    print("  bird got  10.102.0.0/24", short(r))
    r = wait_route(frr, "10.101.0.0/24", as_path=[65001, 64999], nexthop=A_IP, med=11,
                   communities=["65001:1"])
    print("  frr  got  10.101.0.0/24", short(r))
    assert "10.102.0.0/24" not in frr.received_routes(), "own route listed as received"
    assert "10.101.0.0/24" not in bird.received_routes(), "own route listed as received"
    # runtime changes
    bird.announce("10.101.1.0/24", med=5, as_path=[64998, 64997], communities=["1:2", "3:4"])
    frr.announce("10.102.1.0/24", med=6, as_path=[64996], communities=["5:6"])
    r = wait_route(frr, "10.101.1.0/24", as_path=[65001, 64998, 64997], med=5,
                   communities=["1:2", "3:4"])
    print("  frr  got  10.101.1.0/24 announced at run time", short(r))
    r = wait_route(bird, "10.102.1.0/24", as_path=[65002, 64996], med=6, communities=["5:6"])
    print("  bird got  10.102.1.0/24 announced at run time", short(r))
    bird.withdraw("10.101.1.0/24")
    frr.withdraw("10.102.1.0/24")
    wait_gone(frr, "10.101.1.0/24")
    wait_gone(bird, "10.102.1.0/24")
    assert "10.101.0.0/24" in frr.received_routes()
    print("  withdrawals seen both ways, the other routes stay")
    frr.shutdown_neighbor(A_IP)
    bird.wait_down(B_IP, 15)
    wait_gone(bird, "10.102.0.0/24")
    frr.enable_neighbor(A_IP)
    bird.wait_established(B_IP, 40)
    wait_route(bird, "10.102.0.0/24", med=22)
    bird.shutdown_neighbor(B_IP)
    frr.wait_down(A_IP, 15)
    bird.enable_neighbor(B_IP)
    frr.wait_established(A_IP, 40)
    wait_route(frr, "10.101.0.0/24", med=11)
    print("  shutdown_neighbor/enable_neighbor on both sides: down, then back with routes")


def pair_gobgp_bird(env):
    bird = env.add(peers.Bird(env.a, env.wd("bird2"), A_IP, 65001,
                              [{"ip": B_IP, "asn": 65003, "password": "gg"}],
                              announce=[("10.101.0.0/24", {"med": 11})]))
    gob = env.add(peers.Gobgp(env.b, env.wd("gobgp"), B_IP, 65003,
                              [{"ip": A_IP, "asn": 65001, "password": "gg"}],
                              announce=[("10.103.0.0/24", {"med": 33, "as_path": [64990],
                                                           "communities": ["65003:3"]})]))
    bird.start()
    gob.start()
    print("  gobgpd gRPC on 127.0.0.1:%d in %s" % (gob.api_port, env.b))
    gob.wait_established(A_IP, 40)
    bird.wait_established(B_IP, 10)
    print("  gobgp<->bird Established (MD5)")
    r = wait_route(bird, "10.103.0.0/24", as_path=[65003, 64990], nexthop=B_IP, med=33,
                   communities=["65003:3"])
    print("  bird  got 10.103.0.0/24", short(r))
    r = wait_route(gob, "10.101.0.0/24", as_path=[65001], nexthop=A_IP, med=11)
    print("  gobgp got 10.101.0.0/24", short(r))
    assert "10.103.0.0/24" not in gob.received_routes(), "own route listed as received"
    gob.announce("10.103.1.0/24", med=7, communities=["7:7"])
    r = wait_route(bird, "10.103.1.0/24", as_path=[65003], med=7, communities=["7:7"])
    print("  bird  got 10.103.1.0/24 announced at run time", short(r))
    gob.announce("10.103.1.0/24", med=8)
    wait_route(bird, "10.103.1.0/24", med=8, communities=[])
    print("  re-announced with other attributes: replaced")
    gob.withdraw("10.103.1.0/24")
    wait_gone(bird, "10.103.1.0/24")
    print("  withdrawn")
    gob.shutdown_neighbor(A_IP)
    bird.wait_down(B_IP, 15)
    gob.enable_neighbor(A_IP)
    bird.wait_established(B_IP, 40)
    wait_route(bird, "10.103.0.0/24", med=33)
    print("  shutdown_neighbor/enable_neighbor: down, then back with routes")


def pair_exabgp_bird(env):
    bird = env.add(peers.Bird(env.a, env.wd("bird3"), A_IP, 65001,
                              [{"ip": B_IP, "asn": 65004}],
                              announce=[("10.101.0.0/24", {"med": 11})]))
    exa = env.add(peers.Exabgp(env.b, env.wd("exabgp"), B_IP, 65004,
                               [{"ip": A_IP, "asn": 65001, "hold": 30}],
                               announce=[("10.104.0.0/24", {"med": 44,
                                                            "communities": ["65004:4"]})]))
    bird.start()
    exa.start()
    exa.wait_established(A_IP, 40)
    bird.wait_established(B_IP, 10)
    print("  exabgp->bird Established")
    r = wait_route(bird, "10.104.0.0/24", as_path=[65004], nexthop=B_IP, med=44,
                   communities=["65004:4"])
    print("  bird   got 10.104.0.0/24", short(r))
    r = wait_route(exa, "10.101.0.0/24", as_path=[65001], nexthop=A_IP, med=11)
    print("  exabgp got 10.101.0.0/24", short(r))
    assert list(exa.received_routes()) == ["10.101.0.0/24"], exa.received_routes()
    exa.announce("10.104.1.0/24", med=9, as_path=[64980])
    wait_route(bird, "10.104.1.0/24", med=9, as_path=[65004, 64980])
    exa.withdraw("10.104.1.0/24")
    wait_gone(bird, "10.104.1.0/24")
    print("  runtime announce/withdraw through the API FIFO")

    # RFC 7606 classes, each a raw attribute
    # unknown optional transitive attribute: kept and passed on (BIRD shows it)
    exa.announce_raw("10.104.2.0/24", B_IP, [(0xF0, 0xC0, "deadbeef")])
    r = wait_route(bird, "10.104.2.0/24")
    assert any("deadbeef" in v.replace(":", "").replace(" ", "").lower()
               for v in r["other"].values()), r
    print("  unknown optional transitive attr 240 kept:", r["other"])
    # attribute discard: AGGREGATOR of the wrong length (RFC 7606 7.7)
    exa.announce_raw("10.104.3.0/24", B_IP, [(7, 0xC0, "0000fde9")])
    r = wait_route(bird, "10.104.3.0/24")
    assert not any("aggregator" in k for k in r["other"]), r
    print("  AGGREGATOR of 4 bytes: attribute discarded, route kept")
    # treat-as-withdraw: MED of 3 bytes (RFC 7606 7.4); the route is withdrawn if known
    exa.announce("10.104.4.0/24", med=1)
    wait_route(bird, "10.104.4.0/24", med=1)
    exa.announce_raw("10.104.4.0/24", B_IP, [(4, 0x80, "000001")])
    wait_gone(bird, "10.104.4.0/24")
    assert bird.established(B_IP)
    print("  MED of 3 bytes: treat-as-withdraw (the earlier route is gone), session stays up")
    # session reset: a NEXT_HOP-less... here ORIGIN flags wrong is treat-as-withdraw too;
    # a malformed AS_PATH segment count is treat-as-withdraw; an MP_REACH_NLRI that
    # cannot be parsed resets the session (RFC 7606 7.11 / 5.3)
    exa.announce_raw("10.104.5.0/24", B_IP, [(14, 0x80, "0001")])
    bird.wait_down(B_IP, 15)
    exa.withdraw("10.104.5.0/24")  # else ExaBGP sends it again on every new session
    bird.wait_established(B_IP, 40)
    wait_route(bird, "10.104.0.0/24", med=44)
    print("  malformed MP_REACH_NLRI: session reset; back once that route is withdrawn")
    exa.shutdown_neighbor(A_IP)
    exa.wait_down(A_IP, 15)
    bird.wait_down(B_IP, 15)
    exa.enable_neighbor(A_IP)
    exa.wait_established(A_IP, 40)
    wait_route(bird, "10.104.0.0/24", med=44)
    print("  shutdown_neighbor/enable_neighbor (config reload): down, then back with routes")


def pair_raw_bird(env):
    bird = env.add(peers.Bird(env.a, env.wd("bird4"), A_IP, 65001,
                              [{"ip": B_IP, "asn": 65005, "passive": True, "hold": 30}],
                              announce=[("10.101.0.0/24", {"med": 11})]))
    bird.start()
    cases = [
        ("bad marker", lambda s: s.send(peers.bgp_msg(peers.OPEN, peers.open_body(
            65005, 30, B_IP), marker=b"\xff" * 15 + b"\xfe")), (1, 1)),
        ("bad length (18)", lambda s: s.send(peers.bgp_msg(peers.KEEPALIVE, length=18)),
         (1, 2)),
        ("bad type 9", lambda s: s.send_msg(9), (1, 3)),
        ("version 5", lambda s: s.send_open(version=5), (2, 1)),
        ("wrong peer AS", lambda s: s.send_open(asn=65099), (2, 2)),
        ("router id 0.0.0.0", lambda s: s.send_open(router_id="0.0.0.0"), (2, 3)),
        ("hold time 2", lambda s: s.send_open(hold=2), (2, 6)),
    ]
    def attempt(act):
        # after each error BIRD waits (error wait time 1..5 s) and meanwhile closes new
        # connections without a word: retried until a NOTIFICATION comes back
        s = peers.RawBgp(env.b, B_IP, A_IP, local_asn=65005)
        try:
            s.connect(20)
            act(s)
            return s.expect_notification(10)
        except ConnectionError:
            return None
        finally:
            s.close()

    for name, act, want in cases:
        n = wait_until(lambda: attempt(act), 30, interval=0.5, what="NOTIFICATION for " + name)
        assert (n.code, n.subcode) == want, "%s: want %s got %s" % (name, want, n)
        print("  %-18s -> NOTIFICATION %d/%d data %s" % (name, n.code, n.subcode,
                                                         n.data.hex() or "-"))
    s = peers.RawBgp(env.b, B_IP, A_IP, local_asn=65005, hold=30)
    try:
        wait_until(lambda: _establish(s), 30, interval=0.5, what="raw session established")
        bird.wait_established(B_IP, 5)
        print("  raw OPEN accepted: Established; peer OPEN", s.peer_open["asn"],
              s.peer_open["hold"], s.peer_open["router_id"])
        s.send_update(["10.105.0.0/24", "10.105.1.128/25"], as_path=[64970], med=55,
                      communities=["65005:5"])
        r = wait_route(bird, "10.105.1.128/25", as_path=[65005, 64970], med=55,
                       nexthop=B_IP, communities=["65005:5"])
        assert "10.105.0.0/24" in bird.received_routes()
        print("  bird got the raw UPDATE", short(r))
        # what BIRD sends us: its route 10.101.0.0/24
        got = None
        deadline = time.monotonic() + 10
        while got is None and time.monotonic() < deadline:
            m = s.recv(10)
            assert m is not None, "bird closed the session"
            if m[0] == peers.UPDATE:
                u = peers.decode_update(m[1])
                if "10.101.0.0/24" in u["nlri"]:
                    got = u
        assert got and got["attrs"][4][1] == b"\0\0\0\x0b", got
        print("  raw speaker decoded bird's UPDATE: nlri %s MED %d" % (
            got["nlri"], int.from_bytes(got["attrs"][4][1], "big")))
        # an UPDATE whose attribute length overruns the message: 3/1 Malformed Attribute List
        s.send_msg(peers.UPDATE, b"\x00\x00\x00\x40" + peers.a_origin(0))
        n = s.expect_notification(10)
        assert (n.code, n.subcode) == (3, 1), n
        print("  UPDATE with attribute length past the end -> NOTIFICATION %d/%d"
              % (n.code, n.subcode))
    finally:
        s.close()


def _establish(s):
    s.close()
    s.connect(10)
    try:
        s.establish(5)
        return True
    except (ConnectionError, TimeoutError):
        return False


def short(r):
    return {k: r[k] for k in ("nexthop", "as_path", "med", "local_pref", "communities")}


class Env:
    def __init__(self):
        rid = secrets.token_hex(2)
        self.a, self.b = "pc%s-a" % rid, "pc%s-b" % rid
        self.va, self.vb = "pc%sa" % rid, "pc%sb" % rid
        self.tmp = tempfile.mkdtemp(prefix="peers-selfcheck-")
        os.chmod(self.tmp, 0o755)
        self.daemons = []
        self.made = []

    def up(self):
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb)
        sh("ip", "link", "set", self.va, "netns", self.a)
        sh("ip", "link", "set", self.vb, "netns", self.b)
        for ns, dev, ip in ((self.a, self.va, A_IP), (self.b, self.vb, B_IP)):
            sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def wd(self, name):
        return os.path.join(self.tmp, name)

    def add(self, d):
        self.daemons.append(d)
        return d

    def stop_daemons(self):
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning
                print("cleanup: stop %r: %s" % (d, e))
        self.daemons = []

    def down(self):
        self.stop_daemons()
        for ns in self.made:  # the veth goes with its namespace
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


PAIRS = {"bird-frr": pair_bird_frr, "gobgp-bird": pair_gobgp_bird,
         "exabgp-bird": pair_exabgp_bird, "raw-bird": pair_raw_bird}


def main():
    if os.geteuid() != 0:
        sys.exit("run as root")
    names = sys.argv[1:] or list(PAIRS)
    env = Env()
    failed = []
    try:
        env.up()
        print("namespaces %s %s, veth %s/%s, workdirs in %s" % (env.a, env.b, env.va, env.vb,
                                                                  env.tmp))
        for name in names:
            t0 = time.monotonic()
            print("== %s" % name)
            try:
                PAIRS[name](env)
                print("   ok (%.1f s)" % (time.monotonic() - t0))
            except Exception:  # noqa: BLE001 - report, go on with the next pair
                traceback.print_exc()
                for d in env.daemons:
                    print(d.log_tail(30))
                failed.append(name)
            finally:
                env.stop_daemons()
        left = [f for f in os.listdir(env.tmp)]
        assert not left, "files left in workdir: %s" % left
    finally:
        env.down()
    gone = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert env.a not in gone and env.b not in gone
    print("FAILED: %s" % failed if failed else "all pairs passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
