/*
 * routerd's control socket answers (the socket itself is the agent's ctl.c): "status" for
 * sessions, tables and counters; "routes ROUTER" for one router's BGP table.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "rd.h"

static void
rd_ctl_peer(const char *key, void *val, void *arg)
{
	(void)key;
	json_array_append_new(arg, rd_peer_json(val));
}

static void
rd_ctl_router(const char *key, void *val, void *arg)
{
	const struct rd_router *r = val;

	json_object_set_new(arg, key, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "network",
	    r->net, "asn", (json_int_t)r->asn, "hold_time", (json_int_t)r->hold,
	    "prefixes", (json_int_t)bgp_rib_prefixes(r->rib),
	    "paths", (json_int_t)bgp_rib_paths(r->rib), "bytes",
	    (json_int_t)bgp_rib_bytes(r->rib)));
}

static void
rd_ctl_net(const char *key, void *val, void *arg)
{
	const struct rd_net *n = val;
	json_t *addrs = json_array();
	char buf[ADDR4_STRLEN];

	for (int i = 0; i < n->naddrs; i++) {
		addr4_fmt(n->addrs[i], buf);
		json_array_append_new(addrs, json_string(buf));
	}
	json_object_set_new(arg, key, json_pack("{s:I, s:s, s:o}", "vnid", (json_int_t)n->vnid,
	    "netns", n->ns, "addresses", addrs));
}

struct rd_sum {
	size_t prefixes, paths, bytes;
};

static void
rd_ctl_sum(const char *key, void *val, void *arg)
{
	const struct rd_router *r = val;
	struct rd_sum *s = arg;

	(void)key;
	s->prefixes += bgp_rib_prefixes(r->rib);
	s->paths += bgp_rib_paths(r->rib);
	s->bytes += bgp_rib_bytes(r->rib);
}

static json_t *
rd_ctl_status(struct rd *rd)
{
	json_t *peers = json_array(), *routers = json_object(), *nets = json_object();
	struct rd_sum sum = {0, 0, 0};

	map_each(&rd->peers, rd_ctl_peer, peers);
	map_each(&rd->routers, rd_ctl_router, routers);
	map_each(&rd->nets, rd_ctl_net, nets);
	map_each(&rd->routers, rd_ctl_sum, &sum);
	size_t bytes = sum.bytes + bgp_atab_bytes(rd->atab);

	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:f}, "
	    "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "host", rd->cfg.host ? rd->cfg.host : "bench",
	    "sync", rd->bench_net ? json_null() : sync_status(&rd->sync),
	    "sessions", peers, "routers", routers, "networks", nets,
	    "rib", "prefixes", (json_int_t)sum.prefixes, "paths", (json_int_t)sum.paths,
	    "bytes", (json_int_t)bytes,
	    "attr_sets", (json_int_t)bgp_atab_count(rd->atab),
	    "attr_bytes", (json_int_t)bgp_atab_bytes(rd->atab),
	    "bytes_per_path", sum.paths ? (double)bytes / (double)sum.paths : 0.0,
	    "substrate", "rx", (json_int_t)rd->sub_rx, "tx", (json_int_t)rd->sub_tx,
	    "tun_rx", (json_int_t)rd->tun_rx, "tun_tx", (json_int_t)rd->tun_tx,
	    "drop_decode", (json_int_t)rd->drop_decode, "drop_sender",
	    (json_int_t)rd->drop_sender, "drop_target", (json_int_t)rd->drop_target,
	    "drop_io", (json_int_t)rd->drop_io);
}

static void
rd_ctl_route(void *arg, const struct bgp_prefix *p, const struct bgp_path *const *best,
    unsigned n)
{
	struct pfx4 q = {p->addr, p->len};
	char buf[PFX4_STRLEN], nh[ADDR4_STRLEN];
	json_t *paths = json_array();

	for (unsigned i = 0; i < n; i++) {
		addr4_fmt(bgp_aset_attrs(best[i]->aset)->nexthop, nh);
		json_array_append_new(paths, json_pack("{s:i, s:s}", "peer", best[i]->peer,
		    "nexthop", nh));
	}
	pfx4_fmt(&q, buf);
	json_object_set_new(arg, buf, paths);
}

static json_t *
rd_ctl_answer(struct agent *a, char *cmd)
{
	struct rd *rd = a->owner;
	char id[CC_ID_LEN + 1];
	struct rd_router *r;
	json_t *o;

	if (strcmp(cmd, "status") == 0)
		return rd_ctl_status(rd);
	if (sscanf(cmd, "routes %32s", id) == 1) {
		if ((r = map_get(&rd->routers, id)) == NULL)
			return json_pack("{s:s}", "error", "no such router here");
		o = json_object();
		bgp_rib_walk(r->rib, rd_ctl_route, o);
		return o;
	}
	return json_pack("{s:s}", "error", "unknown command (status, routes ROUTER)");
}

int
rd_ctl_start(struct rd *rd)
{
	rd->sync.ctl_answer = rd_ctl_answer;
	rd->sync.owner = rd;
	rd->sync.cfg.ctl_path = rd->cfg.ctl_path;
	rd->sync.loop = rd->loop;
	return ctl_start(&rd->sync);
}

void
rd_ctl_stop(struct rd *rd)
{
	ctl_stop(&rd->sync);
}
