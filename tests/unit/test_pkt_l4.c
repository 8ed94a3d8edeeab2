/*
 * Unit tests of the packet library's ICMP, UDP and TCP parsers, the L4 checksum helper, and
 * the ICMP builders (src/lib/pkt_l4.c, pkt_icmp.c). Vectors are byte-for-byte frames built
 * and checksummed by an independent script; builders are checked by parsing what they write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pkt.h"

#define VM_MAC 0x52, 0x54, 0x00, 0x12, 0x34, 0x56
#define RT_MAC 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01

static const uint8_t vm_mac[6] = {VM_MAC};
static const struct pkt_endpoint router = {{RT_MAC}, 0x0a000001};

/* Linux ping 10.0.0.5 -> 10.0.0.1: id 0x1234 seq 1, 56 data bytes, IP id 0xabcd, DF */
static const uint8_t icmp_echo[98] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0xab, 0xcd, 0x40, 0x00, 0x40, 0x01,
	0x7a, 0xd6, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x17, 0xa2, 0x12, 0x34, 0x00, 0x01, 0xb3, 0xa2, 0xf1, 0x65, 0x00, 0x00,
	0x00, 0x00, 0x5e, 0x4d, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
	0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
	0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
	0x36, 0x37,
};

/* the router 10.0.0.1 answering icmp_echo */
static const uint8_t icmp_echo_reply_expected[98] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0xab, 0xcd, 0x00, 0x00, 0x40, 0x01,
	0xba, 0xd6, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x05, 0x00, 0x00,
	0x1f, 0xa2, 0x12, 0x34, 0x00, 0x01, 0xb3, 0xa2, 0xf1, 0x65, 0x00, 0x00,
	0x00, 0x00, 0x5e, 0x4d, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
	0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
	0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
	0x36, 0x37,
};

/* DNS query 10.0.0.5:40000 -> 10.0.0.2:53 for www.example.com A */
static const uint8_t udp_dns[75] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3d, 0x42, 0x42, 0x40, 0x00, 0x40, 0x11,
	0xe4, 0x67, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40,
	0x00, 0x35, 0x00, 0x29, 0xe5, 0x98, 0x1f, 0x2b, 0x01, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00,
	0x01, 0x00, 0x01,
};

/* udp_small_padded without its link padding */
static const uint8_t udp_small_padded_ip_only[47] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11,
	0x26, 0xc5, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x88,
	0x17, 0x70, 0x00, 0x0d, 0x7d, 0x03, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* UDP "hi!" without a checksum (field 0), padded */
static const uint8_t udp_nocsum[60] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x1f, 0x00, 0x02, 0x40, 0x00, 0x40, 0x11,
	0x26, 0xc6, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x88,
	0x17, 0x70, 0x00, 0x0b, 0x00, 0x00, 0x68, 0x69, 0x21, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* SYN 10.0.0.5:51000 -> 192.0.2.10:443 with MSS, SACK-permitted, timestamps, wscale */
static const uint8_t tcp_syn[74] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x77, 0x77, 0x40, 0x00, 0x40, 0x06,
	0xf7, 0x35, 0x0a, 0x00, 0x00, 0x05, 0xc0, 0x00, 0x02, 0x0a, 0xc7, 0x38,
	0x01, 0xbb, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
	0xfa, 0xf0, 0x7f, 0x52, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
	0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03,
	0x03, 0x07,
};

/* PSH|ACK carrying "GET / HTTP/1.0" on the same connection */
static const uint8_t tcp_data[72] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3a, 0x77, 0x78, 0x40, 0x00, 0x40, 0x06,
	0xf7, 0x36, 0x0a, 0x00, 0x00, 0x05, 0xc0, 0x00, 0x02, 0x0a, 0xc7, 0x38,
	0x01, 0xbb, 0x1a, 0x2b, 0x3c, 0x4e, 0x55, 0x66, 0x77, 0x88, 0x50, 0x18,
	0x01, 0xf6, 0x16, 0xba, 0x00, 0x00, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20,
	0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};

/* first fragment (MF, offset 0, 24 bytes) of a 48-byte UDP datagram, IP id 0x5151 */
static const uint8_t frag_first[58] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2c, 0x51, 0x51, 0x20, 0x00, 0x40, 0x11,
	0xf5, 0x69, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x1b, 0x58,
	0x1b, 0x59, 0x00, 0x30, 0x32, 0x40, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
	0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
};

/* its last fragment (offset 24) */
static const uint8_t frag_second[58] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2c, 0x51, 0x51, 0x00, 0x03, 0x40, 0x11,
	0x15, 0x67, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x50, 0x51,
	0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d,
	0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
};

/* a VM reporting port unreachable about a DNS answer (an ICMP error) */
static const uint8_t icmp_port_unreach_in[70] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0xc0, 0x00, 0x38, 0x00, 0x09, 0x40, 0x00, 0x40, 0x01,
	0x25, 0xf6, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x03, 0x03,
	0x7a, 0xc5, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x3d, 0x00, 0x00,
	0x40, 0x00, 0x40, 0x11, 0x26, 0xaa, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00,
	0x00, 0x05, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x29, 0xe5, 0x98,
};

/* IGMPv2 report for 239.1.2.3 with a router alert option (IHL 6), TTL 1 */
static const uint8_t ip_ra_igmp[46] = {
	0x01, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02,
	0xe9, 0x0e, 0x0a, 0x00, 0x00, 0x05, 0xef, 0x01, 0x02, 0x03, 0x94, 0x04,
	0x00, 0x00, 0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03,
};


static void
frame_of(const uint8_t *frame, size_t len, struct pkt_ip4_frame *f)
{
	struct cur c = cur_make(frame, len);

	assert_int_equal(pkt_ip4_frame_parse(&c, 0, f), PKT_OK);
}

static size_t
copy_of(uint8_t *dst, size_t cap, const uint8_t *src, size_t n)
{
	assert_true(n <= cap);
	memcpy(dst, src, n);
	return n;
}

/* Parses a frame (one the test may have edited) down to ICMP. */
static enum pkt_result
icmp_of(const uint8_t *frame, size_t len, unsigned flags, struct pkt_ip4_frame *f,
    struct pkt_icmp *m)
{
	struct cur p;

	frame_of(frame, len, f);
	p = f->ip.payload;
	return pkt_icmp_parse(&p, &f->ip, flags, m);
}

static enum pkt_result
udp_of(const uint8_t *frame, size_t len, unsigned flags, struct pkt_udp *u)
{
	struct pkt_ip4_frame f;
	struct cur p;

	frame_of(frame, len, &f);
	p = f.ip.payload;
	return pkt_udp_parse(&p, &f.ip, flags, u);
}

static enum pkt_result
tcp_of(const uint8_t *frame, size_t len, unsigned flags, struct pkt_tcp *t)
{
	struct pkt_ip4_frame f;
	struct cur p;

	frame_of(frame, len, &f);
	p = f.ip.payload;
	return pkt_tcp_parse(&p, &f.ip, flags, t);
}

/* Sets a 16-bit field of a frame copy and keeps its IPv4 header checksum right. */
static void
set16(uint8_t *frame, size_t len, size_t off, uint16_t v)
{
	struct wbuf w = wbuf_make(frame, len);

	w.len = len;
	assert_int_equal(pkt_wbuf_put16(&w, off, v), 0);
	assert_int_equal(pkt_ip4_hdr_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
}

/* ---- ICMP ---- */

static void
test_icmp_echo_parse(void **state)
{
	struct pkt_ip4_frame f;
	struct pkt_icmp m;

	(void)state;
	assert_int_equal(icmp_of(icmp_echo, sizeof(icmp_echo), 0, &f, &m), PKT_OK);
	assert_int_equal(m.type, PKT_ICMP_ECHO);
	assert_int_equal(m.code, 0);
	assert_int_equal(m.csum, icmp_echo[36] << 8 | icmp_echo[37]);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.rest, 0x12340001);
	assert_int_equal(m.partial, 0);
	assert_int_equal(cur_left(&m.payload), 56);
	cur_skip(&m.payload, 16);
	assert_int_equal(cur_u8(&m.payload), 0x10);
}

static void
test_icmp_error_parse(void **state)
{
	struct pkt_ip4_frame f;
	struct pkt_icmp m;
	struct pkt_ip4 inner;

	(void)state;
	assert_int_equal(icmp_of(icmp_port_unreach_in, sizeof(icmp_port_unreach_in), 0, &f, &m),
	    PKT_OK);
	assert_int_equal(m.type, PKT_ICMP_UNREACH);
	assert_int_equal(m.code, PKT_UNREACH_PORT);
	assert_int_equal(m.rest, 0);
	assert_int_equal(cur_left(&m.payload), 28);
	/* The quoted header is cut short of its total length: the IPv4 parser says so. */
	assert_int_equal(pkt_ip4_parse(&m.payload, 0, &inner), PKT_BAD_TOTLEN);
}

static void
test_icmp_refusals(void **state)
{
	uint8_t fr[128];
	size_t n = copy_of(fr, sizeof(fr), icmp_echo, sizeof(icmp_echo));
	struct pkt_ip4_frame f;
	struct pkt_icmp m;

	(void)state;
	fr[40] ^= 0x80; /* a data byte: only the ICMP checksum notices */
	assert_int_equal(icmp_of(fr, n, 0, &f, &m), PKT_BAD_CSUM);
	assert_int_equal(icmp_of(fr, n, PKT_CSUM_SKIP, &f, &m), PKT_OK);
	/* Truncated: shrink the IP total length so every prefix of the header is tried. */
	for (uint16_t l = 0; l < 8; l++) {
		n = copy_of(fr, sizeof(fr), icmp_echo, sizeof(icmp_echo));
		set16(fr, n, 16, (uint16_t)(20 + l));
		assert_int_equal(icmp_of(fr, n, 0, &f, &m), PKT_TRUNCATED);
	}
}

/* ---- UDP ---- */

static void
test_udp_parse(void **state)
{
	struct pkt_udp u;

	(void)state;
	assert_int_equal(udp_of(udp_dns, sizeof(udp_dns), 0, &u), PKT_OK);
	assert_int_equal(u.sport, 40000);
	assert_int_equal(u.dport, 53);
	assert_int_equal(u.len, 41);
	assert_int_equal(u.csum, udp_dns[40] << 8 | udp_dns[41]);
	assert_int_equal(u.partial, 0);
	assert_int_equal(cur_left(&u.payload), 33);
	assert_int_equal(cur_u16(&u.payload), 0x1f2b); /* the DNS id */

	assert_int_equal(udp_of(udp_nocsum, sizeof(udp_nocsum), 0, &u), PKT_OK);
	assert_int_equal(u.csum, 0);
	assert_int_equal(u.len, 11);
	assert_int_equal(cur_left(&u.payload), 3);
	assert_int_equal(cur_u8(&u.payload), 'h');
}

static void
test_udp_refusals(void **state)
{
	uint8_t fr[128];
	size_t n;
	struct pkt_udp u;

	(void)state;
	n = copy_of(fr, sizeof(fr), udp_dns, sizeof(udp_dns));
	fr[n - 1] ^= 1;
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_BAD_CSUM);
	assert_int_equal(udp_of(fr, n, PKT_CSUM_SKIP, &u), PKT_OK);
	/* No checksum, no check: corrupting data is not noticed. */
	n = copy_of(fr, sizeof(fr), udp_nocsum, sizeof(udp_nocsum));
	fr[42] = 'H';
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_OK);
	/* Lengths below 8 and past the IP payload. */
	for (uint16_t len = 0; len < 8; len++) {
		n = copy_of(fr, sizeof(fr), udp_nocsum, sizeof(udp_nocsum));
		set16(fr, n, 38, len);
		assert_int_equal(udp_of(fr, n, 0, &u), PKT_BAD_LENGTH);
	}
	n = copy_of(fr, sizeof(fr), udp_nocsum, sizeof(udp_nocsum));
	set16(fr, n, 38, 12);
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_BAD_LENGTH);
	/* Shorter than the IP payload: the extra bytes are not UDP payload. */
	set16(fr, n, 38, 9);
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_OK);
	assert_int_equal(cur_left(&u.payload), 1);
	for (uint16_t l = 0; l < 8; l++) {
		n = copy_of(fr, sizeof(fr), udp_dns, sizeof(udp_dns));
		set16(fr, n, 16, (uint16_t)(20 + l));
		assert_int_equal(udp_of(fr, n, 0, &u), PKT_TRUNCATED);
	}
}

static void
test_udp_fragments(void **state)
{
	struct pkt_udp u;

	(void)state;
	assert_int_equal(udp_of(frag_first, sizeof(frag_first), 0, &u), PKT_OK);
	assert_int_equal(u.partial, 1);
	assert_int_equal(u.sport, 7000);
	assert_int_equal(u.dport, 7001);
	assert_int_equal(u.len, 48);
	assert_int_equal(cur_left(&u.payload), 16);
	assert_int_equal(cur_u8(&u.payload), 0x40);
	assert_int_equal(udp_of(frag_second, sizeof(frag_second), 0, &u), PKT_FRAGMENT);
}

/* ---- TCP ---- */

static void
test_tcp_parse(void **state)
{
	struct pkt_tcp t;

	(void)state;
	assert_int_equal(tcp_of(tcp_syn, sizeof(tcp_syn), 0, &t), PKT_OK);
	assert_int_equal(t.sport, 51000);
	assert_int_equal(t.dport, 443);
	assert_int_equal(t.seq, 0x1a2b3c4d);
	assert_int_equal(t.ack, 0);
	assert_int_equal(t.doff, 40);
	assert_int_equal(t.flags, PKT_TCP_SYN);
	assert_int_equal(t.window, 64240);
	assert_int_equal(t.csum, tcp_syn[50] << 8 | tcp_syn[51]);
	assert_int_equal(t.urg, 0);
	assert_int_equal(t.partial, 0);
	assert_int_equal(cur_left(&t.options), 20);
	assert_int_equal(cur_u32(&t.options), 0x020405b4); /* MSS 1460 */
	assert_int_equal(cur_left(&t.payload), 0);

	assert_int_equal(tcp_of(tcp_data, sizeof(tcp_data), 0, &t), PKT_OK);
	assert_int_equal(t.flags, PKT_TCP_PSH | PKT_TCP_ACK);
	assert_int_equal(t.seq, 0x1a2b3c4e);
	assert_int_equal(t.ack, 0x55667788);
	assert_int_equal(t.doff, 20);
	assert_int_equal(t.window, 502);
	assert_int_equal(cur_left(&t.options), 0);
	assert_int_equal(cur_left(&t.payload), 18);
	assert_int_equal(cur_u32(&t.payload), 0x47455420); /* "GET " */
}

static void
test_tcp_refusals(void **state)
{
	uint8_t fr[128];
	size_t n;
	struct pkt_tcp t;

	(void)state;
	n = copy_of(fr, sizeof(fr), tcp_data, sizeof(tcp_data));
	fr[n - 1] ^= 0x20;
	assert_int_equal(tcp_of(fr, n, 0, &t), PKT_BAD_CSUM);
	assert_int_equal(tcp_of(fr, n, PKT_CSUM_SKIP, &t), PKT_OK);
	/* Data offsets below 5 words, and past the segment (data offset 15 = 60 bytes). */
	for (uint8_t doff = 0; doff < 5; doff++) {
		n = copy_of(fr, sizeof(fr), tcp_syn, sizeof(tcp_syn));
		fr[46] = (uint8_t)(doff << 4);
		assert_int_equal(tcp_of(fr, n, PKT_CSUM_SKIP, &t), PKT_BAD_DOFF);
	}
	fr[46] = 0xf0;
	assert_int_equal(tcp_of(fr, n, PKT_CSUM_SKIP, &t), PKT_BAD_DOFF);
	fr[46] = 0xa0;
	assert_int_equal(tcp_of(fr, n, 0, &t), PKT_OK);
	for (uint16_t l = 0; l < 20; l++) {
		n = copy_of(fr, sizeof(fr), tcp_syn, sizeof(tcp_syn));
		set16(fr, n, 16, (uint16_t)(20 + l));
		assert_int_equal(tcp_of(fr, n, 0, &t), PKT_TRUNCATED);
	}
	/* RFC 1858's tiny first fragment: the header runs into the next fragment. */
	n = copy_of(fr, sizeof(fr), tcp_syn, sizeof(tcp_syn));
	set16(fr, n, 16, 20 + 24);
	set16(fr, n, 20, 0x2000);
	assert_int_equal(tcp_of(fr, n, 0, &t), PKT_BAD_DOFF);
	set16(fr, n, 20, 0x2003);
	assert_int_equal(tcp_of(fr, n, 0, &t), PKT_FRAGMENT);
}

/* ---- recomputing L4 checksums ---- */

static void
csum_fill_restores(const uint8_t *frame, size_t len, size_t field)
{
	uint8_t fr[128];
	size_t n = copy_of(fr, sizeof(fr), frame, len);
	struct wbuf w = wbuf_make(fr, n);

	w.len = n;
	fr[field] = 0xde;
	fr[field + 1] = 0xad;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	assert_memory_equal(fr, frame, len);
}

static void
test_l4_csum_fill(void **state)
{
	uint8_t fr[128];
	size_t n;
	struct wbuf w;
	struct pkt_udp u;
	uint16_t c;

	(void)state;
	csum_fill_restores(icmp_echo, sizeof(icmp_echo), 36);
	csum_fill_restores(udp_dns, sizeof(udp_dns), 40);
	csum_fill_restores(tcp_syn, sizeof(tcp_syn), 50);
	csum_fill_restores(tcp_data, sizeof(tcp_data), 50);
	/* A UDP sum of zero goes on the wire as 0xffff, since 0 means "no checksum". Adding
	 * the current checksum into a payload word makes the new one come out zero. */
	n = copy_of(fr, sizeof(fr), udp_dns, sizeof(udp_dns));
	w = wbuf_make(fr, n);
	w.len = n;
	c = (uint16_t)(fr[40] << 8 | fr[41]);
	{
		uint32_t word = (uint32_t)(fr[42] << 8 | fr[43]) + c;

		word = (word & 0xffff) + (word >> 16);
		pkt_wbuf_put16(&w, 42, (uint16_t)word);
	}
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	assert_int_equal(fr[40] << 8 | fr[41], 0xffff);
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_OK);
	/* Fragments, other protocols, short segments, and nothing there at all. */
	n = copy_of(fr, sizeof(fr), frag_first, sizeof(frag_first));
	w = wbuf_make(fr, n);
	w.len = n;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_FRAGMENT);
	n = copy_of(fr, sizeof(fr), ip_ra_igmp, sizeof(ip_ra_igmp));
	w = wbuf_make(fr, n);
	w.len = n;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_UNSUPPORTED);
	n = copy_of(fr, sizeof(fr), tcp_syn, sizeof(tcp_syn));
	set16(fr, n, 16, 20 + 17);
	w = wbuf_make(fr, n);
	w.len = n;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_TRUNCATED);
	assert_memory_equal(fr + 34, tcp_syn + 34, 20);
	w.len = 10;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_TRUNCATED);
	/* UDP is summed over its own length, which must make sense. */
	n = copy_of(fr, sizeof(fr), udp_small_padded_ip_only, sizeof(udp_small_padded_ip_only));
	w = wbuf_make(fr, n);
	w.len = n;
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	assert_memory_equal(fr, udp_small_padded_ip_only, n);
	set16(fr, n, 38, 7);
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_BAD_LENGTH);
	set16(fr, n, 38, 14);
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_BAD_LENGTH);
	set16(fr, n, 38, 9);
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	assert_int_equal(udp_of(fr, n, 0, &u), PKT_OK);
	assert_int_equal(cur_left(&u.payload), 1);
}

/* ---- ICMP builders ---- */

static void
test_echo_reply(void **state)
{
	uint8_t buf[256];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct pkt_ip4_frame f, rf;
	struct pkt_icmp m, rm;

	(void)state;
	assert_int_equal(icmp_of(icmp_echo, sizeof(icmp_echo), 0, &f, &m), PKT_OK);
	assert_int_equal(pkt_icmp_echo_reply(&w, &f, &m, &router), PKT_OK);
	assert_int_equal(w.len, sizeof(icmp_echo_reply_expected));
	assert_memory_equal(buf, icmp_echo_reply_expected, w.len);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &rm), PKT_OK);
	assert_int_equal(rm.type, PKT_ICMP_ECHO_REPLY);
	assert_int_equal(rm.rest, m.rest);
	/* DSCP is kept, ECN is not. */
	{
		uint8_t fr[128];
		size_t n = copy_of(fr, sizeof(fr), icmp_echo, sizeof(icmp_echo));

		set16(fr, n, 14, 0x45bb);
		assert_int_equal(icmp_of(fr, n, 0, &f, &m), PKT_OK);
		w.len = 0;
		assert_int_equal(pkt_icmp_echo_reply(&w, &f, &m, &router), PKT_OK);
		assert_int_equal(icmp_of(buf, w.len, 0, &rf, &rm), PKT_OK);
		assert_int_equal(rf.ip.tos, 0xb8);
		assert_int_equal(icmp_of(icmp_echo, sizeof(icmp_echo), 0, &f, &m), PKT_OK);
	}

	/* Only echo requests, only whole ones, only when they fit. */
	w.len = 0;
	assert_int_equal(pkt_icmp_echo_reply(&w, &rf, &rm, &router), PKT_UNSUPPORTED);
	m.partial = 1;
	assert_int_equal(pkt_icmp_echo_reply(&w, &f, &m, &router), PKT_FRAGMENT);
	m.partial = 0;
	for (size_t cap = 0; cap < sizeof(icmp_echo_reply_expected); cap++) {
		w = wbuf_make(buf, cap);
		assert_int_equal(pkt_icmp_echo_reply(&w, &f, &m, &router), PKT_NO_SPACE);
		assert_int_equal(w.len, 0);
		assert_int_equal(w.failed, 0);
	}
}

/* Builds an error about frame and checks what every error must be. */
static void
check_error(const uint8_t *frame, size_t len, uint8_t type, uint8_t code, uint32_t rest,
    size_t quoted)
{
	uint8_t buf[1600];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct pkt_ip4_frame f, rf;
	struct pkt_icmp m;
	struct cur q;

	frame_of(frame, len, &f);
	assert_int_equal(pkt_icmp_error(&w, &f, type, code, rest, &router), PKT_OK);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &m), PKT_OK);
	assert_memory_equal(rf.eth.dst, f.eth.src, 6);
	assert_memory_equal(rf.eth.src, router.mac, 6);
	assert_int_equal(rf.ip.src, router.ip);
	assert_int_equal(rf.ip.dst, f.ip.src);
	assert_int_equal(rf.ip.ttl, PKT_TTL_DEFAULT);
	assert_int_equal(rf.ip.tos, 0xc0);
	assert_int_equal(rf.ip.proto, PKT_IPPROTO_ICMP);
	assert_true(rf.ip.totlen <= PKT_ICMP_ERR_MAX);
	assert_int_equal(m.type, type);
	assert_int_equal(m.code, code);
	assert_int_equal(m.rest, rest);
	assert_int_equal(cur_left(&m.payload), quoted);
	q = cur_make(frame + PKT_ETH_HLEN, quoted);
	assert_memory_equal(cur_rest(&m.payload), cur_rest(&q), quoted);
}

static void
test_icmp_errors(void **state)
{
	(void)state;
	/* Small datagrams are quoted whole (RFC 1812 allows up to 576 bytes in all). */
	check_error(udp_dns, sizeof(udp_dns), PKT_ICMP_TIME_EXCEEDED, 0, 0, 61);
	check_error(tcp_syn, sizeof(tcp_syn), PKT_ICMP_UNREACH, PKT_UNREACH_HOST, 0, 60);
	check_error(icmp_echo, sizeof(icmp_echo), PKT_ICMP_UNREACH, PKT_UNREACH_NET, 0, 84);
	check_error(frag_first, sizeof(frag_first), PKT_ICMP_UNREACH, PKT_UNREACH_FRAG_NEEDED,
	    1400, 44);
}

static void
test_icmp_error_wrappers(void **state)
{
	uint8_t buf[700];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct pkt_ip4_frame f, rf;
	struct pkt_icmp m;

	(void)state;
	frame_of(udp_dns, sizeof(udp_dns), &f);
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_OK);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &m), PKT_OK);
	assert_int_equal(m.type, 11);
	assert_int_equal(m.code, 0);
	w.len = 0;
	assert_int_equal(pkt_icmp_unreach(&w, &f, PKT_UNREACH_PORT, &router), PKT_OK);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &m), PKT_OK);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.code, 3);
	w.len = 0;
	assert_int_equal(pkt_icmp_frag_needed(&w, &f, 1280, &router), PKT_OK);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &m), PKT_OK);
	assert_int_equal(m.code, 4);
	assert_int_equal(m.seq, 1280); /* RFC 1191: next-hop MTU in the low 16 bits */
	assert_int_equal(m.id, 0);
	/* Short of room: nothing written. */
	w = wbuf_make(buf, 60);
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_NO_SPACE);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.failed, 0);
}

/* A 1500-byte datagram: the error quotes only as much as keeps it within 576 bytes. */
static void
test_icmp_error_quote_limit(void **state)
{
	uint8_t big[1514], buf[1600];
	struct wbuf w = wbuf_make(big, sizeof(big));
	const struct pkt_ip4 h = {.totlen = 1500, .id = 77, .ttl = 1, .proto = PKT_IPPROTO_UDP,
	    .src = 0x0a000005, .dst = 0xc0000201};
	struct pkt_ip4_frame f, rf;
	struct pkt_icmp m;

	(void)state;
	assert_int_equal(pkt_eth_write(&w, router.mac, vm_mac, PKT_ETHERTYPE_IPV4), PKT_OK);
	assert_int_equal(pkt_ip4_write(&w, &h), PKT_OK);
	wbuf_u16(&w, 33434);
	wbuf_u16(&w, 33435);
	wbuf_u16(&w, 1480);
	wbuf_u16(&w, 0);
	for (int i = 0; i < 1472; i++)
		wbuf_u8(&w, (uint8_t)i);
	assert_int_equal(w.len, sizeof(big));
	assert_int_equal(pkt_ip4_l4_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	frame_of(big, sizeof(big), &f);
	w = wbuf_make(buf, sizeof(buf));
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_OK);
	assert_int_equal(w.len, 14 + 576);
	assert_int_equal(icmp_of(buf, w.len, 0, &rf, &m), PKT_OK);
	assert_int_equal(rf.ip.totlen, 576);
	assert_int_equal(rf.ip.id, 77);
	assert_int_equal(cur_left(&m.payload), 548);
	assert_memory_equal(cur_rest(&m.payload), big + 14, 548);
}

static void
test_icmp_error_suppressed(void **state)
{
	uint8_t buf[700], fr[128];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct pkt_ip4_frame f;
	size_t n;

	(void)state;
	frame_of(icmp_port_unreach_in, sizeof(icmp_port_unreach_in), &f);
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_SUPPRESS_ICMP);
	frame_of(frag_second, sizeof(frag_second), &f);
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_SUPPRESS_FRAG);
	frame_of(ip_ra_igmp, sizeof(ip_ra_igmp), &f); /* to a multicast group */
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_SUPPRESS_ADDR);
	assert_int_equal(w.len, 0);

	/* Sources naming no single host; a link broadcast; the limited broadcast. */
	static const struct {
		size_t off;
		uint16_t val;
	} edits[] = {
		{26, 0x0000}, {26, 0x7f00}, {26, 0xe000}, {26, 0xf000}, {26, 0xffff},
		{30, 0xffff}, {30, 0xe000}, {0, 0xffff},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		n = copy_of(fr, sizeof(fr), udp_dns, sizeof(udp_dns));
		set16(fr, n, edits[i].off, edits[i].val);
		if (edits[i].off == 0)
			fr[0] = 0x01; /* group bit of the destination MAC */
		frame_of(fr, n, &f);
		assert_int_equal(pkt_icmp_unreach(&w, &f, PKT_UNREACH_HOST, &router),
		    PKT_SUPPRESS_ADDR);
	}
	/* ICMP queries get errors; errors and unknown types do not. */
	n = copy_of(fr, sizeof(fr), icmp_echo, sizeof(icmp_echo));
	for (int type = 0; type < 256; type++) {
		int query = type == 0 || type == 8 ||
		    (type >= 13 && type <= 18);

		fr[34] = (uint8_t)type;
		frame_of(fr, n, &f);
		w.len = 0;
		assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router),
		    query ? PKT_OK : PKT_SUPPRESS_ICMP);
	}
	/* An ICMP datagram too short to show its type is not answered either. */
	n = copy_of(fr, sizeof(fr), icmp_echo, sizeof(icmp_echo));
	set16(fr, n, 16, 20);
	frame_of(fr, n, &f);
	assert_int_equal(pkt_icmp_time_exceeded(&w, &f, &router), PKT_SUPPRESS_ICMP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_echo_parse),
		cmocka_unit_test(test_icmp_error_parse),
		cmocka_unit_test(test_icmp_refusals),
		cmocka_unit_test(test_udp_parse),
		cmocka_unit_test(test_udp_refusals),
		cmocka_unit_test(test_udp_fragments),
		cmocka_unit_test(test_tcp_parse),
		cmocka_unit_test(test_tcp_refusals),
		cmocka_unit_test(test_l4_csum_fill),
		cmocka_unit_test(test_echo_reply),
		cmocka_unit_test(test_icmp_errors),
		cmocka_unit_test(test_icmp_error_wrappers),
		cmocka_unit_test(test_icmp_error_quote_limit),
		cmocka_unit_test(test_icmp_error_suppressed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
