/*
 * Unit tests of src/bgp/bgp_aset.c: interned attribute sets, one copy per content whatever
 * buffer the attributes came in, owning its bytes, compact, counted by reference, the last
 * set returned tried first and forgotten when freed, and a table grown several times. The
 * routing table (bgp_rib.c) is in test_bgp_rib.c.
 */
#include "bgp_rib_testkit.h"

/* ---- interned attribute sets ---- */

static void
fill_rich(struct bgp_attrs *a, uint8_t *path, uint8_t *comm, uint8_t *ext, uint8_t *large,
    uint8_t *unk, struct bgp_rawattr *u)
{
	mkattrs(a, path, 150, 3, BGP_ORIGIN_EGP, 7, 64512);
	memset(comm, 0x11, 8);
	memset(ext, 0x22, 16);
	memset(large, 0x33, 12);
	memset(unk, 0x44, 10);
	a->communities = comm;
	a->communities_len = 8;
	a->ext_communities = ext;
	a->ext_communities_len = 16;
	a->large_communities = large;
	a->large_communities_len = 12;
	a->n_unknown = 2;
	u[0] = (struct bgp_rawattr){ BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE, 99, 4, unk };
	u[1] = (struct bgp_rawattr){ BGP_AF_OPTIONAL | BGP_AF_TRANSITIVE, 100, 6, unk + 4 };
	a->unknown = u;
}

static void
test_aset_intern(void **state)
{
	struct fx *f = *state;
	struct bgp_attrs a, b;
	uint8_t pa[64], ca[8], ea[16], la[12], ua[10];
	uint8_t pb[64], cb[8], eb[16], lb[12], ub[10];
	struct bgp_rawattr ra[2], rb[2];
	const struct bgp_aset *s1, *s2, *s3, *s4;
	const struct bgp_attrs *v;
	size_t one;

	/* The same content in other buffers (as two messages would hold it): the same set. */
	fill_rich(&a, pa, ca, ea, la, ua, ra);
	fill_rich(&b, pb, cb, eb, lb, ub, rb);
	s1 = bgp_aset_get(f->t, &a);
	s2 = bgp_aset_get(f->t, &b);
	assert_non_null(s1);
	assert_ptr_equal(s1, s2);
	assert_int_equal(bgp_aset_refs(s1), 2);
	assert_int_equal(bgp_atab_count(f->t), 1);

	/* The copy owns its bytes: the message buffers may go away. */
	memset(ca, 0, sizeof(ca));
	memset(ua, 0, sizeof(ua));
	memset(pa, 0, sizeof(pa));
	memset(ra, 0, sizeof(ra));
	v = bgp_aset_attrs(s1);
	assert_ptr_not_equal(v->communities, ca);
	assert_memory_equal(v->communities, cb, 8);
	assert_memory_equal(v->ext_communities, eb, 16);
	assert_memory_equal(v->large_communities, lb, 12);
	assert_memory_equal(v->aspath, pb, v->aspath_len);
	assert_int_equal(v->n_unknown, 2);
	assert_int_equal(v->unknown[1].type, 100);
	assert_int_equal(v->unknown[1].len, 6);
	assert_memory_equal(v->unknown[1].val, ub + 4, 6);
	assert_int_equal(v->local_pref, 150);
	assert_int_equal(v->med, 7);
	/*
	 * Compact: the fixed fields and pointers, the two descriptors and the 60 content bytes,
	 * with a header of two words at most (no parser scratch, no MP fields).
	 */
	one = bgp_atab_bytes(f->t);
	assert_true(one <= sizeof(struct bgp_attrs) + 16 + 2 * sizeof(struct bgp_rawattr) + 14 +
	    8 + 16 + 12 + 10);
	assert_true(one >= sizeof(struct bgp_attrs) + 14 + 8 + 16 + 12 + 10);

	/* One byte of an unknown attribute, or one fixed field, makes another set. */
	ub[9] ^= 1;
	s3 = bgp_aset_get(f->t, &b);
	ub[9] ^= 1;
	b.med = 8;
	s4 = bgp_aset_get(f->t, &b);
	assert_ptr_not_equal(s3, s1);
	assert_ptr_not_equal(s4, s1);
	assert_ptr_not_equal(s4, s3);
	assert_int_equal(bgp_atab_count(f->t), 3);
	assert_int_equal(bgp_atab_bytes(f->t), 3 * one);

	bgp_aset_put(f->t, s3);
	bgp_aset_put(f->t, s4);
	bgp_aset_ref(s1);
	assert_int_equal(bgp_aset_refs(s1), 3);
	bgp_aset_put(f->t, s1);
	bgp_aset_put(f->t, s1);
	assert_int_equal(bgp_atab_count(f->t), 1);
	bgp_aset_put(f->t, s2);
	assert_int_equal(bgp_atab_count(f->t), 0);
	assert_int_equal(bgp_atab_bytes(f->t), 0);
}

/*
 * The last set returned is tried first: it must match by content, never by the buffer the
 * attributes sit in, and must be forgotten when it is freed.
 */
static void
test_aset_last(void **state)
{
	struct fx *f = *state;
	struct bgp_attrs a;
	uint8_t path[2 + 4 * 3];
	const struct bgp_aset *s1, *s2, *s3;

	mkattrs(&a, path, -1, 3, BGP_ORIGIN_IGP, -1, FIRST_AS);
	s1 = bgp_aset_get(f->t, &a);
	assert_ptr_equal(bgp_aset_get(f->t, &a), s1);
	path[13] ^= 1; /* the same buffer, other content (as the next UPDATE in one buffer) */
	s2 = bgp_aset_get(f->t, &a);
	assert_ptr_not_equal(s2, s1);
	path[13] ^= 1;
	assert_ptr_equal(bgp_aset_get(f->t, &a), s1); /* found by hash, not the cache */
	assert_int_equal(bgp_aset_refs(s1), 3);
	bgp_aset_put(f->t, s1);
	bgp_aset_put(f->t, s1);
	bgp_aset_put(f->t, s1);
	assert_int_equal(bgp_atab_count(f->t), 1);
	/* s1 is freed while it was the last one: a new set, under ASan no use after free. */
	s3 = bgp_aset_get(f->t, &a);
	assert_int_equal(bgp_aset_refs(s3), 1);
	assert_int_equal(bgp_atab_count(f->t), 2);
	bgp_aset_put(f->t, s3);
	bgp_aset_put(f->t, s2);
	assert_int_equal(bgp_atab_count(f->t), 0);
	mkattrs(&a, path, -1, 3, BGP_ORIGIN_IGP, -1, FIRST_AS);
	s1 = bgp_aset_get(f->t, &a);
	assert_int_equal(bgp_aset_refs(s1), 1);
	bgp_aset_put(f->t, s1);
}

/* Enough sets to grow the table several times; each is found again by content. */
static void
test_aset_many(void **state)
{
	struct fx *f = *state;
	enum { N = 5000 };
	static const struct bgp_aset *s[N];

	for (int i = 0; i < N; i++)
		s[i] = mkset(f->t, i, 1 + i % 7, BGP_ORIGIN_IGP, -1, FIRST_AS);
	assert_int_equal(bgp_atab_count(f->t), N);
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(mkset(f->t, i, 1 + i % 7, BGP_ORIGIN_IGP, -1, FIRST_AS), s[i]);
		bgp_aset_put(f->t, s[i]);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(bgp_aset_refs(s[i]), 1);
		bgp_aset_put(f->t, s[i]);
	}
	assert_int_equal(bgp_atab_count(f->t), 0);
	assert_int_equal(bgp_atab_bytes(f->t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_aset_intern),
		T(test_aset_last),
		T(test_aset_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
