/* Static routes, and the effective table of a router (GET /v1/routers/{id}/routes). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "rib.h"
#include "util.h"
#include "vd.h"

static json_t *
route_json(struct api_req *req, sqlite3_stmt *r)
{
	struct pfx4 p = {(uint32_t)sqlite3_column_int64(r, 3), (uint8_t)sqlite3_column_int(r, 4)};
	char dst[PFX4_STRLEN];

	(void)req;
	pfx4_fmt(&p, dst);
	return json_pack("{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:I}", "id", api_col_str(r, 0),
	    "network", api_col_str(r, 1), "router", api_col_str(r, 2), "destination", dst,
	    "target", api_col_str(r, 5), "target_type", api_col_str(r, 6), "created",
	    api_col_time(r, 7), "revision", (json_int_t)sqlite3_column_int64(r, 8));
}

static const struct api_filter route_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"router", "router = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

static const struct api_kind route_kind = {
	"route", "routes", "id",
	"id, network, router, addr, len, target, target_type, created, revision", 1,
	route_filters, route_json,
};

static const struct jv_field route_spec[] = {
	{"router", JV_ID, JV_REQ, 0, 0, NULL},
	{"destination", JV_CIDR4, JV_REQ, 0, 32, NULL},
	{"target", JV_ID, JV_REQ, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

int
route_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &route_kind, NULL, NULL);
}

int
route_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &route_kind, req->seg[2]);
}

/* Resolves target to its type, checking it is usable from router rtr. */
static int
route_target(struct api_req *req, struct api_resp *resp, const char *rtr,
    const struct api_ref *r, const char *target, const char **type)
{
	struct api_ref t;

	if (strcmp(target, "blackhole") == 0) {
		*type = "blackhole";
		return 0;
	}
	if (strncmp(target, "port-", 5) == 0) {
		*type = "port";
		if (api_ref(req, resp, "ports", "target", target, &t) < 0)
			return -1;
	} else if (strncmp(target, "rtr-", 4) == 0) {
		*type = "router";
		if (api_ref(req, resp, "routers", "target", target, &t) < 0)
			return -1;
		if (strcmp(target, rtr) == 0)
			return api_err(resp, 422, "invalid_reference", "target", "target: a router "
			    "cannot route to itself"), -1;
	} else {
		return api_err(resp, 400, "invalid_value", "target", "target must be a port id, a "
		    "router id or \"blackhole\""), -1;
	}
	if (strcmp(t.network, r->network) != 0)
		return api_err(resp, 422, "invalid_reference", "target", "target: %s is in another "
		    "network", target), -1;
	if (strcmp(*type, "router") == 0 && store_i(req->st, "SELECT 1 FROM links WHERE "
	    "(a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)", 0, "ss", rtr, target) != 1)
		return api_err(resp, 422, "invalid_reference", "target", "target: router %s is not "
		    "linked to router %s", target, rtr), -1;
	return 0;
}

int
route_create(struct api_req *req, struct api_resp *resp)
{
	struct api_ref r;
	struct pfx4 p;
	const char *rtr, *target, *type;
	char id[32];
	int64_t rev;

	if (api_check_body(req, resp, route_spec, JV_MODE_CREATE) < 0)
		return 0;
	rtr = api_str(req, "router");
	target = api_str(req, "target");
	if (api_ref(req, resp, "routers", "router", rtr, &r) < 0 ||
	    route_target(req, resp, rtr, &r, target, &type) < 0)
		return 0;
	if (api_quota(req, resp, "SELECT COUNT(*) FROM routes WHERE network = ?", r.network,
	    VD_MAX_ROUTES, "static routes per network"))
		return 0;
	pfx4_parse(api_str(req, "destination"), &p, 0, 32);
	if (store_i(req->st, "SELECT 1 FROM routes WHERE router = ? AND addr = ? AND len = ? AND "
	    "target = ?", 0, "suis", rtr, p.addr, (int64_t)p.len, target) == 1)
		return api_err(resp, 409, "duplicate", "destination", "router %s already routes %s "
		    "to %s", rtr, api_str(req, "destination"), target);
	util_new_id("rte-", id, sizeof(id));
	rev = api_change(req, "route", id, "create", r.network);
	store_x(req->st, "INSERT INTO routes (id, network, tenant, router, addr, len, target, "
	    "target_type, created, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssssuissii",
	    id, r.network, r.tenant, rtr, p.addr, (int64_t)p.len, target, type,
	    (int64_t)time(NULL), rev);
	return api_ok(resp, 201, api_load(req, &route_kind, id));
}

int
route_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &route_kind, id))
		return api_not_found(resp, "route", id);
	api_change(req, "route", id, "delete", NULL);
	store_x(req->st, "DELETE FROM routes WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}

/* --- effective table --- */

/* The network's topology, loaded for rib_compute; strings owned here. */
struct route_topo {
	char **routers;
	int nrouters;
	int (*links)[2];
	int nlinks;
	struct rib_own *own;
	char **strs;
	int nown;
};

static int
route_index(const struct route_topo *t, const char *id)
{
	for (int i = 0; i < t->nrouters; i++)
		if (strcmp(t->routers[i], id) == 0)
			return i;
	return -1;
}

static void
route_topo_free(struct route_topo *t)
{
	for (int i = 0; i < t->nrouters; i++)
		free(t->routers[i]);
	for (int i = 0; i < t->nown * 2; i++)
		free(t->strs[i]);
	free(t->routers);
	free(t->links);
	free(t->own);
	free(t->strs);
}

static int
route_topo_load(struct store *st, const char *network, struct route_topo *t)
{
	int64_t nr = store_i(st, "SELECT COUNT(*) FROM routers WHERE network = ?", 0, "s", network);
	int64_t nl = store_i(st, "SELECT COUNT(*) FROM links WHERE network = ?", 0, "s", network);
	int64_t no = store_i(st, "SELECT (SELECT COUNT(*) FROM subnets WHERE network = ?1) + "
	    "(SELECT COUNT(*) FROM routes WHERE network = ?1) + (SELECT COUNT(*) FROM "
	    "learned_routes WHERE network = ?1)", 0, "s", network);
	sqlite3_stmt *s;

	memset(t, 0, sizeof(*t));
	t->routers = calloc((size_t)nr + 1, sizeof(char *));
	t->links = calloc((size_t)nl + 1, sizeof(*t->links));
	t->own = calloc((size_t)no + 1, sizeof(*t->own));
	t->strs = calloc((size_t)no * 2 + 1, sizeof(char *));
	if (!t->routers || !t->links || !t->own || !t->strs)
		return -1;
	s = store_q(st, "SELECT id FROM routers WHERE network = ? ORDER BY id", "s", network);
	while (t->nrouters < nr && sqlite3_step(s) == SQLITE_ROW)
		if ((t->routers[t->nrouters] = strdup((const char *)sqlite3_column_text(s, 0))))
			t->nrouters++;
	sqlite3_reset(s);
	s = store_q(st, "SELECT a, b FROM links WHERE network = ?", "s", network);
	while (t->nlinks < nl && sqlite3_step(s) == SQLITE_ROW) {
		t->links[t->nlinks][0] = route_index(t, (const char *)sqlite3_column_text(s, 0));
		t->links[t->nlinks][1] = route_index(t, (const char *)sqlite3_column_text(s, 1));
		t->nlinks++;
	}
	sqlite3_reset(s);
	/* Learned routes count when installed: what the agents get (accepted and selected). */
	s = store_q(st, "SELECT router, addr, len, id, NULL, 'subnet', 0 FROM subnets WHERE "
	    "network = ?1 UNION ALL SELECT router, addr, len, target, id, target_type, 0 FROM "
	    "routes WHERE network = ?1 UNION ALL SELECT router, addr, len, nexthop_port, id, 'bgp', "
	    "override FROM learned_routes WHERE network = ?1 AND status = 'accepted' AND "
	    "selected = 1 AND nexthop_port IS NOT NULL", "s", network);
	while (t->nown < no && sqlite3_step(s) == SQLITE_ROW) {
		struct rib_own *o = &t->own[t->nown];
		const char *type = (const char *)sqlite3_column_text(s, 5);

		o->router = route_index(t, (const char *)sqlite3_column_text(s, 0));
		o->dst.addr = (uint32_t)sqlite3_column_int64(s, 1);
		o->dst.len = (uint8_t)sqlite3_column_int(s, 2);
		o->origin = strcmp(type, "subnet") == 0 ? RIB_CONNECTED : strcmp(type, "bgp") == 0 ?
		    RIB_BGP : RIB_STATIC;
		o->ttype = strcmp(type, "subnet") == 0 ? RIB_T_SUBNET : strcmp(type, "port") == 0 ||
		    strcmp(type, "bgp") == 0 ? RIB_T_PORT : strcmp(type, "router") == 0 ?
		    RIB_T_ROUTER : RIB_T_BLACKHOLE;
		o->override = o->origin == RIB_BGP && sqlite3_column_int(s, 6) != 0;
		t->strs[2 * t->nown] = strdup((const char *)sqlite3_column_text(s, 3));
		if (t->strs[2 * t->nown] == NULL)
			break;
		if (sqlite3_column_type(s, 4) != SQLITE_NULL &&
		    (t->strs[2 * t->nown + 1] = strdup((const char *)sqlite3_column_text(s,
		    4))) == NULL) {
			free(t->strs[2 * t->nown]);
			t->strs[2 * t->nown] = NULL;
			break;
		}
		o->target = o->ttype == RIB_T_BLACKHOLE ? NULL : t->strs[2 * t->nown];
		o->route_id = t->strs[2 * t->nown + 1];
		t->nown++;
	}
	sqlite3_reset(s);
	return 0;
}

static json_t *
route_entry_json(const struct rib_entry *e)
{
	char dst[PFX4_STRLEN];
	json_t *o;

	pfx4_fmt(&e->dst, dst);
	o = json_pack("{s:s, s:s, s:s, s:s?, s:i, s:i, s:b}", "destination", dst, "origin",
	    rib_origin_name(e->origin), "target_type", rib_target_name(e->ttype), "target",
	    e->target, "distance", (int)e->origin, "metric", (int)e->metric, "selected",
	    e->selected);
	if (e->target == NULL)
		json_object_set_new(o, "target", json_string("blackhole"));
	if (e->route_id)
		json_object_set_new(o, e->origin == RIB_BGP ? "learned" : "route",
		    json_string(e->route_id));
	return o;
}

int
route_effective(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];
	struct api_ref r;
	struct route_topo t;
	struct rib_net net;
	struct rib_entry *e = NULL;
	json_t *items;
	int n;

	if (!api_exists(req, &router_kind, id))
		return api_not_found(resp, "router", id);
	if (api_ref(req, resp, "routers", "router", id, &r) < 0)
		return 0;
	if (route_topo_load(req->st, r.network, &t) < 0) {
		route_topo_free(&t);
		return api_err(resp, 500, "internal", NULL, "out of memory");
	}
	net = (struct rib_net){t.nrouters, (const char *const *)t.routers, t.nlinks,
	    (const int(*)[2])t.links, t.nown, t.own};
	n = rib_compute(&net, route_index(&t, id), &e);
	items = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(items, route_entry_json(&e[i]));
	free(e);
	route_topo_free(&t);
	if (n < 0) {
		json_decref(items);
		return api_err(resp, 500, "internal", NULL, "out of memory");
	}
	return api_ok(resp, 200, json_pack("{s:o}", "items", items));
}
