/*
 * ctl_res.c: the resource table.  One row per resource and verb says which
 * method and path the verb uses, which options it takes and the JSON field
 * (or query parameter, or path slot) each one becomes, and how the answer is
 * printed.  Adding a field to the API means adding one line here; the help
 * text is generated from the same rows, so it cannot drift from the code.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* Option row helpers: flag, field, type, flags, metavar, help. */
#define OSTR(f, fld, fl, mv, h)	{ f, fld, CTL_T_STR, fl, mv, h }
#define OINT(f, fld, fl, mv, h)	{ f, fld, CTL_T_INT, fl, mv, h }
#define OBOOL(f, fld, h)	{ f, fld, CTL_T_BOOL, 0, "on|off", h }
#define ONULL(f, fld, h)	{ f, fld, CTL_T_NULL, 0, NULL, h }
#define OEMPTY(f, fld, h)	{ f, fld, CTL_T_EMPTY, 0, NULL, h }
#define OJSON(f, fld, fl, h)	{ f, fld, CTL_T_JSON, fl, "FILE|JSON", h }
#define OBOOLF(f, fld, fl, h)	{ f, fld, CTL_T_BOOL, fl, "on|off", h }
#define OEND			{ .flag = NULL }
#define CEND			{ .header = NULL }
#define VEND			{ .name = NULL }

/* Verbs that look the same for every resource. */
#define VSHOW(p)	{ .name = "show", .method = CTL_GET, .shape = CTL_S_SHOW, \
			  .pos = p, .help = "show every field of one object" }
#define VDELETE(p)	{ .name = "delete", .method = CTL_DELETE, .shape = CTL_S_NONE, \
			  .pos = p, .help = "delete one object; prints nothing" }
#define VCREATE(o, h)	{ .name = "create", .method = CTL_POST, .shape = CTL_S_ROW, \
			  .opts = o, .help = h }
#define VLIST(o, h)	{ .name = "list", .method = CTL_GET, .shape = CTL_S_LIST, \
			  .opts = o, .help = h }
#define VUPDATE(p, o, h) { .name = "update", .method = CTL_PATCH, .shape = CTL_S_ROW, \
			  .pos = p, .opts = o, .flags = CTL_V_NEEDONE, .help = h }

/* Tenants */
static const struct ctl_opt tenant_create[] = {
	OSTR("name", "name", CTL_O_REQ, "NAME", "tenant name, unique"),
	OEND
};
static const struct ctl_opt tenant_list[] = {
	OSTR("name", "name", 0, "NAME", "only the tenant of this name"),
	OEND
};
static const struct ctl_opt tenant_update[] = {
	OSTR("name", "name", CTL_O_REQ, "NAME", "new name"),
	OEND
};
static const struct ctl_col tenant_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "CREATED", "created" }, CEND
};
static const struct ctl_verb tenant_verbs[] = {
	VCREATE(tenant_create, "create a tenant (admin)"),
	VLIST(tenant_list, "list tenants (a tenant token sees only its own)"),
	VSHOW("ID"),
	VUPDATE("ID", tenant_update, "rename a tenant (admin)"),
	VDELETE("ID"),
	VEND
};

/* Tokens: nested under their tenant, hence the {tenant} path slot. */
static const struct ctl_opt token_create[] = {
	OSTR("tenant", "tenant", CTL_O_REQ | CTL_O_PATH, "TENANT", "tenant id"),
	OSTR("name", "name", 0, "NAME", "a label for the token"),
	OEND
};
static const struct ctl_opt token_tenant[] = {
	OSTR("tenant", "tenant", CTL_O_REQ | CTL_O_PATH, "TENANT", "tenant id"),
	OEND
};
static const struct ctl_col token_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "TENANT", "tenant" },
	{ "CREATED", "created" }, CEND
};
static const struct ctl_verb token_verbs[] = {
	{ .name = "create", .method = CTL_POST, .shape = CTL_S_ROW,
	  .opts = token_create, .secret = "token",
	  .help = "create a tenant token; the secret is shown only this once "
	  "(-o id prints just the secret)" },
	VLIST(token_tenant, "list a tenant's tokens (never their secrets)"),
	{ .name = "delete", .method = CTL_DELETE, .shape = CTL_S_NONE,
	  .pos = "TOKID", .opts = token_tenant,
	  .help = "revoke a token at once; prints nothing" },
	VEND
};

/* Networks */
static const struct ctl_opt network_create[] = {
	OSTR("name", "name", CTL_O_REQ, "NAME", "network name"),
	OSTR("cidr", "cidr", CTL_O_REQ | CTL_O_MULTI, "CIDR",
	    "IPv4 CIDR; repeat for several (one is sent as a string)"),
	OSTR("tenant", "tenant", 0, "TENANT", "owning tenant (admin only)"),
	OJSON("import-policy", "import_policy", 0,
	    "BGP import policy: a JSON object, or a file holding one"),
	OBOOL("allow-subnet-override", "import_policy.allow_subnet_override",
	    "learned routes may replace a subnet's own route (default off)"),
	OEND
};
static const struct ctl_opt network_list[] = {
	OSTR("name", "name", 0, "NAME", "filter by name"),
	OSTR("tenant", "tenant", 0, "TENANT", "filter by tenant"),
	OEND
};
static const struct ctl_opt network_update[] = {
	OSTR("name", "name", 0, "NAME", "new name"),
	OSTR("cidr", "cidr", CTL_O_LIST, "CIDR",
	    "replaces the whole CIDR list; repeat for several"),
	OJSON("import-policy", "import_policy", 0,
	    "replaces the whole BGP import policy (JSON object or file)"),
	OBOOLF("allow-subnet-override", "import_policy.allow_subnet_override", CTL_O_MERGE,
	    "changes only this member of the import policy"),
	OEND
};
static const struct ctl_col network_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "CIDR", "cidr" }, { "VNID", "vnid" },
	{ "TENANT", "tenant" }, CEND
};
static const struct ctl_verb network_verbs[] = {
	VCREATE(network_create, "create a network and its main router"),
	VLIST(network_list, "list networks"),
	VSHOW("ID"),
	VUPDATE("ID", network_update, "rename a network or replace its CIDRs"),
	VDELETE("ID"),
	VEND
};

/* Routers */
static const struct ctl_opt router_create[] = {
	OSTR("network", "network", CTL_O_REQ, "NET", "network id"),
	OSTR("name", "name", CTL_O_REQ, "NAME", "router name, unique in the network"),
	OINT("asn", "asn", 0, "ASN", "AS number (default 64512)"),
	OSTR("mac", "mac", 0, "MAC", "MAC address (generated when absent)"),
	OINT("bgp-hold-time", "bgp_hold_time", 0, "SECONDS",
	    "BGP hold time: 0 or 3 to 65535 (default 90)"),
	OEND
};
static const struct ctl_opt router_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("name", "name", 0, "NAME", "filter by name"),
	OEND
};
static const struct ctl_opt router_update[] = {
	OSTR("name", "name", 0, "NAME", "new name"),
	OINT("asn", "asn", 0, "ASN", "new AS number"),
	OINT("bgp-hold-time", "bgp_hold_time", 0, "SECONDS",
	    "BGP hold time: 0 or 3 to 65535"),
	OEND
};
static const struct ctl_opt bgp_routes_opts[] = {
	OSTR("status", "status", 0, "accepted|rejected", "only routes with this verdict"),
	OSTR("port", "port", 0, "PORT", "only routes announced by this port"),
	OSTR("prefix", "prefix", 0, "CIDR", "only this prefix"),
	OEND
};
static const struct ctl_col bgp_cols[] = {
	{ "PORT", "port" }, { "PEER_IP", "peer_ip" }, { "PEER_ASN", "peer_asn" },
	{ "STATE", "state" }, { "UPTIME", "uptime_s" }, { "RECEIVED", "prefixes.received" },
	{ "ACCEPTED", "prefixes.accepted" }, { "REJECTED", "prefixes.rejected" },
	{ "LAST_ERROR", "last_error" }, CEND
};
static const struct ctl_col lroute_cols[] = {
	{ "PREFIX", "prefix" }, { "PORT", "port" }, { "NEXTHOP", "nexthop" },
	{ "STATUS", "status" }, { "SELECTED", "selected" }, { "AS_PATH", "as_path" },
	{ "REASON", "reason" }, CEND
};
static const struct ctl_col router_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "NETWORK", "network" }, { "ASN", "asn" },
	{ "MAC", "mac" }, { "MAIN", "main" }, CEND
};
static const struct ctl_col rtable_cols[] = {
	{ "DESTINATION", "destination" }, { "ORIGIN", "origin" }, { "TARGET", "target" },
	{ "DISTANCE", "distance" }, { "METRIC", "metric" }, { "SELECTED", "selected" },
	CEND
};
static const struct ctl_verb router_verbs[] = {
	VCREATE(router_create, "create a router in a network"),
	VLIST(router_list, "list routers"),
	VSHOW("ID"),
	VUPDATE("ID", router_update, "rename a router or change its AS number"),
	VDELETE("ID"),
	{ .name = "routes", .method = CTL_GET, .shape = CTL_S_LIST, .pos = "ID",
	  .suffix = "/routes", .cols = rtable_cols, .idfield = "destination",
	  .help = "show the router's effective routing table "
	  "(-o id prints destinations)" },
	{ .name = "bgp", .method = CTL_GET, .shape = CTL_S_SUB, .pos = "ID",
	  .suffix = "/bgp", .cols = bgp_cols, .idfield = "port", .items = "sessions",
	  .help = "show the router's BGP sessions, one per routing port "
	  "(-o id prints the ports; -o json the whole answer)" },
	{ .name = "bgp-routes", .method = CTL_GET, .shape = CTL_S_LIST, .pos = "ID",
	  .suffix = "/bgp/routes", .opts = bgp_routes_opts, .cols = lroute_cols,
	  .help = "show the routes the router's BGP peers announced, accepted or "
	  "rejected by the import policy" },
	VEND
};

/* Router links */
static const struct ctl_opt link_create[] = {
	OSTR("a", "a", CTL_O_REQ, "RTR", "router at one end"),
	OSTR("b", "b", CTL_O_REQ, "RTR", "router at the other end"),
	OEND
};
static const struct ctl_opt link_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("router", "router", 0, "RTR", "filter by router (either end)"),
	OEND
};
static const struct ctl_col link_cols[] = {
	{ "ID", "id" }, { "NETWORK", "network" }, { "A", "a" }, { "B", "b" }, CEND
};
static const struct ctl_verb link_verbs[] = {
	VCREATE(link_create, "link two routers of one network"),
	VLIST(link_list, "list router links"),
	VSHOW("ID"),
	VDELETE("ID"),
	VEND
};

/* Subnets */
static const struct ctl_opt subnet_create[] = {
	OSTR("network", "network", CTL_O_REQ, "NET", "network id"),
	OSTR("cidr", "cidr", CTL_O_REQ, "CIDR", "IPv4 CIDR inside the network"),
	OSTR("router", "router", 0, "RTR", "router owning the gateway (default main)"),
	OSTR("name", "name", 0, "NAME", "subnet name"),
	OEND
};
static const struct ctl_opt subnet_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("router", "router", 0, "RTR", "filter by router"),
	OSTR("name", "name", 0, "NAME", "filter by name"),
	OEND
};
static const struct ctl_opt subnet_update[] = {
	OSTR("name", "name", 0, "NAME", "new name"),
	OSTR("router", "router", 0, "RTR", "move the gateway to this router"),
	OEND
};
static const struct ctl_col subnet_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "NETWORK", "network" }, { "CIDR", "cidr" },
	{ "ROUTER", "router" }, { "GATEWAY", "gateway_ip" }, CEND
};
static const struct ctl_verb subnet_verbs[] = {
	VCREATE(subnet_create, "create a subnet"),
	VLIST(subnet_list, "list subnets"),
	VSHOW("ID"),
	VUPDATE("ID", subnet_update, "rename a subnet or change its router"),
	VDELETE("ID"),
	VEND
};

/* Ports */
static const struct ctl_opt port_create[] = {
	OSTR("subnet", "subnet", CTL_O_REQ, "SUB", "subnet id"),
	OSTR("host", "host", 0, "HOST", "bind to this host (name)"),
	OSTR("name", "name", 0, "NAME", "port name"),
	OSTR("mac", "mac", 0, "MAC", "MAC address (generated when absent)"),
	OSTR("ip", "ip", 0, "IP", "address (lowest free when absent)"),
	OSTR("extra-ip", "extra_ips", CTL_O_LIST, "IP", "another address; repeatable"),
	OSTR("claimable", "claimable", CTL_O_LIST, "CIDR",
	    "a virtual IP range the port may claim; repeatable"),
	OBOOL("source-dest-check", "source_dest_check", "address checks (default on)"),
	OBOOL("routing", "routing", "routing protocols to the router (default off)"),
	OINT("bgp-peer-asn", "bgp.peer_asn", 0, "ASN",
	    "the BGP peer's AS (default: the one its OPEN gives)"),
	OSTR("bgp-password", "bgp.password", 0, "KEY", "TCP-MD5 key, 1 to 80 printable ASCII"),
	OINT("bgp-max-prefix", "bgp.max_prefix", 0, "N",
	    "most routes taken from the peer (default: the import policy's)"),
	OINT("bgp-max-prefix-warning", "bgp.max_prefix_warning", 0, "PERCENT",
	    "warn at this percentage of the maximum"),
	OBOOL("bgp-ttl-security", "bgp.ttl_security",
	    "require TTL 255 from the peer (GTSM, RFC 5082; default off)"),
	OJSON("bgp-import-policy", "bgp.import_policy", 0,
	    "an import policy for this port instead of the network's"),
	OSTR("device", "device", 0, "DEV", "TAP device name on the host"),
	OEND
};
static const struct ctl_opt port_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("subnet", "subnet", 0, "SUB", "filter by subnet"),
	OSTR("host", "host", 0, "HOST", "filter by host"),
	OSTR("name", "name", 0, "NAME", "filter by name"),
	OSTR("ip", "ip", 0, "IP", "filter by address"),
	OEND
};
static const struct ctl_opt port_update[] = {
	OSTR("name", "name", 0, "NAME", "new name"),
	OSTR("host", "host", 0, "HOST", "bind to this host"),
	ONULL("no-host", "host", "unbind from its host"),
	OSTR("extra-ip", "extra_ips", CTL_O_LIST, "IP",
	    "replaces the extra addresses; repeatable"),
	OEMPTY("no-extra-ips", "extra_ips", "remove every extra address"),
	OSTR("claimable", "claimable", CTL_O_LIST, "CIDR",
	    "replaces the claimable ranges; repeatable"),
	OEMPTY("no-claimable", "claimable", "remove every claimable range"),
	OBOOL("source-dest-check", "source_dest_check", "address checks"),
	OBOOL("routing", "routing", "routing protocols to the router"),
	OSTR("device", "device", 0, "DEV", "TAP device name"),
	OINT("bgp-peer-asn", "bgp.peer_asn", 0, "ASN",
	    "the BGP peer's AS; the --bgp-* options replace all BGP settings"),
	OSTR("bgp-password", "bgp.password", 0, "KEY", "TCP-MD5 key, 1 to 80 printable ASCII"),
	OINT("bgp-max-prefix", "bgp.max_prefix", 0, "N",
	    "most routes taken from the peer (default: the import policy's)"),
	OINT("bgp-max-prefix-warning", "bgp.max_prefix_warning", 0, "PERCENT",
	    "warn at this percentage of the maximum"),
	OBOOL("bgp-ttl-security", "bgp.ttl_security",
	    "require TTL 255 from the peer (GTSM, RFC 5082; default off)"),
	OJSON("bgp-import-policy", "bgp.import_policy", 0,
	    "an import policy for this port instead of the network's"),
	ONULL("bgp-clear", "bgp", "remove every BGP setting"),
	OEND
};
static const struct ctl_col port_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "SUBNET", "subnet" }, { "HOST", "host" },
	{ "IP", "ip" }, { "MAC", "mac" }, { "DEVICE", "device" }, { "STATE", "state" },
	CEND
};
static const struct ctl_col port_claim_cols[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "IP", "ip" }, { "VIPS", "vips" },
	{ "HOST", "host" }, CEND
};
static const struct ctl_verb port_verbs[] = {
	VCREATE(port_create, "create a port (a VM's virtual NIC)"),
	VLIST(port_list, "list ports"),
	VSHOW("ID"),
	VUPDATE("ID", port_update, "change a port"),
	VDELETE("ID"),
	{ .name = "claim", .method = CTL_POST, .shape = CTL_S_ROW, .pos = "ID",
	  .pos2 = "IP", .pos2field = "ip", .suffix = "/claim", .cols = port_claim_cols,
	  .help = "make the port hold virtual IP IP, taking it from its holder" },
	VEND
};

/* Hosts: admin only, identified by name. */
static const struct ctl_opt host_create[] = {
	OSTR("name", "name", CTL_O_REQ, "NAME", "host name"),
	OSTR("address", "address", CTL_O_REQ, "ADDR", "substrate IPv4 or IPv6 address"),
	OSTR("encap", "encap", 0, "vxlan|embed6", "substrate encoding (default vxlan)"),
	OSTR("prefix", "prefix", 0, "PREFIX", "IPv6 host prefix (embed6 only)"),
	OEND
};
static const struct ctl_opt host_list[] = {
	OSTR("encap", "encap", 0, "vxlan|embed6", "filter by encoding"),
	OEND
};
static const struct ctl_opt host_update[] = {
	OSTR("address", "address", 0, "ADDR", "new substrate address"),
	OSTR("encap", "encap", 0, "vxlan|embed6", "new encoding"),
	OSTR("prefix", "prefix", 0, "PREFIX", "new IPv6 host prefix"),
	ONULL("no-prefix", "prefix", "remove the prefix (when leaving embed6)"),
	OEND
};
static const struct ctl_col host_cols[] = {
	{ "NAME", "name" }, { "ADDRESS", "address" }, { "ENCAP", "encap" },
	{ "PREFIX", "prefix" }, { "STATE", "state" }, { "LAST_SEEN", "last_seen" }, CEND
};
static const struct ctl_verb host_verbs[] = {
	VCREATE(host_create, "register a host (admin)"),
	VLIST(host_list, "list hosts (admin)"),
	VSHOW("NAME"),
	VUPDATE("NAME", host_update, "change a host (admin)"),
	VDELETE("NAME"),
	VEND
};

/* Static routes */
static const struct ctl_opt route_create[] = {
	OSTR("router", "router", CTL_O_REQ, "RTR", "router id"),
	OSTR("destination", "destination", CTL_O_REQ, "CIDR", "IPv4 destination"),
	OSTR("target", "target", CTL_O_REQ, "TARGET",
	    "a port id, a linked router id, or blackhole"),
	OEND
};
static const struct ctl_opt route_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("router", "router", 0, "RTR", "filter by router"),
	OEND
};
static const struct ctl_col route_cols[] = {
	{ "ID", "id" }, { "ROUTER", "router" }, { "DESTINATION", "destination" },
	{ "TARGET", "target" }, { "TYPE", "target_type" }, CEND
};
static const struct ctl_verb route_verbs[] = {
	VCREATE(route_create, "add a static route"),
	VLIST(route_list, "list static routes"),
	VSHOW("ID"),
	VDELETE("ID"),
	VEND
};

/* Virtual IP claims: the history (claims are made with "port claim"). */
static const struct ctl_opt claim_list[] = {
	OSTR("network", "network", 0, "NET", "filter by network"),
	OSTR("port", "port", 0, "PORT", "filter by claiming port"),
	OSTR("ip", "ip", 0, "IP", "filter by address"),
	OSTR("result", "result", 0, "applied|refused|released", "filter by result"),
	OSTR("how", "how", 0, "garp|bgp|api", "filter by how the claim was made"),
	OEND
};
static const struct ctl_col claim_cols[] = {
	{ "ID", "id" }, { "AT", "at" }, { "IP", "ip" }, { "PORT", "port" }, { "HOW", "how" },
	{ "RESULT", "result" }, { "REVISION", "revision" }, { "REASON", "reason" }, CEND
};
static const struct ctl_verb claim_verbs[] = {
	VLIST(claim_list, "list claims, oldest first: applied, refused, released"),
	VEND
};

/* Health: no verb needed, no token sent. */
static const struct ctl_verb health_verbs[] = {
	{ .name = "show", .method = CTL_GET, .shape = CTL_S_SHOW, .flags = CTL_V_NOAUTH,
	  .help = "check that veneerd answers (no token needed; -o id prints the status)" },
	VEND
};

static const struct ctl_res resources[] = {
	{ "tenant", "/v1/tenants", "id", tenant_cols, tenant_verbs, NULL,
	  "tenants own networks; the admin creates them" },
	{ "token", "/v1/tenants/{tenant}/tokens", "id", token_cols, token_verbs, NULL,
	  "bearer tokens of a tenant" },
	{ "network", "/v1/networks", "id", network_cols, network_verbs, NULL,
	  "virtual networks" },
	{ "router", "/v1/routers", "id", router_cols, router_verbs, NULL,
	  "virtual routers of a network" },
	{ "link", "/v1/links", "id", link_cols, link_verbs, NULL,
	  "links between two routers of a network" },
	{ "subnet", "/v1/subnets", "id", subnet_cols, subnet_verbs, NULL,
	  "subnets of a network, each attached to a router" },
	{ "port", "/v1/ports", "id", port_cols, port_verbs, NULL,
	  "ports: virtual NICs in a subnet, bound to a host" },
	{ "host", "/v1/hosts", "name", host_cols, host_verbs, NULL,
	  "hosts running veneer-agent (admin only)" },
	{ "route", "/v1/routes", "id", route_cols, route_verbs, NULL,
	  "static routes of a router" },
	{ "claim", "/v1/claims", "id", claim_cols, claim_verbs, NULL,
	  "the history of virtual IP claims (make one with 'port claim')" },
	{ "health", "/v1/health", "status", NULL, health_verbs, "show",
	  "whether veneerd is up" },
	{ .name = NULL }
};

const struct ctl_res *
ctl_res_all(void)
{
	return resources;
}

const struct ctl_res *
ctl_res_find(const char *name)
{
	const struct ctl_res	*r;

	for (r = resources; r->name != NULL; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

const struct ctl_verb *
ctl_res_verb(const struct ctl_res *r, const char *name)
{
	const struct ctl_verb	*v;

	for (v = r->verbs; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Prints words wrapped at 79 columns, continuation lines indented. */
static void
res_word(FILE *f, int *col, const char *word)
{
	int	 len = (int)strlen(word);

	if (*col + 1 + len > 79) {
		fputs("\n       ", f);
		*col = 7;
	}
	fprintf(f, " %s", word);
	*col += 1 + len;
}

static void
res_opt_word(FILE *f, int *col, const struct ctl_opt *o)
{
	char	 word[128];
	int	 req = (o->flags & CTL_O_REQ) != 0;
	int	 rep = (o->flags & (CTL_O_MULTI | CTL_O_LIST)) != 0;

	if (o->metavar == NULL)
		snprintf(word, sizeof(word), "[--%s]", o->flag);
	else if (req && rep)
		snprintf(word, sizeof(word), "--%s %s [--%s %s ...]", o->flag,
		    o->metavar, o->flag, o->metavar);
	else if (req)
		snprintf(word, sizeof(word), "--%s %s", o->flag, o->metavar);
	else
		snprintf(word, sizeof(word), "[--%s %s%s]", o->flag, o->metavar,
		    rep ? " ..." : "");
	res_word(f, col, word);
}

/* One usage line: "veneerctl RES VERB [POS] OPTIONS". */
void
ctl_res_synopsis(FILE *f, const struct ctl_res *r, const struct ctl_verb *v)
{
	const struct ctl_opt	*o;
	int			 col = 0;

	fprintf(f, "  veneerctl %s", r->name);
	col = 12 + (int)strlen(r->name);
	if (r->defverb == NULL || strcmp(r->defverb, v->name) != 0)
		res_word(f, &col, v->name);
	if (v->pos != NULL)
		res_word(f, &col, v->pos);
	if (v->pos2 != NULL)
		res_word(f, &col, v->pos2);
	for (o = v->opts; o != NULL && o->flag != NULL; o++)
		res_opt_word(f, &col, o);
	fputc('\n', f);
}

void
ctl_res_help(FILE *f, const struct ctl_res *r)
{
	const struct ctl_verb	*v;

	fprintf(f, "veneerctl %s: %s\n\nUsage:\n", r->name, r->help);
	for (v = r->verbs; v->name != NULL; v++) {
		ctl_res_synopsis(f, r, v);
		fprintf(f, "      %s\n", v->help);
	}
	fputs("\nGlobal options (--url, --token, -o table|json|id, --timeout) may\n"
	    "come before RESOURCE or after VERB; see 'veneerctl --help'.\n", f);
	if (r->defverb == NULL)
		fprintf(f, "'veneerctl %s VERB --help' describes a verb's options.\n",
		    r->name);
}

void
ctl_res_verb_help(FILE *f, const struct ctl_res *r, const struct ctl_verb *v)
{
	const struct ctl_opt	*o;
	char			 left[64];

	fputs("Usage:\n", f);
	ctl_res_synopsis(f, r, v);
	fprintf(f, "\n  %s\n", v->help);
	if (v->opts == NULL || v->opts[0].flag == NULL)
		return;
	fputs("\nOptions:\n", f);
	for (o = v->opts; o->flag != NULL; o++) {
		snprintf(left, sizeof(left), "--%s%s%s", o->flag,
		    o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-28s %s%s\n", left, o->help,
		    (o->flags & CTL_O_REQ) ? " (required)" : "");
	}
}
