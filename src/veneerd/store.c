#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "schema.h"
#include "util.h"

#define STORE_STMT_SLOTS 512
#define STORE_TEXT_SLOTS 256
/* SQLite's own default threshold for a checkpoint, in WAL frames (pages). */
#define STORE_CHECKPOINT_FRAMES 1000

const double store_hist_bounds[11] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

struct store {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} stmts[STORE_STMT_SLOTS];
	struct {
		char *sql; /* owned copy */
		sqlite3_stmt *stmt;
	} texts[STORE_TEXT_SLOTS];
	int in_write;
	int bumped;
	int failed; /* a statement of the open transaction failed: it must not commit */
	int64_t revision; /* last committed */
	int64_t pending;  /* revision of the open write transaction once bumped */
	int64_t nonce;    /* its nonce */
	char *wal_path;   /* the log to fsync; NULL for an in-memory store */
	int wal_frames;   /* frames in the log, from SQLite's WAL hook */
	int dir_synced;   /* the log's directory entry is durable */
	store_visible_cb on_visible;
	void *visible_arg;
	struct store_stats stats;
};

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

const struct store_stats *
store_stats(const struct store *st)
{
	return &st->stats;
}

static int
store_exec_sql(struct store *st, const char *sql, char *err, size_t errsz)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_schema_version(struct store *st)
{
	return (int)store_i(st, "SELECT COALESCE(MAX(version), 0) FROM schema_version", 0, "");
}

static int
store_migrate(struct store *st, char *err, size_t errsz)
{
	int have;

	if (store_exec_sql(st, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
		"PRIMARY KEY, applied INTEGER NOT NULL)", err, errsz) < 0)
		return -1;
	have = store_schema_version(st);
	if (have > schema_latest()) {
		snprintf(err, errsz, "store has schema version %d, newer than this veneerd (%d)",
		    have, schema_latest());
		return -1;
	}
	for (int v = have; v < schema_latest(); v++) {
		if (store_exec_sql(st, "BEGIN IMMEDIATE", err, errsz) < 0)
			return -1;
		if (store_exec_sql(st, schema_migration(v), err, errsz) < 0 ||
		    store_x(st, "INSERT INTO schema_version (version, applied) VALUES (?, ?)", "ii",
			(int64_t)v + 1, (int64_t)time(NULL)) != SQLITE_DONE ||
		    store_exec_sql(st, "COMMIT", err, errsz) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			if (err[0] == '\0')
				snprintf(err, errsz, "migration %d: %s", v + 1, sqlite3_errmsg(st->db));
			return -1;
		}
		log_info("store: migrated to schema version %d", v + 1);
	}
	return 0;
}

static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	st->wal_frames = frames;
	return SQLITE_OK;
}

/* Where the log of a file store is, for store_sync; installs the WAL hook. */
static int
store_wal_file(struct store *st, char *err, size_t errsz)
{
	const char *db = sqlite3_db_filename(st->db, "main");

	sqlite3_wal_hook(st->db, store_wal_hook, st);
	if (db == NULL || db[0] == '\0')
		return 0; /* in memory: nothing to sync */
	if ((st->wal_path = malloc(strlen(db) + 5)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	sprintf(st->wal_path, "%s-wal", db);
	return 0;
}

/*
 * The directory entry of a log SQLite has just created must be durable too: FULL would
 * sync the directory at the log's first sync, NORMAL not before the first checkpoint.
 */
static void
store_sync_dir(const char *wal_path)
{
	char dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", wal_path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0)
		fatal("store: cannot sync the directory %s", dir);
	close(fd);
}

/*
 * Makes every commit so far durable: fdatasync of the log, as synchronous=FULL would do
 * inside COMMIT. A sync that fails leaves the kernel free to have dropped what it could not
 * write, so nothing after it could be trusted: veneerd stops, and a restart reads the store
 * as it really is (agents then resynchronise by revision and nonce).
 */
static void
store_sync(struct store *st)
{
	int fd;

	if (st->wal_path == NULL)
		return;
	if ((fd = open(st->wal_path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return; /* no log yet: SQLite has written nothing that is not synced */
		fatal("store: cannot open %s to sync it", st->wal_path);
	}
	if (fdatasync(fd) < 0)
		fatal("store: cannot sync %s", st->wal_path);
	close(fd);
	if (!st->dir_synced) {
		store_sync_dir(st->wal_path);
		st->dir_synced = 1;
	}
	if (st->wal_frames >= STORE_CHECKPOINT_FRAMES) {
		/* PASSIVE never waits for readers; SQLite syncs the log and the database. */
		sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		st->wal_frames = 0;
	}
}

/* WAL is what makes commits cheap and readers non-blocking: refuse to run without it. */
static int
store_wal(struct store *st, const char *path, char *err, size_t errsz)
{
	sqlite3_stmt *s;
	int ok = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(st->db));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		ok = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0 ||
		    strcmp(path, ":memory:") == 0;
	sqlite3_finalize(s);
	if (!ok)
		snprintf(err, errsz, "%s: cannot switch to WAL mode", path);
	return ok ? 0 : -1;
}

struct store *
store_open(const char *path, char *err, size_t errsz)
{
	struct store *st = calloc(1, sizeof(*st));

	err[0] = '\0';
	if (st == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
		store_close(st);
		return NULL;
	}
	/*
	 * Another process holding the lock (a backup, the sqlite3 shell) would stall the whole
	 * event loop while SQLite waits: wait briefly, then answer 503 and let the client retry.
	 */
	sqlite3_busy_timeout(st->db, 250);
	/*
	 * SQLite commits without syncing (synchronous=NORMAL) and store_commit fsyncs the log
	 * itself after the commit's hook ran: an answered write still survives power loss,
	 * and the agents hear of it while the disk works (docs/architecture.md, "Decision:
	 * agents hear a commit before its fsync"). Our WAL hook replaces SQLite's automatic
	 * checkpoint, which would otherwise run inside COMMIT, before the hook.
	 */
	if (store_exec_sql(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err,
		errsz) < 0 || store_wal(st, path, err, errsz) < 0 ||
	    store_wal_file(st, err, errsz) < 0 || store_migrate(st, err, errsz) < 0) {
		store_close(st);
		return NULL;
	}
	store_sync(st); /* the migrations */
	st->revision = store_meta_get(st, "revision", 0);
	return st;
}

void
store_on_visible(struct store *st, store_visible_cb cb, void *arg)
{
	st->on_visible = cb;
	st->visible_arg = arg;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < STORE_STMT_SLOTS; i++)
		if (st->stmts[i].stmt)
			sqlite3_finalize(st->stmts[i].stmt);
	for (int i = 0; i < STORE_TEXT_SLOTS; i++) {
		sqlite3_finalize(st->texts[i].stmt);
		free(st->texts[i].sql);
	}
	sqlite3_close(st->db);
	free(st->wal_path);
	free(st);
}

static sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_STMT_SLOTS;

	for (size_t n = 0; n < STORE_STMT_SLOTS; n++, h = (h + 1) % STORE_STMT_SLOTS) {
		if (st->stmts[h].sql == sql)
			return st->stmts[h].stmt;
		if (st->stmts[h].sql == NULL) {
			if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&st->stmts[h].stmt, NULL) != SQLITE_OK)
				fatalx("store: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(st->db));
			st->stmts[h].sql = sql;
			return st->stmts[h].stmt;
		}
	}
	fatalx("store: statement cache full");
}

sqlite3_stmt *
store_qtext(struct store *st, const char *sql)
{
	size_t h = 5381;
	sqlite3_stmt *s;

	for (const char *p = sql; *p; p++)
		h = h * 33 + (unsigned char)*p;
	h %= STORE_TEXT_SLOTS;
	if (st->texts[h].sql && strcmp(st->texts[h].sql, sql) == 0) {
		s = st->texts[h].stmt;
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		return NULL;
	/* One statement per slot: a colliding text evicts the older one. */
	sqlite3_finalize(st->texts[h].stmt);
	free(st->texts[h].sql);
	st->texts[h].sql = strdup(sql);
	st->texts[h].stmt = s;
	if (st->texts[h].sql == NULL) {
		sqlite3_finalize(s);
		st->texts[h].stmt = NULL;
		return NULL;
	}
	return s;
}

static void
store_bind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	for (int i = 1; *fmt; fmt++, i++) {
		switch (*fmt) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			if (v)
				sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(s, i);
			break;
		}
		case 'i':
			sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
			break;
		case 'u':
			sqlite3_bind_int64(s, i, va_arg(ap, uint32_t));
			break;
		case 'b':
			sqlite3_bind_int(s, i, va_arg(ap, int));
			break;
		default:
			fatalx("store: bad bind format %c", *fmt);
		}
	}
}

static sqlite3_stmt *
store_vq(struct store *st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = store_prepare(st, sql);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	store_bind(s, fmt, ap);
	return s;
}

sqlite3_stmt *
store_q(struct store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *s;

	va_start(ap, fmt);
	s = store_vq(st, sql, fmt, ap);
	va_end(ap);
	return s;
}

int
store_x(struct store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *s;
	int rc;

	va_start(ap, fmt);
	s = store_vq(st, sql, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(st->db));
		st->failed = 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

int64_t
store_i(struct store *st, const char *sql, int64_t dflt, const char *fmt, ...)
{
	va_list ap;
	sqlite3_stmt *s;
	int64_t v = dflt;

	va_start(ap, fmt);
	s = store_vq(st, sql, fmt, ap);
	va_end(ap);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		if (sqlite3_column_type(s, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(s, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		/* A failed read must not pass for "no dependents" and let a write through. */
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(st->db));
		st->failed = 1;
	}
	sqlite3_reset(s);
	return v;
}

int64_t
store_meta_get(struct store *st, const char *key, int64_t dflt)
{
	return store_i(st, "SELECT value FROM meta WHERE key = ?", dflt, "s", key);
}

void
store_meta_set(struct store *st, const char *key, int64_t v)
{
	store_x(st, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
	    "SET value = excluded.value", "si", key, v);
}

int
store_begin(struct store *st, int write)
{
	sqlite3_stmt *s = store_q(st, write ? "BEGIN IMMEDIATE" : "BEGIN", "");
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rc;
	st->in_write = write;
	st->bumped = 0;
	st->failed = 0;
	return 0;
}

static void
store_observe(struct store *st, double secs)
{
	int b = 0;

	while (b < 11 && secs > store_hist_bounds[b])
		b++;
	st->stats.commit_hist[b]++;
	st->stats.commit_sum += secs;
	st->stats.commits++;
}

static double
store_secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

int
store_commit(struct store *st)
{
	struct timespec a, b, c, d;
	sqlite3_stmt *s;
	int rc, write = st->in_write, bumped = st->bumped;

	if (st->failed) {
		log_warnx("store: a statement failed: rolling the transaction back");
		st->stats.commit_failures++;
		store_rollback(st);
		return SQLITE_ABORT;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	s = store_q(st, "COMMIT", "");
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc != SQLITE_DONE) {
		st->stats.commit_failures++;
		log_warnx("store: commit failed: %s", sqlite3_errmsg(st->db));
		store_rollback(st);
		return rc;
	}
	st->in_write = 0;
	st->bumped = 0;
	if (!write)
		return 0;
	if (bumped)
		st->revision = st->pending;
	/* Visible, not yet durable: the hook may read the store, and nothing else runs. */
	if (bumped && st->on_visible)
		st->on_visible(st->visible_arg);
	clock_gettime(CLOCK_MONOTONIC, &c);
	store_sync(st);
	clock_gettime(CLOCK_MONOTONIC, &d);
	store_observe(st, store_secs(&a, &b) + store_secs(&c, &d));
	return 0;
}

void
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0) {
		sqlite3_stmt *s = store_q(st, "ROLLBACK", "");

		sqlite3_step(s);
		sqlite3_reset(s);
	}
	st->in_write = 0;
	st->bumped = 0;
	st->failed = 0;
}

int64_t
store_bump(struct store *st)
{
	if (!st->bumped) {
		uint64_t r;

		util_random(&r, sizeof(r));
		st->nonce = (int64_t)(r >> 1) | 1; /* positive, never 0 ("no nonce") */
		st->pending = store_meta_get(st, "revision", 0) + 1;
		store_meta_set(st, "revision", st->pending);
		st->bumped = 1;
	}
	return st->pending;
}

int64_t
store_revision(struct store *st)
{
	return st->revision;
}

int64_t
store_nonce(struct store *st, int64_t revision)
{
	return store_i(st, "SELECT nonce FROM changes WHERE revision = ? LIMIT 1", 0, "i",
	    revision);
}

void
store_change(struct store *st, const char *kind, const char *id, const char *op,
    const char *network)
{
	int64_t rev = store_bump(st);

	store_x(st, "INSERT INTO changes (revision, kind, id, op, network, nonce) VALUES (?, ?, ?, "
	    "?, ?, ?)", "issssi", rev, kind, id, op, network, st->nonce);
}
