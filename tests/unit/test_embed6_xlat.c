/*
 * Unit tests of src/lib/embed6_xlat.c and embed6_icmp.c: IPv4 -> IPv6 -> IPv4 round trips,
 * byte-exact except for what the translation is documented to change (each such change is
 * asserted on its own), with the IPv6 side's checksums verified by an independent verifier
 * written here, and every refusal reason provoked at least once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "embed6.h"

#define BUFSZ 2048

/* ---- independent helpers (no code shared with the module) ---- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t
sum(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t
fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint32_t
pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static uint32_t
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

static int
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
static size_t
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
static void
l4sum4(uint8_t *seg, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	size_t off = proto == 6 ? 16 : 6;
	uint16_t ck;

	put16(seg + off, 0);
	ck = (uint16_t)~fold(pseudo4(src, dst, proto, (uint32_t)len) + sum(0, seg, len));
	put16(seg + off, proto == 17 && ck == 0 ? 0xffff : ck);
}

static void
icmpsum(uint8_t *msg, size_t len)
{
	put16(msg + 2, 0);
	put16(msg + 2, (uint16_t)~fold(sum(0, msg, len)));
}

static size_t
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

static size_t
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
static size_t
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

static struct v6view
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
static void
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

static size_t
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

static size_t
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
static struct v6view
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

static size_t
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

/*
 * An ICMPv4 error from A to B about a packet B sent to C (A being, say, a firewall VM on
 * the path). The quoted packet: a UDP datagram, DF as given, 8 bytes of payload quoted.
 */
static size_t
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

/* ---- decoder refusals: what e6_encode never produces ---- */

static void
reseal_icmp6(uint8_t *v6, size_t n6)
{
	put16(v6 + 42, 0);
	put16(v6 + 42, (uint16_t)~fold(pseudo6(v6 + 8, v6 + 24, 58, (uint32_t)(n6 - 40)) +
	    sum(0, v6 + 40, n6 - 40)));
}

static size_t
good_udp6(uint8_t *v6)
{
	struct v4spec s = {.ttl = 64, .proto = 17, .frag = 0x4000, .src = A4, .dst = B4};
	uint8_t seg[64], v4[BUFSZ];

	return enc(v4, mk4(v4, &s, seg, udp_dgram(seg, 12, A4, B4, 0)), v6, E6_OK);
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
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_time_exceeded),
		cmocka_unit_test(test_icmp_quoted_df0),
		cmocka_unit_test(test_icmp_frag_needed),
		cmocka_unit_test(test_icmp_quoted_echo),
		cmocka_unit_test(test_icmp_code_mapping),
		cmocka_unit_test(test_icmp_refusals),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_decode_header_refusals),
		cmocka_unit_test(test_decode_frag_refusals),
		cmocka_unit_test(test_decode_icmp_refusals),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_reencode_stable),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
