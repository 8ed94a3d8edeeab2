/*
 * ctl_cmd.c: turns "VERB [ID] --opt value ..." into a request, using the
 * verb's row of the resource table, and runs it.
 *
 * Option values are converted to their JSON types here (integers, on|off)
 * so that every mistake is reported before anything is sent.  Only options
 * that were given are sent: the server applies its own defaults.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CMD_MAXOPT	32

struct cmd_parse {
	const struct ctl_res	*res;
	const struct ctl_verb	*verb;
	json_t			*vals;		/* body fields or query parameters */
	json_t			*slots;		/* {field} values of the path */
	const char		*pos;		/* the positional id */
	const char		*pos2;		/* the second positional (a body value) */
	unsigned		 seen[CMD_MAXOPT];
};

static int
cmd_err_type(const struct cmd_parse *p, const struct ctl_opt *o, const char *what,
    const char *arg)
{
	return ctl_main_usage_error(p->res, p->verb, "--%s: expected %s, not '%s'",
	    o->flag, what, arg);
}

/* A JSON object from the text itself (starting with '{'), a file, or "-" (stdin). */
static int
cmd_json(const struct cmd_parse *p, const struct ctl_opt *o, const char *arg,
    json_t **out)
{
	json_error_t	 err;
	const char	*t = arg + strspn(arg, " \t\r\n");

	if (*t == '{')
		*out = json_loads(t, JSON_REJECT_DUPLICATES, &err);
	else if (strcmp(arg, "-") == 0)
		*out = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err);
	else
		*out = json_load_file(arg, JSON_REJECT_DUPLICATES, &err);
	if (*out == NULL && err.line < 1)
		return ctl_main_usage_error(p->res, p->verb, "--%s: %s", o->flag, err.text);
	if (*out == NULL)
		return ctl_main_usage_error(p->res, p->verb, "--%s: %s (line %d, column %d)",
		    o->flag, err.text, err.line, err.column);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ctl_main_usage_error(p->res, p->verb,
		    "--%s: expected a JSON object {...}", o->flag);
	}
	return 0;
}

/* Converts one option value to the JSON value the API expects. */
static int
cmd_value(const struct cmd_parse *p, const struct ctl_opt *o, const char *arg,
    json_t **out)
{
	char		*end;
	long long	 n;

	switch (o->type) {
	case CTL_T_STR:
		/* jansson refuses strings that are not UTF-8. */
		if ((*out = json_string(arg)) == NULL)
			return cmd_err_type(p, o, "UTF-8 text", arg);
		return 0;
	case CTL_T_INT:
		errno = 0;
		n = strtoll(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0')
			return cmd_err_type(p, o, "an integer", arg);
		*out = json_integer((json_int_t)n);
		return 0;
	case CTL_T_BOOL:
		if (strcmp(arg, "on") == 0)
			*out = json_true();
		else if (strcmp(arg, "off") == 0)
			*out = json_false();
		else
			return cmd_err_type(p, o, "on or off", arg);
		return 0;
	case CTL_T_NULL:
		*out = json_null();
		return 0;
	case CTL_T_EMPTY:
		*out = json_array();
		return 0;
	case CTL_T_JSON:
		return cmd_json(p, o, arg, out);
	}
	return cmd_err_type(p, o, "a value", arg);
}

/* Whether field a is "b.something" (a member of b). */
static int
cmd_inside(const char *a, const char *b)
{
	size_t	 n = strlen(b);

	return strncmp(a, b, n) == 0 && a[n] == '.';
}

/*
 * Two options conflict when they set one field (--host and --no-host), or when one
 * clears an object (--bgp-clear) that the other sets a member of.
 */
static int
cmd_conflict(const struct ctl_opt *a, const struct ctl_opt *b)
{
	return strcmp(a->field, b->field) == 0 ||
	    (a->type == CTL_T_NULL && cmd_inside(b->field, a->field)) ||
	    (b->type == CTL_T_NULL && cmd_inside(a->field, b->field));
}

/*
 * Sets vals[field] = val, or vals[parent][member] for "parent.member".  Members given
 * by their own options win over the same members of a whole object (--import-policy).
 */
static void
cmd_set(json_t *vals, const char *field, json_t *val)
{
	const char	*dot = strchr(field, '.');
	char		 parent[64];
	json_t		*obj, *old;

	if (dot == NULL || (size_t)(dot - field) >= sizeof(parent)) {
		if (json_is_object(val) && json_is_object(old = json_object_get(vals, field)) &&
		    json_object_update(val, old) != 0)
			ctl_buf_oom();
		if (json_object_set_new(vals, field, val) != 0)
			ctl_buf_oom();
		return;
	}
	memcpy(parent, field, (size_t)(dot - field));
	parent[dot - field] = '\0';
	if (!json_is_object(obj = json_object_get(vals, parent))) {
		if ((obj = json_object()) == NULL ||
		    json_object_set_new(vals, parent, obj) != 0)
			ctl_buf_oom();
	}
	if (json_object_set_new(obj, dot + 1, val) != 0)
		ctl_buf_oom();
}

/*
 * Records option idx.  Conflicting options are refused (see cmd_conflict); a
 * non-repeatable option given twice is refused rather than silently taking the
 * last value.
 */
static int
cmd_store(struct cmd_parse *p, int idx, json_t *val)
{
	const struct ctl_opt	*o = &p->verb->opts[idx], *q;
	json_t			*target, *arr;
	int			 j;

	for (j = 0, q = p->verb->opts; q->flag != NULL; j++, q++)
		if (j != idx && p->seen[j] && cmd_conflict(q, o)) {
			json_decref(val);
			return ctl_main_usage_error(p->res, p->verb,
			    "--%s conflicts with --%s", o->flag, q->flag);
		}
	if (p->seen[idx] && !(o->flags & (CTL_O_MULTI | CTL_O_LIST))) {
		json_decref(val);
		return ctl_main_usage_error(p->res, p->verb, "--%s given twice", o->flag);
	}
	p->seen[idx]++;
	target = (o->flags & CTL_O_PATH) ? p->slots : p->vals;
	if (!(o->flags & (CTL_O_MULTI | CTL_O_LIST))) {
		cmd_set(target, o->field, val);
		return 0;
	}
	if ((arr = json_object_get(target, o->field)) == NULL) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(target, o->field, arr) != 0)
			ctl_buf_oom();
	}
	if (json_array_append_new(arr, val) != 0)
		ctl_buf_oom();
	return 0;
}

static int
cmd_find(const struct ctl_verb *v, const char *flag, size_t len)
{
	const struct ctl_opt	*o;
	int			 i;

	for (i = 0, o = v->opts; o != NULL && o->flag != NULL; i++, o++)
		if (strlen(o->flag) == len && strncmp(o->flag, flag, len) == 0)
			return i;
	return -1;
}

/* Parses "--flag", "--flag value" or "--flag=value" at argv[*i]. */
static int
cmd_option(struct cmd_parse *p, int argc, char **argv, int *i)
{
	const char		*a = argv[*i] + 2, *eq, *arg;
	const struct ctl_opt	*o;
	json_t			*val = NULL;
	int			 idx, rc;

	eq = strchr(a, '=');
	idx = cmd_find(p->verb, a, eq ? (size_t)(eq - a) : strlen(a));
	if (idx < 0)
		return ctl_main_usage_error(p->res, p->verb, "unknown option '%s'",
		    argv[*i]);
	o = &p->verb->opts[idx];
	if (o->metavar == NULL) {
		if (eq != NULL)
			return ctl_main_usage_error(p->res, p->verb,
			    "--%s takes no value", o->flag);
		arg = "";
	} else if (eq != NULL)
		arg = eq + 1;
	else if (*i + 1 < argc)
		arg = argv[++*i];
	else
		return ctl_main_usage_error(p->res, p->verb, "--%s needs a value",
		    o->flag);
	if ((rc = cmd_value(p, o, arg, &val)) != 0)
		return rc;
	if (val == NULL)
		ctl_buf_oom();
	*i += 1;
	return cmd_store(p, idx, val);
}

/*
 * Whether s can be one path segment.  "." and ".." would name the collection
 * or its parent; '/' is refused although it is sent encoded, because veneerd
 * (libmicrohttpd) decodes %2F before routing, so "ten-1/tokens" would reach
 * another resource.  No id or host name holds any of these.
 */
#define CMD_SEGMENT_RULE "ids and names are never empty, '.', '..' or hold '/'"

static int
cmd_segment_ok(const char *s)
{
	return *s != '\0' && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	    strchr(s, '/') == NULL;
}

static int
cmd_positional(struct cmd_parse *p, const char *arg)
{
	if (p->pos != NULL && p->verb->pos2 != NULL && p->pos2 == NULL) {
		p->pos2 = arg;
		return 0;
	}
	if (p->verb->pos == NULL || p->pos != NULL)
		return ctl_main_usage_error(p->res, p->verb, "unexpected argument '%s'",
		    arg);
	if (!cmd_segment_ok(arg))
		return ctl_main_usage_error(p->res, p->verb, "bad %s '%s': %s",
		    p->verb->pos, arg, CMD_SEGMENT_RULE);
	p->pos = arg;
	return 0;
}

/* Walks the arguments after VERB; returns -1 after printing help. */
static int
cmd_args(struct ctl_conf *c, struct cmd_parse *p, int argc, char **argv)
{
	int	 i = 0, rc, dashdash = 0;

	while (i < argc) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if ((rc = cmd_positional(p, a)) != 0)
				return rc;
			i++;
		} else if (strcmp(a, "--") == 0) {
			dashdash = 1;
			i++;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			ctl_res_verb_help(stdout, p->res, p->verb);
			return -1;
		} else if ((rc = ctl_main_global(c, argc, argv, &i)) != 0) {
			if (rc != 1)
				return rc;
		} else if (a[1] != '-')
			return ctl_main_usage_error(p->res, p->verb,
			    "unknown option '%s'", a);
		else if ((rc = cmd_option(p, argc, argv, &i)) != 0)
			return rc;
	}
	return 0;
}

/* Whatever the arguments left out: required options, the id, any change. */
static int
cmd_complete(struct cmd_parse *p)
{
	const struct ctl_opt	*o;
	struct ctl_buf		 miss = { 0 };
	int			 i, changes = 0, rc = 0;

	for (i = 0, o = p->verb->opts; o != NULL && o->flag != NULL; i++, o++) {
		if ((o->flags & CTL_O_REQ) && !p->seen[i])
			ctl_buf_addf(&miss, "%s--%s", miss.len ? ", " : "", o->flag);
		if (p->seen[i] && !(o->flags & CTL_O_PATH))
			changes++;
	}
	if (miss.len > 0)
		rc = ctl_main_usage_error(p->res, p->verb, "missing %s",
		    ctl_buf_str(&miss));
	else if (p->verb->pos != NULL && p->pos == NULL)
		rc = ctl_main_usage_error(p->res, p->verb, "missing %s", p->verb->pos);
	else if (p->verb->pos2 != NULL && p->pos2 == NULL)
		rc = ctl_main_usage_error(p->res, p->verb, "missing %s", p->verb->pos2);
	else if ((p->verb->flags & CTL_V_NEEDONE) && changes == 0)
		rc = ctl_main_usage_error(p->res, p->verb,
		    "nothing to change: give at least one option");
	ctl_buf_free(&miss);
	return rc;
}

/* The second positional goes into the body as a string ("port claim PORT IP"). */
static int
cmd_pos2(struct cmd_parse *p)
{
	json_t	*val;

	if (p->pos2 == NULL)
		return 0;
	if ((val = json_string(p->pos2)) == NULL)
		return ctl_main_usage_error(p->res, p->verb, "bad %s '%s': expected UTF-8 text",
		    p->verb->pos2, p->pos2);
	cmd_set(p->vals, p->verb->pos2field, val);
	return 0;
}

/* One --cidr is sent as a string, several as a list (CTL_O_MULTI). */
static void
cmd_unwrap(struct cmd_parse *p)
{
	const struct ctl_opt	*o;
	json_t			*arr;

	for (o = p->verb->opts; o != NULL && o->flag != NULL; o++) {
		if (!(o->flags & CTL_O_MULTI))
			continue;
		arr = json_object_get(p->vals, o->field);
		if (json_array_size(arr) == 1)
			json_object_set(p->vals, o->field, json_array_get(arr, 0));
	}
}

/* Fills the {field} slots of the resource path with encoded values. */
static int
cmd_path(struct cmd_parse *p, struct ctl_buf *b)
{
	const char	*s = p->res->path, *close;
	char		 key[64];
	const char	*val;

	while (*s != '\0') {
		if (*s != '{' || (close = strchr(s, '}')) == NULL ||
		    (size_t)(close - s) >= sizeof(key)) {
			ctl_buf_add(b, s++, 1);
			continue;
		}
		memcpy(key, s + 1, (size_t)(close - s - 1));
		key[close - s - 1] = '\0';
		val = json_string_value(json_object_get(p->slots, key));
		if (val == NULL || !cmd_segment_ok(val))
			return ctl_main_usage_error(p->res, p->verb, "bad --%s '%s': %s",
			    key, val ? val : "", CMD_SEGMENT_RULE);
		ctl_buf_addesc(b, val);
		s = close + 1;
	}
	return 0;
}

/* Appends the filters of a GET as an encoded query string. */
static void
cmd_query(json_t *vals, struct ctl_buf *b)
{
	const char	*key;
	json_t		*val;
	struct ctl_buf	 v = { 0 };
	char		 sep = '?';

	json_object_foreach(vals, key, val) {
		ctl_buf_add(b, &sep, 1);
		ctl_buf_addesc(b, key);
		ctl_buf_adds(b, "=");
		v.len = 0;
		if (json_is_string(val))
			ctl_buf_adds(&v, json_string_value(val));
		else
			ctl_out_value(&v, val);
		ctl_buf_addesc(b, ctl_buf_str(&v));
		sep = '&';
	}
	ctl_buf_free(&v);
}

/* The CTL_O_MERGE parents whose members were given without the parent itself. */
static void
cmd_merges(struct cmd_parse *p, struct ctl_req *req)
{
	const struct ctl_opt	*o, *q;
	const char		*dot;
	json_t			*name;
	int			 i, j, whole;

	for (i = 0, o = p->verb->opts; o != NULL && o->flag != NULL; i++, o++) {
		if (!p->seen[i] || !(o->flags & CTL_O_MERGE) ||
		    (dot = strchr(o->field, '.')) == NULL)
			continue;
		whole = 0;
		for (j = 0, q = p->verb->opts; q->flag != NULL; j++, q++)
			whole |= p->seen[j] && strlen(q->field) == (size_t)(dot - o->field) &&
			    strncmp(q->field, o->field, (size_t)(dot - o->field)) == 0;
		if (whole)
			continue;
		if ((req->merge == NULL && (req->merge = json_array()) == NULL) ||
		    (name = json_stringn(o->field, (size_t)(dot - o->field))) == NULL)
			ctl_buf_oom();
		for (j = 0; j < (int)json_array_size(req->merge); j++)
			if (json_equal(json_array_get(req->merge, (size_t)j), name))
				break;
		if (j == (int)json_array_size(req->merge) &&
		    json_array_append(req->merge, name) != 0)
			ctl_buf_oom();
		json_decref(name);
	}
}

static int
cmd_build(struct cmd_parse *p, struct ctl_req *req)
{
	struct ctl_buf	 path = { 0 };
	int		 rc;

	if ((rc = cmd_path(p, &path)) != 0) {
		ctl_buf_free(&path);
		return rc;
	}
	if (p->pos != NULL) {
		ctl_buf_adds(&path, "/");
		ctl_buf_addesc(&path, p->pos);
	}
	if (p->verb->suffix != NULL)
		ctl_buf_adds(&path, p->verb->suffix);
	req->method = p->verb->method;
	req->noauth = (p->verb->flags & CTL_V_NOAUTH) != 0;
	if (req->method == CTL_PATCH)
		cmd_merges(p, req);
	if (req->method == CTL_POST || req->method == CTL_PATCH)
		req->body = json_incref(p->vals);
	else if (req->method == CTL_GET)
		cmd_query(p->vals, &path);
	req->path = ctl_buf_take(&path);
	return 0;
}

/*
 * Parses argv (the words after VERB) into req.  Returns 0, a usage exit
 * code after a message, or -1 when help was asked for and printed.
 */
int
ctl_cmd_parse(struct ctl_conf *c, const struct ctl_res *r, const struct ctl_verb *v,
    int argc, char **argv, struct ctl_req *req)
{
	struct cmd_parse	 p;
	int			 rc, n = 0;

	memset(&p, 0, sizeof(p));
	p.res = r;
	p.verb = v;
	while (v->opts != NULL && v->opts[n].flag != NULL)
		n++;
	if (n > CMD_MAXOPT) {
		fprintf(stderr, "veneerctl: %s %s: too many options in the table\n",
		    r->name, v->name);
		return CTL_EXIT_USAGE;
	}
	if ((p.vals = json_object()) == NULL || (p.slots = json_object()) == NULL)
		ctl_buf_oom();
	if ((rc = cmd_args(c, &p, argc, argv)) == 0 &&
	    (rc = cmd_complete(&p)) == 0 && (rc = cmd_pos2(&p)) == 0) {
		cmd_unwrap(&p);
		rc = cmd_build(&p, req);
	}
	json_decref(p.vals);
	json_decref(p.slots);
	return rc;
}

/* Sends the request and prints the answer. */
int
ctl_cmd_exec(const struct ctl_conf *c, const struct ctl_res *r,
    const struct ctl_verb *v, const struct ctl_req *req)
{
	json_t	*ans = NULL;
	int	 rc;

	if (json_array_size(req->merge) > 0 && (rc = ctl_http_merge(c, req)) != 0)
		return rc;
	if (v->shape == CTL_S_LIST)
		rc = ctl_http_list(c, req, &ans);
	else
		rc = ctl_http_call(c, req, &ans);
	if (rc != 0)
		return rc;
	if (((v->shape == CTL_S_ROW || v->shape == CTL_S_SHOW || v->shape == CTL_S_SUB) &&
	    !json_is_object(ans)) ||
	    (v->shape == CTL_S_SUB && !json_is_array(json_object_get(ans, v->items)))) {
		fprintf(stderr, "veneerctl: unexpected answer from veneerd: "
		    "expected a JSON object\n");
		json_decref(ans);
		return CTL_EXIT_TRANSPORT;
	}
	rc = ctl_out_print(c, r, v, ans);
	json_decref(ans);
	return rc;
}

void
ctl_cmd_free(struct ctl_req *req)
{
	free(req->path);
	json_decref(req->body);
	json_decref(req->merge);
	req->path = NULL;
	req->body = NULL;
	req->merge = NULL;
}
