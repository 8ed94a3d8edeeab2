/*
 * Bearer tokens. The admin token is given at start-up and kept only as a hash; tenant
 * tokens are "vnr_" + 64 hex digits, stored as SHA-256 hex, so a copy of the store does
 * not reveal usable credentials. Each tenant token has a token bucket for rate limiting.
 */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "util.h"
#include "vd.h"

#define AUTH_BUCKETS 1024
#define AUTH_TOKEN_PREFIX "vnr_"
#define AUTH_TOKEN_LEN (4 + 64)

struct auth_bucket {
	struct auth_bucket *next;
	char token_id[32];
	double level;
	uint64_t last_ms;
};

struct auth_buckets {
	struct auth_bucket *slot[AUTH_BUCKETS];
};

void
auth_hash(const char *token, uint8_t out[32])
{
	SHA256((const unsigned char *)token, strlen(token), out);
}

static int
auth_fail(struct api_resp *resp, const char *why)
{
	api_err(resp, 401, "unauthenticated", NULL, "%s", why);
	return -1;
}

int
auth_identify(struct vd *vd, const char *header, struct api_req *req, struct api_resp *resp)
{
	uint8_t h[32];
	char hex[65];
	const char *tok;
	sqlite3_stmt *s;
	int found = 0;

	if (header == NULL)
		return auth_fail(resp, "missing Authorization: Bearer token");
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return auth_fail(resp, "the Authorization header must be \"Bearer TOKEN\"");
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	auth_hash(tok, h);
	if (util_ct_equal(h, vd->cfg.admin_hash, sizeof(h))) {
		req->is_admin = 1;
		return 0;
	}
	if (strlen(tok) != AUTH_TOKEN_LEN || strncmp(tok, AUTH_TOKEN_PREFIX, 4) != 0)
		return auth_fail(resp, "invalid token");
	util_hex(h, sizeof(h), hex);
	s = store_q(vd->st, "SELECT id, tenant FROM tokens WHERE hash = ?", "s", hex);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *tenant = (const char *)sqlite3_column_text(s, 1);

		if (id && tenant) {
			snprintf(req->token_id, sizeof(req->token_id), "%s", id);
			snprintf(req->tenant, sizeof(req->tenant), "%s", tenant);
			found = 1;
		}
	}
	sqlite3_reset(s);
	return found ? 0 : auth_fail(resp, "invalid token");
}

static struct auth_bucket *
auth_bucket(struct vd *vd, const char *token_id)
{
	size_t h = 5381;
	struct auth_bucket *b;

	if (vd->buckets == NULL && (vd->buckets = calloc(1, sizeof(*vd->buckets))) == NULL)
		return NULL;
	for (const char *p = token_id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	h %= AUTH_BUCKETS;
	for (b = vd->buckets->slot[h]; b; b = b->next)
		if (strcmp(b->token_id, token_id) == 0)
			return b;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	snprintf(b->token_id, sizeof(b->token_id), "%s", token_id);
	b->level = vd->cfg.burst;
	b->last_ms = ev_now_ms();
	b->next = vd->buckets->slot[h];
	vd->buckets->slot[h] = b;
	return b;
}

int
auth_rate_check(struct vd *vd, const struct api_req *req)
{
	struct auth_bucket *b;
	uint64_t now;

	if (req->is_admin || vd->cfg.rate <= 0)
		return 0;
	/* Per tenant, not per token: minting tokens must not buy more requests. */
	if ((b = auth_bucket(vd, req->tenant)) == NULL)
		return 0;
	now = ev_now_ms();
	b->level += (double)(now - b->last_ms) / 1000.0 * vd->cfg.rate;
	if (b->level > vd->cfg.burst)
		b->level = vd->cfg.burst;
	b->last_ms = now;
	if (b->level >= 1.0) {
		b->level -= 1.0;
		return 0;
	}
	vd->metrics.rate_limited++;
	/* Whole seconds until one token is back, at least one (and no int overflow). */
	double wait = (1.0 - b->level) / vd->cfg.rate;

	return wait > 3600 ? 3600 : 1 + (int)wait;
}

void
auth_free(struct vd *vd)
{
	if (vd->buckets == NULL)
		return;
	for (int i = 0; i < AUTH_BUCKETS; i++) {
		while (vd->buckets->slot[i]) {
			struct auth_bucket *b = vd->buckets->slot[i];

			vd->buckets->slot[i] = b->next;
			free(b);
		}
	}
	free(vd->buckets);
	vd->buckets = NULL;
}
