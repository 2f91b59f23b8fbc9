/*
 * bench_merge.c — lienket-bench: the in-process halves of `make bench` (bench/README.md).
 *
 * Subcommands, each reading rows as written by `lienket-gen changes` (an importable CSV
 * of one table: header of schema column names, RFC 4180 quoting; "-" is stdin):
 *   upsert   the baseline of figure 1: a plain prepared-statement last-writer-wins
 *            upsert into a table shaped like the hub's (values, row clock, writer) in a
 *            database already holding --preload rows, in transactions of --batch rows.
 *   pgupsert the PostgreSQL twin of upsert (figure 1 on PostgreSQL, issue 15): the same
 *            table shape (text COLLATE "C" / bigint, the id its primary key and only
 *            index), the same rows, preload and LWW upsert (INSERT … ON CONFLICT (id) DO
 *            UPDATE … WHERE the incoming clock/writer wins) as one prepared statement
 *            executed per row over libpq, in transactions of --batch rows, into --db
 *            (a postgresql:// URL; the table t is made there). Durability is the
 *            server's (the bench's server runs with fsync and synchronous_commit on).
 *   session  figures 2 and 3: the same rows as SQLite session changesets, one per
 *            --batch rows, recorded on a scratch database, compressed with zlib at level
 *            6 (bytes counted) and applied with sqlite3changeset_apply to a database
 *            holding --preload rows, one transaction per changeset.
 *   hubload  fills a hub database with rows through the hub's own row merge
 *            (merge_apply + the store's row_read/row_write, libhub.a) as if one agent
 *            had sent them: used to give the hub its million (or ten million) rows
 *            before a measurement; never measured itself.
 *   hubmerge the same-storage baseline of figure 1: the same row read + merge + row
 *            write as hubload, on a hub database holding the same rows as the measured
 *            hub, its writer connection tuned as `serve` tunes it (writer_tune) with a
 *            checkpointer thread as in hub/http/api.c, one transaction per --batch rows; the
 *            rows are read before the clock starts. hubload and hubmerge open --db
 *            through the hub's back-end factory (hub_store_open): a file or a
 *            postgresql:// URL.
 *   agentfill  writes rows into an agent database's table with plain statements, one
 *            transaction per --txn rows, so the agent's journaling triggers record them
 *            exactly as for `add`/`import`/an edit/a removal: --op insert (default),
 *            update (every field column set to the next row's values, by id) or delete
 *            (by id); update and delete first insert the rows, untimed. --sync off turns
 *            fsync off (synchronous=OFF) to show what is CPU and what is the disk.
 *            Figure 4 measures it with and without the triggers; other figures use it
 *            to make a backlog. --list FILE takes lines "DB ROWS.csv" to fill many
 *            agents in one process. The process runs with the agent's SQLite setting
 *            (AGENT_STMT_JOURNAL_SPILL). Prints rows/s of wall time and rows per CPU
 *            second of the timed section (the latter leaves out the disk's fsync and
 *            the time other processes of a shared machine held the CPU).
 * Every subcommand prints one line "key=value …" that bench/run.sh parses. Timings are
 * CLOCK_MONOTONIC around the measured part only. Durability matches the programs:
 * journal_mode=WAL, synchronous=FULL.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>
#include <zlib.h>
#ifdef LK_STORE_PG
#include <libpq-fe.h>
#endif

#include "entry.h"
#include "merge.h"
#include "schema.h"
#include "store.h"

#define BENCH_MAX_COLS 32
#define BENCH_WRITER "01000000-0000-7000-8000-62656e636831" /* the preload's writer id */

/* ---- rows ---- */

struct row {
	char *buf;                      /* the record's decoded fields, NUL-separated */
	const char *f[BENCH_MAX_COLS];
	size_t len[BENCH_MAX_COLS];
	size_t nf;
};

struct rows {
	const struct schema_table *t;
	const struct schema_column *col[BENCH_MAX_COLS]; /* header order */
	size_t ncol;
	struct row *r;
	size_t n, cap;
};

struct reader {
	FILE *f;
	char *rec;
	size_t cap;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process (user + system): what a timed section cost, whatever else
 * the shared machine was running meanwhile. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "lienket-bench: out of memory\n");
		exit(70);
	}
	return q;
}

/* Reads one CSV record into r (fields decoded). 1 read, 0 end of file, -1 malformed. */
static int csv_next(struct reader *rd, struct row *r)
{
	size_t n = 0;
	int c, quoted = 0, any = 0, at_start = 1;
	r->nf = 0;
	size_t fstart = 0;
	for (;;) {
		c = getc(rd->f);
		if (c == EOF) {
			if (!any)
				return 0;
			if (quoted)
				return -1;
			break;
		}
		any = 1;
		if (n + 2 >= rd->cap) {
			rd->cap = rd->cap ? rd->cap * 2 : 4096;
			rd->rec = xrealloc(rd->rec, rd->cap);
		}
		if (quoted) {
			if (c == '"') {
				int d = getc(rd->f);
				if (d == '"') {
					rd->rec[n++] = '"';
					continue;
				}
				quoted = 0;
				if (d == EOF)
					break;
				ungetc(d, rd->f);
				continue;
			}
			rd->rec[n++] = (char)c;
			continue;
		}
		if (c == '"' && at_start) {
			quoted = 1;
			at_start = 0;
			continue;
		}
		if (c == ',' || c == '\n') {
			if (r->nf >= BENCH_MAX_COLS)
				return -1;
			size_t end = n;
			if (c == '\n' && end > fstart && rd->rec[end - 1] == '\r')
				end--;
			rd->rec[end] = 0;
			r->len[r->nf] = end - fstart;
			r->f[r->nf++] = (const char *)(uintptr_t)fstart; /* offsets until copied */
			n = end + 1;
			fstart = n;
			at_start = 1;
			if (c == '\n')
				goto done;
			continue;
		}
		at_start = 0;
		rd->rec[n++] = (char)c;
	}
	if (r->nf >= BENCH_MAX_COLS)
		return -1;
	rd->rec[n] = 0;
	r->len[r->nf] = n - fstart;
	r->f[r->nf++] = (const char *)(uintptr_t)fstart;
	n++;
done:
	r->buf = xrealloc(NULL, n ? n : 1);
	memcpy(r->buf, rd->rec, n);
	for (size_t i = 0; i < r->nf; i++)
		r->f[i] = r->buf + (uintptr_t)r->f[i];
	return 1;
}

static int rows_load(const char *path, const char *table, long limit, struct rows *out)
{
	struct reader rd = { 0 };
	struct row hdr;
	memset(out, 0, sizeof *out);
	rd.f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!rd.f) {
		fprintf(stderr, "lienket-bench: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	out->t = schema_table_find(table, SCHEMA_VERSION);
	if (!out->t) {
		fprintf(stderr, "lienket-bench: no table '%s'\n", table);
		return -1;
	}
	if (csv_next(&rd, &hdr) != 1) {
		fprintf(stderr, "lienket-bench: '%s' has no header\n", path);
		return -1;
	}
	out->ncol = hdr.nf;
	for (size_t i = 0; i < hdr.nf; i++) {
		out->col[i] = schema_column_find(out->t, hdr.f[i], SCHEMA_VERSION);
		if (!out->col[i]) {
			fprintf(stderr, "lienket-bench: '%s': no column '%s' in %s\n", path, hdr.f[i], table);
			return -1;
		}
	}
	free(hdr.buf);
	for (;;) {
		if (limit >= 0 && (long)out->n >= limit)
			break;
		struct row r;
		int rc = csv_next(&rd, &r);
		if (rc == 0)
			break;
		if (rc < 0 || r.nf != out->ncol) {
			fprintf(stderr, "lienket-bench: '%s': malformed record %zu\n", path, out->n + 2);
			return -1;
		}
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 1024;
			out->r = xrealloc(out->r, out->cap * sizeof *out->r);
		}
		out->r[out->n++] = r;
	}
	if (rd.f != stdin)
		fclose(rd.f);
	free(rd.rec);
	return 0;
}

static void rows_free(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i].buf);
	free(rs->r);
	memset(rs, 0, sizeof *rs);
}

static int is_int(const struct schema_column *c)
{
	return c->type == SCHEMA_INT || c->type == SCHEMA_BOOL;
}

static void bind_field(sqlite3_stmt *st, int i, const struct schema_column *c, const char *v, size_t len)
{
	if (!len)
		sqlite3_bind_null(st, i);
	else if (is_int(c))
		sqlite3_bind_int64(st, i, strtoll(v, NULL, 10));
	else
		sqlite3_bind_text(st, i, v, (int)len, SQLITE_STATIC);
}

/* ---- plain SQLite helpers ---- */

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "lienket-bench: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int open_db(const char *path, sqlite3 **db)
{
	if (sqlite3_open(path, db) != SQLITE_OK) {
		fprintf(stderr, "lienket-bench: cannot open '%s': %s\n", path, sqlite3_errmsg(*db));
		return -1;
	}
	sqlite3_busy_timeout(*db, 10000);
	return exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
}

/* The baseline table: the declared columns plus a row clock and writer, keyed by id. */
static int create_plain(sqlite3 *db, const struct rows *rs)
{
	sqlite3_str *q = sqlite3_str_new(db);
	sqlite3_str_appendall(q, "CREATE TABLE IF NOT EXISTS t(");
	for (size_t i = 0; i < rs->ncol; i++)
		sqlite3_str_appendf(q, "\"%w\" %s%s,", rs->col[i]->name, is_int(rs->col[i]) ? "INTEGER" : "TEXT",
				    i == 0 ? " PRIMARY KEY" : "");
	sqlite3_str_appendall(q, "_clock INTEGER NOT NULL, _writer TEXT NOT NULL)");
	char *sql = sqlite3_str_finish(q);
	int rc = sql ? exec(db, sql) : -1;
	sqlite3_free(sql);
	return rc;
}

/* The upsert into t; mark is the parameter prefix: '?' (SQLite) or '$' (PostgreSQL). Column
 * names come from the schema declaration (rows_load matched every header against it). */
static char *upsert_sql(const struct rows *rs, int lww, char mark)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendall(q, "INSERT INTO t(");
	for (size_t i = 0; i < rs->ncol; i++)
		sqlite3_str_appendf(q, "\"%w\",", rs->col[i]->name);
	sqlite3_str_appendall(q, "_clock,_writer) VALUES(");
	for (size_t i = 0; i < rs->ncol + 2; i++)
		sqlite3_str_appendf(q, "%s%c%d", i ? "," : "", mark, (int)i + 1);
	sqlite3_str_appendall(q, ")");
	if (lww) {
		sqlite3_str_appendall(q, " ON CONFLICT(id) DO UPDATE SET ");
		for (size_t i = 1; i < rs->ncol; i++)
			sqlite3_str_appendf(q, "\"%w\"=excluded.\"%w\",", rs->col[i]->name, rs->col[i]->name);
		sqlite3_str_appendall(q, "_clock=excluded._clock,_writer=excluded._writer WHERE excluded._clock > t._clock"
					 " OR (excluded._clock = t._clock AND excluded._writer > t._writer)");
	}
	return sqlite3_str_finish(q);
}

/* Writes rows [from, to) with st (upsert_sql layout), clock = base + i. */
static int write_rows(sqlite3 *db, sqlite3_stmt *st, const struct rows *rs, size_t from, size_t to,
		      int64_t base)
{
	for (size_t k = from; k < to; k++) {
		const struct row *r = &rs->r[k];
		sqlite3_reset(st);
		for (size_t i = 0; i < rs->ncol; i++)
			bind_field(st, (int)i + 1, rs->col[i], r->f[i], r->len[i]);
		sqlite3_bind_int64(st, (int)rs->ncol + 1, base + (int64_t)k);
		sqlite3_bind_text(st, (int)rs->ncol + 2, BENCH_WRITER, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "lienket-bench: write: %s\n", sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/* A database at path holding the preload rows in table t (made once; reused when the
 * file already holds them). */
static int plain_db(const char *path, const struct rows *pre, const struct rows *shape, sqlite3 **db)
{
	if (open_db(path, db) != 0 || create_plain(*db, shape) != 0)
		return -1;
	sqlite3_stmt *cnt;
	int64_t have = 0;
	if (sqlite3_prepare_v2(*db, "SELECT count(*) FROM t", -1, &cnt, NULL) == SQLITE_OK &&
	    sqlite3_step(cnt) == SQLITE_ROW)
		have = sqlite3_column_int64(cnt, 0);
	sqlite3_finalize(cnt);
	if (have == (int64_t)pre->n)
		return 0;
	if (have) {
		fprintf(stderr, "lienket-bench: '%s' holds %" PRId64 " rows, not %zu\n", path, have, pre->n);
		return -1;
	}
	char *sql = upsert_sql(pre, 0, '?');
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(*db, sql, -1, &st, NULL) == SQLITE_OK ? 0 : -1;
	sqlite3_free(sql);
	if (rc || exec(*db, "BEGIN") || write_rows(*db, st, pre, 0, pre->n, 1) || exec(*db, "COMMIT"))
		rc = -1;
	sqlite3_finalize(st);
	return rc;
}

/* ---- options ---- */

struct opts {
	const char *db, *rows, *preload, *table, *list, *out, *op, *sync;
	long batch, txn, limit, preload_limit, commit_every;
};

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->table = "meeting";
	o->op = "insert";
	o->sync = "full";
	o->batch = 1000;
	o->txn = 1;
	o->limit = -1;
	o->preload_limit = -1;
	o->commit_every = 20000;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "lienket-bench: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--db"))
			o->db = v;
		else if (!strcmp(a, "--rows"))
			o->rows = v;
		else if (!strcmp(a, "--preload"))
			o->preload = v;
		else if (!strcmp(a, "--table"))
			o->table = v;
		else if (!strcmp(a, "--list"))
			o->list = v;
		else if (!strcmp(a, "--op"))
			o->op = v;
		else if (!strcmp(a, "--sync"))
			o->sync = v;
		else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--batch"))
			o->batch = atol(v);
		else if (!strcmp(a, "--txn"))
			o->txn = atol(v);
		else if (!strcmp(a, "--limit"))
			o->limit = atol(v);
		else if (!strcmp(a, "--preload-limit"))
			o->preload_limit = atol(v);
		else if (!strcmp(a, "--commit-every"))
			o->commit_every = atol(v);
		else {
			fprintf(stderr, "lienket-bench: unknown option %s\n", a);
			return -1;
		}
	}
	if (strcmp(o->op, "insert") && strcmp(o->op, "update") && strcmp(o->op, "delete")) {
		fprintf(stderr, "lienket-bench: --op is insert, update or delete\n");
		return -1;
	}
	if (strcmp(o->sync, "full") && strcmp(o->sync, "off")) {
		fprintf(stderr, "lienket-bench: --sync is full or off\n");
		return -1;
	}
	if (o->batch < 1 || o->txn < 1 || o->commit_every < 1) {
		fprintf(stderr, "lienket-bench: --batch, --txn and --commit-every must be positive\n");
		return -1;
	}
	return 0;
}

/* ---- upsert ---- */

static int cmd_upsert(const struct opts *o)
{
	struct rows rs, pre;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (!o->db || !o->rows || !o->preload) {
		fprintf(stderr, "usage: lienket-bench upsert --db F --rows CSV --preload CSV [--batch N]\n");
		return 64;
	}
	if (rows_load(o->rows, o->table, o->limit, &rs) || rows_load(o->preload, o->table, o->preload_limit, &pre))
		return 1;
	if (plain_db(o->db, &pre, &rs, &db) != 0)
		goto out;
	char *sql = upsert_sql(&rs, 1, '?');
	int prc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (prc != SQLITE_OK)
		goto out;
	double t0 = mono();
	for (size_t k = 0; k < rs.n; k += (size_t)o->batch) {
		size_t to = k + (size_t)o->batch < rs.n ? k + (size_t)o->batch : rs.n;
		if (exec(db, "BEGIN") || write_rows(db, st, &rs, k, to, (int64_t)1 << 40) || exec(db, "COMMIT"))
			goto out;
	}
	double dt = mono() - t0;
	printf("upsert rows=%zu batch=%ld preload=%zu seconds=%.3f rows_per_s=%.0f\n", rs.n, o->batch, pre.n, dt,
	       rs.n / dt);
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	rows_free(&rs);
	rows_free(&pre);
	return rc ? 1 : 0;
}

/* ---- pgupsert ---- */

#ifdef LK_STORE_PG
static int pg_ok(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "lienket-bench: %s: %s", what, PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_run(PGconn *c, const char *sql)
{
	return pg_ok(c, PQexec(c, sql), sql);
}

/* Rows [from, to) through the prepared statement name, clock = base + k, values as text
 * (an empty field is NULL, as bind_field does for SQLite). */
static int pg_write_rows(PGconn *c, const char *name, const struct rows *rs, size_t from, size_t to, int64_t base)
{
	const char *v[BENCH_MAX_COLS + 2];
	char clock[32];
	for (size_t k = from; k < to; k++) {
		const struct row *r = &rs->r[k];
		for (size_t i = 0; i < rs->ncol; i++)
			v[i] = r->len[i] ? r->f[i] : NULL;
		snprintf(clock, sizeof clock, "%" PRId64, base + (int64_t)k);
		v[rs->ncol] = clock;
		v[rs->ncol + 1] = BENCH_WRITER;
		if (pg_ok(c, PQexecPrepared(c, name, (int)rs->ncol + 2, v, NULL, NULL, 0), "write") != 0)
			return -1;
	}
	return 0;
}

static int cmd_pgupsert(const struct opts *o)
{
	struct rows rs, pre;
	PGconn *c = NULL;
	int rc = -1;
	char *sql = NULL;
	if (!o->db || !o->rows || !o->preload) {
		fprintf(stderr, "usage: lienket-bench pgupsert --db postgresql://… --rows CSV --preload CSV [--batch N]\n");
		return 64;
	}
	if (rows_load(o->rows, o->table, o->limit, &rs) || rows_load(o->preload, o->table, o->preload_limit, &pre))
		return 1;
	c = PQconnectdb(o->db);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "lienket-bench: cannot connect: %s", PQerrorMessage(c));
		goto out;
	}
	/* the table of create_plain, in the PostgreSQL back end's types */
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendall(q, "DROP TABLE IF EXISTS t; CREATE TABLE t(");
	for (size_t i = 0; i < rs.ncol; i++)
		sqlite3_str_appendf(q, "\"%w\" %s%s,", rs.col[i]->name, is_int(rs.col[i]) ? "bigint" : "text COLLATE \"C\"",
				    i == 0 ? " PRIMARY KEY" : "");
	sqlite3_str_appendall(q, "_clock bigint NOT NULL, _writer text COLLATE \"C\" NOT NULL)");
	sql = sqlite3_str_finish(q);
	if (!sql || pg_run(c, sql) != 0)
		goto out;
	sqlite3_free(sql);
	sql = upsert_sql(&pre, 0, '$');
	if (!sql || pg_ok(c, PQprepare(c, "ins", sql, 0, NULL), "prepare") != 0)
		goto out;
	sqlite3_free(sql);
	sql = upsert_sql(&rs, 1, '$');
	if (!sql || pg_ok(c, PQprepare(c, "ups", sql, 0, NULL), "prepare") != 0)
		goto out;
	if (pg_run(c, "BEGIN") || pg_write_rows(c, "ins", &pre, 0, pre.n, 1) || pg_run(c, "COMMIT") ||
	    pg_run(c, "VACUUM ANALYZE t") || pg_run(c, "CHECKPOINT"))
		goto out;
	double t0 = mono();
	for (size_t k = 0; k < rs.n; k += (size_t)o->batch) {
		size_t to = k + (size_t)o->batch < rs.n ? k + (size_t)o->batch : rs.n;
		if (pg_run(c, "BEGIN") || pg_write_rows(c, "ups", &rs, k, to, (int64_t)1 << 40) || pg_run(c, "COMMIT"))
			goto out;
	}
	double dt = mono() - t0;
	printf("pgupsert rows=%zu batch=%ld preload=%zu seconds=%.3f rows_per_s=%.0f\n", rs.n, o->batch, pre.n, dt,
	       rs.n / dt);
	rc = 0;
out:
	sqlite3_free(sql);
	PQfinish(c);
	rows_free(&rs);
	rows_free(&pre);
	return rc ? 1 : 0;
}
#endif

/* ---- session ---- */

static int conflict_replace(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	(void)ctx;
	(void)it;
	return kind == SQLITE_CHANGESET_DATA || kind == SQLITE_CHANGESET_CONFLICT ? SQLITE_CHANGESET_REPLACE
										      : SQLITE_CHANGESET_OMIT;
}

static int cmd_session(const struct opts *o)
{
	struct rows rs, pre;
	sqlite3 *db = NULL, *scratch = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (!o->db || !o->rows || !o->preload) {
		fprintf(stderr, "usage: lienket-bench session --db F --rows CSV --preload CSV [--batch N]\n");
		return 64;
	}
	if (rows_load(o->rows, o->table, o->limit, &rs) || rows_load(o->preload, o->table, o->preload_limit, &pre))
		return 1;
	if (plain_db(o->db, &pre, &rs, &db) != 0)
		goto out;
	if (sqlite3_open(":memory:", &scratch) != SQLITE_OK || create_plain(scratch, &rs) != 0)
		goto out;
	char *sql = upsert_sql(&rs, 0, '?');
	int prc = sqlite3_prepare_v2(scratch, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (prc != SQLITE_OK)
		goto out;
	double apply_s = 0, record_s = 0;
	uint64_t raw = 0, packed = 0;
	size_t nsets = 0;
	unsigned char *zbuf = NULL;
	uLongf zcap = 0;
	for (size_t k = 0; k < rs.n; k += (size_t)o->batch) {
		size_t to = k + (size_t)o->batch < rs.n ? k + (size_t)o->batch : rs.n;
		sqlite3_session *ses = NULL;
		int n = 0;
		void *cs = NULL;
		double r0 = mono();
		if (exec(scratch, "DELETE FROM t") || sqlite3session_create(scratch, "main", &ses) != SQLITE_OK ||
		    sqlite3session_attach(ses, "t") != SQLITE_OK || exec(scratch, "BEGIN") ||
		    write_rows(scratch, st, &rs, k, to, (int64_t)1 << 40) || exec(scratch, "COMMIT") ||
		    sqlite3session_changeset(ses, &n, &cs) != SQLITE_OK) {
			sqlite3session_delete(ses);
			goto out;
		}
		sqlite3session_delete(ses);
		record_s += mono() - r0;
		uLongf zn = compressBound((uLong)n);
		if (zn > zcap) {
			zcap = zn;
			zbuf = xrealloc(zbuf, zcap);
		}
		if (compress2(zbuf, &zn, cs, (uLong)n, 6) != Z_OK) {
			sqlite3_free(cs);
			goto out;
		}
		raw += (uint64_t)n;
		packed += zn;
		nsets++;
		double a0 = mono();
		if (exec(db, "BEGIN") ||
		    sqlite3changeset_apply(db, n, cs, NULL, conflict_replace, NULL) != SQLITE_OK ||
		    exec(db, "COMMIT")) {
			fprintf(stderr, "lienket-bench: apply: %s\n", sqlite3_errmsg(db));
			sqlite3_free(cs);
			goto out;
		}
		apply_s += mono() - a0;
		sqlite3_free(cs);
	}
	free(zbuf);
	printf("session rows=%zu batch=%ld sets=%zu preload=%zu apply_seconds=%.3f rows_per_s=%.0f"
	       " record_seconds=%.3f changeset_bytes=%" PRIu64 " zlib6_bytes=%" PRIu64
	       " zlib6_bytes_per_change=%.1f\n",
	       rs.n, o->batch, nsets, pre.n, apply_s, rs.n / apply_s, record_s, raw, packed,
	       rs.n ? (double)packed / (double)rs.n : 0.0);
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(scratch);
	sqlite3_close(db);
	rows_free(&rs);
	rows_free(&pre);
	return rc ? 1 : 0;
}

/* ---- hubload, hubmerge ---- */

/* What the hub's writer does for one change: the row read, the merge (merge_apply) and
 * the row write, through the hub's own store (hub/store/store.h, hub/merge/merge.c). The CSV row
 * becomes an insert entry with every field, as an agent's first journal entry for it. */
static int merge_csv_row(struct store *s, const struct rows *hdr, const struct row *r, uint64_t seq,
			 uint64_t clock)
{
	struct field fields[BENCH_MAX_COLS];
	struct entry e = { .seq = seq, .table = hdr->t->name, .op = ENTRY_INSERT, .clock = clock };
	size_t nf = 0;
	for (size_t i = 0; i < hdr->ncol; i++) {
		const struct schema_column *col = hdr->col[i];
		if (col->flags & SCHEMA_ID) {
			e.id = r->f[i];
			continue;
		}
		if (col->flags & SCHEMA_OWNER) {
			e.owner = r->f[i];
			continue;
		}
		struct field *f = &fields[nf++];
		f->name = col->name;
		memset(&f->v, 0, sizeof f->v);
		if (!r->len[i])
			f->v.kind = VALUE_NULL;
		else if (is_int(col)) {
			f->v.kind = VALUE_INT;
			f->v.i = strtoll(r->f[i], NULL, 10);
		} else {
			f->v.kind = VALUE_TEXT;
			f->v.s = r->f[i];
			f->v.len = r->len[i];
		}
	}
	e.fields = fields;
	e.nfields = nf;
	struct merge_row mr;
	int changed = 0;
	uint64_t hs;
	int ok = merge_row_init(&mr, hdr->t, e.id, e.owner) == 0 && s->row_read(s, &mr) >= 0 &&
		 merge_apply(&mr, &e, BENCH_WRITER, &changed) == 0 &&
		 (!changed || (s->next_hs(s, &hs) == 0 && s->row_write(s, &mr, hs, 0) == 0));
	merge_row_release(&mr);
	return ok ? 0 : -1;
}

/* Streams rows (not kept in memory: ten million rows would not fit) into a hub store. */
static int cmd_hubload(const struct opts *o)
{
	struct rows hdr;
	struct reader rd = { 0 };
	struct store *s = NULL;
	char err[256];
	int rc = -1;
	size_t n = 0;
	if (!o->db || !o->rows) {
		fprintf(stderr, "usage: lienket-bench hubload --db HUB.db --rows CSV|- [--limit N]\n");
		return 64;
	}
	memset(&hdr, 0, sizeof hdr);
	hdr.t = schema_table_find(o->table, SCHEMA_VERSION);
	rd.f = strcmp(o->rows, "-") == 0 ? stdin : fopen(o->rows, "rb");
	if (!hdr.t || !rd.f) {
		fprintf(stderr, "lienket-bench: cannot read '%s' as %s\n", o->rows, o->table);
		return 1;
	}
	struct row h;
	if (csv_next(&rd, &h) != 1)
		return 1;
	hdr.ncol = h.nf;
	for (size_t i = 0; i < h.nf; i++)
		if (!(hdr.col[i] = schema_column_find(hdr.t, h.f[i], SCHEMA_VERSION)))
			return 1;
	free(h.buf);
	if (hub_store_open(o->db, 0, &s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-bench: %s\n", err);
		return 1;
	}
	double t0 = mono();
	int in_tx = 0;
	uint64_t clock = (uint64_t)1 << 40;
	for (;;) {
		if (o->limit >= 0 && (long)n >= o->limit)
			break;
		struct row r;
		int c = csv_next(&rd, &r);
		if (c == 0)
			break;
		if (c < 0 || r.nf != hdr.ncol) {
			fprintf(stderr, "lienket-bench: malformed record %zu\n", n + 2);
			goto out;
		}
		if (!in_tx) {
			if (s->begin(s) != 0)
				goto out;
			in_tx = 1;
		}
		int ok = merge_csv_row(s, &hdr, &r, n + 1, ++clock) == 0;
		free(r.buf);
		if (!ok) {
			fprintf(stderr, "lienket-bench: cannot merge record %zu\n", n + 2);
			goto out;
		}
		if (++n % (size_t)o->commit_every == 0) {
			if (s->commit(s) != 0)
				goto out;
			in_tx = 0;
		}
	}
	if (in_tx && s->commit(s) != 0)
		goto out;
	in_tx = 0;
	double dt = mono() - t0;
	printf("hubload rows=%zu seconds=%.3f rows_per_s=%.0f\n", n, dt, dt > 0 ? n / dt : 0.0);
	rc = 0;
out:
	if (in_tx)
		s->rollback(s);
	s->close(s);
	if (rd.f != stdin)
		fclose(rd.f);
	free(rd.rec);
	return rc ? 1 : 0;
}

/* The checkpointer of `serve` (hub/http/api.c checkpointer_main): after commits, at most every
 * 100 ms, copies the log into the database on a connection of its own. */
struct ckpt {
	struct store *s;
	pthread_mutex_t lock;
	pthread_cond_t committed;
	uint64_t commits;
	int stop, failed;
};

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;
	uint64_t seen = 0;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && c->commits == seen)
			pthread_cond_wait(&c->committed, &c->lock);
		if (c->stop)
			break;
		seen = c->commits;
		pthread_mutex_unlock(&c->lock);
		int rc = c->s->checkpoint(c->s);
		struct timespec pause = { 0, 100 * 1000000L };
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&c->lock);
		if (rc != 0)
			c->failed = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* The same-storage baseline of figure 1: the rows merged into a hub database with the
 * hub's own row read + merge + row write (merge_csv_row), the writer connection tuned
 * as `serve` tunes it (writer_tune) with a checkpointer thread beside it, one
 * transaction per --batch rows. Only the merge loop is timed (rows read first). */
static int cmd_hubmerge(const struct opts *o)
{
	struct rows rs;
	struct store *s = NULL;
	struct ckpt c = { .s = NULL };
	pthread_t th;
	int started = 0, in_tx = 0, rc = -1;
	char err[256];
	if (!o->db || !o->rows) {
		fprintf(stderr, "usage: lienket-bench hubmerge --db HUB.db --rows CSV [--batch N]\n");
		return 64;
	}
	if (rows_load(o->rows, o->table, o->limit, &rs) != 0)
		return 1;
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.committed, NULL);
	if (hub_store_open(o->db, 0, &s, err, sizeof err) != 0 ||
	    hub_store_open(o->db, 0, &c.s, err, sizeof err) != 0) {
		fprintf(stderr, "lienket-bench: %s\n", err);
		goto out;
	}
	if (s->writer_tune(s) != 0) {
		fprintf(stderr, "lienket-bench: cannot tune the writer connection\n");
		goto out;
	}
	if (pthread_create(&th, NULL, ckpt_main, &c) != 0)
		goto out;
	started = 1;
	uint64_t clock = (uint64_t)1 << 41;
	double t0 = mono();
	for (size_t k = 0; k < rs.n; k += (size_t)o->batch) {
		size_t to = k + (size_t)o->batch < rs.n ? k + (size_t)o->batch : rs.n;
		if (s->begin(s) != 0)
			goto out;
		in_tx = 1;
		for (size_t j = k; j < to; j++)
			if (merge_csv_row(s, &rs, &rs.r[j], j + 1, ++clock) != 0) {
				fprintf(stderr, "lienket-bench: cannot merge row %zu\n", j + 1);
				goto out;
			}
		if (s->commit(s) != 0)
			goto out;
		in_tx = 0;
		pthread_mutex_lock(&c.lock);
		c.commits++;
		pthread_cond_signal(&c.committed);
		pthread_mutex_unlock(&c.lock);
	}
	double dt = mono() - t0;
	printf("hubmerge rows=%zu batch=%ld seconds=%.3f rows_per_s=%.0f\n", rs.n, o->batch, dt,
	       dt > 0 ? rs.n / dt : 0.0);
	rc = 0;
out:
	if (in_tx)
		s->rollback(s);
	if (started) {
		pthread_mutex_lock(&c.lock);
		c.stop = 1;
		pthread_cond_signal(&c.committed);
		pthread_mutex_unlock(&c.lock);
		pthread_join(th, NULL);
		if (c.failed) {
			fprintf(stderr, "lienket-bench: a checkpoint failed\n");
			rc = -1;
		}
	}
	if (c.s)
		c.s->close(c.s);
	if (s)
		s->close(s);
	pthread_cond_destroy(&c.committed);
	pthread_mutex_destroy(&c.lock);
	rows_free(&rs);
	return rc ? 1 : 0;
}

/* ---- agentfill ---- */

/* The statement agentfill times: an INSERT of every column; an UPDATE of every field
 * column (not id, not owner) by id, given the values of the next row (an edit form saved
 * with every field changed); a DELETE by id. */
static char *fill_sql(const struct rows *rs, const char *table, const char *op)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	if (!strcmp(op, "delete")) {
		sqlite3_str_appendf(q, "DELETE FROM \"%w\" WHERE id = ?1", table);
	} else if (!strcmp(op, "update")) {
		sqlite3_str_appendf(q, "UPDATE \"%w\" SET ", table);
		int first = 1;
		for (size_t i = 0; i < rs->ncol; i++) {
			if (rs->col[i]->flags & (SCHEMA_ID | SCHEMA_OWNER))
				continue;
			sqlite3_str_appendf(q, "%s\"%w\" = ?%d", first ? "" : ", ", rs->col[i]->name, (int)i + 2);
			first = 0;
		}
		sqlite3_str_appendall(q, " WHERE id = ?1");
	} else {
		sqlite3_str_appendf(q, "INSERT INTO \"%w\"(", table);
		for (size_t i = 0; i < rs->ncol; i++)
			sqlite3_str_appendf(q, "%s\"%w\"", i ? "," : "", rs->col[i]->name);
		sqlite3_str_appendall(q, ") VALUES(");
		for (size_t i = 0; i < rs->ncol; i++)
			sqlite3_str_appendf(q, "%s?%d", i ? "," : "", (int)i + 1);
		sqlite3_str_appendall(q, ")");
	}
	return sqlite3_str_finish(q);
}

/* Binds row j for op (fill_sql's layout): the id is always column 0 of the generator's
 * CSV (checked by the caller). */
static void fill_bind(sqlite3_stmt *st, const struct rows *rs, size_t j, const char *op)
{
	const struct row *r = &rs->r[j];
	if (!strcmp(op, "insert")) {
		for (size_t i = 0; i < rs->ncol; i++)
			bind_field(st, (int)i + 1, rs->col[i], r->f[i], r->len[i]);
		return;
	}
	sqlite3_bind_text(st, 1, r->f[0], (int)r->len[0], SQLITE_STATIC);
	if (!strcmp(op, "delete"))
		return;
	const struct row *nx = &rs->r[(j + 1) % rs->n];
	for (size_t i = 0; i < rs->ncol; i++)
		if (!(rs->col[i]->flags & (SCHEMA_ID | SCHEMA_OWNER)))
			bind_field(st, (int)i + 2, rs->col[i], nx->f[i], nx->len[i]);
}

/* Runs op on rows [0, n) of rs through st, one transaction per txn rows. */
static int fill_run(sqlite3 *db, sqlite3_stmt *st, const struct rows *rs, const char *op, size_t txn,
		    const char *dbpath)
{
	for (size_t k = 0; k < rs->n; k += txn) {
		size_t to = k + txn < rs->n ? k + txn : rs->n;
		if (exec(db, "BEGIN IMMEDIATE"))
			return -1;
		for (size_t j = k; j < to; j++) {
			sqlite3_reset(st);
			fill_bind(st, rs, j, op);
			if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
				fprintf(stderr, "lienket-bench: %s: %s: %s\n", dbpath, op, sqlite3_errmsg(db));
				exec(db, "ROLLBACK");
				return -1;
			}
		}
		if (exec(db, "COMMIT"))
			return -1;
	}
	return 0;
}

static int fill_one(const char *dbpath, const char *rowspath, const struct opts *o, double *secs, double *cpu,
		    size_t *nrows)
{
	struct rows rs;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *ins = NULL;
	int rc = -1;
	if (rows_load(rowspath, o->table, o->limit, &rs) != 0)
		return -1;
	if (strcmp(o->op, "insert") && (!rs.ncol || !(rs.col[0]->flags & SCHEMA_ID) || rs.n < 2)) {
		fprintf(stderr, "lienket-bench: %s: --op %s needs two rows or more, id first\n", rowspath, o->op);
		goto out;
	}
	if (open_db(dbpath, &db) != 0 || (!strcmp(o->sync, "off") && exec(db, "PRAGMA synchronous=OFF")))
		goto out;
	char *sql = fill_sql(&rs, o->table, o->op);
	int prc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
	sqlite3_free(sql);
	if (prc == SQLITE_OK && strcmp(o->op, "insert")) {
		/* the rows to update or delete, written first in one transaction (not timed) */
		sql = fill_sql(&rs, o->table, "insert");
		prc = sql ? sqlite3_prepare_v2(db, sql, -1, &ins, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (prc == SQLITE_OK && fill_run(db, ins, &rs, "insert", rs.n, dbpath) != 0)
			goto out;
	}
	if (prc != SQLITE_OK) {
		fprintf(stderr, "lienket-bench: %s: %s\n", dbpath, sqlite3_errmsg(db));
		goto out;
	}
	double t0 = mono(), c0 = cpu_now();
	if (fill_run(db, st, &rs, o->op, (size_t)o->txn, dbpath) != 0)
		goto out;
	*secs = mono() - t0;
	*cpu = cpu_now() - c0;
	*nrows = rs.n;
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(st);
	sqlite3_close(db);
	rows_free(&rs);
	return rc;
}

/* The agent's process-wide SQLite setting (STORE_STMT_JOURNAL_SPILL in agent/store.h,
 * set by lienket-agent's main through store_process_init; agent/store.h cannot be
 * included beside the hub's store.h): both sides of figure 4 run as the agent runs. */
#define AGENT_STMT_JOURNAL_SPILL (256 * 1024)

static int cmd_agentfill(const struct opts *o)
{
	double secs = 0, total = 0, cpu = 0, cpu_total = 0;
	size_t n = 0, all = 0, dbs = 0;
	if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, AGENT_STMT_JOURNAL_SPILL) != SQLITE_OK) {
		fprintf(stderr, "lienket-bench: cannot configure SQLite as the agent does\n");
		return 1;
	}
	if (o->list) {
		FILE *f = fopen(o->list, "r");
		char line[2048], dbp[1024], rp[1024];
		if (!f) {
			fprintf(stderr, "lienket-bench: cannot open '%s'\n", o->list);
			return 1;
		}
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "%1023s %1023s", dbp, rp) != 2)
				continue;
			if (fill_one(dbp, rp, o, &secs, &cpu, &n) != 0) {
				fclose(f);
				return 1;
			}
			total += secs;
			cpu_total += cpu;
			all += n;
			dbs++;
		}
		fclose(f);
	} else {
		if (!o->db || !o->rows) {
			fprintf(stderr, "usage: lienket-bench agentfill (--db AGENT.db --rows CSV | --list FILE)"
					" [--txn N] [--limit N] [--table T] [--op insert|update|delete]"
					" [--sync full|off]\n");
			return 64;
		}
		if (fill_one(o->db, o->rows, o, &total, &cpu_total, &all) != 0)
			return 1;
		dbs = 1;
	}
	/* rows_per_cpu_s: rows per CPU second of this process (user + system) in the timed
	 * section; unlike rows_per_s it leaves out the time other processes held the CPU
	 * and the time spent waiting for the disk (fsync) */
	printf("agentfill op=%s sync=%s dbs=%zu rows=%zu txn=%ld seconds=%.3f rows_per_s=%.0f cpu_seconds=%.3f"
	       " rows_per_cpu_s=%.0f\n",
	       o->op, o->sync, dbs, all, o->txn, total, total > 0 ? all / total : 0.0, cpu_total,
	       cpu_total > 0 ? all / cpu_total : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (argc < 2 || parse(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: lienket-bench upsert|pgupsert|session|hubload|hubmerge|agentfill [options]"
				" (bench/bench_merge.c)\n");
		return 64;
	}
	if (!strcmp(argv[1], "upsert"))
		return cmd_upsert(&o);
#ifdef LK_STORE_PG
	if (!strcmp(argv[1], "pgupsert"))
		return cmd_pgupsert(&o);
#endif
	if (!strcmp(argv[1], "session"))
		return cmd_session(&o);
	if (!strcmp(argv[1], "hubload"))
		return cmd_hubload(&o);
	if (!strcmp(argv[1], "hubmerge"))
		return cmd_hubmerge(&o);
	if (!strcmp(argv[1], "agentfill"))
		return cmd_agentfill(&o);
	fprintf(stderr, "lienket-bench: unknown subcommand '%s'\n", argv[1]);
	return 64;
}
