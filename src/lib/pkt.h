/*
 * The agent's packet library: parsers and builders for the frames a VM sends to its virtual
 * network and the answers the agent gives in place of the emulated routers (ARP, ICMP, DHCP).
 *
 * Parsers read only through a struct cur (cur.h) and never trust a length field: every
 * refusal comes back as an enum pkt_result naming the reason, which the agent counts with
 * pkt_reason_name(). On PKT_OK, `payload` (where a struct has one) is a sub-cursor bounded
 * by the header's own length fields, and *c has moved past the packet: after IPv4 and ARP
 * what is left in *c is link padding; the other parsers consume *c whole. Cursors in the
 * parsed structs are views into the caller's frame and live as long as its buffer does.
 * After a refusal the struct's contents and *c are unspecified.
 *
 * Builders append one complete Ethernet frame to a struct wbuf, with every checksum
 * filled in. On any result other than PKT_OK the wbuf is left exactly as it was.
 *
 * Byte order: every address and field in these structs is in host order (MACs are byte
 * arrays in wire order); checksum fields hold the 16-bit value as read from the wire.
 */
#ifndef VENEER_PKT_H
#define VENEER_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "cur.h"

#define PKT_ETH_ALEN 6
#define PKT_ETH_HLEN 14
#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP 0x0806
#define PKT_ETHERTYPE_VLAN 0x8100
#define PKT_ETHERTYPE_QINQ 0x88a8
#define PKT_ETHERTYPE_IPV6 0x86dd

#define PKT_IP4_HLEN 20
#define PKT_IPPROTO_ICMP 1
#define PKT_IPPROTO_TCP 6
#define PKT_IPPROTO_UDP 17
#define PKT_TTL_DEFAULT 64 /* of every packet a builder originates */

#define PKT_ICMP_ECHO_REPLY 0
#define PKT_ICMP_UNREACH 3
#define PKT_ICMP_SOURCE_QUENCH 4
#define PKT_ICMP_REDIRECT 5
#define PKT_ICMP_ECHO 8
#define PKT_ICMP_TIME_EXCEEDED 11
#define PKT_ICMP_PARAMPROB 12

/* Codes of PKT_ICMP_UNREACH (RFC 792, RFC 1812 section 5.2.7.1). */
#define PKT_UNREACH_NET 0
#define PKT_UNREACH_HOST 1
#define PKT_UNREACH_PROTO 2
#define PKT_UNREACH_PORT 3
#define PKT_UNREACH_FRAG_NEEDED 4
#define PKT_UNREACH_ADMIN 13

/* Largest IP datagram an ICMP error may be (RFC 1812 section 4.3.2.3). */
#define PKT_ICMP_ERR_MAX 576

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_URG 0x20
#define PKT_TCP_ECE 0x40
#define PKT_TCP_CWR 0x80

#define PKT_ARP_REQUEST 1
#define PKT_ARP_REPLY 2

#define PKT_DHCP_SERVER_PORT 67
#define PKT_DHCP_CLIENT_PORT 68
#define PKT_DHCP_DISCOVER 1
#define PKT_DHCP_OFFER 2
#define PKT_DHCP_REQUEST 3
#define PKT_DHCP_DECLINE 4
#define PKT_DHCP_ACK 5
#define PKT_DHCP_NAK 6
#define PKT_DHCP_RELEASE 7
#define PKT_DHCP_INFORM 8
#define PKT_DHCP_FLAG_BROADCAST 0x8000
#define PKT_DHCP_MAX_DNS 4

/* Parser flag: do not verify the checksum (forwarded traffic whose receiver verifies it,
 * and which a VM with checksum offload may send with only the pseudo-header sum filled). */
#define PKT_CSUM_SKIP 0x1

/*
 * What a parser or builder concluded. Every value but PKT_OK is a drop reason with a stable
 * counter name (pkt_reason_name). Keep pkt.c's name table in step with this list.
 */
enum pkt_result {
	PKT_OK = 0,
	PKT_TRUNCATED,     /* the data ends inside a header or a field */
	PKT_UNSUPPORTED,   /* well formed, but not something Veneer handles (802.3, QinQ, BOOTP) */
	PKT_VLAN_TAGGED,   /* the agent's verdict on tagged frames (pkt_eth_parse only reports) */
	PKT_BAD_VERSION,   /* IPv4 version field is not 4 */
	PKT_BAD_IHL,       /* IPv4 header length below 20 bytes or past the total length */
	PKT_BAD_TOTLEN,    /* IPv4 total length below 20 bytes or past the frame */
	PKT_BAD_FRAG,      /* fragment ending past 65535 bytes, or a non-last one not 8-aligned */
	PKT_BAD_CSUM,      /* a header or L4 checksum does not verify */
	PKT_BAD_OPTION,    /* IPv4 or DHCP option malformed (overrun, wrong size, repeated) */
	PKT_BAD_LENGTH,    /* UDP length below 8 or past the IP payload */
	PKT_BAD_DOFF,      /* TCP data offset below 20 bytes or past the segment */
	PKT_BAD_OPCODE,    /* ARP or BOOTP operation neither request nor reply */
	PKT_BAD_COOKIE,    /* DHCP magic cookie missing */
	PKT_FRAGMENT,      /* L4 header asked of a later fragment, or an answer to a partial one */
	PKT_TTL_EXPIRED,   /* pkt_ip4_dec_ttl: TTL would reach 0, answer with time exceeded */
	PKT_NO_SPACE,      /* the builder's wbuf is too small */
	PKT_SUPPRESS_ICMP, /* no ICMP error about an ICMP error (RFC 1812 4.3.2.7) */
	PKT_SUPPRESS_FRAG, /* no ICMP error about a non-first fragment */
	PKT_SUPPRESS_ADDR, /* no ICMP error about a packet to a group or from no single host */
	PKT_RESULT_MAX,
};

struct pkt_eth {
	uint8_t dst[PKT_ETH_ALEN];
	uint8_t src[PKT_ETH_ALEN];
	uint16_t type;   /* EtherType of the payload, after any 802.1Q tag */
	uint8_t tagged;  /* a single 802.1Q tag was present */
	uint16_t tci;    /* the tag's PCP/DEI/VID when tagged */
	uint16_t hlen;   /* 14, or 18 when tagged: the L3 header's offset in the frame */
	struct cur payload;
};

struct pkt_arp {
	uint16_t op; /* PKT_ARP_REQUEST or PKT_ARP_REPLY */
	uint8_t sha[PKT_ETH_ALEN];
	uint32_t spa;
	uint8_t tha[PKT_ETH_ALEN];
	uint32_t tpa;
	uint8_t gratuitous; /* announces the sender's own binding: see pkt_arp_parse */
	uint8_t probe;      /* RFC 5227 probe: a request with sender address 0.0.0.0 */
};

struct pkt_ip4 {
	uint8_t ihl; /* header length in bytes */
	uint8_t tos;
	uint16_t totlen;
	uint16_t id;
	uint8_t df, mf;
	uint16_t frag_off; /* in bytes */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src, dst;
	uint8_t has_options;
	uint8_t srcroute; /* a loose or strict source route option is present */
	struct cur hdr;   /* the whole header, options included (for quoting in ICMP errors) */
	struct cur options;
	struct cur payload;
};

/* The layers of a received IPv4 frame, as builders that answer one need them. Builders
 * read ip.hdr and ip.payload as the parser left them: parse inner layers from copies. */
struct pkt_ip4_frame {
	struct pkt_eth eth;
	struct pkt_ip4 ip;
};

struct pkt_icmp {
	uint8_t type, code;
	uint16_t csum;
	uint16_t id, seq;  /* echo and echo reply: the two halves of rest */
	uint32_t rest;     /* the header's second word (next-hop MTU, gateway, pointer...) */
	uint8_t partial;   /* first fragment only: checksum not verified */
	struct cur payload;
};

struct pkt_udp {
	uint16_t sport, dport;
	uint16_t len;
	uint16_t csum;
	uint8_t partial; /* first fragment only: length and checksum cover bytes not here */
	struct cur payload;
};

struct pkt_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff; /* header length in bytes */
	uint8_t flags;
	uint16_t window, csum, urg;
	uint8_t partial; /* first fragment only: checksum not verified */
	struct cur options;
	struct cur payload;
};

struct pkt_dhcp {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	/* options; views are empty (cur_left() == 0) when the option is absent */
	uint8_t msgtype; /* 53; never 0 after PKT_OK */
	uint8_t overload; /* 52: 1 file, 2 sname, 3 both hold options */
	uint8_t has_reqip, has_server_id;
	uint32_t reqip;     /* 50 */
	uint32_t server_id; /* 54 */
	struct cur client_id; /* 61: type byte then identifier */
	struct cur prl;       /* 55: parameter request list */
	struct cur hostname;  /* 12: not NUL terminated, not validated */
};

/* Who answers: the router (or DHCP server) address and the MAC it answers from. */
struct pkt_endpoint {
	uint8_t mac[PKT_ETH_ALEN];
	uint32_t ip;
};

/* What a DHCP server hands out; zero means "leave the option out" where noted. */
struct pkt_dhcp_lease {
	uint32_t yiaddr;
	uint32_t mask;
	uint32_t router;     /* 0: no option 3 */
	uint32_t lease_secs;
	uint16_t mtu;        /* 0: no option 26 (values below 68 are left out too) */
	uint8_t ndns;        /* option 6 when nonzero; at most PKT_DHCP_MAX_DNS */
	uint32_t dns[PKT_DHCP_MAX_DNS];
};

/* pkt.c */
/* A stable lower_snake_case name for counters and logs; "unknown" for out-of-range values. */
const char *pkt_reason_name(enum pkt_result r);
/* A view of bytes [off, off+len) of what w holds; a failed cursor if any lies past w->len. */
struct cur pkt_wbuf_view(const struct wbuf *w, size_t off, size_t len);
/* Overwrites bytes already in w (below w->len); returns -1 and writes nothing if they are not. */
int pkt_wbuf_put(struct wbuf *w, size_t off, const void *src, size_t n);
int pkt_wbuf_put16(struct wbuf *w, size_t off, uint16_t v);
/* Ends a frame whose writing began at w->len == start: PKT_OK, or PKT_NO_SPACE after
 * cutting w back to start and clearing its failure, so a refused frame leaves no trace. */
enum pkt_result pkt_wbuf_result(struct wbuf *w, size_t start);
/* 1 for broadcast and multicast MACs (the group bit). */
int pkt_mac_is_group(const uint8_t mac[PKT_ETH_ALEN]);

/* pkt_csum.c: Internet checksum (RFC 1071) in host-order 16-bit values. */
/* Adds c's bytes as big-endian words (an odd last byte padded with zero) to sum and returns
 * the sum folded to 16 bits, not complemented. Pieces may be summed separately and added
 * if all but the last have even length. c is a copy: the caller's cursor does not move. */
uint32_t csum_sum(uint32_t sum, struct cur c);
/* Folds any partial sum and complements it: the value for a checksum field, and 0 when
 * the summed data includes its own correct checksum. */
uint16_t csum_fold(uint32_t sum);
/* The IPv4 pseudo-header sum of TCP and UDP (len is the L4 length). */
uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* RFC 1624 eqn. 3: the checksum after one 16- or 32-bit field changed from oldv to newv. */
uint16_t csum_update16(uint16_t csum, uint16_t oldv, uint16_t newv);
uint16_t csum_update32(uint16_t csum, uint32_t oldv, uint32_t newv);

/* pkt_eth.c */
/* Ethernet II with at most one 802.1Q tag (reported, not refused). Refuses 802.3 length
 * frames and double tags (PKT_UNSUPPORTED) and frames shorter than their header. */
enum pkt_result pkt_eth_parse(struct cur *c, struct pkt_eth *e);
/* Appends an untagged Ethernet header. */
enum pkt_result pkt_eth_write(struct wbuf *w, const uint8_t dst[PKT_ETH_ALEN],
    const uint8_t src[PKT_ETH_ALEN], uint16_t type);
/* Rewrites the addresses of the frame w holds from offset 0 (router MAC rewrite). */
enum pkt_result pkt_eth_rewrite(struct wbuf *w, const uint8_t dst[PKT_ETH_ALEN],
    const uint8_t src[PKT_ETH_ALEN]);
/* Ethernet/IPv4 ARP only (PKT_UNSUPPORTED otherwise), request or reply. Sets gratuitous
 * when spa == tpa (either op), or for a reply whose tha is broadcast, zero or its own sha:
 * no requester is named. The agent, which answers all ARP itself, may treat every reply
 * from a VM as unsolicited. Trailing link padding is left in *c. */
enum pkt_result pkt_arp_parse(struct cur *c, struct pkt_arp *a);
/* The reply to request req from the owner of req->tpa at mac, unicast to the requester.
 * PKT_BAD_OPCODE if req is not a request. */
enum pkt_result pkt_arp_reply(struct wbuf *w, const struct pkt_arp *req,
    const uint8_t mac[PKT_ETH_ALEN]);

/* pkt_ip4.c */
/* An IPv4 header and its payload: version, IHL, total length within *c (what follows is
 * padding and stays in *c), header checksum unless PKT_CSUM_SKIP, fragment bounds, and
 * option well-formedness (TLV lengths within the header; contents not interpreted). */
enum pkt_result pkt_ip4_parse(struct cur *c, unsigned flags, struct pkt_ip4 *ip);
/* Parses Ethernet then IPv4 (PKT_VLAN_TAGGED for tagged frames, PKT_UNSUPPORTED for
 * other EtherTypes): the usual first step of the agent and of the builders' callers. */
enum pkt_result pkt_ip4_frame_parse(struct cur *c, unsigned flags, struct pkt_ip4_frame *f);
/* 1 when the datagram is a fragment (MF set or offset nonzero). */
int pkt_ip4_is_fragment(const struct pkt_ip4 *ip);
/* Appends a 20-byte header (no options) from h's tos, totlen, id, df, mf, frag_off, ttl,
 * proto, src, dst, with its checksum computed; other fields of h are ignored. */
enum pkt_result pkt_ip4_write(struct wbuf *w, const struct pkt_ip4 *h);
/* Decrements the TTL of the IPv4 header at offset off of the frame w holds and updates
 * the header checksum incrementally. PKT_TTL_EXPIRED, changing nothing, if the TTL is 0
 * or 1 (the packet must not be forwarded: answer with time exceeded). */
enum pkt_result pkt_ip4_dec_ttl(struct wbuf *w, size_t off);
/* Recomputes the header checksum of the IPv4 header at off (after rewriting fields). */
enum pkt_result pkt_ip4_hdr_csum_fill(struct wbuf *w, size_t off);
/* Recomputes the TCP, UDP or ICMP checksum of the datagram at off from scratch (after NAT
 * or translation); for UDP over the bytes its length field covers. The header checksum is
 * not checked. PKT_FRAGMENT for fragments, whose checksum covers bytes not here;
 * PKT_UNSUPPORTED for other protocols; PKT_BAD_LENGTH for an impossible UDP length. */
enum pkt_result pkt_ip4_l4_csum_fill(struct wbuf *w, size_t off);

/* pkt_l4.c: c is normally a copy of ip->payload; ip gives fragment state and addresses.
 * For a first fragment the header is parsed and `partial` set; a later one gives
 * PKT_FRAGMENT. With PKT_CSUM_SKIP the checksum is not verified. */
/* ICMP: checksum over the whole message; id/seq filled for every type. */
enum pkt_result pkt_icmp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags,
    struct pkt_icmp *m);
/* UDP: length within the IP payload (bytes after it are ignored, as stacks do), checksum
 * when nonzero (0 means the sender did not compute one). */
enum pkt_result pkt_udp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags,
    struct pkt_udp *u);
/* TCP: ports, flags, data offset within the segment, checksum. */
enum pkt_result pkt_tcp_parse(struct cur *c, const struct pkt_ip4 *ip, unsigned flags,
    struct pkt_tcp *t);

/* pkt_icmp.c */
/* The echo reply to echo request m (as pkt_icmp_parse left it, from frame f), from self,
 * copying id, seq, data, DSCP and the IP id. PKT_UNSUPPORTED if m is not an echo request,
 * PKT_FRAGMENT if it came fragmented. */
enum pkt_result pkt_icmp_echo_reply(struct wbuf *w, const struct pkt_ip4_frame *f,
    const struct pkt_icmp *m, const struct pkt_endpoint *self);
/* An ICMP error about the received frame f, from self to f's sender, quoting f's IP header
 * and as much of its payload as keeps the error within PKT_ICMP_ERR_MAX bytes (RFC 1812
 * 4.3.2.3; at least the 8 bytes RFC 792 asks for). TOS 0xc0, IP id that of f. Refuses
 * (RFC 1812 4.3.2.7) with PKT_SUPPRESS_ICMP about ICMP errors, PKT_SUPPRESS_FRAG about
 * non-first fragments, PKT_SUPPRESS_ADDR when f went to a link or IP broadcast/multicast
 * address or came from an address that names no single host. Directed subnet broadcasts
 * and rate limiting are the caller's to check. rest is the header's second word. */
enum pkt_result pkt_icmp_error(struct wbuf *w, const struct pkt_ip4_frame *f, uint8_t type,
    uint8_t code, uint32_t rest, const struct pkt_endpoint *self);
/* Time exceeded in transit (TTL reached 0 at the router self). */
enum pkt_result pkt_icmp_time_exceeded(struct wbuf *w, const struct pkt_ip4_frame *f,
    const struct pkt_endpoint *self);
/* Destination unreachable with code (PKT_UNREACH_*; use pkt_icmp_frag_needed for 4). */
enum pkt_result pkt_icmp_unreach(struct wbuf *w, const struct pkt_ip4_frame *f, uint8_t code,
    const struct pkt_endpoint *self);
/* Fragmentation needed and DF set, carrying the next-hop MTU (RFC 1191). */
enum pkt_result pkt_icmp_frag_needed(struct wbuf *w, const struct pkt_ip4_frame *f,
    uint16_t mtu, const struct pkt_endpoint *self);

/* pkt_dhcp.c */
/* A DHCPv4 message (c is the UDP payload): BOOTP fixed part (Ethernet hardware only,
 * else PKT_UNSUPPORTED), magic cookie, then the options in the order RFC 2131 4.1 walks
 * them (options field, then file and sname when option 52 says so). PKT_BAD_OPTION for a
 * length running past its area, a wrong size for the options kept, or one of them
 * repeated; PKT_UNSUPPORTED without option 53 (plain BOOTP). A missing end option is
 * accepted when the area ends. */
enum pkt_result pkt_dhcp_parse(struct cur *c, struct pkt_dhcp *d);
/* The server's OFFER, ACK or NAK (type) to request req, received in frame f, from server
 * self. OFFER and ACK carry lease l (an ACK to an INFORM carries no address or lease
 * time); a NAK ignores l, which may then be NULL. Addressed per RFC 2131 4.1: to a relay's
 * giaddr, NAKs broadcast, to ciaddr when set, else broadcast if the client asked (or there
 * is no yiaddr) or unicast to chaddr/yiaddr. The client identifier is echoed (RFC 6842),
 * and the message padded to the 300 bytes BOOTP clients expect. It carries
 * every option the lease has, named in the request list or not. PKT_UNSUPPORTED for
 * other types. */
enum pkt_result pkt_dhcp_reply(struct wbuf *w, uint8_t type, const struct pkt_ip4_frame *f,
    const struct pkt_dhcp *req, const struct pkt_dhcp_lease *l,
    const struct pkt_endpoint *self);

#endif
