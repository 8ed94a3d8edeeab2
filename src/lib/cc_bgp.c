/*
 * The control-channel messages of the routing manager: learned routes pushed to agents,
 * BGP settings pushed to veneer-routerd, and what routerd reports back (routes with their
 * verdict, session states); and virtual IP claims, which agents (gratuitous ARP) and
 * routerd (BGP host routes) report. Same rules as cc.c: every field bounded, exact body
 * length.
 */
#include "cc_int.h"

#include <string.h>

/* A u16-length text of printable ASCII (JSON as jansson writes it with JSON_ENSURE_ASCII). */
static int
cc_get_text(struct cur *c, uint16_t *len, const char **text)
{
	uint16_t n = cur_u16(c);
	struct cur v;

	if (!cur_ok(c) || n > CC_MAX_JSON) {
		c->failed = 1;
		return -1;
	}
	v = cur_take(c, n);
	if (!cur_ok(c))
		return -1;
	*text = (const char *)cur_rest(&v);
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = cur_u8(&v);

		if (ch < 0x20 || ch > 0x7e)
			return -1;
	}
	*len = n;
	return 0;
}

static void
cc_put_text(struct wbuf *w, const char *text, uint16_t len)
{
	wbuf_u16(w, len);
	wbuf_bytes(w, text, len);
}

int
cc_dec_lroute(struct cur *c, struct cc_msg *m)
{
	struct cc_lroute *r = &m->u.lroute;
	int bad = cc_get_str(c, r->id, sizeof(r->id));

	bad |= cc_get_str(c, r->network, sizeof(r->network));
	bad |= cc_get_str(c, r->router, sizeof(r->router));
	cc_get_pfx(c, &r->dst);
	bad |= cc_get_str(c, r->port, sizeof(r->port));
	r->flags = cur_u8(c);
	if (bad)
		return CC_E_STRING;
	return r->flags & ~CC_LR_OVERRIDE ? CC_E_VALUE : 0;
}

void
cc_enc_lroute(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_lroute *r = &m->u.lroute;

	cc_put_str(w, r->id);
	cc_put_str(w, r->network);
	cc_put_str(w, r->router);
	cc_put_pfx(w, &r->dst);
	cc_put_str(w, r->port);
	wbuf_u8(w, r->flags);
}

int
cc_dec_bgpconf(struct cur *c, struct cc_msg *m)
{
	struct cc_bgpconf *b = &m->u.bgpconf;
	int bad;

	b->kind = cur_u8(c);
	bad = cc_get_str(c, b->id, sizeof(b->id));
	bad |= cc_get_text(c, &b->len, &b->json);
	if (bad)
		return CC_E_STRING;
	return b->kind == CC_NET || b->kind == CC_ROUTER || b->kind == CC_PORT ? 0 : CC_E_VALUE;
}

void
cc_enc_bgpconf(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_bgpconf *b = &m->u.bgpconf;

	wbuf_u8(w, b->kind);
	cc_put_str(w, b->id);
	cc_put_text(w, b->json, b->len);
}

int
cc_dec_learned(struct cur *c, struct cc_msg *m)
{
	struct cc_learned *l = &m->u.learned;
	int bad = cc_get_str(c, l->port, sizeof(l->port));

	cc_get_pfx(c, &l->dst);
	l->nexthop = cur_u32(c);
	bad |= cc_get_str(c, l->nexthop_port, sizeof(l->nexthop_port));
	l->status = cur_u8(c);
	l->selected = cur_u8(c);
	l->override = cur_u8(c);
	bad |= cc_get_str(c, l->reason, sizeof(l->reason));
	bad |= cc_get_text(c, &l->len, &l->attrs);
	if (bad)
		return CC_E_STRING;
	if (l->status != CC_LEARN_ACCEPTED && l->status != CC_LEARN_REJECTED)
		return CC_E_VALUE;
	return l->selected > 1 || l->override > 1 ? CC_E_VALUE : 0;
}

void
cc_enc_learned(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_learned *l = &m->u.learned;

	cc_put_str(w, l->port);
	cc_put_pfx(w, &l->dst);
	wbuf_u32(w, l->nexthop);
	cc_put_str(w, l->nexthop_port);
	wbuf_u8(w, l->status);
	wbuf_u8(w, l->selected);
	wbuf_u8(w, l->override);
	cc_put_str(w, l->reason);
	cc_put_text(w, l->attrs, l->len);
}

int
cc_dec_unlearn(struct cur *c, struct cc_msg *m)
{
	struct cc_unlearn *u = &m->u.unlearn;
	int bad = cc_get_str(c, u->port, sizeof(u->port));

	u->all = cur_u8(c);
	cc_get_pfx(c, &u->dst);
	if (bad)
		return CC_E_STRING;
	return u->all > 1 ? CC_E_VALUE : 0;
}

void
cc_enc_unlearn(struct wbuf *w, const struct cc_msg *m)
{
	cc_put_str(w, m->u.unlearn.port);
	wbuf_u8(w, m->u.unlearn.all);
	cc_put_pfx(w, &m->u.unlearn.dst);
}

int
cc_dec_bgpsess(struct cur *c, struct cc_msg *m)
{
	struct cc_bgpsess *b = &m->u.bgpsess;
	int bad = cc_get_str(c, b->port, sizeof(b->port));

	b->state = cur_u8(c);
	b->since_ms = cur_u64(c);
	b->peer_asn = cur_u32(c);
	b->peer_id = cur_u32(c);
	b->hold = cur_u16(c);
	b->received = cur_u32(c);
	b->accepted = cur_u32(c);
	b->rejected = cur_u32(c);
	bad |= cc_get_str(c, b->last_error, sizeof(b->last_error));
	if (bad)
		return CC_E_STRING;
	return b->state > 5 ? CC_E_VALUE : 0;
}

void
cc_enc_bgpsess(struct wbuf *w, const struct cc_msg *m)
{
	const struct cc_bgpsess *b = &m->u.bgpsess;

	cc_put_str(w, b->port);
	wbuf_u8(w, b->state);
	wbuf_u64(w, b->since_ms);
	wbuf_u32(w, b->peer_asn);
	wbuf_u32(w, b->peer_id);
	wbuf_u16(w, b->hold);
	wbuf_u32(w, b->received);
	wbuf_u32(w, b->accepted);
	wbuf_u32(w, b->rejected);
	cc_put_str(w, b->last_error);
}

int
cc_dec_claim(struct cur *c, struct cc_msg *m)
{
	struct cc_claim *k = &m->u.claim;

	if (cc_get_str(c, k->port, sizeof(k->port)))
		return CC_E_STRING;
	k->ip = cur_u32(c);
	k->how = cur_u8(c);
	if (k->how == CC_CLAIMS_SYNCED)
		return k->port[0] == '\0' && k->ip == 0 ? 0 : CC_E_VALUE;
	return k->how >= CC_CLAIM_GARP && k->how <= CC_RELEASE_BGP ? 0 : CC_E_VALUE;
}

void
cc_enc_claim(struct wbuf *w, const struct cc_msg *m)
{
	cc_put_str(w, m->u.claim.port);
	wbuf_u32(w, m->u.claim.ip);
	wbuf_u8(w, m->u.claim.how);
}
