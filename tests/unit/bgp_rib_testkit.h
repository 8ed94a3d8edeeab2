/*
 * Helpers shared by the bgp_rib unit tests (test_bgp_aset.c, test_bgp_rib.c): a fixture with
 * an attribute table and a routing table whose callback records what it said, the check that
 * every test released its attribute sets, and builders of attributes and interned sets.
 */
#ifndef VENEER_BGP_RIB_TESTKIT_H
#define VENEER_BGP_RIB_TESTKIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgp_rib.h"

#define FIRST_AS 65001

/* ---- helpers ---- */

/* What the last callback said, and how many there were. */
struct rec {
	unsigned calls;
	struct bgp_prefix p;
	unsigned n;
	uint16_t peer[BGP_RIB_MAX_ECMP];
	const struct bgp_aset *aset[BGP_RIB_MAX_ECMP];
};

struct fx {
	struct bgp_atab *t;
	struct bgp_rib *r;
	struct rec rec;
};

static inline void
rec_cb(void *arg, const struct bgp_prefix *p, const struct bgp_path *const *best, unsigned n)
{
	struct rec *c = arg;

	c->calls++;
	c->p = *p;
	c->n = n;
	for (unsigned i = 0; i < n; i++) {
		c->peer[i] = best[i]->peer;
		c->aset[i] = best[i]->aset;
	}
}

static inline int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->t = bgp_atab_new()) == NULL ||
	    (f->r = bgp_rib_new(f->t, rec_cb, &f->rec)) == NULL)
		return -1;
	*state = f;
	return 0;
}

/* Fails the test if anything still holds an attribute set: every test releases its own. */
static inline int
fx_teardown(void **state)
{
	struct fx *f = *state;
	size_t left;

	bgp_rib_free(f->r);
	left = bgp_atab_count(f->t) + bgp_atab_bytes(f->t);
	bgp_atab_free(f->t);
	free(f);
	return left == 0 ? 0 : -1;
}

/* A test run in a fresh fixture, checked for sets left held. */
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Attributes with an AS_SEQUENCE of aslen ASes from first_as; lp or med < 0: absent. */
static inline void
mkattrs(struct bgp_attrs *a, uint8_t *path, int lp, unsigned aslen, uint8_t origin, int med,
    uint32_t first_as)
{
	memset(a, 0, sizeof(*a));
	a->present = 1u << BGP_A_ORIGIN | 1u << BGP_A_AS_PATH | 1u << BGP_A_NEXT_HOP;
	a->origin = origin;
	a->nexthop = 0x0a000001;
	if (lp >= 0) {
		a->present |= 1u << BGP_A_LOCAL_PREF;
		a->local_pref = (uint32_t)lp;
	}
	if (med >= 0) {
		a->present |= 1u << BGP_A_MED;
		a->med = (uint32_t)med;
	}
	path[0] = BGP_AS_SEQUENCE;
	path[1] = (uint8_t)aslen;
	for (unsigned i = 0; i < aslen; i++)
		put32(path + 2 + 4 * i, first_as + i);
	a->aspath = path;
	a->aspath_len = (uint16_t)(2 + 4 * aslen);
	a->aspath_count = (uint16_t)aslen;
	a->first_as = aslen ? first_as : 0;
}

static inline const struct bgp_aset *
mkset(struct bgp_atab *t, int lp, unsigned aslen, uint8_t origin, int med, uint32_t first_as)
{
	struct bgp_attrs a;
	uint8_t path[2 + 4 * 32];
	const struct bgp_aset *s;

	mkattrs(&a, path, lp, aslen, origin, med, first_as);
	s = bgp_aset_get(t, &a);
	assert_non_null(s);
	return s;
}

/* The common case: LOCAL_PREF absent, 2 ASes, IGP, MED absent. */
static inline const struct bgp_aset *
mkplain(struct bgp_atab *t)
{
	return mkset(t, -1, 2, BGP_ORIGIN_IGP, -1, FIRST_AS);
}

#endif
