/*
 * The ICMP messages an emulated router originates: echo replies to pings of its
 * addresses, and the errors of RFC 792 / RFC 1812 that make traceroute, unreachable
 * routes and path MTU discovery behave as they would behind a real router.
 */
#include "pkt.h"

#define ICMP_HLEN 8
#define ICMP_ERR_TOS 0xc0 /* internetwork control precedence (RFC 1812 4.3.2.5) */
#define ICMP_NTYPES 19

/* The queries of RFC 792 and RFC 950 (echo, timestamp, information, address mask). Any
 * other type, unassigned ones included, counts as an error and is never answered with one
 * (RFC 1812 4.3.2.7), as Linux does. */
static const uint8_t icmp_type_is_query[ICMP_NTYPES] = {
	[PKT_ICMP_ECHO_REPLY] = 1,
	[PKT_ICMP_ECHO] = 1,
	[13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1,
};

/* One message to write: its header and a body of up to two pieces copied from the frame
 * it answers (the first of even length, so the pieces' sums add up). */
struct icmp_msg {
	uint8_t type, code, tos;
	uint16_t ip_id;
	uint32_t rest;
	struct cur body[2];
};

static void
icmp_copy(struct wbuf *w, struct cur part)
{
	size_t n = cur_left(&part);
	uint8_t *at;

	/* An empty view may have no buffer behind it, and memcpy from NULL is undefined. */
	if (n == 0)
		return;
	if ((at = wbuf_reserve(w, n)) != NULL)
		cur_copy(&part, at, n);
}

static enum pkt_result
icmp_write(struct wbuf *w, const struct pkt_ip4_frame *f, const struct icmp_msg *msg,
    const struct pkt_endpoint *self)
{
	size_t start = w->len;
	size_t blen = cur_left(&msg->body[0]) + cur_left(&msg->body[1]);
	uint32_t sum = (uint32_t)(msg->type << 8 | msg->code) + (msg->rest >> 16) +
	    (msg->rest & 0xffff);
	struct pkt_ip4 h = {.tos = msg->tos, .id = msg->ip_id, .ttl = PKT_TTL_DEFAULT,
	    .proto = PKT_IPPROTO_ICMP, .src = self->ip, .dst = f->ip.src};

	if (blen > 0xffff - PKT_IP4_HLEN - ICMP_HLEN)
		return PKT_NO_SPACE;
	h.totlen = (uint16_t)(PKT_IP4_HLEN + ICMP_HLEN + blen);
	sum = csum_sum(csum_sum(sum, msg->body[0]), msg->body[1]);
	if (pkt_eth_write(w, f->eth.src, self->mac, PKT_ETHERTYPE_IPV4) != PKT_OK ||
	    pkt_ip4_write(w, &h) != PKT_OK) {
		w->len = start;
		return PKT_NO_SPACE;
	}
	wbuf_u8(w, msg->type);
	wbuf_u8(w, msg->code);
	wbuf_u16(w, csum_fold(sum));
	wbuf_u32(w, msg->rest);
	icmp_copy(w, msg->body[0]);
	icmp_copy(w, msg->body[1]);
	return pkt_wbuf_result(w, start);
}

enum pkt_result
pkt_icmp_echo_reply(struct wbuf *w, const struct pkt_ip4_frame *f, const struct pkt_icmp *m,
    const struct pkt_endpoint *self)
{
	/* The request's IP id keeps replies distinct for reassembly without keeping state;
	 * ECN bits are cleared as the emulated router takes no part in ECN. */
	struct icmp_msg msg = {.type = PKT_ICMP_ECHO_REPLY, .tos = f->ip.tos & 0xfc,
	    .ip_id = f->ip.id, .rest = m->rest, .body = {m->payload, cur_make(NULL, 0)}};

	if (m->type != PKT_ICMP_ECHO)
		return PKT_UNSUPPORTED;
	if (m->partial || pkt_ip4_is_fragment(&f->ip))
		return PKT_FRAGMENT;
	return icmp_write(w, f, &msg, self);
}

/* Zero, loopback, multicast, class E and broadcast sources name no single host. */
static int
ip4_is_host_src(uint32_t a)
{
	uint8_t first = (uint8_t)(a >> 24);

	return first != 0 && first != 127 && first < 224;
}

static int
icmp_is_error_about(struct cur payload)
{
	uint8_t type = cur_u8(&payload);

	/* A header too short to read is no query either: stay silent. */
	return !cur_ok(&payload) || type >= ICMP_NTYPES || !icmp_type_is_query[type];
}

static enum pkt_result
icmp_may_answer(const struct pkt_ip4_frame *f)
{
	if (f->ip.frag_off != 0)
		return PKT_SUPPRESS_FRAG;
	if (pkt_mac_is_group(f->eth.dst) || f->ip.dst >= 0xe0000000 || !ip4_is_host_src(f->ip.src))
		return PKT_SUPPRESS_ADDR;
	if (f->ip.proto == PKT_IPPROTO_ICMP && icmp_is_error_about(f->ip.payload))
		return PKT_SUPPRESS_ICMP;
	return PKT_OK;
}

enum pkt_result
pkt_icmp_error(struct wbuf *w, const struct pkt_ip4_frame *f, uint8_t type, uint8_t code,
    uint32_t rest, const struct pkt_endpoint *self)
{
	struct icmp_msg msg = {.type = type, .code = code, .tos = ICMP_ERR_TOS, .ip_id = f->ip.id,
	    .rest = rest, .body = {f->ip.hdr, f->ip.payload}};
	size_t room = PKT_ICMP_ERR_MAX - PKT_IP4_HLEN - ICMP_HLEN - cur_left(&f->ip.hdr);
	enum pkt_result r = icmp_may_answer(f);

	if (r != PKT_OK)
		return r;
	if (cur_left(&msg.body[1]) > room)
		cur_truncate(&msg.body[1], room);
	return icmp_write(w, f, &msg, self);
}

enum pkt_result
pkt_icmp_time_exceeded(struct wbuf *w, const struct pkt_ip4_frame *f,
    const struct pkt_endpoint *self)
{
	return pkt_icmp_error(w, f, PKT_ICMP_TIME_EXCEEDED, 0, 0, self);
}

enum pkt_result
pkt_icmp_unreach(struct wbuf *w, const struct pkt_ip4_frame *f, uint8_t code,
    const struct pkt_endpoint *self)
{
	return pkt_icmp_error(w, f, PKT_ICMP_UNREACH, code, 0, self);
}

enum pkt_result
pkt_icmp_frag_needed(struct wbuf *w, const struct pkt_ip4_frame *f, uint16_t mtu,
    const struct pkt_endpoint *self)
{
	return pkt_icmp_error(w, f, PKT_ICMP_UNREACH, PKT_UNREACH_FRAG_NEEDED, mtu, self);
}
