/*
 * veneer-routerd: the network routing manager. It registers with veneerd as a substrate
 * endpoint (role routerd), holds the state of every network that has a routing-enabled
 * port, and gives each such network a namespace with a TUN holding the network's router
 * addresses. Agents carry the BGP packets that routing ports send to their router over the
 * substrate to routerd, which writes them into that TUN; the kernel's TCP (with TCP-MD5 and
 * IP_MINTTL) terminates the sessions, and the BGP library (src/bgp) speaks the protocol.
 * Learned routes pass the network's import policy, go through best-path selection per
 * virtual router, are reported to veneerd (which installs them in the agents' FIBs), and
 * each routing port is sent the router's table as if by the router itself.
 */
#ifndef VENEER_RD_H
#define VENEER_RD_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "bgp.h"
#include "bgp_fsm.h"
#include "bgp_rib.h"
#include "fib.h"
#include "map.h"

struct ev_loop;
struct ev_io;
struct ev_timer;

#define RD_MAX_RULES 64
#define RD_DEFAULT_HOLD 90
#define RD_GR_TIME 120      /* the longest a restarting peer keeps its routes; what we advertise */
#define RD_EXPORT_DELAY_MS 20
#define RD_MAXPFX_HOLD_S 30 /* a port over max-prefix may reconnect after this long */

struct rd_cfg {
	const char *host;
	const char *veneerd;
	const char *token;
	const char *address;   /* substrate address */
	const char *ctl_path;
	const char *ns_prefix; /* namespaces are PREFIX-VNID */
	const char *bench_listen; /* ADDR:PORT: a standalone speaker for bench/bgp_ingest.py */
	uint32_t bench_asn;
};

/* An import policy (the network's, or a port's override), as docs/api.md describes it. */
struct rd_rule {
	struct pfx4 p;
	uint8_t ge, le;
};

struct rd_policy {
	struct rd_rule allow[RD_MAX_RULES];
	struct rd_rule deny[RD_MAX_RULES];
	int nallow, ndeny;
	int override;          /* allow_subnet_override */
	uint32_t max_prefix;
	uint32_t warn_pct;
	double rate, burst;    /* UPDATE messages per second, bucket size */
};

/* One network's protocol endpoint: a namespace with a TUN and the BGP listener. */
struct rd_net {
	struct rd *rd;
	char id[CC_ID_LEN];
	uint32_t vnid;
	char ns[64];
	int tun_fd;
	struct ev_io *tun_io;
	int lfd;
	struct ev_io *lio;
	uint32_t addrs[64];    /* router addresses configured on the TUN */
	int naddrs;
	struct rd_policy policy;
	int seen;
};

/* One virtual router's BGP instance: its table and export state. */
struct rd_router {
	char id[CC_ID_LEN];
	char net[CC_ID_LEN];
	uint32_t asn;
	uint16_t hold;
	uint32_t router_id;
	struct bgp_rib *rib;
	struct rd *rd;
	int dirty;             /* export to its peers pending */
	int exporting;         /* dirty as the current export run took it */
	int seen;
};

/* A route received from a port, with the policy's verdict (the Adj-RIB-In as reported). */
struct rd_route {
	struct bgp_prefix p;
	const struct bgp_aset *aset; /* accepted routes only */
	uint32_t nexthop;
	char nhport[CC_ID_LEN];
	uint8_t accepted;
	uint8_t selected;
	uint8_t override;
	uint8_t stale;               /* kept for a restarting peer, not re-announced yet */
	uint8_t claim;               /* a /32 in the port's claimable set: a virtual IP claim */
	char reason[CC_REASON_LEN];
};

/* A routing-enabled port: its session with its router. */
struct rd_peer {
	struct rd *rd;
	char port[CC_ID_LEN];
	char net[CC_ID_LEN];
	char router[CC_ID_LEN];
	char subnet[CC_ID_LEN];
	uint32_t ip;           /* the port's address: the only one it may peer from */
	uint32_t gw;           /* its router's address on its subnet: our NEXT_HOP for it */
	/* settings: the port's own, else the network's */
	uint32_t peer_asn;     /* 0: what its OPEN says */
	char password[81];
	int ttl_security;
	struct rd_policy policy;
	int own_policy;
	/* the connection and session */
	int fd;
	struct ev_io *io;
	struct bgp_sess *sess;
	struct ev_timer *timer;
	struct ev_timer *gr_timer;
	struct ev_timer *pace;  /* reading paused by the UPDATE rate limit */
	uint8_t *out;
	size_t outlen, outcap;
	int ribpeer;            /* index in the router's table, -1 when none */
	uint16_t gr_time;       /* restart time of a restarting peer (s), RFC 4724 */
	int eor_sent;
	/* what was received, and what was sent */
	struct map in;          /* "a.b.c.d/len" -> struct rd_route */
	struct map adj_out;     /* "a.b.c.d/len" -> fingerprint of what we announced */
	uint32_t received, accepted, rejected;
	int warned;
	double tokens;
	uint64_t tokens_ms;
	uint8_t in_buf[2 * BGP_MAX_LEN]; /* received bytes not yet handed to the session */
	size_t inlen;
	int paused;             /* not reading: the UPDATE budget is spent */
	int export_waiting;     /* its table waits for the send queue to drain */
	uint64_t refuse_until;  /* after max-prefix: connections refused until then (ms) */
	uint32_t sess_asn;      /* what the current session was opened with (router AS, */
	uint16_t sess_hold;     /* hold time, expected peer AS, GTSM): a change restarts it */
	uint32_t sess_peer_asn;
	int sess_ttl;
	uint64_t since_ms;      /* wall clock of the last state change */
	enum bgp_state reported;
	uint32_t rep_received, rep_accepted, rep_rejected; /* counts in the last report */
	int going_down;         /* its routes are being removed: no per-route reports */
	int third_party;        /* it has announced a next hop not its own (rd_route_nexthops) */
	int seen;
};

struct rd {
	struct rd_cfg cfg;
	struct ev_loop *loop;
	struct agent sync;      /* the control-channel client, shared with veneer-agent */
	struct fib *fib;        /* compiled from sync.live after each batch */
	struct map nets;        /* network id -> struct rd_net */
	struct map routers;     /* router id -> struct rd_router */
	struct map peers;       /* port id -> struct rd_peer */
	struct bgp_atab *atab;
	int sub_fd;
	struct ev_io *sub_io;
	struct ev_timer *export_timer;
	struct ev_timer *stop_timer;   /* armed once stopping: sessions are being closed */
	struct ev_timer *count_timer;  /* reports changed prefix counts every 2 s */
	struct ev_timer *sub_retry;
	int ctl_fd;
	struct ev_io *ctl_io;
	uint64_t connects_seen; /* sync.stats.connects when we last reported everything */
	int stopping;           /* tearing down: peers are being freed, no more callbacks */
	/* counters */
	uint64_t sub_rx, sub_tx, tun_rx, tun_tx;
	uint64_t drop_decode, drop_sender, drop_target, drop_io;
	/* bench mode: one listener in the current namespace, no veneerd */
	struct rd_net *bench_net;
	struct rd_router *bench_router;
};

/* rd_state.c: the sync client's hooks: after each batch veneerd sent, and on WELCOME */
void rd_update(struct agent *a);
void rd_welcome(struct agent *a);
/*
 * Keys of a map collected during a walk, to act on after it (a map must not change while
 * map_each walks it). Keys up to CC_ID_LEN - 1 characters (ids, prefixes); free ids after.
 */
struct rd_keys {
	char (*ids)[CC_ID_LEN];
	size_t n, cap;
};
void rd_keys_add(struct rd_keys *k, const char *key);
/*
 * Mark and sweep over a map whose values have an int `seen` at offset off: begin clears
 * every mark; collect lists (into out, emptied first) the keys still unmarked.
 */
void rd_unseen_begin(struct map *m, size_t off);
void rd_unseen_collect(struct map *m, size_t off, struct rd_keys *out);

/* rd_ns.c: namespaces and TUNs */
/* Creates (or recreates, after a crash) the network's namespace, TUN and BGP listener. */
int rd_ns_open(struct rd *rd, struct rd_net *n);
/* Makes the TUN hold exactly these router addresses. */
int rd_ns_addrs(struct rd *rd, struct rd_net *n, const uint32_t *addrs, int naddrs);
/* Sets or clears the TCP-MD5 key for one peer address on the network's listener. */
int rd_ns_md5(struct rd_net *n, uint32_t peer, const char *password);
void rd_ns_close(struct rd *rd, struct rd_net *n);
/* A listener in the current namespace (bench mode). */
int rd_ns_listen_here(struct rd *rd, struct rd_net *n, const char *addrport);

/* rd_sub.c: the substrate side (VXLAN) and the TUNs */
/* The VXLAN socket; 0 also when the address is not up yet (retried every 3 s). */
int rd_sub_open(struct rd *rd);
void rd_sub_close(struct rd *rd);
void rd_sub_on_tun(struct ev_io *io, uint32_t events, void *arg);

/* rd_policy.c */
/* Parses {"import_policy": {...}} or a bare policy object; defaults for what is absent. */
void rd_policy_default(struct rd_policy *p);
int rd_policy_parse(const char *json, struct rd_policy *p);
/*
 * The verdict on a route received from a port of subnet `sub` in network `net`: NULL when
 * accepted (*override set when it replaces a connected subnet route), else the reason.
 */
const char *rd_policy_check(const struct rd_policy *p, const struct fib_net *net,
    const struct bgp_prefix *pfx, int *override);
/* Would the two policies judge some route differently (rules or subnet override)? */
int rd_policy_verdicts_differ(const struct rd_policy *a, const struct rd_policy *b);

/* rd_peer.c: sessions over the kernel's TCP */
struct rd_peer *rd_peer_new(struct rd *rd, const char *port);
void rd_peer_on_accept(struct ev_io *io, uint32_t events, void *arg);
/* Creates, updates and removes peers to match the fib (one per routing port). */
void rd_peer_sync(struct rd *rd);
/* Ends its session (Cease) and frees it; the caller has taken it out of rd->peers. */
void rd_peer_free(struct rd_peer *p);
json_t *rd_peer_json(const struct rd_peer *p);
int rd_peer_send(struct rd_peer *p, const uint8_t *msg, size_t len);

/* rd_route.c: received routes: verdicts, the tables, graceful restart */
/* "a.b.c.d/len", the key of the per-port route maps (buf of PFX4_STRLEN). */
void rd_route_key(const struct bgp_prefix *p, char *buf);
/* A route announced (a != NULL) or withdrawn by the port: verdict, table, report. */
void rd_route_in(struct rd_peer *p, const struct bgp_prefix *pfx, const struct bgp_attrs *a);
/* Established: the port gets a place in its router's table and the table is sent to it. */
void rd_route_peer_up(struct rd_peer *p);
/*
 * The session is gone: with keep_stale (a graceful restart), its routes stay marked stale
 * until its End-of-RIB or the restart time; else they are withdrawn and veneerd told so.
 */
void rd_route_peer_down(struct rd_peer *p, int keep_stale);
/* Withdraws the port's routes still marked stale (End-of-RIB of a restarted peer). */
void rd_route_sweep_stale(struct rd_peer *p);
/* The graceful-restart timer of a peer ran out: its stale routes go. */
void rd_route_on_gr(struct ev_timer *t, void *arg);
/* The peer asked for our routes again: its whole table is sent at the next export. */
void rd_route_refresh(struct rd_peer *p);
/* The import policy changed: every accepted route of the port gets its verdict again. */
void rd_route_reevaluate(struct rd_peer *p);
/*
 * After a new view: an accepted route whose next hop is another address than the peer's
 * own (a virtual IP, say) and now resolves to another port, or to none, is judged again,
 * so traffic follows the address's new holder.
 */
void rd_route_nexthops(struct rd_peer *p);

/* rd_router.c */
/* The router's BGP instance, made (AS 64512, hold 90 until configured) if missing. */
struct rd_router *rd_router_get(struct rd *rd, const char *id, const char *net);
void rd_router_free(struct rd_router *r);

/* rd_export.c: each established port is sent its router's table (batched, diffed) */
void rd_export_schedule(struct rd *rd);

/* rd_report.c: what veneerd is told (nothing while it is away) */
void rd_report_route(struct rd_peer *p, const struct rd_route *rt);
/* pfx NULL: every route of the port. */
void rd_report_unlearn(struct rd_peer *p, const struct bgp_prefix *pfx);
void rd_report_claim(struct rd_peer *p, uint32_t ip, int release);
void rd_report_session(struct rd_peer *p);
/* Starts the periodic report of sessions whose prefix counts changed. */
int rd_report_start(struct rd *rd);
/*
 * After registering: everything held is sent again (idempotent), and installed routes
 * veneerd still has from sessions that are gone are withdrawn. With claims, every /32
 * claim held too, then CLAIMS_SYNCED (once per registration: claims re-sent after the
 * marker would be new announcements to veneerd).
 */
void rd_report_all(struct rd *rd, int claims);

/* rd_ctl.c */
int rd_ctl_start(struct rd *rd);
void rd_ctl_stop(struct rd *rd);

#endif
