"""What veneerctl sends: JSON types of option values (one --cidr a string, several a list),
paths, query strings and headers, seen by a recording fake server; then the same behaviour
against veneerd (network update --cidr replaces the list)."""

import pytest

from conftest import uniq


def one(capture):
    assert len(capture.requests) == 1, capture.requests
    return capture.requests[0]


@pytest.mark.parametrize("mode", ["env", "flags"])
def test_one_cidr_is_a_string_several_a_list(ctl, capture, mode):
    r = ctl("network", "create", "--name", "n1", "--cidr", "10.0.0.0/16", url=capture.url,
            token="tok-secret", mode=mode)
    assert r.rc == 0, r
    req = one(capture)
    assert (req["method"], req["path"]) == ("POST", "/v1/networks"), req
    assert req["body"] == {"name": "n1", "cidr": "10.0.0.0/16"}, req  # no tenant: not given
    assert req["headers"]["Authorization"] == "Bearer tok-secret", req
    assert req["headers"]["Content-Type"].startswith("application/json"), req

    capture.requests.clear()
    r = ctl("network", "create", "--name", "n2", "--cidr", "10.0.0.0/16", "--cidr",
            "10.1.0.0/16", "--cidr=10.2.0.0/16", "--tenant", "ten-0000000000000001",
            url=capture.url, mode=mode)
    assert r.rc == 0, r
    assert one(capture)["body"] == {"name": "n2", "tenant": "ten-0000000000000001",
                                    "cidr": ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]}


def test_update_cidr_is_always_a_list(ctl, capture):
    r = ctl("network", "update", "net-00000000000000aa", "--cidr", "10.0.0.0/16",
            url=capture.url)
    assert r.rc == 0, r
    req = one(capture)
    assert (req["method"], req["path"]) == ("PATCH", "/v1/networks/net-00000000000000aa")
    assert req["body"] == {"cidr": ["10.0.0.0/16"]}, req
    capture.requests.clear()
    r = ctl("network", "update", "net-00000000000000aa", "--cidr", "10.0.0.0/16", "--cidr",
            "10.9.0.0/16", "--name", "x", url=capture.url)
    assert r.rc == 0, r
    assert one(capture)["body"] == {"cidr": ["10.0.0.0/16", "10.9.0.0/16"], "name": "x"}


def test_value_types(ctl, capture):
    cases = [
        (["router", "create", "--network", "net-1", "--name", "r", "--asn", "65001"],
         "POST", "/v1/routers", {"network": "net-1", "name": "r", "asn": 65001}),
        (["router", "update", "rtr-1", "--asn", "4200000000"],
         "PATCH", "/v1/routers/rtr-1", {"asn": 4200000000}),
        (["port", "create", "--subnet", "sub-1", "--extra-ip", "10.0.0.5", "--claimable",
          "10.0.9.0/24", "--routing", "on", "--source-dest-check", "off"],
         "POST", "/v1/ports", {"subnet": "sub-1", "extra_ips": ["10.0.0.5"],
                               "claimable": ["10.0.9.0/24"], "routing": True,
                               "source_dest_check": False}),
        (["port", "update", "port-1", "--no-host", "--no-extra-ips", "--no-claimable",
          "--routing", "off", "--source-dest-check", "on"],
         "PATCH", "/v1/ports/port-1", {"host": None, "extra_ips": [], "claimable": [],
                                       "routing": False, "source_dest_check": True}),
        (["host", "update", "h1", "--no-prefix", "--encap", "vxlan"],
         "PATCH", "/v1/hosts/h1", {"prefix": None, "encap": "vxlan"}),
        (["token", "create", "--tenant", "ten-1"], "POST", "/v1/tenants/ten-1/tokens", {}),
        (["subnet", "create", "--network", "net-1", "--cidr", "10.0.0.0/24"],
         "POST", "/v1/subnets", {"network": "net-1", "cidr": "10.0.0.0/24"}),
        (["route", "create", "--router", "rtr-1", "--destination", "0.0.0.0/0", "--target",
          "blackhole"], "POST", "/v1/routes",
         {"router": "rtr-1", "destination": "0.0.0.0/0", "target": "blackhole"}),
        (["link", "create", "--a", "rtr-1", "--b", "rtr-2"], "POST", "/v1/links",
         {"a": "rtr-1", "b": "rtr-2"}),
    ]
    for args, method, path, body in cases:
        capture.requests.clear()
        if args[0] == "token":
            capture.respond = lambda m, p, b: (201, b'{"id": "tok-1", "token": "vnr_x"}')
        else:
            capture.respond = capture.default_respond
        r = ctl(*args, url=capture.url)
        assert r.rc == 0, r
        req = one(capture)
        assert (req["method"], req["path"], req["body"]) == (method, path, body), (args, req)


def test_paths_and_queries_are_encoded(ctl, capture):
    cases = [
        (["network", "list", "--name", "a b&c=d#e"], "GET", "/v1/networks?name=a%20b%26c%3Dd%23e"),
        (["port", "list", "--subnet", "sub-1", "--ip", "10.0.0.1"], "GET",
         "/v1/ports?subnet=sub-1&ip=10.0.0.1"),
        (["tenant", "show", "ten-1?x=1"], "GET", "/v1/tenants/ten-1%3Fx%3D1"),
        (["host", "delete", "h%2f"], "DELETE", "/v1/hosts/h%252f"),
        (["token", "delete", "--tenant", "ten-1", "tok-2"], "DELETE",
         "/v1/tenants/ten-1/tokens/tok-2"),
        (["router", "routes", "rtr-1"], "GET", "/v1/routers/rtr-1/routes"),
        (["token", "list", "--tenant", "ten 1"], "GET", "/v1/tenants/ten%201/tokens"),
    ]
    for args, method, path in cases:
        capture.requests.clear()
        capture.respond = lambda m, p, b: ((204, b"") if m == "DELETE" else
                                           (200, b'{"items": [], "id": "x"}'))
        r = ctl(*args, url=capture.url)
        assert r.rc == 0, r
        req = one(capture)
        assert (req["method"], req["path"]) == (method, path), (args, req)
        if method in ("GET", "DELETE"):
            assert req["raw"] == b"", req


def test_health_sends_no_token(ctl, capture):
    capture.respond = lambda m, p, b: (200, b'{"status": "ok", "revision": 1}')
    r = ctl("health", url=capture.url, token="admin-secret")
    assert r.rc == 0, r
    req = one(capture)
    assert req["path"] == "/v1/health" and "Authorization" not in req["headers"], req
    capture.requests.clear()
    capture.respond = capture.default_respond
    r = ctl("tenant", "list", url=capture.url, token="admin-secret", mode="flags")
    assert r.rc == 0, r
    assert one(capture)["headers"].get("Authorization") == "Bearer admin-secret"


def test_network_cidr_against_veneerd(ctlm, api):
    ten = api.tenant()["id"]
    nid = ctlm.id("network", "create", "--name", uniq("n"), "--cidr", "10.0.0.0/16",
                  "--tenant", ten)
    assert api.get("/v1/networks/" + nid)["cidr"] == ["10.0.0.0/16"]
    sub = api.create("/v1/subnets", {"network": nid, "cidr": "10.0.1.0/24"})["id"]
    # replace the list by two CIDRs (keeping the one holding the subnet)
    r = ctlm("-o", "json", "network", "update", nid, "--cidr", "10.0.0.0/16", "--cidr",
             "10.50.0.0/16")
    assert r.rc == 0 and r.json()["cidr"] == ["10.0.0.0/16", "10.50.0.0/16"], r
    assert api.get("/v1/networks/" + nid)["cidr"] == ["10.0.0.0/16", "10.50.0.0/16"]
    # one --cidr replaces the whole list with that one
    r = ctlm("-o", "json", "network", "update", nid, "--cidr", "10.0.0.0/16")
    assert r.rc == 0 and r.json()["cidr"] == ["10.0.0.0/16"], r
    assert api.get("/v1/networks/" + nid)["cidr"] == ["10.0.0.0/16"]
    # dropping the CIDR that holds the subnet is refused and changes nothing
    r = ctlm("network", "update", nid, "--cidr", "10.60.0.0/16")
    assert r.rc == 1 and r.err.startswith("veneerctl: 409 has_dependents: "), r
    assert sub in r.err or "subnet" in r.err, r
    assert api.get("/v1/networks/" + nid)["cidr"] == ["10.0.0.0/16"]
    # several on create: a list of several
    nid2 = ctlm.id("network", "create", "--name", uniq("n"), "--cidr", "10.1.0.0/16",
                   "--cidr", "10.2.0.0/16", "--tenant", ten)
    assert api.get("/v1/networks/" + nid2)["cidr"] == ["10.1.0.0/16", "10.2.0.0/16"]
