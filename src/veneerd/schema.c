/*
 * The schema as a list of forward migrations. A store records the number of migrations
 * it has applied; opening it applies the rest, each in its own transaction. Never edit a
 * migration that has shipped: add one.
 */
#include "schema.h"

#include <stddef.h>

static const char *const schema_migrations[] = {
	/* 1: the foundation's resources. */
	("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL, revision INTEGER NOT NULL);"
	"CREATE TABLE tokens (id TEXT PRIMARY KEY,"
	"  tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  name TEXT, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);"
	"CREATE TABLE networks (id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL, vnid INTEGER NOT NULL UNIQUE, main_router TEXT NOT NULL,"
	"  created INTEGER NOT NULL, revision INTEGER NOT NULL, UNIQUE (tenant, name));"
	"CREATE TABLE network_cidrs (network TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,"
	"  addr INTEGER NOT NULL, len INTEGER NOT NULL, pos INTEGER NOT NULL,"
	"  PRIMARY KEY (network, addr, len));"
	"CREATE TABLE macs (network TEXT NOT NULL, mac TEXT NOT NULL, owner TEXT NOT NULL,"
	"  PRIMARY KEY (network, mac));"
	"CREATE TABLE routers (id TEXT PRIMARY KEY, network TEXT NOT NULL REFERENCES networks(id),"
	"  tenant TEXT NOT NULL, name TEXT NOT NULL, mac TEXT NOT NULL, asn INTEGER NOT NULL,"
	"  main INTEGER NOT NULL, created INTEGER NOT NULL, revision INTEGER NOT NULL,"
	"  UNIQUE (network, name));"
	"CREATE TABLE links (id TEXT PRIMARY KEY, network TEXT NOT NULL REFERENCES networks(id),"
	"  tenant TEXT NOT NULL, a TEXT NOT NULL REFERENCES routers(id),"
	"  b TEXT NOT NULL REFERENCES routers(id), lo TEXT NOT NULL, hi TEXT NOT NULL,"
	"  created INTEGER NOT NULL, revision INTEGER NOT NULL, UNIQUE (lo, hi));"
	"CREATE TABLE hosts (name TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE,"
	"  encap TEXT NOT NULL, prefix TEXT, state TEXT NOT NULL, last_seen INTEGER,"
	"  created INTEGER NOT NULL, revision INTEGER NOT NULL);"
	"CREATE TABLE subnets (id TEXT PRIMARY KEY, network TEXT NOT NULL REFERENCES networks(id),"
	"  tenant TEXT NOT NULL, name TEXT, addr INTEGER NOT NULL, len INTEGER NOT NULL,"
	"  router TEXT NOT NULL REFERENCES routers(id), created INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL, UNIQUE (network, name));"
	"CREATE TABLE ports (id TEXT PRIMARY KEY, network TEXT NOT NULL REFERENCES networks(id),"
	"  subnet TEXT NOT NULL REFERENCES subnets(id), tenant TEXT NOT NULL,"
	"  host TEXT REFERENCES hosts(name), name TEXT, mac TEXT NOT NULL, ip INTEGER NOT NULL,"
	"  claimable TEXT NOT NULL, sdc INTEGER NOT NULL, routing INTEGER NOT NULL,"
	"  device TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL, UNIQUE (subnet, name));"
	"CREATE UNIQUE INDEX ports_host_device ON ports (host, device) WHERE host IS NOT NULL;"
	"CREATE INDEX ports_host ON ports (host);"
	"CREATE TABLE port_addrs (subnet TEXT NOT NULL, addr INTEGER NOT NULL,"
	"  port TEXT NOT NULL REFERENCES ports(id) ON DELETE CASCADE, pos INTEGER NOT NULL,"
	"  PRIMARY KEY (subnet, addr));"
	"CREATE INDEX port_addrs_port ON port_addrs (port);"
	"CREATE TABLE routes (id TEXT PRIMARY KEY, network TEXT NOT NULL REFERENCES networks(id),"
	"  tenant TEXT NOT NULL, router TEXT NOT NULL REFERENCES routers(id),"
	"  addr INTEGER NOT NULL, len INTEGER NOT NULL, target TEXT NOT NULL,"
	"  target_type TEXT NOT NULL, created INTEGER NOT NULL, revision INTEGER NOT NULL,"
	"  UNIQUE (router, addr, len, target));"
	"CREATE INDEX routes_target ON routes (target);"
	"CREATE TABLE changes (revision INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,"
	"  op TEXT NOT NULL, network TEXT);"
	"CREATE INDEX changes_revision ON changes (revision);"
	"INSERT INTO meta (key, value) VALUES ('revision', 0), ('next_vnid', 1);"),
	/*
	 * 2: a random nonce per revision. Revision numbers alone cannot tell two histories
	 * apart (a store restored from a backup counts on from an older revision): an agent
	 * that holds a revision whose nonce the store does not know gets a snapshot.
	 */
	"ALTER TABLE changes ADD COLUMN nonce INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 3: a port's slot on its host: with embed6 the substrate addresses name the sending
	 * and receiving port by it (host prefix | slot | network id | IPv4).
	 */
	("ALTER TABLE ports ADD COLUMN slot INTEGER;"
	 "CREATE UNIQUE INDEX ports_host_slot ON ports (host, slot) WHERE host IS NOT NULL;"),
	/*
	 * 4: BGP on virtual routers. Configuration (a router's hold time, a network's import
	 * policy, a port's session settings, all normalized JSON; a port's TCP-MD5 password is
	 * kept in clear because veneer-routerd needs it), and what veneer-routerd reports back:
	 * the routes each session announced with the policy's verdict, and the sessions' state.
	 */
	("ALTER TABLE routers ADD COLUMN bgp_hold_time INTEGER NOT NULL DEFAULT 90;"
	 "ALTER TABLE networks ADD COLUMN import_policy TEXT NOT NULL DEFAULT '{}';"
	 "ALTER TABLE ports ADD COLUMN bgp TEXT NOT NULL DEFAULT '{}';"
	 "CREATE TABLE learned_routes (id TEXT PRIMARY KEY, network TEXT NOT NULL,"
	 "  tenant TEXT NOT NULL, router TEXT NOT NULL, port TEXT NOT NULL,"
	 "  addr INTEGER NOT NULL, len INTEGER NOT NULL, nexthop INTEGER NOT NULL,"
	 "  nexthop_port TEXT, status TEXT NOT NULL, reason TEXT, selected INTEGER NOT NULL,"
	 "  attrs TEXT NOT NULL, updated INTEGER NOT NULL, revision INTEGER NOT NULL,"
	 "  UNIQUE (port, addr, len));"
	 "CREATE INDEX learned_routes_router ON learned_routes (router);"
	 "CREATE INDEX learned_routes_network ON learned_routes (network);"
	 "CREATE TABLE bgp_sessions (port TEXT PRIMARY KEY, network TEXT NOT NULL,"
	 "  router TEXT NOT NULL, peer_ip INTEGER NOT NULL, state TEXT NOT NULL, since INTEGER,"
	 "  peer_asn INTEGER, peer_router_id INTEGER, hold_time INTEGER,"
	 "  received INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,"
	 "  rejected INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated INTEGER NOT NULL);"),
	/*
	 * 5: what registered a host: an agent, or veneer-routerd (a substrate endpoint too;
	 * agents send intercepted routing traffic to it); and whether a learned route replaces
	 * a connected subnet route (routerd's verdict under the import policy).
	 */
	("ALTER TABLE hosts ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';"
	 "ALTER TABLE learned_routes ADD COLUMN override INTEGER NOT NULL DEFAULT 0;"),
	/*
	 * 6: virtual IPs that move. Who holds each claimed address now (at most one port per
	 * address of a network), which ports announce it as a BGP host route (the next
	 * claimant when the holder withdraws: most recent first), and the history of every
	 * claim (applied, refused with a reason, released). History ids grow with time, so
	 * that a list by id is in the order the claims were made.
	 */
	("CREATE TABLE vip_owners (network TEXT NOT NULL, addr INTEGER NOT NULL,"
	 "  port TEXT NOT NULL, how TEXT NOT NULL, since INTEGER NOT NULL,"
	 "  revision INTEGER NOT NULL, PRIMARY KEY (network, addr));"
	 "CREATE INDEX vip_owners_port ON vip_owners (port);"
	 "CREATE TABLE vip_bgp (network TEXT NOT NULL, addr INTEGER NOT NULL,"
	 "  port TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (network, addr, port));"
	 "CREATE INDEX vip_bgp_port ON vip_bgp (port);"
	 "CREATE TABLE claims (id TEXT PRIMARY KEY, network TEXT NOT NULL, tenant TEXT NOT NULL,"
	 "  addr INTEGER NOT NULL, port TEXT NOT NULL, how TEXT NOT NULL, result TEXT NOT NULL,"
	 "  reason TEXT, at INTEGER NOT NULL, revision INTEGER);"
	 "CREATE INDEX claims_network_at ON claims (network, at);"
	 "CREATE INDEX claims_port ON claims (port);"),
};

const char *
schema_migration(int i)
{
	if (i < 0 || i >= (int)(sizeof(schema_migrations) / sizeof(schema_migrations[0])))
		return NULL;
	return schema_migrations[i];
}

int
schema_latest(void)
{
	return (int)(sizeof(schema_migrations) / sizeof(schema_migrations[0]));
}
