/* Unit tests of src/veneerd/ipam.c: which addresses a port may hold, and allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipam.h"

static const struct pfx4 s24 = {0x0a000100, 24}; /* 10.0.1.0/24 */

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(ipam_classify(&s24, 0x0a000100), IPAM_NETWORK);
	assert_int_equal(ipam_classify(&s24, 0x0a000101), IPAM_GATEWAY);
	assert_int_equal(ipam_classify(&s24, 0x0a0001ff), IPAM_BROADCAST);
	assert_int_equal(ipam_classify(&s24, 0x0a000102), IPAM_USABLE);
	assert_int_equal(ipam_classify(&s24, 0x0a0001fe), IPAM_USABLE);
	assert_int_equal(ipam_classify(&s24, 0x0a000200), IPAM_OUTSIDE);
}

static void
test_first_free_empty(void **state)
{
	uint32_t a;

	(void)state;
	assert_int_equal(ipam_first_free(&s24, NULL, 0, &a), 0);
	assert_int_equal(a, 0x0a000102);
}

static void
test_first_free_gap(void **state)
{
	/* Unsorted-looking but ascending, with an address of another subnet first. */
	const uint32_t used[] = {0x0a000005, 0x0a000102, 0x0a000103, 0x0a000105};
	uint32_t a;

	(void)state;
	assert_int_equal(ipam_first_free(&s24, used, 4, &a), 0);
	assert_int_equal(a, 0x0a000104);
}

static void
test_first_free_full(void **state)
{
	const struct pfx4 s30 = {0x0a000000, 30}; /* one usable address: .2 */
	const uint32_t used[] = {0x0a000002};
	uint32_t a = 0;

	(void)state;
	assert_int_equal(ipam_first_free(&s30, NULL, 0, &a), 0);
	assert_int_equal(a, 0x0a000002);
	assert_int_equal(ipam_first_free(&s30, used, 1, &a), -1);
}

static void
test_first_free_never_broadcast(void **state)
{
	uint32_t used[252], a;

	(void)state;
	for (uint32_t i = 0; i < 252; i++)
		used[i] = 0x0a000102 + i; /* .2 to .253 */
	assert_int_equal(ipam_first_free(&s24, used, 252, &a), 0);
	assert_int_equal(a, 0x0a0001fe); /* .254 */
	used[251] = 0x0a0001fe;
	for (uint32_t i = 0; i < 252; i++)
		used[i] = 0x0a000103 + i; /* .3 to .254 */
	assert_int_equal(ipam_first_free(&s24, used, 252, &a), 0);
	assert_int_equal(a, 0x0a000102);
	for (uint32_t i = 0; i < 252; i++)
		used[i] = 0x0a000102 + i;
	{
		uint32_t full[253];

		for (uint32_t i = 0; i < 253; i++)
			full[i] = 0x0a000102 + i; /* .2 to .254: full */
		assert_int_equal(ipam_first_free(&s24, full, 253, &a), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_first_free_empty),
		cmocka_unit_test(test_first_free_gap),
		cmocka_unit_test(test_first_free_full),
		cmocka_unit_test(test_first_free_never_broadcast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
