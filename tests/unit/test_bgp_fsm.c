/*
 * Unit tests of src/bgp/bgp_fsm.c on virtual time: the passive session from OPEN to
 * Established, every NOTIFICATION it sends (compared byte for byte), timers, UPDATE
 * delivery, callbacks that stop the session, fragmented input and reuse of the object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bgp_fsm.h"

#define LOCAL_ID 0x0a000001u
#define PEER_ID 0x0a000002u
#define MAXSENT 64

/* What the session did, through its callbacks. */
struct harness {
	struct bgp_sess *s;
	struct bgp_sess_cfg cfg;
	uint8_t sent[MAXSENT][128];
	size_t sentlen[MAXSENT];
	int nsent;
	int closes, downs, established, eors, routes;
	int down_null, down_sent;
	struct bgp_err down_err;
	int stop_after_routes;  /* > 0: the route callback stops the session at that count */
	int stop_on_established;
	int send_fail;
	char log[4096];
};

static struct harness H;

static void h_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
h_log(const char *fmt, ...)
{
	size_t n = strlen(H.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(H.log + n, sizeof(H.log) - n, fmt, ap);
	va_end(ap);
}

static int
h_send(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	if (H.send_fail)
		return -1;
	assert_true(H.nsent < MAXSENT);
	memcpy(H.sent[H.nsent], buf, len < 128 ? len : 128);
	H.sentlen[H.nsent++] = len;
	h_log("tx%d ", buf[18]);
	return 0;
}

static void
h_close(void *arg)
{
	(void)arg;
	H.closes++;
	h_log("close ");
}

static void
h_established(void *arg)
{
	(void)arg;
	H.established++;
	h_log("up ");
	if (H.stop_on_established)
		bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 0);
}

static void
h_down(void *arg, const struct bgp_err *e, int sent)
{
	(void)arg;
	H.downs++;
	H.down_null = e == NULL;
	H.down_sent = sent;
	if (e) {
		H.down_err = *e;
		h_log("down%d/%d/%d ", e->code, e->subcode, sent);
	} else {
		h_log("down ");
	}
}

static void
h_route(void *arg, const struct bgp_prefix *p, const struct bgp_attrs *a)
{
	(void)arg;
	H.routes++;
	if (a)
		h_log("+%08x/%d@%08x ", p->addr, p->len, a->nexthop);
	else
		h_log("-%08x/%d ", p->addr, p->len);
	if (H.stop_after_routes && H.routes == H.stop_after_routes)
		bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_MAXPFX, 0);
}

static void
h_eor(void *arg)
{
	(void)arg;
	H.eors++;
	h_log("eor ");
}

static void
h_refresh(void *arg, uint8_t subtype)
{
	(void)arg;
	h_log("refresh%d ", subtype);
}

static const struct bgp_sess_ops h_ops = {
	h_send, h_close, h_established, h_down, h_route, h_eor, h_refresh,
};

static void
h_new(void)
{
	if (H.s)
		bgp_sess_free(H.s);
	memset(&H, 0, sizeof(H));
	H.cfg.local_as = 65000;
	H.cfg.local_id = LOCAL_ID;
	H.cfg.peer_as = 65001;
	H.cfg.hold = 90;
	H.cfg.min_hold = 3;
}

static void
h_make(void)
{
	H.s = bgp_sess_new(&H.cfg, &h_ops, NULL);
	assert_non_null(H.s);
}

static int
h_teardown(void **state)
{
	(void)state;
	bgp_sess_free(H.s);
	H.s = NULL;
	return 0;
}

/* --- hand-built messages --- */

/* A whole message: marker, length, type, body. */
static size_t
msg(uint8_t *buf, uint8_t type, const uint8_t *body, size_t blen)
{
	memset(buf, 0xff, 16);
	buf[16] = (uint8_t)((BGP_HDR_LEN + blen) >> 8);
	buf[17] = (uint8_t)(BGP_HDR_LEN + blen);
	buf[18] = type;
	if (blen)
		memcpy(buf + BGP_HDR_LEN, body, blen);
	return BGP_HDR_LEN + blen;
}

/* The peer's OPEN: 4-octet AS capability (when asn4), MP IPv4 unicast, route refresh. */
static size_t
open_msg(uint8_t *buf, uint8_t version, uint16_t my_as, uint16_t hold, uint32_t id,
    uint32_t asn4)
{
	uint8_t b[64];
	struct wbuf w = wbuf_make(b, sizeof(b));
	size_t plen = asn4 ? 14 : 8;

	wbuf_u8(&w, version);
	wbuf_u16(&w, my_as);
	wbuf_u16(&w, hold);
	wbuf_u32(&w, id);
	wbuf_u8(&w, (uint8_t)(plen + 2));
	wbuf_u8(&w, 2); /* capabilities */
	wbuf_u8(&w, (uint8_t)plen);
	wbuf_bytes(&w, "\x01\x04\x00\x01\x00\x01\x02\x00", 8);
	if (asn4) {
		wbuf_bytes(&w, "\x41\x04", 2);
		wbuf_u32(&w, asn4);
	}
	return msg(buf, BGP_OPEN, b, w.len);
}

static size_t
peer_open(uint8_t *buf, uint16_t hold)
{
	return open_msg(buf, 4, 65001, hold, PEER_ID, 65001);
}

static size_t
keepalive(uint8_t *buf)
{
	return msg(buf, BGP_KEEPALIVE, NULL, 0);
}

/* An UPDATE from its three parts. */
static size_t
update(uint8_t *buf, const void *wd, size_t wlen, const void *attrs, size_t alen,
    const void *nlri, size_t nlen)
{
	uint8_t b[1024];
	struct wbuf w = wbuf_make(b, sizeof(b));

	wbuf_u16(&w, (uint16_t)wlen);
	wbuf_bytes(&w, wd, wlen);
	wbuf_u16(&w, (uint16_t)alen);
	wbuf_bytes(&w, attrs, alen);
	wbuf_bytes(&w, nlri, nlen);
	return msg(buf, BGP_UPDATE, b, w.len);
}

/* ORIGIN IGP, AS_PATH (65001) in 4-octet form, NEXT_HOP 192.0.2.1. */
static const uint8_t attrs_basic[] = {
	0x40, 1, 1, 0,
	0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
	0x40, 3, 4, 192, 0, 2, 1,
};

static void
feed(const uint8_t *buf, size_t len, int expect)
{
	assert_int_equal(bgp_sess_input(H.s, buf, len, 0), expect);
}

static void
feed_at(const uint8_t *buf, size_t len, uint64_t now)
{
	bgp_sess_input(H.s, buf, len, now);
}

/* Starts at t and brings the session to Established with the peer proposing hold. */
static void
establish(uint64_t t, uint16_t hold)
{
	uint8_t buf[128];

	h_make();
	bgp_sess_start(H.s, t);
	feed_at(buf, peer_open(buf, hold), t);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENCONFIRM);
	feed_at(buf, keepalive(buf), t);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
}

/* The last message sent is exactly NOTIFICATION code/subcode with data. */
static void
assert_notification(uint8_t code, uint8_t subcode, const void *data, size_t dlen)
{
	uint8_t want[128], body[66];

	body[0] = code;
	body[1] = subcode;
	if (dlen)
		memcpy(body + 2, data, dlen);
	msg(want, BGP_NOTIFICATION, body, 2 + dlen);
	assert_true(H.nsent > 0);
	assert_int_equal(H.sentlen[H.nsent - 1], BGP_HDR_LEN + 2 + dlen);
	assert_memory_equal(H.sent[H.nsent - 1], want, BGP_HDR_LEN + 2 + dlen);
}

/* The session ended with NOTIFICATION code/subcode sent, the transport closed. */
static void
assert_ended_sent(uint8_t code, uint8_t subcode)
{
	const struct bgp_sess_stats *st = bgp_sess_stats(H.s);
	uint8_t ka[32];

	assert_int_equal(bgp_sess_state(H.s), BGP_S_IDLE);
	assert_int_equal(H.closes, 1);
	assert_int_equal(H.downs, 1);
	assert_false(H.down_null);
	assert_int_equal(H.down_sent, 1);
	assert_int_equal(H.down_err.code, code);
	assert_int_equal(H.down_err.subcode, subcode);
	assert_true(st->has_last_err && st->last_err_sent);
	assert_int_equal(st->last_err.code, code);
	assert_int_equal(st->last_err.subcode, subcode);
	assert_true(bgp_sess_deadline(H.s) == UINT64_MAX);
	/* Nothing more is taken or sent on this connection. */
	assert_int_equal(bgp_sess_input(H.s, ka, keepalive(ka), 0), -1);
	assert_int_equal(bgp_sess_send(H.s, ka, keepalive(ka), 0), -1);
}

/* --- the happy path and the OPEN --- */

static void
test_happy_path(void **state)
{
	const uint8_t want_ka[BGP_HDR_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4,
	};
	const struct bgp_sess_stats *st;
	uint8_t buf[128];
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	h_new();
	h_make();
	assert_int_equal(bgp_sess_state(H.s), BGP_S_IDLE);
	assert_true(bgp_sess_deadline(H.s) == UINT64_MAX);
	bgp_sess_start(H.s, 1000);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENSENT);
	assert_true(bgp_sess_deadline(H.s) == 1000 + 240000);
	assert_int_equal(H.nsent, 1);
	assert_int_equal(H.sent[0][18], BGP_OPEN);
	assert_int_equal(bgp_open_parse(cur_make(H.sent[0] + BGP_HDR_LEN,
	    H.sentlen[0] - BGP_HDR_LEN), &o, &e), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as, 65000);
	assert_int_equal(o.asn, 65000);
	assert_int_equal(o.hold, 90);
	assert_int_equal(o.bgp_id, LOCAL_ID);
	assert_true(o.as4 && o.mp_ipv4u && o.rr && o.err);
	assert_false(o.gr);

	feed_at(buf, peer_open(buf, 180), 2000);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENCONFIRM);
	assert_int_equal(H.nsent, 2);
	assert_int_equal(H.sentlen[1], BGP_HDR_LEN);
	assert_memory_equal(H.sent[1], want_ka, BGP_HDR_LEN);
	assert_int_equal(bgp_sess_hold(H.s), 90);
	assert_true(bgp_sess_as4(H.s));
	assert_int_equal(bgp_sess_peer_open(H.s)->asn, 65001);
	assert_int_equal(bgp_sess_peer_open(H.s)->bgp_id, PEER_ID);
	assert_true(bgp_sess_deadline(H.s) == 2000 + 30000);

	feed_at(buf, keepalive(buf), 3000);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	assert_int_equal(H.established, 1);
	assert_int_equal(H.nsent, 2); /* the owner sends the routes, not the session */
	st = bgp_sess_stats(H.s);
	assert_true(st->msgs_in == 2 && st->msgs_out == 2);
	assert_true(st->established_at == 3000);
	assert_false(st->has_last_err);
	assert_string_equal(H.log, "tx1 tx4 up ");
	assert_string_equal(bgp_state_str(BGP_S_ESTABLISHED), "Established");
	assert_string_equal(bgp_state_str(BGP_S_OPENSENT), "OpenSent");
}

static void
test_open_advertises(void **state)
{
	struct bgp_open o;
	struct bgp_err e;

	(void)state;
	h_new();
	H.cfg.local_as = 4200000000u;
	H.cfg.gr_time = 120;
	h_make();
	bgp_sess_start(H.s, 0);
	assert_int_equal(bgp_open_parse(cur_make(H.sent[0] + BGP_HDR_LEN,
	    H.sentlen[0] - BGP_HDR_LEN), &o, &e), 0);
	assert_int_equal(o.my_as, BGP_AS_TRANS);
	assert_int_equal(o.asn, 4200000000u);
	assert_true(o.gr);
	assert_int_equal(o.gr_time, 120);
}

/* A 4-octet peer AS arrives as AS_TRANS plus the capability; peer_as 0 takes any AS. */
static void
test_open_peer_as(void **state)
{
	uint8_t buf[128];

	(void)state;
	h_new();
	H.cfg.peer_as = 4200000001u;
	h_make();
	bgp_sess_start(H.s, 0);
	feed(buf, open_msg(buf, 4, BGP_AS_TRANS, 90, PEER_ID, 4200000001u), 0);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENCONFIRM);
	h_teardown(NULL);

	h_new();
	H.cfg.peer_as = 0;
	h_make();
	bgp_sess_start(H.s, 0);
	feed(buf, open_msg(buf, 4, 64512, 90, PEER_ID, 0), 0);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENCONFIRM);
	assert_false(bgp_sess_as4(H.s));
	assert_int_equal(bgp_sess_peer_open(H.s)->asn, 64512);
}

static void
test_open_errors(void **state)
{
	static const struct {
		uint8_t version;
		uint16_t my_as, hold;
		uint32_t id, asn4;
		uint8_t subcode;
		size_t dlen;
		uint8_t data[2];
	} cases[] = {
		{4, 65099, 90, PEER_ID, 65099, BGP_OPEN_PEER_AS, 0, {0}},   /* not the peer's AS */
		{4, 0, 90, PEER_ID, 0, BGP_OPEN_PEER_AS, 0, {0}},           /* AS 0 */
		{4, 65001, 90, LOCAL_ID, 65001, BGP_OPEN_BGP_ID, 0, {0}},   /* our own identifier */
		{4, 65001, 90, 0, 65001, BGP_OPEN_BGP_ID, 0, {0}},          /* identifier 0 */
		{3, 65001, 90, PEER_ID, 65001, BGP_OPEN_VERSION, 2, {0, 4}}, /* version 3 */
		{5, 65001, 90, PEER_ID, 65001, BGP_OPEN_VERSION, 2, {0, 4}}, /* version 5 */
		{4, 65001, 1, PEER_ID, 65001, BGP_OPEN_HOLD, 0, {0}},       /* hold 1 */
		{4, 65001, 2, PEER_ID, 65001, BGP_OPEN_HOLD, 0, {0}},       /* hold 2 */
		{4, 65001, 9, PEER_ID, 65001, BGP_OPEN_HOLD, 0, {0}},       /* under min_hold */
	};
	uint8_t buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h_new();
		H.cfg.min_hold = 10;
		h_make();
		bgp_sess_start(H.s, 0);
		feed(buf, open_msg(buf, cases[i].version, cases[i].my_as, cases[i].hold,
		    cases[i].id, cases[i].asn4), -1);
		assert_int_equal(H.nsent, 2);
		assert_notification(BGP_ERR_OPEN, cases[i].subcode, cases[i].data, cases[i].dlen);
		assert_ended_sent(BGP_ERR_OPEN, cases[i].subcode);
		assert_int_equal(bgp_sess_stats(H.s)->flaps, 0);
		h_teardown(NULL);
	}
}

static void
test_hold_negotiation(void **state)
{
	static const struct {
		uint16_t ours, min, theirs, want;
	} cases[] = {
		{90, 3, 0, 0}, {90, 3, 3, 3}, {0, 3, 90, 0}, {90, 10, 0, 0}, {90, 3, 30, 30},
		{30, 3, 90, 30},
	};
	uint8_t buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h_new();
		H.cfg.hold = cases[i].ours;
		H.cfg.min_hold = cases[i].min;
		establish(0, cases[i].theirs);
		assert_int_equal(bgp_sess_hold(H.s), cases[i].want);
		if (cases[i].want == 0) {
			/* No keepalives and no hold timer, ever. */
			assert_true(bgp_sess_deadline(H.s) == UINT64_MAX);
			bgp_sess_txq(H.s, 100, 0);
			assert_true(bgp_sess_deadline(H.s) == UINT64_MAX);
			bgp_sess_tick(H.s, 36000000);
			assert_int_equal(H.nsent, 2);
			assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
		} else {
			assert_true(bgp_sess_deadline(H.s) == cases[i].want * 1000u / 3);
		}
		feed(buf, keepalive(buf), 0);
		h_teardown(NULL);
	}
}

/* --- timers --- */

static void
test_keepalive_timing(void **state)
{
	uint8_t buf[128];

	(void)state;
	h_new();
	h_make();
	bgp_sess_start(H.s, 0);
	feed_at(buf, peer_open(buf, 90), 1000);
	/* OpenConfirm sends keepalives too. */
	bgp_sess_tick(H.s, 30999);
	assert_int_equal(H.nsent, 2);
	bgp_sess_tick(H.s, 31000);
	assert_int_equal(H.nsent, 3);
	assert_int_equal(H.sent[2][18], BGP_KEEPALIVE);
	feed_at(buf, keepalive(buf), 40000);
	assert_true(bgp_sess_deadline(H.s) == 61000);
	bgp_sess_tick(H.s, 61000);
	assert_int_equal(H.nsent, 4);
	/* An UPDATE sent stands for a keepalive: the next one is a full interval later. */
	assert_int_equal(bgp_sess_send(H.s, buf, update(buf, NULL, 0, NULL, 0, NULL, 0), 70000), 0);
	assert_int_equal(H.nsent, 5);
	assert_int_equal(bgp_sess_stats(H.s)->updates_out, 1);
	assert_true(bgp_sess_deadline(H.s) == 100000);
	bgp_sess_tick(H.s, 91000);
	assert_int_equal(H.nsent, 5);
	bgp_sess_tick(H.s, 100000);
	assert_int_equal(H.nsent, 6);
	assert_int_equal(H.sent[5][18], BGP_KEEPALIVE);
}

static void
test_hold_expiry(void **state)
{
	uint8_t buf[128];

	(void)state;
	h_new();
	establish(0, 90);
	bgp_sess_tick(H.s, 89999);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	/* Any message received restarts the hold timer. */
	feed_at(buf, keepalive(buf), 50000);
	feed_at(buf, update(buf, NULL, 0, NULL, 0, NULL, 0), 60000);
	bgp_sess_tick(H.s, 149999);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	bgp_sess_tick(H.s, 150000);
	assert_notification(BGP_ERR_HOLD, 0, NULL, 0);
	assert_ended_sent(BGP_ERR_HOLD, 0);
	assert_int_equal(bgp_sess_stats(H.s)->flaps, 1);
}

static void
test_opensent_hold(void **state)
{
	(void)state;
	h_new();
	h_make();
	bgp_sess_start(H.s, 5);
	bgp_sess_tick(H.s, 240004);
	assert_int_equal(H.nsent, 1);
	bgp_sess_tick(H.s, 240005);
	assert_notification(BGP_ERR_HOLD, 0, NULL, 0);
	assert_ended_sent(BGP_ERR_HOLD, 0);
	assert_int_equal(bgp_sess_stats(H.s)->flaps, 0);
}

static void
test_send_hold(void **state)
{
	uint8_t buf[128];

	(void)state;
	h_new();
	H.cfg.send_hold_ms = 5000;
	establish(0, 90);
	bgp_sess_txq(H.s, 100, 1000);
	assert_true(bgp_sess_deadline(H.s) == 6000);
	bgp_sess_txq(H.s, 50, 3000); /* still not empty: the timer goes on */
	assert_true(bgp_sess_deadline(H.s) == 6000);
	bgp_sess_txq(H.s, 0, 4000);
	assert_true(bgp_sess_deadline(H.s) == 30000);
	bgp_sess_txq(H.s, 10, 5000);
	bgp_sess_tick(H.s, 9999);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	bgp_sess_tick(H.s, 10000);
	assert_notification(BGP_ERR_SEND_HOLD, 0, NULL, 0);
	assert_ended_sent(BGP_ERR_SEND_HOLD, 0);
	h_teardown(NULL);

	/* Not before Established (RFC 9687 4.3): a queue from OpenConfirm counts from then. */
	h_new();
	H.cfg.send_hold_ms = 5000;
	h_make();
	bgp_sess_start(H.s, 0);
	feed_at(buf, peer_open(buf, 90), 0);
	bgp_sess_txq(H.s, 100, 0);
	assert_true(bgp_sess_deadline(H.s) == 30000);
	feed_at(buf, keepalive(buf), 2000);
	assert_true(bgp_sess_deadline(H.s) == 7000);
}

/* RFC 9687 6: by default the greater of 8 minutes and twice the hold time. */
static void
send_hold_default(uint16_t hold, uint64_t want)
{
	uint8_t buf[128];
	uint64_t t;

	h_new();
	H.cfg.hold = hold;
	establish(0, hold);
	bgp_sess_txq(H.s, 1, 0);
	for (t = 0; t < want; t += 1000) {
		if (t % 20000 == 0)
			feed_at(buf, keepalive(buf), t);
		bgp_sess_tick(H.s, t);
	}
	bgp_sess_tick(H.s, want - 1);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	bgp_sess_tick(H.s, want);
	assert_notification(BGP_ERR_SEND_HOLD, 0, NULL, 0);
	h_teardown(NULL);
}

static void
test_send_hold_default(void **state)
{
	(void)state;
	send_hold_default(90, 480000);
	send_hold_default(300, 600000);
}

/* --- messages a state does not take, NOTIFICATIONs, headers --- */

/* RFC 6608: what a state does not take is an FSM error with the state as subcode. */
static void
test_fsm_errors(void **state)
{
	static const struct {
		int steps;  /* 0 OpenSent, 1 OpenConfirm, 2 Established */
		uint8_t type;
	} cases[] = {
		{0, BGP_KEEPALIVE}, {0, BGP_UPDATE}, {0, BGP_ROUTE_REFRESH},
		{1, BGP_OPEN}, {1, BGP_UPDATE}, {1, BGP_ROUTE_REFRESH}, {2, BGP_OPEN},
	};
	const uint8_t body[] = {0, 1, 0, 1};
	uint8_t buf[128], sub;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h_new();
		h_make();
		bgp_sess_start(H.s, 0);
		if (cases[i].steps >= 1)
			feed(buf, peer_open(buf, 90), 0);
		if (cases[i].steps >= 2)
			feed(buf, keepalive(buf), 0);
		n = cases[i].type == BGP_OPEN ? peer_open(buf, 90) :
		    cases[i].type == BGP_UPDATE ? update(buf, NULL, 0, NULL, 0, NULL, 0) :
		    msg(buf, cases[i].type, body, cases[i].type == BGP_KEEPALIVE ? 0 : 4);
		feed(buf, n, -1);
		sub = (uint8_t)(BGP_FSM_OPENSENT + cases[i].steps);
		assert_notification(BGP_ERR_FSM, sub, NULL, 0);
		assert_ended_sent(BGP_ERR_FSM, sub);
		assert_int_equal(bgp_sess_stats(H.s)->flaps, cases[i].steps == 2);
		h_teardown(NULL);
	}
}

static void
test_notification_received(void **state)
{
	const uint8_t body[] = {BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 'b', 'y', 'e'};
	const struct bgp_sess_stats *st;
	uint8_t buf[128];
	int before;

	(void)state;
	for (int established = 0; established < 2; established++) {
		h_new();
		if (established) {
			establish(0, 90);
		} else {
			h_make();
			bgp_sess_start(H.s, 0);
		}
		before = H.nsent;
		feed(buf, msg(buf, BGP_NOTIFICATION, body, sizeof(body)), -1);
		assert_int_equal(H.nsent, before); /* no NOTIFICATION answers one */
		assert_int_equal(bgp_sess_state(H.s), BGP_S_IDLE);
		assert_int_equal(H.closes, 1);
		assert_int_equal(H.downs, 1);
		assert_int_equal(H.down_sent, 0);
		assert_int_equal(H.down_err.code, BGP_ERR_CEASE);
		assert_int_equal(H.down_err.subcode, BGP_CEASE_SHUTDOWN);
		st = bgp_sess_stats(H.s);
		assert_true(st->has_last_err && !st->last_err_sent);
		assert_int_equal(st->last_err.code, BGP_ERR_CEASE);
		assert_int_equal(st->flaps, established);
		h_teardown(NULL);
	}
}

/* RFC 4271 6.1, refused on the header alone (the rest of the message never comes). */
static void
test_header_errors(void **state)
{
	static const struct {
		uint8_t marker3, type, len, subcode;
		size_t dlen;
		uint8_t data[2];
	} cases[] = {
		{0x00, BGP_KEEPALIVE, 19, BGP_HDR_SYNC, 0, {0}},
		{0xff, BGP_KEEPALIVE, 20, BGP_HDR_LENGTH, 2, {0, 20}},
		{0xff, BGP_UPDATE, 22, BGP_HDR_LENGTH, 2, {0, 22}},
		{0xff, 9, 19, BGP_HDR_TYPE, 1, {9}},
	};
	uint8_t buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h_new();
		establish(0, 90);
		msg(buf, cases[i].type, NULL, 0);
		buf[3] = cases[i].marker3;
		buf[17] = cases[i].len;
		feed(buf, BGP_HDR_LEN, -1);
		assert_notification(BGP_ERR_HEADER, cases[i].subcode, cases[i].data, cases[i].dlen);
		assert_ended_sent(BGP_ERR_HEADER, cases[i].subcode);
		h_teardown(NULL);
	}
}

/* --- UPDATE --- */

static void
test_update_announce_withdraw(void **state)
{
	const uint8_t nlri[] = {8, 10, 24, 192, 168, 1};
	const uint8_t wd[] = {8, 10};
	const struct bgp_sess_stats *st;
	uint8_t buf[256];

	(void)state;
	h_new();
	establish(0, 90);
	H.log[0] = '\0';
	feed(buf, update(buf, NULL, 0, attrs_basic, sizeof(attrs_basic), nlri, sizeof(nlri)), 0);
	assert_string_equal(H.log, "+0a000000/8@c0000201 +c0a80100/24@c0000201 ");
	H.log[0] = '\0';
	/* Withdrawals come before announcements of the same UPDATE. */
	feed(buf, update(buf, wd, sizeof(wd), attrs_basic, sizeof(attrs_basic), nlri + 2, 4), 0);
	assert_string_equal(H.log, "-0a000000/8 +c0a80100/24@c0000201 ");
	H.log[0] = '\0';
	feed(buf, update(buf, wd, sizeof(wd), NULL, 0, NULL, 0), 0);
	assert_string_equal(H.log, "-0a000000/8 ");
	st = bgp_sess_stats(H.s);
	assert_true(st->updates_in == 3 && st->prefixes_in == 3 && st->withdraws_in == 2);
	assert_true(st->treat_as_withdraw == 0);
	assert_int_equal(H.eors, 0);
}

static void
test_update_mp(void **state)
{
	/* ORIGIN, AS_PATH, MP_REACH 1/1 next hop 198.51.100.1 with 172.16.0.0/12. */
	const uint8_t reach[] = {
		0x40, 1, 1, 0,
		0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
		0x80, 14, 12, 0, 1, 1, 4, 198, 51, 100, 1, 0, 12, 172, 16,
	};
	const uint8_t unreach[] = {0x80, 15, 6, 0, 1, 1, 12, 172, 16};
	const struct bgp_sess_stats *st;
	uint8_t buf[256];

	(void)state;
	h_new();
	establish(0, 90);
	H.log[0] = '\0';
	feed(buf, update(buf, NULL, 0, reach, sizeof(reach), NULL, 0), 0);
	assert_string_equal(H.log, "+ac100000/12@c6336401 ");
	H.log[0] = '\0';
	feed(buf, update(buf, NULL, 0, unreach, sizeof(unreach), NULL, 0), 0);
	assert_string_equal(H.log, "-ac100000/12 ");
	st = bgp_sess_stats(H.s);
	assert_true(st->prefixes_in == 1 && st->withdraws_in == 1);
}

static void
test_update_treat_as_withdraw(void **state)
{
	/* ORIGIN 7 is no origin (RFC 7606 7.1: treat-as-withdraw). */
	const uint8_t bad_origin[] = {
		0x40, 1, 1, 7,
		0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
		0x40, 3, 4, 192, 0, 2, 1,
	};
	const uint8_t mp_bad_origin[] = {
		0x40, 1, 1, 7,
		0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
		0x80, 15, 6, 0, 1, 1, 16, 192, 168,
		0x80, 14, 12, 0, 1, 1, 4, 198, 51, 100, 1, 0, 12, 172, 16,
	};
	const uint8_t nlri[] = {8, 10};
	const uint8_t wd[] = {16, 192, 168};
	uint8_t buf[256];

	(void)state;
	h_new();
	establish(0, 90);
	H.log[0] = '\0';
	feed(buf, update(buf, wd, sizeof(wd), bad_origin, sizeof(bad_origin), nlri,
	    sizeof(nlri)), 0);
	assert_string_equal(H.log, "-c0a80000/16 -0a000000/8 ");
	assert_int_equal(bgp_sess_stats(H.s)->treat_as_withdraw, 1);
	assert_int_equal(bgp_sess_stats(H.s)->withdraws_in, 2);
	/* NLRI without NEXT_HOP: a missing mandatory attribute (RFC 7606 3.d). */
	H.log[0] = '\0';
	feed(buf, update(buf, NULL, 0, attrs_basic, 13, nlri, sizeof(nlri)), 0);
	assert_string_equal(H.log, "-0a000000/8 ");
	assert_int_equal(bgp_sess_stats(H.s)->treat_as_withdraw, 2);
	/* MP_REACH and MP_UNREACH prefixes are withdrawn too, whatever field they came in. */
	H.log[0] = '\0';
	feed(buf, update(buf, NULL, 0, mp_bad_origin, sizeof(mp_bad_origin), NULL, 0), 0);
	assert_string_equal(H.log, "-c0a80000/16 -ac100000/12 ");
	assert_int_equal(bgp_sess_stats(H.s)->treat_as_withdraw, 3);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
}

static void
test_update_eor(void **state)
{
	const uint8_t unreach[] = {0x80, 15, 3, 0, 1, 1};
	uint8_t buf[128];

	(void)state;
	h_new();
	establish(0, 90);
	feed(buf, update(buf, NULL, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(H.eors, 1);
	feed(buf, update(buf, NULL, 0, unreach, sizeof(unreach), NULL, 0), 0);
	assert_int_equal(H.eors, 2);
	assert_int_equal(H.routes, 0);
}

/* RFC 7606 5.3: prefixes that cannot be told apart cannot be withdrawn: session reset. */
static void
test_update_bad_nlri(void **state)
{
	const uint8_t too_long[] = {33, 10, 0, 0, 0, 0};
	const uint8_t truncated[] = {8, 10, 24, 192};
	uint8_t buf[256];

	(void)state;
	h_new();
	establish(0, 90);
	feed(buf, update(buf, NULL, 0, attrs_basic, sizeof(attrs_basic), too_long,
	    sizeof(too_long)), -1);
	assert_notification(BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
	assert_ended_sent(BGP_ERR_UPDATE, BGP_UPD_NETWORK);
	assert_int_equal(H.routes, 0); /* nothing of it was delivered */
	h_teardown(NULL);

	h_new();
	establish(0, 90);
	feed(buf, update(buf, truncated, sizeof(truncated), NULL, 0, NULL, 0), -1);
	assert_notification(BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
	assert_int_equal(H.routes, 0);
	h_teardown(NULL);

	/* A withdrawn length past the message: 3/1 from the splitter. */
	h_new();
	establish(0, 90);
	feed(buf, msg(buf, BGP_UPDATE, (const uint8_t *)"\x00\x09\x00\x00", 4), -1);
	assert_int_equal(H.down_err.code, BGP_ERR_UPDATE);
	assert_int_equal(H.down_err.subcode, BGP_UPD_ATTR_LIST);
	assert_int_equal(H.closes, 1);
}

/* Max-prefix style: the owner stops the session from the route callback. */
static void
test_reentrant_stop(void **state)
{
	const uint8_t nlri[] = {8, 10, 8, 11, 8, 12};
	uint8_t buf[512];
	size_t n;

	(void)state;
	h_new();
	establish(0, 90);
	H.stop_after_routes = 2;
	H.log[0] = '\0';
	n = update(buf, NULL, 0, attrs_basic, sizeof(attrs_basic), nlri, sizeof(nlri));
	n += keepalive(buf + n);
	n += update(buf + n, NULL, 0, attrs_basic, sizeof(attrs_basic), nlri, 2);
	feed(buf, n, -1);
	assert_string_equal(H.log,
	    "+0a000000/8@c0000201 +0b000000/8@c0000201 tx3 close down6/1/1 ");
	assert_notification(BGP_ERR_CEASE, BGP_CEASE_MAXPFX, NULL, 0);
	assert_ended_sent(BGP_ERR_CEASE, BGP_CEASE_MAXPFX);
	assert_int_equal(bgp_sess_stats(H.s)->updates_in, 1);
	assert_int_equal(bgp_sess_stats(H.s)->msgs_in, 3);
	h_teardown(NULL);

	/* ... or from the established callback, with more input behind the KEEPALIVE. */
	h_new();
	H.stop_on_established = 1;
	h_make();
	bgp_sess_start(H.s, 0);
	n = peer_open(buf, 90);
	n += keepalive(buf + n);
	n += update(buf + n, NULL, 0, attrs_basic, sizeof(attrs_basic), nlri, 2);
	feed(buf, n, -1);
	assert_string_equal(H.log, "tx1 tx4 up tx3 close down6/2/1 ");
	assert_int_equal(H.routes, 0);
}

static void
test_refresh(void **state)
{
	static const uint8_t bodies[][4] = {
		{0, 1, 0, 1}, {0, 2, 0, 1}, {0, 1, 0, 2}, {0, 1, 1, 1}, {0, 1, 2, 1}, {0, 1, 7, 1},
	};
	uint8_t buf[128], want[128];
	size_t n;

	(void)state;
	h_new();
	establish(0, 90);
	H.log[0] = '\0';
	/* Only IPv4 unicast, only subtypes 0 to 2 (RFC 7313 5: others are ignored). */
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		feed(buf, msg(buf, BGP_ROUTE_REFRESH, bodies[i], 4), 0);
	assert_string_equal(H.log, "refresh0 refresh1 refresh2 ");
	/* RFC 7313 5: a wrong length is 7/1 with the whole message as data. */
	n = msg(want, BGP_ROUTE_REFRESH, (const uint8_t *)"\x00\x01\x00\x01\x00", 5);
	memcpy(buf, want, n);
	feed(buf, n, -1);
	assert_notification(BGP_ERR_RREFRESH, 1, want, n);
	assert_ended_sent(BGP_ERR_RREFRESH, 1);
}

/* --- the owner's side --- */

static void
test_stop_and_send(void **state)
{
	uint8_t buf[128];
	size_t n = update(buf, NULL, 0, NULL, 0, NULL, 0);

	(void)state;
	h_new();
	h_make();
	assert_int_equal(bgp_sess_send(H.s, buf, n, 0), -1);
	bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 0); /* Idle: nothing to stop */
	assert_int_equal(H.nsent, 0);
	bgp_sess_start(H.s, 0);
	assert_int_equal(bgp_sess_send(H.s, buf, n, 0), -1);
	feed(buf, peer_open(buf, 90), 0);
	n = update(buf, NULL, 0, NULL, 0, NULL, 0);
	assert_int_equal(bgp_sess_send(H.s, buf, n, 0), -1);
	feed(buf, keepalive(buf), 0);
	n = update(buf, NULL, 0, NULL, 0, NULL, 0);
	assert_int_equal(bgp_sess_send(H.s, buf, n, 0), 0);
	assert_int_equal(bgp_sess_send(H.s, buf, 5, 0), -1);
	bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 0);
	assert_notification(BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, NULL, 0);
	assert_ended_sent(BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN);
	bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 0);
	assert_int_equal(H.downs, 1);
}

/* A transport that refuses bytes ends the session as a failure, without a NOTIFICATION. */
static void
test_send_failure(void **state)
{
	(void)state;
	h_new();
	establish(0, 90);
	H.send_fail = 1;
	bgp_sess_tick(H.s, 30000);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_IDLE);
	assert_int_equal(H.downs, 1);
	assert_true(H.down_null);
	assert_int_equal(H.closes, 1);
	assert_int_equal(bgp_sess_stats(H.s)->flaps, 1);
}

/* The peer's whole conversation, for the fragmentation test (log: what it caused). */
static size_t
script(uint8_t *buf)
{
	const uint8_t nlri[] = {8, 10, 24, 192, 168, 1};
	const uint8_t reach[] = {
		0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
		0x80, 14, 12, 0, 1, 1, 4, 198, 51, 100, 1, 0, 12, 172, 16,
	};
	const uint8_t body[] = {BGP_ERR_CEASE, BGP_CEASE_RESET};
	size_t n = peer_open(buf, 90);

	n += keepalive(buf + n);
	n += update(buf + n, NULL, 0, attrs_basic, sizeof(attrs_basic), nlri, sizeof(nlri));
	n += update(buf + n, NULL, 0, reach, sizeof(reach), NULL, 0);
	n += update(buf + n, nlri, 2, NULL, 0, NULL, 0);
	n += update(buf + n, NULL, 0, NULL, 0, NULL, 0);
	n += msg(buf + n, BGP_ROUTE_REFRESH, (const uint8_t *)"\x00\x01\x00\x01", 4);
	n += keepalive(buf + n);
	n += msg(buf + n, BGP_NOTIFICATION, body, sizeof(body));
	return n;
}

static void
run_chunked(const uint8_t *buf, size_t n, size_t chunk, char *log)
{
	h_new();
	h_make();
	bgp_sess_start(H.s, 0);
	for (size_t off = 0; off < n; off += chunk) {
		int r = bgp_sess_input(H.s, buf + off, n - off < chunk ? n - off : chunk, 0);

		assert_int_equal(r, off + chunk >= n ? -1 : 0);
	}
	memcpy(log, H.log, sizeof(H.log));
	assert_int_equal(bgp_sess_stats(H.s)->msgs_in, 9);
	h_teardown(NULL);
}

static void
test_fragmented(void **state)
{
	static const size_t chunks[] = {1, 2, 7, 19, 20, 100};
	uint8_t buf[1024];
	char whole[sizeof(H.log)], part[sizeof(H.log)];
	size_t n = script(buf);

	(void)state;
	run_chunked(buf, n, n, whole);
	assert_string_equal(whole, "tx1 tx4 up +0a000000/8@c0000201 +c0a80100/24@c0000201 "
	    "+ac100000/12@c6336401 -0a000000/8 eor refresh0 close down6/4/0 ");
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run_chunked(buf, n, chunks[i], part);
		assert_string_equal(part, whole);
	}
}

/* A new connection reuses the object; counters keep counting. */
static void
test_reuse(void **state)
{
	const struct bgp_sess_stats *st;
	uint8_t buf[128];

	(void)state;
	h_new();
	establish(0, 90);
	bgp_sess_transport_down(H.s, 10);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_IDLE);
	assert_int_equal(H.downs, 1);
	assert_true(H.down_null);
	assert_int_equal(H.closes, 0); /* the transport is already gone */
	feed(buf, keepalive(buf), -1);
	bgp_sess_transport_down(H.s, 10);
	assert_int_equal(H.downs, 1);

	bgp_sess_start(H.s, 100);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_OPENSENT);
	assert_int_equal(H.nsent, 3);
	assert_int_equal(H.sent[2][18], BGP_OPEN);
	assert_true(bgp_sess_deadline(H.s) == 100 + 240000);
	feed_at(buf, peer_open(buf, 30), 200);
	assert_int_equal(bgp_sess_hold(H.s), 30);
	feed_at(buf, keepalive(buf), 300);
	assert_int_equal(bgp_sess_state(H.s), BGP_S_ESTABLISHED);
	assert_int_equal(H.established, 2);
	st = bgp_sess_stats(H.s);
	assert_true(st->msgs_in == 4 && st->msgs_out == 4);
	assert_true(st->established_at == 300);
	assert_int_equal(st->flaps, 1);

	/* Transport lost in OpenSent: down without error, no flap. */
	bgp_sess_start(H.s, 400); /* replaces the Established connection */
	assert_int_equal(H.downs, 2);
	assert_int_equal(bgp_sess_stats(H.s)->flaps, 2);
	bgp_sess_transport_down(H.s, 500);
	assert_int_equal(H.downs, 3);
	assert_true(H.down_null);
	assert_int_equal(bgp_sess_stats(H.s)->flaps, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_happy_path, h_teardown),
		cmocka_unit_test_teardown(test_open_advertises, h_teardown),
		cmocka_unit_test_teardown(test_open_peer_as, h_teardown),
		cmocka_unit_test_teardown(test_open_errors, h_teardown),
		cmocka_unit_test_teardown(test_hold_negotiation, h_teardown),
		cmocka_unit_test_teardown(test_keepalive_timing, h_teardown),
		cmocka_unit_test_teardown(test_hold_expiry, h_teardown),
		cmocka_unit_test_teardown(test_opensent_hold, h_teardown),
		cmocka_unit_test_teardown(test_send_hold, h_teardown),
		cmocka_unit_test_teardown(test_send_hold_default, h_teardown),
		cmocka_unit_test_teardown(test_fsm_errors, h_teardown),
		cmocka_unit_test_teardown(test_notification_received, h_teardown),
		cmocka_unit_test_teardown(test_header_errors, h_teardown),
		cmocka_unit_test_teardown(test_update_announce_withdraw, h_teardown),
		cmocka_unit_test_teardown(test_update_mp, h_teardown),
		cmocka_unit_test_teardown(test_update_treat_as_withdraw, h_teardown),
		cmocka_unit_test_teardown(test_update_eor, h_teardown),
		cmocka_unit_test_teardown(test_update_bad_nlri, h_teardown),
		cmocka_unit_test_teardown(test_reentrant_stop, h_teardown),
		cmocka_unit_test_teardown(test_refresh, h_teardown),
		cmocka_unit_test_teardown(test_stop_and_send, h_teardown),
		cmocka_unit_test_teardown(test_send_failure, h_teardown),
		cmocka_unit_test_teardown(test_fragmented, h_teardown),
		cmocka_unit_test_teardown(test_reuse, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
