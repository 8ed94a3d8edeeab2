/*
 * TAP offloads: the virtio_net_hdr in front of every frame of a TAP opened with
 * IFF_VNET_HDR, checksum completion for frames the VM left checksum-partial, software
 * segmentation of a TCP/IPv4 super-frame (TSO) into MSS-sized segments, and the checks
 * that let consecutive segments of one flow be written back as one super-frame (GRO).
 *
 * All reads of untrusted bytes go through struct cur or check lengths first; every
 * function returns a result rather than trusting a header field. Compiled into lib_pkt.
 */
#ifndef VENEER_GSO_H
#define VENEER_GSO_H

#include <stddef.h>
#include <stdint.h>

#include "cur.h"

#define GSO_VNET_HLEN 10 /* struct virtio_net_hdr, little-endian (TUNSETVNETHDRSZ 10) */

#define GSO_F_NEEDS_CSUM 0x01 /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define GSO_F_DATA_VALID 0x02 /* VIRTIO_NET_HDR_F_DATA_VALID */

#define GSO_NONE 0    /* VIRTIO_NET_HDR_GSO_NONE */
#define GSO_TCPV4 1   /* VIRTIO_NET_HDR_GSO_TCPV4 */
#define GSO_UDP 3     /* VIRTIO_NET_HDR_GSO_UDP (never enabled by the agent) */
#define GSO_TCPV6 4   /* VIRTIO_NET_HDR_GSO_TCPV6 */
#define GSO_ECN 0x80  /* VIRTIO_NET_HDR_GSO_ECN, or-ed into gso_type */

/* Segments one super-frame written to a TAP may merge (a 64 KiB frame at MSS 1024). */
#define GSO_MERGE_MAX 64

enum gso_result {
	GSO_OK = 0,
	GSO_TRUNCATED,   /* shorter than the header, or than what a field says */
	GSO_BAD_FLAGS,   /* unknown flag bits */
	GSO_BAD_TYPE,    /* a gso_type the agent never enabled (UDP, unknown) */
	GSO_IPV6,        /* TCPV6: the overlay carries IPv4 only */
	GSO_BAD_CSUM,    /* csum_start/csum_offset outside the frame */
	GSO_NOT_TCP4,    /* GSO TCPV4 on a frame that is not an unfragmented TCP/IPv4 one */
	GSO_BAD_SIZE,    /* gso_size 0 */
};

struct gso_vnet {
	uint8_t flags;
	uint8_t type;        /* GSO_* without GSO_ECN */
	uint8_t ecn;         /* GSO_ECN was set */
	uint16_t hdr_len;    /* advisory: never trusted */
	uint16_t size;       /* MSS for TCP */
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* gso.c */
/* Reads the 10-byte header; GSO_OK leaves *c past it. Refuses what the agent never enabled. */
enum gso_result gso_vnet_parse(struct cur *c, struct gso_vnet *v);
void gso_vnet_write(uint8_t out[GSO_VNET_HLEN], const struct gso_vnet *v);
/*
 * One's-complement sum of len bytes (RFC 1071) added to sum, in host-order 16-bit values as
 * csum_sum() gives them; the bytes are taken to start at an even offset of the summed data.
 */
uint32_t gso_sum(const uint8_t *p, size_t len, uint32_t sum);
/*
 * Completes the checksum of a frame the VM sent checksum-partial (NEEDS_CSUM): the sum from
 * csum_start to the end of the frame (the field holds the pseudo-header sum) is folded into
 * the field at csum_start + csum_offset. A UDP result of 0 is sent as 0xffff.
 */
enum gso_result gso_csum_complete(uint8_t *frame, size_t len, const struct gso_vnet *v);

/* Segmentation of an Ethernet + IPv4 + TCP super-frame. */
struct gso_iter {
	const uint8_t *frame;
	size_t l4off;      /* 14 + IPv4 header length */
	size_t hlen;       /* l4off + TCP header length */
	size_t end;        /* 14 + IPv4 total length */
	size_t off;        /* payload offset of the next segment */
	uint16_t mss;
	uint16_t id;       /* IPv4 id of the first segment */
	uint32_t seq;      /* TCP sequence number of the first segment */
	uint32_t src, dst;
	unsigned i, n;     /* next segment, number of segments */
};

/*
 * Checks that frame[0..len) is an untagged, unfragmented TCP/IPv4 frame and prepares to cut
 * its payload into mss-byte pieces (the last shorter). Header fields are checked, not
 * checksums (a super-frame's are partial).
 */
enum gso_result gso_tcp4_begin(struct gso_iter *it, const uint8_t *frame, size_t len,
    uint16_t mss);
/*
 * Writes the next segment as a whole Ethernet frame to out (cap bytes): headers copied, IPv4
 * total length, id (+1 per segment) and header checksum, TCP sequence number, flags (FIN and
 * PSH only on the last segment, CWR only on the first) and a complete TCP checksum. Returns
 * its length, or 0 when no segment is left or it does not fit.
 */
size_t gso_tcp4_next(struct gso_iter *it, uint8_t *out, size_t cap);

/* Receive-side coalescing of TCP/IPv4 segments (software GRO). */
struct gso_seg {
	size_t hlen;       /* Ethernet + IPv4 + TCP header bytes */
	size_t plen;       /* TCP payload bytes */
	uint32_t seq;
	uint8_t flags;     /* TCP flags */
};

/*
 * Whether frame[0..len) is a segment that may join a super-frame: untagged IPv4 without
 * options, not a fragment, TCP with ACK and only PSH besides, some payload, nothing after
 * the IP packet, and a TCP checksum that verifies (the super-frame is handed on with a
 * partial checksum, which the receiving kernel trusts). 1 and *s filled, or 0.
 */
int gso_seg_candidate(const uint8_t *frame, size_t len, struct gso_seg *s);
/*
 * Whether candidate b (headers at hb) continues the super-frame that started with a
 * (headers at ha) and whose next sequence number is next_seq: same addresses, ports, TOS,
 * TTL, DF, ACK, window, TCP options and flags but PSH, and in sequence.
 */
int gso_seg_follows(const uint8_t *ha, const struct gso_seg *a, const uint8_t *hb,
    const struct gso_seg *b, uint32_t next_seq);
/*
 * Rewrites hdr (a copy of the first segment's headers, a->hlen bytes) into the header of
 * the super-frame carrying plen payload bytes: IPv4 total length and header checksum, PSH
 * if `psh`, TCP checksum field holding the pseudo-header sum (checksum-partial), and fills
 * *v for it (NEEDS_CSUM, TCPV4, gso_size mss). 0, or -1 if too long for IPv4.
 */
int gso_merge_header(uint8_t *hdr, const struct gso_seg *a, size_t plen, int psh,
    uint16_t mss, struct gso_vnet *v);

#endif
