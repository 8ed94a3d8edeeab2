/*
 * BGP in the API: validation and normalization of import policies (a network's, or a
 * port's own) and of a port's session settings, and the read-only views of what
 * veneer-routerd reports: GET /v1/routers/{id}/bgp (sessions) and .../bgp/routes (learned
 * routes with the policy's verdict). veneerd only stores and shows these; routerd applies
 * them (docs/api.md, "BGP").
 */
#include "bgpapi.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "util.h"
#include "vd.h"

#define BGP_POLICY_MAX_ENTRIES 64
#define BGP_LIST_MAX 1000
#define BGP_AS_TRANS 23456

/* The numeric members of an import policy, with their ranges and defaults. */
static const struct {
	const char *name;
	int64_t min, max, dflt;
} bgpapi_policy_nums[] = {
	{"max_prefix", 1, 1000000, 100},
	{"max_prefix_warning", 1, 100, 75},
	{"update_rate", 1, 100000, 50},
	{"update_burst", 1, 1000000, 200},
};

/* An import policy's scalar members (allow and deny are checked apart). */
static const struct jv_field bgpapi_policy_spec[] = {
	{"allow_subnet_override", JV_BOOL, 0, 0, 0, NULL},
	{"max_prefix", JV_INT, 0, 1, 1000000, NULL},
	{"max_prefix_warning", JV_INT, 0, 1, 100, NULL},
	{"update_rate", JV_INT, 0, 1, 100000, NULL},
	{"update_burst", JV_INT, 0, 1, 1000000, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* One entry of an allow or deny list: a prefix-list line. */
static const struct jv_field bgpapi_entry_spec[] = {
	{"prefix", JV_CIDR4, JV_REQ, 0, 32, NULL},
	{"ge", JV_INT, 0, 0, 32, NULL},
	{"le", JV_INT, 0, 0, 32, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* A port's bgp member (import_policy is checked apart). */
static const struct jv_field bgpapi_port_spec[] = {
	{"peer_asn", JV_INT, 0, 1, 4294967294LL, NULL},
	{"password", JV_STRING, 0, 0, 80, NULL},
	{"max_prefix", JV_INT, 0, 1, 1000000, NULL},
	{"max_prefix_warning", JV_INT, 0, 1, 100, NULL},
	{"ttl_security", JV_BOOL, 0, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

json_t *
bgpapi_take(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return NULL;
	json_incref(v);
	json_object_del(obj, key);
	return v;
}

/*
 * Checks the members of obj (a JSON object, changed: nulls are dropped) against spec,
 * naming fields under prefix: an error about "le" becomes one about "import_policy.allow[0].le".
 */
static int
bgpapi_nested(struct api_resp *resp, json_t *obj, const struct jv_field *spec,
    const char *prefix)
{
	struct jv_err e;
	char field[160], msg[512];
	size_t n;

	if (!json_is_object(obj))
		return api_err(resp, 400, "invalid_type", prefix, "%s must be an object", prefix),
		    -1;
	if (jv_check(obj, spec, JV_MODE_CREATE, 1, &e) == 0)
		return 0;
	n = strlen(e.field);
	snprintf(field, sizeof(field), "%s.%s", prefix, e.field);
	if (strcmp(e.code, "unknown_field") == 0)
		snprintf(msg, sizeof(msg), "unknown field %s", field);
	else if (n > 0 && strncmp(e.message, e.field, n) == 0)
		snprintf(msg, sizeof(msg), "%s.%s", prefix, e.message);
	else
		snprintf(msg, sizeof(msg), "%s: %s", field, e.message);
	api_err(resp, e.status, e.code, field, "%s", msg);
	return -1;
}

/* One allow/deny entry, checked and normalized: le is explicit whenever ge is given. */
static json_t *
bgpapi_entry(struct api_resp *resp, const json_t *x, const char *what)
{
	json_t *c = json_deep_copy(x), *ge, *le, *out = NULL;
	char field[200], buf[PFX4_STRLEN];
	struct pfx4 p;
	int64_t lo, hi;

	if (!json_is_object(x)) {
		api_err(resp, 400, "invalid_type", what, "%s must be an object {prefix, ge?, le?}",
		    what);
		goto out;
	}
	if (bgpapi_nested(resp, c, bgpapi_entry_spec, what) < 0)
		goto out;
	pfx4_parse(json_string_value(json_object_get(c, "prefix")), &p, 0, 32);
	ge = json_object_get(c, "ge");
	le = json_object_get(c, "le");
	/* FRR's prefix-list: ge alone means "up to /32", le alone "from the prefix length". */
	lo = ge ? json_integer_value(ge) : p.len;
	hi = le ? json_integer_value(le) : ge ? 32 : p.len;
	if (lo < p.len) {
		snprintf(field, sizeof(field), "%s.ge", what);
		api_err(resp, 400, "invalid_value", field, "%s (%lld) is shorter than the prefix "
		    "length %d", field, (long long)lo, p.len);
		goto out;
	}
	if (hi < lo) {
		snprintf(field, sizeof(field), "%s.le", what);
		api_err(resp, 400, "invalid_value", field, "%s (%lld) is less than %s (%lld)",
		    field, (long long)hi, ge ? "ge" : "the prefix length", (long long)lo);
		goto out;
	}
	pfx4_fmt(&p, buf);
	out = json_pack("{s:s}", "prefix", buf);
	if (ge)
		json_object_set_new(out, "ge", json_integer(lo));
	if (ge || le)
		json_object_set_new(out, "le", json_integer(hi));
out:
	json_decref(c);
	return out;
}

static json_t *
bgpapi_entries(struct api_resp *resp, const json_t *list, const char *field)
{
	json_t *out, *x, *e;
	size_t i;

	if (!json_is_array(list))
		return api_err(resp, 400, "invalid_type", field, "%s must be a list of {prefix, "
		    "ge?, le?} objects", field), NULL;
	if (json_array_size(list) > BGP_POLICY_MAX_ENTRIES)
		return api_err(resp, 400, "too_long", field, "%s has more than %d entries", field,
		    BGP_POLICY_MAX_ENTRIES), NULL;
	out = json_array();
	json_array_foreach(list, i, x) {
		char what[160];

		snprintf(what, sizeof(what), "%s[%zu]", field, i);
		if ((e = bgpapi_entry(resp, x, what)) == NULL) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, e);
	}
	return out;
}

/* A valid policy (possibly partial, possibly '{}') with every default filled in. */
static json_t *
bgpapi_policy_norm(const json_t *p)
{
	json_t *o = json_object(), *v;

	v = json_object_get(p, "allow");
	json_object_set_new(o, "allow", json_is_array(v) ? json_deep_copy(v) :
	    json_pack("[{s:s, s:i}]", "prefix", "0.0.0.0/0", "le", 32));
	v = json_object_get(p, "deny");
	json_object_set_new(o, "deny", json_is_array(v) ? json_deep_copy(v) : json_array());
	json_object_set_new(o, "allow_subnet_override",
	    json_boolean(json_is_true(json_object_get(p, "allow_subnet_override"))));
	for (size_t i = 0; i < ARRAY_SIZE(bgpapi_policy_nums); i++) {
		v = json_object_get(p, bgpapi_policy_nums[i].name);
		json_object_set_new(o, bgpapi_policy_nums[i].name, json_integer(json_is_integer(v) ?
		    json_integer_value(v) : bgpapi_policy_nums[i].dflt));
	}
	return o;
}

int
bgpapi_policy_check(struct api_resp *resp, const json_t *in, const char *field, json_t **out)
{
	json_t *c, *allow, *deny, *a = NULL, *d = NULL;
	char sub[160];
	int rc = -1;

	*out = NULL;
	if (in == NULL || json_is_null(in)) {
		*out = bgpapi_policy_norm(NULL);
		return 0;
	}
	if (!json_is_object(in))
		return api_err(resp, 400, "invalid_type", field, "%s must be an object", field), -1;
	c = json_deep_copy(in);
	allow = bgpapi_take(c, "allow");
	deny = bgpapi_take(c, "deny");
	if (bgpapi_nested(resp, c, bgpapi_policy_spec, field) < 0)
		goto out;
	snprintf(sub, sizeof(sub), "%s.allow", field);
	if (allow && !json_is_null(allow) && (a = bgpapi_entries(resp, allow, sub)) == NULL)
		goto out;
	snprintf(sub, sizeof(sub), "%s.deny", field);
	if (deny && !json_is_null(deny) && (d = bgpapi_entries(resp, deny, sub)) == NULL)
		goto out;
	if (a)
		json_object_set(c, "allow", a);
	if (d)
		json_object_set(c, "deny", d);
	*out = bgpapi_policy_norm(c);
	rc = 0;
out:
	json_decref(a);
	json_decref(d);
	json_decref(allow);
	json_decref(deny);
	json_decref(c);
	return rc;
}

json_t *
bgpapi_policy_json(const char *stored)
{
	json_t *p = stored ? json_loads(stored, 0, NULL) : NULL;
	json_t *o = bgpapi_policy_norm(p);

	json_decref(p);
	return o;
}

static int
bgpapi_password_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* The members of a port's bgp, in the order they are stored and shown. */
static const char *const bgpapi_port_keys[] = {
	"peer_asn", "password", "max_prefix", "max_prefix_warning", "ttl_security",
	"import_policy",
};

int
bgpapi_port_check(struct api_resp *resp, const json_t *in, char **stored)
{
	json_t *c, *ip, *pol = NULL, *asn, *pw, *o;
	int rc = -1;

	*stored = NULL;
	if (in == NULL || json_is_null(in)) {
		*stored = strdup("{}");
		return *stored ? 0 : (api_err(resp, 500, "internal", NULL, "out of memory"), -1);
	}
	if (!json_is_object(in))
		return api_err(resp, 400, "invalid_type", "bgp", "bgp must be an object or null"),
		    -1;
	c = json_deep_copy(in);
	ip = bgpapi_take(c, "import_policy");
	if (bgpapi_nested(resp, c, bgpapi_port_spec, "bgp") < 0)
		goto out;
	if ((asn = json_object_get(c, "peer_asn")) && json_integer_value(asn) == BGP_AS_TRANS) {
		api_err(resp, 400, "invalid_value", "bgp.peer_asn", "bgp.peer_asn 23456 is AS_TRANS "
		    "(RFC 6793), never a speaker's AS");
		goto out;
	}
	/* Never echo the password: the message says what is wrong, not what was sent. */
	if ((pw = json_object_get(c, "password")) && !bgpapi_password_ok(json_string_value(pw))) {
		api_err(resp, 400, "invalid_value", "bgp.password", "bgp.password must be 1 to 80 "
		    "printable ASCII characters (the TCP-MD5 key)");
		goto out;
	}
	if (ip && !json_is_null(ip) && bgpapi_policy_check(resp, ip, "bgp.import_policy",
	    &pol) < 0)
		goto out;
	if (pol)
		json_object_set(c, "import_policy", pol);
	o = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(bgpapi_port_keys); i++)
		if (json_object_get(c, bgpapi_port_keys[i]))
			json_object_set(o, bgpapi_port_keys[i], json_object_get(c, bgpapi_port_keys[i]));
	*stored = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (*stored == NULL)
		api_err(resp, 500, "internal", NULL, "out of memory");
	else
		rc = 0;
out:
	json_decref(pol);
	json_decref(ip);
	json_decref(c);
	return rc;
}

json_t *
bgpapi_port_json(const char *stored)
{
	json_t *b = stored ? json_loads(stored, 0, NULL) : NULL, *o = json_object(), *v;

	if (json_object_size(b) == 0) {
		json_decref(b);
		return o;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bgpapi_port_keys); i++) {
		const char *k = bgpapi_port_keys[i];

		v = json_object_get(b, k);
		if (strcmp(k, "password") == 0)
			json_object_set_new(o, "password_set", json_boolean(v != NULL));
		else if (strcmp(k, "ttl_security") == 0)
			json_object_set_new(o, k, json_boolean(json_is_true(v)));
		else if (strcmp(k, "import_policy") == 0 && v)
			json_object_set_new(o, k, bgpapi_policy_norm(v));
		else if (v)
			json_object_set(o, k, v);
	}
	json_decref(b);
	return o;
}

/* --- what routerd reports --- */

static int64_t
bgpapi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A unix-ms column as RFC 3339 (seconds), or null. */
static json_t *
bgpapi_col_ms(sqlite3_stmt *s, int col)
{
	char buf[32];

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return json_null();
	util_time_rfc3339((time_t)(sqlite3_column_int64(s, col) / 1000), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
bgpapi_col_int(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(s, col));
}

/* One session item; the row is a routing port left-joined with its bgp_sessions row. */
static json_t *
bgpapi_session_json(sqlite3_stmt *s, int64_t now)
{
	json_t *cfg = json_loads((const char *)sqlite3_column_text(s, 2), 0, NULL);
	json_t *peer_asn = json_object_get(cfg, "peer_asn");
	int have = sqlite3_column_type(s, 3) != SQLITE_NULL;
	const char *state = have ? (const char *)sqlite3_column_text(s, 3) : "idle";
	int64_t up = 0;
	json_t *o;

	if (have && strcmp(state, "established") == 0 && sqlite3_column_type(s, 4) !=
	    SQLITE_NULL && (up = (now - sqlite3_column_int64(s, 4)) / 1000) < 0)
		up = 0;
	o = json_pack("{s:o, s:o, s:o, s:s, s:o, s:I, s:o, s:{s:I, s:I, s:I}, s:o}",
	    "port", api_col_str(s, 0), "peer_ip", api_col_addr4(s, 1), "peer_asn",
	    peer_asn ? json_incref(peer_asn) : bgpapi_col_int(s, 5), "state", state, "since",
	    bgpapi_col_ms(s, 4), "uptime_s", (json_int_t)up, "hold_time", bgpapi_col_int(s, 6),
	    "prefixes", "received", (json_int_t)sqlite3_column_int64(s, 7), "accepted",
	    (json_int_t)sqlite3_column_int64(s, 8), "rejected",
	    (json_int_t)sqlite3_column_int64(s, 9), "last_error", api_col_str(s, 10));
	json_decref(cfg);
	return o;
}

int
bgpapi_router_get(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];
	int64_t now = bgpapi_now_ms();
	json_t *sessions, *body;
	sqlite3_stmt *s;

	if (!api_exists(req, &router_kind, id))
		return api_not_found(resp, "router", id);
	sessions = json_array();
	body = json_pack("{s:s, s:I, s:I, s:o}", "router", id, "asn",
	    (json_int_t)store_i(req->st, "SELECT asn FROM routers WHERE id = ?", 0, "s", id),
	    "hold_time", (json_int_t)store_i(req->st, "SELECT bgp_hold_time FROM routers WHERE "
	    "id = ?", 0, "s", id), "sessions", sessions);
	/* Sessions are read through their port, so the tenant filter holds for them too. */
	s = store_q(req->st, "SELECT p.id, p.ip, p.bgp, b.state, b.since, b.peer_asn, "
	    "b.hold_time, COALESCE(b.received, 0), COALESCE(b.accepted, 0), "
	    "COALESCE(b.rejected, 0), b.last_error FROM ports p JOIN subnets n ON n.id = p.subnet "
	    "LEFT JOIN bgp_sessions b ON b.port = p.id WHERE n.router = ?1 AND p.routing = 1 AND "
	    "(?2 IS NULL OR p.tenant = ?2) ORDER BY p.id", "ss", id, api_scope(req));
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(sessions, bgpapi_session_json(s, now));
	sqlite3_reset(s);
	return api_ok(resp, 200, body);
}

/* The filters and page of GET .../bgp/routes. */
struct bgpapi_rq {
	const char *status, *port;
	int has_prefix, has_after;
	struct pfx4 prefix, after;
	const char *after_port;
	int64_t limit;
};

/*
 * The cursor of a page names its last item by what orders the list, not by id, so that
 * a route withdrawn between two pages does not lose the place: 8 hex digits of address,
 * 2 of length, then the port id. Fixed-width hex sorts as the list does, so cursors grow
 * as clients expect of "next".
 */
static void
bgpapi_cursor(const struct pfx4 *p, const char *port, char *out, size_t outsz)
{
	snprintf(out, outsz, "%08x%02x%s", p->addr, p->len, port);
}

static int
bgpapi_after(struct bgpapi_rq *q, const char *val)
{
	char hex[11];
	unsigned long v;
	char *end;

	if (strlen(val) <= 10 || strspn(val, "0123456789abcdef") < 10)
		return -1;
	memcpy(hex, val, 10);
	hex[10] = '\0';
	v = strtoul(hex + 8, &end, 16);
	if (v > 32)
		return -1;
	q->after.len = (uint8_t)v;
	hex[8] = '\0';
	q->after.addr = (uint32_t)strtoul(hex, &end, 16);
	q->after_port = val + 10;
	q->has_after = 1;
	return 0;
}

static int
bgpapi_rq_parse(struct api_req *req, struct api_resp *resp, struct bgpapi_rq *q)
{
	memset(q, 0, sizeof(*q));
	q->limit = BGP_LIST_MAX;
	if (req->query_overflow)
		return api_err(resp, 400, "invalid_query", NULL, "too many query parameters"), -1;
	if (req->query_nul[0])
		return api_err(resp, 400, "invalid_query", req->query_nul, "%s contains a NUL byte",
		    req->query_nul), -1;
	for (int i = 0; i < req->nquery; i++) {
		const char *key = req->query[i].key;
		const char *val = req->query[i].value ? req->query[i].value : "";
		char *end;

		if (strcmp(key, "limit") == 0) {
			q->limit = strtoll(val, &end, 10);
			if (*val == '\0' || *end != '\0' || q->limit < 1 || q->limit > BGP_LIST_MAX)
				return api_err(resp, 400, "invalid_query", "limit", "limit must be an "
				    "integer from 1 to %d", BGP_LIST_MAX), -1;
		} else if (strcmp(key, "after") == 0) {
			if (bgpapi_after(q, val) < 0)
				return api_err(resp, 400, "invalid_query", "after", "after must be the "
				    "\"next\" of a previous page"), -1;
		} else if (strcmp(key, "status") == 0) {
			if (strcmp(val, "accepted") != 0 && strcmp(val, "rejected") != 0)
				return api_err(resp, 400, "invalid_query", "status", "status must be "
				    "accepted or rejected"), -1;
			q->status = val;
		} else if (strcmp(key, "port") == 0) {
			q->port = val;
		} else if (strcmp(key, "prefix") == 0) {
			if (pfx4_parse(val, &q->prefix, 0, 32) != ADDR_OK)
				return api_err(resp, 400, "invalid_query", "prefix", "prefix must be an "
				    "IPv4 CIDR without host bits"), -1;
			q->has_prefix = 1;
		} else {
			return api_err(resp, 400, "invalid_query", key, "unknown query parameter "
			    "%.64s", key), -1;
		}
	}
	return 0;
}

static json_t *
bgpapi_attr(const json_t *attrs, const char *key, json_t *dflt)
{
	json_t *v = json_object_get(attrs, key);

	if (v == NULL) /* absent: the default; a stored null stays null */
		return dflt;
	json_decref(dflt);
	return json_incref(v);
}

static json_t *
bgpapi_route_json(sqlite3_stmt *s)
{
	struct pfx4 p = {(uint32_t)sqlite3_column_int64(s, 1), (uint8_t)sqlite3_column_int(s, 2)};
	json_t *attrs = json_loads((const char *)sqlite3_column_text(s, 9), 0, NULL), *o;
	char buf[PFX4_STRLEN];

	pfx4_fmt(&p, buf);
	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}", "id", api_col_str(s, 0), "prefix", buf, "port", api_col_str(s, 3), "nexthop",
	    api_col_addr4(s, 4), "nexthop_port", api_col_str(s, 5), "status", api_col_str(s, 6),
	    "reason", api_col_str(s, 7), "selected", sqlite3_column_int(s, 8) != 0, "as_path",
	    bgpapi_attr(attrs, "as_path", json_array()), "origin", bgpapi_attr(attrs, "origin",
	    json_null()), "med", bgpapi_attr(attrs, "med", json_null()), "local_pref",
	    bgpapi_attr(attrs, "local_pref", json_null()), "communities", bgpapi_attr(attrs,
	    "communities", json_array()), "large_communities", bgpapi_attr(attrs,
	    "large_communities", json_array()), "updated", bgpapi_col_ms(s, 10));
	json_decref(attrs);
	return o;
}

int
bgpapi_routes(struct api_req *req, struct api_resp *resp)
{
	const char *id = req->seg[2];
	struct bgpapi_rq q;
	json_t *items, *body;
	struct pfx4 last;
	char cur[96] = "";
	sqlite3_stmt *s;
	int64_t count = 0;

	if (!api_exists(req, &router_kind, id))
		return api_not_found(resp, "router", id);
	if (bgpapi_rq_parse(req, resp, &q) < 0)
		return 0;
	s = store_q(req->st, "SELECT id, addr, len, port, nexthop, nexthop_port, status, reason, "
	    "selected, attrs, updated FROM learned_routes WHERE router = ?1 AND (?2 IS NULL OR "
	    "tenant = ?2) AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR port = ?4) AND "
	    "(?5 = 0 OR (addr = ?6 AND len = ?7)) AND (?8 = 0 OR (addr, len, port) > "
	    "(?9, ?10, ?11)) ORDER BY addr, len, port LIMIT ?12", "ssssiuiiuisi", id,
	    api_scope(req), q.status, q.port, (int64_t)q.has_prefix, q.prefix.addr,
	    (int64_t)q.prefix.len, (int64_t)q.has_after, q.after.addr, (int64_t)q.after.len,
	    q.after_port, q.limit + 1);
	items = json_array();
	body = json_pack("{s:o}", "items", items);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (count++ == q.limit) {
			json_object_set_new(body, "next", json_string(cur));
			break;
		}
		last.addr = (uint32_t)sqlite3_column_int64(s, 1);
		last.len = (uint8_t)sqlite3_column_int(s, 2);
		bgpapi_cursor(&last, (const char *)sqlite3_column_text(s, 3), cur, sizeof(cur));
		json_array_append_new(items, bgpapi_route_json(s));
	}
	sqlite3_reset(s);
	return api_ok(resp, 200, body);
}
