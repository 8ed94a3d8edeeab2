#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"

struct conn {
	struct ev_loop *loop;
	struct ev_io *io;
	int fd;
	int closed;
	int closing; /* close once the queue is written */
	int corked;  /* queue without writing until conn_uncork */
	int capturing;
	int cap_broken; /* something was written since conn_capture: not readable back */
	size_t cap_off; /* where conn_capture began, in wq */
	char peer[64];
	conn_msg_cb on_msg;
	conn_close_cb on_close;
	conn_drained_cb on_drained;
	void *arg;
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wq;
	size_t wlen, wcap, woff;
	char (*nets)[CC_ID_LEN]; /* room for a HELLO's network list */
};

#define CONN_CORK_MAX (256u << 10)

static void conn_on_io(struct ev_io *io, uint32_t events, void *arg);

struct conn *
conn_new(struct ev_loop *loop, int fd, const char *peer, conn_msg_cb on_msg,
    conn_close_cb on_close, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->rbuf = malloc(CC_MAX_MSG)) == NULL ||
	    (c->nets = calloc(CC_MAX_NETS, CC_ID_LEN)) == NULL) {
		if (c) {
			free(c->rbuf);
			free(c);
		}
		close(fd);
		return NULL;
	}
	c->loop = loop;
	c->fd = fd;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if ((c->io = ev_io_add(loop, fd, EPOLLIN, conn_on_io, c)) == NULL) {
		free(c->nets);
		free(c->rbuf);
		free(c);
		close(fd);
		return NULL;
	}
	return c;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

size_t
conn_queued(const struct conn *c)
{
	return c->wlen - c->woff;
}

static void
conn_free(void *p)
{
	struct conn *c = p;

	free(c->nets);
	free(c->rbuf);
	free(c->wq);
	free(c);
}

void
conn_close(struct conn *c, const char *reason)
{
	if (c->closed)
		return;
	c->closed = 1;
	ev_io_del(c->io);
	close(c->fd);
	if (c->on_close)
		c->on_close(c, reason, c->arg);
	ev_defer_free(c->loop, conn_free, c);
}

/* Writes what the socket takes; closes on error. */
static void
conn_flush(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->wq + c->woff, c->wlen - c->woff);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c, strerror(errno));
			return;
		}
		c->woff += (size_t)n;
		if (c->capturing)
			c->cap_broken = 1;
	}
	if (c->woff == c->wlen) {
		c->woff = c->wlen = 0;
		if (c->closing) {
			conn_close(c, "closed after error");
			return;
		}
	}
	ev_io_mod(c->io, EPOLLIN | (c->wlen > c->woff ? EPOLLOUT : 0));
}

/*
 * Corked, the queue is written only past CONN_CORK_MAX: a snapshot of many megabytes still
 * streams to the socket instead of being held whole (and over the queue limit).
 */
static void
conn_maybe_flush(struct conn *c)
{
	if (!c->corked || c->wlen - c->woff > CONN_CORK_MAX)
		conn_flush(c);
}

/* Makes room for `need` more bytes; -1 if closed for it. */
static int
conn_reserve(struct conn *c, size_t need)
{
	if (c->closed)
		return -1;
	if (c->wcap - c->wlen < need && c->woff > 0) {
		/* Compact first, then grow: the queue stays one contiguous block. */
		memmove(c->wq, c->wq + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		if (c->capturing)
			c->cap_off -= c->woff;
		c->woff = 0;
	}
	while (c->wcap - c->wlen < need) {
		size_t cap = c->wcap ? c->wcap * 2 : 4 * CC_MAX_MSG;
		uint8_t *q;

		if (cap > CONN_QUEUE_LIMIT || (q = realloc(c->wq, cap)) == NULL) {
			conn_close(c, "peer does not read: send queue full");
			return -1;
		}
		c->wq = q;
		c->wcap = cap;
	}
	return 0;
}

/* Room for one more message of at most CC_MAX_MSG bytes. */
static int
conn_room(struct conn *c)
{
	return conn_reserve(c, CC_MAX_MSG);
}

int
conn_send_bytes(struct conn *c, const uint8_t *bytes, size_t len)
{
	if (conn_reserve(c, len) < 0)
		return -1;
	memcpy(c->wq + c->wlen, bytes, len);
	c->wlen += len;
	conn_maybe_flush(c);
	return c->closed ? -1 : 0;
}

void
conn_capture(struct conn *c)
{
	c->capturing = 1;
	c->cap_broken = 0;
	c->cap_off = c->wlen;
}

const uint8_t *
conn_captured(struct conn *c, size_t *len)
{
	int ok = c->capturing && !c->cap_broken && !c->closed && c->wlen >= c->cap_off;

	c->capturing = 0;
	if (!ok)
		return NULL;
	*len = c->wlen - c->cap_off;
	return c->wq + c->cap_off;
}

int
conn_send_raw(struct conn *c, const uint8_t *msg, size_t len)
{
	return len > CC_MAX_MSG ? -1 : conn_send_bytes(c, msg, len);
}

void
conn_cork(struct conn *c)
{
	c->corked = 1;
}

void
conn_uncork(struct conn *c)
{
	if (!c->corked || c->closed)
		return;
	c->corked = 0;
	conn_flush(c);
}

int
conn_send(struct conn *c, const struct cc_msg *m)
{
	struct wbuf w;

	if (conn_room(c) < 0)
		return -1;
	w = wbuf_make(c->wq + c->wlen, c->wcap - c->wlen);
	cc_encode(&w, m);
	if (w.failed) {
		log_warnx("conn %s: cannot encode %s", c->peer, cc_type_name(m->type));
		return -1;
	}
	c->wlen += w.len;
	conn_maybe_flush(c);
	return c->closed ? -1 : 0;
}

void
conn_fail(struct conn *c, uint16_t code, const char *reason)
{
	struct cc_msg m = {.type = CC_ERROR};

	log_warnx("conn %s: closing: %s", c->peer, reason);
	m.u.error.code = code;
	snprintf(m.u.error.reason, sizeof(m.u.error.reason), "%s", reason);
	c->closing = 1;
	if (conn_send(c, &m) < 0)
		return;
	ev_io_mod(c->io, EPOLLOUT); /* stop reading: nothing more is accepted */
}

/* Decodes every whole message in the receive buffer. */
static void
conn_drain(struct conn *c)
{
	size_t off = 0, n;
	struct cc_msg m;
	enum cc_result r;

	while (!c->closed && !c->closing) {
		r = cc_frame(c->rbuf + off, c->rlen - off, &n);
		if (r == CC_E_SHORT)
			break;
		if (r == CC_OK) {
			m.u.hello.nets = c->nets;
			r = cc_decode(c->rbuf + off, n, &m);
		}
		if (r != CC_OK) {
			char why[96];

			snprintf(why, sizeof(why), "malformed message: %s", cc_result_name(r));
			conn_fail(c, 400, why);
			break;
		}
		off += n;
		c->on_msg(c, &m, c->arg);
	}
	if (!c->closed && off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (off > 0 && c->on_drained)
		c->on_drained(c, c->arg);
}

void
conn_on_drained(struct conn *c, conn_drained_cb cb)
{
	c->on_drained = cb;
}

static void
conn_read(struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf + c->rlen, CC_MAX_MSG - c->rlen);

		if (n == 0) {
			conn_close(c, "peer closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, strerror(errno));
			return;
		}
		c->rlen += (size_t)n;
		conn_drain(c);
		if (c->closed || c->closing)
			return;
	}
}

static void
conn_on_io(struct ev_io *io, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)io;
	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->closed && !c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(c);
	else if (!c->closed && (events & (EPOLLHUP | EPOLLERR)))
		conn_close(c, "connection error");
}
