/* The agent's view: upserts and deletions from veneerd, applied to one revision's maps. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"

struct astate *
astate_new(void)
{
	return calloc(1, sizeof(struct astate));
}

static void
astate_free_val(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	free(val);
}

static void
astate_clear(struct map *m)
{
	map_each(m, astate_free_val, NULL);
	map_clear(m);
}

void
astate_free(struct astate *st)
{
	if (st == NULL)
		return;
	astate_clear(&st->hosts);
	astate_clear(&st->nets);
	astate_clear(&st->routers);
	astate_clear(&st->links);
	astate_clear(&st->subnets);
	astate_clear(&st->ports);
	astate_clear(&st->routes);
	astate_clear(&st->lroutes);
	astate_clear(&st->bgpconf);
	free(st);
}

/* Stores a copy of obj under key, freeing what it replaces. */
static int
astate_put(struct map *m, const char *key, const void *obj, size_t size)
{
	void *copy = malloc(size);
	int failed = 0;

	if (copy == NULL)
		return -1;
	memcpy(copy, obj, size);
	free(map_put(m, key, copy, &failed));
	if (failed) {
		free(copy);
		return -1;
	}
	return 0;
}

static int
astate_put_conf(struct astate *st, const struct cc_bgpconf *b)
{
	struct abgpconf *c = malloc(sizeof(*c) + b->len + 1u);
	int failed = 0;

	if (c == NULL)
		return -1;
	c->kind = b->kind;
	c->len = b->len;
	memcpy(c->json, b->json, b->len);
	c->json[b->len] = '\0';
	free(map_put(&st->bgpconf, b->id, c, &failed));
	if (failed) {
		free(c);
		return -1;
	}
	return 0;
}

struct astate_drop {
	struct map *m;
	const char *net;
	size_t off; /* offset of the network id in the value */
	char (*keys)[CC_HOST_LEN];
	size_t n, cap;
};

static void
astate_collect(const char *key, void *val, void *arg)
{
	struct astate_drop *d = arg;

	if (strcmp((const char *)val + d->off, d->net) != 0)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char (*k)[CC_HOST_LEN] = realloc(d->keys, cap * CC_HOST_LEN);

		if (k == NULL)
			return;
		d->keys = k;
		d->cap = cap;
	}
	snprintf(d->keys[d->n++], CC_HOST_LEN, "%s", key);
}

/*
 * Removes every value of m whose network id (at offset off) is net, and the entries of the
 * same ids in also (BGP settings go with their router or port).
 */
static void
astate_drop_net(struct map *m, const char *net, size_t off, struct map *also)
{
	struct astate_drop d = {m, net, off, NULL, 0, 0};

	map_each(m, astate_collect, &d);
	for (size_t i = 0; i < d.n; i++) {
		free(map_del(m, d.keys[i]));
		if (also)
			free(map_del(also, d.keys[i]));
	}
	free(d.keys);
}

static void
astate_delete(struct astate *st, const struct cc_delete *d)
{
	struct map *m = NULL;

	switch (d->kind) {
	case CC_HOST:
		m = &st->hosts;
		break;
	case CC_NET:
		/* A network leaves with everything in it. */
		astate_drop_net(&st->routers, d->id, offsetof(struct cc_router, network),
		    &st->bgpconf);
		astate_drop_net(&st->links, d->id, offsetof(struct cc_link, network), NULL);
		astate_drop_net(&st->subnets, d->id, offsetof(struct cc_subnet, network), NULL);
		astate_drop_net(&st->ports, d->id, offsetof(struct cc_port, network), &st->bgpconf);
		astate_drop_net(&st->routes, d->id, offsetof(struct cc_route, network), NULL);
		astate_drop_net(&st->lroutes, d->id, offsetof(struct cc_lroute, network), NULL);
		free(map_del(&st->bgpconf, d->id));
		m = &st->nets;
		break;
	case CC_ROUTER:
		free(map_del(&st->bgpconf, d->id));
		m = &st->routers;
		break;
	case CC_LINK:
		m = &st->links;
		break;
	case CC_SUBNET:
		m = &st->subnets;
		break;
	case CC_PORT:
		free(map_del(&st->bgpconf, d->id));
		m = &st->ports;
		break;
	case CC_ROUTE:
		m = &st->routes;
		break;
	case CC_LROUTE:
		m = &st->lroutes;
		break;
	default:
		return;
	}
	free(map_del(m, d->id));
}

int
astate_apply(struct astate *st, const struct cc_msg *m)
{
	switch (m->type) {
	case CC_HOST:
		return astate_put(&st->hosts, m->u.host.name, &m->u.host, sizeof(m->u.host));
	case CC_NET:
		return astate_put(&st->nets, m->u.net.id, &m->u.net, sizeof(m->u.net));
	case CC_ROUTER:
		return astate_put(&st->routers, m->u.router.id, &m->u.router, sizeof(m->u.router));
	case CC_LINK:
		return astate_put(&st->links, m->u.link.id, &m->u.link, sizeof(m->u.link));
	case CC_SUBNET:
		return astate_put(&st->subnets, m->u.subnet.id, &m->u.subnet, sizeof(m->u.subnet));
	case CC_PORT:
		return astate_put(&st->ports, m->u.port.id, &m->u.port, sizeof(m->u.port));
	case CC_ROUTE:
		return astate_put(&st->routes, m->u.route.id, &m->u.route, sizeof(m->u.route));
	case CC_LROUTE:
		return astate_put(&st->lroutes, m->u.lroute.id, &m->u.lroute, sizeof(m->u.lroute));
	case CC_BGPCONF:
		return astate_put_conf(st, &m->u.bgpconf);
	case CC_DELETE:
		astate_delete(st, &m->u.del);
		return 0;
	default:
		return 0;
	}
}

/* --- JSON view --- */

static json_t *
astate_pfx(const struct pfx4 *p)
{
	char buf[PFX4_STRLEN];

	pfx4_fmt(p, buf);
	return json_string(buf);
}

static json_t *
astate_ip(uint32_t a)
{
	char buf[ADDR4_STRLEN];

	addr4_fmt(a, buf);
	return json_string(buf);
}

static json_t *
astate_mac(const uint8_t m[6])
{
	char buf[MAC_STRLEN];

	mac_fmt(m, buf);
	return json_string(buf);
}

static void
astate_net_json(const char *key, void *val, void *arg)
{
	const struct cc_net *n = val;
	json_t *cidrs = json_array();

	for (unsigned i = 0; i < n->ncidrs; i++)
		json_array_append_new(cidrs, astate_pfx(&n->cidrs[i]));
	json_object_set_new(arg, key, json_pack("{s:I, s:o}", "vnid", (json_int_t)n->vnid,
	    "cidr", cidrs));
}

static void
astate_router_json(const char *key, void *val, void *arg)
{
	const struct cc_router *r = val;

	json_object_set_new(arg, key, json_pack("{s:s, s:o, s:I, s:b}", "network", r->network,
	    "mac", astate_mac(r->mac), "asn", (json_int_t)r->asn, "main", r->main));
}

static void
astate_link_json(const char *key, void *val, void *arg)
{
	const struct cc_link *l = val;

	json_object_set_new(arg, key, json_pack("{s:s, s:s, s:s}", "network", l->network, "a",
	    l->a, "b", l->b));
}

static void
astate_subnet_json(const char *key, void *val, void *arg)
{
	const struct cc_subnet *s = val;

	json_object_set_new(arg, key, json_pack("{s:s, s:s, s:o}", "network", s->network,
	    "router", s->router, "cidr", astate_pfx(&s->cidr)));
}

static void
astate_port_json(const char *key, void *val, void *arg)
{
	const struct cc_port *p = val;
	json_t *extra = json_array(), *claim = json_array(), *owned = json_array();

	for (unsigned i = 0; i < p->nextra; i++)
		json_array_append_new(extra, astate_ip(p->extra[i]));
	for (unsigned i = 0; i < p->nclaim; i++)
		json_array_append_new(claim, astate_pfx(&p->claim[i]));
	for (unsigned i = 0; i < p->nowned; i++)
		json_array_append_new(owned, astate_ip(p->owned[i]));
	json_object_set_new(arg, key, json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:b, s:o, "
	    "s:o, s:o}", "network", p->network, "subnet", p->subnet, "host", p->host, "mac",
	    astate_mac(p->mac), "ip", astate_ip(p->ip), "device", p->device, "source_dest_check",
	    (p->flags & CC_PORT_SDC) != 0, "routing", (p->flags & CC_PORT_ROUTING) != 0,
	    "extra_ips", extra, "claimable", claim, "vips", owned));
}

static void
astate_route_json(const char *key, void *val, void *arg)
{
	const struct cc_route *r = val;
	static const char *const types[] = {"", "port", "router", "blackhole"};

	json_object_set_new(arg, key, json_pack("{s:s, s:s, s:o, s:s, s:s}", "network",
	    r->network, "router", r->router, "destination", astate_pfx(&r->dst), "target_type",
	    types[r->ttype], "target", r->ttype == CC_T_BLACKHOLE ? "blackhole" : r->target));
}

static void
astate_host_json(const char *key, void *val, void *arg)
{
	const struct cc_host *h = val;

	json_object_set_new(arg, key, json_pack("{s:s, s:b}", "encap", h->encap ==
	    CC_ENCAP_EMBED6 ? "embed6" : "vxlan", "up", h->up));
}

static json_t *
astate_map_json(const struct map *m, void (*fn)(const char *, void *, void *))
{
	json_t *o = json_object();

	map_each(m, fn, o);
	return o;
}

json_t *
astate_json(const struct astate *st, int full)
{
	json_t *o = json_pack("{s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "revision",
	    (json_int_t)st->revision, "counts", "hosts", (json_int_t)st->hosts.count, "networks",
	    (json_int_t)st->nets.count, "routers", (json_int_t)st->routers.count, "links",
	    (json_int_t)st->links.count, "subnets", (json_int_t)st->subnets.count, "ports",
	    (json_int_t)st->ports.count, "routes", (json_int_t)st->routes.count);

	if (!full)
		return o;
	json_object_set_new(o, "hosts", astate_map_json(&st->hosts, astate_host_json));
	json_object_set_new(o, "networks", astate_map_json(&st->nets, astate_net_json));
	json_object_set_new(o, "routers", astate_map_json(&st->routers, astate_router_json));
	json_object_set_new(o, "links", astate_map_json(&st->links, astate_link_json));
	json_object_set_new(o, "subnets", astate_map_json(&st->subnets, astate_subnet_json));
	json_object_set_new(o, "ports", astate_map_json(&st->ports, astate_port_json));
	json_object_set_new(o, "routes", astate_map_json(&st->routes, astate_route_json));
	return o;
}
