/* Subnets: a CIDR of a network, attached to one of its routers. */
#include <string.h>
#include <time.h>

#include "addr.h"
#include "util.h"
#include "vd.h"

static json_t *
subnet_json(struct api_req *req, sqlite3_stmt *r)
{
	struct pfx4 p = {(uint32_t)sqlite3_column_int64(r, 4), (uint8_t)sqlite3_column_int(r, 5)};
	char cidr[PFX4_STRLEN], gw[ADDR4_STRLEN];

	(void)req;
	pfx4_fmt(&p, cidr);
	addr4_fmt(p.addr + 1, gw);
	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:s, s:o, s:I}", "id", api_col_str(r, 0),
	    "network", api_col_str(r, 1), "tenant", api_col_str(r, 2), "name", api_col_str(r, 3),
	    "cidr", cidr, "router", api_col_str(r, 6), "gateway_ip", gw, "created",
	    api_col_time(r, 7), "revision", (json_int_t)sqlite3_column_int64(r, 8));
}

static const struct api_filter subnet_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"router", "router = ?", API_F_TEXT},
	{"name", "name = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

const struct api_kind subnet_kind = {
	"subnet", "subnets", "id",
	"id, network, tenant, name, addr, len, router, created, revision", 1, subnet_filters,
	subnet_json,
};

static const struct jv_field subnet_spec[] = {
	{"network", JV_ID, JV_REQ | JV_IMMUTABLE, 0, 0, NULL},
	{"cidr", JV_CIDR4, JV_REQ | JV_IMMUTABLE, 8, 30, NULL},
	{"router", JV_ID, 0, 0, 0, NULL},
	{"name", JV_NAME, JV_NULLABLE, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

int
subnet_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &subnet_kind, NULL, NULL);
}

int
subnet_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &subnet_kind, req->seg[2]);
}

/* The cidr must sit inside one of the network's CIDRs and clear every other subnet. */
static int
subnet_place(struct api_req *req, struct api_resp *resp, const char *network,
    const struct pfx4 *p, const char *text)
{
	struct pfx4 nc[16];
	int n = network_cidrs(req->st, network, nc, 16), inside = 0;
	sqlite3_stmt *s;

	for (int i = 0; i < n && !inside; i++)
		inside = pfx4_contains(&nc[i], p);
	if (!inside)
		return api_err(resp, 422, "out_of_range", "cidr", "cidr %s is outside the network's "
		    "CIDRs", text), -1;
	s = store_q(req->st, "SELECT id, addr, len FROM subnets WHERE network = ?", "s", network);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct pfx4 o = {(uint32_t)sqlite3_column_int64(s, 1),
		    (uint8_t)sqlite3_column_int(s, 2)};

		if (pfx4_overlaps(p, &o)) {
			api_err(resp, 409, "overlap", "cidr", "cidr %s overlaps subnet %s", text,
			    sqlite3_column_text(s, 0));
			sqlite3_reset(s);
			return -1;
		}
	}
	sqlite3_reset(s);
	return 0;
}

/* router (or the main router when NULL) must be a router of network; copies its id. */
static int
subnet_router(struct api_req *req, struct api_resp *resp, const char *network,
    const char *router, char out[32])
{
	struct api_ref r;

	if (router == NULL) {
		sqlite3_stmt *s = store_q(req->st, "SELECT main_router FROM networks WHERE id = ?",
		    "s", network);

		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(out, 32, "%s", sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		return 0;
	}
	if (api_ref(req, resp, "routers", "router", router, &r) < 0)
		return -1;
	if (strcmp(r.network, network) != 0)
		return api_err(resp, 422, "invalid_reference", "router", "router: %s is in another "
		    "network", router), -1;
	snprintf(out, 32, "%s", router);
	return 0;
}

static int
subnet_name_taken(struct api_req *req, struct api_resp *resp, const char *network,
    const char *name, const char *self)
{
	if (name == NULL || store_i(req->st, "SELECT 1 FROM subnets WHERE network = ? AND "
	    "name = ? AND id != ?", 0, "sss", network, name, self ? self : "") != 1)
		return 0;
	api_err(resp, 409, "duplicate", "name", "a subnet named %s exists in the network", name);
	return 1;
}

int
subnet_create(struct api_req *req, struct api_resp *resp)
{
	struct api_ref net;
	struct pfx4 p;
	char id[32], rtr[32];
	const char *cidr, *name;
	int64_t rev;

	if (api_check_body(req, resp, subnet_spec, JV_MODE_CREATE) < 0 ||
	    api_ref(req, resp, "networks", "network", api_str(req, "network"), &net) < 0)
		return 0;
	if (api_quota(req, resp, "SELECT COUNT(*) FROM subnets WHERE network = ?", net.network,
	    VD_MAX_SUBNETS, "subnets per network"))
		return 0;
	cidr = api_str(req, "cidr");
	name = api_str(req, "name");
	pfx4_parse(cidr, &p, 8, 30);
	if (subnet_place(req, resp, net.network, &p, cidr) < 0 ||
	    subnet_router(req, resp, net.network, api_str(req, "router"), rtr) < 0 ||
	    subnet_name_taken(req, resp, net.network, name, NULL))
		return 0;
	util_new_id("sub-", id, sizeof(id));
	rev = api_change(req, "subnet", id, "create", net.network);
	store_x(req->st, "INSERT INTO subnets (id, network, tenant, name, addr, len, router, "
	    "created, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssssuisii", id, net.network,
	    net.tenant, name, p.addr, (int64_t)p.len, rtr, (int64_t)time(NULL), rev);
	return api_ok(resp, 201, api_load(req, &subnet_kind, id));
}

int
subnet_patch(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2], *router;
	char network[32] = "", rtr[32];
	json_t *name;
	sqlite3_stmt *s;
	int64_t rev;

	if (!api_exists(req, &subnet_kind, id))
		return api_not_found(resp, "subnet", id);
	if (api_check_body(req, resp, subnet_spec, JV_MODE_PATCH) < 0)
		return 0;
	s = store_q(req->st, "SELECT network FROM subnets WHERE id = ?", "s", id);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(network, sizeof(network), "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	name = json_object_get(req->body, "name");
	router = api_str(req, "router");
	if (subnet_name_taken(req, resp, network, json_string_value(name), id) ||
	    (router && subnet_router(req, resp, network, router, rtr) < 0))
		return 0;
	rev = api_change(req, "subnet", id, "update", network);
	if (name)
		store_x(req->st, "UPDATE subnets SET name = ? WHERE id = ?", "ss",
		    json_string_value(name), id);
	if (router)
		store_x(req->st, "UPDATE subnets SET router = ? WHERE id = ?", "ss", rtr, id);
	store_x(req->st, "UPDATE subnets SET revision = ? WHERE id = ?", "is", rev, id);
	return api_ok(resp, 200, api_load(req, &subnet_kind, id));
}

int
subnet_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &subnet_kind, id))
		return api_not_found(resp, "subnet", id);
	if (api_deps(req, resp, "subnet", id, "port(s)", "SELECT id FROM ports WHERE subnet = ? "
	    "ORDER BY id"))
		return 0;
	api_change(req, "subnet", id, "delete", NULL);
	store_x(req->st, "DELETE FROM subnets WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
