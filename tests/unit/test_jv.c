/* Unit tests of src/lib/jv.c: request-body parsing and field validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "jv.h"

static const char *const encaps[] = {"vxlan", "embed6", NULL};

static const struct jv_field spec[] = {
	{"name", JV_NAME, JV_REQ, 0, 0, NULL},
	{"cidr", JV_CIDR4_SET, 0, 8, 30, NULL},
	{"asn", JV_INT, 0, 1, 4294967294LL, NULL},
	{"on", JV_BOOL, 0, 0, 0, NULL},
	{"mac", JV_MAC, JV_IMMUTABLE, 0, 0, NULL},
	{"ip", JV_ADDR4, 0, 0, 0, NULL},
	{"addr", JV_ADDR, 0, 0, 0, NULL},
	{"ips", JV_ADDR4_LIST, 0, 0, 3, NULL},
	{"nets", JV_CIDR4_LIST, 0, 0, 2, NULL},
	{"host", JV_HOSTNAME, JV_NULLABLE, 0, 0, NULL},
	{"dev", JV_DEVICE, 0, 0, 0, NULL},
	{"encap", JV_ENUM, 0, 0, 0, encaps},
	{"prefix", JV_CIDR6, 0, 32, 72, NULL},
	{"tenant", JV_ID, JV_ADMIN | JV_CREATE, 0, 0, NULL},
	{"note", JV_STRING, 0, 0, 8, NULL},
	{NULL, 0, 0, 0, 0, NULL},
};

/* Parses and checks text; returns 0 or the jv_check/parse failure with err filled. */
static int
check(const char *text, enum jv_mode mode, int admin, struct jv_err *err)
{
	json_t *j = jv_parse_body(text, strlen(text), err);
	int rc;

	if (j == NULL)
		return -1;
	rc = jv_check(j, spec, mode, admin, err);
	json_decref(j);
	return rc;
}

/* Expects a failure with this status, code and field. */
static void
expect(const char *text, enum jv_mode mode, int status, const char *code, const char *field)
{
	struct jv_err err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(check(text, mode, 0, &err), -1);
	assert_int_equal(err.status, status);
	assert_string_equal(err.code, code);
	assert_string_equal(err.field, field);
	assert_true(strlen(err.message) > 0);
}

static void
test_valid(void **state)
{
	struct jv_err err;

	(void)state;
	assert_int_equal(check("{\"name\":\"web-1.a_b\"}", JV_MODE_CREATE, 0, &err), 0);
	assert_int_equal(check("{\"name\":\"a\",\"cidr\":\"10.0.0.0/16\",\"asn\":65001,"
	    "\"on\":false,\"mac\":\"02:00:00:00:00:01\",\"ip\":\"10.0.0.5\",\"addr\":\"fd00::1\","
	    "\"ips\":[\"10.0.0.6\"],\"nets\":[\"10.0.0.0/32\",\"0.0.0.0/0\"],\"host\":null,"
	    "\"dev\":\"tap0.1\",\"encap\":\"embed6\",\"prefix\":\"fd00:1::/56\",\"note\":\"12345678\"}",
	    JV_MODE_CREATE, 0, &err), 0);
	assert_int_equal(check("{\"name\":\"a\",\"cidr\":[\"10.0.0.0/16\",\"10.1.0.0/16\"]}",
	    JV_MODE_CREATE, 0, &err), 0);
	assert_int_equal(check("{}", JV_MODE_PATCH, 0, &err), 0);
	assert_int_equal(check("{\"name\":\"a\",\"tenant\":\"ten-1\"}", JV_MODE_CREATE, 1, &err),
	    0);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect("{\"name\":", JV_MODE_CREATE, 400, "malformed_json", "");
	expect("[1,2]", JV_MODE_CREATE, 400, "invalid_body", "");
	expect("\"name\"", JV_MODE_CREATE, 400, "invalid_body", "");
	expect("{\"name\":\"a\",\"name\":\"b\"}", JV_MODE_CREATE, 400, "malformed_json", "");
	expect("{\"name\":\"a\\u0000b\"}", JV_MODE_CREATE, 400, "malformed_json", "");
	expect("{\"name\":\"\xff\"}", JV_MODE_CREATE, 400, "malformed_json", "");
}

static void
test_empty_body(void **state)
{
	struct jv_err err;

	(void)state;
	assert_null(jv_parse_body("", 0, &err));
	assert_string_equal(err.code, "invalid_body");
}

static void
test_field_errors(void **state)
{
	(void)state;
	expect("{}", JV_MODE_CREATE, 400, "missing_field", "name");
	expect("{\"name\":null}", JV_MODE_CREATE, 400, "missing_field", "name");
	expect("{\"name\":\"a\",\"bogus\":1}", JV_MODE_CREATE, 400, "unknown_field", "bogus");
	expect("{\"name\":5}", JV_MODE_CREATE, 400, "invalid_type", "name");
	expect("{\"name\":\"-a\"}", JV_MODE_CREATE, 400, "invalid_value", "name");
	expect("{\"name\":\"a b\"}", JV_MODE_CREATE, 400, "invalid_value", "name");
	expect("{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    JV_MODE_CREATE, 400, "too_long", "name");
	expect("{\"name\":\"a\",\"cidr\":\"10.0.0.1/16\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "cidr");
	expect("{\"name\":\"a\",\"cidr\":\"10.0.0.0/31\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "cidr");
	expect("{\"name\":\"a\",\"cidr\":[]}", JV_MODE_CREATE, 400, "invalid_value", "cidr");
	expect("{\"name\":\"a\",\"cidr\":7}", JV_MODE_CREATE, 400, "invalid_type", "cidr");
	expect("{\"name\":\"a\",\"asn\":0}", JV_MODE_CREATE, 400, "invalid_value", "asn");
	expect("{\"name\":\"a\",\"asn\":4294967295}", JV_MODE_CREATE, 400, "invalid_value", "asn");
	expect("{\"name\":\"a\",\"asn\":1.5}", JV_MODE_CREATE, 400, "invalid_type", "asn");
	expect("{\"name\":\"a\",\"asn\":\"1\"}", JV_MODE_CREATE, 400, "invalid_type", "asn");
	expect("{\"name\":\"a\",\"on\":1}", JV_MODE_CREATE, 400, "invalid_type", "on");
	expect("{\"name\":\"a\",\"mac\":\"01:00:5e:00:00:01\"}", JV_MODE_CREATE, 400,
	    "invalid_value", "mac");
	expect("{\"name\":\"a\",\"ip\":\"10.0.0.256\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "ip");
	expect("{\"name\":\"a\",\"addr\":\"fd00:::1\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "addr");
	expect("{\"name\":\"a\",\"ips\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.3\",\"10.0.0.4\"]}",
	    JV_MODE_CREATE, 400, "too_long", "ips");
	expect("{\"name\":\"a\",\"ips\":[\"10.0.0.1\",7]}", JV_MODE_CREATE, 400, "invalid_type",
	    "ips");
	expect("{\"name\":\"a\",\"ips\":\"10.0.0.1\"}", JV_MODE_CREATE, 400, "invalid_type", "ips");
	expect("{\"name\":\"a\",\"nets\":[\"10.0.0.0/33\"]}", JV_MODE_CREATE, 400,
	    "invalid_value", "nets");
	expect("{\"name\":\"a\",\"host\":\"Host\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "host");
	expect("{\"name\":\"a\",\"dev\":\"abcdefghijklmnop\"}", JV_MODE_CREATE, 400, "too_long",
	    "dev");
	expect("{\"name\":\"a\",\"dev\":\"..\"}", JV_MODE_CREATE, 400, "invalid_value", "dev");
	expect("{\"name\":\"a\",\"dev\":\"a/b\"}", JV_MODE_CREATE, 400, "invalid_value", "dev");
	expect("{\"name\":\"a\",\"encap\":\"gre\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "encap");
	expect("{\"name\":\"a\",\"prefix\":\"fd00::/80\"}", JV_MODE_CREATE, 400, "invalid_value",
	    "prefix");
	expect("{\"name\":\"a\",\"note\":\"123456789\"}", JV_MODE_CREATE, 400, "too_long", "note");
	expect("{\"name\":\"a\",\"tenant\":\"ten-1\"}", JV_MODE_CREATE, 403, "forbidden", "tenant");
}

static void
test_patch_rules(void **state)
{
	(void)state;
	expect("{\"mac\":\"02:00:00:00:00:01\"}", JV_MODE_PATCH, 422, "immutable", "mac");
	expect("{\"tenant\":\"ten-1\"}", JV_MODE_PATCH, 400, "unknown_field", "tenant");
	expect("{\"asn\":null}", JV_MODE_PATCH, 400, "invalid_type", "asn");
}

static void
test_hint(void **state)
{
	struct jv_err err;

	(void)state;
	assert_int_equal(check("{\"name\":\"a\",\"cidr\":\"10.1.2.3/16\"}", JV_MODE_CREATE, 0,
	    &err), -1);
	assert_non_null(strstr(err.message, "10.1.0.0/16"));
}

static void
test_predicates(void **state)
{
	(void)state;
	assert_true(jv_is_name("a"));
	assert_false(jv_is_name(""));
	assert_false(jv_is_name("_a"));
	assert_true(jv_is_hostname("h1.example"));
	assert_false(jv_is_hostname("H1"));
	assert_true(jv_is_device("vn0123456789ab"));
	assert_false(jv_is_device("."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_patch_rules),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_predicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
