/*
 * embed6 ICMP translation (RFC 7915 sections 4.2, 4.3 and 5.2): types and codes through
 * tables, the packet quoted by an error translated like an outer one, the checksum checked
 * on the way in and computed afresh on the way out. The IPv6 -> IPv4 half accepts only
 * what the IPv4 -> IPv6 half writes.
 */
#include <string.h>

#include "embed6_int.h"

#define NONE 0xff	/* "no counterpart" in the tables */

/* An ICMP header on its way to the other family. */
struct icmp_hdr {
	uint8_t type, code, error;
	uint32_t rest;		/* bytes 4-7: id/seq, MTU, pointer or unused */
};

/* ---- IPv4 -> IPv6: ICMP (RFC 7915 sections 4.2 and 4.3) ---- */

/* ICMPv4 Destination Unreachable code -> ICMPv6 type 1 code; 2 and 4 are handled apart. */
static const uint8_t unreach4_code6[16] = {
	0, 0, NONE, 4, NONE, 0, 0, 0, 0, 1, 1, 0, 0, 1, NONE, 1,
};

/* ICMPv4 Parameter Problem pointer -> ICMPv6 pointer (RFC 7915 figure 3). */
static const uint8_t param4_ptr6[20] = {
	0, 1, 4, 4, NONE, NONE, NONE, NONE, 7, 6, NONE, NONE, 8, 8, 8, 8, 24, 24, 24, 24,
};

static enum e6_result
icmp4_unreach(uint8_t code, uint32_t rest, struct icmp_hdr *o)
{
	o->error = 1;
	o->type = 1;
	if (code == 2) {	/* protocol unreachable: "unrecognized Next Header" */
		o->type = 4;
		o->code = 1;
		o->rest = 6;	/* the pointer: offset of Next Header */
		return E6_OK;
	}
	if (code == 4) {	/* fragmentation needed: Packet Too Big, MTU + 20 */
		o->type = 2;
		o->code = 0;
		o->rest = (rest & 0xffff) + (IP6_HLEN - IP4_HLEN);
		return E6_OK;
	}
	if (code >= sizeof(unreach4_code6) || unreach4_code6[code] == NONE)
		return E6_EICMPTYPE;
	o->code = unreach4_code6[code];
	return E6_OK;
}

static enum e6_result
icmp4_param(uint8_t code, uint32_t rest, struct icmp_hdr *o)
{
	uint32_t ptr = rest >> 24;

	if (code != 0 && code != 2)	/* 1, "missing a required option", has no twin */
		return E6_EICMPTYPE;
	if (ptr >= sizeof(param4_ptr6) || param4_ptr6[ptr] == NONE)
		return E6_EICMPTYPE;
	o->type = 4;
	o->code = 0;
	o->rest = param4_ptr6[ptr];
	o->error = 1;
	return E6_OK;
}

static enum e6_result
icmp4_map(uint8_t type, uint8_t code, uint32_t rest, struct icmp_hdr *o)
{
	memset(o, 0, sizeof(*o));
	switch (type) {
	case 8:
	case 0:
		o->type = type == 8 ? 128 : 129;
		o->code = code;
		o->rest = rest;		/* identifier and sequence number */
		return E6_OK;
	case 11:
		if (code > 1)
			return E6_EICMPTYPE;
		o->type = 3;
		o->code = code;
		o->error = 1;
		return E6_OK;
	case 3:
		return icmp4_unreach(code, rest, o);
	case 12:
		return icmp4_param(code, rest, o);
	}
	return E6_EICMPTYPE;	/* informational types RFC 7915 drops, redirects, quench */
}

/* A quoted ICMP header: only echo can be the subject of an ICMP error. */
static enum e6_result
enc_inner_icmp(const struct v4h *ih, struct cur q, struct wbuf *w)
{
	uint8_t type = cur_u8(&q);

	if (ih->mf || ih->off || cur_left(&q) < 7 || (type != 8 && type != 0))
		return E6_EINNER;
	wbuf_u8(w, type == 8 ? 128 : 129);
	wbuf_bytes(w, cur_rest(&q), cur_left(&q));
	return E6_OK;
}

/*
 * The packet an ICMP error quotes went the other way: its source pairs with our destination
 * and its destination with our source. Its IPv6 addresses are the paired outer address with
 * the quoted IPv4 address in the last 32 bits, so the decoder can check the pairing.
 * Quoted options are dropped and the quoted L4 checksum left as it was.
 */
static enum e6_result
enc_inner(struct cur q, const uint8_t src6[16], const uint8_t dst6[16], struct wbuf *w)
{
	struct v4h ih;
	uint8_t isrc[16], idst[16];
	size_t plen, fh;

	if (e6_v4_fixed(&q, &ih) != E6_OK)
		return E6_EINNER;
	cur_skip(&q, ih.hlen - (size_t)IP4_HLEN);
	if (!cur_ok(&q) || ih.proto == NH_ICMP6 || e6_is_exthdr(ih.proto))
		return E6_EINNER;
	memcpy(isrc, dst6, 16);
	set_lo32(isrc, ih.src);
	memcpy(idst, src6, 16);
	set_lo32(idst, ih.dst);
	fh = ih.mf || ih.off ? FRAG_HLEN : 0;
	/* The error grows by 20 (28 with a Fragment Header) and may no longer fit. */
	if (8 + IP6_HLEN + fh + cur_left(&q) > IP_MAXLEN)
		return E6_ETOOBIG;
	plen = (size_t)ih.total - ih.hlen + fh;
	e6_put_ip6(w, &ih, (uint16_t)plen, isrc, idst);
	if (ih.proto == PROTO_ICMP)
		return enc_inner_icmp(&ih, q, w);
	wbuf_bytes(w, cur_rest(&q), cur_left(&q));
	return E6_OK;
}

/* Sets the IPv6 payload length and the ICMPv6 checksum, now that the message is written. */
static enum e6_result
icmp6_seal(struct wbuf *w, size_t ip6, size_t icmp, const uint8_t src6[16],
    const uint8_t dst6[16])
{
	struct cur msg = wb_view(w, icmp);
	size_t len = cur_left(&msg);

	if (w->failed)
		return E6_ENOSPACE;
	wb_put16(w, ip6 + 4, (uint16_t)len);
	wb_put16(w, icmp + 2,
	    (uint16_t)~cs_fold(cs_pseudo6(src6, dst6, (uint32_t)len, NH_ICMP6) + cs_cur(0, msg)));
	return E6_OK;
}

enum e6_result
e6_icmp_encode(const struct v4h *h, struct cur msg, const uint8_t src6[16],
    const uint8_t dst6[16], struct wbuf *w)
{
	struct cur c = msg;
	struct icmp_hdr o;
	uint8_t type, code;
	uint32_t rest;
	size_t ip6 = w->len, icmp;
	enum e6_result r;

	if (h->mf || h->off)
		return E6_EICMPFRAG;	/* the ICMPv6 checksum needs the whole message */
	type = cur_u8(&c);
	code = cur_u8(&c);
	cur_skip(&c, 2);
	rest = cur_u32(&c);
	if (!cur_ok(&c))
		return E6_ETRUNC;
	/* The checksum is recomputed below: check it first so corruption is not laundered. */
	if (cs_fold(cs_cur(0, msg)) != 0xffff)
		return E6_ECSUM;
	if ((r = icmp4_map(type, code, rest, &o)) != E6_OK)
		return r;
	e6_put_ip6(w, h, 0, src6, dst6);
	icmp = w->len;
	wbuf_u8(w, o.type);
	wbuf_u8(w, o.code);
	wbuf_u16(w, 0);
	wbuf_u32(w, o.rest);
	if (o.error)
		r = enc_inner(c, src6, dst6, w);
	else
		wbuf_bytes(w, cur_rest(&c), cur_left(&c));
	if (r != E6_OK)
		return r;
	return icmp6_seal(w, ip6, icmp, src6, dst6);
}

/* ---- IPv6 -> IPv4: ICMPv6 (RFC 7915 section 5.2), only what icmp4_map produces ---- */

static enum e6_result
icmp6_unreach(uint8_t code, uint32_t rest, struct icmp_hdr *o)
{
	static const uint8_t code4[5] = {1, 10, NONE, NONE, 3};

	if (code >= sizeof(code4) || code4[code] == NONE)
		return E6_EICMPTYPE;
	if (rest != 0)
		return E6_EICMPHDR;
	o->type = 3;
	o->code = code4[code];
	o->error = 1;
	return E6_OK;
}

static enum e6_result
icmp6_too_big(uint8_t code, uint32_t mtu, struct icmp_hdr *o)
{
	if (code != 0)
		return E6_EICMPTYPE;
	if (mtu < IP6_HLEN - IP4_HLEN || mtu - (IP6_HLEN - IP4_HLEN) > 0xffff)
		return E6_EICMPHDR;
	o->type = 3;
	o->code = 4;
	o->rest = mtu - (IP6_HLEN - IP4_HLEN);
	o->error = 1;
	return E6_OK;
}

static enum e6_result
icmp6_param(uint8_t code, uint32_t ptr, struct icmp_hdr *o)
{
	o->error = 1;
	if (code == 1) {	/* from protocol unreachable, always pointing at Next Header */
		if (ptr != 6)
			return E6_EICMPHDR;
		o->type = 3;
		o->code = 2;
		return E6_OK;
	}
	if (code != 0)
		return E6_EICMPTYPE;
	/* The inverse of param4_ptr6, at the one IPv6 pointer each IPv4 field maps to. */
	for (uint8_t p4 = 0; p4 < sizeof(param4_ptr6); p4++) {
		if (param4_ptr6[p4] == ptr) {
			o->type = 12;
			o->rest = (uint32_t)p4 << 24;
			return E6_OK;
		}
	}
	return E6_EICMPHDR;
}

static enum e6_result
icmp6_map(uint8_t type, uint8_t code, uint32_t rest, struct icmp_hdr *o)
{
	memset(o, 0, sizeof(*o));
	switch (type) {
	case 128:
	case 129:
		o->type = type == 128 ? 8 : 0;
		o->code = code;
		o->rest = rest;
		return E6_OK;
	case 1:
		return icmp6_unreach(code, rest, o);
	case 2:
		return icmp6_too_big(code, rest, o);
	case 3:
		if (code > 1)
			return E6_EICMPTYPE;
		if (rest != 0)
			return E6_EICMPHDR;
		o->type = 11;
		o->code = code;
		o->error = 1;
		return E6_OK;
	case 4:
		return icmp6_param(code, rest, o);
	}
	return E6_EICMPTYPE;
}

static enum e6_result
dec_inner_icmp(const struct v6h *ih, struct cur q, struct wbuf *w)
{
	uint8_t type = cur_u8(&q);

	if (ih->frag || cur_left(&q) < 7 || (type != 128 && type != 129))
		return E6_EINNER;
	wbuf_u8(w, type == 128 ? 8 : 0);
	wbuf_bytes(w, cur_rest(&q), cur_left(&q));
	return E6_OK;
}

/* The inverse of enc_inner, refusing quoted headers it would not have written. */
static enum e6_result
dec_inner(struct cur q, const struct v6h *outer, struct wbuf *w)
{
	struct v6h ih;
	struct v4h o;
	size_t fh, ip4 = w->len;

	if (e6_v6_fixed(&q, &ih) != E6_OK || ih.flow != 0)
		return E6_EINNER;
	if (memcmp(ih.src, outer->dst, 12) != 0 || memcmp(ih.dst, outer->src, 12) != 0)
		return E6_EINNERADDR;
	if (e6_v6_upper(&q, &ih) != E6_OK)
		return E6_EINNER;
	fh = ih.frag ? FRAG_HLEN : 0;
	if (ih.plen < fh || ih.plen - fh + IP4_HLEN > IP_MAXLEN)
		return E6_EINNER;
	e6_v4_from6(&ih, &o, ih.plen - fh + IP4_HLEN);
	wbuf_reserve(w, IP4_HLEN);
	e6_put_ip4_at(w, ip4, &o);
	if (ih.proto == NH_ICMP6)
		return dec_inner_icmp(&ih, q, w);
	wbuf_bytes(w, cur_rest(&q), cur_left(&q));
	return E6_OK;
}

/* Sets the IPv4 header (now that the length is known) and the ICMP checksum. */
static enum e6_result
icmp4_seal(struct wbuf *w, const struct v6h *h, size_t ip4, size_t icmp)
{
	struct cur msg = wb_view(w, icmp);
	struct v4h o;

	if (w->failed)
		return E6_ENOSPACE;
	e6_v4_from6(h, &o, IP4_HLEN + cur_left(&msg));
	e6_put_ip4_at(w, ip4, &o);
	wb_put16(w, icmp + 2, (uint16_t)~cs_fold(cs_cur(0, msg)));
	return E6_OK;
}

enum e6_result
e6_icmp_decode(const struct v6h *h, struct cur msg, struct wbuf *w)
{
	struct cur c = msg;
	struct icmp_hdr o;
	uint8_t type, code;
	uint32_t rest;
	size_t ip4 = w->len, icmp;
	enum e6_result r;

	if (h->frag)
		return E6_EICMPFRAG;
	type = cur_u8(&c);
	code = cur_u8(&c);
	cur_skip(&c, 2);
	rest = cur_u32(&c);
	if (!cur_ok(&c))
		return E6_ETRUNC;
	if (cs_fold(cs_pseudo6(h->src, h->dst, (uint32_t)cur_left(&msg), NH_ICMP6) +
	    cs_cur(0, msg)) != 0xffff)
		return E6_ECSUM;
	if ((r = icmp6_map(type, code, rest, &o)) != E6_OK)
		return r;
	/* Errors shrink by 20 on the way; an echo grows by 20 and may not fit. */
	if (!o.error && IP4_HLEN + cur_left(&msg) > IP_MAXLEN)
		return E6_ETOOBIG;
	wbuf_reserve(w, IP4_HLEN);
	icmp = w->len;
	wbuf_u8(w, o.type);
	wbuf_u8(w, o.code);
	wbuf_u16(w, 0);
	wbuf_u32(w, o.rest);
	if (o.error)
		r = dec_inner(c, h, w);
	else
		wbuf_bytes(w, cur_rest(&c), cur_left(&c));
	if (r != E6_OK)
		return r;
	return icmp4_seal(w, h, ip4, icmp);
}
