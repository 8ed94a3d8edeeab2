/*
 * ctl_http.c: one libcurl easy handle, reused for every request of a run so
 * that the pages of a list share one connection; decoding of answers and of
 * the API's error objects into messages and exit codes.
 *
 * Nothing the server sends is trusted: answers are size-capped, parsed with
 * jansson, and every field is type-checked before use.  An answer that is not
 * the API's JSON means we are not talking to a working veneerd (exit 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

/* A page of 1000 ports is a few hundred KiB; this only stops runaway answers. */
#define HTTP_MAX_ANSWER	((size_t)64 << 20)

static CURL	*http_curl;

struct http_sink {
	struct ctl_buf	 body;
	int		 too_big;
};

int
ctl_http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (http_curl = curl_easy_init()) == NULL) {
		fputs("veneerctl: cannot initialise libcurl\n", stderr);
		return CTL_EXIT_TRANSPORT;
	}
	return 0;
}

void
ctl_http_done(void)
{
	curl_easy_cleanup(http_curl);
	http_curl = NULL;
	curl_global_cleanup();
}

static size_t
http_write(char *p, size_t size, size_t n, void *arg)
{
	struct http_sink	*s = arg;
	size_t			 len = size * n;

	if (len > HTTP_MAX_ANSWER - s->body.len) {
		s->too_big = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	ctl_buf_add(&s->body, p, len);
	return len;
}

static struct curl_slist *
http_hdr(struct curl_slist *h, const char *line)
{
	struct curl_slist	*t;

	if ((t = curl_slist_append(h, line)) == NULL)
		ctl_buf_oom();
	return t;
}

static struct curl_slist *
http_headers(const struct ctl_conf *c, const struct ctl_req *r)
{
	struct curl_slist	*h;
	struct ctl_buf		 auth = { 0 };

	h = http_hdr(NULL, "Accept: application/json");
	/* "Expect:" stops curl's 100-continue wait before larger bodies. */
	h = http_hdr(h, "Expect:");
	if (r->body != NULL)
		h = http_hdr(h, "Content-Type: application/json");
	if (c->token != NULL && !r->noauth) {
		ctl_buf_addf(&auth, "Authorization: Bearer %s", c->token);
		h = http_hdr(h, ctl_buf_str(&auth));
		ctl_buf_free(&auth);
	}
	return h;
}

static void
http_setup(const struct ctl_conf *c, const struct ctl_req *r, const char *url,
    const char *body, struct http_sink *sink, char *errbuf)
{
	static const char	*methods[] = { "GET", "POST", "PATCH", "DELETE" };
	CURL			*h = http_curl;

	/* Reset drops the previous request's method and body, not the connection. */
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* Send the path as built: curl must not fold "/../" out of it. */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "veneerctl/" VENEER_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	if (r->method != CTL_GET)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, methods[r->method]);
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
}

/* Runs one request; on success *status holds the HTTP status. */
static int
http_perform(const struct ctl_conf *c, const struct ctl_req *r, const char *path,
    struct http_sink *sink, long *status)
{
	struct ctl_buf		 url = { 0 };
	struct curl_slist	*hdrs;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	char			*body = NULL;
	CURLcode		 res;

	if (r->body != NULL && (body = json_dumps(r->body, JSON_COMPACT)) == NULL)
		ctl_buf_oom();
	ctl_buf_adds(&url, c->url);
	ctl_buf_adds(&url, path);
	hdrs = http_headers(c, r);
	http_setup(c, r, ctl_buf_str(&url), body, sink, errbuf);
	curl_easy_setopt(http_curl, CURLOPT_HTTPHEADER, hdrs);
	res = curl_easy_perform(http_curl);
	curl_easy_getinfo(http_curl, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	free(body);
	if (sink->too_big)
		fprintf(stderr, "veneerctl: answer from %s is larger than %zu MiB\n",
		    c->url, HTTP_MAX_ANSWER >> 20);
	else if (res != CURLE_OK)
		fprintf(stderr, "veneerctl: cannot reach veneerd at %s: %s\n", c->url,
		    errbuf[0] ? errbuf : curl_easy_strerror(res));
	ctl_buf_free(&url);
	return (sink->too_big || res != CURLE_OK) ? CTL_EXIT_TRANSPORT : 0;
}

/* Prints the first line of an answer that is not JSON, to help diagnose. */
static int
http_not_json(const struct ctl_conf *c, long status, const struct ctl_buf *body,
    const char *why)
{
	struct ctl_buf	 msg = { 0 };
	char		 head[81];
	size_t		 n;

	n = strcspn(ctl_buf_str(body), "\r\n");
	if (n > sizeof(head) - 1)
		n = sizeof(head) - 1;
	memcpy(head, ctl_buf_str(body), n);
	head[n] = '\0';
	ctl_buf_addf(&msg, "veneerctl: %ld: answer from %s is not the API's JSON (%s)",
	    status, c->url, why);
	if (n > 0) {
		ctl_buf_adds(&msg, ": ");
		ctl_buf_addsafe(&msg, head);
	}
	fprintf(stderr, "%s\n", ctl_buf_str(&msg));
	ctl_buf_free(&msg);
	return CTL_EXIT_TRANSPORT;
}

/* "veneerctl: STATUS CODE: MESSAGE (field: F)" from {"error": {...}}. */
static int
http_error(const struct ctl_conf *c, const struct ctl_req *r, long status,
    const json_t *ans)
{
	const json_t	*e = json_object_get(ans, "error");
	const char	*code = json_string_value(json_object_get(e, "code"));
	const char	*text = json_string_value(json_object_get(e, "message"));
	const char	*field = json_string_value(json_object_get(e, "field"));
	struct ctl_buf	 msg = { 0 };

	ctl_buf_addf(&msg, "veneerctl: %ld ", status);
	ctl_buf_addsafe(&msg, code != NULL && *code != '\0' ? code : "error");
	ctl_buf_adds(&msg, ": ");
	ctl_buf_addsafe(&msg, text != NULL && *text != '\0' ? text :
	    "(no message in the answer)");
	if (field != NULL && *field != '\0') {
		ctl_buf_adds(&msg, " (field: ");
		ctl_buf_addsafe(&msg, field);
		ctl_buf_adds(&msg, ")");
	}
	fprintf(stderr, "%s\n", ctl_buf_str(&msg));
	if (status == 401 && (c->token == NULL || r->noauth))
		fputs("veneerctl: no token was sent: use --token or VENEER_TOKEN\n", stderr);
	ctl_buf_free(&msg);
	return status == 404 ? CTL_EXIT_NOTFOUND : CTL_EXIT_API;
}

/* Maps status and body to an exit code; on 2xx hands the JSON to *out. */
static int
http_decode(const struct ctl_conf *c, const struct ctl_req *r, long status,
    const struct ctl_buf *body, json_t **out)
{
	json_error_t	 err;
	json_t		*j = NULL;
	int		 rc;

	if (body->len > 0 && (j = json_loadb(ctl_buf_str(body), body->len, 0, &err)) == NULL)
		return http_not_json(c, status, body, err.text);
	if (status >= 200 && status < 300) {
		*out = j;
		return 0;
	}
	/* Only veneerd's own error object is an API answer; anything else is a transport fault. */
	if (status >= 400 && status < 600 && json_is_object(json_object_get(j, "error"))) {
		rc = http_error(c, r, status, j);
		json_decref(j);
		return rc;
	}
	json_decref(j);
	if (status >= 400 && status < 600)
		return http_not_json(c, status, body, body->len ? "not an API error object" :
		    "empty body");
	fprintf(stderr, "veneerctl: unexpected HTTP status %ld from %s\n", status, c->url);
	return CTL_EXIT_TRANSPORT;
}

static int
http_request(const struct ctl_conf *c, const struct ctl_req *r, const char *path,
    json_t **out)
{
	struct http_sink	 sink;
	long			 status = 0;
	int			 rc;

	memset(&sink, 0, sizeof(sink));
	*out = NULL;
	if ((rc = http_perform(c, r, path, &sink, &status)) == 0)
		rc = http_decode(c, r, status, &sink.body, out);
	ctl_buf_free(&sink.body);
	return rc;
}

/* One request; *out is the answer's JSON, NULL when it had no body (204). */
int
ctl_http_call(const struct ctl_conf *c, const struct ctl_req *r, json_t **out)
{
	return http_request(c, r, r->path, out);
}

/*
 * Completes the CTL_O_MERGE members of a PATCH body with the object's current
 * values: GET of the same path, then each named parent gets the members it lacks.
 */
int
ctl_http_merge(const struct ctl_conf *c, const struct ctl_req *r)
{
	struct ctl_req	 get = *r;
	json_t		*cur = NULL, *have, *now;
	size_t		 i;
	int		 rc;

	get.method = CTL_GET;
	get.body = NULL;
	if ((rc = http_request(c, &get, r->path, &cur)) != 0)
		return rc;
	for (i = 0; i < json_array_size(r->merge); i++) {
		const char *name = json_string_value(json_array_get(r->merge, i));

		have = json_object_get(r->body, name);
		now = json_object_get(cur, name);
		if (!json_is_object(now)) {
			fprintf(stderr, "veneerctl: unexpected answer from veneerd: no \"%s\" "
			    "object to change\n", name);
			json_decref(cur);
			return CTL_EXIT_TRANSPORT;
		}
		if (json_object_update_missing(have, now) != 0)
			ctl_buf_oom();
	}
	json_decref(cur);
	return 0;
}

/*
 * Appends one page's items to all; returns the page's "next" (to free), or
 * NULL at the end.  *rc is set on a malformed page.
 */
static char *
http_page(json_t *page, json_t *all, const char *after, int *rc)
{
	json_t		*items = json_object_get(page, "items");
	json_t		*next = json_object_get(page, "next");
	const char	*s;

	if (!json_is_array(items)) {
		fputs("veneerctl: unexpected answer from veneerd: no \"items\" list\n",
		    stderr);
		*rc = CTL_EXIT_TRANSPORT;
		return NULL;
	}
	if (json_array_extend(all, items) != 0)
		ctl_buf_oom();
	if (next == NULL || json_is_null(next))
		return NULL;
	/* Ids are ordered: a "next" that does not advance would loop for ever. */
	s = json_string_value(next);
	if (s == NULL || *s == '\0' || (after != NULL && strcmp(s, after) <= 0)) {
		fputs("veneerctl: unexpected answer from veneerd: \"next\" does not "
		    "advance\n", stderr);
		*rc = CTL_EXIT_TRANSPORT;
		return NULL;
	}
	return ctl_buf_strdup(s);
}

/* A list: follows "next" with ?after= until the end; *out is every item. */
int
ctl_http_list(const struct ctl_conf *c, const struct ctl_req *r, json_t **out)
{
	struct ctl_buf	 path = { 0 };
	json_t		*all, *page;
	char		*after = NULL, *next;
	int		 rc = 0;

	if ((all = json_array()) == NULL)
		ctl_buf_oom();
	for (;;) {
		path.len = 0;
		ctl_buf_adds(&path, r->path);
		if (after != NULL) {
			ctl_buf_adds(&path, strchr(r->path, '?') ? "&after=" : "?after=");
			ctl_buf_addesc(&path, after);
		}
		if ((rc = http_request(c, r, ctl_buf_str(&path), &page)) != 0)
			break;
		next = http_page(page, all, after, &rc);
		json_decref(page);
		free(after);
		if ((after = next) == NULL)
			break;
	}
	free(after);
	ctl_buf_free(&path);
	if (rc != 0) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}
