/*
 * What veneer-routerd reports over the control channel: the routes each BGP session
 * announced, with the import policy's verdict and whether the route is installed, and the
 * sessions' state. An installed route is desired state for the agents (it changes their
 * forwarding), so its appearance and disappearance are revisions with change records;
 * a rejected or merely updated route is observed state and changes no revision.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "ccsrv.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "vd.h"

static int64_t
learned_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Installed = accepted, selected and pointing at a port: what agents forward by. */
static int
learned_installed(const char *status, int selected, const char *nhport)
{
	return strcmp(status, "accepted") == 0 && selected && nhport && nhport[0];
}

/* The port's network, tenant, router and subnet; -1 when the port is gone or not routing. */
static int
learned_port(struct store *st, const char *port, char *net, char *tenant, char *router,
    char *subnet)
{
	sqlite3_stmt *s = store_q(st, "SELECT p.network, p.tenant, sn.router, p.subnet FROM "
	    "ports p JOIN subnets sn ON sn.id = p.subnet WHERE p.id = ? AND p.routing = 1 AND "
	    "sn.router IS NOT NULL", "s", port);
	int rc = -1;

	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(net, CC_ID_LEN, "%s", (const char *)sqlite3_column_text(s, 0));
		snprintf(tenant, CC_ID_LEN, "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(router, CC_ID_LEN, "%s", (const char *)sqlite3_column_text(s, 2));
		snprintf(subnet, CC_ID_LEN, "%s", (const char *)sqlite3_column_text(s, 3));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* What the agents forward by for one row: installed, to which port, overriding or not. */
struct learned_fwd {
	int installed;
	char nhport[CC_ID_LEN];
	int override;
	char router[CC_ID_LEN];
};

/* The existing row for (port, prefix): its id and forwarding facts. 1 found, 0 not. */
static int
learned_find(struct store *st, const char *port, const struct pfx4 *p, char *id,
    struct learned_fwd *f)
{
	sqlite3_stmt *s = store_q(st, "SELECT id, status, selected, nexthop_port, override, "
	    "router FROM learned_routes WHERE port = ? AND addr = ? AND len = ?", "sui", port,
	    p->addr, (int64_t)p->len);
	int found = 0;

	memset(f, 0, sizeof(*f));
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *nh = (const char *)sqlite3_column_text(s, 3);

		snprintf(id, CC_ID_LEN, "%s", (const char *)sqlite3_column_text(s, 0));
		f->installed = learned_installed((const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2), nh);
		snprintf(f->nhport, sizeof(f->nhport), "%s", nh ? nh : "");
		f->override = sqlite3_column_int(s, 4);
		snprintf(f->router, sizeof(f->router), "%s", (const char *)sqlite3_column_text(s,
		    5));
		found = 1;
	}
	sqlite3_reset(s);
	return found;
}

/* A next-hop port must be a port of the announcing port's subnet. */
static int
learned_nexthop_ok(struct store *st, const char *nhport, const char *subnet)
{
	return nhport[0] == '\0' || store_i(st, "SELECT 1 FROM ports WHERE id = ? AND "
	    "subnet = ?", 0, "ss", nhport, subnet) == 1;
}

/* rev > 0: the route's installed state changed at that revision. */
static void
learned_upsert(struct store *st, const char *id, const char *net, const char *tenant,
    const char *router, const struct cc_learned *l, int64_t rev)
{
	char attrs[CC_MAX_JSON + 1];
	const char *status = l->status == CC_LEARN_ACCEPTED ? "accepted" : "rejected";

	memcpy(attrs, l->attrs, l->len);
	attrs[l->len] = '\0';
	store_x(st, "INSERT INTO learned_routes (id, network, tenant, router, port, addr, len, "
	    "nexthop, nexthop_port, status, reason, selected, attrs, updated, revision, override) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "CASE WHEN ?15 > 0 THEN ?15 ELSE (SELECT value FROM meta WHERE key = 'revision') END, "
	    "?16) ON CONFLICT (port, addr, len) DO UPDATE SET network = ?2, tenant = ?3, "
	    "router = ?4, nexthop = ?8, nexthop_port = ?9, "
	    "status = ?10, reason = ?11, selected = ?12, attrs = ?13, updated = ?14, "
	    "revision = CASE WHEN ?15 > 0 THEN ?15 ELSE revision END, override = ?16",
	    "sssssubusssbsiib", id, net, tenant, router, l->port, l->dst.addr, (int)l->dst.len,
	    l->nexthop, l->nexthop_port[0] ? l->nexthop_port : NULL, status,
	    l->reason[0] ? l->reason : NULL, (int)l->selected, attrs, learned_now_ms(), rev,
	    (int)l->override);
}

/* Attributes must be a JSON object: they are shown by the API as they are. */
static int
learned_attrs_ok(const struct cc_learned *l)
{
	json_t *j = json_loadb(l->attrs, l->len, 0, NULL);
	int ok = json_is_object(j);

	json_decref(j);
	return ok;
}

int
learned_put(struct vd *vd, const struct cc_learned *l)
{
	struct store *st = vd->st;
	char net[CC_ID_LEN], tenant[CC_ID_LEN], router[CC_ID_LEN], subnet[CC_ID_LEN];
	char id[CC_ID_LEN];
	struct learned_fwd was;
	int now, found;
	int64_t rev = 0;

	if (!learned_attrs_ok(l))
		return -2;
	if (learned_port(st, l->port, net, tenant, router, subnet) < 0)
		return 0; /* the port went away or stopped routing meanwhile: nothing to record */
	if (!learned_nexthop_ok(st, l->nexthop_port, subnet))
		return -2;
	found = learned_find(st, l->port, &l->dst, id, &was);
	if (!found)
		util_new_id("lrt-", id, sizeof(id));
	now = l->status == CC_LEARN_ACCEPTED && l->selected && l->nexthop_port[0];
	/* Only what changes forwarding is a revision: routerd re-reports freely. */
	if (now != was.installed || (now && (strcmp(was.nhport, l->nexthop_port) != 0 ||
	    was.override != l->override || strcmp(was.router, router) != 0))) {
		rev = store_bump(st);
		store_change(st, "lroute", id, now ? (was.installed ? "update" : "create") :
		    "delete", net);
	}
	learned_upsert(st, id, net, tenant, router, l, rev);
	return rev > 0;
}

/*
 * A port is being deleted: its learned routes go with it, and routes of other ports that
 * pointed at it lose their next hop. Agents hear of every installed one (a revision).
 */
void
learned_port_gone(struct store *st, const char *port)
{
	sqlite3_stmt *s = store_q(st, "SELECT id, network FROM learned_routes WHERE (port = ?1 "
	    "OR nexthop_port = ?1) AND status = 'accepted' AND selected = 1 AND nexthop_port IS "
	    "NOT NULL", "s", port);

	while (sqlite3_step(s) == SQLITE_ROW) {
		store_bump(st);
		store_change(st, "lroute", (const char *)sqlite3_column_text(s, 0), "delete",
		    (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	store_x(st, "UPDATE learned_routes SET nexthop_port = NULL, selected = 0 WHERE "
	    "nexthop_port = ? AND port != ?", "ss", port, port);
	store_x(st, "DELETE FROM learned_routes WHERE port = ?", "s", port);
}

int
learned_del(struct vd *vd, const struct cc_unlearn *u)
{
	struct store *st = vd->st;
	sqlite3_stmt *s;
	int changed = 0;

	s = u->all ? store_q(st, "SELECT id, network, status, selected, nexthop_port FROM "
	    "learned_routes WHERE port = ?", "s", u->port) : store_q(st, "SELECT id, network, "
	    "status, selected, nexthop_port FROM learned_routes WHERE port = ? AND addr = ? AND "
	    "len = ?", "sui", u->port, u->dst.addr, (int64_t)u->dst.len);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!learned_installed((const char *)sqlite3_column_text(s, 2),
		    sqlite3_column_int(s, 3), (const char *)sqlite3_column_text(s, 4)))
			continue;
		store_bump(st);
		store_change(st, "lroute", (const char *)sqlite3_column_text(s, 0), "delete",
		    (const char *)sqlite3_column_text(s, 1));
		changed = 1;
	}
	sqlite3_reset(s);
	if (u->all)
		store_x(st, "DELETE FROM learned_routes WHERE port = ?", "s", u->port);
	else
		store_x(st, "DELETE FROM learned_routes WHERE port = ? AND addr = ? AND len = ?",
		    "sui", u->port, u->dst.addr, (int64_t)u->dst.len);
	return changed;
}

static const char *const learned_states[] = {"idle", "connect", "active", "opensent",
    "openconfirm", "established"};

int
learned_session(struct vd *vd, const struct cc_bgpsess *b)
{
	struct store *st = vd->st;
	char net[CC_ID_LEN], tenant[CC_ID_LEN], router[CC_ID_LEN], subnet[CC_ID_LEN];

	/* Observed state: no revision. */
	if (learned_port(st, b->port, net, tenant, router, subnet) < 0)
		return 0;
	store_x(st, "INSERT INTO bgp_sessions (port, network, router, peer_ip, state, since, "
	    "peer_asn, peer_router_id, hold_time, received, accepted, rejected, last_error, "
	    "updated) VALUES (?1, ?2, ?3, (SELECT ip FROM ports WHERE id = ?1), ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (port) DO UPDATE SET network = ?2, "
	    "router = ?3, peer_ip = (SELECT ip FROM ports WHERE id = ?1), "
	    "state = ?4, since = ?5, peer_asn = ?6, peer_router_id = ?7, hold_time = ?8, "
	    "received = ?9, accepted = ?10, rejected = ?11, last_error = ?12, updated = ?13",
	    "ssssiuubuuusi", b->port, net, router, learned_states[b->state],
	    (int64_t)b->since_ms, b->peer_asn, b->peer_id, (int)b->hold, b->received,
	    b->accepted, b->rejected, b->last_error[0] ? b->last_error : NULL, learned_now_ms());
	return 0;
}
