/*
 * figures_sqlite.c — the figures source on an SQLite database (figures_sqlite.h).
 *
 * Each slot is one SQL text over the r_* views, bound with the slot's arguments and
 * stepped row by row into the caller's callback. The texts are those the hub's report
 * has always run (its index tests look for them): "held in Y" is said
 * MEETING_IN_YEAR — FIGURES_SQLITE_YEAR_OF(held_on) = Y as text, the leading expression
 * of the hub's partial index meeting_year, so a year's meetings are one contiguous run
 * of index entries in (kind, unit, host) order and the GROUP BY streams without a
 * sort — and the date range, which says the same for a validated date and lets a
 * database without meeting_year use a (kind, held_on) range.
 *
 * Invariant: a source holds at most one kept statement (branch_took_part's, prepared
 * once per read and finalized by read_end and free) and a flag saying whether it
 * began the transaction it is in. Owns: those; borrows the connection.
 */
#include "figures_sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

struct fsq {
	struct figures_source base; /* first: a struct figures_source * is a struct fsq * */
	sqlite3 *db;
	enum figures_sqlite_rows rows;
	int began;             /* read_begin began the transaction (read_end ends it) */
	sqlite3_stmt *probe;   /* branch_took_part's statement, kept during a read */
};

static struct fsq *fsq_of(struct figures_source *src)
{
	return (struct fsq *)src;
}

/* ---- errors ---- */

/* SQLite's primary result code as the interface's reason. */
static enum figures_code code_of(sqlite3 *db)
{
	const char *msg = sqlite3_errmsg(db);
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return FIGURES_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return FIGURES_CORRUPT;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_FULL: return FIGURES_IO;
	case SQLITE_NOMEM: return FIGURES_NO_MEMORY;
	case SQLITE_ERROR:
		if (strstr(msg, "no such table") || strstr(msg, "no such column"))
			return FIGURES_MISSING;
		return FIGURES_STORAGE;
	default: return FIGURES_STORAGE;
	}
}

static int fail(struct figures_error *err, enum figures_code code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int fail_db(struct fsq *q, struct figures_error *err)
{
	return fail(err, code_of(q->db), "%s", sqlite3_errmsg(q->db));
}

/* ---- the views ---- */

/* CREATE TEMP VIEW r_<table> for every synced table: the declared columns of the rows
 * that exist. Table and column names come from schema.c, never from outside. */
static int create_views(sqlite3 *db, enum figures_sqlite_rows rows, struct figures_error *err)
{
	char sql[4096];
	for (size_t i = 0; i < schema_ntables; i++) {
		const struct schema_table *tb = &schema_tables[i];
		size_t len = (size_t)snprintf(sql, sizeof sql,
					      "CREATE TEMP VIEW IF NOT EXISTS \"r_%s\" AS SELECT",
					      tb->name);
		for (size_t c = 0; c < tb->ncolumns && len < sizeof sql; c++)
			len += (size_t)snprintf(sql + len, sizeof sql - len, "%s \"%s\"",
						c ? "," : "", tb->columns[c].name);
		if (len < sizeof sql)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " FROM main.\"%s\"%s%s",
						tb->name, rows == FIGURES_SQLITE_HUB ? " WHERE " : "",
						rows == FIGURES_SQLITE_HUB ? FIGURES_SQLITE_ROW_EXISTS : "");
		if (len >= sizeof sql)
			return fail(err, FIGURES_STORAGE, "view of table '%s' too long", tb->name);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return fail(err, code_of(db), "cannot create view of table '%s': %s",
				    tb->name, sqlite3_errmsg(db));
	}
	return FIGURES_OK;
}

/* ---- running a query ---- */

/* Called per result row; non-zero stops the read (FIGURES_STOPPED). */
typedef int (*step_fn)(sqlite3_stmt *st, void *ctx);

/* Prepares sql, binds the arguments described by types to ?1, ?2 … ('t' const char *,
 * 'i' int64_t, '-' skips a number the SQL does not use), and calls fn per row. */
static int run(struct fsq *q, struct figures_error *err, step_fn fn, void *ctx, const char *sql,
	       const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, s;
	va_start(ap, types);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = fail_db(q, err);
		goto done;
	}
	for (int i = 0; types[i]; i++) {
		int b = SQLITE_OK;
		if (types[i] == 'i')
			b = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else if (types[i] == 't')
			b = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		if (b != SQLITE_OK) {
			rc = fail_db(q, err);
			goto done;
		}
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(st, ctx) != 0) {
			rc = fail(err, FIGURES_STOPPED, "stopped by the caller");
			goto done;
		}
	}
	if (s != SQLITE_DONE) {
		rc = fail_db(q, err);
		goto done;
	}
	rc = FIGURES_OK;
done:
	va_end(ap);
	sqlite3_finalize(st);
	return rc;
}

static const char *text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int64_t i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

/* The year as text, as FIGURES_SQLITE_YEAR_OF gives it for a date in that year. */
static void yyyy_of(int year, char out[5])
{
	snprintf(out, 5, "%04u", (unsigned)year % 10000u);
}

/* The row adapters (<name>_ctx, <name>_step) over text() and i64() above. */
#define FIGURES_ROW_HANDLE sqlite3_stmt *
#include "figures_adapters.h"

/* ---- the SQL ---- */

static const char *const K_GIAO_BAN = "giao_ban", *const K_GIAO_NV = "giao_nhiem_vu",
			 *const K_BRANCH = "branch", *const K_JOINT = "joint",
			 *const K_SECRETARY = "branch_secretary";

#define MEETING_IN_YEAR(m, year, from, to)                                                \
	FIGURES_SQLITE_YEAR_OF(m "held_on") " = " year " AND " m "held_on BETWEEN " from  \
					    " AND " to

/* A volunteer activity overlapping [?2, ?3], started on or after ?4. */
#define ACTIVITY_IN_Y(v)                                                                  \
	v "started_on BETWEEN ?4 AND ?3 AND COALESCE(" v "ended_on, " v "started_on) >= ?2"

/* The branch a person was secretary of on a date (the rule of figures_source.h), over
 * ?3 = the role. The unary + keeps the planner on the (person_id, role) index: without
 * statistics it would otherwise range-scan (role, term_from) over every secretary for
 * every row. */
#define SECRETARY_BRANCH(person, date)                                                    \
	"(SELECT min(r.of_unit) FROM r_role r WHERE r.person_id = " person                \
	" AND r.role = ?3 AND +r.term_from <= " date                                      \
	" AND (r.term_until IS NULL OR r.term_until >= " date "))"

static const char PROBE_SQL[] =
	"SELECT 1 FROM r_meeting_branch mb JOIN r_meeting m ON m.id = mb.meeting_id"
	" WHERE mb.branch_id = ?1 AND m.held_on BETWEEN ?2 AND ?3 LIMIT 1";

/* ---- slots ---- */

static int s_read_begin(struct figures_source *src, struct figures_error *err)
{
	struct fsq *q = fsq_of(src);
	if (q->began || !sqlite3_get_autocommit(q->db))
		return FIGURES_OK;
	if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(q, err);
	q->began = 1;
	return FIGURES_OK;
}

static void s_read_end(struct figures_source *src)
{
	struct fsq *q = fsq_of(src);
	sqlite3_finalize(q->probe);
	q->probe = NULL;
	if (!q->began)
		return;
	q->began = 0;
	/* a read changes nothing: should COMMIT fail, ROLLBACK ends it all the same */
	if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

static int s_units(struct figures_source *src,
		   int (*row)(void *arg, const struct figures_unit_row *r), void *arg,
		   struct figures_error *err)
{
	struct unit_ctx c = { row, arg };
	return run(fsq_of(src), err, unit_step, &c, "SELECT id, opened_on FROM r_unit", "");
}

static int s_unit_names(struct figures_source *src,
			int (*row)(void *arg, const struct figures_name_row *r), void *arg,
			struct figures_error *err)
{
	struct name_ctx c = { row, arg };
	return run(fsq_of(src), err, name_step, &c,
		   "SELECT id, of_unit, name, code, kind, valid_from, valid_to FROM r_unit_name",
		   "");
}

static int s_unit_links(struct figures_source *src,
			int (*row)(void *arg, const struct figures_link_row *r), void *arg,
			struct figures_error *err)
{
	struct link_ctx c = { row, arg };
	return run(fsq_of(src), err, link_step, &c,
		   "SELECT id, of_unit, parent_id, valid_from, valid_to FROM r_unit_parent", "");
}

static int s_unit_events(struct figures_source *src,
			 int (*row)(void *arg, const struct figures_event_row *r), void *arg,
			 struct figures_error *err)
{
	struct event_ctx c = { row, arg };
	return run(fsq_of(src), err, event_step, &c,
		   "SELECT id, kind, of_unit, other_unit, effective_on FROM r_unit_event", "");
}

static int s_meeting_groups(struct figures_source *src, int year, const char *from,
			    const char *to,
			    int (*row)(void *arg, const struct figures_meeting_group *r), void *arg,
			    struct figures_error *err)
{
	struct mgroup_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	return run(fsq_of(src), err, mgroup_step, &c,
		   "SELECT kind, unit_id, host_branch_id, count(*),"
		   " sum(commune_secretary_attended = 1) FROM r_meeting"
		   " WHERE " MEETING_IN_YEAR("", "?1", "?2", "?3") " AND kind IN (?4, ?5, ?6, ?7)"
		   " GROUP BY kind, unit_id, host_branch_id",
		   "ttttttt", yyyy, from, to, K_GIAO_BAN, K_GIAO_NV, K_BRANCH, K_JOINT);
}

static int s_meeting_tasks(struct figures_source *src, int year, const char *from,
			   const char *to,
			   int (*row)(void *arg, const struct figures_unit_count *r), void *arg,
			   struct figures_error *err)
{
	struct count_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	return run(fsq_of(src), err, count_step, &c,
		   "SELECT m.unit_id, count(*) FROM r_meeting m JOIN r_task t"
		   " ON t.meeting_id = m.id"
		   " WHERE " MEETING_IN_YEAR("m.", "?2", "?3", "?4") " AND m.kind = ?1"
		   " GROUP BY m.unit_id",
		   "tttt", K_GIAO_NV, yyyy, from, to);
}

static int s_meeting_participants(struct figures_source *src, int year, const char *from,
				  const char *to,
				  int (*row)(void *arg, const struct figures_unit_id *r),
				  void *arg, struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	return run(fsq_of(src), err, id_step, &c,
		   "SELECT DISTINCT mb.branch_id FROM r_meeting m JOIN r_meeting_branch mb"
		   " ON mb.meeting_id = m.id WHERE " MEETING_IN_YEAR("m.", "?1", "?2", "?3")
		   " AND m.kind IN (?5, ?6, ?7, ?8)",
		   "ttt-tttt", yyyy, from, to, K_GIAO_BAN, K_GIAO_NV, K_BRANCH, K_JOINT);
}

static int s_branch_took_part(struct figures_source *src, const char *branch, const char *from,
			      const char *to, int *found, struct figures_error *err)
{
	struct fsq *q = fsq_of(src);
	int s;
	if (!q->probe && sqlite3_prepare_v2(q->db, PROBE_SQL, -1, &q->probe, NULL) != SQLITE_OK)
		return fail_db(q, err);
	if (sqlite3_bind_text(q->probe, 1, branch, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(q->probe, 2, from, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(q->probe, 3, to, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return fail_db(q, err);
	s = sqlite3_step(q->probe);
	if (s != SQLITE_ROW && s != SQLITE_DONE) {
		int rc = fail_db(q, err);
		sqlite3_reset(q->probe);
		return rc;
	}
	sqlite3_reset(q->probe);
	*found = s == SQLITE_ROW;
	return FIGURES_OK;
}

static int s_volunteer_units(struct figures_source *src, const char *started_from,
			     const char *from, const char *to,
			     int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
			     struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	return run(fsq_of(src), err, id_step, &c,
		   "SELECT unit_id FROM r_volunteer v WHERE " ACTIVITY_IN_Y("v.")
		   " UNION SELECT vb.branch_id FROM r_volunteer v JOIN r_volunteer_branch vb"
		   " ON vb.volunteer_id = v.id WHERE " ACTIVITY_IN_Y("v."),
		   "-ttt", from, to, started_from);
}

static int s_volunteer_groups(struct figures_source *src, const char *from, const char *to,
			      int (*row)(void *arg, const struct figures_volunteer_group *r),
			      void *arg, struct figures_error *err)
{
	struct vgroup_ctx c = { row, arg };
	return run(fsq_of(src), err, vgroup_step, &c,
		   "SELECT unit_id, kind, count(*), sum(COALESCE(teams, 0)),"
		   " sum(COALESCE(participations, 0)) FROM r_volunteer"
		   " WHERE started_on BETWEEN ?1 AND ?2 GROUP BY unit_id, kind",
		   "tt", from, to);
}

static int s_pilots(struct figures_source *src, const char *date,
		    int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
		    struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	return run(fsq_of(src), err, id_step, &c,
		   "SELECT DISTINCT branch_id FROM r_pilot"
		   " WHERE valid_from <= ?1 AND (valid_until IS NULL OR valid_until >= ?1)",
		   "t", date);
}

static int s_gathering(struct figures_source *src, int year,
		       int (*row)(void *arg, const struct figures_gathering_row *r), void *arg,
		       struct figures_error *err)
{
	struct gathering_ctx c = { row, arg };
	return run(fsq_of(src), err, gathering_step, &c,
		   "SELECT unit_id, sum(youth_gathered), sum(youth_in_area) FROM r_year_record"
		   " WHERE year = ?1 AND youth_gathered IS NOT NULL"
		   " AND youth_in_area IS NOT NULL GROUP BY unit_id",
		   "i", (int64_t)year);
}

static int s_ratings(struct figures_source *src, int year,
		     int (*row)(void *arg, const struct figures_rating_row *r), void *arg,
		     struct figures_error *err)
{
	struct rating_ctx c = { row, arg };
	return run(fsq_of(src), err, rating_step, &c,
		   "SELECT unit_id, rating, count(*) FROM r_year_record"
		   " WHERE year = ?1 AND rating IS NOT NULL GROUP BY unit_id, rating",
		   "i", (int64_t)year);
}

static int s_party_steps(struct figures_source *src, const char *from, const char *to,
			 int (*row)(void *arg, const struct figures_party_row *r), void *arg,
			 struct figures_error *err)
{
	struct party_ctx c = { row, arg };
	return run(fsq_of(src), err, party_step, &c,
		   "SELECT b, person_id, step FROM (SELECT "
		   SECRETARY_BRANCH("p.person_id", "p.on_date")
		   " AS b, p.person_id, p.step FROM r_party p"
		   " WHERE p.on_date BETWEEN ?1 AND ?2) WHERE b IS NOT NULL",
		   "ttt", from, to, K_SECRETARY);
}

static int s_secretaries(struct figures_source *src, const char *date,
			 int (*row)(void *arg, const struct figures_secretary_row *r), void *arg,
			 struct figures_error *err)
{
	struct secretary_ctx c = { row, arg };
	return run(fsq_of(src), err, secretary_step, &c,
		   "SELECT r.of_unit, r.person_id, EXISTS (SELECT 1 FROM r_insurance_card k"
		   " WHERE k.person_id = r.person_id AND k.valid_from <= ?1"
		   " AND (k.valid_until IS NULL OR k.valid_until >= ?1))"
		   " FROM r_role r WHERE r.role = ?2 AND r.term_from <= ?1"
		   " AND (r.term_until IS NULL OR r.term_until >= ?1)",
		   "tt", date, K_SECRETARY);
}

static int s_support(struct figures_source *src, const char *from, const char *to,
		     int (*row)(void *arg, const struct figures_support_row *r), void *arg,
		     struct figures_error *err)
{
	struct support_ctx c = { row, arg };
	return run(fsq_of(src), err, support_step, &c,
		   "SELECT b, person_id, kind, sum(COALESCE(amount_vnd, 0)) FROM (SELECT "
		   SECRETARY_BRANCH("s.person_id", "s.on_date")
		   " AS b, s.person_id, s.kind, s.amount_vnd FROM r_support s"
		   " WHERE s.on_date BETWEEN ?1 AND ?2) WHERE b IS NOT NULL"
		   " GROUP BY b, person_id, kind",
		   "ttt", from, to, K_SECRETARY);
}

static void s_free(struct figures_source *src)
{
	struct fsq *q = fsq_of(src);
	if (!q)
		return;
	s_read_end(src);
	free(q);
}

int figures_sqlite_new(sqlite3 *db, enum figures_sqlite_rows rows, struct figures_source **out,
		       struct figures_error *err)
{
	struct fsq *q;
	int rc;
	if (!db)
		return fail(err, FIGURES_STORAGE, "no database");
	if ((rc = create_views(db, rows, err)) != FIGURES_OK)
		return rc;
	if (!(q = calloc(1, sizeof *q)))
		return fail(err, FIGURES_NO_MEMORY, "out of memory");
	q->db = db;
	q->rows = rows;
	q->base = (struct figures_source){
		.version = FIGURES_SOURCE_VERSION,
		.read_begin = s_read_begin,
		.read_end = s_read_end,
		.units = s_units,
		.unit_names = s_unit_names,
		.unit_links = s_unit_links,
		.unit_events = s_unit_events,
		.meeting_groups = s_meeting_groups,
		.meeting_tasks = s_meeting_tasks,
		.meeting_participants = s_meeting_participants,
		.branch_took_part = s_branch_took_part,
		.volunteer_units = s_volunteer_units,
		.volunteer_groups = s_volunteer_groups,
		.pilots = s_pilots,
		.gathering = s_gathering,
		.ratings = s_ratings,
		.party_steps = s_party_steps,
		.secretaries = s_secretaries,
		.support = s_support,
		.free = s_free,
	};
	*out = &q->base;
	return FIGURES_OK;
}

int figures_sqlite_load_tree(sqlite3 *db, enum figures_sqlite_rows rows, struct unittree **out,
			     char *err, size_t errlen)
{
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	int rc = -1;
	if (figures_sqlite_new(db, rows, &src, &fe) != FIGURES_OK || !src ||
	    src->read_begin(src, &fe) != FIGURES_OK) {
		snprintf(err, errlen, "cannot read units: %s", fe.message);
		goto done;
	}
	rc = unittree_load(src, out, err, errlen);
done:
	figures_source_free(src);
	return rc;
}
