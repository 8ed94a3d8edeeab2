/*
 * The agent's side of virtual IPs that move (docs/architecture.md, "Virtual IPs in the data
 * plane"): which gratuitous ARPs are worth reporting as claims, which destinations are
 * flooded to the other ports of a subnet (link-local multicast and broadcast, so that VRRP
 * advertisements reach their peers), and the token buckets that limit both per port.
 * Pure functions: no I/O, no clock (the caller passes the time).
 */
#ifndef VENEER_VIP_H
#define VENEER_VIP_H

#include <stdint.h>

#include "addr.h"

/* Claims a port may report: 5 per second, 10 at once (veneerd allows 10/s, burst 20). */
#define VIP_CLAIM_RATE 5.0
#define VIP_CLAIM_BURST 10.0
/* Flooded packets a port may send: 200 per second, 400 at once. */
#define VIP_FLOOD_RATE 200.0
#define VIP_FLOOD_BURST 400.0
/*
 * What one port's floods may cost its agent in copies (a frame to a subnet of N ports is
 * up to N copies): bounds the amplification, whatever the subnet's size.
 */
#define VIP_FLOOD_COPY_RATE 20000.0
#define VIP_FLOOD_COPY_BURST 40000.0

/* A token bucket; all zero is a full bucket not used yet. */
struct vip_bucket {
	double level;
	uint64_t last_ms;
	int used;
};

/* Takes a token from b at time now_ms (monotonic): 1, or 0 when b is empty. */
int vip_take(struct vip_bucket *b, uint64_t now_ms, double rate, double burst);
/* The same for n tokens at once: all or nothing. */
int vip_take_n(struct vip_bucket *b, uint64_t now_ms, double rate, double burst, double n);

/* What a destination address is to a subnet. */
enum vip_flood {
	VIP_FLOOD_NONE = 0,  /* not flooded */
	VIP_FLOOD_LLMC,      /* link-local multicast, 224.0.0.0/24 */
	VIP_FLOOD_BCAST,     /* limited broadcast, 255.255.255.255 */
	VIP_FLOOD_SUBNET,    /* the subnet's broadcast address (subnets of /30 and wider) */
};

enum vip_flood vip_flood_kind(const struct pfx4 *subnet, uint32_t dst);

/* The Ethernet destination of a flooded IPv4 destination (RFC 1112 6.4, or broadcast). */
void vip_group_mac(uint32_t dst, uint8_t mac[6]);

/*
 * Could a port of subnet, with claimable CIDRs cl[0..ncl), claim address a? Inside the
 * subnet, neither its network, gateway (first host) nor broadcast address, and inside one
 * of the CIDRs: what veneerd checks too, but for fixed addresses (the caller's to check).
 */
int vip_claimable(const struct pfx4 *subnet, const struct pfx4 *cl, unsigned ncl, uint32_t a);

#endif
