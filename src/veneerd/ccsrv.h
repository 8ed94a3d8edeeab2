/*
 * veneerd's side of the control channel: agents connect over TCP, register their host and
 * receive the state of every network that has a port on that host, as a snapshot and then
 * as deltas by revision.
 */
#ifndef VENEER_CCSRV_H
#define VENEER_CCSRV_H

#include <jansson.h>
#include <stdint.h>

#include "cc.h"

struct vd;
struct store;
struct ccsrv;
struct conn;

/* A set of network ids (what an agent holds). */
struct ccnets {
	char (*ids)[CC_ID_LEN];
	int n, cap;
};

/* One encoded delta batch (BEGIN .. END), for sessions in the same place (ccbatch.c). */
struct ccbatch {
	int role;
	int64_t from, to;          /* the revision acknowledged, the batch's revision */
	struct ccnets had, want;   /* the networks held before, needed after */
	uint8_t *bytes;
	size_t len;
};

#define CCBATCH_MAX 8                 /* distinct places kept per revision */
#define CCBATCH_BYTES (4u << 20)      /* larger batches are not kept */

struct ccbatches {
	struct ccbatch b[CCBATCH_MAX];
	int n;
	uint64_t computed, shared; /* deltas encoded from the store, and sent again as bytes */
};

/* ccsrv.c */
/* Listens on addr ("ADDR:PORT"); agents must present token. NULL with err on failure. */
struct ccsrv *ccsrv_start(struct vd *vd, const char *addr, const char *token, char *err,
    size_t errsz);
void ccsrv_stop(struct ccsrv *cs);
/* A write committed: agents get their deltas before the loop sleeps again. */
void ccsrv_changed(struct ccsrv *cs);
/* The agent session of a host as JSON ({"connected": false} when none). */
json_t *ccsrv_host_json(struct ccsrv *cs, const char *host);
/* The delta batches' counters (NULL without a control channel). */
const struct ccbatches *ccsrv_batches(const struct ccsrv *cs);

/* The counters of a port as its agent last reported them ({rx, tx, drops}), or null. */
json_t *ccsrv_port_json(struct ccsrv *cs, const char *host, const char *port);

/*
 * ccdump.c: turning the store into messages for one session. role is the session's
 * enum cc_role: veneer-routerd also gets the BGP settings of what it holds.
 */
int ccnets_has(const struct ccnets *s, const char *id);
int ccnets_add(struct ccnets *s, const char *id);
void ccnets_free(struct ccnets *s);
/* The networks with a port bound to host (an agent), or with a routing port (routerd). */
int ccdump_interest(struct vd *vd, const char *host, int role, struct ccnets *out);
/* Sends every host and every object of the networks in nets. -1 if the conn closed. */
int ccdump_snapshot(struct vd *vd, struct conn *c, int role, const struct ccnets *nets);
/*
 * Sends what changed in (from, to] for a session that held `had` and now needs `want`:
 * whole networks it gains, deletions of networks it loses, and changed objects.
 */
int ccdump_delta(struct vd *vd, struct conn *c, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want);
/*
 * ccbatch.c. ccbatch_find returns the batch kept for a session in that place at revision
 * `to` (counted as shared), or NULL (counted as computed); batches of an older revision
 * are dropped first. ccbatch_keep copies one just encoded, if there is room.
 */
const struct ccbatch *ccbatch_find(struct ccbatches *bs, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want);
void ccbatch_keep(struct ccbatches *bs, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want, const uint8_t *bytes, size_t len);
void ccbatch_clear(struct ccbatches *bs);
/* The oldest revision from which a delta can still be computed. */
int64_t ccdump_floor(struct vd *vd);
/* Forgets changes older than keep revisions back. */
void ccdump_prune(struct vd *vd, int64_t keep);

/*
 * learned.c: what veneer-routerd reports. Each call runs inside a write transaction the
 * caller holds (ccsrv groups the reports of one read into one); the return value is 1 when
 * the agents' forwarding changed (a new revision), 0 when not, -2 on a malformed report
 * (attributes that are not a JSON object, a next-hop port outside the announcer's subnet).
 */
int learned_put(struct vd *vd, const struct cc_learned *l);
int learned_del(struct vd *vd, const struct cc_unlearn *u);
int learned_session(struct vd *vd, const struct cc_bgpsess *b);
/* Inside the port delete's transaction: the port's routes, and next hops through it, go. */
void learned_port_gone(struct store *st, const char *port);

#endif
