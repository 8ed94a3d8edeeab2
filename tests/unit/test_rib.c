/* Unit tests of src/veneerd/rib.c: a router's effective table from the topology. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rib.h"

/*
 *   subnet A ── R0 ── R1 ── R2 ── subnet C        R0 also has a static 0/0 to port P
 *                       \                        R2 has a static 10.9/16 to blackhole
 *                        R3 ── R2                R1 has a static 10.8/16 via R0 (router target)
 *   subnet B on R1; R3 links R1 and R2 (two shortest paths from R0 to nothing; from R1 to R2:
 *   direct). A second network checks ECMP: R0 ─ R1 ─ R3, R0 ─ R2 ─ R3, subnet on R3.
 */
static const char *const ids[] = {"rtr-0", "rtr-1", "rtr-2", "rtr-3"};
static const int links1[][2] = {{0, 1}, {1, 2}, {1, 3}, {3, 2}};
static const struct rib_own own1[] = {
	{0, {0x0a000100, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-a", NULL},
	{1, {0x0a000200, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-b", NULL},
	{2, {0x0a000300, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-c", NULL},
	{0, {0, 0}, RIB_STATIC, RIB_T_PORT, "port-p", "rte-1"},
	{2, {0x0a090000, 16}, RIB_STATIC, RIB_T_BLACKHOLE, NULL, "rte-2"},
	{1, {0x0a080000, 16}, RIB_STATIC, RIB_T_ROUTER, "rtr-0", "rte-3"},
};

static const struct rib_entry *
find(const struct rib_entry *e, int n, uint32_t addr, uint8_t len, const char *target)
{
	for (int i = 0; i < n; i++)
		if (e[i].dst.addr == addr && e[i].dst.len == len &&
		    (target == NULL || (e[i].target && strcmp(e[i].target, target) == 0)))
			return &e[i];
	return NULL;
}

static void
test_chain(void **state)
{
	struct rib_net net = {4, ids, 4, links1, 6, own1};
	struct rib_entry *e;
	const struct rib_entry *x;
	int n;

	(void)state;
	n = rib_compute(&net, 0, &e);
	/* A (connected), 0/0 (static), B, C, 10.9/16 (link); R1's router-target static is not carried. */
	assert_int_equal(n, 5);
	x = find(e, n, 0x0a000100, 24, "sub-a");
	assert_non_null(x);
	assert_int_equal(x->origin, RIB_CONNECTED);
	assert_true(x->selected);
	x = find(e, n, 0x0a000300, 24, "rtr-1");
	assert_non_null(x);
	assert_int_equal(x->origin, RIB_LINK);
	assert_int_equal(x->metric, 2);
	x = find(e, n, 0x0a090000, 16, "rtr-1");
	assert_non_null(x);
	assert_int_equal(x->metric, 2);
	assert_null(find(e, n, 0x0a080000, 16, NULL));
	/* Longest prefix first. */
	for (int i = 1; i < n; i++)
		assert_true(e[i - 1].dst.len >= e[i].dst.len);
	assert_int_equal(e[n - 1].dst.len, 0);
	free(e);
}

static void
test_from_middle(void **state)
{
	struct rib_net net = {4, ids, 4, links1, 6, own1};
	struct rib_entry *e;
	const struct rib_entry *x;
	int n;

	(void)state;
	n = rib_compute(&net, 1, &e);
	x = find(e, n, 0x0a080000, 16, "rtr-0");
	assert_non_null(x); /* its own static via a router is kept */
	assert_int_equal(x->origin, RIB_STATIC);
	x = find(e, n, 0x0a000300, 24, "rtr-2");
	assert_non_null(x);
	assert_int_equal(x->metric, 1);
	assert_null(find(e, n, 0x0a000300, 24, "rtr-3")); /* via R3 is two hops: not shortest */
	x = find(e, n, 0, 0, "rtr-0");
	assert_non_null(x);
	assert_true(x->selected);
	free(e);
}

static void
test_ecmp_and_selection(void **state)
{
	static const int links2[][2] = {{0, 1}, {1, 3}, {0, 2}, {2, 3}};
	static const struct rib_own own2[] = {
		{3, {0x0a000300, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-c", NULL},
		/* R0 also routes 10.0.3.0/24 statically: distance 1 beats the link routes. */
		{0, {0x0a000000, 16}, RIB_STATIC, RIB_T_BLACKHOLE, NULL, "rte-9"},
		{3, {0x0a000000, 16}, RIB_STATIC, RIB_T_PORT, "port-q", "rte-8"},
	};
	struct rib_net net = {4, ids, 4, links2, 3, own2};
	struct rib_entry *e;
	const struct rib_entry *a, *b, *s;
	int n;

	(void)state;
	n = rib_compute(&net, 0, &e);
	a = find(e, n, 0x0a000300, 24, "rtr-1");
	b = find(e, n, 0x0a000300, 24, "rtr-2");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a->selected && b->selected); /* ECMP over both first hops */
	s = find(e, n, 0x0a000000, 16, NULL);
	assert_non_null(s);
	assert_int_equal(s->origin, RIB_STATIC); /* sorted first within its destination */
	assert_true(s->selected);
	a = find(e, n, 0x0a000000, 16, "rtr-1");
	assert_non_null(a);
	assert_false(a->selected);
	free(e);
}

static void
test_isolated_router(void **state)
{
	struct rib_net net = {4, ids, 0, NULL, 6, own1};
	struct rib_entry *e;
	int n;

	(void)state;
	n = rib_compute(&net, 3, &e);
	assert_int_equal(n, 0);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_from_middle),
		cmocka_unit_test(test_ecmp_and_selection),
		cmocka_unit_test(test_isolated_router),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
