/*
 * What each routing port is told: the router's table as the router itself would announce
 * it. Connected subnets, static routes and what linked routers reach come from the same
 * effective table the agents forward by; learned routes come from the router's BGP table
 * (best path), with the router's AS prepended. A port is not sent back the routes it is a
 * best path for (split horizon). Changes are batched (RD_EXPORT_DELAY_MS) and diffed
 * against what each port was last sent (its Adj-RIB-Out), so only differences travel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ev.h"
#include "log.h"
#include "rd.h"

/* One prefix to send to one port: its attribute block (encoded) and fingerprint. */
struct rd_out {
	struct bgp_prefix p;
	uint64_t fp;
	uint16_t len;
	uint8_t blob[512];
};

struct rd_outs {
	struct rd_out *v;
	size_t n, cap;
};

static uint64_t
rd_fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h | 1; /* never 0: adj_out stores it as a non-NULL pointer */
}

/* AS_PATH with asn in front: a leading AS_SEQUENCE grows, else a new one is added. */
static uint16_t
rd_prepend(const struct bgp_attrs *a, uint32_t asn, uint8_t *out, size_t cap)
{
	struct wbuf w = wbuf_make(out, cap);

	if (a && a->aspath_len >= 2 && a->aspath[0] == BGP_AS_SEQUENCE && a->aspath[1] < 255) {
		wbuf_u8(&w, BGP_AS_SEQUENCE);
		wbuf_u8(&w, (uint8_t)(a->aspath[1] + 1));
		wbuf_u32(&w, asn);
		wbuf_bytes(&w, a->aspath + 2, a->aspath_len - 2u);
	} else {
		wbuf_u8(&w, BGP_AS_SEQUENCE);
		wbuf_u8(&w, 1);
		wbuf_u32(&w, asn);
		if (a)
			wbuf_bytes(&w, a->aspath, a->aspath_len);
	}
	return w.failed ? 0 : (uint16_t)w.len;
}

static int
rd_peer_ibgp(const struct rd_peer *p, const struct rd_router *r)
{
	const struct bgp_open *po = bgp_sess_peer_open(p->sess);

	return po && po->asn == r->asn;
}

/* The attributes we send port p for a route (learned: src != NULL). 0 or -1. */
static int
rd_out_attrs(const struct rd_peer *p, const struct rd_router *r, const struct bgp_attrs *src,
    struct rd_out *o)
{
	struct bgp_attrs a;
	uint8_t path[600];
	struct wbuf w = wbuf_make(o->blob, sizeof(o->blob));
	int ibgp = rd_peer_ibgp(p, r);

	memset(&a, 0, sizeof(a));
	a.origin = src ? src->origin : BGP_ORIGIN_IGP;
	if (ibgp) {
		a.aspath = src ? src->aspath : NULL;
		a.aspath_len = src ? src->aspath_len : 0;
		a.local_pref = 100;
		a.present |= 1u << BGP_A_LOCAL_PREF;
	} else {
		a.aspath = path;
		a.aspath_len = rd_prepend(src, r->asn, path, sizeof(path));
		if (a.aspath_len == 0)
			return -1;
	}
	a.present |= 1u << BGP_A_ORIGIN | 1u << BGP_A_AS_PATH | 1u << BGP_A_NEXT_HOP;
	a.nexthop = p->gw;
	if (src) {
		/* Communities travel on; MED and LOCAL_PREF do not leave our AS (RFC 4271). */
		a.communities = src->communities;
		a.communities_len = src->communities_len;
		a.large_communities = src->large_communities;
		a.large_communities_len = src->large_communities_len;
		if (a.communities_len)
			a.present |= 1u << BGP_A_COMMUNITIES;
	}
	if (bgp_attrs_put(&w, &a, bgp_sess_as4(p->sess)) < 0 || w.failed)
		return -1;
	o->len = (uint16_t)w.len;
	o->fp = rd_fnv(o->blob, o->len);
	return 0;
}

static struct rd_out *
rd_outs_add(struct rd_outs *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct rd_out *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	return &s->v[s->n++];
}

struct rd_walk {
	const struct rd_peer *p;
	const struct rd_router *r;
	struct rd_outs *outs;
	struct map keys;     /* prefixes already in outs */
};

/* Adds pfx to the wanted set once; NULL when it is there already (or out of memory). */
static struct rd_out *
rd_walk_add(struct rd_walk *w, const struct bgp_prefix *pfx)
{
	struct pfx4 q = {pfx->addr, pfx->len};
	char key[PFX4_STRLEN];
	struct rd_out *o;
	int failed = 0;

	pfx4_fmt(&q, key);
	if (map_get(&w->keys, key) != NULL || (o = rd_outs_add(w->outs)) == NULL)
		return NULL;
	map_put(&w->keys, key, (void *)1, &failed);
	if (failed) {
		w->outs->n--;
		return NULL;
	}
	o->p = *pfx;
	return o;
}

/* Learned routes: the best path's attributes, unless this port is one of the best. */
static void
rd_walk_learned(void *arg, const struct bgp_prefix *pfx, const struct bgp_path *const *best,
    unsigned n)
{
	struct rd_walk *w = arg;
	struct rd_out *o;

	if (n == 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (best[i]->peer == w->p->ribpeer)
			return;
	/* RFC 4271 9.2: what an internal peer gave is not passed to other internal peers. */
	if (rd_peer_ibgp(w->p, w->r) && !bgp_rib_peer_get(w->r->rib, best[0]->peer)->ebgp)
		return;
	if ((o = rd_walk_add(w, pfx)) == NULL)
		return;
	if (rd_out_attrs(w->p, w->r, bgp_aset_attrs(best[0]->aset), o) < 0)
		o->len = 0; /* sent as nothing: dropped from the wanted set below */
}

/* The router's own table: connected, static and link routes, once per destination. */
static void
rd_walk_table(struct rd_walk *w, const struct fib_router *fr)
{
	for (int i = 0; fr && i < fr->nrib; i++) {
		const struct rib_entry *e = &fr->rib[i];
		struct bgp_prefix pfx = {e->dst.addr, e->dst.len};
		const struct bgp_path *best[1];
		struct rd_out *o;

		if (!e->selected || e->origin == RIB_BGP || e->ttype == RIB_T_BLACKHOLE)
			continue;
		/* A learned route for the same prefix is announced instead (it won there). */
		if (bgp_rib_best(w->r->rib, &pfx, best, 1) > 0 && e->origin != RIB_CONNECTED)
			continue;
		if ((o = rd_walk_add(w, &pfx)) == NULL)
			continue;
		if (rd_out_attrs(w->p, w->r, NULL, o) < 0)
			o->len = 0;
	}
}

static int
rd_out_cmp(const void *a, const void *b)
{
	const struct rd_out *x = a, *y = b;

	return x->fp < y->fp ? -1 : x->fp > y->fp;
}

static void
rd_send_group(struct rd_peer *p, const struct rd_out *v, size_t n)
{
	uint8_t msg[BGP_MAX_LEN];
	struct bgp_upd_builder b;
	size_t len;

	bgp_upd_begin(&b, msg, sizeof(msg), v[0].blob, v[0].len);
	for (size_t i = 0; i < n; i++) {
		if (bgp_upd_add(&b, &v[i].p) == 0)
			continue;
		if ((len = bgp_upd_finish(&b)) > 0)
			rd_peer_send(p, msg, len);
		bgp_upd_begin(&b, msg, sizeof(msg), v[0].blob, v[0].len);
		bgp_upd_add(&b, &v[i].p);
	}
	if ((len = bgp_upd_finish(&b)) > 0)
		rd_peer_send(p, msg, len);
}

struct rd_wd {
	const struct map *want;
	struct rd_keys gone;
};

static void
rd_collect_gone(const char *key, void *val, void *arg)
{
	struct rd_wd *w = arg;

	(void)val;
	if (map_get(w->want, key) == NULL)
		rd_keys_add(&w->gone, key);
}

static void
rd_send_withdrawals(struct rd_peer *p, const struct map *want)
{
	struct rd_wd w = {want, {0}};
	uint8_t msg[BGP_MAX_LEN];
	struct bgp_upd_builder b;
	size_t len;

	map_each(&p->adj_out, rd_collect_gone, &w);
	bgp_upd_begin(&b, msg, sizeof(msg), NULL, 0);
	for (size_t i = 0; i < w.gone.n; i++) {
		struct pfx4 q;
		struct bgp_prefix pfx;

		map_del(&p->adj_out, w.gone.ids[i]);
		if (pfx4_parse(w.gone.ids[i], &q, 0, 32) != ADDR_OK)
			continue;
		pfx.addr = q.addr;
		pfx.len = q.len;
		if (bgp_upd_add(&b, &pfx) == 0)
			continue;
		if ((len = bgp_upd_finish(&b)) > 0)
			rd_peer_send(p, msg, len);
		bgp_upd_begin(&b, msg, sizeof(msg), NULL, 0);
		bgp_upd_add(&b, &pfx);
	}
	if ((len = bgp_upd_finish(&b)) > 0)
		rd_peer_send(p, msg, len);
	free(w.gone.ids);
}

static void
rd_export_peer(struct rd_peer *p, struct rd_router *r)
{
	struct rd_outs want = {0}, send = {0};
	struct rd_walk w = {p, r, &want, {0}};
	const struct fib_net *fnet = NULL;
	const struct fib_router *fr = NULL;
	struct rd_net *n = map_get(&p->rd->nets, p->net);

	if (p->rd->fib && n && (fnet = imap_get(&p->rd->fib->by_vnid, n->vnid)) != NULL)
		fr = map_get(&fnet->by_router, r->id);
	rd_walk_table(&w, fr);
	bgp_rib_walk(r->rib, rd_walk_learned, &w);
	rd_send_withdrawals(p, &w.keys);
	for (size_t i = 0; i < want.n; i++) {
		struct pfx4 q = {want.v[i].p.addr, want.v[i].p.len};
		char key[PFX4_STRLEN];
		struct rd_out *o;

		pfx4_fmt(&q, key);
		if (want.v[i].len == 0 ||
		    (uint64_t)(uintptr_t)map_get(&p->adj_out, key) == want.v[i].fp)
			continue;
		if ((o = rd_outs_add(&send)) == NULL)
			break;
		*o = want.v[i];
		map_put(&p->adj_out, key, (void *)(uintptr_t)want.v[i].fp, NULL);
	}
	if (send.n > 1)
		qsort(send.v, send.n, sizeof(*send.v), rd_out_cmp);
	for (size_t i = 0, j; i < send.n; i = j) {
		for (j = i; j < send.n && send.v[j].fp == send.v[i].fp; j++)
			;
		rd_send_group(p, &send.v[i], j - i);
	}
	if (!p->eor_sent) {
		uint8_t eor[BGP_HDR_LEN + 4];
		size_t len = bgp_eor_build(eor, sizeof(eor));

		if (len > 0 && rd_peer_send(p, eor, len) == 0)
			p->eor_sent = 1;
	}
	map_clear(&w.keys);
	free(want.v);
	free(send.v);
}

/*
 * A port whose send queue is over this waits: its table goes out once the queue drains
 * (rd_peer_flush schedules an export), so a slow appliance is paced instead of being cut
 * off with a full queue.
 */
#define RD_EXPORT_HIGH_WATER (1024 * 1024)

static void
rd_export_each(const char *key, void *val, void *arg)
{
	struct rd_peer *p = val;
	struct rd *rd = arg;
	struct rd_router *r;

	(void)key;
	if (p->sess == NULL || bgp_sess_state(p->sess) != BGP_S_ESTABLISHED ||
	    (r = map_get(&rd->routers, p->router)) == NULL || !r->exporting)
		return;
	if (p->outlen > RD_EXPORT_HIGH_WATER) {
		r->dirty = 1;
		p->export_waiting = 1;
		return;
	}
	rd_export_peer(p, r);
}

/*
 * The dirty flags are taken before exporting: a change the export itself causes (a session
 * that ends while being written to) marks its router again for the next run.
 */
static void
rd_take_dirty(const char *key, void *val, void *arg)
{
	struct rd_router *r = val;

	(void)key;
	(void)arg;
	r->exporting = r->dirty;
	r->dirty = 0;
}

static void
rd_export_run(struct ev_timer *t, void *arg)
{
	struct rd *rd = arg;

	(void)t;
	map_each(&rd->routers, rd_take_dirty, NULL);
	map_each(&rd->peers, rd_export_each, rd);
}

void
rd_export_schedule(struct rd *rd)
{
	if (rd->export_timer == NULL &&
	    (rd->export_timer = ev_timer_new(rd->loop, rd_export_run, rd)) == NULL)
		return;
	if (!ev_timer_armed(rd->export_timer))
		ev_timer_arm(rd->export_timer, RD_EXPORT_DELAY_MS);
}
