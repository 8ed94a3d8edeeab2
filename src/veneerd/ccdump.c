/* From the store to control-channel messages: snapshots and deltas for one agent. */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "log.h"
#include "util.h"
#include "vd.h"
#include "ccsrv.h"

int
ccnets_has(const struct ccnets *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return 1;
	return 0;
}

int
ccnets_add(struct ccnets *s, const char *id)
{
	if (ccnets_has(s, id))
		return 0;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		char (*ids)[CC_ID_LEN] = realloc(s->ids, (size_t)cap * CC_ID_LEN);

		if (ids == NULL)
			return -1;
		s->ids = ids;
		s->cap = cap;
	}
	snprintf(s->ids[s->n++], CC_ID_LEN, "%s", id);
	return 0;
}

void
ccnets_free(struct ccnets *s)
{
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

int
ccdump_interest(struct vd *vd, const char *host, int role, struct ccnets *out)
{
	sqlite3_stmt *s = role == CC_ROLE_ROUTERD ? store_q(vd->st, "SELECT DISTINCT network "
	    "FROM ports WHERE routing = 1", "") : store_q(vd->st, "SELECT DISTINCT network FROM "
	    "ports WHERE host = ?", "s", host);
	int rc = 0;

	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
		rc = ccnets_add(out, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return rc;
}

static void
ccdump_str(char *dst, size_t n, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

/* Text address ("192.0.2.1", "fd00::1", "fd00:1::/56") to the wire form. */
static void
ccdump_addr(const char *text, struct cc_addr *a)
{
	struct pfx6 p6;
	uint32_t a4;

	memset(a, 0, sizeof(*a));
	if (text == NULL)
		return;
	if (addr4_parse(text, &a4) == 0) {
		a->family = 4;
		a->len = 32;
		a->a[0] = (uint8_t)(a4 >> 24);
		a->a[1] = (uint8_t)(a4 >> 16);
		a->a[2] = (uint8_t)(a4 >> 8);
		a->a[3] = (uint8_t)a4;
	} else if (addr6_parse(text, a->a) == 0) {
		a->family = 6;
		a->len = 128;
	} else if (pfx6_parse(text, &p6, 0, 128) == ADDR_OK) {
		a->family = 6;
		a->len = p6.len;
		memcpy(a->a, p6.addr, 16);
	}
}

/* --- one message per row kind; each returns the conn_send result --- */

static int
ccdump_host_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_HOST};
	const char *encap = (const char *)sqlite3_column_text(s, 2);

	ccdump_str(m.u.host.name, sizeof(m.u.host.name), s, 0);
	ccdump_addr((const char *)sqlite3_column_text(s, 1), &m.u.host.address);
	m.u.host.encap = strcmp(encap, "embed6") == 0 ? CC_ENCAP_EMBED6 : CC_ENCAP_VXLAN;
	ccdump_addr((const char *)sqlite3_column_text(s, 3), &m.u.host.prefix);
	m.u.host.up = strcmp((const char *)sqlite3_column_text(s, 4), "up") == 0;
	m.u.host.role = strcmp((const char *)sqlite3_column_text(s, 5), "routerd") == 0 ?
	    CC_ROLE_ROUTERD : CC_ROLE_AGENT;
	return conn_send(c, &m);
}

#define HOST_SQL "SELECT name, address, encap, prefix, state, role FROM hosts"

static int
ccdump_net_row(struct vd *vd, struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_NET};

	ccdump_str(m.u.net.id, sizeof(m.u.net.id), s, 0);
	m.u.net.vnid = (uint32_t)sqlite3_column_int64(s, 1);
	m.u.net.ncidrs = (uint8_t)network_cidrs(vd->st, m.u.net.id, m.u.net.cidrs,
	    CC_MAX_CIDRS);
	return conn_send(c, &m);
}

static int
ccdump_router_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_ROUTER};

	ccdump_str(m.u.router.id, sizeof(m.u.router.id), s, 0);
	ccdump_str(m.u.router.network, sizeof(m.u.router.network), s, 1);
	mac_parse((const char *)sqlite3_column_text(s, 2), m.u.router.mac);
	m.u.router.asn = (uint32_t)sqlite3_column_int64(s, 3);
	m.u.router.main = (uint8_t)sqlite3_column_int(s, 4);
	return conn_send(c, &m);
}

static int
ccdump_link_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_LINK};

	ccdump_str(m.u.link.id, sizeof(m.u.link.id), s, 0);
	ccdump_str(m.u.link.network, sizeof(m.u.link.network), s, 1);
	ccdump_str(m.u.link.a, sizeof(m.u.link.a), s, 2);
	ccdump_str(m.u.link.b, sizeof(m.u.link.b), s, 3);
	return conn_send(c, &m);
}

static int
ccdump_subnet_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_SUBNET};

	ccdump_str(m.u.subnet.id, sizeof(m.u.subnet.id), s, 0);
	ccdump_str(m.u.subnet.network, sizeof(m.u.subnet.network), s, 1);
	ccdump_str(m.u.subnet.router, sizeof(m.u.subnet.router), s, 2);
	m.u.subnet.cidr.addr = (uint32_t)sqlite3_column_int64(s, 3);
	m.u.subnet.cidr.len = (uint8_t)sqlite3_column_int(s, 4);
	return conn_send(c, &m);
}

static void
ccdump_port_lists(struct vd *vd, struct cc_port *p, const char *claimable)
{
	sqlite3_stmt *s = store_q(vd->st, "SELECT addr FROM port_addrs WHERE port = ? AND "
	    "pos > 0 ORDER BY pos", "s", p->id);
	json_t *cl = json_loads(claimable, 0, NULL), *x;
	size_t i;

	while (p->nextra < CC_MAX_IPS && sqlite3_step(s) == SQLITE_ROW)
		p->extra[p->nextra++] = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	json_array_foreach(cl, i, x) {
		if (p->nclaim < CC_MAX_IPS && pfx4_parse(json_string_value(x),
		    &p->claim[p->nclaim], 0, 32) == ADDR_OK)
			p->nclaim++;
	}
	json_decref(cl);
	/* The virtual IPs it holds now: agents forward them to it as its own addresses. */
	s = store_q(vd->st, "SELECT addr FROM vip_owners WHERE port = ? ORDER BY addr", "s",
	    p->id);
	while (p->nowned < CC_MAX_IPS && sqlite3_step(s) == SQLITE_ROW)
		p->owned[p->nowned++] = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
}

static int
ccdump_port_row(struct vd *vd, struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_PORT};
	struct cc_port *p = &m.u.port;

	ccdump_str(p->id, sizeof(p->id), s, 0);
	ccdump_str(p->network, sizeof(p->network), s, 1);
	ccdump_str(p->subnet, sizeof(p->subnet), s, 2);
	ccdump_str(p->host, sizeof(p->host), s, 3);
	mac_parse((const char *)sqlite3_column_text(s, 4), p->mac);
	p->ip = (uint32_t)sqlite3_column_int64(s, 5);
	p->flags = (uint8_t)((sqlite3_column_int(s, 6) ? CC_PORT_SDC : 0) |
	    (sqlite3_column_int(s, 7) ? CC_PORT_ROUTING : 0));
	ccdump_str(p->device, sizeof(p->device), s, 8);
	ccdump_port_lists(vd, p, (const char *)sqlite3_column_text(s, 9));
	p->slot = (uint32_t)sqlite3_column_int64(s, 10);
	return conn_send(c, &m);
}

static int
ccdump_route_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_ROUTE};
	const char *tt = (const char *)sqlite3_column_text(s, 5);

	ccdump_str(m.u.route.id, sizeof(m.u.route.id), s, 0);
	ccdump_str(m.u.route.network, sizeof(m.u.route.network), s, 1);
	ccdump_str(m.u.route.router, sizeof(m.u.route.router), s, 2);
	m.u.route.dst.addr = (uint32_t)sqlite3_column_int64(s, 3);
	m.u.route.dst.len = (uint8_t)sqlite3_column_int(s, 4);
	m.u.route.ttype = strcmp(tt, "port") == 0 ? CC_T_PORT : strcmp(tt, "router") == 0 ?
	    CC_T_ROUTER : CC_T_BLACKHOLE;
	if (m.u.route.ttype != CC_T_BLACKHOLE)
		ccdump_str(m.u.route.target, sizeof(m.u.route.target), s, 6);
	return conn_send(c, &m);
}

static int
ccdump_lroute_row(struct conn *c, sqlite3_stmt *s)
{
	struct cc_msg m = {.type = CC_LROUTE};

	ccdump_str(m.u.lroute.id, sizeof(m.u.lroute.id), s, 0);
	ccdump_str(m.u.lroute.network, sizeof(m.u.lroute.network), s, 1);
	ccdump_str(m.u.lroute.router, sizeof(m.u.lroute.router), s, 2);
	m.u.lroute.dst.addr = (uint32_t)sqlite3_column_int64(s, 3);
	m.u.lroute.dst.len = (uint8_t)sqlite3_column_int(s, 4);
	ccdump_str(m.u.lroute.port, sizeof(m.u.lroute.port), s, 5);
	m.u.lroute.flags = sqlite3_column_int(s, 6) ? CC_LR_OVERRIDE : 0;
	return conn_send(c, &m);
}

/* A BGP settings message for routerd: kind, id and the JSON text. */
static int
ccdump_bgpconf(struct conn *c, uint8_t kind, const char *id, const char *json)
{
	struct cc_msg m = {.type = CC_BGPCONF};
	size_t n = strlen(json);

	if (n > CC_MAX_JSON) {
		log_warnx("BGP settings of %s exceed %d bytes: not sent", id, CC_MAX_JSON);
		return 0;
	}
	m.u.bgpconf.kind = kind;
	snprintf(m.u.bgpconf.id, sizeof(m.u.bgpconf.id), "%s", id);
	m.u.bgpconf.len = (uint16_t)n;
	m.u.bgpconf.json = json;
	return conn_send(c, &m);
}

/* The BGP settings that go with a network, router or port row (routerd sessions only). */
static int
ccdump_bgp_of(struct vd *vd, struct conn *c, uint8_t type, const char *id)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (type == CC_NET)
		s = store_q(vd->st, "SELECT json_object('import_policy', json(import_policy)) "
		    "FROM networks WHERE id = ?", "s", id);
	else if (type == CC_ROUTER)
		s = store_q(vd->st, "SELECT json_object('asn', asn, 'hold_time', bgp_hold_time) "
		    "FROM routers WHERE id = ?", "s", id);
	else if (type == CC_PORT)
		s = store_q(vd->st, "SELECT json_object('bgp', json(bgp)) FROM ports WHERE id = ?",
		    "s", id);
	else
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		rc = ccdump_bgpconf(c, type, id, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return rc;
}

/* Per kind: how to select rows (by network, or one by id) and turn one into a message. */
enum ccdump_kind { K_NET, K_ROUTER, K_LINK, K_SUBNET, K_PORT, K_ROUTE, K_LROUTE, K_NKINDS };

/* Installed learned routes only: the rest is for the API, not for forwarding. */
#define LROUTE_SQL "SELECT id, network, router, addr, len, nexthop_port, override FROM " \
	"learned_routes WHERE status = 'accepted' AND selected = 1 AND nexthop_port IS NOT NULL "


static const struct {
	const char *name;   /* as in the changes table */
	uint8_t type;       /* cc type */
	const char *by_net; /* rows of one network */
	const char *by_id;  /* one row */
} ccdump_kinds[K_NKINDS] = {
	[K_NET] = {"network", CC_NET, "SELECT id, vnid FROM networks WHERE id = ?",
	    "SELECT id, vnid FROM networks WHERE id = ?"},
	[K_ROUTER] = {"router", CC_ROUTER,
	    "SELECT id, network, mac, asn, main FROM routers WHERE network = ?",
	    "SELECT id, network, mac, asn, main FROM routers WHERE id = ?"},
	[K_LINK] = {"link", CC_LINK, "SELECT id, network, a, b FROM links WHERE network = ?",
	    "SELECT id, network, a, b FROM links WHERE id = ?"},
	[K_SUBNET] = {"subnet", CC_SUBNET,
	    "SELECT id, network, router, addr, len FROM subnets WHERE network = ?",
	    "SELECT id, network, router, addr, len FROM subnets WHERE id = ?"},
	[K_PORT] = {"port", CC_PORT, "SELECT id, network, subnet, host, mac, ip, sdc, routing, "
	    "device, claimable, slot FROM ports WHERE network = ?", "SELECT id, network, subnet, "
	    "host, mac, ip, sdc, routing, device, claimable, slot FROM ports WHERE id = ?"},
	[K_ROUTE] = {"route", CC_ROUTE, "SELECT id, network, router, addr, len, target_type, "
	    "target FROM routes WHERE network = ?", "SELECT id, network, router, addr, len, "
	    "target_type, target FROM routes WHERE id = ?"},
	[K_LROUTE] = {"lroute", CC_LROUTE, LROUTE_SQL "AND network = ?", LROUTE_SQL "AND id = ?"},
};

static int
ccdump_row(struct vd *vd, struct conn *c, int role, enum ccdump_kind k, sqlite3_stmt *s)
{
	/* routerd gets each network, router and port with its BGP settings right after it. */
	if (role == CC_ROLE_ROUTERD && (k == K_NET || k == K_ROUTER || k == K_PORT)) {
		int rc = ccdump_row(vd, c, CC_ROLE_AGENT, k, s);

		return rc < 0 ? rc : ccdump_bgp_of(vd, c, ccdump_kinds[k].type,
		    (const char *)sqlite3_column_text(s, 0));
	}
	switch (k) {
	case K_NET:
		return ccdump_net_row(vd, c, s);
	case K_ROUTER:
		return ccdump_router_row(c, s);
	case K_LINK:
		return ccdump_link_row(c, s);
	case K_SUBNET:
		return ccdump_subnet_row(c, s);
	case K_PORT:
		return ccdump_port_row(vd, c, s);
	case K_LROUTE:
		return ccdump_lroute_row(c, s);
	default:
		return ccdump_route_row(c, s);
	}
}

/* Sends the rows of sql bound to key; -1 if the connection closed. */
static int
ccdump_rows(struct vd *vd, struct conn *c, int role, enum ccdump_kind k, const char *sql,
    const char *key)
{
	sqlite3_stmt *s = store_q(vd->st, sql, "s", key);
	int rc = 0, any = 0;

	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		rc = ccdump_row(vd, c, role, k, s);
		any = 1;
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : any;
}

static int
ccdump_network(struct vd *vd, struct conn *c, int role, const char *net)
{
	for (int k = 0; k < K_NKINDS; k++)
		if (ccdump_rows(vd, c, role, (enum ccdump_kind)k, ccdump_kinds[k].by_net, net) < 0)
			return -1;
	return 0;
}

static int
ccdump_hosts(struct vd *vd, struct conn *c)
{
	sqlite3_stmt *s = store_q(vd->st, HOST_SQL, "");
	int rc = 0;

	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
		rc = ccdump_host_row(c, s);
	sqlite3_reset(s);
	return rc;
}

int
ccdump_snapshot(struct vd *vd, struct conn *c, int role, const struct ccnets *nets)
{
	if (ccdump_hosts(vd, c) < 0)
		return -1;
	for (int i = 0; i < nets->n; i++)
		if (ccdump_network(vd, c, role, nets->ids[i]) < 0)
			return -1;
	return 0;
}

static int
ccdump_delete(struct conn *c, uint8_t type, const char *id)
{
	struct cc_msg m = {.type = CC_DELETE};

	m.u.del.kind = type;
	snprintf(m.u.del.id, sizeof(m.u.del.id), "%s", id);
	return conn_send(c, &m);
}

/* One changed object: its current state if it still exists, else its deletion. */
static int
ccdump_changed(struct vd *vd, struct conn *c, int role, const char *kind, const char *id)
{
	if (strcmp(kind, "host") == 0) {
		sqlite3_stmt *s = store_q(vd->st, HOST_SQL " WHERE name = ?", "s", id);
		int rc = sqlite3_step(s) == SQLITE_ROW ? ccdump_host_row(c, s) : 1;

		sqlite3_reset(s);
		return rc == 1 ? ccdump_delete(c, CC_HOST, id) : rc;
	}
	for (int k = 0; k < K_NKINDS; k++) {
		int rc;

		if (strcmp(kind, ccdump_kinds[k].name) != 0)
			continue;
		rc = ccdump_rows(vd, c, role, (enum ccdump_kind)k, ccdump_kinds[k].by_id, id);
		if (rc == 0)
			return ccdump_delete(c, ccdump_kinds[k].type, id);
		return rc < 0 ? -1 : 0;
	}
	return 0; /* tenants, tokens: not the agents' business */
}

int
ccdump_delta(struct vd *vd, struct conn *c, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want)
{
	sqlite3_stmt *s;
	int rc = 0;

	for (int i = 0; i < want->n && rc == 0; i++)
		if (!ccnets_has(had, want->ids[i]))
			rc = ccdump_network(vd, c, role, want->ids[i]);
	for (int i = 0; i < had->n && rc == 0; i++)
		if (!ccnets_has(want, had->ids[i]))
			rc = ccdump_delete(c, CC_NET, had->ids[i]);
	/* Each object once, whatever number of times it changed in the range. */
	s = store_q(vd->st, "SELECT kind, id, MAX(network) FROM changes WHERE revision > ? AND "
	    "revision <= ? GROUP BY kind, id", "ii", from, to);
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *net = (const char *)sqlite3_column_text(s, 2);

		/* Networks just gained were sent whole; lost ones were deleted whole. */
		if (strcmp(kind, "host") != 0 && (net == NULL || !ccnets_has(had, net) ||
		    !ccnets_has(want, net)))
			continue;
		rc = ccdump_changed(vd, c, role, kind, (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	return rc < 0 ? -1 : 0;
}

int64_t
ccdump_floor(struct vd *vd)
{
	return store_meta_get(vd->st, "changes_floor", 0);
}

void
ccdump_prune(struct vd *vd, int64_t keep)
{
	int64_t floor = store_revision(vd->st) - keep;

	if (floor <= ccdump_floor(vd))
		return;
	if (store_begin(vd->st, 1) != 0)
		return;
	store_x(vd->st, "DELETE FROM changes WHERE revision <= ?", "i", floor);
	store_meta_set(vd->st, "changes_floor", floor);
	if (store_commit(vd->st) != 0)
		store_rollback(vd->st);
}
