"""Lists follow the API's pagination to the end: more than 1000 objects are all listed.

This module has a veneerd of its own, so that it knows every object in the store."""

import concurrent.futures
import json

import pytest

from conftest import Api, Ctl, Veneerd, parse_table, row_of

N_TENANTS = 1005
N_PORTS = 1003  # in one subnet: more than a page, under every quota


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    srv = Veneerd(tmp_path_factory.mktemp("veneerd-big"))
    try:
        srv.start()
        api = Api(srv)
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            tenants = list(ex.map(lambda i: api.create("/v1/tenants", {"name": "t%04d" % i}),
                                  range(N_TENANTS)))
            owner, other = tenants[0]["id"], tenants[1]["id"]
            net = api.create("/v1/networks", {"name": "n", "cidr": "10.0.0.0/16",
                                              "tenant": owner})
            sub = api.create("/v1/subnets", {"network": net["id"], "cidr": "10.0.0.0/20"})
            ports = list(ex.map(lambda i: api.create(
                "/v1/ports", {"subnet": sub["id"], "name": "p%04d" % i}), range(N_PORTS)))
        onet = api.create("/v1/networks", {"name": "other", "cidr": "10.0.0.0/16",
                                           "tenant": other})
        osub = api.create("/v1/subnets", {"network": onet["id"], "cidr": "10.0.0.0/24"})
        api.create("/v1/ports", {"subnet": osub["id"]})
        yield {"srv": srv, "api": api, "tenants": tenants, "owner": owner,
               "sub": sub["id"], "ports": ports}
    finally:
        srv.stop()


def test_more_than_1000_tenants_are_all_listed(big):
    api, ctl = big["api"], Ctl(big["srv"])
    ids = sorted(t["id"] for t in big["tenants"])
    # the API really pages (so the CLI must follow "next")
    first = api.get("/v1/tenants")
    assert len(first["items"]) == 1000 and first.get("next"), len(first["items"])
    r = ctl("-o", "id", "tenant", "list")
    assert r.rc == 0 and r.err == "", r
    assert len(r.lines) == N_TENANTS and r.lines == ids, (len(r.lines), r.lines[-3:])
    assert r.out == "".join(i + "\n" for i in ids)
    want = api.items("/v1/tenants")
    r = ctl("tenant", "list", mode="flags")
    assert r.rc == 0 and r.err == "", r.err
    assert parse_table(r.out, ["ID", "NAME", "CREATED"]) == [
        row_of(t, ["id", "name", "created"]) for t in want]
    r = ctl("-o", "json", "tenant", "list")
    assert r.rc == 0 and json.loads(r.out) == want


def test_pagination_with_a_filter(big):
    """With a filter, the next page is asked with &after= and keeps the filter."""
    api, ctl = big["api"], Ctl(big["srv"])
    ids = sorted(p["id"] for p in big["ports"])
    r = ctl("-o", "id", "port", "list", "--subnet", big["sub"])
    assert r.rc == 0 and r.err == "", r
    assert r.lines == ids, (len(r.lines), len(ids))
    # and without the filter, every port (one more)
    r = ctl("-o", "id", "port", "list")
    assert r.rc == 0 and len(r.lines) == N_PORTS + 1 and len(set(r.lines)) == len(r.lines)
    assert r.lines == api.ids("/v1/ports")
