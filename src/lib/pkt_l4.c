/*
 * ICMP, UDP and TCP headers: what the agent needs for its own answers (ICMP echo, DHCP)
 * and for access rules (ports, flags) on forwarded traffic.
 */
#include "pkt.h"

/* Only a first fragment holds the L4 header, and its checksum covers bytes still to come. */
static enum pkt_result
l4_frag_state(const struct pkt_ip4 *ip, uint8_t *partial)
{
	*partial = 0;
	if (ip->frag_off != 0)
		return PKT_FRAGMENT;
	*partial = ip->mf;
	return PKT_OK;
}

static int
l4_csum_wanted(uint8_t partial, unsigned flags)
{
	return !partial && !(flags & PKT_CSUM_SKIP);
}

enum pkt_result
pkt_icmp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags, struct pkt_icmp *m)
{
	struct cur msg = *c;
	enum pkt_result r = l4_frag_state(ip, &m->partial);

	if (r != PKT_OK)
		return r;
	m->type = cur_u8(c);
	m->code = cur_u8(c);
	m->csum = cur_u16(c);
	m->rest = cur_u32(c);
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	m->id = (uint16_t)(m->rest >> 16);
	m->seq = (uint16_t)m->rest;
	if (l4_csum_wanted(m->partial, flags) && csum_fold(csum_sum(0, msg)) != 0)
		return PKT_BAD_CSUM;
	m->payload = cur_take(c, cur_left(c));
	return PKT_OK;
}

enum pkt_result
pkt_udp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags, struct pkt_udp *u)
{
	struct cur dgram = *c;
	enum pkt_result r = l4_frag_state(ip, &u->partial);
	size_t plen;
	uint32_t pseudo;

	if (r != PKT_OK)
		return r;
	u->sport = cur_u16(c);
	u->dport = cur_u16(c);
	u->len = cur_u16(c);
	u->csum = cur_u16(c);
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	if (u->len < 8 || (!u->partial && u->len > cur_left(&dgram)))
		return PKT_BAD_LENGTH;
	plen = (size_t)u->len - 8;
	if (u->partial && plen > cur_left(c))
		plen = cur_left(c);
	cur_truncate(&dgram, u->len);
	pseudo = csum_pseudo4(ip->src, ip->dst, PKT_IPPROTO_UDP, u->len);
	if (u->csum != 0 && l4_csum_wanted(u->partial, flags) &&
	    csum_fold(csum_sum(pseudo, dgram)) != 0)
		return PKT_BAD_CSUM;
	u->payload = cur_take(c, plen);
	cur_skip(c, cur_left(c));
	return PKT_OK;
}

enum pkt_result
pkt_tcp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags, struct pkt_tcp *t)
{
	struct cur seg = *c;
	enum pkt_result r = l4_frag_state(ip, &t->partial);
	uint32_t pseudo;

	if (r != PKT_OK)
		return r;
	t->sport = cur_u16(c);
	t->dport = cur_u16(c);
	t->seq = cur_u32(c);
	t->ack = cur_u32(c);
	t->doff = (uint8_t)((cur_u8(c) >> 4) * 4);
	t->flags = cur_u8(c);
	t->window = cur_u16(c);
	t->csum = cur_u16(c);
	t->urg = cur_u16(c);
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	/* Also refuses the tiny first fragments of RFC 1858 that split the header. */
	if (t->doff < 20 || (size_t)(t->doff - 20) > cur_left(c))
		return PKT_BAD_DOFF;
	pseudo = csum_pseudo4(ip->src, ip->dst, PKT_IPPROTO_TCP, (uint16_t)cur_left(&seg));
	if (l4_csum_wanted(t->partial, flags) && csum_fold(csum_sum(pseudo, seg)) != 0)
		return PKT_BAD_CSUM;
	t->options = cur_take(c, (size_t)(t->doff - 20));
	t->payload = cur_take(c, cur_left(c));
	return PKT_OK;
}
