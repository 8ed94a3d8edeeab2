/*
 * The control channel between veneerd and the agents: typed binary messages behind a fixed
 * 8-byte header (magic "VN", version, type, total length, all network byte order). Every
 * message decodes through the bounded cursor and must consume its body exactly: a short or
 * long body, a bad string or an unknown type is an error that closes the connection.
 *
 * Conversation:
 *   agent  -> HELLO (host, credential, substrate address, encap, prefix, revision it holds,
 *             networks it holds)
 *   veneerd-> WELCOME (version), then batches: BEGIN (snapshot|delta, revision) objects
 *             and DELETEs ... END (revision, nonce)
 *   agent  -> ACK (revision) after applying a whole batch; veneerd sends the next batch
 *             only after the ACK (flow control; changes in between are coalesced)
 *   either -> PING / PONG (heartbeat), PORT_STATE and STATS (agent), ERROR (then close)
 */
#ifndef VENEER_CC_H
#define VENEER_CC_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cur.h"

#define CC_MAGIC 0x564e
#define CC_VERSION 1
#define CC_HDR_LEN 8
#define CC_MAX_MSG (64 * 1024)
#define CC_ID_LEN 32     /* ids are "kind-" + 16 hex; room to spare */
#define CC_HOST_LEN 64
#define CC_DEV_LEN 16
#define CC_CRED_LEN 128
#define CC_MAX_CIDRS 16
#define CC_MAX_IPS 32
#define CC_MAX_NETS 1024

enum cc_type {
	CC_HELLO = 1,
	CC_WELCOME,
	CC_BEGIN,
	CC_END,
	CC_ACK,
	CC_PING,
	CC_PONG,
	CC_ERROR,
	CC_HOST,
	CC_NET,
	CC_ROUTER,
	CC_LINK,
	CC_SUBNET,
	CC_PORT,
	CC_ROUTE,
	CC_DELETE,
	CC_PORT_STATE,
	CC_STATS,
	CC_LROUTE,   /* veneerd -> agents, routerd: an installed learned route */
	CC_BGPCONF,  /* veneerd -> routerd: BGP settings of a network, router or port */
	CC_LEARNED,  /* routerd -> veneerd: a route received from a port, with its verdict */
	CC_UNLEARN,  /* routerd -> veneerd: a route (or all routes) of a port gone */
	CC_BGPSESS,  /* routerd -> veneerd: the state of a port's session */
	CC_CLAIM,    /* agent, routerd -> veneerd: a port claims (or releases) a virtual IP */
	CC_TYPE_MAX,
};

enum cc_result {
	CC_OK = 0,
	CC_E_SHORT,     /* fewer bytes than the header says: wait for more */
	CC_E_MAGIC,
	CC_E_VERSION,
	CC_E_LENGTH,    /* length field out of range, or body not consumed exactly */
	CC_E_TYPE,
	CC_E_STRING,    /* over-long or containing NUL / non-printable bytes */
	CC_E_VALUE,     /* a field out of its range */
};

enum cc_encap {
	CC_ENCAP_VXLAN = 1,
	CC_ENCAP_EMBED6 = 2,
};

/* What a registering endpoint is: a host's agent, or the routing manager. */
enum cc_role {
	CC_ROLE_AGENT = 0,
	CC_ROLE_ROUTERD = 1,
};

enum cc_batch {
	CC_SNAPSHOT = 1,
	CC_DELTA = 2,
};

/* An IPv4 or IPv6 address (family 4 or 6; 0 = none). */
struct cc_addr {
	uint8_t family;
	uint8_t len; /* prefix length for prefixes */
	uint8_t a[16];
};

struct cc_hello {
	uint8_t min_version, max_version;
	char host[CC_HOST_LEN];
	char credential[CC_CRED_LEN];
	uint8_t encap;
	uint8_t role; /* enum cc_role */
	struct cc_addr address;
	struct cc_addr prefix;
	uint64_t revision; /* what the agent holds; 0 = nothing */
	uint64_t nonce;    /* that revision's nonce, as END gave it */
	uint16_t nnets;
	char (*nets)[CC_ID_LEN]; /* decode: points into a caller array of CC_MAX_NETS */
};

struct cc_welcome {
	uint8_t version;
	uint64_t revision;
};

/*
 * The end of a batch: the revision now applied, and a random nonce drawn when that
 * revision was committed. A reconnecting agent presents both: a store restored from a
 * backup may reach the same revision number through another history, but not the same
 * nonce, and then the agent gets a snapshot instead of a delta.
 */
struct cc_end {
	uint64_t revision;
	uint64_t nonce;
};

struct cc_begin {
	uint8_t kind; /* enum cc_batch */
	uint64_t revision;
};

struct cc_host {
	char name[CC_HOST_LEN];
	uint8_t encap;
	uint8_t up;
	uint8_t role; /* enum cc_role */
	struct cc_addr address;
	struct cc_addr prefix;
};

struct cc_net {
	char id[CC_ID_LEN];
	uint32_t vnid;
	uint8_t ncidrs;
	struct pfx4 cidrs[CC_MAX_CIDRS];
};

struct cc_router {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	uint8_t mac[6];
	uint32_t asn;
	uint8_t main;
};

struct cc_link {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char a[CC_ID_LEN];
	char b[CC_ID_LEN];
};

struct cc_subnet {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char router[CC_ID_LEN];
	struct pfx4 cidr;
};

enum cc_port_flag {
	CC_PORT_SDC = 1 << 0,     /* source/destination check on */
	CC_PORT_ROUTING = 1 << 1, /* may speak routing protocols to its router */
};

struct cc_port {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char subnet[CC_ID_LEN];
	char host[CC_HOST_LEN]; /* "" when unbound */
	uint8_t mac[6];
	uint32_t ip;
	uint8_t flags;
	uint32_t slot;          /* on its host; 0 = unbound (embed6 addresses carry it) */
	char device[CC_DEV_LEN];
	uint8_t nextra;
	uint32_t extra[CC_MAX_IPS];
	uint8_t nclaim;
	struct pfx4 claim[CC_MAX_IPS];
	uint8_t nowned;         /* virtual IPs the port holds now (claimed) */
	uint32_t owned[CC_MAX_IPS];
};

enum cc_target {
	CC_T_PORT = 1,
	CC_T_ROUTER = 2,
	CC_T_BLACKHOLE = 3,
};

struct cc_route {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char router[CC_ID_LEN];
	struct pfx4 dst;
	uint8_t ttype;
	char target[CC_ID_LEN]; /* "" for blackhole */
};

/* A learned route in the FIB: accepted by policy and best (or one of an ECMP set). */
enum cc_lroute_flag {
	CC_LR_OVERRIDE = 1 << 0, /* may replace a connected subnet route (import policy) */
};

struct cc_lroute {
	char id[CC_ID_LEN];
	char network[CC_ID_LEN];
	char router[CC_ID_LEN];
	struct pfx4 dst;
	char port[CC_ID_LEN];   /* the next hop port */
	uint8_t flags;
};

/*
 * BGP settings travel as the API's own JSON (compact, ASCII): they are many optional,
 * nested fields that only routerd reads, and veneerd has validated them already. The
 * decoder keeps a view into the message; a holder must copy it.
 */
#define CC_MAX_JSON 16384
struct cc_bgpconf {
	uint8_t kind;           /* CC_NET, CC_ROUTER or CC_PORT */
	char id[CC_ID_LEN];
	uint16_t len;
	const char *json;
};

enum cc_learned_status {
	CC_LEARN_ACCEPTED = 1,
	CC_LEARN_REJECTED = 2,
};

#define CC_REASON_LEN 96
struct cc_learned {
	char port[CC_ID_LEN];   /* the announcing port */
	struct pfx4 dst;
	uint32_t nexthop;
	char nexthop_port[CC_ID_LEN]; /* "" when the next hop is no port of the subnet */
	uint8_t status;         /* enum cc_learned_status */
	uint8_t selected;
	uint8_t override;
	char reason[CC_REASON_LEN];
	uint16_t len;           /* attributes as JSON: a view, like cc_bgpconf */
	const char *attrs;
};

struct cc_unlearn {
	char port[CC_ID_LEN];
	uint8_t all;            /* every route of the port (dst ignored) */
	struct pfx4 dst;
};

struct cc_bgpsess {
	char port[CC_ID_LEN];
	uint8_t state;          /* enum bgp_state values: 0 idle .. 5 established */
	uint64_t since_ms;      /* wall clock of the last state change */
	uint32_t peer_asn;
	uint32_t peer_id;
	uint16_t hold;
	uint32_t received, accepted, rejected;
	char last_error[CC_REASON_LEN];
};

/* How a claim was made: what the port sent, or routerd on a BGP host route's behalf. */
enum cc_claim_how {
	CC_CLAIM_GARP = 1,     /* a gratuitous ARP (request or reply) */
	CC_CLAIM_BGP = 2,      /* a /32 announced by the port */
	CC_RELEASE_BGP = 3,    /* that /32 withdrawn, or the session gone */
	/*
	 * routerd, after registering: every /32 it holds has been sent again (port empty, ip
	 * 0); veneerd withdraws the BGP claimants that were not.
	 */
	CC_CLAIMS_SYNCED = 4,
};

struct cc_claim {
	char port[CC_ID_LEN];
	uint32_t ip;
	uint8_t how;           /* enum cc_claim_how */
};

struct cc_delete {
	uint8_t kind; /* the enum cc_type of the object: CC_HOST ... CC_ROUTE */
	char id[CC_HOST_LEN];
};

struct cc_port_state {
	char id[CC_ID_LEN];
	uint8_t up;
};

/*
 * The agent's counters: named drop reasons, then per local port rx/tx/drops. Too large to
 * decode into a struct: the decoder validates the body and keeps a view of it, which
 * cc_stats_reason() and cc_stats_port() walk.
 */
#define CC_MAX_REASONS 64
#define CC_MAX_STAT_PORTS 800

struct cc_stats {
	uint8_t nreasons;
	uint16_t nports;
	struct cur body; /* the reasons and ports, validated */
};

struct cc_stat_port {
	char id[CC_ID_LEN];
	uint64_t rx, tx, drops;
};

struct cc_error {
	uint16_t code;
	char reason[256];
};

struct cc_msg {
	uint8_t type;
	union {
		struct cc_hello hello;
		struct cc_welcome welcome;
		struct cc_begin begin;
		struct cc_end end;
		uint64_t revision; /* ACK */
		uint64_t stamp;    /* PING, PONG */
		struct cc_error error;
		struct cc_host host;
		struct cc_net net;
		struct cc_router router;
		struct cc_link link;
		struct cc_subnet subnet;
		struct cc_port port;
		struct cc_route route;
		struct cc_delete del;
		struct cc_port_state port_state;
		struct cc_stats stats;
		struct cc_lroute lroute;
		struct cc_bgpconf bgpconf;
		struct cc_learned learned;
		struct cc_unlearn unlearn;
		struct cc_bgpsess bgpsess;
		struct cc_claim claim;
	} u;
};

/* cc.c */
/*
 * Looks at the start of a receive buffer: CC_OK with *msglen set when a whole message is
 * there, CC_E_SHORT when more bytes are needed, or an error that must close the connection
 * (bad magic, version, or a length outside [CC_HDR_LEN, CC_MAX_MSG]).
 */
enum cc_result cc_frame(const uint8_t *buf, size_t len, size_t *msglen);
/*
 * Decodes one whole message (as delimited by cc_frame) into a zeroed m->u. For HELLO,
 * m->u.hello.nets must point at an array of CC_MAX_NETS ids before the call. Never reads
 * outside buf.
 */
enum cc_result cc_decode(const uint8_t *buf, size_t len, struct cc_msg *m);
/* Appends the encoded message to w (w->failed on overflow). */
void cc_encode(struct wbuf *w, const struct cc_msg *m);
const char *cc_result_name(enum cc_result r);
/* Reads the next reason (name, count) of a STATS body view; -1 at the end. */
int cc_stats_reason(struct cur *c, char name[32], uint64_t *count);
/* Reads the next port of a STATS body view (after all reasons); -1 at the end. */
int cc_stats_port(struct cur *c, struct cc_stat_port *p);
/* Encodes a STATS message from arrays (what the agent sends). */
void cc_encode_stats(struct wbuf *w, const char *const *names, const uint64_t *counts,
    unsigned nreasons, const struct cc_stat_port *ports, unsigned nports);
const char *cc_type_name(uint8_t type);

#endif
