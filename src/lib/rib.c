#include "rib.h"

#include <stdlib.h>
#include <string.h>

/* The most first hops one destination spreads over (FRR's maximum-paths, in spirit). */
#define RIB_MAX_ECMP 8

const char *
rib_origin_name(enum rib_origin o)
{
	switch (o) {
	case RIB_CONNECTED:
		return "connected";
	case RIB_STATIC:
		return "static";
	case RIB_BGP:
		return "bgp";
	default:
		return "link";
	}
}

const char *
rib_target_name(enum rib_target t)
{
	static const char *const names[] = {"subnet", "port", "router", "blackhole"};

	return names[t];
}

/*
 * Breadth-first search over the links from self: dist[r] in hops (-1 unreachable) and,
 * in first[r * n + h], whether neighbour h of self starts a shortest path to r.
 */
static int
rib_bfs(const struct rib_net *net, int self, int *dist, unsigned char *first)
{
	int n = net->nrouters, *queue = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
	int head = 0, tail = 0;

	if (queue == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		dist[i] = -1;
	dist[self] = 0;
	queue[tail++] = self;
	while (head < tail) {
		int u = queue[head++];

		for (int l = 0; l < net->nlinks; l++) {
			int a = net->links[l][0], b = net->links[l][1], v;

			if (a != u && b != u)
				continue;
			v = a == u ? b : a;
			if (dist[v] == -1) {
				dist[v] = dist[u] + 1;
				queue[tail++] = v;
			}
			if (dist[v] != dist[u] + 1)
				continue;
			/* v inherits u's first hops; a neighbour of self is its own first hop. */
			if (u == self)
				first[(size_t)v * (size_t)n + (size_t)v] = 1;
			else
				for (int h = 0; h < n; h++)
					first[(size_t)v * (size_t)n + (size_t)h] |=
					    first[(size_t)u * (size_t)n + (size_t)h];
		}
	}
	free(queue);
	return 0;
}

static int
rib_cmp(const void *pa, const void *pb)
{
	const struct rib_entry *a = pa, *b = pb;

	if (a->dst.len != b->dst.len)
		return a->dst.len > b->dst.len ? -1 : 1;
	if (a->dst.addr != b->dst.addr)
		return a->dst.addr < b->dst.addr ? -1 : 1;
	if (a->origin != b->origin)
		return a->origin < b->origin ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	return strcmp(a->target ? a->target : "", b->target ? b->target : "");
}

static int
rib_same(const struct rib_entry *a, const struct rib_entry *b)
{
	return a->dst.addr == b->dst.addr && a->dst.len == b->dst.len && a->origin == b->origin &&
	    a->metric == b->metric && a->ttype == b->ttype &&
	    strcmp(a->target ? a->target : "", b->target ? b->target : "") == 0 &&
	    a->route_id == b->route_id && a->override == b->override;
}

/* Marks the selected entries of one destination, e[0..n) (sorted: e[0] is a best one). */
static void
rib_select(struct rib_entry *e, int n)
{
	int over = 0;

	/* A connected route gives way to learned routes allowed to override it. */
	for (int i = 0; e[0].origin == RIB_CONNECTED && i < n; i++)
		over |= e[i].origin == RIB_BGP && e[i].override;
	for (int i = 0; i < n; i++)
		e[i].selected = over ? e[i].origin == RIB_BGP && e[i].override :
		    e[i].origin == e[0].origin && e[i].metric == e[0].metric;
}

/* Sorts, drops duplicates, and selects the best (origin, metric) per destination. */
static int
rib_finish(struct rib_entry *e, int n)
{
	int m = 0;

	if (n == 0)
		return 0;
	qsort(e, (size_t)n, sizeof(*e), rib_cmp);
	for (int i = 0; i < n; i++)
		if (m == 0 || !rib_same(&e[m - 1], &e[i]))
			e[m++] = e[i];
	for (int i = 0; i < m;) {
		int j = i;

		while (j < m && e[j].dst.addr == e[i].dst.addr && e[j].dst.len == e[i].dst.len)
			j++;
		rib_select(&e[i], j - i);
		i = j;
	}
	return m;
}

int
rib_compute(const struct rib_net *net, int self, struct rib_entry **out)
{
	int n = net->nrouters, cnt = 0;
	int *dist = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
	unsigned char *first = calloc((size_t)n * (size_t)n + 1, 1);
	struct rib_entry *e = NULL;
	size_t cap = 0;

	if (dist == NULL || first == NULL || rib_bfs(net, self, dist, first) < 0)
		goto fail;
	for (int i = 0; i < net->nown; i++) {
		const struct rib_own *o = &net->own[i];
		int r = o->router;

		if (r < 0 || r >= n || dist[r] < 0)
			continue;
		if (r != self && o->ttype == RIB_T_ROUTER)
			continue; /* keeps the emulated routers free of loops */
		for (int h = 0, paths = 0; h < n && paths < RIB_MAX_ECMP; h++) {
			if (r != self && !first[(size_t)r * (size_t)n + (size_t)h])
				continue;
			paths++;
			if ((size_t)cnt == cap) {
				struct rib_entry *ne = realloc(e, (cap = cap ? cap * 2 : 32) * sizeof(*e));

				if (ne == NULL)
					goto fail;
				e = ne;
			}
			e[cnt] = (struct rib_entry){.dst = o->dst, .origin = o->origin,
			    .ttype = o->ttype, .target = o->target, .route_id = o->route_id,
			    .override = o->origin == RIB_BGP && o->override};
			if (r != self) {
				/* Learned routes travel like static routes to ports: as link routes. */
				e[cnt].origin = RIB_LINK;
				e[cnt].ttype = RIB_T_ROUTER;
				e[cnt].target = net->router_ids[h];
				e[cnt].route_id = NULL;
				e[cnt].metric = (unsigned)dist[r];
				e[cnt].override = 0;
			}
			cnt++;
			if (r == self)
				break;
		}
	}
	free(dist);
	free(first);
	*out = e;
	return rib_finish(e, cnt);
fail:
	free(dist);
	free(first);
	free(e);
	return -1;
}
