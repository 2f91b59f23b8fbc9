/*
 * store_pg.c — the PostgreSQL back end of store.h (libpq): open and identity, the
 * generated DDL, transactions and the hub sequence, rows, units, tokens, agents,
 * receipts, chains, quarantine, skipped and held changes, pull scopes and backups.
 * Sessions, viewers, failed logins, mail and flags are store_pg_access.c's; the helpers
 * every PG file shares are in pg_internal.h (read its top comment first).
 *
 * Several `lienket-hub serve` processes may share one database; nothing here assumes a
 * single writer:
 *   - The hub sequence (_hs, the pull cursor) rises in commit order: a transaction's rows
 *     carry provisional numbers (STORE_PG_HS_PROVISIONAL + k) until commit(), which takes
 *     the advisory lock STORE_PG_LOCK_HS, reads hub_meta 'hs' FOR UPDATE, renumbers the
 *     rows to hs + k, stores the new 'hs' and COMMITs, the lock held until the commit is
 *     visible. So every number a reader sees is below every number given later, and no
 *     pull cursor ever passes a row that commits afterwards.
 *   - A row's read-modify-write (merge.h) is done under an advisory lock on (table, id),
 *     taken by row_read inside a write transaction before reading (absent rows too);
 *     an agent's acknowledged sequence and chain likewise under a lock on its id
 *     (agent_get), a token's binding under a lock on its hash (token_get), and meta keys
 *     read in a write transaction under a lock on the key (the hub's own clock, sequence
 *     and chain are read-modify-written there). Held changes are taken FOR UPDATE SKIP
 *     LOCKED: one process settles each.
 *   - Deadlocks and serialization failures come back as STORE_CONFLICT; the writer
 *     (api.c) rolls back and runs the whole group again.
 *   - The hub id changes when the database returned to an earlier state (a pg_restore,
 *     point-in-time recovery, a promoted standby): hub_meta 'pg_identity' records the
 *     cluster's system identifier, the WAL timeline, and the OIDs of the database and of
 *     hub_meta; open compares them (identity_check).
 *
 * Synced tables are generated from schema_tables[]: text, date, enum and reference
 * columns are text COLLATE "C" (byte order, as SQLite compares: writer tie-breaks and
 * every ORDER BY on text), int and bool bigint; the metadata columns are store.h's.
 * Table and column names in SQL only ever come from schema_tables[]; values are bound.
 */
#include "pg_internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "figures_pg.h" /* FIGURES_PG_INDEX_DDL: the figures source's own index */
#include "ids.h"

#define SQL_MAX 8192 /* longest generated statement */

/* A row is existing when its insert beats its delete (hlc_order; clocks are below 2^63
 * so signed comparison is exact; writers compare as bytes: the columns are "C"). */
#define EXISTS_SQL(p) "(" p "_ins_writer <> '' AND (" p "_del_writer = '' OR " p "_ins_clock > " p \
	"_del_clock OR (" p "_ins_clock = " p "_del_clock AND " p "_ins_writer > " p "_del_writer)))"

/* ---- helpers (pg_internal.h) ---- */

int store_pg_code(const char *sqlstate, PGconn *conn)
{
	if (!sqlstate || !*sqlstate)
		return !conn || PQstatus(conn) != CONNECTION_OK ? STORE_IO : STORE_ERR;
	if (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01") || !strcmp(sqlstate, "23505"))
		return STORE_CONFLICT;
	if (!strcmp(sqlstate, "53100"))
		return STORE_FULL;
	if (!strcmp(sqlstate, "53300") || !strcmp(sqlstate, "55P03") || !strcmp(sqlstate, "57P03") ||
	    !strcmp(sqlstate, "57014"))
		return STORE_BUSY;
	if (!strncmp(sqlstate, "08", 2) || !strcmp(sqlstate, "57P01") || !strcmp(sqlstate, "57P02"))
		return STORE_IO;
	if (!strcmp(sqlstate, "XX001") || !strcmp(sqlstate, "XX002"))
		return STORE_CORRUPT;
	return STORE_ERR;
}

int store_pg_fail(struct store_pg *p, const char *what, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	if (!msg || !*msg)
		msg = p->conn ? PQerrorMessage(p->conn) : "no connection";
	int code = store_pg_code(state, p->conn);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	snprintf(p->err, sizeof p->err, "%s%s%.*s", what ? what : "", what ? ": " : "", (int)n, msg);
	if (code == STORE_CONFLICT && p->in_write)
		p->conflicted = 1;
	return code;
}

static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *c = (const unsigned char *)sql; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h;
}

/* The name of sql's prepared statement, preparing it the first time; NULL when the
 * cache is full (the statement then runs unprepared) or on failure (*code set). */
static const char *stmt_name(struct store_pg *p, const char *sql, int n, int *code)
{
	uint32_t h = sql_hash(sql);
	*code = 0;
	for (size_t i = 0; i < p->nstmts; i++)
		if (p->stmts[i].hash == h && strcmp(p->stmts[i].sql, sql) == 0)
			return p->stmts[i].name;
	if (p->nstmts == STORE_PG_STMT_MAX)
		return NULL;
	struct store_pg_stmt *st = &p->stmts[p->nstmts];
	snprintf(st->name, sizeof st->name, "lk%zu", p->nstmts);
	PGresult *r = PQprepare(p->conn, st->name, sql, n, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*code = store_pg_fail(p, "cannot prepare a statement", r);
		PQclear(r);
		return NULL;
	}
	PQclear(r);
	st->sql = strdup(sql);
	if (!st->sql) {
		/* prepared but not remembered: deallocated so the name can be used again */
		char dealloc[32];
		snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", st->name);
		PQclear(PQexec(p->conn, dealloc));
		*code = STORE_ERR;
		snprintf(p->err, sizeof p->err, "out of memory");
		return NULL;
	}
	st->hash = h;
	p->nstmts++;
	return st->name;
}

static int reconnect(struct store_pg *p);

int store_pg_exec_bin(struct store_pg *p, const char *sql, int n, const char *const *params,
		      const int *lengths, const int *formats, PGresult **res)
{
	int code;
	if (res)
		*res = NULL;
	if (!p->conn) {
		snprintf(p->err, sizeof p->err, "no connection");
		return STORE_IO;
	}
	if (p->gone)
		return p->gone;
	/* A connection lost between transactions (the server restarted, a standby took
	 * over) is made again, and a statement outside a transaction that found it lost is
	 * run once more; one lost inside a transaction fails it (STORE_IO), and the next
	 * begins on a new one. */
	for (int attempt = 0;; attempt++) {
		int outside = !p->in_write && !p->in_read;
		if (PQstatus(p->conn) != CONNECTION_OK && outside && (code = reconnect(p)) != 0)
			return code;
		const char *name = stmt_name(p, sql, n, &code);
		if (code != 0 && !(outside && attempt == 0 && PQstatus(p->conn) != CONNECTION_OK))
			return code;
		PGresult *r = code != 0 ? NULL
			: name ? PQexecPrepared(p->conn, name, n, params, lengths, formats, 0)
			       : PQexecParams(p->conn, sql, n, NULL, params, lengths, formats, 0);
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (res)
				*res = r;
			else
				PQclear(r);
			return STORE_OK;
		}
		code = store_pg_fail(p, NULL, r);
		PQclear(r);
		if (!(outside && attempt == 0 && PQstatus(p->conn) != CONNECTION_OK))
			return code;
	}
}

int store_pg_exec(struct store_pg *p, const char *sql, int n, const char *const *params,
		  PGresult **res)
{
	return store_pg_exec_bin(p, sql, n, params, NULL, NULL, res);
}

int store_pg_exec_script(struct store_pg *p, const char *sql)
{
	PGresult *r = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int code = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? STORE_OK : store_pg_fail(p, NULL, r);
	PQclear(r);
	return code;
}

int64_t store_pg_changed(const PGresult *r)
{
	const char *n = PQcmdTuples((PGresult *)r);
	return n && *n ? strtoll(n, NULL, 10) : 0;
}

const char *store_pg_i64(char buf[STORE_PG_NUM], int64_t v)
{
	snprintf(buf, STORE_PG_NUM, "%" PRId64, v);
	return buf;
}

void store_pg_text(char *dst, size_t n, const PGresult *r, int row, int col)
{
	const char *v = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
	snprintf(dst, n, "%s", v);
}

int64_t store_pg_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *store_pg_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int store_pg_lock(struct store_pg *p, int kind, const char *key)
{
	char k[STORE_PG_NUM];
	if (!p->in_write)
		return STORE_OK;
	const char *params[2] = { store_pg_i64(k, (int64_t)STORE_PG_LOCK_NS + kind), key ? key : "" };
	return store_pg_exec(p, "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))", 2, params,
			     NULL);
}

static struct store_pg *P(struct store *s) { return store_pg_of(s); }

/* Runs sql with text params, giving 0 (a row: *res holds it), 1 (none) or a code. */
static int one_row(struct store_pg *p, const char *sql, int n, const char *const *params,
		   PGresult **res)
{
	int rc = store_pg_exec(p, sql, n, params, res);
	if (rc != 0)
		return rc;
	if (PQntuples(*res) > 0)
		return 0;
	PQclear(*res);
	*res = NULL;
	return 1;
}

/* ---- DDL ---- */

static size_t append(char *buf, size_t n, size_t cap, const char *fmt, const char *a)
{
	if (n >= cap)
		return n;
	int k = snprintf(buf + n, cap - n, fmt, a);
	return k < 0 ? cap : n + (size_t)k;
}

#define T "text COLLATE \"C\""
#define I "bigint"

/* The hub's own tables (store_sqlite.c's, in PostgreSQL words). */
static const char META_DDL[] =
	"CREATE TABLE IF NOT EXISTS hub_meta(key " T " PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_token(hash " T " PRIMARY KEY, prefix " T " NOT NULL,"
	" kind " I " NOT NULL, unit_id " T " NOT NULL, name " T " NOT NULL, agent_id " T " NOT NULL,"
	" created_ms " I " NOT NULL, revoked_ms " I " NOT NULL, fork_refused " I " NOT NULL,"
	" rebound " I " NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hub_token_agent ON hub_token(agent_id);"
	"CREATE TABLE IF NOT EXISTS hub_agent(id " T " PRIMARY KEY, unit_id " T " NOT NULL,"
	" acked " I " NOT NULL, chain " T " NOT NULL, first_seen_ms " I " NOT NULL,"
	" last_hello_ms " I " NOT NULL, last_changes_ms " I " NOT NULL, wall_ms " I " NOT NULL,"
	" offset_ms " I " NOT NULL, pending " I " NOT NULL, software " T " NOT NULL,"
	" retired_to " T " NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_receipt(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" agent_id " T " NOT NULL, seq_from " I " NOT NULL, seq_to " I " NOT NULL,"
	" chain_before " T " NOT NULL, chain_after " T " NOT NULL, applied " I " NOT NULL,"
	" quarantined " I " NOT NULL, held " I " NOT NULL, skipped " I " NOT NULL,"
	" duplicate " I " NOT NULL, received_ms " I " NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hub_receipt_agent ON hub_receipt(agent_id, seq_to);"
	"CREATE INDEX IF NOT EXISTS hub_receipt_from ON hub_receipt(agent_id, seq_from);"
	"CREATE TABLE IF NOT EXISTS hub_quarantine(agent_id " T " NOT NULL, seq " I " NOT NULL,"
	" code " T " NOT NULL, tbl " T ", row_id " T ", field " T ", message text, at_ms " I " NOT NULL,"
	" PRIMARY KEY(agent_id, seq));"
	"CREATE TABLE IF NOT EXISTS hub_skipped(agent_id " T " NOT NULL, seq " I " NOT NULL,"
	" hash " T " NOT NULL, reason text NOT NULL, at_ms " I " NOT NULL, PRIMARY KEY(agent_id, seq));"
	"CREATE TABLE IF NOT EXISTS hub_held(agent_id " T " NOT NULL, seq " I " NOT NULL,"
	" owner " T " NOT NULL, schema " I " NOT NULL, json text NOT NULL, at_ms " I " NOT NULL,"
	" PRIMARY KEY(agent_id, seq));"
	"CREATE INDEX IF NOT EXISTS hub_held_owner ON hub_held(owner, agent_id, seq);"
	"CREATE TABLE IF NOT EXISTS hub_backup(agent_id " T " PRIMARY KEY, seq " I " NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_agent_chain(agent_id " T " NOT NULL, seq_to " I " NOT NULL,"
	" chains bytea NOT NULL, PRIMARY KEY(agent_id, seq_to));"
	"CREATE TABLE IF NOT EXISTS hub_pull_scope(agent_id " T " PRIMARY KEY, units text NOT NULL);";

/* Indexes the report and the unit tree rely on (store_sqlite.c's REPORT_DDL without the
 * SQLite figures source's expression index: the PostgreSQL figures source has its own,
 * meeting_year of figures_pg.h's FIGURES_PG_INDEX_DDL, made after these). */
static const char REPORT_DDL[] =
	"CREATE INDEX IF NOT EXISTS unit_name_of ON unit_name(of_unit);"
	"CREATE INDEX IF NOT EXISTS unit_name_code ON unit_name(code);"
	"CREATE INDEX IF NOT EXISTS unit_parent_of ON unit_parent(of_unit);"
	"CREATE INDEX IF NOT EXISTS unit_event_of ON unit_event(of_unit);"
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

/* The PostgreSQL type of a declared column. */
static const char *column_type(const struct schema_column *c)
{
	return c->type == SCHEMA_INT || c->type == SCHEMA_BOOL ? I : T;
}

/* CREATE TABLE and its pull-cursor and owner indexes for one synced table into sql.
 * The length written (>= cap: did not fit). */
static size_t table_ddl(const struct schema_table *tb, char *sql, size_t cap)
{
	size_t n = append(sql, 0, cap, "CREATE TABLE IF NOT EXISTS \"%s\"(id " T " PRIMARY KEY,"
			  " unit_id " T " NOT NULL", tb->name);
	for (size_t c = 2; c < tb->ncolumns; c++) {
		n = append(sql, n, cap, ", \"%s\" ", tb->columns[c].name);
		n = append(sql, n, cap, "%s", column_type(&tb->columns[c]));
	}
	n = append(sql, n, cap, "%s",
		   ", _ins_clock " I " NOT NULL, _ins_writer " T " NOT NULL,"
		   " _del_clock " I " NOT NULL, _del_writer " T " NOT NULL,"
		   " _clock " I " NOT NULL, _writer " T " NOT NULL, _fc text NOT NULL,"
		   " _hs " I " NOT NULL, _recv_ms " I " NOT NULL);");
	n = append(sql, n, cap, "CREATE INDEX IF NOT EXISTS \"%s_hs\"", tb->name);
	n = append(sql, n, cap, " ON \"%s\"(_hs);", tb->name);
	n = append(sql, n, cap, "CREATE INDEX IF NOT EXISTS \"%s_unit\"", tb->name);
	n = append(sql, n, cap, " ON \"%s\"(unit_id, _hs);", tb->name);
	return n;
}

#undef T
#undef I

/* Every table and index (IF NOT EXISTS: also adds what a newer hub needs). */
static int create_tables(struct store_pg *p)
{
	int rc = store_pg_exec_script(p, META_DDL);
	for (size_t t = 0; rc == 0 && t < schema_ntables; t++) {
		char sql[SQL_MAX];
		size_t n = table_ddl(&schema_tables[t], sql, sizeof sql);
		if (n >= sizeof sql) {
			snprintf(p->err, sizeof p->err, "the DDL of table %s is too long", schema_tables[t].name);
			return STORE_ERR;
		}
		rc = store_pg_exec_script(p, sql);
	}
	if (rc == 0)
		rc = store_pg_exec_script(p, REPORT_DDL);
	rc = rc ? rc : store_pg_exec_script(p, FIGURES_PG_INDEX_DDL);
	rc = rc ? rc : store_pg_exec_script(p, STORE_PG_ACCESS_DDL);
	return rc;
}

/* A digest (FNV-1a 64, hex) of every DDL text create_tables runs: hub_meta 'pg_ddl'
 * holds the digest of the last run, so that opening a connection runs the DDL only when
 * this build's differs. CREATE INDEX IF NOT EXISTS takes its table's ShareLock even when
 * the index exists: run at every open, it deadlocked a pool connection opening while a
 * writer (this process's or another's) held row locks and waited for its commit. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		h = (h ^ *c) * 1099511628211ull;
	return h;
}

static int ddl_digest(char out[17])
{
	uint64_t h = fnv1a(14695981039346656037ull, META_DDL);
	for (size_t t = 0; t < schema_ntables; t++) {
		char sql[SQL_MAX];
		if (table_ddl(&schema_tables[t], sql, sizeof sql) >= sizeof sql)
			return STORE_ERR;
		h = fnv1a(h, sql);
	}
	h = fnv1a(h, REPORT_DDL);
	h = fnv1a(h, FIGURES_PG_INDEX_DDL);
	h = fnv1a(h, STORE_PG_ACCESS_DDL);
	snprintf(out, 17, "%016" PRIx64, h);
	return 0;
}

static size_t table_index(const struct schema_table *t)
{
	return (size_t)(t - schema_tables);
}

static int is_unit_table(const struct schema_table *t)
{
	return strncmp(t->name, "unit", 4) == 0;
}

/* ---- transactions and the hub sequence ---- */

static int meta_get_u64(struct store_pg *p, const char *key, uint64_t *out);

static void tx_reset(struct store_pg *p)
{
	p->in_write = 0;
	p->conflicted = 0;
	p->hs_given = 0;
	memset(p->written, 0, schema_ntables);
}

static int pg_begin(struct store *s)
{
	struct store_pg *p = P(s);
	tx_reset(p);
	int rc = store_pg_exec(p, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, NULL);
	if (rc == 0)
		p->in_write = 1;
	return rc;
}

static int pg_rollback(struct store *s)
{
	struct store_pg *p = P(s);
	p->unit_writes++;
	tx_reset(p);
	return store_pg_exec(p, "ROLLBACK", 0, NULL, NULL);
}

/* Gives this transaction's rows their real hub sequences (see the top comment): the
 * caller holds nothing yet; the lock taken here lasts until COMMIT or ROLLBACK. */
static int renumber(struct store_pg *p)
{
	char k[STORE_PG_NUM], d[STORE_PG_NUM], v[STORE_PG_NUM], prov[STORE_PG_NUM];
	uint64_t base;
	const char *lock[1] = { store_pg_i64(k, (int64_t)STORE_PG_LOCK_NS + STORE_PG_LOCK_HS) };
	int rc = store_pg_exec(p, "SELECT pg_advisory_xact_lock($1::int, 0)", 1, lock, NULL);
	if (rc != 0)
		return rc;
	PGresult *r;
	rc = one_row(p, "SELECT value FROM hub_meta WHERE key = 'hs' FOR UPDATE", 0, NULL, &r);
	if (rc != 0)
		return rc < 0 ? rc : store_pg_fail(p, "hub_meta has no 'hs'", NULL);
	base = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	/* real = base + k = provisional - (PROVISIONAL - base) */
	const char *params[1] = { store_pg_i64(d, (int64_t)(STORE_PG_HS_PROVISIONAL - base)) };
	int units = 0;
	for (size_t t = 0; rc == 0 && t < schema_ntables; t++) {
		if (!p->written[t])
			continue;
		/* The bound is written out, not a parameter: the planner then knows from the
		 * statistics that few rows are above it and walks the _hs index (a generic plan
		 * for "_hs > $2" would guess a third of the table and might scan it all). */
		char sql[256];
		snprintf(sql, sizeof sql, "UPDATE \"%s\" SET _hs = _hs - $1::bigint WHERE _hs > %s",
			 schema_tables[t].name, store_pg_i64(prov, (int64_t)STORE_PG_HS_PROVISIONAL));
		rc = store_pg_exec(p, sql, 1, params, NULL);
		units |= is_unit_table(&schema_tables[t]);
	}
	const char *hs[1] = { store_pg_i64(v, (int64_t)(base + p->hs_given)) };
	if (rc == 0)
		rc = store_pg_exec(p, "UPDATE hub_meta SET value = $1 WHERE key = 'hs'", 1, hs, NULL);
	/* units_version: other processes see that the unit tree may have changed */
	if (rc == 0 && units)
		rc = store_pg_exec(p, "INSERT INTO hub_meta(key, value) VALUES('units_hs', $1)"
				   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 1, hs, NULL);
	return rc;
}

static int pg_commit(struct store *s)
{
	struct store_pg *p = P(s);
	int rc = 0;
	if (!p->in_write) {
		snprintf(p->err, sizeof p->err, "commit without a write transaction");
		return STORE_ERR;
	}
	if (p->conflicted) {
		rc = STORE_CONFLICT;
		snprintf(p->err, sizeof p->err, "a concurrent transaction won (deadlock or"
			 " serialization failure): run the transaction again");
	}
	if (rc == 0 && p->hs_given)
		rc = renumber(p);
	PGresult *r = NULL;
	if (rc == 0)
		rc = store_pg_exec(p, "COMMIT", 0, NULL, &r);
	/* COMMIT of a transaction that met an error answers ROLLBACK, without an error */
	if (rc == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		snprintf(p->err, sizeof p->err, "the transaction was rolled back: a statement in it failed");
		rc = p->conflicted ? STORE_CONFLICT : STORE_ERR;
	}
	PQclear(r);
	int conflicted = p->conflicted;
	if (rc != 0) {
		if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
			PQclear(PQexec(p->conn, "ROLLBACK"));
		p->unit_writes++;
		if (conflicted && rc != STORE_IO)
			rc = STORE_CONFLICT;
	}
	tx_reset(p);
	return rc;
}

/* Pairs nest (store.h): only the outermost begins and ends a snapshot; inside a write
 * transaction the reads see the writer's own state. */
static int pg_read_begin(struct store *s)
{
	struct store_pg *p = P(s);
	if (p->read_depth++ > 0 || p->in_write)
		return 0;
	int rc = store_pg_exec(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL);
	if (rc != 0)
		p->read_depth = 0;
	p->in_read = rc == 0;
	return rc;
}

static int pg_read_end(struct store *s)
{
	struct store_pg *p = P(s);
	if (p->read_depth == 0 || --p->read_depth > 0 || !p->in_read)
		return 0;
	p->in_read = 0;
	return store_pg_exec(p, "COMMIT", 0, NULL, NULL);
}

static int pg_savepoint(struct store *s)
{
	return store_pg_exec(P(s), "SAVEPOINT cs", 0, NULL, NULL);
}

static int pg_savepoint_end(struct store *s, int keep)
{
	struct store_pg *p = P(s);
	if (!keep) {
		p->unit_writes++;
		int rc = store_pg_exec(p, "ROLLBACK TO SAVEPOINT cs", 0, NULL, NULL);
		if (rc != 0)
			return rc;
	}
	return store_pg_exec(p, "RELEASE SAVEPOINT cs", 0, NULL, NULL);
}

static int pg_next_hs(struct store *s, uint64_t *hs)
{
	struct store_pg *p = P(s);
	if (!p->in_write) {
		snprintf(p->err, sizeof p->err, "a hub sequence outside a write transaction");
		return STORE_ERR;
	}
	*hs = STORE_PG_HS_PROVISIONAL + ++p->hs_given;
	return 0;
}

static int pg_last_hs(struct store *s, uint64_t *hs)
{
	struct store_pg *p = P(s);
	if (p->in_write) {
		*hs = STORE_PG_HS_PROVISIONAL + p->hs_given;
		return 0;
	}
	return meta_get_u64(p, "hs", hs);
}

/* ---- meta ---- */

/* Keys only ever written at creation or by an offline restore: read without a lock. */
static int meta_unlocked(const char *key)
{
	return !strcmp(key, "hub_id") || !strcmp(key, "schema") || !strcmp(key, "hs");
}

static int pg_meta_get(struct store *s, const char *key, char *buf, size_t len)
{
	struct store_pg *p = P(s);
	PGresult *r;
	if (!meta_unlocked(key)) {
		int l = store_pg_lock(p, STORE_PG_LOCK_META, key);
		if (l != 0)
			return l;
	}
	const char *params[1] = { key };
	int rc = one_row(p, "SELECT value FROM hub_meta WHERE key = $1", 1, params, &r);
	if (rc == 0) {
		store_pg_text(buf, len, r, 0, 0);
		PQclear(r);
	}
	return rc;
}

static int pg_meta_set(struct store *s, const char *key, const char *value)
{
	const char *params[2] = { key, value };
	return store_pg_exec(P(s), "INSERT INTO hub_meta(key, value) VALUES($1, $2)"
			     " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 2, params, NULL);
}

static int meta_get_u64(struct store_pg *p, const char *key, uint64_t *out)
{
	char buf[32];
	int rc = pg_meta_get(&p->base, key, buf, sizeof buf);
	if (rc < 0)
		return rc;
	*out = rc == 1 ? 0 : strtoull(buf, NULL, 10);
	return 0;
}

/* ---- rows ---- */

/* Column list "unit_id, c2, …, _ins_clock, … _fc" shared by reads and scans. */
static size_t row_columns(char *sql, size_t n, size_t cap, const struct schema_table *tb)
{
	n = append(sql, n, cap, "%s", "unit_id");
	for (size_t c = 2; c < tb->ncolumns; c++)
		n = append(sql, n, cap, ", \"%s\"", tb->columns[c].name);
	return append(sql, n, cap, "%s",
		      ", _ins_clock, _ins_writer, _del_clock, _del_writer, _clock, _writer, _fc");
}

/* Loads row `row` of res from column `at` on (the layout of row_columns). */
static int load_row(const PGresult *res, int row, int at, struct merge_row *r)
{
	const struct schema_table *tb = r->t;
	store_pg_text(r->owner, sizeof r->owner, res, row, at);
	for (size_t c = 2; c < tb->ncolumns; c++) {
		int i = at + (int)c - 1;
		struct value v = { .kind = VALUE_NULL };
		if (!PQgetisnull(res, row, i)) {
			const struct schema_column *col = &tb->columns[c];
			if (col->type == SCHEMA_INT || col->type == SCHEMA_BOOL) {
				v.kind = VALUE_INT;
				v.i = strtoll(PQgetvalue(res, row, i), NULL, 10);
			} else {
				v.kind = VALUE_TEXT;
				v.s = PQgetvalue(res, row, i);
				v.len = (size_t)PQgetlength(res, row, i);
			}
		}
		if (merge_cell_set(r, c, &v, 0, "") != 0)
			return -1;
	}
	int m = at + (int)tb->ncolumns - 1;
	r->ins_clock = (uint64_t)store_pg_int(res, row, m);
	store_pg_text(r->ins_writer, sizeof r->ins_writer, res, row, m + 1);
	r->del_clock = (uint64_t)store_pg_int(res, row, m + 2);
	store_pg_text(r->del_writer, sizeof r->del_writer, res, row, m + 3);
	char writer[MERGE_WRITER_MAX];
	store_pg_text(writer, sizeof writer, res, row, m + 5);
	return merge_fc_decode(r, (uint64_t)store_pg_int(res, row, m + 4), writer,
			       store_pg_str(res, row, m + 6));
}

static int pg_row_read(struct store *s, struct merge_row *r)
{
	struct store_pg *p = P(s);
	const struct schema_table *tb = r->t;
	char sql[SQL_MAX];
	PGresult *res;
	/* the lock before the read: what a concurrent writer committed is seen */
	int rc = store_pg_lock(p, STORE_PG_LOCK_ROW + (int)table_index(tb), r->id);
	if (rc != 0)
		return rc;
	size_t n = append(sql, 0, sizeof sql, "%s", "SELECT ");
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, " FROM \"%s\" WHERE id = $1", tb->name);
	if (n >= sizeof sql)
		return STORE_ERR;
	const char *params[1] = { r->id };
	rc = one_row(p, sql, 1, params, &res);
	if (rc != 0)
		return rc;
	if (load_row(res, 0, 0, r) != 0)
		rc = STORE_ERR;
	PQclear(res);
	return rc;
}

/* A value as a text parameter (into num for integers); NULL for SQL NULL. */
static const char *value_param(const struct value *v, char num[STORE_PG_NUM])
{
	switch (v->kind) {
	case VALUE_INT:
	case VALUE_BOOL:
		return store_pg_i64(num, v->i);
	case VALUE_TEXT:
		return v->s;
	default:
		return NULL;
	}
}

static int pg_row_write(struct store *s, const struct merge_row *r, uint64_t hs, int64_t recv_ms)
{
	struct store_pg *p = P(s);
	const struct schema_table *tb = r->t;
	size_t nparams = tb->ncolumns + 9;
	char sql[SQL_MAX], rw[MERGE_WRITER_MAX];
	uint64_t rc_clock;
	int rc = STORE_ERR;
	char (*num)[STORE_PG_NUM] = calloc(nparams, sizeof *num);
	const char **params = calloc(nparams, sizeof *params);
	char *fc = merge_fc_encode(r);
	if (!num || !params || !fc)
		goto done;
	merge_row_clock(r, &rc_clock, rw);
	size_t n = append(sql, 0, sizeof sql, "INSERT INTO \"%s\"(id, ", tb->name);
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, "%s", ", _hs, _recv_ms) VALUES($1");
	for (size_t c = 2; c <= nparams; c++) {
		char ph[16];
		snprintf(ph, sizeof ph, ",$%zu", c);
		n = append(sql, n, sizeof sql, "%s", ph);
	}
	n = append(sql, n, sizeof sql, "%s", ") ON CONFLICT (id) DO UPDATE SET unit_id = EXCLUDED.unit_id");
	for (size_t c = 2; c < tb->ncolumns; c++) {
		n = append(sql, n, sizeof sql, ", \"%s\" = ", tb->columns[c].name);
		n = append(sql, n, sizeof sql, "EXCLUDED.\"%s\"", tb->columns[c].name);
	}
	n = append(sql, n, sizeof sql, "%s",
		   ", _ins_clock = EXCLUDED._ins_clock, _ins_writer = EXCLUDED._ins_writer,"
		   " _del_clock = EXCLUDED._del_clock, _del_writer = EXCLUDED._del_writer,"
		   " _clock = EXCLUDED._clock, _writer = EXCLUDED._writer, _fc = EXCLUDED._fc,"
		   " _hs = EXCLUDED._hs, _recv_ms = EXCLUDED._recv_ms");
	if (n >= sizeof sql)
		goto done;
	size_t i = 0;
	params[i++] = r->id;
	params[i++] = r->owner;
	for (size_t c = 2; c < tb->ncolumns; c++, i++)
		params[i] = value_param(&r->cells[c].v, num[i]);
	params[i] = store_pg_i64(num[i], (int64_t)r->ins_clock), i++;
	params[i++] = r->ins_writer;
	params[i] = store_pg_i64(num[i], (int64_t)r->del_clock), i++;
	params[i++] = r->del_writer;
	params[i] = store_pg_i64(num[i], (int64_t)rc_clock), i++;
	params[i++] = rw;
	params[i++] = fc;
	params[i] = store_pg_i64(num[i], (int64_t)hs), i++;
	params[i] = store_pg_i64(num[i], recv_ms), i++;
	rc = store_pg_exec(p, sql, (int)i, params, NULL);
	if (rc == 0) {
		p->written[table_index(tb)] = 1;
		if (is_unit_table(tb))
			p->unit_writes++;
	}
done:
	free(fc);
	free(params);
	free(num);
	return rc;
}

static int pg_row_known(struct store *s, const struct schema_table *t, const char *id)
{
	char sql[256];
	PGresult *r;
	snprintf(sql, sizeof sql, "SELECT 1 FROM \"%s\" WHERE id = $1 AND _ins_writer <> ''", t->name);
	const char *params[1] = { id };
	int rc = one_row(P(s), sql, 1, params, &r);
	if (rc == 0)
		PQclear(r);
	return rc < 0 ? rc : rc == 0;
}

static int has_assignee(const struct schema_table *t)
{
	return t->pull == SCHEMA_PULL_ASSIGNEE && schema_column_find(t, "assignee_unit_id", 1);
}

/* Calls back for each row of res (id, row_columns…, _hs). */
static int scan_rows(const struct schema_table *tb, const PGresult *res,
		     int (*cb_hs)(void *, const struct merge_row *, uint64_t),
		     int (*cb)(void *, const struct merge_row *), void *ctx)
{
	int out = 0, n = PQntuples(res);
	int m = (int)tb->ncolumns + 7;
	for (int k = 0; k < n && out == 0; k++) {
		struct merge_row r;
		if (merge_row_init(&r, tb, PQgetvalue(res, k, 0), NULL) != 0)
			return STORE_ERR;
		if (load_row(res, k, 1, &r) != 0)
			out = STORE_ERR;
		else
			out = cb_hs ? cb_hs(ctx, &r, (uint64_t)store_pg_int(res, k, m)) : cb(ctx, &r);
		merge_row_release(&r);
	}
	return out;
}

/* The scope filter: unit_id (or, for assignee tables, assignee_unit_id) in the JSON array
 * parameter $n. */
#define IN_SCOPE(col, n) col " = ANY(ARRAY(SELECT jsonb_array_elements_text($" n "::jsonb)))"

static int pg_rows_after(struct store *s, const struct schema_table *tb, uint64_t after,
			 const char *scope_json, size_t limit,
			 int (*cb)(void *, const struct merge_row *, uint64_t), void *ctx)
{
	char sql[SQL_MAX], a[STORE_PG_NUM], l[STORE_PG_NUM];
	PGresult *res;
	size_t n = append(sql, 0, sizeof sql, "%s", "SELECT id, ");
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, ", _hs FROM \"%s\" WHERE _hs > $1::bigint", tb->name);
	if (scope_json) {
		n = append(sql, n, sizeof sql, "%s", " AND (" IN_SCOPE("unit_id", "3"));
		if (has_assignee(tb))
			n = append(sql, n, sizeof sql, "%s", " OR " IN_SCOPE("assignee_unit_id", "3"));
		n = append(sql, n, sizeof sql, "%s", ")");
	}
	n = append(sql, n, sizeof sql, "%s", " ORDER BY _hs LIMIT $2::bigint");
	if (n >= sizeof sql)
		return STORE_ERR;
	/* a limit past int64 is "every row" */
	int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	const char *params[3] = { store_pg_i64(a, (int64_t)after), store_pg_i64(l, lim), scope_json };
	int rc = store_pg_exec(P(s), sql, scope_json ? 3 : 2, params, &res);
	if (rc != 0)
		return rc;
	rc = scan_rows(tb, res, cb, NULL, ctx);
	PQclear(res);
	return rc;
}

static int pg_rows_owned(struct store *s, const struct schema_table *tb, const char *scope_json,
			 int (*cb)(void *, const struct merge_row *), void *ctx)
{
	char sql[SQL_MAX];
	PGresult *res;
	size_t n = append(sql, 0, sizeof sql, "%s", "SELECT id, ");
	n = row_columns(sql, n, sizeof sql, tb);
	n = append(sql, n, sizeof sql, ", _hs FROM \"%s\" WHERE " IN_SCOPE("unit_id", "1")
		   " AND " EXISTS_SQL(""), tb->name);
	if (n >= sizeof sql)
		return STORE_ERR;
	const char *params[1] = { scope_json };
	int rc = store_pg_exec(P(s), sql, 1, params, &res);
	if (rc != 0)
		return rc;
	rc = scan_rows(tb, res, NULL, cb, ctx);
	PQclear(res);
	return rc;
}

/* ---- units ---- */

/* Runs sql and calls back with the text columns of each row (NULL for SQL NULL). */
static int each_row(struct store_pg *p, const char *sql, int n, const char *const *params,
		    int (*row)(void *ctx, const PGresult *r, int k), void *ctx)
{
	PGresult *res;
	int rc = store_pg_exec(p, sql, n, params, &res);
	if (rc != 0)
		return rc;
	int out = 0;
	for (int k = 0; k < PQntuples(res) && out == 0; k++)
		out = row(ctx, res, k);
	PQclear(res);
	return out;
}

struct cb3 {
	int (*two)(void *, const char *, const char *);
	int (*three)(void *, const char *, const char *, const char *);
	void *ctx;
};

static int links_row(void *ctx, const PGresult *r, int k)
{
	struct cb3 *C = ctx;
	const char *u = store_pg_str(r, k, 0), *p = store_pg_str(r, k, 1);
	return u && p ? C->two(C->ctx, u, p) : 0;
}

static int pg_unit_links(struct store *s, const char *today,
			 int (*cb)(void *, const char *, const char *), void *ctx)
{
	struct cb3 C = { .two = cb, .ctx = ctx };
	const char *params[1] = { today };
	return each_row(P(s), "SELECT of_unit, parent_id FROM unit_parent WHERE " EXISTS_SQL("")
			" AND valid_from <= $1 AND (valid_to IS NULL OR valid_to >= $1)", 1, params,
			links_row, &C);
}

static int merges_row(void *ctx, const PGresult *r, int k)
{
	struct cb3 *C = ctx;
	const char *u = store_pg_str(r, k, 0), *o = store_pg_str(r, k, 1), *d = store_pg_str(r, k, 2);
	return u && o ? C->three(C->ctx, u, o, d ? d : "") : 0;
}

static int pg_unit_merges(struct store *s, int (*cb)(void *, const char *, const char *, const char *),
			  void *ctx)
{
	struct cb3 C = { .three = cb, .ctx = ctx };
	return each_row(P(s), "SELECT of_unit, other_unit, effective_on FROM unit_event WHERE "
			EXISTS_SQL("") " AND kind IN ('merge', 'split', 'close') AND other_unit IS NOT NULL"
			" AND other_unit <> of_unit", 0, NULL, merges_row, &C);
}

/* 1 when sql (one parameter) gives a row, 0 when none, or a code. */
static int exists_one(struct store_pg *p, const char *sql, const char *a)
{
	PGresult *r;
	const char *params[1] = { a };
	int rc = one_row(p, sql, 1, params, &r);
	if (rc == 0)
		PQclear(r);
	return rc < 0 ? rc : rc == 0;
}

static int pg_unit_known(struct store *s, const char *unit_id)
{
	return exists_one(P(s), "SELECT 1 FROM unit WHERE id = $1 AND _ins_writer <> ''", unit_id);
}

static int pg_unit_placed(struct store *s, const char *unit_id)
{
	return exists_one(P(s), "SELECT 1 WHERE EXISTS(SELECT 1 FROM unit_parent p WHERE p.of_unit = $1"
			  " AND " EXISTS_SQL("p.") ")"
			  " OR EXISTS(SELECT 1 FROM unit_event e WHERE e.of_unit = $1 AND " EXISTS_SQL("e.") ")"
			  " OR EXISTS(SELECT 1 FROM unit_name n WHERE n.of_unit = $1 AND n.kind = 'province' AND "
			  EXISTS_SQL("n.") ")", unit_id);
}

/* The day before a 'YYYY-MM-DD' text, as text. */
#define DAY_BEFORE(d) "to_char((" d ")::date - 1, 'YYYY-MM-DD')"

/* A name row of unit u valid on date d (for the successor's code match). */
#define NAME_ON(p, u, d) EXISTS_SQL(p) " AND " p "of_unit = " u " AND " p "valid_from <= " d \
	" AND (" p "valid_to IS NULL OR " p "valid_to >= " d ")"

static int pg_unit_closed(struct store *s, const char *unit_id, const char *on_date,
			  char successor[37])
{
	struct store_pg *p = P(s);
	PGresult *r;
	char closed_on[16] = "";
	const char *params[2] = { unit_id, on_date };
	/* The earliest closing event; among events of that day the part that took the
	 * unit's code first, then the first recorded (ids are time-ordered). */
	int rc = one_row(p, "SELECT e.other_unit, e.effective_on FROM unit_event e WHERE " EXISTS_SQL("e.")
			 " AND e.of_unit = $1 AND e.effective_on <= $2 AND (e.kind IN ('close', 'merge')"
			 "  OR (e.kind = 'split' AND NOT EXISTS (SELECT 1 FROM unit_event x WHERE "
			 EXISTS_SQL("x.") " AND x.of_unit = $1 AND x.kind = 'split' AND x.other_unit = $1)))"
			 " ORDER BY e.effective_on,"
			 " EXISTS (SELECT 1 FROM unit_name a, unit_name b WHERE "
			 NAME_ON("a.", "e.other_unit", "e.effective_on") " AND "
			 NAME_ON("b.", "$1", DAY_BEFORE("e.effective_on")) " AND a.code = b.code) DESC,"
			 " e.id LIMIT 1", 2, params, &r);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	store_pg_text(successor, 37, r, 0, 0);
	store_pg_text(closed_on, sizeof closed_on, r, 0, 1);
	PQclear(r);
	if (successor[0])
		return 1;
	/* No successor: the parent on the day before it closed. */
	params[1] = closed_on;
	rc = one_row(p, "SELECT parent_id FROM unit_parent p WHERE "
		     NAME_ON("p.", "$1", DAY_BEFORE("$2::text")) " ORDER BY p.valid_from DESC LIMIT 1",
		     2, params, &r);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		store_pg_text(successor, 37, r, 0, 0);
		PQclear(r);
	}
	return 1;
}

static int dated_row(void *ctx, const PGresult *r, int k)
{
	struct cb3 *C = ctx;
	const char *id = store_pg_str(r, k, 0), *from = store_pg_str(r, k, 1),
		   *owner = store_pg_str(r, k, 2);
	return id && from && owner ? C->three(C->ctx, id, from, owner) : 0;
}

static int pg_unit_dated_rows(struct store *s, const struct schema_table *t, const char *unit_id,
			      const char *date,
			      int (*cb)(void *, const char *, const char *, const char *), void *ctx)
{
	char sql[512];
	if (strcmp(t->name, "unit_name") != 0 && strcmp(t->name, "unit_parent") != 0)
		return STORE_ERR;
	snprintf(sql, sizeof sql, "SELECT id, valid_from, unit_id FROM \"%s\" WHERE " EXISTS_SQL("")
		 " AND of_unit = $1 AND (valid_to IS NULL OR valid_to >= $2) ORDER BY valid_from, id",
		 t->name);
	struct cb3 C = { .three = cb, .ctx = ctx };
	const char *params[2] = { unit_id, date };
	return each_row(P(s), sql, 2, params, dated_row, &C);
}

static int pg_unit_by_code(struct store *s, const char *code, const char *today, char id[37])
{
	PGresult *r;
	const char *params[2] = { code, today };
	int rc = one_row(P(s), "SELECT of_unit FROM unit_name WHERE " EXISTS_SQL("")
			 " AND code = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)"
			 " ORDER BY valid_from DESC LIMIT 1", 2, params, &r);
	if (rc == 0) {
		store_pg_text(id, 37, r, 0, 0);
		PQclear(r);
	}
	return rc;
}

struct units_cb {
	int (*cb)(void *, const struct store_unit_info *);
	void *ctx;
};

static int units_row(void *ctx, const PGresult *r, int k)
{
	struct units_cb *C = ctx;
	struct store_unit_info u = { store_pg_str(r, k, 0), store_pg_str(r, k, 1), store_pg_str(r, k, 2),
				     store_pg_str(r, k, 3), store_pg_str(r, k, 4) };
	return C->cb(C->ctx, &u);
}

static int pg_units_list(struct store *s, const char *today,
			 int (*cb)(void *, const struct store_unit_info *), void *ctx)
{
	struct units_cb C = { cb, ctx };
	const char *params[1] = { today };
	/* The name valid on the date; for a unit closed by then, its last name. NULLS FIRST:
	 * SQLite's order of a unit not yet named. */
	return each_row(P(s), "SELECT u.id, n.code, n.name, n.kind, p.parent_id FROM unit u"
			" LEFT JOIN unit_name n ON n.id = (SELECT x.id FROM unit_name x WHERE x.of_unit = u.id"
			" AND " EXISTS_SQL("x.") " AND x.valid_from <= $1"
			" ORDER BY (x.valid_to IS NULL OR x.valid_to >= $1) DESC, x.valid_from DESC LIMIT 1)"
			" LEFT JOIN unit_parent p ON p.of_unit = u.id AND " EXISTS_SQL("p.")
			" AND p.valid_from <= $1 AND (p.valid_to IS NULL OR p.valid_to >= $1)"
			" WHERE " EXISTS_SQL("u.") " ORDER BY n.code NULLS FIRST, u.id", 1, params,
			units_row, &C);
}

/* ---- tokens and agents ---- */

#define TOKEN_COLS "hash, prefix, kind, unit_id, name, agent_id, created_ms, revoked_ms, fork_refused, rebound"

static void token_load(const PGresult *r, int k, struct store_token *t)
{
	memset(t, 0, sizeof *t);
	store_pg_text(t->hash, sizeof t->hash, r, k, 0);
	store_pg_text(t->prefix, sizeof t->prefix, r, k, 1);
	t->kind = store_pg_int(r, k, 2) ? STORE_TOKEN_VIEWER : STORE_TOKEN_AGENT;
	store_pg_text(t->unit_id, sizeof t->unit_id, r, k, 3);
	store_pg_text(t->name, sizeof t->name, r, k, 4);
	store_pg_text(t->agent_id, sizeof t->agent_id, r, k, 5);
	t->created_ms = store_pg_int(r, k, 6);
	t->revoked_ms = store_pg_int(r, k, 7);
	t->fork_refused = (int)store_pg_int(r, k, 8);
	t->rebound = (int)store_pg_int(r, k, 9);
}

static int pg_token_get(struct store *s, const char *hash, struct store_token *out)
{
	struct store_pg *p = P(s);
	PGresult *r;
	/* a binding is read, then written (auth_bind): one process at a time per token */
	int rc = store_pg_lock(p, STORE_PG_LOCK_TOKEN, hash);
	if (rc != 0)
		return rc;
	const char *params[1] = { hash };
	rc = one_row(p, "SELECT " TOKEN_COLS " FROM hub_token WHERE hash = $1", 1, params, &r);
	if (rc == 0) {
		token_load(r, 0, out);
		PQclear(r);
	}
	return rc;
}

static int pg_token_put(struct store *s, const struct store_token *t)
{
	char n[5][STORE_PG_NUM];
	const char *params[10] = { t->hash, t->prefix, store_pg_i64(n[0], t->kind == STORE_TOKEN_VIEWER),
				   t->unit_id, t->name, t->agent_id, store_pg_i64(n[1], t->created_ms),
				   store_pg_i64(n[2], t->revoked_ms), store_pg_i64(n[3], t->fork_refused),
				   store_pg_i64(n[4], t->rebound) };
	return store_pg_exec(P(s), "INSERT INTO hub_token(" TOKEN_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
			     " ON CONFLICT (hash) DO UPDATE SET prefix = EXCLUDED.prefix, kind = EXCLUDED.kind,"
			     " unit_id = EXCLUDED.unit_id, name = EXCLUDED.name, agent_id = EXCLUDED.agent_id,"
			     " created_ms = EXCLUDED.created_ms, revoked_ms = EXCLUDED.revoked_ms,"
			     " fork_refused = EXCLUDED.fork_refused, rebound = EXCLUDED.rebound",
			     10, params, NULL);
}

struct tokens_cb {
	int (*cb)(void *, const struct store_token *);
	void *ctx;
};

static int tokens_row(void *ctx, const PGresult *r, int k)
{
	struct tokens_cb *C = ctx;
	struct store_token t;
	token_load(r, k, &t);
	return C->cb(C->ctx, &t);
}

static int pg_tokens_list(struct store *s, int (*cb)(void *, const struct store_token *), void *ctx)
{
	struct tokens_cb C = { cb, ctx };
	return each_row(P(s), "SELECT " TOKEN_COLS " FROM hub_token ORDER BY created_ms, prefix", 0, NULL,
			tokens_row, &C);
}

#define AGENT_COLS "id, unit_id, acked, chain, first_seen_ms, last_hello_ms, last_changes_ms," \
	" wall_ms, offset_ms, pending, software, retired_to"

static void agent_load(const PGresult *r, int k, struct store_agent *a)
{
	memset(a, 0, sizeof *a);
	store_pg_text(a->id, sizeof a->id, r, k, 0);
	store_pg_text(a->unit_id, sizeof a->unit_id, r, k, 1);
	a->acked = (uint64_t)store_pg_int(r, k, 2);
	store_pg_text(a->chain, sizeof a->chain, r, k, 3);
	a->first_seen_ms = store_pg_int(r, k, 4);
	a->last_hello_ms = store_pg_int(r, k, 5);
	a->last_changes_ms = store_pg_int(r, k, 6);
	a->wall_ms = store_pg_int(r, k, 7);
	a->offset_ms = store_pg_int(r, k, 8);
	a->pending = store_pg_int(r, k, 9);
	store_pg_text(a->software, sizeof a->software, r, k, 10);
	store_pg_text(a->retired_to, sizeof a->retired_to, r, k, 11);
}

static int pg_agent_get(struct store *s, const char *id, struct store_agent *out)
{
	struct store_pg *p = P(s);
	PGresult *r;
	/* per-agent ordering: the acknowledged sequence and chain are read, checked and
	 * advanced by one process at a time (an absent agent too: its first change set) */
	int rc = store_pg_lock(p, STORE_PG_LOCK_AGENT, id);
	if (rc != 0)
		return rc;
	const char *params[1] = { id };
	rc = one_row(p, "SELECT " AGENT_COLS " FROM hub_agent WHERE id = $1", 1, params, &r);
	if (rc == 0) {
		agent_load(r, 0, out);
		PQclear(r);
	}
	return rc;
}

static int pg_agent_put(struct store *s, const struct store_agent *a)
{
	char n[7][STORE_PG_NUM];
	const char *params[12] = { a->id, a->unit_id, store_pg_i64(n[0], (int64_t)a->acked), a->chain,
				   store_pg_i64(n[1], a->first_seen_ms), store_pg_i64(n[2], a->last_hello_ms),
				   store_pg_i64(n[3], a->last_changes_ms), store_pg_i64(n[4], a->wall_ms),
				   store_pg_i64(n[5], a->offset_ms), store_pg_i64(n[6], a->pending),
				   a->software, a->retired_to };
	return store_pg_exec(P(s), "INSERT INTO hub_agent(" AGENT_COLS ")"
			     " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (id) DO UPDATE SET"
			     " unit_id = EXCLUDED.unit_id, acked = EXCLUDED.acked, chain = EXCLUDED.chain,"
			     " first_seen_ms = EXCLUDED.first_seen_ms, last_hello_ms = EXCLUDED.last_hello_ms,"
			     " last_changes_ms = EXCLUDED.last_changes_ms, wall_ms = EXCLUDED.wall_ms,"
			     " offset_ms = EXCLUDED.offset_ms, pending = EXCLUDED.pending,"
			     " software = EXCLUDED.software, retired_to = EXCLUDED.retired_to",
			     12, params, NULL);
}

struct agents_cb {
	int (*cb)(void *, const struct store_agent *);
	void *ctx;
};

static int agents_row(void *ctx, const PGresult *r, int k)
{
	struct agents_cb *C = ctx;
	struct store_agent a;
	agent_load(r, k, &a);
	return C->cb(C->ctx, &a);
}

static int pg_agents_list(struct store *s, int (*cb)(void *, const struct store_agent *), void *ctx)
{
	struct agents_cb C = { cb, ctx };
	return each_row(P(s), "SELECT " AGENT_COLS " FROM hub_agent ORDER BY unit_id, first_seen_ms", 0,
			NULL, agents_row, &C);
}

/* A count(*) with at most one text parameter. */
static int count_of(struct store_pg *p, const char *sql, const char *a, int64_t *out)
{
	PGresult *r;
	const char *params[1] = { a };
	int rc = one_row(p, sql, a ? 1 : 0, params, &r);
	if (rc == 1)
		return STORE_ERR;
	if (rc == 0) {
		*out = store_pg_int(r, 0, 0);
		PQclear(r);
	}
	return rc;
}

static int pg_agent_counts(struct store *s, const char *agent_id, struct store_agent_counts *out)
{
	struct store_pg *p = P(s);
	int rc = count_of(p, "SELECT count(*) FROM hub_quarantine WHERE agent_id = $1", agent_id,
			  &out->quarantined);
	if (rc == 0)
		rc = count_of(p, "SELECT count(*) FROM hub_skipped WHERE agent_id = $1", agent_id,
			      &out->skipped);
	if (rc == 0)
		rc = count_of(p, "SELECT count(*) FROM hub_held WHERE agent_id = $1", agent_id, &out->held);
	return rc;
}

/* ---- records ---- */

static int pg_receipt_add(struct store *s, const struct store_receipt *r)
{
	char n[9][STORE_PG_NUM];
	const char *params[11] = { r->agent_id, store_pg_i64(n[0], (int64_t)r->seq_from),
				   store_pg_i64(n[1], (int64_t)r->seq_to), r->chain_before, r->chain_after,
				   store_pg_i64(n[2], r->applied), store_pg_i64(n[3], r->quarantined),
				   store_pg_i64(n[4], r->held), store_pg_i64(n[5], r->skipped),
				   store_pg_i64(n[6], r->duplicate), store_pg_i64(n[7], r->received_ms) };
	return store_pg_exec(P(s), "INSERT INTO hub_receipt(agent_id, seq_from, seq_to, chain_before,"
			     " chain_after, applied, quarantined, held, skipped, duplicate, received_ms)"
			     " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", 11, params, NULL);
}

struct receipts_cb {
	int (*cb)(void *, const struct store_receipt *);
	void *ctx;
};

static int receipts_row(void *ctx, const PGresult *r, int k)
{
	struct receipts_cb *C = ctx;
	struct store_receipt x;
	memset(&x, 0, sizeof x);
	store_pg_text(x.agent_id, sizeof x.agent_id, r, k, 0);
	x.seq_from = (uint64_t)store_pg_int(r, k, 1);
	x.seq_to = (uint64_t)store_pg_int(r, k, 2);
	store_pg_text(x.chain_before, sizeof x.chain_before, r, k, 3);
	store_pg_text(x.chain_after, sizeof x.chain_after, r, k, 4);
	x.applied = store_pg_int(r, k, 5);
	x.quarantined = store_pg_int(r, k, 6);
	x.held = store_pg_int(r, k, 7);
	x.skipped = store_pg_int(r, k, 8);
	x.duplicate = (int)store_pg_int(r, k, 9);
	x.received_ms = store_pg_int(r, k, 10);
	return C->cb(C->ctx, &x);
}

static int pg_receipts_list(struct store *s, const char *agent_id, size_t limit,
			    int (*cb)(void *, const struct store_receipt *), void *ctx)
{
	char l[STORE_PG_NUM];
	struct receipts_cb C = { cb, ctx };
	int64_t lim = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
	const char *params[2] = { agent_id, store_pg_i64(l, lim) };
	return each_row(P(s), "SELECT agent_id, seq_from, seq_to, chain_before, chain_after, applied,"
			" quarantined, held, skipped, duplicate, received_ms FROM hub_receipt"
			" WHERE $1::text IS NULL OR agent_id = $1::text ORDER BY id DESC LIMIT $2::bigint",
			2, params, receipts_row, &C);
}

static int pg_receipt_chain_at(struct store *s, const char *agent_id, uint64_t seq, char chain[65])
{
	PGresult *r;
	char n[STORE_PG_NUM];
	const char *params[2] = { agent_id, store_pg_i64(n, (int64_t)seq) };
	int rc = one_row(P(s), "(SELECT chain_after FROM hub_receipt WHERE agent_id = $1 AND seq_to = $2::bigint"
			 " LIMIT 1) UNION ALL (SELECT chain_before FROM hub_receipt WHERE agent_id = $1"
			 " AND seq_from = $2::bigint + 1 LIMIT 1) LIMIT 1", 2, params, &r);
	if (rc == 0) {
		store_pg_text(chain, 65, r, 0, 0);
		PQclear(r);
	}
	return rc;
}

static int pg_chains_put(struct store *s, const char *agent_id, uint64_t from, uint64_t to,
			 const unsigned char *chains)
{
	char n[STORE_PG_NUM];
	if (to < from || to - from >= (uint64_t)INT32_MAX / 32)
		return STORE_ERR;
	const char *params[3] = { agent_id, store_pg_i64(n, (int64_t)to), (const char *)chains };
	int lengths[3] = { 0, 0, (int)((to - from + 1) * 32) };
	int formats[3] = { 0, 0, 1 };
	return store_pg_exec_bin(P(s), "INSERT INTO hub_agent_chain(agent_id, seq_to, chains)"
				 " VALUES($1, $2, $3) ON CONFLICT (agent_id, seq_to) DO UPDATE SET"
				 " chains = EXCLUDED.chains", 3, params, lengths, formats, NULL);
}

static int pg_chain_get(struct store *s, const char *agent_id, uint64_t seq, unsigned char chain[32])
{
	PGresult *r;
	char n[STORE_PG_NUM];
	const char *params[2] = { agent_id, store_pg_i64(n, (int64_t)seq) };
	/* The run holding seq is the first ending at or after it; its chain(seq) is the
	 * 32 bytes (to - seq) from the run's end. A sequence before the run's start was
	 * acknowledged before the hub kept chains. */
	int rc = one_row(P(s), "SELECT seq_to, length(chains), encode(substring(chains FROM"
			 " greatest((length(chains) / 32 - 1 - (seq_to - $2::bigint)) * 32 + 1, 1)::int"
			 " FOR 32), 'hex') FROM hub_agent_chain WHERE agent_id = $1 AND seq_to >= $2::bigint"
			 " ORDER BY seq_to LIMIT 1", 2, params, &r);
	if (rc != 0)
		return rc;
	uint64_t to = (uint64_t)store_pg_int(r, 0, 0);
	int64_t len = store_pg_int(r, 0, 1);
	uint64_t k = len > 0 ? (uint64_t)len / 32 : 0;
	if (k == 0 || len % 32 != 0 || to < seq)
		rc = STORE_CORRUPT; /* not something chains_put wrote */
	else if (to - seq >= k)
		rc = 1;
	else if (hex_decode(PQgetvalue(r, 0, 2), chain, 32) != 0)
		rc = STORE_CORRUPT;
	PQclear(r);
	if (rc == STORE_CORRUPT)
		snprintf(P(s)->err, sizeof P(s)->err, "hub_agent_chain of agent %s is damaged", agent_id);
	return rc;
}

static int pg_quarantine_add(struct store *s, const char *agent_id, uint64_t seq, const char *code,
			     const char *table, const char *row_id, const char *field,
			     const char *message, int64_t at_ms)
{
	char n[2][STORE_PG_NUM];
	const char *params[8] = { agent_id, store_pg_i64(n[0], (int64_t)seq), code, table, row_id, field,
				  message, store_pg_i64(n[1], at_ms) };
	return store_pg_exec(P(s), "INSERT INTO hub_quarantine(agent_id, seq, code, tbl, row_id, field,"
			     " message, at_ms) VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (agent_id, seq)"
			     " DO UPDATE SET code = EXCLUDED.code, tbl = EXCLUDED.tbl, row_id = EXCLUDED.row_id,"
			     " field = EXCLUDED.field, message = EXCLUDED.message, at_ms = EXCLUDED.at_ms",
			     8, params, NULL);
}

static int pg_quarantined_rows(struct store *s, const char *agent_id, size_t limit,
			       int (*cb)(void *, const char *), void *ctx)
{
	PGresult *r;
	char l[STORE_PG_NUM];
	int64_t lim = limit >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit + 1;
	const char *params[2] = { agent_id, store_pg_i64(l, lim) };
	int rc = store_pg_exec(P(s), "SELECT DISTINCT row_id FROM hub_quarantine WHERE agent_id = $1"
			       " AND row_id IS NOT NULL LIMIT $2::bigint", 2, params, &r);
	if (rc != 0)
		return rc;
	int out = 0, n = PQntuples(r);
	for (int k = 0; k < n && out == 0; k++) {
		if ((size_t)k == limit) {
			out = 1;
			break;
		}
		out = cb(ctx, PQgetvalue(r, k, 0));
	}
	PQclear(r);
	return out;
}

static int pg_skipped_add(struct store *s, const char *agent_id, uint64_t seq, const char *hash_hex,
			  const char *reason, int64_t at_ms)
{
	char n[2][STORE_PG_NUM];
	const char *params[5] = { agent_id, store_pg_i64(n[0], (int64_t)seq), hash_hex, reason,
				  store_pg_i64(n[1], at_ms) };
	return store_pg_exec(P(s), "INSERT INTO hub_skipped(agent_id, seq, hash, reason, at_ms)"
			     " VALUES($1,$2,$3,$4,$5) ON CONFLICT (agent_id, seq) DO UPDATE SET"
			     " hash = EXCLUDED.hash, reason = EXCLUDED.reason, at_ms = EXCLUDED.at_ms",
			     5, params, NULL);
}

struct skipped_cb {
	int (*cb)(void *, uint64_t, const char *);
	void *ctx;
};

static int skipped_row(void *ctx, const PGresult *r, int k)
{
	struct skipped_cb *C = ctx;
	const char *reason = store_pg_str(r, k, 1);
	return C->cb(C->ctx, (uint64_t)store_pg_int(r, k, 0), reason ? reason : "");
}

static int pg_skipped_list(struct store *s, const char *agent_id,
			   int (*cb)(void *, uint64_t, const char *), void *ctx)
{
	struct skipped_cb C = { cb, ctx };
	const char *params[1] = { agent_id };
	return each_row(P(s), "SELECT seq, reason FROM hub_skipped WHERE agent_id = $1 ORDER BY seq", 1,
			params, skipped_row, &C);
}

static int pg_held_add(struct store *s, const char *agent_id, uint64_t seq, const char *owner,
		       int schema, const char *json, int64_t at_ms)
{
	char n[3][STORE_PG_NUM];
	const char *params[6] = { agent_id, store_pg_i64(n[0], (int64_t)seq), owner,
				  store_pg_i64(n[1], schema), json, store_pg_i64(n[2], at_ms) };
	return store_pg_exec(P(s), "INSERT INTO hub_held(agent_id, seq, owner, schema, json, at_ms)"
			     " VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT (agent_id, seq) DO UPDATE SET"
			     " owner = EXCLUDED.owner, schema = EXCLUDED.schema, json = EXCLUDED.json,"
			     " at_ms = EXCLUDED.at_ms", 6, params, NULL);
}

struct held_cb {
	int (*cb)(void *, const char *, uint64_t, const char *, int, const char *);
	void *ctx;
};

static int held_row(void *ctx, const PGresult *r, int k)
{
	struct held_cb *C = ctx;
	return C->cb(C->ctx, store_pg_str(r, k, 0), (uint64_t)store_pg_int(r, k, 1), store_pg_str(r, k, 2),
		     (int)store_pg_int(r, k, 3), store_pg_str(r, k, 4));
}

static int pg_held_of_owner(struct store *s, const char *owner,
			    int (*cb)(void *, const char *, uint64_t, const char *, int, const char *),
			    void *ctx)
{
	struct held_cb C = { cb, ctx };
	const char *params[1] = { owner };
	/* In a write transaction the changes listed are the caller's to settle: locked, and
	 * those another process is settling are left to it. */
	return each_row(P(s), P(s)->in_write
			? "SELECT agent_id, seq, owner, schema, json FROM hub_held WHERE owner = $1"
			  " ORDER BY agent_id, seq FOR UPDATE SKIP LOCKED"
			: "SELECT agent_id, seq, owner, schema, json FROM hub_held WHERE owner = $1"
			  " ORDER BY agent_id, seq", 1, params, held_row, &C);
}

static int pg_held_count(struct store *s, const char *agent_id, int64_t *n)
{
	if (agent_id)
		return count_of(P(s), "SELECT count(*) FROM hub_held WHERE agent_id = $1", agent_id, n);
	return count_of(P(s), "SELECT count(*) FROM hub_held", NULL, n);
}

static int pg_held_remove(struct store *s, const char *agent_id, uint64_t seq)
{
	char n[STORE_PG_NUM];
	const char *params[2] = { agent_id, store_pg_i64(n, (int64_t)seq) };
	return store_pg_exec(P(s), "DELETE FROM hub_held WHERE agent_id = $1 AND seq = $2", 2, params, NULL);
}

/* ---- pull scopes and backups ---- */

static int pg_pull_scope_get(struct store *s, const char *agent_id, char **json)
{
	PGresult *r;
	*json = NULL;
	const char *params[1] = { agent_id };
	int rc = one_row(P(s), "SELECT units FROM hub_pull_scope WHERE agent_id = $1", 1, params, &r);
	if (rc != 0)
		return rc;
	const char *t = store_pg_str(r, 0, 0);
	*json = strdup(t ? t : "[]");
	PQclear(r);
	return *json ? 0 : STORE_ERR;
}

static int pg_pull_scope_set(struct store *s, const char *agent_id, const char *json)
{
	const char *params[2] = { agent_id, json };
	return store_pg_exec(P(s), "INSERT INTO hub_pull_scope(agent_id, units) VALUES($1, $2)"
			     " ON CONFLICT (agent_id) DO UPDATE SET units = EXCLUDED.units", 2, params, NULL);
}

static int pg_backup_seq_get(struct store *s, const char *agent_id, uint64_t *seq)
{
	PGresult *r;
	const char *params[1] = { agent_id };
	int rc = one_row(P(s), "SELECT seq FROM hub_backup WHERE agent_id = $1", 1, params, &r);
	if (rc < 0)
		return rc;
	*seq = rc == 0 ? (uint64_t)store_pg_int(r, 0, 0) : 0;
	if (rc == 0)
		PQclear(r);
	return 0;
}

static int pg_backup_seq_set(struct store *s, const char *agent_id, uint64_t seq)
{
	char n[STORE_PG_NUM];
	const char *params[2] = { agent_id, store_pg_i64(n, (int64_t)seq) };
	return store_pg_exec(P(s), "INSERT INTO hub_backup(agent_id, seq) VALUES($1, $2)"
			     " ON CONFLICT (agent_id) DO UPDATE SET seq = EXCLUDED.seq", 2, params, NULL);
}

/* ---- the write-ahead log and the unit tree's version ---- */

/* PostgreSQL checkpoints by itself, and its commits never copy the log into tables:
 * nothing to tune. */
static int pg_writer_tune(struct store *s)
{
	(void)s;
	return 0;
}

static int pg_checkpoint(struct store *s)
{
	(void)s;
	return 0;
}

/* hub_meta 'units_hs' moves with every commit that wrote a unit table (any process);
 * unit_writes with every unit write and rollback on this handle. */
static int pg_units_version(struct store *s, uint64_t *version)
{
	struct store_pg *p = P(s);
	PGresult *r;
	int rc = one_row(p, "SELECT value FROM hub_meta WHERE key = 'units_hs'", 0, NULL, &r);
	if (rc < 0)
		return rc;
	uint64_t v = rc == 0 ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	if (rc == 0)
		PQclear(r);
	*version = (v * 0x9E3779B97F4A7C15u) ^ p->unit_writes;
	return 0;
}

/* ---- open and close ---- */

static void pg_close(struct store *s)
{
	if (!s)
		return;
	struct store_pg *p = P(s);
	for (size_t i = 0; i < p->nstmts; i++)
		free(p->stmts[i].sql);
	if (p->conn)
		PQfinish(p->conn);
	free(p->written);
	free(p);
}

static const char *pg_errmsg(struct store *s)
{
	return P(s)->err;
}

static const struct store pg_ops = {
	.version = STORE_VERSION,
	.backend = "postgresql",
	.close = pg_close,
	.errmsg = pg_errmsg,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.savepoint = pg_savepoint,
	.savepoint_end = pg_savepoint_end,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.next_hs = pg_next_hs,
	.last_hs = pg_last_hs,
	.row_read = pg_row_read,
	.row_write = pg_row_write,
	.row_known = pg_row_known,
	.rows_after = pg_rows_after,
	.rows_owned = pg_rows_owned,
	.unit_links = pg_unit_links,
	.unit_merges = pg_unit_merges,
	.unit_known = pg_unit_known,
	.unit_placed = pg_unit_placed,
	.unit_closed = pg_unit_closed,
	.unit_by_code = pg_unit_by_code,
	.unit_dated_rows = pg_unit_dated_rows,
	.units_list = pg_units_list,
	.token_get = pg_token_get,
	.token_put = pg_token_put,
	.tokens_list = pg_tokens_list,
	.agent_get = pg_agent_get,
	.agent_put = pg_agent_put,
	.agents_list = pg_agents_list,
	.agent_counts = pg_agent_counts,
	.receipt_add = pg_receipt_add,
	.receipts_list = pg_receipts_list,
	.receipt_chain_at = pg_receipt_chain_at,
	.chains_put = pg_chains_put,
	.chain_get = pg_chain_get,
	.quarantine_add = pg_quarantine_add,
	.quarantined_rows = pg_quarantined_rows,
	.skipped_add = pg_skipped_add,
	.skipped_list = pg_skipped_list,
	.held_add = pg_held_add,
	.held_of_owner = pg_held_of_owner,
	.held_count = pg_held_count,
	.held_remove = pg_held_remove,
	.pull_scope_get = pg_pull_scope_get,
	.pull_scope_set = pg_pull_scope_set,
	.backup_seq_get = pg_backup_seq_get,
	.backup_seq_set = pg_backup_seq_set,
	.writer_tune = pg_writer_tune,
	.checkpoint = pg_checkpoint,
	.units_version = pg_units_version,
};

/* Sets the slots the other PostgreSQL files implement (pg_internal.h). */
static void fill_parts(struct store *ops)
{
	store_pg_access_ops(ops);
	store_pg_raw_ops(ops);
	store_pg_views_ops(ops); /* store-read: the read side (store_pg_views.c) */
}

/* The name of the first slot of s left NULL, or NULL when every one is set: by name
 * for the slots known when this was written, then every function pointer of the table
 * (each member after `backend` is one, store.h), so a slot added later to store.h and
 * not yet implemented here is caught too. */
static const char *missing_slot(const struct store *s, char *unnamed, size_t len)
{
#define SLOT(f) if (!s->f) return #f;
	SLOT(close) SLOT(errmsg) SLOT(begin) SLOT(commit) SLOT(rollback) SLOT(read_begin)
	SLOT(read_end) SLOT(savepoint) SLOT(savepoint_end) SLOT(meta_get) SLOT(meta_set)
	SLOT(next_hs) SLOT(last_hs) SLOT(row_read) SLOT(row_write) SLOT(row_known)
	SLOT(rows_after) SLOT(rows_owned) SLOT(unit_links) SLOT(unit_merges) SLOT(unit_known)
	SLOT(unit_placed) SLOT(unit_closed) SLOT(unit_by_code) SLOT(unit_dated_rows)
	SLOT(units_list) SLOT(token_get) SLOT(token_put) SLOT(tokens_list) SLOT(agent_get)
	SLOT(agent_put) SLOT(agents_list) SLOT(agent_counts) SLOT(receipt_add) SLOT(receipts_list)
	SLOT(receipt_chain_at) SLOT(chains_put) SLOT(chain_get) SLOT(quarantine_add)
	SLOT(quarantined_rows) SLOT(skipped_add) SLOT(skipped_list) SLOT(held_add)
	SLOT(held_of_owner) SLOT(held_count) SLOT(held_remove) SLOT(pull_scope_get)
	SLOT(pull_scope_set) SLOT(backup_seq_get) SLOT(backup_seq_set) SLOT(flag_set)
	SLOT(flag_clear) SLOT(flag_resolve) SLOT(flags_count) SLOT(session_put) SLOT(session_get)
	SLOT(session_delete) SLOT(sessions_prune) SLOT(sessions_prune_long) SLOT(viewer_get)
	SLOT(viewer_by_invite) SLOT(viewer_by_key) SLOT(viewer_put) SLOT(viewer_delete)
	SLOT(viewers_list) SLOT(login_fail_get) SLOT(login_fail_put) SLOT(login_fail_clear)
	SLOT(mail_to_add) SLOT(mail_to_remove) SLOT(mail_to_list) SLOT(digest_mail_get)
	SLOT(digest_mail_put) SLOT(digest_mails_list) SLOT(writer_tune) SLOT(checkpoint)
	SLOT(units_version) SLOT(raw_tables) SLOT(raw_scan) SLOT(raw_clear) SLOT(raw_put)
	SLOT(raw_done) SLOT(figures) SLOT(status_agents) SLOT(status_issues) SLOT(status_flags)
	SLOT(arrivals) SLOT(latest_year)
#undef SLOT
	typedef void (*slot_fn)(void);
	size_t first = offsetof(struct store, close);
	for (size_t at = first; at + sizeof(slot_fn) <= sizeof *s; at += sizeof(slot_fn)) {
		slot_fn f;
		memcpy(&f, (const unsigned char *)s + at, sizeof f);
		if (!f) {
			snprintf(unnamed, len, "slot %zu of struct store",
				 (at - first) / sizeof(slot_fn));
			return unnamed;
		}
	}
	return NULL;
}

/* Where the database stands: "SYSID:TIMELINE:DBOID:RELOID" — the cluster's system
 * identifier and WAL timeline, the database's OID and hub_meta's. */
static int identity_now(struct store_pg *p, char *out, size_t len)
{
	PGresult *r;
	int rc = one_row(p, "SELECT (SELECT system_identifier FROM pg_control_system())::text,"
			 " ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint::text,"
			 " (SELECT oid FROM pg_database WHERE datname = current_database())::text,"
			 " 'hub_meta'::regclass::oid::text", 0, NULL, &r);
	if (rc != 0)
		return rc < 0 ? rc : STORE_ERR;
	snprintf(out, len, "%s:%s:%s:%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
		 PQgetvalue(r, 0, 3));
	PQclear(r);
	return 0;
}

/* Splits an identity into its system identifier+timeline part and its OIDs part. */
static void identity_parts(const char *id, char sys[64], char oids[64])
{
	const char *c = strchr(id, ':');
	c = c ? strchr(c + 1, ':') : NULL;
	snprintf(sys, 64, "%.*s", c ? (int)(c - id) : 0, id);
	snprintf(oids, 64, "%s", c ? c + 1 : "");
}

/* A new hub id for a database that returned to an earlier state (or a copy of one):
 * the old one is kept as 'restored_from'. */
static int new_hub_id(struct store_pg *p, const char *old, char out[37])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ids_uuid7((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out) != 0) {
		snprintf(p->err, sizeof p->err, "cannot make a hub id: random source failed");
		return STORE_ERR;
	}
	int rc = pg_meta_set(&p->base, "hub_id", out);
	if (rc == 0 && old && *old)
		rc = pg_meta_set(&p->base, "restored_from", old);
	return rc;
}

/* Compares the database's identity with the one recorded (in the open's write
 * transaction, under the meta lock of 'pg_identity'). A database made by a restore
 * (hub_meta or the database has new OIDs: pg_restore, a dump loaded elsewhere) or one
 * that continued on a new timeline of the same cluster (point-in-time recovery, a
 * promoted standby) gets a new hub id. The same OIDs under a new system identifier is
 * pg_upgrade (it keeps OIDs, not the identifier): the id stays. None recorded (a new or
 * migrated database): recorded now. The hub id in force is written to hub_id. */
static int identity_check(struct store_pg *p, char hub_id[37])
{
	char now[256], was[256], sys_now[64], oids_now[64], sys_was[64], oids_was[64];
	int rc = store_pg_lock(p, STORE_PG_LOCK_META, "pg_identity");
	if (rc == 0)
		rc = identity_now(p, now, sizeof now);
	if (rc != 0)
		return rc;
	int had = pg_meta_get(&p->base, "pg_identity", was, sizeof was);
	if (had < 0)
		return had;
	rc = pg_meta_get(&p->base, "hub_id", hub_id, 37);
	if (rc != 0)
		return rc < 0 ? rc : store_pg_fail(p, "hub_meta has no hub_id", NULL);
	if (had == 0 && strcmp(was, now) == 0)
		return 0;
	if (had == 0) {
		identity_parts(now, sys_now, oids_now);
		identity_parts(was, sys_was, oids_was);
		int restored = strcmp(oids_now, oids_was) != 0;
		char id_now[64], id_was[64];
		/* the system identifier alone (before the timeline) */
		snprintf(id_now, sizeof id_now, "%.*s", (int)strcspn(sys_now, ":"), sys_now);
		snprintf(id_was, sizeof id_was, "%.*s", (int)strcspn(sys_was, ":"), sys_was);
		int rewound = !restored && strcmp(id_now, id_was) == 0 && strcmp(sys_now, sys_was) != 0;
		if (restored || rewound) {
			char old[37];
			snprintf(old, sizeof old, "%s", hub_id);
			rc = new_hub_id(p, old, hub_id);
			if (rc != 0)
				return rc;
		}
	}
	return pg_meta_set(&p->base, "pg_identity", now);
}

int store_pg_identity_record(struct store_pg *p)
{
	char now[256];
	int rc = store_pg_lock(p, STORE_PG_LOCK_META, "pg_identity");
	if (rc == 0)
		rc = identity_now(p, now, sizeof now);
	return rc == 0 ? pg_meta_set(&p->base, "pg_identity", now) : rc;
}

static int session_setup(struct store_pg *p)
{
	/* Quiet notices (IF NOT EXISTS), UTC, and a bound on waiting for a lock so that a
	 * stuck transaction shows as busy rather than as a hang. */
	return store_pg_exec_script(p, "SET client_min_messages = warning; SET TIME ZONE 'UTC';"
				    " SET lock_timeout = '30s'");
}

/* Connects again after the connection was lost (pg_internal.h: prepared statements are
 * made afresh). The database found must still be this hub's at the same point of its
 * history: if identity_check gives it another hub id (the server came back from a
 * backup, a lagging standby was promoted), every later call fails (STORE_CORRUPT) —
 * positions and acknowledgements this process handed out belong to the old id, and the
 * hub must be started again to serve the new one. 0 or a code. */
static int reconnect(struct store_pg *p)
{
	char was[37], id[37];
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK)
		return store_pg_fail(p, "cannot connect to the database again", NULL);
	for (size_t i = 0; i < p->nstmts; i++)
		free(p->stmts[i].sql);
	p->nstmts = 0;
	snprintf(was, sizeof was, "%s", p->hub_id);
	int rc = session_setup(p);
	if (rc == 0)
		rc = pg_begin(&p->base);
	if (rc == 0)
		rc = identity_check(p, id);
	if (rc == 0)
		rc = pg_commit(&p->base);
	else if (p->in_write)
		pg_rollback(&p->base);
	if (rc != 0)
		return rc;
	if (strcmp(id, was) != 0) {
		snprintf(p->err, sizeof p->err, "the database now holds hub %s, not %s (it was restored"
			 " or a standby took over): start lienket-hub again", id, was);
		p->gone = STORE_CORRUPT;
		return p->gone;
	}
	return 0;
}

/* 1 when the database already holds a hub (hub_meta exists), 0 not, or a code. */
static int has_hub(struct store_pg *p)
{
	PGresult *r;
	int rc = one_row(p, "SELECT to_regclass('hub_meta') IS NOT NULL", 0, NULL, &r);
	if (rc != 0)
		return rc < 0 ? rc : STORE_ERR;
	int has = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return has;
}

/* Makes (create) or upgrades the tables and checks the identity, in one transaction
 * under the DDL lock, so that hub processes starting together do it once. */
static int open_tables(struct store_pg *p, int create, char *err, size_t errlen)
{
	char k[STORE_PG_NUM], ver[16];
	int rc = pg_begin(&p->base);
	const char *lock[1] = { store_pg_i64(k, (int64_t)STORE_PG_LOCK_NS + STORE_PG_LOCK_DDL) };
	if (rc == 0)
		rc = store_pg_exec(p, "SELECT pg_advisory_xact_lock($1::int, 0)", 1, lock, NULL);
	int has = rc == 0 ? has_hub(p) : rc;
	if (has < 0) {
		snprintf(err, errlen, "cannot read the database: %s", p->err);
		goto fail;
	}
	if (create && has) {
		snprintf(err, errlen, "cannot create a hub: the database already holds one (hub_meta exists)");
		rc = STORE_ERR;
		goto fail;
	}
	if (!create && !has) {
		snprintf(err, errlen, "the database holds no hub (run `lienket-hub init --db …`)");
		rc = STORE_CORRUPT;
		goto fail;
	}
	char digest[17], had[17] = "";
	if (ddl_digest(digest) != 0) {
		snprintf(err, errlen, "the DDL of a table is too long");
		rc = STORE_ERR;
		goto fail;
	}
	if (has && pg_meta_get(&p->base, "pg_ddl", had, sizeof had) < 0) {
		snprintf(err, errlen, "cannot read the database: %s", p->err);
		rc = STORE_ERR;
		goto fail;
	}
	if (strcmp(had, digest) != 0) {
		rc = create_tables(p);
		if (rc == 0)
			rc = pg_meta_set(&p->base, "pg_ddl", digest);
	}
	if (rc == 0 && create) {
		char hub_id[37];
		snprintf(ver, sizeof ver, "%d", SCHEMA_VERSION);
		rc = new_hub_id(p, NULL, hub_id);
		if (rc == 0)
			rc = pg_meta_set(&p->base, "schema", ver);
		if (rc == 0)
			rc = pg_meta_set(&p->base, "hs", "0");
	}
	if (rc == 0)
		rc = identity_check(p, p->hub_id);
	if (rc == 0)
		rc = pg_commit(&p->base);
	if (rc != 0) {
		snprintf(err, errlen, "cannot %s the hub's tables: %s", create ? "create" : "upgrade", p->err);
		goto fail;
	}
	return 0;
fail:
	if (p->in_write)
		pg_rollback(&p->base);
	return rc ? rc : STORE_ERR;
}

int store_pg_connect(const char *conninfo, int create, struct store_pg **out, char *err,
		     size_t errlen)
{
	struct store_pg *p = calloc(1, sizeof *p);
	int rc = STORE_ERR;
	if (!p || !(p->written = calloc(schema_ntables ? schema_ntables : 1, 1))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return STORE_ERR;
	}
	p->base = pg_ops;
	fill_parts(&p->base);
	p->conn = PQconnectdb(conninfo);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		rc = store_pg_fail(p, NULL, NULL);
		snprintf(err, errlen, "cannot connect to the database: %s", p->err);
		goto fail;
	}
	rc = session_setup(p);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set up the connection: %s", p->err);
		goto fail;
	}
	rc = open_tables(p, create, err, errlen);
	if (rc != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	pg_close(&p->base);
	return rc;
}

int store_pg_open(const char *conninfo, int create, struct store **out, char *err, size_t errlen)
{
	struct store_pg *p;
	/* every slot set, or no store handed out (store.h) */
	struct store ops = pg_ops;
	fill_parts(&ops);
	char unnamed[64];
	const char *missing = missing_slot(&ops, unnamed, sizeof unnamed);
	if (missing) {
		snprintf(err, errlen, "the PostgreSQL back end of this build is incomplete (%s is"
			 " missing): use an SQLite database", missing);
		return STORE_ERR;
	}
	int rc = store_pg_connect(conninfo, create, &p, err, errlen);
	if (rc == 0)
		*out = &p->base;
	return rc;
}
