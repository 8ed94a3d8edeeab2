"""`veneerctl router routes ID`: the effective routing table."""

from conftest import parse_table, row_of

COLS = ["DESTINATION", "ORIGIN", "TARGET", "DISTANCE", "METRIC", "SELECTED"]
FIELDS = ["destination", "origin", "target", "distance", "metric", "selected"]


def test_router_routes(ctlm, api):
    ten = api.tenant()["id"]
    tok = api.token(ten)["token"]
    net = api.network(ten, cidr="10.0.0.0/16")
    nid, main = net["id"], net["main_router"]
    r2 = api.create("/v1/routers", {"network": nid, "name": "r2"})["id"]
    api.create("/v1/links", {"a": main, "b": r2})
    s1 = api.create("/v1/subnets", {"network": nid, "cidr": "10.0.1.0/24"})["id"]
    s2 = api.create("/v1/subnets", {"network": nid, "cidr": "10.0.2.0/24", "router": r2})["id"]

    # only the connected subnet so far (plus what r2 has, through the link)
    r = ctlm("router", "routes", main, token=tok)
    assert r.rc == 0 and r.err == "", r
    rows = parse_table(r.out, COLS)
    assert ["10.0.1.0/24", "connected", s1, "0", "0", "yes"] in rows, r
    assert ["10.0.2.0/24", "link", r2, "20", "1", "yes"] in rows, r

    # a static route to the connected prefix loses to it (distance 1 > 0): SELECTED no
    st = api.create("/v1/routes", {"router": main, "destination": "10.0.1.0/24",
                                   "target": "blackhole"})
    api.create("/v1/routes", {"router": main, "destination": "0.0.0.0/0", "target": r2})
    want = api.get("/v1/routers/%s/routes" % main)["items"]
    r = ctlm("router", "routes", main, token=tok)
    assert r.rc == 0 and r.err == "", r
    rows = parse_table(r.out, COLS)
    assert rows == [row_of(e, FIELDS) for e in want], (r, want)
    assert ["10.0.1.0/24", "connected", s1, "0", "0", "yes"] in rows, r
    assert ["10.0.1.0/24", "static", "blackhole", "1", "0", "no"] in rows, r
    assert ["0.0.0.0/0", "static", r2, "1", "0", "yes"] in rows, r
    assert rows[-1][0] == "0.0.0.0/0"  # longest prefix first
    assert any(e.get("route") == st["id"] for e in want)

    r = ctlm("-o", "json", "router", "routes", main, token=tok)
    assert r.rc == 0 and r.json() == want, r
    r = ctlm("-o", "id", "router", "routes", main, token=tok)
    assert r.rc == 0 and r.out == "".join(e["destination"] + "\n" for e in want), r
    assert r.lines.count("10.0.1.0/24") == 2

    # r2's view: its own subnet connected, main's through the link
    r = ctlm("router", "routes", r2)
    rows = parse_table(r.out, COLS)
    assert ["10.0.2.0/24", "connected", s2, "0", "0", "yes"] in rows, r
    assert ["10.0.1.0/24", "link", main, "20", "1", "yes"] in rows, r

    # a router without anything: just the header
    lone = api.network(ten, cidr="10.9.0.0/16")["main_router"]
    r = ctlm("router", "routes", lone)
    assert r.rc == 0 and r.out.split() == COLS and parse_table(r.out, COLS) == [], r
    r = ctlm("-o", "json", "router", "routes", lone)
    assert r.rc == 0 and r.json() == [], r
    r = ctlm("-o", "id", "router", "routes", lone)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
