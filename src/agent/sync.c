/*
 * Keeping the agent's view in sync with veneerd: connect, HELLO with what the agent holds,
 * receive batches and apply each one whole at its END (the data plane never sees half a
 * batch), acknowledge, heartbeat, and reconnect with backoff. When veneerd is away the last
 * view stays in force (static stability).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "conn.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define SYNC_BACKOFF_MIN_MS 250
#define SYNC_BACKOFF_MAX_MS 8000
#define SYNC_PING_MS 5000
#define SYNC_DEAD_MS 15000
#define SYNC_MAX_PENDING 200000

static void sync_connect(struct agent *a);

static uint64_t
sync_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
sync_batch_reset(struct agent *a)
{
	astate_free(a->building);
	a->building = NULL;
	/* BGP settings are views into the receive buffer: queued ones hold copies. */
	for (size_t i = 0; i < a->npending; i++)
		if (a->pending[i].type == CC_BGPCONF)
			free((void *)(uintptr_t)a->pending[i].u.bgpconf.json);
	a->npending = 0;
	a->in_batch = 0;
}

/* Schedules the next attempt: exponential backoff with +-20% jitter. */
static void
sync_retry_later(struct agent *a)
{
	uint32_t r;
	unsigned ms = a->backoff_ms;

	util_random(&r, sizeof(r));
	ms = ms - ms / 5 + r % (2 * (ms / 5) + 1);
	ev_timer_arm(a->retry, ms);
	a->backoff_ms = a->backoff_ms * 2 > SYNC_BACKOFF_MAX_MS ? SYNC_BACKOFF_MAX_MS :
	    a->backoff_ms * 2;
}

static void
sync_on_close(struct conn *c, const char *reason, void *arg)
{
	struct agent *a = arg;

	(void)c;
	log_warnx("veneerd connection lost: %s (keeping revision %llu)", reason,
	    (unsigned long long)a->live->revision);
	a->conn = NULL;
	a->welcomed = 0;
	a->stats.disconnects++;
	sync_batch_reset(a);
	if (a->replaced) {
		/* Two agents for one host would take it from each other for ever: the older one
		 * steps aside and keeps forwarding with what it has until an operator acts. */
		log_warnx("another agent registered as host %s: not reconnecting", a->cfg.host);
		return;
	}
	sync_retry_later(a);
}

static void
sync_send_hello(struct agent *a)
{
	struct cc_msg m = {.type = CC_HELLO};
	struct cc_hello *h = &m.u.hello;
	char (*nets)[CC_ID_LEN] = calloc(CC_MAX_NETS, CC_ID_LEN);
	uint32_t a4;
	struct pfx6 p6;
	size_t i, n = 0;

	if (nets == NULL) {
		conn_close(a->conn, "out of memory");
		return;
	}
	h->min_version = h->max_version = CC_VERSION;
	snprintf(h->host, sizeof(h->host), "%s", a->cfg.host);
	snprintf(h->credential, sizeof(h->credential), "%s", a->cfg.token);
	h->encap = a->cfg.encap;
	h->role = a->cfg.role;
	if (addr4_parse(a->cfg.address, &a4) == 0) {
		h->address.family = 4;
		h->address.len = 32;
		for (int k = 0; k < 4; k++)
			h->address.a[k] = (uint8_t)(a4 >> (24 - 8 * k));
	} else if (addr6_parse(a->cfg.address, h->address.a) == 0) {
		h->address.family = 6;
		h->address.len = 128;
	}
	if (a->cfg.prefix && pfx6_parse(a->cfg.prefix, &p6, 0, 128) == ADDR_OK) {
		h->prefix.family = 6;
		h->prefix.len = p6.len;
		memcpy(h->prefix.a, p6.addr, 16);
	}
	/* What the agent holds, so a reconnect gets only the difference. */
	h->revision = a->live->revision;
	h->nonce = a->live->nonce;
	for (i = 0; i < a->live->nets.cap && n < CC_MAX_NETS; i++) {
		const struct map_slot *s = &a->live->nets.slots[i];

		if (s->val)
			snprintf(nets[n++], CC_ID_LEN, "%s", ((const struct cc_net *)s->val)->id);
	}
	h->nnets = (uint16_t)n;
	h->nets = nets;
	conn_send(a->conn, &m);
	free(nets);
}

/* Applies the received batch whole, then acknowledges it. */
static void
sync_end(struct agent *a, uint64_t rev, uint64_t nonce)
{
	struct cc_msg ack = {.type = CC_ACK};

	if (!a->in_batch || rev != a->batch_rev) {
		conn_fail(a->conn, 400, "END without a matching BEGIN");
		return;
	}
	if (a->batch_kind == CC_SNAPSHOT) {
		astate_free(a->live);
		a->live = a->building;
		a->building = NULL;
		a->stats.snapshots++;
	} else {
		for (size_t i = 0; i < a->npending; i++)
			if (astate_apply(a->live, &a->pending[i]) < 0)
				fatalx("out of memory applying revision %llu", (unsigned long long)rev);
		a->stats.deltas++;
	}
	a->live->revision = rev;
	a->live->nonce = nonce;
	if (a->on_update)
		a->on_update(a);
	a->stats.last_batch_us = sync_now_us() - a->batch_start_us;
	sync_batch_reset(a);
	log_debug(LOG_SUB_CTL, "applied revision %llu", (unsigned long long)rev);
	ack.u.revision = rev;
	conn_send(a->conn, &ack);
}

static void
sync_begin(struct agent *a, const struct cc_begin *b)
{
	if (a->in_batch) {
		conn_fail(a->conn, 400, "BEGIN inside a batch");
		return;
	}
	a->in_batch = 1;
	a->batch_kind = b->kind;
	a->batch_rev = b->revision;
	a->batch_start_us = sync_now_us();
	if (b->kind == CC_SNAPSHOT && (a->building = astate_new()) == NULL)
		fatalx("out of memory");
}

/* An object of the batch: into the new view, or queued for END. */
static void
sync_object(struct agent *a, const struct cc_msg *m)
{
	if (!a->in_batch) {
		conn_fail(a->conn, 400, "object outside a batch");
		return;
	}
	if (a->batch_kind == CC_SNAPSHOT) {
		if (astate_apply(a->building, m) < 0)
			fatalx("out of memory");
		return;
	}
	if (a->npending == a->cappending) {
		size_t cap = a->cappending ? a->cappending * 2 : 256;
		struct cc_msg *p;

		if (cap > SYNC_MAX_PENDING || (p = realloc(a->pending, cap * sizeof(*p))) == NULL) {
			conn_fail(a->conn, 413, "batch too large");
			return;
		}
		a->pending = p;
		a->cappending = cap;
	}
	a->pending[a->npending] = *m;
	if (m->type == CC_BGPCONF) {
		char *copy = malloc(m->u.bgpconf.len + 1u);

		if (copy == NULL)
			fatalx("out of memory");
		memcpy(copy, m->u.bgpconf.json, m->u.bgpconf.len);
		a->pending[a->npending].u.bgpconf.json = copy;
	}
	a->npending++;
}

static void
sync_on_msg(struct conn *c, const struct cc_msg *m, void *arg)
{
	struct agent *a = arg;
	struct cc_msg pong = {.type = CC_PONG};

	a->last_rx_ms = ev_now_ms();
	a->stats.messages++;
	if (!a->welcomed && m->type != CC_WELCOME && m->type != CC_ERROR) {
		conn_fail(c, 400, "WELCOME first");
		return;
	}
	switch (m->type) {
	case CC_WELCOME:
		a->welcomed = 1;
		a->backoff_ms = SYNC_BACKOFF_MIN_MS;
		log_info("registered with veneerd as %s (veneerd at revision %llu)", a->cfg.host,
		    (unsigned long long)m->u.welcome.revision);
		if (a->on_welcome)
			a->on_welcome(a);
		break;
	case CC_BEGIN:
		sync_begin(a, &m->u.begin);
		break;
	case CC_END:
		sync_end(a, m->u.end.revision, m->u.end.nonce);
		break;
	case CC_PING:
		pong.u.stamp = m->u.stamp;
		conn_send(c, &pong);
		break;
	case CC_PONG:
		break;
	case CC_ERROR:
		a->stats.refused++;
		a->replaced = m->u.error.code == 409;
		log_warnx("veneerd refused us: %u %s", m->u.error.code, m->u.error.reason);
		conn_close(c, "refused by veneerd");
		break;
	case CC_HOST: case CC_NET: case CC_ROUTER: case CC_LINK: case CC_SUBNET: case CC_PORT:
	case CC_ROUTE: case CC_DELETE: case CC_LROUTE: case CC_BGPCONF:
		sync_object(a, m);
		break;
	default:
		conn_fail(c, 400, "unexpected message type");
	}
}

static void
sync_on_connected(struct ev_io *io, uint32_t events, void *arg)
{
	struct agent *a = arg;
	int err = 0, one = 1;
	socklen_t len = sizeof(err);
	int fd = a->connecting_fd;

	(void)events;
	ev_io_del(io);
	a->connect_io = NULL;
	a->connecting_fd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		log_debug(LOG_SUB_CTL, "connect to %s: %s", a->cfg.veneerd, strerror(err));
		close(fd);
		sync_retry_later(a);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	a->conn = conn_new(a->loop, fd, a->cfg.veneerd, sync_on_msg, sync_on_close, a);
	if (a->conn == NULL) {
		sync_retry_later(a);
		return;
	}
	a->stats.connects++;
	a->last_rx_ms = ev_now_ms();
	sync_send_hello(a);
}

static void
sync_connect(struct agent *a)
{
	struct sockaddr_storage ss;
	unsigned sl;
	int fd;

	if (addr_parse_endpoint(a->cfg.veneerd, &ss, &sl) < 0)
		fatalx("bad veneerd address %s", a->cfg.veneerd);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		sync_retry_later(a);
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		log_debug(LOG_SUB_CTL, "connect to %s: %s", a->cfg.veneerd, strerror(errno));
		close(fd);
		sync_retry_later(a);
		return;
	}
	a->connecting_fd = fd;
	if ((a->connect_io = ev_io_add(a->loop, fd, EPOLLOUT, sync_on_connected, a)) == NULL) {
		close(fd);
		a->connecting_fd = -1;
		sync_retry_later(a);
	}
}

static void
sync_on_retry(struct ev_timer *t, void *arg)
{
	(void)t;
	sync_connect(arg);
}

static void
sync_on_beat(struct ev_timer *t, void *arg)
{
	struct agent *a = arg;
	struct cc_msg ping = {.type = CC_PING};

	if (a->conn) {
		if (ev_now_ms() - a->last_rx_ms > SYNC_DEAD_MS) {
			conn_close(a->conn, "heartbeat timeout");
		} else {
			ping.u.stamp = ev_now_ms();
			conn_send(a->conn, &ping);
		}
	}
	ev_timer_arm(t, SYNC_PING_MS);
}

int
sync_start(struct agent *a)
{
	a->connecting_fd = -1;
	a->backoff_ms = SYNC_BACKOFF_MIN_MS;
	a->retry = ev_timer_new(a->loop, sync_on_retry, a);
	a->beat = ev_timer_new(a->loop, sync_on_beat, a);
	if (a->retry == NULL || a->beat == NULL)
		return -1;
	ev_timer_arm(a->beat, SYNC_PING_MS);
	sync_connect(a);
	return 0;
}

void
sync_stop(struct agent *a)
{
	if (a->conn)
		conn_close(a->conn, "agent stopping");
	if (a->connect_io) {
		ev_io_del(a->connect_io);
		close(a->connecting_fd);
	}
	ev_timer_free(a->retry);
	ev_timer_free(a->beat);
	sync_batch_reset(a);
	free(a->pending);
}

json_t *
sync_status(const struct agent *a)
{
	return json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "veneerd",
	    a->cfg.veneerd, "connected", a->conn != NULL && a->welcomed, "replaced", a->replaced,
	    "connects",
	    (json_int_t)a->stats.connects, "disconnects", (json_int_t)a->stats.disconnects,
	    "snapshots", (json_int_t)a->stats.snapshots, "deltas", (json_int_t)a->stats.deltas,
	    "messages", (json_int_t)a->stats.messages, "refused", (json_int_t)a->stats.refused,
	    "last_batch_us", (json_int_t)a->stats.last_batch_us);
}
