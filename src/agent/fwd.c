/*
 * The forwarding pipeline (design brief, "Forwarding model"): port security, ARP/DHCP/ICMP
 * answered from the tables, routing through every emulated router on the path with TTL and
 * ICMP as a real router would, delivery by destination address with the real MAC written at
 * delivery, and inbound verification of everything the substrate brings.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "dp.h"
#include "ev.h"
#include "log.h"
#include "pkt.h"
#include "tap.h"
#include "vxlan.h"

#define FWD_MAX_ROUTERS 16 /* a longer path is a loop in the configuration */
#define FWD_LEASE_SECS 86400
#define FWD_SUBSTRATE_MTU 1500

/* May port fp send from (or receive for) address a? */
static int
fwd_port_holds(const struct fib_port *fp, uint32_t a)
{
	if (fp->p->ip == a)
		return 1;
	for (unsigned i = 0; i < fp->p->nextra; i++)
		if (fp->p->extra[i] == a)
			return 1;
	/* Virtual IPs it holds now (claimed): veneerd moves them between ports. */
	for (unsigned i = 0; i < fp->p->nowned; i++)
		if (fp->p->owned[i] == a)
			return 1;
	return 0;
}

static int
fwd_unchecked(const struct fib_port *fp)
{
	return (fp->p->flags & CC_PORT_SDC) == 0;
}

/* Is a one of fp's fixed addresses (its ip or extra_ips)? */
static int
fwd_port_fixed(const struct fib_port *fp, uint32_t a)
{
	if (fp->p->ip == a)
		return 1;
	for (unsigned i = 0; i < fp->p->nextra; i++)
		if (fp->p->extra[i] == a)
			return 1;
	return 0;
}

/*
 * Is this ARP from fp a claim (docs/api.md, "Virtual IPs")? Gratuitous (a request whose
 * sender address is its target, or a reply), for an address fp may claim and does not hold
 * now. What veneerd would refuse whatever happens is not reported: an address outside
 * fp's subnet or its claimable CIDRs, the subnet's reserved addresses, a fixed address of
 * any port. The caller has checked the sender MAC.
 */
static int
fwd_is_claim(const struct fib_port *fp, const struct pkt_arp *arp)
{
	const struct fib_port *o;

	if (arp->spa == 0 || !(arp->gratuitous || arp->op == PKT_ARP_REPLY) ||
	    fwd_port_holds(fp, arp->spa) ||
	    !vip_claimable(&fp->sub->s->cidr, fp->p->claim, fp->p->nclaim, arp->spa))
		return 0;
	o = imap_get(&fp->net->by_ip, arp->spa);
	return o == NULL || !fwd_port_fixed(o, arp->spa);
}

/* Reports lp's claim of ip to veneerd, which decides; the agent only limits the rate. */
static void
fwd_claim(struct dp *dp, struct lport *lp, uint32_t ip)
{
	struct agent *a = dp->a;
	struct cc_msg m = {.type = CC_CLAIM};

	if (a == NULL || a->conn == NULL || !a->welcomed) {
		dp_drop(dp, lp, DP_CLAIM_OFFLINE);
		return;
	}
	if (!vip_take(&lp->claim_tb, ev_now_ms(), VIP_CLAIM_RATE, VIP_CLAIM_BURST)) {
		dp_drop(dp, lp, DP_CLAIM_RATE);
		return;
	}
	snprintf(m.u.claim.port, sizeof(m.u.claim.port), "%s", lp->id);
	m.u.claim.ip = ip;
	m.u.claim.how = CC_CLAIM_GARP;
	if (conn_send(a->conn, &m) < 0) {
		dp_drop(dp, lp, DP_IO);
		return;
	}
	lp->claims++;
	dp->claims++;
	log_info("port %s: gratuitous ARP for %u.%u.%u.%u reported as a claim", lp->id, ip >> 24,
	    ip >> 16 & 0xff, ip >> 8 & 0xff, ip & 0xff);
}

static uint32_t
fwd_hash(const struct pkt_ip4 *ip)
{
	uint32_t h = ip->src * 2654435761u ^ ip->dst * 2246822519u ^ ip->proto;
	struct cur c = ip->payload;

	/* Ports of TCP and UDP keep one flow on one path of an ECMP set. */
	if ((ip->proto == PKT_IPPROTO_TCP || ip->proto == PKT_IPPROTO_UDP) && ip->frag_off == 0)
		h ^= cur_u32(&c) * 3266489917u;
	return h ^ (h >> 16);
}

/* Writes the frame built in dp->out back to the port it answers. */
static void
fwd_answer(struct dp *dp, struct lport *lp, const struct wbuf *w)
{
	if (w->failed || w->len == 0)
		return;
	if (tap_write(lp->fd, w->p, w->len) < 0)
		dp_drop(dp, lp, DP_IO);
	else
		dp->answered++;
}

static void
fwd_arp(struct dp *dp, struct lport *lp, struct cur *c)
{
	const struct fib_port *fp = lp->fp;
	const struct fib_port *owner;
	const struct fib_subnet *gw;
	struct pkt_arp arp;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);

	if (pkt_arp_parse(c, &arp) != PKT_OK) {
		dp_drop(dp, lp, DP_PARSE);
		return;
	}
	if (memcmp(arp.sha, fp->p->mac, 6) == 0 && fwd_is_claim(fp, &arp)) {
		fwd_claim(dp, lp, arp.spa);
		return;
	}
	if (memcmp(arp.sha, fp->p->mac, 6) != 0 ||
	    (arp.spa != 0 && !fwd_port_holds(fp, arp.spa) && !fwd_unchecked(fp))) {
		dp_drop(dp, lp, DP_ARP_SPOOF);
		return;
	}
	if (arp.op != PKT_ARP_REQUEST || arp.gratuitous)
		return; /* nothing to answer */
	if ((gw = imap_get(&fp->net->gw, arp.tpa)) != NULL && gw == fp->sub && gw->rtr) {
		pkt_arp_reply(&w, &arp, gw->rtr->r->mac);
	} else if ((owner = imap_get(&fp->net->by_ip, arp.tpa)) != NULL && owner->sub == fp->sub &&
	    owner != fp) {
		pkt_arp_reply(&w, &arp, owner->p->mac);
	} else {
		dp_drop(dp, lp, DP_ARP_UNKNOWN);
		return;
	}
	fwd_answer(dp, lp, &w);
}

static void
fwd_dhcp(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f, struct cur *udp)
{
	const struct fib_port *fp = lp->fp;
	struct pkt_dhcp d;
	struct pkt_dhcp_lease l = {0};
	struct pkt_endpoint self;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);
	uint8_t type;

	if (pkt_dhcp_parse(udp, &d) != PKT_OK || fp->sub == NULL || fp->sub->rtr == NULL) {
		dp_drop(dp, lp, DP_PARSE);
		return;
	}
	memcpy(self.mac, fp->sub->rtr->r->mac, 6);
	self.ip = fp->sub->gw;
	l.yiaddr = fp->p->ip;
	l.mask = pfx4_mask(fp->sub->s->cidr.len);
	l.router = fp->sub->gw;
	l.lease_secs = FWD_LEASE_SECS;
	l.mtu = (uint16_t)dp->mtu;
	switch (d.msgtype) {
	case PKT_DHCP_DISCOVER:
		type = PKT_DHCP_OFFER;
		break;
	case PKT_DHCP_REQUEST:
		/* The port's address is the only lease there is. */
		type = (!d.has_reqip || d.reqip == fp->p->ip) && (d.ciaddr == 0 ||
		    d.ciaddr == fp->p->ip) ? PKT_DHCP_ACK : PKT_DHCP_NAK;
		break;
	case PKT_DHCP_INFORM:
		type = PKT_DHCP_ACK;
		break;
	default:
		return; /* RELEASE, DECLINE: nothing to do for a fixed address */
	}
	pkt_dhcp_reply(&w, type, f, &d, &l, &self);
	fwd_answer(dp, lp, &w);
}

/* An ICMP error from router r (its address on the way in: at) back to the sender. */
static void
fwd_icmp_error(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f,
    const struct fib_router *r, uint32_t at, uint8_t type, uint8_t code)
{
	struct pkt_endpoint self;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);

	if (r == NULL || at == 0)
		return; /* an unnumbered router stays silent, as traceroute shows with "*" */
	memcpy(self.mac, r->r->mac, 6);
	self.ip = at;
	if (type == PKT_ICMP_TIME_EXCEEDED)
		pkt_icmp_time_exceeded(&w, f, &self);
	else
		pkt_icmp_unreach(&w, f, code, &self);
	fwd_answer(dp, lp, &w);
}

/*
 * BGP (TCP port 179) from a routing port to an address of its own router goes to routerd
 * unchanged: the router is its peer, not a hop (no TTL change, GTSM keeps working). A port
 * without routing gets nothing, counted. 1 when the packet was BGP and is dealt with.
 */
static int
fwd_bgp_out(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f,
    const struct fib_subnet *gw)
{
	const struct fib_port *fp = lp->fp;
	struct cur c = f->ip.payload;
	struct pkt_tcp t;

	if (pkt_tcp_parse(&c, &f->ip, PKT_CSUM_SKIP, &t) != PKT_OK || t.dport != 179 ||
	    gw->rtr == NULL || fp->sub->rtr != gw->rtr)
		return 0;
	if (!(fp->p->flags & CC_PORT_ROUTING)) {
		dp_drop(dp, lp, DP_BGP_REFUSED);
		return 1;
	}
	if (fp->net->routerd.where.family == 0) {
		dp_drop(dp, lp, DP_NO_ROUTERD);
		return 1;
	}
	/* The frame is ours to write (the TAP read buffer): the IP header sits right after
	 * an untagged Ethernet header, and dp_deliver uses the headroom before it. */
	dp_deliver(dp, fp, &fp->net->routerd, (uint8_t *)(uintptr_t)f->ip.hdr.p - PKT_ETH_HLEN,
	    PKT_ETH_HLEN + f->ip.totlen);
	dp->to_routerd++;
	return 1;
}

/* Traffic addressed to a router interface: echo is answered, the rest is not for us yet. */
static void
fwd_to_router(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f,
    const struct fib_subnet *gw)
{
	struct pkt_icmp m;
	struct cur c = f->ip.payload;
	struct pkt_endpoint self;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);

	if (f->ip.proto == PKT_IPPROTO_TCP && fwd_bgp_out(dp, lp, f, gw))
		return;
	if (f->ip.proto != PKT_IPPROTO_ICMP || pkt_icmp_parse(&c, &f->ip, 0, &m) != PKT_OK ||
	    m.type != PKT_ICMP_ECHO || gw->rtr == NULL) {
		dp_drop(dp, lp, DP_TO_ROUTER);
		return;
	}
	memcpy(self.mac, lp->fp->sub->rtr ? lp->fp->sub->rtr->r->mac : gw->rtr->r->mac, 6);
	self.ip = gw->gw;
	pkt_icmp_echo_reply(&w, f, &m, &self);
	fwd_answer(dp, lp, &w);
}

/* Bytes the substrate encoding adds to the IPv4 packet on the way to `to`'s host. */
static unsigned
fwd_overhead(const struct fib_port *to, const struct pkt_ip4 *ip)
{
	if (to->encap == CC_ENCAP_EMBED6)
		return pkt_ip4_is_fragment(ip) ? 28 : 20; /* IPv6 header, fragment header */
	return to->where.family == 6 ? 70 : 50;      /* outer IP, UDP, VXLAN, inner Ethernet */
}

/*
 * A packet the substrate cannot carry whole: with DF, the sender hears the MTU that fits
 * (RFC 1191) from its first router, as it would from a real one; without DF it is dropped
 * (the VM's MTU, set by DHCP, keeps its own packets below this).
 */
static int
fwd_too_big(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f,
    const struct fib_port *to)
{
	unsigned over = fwd_overhead(to, &f->ip);
	const struct fib_subnet *s = lp->fp->sub;
	struct pkt_endpoint self;
	struct wbuf w = wbuf_make(dp->out, DP_FRAME_MAX);

	if (to->local || (unsigned)f->ip.totlen + over <= FWD_SUBSTRATE_MTU)
		return 0;
	dp_drop(dp, lp, DP_TOO_BIG);
	if (f->ip.df && s->rtr) {
		memcpy(self.mac, s->rtr->r->mac, 6);
		self.ip = s->gw;
		pkt_icmp_frag_needed(&w, f, (uint16_t)(FWD_SUBSTRATE_MTU - over), &self);
		fwd_answer(dp, lp, &w);
	}
	return 1;
}

/*
 * Sends to port `to`, with the real destination MAC and src MAC as given. A local receiver
 * is checked here as a remote one is by its agent: it takes only its own addresses unless
 * its source/destination check is off.
 */
static void
fwd_out(struct dp *dp, struct lport *lp, const struct fib_port *to,
    const struct pkt_ip4_frame *f, uint8_t *frame, size_t len, const uint8_t src[6])
{
	if (to->local && !fwd_port_holds(to, f->ip.dst) && !fwd_unchecked(to)) {
		dp_drop(dp, lp, DP_DST_IP);
		return;
	}
	if (fwd_too_big(dp, lp, f, to))
		return;
	memcpy(frame, to->p->mac, 6);
	/* On the wire the sender's MAC stays (the receiver verifies it); locally it is final. */
	if (to->local)
		memcpy(frame + 6, src, 6);
	dp_deliver(dp, lp->fp, to, frame, len);
}

/*
 * Walks the routers from the sender's subnet to the destination, decrementing the TTL at
 * each, and delivers or answers with ICMP.
 */
static void
fwd_route(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f, uint8_t *frame,
    size_t len)
{
	const struct fib_net *net = lp->fp->net;
	const struct fib_router *r = lp->fp->sub->rtr;
	uint32_t at = lp->fp->sub->gw, hash = fwd_hash(&f->ip);
	struct wbuf w = wbuf_make(frame, len);

	w.len = len;
	for (int hops = 0; r && hops < FWD_MAX_ROUTERS; hops++) {
		const struct rib_entry *e;
		const struct fib_port *to;

		if (pkt_ip4_dec_ttl(&w, f->eth.hlen) == PKT_TTL_EXPIRED) {
			dp_drop(dp, lp, DP_TTL);
			fwd_icmp_error(dp, lp, f, r, at, PKT_ICMP_TIME_EXCEEDED, 0);
			return;
		}
		if ((e = fib_lookup(r, f->ip.dst, hash)) == NULL) {
			dp_drop(dp, lp, DP_NO_ROUTE);
			fwd_icmp_error(dp, lp, f, r, at, PKT_ICMP_UNREACH, PKT_UNREACH_NET);
			return;
		}
		switch (e->ttype) {
		case RIB_T_SUBNET:
			to = imap_get(&net->by_ip, f->ip.dst);
			if (to == NULL || to->sub == NULL || strcmp(to->sub->s->id, e->target) != 0) {
				dp_drop(dp, lp, DP_NO_HOST);
				fwd_icmp_error(dp, lp, f, r, at, PKT_ICMP_UNREACH, PKT_UNREACH_HOST);
				return;
			}
			fwd_out(dp, lp, to, f, frame, len, r->r->mac);
			return;
		case RIB_T_PORT:
			/* An appliance: the packet reaches it with its destination unchanged. */
			if ((to = map_get(&dp->fib->by_port, e->target)) == NULL) {
				dp_drop(dp, lp, DP_NO_HOST);
				return;
			}
			fwd_out(dp, lp, to, f, frame, len, r->r->mac);
			return;
		case RIB_T_BLACKHOLE:
			dp_drop(dp, lp, DP_BLACKHOLE);
			return;
		default:
			r = map_get(&net->by_router, e->target);
			at = r ? r->addr : 0;
		}
	}
	dp_drop(dp, lp, DP_LOOP);
}

/*
 * Link-local multicast or broadcast from lp, past port security: to every other port of its
 * subnet, unchanged (no router on the way: TTL kept), within the port's flood rate.
 */
static void
fwd_flood(struct dp *dp, struct lport *lp, const struct pkt_ip4_frame *f, uint8_t *frame,
    size_t len)
{
	const struct fib_port *fp = lp->fp;
	const struct fib_subnet *s = fp->sub;

	if (!vip_take(&lp->flood_tb, ev_now_ms(), VIP_FLOOD_RATE, VIP_FLOOD_BURST) ||
	    !vip_take_n(&lp->flood_copy_tb, ev_now_ms(), VIP_FLOOD_COPY_RATE,
	    VIP_FLOOD_COPY_BURST, (double)s->nflood)) {
		dp_drop(dp, lp, DP_FLOOD_RATE);
		return;
	}
	lp->flooded++;
	dp->flooded++;
	for (int i = 0; i < s->nflood; i++) {
		const struct fib_port *to = s->flood[i];

		if (to == fp)
			continue;
		if (!to->local && (unsigned)f->ip.totlen + fwd_overhead(to, &f->ip) >
		    FWD_SUBSTRATE_MTU) {
			dp_drop(dp, lp, DP_TOO_BIG);
			continue;
		}
		dp_deliver_flood(dp, fp, to, frame, len);
	}
}

static void
fwd_ip(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len)
{
	const struct fib_port *fp = lp->fp, *to;
	struct cur c = cur_make(frame, len);
	struct pkt_ip4_frame f;
	const struct fib_subnet *gw;
	struct pkt_udp u;
	struct cur l4;
	int udp;

	/* The IPv4 header checksum is verified (RFC 1812 5.2.2); L4 ones are the receiver's. */
	if (pkt_ip4_frame_parse(&c, 0, &f) != PKT_OK) {
		dp_drop(dp, lp, DP_PARSE);
		return;
	}
	l4 = f.ip.payload;
	udp = f.ip.proto == PKT_IPPROTO_UDP && pkt_udp_parse(&l4, &f.ip, PKT_CSUM_SKIP, &u) ==
	    PKT_OK;
	if (udp && u.dport == PKT_DHCP_SERVER_PORT && u.sport == PKT_DHCP_CLIENT_PORT) {
		fwd_dhcp(dp, lp, &f, &u.payload);
		return;
	}
	if (!fwd_port_holds(fp, f.ip.src) && !fwd_unchecked(fp)) {
		dp_drop(dp, lp, DP_SRC_IP);
		return;
	}
	/* Source routing lets a VM choose its path past the emulated routers: refused. */
	if (f.ip.srcroute) {
		dp_drop(dp, lp, DP_SRC_ROUTE);
		return;
	}
	if (pkt_mac_is_group(f.eth.dst)) {
		/* DHCP is answered by the agent alone: a VM's own DHCP server is not heard. */
		int dhcp = udp && (u.sport == PKT_DHCP_SERVER_PORT || u.sport ==
		    PKT_DHCP_CLIENT_PORT || u.dport == PKT_DHCP_SERVER_PORT ||
		    u.dport == PKT_DHCP_CLIENT_PORT);

		if (!dhcp && vip_flood_kind(&fp->sub->s->cidr, f.ip.dst) != VIP_FLOOD_NONE)
			fwd_flood(dp, lp, &f, frame, len);
		else
			dp_drop(dp, lp, DP_BROADCAST);
		return;
	}
	if ((gw = imap_get(&fp->net->gw, f.ip.dst)) != NULL) {
		fwd_to_router(dp, lp, &f, gw);
		return;
	}
	/* Same subnet: straight to the port holding the address, whatever MAC the VM used. */
	if (pfx4_contains_addr(&fp->sub->s->cidr, f.ip.dst)) {
		to = imap_get(&fp->net->by_ip, f.ip.dst);
		if (to == NULL || to->sub != fp->sub) {
			dp_drop(dp, lp, DP_NO_HOST);
			return;
		}
		fwd_out(dp, lp, to, &f, frame, len, fp->p->mac);
		return;
	}
	fwd_route(dp, lp, &f, frame, len);
}

void
fwd_from_port(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len)
{
	struct cur c = cur_make(frame, len);
	struct pkt_eth eth;

	if (lp->fp == NULL || lp->fp->sub == NULL || dp->fib == NULL) {
		dp_drop(dp, lp, DP_NOT_READY);
		return;
	}
	if (pkt_eth_parse(&c, &eth) != PKT_OK) {
		dp_drop(dp, lp, DP_PARSE);
		return;
	}
	if (eth.tagged) {
		dp_drop(dp, lp, DP_VLAN);
		return;
	}
	if (memcmp(eth.src, lp->fp->p->mac, 6) != 0) {
		dp_drop(dp, lp, DP_SRC_MAC);
		return;
	}
	if (eth.type == PKT_ETHERTYPE_ARP)
		fwd_arp(dp, lp, &eth.payload);
	else if (eth.type == PKT_ETHERTYPE_IPV4)
		fwd_ip(dp, lp, frame, len);
	else
		dp_drop(dp, lp, DP_NOT_IPV4);
}

static int
fwd_same_addr(const struct cc_addr *a, const struct cc_addr *b)
{
	return a->family == b->family && memcmp(a->a, b->a, a->family == 4 ? 4 : 16) == 0;
}

/* What both encodings verify once the sender and receiver ports are known. */
static int
fwd_inbound_ok(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    uint32_t src, uint32_t dst)
{
	if (!fwd_port_holds(from, src) && !fwd_unchecked(from)) {
		dp_drop(dp, NULL, DP_SUB_SRC_IP);
		return 0;
	}
	if (to == NULL || !to->local || to->lp == NULL ||
	    (!fwd_port_holds(to, dst) && !fwd_unchecked(to))) {
		dp_drop(dp, NULL, DP_SUB_RECEIVER);
		return 0;
	}
	return 1;
}

/*
 * A flooded packet over embed6 (one copy per receiving port, named by the destination):
 * from a port that may send its source address, to a local port of the sender's subnet.
 * It gets the group MAC of its destination and, when the sender carried it, its own TTL.
 */
static void
fwd_flood_in6(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    const struct e6_meta *meta, struct wbuf *w, int ttl)
{
	uint8_t *frame = w->p - 14;

	if (!fwd_port_holds(from, meta->src.ipv4) && !fwd_unchecked(from)) {
		dp_drop(dp, NULL, DP_SUB_SRC_IP);
		return;
	}
	if (to == NULL || to == from || !to->local || to->lp == NULL || to->sub != from->sub) {
		dp_drop(dp, NULL, DP_SUB_RECEIVER);
		return;
	}
	if (ttl >= 0) {
		uint8_t t = (uint8_t)ttl;

		if (pkt_wbuf_put(w, 8, &t, 1) < 0 || pkt_ip4_hdr_csum_fill(w, 0) != PKT_OK) {
			dp_drop(dp, NULL, DP_SUB_DECODE);
			return;
		}
	}
	vip_group_mac(meta->dst.ipv4, frame);
	memcpy(frame + 6, from->p->mac, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	if (tap_write(to->lp->fd, frame, 14 + w->len) < 0) {
		dp_drop(dp, to->lp, DP_IO);
		return;
	}
	to->lp->tx++;
	dp->flood_in++;
}

void
fwd_from_embed6(struct dp *dp, const uint8_t *pkt, size_t len)
{
	struct cur c = cur_make(pkt, len);
	uint8_t *frame = dp->out + DP_HEADROOM;
	struct wbuf w = wbuf_make(frame + 14, DP_FRAME_MAX - 14);
	struct e6_meta meta;
	const struct fib_net *net;
	const struct fib_port *from, *to;

	if (dp->fib == NULL) {
		dp_drop(dp, NULL, DP_NOT_READY);
		return;
	}
	if (e6_decode(&c, &dp->layout, &w, &meta) != E6_OK) {
		dp_drop(dp, NULL, DP_SUB_DECODE);
		return;
	}
	if (meta.src.vnid != meta.dst.vnid ||
	    (net = imap_get(&dp->fib->by_vnid, meta.dst.vnid)) == NULL) {
		dp_drop(dp, NULL, DP_SUB_VNI);
		return;
	}
	/* The source address names the sending host and port: they must agree. */
	from = imap_get(&net->by_loc, fib_loc_key(meta.src.prefix, meta.src.slot));
	if (from == NULL || from->p->slot != meta.src.slot ||
	    memcmp(from->prefix.a, meta.src.prefix, 16) != 0) {
		dp_drop(dp, NULL, DP_SUB_SENDER);
		return;
	}
	to = imap_get(&net->by_loc, fib_loc_key(meta.dst.prefix, meta.dst.slot));
	if (to != NULL && to->p->slot != meta.dst.slot)
		to = NULL;
	if (from->sub && vip_flood_kind(&from->sub->s->cidr, meta.dst.ipv4) != VIP_FLOOD_NONE) {
		fwd_flood_in6(dp, from, to, &meta, &w, dp_embed6_flood_ttl(pkt, len));
		return;
	}
	if (!fwd_inbound_ok(dp, from, to, meta.src.ipv4, meta.dst.ipv4))
		return;
	memcpy(frame, to->p->mac, 6);
	memcpy(frame + 6, from->sub != to->sub && to->sub && to->sub->rtr ? to->sub->rtr->r->mac :
	    from->p->mac, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	if (tap_write(to->lp->fd, frame, 14 + w.len) < 0)
		dp_drop(dp, to->lp, DP_IO);
	else
		to->lp->tx++;
}

/*
 * From routerd: only its router's TCP from port 179 to a local routing port of that
 * router's subnets, with the router's MAC as source, is delivered.
 */
static void
fwd_bgp_in(struct dp *dp, const struct fib_net *net, const struct pkt_ip4_frame *f,
    uint8_t *frame, size_t len)
{
	const struct fib_port *to = imap_get(&net->by_mac, imap_mac(f->eth.dst));
	const struct fib_subnet *gw = imap_get(&net->gw, f->ip.src);
	struct cur c = f->ip.payload;
	struct pkt_tcp t;

	if (to == NULL || !to->local || to->lp == NULL || to->p->ip != f->ip.dst ||
	    !(to->p->flags & CC_PORT_ROUTING) || gw == NULL || gw->rtr == NULL ||
	    to->sub == NULL || to->sub->rtr != gw->rtr ||
	    memcmp(f->eth.src, gw->rtr->r->mac, 6) != 0 || f->ip.proto != PKT_IPPROTO_TCP ||
	    pkt_tcp_parse(&c, &f->ip, PKT_CSUM_SKIP, &t) != PKT_OK || t.sport != 179) {
		dp_drop(dp, NULL, DP_SUB_ROUTERD);
		return;
	}
	dp->from_routerd++;
	dp_io_to_tap(dp, to->lp, frame, len);
}

/*
 * A flooded packet over VXLAN (one copy per host): from a port that may send its source
 * address, to a link-local multicast or broadcast destination of its subnet; delivered
 * unchanged to every local port of that subnet.
 */
static void
fwd_flood_in(struct dp *dp, const struct fib_port *from, const struct pkt_ip4_frame *f,
    uint8_t *frame, size_t len)
{
	const struct fib_subnet *s = from->sub;
	int n = 0;

	if (!fwd_port_holds(from, f->ip.src) && !fwd_unchecked(from)) {
		dp_drop(dp, NULL, DP_SUB_SRC_IP);
		return;
	}
	if (s == NULL || vip_flood_kind(&s->s->cidr, f->ip.dst) == VIP_FLOOD_NONE) {
		dp_drop(dp, NULL, DP_SUB_RECEIVER);
		return;
	}
	for (int i = 0; i < s->nflood; i++) {
		const struct fib_port *to = s->flood[i];

		if (to != from && to->local && to->lp) {
			dp_io_to_tap(dp, to->lp, frame, len);
			n++;
		}
	}
	if (n > 0)
		dp->flood_in++;
}

void
fwd_from_substrate(struct dp *dp, const struct cc_addr *src, uint8_t *pkt, size_t len)
{
	struct cur c = cur_make(pkt, len), inner;
	uint32_t vni;
	const struct fib_net *net;
	const struct fib_port *from, *to;
	struct pkt_ip4_frame f;
	struct cur fc;
	uint8_t *frame;

	if (dp->fib == NULL) {
		dp_drop(dp, NULL, DP_NOT_READY);
		return;
	}
	/* Under embed6 no port speaks VXLAN: whoever else sends it here is refused unread. */
	if (dp->routerd_only && (dp->fib->routerd == NULL ||
	    !fwd_same_addr(&dp->fib->routerd->address, src))) {
		dp_drop(dp, NULL, DP_SUB_NOT_ROUTERD);
		return;
	}
	if (vxlan_decode(&c, &vni, &inner) != VXLAN_OK) {
		dp_drop(dp, NULL, DP_SUB_DECODE);
		return;
	}
	if ((net = imap_get(&dp->fib->by_vnid, vni)) == NULL) {
		dp_drop(dp, NULL, DP_SUB_VNI);
		return;
	}
	frame = pkt + (len - cur_left(&inner));
	fc = cur_make(frame, cur_left(&inner));
	if (pkt_ip4_frame_parse(&fc, 0, &f) != PKT_OK || f.eth.tagged) {
		dp_drop(dp, NULL, DP_SUB_DECODE);
		return;
	}
	/* routerd answering a routing port on behalf of its router. */
	if (fwd_same_addr(&net->routerd.where, src)) {
		fwd_bgp_in(dp, net, &f, frame, cur_left(&inner));
		return;
	}
	/* The sender: a port of this network, at the substrate address the packet came from. */
	from = imap_get(&net->by_mac, imap_mac(f.eth.src));
	if (from == NULL || !fwd_same_addr(&from->where, src)) {
		dp_drop(dp, NULL, DP_SUB_SENDER);
		return;
	}
	if (pkt_mac_is_group(f.eth.dst)) {
		fwd_flood_in(dp, from, &f, frame, cur_left(&inner));
		return;
	}
	to = imap_get(&net->by_mac, imap_mac(f.eth.dst));
	if (!fwd_inbound_ok(dp, from, to, f.ip.src, f.ip.dst))
		return;
	/* Routed on the way: the frame arrives from the router of the receiver's subnet. */
	if (from->sub != to->sub && to->sub && to->sub->rtr)
		memcpy(frame + 6, to->sub->rtr->r->mac, 6);
	dp_io_to_tap(dp, to->lp, frame, cur_left(&inner));
}
