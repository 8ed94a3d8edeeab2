#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bgpapi.h"
#include "claim.h"
#include "log.h"
#include "util.h"
#include "vd.h"
#include "ccsrv.h"

#define API_LIST_MAX 1000

enum api_route_flag {
	R_NOAUTH = 1 << 0, /* no token needed */
	R_ADMIN = 1 << 1,  /* admin only: tenants get 403 */
	R_QUERY = 1 << 2,  /* the handler validates the query string itself */
};

struct api_route {
	enum api_method method;
	const char *pattern; /* segments; '*' matches one non-empty segment */
	api_handler fn;
	unsigned flags;
};

static int api_health(struct api_req *req, struct api_resp *resp);

/* One row per endpoint: this table is the API's map. */
static const struct api_route api_routes[] = {
	{API_GET, "v1/health", api_health, R_NOAUTH},
	{API_GET, "metrics", metrics_get, R_ADMIN},
	{API_GET, "v1/tenants", tenant_list, R_QUERY},
	{API_POST, "v1/tenants", tenant_create, R_ADMIN},
	{API_GET, "v1/tenants/*", tenant_get, 0},
	{API_PATCH, "v1/tenants/*", tenant_patch, R_ADMIN},
	{API_DELETE, "v1/tenants/*", tenant_delete, R_ADMIN},
	{API_GET, "v1/tenants/*/tokens", token_list, R_QUERY},
	{API_POST, "v1/tenants/*/tokens", token_create, 0},
	{API_DELETE, "v1/tenants/*/tokens/*", token_delete, 0},
	{API_GET, "v1/networks", network_list, R_QUERY},
	{API_POST, "v1/networks", network_create, 0},
	{API_GET, "v1/networks/*", network_get, 0},
	{API_PATCH, "v1/networks/*", network_patch, 0},
	{API_DELETE, "v1/networks/*", network_delete, 0},
	{API_GET, "v1/routers", router_list, R_QUERY},
	{API_POST, "v1/routers", router_create, 0},
	{API_GET, "v1/routers/*", router_get, 0},
	{API_PATCH, "v1/routers/*", router_patch, 0},
	{API_DELETE, "v1/routers/*", router_delete, 0},
	{API_GET, "v1/routers/*/routes", route_effective, 0},
	{API_GET, "v1/routers/*/bgp", bgpapi_router_get, 0},
	{API_GET, "v1/routers/*/bgp/routes", bgpapi_routes, R_QUERY},
	{API_GET, "v1/links", link_list, R_QUERY},
	{API_POST, "v1/links", link_create, 0},
	{API_GET, "v1/links/*", link_get, 0},
	{API_DELETE, "v1/links/*", link_delete, 0},
	{API_GET, "v1/subnets", subnet_list, R_QUERY},
	{API_POST, "v1/subnets", subnet_create, 0},
	{API_GET, "v1/subnets/*", subnet_get, 0},
	{API_PATCH, "v1/subnets/*", subnet_patch, 0},
	{API_DELETE, "v1/subnets/*", subnet_delete, 0},
	{API_GET, "v1/ports", port_list, R_QUERY},
	{API_POST, "v1/ports", port_create, 0},
	{API_GET, "v1/ports/*", port_get, 0},
	{API_PATCH, "v1/ports/*", port_patch, 0},
	{API_DELETE, "v1/ports/*", port_delete, 0},
	{API_POST, "v1/ports/*/claim", claim_api, 0},
	{API_GET, "v1/claims", claim_list, R_QUERY},
	{API_GET, "v1/hosts", host_list, R_ADMIN | R_QUERY},
	{API_POST, "v1/hosts", host_create, R_ADMIN},
	{API_GET, "v1/hosts/*", host_get, R_ADMIN},
	{API_PATCH, "v1/hosts/*", host_patch, R_ADMIN},
	{API_DELETE, "v1/hosts/*", host_delete, R_ADMIN},
	{API_GET, "v1/routes", route_list, R_QUERY},
	{API_POST, "v1/routes", route_create, 0},
	{API_GET, "v1/routes/*", route_get, 0},
	{API_DELETE, "v1/routes/*", route_delete, 0},
};

int
api_err(struct api_resp *resp, int status, const char *code, const char *field, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages echo client bytes (paths, ids): keep them printable ASCII, valid JSON. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	e = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field && *field)
		json_object_set_new(e, "field", json_string(field));
	json_decref(resp->body);
	resp->body = json_pack("{s:o}", "error", e);
	resp->status = status;
	return 0;
}

int
api_err_jv(struct api_resp *resp, const struct jv_err *e)
{
	return api_err(resp, e->status, e->code, e->field, "%s", e->message);
}

int
api_not_found(struct api_resp *resp, const char *kind, const char *id)
{
	return api_err(resp, 404, "not_found", NULL, "%s %.64s not found", kind, id);
}

int
api_ok(struct api_resp *resp, int status, json_t *body)
{
	json_decref(resp->body);
	resp->status = status;
	resp->body = body;
	return 0;
}

const char *
api_scope(const struct api_req *req)
{
	return req->is_admin ? NULL : req->tenant;
}

int
api_check_body(struct api_req *req, struct api_resp *resp, const struct jv_field *spec,
    enum jv_mode mode)
{
	struct jv_err e;

	if (jv_check(req->body, spec, mode, req->is_admin, &e) < 0) {
		api_err_jv(resp, &e);
		return -1;
	}
	return 0;
}

const char *
api_str(const struct api_req *req, const char *field)
{
	return json_string_value(json_object_get(req->body, field));
}

/* Network-owned kinds and the table to find an object's network in. */
static const struct {
	const char *kind, *sql;
} api_owned[] = {
	{"router", "SELECT network FROM routers WHERE id = ?"},
	{"link", "SELECT network FROM links WHERE id = ?"},
	{"subnet", "SELECT network FROM subnets WHERE id = ?"},
	{"port", "SELECT network FROM ports WHERE id = ?"},
	{"route", "SELECT network FROM routes WHERE id = ?"},
};

int64_t
api_change(struct api_req *req, const char *kind, const char *id, const char *op,
    const char *network)
{
	char net[32] = "";

	/* Agents are told about a change by network: every record must say which. */
	for (size_t i = 0; network == NULL && i < ARRAY_SIZE(api_owned); i++) {
		if (strcmp(kind, api_owned[i].kind) != 0)
			continue;
		sqlite3_stmt *s = store_q(req->st, api_owned[i].sql, "s", id);

		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(net, sizeof(net), "%s", sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		network = net[0] ? net : NULL;
	}
	store_change(req->st, kind, id, op, network);
	return store_bump(req->st);
}

static int
api_health(struct api_req *req, struct api_resp *resp)
{
	return api_ok(resp, 200, json_pack("{s:s, s:I, s:s}", "status", "ok", "revision",
	    (json_int_t)store_revision(req->st), "version", VENEER_VERSION));
}

/* Splits "/v1/a/b" into segments; an empty segment ("//", a trailing "/") names nothing. */
static int
api_split(const char *path, struct api_req *req, char *buf, size_t bufsz)
{
	char *p;

	if (path[0] != '/' || strlen(path) >= bufsz)
		return -1;
	strcpy(buf, path + 1);
	req->nseg = 0;
	for (p = buf;;) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = '\0';
		if (*p == '\0' || req->nseg == API_MAX_SEGS)
			return -1;
		req->seg[req->nseg++] = p;
		if (slash == NULL)
			return 0;
		p = slash + 1;
	}
}

static int
api_match(const char *pattern, const struct api_req *req)
{
	char pat[128];
	char *save = NULL, *tok;
	int i = 0;

	snprintf(pat, sizeof(pat), "%s", pattern);
	for (tok = strtok_r(pat, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
		if (i >= req->nseg)
			return 0;
		if (strcmp(tok, "*") != 0 && strcmp(tok, req->seg[i]) != 0)
			return 0;
	}
	return i == req->nseg;
}

static enum api_method
api_method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return API_GET;
	if (strcmp(m, "POST") == 0)
		return API_POST;
	if (strcmp(m, "PATCH") == 0)
		return API_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return API_DELETE;
	return 0;
}

/* Finds the route; sets *path_known when the path exists with another method. */
static const struct api_route *
api_find(const struct api_req *req, int *path_known)
{
	*path_known = 0;
	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		if (!api_match(api_routes[i].pattern, req))
			continue;
		if (api_routes[i].method == req->method)
			return &api_routes[i];
		*path_known = 1;
	}
	return NULL;
}

static int
api_is_json(const char *ctype)
{
	size_t n = strlen("application/json");

	return strncasecmp(ctype, "application/json", n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Body rules: writes with a body take a JSON object; other requests take none. */
static int
api_take_body(const struct api_in *in, struct api_req *req, struct api_resp *resp)
{
	struct jv_err e;

	if (in->bodylen > 0 && in->ctype && !api_is_json(in->ctype)) {
		api_err(resp, 415, "unsupported_media_type", NULL,
		    "request bodies are application/json, not %.64s", in->ctype);
		return -1;
	}
	if (req->method == API_GET || req->method == API_DELETE) {
		if (in->bodylen > 0) {
			api_err(resp, 400, "invalid_body", NULL, "this request takes no body");
			return -1;
		}
		return 0;
	}
	if (req->method == API_POST && in->bodylen == 0 && strcmp(req->seg[req->nseg - 1],
	    "tokens") == 0) {
		req->body = json_object(); /* a token needs no attribute */
		return 0;
	}
	req->body = jv_parse_body(in->body, in->bodylen, &e);
	if (req->body == NULL) {
		api_err_jv(resp, &e);
		return -1;
	}
	return 0;
}

static void
api_run(struct vd *vd, const struct api_route *r, struct api_req *req, struct api_resp *resp)
{
	int write = req->method != API_GET;
	int rc = store_begin(vd->st, write);

	if (rc != 0) {
		api_err(resp, 503, "unavailable", NULL, "the store is busy (%s), retry",
		    sqlite3_errstr(rc));
		return;
	}
	r->fn(req, resp);
	if (resp->status >= 300) {
		store_rollback(vd->st);
		return;
	}
	if ((rc = store_commit(vd->st)) != 0) {
		if (rc == SQLITE_ABORT)
			api_err(resp, 500, "internal", NULL, "the store refused part of the change; "
			    "nothing was written");
		else
			api_err(resp, 503, "unavailable", NULL, "the write could not be committed, "
			    "retry");
		return;
	}
	if (write && resp->revision != store_revision(vd->st)) {
		resp->revision = store_revision(vd->st);
		ccsrv_changed(vd->cc);
	}
}

void
api_dispatch(struct vd *vd, const struct api_in *in, struct api_req *req,
    struct api_resp *resp)
{
	char pathbuf[512];
	const struct api_route *r;
	int known, wait;

	req->vd = vd;
	req->st = vd->st;
	req->method = api_method_of(in->method);
	if (api_split(in->path, req, pathbuf, sizeof(pathbuf)) < 0) {
		api_err(resp, 404, "not_found", NULL, "no such path");
		return;
	}
	r = api_find(req, &known);
	if (r != NULL && (r->flags & R_NOAUTH)) {
		api_run(vd, r, req, resp);
		return;
	}
	if (auth_identify(vd, in->auth, req, resp) < 0)
		return;
	if (r == NULL) {
		if (known)
			api_err(resp, 405, "method_not_allowed", NULL, "%.16s is not allowed on %.128s",
			    in->method, in->path);
		else
			api_err(resp, 404, "not_found", NULL, "no such path: %.128s", in->path);
		return;
	}
	if ((r->flags & R_ADMIN) && !req->is_admin) {
		api_err(resp, 403, "forbidden", NULL, "this resource is for the admin only");
		return;
	}
	if ((wait = auth_rate_check(vd, req)) > 0) {
		resp->retry_after = wait;
		api_err(resp, 429, "rate_limited", NULL, "too many requests; retry in %d s", wait);
		return;
	}
	if (!(r->flags & R_QUERY) && (req->nquery > 0 || req->query_overflow || req->query_nul[0])) {
		api_err(resp, 400, "invalid_query", req->nquery ? req->query[0].key : NULL,
		    "this request takes no query parameters");
		return;
	}
	if (api_take_body(in, req, resp) < 0)
		return;
	api_run(vd, r, req, resp);
}

/* --- generic list and get --- */

json_t *
api_col_str(sqlite3_stmt *row, int col)
{
	if (sqlite3_column_type(row, col) == SQLITE_NULL)
		return json_null();
	return json_string((const char *)sqlite3_column_text(row, col));
}

json_t *
api_col_time(sqlite3_stmt *row, int col)
{
	char buf[32];

	if (sqlite3_column_type(row, col) == SQLITE_NULL)
		return json_null();
	util_time_rfc3339((time_t)sqlite3_column_int64(row, col), buf, sizeof(buf));
	return json_string(buf);
}

json_t *
api_col_addr4(sqlite3_stmt *row, int col)
{
	char buf[ADDR4_STRLEN];

	addr4_fmt((uint32_t)sqlite3_column_int64(row, col), buf);
	return json_string(buf);
}

static const struct api_filter *
api_filter_find(const struct api_kind *k, const char *param)
{
	for (const struct api_filter *f = k->filters; f && f->param; f++)
		if (strcmp(f->param, param) == 0)
			return f;
	return NULL;
}

struct api_sql {
	char text[2048];
	size_t len;
	const char *vals[API_MAX_QUERY * 2 + 4];
	int64_t ints[API_MAX_QUERY * 2 + 4];
	char kinds[API_MAX_QUERY * 2 + 4]; /* 's' or 'i' */
	int n;
};

static void
api_sql_add(struct api_sql *q, const char *frag)
{
	int w = snprintf(q->text + q->len, sizeof(q->text) - q->len, "%s", frag);

	/* On truncation the text stays short and will not prepare: the list fails cleanly. */
	if (w > 0 && (size_t)w < sizeof(q->text) - q->len)
		q->len += (size_t)w;
	else
		q->len = sizeof(q->text) - 1;
}

/* Appends "AND frag", binding every ? in frag to the same value. */
static void
api_sql_where(struct api_sql *q, const char *frag, char kind, const char *s, int64_t i)
{
	api_sql_add(q, " AND ");
	api_sql_add(q, frag);
	for (const char *p = frag; *p; p++) {
		if (*p != '?' || q->n == (int)ARRAY_SIZE(q->kinds))
			continue;
		q->kinds[q->n] = kind;
		q->vals[q->n] = s;
		q->ints[q->n] = i;
		q->n++;
	}
}

/* Adds the query string's filters; -1 with a 400 on an unknown or malformed one. */
static int
api_list_filters(struct api_req *req, struct api_resp *resp, const struct api_kind *k,
    struct api_sql *q, int64_t *limit, const char **after)
{
	if (req->query_overflow) {
		api_err(resp, 400, "invalid_query", NULL, "too many query parameters");
		return -1;
	}
	if (req->query_nul[0]) {
		api_err(resp, 400, "invalid_query", req->query_nul, "%s contains a NUL byte",
		    req->query_nul);
		return -1;
	}
	for (int i = 0; i < req->nquery; i++) {
		const char *key = req->query[i].key, *val = req->query[i].value;
		const struct api_filter *f;
		char *end;
		uint32_t a;

		if (val == NULL)
			val = "";
		if (strcmp(key, "limit") == 0) {
			*limit = strtoll(val, &end, 10);
			if (*val == '\0' || *end != '\0' || *limit < 1 || *limit > API_LIST_MAX) {
				api_err(resp, 400, "invalid_query", "limit",
				    "limit must be an integer from 1 to %d", API_LIST_MAX);
				return -1;
			}
		} else if (strcmp(key, "after") == 0) {
			*after = val;
		} else if ((f = api_filter_find(k, key)) == NULL) {
			api_err(resp, 400, "invalid_query", key, "unknown query parameter %.64s", key);
			return -1;
		} else if (f->kind == API_F_ADDR4) {
			if (addr4_parse(val, &a) < 0) {
				api_err(resp, 400, "invalid_query", key, "%s must be an IPv4 address", key);
				return -1;
			}
			api_sql_where(q, f->where, 'i', NULL, a);
		} else {
			api_sql_where(q, f->where, 's', val, 0);
		}
	}
	return 0;
}

int
api_list(struct api_req *req, struct api_resp *resp, const struct api_kind *k,
    const char *extra_where, const char *extra_val)
{
	struct api_sql q = {.len = 0};
	int64_t limit = API_LIST_MAX, count = 0;
	const char *after = NULL;
	sqlite3_stmt *s;
	json_t *items;
	char tail[64];

	api_sql_add(&q, "SELECT ");
	api_sql_add(&q, k->select);
	api_sql_add(&q, " FROM ");
	api_sql_add(&q, k->table);
	api_sql_add(&q, " WHERE 1");
	if (k->tenant_scoped && api_scope(req))
		api_sql_where(&q, "tenant = ?", 's', api_scope(req), 0);
	if (extra_where)
		api_sql_where(&q, extra_where, 's', extra_val, 0);
	if (api_list_filters(req, resp, k, &q, &limit, &after) < 0)
		return 0;
	if (after) {
		snprintf(tail, sizeof(tail), "%s > ?", k->idcol);
		api_sql_where(&q, tail, 's', after, 0);
	}
	snprintf(tail, sizeof(tail), " ORDER BY %s LIMIT %lld", k->idcol, (long long)limit + 1);
	api_sql_add(&q, tail);
	if ((s = store_qtext(req->st, q.text)) == NULL) {
		log_warnx("api: list %s: %s", k->kind, sqlite3_errmsg(store_db(req->st)));
		return api_err(resp, 500, "internal", NULL, "list failed");
	}
	for (int i = 0; i < q.n; i++) {
		if (q.kinds[i] == 'i')
			sqlite3_bind_int64(s, i + 1, q.ints[i]);
		else
			sqlite3_bind_text(s, i + 1, q.vals[i], -1, SQLITE_TRANSIENT);
	}
	items = json_array();
	resp->body = json_pack("{s:o}", "items", items);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o;

		if (count++ == limit) {
			o = json_array_get(items, json_array_size(items) - 1);
			json_object_set(resp->body, "next", json_object_get(o, "id"));
			break;
		}
		json_array_append_new(items, k->to_json(req, s));
	}
	sqlite3_reset(s);
	resp->status = 200;
	return 0;
}

json_t *
api_load(struct api_req *req, const struct api_kind *k, const char *id)
{
	char sql[1024];
	sqlite3_stmt *s;
	json_t *o = NULL;
	const char *scope = k->tenant_scoped ? api_scope(req) : NULL;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s = ?%s", k->select, k->table,
	    k->idcol, scope ? " AND tenant = ?" : "");
	if ((s = store_qtext(req->st, sql)) == NULL) {
		log_warnx("api: load %s: %s", k->kind, sqlite3_errmsg(store_db(req->st)));
		return NULL;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (scope)
		sqlite3_bind_text(s, 2, scope, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = k->to_json(req, s);
	sqlite3_reset(s);
	return o;
}

int
api_get(struct api_req *req, struct api_resp *resp, const struct api_kind *k, const char *id)
{
	json_t *o = api_load(req, k, id);

	if (o == NULL)
		return api_not_found(resp, k->kind, id);
	return api_ok(resp, 200, o);
}

int
api_exists(struct api_req *req, const struct api_kind *k, const char *id)
{
	json_t *o = api_load(req, k, id);

	json_decref(o);
	return o != NULL;
}

int
api_ref(struct api_req *req, struct api_resp *resp, const char *table, const char *field,
    const char *id, struct api_ref *out)
{
	char sql[160];
	sqlite3_stmt *s;
	int found = 0;
	const char *scope = api_scope(req);

	snprintf(sql, sizeof(sql), "SELECT tenant, %s FROM %s WHERE id = ?%s",
	    strcmp(table, "networks") == 0 ? "id" : "network", table,
	    scope ? " AND tenant = ?" : "");
	if ((s = store_qtext(req->st, sql)) == NULL) {
		api_err(resp, 500, "internal", NULL, "lookup failed");
		return -1;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (scope)
		sqlite3_bind_text(s, 2, scope, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		const char *n = (const char *)sqlite3_column_text(s, 1);

		snprintf(out->tenant, sizeof(out->tenant), "%s", t ? t : "");
		snprintf(out->network, sizeof(out->network), "%s", n ? n : "");
		found = 1;
	}
	sqlite3_reset(s);
	if (!found) {
		api_err(resp, 422, "invalid_reference", field, "%s: no such %.*s %.64s", field,
		    (int)strlen(table) - 1, table, id);
		return -1;
	}
	return 0;
}

int
api_deps(struct api_req *req, struct api_resp *resp, const char *owner, const char *id,
    const char *what, const char *sql)
{
	sqlite3_stmt *s = store_q(req->st, sql, "s", id);
	char names[256] = "";
	size_t used = 0;
	int n = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n++ < 5) {
			int w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
			    sqlite3_column_text(s, 0));

			if (w > 0 && (size_t)w < sizeof(names) - used)
				used += (size_t)w;
		}
	}
	sqlite3_reset(s);
	if (n == 0)
		return 0;
	api_err(resp, 409, "has_dependents", NULL, "%s %s still has %d %s: %s%s", owner, id, n,
	    what, names, n > 5 ? ", ..." : "");
	return 1;
}

int
api_quota(struct api_req *req, struct api_resp *resp, const char *sql, const char *key,
    int64_t max, const char *what)
{
	if (store_i(req->st, sql, 0, "s", key) < max)
		return 0;
	api_err(resp, 409, "limit_exceeded", NULL, "at most %lld %s", (long long)max, what);
	return 1;
}
