/*
 * store_pg_views.c — the read side of the PostgreSQL back end: the statements behind
 * store.h "what the province reads" (the sync status, a day's arrivals, the latest year
 * with data, the figures' source), the PostgreSQL twins of sqlite_views.c. Same tables
 * and columns (store_pg.c's DDL: every text column COLLATE "C", so ORDER BY and < on
 * ids and dates are byte order, as on SQLite; integers and booleans bigint).
 *
 * Cost: as on SQLite — a few statements whatever the number of offices (each answered
 * whole, one round trip): status_agents one over hub_agent with correlated subqueries on
 * hub_receipt(agent_id, …) taken only when the status needs them; status_issues one per
 * kind; status_flags one over hub_flag with a primary-key lookup per flagged row;
 * arrivals one grouped range of the day's receipts; latest_year one backward index
 * scan per kind (meeting_year, volunteer_started, support_on, party_on,
 * year_record_year), the rows that exist only (FIGURES_PG_ROW_EXISTS).
 * Owns: nothing between calls (statements are the connection's, store_pg_exec).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_pg.h"
#include "pg_internal.h"
#include "schema.h"
#include "store.h"

#define FLAGS_SQL_MAX 16384 /* the flags statement: one CASE arm per synced table */

static struct store_pg *P(struct store *s) { return store_pg_of(s); }

/* A text column, "" for NULL. */
static const char *str0(const PGresult *r, int row, int col)
{
	const char *t = store_pg_str(r, row, col);
	return t ? t : "";
}

/* ---- the figures' source ---- */

static int pv_figures(struct store *s, struct figures_source **out, struct figures_error *err)
{
	return figures_pg_new(store_pg_conn(s), out, err);
}

/* ---- status ---- */

static int pv_status_agents(struct store *s, int64_t as_of_ms,
			    int (*cb)(void *ctx, const struct store_status_agent *a), void *ctx)
{
	char n[STORE_PG_NUM];
	const char *params[] = { store_pg_i64(n, as_of_ms) };
	PGresult *r = NULL;
	int rc = store_pg_exec(P(s),
		"SELECT a.id, a.unit_id, a.acked, a.first_seen_ms, a.last_hello_ms, a.last_changes_ms,"
		" a.offset_ms, a.pending, a.software, a.retired_to,"
		" CASE WHEN EXISTS(SELECT 1 FROM hub_token t WHERE t.agent_id = a.id AND"
		"  (t.revoked_ms = 0 OR t.revoked_ms > $1::bigint)) THEN 0 ELSE 1 END,"
		" CASE WHEN a.last_hello_ms > $1::bigint OR a.last_changes_ms > $1::bigint THEN"
		"  coalesce((SELECT max(r.received_ms) FROM hub_receipt r WHERE r.agent_id = a.id"
		"   AND r.received_ms <= $1::bigint), 0) ELSE 0 END,"
		" CASE WHEN a.last_hello_ms <= $1::bigint AND a.pending > 0 THEN"
		"  (SELECT coalesce(sum(r.seq_to - r.seq_from + 1), 0) FROM hub_receipt r"
		"   WHERE r.agent_id = a.id AND r.duplicate = 0 AND r.received_ms >= a.last_hello_ms"
		"   AND r.received_ms <= $1::bigint) ELSE 0 END"
		" FROM hub_agent a WHERE a.first_seen_ms <= $1::bigint", 1, params, &r);
	if (rc != 0)
		return rc;
	for (int k = 0; k < PQntuples(r) && rc == 0; k++) {
		struct store_status_agent a = {
			.id = str0(r, k, 0),
			.unit_id = str0(r, k, 1),
			.acked = (uint64_t)store_pg_int(r, k, 2),
			.first_seen_ms = store_pg_int(r, k, 3),
			.last_hello_ms = store_pg_int(r, k, 4),
			.last_changes_ms = store_pg_int(r, k, 5),
			.offset_ms = store_pg_int(r, k, 6),
			.pending = store_pg_int(r, k, 7),
			.software = str0(r, k, 8),
			.retired_to = str0(r, k, 9),
			.revoked = store_pg_int(r, k, 10) != 0,
			.receipt_ms = store_pg_int(r, k, 11),
			.since_hello = store_pg_int(r, k, 12),
		};
		rc = cb(ctx, &a);
	}
	PQclear(r);
	return rc;
}

static int pv_status_issues(struct store *s, int64_t as_of_ms,
			    int (*cb)(void *ctx, const struct store_issue *i), void *ctx)
{
	static const char *const sql[] = {
		[STORE_ISSUE_QUARANTINE] = "SELECT agent_id, seq, code, at_ms, tbl, row_id, field, message"
			" FROM hub_quarantine WHERE at_ms <= $1::bigint"
			" ORDER BY agent_id COLLATE \"C\", seq",
		[STORE_ISSUE_SKIPPED] = "SELECT agent_id, seq, reason, at_ms FROM hub_skipped"
			" WHERE at_ms <= $1::bigint ORDER BY agent_id COLLATE \"C\", seq",
		[STORE_ISSUE_HELD] = "SELECT agent_id, seq, owner, at_ms FROM hub_held"
			" WHERE at_ms <= $1::bigint ORDER BY agent_id COLLATE \"C\", seq",
	};
	char n[STORE_PG_NUM];
	const char *params[] = { store_pg_i64(n, as_of_ms) };
	for (int kind = STORE_ISSUE_QUARANTINE; kind <= STORE_ISSUE_HELD; kind++) {
		PGresult *r = NULL;
		int rc = store_pg_exec(P(s), sql[kind], 1, params, &r);
		if (rc != 0)
			return rc;
		for (int k = 0; k < PQntuples(r) && rc == 0; k++) {
			struct store_issue i = {
				.kind = (enum store_issue_kind)kind,
				.agent_id = str0(r, k, 0),
				.seq = (uint64_t)store_pg_int(r, k, 1),
				.code = str0(r, k, 2),
				.at_ms = store_pg_int(r, k, 3),
			};
			if (kind == STORE_ISSUE_QUARANTINE) {
				i.table = store_pg_str(r, k, 4);
				i.row_id = store_pg_str(r, k, 5);
				i.field = store_pg_str(r, k, 6);
				i.message = store_pg_str(r, k, 7);
			}
			rc = cb(ctx, &i);
		}
		PQclear(r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The flags statement: the writer of the flagged row looked up by its primary key in
 * the table the flag names (one CASE arm per synced table, names from schema_tables[]). */
static int flags_sql(char *sql, size_t cap)
{
	size_t n;
	int k = snprintf(sql, cap, "SELECT f.tbl, f.row_id, f.kind, f.field, f.detail, f.suggestion,"
			 " f.at_ms, coalesce(CASE f.tbl");
	if (k < 0 || (size_t)k >= cap)
		return -1;
	n = (size_t)k;
	for (size_t t = 0; t < schema_ntables; t++) {
		const char *name = schema_tables[t].name;
		if (schema_tables[t].since > SCHEMA_VERSION)
			continue;
		k = snprintf(sql + n, cap - n, " WHEN '%s' THEN (SELECT w._writer FROM \"%s\" w"
			     " WHERE w.id = f.row_id)", name, name);
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
		n += (size_t)k;
	}
	k = snprintf(sql + n, cap - n, " END, '') FROM hub_flag f WHERE f.at_ms <= $1::bigint"
		     " ORDER BY f.at_ms, f.tbl COLLATE \"C\", f.row_id COLLATE \"C\"");
	return k < 0 || (size_t)k >= cap - n ? -1 : 0;
}

static int pv_status_flags(struct store *s, int64_t as_of_ms,
			   int (*cb)(void *ctx, const struct store_flag_row *f), void *ctx)
{
	char *sql = malloc(FLAGS_SQL_MAX);
	char n[STORE_PG_NUM];
	const char *params[] = { store_pg_i64(n, as_of_ms) };
	PGresult *r = NULL;
	if (!sql)
		return STORE_ERR;
	int rc = flags_sql(sql, FLAGS_SQL_MAX) != 0 ? STORE_ERR
		 : store_pg_exec(P(s), sql, 1, params, &r);
	free(sql);
	if (rc != 0)
		return rc;
	for (int k = 0; k < PQntuples(r) && rc == 0; k++) {
		struct store_flag_row f = {
			.table = store_pg_str(r, k, 0),
			.row_id = store_pg_str(r, k, 1),
			.kind = store_pg_str(r, k, 2),
			.field = str0(r, k, 3),
			.detail = store_pg_str(r, k, 4),
			.suggestion = store_pg_str(r, k, 5),
			.at_ms = store_pg_int(r, k, 6),
			.writer = str0(r, k, 7),
		};
		if (f.table && f.row_id && f.kind)
			rc = cb(ctx, &f);
	}
	PQclear(r);
	return rc;
}

/* ---- arrivals ---- */

static int pv_arrivals(struct store *s, int64_t from_ms, int64_t to_ms,
		       int (*cb)(void *ctx, const struct store_arrival *a), void *ctx)
{
	char n1[STORE_PG_NUM], n2[STORE_PG_NUM];
	const char *params[] = { store_pg_i64(n1, from_ms), store_pg_i64(n2, to_ms) };
	PGresult *r = NULL;
	int rc = store_pg_exec(P(s),
		"SELECT r.agent_id, coalesce(min(a.unit_id), ''),"
		" sum(CASE WHEN r.duplicate <> 0 THEN 0 ELSE 1 END),"
		" sum(CASE WHEN r.duplicate <> 0 THEN 1 ELSE 0 END),"
		" sum(CASE WHEN r.duplicate <> 0 THEN 0 ELSE r.seq_to - r.seq_from + 1 END),"
		" sum(r.applied), sum(r.quarantined), sum(r.held), sum(r.skipped),"
		" min(r.received_ms), max(r.received_ms)"
		" FROM hub_receipt r LEFT JOIN hub_agent a ON a.id = r.agent_id"
		" WHERE r.received_ms >= $1::bigint AND r.received_ms < $2::bigint GROUP BY r.agent_id",
		2, params, &r);
	if (rc != 0)
		return rc;
	for (int k = 0; k < PQntuples(r) && rc == 0; k++) {
		struct store_arrival a = {
			.agent_id = str0(r, k, 0),
			.unit_id = str0(r, k, 1),
			.changesets = store_pg_int(r, k, 2),
			.duplicates = store_pg_int(r, k, 3),
			.changes = store_pg_int(r, k, 4),
			.applied = store_pg_int(r, k, 5),
			.quarantined = store_pg_int(r, k, 6),
			.held = store_pg_int(r, k, 7),
			.skipped = store_pg_int(r, k, 8),
			.first_ms = store_pg_int(r, k, 9),
			.last_ms = store_pg_int(r, k, 10),
		};
		rc = cb(ctx, &a);
	}
	PQclear(r);
	return rc;
}

/* ---- the latest year with data ---- */

/* As sqlite_views.c: the latest year up to $1 of each kind of dated record, over the
 * rows that exist. $1: the current year as text (meetings, by the meeting_year
 * expression), the next year as text (dates: a date before it is in or before the
 * current year, compared in byte order), or as a number (year_record.year). */
enum year_bind { YEAR_TEXT, YEAR_NEXT_TEXT, YEAR_INT };
static const struct {
	const char *sql;
	enum year_bind bind;
} year_sql[] = {
	{ "SELECT substr(held_on, 1, 4) FROM meeting WHERE " FIGURES_PG_ROW_EXISTS
	  " AND substr(held_on, 1, 4) <= $1 ORDER BY substr(held_on, 1, 4) DESC LIMIT 1", YEAR_TEXT },
	{ "SELECT substr(started_on, 1, 4) FROM volunteer WHERE " FIGURES_PG_ROW_EXISTS
	  " AND started_on < $1 ORDER BY started_on DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT substr(on_date, 1, 4) FROM support WHERE " FIGURES_PG_ROW_EXISTS
	  " AND on_date < $1 ORDER BY on_date DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT substr(on_date, 1, 4) FROM party WHERE " FIGURES_PG_ROW_EXISTS
	  " AND on_date < $1 ORDER BY on_date DESC LIMIT 1", YEAR_NEXT_TEXT },
	{ "SELECT year::text FROM year_record WHERE " FIGURES_PG_ROW_EXISTS
	  " AND year <= $1::bigint ORDER BY year DESC LIMIT 1", YEAR_INT },
};

static int pv_latest_year(struct store *s, int current, int *out)
{
	char cur[8], next[8];
	int best = 0;
	snprintf(cur, sizeof cur, "%04d", current % 10000);
	snprintf(next, sizeof next, "%04d", (current + 1) % 10000);
	for (size_t i = 0; i < sizeof year_sql / sizeof year_sql[0]; i++) {
		const char *params[] = { year_sql[i].bind == YEAR_NEXT_TEXT ? next : cur };
		PGresult *r = NULL;
		int rc = store_pg_exec(P(s), year_sql[i].sql, 1, params, &r);
		if (rc != 0)
			return rc;
		if (PQntuples(r) == 1 && store_pg_str(r, 0, 0)) {
			int y = atoi(store_pg_str(r, 0, 0));
			if (y > best)
				best = y;
		}
		PQclear(r);
	}
	*out = best;
	return 0;
}

void store_pg_views_ops(struct store *ops)
{
	ops->figures = pv_figures;
	ops->status_agents = pv_status_agents;
	ops->status_issues = pv_status_issues;
	ops->status_flags = pv_status_flags;
	ops->arrivals = pv_arrivals;
	ops->latest_year = pv_latest_year;
}
