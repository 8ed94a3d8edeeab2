/*
 * The BGP session state machine of RFC 4271 section 8, passive side only: a session starts
 * on an accepted connection in OpenSent and goes OpenConfirm, Established, and back to Idle
 * when anything ends it. Each received message is checked against the messages its state
 * allows (a table), then handled by one function per type (a table too).
 *
 * Callbacks may call bgp_sess_stop, bgp_sess_send, bgp_sess_txq and the accessors. A
 * generation counter, bumped whenever a connection ends, lets every loop that calls out
 * (prefixes of an UPDATE, messages of an input chunk, due timers) notice that the session
 * it was working for is gone and stop touching it.
 */
#include "bgp_fsm.h"

#include <stdlib.h>
#include <string.h>

#define BGP_NEVER UINT64_MAX
/* RFC 4271 8.2.2: the hold timer before the peer's OPEN; "4 minutes is suggested". */
#define BGP_OPEN_HOLD_MS (240u * 1000)
/* RFC 9687 6: the send hold time is by default the greater of 8 minutes and twice hold. */
#define BGP_SENDHOLD_MIN_MS (8u * 60 * 1000)
/* Room for what the session itself sends: OPEN, KEEPALIVE, NOTIFICATION with 64 data. */
#define BGP_TXBUF 256

struct bgp_sess {
	struct bgp_sess_cfg cfg;
	struct bgp_sess_ops ops;
	void *arg;
	enum bgp_state state;
	uint32_t gen;              /* bumped when a connection ends */
	struct bgp_open peer;      /* the peer's OPEN, from OpenConfirm on */
	uint16_t hold;             /* negotiated, s */
	uint8_t as4;
	uint64_t hold_at;          /* absolute deadlines, BGP_NEVER when disarmed */
	uint64_t ka_at;
	uint64_t sendhold_at;
	uint32_t sendhold_ms;      /* 0: no send hold timer on this connection */
	size_t txq;                /* bytes the transport holds, as last reported */
	size_t rlen;               /* bytes of the current message in rbuf */
	uint16_t msglen;           /* its length once the header is checked, else 0 */
	uint8_t msgtype;
	struct bgp_sess_stats st;
	struct bgp_attrs attrs;    /* the UPDATE being handled: no allocation per message */
	struct bgp_attrs mpattrs;  /* the same with the MP_REACH next hop */
	struct bgp_attrs_ctx actx; /* its MP fields, and what attrs points into */
	uint8_t rbuf[BGP_MAX_LEN];
};

typedef void bgp_sess_handler(struct bgp_sess *, const uint8_t *, uint16_t, uint64_t);

struct bgp_sess *
bgp_sess_new(const struct bgp_sess_cfg *cfg, const struct bgp_sess_ops *ops, void *arg)
{
	struct bgp_sess *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	s->ops = *ops;
	s->arg = arg;
	s->state = BGP_S_IDLE;
	s->hold_at = s->ka_at = s->sendhold_at = BGP_NEVER;
	return s;
}

void
bgp_sess_free(struct bgp_sess *s)
{
	free(s);
}

/* --- ending a connection --- */

static void
bgp_sess_note_err(struct bgp_sess *s, const struct bgp_err *e, int sent)
{
	s->st.last_err = *e;
	s->st.last_err_sent = (uint8_t)(sent != 0);
	s->st.has_last_err = 1;
}

/*
 * The connection is over: Idle, timers off, the input of this connection dropped. close
 * says whether the transport must still be closed (not when it told us it is gone).
 */
static void
bgp_sess_end(struct bgp_sess *s, const struct bgp_err *e, int sent, int close)
{
	enum bgp_state was = s->state;

	if (was == BGP_S_IDLE)
		return;
	/* Idle first: a callback below that stops or sends finds the session over. */
	s->state = BGP_S_IDLE;
	s->gen++;
	s->hold_at = s->ka_at = s->sendhold_at = BGP_NEVER;
	s->rlen = s->msglen = 0;
	s->txq = 0;
	if (was == BGP_S_ESTABLISHED)
		s->st.flaps++;
	if (e != NULL)
		bgp_sess_note_err(s, e, sent);
	if (close)
		s->ops.close(s->arg);
	s->ops.down(s->arg, e, sent);
}

/* Queues a whole message; a transport that is gone ends the session as a failure. */
static int
bgp_sess_xmit(struct bgp_sess *s, const uint8_t *msg, size_t len)
{
	if (len == 0 || s->ops.send(s->arg, msg, len) < 0) {
		bgp_sess_end(s, NULL, 0, 1);
		return -1;
	}
	s->st.msgs_out++;
	return 0;
}

/* Sends the NOTIFICATION e (a failure to send it changes nothing) and ends. */
static void
bgp_sess_fail(struct bgp_sess *s, const struct bgp_err *e)
{
	uint8_t buf[BGP_TXBUF];
	size_t len = bgp_notification_build(buf, sizeof(buf), e);
	uint32_t gen = s->gen;

	if (len > 0 && s->ops.send(s->arg, buf, len) == 0)
		s->st.msgs_out++;
	if (s->gen == gen)
		bgp_sess_end(s, e, 1, 1);
}

static void
bgp_sess_fail_code(struct bgp_sess *s, uint8_t code, uint8_t subcode)
{
	struct bgp_err e;

	bgp_err_set(&e, code, subcode, NULL, 0);
	bgp_sess_fail(s, &e);
}

/* --- timers --- */

static void
bgp_sess_arm_hold(struct bgp_sess *s, uint64_t now)
{
	s->hold_at = s->hold ? now + (uint64_t)s->hold * 1000 : BGP_NEVER;
}

/* RFC 4271 10: the keepalive interval is a third of the hold time. */
static void
bgp_sess_arm_keepalive(struct bgp_sess *s, uint64_t now)
{
	s->ka_at = s->hold ? now + (uint64_t)s->hold * 1000 / 3 : BGP_NEVER;
}

/*
 * RFC 9687 4.3: the send hold timer runs in Established only, and not at all when the
 * negotiated hold time is zero. Its default (6) is the greater of 8 minutes and twice the
 * hold time; a configured value replaces it.
 */
static void
bgp_sess_sendhold_init(struct bgp_sess *s, uint64_t now)
{
	uint64_t twice = (uint64_t)s->hold * 2000;

	if (s->hold == 0)
		s->sendhold_ms = 0;
	else if (s->cfg.send_hold_ms != 0)
		s->sendhold_ms = s->cfg.send_hold_ms;
	else
		s->sendhold_ms = twice > BGP_SENDHOLD_MIN_MS ? (uint32_t)twice :
		    BGP_SENDHOLD_MIN_MS;
	s->sendhold_at = s->sendhold_ms && s->txq ? now + s->sendhold_ms : BGP_NEVER;
}

static int
bgp_sess_send_keepalive(struct bgp_sess *s)
{
	uint8_t buf[BGP_TXBUF];

	return bgp_sess_xmit(s, buf, bgp_keepalive_build(buf, sizeof(buf)));
}

/* --- received messages, one handler per type --- */

static void
bgp_sess_on_notification(struct bgp_sess *s, const uint8_t *msg, uint16_t len, uint64_t now)
{
	struct bgp_err e;

	(void)now;
	/* A body too short to parse still ends the session; it names no error then. */
	if (bgp_notification_parse(cur_make(msg + BGP_HDR_LEN, len - BGP_HDR_LEN), &e) < 0)
		bgp_err_set(&e, 0, 0, NULL, 0);
	bgp_sess_end(s, &e, 0, 1);
}

/* The checks that need our configuration (bgp_open_parse did the rest); 0 or -1 with e. */
static int
bgp_sess_open_check(const struct bgp_sess *s, const struct bgp_open *o, struct bgp_err *e)
{
	if (s->cfg.peer_as != 0 && o->asn != s->cfg.peer_as) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_PEER_AS, NULL, 0);
		return -1;
	}
	if (o->bgp_id == s->cfg.local_id) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_BGP_ID, NULL, 0);
		return -1;
	}
	/* Zero is no keepalives at all, a choice the peer may make whatever min_hold says. */
	if (o->hold != 0 && o->hold < s->cfg.min_hold) {
		bgp_err_set(e, BGP_ERR_OPEN, BGP_OPEN_HOLD, NULL, 0);
		return -1;
	}
	return 0;
}

static void
bgp_sess_on_open(struct bgp_sess *s, const uint8_t *msg, uint16_t len, uint64_t now)
{
	struct bgp_open o;
	struct bgp_err e;

	if (bgp_open_parse(cur_make(msg + BGP_HDR_LEN, len - BGP_HDR_LEN), &o, &e) < 0 ||
	    bgp_sess_open_check(s, &o, &e) < 0) {
		bgp_sess_fail(s, &e);
		return;
	}
	s->peer = o;
	s->as4 = o.as4;
	s->hold = o.hold < s->cfg.hold ? o.hold : s->cfg.hold;
	if (bgp_sess_send_keepalive(s) < 0)
		return;
	s->state = BGP_S_OPENCONFIRM;
	bgp_sess_arm_hold(s, now);
	bgp_sess_arm_keepalive(s, now);
}

static void
bgp_sess_on_keepalive(struct bgp_sess *s, const uint8_t *msg, uint16_t len, uint64_t now)
{
	(void)msg;
	(void)len;
	if (s->state != BGP_S_OPENCONFIRM)
		return; /* Established: the hold timer restart was all it was for */
	s->state = BGP_S_ESTABLISHED;
	s->st.established_at = now;
	bgp_sess_sendhold_init(s, now);
	/* Nothing is sent here: the owner sends its routes and the End-of-RIB. */
	s->ops.established(s->arg);
}

/* RFC 7313: requests for other families are ignored, as are unknown subtypes. */
static void
bgp_sess_on_refresh(struct bgp_sess *s, const uint8_t *msg, uint16_t len, uint64_t now)
{
	struct bgp_err e;
	uint16_t afi;
	uint8_t subtype, safi;

	(void)now;
	if (bgp_refresh_parse(cur_make(msg + BGP_HDR_LEN, len - BGP_HDR_LEN), &afi, &subtype,
	    &safi, &e) < 0) {
		/* RFC 7313 5: the data is the complete ROUTE-REFRESH message. */
		bgp_err_set(&e, BGP_ERR_RREFRESH, 1, msg, len);
		bgp_sess_fail(s, &e);
		return;
	}
	if (afi != 1 || safi != 1 || subtype > 2)
		return;
	s->ops.refresh(s->arg, subtype);
}

/* --- UPDATE --- */

/* 0 when every prefix of the field decodes and the field ends with the last one. */
static int
bgp_sess_nlri_ok(struct cur c)
{
	struct bgp_prefix p;
	int r;

	while ((r = bgp_nlri_next(&c, &p)) == 1)
		;
	return r;
}

/*
 * Reports each prefix of the field (a == NULL: withdrawn). -1 when a callback ended the
 * connection: the rest of the UPDATE belongs to a session that is gone.
 */
static int
bgp_sess_report(struct bgp_sess *s, struct cur c, const struct bgp_attrs *a)
{
	struct bgp_prefix p;
	uint32_t gen = s->gen;

	while (bgp_nlri_next(&c, &p) == 1) {
		if (a)
			s->st.prefixes_in++;
		else
			s->st.withdraws_in++;
		s->ops.route(s->arg, &p, a);
		if (s->gen != gen)
			return -1;
	}
	return 0;
}

/*
 * RFC 7606 5.3: treat-as-withdraw needs prefixes that can still be told apart. A prefix
 * length over 32 or a field that ends inside a prefix leaves no such list, so the session
 * is reset: 3/10 for the classic fields, 3/9 (RFC 4760 7) for the MP_REACH/MP_UNREACH ones
 * in case their attribute passed. 0, or -1 with e set.
 */
static int
bgp_sess_update_fields_ok(const struct bgp_update *u, const struct bgp_attrs_ctx *a,
    struct bgp_err *e)
{
	if (bgp_sess_nlri_ok(u->withdrawn) < 0 || bgp_sess_nlri_ok(u->nlri) < 0) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_NETWORK, NULL, 0);
		return -1;
	}
	if ((a->has_mp_reach && bgp_sess_nlri_ok(a->mp_nlri) < 0) ||
	    (a->has_mp_unreach && bgp_sess_nlri_ok(a->mp_withdrawn) < 0)) {
		bgp_err_set(e, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL, NULL, 0);
		return -1;
	}
	return 0;
}

/* RFC 4724 2: an IPv4 unicast End-of-RIB is an UPDATE with nothing in it, or only an
 * empty MP_UNREACH for 1/1. */
static int
bgp_sess_is_eor(const struct bgp_update *u, const struct bgp_attrs *a,
    const struct bgp_attrs_ctx *x)
{
	if (cur_left(&u->withdrawn) || cur_left(&u->nlri))
		return 0;
	if (cur_left(&u->attrs) == 0)
		return 1;
	return a->present == 1u << BGP_A_MP_UNREACH && x->has_mp_unreach &&
	    cur_left(&x->mp_withdrawn) == 0;
}

/* RFC 7606 2: treat-as-withdraw withdraws every prefix the UPDATE names, in any field. */
static void
bgp_sess_update_withdraw(struct bgp_sess *s, const struct bgp_update *u,
    const struct bgp_attrs_ctx *a)
{
	s->st.treat_as_withdraw++;
	if (bgp_sess_report(s, u->withdrawn, NULL) < 0 || bgp_sess_report(s, u->nlri, NULL) < 0)
		return;
	if (a->has_mp_unreach && bgp_sess_report(s, a->mp_withdrawn, NULL) < 0)
		return;
	if (a->has_mp_reach)
		bgp_sess_report(s, a->mp_nlri, NULL);
}

/* RFC 4271 9: withdrawals first, then announcements (MP_REACH ones with its next hop). */
static void
bgp_sess_update_apply(struct bgp_sess *s, const struct bgp_update *u,
    const struct bgp_attrs *a, const struct bgp_attrs_ctx *x)
{
	if (bgp_sess_report(s, u->withdrawn, NULL) < 0)
		return;
	if (x->has_mp_unreach && bgp_sess_report(s, x->mp_withdrawn, NULL) < 0)
		return;
	if (bgp_sess_report(s, u->nlri, a) < 0)
		return;
	if (x->has_mp_reach && cur_left(&x->mp_nlri) > 0) {
		s->mpattrs = *a;
		s->mpattrs.nexthop = x->mp_nexthop;
		bgp_sess_report(s, x->mp_nlri, &s->mpattrs);
	}
}

static void
bgp_sess_on_update(struct bgp_sess *s, const uint8_t *msg, uint16_t len, uint64_t now)
{
	struct bgp_update u;
	struct bgp_upd_report r;
	struct bgp_err e;
	struct bgp_attrs *a = &s->attrs;
	struct bgp_attrs_ctx *x = &s->actx;
	enum bgp_upd_action act;

	(void)now;
	s->st.updates_in++;
	if (bgp_update_split(cur_make(msg + BGP_HDR_LEN, len - BGP_HDR_LEN), &u, &e) < 0) {
		bgp_sess_fail(s, &e);
		return;
	}
	memset(&r, 0, sizeof(r));
	act = bgp_attrs_parse(u.attrs, s->as4, cur_left(&u.nlri) > 0, a, x, &r, &e);
	s->st.attrs_discarded += r.discarded;
	if (act == BGP_UPD_RESET || bgp_sess_update_fields_ok(&u, x, &e) < 0) {
		bgp_sess_fail(s, &e);
		return;
	}
	if (act == BGP_UPD_OK && bgp_sess_is_eor(&u, a, x)) {
		s->ops.eor(s->arg);
		return;
	}
	if (act == BGP_UPD_WITHDRAW)
		bgp_sess_update_withdraw(s, &u, x);
	else
		bgp_sess_update_apply(s, &u, a, x);
}

/* --- dispatch --- */

static bgp_sess_handler *const bgp_sess_handlers[] = {
	[BGP_OPEN] = bgp_sess_on_open,
	[BGP_UPDATE] = bgp_sess_on_update,
	[BGP_NOTIFICATION] = bgp_sess_on_notification,
	[BGP_KEEPALIVE] = bgp_sess_on_keepalive,
	[BGP_ROUTE_REFRESH] = bgp_sess_on_refresh,
};

#define BGP_BIT(t) (1u << (t))
/* RFC 4271 8.2.2: what each state accepts; anything else is an FSM error (RFC 6608). */
static const struct {
	unsigned allowed;
	uint8_t fsm_subcode;
} bgp_sess_states[] = {
	[BGP_S_OPENSENT] = {BGP_BIT(BGP_OPEN) | BGP_BIT(BGP_NOTIFICATION), BGP_FSM_OPENSENT},
	[BGP_S_OPENCONFIRM] = {BGP_BIT(BGP_KEEPALIVE) | BGP_BIT(BGP_NOTIFICATION),
	    BGP_FSM_OPENCONFIRM},
	[BGP_S_ESTABLISHED] = {BGP_BIT(BGP_UPDATE) | BGP_BIT(BGP_KEEPALIVE) |
	    BGP_BIT(BGP_NOTIFICATION) | BGP_BIT(BGP_ROUTE_REFRESH), BGP_FSM_ESTABLISHED},
};

static void
bgp_sess_msg(struct bgp_sess *s, uint8_t type, const uint8_t *msg, uint16_t len, uint64_t now)
{
	s->st.msgs_in++;
	if (type > BGP_ROUTE_REFRESH || !(bgp_sess_states[s->state].allowed & BGP_BIT(type))) {
		bgp_sess_fail_code(s, BGP_ERR_FSM, bgp_sess_states[s->state].fsm_subcode);
		return;
	}
	/* Any message shows the peer alive; in OpenSent its OPEN sets the timer instead. */
	if (s->state != BGP_S_OPENSENT)
		bgp_sess_arm_hold(s, now);
	bgp_sess_handlers[type](s, msg, len, now);
}

/*
 * Moves up to n bytes toward the current message (its header first, then the rest the
 * header announces). Returns 1 when a whole message is in rbuf, 0 when more is needed, -1
 * when the header was refused (the session is over then).
 */
static int
bgp_sess_collect(struct bgp_sess *s, const uint8_t **buf, size_t *n)
{
	size_t want = s->msglen ? s->msglen : BGP_HDR_LEN;
	size_t take = want - s->rlen < *n ? want - s->rlen : *n;
	struct bgp_err e;
	int r;

	memcpy(s->rbuf + s->rlen, *buf, take);
	s->rlen += take;
	*buf += take;
	*n -= take;
	if (s->rlen < want)
		return 0;
	if (s->msglen == 0) {
		r = bgp_hdr_check(s->rbuf, s->rlen, &s->msgtype, &s->msglen, &e);
		if (r != 1 || s->msglen < BGP_HDR_LEN || s->msglen > BGP_MAX_LEN) {
			if (r >= 0) /* a codec bug must not overrun rbuf */
				bgp_err_set(&e, BGP_ERR_HEADER, BGP_HDR_LENGTH, NULL, 0);
			bgp_sess_fail(s, &e);
			return -1;
		}
		if (s->msglen > BGP_HDR_LEN)
			return 0;
	}
	return 1;
}

int
bgp_sess_input(struct bgp_sess *s, const uint8_t *buf, size_t n, uint64_t now)
{
	uint32_t gen = s->gen;
	uint16_t len;
	int r;

	if (s->state == BGP_S_IDLE)
		return -1;
	while (n > 0) {
		if ((r = bgp_sess_collect(s, &buf, &n)) < 0)
			return -1;
		if (r == 0)
			continue;
		len = s->msglen;
		s->rlen = s->msglen = 0;
		bgp_sess_msg(s, s->msgtype, s->rbuf, len, now);
		if (s->gen != gen)
			return -1;
	}
	return 0;
}

/* --- the owner's events --- */

static size_t
bgp_sess_build_open(const struct bgp_sess *s, uint8_t *buf, size_t cap)
{
	struct bgp_open o;

	memset(&o, 0, sizeof(o));
	o.version = BGP_VERSION;
	o.my_as = s->cfg.local_as > 0xffff ? BGP_AS_TRANS : (uint16_t)s->cfg.local_as;
	o.asn = s->cfg.local_as;
	o.hold = s->cfg.hold;
	o.bgp_id = s->cfg.local_id;
	o.as4 = o.mp_ipv4u = o.rr = o.err = 1;
	o.gr = s->cfg.gr_time != 0;
	o.gr_time = s->cfg.gr_time;
	return bgp_open_build(buf, cap, &o);
}

void
bgp_sess_start(struct bgp_sess *s, uint64_t now)
{
	uint8_t buf[BGP_TXBUF];

	/* A new connection replaces one the owner never reported closed. */
	bgp_sess_end(s, NULL, 0, 0);
	memset(&s->peer, 0, sizeof(s->peer));
	s->hold = 0;
	s->as4 = 0;
	s->sendhold_ms = 0;
	s->state = BGP_S_OPENSENT;
	s->hold_at = now + BGP_OPEN_HOLD_MS;
	bgp_sess_xmit(s, buf, bgp_sess_build_open(s, buf, sizeof(buf)));
}

void
bgp_sess_transport_down(struct bgp_sess *s, uint64_t now)
{
	(void)now;
	bgp_sess_end(s, NULL, 0, 0);
}

void
bgp_sess_stop(struct bgp_sess *s, uint8_t code, uint8_t subcode, uint64_t now)
{
	(void)now;
	if (s->state != BGP_S_IDLE)
		bgp_sess_fail_code(s, code, subcode);
}

void
bgp_sess_tick(struct bgp_sess *s, uint64_t now)
{
	if (s->state == BGP_S_IDLE)
		return;
	if (s->hold_at <= now) {
		bgp_sess_fail_code(s, BGP_ERR_HOLD, 0);
		return;
	}
	if (s->sendhold_at <= now) {
		/* RFC 9687 5: the NOTIFICATION will likely not get through; it is tried. */
		bgp_sess_fail_code(s, BGP_ERR_SEND_HOLD, 0);
		return;
	}
	if (s->ka_at <= now) {
		bgp_sess_arm_keepalive(s, now);
		bgp_sess_send_keepalive(s);
	}
}

uint64_t
bgp_sess_deadline(const struct bgp_sess *s)
{
	uint64_t t = s->hold_at;

	if (s->ka_at < t)
		t = s->ka_at;
	if (s->sendhold_at < t)
		t = s->sendhold_at;
	return t;
}

/*
 * The header's contract is taken literally: the timer runs from the moment the queue
 * became non-empty and stops only when it is empty again, whatever drained in between.
 */
void
bgp_sess_txq(struct bgp_sess *s, size_t queued, uint64_t now)
{
	if (s->state == BGP_S_IDLE)
		return;
	s->txq = queued;
	if (queued == 0)
		s->sendhold_at = BGP_NEVER;
	else if (s->sendhold_at == BGP_NEVER && s->state == BGP_S_ESTABLISHED &&
	    s->sendhold_ms != 0)
		s->sendhold_at = now + s->sendhold_ms;
}

int
bgp_sess_send(struct bgp_sess *s, const uint8_t *msg, size_t len, uint64_t now)
{
	if (s->state != BGP_S_ESTABLISHED || len < BGP_HDR_LEN || len > BGP_MAX_LEN)
		return -1;
	if (bgp_sess_xmit(s, msg, len) < 0)
		return -1;
	if (msg[BGP_HDR_LEN - 1] == BGP_UPDATE)
		s->st.updates_out++;
	/* RFC 4271 4.4: a KEEPALIVE is due only when nothing else went out in the interval. */
	bgp_sess_arm_keepalive(s, now);
	return 0;
}

/* --- accessors --- */

enum bgp_state
bgp_sess_state(const struct bgp_sess *s)
{
	return s->state;
}

const char *
bgp_state_str(enum bgp_state st)
{
	static const char *const names[] = {
		[BGP_S_IDLE] = "Idle",
		[BGP_S_CONNECT] = "Connect",
		[BGP_S_ACTIVE] = "Active",
		[BGP_S_OPENSENT] = "OpenSent",
		[BGP_S_OPENCONFIRM] = "OpenConfirm",
		[BGP_S_ESTABLISHED] = "Established",
	};

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[st];
}

const struct bgp_open *
bgp_sess_peer_open(const struct bgp_sess *s)
{
	return &s->peer;
}

uint16_t
bgp_sess_hold(const struct bgp_sess *s)
{
	return s->hold;
}

int
bgp_sess_as4(const struct bgp_sess *s)
{
	return s->as4;
}

const struct bgp_sess_stats *
bgp_sess_stats(const struct bgp_sess *s)
{
	return &s->st;
}
