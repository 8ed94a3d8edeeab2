/*
 * Helpers shared by the embed6 translation tests (test_embed6_xlat.c, test_embed6_icmp.c):
 * packet builders and an independent checksum verifier, no code shared with the module.
 */
#ifndef VENEER_EMBED6_TESTKIT_H
#define VENEER_EMBED6_TESTKIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "embed6.h"

#define BUFSZ 2048

/* ---- independent helpers (no code shared with the module) ---- */

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint32_t
sum(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static inline uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline uint32_t
pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static inline uint32_t
pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh, uint32_t len)
{
	return sum(sum(0, src, 16), dst, 16) + (len >> 16) + (len & 0xffff) + nh;
}

/* ---- the test network: VM A on a remote host, VM B on ours ---- */

#define VNID 0x00abcd
#define A4 0x0a000001u	/* 10.0.0.1 */
#define B4 0x0a000002u	/* 10.0.0.2 */
#define C4 0x0a000505u	/* 10.0.5.5, beyond a router */

static const struct e6_layout local = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x01}, 56};
static const struct e6_layout remote = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x02}, 56};
static uint8_t a6[16], b6[16];

static inline int
setup(void **state)
{
	(void)state;
	if (e6_addr_compose(&remote, 7, VNID, A4, a6) != E6_OK ||
	    e6_addr_compose(&local, 9, VNID, B4, b6) != E6_OK)
		return -1;
	return 0;
}

/* ---- building IPv4 packets ---- */

struct v4spec {
	uint8_t tos, ttl, proto;
	uint16_t id, frag;	/* flags and offset as on the wire */
	uint32_t src, dst;
	const uint8_t *opt;
	size_t optlen;
};

/* Writes the header (checksum filled) and copies the payload; returns the length. */
static inline size_t
mk4(uint8_t *out, const struct v4spec *s, const uint8_t *pay, size_t paylen)
{
	size_t hlen = 20 + s->optlen;

	out[0] = (uint8_t)(0x40 | hlen / 4);
	out[1] = s->tos;
	put16(out + 2, (uint16_t)(hlen + paylen));
	put16(out + 4, s->id);
	put16(out + 6, s->frag);
	out[8] = s->ttl;
	out[9] = s->proto;
	put16(out + 10, 0);
	put32(out + 12, s->src);
	put32(out + 16, s->dst);
	if (s->optlen)
		memcpy(out + 20, s->opt, s->optlen);
	put16(out + 10, (uint16_t)~fold(sum(0, out, hlen)));
	memcpy(out + hlen, pay, paylen);
	return hlen + paylen;
}

/* Fills in the L4 checksum of a whole datagram (TCP at 16, UDP at 6) the IPv4 way. */
static inline void
l4sum4(uint8_t *seg, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	size_t off = proto == 6 ? 16 : 6;
	uint16_t ck;

	put16(seg + off, 0);
	ck = (uint16_t)~fold(pseudo4(src, dst, proto, (uint32_t)len) + sum(0, seg, len));
	put16(seg + off, proto == 17 && ck == 0 ? 0xffff : ck);
}

static inline void
icmpsum(uint8_t *msg, size_t len)
{
	put16(msg + 2, 0);
	put16(msg + 2, (uint16_t)~fold(sum(0, msg, len)));
}

static inline size_t
tcp_seg(uint8_t *seg, uint32_t src, uint32_t dst)
{
	static const uint8_t hdr[20] = {
		0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0,
		0x50, 0x18, 0xfa, 0xf0, 0, 0, 0, 0,
	};

	memcpy(seg, hdr, 20);
	memcpy(seg + 20, "hello, world", 12);
	l4sum4(seg, 32, 6, src, dst);
	return 32;
}

static inline size_t
udp_dgram(uint8_t *seg, size_t datalen, uint32_t src, uint32_t dst, int zero_csum)
{
	put16(seg, 5353);
	put16(seg + 2, 53);
	put16(seg + 4, (uint16_t)(8 + datalen));
	for (size_t i = 0; i < datalen; i++)
		seg[8 + i] = (uint8_t)(i * 7 + 1);
	if (zero_csum)
		put16(seg + 6, 0);
	else
		l4sum4(seg, 8 + datalen, 17, src, dst);
	return 8 + datalen;
}

/* The IPv4 packet as e6_decode gives it back: ID/flags as given, no options. */
static inline size_t
expect4(uint8_t *out, const uint8_t *orig, uint16_t id, uint16_t frag)
{
	size_t hlen = (size_t)(orig[0] & 0x0f) * 4, total = get16(orig + 2);

	memcpy(out, orig, 20);
	memcpy(out + 20, orig + hlen, total - hlen);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)(total - hlen + 20));
	put16(out + 4, id);
	put16(out + 6, frag);
	put16(out + 10, 0);
	put16(out + 10, (uint16_t)~fold(sum(0, out, 20)));
	return total - hlen + 20;
}

/* ---- the independent IPv6 verifier ---- */

struct v6view {
	uint8_t tc, nh, hlim, proto;
	uint32_t flow;
	size_t plen, up;	/* up: offset of the upper layer */
	int frag;
	uint16_t fo;
	uint32_t fid;
};

static inline struct v6view
parse6(const uint8_t *p, size_t len)
{
	struct v6view v;

	memset(&v, 0, sizeof(v));
	assert_true(len >= 40);
	assert_int_equal(p[0] >> 4, 6);
	v.tc = (uint8_t)(get16(p) >> 4);
	v.flow = get32(p) & 0xfffff;
	v.plen = get16(p + 4);
	v.nh = p[6];
	v.hlim = p[7];
	assert_int_equal(v.plen + 40, len);
	v.proto = v.nh;
	v.up = 40;
	if (v.nh == 44) {
		v.frag = 1;
		v.proto = p[40];
		assert_int_equal(p[41], 0);
		v.fo = get16(p + 42);
		v.fid = get32(p + 44);
		v.up = 48;
	}
	return v;
}

/* Checks the transport checksum of a whole (unfragmented) IPv6 packet. */
static inline void
verify6(const uint8_t *p, size_t len)
{
	struct v6view v = parse6(p, len);
	size_t ulen = len - v.up;

	assert_false(v.frag);
	assert_true(v.proto == 6 || v.proto == 17 || v.proto == 58);
	if (v.proto == 17)
		assert_int_not_equal(get16(p + v.up + 6), 0);
	assert_int_equal(fold(pseudo6(p + 8, p + 24, v.proto, (uint32_t)ulen) +
	    sum(0, p + v.up, ulen)), 0xffff);
}

/* ---- running the translation ---- */

static inline size_t
enc(const uint8_t *v4, size_t len, uint8_t *out, enum e6_result want)
{
	struct cur c = cur_make(v4, len);
	struct wbuf w = wbuf_make(out, BUFSZ);
	enum e6_result r = e6_encode(&c, a6, b6, &w);

	assert_string_equal(e6_reason_name(r), e6_reason_name(want));
	if (r != E6_OK)
		assert_int_equal(w.len, 0);
	return w.len;
}

static inline size_t
dec(const uint8_t *v6, size_t len, uint8_t *out, enum e6_result want)
{
	struct cur c = cur_make(v6, len);
	struct wbuf w = wbuf_make(out, BUFSZ);
	struct e6_meta m;
	enum e6_result r = e6_decode(&c, &local, &w, &m);

	assert_string_equal(e6_reason_name(r), e6_reason_name(want));
	if (r != E6_OK) {
		assert_int_equal(w.len, 0);
		return 0;
	}
	assert_memory_equal(m.src6, v6 + 8, 16);
	assert_memory_equal(m.dst6, v6 + 24, 16);
	assert_memory_equal(m.src.prefix, remote.prefix, 16);
	assert_memory_equal(m.dst.prefix, local.prefix, 16);
	assert_true(m.src.slot == 7 && m.dst.slot == 9);
	assert_true(m.src.vnid == VNID && m.dst.vnid == VNID);
	assert_int_equal(m.src.ipv4, get32(v6 + 20));
	assert_int_equal(m.dst.ipv4, get32(v6 + 36));
	return w.len;
}

/* The fixed IPv6 header fields of a packet encoded from v4. */
static inline struct v6view
check_hdr6(const uint8_t *v6, size_t len, const uint8_t *v4)
{
	struct v6view v = parse6(v6, len);

	assert_int_equal(v.tc, v4[1]);
	assert_int_equal(v.flow, 0);
	assert_int_equal(v.hlim, v4[8]);
	assert_int_equal(v.proto, v4[9] == 1 ? 58 : v4[9]);
	assert_memory_equal(v6 + 8, a6, 16);
	assert_memory_equal(v6 + 24, b6, 16);
	return v;
}

/* ---- TCP and UDP ---- */

/* ---- decoder refusals: what e6_encode never produces ---- */

static inline void
reseal_icmp6(uint8_t *v6, size_t n6)
{
	put16(v6 + 42, 0);
	put16(v6 + 42, (uint16_t)~fold(pseudo6(v6 + 8, v6 + 24, 58, (uint32_t)(n6 - 40)) +
	    sum(0, v6 + 40, n6 - 40)));
}

static inline size_t
good_udp6(uint8_t *v6)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ];

	return enc(v4, mk4(v4, &s, seg, udp_dgram(seg, 12, A4, B4, 0)), v6, E6_OK);
}

static inline size_t
echo(uint8_t *msg, uint8_t type)
{
	msg[0] = type;
	msg[1] = 0;
	put16(msg + 4, 0x0777);	/* identifier */
	put16(msg + 6, 3);	/* sequence */
	memcpy(msg + 8, "abcdefghijklmnopqrstuvw", 23);
	icmpsum(msg, 31);
	return 31;
}

/*
 * An ICMPv4 error from A to B about a packet B sent to C (A being, say, a firewall VM on
 * the path). The quoted packet: a UDP datagram, DF as given, 8 bytes of payload quoted.
 */
static inline size_t
icmp_error(uint8_t *v4, uint8_t type, uint8_t code, uint32_t rest, uint16_t inner_frag,
    uint8_t inner_proto)
{
	struct v4spec in = {.ttl = 1, .proto = inner_proto, .id = 0x5150, .frag = inner_frag,
	    .src = B4, .dst = C4};
	struct v4spec out = {.tos = 0xc0, .ttl = 64, .proto = 1, .frag = 0x4000, .src = A4,
	    .dst = B4};
	uint8_t msg[256], quoted[64];
	size_t qn;

	memset(quoted, 0, sizeof(quoted));
	if (inner_proto == 1) {
		echo(quoted, 8);
	} else {
		put16(quoted, 33434);
		put16(quoted + 2, 33435);
		put16(quoted + 4, 100);
		put16(quoted + 6, 0xabcd);
	}
	msg[0] = type;
	msg[1] = code;
	put32(msg + 4, rest);
	qn = mk4(msg + 8, &in, quoted, 8);
	put16(msg + 10, 100 + 20);	/* quoted Total Length: the original, not what is quoted */
	put16(msg + 8 + 10, 0);
	put16(msg + 8 + 10, (uint16_t)~fold(sum(0, msg + 8, 20)));
	icmpsum(msg, 8 + qn);
	return mk4(v4, &out, msg, 8 + qn);
}

#endif
