/* Router links: the wiring between the virtual routers of one network. */
#include <string.h>
#include <time.h>

#include "util.h"
#include "vd.h"

static json_t *
link_json(struct api_req *req, sqlite3_stmt *r)
{
	(void)req;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I}", "id", api_col_str(r, 0), "network",
	    api_col_str(r, 1), "a", api_col_str(r, 2), "b", api_col_str(r, 3), "created",
	    api_col_time(r, 4), "revision", (json_int_t)sqlite3_column_int64(r, 5));
}

static const struct api_filter link_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"router", "(a = ? OR b = ?)", API_F_TEXT},
	{NULL, NULL, 0},
};

static const struct api_kind link_kind = {
	"link", "links", "id", "id, network, a, b, created, revision", 1, link_filters, link_json,
};

static const struct jv_field link_spec[] = {
	{"a", JV_ID, JV_REQ, 0, 0, NULL},
	{"b", JV_ID, JV_REQ, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

int
link_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &link_kind, NULL, NULL);
}

int
link_get(struct api_req *req, struct api_resp *resp)
{
	return api_get(req, resp, &link_kind, req->seg[2]);
}

int
link_create(struct api_req *req, struct api_resp *resp)
{
	struct api_ref ra, rb;
	const char *a, *b, *lo, *hi;
	char id[32];
	int64_t rev;

	if (api_check_body(req, resp, link_spec, JV_MODE_CREATE) < 0)
		return 0;
	a = api_str(req, "a");
	b = api_str(req, "b");
	if (api_ref(req, resp, "routers", "a", a, &ra) < 0 ||
	    api_ref(req, resp, "routers", "b", b, &rb) < 0)
		return 0;
	if (strcmp(a, b) == 0)
		return api_err(resp, 422, "invalid_reference", "b", "a link joins two different "
		    "routers");
	if (strcmp(ra.network, rb.network) != 0)
		return api_err(resp, 422, "invalid_reference", "b", "b: router %s is in another "
		    "network than %s", b, a);
	if (api_quota(req, resp, "SELECT COUNT(*) FROM links WHERE network = ?", ra.network,
	    VD_MAX_LINKS, "links per network"))
		return 0;
	lo = strcmp(a, b) < 0 ? a : b;
	hi = lo == a ? b : a;
	if (store_i(req->st, "SELECT 1 FROM links WHERE lo = ? AND hi = ?", 0, "ss", lo, hi) == 1)
		return api_err(resp, 409, "duplicate", NULL, "routers %s and %s are already linked",
		    a, b);
	util_new_id("lnk-", id, sizeof(id));
	rev = api_change(req, "link", id, "create", ra.network);
	store_x(req->st, "INSERT INTO links (id, network, tenant, a, b, lo, hi, created, revision)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssssssii", id, ra.network, ra.tenant, a, b, lo,
	    hi, (int64_t)time(NULL), rev);
	return api_ok(resp, 201, api_load(req, &link_kind, id));
}

int
link_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!api_exists(req, &link_kind, id))
		return api_not_found(resp, "link", id);
	/* A static route via the far end needs the link to stay a direct neighbour. */
	if (api_deps(req, resp, "link", id, "static route(s) between its routers", "SELECT r.id "
	    "FROM routes r JOIN links l ON l.id = ? WHERE (r.router = l.a AND r.target = l.b) OR "
	    "(r.router = l.b AND r.target = l.a) ORDER BY r.id"))
		return 0;
	api_change(req, "link", id, "delete", NULL);
	store_x(req->st, "DELETE FROM links WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
