"""Virtual IP claims through veneerctl (docs/veneerctl.md): `port claim ID IP` (what it sends,
its usage errors, its answer in every output format and its refusals with their exit codes),
`vips` in `port show`, and `claim list` with its filters against veneerd."""

import json

from conftest import parse_show, parse_table, row_of, show_pairs

CLAIM_COLS = ["ID", "AT", "IP", "PORT", "HOW", "RESULT", "REVISION", "REASON"]
CLAIM_FIELDS = ["id", "at", "ip", "port", "how", "result", "revision", "reason"]


def claim_rows(out):
    """The claim table: REASON is free text (last, may hold blanks); the rest aligned."""
    lines = out.splitlines()
    assert lines[0].split() == CLAIM_COLS, out
    starts = [lines[0].index(h) for h in CLAIM_COLS]
    rows = []
    for line in lines[1:]:
        assert line == line.rstrip(), line
        cells = line.split(None, 7)
        assert len(cells) == 8, line
        assert [line.index(c, starts[i]) for i, c in enumerate(cells)] == starts, \
            "not aligned: %r under %r" % (line, lines[0])
        rows.append(cells)
    return rows
PORT_CLAIM_COLS = ["ID", "NAME", "IP", "VIPS", "HOST"]


def test_port_claim_sends(ctl, capture):
    for args, path, body in (
            (["port", "claim", "port-1", "10.0.1.100"], "/v1/ports/port-1/claim",
             {"ip": "10.0.1.100"}),
            (["port", "claim", "--", "port-2", "10.0.1.7"], "/v1/ports/port-2/claim",
             {"ip": "10.0.1.7"}),
            (["claim", "list", "--network", "net-1", "--port", "port-1", "--ip", "10.0.1.100",
              "--result", "refused", "--how", "garp"],
             "/v1/claims?network=net-1&port=port-1&ip=10.0.1.100&result=refused&how=garp",
             None)):
        capture.requests.clear()
        if args[0] == "claim":
            capture.respond = lambda m, p, b: (200, b'{"items": []}')
        else:
            capture.respond = lambda m, p, b: (200, json.dumps(
                {"id": "port-1", "ip": "10.0.1.2", "vips": [b["ip"]]}).encode())
        r = ctl(*args, url=capture.url)
        assert r.rc == 0, r
        assert len(capture.requests) == 1, capture.requests
        req = capture.requests[0]
        assert (req["method"], req["path"], req["body"]) == (
            "GET" if args[0] == "claim" else "POST", path, body), req


def test_port_claim_usage_errors_send_nothing(ctl, capture):
    for args, word in ((["port", "claim"], "missing ID"),
                       (["port", "claim", "port-1"], "missing IP"),
                       (["port", "claim", "port-1", "10.0.1.1", "extra"], "unexpected"),
                       (["port", "claim", "port-1", "10.0.1.1", "--ip", "x"], "unknown option"),
                       (["port", "claim", "..", "10.0.1.1"], "bad ID"),
                       (["claim", "list", "--colour", "red"], "unknown option"),
                       (["claim", "list", "x"], "unexpected")):
        r = ctl(*args, url=capture.url)
        assert r.rc == 2 and word in r.err and r.out == "", (args, r)
    assert capture.requests == []
    r = ctl("port", "claim", "--help", url=capture.url)
    assert r.rc == 0 and "veneerctl port claim ID IP" in r.out, r
    r = ctl("claim", "--help", url=capture.url)
    assert r.rc == 0 and "claim list" in r.out and "--result" in r.out, r
    assert capture.requests == []


def test_claims_against_veneerd(ctl, api):
    ten = api.tenant()["id"]
    tok = api.token(ten)["token"]
    net = api.network(ten, cidr="10.0.0.0/16", token=tok)
    sub = api.create("/v1/subnets", {"network": net["id"], "cidr": "10.0.1.0/24"}, token=tok)
    p1 = api.create("/v1/ports", {"subnet": sub["id"], "name": "vm1",
                                  "claimable": ["10.0.1.96/27"]}, token=tok)
    p2 = api.create("/v1/ports", {"subnet": sub["id"], "name": "vm2",
                                  "claimable": ["10.0.1.96/27"]}, token=tok)

    # a claim prints the port with what it holds now
    r = ctl("port", "claim", p1["id"], "10.0.1.100", token=tok)
    assert r.rc == 0 and r.err == "", r
    assert parse_table(r.out, PORT_CLAIM_COLS) == [
        [p1["id"], "vm1", p1["ip"], "10.0.1.100", "-"]], r
    r = ctl("port", "claim", p1["id"], "10.0.1.101", token=tok)
    assert parse_table(r.out, PORT_CLAIM_COLS)[0][3] == "10.0.1.100,10.0.1.101", r
    r = ctl("-o", "json", "port", "claim", p2["id"], "10.0.1.100", token=tok)
    assert r.rc == 0 and r.json()["vips"] == ["10.0.1.100"], r
    assert r.json() == api.get("/v1/ports/" + p2["id"], token=tok)
    r = ctl("-o", "id", "port", "claim", p2["id"], "10.0.1.100", token=tok)
    assert (r.rc, r.out) == (0, p2["id"] + "\n"), r

    # show has every field, vips included
    r = ctl("port", "show", p1["id"], token=tok)
    assert r.rc == 0, r
    pairs = parse_show(r.out)
    assert ("vips", "10.0.1.101") in pairs, r
    assert pairs == show_pairs(api.get("/v1/ports/" + p1["id"], token=tok))

    # refusals: the API's error line, exit 1; a port not found: exit 4
    r = ctl("port", "claim", p2["id"], "10.0.1.1", token=tok)
    st, line = api.error_line("POST", "/v1/ports/%s/claim" % p2["id"], {"ip": "10.0.1.1"},
                              token=tok)
    assert st == 422 and "reserved" in line
    assert (r.rc, r.out, r.err) == (1, "", line), r
    r = ctl("port", "claim", p2["id"], "10.0.1.200", token=tok)
    assert r.rc == 1 and "422 not_claimable" in r.err and "(field: ip)" in r.err, r
    r = ctl("port", "claim", p2["id"], "10.0.1.300", token=tok)
    assert r.rc == 1 and "400 invalid_value" in r.err, r
    r = ctl("port", "claim", "port-0000000000000000", "10.0.1.100", token=tok)
    assert r.rc == 4 and "404 not_found" in r.err, r

    # the history, oldest first, in every format and with filters
    want = api.items("/v1/claims?network=%s" % net["id"], token=tok)
    assert [(x["port"], x["ip"], x["result"]) for x in want] == [
        (p1["id"], "10.0.1.100", "applied"), (p1["id"], "10.0.1.101", "applied"),
        (p2["id"], "10.0.1.100", "applied"), (p2["id"], "10.0.1.1", "refused"),
        (p2["id"], "10.0.1.1", "refused"),   # (error_line sent it once more)
        (p2["id"], "10.0.1.200", "refused")]
    r = ctl("claim", "list", "--network", net["id"], token=tok)
    assert r.rc == 0 and r.err == "", r
    rows = claim_rows(r.out)
    assert rows == [row_of(x, CLAIM_FIELDS) for x in want], r
    assert rows[2][5:] == ["applied", str(want[2]["revision"]), "taken from %s" % p1["id"]]
    assert rows[3][5:] == ["refused", "-", "reserved"], rows
    r = ctl("-o", "json", "claim", "list", "--port", p2["id"], "--result", "refused",
            token=tok)
    assert r.rc == 0 and [x["ip"] for x in r.json()] == ["10.0.1.1"] * 2 + ["10.0.1.200"], r
    r = ctl("-o", "id", "claim", "list", "--ip", "10.0.1.100", token=tok)
    assert r.rc == 0 and r.lines == [want[0]["id"], want[2]["id"]], r
    r = ctl("claim", "list", "--result", "won", token=tok)
    assert r.rc == 1 and "400 invalid_query" in r.err, r
    # another tenant sees none of it
    other = api.token(api.tenant()["id"])["token"]
    r = ctl("-o", "json", "claim", "list", token=other)
    assert r.rc == 0 and r.json() == [], r
