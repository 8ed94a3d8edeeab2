/*
 * One BGP session (RFC 4271 section 8) without I/O: the owner reports that the transport
 * connected or closed, feeds received bytes and clock readings, and gets messages to send and
 * events through bgp_sess_ops. Time is the caller's monotonic milliseconds, so tests and the
 * FSM fuzzer run on virtual time. veneer-routerd is passive (tenant appliances connect to the
 * router's address), so the session starts when a connection has been accepted.
 */
#ifndef VENEER_BGP_FSM_H
#define VENEER_BGP_FSM_H

#include <stddef.h>
#include <stdint.h>

#include "bgp.h"

enum bgp_state {
	BGP_S_IDLE = 0,
	BGP_S_CONNECT,
	BGP_S_ACTIVE,
	BGP_S_OPENSENT,
	BGP_S_OPENCONFIRM,
	BGP_S_ESTABLISHED,
};

struct bgp_sess_cfg {
	uint32_t local_as;
	uint32_t local_id;
	uint32_t peer_as;        /* expected AS; 0 accepts any (the OPEN's AS is then used) */
	uint16_t hold;           /* our proposed hold time, s (0 = no keepalives, else >= 3) */
	uint16_t min_hold;       /* reject a peer proposing less than this (but not 0) */
	uint16_t gr_time;        /* advertise graceful restart with this restart time; 0 = don't */
	uint32_t send_hold_ms;   /* RFC 9687 send hold timer; 0 = max(8 min, 2 x negotiated hold) */
};

struct bgp_sess;

struct bgp_sess_ops {
	/* Queue bytes on the transport; returns -1 when the transport is gone. */
	int (*send)(void *arg, const uint8_t *buf, size_t len);
	/* The session is over: close the transport (after the queued bytes, if any, go out). */
	void (*close)(void *arg);
	/* OpenConfirm -> Established. */
	void (*established)(void *arg);
	/*
	 * The session left OpenSent or later. err is what ended it (received when sent == 0,
	 * sent when sent == 1); NULL when the transport failed without a NOTIFICATION (then a
	 * graceful-restart-capable peer's routes may be kept as stale).
	 */
	void (*down)(void *arg, const struct bgp_err *err, int sent);
	/* One prefix announced (a != NULL) or withdrawn (a == NULL) in Established. */
	void (*route)(void *arg, const struct bgp_prefix *p, const struct bgp_attrs *a);
	/* End-of-RIB for IPv4 unicast received. */
	void (*eor)(void *arg);
	/* The peer asked for our routes again (subtype 0), or marks BoRR(1)/EoRR(2). */
	void (*refresh)(void *arg, uint8_t subtype);
};

/* Counters and facts for status output. */
struct bgp_sess_stats {
	uint64_t msgs_in, msgs_out;
	uint64_t updates_in, updates_out;
	uint64_t prefixes_in, withdraws_in;
	uint64_t treat_as_withdraw;   /* UPDATEs handled as withdraw (RFC 7606) */
	uint64_t attrs_discarded;     /* attributes discarded (RFC 7606) */
	uint64_t established_at;      /* ms, 0 if never */
	uint32_t flaps;
	struct bgp_err last_err;      /* last NOTIFICATION sent or received */
	uint8_t last_err_sent;
	uint8_t has_last_err;
};

struct bgp_sess *bgp_sess_new(const struct bgp_sess_cfg *cfg, const struct bgp_sess_ops *ops,
    void *arg);
void bgp_sess_free(struct bgp_sess *s);

/* A connection was accepted: sends OPEN, enters OpenSent with a 240 s hold timer. */
void bgp_sess_start(struct bgp_sess *s, uint64_t now);
/*
 * Bytes received. Whole messages are handled as they complete (partial ones are buffered).
 * Returns 0, or -1 once the session has ended (ops->close was called; drop the rest).
 */
int bgp_sess_input(struct bgp_sess *s, const uint8_t *buf, size_t n, uint64_t now);
/* The transport closed or failed under us. */
void bgp_sess_transport_down(struct bgp_sess *s, uint64_t now);
/* Sends NOTIFICATION code/subcode (Cease/admin shutdown, max-prefix, ...) and ends. */
void bgp_sess_stop(struct bgp_sess *s, uint8_t code, uint8_t subcode, uint64_t now);
/* Runs the timers that are due at now (hold, keepalive, send hold). */
void bgp_sess_tick(struct bgp_sess *s, uint64_t now);
/* Absolute time of the next timer, UINT64_MAX when none is armed. */
uint64_t bgp_sess_deadline(const struct bgp_sess *s);
/*
 * How many bytes the transport still holds unsent. While that stays non-zero for longer than
 * the send hold time, the session ends with NOTIFICATION 8 (Send Hold Timer Expired, RFC 9687)
 * and the transport is closed without waiting for the queue.
 */
void bgp_sess_txq(struct bgp_sess *s, size_t queued, uint64_t now);
/* Sends a built UPDATE (only in Established; -1 otherwise or if the transport failed). */
int bgp_sess_send(struct bgp_sess *s, const uint8_t *msg, size_t len, uint64_t now);

enum bgp_state bgp_sess_state(const struct bgp_sess *s);
const char *bgp_state_str(enum bgp_state st);
/* The peer's OPEN (valid from OpenConfirm on). */
const struct bgp_open *bgp_sess_peer_open(const struct bgp_sess *s);
/* Negotiated hold time in seconds and whether 4-octet AS is in use. */
uint16_t bgp_sess_hold(const struct bgp_sess *s);
int bgp_sess_as4(const struct bgp_sess *s);
const struct bgp_sess_stats *bgp_sess_stats(const struct bgp_sess *s);

#endif
