/*
 * The embed6 address layout: host prefix (P) | slot (72-P) | network id (24) | IPv4 (32).
 * The slot ends at bit 72, so it is the low 72-P bits of the first nine bytes read as one
 * big-endian number; the slot never reaches above bit 32 because P >= 32.
 */
#include <string.h>

#include "embed6.h"

static const char *const e6_names[E6_RESULT_MAX] = {
	[E6_OK] = "ok",
	[E6_EPLEN] = "prefix_len",
	[E6_EPREFIXBITS] = "prefix_bits",
	[E6_ESLOT] = "slot_width",
	[E6_EVNID] = "vnid_width",
	[E6_EADDR] = "addr_mismatch",
	[E6_EPREFIX] = "outside_prefix",
	[E6_ENOSPACE] = "no_space",
	[E6_ETRUNC] = "trunc",
	[E6_EVERSION] = "version",
	[E6_ELENGTH] = "length",
	[E6_ECSUM] = "checksum",
	[E6_EPROTO] = "proto",
	[E6_EOPTIONS] = "bad_options",
	[E6_ESRCROUTE] = "source_route",
	[E6_EL4TRUNC] = "l4_trunc",
	[E6_EUDPZEROFRAG] = "udp_zero_frag",
	[E6_EUDPLEN] = "udp_len",
	[E6_EICMPTYPE] = "icmp_type",
	[E6_EICMPFRAG] = "icmp_frag",
	[E6_EINNER] = "icmp_inner",
	[E6_ETOOBIG] = "too_big",
	[E6_EEXTHDR] = "ext_hdr",
	[E6_EFRAGHDR] = "frag_hdr",
	[E6_EUDPZERO] = "udp_zero",
	[E6_EICMPHDR] = "icmp_hdr",
	[E6_EINNERADDR] = "icmp_inner_addr",
};

const char *
e6_reason_name(enum e6_result r)
{
	if ((unsigned)r >= E6_RESULT_MAX || e6_names[r] == NULL)
		return "unknown";
	return e6_names[r];
}

/* The mask of the bits of byte i that lie inside the first plen bits. */
static uint8_t
e6_byte_mask(unsigned plen, unsigned i)
{
	if (plen >= 8 * (i + 1))
		return 0xff;
	if (plen <= 8 * i)
		return 0;
	return (uint8_t)(0xff00 >> (plen - 8 * i));
}

enum e6_result
e6_layout_check(const struct e6_layout *l)
{
	if (l->plen < E6_PLEN_MIN || l->plen > E6_PLEN_MAX)
		return E6_EPLEN;
	for (unsigned i = 0; i < 16; i++)
		if (l->prefix[i] & (uint8_t)~e6_byte_mask(l->plen, i))
			return E6_EPREFIXBITS;
	return E6_OK;
}

enum e6_result
e6_addr_compose(const struct e6_layout *l, uint64_t slot, uint32_t vnid, uint32_t ipv4,
    uint8_t out[16])
{
	enum e6_result r = e6_layout_check(l);
	unsigned width = E6_PLEN_MAX - l->plen;
	uint8_t a[16];

	if (r != E6_OK)
		return r;
	if (slot >> width != 0)
		return E6_ESLOT;
	if (vnid > E6_VNID_MAX)
		return E6_EVNID;
	memcpy(a, l->prefix, 16);
	/* OR is safe: the prefix has no bits at or beyond P, the slot none above it. */
	for (int i = 8; i >= 4; i--, slot >>= 8)
		a[i] |= (uint8_t)slot;
	a[9] = (uint8_t)(vnid >> 16);
	a[10] = (uint8_t)(vnid >> 8);
	a[11] = (uint8_t)vnid;
	a[12] = (uint8_t)(ipv4 >> 24);
	a[13] = (uint8_t)(ipv4 >> 16);
	a[14] = (uint8_t)(ipv4 >> 8);
	a[15] = (uint8_t)ipv4;
	memcpy(out, a, 16);
	return E6_OK;
}

static void
e6_split_fields(unsigned plen, const uint8_t addr[16], struct e6_parts *out)
{
	uint64_t slot = 0;

	for (unsigned i = 0; i < 16; i++)
		out->prefix[i] = addr[i] & e6_byte_mask(plen, i);
	for (unsigned i = 4; i <= 8; i++)
		slot = slot << 8 | addr[i];
	out->slot = slot & ((UINT64_C(1) << (E6_PLEN_MAX - plen)) - 1);
	out->vnid = (uint32_t)addr[9] << 16 | (uint32_t)addr[10] << 8 | addr[11];
	out->ipv4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 |
	    (uint32_t)addr[14] << 8 | addr[15];
}

enum e6_result
e6_addr_split_any(unsigned plen, const uint8_t addr[16], struct e6_parts *out)
{
	if (plen < E6_PLEN_MIN || plen > E6_PLEN_MAX)
		return E6_EPLEN;
	e6_split_fields(plen, addr, out);
	return E6_OK;
}

enum e6_result
e6_addr_split(const struct e6_layout *l, const uint8_t addr[16], struct e6_parts *out)
{
	enum e6_result r = e6_layout_check(l);
	struct e6_parts p;

	if (r != E6_OK)
		return r;
	e6_split_fields(l->plen, addr, &p);
	if (memcmp(p.prefix, l->prefix, 16) != 0)
		return E6_EPREFIX;
	*out = p;
	return E6_OK;
}
