/*
 * Ethernet II and ARP: the link layer the agent sees on a VM's TAP device, and the ARP
 * answers it gives for every address on the virtual network.
 */
#include "pkt.h"

static const uint8_t pkt_mac_zero[PKT_ETH_ALEN];
static const uint8_t pkt_mac_bcast[PKT_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define ARP_HTYPE_ETHER 1

enum pkt_result
pkt_eth_parse(struct cur *c, struct pkt_eth *e)
{
	cur_copy(c, e->dst, PKT_ETH_ALEN);
	cur_copy(c, e->src, PKT_ETH_ALEN);
	e->type = cur_u16(c);
	e->tagged = 0;
	e->tci = 0;
	e->hlen = PKT_ETH_HLEN;
	if (e->type == PKT_ETHERTYPE_VLAN) {
		e->tci = cur_u16(c);
		e->type = cur_u16(c);
		e->tagged = 1;
		e->hlen = PKT_ETH_HLEN + 4;
	}
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	/* Below 0x0600 the field is an 802.3 length (LLC/SNAP), never used by a VM's IP. */
	if (e->type < 0x0600 || e->type == PKT_ETHERTYPE_VLAN || e->type == PKT_ETHERTYPE_QINQ)
		return PKT_UNSUPPORTED;
	e->payload = cur_take(c, cur_left(c));
	return PKT_OK;
}

enum pkt_result
pkt_eth_write(struct wbuf *w, const uint8_t dst[PKT_ETH_ALEN], const uint8_t src[PKT_ETH_ALEN],
    uint16_t type)
{
	size_t start = w->len;

	if (w->failed)
		return PKT_NO_SPACE;
	wbuf_bytes(w, dst, PKT_ETH_ALEN);
	wbuf_bytes(w, src, PKT_ETH_ALEN);
	wbuf_u16(w, type);
	return pkt_wbuf_result(w, start);
}

enum pkt_result
pkt_eth_rewrite(struct wbuf *w, const uint8_t dst[PKT_ETH_ALEN], const uint8_t src[PKT_ETH_ALEN])
{
	struct cur hdr = pkt_wbuf_view(w, 0, 2 * PKT_ETH_ALEN);

	if (!cur_ok(&hdr))
		return PKT_TRUNCATED;
	pkt_wbuf_put(w, 0, dst, PKT_ETH_ALEN);
	pkt_wbuf_put(w, PKT_ETH_ALEN, src, PKT_ETH_ALEN);
	return PKT_OK;
}

/* A reply that names no requester is how hosts announce a binding (RFC 5227 section 3). */
static int
arp_is_gratuitous(const struct pkt_arp *a)
{
	if (a->spa == 0)
		return 0;
	if (a->spa == a->tpa)
		return 1;
	return a->op == PKT_ARP_REPLY && (memcmp(a->tha, pkt_mac_bcast, PKT_ETH_ALEN) == 0 ||
	    memcmp(a->tha, pkt_mac_zero, PKT_ETH_ALEN) == 0 ||
	    memcmp(a->tha, a->sha, PKT_ETH_ALEN) == 0);
}

enum pkt_result
pkt_arp_parse(struct cur *c, struct pkt_arp *a)
{
	uint16_t htype = cur_u16(c), ptype = cur_u16(c);
	uint8_t hlen = cur_u8(c), plen = cur_u8(c);

	a->op = cur_u16(c);
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	if (htype != ARP_HTYPE_ETHER || ptype != PKT_ETHERTYPE_IPV4 || hlen != PKT_ETH_ALEN ||
	    plen != 4)
		return PKT_UNSUPPORTED;
	if (a->op != PKT_ARP_REQUEST && a->op != PKT_ARP_REPLY)
		return PKT_BAD_OPCODE;
	cur_copy(c, a->sha, PKT_ETH_ALEN);
	a->spa = cur_u32(c);
	cur_copy(c, a->tha, PKT_ETH_ALEN);
	a->tpa = cur_u32(c);
	if (!cur_ok(c))
		return PKT_TRUNCATED;
	a->gratuitous = (uint8_t)arp_is_gratuitous(a);
	a->probe = a->op == PKT_ARP_REQUEST && a->spa == 0;
	return PKT_OK;
}

enum pkt_result
pkt_arp_reply(struct wbuf *w, const struct pkt_arp *req, const uint8_t mac[PKT_ETH_ALEN])
{
	size_t start = w->len;

	if (req->op != PKT_ARP_REQUEST)
		return PKT_BAD_OPCODE;
	if (pkt_eth_write(w, req->sha, mac, PKT_ETHERTYPE_ARP) != PKT_OK)
		return PKT_NO_SPACE;
	wbuf_u16(w, ARP_HTYPE_ETHER);
	wbuf_u16(w, PKT_ETHERTYPE_IPV4);
	wbuf_u8(w, PKT_ETH_ALEN);
	wbuf_u8(w, 4);
	wbuf_u16(w, PKT_ARP_REPLY);
	wbuf_bytes(w, mac, PKT_ETH_ALEN);
	wbuf_u32(w, req->tpa);
	wbuf_bytes(w, req->sha, PKT_ETH_ALEN);
	wbuf_u32(w, req->spa);
	return pkt_wbuf_result(w, start);
}
