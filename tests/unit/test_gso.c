/*
 * Unit tests of src/lib/gso.c: the virtio_net_hdr codec, checksum completion, software TCP
 * segmentation (each segment compared byte for byte with one built independently here, with
 * pkt_csum.c's checksum, and parsed back with checksums verified) and the checks and header
 * of receive-side coalescing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gso.h"
#include "pkt.h"

#define MSS 1000
#define PAYLOAD 2500 /* two full segments and a short last one */
#define HLEN (14 + 20 + 32)

static const uint8_t tcp_opts[12] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78};

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A reference frame: Ethernet, IPv4 (DF, id, TTL 64), TCP with timestamps, payload. */
static size_t
build(uint8_t *f, uint16_t id, uint32_t seq, uint8_t flags, const uint8_t *payload,
    size_t plen, int partial)
{
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
	uint8_t *ip = f + 14, *tcp = f + 34;
	size_t len = HLEN + plen;
	uint32_t sum;

	memcpy(f, eth, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 4, id);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = PKT_IPPROTO_TCP;
	put32(ip + 12, 0x0a000102);
	put32(ip + 16, 0x0a000103);
	put16(ip + 10, csum_fold(csum_sum(0, cur_make(ip, 20))));
	memset(tcp, 0, 20);
	put16(tcp, 40000);
	put16(tcp + 2, 5201);
	put32(tcp + 4, seq);
	put32(tcp + 8, 0x01020304);
	tcp[12] = 8 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 501);
	memcpy(tcp + 20, tcp_opts, sizeof(tcp_opts));
	memcpy(f + HLEN, payload, plen);
	sum = csum_pseudo4(0x0a000102, 0x0a000103, PKT_IPPROTO_TCP, (uint16_t)(len - 34));
	if (partial) /* what a VM's kernel hands over with NEEDS_CSUM */
		put16(tcp + 16, (uint16_t)~csum_fold(sum));
	else
		put16(tcp + 16, csum_fold(csum_sum(sum, cur_make(tcp, len - 34))));
	return len;
}

static void
parse_back(const uint8_t *f, size_t len, struct pkt_tcp *t)
{
	struct cur c = cur_make(f, len), p;
	struct pkt_ip4_frame fr;

	assert_int_equal(pkt_ip4_frame_parse(&c, 0, &fr), PKT_OK);
	assert_int_equal(cur_left(&c), 0);
	p = fr.ip.payload;
	assert_int_equal(pkt_tcp_parse(&p, &fr.ip, 0, t), PKT_OK); /* checksum verified */
}

static void
test_vnet(void **state)
{
	uint8_t b[GSO_VNET_HLEN];
	struct gso_vnet v = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 1, 66, 1448, 34, 16}, w;
	struct cur c;

	(void)state;
	gso_vnet_write(b, &v);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1 | 0x80);
	assert_int_equal(b[2], 66);	/* little-endian */
	assert_int_equal(b[4], 1448 & 0xff);
	assert_int_equal(b[5], 1448 >> 8);
	c = cur_make(b, sizeof(b));
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_OK);
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(w.type, GSO_TCPV4);
	assert_true(w.ecn);
	assert_int_equal(w.size, 1448);
	assert_int_equal(w.csum_start, 34);
	assert_int_equal(w.csum_offset, 16);
	c = cur_make(b, 9);
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_TRUNCATED);
	b[0] = 0x04;
	c = cur_make(b, sizeof(b));
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_BAD_FLAGS);
	b[0] = 0;
	b[1] = GSO_UDP;
	c = cur_make(b, sizeof(b));
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_BAD_TYPE);
	b[1] = GSO_TCPV6;
	c = cur_make(b, sizeof(b));
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_IPV6);
	b[1] = GSO_TCPV4;
	b[4] = b[5] = 0;
	c = cur_make(b, sizeof(b));
	assert_int_equal(gso_vnet_parse(&c, &w), GSO_BAD_SIZE);
}

static void
test_sum_matches_reference(void **state)
{
	uint8_t b[301];

	(void)state;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(b); n++)
		assert_int_equal(gso_sum(b, n, 0x1234), csum_sum(0x1234, cur_make(b, n)));
}

static void
test_csum_complete_udp(void **state)
{
	uint8_t f[14 + 20 + 8 + 64];
	struct gso_vnet v = {.flags = GSO_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	struct cur c, p;
	struct pkt_ip4_frame fr;
	struct pkt_udp u;

	(void)state;
	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[14] = 0x45;
	put16(f + 16, 20 + 8 + 64);
	f[22] = 64;
	f[23] = PKT_IPPROTO_UDP;
	put32(f + 26, 0x0a000102);
	put32(f + 30, 0x0a000103);
	put16(f + 24, csum_fold(csum_sum(0, cur_make(f + 14, 20))));
	put16(f + 34, 5000);
	put16(f + 36, 5201);
	put16(f + 38, 72);
	for (int i = 0; i < 64; i++)
		f[42 + i] = (uint8_t)i;
	put16(f + 40, (uint16_t)~csum_fold(csum_pseudo4(0x0a000102, 0x0a000103,
	    PKT_IPPROTO_UDP, 72)));
	assert_int_equal(gso_csum_complete(f, sizeof(f), &v), GSO_OK);
	assert_int_not_equal(rd16(f + 40), 0);
	c = cur_make(f, sizeof(f));
	assert_int_equal(pkt_ip4_frame_parse(&c, 0, &fr), PKT_OK);
	p = fr.ip.payload;
	assert_int_equal(pkt_udp_parse(&p, &fr.ip, 0, &u), PKT_OK);
	/* Offsets outside the frame are refused. */
	v.csum_start = sizeof(f) - 7;
	assert_int_equal(gso_csum_complete(f, sizeof(f), &v), GSO_BAD_CSUM);
	v.csum_start = (uint16_t)sizeof(f);
	v.csum_offset = 0;
	assert_int_equal(gso_csum_complete(f, sizeof(f), &v), GSO_BAD_CSUM);
}

static void
test_segment(void **state)
{
	static uint8_t payload[PAYLOAD], super[HLEN + PAYLOAD], seg[2048], want[2048];
	const uint8_t flags = PKT_TCP_ACK | PKT_TCP_PSH | PKT_TCP_FIN | PKT_TCP_CWR;
	const uint8_t want_flags[3] = {PKT_TCP_ACK | PKT_TCP_CWR, PKT_TCP_ACK,
	    PKT_TCP_ACK | PKT_TCP_PSH | PKT_TCP_FIN};
	struct gso_iter it;
	size_t len, n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ (i >> 8));
	len = build(super, 0x1000, 0xfffffc00, flags, payload, PAYLOAD, 1);
	assert_int_equal(gso_tcp4_begin(&it, super, len, MSS), GSO_OK);
	assert_int_equal(it.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		size_t plen = i < 2 ? MSS : PAYLOAD - 2 * MSS;
		uint32_t seq = 0xfffffc00u + i * MSS; /* wraps at the second segment */
		struct pkt_tcp t;
		size_t wl = build(want, (uint16_t)(0x1000 + i), seq, want_flags[i],
		    payload + i * MSS, plen, 0);

		n = gso_tcp4_next(&it, seg, sizeof(seg));
		assert_int_equal(n, HLEN + plen);
		assert_int_equal(n, wl);
		assert_memory_equal(seg, want, n);
		parse_back(seg, n, &t);
		assert_int_equal(t.seq, seq);
		assert_int_equal(t.flags, want_flags[i]);
		assert_int_equal(cur_left(&t.payload), plen);
		assert_int_equal(rd16(seg + 16), 20 + 32 + plen);
		assert_int_equal(rd16(seg + 18), 0x1000 + i);
	}
	assert_int_equal(gso_tcp4_next(&it, seg, sizeof(seg)), 0);
}

static void
test_segment_refusals(void **state)
{
	static uint8_t payload[100], f[HLEN + 100], seg[64];
	struct gso_iter it;
	size_t len;

	(void)state;
	len = build(f, 1, 1, PKT_TCP_ACK, payload, sizeof(payload), 1);
	assert_int_equal(gso_tcp4_begin(&it, f, len, 0), GSO_BAD_SIZE);
	assert_int_equal(gso_tcp4_begin(&it, f, 20, 10), GSO_TRUNCATED);
	assert_int_equal(gso_tcp4_begin(&it, f, len - 1, 10), GSO_NOT_TCP4); /* totlen > frame */
	assert_int_equal(gso_tcp4_begin(&it, f, len, 10), GSO_OK);
	assert_int_equal(gso_tcp4_next(&it, seg, sizeof(seg)), 0); /* 76 bytes do not fit in 64 */
	f[20] = 0x20; /* MF */
	assert_int_equal(gso_tcp4_begin(&it, f, len, 10), GSO_NOT_TCP4);
	f[20] = 0x40;
	f[23] = PKT_IPPROTO_UDP;
	assert_int_equal(gso_tcp4_begin(&it, f, len, 10), GSO_NOT_TCP4);
	f[23] = PKT_IPPROTO_TCP;
	f[12] = 0x86;
	f[13] = 0xdd;
	assert_int_equal(gso_tcp4_begin(&it, f, len, 10), GSO_NOT_TCP4);
	f[12] = 0x08;
	f[13] = 0x00;
	f[46] = 4 << 4; /* data offset 16 */
	assert_int_equal(gso_tcp4_begin(&it, f, len, 10), GSO_NOT_TCP4);
}

static void
test_coalesce(void **state)
{
	static uint8_t payload[3 * MSS], s[3][HLEN + MSS], other[HLEN + MSS];
	static uint8_t hdr[HLEN];
	struct gso_seg a, b, c, o;
	struct gso_vnet v;
	struct pkt_ip4 ip;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	build(s[0], 1, 5000, PKT_TCP_ACK, payload, MSS, 0);
	build(s[1], 2, 5000 + MSS, PKT_TCP_ACK, payload + MSS, MSS, 0);
	build(s[2], 3, 5000 + 2 * MSS, PKT_TCP_ACK | PKT_TCP_PSH, payload + 2 * MSS, 500, 0);
	assert_true(gso_seg_candidate(s[0], HLEN + MSS, &a));
	assert_true(gso_seg_candidate(s[1], HLEN + MSS, &b));
	assert_true(gso_seg_candidate(s[2], HLEN + 500, &c));
	assert_int_equal(a.hlen, HLEN);
	assert_int_equal(a.plen, MSS);
	assert_int_equal(c.plen, 500);
	assert_true(gso_seg_follows(s[0], &a, s[1], &b, 5000 + MSS));
	assert_true(gso_seg_follows(s[0], &a, s[2], &c, 5000 + 2 * MSS)); /* PSH may differ */
	assert_false(gso_seg_follows(s[0], &a, s[2], &c, 5000 + MSS));    /* out of sequence */
	/* Another port, window or timestamp: not the same flow state. */
	build(other, 2, 5000 + MSS, PKT_TCP_ACK, payload + MSS, MSS, 0);
	other[34 + 1] ^= 1;
	put16(other + 34 + 16, 0);
	put16(other + 34 + 16, csum_fold(csum_sum(csum_pseudo4(0x0a000102, 0x0a000103, 6,
	    32 + MSS), cur_make(other + 34, 32 + MSS))));
	assert_true(gso_seg_candidate(other, HLEN + MSS, &o));
	assert_false(gso_seg_follows(s[0], &a, other, &o, 5000 + MSS));
	/* A bad checksum, a SYN, no payload: written alone, never merged. */
	other[HLEN + 3] ^= 0xff;
	assert_false(gso_seg_candidate(other, HLEN + MSS, &o));
	build(other, 2, 1, PKT_TCP_SYN | PKT_TCP_ACK, payload, 10, 0);
	assert_false(gso_seg_candidate(other, HLEN + 10, &o));
	build(other, 2, 1, PKT_TCP_ACK, payload, 0, 0);
	assert_false(gso_seg_candidate(other, HLEN, &o));
	/* The super-frame's header. */
	memcpy(hdr, s[0], HLEN);
	assert_int_equal(gso_merge_header(hdr, &a, 2 * MSS + 500, 1, MSS, &v), 0);
	{
		uint8_t whole[20 + 32 + 2 * MSS + 500];
		struct cur w;

		memcpy(whole, hdr + 14, 20 + 32);
		memcpy(whole + 52, payload, 2 * MSS + 500);
		w = cur_make(whole, sizeof(whole));
		assert_int_equal(pkt_ip4_parse(&w, 0, &ip), PKT_OK); /* length and header sum */
	}
	assert_int_equal(hdr[34 + 13], PKT_TCP_ACK | PKT_TCP_PSH);
	assert_int_equal(rd16(hdr + 34 + 16), (uint16_t)~csum_fold(csum_pseudo4(0x0a000102,
	    0x0a000103, 6, 32 + 2 * MSS + 500)));
	assert_int_equal(rd32(hdr + 34 + 4), 5000);
	assert_int_equal(v.flags, GSO_F_NEEDS_CSUM);
	assert_int_equal(v.type, GSO_TCPV4);
	assert_int_equal(v.size, MSS);
	assert_int_equal(v.hdr_len, HLEN);
	assert_int_equal(v.csum_start, 34);
	assert_int_equal(v.csum_offset, 16);
	assert_int_equal(gso_merge_header(hdr, &a, 0xffff, 0, MSS, &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet),
		cmocka_unit_test(test_sum_matches_reference),
		cmocka_unit_test(test_csum_complete_udp),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_segment_refusals),
		cmocka_unit_test(test_coalesce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
