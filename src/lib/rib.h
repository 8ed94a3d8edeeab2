/*
 * The effective routing table of one virtual router, computed from the network's
 * topology alone (no store access): veneerd answers GET /v1/routers/{id}/routes with it,
 * and the agents compile their forwarding tables from the same function, so what the API
 * shows is what the data plane does.
 */
#ifndef VENEER_RIB_H
#define VENEER_RIB_H

#include <stddef.h>

#include "addr.h"

enum rib_origin {
	RIB_CONNECTED = 0,
	RIB_STATIC = 1,
	RIB_BGP = 10,  /* learned over BGP (accepted and selected by veneer-routerd) */
	RIB_LINK = 20,
}; /* the values are the administrative distances */

enum rib_target {
	RIB_T_SUBNET,
	RIB_T_PORT,
	RIB_T_ROUTER,
	RIB_T_BLACKHOLE,
};

/* A route a router has of its own: a connected subnet, a static or a learned route. */
struct rib_own {
	int router;          /* index into the network's routers */
	struct pfx4 dst;
	enum rib_origin origin; /* RIB_CONNECTED, RIB_STATIC or RIB_BGP (ttype RIB_T_PORT) */
	enum rib_target ttype;
	const char *target;  /* subnet, port or router id; NULL for blackhole */
	const char *route_id; /* static route id, or learned route id for RIB_BGP */
	/*
	 * RIB_BGP only: the route may replace a connected subnet route of its router (the
	 * import policy allowed subnet override): an appliance inserting itself between subnets.
	 */
	int override;
};

struct rib_net {
	int nrouters;
	const char *const *router_ids;
	int nlinks;
	const int (*links)[2]; /* router index pairs */
	int nown;
	const struct rib_own *own;
};

struct rib_entry {
	struct pfx4 dst;
	enum rib_origin origin;
	enum rib_target ttype;
	const char *target;
	const char *route_id;
	unsigned metric; /* router hops for RIB_LINK */
	int selected;
	int override;    /* a RIB_BGP entry that replaces the connected route (selected then) */
};

/* rib.c */
/*
 * Computes the table of router self: its own routes, plus what routers reachable over
 * links have (connected, and static or learned routes not pointing at a router), via each
 * first hop on a shortest path. Marks the best entries per destination as selected (lowest
 * distance, then metric; ties: ECMP), except that RIB_BGP entries with override are
 * selected instead of a connected route to the same destination. Sorted longest prefix
 * first. Returns the number of entries (*out malloc'ed), or -1.
 */
int rib_compute(const struct rib_net *net, int self, struct rib_entry **out);
const char *rib_origin_name(enum rib_origin o);
const char *rib_target_name(enum rib_target t);

#endif
