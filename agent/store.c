/*
 * store.c — the agent's local SQLite database (see store.h).
 *
 * Everything about the synced tables is generated from schema_tables[]: the tables
 * with one named CHECK constraint per column (type, enumeration, length, range,
 * calendar date), NOT NULL for required columns, UNIQUE for natural keys, and four
 * kinds of trigger per table:
 *
 *   lk_<t>_ai / _au / _ad   AFTER INSERT / UPDATE / DELETE, only while
 *                           lk_state.applying = 0: raise lk_state.last_clock to
 *                           max(last_clock + 1, recorded_ms << 16) (PROTOCOL.md §4) and
 *                           append one lk_journal row in the same transaction. An
 *                           update that changes nothing writes nothing.
 *   lk_<t>_owner            BEFORE UPDATE: id and unit_id never change (RAISE
 *                           'owner_changed'), even while applying: the hub never moves a
 *                           row to another owner either.
 *   lk_<t>_key              BEFORE UPDATE, natural-key tables: key columns never change
 *                           (RAISE 'key_changed').
 *   lk_<t>_hub_only_*       hub-only tables: any local write outside applying is refused
 *                           (RAISE 'hub_only').
 *
 * Because journaling lives in triggers, a write by any program on the same file is
 * journaled exactly like the agent's own; the invariant is "every committed change of a
 * synced table made outside store_apply_begin/end has exactly one lk_journal row, with
 * strictly increasing clocks in sequence order when written (after a clock_ahead they
 * are lowered per row: journal.h), and a floor read from lk_row_clock". Journal rows leave hash and chain NULL:
 * SQL has no SHA-256, so the sync engine fills them in sequence order before sending.
 *
 * Owns: the sqlite3 connection and copies of the agent and unit ids.
 */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"
#include "plat.h"
#include "schema.h"
#include "textnorm.h"

/* Statements kept prepared between store_stmt_give and the next take of the same SQL:
 * the pull merge runs about four per row, and preparing them was most of its CPU. A
 * table has a handful of statement shapes and a page touches one or two tables. */
#define STORE_STMT_CACHE 16

struct store {
	sqlite3 *db;
	char agent_id[IDS_UUID_TEXT];
	char unit_id[IDS_UUID_TEXT]; /* "" while the unit is known only by its code */
	sqlite3_stmt *stmts[STORE_STMT_CACHE]; /* given back, oldest first; reset, unbound */
	size_t nstmts;
};

/* Milliseconds since 1970 as SQLite sees them; julianday('now') is fixed for one
 * sqlite3_step, so every use inside one trigger run agrees. */
#define NOW_MS_SQL "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

/* A backup step that meets a writer retries this often, this long apart: a daemon's
 * sync holds the lock at most STORE_BUSY_TIMEOUT_MS. */
#define BACKUP_RETRY_SLEEP_MS 100
#define BACKUP_MAX_RETRIES (STORE_BUSY_TIMEOUT_MS / BACKUP_RETRY_SLEEP_MS)
#define MS_PER_DAY 86400000LL
/* Longest path we build for a backup file: dir + "/lienket-YYYYMMDD-HHMMSS.db". */
#define BACKUP_PATH_MAX 4096

/* The highest clock pulled for each row (and of own entries compacted away): what a new
 * entry of the row records as its floor (PROTOCOL.md §4). */
#define STORE_ROW_CLOCK_DDL \
	"CREATE TABLE IF NOT EXISTS lk_row_clock(\n" \
	"  tbl TEXT NOT NULL,\n" \
	"  row_id TEXT NOT NULL,\n" \
	"  clock INTEGER NOT NULL,\n" \
	"  PRIMARY KEY (tbl, row_id)\n" \
	") WITHOUT ROWID;\n"

/* PRAGMA user_version: the layout of the lk_* tables, apart from the synced tables'
 * schema version. 1: entries record their floor and lk_row_clock exists. */
#define STORE_LAYOUT 1

static const char internal_ddl[] =
	"CREATE TABLE lk_state(\n"
	"  one INTEGER PRIMARY KEY CHECK (one = 1),\n"
	"  agent_id TEXT NOT NULL CHECK (length(agent_id) = 36),\n"
	"  unit_id TEXT NOT NULL CHECK (unit_id = '' OR length(unit_id) = 36),\n"
	"  last_clock INTEGER NOT NULL DEFAULT 0 CHECK (last_clock >= 0),\n"
	"  offset_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  applying INTEGER NOT NULL DEFAULT 0 CHECK (applying IN (0, 1)),\n"
	"  schema_version INTEGER NOT NULL,\n"
	"  acked_seq INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0)\n"
	");\n"
	"CREATE TABLE lk_journal(\n"
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  tbl TEXT NOT NULL,\n"
	"  row_id TEXT NOT NULL,\n"
	"  op TEXT NOT NULL CHECK (op IN ('i', 'u', 'd')),\n"
	"  owner TEXT NOT NULL,\n"
	"  fields TEXT NOT NULL CHECK (json_valid(fields)),\n"
	"  recorded_ms INTEGER NOT NULL,\n"
	"  clock INTEGER NOT NULL,\n"
	"  schema_version INTEGER NOT NULL,\n"
	"  hash BLOB,\n"
	"  chain BLOB,\n"
	"  skipped TEXT,\n"
	"  row_floor INTEGER NOT NULL DEFAULT 0\n"
	");\n"
	"CREATE INDEX lk_journal_row ON lk_journal(tbl, row_id, seq);\n"
	STORE_ROW_CLOCK_DDL
	"CREATE TABLE lk_config(key TEXT PRIMARY KEY, value TEXT);\n"
	"CREATE TABLE lk_quarantine(\n"
	"  seq INTEGER NOT NULL,\n"
	"  code TEXT NOT NULL,\n"
	"  tbl TEXT,\n"
	"  row_id TEXT,\n"
	"  field TEXT,\n"
	"  message TEXT,\n"
	"  at_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX lk_quarantine_seq ON lk_quarantine(seq);\n"
	"CREATE TABLE lk_skipped(\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  reason TEXT NOT NULL,\n"
	"  at_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE lk_backup(path TEXT PRIMARY KEY, made_ms INTEGER NOT NULL);\n";

/* Indexes beyond the generated ones, for store_in_scope's walk up the unit tree. Also
 * run on every open (IF NOT EXISTS: nothing is written once they exist), so databases
 * created before them get them without a schema version of their own. */
#define STORE_SCOPE_INDEXES \
	"CREATE INDEX IF NOT EXISTS lk_unit_parent_of ON unit_parent(of_unit);\n" \
	"CREATE INDEX IF NOT EXISTS lk_unit_event_of ON unit_event(of_unit);\n"

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
}

void store_bind_value(sqlite3_stmt *st, int idx, const struct value *v)
{
	if (v->kind == VALUE_INT)
		sqlite3_bind_int64(st, idx, v->i);
	else if (v->kind == VALUE_TEXT)
		sqlite3_bind_text(st, idx, v->s, (int)v->len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

int64_t store_wall_ms(void)
{
	struct timespec ts;
	/* clock_gettime, not C11's timespec_get: mingw-w64's C runtime (msvcrt) lacks it. */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL) * 1000;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_process_init(void)
{
	return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_STMT_JOURNAL_SPILL) == SQLITE_OK ? 0 : -1;
}

const char *store_default_path(void)
{
	const char *p = plat_getenv("LIENKET_DB");
	return (p && *p) ? p : "lienket.db";
}

/* ---- DDL generation ---- */

/* Appends the CHECK expression of one column (without the NULL allowance). */
static void append_check_expr(sqlite3_str *q, const struct schema_column *c)
{
	const char *n = c->name;
	switch (c->type) {
	case SCHEMA_TEXT:
		sqlite3_str_appendf(q,
				    "typeof(\"%w\") = 'text' AND length(CAST(\"%w\" AS BLOB)) <= %d"
				    " AND instr(CAST(\"%w\" AS BLOB), x'00') = 0",
				    n, n, c->max_len, n);
		break;
	case SCHEMA_INT:
		sqlite3_str_appendf(q, "typeof(\"%w\") = 'integer' AND \"%w\" BETWEEN %lld AND %lld",
				    n, n, (long long)c->min, (long long)c->max);
		break;
	case SCHEMA_BOOL:
		sqlite3_str_appendf(q, "typeof(\"%w\") = 'integer' AND \"%w\" IN (0, 1)", n, n);
		break;
	case SCHEMA_DATE:
		/* date() alone accepts 2021-02-30; a '+0 days' modifier normalises it. */
		sqlite3_str_appendf(q, "typeof(\"%w\") = 'text' AND date(\"%w\", '+0 days') IS \"%w\"",
				    n, n, n);
		break;
	case SCHEMA_ENUM:
		sqlite3_str_appendf(q, "\"%w\" IN (", n);
		for (const struct schema_enum_value *v = c->enum_values; v->code; v++)
			sqlite3_str_appendf(q, "%s%Q", v == c->enum_values ? "" : ", ", v->code);
		sqlite3_str_appendall(q, ")");
		break;
	case SCHEMA_REF:
		sqlite3_str_appendf(q,
				    "typeof(\"%w\") = 'text' AND \"%w\" GLOB "
				    "'[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
				    "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
				    "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
				    "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
				    "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]'",
				    n, n);
		break;
	}
}

/* One column definition. A column added to an existing table (added = 1) cannot be
 * NOT NULL: the rows written before it have no value. */
static void append_column_def(sqlite3_str *q, const struct schema_column *c, int added)
{
	const char *affinity = (c->type == SCHEMA_INT || c->type == SCHEMA_BOOL) ? "INTEGER" : "TEXT";
	int not_null = (c->flags & SCHEMA_REQUIRED) && !added;
	sqlite3_str_appendf(q, "\"%w\" %s%s%s CONSTRAINT \"%w\" CHECK (", c->name, affinity,
			    (c->flags & SCHEMA_ID) ? " PRIMARY KEY" : "", not_null ? " NOT NULL" : "", c->name);
	if (!not_null)
		sqlite3_str_appendf(q, "\"%w\" IS NULL OR (", c->name);
	append_check_expr(q, c);
	sqlite3_str_appendall(q, not_null ? ")" : "))");
}

/* if_not_exists: for upgrades, which may meet a table a failed earlier run created. */
static void append_table_ddl(sqlite3_str *q, const struct schema_table *t, int if_not_exists)
{
	const char *ine = if_not_exists ? "IF NOT EXISTS " : "";
	sqlite3_str_appendf(q, "CREATE TABLE %s\"%w\"(\n", ine, t->name);
	for (size_t i = 0; i < t->ncolumns; i++) {
		sqlite3_str_appendall(q, "  ");
		append_column_def(q, &t->columns[i], 0);
		sqlite3_str_appendall(q, i + 1 < t->ncolumns || schema_table_has_key(t) ? ",\n" : "\n");
	}
	if (schema_table_has_key(t)) {
		sqlite3_str_appendall(q, "  UNIQUE (");
		int first = 1;
		for (size_t i = 0; i < t->ncolumns; i++)
			if (t->columns[i].flags & SCHEMA_KEY) {
				sqlite3_str_appendf(q, "%s\"%w\"", first ? "" : ", ", t->columns[i].name);
				first = 0;
			}
		sqlite3_str_appendall(q, ")\n");
	}
	sqlite3_str_appendall(q, ");\n");
	sqlite3_str_appendf(q, "CREATE INDEX %s\"%w_unit\" ON \"%w\"(unit_id);\n", ine, t->name, t->name);
}

/* The statements shared by the three journaling triggers: bump the clock, then append. */
static void append_journal_head(sqlite3_str *q)
{
	sqlite3_str_appendall(q, "  UPDATE lk_state SET last_clock = max(last_clock + 1, max(0, " NOW_MS_SQL
				 " + offset_ms) << 16);\n"
				 "  INSERT INTO lk_journal(tbl, row_id, op, owner, fields, recorded_ms, clock,"
				 " schema_version, row_floor)\n");
}

/* `row` is NEW or OLD: the entry's floor is what lk_row_clock knows of the row now. */
static void append_journal_tail(sqlite3_str *q, const struct schema_table *t, const char *row)
{
	sqlite3_str_appendf(q,
			    ", " NOW_MS_SQL " + offset_ms, last_clock, schema_version,"
			    " coalesce((SELECT clock FROM lk_row_clock WHERE tbl = %Q AND row_id = %s.id), 0)"
			    " FROM lk_state;\nEND;\n",
			    t->name, row);
}

/* Columns that travel in `fields`: all but id and unit_id (the owner travels apart). */
static int is_field_column(const struct schema_column *c)
{
	return !(c->flags & (SCHEMA_ID | SCHEMA_OWNER));
}

static void append_triggers(sqlite3_str *q, const struct schema_table *t)
{
	const char *n = t->name;
	const char *when = "WHEN (SELECT applying FROM lk_state) = 0";

	/* insert: every field, nulls included */
	sqlite3_str_appendf(q, "CREATE TRIGGER \"lk_%w_ai\" AFTER INSERT ON \"%w\" %s BEGIN\n", n, n, when);
	append_journal_head(q);
	sqlite3_str_appendf(q, "  SELECT %Q, NEW.id, 'i', NEW.unit_id, json_object(", n);
	int first = 1;
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (!is_field_column(c))
			continue;
		sqlite3_str_appendf(q, "%s%Q, NEW.\"%w\"", first ? "" : ", ", c->name, c->name);
		first = 0;
	}
	sqlite3_str_appendall(q, ")");
	append_journal_tail(q, t, "NEW");

	/* update: only the fields that changed; no entry when none did */
	sqlite3_str_appendf(q, "CREATE TRIGGER \"lk_%w_au\" AFTER UPDATE ON \"%w\" %s AND (", n, n, when);
	first = 1;
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (!is_field_column(c))
			continue;
		sqlite3_str_appendf(q, "%sNEW.\"%w\" IS NOT OLD.\"%w\"", first ? "" : " OR ", c->name, c->name);
		first = 0;
	}
	if (first)
		sqlite3_str_appendall(q, "0");
	sqlite3_str_appendall(q, ") BEGIN\n");
	append_journal_head(q);
	sqlite3_str_appendf(q, "  SELECT %Q, NEW.id, 'u', NEW.unit_id, (SELECT json_group_object(k, v) FROM (", n);
	first = 1;
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (!is_field_column(c))
			continue;
		sqlite3_str_appendf(q, "%sSELECT %Q AS k, NEW.\"%w\" AS v WHERE NEW.\"%w\" IS NOT OLD.\"%w\"",
				    first ? "" : " UNION ALL ", c->name, c->name, c->name, c->name);
		first = 0;
	}
	sqlite3_str_appendall(q, "))");
	append_journal_tail(q, t, "NEW");

	/* delete: no fields */
	sqlite3_str_appendf(q, "CREATE TRIGGER \"lk_%w_ad\" AFTER DELETE ON \"%w\" %s BEGIN\n", n, n, when);
	append_journal_head(q);
	sqlite3_str_appendf(q, "  SELECT %Q, OLD.id, 'd', OLD.unit_id, '{}'", n);
	append_journal_tail(q, t, "OLD");

	/* immutable id and owner, always */
	sqlite3_str_appendf(q,
			    "CREATE TRIGGER \"lk_%w_owner\" BEFORE UPDATE ON \"%w\" WHEN NEW.id IS NOT OLD.id"
			    " OR NEW.unit_id IS NOT OLD.unit_id BEGIN\n"
			    "  SELECT RAISE(ABORT, 'owner_changed');\nEND;\n",
			    n, n);

	if (schema_table_has_key(t)) {
		sqlite3_str_appendf(q, "CREATE TRIGGER \"lk_%w_key\" BEFORE UPDATE ON \"%w\" WHEN ", n, n);
		first = 1;
		for (size_t i = 0; i < t->ncolumns; i++) {
			const struct schema_column *c = &t->columns[i];
			if (!(c->flags & SCHEMA_KEY) || (c->flags & SCHEMA_OWNER))
				continue;
			sqlite3_str_appendf(q, "%sNEW.\"%w\" IS NOT OLD.\"%w\"", first ? "" : " OR ", c->name, c->name);
			first = 0;
		}
		sqlite3_str_appendall(q, " BEGIN\n  SELECT RAISE(ABORT, 'key_changed');\nEND;\n");
	}

	if (t->hub_only) {
		static const char *const ops[] = { "INSERT", "UPDATE", "DELETE" };
		for (size_t k = 0; k < 3; k++)
			sqlite3_str_appendf(q,
					    "CREATE TRIGGER \"lk_%w_hub_only_%c\" BEFORE %s ON \"%w\" %s BEGIN\n"
					    "  SELECT RAISE(ABORT, 'hub_only');\nEND;\n",
					    n, "iud"[k], ops[k], n, when);
	}
}

int store_schema_sql(char **out)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendall(q, internal_ddl);
	for (size_t i = 0; i < schema_ntables; i++) {
		append_table_ddl(q, &schema_tables[i], 0);
		append_triggers(q, &schema_tables[i]);
	}
	sqlite3_str_appendall(q, STORE_SCOPE_INDEXES);
	int rc = sqlite3_str_errcode(q);
	char *sql = sqlite3_str_finish(q);
	if (rc != SQLITE_OK || !sql) {
		sqlite3_free(sql);
		return -1;
	}
	char *copy = malloc(strlen(sql) + 1);
	if (copy)
		memcpy(copy, sql, strlen(sql) + 1);
	sqlite3_free(sql);
	if (!copy)
		return -1;
	*out = copy;
	return 0;
}

/* ---- open / create ---- */

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_err(err, errlen, "sqlite: %s%s", msg ? msg : sqlite3_errmsg(db), NULL);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* STORE_SCOPE_INDEXES on a database made before them. They only make the scope walk
 * faster, so making them never fails an open nor waits for a lock a daemon holds (an
 * existing index takes no lock at all): when the database is busy the next open tries
 * again, and a failure is deliberately not an error. */
static void scope_indexes(sqlite3 *db)
{
	(void)sqlite3_busy_timeout(db, 0);
	(void)sqlite3_exec(db, STORE_SCOPE_INDEXES, NULL, NULL, NULL);
	(void)sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
}

/* Per-connection settings: durability (a returned command survives a power cut),
 * concurrency with a daemon, and WAL (persistent, but asserted on every open). */
/* lk_fold(text): textnorm_fold's search key, so a search compares keys in SQL
 * (`instr(lk_fold(full_name), ?)`); NULL for NULL, and for text that is not UTF-8. */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	if (!s) {
		sqlite3_result_null(ctx);
		return;
	}
	char *key = NULL;
	size_t n = 0;
	enum textnorm_code rc = textnorm_fold(s, (size_t)sqlite3_value_bytes(argv[0]), &key, &n);
	if (rc == TEXTNORM_NOMEM)
		sqlite3_result_error_nomem(ctx);
	else if (rc != TEXTNORM_OK)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx, key, (int)n, free);
}

static int configure(sqlite3 *db, char *err, size_t errlen)
{
	if (sqlite3_create_function(db, "lk_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				    sql_fold, NULL, NULL) != SQLITE_OK)
		return set_err(err, errlen, "cannot register lk_fold: %s%s", sqlite3_errmsg(db), NULL), -1;
	if (sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
		return set_err(err, errlen, "cannot set busy timeout: %s%s", sqlite3_errmsg(db), NULL), -1;
	if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", err,
		 errlen))
		return -1;
	/* journal_mode answers the mode it got: on a file system without shared memory
	 * (some network shares) WAL is refused silently, and the daemon beside interactive
	 * use would then block; better to say so at once. */
	sqlite3_stmt *st = NULL;
	int wal = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (!wal) {
		set_err(err, errlen, "cannot use WAL journal mode here%s%s", NULL, NULL);
		return -1;
	}
	return 0;
}

static int load_state(struct store *s, int *version_out, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(s->db, "SELECT agent_id, unit_id, schema_version, applying FROM lk_state WHERE one = 1",
			       -1, &st, NULL) != SQLITE_OK) {
		set_err(err, errlen, "not an agent database (%s)%s", sqlite3_errmsg(s->db), NULL);
		goto done;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		set_err(err, errlen, "not an agent database: lk_state is empty%s%s", NULL, NULL);
		goto done;
	}
	const char *agent = (const char *)sqlite3_column_text(st, 0);
	const char *unit = (const char *)sqlite3_column_text(st, 1);
	int version = sqlite3_column_int(st, 2);
	if (version > SCHEMA_VERSION) {
		set_err(err, errlen, "database written by a newer lienket-agent (schema %s)%s",
			(const char *)sqlite3_column_text(st, 2), NULL);
		goto done;
	}
	if (!agent || strlen(agent) != 36 || !unit || (unit[0] && strlen(unit) != 36)) {
		set_err(err, errlen, "not an agent database: bad lk_state row%s%s", NULL, NULL);
		goto done;
	}
	memcpy(s->agent_id, agent, 37);
	memcpy(s->unit_id, unit, strlen(unit) + 1);
	*version_out = version;
	int stuck = sqlite3_column_int(st, 3) != 0;
	sqlite3_finalize(st);
	st = NULL;
	/* Readers see only committed state, where applying is 0 unless a program
	 * committed a pull without store_apply_end: then nothing would ever be journaled
	 * again, so put it right. */
	if (stuck && exec(s->db, "UPDATE lk_state SET applying = 0 WHERE one = 1", err, errlen))
		goto done;
	ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

/* Appends a DROP TRIGGER for every generated trigger (lk_*) of the database. 0 or -1. */
static int append_trigger_drops(sqlite3 *db, sqlite3_str *q, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'trigger'"
				   " AND name LIKE 'lk\\_%' ESCAPE '\\'",
			       -1, &st, NULL) != SQLITE_OK) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(db), NULL);
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sqlite3_str_appendf(q, "DROP TRIGGER \"%w\";\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(db), NULL);
		return -1;
	}
	return 0;
}

/* Runs the generated SQL of q (finished here) and COMMIT; on failure rolls back. The
 * caller has begun the transaction. 0 or -1. */
static int exec_built(sqlite3 *db, sqlite3_str *q, char *err, size_t errlen)
{
	char *sql = sqlite3_str_finish(q);
	int ret = -1;
	if (!sql)
		set_err(err, errlen, "out of memory%s%s", NULL, NULL);
	else if (exec(db, sql, err, errlen) == 0 && exec(db, "COMMIT", err, errlen) == 0)
		ret = 0;
	sqlite3_free(sql);
	if (ret && !sqlite3_get_autocommit(db))
		exec(db, "ROLLBACK", NULL, 0);
	return ret;
}

/* Starts the one transaction that rebuilds the generated triggers (with what the
 * caller appends): BEGIN IMMEDIATE and a DROP of every generated trigger in the SQL
 * returned, to be finished by exec_built. NULL (rolled back, reason in err) on failure. */
static sqlite3_str *rebuild_begin(sqlite3 *db, char *err, size_t errlen)
{
	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return NULL;
	sqlite3_str *q = sqlite3_str_new(NULL);
	if (append_trigger_drops(db, q, err, errlen) != 0) {
		sqlite3_free(sqlite3_str_finish(q));
		exec(db, "ROLLBACK", NULL, 0);
		return NULL;
	}
	return q;
}

/* Brings a database written under schema `from` to SCHEMA_VERSION in one transaction:
 * new tables, new columns (nullable, see append_column_def), every generated trigger
 * dropped and generated again, lk_state.schema_version raised. Entries already in the
 * journal keep the version they were written under, so they travel as they were. */
static int upgrade(struct store *s, int from, char *err, size_t errlen)
{
	sqlite3_str *q = rebuild_begin(s->db, err, errlen);
	if (!q)
		return -1;
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *t = &schema_tables[i];
		if (t->since > from) {
			append_table_ddl(q, t, 1);
		} else {
			for (size_t k = 0; k < t->ncolumns; k++) {
				if (t->columns[k].since <= from)
					continue;
				sqlite3_str_appendf(q, "ALTER TABLE \"%w\" ADD COLUMN ", t->name);
				append_column_def(q, &t->columns[k], 1);
				sqlite3_str_appendall(q, ";\n");
			}
		}
		append_triggers(q, t);
	}
	sqlite3_str_appendf(q, "UPDATE lk_state SET schema_version = %d WHERE one = 1;\n", SCHEMA_VERSION);
	return exec_built(s->db, q, err, errlen);
}

/* PRAGMA user_version, 0 for a database made before layouts were numbered. */
static int layout_of(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Takes write access from the group and every access from others away from the
 * database and its WAL and shared-memory files, when they exist and are ours: older
 * agents made them 0644 though the database holds the hub token in clear, and SQLite
 * gives a new WAL the database file's mode. (New files are 0600 by lienket-agent's
 * umask.) plat_private_file does it (a documented no-op on Windows). 0, or -1 with the
 * reason in err. */
static int tighten_modes(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char p[BACKUP_PATH_MAX];
		if (snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= (int)sizeof p)
			continue; /* SQLite could not open it either */
		if (plat_private_file(p, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* A database of layout 0 gets floors (PROTOCOL.md §4, "databases from before floors"):
 * lk_row_clock, lk_journal.row_floor (0 for the entries already there: what was pulled
 * before was never kept; their own earlier entries of the row still count when they
 * are lowered), the triggers generated again so new entries record their floor, and
 * the pull restarted from cursor 0 once so every row's pulled stamps are known again.
 * One transaction. */
static int migrate_layout(struct store *s, char *err, size_t errlen)
{
	sqlite3_str *q = rebuild_begin(s->db, err, errlen);
	if (!q)
		return -1;
	sqlite3_str_appendall(q, STORE_ROW_CLOCK_DDL
			      "ALTER TABLE lk_journal ADD COLUMN row_floor INTEGER NOT NULL DEFAULT 0;\n"
			      "UPDATE lk_config SET value = '0' WHERE key = 'pull_cursor';\n");
	for (size_t i = 0; i < schema_ntables; i++)
		append_triggers(q, &schema_tables[i]);
	sqlite3_str_appendf(q, "PRAGMA user_version = %d;\n", STORE_LAYOUT);
	return exec_built(s->db, q, err, errlen);
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	if (tighten_modes(path, err, errlen) != 0)
		return -1;
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		set_err(err, errlen, "out of memory%s%s", NULL, NULL);
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		set_err(err, errlen, "cannot open '%s': %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	int version = 0;
	if (configure(s->db, err, errlen) || load_state(s, &version, err, errlen))
		goto fail;
	if (version < SCHEMA_VERSION && upgrade(s, version, err, errlen))
		goto fail;
	int layout = 0;
	if (layout_of(s->db, &layout) != 0) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
		goto fail;
	}
	if (layout > STORE_LAYOUT) {
		if (err && errlen)
			snprintf(err, errlen, "database written by a newer lienket-agent (layout %d)", layout);
		goto fail;
	}
	if (layout < STORE_LAYOUT && migrate_layout(s, err, errlen))
		goto fail;
	scope_indexes(s->db);
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

static void remove_db_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char buf[BACKUP_PATH_MAX];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		if (snprintf(buf, sizeof buf, "%s%s", path, suffix[i]) < (int)sizeof buf)
			plat_remove(buf);
	}
}

int store_create(const char *path, const char *unit_id, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	char *ddl = NULL;
	sqlite3_stmt *st = NULL;
	int created = 0;
	const char *unit = unit_id ? unit_id : "";

	if (unit[0] && !ids_uuid_valid(unit)) {
		set_err(err, errlen, "unit id '%s' is not a UUID%s", unit, NULL);
		return -1;
	}
	FILE *probe = plat_fopen(path, "rb");
	if (probe) {
		fclose(probe);
		set_err(err, errlen, "'%s' already exists%s", path, NULL);
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		set_err(err, errlen, "out of memory%s%s", NULL, NULL);
		return -1;
	}
	if (ids_uuid7(store_wall_ms(), s->agent_id) != 0) {
		set_err(err, errlen, "no random source for the agent id%s%s", NULL, NULL);
		goto fail;
	}
	memcpy(s->unit_id, unit, strlen(unit) + 1);
	created = 1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		set_err(err, errlen, "cannot create '%s': %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	if (configure(s->db, err, errlen))
		goto fail;
	if (store_schema_sql(&ddl) != 0) {
		set_err(err, errlen, "out of memory%s%s", NULL, NULL);
		goto fail;
	}
	if (exec(s->db, "BEGIN IMMEDIATE", err, errlen))
		goto fail;
	if (exec(s->db, ddl, err, errlen))
		goto fail;
	{
		char pragma[48];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", STORE_LAYOUT);
		if (exec(s->db, pragma, err, errlen))
			goto fail;
	}
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO lk_state(one, agent_id, unit_id, last_clock, offset_ms, applying,"
			       " schema_version, acked_seq) VALUES (1, ?1, ?2, 0, 0, 0, ?3, 0)",
			       -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, s->agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->unit_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, SCHEMA_VERSION);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	if (exec(s->db, "COMMIT", err, errlen))
		goto fail;
	free(ddl);
	*out = s;
	return 0;
sqlfail:
	set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
fail:
	sqlite3_finalize(st);
	free(ddl);
	store_close(s);
	if (created)
		remove_db_files(path);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	/* sqlite3_close refuses a connection with statements left: finalize ours first. */
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i]);
	s->nstmts = 0;
	if (s->db)
		sqlite3_close(s->db);
	free(s);
}

sqlite3 *store_db(struct store *s) { return s->db; }

int store_stmt_take(struct store *s, const char *sql, sqlite3_stmt **out)
{
	/* Newest first: the statement given back last is the likeliest to be asked again. */
	for (size_t i = s->nstmts; i-- > 0;) {
		const char *text = sqlite3_sql(s->stmts[i]);
		if (text && strcmp(text, sql) == 0) {
			*out = s->stmts[i];
			memmove(&s->stmts[i], &s->stmts[i + 1],
				(s->nstmts - i - 1) * sizeof s->stmts[0]); // NOLINT(bugprone-sizeof-expression): array of pointers
			s->nstmts--;
			return 0;
		}
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK || !st) {
		sqlite3_finalize(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_stmt_give(struct store *s, sqlite3_stmt *st)
{
	if (!st)
		return;
	/* reset also ends the statement's read of the database (its lock in WAL). */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (s->nstmts == STORE_STMT_CACHE) {
		sqlite3_finalize(s->stmts[0]);
		memmove(&s->stmts[0], &s->stmts[1],
			(STORE_STMT_CACHE - 1) * sizeof s->stmts[0]); // NOLINT(bugprone-sizeof-expression): array of pointers
		s->nstmts--;
	}
	s->stmts[s->nstmts++] = st;
}
const char *store_agent_id(struct store *s) { return s->agent_id; }
const char *store_unit_id(struct store *s) { return s->unit_id; }

int store_set_unit_id(struct store *s, const char *unit_id)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (!unit_id || !ids_uuid_valid(unit_id) || s->unit_id[0])
		return -1;
	if (sqlite3_prepare_v2(s->db, "UPDATE lk_state SET unit_id = ?1 WHERE one = 1 AND unit_id = ''", -1,
			       &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, unit_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1)
		goto done;
	memcpy(s->unit_id, unit_id, IDS_UUID_TEXT);
	ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

/* ---- config ---- */

int store_config_get(struct store *s, const char *key, char **out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	*out = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM lk_config WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto done;
	const unsigned char *v = sqlite3_column_text(st, 0);
	if (!v) {
		ret = 1;
		goto done;
	}
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	char *copy = malloc(n + 1);
	if (!copy)
		goto done;
	memcpy(copy, v, n + 1);
	*out = copy;
	ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

int store_config_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	const char *sql = value ? "INSERT INTO lk_config(key, value) VALUES (?1, ?2)"
				  " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
				: "DELETE FROM lk_config WHERE key = ?1";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto done;
	ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

int64_t store_config_int(struct store *s, const char *key, int64_t dflt)
{
	char *v = NULL;
	int64_t r = dflt;
	if (store_config_get(s, key, &v) == 0) {
		char *end = NULL;
		long long n = strtoll(v, &end, 10);
		if (end != v && *end == '\0')
			r = n;
	}
	free(v);
	return r;
}

int store_config_set_int(struct store *s, const char *key, int64_t value)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)value);
	return store_config_set(s, key, buf);
}

int store_config_u64(struct store *s, const char *key, uint64_t dflt, uint64_t *out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM lk_config WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto done;
	const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	*out = v && *v ? strtoull(v, NULL, 10) : dflt;
	ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

int store_config_set_u64(struct store *s, const char *key, uint64_t value)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, value);
	return store_config_set(s, key, buf);
}

/* ---- lk_state numbers ---- */

/* The statements for each enum store_state, so no column name is ever pasted. */
static const struct {
	const char *get, *set;
} state_sql[] = {
	[STORE_STATE_ACKED_SEQ] = { "SELECT acked_seq FROM lk_state WHERE one = 1",
				    "UPDATE lk_state SET acked_seq = ?1 WHERE one = 1" },
	[STORE_STATE_LAST_CLOCK] = { "SELECT last_clock FROM lk_state WHERE one = 1",
				     "UPDATE lk_state SET last_clock = ?1 WHERE one = 1" },
	[STORE_STATE_OFFSET_MS] = { "SELECT offset_ms FROM lk_state WHERE one = 1",
				    "UPDATE lk_state SET offset_ms = ?1 WHERE one = 1" },
};

int store_state_i64(struct store *s, enum store_state field, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if ((size_t)field >= sizeof state_sql / sizeof state_sql[0] ||
	    store_stmt_take(s, state_sql[field].get, &st) != 0)
		goto done;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto done;
	*out = sqlite3_column_int64(st, 0);
	ret = 0;
done:
	store_stmt_give(s, st);
	return ret;
}

int store_state_set_i64(struct store *s, enum store_state field, int64_t value)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if ((size_t)field >= sizeof state_sql / sizeof state_sql[0] ||
	    store_stmt_take(s, state_sql[field].set, &st) != 0)
		goto done;
	sqlite3_bind_int64(st, 1, value);
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
done:
	store_stmt_give(s, st);
	return ret;
}

/* ---- applying pulled rows ---- */

int store_apply_begin(struct store *s)
{
	if (exec(s->db, "BEGIN IMMEDIATE", NULL, 0))
		return -1;
	if (exec(s->db, "UPDATE lk_state SET applying = 1 WHERE one = 1", NULL, 0)) {
		exec(s->db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return 0;
}

int store_apply_end(struct store *s, int commit)
{
	if (commit) {
		if (exec(s->db, "UPDATE lk_state SET applying = 0 WHERE one = 1", NULL, 0) == 0 &&
		    exec(s->db, "COMMIT", NULL, 0) == 0)
			return 0;
	}
	/* A rollback undoes applying = 1 with everything else. */
	if (!sqlite3_get_autocommit(s->db))
		exec(s->db, "ROLLBACK", NULL, 0);
	return commit ? -1 : 0;
}

int store_new_agent_id(struct store *s)
{
	char id[IDS_UUID_TEXT];
	char *prev = NULL;
	char *list = NULL;
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (sqlite3_get_autocommit(s->db))
		return -1; /* contract: inside a transaction */
	if (ids_uuid7(store_wall_ms(), id) != 0)
		return -1;
	if (store_config_get(s, "previous_agent_ids", &prev) < 0)
		goto done;
	size_t n = (prev ? strlen(prev) + 1 : 0) + strlen(s->agent_id) + 1;
	list = malloc(n);
	if (!list)
		goto done;
	snprintf(list, n, "%s%s%s", prev ? prev : "", prev ? "," : "", s->agent_id);
	if (store_config_set(s, "previous_agent_ids", list))
		goto done;
	if (sqlite3_prepare_v2(s->db, "UPDATE lk_state SET agent_id = ?1 WHERE one = 1", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto done;
	memcpy(s->agent_id, id, IDS_UUID_TEXT);
	ret = 0;
done:
	sqlite3_finalize(st);
	free(prev);
	free(list);
	return ret;
}

/* ---- scope ---- */

int store_in_scope(struct store *s, const char *unit_id)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (!s->unit_id[0] || !unit_id)
		return 0;
	if (strcmp(unit_id, s->unit_id) == 0)
		return 1;
	/* The subtree as of today (Vietnam's day, as the hub counts it), through the dated
	 * parent links and the reform events that hand a unit over to one in the subtree
	 * (merged, split or closed into it: PROTOCOL.md §8), as the hub decides scope.
	 * Walked upwards from unit_id, through STORE_SCOPE_INDEXES: a few index lookups
	 * per level, where walking down from a province visits its whole tree. No cache:
	 * an import may add the very links the next row depends on. UNION stops cycles. */
	if (store_stmt_take(s,
			    "WITH RECURSIVE today(d) AS (SELECT date('now', '+7 hours')),"
			    " up(u) AS (SELECT ?2"
			    " UNION SELECT p.parent_id FROM unit_parent p JOIN up ON p.of_unit = up.u"
			    "  WHERE p.valid_from <= (SELECT d FROM today)"
			    "  AND (p.valid_to IS NULL OR p.valid_to >= (SELECT d FROM today))"
			    " UNION SELECT e.other_unit FROM unit_event e JOIN up ON e.of_unit = up.u"
			    "  WHERE e.kind IN ('merge', 'split', 'close') AND e.other_unit IS NOT NULL"
			    "  AND e.effective_on <= (SELECT d FROM today))"
			    " SELECT 1 FROM up WHERE u = ?1 LIMIT 1",
			    &st) != 0)
		goto done;
	sqlite3_bind_text(st, 1, s->unit_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, unit_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
done:
	store_stmt_give(s, st);
	return ret;
}

/* ---- backup ---- */

static int backup_copy(sqlite3 *src, const char *path, char *err, size_t errlen)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b = NULL;
	int ret = -1;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		set_err(err, errlen, "cannot create backup '%s': %s", path, dst ? sqlite3_errmsg(dst) : "out of memory");
		goto done;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		set_err(err, errlen, "cannot start backup '%s': %s", path, sqlite3_errmsg(dst));
		goto done;
	}
	int rc;
	int tries = 0;
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		if (++tries > BACKUP_MAX_RETRIES)
			break;
		sqlite3_sleep(BACKUP_RETRY_SLEEP_MS);
	}
	int frc = sqlite3_backup_finish(b);
	b = NULL;
	if (rc != SQLITE_DONE || frc != SQLITE_OK) {
		set_err(err, errlen, "backup to '%s' failed: %s", path, sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
		goto done;
	}
	/* The copy is one self-contained file, whatever the source's journal mode. */
	if (exec(dst, "PRAGMA journal_mode=DELETE", err, errlen))
		goto done;
	ret = 0;
done:
	if (b)
		sqlite3_backup_finish(b);
	if (dst)
		sqlite3_close(dst);
	return ret;
}

/* Removes the backups this database made that are older than keep_days. Only files
 * recorded in lk_backup are touched: nothing else in the directory is ours to delete,
 * and no directory listing (a POSIX call) is needed. */
static int backup_rotate(struct store *s, int64_t now_ms, int keep_days, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	int ret = -1;
	if (keep_days <= 0)
		return 0; /* 0: keep every copy */
	if (sqlite3_prepare_v2(s->db, "SELECT path FROM lk_backup WHERE made_ms < ?1", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM lk_backup WHERE path = ?1", -1, &del, NULL) != SQLITE_OK) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
		goto done;
	}
	sqlite3_bind_int64(sel, 1, now_ms - (int64_t)keep_days * MS_PER_DAY);
	int rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(sel, 0);
		if (!p)
			continue;
		if (plat_remove(p) != 0) {
			FILE *f = plat_fopen(p, "rb");
			if (f) { /* still there: keep the record, try again next time */
				fclose(f);
				continue;
			}
		}
		sqlite3_bind_text(del, 1, p, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) != SQLITE_DONE) {
			set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
			goto done;
		}
		sqlite3_reset(del);
	}
	if (rc != SQLITE_DONE) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	return ret;
}

int store_backup_to(struct store *s, const char *dir, int keep_days, char *path_out, size_t path_len,
		    char *err, size_t errlen)
{
	char path[BACKUP_PATH_MAX];
	char stamp[32];
	sqlite3_stmt *st = NULL;
	int64_t now = store_wall_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm *tm = gmtime(&secs);
	if (!tm || strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", tm) == 0) {
		set_err(err, errlen, "cannot format the time%s%s", NULL, NULL);
		return -1;
	}
	size_t dl = strlen(dir);
	const char *sep = (dl && (dir[dl - 1] == '/' || dir[dl - 1] == '\\')) ? "" : "/";
	if (snprintf(path, sizeof path, "%s%slienket-%s.db", dir, sep, stamp) >= (int)sizeof path) {
		set_err(err, errlen, "backup directory '%s' is too long%s", dir, NULL);
		return -1;
	}
	if (backup_copy(s->db, path, err, errlen))
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO lk_backup(path, made_ms) VALUES (?1, ?2)", -1, &st,
			       NULL) != SQLITE_OK) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
		return -1;
	}
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		set_err(err, errlen, "sqlite: %s%s", sqlite3_errmsg(s->db), NULL);
		return -1;
	}
	if (backup_rotate(s, now, keep_days, err, errlen))
		return -1;
	if (path_out && path_len)
		snprintf(path_out, path_len, "%s", path);
	return 0;
}

int store_backup(struct store *s, const char *dir, int keep_days, char *err, size_t errlen)
{
	return store_backup_to(s, dir, keep_days, NULL, 0, err, errlen);
}
