/*
 * The REST API core: a request as the resource handlers see it, the response they fill,
 * the route table, and helpers shared by every resource (errors, lists with filters and
 * pagination, tenant scoping).
 */
#ifndef VENEER_API_H
#define VENEER_API_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "jv.h"
#include "store.h"

struct vd;

enum api_method {
	API_GET = 1 << 0,
	API_POST = 1 << 1,
	API_PATCH = 1 << 2,
	API_DELETE = 1 << 3,
};

#define API_MAX_SEGS 8
#define API_MAX_QUERY 16

struct api_query {
	const char *key;
	const char *value;
};

struct api_req {
	struct vd *vd;
	struct store *st;
	enum api_method method;
	const char *seg[API_MAX_SEGS]; /* path segments after /v1 */
	int nseg;
	struct api_query query[API_MAX_QUERY];
	int nquery;
	int query_overflow;
	char query_nul[64]; /* the name of a parameter that held a NUL byte */
	json_t *body;     /* validated JSON object, or NULL */
	int is_admin;
	char tenant[32];  /* the caller's tenant ("" for the admin) */
	char token_id[32];
};

struct api_resp {
	int status;
	json_t *body;   /* JSON answer, owned */
	char *text;     /* or a text answer (metrics), malloc'ed, owned */
	const char *content_type;
	int retry_after;
	int64_t revision; /* set when a write committed */
};

/* Handlers put their answer in resp and return 0. */
typedef int (*api_handler)(struct api_req *req, struct api_resp *resp);

/* api.c */
/* What the HTTP layer hands over for one request. */
struct api_in {
	const char *method;
	const char *path;
	const char *auth;  /* Authorization header or NULL */
	const char *ctype; /* Content-Type header or NULL */
	const char *body;
	size_t bodylen;
};

/*
 * Builds the answer for one request (req->query already filled). Runs each handler inside
 * one store transaction and answers a write only once it is committed.
 */
void api_dispatch(struct vd *vd, const struct api_in *in, struct api_req *req,
    struct api_resp *resp);
/* Fills resp with the standard error body. Every answer helper returns 0 so that a
 * handler can end with `return api_err(...)`. */
int api_err(struct api_resp *resp, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int api_err_jv(struct api_resp *resp, const struct jv_err *e);
int api_not_found(struct api_resp *resp, const char *kind, const char *id);
int api_ok(struct api_resp *resp, int status, json_t *body);
/* The caller's tenant for scoping queries: NULL for the admin (sees everything). */
const char *api_scope(const struct api_req *req);
/* Validates req->body against spec; 0 or -1 with resp filled. */
int api_check_body(struct api_req *req, struct api_resp *resp, const struct jv_field *spec,
    enum jv_mode mode);
const char *api_str(const struct api_req *req, const char *field);
/*
 * Records the change (for the agents) and returns the revision this write commits as.
 * network may be NULL for network-owned kinds: it is looked up (call before deleting).
 */
int64_t api_change(struct api_req *req, const char *kind, const char *id, const char *op,
    const char *network);

/*
 * A resource's shape for the generic list/get helpers: the table, the columns its
 * to_json reads, which query filters map to which columns, and whether rows are owned by
 * a tenant.
 */
enum api_filter_kind {
	API_F_TEXT,
	API_F_ADDR4, /* dotted quad, compared as integer */
};

struct api_filter {
	const char *param;
	const char *where; /* SQL fragment; every ? is bound to the parameter's value */
	enum api_filter_kind kind;
};

struct api_kind {
	const char *kind;   /* "network" */
	const char *table;
	const char *idcol;  /* "id" or "name" */
	const char *select; /* column list */
	int tenant_scoped;
	const struct api_filter *filters; /* NULL-terminated by param */
	json_t *(*to_json)(struct api_req *req, sqlite3_stmt *row);
};

/* GET list: filters, pagination, scoping. */
int api_list(struct api_req *req, struct api_resp *resp, const struct api_kind *k,
    const char *extra_where, const char *extra_val);
/* Loads one object as JSON (scoped); NULL if it does not exist for this caller. */
json_t *api_load(struct api_req *req, const struct api_kind *k, const char *id);
/* GET one: 200 with the object, or 404. */
int api_get(struct api_req *req, struct api_resp *resp, const struct api_kind *k,
    const char *id);
/* 1 if the id exists for this caller (respecting tenant scope). */
int api_exists(struct api_req *req, const struct api_kind *k, const char *id);

/* JSON helpers for row conversion. */
json_t *api_col_str(sqlite3_stmt *row, int col); /* NULL column gives json null */
json_t *api_col_time(sqlite3_stmt *row, int col);
json_t *api_col_addr4(sqlite3_stmt *row, int col);


/*
 * Refuses a change while dependents exist: runs sql (selecting ids; every ? bound to id)
 * and, if it returns rows, answers 409 has_dependents naming up to five of them
 * ("subnet sub-1 still has 2 port(s): port-a, port-b"). Returns 1 then, else 0.
 */
int api_deps(struct api_req *req, struct api_resp *resp, const char *owner, const char *id,
    const char *what, const char *sql);

/*
 * Refuses a create once sql (a COUNT with every ? bound to key) reaches max: 409
 * limit_exceeded. Returns 1 then, else 0.
 */
int api_quota(struct api_req *req, struct api_resp *resp, const char *sql, const char *key,
    int64_t max, const char *what);

/* What a referenced object (in a body) belongs to. */
struct api_ref {
	char tenant[32];
	char network[32];
};

/*
 * Resolves id, named by body field `field`, in table ("networks", "routers", "subnets",
 * "ports") for this caller. A missing or foreign id gives 422 invalid_reference (the same
 * answer for both) and -1.
 */
int api_ref(struct api_req *req, struct api_resp *resp, const char *table, const char *field,
    const char *id, struct api_ref *out);

#endif
