/*
 * embed6 header translation, IPv4 <-> IPv6 (RFC 7915-style; what is kept and lost is listed
 * in embed6.h). The decoder is the exact inverse of the encoder and refuses whatever the
 * encoder cannot produce, so a packet that decodes re-encodes to itself (modulo the outer
 * flow label, which the substrate may set, and the two spellings of a zero checksum).
 *
 * This file has the IP headers, TCP/UDP and the entry points; ICMP is in embed6_icmp.c.
 * All input is read through struct cur. Output is written through struct wbuf; the only
 * pointer arithmetic is on our own output (wb_view), to checksum and patch what we wrote.
 */
#include <string.h>

#include "embed6_int.h"

/* ---- checksum adjustment and the IP headers ---- */

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m and m' the sums of the old and new
 * address words. Length and protocol weigh the same in both pseudo-headers, so the
 * addresses are all that change.
 */
static uint16_t
cs_adjust(uint16_t hc, uint16_t old_sum, uint16_t new_sum)
{
	return (uint16_t)~cs_fold((uint64_t)(uint16_t)~hc + (uint16_t)~old_sum + new_sum);
}

void
e6_put_ip6(struct wbuf *w, const struct v4h *h, uint16_t plen, const uint8_t src[16],
    const uint8_t dst[16])
{
	uint8_t up = h->proto == PROTO_ICMP ? NH_ICMP6 : h->proto;
	int frag = h->mf || h->off;

	wbuf_u32(w, (uint32_t)6 << 28 | (uint32_t)h->tos << 20);	/* flow label 0 */
	wbuf_u16(w, plen);
	wbuf_u8(w, frag ? NH_FRAG : up);
	wbuf_u8(w, h->ttl);
	wbuf_bytes(w, src, 16);
	wbuf_bytes(w, dst, 16);
	if (!frag)
		return;
	/* RFC 7915 section 4.1: the IPv4 ID in the low 16 bits, offset and MF as they were. */
	wbuf_u8(w, up);
	wbuf_u8(w, 0);
	wbuf_u16(w, (uint16_t)(h->off << 3 | h->mf));
	wbuf_u32(w, h->id);
}

/* Fills the 20 bytes reserved at off with h and its header checksum. */
void
e6_put_ip4_at(struct wbuf *w, size_t off, const struct v4h *h)
{
	uint16_t flags = (uint16_t)((h->df ? IP4_DF : 0) | (h->mf ? IP4_MF : 0) | h->off);
	uint16_t words[10] = {
		(uint16_t)(0x4500 | h->tos), h->total, h->id, flags,
		(uint16_t)(h->ttl << 8 | h->proto), 0,
		(uint16_t)(h->src >> 16), (uint16_t)h->src, (uint16_t)(h->dst >> 16), (uint16_t)h->dst,
	};
	uint64_t sum = 0;

	for (int i = 0; i < 10; i++)
		sum += words[i];
	words[5] = (uint16_t)~cs_fold(sum);
	for (int i = 0; i < 10; i++)
		wb_put16(w, off + 2 * (size_t)i, words[i]);
}

/* ---- what may cross ---- */

/*
 * Protocol numbers IPv6 reads as extension headers (IANA "IPv6 Extension Header Types"):
 * an IPv4 packet carrying one cannot be translated faithfully. AH is among them, and
 * would break anyway since it authenticates the IPv4 ID that we do not keep. ESP (50) is
 * carried: nothing on the way looks past it.
 */
int
e6_is_exthdr(uint8_t p)
{
	switch (p) {
	case 0: case 43: case NH_FRAG: case 51: case 60: case 135: case 139: case 140:
	case 253: case 254:
		return 1;
	}
	return 0;
}

/* Transport protocols whose checksum covers the pseudo-header, and the checksum's offset. */
static int
l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case 6:		/* TCP */
		return 16;
	case PROTO_UDP:
	case 33:	/* DCCP */
	case 136:	/* UDP-Lite */
		return 6;
	}
	return -1;
}

/* A refusal leaves the buffer as the caller gave it, so a drop never sends half a packet. */
static enum e6_result
finish(struct wbuf *w, size_t start, enum e6_result r)
{
	if (r == E6_OK && w->failed)
		r = E6_ENOSPACE;
	if (r != E6_OK)
		w->len = start;
	return r;
}

/* ---- IPv4 input ---- */

/* The fixed 20 bytes; total >= header length is all it can check without the rest. */
enum e6_result
e6_v4_fixed(struct cur *c, struct v4h *h)
{
	uint8_t vihl = cur_u8(c);
	uint16_t ff;

	h->tos = cur_u8(c);
	h->total = cur_u16(c);
	h->id = cur_u16(c);
	ff = cur_u16(c);
	h->ttl = cur_u8(c);
	h->proto = cur_u8(c);
	cur_skip(c, 2);
	h->src = cur_u32(c);
	h->dst = cur_u32(c);
	if (!cur_ok(c))
		return E6_ETRUNC;
	if (vihl >> 4 != 4)
		return E6_EVERSION;
	h->hlen = (uint8_t)((vihl & 0x0f) * 4);
	if (h->hlen < IP4_HLEN || h->total < h->hlen)
		return E6_ELENGTH;
	h->df = !!(ff & IP4_DF);
	h->mf = !!(ff & IP4_MF);
	h->off = ff & 0x1fff;
	return E6_OK;
}

/* A source route not yet used up would send the packet on from its destination. */
static int
srcroute_unexpired(struct cur body, uint8_t len)
{
	uint8_t ptr = cur_u8(&body);

	return !cur_ok(&body) || ptr <= len;
}

/* Options are dropped (RFC 7915 section 4.1), but only well-formed ones, and no route. */
static enum e6_result
v4_options(struct cur o)
{
	while (cur_left(&o) > 0) {
		uint8_t type = cur_u8(&o), len;
		struct cur body;

		if (type == 0)
			return E6_OK;	/* end of list; padding follows */
		if (type == 1)
			continue;	/* no-op */
		len = cur_u8(&o);
		if (!cur_ok(&o) || len < 2)
			return E6_EOPTIONS;
		body = cur_take(&o, len - 2u);
		if (!cur_ok(&body))
			return E6_EOPTIONS;
		if ((type == 131 || type == 137) && srcroute_unexpired(body, len))
			return E6_ESRCROUTE;
	}
	return E6_OK;
}

/* Reads and checks the outer IPv4 header; *payload gets the Total Length's worth. */
static enum e6_result
v4_take(struct cur *in, struct v4h *h, struct cur *payload)
{
	struct cur c = *in, hdr;
	enum e6_result r = e6_v4_fixed(&c, h);

	if (r != E6_OK)
		return r;
	if (cur_left(in) < h->total)
		return E6_ETRUNC;
	hdr = cur_take(in, h->hlen);
	/* The IPv4 header checksum disappears here: check it, or corruption goes unseen. */
	if (cs_fold(cs_cur(0, hdr)) != 0xffff)
		return E6_ECSUM;
	cur_skip(&hdr, IP4_HLEN);
	if ((r = v4_options(hdr)) != E6_OK)
		return r;
	*payload = cur_take(in, h->total - h->hlen);
	cur_skip(in, cur_left(in));	/* link-layer padding */
	return E6_OK;
}

/* ---- IPv4 -> IPv6: TCP, UDP and everything without an ICMP header ---- */

/* RFC 7915 section 4.5: checksum 0 means "none" in IPv4 only; compute it for IPv6. */
static enum e6_result
enc_udp_zero(const struct v4h *h, struct cur pay, const uint8_t src6[16],
    const uint8_t dst6[16], struct wbuf *w, size_t l4)
{
	struct cur c = pay;
	uint16_t ulen, ck;

	if (h->mf)
		return E6_EUDPZEROFRAG;	/* the rest of the datagram is not here to sum */
	cur_skip(&c, 4);
	ulen = cur_u16(&c);
	if (ulen < 8 || ulen > cur_left(&pay))
		return E6_EUDPLEN;
	cur_truncate(&pay, ulen);
	ck = (uint16_t)~cs_fold(cs_pseudo6(src6, dst6, ulen, PROTO_UDP) + cs_cur(0, pay));
	wb_put16(w, l4 + 6, ck ? ck : 0xffff);
	return E6_OK;
}

/* Adjusts the L4 checksum copied at l4 for the IPv6 pseudo-header. */
static enum e6_result
enc_l4(const struct v4h *h, struct cur pay, const uint8_t src6[16], const uint8_t dst6[16],
    struct wbuf *w, size_t l4)
{
	int off = l4_csum_off(h->proto);
	struct cur c = pay;
	uint16_t ck;

	/* Later fragments hold no L4 header; the first one's checksum covers them too. */
	if (off < 0 || h->off != 0)
		return E6_OK;
	cur_skip(&c, (size_t)off);
	ck = cur_u16(&c);
	if (!cur_ok(&c))
		return E6_EL4TRUNC;
	if (h->proto == PROTO_UDP && ck == 0)
		return enc_udp_zero(h, pay, src6, dst6, w, l4);
	ck = cs_adjust(ck, cs_fold(cs_addr4(h->src, h->dst)), cs_fold(cs_addr6(src6, dst6)));
	if (h->proto == PROTO_UDP && ck == 0)
		ck = 0xffff;	/* the same sum, in the spelling UDP allows */
	wb_put16(w, l4 + (size_t)off, ck);
	return E6_OK;
}

static enum e6_result
enc_plain(const struct v4h *h, struct cur pay, const uint8_t src6[16],
    const uint8_t dst6[16], struct wbuf *w)
{
	size_t plen = cur_left(&pay) + (h->mf || h->off ? FRAG_HLEN : 0), l4;

	e6_put_ip6(w, h, (uint16_t)plen, src6, dst6);
	l4 = w->len;
	wbuf_bytes(w, cur_rest(&pay), cur_left(&pay));
	return enc_l4(h, pay, src6, dst6, w, l4);
}

static enum e6_result
enc_packet(struct cur *in, const uint8_t src6[16], const uint8_t dst6[16], struct wbuf *w)
{
	struct v4h h;
	struct cur pay;
	enum e6_result r;

	if ((r = v4_take(in, &h, &pay)) != E6_OK)
		return r;
	/* The decoder reads the IPv4 addresses back from the last 32 bits. */
	if (lo32(src6) != h.src || lo32(dst6) != h.dst)
		return E6_EADDR;
	if (h.proto == NH_ICMP6 || e6_is_exthdr(h.proto))
		return E6_EPROTO;
	if (h.proto == PROTO_ICMP)
		return e6_icmp_encode(&h, pay, src6, dst6, w);
	return enc_plain(&h, pay, src6, dst6, w);
}

enum e6_result
e6_encode(struct cur *in, const uint8_t src6[16], const uint8_t dst6[16], struct wbuf *out)
{
	size_t start = out->len;

	if (out->failed)
		return E6_ENOSPACE;
	return finish(out, start, enc_packet(in, src6, dst6, out));
}

/* ---- IPv6 input ---- */

enum e6_result
e6_v6_fixed(struct cur *c, struct v6h *h)
{
	uint32_t vtf = cur_u32(c);

	h->plen = cur_u16(c);
	h->nh = cur_u8(c);
	h->hlim = cur_u8(c);
	cur_copy(c, h->src, 16);
	cur_copy(c, h->dst, 16);
	if (!cur_ok(c))
		return E6_ETRUNC;
	if (vtf >> 28 != 6)
		return E6_EVERSION;
	h->tc = (uint8_t)(vtf >> 20);
	h->flow = vtf & 0xfffff;
	h->proto = h->nh;
	h->frag = h->mf = 0;
	h->off = 0;
	h->id = 0;
	return E6_OK;
}

/*
 * At most one Fragment Header, as e6_encode writes it: reserved bits zero, an ID that fits
 * IPv4's 16 bits, and a real fragment (RFC 8021 atomic fragments are never sent by us).
 */
enum e6_result
e6_v6_upper(struct cur *pay, struct v6h *h)
{
	if (h->nh == NH_FRAG) {
		uint8_t nh = cur_u8(pay), res = cur_u8(pay);
		uint16_t fo = cur_u16(pay);
		uint32_t id = cur_u32(pay);

		if (!cur_ok(pay))
			return E6_ETRUNC;
		if (res != 0 || (fo & 6) != 0 || id > 0xffff || fo == 0)
			return E6_EFRAGHDR;
		h->frag = 1;
		h->proto = nh;
		h->off = fo >> 3;
		h->mf = fo & 1;
		h->id = id;
	}
	if (e6_is_exthdr(h->proto))
		return E6_EEXTHDR;
	if (h->proto == PROTO_ICMP)
		return E6_EPROTO;	/* we always carry ICMP as ICMPv6 */
	return E6_OK;
}

/*
 * The IPv4 header e6_encode started from, less what it could not carry: without a Fragment
 * Header the packet was unfragmented and is delivered DF=1, ID=0 (embed6.h says why); a
 * fragment comes back with DF=0 (RFC 7915 section 5.1.1).
 */
void
e6_v4_from6(const struct v6h *h, struct v4h *o, size_t total)
{
	memset(o, 0, sizeof(*o));
	o->tos = h->tc;
	o->total = (uint16_t)total;
	o->ttl = h->hlim;
	o->proto = h->proto == NH_ICMP6 ? PROTO_ICMP : h->proto;
	o->src = lo32(h->src);
	o->dst = lo32(h->dst);
	o->df = !h->frag;
	o->mf = h->mf;
	o->off = h->off;
	o->id = (uint16_t)h->id;
}

/* ---- IPv6 -> IPv4: TCP, UDP and everything without an ICMP header ---- */

static enum e6_result
dec_l4(const struct v6h *h, struct cur pay, struct wbuf *w, size_t l4)
{
	int off = l4_csum_off(h->proto);
	struct cur c = pay;
	uint16_t ck;

	if (off < 0 || h->off != 0)
		return E6_OK;
	cur_skip(&c, (size_t)off);
	ck = cur_u16(&c);
	if (!cur_ok(&c))
		return E6_EL4TRUNC;
	if (h->proto == PROTO_UDP && ck == 0)
		return E6_EUDPZERO;
	ck = cs_adjust(ck, cs_fold(cs_addr6(h->src, h->dst)),
	    cs_fold(cs_addr4(lo32(h->src), lo32(h->dst))));
	if (h->proto == PROTO_UDP && ck == 0)
		ck = 0xffff;	/* 0 would mean "no checksum" in IPv4 */
	wb_put16(w, l4 + (size_t)off, ck);
	return E6_OK;
}

static enum e6_result
dec_plain(const struct v6h *h, struct cur pay, struct wbuf *w)
{
	size_t total = cur_left(&pay) + IP4_HLEN, ip4 = w->len, l4;
	struct v4h o;

	if (total > IP_MAXLEN)
		return E6_ETOOBIG;
	e6_v4_from6(h, &o, total);
	wbuf_reserve(w, IP4_HLEN);
	e6_put_ip4_at(w, ip4, &o);
	l4 = w->len;
	wbuf_bytes(w, cur_rest(&pay), cur_left(&pay));
	return dec_l4(h, pay, w, l4);
}

static enum e6_result
dec_packet(struct cur *in, const struct e6_layout *local, struct wbuf *w, struct e6_meta *m)
{
	struct v6h h;
	struct cur pay;
	enum e6_result r;

	if ((r = e6_v6_fixed(in, &h)) != E6_OK)
		return r;
	memcpy(m->src6, h.src, 16);
	memcpy(m->dst6, h.dst, 16);
	if (cur_left(in) < h.plen)
		return E6_ETRUNC;
	if (cur_left(in) > h.plen)
		return E6_ELENGTH;
	if ((r = e6_addr_split(local, h.dst, &m->dst)) != E6_OK)
		return r;
	/* Cannot fail: e6_addr_split has just accepted the prefix length. */
	(void)e6_addr_split_any(local->plen, h.src, &m->src);
	pay = cur_take(in, h.plen);
	if ((r = e6_v6_upper(&pay, &h)) != E6_OK)
		return r;
	if (h.proto == NH_ICMP6)
		return e6_icmp_decode(&h, pay, w);
	return dec_plain(&h, pay, w);
}

enum e6_result
e6_decode(struct cur *in, const struct e6_layout *local, struct wbuf *out,
    struct e6_meta *meta)
{
	size_t start = out->len;
	enum e6_result r;

	memset(meta, 0, sizeof(*meta));
	if (out->failed)
		return E6_ENOSPACE;
	r = finish(out, start, dec_packet(in, local, out, meta));
	if (r != E6_OK) {
		/* Only the addresses are promised on failure, never half-split fields. */
		memset(&meta->src, 0, sizeof(meta->src));
		memset(&meta->dst, 0, sizeof(meta->dst));
	}
	return r;
}
