/* The import policy of veneer-routerd: parsing with defaults, and each step of the verdict. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "rd.h"

static struct bgp_prefix
P(const char *text)
{
	struct pfx4 q;
	struct bgp_prefix p;

	assert_int_equal(pfx4_parse(text, &q, 0, 32), ADDR_OK);
	p.addr = q.addr;
	p.len = q.len;
	return p;
}

/* A network with subnets 10.0.1.0/24 and 10.0.2.0/24. */
static struct cc_subnet subs[2];
static struct fib_subnet fsubs[2];
static struct fib_net net;

static int
setup(void **state)
{
	(void)state;
	memset(&net, 0, sizeof(net));
	pfx4_parse("10.0.1.0/24", &subs[0].cidr, 0, 32);
	pfx4_parse("10.0.2.0/24", &subs[1].cidr, 0, 32);
	fsubs[0].s = &subs[0];
	fsubs[1].s = &subs[1];
	net.subnets = fsubs;
	net.nsubnets = 2;
	return 0;
}

static const char *
verdict(const struct rd_policy *pol, const char *pfx, int *override)
{
	struct bgp_prefix p = P(pfx);

	return rd_policy_check(pol, &net, &p, override);
}

static void
t_defaults(void **state)
{
	struct rd_policy p;
	int ov;

	(void)state;
	assert_int_equal(rd_policy_parse("{}", &p), 0);
	assert_int_equal(p.max_prefix, 100);
	assert_int_equal(p.warn_pct, 75);
	assert_true(p.rate == 50 && p.burst == 200);
	assert_int_equal(p.override, 0);
	/* Everything outside the subnets is allowed, the default route included. */
	assert_null(verdict(&p, "192.168.0.0/16", &ov));
	assert_null(verdict(&p, "0.0.0.0/0", &ov));
	assert_null(verdict(&p, "10.0.0.0/8", &ov)); /* covers subnets: LPM keeps them */
}

static void
t_martians(void **state)
{
	struct rd_policy p;
	int ov;

	(void)state;
	rd_policy_default(&p);
	assert_string_equal(verdict(&p, "127.0.0.0/8", &ov), "martian prefix");
	assert_string_equal(verdict(&p, "127.1.0.0/16", &ov), "martian prefix");
	assert_string_equal(verdict(&p, "224.0.0.0/4", &ov), "martian prefix");
	assert_string_equal(verdict(&p, "169.254.1.0/24", &ov), "martian prefix");
	assert_string_equal(verdict(&p, "0.0.0.0/8", &ov), "martian prefix");
	/* A prefix that covers a martian block is one too (it would capture it). */
	assert_string_equal(verdict(&p, "96.0.0.0/3", &ov), "martian prefix");
}

static void
t_allow_deny_ge_le(void **state)
{
	struct rd_policy p;
	int ov;

	(void)state;
	assert_int_equal(rd_policy_parse("{\"import_policy\": {\"allow\": [{\"prefix\": "
	    "\"192.168.0.0/16\", \"ge\": 24, \"le\": 28}], \"deny\": [{\"prefix\": "
	    "\"192.168.66.0/24\", \"le\": 32}]}}", &p), 0);
	assert_null(verdict(&p, "192.168.5.0/24", &ov));
	assert_null(verdict(&p, "192.168.5.16/28", &ov));
	assert_string_equal(verdict(&p, "192.168.5.16/29", &ov), "not allowed by import policy");
	assert_string_equal(verdict(&p, "192.168.5.0/30", &ov), "not allowed by import policy");
	assert_string_equal(verdict(&p, "192.168.0.0/16", &ov), "not allowed by import policy");
	assert_string_equal(verdict(&p, "192.168.66.0/24", &ov), "denied by import policy");
	assert_string_equal(verdict(&p, "192.168.66.128/25", &ov), "denied by import policy");
	assert_string_equal(verdict(&p, "172.16.0.0/12", &ov), "not allowed by import policy");
}

static void
t_exact_rule(void **state)
{
	struct rd_policy p;
	int ov;

	(void)state;
	/* Neither ge nor le: the prefix itself only, like an FRR prefix-list entry. */
	assert_int_equal(rd_policy_parse("{\"allow\": [{\"prefix\": \"172.16.0.0/12\"}]}", &p), 0);
	assert_null(verdict(&p, "172.16.0.0/12", &ov));
	assert_non_null(verdict(&p, "172.16.1.0/24", &ov));
}

static void
t_subnet_override(void **state)
{
	struct rd_policy p;
	int ov = 7;
	const char *why;

	(void)state;
	rd_policy_default(&p);
	why = verdict(&p, "10.0.2.0/24", &ov);
	assert_non_null(why);
	assert_non_null(strstr(why, "inside subnet 10.0.2.0/24"));
	assert_non_null(verdict(&p, "10.0.2.128/25", &ov));
	assert_int_equal(rd_policy_parse("{\"allow_subnet_override\": true}", &p), 0);
	assert_null(verdict(&p, "10.0.2.0/24", &ov));
	assert_int_equal(ov, 1);
	assert_null(verdict(&p, "10.0.2.128/25", &ov));
	assert_int_equal(ov, 0); /* more specific: wins by longest match, replaces nothing */
	assert_null(verdict(&p, "10.9.0.0/16", &ov));
	assert_int_equal(ov, 0);
}

static void
t_bad_json(void **state)
{
	struct rd_policy p;

	(void)state;
	assert_int_equal(rd_policy_parse("not json", &p), -1);
	assert_int_equal(rd_policy_parse("{\"allow\": [{\"prefix\": \"10.0.0.1/8\"}]}", &p), -1);
	assert_int_equal(rd_policy_parse("{\"allow\": [{\"prefix\": \"10.0.0.0/8\", \"ge\": 4}]}",
	    &p), -1);
	assert_int_equal(rd_policy_parse("{\"allow\": 3}", &p), -1);
	/* A failed parse leaves the defaults, never a half-read policy. */
	assert_int_equal(p.nallow, 1);
}

static void
t_limits(void **state)
{
	struct rd_policy p;

	(void)state;
	assert_int_equal(rd_policy_parse("{\"max_prefix\": 5, \"max_prefix_warning\": 60, "
	    "\"update_rate\": 2.5, \"update_burst\": 10}", &p), 0);
	assert_int_equal(p.max_prefix, 5);
	assert_int_equal(p.warn_pct, 60);
	assert_true(p.rate == 2.5 && p.burst == 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_defaults, setup),
		cmocka_unit_test_setup(t_martians, setup),
		cmocka_unit_test_setup(t_allow_deny_ge_le, setup),
		cmocka_unit_test_setup(t_exact_rule, setup),
		cmocka_unit_test_setup(t_subnet_override, setup),
		cmocka_unit_test_setup(t_bad_json, setup),
		cmocka_unit_test_setup(t_limits, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
