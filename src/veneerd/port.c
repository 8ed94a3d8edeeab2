/* Ports: a VM's virtual NIC on a subnet, its addresses, and where it lives. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bgpapi.h"
#include "claim.h"
#include "ipam.h"
#include "util.h"
#include "vd.h"
#include "ccsrv.h"

#define PORT_MAX_IPS 32
#define PORT_MAX_CLAIMABLE 32

static json_t *
port_extra_ips(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_q(st, "SELECT addr FROM port_addrs WHERE port = ? AND pos > 0 "
	    "ORDER BY pos", "s", id);
	json_t *a = json_array();

	while (sqlite3_step(s) == SQLITE_ROW) {
		char buf[ADDR4_STRLEN];

		addr4_fmt((uint32_t)sqlite3_column_int64(s, 0), buf);
		json_array_append_new(a, json_string(buf));
	}
	sqlite3_reset(s);
	return a;
}

static json_t *
port_json(struct api_req *req, sqlite3_stmt *r)
{
	const char *id = (const char *)sqlite3_column_text(r, 0);
	json_t *claimable = json_loads((const char *)sqlite3_column_text(r, 9), 0, NULL);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, "
	    "s:o, s:o, s:o, s:o, s:I, s:o}", "id", api_col_str(r, 0), "network", api_col_str(r, 1),
	    "subnet", api_col_str(r, 2), "tenant", api_col_str(r, 3), "host", api_col_str(r, 4),
	    "name", api_col_str(r, 5), "mac", api_col_str(r, 6), "ip", api_col_addr4(r, 7),
	    "extra_ips", port_extra_ips(req->st, id), "claimable", claimable ? claimable :
	    json_array(), "vips", claim_port_vips(req->st, id), "source_dest_check", sqlite3_column_int(r, 10), "routing",
	    sqlite3_column_int(r, 11), "bgp", bgpapi_port_json((const char *)sqlite3_column_text(r,
	    16)), "device", api_col_str(r, 12), "state", api_col_str(r, 13), "created",
	    api_col_time(r, 14), "revision", (json_int_t)sqlite3_column_int64(r, 15), "counters",
	    ccsrv_port_json(req->vd->cc, (const char *)sqlite3_column_text(r, 4), id));
}

static const struct api_filter port_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"subnet", "subnet = ?", API_F_TEXT},
	{"host", "host = ?", API_F_TEXT},
	{"name", "name = ?", API_F_TEXT},
	{"ip", "id IN (SELECT port FROM port_addrs WHERE addr = ?)", API_F_ADDR4},
	{NULL, NULL, 0},
};

static const struct api_kind port_kind = {
	"port", "ports", "id",
	"id, network, subnet, tenant, host, name, mac, ip, 0, claimable, sdc, routing, device, "
	"state, created, revision, bgp", 1, port_filters, port_json,
};

static const struct jv_field port_spec[] = {
	{"subnet", JV_ID, JV_REQ | JV_IMMUTABLE, 0, 0, NULL},
	{"host", JV_HOSTNAME, JV_NULLABLE, 0, 0, NULL},
	{"name", JV_NAME, JV_NULLABLE, 0, 0, NULL},
	{"mac", JV_MAC, JV_IMMUTABLE, 0, 0, NULL},
	{"ip", JV_ADDR4, JV_IMMUTABLE, 0, 0, NULL},
	{"extra_ips", JV_ADDR4_LIST, 0, 0, PORT_MAX_IPS, NULL},
	{"claimable", JV_CIDR4_LIST, 0, 0, PORT_MAX_CLAIMABLE, NULL},
	{"source_dest_check", JV_BOOL, 0, 0, 0, NULL},
	{"routing", JV_BOOL, 0, 0, 0, NULL},
	/*
	 * Device names share one namespace per host across tenants: letting a tenant choose one
	 * would tell it which names other tenants' ports hold there. The admin (the
	 * orchestrator placing VMs) may; tenants get the name derived from the port id.
	 */
	{"device", JV_DEVICE, JV_ADMIN, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* What a port needs to know about its subnet. */
struct port_subnet {
	struct api_ref ref;
	char id[32];
	struct pfx4 cidr;
};

static int
port_load_subnet(struct api_req *req, struct api_resp *resp, const char *id,
    struct port_subnet *ps)
{
	if (api_ref(req, resp, "subnets", "subnet", id, &ps->ref) < 0)
		return -1;
	snprintf(ps->id, sizeof(ps->id), "%s", id);
	ps->cidr.addr = (uint32_t)store_i(req->st, "SELECT addr FROM subnets WHERE id = ?", 0, "s",
	    id);
	ps->cidr.len = (uint8_t)store_i(req->st, "SELECT len FROM subnets WHERE id = ?", 0, "s",
	    id);
	return 0;
}

/* One address the port asks for: inside, not reserved, not held by another port. */
static int
port_check_addr(struct api_req *req, struct api_resp *resp, const struct port_subnet *ps,
    uint32_t a, const char *field, const char *self)
{
	static const char *const why[] = {
		[IPAM_OUTSIDE] = "is outside the subnet",
		[IPAM_NETWORK] = "is the subnet's network address",
		[IPAM_GATEWAY] = "is the subnet's gateway (the router's address)",
		[IPAM_BROADCAST] = "is the subnet's broadcast address",
	};
	enum ipam_class c = ipam_classify(&ps->cidr, a);
	char buf[ADDR4_STRLEN], holder[32] = "";
	sqlite3_stmt *s;

	addr4_fmt(a, buf);
	if (c != IPAM_USABLE)
		return api_err(resp, 422, "out_of_range", field, "%s: %s %s", field, buf, why[c]),
		    -1;
	s = store_q(req->st, "SELECT port FROM port_addrs WHERE subnet = ? AND addr = ?", "su",
	    ps->id, a);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(holder, sizeof(holder), "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (holder[0] && (self == NULL || strcmp(holder, self) != 0))
		return api_err(resp, 409, "in_use", field, "%s: %s is held by port %s", field, buf,
		    holder), -1;
	/* A virtual IP held now is taken too (its own: it becomes fixed, see port_patch). */
	claim_holder(req->st, ps->ref.network, a, holder);
	if (holder[0] && (self == NULL || strcmp(holder, self) != 0))
		return api_err(resp, 409, "in_use", field, "%s: %s is held as a virtual IP by port "
		    "%s", field, buf, holder), -1;
	return 0;
}

/* Checks the extra_ips list (against ip and each other) into out; count or -1. */
static int
port_check_extra(struct api_req *req, struct api_resp *resp, const struct port_subnet *ps,
    const json_t *list, uint32_t ip, const char *self, uint32_t *out)
{
	size_t i;
	json_t *x;
	int n = 0;

	json_array_foreach(list, i, x) {
		uint32_t a;

		addr4_parse(json_string_value(x), &a);
		if (a == ip)
			return api_err(resp, 400, "invalid_value", "extra_ips", "extra_ips[%zu] repeats "
			    "the port's ip", i), -1;
		for (int k = 0; k < n; k++)
			if (out[k] == a)
				return api_err(resp, 400, "invalid_value", "extra_ips", "extra_ips[%zu] "
				    "is listed twice", i), -1;
		if (port_check_addr(req, resp, ps, a, "extra_ips", self) < 0)
			return -1;
		out[n++] = a;
	}
	return n;
}

static int
port_check_claimable(struct api_req *req, struct api_resp *resp, const char *network,
    const json_t *list)
{
	struct pfx4 nc[16], p;
	int n = network_cidrs(req->st, network, nc, 16);
	size_t i;
	json_t *x;

	json_array_foreach(list, i, x) {
		int inside = 0;

		for (size_t k = 0; k < i; k++)
			if (json_equal(x, json_array_get(list, k)))
				return api_err(resp, 400, "invalid_value", "claimable", "claimable[%zu] "
				    "is listed twice", i), -1;
		pfx4_parse(json_string_value(x), &p, 0, 32);
		for (int k = 0; k < n && !inside; k++)
			inside = pfx4_contains(&nc[k], &p);
		if (!inside)
			return api_err(resp, 422, "out_of_range", "claimable", "claimable[%zu]: %s is "
			    "outside the network's CIDRs", i, json_string_value(x)), -1;
	}
	return 0;
}

static int
port_check_host(struct api_req *req, struct api_resp *resp, const char *host,
    const char *device, const char *self)
{
	if (host == NULL)
		return 0;
	if (store_i(req->st, "SELECT 1 FROM hosts WHERE name = ?", 0, "s", host) != 1)
		return api_err(resp, 422, "invalid_reference", "host", "host: no such host %.64s",
		    host), -1;
	if (store_i(req->st, "SELECT 1 FROM ports WHERE host = ? AND device = ? AND id != ?", 0,
	    "sss", host, device, self) == 1)
		return api_err(resp, 409, "duplicate", "device", "device %s is taken on host %s",
		    device, host), -1;
	return 0;
}

static int
port_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Lowest free address, also avoiding the extra addresses this same request asks for. */
static int
port_alloc_ip(struct api_req *req, struct api_resp *resp, const struct port_subnet *ps,
    const json_t *extra, uint32_t *ip)
{
	sqlite3_stmt *s = store_q(req->st, "SELECT addr FROM port_addrs WHERE subnet = ? "
	    "ORDER BY addr", "s", ps->id);
	size_t n = 0, cap = 64 + json_array_size(extra), i;
	uint32_t *used = malloc(cap * sizeof(*used));
	json_t *x;
	int rc = -1;

	if (used == NULL) {
		sqlite3_reset(s);
		return api_err(resp, 500, "internal", NULL, "out of memory"), -1;
	}
	json_array_foreach(extra, i, x)
		addr4_parse(json_string_value(x), &used[n++]);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			uint32_t *u = realloc(used, (cap *= 2) * sizeof(*used));

			if (u == NULL)
				goto out;
			used = u;
		}
		used[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	/* Virtual IPs held now are not free either. */
	s = store_q(req->st, "SELECT addr FROM vip_owners WHERE network = ? AND addr BETWEEN ? "
	    "AND ?", "suu", ps->ref.network, ps->cidr.addr, pfx4_last(&ps->cidr));
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			uint32_t *u = realloc(used, (cap *= 2) * sizeof(*used));

			if (u == NULL)
				goto out;
			used = u;
		}
		used[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	qsort(used, n, sizeof(*used), port_u32_cmp);
	rc = ipam_first_free(&ps->cidr, used, n, ip);
out:
	sqlite3_reset(s);
	free(used);
	if (rc < 0)
		return api_err(resp, 409, "in_use", "ip", "subnet %s has no free address", ps->id),
		    -1;
	return 0;
}

static void
port_store_addrs(struct api_req *req, const char *id, const char *subnet, uint32_t ip,
    const uint32_t *extra, int n)
{
	store_x(req->st, "DELETE FROM port_addrs WHERE port = ?", "s", id);
	store_x(req->st, "INSERT INTO port_addrs (subnet, addr, port, pos) VALUES (?, ?, ?, 0)",
	    "sus", subnet, ip, id);
	for (int i = 0; i < n; i++)
		store_x(req->st, "INSERT INTO port_addrs (subnet, addr, port, pos) VALUES "
		    "(?, ?, ?, ?)", "susi", subnet, extra[i], id, (int64_t)i + 1);
}

/* Gives a bound port without a slot the lowest slot free on its host (1 and up). */
static void
port_assign_slot(struct api_req *req, const char *id)
{
	store_x(req->st, "UPDATE ports SET slot = (SELECT MIN(s.slot + 1) FROM (SELECT 0 AS slot "
	    "UNION ALL SELECT slot FROM ports WHERE host = p.host AND slot IS NOT NULL) s WHERE "
	    "s.slot + 1 NOT IN (SELECT slot FROM ports WHERE host = p.host AND slot IS NOT NULL)) "
	    "FROM (SELECT host FROM ports WHERE id = ?1) p WHERE ports.id = ?1 AND "
	    "ports.host IS NOT NULL AND ports.slot IS NULL", "s", id);
}

static int
port_name_taken(struct api_req *req, struct api_resp *resp, const char *subnet,
    const char *name, const char *self)
{
	if (name == NULL || store_i(req->st, "SELECT 1 FROM ports WHERE subnet = ? AND name = ? "
	    "AND id != ?", 0, "sss", subnet, name, self) != 1)
		return 0;
	api_err(resp, 409, "duplicate", "name", "a port named %s exists in the subnet", name);
	return 1;
}

static int
port_bool(struct api_req *req, const char *field, int dflt)
{
	json_t *v = json_object_get(req->body, field);

	return v && json_is_boolean(v) ? json_is_true(v) : dflt;
}

/*
 * Takes bgp out of the body (the field table has no object type) and checks it: *text is
 * what to store in ports.bgp, or NULL when the body does not set it.
 */
static int
port_bgp(struct api_req *req, struct api_resp *resp, char **text)
{
	json_t *in = bgpapi_take(req->body, "bgp");
	int rc = 0;

	*text = NULL;
	if (in != NULL)
		rc = bgpapi_port_check(resp, in, text);
	json_decref(in);
	return rc;
}

int
port_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &port_kind, NULL, NULL);
}

int
port_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &port_kind, req->seg[2]);
}

/* Validates everything about a new port; fills ip, extra, nextra and device. */
static int
port_create_check(struct api_req *req, struct api_resp *resp, const struct port_subnet *ps,
    const char *id, uint32_t *ip, uint32_t *extra, int *nextra, char device[16])
{
	json_t *list;

	if (api_str(req, "ip")) {
		addr4_parse(api_str(req, "ip"), ip);
		if (port_check_addr(req, resp, ps, *ip, "ip", NULL) < 0)
			return -1;
	} else if (port_alloc_ip(req, resp, ps, json_object_get(req->body, "extra_ips"),
	    ip) < 0) {
		return -1;
	}
	*nextra = 0;
	if ((list = json_object_get(req->body, "extra_ips")) &&
	    (*nextra = port_check_extra(req, resp, ps, list, *ip, NULL, extra)) < 0)
		return -1;
	if ((list = json_object_get(req->body, "claimable")) &&
	    port_check_claimable(req, resp, ps->ref.network, list) < 0)
		return -1;
	if (api_str(req, "device"))
		snprintf(device, 16, "%s", api_str(req, "device"));
	else
		snprintf(device, 16, "vn%.12s", id + strlen("port-"));
	if (port_check_host(req, resp, api_str(req, "host"), device, id) < 0 ||
	    port_name_taken(req, resp, ps->id, api_str(req, "name"), id))
		return -1;
	return 0;
}

int
port_create(struct api_req *req, struct api_resp *resp)
{
	struct port_subnet ps;
	uint32_t ip, extra[PORT_MAX_IPS];
	int nextra;
	char id[32], device[16], mac[MAC_STRLEN], *claimable, *bgp = NULL;
	const char *host;
	json_t *cl;
	int64_t rev;

	if (port_bgp(req, resp, &bgp) < 0)
		return 0;
	if (api_check_body(req, resp, port_spec, JV_MODE_CREATE) < 0 ||
	    port_load_subnet(req, resp, api_str(req, "subnet"), &ps) < 0) {
		free(bgp);
		return 0;
	}
	util_new_id("port-", id, sizeof(id));
	if (port_create_check(req, resp, &ps, id, &ip, extra, &nextra, device) < 0 ||
	    router_take_mac(req, resp, ps.ref.network, api_str(req, "mac"), id, mac) < 0) {
		free(bgp);
		return 0;
	}
	host = api_str(req, "host");
	cl = json_object_get(req->body, "claimable");
	claimable = cl ? json_dumps(cl, JSON_COMPACT) : strdup("[]");
	rev = api_change(req, "port", id, "create", ps.ref.network);
	store_x(req->st, "INSERT INTO ports (id, network, subnet, tenant, host, name, mac, ip, "
	    "claimable, sdc, routing, device, state, created, revision, bgp) VALUES (?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssssssusbbssiis", id, ps.ref.network, ps.id,
	    ps.ref.tenant, host, api_str(req, "name"), mac, ip, claimable,
	    port_bool(req, "source_dest_check", 1), port_bool(req, "routing", 0), device,
	    host ? "down" : "unbound", (int64_t)time(NULL), rev, bgp ? bgp : "{}");
	free(claimable);
	free(bgp);
	port_store_addrs(req, id, ps.id, ip, extra, nextra);
	port_assign_slot(req, id);
	return api_ok(resp, 201, api_load(req, &port_kind, id));
}

/* Applies a PATCH's address and claimable lists (validated against everything else). */
static int
port_patch_lists(struct api_req *req, struct api_resp *resp, const char *id,
    const struct port_subnet *ps)
{
	uint32_t extra[PORT_MAX_IPS], ip;
	json_t *list;
	int n;

	ip = (uint32_t)store_i(req->st, "SELECT ip FROM ports WHERE id = ?", 0, "s", id);
	if ((list = json_object_get(req->body, "extra_ips")) != NULL) {
		if ((n = port_check_extra(req, resp, ps, list, ip, id, extra)) < 0)
			return -1;
		port_store_addrs(req, id, ps->id, ip, extra, n);
	}
	if ((list = json_object_get(req->body, "claimable")) != NULL) {
		char *text;

		if (port_check_claimable(req, resp, ps->ref.network, list) < 0)
			return -1;
		text = json_dumps(list, JSON_COMPACT);
		store_x(req->st, "UPDATE ports SET claimable = ? WHERE id = ?", "ss", text, id);
		free(text);
	}
	return 0;
}

/* Host and device move together: the device must be free on the (new) host. */
static int
port_patch_host(struct api_req *req, struct api_resp *resp, const char *id)
{
	json_t *hv = json_object_get(req->body, "host");
	const char *dev = api_str(req, "device");
	char host[64] = "", device[16] = "";
	sqlite3_stmt *s = store_q(req->st, "SELECT host, device FROM ports WHERE id = ?", "s", id);

	if (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL)
			snprintf(host, sizeof(host), "%s", sqlite3_column_text(s, 0));
		snprintf(device, sizeof(device), "%s", sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (hv)
		snprintf(host, sizeof(host), "%s", json_is_null(hv) ? "" : json_string_value(hv));
	if (dev)
		snprintf(device, sizeof(device), "%s", dev);
	if (port_check_host(req, resp, host[0] ? host : NULL, device, id) < 0)
		return -1;
	/* A port that moves is down until the new host's agent brings it up. */
	store_x(req->st, "UPDATE ports SET state = CASE WHEN ?1 IS NULL THEN 'unbound' WHEN host "
	    "IS NOT ?1 OR state = 'unbound' THEN 'down' ELSE state END, slot = CASE WHEN host IS "
	    "?1 THEN slot END, host = ?1, device = ?2 WHERE id = ?3", "sss", host[0] ? host : NULL,
	    device, id);
	port_assign_slot(req, id);
	return 0;
}

/* Checks and applies the members of a PATCH that need the port's subnet; fills ps. */
static int
port_patch_apply(struct api_req *req, struct api_resp *resp, const char *id,
    struct port_subnet *ps)
{
	sqlite3_stmt *s = store_q(req->st, "SELECT subnet FROM ports WHERE id = ?", "s", id);
	char sub[32] = "";

	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(sub, sizeof(sub), "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (port_load_subnet(req, resp, sub, ps) < 0)
		return -1;
	if (port_name_taken(req, resp, ps->id, api_str(req, "name"), id) ||
	    port_patch_host(req, resp, id) < 0 || port_patch_lists(req, resp, id, ps) < 0)
		return -1;
	return 0;
}

int
port_patch(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];
	struct port_subnet ps;
	json_t *name;
	char *bgp = NULL;
	int64_t rev;

	if (!api_exists(req, &port_kind, id))
		return api_not_found(resp, "port", id);
	if (port_bgp(req, resp, &bgp) < 0)
		return 0;
	if (api_check_body(req, resp, port_spec, JV_MODE_PATCH) < 0 ||
	    port_patch_apply(req, resp, id, &ps) < 0) {
		free(bgp);
		return 0;
	}
	rev = api_change(req, "port", id, "update", ps.ref.network);
	if (bgp)
		store_x(req->st, "UPDATE ports SET bgp = ? WHERE id = ?", "ss", bgp, id);
	free(bgp);
	name = json_object_get(req->body, "name");
	if (name)
		store_x(req->st, "UPDATE ports SET name = ? WHERE id = ?", "ss",
		    json_string_value(name), id);
	if (json_object_get(req->body, "source_dest_check"))
		store_x(req->st, "UPDATE ports SET sdc = ? WHERE id = ?", "bs",
		    port_bool(req, "source_dest_check", 1), id);
	if (json_object_get(req->body, "routing"))
		store_x(req->st, "UPDATE ports SET routing = ? WHERE id = ?", "bs",
		    port_bool(req, "routing", 0), id);
	/* What it holds and may no longer claim (addresses, claimable, routing) is released. */
	claim_port_recheck(req->st, id);
	store_x(req->st, "UPDATE ports SET revision = ? WHERE id = ?", "is", rev, id);
	return api_ok(resp, 200, api_load(req, &port_kind, id));
}

int
port_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &port_kind, id))
		return api_not_found(resp, "port", id);
	if (api_deps(req, resp, "port", id, "static route(s) targeting it", "SELECT id FROM "
	    "routes WHERE target = ? ORDER BY id"))
		return 0;
	api_change(req, "port", id, "delete", NULL);
	/* Its virtual IPs go to their next BGP claimant, or to nobody; the history stays. */
	claim_port_deleted(req->st, id);
	/* Its learned routes, and routes of others through it, leave the agents' tables. */
	learned_port_gone(req->st, id);
	store_x(req->st, "DELETE FROM bgp_sessions WHERE port = ?", "s", id);
	store_x(req->st, "DELETE FROM macs WHERE owner = ?", "s", id);
	store_x(req->st, "DELETE FROM port_addrs WHERE port = ?", "s", id);
	store_x(req->st, "DELETE FROM ports WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}

json_t *
port_load(struct api_req *req, const char *id)
{
	return api_load(req, &port_kind, id);
}
