/*
 * The routing table (bgp_rib.h). Sized for full feeds: a prefix is one 40-byte entry from a
 * slab, holding its first path inline, reached through a chained hash of 32-bit entry indices
 * that doubles with the table; further paths come from a pool. Nothing is allocated per
 * operation once the slabs and pools have grown.
 *
 * Invariant: the first nbest paths of an entry's list are its best set, in callback order.
 * A change is detected by comparing that prefix of the list, as (peer, set) pairs, before
 * and after the operation. Callbacks must not modify the table.
 */
#include "bgp_rib.h"

#include <stdlib.h>
#include <string.h>

#define ENT_SHIFT 10 /* entries per slab: 1024 * 40 bytes */
#define ENT_SLAB (1u << ENT_SHIFT)
#define PATH_SLAB 512
#define ENT_FREE 0xff /* len of an entry on the free list */

struct rib_ent {
	struct bgp_path head; /* the first path, inline: most prefixes have only one */
	uint32_t addr;
	uint32_t next;        /* hash chain or free list, entry index (0: none) */
	uint8_t len;
	uint8_t nbest;
};
_Static_assert(sizeof(struct rib_ent) == 40, "a prefix costs one inline path and its key");

struct rib_peer {
	struct bgp_rib_peer p;
	size_t prefixes;
	int used;
};

/* A path under decision, with the keys of the best-path order read once. */
struct rib_cand {
	const struct bgp_aset *aset;
	uint32_t local_pref;
	uint32_t med;
	uint32_t first_as;
	uint32_t router_id;
	uint32_t addr;
	uint16_t peer;
	uint16_t aslen;
	uint8_t origin;
	uint8_t ebgp;
	uint8_t stale;
	uint8_t in_set;
};

/* A best set as (peer, set) pairs: what the callback contract compares. */
struct rib_snap {
	unsigned n;
	uint16_t peer[BGP_RIB_MAX_ECMP];
	const struct bgp_aset *aset[BGP_RIB_MAX_ECMP];
};

struct bgp_rib {
	struct bgp_atab *atab;
	bgp_rib_change_cb cb;
	void *arg;
	uint32_t *bkt;              /* entry index per bucket, 0: empty */
	uint32_t nbkt;              /* power of two */
	uint32_t bkt_shift;         /* 64 - log2(nbkt) */
	struct rib_ent **eslab;
	size_t neslab;
	uint32_t enext;             /* next never-used entry index */
	uint32_t efree;             /* free list of entries */
	struct bgp_path **pslab;
	size_t npslab;
	size_t pused;               /* paths handed out from the last slab */
	struct bgp_path *pfree;     /* free list of paths, through next */
	size_t nprefix;
	size_t npath;
	struct rib_peer *peers;
	size_t npeers;              /* length of peers */
	struct rib_cand *cand;      /* scratch for decisions, grown to the longest list */
	size_t ncand;
};

/* ---- entries and the prefix hash ---- */

static struct rib_ent *
rib_ent(const struct bgp_rib *r, uint32_t i)
{
	return &r->eslab[i >> ENT_SHIFT][i & (ENT_SLAB - 1)];
}

static uint32_t
rib_bucket(const struct bgp_rib *r, uint32_t addr, uint8_t len)
{
	uint64_t k = ((uint64_t)addr << 8 | len) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(k >> r->bkt_shift);
}

static uint32_t
rib_lookup(const struct bgp_rib *r, uint32_t addr, uint8_t len)
{
	uint32_t i = r->bkt[rib_bucket(r, addr, len)];

	while (i != 0) {
		const struct rib_ent *e = rib_ent(r, i);

		if (e->addr == addr && e->len == len)
			return i;
		i = e->next;
	}
	return 0;
}

/* Doubles the buckets, rehashing in slab order (sequential) rather than chain order. */
static int
rib_grow(struct bgp_rib *r)
{
	uint32_t nbkt = r->nbkt * 2, *bkt = calloc(nbkt, sizeof(*bkt));

	if (bkt == NULL)
		return -1;
	free(r->bkt);
	r->bkt = bkt;
	r->nbkt = nbkt;
	r->bkt_shift--;
	for (uint32_t i = 1; i < r->enext; i++) {
		struct rib_ent *e = rib_ent(r, i);
		uint32_t b;

		if (e->len == ENT_FREE)
			continue;
		b = rib_bucket(r, e->addr, e->len);
		e->next = bkt[b];
		bkt[b] = i;
	}
	return 0;
}

static uint32_t
rib_ent_alloc(struct bgp_rib *r)
{
	uint32_t i;

	if (r->efree != 0) {
		i = r->efree;
		r->efree = rib_ent(r, i)->next;
		return i;
	}
	if (r->enext >> ENT_SHIFT == r->neslab) {
		struct rib_ent **v = realloc(r->eslab, (r->neslab + 1) * sizeof(*v));

		if (v == NULL)
			return 0;
		r->eslab = v;
		if ((v[r->neslab] = malloc(ENT_SLAB * sizeof(struct rib_ent))) == NULL)
			return 0;
		r->neslab++;
	}
	return r->enext++;
}

/* A new entry for (addr, len) in its chain, or NULL when out of memory. */
static struct rib_ent *
rib_ent_new(struct bgp_rib *r, uint32_t addr, uint8_t len)
{
	uint32_t i, b;
	struct rib_ent *e;

	if (r->nprefix >= r->nbkt && rib_grow(r) < 0)
		return NULL;
	if ((i = rib_ent_alloc(r)) == 0)
		return NULL;
	e = rib_ent(r, i);
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->len = len;
	b = rib_bucket(r, addr, len);
	e->next = r->bkt[b];
	r->bkt[b] = i;
	r->nprefix++;
	return e;
}

static void
rib_ent_del(struct bgp_rib *r, uint32_t i)
{
	struct rib_ent *e = rib_ent(r, i);
	uint32_t *pi = &r->bkt[rib_bucket(r, e->addr, e->len)];

	while (*pi != i)
		pi = &rib_ent(r, *pi)->next;
	*pi = e->next;
	e->len = ENT_FREE;
	e->next = r->efree;
	r->efree = i;
	r->nprefix--;
}

/* ---- the path pool ---- */

static struct bgp_path *
rib_path_alloc(struct bgp_rib *r)
{
	struct bgp_path *p = r->pfree;

	if (p != NULL) {
		r->pfree = p->next;
		return p;
	}
	if (r->npslab == 0 || r->pused == PATH_SLAB) {
		struct bgp_path **v = realloc(r->pslab, (r->npslab + 1) * sizeof(*v));

		if (v == NULL)
			return NULL;
		r->pslab = v;
		if ((v[r->npslab] = malloc(PATH_SLAB * sizeof(struct bgp_path))) == NULL)
			return NULL;
		r->npslab++;
		r->pused = 0;
	}
	return &r->pslab[r->npslab - 1][r->pused++];
}

static void
rib_path_free(struct bgp_rib *r, struct bgp_path *p)
{
	p->next = r->pfree;
	r->pfree = p;
}

/* ---- table life ---- */

struct bgp_rib *
bgp_rib_new(struct bgp_atab *t, bgp_rib_change_cb cb, void *arg)
{
	struct bgp_rib *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->atab = t;
	r->cb = cb;
	r->arg = arg;
	r->nbkt = 1024;
	r->bkt_shift = 64 - 10;
	r->enext = 1; /* index 0 means "none" in chains */
	if ((r->bkt = calloc(r->nbkt, sizeof(*r->bkt))) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
bgp_rib_free(struct bgp_rib *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 1; i < r->enext; i++) {
		struct rib_ent *e = rib_ent(r, i);

		if (e->len == ENT_FREE)
			continue;
		for (struct bgp_path *p = &e->head; p != NULL; p = p->next)
			bgp_aset_put(r->atab, p->aset);
	}
	for (size_t i = 0; i < r->neslab; i++)
		free(r->eslab[i]);
	for (size_t i = 0; i < r->npslab; i++)
		free(r->pslab[i]);
	free(r->eslab);
	free(r->pslab);
	free(r->bkt);
	free(r->peers);
	free(r->cand);
	free(r);
}

size_t
bgp_rib_bytes(const struct bgp_rib *r)
{
	return sizeof(*r) + (size_t)r->nbkt * sizeof(*r->bkt) +
	    r->neslab * (sizeof(*r->eslab) + ENT_SLAB * sizeof(struct rib_ent)) +
	    r->npslab * (sizeof(*r->pslab) + PATH_SLAB * sizeof(struct bgp_path)) +
	    r->npeers * sizeof(*r->peers) + r->ncand * sizeof(*r->cand);
}

size_t
bgp_rib_prefixes(const struct bgp_rib *r)
{
	return r->nprefix;
}

size_t
bgp_rib_paths(const struct bgp_rib *r)
{
	return r->npath;
}

/* ---- peers ---- */

int
bgp_rib_peer_add(struct bgp_rib *r, const struct bgp_rib_peer *p)
{
	size_t i;

	for (i = 0; i < r->npeers && r->peers[i].used; i++)
		;
	if (i == r->npeers) {
		size_t n = r->npeers ? r->npeers * 2 : 8;
		struct rib_peer *v;

		if (i >= BGP_RIB_MAX_PEERS)
			return -1;
		if (n > BGP_RIB_MAX_PEERS)
			n = BGP_RIB_MAX_PEERS;
		if ((v = realloc(r->peers, n * sizeof(*v))) == NULL)
			return -1;
		memset(v + r->npeers, 0, (n - r->npeers) * sizeof(*v));
		r->peers = v;
		r->npeers = n;
	}
	r->peers[i].p = *p;
	r->peers[i].prefixes = 0;
	r->peers[i].used = 1;
	return (int)i;
}

const struct bgp_rib_peer *
bgp_rib_peer_get(const struct bgp_rib *r, int peer)
{
	if (peer < 0 || (size_t)peer >= r->npeers || !r->peers[peer].used)
		return NULL;
	return &r->peers[peer].p;
}

size_t
bgp_rib_peer_prefixes(const struct bgp_rib *r, int peer)
{
	return bgp_rib_peer_get(r, peer) ? r->peers[peer].prefixes : 0;
}

/* ---- best path ---- */

static int
rib_cand_reserve(struct bgp_rib *r, size_t n)
{
	struct rib_cand *v;

	if (n <= r->ncand)
		return 0;
	if ((v = realloc(r->cand, n * 2 * sizeof(*v))) == NULL)
		return -1;
	r->cand = v;
	r->ncand = n * 2;
	return 0;
}

static void
rib_cand_fill(const struct bgp_rib *r, struct rib_cand *c, const struct bgp_path *p)
{
	const struct bgp_attrs *a = bgp_aset_attrs(p->aset);
	const struct bgp_rib_peer *peer = &r->peers[p->peer].p;

	c->aset = p->aset;
	c->stale = p->stale;
	c->local_pref = a->present & (1u << BGP_A_LOCAL_PREF) ? a->local_pref : 100;
	c->med = a->present & (1u << BGP_A_MED) ? a->med : 0;
	c->first_as = a->first_as;
	c->aslen = a->aspath_count;
	c->origin = a->origin;
	c->router_id = peer->router_id;
	c->addr = peer->addr;
	c->ebgp = peer->ebgp != 0;
	c->peer = p->peer;
	c->in_set = 1;
}

/*
 * RFC 4271 9.1.2.2 as elimination rounds over the candidates still in: the result does not
 * depend on list order even though MED is compared only within a neighbour AS. Whatever
 * survives the eBGP/iBGP round is the ECMP set.
 */
static void
rib_eliminate(struct rib_cand *c, size_t n)
{
	uint32_t lp = 0, aslen = UINT32_MAX, origin = UINT32_MAX;
	int ebgp = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		lp = c[i].local_pref > lp ? c[i].local_pref : lp;
	for (i = 0; i < n; i++)
		if (c[i].in_set &= c[i].local_pref == lp)
			aslen = c[i].aslen < aslen ? c[i].aslen : aslen;
	for (i = 0; i < n; i++)
		if (c[i].in_set &= c[i].aslen == aslen)
			origin = c[i].origin < origin ? c[i].origin : origin;
	for (i = 0; i < n; i++)
		c[i].in_set &= c[i].origin == origin;
	/* Quadratic, but only over paths equal so far: few even on a route server. */
	for (i = 0; i < n; i++)
		for (j = 0; j < n && c[i].in_set; j++)
			if (c[j].in_set && c[j].first_as == c[i].first_as && c[j].med < c[i].med)
				c[i].in_set = 0;
	for (i = 0; i < n; i++)
		ebgp |= c[i].in_set && c[i].ebgp;
	for (i = 0; i < n; i++)
		c[i].in_set &= c[i].ebgp == ebgp;
}

/* The set first, ordered by peer address, then the others: deterministic for callbacks. */
static int
rib_cand_cmp(const void *x, const void *y)
{
	const struct rib_cand *a = x, *b = y;

	if (a->in_set != b->in_set)
		return a->in_set ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (a->peer > b->peer) - (a->peer < b->peer);
}

static int
rib_cand_better(const struct rib_cand *a, const struct rib_cand *b)
{
	if (a->router_id != b->router_id)
		return a->router_id < b->router_id;
	if (a->addr != b->addr)
		return a->addr < b->addr;
	return a->peer < b->peer;
}

/* Moves the best of the k survivors to the front, keeping the others in address order. */
static void
rib_best_first(struct rib_cand *c, size_t k)
{
	size_t b = 0;
	struct rib_cand best;

	for (size_t i = 1; i < k; i++)
		if (rib_cand_better(&c[i], &c[b]))
			b = i;
	best = c[b];
	memmove(&c[1], &c[0], b * sizeof(*c));
	c[0] = best;
}

/*
 * Recomputes e's best set and reorders its paths so that the set comes first. The caller has
 * reserved candidates for every path (rib_cand_reserve), so this cannot fail.
 */
static void
rib_decide(struct bgp_rib *r, struct rib_ent *e)
{
	size_t n, k = 0;
	struct bgp_path *p;

	if (e->head.next == NULL) {
		e->nbest = 1;
		return;
	}
	for (n = 0, p = &e->head; p != NULL; p = p->next, n++)
		rib_cand_fill(r, &r->cand[n], p);
	rib_eliminate(r->cand, n);
	for (size_t i = 0; i < n; i++)
		k += r->cand[i].in_set;
	qsort(r->cand, n, sizeof(*r->cand), rib_cand_cmp);
	rib_best_first(r->cand, k);
	/* Contents move between the list nodes; the nodes and their links stay. */
	for (n = 0, p = &e->head; p != NULL; p = p->next, n++) {
		p->aset = r->cand[n].aset;
		p->peer = r->cand[n].peer;
		p->stale = r->cand[n].stale;
	}
	e->nbest = (uint8_t)(k < BGP_RIB_MAX_ECMP ? k : BGP_RIB_MAX_ECMP);
}

/* ---- change detection ---- */

static void
rib_snap(const struct rib_ent *e, struct rib_snap *s)
{
	const struct bgp_path *p = &e->head;

	for (s->n = 0; s->n < e->nbest; s->n++, p = p->next) {
		s->peer[s->n] = p->peer;
		s->aset[s->n] = p->aset;
	}
}

static void
rib_notify(const struct bgp_rib *r, const struct rib_ent *e)
{
	const struct bgp_path *best[BGP_RIB_MAX_ECMP], *p = &e->head;
	struct bgp_prefix pfx = { .addr = e->addr, .len = e->len };

	for (unsigned i = 0; i < e->nbest; i++, p = p->next)
		best[i] = p;
	if (r->cb != NULL)
		r->cb(r->arg, &pfx, best, e->nbest);
}

/* Recomputes e's set and calls back only if it differs from the snapshot s. */
static void
rib_update(struct bgp_rib *r, struct rib_ent *e, const struct rib_snap *s)
{
	const struct bgp_path *p = &e->head;
	unsigned i;

	rib_decide(r, e);
	if (e->nbest == s->n) {
		for (i = 0; i < s->n; i++, p = p->next)
			if (p->peer != s->peer[i] || p->aset != s->aset[i])
				break;
		if (i == s->n)
			return;
	}
	rib_notify(r, e);
}

/* ---- announce and withdraw ---- */

static int
rib_peer_ok(const struct bgp_rib *r, int peer)
{
	return bgp_rib_peer_get(r, peer) != NULL;
}

static uint32_t
rib_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* The first announcement of a prefix: an entry whose inline path is the only one. */
static int
rib_announce_new(struct bgp_rib *r, int peer, uint32_t addr, uint8_t len,
    const struct bgp_aset *s)
{
	struct rib_ent *e = rib_ent_new(r, addr, len);

	if (e == NULL)
		return -1;
	e->head.aset = s;
	e->head.peer = (uint16_t)peer;
	e->nbest = 1;
	bgp_aset_ref(s);
	r->npath++;
	r->peers[peer].prefixes++;
	rib_notify(r, e);
	return 1;
}

int
bgp_rib_announce(struct bgp_rib *r, int peer, const struct bgp_prefix *pfx,
    const struct bgp_aset *s)
{
	uint32_t addr;
	struct rib_ent *e;
	struct bgp_path *p;
	struct rib_snap snap;
	const struct bgp_aset *old;
	size_t n = 0;
	uint32_t i;

	if (!rib_peer_ok(r, peer) || pfx->len > 32)
		return -1;
	addr = pfx->addr & rib_mask(pfx->len);
	if ((i = rib_lookup(r, addr, pfx->len)) == 0)
		return rib_announce_new(r, peer, addr, pfx->len, s);
	e = rib_ent(r, i);
	for (p = &e->head; p != NULL && p->peer != peer; p = p->next)
		n++;
	rib_snap(e, &snap);
	if (p != NULL) {
		/* Replaced: the old set is released only after the comparison. */
		old = p->aset;
		p->aset = s;
		p->stale = 0;
		bgp_aset_ref(s);
		if (old != s)
			rib_update(r, e, &snap);
		bgp_aset_put(r->atab, old);
		return 0;
	}
	if (rib_cand_reserve(r, n + 1) < 0 || (p = rib_path_alloc(r)) == NULL)
		return -1;
	p->aset = s;
	p->peer = (uint16_t)peer;
	p->stale = 0;
	p->next = e->head.next;
	e->head.next = p;
	bgp_aset_ref(s);
	r->npath++;
	r->peers[peer].prefixes++;
	rib_update(r, e, &snap);
	return 1;
}

/* Takes the peer's path out of entry i; the callback fires if the set changes. */
static void
rib_remove(struct bgp_rib *r, uint32_t i, struct bgp_path *prev, struct bgp_path *p)
{
	struct rib_ent *e = rib_ent(r, i);
	const struct bgp_aset *old = p->aset;
	struct bgp_path *q = p->next;
	struct rib_snap snap;

	r->npath--;
	r->peers[p->peer].prefixes--;
	if (prev == NULL && q == NULL) {
		struct bgp_prefix pfx = { .addr = e->addr, .len = e->len };

		rib_ent_del(r, i);
		if (r->cb != NULL)
			r->cb(r->arg, &pfx, NULL, 0);
		bgp_aset_put(r->atab, old);
		return;
	}
	rib_snap(e, &snap);
	if (prev == NULL) {
		/* The inline head goes: the next path's content moves into it. */
		*p = *q;
		rib_path_free(r, q);
	} else {
		prev->next = q;
		rib_path_free(r, p);
	}
	rib_update(r, e, &snap);
	bgp_aset_put(r->atab, old);
}

/* The peer's path in entry i (and the one before it, NULL for the head), or NULL. */
static struct bgp_path *
rib_find(const struct bgp_rib *r, uint32_t i, int peer, struct bgp_path **prev)
{
	struct bgp_path *p = &rib_ent(r, i)->head;

	for (*prev = NULL; p != NULL; *prev = p, p = p->next)
		if (p->peer == peer)
			return p;
	return NULL;
}

int
bgp_rib_withdraw(struct bgp_rib *r, int peer, const struct bgp_prefix *pfx)
{
	struct bgp_path *p, *prev;
	uint32_t i;

	if (!rib_peer_ok(r, peer) || pfx->len > 32)
		return 0;
	i = rib_lookup(r, pfx->addr & rib_mask(pfx->len), pfx->len);
	if (i == 0 || (p = rib_find(r, i, peer, &prev)) == NULL)
		return 0;
	rib_remove(r, i, prev, p);
	return 1;
}

/* ---- whole-peer operations: one pass over the slabs, stopping at the peer's last path ---- */

enum rib_peer_op { RIB_MARK, RIB_SWEEP, RIB_DEL };

static size_t
rib_peer_each(struct bgp_rib *r, int peer, enum rib_peer_op op)
{
	size_t left, done = 0;
	struct bgp_path *p, *prev;

	if (!rib_peer_ok(r, peer))
		return 0;
	left = r->peers[peer].prefixes;
	for (uint32_t i = 1; i < r->enext && left > 0; i++) {
		if (rib_ent(r, i)->len == ENT_FREE ||
		    (p = rib_find(r, i, peer, &prev)) == NULL)
			continue;
		left--;
		if (op == RIB_MARK) {
			p->stale = 1;
			done++;
		} else if (op == RIB_DEL || p->stale) {
			rib_remove(r, i, prev, p);
			done++;
		}
	}
	return done;
}

size_t
bgp_rib_peer_mark_stale(struct bgp_rib *r, int peer)
{
	return rib_peer_each(r, peer, RIB_MARK);
}

size_t
bgp_rib_peer_sweep_stale(struct bgp_rib *r, int peer)
{
	return rib_peer_each(r, peer, RIB_SWEEP);
}

void
bgp_rib_peer_del(struct bgp_rib *r, int peer)
{
	if (!rib_peer_ok(r, peer))
		return;
	rib_peer_each(r, peer, RIB_DEL);
	r->peers[peer].used = 0;
}

/* ---- reading ---- */

unsigned
bgp_rib_best(const struct bgp_rib *r, const struct bgp_prefix *pfx,
    const struct bgp_path **out, unsigned max)
{
	const struct bgp_path *p;
	const struct rib_ent *e;
	uint32_t i;

	if (pfx->len > 32 || (i = rib_lookup(r, pfx->addr & rib_mask(pfx->len), pfx->len)) == 0)
		return 0;
	e = rib_ent(r, i);
	p = &e->head;
	for (unsigned j = 0; j < e->nbest && j < max; j++, p = p->next)
		out[j] = p;
	return e->nbest;
}

void
bgp_rib_walk(const struct bgp_rib *r, bgp_rib_change_cb fn, void *arg)
{
	for (uint32_t i = 1; i < r->enext; i++) {
		const struct rib_ent *e = rib_ent(r, i);
		const struct bgp_path *best[BGP_RIB_MAX_ECMP], *p = &e->head;
		struct bgp_prefix pfx = { .addr = e->addr, .len = e->len };

		if (e->len == ENT_FREE)
			continue;
		for (unsigned j = 0; j < e->nbest; j++, p = p->next)
			best[j] = p;
		fn(arg, &pfx, best, e->nbest);
	}
}
