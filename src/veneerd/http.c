/*
 * libmicrohttpd in external-epoll mode: its epoll descriptor is one more descriptor in our
 * loop, MHD_run() is called when it is readable, and its timeout drives one of our timers.
 * Everything therefore runs on the daemon's single thread, next to the store.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ev.h"
#include "log.h"
#include "vd.h"

struct http {
	struct vd *vd;
	struct MHD_Daemon *mhd;
	struct ev_io *io;
	struct ev_timer *timer;
};

/* Per-request state kept across MHD's calls for the headers and body chunks. */
struct http_conn {
	char *body;
	size_t len;
	size_t cap;
	int started;
	int too_large;
	int encoded_slash; /* the raw path had %2F or %00: names nothing (and would mislead) */
};

/*
 * MHD percent-decodes the path before we see it, so "ten-1%2Ftokens" would be routed as
 * two segments and "net-1%00x" as "net-1". The raw URI is only visible here, where the
 * per-request state is born.
 */
static void *
http_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_conn *hc = calloc(1, sizeof(*hc));
	size_t plen = strcspn(uri, "?");

	(void)cls;
	(void)conn;
	if (hc == NULL)
		return NULL;
	for (size_t i = 0; i + 2 < plen; i++)
		if (uri[i] == '%' && ((uri[i + 1] == '2' && (uri[i + 2] | 0x20) == 'f') ||
		    (uri[i + 1] == '0' && uri[i + 2] == '0')))
			hc->encoded_slash = 1;
	return hc;
}

static enum MHD_Result
http_collect_query(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct api_req *req = cls;

	(void)kind;
	/* A decoded %00 would silently cut the value short: refuse the parameter instead. */
	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		snprintf(req->query_nul, sizeof(req->query_nul), "%.*s", (int)strnlen(key, 63),
		    key);
		return MHD_YES;
	}
	if (req->nquery == API_MAX_QUERY) {
		req->query_overflow = 1;
		return MHD_NO;
	}
	req->query[req->nquery].key = key;
	req->query[req->nquery].value = value;
	req->nquery++;
	return MHD_YES;
}

static enum MHD_Result
http_send(struct MHD_Connection *conn, struct api_resp *resp)
{
	struct MHD_Response *r;
	char *text;
	size_t len;
	enum MHD_Result ret;

	if (resp->text) {
		text = resp->text;
		resp->text = NULL;
	} else if (resp->body) {
		text = json_dumps(resp->body, JSON_COMPACT);
	} else {
		text = strdup("");
	}
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	if (resp->body && len > 0) {
		char *t = realloc(text, len + 2);

		if (t == NULL) {
			free(text);
			return MHD_NO;
		}
		text = t;
		text[len++] = '\n';
		text[len] = '\0';
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	if (resp->status != 204)
		MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type :
		    "application/json");
	if (resp->revision > 0) {
		char rev[24];

		snprintf(rev, sizeof(rev), "%lld", (long long)resp->revision);
		MHD_add_response_header(r, "X-Veneer-Revision", rev);
	}
	if (resp->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", resp->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Index of a method in the metrics table; the last slot is "any other". */
static int
http_midx(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return 0;
	if (strcmp(m, "POST") == 0)
		return 1;
	if (strcmp(m, "PATCH") == 0)
		return 2;
	if (strcmp(m, "DELETE") == 0)
		return 3;
	return VD_METHODS - 1;
}

static enum MHD_Result
http_answer(struct http *h, struct MHD_Connection *conn, const char *url, const char *method,
    struct http_conn *hc)
{
	struct api_req req;
	struct api_resp resp = {.status = 500};
	struct api_in in = {.method = method, .path = url, .body = hc->body, .bodylen = hc->len};
	enum MHD_Result ret;

	memset(&req, 0, sizeof(req));
	{
		size_t alen = 0;

		in.auth = NULL;
		if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, "Authorization",
		    strlen("Authorization"), &in.auth, &alen) == MHD_YES && in.auth &&
		    strlen(in.auth) != alen)
			in.auth = ""; /* a NUL inside the header: no token can match */
	}
	in.ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, http_collect_query, &req);
	if (hc->too_large)
		api_err(&resp, 413, "body_too_large", NULL, "the body exceeds %zu bytes",
		    h->vd->cfg.max_body);
	else if (hc->encoded_slash)
		api_err(&resp, 404, "not_found", NULL, "no such path");
	else
		api_dispatch(h->vd, &in, &req, &resp);
	log_debug(LOG_SUB_API, "%s %s -> %d", method, url, resp.status);
	h->vd->metrics.requests[http_midx(method)][resp.status % 600]++;
	ret = http_send(conn, &resp);
	json_decref(resp.body);
	json_decref(req.body);
	free(resp.text);
	return ret;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct http_conn *hc = *con_cls;

	(void)version;
	if (hc == NULL)
		return MHD_NO; /* out of memory in http_uri_seen */
	if (!hc->started) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

		hc->started = 1;
		/* Refuse a declared oversize body before reading any of it. */
		if (cl && strtoull(cl, NULL, 10) > h->vd->cfg.max_body) {
			hc->too_large = 1;
			return http_answer(h, conn, url, method, hc);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (!hc->too_large && hc->len + n > h->vd->cfg.max_body) {
			hc->too_large = 1;
			free(hc->body);
			hc->body = NULL;
			hc->len = hc->cap = 0;
		}
		if (!hc->too_large) {
			if (hc->len + n + 1 > hc->cap) {
				size_t cap = (hc->len + n + 1) * 2;
				char *b = realloc(hc->body, cap);

				if (b == NULL)
					return MHD_NO;
				hc->body = b;
				hc->cap = cap;
			}
			memcpy(hc->body + hc->len, upload_data, n);
			hc->len += n;
			hc->body[hc->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return http_answer(h, conn, url, method, hc);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_conn *hc = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (hc) {
		free(hc->body);
		free(hc);
		*con_cls = NULL;
	}
}

/* Runs MHD until it has nothing immediate left, then arms the timer for its next deadline. */
static void
http_pump(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG to;

	for (int i = 0; i < 8; i++) {
		MHD_run(h->mhd);
		if (MHD_get_timeout(h->mhd, &to) != MHD_YES || to > 0)
			break;
	}
	if (MHD_get_timeout(h->mhd, &to) == MHD_YES)
		ev_timer_arm(h->timer, to);
	else
		ev_timer_disarm(h->timer);
}

static void
http_on_io(struct ev_io *io, uint32_t events, void *arg)
{
	(void)io;
	(void)events;
	http_pump(arg);
}

static void
http_on_timer(struct ev_timer *t, void *arg)
{
	(void)t;
	http_pump(arg);
}

static void __attribute__((format(printf, 2, 0)))
http_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug(LOG_SUB_API, "mhd: %s", buf);
}

struct http *
http_start(struct vd *vd, const char *listen, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	unsigned sl;
	const union MHD_DaemonInfo *info;
	struct http *h;

	if (addr_parse_endpoint(listen, &ss, &sl) < 0) {
		snprintf(err, errsz, "bad listen address %s (want ADDR:PORT or [ADDR6]:PORT)", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	h->vd = vd;
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, http_access, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri_seen, h,
	    /* One client holding connections open must not lock the others out. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, h,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errsz, "cannot listen on %s", listen);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->timer = ev_timer_new(vd->loop, http_on_timer, h);
	h->io = ev_io_add(vd->loop, info->epoll_fd, EPOLLIN, http_on_io, h);
	if (h->io == NULL || h->timer == NULL) {
		snprintf(err, errsz, "cannot watch the HTTP server");
		http_stop(h);
		return NULL;
	}
	http_pump(h);
	return h;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	ev_io_del(h->io);
	ev_timer_free(h->timer);
	MHD_stop_daemon(h->mhd);
	free(h);
}
