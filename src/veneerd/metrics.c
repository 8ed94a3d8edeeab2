/* GET /metrics: Prometheus text exposition of the daemon's counters and object counts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccsrv.h"
#include "claim.h"
#include "util.h"
#include "vd.h"

struct metrics_buf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
metrics_put(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *np = realloc(b->p, cap);

		if (np == NULL)
			return;
		b->p = np;
		b->cap = cap;
	}
}

static const struct {
	const char *kind, *sql;
} metrics_kinds[] = {
	{"tenant", "SELECT COUNT(*) FROM tenants"},
	{"token", "SELECT COUNT(*) FROM tokens"},
	{"network", "SELECT COUNT(*) FROM networks"},
	{"router", "SELECT COUNT(*) FROM routers"},
	{"link", "SELECT COUNT(*) FROM links"},
	{"subnet", "SELECT COUNT(*) FROM subnets"},
	{"port", "SELECT COUNT(*) FROM ports"},
	{"host", "SELECT COUNT(*) FROM hosts"},
	{"route", "SELECT COUNT(*) FROM routes"},
};

static void
metrics_requests(struct vd *vd, struct metrics_buf *b)
{
	static const char *const names[VD_METHODS] = {"GET", "POST", "PATCH", "DELETE", "other"};

	metrics_put(b, "# HELP veneer_http_requests_total API requests answered, by method and "
	    "status code.\n# TYPE veneer_http_requests_total counter\n");
	for (int m = 0; m < VD_METHODS; m++)
		for (int c = 100; c < 600; c++)
			if (vd->metrics.requests[m][c])
				metrics_put(b, "veneer_http_requests_total{method=\"%s\",code=\"%d\"} "
				    "%llu\n", names[m], c, (unsigned long long)vd->metrics.requests[m][c]);
	metrics_put(b, "# HELP veneer_rate_limited_total Requests refused by the per-token rate "
	    "limit.\n# TYPE veneer_rate_limited_total counter\nveneer_rate_limited_total %llu\n",
	    (unsigned long long)vd->metrics.rate_limited);
}

static void
metrics_store(struct vd *vd, struct metrics_buf *b)
{
	const struct store_stats *ss = store_stats(vd->st);
	uint64_t cum = 0;

	metrics_put(b, "# HELP veneer_store_commit_seconds Time to commit a write durably.\n"
	    "# TYPE veneer_store_commit_seconds histogram\n");
	for (int i = 0; i < 11; i++) {
		cum += ss->commit_hist[i];
		metrics_put(b, "veneer_store_commit_seconds_bucket{le=\"%g\"} %llu\n",
		    store_hist_bounds[i], (unsigned long long)cum);
	}
	cum += ss->commit_hist[11];
	metrics_put(b, "veneer_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "veneer_store_commit_seconds_sum %.6f\nveneer_store_commit_seconds_count %llu\n",
	    (unsigned long long)cum, ss->commit_sum, (unsigned long long)ss->commits);
	metrics_put(b, "# HELP veneer_store_commit_failures_total Commits that failed.\n"
	    "# TYPE veneer_store_commit_failures_total counter\n"
	    "veneer_store_commit_failures_total %llu\n",
	    (unsigned long long)ss->commit_failures);
	metrics_put(b, "# HELP veneer_revision The last committed store revision.\n"
	    "# TYPE veneer_revision gauge\nveneer_revision %lld\n",
	    (long long)store_revision(vd->st));
	metrics_put(b, "# HELP veneer_objects Objects in the store, by kind.\n"
	    "# TYPE veneer_objects gauge\n");
	for (size_t i = 0; i < ARRAY_SIZE(metrics_kinds); i++)
		metrics_put(b, "veneer_objects{kind=\"%s\"} %lld\n", metrics_kinds[i].kind,
		    (long long)store_i(vd->st, metrics_kinds[i].sql, 0, ""));
}

static void
metrics_claims(struct metrics_buf *b)
{
	const struct claim_counters *c = claim_counters();

	metrics_put(b, "# HELP veneer_claims_total Virtual IP claims received, by source.\n"
	    "# TYPE veneer_claims_total counter\n");
	for (int h = 0; h < CLAIM_NHOW; h++)
		metrics_put(b, "veneer_claims_total{how=\"%s\"} %llu\n",
		    claim_how_name((enum claim_how)h), (unsigned long long)c->claims[h]);
	metrics_put(b, "# HELP veneer_claims_refused_total Virtual IP claims refused, by reason.\n"
	    "# TYPE veneer_claims_refused_total counter\n");
	for (int r = CLAIM_OK + 1; r < CLAIM_NREASONS; r++)
		metrics_put(b, "veneer_claims_refused_total{reason=\"%s\"} %llu\n",
		    claim_reason_name((enum claim_reason)r), (unsigned long long)c->refused[r]);
	metrics_put(b, "# HELP veneer_claims_released_total Virtual IPs released by their holder.\n"
	    "# TYPE veneer_claims_released_total counter\nveneer_claims_released_total %llu\n",
	    (unsigned long long)c->released);
}

static void
metrics_batches(struct vd *vd, struct metrics_buf *b)
{
	const struct ccbatches *bs = ccsrv_batches(vd->cc);

	if (bs == NULL)
		return;
	metrics_put(b, "# HELP veneer_cc_batches_total Delta batches sent to agents: encoded from "
	    "the store, or shared with a session in the same place.\n"
	    "# TYPE veneer_cc_batches_total counter\n"
	    "veneer_cc_batches_total{how=\"computed\"} %llu\n"
	    "veneer_cc_batches_total{how=\"shared\"} %llu\n",
	    (unsigned long long)bs->computed, (unsigned long long)bs->shared);
}

int
metrics_get(struct api_req *req, struct api_resp *resp)
{
	struct metrics_buf b = {0};

	metrics_requests(req->vd, &b);
	metrics_store(req->vd, &b);
	metrics_claims(&b);
	metrics_batches(req->vd, &b);
	if (b.p == NULL)
		return api_err(resp, 500, "internal", NULL, "out of memory");
	resp->status = 200;
	resp->text = b.p;
	resp->content_type = "text/plain; version=0.0.4";
	return 0;
}
