/*
 * What routerd tells veneerd: each received route with its verdict and whether it is
 * installed (CC_LEARNED / CC_UNLEARN), each session's state and counts (CC_BGPSESS), and
 * virtual IP claims by BGP (CC_CLAIM). Reports are dropped while veneerd is away; at each
 * registration routerd sends everything it holds again, claims included, then
 * CLAIMS_SYNCED, after which veneerd withdraws the claims it did not hear again
 * (rd_report_all).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "ev.h"
#include "rd.h"

static int
rd_can_report(const struct rd *rd)
{
	return rd->bench_net == NULL && rd->sync.conn != NULL && rd->sync.welcomed;
}

static json_t *
rd_aspath_json(const struct bgp_attrs *a)
{
	json_t *list = json_array();
	struct cur c = cur_make(a->aspath, a->aspath_len);

	while (cur_left(&c) >= 2) {
		uint8_t type = cur_u8(&c), n = cur_u8(&c);
		json_t *set = type == BGP_AS_SET || type == BGP_AS_CONFED_SET ? json_array() : NULL;

		for (unsigned i = 0; i < n && cur_ok(&c); i++) {
			json_t *v = json_integer((json_int_t)cur_u32(&c));

			json_array_append_new(set ? set : list, v);
		}
		if (set)
			json_array_append_new(list, set);
	}
	return list;
}

static json_t *
rd_comm_json(const uint8_t *p, size_t len, int large)
{
	json_t *list = json_array();
	struct cur c = cur_make(p, len);
	char buf[40];

	while (cur_left(&c) >= (large ? 12u : 4u)) {
		if (large) {
			uint32_t g = cur_u32(&c), d1 = cur_u32(&c), d2 = cur_u32(&c);

			snprintf(buf, sizeof(buf), "%u:%u:%u", g, d1, d2);
		} else {
			uint16_t hi = cur_u16(&c), lo = cur_u16(&c);

			snprintf(buf, sizeof(buf), "%u:%u", hi, lo);
		}
		json_array_append_new(list, json_string(buf));
	}
	return list;
}

static char *
rd_attrs_json(const struct bgp_attrs *a)
{
	static const char *const origins[] = {"igp", "egp", "incomplete"};
	json_t *o;
	char *txt;

	if (a == NULL)
		return strdup("{}");
	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "as_path", rd_aspath_json(a),
	    "origin", origins[a->origin < 3 ? a->origin : 2],
	    "med", a->present & (1u << BGP_A_MED) ? json_integer(a->med) : json_null(),
	    "local_pref", a->present & (1u << BGP_A_LOCAL_PREF) ? json_integer(a->local_pref) :
	    json_null(), "communities", rd_comm_json(a->communities, a->communities_len, 0),
	    "large_communities", rd_comm_json(a->large_communities, a->large_communities_len, 1));
	txt = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	return txt;
}

void
rd_report_route(struct rd_peer *p, const struct rd_route *rt)
{
	struct cc_msg m = {.type = CC_LEARNED};
	struct cc_learned *l = &m.u.learned;
	char *attrs;

	if (!rd_can_report(p->rd))
		return;
	attrs = rd_attrs_json(rt->aset ? bgp_aset_attrs(rt->aset) : NULL);
	if (attrs == NULL || strlen(attrs) > CC_MAX_JSON) {
		free(attrs);
		attrs = strdup("{}");
		if (attrs == NULL)
			return;
	}
	snprintf(l->port, sizeof(l->port), "%s", p->port);
	l->dst.addr = rt->p.addr;
	l->dst.len = rt->p.len;
	l->nexthop = rt->nexthop;
	snprintf(l->nexthop_port, sizeof(l->nexthop_port), "%s", rt->nhport);
	l->status = rt->accepted ? CC_LEARN_ACCEPTED : CC_LEARN_REJECTED;
	l->selected = rt->selected;
	l->override = rt->override;
	snprintf(l->reason, sizeof(l->reason), "%s", rt->reason);
	l->len = (uint16_t)strlen(attrs);
	l->attrs = attrs;
	conn_send(p->rd->sync.conn, &m);
	free(attrs);
}

void
rd_report_unlearn(struct rd_peer *p, const struct bgp_prefix *pfx)
{
	struct cc_msg m = {.type = CC_UNLEARN};

	if (!rd_can_report(p->rd))
		return;
	snprintf(m.u.unlearn.port, sizeof(m.u.unlearn.port), "%s", p->port);
	m.u.unlearn.all = pfx == NULL;
	if (pfx) {
		m.u.unlearn.dst.addr = pfx->addr;
		m.u.unlearn.dst.len = pfx->len;
	}
	conn_send(p->rd->sync.conn, &m);
}

void
rd_report_session(struct rd_peer *p)
{
	struct cc_msg m = {.type = CC_BGPSESS};
	struct cc_bgpsess *b = &m.u.bgpsess;
	const struct bgp_sess_stats *st = p->sess ? bgp_sess_stats(p->sess) : NULL;
	const struct bgp_open *o = p->sess ? bgp_sess_peer_open(p->sess) : NULL;
	enum bgp_state s = p->sess ? bgp_sess_state(p->sess) : BGP_S_IDLE;

	if (!rd_can_report(p->rd))
		return;
	snprintf(b->port, sizeof(b->port), "%s", p->port);
	b->state = (uint8_t)s;
	b->since_ms = p->since_ms;
	if (o && s >= BGP_S_OPENCONFIRM) {
		b->peer_asn = o->asn;
		b->peer_id = o->bgp_id;
		b->hold = bgp_sess_hold(p->sess);
	}
	b->received = p->received;
	b->accepted = p->accepted;
	b->rejected = p->rejected;
	if (st && st->has_last_err)
		snprintf(b->last_error, sizeof(b->last_error), "%s %s",
		    st->last_err_sent ? "sent" : "received",
		    bgp_err_str(st->last_err.code, st->last_err.subcode));
	conn_send(p->rd->sync.conn, &m);
	p->reported = s;
	p->rep_received = p->received;
	p->rep_accepted = p->accepted;
	p->rep_rejected = p->rejected;
}

/*
 * Prefix counts change with every UPDATE; they reach veneerd every 2 s at most (a store
 * write each), state changes at once.
 */
static void
rd_report_counts_each(const char *key, void *val, void *arg)
{
	struct rd_peer *p = val;

	(void)key;
	(void)arg;
	if (p->received != p->rep_received || p->accepted != p->rep_accepted ||
	    p->rejected != p->rep_rejected)
		rd_report_session(p);
}

static void
rd_report_counts(struct ev_timer *t, void *arg)
{
	struct rd *rd = arg;

	map_each(&rd->peers, rd_report_counts_each, NULL);
	ev_timer_arm(t, 2000);
}

int
rd_report_start(struct rd *rd)
{
	if ((rd->count_timer = ev_timer_new(rd->loop, rd_report_counts, rd)) == NULL)
		return -1;
	ev_timer_arm(rd->count_timer, 2000);
	return 0;
}

static void
rd_report_each_route(const char *key, void *val, void *arg)
{
	(void)key;
	rd_report_route(arg, val);
}

static void
rd_report_each_claim(const char *key, void *val, void *arg)
{
	struct rd_route *rt = val;

	(void)key;
	/* Stale ones too: a restarting peer keeps its address until its End-of-RIB. */
	if (rt->claim)
		rd_report_claim(arg, rt->p.addr, 0);
}

static void
rd_report_peer_all(const char *key, void *val, void *arg)
{
	struct rd_peer *p = val;
	const int *claims = arg;

	(void)key;
	map_each(&p->in, rd_report_each_route, p);
	if (*claims)
		map_each(&p->in, rd_report_each_claim, p);
	rd_report_session(p);
}

/* An installed route veneerd holds that no session of ours still gives: withdraw it. */
static void
rd_report_stale(const char *key, void *val, void *arg)
{
	const struct cc_lroute *lr = val;
	struct rd *rd = arg;
	struct rd_peer *p = map_get(&rd->peers, lr->port);
	struct bgp_prefix pfx = {lr->dst.addr, lr->dst.len};
	char k[PFX4_STRLEN];
	struct rd_route *rt;

	(void)key;
	rd_route_key(&pfx, k);
	if (p == NULL)
		return; /* not a routing port any more: veneerd drops its rows itself */
	rt = map_get(&p->in, k);
	if (rt == NULL || !rt->accepted)
		rd_report_unlearn(p, &pfx);
}

/*
 * After (re)registering: what we hold is sent again (idempotent upserts: no revision unless
 * something changed), and installed routes veneerd still has from sessions that are gone
 * (routerd restarted, or routes withdrawn while veneerd was away) are withdrawn. Routes are
 * matched by their next-hop port, which is the announcing port unless a third-party next
 * hop was used; such a route is corrected when its session reports it again.
 */
void
rd_report_all(struct rd *rd, int claims)
{
	struct cc_msg m = {.type = CC_CLAIM};

	map_each(&rd->peers, rd_report_peer_all, &claims);
	map_each(&rd->sync.live->lroutes, rd_report_stale, rd);
	if (!claims)
		return;
	/* Every claim we hold has been sent again: veneerd withdraws the others. */
	m.u.claim.how = CC_CLAIMS_SYNCED;
	if (rd_can_report(rd))
		conn_send(rd->sync.conn, &m);
}

void
rd_report_claim(struct rd_peer *p, uint32_t ip, int release)
{
	struct cc_msg m = {.type = CC_CLAIM};

	if (!rd_can_report(p->rd))
		return;
	snprintf(m.u.claim.port, sizeof(m.u.claim.port), "%s", p->port);
	m.u.claim.ip = ip;
	m.u.claim.how = release ? CC_RELEASE_BGP : CC_CLAIM_BGP;
	conn_send(p->rd->sync.conn, &m);
}
