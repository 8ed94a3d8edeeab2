"""create / list / show / update / delete of every resource through veneerctl, in each output
format (table, json, id), with URL and token from the environment and from --url/--token.

Every CLI result is checked against the object read back directly through the API."""

import pytest

from conftest import (ID_RE, cell, parse_show, parse_table, row_of, show_pairs, uniq)

COLS = {
    "tenant": (["ID", "NAME", "CREATED"], ["id", "name", "created"]),
    "network": (["ID", "NAME", "CIDR", "VNID", "TENANT"],
                ["id", "name", "cidr", "vnid", "tenant"]),
    "router": (["ID", "NAME", "NETWORK", "ASN", "MAC", "MAIN"],
               ["id", "name", "network", "asn", "mac", "main"]),
    "link": (["ID", "NETWORK", "A", "B"], ["id", "network", "a", "b"]),
    "subnet": (["ID", "NAME", "NETWORK", "CIDR", "ROUTER", "GATEWAY"],
               ["id", "name", "network", "cidr", "router", "gateway_ip"]),
    "port": (["ID", "NAME", "SUBNET", "HOST", "IP", "MAC", "DEVICE", "STATE"],
             ["id", "name", "subnet", "host", "ip", "mac", "device", "state"]),
    "host": (["NAME", "ADDRESS", "ENCAP", "PREFIX", "STATE", "LAST_SEEN"],
             ["name", "address", "encap", "prefix", "state", "last_seen"]),
    "route": (["ID", "ROUTER", "DESTINATION", "TARGET", "TYPE"],
              ["id", "router", "destination", "target", "target_type"]),
}

PATH = {"tenant": "/v1/tenants", "network": "/v1/networks", "router": "/v1/routers",
        "link": "/v1/links", "subnet": "/v1/subnets", "port": "/v1/ports",
        "host": "/v1/hosts", "route": "/v1/routes"}
PREFIX = {"tenant": "ten", "network": "net", "router": "rtr", "link": "lnk",
          "subnet": "sub", "port": "port", "route": "rte"}


def idf(res):
    return "name" if res == "host" else "id"


def check_id(res, value):
    if res == "host":
        assert value and " " not in value
    else:
        assert ID_RE[PREFIX[res]].match(value), value


# --------------------------------------------------------------------------------------------
# Generic checks
# --------------------------------------------------------------------------------------------

def create3(ctl, api, res, argsets):
    """create in table, json and id output (one argument set each); returns the 3 objects as
    the API has them."""
    cols, fields = COLS[res]
    assert len(argsets) == 3
    objs = []
    # table: a one-row table with the resource's columns
    r = ctl(res, "create", *argsets[0])
    assert r.rc == 0 and r.err == "", r
    rows = parse_table(r.out, cols)
    assert len(rows) == 1, r
    key = rows[0][fields.index(idf(res))]
    check_id(res, key)
    obj = api.get("%s/%s" % (PATH[res], key))
    assert rows[0] == row_of(obj, fields), (r, obj)
    objs.append(obj)
    # json: the object, equal to what the API (and `show -o json`) has
    r = ctl("-o", "json", res, "create", *argsets[1])
    assert r.rc == 0 and r.err == "", r
    got = r.json()
    assert isinstance(got, dict), r
    check_id(res, got[idf(res)])
    obj = api.get("%s/%s" % (PATH[res], got[idf(res)]))
    assert got == obj, (r, obj)
    shown = ctl("-o", "json", res, "show", got[idf(res)])
    assert shown.rc == 0 and shown.err == "" and shown.json() == got, shown
    objs.append(obj)
    # id: exactly the id and a newline
    r = ctl("-o", "id", res, "create", *argsets[2])
    assert r.rc == 0 and r.err == "", r
    assert len(r.lines) == 1 and r.out == r.lines[0] + "\n", r
    check_id(res, r.lines[0])
    objs.append(api.get("%s/%s" % (PATH[res], r.lines[0])))
    ids = [o[idf(res)] for o in objs]
    assert len(set(ids)) == 3, ids
    return objs


def list3(ctl, api, res, args, query, must_hold):
    """list in the three formats, compared with the API's list under the same filters."""
    cols, fields = COLS[res]
    want = api.items(PATH[res] + query)
    want_ids = [o[idf(res)] for o in want]
    for i in must_hold:
        assert i in want_ids
    r = ctl(res, "list", *args)
    assert r.rc == 0 and r.err == "", r
    assert parse_table(r.out, cols) == [row_of(o, fields) for o in want], (r, want)
    r = ctl(res, "list", *args, "-o", "json")  # global option after VERB
    assert r.rc == 0 and r.err == "", r
    assert r.json() == want, r
    r = ctl("-o", "id", res, "list", *args)
    assert r.rc == 0 and r.err == "", r
    assert r.out == "".join(i + "\n" for i in want_ids), r
    return want


def show3(ctl, api, res, key):
    obj = api.get("%s/%s" % (PATH[res], key))
    r = ctl(res, "show", key)
    assert r.rc == 0 and r.err == "", r
    assert parse_show(r.out) == show_pairs(obj), (r, obj)
    r = ctl("--output", "json", res, "show", key)
    assert r.rc == 0 and r.err == "", r
    assert r.json() == obj, r
    r = ctl("-oid", res, "show", key)
    assert r.rc == 0 and r.err == "" and r.out == key + "\n", r
    return obj


def update3(ctl, api, res, keys, argsets, expect):
    """update one object per format; expect(i, obj) checks the change landed."""
    cols, fields = COLS[res]
    for i, (fmt, key, args) in enumerate(zip(("table", "json", "id"), keys, argsets)):
        r = ctl("-o", fmt, res, "update", key, *args)
        assert r.rc == 0 and r.err == "", r
        obj = api.get("%s/%s" % (PATH[res], key))
        expect(i, obj)
        if fmt == "table":
            assert parse_table(r.out, cols) == [row_of(obj, fields)], (r, obj)
        elif fmt == "json":
            assert r.json() == obj, (r, obj)
        else:
            assert r.out == key + "\n", r


def delete3(ctl, api, res, keys):
    """delete prints nothing at all in every format; the object is gone."""
    for fmt, key in zip(("table", "json", "id"), keys):
        r = ctl("-o", fmt, res, "delete", key)
        assert (r.rc, r.out, r.err) == (0, "", ""), r
        assert api.status("%s/%s" % (PATH[res], key)) == 404
        r = ctl(res, "show", key)
        assert r.rc == 4 and r.out == "", r


# --------------------------------------------------------------------------------------------
# Per resource
# --------------------------------------------------------------------------------------------

def test_tenant_crud(ctlm, api):
    names = [uniq("t") for _ in range(3)]
    objs = create3(ctlm, api, "tenant", [["--name", n] for n in names])
    assert [o["name"] for o in objs] == names
    ids = [o["id"] for o in objs]
    list3(ctlm, api, "tenant", [], "", ids)
    got = list3(ctlm, api, "tenant", ["--name", names[1]], "?name=" + names[1], [ids[1]])
    assert [o["id"] for o in got] == [ids[1]]
    for i in ids:
        show3(ctlm, api, "tenant", i)
    new = [uniq("r") for _ in range(3)]
    update3(ctlm, api, "tenant", ids, [["--name", n] for n in new],
            lambda i, o: o["name"] == new[i] or pytest.fail("name %r" % o))
    delete3(ctlm, api, "tenant", ids)


def test_network_crud(ctlm, api):
    ten = api.tenant()["id"]
    names = [uniq("net") for _ in range(3)]
    objs = create3(ctlm, api, "network", [
        ["--name", names[0], "--cidr", "10.1.0.0/16", "--tenant", ten],
        ["--name", names[1], "--cidr", "10.2.0.0/16", "--cidr", "10.3.0.0/16",
         "--tenant", ten],
        ["--tenant=" + ten, "--name=" + names[2], "--cidr=10.4.0.0/24"],
    ])
    assert [o["name"] for o in objs] == names
    assert [o["cidr"] for o in objs] == [["10.1.0.0/16"], ["10.2.0.0/16", "10.3.0.0/16"],
                                         ["10.4.0.0/24"]]
    assert all(o["tenant"] == ten for o in objs)
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "network", ["--tenant", ten], "?tenant=" + ten, ids)
    assert [o["id"] for o in got] == sorted(ids)
    got = list3(ctlm, api, "network", ["--name", names[2]], "?name=" + names[2], [ids[2]])
    assert [o["id"] for o in got] == [ids[2]]
    for i in ids:
        show3(ctlm, api, "network", i)
    new = uniq("net")
    update3(ctlm, api, "network", ids,
            [["--name", new], ["--cidr", "10.9.0.0/16"],
             ["--cidr", "10.5.0.0/16", "--cidr", "10.6.0.0/16", "--name", "x" + new]],
            lambda i, o: [
                lambda: (o["name"], o["cidr"]) == (new, ["10.1.0.0/16"]),
                lambda: o["cidr"] == ["10.9.0.0/16"] and o["name"] == names[1],
                lambda: (o["name"], o["cidr"]) == ("x" + new, ["10.5.0.0/16", "10.6.0.0/16"]),
            ][i]() or pytest.fail("update %d: %r" % (i, o)))
    delete3(ctlm, api, "network", ids)


def test_router_crud(ctlm, api):
    net = api.network(api.tenant()["id"])
    nid = net["id"]
    objs = create3(ctlm, api, "router", [
        ["--network", nid, "--name", "r1"],
        ["--network", nid, "--name", "r2", "--asn", "65001"],
        ["--network", nid, "--name", "r3", "--mac", "02:00:00:00:aa:01", "--asn", "4200000000"],
    ])
    assert [(o["name"], o["asn"], o["main"]) for o in objs] == [
        ("r1", 64512, False), ("r2", 65001, False), ("r3", 4200000000, False)]
    assert objs[2]["mac"] == "02:00:00:00:aa:01"
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "router", ["--network", nid], "?network=" + nid,
                ids + [net["main_router"]])
    assert len(got) == 4
    got = list3(ctlm, api, "router", ["--network", nid, "--name", "main"],
                "?network=%s&name=main" % nid, [net["main_router"]])
    assert len(got) == 1 and got[0]["main"] is True
    r = ctlm("router", "list", "--network", nid, "--name", "main")
    assert r.rc == 0 and parse_table(r.out, COLS["router"][0])[0][-1] == "yes", r
    for i in ids + [net["main_router"]]:
        show3(ctlm, api, "router", i)
    update3(ctlm, api, "router", ids,
            [["--name", "s1"], ["--asn", "65002"], ["--name", "s3", "--asn", "1"]],
            lambda i, o: [("s1", 64512), ("r2", 65002), ("s3", 1)][i] == (o["name"], o["asn"])
            or pytest.fail("update %d: %r" % (i, o)))
    delete3(ctlm, api, "router", ids)


def test_link_crud(ctlm, api):
    net = api.network(api.tenant()["id"])
    nid = net["id"]
    r1, r2, r3 = (api.create("/v1/routers", {"network": nid, "name": "r%d" % k})["id"]
                  for k in (1, 2, 3))
    objs = create3(ctlm, api, "link", [["--a", r1, "--b", r2], ["--a", r1, "--b", r3],
                                       ["--b", r3, "--a", r2]])
    assert [(o["a"], o["b"], o["network"]) for o in objs] == [
        (r1, r2, nid), (r1, r3, nid), (r2, r3, nid)]
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "link", ["--network", nid], "?network=" + nid, ids)
    assert len(got) == 3
    got = list3(ctlm, api, "link", ["--router", r3], "?router=" + r3, ids[1:])
    assert sorted(o["id"] for o in got) == sorted(ids[1:])
    for i in ids:
        show3(ctlm, api, "link", i)
    r = ctlm("link", "update", ids[0], "--a", r3)
    assert r.rc == 2 and r.out == "", r  # links cannot be changed: no update verb
    delete3(ctlm, api, "link", ids)


def test_subnet_crud(ctlm, api):
    net = api.network(api.tenant()["id"])
    nid, main = net["id"], net["main_router"]
    r2 = api.create("/v1/routers", {"network": nid, "name": "r2"})["id"]
    objs = create3(ctlm, api, "subnet", [
        ["--network", nid, "--cidr", "10.0.1.0/24"],
        ["--network", nid, "--cidr", "10.0.2.0/24", "--name", "web"],
        ["--network", nid, "--cidr", "10.0.3.0/28", "--router", r2, "--name", "db"],
    ])
    assert [(o["cidr"], o["router"], o["gateway_ip"], o["name"]) for o in objs] == [
        ("10.0.1.0/24", main, "10.0.1.1", None), ("10.0.2.0/24", main, "10.0.2.1", "web"),
        ("10.0.3.0/28", r2, "10.0.3.1", "db")]
    r = ctlm("subnet", "show", objs[0]["id"])
    assert ("name", "-") in parse_show(r.out), r  # null prints as -
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "subnet", ["--network", nid], "?network=" + nid, ids)
    assert len(got) == 3
    got = list3(ctlm, api, "subnet", ["--router", r2], "?router=" + r2, [ids[2]])
    assert len(got) == 1
    got = list3(ctlm, api, "subnet", ["--network", nid, "--name", "web"],
                "?network=%s&name=web" % nid, [ids[1]])
    assert len(got) == 1
    for i in ids:
        show3(ctlm, api, "subnet", i)
    update3(ctlm, api, "subnet", ids,
            [["--name", "one"], ["--router", r2], ["--router", main, "--name", "db2"]],
            lambda i, o: [("one", main), ("web", r2), ("db2", main)][i] ==
            (o["name"], o["router"]) or pytest.fail("update %d: %r" % (i, o)))
    delete3(ctlm, api, "subnet", ids)


def test_port_crud(ctlm, api):
    net = api.network(api.tenant()["id"])
    nid = net["id"]
    sub = api.create("/v1/subnets", {"network": nid, "cidr": "10.0.1.0/24"})["id"]
    host = api.create("/v1/hosts", {"name": uniq("h"), "address": "192.0.2.%d" % (
        next_host_octet())})["name"]
    objs = create3(ctlm, api, "port", [
        ["--subnet", sub],
        ["--subnet", sub, "--name", "web1", "--ip", "10.0.1.10", "--extra-ip", "10.0.1.11",
         "--extra-ip", "10.0.1.12", "--claimable", "10.0.5.0/24", "--routing", "on",
         "--source-dest-check", "off", "--mac", "02:00:00:00:bb:01", "--device", "tapweb1"],
        ["--subnet", sub, "--host", host, "--name", "web2"],
    ])
    a, b, c = objs
    assert (a["ip"], a["state"], a["host"], a["source_dest_check"], a["routing"]) == (
        "10.0.1.2", "unbound", None, True, False), a
    assert (b["ip"], b["extra_ips"], b["claimable"], b["routing"], b["source_dest_check"],
            b["mac"], b["device"], b["name"]) == (
        "10.0.1.10", ["10.0.1.11", "10.0.1.12"], ["10.0.5.0/24"], True, False,
        "02:00:00:00:bb:01", "tapweb1", "web1"), b
    assert (c["host"], c["state"]) == (host, "down"), c
    # lists join with commas, booleans print yes/no, empty lists -
    pairs = dict(parse_show(ctlm("port", "show", b["id"]).out))
    assert (pairs["extra_ips"], pairs["routing"], pairs["source_dest_check"]) == (
        "10.0.1.11,10.0.1.12", "yes", "no"), pairs
    assert dict(parse_show(ctlm("port", "show", a["id"]).out))["extra_ips"] == "-"
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "port", ["--subnet", sub], "?subnet=" + sub, ids)
    assert len(got) == 3
    got = list3(ctlm, api, "port", ["--network", nid], "?network=" + nid, ids)
    assert len(got) == 3
    got = list3(ctlm, api, "port", ["--host", host], "?host=" + host, [ids[2]])
    assert len(got) == 1
    got = list3(ctlm, api, "port", ["--subnet", sub, "--ip", "10.0.1.10"],
                "?subnet=%s&ip=10.0.1.10" % sub, [ids[1]])
    assert len(got) == 1
    for i in ids:
        show3(ctlm, api, "port", i)
    update3(ctlm, api, "port", ids, [
        ["--host", host, "--name", "p1", "--extra-ip", "10.0.1.20"],
        ["--no-extra-ips", "--no-claimable", "--routing", "off", "--source-dest-check", "on",
         "--device", "tapx"],
        ["--no-host", "--claimable", "10.0.6.0/24", "--claimable", "10.0.7.0/24"],
    ], lambda i, o: [
        lambda: (o["host"], o["name"], o["extra_ips"], o["state"]) == (
            host, "p1", ["10.0.1.20"], "down"),
        lambda: (o["extra_ips"], o["claimable"], o["routing"], o["source_dest_check"],
                 o["device"]) == ([], [], False, True, "tapx"),
        lambda: (o["host"], o["state"], o["claimable"]) == (
            None, "unbound", ["10.0.6.0/24", "10.0.7.0/24"]),
    ][i]() or pytest.fail("update %d: %r" % (i, o)))
    delete3(ctlm, api, "port", ids)


_octet = iter(range(10, 250))


def next_host_octet():
    return next(_octet)


def test_host_crud(ctlm, api):
    names = [uniq("h") for _ in range(3)]
    o1, o2, o3 = (next_host_octet() for _ in range(3))
    pfx = "fd00:%x::/48" % o3
    objs = create3(ctlm, api, "host", [
        ["--name", names[0], "--address", "192.0.2.%d" % o1],
        ["--name", names[1], "--address", "2001:db8::%x" % o2, "--encap", "vxlan"],
        ["--name", names[2], "--address", "192.0.2.%d" % o3, "--encap", "embed6",
         "--prefix", pfx],
    ])
    assert [(o["name"], o["encap"], o["prefix"], o["state"], o["last_seen"]) for o in objs] == [
        (names[0], "vxlan", None, "unknown", None), (names[1], "vxlan", None, "unknown", None),
        (names[2], "embed6", pfx, "unknown", None)]
    list3(ctlm, api, "host", [], "", names)
    got = list3(ctlm, api, "host", ["--encap", "embed6"], "?encap=embed6", [names[2]])
    assert all(o["encap"] == "embed6" for o in got)
    for n in names:
        obj = show3(ctlm, api, "host", n)
        assert obj["id"] == n
    r = ctlm("host", "list")
    rows = {row[0]: row for row in parse_table(r.out, COLS["host"][0])}
    assert rows[names[0]][3:] == ["-", "unknown", "-"], rows  # null prefix / last_seen
    npfx = "fd00:%x::/48" % o1
    update3(ctlm, api, "host", names, [
        ["--address", "192.0.2.%d" % next_host_octet()],
        ["--encap", "embed6", "--prefix", npfx],
        ["--encap", "vxlan", "--no-prefix"],
    ], lambda i, o: [
        lambda: o["encap"] == "vxlan" and o["address"] != "192.0.2.%d" % o1,
        lambda: (o["encap"], o["prefix"]) == ("embed6", npfx),
        lambda: (o["encap"], o["prefix"]) == ("vxlan", None),
    ][i]() or pytest.fail("update %d: %r" % (i, o)))
    delete3(ctlm, api, "host", names)


def test_route_crud(ctlm, api):
    net = api.network(api.tenant()["id"])
    nid, main = net["id"], net["main_router"]
    r2 = api.create("/v1/routers", {"network": nid, "name": "r2"})["id"]
    api.create("/v1/links", {"a": main, "b": r2})
    sub = api.create("/v1/subnets", {"network": nid, "cidr": "10.0.1.0/24"})["id"]
    port = api.create("/v1/ports", {"subnet": sub})["id"]
    objs = create3(ctlm, api, "route", [
        ["--router", main, "--destination", "0.0.0.0/0", "--target", "blackhole"],
        ["--router", main, "--destination", "192.168.0.0/16", "--target", port],
        ["--router", main, "--destination", "172.16.0.0/12", "--target", r2],
    ])
    assert [(o["router"], o["target"], o["target_type"], o["network"]) for o in objs] == [
        (main, "blackhole", "blackhole", nid), (main, port, "port", nid),
        (main, r2, "router", nid)]
    ids = [o["id"] for o in objs]
    got = list3(ctlm, api, "route", ["--router", main], "?router=" + main, ids)
    assert len(got) == 3
    got = list3(ctlm, api, "route", ["--network", nid], "?network=" + nid, ids)
    assert len(got) == 3
    for i in ids:
        show3(ctlm, api, "route", i)
    r = ctlm("route", "update", ids[0], "--target", port)
    assert r.rc == 2 and r.out == "", r  # static routes cannot change in place
    delete3(ctlm, api, "route", ids)


def test_health(ctlm, veneerd, api):
    rev = api.revision()
    r = ctlm("health")
    assert r.rc == 0 and r.err == "", r
    pairs = dict(parse_show(r.out))
    assert pairs["status"] == "ok" and pairs["revision"] == str(rev), r
    r = ctlm("-o", "id", "health")
    assert (r.rc, r.out, r.err) == (0, "ok\n", ""), r
    r = ctlm("health", "-o", "json")
    assert r.rc == 0 and r.json()["status"] == "ok", r
    # no token is needed (nor sent)
    r = ctlm("health", token=None)
    assert r.rc == 0 and dict(parse_show(r.out))["status"] == "ok", r
    r = ctlm("health", token="not-a-valid-token")
    assert r.rc == 0, r


def test_flags_override_environment(ctl, veneerd, api):
    """--url/--token win over VENEER_URL/VENEER_TOKEN, before RESOURCE and after VERB."""
    bad_env = {"VENEER_URL": "http://127.0.0.1:1", "VENEER_TOKEN": "wrong-token"}
    name = uniq("t")
    r = ctl("--url", veneerd.url, "--token", veneerd.admin_token, "-o", "id",
            "tenant", "create", "--name", name, mode="raw", env=bad_env)
    assert r.rc == 0 and r.err == "", r
    tid = r.lines[0]
    assert api.get("/v1/tenants/" + tid)["name"] == name
    r = ctl("tenant", "show", tid, "--url=" + veneerd.url, "--token=" + veneerd.admin_token,
            "--output=id", mode="raw", env=bad_env)
    assert (r.rc, r.out, r.err) == (0, tid + "\n", ""), r
    # a trailing "/" on the URL is fine
    r = ctl("-o", "id", "tenant", "show", tid, url=veneerd.url + "/", mode="flags")
    assert (r.rc, r.out, r.err) == (0, tid + "\n", ""), r
    # the environment alone is used when no flag is given
    r = ctl("tenant", "show", tid, mode="raw", env=bad_env)
    assert r.rc == 3 and r.out == "", r
    r = ctl("tenant", "show", tid, mode="raw",
            env={"VENEER_URL": veneerd.url, "VENEER_TOKEN": "wrong-token"})
    assert r.rc == 1 and r.err.startswith("veneerctl: 401 unauthenticated: "), r


def test_table_cells_of_lists_and_nulls(ctl, api):
    """A network with several CIDRs shows them comma-joined in its table cell."""
    ten = api.tenant()["id"]
    r = ctl("network", "create", "--name", "multi", "--cidr", "10.7.0.0/16", "--cidr",
            "10.8.0.0/16", "--tenant", ten)
    assert r.rc == 0, r
    row = parse_table(r.out, COLS["network"][0])[0]
    assert row[2] == "10.7.0.0/16,10.8.0.0/16", row
    assert cell(api.get("/v1/networks/" + row[0])["cidr"]) == row[2]
