/*
 * veneer-agent: the per-host communication manager. This part holds the state veneerd
 * sends (a consistent view per revision) and keeps it in sync over the control channel;
 * the data plane reads the live view.
 */
#ifndef VENEER_AGENT_H
#define VENEER_AGENT_H

#include <jansson.h>
#include <stdint.h>

#include "cc.h"
#include "map.h"

struct ev_loop;
struct ev_timer;
struct ev_io;
struct conn;

/* One consistent view of the world, as of one revision. Values are malloc'ed cc_* copies. */
struct astate {
	uint64_t revision;
	uint64_t nonce;     /* of that revision (see struct cc_end) */
	struct map hosts;   /* name -> struct cc_host */
	struct map nets;    /* id -> struct cc_net */
	struct map routers; /* id -> struct cc_router */
	struct map links;   /* id -> struct cc_link */
	struct map subnets; /* id -> struct cc_subnet */
	struct map ports;   /* id -> struct cc_port */
	struct map routes;  /* id -> struct cc_route */
	struct map lroutes; /* id -> struct cc_lroute */
	struct map bgpconf; /* network, router or port id -> struct abgpconf (routerd only) */
};

/* BGP settings of one object as veneerd sent them (JSON text, NUL-terminated). */
struct abgpconf {
	uint8_t kind; /* CC_NET, CC_ROUTER or CC_PORT */
	uint16_t len;
	char json[];
};

struct agent_cfg {
	const char *host;
	const char *veneerd; /* ADDR:PORT of the control channel */
	const char *token;
	const char *address; /* this host's substrate address */
	const char *prefix;  /* embed6 host prefix */
	uint8_t encap;       /* enum cc_encap */
	const char *ctl_path;
	const char *run_dir; /* runtime state kept across restarts (VM attachments) */
	uint8_t role;        /* enum cc_role: veneer-routerd reuses this sync client */
};

struct agent_stats {
	uint64_t connects, disconnects, snapshots, deltas, messages, refused;
	uint64_t last_batch_us; /* time from BEGIN to applied END of the last batch */
};

struct agent {
	struct ev_loop *loop;
	struct agent_cfg cfg;
	struct astate *live;
	/* The batch being received: a new view (snapshot) or messages to apply at END. */
	int in_batch;
	uint8_t batch_kind;
	uint64_t batch_rev;
	uint64_t batch_start_us;
	struct astate *building;
	struct cc_msg *pending;
	size_t npending, cappending;
	/* The connection to veneerd. */
	struct conn *conn;
	int connecting_fd;
	struct ev_io *connect_io;
	int welcomed;
	int replaced;          /* another agent took this host over: do not come back */
	struct ev_timer *retry;
	struct ev_timer *beat;
	unsigned backoff_ms;
	uint64_t last_rx_ms;
	struct agent_stats stats;
	struct dp *dp;
	/* Called after each applied batch (the agent recompiles its data plane). */
	void (*on_update)(struct agent *a);
	/* Called when veneerd accepts a registration (routerd then reports what it holds). */
	void (*on_welcome)(struct agent *a);
	/* The program that embeds this sync client (veneer-routerd keeps its state here). */
	void *owner;
	/* The local control socket; a program embedding this client may answer it instead. */
	json_t *(*ctl_answer)(struct agent *a, char *cmd);
	int ctl_fd;
	struct ev_io *ctl_io;
};

/* state.c */
struct astate *astate_new(void);
void astate_free(struct astate *st);
/* Applies one object or DELETE message; -1 on out of memory (the view is then incomplete). */
int astate_apply(struct astate *st, const struct cc_msg *m);
/* Counts and, when full, every object: for the control socket and the tests. */
json_t *astate_json(const struct astate *st, int full);

/* sync.c */
/* Starts connecting to veneerd (and keeps reconnecting with backoff). */
int sync_start(struct agent *a);
void sync_stop(struct agent *a);
json_t *sync_status(const struct agent *a);

/* ctl.c */
/* Listens on cfg.ctl_path; commands are one line: "status" or "state". */
int ctl_start(struct agent *a);
void ctl_stop(struct agent *a);

#endif
