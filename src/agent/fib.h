/*
 * The agent's forwarding tables, compiled from one view (struct astate) after each applied
 * batch and swapped in whole. Everything the per-packet path needs is an integer-keyed
 * lookup or a walk over one router's sorted table; nothing is allocated per packet.
 */
#ifndef VENEER_FIB_H
#define VENEER_FIB_H

#include <stdint.h>

#include "agent.h"
#include "imap.h"
#include "rib.h"

struct fib_net;
struct fib_subnet;
struct lport;

struct fib_port {
	const struct cc_port *p;   /* points into the view the fib was built from */
	struct fib_net *net;
	struct fib_subnet *sub;
	struct cc_addr where;      /* substrate address of its host (family 0: nowhere) */
	struct cc_addr prefix;     /* its host's embed6 prefix (family 0: none) */
	uint8_t encap;             /* its host's substrate encoding */
	int local;                 /* bound to this host */
	struct lport *lp;          /* its TAP when local and attached */
};

struct fib_router {
	const struct cc_router *r;
	uint32_t addr;             /* answers ICMP from here: its lowest subnet's gateway, or 0 */
	struct rib_entry *rib;     /* selected and not, longest prefix first */
	int nrib;
};

struct fib_subnet {
	const struct cc_subnet *s;
	struct fib_router *rtr;
	uint32_t gw, bcast;
	/*
	 * Where a flooded packet of the subnet goes (link-local multicast, broadcast): every
	 * local port, one port per remote VXLAN host (its agent delivers to the rest), every
	 * remote embed6 port (the address names the port). Senders skip themselves.
	 */
	struct fib_port **flood;
	int nflood;
};

struct fib_net {
	const struct cc_net *n;
	struct fib_router *routers;
	int nrouters;
	struct fib_subnet *subnets;
	int nsubnets;
	struct fib_port *ports;
	int nports;
	struct imap by_ip;     /* every address of every port -> struct fib_port */
	struct imap by_mac;    /* port MAC -> struct fib_port */
	struct imap gw;        /* gateway address -> struct fib_subnet */
	struct imap rtr_mac;   /* router MAC -> struct fib_router */
	struct imap by_loc;    /* fib_loc_key(host prefix, slot) -> struct fib_port (embed6) */
	struct map by_router;  /* router id -> struct fib_router */
	struct map by_subnet;  /* subnet id -> struct fib_subnet */
	/*
	 * veneer-routerd as a destination of this network (intercepted BGP goes there): a
	 * port-like endpoint at its substrate address; where.family 0 when no routerd is up.
	 */
	struct fib_port routerd;
	struct cc_port routerd_p;
};

struct fib {
	uint64_t revision;
	struct fib_net *nets;
	int nnets;
	struct imap by_vnid;   /* vnid -> struct fib_net */
	struct map by_port;    /* port id -> struct fib_port (local networks only) */
	const struct cc_host *routerd; /* the routing manager's host, NULL when none is up */
};

/* fib.c */
/* Compiles the tables of view st for host `self`; NULL when out of memory. */
struct fib *fib_build(const struct astate *st, const char *self);
void fib_free(struct fib *f);
/* The key of a port's embed6 location: its host prefix and its slot there. */
uint64_t fib_loc_key(const uint8_t prefix[16], uint64_t slot);
/* The subnet of net containing address a, or NULL. */
struct fib_subnet *fib_subnet_of(const struct fib_net *net, uint32_t a);
/*
 * Longest-prefix match in router r's selected entries; with several equal entries (ECMP)
 * the flow hash picks one. NULL: no route.
 */
const struct rib_entry *fib_lookup(const struct fib_router *r, uint32_t dst, uint32_t hash);

#endif
