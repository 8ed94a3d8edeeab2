/*
 * Unit tests of src/bgp/bgp_msg.c: each message both ways against hand-written bytes laid
 * out as in RFC 4271 4, 5492, 6793, 4724, 2918/7313, and the exact NOTIFICATION of each
 * header and OPEN error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bgp.h"

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static struct cur
body(const uint8_t *msg, size_t n)
{
	return cur_make(msg + BGP_HDR_LEN, n - BGP_HDR_LEN);
}

static void
assert_err(const struct bgp_err *e, uint8_t code, uint8_t sub, const void *data, size_t len)
{
	assert_int_equal(e->code, code);
	assert_int_equal(e->subcode, sub);
	assert_int_equal(e->datalen, len);
	if (len > 0)
		assert_memory_equal(e->data, data, len);
}

static void
t_hdr_ok(void **state)
{
	const uint8_t ka[] = {MARKER, 0x00, 0x13, 0x04};
	struct bgp_err e;
	uint16_t len;
	uint8_t type;

	(void)state;
	assert_int_equal(bgp_hdr_check(ka, 18, &type, &len, &e), 0);
	assert_int_equal(bgp_hdr_check(ka, sizeof(ka), &type, &len, &e), 1);
	assert_int_equal(type, BGP_KEEPALIVE);
	assert_int_equal(len, 19);
}

static void
t_hdr_errors(void **state)
{
	uint8_t m[BGP_HDR_LEN] = {MARKER, 0x00, 0x13, 0x04};
	struct bgp_err e;
	uint16_t len;
	uint8_t type;

	(void)state;
	m[3] = 0xfe;
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 1, NULL, 0);
	m[3] = 0xff;
	m[16] = 0x10; /* 4097 */
	m[17] = 0x01;
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x10\x01", 2);
	m[16] = 0;
	m[17] = 0x12; /* 18 */
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x00\x12", 2);
	m[17] = 0x14; /* a KEEPALIVE of 20 */
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x00\x14", 2);
	m[18] = BGP_OPEN; /* an OPEN of 20 < 29 */
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x00\x14", 2);
	m[18] = BGP_UPDATE; /* 20 < 23 */
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x00\x14", 2);
	m[18] = BGP_NOTIFICATION; /* 20 < 21 */
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 2, "\x00\x14", 2);
	m[18] = 6;
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 3, "\x06", 1);
	m[18] = 0;
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), -1);
	assert_err(&e, 1, 3, "\x00", 1);
}

/* AS 65001, hold 90, id 10.0.0.1; MP IPv4 unicast, RR, ERR, AS4 65001, GR 120s helper. */
static const uint8_t open_full[] = {
	MARKER, 0x00, 0x33, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
	0x16, 0x02, 0x14,
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x02, 0x00,
	0x46, 0x00,
	0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	0x40, 0x02, 0x00, 0x78,
};

static void
t_open_build(void **state)
{
	struct bgp_open o = {0};
	uint8_t buf[128];
	size_t n;

	(void)state;
	o.asn = 65001;
	o.hold = 90;
	o.bgp_id = 0x0a000001;
	o.gr = 1;
	o.gr_time = 120;
	n = bgp_open_build(buf, sizeof(buf), &o);
	assert_int_equal(n, sizeof(open_full));
	assert_memory_equal(buf, open_full, n);
	assert_int_equal(bgp_open_build(buf, n - 1, &o), 0);
	/* Without GR the parameter is 4 octets shorter. */
	o.gr = 0;
	assert_int_equal(bgp_open_build(buf, sizeof(buf), &o), sizeof(open_full) - 4);
	assert_int_equal(buf[28], 0x12);
}

static void
t_open_build_as4(void **state)
{
	struct bgp_open o = {0}, p;
	struct bgp_err e;
	uint8_t buf[128];
	size_t n;

	(void)state;
	o.asn = 4200000000u;
	o.hold = 180;
	o.bgp_id = 0xc0000201;
	n = bgp_open_build(buf, sizeof(buf), &o);
	assert_int_equal(buf[20], 0x5b); /* AS_TRANS 23456 */
	assert_int_equal(buf[21], 0xa0);
	assert_int_equal(bgp_open_parse(body(buf, n), &p, &e), 0);
	assert_int_equal(p.my_as, BGP_AS_TRANS);
	assert_int_equal(p.asn, 4200000000u);
	assert_true(p.as4 && p.mp_ipv4u && p.rr && p.err);
	assert_false(p.gr);
}

static void
t_open_parse(void **state)
{
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_open_parse(body(open_full, sizeof(open_full)), &o, &e), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, 65001);
	assert_int_equal(o.asn, 65001);
	assert_int_equal(o.hold, 90);
	assert_int_equal(o.bgp_id, 0x0a000001);
	assert_true(o.as4 && o.mp_ipv4u && o.rr && o.err && o.gr);
	assert_int_equal(o.gr_time, 120);
	assert_false(o.gr_restarting);
	assert_false(o.gr_ipv4u);
}

/* No optional parameters at all: a plain RFC 4271 speaker. */
static void
t_open_parse_bare(void **state)
{
	const uint8_t m[] = {MARKER, 0x00, 0x1d, 0x01,
		0x04, 0x00, 0x64, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00};
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_open_parse(body(m, sizeof(m)), &o, &e), 0);
	assert_int_equal(o.asn, 100);
	assert_int_equal(o.hold, 0);
	assert_false(o.as4 || o.mp_ipv4u || o.rr || o.err || o.gr);
}

/*
 * Several parameters, several capabilities in one, unknown ones ignored, the old route
 * refresh code, GR restarting with IPv4 unicast forwarding preserved and IPv6 listed.
 */
static void
t_open_parse_caps(void **state)
{
	const uint8_t b[] = {
		0x04, 0x5b, 0xa0, 0x00, 0xb4, 0xc0, 0x00, 0x02, 0x01, 0x26,
		0x02, 0x06, 0x01, 0x04, 0x00, 0x02, 0x00, 0x01,      /* MP IPv6: not ours */
		0x02, 0x08, 0x80, 0x00, 0x49, 0x04, 'h', 'o', 's', 't', /* old RR, FQDN */
		0x02, 0x12, 0x41, 0x04, 0x00, 0x01, 0x00, 0x00,      /* AS4 65536 */
		0x40, 0x0a, 0x80, 0x3c, 0x00, 0x01, 0x01, 0x80, 0x00, 0x02, 0x01, 0x00,
	};
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_open_parse(cur_make(b, sizeof(b)), &o, &e), 0);
	assert_int_equal(o.asn, 65536);
	assert_true(o.as4 && o.rr && o.gr && o.gr_restarting && o.gr_ipv4u && o.gr_ipv4u_fwd);
	assert_false(o.mp_ipv4u || o.err);
	assert_int_equal(o.gr_time, 60);
}

/* RFC 9072: non-extended length 255, type 255, then a 2-octet length and 2-octet lengths. */
static void
t_open_parse_extended(void **state)
{
	const uint8_t b[] = {
		0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
		0xff, 0xff, 0x00, 0x09, 0x02, 0x00, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	};
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_open_parse(cur_make(b, sizeof(b)), &o, &e), 0);
	assert_true(o.as4);
	assert_int_equal(o.asn, 65001);
}

static void
open_expect(const uint8_t *b, size_t n, uint8_t sub, const void *data, size_t dlen)
{
	struct bgp_open o;
	struct bgp_err e;

	assert_int_equal(bgp_open_parse(cur_make(b, n), &o, &e), -1);
	assert_err(&e, BGP_ERR_OPEN, sub, data, dlen);
}

static void
t_open_errors(void **state)
{
	uint8_t b[] = {0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01,
		0x08, 0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9};
	uint8_t c[sizeof(b)];

	(void)state;
	memcpy(c, b, sizeof(b));
	c[0] = 3;
	open_expect(c, sizeof(c), BGP_OPEN_VERSION, "\x00\x04", 2);
	memcpy(c, b, sizeof(b));
	c[1] = c[2] = 0;
	open_expect(c, sizeof(c), BGP_OPEN_PEER_AS, NULL, 0);
	memcpy(c, b, sizeof(b));
	c[14] = c[15] = c[16] = c[17] = 0; /* AS4 capability with AS 0 */
	open_expect(c, sizeof(c), BGP_OPEN_PEER_AS, NULL, 0);
	for (uint8_t h = 1; h <= 2; h++) {
		memcpy(c, b, sizeof(b));
		c[3] = 0;
		c[4] = h;
		open_expect(c, sizeof(c), BGP_OPEN_HOLD, NULL, 0);
	}
	memcpy(c, b, sizeof(b));
	c[5] = c[6] = c[7] = c[8] = 0;
	open_expect(c, sizeof(c), BGP_OPEN_BGP_ID, NULL, 0);
	memcpy(c, b, sizeof(b));
	c[10] = 1; /* authentication parameter: long gone */
	open_expect(c, sizeof(c), BGP_OPEN_OPTPARAM, NULL, 0);
	memcpy(c, b, sizeof(b));
	c[9] = 9; /* parameters run past the message */
	open_expect(c, sizeof(c), 0, NULL, 0);
	memcpy(c, b, sizeof(b));
	c[13] = 3; /* AS4 capability of 3 octets */
	c[11] = 5;
	c[9] = 7;
	open_expect(c, sizeof(c) - 1, 0, NULL, 0);
	memcpy(c, b, sizeof(b));
	c[13] = 5; /* capability runs past its parameter */
	open_expect(c, sizeof(c), 0, NULL, 0);
}

static void
t_keepalive(void **state)
{
	const uint8_t want[] = {MARKER, 0x00, 0x13, 0x04};
	uint8_t buf[32];

	(void)state;
	assert_int_equal(bgp_keepalive_build(buf, sizeof(buf)), 19);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(bgp_keepalive_build(buf, 18), 0);
}

static void
t_notification(void **state)
{
	const uint8_t want[] = {MARKER, 0x00, 0x17, 0x03, 0x02, 0x01, 0x00, 0x04};
	struct bgp_err e, f;
	uint8_t buf[128];
	size_t n;

	(void)state;
	bgp_err_set(&e, BGP_ERR_OPEN, BGP_OPEN_VERSION, "\x00\x04", 2);
	n = bgp_notification_build(buf, sizeof(buf), &e);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, n);
	assert_int_equal(bgp_notification_parse(body(want, sizeof(want)), &f), 0);
	assert_err(&f, 2, 1, "\x00\x04", 2);
	assert_int_equal(bgp_notification_parse(cur_make(want + 19, 1), &f), -1);
	assert_int_equal(bgp_notification_parse(cur_make(want + 19, 2), &f), 0);
	assert_err(&f, 2, 1, NULL, 0);
	assert_int_equal(bgp_notification_build(buf, n - 1, &e), 0);
}

static void
t_notification_long(void **state)
{
	uint8_t m[BGP_HDR_LEN + 2 + 100];
	struct bgp_err e;

	(void)state;
	memset(m, 0xab, sizeof(m));
	m[19] = 6;
	m[20] = 2;
	assert_int_equal(bgp_notification_parse(body(m, sizeof(m)), &e), 0);
	assert_int_equal(e.datalen, sizeof(e.data)); /* truncated, not overrun */
	assert_string_equal(bgp_err_str(6, 2), "cease: administrative shutdown");
	assert_string_equal(bgp_err_str(6, 99), "cease");
	assert_string_equal(bgp_err_str(99, 1), "unknown error");
	assert_string_equal(bgp_err_str(4, 0), "hold timer expired");
}

static void
t_refresh(void **state)
{
	const uint8_t want[] = {MARKER, 0x00, 0x17, 0x05, 0x00, 0x01, 0x01, 0x01};
	uint16_t afi;
	uint8_t buf[32], sub, safi;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_refresh_build(buf, sizeof(buf), 1, 1, 1), 23);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(bgp_refresh_parse(body(want, sizeof(want)), &afi, &sub, &safi, &e), 0);
	assert_int_equal(afi, 1);
	assert_int_equal(sub, 1);
	assert_int_equal(safi, 1);
	assert_int_equal(bgp_refresh_build(buf, 22, 1, 0, 1), 0);
}

static void
t_refresh_bad_length(void **state)
{
	const uint8_t m[] = {MARKER, 0x00, 0x18, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00};
	uint16_t afi, len;
	uint8_t sub, safi, type;
	struct bgp_err e;

	(void)state;
	assert_int_equal(bgp_hdr_check(m, sizeof(m), &type, &len, &e), 1);
	assert_int_equal(bgp_refresh_parse(body(m, sizeof(m)), &afi, &sub, &safi, &e), -1);
	assert_err(&e, BGP_ERR_RREFRESH, 1, m, sizeof(m)); /* RFC 7313 5: the whole message */
}

static void
t_eor(void **state)
{
	const uint8_t want[] = {MARKER, 0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00};
	uint8_t buf[32];

	(void)state;
	assert_int_equal(bgp_eor_build(buf, sizeof(buf)), 23);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(bgp_eor_build(buf, 22), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_hdr_ok),
		cmocka_unit_test(t_hdr_errors),
		cmocka_unit_test(t_open_build),
		cmocka_unit_test(t_open_build_as4),
		cmocka_unit_test(t_open_parse),
		cmocka_unit_test(t_open_parse_bare),
		cmocka_unit_test(t_open_parse_caps),
		cmocka_unit_test(t_open_parse_extended),
		cmocka_unit_test(t_open_errors),
		cmocka_unit_test(t_keepalive),
		cmocka_unit_test(t_notification),
		cmocka_unit_test(t_notification_long),
		cmocka_unit_test(t_refresh),
		cmocka_unit_test(t_refresh_bad_length),
		cmocka_unit_test(t_eor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
