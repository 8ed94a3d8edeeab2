/*
 * Unit tests of src/lib/embed6_xlat.c: IPv4 -> IPv6 -> IPv4 round trips of TCP, UDP and
 * fragments, byte-exact except for what the translation is documented to change (each such
 * change asserted on its own), IPv6 checksums verified independently, and every refusal
 * reason provoked at least once. ICMP is in test_embed6_icmp.c.
 */
#include "embed6_testkit.h"

static void
test_tcp(void **state)
{
	struct v4spec s = {.tos = 0xb9, .ttl = 61, .proto = 6, .id = 0x1234, .frag = 0x4000,
	    .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ], back[BUFSZ], want[BUFSZ];
	size_t n4 = mk4(v4, &s, seg, tcp_seg(seg, A4, B4)), n6, nb;
	struct v6view v;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(n6, n4 + 20);
	v = check_hdr6(v6, n6, v4);
	assert_false(v.frag);
	/* The segment is copied, only its checksum changes (and stays valid). */
	assert_memory_equal(v6 + 40, v4 + 20, 16);
	assert_memory_equal(v6 + 58, v4 + 38, n4 - 38);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	/* What is lost: the ID of an unfragmented packet (DF was already set). */
	assert_int_equal(nb, expect4(want, v4, 0, 0x4000));
	assert_memory_equal(back, want, nb);
	assert_memory_equal(back + 20, v4 + 20, n4 - 20);	/* checksum restored exactly */
}

static void
test_udp(void **state)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[128], v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = mk4(v4, &s, seg, udp_dgram(seg, 33, A4, B4, 0)), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	check_hdr6(v6, n6, v4);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4);
	assert_memory_equal(back, v4, n4);	/* DF=1, ID=0: nothing lost */
}

/* DF=0 unfragmented: no Fragment Header, so it comes back DF=1 (embed6.h says why). */
static void
test_udp_df0(void **state)
{
	struct v4spec s = {.ttl = 9, .proto = 17, .id = 0x4242, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ], back[BUFSZ], want[BUFSZ];
	size_t n4 = mk4(v4, &s, seg, udp_dgram(seg, 4, A4, B4, 0)), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(v6[6], 17);	/* no Fragment Header */
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(get16(back + 4), 0);
	assert_int_equal(get16(back + 6), 0x4000);
	assert_int_equal(nb, expect4(want, v4, 0, 0x4000));
	assert_memory_equal(back, want, nb);
}

/* RFC 7915 section 4.5: checksum 0 is computed for IPv6 and comes back computed. */
static void
test_udp_zero_checksum(void **state)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[128], v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n4 = mk4(v4, &s, seg, udp_dgram(seg, 21, A4, B4, 1)), n6, nb;

	(void)state;
	assert_int_equal(get16(v4 + 26), 0);
	n6 = enc(v4, n4, v6, E6_OK);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4);
	assert_memory_equal(back, v4, 26);
	assert_memory_equal(back + 28, v4 + 28, n4 - 28);
	/* The one change: a valid checksum where there was none. */
	assert_int_not_equal(get16(back + 26), 0);
	assert_int_equal(fold(pseudo4(A4, B4, 17, (uint32_t)(n4 - 20)) + sum(0, back + 20, n4 - 20)),
	    0xffff);
}

static void
test_udp_zero_refusals(void **state)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .frag = 0x2000, .id = 1, .src = A4, .dst = B4};
	uint8_t seg[128], v4[BUFSZ], v6[BUFSZ];
	size_t n4;

	(void)state;
	/* A first fragment with checksum 0: the rest of the datagram is not here to sum. */
	n4 = mk4(v4, &s, seg, udp_dgram(seg, 16, A4, B4, 1));
	enc(v4, n4, v6, E6_EUDPZEROFRAG);
	/* A UDP length longer than the packet. */
	s.frag = 0;
	udp_dgram(seg, 16, A4, B4, 1);
	put16(seg + 4, 100);
	n4 = mk4(v4, &s, seg, 24);
	enc(v4, n4, v6, E6_EUDPLEN);
	put16(seg + 4, 7);
	n4 = mk4(v4, &s, seg, 24);
	enc(v4, n4, v6, E6_EUDPLEN);
}

/* ---- fragments (RFC 7915 sections 4.1 and 5.1.1) ---- */

static void
test_fragments(void **state)
{
	/* One 48-byte UDP datagram in three fragments: 24 + 16 + 8 bytes. */
	static const size_t at[3] = {0, 24, 40}, len[3] = {24, 16, 8};
	uint8_t dgram[64], v4[3][BUFSZ], v6[3][BUFSZ], back[BUFSZ], whole[64];
	size_t n4[3], n6[3];

	(void)state;
	udp_dgram(dgram, 40, A4, B4, 0);
	for (int i = 0; i < 3; i++) {
		struct v4spec s = {.tos = 0x10, .ttl = 30, .proto = 17, .id = 0xbeef,
		    .frag = (uint16_t)((i < 2 ? 0x2000 : 0) | at[i] / 8), .src = A4, .dst = B4};
		struct v6view v;
		size_t nb;

		n4[i] = mk4(v4[i], &s, dgram + at[i], len[i]);
		n6[i] = enc(v4[i], n4[i], v6[i], E6_OK);
		assert_int_equal(n6[i], n4[i] + 28);
		v = check_hdr6(v6[i], n6[i], v4[i]);
		assert_true(v.frag);
		assert_int_equal(v.fid, 0xbeef);
		assert_int_equal(v.fo >> 3, at[i] / 8);
		assert_int_equal(v.fo & 7, i < 2 ? 1 : 0);
		memcpy(whole + at[i], v6[i] + 48, len[i]);
		/* Fragments come back exactly: ID, offset, MF kept, DF=0 as they had it. */
		nb = dec(v6[i], n6[i], back, E6_OK);
		assert_int_equal(nb, n4[i]);
		assert_memory_equal(back, v4[i], nb);
	}
	/* Later fragments are copied untouched; the reassembled datagram checks out in IPv6. */
	assert_memory_equal(v6[1] + 48, dgram + 24, 16);
	assert_int_equal(fold(pseudo6(a6, b6, 17, 48) + sum(0, whole, 48)), 0xffff);
}

static void
test_fragment_df_lost(void **state)
{
	struct v4spec s = {.ttl = 30, .proto = 17, .id = 7, .frag = 0x4000 | 3, .src = A4,
	    .dst = B4};
	uint8_t pay[16] = {1, 2, 3}, v4[BUFSZ], v6[BUFSZ], back[BUFSZ], want[BUFSZ];
	size_t n4 = mk4(v4, &s, pay, 16), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(get16(back + 6), 3);	/* RFC 7915 section 5.1.1: DF=0 */
	assert_int_equal(nb, expect4(want, v4, 7, 3));
	assert_memory_equal(back, want, nb);
}

/* ---- IPv4 options ---- */

static void
test_options_dropped(void **state)
{
	/* Record Route (7) with room for one address, then NOP and End of List. */
	static const uint8_t opt[12] = {7, 7, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct v4spec s = {.ttl = 64, .proto = 6, .id = 99, .frag = 0x4000, .src = A4, .dst = B4,
	    .opt = opt, .optlen = sizeof(opt)};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ], back[BUFSZ], want[BUFSZ];
	size_t n4 = mk4(v4, &s, seg, tcp_seg(seg, A4, B4)), n6, nb;

	(void)state;
	n6 = enc(v4, n4, v6, E6_OK);
	assert_int_equal(n6, n4 - sizeof(opt) + 20);
	verify6(v6, n6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(nb, n4 - sizeof(opt));
	assert_int_equal(nb, expect4(want, v4, 0, 0x4000));
	assert_memory_equal(back, want, nb);
}

static void
test_options_refused(void **state)
{
	static const uint8_t lsrr[8] = {131, 7, 4, 10, 0, 5, 5, 0};	/* one hop left */
	static const uint8_t spent[8] = {137, 7, 8, 10, 0, 5, 5, 0};	/* used up */
	static const uint8_t badlen[4] = {7, 1, 0, 0};
	static const uint8_t overrun[4] = {7, 9, 4, 0};
	struct v4spec s = {.ttl = 64, .proto = 6, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ];
	size_t segn = tcp_seg(seg, A4, B4);

	(void)state;
	s.opt = lsrr, s.optlen = 8;
	enc(v4, mk4(v4, &s, seg, segn), v6, E6_ESRCROUTE);
	s.opt = spent;
	enc(v4, mk4(v4, &s, seg, segn), v6, E6_OK);
	s.opt = badlen, s.optlen = 4;
	enc(v4, mk4(v4, &s, seg, segn), v6, E6_EOPTIONS);
	s.opt = overrun;
	enc(v4, mk4(v4, &s, seg, segn), v6, E6_EOPTIONS);
}

/* ---- ICMP ---- */

static void
test_encode_refusals(void **state)
{
	struct v4spec s = {.ttl = 64, .proto = 6, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ], small[60];
	size_t segn = tcp_seg(seg, A4, B4), n4 = mk4(v4, &s, seg, segn);
	struct cur c;
	struct wbuf w;

	(void)state;
	enc(v4, 19, v6, E6_ETRUNC);
	enc(v4, n4 - 1, v6, E6_ETRUNC);
	v4[0] = 0x65;
	enc(v4, n4, v6, E6_EVERSION);
	v4[0] = 0x44;
	enc(v4, n4, v6, E6_ELENGTH);
	v4[0] = 0x45;
	v4[11] ^= 1;
	enc(v4, n4, v6, E6_ECSUM);
	v4[11] ^= 1;
	put16(v4 + 2, 19);
	enc(v4, n4, v6, E6_ELENGTH);
	/* Padding after Total Length (a short Ethernet frame) is ignored. */
	n4 = mk4(v4, &s, seg, segn);
	memset(v4 + n4, 0, 10);
	assert_int_equal(enc(v4, n4 + 10, v6, E6_OK), n4 + 20);
	/* Addresses that do not embed the packet's. */
	c = cur_make(v4, n4);
	w = wbuf_make(v6, BUFSZ);
	assert_int_equal(e6_encode(&c, b6, a6, &w), E6_EADDR);
	/* Protocols IPv6 would read as extension headers, and ICMPv6 in IPv4. */
	for (int p = 0; p < 256; p++) {
		int bad = p == 0 || p == 43 || p == 44 || p == 51 || p == 58 || p == 60 ||
		    p == 135 || p == 139 || p == 140 || p == 253 || p == 254;

		if (p == 1 || p == 6 || p == 17 || p == 33 || p == 136)
			continue;
		s.proto = (uint8_t)p;
		n4 = mk4(v4, &s, seg, 4);
		enc(v4, n4, v6, bad ? E6_EPROTO : E6_OK);
	}
	/* A first fragment too short to hold the TCP checksum; a later one needs none. */
	s.proto = 6;
	s.frag = 0x2000;
	enc(v4, mk4(v4, &s, seg, 16), v6, E6_EL4TRUNC);
	s.frag = 0x2001;
	enc(v4, mk4(v4, &s, seg, 8), v6, E6_OK);
	/* No room: nothing written, the buffer marked failed. */
	s.frag = 0x4000;
	n4 = mk4(v4, &s, seg, segn);
	c = cur_make(v4, n4);
	w = wbuf_make(small, sizeof(small));
	wbuf_u8(&w, 0xee);
	assert_int_equal(e6_encode(&c, a6, b6, &w), E6_ENOSPACE);
	assert_int_equal(w.len, 1);
	assert_true(w.failed);
	assert_int_equal(e6_encode(&c, a6, b6, &w), E6_ENOSPACE);
}

static void
test_decode_header_refusals(void **state)
{
	uint8_t v6[BUFSZ], back[BUFSZ];
	size_t n6 = good_udp6(v6);

	(void)state;
	dec(v6, 39, back, E6_ETRUNC);
	dec(v6, n6 - 1, back, E6_ETRUNC);
	v6[n6] = 0;
	dec(v6, n6 + 1, back, E6_ELENGTH);
	v6[0] = 0x45;
	dec(v6, n6, back, E6_EVERSION);
	v6[0] = 0x60;
	/* A flow label set on the way is fine. */
	v6[3] = 0x42;
	dec(v6, n6, back, E6_OK);
	v6[25] ^= 0x80;	/* another host's prefix */
	dec(v6, n6, back, E6_EPREFIX);
	v6[25] ^= 0x80;
	v6[6] = 0;
	dec(v6, n6, back, E6_EEXTHDR);
	v6[6] = 60;
	dec(v6, n6, back, E6_EEXTHDR);
	v6[6] = 1;
	dec(v6, n6, back, E6_EPROTO);
	v6[6] = 17;
	put16(v6 + 46, 0);
	dec(v6, n6, back, E6_EUDPZERO);
	/* A UDP packet too short for its checksum. */
	n6 = good_udp6(v6);
	put16(v6 + 4, 6);
	dec(v6, 46, back, E6_EL4TRUNC);
}

/* Lengths that fit one family but not the other. */
static void
test_too_big(void **state)
{
	static uint8_t big[40 + 65535], out[70000];
	struct v4spec s = {.ttl = 64, .proto = 1, .frag = 0x4000, .src = A4, .dst = B4};
	struct v4spec in = {.ttl = 1, .proto = 17, .frag = 0x2000, .src = B4, .dst = C4};
	struct cur c;
	struct wbuf w;
	size_t n6 = good_udp6(big);

	(void)state;
	/* IPv6 payloads over 65515 bytes: no IPv4 Total Length can say that. */
	assert_int_equal(n6, 60);
	put16(big + 4, 65535);
	big[6] = 50;	/* ESP: no checksum in the way */
	dec(big, sizeof(big), out, E6_ETOOBIG);
	big[6] = 58;
	memset(big + 40, 0, 8);
	big[40] = 128;
	reseal_icmp6(big, sizeof(big));
	dec(big, sizeof(big), out, E6_ETOOBIG);
	/* An ICMPv4 error of 65535 bytes quoting a fragment grows past 65535 in IPv6. */
	memset(big, 0, sizeof(big));
	big[0] = 11;
	mk4(big + 8, &in, big + 28, 65535 - 20 - 8 - 20);
	icmpsum(big, 65535 - 20);
	c = cur_make(out, mk4(out, &s, big, 65535 - 20));
	w = wbuf_make(big, 2048);
	assert_int_equal(e6_encode(&c, a6, b6, &w), E6_ETOOBIG);
	assert_int_equal(w.len, 0);
}

static void
test_decode_frag_refusals(void **state)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .id = 5, .frag = 0x2000, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ], v6[BUFSZ], back[BUFSZ];
	size_t n6 = enc(v4, mk4(v4, &s, seg, udp_dgram(seg, 16, A4, B4, 0)), v6, E6_OK);

	(void)state;
	dec(v6, n6, back, E6_OK);
	v6[41] = 1;
	dec(v6, n6, back, E6_EFRAGHDR);
	v6[41] = 0;
	v6[43] |= 2;
	dec(v6, n6, back, E6_EFRAGHDR);
	v6[43] &= (uint8_t)~2;
	v6[45] = 1;	/* an ID beyond 16 bits */
	dec(v6, n6, back, E6_EFRAGHDR);
	v6[45] = 0;
	v6[43] = 0;	/* atomic fragment: offset 0, M clear */
	dec(v6, n6, back, E6_EFRAGHDR);
	v6[43] = 1;
	v6[40] = 44;	/* two Fragment Headers */
	dec(v6, n6, back, E6_EEXTHDR);
	v6[40] = 58;
	dec(v6, n6, back, E6_EICMPFRAG);
	put16(v6 + 4, 7);	/* a Fragment Header cut short */
	dec(v6, 47, back, E6_ETRUNC);
}

static void
test_reencode_stable(void **state)
{
	uint8_t v4[BUFSZ], v6[BUFSZ], back[BUFSZ], again[BUFSZ];
	size_t n6, nb;

	(void)state;
	n6 = enc(v4, icmp_error(v4, 3, 3, 0, 0x4000, 17), v6, E6_OK);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(enc(back, nb, again, E6_OK), n6);
	assert_memory_equal(again, v6, n6);
	n6 = good_udp6(v6);
	nb = dec(v6, n6, back, E6_OK);
	assert_int_equal(enc(back, nb, again, E6_OK), n6);
	assert_memory_equal(again, v6, n6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_udp_df0),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_udp_zero_refusals),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_fragment_df_lost),
		cmocka_unit_test(test_options_dropped),
		cmocka_unit_test(test_options_refused),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_decode_header_refusals),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_decode_frag_refusals),
		cmocka_unit_test(test_reencode_stable),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
