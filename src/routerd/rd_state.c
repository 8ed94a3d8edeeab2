/*
 * Following veneerd's view: after each applied batch the fib is rebuilt and the networks,
 * routers and peers are made to match it. A network gets its namespace when it first has
 * a routing port and loses it with its last; the TUN holds every router address of the
 * network (a port may peer with any address of its own router).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "rd.h"

/*
 * Mark and sweep over routerd's maps (networks, routers, peers): each value has an int
 * `seen` at offset off, cleared before a pass over veneerd's view and set for what is still
 * there; what stays unseen is collected by key, to be removed after the walk.
 */
static void
rd_mark(const char *key, void *val, void *arg)
{
	(void)key;
	*(int *)((char *)val + *(const size_t *)arg) = 0;
}

void
rd_unseen_begin(struct map *m, size_t off)
{
	map_each(m, rd_mark, &off);
}

void
rd_keys_add(struct rd_keys *k, const char *key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		char (*ids)[CC_ID_LEN] = realloc(k->ids, cap * CC_ID_LEN);

		if (ids == NULL)
			return;
		k->ids = ids;
		k->cap = cap;
	}
	snprintf(k->ids[k->n++], CC_ID_LEN, "%s", key);
}

struct rd_unseen {
	size_t off;
	struct rd_keys *out;
};

static void
rd_collect(const char *key, void *val, void *arg)
{
	struct rd_unseen *u = arg;

	if (!*(int *)((char *)val + u->off))
		rd_keys_add(u->out, key);
}

void
rd_unseen_collect(struct map *m, size_t off, struct rd_keys *out)
{
	struct rd_unseen u = {off, out};

	out->n = 0;
	map_each(m, rd_collect, &u);
}

/* Does network fn have a routing port (bound anywhere)? */
static int
rd_net_wanted(const struct fib_net *fn)
{
	for (int i = 0; i < fn->nports; i++)
		if (fn->ports[i].p->flags & CC_PORT_ROUTING)
			return 1;
	return 0;
}

static struct rd_net *
rd_net_get(struct rd *rd, const struct fib_net *fn)
{
	struct rd_net *n = map_get(&rd->nets, fn->n->id);
	int failed = 0;

	if (n)
		return n;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->rd = rd;
	n->tun_fd = n->lfd = -1;
	snprintf(n->id, sizeof(n->id), "%s", fn->n->id);
	n->vnid = fn->n->vnid;
	snprintf(n->ns, sizeof(n->ns), "%s-%u", rd->cfg.ns_prefix, n->vnid);
	rd_policy_default(&n->policy);
	if (rd_ns_open(rd, n) < 0 || (map_put(&rd->nets, n->id, n, &failed), failed)) {
		rd_ns_close(rd, n);
		free(n);
		return NULL;
	}
	return n;
}

static void
rd_net_sync(struct rd *rd, struct rd_net *n, const struct fib_net *fn)
{
	const struct abgpconf *conf = map_get(&rd->sync.live->bgpconf, fn->n->id);
	uint32_t addrs[64];
	int na = 0;

	if (conf == NULL || rd_policy_parse(conf->json, &n->policy) < 0)
		rd_policy_default(&n->policy);
	for (int i = 0; i < fn->nsubnets && na < 64; i++)
		if (fn->subnets[i].rtr)
			addrs[na++] = fn->subnets[i].gw;
	rd_ns_addrs(rd, n, addrs, na);
	for (int i = 0; i < fn->nrouters; i++) {
		const struct fib_router *fr = &fn->routers[i];
		const struct abgpconf *rc = map_get(&rd->sync.live->bgpconf, fr->r->id);
		struct rd_router *r = rd_router_get(rd, fr->r->id, fn->n->id);
		json_t *j;

		if (r == NULL)
			continue;
		r->seen = 1;
		r->asn = fr->r->asn;
		/* The router id: its address on its lowest subnet (like a loopback would be). */
		r->router_id = fr->addr ? fr->addr : 1;
		if (rc && (j = json_loads(rc->json, 0, NULL)) != NULL) {
			json_t *h = json_object_get(j, "hold_time");

			if (json_is_integer(h))
				r->hold = (uint16_t)json_integer_value(h);
			json_decref(j);
		}
		r->dirty = 1;
	}
}

static void
rd_state_nexthops(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	rd_route_nexthops(val);
}

void
rd_update(struct agent *a)
{
	struct rd *rd = a->owner;
	struct fib *old = rd->fib;
	struct rd_keys gone = {0};

	/* The old fib points into the view this batch just changed: no going back to it. */
	if ((rd->fib = fib_build(a->live, a->cfg.host)) == NULL)
		fatalx("out of memory compiling revision %llu", (unsigned long long)a->live->revision);
	rd_unseen_begin(&rd->nets, offsetof(struct rd_net, seen));
	rd_unseen_begin(&rd->routers, offsetof(struct rd_router, seen));
	for (int i = 0; i < rd->fib->nnets; i++) {
		const struct fib_net *fn = &rd->fib->nets[i];
		struct rd_net *n;

		if (!rd_net_wanted(fn) || (n = rd_net_get(rd, fn)) == NULL)
			continue;
		n->seen = 1;
		rd_net_sync(rd, n, fn);
	}
	rd_peer_sync(rd);
	map_each(&rd->peers, rd_state_nexthops, NULL);
	rd_unseen_collect(&rd->routers, offsetof(struct rd_router, seen), &gone);
	for (size_t i = 0; i < gone.n; i++)
		rd_router_free(map_del(&rd->routers, gone.ids[i]));
	rd_unseen_collect(&rd->nets, offsetof(struct rd_net, seen), &gone);
	for (size_t i = 0; i < gone.n; i++) {
		struct rd_net *n = map_del(&rd->nets, gone.ids[i]);

		log_info("network %s: no routing port left: namespace %s removed", n->id, n->ns);
		rd_ns_close(rd, n);
		free(n);
	}
	free(gone.ids);
	fib_free(old);
	/*
	 * veneerd came back (or restarted): routes again against the view it just sent (its
	 * stale ones withdrawn); the claims went once, with their marker, at the welcome.
	 */
	if (a->stats.connects != rd->connects_seen) {
		rd->connects_seen = a->stats.connects;
		rd_report_all(rd, 0);
	}
	rd_export_schedule(rd);
}

/*
 * Registered (again): veneerd hears everything we hold at once, even when it has no batch
 * to send us (it restarted at the revision we hold, or the connection only blinked).
 */
void
rd_welcome(struct agent *a)
{
	rd_report_all(a->owner, 1);
}
