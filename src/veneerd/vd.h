/* veneerd's process-wide state and the prototypes of its modules, grouped by file. */
#ifndef VENEER_VD_H
#define VENEER_VD_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

struct ev_loop;
struct http;
struct ccsrv;
struct sockaddr_storage;

#define VD_DEFAULT_LISTEN "127.0.0.1:8600"
#define VD_DEFAULT_AGENT_LISTEN "127.0.0.1:8601"
#define VD_DEFAULT_MAX_BODY 65536
#define VD_METHODS 5 /* GET POST PATCH DELETE other */

/*
 * Quotas: they bound what one tenant can make veneerd hold and compute (the effective
 * table of a router is computed per request from its network's whole topology).
 */
#define VD_MAX_TOKENS 100      /* per tenant */
#define VD_MAX_NETWORKS 1000   /* per tenant */
#define VD_MAX_ROUTERS 256     /* per network */
#define VD_MAX_LINKS 1024      /* per network */
#define VD_MAX_SUBNETS 1024    /* per network */
#define VD_MAX_ROUTES 4096     /* static routes per network */

struct vd_config {
	const char *listen;
	const char *store_path;
	const char *agent_listen;
	const char *agent_token; /* NULL: no control channel */
	const char *routerd_token; /* NULL: no routing manager may register */
	uint8_t admin_hash[32];
	double rate;  /* requests per second per tenant token; 0 = unlimited */
	double burst;
	size_t max_body;
};

struct vd_metrics {
	uint64_t requests[VD_METHODS][600];
	uint64_t rate_limited;
};

struct vd {
	struct ev_loop *loop;
	struct store *st;
	struct http *http;
	struct ccsrv *cc;
	struct vd_config cfg;
	struct vd_metrics metrics;
	struct auth_buckets *buckets;
};

/* http.c: libmicrohttpd driven by the event loop. */
struct http *http_start(struct vd *vd, const char *listen, char *err, size_t errsz);
void http_stop(struct http *h);

/* auth.c */
void auth_hash(const char *token, uint8_t out[32]);
/* Fills req->is_admin/tenant from the Authorization header; -1 with a 401 in resp. */
int auth_identify(struct vd *vd, const char *header, struct api_req *req,
    struct api_resp *resp);
/* 0 if the request may go ahead, else the seconds to wait (and counts it). */
int auth_rate_check(struct vd *vd, const struct api_req *req);
void auth_free(struct vd *vd);

/* metrics.c */
int metrics_get(struct api_req *req, struct api_resp *resp);

/* tenant.c */
int tenant_list(struct api_req *req, struct api_resp *resp);
int tenant_get(struct api_req *req, struct api_resp *resp);
int tenant_create(struct api_req *req, struct api_resp *resp);
int tenant_patch(struct api_req *req, struct api_resp *resp);
int tenant_delete(struct api_req *req, struct api_resp *resp);
/* 1 if tenant id exists and the caller may see it (the admin, or that tenant itself). */
int tenant_visible(struct api_req *req, const char *id);

/* token.c */
int token_list(struct api_req *req, struct api_resp *resp);
int token_create(struct api_req *req, struct api_resp *resp);
int token_delete(struct api_req *req, struct api_resp *resp);

/* network.c */
struct pfx4;
extern const struct api_kind network_kind;
json_t *network_cidrs_json(struct store *st, const char *id);
/* Fills out with the network's CIDRs in order; returns how many. */
int network_cidrs(struct store *st, const char *id, struct pfx4 *out, int max);
int network_list(struct api_req *req, struct api_resp *resp);
int network_get(struct api_req *req, struct api_resp *resp);
int network_create(struct api_req *req, struct api_resp *resp);
int network_patch(struct api_req *req, struct api_resp *resp);
int network_delete(struct api_req *req, struct api_resp *resp);

/* router.c */
extern const struct api_kind router_kind;
int router_list(struct api_req *req, struct api_resp *resp);
int router_get(struct api_req *req, struct api_resp *resp);
int router_create(struct api_req *req, struct api_resp *resp);
int router_patch(struct api_req *req, struct api_resp *resp);
int router_delete(struct api_req *req, struct api_resp *resp);
/* Inserts router id (also a network's main router); 0, or -1 with resp filled. */
int router_insert(struct api_req *req, struct api_resp *resp, const char *id,
    const char *network, const char *tenant, const char *name, const char *mac, int64_t asn,
    int main);
/* Reserves mac in the network, or generates one when mac is NULL; -1 with resp on clash. */
int router_take_mac(struct api_req *req, struct api_resp *resp, const char *network,
    const char *mac, const char *owner, char out[18]);

/* link.c */
int link_list(struct api_req *req, struct api_resp *resp);
int link_get(struct api_req *req, struct api_resp *resp);
int link_create(struct api_req *req, struct api_resp *resp);
int link_delete(struct api_req *req, struct api_resp *resp);

/* subnet.c */
extern const struct api_kind subnet_kind;
int subnet_list(struct api_req *req, struct api_resp *resp);
int subnet_get(struct api_req *req, struct api_resp *resp);
int subnet_create(struct api_req *req, struct api_resp *resp);
int subnet_patch(struct api_req *req, struct api_resp *resp);
int subnet_delete(struct api_req *req, struct api_resp *resp);

/* port.c */
int port_list(struct api_req *req, struct api_resp *resp);
int port_get(struct api_req *req, struct api_resp *resp);
int port_create(struct api_req *req, struct api_resp *resp);
int port_patch(struct api_req *req, struct api_resp *resp);
int port_delete(struct api_req *req, struct api_resp *resp);

/* host.c */
int host_list(struct api_req *req, struct api_resp *resp);
int host_get(struct api_req *req, struct api_resp *resp);
int host_create(struct api_req *req, struct api_resp *resp);
int host_patch(struct api_req *req, struct api_resp *resp);
int host_delete(struct api_req *req, struct api_resp *resp);

/* route.c */
int route_list(struct api_req *req, struct api_resp *resp);
int route_get(struct api_req *req, struct api_resp *resp);
int route_create(struct api_req *req, struct api_resp *resp);
int route_delete(struct api_req *req, struct api_resp *resp);
int route_effective(struct api_req *req, struct api_resp *resp);

#endif
