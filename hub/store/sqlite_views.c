/*
 * sqlite_views.c — the read side of the SQLite back end: the SQL of what the province
 * reads (store.h "what the province reads": the sync status, the arrivals of a day,
 * the latest year with data, and the figures' data source), so that no view names
 * SQLite. Same tables as store_sqlite.c (its DDL); every value bound, table names only
 * from schema_tables[].
 *
 * Cost: status_agents is one statement over hub_agent with two correlated subqueries
 * per agent on hub_receipt(agent_id, …) (evaluated only when the status needs them);
 * status_issues one scan per kind in primary-key order; status_flags one scan of
 * hub_flag with a primary-key lookup of each flagged row's writer; arrivals one
 * grouped scan of the day's receipts; latest_year one index seek per kind.
 * Owns: nothing between calls (statements come from the store's cache).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_sqlite.h"
#include "schema.h"
#include "store.h"
#include "store_sqlite_internal.h"

#define FLAGS_SQL_MAX 16384 /* the flags statement: one CASE arm per synced table */

static const char *col_text(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

static const char *col_text0(sqlite3_stmt *q, int i)
{
	const char *t = col_text(q, i);
	return t ? t : "";
}

/* Steps q to its end, calling row(q) for each row; the callback's non-zero value
 * stops the scan and is returned. Releases q. */
static int scan(struct store *s, sqlite3_stmt *q, int (*row)(sqlite3_stmt *q, void *arg),
		void *arg)
{
	int step, rc = 0;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		if ((rc = row(q, arg)) != 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sqlite_fail(s);
	store_sqlite_release(s, q);
	return rc;
}

/* ---- the figures' source ---- */

static int sv_figures(struct store *s, struct figures_source **out, struct figures_error *err)
{
	return figures_sqlite_new(store_sqlite_conn(s), FIGURES_SQLITE_HUB, out, err);
}

/* ---- status ---- */

struct agent_scan {
	int (*cb)(void *ctx, const struct store_status_agent *a);
	void *ctx;
};

static int agent_row(sqlite3_stmt *q, void *arg)
{
	struct agent_scan *A = arg;
	struct store_status_agent a = {
		.id = col_text0(q, 0),
		.unit_id = col_text0(q, 1),
		.acked = (uint64_t)sqlite3_column_int64(q, 2),
		.first_seen_ms = sqlite3_column_int64(q, 3),
		.last_hello_ms = sqlite3_column_int64(q, 4),
		.last_changes_ms = sqlite3_column_int64(q, 5),
		.offset_ms = sqlite3_column_int64(q, 6),
		.pending = sqlite3_column_int64(q, 7),
		.software = col_text0(q, 8),
		.retired_to = col_text0(q, 9),
		.revoked = sqlite3_column_int(q, 10) != 0,
		.receipt_ms = sqlite3_column_int64(q, 11),
		.since_hello = sqlite3_column_int64(q, 12),
	};
	return A->cb(A->ctx, &a);
}

static int sv_status_agents(struct store *s, int64_t as_of_ms,
			    int (*cb)(void *ctx, const struct store_status_agent *a), void *ctx)
{
	sqlite3_stmt *q;
	int rc = store_sqlite_prep(s,
		"SELECT a.id, a.unit_id, a.acked, a.first_seen_ms, a.last_hello_ms, a.last_changes_ms,"
		" a.offset_ms, a.pending, a.software, a.retired_to,"
		" NOT EXISTS(SELECT 1 FROM hub_token t WHERE t.agent_id = a.id AND"
		"  (t.revoked_ms = 0 OR t.revoked_ms > ?1)),"
		" CASE WHEN a.last_hello_ms > ?1 OR a.last_changes_ms > ?1 THEN"
		"  coalesce((SELECT max(r.received_ms) FROM hub_receipt r WHERE r.agent_id = a.id"
		"   AND r.received_ms <= ?1), 0) ELSE 0 END,"
		" CASE WHEN a.last_hello_ms <= ?1 AND a.pending > 0 THEN"
		"  (SELECT coalesce(sum(r.seq_to - r.seq_from + 1), 0) FROM hub_receipt r"
		"   WHERE r.agent_id = a.id AND NOT r.duplicate AND r.received_ms >= a.last_hello_ms"
		"   AND r.received_ms <= ?1) ELSE 0 END"
		" FROM hub_agent a WHERE a.first_seen_ms <= ?1", &q);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(q, 1, as_of_ms);
	struct agent_scan A = { cb, ctx };
	return scan(s, q, agent_row, &A);
}

struct issue_scan {
	enum store_issue_kind kind;
	int (*cb)(void *ctx, const struct store_issue *i);
	void *ctx;
};

static int issue_row(sqlite3_stmt *q, void *arg)
{
	struct issue_scan *I = arg;
	struct store_issue i = {
		.kind = I->kind,
		.agent_id = col_text0(q, 0),
		.seq = (uint64_t)sqlite3_column_int64(q, 1),
		.code = col_text0(q, 2),
		.at_ms = sqlite3_column_int64(q, 3),
	};
	if (I->kind == STORE_ISSUE_QUARANTINE) {
		i.table = col_text(q, 4);
		i.row_id = col_text(q, 5);
		i.field = col_text(q, 6);
		i.message = col_text(q, 7);
	}
	return I->cb(I->ctx, &i);
}

static int sv_status_issues(struct store *s, int64_t as_of_ms,
			    int (*cb)(void *ctx, const struct store_issue *i), void *ctx)
{
	static const char *const sql[] = {
		[STORE_ISSUE_QUARANTINE] = "SELECT agent_id, seq, code, at_ms, tbl, row_id, field, message"
			" FROM hub_quarantine WHERE at_ms <= ?1 ORDER BY agent_id, seq",
		[STORE_ISSUE_SKIPPED] = "SELECT agent_id, seq, reason, at_ms FROM hub_skipped"
			" WHERE at_ms <= ?1 ORDER BY agent_id, seq",
		[STORE_ISSUE_HELD] = "SELECT agent_id, seq, owner, at_ms FROM hub_held"
			" WHERE at_ms <= ?1 ORDER BY agent_id, seq",
	};
	for (int k = STORE_ISSUE_QUARANTINE; k <= STORE_ISSUE_HELD; k++) {
		sqlite3_stmt *q;
		int rc = store_sqlite_prep(s, sql[k], &q);
		if (rc != 0)
			return rc;
		sqlite3_bind_int64(q, 1, as_of_ms);
		struct issue_scan I = { (enum store_issue_kind)k, cb, ctx };
		if ((rc = scan(s, q, issue_row, &I)) != 0)
			return rc;
	}
	return 0;
}

struct flag_scan {
	int (*cb)(void *ctx, const struct store_flag_row *f);
	void *ctx;
};

static int flag_row(sqlite3_stmt *q, void *arg)
{
	struct flag_scan *F = arg;
	struct store_flag_row f = {
		.table = col_text(q, 0),
		.row_id = col_text(q, 1),
		.kind = col_text(q, 2),
		.field = col_text0(q, 3),
		.detail = col_text(q, 4),
		.suggestion = col_text(q, 5),
		.at_ms = sqlite3_column_int64(q, 6),
		.writer = col_text0(q, 7),
	};
	if (!f.table || !f.row_id || !f.kind)
		return 0;
	return F->cb(F->ctx, &f);
}

/* The flags statement: the writer of the flagged row looked up by its primary key in
 * the table the flag names (one CASE arm per synced table, names from schema_tables[]). */
static int flags_sql(char *sql, size_t cap)
{
	size_t n = 0;
	int k = snprintf(sql, cap, "SELECT f.tbl, f.row_id, f.kind, f.field, f.detail, f.suggestion,"
			 " f.at_ms, coalesce(CASE f.tbl");
	if (k < 0 || (size_t)k >= cap)
		return -1;
	n = (size_t)k;
	for (size_t t = 0; t < schema_ntables; t++) {
		const char *name = schema_tables[t].name;
		if (schema_tables[t].since > SCHEMA_VERSION)
			continue;
		k = snprintf(sql + n, cap - n, " WHEN '%s' THEN (SELECT _writer FROM \"%s\" WHERE id = f.row_id)",
			     name, name);
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
		n += (size_t)k;
	}
	k = snprintf(sql + n, cap - n, " END, '') FROM hub_flag f WHERE f.at_ms <= ?1"
		     " ORDER BY f.at_ms, f.tbl, f.row_id");
	return k < 0 || (size_t)k >= cap - n ? -1 : 0;
}

static int sv_status_flags(struct store *s, int64_t as_of_ms,
			   int (*cb)(void *ctx, const struct store_flag_row *f), void *ctx)
{
	char *sql = malloc(FLAGS_SQL_MAX);
	sqlite3_stmt *q;
	if (!sql)
		return STORE_ERR;
	int rc = flags_sql(sql, FLAGS_SQL_MAX) != 0 ? STORE_ERR : store_sqlite_prep(s, sql, &q);
	free(sql);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(q, 1, as_of_ms);
	struct flag_scan F = { cb, ctx };
	return scan(s, q, flag_row, &F);
}

/* ---- arrivals ---- */

struct arrival_scan {
	int (*cb)(void *ctx, const struct store_arrival *a);
	void *ctx;
};

static int arrival_row(sqlite3_stmt *q, void *arg)
{
	struct arrival_scan *A = arg;
	struct store_arrival a = {
		.agent_id = col_text0(q, 0),
		.unit_id = col_text0(q, 1),
		.changesets = sqlite3_column_int64(q, 2),
		.duplicates = sqlite3_column_int64(q, 3),
		.changes = sqlite3_column_int64(q, 4),
		.applied = sqlite3_column_int64(q, 5),
		.quarantined = sqlite3_column_int64(q, 6),
		.held = sqlite3_column_int64(q, 7),
		.skipped = sqlite3_column_int64(q, 8),
		.first_ms = sqlite3_column_int64(q, 9),
		.last_ms = sqlite3_column_int64(q, 10),
	};
	return A->cb(A->ctx, &a);
}

static int sv_arrivals(struct store *s, int64_t from_ms, int64_t to_ms,
		       int (*cb)(void *ctx, const struct store_arrival *a), void *ctx)
{
	sqlite3_stmt *q;
	int rc = store_sqlite_prep(s,
		"SELECT r.agent_id, coalesce(a.unit_id, ''),"
		" sum(CASE WHEN r.duplicate THEN 0 ELSE 1 END), sum(r.duplicate),"
		" sum(CASE WHEN r.duplicate THEN 0 ELSE r.seq_to - r.seq_from + 1 END),"
		" sum(r.applied), sum(r.quarantined), sum(r.held), sum(r.skipped),"
		" min(r.received_ms), max(r.received_ms)"
		" FROM hub_receipt r LEFT JOIN hub_agent a ON a.id = r.agent_id"
		" WHERE r.received_ms >= ?1 AND r.received_ms < ?2 GROUP BY r.agent_id", &q);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(q, 1, from_ms);
	sqlite3_bind_int64(q, 2, to_ms);
	struct arrival_scan A = { cb, ctx };
	return scan(s, q, arrival_row, &A);
}

/* ---- the latest year with data ---- */

/* Dated records a year's figures are made of, and the latest year of each up to ?1,
 * over the r_* views figures_sqlite_new makes (rows that exist). Each is one index
 * seek from the end (meeting_year, volunteer(started_on), support(on_date),
 * party(on_date), year_record(year)), never a scan of the history. ?1: the current
 * year as text (meetings), the next year as text (dates: a date before it is in or
 * before the current year), or as a number. */
enum year_bind { YEAR_TEXT, YEAR_NEXT_TEXT, YEAR_INT };
static const struct {
	const char *sql;
	enum year_bind bind;
} year_sql[] = {
	{ "SELECT " FIGURES_SQLITE_YEAR_OF("held_on") " FROM r_meeting WHERE "
	  FIGURES_SQLITE_YEAR_OF("held_on") " <= ?1 ORDER BY " FIGURES_SQLITE_YEAR_OF("held_on")
	  " DESC LIMIT 1", YEAR_TEXT },
	{ "SELECT substr(started_on, 1, 4) FROM r_volunteer WHERE started_on < ?1"
	  " ORDER BY started_on DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT substr(on_date, 1, 4) FROM r_support WHERE on_date < ?1"
	  " ORDER BY on_date DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT substr(on_date, 1, 4) FROM r_party WHERE on_date < ?1"
	  " ORDER BY on_date DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT year FROM r_year_record WHERE year <= ?1 ORDER BY year DESC LIMIT 1", YEAR_INT },
};

static int sv_latest_year(struct store *s, int current, int *out)
{
	char cur[8], next[8];
	int best = 0;
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	/* the r_* views: made on this connection by the figures' source when missing */
	if (figures_sqlite_new(store_sqlite_conn(s), FIGURES_SQLITE_HUB, &src, &fe) != FIGURES_OK)
		return STORE_ERR;
	figures_source_free(src);
	snprintf(cur, sizeof cur, "%04d", current % 10000);
	snprintf(next, sizeof next, "%04d", (current + 1) % 10000);
	for (size_t i = 0; i < sizeof year_sql / sizeof year_sql[0]; i++) {
		sqlite3_stmt *q = NULL;
		int rc = store_sqlite_prep(s, year_sql[i].sql, &q);
		if (rc != 0)
			return rc;
		if (year_sql[i].bind == YEAR_INT)
			sqlite3_bind_int(q, 1, current);
		else
			store_sqlite_bind_text(q, 1, year_sql[i].bind == YEAR_TEXT ? cur : next);
		int step = sqlite3_step(q);
		if (step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
			int y = atoi(col_text0(q, 0));
			if (y > best)
				best = y;
		}
		rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_sqlite_fail(s);
		store_sqlite_release(s, q);
		if (rc != 0)
			return rc;
	}
	*out = best;
	return 0;
}

void store_sqlite_views_ops(struct store *ops)
{
	ops->figures = sv_figures;
	ops->status_agents = sv_status_agents;
	ops->status_issues = sv_status_issues;
	ops->status_flags = sv_status_flags;
	ops->arrivals = sv_arrivals;
	ops->latest_year = sv_latest_year;
}
