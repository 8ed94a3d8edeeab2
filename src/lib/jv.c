#include "jv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
jv_fail(struct jv_err *err, int status, const char *code, const char *field, const char *fmt,
    ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

json_t *
jv_parse_body(const char *buf, size_t len, struct jv_err *err)
{
	json_error_t jerr;
	json_t *j;

	if (len == 0) {
		jv_fail(err, 400, "invalid_body", NULL, "a JSON object body is required");
		return NULL;
	}
	/* Jansson refuses invalid UTF-8 and \u0000 unless asked otherwise: both are wanted. */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		jv_fail(err, 400, "malformed_json", NULL, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		jv_fail(err, 400, "invalid_body", NULL, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

static int
jv_charset(const char *s, size_t maxlen, const char *extra, int lower_only)
{
	size_t n = strlen(s);

	if (n == 0 || n > maxlen)
		return 0;
	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'z') ||
		(!lower_only && s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (; *s; s++) {
		char c = *s;

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (!lower_only && c >= 'A' && c <= 'Z') || (c && strchr(extra, c)))
			continue;
		return 0;
	}
	return 1;
}

int
jv_is_name(const char *s)
{
	return jv_charset(s, 64, "._-", 0);
}

int
jv_is_hostname(const char *s)
{
	return jv_charset(s, 63, ".-", 1);
}

int
jv_is_device(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static const char *
jv_type_name(enum jv_type t)
{
	switch (t) {
	case JV_INT:
		return "an integer";
	case JV_BOOL:
		return "a boolean";
	case JV_CIDR4_SET:
		return "a CIDR string or a list of CIDR strings";
	case JV_CIDR4_LIST:
		return "a list of CIDR strings";
	case JV_ADDR4_LIST:
		return "a list of address strings";
	default:
		return "a string";
	}
}

static int
jv_pfx_err(struct jv_err *err, const char *field, const char *what, enum addr_err e,
    const char *s, const struct jv_field *f)
{
	switch (e) {
	case ADDR_ELEN:
		return jv_fail(err, 400, "invalid_value", field,
		    "%s: prefix length of %s must be between %lld and %lld", what, s,
		    (long long)f->min, (long long)f->max);
	case ADDR_EHOSTBITS:
		if (f->type != JV_CIDR6) {
			struct pfx4 p;
			char want[PFX4_STRLEN];

			/* Offer the network the caller probably meant. */
			pfx4_parse_loose(s, &p);
			pfx4_fmt(&p, want);
			return jv_fail(err, 400, "invalid_value", field, "%s: %s has host bits set "
			    "(did you mean %s?)", what, s, want);
		}
		return jv_fail(err, 400, "invalid_value", field,
		    "%s: %s has host bits set beyond its prefix length", what, s);
	default:
		return jv_fail(err, 400, "invalid_value", field, "%s: %.64s is not a valid %s prefix",
		    what, s, f->type == JV_CIDR6 ? "IPv6" : "IPv4");
	}
}

/* Checks one string-typed scalar; what is the name to print (field or field[i]). */
static int
jv_check_str(const struct jv_field *f, enum jv_type t, const char *what, const json_t *v,
    struct jv_err *err)
{
	const char *s;
	uint32_t a4;
	uint8_t a6[16], mac[6];
	struct pfx4 p4;
	struct pfx6 p6;
	enum addr_err e;

	if (!json_is_string(v))
		return jv_fail(err, 400, "invalid_type", f->name, "%s must be a string", what);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return jv_fail(err, 400, "invalid_value", f->name, "%s contains a NUL byte", what);
	switch (t) {
	case JV_STRING:
		if (json_string_length(v) > (size_t)(f->max ? f->max : 255))
			return jv_fail(err, 400, "too_long", f->name, "%s is longer than %lld", what,
			    (long long)(f->max ? f->max : 255));
		return 0;
	case JV_ID:
		if (json_string_length(v) > 64)
			return jv_fail(err, 400, "too_long", f->name, "%s is longer than 64", what);
		if (json_string_length(v) == 0)
			return jv_fail(err, 400, "invalid_value", f->name, "%s is empty", what);
		return 0;
	case JV_NAME:
		if (json_string_length(v) > 64)
			return jv_fail(err, 400, "too_long", f->name, "%s is longer than 64", what);
		if (!jv_is_name(s))
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit",
			    what);
		return 0;
	case JV_HOSTNAME:
		if (json_string_length(v) > 63)
			return jv_fail(err, 400, "too_long", f->name, "%s is longer than 63", what);
		if (!jv_is_hostname(s))
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s must be 1-63 of a-z 0-9 . - starting with a letter or digit", what);
		return 0;
	case JV_DEVICE:
		if (json_string_length(v) > 15)
			return jv_fail(err, 400, "too_long", f->name,
			    "%s is longer than 15 (Linux interface names)", what);
		if (!jv_is_device(s))
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s must be 1-15 of A-Z a-z 0-9 . _ -", what);
		return 0;
	case JV_ENUM:
		for (const char *const *en = f->enums; *en; en++)
			if (strcmp(*en, s) == 0)
				return 0;
		return jv_fail(err, 400, "invalid_value", f->name, "%s: %.64s is not one of the "
		    "allowed values", what, s);
	case JV_ADDR4:
		if (addr4_parse(s, &a4) < 0)
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s: %.64s is not an IPv4 address", what, s);
		return 0;
	case JV_ADDR:
		if (addr4_parse(s, &a4) < 0 && addr6_parse(s, a6) < 0)
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s: %.64s is not an IPv4 or IPv6 address", what, s);
		return 0;
	case JV_MAC:
		if (mac_parse(s, mac) < 0)
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s: %.64s is not a MAC address (aa:bb:cc:dd:ee:ff)", what, s);
		if (!mac_is_assignable(mac))
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s: %s is a multicast or all-zero MAC", what, s);
		return 0;
	case JV_CIDR4:
		e = pfx4_parse(s, &p4, (int)f->min, (int)f->max);
		return e == ADDR_OK ? 0 : jv_pfx_err(err, f->name, what, e, s, f);
	case JV_CIDR6:
		e = pfx6_parse(s, &p6, (int)f->min, (int)f->max);
		return e == ADDR_OK ? 0 : jv_pfx_err(err, f->name, what, e, s, f);
	default:
		return jv_fail(err, 500, "internal", f->name, "bad field table");
	}
}

static int
jv_check_list(const struct jv_field *f, const json_t *v, enum jv_type elem, size_t minn,
    size_t maxn, struct jv_err *err)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return jv_fail(err, 400, "invalid_type", f->name, "%s must be %s", f->name,
		    jv_type_name(f->type));
	if (json_array_size(v) > maxn)
		return jv_fail(err, 400, "too_long", f->name, "%s has more than %zu items", f->name,
		    maxn);
	if (json_array_size(v) < minn)
		return jv_fail(err, 400, "invalid_value", f->name, "%s must not be empty", f->name);
	json_array_foreach(v, i, x) {
		char what[80];

		snprintf(what, sizeof(what), "%s[%zu]", f->name, i);
		if (jv_check_str(f, elem, what, x, err) < 0)
			return -1;
	}
	return 0;
}

static int
jv_check_value(const struct jv_field *f, const json_t *v, struct jv_err *err)
{
	json_int_t n;

	switch (f->type) {
	case JV_INT:
		if (!json_is_integer(v))
			return jv_fail(err, 400, "invalid_type", f->name, "%s must be an integer",
			    f->name);
		n = json_integer_value(v);
		if (n < f->min || n > f->max)
			return jv_fail(err, 400, "invalid_value", f->name,
			    "%s must be between %lld and %lld", f->name, (long long)f->min,
			    (long long)f->max);
		return 0;
	case JV_BOOL:
		if (!json_is_boolean(v))
			return jv_fail(err, 400, "invalid_type", f->name, "%s must be a boolean",
			    f->name);
		return 0;
	case JV_CIDR4_SET:
		if (json_is_string(v))
			return jv_check_str(f, JV_CIDR4, f->name, v, err);
		return jv_check_list(f, v, JV_CIDR4, 1, 16, err);
	case JV_CIDR4_LIST: {
		/* The element prefix-length range is 0..32 for these lists. */
		struct jv_field ef = *f;

		ef.min = 0;
		ef.max = 32;
		return jv_check_list(&ef, v, JV_CIDR4, 0, (size_t)f->max, err);
	}
	case JV_ADDR4_LIST:
		return jv_check_list(f, v, JV_ADDR4, 0, (size_t)f->max, err);
	default:
		return jv_check_str(f, f->type, f->name, v, err);
	}
}

static const struct jv_field *
jv_find(const struct jv_field *spec, const char *name)
{
	for (; spec->name; spec++)
		if (strcmp(spec->name, name) == 0)
			return spec;
	return NULL;
}

int
jv_check(json_t *body, const struct jv_field *spec, enum jv_mode mode, int is_admin,
    struct jv_err *err)
{
	const char *key;
	json_t *v;
	void *tmp;

	if (!json_is_object(body))
		return jv_fail(err, 400, "invalid_body", NULL, "the body must be a JSON object");
	json_object_foreach_safe(body, tmp, key, v) {
		const struct jv_field *f = jv_find(spec, key);

		if (f == NULL || (mode == JV_MODE_PATCH && (f->flags & JV_CREATE)))
			return jv_fail(err, 400, "unknown_field", key, "unknown field %.64s", key);
		if (mode == JV_MODE_PATCH && (f->flags & JV_IMMUTABLE))
			return jv_fail(err, 422, "immutable", key, "%s cannot be changed", key);
		if ((f->flags & JV_ADMIN) && !is_admin)
			return jv_fail(err, 403, "forbidden", key, "only the admin may set %s", key);
		if (json_is_null(v)) {
			if (mode == JV_MODE_CREATE && !(f->flags & JV_REQ)) {
				/* On create, null is "not given": drop it so handlers see the default. */
				json_object_del(body, key);
				continue;
			}
			if ((f->flags & JV_NULLABLE) && mode == JV_MODE_PATCH)
				continue;
			if (f->flags & JV_REQ && mode == JV_MODE_CREATE)
				return jv_fail(err, 400, "missing_field", key, "%s is required", key);
			return jv_fail(err, 400, "invalid_type", key, "%s must be %s", key,
			    jv_type_name(f->type));
		}
		if (jv_check_value(f, v, err) < 0)
			return -1;
	}
	if (mode == JV_MODE_CREATE)
		for (; spec->name; spec++)
			if ((spec->flags & JV_REQ) && json_object_get(body, spec->name) == NULL)
				return jv_fail(err, 400, "missing_field", spec->name, "%s is required",
				    spec->name);
	return 0;
}
