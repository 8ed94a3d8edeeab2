/* Virtual routers of a network and the MAC addresses they and the ports hold. */
#include <string.h>
#include <time.h>

#include "addr.h"
#include "util.h"
#include "vd.h"

#define ROUTER_DEFAULT_ASN 64512

static json_t *
router_json(struct api_req *req, sqlite3_stmt *r)
{
	(void)req;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:o, s:I}", "id",
	    api_col_str(r, 0), "network", api_col_str(r, 1), "tenant", api_col_str(r, 2), "name",
	    api_col_str(r, 3), "mac", api_col_str(r, 4), "asn", (json_int_t)sqlite3_column_int64(r,
	    5), "bgp_hold_time", (json_int_t)sqlite3_column_int64(r, 9), "main",
	    sqlite3_column_int(r, 6), "created", api_col_time(r, 7), "revision",
	    (json_int_t)sqlite3_column_int64(r, 8));
}

static const struct api_filter router_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"name", "name = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

const struct api_kind router_kind = {
	"router", "routers", "id",
	"id, network, tenant, name, mac, asn, main, created, revision, bgp_hold_time", 1,
	router_filters, router_json,
};

static const struct jv_field router_spec[] = {
	{"network", JV_ID, JV_REQ | JV_IMMUTABLE, 0, 0, NULL},
	{"name", JV_NAME, JV_REQ, 0, 0, NULL},
	{"asn", JV_INT, 0, 1, 4294967294LL, NULL},
	{"mac", JV_MAC, JV_IMMUTABLE, 0, 0, NULL},
	{"bgp_hold_time", JV_INT, 0, 0, 65535, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

int
router_take_mac(struct api_req *req, struct api_resp *resp, const char *network,
    const char *mac, const char *owner, char out[18])
{
	uint8_t m[6];

	if (mac) {
		mac_parse(mac, m);
		mac_fmt(m, out); /* canonical lower case */
		if (store_i(req->st, "SELECT 1 FROM macs WHERE network = ? AND mac = ?", 0, "ss",
		    network, out) == 1)
			return api_err(resp, 409, "duplicate", "mac", "mac %s is in use in network %s",
			    out, network), -1;
	} else {
		do {
			util_random(m, sizeof(m));
			/* Locally administered, unicast. */
			m[0] = (uint8_t)((m[0] & 0xfc) | 0x02);
			mac_fmt(m, out);
		} while (store_i(req->st, "SELECT 1 FROM macs WHERE network = ? AND mac = ?", 0,
		    "ss", network, out) == 1);
	}
	store_x(req->st, "INSERT INTO macs (network, mac, owner) VALUES (?, ?, ?)", "sss",
	    network, out, owner);
	return 0;
}

static int
router_asn_ok(struct api_resp *resp, const json_t *v)
{
	json_int_t asn = json_integer_value(v);

	/* AS_TRANS (RFC 6793) and 65535 (RFC 7300) cannot be a speaker's own AS. */
	if (v && (asn == 23456 || asn == 65535))
		return api_err(resp, 400, "invalid_value", "asn", "asn %lld is reserved",
		    (long long)asn), -1;
	return 0;
}

/* RFC 4271 4.2: a hold time is 0 (no keepalives) or at least 3 seconds. */
static int
router_hold_ok(struct api_resp *resp, const json_t *v)
{
	json_int_t h = json_integer_value(v);

	if (json_is_integer(v) && (h == 1 || h == 2))
		return api_err(resp, 400, "invalid_value", "bgp_hold_time", "bgp_hold_time must be "
		    "0 or between 3 and 65535 (RFC 4271)"), -1;
	return 0;
}

int
router_insert(struct api_req *req, struct api_resp *resp, const char *id, const char *network,
    const char *tenant, const char *name, const char *mac, int64_t asn, int main)
{
	char m[MAC_STRLEN];
	int64_t rev = api_change(req, "router", id, "create", network);

	if (router_take_mac(req, resp, network, mac, id, m) < 0)
		return -1;
	store_x(req->st, "INSERT INTO routers (id, network, tenant, name, mac, asn, main, created,"
	    " revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssssibii", id, network, tenant, name,
	    m, asn, main, (int64_t)time(NULL), rev);
	return 0;
}

int
router_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &router_kind, NULL, NULL);
}

int
router_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &router_kind, req->seg[2]);
}

int
router_create(struct api_req *req, struct api_resp *resp)
{
	struct api_ref net;
	json_t *asn, *hold;
	const char *name;
	char id[32];

	if (api_check_body(req, resp, router_spec, JV_MODE_CREATE) < 0 ||
	    api_ref(req, resp, "networks", "network", api_str(req, "network"), &net) < 0 ||
	    router_asn_ok(resp, (asn = json_object_get(req->body, "asn"))) < 0 ||
	    router_hold_ok(resp, (hold = json_object_get(req->body, "bgp_hold_time"))) < 0)
		return 0;
	name = api_str(req, "name");
	if (api_quota(req, resp, "SELECT COUNT(*) FROM routers WHERE network = ?", net.network,
	    VD_MAX_ROUTERS, "routers per network"))
		return 0;
	if (store_i(req->st, "SELECT 1 FROM routers WHERE network = ? AND name = ?", 0, "ss",
	    net.network, name) == 1)
		return api_err(resp, 409, "duplicate", "name", "a router named %s exists in the "
		    "network", name);
	util_new_id("rtr-", id, sizeof(id));
	if (router_insert(req, resp, id, net.network, net.tenant, name, api_str(req, "mac"),
	    asn ? json_integer_value(asn) : ROUTER_DEFAULT_ASN, 0) < 0)
		return 0;
	if (hold)
		store_x(req->st, "UPDATE routers SET bgp_hold_time = ? WHERE id = ?", "is",
		    (int64_t)json_integer_value(hold), id);
	return api_ok(resp, 201, api_load(req, &router_kind, id));
}

int
router_patch(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2], *name;
	json_t *asn, *hold;
	int64_t rev;

	if (!api_exists(req, &router_kind, id))
		return api_not_found(resp, "router", id);
	if (api_check_body(req, resp, router_spec, JV_MODE_PATCH) < 0 ||
	    router_asn_ok(resp, (asn = json_object_get(req->body, "asn"))) < 0 ||
	    router_hold_ok(resp, (hold = json_object_get(req->body, "bgp_hold_time"))) < 0)
		return 0;
	if ((name = api_str(req, "name")) && store_i(req->st, "SELECT 1 FROM routers WHERE "
	    "network = (SELECT network FROM routers WHERE id = ?) AND name = ? AND id != ?", 0,
	    "sss", id, name, id) == 1)
		return api_err(resp, 409, "duplicate", "name", "a router named %s exists in the "
		    "network", name);
	rev = api_change(req, "router", id, "update", NULL);
	if (name)
		store_x(req->st, "UPDATE routers SET name = ? WHERE id = ?", "ss", name, id);
	if (asn && !json_is_null(asn))
		store_x(req->st, "UPDATE routers SET asn = ? WHERE id = ?", "is",
		    (int64_t)json_integer_value(asn), id);
	if (hold && !json_is_null(hold))
		store_x(req->st, "UPDATE routers SET bgp_hold_time = ? WHERE id = ?", "is",
		    (int64_t)json_integer_value(hold), id);
	store_x(req->st, "UPDATE routers SET revision = ? WHERE id = ?", "is", rev, id);
	return api_ok(resp, 200, api_load(req, &router_kind, id));
}

static const struct {
	const char *what, *sql;
} router_deps[] = {
	{"subnet(s)", "SELECT id FROM subnets WHERE router = ?1 ORDER BY id"},
	{"link(s)", "SELECT id FROM links WHERE a = ?1 OR b = ?1 ORDER BY id"},
	{"static route(s)", "SELECT id FROM routes WHERE router = ?1 OR target = ?1 ORDER BY id"},
};

int
router_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &router_kind, id))
		return api_not_found(resp, "router", id);
	if (store_i(req->st, "SELECT main FROM routers WHERE id = ?", 0, "s", id) == 1)
		return api_err(resp, 409, "has_dependents", NULL, "router %s is its network's main "
		    "router: it is deleted with the network", id);
	for (size_t i = 0; i < ARRAY_SIZE(router_deps); i++)
		if (api_deps(req, resp, "router", id, router_deps[i].what, router_deps[i].sql))
			return 0;
	api_change(req, "router", id, "delete", NULL);
	store_x(req->st, "DELETE FROM macs WHERE owner = ?", "s", id);
	store_x(req->st, "DELETE FROM routers WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
