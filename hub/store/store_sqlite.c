/*
 * store_sqlite.c — the SQLite back end of store.h (the only hub file that includes
 * sqlite3.h).
 *
 * Durability: WAL with synchronous=FULL. Every COMMIT fsyncs the WAL before it
 * returns, so a change set is durable when its answer is sent and survives kill -9
 * or power loss; group commit (api.c) shares one fsync among many change sets, which
 * is where the throughput comes from, so NORMAL's saving is not worth its risk.
 *
 * Synced tables are generated from schema_tables[]: declared columns (INTEGER for
 * int/bool, TEXT otherwise) plus the metadata columns listed in store.h. Table and
 * column names in SQL only ever come from schema_tables[]; every value is bound.
 *
 * Invariant: hub sequence numbers (_hs) strictly increase in commit order (one
 * writer connection; the counter lives in hub_meta and is written before COMMIT).
 * Owns: the sqlite3 connection and its cached statements.
 */
#include "store.h"
#include "store_sqlite_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ids.h"
#include "figures_sqlite.h" /* the report's indexes (REPORT_DDL): the year expression
			     * and the partial indexes' WHERE of the SQLite figures source */

#define SQLITE_BUSY_TIMEOUT_MS 10000 /* readers wait for a checkpoint at most this long */
#define SQL_MAX 8192                 /* longest generated statement */
#define STMT_CACHE_MAX 128           /* distinct statements kept prepared per connection */
/* The writer's page cache: the b-tree pages of the indexes a merge inserts into at
 * random places (unit_id, report indexes) stay in memory instead of being read back. */
#define WRITER_CACHE_KIB (16 * 1024)
/* Log size (4 KB pages) past which the writer catches up with the checkpoints itself. */
#define WAL_CATCH_UP_FRAMES 4096

/* A row is existing when its insert beats its delete (hlc_order in SQL: clocks are
 * below 2^63 so signed comparison is exact; writers compare as text). */
#define EXISTS_SQL(p) "(" p "_ins_writer <> '' AND (" p "_del_writer = '' OR " p "_ins_clock > " p \
	"_del_clock OR (" p "_ins_clock = " p "_del_clock AND " p "_ins_writer > " p "_del_writer)))"

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt **read_st;  /* per table: row by id */
	sqlite3_stmt **write_st; /* per table: insert or replace */
	uint64_t hs;             /* hub sequence, valid while in_tx */
	int hs_dirty;
	int in_tx;
	uint64_t unit_writes;    /* unit-table writes and rollbacks on this connection */
	struct { char *sql; uint32_t hash; sqlite3_stmt *st; int busy; } cache[STMT_CACHE_MAX];
	size_t ncache;
	char errmsg[256];        /* the words of the last failure fail() saw */
	int read_depth;          /* read_begin pairs open (store.h: they nest) */
	int read_own;            /* 1: the outermost read_begin began the transaction */
};

static struct sqlite_store *S(struct store *s) { return (struct sqlite_store *)s; }

/* The store_code of an SQLite result code (primary or extended). */
static int code_of(int rc)
{
	if (rc == SQLITE_BUSY_SNAPSHOT)
		return STORE_CONFLICT; /* a read snapshot older than the last commit cannot write */
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return STORE_BUSY;
	case SQLITE_FULL: return STORE_FULL;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return STORE_CORRUPT;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM: return STORE_IO;
	default: return STORE_ERR;
	}
}

/* The code of the last failure on the connection (STORE_ERR when SQLite saw none: the
 * failure was the caller's or memory's). */
static int fail(struct store *s)
{
	int rc = sqlite3_extended_errcode(S(s)->db);
	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
		snprintf(S(s)->errmsg, sizeof S(s)->errmsg, "%s", "failed outside SQLite");
		return STORE_ERR;
	}
	snprintf(S(s)->errmsg, sizeof S(s)->errmsg, "%s", sqlite3_errmsg(S(s)->db));
	return code_of(rc);
}

static const char *st_errmsg(struct store *s)
{
	return S(s)->errmsg[0] ? S(s)->errmsg : "no failure";
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int fail(struct store *s);

/* exec_sql on the store's connection: 0 or the failure's code. */
static int exec_s(struct store *s, const char *sql)
{
	return exec_sql(S(s)->db, sql) == 0 ? 0 : fail(s);
}

/* FNV-1a of the SQL text: the cache compares texts only when hashes match. */
static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* Prepared statements are cached by SQL text; one in use (a scan whose callback
 * runs the same statement) is never handed out twice: a fresh one is made instead. */
static int prep(struct store *s, const char *sql, sqlite3_stmt **st)
{
	struct sqlite_store *ss = S(s);
	uint32_t h = sql_hash(sql);
	for (size_t i = 0; i < ss->ncache; i++) {
		if (ss->cache[i].hash != h || strcmp(ss->cache[i].sql, sql) != 0)
			continue;
		if (ss->cache[i].busy)
			break;
		ss->cache[i].busy = 1;
		*st = ss->cache[i].st;
		return 0;
	}
	if (sqlite3_prepare_v2(ss->db, sql, -1, st, NULL) != SQLITE_OK)
		return fail(s);
	if (ss->ncache < STMT_CACHE_MAX) {
		char *copy = strdup(sql);
		if (copy) {
			ss->cache[ss->ncache].sql = copy;
			ss->cache[ss->ncache].hash = h;
			ss->cache[ss->ncache].st = *st;
			ss->cache[ss->ncache].busy = 1;
			ss->ncache++;
		}
	}
	return 0;
}

/* Gives a statement from prep back: reset when cached, finalized otherwise. */
static void release(struct store *s, sqlite3_stmt *st)
{
	struct sqlite_store *ss = S(s);
	for (size_t i = 0; i < ss->ncache; i++) {
		if (ss->cache[i].st != st)
			continue;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		ss->cache[i].busy = 0;
		return;
	}
	sqlite3_finalize(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

/* ---- DDL ---- */

static size_t append(char *buf, size_t n, size_t cap, const char *fmt, const char *a)
{
	if (n >= cap)
		return n;
	int k = snprintf(buf + n, cap - n, fmt, a);
	return k < 0 ? cap : n + (size_t)k;
}

/* Tables added after the first release: also made when an older database is opened. */
#define BACKUP_DDL \
	"CREATE TABLE IF NOT EXISTS hub_backup(agent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
/* Chains per agent, one row per accepted change set: `chains` is chain(k) for k from
 * seq_to - length/32 + 1 to seq_to, 32 bytes each. A row per sequence would cost ~80
 * bytes and a b-tree insert a sequence (+11% merge time measured); this is 32 bytes
 * and one insert per change set. */
#define CHAIN_DDL \
	"CREATE TABLE IF NOT EXISTS hub_agent_chain(agent_id TEXT NOT NULL, seq_to INTEGER NOT NULL," \
	" chains BLOB NOT NULL, PRIMARY KEY(agent_id, seq_to));"

/* Dashboard sessions (session.h): the SHA-256 of the id, never the id. */
#define SESSION_DDL \
	"CREATE TABLE IF NOT EXISTS hub_session(hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL," \
	" created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL, remember INTEGER NOT NULL DEFAULT 0);"

/* Viewer accounts, failed logins (viewer.h), digest recipients and mailed digests
 * (digestmail.h). hub_session.remember is added to older databases by
 * upgrade_sessions. */
#define ACCOUNT_DDL \
	"CREATE TABLE IF NOT EXISTS hub_viewer(name TEXT PRIMARY KEY, unit_id TEXT NOT NULL," \
	" password TEXT NOT NULL, key TEXT NOT NULL, invite_hash TEXT NOT NULL," \
	" invite_expires_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS hub_viewer_key ON hub_viewer(key);" \
	"CREATE INDEX IF NOT EXISTS hub_viewer_invite ON hub_viewer(invite_hash);" \
	"CREATE TABLE IF NOT EXISTS hub_login_fail(key TEXT PRIMARY KEY, failures INTEGER NOT NULL," \
	" first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL);" \
	"CREATE TABLE IF NOT EXISTS hub_mail_to(address TEXT NOT NULL, unit_id TEXT NOT NULL," \
	" PRIMARY KEY(unit_id, address));" \
	"CREATE TABLE IF NOT EXISTS hub_digest_mail(date TEXT NOT NULL, unit_id TEXT NOT NULL," \
	" html TEXT NOT NULL, status_csv TEXT NOT NULL, arrivals_csv TEXT NOT NULL," \
	" report_csv TEXT NOT NULL, subject TEXT NOT NULL, recipients TEXT NOT NULL," \
	" built_ms INTEGER NOT NULL," \
	" attempts INTEGER NOT NULL, last_try_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL," \
	" error TEXT NOT NULL, PRIMARY KEY(date, unit_id));"

/* The scope each agent last pulled with (api.c handle_pull): a JSON array of ids. */
#define PULL_SCOPE_DDL \
	"CREATE TABLE IF NOT EXISTS hub_pull_scope(agent_id TEXT PRIMARY KEY, units TEXT NOT NULL);"

static const char META_DDL[] =
	"CREATE TABLE IF NOT EXISTS hub_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_token(hash TEXT PRIMARY KEY, prefix TEXT NOT NULL,"
	" kind INTEGER NOT NULL, unit_id TEXT NOT NULL, name TEXT NOT NULL, agent_id TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL, revoked_ms INTEGER NOT NULL, fork_refused INTEGER NOT NULL,"
	" rebound INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hub_token_agent ON hub_token(agent_id);"
	"CREATE TABLE IF NOT EXISTS hub_agent(id TEXT PRIMARY KEY, unit_id TEXT NOT NULL,"
	" acked INTEGER NOT NULL, chain TEXT NOT NULL, first_seen_ms INTEGER NOT NULL,"
	" last_hello_ms INTEGER NOT NULL, last_changes_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL,"
	" offset_ms INTEGER NOT NULL, pending INTEGER NOT NULL, software TEXT NOT NULL,"
	" retired_to TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_receipt(id INTEGER PRIMARY KEY, agent_id TEXT NOT NULL,"
	" seq_from INTEGER NOT NULL, seq_to INTEGER NOT NULL, chain_before TEXT NOT NULL,"
	" chain_after TEXT NOT NULL, applied INTEGER NOT NULL, quarantined INTEGER NOT NULL,"
	" held INTEGER NOT NULL, skipped INTEGER NOT NULL, duplicate INTEGER NOT NULL,"
	" received_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hub_receipt_agent ON hub_receipt(agent_id, seq_to);"
	"CREATE TABLE IF NOT EXISTS hub_quarantine(agent_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" code TEXT NOT NULL, tbl TEXT, row_id TEXT, field TEXT, message TEXT, at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(agent_id, seq));"
	"CREATE TABLE IF NOT EXISTS hub_skipped(agent_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" hash TEXT NOT NULL, reason TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY(agent_id, seq));"
	"CREATE TABLE IF NOT EXISTS hub_held(agent_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" owner TEXT NOT NULL, schema INTEGER NOT NULL, json TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(agent_id, seq));"
	"CREATE INDEX IF NOT EXISTS hub_held_owner ON hub_held(owner, agent_id, seq);"
	"CREATE TABLE IF NOT EXISTS hub_flag(tbl TEXT NOT NULL, row_id TEXT NOT NULL, kind TEXT NOT NULL,"
	" field TEXT NOT NULL, detail TEXT, suggestion TEXT, at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(tbl, row_id, kind, field));"
	"CREATE INDEX IF NOT EXISTS hub_flag_detail ON hub_flag(kind, detail);"
	BACKUP_DDL CHAIN_DDL SESSION_DDL PULL_SCOPE_DDL ACCOUNT_DDL;

/* Indexes the report and the unit tree rely on (report.h). Made, like the tables, at
 * every open, so an existing database gets an index added here the first time a new
 * hub opens it. meeting_year (partial: live meetings, FIGURES_SQLITE_ROW_EXISTS word for
 * word) replaced meeting(kind, held_on), which nothing else read: dropped, so a
 * meeting write still updates as many b-trees as before. */
static const char REPORT_DDL[] =
	"CREATE INDEX IF NOT EXISTS unit_name_of ON unit_name(of_unit);"
	"CREATE INDEX IF NOT EXISTS unit_name_code ON unit_name(code);"
	"CREATE INDEX IF NOT EXISTS unit_parent_of ON unit_parent(of_unit);"
	"CREATE INDEX IF NOT EXISTS unit_event_of ON unit_event(of_unit);"
	"CREATE INDEX IF NOT EXISTS meeting_year ON meeting(" FIGURES_SQLITE_YEAR_OF("held_on") ", kind,"
	" unit_id, host_branch_id, commune_secretary_attended, held_on)"
	" WHERE " FIGURES_SQLITE_ROW_EXISTS ";"
	"DROP INDEX IF EXISTS meeting_kind;"
	"CREATE INDEX IF NOT EXISTS meeting_branch_m ON meeting_branch(meeting_id);"
	"CREATE INDEX IF NOT EXISTS meeting_branch_b ON meeting_branch(branch_id);"
	"CREATE INDEX IF NOT EXISTS task_meeting ON task(meeting_id);"
	"CREATE INDEX IF NOT EXISTS task_assignee ON task(assignee_unit_id);"
	"CREATE INDEX IF NOT EXISTS volunteer_started ON volunteer(started_on);"
	"CREATE INDEX IF NOT EXISTS volunteer_branch_v ON volunteer_branch(volunteer_id);"
	"CREATE INDEX IF NOT EXISTS pilot_from ON pilot(valid_from);"
	"CREATE INDEX IF NOT EXISTS role_person ON role(person_id, role);"
	"CREATE INDEX IF NOT EXISTS role_role ON role(role, term_from);"
	"CREATE INDEX IF NOT EXISTS insurance_person ON insurance_card(person_id);"
	"CREATE INDEX IF NOT EXISTS support_on ON support(on_date);"
	"CREATE INDEX IF NOT EXISTS party_on ON party(on_date);"
	"CREATE INDEX IF NOT EXISTS year_record_year ON year_record(year);";

/* hub_session of a database made before "remember me" lacks that column: added once. */
static int upgrade_sessions(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('hub_session')"
			       " WHERE name = 'remember'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int has = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (has < 0)
		return -1;
	if (has)
		return 0;
	return exec_sql(db, "ALTER TABLE hub_session ADD COLUMN remember INTEGER NOT NULL DEFAULT 0");
}

static int create_tables(sqlite3 *db)
{
	if (exec_sql(db, META_DDL) != 0)
		return -1;
	for (size_t t = 0; t < schema_ntables; t++) {
		const struct schema_table *tb = &schema_tables[t];
		char sql[SQL_MAX];
		size_t n = 0;
		n = append(sql, n, sizeof sql, "CREATE TABLE IF NOT EXISTS \"%s\"(id TEXT PRIMARY KEY,"
			   " unit_id TEXT NOT NULL", tb->name);
		for (size_t c = 2; c < tb->ncolumns; c++) {
			const struct schema_column *col = &tb->columns[c];
			int integer = col->type == SCHEMA_INT || col->type == SCHEMA_BOOL;
			n = append(sql, n, sizeof sql, ", \"%s\"", col->name);
			n = append(sql, n, sizeof sql, "%s", integer ? " INTEGER" : " TEXT");
		}
		n = append(sql, n, sizeof sql, "%s",
			   ", _ins_clock INTEGER NOT NULL, _ins_writer TEXT NOT NULL,"
			   " _del_clock INTEGER NOT NULL, _del_writer TEXT NOT NULL,"
			   " _clock INTEGER NOT NULL, _writer TEXT NOT NULL, _fc TEXT NOT NULL,"
			   " _hs INTEGER NOT NULL, _recv_ms INTEGER NOT NULL);");
		n = append(sql, n, sizeof sql, "CREATE INDEX IF NOT EXISTS \"%s_hs\"", tb->name);
		n = append(sql, n, sizeof sql, " ON \"%s\"(_hs);", tb->name);
		n = append(sql, n, sizeof sql, "CREATE INDEX IF NOT EXISTS \"%s_unit\"", tb->name);
		n = append(sql, n, sizeof sql, " ON \"%s\"(unit_id);", tb->name);
		if (n >= sizeof sql || exec_sql(db, sql) != 0)
			return -1;
	}
	return exec_sql(db, REPORT_DDL);
}

/* Column list "unit_id, c2, …, _ins_clock, … _fc" shared by read and scans. */
static size_t row_columns(char *sql, size_t n, size_t cap, const struct schema_table *tb)
{
	n = append(sql, n, cap, "%s", "unit_id");
	for (size_t c = 2; c < tb->ncolumns; c++)
		n = append(sql, n, cap, ", \"%s\"", tb->columns[c].name);
	return append(sql, n, cap, "%s",
		      ", _ins_clock, _ins_writer, _del_clock, _del_writer, _clock, _writer, _fc");
}

static int prepare_rows(struct sqlite_store *ss)
{
	/* Arrays of statement pointers: sizeof *ss->read_st is a pointer's size, as meant. */
	ss->read_st = calloc(schema_ntables, sizeof *ss->read_st); // NOLINT(bugprone-sizeof-expression): array of pointers
	ss->write_st = calloc(schema_ntables, sizeof *ss->write_st); // NOLINT(bugprone-sizeof-expression): array of pointers
	if (!ss->read_st || !ss->write_st)
		return -1;
	for (size_t t = 0; t < schema_ntables; t++) {
		const struct schema_table *tb = &schema_tables[t];
		char sql[SQL_MAX];
		size_t n = append(sql, 0, sizeof sql, "%s", "SELECT ");
		n = row_columns(sql, n, sizeof sql, tb);
		n = append(sql, n, sizeof sql, " FROM \"%s\" WHERE id = ?1", tb->name);
		if (n >= sizeof sql || sqlite3_prepare_v2(ss->db, sql, -1, &ss->read_st[t], NULL) != SQLITE_OK)
			return -1;
		n = append(sql, 0, sizeof sql, "INSERT OR REPLACE INTO \"%s\"(id, ", tb->name);
		n = row_columns(sql, n, sizeof sql, tb);
		n = append(sql, n, sizeof sql, "%s", ", _hs, _recv_ms) VALUES(?");
		for (size_t c = 1; c < tb->ncolumns + 9; c++)
			n = append(sql, n, sizeof sql, "%s", ",?");
		n = append(sql, n, sizeof sql, "%s", ")");
		if (n >= sizeof sql || sqlite3_prepare_v2(ss->db, sql, -1, &ss->write_st[t], NULL) != SQLITE_OK)
			return -1;
	}
	return 0;
}

static size_t table_index(const struct schema_table *t)
{
	return (size_t)(t - schema_tables);
}

/* ---- transactions ---- */

static int meta_get_u64(struct store *s, const char *key, uint64_t *out);

static int st_begin(struct store *s)
{
	int rc = exec_s(s, "BEGIN IMMEDIATE");
	if (rc != 0)
		return rc;
	if (meta_get_u64(s, "hs", &S(s)->hs) != 0) {
		rc = fail(s);
		exec_sql(S(s)->db, "ROLLBACK");
		return rc;
	}
	S(s)->in_tx = 1;
	S(s)->hs_dirty = 0;
	return 0;
}

static int st_commit(struct store *s)
{
	int rc = -1;
	if (S(s)->hs_dirty) {
		char v[32];
		snprintf(v, sizeof v, "%" PRIu64, S(s)->hs);
		if ((rc = s->meta_set(s, "hs", v)) != 0)
			goto done;
	}
	rc = exec_s(s, "COMMIT");
done:
	if (rc != 0) {
		exec_sql(S(s)->db, "ROLLBACK");
		S(s)->unit_writes++;
	}
	S(s)->in_tx = 0;
	return rc;
}

static int st_rollback(struct store *s)
{
	S(s)->in_tx = 0;
	S(s)->unit_writes++;
	return exec_s(s, "ROLLBACK");
}

/* Only the outermost pair begins and ends; inside a transaction already open (a write,
 * or one a caller began) the reads use it. */
static int st_read_begin(struct store *s)
{
	struct sqlite_store *ss = S(s);
	if (ss->read_depth++ > 0)
		return 0;
	ss->read_own = 0;
	if (!sqlite3_get_autocommit(ss->db))
		return 0;
	int rc = exec_s(s, "BEGIN");
	if (rc != 0) {
		ss->read_depth = 0;
		return rc;
	}
	ss->read_own = 1;
	return 0;
}

static int st_read_end(struct store *s)
{
	struct sqlite_store *ss = S(s);
	if (ss->read_depth == 0 || --ss->read_depth > 0 || !ss->read_own)
		return 0;
	ss->read_own = 0;
	return exec_s(s, "COMMIT");
}

static int st_savepoint(struct store *s) { return exec_s(s, "SAVEPOINT cs"); }

static int st_savepoint_end(struct store *s, int keep)
{
	if (!keep)
		S(s)->unit_writes++;
	int rc;
	if (!keep && (rc = exec_s(s, "ROLLBACK TO cs")) != 0)
		return rc;
	return exec_s(s, "RELEASE cs");
}

/* ---- meta ---- */

static int st_meta_get(struct store *s, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT value FROM hub_meta WHERE key = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0)
		copy_col(buf, len, st, 0);
	release(s, st);
	return out;
}

static int st_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_meta(key, value) VALUES(?1, ?2)", &st) != 0)
		return fail(s);
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int meta_get_u64(struct store *s, const char *key, uint64_t *out)
{
	char buf[32];
	int rc = st_meta_get(s, key, buf, sizeof buf);
	if (rc < 0)
		return fail(s);
	*out = rc == 1 ? 0 : strtoull(buf, NULL, 10);
	return 0;
}

static int st_next_hs(struct store *s, uint64_t *hs)
{
	if (!S(s)->in_tx)
		return fail(s);
	*hs = ++S(s)->hs;
	S(s)->hs_dirty = 1;
	return 0;
}

static int st_last_hs(struct store *s, uint64_t *hs)
{
	if (S(s)->in_tx) {
		*hs = S(s)->hs;
		return 0;
	}
	return meta_get_u64(s, "hs", hs);
}

/* ---- rows ---- */

static int bind_value(sqlite3_stmt *st, int i, const struct value *v)
{
	switch (v->kind) {
	case VALUE_INT:
	case VALUE_BOOL:
		return sqlite3_bind_int64(st, i, v->i);
	case VALUE_TEXT:
		return sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_TRANSIENT);
	default:
		return sqlite3_bind_null(st, i);
	}
}

/* Loads a row from st starting at column `at` (the layout of row_columns). */
static int load_row(sqlite3_stmt *st, int at, struct merge_row *r)
{
	const struct schema_table *tb = r->t;
	copy_col(r->owner, sizeof r->owner, st, at);
	for (size_t c = 2; c < tb->ncolumns; c++) {
		int i = at + (int)c - 1;
		struct value v = { .kind = VALUE_NULL };
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v.kind = VALUE_INT;
			v.i = sqlite3_column_int64(st, i);
			break;
		case SQLITE_TEXT:
			v.kind = VALUE_TEXT;
			v.s = (const char *)sqlite3_column_text(st, i);
			v.len = (size_t)sqlite3_column_bytes(st, i);
			break;
		default:
			break;
		}
		if (merge_cell_set(r, c, &v, 0, "") != 0)
			return -1;
	}
	int m = at + (int)tb->ncolumns - 1;
	r->ins_clock = (uint64_t)sqlite3_column_int64(st, m);
	copy_col(r->ins_writer, sizeof r->ins_writer, st, m + 1);
	r->del_clock = (uint64_t)sqlite3_column_int64(st, m + 2);
	copy_col(r->del_writer, sizeof r->del_writer, st, m + 3);
	char writer[MERGE_WRITER_MAX];
	copy_col(writer, sizeof writer, st, m + 5);
	return merge_fc_decode(r, (uint64_t)sqlite3_column_int64(st, m + 4), writer,
			       (const char *)sqlite3_column_text(st, m + 6));
}

static int st_row_read(struct store *s, struct merge_row *r)
{
	sqlite3_stmt *st = S(s)->read_st[table_index(r->t)];
	sqlite3_reset(st);
	bind_text(st, 1, r->id);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0 && load_row(st, 0, r) != 0)
		out = -1;
	sqlite3_reset(st);
	return out;
}

static int st_row_write(struct store *s, const struct merge_row *r, uint64_t hs, int64_t recv_ms)
{
	const struct schema_table *tb = r->t;
	sqlite3_stmt *st = S(s)->write_st[table_index(tb)];
	if (strncmp(tb->name, "unit", 4) == 0)
		S(s)->unit_writes++;
	char *fc = merge_fc_encode(r);
	if (!fc)
		return fail(s);
	uint64_t rc_clock;
	char rw[MERGE_WRITER_MAX];
	merge_row_clock(r, &rc_clock, rw);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	int i = 1;
	bind_text(st, i++, r->id);
	bind_text(st, i++, r->owner);
	for (size_t c = 2; c < tb->ncolumns; c++)
		bind_value(st, i++, &r->cells[c].v);
	sqlite3_bind_int64(st, i++, (int64_t)r->ins_clock);
	bind_text(st, i++, r->ins_writer);
	sqlite3_bind_int64(st, i++, (int64_t)r->del_clock);
	bind_text(st, i++, r->del_writer);
	sqlite3_bind_int64(st, i++, (int64_t)rc_clock);
	bind_text(st, i++, rw);
	sqlite3_bind_text(st, i++, fc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, (int64_t)hs);
	sqlite3_bind_int64(st, i++, recv_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	sqlite3_reset(st);
	free(fc);
	return rc;
}

static int st_row_known(struct store *s, const struct schema_table *t, const char *id)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = ?1 AND _ins_writer <> ''", t->name);
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return out;
}

static int has_assignee(const struct schema_table *t)
{
	return t->pull == SCHEMA_PULL_ASSIGNEE && schema_column_find(t, "assignee_unit_id", 1);
}

static int scan_rows(struct store *s, const struct schema_table *tb, sqlite3_stmt *st,
		     int with_hs, int (*cb_hs)(void *, const struct merge_row *, uint64_t),
		     int (*cb)(void *, const struct merge_row *), void *ctx)
{
	int out = 0;
	(void)s;
	for (;;) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			out = -1;
			break;
		}
		struct merge_row r;
		const unsigned char *id = sqlite3_column_text(st, 0);
		if (merge_row_init(&r, tb, id ? (const char *)id : "", NULL) != 0) {
			out = -1;
			break;
		}
		if (load_row(st, 1, &r) != 0) {
			merge_row_release(&r);
			out = -1;
			break;
		}
		int m = 1 + (int)tb->ncolumns - 1 + 7;
		out = with_hs ? cb_hs(ctx, &r, (uint64_t)sqlite3_column_int64(st, m)) : cb(ctx, &r);
		merge_row_release(&r);
		if (out)
			break;
	}
	return out;
}

static int st_rows_after(struct store *s, const struct schema_table *tb, uint64_t after,
			 const char *scope_json, size_t limit,
			 int (*cb)(void *, const struct merge_row *, uint64_t), void *ctx)
{
	char sql[SQL_MAX];
	size_t n = append(sql, 0, sizeof sql, "%s", "SELECT id, ");
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, ", _hs FROM \"%s\" WHERE _hs > ?1", tb->name);
	if (scope_json) {
		n = append(sql, n, sizeof sql, "%s",
			   " AND (unit_id IN (SELECT value FROM json_each(?2))");
		if (has_assignee(tb))
			n = append(sql, n, sizeof sql, "%s",
				   " OR assignee_unit_id IN (SELECT value FROM json_each(?2))");
		n = append(sql, n, sizeof sql, "%s", ")");
	}
	n = append(sql, n, sizeof sql, "%s", " ORDER BY _hs LIMIT ?3");
	sqlite3_stmt *st;
	if (n >= sizeof sql || prep(s, sql, &st) != 0)
		return fail(s);
	sqlite3_bind_int64(st, 1, (int64_t)after);
	if (scope_json)
		bind_text(st, 2, scope_json);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	int rc = scan_rows(s, tb, st, 1, cb, NULL, ctx);
	release(s, st);
	return rc;
}

static int st_rows_owned(struct store *s, const struct schema_table *tb, const char *scope_json,
			 int (*cb)(void *, const struct merge_row *), void *ctx)
{
	char sql[SQL_MAX];
	size_t n = append(sql, 0, sizeof sql, "%s", "SELECT id, ");
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, ", _hs FROM \"%s\" WHERE unit_id IN"
		   " (SELECT value FROM json_each(?1)) AND " EXISTS_SQL(""), tb->name);
	sqlite3_stmt *st;
	if (n >= sizeof sql || prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, scope_json);
	int rc = scan_rows(s, tb, st, 0, NULL, cb, ctx);
	release(s, st);
	return rc;
}

/* ---- units ---- */

static int st_unit_links(struct store *s, const char *today,
			 int (*cb)(void *, const char *, const char *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT of_unit, parent_id FROM unit_parent WHERE " EXISTS_SQL("")
		 " AND valid_from <= ?1 AND (valid_to IS NULL OR valid_to >= ?1)", &st) != 0)
		return fail(s);
	bind_text(st, 1, today);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 0);
		const char *p = (const char *)sqlite3_column_text(st, 1);
		if (u && p && (out = cb(ctx, u, p)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_unit_merges(struct store *s, int (*cb)(void *, const char *, const char *, const char *),
			  void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT of_unit, other_unit, effective_on FROM unit_event WHERE " EXISTS_SQL("")
		 " AND kind IN ('merge', 'split', 'close') AND other_unit IS NOT NULL"
		 " AND other_unit <> of_unit", &st) != 0)
		return fail(s);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 0);
		const char *o = (const char *)sqlite3_column_text(st, 1);
		const char *d = (const char *)sqlite3_column_text(st, 2);
		if (u && o && (out = cb(ctx, u, o, d ? d : "")) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_unit_known(struct store *s, const char *unit_id)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT 1 FROM unit WHERE id = ?1 AND _ins_writer <> ''", &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return out;
}

static int st_unit_placed(struct store *s, const char *unit_id)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT EXISTS(SELECT 1 FROM unit_parent p WHERE p.of_unit = ?1 AND " EXISTS_SQL("p.") ")"
		 " OR EXISTS(SELECT 1 FROM unit_event e WHERE e.of_unit = ?1 AND " EXISTS_SQL("e.") ")"
		 " OR EXISTS(SELECT 1 FROM unit_name n WHERE n.of_unit = ?1 AND n.kind = 'province' AND "
		 EXISTS_SQL("n.") ")", &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) != 0 : fail(s);
	release(s, st);
	return out;
}

/* A name row of unit ?u valid on date ?d (for the successor's code match). */
#define NAME_ON(p, u, d) EXISTS_SQL(p) " AND " p "of_unit = " u " AND " p "valid_from <= " d \
	" AND (" p "valid_to IS NULL OR " p "valid_to >= " d ")"

static int st_unit_closed(struct store *s, const char *unit_id, const char *on_date,
			  char successor[37])
{
	sqlite3_stmt *st;
	char closed_on[16] = "";
	/* The earliest closing event; among events of that day the part that took the
	 * unit's code first, then the first recorded (ids are time-ordered). */
	if (prep(s, "SELECT e.other_unit, e.effective_on FROM unit_event e WHERE " EXISTS_SQL("e.")
		 " AND e.of_unit = ?1 AND e.effective_on <= ?2 AND (e.kind IN ('close', 'merge')"
		 "  OR (e.kind = 'split' AND NOT EXISTS (SELECT 1 FROM unit_event x WHERE "
		 EXISTS_SQL("x.") " AND x.of_unit = ?1 AND x.kind = 'split' AND x.other_unit = ?1)))"
		 " ORDER BY e.effective_on,"
		 " EXISTS (SELECT 1 FROM unit_name a, unit_name b WHERE "
		 NAME_ON("a.", "e.other_unit", "e.effective_on") " AND "
		 NAME_ON("b.", "?1", "date(e.effective_on, '-1 day')") " AND a.code = b.code) DESC,"
		 " e.id LIMIT 1", &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	bind_text(st, 2, on_date);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s);
	if (out == 1) {
		copy_col(successor, 37, st, 0);
		copy_col(closed_on, sizeof closed_on, st, 1);
	}
	release(s, st);
	if (out != 1 || successor[0])
		return out;
	/* No successor: the parent on the day before it closed. */
	if (prep(s, "SELECT parent_id FROM unit_parent p WHERE " NAME_ON("p.", "?1", "date(?2, '-1 day')")
		 " ORDER BY p.valid_from DESC LIMIT 1", &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	bind_text(st, 2, closed_on);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_col(successor, 37, st, 0);
	release(s, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 1 : fail(s);
}

static int st_unit_dated_rows(struct store *s, const struct schema_table *t, const char *unit_id,
			      const char *date,
			      int (*cb)(void *, const char *, const char *, const char *), void *ctx)
{
	char sql[512];
	sqlite3_stmt *st;
	if (strcmp(t->name, "unit_name") != 0 && strcmp(t->name, "unit_parent") != 0)
		return fail(s);
	snprintf(sql, sizeof sql, "SELECT id, valid_from, unit_id FROM \"%s\" WHERE " EXISTS_SQL("")
		 " AND of_unit = ?1 AND (valid_to IS NULL OR valid_to >= ?2) ORDER BY valid_from, id",
		 t->name);
	if (prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	bind_text(st, 2, date);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *from = (const char *)sqlite3_column_text(st, 1);
		const char *owner = (const char *)sqlite3_column_text(st, 2);
		if (id && from && owner && (out = cb(ctx, id, from, owner)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_unit_by_code(struct store *s, const char *code, const char *today, char id[37])
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT of_unit FROM unit_name WHERE " EXISTS_SQL("")
		 " AND code = ?1 AND valid_from <= ?2 AND (valid_to IS NULL OR valid_to >= ?2)"
		 " ORDER BY valid_from DESC LIMIT 1", &st) != 0)
		return fail(s);
	bind_text(st, 1, code);
	bind_text(st, 2, today);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0)
		copy_col(id, 37, st, 0);
	release(s, st);
	return out;
}

static int st_units_list(struct store *s, const char *today,
			 int (*cb)(void *, const struct store_unit_info *), void *ctx)
{
	sqlite3_stmt *st;
	/* The name valid on the date; for a unit closed by then, its last name. */
	if (prep(s, "SELECT u.id, n.code, n.name, n.kind, p.parent_id FROM unit u"
		 " LEFT JOIN unit_name n ON n.id = (SELECT x.id FROM unit_name x WHERE x.of_unit = u.id"
		 " AND " EXISTS_SQL("x.") " AND x.valid_from <= ?1"
		 " ORDER BY (x.valid_to IS NULL OR x.valid_to >= ?1) DESC, x.valid_from DESC LIMIT 1)"
		 " LEFT JOIN unit_parent p ON p.of_unit = u.id AND " EXISTS_SQL("p.")
		 " AND p.valid_from <= ?1 AND (p.valid_to IS NULL OR p.valid_to >= ?1)"
		 " WHERE " EXISTS_SQL("u.") " ORDER BY n.code, u.id", &st) != 0)
		return fail(s);
	bind_text(st, 1, today);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_unit_info u = {
			(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
			(const char *)sqlite3_column_text(st, 4),
		};
		if ((out = cb(ctx, &u)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

/* ---- tokens and agents ---- */

#define TOKEN_COLS "hash, prefix, kind, unit_id, name, agent_id, created_ms, revoked_ms, fork_refused, rebound"

static void token_load(sqlite3_stmt *st, struct store_token *t)
{
	memset(t, 0, sizeof *t);
	copy_col(t->hash, sizeof t->hash, st, 0);
	copy_col(t->prefix, sizeof t->prefix, st, 1);
	t->kind = sqlite3_column_int(st, 2) ? STORE_TOKEN_VIEWER : STORE_TOKEN_AGENT;
	copy_col(t->unit_id, sizeof t->unit_id, st, 3);
	copy_col(t->name, sizeof t->name, st, 4);
	copy_col(t->agent_id, sizeof t->agent_id, st, 5);
	t->created_ms = sqlite3_column_int64(st, 6);
	t->revoked_ms = sqlite3_column_int64(st, 7);
	t->fork_refused = sqlite3_column_int(st, 8);
	t->rebound = sqlite3_column_int(st, 9);
}

static int st_token_get(struct store *s, const char *hash, struct store_token *out)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " TOKEN_COLS " FROM hub_token WHERE hash = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, hash);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0)
		token_load(st, out);
	release(s, st);
	return r;
}

static int st_token_put(struct store *s, const struct store_token *t)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_token(" TOKEN_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
		 &st) != 0)
		return fail(s);
	bind_text(st, 1, t->hash);
	bind_text(st, 2, t->prefix);
	sqlite3_bind_int(st, 3, t->kind == STORE_TOKEN_VIEWER);
	bind_text(st, 4, t->unit_id);
	bind_text(st, 5, t->name);
	bind_text(st, 6, t->agent_id);
	sqlite3_bind_int64(st, 7, t->created_ms);
	sqlite3_bind_int64(st, 8, t->revoked_ms);
	sqlite3_bind_int(st, 9, t->fork_refused);
	sqlite3_bind_int(st, 10, t->rebound);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_tokens_list(struct store *s, int (*cb)(void *, const struct store_token *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " TOKEN_COLS " FROM hub_token ORDER BY created_ms, prefix", &st) != 0)
		return fail(s);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_token t;
		token_load(st, &t);
		if ((out = cb(ctx, &t)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

#define AGENT_COLS "id, unit_id, acked, chain, first_seen_ms, last_hello_ms, last_changes_ms," \
	" wall_ms, offset_ms, pending, software, retired_to"

static void agent_load(sqlite3_stmt *st, struct store_agent *a)
{
	memset(a, 0, sizeof *a);
	copy_col(a->id, sizeof a->id, st, 0);
	copy_col(a->unit_id, sizeof a->unit_id, st, 1);
	a->acked = (uint64_t)sqlite3_column_int64(st, 2);
	copy_col(a->chain, sizeof a->chain, st, 3);
	a->first_seen_ms = sqlite3_column_int64(st, 4);
	a->last_hello_ms = sqlite3_column_int64(st, 5);
	a->last_changes_ms = sqlite3_column_int64(st, 6);
	a->wall_ms = sqlite3_column_int64(st, 7);
	a->offset_ms = sqlite3_column_int64(st, 8);
	a->pending = sqlite3_column_int64(st, 9);
	copy_col(a->software, sizeof a->software, st, 10);
	copy_col(a->retired_to, sizeof a->retired_to, st, 11);
}

static int st_agent_get(struct store *s, const char *id, struct store_agent *out)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " AGENT_COLS " FROM hub_agent WHERE id = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0)
		agent_load(st, out);
	release(s, st);
	return r;
}

static int st_agent_put(struct store *s, const struct store_agent *a)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_agent(" AGENT_COLS ")"
		 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", &st) != 0)
		return fail(s);
	bind_text(st, 1, a->id);
	bind_text(st, 2, a->unit_id);
	sqlite3_bind_int64(st, 3, (int64_t)a->acked);
	bind_text(st, 4, a->chain);
	sqlite3_bind_int64(st, 5, a->first_seen_ms);
	sqlite3_bind_int64(st, 6, a->last_hello_ms);
	sqlite3_bind_int64(st, 7, a->last_changes_ms);
	sqlite3_bind_int64(st, 8, a->wall_ms);
	sqlite3_bind_int64(st, 9, a->offset_ms);
	sqlite3_bind_int64(st, 10, a->pending);
	bind_text(st, 11, a->software);
	bind_text(st, 12, a->retired_to);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_agents_list(struct store *s, int (*cb)(void *, const struct store_agent *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " AGENT_COLS " FROM hub_agent ORDER BY unit_id, first_seen_ms", &st) != 0)
		return fail(s);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_agent a;
		agent_load(st, &a);
		if ((out = cb(ctx, &a)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int count_of(struct store *s, const char *sql, const char *agent, int64_t *out)
{
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, agent);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : fail(s);
	if (rc == 0)
		*out = sqlite3_column_int64(st, 0);
	release(s, st);
	return rc;
}

static int st_agent_counts(struct store *s, const char *agent_id, struct store_agent_counts *out)
{
	if (count_of(s, "SELECT count(*) FROM hub_quarantine WHERE agent_id = ?1", agent_id,
		     &out->quarantined) != 0 ||
	    count_of(s, "SELECT count(*) FROM hub_skipped WHERE agent_id = ?1", agent_id,
		     &out->skipped) != 0 ||
	    count_of(s, "SELECT count(*) FROM hub_held WHERE agent_id = ?1", agent_id,
		     &out->held) != 0)
		return fail(s);
	return 0;
}

/* ---- records ---- */

static int st_receipt_add(struct store *s, const struct store_receipt *r)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT INTO hub_receipt(agent_id, seq_from, seq_to, chain_before, chain_after,"
		 " applied, quarantined, held, skipped, duplicate, received_ms)"
		 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", &st) != 0)
		return fail(s);
	bind_text(st, 1, r->agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)r->seq_from);
	sqlite3_bind_int64(st, 3, (int64_t)r->seq_to);
	bind_text(st, 4, r->chain_before);
	bind_text(st, 5, r->chain_after);
	sqlite3_bind_int64(st, 6, r->applied);
	sqlite3_bind_int64(st, 7, r->quarantined);
	sqlite3_bind_int64(st, 8, r->held);
	sqlite3_bind_int64(st, 9, r->skipped);
	sqlite3_bind_int(st, 10, r->duplicate);
	sqlite3_bind_int64(st, 11, r->received_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_receipts_list(struct store *s, const char *agent_id, size_t limit,
			    int (*cb)(void *, const struct store_receipt *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT agent_id, seq_from, seq_to, chain_before, chain_after, applied, quarantined,"
		 " held, skipped, duplicate, received_ms FROM hub_receipt"
		 " WHERE ?1 IS NULL OR agent_id = ?1 ORDER BY id DESC LIMIT ?2", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_receipt r;
		memset(&r, 0, sizeof r);
		copy_col(r.agent_id, sizeof r.agent_id, st, 0);
		r.seq_from = (uint64_t)sqlite3_column_int64(st, 1);
		r.seq_to = (uint64_t)sqlite3_column_int64(st, 2);
		copy_col(r.chain_before, sizeof r.chain_before, st, 3);
		copy_col(r.chain_after, sizeof r.chain_after, st, 4);
		r.applied = sqlite3_column_int64(st, 5);
		r.quarantined = sqlite3_column_int64(st, 6);
		r.held = sqlite3_column_int64(st, 7);
		r.skipped = sqlite3_column_int64(st, 8);
		r.duplicate = sqlite3_column_int(st, 9);
		r.received_ms = sqlite3_column_int64(st, 10);
		if ((out = cb(ctx, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_receipt_chain_at(struct store *s, const char *agent_id, uint64_t seq, char chain[65])
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT chain_after FROM hub_receipt WHERE agent_id = ?1 AND seq_to = ?2"
		 " UNION ALL SELECT chain_before FROM hub_receipt WHERE agent_id = ?1 AND seq_from = ?2 + 1"
		 " LIMIT 1", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0)
		copy_col(chain, 65, st, 0);
	release(s, st);
	return out;
}

static int st_chains_put(struct store *s, const char *agent_id, uint64_t from, uint64_t to,
			 const unsigned char *chains)
{
	sqlite3_stmt *st;
	if (to < from || to - from >= (uint64_t)INT32_MAX / 32)
		return fail(s);
	if (prep(s, "INSERT OR REPLACE INTO hub_agent_chain(agent_id, seq_to, chains)"
		 " VALUES(?1, ?2, ?3)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)to);
	sqlite3_bind_blob(st, 3, chains, (int)((to - from + 1) * 32), SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_chain_get(struct store *s, const char *agent_id, uint64_t seq,
			unsigned char chain[32])
{
	sqlite3_stmt *st;
	/* The run holding seq is the first ending at or after it; a sequence before that
	 * run's start was acknowledged before the hub kept chains. */
	if (prep(s, "SELECT seq_to, chains FROM hub_agent_chain WHERE agent_id = ?1 AND seq_to >= ?2"
		 " ORDER BY seq_to LIMIT 1", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	int rc = sqlite3_step(st);
	int out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0) {
		uint64_t to = (uint64_t)sqlite3_column_int64(st, 0);
		const unsigned char *b = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		uint64_t n = len > 0 ? (uint64_t)len / 32 : 0;
		if (!b || n == 0 || len % 32 != 0 || to < seq)
			out = -1; /* not something chains_put wrote */
		else if (to - seq >= n)
			out = 1;
		else
			memcpy(chain, b + (n - 1 - (to - seq)) * 32, 32);
	}
	release(s, st);
	return out;
}

static int st_quarantine_add(struct store *s, const char *agent_id, uint64_t seq, const char *code,
			     const char *table, const char *row_id, const char *field,
			     const char *message, int64_t at_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_quarantine(agent_id, seq, code, tbl, row_id, field,"
		 " message, at_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	bind_text(st, 3, code);
	bind_text(st, 4, table);
	bind_text(st, 5, row_id);
	bind_text(st, 6, field);
	bind_text(st, 7, message);
	sqlite3_bind_int64(st, 8, at_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_quarantined_rows(struct store *s, const char *agent_id, size_t limit,
			       int (*cb)(void *, const char *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT DISTINCT row_id FROM hub_quarantine WHERE agent_id = ?1 AND row_id IS NOT NULL"
		 " LIMIT ?2", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
	int out = 0, rc;
	size_t n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == limit) {
			out = 1;
			break;
		}
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && (out = cb(ctx, id)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_skipped_add(struct store *s, const char *agent_id, uint64_t seq, const char *hash_hex,
			  const char *reason, int64_t at_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_skipped(agent_id, seq, hash, reason, at_ms)"
		 " VALUES(?1,?2,?3,?4,?5)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	bind_text(st, 3, hash_hex);
	bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, at_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_skipped_list(struct store *s, const char *agent_id,
			   int (*cb)(void *, uint64_t, const char *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT seq, reason FROM hub_skipped WHERE agent_id = ?1 ORDER BY seq", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(st, 1);
		if ((out = cb(ctx, (uint64_t)sqlite3_column_int64(st, 0), reason ? reason : "")) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_held_add(struct store *s, const char *agent_id, uint64_t seq, const char *owner,
		       int schema, const char *json, int64_t at_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_held(agent_id, seq, owner, schema, json, at_ms)"
		 " VALUES(?1,?2,?3,?4,?5,?6)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	bind_text(st, 3, owner);
	sqlite3_bind_int(st, 4, schema);
	bind_text(st, 5, json);
	sqlite3_bind_int64(st, 6, at_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_held_of_owner(struct store *s, const char *owner,
			    int (*cb)(void *, const char *, uint64_t, const char *, int, const char *),
			    void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT agent_id, seq, owner, schema, json FROM hub_held WHERE owner = ?1"
		 " ORDER BY agent_id, seq", &st) != 0)
		return fail(s);
	bind_text(st, 1, owner);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out = cb(ctx, (const char *)sqlite3_column_text(st, 0),
			 (uint64_t)sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
			 sqlite3_column_int(st, 3), (const char *)sqlite3_column_text(st, 4));
		if (out)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_held_count(struct store *s, const char *agent_id, int64_t *n)
{
	if (agent_id)
		return count_of(s, "SELECT count(*) FROM hub_held WHERE agent_id = ?1", agent_id, n);
	return count_of(s, "SELECT count(*) FROM hub_held", NULL, n);
}

static int st_held_remove(struct store *s, const char *agent_id, uint64_t seq)
{
	sqlite3_stmt *st;
	if (prep(s, "DELETE FROM hub_held WHERE agent_id = ?1 AND seq = ?2", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

/* ---- pull scopes ---- */

static int st_pull_scope_get(struct store *s, const char *agent_id, char **json)
{
	sqlite3_stmt *st;
	*json = NULL;
	if (prep(s, "SELECT units FROM hub_pull_scope WHERE agent_id = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	int rc = sqlite3_step(st), out = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (out == 0) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*json = strdup(t ? (const char *)t : "[]");
		if (!*json)
			out = -1;
	}
	release(s, st);
	return out;
}

static int st_pull_scope_set(struct store *s, const char *agent_id, const char *json)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_pull_scope(agent_id, units) VALUES(?1, ?2)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	bind_text(st, 2, json);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

/* ---- backups ---- */

static int st_backup_seq_get(struct store *s, const char *agent_id, uint64_t *seq)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT seq FROM hub_backup WHERE agent_id = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	int rc = sqlite3_step(st);
	*seq = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	release(s, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s);
}

static int st_backup_seq_set(struct store *s, const char *agent_id, uint64_t seq)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_backup(agent_id, seq) VALUES(?1, ?2)", &st) != 0)
		return fail(s);
	bind_text(st, 1, agent_id);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_session_put(struct store *s, const struct store_session *x)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_session(hash, token_hash, created_ms, seen_ms, remember)"
		 " VALUES(?1, ?2, ?3, ?4, ?5)", &st) != 0)
		return fail(s);
	bind_text(st, 1, x->hash);
	bind_text(st, 2, x->token_hash);
	sqlite3_bind_int64(st, 3, x->created_ms);
	sqlite3_bind_int64(st, 4, x->seen_ms);
	sqlite3_bind_int(st, 5, x->remember != 0);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_session_get(struct store *s, const char *hash, struct store_session *out)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT hash, token_hash, created_ms, seen_ms, remember FROM hub_session"
		 " WHERE hash = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, hash);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0) {
		copy_col(out->hash, sizeof out->hash, st, 0);
		copy_col(out->token_hash, sizeof out->token_hash, st, 1);
		out->created_ms = sqlite3_column_int64(st, 2);
		out->seen_ms = sqlite3_column_int64(st, 3);
		out->remember = sqlite3_column_int(st, 4);
	}
	release(s, st);
	return r;
}

static int st_session_delete(struct store *s, const char *hash)
{
	sqlite3_stmt *st;
	if (prep(s, "DELETE FROM hub_session WHERE hash = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, hash);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_sessions_prune(struct store *s, int64_t made_before_ms, int64_t seen_before_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "DELETE FROM hub_session WHERE (remember = 0 AND (created_ms < ?1 OR seen_ms < ?2))"
		 " OR (token_hash NOT IN (SELECT hash FROM hub_token WHERE revoked_ms = 0)"
		 " AND token_hash NOT IN (SELECT key FROM hub_viewer))", &st) != 0)
		return fail(s);
	sqlite3_bind_int64(st, 1, made_before_ms);
	sqlite3_bind_int64(st, 2, seen_before_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_sessions_prune_long(struct store *s, int64_t made_before_ms, int64_t seen_before_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "DELETE FROM hub_session WHERE remember = 1 AND (created_ms < ?1 OR seen_ms < ?2)",
		 &st) != 0)
		return fail(s);
	sqlite3_bind_int64(st, 1, made_before_ms);
	sqlite3_bind_int64(st, 2, seen_before_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

/* ---- viewer accounts, failed logins ---- */

#define VIEWER_COLS "name, unit_id, password, key, invite_hash, invite_expires_ms, created_ms," \
	" changed_ms"

static void viewer_load(sqlite3_stmt *st, struct store_viewer *v)
{
	memset(v, 0, sizeof *v);
	copy_col(v->name, sizeof v->name, st, 0);
	copy_col(v->unit_id, sizeof v->unit_id, st, 1);
	copy_col(v->password, sizeof v->password, st, 2);
	copy_col(v->key, sizeof v->key, st, 3);
	copy_col(v->invite_hash, sizeof v->invite_hash, st, 4);
	v->invite_expires_ms = sqlite3_column_int64(st, 5);
	v->created_ms = sqlite3_column_int64(st, 6);
	v->changed_ms = sqlite3_column_int64(st, 7);
}

/* One viewer by one text column (sql selects VIEWER_COLS WHERE col = ?1). */
static int viewer_one(struct store *s, const char *sql, const char *value, struct store_viewer *out)
{
	sqlite3_stmt *st;
	if (!value || !*value)
		return 1;
	if (prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, value);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0)
		viewer_load(st, out);
	release(s, st);
	return r;
}

static int st_viewer_get(struct store *s, const char *name, struct store_viewer *out)
{
	return viewer_one(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE name = ?1", name, out);
}

static int st_viewer_by_invite(struct store *s, const char *hash, struct store_viewer *out)
{
	return viewer_one(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE invite_hash = ?1", hash, out);
}

static int st_viewer_by_key(struct store *s, const char *key, struct store_viewer *out)
{
	return viewer_one(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE key = ?1", key, out);
}

static int st_viewer_put(struct store *s, const struct store_viewer *v)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_viewer(" VIEWER_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
		 &st) != 0)
		return fail(s);
	bind_text(st, 1, v->name);
	bind_text(st, 2, v->unit_id);
	bind_text(st, 3, v->password);
	bind_text(st, 4, v->key);
	bind_text(st, 5, v->invite_hash);
	sqlite3_bind_int64(st, 6, v->invite_expires_ms);
	sqlite3_bind_int64(st, 7, v->created_ms);
	sqlite3_bind_int64(st, 8, v->changed_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

/* Runs sql (one statement binding ?1 and optionally ?2): 0, 1 when it changed no row, -1. */
static int exec_bound(struct store *s, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return fail(s);
	bind_text(st, 1, a);
	if (b)
		bind_text(st, 2, b);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	if (rc == 0 && sqlite3_changes(S(s)->db) == 0)
		rc = 1;
	release(s, st);
	return rc;
}

static int st_viewer_delete(struct store *s, const char *name)
{
	return exec_bound(s, "DELETE FROM hub_viewer WHERE name = ?1", name, NULL);
}

static int st_viewers_list(struct store *s, int (*cb)(void *, const struct store_viewer *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " VIEWER_COLS " FROM hub_viewer ORDER BY name", &st) != 0)
		return fail(s);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_viewer v;
		viewer_load(st, &v);
		if ((out = cb(ctx, &v)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_login_fail_get(struct store *s, const char *key, struct store_login_fail *out)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT key, failures, first_ms, last_ms FROM hub_login_fail WHERE key = ?1", &st) != 0)
		return fail(s);
	bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0) {
		copy_col(out->key, sizeof out->key, st, 0);
		out->failures = sqlite3_column_int64(st, 1);
		out->first_ms = sqlite3_column_int64(st, 2);
		out->last_ms = sqlite3_column_int64(st, 3);
	}
	release(s, st);
	return r;
}

static int st_login_fail_put(struct store *s, const struct store_login_fail *x)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_login_fail(key, failures, first_ms, last_ms)"
		 " VALUES(?1, ?2, ?3, ?4)", &st) != 0)
		return fail(s);
	bind_text(st, 1, x->key);
	sqlite3_bind_int64(st, 2, x->failures);
	sqlite3_bind_int64(st, 3, x->first_ms);
	sqlite3_bind_int64(st, 4, x->last_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_login_fail_clear(struct store *s, const char *key)
{
	return exec_bound(s, "DELETE FROM hub_login_fail WHERE key = ?1", key, NULL) < 0 ? -1 : 0;
}

/* ---- digest mail ---- */

static int st_mail_to_add(struct store *s, const char *address, const char *unit_id)
{
	return exec_bound(s, "INSERT OR IGNORE INTO hub_mail_to(address, unit_id) VALUES(?1, ?2)",
			  address, unit_id) < 0 ? -1 : 0;
}

static int st_mail_to_remove(struct store *s, const char *address, const char *unit_id)
{
	return exec_bound(s, "DELETE FROM hub_mail_to WHERE address = ?1 AND unit_id = ?2", address,
			  unit_id);
}

static int st_mail_to_list(struct store *s, const char *unit_id,
			   int (*cb)(void *, const char *, const char *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT address, unit_id FROM hub_mail_to WHERE ?1 IS NULL OR unit_id = ?1"
		 " ORDER BY unit_id, address", &st) != 0)
		return fail(s);
	bind_text(st, 1, unit_id);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((out = cb(ctx, (const char *)sqlite3_column_text(st, 0),
			      (const char *)sqlite3_column_text(st, 1))) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

void store_digest_mail_release(struct store_digest_mail *m)
{
	if (!m)
		return;
	free(m->html);
	free(m->status_csv);
	free(m->arrivals_csv);
	free(m->report_csv);
	m->html = m->status_csv = m->arrivals_csv = m->report_csv = NULL;
}

#define DIGEST_COLS "date, unit_id, recipients, built_ms, attempts, last_try_ms, sent_ms, error," \
	" subject, html, status_csv, arrivals_csv, report_csv"

/* The columns of DIGEST_COLS; the texts only when texts is 1. 0, or -1 out of memory. */
static int digest_load(sqlite3_stmt *st, struct store_digest_mail *m, int texts)
{
	memset(m, 0, sizeof *m);
	copy_col(m->date, sizeof m->date, st, 0);
	copy_col(m->unit_id, sizeof m->unit_id, st, 1);
	copy_col(m->recipients, sizeof m->recipients, st, 2);
	m->built_ms = sqlite3_column_int64(st, 3);
	m->attempts = sqlite3_column_int64(st, 4);
	m->last_try_ms = sqlite3_column_int64(st, 5);
	m->sent_ms = sqlite3_column_int64(st, 6);
	copy_col(m->error, sizeof m->error, st, 7);
	copy_col(m->subject, sizeof m->subject, st, 8);
	if (!texts)
		return 0;
	char **dst[4] = { &m->html, &m->status_csv, &m->arrivals_csv, &m->report_csv };
	for (int i = 0; i < 4; i++) {
		const unsigned char *t = sqlite3_column_text(st, 9 + i);
		if (!(*dst[i] = strdup(t ? (const char *)t : ""))) {
			store_digest_mail_release(m);
			return -1;
		}
	}
	return 0;
}

static int st_digest_mail_get(struct store *s, const char *date, const char *unit_id,
			      struct store_digest_mail *out)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " DIGEST_COLS " FROM hub_digest_mail WHERE date = ?1 AND unit_id = ?2",
		 &st) != 0)
		return fail(s);
	bind_text(st, 1, date);
	bind_text(st, 2, unit_id);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : fail(s);
	if (r == 0 && digest_load(st, out, 1) != 0)
		r = -1;
	release(s, st);
	return r;
}

static int st_digest_mail_put(struct store *s, const struct store_digest_mail *m)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_digest_mail(" DIGEST_COLS ")"
		 " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)", &st) != 0)
		return fail(s);
	bind_text(st, 1, m->date);
	bind_text(st, 2, m->unit_id);
	bind_text(st, 3, m->recipients);
	sqlite3_bind_int64(st, 4, m->built_ms);
	sqlite3_bind_int64(st, 5, m->attempts);
	sqlite3_bind_int64(st, 6, m->last_try_ms);
	sqlite3_bind_int64(st, 7, m->sent_ms);
	bind_text(st, 8, m->error);
	bind_text(st, 9, m->subject);
	bind_text(st, 10, m->html ? m->html : "");
	bind_text(st, 11, m->status_csv ? m->status_csv : "");
	bind_text(st, 12, m->arrivals_csv ? m->arrivals_csv : "");
	bind_text(st, 13, m->report_csv ? m->report_csv : "");
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_digest_mails_list(struct store *s,
				int (*cb)(void *, const struct store_digest_mail *), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT " DIGEST_COLS " FROM hub_digest_mail ORDER BY date DESC, unit_id", &st) != 0)
		return fail(s);
	int out = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_digest_mail m;
		digest_load(st, &m, 0);
		if ((out = cb(ctx, &m)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = -1;
	release(s, st);
	return out;
}

static int st_flag_set(struct store *s, const struct store_flag *f, int64_t at_ms)
{
	sqlite3_stmt *st;
	if (prep(s, "INSERT OR REPLACE INTO hub_flag(tbl, row_id, kind, field, detail, suggestion, at_ms)"
		 " VALUES(?1,?2,?3,?4,?5,?6,?7)", &st) != 0)
		return fail(s);
	bind_text(st, 1, f->table);
	bind_text(st, 2, f->row_id);
	bind_text(st, 3, f->kind);
	bind_text(st, 4, f->field ? f->field : "");
	bind_text(st, 5, f->detail);
	bind_text(st, 6, f->suggestion);
	sqlite3_bind_int64(st, 7, at_ms);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_flag_clear(struct store *s, const char *table, const char *row_id, const char *kind)
{
	sqlite3_stmt *st;
	if (prep(s, kind ? "DELETE FROM hub_flag WHERE tbl = ?1 AND row_id = ?2 AND kind = ?3"
			 : "DELETE FROM hub_flag WHERE tbl = ?1 AND row_id = ?2", &st) != 0)
		return fail(s);
	bind_text(st, 1, table);
	bind_text(st, 2, row_id);
	if (kind)
		bind_text(st, 3, kind);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_flag_resolve(struct store *s, const char *kind, const char *detail)
{
	sqlite3_stmt *st;
	if (prep(s, "DELETE FROM hub_flag WHERE kind = ?1 AND detail = ?2", &st) != 0)
		return fail(s);
	bind_text(st, 1, kind);
	bind_text(st, 2, detail);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s);
	release(s, st);
	return rc;
}

static int st_flags_count(struct store *s, const char *kind, int64_t *n)
{
	return count_of(s, "SELECT count(*) FROM hub_flag WHERE kind = ?1", kind, n);
}

/* ---- write-ahead log ---- */

/* The writer's log hook, in place of SQLite's automatic checkpoint (which copies the
 * log into the database inside the commit that crossed 1,000 pages). Another thread
 * does the copying (checkpoint), but the log file only starts over from its beginning
 * when a checkpoint has caught up with it, and under a steady stream of commits a
 * concurrent one never quite does: the file would grow without end, every write
 * extending it. So past WAL_CATCH_UP_FRAMES the writer catches up itself — cheap, as
 * the other thread has copied nearly all of it — and its next commit starts the log
 * over. A failure here is not the commit's: the next commit tries again. */
static int writer_wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)ctx;
	if (frames >= WAL_CATCH_UP_FRAMES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static int st_writer_tune(struct store *s)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d;", WRITER_CACHE_KIB);
	if (exec_sql(S(s)->db, sql) != 0)
		return fail(s);
	sqlite3_wal_hook(S(s)->db, writer_wal_hook, NULL);
	return 0;
}

/* PRAGMA data_version changes when another connection commits; unit_writes when
 * this one writes a unit row or rolls back. */
static int st_units_version(struct store *s, uint64_t *version)
{
	sqlite3_stmt *st;
	if (prep(s, "PRAGMA data_version", &st) != 0)
		return fail(s);
	int rc = sqlite3_step(st);
	uint64_t dv = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	release(s, st);
	if (rc != SQLITE_ROW)
		return fail(s);
	*version = (dv << 32) ^ S(s)->unit_writes;
	return 0;
}

static int st_checkpoint(struct store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(S(s)->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : fail(s);
}

/* ---- raw access (migrate.h) ---- */

/* A hub table's name or a column's: plain lower-case identifiers only, so that, once
 * quoted, it can be nothing else in SQL. */
static int plain_ident(const char *n)
{
	if (!*n || strlen(n) > 63 || (*n >= '0' && *n <= '9'))
		return 0;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return 0;
	return 1;
}

/* 1 when table is one of the database's tables (a plain name, not SQLite's own). */
static int raw_known(struct store *s, const char *table)
{
	if (!plain_ident(table) || strncmp(table, "sqlite_", 7) == 0)
		return 0;
	sqlite3_stmt *st;
	if (prep(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", &st) != 0)
		return 0;
	bind_text(st, 1, table);
	int yes = sqlite3_step(st) == SQLITE_ROW;
	release(s, st);
	return yes;
}

static int st_raw_tables(struct store *s, int (*cb)(void *ctx, const char *table), void *ctx)
{
	sqlite3_stmt *st;
	if (prep(s, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
		    " ORDER BY name", &st) != 0)
		return -1;
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name || !plain_ident(name))
			continue; /* not one of the hub's */
		if ((rc = cb(ctx, name)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = -1;
	release(s, st);
	return rc;
}

#define RAW_COLS_MAX 128 /* widest table the raw functions take */

static int st_raw_scan(struct store *s, const char *table,
		       int (*cb)(void *ctx, size_t n, const char *const *names,
				 const struct store_cell *cells),
		       void *ctx)
{
	if (!raw_known(s, table))
		return -1;
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", table);
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return -1;
	int n = sqlite3_column_count(st);
	if (n <= 0 || n > RAW_COLS_MAX) {
		release(s, st);
		return -1;
	}
	const char *names[RAW_COLS_MAX];
	for (int i = 0; i < n; i++)
		names[i] = sqlite3_column_name(st, i);
	struct store_cell cells[RAW_COLS_MAX];
	int rc = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n && rc == 0; i++) {
			struct store_cell *c = &cells[i];
			memset(c, 0, sizeof *c);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL: c->kind = STORE_CELL_NULL; break;
			case SQLITE_INTEGER:
				c->kind = STORE_CELL_INT;
				c->i = sqlite3_column_int64(st, i);
				break;
			case SQLITE_TEXT:
				c->kind = STORE_CELL_TEXT;
				c->p = (const char *)sqlite3_column_text(st, i);
				c->len = (size_t)sqlite3_column_bytes(st, i);
				break;
			case SQLITE_BLOB:
				c->kind = STORE_CELL_BLOB;
				c->p = sqlite3_column_blob(st, i);
				c->len = (size_t)sqlite3_column_bytes(st, i);
				break;
			default: rc = -1; /* a REAL: nothing the hub writes */
			}
		}
		if (rc != 0 || (rc = cb(ctx, (size_t)n, names, cells)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = -1;
	release(s, st);
	return rc;
}

static int st_raw_clear(struct store *s, const char *table)
{
	if (!S(s)->in_tx || !raw_known(s, table))
		return -1;
	char sql[128];
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", table);
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return -1;
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	release(s, st);
	return rc;
}

/* The INSERT of raw_put for this table and column list; prep caches it by its text. A
 * column the table lacks fails the prepare ("no such column"). */
static int st_raw_put(struct store *s, const char *table, size_t n, const char *const *names,
		      const struct store_cell *cells)
{
	if (!S(s)->in_tx || n == 0 || n > RAW_COLS_MAX || !raw_known(s, table))
		return -1;
	char sql[SQL_MAX];
	size_t k = append(sql, 0, sizeof sql, "INSERT INTO \"%s\"(", table);
	for (size_t i = 0; i < n; i++) {
		if (!plain_ident(names[i]))
			return -1;
		k = append(sql, k, sizeof sql, i ? ", \"%s\"" : "\"%s\"", names[i]);
	}
	k = append(sql, k, sizeof sql, "%s", ") VALUES(");
	for (size_t i = 0; i < n; i++)
		k = append(sql, k, sizeof sql, "%s", i ? ", ?" : "?");
	k = append(sql, k, sizeof sql, "%s", ")");
	if (k >= sizeof sql)
		return -1;
	sqlite3_stmt *st;
	if (prep(s, sql, &st) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct store_cell *c = &cells[i];
		int at = (int)i + 1, r;
		switch (c->kind) {
		case STORE_CELL_NULL: r = sqlite3_bind_null(st, at); break;
		case STORE_CELL_INT: r = sqlite3_bind_int64(st, at, c->i); break;
		case STORE_CELL_TEXT:
			r = sqlite3_bind_text64(st, at, c->p, c->len, SQLITE_TRANSIENT, SQLITE_UTF8);
			break;
		case STORE_CELL_BLOB: r = sqlite3_bind_blob64(st, at, c->p, c->len, SQLITE_TRANSIENT); break;
		default: r = SQLITE_MISUSE;
		}
		rc = r == SQLITE_OK ? 0 : -1;
	}
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
		rc = -1;
	release(s, st);
	return rc;
}

/* The hub sequence this transaction hands out next follows the copied counter. */
static int st_raw_done(struct store *s)
{
	if (!S(s)->in_tx)
		return -1;
	S(s)->hs_dirty = 0;
	S(s)->unit_writes++;
	return meta_get_u64(s, "hs", &S(s)->hs);
}

/* ---- for the other files of the back end (store_sqlite_internal.h) ---- */

sqlite3 *store_sqlite_conn(struct store *s) { return S(s)->db; }
int store_sqlite_prep(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return prep(s, sql, st) == 0 ? 0 : fail(s);
}
void store_sqlite_release(struct store *s, sqlite3_stmt *st) { release(s, st); }
int store_sqlite_fail(struct store *s) { return fail(s); }
void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v) { bind_text(st, i, v); }

/* ---- open and close ---- */

static void st_close(struct store *s)
{
	if (!s)
		return;
	struct sqlite_store *ss = S(s);
	for (size_t t = 0; t < schema_ntables; t++) {
		if (ss->read_st)
			sqlite3_finalize(ss->read_st[t]);
		if (ss->write_st)
			sqlite3_finalize(ss->write_st[t]);
	}
	free(ss->read_st);
	free(ss->write_st);
	for (size_t i = 0; i < ss->ncache; i++) {
		sqlite3_finalize(ss->cache[i].st);
		free(ss->cache[i].sql);
	}
	sqlite3_close(ss->db);
	free(ss);
}

static const struct store sqlite_ops = {
	.version = STORE_VERSION,
	.backend = "sqlite",
	.close = st_close,
	.errmsg = st_errmsg,
	.begin = st_begin,
	.commit = st_commit,
	.rollback = st_rollback,
	.read_begin = st_read_begin,
	.read_end = st_read_end,
	.savepoint = st_savepoint,
	.savepoint_end = st_savepoint_end,
	.meta_get = st_meta_get,
	.meta_set = st_meta_set,
	.next_hs = st_next_hs,
	.last_hs = st_last_hs,
	.row_read = st_row_read,
	.row_write = st_row_write,
	.row_known = st_row_known,
	.rows_after = st_rows_after,
	.rows_owned = st_rows_owned,
	.unit_links = st_unit_links,
	.unit_merges = st_unit_merges,
	.unit_known = st_unit_known,
	.unit_placed = st_unit_placed,
	.unit_closed = st_unit_closed,
	.unit_by_code = st_unit_by_code,
	.unit_dated_rows = st_unit_dated_rows,
	.units_list = st_units_list,
	.token_get = st_token_get,
	.token_put = st_token_put,
	.tokens_list = st_tokens_list,
	.agent_get = st_agent_get,
	.agent_put = st_agent_put,
	.agents_list = st_agents_list,
	.agent_counts = st_agent_counts,
	.receipt_add = st_receipt_add,
	.receipts_list = st_receipts_list,
	.receipt_chain_at = st_receipt_chain_at,
	.chains_put = st_chains_put,
	.chain_get = st_chain_get,
	.quarantine_add = st_quarantine_add,
	.quarantined_rows = st_quarantined_rows,
	.skipped_add = st_skipped_add,
	.skipped_list = st_skipped_list,
	.held_add = st_held_add,
	.held_of_owner = st_held_of_owner,
	.held_count = st_held_count,
	.held_remove = st_held_remove,
	.pull_scope_get = st_pull_scope_get,
	.pull_scope_set = st_pull_scope_set,
	.backup_seq_get = st_backup_seq_get,
	.backup_seq_set = st_backup_seq_set,
	.flag_set = st_flag_set,
	.flag_clear = st_flag_clear,
	.flag_resolve = st_flag_resolve,
	.flags_count = st_flags_count,
	.session_put = st_session_put,
	.session_get = st_session_get,
	.session_delete = st_session_delete,
	.sessions_prune = st_sessions_prune,
	.sessions_prune_long = st_sessions_prune_long,
	.viewer_get = st_viewer_get,
	.viewer_by_invite = st_viewer_by_invite,
	.viewer_by_key = st_viewer_by_key,
	.viewer_put = st_viewer_put,
	.viewer_delete = st_viewer_delete,
	.viewers_list = st_viewers_list,
	.login_fail_get = st_login_fail_get,
	.login_fail_put = st_login_fail_put,
	.login_fail_clear = st_login_fail_clear,
	.mail_to_add = st_mail_to_add,
	.mail_to_remove = st_mail_to_remove,
	.mail_to_list = st_mail_to_list,
	.digest_mail_get = st_digest_mail_get,
	.digest_mail_put = st_digest_mail_put,
	.digest_mails_list = st_digest_mails_list,
	.writer_tune = st_writer_tune,
	.checkpoint = st_checkpoint,
	.units_version = st_units_version,
	.raw_tables = st_raw_tables,
	.raw_scan = st_raw_scan,
	.raw_clear = st_raw_clear,
	.raw_put = st_raw_put,
	.raw_done = st_raw_done,
};

/* Takes write access from the group and every access from others away from the
 * database and its WAL and shared-memory files, when they exist and are ours: older
 * hubs made them 0644, and SQLite gives a new WAL the database file's mode. (New files
 * are 0600 by lienket-hub's umask; a group's read access, an operator's choice, stays.)
 * 0, or -1 with the reason in err. */
static int tighten_modes(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char p[4096];
		struct stat sb;
		if (snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= (int)sizeof p)
			continue; /* SQLite could not open it either */
		if (stat(p, &sb) != 0 || sb.st_uid != geteuid() ||
		    !(sb.st_mode & (S_IWGRP | S_IRWXO)))
			continue;
		if (chmod(p, sb.st_mode & 07777 & ~(mode_t)(S_IWGRP | S_IRWXO)) != 0) {
			snprintf(err, errlen, "cannot restrict the permissions of '%s': %s", p,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int store_sqlite_open(const char *path, int create, struct store **out, char *err, size_t errlen)
{
	struct sqlite_store *ss = NULL;
	struct stat sb;
	int code = STORE_ERR;
	int exists = stat(path, &sb) == 0;
	if (create && exists) {
		snprintf(err, errlen, "cannot create '%s': file exists", path);
		return -1;
	}
	if (!create && !exists) {
		snprintf(err, errlen, "cannot open '%s': no such database (run `lienket-hub init`)", path);
		return STORE_IO;
	}
	if (!create && tighten_modes(path, err, errlen) != 0)
		return STORE_IO;
	ss = calloc(1, sizeof *ss);
	if (!ss) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ss->base = sqlite_ops;
	store_sqlite_views_ops(&ss->base);
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &ss->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 ss->db ? sqlite3_errmsg(ss->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(ss->db, SQLITE_BUSY_TIMEOUT_MS);
	if (exec_sql(ss->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") != 0) {
		snprintf(err, errlen, "cannot set WAL mode on '%s': %s", path, sqlite3_errmsg(ss->db));
		goto fail;
	}
	if (create) {
		char hub_id[IDS_UUID_TEXT];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (ids_uuid7((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, hub_id) != 0) {
			snprintf(err, errlen, "cannot make a hub id: random source failed");
			goto fail;
		}
		char ver[16];
		snprintf(ver, sizeof ver, "%d", SCHEMA_VERSION);
		if (exec_sql(ss->db, "BEGIN") != 0 || create_tables(ss->db) != 0 ||
		    st_meta_set(&ss->base, "hub_id", hub_id) != 0 ||
		    st_meta_set(&ss->base, "schema", ver) != 0 || st_meta_set(&ss->base, "hs", "0") != 0 ||
		    exec_sql(ss->db, "COMMIT") != 0) {
			snprintf(err, errlen, "cannot create tables in '%s': %s", path, sqlite3_errmsg(ss->db));
			goto fail;
		}
	} else {
		char buf[40];
		if (st_meta_get(&ss->base, "hub_id", buf, sizeof buf) != 0) {
			snprintf(err, errlen, "'%s' is not a lienket hub database", path);
			code = STORE_CORRUPT;
			goto fail;
		}
		/* REPORT_DDL: an index added since the database was made is built here, once
		 * (about 35 s for meeting_year over ten million meetings) */
		if (exec_sql(ss->db, BACKUP_DDL CHAIN_DDL SESSION_DDL PULL_SCOPE_DDL ACCOUNT_DDL) != 0 ||
		    upgrade_sessions(ss->db) != 0 || exec_sql(ss->db, REPORT_DDL) != 0) {
			snprintf(err, errlen, "cannot upgrade '%s': %s", path, sqlite3_errmsg(ss->db));
			goto fail;
		}
	}
	if (prepare_rows(ss) != 0) {
		snprintf(err, errlen, "cannot prepare statements on '%s': %s", path, sqlite3_errmsg(ss->db));
		goto fail;
	}
	*out = &ss->base;
	return 0;
fail:
	if (code == STORE_ERR && ss->db)
		code = code_of(sqlite3_extended_errcode(ss->db));
	st_close(&ss->base);
	if (create)
		unlink(path);
	return code;
}

/* ---- copies (backup and restore) ---- */

/* Reads what the snapshot holds, inside src's open read transaction. */
static int copy_read_info(sqlite3 *db, struct store_copy_info *info)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM hub_meta WHERE key IN"
			       " ('hub_id', 'hs', 'backup_taken_ms')", -1, &st, NULL) != SQLITE_OK)
		goto done;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		if (!k || !v)
			continue;
		if (strcmp(k, "hub_id") == 0)
			snprintf(info->hub_id, sizeof info->hub_id, "%s", v);
		else if (strcmp(k, "hs") == 0)
			info->hs = strtoull(v, NULL, 10);
		else
			info->taken_ms = strtoll(v, NULL, 10);
	}
	if (r != SQLITE_DONE || !info->hub_id[0])
		goto done;
	sqlite3_finalize(st);
	st = NULL;
	if (!info->agent) {
		rc = 0;
		goto done;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, acked FROM hub_agent ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		goto done;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && info->agent(info->ctx, id, (uint64_t)sqlite3_column_int64(st, 1)) != 0)
			goto done;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
done:
	sqlite3_finalize(st);
	return rc;
}

int store_sqlite_copy(const char *src, const char *dst, int64_t stamp_ms,
		      struct store_copy_info *info, char *err, size_t errlen)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *bk = NULL;
	struct stat sb;
	int rc = -1, made = 0, reading = 0;
	if (stat(dst, &sb) == 0) {
		snprintf(err, errlen, "cannot write '%s': file exists", dst);
		return -1;
	}
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s': %s", src, from ? sqlite3_errmsg(from) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(from, SQLITE_BUSY_TIMEOUT_MS);
	if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create '%s': %s", dst, to ? sqlite3_errmsg(to) : "out of memory");
		goto done;
	}
	made = 1;
	/* One read transaction on src: the info and the pages are the same snapshot
	 * (sqlite3_backup_step uses the transaction already open on the source). */
	if (exec_sql(from, "BEGIN") != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", src, sqlite3_errmsg(from));
		goto done;
	}
	reading = 1;
	struct store_copy_info none = { .agent = NULL };
	if (copy_read_info(from, info ? info : &none) != 0) {
		snprintf(err, errlen, "'%s' is not a readable lienket hub database: %s", src,
			 sqlite3_errmsg(from));
		goto done;
	}
	bk = sqlite3_backup_init(to, "main", from, "main");
	if (!bk) {
		snprintf(err, errlen, "cannot start copying into '%s': %s", dst, sqlite3_errmsg(to));
		goto done;
	}
	int step = sqlite3_backup_step(bk, -1);
	int fin = sqlite3_backup_finish(bk);
	bk = NULL;
	if (step != SQLITE_DONE || fin != SQLITE_OK) {
		snprintf(err, errlen, "cannot copy '%s' into '%s': %s", src, dst, sqlite3_errstr(step != SQLITE_DONE ? step : fin));
		goto done;
	}
	reading = 0;
	if (exec_sql(from, "COMMIT") != 0) {
		snprintf(err, errlen, "cannot end the read of '%s': %s", src, sqlite3_errmsg(from));
		goto done;
	}
	/* A copy is only as good as its pages: check them before anyone relies on it. */
	{
		sqlite3_stmt *qc = NULL;
		int ok = sqlite3_prepare_v2(to, "PRAGMA quick_check", -1, &qc, NULL) == SQLITE_OK &&
			 sqlite3_step(qc) == SQLITE_ROW && sqlite3_column_text(qc, 0) &&
			 strcmp((const char *)sqlite3_column_text(qc, 0), "ok") == 0;
		sqlite3_finalize(qc);
		if (!ok) {
			snprintf(err, errlen, "the copy of '%s' fails SQLite's quick_check: '%s' is damaged",
				 src, src);
			goto done;
		}
	}
	if (exec_sql(to, "PRAGMA journal_mode=DELETE") != 0) {
		snprintf(err, errlen, "cannot finish '%s': %s", dst, sqlite3_errmsg(to));
		goto done;
	}
	if (stamp_ms) {
		sqlite3_stmt *st = NULL;
		char v[32];
		snprintf(v, sizeof v, "%" PRId64, stamp_ms);
		int ok = sqlite3_prepare_v2(to, "INSERT OR REPLACE INTO hub_meta(key, value)"
					    " VALUES('backup_taken_ms', ?1)", -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
		if (!ok) {
			snprintf(err, errlen, "cannot stamp '%s': %s", dst, sqlite3_errmsg(to));
			goto done;
		}
		if (info)
			info->taken_ms = stamp_ms;
	}
	rc = 0;
done:
	if (bk)
		sqlite3_backup_finish(bk);
	if (reading)
		exec_sql(from, "ROLLBACK");
	sqlite3_close(from);
	if (to && sqlite3_close(to) != SQLITE_OK && rc == 0) {
		snprintf(err, errlen, "cannot close '%s'", dst);
		rc = -1;
	}
	if (rc != 0 && made)
		unlink(dst);
	return rc;
}
