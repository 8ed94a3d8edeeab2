/* Unit tests of src/lib/vxlan.c: the RFC 7348 header codec, as byte vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vxlan.h"

/* An inner Ethernet header: dst, src, EtherType IPv4. */
static const uint8_t eth[14] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
};

static size_t
frame(uint8_t *buf, const uint8_t hdr[8], size_t innerlen)
{
	memcpy(buf, hdr, 8);
	for (size_t i = 0; i < innerlen; i++)
		buf[8 + i] = i < sizeof(eth) ? eth[i] : (uint8_t)i;
	return 8 + innerlen;
}

static void
test_decode_valid(void **state)
{
	static const uint8_t hdr[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
	uint8_t buf[64];
	size_t n = frame(buf, hdr, 20);
	struct cur c = cur_make(buf, n), inner;
	uint32_t vni = 7;

	(void)state;
	assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_OK);
	assert_int_equal(vni, 0x123456);
	assert_true(cur_ok(&inner));
	assert_int_equal(cur_left(&inner), 20);
	assert_ptr_equal(cur_rest(&inner), buf + 8);
	assert_int_equal(cur_left(&c), 0);	/* the datagram is consumed */
}

/* RFC 7348 section 5: reserved bits MUST be ignored on receipt. */
static void
test_decode_reserved_ignored(void **state)
{
	static const uint8_t hdr[8] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0xff};
	uint8_t buf[64];
	size_t n = frame(buf, hdr, 14);
	struct cur c = cur_make(buf, n), inner;
	uint32_t vni;

	(void)state;
	assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_OK);
	assert_int_equal(vni, 1);
	assert_int_equal(cur_left(&inner), 14);
}

static void
test_decode_no_i_flag(void **state)
{
	static const uint8_t flags[] = {0x00, 0xf7, 0x80, 0x04, 0x01};
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(flags); i++) {
		uint8_t hdr[8] = {flags[i], 0, 0, 0, 0, 0, 5, 0};
		size_t n = frame(buf, hdr, 14);
		struct cur c = cur_make(buf, n), inner;
		uint32_t vni = 99;

		assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_ENOVNI);
		assert_int_equal(vni, 0);
		assert_false(cur_ok(&inner));
		assert_int_equal(cur_left(&inner), 0);
	}
}

static void
test_decode_vni_extremes(void **state)
{
	static const uint8_t lo[8] = {0x08, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t hi[8] = {0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0};
	uint8_t buf[64];
	struct cur c, inner;
	uint32_t vni;

	(void)state;
	c = cur_make(buf, frame(buf, lo, 14));
	assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_OK);
	assert_int_equal(vni, 0);
	c = cur_make(buf, frame(buf, hi, 14));
	assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_OK);
	assert_int_equal(vni, VXLAN_VNI_MAX);
}

/* Every length short of header + Ethernet header is refused with the right reason. */
static void
test_decode_truncation(void **state)
{
	static const uint8_t hdr[8] = {0x08, 0, 0, 0, 0, 0, 9, 0};
	uint8_t buf[64];

	(void)state;
	frame(buf, hdr, 14);
	for (size_t n = 0; n <= 22; n++) {
		struct cur c = cur_make(buf, n), inner;
		uint32_t vni = 1;
		enum vxlan_result want = n < 8 ? VXLAN_ETRUNC : n < 22 ? VXLAN_ESHORT : VXLAN_OK;

		assert_int_equal(vxlan_decode(&c, &vni, &inner), want);
		assert_int_equal(vni, want == VXLAN_OK ? 9 : 0);
	}
}

static void
test_decode_failed_cursor(void **state)
{
	uint8_t buf[32] = {0x08};
	struct cur c = cur_make(buf, sizeof(buf)), inner;
	uint32_t vni;

	(void)state;
	c.failed = 1;
	assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_ETRUNC);
}

static void
test_encode_bytes(void **state)
{
	static const uint8_t want[2][8] = {
		{0x08, 0, 0, 0, 0, 0, 0, 0},
		{0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0},
	};
	static const uint32_t vnis[2] = {0, VXLAN_VNI_MAX};
	uint8_t buf[16];

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct wbuf w = wbuf_make(buf, sizeof(buf));

		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(vxlan_encode(&w, vnis[i]), VXLAN_OK);
		assert_int_equal(w.len, 8);
		assert_memory_equal(buf, want[i], 8);
	}
}

static void
test_encode_refusals(void **state)
{
	uint8_t buf[16];
	struct wbuf w = wbuf_make(buf, sizeof(buf));

	(void)state;
	assert_int_equal(vxlan_encode(&w, VXLAN_VNI_MAX + 1), VXLAN_EVNI);
	assert_int_equal(vxlan_encode(&w, UINT32_MAX), VXLAN_EVNI);
	assert_int_equal(w.len, 0);
	assert_false(w.failed);
	w = wbuf_make(buf, 7);
	assert_int_equal(vxlan_encode(&w, 1), VXLAN_ENOSPACE);
	assert_int_equal(w.len, 0);
	w = wbuf_make(buf, sizeof(buf));
	w.failed = 1;
	assert_int_equal(vxlan_encode(&w, 1), VXLAN_ENOSPACE);
	/* Appends after what is already there. */
	w = wbuf_make(buf, sizeof(buf));
	wbuf_u32(&w, 0xdeadbeef);
	assert_int_equal(vxlan_encode(&w, 0x010203), VXLAN_OK);
	assert_int_equal(w.len, 12);
	assert_int_equal(buf[4], 0x08);
	assert_int_equal(buf[8], 0x01);
	assert_int_equal(buf[10], 0x03);
}

static void
test_round_trip(void **state)
{
	static const uint32_t vnis[] = {0, 1, 0x800000, 0xabcdef, VXLAN_VNI_MAX};
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(vnis) / sizeof(vnis[0]); i++) {
		struct wbuf w = wbuf_make(buf, sizeof(buf));
		struct cur c, inner;
		uint32_t vni;

		assert_int_equal(vxlan_encode(&w, vnis[i]), VXLAN_OK);
		wbuf_bytes(&w, eth, sizeof(eth));
		c = cur_make(buf, w.len);
		assert_int_equal(vxlan_decode(&c, &vni, &inner), VXLAN_OK);
		assert_int_equal(vni, vnis[i]);
		assert_int_equal(cur_left(&inner), sizeof(eth));
		assert_memory_equal(cur_rest(&inner), eth, sizeof(eth));
	}
}

static void
test_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < VXLAN_RESULT_MAX; i++) {
		assert_non_null(vxlan_reason_name(i));
		assert_string_not_equal(vxlan_reason_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(vxlan_reason_name(i), vxlan_reason_name(j));
	}
	assert_string_equal(vxlan_reason_name(VXLAN_RESULT_MAX), "unknown");
	assert_string_equal(vxlan_reason_name((enum vxlan_result)-1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_reserved_ignored),
		cmocka_unit_test(test_decode_no_i_flag),
		cmocka_unit_test(test_decode_vni_extremes),
		cmocka_unit_test(test_decode_truncation),
		cmocka_unit_test(test_decode_failed_cursor),
		cmocka_unit_test(test_encode_bytes),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
