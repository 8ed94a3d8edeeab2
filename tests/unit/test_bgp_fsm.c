/*
 * Unit tests of src/bgp/bgp_fsm.c on virtual time: the passive session from OPEN to
 * Established, the OPEN sent and the checks of the peer's, hold time negotiation, the
 * keepalive, hold and send hold timers, and every NOTIFICATION for a message a state does
 * not take, a NOTIFICATION received or a bad header (compared byte for byte). UPDATE
 * delivery, route refresh, the owner's side and input handling are in test_bgp_fsm_update.c.
 */
#include "bgp_fsm_testkit.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
