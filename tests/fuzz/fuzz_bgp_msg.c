/*
 * libFuzzer target: the BGP message codecs. Each message in the input goes through the
 * header check and its type's parser; UPDATE attributes are parsed for both session kinds,
 * and whatever is accepted must re-encode into attributes that parse to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
fz_nlri(struct cur c)
{
	struct bgp_prefix p;

	while (bgp_nlri_next(&c, &p) == 1)
		if (p.len > 32 || (p.len < 32 && (p.addr & (0xffffffffu >> p.len))))
			abort();
}

/* Whether a 4-octet path holds an AS that needs 4 octets. */
static int
fz_wide(const struct bgp_attrs *a)
{
	struct cur p = cur_make(a->aspath, a->aspath_len);

	while (cur_left(&p) > 0) {
		uint8_t n;

		(void)cur_u8(&p);
		n = cur_u8(&p);
		for (unsigned i = 0; i < n; i++)
			if (cur_u32(&p) > 0xffff)
				return 1;
	}
	return 0;
}

/*
 * Accepted attributes re-encode (same session kind) and parse back to the same values.
 * The path must come back byte for byte on a 4-octet session, and on a 2-octet one when
 * no AS needs 4 octets: otherwise RFC 6793's own rules (AGGREGATOR voiding AS4_PATH,
 * confederation segments left out of it) may lose information by design.
 */
static void
fz_roundtrip(const struct bgp_attrs *a, int as4)
{
	static struct bgp_attrs b;
	static struct bgp_attrs_ctx bx; /* not a's: a points into its own */
	static uint8_t out[2 * BGP_MAX_LEN];
	struct wbuf w = wbuf_make(out, sizeof(out));
	struct bgp_upd_report r;
	struct bgp_err e;

	if (bgp_attrs_put(&w, a, as4) < 0)
		abort();
	if (bgp_attrs_parse(cur_make(out, w.len), as4, 0, &b, &bx, &r, &e) != BGP_UPD_OK)
		abort();
	if (b.origin != a->origin || b.nexthop != a->nexthop || b.med != a->med ||
	    b.local_pref != a->local_pref)
		abort();
	if (!as4 && fz_wide(a))
		return;
	if (b.aspath_len != a->aspath_len ||
	    (a->aspath_len && memcmp(b.aspath, a->aspath, a->aspath_len) != 0))
		abort();
}

static void
fz_update(struct cur body)
{
	static struct bgp_attrs a;
	static struct bgp_attrs_ctx x;
	struct bgp_update u;
	struct bgp_upd_report r;
	struct bgp_err e;

	if (bgp_update_split(body, &u, &e) < 0)
		return;
	fz_nlri(u.withdrawn);
	fz_nlri(u.nlri);
	for (int as4 = 0; as4 <= 1; as4++) {
		enum bgp_upd_action act = bgp_attrs_parse(u.attrs, as4, cur_left(&u.nlri) > 0, &a,
		    &x, &r, &e);

		if (act == BGP_UPD_RESET && e.code != BGP_ERR_UPDATE)
			abort();
		if (act != BGP_UPD_OK)
			continue;
		fz_nlri(x.mp_nlri);
		fz_nlri(x.mp_withdrawn);
		fz_roundtrip(&a, as4);
	}
}

static void
fz_message(uint8_t type, struct cur body)
{
	struct bgp_open o;
	struct bgp_err e;
	uint16_t afi;
	uint8_t sub, safi, out[BGP_MAX_LEN];

	switch (type) {
	case BGP_OPEN:
		if (bgp_open_parse(body, &o, &e) == 0 && bgp_open_build(out, sizeof(out), &o) == 0)
			abort();
		break;
	case BGP_UPDATE:
		fz_update(body);
		break;
	case BGP_NOTIFICATION:
		if (bgp_notification_parse(body, &e) == 0 &&
		    bgp_notification_build(out, sizeof(out), &e) == 0)
			abort();
		break;
	case BGP_ROUTE_REFRESH:
		(void)bgp_refresh_parse(body, &afi, &sub, &safi, &e);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cur c = cur_make(data, size);

	while (cur_left(&c) > 0) {
		struct bgp_err e;
		uint16_t len;
		uint8_t type;
		struct cur msg;

		if (bgp_hdr_check(cur_rest(&c), cur_left(&c), &type, &len, &e) != 1)
			break;
		msg = cur_take(&c, len);
		if (!cur_ok(&msg))
			break;
		cur_skip(&msg, BGP_HDR_LEN);
		fz_message(type, msg);
	}
	return 0;
}
