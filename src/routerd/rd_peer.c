/*
 * BGP sessions of routing ports, over the kernel's TCP in each network's namespace. The
 * router is passive, as a tenant's appliance expects of a gateway: the port connects to
 * its router's address. One session per port; a connection from anything but a routing
 * port's own address to its own router is closed at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ev.h"
#include "imap.h"
#include "log.h"
#include "rd.h"

#define RD_OUT_MAX (64 * 1024 * 1024)

static uint64_t
rd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
rd_peer_arm(struct rd_peer *p)
{
	uint64_t d = p->sess ? bgp_sess_deadline(p->sess) : UINT64_MAX, now = ev_now_ms();

	if (d == UINT64_MAX)
		ev_timer_disarm(p->timer);
	else
		ev_timer_arm(p->timer, d > now ? d - now : 0);
}

/* Writes what is queued; keeps EPOLLOUT on while bytes remain. */
static void
rd_peer_flush(struct rd_peer *p)
{
	while (p->outlen > 0 && p->fd >= 0) {
		ssize_t n = send(p->fd, p->out, p->outlen, MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			p->outlen = 0;
			return;
		}
		memmove(p->out, p->out + n, p->outlen - (size_t)n);
		p->outlen -= (size_t)n;
	}
	if (p->io)
		ev_io_mod(p->io, (p->paused ? 0 : EPOLLIN) | (p->outlen ? EPOLLOUT : 0));
	if (p->sess)
		bgp_sess_txq(p->sess, p->outlen, ev_now_ms());
	/* Drained below the export's high water: what waited for it can go now. */
	if (p->outlen == 0 && p->export_waiting) {
		p->export_waiting = 0;
		rd_export_schedule(p->rd);
	}
}

static int
rd_ops_send(void *arg, const uint8_t *buf, size_t len)
{
	struct rd_peer *p = arg;

	if (p->fd < 0)
		return -1;
	if (p->outlen + len > p->outcap) {
		size_t cap = p->outcap ? p->outcap : 65536;
		uint8_t *o;

		while (cap < p->outlen + len)
			cap *= 2;
		if (cap > RD_OUT_MAX || (o = realloc(p->out, cap)) == NULL)
			return -1;
		p->out = o;
		p->outcap = cap;
	}
	memcpy(p->out + p->outlen, buf, len);
	p->outlen += len;
	rd_peer_flush(p);
	return 0;
}

int
rd_peer_send(struct rd_peer *p, const uint8_t *msg, size_t len)
{
	if (p->sess == NULL)
		return -1;
	return bgp_sess_send(p->sess, msg, len, ev_now_ms());
}

/* Closes the connection (the session object stays for the next one). */
static void
rd_peer_drop_conn(struct rd_peer *p)
{
	if (p->fd >= 0) {
		rd_peer_flush(p); /* a NOTIFICATION queued just before */
		if (p->io)
			ev_io_del(p->io);
		close(p->fd);
	}
	p->io = NULL;
	p->fd = -1;
	p->outlen = 0;
	p->inlen = 0;
	p->paused = 0;
	if (p->pace)
		ev_timer_disarm(p->pace);
}

static void
rd_ops_close(void *arg)
{
	rd_peer_drop_conn(arg);
}

static void
rd_ops_established(void *arg)
{
	struct rd_peer *p = arg;

	p->since_ms = rd_wall_ms();
	log_info("port %s: BGP session established", p->port);
	rd_route_peer_up(p);
	rd_report_session(p);
}

static void
rd_ops_down(void *arg, const struct bgp_err *err, int sent)
{
	struct rd_peer *p = arg;
	const struct bgp_open *o = bgp_sess_peer_open(p->sess);
	int was_up = p->ribpeer >= 0;

	p->since_ms = rd_wall_ms();
	if (err)
		log_info("port %s: BGP session down: %s %s", p->port, sent ? "sent" : "received",
		    bgp_err_str(err->code, err->subcode));
	else
		log_info("port %s: BGP session down: connection lost", p->port);
	/*
	 * RFC 4724 helper: a peer that vanished without a NOTIFICATION and whose capability
	 * listed IPv4 unicast with a restart time is restarting: its routes are kept that long.
	 * A capability without address families ("aware" only) keeps nothing.
	 */
	p->gr_time = o && o->gr && o->gr_ipv4u ? o->gr_time : 0;
	rd_route_peer_down(p, was_up && err == NULL && p->gr_time > 0);
	rd_report_session(p);
}

static void
rd_ops_route(void *arg, const struct bgp_prefix *pfx, const struct bgp_attrs *a)
{
	rd_route_in(arg, pfx, a);
}

static void
rd_ops_eor(void *arg)
{
	rd_route_sweep_stale(arg);
}

static void
rd_ops_refresh(void *arg, uint8_t subtype)
{
	if (subtype == 0)
		rd_route_refresh(arg);
}

static const struct bgp_sess_ops rd_ops = {
	rd_ops_send, rd_ops_close, rd_ops_established, rd_ops_down, rd_ops_route, rd_ops_eor,
	rd_ops_refresh,
};

static void
rd_peer_on_timer(struct ev_timer *t, void *arg)
{
	struct rd_peer *p = arg;

	(void)t;
	if (p->sess)
		bgp_sess_tick(p->sess, ev_now_ms());
	rd_peer_arm(p);
}

/*
 * The UPDATE budget (a token bucket of the policy's rate and depth), spent one UPDATE at a
 * time: input is handed to the session a whole message at a time, and while the bucket is
 * empty the rest waits in our buffer and the socket is not read, so TCP slows the peer down
 * and nothing is lost.
 */
static void
rd_peer_refill(struct rd_peer *p)
{
	uint64_t now = ev_now_ms();

	p->tokens += (double)(now - p->tokens_ms) * p->policy.rate / 1000.0;
	if (p->tokens > p->policy.burst)
		p->tokens = p->policy.burst;
	p->tokens_ms = now;
}

/* Length of the whole message at the start of buf, 0 while it is incomplete. */
static size_t
rd_peer_next_msg(const uint8_t *buf, size_t n)
{
	size_t len;

	if (n < BGP_HDR_LEN)
		return 0;
	len = (size_t)buf[16] << 8 | buf[17];
	/* A length the header check refuses: hand over the header alone, it fails there. */
	if (len < BGP_HDR_LEN || len > BGP_MAX_LEN)
		return BGP_HDR_LEN;
	return n >= len ? len : 0;
}

/* Feeds whole messages while the budget lasts; 1 when paused for lack of tokens. */
static int
rd_peer_feed(struct rd_peer *p)
{
	size_t len, off = 0;
	int paused = 0;

	rd_peer_refill(p);
	while (p->fd >= 0 && (len = rd_peer_next_msg(p->in_buf + off, p->inlen - off)) > 0) {
		if (p->in_buf[off + 18] == BGP_UPDATE) {
			if (p->tokens < 1) {
				paused = 1;
				break;
			}
			p->tokens -= 1;
		}
		if (bgp_sess_input(p->sess, p->in_buf + off, len, ev_now_ms()) < 0) {
			p->inlen = 0;
			return 0;
		}
		off += len;
	}
	if (p->fd < 0) {
		p->inlen = 0;
		return 0;
	}
	memmove(p->in_buf, p->in_buf + off, p->inlen - off);
	p->inlen -= off;
	return paused;
}

static void rd_peer_on_io(struct ev_io *io, uint32_t events, void *arg);

static void
rd_peer_on_pace(struct ev_timer *t, void *arg)
{
	struct rd_peer *p = arg;

	(void)t;
	if (p->fd >= 0) {
		p->paused = 0;
		rd_peer_on_io(p->io, EPOLLIN, p);
	}
}

static void
rd_peer_on_io(struct ev_io *io, uint32_t events, void *arg)
{
	struct rd_peer *p = arg;
	ssize_t n;
	int paused = 0;

	(void)io;
	if (events & EPOLLOUT)
		rd_peer_flush(p);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* Paused, epoll still reports a hang-up: the connection is gone, say so now. */
	if (p->paused && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
		rd_peer_drop_conn(p);
		bgp_sess_transport_down(p->sess, ev_now_ms());
		rd_peer_arm(p);
		return;
	}
	for (int i = 0; i < 16 && p->fd >= 0; i++) {
		/* First what is waiting in the buffer, then more from the socket. */
		if ((paused = rd_peer_feed(p)) != 0 || p->fd < 0)
			break;
		n = recv(p->fd, p->in_buf + p->inlen, sizeof(p->in_buf) - p->inlen, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			rd_peer_drop_conn(p);
			bgp_sess_transport_down(p->sess, ev_now_ms());
			break;
		}
		p->inlen += (size_t)n;
	}
	if (p->fd >= 0 && !paused)
		paused = rd_peer_feed(p);
	p->paused = paused && p->fd >= 0;
	if (p->fd >= 0 && p->io) {
		ev_io_mod(p->io, (paused ? 0 : EPOLLIN) | (p->outlen ? EPOLLOUT : 0));
		if (paused && !ev_timer_armed(p->pace))
			ev_timer_arm(p->pace, (uint64_t)(1000.0 / p->policy.rate) + 1);
	}
	rd_peer_arm(p);
}

static void
rd_peer_new_session(struct rd_peer *p, struct rd_router *r)
{
	struct bgp_sess_cfg cfg = {
		.local_as = r->asn, .local_id = r->router_id, .peer_as = p->peer_asn,
		.hold = r->hold, .min_hold = 3, .gr_time = RD_GR_TIME,
	};

	if (p->sess)
		bgp_sess_free(p->sess);
	p->sess = bgp_sess_new(&cfg, &rd_ops, p);
	p->sess_asn = r->asn;
	p->sess_hold = r->hold;
	p->sess_peer_asn = p->peer_asn;
	p->sess_ttl = p->ttl_security;
}

/* Which routing port (and router) a new connection belongs to; NULL refuses it. */
static struct rd_peer *
rd_peer_of(struct rd *rd, struct rd_net *n, uint32_t peer, uint32_t local)
{
	const struct fib_net *fnet;
	const struct fib_port *fp;
	const struct fib_subnet *gw;
	struct rd_peer *p;

	if (rd->bench_net == n)
		return map_get(&rd->peers, "bench");
	if (rd->fib == NULL || (fnet = imap_get(&rd->fib->by_vnid, n->vnid)) == NULL)
		return NULL;
	fp = imap_get(&fnet->by_ip, peer);
	gw = imap_get(&fnet->gw, local);
	if (fp == NULL || fp->p->ip != peer || !(fp->p->flags & CC_PORT_ROUTING) ||
	    gw == NULL || fp->sub == NULL || gw->rtr != fp->sub->rtr)
		return NULL;
	p = map_get(&rd->peers, fp->p->id);
	return p;
}

static void
rd_peer_take(struct rd_peer *p, int fd, struct rd_router *r)
{
	int one = 1, ttl = 255;

	if (p->fd >= 0) {
		const struct bgp_open *o = bgp_sess_peer_open(p->sess);

		/*
		 * A new connection while one exists: an established session keeps its place
		 * (RFC 4271 6.8), unless the peer does graceful restart, for which a new
		 * connection means it restarted without closing the old one (RFC 4724 4.2); a
		 * half-open session is replaced by the newer.
		 */
		if (bgp_sess_state(p->sess) == BGP_S_ESTABLISHED && !(o && o->gr && o->gr_ipv4u)) {
			close(fd);
			return;
		}
		rd_peer_drop_conn(p);
		bgp_sess_transport_down(p->sess, ev_now_ms());
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	/* GTSM (RFC 5082): the peer is one hop away and must send with TTL 255. */
	if (p->ttl_security)
		setsockopt(fd, IPPROTO_IP, IP_MINTTL, &ttl, sizeof(ttl));
	p->fd = fd;
	p->io = ev_io_add(p->rd->loop, fd, EPOLLIN, rd_peer_on_io, p);
	if (p->io == NULL) {
		close(fd);
		p->fd = -1;
		return;
	}
	rd_peer_new_session(p, r);
	if (p->sess == NULL) {
		rd_peer_drop_conn(p);
		return;
	}
	p->tokens = p->policy.burst;
	p->tokens_ms = ev_now_ms();
	bgp_sess_start(p->sess, ev_now_ms());
	p->since_ms = rd_wall_ms();
	rd_report_session(p);
	rd_peer_arm(p);
}

void
rd_peer_on_accept(struct ev_io *io, uint32_t events, void *arg)
{
	struct rd_net *n = arg;
	struct rd *rd = n->rd;
	struct sockaddr_in peer, local;
	socklen_t pl, ll;
	struct rd_peer *p;
	struct rd_router *r;
	int fd;

	(void)io;
	(void)events;
	for (;;) {
		pl = sizeof(peer);
		fd = accept4(n->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("network %s: accepting a BGP connection", n->id);
			return;
		}
		ll = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0) {
			close(fd);
			continue;
		}
		p = rd_peer_of(rd, n, ntohl(peer.sin_addr.s_addr), ntohl(local.sin_addr.s_addr));
		r = p ? map_get(&rd->routers, p->router) : NULL;
		if (p && ev_now_ms() < p->refuse_until) {
			/* Held down after max-prefix (like FRR's restart timer): not again yet. */
			close(fd);
			continue;
		}
		if (p == NULL || r == NULL) {
			char buf[ADDR4_STRLEN];

			addr4_fmt(ntohl(peer.sin_addr.s_addr), buf);
			log_warnx("network %s: BGP connection from %s refused: not a routing port "
			    "of that router", n->id, buf);
			close(fd);
			continue;
		}
		rd_peer_take(p, fd, r);
	}
}

void
rd_peer_free(struct rd_peer *p)
{
	if (p->sess && bgp_sess_state(p->sess) >= BGP_S_OPENSENT)
		bgp_sess_stop(p->sess, BGP_ERR_CEASE, BGP_CEASE_DECONFIG, ev_now_ms());
	rd_peer_drop_conn(p);
	rd_route_peer_down(p, 0);
	if (p->sess)
		bgp_sess_free(p->sess);
	ev_timer_free(p->timer);
	ev_timer_free(p->gr_timer);
	ev_timer_free(p->pace);
	map_clear(&p->in);
	map_clear(&p->adj_out);
	free(p->out);
	free(p);
}

struct rd_peer *
rd_peer_new(struct rd *rd, const char *port)
{
	struct rd_peer *p = calloc(1, sizeof(*p));
	int failed = 0;

	if (p == NULL)
		return NULL;
	p->rd = rd;
	p->fd = -1;
	p->ribpeer = -1;
	snprintf(p->port, sizeof(p->port), "%s", port);
	rd_policy_default(&p->policy);
	p->timer = ev_timer_new(rd->loop, rd_peer_on_timer, p);
	p->gr_timer = ev_timer_new(rd->loop, rd_route_on_gr, p);
	p->pace = ev_timer_new(rd->loop, rd_peer_on_pace, p);
	if (p->timer == NULL || p->gr_timer == NULL || p->pace == NULL ||
	    (map_put(&rd->peers, port, p, &failed), failed)) {
		rd_peer_free(p);
		return NULL;
	}
	return p;
}

/* The port's own settings (JSON from veneerd) over its network's policy. */
static void
rd_peer_configure(struct rd_peer *p, struct rd_net *n, const char *json)
{
	json_t *root = json ? json_loads(json, 0, NULL) : NULL;
	json_t *b = json_object_get(root, "bgp"), *v;
	const char *pw;

	p->policy = n->policy;
	p->own_policy = 0;
	p->peer_asn = 0;
	p->ttl_security = 0;
	if (json_is_integer(v = json_object_get(b, "peer_asn")))
		p->peer_asn = (uint32_t)json_integer_value(v);
	pw = json_string_value(json_object_get(b, "password"));
	if (strcmp(p->password, pw ? pw : "") != 0 || (pw && n->lfd >= 0)) {
		snprintf(p->password, sizeof(p->password), "%s", pw ? pw : "");
		rd_ns_md5(n, p->ip, pw);
	}
	p->ttl_security = json_is_true(json_object_get(b, "ttl_security"));
	if ((v = json_object_get(b, "import_policy")) != NULL && json_is_object(v)) {
		char *txt = json_dumps(v, JSON_COMPACT);

		if (txt && rd_policy_parse(txt, &p->policy) == 0)
			p->own_policy = 1;
		else
			p->policy = n->policy;
		free(txt);
	}
	if (json_is_integer(v = json_object_get(b, "max_prefix")))
		p->policy.max_prefix = (uint32_t)json_integer_value(v);
	if (json_is_integer(v = json_object_get(b, "max_prefix_warning")))
		p->policy.warn_pct = (uint32_t)json_integer_value(v);
	json_decref(root);
}

/* Ends the session: its settings changed (Cease, other configuration change, RFC 4486). */
static void
rd_peer_restart(struct rd_peer *p, const char *why)
{
	if (p->sess == NULL || bgp_sess_state(p->sess) < BGP_S_OPENSENT)
		return;
	log_info("port %s: %s: session restarted", p->port, why);
	bgp_sess_stop(p->sess, BGP_ERR_CEASE, BGP_CEASE_CONFIG, ev_now_ms());
}

/*
 * The port moved (another subnet, router, network or address): its session, its table
 * slot and its routes belong to where it was, so all of that ends before the move.
 */
static void
rd_peer_moved(struct rd_peer *p, const struct fib_net *fn, const struct fib_port *fp)
{
	if (p->net[0] == '\0' || (strcmp(p->net, fn->n->id) == 0 &&
	    strcmp(p->router, fp->sub->rtr->r->id) == 0 && strcmp(p->subnet, fp->sub->s->id) == 0 &&
	    p->ip == fp->p->ip))
		return;
	rd_peer_restart(p, "moved");
	rd_route_peer_down(p, 0);
}

/*
 * New settings: what the session was opened with (our AS and hold time, the peer's AS,
 * GTSM) restarts it; a new import policy asks the peer for its routes again (RFC 2918)
 * so that every route gets the new verdict, or restarts the session if it cannot.
 */
static void
rd_peer_reconfigure(struct rd_peer *p, struct rd_net *n, const char *json)
{
	struct rd_policy old = p->policy;
	struct rd_router *r = map_get(&p->rd->routers, p->router);
	const struct bgp_open *o;
	uint8_t msg[BGP_HDR_LEN + 4];
	size_t len;

	rd_peer_configure(p, n, json);
	if (p->sess == NULL || bgp_sess_state(p->sess) < BGP_S_OPENSENT)
		return;
	if (r && (r->asn != p->sess_asn || r->hold != p->sess_hold ||
	    p->peer_asn != p->sess_peer_asn || p->ttl_security != p->sess_ttl)) {
		rd_peer_restart(p, "session settings changed");
		return;
	}
	if (!rd_policy_verdicts_differ(&old, &p->policy) ||
	    bgp_sess_state(p->sess) != BGP_S_ESTABLISHED)
		return;
	/* Accepted routes are judged again here; refused ones need the peer to send them. */
	rd_route_reevaluate(p);
	o = bgp_sess_peer_open(p->sess);
	if (o && o->rr && (len = bgp_refresh_build(msg, sizeof(msg), 1, 0, 1)) > 0) {
		log_info("port %s: import policy changed: asking for its routes again", p->port);
		rd_peer_send(p, msg, len);
	} else {
		log_info("port %s: import policy changed; without route refresh, routes it "
		    "refused before are judged again when it announces them again", p->port);
	}
}

void
rd_peer_sync(struct rd *rd)
{
	struct rd_keys gone = {0};

	rd_unseen_begin(&rd->peers, offsetof(struct rd_peer, seen));
	for (int i = 0; rd->fib && i < rd->fib->nnets; i++) {
		const struct fib_net *fn = &rd->fib->nets[i];
		struct rd_net *n = map_get(&rd->nets, fn->n->id);

		for (int k = 0; n && k < fn->nports; k++) {
			const struct fib_port *fp = &fn->ports[k];
			const struct abgpconf *conf;
			struct rd_peer *p;

			if (!(fp->p->flags & CC_PORT_ROUTING) || fp->sub == NULL || fp->sub->rtr == NULL)
				continue;
			if ((p = map_get(&rd->peers, fp->p->id)) == NULL &&
			    (p = rd_peer_new(rd, fp->p->id)) == NULL)
				continue;
			p->seen = 1;
			rd_peer_moved(p, fn, fp);
			snprintf(p->net, sizeof(p->net), "%s", fn->n->id);
			snprintf(p->router, sizeof(p->router), "%s", fp->sub->rtr->r->id);
			snprintf(p->subnet, sizeof(p->subnet), "%s", fp->sub->s->id);
			/* A port whose address changed is another peer for the listener's keys. */
			if (p->ip != fp->p->ip && p->password[0])
				rd_ns_md5(n, p->ip, NULL);
			p->ip = fp->p->ip;
			p->gw = fp->sub->gw;
			conf = map_get(&rd->sync.live->bgpconf, fp->p->id);
			rd_peer_reconfigure(p, n, conf ? conf->json : NULL);
		}
	}
	rd_unseen_collect(&rd->peers, offsetof(struct rd_peer, seen), &gone);
	for (size_t i = 0; i < gone.n; i++) {
		struct rd_peer *p = map_del(&rd->peers, gone.ids[i]);

		if (p == NULL || rd->bench_net)
			continue;
		log_info("port %s: no longer a routing port here: session closed", p->port);
		rd_peer_free(p);
	}
	free(gone.ids);
}

json_t *
rd_peer_json(const struct rd_peer *p)
{
	const struct bgp_sess_stats *st = p->sess ? bgp_sess_stats(p->sess) : NULL;
	const struct bgp_open *o = p->sess ? bgp_sess_peer_open(p->sess) : NULL;
	char ip[ADDR4_STRLEN];

	addr4_fmt(p->ip, ip);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "port", p->port, "router", p->router, "peer_ip", ip,
	    "state", bgp_state_str(p->sess ? bgp_sess_state(p->sess) : BGP_S_IDLE),
	    "peer_asn", (json_int_t)(o ? o->asn : p->peer_asn),
	    "prefixes_received", (json_int_t)p->received,
	    "accepted", (json_int_t)p->accepted, "rejected", (json_int_t)p->rejected,
	    "updates_in", (json_int_t)(st ? st->updates_in : 0),
	    "treat_as_withdraw", (json_int_t)(st ? st->treat_as_withdraw : 0),
	    "attrs_discarded", (json_int_t)(st ? st->attrs_discarded : 0),
	    "last_error", st && st->has_last_err ? bgp_err_str(st->last_err.code,
	    st->last_err.subcode) : "");
}
