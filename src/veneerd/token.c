/* A tenant's API tokens: created with their secret shown once, stored as a hash. */
#include <string.h>
#include <time.h>

#include "util.h"
#include "vd.h"

static json_t *
token_json(struct api_req *req, sqlite3_stmt *r)
{
	(void)req;
	return json_pack("{s:o, s:o, s:o, s:o}", "id", api_col_str(r, 0), "tenant",
	    api_col_str(r, 1), "name", api_col_str(r, 2), "created", api_col_time(r, 3));
}

static const struct api_kind token_kind = {
	"token", "tokens", "id", "id, tenant, name, created", 0, NULL, token_json,
};

static const struct jv_field token_spec[] = {
	{"name", JV_NAME, JV_NULLABLE, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

int
token_list(struct api_req *req, struct api_resp *resp)
{
	if (!tenant_visible(req, req->seg[2]))
		return api_not_found(resp, "tenant", req->seg[2]);
	return api_list(req, resp, &token_kind, "tenant = ?", req->seg[2]);
}

int
token_create(struct api_req *req, struct api_resp *resp)
{
	const char *tenant = req->seg[2];
	char id[32], secret[72], hex[65];
	uint8_t raw[32], h[32];
	json_t *o;

	if (!tenant_visible(req, tenant))
		return api_not_found(resp, "tenant", tenant);
	if (api_check_body(req, resp, token_spec, JV_MODE_CREATE) < 0 ||
	    api_quota(req, resp, "SELECT COUNT(*) FROM tokens WHERE tenant = ?", tenant,
	    VD_MAX_TOKENS, "tokens per tenant"))
		return 0;
	util_new_id("tok-", id, sizeof(id));
	util_random(raw, sizeof(raw));
	memcpy(secret, "vnr_", 4);
	util_hex(raw, sizeof(raw), secret + 4);
	auth_hash(secret, h);
	util_hex(h, sizeof(h), hex);
	api_change(req, "token", id, "create", NULL);
	store_x(req->st, "INSERT INTO tokens (id, tenant, name, hash, created) "
	    "VALUES (?, ?, ?, ?, ?)", "ssssi", id, tenant, api_str(req, "name"), hex,
	    (int64_t)time(NULL));
	o = api_load(req, &token_kind, id);
	json_object_set_new(o, "token", json_string(secret));
	return api_ok(resp, 201, o);
}

int
token_delete(struct api_req *req, struct api_resp *resp)
{
	const char *tenant = req->seg[2], *id = req->seg[4];

	if (!tenant_visible(req, tenant))
		return api_not_found(resp, "tenant", tenant);
	if (store_i(req->st, "SELECT 1 FROM tokens WHERE id = ? AND tenant = ?", 0, "ss", id,
	    tenant) != 1)
		return api_not_found(resp, "token", id);
	api_change(req, "token", id, "delete", NULL);
	store_x(req->st, "DELETE FROM tokens WHERE id = ?", "s", id);
	resp->status = 204;
	return 0;
}
