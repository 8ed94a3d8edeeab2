/* Unit tests of src/lib/embed6_addr.c: the embed6 address layout and the reason names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "embed6.h"

/* One case per prefix length the brief names, plus a P that is not a multiple of 8. */
struct layout_case {
	uint8_t plen;
	uint8_t prefix[16];
	uint64_t slot, slot_max;
	uint8_t want[16];	/* prefix | slot | vnid 0x123456 | 10.1.2.3 */
};

static const struct layout_case cases[] = {
	{32, {0x20, 0x01, 0x0d, 0xb8}, 0x12345678ab, 0xffffffffff,
	    {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0xab, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
	{48, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x07}, 0xabcdef, 0xffffff,
	    {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x07, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
	{56, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01}, 0xabcd, 0xffff,
	    {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0xab, 0xcd, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
	{60, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x50}, 0xabc, 0xfff,
	    {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x5a, 0xbc, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
	{64, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x02}, 0xab, 0xff,
	    {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x02, 0xab, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
	{72, {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x02, 0x03}, 0, 0,
	    {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x01, 0x02, 0x03, 0x12, 0x34, 0x56, 10, 1, 2, 3}},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define V4 0x0a010203u

static struct e6_layout
layout_of(const struct layout_case *c)
{
	struct e6_layout l;

	memcpy(l.prefix, c->prefix, 16);
	l.plen = c->plen;
	return l;
}

static void
test_compose_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct e6_layout l = layout_of(&cases[i]);
		uint8_t a[16];

		assert_int_equal(e6_layout_check(&l), E6_OK);
		assert_int_equal(e6_addr_compose(&l, cases[i].slot, 0x123456, V4, a), E6_OK);
		assert_memory_equal(a, cases[i].want, 16);
	}
}

static void
test_split_round_trip(void **state)
{
	static const uint32_t vnids[] = {0, 1, 0x123456, E6_VNID_MAX};
	static const uint32_t v4s[] = {0, 0x0a000001, 0xffffffff};

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct e6_layout l = layout_of(&cases[i]);
		const uint64_t slots[] = {0, 1, cases[i].slot, cases[i].slot_max};

		for (size_t s = 0; s < 4; s++)
			for (size_t v = 0; v < 4 && slots[s] <= cases[i].slot_max; v++)
				for (size_t k = 0; k < 3; k++) {
					struct e6_parts p;
					uint8_t a[16];

					assert_int_equal(e6_addr_compose(&l, slots[s], vnids[v],
					    v4s[k], a), E6_OK);
					assert_int_equal(e6_addr_split(&l, a, &p), E6_OK);
					assert_memory_equal(p.prefix, l.prefix, 16);
					assert_true(p.slot == slots[s]);
					assert_int_equal(p.vnid, vnids[v]);
					assert_int_equal(p.ipv4, v4s[k]);
				}
	}
}

static void
test_compose_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct e6_layout l = layout_of(&cases[i]);
		uint8_t a[16], untouched[16];

		memset(a, 0x5a, 16);
		memcpy(untouched, a, 16);
		/* One bit past the slot width, and the widest slot value. */
		assert_int_equal(e6_addr_compose(&l, cases[i].slot_max + 1, 1, V4, a), E6_ESLOT);
		assert_int_equal(e6_addr_compose(&l, UINT64_MAX, 1, V4, a), E6_ESLOT);
		assert_int_equal(e6_addr_compose(&l, 0, E6_VNID_MAX + 1, V4, a), E6_EVNID);
		assert_memory_equal(a, untouched, 16);
	}
}

static void
test_layout_refusals(void **state)
{
	struct e6_layout l = layout_of(&cases[2]);	/* /56 */
	struct e6_parts p;
	uint8_t a[16] = {0};

	(void)state;
	l.plen = 31;
	assert_int_equal(e6_layout_check(&l), E6_EPLEN);
	assert_int_equal(e6_addr_compose(&l, 0, 0, V4, a), E6_EPLEN);
	assert_int_equal(e6_addr_split(&l, a, &p), E6_EPLEN);
	l.plen = 73;
	assert_int_equal(e6_layout_check(&l), E6_EPLEN);
	assert_int_equal(e6_addr_split_any(73, a, &p), E6_EPLEN);
	assert_int_equal(e6_addr_split_any(0, a, &p), E6_EPLEN);
	/* A host bit just past P, and one at the very end. */
	l = layout_of(&cases[2]);
	l.prefix[7] = 0x80;
	assert_int_equal(e6_layout_check(&l), E6_EPREFIXBITS);
	assert_int_equal(e6_addr_compose(&l, 0, 0, V4, a), E6_EPREFIXBITS);
	l = layout_of(&cases[2]);
	l.prefix[15] = 1;
	assert_int_equal(e6_layout_check(&l), E6_EPREFIXBITS);
	/* P = 60: bit 60 set is outside the prefix, bit 59 inside. */
	l = layout_of(&cases[3]);
	l.prefix[7] = 0x58;
	assert_int_equal(e6_layout_check(&l), E6_EPREFIXBITS);
	l.prefix[7] = 0x70;
	assert_int_equal(e6_layout_check(&l), E6_OK);
}

static void
test_split_outside_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct e6_layout l = layout_of(&cases[i]);
		struct e6_parts p, any;
		uint8_t a[16];

		assert_int_equal(e6_addr_compose(&l, cases[i].slot, 0x123456, V4, a), E6_OK);
		/* Flip the last bit of the prefix: now another host's address. */
		a[(l.plen - 1) / 8] ^= (uint8_t)(0x80 >> ((l.plen - 1) % 8));
		memset(&p, 0x77, sizeof(p));
		assert_int_equal(e6_addr_split(&l, a, &p), E6_EPREFIX);
		assert_int_equal(p.vnid, 0x77777777);	/* untouched */
		/* Split without a prefix: the fields, and the other host's prefix. */
		assert_int_equal(e6_addr_split_any(l.plen, a, &any), E6_OK);
		assert_memory_not_equal(any.prefix, l.prefix, 16);
		assert_true(any.slot == cases[i].slot);
		assert_int_equal(any.vnid, 0x123456);
		assert_int_equal(any.ipv4, V4);
	}
}

/* Bits below P in the address never leak into the prefix that split reports. */
static void
test_split_any_masks(void **state)
{
	uint8_t a[16];
	struct e6_parts p;

	(void)state;
	memset(a, 0xff, 16);
	assert_int_equal(e6_addr_split_any(60, a, &p), E6_OK);
	for (int i = 0; i < 7; i++)
		assert_int_equal(p.prefix[i], 0xff);
	assert_int_equal(p.prefix[7], 0xf0);
	for (int i = 8; i < 16; i++)
		assert_int_equal(p.prefix[i], 0);
	assert_true(p.slot == 0xfff);
	assert_int_equal(p.vnid, E6_VNID_MAX);
	assert_int_equal(p.ipv4, 0xffffffff);
}

static void
test_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < E6_RESULT_MAX; i++) {
		assert_string_not_equal(e6_reason_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(e6_reason_name(i), e6_reason_name(j));
	}
	assert_string_equal(e6_reason_name(E6_RESULT_MAX), "unknown");
	assert_string_equal(e6_reason_name((enum e6_result)-1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_bytes),
		cmocka_unit_test(test_split_round_trip),
		cmocka_unit_test(test_compose_refusals),
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test(test_split_outside_prefix),
		cmocka_unit_test(test_split_any_masks),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
