/*
 * Private to embed6_xlat.c and embed6_icmp.c: the parsed headers, the one's-complement
 * checksum, and the few header readers and writers both files use. Nothing here is API.
 */
#ifndef VENEER_EMBED6_INT_H
#define VENEER_EMBED6_INT_H

#include <stddef.h>
#include <stdint.h>

#include "embed6.h"

#define IP4_HLEN 20
#define IP6_HLEN 40
#define FRAG_HLEN 8
#define IP_MAXLEN 65535u
#define NH_FRAG 44
#define NH_ICMP6 58
#define PROTO_ICMP 1
#define PROTO_UDP 17
#define IP4_DF 0x4000
#define IP4_MF 0x2000

struct v4h {
	uint8_t hlen, tos, ttl, proto, df, mf;
	uint16_t total, id, off;	/* off in 8-byte units */
	uint32_t src, dst;
};

struct v6h {
	uint8_t tc, nh, hlim;
	uint8_t proto;		/* upper layer: nh, or the Fragment Header's next header */
	uint8_t frag, mf;
	uint16_t plen, off;
	uint32_t flow, id;
	uint8_t src[16], dst[16];
};

/* ---- Internet checksum (RFC 1071) ---- */

static inline uint64_t
cs_cur(uint64_t acc, struct cur c)
{
	while (cur_left(&c) >= 2)
		acc += cur_u16(&c);
	if (cur_left(&c))
		acc += (uint32_t)cur_u8(&c) << 8;
	return acc;
}

static inline uint16_t
cs_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline uint64_t
cs_addr6(const uint8_t src[16], const uint8_t dst[16])
{
	return cs_cur(cs_cur(0, cur_make(src, 16)), cur_make(dst, 16));
}

static inline uint64_t
cs_addr4(uint32_t src, uint32_t dst)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
}

static inline uint64_t
cs_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint32_t len, uint8_t nh)
{
	return cs_addr6(src, dst) + (len >> 16) + (len & 0xffff) + nh;
}

/* ---- our own output ---- */

/* The bytes written since off, as a cursor (off <= w->len always holds for our offsets). */
static inline struct cur
wb_view(const struct wbuf *w, size_t off)
{
	if (w->failed || off > w->len)
		return cur_make(NULL, 0);
	return cur_make(w->p + off, w->len - off);
}

static inline void
wb_put16(struct wbuf *w, size_t off, uint16_t v)
{
	if (w->failed || off > w->len || w->len - off < 2)
		return;
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
}

static inline uint32_t
lo32(const uint8_t a[16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static inline void
set_lo32(uint8_t a[16], uint32_t v)
{
	a[12] = (uint8_t)(v >> 24);
	a[13] = (uint8_t)(v >> 16);
	a[14] = (uint8_t)(v >> 8);
	a[15] = (uint8_t)v;
}

/* embed6_xlat.c */
/* Appends the IPv6 header for h (and a Fragment Header if h is a fragment). */
void e6_put_ip6(struct wbuf *w, const struct v4h *h, uint16_t plen, const uint8_t src[16],
    const uint8_t dst[16]);
/* Fills the 20 bytes already reserved at off with h and its header checksum. */
void e6_put_ip4_at(struct wbuf *w, size_t off, const struct v4h *h);
/* 1 for protocol numbers that IPv6 would read as an extension header (and AH). */
int e6_is_exthdr(uint8_t p);
/* Reads the fixed IPv4 header; E6_OK only if version 4, IHL >= 5, Total Length >= IHL. */
enum e6_result e6_v4_fixed(struct cur *c, struct v4h *h);
/* Reads the fixed IPv6 header; E6_OK only if version 6. */
enum e6_result e6_v6_fixed(struct cur *c, struct v6h *h);
/* Reads a Fragment Header if nh says one follows, and checks the upper-layer protocol. */
enum e6_result e6_v6_upper(struct cur *pay, struct v6h *h);
/* The IPv4 header for h with the given Total Length. */
void e6_v4_from6(const struct v6h *h, struct v4h *o, size_t total);

/* embed6_icmp.c */
/* Translates the (unfragmented) ICMPv4 message msg of h, writing header and message. */
enum e6_result e6_icmp_encode(const struct v4h *h, struct cur msg, const uint8_t src6[16],
    const uint8_t dst6[16], struct wbuf *w);
/* Translates the ICMPv6 message msg of h, writing IPv4 header and message. */
enum e6_result e6_icmp_decode(const struct v6h *h, struct cur msg, struct wbuf *w);

#endif
