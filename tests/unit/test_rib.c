/* Unit tests of src/lib/rib.c: a router's effective table from the topology. */
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
	{0, {0x0a000100, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-a", NULL, 0},
	{1, {0x0a000200, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-b", NULL, 0},
	{2, {0x0a000300, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-c", NULL, 0},
	{0, {0, 0}, RIB_STATIC, RIB_T_PORT, "port-p", "rte-1", 0},
	{2, {0x0a090000, 16}, RIB_STATIC, RIB_T_BLACKHOLE, NULL, "rte-2", 0},
	{1, {0x0a080000, 16}, RIB_STATIC, RIB_T_ROUTER, "rtr-0", "rte-3", 0},
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
		{3, {0x0a000300, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-c", NULL, 0},
		/* R0 also routes 10.0.3.0/24 statically: distance 1 beats the link routes. */
		{0, {0x0a000000, 16}, RIB_STATIC, RIB_T_BLACKHOLE, NULL, "rte-9", 0},
		{3, {0x0a000000, 16}, RIB_STATIC, RIB_T_PORT, "port-q", "rte-8", 0},
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

/*
 * Learned routes (RIB_BGP, distance 10) on R0 ── R1 ── R2, subnets A on R0 and B on R1:
 * R0 learned 10.5/16 from two ports (ECMP) and 10.6/16 also routed statically; R1 learned
 * 10.7/16 (carried to R0 over the link like a static route to a port) and B itself with
 * override (an appliance between subnets); R0 learned A without override.
 */
static const int links3[][2] = {{0, 1}, {1, 2}};
static const struct rib_own own3[] = {
	{0, {0x0a000100, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-a", NULL, 0},
	{1, {0x0a000200, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-b", NULL, 0},
	{0, {0x0a050000, 16}, RIB_BGP, RIB_T_PORT, "port-1", "lrt-1", 0},
	{0, {0x0a050000, 16}, RIB_BGP, RIB_T_PORT, "port-2", "lrt-2", 0},
	{0, {0x0a060000, 16}, RIB_BGP, RIB_T_PORT, "port-1", "lrt-3", 0},
	{0, {0x0a060000, 16}, RIB_STATIC, RIB_T_BLACKHOLE, NULL, "rte-1", 0},
	{1, {0x0a070000, 16}, RIB_BGP, RIB_T_PORT, "port-3", "lrt-4", 0},
	{1, {0x0a000200, 24}, RIB_BGP, RIB_T_PORT, "port-fw", "lrt-5", 1},
	{0, {0x0a000100, 24}, RIB_BGP, RIB_T_PORT, "port-2", "lrt-6", 0},
	{2, {0x0a070000, 16}, RIB_STATIC, RIB_T_PORT, "port-9", "rte-2", 0},
};

static void
test_bgp_distance_and_ecmp(void **state)
{
	struct rib_net net = {3, ids, 2, links3, 10, own3};
	struct rib_entry *e;
	const struct rib_entry *a, *b, *s;
	int n;

	(void)state;
	n = rib_compute(&net, 0, &e);
	a = find(e, n, 0x0a050000, 16, "port-1");
	b = find(e, n, 0x0a050000, 16, "port-2");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->origin, RIB_BGP);
	assert_int_equal((int)a->origin, 10);
	assert_string_equal(rib_origin_name(a->origin), "bgp");
	assert_int_equal(a->ttype, RIB_T_PORT);
	assert_string_equal(a->route_id, "lrt-1");
	assert_true(a->selected && b->selected); /* ECMP over the two announcing ports */
	/* A static route (distance 1) beats a learned one (10). */
	s = find(e, n, 0x0a060000, 16, NULL);
	assert_int_equal(s->origin, RIB_STATIC);
	assert_true(s->selected);
	a = find(e, n, 0x0a060000, 16, "port-1");
	assert_non_null(a);
	assert_false(a->selected);
	/* A connected route beats a learned one that may not override it. */
	s = find(e, n, 0x0a000100, 24, "sub-a");
	assert_true(s->selected);
	a = find(e, n, 0x0a000100, 24, "port-2");
	assert_non_null(a);
	assert_false(a->selected);
	assert_false(a->override);
	free(e);
}

static void
test_bgp_carried_over_links(void **state)
{
	struct rib_net net = {3, ids, 2, links3, 10, own3};
	struct rib_entry *e;
	const struct rib_entry *x;
	int n, cnt = 0;

	(void)state;
	n = rib_compute(&net, 0, &e);
	/* R1's learned 10.7/16 reaches R0 as a link route (20) via R1, one hop: it beats R2's
	 * static 10.7/16 to a port, two hops away. */
	x = find(e, n, 0x0a070000, 16, "rtr-1");
	assert_non_null(x);
	for (int i = 0; i < n; i++)
		cnt += e[i].dst.addr == 0x0a070000 && e[i].dst.len == 16;
	assert_int_equal(cnt, 2);
	for (int i = 0; i < n; i++)
		if (e[i].dst.addr == 0x0a070000 && e[i].dst.len == 16) {
			assert_int_equal(e[i].origin, RIB_LINK);
			assert_int_equal(e[i].ttype, RIB_T_ROUTER);
			assert_string_equal(e[i].target, "rtr-1");
			assert_null(e[i].route_id);
			assert_true(e[i].selected == (e[i].metric == 1));
		}
	/* R1's override route for B and B itself arrive as one link route: the same next hop. */
	cnt = 0;
	for (int i = 0; i < n; i++)
		if (e[i].dst.addr == 0x0a000200 && e[i].dst.len == 24) {
			cnt++;
			assert_int_equal(e[i].origin, RIB_LINK);
			assert_false(e[i].override);
			assert_true(e[i].selected);
		}
	assert_int_equal(cnt, 1);
	free(e);
}

static void
test_bgp_override_connected(void **state)
{
	struct rib_net net = {3, ids, 2, links3, 10, own3};
	struct rib_entry *e;
	const struct rib_entry *c, *b;
	int n;

	(void)state;
	n = rib_compute(&net, 1, &e);
	c = find(e, n, 0x0a000200, 24, "sub-b");
	b = find(e, n, 0x0a000200, 24, "port-fw");
	assert_non_null(c);
	assert_non_null(b);
	assert_int_equal(c->origin, RIB_CONNECTED);
	assert_int_equal(b->origin, RIB_BGP);
	assert_true(b->override);
	assert_true(b->selected);  /* the appliance takes the subnet's traffic */
	assert_false(c->selected);
	free(e);
}

static void
test_bgp_override_ecmp(void **state)
{
	/* Two override routes and one plain learned route for a connected subnet: the two
	 * override routes are the selected set; without any override the subnet wins. */
	static const struct rib_own own4[] = {
		{0, {0x0a000100, 24}, RIB_CONNECTED, RIB_T_SUBNET, "sub-a", NULL, 0},
		{0, {0x0a000100, 24}, RIB_BGP, RIB_T_PORT, "port-1", "lrt-1", 1},
		{0, {0x0a000100, 24}, RIB_BGP, RIB_T_PORT, "port-2", "lrt-2", 1},
		{0, {0x0a000100, 24}, RIB_BGP, RIB_T_PORT, "port-3", "lrt-3", 0},
	};
	struct rib_net net = {1, ids, 0, NULL, 4, own4};
	struct rib_entry *e;
	int n;

	(void)state;
	n = rib_compute(&net, 0, &e);
	assert_int_equal(n, 4);
	assert_false(find(e, n, 0x0a000100, 24, "sub-a")->selected);
	assert_true(find(e, n, 0x0a000100, 24, "port-1")->selected);
	assert_true(find(e, n, 0x0a000100, 24, "port-2")->selected);
	assert_false(find(e, n, 0x0a000100, 24, "port-3")->selected);
	free(e);
	net.nown = 1;
	n = rib_compute(&net, 0, &e);
	assert_int_equal(n, 1);
	assert_true(e[0].selected);
	free(e);
	/* Without a connected route the override flag changes nothing: all three are ECMP. */
	net.own = own4 + 1;
	net.nown = 3;
	n = rib_compute(&net, 0, &e);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++)
		assert_true(e[i].selected);
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
		cmocka_unit_test(test_bgp_distance_and_ecmp),
		cmocka_unit_test(test_bgp_carried_over_links),
		cmocka_unit_test(test_bgp_override_connected),
		cmocka_unit_test(test_bgp_override_ecmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
