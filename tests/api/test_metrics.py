"""GET /metrics (docs/api.md, Health and metrics): Prometheus text for the admin only."""

import re

import pytest

import vapi
from vapi import assert_error

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)(\s+-?\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(admin):
    r = admin.get("/metrics")
    assert r.status == 200, r
    assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
    text = r.raw.decode("utf-8")
    samples, types = [], {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        labels = dict(LABEL.findall(m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples, types


def values(samples, name, **labels):
    return [v for n, lab, v in samples
            if n == name and all(lab.get(k) == w for k, w in labels.items())]


def value(samples, name, **labels):
    vs = values(samples, name, **labels)
    assert len(vs) == 1, (name, labels, vs)
    return vs[0]


KIND_NAMES = {"tenant": ("tenant", "tenants"), "token": ("token", "tokens"),
              "network": ("network", "networks"), "router": ("router", "routers"),
              "link": ("link", "links"), "subnet": ("subnet", "subnets"),
              "port": ("port", "ports"), "host": ("host", "hosts"),
              "route": ("route", "routes", "static_route", "static_routes")}


def object_count(samples, kind):
    found = [v for n, lab, v in samples
             if n == "veneer_objects" and lab.get("kind") in KIND_NAMES[kind]]
    assert len(found) == 1, "veneer_objects{kind=%s}: %r" % (kind, found)
    return found[0]


@pytest.fixture(scope="module")
def world(api):
    writes = 0
    ts = [api.tenant() for _ in range(2)]
    writes += 4
    api.token(ts[0][0]["id"])
    writes += 1
    api.host()
    api.host(encap="embed6")
    writes += 2
    nets = [api.network(t["id"]) for t, _ in ts]
    r = api.router(nets[0]["id"])
    api.link(nets[0]["main_router"], r["id"])
    s = [api.subnet(n["id"], "10.0.1.0/24") for n in nets]
    api.port(s[0]["id"])
    api.port(s[0]["id"])
    api.port(s[1]["id"])
    api.route(nets[0]["main_router"], "10.9.0.0/16", "blackhole")
    api.route(r["id"], "10.8.0.0/16", "blackhole")
    writes += 2 + 1 + 1 + 2 + 3 + 2
    return {"tenant_client": ts[0][1], "writes": writes}


def counts(admin):
    c = {k: len(admin.items("/v1/%ss" % k)) for k in
         ("tenant", "network", "router", "link", "subnet", "port", "host", "route")}
    c["token"] = sum(len(admin.items("/v1/tenants/%s/tokens" % t["id"]))
                     for t in admin.items("/v1/tenants"))
    return c


def test_metrics_format_and_types(admin, world):
    samples, types = scrape(admin)
    assert types.get("veneer_http_requests_total") == "counter", types
    assert types.get("veneer_store_commit_seconds") == "histogram", types
    assert types.get("veneer_objects") == "gauge", types
    assert "veneer_revision" in types and "veneer_rate_limited_total" in types, types
    for n, lab, _ in samples:
        if n == "veneer_http_requests_total":
            assert set(lab) >= {"method", "code"}, lab
    assert value(samples, "veneer_http_requests_total", method="POST", code="201") >= \
        world["writes"]
    assert value(samples, "veneer_rate_limited_total") == 0


def test_object_counts_match(api, admin, world):
    samples, _ = scrape(admin)
    for kind, n in counts(admin).items():
        assert object_count(samples, kind) == n, kind
    # and they follow changes
    t, _ = api.tenant()
    net = api.network(t["id"])
    samples, _ = scrape(admin)
    for kind, n in counts(admin).items():
        assert object_count(samples, kind) == n, kind
    assert admin.delete("/v1/networks/" + net["id"]).status == 204
    samples, _ = scrape(admin)
    for kind, n in counts(admin).items():
        assert object_count(samples, kind) == n, kind


def test_request_counter_counts(admin, world):
    before, _ = scrape(admin)
    b404 = values(before, "veneer_http_requests_total", method="GET", code="404")
    for _ in range(5):
        assert admin.get("/v1/networks/" + vapi.missing_id("net")).status == 404
    for _ in range(3):
        assert admin.delete("/v1/ports/" + vapi.missing_id("port")).status == 404
    after, _ = scrape(admin)
    assert value(after, "veneer_http_requests_total", method="GET", code="404") == \
        (b404[0] if b404 else 0) + 5
    bd = values(before, "veneer_http_requests_total", method="DELETE", code="404")
    assert value(after, "veneer_http_requests_total", method="DELETE", code="404") == \
        (bd[0] if bd else 0) + 3


def test_commit_histogram_and_revision(admin, world):
    samples, _ = scrape(admin)
    buckets = [(lab["le"], v) for n, lab, v in samples
               if n == "veneer_store_commit_seconds_bucket"]
    assert len(buckets) >= 2, buckets
    assert buckets[-1][0] == "+Inf", buckets
    les = [float(le) for le, _ in buckets]
    assert les == sorted(les), buckets
    counts_ = [v for _, v in buckets]
    assert counts_ == sorted(counts_), "buckets are not cumulative: %r" % buckets
    total = value(samples, "veneer_store_commit_seconds_count")
    assert counts_[-1] == total
    assert total >= world["writes"], (total, world["writes"])
    assert value(samples, "veneer_store_commit_seconds_sum") > 0
    rev = admin.revision()
    assert value(samples, "veneer_revision") == rev
    api_rev_before = rev
    t = admin.create("/v1/tenants", {"name": vapi.uniq("t")})
    samples, _ = scrape(admin)
    assert value(samples, "veneer_revision") == api_rev_before + 1 == t["revision"]
    assert value(samples, "veneer_store_commit_seconds_count") >= total + 1


def test_metrics_access(admin, world):
    tc = world["tenant_client"]
    assert_error(tc.get("/metrics"), 403, "forbidden")
    assert_error(admin.get("/metrics", token=None), 401, "unauthenticated")
    assert_error(admin.get("/metrics", token="vnr_" + "1" * 64), 401, "unauthenticated")
