/*
 * libFuzzer target for the substrate codecs (vxlan.c, embed6_*.c): arbitrary bytes must
 * never crash them, and whatever they accept must survive a round trip.
 *
 * Input: byte 0 picks the mode (low 2 bits), byte 1 the prefix length P (32 + b % 41),
 * byte 2 the output room (bit 7 set: (b & 0x7f) * 8 bytes, to reach the "no space" paths;
 * otherwise plenty); the rest is the packet.
 *   mode 0: vxlan_decode, then re-encode and compare.
 *   mode 1: e6_decode of an IPv6 packet for our host prefix; what decodes must re-encode
 *           to the input (modulo the flow label and the two spellings of a zero checksum).
 *   mode 2: e6_encode of an IPv4 packet; what encodes must decode, and re-encode the same.
 *   mode 3: as mode 1, then the decoded packet re-encoded with swapped addresses must fail
 *           cleanly (they no longer embed its IPv4 addresses).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed6.h"
#include "vxlan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUTSZ (65536 + 128)

static uint8_t out1[OUTSZ], out2[OUTSZ], out3[OUTSZ];

/* The prefix our host (and, one bit flipped, the remote host) is given, masked to P. */
static const uint8_t base_prefix[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x02, 0x03, 0x04};

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_substrate: %s\n", what);
	abort();
}

static struct e6_layout
layout_for(unsigned plen, int remote)
{
	struct e6_layout l;

	memset(&l, 0, sizeof(l));
	l.plen = (uint8_t)plen;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * i : 0;

		l.prefix[i] = bits >= 8 ? base_prefix[i] :
		    (uint8_t)(base_prefix[i] & (0xff00 >> bits));
	}
	if (remote)
		l.prefix[(plen - 1) / 8] ^= (uint8_t)(0x80 >> ((plen - 1) % 8));
	return l;
}

static void
fuzz_vxlan(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n), inner;
	struct wbuf w = wbuf_make(out1, OUTSZ);
	uint32_t vni;

	if (vxlan_decode(&c, &vni, &inner) != VXLAN_OK)
		return;
	if (vni > VXLAN_VNI_MAX || !(p[0] & VXLAN_FLAG_I) || cur_left(&inner) != n - 8)
		fail("vxlan: accepted a header it should not have");
	if (vxlan_encode(&w, vni) != VXLAN_OK)
		fail("vxlan: cannot re-encode a decoded VNI");
	wbuf_bytes(&w, cur_rest(&inner), cur_left(&inner));
	if (w.len != n || out1[0] != VXLAN_FLAG_I || memcmp(out1 + 4, p + 4, 3) != 0 ||
	    memcmp(out1 + 8, p + 8, n - 8) != 0)
		fail("vxlan: round trip differs");
}

/* Where the transport checksum of an IPv6 packet we made sits, or 0 if it has none here. */
static size_t
csum_offset6(const uint8_t *p, size_t n)
{
	size_t up = 40;
	uint8_t proto = p[6];

	if (proto == 44) {
		if ((p[42] << 8 | p[43]) >> 3)
			return 0;	/* a later fragment */
		proto = p[40];
		up = 48;
	}
	switch (proto) {
	case 6:
		return up + 16 + 2 <= n ? up + 16 : 0;
	case 17: case 33: case 136:
		return up + 8 <= n ? up + 6 : 0;
	case 58:
		return up + 4;
	}
	return 0;
}

/* Equal but for the flow label of a, which the substrate may set, and checksum spelling. */
static int
same6(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t ck = csum_offset6(a, n);

	if (n < 40 || a[0] != b[0] || (a[1] & 0xf0) != (b[1] & 0xf0) || (b[1] & 0x0f) ||
	    b[2] || b[3])
		return 0;
	for (size_t i = 4; i < n; i++) {
		if (a[i] == b[i])
			continue;
		if (ck && (i == ck || i == ck + 1)) {
			uint16_t x = (uint16_t)(a[ck] << 8 | a[ck + 1]);
			uint16_t y = (uint16_t)(b[ck] << 8 | b[ck + 1]);

			if ((x == 0 && y == 0xffff) || (x == 0xffff && y == 0))
				continue;
		}
		return 0;
	}
	return 1;
}

static size_t
room(uint8_t b)
{
	return (b & 0x80) ? (size_t)(b & 0x7f) * 8 : OUTSZ;
}

/* Runs e6_decode with the room the input asks for; a refusal must leave out untouched. */
static enum e6_result
decode(const uint8_t *p, size_t n, const struct e6_layout *l, size_t cap, uint8_t *out,
    size_t *len, struct e6_meta *m)
{
	struct cur c = cur_make(p, n);
	struct wbuf w = wbuf_make(out, cap);
	enum e6_result r = e6_decode(&c, l, &w, m);

	if (r != E6_OK && w.len != 0)
		fail("e6_decode: refusal left output behind");
	if (r == E6_ENOSPACE && cap == OUTSZ)
		fail("e6_decode: out of space in a buffer of 64 KiB");
	*len = w.len;
	return r;
}

static enum e6_result
encode(const uint8_t *p, size_t n, const uint8_t *src6, const uint8_t *dst6, size_t cap,
    uint8_t *out, size_t *len)
{
	struct cur c = cur_make(p, n);
	struct wbuf w = wbuf_make(out, cap);
	enum e6_result r = e6_encode(&c, src6, dst6, &w);

	if (r != E6_OK && w.len != 0)
		fail("e6_encode: refusal left output behind");
	if (r == E6_ENOSPACE && cap == OUTSZ)
		fail("e6_encode: out of space in a buffer of 64 KiB");
	*len = w.len;
	return r;
}

static void
fuzz_e6_decode(const uint8_t *p, size_t n, unsigned plen, size_t cap, int swap)
{
	struct e6_layout l = layout_for(plen, 0);
	struct e6_meta m;
	size_t n4, n6;

	if (decode(p, n, &l, cap, out1, &n4, &m) != E6_OK)
		return;
	if (n4 < 20 || n4 > 65535 || n4 + 20 > n)
		fail("e6_decode: output length out of bounds");
	if (swap) {
		if (memcmp(m.src6 + 12, m.dst6 + 12, 4) != 0 &&
		    encode(out1, n4, m.dst6, m.src6, OUTSZ, out2, &n6) != E6_EADDR)
			fail("e6_encode: took addresses that do not embed the packet's");
		return;
	}
	if (encode(out1, n4, m.src6, m.dst6, OUTSZ, out2, &n6) != E6_OK)
		fail("e6_encode: refused what e6_decode produced");
	if (n6 != n || !same6(p, out2, n))
		fail("e6: decode then encode does not give the input back");
}

static void
fuzz_e6_encode(const uint8_t *p, size_t n, unsigned plen, size_t cap)
{
	struct e6_layout lr = layout_for(plen, 1), ll = layout_for(plen, 0);
	struct cur c = cur_make(p, n);
	uint8_t src6[16], dst6[16];
	struct e6_meta m;
	uint32_t s4, d4;
	size_t n6, n4, n6b;
	uint64_t slot_max = (UINT64_C(1) << (72 - plen)) - 1;

	cur_skip(&c, 12);
	s4 = cur_u32(&c);
	d4 = cur_u32(&c);
	if (e6_addr_compose(&lr, 7 & slot_max, 0xabcd, s4, src6) != E6_OK ||
	    e6_addr_compose(&ll, 9 & slot_max, 0xabcd, d4, dst6) != E6_OK)
		fail("e6_addr_compose: refused a valid layout");
	if (encode(p, n, src6, dst6, cap, out1, &n6) != E6_OK)
		return;
	if (decode(out1, n6, &ll, OUTSZ, out2, &n4, &m) != E6_OK)
		fail("e6_decode: refused what e6_encode produced");
	if (m.src.vnid != 0xabcd || m.dst.ipv4 != d4 || m.src.ipv4 != s4)
		fail("e6_decode: addresses do not split back");
	if (encode(out2, n4, src6, dst6, OUTSZ, out3, &n6b) != E6_OK)
		fail("e6_encode: refused what e6_decode produced");
	if (n6b != n6 || !same6(out1, out3, n6))
		fail("e6: encode, decode, encode is not stable");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned plen;
	size_t cap;

	if (size < 3)
		return 0;
	plen = E6_PLEN_MIN + data[1] % (E6_PLEN_MAX - E6_PLEN_MIN + 1);
	cap = room(data[2]);
	switch (data[0] & 3) {
	case 0:
		fuzz_vxlan(data + 3, size - 3);
		break;
	case 1:
		fuzz_e6_decode(data + 3, size - 3, plen, cap, 0);
		break;
	case 2:
		fuzz_e6_encode(data + 3, size - 3, plen, cap);
		break;
	case 3:
		fuzz_e6_decode(data + 3, size - 3, plen, cap, 1);
		break;
	}
	return 0;
}
