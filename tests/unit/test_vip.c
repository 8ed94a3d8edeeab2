/* Unit tests of src/agent/vip.c: claimable addresses, flooded destinations, token buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vip.h"

static const struct pfx4 s24 = {0x0a000100, 24}; /* 10.0.1.0/24 */

static void
test_claimable(void **state)
{
	const struct pfx4 cl[] = {{0x0a000164, 32}, {0x0a000200, 24}}; /* .1.100/32, 10.0.2.0/24 */
	const struct pfx4 all[] = {{0x0a000000, 16}};

	(void)state;
	assert_true(vip_claimable(&s24, cl, 2, 0x0a000164));
	assert_false(vip_claimable(&s24, cl, 2, 0x0a000165));  /* not claimable */
	assert_false(vip_claimable(&s24, cl, 2, 0x0a000205));  /* claimable, other subnet */
	assert_false(vip_claimable(&s24, cl, 0, 0x0a000164));  /* no claimable CIDRs */
	/* A claimable range over the whole network: the subnet's reserved ones never. */
	assert_true(vip_claimable(&s24, all, 1, 0x0a000102));
	assert_false(vip_claimable(&s24, all, 1, 0x0a000100)); /* network */
	assert_false(vip_claimable(&s24, all, 1, 0x0a000101)); /* gateway */
	assert_false(vip_claimable(&s24, all, 1, 0x0a0001ff)); /* broadcast */
	assert_false(vip_claimable(&s24, all, 1, 0x0a000001)); /* outside the subnet */
}

static void
test_flood_kind(void **state)
{
	const struct pfx4 s31 = {0x0a000200, 31}, s30 = {0x0a000300, 30};

	(void)state;
	assert_int_equal(vip_flood_kind(&s24, 0xe0000012), VIP_FLOOD_LLMC);  /* 224.0.0.18 */
	assert_int_equal(vip_flood_kind(&s24, 0xe00000fb), VIP_FLOOD_LLMC);  /* 224.0.0.251 */
	assert_int_equal(vip_flood_kind(&s24, 0xe0000000), VIP_FLOOD_LLMC);
	assert_int_equal(vip_flood_kind(&s24, 0xe0000100), VIP_FLOOD_NONE);  /* 224.0.1.0 */
	assert_int_equal(vip_flood_kind(&s24, 0xef000001), VIP_FLOOD_NONE);  /* 239.0.0.1 */
	assert_int_equal(vip_flood_kind(&s24, 0xffffffff), VIP_FLOOD_BCAST);
	assert_int_equal(vip_flood_kind(&s24, 0x0a0001ff), VIP_FLOOD_SUBNET);
	assert_int_equal(vip_flood_kind(&s24, 0x0a0002ff), VIP_FLOOD_NONE);  /* another's */
	assert_int_equal(vip_flood_kind(&s24, 0x0a000164), VIP_FLOOD_NONE);
	assert_int_equal(vip_flood_kind(&s30, 0x0a000303), VIP_FLOOD_SUBNET);
	assert_int_equal(vip_flood_kind(&s31, 0x0a000201), VIP_FLOOD_NONE);  /* RFC 3021 */
	assert_int_equal(vip_flood_kind(NULL, 0xffffffff), VIP_FLOOD_BCAST);
}

static void
test_group_mac(void **state)
{
	uint8_t m[6];
	const uint8_t vrrp[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x12};
	const uint8_t high[6] = {0x01, 0x00, 0x5e, 0x7f, 0x01, 0x02}; /* 239.255.1.2: 23 bits */
	const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	(void)state;
	vip_group_mac(0xe0000012, m);
	assert_memory_equal(m, vrrp, 6);
	vip_group_mac(0xefff0102, m);
	assert_memory_equal(m, high, 6);
	vip_group_mac(0xffffffff, m);
	assert_memory_equal(m, bc, 6);
	vip_group_mac(0x0a0001ff, m);
	assert_memory_equal(m, bc, 6);
}

static void
test_bucket(void **state)
{
	struct vip_bucket b = {0};
	int n = 0;

	(void)state;
	/* Full at first: the burst, then nothing at the same instant. */
	for (int i = 0; i < 20; i++)
		n += vip_take(&b, 1000, 5.0, 10.0);
	assert_int_equal(n, 10);
	assert_false(vip_take(&b, 1000, 5.0, 10.0));
	/* 5 per second: one token after 200 ms, not before. */
	assert_false(vip_take(&b, 1150, 5.0, 10.0));
	assert_true(vip_take(&b, 1200, 5.0, 10.0));
	assert_false(vip_take(&b, 1200, 5.0, 10.0));
	/* Idle for long: refilled up to the burst only. */
	n = 0;
	for (int i = 0; i < 50; i++)
		n += vip_take(&b, 100000, 5.0, 10.0);
	assert_int_equal(n, 10);
	/* A clock going back adds nothing. */
	assert_false(vip_take(&b, 50000, 5.0, 10.0));
}

static void
test_bucket_rate(void **state)
{
	struct vip_bucket b = {0};
	int n = 0;

	(void)state;
	/* 10 s of 1000 attempts per second at 200/s, burst 400: 400 + 200 * 10. */
	for (uint64_t t = 0; t < 10000; t++)
		n += vip_take(&b, 5000 + t, 200.0, 400.0);
	assert_in_range(n, 400 + 1990, 400 + 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claimable),
		cmocka_unit_test(test_flood_kind),
		cmocka_unit_test(test_group_mac),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_bucket_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
