"""Rate limiting (docs/api.md, Rate limiting): each tenant has one bucket, shared by its
tokens; over it a request answers 429 rate_limited with Retry-After and changes nothing; the
admin is not limited. Runs its own veneerd with --rate-limit 5:5."""

import time

import vapi
from vapi import assert_error


def test_rate_limit(make_server):
    srv = make_server(rate_limit="5:5")
    api = vapi.Api(srv)
    admin = api.admin
    t, tc = api.tenant()
    other_tok = api.token(t["id"])
    t2, tc2 = api.tenant()

    # burst of 5, then 5 per second: 20 back-to-back requests cannot all pass
    start = time.monotonic()
    statuses = [tc.get("/v1/networks").status for _ in range(20)]
    elapsed = time.monotonic() - start
    passed = statuses.count(200)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[:5] == [200] * 5, statuses
    assert passed <= 5 + 5 * elapsed + 1, (statuses, elapsed)
    assert 429 in statuses

    # a refused write changes nothing
    vapi.wait_until(lambda: tc.get("/v1/networks").status == 429, timeout=2,
                    what="bucket empty")
    rev = admin.revision()
    r = tc.post("/v1/networks", {"name": "limited", "cidr": "10.0.0.0/16"})
    err = assert_error(r, 429, "rate_limited")
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.strip().isdigit() and 1 <= int(retry) <= 60, (r, retry)
    assert admin.revision() == rev
    assert admin.items("/v1/networks?name=limited") == []
    assert err["message"]

    # another token of the same tenant shares the bucket (minting tokens buys nothing);
    # other tenants and the admin have their own budget (admin: none)
    assert api.client(other_tok["token"]).get("/v1/networks").status == 429
    assert tc2.get("/v1/networks").status == 200
    for _ in range(50):
        assert admin.get("/v1/networks").status == 200

    # the bucket refills: the tenant gets through again within Retry-After
    vapi.wait_until(lambda: tc.get("/v1/tenants/" + t["id"]).status == 200,
                    timeout=int(retry) + 2, what="tenant no longer limited")
    n = vapi.wait_until(
        lambda: (lambda r: r.json if r.status == 201 else None)(
            tc.post("/v1/networks", {"name": "later", "cidr": "10.0.0.0/16"})),
        timeout=5, what="write accepted after refill")
    assert n["name"] == "later"

    text = admin.get("/metrics").raw.decode()
    limited = [line for line in text.splitlines()
               if line.startswith("veneer_rate_limited_total")]
    assert limited and float(limited[0].split()[-1]) >= 1, limited
    assert any(line.startswith("veneer_http_requests_total") and 'code="429"' in line
               for line in text.splitlines()), text
