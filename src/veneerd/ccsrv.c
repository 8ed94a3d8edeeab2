/*
 * Agent sessions: registration, batches by revision with one batch in flight per agent
 * (the agent's ACK is the flow control; changes meanwhile coalesce into the next batch),
 * heartbeats, and the host's state as seen by the API.
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

#include "claim.h"
#include "conn.h"
#include "map.h"
#include "ev.h"
#include "log.h"
#include "util.h"
#include "vd.h"
#include "ccsrv.h"

#define CCSRV_PING_MS 5000
#define CCSRV_DEAD_MS 15000
#define CCSRV_KEEP_CHANGES 100000
#define CCSRV_REPLACED 409 /* ERROR code: the agent must not come back (see sync.c) */

struct ccsess {
	struct ccsess *next;
	struct ccsrv *cs;
	struct conn *conn;
	int ready;             /* registered */
	int role;              /* enum cc_role */
	int dead;
	char host[CC_HOST_LEN];
	char peer[64];
	struct ccnets nets;    /* what the agent holds once it applies the batch in flight */
	int64_t sent;          /* revision of the batch in flight (0 = none) */
	int64_t acked;         /* revision the agent has applied */
	uint64_t acked_ms;     /* monotonic time of that ACK */
	uint64_t last_rx_ms;
	time_t since;
	json_t *drops;  /* the agent's last counters: {reason: n} */
	json_t *ports;  /* {port id: {rx, tx, drops}} */
};

struct ccsrv {
	struct vd *vd;
	struct map gone;  /* hosts whose session closed: marked down once no session remains */
	int fd;
	struct ev_io *io;
	struct ev_timer *beat;
	struct ev_timer *kick;
	uint8_t token_hash[32];
	uint8_t rtoken_hash[32];   /* routerd's credential, if one is configured */
	int has_rtoken;
	struct ccsess *sessions;
	/* routerd's reports of one read, in one transaction (one fsync, one revision) */
	int batch;          /* the transaction is open */
	int batch_changed;  /* forwarding changed in it */
	struct ccsess *first; /* the session whose report is being committed: pushed first */
	struct ccsess *resync; /* routerd's session re-sending its claims (claim_resync_begin) */
	struct ccbatches batches; /* this revision's deltas, for sessions in the same place */
};

static void
ccsrv_sess_free(void *p)
{
	struct ccsess *s = p;

	ccnets_free(&s->nets);
	json_decref(s->drops);
	json_decref(s->ports);
	free(s);
}

static void
ccsrv_unlink(struct ccsrv *cs, struct ccsess *s)
{
	for (struct ccsess **pp = &cs->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

static int
ccsrv_host_connected(struct ccsrv *cs, const char *host, const struct ccsess *except)
{
	for (struct ccsess *s = cs->sessions; s; s = s->next)
		if (s != except && s->ready && !s->dead && strcmp(s->host, host) == 0)
			return 1;
	return 0;
}

/* Records a host's observed state; a state change is a change like any other. */
static void
ccsrv_set_host_state(struct ccsrv *cs, const char *host, const char *state)
{
	struct store *st = cs->vd->st;

	if (store_begin(st, 1) != 0)
		return;
	if (store_i(st, "SELECT 1 FROM hosts WHERE name = ? AND state != ?", 0, "ss", host,
	    state) == 1) {
		store_change(st, "host", host, "update", NULL);
		store_x(st, "UPDATE hosts SET state = ?, last_seen = ?, revision = ? WHERE name = ?",
		    "siis", state, (int64_t)time(NULL), store_bump(st), host);
	}
	if (store_commit(st) != 0)
		store_rollback(st);
	else
		ccsrv_changed(cs);
}

static void
ccsrv_on_close(struct conn *c, const char *reason, void *arg)
{
	struct ccsess *s = arg;
	struct ccsrv *cs = s->cs;

	(void)c;
	log_info("agent %s (%s): disconnected: %s", s->host[0] ? s->host : "?", s->peer, reason);
	s->dead = 1;
	if (cs->resync == s) {
		claim_resync_abort();
		cs->resync = NULL;
	}
	ccsrv_unlink(cs, s);
	/*
	 * Not now: a close can happen in the middle of sending a batch, inside its read
	 * transaction. The kick timer marks the host down after this loop round.
	 */
	if (s->ready) {
		map_put(&cs->gone, s->host, cs, NULL);
		ccsrv_changed(cs);
	}
	ev_defer_free(cs->vd->loop, ccsrv_sess_free, s);
}

/* Encodes the delta (BEGIN .. END) inside the read transaction; -1 if the conn closed. */
static int
ccsrv_encode_delta(struct ccsess *s, int64_t rev, const struct ccnets *want)
{
	struct vd *vd = s->cs->vd;
	struct cc_msg m = {.type = CC_BEGIN};

	m.u.begin.kind = CC_DELTA;
	m.u.begin.revision = (uint64_t)rev;
	if (conn_send(s->conn, &m) < 0 ||
	    ccdump_delta(vd, s->conn, s->role, s->acked, rev, &s->nets, want) < 0)
		return -1;
	m.type = CC_END;
	m.u.end.revision = (uint64_t)rev;
	m.u.end.nonce = (uint64_t)store_nonce(vd->st, rev);
	return conn_send(s->conn, &m);
}

/* Sends the next batch if the agent is idle and behind: one kept for its place, or a new one. */
static void
ccsrv_push_batch(struct ccsess *s)
{
	struct ccsrv *cs = s->cs;
	struct vd *vd = cs->vd;
	int64_t rev = store_revision(vd->st);
	struct ccnets want = {0};
	const struct ccbatch *b;
	const uint8_t *bytes;
	size_t len;
	int rc;

	if (!s->ready || s->dead || s->sent || s->acked >= rev)
		return;
	if (store_begin(vd->st, 0) != 0)
		return;
	rev = store_revision(vd->st);
	if (ccdump_interest(vd, s->host, s->role, &want) < 0) {
		store_rollback(vd->st);
		ccnets_free(&want);
		return;
	}
	if ((b = ccbatch_find(&cs->batches, s->role, s->acked, rev, &s->nets, &want)) != NULL) {
		rc = conn_send_bytes(s->conn, b->bytes, b->len);
	} else {
		conn_capture(s->conn);
		rc = ccsrv_encode_delta(s, rev, &want);
		if (rc == 0 && (bytes = conn_captured(s->conn, &len)) != NULL)
			ccbatch_keep(&cs->batches, s->role, s->acked, rev, &s->nets, &want, bytes,
			    len);
	}
	store_rollback(vd->st); /* a read transaction: nothing to commit */
	if (rc < 0) {
		ccnets_free(&want);
		return;
	}
	ccnets_free(&s->nets);
	s->nets = want;
	s->sent = rev;
}

/* A batch leaves in one write: its agent wakes once, and veneerd is preempted less. */
static void
ccsrv_push(struct ccsess *s)
{
	conn_cork(s->conn);
	ccsrv_push_batch(s);
	conn_uncork(s->conn);
}

static void
ccsrv_snapshot_batch(struct ccsess *s)
{
	struct vd *vd = s->cs->vd;
	struct cc_msg m = {.type = CC_BEGIN};
	int64_t rev;

	if (store_begin(vd->st, 0) != 0) {
		conn_fail(s->conn, 503, "store busy");
		return;
	}
	rev = store_revision(vd->st);
	ccnets_free(&s->nets);
	if (ccdump_interest(vd, s->host, s->role, &s->nets) < 0) {
		store_rollback(vd->st);
		conn_fail(s->conn, 500, "out of memory");
		return;
	}
	m.u.begin.kind = CC_SNAPSHOT;
	m.u.begin.revision = (uint64_t)rev;
	if (conn_send(s->conn, &m) == 0 && ccdump_snapshot(vd, s->conn, s->role, &s->nets) == 0) {
		m.type = CC_END;
		m.u.end.revision = (uint64_t)rev;
		m.u.end.nonce = (uint64_t)store_nonce(vd->st, rev);
		if (conn_send(s->conn, &m) == 0)
			s->sent = rev;
	}
	store_rollback(vd->st);
}

static void
ccsrv_snapshot(struct ccsess *s)
{
	conn_cork(s->conn);
	ccsrv_snapshot_batch(s);
	conn_uncork(s->conn);
}

static void
ccsrv_on_kick(struct ev_timer *t, void *arg)
{
	struct ccsrv *cs = arg;

	(void)t;
	while (cs->gone.count > 0) {
		char host[CC_HOST_LEN] = "";

		for (size_t i = 0; i < cs->gone.cap && !host[0]; i++)
			if (cs->gone.slots[i].val)
				snprintf(host, sizeof(host), "%s", cs->gone.slots[i].key);
		map_del(&cs->gone, host);
		if (!ccsrv_host_connected(cs, host, NULL))
			ccsrv_set_host_state(cs, host, "down");
	}
	for (struct ccsess *s = cs->sessions; s; s = s->next)
		ccsrv_push(s);
}

/*
 * A commit is visible and its fsync has not begun: idle agents get their batch now, so the
 * disk's latency (milliseconds, tens on a loaded machine) is not on the way of a failover.
 */
static void
ccsrv_on_visible(void *arg)
{
	struct ccsrv *cs = arg;

	/*
	 * The session that reported the change first: for a gratuitous ARP that is the new
	 * holder's agent, whose port cannot answer from the address until it knows.
	 */
	if (cs->first)
		ccsrv_push(cs->first);
	for (struct ccsess *s = cs->sessions; s; s = s->next)
		ccsrv_push(s);
}

void
ccsrv_changed(struct ccsrv *cs)
{
	/* A zero timer runs after this loop round: several commits make one batch. */
	if (cs && !ev_timer_armed(cs->kick))
		ev_timer_arm(cs->kick, 0);
}

/* The API's rule for a host address (addr.h), on the wire form. */
static int
ccsrv_unicast(const struct cc_addr *a)
{
	if (a->family == 4)
		return addr4_is_host((uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
		    (uint32_t)a->a[2] << 8 | a->a[3]);
	return a->family == 6 && addr6_is_host(a->a);
}

/* Does prefix overlap the embed6 prefix of a host other than self? */
static int
ccsrv_prefix_taken(struct store *st, const char *prefix, const char *self)
{
	sqlite3_stmt *s = store_q(st, "SELECT prefix FROM hosts WHERE prefix IS NOT NULL AND "
	    "name != ?", "s", self);
	struct pfx6 mine, other;
	int taken = 0;

	pfx6_parse(prefix, &mine, 0, 128);
	while (!taken && sqlite3_step(s) == SQLITE_ROW)
		taken = pfx6_parse((const char *)sqlite3_column_text(s, 0), &other, 0, 128) ==
		    ADDR_OK && pfx6_overlaps(&mine, &other);
	sqlite3_reset(s);
	return taken;
}

/* Validates a HELLO and records the host (created on first registration). */
static int
ccsrv_register(struct ccsess *s, const struct cc_hello *h, char *why, size_t whysz)
{
	struct ccsrv *cs = s->cs;
	struct store *st = cs->vd->st;
	char addr[ADDR6_STRLEN] = "", prefix[PFX6_STRLEN] = "";
	uint8_t hash[32];
	const char *encap = h->encap == CC_ENCAP_EMBED6 ? "embed6" : "vxlan";

	auth_hash(h->credential, hash);
	if (h->role == CC_ROLE_ROUTERD ? !cs->has_rtoken ||
	    !util_ct_equal(hash, cs->rtoken_hash, sizeof(hash)) :
	    !util_ct_equal(hash, cs->token_hash, sizeof(hash)))
		return snprintf(why, whysz, "bad credential"), -1;
	if (h->min_version > CC_VERSION || h->max_version < CC_VERSION)
		return snprintf(why, whysz, "no common protocol version"), -1;
	if (!jv_is_hostname(h->host))
		return snprintf(why, whysz, "bad host name"), -1;
	if (!ccsrv_unicast(&h->address))
		return snprintf(why, whysz, "the substrate address must be unicast"), -1;
	if (h->address.family == 4)
		addr4_fmt((uint32_t)h->address.a[0] << 24 | (uint32_t)h->address.a[1] << 16 |
		    (uint32_t)h->address.a[2] << 8 | h->address.a[3], addr);
	else
		addr6_fmt(h->address.a, addr);
	if (h->encap == CC_ENCAP_EMBED6) {
		struct pfx6 p;

		if (h->prefix.family != 6 || h->prefix.len < 32 || h->prefix.len > 72)
			return snprintf(why, whysz, "embed6 needs a host prefix of length 32-72"), -1;
		memcpy(p.addr, h->prefix.a, 16);
		p.len = h->prefix.len;
		pfx6_fmt(&p, prefix);
	}
	if (store_begin(st, 1) != 0)
		return snprintf(why, whysz, "store busy"), -1;
	if (store_i(st, "SELECT 1 FROM hosts WHERE address = ? AND name != ?", 0, "ss", addr,
	    h->host) == 1) {
		store_rollback(st);
		return snprintf(why, whysz, "address %s belongs to another host", addr), -1;
	}
	if (prefix[0] && ccsrv_prefix_taken(st, prefix, h->host)) {
		store_rollback(st);
		return snprintf(why, whysz, "prefix %s overlaps another host's", prefix), -1;
	}
	store_change(st, "host", h->host, "update", NULL);
	store_x(st, "INSERT INTO hosts (name, address, encap, prefix, state, last_seen, created, "
	    "revision, role) VALUES (?1, ?2, ?3, ?4, 'up', ?5, ?5, ?6, ?7) ON CONFLICT (name) DO "
	    "UPDATE SET address = ?2, encap = ?3, prefix = ?4, state = 'up', last_seen = ?5, "
	    "revision = ?6, role = ?7", "ssssiis", h->host, addr, encap, prefix[0] ? prefix : NULL,
	    (int64_t)time(NULL), store_bump(st), h->role == CC_ROLE_ROUTERD ? "routerd" : "agent");
	if (store_commit(st) != 0)
		return snprintf(why, whysz, "store commit failed"), -1;
	ccsrv_changed(cs);
	return 0;
}

/* A reconnecting agent gets a delta from what it holds when the log still covers it. */
static void
ccsrv_on_hello(struct ccsess *s, const struct cc_hello *h)
{
	struct vd *vd = s->cs->vd;
	struct cc_msg m = {.type = CC_WELCOME};
	char why[128];
	int64_t rev;

	if (s->ready) {
		conn_fail(s->conn, 400, "HELLO twice");
		return;
	}
	if (ccsrv_register(s, h, why, sizeof(why)) < 0) {
		conn_fail(s->conn, 403, why);
		return;
	}
	snprintf(s->host, sizeof(s->host), "%s", h->host);
	s->ready = 1;
	s->role = h->role;
	if (s->role == CC_ROLE_ROUTERD) {
		s->cs->resync = s;
		claim_resync_begin();
	}
	/* A newer session of the same host replaces the old one (ready first: the host stays up). */
	for (struct ccsess *o = s->cs->sessions; o; o = o->next)
		if (o != s && o->ready && strcmp(o->host, h->host) == 0)
			conn_fail(o->conn, CCSRV_REPLACED, "replaced by a newer session of this host");
	s->since = time(NULL);
	rev = store_revision(vd->st);
	m.u.welcome.version = CC_VERSION;
	m.u.welcome.revision = (uint64_t)rev;
	if (conn_send(s->conn, &m) < 0)
		return;
	log_info("agent %s (%s) registered, holds revision %llu, store at %lld", s->host, s->peer,
	    (unsigned long long)h->revision, (long long)rev);
	if (h->revision == 0 || (int64_t)h->revision > rev || h->nonce == 0 ||
	    (uint64_t)store_nonce(vd->st, (int64_t)h->revision) != h->nonce ||
	    (int64_t)h->revision < ccdump_floor(vd)) {
		ccsrv_snapshot(s);
		return;
	}
	for (unsigned i = 0; i < h->nnets; i++)
		ccnets_add(&s->nets, h->nets[i]);
	s->acked = (int64_t)h->revision;
	ccsrv_push(s);
}

static void
ccsrv_on_port_state(struct ccsess *s, const struct cc_port_state *ps)
{
	struct store *st = s->cs->vd->st;

	/* Observed state, not desired state: no revision. Only the host's own ports. */
	if (store_begin(st, 1) != 0)
		return;
	store_x(st, "UPDATE ports SET state = ? WHERE id = ? AND host = ?", "sss",
	    ps->up ? "up" : "down", ps->id, s->host);
	if (store_commit(st) != 0)
		store_rollback(st);
}

static void
ccsrv_on_stats(struct ccsess *s, const struct cc_stats *st)
{
	struct cur c = st->body;
	struct cc_stat_port p;
	char name[32];
	uint64_t v;
	json_t *drops = json_object(), *ports = json_object();

	for (unsigned i = 0; i < st->nreasons && cc_stats_reason(&c, name, &v) == 0; i++)
		json_object_set_new(drops, name, json_integer((json_int_t)v));
	for (unsigned i = 0; i < st->nports && cc_stats_port(&c, &p) == 0; i++)
		json_object_set_new(ports, p.id, json_pack("{s:I, s:I, s:I}", "rx",
		    (json_int_t)p.rx, "tx", (json_int_t)p.tx, "drops", (json_int_t)p.drops));
	json_decref(s->drops);
	json_decref(s->ports);
	s->drops = drops;
	s->ports = ports;
}

/*
 * The reports of one read end here: committed together. A failover is a route gained and
 * another lost; in one transaction agents never see the revision in between, and veneerd
 * pays one fsync instead of one per report.
 */
static void
ccsrv_batch_end(struct ccsrv *cs)
{
	if (!cs->batch)
		return;
	cs->batch = 0;
	if (store_commit(cs->vd->st) != 0) {
		store_rollback(cs->vd->st);
		cs->batch_changed = 0;
		/* routerd reconnects and sends everything again: nothing is lost for good. */
		for (struct ccsess *s = cs->sessions; s; s = s->next)
			if (s->ready && s->role == CC_ROLE_ROUTERD)
				conn_fail(s->conn, 503, "store commit failed: report again");
		return;
	}
	if (cs->batch_changed)
		ccsrv_changed(cs);
	cs->batch_changed = 0;
}

static void
ccsrv_on_drained(struct conn *c, void *arg)
{
	struct ccsess *s = arg;

	(void)c;
	ccsrv_batch_end(s->cs);
}

/* Routing manager reports: only a registered routerd may make them. */
static void
ccsrv_on_report(struct ccsess *s, const struct cc_msg *m)
{
	struct ccsrv *cs = s->cs;
	struct vd *vd = cs->vd;
	int rc;

	if (s->role != CC_ROLE_ROUTERD) {
		conn_fail(s->conn, 403, "only veneer-routerd reports routes");
		return;
	}
	if (!cs->batch) {
		if (store_begin(vd->st, 1) != 0) {
			conn_fail(s->conn, 503, "store busy: report again");
			return;
		}
		cs->batch = 1;
	}
	if (m->type == CC_LEARNED)
		rc = learned_put(vd, &m->u.learned);
	else if (m->type == CC_UNLEARN)
		rc = learned_del(vd, &m->u.unlearn);
	else
		rc = learned_session(vd, &m->u.bgpsess);
	if (rc == -2) {
		conn_fail(s->conn, 400, "malformed learned route (attributes not a JSON object, "
		    "or a next-hop port outside the announcing port's subnet)");
		return;
	}
	if (rc > 0)
		cs->batch_changed = 1;
}

static void
ccsrv_on_msg(struct conn *c, const struct cc_msg *m, void *arg)
{
	struct ccsess *s = arg;
	struct cc_msg reply = {.type = CC_PONG};

	s->last_rx_ms = ev_now_ms();
	/* Anything else runs its own transaction: the reports before it are committed first. */
	if (m->type != CC_LEARNED && m->type != CC_UNLEARN && m->type != CC_BGPSESS)
		ccsrv_batch_end(s->cs);
	if (m->type != CC_HELLO && !s->ready) {
		conn_fail(c, 400, "HELLO first");
		return;
	}
	switch (m->type) {
	case CC_HELLO:
		ccsrv_on_hello(s, &m->u.hello);
		break;
	case CC_ACK:
		if ((int64_t)m->u.revision != s->sent) {
			conn_fail(c, 400, "ACK of a revision that was not sent");
			return;
		}
		s->acked = s->sent;
		s->acked_ms = ev_now_ms();
		s->sent = 0;
		ccsrv_push(s);
		break;
	case CC_PING:
		reply.u.stamp = m->u.stamp;
		conn_send(c, &reply);
		break;
	case CC_PONG:
		break;
	case CC_PORT_STATE:
		ccsrv_on_port_state(s, &m->u.port_state);
		break;
	case CC_STATS:
		ccsrv_on_stats(s, &m->u.stats);
		break;
	case CC_LEARNED: case CC_UNLEARN: case CC_BGPSESS:
		ccsrv_on_report(s, m);
		break;
	case CC_CLAIM: {
		int rc;

		if (m->u.claim.how == CC_CLAIMS_SYNCED && s->role == CC_ROLE_ROUTERD) {
			if (s->cs->resync != s)
				break; /* not the session that registered last: it resyncs nothing */
			s->cs->resync = NULL;
		}
		s->cs->first = s;
		rc = claim_cc(s->cs->vd, s->host, s->role, &m->u.claim);
		s->cs->first = NULL;
		if (rc == -2)
			conn_fail(c, 403, "only veneer-routerd reports BGP claims");
		else if (rc > 0)
			ccsrv_changed(s->cs);
		else if (rc < 0)
			log_warnx("agent %s: could not record a claim", s->host);
		break;
	}
	case CC_ERROR:
		log_warnx("agent %s: error %u: %s", s->host, m->u.error.code, m->u.error.reason);
		conn_close(c, "agent reported an error");
		break;
	default:
		conn_fail(c, 400, "unexpected message type");
	}
}

static void
ccsrv_on_accept(struct ev_io *io, uint32_t events, void *arg)
{
	struct ccsrv *cs = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int fd, one = 1;

	(void)io;
	(void)events;
	while ((fd = accept4(cs->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		struct ccsess *s = calloc(1, sizeof(*s));

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
			    sizeof(host));
		if (s == NULL) {
			close(fd);
			continue;
		}
		s->cs = cs;
		s->last_rx_ms = ev_now_ms();
		snprintf(s->peer, sizeof(s->peer), "%s", host);
		if ((s->conn = conn_new(cs->vd->loop, fd, host, ccsrv_on_msg, ccsrv_on_close,
		    s)) == NULL) {
			free(s);
			continue;
		}
		conn_on_drained(s->conn, ccsrv_on_drained);
		s->next = cs->sessions;
		cs->sessions = s;
		sl = sizeof(ss);
	}
}

static void
ccsrv_on_beat(struct ev_timer *t, void *arg)
{
	struct ccsrv *cs = arg;
	uint64_t now = ev_now_ms();
	struct cc_msg ping = {.type = CC_PING};
	struct ccsess *s, *next;

	ping.u.stamp = now;
	for (s = cs->sessions; s; s = next) {
		next = s->next;
		if (now - s->last_rx_ms > CCSRV_DEAD_MS)
			conn_close(s->conn, "heartbeat timeout");
		else
			conn_send(s->conn, &ping);
	}
	ccdump_prune(cs->vd, CCSRV_KEEP_CHANGES);
	ev_timer_arm(t, CCSRV_PING_MS);
}

static int
ccsrv_listen(const char *addr, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	unsigned sl;
	int fd, one = 1;

	if (addr_parse_endpoint(addr, &ss, &sl) < 0) {
		snprintf(err, errsz, "bad agent listen address %s", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errsz, "agent listen %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* After a crash hosts may still say up: nobody is connected to a veneerd just started. */
static void
ccsrv_all_down(struct ccsrv *cs)
{
	struct store *st = cs->vd->st;
	sqlite3_stmt *s;

	if (store_begin(st, 1) != 0)
		return;
	s = store_q(st, "SELECT name FROM hosts WHERE state = 'up'", "");
	while (sqlite3_step(s) == SQLITE_ROW)
		store_change(st, "host", (const char *)sqlite3_column_text(s, 0), "update", NULL);
	sqlite3_reset(s);
	/* Only when something changed: every revision has its change records (and nonce). */
	if (store_i(st, "SELECT COUNT(*) FROM hosts WHERE state = 'up'", 0, "") > 0)
		store_x(st, "UPDATE hosts SET state = 'down', revision = ? WHERE state = 'up'", "i",
		    store_bump(st));
	if (store_commit(st) != 0)
		store_rollback(st);
}

struct ccsrv *
ccsrv_start(struct vd *vd, const char *addr, const char *token, char *err, size_t errsz)
{
	struct ccsrv *cs = calloc(1, sizeof(*cs));

	if (cs == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	cs->vd = vd;
	auth_hash(token, cs->token_hash);
	/* The routing manager gets every tenant's TCP-MD5 keys: a credential of its own. */
	if (vd->cfg.routerd_token) {
		auth_hash(vd->cfg.routerd_token, cs->rtoken_hash);
		cs->has_rtoken = 1;
	}
	if ((cs->fd = ccsrv_listen(addr, err, errsz)) < 0) {
		free(cs);
		return NULL;
	}
	cs->io = ev_io_add(vd->loop, cs->fd, EPOLLIN, ccsrv_on_accept, cs);
	cs->beat = ev_timer_new(vd->loop, ccsrv_on_beat, cs);
	cs->kick = ev_timer_new(vd->loop, ccsrv_on_kick, cs);
	if (cs->io == NULL || cs->beat == NULL || cs->kick == NULL) {
		snprintf(err, errsz, "cannot watch the agent listener");
		ccsrv_stop(cs);
		return NULL;
	}
	ev_timer_arm(cs->beat, CCSRV_PING_MS);
	ccsrv_all_down(cs);
	store_on_visible(vd->st, ccsrv_on_visible, cs);
	return cs;
}

void
ccsrv_stop(struct ccsrv *cs)
{
	if (cs == NULL)
		return;
	store_on_visible(cs->vd->st, NULL, NULL);
	while (cs->sessions)
		conn_close(cs->sessions->conn, "veneerd stopping");
	ev_io_del(cs->io);
	ev_timer_free(cs->beat);
	ev_timer_free(cs->kick);
	close(cs->fd);
	map_clear(&cs->gone);
	ccbatch_clear(&cs->batches);
	free(cs);
}

const struct ccbatches *
ccsrv_batches(const struct ccsrv *cs)
{
	return cs ? &cs->batches : NULL;
}

json_t *
ccsrv_host_json(struct ccsrv *cs, const char *host)
{
	char since[32];

	for (struct ccsess *s = cs ? cs->sessions : NULL; s; s = s->next) {
		if (!s->ready || s->dead || strcmp(s->host, host) != 0)
			continue;
		util_time_rfc3339(s->since, since, sizeof(since));
		return json_pack("{s:b, s:s, s:s, s:I, s:I, s:I, s:i, s:O?}", "connected", 1, "peer",
		    s->peer, "since", since, "applied_revision", (json_int_t)s->acked,
		    "applied_at_monotonic_ms", (json_int_t)s->acked_ms, "networks",
		    (json_int_t)s->nets.n, "queued_bytes", (int)conn_queued(s->conn), "drops",
		    s->drops);
	}
	return json_pack("{s:b}", "connected", 0);
}

json_t *
ccsrv_port_json(struct ccsrv *cs, const char *host, const char *port)
{
	for (struct ccsess *s = cs ? cs->sessions : NULL; host && s; s = s->next) {
		json_t *p;

		if (!s->ready || s->dead || strcmp(s->host, host) != 0)
			continue;
		p = json_object_get(s->ports, port);
		return p ? json_incref(p) : json_null();
	}
	return json_null();
}
