"""Tenant tokens through veneerctl: the secret, using it, what it sees, revoking it."""

import json

from conftest import SECRET_RE, format_error, missing_id, parse_table, row_of

TOKEN_COLS = ["ID", "NAME", "TENANT", "CREATED"]
TOKEN_FIELDS = ["id", "name", "tenant", "created"]


def test_token_create_id_prints_only_the_secret_which_then_works(ctlm, api):
    ten = api.tenant()["id"]
    r = ctlm("-o", "id", "token", "create", "--tenant", ten, "--name", "ci")
    assert r.rc == 0 and r.err == "", r
    assert len(r.lines) == 1 and r.out == r.lines[0] + "\n", r
    secret = r.lines[0]
    assert SECRET_RE.match(secret), r
    # the token exists, named ci, and its secret is nowhere in the list
    toks = api.items("/v1/tenants/%s/tokens" % ten)
    assert [t["name"] for t in toks] == ["ci"]
    # used as VENEER_TOKEN (env mode) or --token (flags mode), it is this tenant
    r = ctlm("-o", "id", "tenant", "list", token=secret)
    assert (r.rc, r.out, r.err) == (0, ten + "\n", ""), r
    r = ctlm("-o", "json", "network", "create", "--name", "mine", "--cidr", "10.0.0.0/16",
             token=secret)
    assert r.rc == 0 and r.err == "", r
    net = r.json()
    assert net["tenant"] == ten and net["name"] == "mine", net
    assert api.get("/v1/networks/" + net["id"])["tenant"] == ten


def test_token_create_table_and_json(ctlm, api):
    ten = api.tenant()["id"]
    # table: the one-row table, then "token: vnr_..." on its own line
    r = ctlm("token", "create", "--tenant", ten, "--name", "tbl")
    assert r.rc == 0 and r.err == "", r
    lines = r.lines
    assert len(lines) == 3, r
    assert lines[2].startswith("token: "), r
    secret = lines[2][len("token: "):]
    assert SECRET_RE.match(secret), r
    rows = parse_table("\n".join(lines[:2]) + "\n", TOKEN_COLS)
    toks = {t["id"]: t for t in api.items("/v1/tenants/%s/tokens" % ten)}
    assert rows[0][0] in toks and rows[0] == row_of(toks[rows[0][0]], TOKEN_FIELDS), (r, toks)
    assert rows[0][1:3] == ["tbl", ten]
    r2 = ctlm("-o", "id", "tenant", "show", ten, token=secret)
    assert (r2.rc, r2.out, r2.err) == (0, ten + "\n", ""), r2
    # json: the object with its secret in "token"
    r = ctlm("-o", "json", "token", "create", "--tenant", ten)
    assert r.rc == 0 and r.err == "", r
    obj = r.json()
    assert SECRET_RE.match(obj["token"]) and obj["tenant"] == ten, obj
    assert obj["id"] in {t["id"] for t in api.items("/v1/tenants/%s/tokens" % ten)}
    r2 = ctlm("-o", "id", "tenant", "list", token=obj["token"])
    assert (r2.rc, r2.out) == (0, ten + "\n"), r2


def test_token_list_never_shows_secrets(ctlm, api):
    ten = api.tenant()["id"]
    secrets_ = [api.token(ten)["token"] for _ in range(3)]
    want = api.items("/v1/tenants/%s/tokens" % ten)
    r = ctlm("token", "list", "--tenant", ten)
    assert r.rc == 0 and r.err == "", r
    assert parse_table(r.out, TOKEN_COLS) == [row_of(t, TOKEN_FIELDS) for t in want], r
    r = ctlm("-o", "json", "token", "list", "--tenant", ten)
    assert r.rc == 0 and r.json() == want, r
    r = ctlm("-o", "id", "token", "list", "--tenant", ten)
    assert r.rc == 0 and r.out == "".join(t["id"] + "\n" for t in want), r
    for fmt in ("table", "json", "id"):
        out = ctlm("-o", fmt, "token", "list", "--tenant", ten).out
        assert "vnr_" not in out and not any(s in out for s in secrets_), out
    # a tenant may list (and create) its own tokens
    r = ctlm("-o", "id", "token", "list", "--tenant", ten, token=secrets_[0])
    assert r.rc == 0 and r.out == "".join(t["id"] + "\n" for t in want), r
    r = ctlm("-o", "id", "token", "create", "--tenant", ten, token=secrets_[0])
    assert r.rc == 0 and SECRET_RE.match(r.out.strip()), r


def test_tenant_token_sees_only_its_own_objects(ctlm, api):
    a, b = api.tenant()["id"], api.tenant()["id"]
    tok_a = api.token(a)["token"]
    net_a = api.network(a)
    net_b = api.network(b)
    sub_a = api.create("/v1/subnets", {"network": net_a["id"], "cidr": "10.0.1.0/24"})["id"]
    sub_b = api.create("/v1/subnets", {"network": net_b["id"], "cidr": "10.0.1.0/24"})["id"]
    port_a = api.create("/v1/ports", {"subnet": sub_a})["id"]
    api.create("/v1/ports", {"subnet": sub_b})
    expect = {
        "tenant": [a],
        "network": [net_a["id"]],
        "router": [net_a["main_router"]],
        "subnet": [sub_a],
        "port": [port_a],
        "link": [],
        "route": [],
    }
    for res, ids in expect.items():
        r = ctlm("-o", "id", res, "list", token=tok_a)
        assert (r.rc, r.out, r.err) == (0, "".join(i + "\n" for i in ids), ""), r
    # the admin sees both
    r = ctlm("-o", "id", "network", "list")
    assert net_a["id"] in r.lines and net_b["id"] in r.lines, r
    # table of the tenant's networks: just the header and its own row
    r = ctlm("network", "list", token=tok_a)
    rows = parse_table(r.out, ["ID", "NAME", "CIDR", "VNID", "TENANT"])
    assert [row[0] for row in rows] == [net_a["id"]] and rows[0][4] == a, r
    # the other tenant's network is "not found", exactly like a missing one
    r_b = ctlm("network", "show", net_b["id"], token=tok_a)
    missing = missing_id("net")
    r_m = ctlm("network", "show", missing, token=tok_a)
    assert (r_b.rc, r_b.out) == (4, "") and (r_m.rc, r_m.out) == (4, ""), (r_b, r_m)
    assert r_b.err.replace(net_b["id"], "ID") == r_m.err.replace(missing, "ID"), (r_b, r_m)
    # filtering on the other tenant's network yields nothing rather than its routers
    r = ctlm("-o", "id", "router", "list", "--network", net_b["id"], token=tok_a)
    assert r.rc == 0 and r.out == "", r
    # and the token may not list another tenant's tokens
    r = ctlm("token", "list", "--tenant", b, token=tok_a)
    assert r.rc == 4 and r.out == "", r


def test_revoked_token_is_refused_with_401(ctlm, api):
    ten = api.tenant()["id"]
    created = api.token(ten)
    secret, tok_id = created["token"], created["id"]
    r = ctlm("-o", "id", "tenant", "list", token=secret)
    assert (r.rc, r.out) == (0, ten + "\n"), r
    r = ctlm("token", "delete", "--tenant", ten, tok_id)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    assert tok_id not in [t["id"] for t in api.items("/v1/tenants/%s/tokens" % ten)]
    status, line = api.error_line("GET", "/v1/tenants", token=secret)
    assert status == 401 and line.startswith("veneerctl: 401 unauthenticated: "), line
    for args in (["tenant", "list"], ["-o", "id", "tenant", "show", ten],
                 ["network", "create", "--name", "x", "--cidr", "10.0.0.0/16"]):
        before = len(api.items("/v1/networks?tenant=" + ten))
        r = ctlm(*args, token=secret)
        assert (r.rc, r.out, r.err) == (1, "", line), r
        assert len(api.items("/v1/networks?tenant=" + ten)) == before
    # deleting it again: 404 -> 4
    r = ctlm("token", "delete", "--tenant", ten, tok_id)
    assert r.rc == 4 and r.out == "" and r.err.startswith("veneerctl: 404 not_found: "), r


def test_no_token_is_refused_with_401_and_a_hint(ctl, api):
    status, line = api.error_line("GET", "/v1/networks", token=None)
    assert status == 401
    for mode in ("env", "flags"):
        r = ctl("network", "list", token=None, mode=mode)
        assert r.rc == 1 and r.out == "", r
        assert r.err.startswith(line), r
        assert "--token" in r.err and "VENEER_TOKEN" in r.err, r


def test_error_json_is_parsed_not_echoed(ctl, api):
    """The error line comes from the error object's fields, not the raw body."""
    r = ctl("tenant", "create", "--name", "-bad name")
    assert r.rc == 1 and r.out == "", r
    status, js = api.req("POST", "/v1/tenants", {"name": "-bad name"})
    assert status == 400 and r.err == format_error(status, js), r
    assert "{" not in r.err and json.dumps(js) not in r.err
    assert r.err.startswith("veneerctl: 400 invalid_value: ") and r.err.endswith(
        " (field: name)\n"), r
