/* Hosts: the machines running an agent, with their substrate address and encoding. */
#include <string.h>
#include <time.h>

#include "addr.h"
#include "util.h"
#include "vd.h"
#include "ccsrv.h"

static json_t *
host_json(struct api_req *req, sqlite3_stmt *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "id",
	    api_col_str(r, 0), "name", api_col_str(r, 0), "address", api_col_str(r, 1), "encap",
	    api_col_str(r, 2), "prefix", api_col_str(r, 3), "state", api_col_str(r, 4),
	    "last_seen", api_col_time(r, 5), "created", api_col_time(r, 6), "revision",
	    (json_int_t)sqlite3_column_int64(r, 7), "agent",
	    ccsrv_host_json(req->vd->cc, (const char *)sqlite3_column_text(r, 0)));
}

static const struct api_filter host_filters[] = {
	{"encap", "encap = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

static const struct api_kind host_kind = {
	"host", "hosts", "name", "name, address, encap, prefix, state, last_seen, created, revision",
	0, host_filters, host_json,
};

static const char *const host_encaps[] = {"vxlan", "embed6", NULL};

static const struct jv_field host_spec[] = {
	{"name", JV_HOSTNAME, JV_REQ | JV_CREATE, 0, 0, NULL},
	{"address", JV_ADDR, JV_REQ, 0, 0, NULL},
	{"encap", JV_ENUM, 0, 0, 0, host_encaps},
	{"prefix", JV_CIDR6, JV_NULLABLE, 32, 72, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* The host as it will be after this request: stored values overlaid with the body's. */
struct host_next {
	char address[ADDR6_STRLEN];
	char encap[8];
	char prefix[PFX6_STRLEN];
	int has_prefix;
};

static int
host_canon_address(struct api_resp *resp, const char *in, char *out)
{
	uint32_t a4;
	uint8_t a6[16];

	if (addr4_parse(in, &a4) == 0) {
		if (!addr4_is_host(a4))
			return api_err(resp, 400, "invalid_value", "address", "address %s is not a "
			    "unicast address", in), -1;
		addr4_fmt(a4, out);
		return 0;
	}
	addr6_parse(in, a6);
	if (!addr6_is_host(a6))
		return api_err(resp, 400, "invalid_value", "address", "address %s is not a unicast "
		    "address", in), -1;
	addr6_fmt(a6, out);
	return 0;
}

/* Validates the combination and its uniqueness against the other hosts. */
static int
host_validate(struct api_req *req, struct api_resp *resp, const struct host_next *h,
    const char *self)
{
	sqlite3_stmt *s;
	struct pfx6 mine, other;

	if (store_i(req->st, "SELECT 1 FROM hosts WHERE address = ? AND name != ?", 0, "ss",
	    h->address, self) == 1)
		return api_err(resp, 409, "duplicate", "address", "another host has address %s",
		    h->address), -1;
	if (strcmp(h->encap, "embed6") == 0 && !h->has_prefix)
		return api_err(resp, 400, "missing_field", "prefix", "prefix is required with encap "
		    "embed6"), -1;
	if (strcmp(h->encap, "embed6") != 0 && h->has_prefix)
		return api_err(resp, 400, "invalid_value", "prefix", "prefix is only for encap "
		    "embed6"), -1;
	if (!h->has_prefix)
		return 0;
	pfx6_parse(h->prefix, &mine, 32, 72);
	s = store_q(req->st, "SELECT name, prefix FROM hosts WHERE prefix IS NOT NULL AND "
	    "name != ?", "s", self);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (pfx6_parse((const char *)sqlite3_column_text(s, 1), &other, 0, 128) == ADDR_OK &&
		    pfx6_overlaps(&mine, &other)) {
			api_err(resp, 409, "overlap", "prefix", "prefix %s overlaps host %s's",
			    h->prefix, sqlite3_column_text(s, 0));
			sqlite3_reset(s);
			return -1;
		}
	}
	sqlite3_reset(s);
	return 0;
}

/* Overlays the body on h; -1 with resp filled on a bad address. */
static int
host_overlay(struct api_req *req, struct api_resp *resp, struct host_next *h)
{
	json_t *pv = json_object_get(req->body, "prefix");
	struct pfx6 p;

	if (api_str(req, "address") &&
	    host_canon_address(resp, api_str(req, "address"), h->address) < 0)
		return -1;
	if (api_str(req, "encap"))
		snprintf(h->encap, sizeof(h->encap), "%s", api_str(req, "encap"));
	if (pv) {
		h->has_prefix = !json_is_null(pv);
		if (h->has_prefix) {
			pfx6_parse(json_string_value(pv), &p, 32, 72);
			pfx6_fmt(&p, h->prefix);
		}
	}
	return 0;
}

int
host_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &host_kind, NULL, NULL);
}

int
host_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &host_kind, req->seg[2]);
}

int
host_create(struct api_req *req, struct api_resp *resp)
{
	struct host_next h = {.encap = "vxlan"};
	const char *name;
	int64_t rev;

	if (api_check_body(req, resp, host_spec, JV_MODE_CREATE) < 0 ||
	    host_overlay(req, resp, &h) < 0)
		return 0;
	name = api_str(req, "name");
	if (store_i(req->st, "SELECT 1 FROM hosts WHERE name = ?", 0, "s", name) == 1)
		return api_err(resp, 409, "duplicate", "name", "a host named %s exists", name);
	if (host_validate(req, resp, &h, name) < 0)
		return 0;
	rev = api_change(req, "host", name, "create", NULL);
	store_x(req->st, "INSERT INTO hosts (name, address, encap, prefix, state, created, "
	    "revision) VALUES (?, ?, ?, ?, 'unknown', ?, ?)", "ssssii", name, h.address, h.encap,
	    h.has_prefix ? h.prefix : NULL, (int64_t)time(NULL), rev);
	return api_ok(resp, 201, api_load(req, &host_kind, name));
}

int
host_patch(struct api_req *req, struct api_resp *resp)
{
	const char *name = req->seg[2];
	struct host_next h = {.has_prefix = 0};
	sqlite3_stmt *s;
	int64_t rev;

	s = store_q(req->st, "SELECT address, encap, prefix FROM hosts WHERE name = ?", "s", name);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return api_not_found(resp, "host", name);
	}
	snprintf(h.address, sizeof(h.address), "%s", sqlite3_column_text(s, 0));
	snprintf(h.encap, sizeof(h.encap), "%s", sqlite3_column_text(s, 1));
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		snprintf(h.prefix, sizeof(h.prefix), "%s", sqlite3_column_text(s, 2));
		h.has_prefix = 1;
	}
	sqlite3_reset(s);
	if (api_check_body(req, resp, host_spec, JV_MODE_PATCH) < 0 ||
	    host_overlay(req, resp, &h) < 0 || host_validate(req, resp, &h, name) < 0)
		return 0;
	rev = api_change(req, "host", name, "update", NULL);
	store_x(req->st, "UPDATE hosts SET address = ?, encap = ?, prefix = ?, revision = ? "
	    "WHERE name = ?", "sssis", h.address, h.encap, h.has_prefix ? h.prefix : NULL, rev,
	    name);
	return api_ok(resp, 200, api_load(req, &host_kind, name));
}

int
host_delete(struct api_req *req, struct api_resp *resp)
{
	const char *name = req->seg[2];

	if (store_i(req->st, "SELECT 1 FROM hosts WHERE name = ?", 0, "s", name) != 1)
		return api_not_found(resp, "host", name);
	if (api_deps(req, resp, "host", name, "port(s) bound to it", "SELECT id FROM ports WHERE "
	    "host = ? ORDER BY id"))
		return 0;
	api_change(req, "host", name, "delete", NULL);
	store_x(req->st, "DELETE FROM hosts WHERE name = ?", "s", name);
	resp->status = 204;
	return 0;
}
