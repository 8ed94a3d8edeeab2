/*
 * Validation of JSON request bodies against a per-resource table of fields.
 * Everything an API handler reads from a body has passed jv_check first, so handlers
 * can use json_string_value() etc. without re-checking types or formats.
 */
#ifndef VENEER_JV_H
#define VENEER_JV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum jv_type {
	JV_STRING,    /* any string of 0..max characters (max 0 = 255) */
	JV_NAME,      /* 1..64 of [A-Za-z0-9._-], starting alphanumeric */
	JV_HOSTNAME,  /* 1..63 of [a-z0-9.-], starting alphanumeric */
	JV_DEVICE,    /* Linux interface name: 1..15 of [A-Za-z0-9._-], not "." or ".." */
	JV_INT,       /* integer in [min, max] */
	JV_BOOL,
	JV_ENUM,      /* one of enums[] */
	JV_ADDR4,     /* IPv4 address */
	JV_ADDR,      /* IPv4 or IPv6 address */
	JV_MAC,       /* assignable MAC: unicast, not zero */
	JV_CIDR4,     /* IPv4 prefix, length in [min, max], no host bits */
	JV_CIDR6,     /* IPv6 prefix, length in [min, max], no host bits */
	JV_CIDR4_SET, /* one JV_CIDR4 string, or a list of 1..max of them */
	JV_CIDR4_LIST, /* list of 0..max JV_CIDR4 */
	JV_ADDR4_LIST, /* list of 0..max IPv4 addresses */
	JV_ID,        /* an object id: 1..64 printable characters */
};

enum jv_flag {
	JV_REQ = 1 << 0,       /* required on create */
	JV_NULLABLE = 1 << 1,  /* null is a value (clears the field) */
	JV_IMMUTABLE = 1 << 2, /* refused on PATCH with 422 immutable */
	JV_CREATE = 1 << 3,    /* create only, unknown on PATCH */
	JV_ADMIN = 1 << 4,     /* only the admin may send it: 403 forbidden */
};

struct jv_field {
	const char *name;
	enum jv_type type;
	unsigned flags;
	int64_t min, max;
	const char *const *enums; /* NULL-terminated, for JV_ENUM */
};

enum jv_mode {
	JV_MODE_CREATE,
	JV_MODE_PATCH,
};

struct jv_err {
	int status;       /* HTTP status */
	const char *code; /* API error code */
	char field[64];
	char message[256];
};

/* jv.c */
/* Parses a request body; NULL with err filled (malformed_json, invalid_body) on failure. */
json_t *jv_parse_body(const char *buf, size_t len, struct jv_err *err);
/*
 * Checks every member of body against spec (terminated by a NULL name): unknown fields,
 * missing required ones, types, formats and ranges. Returns 0, or -1 with err filled.
 * is_admin says whether JV_ADMIN fields may be sent. On create, an optional member that is
 * null is removed from body (null means "not given").
 */
int jv_check(json_t *body, const struct jv_field *spec, enum jv_mode mode, int is_admin,
    struct jv_err *err);
/* Sets err; message is printf-formatted. Returns -1 for tail calls. */
int jv_fail(struct jv_err *err, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Syntax predicates shared with the query-string filters. */
int jv_is_name(const char *s);
int jv_is_hostname(const char *s);
int jv_is_device(const char *s);

#endif
