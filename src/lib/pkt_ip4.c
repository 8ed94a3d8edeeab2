/*
 * IPv4: the header checks a router makes before forwarding (RFC 1812 section 5.2.2), the
 * header the builders write, and the in-place edits of forwarding (TTL, checksums).
 */
#include "pkt.h"

#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_OFF_MASK 0x1fff
#define IP4_MAX_LEN 65535
#define IP4_OPT_EOL 0
#define IP4_OPT_NOP 1
#define IP4_OPT_LSRR 0x83
#define IP4_OPT_SSRR 0x89

/* The fixed 20 bytes, read from a copy of c so a refusal leaves c untouched. */
static void
ip4_read_fixed(struct cur f, struct pkt_ip4 *ip)
{
	uint16_t frag;

	ip->ihl = (uint8_t)((cur_u8(&f) & 0x0f) * 4);
	ip->tos = cur_u8(&f);
	ip->totlen = cur_u16(&f);
	ip->id = cur_u16(&f);
	frag = cur_u16(&f);
	ip->df = (frag & IP4_FLAG_DF) != 0;
	ip->mf = (frag & IP4_FLAG_MF) != 0;
	ip->frag_off = (uint16_t)((frag & IP4_OFF_MASK) * 8);
	ip->ttl = cur_u8(&f);
	ip->proto = cur_u8(&f);
	ip->csum = cur_u16(&f);
	ip->src = cur_u32(&f);
	ip->dst = cur_u32(&f);
}

/* Options are only walked for well-formedness: Veneer acts on none of them, but a
 * source route tells the agent to drop rather than forward. */
static enum pkt_result
ip4_walk_options(struct cur o, struct pkt_ip4 *ip)
{
	ip->srcroute = 0;
	while (cur_left(&o) > 0) {
		uint8_t type = cur_u8(&o), len;

		if (type == IP4_OPT_EOL)
			break;
		if (type == IP4_OPT_NOP)
			continue;
		len = cur_u8(&o);
		if (!cur_ok(&o) || len < 2 || (size_t)(len - 2) > cur_left(&o))
			return PKT_BAD_OPTION;
		cur_skip(&o, (size_t)(len - 2));
		if (type == IP4_OPT_LSRR || type == IP4_OPT_SSRR)
			ip->srcroute = 1;
	}
	return PKT_OK;
}

static enum pkt_result
ip4_check_frag(const struct pkt_ip4 *ip)
{
	size_t plen = cur_left(&ip->payload);

	/* Ping of death: reassembly would run past 64 KiB. A non-last fragment that is not a
	 * multiple of 8 bytes is one no sender makes (RFC 791), only an evasion attempt. */
	if ((size_t)ip->frag_off + plen > IP4_MAX_LEN)
		return PKT_BAD_FRAG;
	if (ip->mf && plen % 8 != 0)
		return PKT_BAD_FRAG;
	return PKT_OK;
}

enum pkt_result
pkt_ip4_parse(struct cur *c, unsigned flags, struct pkt_ip4 *ip)
{
	struct cur peek = *c, dg;

	if (cur_left(c) < PKT_IP4_HLEN)
		return PKT_TRUNCATED;
	if (cur_u8(&peek) >> 4 != 4)
		return PKT_BAD_VERSION;
	ip4_read_fixed(*c, ip);
	if (ip->ihl < PKT_IP4_HLEN)
		return PKT_BAD_IHL;
	if (ip->totlen < PKT_IP4_HLEN || ip->totlen > cur_left(c))
		return PKT_BAD_TOTLEN;
	if (ip->ihl > ip->totlen)
		return PKT_BAD_IHL;
	dg = cur_take(c, ip->totlen);
	ip->hdr = cur_take(&dg, ip->ihl);
	ip->payload = dg;
	if (!(flags & PKT_CSUM_SKIP) && csum_fold(csum_sum(0, ip->hdr)) != 0)
		return PKT_BAD_CSUM;
	ip->options = ip->hdr;
	cur_skip(&ip->options, PKT_IP4_HLEN);
	ip->has_options = cur_left(&ip->options) > 0;
	if (ip4_check_frag(ip) != PKT_OK)
		return PKT_BAD_FRAG;
	return ip4_walk_options(ip->options, ip);
}

enum pkt_result
pkt_ip4_frame_parse(struct cur *c, unsigned flags, struct pkt_ip4_frame *f)
{
	enum pkt_result r = pkt_eth_parse(c, &f->eth);
	struct cur l3;

	if (r != PKT_OK)
		return r;
	if (f->eth.tagged)
		return PKT_VLAN_TAGGED;
	if (f->eth.type != PKT_ETHERTYPE_IPV4)
		return PKT_UNSUPPORTED;
	l3 = f->eth.payload;
	return pkt_ip4_parse(&l3, flags, &f->ip);
}

int
pkt_ip4_is_fragment(const struct pkt_ip4 *ip)
{
	return ip->mf || ip->frag_off != 0;
}

enum pkt_result
pkt_ip4_write(struct wbuf *w, const struct pkt_ip4 *h)
{
	size_t start = w->len;
	uint16_t frag = (uint16_t)((h->df ? IP4_FLAG_DF : 0) | (h->mf ? IP4_FLAG_MF : 0) |
	    ((h->frag_off / 8) & IP4_OFF_MASK));
	uint16_t ttlproto = (uint16_t)(h->ttl << 8 | h->proto);
	uint16_t vtos = (uint16_t)(0x4500 | h->tos);
	uint32_t sum = (uint32_t)vtos + h->totlen + h->id + frag + ttlproto +
	    (h->src >> 16) + (h->src & 0xffff) + (h->dst >> 16) + (h->dst & 0xffff);

	if (w->failed)
		return PKT_NO_SPACE;
	wbuf_u16(w, vtos);
	wbuf_u16(w, h->totlen);
	wbuf_u16(w, h->id);
	wbuf_u16(w, frag);
	wbuf_u16(w, ttlproto);
	wbuf_u16(w, csum_fold(sum));
	wbuf_u32(w, h->src);
	wbuf_u32(w, h->dst);
	return pkt_wbuf_result(w, start);
}

enum pkt_result
pkt_ip4_dec_ttl(struct wbuf *w, size_t off)
{
	struct cur v = pkt_wbuf_view(w, off, PKT_IP4_HLEN);
	uint8_t ttl, proto;
	uint16_t csum;

	cur_skip(&v, 8);
	ttl = cur_u8(&v);
	proto = cur_u8(&v);
	csum = cur_u16(&v);
	if (!cur_ok(&v))
		return PKT_TRUNCATED;
	if (ttl <= 1)
		return PKT_TTL_EXPIRED;
	csum = csum_update16(csum, (uint16_t)(ttl << 8 | proto),
	    (uint16_t)((ttl - 1) << 8 | proto));
	ttl--;
	pkt_wbuf_put(w, off + 8, &ttl, 1);
	pkt_wbuf_put16(w, off + 10, csum);
	return PKT_OK;
}

/* Header length of the IPv4 header at off, or 0 if it is not one that fits in w. */
static size_t
ip4_hdr_len_at(const struct wbuf *w, size_t off)
{
	struct cur v = pkt_wbuf_view(w, off, 1), h;
	uint8_t vihl = cur_u8(&v);
	size_t ihl = (size_t)(vihl & 0x0f) * 4;

	if (!cur_ok(&v) || vihl >> 4 != 4 || ihl < PKT_IP4_HLEN)
		return 0;
	h = pkt_wbuf_view(w, off, ihl);
	return cur_ok(&h) ? ihl : 0;
}

enum pkt_result
pkt_ip4_hdr_csum_fill(struct wbuf *w, size_t off)
{
	size_t ihl = ip4_hdr_len_at(w, off);

	if (ihl == 0)
		return PKT_TRUNCATED;
	pkt_wbuf_put16(w, off + 10, 0);
	pkt_wbuf_put16(w, off + 10, csum_fold(csum_sum(0, pkt_wbuf_view(w, off, ihl))));
	return PKT_OK;
}

/* Where each L4 protocol keeps its checksum, and whether the pseudo-header is in it. */
static const struct ip4_l4_csum {
	uint8_t proto;
	uint8_t field;
	uint8_t pseudo;
} ip4_l4_csums[] = {
	{PKT_IPPROTO_ICMP, 2, 0},
	{PKT_IPPROTO_UDP, 6, 1},
	{PKT_IPPROTO_TCP, 16, 1},
};

/* UDP's checksum covers what its own length field says, as receivers check it. */
static enum pkt_result
ip4_l4_len(const struct wbuf *w, size_t l4, const struct pkt_ip4 *ip, size_t *len)
{
	struct cur ulen;
	size_t n;

	if (ip->proto != PKT_IPPROTO_UDP)
		return PKT_OK;
	ulen = pkt_wbuf_view(w, l4 + 4, 2);
	n = cur_u16(&ulen);
	if (n < 8 || n > *len)
		return PKT_BAD_LENGTH;
	*len = n;
	return PKT_OK;
}

static enum pkt_result
ip4_l4_fill(struct wbuf *w, size_t l4, const struct pkt_ip4 *ip, const struct ip4_l4_csum *k)
{
	size_t len = cur_left(&ip->payload);
	uint32_t sum;
	uint16_t csum;

	if (len < (size_t)k->field + 2)
		return PKT_TRUNCATED;
	if (ip4_l4_len(w, l4, ip, &len) != PKT_OK)
		return PKT_BAD_LENGTH;
	pkt_wbuf_put16(w, l4 + k->field, 0);
	sum = k->pseudo ? csum_pseudo4(ip->src, ip->dst, ip->proto, (uint16_t)len) : 0;
	csum = csum_fold(csum_sum(sum, pkt_wbuf_view(w, l4, len)));
	/* In UDP a zero checksum means "none", so a computed zero is sent as -0. */
	if (csum == 0 && ip->proto == PKT_IPPROTO_UDP)
		csum = 0xffff;
	pkt_wbuf_put16(w, l4 + k->field, csum);
	return PKT_OK;
}

enum pkt_result
pkt_ip4_l4_csum_fill(struct wbuf *w, size_t off)
{
	struct cur v = pkt_wbuf_view(w, off, w->len >= off ? w->len - off : 0);
	struct pkt_ip4 ip;
	enum pkt_result r = pkt_ip4_parse(&v, PKT_CSUM_SKIP, &ip);

	if (r != PKT_OK)
		return r;
	if (pkt_ip4_is_fragment(&ip))
		return PKT_FRAGMENT;
	for (size_t i = 0; i < sizeof(ip4_l4_csums) / sizeof(ip4_l4_csums[0]); i++) {
		if (ip4_l4_csums[i].proto == ip.proto)
			return ip4_l4_fill(w, off + ip.ihl, &ip, &ip4_l4_csums[i]);
	}
	return PKT_UNSUPPORTED;
}
