/*
 * Veneer's BGP library: message and attribute codecs (bgp_msg.c, bgp_attr.c), the session
 * state machine (bgp_fsm.c) and the routing table with interned attribute sets (bgp_rib.c).
 * It does no I/O of its own: the caller feeds received bytes and clock ticks, and gets
 * bytes to send and events back through callbacks, so the same code runs in veneer-routerd,
 * the unit tests and the fuzzers.
 *
 * Only IPv4 unicast is carried (in the classic UPDATE fields or MP_REACH/MP_UNREACH with
 * AFI 1 / SAFI 1). Addresses and prefixes are in host byte order.
 */
#ifndef VENEER_BGP_H
#define VENEER_BGP_H

#include <stddef.h>
#include <stdint.h>

#include "cur.h"

/* ---- wire constants (RFC 4271, 4760, 5492, 6793, 2918, 4724, 7313) ---- */

#define BGP_PORT 179
#define BGP_HDR_LEN 19
#define BGP_MAX_LEN 4096
#define BGP_VERSION 4
#define BGP_AS_TRANS 23456

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes and the subcodes used here. */
enum {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_RREFRESH = 7,
	BGP_ERR_SEND_HOLD = 8,
};
enum { BGP_HDR_SYNC = 1, BGP_HDR_LENGTH = 2, BGP_HDR_TYPE = 3 };
enum {
	BGP_OPEN_VERSION = 1,
	BGP_OPEN_PEER_AS = 2,
	BGP_OPEN_BGP_ID = 3,
	BGP_OPEN_OPTPARAM = 4,
	BGP_OPEN_HOLD = 6,
	BGP_OPEN_CAPABILITY = 7,
};
enum {
	BGP_UPD_ATTR_LIST = 1,
	BGP_UPD_WELLKNOWN = 2,
	BGP_UPD_MISSING = 3,
	BGP_UPD_FLAGS = 4,
	BGP_UPD_LENGTH = 5,
	BGP_UPD_ORIGIN = 6,
	BGP_UPD_NEXTHOP = 8,
	BGP_UPD_OPTIONAL = 9,
	BGP_UPD_NETWORK = 10,
	BGP_UPD_ASPATH = 11,
};
enum {
	BGP_FSM_UNSPEC = 0,
	BGP_FSM_OPENSENT = 1,
	BGP_FSM_OPENCONFIRM = 2,
	BGP_FSM_ESTABLISHED = 3,
};
enum {
	BGP_CEASE_MAXPFX = 1,
	BGP_CEASE_SHUTDOWN = 2,
	BGP_CEASE_DECONFIG = 3,
	BGP_CEASE_RESET = 4,
	BGP_CEASE_REJECTED = 5,
	BGP_CEASE_CONFIG = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_RESOURCES = 8,
};

/* Path attribute type codes and flags. */
enum {
	BGP_A_ORIGIN = 1,
	BGP_A_AS_PATH = 2,
	BGP_A_NEXT_HOP = 3,
	BGP_A_MED = 4,
	BGP_A_LOCAL_PREF = 5,
	BGP_A_ATOMIC_AGG = 6,
	BGP_A_AGGREGATOR = 7,
	BGP_A_COMMUNITIES = 8,
	BGP_A_ORIGINATOR_ID = 9,
	BGP_A_CLUSTER_LIST = 10,
	BGP_A_MP_REACH = 14,
	BGP_A_MP_UNREACH = 15,
	BGP_A_EXT_COMMUNITIES = 16,
	BGP_A_AS4_PATH = 17,
	BGP_A_AS4_AGGREGATOR = 18,
	BGP_A_LARGE_COMMUNITIES = 32,
};
#define BGP_AF_OPTIONAL 0x80
#define BGP_AF_TRANSITIVE 0x40
#define BGP_AF_PARTIAL 0x20
#define BGP_AF_EXTLEN 0x10

enum { BGP_ORIGIN_IGP = 0, BGP_ORIGIN_EGP = 1, BGP_ORIGIN_INCOMPLETE = 2 };
enum { BGP_AS_SET = 1, BGP_AS_SEQUENCE = 2, BGP_AS_CONFED_SEQUENCE = 3, BGP_AS_CONFED_SET = 4 };

/* ---- errors ---- */

/* What a NOTIFICATION carries (sent or received). data is the diagnostic the RFC names. */
struct bgp_err {
	uint8_t code;
	uint8_t subcode;
	uint16_t datalen;
	uint8_t data[64];
};

/* Fills e; data is truncated to sizeof e->data. */
void bgp_err_set(struct bgp_err *e, uint8_t code, uint8_t subcode, const void *data, size_t len);
/* "hold timer expired", "UPDATE: malformed AS_PATH", ... (static strings). */
const char *bgp_err_str(uint8_t code, uint8_t subcode);

/* ---- messages (bgp_msg.c) ---- */

struct bgp_prefix {
	uint32_t addr; /* host byte order, bits beyond len are zero */
	uint8_t len;
};

/*
 * Checks a message header at the start of buf. Returns 0 when fewer than BGP_HDR_LEN bytes
 * are there, 1 with *type and *len (the whole message length) set when the header is valid,
 * or -1 with e set to the exact NOTIFICATION of RFC 4271 6.1 (bad marker, a length out of
 * range for the type, with the length field as data; an unknown type, with the type as data).
 */
int bgp_hdr_check(const uint8_t *buf, size_t n, uint8_t *type, uint16_t *len, struct bgp_err *e);

/* Capabilities and fields of an OPEN. */
struct bgp_open {
	uint8_t version;
	uint16_t my_as;      /* the 2-octet field (AS_TRANS when the AS needs 4 octets) */
	uint16_t hold;
	uint32_t bgp_id;
	uint32_t asn;        /* effective AS: the 4-octet capability's value, else my_as */
	uint8_t as4;         /* 4-octet AS capability present */
	uint8_t mp_ipv4u;    /* multiprotocol IPv4 unicast present */
	uint8_t rr;          /* route refresh (2, or the old 128) present */
	uint8_t err;         /* enhanced route refresh present */
	uint8_t gr;          /* graceful restart capability present */
	uint8_t gr_restarting; /* R bit */
	uint16_t gr_time;    /* restart time, seconds */
	uint8_t gr_ipv4u_fwd;  /* IPv4 unicast listed with the F bit */
	uint8_t gr_ipv4u;    /* IPv4 unicast listed at all */
};

/*
 * Parses an OPEN body (after the header). Returns 0, or -1 with e set to the NOTIFICATION
 * RFC 4271 6.2 / 5492 / 6793 require: unsupported version (data: our version, 2 octets),
 * bad peer AS (AS 0, or a 4-octet capability with AS 0), bad BGP identifier (0), hold time
 * 1 or 2, unsupported optional parameter, malformed capability. Unknown capabilities are
 * ignored. Does not compare with the expected peer AS (the session does).
 */
int bgp_open_parse(struct cur body, struct bgp_open *o, struct bgp_err *e);

/*
 * The messages we send. Each writes a whole message (header included) into buf and returns
 * its length, or 0 if cap is too small. The OPEN advertises 4-octet AS, MP IPv4 unicast,
 * route refresh and enhanced route refresh, and graceful restart (helper: restart time from
 * o->gr_time, no AFI listed) when o->gr is set.
 */
size_t bgp_open_build(uint8_t *buf, size_t cap, const struct bgp_open *o);
size_t bgp_keepalive_build(uint8_t *buf, size_t cap);
size_t bgp_notification_build(uint8_t *buf, size_t cap, const struct bgp_err *e);
/* subtype: 0 normal request, 1 BoRR, 2 EoRR (RFC 7313). */
size_t bgp_refresh_build(uint8_t *buf, size_t cap, uint16_t afi, uint8_t subtype, uint8_t safi);

/* NOTIFICATION body; -1 if shorter than 2 octets. */
int bgp_notification_parse(struct cur body, struct bgp_err *e);
/* ROUTE-REFRESH body: exactly 4 octets, else -1 (and e = 7/1 "invalid message length"). */
int bgp_refresh_parse(struct cur body, uint16_t *afi, uint8_t *subtype, uint8_t *safi,
    struct bgp_err *e);

/* ---- UPDATE (bgp_attr.c) ---- */

/* Zero-copy view of an UPDATE's three parts. */
struct bgp_update {
	struct cur withdrawn;
	struct cur attrs;
	struct cur nlri;
};

/*
 * Splits an UPDATE body. -1 with e = 3/1 (malformed attribute list) when the withdrawn or
 * attribute length runs past the message (RFC 7606 3: the only session reset for lengths).
 */
int bgp_update_split(struct cur body, struct bgp_update *u, struct bgp_err *e);

/*
 * Next IPv4 prefix of an NLRI/withdrawn field. 1 = *p set, 0 = end, -1 = malformed (length
 * over 32 or truncated): RFC 7606 5.3 says the whole UPDATE is then treat-as-withdraw if
 * attributes parse, else reset; the caller decides.
 */
int bgp_nlri_next(struct cur *c, struct bgp_prefix *p);
/* Appends p in NLRI encoding; 0 on success, -1 if w has no room. */
int bgp_nlri_put(struct wbuf *w, const struct bgp_prefix *p);

#define BGP_MAX_UNKNOWN 8

/* One unrecognized optional transitive attribute, kept to pass on with the partial bit set. */
struct bgp_rawattr {
	uint8_t flags;
	uint8_t type;
	uint16_t len;
	const uint8_t *val;
};

/*
 * The path attributes of a route: what the routing table interns (bgp_aset) and compares, so
 * fixed fields and pointers only. Variable parts point into the message and the parse context
 * (after bgp_attrs_parse) or into the interned set (bgp_aset_attrs): copy before either goes
 * away. AS paths are always held in 4-octet form (RFC 6793 reconstruction done for 2-octet
 * sessions).
 */
struct bgp_attrs {
	uint32_t present;        /* bit (1 << type) for each attribute seen, types < 32 */
	uint32_t nexthop;
	uint32_t med;
	uint32_t local_pref;
	uint32_t agg_as;
	uint32_t agg_addr;
	uint32_t first_as;       /* leftmost AS of the first AS_SEQUENCE, 0 if none */
	uint8_t origin;
	uint8_t atomic_agg;
	uint8_t n_unknown;       /* entries of unknown[], at most BGP_MAX_UNKNOWN */
	uint16_t aspath_len;
	uint16_t aspath_count;   /* path length for best path: SET counts 1, confed segments 0 */
	uint16_t communities_len;
	uint16_t ext_communities_len;
	uint16_t large_communities_len;
	const uint8_t *aspath;   /* 4-octet AS_PATH segments as on the wire */
	const uint8_t *communities;
	const uint8_t *ext_communities;
	const uint8_t *large_communities;
	const struct bgp_rawattr *unknown; /* optional transitive ones kept to pass on */
};

/*
 * What an UPDATE's attribute block carries besides the route's attributes, and the storage
 * the parsed bgp_attrs point into. MP_REACH/MP_UNREACH for IPv4 unicast (other AFI/SAFI are
 * ignored, mp_reach_afi says) belong to the UPDATE, not to any route's attribute set. One per
 * session (it is large: keep it off the hot allocation paths); its contents stay valid until
 * the next bgp_attrs_parse with it.
 */
struct bgp_attrs_ctx {
	uint8_t has_mp_reach;
	uint8_t has_mp_unreach;
	uint8_t mp_reach_safi;
	uint16_t mp_reach_afi;
	uint32_t mp_nexthop;
	struct cur mp_nlri;
	struct cur mp_withdrawn;
	struct bgp_rawattr unknown[BGP_MAX_UNKNOWN]; /* what bgp_attrs.unknown points to */
	uint8_t aspath_buf[512]; /* a 2-octet session's path rebuilt with AS4_PATH (RFC 6793) */
};

/* What the whole UPDATE becomes after RFC 7606 classification; the worst case wins. */
enum bgp_upd_action {
	BGP_UPD_OK = 0,
	BGP_UPD_WITHDRAW,   /* treat-as-withdraw: every NLRI in it is withdrawn */
	BGP_UPD_RESET,      /* session reset with the NOTIFICATION in e */
};

/* Per-UPDATE findings, for counters and logs. */
struct bgp_upd_report {
	uint16_t discarded;      /* attributes discarded (RFC 7606 attribute-discard) */
	uint8_t withdraw_type;   /* type of the attribute that caused treat-as-withdraw */
	uint8_t withdraw_reason; /* the would-be UPDATE subcode, for logs */
};

/*
 * Parses the attribute block of an UPDATE following RFC 4271 6.3 and RFC 7606: flags and
 * lengths of each known attribute, ORIGIN values, AS_PATH segment syntax (and AS 0 => withdraw),
 * NEXT_HOP length and value (0.0.0.0, multicast => withdraw), duplicates (discard the later,
 * except MP_REACH/MP_UNREACH which reset), missing mandatory attributes when NLRI is present
 * (withdraw), MP_REACH/MP_UNREACH syntax (reset), unknown well-known (reset per 4271 3/2),
 * unknown optional transitive (kept, partial set), unknown optional non-transitive (dropped).
 * as4: the session negotiated 4-octet AS. has_nlri: the UPDATE carries NLRI (classic field).
 * The route's attributes go to a, the MP fields to x, and a's pointers may point into x.
 * Returns the action; on BGP_UPD_RESET e holds the NOTIFICATION.
 */
enum bgp_upd_action bgp_attrs_parse(struct cur attrs, int as4, int has_nlri, struct bgp_attrs *a,
    struct bgp_attrs_ctx *x, struct bgp_upd_report *r, struct bgp_err *e);

/*
 * Writes the path attributes of a to w for a session (as4 or not; a 2-octet session gets
 * AS_PATH with AS_TRANS and AS4_PATH). NEXT_HOP is written in the classic field. 0 or -1.
 */
int bgp_attrs_put(struct wbuf *w, const struct bgp_attrs *a, int as4);

/*
 * Builds UPDATE messages. bgp_upd_begin starts one in buf (cap >= BGP_MAX_LEN) with the given
 * encoded attribute block (len 0 for a withdraw-only UPDATE); bgp_upd_add_withdraw must come
 * before any attributes, so the builder keeps withdraws and announcements in separate messages:
 * use one builder for withdrawals (attrs NULL) and one per attribute set for announcements.
 * bgp_upd_add returns 0, or -1 when the message is full (finish it, send, begin again).
 * bgp_upd_finish returns the total length (0 if the message holds no prefix).
 */
struct bgp_upd_builder {
	uint8_t *buf;
	size_t cap;
	size_t off;
	size_t nprefix;
	int withdraw;
};
void bgp_upd_begin(struct bgp_upd_builder *b, uint8_t *buf, size_t cap, const uint8_t *attrs,
    size_t attrs_len);
int bgp_upd_add(struct bgp_upd_builder *b, const struct bgp_prefix *p);
size_t bgp_upd_finish(struct bgp_upd_builder *b);
/* End-of-RIB marker for IPv4 unicast (an empty UPDATE); returns its length (23). */
size_t bgp_eor_build(uint8_t *buf, size_t cap);

#endif
