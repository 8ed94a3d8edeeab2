r"""Hostile BGP input at the virtual router: RFC 7606 error classes, header and OPEN errors,
max-prefix, the UPDATE rate limit, TCP-MD5, GTSM, and ports without routing.

  tenant T, network 10.0.0.0/16, router main (AS 64512, 10.0.1.1 on subnet A)
                            A 10.0.1.0/24
     |        |        |        |        |        |        |        |
    exa      raw      rst       mp      md5      gtsm    plain   (all routing but plain,
   (h2)     (h1)     (h1)     (h1)     (h2)     (h1)     (h1)     source_dest_check off)
  ExaBGP   RawBgp   RawBgp   RawBgp   RawBgp   RawBgp   RawBgp
  AS65004  AS65010  AS65010  AS65010  AS65010  AS65010
  20 good  5 good   peer_asn          bgp.     bgp.ttl_
  + raw    + hand-  65010;   rate     password security
  attrs    built    resets,  limit,
           attrs    header,  max-
                    OPEN     prefix

  exa:   a healthy feed (10.60.0-19.0/24), then per RFC 7606 class one UPDATE whose
         raw attribute is broken (10.61.N.0/24): treat-as-withdraw leaves (or takes) the
         prefix out, attribute-discard installs it without the broken attribute; the 20
         stay installed and the session stays up (same `since`, no flap) throughout.
  raw:   what ExaBGP will not send (NEXT_HOP errors, missing mandatory attributes,
         duplicates, lengths past the attribute block), same rules, over a background feed.
  rst:   session-reset classes (MP_REACH errors, unknown well-known attribute, bad fields),
         header errors and OPEN errors, each answered with the exact NOTIFICATION.
  mp:    network import_policy update_rate 20/s burst 5: 100 UPDATEs take >= 4.75 s and
         none is lost; then bgp.max_prefix 5 by PATCH: the 6th prefix ends the session with
         Cease/1 and the routes go.
  md5:   the right TCP-MD5 key establishes, none or a wrong one never connects.
  gtsm:  TTL 255 establishes, TTL < 255 never does (the agent leaves the TTL alone).
  plain: no routing: its SYNs never reach routerd and no session exists for it.
"""

import struct
import time

import pytest

from peers import (KEEPALIVE, OPEN, UPDATE, Exabgp, Notification, RawBgp, raw_established,
                   a_as_path, a_communities, a_med, a_next_hop, a_origin, attr, bgp_msg,
                   open_body, prefix_bytes, update_body)
from topolab import wait_until

LAB_HOSTS = 2
ASN = 64512
GW = "10.0.1.1"
EXA_ASN = 65004
RAW_ASN = 65010
HEALTHY = ["10.60.%d.0/24" % i for i in range(20)]
RAW_BG = ["10.62.%d.0/24" % i for i in range(5)]
MD5_KEY = "s3cret-key"


@pytest.fixture(scope="module")
def topo(lab):
    t = lab.tenant()
    net = lab.network(t, "10.0.0.0/16")
    sa = lab.subnet(net, "10.0.1.0/24")

    def routing(host, name, bgp=None):
        kw = {"routing": True, "source_dest_check": False}
        if bgp is not None:
            kw["bgp"] = bgp
        return lab.vm(lab.port(sa, host, **kw), name)

    vms = {
        "exa": routing("h2", "exa"),
        "raw": routing("h1", "raw"),
        "rst": routing("h1", "rst", {"peer_asn": RAW_ASN}),
        "mp": routing("h1", "mp"),
        "md5": routing("h2", "md5", {"password": MD5_KEY}),
        "gtsm": routing("h1", "gtsm", {"ttl_security": True}),
        "plain": lab.vm(lab.port(sa, "h1"), "plain"),
    }
    exa = Exabgp(vms["exa"].ns, lab.peer_dir("exa"), vms["exa"].ip, EXA_ASN,
                 neighbors=[{"ip": GW, "asn": ASN}], announce=HEALTHY)
    raws = []
    try:
        exa.start()
        yield {"net": net, "sa": sa, "vms": vms, "exa": exa, "raws": raws,
               "router": net["main_router"]}
    finally:
        for r in raws:
            r.close()
        exa.stop()


# --- views ------------------------------------------------------------------------------------

def session(lab, topo, name):
    return lab.bgp_session(topo["router"], topo["vms"][name].id)


def learned(lab, topo, name):
    """{prefix: learned route} announced by that VM's port."""
    items = lab.api.get("/v1/routers/%s/bgp/routes?port=%s" % (topo["router"],
                                                                topo["vms"][name].id))["items"]
    return {r["prefix"]: r for r in items}


def installed(lab, topo, name):
    """Prefixes the effective table has from that VM's port (origin bgp, selected)."""
    port = topo["vms"][name].id
    return {r["destination"] for r in lab.api.get("/v1/routers/%s/routes" % topo["router"])
            ["items"] if r["origin"] == "bgp" and r["target"] == port and r["selected"]}


def rd_session(lab, topo, name):
    """routerd's own view of the session (veneer-lab routerd status): counters."""
    port = topo["vms"][name].id
    for s in lab.agent_ctl("rd", "status")["sessions"]:
        if s["port"] == port:
            return s
    return None


def wait_installed(lab, topo, name, prefixes, timeout=30):
    want = set(prefixes)
    wait_until(lambda: want <= installed(lab, topo, name), timeout,
               what="%s installed from %s" % (sorted(want)[:3], name))


def wait_established(lab, topo, name, timeout=30):
    return lab.wait_bgp_established(topo["router"], topo["vms"][name].id, timeout)


def raw_session(topo, name, **kw):
    """A RawBgp from that VM to the gateway, Established (peers.raw_established)."""
    r = raw_established(topo["vms"][name], GW, RAW_ASN, **kw)
    topo["raws"].append(r)
    return r


def std_attrs(nexthop, asn=RAW_ASN):
    return [a_origin(0), a_as_path([asn]), a_next_hop(nexthop)]


# --- the healthy feed ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exa_up(topo, lab):
    exa = topo["exa"]
    exa.wait_established(GW, timeout=60)
    wait_installed(lab, topo, "exa", HEALTHY, 60)
    s = wait_established(lab, topo, "exa")
    return {"since": s["since"], "events": _exa_updown(topo)}


def _exa_updown(topo):
    """ExaBGP's up/down events for its neighbor so far."""
    return [m["neighbor"]["state"] for m in topo["exa"]._messages()
            if m.get("type") == "state" and m["neighbor"].get("state") in ("up", "down")]


def exa_unharmed(lab, topo, exa_up):
    """The healthy feed is whole and the session never flapped."""
    assert set(HEALTHY) <= installed(lab, topo, "exa")
    s = session(lab, topo, "exa")
    assert (s["state"], s["since"]) == ("established", exa_up["since"]), s
    assert _exa_updown(topo) == exa_up["events"]


def test_healthy_feed_installed(topo, lab, exa_up):
    got = learned(lab, topo, "exa")
    for p in HEALTHY:
        r = got[p]
        assert (r["status"], r["selected"], r["nexthop"], r["as_path"]) == \
            ("accepted", True, topo["vms"]["exa"].ip, [EXA_ASN]), r
    exa_unharmed(lab, topo, exa_up)


# --- RFC 7606 via ExaBGP raw attributes --------------------------------------------------------

AS_EXA = struct.pack("!I", EXA_ASN).hex()

# name: (attributes, outcome, announce it correctly first)
EXA_CASES = {
    # treat-as-withdraw (RFC 7606 2, 7.1-7.4, 7.8, RFC 7607)
    "origin_value": ([(1, 0x40, "05")], "withdraw", True),
    "origin_length": ([(1, 0x40, "0000")], "withdraw", False),
    "origin_flags": ([(1, 0xC0, "00")], "withdraw", True),
    "as_path_segment_type": ([(2, 0x40, "0501" + AS_EXA)], "withdraw", False),
    "as_path_segment_overrun": ([(2, 0x40, "0202" + AS_EXA)], "withdraw", True),
    "as_path_zero_count": ([(2, 0x40, "0200" + "0201" + AS_EXA)], "withdraw", False),
    "as_path_as0": ([(2, 0x40, "0202" + AS_EXA + "00000000")], "withdraw", True),
    "med_length": ([(4, 0x80, "000001")], "withdraw", False),
    "med_flags": ([(4, 0x40, "00000001")], "withdraw", False),
    "communities_length": ([(8, 0xC0, "fdec0001ff")], "withdraw", True),
    "communities_empty": ([(8, 0xC0, "")], "withdraw", False),
    "large_communities_length": ([(32, 0xC0, "00" * 11)], "withdraw", False),
    # attribute discard (RFC 7606 7.6, 7.7, RFC 6793 / 7607)
    "atomic_aggregate_length": ([(6, 0x40, "01")], "discard", False),
    "aggregator_length": ([(7, 0xC0, AS_EXA)], "discard", False),
    "aggregator_as0": ([(7, 0xC0, "00000000" + "0a000001")], "discard", True),
    "aggregator_flags": ([(7, 0x40, AS_EXA + "0a000001")], "discard", False),
    "as4_path_on_as4_session": ([(17, 0xC0, "0201" + "0000fff0")], "discard", False),
    # unrecognized optional attributes: not errors at all (RFC 4271 5)
    "unknown_optional_transitive": ([(0xF0, 0xC0, "abcd")], "keep", False),
    "unknown_optional_nontransitive": ([(0xF1, 0x80, "abcd")], "keep", False),
}
EXA_PREFIX = {name: "10.61.%d.0/24" % i for i, name in enumerate(EXA_CASES)}
_marker = [0]


def exa_marker(topo, lab):
    """A fresh healthy prefix announced after the UPDATE under test and waited for: the
    session handles UPDATEs in order, so the one before it has been handled too."""
    _marker[0] += 1
    p = "10.63.%d.0/24" % _marker[0]
    topo["exa"].announce(p)
    wait_installed(lab, topo, "exa", [p])
    return p


@pytest.mark.parametrize("case", list(EXA_CASES))
def test_rfc7606_exabgp(topo, lab, exa_up, case):
    attrs, outcome, prior = EXA_CASES[case]
    pfx = EXA_PREFIX[case]
    exa = topo["exa"]
    if prior:
        exa.announce(pfx, med=5)
        wait_installed(lab, topo, "exa", [pfx])
    before = rd_session(lab, topo, "exa")
    # a MED given as text would be the MED ExaBGP sends (one attribute per type)
    med = None if any(a[0] == 4 for a in attrs) else 7
    exa.announce_raw(pfx, None, attrs, med=med)
    exa_marker(topo, lab)
    after = rd_session(lab, topo, "exa")
    tw = after["treat_as_withdraw"] - before["treat_as_withdraw"]
    disc = after["attrs_discarded"] - before["attrs_discarded"]
    got = learned(lab, topo, "exa")
    if outcome == "withdraw":
        assert (tw, disc) == (1, 0), (before, after)
        assert pfx not in got, got.get(pfx)
        assert pfx not in installed(lab, topo, "exa")
    else:
        assert (tw, disc) == ((0, 1) if outcome == "discard" else (0, 0)), (before, after)
        wait_until(lambda: learned(lab, topo, "exa").get(pfx, {}).get("med") == 7, 10,
                   what="%s re-learned with med 7" % pfx)
        r = learned(lab, topo, "exa")[pfx]
        # the good attributes are intact; an AS4_PATH on a 4-octet session changed nothing
        assert (r["status"], r["selected"], r["as_path"], r["origin"], r["med"]) == \
            ("accepted", True, [EXA_ASN], "igp", 7), r
        assert pfx in installed(lab, topo, "exa")
    exa_unharmed(lab, topo, exa_up)


# --- RFC 7606 with hand-built UPDATEs over a healthy RawBgp session -----------------------------

def _nh(vm):
    return a_next_hop(vm.ip)


RAW_CASES = {
    # treat-as-withdraw
    "next_hop_length": (lambda vm: [a_origin(0), a_as_path([RAW_ASN]),
                                    attr(3, bytes(5))], "withdraw"),
    "next_hop_zero": (lambda vm: std_attrs("0.0.0.0"), "withdraw"),
    "next_hop_multicast": (lambda vm: std_attrs("224.0.0.5"), "withdraw"),
    "next_hop_flags": (lambda vm: [a_origin(0), a_as_path([RAW_ASN]),
                                   attr(3, bytes(4), flags=0xC0)], "withdraw"),
    "missing_next_hop": (lambda vm: [a_origin(0), a_as_path([RAW_ASN])], "withdraw"),
    "missing_origin": (lambda vm: [a_as_path([RAW_ASN]), _nh(vm)], "withdraw"),
    "missing_as_path": (lambda vm: [a_origin(0), _nh(vm)], "withdraw"),
    "attr_length_past_block": (lambda vm: std_attrs(vm.ip) + [b"\xc0\x08\x08\xfd\xec\x00\x01"],
                               "withdraw"),
    "attr_header_truncated": (lambda vm: std_attrs(vm.ip) + [b"\xc0\x08"], "withdraw"),
    # duplicates: the first is kept, the later discarded (RFC 7606 3.g)
    "duplicate_communities": (lambda vm: std_attrs(vm.ip) + [a_communities(["65010:1"]),
                                                             a_communities(["65010:2"])],
                              "discard"),
    "duplicate_origin": (lambda vm: [a_origin(0), a_as_path([RAW_ASN]), _nh(vm),
                                     a_origin(2)], "discard"),
    "duplicate_med": (lambda vm: std_attrs(vm.ip) + [a_med(11), a_med(12)], "discard"),
}
RAW_PREFIX = {name: "10.64.%d.0/24" % i for i, name in enumerate(RAW_CASES)}


@pytest.fixture(scope="module")
def raw_feed(topo, lab):
    vm = topo["vms"]["raw"]
    r = raw_session(topo, "raw", hold=0)
    r.send_update(nlri=RAW_BG, nexthop=vm.ip, communities=["65010:9"])
    wait_installed(lab, topo, "raw", RAW_BG)
    s = wait_established(lab, topo, "raw")
    return {"raw": r, "since": s["since"], "n": [0]}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_rfc7606_raw(topo, lab, exa_up, raw_feed, case):
    build, outcome = RAW_CASES[case]
    vm = topo["vms"]["raw"]
    r = raw_feed["raw"]
    pfx = RAW_PREFIX[case]
    # announced correctly first: a treat-as-withdraw must take it out again
    r.send_update(nlri=[pfx], nexthop=vm.ip, med=1)
    wait_installed(lab, topo, "raw", [pfx])
    before = rd_session(lab, topo, "raw")
    r.send_msg(UPDATE, update_body(nlri=[pfx], attrs=build(vm)))
    raw_feed["n"][0] += 1
    mark = "10.65.%d.0/24" % raw_feed["n"][0]
    r.send_update(nlri=[mark], nexthop=vm.ip)
    wait_installed(lab, topo, "raw", [mark])
    after = rd_session(lab, topo, "raw")
    tw = after["treat_as_withdraw"] - before["treat_as_withdraw"]
    disc = after["attrs_discarded"] - before["attrs_discarded"]
    got = learned(lab, topo, "raw")
    if outcome == "withdraw":
        assert (tw, disc) == (1, 0), (before, after)
        assert pfx not in got, got.get(pfx)
        assert pfx not in installed(lab, topo, "raw")
    else:
        assert (tw, disc) == (0, 1), (before, after)
        rt = got[pfx]
        assert (rt["status"], rt["selected"], rt["as_path"]) == ("accepted", True,
                                                                 [RAW_ASN]), rt
        # the first of the duplicates is what counts
        first = {"duplicate_communities": ("communities", ["65010:1"]),
                 "duplicate_origin": ("origin", "igp"),
                 "duplicate_med": ("med", 11)}[case]
        assert rt[first[0]] == first[1], rt
    # the background feed of this session, and the session, are untouched
    assert set(RAW_BG) <= installed(lab, topo, "raw")
    s = session(lab, topo, "raw")
    assert (s["state"], s["since"]) == ("established", raw_feed["since"]), s
    assert r.sock is not None and not r.closed(timeout=0.05)
    exa_unharmed(lab, topo, exa_up)


# --- session-reset classes: the exact NOTIFICATION, the session's routes gone ---------------------

def _mp_reach(nh_len=4, nlri=b"\x18\x0a\x66\x00", value=None):
    if value is None:
        value = struct.pack("!HBB", 1, 1, nh_len) + bytes([10, 0, 1, 9] + [0] * (nh_len - 4)) \
            + b"\x00" + nlri
    return attr(14, value, flags=0x80)


def _mp_unreach_past_block():
    # claims 10 octets of value, 3 remain: an MP attribute cut short resets (RFC 7606 4/5.3)
    return b"\x80\x0f\x0a" + struct.pack("!HB", 1, 1)


RESET_CASES = {
    # name: (UPDATE body builder(vm), code, subcode, data builder(body) or bytes)
    "unknown_well_known": (
        lambda vm: update_body(["10.66.1.0/24"], attrs=std_attrs(vm.ip) +
                               [attr(0xF2, b"\xab\xcd", flags=0x40)]),
        3, 2, b"\x40\xf2\x02\xab\xcd"),
    "mp_reach_next_hop_length": (
        lambda vm: update_body(attrs=[a_origin(0), a_as_path([RAW_ASN]),
                                      _mp_reach(nh_len=16)]),
        3, 9, bytes(_mp_reach(nh_len=16))),
    "mp_reach_truncated": (
        lambda vm: update_body(attrs=[a_origin(0), a_as_path([RAW_ASN]),
                                      _mp_reach(value=b"\x00\x01")]),
        3, 9, bytes(_mp_reach(value=b"\x00\x01"))),
    "mp_reach_bad_prefix": (
        lambda vm: update_body(attrs=[a_origin(0), a_as_path([RAW_ASN]),
                                      _mp_reach(nlri=b"\x21\x0a\x66\x00\x00\x00")]),
        3, 9, bytes(_mp_reach(nlri=b"\x21\x0a\x66\x00\x00\x00"))),
    "mp_reach_duplicate": (
        lambda vm: update_body(attrs=[a_origin(0), a_as_path([RAW_ASN]), _mp_reach(),
                                      _mp_reach()]),
        3, 1, b""),
    "mp_unreach_past_block": (
        lambda vm: update_body(attrs=[_mp_unreach_past_block()]), 3, 1, b""),
    "withdrawn_length_overrun": (
        lambda vm: struct.pack("!H", 200) + prefix_bytes("10.62.0.0/24"), 3, 1, b""),
    "total_attr_length_overrun": (
        lambda vm: b"\x00\x00" + struct.pack("!H", 500) + b"".join(std_attrs(vm.ip)),
        3, 1, b""),
    "nlri_prefix_too_long": (
        lambda vm: update_body(attrs=std_attrs(vm.ip)) + b"\x21\x0a\x66\x00\x00\x00",
        3, 10, b""),
}


def _rst_gone(lab, topo):
    return not learned(lab, topo, "rst") and not installed(lab, topo, "rst")


@pytest.mark.parametrize("case", list(RESET_CASES))
def test_rfc7606_session_reset(topo, lab, exa_up, case):
    build, code, sub, data = RESET_CASES[case]
    vm = topo["vms"]["rst"]
    r = raw_session(topo, "rst")
    bg = ["10.67.%d.0/24" % i for i in range(3)]
    r.send_update(nlri=bg, nexthop=vm.ip)
    wait_installed(lab, topo, "rst", bg)
    r.send_msg(UPDATE, build(vm))
    assert r.expect_notification() == Notification(code, sub, data)
    assert r.closed()
    r.close()
    wait_until(lambda: _rst_gone(lab, topo), 15, what="rst's routes gone after the reset")
    s = session(lab, topo, "rst")
    assert s["state"] != "established" and s["last_error"].startswith("sent UPDATE"), s
    exa_unharmed(lab, topo, exa_up)


# --- header and OPEN errors (RFC 4271 6.1, 6.2; RFC 6608; RFC 7607) ----------------------------

def _open(**kw):
    a = dict(asn=RAW_ASN, hold=90, router_id="10.0.1.250")
    a.update(kw)
    return open_body(**a)


HEADER_OPEN_CASES = {
    "marker": (lambda: bgp_msg(OPEN, _open(), marker=b"\x00" * 16), 1, 1, b""),
    "length_18": (lambda: bgp_msg(KEEPALIVE, length=18), 1, 2, b"\x00\x12"),
    "length_4097": (lambda: bgp_msg(UPDATE, bytes(40), length=4097), 1, 2, b"\x10\x01"),
    "keepalive_length_20": (lambda: bgp_msg(KEEPALIVE, b"\x00"), 1, 2, b"\x00\x14"),
    "open_too_short": (lambda: bgp_msg(OPEN, b"\x04" * 5), 1, 2, b"\x00\x18"),
    "update_too_short": (lambda: bgp_msg(UPDATE, b"\x00"), 1, 2, b"\x00\x14"),
    "type_0": (lambda: bgp_msg(0), 1, 3, b"\x00"),
    "type_200": (lambda: bgp_msg(200), 1, 3, b"\xc8"),
    "version_3": (lambda: bgp_msg(OPEN, _open(version=3)), 2, 1, b"\x00\x04"),
    "version_5": (lambda: bgp_msg(OPEN, _open(version=5)), 2, 1, b"\x00\x04"),
    "peer_as_not_configured": (lambda: bgp_msg(OPEN, _open(asn=RAW_ASN + 1)), 2, 2, b""),
    "peer_as_zero": (lambda: bgp_msg(OPEN, _open(asn=0)), 2, 2, b""),
    "hold_1": (lambda: bgp_msg(OPEN, _open(hold=1)), 2, 6, b""),
    "hold_2": (lambda: bgp_msg(OPEN, _open(hold=2)), 2, 6, b""),
    "bgp_id_0": (lambda: bgp_msg(OPEN, _open(router_id="0.0.0.0")), 2, 3, b""),
    "optional_parameter_auth": (lambda: bgp_msg(OPEN, _open(opt_params=b"\x01\x02\xab\xcd")),
                                2, 4, b""),
    "update_in_opensent": (lambda: bgp_msg(UPDATE, update_body()), 5, 1, b""),
    "keepalive_in_opensent": (lambda: bgp_msg(KEEPALIVE), 5, 1, b""),
}


@pytest.mark.parametrize("case", list(HEADER_OPEN_CASES))
def test_header_and_open_errors(topo, lab, exa_up, case):
    build, code, sub, data = HEADER_OPEN_CASES[case]
    vm = topo["vms"]["rst"]

    def attempt():
        r = RawBgp(vm.ns, vm.ip, GW, local_asn=RAW_ASN)
        try:
            r.connect(timeout=5)
            r.send(build())
            n = r.expect_notification(timeout=5)
        finally:
            r.close()
        return n
    # a connection can meet the previous one still closing in routerd: retried
    n = wait_until(attempt, 20, interval=0.5, what="NOTIFICATION for %s" % case)
    assert n == Notification(code, sub, data)
    s = session(lab, topo, "rst")
    assert s["state"] != "established", s
    wait_until(lambda: (session(lab, topo, "rst")["last_error"] or "").startswith("sent "), 10,
               what="the error reported")
    exa_unharmed(lab, topo, exa_up)


def test_valid_open_after_errors(topo, lab):
    """The port is not punished for the errors above: a correct OPEN still establishes."""
    r = raw_session(topo, "rst")
    assert r.peer_open["asn"] == ASN
    wait_established(lab, topo, "rst")
    r.close()


# --- rate limit and max-prefix -----------------------------------------------------------------

def _rd_applied(lab, revision):
    try:
        return lab.api.get("/v1/hosts/rd")["agent"].get("applied_revision", 0) >= revision
    except AssertionError:
        return None


RATE, BURST, N_UPDATES = 20, 5, 100


@pytest.fixture
def slow_policy(topo, lab):
    """The network's import policy at update_rate 20/s, update_burst 5, for one test."""
    net = topo["net"]
    upd = lab.api.patch("/v1/networks/" + net["id"],
                        {"import_policy": {"update_rate": RATE, "update_burst": BURST}})
    assert (upd["import_policy"]["update_rate"], upd["import_policy"]["update_burst"]) == \
        (RATE, BURST)
    try:
        wait_until(lambda: _rd_applied(lab, upd["revision"]), 15,
                   what="routerd has the policy")
        yield
    finally:
        lab.api.patch("/v1/networks/" + net["id"], {"import_policy": None})


def _rate_run(topo, lab, third):
    """100 one-prefix UPDATEs written back to back on a fresh session of `mp`; returns the
    seconds until routerd had taken them all and (seconds, updates_in) samples on the way.
    Checks that none was lost nor the session reset, then closes it."""
    vm = topo["vms"]["mp"]
    r = raw_session(topo, "mp", hold=0)
    pfx = ["10.%d.%d.%d/32" % (third, i // 250, i % 250 + 1) for i in range(N_UPDATES)]
    msgs = b"".join(bgp_msg(UPDATE, update_body([p], attrs=std_attrs(vm.ip))) for p in pfx)
    samples = []

    def done():
        c = rd_session(lab, topo, "mp")["updates_in"]
        samples.append((round(time.monotonic() - t0, 2), c))
        return c >= N_UPDATES
    t0 = time.monotonic()
    r.send(msgs)
    wait_until(done, 30, interval=0.05, what="all %d UPDATEs taken" % N_UPDATES)
    took = time.monotonic() - t0
    # nothing lost, nothing reset: every prefix accepted on the same session
    wait_until(lambda: set(pfx) <= installed(lab, topo, "mp"), 15,
               what="all %d prefixes installed" % N_UPDATES)
    assert session(lab, topo, "mp")["state"] == "established"
    rs = rd_session(lab, topo, "mp")
    assert (rs["state"], rs["updates_in"], rs["accepted"], rs["last_error"]) == \
        ("Established", N_UPDATES, N_UPDATES, ""), rs
    r.close()
    wait_until(lambda: not learned(lab, topo, "mp"), 15, what="mp's routes gone")
    return took, samples


def test_update_rate_limit(topo, lab, exa_up, slow_policy):
    """The long-run rate: beyond the burst, 20 UPDATEs a second, and none lost (5% of
    slack for the sampling)."""
    took, samples = _rate_run(topo, lab, 70)
    floor = (N_UPDATES - BURST) / RATE
    assert 0.95 * floor <= took < floor + 10, "took %.2fs for %.2fs: %s" % (took, floor,
                                                                          samples)
    exa_unharmed(lab, topo, exa_up)


def test_update_rate_limit_bucket_depth(topo, lab, exa_up, slow_policy):
    """The bucket's depth: at no moment has routerd handled more than burst + rate * t
    UPDATEs (2 of slack for sampling)."""
    took, samples = _rate_run(topo, lab, 73)
    over = [(t, c) for t, c in samples if c > BURST + RATE * t + 2]
    assert not over, "more UPDATEs handled than the bucket allows: %s" % over


def test_max_prefix(topo, lab, exa_up):
    vm = topo["vms"]["mp"]
    port = lab.api.patch("/v1/ports/" + vm.id, {"bgp": {"max_prefix": 5}})
    assert port["bgp"]["max_prefix"] == 5
    wait_until(lambda: _rd_applied(lab, port["revision"]), 15, what="routerd has max_prefix")
    pfx = ["10.71.%d.0/24" % i for i in range(6)]
    r = raw_session(topo, "mp")
    r.send_update(nlri=pfx[:5], nexthop=vm.ip)
    wait_installed(lab, topo, "mp", pfx[:5])
    assert session(lab, topo, "mp")["state"] == "established"
    r.send_update(nlri=pfx[5:], nexthop=vm.ip)
    assert r.expect_notification() == Notification(6, 1, b"")
    assert r.closed()
    r.close()
    wait_until(lambda: not learned(lab, topo, "mp") and not installed(lab, topo, "mp"), 15,
               what="mp's routes gone after max-prefix")
    s = session(lab, topo, "mp")
    assert s["state"] != "established", s
    assert "maximum number of prefixes" in (s["last_error"] or ""), s
    # routerd itself lived through it (it once freed the route twice here)
    rs = rd_session(lab, topo, "mp")
    assert rs["state"] != "Established" and rs["accepted"] == 0, rs
    exa_unharmed(lab, topo, exa_up)


# --- TCP-MD5 and GTSM ----------------------------------------------------------------------------

def _never_past_opensent(lab, topo, name, seconds):
    """Polls for `seconds`: the router must never have taken an OPEN from the peer (its
    session stays before OpenConfirm) in that time."""
    end = time.monotonic() + seconds
    states = set()
    while time.monotonic() < end:
        s = session(lab, topo, name)
        states.add(s and s["state"])
        assert s is None or s["state"] not in ("openconfirm", "established"), s
        time.sleep(0.2)
    return states


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_md5_without_the_key_gets_nothing(topo, lab, key):
    vm = topo["vms"]["md5"]
    r = RawBgp(vm.ns, vm.ip, GW, local_asn=RAW_ASN, md5=key)
    try:
        with pytest.raises((OSError, AssertionError)):
            r.connect(timeout=4)
    finally:
        r.close()
    s = session(lab, topo, "md5")
    assert s is None or s["state"] != "established", s


def test_md5_with_the_key_establishes(topo, lab):
    assert lab.api.get("/v1/ports/" + topo["vms"]["md5"].id)["bgp"]["password_set"] is True
    r = raw_session(topo, "md5", md5=MD5_KEY)
    wait_established(lab, topo, "md5")
    r.close()


@pytest.mark.parametrize("ttl", [64, 254])
def test_gtsm_low_ttl_gets_no_session(topo, lab, ttl):
    vm = topo["vms"]["gtsm"]
    r = RawBgp(vm.ns, vm.ip, GW, local_asn=RAW_ASN, ttl=ttl)
    try:
        try:
            r.connect(timeout=3)
            r.send_open()
            r.send_keepalive()
        except (OSError, AssertionError):
            pass
        _never_past_opensent(lab, topo, "gtsm", 4)
    finally:
        r.close()


def test_gtsm_ttl_255_establishes(topo, lab):
    r = raw_session(topo, "gtsm", ttl=255)
    wait_established(lab, topo, "gtsm")
    r.send_update(nlri=["10.72.0.0/24"], nexthop=topo["vms"]["gtsm"].ip)
    wait_installed(lab, topo, "gtsm", ["10.72.0.0/24"])
    r.close()


# --- no routing, no session ----------------------------------------------------------------------

def test_port_without_routing_gets_no_session(topo, lab):
    plain = topo["vms"]["plain"]
    before = lab.drops("h1").get("bgp_refused", 0)
    r = RawBgp(plain.ns, plain.ip, GW, local_asn=RAW_ASN)
    try:
        with pytest.raises((OSError, AssertionError)):
            r.connect(timeout=3)
    finally:
        r.close()
    wait_until(lambda: lab.drops("h1").get("bgp_refused", 0) > before, 10,
               what="the refused SYN counted")
    sessions = lab.api.get("/v1/routers/%s/bgp" % topo["router"])["sessions"]
    assert plain.id not in [s["port"] for s in sessions]
    assert plain.id not in [s["port"] for s in lab.agent_ctl("rd", "status")["sessions"]]
