#include "fib.h"

#include <stdlib.h>
#include <string.h>

/* Context for walking the view's maps into one network's arrays. */
struct fib_fill {
	const struct astate *st;
	struct fib_net *net;
	const char *self;
	int failed;
};

static void
fib_count(const char *key, void *val, void *arg)
{
	struct fib *f = arg;

	(void)key;
	(void)val;
	f->nnets++;
}

static void
fib_take_router(const char *key, void *val, void *arg)
{
	struct fib_fill *ff = arg;
	const struct cc_router *r = val;

	(void)key;
	if (strcmp(r->network, ff->net->n->id) == 0)
		ff->net->routers[ff->net->nrouters++].r = r;
}

static void
fib_take_subnet(const char *key, void *val, void *arg)
{
	struct fib_fill *ff = arg;
	const struct cc_subnet *s = val;

	(void)key;
	if (strcmp(s->network, ff->net->n->id) == 0)
		ff->net->subnets[ff->net->nsubnets++].s = s;
}

static void
fib_take_port(const char *key, void *val, void *arg)
{
	struct fib_fill *ff = arg;
	const struct cc_port *p = val;
	struct fib_port *fp;
	const struct cc_host *h;

	(void)key;
	if (strcmp(p->network, ff->net->n->id) != 0)
		return;
	fp = &ff->net->ports[ff->net->nports++];
	fp->p = p;
	fp->net = ff->net;
	fp->sub = map_get(&ff->net->by_subnet, p->subnet);
	fp->local = p->host[0] && strcmp(p->host, ff->self) == 0;
	if (p->host[0] && (h = map_get(&ff->st->hosts, p->host)) != NULL) {
		fp->where = h->address;
		fp->prefix = h->prefix;
		fp->encap = h->encap;
	}
}

/* Arrays sized by a count over the whole view: an upper bound for this network. */
static int
fib_alloc_net(struct fib_net *n, const struct astate *st)
{
	n->routers = calloc(st->routers.count + 1, sizeof(*n->routers));
	n->subnets = calloc(st->subnets.count + 1, sizeof(*n->subnets));
	n->ports = calloc(st->ports.count + 1, sizeof(*n->ports));
	return n->routers && n->subnets && n->ports ? 0 : -1;
}

/* Router tables from the same function the API's effective routes come from. */
static int
fib_routers(struct fib_net *n, const struct astate *st)
{
	const char **ids = calloc((size_t)n->nrouters + 1, sizeof(char *));
	int (*links)[2] = calloc(st->links.count + 1, sizeof(*links));
	struct rib_own *own = calloc(st->subnets.count + st->routes.count + st->lroutes.count + 1,
	    sizeof(*own));
	int nlinks = 0, nown = 0, rc = -1;
	struct rib_net rn;

	if (ids == NULL || links == NULL || own == NULL)
		goto out;
	for (int i = 0; i < n->nrouters; i++) {
		ids[i] = n->routers[i].r->id;
		if (map_put(&n->by_router, ids[i], &n->routers[i], NULL) != NULL)
			goto out;
	}
	for (size_t i = 0; i < st->links.cap; i++) {
		const struct cc_link *l = st->links.slots[i].val;
		struct fib_router *a, *b;

		if (l == NULL || strcmp(l->network, n->n->id) != 0)
			continue;
		a = map_get(&n->by_router, l->a);
		b = map_get(&n->by_router, l->b);
		if (a && b) {
			links[nlinks][0] = (int)(a - n->routers);
			links[nlinks][1] = (int)(b - n->routers);
			nlinks++;
		}
	}
	for (int i = 0; i < n->nsubnets; i++) {
		struct fib_router *r = map_get(&n->by_router, n->subnets[i].s->router);

		if (r == NULL)
			continue;
		own[nown++] = (struct rib_own){(int)(r - n->routers), n->subnets[i].s->cidr,
		    RIB_CONNECTED, RIB_T_SUBNET, n->subnets[i].s->id, NULL, 0};
	}
	for (size_t i = 0; i < st->routes.cap; i++) {
		const struct cc_route *rt = st->routes.slots[i].val;
		struct fib_router *r;

		if (rt == NULL || strcmp(rt->network, n->n->id) != 0 ||
		    (r = map_get(&n->by_router, rt->router)) == NULL)
			continue;
		own[nown++] = (struct rib_own){(int)(r - n->routers), rt->dst, RIB_STATIC,
		    rt->ttype == CC_T_PORT ? RIB_T_PORT : rt->ttype == CC_T_ROUTER ? RIB_T_ROUTER :
		    RIB_T_BLACKHOLE, rt->ttype == CC_T_BLACKHOLE ? NULL : rt->target, rt->id, 0};
	}
	/* Learned routes veneerd installed: to the announcing (or third-party) next-hop port. */
	for (size_t i = 0; i < st->lroutes.cap; i++) {
		const struct cc_lroute *lr = st->lroutes.slots[i].val;
		struct fib_router *r;

		if (lr == NULL || strcmp(lr->network, n->n->id) != 0 ||
		    (r = map_get(&n->by_router, lr->router)) == NULL)
			continue;
		own[nown++] = (struct rib_own){(int)(r - n->routers), lr->dst, RIB_BGP, RIB_T_PORT,
		    lr->port, lr->id, (lr->flags & CC_LR_OVERRIDE) != 0};
	}
	rn = (struct rib_net){n->nrouters, ids, nlinks, (const int(*)[2])links, nown, own};
	for (int i = 0; i < n->nrouters; i++)
		if ((n->routers[i].nrib = rib_compute(&rn, i, &n->routers[i].rib)) < 0)
			goto out;
	rc = 0;
out:
	/* The entries point at ids in the view, which lives as long as the fib. */
	free(ids);
	free(links);
	free(own);
	return rc;
}

static int
fib_same_addr(const struct cc_addr *a, const struct cc_addr *b)
{
	return a->family == b->family && memcmp(a->a, b->a, a->family == 4 ? 4 : 16) == 0;
}

/* Is there a VXLAN port of remote host `where` in s's flood list already? */
static int
fib_flood_has_host(const struct fib_subnet *s, const struct cc_addr *where)
{
	for (int i = 0; i < s->nflood; i++)
		if (!s->flood[i]->local && s->flood[i]->encap != CC_ENCAP_EMBED6 &&
		    fib_same_addr(&s->flood[i]->where, where))
			return 1;
	return 0;
}

/* The flood lists of every subnet (see struct fib_subnet). */
static int
fib_flood_lists(struct fib_net *n)
{
	for (int i = 0; i < n->nsubnets; i++)
		if ((n->subnets[i].flood = calloc((size_t)n->nports + 1, sizeof(void *))) == NULL)
			return -1;
	for (int i = 0; i < n->nports; i++) {
		struct fib_port *p = &n->ports[i];
		struct fib_subnet *s = p->sub;

		if (s == NULL)
			continue;
		if (p->local)
			s->flood[s->nflood++] = p;
		else if (p->encap == CC_ENCAP_EMBED6 && p->prefix.family == 6 && p->p->slot)
			s->flood[s->nflood++] = p;
		else if (p->encap != CC_ENCAP_EMBED6 && p->where.family != 0 &&
		    !fib_flood_has_host(s, &p->where))
			s->flood[s->nflood++] = p;
	}
	return 0;
}

static int
fib_index_net(struct fib_net *n)
{
	for (int i = 0; i < n->nsubnets; i++) {
		struct fib_subnet *s = &n->subnets[i];

		s->rtr = map_get(&n->by_router, s->s->router);
		s->gw = s->s->cidr.addr + 1;
		s->bcast = pfx4_last(&s->s->cidr);
		if (imap_put(&n->gw, s->gw, s) < 0)
			return -1;
		/* A router answers from the gateway of its lowest subnet. */
		if (s->rtr && (s->rtr->addr == 0 || s->gw < s->rtr->addr))
			s->rtr->addr = s->gw;
	}
	for (int i = 0; i < n->nrouters; i++)
		if (imap_put(&n->rtr_mac, imap_mac(n->routers[i].r->mac), &n->routers[i]) < 0)
			return -1;
	for (int i = 0; i < n->nports; i++) {
		struct fib_port *p = &n->ports[i];

		if (imap_put(&n->by_mac, imap_mac(p->p->mac), p) < 0 ||
		    imap_put(&n->by_ip, p->p->ip, p) < 0)
			return -1;
		if (p->prefix.family == 6 && p->p->slot &&
		    imap_put(&n->by_loc, fib_loc_key(p->prefix.a, p->p->slot), p) < 0)
			return -1;
		for (unsigned k = 0; k < p->p->nextra; k++)
			if (imap_put(&n->by_ip, p->p->extra[k], p) < 0)
				return -1;
		for (unsigned k = 0; k < p->p->nowned; k++)
			if (imap_put(&n->by_ip, p->p->owned[k], p) < 0)
				return -1;
	}
	return fib_flood_lists(n);
}

static int
fib_build_net(struct fib *f, struct fib_net *n, const struct astate *st, const char *self)
{
	struct fib_fill ff = {st, n, self, 0};

	if (fib_alloc_net(n, st) < 0)
		return -1;
	map_each(&st->routers, fib_take_router, &ff);
	map_each(&st->subnets, fib_take_subnet, &ff);
	for (int i = 0; i < n->nsubnets; i++)
		if (map_put(&n->by_subnet, n->subnets[i].s->id, &n->subnets[i], NULL) != NULL)
			return -1;
	if (fib_routers(n, st) < 0)
		return -1;
	map_each(&st->ports, fib_take_port, &ff);
	if (fib_index_net(n) < 0 || imap_put(&f->by_vnid, n->n->vnid, n) < 0)
		return -1;
	n->routerd.p = &n->routerd_p;
	n->routerd.net = n;
	snprintf(n->routerd_p.id, sizeof(n->routerd_p.id), "routerd");
	if (f->routerd) {
		n->routerd.where = f->routerd->address;
		n->routerd.prefix = f->routerd->prefix;
		n->routerd.encap = f->routerd->encap;
	}
	for (int i = 0; i < n->nports; i++) {
		int failed = 0;

		map_put(&f->by_port, n->ports[i].p->id, &n->ports[i], &failed);
		if (failed)
			return -1;
	}
	return 0;
}

struct fib *
fib_build(const struct astate *st, const char *self)
{
	struct fib *f = calloc(1, sizeof(*f));
	int i = 0;

	if (f == NULL)
		return NULL;
	f->revision = st->revision;
	/* One routing manager serves every network (the first one up by name, if several). */
	for (size_t k = 0; k < st->hosts.cap; k++) {
		const struct cc_host *h = st->hosts.slots[k].val;

		if (h && h->role == CC_ROLE_ROUTERD && h->up && (f->routerd == NULL ||
		    strcmp(h->name, f->routerd->name) < 0))
			f->routerd = h;
	}
	map_each(&st->nets, fib_count, f);
	if ((f->nets = calloc((size_t)f->nnets + 1, sizeof(*f->nets))) == NULL) {
		free(f);
		return NULL;
	}
	for (size_t k = 0; k < st->nets.cap; k++) {
		const struct cc_net *n = st->nets.slots[k].val;

		if (n == NULL)
			continue;
		f->nets[i].n = n;
		if (fib_build_net(f, &f->nets[i++], st, self) < 0) {
			fib_free(f);
			return NULL;
		}
	}
	return f;
}

void
fib_free(struct fib *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < f->nnets; i++) {
		struct fib_net *n = &f->nets[i];

		for (int k = 0; k < n->nrouters; k++)
			free(n->routers[k].rib);
		for (int k = 0; k < n->nsubnets; k++)
			free(n->subnets[k].flood);
		free(n->routers);
		free(n->subnets);
		free(n->ports);
		imap_free(&n->by_ip);
		imap_free(&n->by_mac);
		imap_free(&n->gw);
		imap_free(&n->rtr_mac);
		imap_free(&n->by_loc);
		map_clear(&n->by_router);
		map_clear(&n->by_subnet);
	}
	imap_free(&f->by_vnid);
	map_clear(&f->by_port);
	free(f->nets);
	free(f);
}

uint64_t
fib_loc_key(const uint8_t prefix[16], uint64_t slot)
{
	uint64_t k = 1469598103934665603ull;

	for (int i = 0; i < 16; i++)
		k = (k ^ prefix[i]) * 1099511628211ull;
	return k ^ (slot * 0x9e3779b97f4a7c15ull);
}

struct fib_subnet *
fib_subnet_of(const struct fib_net *net, uint32_t a)
{
	for (int i = 0; i < net->nsubnets; i++)
		if (pfx4_contains_addr(&net->subnets[i].s->cidr, a))
			return &net->subnets[i];
	return NULL;
}

const struct rib_entry *
fib_lookup(const struct fib_router *r, uint32_t dst, uint32_t hash)
{
	/* Longest prefix first: the first selected match and its ECMP siblings follow it. */
	for (int i = 0; i < r->nrib; i++) {
		const struct rib_entry *e = &r->rib[i];
		int n = 0;

		if (!e->selected || !pfx4_contains_addr(&e->dst, dst))
			continue;
		while (i + n < r->nrib && r->rib[i + n].dst.addr == e->dst.addr &&
		    r->rib[i + n].dst.len == e->dst.len && r->rib[i + n].selected)
			n++;
		return &r->rib[i + hash % (unsigned)n];
	}
	return NULL;
}
