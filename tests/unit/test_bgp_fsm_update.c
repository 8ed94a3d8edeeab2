/*
 * Unit tests of src/bgp/bgp_fsm.c on virtual time, what comes after the OPEN: UPDATE delivery
 * (announce, withdraw, MP_REACH/MP_UNREACH, treat-as-withdraw, End-of-RIB, NLRI that reset
 * the session), route refresh, callbacks that stop the session, the owner's sending and
 * stopping, a failing transport, fragmented input and reuse of the object. The OPEN, timers
 * and states are in test_bgp_fsm.c.
 */
#include "bgp_fsm_testkit.h"

/* ORIGIN IGP, AS_PATH (65001) in 4-octet form, NEXT_HOP 192.0.2.1. */
static const uint8_t attrs_basic[] = {
	0x40, 1, 1, 0,
	0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9,
	0x40, 3, 4, 192, 0, 2, 1,
};

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
