/*
 * Routes in and out of each virtual router. In: every prefix a port announces gets the
 * import policy's verdict; accepted ones enter the router's table (src/bgp/bgp_rib.c),
 * whose best path and ECMP set decide what is installed; each route is reported to veneerd
 * with its verdict and whether it is installed. Out: each established port is sent the
 * router's own table as if by the router (NEXT_HOP its address on the port's subnet, the
 * router's AS first in the path), kept in step by diffing against what was sent.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "ev.h"
#include "imap.h"
#include "log.h"
#include "rd.h"

void
rd_route_key(const struct bgp_prefix *p, char *buf)
{
	struct pfx4 q = {p->addr, p->len};

	pfx4_fmt(&q, buf);
}

static struct rd_router *
rd_peer_router(const struct rd_peer *p)
{
	return map_get(&p->rd->routers, p->router);
}

/* --- reports to veneerd --- */

/*
 * A host route (/32) inside the port's claimable set is a claim on a virtual IP (issue 5),
 * not a route: veneerd decides the owner, and agents deliver the address to it.
 */
static int
rd_is_claim(const struct rd_peer *p, const struct bgp_prefix *pfx)
{
	const struct fib_port *fp;

	if (pfx->len != 32 || p->rd->fib == NULL ||
	    (fp = map_get(&p->rd->fib->by_port, p->port)) == NULL)
		return 0;
	for (unsigned i = 0; i < fp->p->nclaim; i++)
		if (pfx4_contains_addr(&fp->p->claim[i], pfx->addr))
			return 1;
	return 0;
}

/* --- received routes --- */

static int
rd_aspath_has(const struct bgp_attrs *a, uint32_t asn)
{
	struct cur c = cur_make(a->aspath, a->aspath_len);

	while (cur_left(&c) >= 2) {
		uint8_t n;

		cur_u8(&c);
		n = cur_u8(&c);
		for (unsigned i = 0; i < n && cur_ok(&c); i++)
			if (cur_u32(&c) == asn)
				return 1;
	}
	return 0;
}

/* The verdict on one announced route; fills nhport and override when accepted. */
static const char *
rd_verdict(struct rd_peer *p, const struct rd_router *r, const struct bgp_prefix *pfx,
    const struct bgp_attrs *a, struct rd_route *rt)
{
	static char why[CC_REASON_LEN];
	const struct fib_net *fnet = NULL;
	const struct rd_net *n;
	const struct fib_port *nh;
	const char *reason;
	int override = 0;

	if (p->rd->bench_net)
		return NULL;
	n = map_get(&p->rd->nets, p->net);
	if (p->rd->fib && n)
		fnet = imap_get(&p->rd->fib->by_vnid, n->vnid);
	if (fnet == NULL)
		return "network not known yet";
	if ((reason = rd_policy_check(&p->policy, fnet, pfx, &override)) != NULL)
		return reason;
	if (rd_aspath_has(a, r->asn)) {
		snprintf(why, sizeof(why), "AS path loop (contains AS %u)", r->asn);
		return why;
	}
	nh = imap_get(&fnet->by_ip, a->nexthop);
	if (nh == NULL || nh->sub == NULL || strcmp(nh->sub->s->id, p->subnet) != 0) {
		char buf[ADDR4_STRLEN];

		addr4_fmt(a->nexthop, buf);
		snprintf(why, sizeof(why), "next hop %s is not a port of the peer's subnet", buf);
		return why;
	}
	snprintf(rt->nhport, sizeof(rt->nhport), "%s", nh->p->id);
	rt->override = (uint8_t)override;
	return NULL;
}

static void
rd_route_forget(struct rd_peer *p, struct rd_router *r, const char *key, struct rd_route *rt)
{
	if (rt->claim)
		rd_report_claim(p, rt->p.addr, 1);
	else if (rt->accepted && r && p->ribpeer >= 0)
		bgp_rib_withdraw(r->rib, p->ribpeer, &rt->p);
	if (rt->accepted)
		p->accepted--;
	else
		p->rejected--;
	p->received--;
	if (rt->aset)
		bgp_aset_put(p->rd->atab, rt->aset);
	map_del(&p->in, key);
	free(rt);
}

/* Max-prefix (RFC 4271 8.1.2 / Cease 1, RFC 4486): over the limit, the session ends. */
static int
rd_over_limit(struct rd_peer *p)
{
	uint32_t max = p->policy.max_prefix;

	if (p->rd->bench_net)
		return 0;
	if (p->accepted + 1 > max) {
		log_warnx("port %s: more than %u prefixes accepted: session closed (max-prefix), "
		    "refused for %d s", p->port, max, RD_MAXPFX_HOLD_S);
		p->refuse_until = ev_now_ms() + RD_MAXPFX_HOLD_S * 1000u;
		bgp_sess_stop(p->sess, BGP_ERR_CEASE, BGP_CEASE_MAXPFX, ev_now_ms());
		return 1;
	}
	if (!p->warned && (uint64_t)(p->accepted + 1) * 100 >= (uint64_t)max * p->policy.warn_pct) {
		p->warned = 1;
		log_warnx("port %s: %u prefixes accepted, %u%% of max-prefix %u", p->port,
		    p->accepted + 1, p->policy.warn_pct, max);
	}
	return 0;
}

static void
rd_route_accept(struct rd_peer *p, struct rd_router *r, struct rd_route *rt,
    const struct bgp_attrs *a)
{
	const struct bgp_aset *s = bgp_aset_get(p->rd->atab, a);
	const struct bgp_path *best[BGP_RIB_MAX_ECMP];
	unsigned n;

	if (s == NULL) {
		snprintf(rt->reason, sizeof(rt->reason), "out of memory");
		return;
	}
	if (rt->aset)
		bgp_aset_put(p->rd->atab, rt->aset);
	rt->aset = s;
	rt->accepted = 1;
	rt->reason[0] = '\0';
	if (bgp_rib_announce(r->rib, p->ribpeer, &rt->p, s) < 0) {
		rt->accepted = 0;
		snprintf(rt->reason, sizeof(rt->reason), "out of memory");
		return;
	}
	n = bgp_rib_best(r->rib, &rt->p, best, BGP_RIB_MAX_ECMP);
	rt->selected = 0;
	for (unsigned i = 0; i < n; i++)
		if (best[i]->peer == p->ribpeer)
			rt->selected = 1;
}

/*
 * Bench mode takes everything and reports nothing: the table is the Adj-RIB-In, so the
 * benchmark measures the codec, the interning and the table, as BIRD's counterpart does.
 */
static void
rd_route_bench(struct rd_peer *p, struct rd_router *r, const struct bgp_prefix *pfx,
    const struct bgp_attrs *a)
{
	const struct bgp_aset *s;

	if (a == NULL) {
		if (bgp_rib_withdraw(r->rib, p->ribpeer, pfx) == 1) {
			p->received--;
			p->accepted--;
		}
		return;
	}
	if ((s = bgp_aset_get(p->rd->atab, a)) == NULL)
		return;
	if (bgp_rib_announce(r->rib, p->ribpeer, pfx, s) == 1) {
		p->received++;
		p->accepted++;
	}
	bgp_aset_put(p->rd->atab, s);
}

/* The route is a claim: reported as such, kept out of the table. */
static void
rd_route_claim(struct rd_peer *p, struct rd_router *r, struct rd_route *rt, int was)
{
	if (was && !rt->claim)
		bgp_rib_withdraw(r->rib, p->ribpeer, &rt->p);
	if (!was) {
		p->accepted++;
		p->rejected--;
	}
	if (rt->aset)
		bgp_aset_put(p->rd->atab, rt->aset);
	rt->aset = NULL;
	rt->accepted = 1;
	rt->selected = 0;
	if (!rt->claim)
		rd_report_claim(p, rt->p.addr, 0);
	rt->claim = 1;
	snprintf(rt->reason, sizeof(rt->reason), "claims a virtual IP (see /v1/claims)");
	rd_report_route(p, rt);
}

void
rd_route_in(struct rd_peer *p, const struct bgp_prefix *pfx, const struct bgp_attrs *a)
{
	struct rd_router *r = rd_peer_router(p);
	char key[PFX4_STRLEN];
	struct rd_route *rt;
	const char *reason;
	int failed = 0, was;

	if (r == NULL || p->ribpeer < 0)
		return;
	if (p->rd->bench_net) {
		rd_route_bench(p, r, pfx, a);
		return;
	}
	rd_route_key(pfx, key);
	rt = map_get(&p->in, key);
	if (a == NULL) {
		if (rt) {
			rd_route_forget(p, r, key, rt);
			rd_report_unlearn(p, pfx);
		}
		return;
	}
	if (rt == NULL) {
		if ((rt = calloc(1, sizeof(*rt))) == NULL ||
		    (map_put(&p->in, key, rt, &failed), failed)) {
			free(rt);
			return;
		}
		rt->p = *pfx;
		p->received++;
		p->rejected++; /* counted as accepted below if it is */
	}
	was = rt->accepted;
	rt->stale = 0;
	rt->nexthop = a->nexthop;
	if (a->nexthop != p->ip)
		p->third_party = 1;
	rt->nhport[0] = '\0';
	rt->override = 0;
	if (rd_is_claim(p, pfx)) {
		rd_route_claim(p, r, rt, was);
		return;
	}
	if (rt->claim) {
		/* No longer claimable (the port's settings changed): an ordinary route now. */
		rd_report_claim(p, rt->p.addr, 1);
		rt->claim = 0;
	}
	reason = rd_verdict(p, r, pfx, a, rt);
	/*
	 * Over the limit the session ends (Cease 1) before this returns, and its going down
	 * (rd_route_peer_down) has freed every route it announced, rt included.
	 */
	if (reason == NULL && !was && rd_over_limit(p))
		return;
	if (reason == NULL) {
		rd_route_accept(p, r, rt, a);
		if (!was && rt->accepted) {
			p->accepted++;
			p->rejected--;
		}
	} else {
		if (was) {
			bgp_rib_withdraw(r->rib, p->ribpeer, pfx);
			p->accepted--;
			p->rejected++;
		}
		if (rt->aset)
			bgp_aset_put(p->rd->atab, rt->aset);
		rt->aset = NULL;
		rt->accepted = 0;
		rt->selected = 0;
		snprintf(rt->reason, sizeof(rt->reason), "%s", reason);
	}
	rd_report_route(p, rt);
}

void
rd_route_peer_up(struct rd_peer *p)
{
	struct rd_router *r = rd_peer_router(p);
	const struct bgp_open *o = bgp_sess_peer_open(p->sess);

	if (r == NULL || o == NULL)
		return;
	if (ev_timer_armed(p->gr_timer)) {
		/*
		 * Back from a restart (RFC 4724 4.2): if it no longer preserves IPv4 unicast
		 * forwarding, the stale routes go now; else they wait for its End-of-RIB, for
		 * the restart time at most.
		 */
		if (!(o->gr && o->gr_ipv4u && o->gr_ipv4u_fwd))
			rd_route_sweep_stale(p);
		else
			ev_timer_arm(p->gr_timer, RD_GR_TIME * 1000u);
	}
	if (p->ribpeer < 0) {
		struct bgp_rib_peer rp = {o->bgp_id, p->ip, o->asn, o->asn != r->asn};

		p->ribpeer = bgp_rib_peer_add(r->rib, &rp);
	}
	p->eor_sent = 0;
	p->warned = 0;
	map_clear(&p->adj_out);
	r->dirty = 1;
	rd_export_schedule(p->rd);
}

static void
rd_route_free_each(const char *key, void *val, void *arg)
{
	struct rd_peer *p = arg;
	struct rd_route *rt = val;

	(void)key;
	if (rt->aset)
		bgp_aset_put(p->rd->atab, rt->aset);
	free(rt);
}

static void
rd_route_release_each(const char *key, void *val, void *arg)
{
	struct rd_route *rt = val;

	(void)key;
	if (rt->claim)
		rd_report_claim(arg, rt->p.addr, 1);
}

static void
rd_route_mark_stale(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	((struct rd_route *)val)->stale = 1;
}

static void
rd_route_collect_stale(const char *key, void *val, void *arg)
{
	if (((struct rd_route *)val)->stale)
		rd_keys_add(arg, key);
}

void
rd_route_peer_down(struct rd_peer *p, int keep_stale)
{
	struct rd_router *r = rd_peer_router(p);

	map_clear(&p->adj_out);
	p->eor_sent = 0;
	if (keep_stale && r && p->ribpeer >= 0) {
		/* RFC 4724 helper: forwarding goes on with the old routes for a while. */
		map_each(&p->in, rd_route_mark_stale, NULL);
		bgp_rib_peer_mark_stale(r->rib, p->ribpeer);
		/* A peer failing again while still restarting keeps its first deadline. */
		if (!ev_timer_armed(p->gr_timer))
			ev_timer_arm(p->gr_timer, (uint64_t)(p->gr_time < RD_GR_TIME ?
			    p->gr_time : RD_GR_TIME) * 1000u);
		return;
	}
	p->going_down = 1;
	map_each(&p->in, rd_route_release_each, p);
	if (r && p->ribpeer >= 0)
		bgp_rib_peer_del(r->rib, p->ribpeer);
	p->going_down = 0;
	p->ribpeer = -1;
	map_each(&p->in, rd_route_free_each, p);
	map_clear(&p->in);
	if (p->received)
		rd_report_unlearn(p, NULL);
	p->received = p->accepted = p->rejected = 0;
}

/* End-of-RIB from a restarted peer: what it did not announce again is gone. */
void
rd_route_sweep_stale(struct rd_peer *p)
{
	struct rd_router *r = rd_peer_router(p);
	struct rd_keys s = {0};

	ev_timer_disarm(p->gr_timer);
	map_each(&p->in, rd_route_collect_stale, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct rd_route *rt = map_get(&p->in, s.ids[i]);
		struct bgp_prefix pfx = rt->p;

		rd_route_forget(p, r, s.ids[i], rt);
		rd_report_unlearn(p, &pfx);
	}
	free(s.ids);
}

void
rd_route_on_gr(struct ev_timer *t, void *arg)
{
	struct rd_peer *p = arg;

	(void)t;
	log_info("port %s: graceful restart time over: stale routes withdrawn", p->port);
	rd_route_peer_down(p, 0);
	rd_report_session(p);
}

void
rd_route_refresh(struct rd_peer *p)
{
	struct rd_router *r = rd_peer_router(p);

	map_clear(&p->adj_out);
	if (r) {
		r->dirty = 1;
		rd_export_schedule(p->rd);
	}
}

static void
rd_route_reevaluate_each(const char *key, void *val, void *arg)
{
	struct rd_route *rt = val;
	struct rd_peer *p = arg;
	const struct bgp_aset *s = rt->aset;
	struct bgp_prefix pfx = rt->p;

	(void)key;
	if (!rt->accepted || rt->claim || s == NULL)
		return;
	/* Held while the route is judged again: a refusal releases the route's reference. */
	bgp_aset_ref(s);
	rd_route_in(p, &pfx, bgp_aset_attrs(s));
	bgp_aset_put(p->rd->atab, s);
}

void
rd_route_reevaluate(struct rd_peer *p)
{
	map_each(&p->in, rd_route_reevaluate_each, p);
}

struct rd_nh_walk {
	struct rd_peer *p;
	const struct fib_net *fnet;
};

static void
rd_route_nexthop_each(const char *key, void *val, void *arg)
{
	struct rd_route *rt = val;
	struct rd_nh_walk *w = arg;
	const struct fib_port *nh;

	/* A stale route waits for its peer's End-of-RIB: judging it again would un-stale it. */
	if (!rt->accepted || rt->claim || rt->stale || rt->aset == NULL ||
	    rt->nexthop == w->p->ip)
		return;
	nh = imap_get(&w->fnet->by_ip, rt->nexthop);
	if (nh == NULL || strcmp(nh->p->id, rt->nhport) != 0)
		rd_route_reevaluate_each(key, val, w->p);
}

void
rd_route_nexthops(struct rd_peer *p)
{
	const struct rd_net *n = map_get(&p->rd->nets, p->net);
	struct rd_nh_walk w = {p, NULL};

	/* Most peers name only themselves: nothing of theirs can move. */
	if (!p->third_party || n == NULL || p->rd->fib == NULL ||
	    (w.fnet = imap_get(&p->rd->fib->by_vnid, n->vnid)) == NULL)
		return;
	map_each(&p->in, rd_route_nexthop_each, &w);
}
