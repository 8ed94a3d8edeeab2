/* Tenants. */
#include <string.h>
#include <time.h>

#include "util.h"
#include "vd.h"

static json_t *
tenant_json(struct api_req *req, sqlite3_stmt *r)
{
	(void)req;
	return json_pack("{s:o, s:o, s:o, s:I}", "id", api_col_str(r, 0), "name",
	    api_col_str(r, 1), "created", api_col_time(r, 2), "revision",
	    (json_int_t)sqlite3_column_int64(r, 3));
}

static const struct api_filter tenant_filters[] = {
	{"name", "name = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

static const struct api_kind tenant_kind = {
	"tenant", "tenants", "id", "id, name, created, revision", 0, tenant_filters, tenant_json,
};

static const struct jv_field tenant_spec[] = {
	{"name", JV_NAME, JV_REQ, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* A tenant token may only see its own tenant: anything else is "not found". */
int
tenant_visible(struct api_req *req, const char *id)
{
	if (!req->is_admin && strcmp(id, req->tenant) != 0)
		return 0;
	return store_i(req->st, "SELECT 1 FROM tenants WHERE id = ?", 0, "s", id) == 1;
}

int
tenant_list(struct api_req *req, struct api_resp *resp)
{
	return api_list(req, resp, &tenant_kind, req->is_admin ? NULL : "id = ?",
	    req->is_admin ? NULL : req->tenant);
}

int
tenant_get(struct api_req *req, struct api_resp *resp)
{
	if (!tenant_visible(req, req->seg[2]))
		return api_not_found(resp, "tenant", req->seg[2]);
	return api_get(req, resp, &tenant_kind, req->seg[2]);
}

static int
tenant_name_taken(struct api_req *req, struct api_resp *resp, const char *name)
{
	if (store_i(req->st, "SELECT 1 FROM tenants WHERE name = ?", 0, "s", name) != 1)
		return 0;
	api_err(resp, 409, "duplicate", "name", "a tenant named %s exists", name);
	return 1;
}

int
tenant_create(struct api_req *req, struct api_resp *resp)
{
	char id[32];
	const char *name;
	int64_t rev;

	if (api_check_body(req, resp, tenant_spec, JV_MODE_CREATE) < 0)
		return 0;
	name = api_str(req, "name");
	if (tenant_name_taken(req, resp, name))
		return 0;
	util_new_id("ten-", id, sizeof(id));
	rev = api_change(req, "tenant", id, "create", NULL);
	store_x(req->st, "INSERT INTO tenants (id, name, created, revision) VALUES (?, ?, ?, ?)",
	    "ssii", id, name, (int64_t)time(NULL), rev);
	return api_ok(resp, 201, api_load(req, &tenant_kind, id));
}

int
tenant_patch(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2], *name;
	int64_t rev;

	if (!tenant_visible(req, id))
		return api_not_found(resp, "tenant", id);
	if (api_check_body(req, resp, tenant_spec, JV_MODE_PATCH) < 0)
		return 0;
	name = api_str(req, "name");
	if (name && store_i(req->st, "SELECT 1 FROM tenants WHERE name = ? AND id != ?", 0, "ss",
	    name, id) == 1)
		return api_err(resp, 409, "duplicate", "name", "a tenant named %s exists", name);
	/* Every acknowledged write advances the revision, an empty one too. */
	rev = api_change(req, "tenant", id, "update", NULL);
	if (name)
		store_x(req->st, "UPDATE tenants SET name = ? WHERE id = ?", "ss", name, id);
	store_x(req->st, "UPDATE tenants SET revision = ? WHERE id = ?", "is", rev, id);
	return api_ok(resp, 200, api_load(req, &tenant_kind, id));
}

int
tenant_delete(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];

	if (!tenant_visible(req, id))
		return api_not_found(resp, "tenant", id);
	if (api_deps(req, resp, "tenant", id, "network(s)", "SELECT id FROM networks WHERE "
	    "tenant = ? ORDER BY id"))
		return 0;
	api_change(req, "tenant", id, "delete", NULL);
	store_x(req->st, "DELETE FROM tokens WHERE tenant = ?", "s", id);
	store_x(req->st, "DELETE FROM tenants WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
