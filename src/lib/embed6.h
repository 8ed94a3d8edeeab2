/*
 * The embed6 substrate encoding: no encapsulation; the tenant's IPv4 header is replaced by
 * an IPv6 header whose addresses embed the virtual address (RFC 7915-style translation,
 * stateless, every field either carried or named as lost below).
 *
 * Address layout (bit 0 = most significant):
 *
 *   | host prefix (P bits) | port slot (72-P bits) | network id (24) | IPv4 address (32) |
 *
 * 32 <= P <= 72, 56 by default; P = 72 is the patents' literal layout, with no slot.
 *
 * What the translation keeps and what it loses (IPv4 -> IPv6 -> IPv4):
 *   kept:    TOS (as Traffic Class), TTL (as Hop Limit, less the substrate's own hops),
 *            protocol, addresses, payload, fragment ID/offset/MF of fragments, the L4
 *            checksum (adjusted for the new pseudo-header, RFC 1624).
 *   lost:    IPv4 options (dropped, RFC 7915 section 4.1); the ID of unfragmented packets and
 *            their DF bit: an IPv6 packet without a Fragment Header can never be fragmented
 *            on its way, so it comes back as DF=1, ID=0 (an atomic datagram, RFC 6864
 *            section 4.1). We do not add a Fragment Header to carry DF=0 packets: RFC 8021
 *            deprecates such atomic fragments and RFC 7915 no longer emits them. A sender
 *            relying on in-network fragmentation must be given an MTU that fits (the agent
 *            fragments at IPv4 before translating, or advertises the smaller MTU).
 *   changed: fragments come back with DF=0 (RFC 7915 section 5.1.1); a UDP checksum of 0
 *            comes back computed (RFC 7915 section 4.5); ICMP codes with no exact ICMPv6
 *            twin come back as the RFC 7915 section 5.2 mapping of their twin (e.g. net
 *            unreachable returns as host unreachable); unused bytes of ICMP errors return 0.
 *   dropped: fragmented ICMP (its ICMPv6 checksum needs the whole message), fragmented UDP
 *            with checksum 0, AH and protocol numbers IPv6 reads as extension headers,
 *            unexpired source routes, ICMP types with no ICMPv6 twin.
 */
#ifndef VENEER_EMBED6_H
#define VENEER_EMBED6_H

#include <stdint.h>

#include "cur.h"

#define E6_PLEN_MIN 32
#define E6_PLEN_MAX 72
#define E6_PLEN_DEFAULT 56
#define E6_VNID_MAX 0xffffffu
/* Bytes the IPv6 form adds to an option-less IPv4 packet: 40 - 20, plus 8 for fragments. */
#define E6_OVERHEAD 20
#define E6_OVERHEAD_FRAG 28

/* Every result but E6_OK means drop (and count e6_reason_name()). */
enum e6_result {
	E6_OK = 0,
	/* Caller or configuration errors. */
	E6_EPLEN,	/* host prefix length outside 32..72 */
	E6_EPREFIXBITS,	/* host prefix has bits set beyond its length */
	E6_ESLOT,	/* slot wider than the 72-P bits of the layout */
	E6_EVNID,	/* network id wider than 24 bits */
	E6_EADDR,	/* encode: an IPv6 address does not end in the packet's IPv4 address */
	E6_EPREFIX,	/* address outside the expected host prefix (decode: the destination) */
	E6_ENOSPACE,	/* the write buffer is too small (or already failed) */
	/* Packet contents, both directions. */
	E6_ETRUNC,	/* fewer bytes than a header or a length field needs */
	E6_EVERSION,	/* not the IP version expected */
	E6_ELENGTH,	/* inconsistent length fields, or bytes beyond the IPv6 payload length */
	E6_ECSUM,	/* IPv4 header or ICMP checksum wrong (we would otherwise hide it) */
	E6_EPROTO,	/* protocol with no faithful counterpart on the other side */
	E6_EOPTIONS,	/* malformed IPv4 options */
	E6_ESRCROUTE,	/* unexpired IPv4 source route (RFC 7915 section 4.1) */
	E6_EL4TRUNC,	/* transport header too short to hold its checksum */
	E6_EUDPZEROFRAG, /* fragmented UDP with checksum 0 (RFC 7915 section 4.5) */
	E6_EUDPLEN,	/* UDP length field impossible, checksum 0 cannot be computed */
	E6_EICMPTYPE,	/* ICMP type/code with no counterpart */
	E6_EICMPFRAG,	/* fragmented ICMP */
	E6_EINNER,	/* the packet quoted by an ICMP error cannot be translated */
	E6_ETOOBIG,	/* the result would exceed 65535 bytes */
	/* IPv6 -> IPv4 only: what our own encoder never produces. */
	E6_EEXTHDR,	/* extension header other than one Fragment Header */
	E6_EFRAGHDR,	/* Fragment Header with reserved bits, ID > 16 bits, or atomic */
	E6_EUDPZERO,	/* UDP checksum 0 (never valid in IPv6, RFC 8200 section 8.1) */
	E6_EICMPHDR,	/* ICMPv6 unused bytes, MTU or pointer our encoder never writes */
	E6_EINNERADDR,	/* quoted addresses do not pair with the outer ones */
	E6_RESULT_MAX
};

/* A host prefix: the substrate range of one host (one agent or routerd). */
struct e6_layout {
	uint8_t prefix[16];	/* bits beyond plen are zero */
	uint8_t plen;		/* P */
};

/* The fields of an embedded address. */
struct e6_parts {
	uint8_t prefix[16];	/* the address's first P bits, the rest zero */
	uint64_t slot;		/* 72-P bits */
	uint32_t vnid;		/* 24 bits */
	uint32_t ipv4;		/* host byte order */
};

/* What e6_decode found besides the IPv4 packet, for the agent's source verification. */
struct e6_meta {
	uint8_t src6[16];
	uint8_t dst6[16];
	struct e6_parts src;	/* split with the local P; src.prefix says the sending host */
	struct e6_parts dst;	/* inside the local host prefix */
};

/* embed6_addr.c */
/* E6_OK if l is a usable layout: 32 <= P <= 72 and no bits beyond P. */
enum e6_result e6_layout_check(const struct e6_layout *l);
/*
 * Writes prefix | slot | vnid | ipv4 into out. Refuses (leaving out untouched) a bad
 * layout, a slot that does not fit in 72-P bits, or a vnid over 24 bits.
 */
enum e6_result e6_addr_compose(const struct e6_layout *l, uint64_t slot, uint32_t vnid,
    uint32_t ipv4, uint8_t out[16]);
/* Splits addr, refusing it (E6_EPREFIX) unless its first P bits are l's prefix. */
enum e6_result e6_addr_split(const struct e6_layout *l, const uint8_t addr[16],
    struct e6_parts *out);
/* Splits addr with prefix length plen whatever its prefix (for remote hosts' addresses). */
enum e6_result e6_addr_split_any(unsigned plen, const uint8_t addr[16], struct e6_parts *out);
/* A short constant name for counters and logs ("trunc", "ext_hdr", ...); never NULL. */
const char *e6_reason_name(enum e6_result r);

/* embed6_xlat.c */
/*
 * Translates the IPv4 packet at *in (from its IPv4 header; bytes past the Total Length,
 * such as Ethernet padding, are ignored) into an IPv6 packet appended to out, with the
 * given substrate addresses, whose last 32 bits must be the packet's IPv4 source and
 * destination. The packet must carry complete L4 checksums (no offload). On failure out
 * is left as it was on entry, apart from its failed flag on E6_ENOSPACE.
 */
enum e6_result e6_encode(struct cur *in, const uint8_t src6[16], const uint8_t dst6[16],
    struct wbuf *out);
/*
 * Translates the IPv6 packet at *in (exactly one packet: no bytes may follow its payload)
 * back into IPv4, appended to out, refusing whatever e6_encode could not have produced and
 * any destination outside local's host prefix. meta gets both addresses and their fields
 * on E6_OK; its addresses are also set on any later refusal once the fixed header is read
 * (zero before), for logging. On failure out is left as in e6_encode.
 */
enum e6_result e6_decode(struct cur *in, const struct e6_layout *local, struct wbuf *out,
    struct e6_meta *meta);

#endif
