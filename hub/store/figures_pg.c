/*
 * figures_pg.c — the figures source on the hub's PostgreSQL database (figures_pg.h).
 *
 * Each slot is one SQL text, the counterpart of figures_sqlite.c's text for the same
 * slot: R(t) stands where the SQLite text reads the view r_<t> (a subquery of the rows
 * that exist, flattened by the planner), parameters are numbered $1.. in the order the
 * slot binds them (PostgreSQL refuses a parameter the text does not use), boolean
 * results are made integers (count … FILTER, CASE), and text is ordered COLLATE "C".
 * Parameters go as text; PostgreSQL gives each the type of what it is compared with.
 *
 * Invariant: a source holds one flag, whether read_begin began the transaction it is
 * in (then read_end ends it). Owns: the source; borrows the connection.
 */
#include "figures_pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fpg {
	struct figures_source base; /* first: a struct figures_source * is a struct fpg * */
	PGconn *conn;
	int began; /* read_begin began the transaction (read_end ends it) */
};

static struct fpg *fpg_of(struct figures_source *src)
{
	return (struct fpg *)src;
}

/* ---- errors ---- */

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

/* The SQLSTATE of a failed result as the interface's reason. */
static enum figures_code code_of_state(const char *state)
{
	if (!state || strlen(state) != 5)
		return FIGURES_STORAGE;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
	    strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		if (strcmp(state, "53100") == 0)
			return FIGURES_IO; /* disk full */
		if (strcmp(state, "53200") == 0)
			return FIGURES_NO_MEMORY;
		return FIGURES_BUSY; /* serialization, deadlock, lock, cancel, too many
				      * connections, shutting down: another try may do */
	}
	if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 ||
	    strcmp(state, "3F000") == 0)
		return FIGURES_MISSING;
	if (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0)
		return FIGURES_CORRUPT;
	if (strncmp(state, "58", 2) == 0 || strncmp(state, "08", 2) == 0)
		return FIGURES_IO; /* system error (disk), connection lost */
	return FIGURES_STORAGE;
}

/* A message without its trailing newline (libpq ends them with one). */
static int fail_msg(struct figures_error *err, enum figures_code code, const char *msg)
{
	size_t n = msg ? strcspn(msg, "\n") : 0;
	return fail(err, code, "%.*s", (int)n, msg ? msg : "");
}

static int fail_res(const PGresult *res, struct figures_error *err)
{
	return fail_msg(err, code_of_state(PQresultErrorField(res, PG_DIAG_SQLSTATE)),
			PQresultErrorMessage(res));
}

static int fail_conn(PGconn *conn, struct figures_error *err)
{
	return fail_msg(err, PQstatus(conn) == CONNECTION_BAD ? FIGURES_IO : FIGURES_STORAGE,
			PQerrorMessage(conn));
}

/* ---- running a query ---- */

/* Called per result row; non-zero stops the read (FIGURES_STOPPED). */
typedef int (*step_fn)(const PGresult *res, void *ctx);

/* Sends sql with the n text parameters vals ($1..$n) and calls fn per row as the rows
 * arrive (single-row mode). After a stop or a failure the rest of the answer is read
 * and dropped, so that the connection is ready for the next query. */
static int run(struct fpg *q, struct figures_error *err, step_fn fn, void *ctx, const char *sql,
	       int n, const char *const *vals)
{
	PGresult *res;
	int rc = FIGURES_OK;
	if (!PQsendQueryParams(q->conn, sql, n, NULL, vals, NULL, NULL, 0))
		return fail_conn(q->conn, err);
	if (!PQsetSingleRowMode(q->conn))
		rc = fail(err, FIGURES_STORAGE, "cannot read rows one by one");
	while ((res = PQgetResult(q->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE) {
			if (rc == FIGURES_OK && fn(res, ctx) != 0)
				rc = fail(err, FIGURES_STOPPED, "stopped by the caller");
		} else if (st != PGRES_TUPLES_OK && rc == FIGURES_OK) {
			rc = fail_res(res, err);
		}
		PQclear(res);
	}
	if (rc == FIGURES_OK && PQstatus(q->conn) == CONNECTION_BAD)
		rc = fail_conn(q->conn, err);
	return rc;
}

static const char *text(const PGresult *st, int i)
{
	return PQgetisnull(st, 0, i) ? NULL : PQgetvalue(st, 0, i);
}

/* An integer column (a sum is numeric in PostgreSQL: its text is the integer); NULL
 * is 0, as sqlite3_column_int64 gives. */
static int64_t i64(const PGresult *st, int i)
{
	return PQgetisnull(st, 0, i) ? 0 : strtoll(PQgetvalue(st, 0, i), NULL, 10);
}

/* The year as text, as substr(date, 1, 4) gives it for a date in that year. */
static void yyyy_of(int year, char out[5])
{
	snprintf(out, 5, "%04u", (unsigned)year % 10000u);
}

/* The row adapters (<name>_ctx, <name>_step) over text() and i64() above. */
#define FIGURES_ROW_HANDLE const PGresult *
#include "figures_adapters.h"

/* ---- the SQL ---- */

static const char *const K_GIAO_BAN = "giao_ban", *const K_GIAO_NV = "giao_nhiem_vu",
			 *const K_BRANCH = "branch", *const K_JOINT = "joint",
			 *const K_SECRETARY = "branch_secretary";

/* The rows of synced table t that exist (figures_sqlite.c's view r_<t>). */
#define R(t) "(SELECT * FROM \"" t "\" WHERE " FIGURES_PG_ROW_EXISTS ")"

/* Text compared in byte order, as SQLite compares it. */
#define C(x) x " COLLATE \"C\""

#define YEAR_OF(date_col) "substr(" date_col ", 1, 4)"

#define MEETING_IN_YEAR(m, year, from, to)                                                \
	YEAR_OF(m "held_on") " = " year " AND " C(m "held_on") " BETWEEN " from " AND " to

/* A volunteer activity overlapping [from, to], started on or after started_from. */
#define ACTIVITY_IN_Y(v, started_from, from, to)                                          \
	C(v "started_on") " BETWEEN " started_from " AND " to " AND COALESCE(" v "ended_on, " \
	v "started_on) COLLATE \"C\" >= " from

/* The branch a person was secretary of on a date (the rule of figures_source.h: the
 * smallest of_unit in byte order), over role = ?3. */
#define SECRETARY_BRANCH(person, date)                                                    \
	"(SELECT min(" C("r.of_unit") ") FROM " R("role") " r WHERE r.person_id = " person \
	" AND r.role = $3 AND " C("r.term_from") " <= " date                              \
	" AND (r.term_until IS NULL OR " C("r.term_until") " >= " date "))"

const char FIGURES_PG_INDEX_DDL[] =
	"CREATE INDEX IF NOT EXISTS meeting_year ON meeting(" YEAR_OF("held_on") ", kind,"
	" unit_id, host_branch_id, commune_secretary_attended, held_on COLLATE \"C\")"
	" WHERE " FIGURES_PG_ROW_EXISTS ";";

/* ---- slots ---- */

static int s_read_begin(struct figures_source *src, struct figures_error *err)
{
	struct fpg *q = fpg_of(src);
	if (q->began || PQtransactionStatus(q->conn) != PQTRANS_IDLE)
		return FIGURES_OK;
	PGresult *res = PQexec(q->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? FIGURES_OK
		 : res ? fail_res(res, err) : fail_conn(q->conn, err);
	PQclear(res);
	if (rc == FIGURES_OK)
		q->began = 1;
	return rc;
}

static void s_read_end(struct figures_source *src)
{
	struct fpg *q = fpg_of(src);
	if (!q->began)
		return;
	q->began = 0;
	/* a read changes nothing: ROLLBACK ends it as well as COMMIT, also after a failure */
	PQclear(PQexec(q->conn, "ROLLBACK"));
}

static int s_units(struct figures_source *src,
		   int (*row)(void *arg, const struct figures_unit_row *r), void *arg,
		   struct figures_error *err)
{
	struct unit_ctx c = { row, arg };
	return run(fpg_of(src), err, unit_step, &c, "SELECT id, opened_on FROM " R("unit") " u",
		   0, NULL);
}

static int s_unit_names(struct figures_source *src,
			int (*row)(void *arg, const struct figures_name_row *r), void *arg,
			struct figures_error *err)
{
	struct name_ctx c = { row, arg };
	return run(fpg_of(src), err, name_step, &c,
		   "SELECT id, of_unit, name, code, kind, valid_from, valid_to FROM "
		   R("unit_name") " n", 0, NULL);
}

static int s_unit_links(struct figures_source *src,
			int (*row)(void *arg, const struct figures_link_row *r), void *arg,
			struct figures_error *err)
{
	struct link_ctx c = { row, arg };
	return run(fpg_of(src), err, link_step, &c,
		   "SELECT id, of_unit, parent_id, valid_from, valid_to FROM " R("unit_parent") " p",
		   0, NULL);
}

static int s_unit_events(struct figures_source *src,
			 int (*row)(void *arg, const struct figures_event_row *r), void *arg,
			 struct figures_error *err)
{
	struct event_ctx c = { row, arg };
	return run(fpg_of(src), err, event_step, &c,
		   "SELECT id, kind, of_unit, other_unit, effective_on FROM " R("unit_event") " e",
		   0, NULL);
}

static int s_meeting_groups(struct figures_source *src, int year, const char *from,
			    const char *to,
			    int (*row)(void *arg, const struct figures_meeting_group *r), void *arg,
			    struct figures_error *err)
{
	struct mgroup_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	const char *v[] = { yyyy, from, to, K_GIAO_BAN, K_GIAO_NV, K_BRANCH, K_JOINT };
	return run(fpg_of(src), err, mgroup_step, &c,
		   "SELECT kind, unit_id, host_branch_id, count(*),"
		   " count(*) FILTER (WHERE commune_secretary_attended = 1) FROM " R("meeting") " m"
		   " WHERE " MEETING_IN_YEAR("", "$1", "$2", "$3") " AND kind IN ($4, $5, $6, $7)"
		   " GROUP BY kind, unit_id, host_branch_id",
		   7, v);
}

static int s_meeting_tasks(struct figures_source *src, int year, const char *from,
			   const char *to,
			   int (*row)(void *arg, const struct figures_unit_count *r), void *arg,
			   struct figures_error *err)
{
	struct count_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	const char *v[] = { K_GIAO_NV, yyyy, from, to };
	return run(fpg_of(src), err, count_step, &c,
		   "SELECT m.unit_id, count(*) FROM " R("meeting") " m JOIN " R("task") " t"
		   " ON t.meeting_id = m.id"
		   " WHERE " MEETING_IN_YEAR("m.", "$2", "$3", "$4") " AND m.kind = $1"
		   " GROUP BY m.unit_id",
		   4, v);
}

static int s_meeting_participants(struct figures_source *src, int year, const char *from,
				  const char *to,
				  int (*row)(void *arg, const struct figures_unit_id *r),
				  void *arg, struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	char yyyy[5];
	yyyy_of(year, yyyy);
	const char *v[] = { yyyy, from, to, K_GIAO_BAN, K_GIAO_NV, K_BRANCH, K_JOINT };
	return run(fpg_of(src), err, id_step, &c,
		   "SELECT DISTINCT mb.branch_id FROM " R("meeting") " m JOIN " R("meeting_branch")
		   " mb ON mb.meeting_id = m.id WHERE " MEETING_IN_YEAR("m.", "$1", "$2", "$3")
		   " AND m.kind IN ($4, $5, $6, $7)",
		   7, v);
}

static int found_step(const PGresult *res, void *ctx)
{
	(void)res;
	*(int *)ctx = 1;
	return 0;
}

static int s_branch_took_part(struct figures_source *src, const char *branch, const char *from,
			      const char *to, int *found, struct figures_error *err)
{
	int any = 0;
	const char *v[] = { branch, from, to };
	int rc = run(fpg_of(src), err, found_step, &any,
		     "SELECT 1 FROM " R("meeting_branch") " mb JOIN " R("meeting") " m"
		     " ON m.id = mb.meeting_id WHERE mb.branch_id = $1"
		     " AND " C("m.held_on") " BETWEEN $2 AND $3 LIMIT 1",
		     3, v);
	if (rc == FIGURES_OK)
		*found = any;
	return rc;
}

static int s_volunteer_units(struct figures_source *src, const char *started_from,
			     const char *from, const char *to,
			     int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
			     struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	const char *v[] = { from, to, started_from };
	return run(fpg_of(src), err, id_step, &c,
		   "SELECT v.unit_id FROM " R("volunteer") " v"
		   " WHERE " ACTIVITY_IN_Y("v.", "$3", "$1", "$2")
		   " UNION SELECT vb.branch_id FROM " R("volunteer") " v JOIN " R("volunteer_branch")
		   " vb ON vb.volunteer_id = v.id WHERE " ACTIVITY_IN_Y("v.", "$3", "$1", "$2"),
		   3, v);
}

static int s_volunteer_groups(struct figures_source *src, const char *from, const char *to,
			      int (*row)(void *arg, const struct figures_volunteer_group *r),
			      void *arg, struct figures_error *err)
{
	struct vgroup_ctx c = { row, arg };
	const char *v[] = { from, to };
	return run(fpg_of(src), err, vgroup_step, &c,
		   "SELECT unit_id, kind, count(*), sum(COALESCE(teams, 0)),"
		   " sum(COALESCE(participations, 0)) FROM " R("volunteer") " v"
		   " WHERE " C("started_on") " BETWEEN $1 AND $2 GROUP BY unit_id, kind",
		   2, v);
}

static int s_pilots(struct figures_source *src, const char *date,
		    int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
		    struct figures_error *err)
{
	struct id_ctx c = { row, arg };
	const char *v[] = { date };
	return run(fpg_of(src), err, id_step, &c,
		   "SELECT DISTINCT branch_id FROM " R("pilot") " p"
		   " WHERE " C("valid_from") " <= $1 AND (valid_until IS NULL OR "
		   C("valid_until") " >= $1)",
		   1, v);
}

static int s_gathering(struct figures_source *src, int year,
		       int (*row)(void *arg, const struct figures_gathering_row *r), void *arg,
		       struct figures_error *err)
{
	struct gathering_ctx c = { row, arg };
	char y[16];
	snprintf(y, sizeof y, "%d", year);
	const char *v[] = { y };
	return run(fpg_of(src), err, gathering_step, &c,
		   "SELECT unit_id, sum(youth_gathered), sum(youth_in_area) FROM " R("year_record")
		   " y WHERE year = $1 AND youth_gathered IS NOT NULL"
		   " AND youth_in_area IS NOT NULL GROUP BY unit_id",
		   1, v);
}

static int s_ratings(struct figures_source *src, int year,
		     int (*row)(void *arg, const struct figures_rating_row *r), void *arg,
		     struct figures_error *err)
{
	struct rating_ctx c = { row, arg };
	char y[16];
	snprintf(y, sizeof y, "%d", year);
	const char *v[] = { y };
	return run(fpg_of(src), err, rating_step, &c,
		   "SELECT unit_id, rating, count(*) FROM " R("year_record") " y"
		   " WHERE year = $1 AND rating IS NOT NULL GROUP BY unit_id, rating",
		   1, v);
}

static int s_party_steps(struct figures_source *src, const char *from, const char *to,
			 int (*row)(void *arg, const struct figures_party_row *r), void *arg,
			 struct figures_error *err)
{
	struct party_ctx c = { row, arg };
	const char *v[] = { from, to, K_SECRETARY };
	return run(fpg_of(src), err, party_step, &c,
		   "SELECT b, person_id, step FROM (SELECT "
		   SECRETARY_BRANCH("p.person_id", C("p.on_date"))
		   " AS b, p.person_id, p.step FROM " R("party") " p"
		   " WHERE " C("p.on_date") " BETWEEN $1 AND $2) x WHERE b IS NOT NULL",
		   3, v);
}

static int s_secretaries(struct figures_source *src, const char *date,
			 int (*row)(void *arg, const struct figures_secretary_row *r), void *arg,
			 struct figures_error *err)
{
	struct secretary_ctx c = { row, arg };
	const char *v[] = { date, K_SECRETARY };
	return run(fpg_of(src), err, secretary_step, &c,
		   "SELECT r.of_unit, r.person_id, CASE WHEN EXISTS (SELECT 1 FROM "
		   R("insurance_card") " k WHERE k.person_id = r.person_id AND "
		   C("k.valid_from") " <= $1 AND (k.valid_until IS NULL OR " C("k.valid_until")
		   " >= $1)) THEN 1 ELSE 0 END"
		   " FROM " R("role") " r WHERE r.role = $2 AND " C("r.term_from") " <= $1"
		   " AND (r.term_until IS NULL OR " C("r.term_until") " >= $1)",
		   2, v);
}

static int s_support(struct figures_source *src, const char *from, const char *to,
		     int (*row)(void *arg, const struct figures_support_row *r), void *arg,
		     struct figures_error *err)
{
	struct support_ctx c = { row, arg };
	const char *v[] = { from, to, K_SECRETARY };
	return run(fpg_of(src), err, support_step, &c,
		   "SELECT b, person_id, kind, sum(COALESCE(amount_vnd, 0)) FROM (SELECT "
		   SECRETARY_BRANCH("s.person_id", C("s.on_date"))
		   " AS b, s.person_id, s.kind, s.amount_vnd FROM " R("support") " s"
		   " WHERE " C("s.on_date") " BETWEEN $1 AND $2) x WHERE b IS NOT NULL"
		   " GROUP BY b, person_id, kind",
		   3, v);
}

static void s_free(struct figures_source *src)
{
	if (!src)
		return;
	s_read_end(src);
	free(fpg_of(src));
}

int figures_pg_new(PGconn *conn, struct figures_source **out, struct figures_error *err)
{
	struct fpg *q;
	if (!conn || PQstatus(conn) != CONNECTION_OK)
		return fail(err, FIGURES_IO, "no connection to the database");
	if (!(q = calloc(1, sizeof *q)))
		return fail(err, FIGURES_NO_MEMORY, "out of memory");
	q->conn = conn;
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

int figures_pg_load_tree(PGconn *conn, struct unittree **out, char *err, size_t errlen)
{
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	int rc = -1;
	if (figures_pg_new(conn, &src, &fe) != FIGURES_OK || !src ||
	    src->read_begin(src, &fe) != FIGURES_OK) {
		snprintf(err, errlen, "cannot read units: %s", fe.message);
		goto done;
	}
	rc = unittree_load(src, out, err, errlen);
done:
	figures_source_free(src);
	return rc;
}
