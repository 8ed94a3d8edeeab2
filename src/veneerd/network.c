/* Networks: a tenant's address space, its VNID, and the main router created with it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bgpapi.h"
#include "util.h"
#include "vd.h"

#define NET_MAX_CIDRS 16
#define NET_VNID_MAX 16777215

/* Ranges a network may never use: this host, loopback, link-local, multicast, reserved. */
static const struct pfx4 network_reserved[] = {
	{0x00000000, 8}, {0x7f000000, 8}, {0xa9fe0000, 16}, {0xe0000000, 3},
};

json_t *
network_cidrs_json(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_q(st, "SELECT addr, len FROM network_cidrs WHERE network = ? "
	    "ORDER BY pos", "s", id);
	json_t *a = json_array();

	while (sqlite3_step(s) == SQLITE_ROW) {
		struct pfx4 p = {(uint32_t)sqlite3_column_int64(s, 0),
		    (uint8_t)sqlite3_column_int(s, 1)};
		char buf[PFX4_STRLEN];

		pfx4_fmt(&p, buf);
		json_array_append_new(a, json_string(buf));
	}
	sqlite3_reset(s);
	return a;
}

int
network_cidrs(struct store *st, const char *id, struct pfx4 *out, int max)
{
	sqlite3_stmt *s = store_q(st, "SELECT addr, len FROM network_cidrs WHERE network = ? "
	    "ORDER BY pos", "s", id);
	int n = 0;

	while (n < max && sqlite3_step(s) == SQLITE_ROW) {
		out[n].addr = (uint32_t)sqlite3_column_int64(s, 0);
		out[n].len = (uint8_t)sqlite3_column_int(s, 1);
		n++;
	}
	sqlite3_reset(s);
	return n;
}

static json_t *
network_json(struct api_req *req, sqlite3_stmt *r)
{
	const char *id = (const char *)sqlite3_column_text(r, 0);

	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:I}", "id",
	    api_col_str(r, 0), "tenant", api_col_str(r, 1), "name", api_col_str(r, 2), "cidr",
	    network_cidrs_json(req->st, id), "vnid", (json_int_t)sqlite3_column_int64(r, 3),
	    "main_router", api_col_str(r, 4), "import_policy",
	    bgpapi_policy_json((const char *)sqlite3_column_text(r, 7)), "created",
	    api_col_time(r, 5), "revision", (json_int_t)sqlite3_column_int64(r, 6));
}

static const struct api_filter network_filters[] = {
	{"name", "name = ?", API_F_TEXT},
	{"tenant", "tenant = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

const struct api_kind network_kind = {
	"network", "networks", "id",
	"id, tenant, name, vnid, main_router, created, revision, import_policy", 1,
	network_filters, network_json,
};

static const struct jv_field network_spec[] = {
	{"name", JV_NAME, JV_REQ, 0, 0, NULL},
	{"cidr", JV_CIDR4_SET, JV_REQ, 8, 30, NULL},
	{"tenant", JV_ID, JV_ADMIN | JV_CREATE, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/*
 * Takes import_policy out of the body (the field table has no object type) and checks it:
 * *text is the normalized policy to store, or NULL when the body does not set it.
 */
static int
network_policy(struct api_req *req, struct api_resp *resp, char **text)
{
	json_t *in = bgpapi_take(req->body, "import_policy"), *pol;

	*text = NULL;
	if (in == NULL)
		return 0;
	if (bgpapi_policy_check(resp, in, "import_policy", &pol) < 0) {
		json_decref(in);
		return -1;
	}
	*text = json_dumps(pol, JSON_COMPACT);
	json_decref(pol);
	json_decref(in);
	if (*text == NULL)
		return api_err(resp, 500, "internal", NULL, "out of memory"), -1;
	return 0;
}

/* Parses the already-validated cidr member into out; -1 with a 400 on a policy refusal. */
static int
network_parse_cidrs(struct api_resp *resp, json_t *v, struct pfx4 *out, int *n)
{
	json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
	size_t i;
	json_t *x;

	*n = 0;
	json_array_foreach(list, i, x) {
		const char *s = json_string_value(x);

		pfx4_parse(s, &out[*n], 8, 30);
		for (size_t r = 0; r < ARRAY_SIZE(network_reserved); r++)
			if (pfx4_overlaps(&out[*n], &network_reserved[r])) {
				json_decref(list);
				return api_err(resp, 400, "invalid_value", "cidr",
				    "cidr: %s lies in a reserved range (0/8, 127/8, 169.254/16, "
				    "224/3)", s), -1;
			}
		for (int k = 0; k < *n; k++)
			if (pfx4_overlaps(&out[*n], &out[k])) {
				json_decref(list);
				return api_err(resp, 400, "invalid_value", "cidr",
				    "cidr: %s overlaps another CIDR of the network", s), -1;
			}
		(*n)++;
	}
	json_decref(list);
	return 0;
}

static void
network_store_cidrs(struct api_req *req, const char *id, const struct pfx4 *c, int n)
{
	store_x(req->st, "DELETE FROM network_cidrs WHERE network = ?", "s", id);
	for (int i = 0; i < n; i++)
		store_x(req->st, "INSERT INTO network_cidrs (network, addr, len, pos) "
		    "VALUES (?, ?, ?, ?)", "suii", id, c[i].addr, (int64_t)c[i].len, (int64_t)i);
}

/*
 * Allocates a VNID: the counter moves forward and wraps, so a deleted network's VNID is not
 * handed out again until the space has been used up (late packets of the old network
 * cannot reach the new one).
 */
static int64_t
network_alloc_vnid(struct api_req *req)
{
	int64_t v = store_meta_get(req->st, "next_vnid", 1);

	for (int64_t tries = 0; tries < NET_VNID_MAX; tries++) {
		if (v < 1 || v > NET_VNID_MAX)
			v = 1;
		if (store_i(req->st, "SELECT 1 FROM networks WHERE vnid = ?", 0, "i", v) != 1) {
			store_meta_set(req->st, "next_vnid", v + 1);
			return v;
		}
		v++;
	}
	return -1;
}

static int
network_tenant(struct api_req *req, struct api_resp *resp, const char **tenant)
{
	if (!req->is_admin) {
		*tenant = req->tenant;
		return 0;
	}
	*tenant = api_str(req, "tenant");
	if (*tenant == NULL)
		return api_err(resp, 400, "missing_field", "tenant",
		    "tenant is required when the admin creates a network"), -1;
	if (store_i(req->st, "SELECT 1 FROM tenants WHERE id = ?", 0, "s", *tenant) != 1)
		return api_err(resp, 422, "invalid_reference", "tenant", "tenant: no such tenant "
		    "%.64s", *tenant), -1;
	return 0;
}

int
network_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &network_kind, NULL, NULL);
}

int
network_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &network_kind, req->seg[2]);
}

int
network_create(struct api_req *req, struct api_resp *resp)
{
	struct pfx4 cidrs[NET_MAX_CIDRS];
	char id[32], rtr[32], *policy = NULL;
	const char *tenant, *name;
	int n;
	int64_t vnid, rev;

	if (network_policy(req, resp, &policy) < 0)
		return 0;
	if (api_check_body(req, resp, network_spec, JV_MODE_CREATE) < 0 ||
	    network_tenant(req, resp, &tenant) < 0 ||
	    network_parse_cidrs(resp, json_object_get(req->body, "cidr"), cidrs, &n) < 0) {
		free(policy);
		return 0;
	}
	name = api_str(req, "name");
	if (store_i(req->st, "SELECT 1 FROM networks WHERE tenant = ? AND name = ?", 0, "ss",
	    tenant, name) == 1) {
		free(policy);
		return api_err(resp, 409, "duplicate", "name", "a network named %s exists", name);
	}
	if (api_quota(req, resp, "SELECT COUNT(*) FROM networks WHERE tenant = ?", tenant,
	    VD_MAX_NETWORKS, "networks per tenant")) {
		free(policy);
		return 0;
	}
	if ((vnid = network_alloc_vnid(req)) < 0) {
		free(policy);
		return api_err(resp, 409, "limit_exceeded", NULL, "all 16777215 VNIDs are in use");
	}
	util_new_id("net-", id, sizeof(id));
	util_new_id("rtr-", rtr, sizeof(rtr));
	rev = api_change(req, "network", id, "create", id);
	store_x(req->st, "INSERT INTO networks (id, tenant, name, vnid, main_router, created, "
	    "revision) VALUES (?, ?, ?, ?, ?, ?, ?)", "sssisii", id, tenant, name, vnid, rtr,
	    (int64_t)time(NULL), rev);
	if (policy)
		store_x(req->st, "UPDATE networks SET import_policy = ? WHERE id = ?", "ss", policy,
		    id);
	free(policy);
	network_store_cidrs(req, id, cidrs, n);
	if (router_insert(req, resp, rtr, id, tenant, "main", NULL, 64512, 1) < 0)
		return 0;
	return api_ok(resp, 201, api_load(req, &network_kind, id));
}

/* Every port's claimable ranges must stay inside the network's CIDRs too. */
static int
network_claims_keep(struct api_req *req, struct api_resp *resp, const char *id,
    const struct pfx4 *c, int n)
{
	sqlite3_stmt *s = store_q(req->st, "SELECT id, claimable FROM ports WHERE network = ?",
	    "s", id);
	int rc = 0;

	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		json_t *cl = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL), *x;
		size_t i;

		json_array_foreach(cl, i, x) {
			struct pfx4 p;
			int inside = 0;

			if (pfx4_parse(json_string_value(x), &p, 0, 32) != ADDR_OK)
				continue;
			for (int k = 0; k < n && !inside; k++)
				inside = pfx4_contains(&c[k], &p);
			if (!inside) {
				api_err(resp, 409, "has_dependents", "cidr", "port %s may claim %s, "
				    "outside the new CIDRs", sqlite3_column_text(s, 0),
				    json_string_value(x));
				rc = -1;
				break;
			}
		}
		json_decref(cl);
	}
	sqlite3_reset(s);
	return rc;
}

/* A CIDR list may shrink only if every subnet and claimable range stays inside it. */
static int
network_cidrs_keep(struct api_req *req, struct api_resp *resp, const char *id,
    const struct pfx4 *c, int n)
{
	sqlite3_stmt *s = store_q(req->st, "SELECT id, addr, len FROM subnets WHERE network = ?",
	    "s", id);

	while (sqlite3_step(s) == SQLITE_ROW) {
		struct pfx4 p = {(uint32_t)sqlite3_column_int64(s, 1),
		    (uint8_t)sqlite3_column_int(s, 2)};
		int inside = 0;

		for (int i = 0; i < n && !inside; i++)
			inside = pfx4_contains(&c[i], &p);
		if (!inside) {
			char buf[PFX4_STRLEN];

			pfx4_fmt(&p, buf);
			api_err(resp, 409, "has_dependents", "cidr", "subnet %s (%s) lies outside the "
			    "new CIDRs", sqlite3_column_text(s, 0), buf);
			sqlite3_reset(s);
			return -1;
		}
	}
	sqlite3_reset(s);
	return network_claims_keep(req, resp, id, c, n);
}

/* The name and cidr of a PATCH; *cv is the new CIDR list or NULL. */
static int
network_patch_check(struct api_req *req, struct api_resp *resp, const char *id,
    struct pfx4 *cidrs, int *n, json_t **cv)
{
	const char *name = api_str(req, "name");

	if (name && store_i(req->st, "SELECT 1 FROM networks WHERE tenant = (SELECT tenant FROM "
	    "networks WHERE id = ?) AND name = ? AND id != ?", 0, "sss", id, name, id) == 1)
		return api_err(resp, 409, "duplicate", "name", "a network named %s exists", name),
		    -1;
	if ((*cv = json_object_get(req->body, "cidr")) != NULL && !json_is_null(*cv))
		return network_parse_cidrs(resp, *cv, cidrs, n) < 0 ||
		    network_cidrs_keep(req, resp, id, cidrs, *n) < 0 ? -1 : 0;
	*cv = NULL;
	return 0;
}

int
network_patch(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2], *name;
	struct pfx4 cidrs[NET_MAX_CIDRS];
	json_t *cv;
	char *policy = NULL;
	int n;
	int64_t rev;

	if (!api_exists(req, &network_kind, id))
		return api_not_found(resp, "network", id);
	if (network_policy(req, resp, &policy) < 0)
		return 0;
	if (api_check_body(req, resp, network_spec, JV_MODE_PATCH) < 0 ||
	    network_patch_check(req, resp, id, cidrs, &n, &cv) < 0) {
		free(policy);
		return 0;
	}
	name = api_str(req, "name");
	rev = api_change(req, "network", id, "update", id);
	if (name)
		store_x(req->st, "UPDATE networks SET name = ? WHERE id = ?", "ss", name, id);
	if (policy)
		store_x(req->st, "UPDATE networks SET import_policy = ? WHERE id = ?", "ss", policy,
		    id);
	free(policy);
	if (cv)
		network_store_cidrs(req, id, cidrs, n);
	store_x(req->st, "UPDATE networks SET revision = ? WHERE id = ?", "is", rev, id);
	return api_ok(resp, 200, api_load(req, &network_kind, id));
}

static const struct {
	const char *what, *sql;
} network_deps[] = {
	{"subnet(s)", "SELECT id FROM subnets WHERE network = ? ORDER BY id"},
	{"port(s)", "SELECT id FROM ports WHERE network = ? ORDER BY id"},
	{"router(s) besides main", "SELECT id FROM routers WHERE network = ? AND main = 0 "
	    "ORDER BY id"},
	{"link(s)", "SELECT id FROM links WHERE network = ? ORDER BY id"},
	{"static route(s)", "SELECT id FROM routes WHERE network = ? ORDER BY id"},
};

int
network_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &network_kind, id))
		return api_not_found(resp, "network", id);
	for (size_t i = 0; i < ARRAY_SIZE(network_deps); i++)
		if (api_deps(req, resp, "network", id, network_deps[i].what, network_deps[i].sql))
			return 0;
	api_change(req, "network", id, "delete", id);
	{
		/* The main router goes too: agents hear of it like of any other deletion. */
		sqlite3_stmt *s = store_q(req->st, "SELECT id FROM routers WHERE network = ?", "s",
		    id);
		char rtr[32] = "";

		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(rtr, sizeof(rtr), "%s", sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		if (rtr[0])
			api_change(req, "router", rtr, "delete", id);
	}
	store_x(req->st, "DELETE FROM macs WHERE network = ?", "s", id);
	store_x(req->st, "DELETE FROM routers WHERE network = ?", "s", id);
	store_x(req->st, "DELETE FROM network_cidrs WHERE network = ?", "s", id);
	store_x(req->st, "DELETE FROM networks WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
