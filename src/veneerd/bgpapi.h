/*
 * BGP on virtual routers, as the API shows it: the import policy of a network (and of a
 * port), a port's session settings, and the read-only views of what veneer-routerd reports
 * (sessions, learned routes).
 */
#ifndef VENEER_BGPAPI_H
#define VENEER_BGPAPI_H

#include <jansson.h>

#include "api.h"

/* bgpapi.c */
/* Removes member key from obj and returns it (a new reference), or NULL when absent. */
json_t *bgpapi_take(json_t *obj, const char *key);
/*
 * Validates an import policy given as body field `field` (null or absent: the defaults)
 * and returns it normalized with every default filled in (*out, a new reference); -1 with
 * a 4xx in resp naming the nested field ("import_policy.allow[2].le").
 */
int bgpapi_policy_check(struct api_resp *resp, const json_t *in, const char *field,
    json_t **out);
/* A stored import policy ('{}' included) as the API shows it: normalized. */
json_t *bgpapi_policy_json(const char *stored);
/*
 * Validates a port's `bgp` member (null: cleared) into the text stored in ports.bgp
 * (malloc'ed, compact JSON holding the given keys; the password in clear); -1 with resp.
 */
int bgpapi_port_check(struct api_resp *resp, const json_t *in, char **stored);
/* A stored ports.bgp as the API shows it: the password replaced by password_set. */
json_t *bgpapi_port_json(const char *stored);

/* GET /v1/routers/{id}/bgp */
int bgpapi_router_get(struct api_req *req, struct api_resp *resp);
/* GET /v1/routers/{id}/bgp/routes */
int bgpapi_routes(struct api_req *req, struct api_resp *resp);

#endif
