/*
 * The BGP routing table of veneer-routerd: interned attribute sets and, per prefix, the paths
 * received from each peer (Adj-RIB-In after import policy) with the best path and its ECMP set
 * (Loc-RIB). Best-path order: highest LOCAL_PREF (100 when absent), shortest AS path, lowest
 * ORIGIN, lowest MED (compared only between paths whose first AS is the same, 0 when absent),
 * eBGP over iBGP, lowest router id, lowest peer address. The ECMP set is every path from a
 * different peer that ties with the best up to (not including) the router-id step.
 */
#ifndef VENEER_BGP_RIB_H
#define VENEER_BGP_RIB_H

#include <stddef.h>
#include <stdint.h>

#include "bgp.h"

#define BGP_RIB_MAX_PEERS 4096
#define BGP_RIB_MAX_ECMP 16

/* ---- interned attribute sets ---- */

struct bgp_aset; /* immutable, refcounted; equal content => same pointer */
struct bgp_atab;

struct bgp_atab *bgp_atab_new(void);
/* Frees the table; every set must have been released. */
void bgp_atab_free(struct bgp_atab *t);
/*
 * The interned copy of a's content (the unknown attributes and all variable parts are copied,
 * so a and what it points to may go right after), with one more reference for the caller.
 * NULL on allocation failure.
 */
const struct bgp_aset *bgp_aset_get(struct bgp_atab *t, const struct bgp_attrs *a);
void bgp_aset_ref(const struct bgp_aset *s);
/* Drops one reference; the set is freed with the last. */
void bgp_aset_put(struct bgp_atab *t, const struct bgp_aset *s);
/* The attributes of a set; pointers stay valid while the set is referenced. */
const struct bgp_attrs *bgp_aset_attrs(const struct bgp_aset *s);
uint32_t bgp_aset_refs(const struct bgp_aset *s);
size_t bgp_atab_count(const struct bgp_atab *t);
/* Bytes allocated for sets (headers and variable parts), for status and the benchmark. */
size_t bgp_atab_bytes(const struct bgp_atab *t);

/* ---- routing table ---- */

struct bgp_rib_peer {
	uint32_t router_id;
	uint32_t addr;
	uint32_t asn;
	uint8_t ebgp;
};

/* A path as the table holds it. */
struct bgp_path {
	struct bgp_path *next;     /* the prefix's other paths */
	const struct bgp_aset *aset;
	uint16_t peer;             /* index from bgp_rib_peer_add */
	uint8_t stale;             /* kept for a restarting peer (graceful restart helper) */
};

struct bgp_rib;

/*
 * Called when a prefix's best path or ECMP set changes: best[0..n) is the new set, n == 0 when
 * the prefix is gone. The pointers are valid only during the call.
 */
typedef void (*bgp_rib_change_cb)(void *arg, const struct bgp_prefix *p,
    const struct bgp_path *const *best, unsigned n);

struct bgp_rib *bgp_rib_new(struct bgp_atab *t, bgp_rib_change_cb cb, void *arg);
/* Frees every path and prefix (without callbacks) and releases their sets. */
void bgp_rib_free(struct bgp_rib *r);

/* Registers a peer; its index (>= 0), or -1 when BGP_RIB_MAX_PEERS are in use. */
int bgp_rib_peer_add(struct bgp_rib *r, const struct bgp_rib_peer *p);
/* Withdraws all of the peer's paths (callbacks fire) and frees its index. */
void bgp_rib_peer_del(struct bgp_rib *r, int peer);
const struct bgp_rib_peer *bgp_rib_peer_get(const struct bgp_rib *r, int peer);

/*
 * Adds or replaces the peer's path for p with set s (the table takes its own reference).
 * Returns 1 when the prefix is new for this peer, 0 when a path was replaced, -1 on ENOMEM.
 */
int bgp_rib_announce(struct bgp_rib *r, int peer, const struct bgp_prefix *p,
    const struct bgp_aset *s);
/* Removes the peer's path for p: 1 if there was one, 0 if not. */
int bgp_rib_withdraw(struct bgp_rib *r, int peer, const struct bgp_prefix *p);

/* Graceful restart helper: marks every path of the peer stale ... */
size_t bgp_rib_peer_mark_stale(struct bgp_rib *r, int peer);
/* ... and withdraws those still stale (after End-of-RIB or the restart timer). */
size_t bgp_rib_peer_sweep_stale(struct bgp_rib *r, int peer);

/* Current best set for exactly p; returns n (0 when unknown), fills at most max. */
unsigned bgp_rib_best(const struct bgp_rib *r, const struct bgp_prefix *p,
    const struct bgp_path **out, unsigned max);
/* Prefixes from one peer, prefixes in the table, paths in the table. */
size_t bgp_rib_peer_prefixes(const struct bgp_rib *r, int peer);
size_t bgp_rib_prefixes(const struct bgp_rib *r);
size_t bgp_rib_paths(const struct bgp_rib *r);
/* Bytes allocated for prefixes and paths (attribute sets not included: bgp_atab_bytes). */
size_t bgp_rib_bytes(const struct bgp_rib *r);
/* Calls fn for every prefix with its best set, in no particular order. */
void bgp_rib_walk(const struct bgp_rib *r, bgp_rib_change_cb fn, void *arg);

#endif
