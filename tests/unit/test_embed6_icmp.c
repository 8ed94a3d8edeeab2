/*
 * Unit tests of src/lib/embed6_icmp.c: ICMP echo and errors translated both ways (RFC 7915
 * type and code mapping, quoted packets), and the refusals of the ICMP decoder.
 */
#include "embed6_testkit.h"

static void
test_icmp_echo(void **state)
{
	static const uint8_t types[2][2] = {{8, 128}, {0, 129}};
	struct v4spec s = {.ttl = 64, .proto = 1, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t msg[64], v4[BUFSZ], v6[BUFSZ], back[BUFSZ];

	(void)state;
	for (int i = 0; i < 2; i++) {
		size_t n4 = mk4(v4, &s, msg, echo(msg, types[i][0])), n6, nb;

		n6 = enc(v4, n4, v6, E6_OK);
		check_hdr6(v6, n6, v4);
		assert_int_equal(v6[40], types[i][1]);
		assert_int_equal(v6[41], 0);
		assert_memory_equal(v6 + 44, v4 + 24, n4 - 24);
		verify6(v6, n6);
		nb = dec(v6, n6, back, E6_OK);
		assert_int_equal(nb, n4);
		assert_memory_equal(back, v4, n4);
	}
}

/* Checks the quoted IPv6 packet inside an ICMPv6 error encoded from icmp_error(). */
static void
check_quoted6(const uint8_t *v6, size_t n6)
{
	const uint8_t *q = v6 + 48;

	assert_true(n6 >= 48 + 40);
	assert_int_equal(q[0] >> 4, 6);
	assert_int_equal(get32(q) & 0xfffff, 0);
	assert_int_equal(get16(q + 4), 100);	/* the original length, kept */
	assert_int_equal(q[7], 1);	/* the quoted TTL */
	/* Quoted source = our destination (B); quoted destination = C, on A's side. */
	assert_memory_equal(q + 8, b6, 16);
	assert_memory_equal(q + 24, a6, 12);
	assert_int_equal(get32(q + 36), C4);
}

static void
test_icmp_time_exceeded(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = icmp_error(v4, 11, 0, 0, 0x4000, 17), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	check_hdr6(v6, n6, v4);
	assert_int_equal(v6[40], 3);
	assert_int_equal(v6[41], 0);
	assert_int_equal(get32(v6 + 44), 0);
	assert_int_equal(n6, n4 + 20 + 20);	/* both headers grow by 20 */
	assert_int_equal(v6[48 + 6], 17);
	check_quoted6(v6, n6);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	/* The quoted packet had DF=1 and loses its ID, as an outer one would. */
	assert_int_equal(nb, n4);
	assert_memory_equal(back, v4, 22);
	assert_memory_equal(back + 24, v4 + 24, 4 + 4);
	assert_int_equal(get16(back + 28 + 4), 0);
	assert_memory_equal(back + 28 + 6, v4 + 28 + 6, 4);
	assert_memory_equal(back + 28 + 12, v4 + 28 + 12, nb - 40);
	/* Both checksums recomputed and valid. */
	assert_int_equal(fold(sum(0, back + 28, 20)), 0xffff);
	assert_int_equal(fold(sum(0, back + 20, nb - 20)), 0xffff);
}

static void
test_icmp_quoted_df0(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = icmp_error(v4, 11, 1, 0, 0, 17), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(v6[41], 1);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4);
	assert_int_equal(back[21], 1);
	assert_int_equal(get16(back + 28 + 4), 0);
	assert_int_equal(get16(back + 28 + 6), 0x4000);	/* quoted DF=0 came back DF=1 */
}

static void
test_icmp_frag_needed(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = icmp_error(v4, 3, 4, 1400, 0x4000, 6), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(v6[40], 2);		/* Packet Too Big */
	assert_int_equal(v6[41], 0);
	assert_int_equal(get32(v6 + 44), 1420);	/* MTU + 20 */
	assert_int_equal(v6[48 + 6], 6);
	check_quoted6(v6, n6);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4);
	assert_int_equal(back[20], 3);
	assert_int_equal(back[21], 4);
	assert_int_equal(get32(back + 24), 1400);
	assert_memory_equal(back + 28 + 12, v4 + 28 + 12, nb - 40);
}

static void
test_icmp_quoted_echo(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = icmp_error(v4, 11, 0, 0, 0x4000, 1), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(v6[48 + 6], 58);
	assert_int_equal(v6[48 + 40], 128);	/* the quoted echo request, translated */
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4);
	assert_int_equal(back[28 + 20], 8);
	assert_memory_equal(back + 28 + 20, v4 + 28 + 20, 8);
}

/* Codes with an exact twin return as they were; the others as RFC 7915 maps them back. */
static void
test_icmp_code_mapping(void **state)
{
	static const struct {
		uint8_t type, code;
		uint32_t rest;
		uint8_t t6, c6;
		uint32_t r6;
		uint8_t tback, cback;
		uint32_t rback;
	} m[] = {
		{3, 0, 0xffffffff, 1, 0, 0, 3, 1, 0},	/* net -> no route -> host */
		{3, 1, 0, 1, 0, 0, 3, 1, 0},
		{3, 2, 0, 4, 1, 6, 3, 2, 0},		/* protocol: Parameter Problem */
		{3, 3, 0, 1, 4, 0, 3, 3, 0},
		{3, 10, 0, 1, 1, 0, 3, 10, 0},
		{3, 13, 0, 1, 1, 0, 3, 10, 0},		/* filtered -> prohibited */
		{12, 0, 12u << 24, 4, 0, 8, 12, 0, 12u << 24},	/* pointer at the source */
		{12, 0, 3u << 24, 4, 0, 4, 12, 0, 2u << 24},	/* Total Length, 2nd byte */
		{12, 2, 9u << 24, 4, 0, 6, 12, 0, 9u << 24},
	};
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ];

	(void)state;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		size_t n4 = icmp_error(v4, m[i].type, m[i].code, m[i].rest, 0x4000, 17), n6;

		n6 = enc(v4, n4, v6, E6_OK);
		assert_int_equal(v6[40], m[i].t6);
		assert_int_equal(v6[41], m[i].c6);
		assert_int_equal(get32(v6 + 44), m[i].r6);
		verify6(v6, n6);
		dec(v6, n6, back, E6_OK);
		assert_int_equal(back[20], m[i].tback);
		assert_int_equal(back[21], m[i].cback);
		assert_int_equal(get32(back + 24), m[i].rback);
		assert_int_equal(fold(sum(0, back + 20, n4 - 20)), 0xffff);
	}
}

static void
test_icmp_refusals(void **state)
{
	static const uint8_t types[][2] = {
		{13, 0}, {4, 0}, {5, 1}, {9, 0}, {3, 14}, {3, 16}, {11, 2}, {12, 1},
	};
	struct v4spec s = {.ttl = 64, .proto = 1, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t msg[256], v4[BUFSZ], v6[BUFSZ];
	size_t n4;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n4 = icmp_error(v4, types[i][0], types[i][1], 0, 0x4000, 17);
		enc(v4, n4, v6, E6_EICMPTYPE);
	}
	enc(v4, icmp_error(v4, 12, 0, 5u << 24, 0x4000, 17), v6, E6_EICMPTYPE);
	/* Bad ICMP checksum. */
	echo(msg, 8);
	msg[9] ^= 1;
	enc(v4, mk4(v4, &s, msg, 31), v6, E6_ECSUM);
	/* Fragmented ICMP, first and later. */
	echo(msg, 8);
	s.frag = 0x2000;
	enc(v4, mk4(v4, &s, msg, 24), v6, E6_EICMPFRAG);
	s.frag = 3;
	enc(v4, mk4(v4, &s, msg, 24), v6, E6_EICMPFRAG);
	/* Shorter than an ICMP header. */
	s.frag = 0x4000;
	enc(v4, mk4(v4, &s, msg, 7), v6, E6_ETRUNC);
	/* An error quoting something untranslatable: an ICMP error, a short header. */
	n4 = icmp_error(v4, 11, 0, 0, 0x4000, 1);
	v4[28 + 20] = 3;
	put16(v4 + 22, 0);
	put16(v4 + 22, (uint16_t)~fold(sum(0, v4 + 20, n4 - 20)));
	enc(v4, n4, v6, E6_EINNER);
	icmp_error(v4, 11, 0, 0, 0x4000, 17);
	memset(msg, 0, sizeof(msg));
	msg[0] = 11;
	memcpy(msg + 8, v4 + 28, 19);
	icmpsum(msg, 27);
	enc(v4, mk4(v4, &s, msg, 27), v6, E6_EINNER);
}

/* ---- encoder refusals ---- */

static void
test_decode_icmp_refusals(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], orig[BUFSZ], back[BUFSZ];
	size_t n6 = enc(v4, icmp_error(v4, 11, 0, 0, 0x4000, 17), orig, E6_OK);
	static const uint8_t bad_types[][2] = {
		{1, 2}, {1, 3}, {1, 5}, {2, 1}, {3, 2}, {4, 2}, {135, 0}, {133, 0}, {200, 0},
	};

	(void)state;
#define RESET() memcpy(v6, orig, n6)
	RESET();
	v6[44] ^= 1;
	dec(v6, n6, back, E6_ECSUM);
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		RESET();
		v6[40] = bad_types[i][0];
		v6[41] = bad_types[i][1];
		reseal_icmp6(v6, n6);
		dec(v6, n6, back, E6_EICMPTYPE);
	}
	/* Unused bytes, MTU and pointers our encoder never writes. */
	RESET();
	v6[47] = 1;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EICMPHDR);
	RESET();
	v6[40] = 2;
	put32(v6 + 44, 19);
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EICMPHDR);
	put32(v6 + 44, 65556);
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EICMPHDR);
	put32(v6 + 44, 65555);
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_OK);
	v6[40] = 4;
	put32(v6 + 44, 5);
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EICMPHDR);
	v6[41] = 1;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EICMPHDR);
	/* The quoted packet: flow label, pairing of addresses, version, extension header. */
	RESET();
	v6[48 + 3] = 1;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EINNER);
	RESET();
	v6[48 + 8 + 5] ^= 1;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EINNERADDR);
	RESET();
	v6[48 + 24] ^= 1;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EINNERADDR);
	RESET();
	v6[48 + 36] ^= 1;	/* the quoted IPv4 address itself may be anything */
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_OK);
	RESET();
	v6[48] = 0x40;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EINNER);
	RESET();
	v6[48 + 6] = 43;
	reseal_icmp6(v6, n6);
	dec(v6, n6, back, E6_EINNER);
	RESET();
	put16(v6 + 4, 47);
	reseal_icmp6(v6, 87);
	dec(v6, 87, back, E6_EINNER);
	RESET();
	put16(v6 + 4, 7);
	dec(v6, 47, back, E6_ETRUNC);
#undef RESET
}

/* Everything the encoder writes, the decoder takes back; and then encodes to the same. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_time_exceeded),
		cmocka_unit_test(test_icmp_quoted_df0),
		cmocka_unit_test(test_icmp_frag_needed),
		cmocka_unit_test(test_icmp_quoted_echo),
		cmocka_unit_test(test_icmp_code_mapping),
		cmocka_unit_test(test_icmp_refusals),
		cmocka_unit_test(test_decode_icmp_refusals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
