/*
 * DHCPv4 (RFC 2131, options RFC 2132): the agent is the DHCP server of every subnet, so
 * it parses what clients send and answers with the address the port was given.
 */
#include "pkt.h"

#define DHCP_FIXED_LEN 236 /* BOOTP header up to the options, cookie excluded */
#define DHCP_SNAME_LEN 64
#define DHCP_FILE_LEN 128
#define DHCP_MAGIC 0x63825363
#define DHCP_MIN_LEN 300 /* BOOTP clients may drop shorter messages (RFC 1542 2.1) */
#define BOOTREQUEST 1
#define BOOTREPLY 2

#define OPT_PAD 0
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_HOSTNAME 12
#define OPT_MTU 26
#define OPT_REQIP 50
#define OPT_LEASE 51
#define OPT_OVERLOAD 52
#define OPT_MSGTYPE 53
#define OPT_SERVER_ID 54
#define OPT_PRL 55
#define OPT_CLIENT_ID 61
#define OPT_END 255

#define OVERLOAD_FILE 1
#define OVERLOAD_SNAME 2

static enum pkt_result
opt_msgtype(struct pkt_dhcp *d, struct cur v)
{
	d->msgtype = cur_u8(&v);
	return d->msgtype != 0 ? PKT_OK : PKT_BAD_OPTION;
}

static enum pkt_result
opt_overload(struct pkt_dhcp *d, struct cur v)
{
	d->overload = cur_u8(&v);
	return d->overload >= 1 && d->overload <= 3 ? PKT_OK : PKT_BAD_OPTION;
}

static enum pkt_result
opt_reqip(struct pkt_dhcp *d, struct cur v)
{
	d->reqip = cur_u32(&v);
	d->has_reqip = 1;
	return PKT_OK;
}

static enum pkt_result
opt_server_id(struct pkt_dhcp *d, struct cur v)
{
	d->server_id = cur_u32(&v);
	d->has_server_id = 1;
	return PKT_OK;
}

static enum pkt_result
opt_client_id(struct pkt_dhcp *d, struct cur v)
{
	d->client_id = v;
	return PKT_OK;
}

static enum pkt_result
opt_prl(struct pkt_dhcp *d, struct cur v)
{
	d->prl = v;
	return PKT_OK;
}

static enum pkt_result
opt_hostname(struct pkt_dhcp *d, struct cur v)
{
	d->hostname = v;
	return PKT_OK;
}

/* The options kept, with the sizes RFC 2132 allows. Others are skipped unread. */
static const struct dhcp_opt {
	uint8_t code, minlen, maxlen;
	uint8_t main_only; /* RFC 2131 4.1: option 52 only in the options field */
	enum pkt_result (*take)(struct pkt_dhcp *d, struct cur v);
} dhcp_opts[] = {
	{OPT_MSGTYPE, 1, 1, 0, opt_msgtype},
	{OPT_OVERLOAD, 1, 1, 1, opt_overload},
	{OPT_REQIP, 4, 4, 0, opt_reqip},
	{OPT_SERVER_ID, 4, 4, 0, opt_server_id},
	{OPT_CLIENT_ID, 2, 255, 0, opt_client_id},
	{OPT_PRL, 1, 255, 0, opt_prl},
	{OPT_HOSTNAME, 1, 255, 0, opt_hostname},
};
#define DHCP_NOPTS (sizeof(dhcp_opts) / sizeof(dhcp_opts[0]))

struct dhcp_walk {
	struct pkt_dhcp *d;
	uint32_t seen; /* bit i: dhcp_opts[i] taken */
	int main_area;
};

/* A repeat is refused rather than merged (RFC 3396): two message types in one packet
 * leave no safe reading, and no client splits the options kept here. */
static enum pkt_result
dhcp_take(struct dhcp_walk *wk, uint8_t code, struct cur v)
{
	for (size_t i = 0; i < DHCP_NOPTS; i++) {
		const struct dhcp_opt *o = &dhcp_opts[i];
		size_t len = cur_left(&v);

		if (o->code != code)
			continue;
		if (len < o->minlen || len > o->maxlen || (wk->seen & 1u << i) ||
		    (o->main_only && !wk->main_area))
			return PKT_BAD_OPTION;
		wk->seen |= 1u << i;
		return o->take(wk->d, v);
	}
	return PKT_OK;
}

static enum pkt_result
dhcp_walk_area(struct dhcp_walk *wk, struct cur area)
{
	while (cur_left(&area) > 0) {
		uint8_t code = cur_u8(&area);
		struct cur v;
		enum pkt_result r;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return PKT_OK;
		v = cur_take(&area, cur_u8(&area));
		if (!cur_ok(&area))
			return PKT_BAD_OPTION;
		if ((r = dhcp_take(wk, code, v)) != PKT_OK)
			return r;
	}
	return PKT_OK;
}

static void
dhcp_read_fixed(struct cur *c, struct pkt_dhcp *d)
{
	d->op = cur_u8(c);
	d->htype = cur_u8(c);
	d->hlen = cur_u8(c);
	d->hops = cur_u8(c);
	d->xid = cur_u32(c);
	d->secs = cur_u16(c);
	d->flags = cur_u16(c);
	d->ciaddr = cur_u32(c);
	d->yiaddr = cur_u32(c);
	d->siaddr = cur_u32(c);
	d->giaddr = cur_u32(c);
	cur_copy(c, d->chaddr, sizeof(d->chaddr));
}

enum pkt_result
pkt_dhcp_parse(struct cur *c, struct pkt_dhcp *d)
{
	struct dhcp_walk wk = {d, 0, 1};
	struct cur sname, file;
	enum pkt_result r;

	memset(d, 0, sizeof(*d));
	if (cur_left(c) < DHCP_FIXED_LEN + 4)
		return PKT_TRUNCATED;
	dhcp_read_fixed(c, d);
	sname = cur_take(c, DHCP_SNAME_LEN);
	file = cur_take(c, DHCP_FILE_LEN);
	if (cur_u32(c) != DHCP_MAGIC)
		return PKT_BAD_COOKIE;
	if (d->op != BOOTREQUEST && d->op != BOOTREPLY)
		return PKT_BAD_OPCODE;
	if (d->htype != 1 || d->hlen != PKT_ETH_ALEN)
		return PKT_UNSUPPORTED;
	r = dhcp_walk_area(&wk, cur_take(c, cur_left(c)));
	wk.main_area = 0;
	if (r == PKT_OK && (d->overload & OVERLOAD_FILE))
		r = dhcp_walk_area(&wk, file);
	if (r == PKT_OK && (d->overload & OVERLOAD_SNAME))
		r = dhcp_walk_area(&wk, sname);
	if (r != PKT_OK)
		return r;
	return d->msgtype != 0 ? PKT_OK : PKT_UNSUPPORTED;
}

/* Where a reply goes (RFC 2131 4.1). */
struct dhcp_dest {
	uint32_t ip;
	const uint8_t *mac;
	uint16_t port;
};

static const uint8_t dhcp_bcast_mac[PKT_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct dhcp_dest
dhcp_dest(uint8_t type, const struct pkt_ip4_frame *f, const struct pkt_dhcp *req,
    uint32_t yiaddr)
{
	struct dhcp_dest bcast = {0xffffffff, dhcp_bcast_mac, PKT_DHCP_CLIENT_PORT};
	struct dhcp_dest d = {0, f->eth.src, PKT_DHCP_CLIENT_PORT};

	if (req->giaddr != 0) {
		d.ip = req->giaddr;
		d.port = PKT_DHCP_SERVER_PORT;
		return d;
	}
	if (type == PKT_DHCP_NAK)
		return bcast;
	if (req->ciaddr != 0) {
		d.ip = req->ciaddr;
		return d;
	}
	if ((req->flags & PKT_DHCP_FLAG_BROADCAST) || yiaddr == 0)
		return bcast;
	/* The client has no address yet and cannot ARP: send to chaddr directly. */
	d.ip = yiaddr;
	d.mac = req->chaddr;
	return d;
}

static void
opt_put_u32(struct wbuf *w, uint8_t code, uint32_t v)
{
	wbuf_u8(w, code);
	wbuf_u8(w, 4);
	wbuf_u32(w, v);
}

static void
opt_put_cur(struct wbuf *w, uint8_t code, struct cur v)
{
	size_t n = cur_left(&v);
	uint8_t *at;

	wbuf_u8(w, code);
	wbuf_u8(w, (uint8_t)n);
	if (n > 0 && (at = wbuf_reserve(w, n)) != NULL)
		cur_copy(&v, at, n);
}

/* The configuration an OFFER or ACK carries (also an ACK to INFORM, minus the lease). */
static void
dhcp_put_config(struct wbuf *w, const struct pkt_dhcp_lease *l, int with_lease)
{
	uint8_t ndns = l->ndns < PKT_DHCP_MAX_DNS ? l->ndns : PKT_DHCP_MAX_DNS;

	if (with_lease)
		opt_put_u32(w, OPT_LEASE, l->lease_secs);
	opt_put_u32(w, OPT_MASK, l->mask);
	if (l->router != 0)
		opt_put_u32(w, OPT_ROUTER, l->router);
	if (ndns > 0) {
		wbuf_u8(w, OPT_DNS);
		wbuf_u8(w, (uint8_t)(4 * ndns));
		for (uint8_t i = 0; i < ndns; i++)
			wbuf_u32(w, l->dns[i]);
	}
	if (l->mtu >= 68) {
		wbuf_u8(w, OPT_MTU);
		wbuf_u8(w, 2);
		wbuf_u16(w, l->mtu);
	}
}

/* The BOOTP fixed part of a reply (RFC 2131 table 3), through the magic cookie. */
static void
dhcp_put_bootp(struct wbuf *w, uint8_t type, uint32_t yiaddr, const struct pkt_dhcp *req)
{
	uint8_t *zero;

	wbuf_u8(w, BOOTREPLY);
	wbuf_u8(w, 1);
	wbuf_u8(w, PKT_ETH_ALEN);
	wbuf_u8(w, 0);
	wbuf_u32(w, req->xid);
	wbuf_u16(w, 0);
	wbuf_u16(w, req->flags);
	wbuf_u32(w, type == PKT_DHCP_ACK ? req->ciaddr : 0);
	wbuf_u32(w, yiaddr);
	wbuf_u32(w, 0);
	wbuf_u32(w, req->giaddr);
	wbuf_bytes(w, req->chaddr, sizeof(req->chaddr));
	if ((zero = wbuf_reserve(w, DHCP_SNAME_LEN + DHCP_FILE_LEN)) != NULL)
		memset(zero, 0, DHCP_SNAME_LEN + DHCP_FILE_LEN);
	wbuf_u32(w, DHCP_MAGIC);
}

static void
dhcp_put_message(struct wbuf *w, uint8_t type, uint32_t yiaddr, const struct pkt_dhcp *req,
    const struct pkt_dhcp_lease *l, const struct pkt_endpoint *self)
{
	size_t start = w->len;

	dhcp_put_bootp(w, type, yiaddr, req);
	wbuf_u8(w, OPT_MSGTYPE);
	wbuf_u8(w, 1);
	wbuf_u8(w, type);
	opt_put_u32(w, OPT_SERVER_ID, self->ip);
	if (type != PKT_DHCP_NAK)
		dhcp_put_config(w, l, req->msgtype != PKT_DHCP_INFORM);
	if (cur_left(&req->client_id) > 0)
		opt_put_cur(w, OPT_CLIENT_ID, req->client_id);
	wbuf_u8(w, OPT_END);
	while (!w->failed && w->len - start < DHCP_MIN_LEN)
		wbuf_u8(w, OPT_PAD);
}

/* Lengths and checksums go in once the message's size is known. */
static enum pkt_result
dhcp_finish(struct wbuf *w, size_t ip_off)
{
	size_t total = w->len - ip_off;

	if (total > 0xffff)
		return PKT_NO_SPACE;
	pkt_wbuf_put16(w, ip_off + 2, (uint16_t)total);
	pkt_wbuf_put16(w, ip_off + PKT_IP4_HLEN + 4, (uint16_t)(total - PKT_IP4_HLEN));
	if (pkt_ip4_hdr_csum_fill(w, ip_off) != PKT_OK || pkt_ip4_l4_csum_fill(w, ip_off) != PKT_OK)
		return PKT_NO_SPACE;
	return PKT_OK;
}

enum pkt_result
pkt_dhcp_reply(struct wbuf *w, uint8_t type, const struct pkt_ip4_frame *f,
    const struct pkt_dhcp *req, const struct pkt_dhcp_lease *l,
    const struct pkt_endpoint *self)
{
	size_t start = w->len, ip_off;
	struct dhcp_dest to;
	struct pkt_ip4 h = {.ttl = PKT_TTL_DEFAULT, .proto = PKT_IPPROTO_UDP, .src = self->ip};
	uint32_t yiaddr;
	enum pkt_result r;

	if (type != PKT_DHCP_OFFER && type != PKT_DHCP_ACK && type != PKT_DHCP_NAK)
		return PKT_UNSUPPORTED;
	/* RFC 2131 table 3: no address in a NAK, nor in the ACK to an INFORM. */
	yiaddr = type == PKT_DHCP_NAK || req->msgtype == PKT_DHCP_INFORM ? 0 : l->yiaddr;
	to = dhcp_dest(type, f, req, yiaddr);
	h.dst = to.ip;
	ip_off = w->len + PKT_ETH_HLEN;
	if (pkt_eth_write(w, to.mac, self->mac, PKT_ETHERTYPE_IPV4) != PKT_OK ||
	    pkt_ip4_write(w, &h) != PKT_OK) {
		w->len = start;
		return PKT_NO_SPACE;
	}
	wbuf_u16(w, PKT_DHCP_SERVER_PORT);
	wbuf_u16(w, to.port);
	wbuf_u32(w, 0); /* length and checksum, filled in by dhcp_finish */
	dhcp_put_message(w, type, yiaddr, req, l, self);
	if ((r = pkt_wbuf_result(w, start)) != PKT_OK)
		return r;
	if ((r = dhcp_finish(w, ip_off)) != PKT_OK)
		w->len = start;
	return r;
}
