/*
 * The agent's data plane: a TAP per local port, one substrate socket, and the forwarding
 * pipeline of the design brief (port security, local ARP/DHCP/ICMP answers, router
 * emulation, delivery by destination address, inbound verification), with a drop counter
 * per reason. Runs on the agent's event loop; no allocation per packet.
 */
#ifndef VENEER_DP_H
#define VENEER_DP_H

#include <jansson.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "agent.h"
#include "embed6.h"
#include "fib.h"
#include "gso.h"
#include "vip.h"

#define DP_FRAME_MAX 65600 /* a TAP super-frame: 64 KiB of IPv4 and its Ethernet header */
#define DP_HEADROOM 64     /* room for a VXLAN header in front of a frame */
#define DP_STAGE (512 << 10) /* frames from TAPs staged for one batch of substrate sends */
#define DP_TXQ 256           /* datagrams queued for one sendmmsg() */
#define DP_RX_BATCH 32       /* substrate datagrams per recvmmsg() */
#define DP_RX_SLOT (DP_HEADROOM + 65536) /* one of them: with UDP GRO, up to 64 KiB */

enum dp_reason {
	DP_PARSE,          /* not a well-formed Ethernet/ARP/IPv4 frame */
	DP_VLAN,           /* 802.1Q tagged */
	DP_NOT_IPV4,       /* another EtherType */
	DP_SRC_MAC,        /* source MAC is not the port's */
	DP_SRC_IP,         /* source address the port may not use */
	DP_SRC_ROUTE,      /* IPv4 loose/strict source route: not honoured (RFC 1812 5.2.4.1 allows) */
	DP_DST_IP,         /* the receiving port may not receive that address (dest check) */
	DP_ARP_SPOOF,      /* ARP claiming an address the port does not hold */
	DP_ARP_UNKNOWN,    /* ARP for an address nobody holds: no answer, as specified */
	DP_BROADCAST,      /* broadcast/multicast other than ARP and DHCP */
	DP_TO_ROUTER,      /* non-ICMP traffic to a router address */
	DP_NO_ROUTE,       /* answered with ICMP unreachable */
	DP_BLACKHOLE,
	DP_TTL,            /* answered with ICMP time exceeded */
	DP_NO_HOST,        /* no port holds the destination in its subnet */
	DP_LOOP,           /* router path too long */
	DP_NO_LOCATION,    /* destination port bound nowhere, or its host unknown */
	DP_SUB_DECODE,     /* substrate packet that does not decode */
	DP_SUB_VNI,        /* unknown network */
	DP_SUB_SENDER,     /* the sending port may not send from that substrate address */
	DP_SUB_SRC_IP,     /* the sending port may not use that source address */
	DP_SUB_RECEIVER,   /* no local port with that MAC, or it may not receive that address */
	DP_IO,             /* a write or send failed */
	DP_NOT_READY,      /* no state yet: fail closed */
	DP_ENCODE,         /* an embed6 translation refused the packet */
	DP_TOO_BIG,        /* larger than the substrate carries (DF: answered, RFC 1191) */
	DP_BGP_REFUSED,    /* BGP to a router from a port without routing enabled */
	DP_NO_ROUTERD,     /* BGP from a routing port while no routing manager is up */
	DP_SUB_ROUTERD,    /* from routerd, but not its router's answer to a local routing port */
	DP_CLAIM_RATE,     /* a gratuitous ARP claim over the port's report rate */
	DP_CLAIM_OFFLINE,  /* a gratuitous ARP claim while veneerd is not reachable */
	DP_FLOOD_RATE,     /* link-local multicast or broadcast over the port's flood rate */
	DP_SUB_NOT_ROUTERD, /* embed6: a VXLAN datagram from anyone but routerd */
	DP_NREASONS,
};

struct dp;

struct lport {
	struct dp *dp;
	char id[CC_ID_LEN];
	char device[CC_DEV_LEN];
	char netns[256];       /* "" = the agent's own namespace */
	int fd;
	struct ev_io *io;
	struct fib_port *fp;   /* refreshed after every batch */
	uint64_t rx, tx, drops;
	uint64_t claims;       /* claims reported for it (gratuitous ARP) */
	uint64_t flooded;      /* link-local multicast and broadcast packets it sent, flooded */
	struct vip_bucket claim_tb, flood_tb, flood_copy_tb;
};

/* A VXLAN datagram waiting in the stage for dp_io_flush_tx(). */
struct dp_txent {
	uint8_t *p;
	size_t len;
	struct sockaddr_storage to;
	socklen_t tolen;
};

/* TCP segments from the substrate for one local port, to be written as one super-frame. */
struct dp_coal {
	struct lport *lp;      /* NULL when nothing is pending */
	uint8_t *first;        /* the first segment, written alone if nothing joins it */
	size_t first_len;
	struct gso_seg a;      /* its layout; its payload length is the MSS */
	unsigned n;            /* segments pending */
	size_t plen;           /* their payload bytes */
	uint32_t next;         /* sequence number that may join */
	int psh, closed;       /* PSH seen; a short or PSH segment ends the super-frame */
	uint8_t vh[GSO_VNET_HLEN];
	uint8_t hdr[14 + 60 + 60];
	struct iovec iov[2 + GSO_MERGE_MAX];
};

struct dp {
	struct agent *a;
	struct fib *fib;
	struct map lports;     /* port id -> struct lport */
	struct map attach;     /* port id -> netns path (char *) */
	/* The VXLAN socket; under embed6 it carries routerd's BGP frames only (routerd_only). */
	int sub_fd;
	struct ev_io *sub_io;
	int routerd_only;
	struct ev_timer *stats;
	struct ev_timer *retry;
	int substrate_down;
	/* embed6: raw IPv6 out, the substrate interface's IPv6 packets in. */
	int raw6_fd;
	int pkt_fd;
	struct ev_io *pkt_io;
	struct e6_layout layout;
	int mtu;
	uint64_t drops[DP_NREASONS];
	uint64_t sub_rx, sub_tx, answered;
	uint64_t claims;       /* claims reported to veneerd */
	uint64_t flooded;      /* packets flooded from local ports */
	uint64_t flood_in;     /* flooded packets from the substrate delivered to local ports */
	uint64_t to_routerd;   /* BGP frames of routing ports sent to routerd */
	uint64_t from_routerd; /* routerd's BGP frames delivered to routing ports */
	uint8_t *buf;          /* one frame, with headroom */
	uint8_t *out;          /* one answer or encapsulated frame */
	uint8_t *rxbufs;       /* a batch of substrate datagrams */
	/* dp_io.c: frames read from TAPs (segmented when the VM used TSO) lie back to back in
	 * the stage, each behind VXLAN_HLEN bytes for its header, until the batch is sent. */
	uint8_t *stage;
	size_t stage_len, stage_floor;
	struct dp_txent *txq;
	unsigned ntx;
	int udp_gso;           /* the substrate socket takes UDP_SEGMENT */
	struct dp_coal coal;
};

/* dp.c */
/*
 * Opens the substrate sockets (retrying in the background while the address is not up);
 * 0, or -1 when out of memory. embed6 gets a VXLAN socket too, for routerd's traffic alone.
 */
int dp_start(struct agent *a);
void dp_stop(struct agent *a);
/* The view changed: rebuild the tables, create and remove TAPs, refresh port states. */
void dp_update(struct agent *a);
/* Places port's TAP in the namespace at netns (recreating it there); 0 or -1 with err. */
int dp_attach(struct agent *a, const char *port, const char *netns, char *err, size_t errsz);
json_t *dp_status(const struct agent *a);
const char *dp_reason_name(enum dp_reason r);
/*
 * Sends frame (len bytes at frame, with DP_HEADROOM writable bytes before it) from local
 * port `from` to port `to`, over the substrate encoding of to's host when it is remote.
 */
void dp_deliver(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    uint8_t *frame, size_t len);
void dp_drop(struct dp *dp, struct lport *lp, enum dp_reason r);
/*
 * dp_deliver for a flooded packet (link-local multicast or broadcast, TTL untouched): over
 * embed6 the hop limit is 255 and the flow label carries the packet's TTL, so that the
 * substrate's own hops neither change nor expire it (VRRP needs TTL 255 at the receiver).
 */
void dp_deliver_flood(struct dp *dp, const struct fib_port *from, const struct fib_port *to,
    uint8_t *frame, size_t len);
/* The TTL a flooded embed6 packet carried (its flow label), or -1 when it carries none. */
int dp_embed6_flood_ttl(const uint8_t *pkt, size_t len);

/* dp_io.c: batched I/O with TAP offloads (segmentation, UDP GSO/GRO, coalescing) */
/* Reads up to DP_BATCH frames from lp's TAP, forwards them, sends the substrate batch. */
void dp_io_from_tap(struct dp *dp, struct lport *lp);
/* Queues a VXLAN datagram (p must stay valid until the flush: frames in the stage do). */
void dp_io_queue(struct dp *dp, uint8_t *p, size_t len, const struct sockaddr_storage *to,
    socklen_t tolen);
/* Sends the queued datagrams: one sendmmsg(), runs of one flow as one UDP GSO message. */
void dp_io_flush_tx(struct dp *dp);
/* Reads a batch of substrate datagrams (UDP GRO: many segments each) and forwards them. */
void dp_io_from_substrate(struct dp *dp);
/* Writes a frame from the substrate to lp's TAP, merging TCP segments of one flow. */
void dp_io_to_tap(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len);
/* Writes what dp_io_to_tap() holds. */
void dp_io_flush_tap(struct dp *dp);

/* fwd.c */
/* A frame a VM sent on its TAP. */
void fwd_from_port(struct dp *dp, struct lport *lp, uint8_t *frame, size_t len);
/*
 * A UDP payload from the substrate (VXLAN), from address src (family 4 or 6). With
 * routerd_only (embed6) only routerd's frames are taken; anything else is dropped, counted.
 */
void fwd_from_substrate(struct dp *dp, const struct cc_addr *src, uint8_t *pkt, size_t len);
/* An IPv6 packet from the substrate addressed into this host's embed6 prefix. */
void fwd_from_embed6(struct dp *dp, const uint8_t *pkt, size_t len);

#endif
