/*
 * ctl_out.c: printing answers.
 *
 *   table  aligned columns chosen per resource (ctl_res.c), or KEY: VALUE
 *          lines for show; lists joined with ',', booleans yes/no, null '-'
 *   json   the API's JSON, pretty-printed (for lists, the items array)
 *   id     one id per line, for $(...) in shell scripts
 *
 * Answers are printed whatever they hold: a missing field or a wrong type
 * shows as '-' in a table, never as a crash.  Only -o id insists on the id,
 * because a script would otherwise go on with an empty variable.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Table cell text of one JSON value; arrays inside arrays stay JSON. */
static void
out_scalar(struct ctl_buf *b, const json_t *v)
{
	char	*s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		ctl_buf_addsafe(b, *json_string_value(v) ? json_string_value(v) : "-");
		break;
	case JSON_INTEGER:
		ctl_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		ctl_buf_addf(b, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		ctl_buf_adds(b, "yes");
		break;
	case JSON_FALSE:
		ctl_buf_adds(b, "no");
		break;
	case JSON_NULL:
		ctl_buf_adds(b, "-");
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			ctl_buf_oom();
		ctl_buf_addsafe(b, s);
		free(s);
		break;
	}
}

void
ctl_out_value(struct ctl_buf *b, const json_t *v)
{
	size_t	 i;

	if (v == NULL) {
		ctl_buf_adds(b, "-");
		return;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		out_scalar(b, json_is_array(v) ? json_null() : v);
		return;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if (i > 0)
			ctl_buf_adds(b, ",");
		out_scalar(b, json_array_get(v, i));
	}
}

/* Checks stdout once at the end: a full disk must not look like success. */
static int
out_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("veneerctl: writing output");
		return CTL_EXIT_TRANSPORT;
	}
	return 0;
}

static void
out_json(const json_t *j)
{
	char	*s;

	if ((s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY)) == NULL)
		ctl_buf_oom();
	printf("%s\n", s);
	free(s);
}

/* Prints field of obj for -o id; 1 when it is missing. */
static int
out_id(const json_t *obj, const char *field)
{
	const json_t	*v = json_object_get(obj, field);
	struct ctl_buf	 b = { 0 };

	if (v == NULL || json_is_null(v) || json_is_array(v) || json_is_object(v) ||
	    (json_is_string(v) && *json_string_value(v) == '\0')) {
		fprintf(stderr, "veneerctl: the answer has no usable \"%s\"\n", field);
		return 1;
	}
	ctl_out_value(&b, v);
	printf("%s\n", ctl_buf_str(&b));
	ctl_buf_free(&b);
	return 0;
}

static int
out_ids(const json_t *ans, const char *field, int list)
{
	size_t	 i;
	int	 bad = 0;

	if (!list)
		bad = out_id(ans, field);
	for (i = 0; list && i < json_array_size(ans); i++)
		bad |= out_id(json_array_get(ans, i), field);
	if (bad) {
		out_flush();
		return CTL_EXIT_TRANSPORT;
	}
	return out_flush();
}

/* Terminal columns of UTF-8 text: continuation bytes take no column. */
static size_t
out_width(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A member of obj; "a.b" is member b of member a. */
static const json_t *
out_field(const json_t *obj, const char *field)
{
	const char	*dot;
	char		 head[64];

	while ((dot = strchr(field, '.')) != NULL && (size_t)(dot - field) < sizeof(head)) {
		memcpy(head, field, (size_t)(dot - field));
		head[dot - field] = '\0';
		obj = json_object_get(obj, head);
		field = dot + 1;
	}
	return json_object_get(obj, field);
}

/*
 * Columns of seconds that read better as a duration, as FRR prints a session's
 * uptime: 00:12:34 within a day, then 3d04h05m, then 2w3d04h; 0 prints '-'.
 */
static int
out_duration(struct ctl_buf *b, const char *field, const json_t *v)
{
	json_int_t	 t = json_integer_value(v);

	if (strcmp(field, "uptime_s") != 0 || !json_is_integer(v) || t < 0)
		return 0;
	if (t == 0)
		ctl_buf_adds(b, "-");
	else if (t < 86400)
		ctl_buf_addf(b, "%02d:%02d:%02d", (int)(t / 3600), (int)(t / 60 % 60),
		    (int)(t % 60));
	else if (t < 7 * 86400)
		ctl_buf_addf(b, "%dd%02dh%02dm", (int)(t / 86400), (int)(t / 3600 % 24),
		    (int)(t / 60 % 60));
	else
		ctl_buf_addf(b, "%lldw%dd%02dh", (long long)(t / (7 * 86400)),
		    (int)(t / 86400 % 7), (int)(t / 3600 % 24));
	return 1;
}

struct out_table {
	size_t		  ncols;
	size_t		  nrows;	/* including the header */
	char		**cell;		/* nrows * ncols */
	size_t		 *width;
};

static void
out_table_fill(struct out_table *t, const struct ctl_col *cols, const json_t *items)
{
	struct ctl_buf	 b = { 0 };
	size_t		 r, k;
	const json_t	*item;

	for (r = 0; r < t->nrows; r++) {
		item = r > 0 ? json_array_get(items, r - 1) : NULL;
		for (k = 0; k < t->ncols; k++) {
			if (r == 0)
				ctl_buf_adds(&b, cols[k].header);
			else if (!out_duration(&b, cols[k].field,
			    out_field(item, cols[k].field)))
				ctl_out_value(&b, out_field(item, cols[k].field));
			t->cell[r * t->ncols + k] = ctl_buf_take(&b);
			if (out_width(t->cell[r * t->ncols + k]) > t->width[k])
				t->width[k] = out_width(t->cell[r * t->ncols + k]);
		}
	}
}

/* Aligned columns, two spaces apart, no trailing blanks. */
static void
out_table(const struct ctl_col *cols, const json_t *items)
{
	struct out_table	 t;
	size_t			 r, k;
	char			*cell;

	memset(&t, 0, sizeof(t));
	while (cols[t.ncols].header != NULL)
		t.ncols++;
	t.nrows = json_array_size(items) + 1;
	if (t.ncols == 0 || (t.cell = calloc(t.nrows * t.ncols, sizeof(char *))) == NULL ||
	    (t.width = calloc(t.ncols, sizeof(size_t))) == NULL)
		ctl_buf_oom();
	out_table_fill(&t, cols, items);
	for (r = 0; r < t.nrows; r++) {
		for (k = 0; k < t.ncols; k++) {
			cell = t.cell[r * t.ncols + k];
			fputs(cell, stdout);
			if (k + 1 < t.ncols)
				printf("%*s", (int)(t.width[k] - out_width(cell) + 2), "");
			free(cell);
		}
		putchar('\n');
	}
	free(t.cell);
	free(t.width);
}

/* show: every field of the object, in the server's order, as KEY: VALUE. */
static void
out_show(json_t *obj)
{
	const char	*key;
	json_t		*val;
	struct ctl_buf	 k = { 0 }, v = { 0 };
	int		 w = 0;

	json_object_foreach(obj, key, val)
		if ((int)strlen(key) > w && strlen(key) < 64)
			w = (int)strlen(key);
	json_object_foreach(obj, key, val) {
		k.len = v.len = 0;
		ctl_buf_addsafe(&k, key);
		ctl_buf_adds(&k, ":");
		ctl_out_value(&v, val);
		printf("%-*s %s\n", w + 1, ctl_buf_str(&k), ctl_buf_str(&v));
	}
	ctl_buf_free(&k);
	ctl_buf_free(&v);
}

/* The token secret: shown once, so a missing one is an error, not a '-'. */
static int
out_secret(const json_t *obj, const char *field)
{
	const char	*s = json_string_value(json_object_get(obj, field));
	struct ctl_buf	 b = { 0 };

	if (s == NULL || *s == '\0') {
		fprintf(stderr, "veneerctl: the answer has no \"%s\"\n", field);
		return CTL_EXIT_TRANSPORT;
	}
	ctl_buf_addsafe(&b, s);
	printf("%s: %s\n", field, ctl_buf_str(&b));
	ctl_buf_free(&b);
	return 0;
}

static int
out_tables(const struct ctl_res *r, const struct ctl_verb *v, json_t *ans)
{
	const struct ctl_col	*cols = v->cols ? v->cols : r->cols;
	json_t			*one;
	int			 rc = 0;

	if (v->shape == CTL_S_SHOW || cols == NULL) {
		out_show(ans);
		return 0;
	}
	if (v->shape == CTL_S_LIST) {
		out_table(cols, ans);
		return 0;
	}
	if (v->shape == CTL_S_SUB) {
		out_table(cols, json_object_get(ans, v->items));
		return 0;
	}
	if ((one = json_array()) == NULL || json_array_append(one, ans) != 0)
		ctl_buf_oom();
	out_table(cols, one);
	json_decref(one);
	if (v->secret != NULL)
		rc = out_secret(ans, v->secret);
	return rc;
}

int
ctl_out_print(const struct ctl_conf *c, const struct ctl_res *r,
    const struct ctl_verb *v, json_t *ans)
{
	int	 rc = 0;

	if (v->shape == CTL_S_NONE)
		return 0;
	switch (c->fmt) {
	case CTL_FMT_JSON:
		out_json(ans);
		break;
	case CTL_FMT_ID:
		if (v->shape == CTL_S_SUB)
			return out_ids(json_object_get(ans, v->items), v->idfield, 1);
		return out_ids(ans, v->secret ? v->secret :
		    v->idfield ? v->idfield : r->idfield, v->shape == CTL_S_LIST);
	case CTL_FMT_TABLE:
		rc = out_tables(r, v, ans);
		break;
	}
	if (rc != 0) {
		out_flush();
		return rc;
	}
	return out_flush();
}
