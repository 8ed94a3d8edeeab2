"""Exit status and error messages: 1 API refusal, 2 usage error (nothing sent), 3 veneerd
unreachable or not speaking the API, 4 not found."""

import json
import re
import time

import pytest

from conftest import format_error, missing_id, uniq


@pytest.fixture(scope="module")
def world(api):
    """A tenant (with token) holding a network, subnet, port, second router, link and route;
    a second tenant with the same set; a host."""
    def make():
        ten = api.tenant()["id"]
        tok = api.token(ten)["token"]
        net = api.network(ten)
        sub = api.create("/v1/subnets", {"network": net["id"], "cidr": "10.0.1.0/24"})
        port = api.create("/v1/ports", {"subnet": sub["id"], "ip": "10.0.1.10"})
        r2 = api.create("/v1/routers", {"network": net["id"], "name": "r2"})
        link = api.create("/v1/links", {"a": net["main_router"], "b": r2["id"]})
        route = api.create("/v1/routes", {"router": net["main_router"],
                                          "destination": "0.0.0.0/0", "target": "blackhole"})
        return {"tenant": ten, "token": tok, "net": net["id"], "main": net["main_router"],
                "sub": sub["id"], "port": port["id"], "r2": r2["id"], "link": link["id"],
                "route": route["id"]}
    host = api.create("/v1/hosts", {"name": uniq("h"), "address": "198.51.100.7"})["name"]
    return {"a": make(), "b": make(), "host": host}


def counts(api):
    """Object counts of every collection, and the store revision."""
    c = {p: len(api.items(p)) for p in ("/v1/tenants", "/v1/networks", "/v1/routers",
                                        "/v1/links", "/v1/subnets", "/v1/ports",
                                        "/v1/hosts", "/v1/routes")}
    c["revision"] = api.revision()
    return c


# --------------------------------------------------------------------------------------------
# 1: the API refused
# --------------------------------------------------------------------------------------------

def refusals(w):
    a = w["a"]
    return [
        # (name, token key, CLI args, (method, path, body) sent directly for the expected line)
        ("409 overlap", "admin",
         ["subnet", "create", "--network", a["net"], "--cidr", "10.0.1.128/25"],
         ("POST", "/v1/subnets", {"network": a["net"], "cidr": "10.0.1.128/25"})),
        ("409 duplicate", "tenant",
         ["router", "create", "--network", a["net"], "--name", "r2"],
         ("POST", "/v1/routers", {"network": a["net"], "name": "r2"})),
        ("409 in_use", "tenant",
         ["port", "create", "--subnet", a["sub"], "--ip", "10.0.1.10"],
         ("POST", "/v1/ports", {"subnet": a["sub"], "ip": "10.0.1.10"})),
        ("409 has_dependents", "admin", ["network", "delete", a["net"]],
         ("DELETE", "/v1/networks/" + a["net"], None)),
        ("403 host list as tenant", "tenant", ["host", "list"], ("GET", "/v1/hosts", None)),
        ("403 tenant sends tenant", "tenant",
         ["network", "create", "--name", "x", "--cidr", "10.0.0.0/16", "--tenant",
          a["tenant"]],
         ("POST", "/v1/networks", {"name": "x", "cidr": "10.0.0.0/16",
                                   "tenant": a["tenant"]})),
        ("422 invalid_reference", "tenant",
         ["subnet", "create", "--network", a["net"], "--cidr", "10.0.2.0/24", "--router",
          w["b"]["r2"]],
         ("POST", "/v1/subnets", {"network": a["net"], "cidr": "10.0.2.0/24",
                                  "router": w["b"]["r2"]})),
        ("422 out_of_range", "tenant",
         ["port", "create", "--subnet", a["sub"], "--ip", "10.0.9.9"],
         ("POST", "/v1/ports", {"subnet": a["sub"], "ip": "10.0.9.9"})),
        ("400 invalid_value", "admin",
         ["network", "create", "--name", "x", "--cidr", "10.0.0.1/16", "--tenant",
          a["tenant"]],
         ("POST", "/v1/networks", {"name": "x", "cidr": "10.0.0.1/16",
                                   "tenant": a["tenant"]})),
        ("400 asn out of range", "tenant",
         ["router", "create", "--network", a["net"], "--name", "r9", "--asn", "0"],
         ("POST", "/v1/routers", {"network": a["net"], "name": "r9", "asn": 0})),
        ("400 invalid_query", "tenant", ["port", "list", "--ip", "not-an-ip"],
         ("GET", "/v1/ports?ip=not-an-ip", None)),
    ]


REFUSALS = ["409 overlap", "409 duplicate", "409 in_use", "409 has_dependents",
            "403 host list as tenant", "403 tenant sends tenant", "422 invalid_reference",
            "422 out_of_range", "400 invalid_value", "400 asn out of range",
            "400 invalid_query"]


def test_refusal_names(world):
    assert [c[0] for c in refusals(world)] == REFUSALS


@pytest.mark.parametrize("name", REFUSALS)
def test_api_refusal_exits_1_with_the_error_line(name, ctlm, api, world):
    _, who, args, direct = [c for c in refusals(world) if c[0] == name][0]
    token = api.server.admin_token if who == "admin" else world["a"]["token"]
    before = counts(api)
    r = ctlm(*args, token=token)
    after = counts(api)
    assert after == before, "%s changed something: %r" % (name, r)
    status, line = api.error_line(*direct, token=token)
    assert str(status) == name.split()[0], (name, line)
    assert (r.rc, r.out, r.err) == (1, "", line), (name, r)
    assert re.match(r"^veneerctl: \d{3} [a-z_]+: .+", r.err), r


def test_refusal_with_field_prints_it(ctl, api, world):
    a = world["a"]
    r = ctl("subnet", "create", "--network", a["net"], "--cidr", "10.0.1.0/23")
    assert r.rc == 1 and r.err.startswith("veneerctl: 400 invalid_value: ") and \
        r.err.endswith(" (field: cidr)\n"), r
    r = ctl("router", "create", "--network", a["net"], "--name", "r7", "--mac",
            "01:00:00:00:00:01")
    assert r.rc == 1 and r.err.startswith("veneerctl: 400 invalid_value: ") and \
        r.err.endswith(" (field: mac)\n"), r
    # 409 has_dependents names no field: no "(field: ...)"
    r = ctl("subnet", "delete", a["sub"])
    assert r.rc == 1 and r.err.startswith("veneerctl: 409 has_dependents: ") and \
        "(field:" not in r.err, r
    assert r.err == api.error_line("DELETE", "/v1/subnets/" + a["sub"])[1]


# --------------------------------------------------------------------------------------------
# 2: usage errors, nothing sent
# --------------------------------------------------------------------------------------------

def usage_cases(w):
    a = w["a"]
    t = a["tenant"]
    net_ok = ["--name", "u", "--cidr", "10.0.0.0/16", "--tenant", t]
    return [
        # (args, words expected in stderr)
        (["netwerk", "create"] + net_ok, ["unknown resource 'netwerk'"]),
        (["network", "craete"] + net_ok, ["unknown verb 'craete'"]),
        (["network"] + net_ok, ["missing VERB"]),
        (["network", "create"] + net_ok + ["--colour", "red"], ["unknown option '--colour'"]),
        (["network", "create"] + net_ok + ["-x"], ["unknown option '-x'"]),
        (["network", "create", "--name", "u", "--tenant", t], ["missing --cidr"]),
        (["tenant", "create"], ["missing --name"]),
        (["router", "create", "--name", "r5"], ["missing --network"]),
        (["port", "create", "--subnet", a["sub"], "--routing", "yes"],
         ["--routing", "on or off", "'yes'"]),
        (["port", "create", "--subnet", a["sub"], "--source-dest-check", "true"],
         ["--source-dest-check", "on or off"]),
        (["port", "update", a["port"], "--routing", "ON"], ["--routing", "on or off"]),
        (["router", "create", "--network", a["net"], "--name", "r5", "--asn", "65k"],
         ["--asn", "integer"]),
        (["router", "update", a["r2"], "--asn", "1.0"], ["--asn", "integer"]),
        (["tenant", "create", "--name", "x1", "--name", "x2"], ["--name given twice"]),
        (["port", "update", a["port"], "--host", w["host"], "--no-host"], ["conflicts"]),
        (["port", "update", a["port"], "--extra-ip", "10.0.1.50", "--no-extra-ips"],
         ["conflicts"]),
        (["port", "update", a["port"], "--no-host=yes"], ["takes no value"]),
        (["network", "update", a["net"]], ["nothing to change"]),
        (["tenant", "update", "--name", "zz"], ["missing ID"]),
        (["tenant", "delete"], ["missing ID"]),
        (["tenant", "delete", t, "extra"], ["unexpected argument 'extra'"]),
        (["tenant", "update", "..", "--name", "zz"], ["bad ID '..'"]),
        (["network", "delete", "a/b"], ["bad ID 'a/b'"]),
        (["token", "create", "--tenant", "../networks"], ["bad --tenant"]),
        (["-o", "yaml", "tenant", "create", "--name", "y1"], ["-o", "'yaml'"]),
        (["tenant", "create", "--name", "y2", "--output", "xml"], ["'xml'"]),
        (["--timeout", "0", "tenant", "create", "--name", "y3"], ["--timeout"]),
        (["--timeout", "abc", "tenant", "create", "--name", "y4"], ["--timeout"]),
        (["--url", "ftp://127.0.0.1:1/", "tenant", "create", "--name", "y5"], ["--url"]),
        (["tenant", "create", "--name"], ["--name needs a value"]),
        (["--bogus", "tenant", "create", "--name", "y6"], ["unknown option '--bogus'"]),
        ([], ["missing RESOURCE"]),
    ]


USAGE_N = 32


def test_usage_cases_count(world):
    assert len(usage_cases(world)) == USAGE_N


@pytest.mark.parametrize("index", range(USAGE_N))
def test_usage_error_exits_2_and_sends_nothing(index, ctl, api, world, capture):
    args, words = usage_cases(world)[index]
    before = counts(api)
    r = ctl(*args)
    assert r.rc == 2 and r.out == "", r
    assert r.err.startswith("veneerctl: "), r
    for w in words:
        assert w in r.err, (w, r)
    assert "Try 'veneerctl" in r.err, r
    # proof that nothing was sent: the objects and the store revision are unchanged ...
    assert counts(api) == before, r
    # ... and a server that records every request got none
    r2 = ctl(*args, url=capture.url, mode="flags")
    assert r2.rc == 2 and r2.err == r.err.replace(api.server.url, capture.url), r2
    assert capture.requests == [], capture.requests


def test_usage_error_with_url_in_env_sends_nothing(ctl, capture):
    r = ctl("tenant", "create", "--name", "x", "--bogus", url=capture.url, mode="env")
    assert r.rc == 2 and capture.requests == [], r
    r = ctl("tenant", "create", "--name", "x", url=capture.url, mode="env")
    assert r.rc == 0 and len(capture.requests) == 1, r  # the capture server does work


def test_help_and_version_exit_0_and_send_nothing(ctl, capture):
    for args, word in ((["--help"], "Usage"), (["network", "--help"], "network create"),
                       (["port", "update", "--help"], "--no-host"),
                       (["help", "router"], "routes"), (["--version"], "veneerctl")):
        r = ctl(*args, url=capture.url)
        assert r.rc == 0 and r.err == "" and word in r.out, r
    assert capture.requests == []


# --------------------------------------------------------------------------------------------
# 3: veneerd unreachable, or not the API
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["env", "flags"])
@pytest.mark.parametrize("args", [["health"], ["tenant", "list"],
                                  ["-o", "id", "tenant", "create", "--name", "x"],
                                  ["network", "delete", "net-0123456789abcdef"]])
def test_unreachable_exits_3(ctl, mode, args):
    r = ctl(*args, url="http://127.0.0.1:1", mode=mode)
    assert r.rc == 3 and r.out == "", r
    assert r.err.startswith("veneerctl: cannot reach veneerd at http://127.0.0.1:1"), r
    assert len(r.err.splitlines()) == 1, r


def test_non_api_answers_exit_3(ctl, capture):
    def page_404(method, path, body):
        return 404, b"<html>Not Found</html>"
    capture.respond = page_404
    r = ctl("network", "show", "net-0123456789abcdef", url=capture.url)
    assert r.rc == 3 and r.out == "" and "not the API's JSON" in r.err, r

    capture.respond = lambda m, p, b: (200, b'{"no_items": []}')
    r = ctl("network", "list", url=capture.url)
    assert r.rc == 3 and r.out == "" and '"items"' in r.err, r

    capture.respond = lambda m, p, b: (201, b'{"name": "x"}')
    r = ctl("-o", "id", "tenant", "create", "--name", "x", url=capture.url)
    assert r.rc == 3 and r.out == "" and '"id"' in r.err, r

    # a list item without an id: the others are printed, but the exit status says so
    capture.respond = lambda m, p, b: (200, b'{"items": [{"id": "a"}, {"name": "b"}]}')
    r = ctl("-o", "id", "network", "list", url=capture.url)
    assert r.rc == 3 and r.out == "a\n" and '"id"' in r.err, r

    capture.respond = lambda m, p, b: (302, b'{"error": {"code": "x", "message": "y"}}')
    r = ctl("tenant", "list", url=capture.url)
    assert r.rc == 3 and r.out == "" and "302" in r.err, r

    capture.respond = lambda m, p, b: (200, b'{"items": [{"id": "a"}], "next": "a"}')
    r = ctl("-o", "id", "tenant", "list", url=capture.url)
    assert r.rc == 3 and r.out == "" and "next" in r.err, r

    # a 5xx with the API's error object is a refusal (1), not a transport failure
    capture.respond = lambda m, p, b: (503, b'{"error": {"code": "unavailable", '
                                            b'"message": "store busy"}}')
    r = ctl("tenant", "list", url=capture.url)
    assert (r.rc, r.out, r.err) == (1, "", "veneerctl: 503 unavailable: store busy\n"), r

    # a 404 of veneerd itself (its error object) is 4
    capture.respond = lambda m, p, b: (404, b'{"error": {"code": "not_found", '
                                            b'"message": "gone", "field": null}}')
    r = ctl("tenant", "show", "ten-1", url=capture.url)
    assert (r.rc, r.out, r.err) == (4, "", "veneerctl: 404 not_found: gone\n"), r


@pytest.mark.parametrize("body", [b'{"detail": "Not Found"}', b'{}', b'[]',
                                  b'{"error": "not found"}'])
def test_foreign_json_404_is_not_4(ctl, capture, body):
    capture.respond = lambda m, p, b: (404, body)
    r = ctl("network", "show", "net-0123456789abcdef", url=capture.url)
    assert r.rc == 3 and r.out == "", r


def test_timeout_exits_3(ctl, capture):
    def slow(method, path, body):
        time.sleep(1.6)
        return 200, b'{"status": "ok"}'
    capture.respond = slow
    t0 = time.monotonic()
    r = ctl("--timeout", "1", "health", url=capture.url)
    assert r.rc == 3 and r.out == "" and r.err.startswith("veneerctl: cannot reach veneerd"), r
    assert time.monotonic() - t0 < 1.5


def test_control_characters_from_the_server_print_as_question_marks(ctl, capture):
    obj = {"id": "net-1\u001b[2J", "name": "a\tb\u0007", "cidr": ["10.0.0.0/16"],
           "vnid": 5, "tenant": "ten-\u001b]0;x\u0007"}
    raw = json.dumps(obj).encode()
    capture.respond = lambda m, p, b: (200, raw)
    for args in (["network", "show", "x"], ["network", "update", "x", "--name", "y"]):
        r = ctl(*args, url=capture.url)
        assert r.rc == 0, r
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", r.out), repr(r.out)
        assert "net-1?[2J" in r.out and "a?b?" in r.out and "ten-?]0;x?" in r.out, r
    capture.respond = lambda m, p, b: (409, json.dumps({"error": {
        "code": "dup\u001b", "message": "m\u001b[31m", "field": "f\r"}}).encode())
    r = ctl("network", "delete", "x", url=capture.url)
    assert (r.rc, r.err) == (1, "veneerctl: 409 dup?: m?[31m (field: f?)\n"), r


# --------------------------------------------------------------------------------------------
# 4: not found
# --------------------------------------------------------------------------------------------

NOT_FOUND = [
    # (resource, key in world, id prefix, verbs with their extra args)
    ("network", "net", "net", [("show", []), ("update", ["--name", "zz"]), ("delete", [])]),
    ("router", "r2", "rtr", [("show", []), ("update", ["--asn", "65009"]), ("delete", []),
                             ("routes", [])]),
    ("subnet", "sub", "sub", [("show", []), ("update", ["--name", "zz"]), ("delete", [])]),
    ("port", "port", "port", [("show", []), ("update", ["--name", "zz"]), ("delete", [])]),
    ("link", "link", "lnk", [("show", []), ("delete", [])]),
    ("route", "route", "rte", [("show", []), ("delete", [])]),
    ("tenant", "tenant", "ten", [("show", [])]),
]


@pytest.mark.parametrize("res,key,prefix,verbs", NOT_FOUND, ids=[n[0] for n in NOT_FOUND])
def test_not_found_exits_4_same_for_missing_and_foreign(ctlm, api, world, res, key, prefix,
                                                         verbs):
    tok = world["a"]["token"]
    foreign = world["b"][key]
    missing = missing_id(prefix)
    own = world["a"][key]
    before = counts(api)
    for verb, extra in verbs:
        r_f = ctlm(res, verb, foreign, *extra, token=tok)
        r_m = ctlm(res, verb, missing, *extra, token=tok)
        for r in (r_f, r_m):
            assert r.rc == 4 and r.out == "", r
            assert r.err.startswith("veneerctl: 404 not_found: "), r
        assert r_f.err.replace(foreign, "<ID>") == r_m.err.replace(missing, "<ID>"), (r_f, r_m)
        # the admin also gets 4 for the missing id, and sees the foreign one
        r = ctlm(res, verb, missing, *extra)
        assert r.rc == 4 and r.err == r_m.err, r
    assert counts(api) == before  # nothing of tenant b was changed or deleted
    r = ctlm("-o", "id", res, "show", own, token=tok)
    assert (r.rc, r.out) == (0, own + "\n"), r
    r = ctlm("-o", "id", res, "show", foreign)
    assert (r.rc, r.out) == (0, foreign + "\n"), r


def test_not_found_host_and_token(ctl, api, world):
    r = ctl("host", "show", "no-such-host")
    assert r.rc == 4 and r.out == "" and r.err.startswith("veneerctl: 404 not_found: "), r
    r = ctl("host", "delete", "no-such-host")
    assert r.rc == 4, r
    r = ctl("token", "delete", "--tenant", world["a"]["tenant"], missing_id("tok"))
    assert r.rc == 4 and r.err.startswith("veneerctl: 404 not_found: "), r
    r = ctl("token", "list", "--tenant", missing_id("ten"))
    assert r.rc == 4, r
    # the error line is exactly the API's error object
    mid = missing_id("net")
    r = ctl("network", "show", mid)
    st, js = api.req("GET", "/v1/networks/" + mid)
    assert st == 404 and r.err == format_error(st, js), r
    assert json.dumps(js) not in r.err
