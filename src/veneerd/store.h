/*
 * The durable store of desired state: SQLite in WAL mode, every commit fsynced, a schema
 * version and forward migrations, cached prepared statements, and the global revision
 * that every committed write advances.
 */
#ifndef VENEER_STORE_H
#define VENEER_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_stats {
	uint64_t commits;
	uint64_t commit_failures;
	uint64_t commit_hist[12]; /* cumulative-free buckets, see store_hist_bounds */
	double commit_sum;        /* seconds */
};

extern const double store_hist_bounds[11];

/* store.c */
/* Opens (creating if needed) and migrates to the current schema; NULL with err on failure. */
struct store *store_open(const char *path, char *err, size_t errsz);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);
int store_schema_version(struct store *st);
const struct store_stats *store_stats(const struct store *st);

/* BEGIN IMMEDIATE (write) or BEGIN (read); 0 or an SQLite error code. */
int store_begin(struct store *st, int write);
/*
 * Commits; a write is durable when this returns 0. A write that advanced the revision
 * runs the visible hook first (store_on_visible), between the commit and its fsync. A sync
 * that fails is fatal: the process exits.
 */
int store_commit(struct store *st);
/*
 * cb(arg) runs inside store_commit once a write that advanced the revision is visible to
 * readers and before it is durable. It may read the store (its own transactions) but not
 * write. Nothing else in the process runs until the commit has been synced, so whatever cb
 * hands out is seen only by those who can lose it safely (agents, which resynchronise by
 * revision and nonce after a restart that lost it).
 */
typedef void (*store_visible_cb)(void *arg);
void store_on_visible(struct store *st, store_visible_cb cb, void *arg);
void store_rollback(struct store *st);
/*
 * Returns the revision that the current write transaction will commit as, advancing the
 * stored counter on first use inside the transaction.
 */
int64_t store_bump(struct store *st);
/* The last committed revision. */
int64_t store_revision(struct store *st);
/* The nonce drawn for a committed revision, or 0 if its change records are gone. */
int64_t store_nonce(struct store *st, int64_t revision);
/* Records a change (kind, id, op "create"/"update"/"delete") at the current revision. */
void store_change(struct store *st, const char *kind, const char *id, const char *op,
    const char *network);

/*
 * Returns a cached statement for sql (a string literal: the cache is keyed by pointer),
 * reset and bound from fmt: 's' text (NULL binds NULL), 'i' int64, 'u' uint32, 'b' int.
 * Aborts on a bad statement: SQL text is program text, not input.
 */
sqlite3_stmt *store_q(struct store *st, const char *sql, const char *fmt, ...);
/*
 * As store_q for SQL text built at run time (cached by content, bounded); the caller binds
 * and must sqlite3_reset() the statement when done. NULL if the text does not prepare.
 */
sqlite3_stmt *store_qtext(struct store *st, const char *sql);
/* Runs a statement that returns no rows; SQLite result code. */
int store_x(struct store *st, const char *sql, const char *fmt, ...);
/* First column of the first row as int64, or dflt when there is no row. */
int64_t store_i(struct store *st, const char *sql, int64_t dflt, const char *fmt, ...);
/* Metadata integers (revision, next vnid). */
int64_t store_meta_get(struct store *st, const char *key, int64_t dflt);
void store_meta_set(struct store *st, const char *key, int64_t v);

#endif
