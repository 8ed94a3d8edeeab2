/*
 * The VXLAN substrate encoding (RFC 7348): an 8-byte header carrying a 24-bit VNI in front
 * of an inner Ethernet frame, inside a UDP datagram to port 4789. The kernel builds the outer
 * IP and UDP headers (the agent sends through a UDP socket), so this codec handles only the
 * VXLAN header and the boundary of the inner frame.
 *
 *    0               1               2               3
 *   |R R R R I R R R|          reserved (24 bits)                 |
 *   |                VNI (24 bits)                  | reserved (8)|
 */
#ifndef VENEER_VXLAN_H
#define VENEER_VXLAN_H

#include <stdint.h>

#include "cur.h"

#define VXLAN_PORT 4789
#define VXLAN_HLEN 8
#define VXLAN_FLAG_I 0x08	/* "VNI is valid": the only flag RFC 7348 defines */
#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_ETH_HLEN 14	/* the shortest inner frame we hand on: one Ethernet header */

/* What to do with a datagram; every value but VXLAN_OK means drop it and count the reason. */
enum vxlan_result {
	VXLAN_OK = 0,
	VXLAN_ETRUNC,	/* shorter than the 8-byte VXLAN header */
	VXLAN_ENOVNI,	/* I flag clear: RFC 7348 section 5 says the VNI is then not valid */
	VXLAN_ESHORT,	/* inner frame shorter than an Ethernet header */
	VXLAN_EVNI,	/* encode: VNI wider than 24 bits */
	VXLAN_ENOSPACE,	/* encode: the write buffer is full (or already failed) */
	VXLAN_RESULT_MAX
};

/* vxlan.c */
/*
 * Reads the VXLAN header from a UDP payload and hands back the VNI and the inner Ethernet
 * frame (all remaining bytes; udp_payload is consumed). Reserved bits are ignored, as RFC
 * 7348 asks of receivers. On any result but VXLAN_OK, *vni is 0 and *inner is a failed,
 * empty cursor.
 */
enum vxlan_result vxlan_decode(struct cur *udp_payload, uint32_t *vni, struct cur *inner);
/*
 * Appends the 8-byte header for vni (I flag set, reserved bits zero) to w; the caller then
 * appends the inner frame. Writes nothing unless it returns VXLAN_OK.
 */
enum vxlan_result vxlan_encode(struct wbuf *w, uint32_t vni);
/* A short constant name for counters and logs ("trunc", "no_vni", ...); never NULL. */
const char *vxlan_reason_name(enum vxlan_result r);

#endif
