/*
 * libFuzzer target: the BGP session state machine. The first byte picks the state to drive
 * to with a valid prefix (OpenSent, OpenConfirm, Established), the second the timers, how
 * often callbacks stop the session or send and how often the transport fails; the rest is a
 * program of input chunks (sizes read from the input), clock ticks and owner actions. After
 * every step the target checks what must always hold: nothing is sent once the session
 * closed, states move only forward or to Idle, each connection goes down once, no timer is
 * left overdue, and every prefix and message that comes out is well-formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp_fsm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(x) do { if (!(x)) abort(); } while (0)

static struct {
	struct bgp_sess *s;
	uint32_t rng;
	unsigned stop_odds;   /* a callback stops the session one time in this many; 0 never */
	unsigned send_odds;
	unsigned fail_odds;   /* the transport refuses a message one time in this many */
	uint16_t hold;        /* configured */
	int closed;           /* close or down was called and no start since */
	int downs;            /* on this connection */
	int saw_up;           /* the established callback ran on this connection */
	int ups;
	enum bgp_state seen;
} fz;

static uint32_t
fz_rand(void)
{
	fz.rng ^= fz.rng << 13;
	fz.rng ^= fz.rng >> 17;
	fz.rng ^= fz.rng << 5;
	return fz.rng;
}

static int
fz_odds(unsigned odds)
{
	return odds != 0 && fz_rand() % odds == 0;
}

/* The state may stay, fall to Idle, or move forward (several steps within one call). */
static void
fz_state_check(void)
{
	enum bgp_state st = bgp_sess_state(fz.s);

	FZ_CHECK(st == fz.seen || st == BGP_S_IDLE || (st > fz.seen && fz.seen >= BGP_S_OPENSENT));
	FZ_CHECK(st != BGP_S_CONNECT && st != BGP_S_ACTIVE);
	FZ_CHECK(st != BGP_S_ESTABLISHED || fz.saw_up);
	FZ_CHECK((st == BGP_S_IDLE) == fz.closed);
	FZ_CHECK(st != BGP_S_IDLE || bgp_sess_deadline(fz.s) == UINT64_MAX);
	FZ_CHECK(fz.downs == (st == BGP_S_IDLE ? 1 : 0));
	FZ_CHECK(bgp_sess_stats(fz.s)->flaps <= (uint32_t)fz.ups);
	FZ_CHECK(bgp_sess_hold(fz.s) <= fz.hold && bgp_state_str(st) != NULL);
	FZ_CHECK(st < BGP_S_OPENCONFIRM || bgp_sess_peer_open(fz.s)->version == BGP_VERSION);
	fz.seen = st;
}

static int
fz_send(void *arg, const uint8_t *buf, size_t len)
{
	uint8_t type;
	uint16_t mlen;
	struct bgp_err e;

	(void)arg;
	FZ_CHECK(!fz.closed);
	FZ_CHECK(bgp_hdr_check(buf, len, &type, &mlen, &e) == 1 && mlen == len);
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_ESTABLISHED || type == BGP_OPEN ||
	    type == BGP_KEEPALIVE || type == BGP_NOTIFICATION);
	return fz_odds(fz.fail_odds) ? -1 : 0;
}

static void
fz_close(void *arg)
{
	(void)arg;
	FZ_CHECK(!fz.closed);
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_IDLE);
	fz.closed = 1;
}

static void
fz_down(void *arg, const struct bgp_err *e, int sent)
{
	(void)arg;
	(void)e;
	FZ_CHECK(sent == 0 || e != NULL);
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_IDLE);
	fz.closed = 1;
	fz.downs++;
	/* Stopping from here is a no-op: the session is already over. */
	bgp_sess_stop(fz.s, BGP_ERR_CEASE, BGP_CEASE_RESET, 0);
}

static void
fz_maybe_act(void)
{
	uint8_t eor[32];

	if (fz_odds(fz.send_odds))
		bgp_sess_send(fz.s, eor, bgp_eor_build(eor, sizeof(eor)), 0);
	if (fz_odds(fz.stop_odds))
		bgp_sess_stop(fz.s, BGP_ERR_CEASE, BGP_CEASE_MAXPFX, 0);
}

static void
fz_established(void *arg)
{
	(void)arg;
	FZ_CHECK(!fz.saw_up && bgp_sess_state(fz.s) == BGP_S_ESTABLISHED);
	fz.saw_up = 1;
	fz.ups++;
	fz_maybe_act();
}

static void
fz_route(void *arg, const struct bgp_prefix *p, const struct bgp_attrs *a)
{
	(void)arg;
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_ESTABLISHED);
	FZ_CHECK(p->len <= 32);
	FZ_CHECK(p->len == 32 || (p->addr & (0xffffffffu >> p->len)) == 0);
	FZ_CHECK(a == NULL || a->aspath_len == 0 || a->aspath != NULL);
	fz_maybe_act();
}

static void
fz_eor(void *arg)
{
	(void)arg;
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_ESTABLISHED);
	fz_maybe_act();
}

static void
fz_refresh(void *arg, uint8_t subtype)
{
	(void)arg;
	FZ_CHECK(bgp_sess_state(fz.s) == BGP_S_ESTABLISHED && subtype <= 2);
	fz_maybe_act();
}

static const struct bgp_sess_ops fz_ops = {
	fz_send, fz_close, fz_established, fz_down, fz_route, fz_eor, fz_refresh,
};

/* A valid OPEN from AS 65001 with the 4-octet AS, MP and route refresh capabilities. */
static size_t
fz_open(uint8_t *buf, uint16_t hold)
{
	static const uint8_t head[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 45, BGP_OPEN,
		4, 0xfd, 0xe9, 0, 0, 10, 0, 0, 2, 16, 2, 14,
		1, 4, 0, 1, 0, 1, 2, 0, 0x41, 4, 0, 0, 0xfd, 0xe9,
	};

	memcpy(buf, head, sizeof(head));
	buf[22] = (uint8_t)(hold >> 8);
	buf[23] = (uint8_t)hold;
	return sizeof(head);
}

static void
fz_start(uint64_t now)
{
	fz.closed = 0;
	fz.downs = 0;
	fz.saw_up = 0;
	bgp_sess_start(fz.s, now);
	fz.seen = BGP_S_OPENSENT;
	fz_state_check();
}

static void
fz_input(const uint8_t *buf, size_t n, uint64_t now)
{
	int r = bgp_sess_input(fz.s, buf, n, now);

	FZ_CHECK(r == 0 || r == -1);
	FZ_CHECK((r == -1) == (bgp_sess_state(fz.s) == BGP_S_IDLE));
	fz_state_check();
}

/* Drives the new session to OpenSent, OpenConfirm or Established. */
static void
fz_prefix(unsigned target, uint16_t hold)
{
	static const uint8_t ka[BGP_HDR_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, BGP_KEEPALIVE,
	};
	uint8_t open[64];

	fz_start(0);
	if (target >= 1)
		fz_input(open, fz_open(open, hold), 0);
	if (target >= 2 && !fz.closed)
		fz_input(ka, sizeof(ka), 0);
}

/* One owner action: queue size, an UPDATE, stop, transport loss, a new connection. */
static void
fz_owner(uint8_t op, uint8_t arg, uint64_t now)
{
	uint8_t eor[32];
	int r;

	switch (op % 5) {
	case 0:
		bgp_sess_txq(fz.s, (size_t)arg * 64, now);
		break;
	case 1:
		r = bgp_sess_send(fz.s, eor, bgp_eor_build(eor, sizeof(eor)), now);
		FZ_CHECK(r == 0 || bgp_sess_state(fz.s) != BGP_S_ESTABLISHED);
		break;
	case 2:
		bgp_sess_stop(fz.s, BGP_ERR_CEASE, arg % 9, now);
		break;
	case 3:
		bgp_sess_transport_down(fz.s, now);
		break;
	default:
		if (fz.closed)
			fz_start(now);
		break;
	}
	fz_state_check();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t holds[] = {90, 3, 0, 9};
	struct bgp_sess_cfg cfg = {65000, 0x0a000001, 65001, 90, 3, 120, 0};
	uint64_t now = 0, dl;
	size_t i = 2, n;
	uint8_t op;

	if (size < 2)
		return 0;
	memset(&fz, 0, sizeof(fz));
	fz.rng = 0x9e3779b9u ^ data[1];
	fz.stop_odds = (data[1] & 3) == 0 ? 0 : 1u << (2 * (data[1] & 3));
	fz.send_odds = data[1] & 4 ? 8 : 0;
	fz.fail_odds = data[1] & 0x40 ? 16 : 0;
	cfg.hold = fz.hold = data[1] & 8 ? 0 : 90;
	cfg.send_hold_ms = data[1] & 0x10 ? 5000 : 0;
	cfg.min_hold = data[1] & 0x20 ? 30 : 3;
	if ((fz.s = bgp_sess_new(&cfg, &fz_ops, NULL)) == NULL)
		return 0;
	fz_prefix(data[0] % 3, holds[(data[0] / 3) % 4]);
	while (i < size) {
		op = data[i++];
		switch (op & 3) {
		case 0:
		case 1: /* a chunk of bytes: 0..63, or 0..4095 with the high bit */
			n = op & 0x80 ? (size_t)(op & 0x7c) << 5 | (op & 1) : op >> 2;
			n = n < size - i ? n : size - i;
			fz_input(data + i, n, now);
			i += n;
			break;
		case 2: /* the clock: to the next deadline, or forward by an input amount */
			dl = bgp_sess_deadline(fz.s);
			if ((op & 4) && dl != UINT64_MAX)
				now = dl > now ? dl : now;
			else
				now += (uint64_t)(op >> 3) * (op & 4 ? 1000 : 7);
			bgp_sess_tick(fz.s, now);
			dl = bgp_sess_deadline(fz.s);
			FZ_CHECK(dl > now);
			fz_state_check();
			break;
		default:
			fz_owner(op >> 2, i < size ? data[i] : 0, now);
			i++;
			break;
		}
	}
	bgp_sess_free(fz.s);
	return 0;
}
