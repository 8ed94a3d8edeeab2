/*
 * Deltas encoded once and sent as bytes to every session in the same place. A delta is a
 * function of the session's role, the revision it acknowledged, the networks it held and
 * the networks it needs now: fifty agents of one network that acknowledged the same
 * revision get one batch, computed from the store once (as OVSDB's monitor cache shares
 * one update among clients with the same condition). Entries live for one revision.
 */
#include <stdlib.h>
#include <string.h>

#include "ccsrv.h"

static int
ccbatch_same_nets(const struct ccnets *a, const struct ccnets *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (!ccnets_has(b, a->ids[i]))
			return 0;
	return 1;
}

static int
ccbatch_copy_nets(struct ccnets *dst, const struct ccnets *src)
{
	for (int i = 0; i < src->n; i++)
		if (ccnets_add(dst, src->ids[i]) < 0)
			return -1;
	return 0;
}

static void
ccbatch_free(struct ccbatch *b)
{
	ccnets_free(&b->had);
	ccnets_free(&b->want);
	free(b->bytes);
	memset(b, 0, sizeof(*b));
}

void
ccbatch_clear(struct ccbatches *bs)
{
	for (int i = 0; i < bs->n; i++)
		ccbatch_free(&bs->b[i]);
	bs->n = 0;
}

const struct ccbatch *
ccbatch_find(struct ccbatches *bs, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want)
{
	if (bs->n > 0 && bs->b[0].to != to)
		ccbatch_clear(bs); /* a new revision: every batch kept is out of date */
	for (int i = 0; i < bs->n; i++) {
		const struct ccbatch *b = &bs->b[i];

		if (b->role == role && b->from == from && ccbatch_same_nets(&b->had, had) &&
		    ccbatch_same_nets(&b->want, want)) {
			bs->shared++;
			return b;
		}
	}
	bs->computed++;
	return NULL;
}

void
ccbatch_keep(struct ccbatches *bs, int role, int64_t from, int64_t to,
    const struct ccnets *had, const struct ccnets *want, const uint8_t *bytes, size_t len)
{
	struct ccbatch *b;

	if (bs->n > 0 && bs->b[0].to != to)
		ccbatch_clear(bs);
	if (bs->n == CCBATCH_MAX || len > CCBATCH_BYTES)
		return; /* not kept: the next session in that place computes its own */
	b = &bs->b[bs->n];
	b->role = role;
	b->from = from;
	b->to = to;
	if ((b->bytes = malloc(len)) == NULL || ccbatch_copy_nets(&b->had, had) < 0 ||
	    ccbatch_copy_nets(&b->want, want) < 0) {
		ccbatch_free(b);
		return;
	}
	memcpy(b->bytes, bytes, len);
	b->len = len;
	bs->n++;
}
