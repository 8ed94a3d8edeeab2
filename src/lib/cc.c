#include "cc.h"
#include "cc_int.h"

#include <string.h>

/* --- field codecs: strings are a length byte and printable ASCII without NUL --- */

int
cc_get_str(struct cur *c, char *out, size_t cap)
{
	uint8_t n = cur_u8(c);

	if (!cur_ok(c) || (size_t)n >= cap) {
		c->failed = 1;
		out[0] = '\0';
		return -1;
	}
	cur_copy(c, out, n);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e) {
			out[0] = '\0';
			return -1;
		}
	return cur_ok(c) ? 0 : -1;
}

void
cc_put_str(struct wbuf *w, const char *s)
{
	size_t n = strnlen(s, 255);

	wbuf_u8(w, (uint8_t)n);
	wbuf_bytes(w, s, n);
}

static void
cc_get_addr(struct cur *c, struct cc_addr *a)
{
	a->family = cur_u8(c);
	a->len = cur_u8(c);
	cur_copy(c, a->a, 16);
	if (a->family != 0 && a->family != 4 && a->family != 6)
		c->failed = 1;
	if (a->len > (a->family == 4 ? 32 : 128))
		c->failed = 1;
}

static void
cc_put_addr(struct wbuf *w, const struct cc_addr *a)
{
	wbuf_u8(w, a->family);
	wbuf_u8(w, a->len);
	wbuf_bytes(w, a->a, 16);
}

void
cc_get_pfx(struct cur *c, struct pfx4 *p)
{
	p->addr = cur_u32(c);
	p->len = cur_u8(c);
	if (p->len > 32 || (p->addr & ~pfx4_mask(p->len)))
		c->failed = 1;
}

void
cc_put_pfx(struct wbuf *w, const struct pfx4 *p)
{
	wbuf_u32(w, p->addr);
	wbuf_u8(w, p->len);
}

/* --- per-type bodies; a decoder returns CC_E_STRING or CC_E_VALUE, or 0 --- */

static int
cc_dec_hello(struct cur *c, struct cc_msg *m)
{
	struct cc_hello *h = &m->u.hello;
	int bad = 0;

	h->min_version = cur_u8(c);
	h->max_version = cur_u8(c);
	bad |= cc_get_str(c, h->host, sizeof(h->host));
	bad |= cc_get_str(c, h->credential, sizeof(h->credential));
	h->encap = cur_u8(c);
	h->role = cur_u8(c);
	cc_get_addr(c, &h->address);
	cc_get_addr(c, &h->prefix);
	h->revision = cur_u64(c);
	h->nonce = cur_u64(c);
	h->nnets = cur_u16(c);
	if (h->nnets > CC_MAX_NETS || h->nets == NULL)
		return CC_E_VALUE;
	for (unsigned i = 0; i < h->nnets; i++)
		bad |= cc_get_str(c, h->nets[i], CC_ID_LEN);
	if (h->encap != CC_ENCAP_VXLAN && h->encap != CC_ENCAP_EMBED6)
		return CC_E_VALUE;
	if (h->role > CC_ROLE_ROUTERD)
		return CC_E_VALUE;
	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_hello(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_hello *h = &m->u.hello;

	wbuf_u8(w, h->min_version);
	wbuf_u8(w, h->max_version);
	cc_put_str(w, h->host);
	cc_put_str(w, h->credential);
	wbuf_u8(w, h->encap);
	wbuf_u8(w, h->role);
	cc_put_addr(w, &h->address);
	cc_put_addr(w, &h->prefix);
	wbuf_u64(w, h->revision);
	wbuf_u64(w, h->nonce);
	wbuf_u16(w, h->nnets);
	for (unsigned i = 0; i < h->nnets; i++)
		cc_put_str(w, h->nets[i]);
}

static int
cc_dec_welcome(struct cur *c, struct cc_msg *m)
{
	m->u.welcome.version = cur_u8(c);
	m->u.welcome.revision = cur_u64(c);
	return 0;
}

static void
cc_enc_welcome(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u8(w, m->u.welcome.version);
	wbuf_u64(w, m->u.welcome.revision);
}

static int
cc_dec_begin(struct cur *c, struct cc_msg *m)
{
	m->u.begin.kind = cur_u8(c);
	m->u.begin.revision = cur_u64(c);
	return m->u.begin.kind == CC_SNAPSHOT || m->u.begin.kind == CC_DELTA ? 0 : CC_E_VALUE;
}

static void
cc_enc_begin(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u8(w, m->u.begin.kind);
	wbuf_u64(w, m->u.begin.revision);
}

static int
cc_dec_end(struct cur *c, struct cc_msg *m)
{
	m->u.end.revision = cur_u64(c);
	m->u.end.nonce = cur_u64(c);
	return 0;
}

static void
cc_enc_end(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u64(w, m->u.end.revision);
	wbuf_u64(w, m->u.end.nonce);
}

/* ACK, PING and PONG carry one 64-bit number. */
static int
cc_dec_u64(struct cur *c, struct cc_msg *m)
{
	m->u.revision = cur_u64(c);
	return 0;
}

static void
cc_enc_u64(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u64(w, m->u.revision);
}

static int
cc_dec_error(struct cur *c, struct cc_msg *m)
{
	m->u.error.code = cur_u16(c);
	return cc_get_str(c, m->u.error.reason, sizeof(m->u.error.reason)) ? CC_E_STRING : 0;
}

static void
cc_enc_error(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u16(w, m->u.error.code);
	cc_put_str(w, m->u.error.reason);
}

static int
cc_dec_host(struct cur *c, struct cc_msg *m)
{
	struct cc_host *h = &m->u.host;
	int bad = cc_get_str(c, h->name, sizeof(h->name));

	h->encap = cur_u8(c);
	h->up = cur_u8(c);
	h->role = cur_u8(c);
	cc_get_addr(c, &h->address);
	cc_get_addr(c, &h->prefix);
	if (h->role > CC_ROLE_ROUTERD)
		return CC_E_VALUE;
	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_host(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_host *h = &m->u.host;

	cc_put_str(w, h->name);
	wbuf_u8(w, h->encap);
	wbuf_u8(w, h->up);
	wbuf_u8(w, h->role);
	cc_put_addr(w, &h->address);
	cc_put_addr(w, &h->prefix);
}

static int
cc_dec_net(struct cur *c, struct cc_msg *m)
{
	struct cc_net *n = &m->u.net;
	int bad = cc_get_str(c, n->id, sizeof(n->id));

	n->vnid = cur_u32(c);
	n->ncidrs = cur_u8(c);
	if (n->ncidrs > CC_MAX_CIDRS || n->vnid == 0 || n->vnid > 0xffffff)
		return CC_E_VALUE;
	for (unsigned i = 0; i < n->ncidrs; i++)
		cc_get_pfx(c, &n->cidrs[i]);
	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_net(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_net *n = &m->u.net;

	cc_put_str(w, n->id);
	wbuf_u32(w, n->vnid);
	wbuf_u8(w, n->ncidrs);
	for (unsigned i = 0; i < n->ncidrs; i++)
		cc_put_pfx(w, &n->cidrs[i]);
}

static int
cc_dec_router(struct cur *c, struct cc_msg *m)
{
	struct cc_router *r = &m->u.router;
	int bad = cc_get_str(c, r->id, sizeof(r->id)) | cc_get_str(c, r->network,
	    sizeof(r->network));

	cur_copy(c, r->mac, 6);
	r->asn = cur_u32(c);
	r->main = cur_u8(c);
	return bad ? CC_E_STRING : r->main > 1 ? CC_E_VALUE : 0;
}

static void
cc_enc_router(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_router *r = &m->u.router;

	cc_put_str(w, r->id);
	cc_put_str(w, r->network);
	wbuf_bytes(w, r->mac, 6);
	wbuf_u32(w, r->asn);
	wbuf_u8(w, r->main);
}

static int
cc_dec_link(struct cur *c, struct cc_msg *m)
{
	struct cc_link *l = &m->u.link;
	int bad = cc_get_str(c, l->id, sizeof(l->id)) | cc_get_str(c, l->network,
	    sizeof(l->network)) | cc_get_str(c, l->a, sizeof(l->a)) | cc_get_str(c, l->b,
	    sizeof(l->b));

	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_link(struct wbuf *w, const struct cc_msg *m)
{
	cc_put_str(w, m->u.link.id);
	cc_put_str(w, m->u.link.network);
	cc_put_str(w, m->u.link.a);
	cc_put_str(w, m->u.link.b);
}

static int
cc_dec_subnet(struct cur *c, struct cc_msg *m)
{
	struct cc_subnet *s = &m->u.subnet;
	int bad = cc_get_str(c, s->id, sizeof(s->id)) | cc_get_str(c, s->network,
	    sizeof(s->network)) | cc_get_str(c, s->router, sizeof(s->router));

	cc_get_pfx(c, &s->cidr);
	return bad ? CC_E_STRING : s->cidr.len > 30 ? CC_E_VALUE : 0;
}

static void
cc_enc_subnet(struct wbuf *w, const struct cc_msg *m)
{
	cc_put_str(w, m->u.subnet.id);
	cc_put_str(w, m->u.subnet.network);
	cc_put_str(w, m->u.subnet.router);
	cc_put_pfx(w, &m->u.subnet.cidr);
}

static int
cc_dec_port(struct cur *c, struct cc_msg *m)
{
	struct cc_port *p = &m->u.port;
	int bad = cc_get_str(c, p->id, sizeof(p->id)) | cc_get_str(c, p->network,
	    sizeof(p->network)) | cc_get_str(c, p->subnet, sizeof(p->subnet)) |
	    cc_get_str(c, p->host, sizeof(p->host));

	cur_copy(c, p->mac, 6);
	p->ip = cur_u32(c);
	p->flags = cur_u8(c);
	p->slot = cur_u32(c);
	bad |= cc_get_str(c, p->device, sizeof(p->device));
	p->nextra = cur_u8(c);
	if (p->nextra > CC_MAX_IPS)
		return CC_E_VALUE;
	for (unsigned i = 0; i < p->nextra; i++)
		p->extra[i] = cur_u32(c);
	p->nclaim = cur_u8(c);
	if (p->nclaim > CC_MAX_IPS)
		return CC_E_VALUE;
	for (unsigned i = 0; i < p->nclaim; i++)
		cc_get_pfx(c, &p->claim[i]);
	p->nowned = cur_u8(c);
	if (p->nowned > CC_MAX_IPS)
		return CC_E_VALUE;
	for (unsigned i = 0; i < p->nowned; i++)
		p->owned[i] = cur_u32(c);
	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_port(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_port *p = &m->u.port;

	cc_put_str(w, p->id);
	cc_put_str(w, p->network);
	cc_put_str(w, p->subnet);
	cc_put_str(w, p->host);
	wbuf_bytes(w, p->mac, 6);
	wbuf_u32(w, p->ip);
	wbuf_u8(w, p->flags);
	wbuf_u32(w, p->slot);
	cc_put_str(w, p->device);
	wbuf_u8(w, p->nextra);
	for (unsigned i = 0; i < p->nextra; i++)
		wbuf_u32(w, p->extra[i]);
	wbuf_u8(w, p->nclaim);
	for (unsigned i = 0; i < p->nclaim; i++)
		cc_put_pfx(w, &p->claim[i]);
	wbuf_u8(w, p->nowned);
	for (unsigned i = 0; i < p->nowned; i++)
		wbuf_u32(w, p->owned[i]);
}

static int
cc_dec_route(struct cur *c, struct cc_msg *m)
{
	struct cc_route *r = &m->u.route;
	int bad = cc_get_str(c, r->id, sizeof(r->id)) | cc_get_str(c, r->network,
	    sizeof(r->network)) | cc_get_str(c, r->router, sizeof(r->router));

	cc_get_pfx(c, &r->dst);
	r->ttype = cur_u8(c);
	bad |= cc_get_str(c, r->target, sizeof(r->target));
	if (r->ttype < CC_T_PORT || r->ttype > CC_T_BLACKHOLE)
		return CC_E_VALUE;
	return bad ? CC_E_STRING : 0;
}

static void
cc_enc_route(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_route *r = &m->u.route;

	cc_put_str(w, r->id);
	cc_put_str(w, r->network);
	cc_put_str(w, r->router);
	cc_put_pfx(w, &r->dst);
	wbuf_u8(w, r->ttype);
	cc_put_str(w, r->target);
}

static int
cc_dec_delete(struct cur *c, struct cc_msg *m)
{
	m->u.del.kind = cur_u8(c);
	if (cc_get_str(c, m->u.del.id, sizeof(m->u.del.id)))
		return CC_E_STRING;
	return (m->u.del.kind >= CC_HOST && m->u.del.kind <= CC_ROUTE) ||
	    m->u.del.kind == CC_LROUTE ? 0 : CC_E_VALUE;
}

static void
cc_enc_delete(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u8(w, m->u.del.kind);
	cc_put_str(w, m->u.del.id);
}

static int
cc_dec_port_state(struct cur *c, struct cc_msg *m)
{
	int bad = cc_get_str(c, m->u.port_state.id, sizeof(m->u.port_state.id));

	m->u.port_state.up = cur_u8(c);
	return bad ? CC_E_STRING : m->u.port_state.up > 1 ? CC_E_VALUE : 0;
}

static void
cc_enc_port_state(struct wbuf *w, const struct cc_msg *m)
{
	cc_put_str(w, m->u.port_state.id);
	wbuf_u8(w, m->u.port_state.up);
}

int
cc_stats_reason(struct cur *c, char name[32], uint64_t *count)
{
	if (cur_left(c) == 0 || cc_get_str(c, name, 32) < 0)
		return -1;
	*count = cur_u64(c);
	return cur_ok(c) ? 0 : -1;
}

int
cc_stats_port(struct cur *c, struct cc_stat_port *p)
{
	if (cur_left(c) == 0 || cc_get_str(c, p->id, sizeof(p->id)) < 0)
		return -1;
	p->rx = cur_u64(c);
	p->tx = cur_u64(c);
	p->drops = cur_u64(c);
	return cur_ok(c) ? 0 : -1;
}

static int
cc_dec_stats(struct cur *c, struct cc_msg *m)
{
	struct cc_stats *st = &m->u.stats;
	struct cc_stat_port p;
	char name[32];
	uint64_t v;

	st->nreasons = cur_u8(c);
	st->nports = cur_u16(c);
	if (st->nreasons > CC_MAX_REASONS || st->nports > CC_MAX_STAT_PORTS)
		return CC_E_VALUE;
	st->body = *c;
	/* Validate the whole body now; consumers then walk it without surprises. */
	for (unsigned i = 0; i < st->nreasons; i++)
		if (cc_stats_reason(c, name, &v) < 0)
			return CC_E_STRING;
	for (unsigned i = 0; i < st->nports; i++)
		if (cc_stats_port(c, &p) < 0)
			return CC_E_STRING;
	st->body.len -= cur_left(c);
	return 0;
}

static void
cc_enc_stats(struct wbuf *w, const struct cc_msg *m)
{
	wbuf_u8(w, m->u.stats.nreasons);
	wbuf_u16(w, m->u.stats.nports);
	wbuf_bytes(w, cur_rest(&m->u.stats.body), cur_left(&m->u.stats.body));
}

static const struct {
	const char *name;
	int (*dec)(struct cur *, struct cc_msg *);
	void (*enc)(struct wbuf *, const struct cc_msg *);
} cc_types[CC_TYPE_MAX] = {
	[CC_HELLO] = {"hello", cc_dec_hello, cc_enc_hello},
	[CC_WELCOME] = {"welcome", cc_dec_welcome, cc_enc_welcome},
	[CC_BEGIN] = {"begin", cc_dec_begin, cc_enc_begin},
	[CC_END] = {"end", cc_dec_end, cc_enc_end},
	[CC_ACK] = {"ack", cc_dec_u64, cc_enc_u64},
	[CC_PING] = {"ping", cc_dec_u64, cc_enc_u64},
	[CC_PONG] = {"pong", cc_dec_u64, cc_enc_u64},
	[CC_ERROR] = {"error", cc_dec_error, cc_enc_error},
	[CC_HOST] = {"host", cc_dec_host, cc_enc_host},
	[CC_NET] = {"net", cc_dec_net, cc_enc_net},
	[CC_ROUTER] = {"router", cc_dec_router, cc_enc_router},
	[CC_LINK] = {"link", cc_dec_link, cc_enc_link},
	[CC_SUBNET] = {"subnet", cc_dec_subnet, cc_enc_subnet},
	[CC_PORT] = {"port", cc_dec_port, cc_enc_port},
	[CC_ROUTE] = {"route", cc_dec_route, cc_enc_route},
	[CC_DELETE] = {"delete", cc_dec_delete, cc_enc_delete},
	[CC_PORT_STATE] = {"port_state", cc_dec_port_state, cc_enc_port_state},
	[CC_STATS] = {"stats", cc_dec_stats, cc_enc_stats},
	[CC_LROUTE] = {"lroute", cc_dec_lroute, cc_enc_lroute},
	[CC_BGPCONF] = {"bgpconf", cc_dec_bgpconf, cc_enc_bgpconf},
	[CC_LEARNED] = {"learned", cc_dec_learned, cc_enc_learned},
	[CC_UNLEARN] = {"unlearn", cc_dec_unlearn, cc_enc_unlearn},
	[CC_BGPSESS] = {"bgpsess", cc_dec_bgpsess, cc_enc_bgpsess},
	[CC_CLAIM] = {"claim", cc_dec_claim, cc_enc_claim},
};

const char *
cc_type_name(uint8_t type)
{
	return type > 0 && type < CC_TYPE_MAX ? cc_types[type].name : "unknown";
}

const char *
cc_result_name(enum cc_result r)
{
	static const char *const names[] = {"ok", "short", "bad magic", "bad version",
	    "bad length", "unknown type", "bad string", "bad value"};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

enum cc_result
cc_frame(const uint8_t *buf, size_t len, size_t *msglen)
{
	struct cur c = cur_make(buf, len);
	uint16_t magic;
	uint8_t version;
	uint32_t n;

	if (len < CC_HDR_LEN)
		return CC_E_SHORT;
	magic = cur_u16(&c);
	version = cur_u8(&c);
	cur_u8(&c);
	n = cur_u32(&c);
	if (magic != CC_MAGIC)
		return CC_E_MAGIC;
	if (version != CC_VERSION)
		return CC_E_VERSION;
	if (n < CC_HDR_LEN || n > CC_MAX_MSG)
		return CC_E_LENGTH;
	if (len < n)
		return CC_E_SHORT;
	*msglen = n;
	return CC_OK;
}

enum cc_result
cc_decode(const uint8_t *buf, size_t len, struct cc_msg *m)
{
	struct cur c = cur_make(buf, len);
	size_t n;
	enum cc_result r = cc_frame(buf, len, &n);
	int rc;

	if (r != CC_OK)
		return r == CC_E_SHORT ? CC_E_LENGTH : r;
	if (n != len)
		return CC_E_LENGTH;
	cur_skip(&c, 3);
	m->type = cur_u8(&c);
	cur_skip(&c, 4);
	if (m->type == 0 || m->type >= CC_TYPE_MAX)
		return CC_E_TYPE;
	{
		/* Whole structs, no stale bytes past the counted elements: callers copy them. */
		char (*nets)[CC_ID_LEN] = m->u.hello.nets;

		memset(&m->u, 0, sizeof(m->u));
		if (m->type == CC_HELLO)
			m->u.hello.nets = nets;
	}
	rc = cc_types[m->type].dec(&c, m);
	if (rc != 0)
		return (enum cc_result)rc;
	/* Exact size: the body must be consumed to the last byte, no more, no less. */
	if (!cur_ok(&c) || cur_left(&c) != 0)
		return CC_E_LENGTH;
	return CC_OK;
}

/* Fills in the header reserved at hdr once the body is written (message began at start). */
static void
cc_close_hdr(struct wbuf *w, uint8_t *hdr, size_t start, uint8_t type)
{
	size_t n = w->len - start;

	if (w->failed || n > CC_MAX_MSG) {
		w->failed = 1;
		return;
	}
	hdr[0] = CC_MAGIC >> 8;
	hdr[1] = CC_MAGIC & 0xff;
	hdr[2] = CC_VERSION;
	hdr[3] = type;
	hdr[4] = (uint8_t)(n >> 24);
	hdr[5] = (uint8_t)(n >> 16);
	hdr[6] = (uint8_t)(n >> 8);
	hdr[7] = (uint8_t)n;
}

void
cc_encode(struct wbuf *w, const struct cc_msg *m)
{
	size_t start = w->len;
	uint8_t *hdr = wbuf_reserve(w, CC_HDR_LEN);

	if (hdr == NULL || m->type == 0 || m->type >= CC_TYPE_MAX) {
		w->failed = 1;
		return;
	}
	cc_types[m->type].enc(w, m);
	cc_close_hdr(w, hdr, start, m->type);
}

void
cc_encode_stats(struct wbuf *w, const char *const *names, const uint64_t *counts,
    unsigned nreasons, const struct cc_stat_port *ports, unsigned nports)
{
	size_t start = w->len;
	uint8_t *hdr = wbuf_reserve(w, CC_HDR_LEN);

	if (hdr == NULL || nreasons > CC_MAX_REASONS || nports > CC_MAX_STAT_PORTS) {
		w->failed = 1;
		return;
	}
	wbuf_u8(w, (uint8_t)nreasons);
	wbuf_u16(w, (uint16_t)nports);
	for (unsigned i = 0; i < nreasons; i++) {
		cc_put_str(w, names[i]);
		wbuf_u64(w, counts[i]);
	}
	for (unsigned i = 0; i < nports; i++) {
		cc_put_str(w, ports[i].id);
		wbuf_u64(w, ports[i].rx);
		wbuf_u64(w, ports[i].tx);
		wbuf_u64(w, ports[i].drops);
	}
	cc_close_hdr(w, hdr, start, CC_STATS);
}
