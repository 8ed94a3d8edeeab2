/*
 * Virtual IP claims (claim.h). Every claim, whatever its source, goes through claim_one:
 * the checks in a fixed order (each refusal has a reason code), then the per-port rate
 * limit, then the change: vip_owners upserted, a history row, and change records for the
 * new and the old holder so that both are re-sent to the agents with their owned lists.
 *
 * The rate limit (a token bucket per port, in memory) is what keeps a claim storm cheap:
 * a claim over it is counted and dropped without touching the disk, and refusals write
 * their history row only while the port (or, for wrong_host, the reporting host) has
 * tokens left, so that no storm of any kind costs more than 20 + 10/s commits per port,
 * and one port's storm takes nothing from another port's bucket.
 */
#include "claim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "ev.h"
#include "ipam.h"
#include "log.h"
#include "map.h"
#include "util.h"
#include "vd.h"

#define CLAIM_RATE 10.0     /* claims per second per port */
#define CLAIM_BURST 20.0
#define CLAIM_BUCKETS 8192  /* buckets kept before full ones are forgotten */
#define CLAIM_KEEP 100000   /* history rows kept */

/* The claiming port, as the checks need it. */
struct claim_port {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char tenant[CC_ID_LEN];
	char subnet[CC_ID_LEN];
	char host[CC_HOST_LEN];
	int routing;
	struct pfx4 cidr;       /* its subnet */
	int ncl;
	struct pfx4 cl[CC_MAX_IPS]; /* its claimable CIDRs */
};

/* One transaction's worth of claim work. */
struct claim_run {
	struct store *st;
	int wrote;   /* something to commit */
	int changed; /* a revision: the agents must hear of it */
	int retry;   /* rate limited: seconds until the next token */
};

struct claim_bucket {
	double level;
	uint64_t last_ms;
};

static struct map claim_buckets;
static struct claim_counters claim_count;
static unsigned claim_rows;
/* routerd re-sending its claims after registering (claim_resync_begin .. _end) */
static int claim_resyncing;
static struct map claim_resent; /* "port/addr" re-sent since */

static const char *const claim_reasons[CLAIM_NREASONS] = {
	[CLAIM_OK] = "ok",
	[CLAIM_UNKNOWN_PORT] = "unknown_port",
	[CLAIM_WRONG_HOST] = "wrong_host",
	[CLAIM_NOT_IN_SUBNET] = "not_in_subnet",
	[CLAIM_RESERVED] = "reserved",
	[CLAIM_FIXED_ADDRESS] = "fixed_address",
	[CLAIM_NOT_CLAIMABLE] = "not_claimable",
	[CLAIM_LIMIT] = "limit_exceeded",
	[CLAIM_RATE_LIMITED] = "rate_limited",
};

static const char *const claim_hows[CLAIM_NHOW] = {"garp", "bgp", "api"};

const char *
claim_reason_name(enum claim_reason r)
{
	return r < CLAIM_NREASONS ? claim_reasons[r] : "?";
}

const char *
claim_how_name(enum claim_how h)
{
	return h < CLAIM_NHOW ? claim_hows[h] : "?";
}

const struct claim_counters *
claim_counters(void)
{
	return &claim_count;
}

static int64_t
claim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the rate limit --- */

static void
claim_full(const char *key, void *val, void *arg)
{
	struct claim_bucket *b = val;
	struct map *drop = arg;
	uint64_t now = ev_now_ms();

	if (b->level + (double)(now - b->last_ms) / 1000.0 * CLAIM_RATE >= CLAIM_BURST)
		map_put(drop, key, b, NULL);
}

static void
claim_forget(const char *key, void *val, void *arg)
{
	(void)arg;
	map_del(&claim_buckets, key);
	free(val);
}

/* Forgets buckets that are full again: they hold nothing a new bucket would not. */
static void
claim_sweep(void)
{
	struct map drop = {0};

	map_each(&claim_buckets, claim_full, &drop);
	map_each(&drop, claim_forget, NULL);
	map_clear(&drop);
}

/* Takes a token from key's bucket: 1, or 0 with *retry (when not NULL) set. */
static int
claim_take(const char *key, int *retry)
{
	struct claim_bucket *b = map_get(&claim_buckets, key);
	uint64_t now = ev_now_ms();
	int failed = 0;

	if (b == NULL) {
		if (claim_buckets.count >= CLAIM_BUCKETS)
			claim_sweep();
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return 1;
		b->level = CLAIM_BURST;
		b->last_ms = now;
		map_put(&claim_buckets, key, b, &failed);
		if (failed) {
			free(b);
			return 1;
		}
	}
	b->level += (double)(now - b->last_ms) / 1000.0 * CLAIM_RATE;
	if (b->level > CLAIM_BURST)
		b->level = CLAIM_BURST;
	b->last_ms = now;
	if (b->level >= 1.0) {
		b->level -= 1.0;
		return 1;
	}
	if (retry)
		*retry = 1 + (int)((1.0 - b->level) / CLAIM_RATE);
	return 0;
}

/* --- reading the store --- */

static void
claim_col(char *dst, size_t n, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

/* Loads a port (of tenant scope, unless NULL); -1 when there is none. */
static int
claim_load(struct store *st, const char *id, const char *scope, struct claim_port *cp)
{
	sqlite3_stmt *s = store_q(st, "SELECT p.network, p.tenant, p.subnet, p.host, p.routing, "
	    "p.claimable, sn.addr, sn.len FROM ports p JOIN subnets sn ON sn.id = p.subnet "
	    "WHERE p.id = ?1 AND (?2 IS NULL OR p.tenant = ?2)", "ss", id, scope);
	json_t *cl = NULL, *x;
	size_t i;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(cp->id, sizeof(cp->id), "%s", id);
		claim_col(cp->network, sizeof(cp->network), s, 0);
		claim_col(cp->tenant, sizeof(cp->tenant), s, 1);
		claim_col(cp->subnet, sizeof(cp->subnet), s, 2);
		claim_col(cp->host, sizeof(cp->host), s, 3);
		cp->routing = sqlite3_column_int(s, 4);
		cl = json_loads((const char *)sqlite3_column_text(s, 5), 0, NULL);
		cp->cidr.addr = (uint32_t)sqlite3_column_int64(s, 6);
		cp->cidr.len = (uint8_t)sqlite3_column_int(s, 7);
		rc = 0;
	}
	sqlite3_reset(s);
	json_array_foreach(cl, i, x) {
		if (cp->ncl < CC_MAX_IPS && pfx4_parse(json_string_value(x), &cp->cl[cp->ncl], 0,
		    32) == ADDR_OK)
			cp->ncl++;
	}
	json_decref(cl);
	return rc;
}

/* What a port may hold, in the order the reasons are checked (the limit aside). */
static enum claim_reason
claim_check(struct store *st, const struct claim_port *cp, uint32_t ip)
{
	if (!pfx4_contains_addr(&cp->cidr, ip))
		return CLAIM_NOT_IN_SUBNET;
	if (ipam_classify(&cp->cidr, ip) != IPAM_USABLE)
		return CLAIM_RESERVED;
	if (store_i(st, "SELECT 1 FROM port_addrs WHERE subnet = ? AND addr = ?", 0, "su",
	    cp->subnet, ip) == 1)
		return CLAIM_FIXED_ADDRESS;
	for (int i = 0; i < cp->ncl; i++)
		if (pfx4_contains_addr(&cp->cl[i], ip))
			return CLAIM_OK;
	return CLAIM_NOT_CLAIMABLE;
}

/* Whether the port holds as many virtual IPs as agents can be told of (ip aside). */
static int
claim_full_port(struct store *st, const char *port, uint32_t ip)
{
	return store_i(st, "SELECT COUNT(*) FROM vip_owners WHERE port = ? AND addr != ?", 0,
	    "su", port, ip) >= CC_MAX_IPS;
}

struct claim_owner {
	char port[CC_ID_LEN];
	char how[8];
};

static int
claim_owner(struct store *st, const char *network, uint32_t ip, struct claim_owner *o)
{
	sqlite3_stmt *s = store_q(st, "SELECT port, how FROM vip_owners WHERE network = ? AND "
	    "addr = ?", "su", network, ip);
	int found = 0;

	memset(o, 0, sizeof(*o));
	if (sqlite3_step(s) == SQLITE_ROW) {
		claim_col(o->port, sizeof(o->port), s, 0);
		claim_col(o->how, sizeof(o->how), s, 1);
		found = 1;
	}
	sqlite3_reset(s);
	return found;
}

/* The addresses of a query of one u32 column bound to a text key; count, *out malloc'ed. */
static size_t
claim_addrs(struct store *st, const char *sql, const char *key, uint32_t **out)
{
	sqlite3_stmt *s = store_q(st, sql, "s", key);
	size_t n = 0, cap = 0;
	uint32_t *a = NULL;

	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			uint32_t *na = realloc(a, (cap = cap ? cap * 2 : 16) * sizeof(*a));

			if (na == NULL)
				break;
			a = na;
		}
		a[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	*out = a;
	return n;
}

/* --- writing --- */

/* History ids grow with time (and never go back), so that lists by id are chronological. */
static void
claim_new_id(struct store *st, char out[CC_ID_LEN])
{
	uint64_t want = (uint64_t)claim_now_ms() << 16, last = 0;
	sqlite3_stmt *s = store_q(st, "SELECT id FROM claims ORDER BY id DESC LIMIT 1", "");

	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t && strncmp(t, "clm-", 4) == 0)
			last = strtoull(t + 4, NULL, 16);
	}
	sqlite3_reset(s);
	if (last >= want)
		want = last + 1;
	snprintf(out, CC_ID_LEN, "clm-%016llx", (unsigned long long)want);
}

/* rev 0: the row of a refusal (no revision). */
static void
claim_history(struct claim_run *cr, const struct claim_port *cp, uint32_t ip,
    const char *how, const char *result, const char *reason, int64_t rev)
{
	char id[CC_ID_LEN];

	claim_new_id(cr->st, id);
	store_x(cr->st, "INSERT INTO claims (id, network, tenant, addr, port, how, result, "
	    "reason, at, revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, 0))",
	    "sssussssii", id, cp->network, cp->tenant, ip, cp->id, how, result, reason,
	    claim_now_ms(), rev);
	cr->wrote = 1;
	if (++claim_rows % 1024 == 0)
		store_x(cr->st, "DELETE FROM claims WHERE id < (SELECT id FROM claims ORDER BY id "
		    "DESC LIMIT 1 OFFSET ?)", "i", (int64_t)CLAIM_KEEP);
}

/* A port's owned list changed: it is re-sent to the agents. */
static void
claim_touch(struct claim_run *cr, const char *port, const char *network)
{
	int64_t rev = store_bump(cr->st);

	store_change(cr->st, "port", port, "update", network);
	store_x(cr->st, "UPDATE ports SET revision = ? WHERE id = ?", "is", rev, port);
	cr->wrote = cr->changed = 1;
}

/* cp holds ip from now on. */
static void
claim_apply(struct claim_run *cr, const struct claim_port *cp, uint32_t ip,
    enum claim_how how, const char *reason)
{
	struct claim_owner old;
	int had = claim_owner(cr->st, cp->network, ip, &old);
	int64_t rev = store_bump(cr->st);
	char why[64], buf[ADDR4_STRLEN];

	store_x(cr->st, "INSERT INTO vip_owners (network, addr, port, how, since, revision) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (network, addr) DO UPDATE SET port = ?3, "
	    "how = ?4, since = ?5, revision = ?6", "sussii", cp->network, ip, cp->id,
	    claim_how_name(how), claim_now_ms(), rev);
	claim_touch(cr, cp->id, cp->network);
	if (had && strcmp(old.port, cp->id) != 0) {
		claim_touch(cr, old.port, cp->network);
		if (reason == NULL) {
			snprintf(why, sizeof(why), "taken from %s", old.port);
			reason = why;
		}
	}
	claim_history(cr, cp, ip, claim_how_name(how), "applied", reason, rev);
	addr4_fmt(ip, buf);
	log_info("claim: %s holds %s in %s (%s%s%s)", cp->id, buf, cp->network,
	    claim_how_name(how), reason ? ", " : "", reason ? reason : "");
}

/* Records a refusal: a counter, and a history row while the bucket of key allows. */
static enum claim_reason
claim_refuse(struct claim_run *cr, const struct claim_port *cp, uint32_t ip,
    enum claim_how how, enum claim_reason r, const char *key)
{
	claim_count.refused[r]++;
	if (r != CLAIM_RATE_LIMITED && claim_take(key, NULL))
		claim_history(cr, cp, ip, claim_how_name(how), "refused", claim_reason_name(r), 0);
	return r;
}

/* The most recent BGP claimant of ip that may still hold it takes it, if any. */
static void
claim_next(struct claim_run *cr, const struct claim_port *from, uint32_t ip)
{
	/* Bounded: a failed DELETE must not bring back the same row for ever. */
	for (int tries = 0; tries < 1000; tries++) {
		sqlite3_stmt *s = store_q(cr->st, "SELECT port FROM vip_bgp WHERE network = ? AND "
		    "addr = ? ORDER BY since DESC, port DESC LIMIT 1", "su", from->network, ip);
		char next[CC_ID_LEN] = "";
		struct claim_port cp;

		if (sqlite3_step(s) == SQLITE_ROW)
			claim_col(next, sizeof(next), s, 0);
		sqlite3_reset(s);
		if (!next[0])
			return;
		if (claim_load(cr->st, next, NULL, &cp) == 0 && cp.routing &&
		    claim_check(cr->st, &cp, ip) == CLAIM_OK && !claim_full_port(cr->st, next, ip)) {
			claim_apply(cr, &cp, ip, CLAIM_HOW_BGP, "next bgp claimant");
			return;
		}
		if (store_x(cr->st, "DELETE FROM vip_bgp WHERE network = ? AND addr = ? AND "
		    "port = ?", "sus", from->network, ip, next) != SQLITE_DONE)
			return;
		cr->wrote = 1;
	}
}

/* cp no longer holds ip (held by `how`); touch: re-send cp (not when it is being deleted). */
static void
claim_release(struct claim_run *cr, const struct claim_port *cp, uint32_t ip,
    const char *how, const char *reason, int touch)
{
	int64_t rev = store_bump(cr->st);
	char buf[ADDR4_STRLEN];

	store_x(cr->st, "DELETE FROM vip_owners WHERE network = ? AND addr = ?", "su",
	    cp->network, ip);
	cr->wrote = cr->changed = 1;
	if (touch)
		claim_touch(cr, cp->id, cp->network);
	claim_history(cr, cp, ip, how, "released", reason, rev);
	claim_count.released++;
	addr4_fmt(ip, buf);
	log_info("claim: %s released %s in %s (%s)", cp->id, buf, cp->network, reason);
	claim_next(cr, cp, ip);
}

/* Records that cp announces ip by BGP: since now (the most recent claimant), or kept. */
static void
claim_bgp_row(struct claim_run *cr, const struct claim_port *cp, uint32_t ip, int refresh)
{
	if (!refresh && store_i(cr->st, "SELECT 1 FROM vip_bgp WHERE network = ? AND addr = ? "
	    "AND port = ?", 0, "sus", cp->network, ip, cp->id) == 1)
		return;
	store_x(cr->st, "INSERT INTO vip_bgp (network, addr, port, since) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (network, addr, port) DO UPDATE SET since = ?4", "susi", cp->network, ip,
	    cp->id, claim_now_ms());
	cr->wrote = 1;
}

/* One claim of ip by cp: the checks in order, the rate limit, then the change. */
static enum claim_reason
claim_one(struct claim_run *cr, const struct claim_port *cp, uint32_t ip, enum claim_how how)
{
	enum claim_reason r = claim_check(cr->st, cp, ip);
	struct claim_owner o;
	int mine = claim_owner(cr->st, cp->network, ip, &o) && strcmp(o.port, cp->id) == 0;

	if (r == CLAIM_OK && !mine && claim_full_port(cr->st, cp->id, ip))
		r = CLAIM_LIMIT;
	/* A port over its limit still announces: it queues, and may take the address later. */
	if (r == CLAIM_LIMIT && how == CLAIM_HOW_BGP)
		claim_bgp_row(cr, cp, ip, 1);
	if (r != CLAIM_OK)
		return claim_refuse(cr, cp, ip, how, r, cp->id);
	/* keepalived sends several gratuitous ARPs on becoming master: the rest change nothing */
	if (mine && strcmp(o.how, claim_how_name(how)) == 0) {
		if (how == CLAIM_HOW_BGP)
			claim_bgp_row(cr, cp, ip, 0);
		return CLAIM_OK;
	}
	/*
	 * BGP claims come from routerd only, paced by the session's own UPDATE rate limit, and
	 * routerd reports each announcement once: a refusal for rate would lose it for good.
	 */
	if (how != CLAIM_HOW_BGP && !claim_take(cp->id, &cr->retry))
		return claim_refuse(cr, cp, ip, how, CLAIM_RATE_LIMITED, cp->id);
	if (how == CLAIM_HOW_BGP)
		claim_bgp_row(cr, cp, ip, 1);
	claim_apply(cr, cp, ip, how, NULL);
	return CLAIM_OK;
}

/* Ends a control-channel claim's transaction: 1 changed, 0 not, -1 store failure. */
static int
claim_end(struct claim_run *cr)
{
	if (!cr->wrote) {
		store_rollback(cr->st);
		return 0;
	}
	if (store_commit(cr->st) != 0)
		return -1;
	return cr->changed;
}

int
claim_garp(struct vd *vd, const char *host, const char *port, uint32_t ip)
{
	struct claim_run cr = {.st = vd->st};
	struct claim_port cp;

	claim_count.claims[CLAIM_HOW_GARP]++;
	if (store_begin(vd->st, 1) != 0)
		return -1;
	if (claim_load(vd->st, port, NULL, &cp) < 0) {
		/* Nobody to show a history row to: counted only. */
		claim_count.refused[CLAIM_UNKNOWN_PORT]++;
	} else if (strcmp(cp.host, host) != 0) {
		/*
		 * Counted only: a history row would let any host write into the port's tenant's
		 * claim history.
		 */
		claim_count.refused[CLAIM_WRONG_HOST]++;
		log_warnx("claim: host %s reported a gratuitous ARP for port %s of host %s: refused",
		    host, port, cp.host);
	} else {
		claim_one(&cr, &cp, ip, CLAIM_HOW_GARP);
	}
	return claim_end(&cr);
}

/* A withdrawal: cp no longer announces ip; if it held ip by BGP, the next claimant may. */
static void
claim_withdraw(struct claim_run *cr, const struct claim_port *cp, uint32_t ip)
{
	struct claim_owner o;

	if (store_i(cr->st, "SELECT 1 FROM vip_bgp WHERE network = ? AND addr = ? AND port = ?",
	    0, "sus", cp->network, ip, cp->id) == 1) {
		store_x(cr->st, "DELETE FROM vip_bgp WHERE network = ? AND addr = ? AND port = ?",
		    "sus", cp->network, ip, cp->id);
		cr->wrote = 1;
	}
	if (claim_owner(cr->st, cp->network, ip, &o) && strcmp(o.port, cp->id) == 0 &&
	    strcmp(o.how, "bgp") == 0)
		claim_release(cr, cp, ip, "bgp", "withdrawn by bgp", 1);
}

void
claim_resync_begin(void)
{
	map_clear(&claim_resent);
	claim_resyncing = 1;
}

void
claim_resync_abort(void)
{
	map_clear(&claim_resent);
	claim_resyncing = 0;
}

static void
claim_resent_key(const char *port, uint32_t ip, char *key, size_t n)
{
	snprintf(key, n, "%s/%u", port, ip);
}

/*
 * An announcement veneerd has already (in vip_bgp) is only noted, for the resync when
 * one runs: applied again it would make that port the most recent claimant and could move
 * the address back and forth. One veneerd has not heard of yet is a claim like any other.
 */
static int
claim_resend(struct vd *vd, const char *port, uint32_t ip)
{
	char key[CC_ID_LEN + 16];
	int failed = 0;

	claim_resent_key(port, ip, key, sizeof(key));
	if (claim_resyncing)
		map_put(&claim_resent, key, &claim_resent, &failed);
	if (failed)
		claim_resync_abort(); /* out of memory: withdraw nothing rather than the wrong ones */
	return store_i(vd->st, "SELECT 1 FROM vip_bgp v JOIN ports p ON p.id = v.port WHERE "
	    "v.port = ? AND v.addr = ? AND v.network = p.network", 0, "su", port, ip) == 1;
}

int
claim_bgp(struct vd *vd, const char *port, uint32_t ip, int release)
{
	struct claim_run cr = {.st = vd->st};
	struct claim_port cp;

	if (!release)
		claim_count.claims[CLAIM_HOW_BGP]++;
	if (store_begin(vd->st, 1) != 0)
		return -1;
	/*
	 * routerd reports each announcement once, and again only at a registration (then it
	 * is noted for the resync): one veneerd has already never moves the address.
	 */
	if (!release && claim_resend(vd, port, ip)) {
		store_rollback(vd->st);
		return 0;
	}
	if (claim_load(vd->st, port, NULL, &cp) < 0 || (!release && !cp.routing)) {
		/* Gone, or no longer routing (then its announcements were released already). */
		if (!release)
			claim_count.refused[CLAIM_UNKNOWN_PORT]++;
	} else if (release) {
		claim_withdraw(&cr, &cp, ip);
	} else {
		claim_one(&cr, &cp, ip, CLAIM_HOW_BGP);
	}
	return claim_end(&cr);
}

struct claim_gone {
	char port[CC_ID_LEN];
	uint32_t ip;
};

/* The BGP claimants routerd did not announce again, into *out (malloc'd); their count. */
static int
claim_unsent(struct store *st, struct claim_gone **out)
{
	sqlite3_stmt *s = store_q(st, "SELECT port, addr FROM vip_bgp ORDER BY since", "");
	struct claim_gone *g = NULL;
	int n = 0, cap = 0;
	char key[CC_ID_LEN + 16];

	while (sqlite3_step(s) == SQLITE_ROW) {
		struct claim_gone one;

		claim_col(one.port, sizeof(one.port), s, 0);
		one.ip = (uint32_t)sqlite3_column_int64(s, 1);
		claim_resent_key(one.port, one.ip, key, sizeof(key));
		if (map_get(&claim_resent, key))
			continue;
		if (n == cap) {
			struct claim_gone *bigger = realloc(g, sizeof(*g) * (size_t)(cap = cap ? cap * 2 : 16));

			if (bigger == NULL)
				break; /* the rest stays until the next registration */
			g = bigger;
		}
		g[n++] = one;
	}
	sqlite3_reset(s);
	*out = g;
	return n;
}

int
claim_resync_end(struct vd *vd)
{
	struct claim_run cr = {.st = vd->st};
	struct claim_gone *gone = NULL;
	int n;

	if (!claim_resyncing)
		return 0;
	claim_resyncing = 0;
	if (store_begin(vd->st, 1) != 0) {
		map_clear(&claim_resent);
		return -1;
	}
	n = claim_unsent(vd->st, &gone);
	for (int i = 0; i < n; i++) {
		struct claim_port cp;

		if (claim_load(vd->st, gone[i].port, NULL, &cp) == 0) {
			claim_withdraw(&cr, &cp, gone[i].ip);
		} else if (store_x(vd->st, "DELETE FROM vip_bgp WHERE port = ?", "s", gone[i].port) ==
		    SQLITE_DONE) {
			cr.wrote = 1;
		}
	}
	if (n > 0)
		log_info("claim: %d bgp announcement%s not made again by routerd: withdrawn", n,
		    n == 1 ? "" : "s");
	free(gone);
	map_clear(&claim_resent);
	return claim_end(&cr);
}

int
claim_cc(struct vd *vd, const char *host, int role, const struct cc_claim *k)
{
	if (k->how == CC_CLAIM_GARP)
		return claim_garp(vd, host, k->port, k->ip);
	if (role != CC_ROLE_ROUTERD)
		return -2;
	if (k->how == CC_CLAIMS_SYNCED)
		return claim_resync_end(vd);
	return claim_bgp(vd, k->port, k->ip, k->how == CC_RELEASE_BGP);
}

/* --- the API --- */

static const char *const claim_why[CLAIM_NREASONS] = {
	[CLAIM_NOT_IN_SUBNET] = "is outside the port's subnet",
	[CLAIM_RESERVED] = "is the subnet's network, gateway or broadcast address",
	[CLAIM_FIXED_ADDRESS] = "is a fixed address (ip or extra_ips) of a port",
	[CLAIM_NOT_CLAIMABLE] = "is not inside the port's claimable CIDRs",
	[CLAIM_LIMIT] = "cannot be held: the port holds the most virtual IPs it may (32)",
};

int
claim_api(struct api_req *req, struct api_resp *resp)
{
	static const struct jv_field spec[] = {
		{"ip", JV_ADDR4, JV_REQ, 0, 0, NULL},
		{NULL, 0, 0, 0, 0, NULL},
	};
	struct claim_run cr = {.st = req->st};
	struct claim_port cp;
	enum claim_reason r;
	char buf[ADDR4_STRLEN];
	uint32_t ip;

	if (claim_load(req->st, req->seg[2], api_scope(req), &cp) < 0)
		return api_not_found(resp, "port", req->seg[2]);
	if (api_check_body(req, resp, spec, JV_MODE_CREATE) < 0)
		return 0;
	addr4_parse(api_str(req, "ip"), &ip);
	addr4_fmt(ip, buf);
	claim_count.claims[CLAIM_HOW_API]++;
	r = claim_one(&cr, &cp, ip, CLAIM_HOW_API);
	if (r == CLAIM_OK)
		return api_ok(resp, 200, port_load(req, cp.id));
	if (r == CLAIM_RATE_LIMITED) {
		resp->retry_after = cr.retry;
		return api_err(resp, 429, "rate_limited", "ip", "port %s claims more than %g "
		    "addresses per second; retry in %d s", cp.id, CLAIM_RATE, cr.retry);
	}
	/* A refusal is history too: committed although the answer is an error. */
	if (cr.wrote)
		store_commit(req->st);
	return api_err(resp, r == CLAIM_LIMIT ? 409 : 422, claim_reason_name(r), "ip",
	    "ip: %s %s", buf, claim_why[r]);
}

static json_t *
claim_time_json(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40], out[48];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", buf, (int)(ms % 1000));
	return json_string(out);
}

static json_t *
claim_json(struct api_req *req, sqlite3_stmt *r)
{
	(void)req;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_col_str(r, 0),
	    "network", api_col_str(r, 1), "ip", api_col_addr4(r, 2), "port", api_col_str(r, 3),
	    "how", api_col_str(r, 4), "result", api_col_str(r, 5), "reason", api_col_str(r, 6),
	    "at", claim_time_json(sqlite3_column_int64(r, 7)), "revision",
	    sqlite3_column_type(r, 8) == SQLITE_NULL ? json_null() :
	    json_integer((json_int_t)sqlite3_column_int64(r, 8)));
}

static const struct api_filter claim_filters[] = {
	{"network", "network = ?", API_F_TEXT},
	{"port", "port = ?", API_F_TEXT},
	{"ip", "addr = ?", API_F_ADDR4},
	{"result", "result = ?", API_F_TEXT},
	{"how", "how = ?", API_F_TEXT},
	{NULL, NULL, 0},
};

static const struct api_kind claim_kind = {
	"claim", "claims", "id", "id, network, addr, port, how, result, reason, at, revision", 1,
	claim_filters, claim_json,
};

int
claim_list(struct api_req *req, struct api_resp *resp)
{
	static const char *const results = " applied refused released ", *const hows =
	    " garp bgp api ";

	for (int i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key, *v = req->query[i].value ?
		    req->query[i].value : "";
		char word[32];
		int is_result = strcmp(k, "result") == 0;

		if (!is_result && strcmp(k, "how") != 0)
			continue;
		snprintf(word, sizeof(word), " %.16s ", v);
		if (*v == '\0' || strchr(v, ' ') || strstr(is_result ? results : hows, word) == NULL)
			return api_err(resp, 400, "invalid_query", k, "%s must be one of%s", k,
			    is_result ? " applied, refused, released" : " garp, bgp, api");
	}
	return api_list(req, resp, &claim_kind, NULL, NULL);
}

/* --- port.c's hooks --- */

json_t *
claim_port_vips(struct store *st, const char *port)
{
	uint32_t *a;
	size_t n = claim_addrs(st, "SELECT addr FROM vip_owners WHERE port = ? ORDER BY addr",
	    port, &a);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++) {
		char buf[ADDR4_STRLEN];

		addr4_fmt(a[i], buf);
		json_array_append_new(out, json_string(buf));
	}
	free(a);
	return out;
}

void
claim_holder(struct store *st, const char *network, uint32_t addr, char holder[32])
{
	struct claim_owner o;

	holder[0] = '\0';
	if (claim_owner(st, network, addr, &o))
		snprintf(holder, 32, "%s", o.port);
}

void
claim_port_recheck(struct store *st, const char *port)
{
	struct claim_run cr = {.st = st};
	struct claim_port cp;
	uint32_t *a;
	size_t n;

	if (claim_load(st, port, NULL, &cp) < 0)
		return;
	/* Announcements it may no longer make first: they must not be next claimants. */
	n = claim_addrs(st, "SELECT addr FROM vip_bgp WHERE port = ?", port, &a);
	for (size_t i = 0; i < n; i++)
		if (!cp.routing || claim_check(st, &cp, a[i]) != CLAIM_OK)
			store_x(st, "DELETE FROM vip_bgp WHERE network = ? AND addr = ? AND port = ?",
			    "sus", cp.network, a[i], port);
	free(a);
	n = claim_addrs(st, "SELECT addr FROM vip_owners WHERE port = ? ORDER BY addr", port, &a);
	for (size_t i = 0; i < n; i++) {
		enum claim_reason r = claim_check(st, &cp, a[i]);
		struct claim_owner o;

		claim_owner(st, cp.network, a[i], &o);
		if (r == CLAIM_FIXED_ADDRESS)
			claim_release(&cr, &cp, a[i], o.how, "now a fixed address of the port", 1);
		else if (r != CLAIM_OK)
			claim_release(&cr, &cp, a[i], o.how, "claimable changed", 1);
		else if (!cp.routing && strcmp(o.how, "bgp") == 0)
			claim_release(&cr, &cp, a[i], o.how, "routing turned off", 1);
	}
	free(a);
}

void
claim_port_deleted(struct store *st, const char *port)
{
	struct claim_run cr = {.st = st};
	struct claim_port cp;
	uint32_t *a;
	size_t n;

	if (claim_load(st, port, NULL, &cp) < 0)
		return;
	store_x(st, "DELETE FROM vip_bgp WHERE port = ?", "s", port);
	n = claim_addrs(st, "SELECT addr FROM vip_owners WHERE port = ? ORDER BY addr", port, &a);
	for (size_t i = 0; i < n; i++) {
		struct claim_owner o;

		claim_owner(st, cp.network, a[i], &o);
		claim_release(&cr, &cp, a[i], o.how, "port deleted", 0);
	}
	free(a);
}
