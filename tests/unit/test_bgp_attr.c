/*
 * Unit tests of src/bgp/bgp_attr.c: every attribute both ways against hand-written bytes
 * (RFC 4271 4.3, 4760, 6793, 1997, 4360, 8092), one test per RFC 7606 error class with its
 * exact action, the UPDATE split, NLRI and the UPDATE builder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bgp.h"

#define ORIGIN_IGP 0x40, 0x01, 0x01, 0x00
#define ASPATH4_EMPTY 0x40, 0x02, 0x00
#define NEXTHOP 0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01

static struct bgp_attrs A;
static struct bgp_attrs_ctx X; /* the MP fields and what A points into */
static struct bgp_upd_report R;
static struct bgp_err E;

static enum bgp_upd_action
parse(const uint8_t *b, size_t n, int as4, int has_nlri)
{
	memset(&E, 0, sizeof(E));
	return bgp_attrs_parse(cur_make(b, n), as4, has_nlri, &A, &X, &R, &E);
}

/* Expects a treat-as-withdraw caused by attribute type for reason (the would-be subcode). */
static void
expect_withdraw(const uint8_t *b, size_t n, int as4, uint8_t type, uint8_t reason)
{
	assert_int_equal(parse(b, n, as4, 1), BGP_UPD_WITHDRAW);
	assert_int_equal(R.withdraw_type, type);
	assert_int_equal(R.withdraw_reason, reason);
	assert_int_equal(E.code, 0); /* no NOTIFICATION */
}

static void
expect_reset(const uint8_t *b, size_t n, uint8_t sub, const uint8_t *data, size_t dlen)
{
	assert_int_equal(parse(b, n, 1, 1), BGP_UPD_RESET);
	assert_int_equal(E.code, BGP_ERR_UPDATE);
	assert_int_equal(E.subcode, sub);
	assert_int_equal(E.datalen, dlen);
	if (dlen)
		assert_memory_equal(E.data, data, dlen);
}

/* ---- every attribute, parsed and written, on a 4-octet session ---- */

static const uint8_t all_in[] = {
	ORIGIN_IGP,
	0x40, 0x02, 0x0e, 0x02, 0x03, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x64,
	NEXTHOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x32,
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,
	0x40, 0x06, 0x00,
	0xc0, 0x07, 0x08, 0x00, 0x00, 0xfd, 0xe9, 0x0a, 0x00, 0x00, 0x02,
	0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x01,
	0x80, 0x09, 0x04, 0x0a, 0x00, 0x00, 0x03,
	0x80, 0x0a, 0x04, 0x0a, 0x00, 0x00, 0x04,
	0xc0, 0x10, 0x08, 0x00, 0x02, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01,
	0xc0, 0x20, 0x0c, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0xc0, 0x63, 0x02, 0xab, 0xcd,
	0x80, 0x64, 0x01, 0xee,
};

/* What we pass on: no ORIGINATOR_ID/CLUSTER_LIST/non-transitive unknown; partial set. */
static const uint8_t all_out[] = {
	ORIGIN_IGP,
	0x40, 0x02, 0x0e, 0x02, 0x03, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x64,
	NEXTHOP,
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x32,
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,
	0x40, 0x06, 0x00,
	0xc0, 0x07, 0x08, 0x00, 0x00, 0xfd, 0xe9, 0x0a, 0x00, 0x00, 0x02,
	0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x01,
	0xc0, 0x10, 0x08, 0x00, 0x02, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01,
	0xc0, 0x20, 0x0c, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0xe0, 0x63, 0x02, 0xab, 0xcd,
};

static void
t_all_attributes(void **state)
{
	uint8_t out[512];
	struct wbuf w = wbuf_make(out, sizeof(out));

	(void)state;
	assert_int_equal(parse(all_in, sizeof(all_in), 1, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 0);
	assert_int_equal(A.origin, BGP_ORIGIN_IGP);
	assert_int_equal(A.aspath_len, 14);
	assert_int_equal(A.aspath_count, 3);
	assert_int_equal(A.first_as, 65001);
	assert_int_equal(A.nexthop, 0x0a000001);
	assert_int_equal(A.med, 50);
	assert_int_equal(A.local_pref, 100);
	assert_true(A.atomic_agg);
	assert_int_equal(A.agg_as, 65001);
	assert_int_equal(A.agg_addr, 0x0a000002);
	assert_int_equal(A.communities_len, 4);
	assert_int_equal(A.ext_communities_len, 8);
	assert_int_equal(A.large_communities_len, 12);
	assert_int_equal(A.n_unknown, 1);
	assert_int_equal(A.unknown[0].type, 99);
	assert_int_equal(A.unknown[0].flags, 0xe0);
	assert_true(A.present & (1u << BGP_A_ORIGINATOR_ID));
	assert_true(A.present & (1u << BGP_A_CLUSTER_LIST));
	assert_int_equal(bgp_attrs_put(&w, &A, 1), 0);
	assert_int_equal(w.len, sizeof(all_out));
	assert_memory_equal(out, all_out, sizeof(all_out));
}

/* ---- RFC 6793 on a 2-octet session ---- */

static const uint8_t as2_in[] = {
	ORIGIN_IGP,
	0x40, 0x02, 0x06, 0x02, 0x02, 0xfd, 0xe9, 0x5b, 0xa0,
	NEXTHOP,
	0xc0, 0x07, 0x06, 0x5b, 0xa0, 0x0a, 0x00, 0x00, 0x02,
	0xc0, 0x11, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x01, 0x00, 0x00,
	0xc0, 0x12, 0x08, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

static void
t_as4_merge(void **state)
{
	const uint8_t path[] = {0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x01, 0x00, 0x00};
	uint8_t out[256];
	struct wbuf w = wbuf_make(out, sizeof(out));

	(void)state;
	assert_int_equal(parse(as2_in, sizeof(as2_in), 0, 1), BGP_UPD_OK);
	assert_int_equal(A.aspath_len, sizeof(path));
	assert_memory_equal(A.aspath, path, sizeof(path));
	assert_int_equal(A.agg_as, 65536);
	assert_int_equal(A.first_as, 65001);
	/* And back to a 2-octet peer: AS_TRANS in the old fields, the truth in AS4_*. */
	assert_int_equal(bgp_attrs_put(&w, &A, 0), 0);
	assert_int_equal(w.len, sizeof(as2_in));
	assert_memory_equal(out, as2_in, sizeof(as2_in));
	/* On a 4-octet session the AS4_* attributes are discarded (RFC 6793 4.1). */
	{
		const uint8_t b[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP,
			0xc0, 0x11, 0x06, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00,
			0xc0, 0x12, 0x08, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02};

		assert_int_equal(parse(b, sizeof(b), 1, 1), BGP_UPD_OK);
		assert_int_equal(R.discarded, 2);
		assert_int_equal(A.aspath_len, 0);
	}
}

static void
t_as4_merge_longer(void **state)
{
	/* AS_PATH 100 200 AS_TRANS, AS4_PATH 65536: the two leading ASes are kept. */
	const uint8_t b[] = {ORIGIN_IGP,
		0x40, 0x02, 0x08, 0x02, 0x03, 0x00, 0x64, 0x00, 0xc8, 0x5b, 0xa0,
		NEXTHOP,
		0xc0, 0x11, 0x06, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00};
	const uint8_t path[] = {0x02, 0x02, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0xc8,
		0x02, 0x01, 0x00, 0x01, 0x00, 0x00};
	/* AS4_PATH longer than AS_PATH: ignored. */
	const uint8_t c[] = {ORIGIN_IGP,
		0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
		NEXTHOP,
		0xc0, 0x11, 0x0a, 0x02, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
	/* AGGREGATOR not AS_TRANS: AS4_PATH ignored (RFC 6793 4.2.3). */
	const uint8_t d[] = {ORIGIN_IGP,
		0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
		NEXTHOP,
		0xc0, 0x07, 0x06, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x02,
		0xc0, 0x11, 0x06, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00};

	(void)state;
	assert_int_equal(parse(b, sizeof(b), 0, 1), BGP_UPD_OK);
	assert_int_equal(A.aspath_len, sizeof(path));
	assert_memory_equal(A.aspath, path, sizeof(path));
	assert_int_equal(A.aspath_count, 3);
	assert_int_equal(parse(c, sizeof(c), 0, 1), BGP_UPD_OK);
	assert_int_equal(A.aspath_len, 6);
	assert_int_equal(A.first_as, BGP_AS_TRANS);
	assert_int_equal(parse(d, sizeof(d), 0, 1), BGP_UPD_OK);
	assert_int_equal(A.first_as, BGP_AS_TRANS);
	assert_int_equal(A.agg_as, 100);
	assert_int_equal(R.discarded, 1);
}

/* A 2-octet peer never sees confederation segments in AS4_PATH (RFC 6793 4.2.2). */
static void
t_put_confed_as2(void **state)
{
	const uint8_t path[] = {0x03, 0x01, 0x00, 0x00, 0xfd, 0xe9,
		0x02, 0x01, 0x00, 0x01, 0x00, 0x00};
	const uint8_t want[] = {0x40, 0x01, 0x01, 0x02,
		0x40, 0x02, 0x08, 0x03, 0x01, 0xfd, 0xe9, 0x02, 0x01, 0x5b, 0xa0,
		0xc0, 0x11, 0x06, 0x02, 0x01, 0x00, 0x01, 0x00, 0x00};
	struct bgp_attrs a;
	uint8_t out[128];
	struct wbuf w = wbuf_make(out, sizeof(out));

	(void)state;
	memset(&a, 0, sizeof(a));
	a.origin = BGP_ORIGIN_INCOMPLETE;
	a.aspath = path;
	a.aspath_len = sizeof(path);
	assert_int_equal(bgp_attrs_put(&w, &a, 0), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

/* More than 255 octets: the extended-length bit and a 2-octet length. */
static void
t_put_extended_length(void **state)
{
	uint8_t comm[280], out[512];
	struct bgp_attrs a;
	struct wbuf w = wbuf_make(out, sizeof(out));

	(void)state;
	memset(comm, 0x11, sizeof(comm));
	memset(&a, 0, sizeof(a));
	a.communities = comm;
	a.communities_len = sizeof(comm);
	assert_int_equal(bgp_attrs_put(&w, &a, 1), 0);
	/* ORIGIN (4), empty AS_PATH (3), then COMMUNITIES. */
	assert_int_equal(w.len, 4 + 3 + 4 + sizeof(comm));
	assert_int_equal(out[7], 0xd0);
	assert_int_equal(out[8], 8);
	assert_int_equal(out[9], 0x01);
	assert_int_equal(out[10], 0x18);
	assert_int_equal(parse(out, w.len, 1, 0), BGP_UPD_OK);
	assert_int_equal(A.communities_len, sizeof(comm));
	w = wbuf_make(out, 100);
	assert_int_equal(bgp_attrs_put(&w, &a, 1), -1);
}

/* ---- MP_REACH / MP_UNREACH (RFC 4760) ---- */

static void
t_mp_reach(void **state)
{
	const uint8_t b[] = {
		0x80, 0x0e, 0x10, 0x00, 0x01, 0x01, 0x04, 0x0a, 0x00, 0x00, 0x09, 0x00,
		0x18, 0xc0, 0x00, 0x02, 0x10, 0x0a, 0x01,
		ORIGIN_IGP, ASPATH4_EMPTY,
	};
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	assert_int_equal(parse(b, sizeof(b), 1, 0), BGP_UPD_OK);
	assert_true(X.has_mp_reach);
	assert_int_equal(X.mp_nexthop, 0x0a000009);
	c = X.mp_nlri;
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.addr, 0xc0000200);
	assert_int_equal(p.len, 24);
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.addr, 0x0a010000);
	assert_int_equal(p.len, 16);
	assert_int_equal(bgp_nlri_next(&c, &p), 0);
	/* Without ORIGIN the MP NLRI is withdrawn (RFC 7606 3.d); NEXT_HOP is not needed. */
	assert_int_equal(parse(b, sizeof(b) - 7, 1, 0), BGP_UPD_WITHDRAW);
	assert_int_equal(R.withdraw_type, BGP_A_ORIGIN);
	assert_int_equal(R.withdraw_reason, BGP_UPD_MISSING);
}

static void
t_mp_unreach_only(void **state)
{
	const uint8_t b[] = {0x80, 0x0f, 0x07, 0x00, 0x01, 0x01, 0x18, 0xc0, 0x00, 0x02};
	const uint8_t eor[] = {0x80, 0x0f, 0x03, 0x00, 0x01, 0x01};
	struct bgp_prefix p;
	struct cur c;

	(void)state;
	assert_int_equal(parse(b, sizeof(b), 1, 0), BGP_UPD_OK);
	assert_true(X.has_mp_unreach);
	c = X.mp_withdrawn;
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.addr, 0xc0000200);
	assert_int_equal(parse(eor, sizeof(eor), 1, 0), BGP_UPD_OK);
	assert_true(X.has_mp_unreach);
	assert_int_equal(cur_left(&X.mp_withdrawn), 0);
}

static void
t_mp_other_family(void **state)
{
	/* IPv6 unicast with a 16-octet next hop: skipped without error. */
	const uint8_t b[] = {0x80, 0x0e, 0x18, 0x00, 0x02, 0x01, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00,
		0x20, 0x20, 0x01,
		0x80, 0x0f, 0x03, 0x00, 0x02, 0x01};

	(void)state;
	assert_int_equal(parse(b, sizeof(b) - 6, 1, 0), BGP_UPD_OK);
	assert_false(X.has_mp_reach);
	assert_int_equal(X.mp_reach_afi, 2);
	assert_int_equal(parse(b, sizeof(b), 1, 0), BGP_UPD_OK);
	assert_false(X.has_mp_unreach);
}

static void
t_mp_malformed(void **state)
{
	/* IPv4 unicast with a 16-octet next hop: not what we negotiated. */
	const uint8_t nh16[] = {0x80, 0x0e, 0x15, 0x00, 0x01, 0x01, 0x10,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00};
	const uint8_t badpfx[] = {0x80, 0x0e, 0x0a, 0x00, 0x01, 0x01, 0x04, 0x0a, 0x00, 0x00, 0x09,
		0x00, 0x21};
	const uint8_t unreach[] = {0x80, 0x0f, 0x05, 0x00, 0x01, 0x01, 0x18, 0xc0};
	const uint8_t dup[] = {0x80, 0x0f, 0x03, 0x00, 0x01, 0x01, 0x80, 0x0f, 0x03, 0x00, 0x01,
		0x01};
	const uint8_t flags[] = {0xc0, 0x0f, 0x03, 0x00, 0x01, 0x01};
	const uint8_t over[] = {ORIGIN_IGP, 0x80, 0x0e, 0x20, 0x00, 0x01};
	const uint8_t shortv[] = {0x80, 0x0f, 0x02, 0x00, 0x01};

	(void)state;
	expect_reset(nh16, sizeof(nh16), BGP_UPD_OPTIONAL, nh16, sizeof(nh16));
	expect_reset(badpfx, sizeof(badpfx), BGP_UPD_OPTIONAL, badpfx, sizeof(badpfx));
	expect_reset(unreach, sizeof(unreach), BGP_UPD_OPTIONAL, unreach, sizeof(unreach));
	expect_reset(shortv, sizeof(shortv), BGP_UPD_OPTIONAL, shortv, sizeof(shortv));
	expect_reset(dup, sizeof(dup), BGP_UPD_ATTR_LIST, NULL, 0);
	expect_reset(flags, sizeof(flags), BGP_UPD_FLAGS, flags, sizeof(flags));
	expect_reset(over, sizeof(over), BGP_UPD_ATTR_LIST, NULL, 0);
}

static void
t_mp_nexthop_value(void **state)
{
	const uint8_t b[] = {0x80, 0x0e, 0x0b, 0x00, 0x01, 0x01, 0x04, 0xe0, 0x00, 0x00, 0x05,
		0x00, 0x08, 0x0a, ORIGIN_IGP, ASPATH4_EMPTY};

	(void)state;
	expect_withdraw(b, sizeof(b), 1, BGP_A_MP_REACH, BGP_UPD_NEXTHOP);
}

/* ---- RFC 7606 section 7, attribute by attribute ---- */

static void
t_origin_errors(void **state)
{
	const uint8_t len[] = {0x40, 0x01, 0x02, 0x00, 0x00, ASPATH4_EMPTY, NEXTHOP};
	const uint8_t val[] = {0x40, 0x01, 0x01, 0x03, ASPATH4_EMPTY, NEXTHOP};
	const uint8_t flg[] = {0xc0, 0x01, 0x01, 0x00, ASPATH4_EMPTY, NEXTHOP};

	(void)state;
	expect_withdraw(len, sizeof(len), 1, BGP_A_ORIGIN, BGP_UPD_LENGTH);
	expect_withdraw(val, sizeof(val), 1, BGP_A_ORIGIN, BGP_UPD_ORIGIN);
	expect_withdraw(flg, sizeof(flg), 1, BGP_A_ORIGIN, BGP_UPD_FLAGS);
}

static void
t_aspath_errors(void **state)
{
	const uint8_t zero_seg[] = {ORIGIN_IGP, 0x40, 0x02, 0x02, 0x02, 0x00, NEXTHOP};
	const uint8_t bad_type[] = {ORIGIN_IGP, 0x40, 0x02, 0x06, 0x05, 0x01, 0x00, 0x00, 0x00,
		0x64, NEXTHOP};
	const uint8_t overrun[] = {ORIGIN_IGP, 0x40, 0x02, 0x06, 0x02, 0x02, 0x00, 0x64, 0xfd,
		0xe9, NEXTHOP};
	const uint8_t as0[] = {ORIGIN_IGP, 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00,
		NEXTHOP};
	const uint8_t as0_2[] = {ORIGIN_IGP, 0x40, 0x02, 0x04, 0x02, 0x01, 0x00, 0x00, NEXTHOP};

	(void)state;
	expect_withdraw(zero_seg, sizeof(zero_seg), 1, BGP_A_AS_PATH, BGP_UPD_ASPATH);
	expect_withdraw(bad_type, sizeof(bad_type), 1, BGP_A_AS_PATH, BGP_UPD_ASPATH);
	expect_withdraw(overrun, sizeof(overrun), 1, BGP_A_AS_PATH, BGP_UPD_ASPATH);
	expect_withdraw(as0, sizeof(as0), 1, BGP_A_AS_PATH, BGP_UPD_ASPATH);
	expect_withdraw(as0_2, sizeof(as0_2), 0, BGP_A_AS_PATH, BGP_UPD_ASPATH);
	/* The 4-octet overrun is a valid 2-octet path. */
	assert_int_equal(parse(overrun, sizeof(overrun), 0, 1), BGP_UPD_OK);
	assert_int_equal(A.aspath_count, 2);
}

static void
t_nexthop_errors(void **state)
{
	const uint8_t len[] = {ORIGIN_IGP, ASPATH4_EMPTY, 0x40, 0x03, 0x05, 1, 2, 3, 4, 5};
	const uint8_t zero[] = {ORIGIN_IGP, ASPATH4_EMPTY, 0x40, 0x03, 0x04, 0, 0, 0, 0};
	const uint8_t mcast[] = {ORIGIN_IGP, ASPATH4_EMPTY, 0x40, 0x03, 0x04, 224, 0, 0, 1};

	(void)state;
	expect_withdraw(len, sizeof(len), 1, BGP_A_NEXT_HOP, BGP_UPD_LENGTH);
	expect_withdraw(zero, sizeof(zero), 1, BGP_A_NEXT_HOP, BGP_UPD_NEXTHOP);
	expect_withdraw(mcast, sizeof(mcast), 1, BGP_A_NEXT_HOP, BGP_UPD_NEXTHOP);
}

static void
t_med_localpref_errors(void **state)
{
	const uint8_t med[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x80, 0x04, 0x03, 0, 0, 1};
	const uint8_t lp[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x40, 0x05, 0x05, 0, 0, 0, 1, 0};
	const uint8_t medflg[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x40, 0x04, 0x04, 0, 0, 0,
		1};

	(void)state;
	expect_withdraw(med, sizeof(med), 1, BGP_A_MED, BGP_UPD_LENGTH);
	expect_withdraw(lp, sizeof(lp), 1, BGP_A_LOCAL_PREF, BGP_UPD_LENGTH);
	expect_withdraw(medflg, sizeof(medflg), 1, BGP_A_MED, BGP_UPD_FLAGS);
}

/* Attribute discard: the UPDATE stays good, the attribute is gone. */
static void
t_discard_classes(void **state)
{
	const uint8_t atomic[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x40, 0x06, 0x01, 0x00};
	const uint8_t agglen[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP,
		0xc0, 0x07, 0x06, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x02};
	const uint8_t agg0[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP,
		0xc0, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02};
	const uint8_t aggflg[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP,
		0x80, 0x07, 0x08, 0x00, 0x00, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x02};

	(void)state;
	assert_int_equal(parse(atomic, sizeof(atomic), 1, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 1);
	assert_false(A.atomic_agg);
	assert_int_equal(parse(agglen, sizeof(agglen), 1, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 1);
	assert_false(A.present & (1u << BGP_A_AGGREGATOR));
	assert_int_equal(parse(agg0, sizeof(agg0), 1, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 1);
	assert_false(A.present & (1u << BGP_A_AGGREGATOR));
	assert_int_equal(parse(aggflg, sizeof(aggflg), 1, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 1);
	/* The same 6-octet AGGREGATOR is right on a 2-octet session. */
	assert_int_equal(parse(agglen, sizeof(agglen), 0, 1), BGP_UPD_OK);
	assert_int_equal(R.discarded, 0);
	assert_int_equal(A.agg_as, 100);
}

static void
t_list_errors(void **state)
{
	const uint8_t comm5[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0xc0, 0x08, 0x05, 1, 2, 3, 4, 5};
	const uint8_t comm0[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0xc0, 0x08, 0x00};
	const uint8_t orig[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x80, 0x09, 0x03, 1, 2, 3};
	const uint8_t clus[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x80, 0x0a, 0x06, 1, 2, 3, 4,
		5, 6};
	const uint8_t ext[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0xc0, 0x10, 0x04, 1, 2, 3, 4};
	const uint8_t large[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0xc0, 0x20, 0x08, 1, 2, 3, 4,
		5, 6, 7, 8};

	(void)state;
	expect_withdraw(comm5, sizeof(comm5), 1, BGP_A_COMMUNITIES, BGP_UPD_LENGTH);
	expect_withdraw(comm0, sizeof(comm0), 1, BGP_A_COMMUNITIES, BGP_UPD_LENGTH);
	expect_withdraw(orig, sizeof(orig), 1, BGP_A_ORIGINATOR_ID, BGP_UPD_LENGTH);
	expect_withdraw(clus, sizeof(clus), 1, BGP_A_CLUSTER_LIST, BGP_UPD_LENGTH);
	expect_withdraw(ext, sizeof(ext), 1, BGP_A_EXT_COMMUNITIES, BGP_UPD_LENGTH);
	expect_withdraw(large, sizeof(large), 1, BGP_A_LARGE_COMMUNITIES, BGP_UPD_LENGTH);
}

static void
t_duplicates(void **state)
{
	const uint8_t b[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x40, 0x01, 0x01, 0x02};

	(void)state;
	assert_int_equal(parse(b, sizeof(b), 1, 1), BGP_UPD_OK);
	assert_int_equal(A.origin, BGP_ORIGIN_IGP);
	assert_int_equal(R.discarded, 1);
}

static void
t_missing_mandatory(void **state)
{
	const uint8_t b[] = {ORIGIN_IGP, ASPATH4_EMPTY};

	(void)state;
	expect_withdraw(b, sizeof(b), 1, BGP_A_NEXT_HOP, BGP_UPD_MISSING);
	assert_int_equal(parse(b, sizeof(b), 1, 0), BGP_UPD_OK); /* no NLRI, nothing needed */
	assert_int_equal(parse(NULL, 0, 1, 0), BGP_UPD_OK);
}

/* RFC 7606 4: the block can still be delimited, so the NLRI can be withdrawn. */
static void
t_attr_overrun(void **state)
{
	const uint8_t over[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x40, 0x05, 0x08, 0x00, 0x00};
	const uint8_t trunc[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x50, 0x05, 0x00};

	(void)state;
	expect_withdraw(over, sizeof(over), 1, BGP_A_LOCAL_PREF, BGP_UPD_ATTR_LIST);
	expect_withdraw(trunc, sizeof(trunc), 1, BGP_A_LOCAL_PREF, BGP_UPD_ATTR_LIST);
}

static void
t_unknown_attributes(void **state)
{
	const uint8_t wk[] = {ORIGIN_IGP, 0x40, 0x63, 0x01, 0xaa};
	const uint8_t extlen[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP,
		0xd0, 0x08, 0x00, 0x04, 0xfd, 0xe9, 0x00, 0x01,
		0xf0, 0x63, 0x00, 0x01, 0x55};

	(void)state;
	expect_reset(wk, sizeof(wk), BGP_UPD_WELLKNOWN, wk + 4, 4);
	assert_int_equal(parse(extlen, sizeof(extlen), 1, 1), BGP_UPD_OK);
	assert_int_equal(A.communities_len, 4);
	assert_int_equal(A.n_unknown, 1);
	assert_int_equal(A.unknown[0].flags, 0xe0);
	assert_int_equal(A.unknown[0].len, 1);
}

/* The worst finding wins: a withdraw then a reset is a reset. */
static void
t_worst_wins(void **state)
{
	const uint8_t b[] = {0x40, 0x01, 0x01, 0x07, 0x80, 0x0f, 0x02, 0x00, 0x01};

	(void)state;
	assert_int_equal(parse(b, sizeof(b), 1, 1), BGP_UPD_RESET);
	assert_int_equal(E.subcode, BGP_UPD_OPTIONAL);
}

/* ---- UPDATE split, NLRI, builder ---- */

static void
t_split(void **state)
{
	const uint8_t b[] = {0x00, 0x02, 0x08, 0x0a, 0x00, 0x04, ORIGIN_IGP, 0x18, 0xc0, 0x00,
		0x02};
	struct bgp_update u;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_update_split(cur_make(b, sizeof(b)), &u, &e), 0);
	assert_int_equal(cur_left(&u.withdrawn), 2);
	assert_int_equal(cur_left(&u.attrs), 4);
	assert_int_equal(cur_left(&u.nlri), 4);
	assert_int_equal(bgp_update_split(cur_make(b, 9), &u, &e), -1);
	assert_int_equal(e.code, 3);
	assert_int_equal(e.subcode, 1);
	assert_int_equal(e.datalen, 0);
	assert_int_equal(bgp_update_split(cur_make(b, 3), &u, &e), -1);
}

static void
t_nlri(void **state)
{
	const uint8_t b[] = {0x00, 0x20, 0x0a, 0x00, 0x00, 0x01, 0x09, 0x0a, 0xc0, 0x18, 0x0a, 0x00};
	const uint8_t bad[] = {0x21, 1, 2, 3, 4, 5};
	uint8_t out[32];
	struct wbuf w = wbuf_make(out, sizeof(out));
	struct bgp_prefix p;
	struct cur c = cur_make(b, sizeof(b));

	(void)state;
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.len, 0);
	assert_int_equal(p.addr, 0);
	assert_int_equal(bgp_nlri_put(&w, &p), 0);
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.addr, 0x0a000001);
	assert_int_equal(bgp_nlri_put(&w, &p), 0);
	assert_int_equal(bgp_nlri_next(&c, &p), 1);
	assert_int_equal(p.addr, 0x0a800000); /* 10.192/9: the trailing bit is cleared */
	assert_int_equal(p.len, 9);
	assert_int_equal(bgp_nlri_next(&c, &p), -1); /* /24 with 2 octets */
	assert_int_equal(bgp_nlri_next(&c, &p), -1);
	c = cur_make(bad, sizeof(bad));
	assert_int_equal(bgp_nlri_next(&c, &p), -1);
	assert_int_equal(w.len, 6);
	assert_memory_equal(out, b, 6);
	w = wbuf_make(out, 4);
	assert_int_equal(bgp_nlri_put(&w, &p), 0);
	p.len = 33;
	assert_int_equal(bgp_nlri_put(&w, &p), -1);
}

static void
t_builder(void **state)
{
	const uint8_t attrs[] = {ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP};
	const uint8_t ann[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x29, 0x02, 0x00, 0x00, 0x00, 0x0e,
		ORIGIN_IGP, ASPATH4_EMPTY, NEXTHOP, 0x18, 0xc0, 0x00, 0x02};
	const uint8_t wd[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1d, 0x02, 0x00, 0x06, 0x18, 0xc0, 0x00, 0x02,
		0x08, 0x0a, 0x00, 0x00};
	struct bgp_prefix p = {0xc0000200, 24}, q = {0x0a000000, 8};
	struct bgp_upd_builder b;
	uint8_t buf[BGP_MAX_LEN];
	unsigned n = 0;

	(void)state;
	bgp_upd_begin(&b, buf, sizeof(buf), attrs, sizeof(attrs));
	assert_int_equal(bgp_upd_finish(&b), 0);
	assert_int_equal(bgp_upd_add(&b, &p), 0);
	assert_int_equal(bgp_upd_finish(&b), sizeof(ann));
	assert_memory_equal(buf, ann, sizeof(ann));
	bgp_upd_begin(&b, buf, sizeof(buf), NULL, 0);
	assert_int_equal(bgp_upd_add(&b, &p), 0);
	assert_int_equal(bgp_upd_add(&b, &q), 0);
	assert_int_equal(bgp_upd_finish(&b), sizeof(wd));
	assert_memory_equal(buf, wd, sizeof(wd));
	/* Filling up: (4096 - 23) / 4 prefixes of /24 fit, the next one does not. */
	bgp_upd_begin(&b, buf, sizeof(buf), NULL, 0);
	while (bgp_upd_add(&b, &p) == 0)
		n++;
	assert_int_equal(n, (BGP_MAX_LEN - 23) / 4);
	assert_true(bgp_upd_finish(&b) <= BGP_MAX_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_all_attributes),
		cmocka_unit_test(t_as4_merge),
		cmocka_unit_test(t_as4_merge_longer),
		cmocka_unit_test(t_put_confed_as2),
		cmocka_unit_test(t_put_extended_length),
		cmocka_unit_test(t_mp_reach),
		cmocka_unit_test(t_mp_unreach_only),
		cmocka_unit_test(t_mp_other_family),
		cmocka_unit_test(t_mp_malformed),
		cmocka_unit_test(t_mp_nexthop_value),
		cmocka_unit_test(t_origin_errors),
		cmocka_unit_test(t_aspath_errors),
		cmocka_unit_test(t_nexthop_errors),
		cmocka_unit_test(t_med_localpref_errors),
		cmocka_unit_test(t_discard_classes),
		cmocka_unit_test(t_list_errors),
		cmocka_unit_test(t_duplicates),
		cmocka_unit_test(t_missing_mandatory),
		cmocka_unit_test(t_attr_overrun),
		cmocka_unit_test(t_unknown_attributes),
		cmocka_unit_test(t_worst_wins),
		cmocka_unit_test(t_split),
		cmocka_unit_test(t_nlri),
		cmocka_unit_test(t_builder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
