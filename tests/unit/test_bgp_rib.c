/*
 * Unit tests of src/bgp/bgp_rib.c: the routing table over interned attribute sets, best path
 * one step of the order at a time, ECMP, callbacks on change, peers and graceful restart, many
 * prefixes against a reference model, and figures (the table's and bgp_aset.c's) printed for
 * the benchmark comparison. Interning itself (bgp_aset.c) is in test_bgp_aset.c.
 */
#include <stdio.h>
#include <time.h>

#include "bgp_rib_testkit.h"

static int
addpeer(struct bgp_rib *r, uint32_t router_id, uint32_t addr, int ebgp)
{
	struct bgp_rib_peer p = { .router_id = router_id, .addr = addr, .asn = 65000, .ebgp = (uint8_t)ebgp };
	int i = bgp_rib_peer_add(r, &p);

	assert_true(i >= 0);
	return i;
}

static const struct bgp_prefix pfx1 = { .addr = 0xc0000200, .len = 24 };

/* ---- best path, one step of the order at a time ---- */

/*
 * Peer A would win every later tie-break (lower router id and address); B has the better
 * value at the step under test, so B winning shows the step decides.
 */
static void
best_of_two(struct fx *f, const struct bgp_aset *sa, const struct bgp_aset *sb, int ebgp_a,
    int ebgp_b, unsigned want_n, int want_b)
{
	int a = addpeer(f->r, 1, 1, ebgp_a), b = addpeer(f->r, 2, 2, ebgp_b);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];
	unsigned n;

	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, sa), 1);
	assert_int_equal(bgp_rib_announce(f->r, b, &pfx1, sb), 1);
	n = bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP);
	assert_int_equal(n, want_n);
	assert_int_equal(out[0]->peer, want_b ? b : a);
	assert_ptr_equal(out[0]->aset, want_b ? sb : sa);
	/* The same result whichever arrives first. */
	bgp_rib_withdraw(f->r, a, &pfx1);
	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, sa), 1);
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), want_n);
	assert_int_equal(out[0]->peer, want_b ? b : a);
	bgp_aset_put(f->t, sa);
	bgp_aset_put(f->t, sb);
}

static void
test_best_local_pref(void **state)
{
	struct fx *f = *state;

	/* Absent counts as 100: 101 beats it even with a longer path. */
	best_of_two(f, mkset(f->t, -1, 1, 0, -1, FIRST_AS), mkset(f->t, 101, 5, 0, -1, FIRST_AS),
	    1, 1, 1, 1);
}

static void
test_best_local_pref_default(void **state)
{
	struct fx *f = *state;

	best_of_two(f, mkset(f->t, 99, 1, 0, -1, FIRST_AS), mkset(f->t, -1, 4, 2, 50, FIRST_AS),
	    1, 1, 1, 1);
}

static void
test_best_aspath(void **state)
{
	struct fx *f = *state;

	best_of_two(f, mkset(f->t, 100, 3, 0, 0, FIRST_AS), mkset(f->t, -1, 2, 2, 90, FIRST_AS),
	    1, 0, 1, 1);
}

static void
test_best_origin(void **state)
{
	struct fx *f = *state;

	best_of_two(f, mkset(f->t, -1, 2, BGP_ORIGIN_INCOMPLETE, 0, FIRST_AS),
	    mkset(f->t, -1, 2, BGP_ORIGIN_EGP, 90, FIRST_AS), 1, 0, 1, 1);
}

static void
test_best_med(void **state)
{
	struct fx *f = *state;

	/* Same first AS: absent MED is 0 and beats 5, even against eBGP. */
	best_of_two(f, mkset(f->t, -1, 2, 0, 5, FIRST_AS), mkset(f->t, -1, 2, 0, -1, FIRST_AS),
	    1, 0, 1, 1);
}

static void
test_best_med_other_as(void **state)
{
	struct fx *f = *state;

	/* Different first AS: MED is not compared, so both tie into the ECMP set, A first. */
	best_of_two(f, mkset(f->t, -1, 2, 0, 50, FIRST_AS), mkset(f->t, -1, 2, 0, 0, FIRST_AS + 100),
	    1, 1, 2, 0);
}

static void
test_best_med_elimination(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1), b = addpeer(f->r, 2, 2, 1), c = addpeer(f->r, 3, 3, 1);
	const struct bgp_aset *sa = mkset(f->t, -1, 2, 0, 20, FIRST_AS);
	const struct bgp_aset *sb = mkset(f->t, -1, 2, 0, 10, FIRST_AS);
	const struct bgp_aset *sc = mkset(f->t, -1, 2, 0, 5, FIRST_AS + 1);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];

	/* A loses to B within AS 65001; B and C (another AS) tie; A is out of the set. */
	bgp_rib_announce(f->r, a, &pfx1, sa);
	bgp_rib_announce(f->r, b, &pfx1, sb);
	bgp_rib_announce(f->r, c, &pfx1, sc);
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), 2);
	assert_int_equal(out[0]->peer, b);
	assert_int_equal(out[1]->peer, c);
	bgp_aset_put(f->t, sa);
	bgp_aset_put(f->t, sb);
	bgp_aset_put(f->t, sc);
}

static void
test_best_ebgp(void **state)
{
	struct fx *f = *state;

	best_of_two(f, mkplain(f->t), mkplain(f->t), 0, 1, 1, 1);
}

static void
test_best_router_id(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 9, 1, 1), b = addpeer(f->r, 2, 2, 1);
	const struct bgp_aset *s = mkplain(f->t);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];

	bgp_rib_announce(f->r, a, &pfx1, s);
	bgp_rib_announce(f->r, b, &pfx1, s);
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), 2);
	assert_int_equal(out[0]->peer, b);
	assert_int_equal(out[1]->peer, a);
	bgp_aset_put(f->t, s);
}

static void
test_best_peer_addr(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 7, 20, 1), b = addpeer(f->r, 7, 10, 1);
	const struct bgp_aset *s = mkplain(f->t);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];

	bgp_rib_announce(f->r, a, &pfx1, s);
	bgp_rib_announce(f->r, b, &pfx1, s);
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), 2);
	assert_int_equal(out[0]->peer, b);
	assert_int_equal(out[1]->peer, a);
	bgp_aset_put(f->t, s);
}

/* ---- ECMP ---- */

static void
test_ecmp_order(void **state)
{
	struct fx *f = *state;
	static const uint32_t rid[] = { 50, 40, 10, 30, 20 }, addr[] = { 5, 1, 4, 2, 3 };
	const struct bgp_aset *s = mkplain(f->t), *worse = mkset(f->t, -1, 2, 0, 1, FIRST_AS);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];
	int p[5], ibgp = addpeer(f->r, 1, 0, 0), medp;

	for (int i = 0; i < 5; i++)
		p[i] = addpeer(f->r, rid[i], addr[i], 1);
	medp = addpeer(f->r, 1, 0, 1);
	bgp_rib_announce(f->r, ibgp, &pfx1, s);
	bgp_rib_announce(f->r, medp, &pfx1, worse);
	for (int i = 0; i < 5; i++)
		bgp_rib_announce(f->r, p[i], &pfx1, s);
	/* Lowest router id (p[2]) first, then by address: p[1], p[3], p[4], p[0]. */
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), 5);
	assert_int_equal(out[0]->peer, p[2]);
	assert_int_equal(out[1]->peer, p[1]);
	assert_int_equal(out[2]->peer, p[3]);
	assert_int_equal(out[3]->peer, p[4]);
	assert_int_equal(out[4]->peer, p[0]);
	assert_int_equal(f->rec.n, 5);
	assert_int_equal(f->rec.peer[0], p[2]);
	assert_int_equal(f->rec.peer[4], p[0]);
	/* max bounds what is filled, not what is returned. */
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, 2), 5);
	assert_int_equal(bgp_rib_paths(f->r), 7);
	bgp_aset_put(f->t, s);
	bgp_aset_put(f->t, worse);
}

static void
test_ecmp_max(void **state)
{
	struct fx *f = *state;
	enum { N = 24 };
	const struct bgp_aset *s = mkplain(f->t);
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];
	int p[N];

	/* Router ids fall as addresses rise: the best has the highest address. */
	for (int i = 0; i < N; i++) {
		p[i] = addpeer(f->r, 1000 - (uint32_t)i, 100 + (uint32_t)i, 1);
		bgp_rib_announce(f->r, p[i], &pfx1, s);
	}
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, BGP_RIB_MAX_ECMP), BGP_RIB_MAX_ECMP);
	assert_int_equal(out[0]->peer, p[N - 1]);
	for (int i = 1; i < BGP_RIB_MAX_ECMP; i++)
		assert_int_equal(out[i]->peer, p[i - 1]);
	bgp_aset_put(f->t, s);
}

/* ---- callbacks ---- */

static void
test_callbacks_on_change(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1), b = addpeer(f->r, 2, 2, 1), c = addpeer(f->r, 3, 3, 0);
	const struct bgp_aset *s = mkplain(f->t), *worse = mkset(f->t, -1, 3, 0, -1, FIRST_AS);
	const struct bgp_aset *s2 = mkset(f->t, -1, 2, 0, -1, FIRST_AS + 7);

	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, s), 1);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.p.addr, pfx1.addr);
	assert_int_equal(f->rec.p.len, pfx1.len);
	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, s), 0);  /* same set again */
	assert_int_equal(bgp_rib_announce(f->r, b, &pfx1, worse), 1); /* not in the set */
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(bgp_rib_announce(f->r, b, &pfx1, s), 0);  /* joins the ECMP set */
	assert_int_equal(f->rec.calls, 2);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(bgp_rib_announce(f->r, b, &pfx1, s), 0);
	assert_int_equal(bgp_rib_announce(f->r, c, &pfx1, s), 1);  /* iBGP: out */
	assert_int_equal(bgp_rib_withdraw(f->r, c, &pfx1), 1);
	assert_int_equal(f->rec.calls, 2);
	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, s2), 0); /* ties, but a new set */
	assert_int_equal(f->rec.calls, 3);
	assert_ptr_equal(f->rec.aset[0], s2);
	assert_int_equal(bgp_rib_peer_mark_stale(f->r, a), 1);
	assert_int_equal(f->rec.calls, 3);
	assert_int_equal(bgp_rib_withdraw(f->r, b, &pfx1), 1);
	assert_int_equal(f->rec.calls, 4);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(bgp_rib_withdraw(f->r, a, &pfx1), 1);
	assert_int_equal(f->rec.calls, 5);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(bgp_rib_withdraw(f->r, a, &pfx1), 0);
	assert_int_equal(f->rec.calls, 5);
	assert_int_equal(bgp_rib_prefixes(f->r), 0);
	assert_int_equal(bgp_rib_paths(f->r), 0);
	bgp_aset_put(f->t, s);
	bgp_aset_put(f->t, s2);
	bgp_aset_put(f->t, worse);
}

static void
test_withdraw_last(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1);
	const struct bgp_aset *s = mkplain(f->t);
	const struct bgp_path *out[1];
	struct bgp_prefix host = { 0x0a000001, 32 }, dflt = { 0, 0 };

	bgp_rib_announce(f->r, a, &host, s);
	bgp_rib_announce(f->r, a, &dflt, s);
	bgp_rib_announce(f->r, a, &pfx1, s);
	assert_int_equal(bgp_aset_refs(s), 4);
	assert_int_equal(bgp_rib_withdraw(f->r, a, &dflt), 1);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->rec.p.len, 0);
	assert_int_equal(bgp_rib_best(f->r, &dflt, out, 1), 0);
	assert_int_equal(bgp_rib_best(f->r, &host, out, 1), 1);
	assert_int_equal(bgp_rib_peer_prefixes(f->r, a), 2);
	assert_int_equal(bgp_aset_refs(s), 3);
	bgp_aset_put(f->t, s);
}

static void
test_replace(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1);
	const struct bgp_aset *s1 = mkplain(f->t), *s2 = mkset(f->t, 200, 1, 0, -1, FIRST_AS);
	const struct bgp_path *out[1];

	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, s1), 1);
	assert_int_equal(bgp_rib_announce(f->r, a, &pfx1, s2), 0);
	assert_int_equal(f->rec.calls, 2);
	assert_int_equal(bgp_rib_paths(f->r), 1);
	assert_int_equal(bgp_rib_peer_prefixes(f->r, a), 1);
	assert_int_equal(bgp_rib_best(f->r, &pfx1, out, 1), 1);
	assert_ptr_equal(out[0]->aset, s2);
	assert_int_equal(bgp_aset_refs(s1), 1);
	assert_int_equal(bgp_aset_refs(s2), 2);
	bgp_aset_put(f->t, s1);
	bgp_aset_put(f->t, s2);
}

static void
test_peer_del(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1), b = addpeer(f->r, 2, 2, 1), c;
	const struct bgp_aset *s = mkplain(f->t);
	struct bgp_prefix p = { 0, 24 };
	const struct bgp_path *out[2];

	for (uint32_t i = 0; i < 100; i++) {
		p.addr = 0x0b000000 | i << 8;
		bgp_rib_announce(f->r, a, &p, s);
		if (i % 2 == 0)
			bgp_rib_announce(f->r, b, &p, s);
	}
	f->rec.calls = 0;
	bgp_rib_peer_del(f->r, a);
	/* 50 prefixes gone, 50 down from two paths to b's alone. */
	assert_int_equal(f->rec.calls, 100);
	assert_int_equal(bgp_rib_prefixes(f->r), 50);
	assert_int_equal(bgp_rib_paths(f->r), 50);
	assert_null(bgp_rib_peer_get(f->r, a));
	assert_int_equal(bgp_rib_peer_prefixes(f->r, a), 0);
	p.addr = 0x0b000000;
	assert_int_equal(bgp_rib_best(f->r, &p, out, 2), 1);
	assert_int_equal(out[0]->peer, b);
	c = addpeer(f->r, 3, 3, 1);
	assert_int_equal(c, a); /* the index is free again */
	assert_int_equal(bgp_rib_peer_get(f->r, c)->router_id, 3);
	bgp_rib_peer_del(f->r, b);
	assert_int_equal(bgp_rib_prefixes(f->r), 0);
	assert_int_equal(bgp_aset_refs(s), 1);
	bgp_aset_put(f->t, s);
}

static void
test_stale(void **state)
{
	struct fx *f = *state;
	int a = addpeer(f->r, 1, 1, 1), b = addpeer(f->r, 2, 2, 1);
	const struct bgp_aset *s = mkplain(f->t);
	struct bgp_prefix p = { 0, 24 };
	unsigned calls;

	for (uint32_t i = 0; i < 40; i++) {
		p.addr = 0x0c000000 | i << 8;
		bgp_rib_announce(f->r, a, &p, s);
		if (i < 10)
			bgp_rib_announce(f->r, b, &p, s);
	}
	calls = f->rec.calls;
	assert_int_equal(bgp_rib_peer_mark_stale(f->r, a), 40);
	assert_int_equal(f->rec.calls, calls);
	/* The restarting peer sends half again before End-of-RIB. */
	for (uint32_t i = 0; i < 40; i += 2) {
		p.addr = 0x0c000000 | i << 8;
		assert_int_equal(bgp_rib_announce(f->r, a, &p, s), 0);
	}
	assert_int_equal(f->rec.calls, calls);
	assert_int_equal(bgp_rib_peer_sweep_stale(f->r, a), 20);
	/* 5 odd prefixes under 10 lose a from their ECMP set, 15 disappear. */
	assert_int_equal(f->rec.calls, calls + 20);
	assert_int_equal(bgp_rib_peer_prefixes(f->r, a), 20);
	assert_int_equal(bgp_rib_prefixes(f->r), 25);
	assert_int_equal(bgp_rib_peer_sweep_stale(f->r, a), 0);
	assert_int_equal(bgp_rib_peer_sweep_stale(f->r, b), 0);
	bgp_aset_put(f->t, s);
}

/* ---- many prefixes against a reference model ---- */

#define M_PEERS 4
#define M_SETS 6

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

struct model {
	struct fx *f;
	struct bgp_prefix *pfx;            /* sorted, unique */
	size_t npfx;
	uint8_t (*has)[M_PEERS];           /* set index + 1 per prefix and peer, 0: none */
	struct rec *seen;                  /* the last callback per prefix */
	int peer[M_PEERS];
	struct bgp_rib_peer pinfo[M_PEERS];
	const struct bgp_aset *set[M_SETS];
	struct { int lp, aslen, origin, med; } key[M_SETS];
};

static int
pfx_cmp(const void *x, const void *y)
{
	const struct bgp_prefix *a = x, *b = y;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (a->len > b->len) - (a->len < b->len);
}

static void
model_cb(void *arg, const struct bgp_prefix *p, const struct bgp_path *const *best, unsigned n)
{
	struct model *m = arg;
	struct bgp_prefix *at = bsearch(p, m->pfx, m->npfx, sizeof(*p), pfx_cmp);

	assert_non_null(at);
	rec_cb(&m->seen[at - m->pfx], p, best, n);
	m->f->rec.calls++;
}

/* A key of the best-path order where larger is better; all sets share the first AS. */
static uint64_t
model_rank(const struct model *m, int set, int peer)
{
	int lp = m->key[set].lp < 0 ? 100 : m->key[set].lp;
	int med = m->key[set].med < 0 ? 0 : m->key[set].med;

	return (uint64_t)lp << 32 | (uint64_t)(255 - m->key[set].aslen) << 24 |
	    (uint64_t)(3 - m->key[set].origin) << 16 | (uint64_t)(255 - med) << 8 |
	    m->pinfo[peer].ebgp;
}

/* The expected set of prefix i, written like the callback record. */
static void
model_best(const struct model *m, size_t i, struct rec *out)
{
	uint64_t top = 0;
	int best = -1, cand[M_PEERS], k = 0;

	for (int p = 0; p < M_PEERS; p++)
		if (m->has[i][p] && model_rank(m, m->has[i][p] - 1, p) > top)
			top = model_rank(m, m->has[i][p] - 1, p);
	for (int p = 0; p < M_PEERS; p++)
		if (m->has[i][p] && model_rank(m, m->has[i][p] - 1, p) == top) {
			if (best < 0 || m->pinfo[p].router_id < m->pinfo[best].router_id)
				best = p;
			cand[k++] = p;
		}
	out->n = 0;
	if (best < 0)
		return;
	out->peer[out->n] = (uint16_t)m->peer[best];
	out->aset[out->n++] = m->set[m->has[i][best] - 1];
	/* Peer addresses are in peer order, so cand[] is already address order. */
	for (int j = 0; j < k; j++)
		if (cand[j] != best) {
			out->peer[out->n] = (uint16_t)m->peer[cand[j]];
			out->aset[out->n++] = m->set[m->has[i][cand[j]] - 1];
		}
}

static void
model_check(const struct model *m, size_t i)
{
	struct rec want;
	const struct bgp_path *out[BGP_RIB_MAX_ECMP];
	unsigned n = bgp_rib_best(m->f->r, &m->pfx[i], out, BGP_RIB_MAX_ECMP);

	model_best(m, i, &want);
	assert_int_equal(n, want.n);
	assert_int_equal(m->seen[i].n, want.n);
	for (unsigned j = 0; j < n; j++) {
		assert_int_equal(out[j]->peer, want.peer[j]);
		assert_ptr_equal(out[j]->aset, want.aset[j]);
		assert_int_equal(m->seen[i].peer[j], want.peer[j]);
		assert_ptr_equal(m->seen[i].aset[j], want.aset[j]);
	}
}

static int
model_same(const struct rec *a, const struct rec *b)
{
	if (a->n != b->n)
		return 0;
	for (unsigned j = 0; j < a->n; j++)
		if (a->peer[j] != b->peer[j] || a->aset[j] != b->aset[j])
			return 0;
	return 1;
}

/* One random announce or withdraw; the callback must fire exactly when the model's set moves. */
static void
model_step(struct model *m)
{
	size_t i = rnd() % m->npfx;
	int p = (int)(rnd() % M_PEERS), set = (int)(rnd() % M_SETS);
	unsigned calls = m->f->rec.calls;
	struct rec before, after;

	model_best(m, i, &before);
	if (rnd() % 10 < 6) {
		assert_int_equal(bgp_rib_announce(m->f->r, m->peer[p], &m->pfx[i], m->set[set]),
		    m->has[i][p] == 0);
		m->has[i][p] = (uint8_t)(set + 1);
	} else {
		assert_int_equal(bgp_rib_withdraw(m->f->r, m->peer[p], &m->pfx[i]),
		    m->has[i][p] != 0);
		m->has[i][p] = 0;
	}
	model_best(m, i, &after);
	assert_int_equal(m->f->rec.calls - calls, model_same(&before, &after) ? 0 : 1);
	model_check(m, i);
}

static void
model_check_all(const struct model *m)
{
	size_t prefixes = 0, paths = 0, per[M_PEERS] = { 0 };

	for (size_t i = 0; i < m->npfx; i++) {
		unsigned k = 0;

		for (int p = 0; p < M_PEERS; p++)
			if (m->has[i][p]) {
				k++;
				per[p]++;
			}
		prefixes += k > 0;
		paths += k;
		model_check(m, i);
	}
	assert_int_equal(bgp_rib_prefixes(m->f->r), prefixes);
	assert_int_equal(bgp_rib_paths(m->f->r), paths);
	for (int p = 0; p < M_PEERS; p++)
		assert_int_equal(bgp_rib_peer_prefixes(m->f->r, m->peer[p]), per[p]);
}

static void
model_init(struct model *m, struct fx *f, size_t want)
{
	static const uint32_t rid[M_PEERS] = { 30, 10, 20, 10 };
	static const uint8_t ebgp[M_PEERS] = { 1, 1, 0, 1 };
	static const int key[M_SETS][4] = {
		{ -1, 2, 0, -1 }, { 100, 2, 0, 0 }, { 120, 4, 2, 9 },
		{ -1, 1, 1, 3 }, { -1, 2, 0, 5 }, { 80, 1, 0, -1 },
	};
	size_t j = 0;

	memset(m, 0, sizeof(*m));
	m->f = f;
	bgp_rib_free(f->r);
	f->r = bgp_rib_new(f->t, model_cb, m);
	assert_non_null(f->r);
	m->pfx = calloc(want, sizeof(*m->pfx));
	assert_non_null(m->pfx);
	for (size_t i = 0; i < want; i++) {
		m->pfx[i].len = (uint8_t)(8 + rnd() % 25);
		m->pfx[i].addr = rnd() & (UINT32_MAX << (32 - m->pfx[i].len));
	}
	qsort(m->pfx, want, sizeof(*m->pfx), pfx_cmp);
	for (size_t i = 0; i < want; i++)
		if (j == 0 || pfx_cmp(&m->pfx[i], &m->pfx[j - 1]) != 0)
			m->pfx[j++] = m->pfx[i];
	m->npfx = j;
	m->has = calloc(m->npfx, sizeof(*m->has));
	m->seen = calloc(m->npfx, sizeof(*m->seen));
	assert_non_null(m->has);
	assert_non_null(m->seen);
	for (int p = 0; p < M_PEERS; p++) {
		m->pinfo[p] = (struct bgp_rib_peer){ rid[p], 100 + (uint32_t)p, 65000, ebgp[p] };
		m->peer[p] = bgp_rib_peer_add(f->r, &m->pinfo[p]);
	}
	for (int s = 0; s < M_SETS; s++) {
		m->key[s].lp = key[s][0];
		m->key[s].aslen = key[s][1];
		m->key[s].origin = key[s][2];
		m->key[s].med = key[s][3];
		m->set[s] = mkset(f->t, key[s][0], (unsigned)key[s][1], (uint8_t)key[s][2],
		    key[s][3], FIRST_AS);
	}
}

static void
model_fini(struct model *m)
{
	for (int s = 0; s < M_SETS; s++)
		bgp_aset_put(m->f->t, m->set[s]);
	free(m->pfx);
	free(m->has);
	free(m->seen);
}

/* Graceful restart of peer p: about half of its paths come back, the rest are swept. */
static void
model_restart(struct model *m, int p)
{
	size_t back = 0, had = bgp_rib_peer_prefixes(m->f->r, m->peer[p]);
	uint8_t *fresh = calloc(m->npfx, 1);

	assert_non_null(fresh);
	assert_int_equal(bgp_rib_peer_mark_stale(m->f->r, m->peer[p]), had);
	for (size_t i = 0; i < m->npfx; i++)
		if (m->has[i][p] && rnd() % 2) {
			bgp_rib_announce(m->f->r, m->peer[p], &m->pfx[i], m->set[0]);
			m->has[i][p] = 1;
			fresh[i] = 1;
			back++;
		}
	assert_int_equal(bgp_rib_peer_sweep_stale(m->f->r, m->peer[p]), had - back);
	for (size_t i = 0; i < m->npfx; i++)
		if (!fresh[i])
			m->has[i][p] = 0;
	free(fresh);
}

static void
test_many_model(void **state)
{
	struct fx *f = *state;
	struct model m;

	model_init(&m, f, 200000);
	for (int k = 0; k < 600000; k++)
		model_step(&m);
	model_check_all(&m);
	model_restart(&m, 1);
	model_check_all(&m);
	bgp_rib_peer_del(f->r, m.peer[0]);
	for (size_t i = 0; i < m.npfx; i++)
		m.has[i][0] = 0;
	model_check_all(&m);
	/* Withdraw everything left: the table and the sets are empty again. */
	for (size_t i = 0; i < m.npfx; i++)
		for (int p = 1; p < M_PEERS; p++)
			if (m.has[i][p]) {
				assert_int_equal(bgp_rib_withdraw(f->r, m.peer[p], &m.pfx[i]), 1);
				m.has[i][p] = 0;
			}
	model_check_all(&m);
	for (int s = 0; s < M_SETS; s++)
		assert_int_equal(bgp_aset_refs(m.set[s]), 1);
	model_fini(&m);
}

/* ---- figures: printed for the benchmark comparison, never asserted ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
count_cb(void *arg, const struct bgp_prefix *p, const struct bgp_path *const *best, unsigned n)
{
	(void)p;
	(void)best;
	(void)n;
	(*(size_t *)arg)++;
}

/* n distinct /24s in scattered order, as a full feed's prefixes are to a hash. */
static struct bgp_prefix
figure_pfx(uint32_t i)
{
	struct bgp_prefix p = { ((i * 0x9e3779b1u) & 0xffffff) << 8, 24 };

	return p;
}

static void
figures(uint32_t n)
{
	struct bgp_atab *t = bgp_atab_new();
	size_t calls = 0;
	struct bgp_rib *r = bgp_rib_new(t, count_cb, &calls);
	struct bgp_rib_peer pi = { 1, 1, 65000, 1 };
	const struct bgp_aset *s;
	double t0, t1, t2, t3;
	int peer, peer2;

	assert_non_null(r);
	peer = bgp_rib_peer_add(r, &pi);
	pi.router_id = pi.addr = 2;
	peer2 = bgp_rib_peer_add(r, &pi);
	s = mkplain(t);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct bgp_prefix p = figure_pfx(i);

		bgp_rib_announce(r, peer, &p, s);
	}
	t1 = now_s();
	printf("bgp_rib %7u prefixes, one peer: %6.1f ns/insert, %5.1f bytes/prefix "
	    "(table %zu bytes, sets %zu bytes)\n", n, (t1 - t0) * 1e9 / n,
	    (double)bgp_rib_bytes(r) / n, bgp_rib_bytes(r), bgp_atab_bytes(t));
	for (uint32_t i = 0; i < n; i++) {
		struct bgp_prefix p = figure_pfx(i);

		bgp_rib_announce(r, peer2, &p, s);
	}
	t2 = now_s();
	printf("bgp_rib %7u prefixes, second peer (ECMP): %6.1f ns/insert, %5.1f bytes/prefix\n",
	    n, (t2 - t1) * 1e9 / n, (double)bgp_rib_bytes(r) / n);
	bgp_rib_peer_del(r, peer2);
	t2 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct bgp_prefix p = figure_pfx(i);

		bgp_rib_withdraw(r, peer, &p);
	}
	t3 = now_s();
	printf("bgp_rib %7u prefixes: %6.1f ns/withdraw, %zu callbacks\n", n,
	    (t3 - t2) * 1e9 / n, calls);
	assert_int_equal(bgp_rib_prefixes(r), 0);
	bgp_aset_put(t, s);
	bgp_rib_free(r);
	assert_int_equal(bgp_atab_count(t), 0);
	bgp_atab_free(t);
}

/*
 * n distinct sets shaped like bench/bgp_ingest.py --attrs-variety (AS_PATH of 2 to 6 ASes,
 * MED, one community): what interning costs per set, in time and accounted bytes.
 */
static void
figures_sets(uint32_t n)
{
	struct bgp_atab *t = bgp_atab_new();
	const struct bgp_aset **v = calloc(n, sizeof(*v));
	uint8_t path[2 + 4 * 6], comm[4];
	struct bgp_attrs a;
	double t0, t1;

	assert_non_null(v);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		mkattrs(&a, path, -1, 2 + i % 5, BGP_ORIGIN_IGP, (int)(i % 1000), 65100);
		put32(path + 6, 4200000000u + i);
		put32(comm, 65100u << 16 | (i & 0xffff));
		a.communities = comm;
		a.communities_len = 4;
		a.present |= 1u << BGP_A_COMMUNITIES;
		v[i] = bgp_aset_get(t, &a);
		assert_non_null(v[i]);
	}
	t1 = now_s();
	assert_int_equal(bgp_atab_count(t), n);
	printf("bgp_aset %7u distinct sets: %6.1f ns/get, %5.1f bytes/set accounted "
	    "(struct bgp_attrs %zu bytes)\n", n, (t1 - t0) * 1e9 / n,
	    (double)bgp_atab_bytes(t) / n, sizeof(struct bgp_attrs));
	for (uint32_t i = 0; i < n; i++)
		bgp_aset_put(t, v[i]);
	assert_int_equal(bgp_atab_bytes(t), 0);
	free(v);
	bgp_atab_free(t);
}

static void
test_figures(void **state)
{
	(void)state;
	figures(100000);
	figures(1000000);
	figures_sets(250000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_best_local_pref),
		T(test_best_local_pref_default),
		T(test_best_aspath),
		T(test_best_origin),
		T(test_best_med),
		T(test_best_med_other_as),
		T(test_best_med_elimination),
		T(test_best_ebgp),
		T(test_best_router_id),
		T(test_best_peer_addr),
		T(test_ecmp_order),
		T(test_ecmp_max),
		T(test_callbacks_on_change),
		T(test_withdraw_last),
		T(test_replace),
		T(test_peer_del),
		T(test_stale),
		T(test_many_model),
		cmocka_unit_test(test_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
