/*
 * libFuzzer target: one API request through veneerd's whole request path (routing,
 * authentication, body parsing and validation, the handlers, the store) on an in-memory
 * SQLite store. Input: line 1 the method (prefixed with 't' to act as a tenant instead of
 * the admin), line 2 the path with an optional query string, the rest the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "vd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ADMIN "fuzz-admin-token-0123456789"

static struct vd fz;
static char fz_tenant_auth[96];

static void
fuzz_request(const char *method, const char *path, const char *auth, const char *body,
    size_t bodylen, struct api_resp *resp)
{
	struct api_req req;
	struct api_in in = {.method = method, .path = path, .auth = auth,
	    .ctype = "application/json", .body = body, .bodylen = bodylen};
	char qbuf[512], *q;

	memset(&req, 0, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	snprintf(qbuf, sizeof(qbuf), "%s", path);
	if ((q = strchr(qbuf, '?')) != NULL) {
		char *save = NULL, *kv;

		*q++ = '\0';
		in.path = qbuf;
		for (kv = strtok_r(q, "&", &save); kv && req.nquery < API_MAX_QUERY;
		    kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');

			if (eq)
				*eq++ = '\0';
			req.query[req.nquery].key = kv;
			req.query[req.nquery].value = eq;
			req.nquery++;
		}
	}
	api_dispatch(&fz, &in, &req, resp);
	json_decref(req.body);
}

/* Creates a tenant with a token so inputs can exercise tenant scoping too. */
static void
fuzz_setup_tenant(void)
{
	struct api_resp r;
	const char *admin = "Bearer " FUZZ_ADMIN;
	char path[96];

	fuzz_request("POST", "/v1/tenants", admin, "{\"name\":\"fz\"}", 13, &r);
	snprintf(path, sizeof(path), "/v1/tenants/%s/tokens",
	    json_string_value(json_object_get(r.body, "id")));
	json_decref(r.body);
	fuzz_request("POST", path, admin, "{}", 2, &r);
	snprintf(fz_tenant_auth, sizeof(fz_tenant_auth), "Bearer %s",
	    json_string_value(json_object_get(r.body, "token")));
	json_decref(r.body);
	fuzz_request("POST", "/v1/hosts", admin, "{\"name\":\"h1\",\"address\":\"192.0.2.1\"}", 36,
	    &r);
	json_decref(r.body);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	log_init("fuzz", 0);
	fz.cfg.max_body = 65536;
	fz.cfg.rate = 0;
	auth_hash(FUZZ_ADMIN, fz.cfg.admin_hash);
	fz.loop = ev_loop_new();
	if ((fz.st = store_open(":memory:", err, sizeof(err))) == NULL)
		fatalx("store: %s", err);
	fuzz_setup_tenant();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[16], path[512];
	const uint8_t *p = data, *end = data + size, *nl;
	struct api_resp r;
	const char *auth = "Bearer " FUZZ_ADMIN;
	size_t n;

	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL || (n = (size_t)(nl - p)) >=
	    sizeof(method))
		return 0;
	memcpy(method, p, n);
	method[n] = '\0';
	p = nl + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL || (n = (size_t)(nl - p)) >=
	    sizeof(path))
		return 0;
	memcpy(path, p, n);
	path[n] = '\0';
	p = nl + 1;
	if (method[0] == 't') {
		auth = fz_tenant_auth;
		memmove(method, method + 1, strlen(method));
	}
	if (memchr(method, '\0', strlen(method) + 1) != method + strlen(method) ||
	    strlen(path) != n)
		return 0; /* embedded NUL: HTTP would never hand us that */
	fuzz_request(method, path, auth, (const char *)p, (size_t)(end - p), &r);
	/* Every answer is a complete JSON document with a status in the HTTP range. */
	if (r.status < 200 || r.status > 599 || (r.body == NULL && r.text == NULL &&
	    r.status != 204))
		abort();
	json_decref(r.body);
	free(r.text);
	return 0;
}
