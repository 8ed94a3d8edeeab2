/*
 * Import policy (RFC 8212: nothing is accepted without one; Veneer's default for a routing
 * port is its network's). Prefix rules match like an FRR prefix-list entry or BIRD's
 * prefix{ge,le}; a route that would take over part of a subnet is refused unless the
 * policy says an appliance may do that.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "rd.h"

void
rd_policy_default(struct rd_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->allow[0].p.addr = 0;
	p->allow[0].p.len = 0;
	p->allow[0].ge = 0;
	p->allow[0].le = 32;
	p->nallow = 1;
	p->max_prefix = 100;
	p->warn_pct = 75;
	p->rate = 50;
	p->burst = 200;
}

static int
rd_policy_rules(json_t *list, struct rd_rule *out, int *n)
{
	size_t i;
	json_t *e;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return -1;
	*n = 0;
	json_array_foreach(list, i, e) {
		struct rd_rule *r = &out[*n];
		json_t *ge = json_object_get(e, "ge"), *le = json_object_get(e, "le");

		if (*n == RD_MAX_RULES || pfx4_parse(json_string_value(json_object_get(e, "prefix")),
		    &r->p, 0, 32) != ADDR_OK)
			return -1;
		json_int_t g = json_is_integer(ge) ? json_integer_value(ge) : r->p.len;
		json_int_t l = json_is_integer(le) ? json_integer_value(le) : g > r->p.len ? 32 :
		    r->p.len;

		if (g < r->p.len || l < g || l > 32)
			return -1;
		r->ge = (uint8_t)g;
		r->le = (uint8_t)l;
		(*n)++;
	}
	return 0;
}

static void
rd_policy_num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_number(v))
		*out = json_number_value(v);
}

/* Parses into p; on failure p is left as it was. */
static int
rd_policy_read(json_t *o, struct rd_policy *p)
{
	double maxp = p->max_prefix, warn = p->warn_pct;

	if (!json_is_object(o) ||
	    rd_policy_rules(json_object_get(o, "allow"), p->allow, &p->nallow) < 0 ||
	    rd_policy_rules(json_object_get(o, "deny"), p->deny, &p->ndeny) < 0)
		return -1;
	p->override = json_is_true(json_object_get(o, "allow_subnet_override"));
	rd_policy_num(o, "max_prefix", &maxp);
	rd_policy_num(o, "max_prefix_warning", &warn);
	rd_policy_num(o, "update_rate", &p->rate);
	rd_policy_num(o, "update_burst", &p->burst);
	p->max_prefix = maxp < 1 ? 1 : maxp > 4e9 ? 4000000000u : (uint32_t)maxp;
	p->warn_pct = warn >= 1 && warn <= 100 ? (uint32_t)warn : 75;
	if (p->rate <= 0)
		p->rate = 50;
	if (p->burst < 1)
		p->burst = 1;
	return 0;
}

int
rd_policy_parse(const char *json, struct rd_policy *p)
{
	json_t *root = json_loads(json, 0, NULL), *o;
	struct rd_policy tmp;
	int rc;

	/* What the API stores may lack keys (a network created before migration 4 holds {}). */
	rd_policy_default(&tmp);
	o = json_object_get(root, "import_policy");
	rc = root ? rd_policy_read(o ? o : root, &tmp) : -1;
	json_decref(root);
	if (rc == 0)
		*p = tmp;
	else
		rd_policy_default(p);
	return rc;
}

static int
rd_rule_match(const struct rd_rule *r, int n, const struct bgp_prefix *pfx)
{
	struct pfx4 p = {pfx->addr, pfx->len};

	for (int i = 0; i < n; i++)
		if (pfx4_contains(&r[i].p, &p) && pfx->len >= r[i].ge && pfx->len <= r[i].le)
			return 1;
	return 0;
}

/* Addresses no virtual network routes (RFC 6890 special purpose, multicast, class E). */
static int
rd_martian(const struct bgp_prefix *p)
{
	static const struct pfx4 bad[] = {
		{0x00000000, 8}, {0x7f000000, 8}, {0xa9fe0000, 16}, {0xe0000000, 3},
	};

	if (p->len == 0)
		return 0; /* a default route is the policy's business */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pfx4 q = {p->addr, p->len};

		if (pfx4_contains(&bad[i], &q) || (p->len < bad[i].len &&
		    pfx4_contains(&q, &bad[i])))
			return 1;
	}
	return 0;
}

const char *
rd_policy_check(const struct rd_policy *p, const struct fib_net *net,
    const struct bgp_prefix *pfx, int *override)
{
	static char why[CC_REASON_LEN];
	struct pfx4 q = {pfx->addr, pfx->len};

	*override = 0;
	if (rd_martian(pfx))
		return "martian prefix";
	if (rd_rule_match(p->deny, p->ndeny, pfx))
		return "denied by import policy";
	if (!rd_rule_match(p->allow, p->nallow, pfx))
		return "not allowed by import policy";
	for (int i = 0; net && i < net->nsubnets; i++) {
		const struct pfx4 *s = &net->subnets[i].s->cidr;
		char buf[PFX4_STRLEN];

		if (!pfx4_contains(s, &q))
			continue;
		if (!p->override) {
			pfx4_fmt(s, buf);
			snprintf(why, sizeof(why), "inside subnet %s (allow_subnet_override is off)",
			    buf);
			return why;
		}
		if (s->len == q.len)
			*override = 1;
	}
	return NULL;
}

int
rd_policy_verdicts_differ(const struct rd_policy *a, const struct rd_policy *b)
{
	return a->nallow != b->nallow || a->ndeny != b->ndeny || a->override != b->override ||
	    memcmp(a->allow, b->allow, (size_t)a->nallow * sizeof(a->allow[0])) != 0 ||
	    memcmp(a->deny, b->deny, (size_t)a->ndeny * sizeof(a->deny[0])) != 0;
}
