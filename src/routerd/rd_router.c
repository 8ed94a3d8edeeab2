/*
 * The virtual routers' BGP instances: one table per router (src/bgp/bgp_rib.c), created on
 * first use, and the table's change hook, which marks the router for export and tells
 * veneerd which received routes became installed or stopped being so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rd.h"

/* --- the table's change hook: installed or not, per port --- */

struct rd_sel {
	const struct bgp_prefix *p;
	const struct bgp_path *const *best;
	unsigned n;
	struct rd_router *r;
	int gains;          /* this pass reports routes becoming installed (1) or leaving (0) */
};

static void
rd_sel_peer(const char *key, void *val, void *arg)
{
	struct rd_peer *p = val;
	struct rd_sel *s = arg;
	struct rd_route *rt;
	char k[PFX4_STRLEN];
	int sel = 0;

	(void)key;
	if (p->going_down || p->ribpeer < 0 || strcmp(p->router, s->r->id) != 0)
		return;
	rd_route_key(s->p, k);
	if ((rt = map_get(&p->in, k)) == NULL || !rt->accepted)
		return;
	for (unsigned i = 0; i < s->n; i++)
		if (s->best[i]->peer == p->ribpeer)
			sel = 1;
	if (sel != rt->selected && sel == s->gains) {
		rt->selected = (uint8_t)sel;
		rd_report_route(p, rt);
	}
}

static void
rd_rib_changed(void *arg, const struct bgp_prefix *p, const struct bgp_path *const *best,
    unsigned n)
{
	struct rd_router *r = arg;
	struct rd_sel s = {p, best, n, r, 1};

	/*
	 * Bench mode is the Adj-RIB-In alone, like BIRD's `export none` it is measured against:
	 * no export walk of the growing table while the feed comes in.
	 */
	if (r->rd->stopping || r->rd->bench_net)
		return;
	r->dirty = 1;
	rd_export_schedule(r->rd);
	/*
	 * New paths are reported before old ones go: veneerd commits each report as it comes,
	 * and the other order would leave a revision with no route for the prefix at all.
	 */
	map_each(&r->rd->peers, rd_sel_peer, &s);
	s.gains = 0;
	map_each(&r->rd->peers, rd_sel_peer, &s);
}

struct rd_router *
rd_router_get(struct rd *rd, const char *id, const char *net)
{
	struct rd_router *r = map_get(&rd->routers, id);
	int failed = 0;

	if (r)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->rd = rd;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->net, sizeof(r->net), "%s", net);
	r->hold = RD_DEFAULT_HOLD;
	r->asn = 64512;
	if ((r->rib = bgp_rib_new(rd->atab, rd_rib_changed, r)) == NULL ||
	    (map_put(&rd->routers, id, r, &failed), failed)) {
		rd_router_free(r);
		return NULL;
	}
	return r;
}

void
rd_router_free(struct rd_router *r)
{
	if (r->rib)
		bgp_rib_free(r->rib);
	free(r);
}
