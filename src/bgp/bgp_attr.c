/*
 * UPDATE codecs: splitting the body, IPv4 NLRI, the path attribute block with the error
 * classification of RFC 7606 (and RFC 4271 6.3, 4760, 6793, 7607), the attribute writer and
 * the UPDATE builder.
 */
#include "bgp.h"

#include <string.h>

#define BGP_OT (BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE)
#define BGP_A_IPV6_EXT_COMMUNITIES 25 /* RFC 5701 */
#define BGP_A_ATTR_SET 128            /* RFC 6368 */
#define BGP_ASPATH_MAX 4096           /* no attribute value is longer than a message */

/* ---- UPDATE body and NLRI ---- */

int
bgp_update_split(struct cur body, struct bgp_update *u, struct bgp_err *e)
{
	u->withdrawn = cur_take(&body, cur_u16(&body));
	u->attrs = cur_take(&body, cur_u16(&body));
	if (!cur_ok(&body)) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_ATTR_LIST, NULL, 0);
		return -1;
	}
	u->nlri = body;
	return 0;
}

static uint32_t
bgp_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

int
bgp_nlri_next(struct cur *c, struct bgp_prefix *p)
{
	uint8_t len, b[4] = {0, 0, 0, 0};

	if (!cur_ok(c))
		return -1;
	if (cur_left(c) == 0)
		return 0;
	len = cur_u8(c);
	if (len > 32) {
		c->failed = 1;
		return -1;
	}
	cur_copy(c, b, (size_t)(len + 7) / 8);
	if (!cur_ok(c))
		return -1;
	/* Trailing bits are irrelevant on the wire (RFC 4271 4.3); ours are zero. */
	p->addr = ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) &
	    bgp_mask(len);
	p->len = len;
	return 1;
}

int
bgp_nlri_put(struct wbuf *w, const struct bgp_prefix *p)
{
	uint32_t a;
	size_t n;
	uint8_t *at;

	if (p->len > 32)
		return -1; /* a caller's bug, not wire input: refuse rather than truncate */
	a = p->addr & bgp_mask(p->len);
	n = (size_t)(p->len + 7) / 8;
	at = wbuf_reserve(w, 1 + n);
	if (at == NULL)
		return -1;
	at[0] = p->len;
	for (size_t i = 0; i < n; i++)
		at[1 + i] = (uint8_t)(a >> (24 - 8 * i));
	return 0;
}

/* Whether a whole NLRI field parses (RFC 7606 5.3). */
static int
bgp_nlri_valid(struct cur c)
{
	struct bgp_prefix p;
	int rc;

	while ((rc = bgp_nlri_next(&c, &p)) == 1)
		;
	return rc == 0;
}

/* ---- AS paths ---- */

/*
 * Segment syntax of an AS path with width-octet AS numbers (RFC 7606 7.2): known segment
 * type, non-zero count, no overrun. 0 valid, -1 malformed, -2 valid but holding AS 0
 * (RFC 7607). *confed tells whether confederation segments occur.
 */
static int
bgp_aspath_check(struct cur p, size_t width, int *confed)
{
	int zero = 0;

	*confed = 0;
	while (cur_left(&p) > 0) {
		uint8_t type = cur_u8(&p);
		uint8_t n = cur_u8(&p);
		struct cur seg = cur_take(&p, (size_t)n * width);

		if (!cur_ok(&p) || n == 0 || type < BGP_AS_SET || type > BGP_AS_CONFED_SET)
			return -1;
		if (type >= BGP_AS_CONFED_SEQUENCE)
			*confed = 1;
		while (cur_left(&seg) > 0)
			if ((width == 4 ? cur_u32(&seg) : cur_u16(&seg)) == 0)
				zero = 1;
	}
	return zero ? -2 : 0;
}

/*
 * Path length as best-path selection counts it (RFC 4271 9.1.2.2: a set counts one; RFC 5065:
 * confederation segments count nothing) and the leftmost AS of the first AS_SEQUENCE.
 * The same count is RFC 6793 4.2.3's for the AS_PATH/AS4_PATH comparison.
 */
static uint16_t
bgp_aspath_count(struct cur p, uint32_t *first_as)
{
	uint16_t count = 0;

	if (first_as)
		*first_as = 0;
	while (cur_left(&p) > 0) {
		uint8_t type = cur_u8(&p);
		uint8_t n = cur_u8(&p);
		struct cur seg = cur_take(&p, (size_t)n * 4);

		if (type == BGP_AS_SEQUENCE) {
			if (first_as && *first_as == 0)
				*first_as = cur_u32(&seg);
			count = (uint16_t)(count + n);
		} else if (type == BGP_AS_SET)
			count++;
	}
	return count;
}

/* Copies a 2-octet path as 4-octet segments. */
static void
bgp_aspath_widen(struct cur p, struct wbuf *w)
{
	while (cur_left(&p) > 0) {
		uint8_t type = cur_u8(&p);
		uint8_t n = cur_u8(&p);

		wbuf_u8(w, type);
		wbuf_u8(w, n);
		for (unsigned i = 0; i < n; i++)
			wbuf_u32(w, cur_u16(&p));
	}
	if (!cur_ok(&p))
		w->failed = 1;
}

/*
 * RFC 6793 4.2.3: the leading (count(AS_PATH) - count(AS4_PATH)) AS numbers of the AS_PATH
 * (both 4-octet here), then the AS4_PATH. Leading confederation segments are kept.
 */
static void
bgp_aspath_merge(struct cur p, struct cur p4, uint16_t need, struct wbuf *w)
{
	while (cur_left(&p) > 0) {
		uint8_t type = cur_u8(&p);
		uint8_t n = cur_u8(&p);
		uint8_t k = n;

		if (type == BGP_AS_SEQUENCE || type == BGP_AS_SET) {
			if (need == 0)
				break;
			if (type == BGP_AS_SEQUENCE && n > need)
				k = (uint8_t)need;
			need = (uint16_t)(need - (type == BGP_AS_SET ? 1 : k));
		}
		wbuf_u8(w, type);
		wbuf_u8(w, k);
		for (unsigned i = 0; i < n; i++) {
			uint32_t as = cur_u32(&p);

			if (i < k)
				wbuf_u32(w, as);
		}
	}
	wbuf_bytes(w, cur_rest(&p4), cur_left(&p4));
}

/* ---- attribute parsing ---- */

enum bgp_aout { BGP_AO_OK, BGP_AO_DISCARD, BGP_AO_WITHDRAW, BGP_AO_RESET };

/* State of one attribute block's parse. */
struct bgp_aparse {
	struct bgp_attrs *a;
	struct bgp_attrs_ctx *x;
	struct bgp_upd_report *r;
	struct bgp_err *e;
	int as4;
	enum bgp_upd_action act;
	uint8_t reason;          /* subcode for the handler's withdraw or reset */
	uint8_t seen[32];        /* every type met, for RFC 7606 3.g duplicates */
	struct cur aspath;       /* the AS_PATH as received (2 or 4 octets) */
	struct cur as4path;
	uint32_t as4agg_as;
	uint32_t as4agg_addr;
	int has_as4path;
	int has_as4agg;
};

typedef enum bgp_aout bgp_ahandler(struct bgp_aparse *s, uint8_t flags, uint8_t type,
    struct cur v);

struct bgp_adesc {
	bgp_ahandler *fn;
	uint8_t flags;       /* expected optional and transitive bits */
	uint8_t malformed;   /* outcome of a flags error (RFC 7606 3.c) */
};

static enum bgp_aout
bgp_bad(struct bgp_aparse *s, enum bgp_aout out, uint8_t reason)
{
	s->reason = reason;
	return out;
}

static enum bgp_aout
bgp_a_origin(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	(void)flags;
	(void)type;
	if (cur_left(&v) != 1)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_LENGTH);
	s->a->origin = cur_u8(&v);
	if (s->a->origin > BGP_ORIGIN_INCOMPLETE)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_ORIGIN);
	return BGP_AO_OK;
}

static enum bgp_aout
bgp_a_aspath(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	int confed;

	(void)flags;
	(void)type;
	if (bgp_aspath_check(v, s->as4 ? 4 : 2, &confed) < 0)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_ASPATH); /* AS 0 too: RFC 7607 */
	s->aspath = v;
	return BGP_AO_OK;
}

/* RFC 4271 6.3: not a host address; 7606 7.3 makes it treat-as-withdraw. */
static int
bgp_nexthop_bad(uint32_t nh)
{
	return nh == 0 || (nh & 0xf0000000u) == 0xe0000000u || nh == 0xffffffffu;
}

static enum bgp_aout
bgp_a_nexthop(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	(void)flags;
	(void)type;
	if (cur_left(&v) != 4)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_LENGTH);
	s->a->nexthop = cur_u32(&v);
	if (bgp_nexthop_bad(s->a->nexthop))
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_NEXTHOP);
	return BGP_AO_OK;
}

/* MED, LOCAL_PREF (RFC 7606 7.4, 7.5) and ORIGINATOR_ID (7.9): exactly 4 octets. */
static enum bgp_aout
bgp_a_u32(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	uint32_t x = cur_u32(&v);

	(void)flags;
	if (!cur_ok(&v) || cur_left(&v) != 0)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_LENGTH);
	if (type == BGP_A_MED)
		s->a->med = x;
	else if (type == BGP_A_LOCAL_PREF)
		s->a->local_pref = x;
	return BGP_AO_OK;
}

static enum bgp_aout
bgp_a_atomic(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	(void)flags;
	(void)type;
	if (cur_left(&v) != 0)
		return BGP_AO_DISCARD; /* RFC 7606 7.6 */
	s->a->atomic_agg = 1;
	return BGP_AO_OK;
}

/* RFC 7606 7.7, RFC 7607: a wrong length or AS 0 discards the attribute. */
static enum bgp_aout
bgp_a_aggregator(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	uint32_t as;

	(void)flags;
	(void)type;
	if (cur_left(&v) != (s->as4 ? 8u : 6u))
		return BGP_AO_DISCARD;
	as = s->as4 ? cur_u32(&v) : cur_u16(&v);
	if (as == 0)
		return BGP_AO_DISCARD;
	s->a->agg_as = as;
	s->a->agg_addr = cur_u32(&v);
	return BGP_AO_OK;
}

/*
 * Lists of fixed-size items: COMMUNITIES (RFC 7606 7.8), CLUSTER_LIST (7.10), extended
 * communities (7.14), IPv6 extended communities (7.15), large communities (RFC 8092 6).
 * Each must be a non-zero multiple of its item size, else treat-as-withdraw.
 */
static enum bgp_aout
bgp_a_list(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	size_t n = cur_left(&v), item;

	(void)flags;
	switch (type) {
	case BGP_A_EXT_COMMUNITIES:
		item = 8;
		break;
	case BGP_A_LARGE_COMMUNITIES:
		item = 12;
		break;
	case BGP_A_IPV6_EXT_COMMUNITIES:
		item = 20;
		break;
	default:
		item = 4;
		break;
	}
	if (n == 0 || n % item != 0)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_LENGTH);
	if (type == BGP_A_COMMUNITIES) {
		s->a->communities = cur_rest(&v);
		s->a->communities_len = (uint16_t)n;
	} else if (type == BGP_A_EXT_COMMUNITIES) {
		s->a->ext_communities = cur_rest(&v);
		s->a->ext_communities_len = (uint16_t)n;
	} else if (type == BGP_A_LARGE_COMMUNITIES) {
		s->a->large_communities = cur_rest(&v);
		s->a->large_communities_len = (uint16_t)n;
	}
	return BGP_AO_OK;
}

/*
 * MP_REACH_NLRI (RFC 4760 3). Only IPv4 unicast is decoded; other families are skipped
 * without error. Any malformation resets the session (RFC 7606 7.11, 5.3), an unusable
 * next hop withdraws.
 */
static enum bgp_aout
bgp_a_mp_reach(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	struct bgp_attrs_ctx *a = s->x;
	uint8_t nhlen;

	(void)flags;
	(void)type;
	a->mp_reach_afi = cur_u16(&v);
	a->mp_reach_safi = cur_u8(&v);
	if (!cur_ok(&v))
		return bgp_bad(s, BGP_AO_RESET, BGP_UPD_OPTIONAL);
	if (a->mp_reach_afi != 1 || a->mp_reach_safi != 1)
		return BGP_AO_OK;
	nhlen = cur_u8(&v);
	a->mp_nexthop = cur_u32(&v);
	(void)cur_u8(&v); /* reserved */
	if (!cur_ok(&v) || nhlen != 4 || !bgp_nlri_valid(v))
		return bgp_bad(s, BGP_AO_RESET, BGP_UPD_OPTIONAL);
	a->mp_nlri = v;
	a->has_mp_reach = 1;
	if (bgp_nexthop_bad(a->mp_nexthop))
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_NEXTHOP);
	return BGP_AO_OK;
}

static enum bgp_aout
bgp_a_mp_unreach(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	uint16_t afi = cur_u16(&v);
	uint8_t safi = cur_u8(&v);

	(void)flags;
	(void)type;
	if (!cur_ok(&v))
		return bgp_bad(s, BGP_AO_RESET, BGP_UPD_OPTIONAL);
	if (afi != 1 || safi != 1)
		return BGP_AO_OK;
	if (!bgp_nlri_valid(v))
		return bgp_bad(s, BGP_AO_RESET, BGP_UPD_OPTIONAL);
	s->x->mp_withdrawn = v;
	s->x->has_mp_unreach = 1;
	return BGP_AO_OK;
}

/*
 * AS4_PATH (RFC 6793 6, RFC 7607): discarded on a 4-octet session, and when malformed,
 * holding AS 0 or confederation segments. Used after the loop.
 */
static enum bgp_aout
bgp_a_as4path(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	int confed;

	(void)flags;
	(void)type;
	if (s->as4 || bgp_aspath_check(v, 4, &confed) < 0 || confed)
		return BGP_AO_DISCARD;
	s->as4path = v;
	s->has_as4path = 1;
	return BGP_AO_OK;
}

static enum bgp_aout
bgp_a_as4agg(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	(void)flags;
	(void)type;
	if (s->as4 || cur_left(&v) != 8)
		return BGP_AO_DISCARD;
	s->as4agg_as = cur_u32(&v);
	s->as4agg_addr = cur_u32(&v);
	if (s->as4agg_as == 0)
		return BGP_AO_DISCARD;
	s->has_as4agg = 1;
	return BGP_AO_OK;
}

/* Optional transitive attributes passed on untouched, with the partial bit (RFC 4271 5). */
static enum bgp_aout
bgp_a_keep(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	struct bgp_rawattr *u;

	if (!(flags & BGP_AF_TRANSITIVE))
		return BGP_AO_OK; /* optional non-transitive and unknown: dropped quietly */
	if (s->a->n_unknown >= BGP_MAX_UNKNOWN)
		return BGP_AO_DISCARD;
	u = &s->x->unknown[s->a->n_unknown++];
	u->flags = (uint8_t)((flags | BGP_AF_PARTIAL) & ~BGP_AF_EXTLEN);
	u->type = type;
	u->len = (uint16_t)cur_left(&v);
	u->val = cur_rest(&v);
	return BGP_AO_OK;
}

/* ATTR_SET (RFC 7606 7.16): at least the 4-octet origin AS, else treat-as-withdraw. */
static enum bgp_aout
bgp_a_attrset(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	if (cur_left(&v) < 4)
		return bgp_bad(s, BGP_AO_WITHDRAW, BGP_UPD_LENGTH);
	return bgp_a_keep(s, flags, type, v);
}

static enum bgp_aout
bgp_a_ipv6ext(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	enum bgp_aout out = bgp_a_list(s, flags, type, v);

	return out == BGP_AO_OK ? bgp_a_keep(s, flags, type, v) : out;
}

static const struct bgp_adesc bgp_adescs[256] = {
	[BGP_A_ORIGIN] = {bgp_a_origin, BGP_AF_TRANSITIVE, BGP_AO_WITHDRAW},
	[BGP_A_AS_PATH] = {bgp_a_aspath, BGP_AF_TRANSITIVE, BGP_AO_WITHDRAW},
	[BGP_A_NEXT_HOP] = {bgp_a_nexthop, BGP_AF_TRANSITIVE, BGP_AO_WITHDRAW},
	[BGP_A_MED] = {bgp_a_u32, BGP_AF_OPTIONAL, BGP_AO_WITHDRAW},
	[BGP_A_LOCAL_PREF] = {bgp_a_u32, BGP_AF_TRANSITIVE, BGP_AO_WITHDRAW},
	[BGP_A_ATOMIC_AGG] = {bgp_a_atomic, BGP_AF_TRANSITIVE, BGP_AO_DISCARD},
	[BGP_A_AGGREGATOR] = {bgp_a_aggregator, BGP_OT, BGP_AO_DISCARD},
	[BGP_A_COMMUNITIES] = {bgp_a_list, BGP_OT, BGP_AO_WITHDRAW},
	[BGP_A_ORIGINATOR_ID] = {bgp_a_u32, BGP_AF_OPTIONAL, BGP_AO_WITHDRAW},
	[BGP_A_CLUSTER_LIST] = {bgp_a_list, BGP_AF_OPTIONAL, BGP_AO_WITHDRAW},
	[BGP_A_MP_REACH] = {bgp_a_mp_reach, BGP_AF_OPTIONAL, BGP_AO_RESET},
	[BGP_A_MP_UNREACH] = {bgp_a_mp_unreach, BGP_AF_OPTIONAL, BGP_AO_RESET},
	[BGP_A_EXT_COMMUNITIES] = {bgp_a_list, BGP_OT, BGP_AO_WITHDRAW},
	[BGP_A_AS4_PATH] = {bgp_a_as4path, BGP_OT, BGP_AO_DISCARD},
	[BGP_A_AS4_AGGREGATOR] = {bgp_a_as4agg, BGP_OT, BGP_AO_DISCARD},
	[BGP_A_IPV6_EXT_COMMUNITIES] = {bgp_a_ipv6ext, BGP_OT, BGP_AO_WITHDRAW},
	[BGP_A_LARGE_COMMUNITIES] = {bgp_a_list, BGP_OT, BGP_AO_WITHDRAW},
	[BGP_A_ATTR_SET] = {bgp_a_attrset, BGP_OT, BGP_AO_WITHDRAW},
};

static void
bgp_withdraw(struct bgp_aparse *s, uint8_t type, uint8_t reason)
{
	if (s->act == BGP_UPD_OK) {
		s->act = BGP_UPD_WITHDRAW;
		s->r->withdraw_type = type;
		s->r->withdraw_reason = reason;
	}
}

static void
bgp_reset(struct bgp_aparse *s, uint8_t subcode, struct cur whole)
{
	s->act = BGP_UPD_RESET;
	bgp_err_set(s->e, BGP_ERR_UPDATE, subcode, cur_rest(&whole), cur_left(&whole));
}

/* Runs one attribute's handler (or the unknown-attribute rules) after the flags check. */
static enum bgp_aout
bgp_attr_one(struct bgp_aparse *s, uint8_t flags, uint8_t type, struct cur v)
{
	const struct bgp_adesc *d = &bgp_adescs[type];

	if (d->fn == NULL) {
		if (!(flags & BGP_AF_OPTIONAL))
			return bgp_bad(s, BGP_AO_RESET, BGP_UPD_WELLKNOWN); /* RFC 4271 6.3 */
		return bgp_a_keep(s, flags, type, v);
	}
	if ((flags & BGP_OT) != d->flags)
		return bgp_bad(s, (enum bgp_aout)d->malformed, BGP_UPD_FLAGS);
	return d->fn(s, flags, type, v);
}

/* Applies an attribute's outcome; whole is the attribute from its flags octet. */
static void
bgp_attr_apply(struct bgp_aparse *s, uint8_t type, enum bgp_aout out, struct cur whole)
{
	switch (out) {
	case BGP_AO_OK:
		if (type < 32)
			s->a->present |= 1u << type;
		break;
	case BGP_AO_DISCARD:
		s->r->discarded++;
		break;
	case BGP_AO_WITHDRAW:
		bgp_withdraw(s, type, s->reason);
		break;
	case BGP_AO_RESET:
		bgp_reset(s, s->reason, whole);
		break;
	}
}

/*
 * One attribute off the block. Returns 0 to go on, -1 when the block cannot be walked
 * further (RFC 7606 4: a truncated header or a length past the block withdraws, since the
 * Total Attribute Length still locates the NLRI; an MP attribute cut short resets because
 * its prefixes are lost).
 */
static int
bgp_attr_next(struct bgp_aparse *s, struct cur *c)
{
	struct cur start = *c, v;
	uint8_t flags = cur_u8(c);
	uint8_t type = cur_u8(c);
	size_t len = (flags & BGP_AF_EXTLEN) ? cur_u16(c) : cur_u8(c);
	size_t hlen = (flags & BGP_AF_EXTLEN) ? 4 : 3;

	if (!cur_ok(c)) {
		bgp_withdraw(s, type, BGP_UPD_ATTR_LIST);
		return -1;
	}
	if (len > cur_left(c)) {
		if (type == BGP_A_MP_REACH || type == BGP_A_MP_UNREACH)
			bgp_reset(s, BGP_UPD_ATTR_LIST, cur_make(NULL, 0));
		else
			bgp_withdraw(s, type, BGP_UPD_ATTR_LIST);
		return -1;
	}
	v = cur_take(c, len);
	if (s->seen[type / 8] & (1u << (type % 8))) {
		/* RFC 7606 3.g: repeated MP attributes reset, others keep the first. */
		if (type == BGP_A_MP_REACH || type == BGP_A_MP_UNREACH) {
			bgp_reset(s, BGP_UPD_ATTR_LIST, cur_make(NULL, 0));
			return -1;
		}
		s->r->discarded++;
		return 0;
	}
	s->seen[type / 8] |= (uint8_t)(1u << (type % 8));
	bgp_attr_apply(s, type, bgp_attr_one(s, flags, type, v), cur_take(&start, hlen + len));
	return s->act == BGP_UPD_RESET ? -1 : 0;
}

/*
 * RFC 6793 4.2.3 on a 2-octet session: AGGREGATOR other than AS_TRANS voids the AS4_*
 * attributes; else AS4_AGGREGATOR replaces it and AS4_PATH is merged into the AS_PATH.
 * The result is 4-octet in the context's aspath_buf; a path that does not fit is withdrawn.
 */
static void
bgp_as4_reconstruct(struct bgp_aparse *s)
{
	struct bgp_attrs *a = s->a;
	uint8_t wide[sizeof(s->x->aspath_buf)];
	struct wbuf w = wbuf_make(wide, sizeof(wide));
	struct wbuf out = wbuf_make(s->x->aspath_buf, sizeof(s->x->aspath_buf));
	uint16_t n, n4;

	if ((a->present & (1u << BGP_A_AGGREGATOR)) && a->agg_as != BGP_AS_TRANS &&
	    (s->has_as4path || s->has_as4agg)) {
		s->r->discarded = (uint16_t)(s->r->discarded + s->has_as4path + s->has_as4agg);
		s->has_as4path = s->has_as4agg = 0;
	}
	if (s->has_as4agg && (a->present & (1u << BGP_A_AGGREGATOR))) {
		a->agg_as = s->as4agg_as;
		a->agg_addr = s->as4agg_addr;
	}
	bgp_aspath_widen(s->aspath, &w);
	if (w.failed) {
		bgp_withdraw(s, BGP_A_AS_PATH, BGP_UPD_ASPATH);
		return;
	}
	n = bgp_aspath_count(cur_make(wide, w.len), NULL);
	n4 = s->has_as4path ? bgp_aspath_count(s->as4path, NULL) : 0;
	if (!s->has_as4path || n < n4)
		wbuf_bytes(&out, wide, w.len);
	else
		bgp_aspath_merge(cur_make(wide, w.len), s->as4path, (uint16_t)(n - n4), &out);
	if (out.failed) {
		bgp_withdraw(s, BGP_A_AS_PATH, BGP_UPD_ASPATH);
		return;
	}
	a->aspath = s->x->aspath_buf;
	a->aspath_len = (uint16_t)out.len;
}

/* The AS path in 4-octet form, and the well-known mandatory attributes for NLRI (RFC 7606 3.d). */
static void
bgp_attrs_finish(struct bgp_aparse *s, int has_nlri)
{
	struct bgp_attrs *a = s->a;

	if (a->present & (1u << BGP_A_AS_PATH)) {
		if (s->as4) {
			a->aspath = cur_rest(&s->aspath);
			a->aspath_len = (uint16_t)cur_left(&s->aspath);
		} else
			bgp_as4_reconstruct(s);
		a->aspath_count = bgp_aspath_count(cur_make(a->aspath, a->aspath_len),
		    &a->first_as);
	}
	if (has_nlri || (s->x->has_mp_reach && cur_left(&s->x->mp_nlri) > 0)) {
		static const uint8_t mand[] = {BGP_A_ORIGIN, BGP_A_AS_PATH, BGP_A_NEXT_HOP};

		for (size_t i = 0; i < sizeof(mand); i++) {
			if (mand[i] == BGP_A_NEXT_HOP && !has_nlri)
				continue; /* MP_REACH carries its own (RFC 4760 3) */
			if (!(s->seen[mand[i] / 8] & (1u << (mand[i] % 8))))
				bgp_withdraw(s, mand[i], BGP_UPD_MISSING);
		}
	}
}

enum bgp_upd_action
bgp_attrs_parse(struct cur attrs, int as4, int has_nlri, struct bgp_attrs *a,
    struct bgp_attrs_ctx *x, struct bgp_upd_report *r, struct bgp_err *e)
{
	struct bgp_upd_report rdummy;
	struct bgp_err edummy;
	struct bgp_aparse s;

	memset(a, 0, sizeof(*a));
	memset(&s, 0, sizeof(s));
	s.r = r != NULL ? r : &rdummy;
	memset(s.r, 0, sizeof(*s.r));
	s.e = e != NULL ? e : &edummy;
	s.a = a;
	s.x = x;
	s.as4 = as4;
	s.act = BGP_UPD_OK;
	/* The MP fields only: the buffers are written before they are pointed to. */
	x->has_mp_reach = x->has_mp_unreach = 0;
	x->mp_reach_afi = 0;
	x->mp_reach_safi = 0;
	x->mp_nexthop = 0;
	x->mp_nlri = x->mp_withdrawn = cur_make(NULL, 0);
	a->unknown = x->unknown;
	while (cur_left(&attrs) > 0)
		if (bgp_attr_next(&s, &attrs) < 0)
			break;
	if (s.act == BGP_UPD_RESET)
		return BGP_UPD_RESET;
	bgp_attrs_finish(&s, has_nlri);
	return s.act;
}

/* ---- attribute writing ---- */

/* An AS path re-encoded with width-octet AS numbers (AS_TRANS standing in for wide ones). */
static int
bgp_aspath_put(struct wbuf *w, const struct bgp_attrs *a, size_t width, int skip_confed)
{
	struct cur p = cur_make(a->aspath, a->aspath_len);

	while (cur_left(&p) > 0) {
		uint8_t type = cur_u8(&p);
		uint8_t n = cur_u8(&p);
		int skip = skip_confed && type >= BGP_AS_CONFED_SEQUENCE;

		if (!skip) {
			wbuf_u8(w, type);
			wbuf_u8(w, n);
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t as = cur_u32(&p);

			if (skip)
				continue;
			if (width == 4)
				wbuf_u32(w, as);
			else
				wbuf_u16(w, as > 0xffff ? BGP_AS_TRANS : (uint16_t)as);
		}
	}
	return cur_ok(&p) ? 1 : -1;
}

static int
bgp_aspath_wide(const struct bgp_attrs *a)
{
	struct cur p = cur_make(a->aspath, a->aspath_len);

	while (cur_left(&p) > 0) {
		uint8_t n;

		(void)cur_u8(&p);
		n = cur_u8(&p);
		for (unsigned i = 0; i < n; i++)
			if (cur_u32(&p) > 0xffff)
				return 1;
	}
	return 0;
}

/* Value writers: 1 = write the attribute, 0 = absent, -1 = cannot be encoded. */
typedef int bgp_aput(struct wbuf *w, const struct bgp_attrs *a, int as4);

static int
bgp_p_origin(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_u8(w, a->origin);
	return 1;
}

static int
bgp_p_aspath(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	return bgp_aspath_put(w, a, as4 ? 4 : 2, 0);
}

static int
bgp_p_nexthop(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	if (!(a->present & (1u << BGP_A_NEXT_HOP)) && a->nexthop == 0)
		return 0;
	wbuf_u32(w, a->nexthop);
	return 1;
}

static int
bgp_p_med(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_u32(w, a->med);
	return (a->present & (1u << BGP_A_MED)) != 0;
}

static int
bgp_p_local_pref(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_u32(w, a->local_pref);
	return (a->present & (1u << BGP_A_LOCAL_PREF)) != 0;
}

static int
bgp_p_atomic(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)w;
	(void)as4;
	return a->atomic_agg || (a->present & (1u << BGP_A_ATOMIC_AGG));
}

static int
bgp_p_aggregator(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	if (as4)
		wbuf_u32(w, a->agg_as);
	else
		wbuf_u16(w, a->agg_as > 0xffff ? BGP_AS_TRANS : (uint16_t)a->agg_as);
	wbuf_u32(w, a->agg_addr);
	return (a->present & (1u << BGP_A_AGGREGATOR)) != 0;
}

static int
bgp_p_communities(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_bytes(w, a->communities, a->communities_len);
	return a->communities_len > 0;
}

static int
bgp_p_ext_communities(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_bytes(w, a->ext_communities, a->ext_communities_len);
	return a->ext_communities_len > 0;
}

static int
bgp_p_large_communities(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	(void)as4;
	wbuf_bytes(w, a->large_communities, a->large_communities_len);
	return a->large_communities_len > 0;
}

/* RFC 6793 4.2.2: a 2-octet peer gets the wide path without confederation segments. */
static int
bgp_p_as4path(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	if (as4 || !bgp_aspath_wide(a))
		return 0;
	return bgp_aspath_put(w, a, 4, 1);
}

static int
bgp_p_as4agg(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	wbuf_u32(w, a->agg_as);
	wbuf_u32(w, a->agg_addr);
	return !as4 && (a->present & (1u << BGP_A_AGGREGATOR)) && a->agg_as > 0xffff;
}

struct bgp_pdesc {
	bgp_aput *fn;
	uint8_t flags;
};

static const struct bgp_pdesc bgp_pdescs[256] = {
	[BGP_A_ORIGIN] = {bgp_p_origin, BGP_AF_TRANSITIVE},
	[BGP_A_AS_PATH] = {bgp_p_aspath, BGP_AF_TRANSITIVE},
	[BGP_A_NEXT_HOP] = {bgp_p_nexthop, BGP_AF_TRANSITIVE},
	[BGP_A_MED] = {bgp_p_med, BGP_AF_OPTIONAL},
	[BGP_A_LOCAL_PREF] = {bgp_p_local_pref, BGP_AF_TRANSITIVE},
	[BGP_A_ATOMIC_AGG] = {bgp_p_atomic, BGP_AF_TRANSITIVE},
	[BGP_A_AGGREGATOR] = {bgp_p_aggregator, BGP_OT},
	[BGP_A_COMMUNITIES] = {bgp_p_communities, BGP_OT},
	[BGP_A_EXT_COMMUNITIES] = {bgp_p_ext_communities, BGP_OT},
	[BGP_A_AS4_PATH] = {bgp_p_as4path, BGP_OT},
	[BGP_A_AS4_AGGREGATOR] = {bgp_p_as4agg, BGP_OT},
	[BGP_A_LARGE_COMMUNITIES] = {bgp_p_large_communities, BGP_OT},
};

/* One attribute: flags (extended length when the value needs it), type, length, value. */
static void
bgp_attr_put(struct wbuf *w, uint8_t flags, uint8_t type, const uint8_t *val, size_t len)
{
	flags &= (uint8_t)~BGP_AF_EXTLEN;
	if (len > 255)
		flags |= BGP_AF_EXTLEN;
	wbuf_u8(w, flags);
	wbuf_u8(w, type);
	if (len > 255)
		wbuf_u16(w, (uint16_t)len);
	else
		wbuf_u8(w, (uint8_t)len);
	wbuf_bytes(w, val, len);
}

int
bgp_attrs_put(struct wbuf *w, const struct bgp_attrs *a, int as4)
{
	uint8_t val[BGP_ASPATH_MAX];

	for (unsigned t = 0; t < 256; t++) {
		const struct bgp_pdesc *d = &bgp_pdescs[t];

		if (d->fn != NULL) {
			struct wbuf v = wbuf_make(val, sizeof(val));
			int rc = d->fn(&v, a, as4);

			if (rc < 0 || v.failed || v.len > 0xffff)
				return -1;
			if (rc > 0)
				bgp_attr_put(w, d->flags, (uint8_t)t, val, v.len);
			continue;
		}
		for (unsigned i = 0; i < a->n_unknown && i < BGP_MAX_UNKNOWN; i++)
			if (a->unknown[i].type == t)
				bgp_attr_put(w, a->unknown[i].flags | BGP_AF_PARTIAL, (uint8_t)t,
				    a->unknown[i].val, a->unknown[i].len);
	}
	return w->failed ? -1 : 0;
}

/* ---- UPDATE builder ---- */

/*
 * Layout: header, withdrawn length (at 19), withdrawn routes, attribute length, attributes,
 * NLRI. A withdraw builder appends to the withdrawn routes and writes the empty attribute
 * length at finish; an announcement builder has both lengths in place from the start.
 */
void
bgp_upd_begin(struct bgp_upd_builder *b, uint8_t *buf, size_t cap, const uint8_t *attrs,
    size_t attrs_len)
{
	struct wbuf w;

	b->buf = buf;
	b->cap = cap > BGP_MAX_LEN ? BGP_MAX_LEN : cap;
	b->nprefix = 0;
	b->withdraw = attrs == NULL || attrs_len == 0;
	w = wbuf_make(buf, b->cap);
	wbuf_bytes(&w, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
	wbuf_u16(&w, 0);
	wbuf_u8(&w, BGP_UPDATE);
	wbuf_u16(&w, 0);
	if (!b->withdraw) {
		wbuf_u16(&w, (uint16_t)attrs_len);
		wbuf_bytes(&w, attrs, attrs_len);
	}
	if (w.failed || w.len + (b->withdraw ? 2 : 0) > b->cap)
		b->cap = 0; /* nothing fits: every add fails, finish returns 0 */
	b->off = w.len;
}

int
bgp_upd_add(struct bgp_upd_builder *b, const struct bgp_prefix *p)
{
	/* A withdraw builder keeps room for the attribute length written at finish. */
	size_t lim = b->withdraw ? b->cap - 2 : b->cap;
	struct wbuf w;

	if (b->cap == 0 || b->off > lim)
		return -1;
	w = wbuf_make(b->buf + b->off, lim - b->off);
	if (bgp_nlri_put(&w, p) < 0)
		return -1;
	b->off += w.len;
	b->nprefix++;
	return 0;
}

size_t
bgp_upd_finish(struct bgp_upd_builder *b)
{
	struct wbuf w;

	if (b->cap == 0 || b->nprefix == 0)
		return 0;
	if (b->withdraw) {
		w = wbuf_make(b->buf + BGP_HDR_LEN, 2);
		wbuf_u16(&w, (uint16_t)(b->off - BGP_HDR_LEN - 2));
		w = wbuf_make(b->buf + b->off, 2);
		wbuf_u16(&w, 0);
		b->off += 2;
	}
	w = wbuf_make(b->buf + 16, 2);
	wbuf_u16(&w, (uint16_t)b->off);
	return b->off;
}
