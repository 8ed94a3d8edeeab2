/*
 * Unit tests of the packet library's link layer, IPv4 layer and checksums (src/lib/pkt.c,
 * pkt_csum.c, pkt_eth.c, pkt_ip4.c). Frames are byte vectors as a capture would show them,
 * built and checksummed by an independent script rather than by the code under test.
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
static const uint8_t rt_mac[6] = {RT_MAC};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

/* who-has 10.0.0.1 tell 10.0.0.5, broadcast, padded to 60 bytes */
static const uint8_t arp_request[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* 10.0.0.1 is-at 02:00:0a:00:00:01, to the requester of arp_request */
static const uint8_t arp_reply_expected[42] = {
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12,
	0x34, 0x56, 0x0a, 0x00, 0x00, 0x05,
};

/* gratuitous request: 10.0.0.7 announces itself (spa == tpa) */
static const uint8_t arp_garp_request[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* unsolicited reply: 10.0.0.9 is-at 52:54:00:12:34:56, tha broadcast */
static const uint8_t arp_garp_reply[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x09, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* RFC 5227 probe for 10.0.0.5 (spa 0.0.0.0) */
static const uint8_t arp_probe[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* an ordinary reply 10.0.0.5 is-at 52:54:00:12:34:56 to 10.0.0.1 */
static const uint8_t arp_reply[60] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x05, 0x02, 0x00, 0x0a, 0x00,
	0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* arp_request with an 802.1Q tag, PCP 1 VID 100 */
static const uint8_t arp_vlan[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x81, 0x00, 0x20, 0x64, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
	0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x05,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

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

/* UDP 10.0.0.5:5000 -> 10.0.0.2:6000 "hello": 47 bytes padded to 60 */
static const uint8_t udp_small_padded[60] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11,
	0x26, 0xc5, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x88,
	0x17, 0x70, 0x00, 0x0d, 0x7d, 0x03, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* IGMPv2 report for 239.1.2.3 with a router alert option (IHL 6), TTL 1 */
static const uint8_t ip_ra_igmp[46] = {
	0x01, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02,
	0xe9, 0x0e, 0x0a, 0x00, 0x00, 0x05, 0xef, 0x01, 0x02, 0x03, 0x94, 0x04,
	0x00, 0x00, 0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03,
};

/* UDP with a loose source route option through 192.0.2.1 */
static const uint8_t ip_lsrr[52] = {
	0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00, 0x47, 0x00, 0x00, 0x26, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0x9b, 0xf7, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x02, 0x83, 0x07,
	0x04, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x0a,
	0x73, 0x57, 0x78, 0x79,
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


/* A writable copy of a vector, so tests can corrupt one field at a time. */
static size_t
copy_of(uint8_t *dst, size_t cap, const uint8_t *src, size_t n)
{
	assert_true(n <= cap);
	memcpy(dst, src, n);
	return n;
}

/* Refreshes the IPv4 header checksum of a frame after a test edited the header. */
static void
fix_ip_csum(uint8_t *frame, size_t len)
{
	struct wbuf w = wbuf_make(frame, len);

	w.len = len;
	assert_int_equal(pkt_ip4_hdr_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
}

static enum pkt_result
parse_ip(const uint8_t *frame, size_t len, unsigned flags, struct pkt_ip4 *ip)
{
	struct cur c = cur_make(frame + PKT_ETH_HLEN, len - PKT_ETH_HLEN);

	return pkt_ip4_parse(&c, flags, ip);
}

/* ---- checksums ---- */

static void
test_csum_rfc1071(void **state)
{
	/* The worked example of RFC 1071 section 3. */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	static const uint8_t odd[] = {0x01, 0x02, 0x03};

	(void)state;
	assert_int_equal(csum_sum(0, cur_make(b, sizeof(b))), 0xddf2);
	assert_int_equal(csum_fold(csum_sum(0, cur_make(b, sizeof(b)))), 0x220d);
	/* Summed in even pieces, the same total. */
	assert_int_equal(csum_sum(csum_sum(0, cur_make(b, 2)), cur_make(b + 2, 6)), 0xddf2);
	assert_int_equal(csum_sum(0, cur_make(odd, sizeof(odd))), 0x0402);
	assert_int_equal(csum_sum(0, cur_make(NULL, 0)), 0);
	assert_int_equal(csum_fold(0xffff), 0);
	assert_int_equal(csum_fold(0x1fffe), 0); /* carries fold back in */
	assert_int_equal(csum_pseudo4(0x0a000005, 0x0a000002, 17, 8), 0x1420);
}

static void
test_csum_cursor_untouched(void **state)
{
	static const uint8_t b[] = {1, 2, 3, 4, 5};
	struct cur c = cur_make(b, sizeof(b)), failed = cur_make(b, sizeof(b));

	(void)state;
	csum_sum(0, c);
	assert_int_equal(cur_left(&c), 5);
	cur_skip(&failed, 6);
	assert_int_equal(csum_sum(7, failed), 7); /* a failed view adds nothing */
}

static void
test_csum_update_rfc1624(void **state)
{
	(void)state;
	/* RFC 1624 section 4: m 0x5555 -> 0x3285 with HC 0xdd2f gives 0x0000, not -0. */
	assert_int_equal(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

/* Incremental updates agree with recomputing, over many pseudo-random headers. */
static void
test_csum_update_random(void **state)
{
	uint32_t seed = 12345;
	uint8_t h[20];

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint16_t old16, new16, before, after;
		uint32_t old32, new32;

		for (size_t i = 0; i < sizeof(h); i++) {
			seed = seed * 1103515245 + 12345;
			h[i] = (uint8_t)(seed >> 16);
		}
		h[10] = h[11] = 0;
		before = csum_fold(csum_sum(0, cur_make(h, sizeof(h))));
		old16 = (uint16_t)(h[8] << 8 | h[9]);
		new16 = (uint16_t)(old16 + round);
		h[8] = (uint8_t)(new16 >> 8);
		h[9] = (uint8_t)new16;
		after = csum_fold(csum_sum(0, cur_make(h, sizeof(h))));
		assert_int_equal(csum_update16(before, old16, new16), after);
		old32 = (uint32_t)h[12] << 24 | (uint32_t)h[13] << 16 | (uint32_t)h[14] << 8 |
		    h[15];
		new32 = old32 ^ seed;
		before = after;
		h[12] = (uint8_t)(new32 >> 24);
		h[13] = (uint8_t)(new32 >> 16);
		h[14] = (uint8_t)(new32 >> 8);
		h[15] = (uint8_t)new32;
		after = csum_fold(csum_sum(0, cur_make(h, sizeof(h))));
		assert_int_equal(csum_update32(before, old32, new32), after);
	}
}

/* ---- Ethernet and ARP ---- */

static void
test_eth_arp_request(void **state)
{
	struct cur c = cur_make(arp_request, sizeof(arp_request));
	struct pkt_eth e;
	struct pkt_arp a;

	(void)state;
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_OK);
	assert_memory_equal(e.dst, bcast_mac, 6);
	assert_memory_equal(e.src, vm_mac, 6);
	assert_int_equal(e.type, PKT_ETHERTYPE_ARP);
	assert_int_equal(e.tagged, 0);
	assert_int_equal(e.tci, 0);
	assert_int_equal(e.hlen, 14);
	assert_int_equal(cur_left(&e.payload), 46);
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(pkt_arp_parse(&e.payload, &a), PKT_OK);
	assert_int_equal(a.op, PKT_ARP_REQUEST);
	assert_memory_equal(a.sha, vm_mac, 6);
	assert_int_equal(a.spa, 0x0a000005);
	assert_memory_equal(a.tha, zero_mac, 6);
	assert_int_equal(a.tpa, 0x0a000001);
	assert_int_equal(a.gratuitous, 0);
	assert_int_equal(a.probe, 0);
	assert_int_equal(cur_left(&e.payload), 18); /* the link padding stays unread */
}

static void
parse_arp(const uint8_t *frame, size_t len, struct pkt_arp *a)
{
	struct cur c = cur_make(frame, len);
	struct pkt_eth e;

	assert_int_equal(pkt_eth_parse(&c, &e), PKT_OK);
	assert_int_equal(pkt_arp_parse(&e.payload, a), PKT_OK);
}

static void
test_arp_kinds(void **state)
{
	struct pkt_arp a;

	(void)state;
	parse_arp(arp_garp_request, sizeof(arp_garp_request), &a);
	assert_int_equal(a.op, PKT_ARP_REQUEST);
	assert_int_equal(a.spa, 0x0a000007);
	assert_int_equal(a.tpa, 0x0a000007);
	assert_int_equal(a.gratuitous, 1);
	assert_int_equal(a.probe, 0);

	parse_arp(arp_garp_reply, sizeof(arp_garp_reply), &a);
	assert_int_equal(a.op, PKT_ARP_REPLY);
	assert_int_equal(a.spa, 0x0a000009);
	assert_memory_equal(a.tha, bcast_mac, 6);
	assert_int_equal(a.gratuitous, 1);

	parse_arp(arp_probe, sizeof(arp_probe), &a);
	assert_int_equal(a.spa, 0);
	assert_int_equal(a.tpa, 0x0a000005);
	assert_int_equal(a.probe, 1);
	assert_int_equal(a.gratuitous, 0);

	parse_arp(arp_reply, sizeof(arp_reply), &a);
	assert_int_equal(a.op, PKT_ARP_REPLY);
	assert_memory_equal(a.tha, rt_mac, 6);
	assert_int_equal(a.tpa, 0x0a000001);
	assert_int_equal(a.gratuitous, 0);
	assert_int_equal(a.probe, 0);
}

static void
test_eth_vlan(void **state)
{
	struct cur c = cur_make(arp_vlan, sizeof(arp_vlan));
	struct pkt_eth e;
	struct pkt_ip4_frame f;
	struct pkt_arp a;

	(void)state;
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_OK);
	assert_int_equal(e.tagged, 1);
	assert_int_equal(e.tci, 0x2064);
	assert_int_equal(e.tci & 0x0fff, 100);
	assert_int_equal(e.type, PKT_ETHERTYPE_ARP);
	assert_int_equal(e.hlen, 18);
	assert_int_equal(cur_left(&e.payload), 42);
	assert_int_equal(pkt_arp_parse(&e.payload, &a), PKT_OK);
	assert_int_equal(a.tpa, 0x0a000001);
	c = cur_make(arp_vlan, sizeof(arp_vlan));
	assert_int_equal(pkt_ip4_frame_parse(&c, 0, &f), PKT_VLAN_TAGGED);
}

static void
test_eth_refusals(void **state)
{
	uint8_t f[64];
	struct pkt_eth e;
	struct cur c;

	(void)state;
	for (size_t n = 0; n < 14; n++) {
		c = cur_make(arp_request, n);
		assert_int_equal(pkt_eth_parse(&c, &e), PKT_TRUNCATED);
	}
	for (size_t n = 14; n < 18; n++) {
		c = cur_make(arp_vlan, n);
		assert_int_equal(pkt_eth_parse(&c, &e), PKT_TRUNCATED);
	}
	/* An 802.3 length field, an S-tag, and a second C-tag. */
	copy_of(f, sizeof(f), arp_request, sizeof(arp_request));
	f[12] = 0x05;
	f[13] = 0xdc;
	c = cur_make(f, 60);
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_UNSUPPORTED);
	f[12] = 0x88;
	f[13] = 0xa8;
	c = cur_make(f, 60);
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_UNSUPPORTED);
	copy_of(f, sizeof(f), arp_vlan, sizeof(arp_vlan));
	f[16] = 0x81;
	f[17] = 0x00;
	c = cur_make(f, 60);
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_UNSUPPORTED);
	/* An IPv6 frame is fine for Ethernet but not for the IPv4 frame parser. */
	copy_of(f, sizeof(f), arp_request, sizeof(arp_request));
	f[12] = 0x86;
	f[13] = 0xdd;
	c = cur_make(f, 60);
	assert_int_equal(pkt_eth_parse(&c, &e), PKT_OK);
	assert_int_equal(e.type, PKT_ETHERTYPE_IPV6);
	c = cur_make(f, 60);
	{
		struct pkt_ip4_frame fr;

		assert_int_equal(pkt_ip4_frame_parse(&c, 0, &fr), PKT_UNSUPPORTED);
	}
}

static enum pkt_result
arp_of(const uint8_t *frame, size_t len)
{
	struct cur c = cur_make(frame, len);
	struct pkt_eth e;
	struct pkt_arp a;

	assert_int_equal(pkt_eth_parse(&c, &e), PKT_OK);
	return pkt_arp_parse(&e.payload, &a);
}

static void
test_arp_refusals(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		enum pkt_result want;
	} edits[] = {
		{15, 6, PKT_UNSUPPORTED},    /* htype IEEE 802 */
		{16, 0x86, PKT_UNSUPPORTED}, /* ptype 0x86dd */
		{18, 8, PKT_UNSUPPORTED},    /* hlen */
		{19, 16, PKT_UNSUPPORTED},   /* plen */
		{21, 3, PKT_BAD_OPCODE},     /* RARP request */
		{21, 0, PKT_BAD_OPCODE},
	};
	uint8_t f[60];

	(void)state;
	for (size_t n = 14; n < 42; n++)
		assert_int_equal(arp_of(arp_request, n), PKT_TRUNCATED);
	assert_int_equal(arp_of(arp_request, 42), PKT_OK);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		copy_of(f, sizeof(f), arp_request, sizeof(arp_request));
		f[edits[i].off] = edits[i].val;
		assert_int_equal(arp_of(f, sizeof(f)), edits[i].want);
	}
}

static void
test_arp_reply_build(void **state)
{
	uint8_t buf[128];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct pkt_arp req, rep;

	(void)state;
	parse_arp(arp_request, sizeof(arp_request), &req);
	assert_int_equal(pkt_arp_reply(&w, &req, rt_mac), PKT_OK);
	assert_int_equal(w.len, sizeof(arp_reply_expected));
	assert_memory_equal(buf, arp_reply_expected, sizeof(arp_reply_expected));
	parse_arp(buf, w.len, &rep);
	assert_int_equal(rep.op, PKT_ARP_REPLY);
	assert_int_equal(rep.spa, 0x0a000001);
	assert_int_equal(rep.gratuitous, 0);

	/* Appends after what the buffer holds; refuses without a trace when it cannot fit. */
	w = wbuf_make(buf, 4 + 42);
	w.len = 4;
	assert_int_equal(pkt_arp_reply(&w, &req, rt_mac), PKT_OK);
	assert_int_equal(w.len, 46);
	assert_memory_equal(buf + 4, arp_reply_expected, 42);
	for (size_t cap = 0; cap < 42; cap++) {
		w = wbuf_make(buf, cap);
		assert_int_equal(pkt_arp_reply(&w, &req, rt_mac), PKT_NO_SPACE);
		assert_int_equal(w.len, 0);
		assert_int_equal(w.failed, 0);
	}
	w = wbuf_make(buf, sizeof(buf));
	assert_int_equal(pkt_arp_reply(&w, &rep, rt_mac), PKT_BAD_OPCODE);
	assert_int_equal(w.len, 0);
}

/* ---- IPv4 ---- */

static void
test_ip4_parse_fields(void **state)
{
	struct cur c = cur_make(icmp_echo, sizeof(icmp_echo));
	struct pkt_ip4_frame f;

	(void)state;
	assert_int_equal(pkt_ip4_frame_parse(&c, 0, &f), PKT_OK);
	assert_memory_equal(f.eth.dst, rt_mac, 6);
	assert_int_equal(f.ip.ihl, 20);
	assert_int_equal(f.ip.tos, 0);
	assert_int_equal(f.ip.totlen, 84);
	assert_int_equal(f.ip.id, 0xabcd);
	assert_int_equal(f.ip.df, 1);
	assert_int_equal(f.ip.mf, 0);
	assert_int_equal(f.ip.frag_off, 0);
	assert_int_equal(f.ip.ttl, 64);
	assert_int_equal(f.ip.proto, PKT_IPPROTO_ICMP);
	assert_int_equal(f.ip.csum, icmp_echo[24] << 8 | icmp_echo[25]);
	assert_int_equal(f.ip.src, 0x0a000005);
	assert_int_equal(f.ip.dst, 0x0a000001);
	assert_int_equal(f.ip.has_options, 0);
	assert_int_equal(f.ip.srcroute, 0);
	assert_int_equal(cur_left(&f.ip.hdr), 20);
	assert_int_equal(cur_left(&f.ip.options), 0);
	assert_int_equal(cur_left(&f.ip.payload), 64);
	assert_int_equal(cur_u8(&f.ip.payload), PKT_ICMP_ECHO);
	assert_int_equal(pkt_ip4_is_fragment(&f.ip), 0);
}

static void
test_ip4_padding(void **state)
{
	struct cur c = cur_make(udp_small_padded + 14, sizeof(udp_small_padded) - 14);
	struct pkt_ip4 ip;

	(void)state;
	assert_int_equal(pkt_ip4_parse(&c, 0, &ip), PKT_OK);
	assert_int_equal(ip.totlen, 33);
	assert_int_equal(cur_left(&ip.payload), 13);
	assert_int_equal(cur_left(&c), 13); /* Ethernet padding: not part of the datagram */
}

static void
test_ip4_options(void **state)
{
	struct pkt_ip4 ip;

	(void)state;
	assert_int_equal(parse_ip(ip_ra_igmp, sizeof(ip_ra_igmp), 0, &ip), PKT_OK);
	assert_int_equal(ip.ihl, 24);
	assert_int_equal(ip.tos, 0xc0);
	assert_int_equal(ip.ttl, 1);
	assert_int_equal(ip.proto, 2);
	assert_int_equal(ip.dst, 0xef010203);
	assert_int_equal(ip.has_options, 1);
	assert_int_equal(ip.srcroute, 0);
	assert_int_equal(cur_left(&ip.options), 4);
	assert_int_equal(cur_u8(&ip.options), 0x94);
	assert_int_equal(cur_left(&ip.hdr), 24);
	assert_int_equal(cur_left(&ip.payload), 8);

	assert_int_equal(parse_ip(ip_lsrr, sizeof(ip_lsrr), 0, &ip), PKT_OK);
	assert_int_equal(ip.ihl, 28);
	assert_int_equal(ip.has_options, 1);
	assert_int_equal(ip.srcroute, 1);
}

static void
test_ip4_fragments(void **state)
{
	struct pkt_ip4 ip;

	(void)state;
	assert_int_equal(parse_ip(frag_first, sizeof(frag_first), 0, &ip), PKT_OK);
	assert_int_equal(ip.id, 0x5151);
	assert_int_equal(ip.df, 0);
	assert_int_equal(ip.mf, 1);
	assert_int_equal(ip.frag_off, 0);
	assert_int_equal(pkt_ip4_is_fragment(&ip), 1);
	assert_int_equal(cur_left(&ip.payload), 24);
	assert_int_equal(parse_ip(frag_second, sizeof(frag_second), 0, &ip), PKT_OK);
	assert_int_equal(ip.mf, 0);
	assert_int_equal(ip.frag_off, 24);
	assert_int_equal(pkt_ip4_is_fragment(&ip), 1);
}

static void
test_ip4_truncated(void **state)
{
	struct pkt_ip4 ip;

	(void)state;
	/* Inside the fixed header: truncated. Past it but short of totlen: a bad total length. */
	for (size_t n = 14; n < 34; n++)
		assert_int_equal(parse_ip(icmp_echo, n, 0, &ip), PKT_TRUNCATED);
	for (size_t n = 34; n < sizeof(icmp_echo); n++)
		assert_int_equal(parse_ip(icmp_echo, n, 0, &ip), PKT_BAD_TOTLEN);
	assert_int_equal(parse_ip(ip_ra_igmp, 14 + 22, 0, &ip), PKT_BAD_TOTLEN);
}

/* One header edit (applied to a copy of the vector, checksum refreshed) and its verdict. */
struct ip_edit {
	const char *what;
	const uint8_t *frame;
	size_t len;
	size_t off; /* in the IP header */
	uint16_t val;
	int wide; /* val is a 16-bit field */
	enum pkt_result want;
};

static void
test_ip4_refusals(void **state)
{
	const struct ip_edit edits[] = {
		{"version 6", icmp_echo, sizeof(icmp_echo), 0, 0x65, 0, PKT_BAD_VERSION},
		{"version 0", icmp_echo, sizeof(icmp_echo), 0, 0x05, 0, PKT_BAD_VERSION},
		{"IHL 4", icmp_echo, sizeof(icmp_echo), 0, 0x44, 0, PKT_BAD_IHL},
		{"IHL 0", icmp_echo, sizeof(icmp_echo), 0, 0x40, 0, PKT_BAD_IHL},
		{"IHL past totlen", udp_small_padded, 60, 0, 0x4f, 0, PKT_BAD_IHL},
		{"totlen 19", icmp_echo, sizeof(icmp_echo), 2, 19, 1, PKT_BAD_TOTLEN},
		{"totlen 0", icmp_echo, sizeof(icmp_echo), 2, 0, 1, PKT_BAD_TOTLEN},
		{"totlen past frame", icmp_echo, sizeof(icmp_echo), 2, 85, 1, PKT_BAD_TOTLEN},
		{"totlen 65535", icmp_echo, sizeof(icmp_echo), 2, 0xffff, 1, PKT_BAD_TOTLEN},
		{"option overrun", ip_ra_igmp, sizeof(ip_ra_igmp), 21, 6, 0, PKT_BAD_OPTION},
		{"option length 1", ip_ra_igmp, sizeof(ip_ra_igmp), 21, 1, 0, PKT_BAD_OPTION},
		{"option length 0", ip_ra_igmp, sizeof(ip_ra_igmp), 21, 0, 0, PKT_BAD_OPTION},
		{"option exact", ip_ra_igmp, sizeof(ip_ra_igmp), 21, 4, 0, PKT_OK},
		{"NOP, then length 0", ip_ra_igmp, sizeof(ip_ra_igmp), 20, 1, 0, PKT_BAD_OPTION},
		{"EOL first", ip_ra_igmp, sizeof(ip_ra_igmp), 20, 0, 0, PKT_OK},
		{"NOP NOP EOL", ip_ra_igmp, sizeof(ip_ra_igmp), 20, 0x0101, 1, PKT_OK},
		{"MF, 13 bytes", udp_small_padded, 60, 6, 0x2000, 1, PKT_BAD_FRAG},
		{"MF, offset 0", frag_first, sizeof(frag_first), 6, 0x2000, 1, PKT_OK},
		{"offset 65528", frag_first, sizeof(frag_first), 6, 0x3fff, 1, PKT_BAD_FRAG},
		{"offset 65512", frag_second, sizeof(frag_second), 6, 0x1ffd, 1, PKT_BAD_FRAG},
		{"offset 65504", frag_second, sizeof(frag_second), 6, 0x1ffc, 1, PKT_OK},
		{"DF only", udp_small_padded, 60, 6, 0x4000, 1, PKT_OK},
	};
	uint8_t f[128];
	struct pkt_ip4 ip;

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		size_t n = copy_of(f, sizeof(f), edits[i].frame, edits[i].len);

		if (edits[i].wide) {
			f[14 + edits[i].off] = (uint8_t)(edits[i].val >> 8);
			f[14 + edits[i].off + 1] = (uint8_t)edits[i].val;
		} else {
			f[14 + edits[i].off] = (uint8_t)edits[i].val;
		}
		if (edits[i].off != 0)
			fix_ip_csum(f, n);
		print_message("%s\n", edits[i].what);
		assert_int_equal(parse_ip(f, n, 0, &ip), edits[i].want);
	}
}

static void
test_ip4_bad_csum(void **state)
{
	uint8_t f[128];
	size_t n = copy_of(f, sizeof(f), icmp_echo, sizeof(icmp_echo));
	struct pkt_ip4 ip;

	(void)state;
	f[14 + 8] = 63; /* TTL changed, checksum not */
	assert_int_equal(parse_ip(f, n, 0, &ip), PKT_BAD_CSUM);
	assert_int_equal(parse_ip(f, n, PKT_CSUM_SKIP, &ip), PKT_OK);
	assert_int_equal(ip.ttl, 63);
	f[14 + 8] = 64;
	f[14 + 11] ^= 1;
	assert_int_equal(parse_ip(f, n, 0, &ip), PKT_BAD_CSUM);
	/* The option bytes are covered too. */
	n = copy_of(f, sizeof(f), ip_ra_igmp, sizeof(ip_ra_igmp));
	f[14 + 23] = 1;
	assert_int_equal(parse_ip(f, n, 0, &ip), PKT_BAD_CSUM);
}

static void
test_ip4_dec_ttl(void **state)
{
	uint8_t f[128];
	size_t n = copy_of(f, sizeof(f), icmp_echo, sizeof(icmp_echo));
	struct wbuf w = wbuf_make(f, n);
	struct pkt_ip4 ip;
	uint8_t before[128];

	(void)state;
	w.len = n;
	for (int ttl = 64; ttl > 1; ttl--) {
		assert_int_equal(pkt_ip4_dec_ttl(&w, PKT_ETH_HLEN), PKT_OK);
		assert_int_equal(parse_ip(f, n, 0, &ip), PKT_OK);
		assert_int_equal(ip.ttl, ttl - 1);
	}
	memcpy(before, f, n);
	assert_int_equal(pkt_ip4_dec_ttl(&w, PKT_ETH_HLEN), PKT_TTL_EXPIRED);
	assert_memory_equal(f, before, n);
	f[14 + 8] = 0;
	assert_int_equal(pkt_ip4_dec_ttl(&w, PKT_ETH_HLEN), PKT_TTL_EXPIRED);
	/* The same checksum a full recomputation gives, option-bearing header included. */
	n = copy_of(f, sizeof(f), ip_ra_igmp, sizeof(ip_ra_igmp));
	f[14 + 8] = 200;
	fix_ip_csum(f, n);
	w = wbuf_make(f, n);
	w.len = n;
	assert_int_equal(pkt_ip4_dec_ttl(&w, PKT_ETH_HLEN), PKT_OK);
	memcpy(before, f, n);
	fix_ip_csum(before, n);
	assert_memory_equal(f, before, n);
	w.len = 14 + 19;
	assert_int_equal(pkt_ip4_dec_ttl(&w, PKT_ETH_HLEN), PKT_TRUNCATED);
	assert_int_equal(pkt_ip4_dec_ttl(&w, SIZE_MAX), PKT_TRUNCATED);
}

static void
test_ip4_write(void **state)
{
	uint8_t buf[64];
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	const struct pkt_ip4 h = {.tos = 0x2e, .totlen = 20, .id = 0xbeef, .df = 0, .mf = 1,
	    .frag_off = 1480, .ttl = 7, .proto = 99, .src = 0xc0000201, .dst = 0xc6336402};
	struct pkt_ip4 ip;
	struct cur c;

	(void)state;
	assert_int_equal(pkt_ip4_write(&w, &h), PKT_OK);
	assert_int_equal(w.len, 20);
	c = cur_make(buf, w.len);
	/* MF with no payload is a zero-length fragment, which 8-byte alignment allows. */
	assert_int_equal(pkt_ip4_parse(&c, 0, &ip), PKT_OK);
	assert_int_equal(ip.tos, 0x2e);
	assert_int_equal(ip.id, 0xbeef);
	assert_int_equal(ip.mf, 1);
	assert_int_equal(ip.df, 0);
	assert_int_equal(ip.frag_off, 1480);
	assert_int_equal(ip.ttl, 7);
	assert_int_equal(ip.proto, 99);
	assert_int_equal(ip.src, 0xc0000201);
	assert_int_equal(ip.dst, 0xc6336402);
	w = wbuf_make(buf, 19);
	assert_int_equal(pkt_ip4_write(&w, &h), PKT_NO_SPACE);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.failed, 0);
}

static void
test_ip4_hdr_csum_fill(void **state)
{
	uint8_t f[128];
	size_t n = copy_of(f, sizeof(f), ip_ra_igmp, sizeof(ip_ra_igmp));
	struct wbuf w = wbuf_make(f, n);

	(void)state;
	w.len = n;
	f[14 + 10] = 0x12;
	f[14 + 11] = 0x34;
	assert_int_equal(pkt_ip4_hdr_csum_fill(&w, PKT_ETH_HLEN), PKT_OK);
	assert_memory_equal(f, ip_ra_igmp, n);
	w.len = 14 + 23; /* the options run past what the buffer holds */
	assert_int_equal(pkt_ip4_hdr_csum_fill(&w, PKT_ETH_HLEN), PKT_TRUNCATED);
	w.len = n;
	f[14] = 0x66;
	assert_int_equal(pkt_ip4_hdr_csum_fill(&w, PKT_ETH_HLEN), PKT_TRUNCATED);
}

/* ---- shared pieces ---- */

static void
test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(pkt_reason_name(PKT_OK), "ok");
	assert_string_equal(pkt_reason_name(PKT_BAD_CSUM), "bad_csum");
	assert_string_equal(pkt_reason_name(PKT_RESULT_MAX), "unknown");
	assert_string_equal(pkt_reason_name((enum pkt_result)-1), "unknown");
	for (int i = 0; i < PKT_RESULT_MAX; i++) {
		const char *a = pkt_reason_name((enum pkt_result)i);

		assert_string_not_equal(a, "unknown");
		assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(a));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, pkt_reason_name((enum pkt_result)j));
	}
}

static void
test_wbuf_helpers(void **state)
{
	uint8_t buf[32] = {0};
	struct wbuf w = wbuf_make(buf, sizeof(buf));
	struct cur v;

	(void)state;
	w.len = 20;
	v = pkt_wbuf_view(&w, 4, 16);
	assert_true(cur_ok(&v));
	assert_int_equal(cur_left(&v), 16);
	v = pkt_wbuf_view(&w, 4, 17);
	assert_false(cur_ok(&v));
	v = pkt_wbuf_view(&w, SIZE_MAX, 2);
	assert_false(cur_ok(&v));
	v = pkt_wbuf_view(&w, 2, SIZE_MAX);
	assert_false(cur_ok(&v));
	assert_int_equal(pkt_wbuf_put16(&w, 18, 0xabcd), 0);
	assert_int_equal(buf[18], 0xab);
	assert_int_equal(buf[19], 0xcd);
	assert_int_equal(pkt_wbuf_put16(&w, 19, 1), -1);
	assert_int_equal(buf[20], 0);
	assert_int_equal(pkt_eth_rewrite(&w, bcast_mac, rt_mac), PKT_OK);
	assert_memory_equal(buf, bcast_mac, 6);
	assert_memory_equal(buf + 6, rt_mac, 6);
	w.len = 11;
	assert_int_equal(pkt_eth_rewrite(&w, vm_mac, vm_mac), PKT_TRUNCATED);
	assert_memory_equal(buf, bcast_mac, 6);
	assert_int_equal(pkt_mac_is_group(bcast_mac), 1);
	assert_int_equal(pkt_mac_is_group(vm_mac), 0);
	w = wbuf_make(buf, 13);
	assert_int_equal(pkt_eth_write(&w, vm_mac, rt_mac, PKT_ETHERTYPE_IPV4), PKT_NO_SPACE);
	assert_int_equal(w.len, 0);
	w.failed = 1; /* an already failed buffer stays failed and untouched */
	w.cap = sizeof(buf);
	assert_int_equal(pkt_eth_write(&w, vm_mac, rt_mac, PKT_ETHERTYPE_IPV4), PKT_NO_SPACE);
	assert_int_equal(w.failed, 1);
	assert_int_equal(w.len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_csum_cursor_untouched),
		cmocka_unit_test(test_csum_update_rfc1624),
		cmocka_unit_test(test_csum_update_random),
		cmocka_unit_test(test_eth_arp_request),
		cmocka_unit_test(test_arp_kinds),
		cmocka_unit_test(test_eth_vlan),
		cmocka_unit_test(test_eth_refusals),
		cmocka_unit_test(test_arp_refusals),
		cmocka_unit_test(test_arp_reply_build),
		cmocka_unit_test(test_ip4_parse_fields),
		cmocka_unit_test(test_ip4_padding),
		cmocka_unit_test(test_ip4_options),
		cmocka_unit_test(test_ip4_fragments),
		cmocka_unit_test(test_ip4_truncated),
		cmocka_unit_test(test_ip4_refusals),
		cmocka_unit_test(test_ip4_bad_csum),
		cmocka_unit_test(test_ip4_dec_ttl),
		cmocka_unit_test(test_ip4_write),
		cmocka_unit_test(test_ip4_hdr_csum_fill),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_wbuf_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
