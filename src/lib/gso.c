/*
 * TAP offloads (gso.h): the virtio_net_hdr, checksum completion, TCP/IPv4 segmentation
 * and the checks of receive-side coalescing. Offsets below are those of an untagged
 * Ethernet frame: IPv4 header at 14, TCP header at 14 + IHL.
 */
#include "gso.h"

#include <string.h>

#include "pkt.h"

#define ETH 14
#define IP_TOTLEN (ETH + 2)
#define IP_ID (ETH + 4)
#define IP_FRAG (ETH + 6)
#define IP_PROTO (ETH + 9)
#define IP_CSUM (ETH + 10)
#define IP_SRC (ETH + 12)
#define IP_DST (ETH + 16)
#define TCP_SEQ 4
#define TCP_DOFF 12
#define TCP_FLAGS 13
#define TCP_CSUM 16

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
le16(struct cur *c)
{
	uint16_t v = cur_u16(c);

	return (uint16_t)(v >> 8 | v << 8);
}

enum gso_result
gso_vnet_parse(struct cur *c, struct gso_vnet *v)
{
	uint8_t type;

	v->flags = cur_u8(c);
	type = cur_u8(c);
	v->hdr_len = le16(c);
	v->size = le16(c);
	v->csum_start = le16(c);
	v->csum_offset = le16(c);
	if (!cur_ok(c))
		return GSO_TRUNCATED;
	if (v->flags & ~(GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID))
		return GSO_BAD_FLAGS;
	v->ecn = (type & GSO_ECN) != 0;
	v->type = type & (uint8_t)~GSO_ECN;
	if (v->type == GSO_TCPV6)
		return GSO_IPV6;
	if (v->type != GSO_NONE && v->type != GSO_TCPV4)
		return GSO_BAD_TYPE;
	if (v->type == GSO_TCPV4 && v->size == 0)
		return GSO_BAD_SIZE;
	return GSO_OK;
}

void
gso_vnet_write(uint8_t out[GSO_VNET_HLEN], const struct gso_vnet *v)
{
	const uint16_t f[4] = {v->hdr_len, v->size, v->csum_start, v->csum_offset};

	out[0] = v->flags;
	out[1] = (uint8_t)(v->type | (v->ecn ? GSO_ECN : 0));
	for (int i = 0; i < 4; i++) {
		out[2 + 2 * i] = (uint8_t)f[i];
		out[3 + 2 * i] = (uint8_t)(f[i] >> 8);
	}
}

uint32_t
gso_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t acc = 0;

	/* Native-order words: the one's-complement sum is the same up to a final byte swap. */
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		acc += (w >> 32) + (w & 0xffffffffu);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		acc += p[0];
#else
		acc += (uint32_t)p[0] << 8;
#endif
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = (acc >> 8 | acc << 8) & 0xffff;
#endif
	acc += sum;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

enum gso_result
gso_csum_complete(uint8_t *frame, size_t len, const struct gso_vnet *v)
{
	size_t at = (size_t)v->csum_start + v->csum_offset;
	uint16_t sum;

	if (v->csum_start >= len || at + 2 > len)
		return GSO_BAD_CSUM;
	sum = csum_fold(gso_sum(frame + v->csum_start, len - v->csum_start, 0));
	/* UDP (RFC 768): a computed 0 is sent as all ones; 0 means "no checksum". */
	if (sum == 0 && v->csum_offset == 6 && len > IP_PROTO && frame[12] == 0x08 &&
	    frame[13] == 0x00 && frame[IP_PROTO] == PKT_IPPROTO_UDP)
		sum = 0xffff;
	wr16(frame + at, sum);
	return GSO_OK;
}

enum gso_result
gso_tcp4_begin(struct gso_iter *it, const uint8_t *frame, size_t len, uint16_t mss)
{
	size_t ihl, totlen, doff, payload;

	if (len < ETH + 20)
		return GSO_TRUNCATED;
	if (frame[12] != 0x08 || frame[13] != 0x00 || frame[ETH] >> 4 != 4)
		return GSO_NOT_TCP4;
	ihl = (size_t)(frame[ETH] & 0x0f) * 4;
	totlen = rd16(frame + IP_TOTLEN);
	if (ihl < 20 || totlen < ihl + 20 || ETH + totlen > len)
		return GSO_NOT_TCP4;
	if ((rd16(frame + IP_FRAG) & 0x3fff) != 0 || frame[IP_PROTO] != PKT_IPPROTO_TCP)
		return GSO_NOT_TCP4;
	doff = (size_t)(frame[ETH + ihl + TCP_DOFF] >> 4) * 4;
	if (doff < 20 || ihl + doff > totlen)
		return GSO_NOT_TCP4;
	if (mss == 0)
		return GSO_BAD_SIZE;
	memset(it, 0, sizeof(*it));
	it->frame = frame;
	it->l4off = ETH + ihl;
	it->hlen = it->l4off + doff;
	it->end = ETH + totlen;
	it->off = it->hlen;
	it->mss = mss;
	it->id = rd16(frame + IP_ID);
	it->seq = rd32(frame + it->l4off + TCP_SEQ);
	it->src = rd32(frame + IP_SRC);
	it->dst = rd32(frame + IP_DST);
	payload = it->end - it->hlen;
	it->n = payload == 0 ? 1 : (unsigned)((payload + mss - 1) / mss);
	return GSO_OK;
}

size_t
gso_tcp4_next(struct gso_iter *it, uint8_t *out, size_t cap)
{
	size_t chunk, seglen, ihl = it->l4off - ETH;
	uint8_t *tcp = out + it->l4off;
	uint8_t flags;
	int last;

	if (it->i >= it->n)
		return 0;
	chunk = it->end - it->off < it->mss ? it->end - it->off : it->mss;
	seglen = it->hlen + chunk;
	if (seglen > cap)
		return 0;
	last = it->i + 1 == it->n;
	memcpy(out, it->frame, it->hlen);
	memcpy(out + it->hlen, it->frame + it->off, chunk);
	wr16(out + IP_TOTLEN, (uint16_t)(seglen - ETH));
	wr16(out + IP_ID, (uint16_t)(it->id + it->i));
	wr16(out + IP_CSUM, 0);
	wr16(out + IP_CSUM, csum_fold(gso_sum(out + ETH, ihl, 0)));
	wr32(tcp + TCP_SEQ, it->seq + (uint32_t)(it->off - it->hlen));
	flags = tcp[TCP_FLAGS];
	if (!last)
		flags &= (uint8_t)~(PKT_TCP_FIN | PKT_TCP_PSH);
	if (it->i > 0)
		flags &= (uint8_t)~PKT_TCP_CWR;
	tcp[TCP_FLAGS] = flags;
	wr16(tcp + TCP_CSUM, 0);
	wr16(tcp + TCP_CSUM, csum_fold(gso_sum(tcp, seglen - it->l4off,
	    csum_pseudo4(it->src, it->dst, PKT_IPPROTO_TCP, (uint16_t)(seglen - it->l4off)))));
	it->off += chunk;
	it->i++;
	return seglen;
}

int
gso_seg_candidate(const uint8_t *frame, size_t len, struct gso_seg *s)
{
	const size_t l4 = ETH + 20;
	size_t doff;
	uint32_t sum;

	if (len < l4 + 20 || len > 0xffff + ETH || frame[12] != 0x08 || frame[13] != 0x00 ||
	    frame[ETH] != 0x45 || ETH + (size_t)rd16(frame + IP_TOTLEN) != len ||
	    (rd16(frame + IP_FRAG) & 0x3fff) != 0 || frame[IP_PROTO] != PKT_IPPROTO_TCP)
		return 0;
	doff = (size_t)(frame[l4 + TCP_DOFF] >> 4) * 4;
	if (doff < 20 || l4 + doff >= len ||
	    (frame[l4 + TCP_FLAGS] & (uint8_t)~PKT_TCP_PSH) != PKT_TCP_ACK)
		return 0;
	sum = csum_pseudo4(rd32(frame + IP_SRC), rd32(frame + IP_DST), PKT_IPPROTO_TCP,
	    (uint16_t)(len - l4));
	if (csum_fold(gso_sum(frame + l4, len - l4, sum)) != 0)
		return 0;
	s->hlen = l4 + doff;
	s->plen = len - s->hlen;
	s->seq = rd32(frame + l4 + TCP_SEQ);
	s->flags = frame[l4 + TCP_FLAGS];
	return 1;
}

int
gso_seg_follows(const uint8_t *ha, const struct gso_seg *a, const uint8_t *hb,
    const struct gso_seg *b, uint32_t next_seq)
{
	const size_t l4 = ETH + 20;

	return a->hlen == b->hlen && b->seq == next_seq &&
	    memcmp(ha, hb, ETH) == 0 &&                           /* MACs, EtherType */
	    ha[ETH + 1] == hb[ETH + 1] &&                         /* TOS */
	    memcmp(ha + IP_FRAG, hb + IP_FRAG, 4) == 0 &&         /* DF, TTL, protocol */
	    memcmp(ha + IP_SRC, hb + IP_SRC, 8) == 0 &&           /* addresses */
	    memcmp(ha + l4, hb + l4, 4) == 0 &&                   /* ports */
	    memcmp(ha + l4 + 8, hb + l4 + 8, 5) == 0 &&           /* ACK, data offset */
	    ((ha[l4 + TCP_FLAGS] ^ hb[l4 + TCP_FLAGS]) & (uint8_t)~PKT_TCP_PSH) == 0 &&
	    memcmp(ha + l4 + 14, hb + l4 + 14, 2) == 0 &&         /* window */
	    memcmp(ha + l4 + 18, hb + l4 + 18, a->hlen - l4 - 18) == 0; /* urgent, options */
}

int
gso_merge_header(uint8_t *hdr, const struct gso_seg *a, size_t plen, int psh, uint16_t mss,
    struct gso_vnet *v)
{
	const size_t l4 = ETH + 20;
	size_t totlen = a->hlen - ETH + plen;

	if (totlen > 0xffff)
		return -1;
	wr16(hdr + IP_TOTLEN, (uint16_t)totlen);
	wr16(hdr + IP_CSUM, 0);
	wr16(hdr + IP_CSUM, csum_fold(gso_sum(hdr + ETH, 20, 0)));
	if (psh)
		hdr[l4 + TCP_FLAGS] |= PKT_TCP_PSH;
	/* Checksum-partial: the field holds the pseudo-header sum, the receiver's kernel adds
	 * the rest when it needs it (it trusts the segments this agent verified). */
	wr16(hdr + l4 + TCP_CSUM, (uint16_t)~csum_fold(csum_pseudo4(rd32(hdr + IP_SRC),
	    rd32(hdr + IP_DST), PKT_IPPROTO_TCP, (uint16_t)(totlen - 20))));
	memset(v, 0, sizeof(*v));
	v->flags = GSO_F_NEEDS_CSUM;
	v->type = GSO_TCPV4;
	v->hdr_len = (uint16_t)a->hlen;
	v->size = mss;
	v->csum_start = (uint16_t)l4;
	v->csum_offset = TCP_CSUM;
	return 0;
}
