/*
 * The harness shared by the bgp_fsm unit tests (test_bgp_fsm.c, test_bgp_fsm_update.c): a
 * session on virtual time whose callbacks record what it did, hand-built messages, and
 * checks of the NOTIFICATION sent and of how the session ended.
 */
#ifndef VENEER_BGP_FSM_TESTKIT_H
#define VENEER_BGP_FSM_TESTKIT_H

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

static inline void h_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void
h_log(const char *fmt, ...)
{
	size_t n = strlen(H.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(H.log + n, sizeof(H.log) - n, fmt, ap);
	va_end(ap);
}

static inline int
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

static inline void
h_close(void *arg)
{
	(void)arg;
	H.closes++;
	h_log("close ");
}

static inline void
h_established(void *arg)
{
	(void)arg;
	H.established++;
	h_log("up ");
	if (H.stop_on_established)
		bgp_sess_stop(H.s, BGP_ERR_CEASE, BGP_CEASE_SHUTDOWN, 0);
}

static inline void
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

static inline void
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

static inline void
h_eor(void *arg)
{
	(void)arg;
	H.eors++;
	h_log("eor ");
}

static inline void
h_refresh(void *arg, uint8_t subtype)
{
	(void)arg;
	h_log("refresh%d ", subtype);
}

static const struct bgp_sess_ops h_ops = {
	h_send, h_close, h_established, h_down, h_route, h_eor, h_refresh,
};

static inline void
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

static inline void
h_make(void)
{
	H.s = bgp_sess_new(&H.cfg, &h_ops, NULL);
	assert_non_null(H.s);
}

static inline int
h_teardown(void **state)
{
	(void)state;
	bgp_sess_free(H.s);
	H.s = NULL;
	return 0;
}

/* --- hand-built messages --- */

/* A whole message: marker, length, type, body. */
static inline size_t
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
static inline size_t
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

static inline size_t
peer_open(uint8_t *buf, uint16_t hold)
{
	return open_msg(buf, 4, 65001, hold, PEER_ID, 65001);
}

static inline size_t
keepalive(uint8_t *buf)
{
	return msg(buf, BGP_KEEPALIVE, NULL, 0);
}

/* An UPDATE from its three parts. */
static inline size_t
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

static inline void
feed(const uint8_t *buf, size_t len, int expect)
{
	assert_int_equal(bgp_sess_input(H.s, buf, len, 0), expect);
}

static inline void
feed_at(const uint8_t *buf, size_t len, uint64_t now)
{
	bgp_sess_input(H.s, buf, len, now);
}

/* Starts at t and brings the session to Established with the peer proposing hold. */
static inline void
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
static inline void
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
static inline void
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

#endif
