/*
 * Virtual IPs that move: a port claims an address of its subnet that its `claimable`
 * CIDRs cover, by gratuitous ARP (its agent reports it), by a BGP host route (routerd
 * reports the announcement and its withdrawal) or through the API. veneerd records the
 * holder durably (vip_owners), keeps a history of every claim (claims), and re-sends the
 * old and the new holder to the agents, which then forward the address to the new one.
 */
#ifndef VENEER_CLAIM_H
#define VENEER_CLAIM_H

#include <jansson.h>
#include <stdint.h>

#include "api.h"
#include "cc.h"

struct vd;
struct store;

/* Why a claim was refused; the API answers the name as its error code. */
enum claim_reason {
	CLAIM_OK = 0,
	CLAIM_UNKNOWN_PORT,   /* no such port (for BGP: no such routing port) */
	CLAIM_WRONG_HOST,     /* the port is not on the reporting agent's host */
	CLAIM_NOT_IN_SUBNET,  /* the address is outside the port's subnet */
	CLAIM_RESERVED,       /* the subnet's network, gateway or broadcast address */
	CLAIM_FIXED_ADDRESS,  /* a port's ip or extra_ips (another's, or its own) */
	CLAIM_NOT_CLAIMABLE,  /* outside the port's claimable CIDRs */
	CLAIM_LIMIT,          /* the port holds CC_MAX_IPS virtual IPs already */
	CLAIM_RATE_LIMITED,   /* over the port's claim rate (10/s, burst 20) */
	CLAIM_NREASONS,
};

enum claim_how {
	CLAIM_HOW_GARP = 0,
	CLAIM_HOW_BGP,
	CLAIM_HOW_API,
	CLAIM_NHOW,
};

/* What /metrics shows: claims received by source, refusals by reason. */
struct claim_counters {
	uint64_t claims[CLAIM_NHOW];
	uint64_t refused[CLAIM_NREASONS];
	uint64_t released;
};

/*
 * claim.c. The claim_* calls made for the control channel run one store transaction each
 * and return 1 when the agents' view changed (a revision), 0 when not, -1 on a store
 * failure.
 */
/* A gratuitous ARP from `port`, reported by the agent of `host`. */
int claim_garp(struct vd *vd, const char *host, const char *port, uint32_t ip);
/* A /32 announced (release 0) or withdrawn (release 1) by `port`'s BGP session. */
int claim_bgp(struct vd *vd, const char *port, uint32_t ip, int release);
/*
 * routerd registered: until claim_resync_end, a BGP announcement veneerd already holds is
 * only noted (not made the most recent again), so re-sending everything moves nothing.
 */
void claim_resync_begin(void);
/*
 * routerd has re-sent every announcement it holds: the BGP claimants it did not re-send
 * (withdrawn while veneerd was away, or lost with a crashed routerd) are withdrawn, each
 * address going to its next claimant if any. Returns as the calls above.
 */
int claim_resync_end(struct vd *vd);
/* routerd's session ended before claim_resync_end: nothing is withdrawn. */
void claim_resync_abort(void);
/*
 * A CLAIM message from a session of `host` with `role` (enum cc_role): as above (how
 * CLAIMS_SYNCED is claim_resync_end), or -2 when the message is not this session's to send
 * (BGP claims come from routerd only).
 */
int claim_cc(struct vd *vd, const char *host, int role, const struct cc_claim *k);
/* POST /v1/ports/{id}/claim and GET /v1/claims. */
int claim_api(struct api_req *req, struct api_resp *resp);
int claim_list(struct api_req *req, struct api_resp *resp);
const struct claim_counters *claim_counters(void);
const char *claim_reason_name(enum claim_reason r);
const char *claim_how_name(enum claim_how h);

/* For port.c, inside the API's transaction. */
/* The addresses a port holds now, ascending, as a JSON array of strings. */
json_t *claim_port_vips(struct store *st, const char *port);
/* The port holding addr of network as a virtual IP, into holder ("" when none). */
void claim_holder(struct store *st, const char *network, uint32_t addr, char holder[32]);
/*
 * After a change of the port's addresses or claimable CIDRs: what it holds (or announces
 * by BGP) and may no longer claim is released, to the next BGP claimant if any.
 */
void claim_port_recheck(struct store *st, const char *port);
/* Before a port is deleted: releases what it holds (the history stays). */
void claim_port_deleted(struct store *st, const char *port);

/* port.c, for claim.c: the port object as the API shows it, or NULL. */
json_t *port_load(struct api_req *req, const char *id);

#endif
