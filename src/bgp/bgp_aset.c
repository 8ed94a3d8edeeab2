/*
 * Interned path attribute sets for the routing table (bgp_rib.h). Most routes of a feed share
 * a few attribute sets, so each distinct content is stored once, found by a content hash in a
 * chained table that doubles as it fills, and freed with its last reference. A set is one
 * allocation: a 16-byte header, the fixed fields and pointers (struct bgp_attrs, 88 bytes on
 * LP64), the unknown attributes' descriptors and then the variable parts they all point to;
 * nothing of the parser (its scratch, the MP fields) is kept, since feeds with many distinct
 * sets (one per few prefixes) make this size count per route.
 *
 * Every prefix of an UPDATE carries the same attributes, and feeds send runs of UPDATEs with
 * the same ones, so the last set returned is compared first (a one-entry cache, as BGP
 * daemons keep for the previous UPDATE's attributes): a hit costs a comparison of bytes that
 * are in cache, with no hashing and no bucket to fetch.
 */
#include "bgp_rib.h"

#include <stdlib.h>
#include <string.h>

struct bgp_aset {
	struct bgp_aset *next; /* hash chain */
	uint32_t hash;
	uint32_t refs;
	struct bgp_attrs a;    /* the view; variable parts point past unk[a.n_unknown] */
	struct bgp_rawattr unk[];
};

struct bgp_atab {
	struct bgp_aset **bkt;
	size_t nbkt;           /* power of two, or 0 */
	size_t count;
	size_t bytes;
	struct bgp_aset *last; /* the set bgp_aset_get returned last, while it lives */
};

#define ASET_K 0x9e3779b97f4a7c15ull

/* The unknown attributes that count; the parser never gives more than the array holds. */
static unsigned
aset_nunk(const struct bgp_attrs *a)
{
	return a->n_unknown < BGP_MAX_UNKNOWN ? a->n_unknown : BGP_MAX_UNKNOWN;
}

static uint64_t
aset_mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * ASET_K;
	return h ^ (h >> 31);
}

/* Eight bytes at a time: AS paths and community lists are the bulk of what is hashed. */
static uint64_t
aset_hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	h = aset_mix(h, n);
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = aset_mix(h, w);
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h = aset_mix(h, w);
	}
	return h;
}

/* Hashes field by field, never the struct bytes: padding and pointers are not content. */
static uint32_t
aset_hash(const struct bgp_attrs *a)
{
	uint64_t h = ASET_K;

	h = aset_mix(h, (uint64_t)a->present << 32 | (uint64_t)a->origin << 8 | a->atomic_agg);
	h = aset_mix(h, (uint64_t)a->nexthop << 32 | a->med);
	h = aset_mix(h, (uint64_t)a->local_pref << 32 | a->agg_as);
	h = aset_mix(h, (uint64_t)a->agg_addr << 32 | a->first_as);
	h = aset_mix(h, (uint64_t)a->aspath_count << 8 | aset_nunk(a));
	h = aset_hash_bytes(h, a->aspath, a->aspath_len);
	h = aset_hash_bytes(h, a->communities, a->communities_len);
	h = aset_hash_bytes(h, a->ext_communities, a->ext_communities_len);
	h = aset_hash_bytes(h, a->large_communities, a->large_communities_len);
	for (unsigned i = 0; i < aset_nunk(a); i++) {
		const struct bgp_rawattr *u = &a->unknown[i];

		h = aset_mix(h, (uint64_t)u->flags << 8 | u->type);
		h = aset_hash_bytes(h, u->val, u->len);
	}
	return (uint32_t)(h ^ h >> 32);
}

static int
aset_bytes_eq(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	return xn == yn && (xn == 0 || memcmp(x, y, xn) == 0);
}

static int
aset_eq(const struct bgp_attrs *x, const struct bgp_attrs *y)
{
	if (x->present != y->present || x->origin != y->origin || x->nexthop != y->nexthop ||
	    x->med != y->med || x->local_pref != y->local_pref ||
	    x->atomic_agg != y->atomic_agg || x->agg_as != y->agg_as ||
	    x->agg_addr != y->agg_addr || x->aspath_count != y->aspath_count ||
	    x->first_as != y->first_as || aset_nunk(x) != aset_nunk(y))
		return 0;
	if (!aset_bytes_eq(x->aspath, x->aspath_len, y->aspath, y->aspath_len) ||
	    !aset_bytes_eq(x->communities, x->communities_len, y->communities,
	    y->communities_len) ||
	    !aset_bytes_eq(x->ext_communities, x->ext_communities_len, y->ext_communities,
	    y->ext_communities_len) ||
	    !aset_bytes_eq(x->large_communities, x->large_communities_len,
	    y->large_communities, y->large_communities_len))
		return 0;
	for (unsigned i = 0; i < aset_nunk(x); i++) {
		const struct bgp_rawattr *u = &x->unknown[i], *v = &y->unknown[i];

		if (u->flags != v->flags || u->type != v->type ||
		    !aset_bytes_eq(u->val, u->len, v->val, v->len))
			return 0;
	}
	return 1;
}

struct bgp_atab *
bgp_atab_new(void)
{
	return calloc(1, sizeof(struct bgp_atab));
}

void
bgp_atab_free(struct bgp_atab *t)
{
	if (t == NULL)
		return;
	/* Sets still referenced are a caller bug; free them rather than leak them. */
	for (size_t i = 0; i < t->nbkt; i++) {
		struct bgp_aset *s, *next;

		for (s = t->bkt[i]; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(t->bkt);
	free(t);
}

static int
atab_grow(struct bgp_atab *t)
{
	size_t nbkt = t->nbkt ? t->nbkt * 2 : 64;
	struct bgp_aset **bkt = calloc(nbkt, sizeof(*bkt));

	if (bkt == NULL)
		return -1;
	for (size_t i = 0; i < t->nbkt; i++) {
		struct bgp_aset *s, *next;

		for (s = t->bkt[i]; s != NULL; s = next) {
			size_t j = (size_t)s->hash & (nbkt - 1);

			next = s->next;
			s->next = bkt[j];
			bkt[j] = s;
		}
	}
	free(t->bkt);
	t->bkt = bkt;
	t->nbkt = nbkt;
	return 0;
}

/* Appends n bytes of src at *dst and returns where they went (NULL for an empty part). */
static const uint8_t *
aset_copy(uint8_t **dst, const uint8_t *src, size_t n)
{
	uint8_t *at = *dst;

	if (n == 0)
		return NULL;
	memcpy(at, src, n);
	*dst += n;
	return at;
}

/* Bytes of the set that holds a's content: header, descriptors, variable parts. */
static size_t
aset_size(const struct bgp_attrs *a)
{
	size_t n = sizeof(struct bgp_aset) + aset_nunk(a) * sizeof(struct bgp_rawattr) +
	    a->aspath_len + a->communities_len + a->ext_communities_len +
	    a->large_communities_len;

	for (unsigned i = 0; i < aset_nunk(a); i++)
		n += a->unknown[i].len;
	return n;
}

static struct bgp_aset *
aset_new(const struct bgp_attrs *a, uint32_t hash)
{
	struct bgp_aset *s = malloc(aset_size(a));
	struct bgp_attrs *v;
	uint8_t *d;

	if (s == NULL)
		return NULL;
	s->next = NULL;
	s->hash = hash;
	s->refs = 1;
	v = &s->a;
	/* The fixed fields, then each variable part re-pointed into the set. */
	*v = *a;
	v->n_unknown = (uint8_t)aset_nunk(a);
	d = (uint8_t *)&s->unk[v->n_unknown];
	v->aspath = aset_copy(&d, a->aspath, a->aspath_len);
	v->communities = aset_copy(&d, a->communities, a->communities_len);
	v->ext_communities = aset_copy(&d, a->ext_communities, a->ext_communities_len);
	v->large_communities = aset_copy(&d, a->large_communities, a->large_communities_len);
	for (unsigned i = 0; i < v->n_unknown; i++) {
		s->unk[i] = a->unknown[i];
		s->unk[i].val = aset_copy(&d, a->unknown[i].val, a->unknown[i].len);
	}
	v->unknown = v->n_unknown ? s->unk : NULL;
	return s;
}

const struct bgp_aset *
bgp_aset_get(struct bgp_atab *t, const struct bgp_attrs *a)
{
	struct bgp_aset *s = t->last;
	uint32_t hash;

	if (s != NULL && aset_eq(&s->a, a)) {
		s->refs++;
		return s;
	}
	hash = aset_hash(a);
	if (t->nbkt > 0)
		for (s = t->bkt[hash & (t->nbkt - 1)]; s != NULL; s = s->next)
			if (s->hash == hash && aset_eq(&s->a, a)) {
				s->refs++;
				t->last = s;
				return s;
			}
	if (t->count >= t->nbkt && atab_grow(t) < 0)
		return NULL;
	if ((s = aset_new(a, hash)) == NULL)
		return NULL;
	s->next = t->bkt[hash & (t->nbkt - 1)];
	t->bkt[hash & (t->nbkt - 1)] = s;
	t->count++;
	t->bytes += aset_size(&s->a);
	t->last = s;
	return s;
}

/* Sets are immutable to their users; only the reference count changes behind const. */
static struct bgp_aset *
aset_mut(const struct bgp_aset *s)
{
	return (struct bgp_aset *)(uintptr_t)s;
}

void
bgp_aset_ref(const struct bgp_aset *s)
{
	aset_mut(s)->refs++;
}

void
bgp_aset_put(struct bgp_atab *t, const struct bgp_aset *cs)
{
	struct bgp_aset *s = aset_mut(cs), **pp;

	if (--s->refs > 0)
		return;
	if (t->last == s)
		t->last = NULL;
	for (pp = &t->bkt[s->hash & (t->nbkt - 1)]; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	t->count--;
	t->bytes -= aset_size(&s->a);
	free(s);
}

const struct bgp_attrs *
bgp_aset_attrs(const struct bgp_aset *s)
{
	return &s->a;
}

uint32_t
bgp_aset_refs(const struct bgp_aset *s)
{
	return s->refs;
}

size_t
bgp_atab_count(const struct bgp_atab *t)
{
	return t->count;
}

size_t
bgp_atab_bytes(const struct bgp_atab *t)
{
	return t->bytes;
}
