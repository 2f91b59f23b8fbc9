/*
 * report.c — the thirteen figures of MODEL.md for a unit subtree and a year.
 *
 * How a figure is made: aggregate queries per year over the r_* views (rows that
 * exist) — one pass over the meetings feeds figures 1, 3–7, one query each the others
 * — grouped by the unit a record counts for (owning unit, branch or secretary's
 * branch) and, where a figure counts distinct things, by that thing;
 * each result row is then rolled up through the unit tree as of the report date
 * (unittree_rollup, cached per unit) into the total and the breakdown rows. So the
 * work in C is bounded by units × distinct keys, never by records, and reforms are
 * followed at query time without moving history.
 *
 * Invariant: a record counts at most once in a total; a unit split across several
 * breakdown rows adds its figures whole to each, marking those cells `split`.
 * Owns: the struct report being built (handed to the caller on success) and, during
 * a build, the tree, the roll-up cache and the distinct-key sets.
 */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "textout.h"
#include "unittree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A unit split into more than this many breakdown rows is unheard of; beyond it the
 * extra rows are left out of the breakdown (the total still counts it once). */
#define REPORT_MAX_FANOUT 16
#define REPORT_MIN_YEAR 2000 /* schema.c year_record.year range */
#define REPORT_MAX_YEAR 2100
/* Targets of MODEL.md. */
#define TARGET_PILOTS_PER_DISTRICT 2   /* 2–3 */
#define TARGET_GIAO_BAN_PER_DISTRICT 2
#define TARGET_TASK_MEETINGS_PER_DISTRICT 12
#define TARGET_JOINT_PER_COMMUNE 12
#define TARGET_ROTATION_MAX 12

enum { COL_CUR = 0, COL_PREV = 1 };

struct period {
	int year;
	char yyyy[5]; /* the year as text: what REPORT_YEAR_OF(held_on) gives for a date in it */
	char from[11], to[11], as_of[11]; /* dated events count from..to; states as of as_of */
	int year_end; /* 0: the period ends before 31 December (the report's unit closed in
		       * the year), so the year's year-end records are its successor's */
};

struct roll {
	int state; /* 0 not computed, 1 in scope, 2 out of scope */
	size_t n;
	int rows[REPORT_MAX_FANOUT];
};

struct ditem {
	int row; /* -1: the total */
	int split;
	char key[40];
};

/* Distinct keys per row (a person, a host branch). */
struct dset {
	struct ditem *v;
	size_t n, cap;
};

/* Strings owned by a report beyond its rows (measure keys and labels by kind). */
struct report_strings {
	char **v;
	size_t n, cap;
};

struct ctx {
	sqlite3 *db;
	struct unittree *tree;
	struct report *r;
	struct report_strings *strings;
	const char *root;
	struct period per[2];
	struct roll *rolls; /* per unit index */
	struct report_error *err;
	enum report_code code;
};

/* ---- errors ---- */

static enum report_code fail(struct ctx *c, enum report_code code, const char *field,
			     const char *fmt, ...)
{
	c->code = code;
	if (c->err) {
		va_list ap;
		c->err->code = code;
		snprintf(c->err->field, sizeof c->err->field, "%s", field ? field : "");
		va_start(ap, fmt);
		vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

static enum report_code fail_db(struct ctx *c, const char *what)
{
	return fail(c, REPORT_STORAGE, NULL, "cannot compute %s: %s", what,
		    sqlite3_errmsg(c->db));
}

static enum report_code fail_nomem(struct ctx *c)
{
	return fail(c, REPORT_NO_MEMORY, NULL, "cannot build report: out of memory");
}

/* ---- owned strings ---- */

static char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static const char *own(struct ctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	struct report_strings *s = c->strings;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, ncap * sizeof *nv);
		if (!nv)
			return NULL;
		s->v = nv;
		s->cap = ncap;
	}
	char *p = xstrdup(buf);
	if (p)
		s->v[s->n++] = p;
	return p;
}

/* ---- figures: layout ---- */

static struct report_measure *measure_at(struct report_figure *f, int row, size_t m)
{
	return row < 0 ? &f->total[m] : &f->rows[(size_t)row * f->nmeasures + m];
}

static struct report_cell *cell_at(struct report_figure *f, int row, size_t m, int col)
{
	struct report_measure *ms = measure_at(f, row, m);
	return col == COL_CUR ? &ms->value : &ms->previous;
}

static int figure_init(struct ctx *c, int number, const char *key, const char *label,
		       const char *note, size_t nmeasures)
{
	struct report_figure *f = &c->r->figures[number - 1];
	f->number = number;
	f->key = key;
	f->label = label;
	f->target_note = note;
	f->nmeasures = nmeasures;
	f->total = calloc(nmeasures, sizeof *f->total);
	f->rows = calloc((c->r->nrows ? c->r->nrows : 1) * nmeasures, sizeof *f->rows);
	if (!f->total || !f->rows)
		return fail_nomem(c);
	return REPORT_OK;
}

/* Declares measure m of figure number (a count, or a share when ratio). */
static int measure_def(struct ctx *c, int number, size_t m, const char *key,
		       const char *label, int ratio)
{
	struct report_figure *f = &c->r->figures[number - 1];
	if (!key || !label)
		return fail_nomem(c);
	for (int row = -1; row < (int)c->r->nrows; row++) {
		struct report_measure *ms = measure_at(f, row, m);
		ms->key = key;
		ms->label = label;
		ms->has_previous = 1;
		ms->target = -1;
		ms->value.of = ratio ? 0 : -1;
		ms->previous.of = ratio ? 0 : -1;
	}
	return REPORT_OK;
}

/* ---- roll-up ---- */

static const struct roll *roll_of(struct ctx *c, const char *unit_id)
{
	static const struct roll out = { 2, 0, { 0 } };
	long i = unittree_index(c->tree, unit_id);
	if (i < 0)
		return &out;
	struct roll *ro = &c->rolls[i];
	if (ro->state)
		return ro;
	const char *rows[REPORT_MAX_FANOUT];
	size_t n = 0;
	ro->state = unittree_rollup(c->tree, c->root, unit_id, c->per[COL_CUR].as_of, rows,
				    REPORT_MAX_FANOUT, &n)
			    ? 1
			    : 2;
	if (n > REPORT_MAX_FANOUT)
		n = REPORT_MAX_FANOUT;
	for (size_t k = 0; k < n; k++)
		for (size_t j = 0; j < c->r->nrows; j++)
			if (strcmp(c->r->rows[j].id, rows[k]) == 0) {
				ro->rows[ro->n++] = (int)j;
				break;
			}
	return ro;
}

/* Adds value (and of, for a share) to the total and to every row unit_id counts in. */
static void add(struct ctx *c, int number, size_t m, int col, const char *unit_id,
		int64_t value, int64_t of)
{
	struct report_figure *f = &c->r->figures[number - 1];
	const struct roll *ro = roll_of(c, unit_id);
	if (ro->state != 1)
		return;
	struct report_cell *t = cell_at(f, -1, m, col);
	t->value += value;
	if (t->of >= 0)
		t->of += of;
	for (size_t k = 0; k < ro->n; k++) {
		struct report_cell *x = cell_at(f, ro->rows[k], m, col);
		x->value += value;
		if (x->of >= 0)
			x->of += of;
		if (ro->n > 1)
			x->split = 1;
	}
}

static int dset_push(struct dset *d, int row, int split, const char *key)
{
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct ditem *nv = realloc(d->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		d->v = nv;
		d->cap = ncap;
	}
	d->v[d->n].row = row;
	d->v[d->n].split = split;
	snprintf(d->v[d->n].key, sizeof d->v[d->n].key, "%s", key);
	d->n++;
	return 0;
}

/* Records that key counts for unit_id (once in the total, once per row). */
static int dset_add(struct ctx *c, struct dset *d, const char *unit_id, const char *key)
{
	const struct roll *ro = roll_of(c, unit_id);
	if (ro->state != 1 || !key)
		return 0;
	if (dset_push(d, -1, 0, key) != 0)
		return -1;
	for (size_t k = 0; k < ro->n; k++)
		if (dset_push(d, ro->rows[k], ro->n > 1, key) != 0)
			return -1;
	return 0;
}

static int cmp_ditem(const void *a, const void *b)
{
	const struct ditem *x = a, *y = b;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Writes the distinct counts of d into the value (of_side = 0) or the denominator
 * (of_side = 1) of a measure, then empties d. */
static void dset_store(struct ctx *c, struct dset *d, int number, size_t m, int col,
		       int of_side)
{
	struct report_figure *f = &c->r->figures[number - 1];
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, cmp_ditem);
	for (size_t i = 0; i < d->n; i++) {
		struct report_cell *x = cell_at(f, d->v[i].row, m, col);
		if (d->v[i].split)
			x->split = 1;
		if (i > 0 && d->v[i].row == d->v[i - 1].row &&
		    strcmp(d->v[i].key, d->v[i - 1].key) == 0)
			continue;
		if (of_side)
			x->of++;
		else
			x->value++;
	}
	d->n = 0;
}

static void dset_release(struct dset *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

/* ---- queries ---- */

typedef int (*row_fn)(struct ctx *c, sqlite3_stmt *st, void *arg);

/* Prepares sql, binds the arguments described by types ('t' const char *, 'i'
 * int64_t) to ?1, ?2 …, and calls fn for every row. */
static int query(struct ctx *c, const char *what, row_fn fn, void *arg, const char *sql,
		 const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, s;
	va_start(ap, types);
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = fail_db(c, what);
		goto done;
	}
	for (int i = 0; types[i]; i++) {
		int b = types[i] == 'i' ? sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t))
					: sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
							    SQLITE_TRANSIENT);
		if (b != SQLITE_OK) {
			rc = fail_db(c, what);
			goto done;
		}
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(c, st, arg) != 0) {
			rc = c->code ? c->code : fail_nomem(c);
			goto done;
		}
	}
	if (s != SQLITE_DONE) {
		rc = fail_db(c, what);
		goto done;
	}
	rc = REPORT_OK;
done:
	va_end(ap);
	sqlite3_finalize(st);
	return rc;
}

static const char *text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static const struct schema_column *column(const char *table, const char *name)
{
	return schema_column_find(schema_table_find(table, SCHEMA_VERSION), name, SCHEMA_VERSION);
}

static const char *enum_label(const char *table, const char *col, const char *code)
{
	const struct schema_enum_value *v = schema_enum_find(column(table, col), code);
	return v ? v->label_vi : code;
}

/* Index of code among the values of an enumeration column, or -1. */
static int enum_index(const struct schema_column *col, const char *code)
{
	if (!col || !code)
		return -1;
	for (int i = 0; col->enum_values[i].code; i++)
		if (strcmp(col->enum_values[i].code, code) == 0)
			return i;
	return -1;
}

static size_t enum_count(const struct schema_column *col)
{
	size_t n = 0;
	while (col && col->enum_values[n].code)
		n++;
	return n;
}

/* ---- generic row handlers ---- */

struct sum_arg {
	int number;
	size_t m;
	int col;
	int of_col; /* result column of the denominator, or -1 */
};

/* Rows (unit, value[, of]). */
static int row_sum(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	const struct sum_arg *a = arg;
	add(c, a->number, a->m, a->col, text(st, 0), sqlite3_column_int64(st, 1),
	    a->of_col >= 0 ? sqlite3_column_int64(st, a->of_col) : 0);
	return 0;
}

/* ---- unit sets from the tree ---- */

static int open_during(const struct unittree *t, const char *id, const struct period *p)
{
	const char *opened = unittree_opened_on(t, id), *closed = unittree_closed_on(t, id);
	return opened && strcmp(opened, p->to) <= 0 && (!closed || strcmp(closed, p->from) > 0);
}

/* The kind of a unit on its last day within the period (its last name when it
 * closed before the period's "as of" date). */
static const char *kind_in(const struct unittree *t, const char *id, const struct period *p)
{
	struct unittree_name nm;
	const char *closed = unittree_closed_on(t, id);
	const char *d = closed && strcmp(closed, p->as_of) <= 0 ? closed : p->as_of;
	return unittree_name_of(t, id, d, &nm) == 0 ? nm.kind : "";
}

static int is_district_level(const char *kind)
{
	return strcmp(kind, "district") == 0 || strcmp(kind, "affiliated") == 0;
}

static const char *const K_GIAO_BAN = "giao_ban", *const K_GIAO_NV = "giao_nhiem_vu",
			 *const K_BRANCH = "branch", *const K_JOINT = "joint",
			 *const K_SECRETARY = "branch_secretary";

static void mark(const struct ctx *c, unsigned char *set, const char *unit_id)
{
	long i = unittree_index(c->tree, unit_id);
	if (i >= 0)
		set[i] = 1;
}

/* One pass over the meetings of a year feeds figures 1, 3, 4, 5, 6 and 7: meetings
 * grouped by (kind, holding unit, host branch) are few (units × hosts), whatever the
 * number of meetings, so the meeting table is read once per year.
 *
 * "Held in Y" is said `MEETING_IN_YEAR` in every query: REPORT_YEAR_OF(held_on) = Y
 * as text — the leading expression of the store's partial index meeting_year
 * (report.h), so the meeting pass reads one contiguous run of index entries, already
 * in (kind, unit, host) order: the GROUP BY streams without a sort and the table is
 * never read — and the date range, which says the same for a validated date
 * (YYYY-MM-DD, validate.c), is checked on the index's held_on column and lets a
 * database still without meeting_year use its (kind, held_on) range. */
#define MEETING_IN_YEAR(m, year, from, to)                                                \
	REPORT_YEAR_OF(m "held_on") " = " year " AND " m "held_on BETWEEN " from " AND " to
struct meeting_pass {
	int col;
	unsigned char *held;       /* per unit: holds a giao ban or task meeting (figure 1) */
	unsigned char *active;     /* per unit: held or hosted any meeting (figure 7) */
	struct dset hosts;         /* figure 6: distinct host branches */
};

static int row_meeting(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	struct meeting_pass *mp = arg;
	const char *kind = text(st, 0), *unit = text(st, 1), *host = text(st, 2);
	int64_t n = sqlite3_column_int64(st, 3), attended = sqlite3_column_int64(st, 4);
	if (!kind || !unit)
		return 0;
	mark(c, mp->active, unit);
	if (host)
		mark(c, mp->active, host);
	if (strcmp(kind, K_GIAO_BAN) == 0) {
		add(c, 3, 0, mp->col, unit, n, 0);
		mark(c, mp->held, unit);
	} else if (strcmp(kind, K_GIAO_NV) == 0) {
		add(c, 4, 0, mp->col, unit, n, 0);
		mark(c, mp->held, unit);
	} else if (strcmp(kind, K_BRANCH) == 0) {
		/* a branch meeting counts for its branch: the host, or the owning branch */
		add(c, 5, 0, mp->col, host ? host : unit, attended, n);
	} else if (strcmp(kind, K_JOINT) == 0) {
		add(c, 6, 0, mp->col, unit, n, 0);
		if (host && dset_add(c, &mp->hosts, unit, host) != 0)
			return -1;
	}
	return 0;
}

/* 1. District-level units open in Y with a giao ban or task meeting in Y. */
static void fig_implementing(struct ctx *c, const struct meeting_pass *mp)
{
	const struct period *p = &c->per[mp->col];
	for (size_t i = 0; i < unittree_count(c->tree); i++) {
		const char *id = unittree_id(c->tree, i);
		if (open_during(c->tree, id, p) && is_district_level(kind_in(c->tree, id, p)))
			add(c, 1, 0, mp->col, id, mp->held[i], 1);
	}
}

/* 1 when the statement (bound by the caller) returns a row, 0 when not, -1 on error. */
static int probe(sqlite3_stmt *st)
{
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
}

/* Activity in Y: a volunteer activity counts in Y when it overlaps Y. Campaigns last
 * weeks, so only activities started in Y−1 or Y are read (one bounded index range);
 * one that started earlier and still ran in Y is not seen. */
#define ACTIVITY_IN_Y(v)                                                                  \
	v "started_on BETWEEN ?4 AND ?3 AND COALESCE(" v "ended_on, " v "started_on) >= ?2"

/* Above this many branches left to check, one set query is cheaper than a look-up
 * per branch (each look-up reads that branch's whole history of participations). */
#define INACTIVE_PROBE_MAX 32

/* Marks the first column of every row of a prepared statement; then finalizes it. */
static int mark_rows(struct ctx *c, sqlite3_stmt *q, unsigned char *set)
{
	int s;
	while ((s = sqlite3_step(q)) == SQLITE_ROW)
		mark(c, set, text(q, 0));
	sqlite3_finalize(q);
	return s == SQLITE_DONE ? REPORT_OK : fail_db(c, "figure 7");
}

/* 7. Branches open during Y that neither held nor took part in any meeting and took
 * part in no activity in Y. The meeting pass has marked the branches that held or
 * hosted a meeting; volunteer activities of Y−1..Y are one bounded set query; the
 * branches still unmarked (few in practice: the target is none) are looked up one by
 * one in the participations, or by one set query over the year's meetings when many. */
static int fig_inactive(struct ctx *c, struct meeting_pass *mp)
{
	static const char volunteer_sql[] =
		"SELECT unit_id FROM r_volunteer v WHERE " ACTIVITY_IN_Y("v.")
		" UNION SELECT vb.branch_id FROM r_volunteer v JOIN r_volunteer_branch vb"
		" ON vb.volunteer_id = v.id WHERE " ACTIVITY_IN_Y("v.");
	static const char set_sql[] =
		"SELECT DISTINCT mb.branch_id FROM r_meeting m JOIN r_meeting_branch mb"
		" ON mb.meeting_id = m.id WHERE " MEETING_IN_YEAR("m.", "?1", "?2", "?3")
		" AND m.kind IN (?5, ?6, ?7, ?8)";
	static const char probe_sql[] =
		"SELECT 1 FROM r_meeting_branch mb JOIN r_meeting m ON m.id = mb.meeting_id"
		" WHERE mb.branch_id = ?1 AND m.held_on BETWEEN ?2 AND ?3 LIMIT 1";
	const struct period *p = &c->per[mp->col];
	char from_before[11];
	sqlite3_stmt *q = NULL;
	size_t n = unittree_count(c->tree), ncand = 0;
	unsigned char *cand = calloc(n ? n : 1, 1);
	int rc = REPORT_OK;
	if (!cand)
		return fail_nomem(c);
	snprintf(from_before, sizeof from_before, "%04u-01-01", (unsigned)(p->year - 1) % 10000u);
	if (sqlite3_prepare_v2(c->db, volunteer_sql, -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(q, 2, p->from, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 3, p->to, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(q, 4, from_before, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = fail_db(c, "figure 7");
		goto done;
	}
	rc = mark_rows(c, q, mp->active);
	q = NULL;
	if (rc != REPORT_OK)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const char *id = unittree_id(c->tree, i);
		if (!open_during(c->tree, id, p) || strcmp(kind_in(c->tree, id, p), "branch") != 0 ||
		    roll_of(c, id)->state != 1)
			continue;
		cand[i] = 1;
		ncand += !mp->active[i];
	}
	if (ncand > INACTIVE_PROBE_MAX) {
		if (sqlite3_prepare_v2(c->db, set_sql, -1, &q, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(q, 1, p->yyyy, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 2, p->from, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 3, p->to, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 5, K_GIAO_BAN, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 6, K_GIAO_NV, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 7, K_BRANCH, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 8, K_JOINT, -1, SQLITE_STATIC) != SQLITE_OK) {
			rc = fail_db(c, "figure 7");
			goto done;
		}
		rc = mark_rows(c, q, mp->active);
		q = NULL;
		if (rc != REPORT_OK)
			goto done;
	} else if (ncand > 0) {
		if (sqlite3_prepare_v2(c->db, probe_sql, -1, &q, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(q, 2, p->from, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 3, p->to, -1, SQLITE_STATIC) != SQLITE_OK) {
			rc = fail_db(c, "figure 7");
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			int found;
			if (!cand[i] || mp->active[i])
				continue;
			if (sqlite3_bind_text(q, 1, unittree_id(c->tree, i), -1, SQLITE_STATIC) !=
				    SQLITE_OK ||
			    (found = probe(q)) < 0) {
				rc = fail_db(c, "figure 7");
				goto done;
			}
			mp->active[i] = (unsigned char)found;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (cand[i])
			add(c, 7, 0, mp->col, unittree_id(c->tree, i), !mp->active[i], 1);
done:
	sqlite3_finalize(q);
	free(cand);
	return rc;
}

/* Figures 1, 3, 4 (meetings), 5, 6 and 7 for one year. */
static int pass_meetings(struct ctx *c, int col)
{
	size_t n = unittree_count(c->tree);
	struct meeting_pass mp = { col, calloc(n ? n : 1, 1), calloc(n ? n : 1, 1), { 0 } };
	int rc;
	if (!mp.held || !mp.active) {
		rc = fail_nomem(c);
		goto done;
	}
	rc = query(c, "meetings", row_meeting, &mp,
		   "SELECT kind, unit_id, host_branch_id, count(*),"
		   " sum(commune_secretary_attended = 1) FROM r_meeting"
		   " WHERE " MEETING_IN_YEAR("", "?1", "?2", "?3") " AND kind IN (?4, ?5, ?6, ?7)"
		   " GROUP BY kind, unit_id, host_branch_id",
		   "ttttttt", c->per[col].yyyy, c->per[col].from, c->per[col].to, K_GIAO_BAN,
		   K_GIAO_NV, K_BRANCH, K_JOINT);
	if (rc != REPORT_OK)
		goto done;
	dset_store(c, &mp.hosts, 6, 1, col, 0);
	fig_implementing(c, &mp);
	rc = fig_inactive(c, &mp);
done:
	dset_release(&mp.hosts);
	free(mp.held);
	free(mp.active);
	return rc;
}

static int row_one(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	const struct sum_arg *a = arg;
	add(c, a->number, a->m, a->col, text(st, 0), 1, 0);
	return 0;
}

/* 2. Branches designated pilot as of Y, under their district. */
static int fig_pilots(struct ctx *c, int col)
{
	struct sum_arg a = { 2, 0, col, -1 };
	return query(c, "figure 2", row_one, &a,
		     "SELECT DISTINCT branch_id FROM r_pilot"
		     " WHERE valid_from <= ?1 AND (valid_until IS NULL OR valid_until >= ?1)",
		     "t", c->per[col].as_of);
}

/* 4. The tasks assigned at the task-assignment meetings of Y. */
static int fig_tasks(struct ctx *c, int col)
{
	struct sum_arg a = { 4, 1, col, -1 };
	return query(c, "figure 4", row_sum, &a,
		     "SELECT m.unit_id, count(*) FROM r_meeting m JOIN r_task t"
		     " ON t.meeting_id = m.id"
		     " WHERE " MEETING_IN_YEAR("m.", "?2", "?3", "?4") " AND m.kind = ?1"
		     " GROUP BY m.unit_id",
		     "tttt", K_GIAO_NV, c->per[col].yyyy, c->per[col].from, c->per[col].to);
}

/* 8. Youth gathered over youth in the area, from the year-end records of Y. */
static int fig_gathering(struct ctx *c, int col)
{
	struct sum_arg a = { 8, 0, col, 2 };
	if (!c->per[col].year_end)
		return REPORT_OK;
	return query(c, "figure 8", row_sum, &a,
		     "SELECT unit_id, sum(youth_gathered), sum(youth_in_area) FROM r_year_record"
		     " WHERE year = ?1 AND youth_gathered IS NOT NULL"
		     " AND youth_in_area IS NOT NULL GROUP BY unit_id",
		     "i", (int64_t)c->per[col].year);
}

/* 9. Volunteer activities started in Y: participations, teams, activities; by kind. */
static int row_volunteer(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	const int *col = arg;
	const char *unit = text(st, 0);
	int64_t acts = sqlite3_column_int64(st, 2), teams = sqlite3_column_int64(st, 3),
		parts = sqlite3_column_int64(st, 4);
	int k = enum_index(column("volunteer", "kind"), text(st, 1));
	add(c, 9, 0, *col, unit, parts, 0);
	add(c, 9, 1, *col, unit, teams, 0);
	add(c, 9, 2, *col, unit, acts, 0);
	if (k >= 0) {
		add(c, 9, 3 + 2 * (size_t)k, *col, unit, parts, 0);
		add(c, 9, 4 + 2 * (size_t)k, *col, unit, teams, 0);
	}
	return 0;
}

static int fig_volunteer(struct ctx *c, int col)
{
	return query(c, "figure 9", row_volunteer, &col,
		     "SELECT unit_id, kind, count(*), sum(COALESCE(teams, 0)),"
		     " sum(COALESCE(participations, 0)) FROM r_volunteer"
		     " WHERE started_on BETWEEN ?1 AND ?2 GROUP BY unit_id, kind",
		     "tt", c->per[col].from, c->per[col].to);
}

/* The branch a person was secretary of on a date (SQL expression over ?3). */
/* The unary + keeps the planner on the (person_id, role) index: without statistics it
 * would otherwise range-scan (role, term_from) over every secretary for every row. */
#define SECRETARY_BRANCH(person, date)                                                    \
	"(SELECT min(r.of_unit) FROM r_role r WHERE r.person_id = " person                \
	" AND r.role = ?3 AND +r.term_from <= " date                                      \
	" AND (r.term_until IS NULL OR r.term_until >= " date "))"

/* 10. Secretaries (on the date) introduced to the Party in Y; admitted in Y. */
struct party_arg {
	struct dset d[2];
};

static int row_party(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	struct party_arg *a = arg;
	const char *step = text(st, 2);
	if (!step)
		return 0;
	int k = strcmp(step, "introduced") == 0 ? 0 : strcmp(step, "admitted") == 0 ? 1 : -1;
	return k < 0 ? 0 : dset_add(c, &a->d[k], text(st, 0), text(st, 1));
}

static int fig_party(struct ctx *c, int col)
{
	struct party_arg a = { { { 0 }, { 0 } } };
	int rc = query(c, "figure 10", row_party, &a,
		       "SELECT b, person_id, step FROM (SELECT "
		       SECRETARY_BRANCH("p.person_id", "p.on_date")
		       " AS b, p.person_id, p.step FROM r_party p"
		       " WHERE p.on_date BETWEEN ?1 AND ?2) WHERE b IS NOT NULL",
		       "ttt", c->per[col].from, c->per[col].to, K_SECRETARY);
	if (rc == REPORT_OK) {
		dset_store(c, &a.d[0], 10, 0, col, 0);
		dset_store(c, &a.d[1], 10, 1, col, 0);
	}
	dset_release(&a.d[0]);
	dset_release(&a.d[1]);
	return rc;
}

/* 11. Secretaries in office as of Y with an insurance card valid as of Y. */
static int row_insured(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	struct dset *d = arg; /* [0] insured, [1] all */
	if (sqlite3_column_int(st, 2) && dset_add(c, &d[0], text(st, 0), text(st, 1)) != 0)
		return -1;
	return dset_add(c, &d[1], text(st, 0), text(st, 1));
}

static int fig_insurance(struct ctx *c, int col)
{
	struct dset d[2] = { { 0 }, { 0 } };
	int rc = query(c, "figure 11", row_insured, d,
		       "SELECT r.of_unit, r.person_id, EXISTS (SELECT 1 FROM r_insurance_card k"
		       " WHERE k.person_id = r.person_id AND k.valid_from <= ?1"
		       " AND (k.valid_until IS NULL OR k.valid_until >= ?1))"
		       " FROM r_role r WHERE r.role = ?2 AND r.term_from <= ?1"
		       " AND (r.term_until IS NULL OR r.term_until >= ?1)",
		       "tt", c->per[col].as_of, K_SECRETARY);
	if (rc == REPORT_OK) {
		dset_store(c, &d[0], 11, 0, col, 0);
		dset_store(c, &d[1], 11, 0, col, 1);
	}
	dset_release(&d[0]);
	dset_release(&d[1]);
	return rc;
}

/* 12. Distinct secretaries supported in Y (any kind, by kind) and loan amounts. */
struct support_arg {
	int col;
	size_t nkinds;
	struct dset *d; /* [0] any kind, [1 + k] kind k */
};

static int row_support(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	struct support_arg *a = arg;
	const char *unit = text(st, 0), *person = text(st, 1), *kind = text(st, 2);
	int k = enum_index(column("support", "kind"), kind);
	if (dset_add(c, &a->d[0], unit, person) != 0)
		return -1;
	if (k >= 0 && dset_add(c, &a->d[1 + k], unit, person) != 0)
		return -1;
	if (kind && strcmp(kind, "loan") == 0)
		add(c, 12, 1 + a->nkinds, a->col, unit, sqlite3_column_int64(st, 3), 0);
	return 0;
}

static int fig_support(struct ctx *c, int col)
{
	size_t nk = enum_count(column("support", "kind"));
	struct support_arg a = { col, nk, calloc(nk + 1, sizeof(struct dset)) };
	int rc;
	if (!a.d)
		return fail_nomem(c);
	rc = query(c, "figure 12", row_support, &a,
		   "SELECT b, person_id, kind, sum(COALESCE(amount_vnd, 0)) FROM (SELECT "
		   SECRETARY_BRANCH("s.person_id", "s.on_date")
		   " AS b, s.person_id, s.kind, s.amount_vnd FROM r_support s"
		   " WHERE s.on_date BETWEEN ?1 AND ?2) WHERE b IS NOT NULL"
		   " GROUP BY b, person_id, kind",
		   "ttt", c->per[col].from, c->per[col].to, K_SECRETARY);
	for (size_t k = 0; k <= nk; k++) {
		if (rc == REPORT_OK)
			dset_store(c, &a.d[k], 12, k, col, 0);
		dset_release(&a.d[k]);
	}
	free(a.d);
	return rc;
}

/* 13. Branches rated for Y: completed or better, excellent or good (by rank). */
static int row_rating(struct ctx *c, sqlite3_stmt *st, void *arg)
{
	const int *col = arg;
	const struct schema_column *rc = column("year_record", "rating");
	const struct schema_enum_value *v = schema_enum_find(rc, text(st, 1));
	const struct schema_enum_value *done = schema_enum_find(rc, "hoan_thanh");
	const struct schema_enum_value *good = schema_enum_find(rc, "tot");
	int rank = v ? v->rank : 0;
	int64_t n = sqlite3_column_int64(st, 2);
	add(c, 13, 0, *col, text(st, 0), done && rank >= done->rank ? n : 0, n);
	add(c, 13, 1, *col, text(st, 0), good && rank >= good->rank ? n : 0, n);
	return 0;
}

static int fig_rating(struct ctx *c, int col)
{
	if (!c->per[col].year_end)
		return REPORT_OK;
	return query(c, "figure 13", row_rating, &col,
		     "SELECT unit_id, rating, count(*) FROM r_year_record"
		     " WHERE year = ?1 AND rating IS NOT NULL GROUP BY unit_id, rating",
		     "i", (int64_t)c->per[col].year);
}

/* ---- layout of the thirteen figures ---- */

static int define_figures(struct ctx *c)
{
	const struct schema_column *vk = column("volunteer", "kind");
	const struct schema_column *sk = column("support", "kind");
	size_t nvk = enum_count(vk), nsk = enum_count(sk);
	int rc;
#define TRY(x)                                                                            \
	do {                                                                              \
		if ((rc = (x)) != REPORT_OK)                                              \
			return rc;                                                        \
	} while (0)
	TRY(figure_init(c, 1, "implementing",
			"Đơn vị cấp huyện và đoàn trực thuộc triển khai mô hình “2 giao, 1 liên kết”",
			NULL, 1));
	TRY(measure_def(c, 1, 0, "units", "Đơn vị có giao ban hoặc giao nhiệm vụ trong năm", 1));
	TRY(figure_init(c, 2, "pilots", "Chi đoàn chỉ đạo điểm",
			"2–3 chi đoàn chỉ đạo điểm mỗi huyện", 1));
	TRY(measure_def(c, 2, 0, "branches", "Chi đoàn chỉ đạo điểm", 0));
	TRY(figure_init(c, 3, "giao_ban", enum_label("meeting", "kind", K_GIAO_BAN),
			"2 buổi mỗi huyện mỗi năm", 1));
	TRY(measure_def(c, 3, 0, "meetings", "Số buổi giao ban", 0));
	TRY(figure_init(c, 4, "giao_nhiem_vu", enum_label("meeting", "kind", K_GIAO_NV),
			"12 buổi mỗi huyện mỗi năm", 2));
	TRY(measure_def(c, 4, 0, "meetings", "Số buổi giao nhiệm vụ", 0));
	TRY(measure_def(c, 4, 1, "tasks", "Nhiệm vụ được giao", 0));
	TRY(figure_init(c, 5, "branch_meetings_attended",
			"Sinh hoạt chi đoàn có bí thư đoàn xã dự", NULL, 1));
	TRY(measure_def(c, 5, 0, "attended",
			"Buổi sinh hoạt chi đoàn có bí thư đoàn xã dự", 1));
	TRY(figure_init(c, 6, "joint", enum_label("meeting", "kind", K_JOINT),
			"12 buổi mỗi xã mỗi năm, luân phiên đăng cai ở các chi đoàn", 2));
	TRY(measure_def(c, 6, 0, "meetings", "Số buổi sinh hoạt liên chi đoàn", 0));
	TRY(measure_def(c, 6, 1, "hosts", "Chi đoàn đăng cai (luân phiên)", 0));
	TRY(figure_init(c, 7, "inactive", "Chi đoàn “trắng” (không sinh hoạt, không hoạt động)",
			"Không có chi đoàn trắng", 1));
	TRY(measure_def(c, 7, 0, "branches", "Chi đoàn trắng", 1));
	TRY(figure_init(c, 8, "gathering", "Tỷ lệ tập hợp thanh niên", NULL, 1));
	TRY(measure_def(c, 8, 0, "youth", "Thanh niên được tập hợp", 1));
	TRY(figure_init(c, 9, "volunteer", "Hoạt động tình nguyện", NULL, 3 + 2 * nvk));
	TRY(measure_def(c, 9, 0, "participations", "Lượt đoàn viên, thanh niên tham gia", 0));
	TRY(measure_def(c, 9, 1, "teams", "Đội hình tình nguyện", 0));
	TRY(measure_def(c, 9, 2, "activities", "Số hoạt động", 0));
	for (size_t k = 0; k < nvk; k++) {
		const struct schema_enum_value *v = &vk->enum_values[k];
		TRY(measure_def(c, 9, 3 + 2 * k, own(c, "participations.%s", v->code),
				own(c, "%s: lượt tham gia", v->label_vi), 0));
		TRY(measure_def(c, 9, 4 + 2 * k, own(c, "teams.%s", v->code),
				own(c, "%s: đội hình", v->label_vi), 0));
	}
	TRY(figure_init(c, 10, "party", "Giới thiệu bí thư chi đoàn cho Đảng, kết nạp Đảng", NULL,
			2));
	TRY(measure_def(c, 10, 0, "introduced", enum_label("party", "step", "introduced"), 0));
	TRY(measure_def(c, 10, 1, "admitted", enum_label("party", "step", "admitted"), 0));
	TRY(figure_init(c, 11, "insurance", "Bí thư chi đoàn có thẻ bảo hiểm y tế", NULL, 1));
	TRY(measure_def(c, 11, 0, "secretaries", "Bí thư chi đoàn có thẻ bảo hiểm y tế còn hạn",
			1));
	TRY(figure_init(c, 12, "support", "Hỗ trợ bí thư chi đoàn", NULL, 2 + nsk));
	TRY(measure_def(c, 12, 0, "secretaries", "Bí thư chi đoàn được hỗ trợ", 0));
	for (size_t k = 0; k < nsk; k++) {
		const struct schema_enum_value *v = &sk->enum_values[k];
		TRY(measure_def(c, 12, 1 + k, own(c, "secretaries.%s", v->code),
				own(c, "Bí thư được hỗ trợ: %s", v->label_vi), 0));
	}
	TRY(measure_def(c, 12, 1 + nsk, "loan_amount_vnd", "Số tiền cho vay (đồng)", 0));
	TRY(figure_init(c, 13, "evaluation", "Đánh giá, xếp loại chi đoàn cuối năm", NULL, 2));
	TRY(measure_def(c, 13, 0, "completed", "Chi đoàn xếp loại hoàn thành nhiệm vụ trở lên",
			1));
	TRY(measure_def(c, 13, 1, "excellent_good",
			"Chi đoàn xếp loại hoàn thành xuất sắc, hoàn thành tốt nhiệm vụ", 1));
#undef TRY
	return REPORT_OK;
}

/* Targets from the tree as of the report date: per district, per commune. */
static void set_target(struct ctx *c, int number, size_t m, int row, int64_t add_by)
{
	struct report_measure *ms = measure_at(&c->r->figures[number - 1], row, m);
	ms->target = (ms->target < 0 ? 0 : ms->target) + add_by;
}

/* A target per year for the part of the year the period covers (a unit closed during
 * it, report.h): target × days covered ÷ days of the year, rounded up, so a unit that
 * lived half the year owes 6 of 12 meetings, and one that lived a day owes one. */
static int64_t target_for(const struct period *p, int64_t per_year)
{
	long from = unittree_day_number(p->from), to = unittree_day_number(p->to);
	char end[11];
	snprintf(end, sizeof end, "%04u-12-31", (unsigned)p->year % 10000u);
	long year_end = unittree_day_number(end);
	if (p->year_end || from < 0 || to < from || year_end < to)
		return per_year;
	long covered = to - from + 1, year = year_end - from + 1;
	return (per_year * covered + year - 1) / year;
}

static int compute_targets(struct ctx *c)
{
	const struct period *cur = &c->per[COL_CUR];
	const char *d = cur->as_of;
	size_t n = unittree_count(c->tree);
	int64_t *branches = calloc(n ? n : 1, sizeof *branches); /* per commune */
	static const struct {
		int number;
		size_t m;
	} with_target[] = { { 2, 0 }, { 3, 0 }, { 4, 0 }, { 6, 0 }, { 6, 1 }, { 7, 0 } };
	struct unittree_name nm;
	if (!branches)
		return fail_nomem(c);
	/* zero targets everywhere first, so a row without districts reads 0, not none */
	for (size_t i = 0; i < ARRAY_LEN(with_target); i++)
		for (int row = -1; row < (int)c->r->nrows; row++)
			measure_at(&c->r->figures[with_target[i].number - 1], row,
				   with_target[i].m)
				->target = 0;
	/* branches per commune on the report date, for the rotation target */
	for (size_t i = 0; i < n; i++) {
		const char *id = unittree_id(c->tree, i);
		if (!unittree_is_open(c->tree, id, d) || unittree_name_of(c->tree, id, d, &nm) != 0 ||
		    strcmp(nm.kind, "branch") != 0)
			continue;
		long p = unittree_index(c->tree, unittree_effective_parent(c->tree, id, d));
		if (p >= 0)
			branches[p]++;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = unittree_id(c->tree, i);
		if (!unittree_is_open(c->tree, id, d) || unittree_name_of(c->tree, id, d, &nm) != 0)
			continue;
		const struct roll *ro = roll_of(c, id);
		if (ro->state != 1)
			continue;
		int64_t pilots = 0, giao_ban = 0, tasks = 0, joint = 0, rotation = 0;
		if (strcmp(nm.kind, "district") == 0) {
			pilots = TARGET_PILOTS_PER_DISTRICT; /* a state, not a pace */
			giao_ban = target_for(cur, TARGET_GIAO_BAN_PER_DISTRICT);
			tasks = target_for(cur, TARGET_TASK_MEETINGS_PER_DISTRICT);
		} else if (strcmp(nm.kind, "commune") == 0) {
			joint = target_for(cur, TARGET_JOINT_PER_COMMUNE);
			rotation = branches[i] < TARGET_ROTATION_MAX ? branches[i] : TARGET_ROTATION_MAX;
			if (rotation > joint)
				rotation = joint; /* each meeting has one host */
		} else {
			continue;
		}
		/* a unit open on the report date is never split: one row at most */
		for (int k = -1; k < (int)ro->n; k++) {
			int row = k < 0 ? -1 : ro->rows[k];
			set_target(c, 2, 0, row, pilots);
			set_target(c, 3, 0, row, giao_ban);
			set_target(c, 4, 0, row, tasks);
			set_target(c, 6, 0, row, joint);
			set_target(c, 6, 1, row, rotation);
		}
	}
	free(branches);
	return REPORT_OK;
}

/* ---- build ---- */

static int parse_date(const char *s, int *y)
{
	int m, d;
	char extra;
	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", y, &m, &d, &extra) != 3)
		return -1;
	return (s[4] == '-' && s[7] == '-' && m >= 1 && m <= 12 && d >= 1 && d <= 31) ? 0 : -1;
}

static void period_init(struct period *p, int year, const char *today)
{
	p->year = year;
	snprintf(p->from, sizeof p->from, "%04u-01-01", (unsigned)year % 10000u);
	snprintf(p->to, sizeof p->to, "%04u-12-31", (unsigned)year % 10000u);
	snprintf(p->yyyy, sizeof p->yyyy, "%04u", (unsigned)year % 10000u);
	p->year_end = 1;
	if (today && strcmp(today, p->to) < 0)
		snprintf(p->as_of, sizeof p->as_of, "%s", today);
	else
		snprintf(p->as_of, sizeof p->as_of, "%s", p->to);
}

static int fill_units(struct ctx *c, const char *root)
{
	struct unittree_name nm;
	const char **kids = NULL;
	size_t nk = 0;
	const char *d = c->per[COL_CUR].as_of;
	struct report *r = c->r;
	snprintf(r->unit_id, sizeof r->unit_id, "%s", root);
	if (unittree_name_of(c->tree, root, d, &nm) == 0) {
		r->unit_name = xstrdup(nm.name);
		r->unit_code = nm.code ? xstrdup(nm.code) : NULL;
		if (!r->unit_name || (nm.code && !r->unit_code))
			return fail_nomem(c);
	} else if (!(r->unit_name = xstrdup(root))) {
		return fail_nomem(c);
	}
	if (unittree_children(c->tree, root, d, &kids, &nk) != 0)
		return fail_nomem(c);
	r->rows = calloc(nk ? nk : 1, sizeof *r->rows);
	if (!r->rows) {
		free(kids);
		return fail_nomem(c);
	}
	for (size_t i = 0; i < nk; i++) {
		struct report_unit *u = &r->rows[r->nrows++];
		snprintf(u->id, sizeof u->id, "%s", kids[i]);
		if (unittree_name_of(c->tree, kids[i], d, &nm) == 0) {
			u->name = xstrdup(nm.name);
			u->code = nm.code ? xstrdup(nm.code) : NULL;
		} else {
			u->name = xstrdup(kids[i]);
		}
		if (!u->name) {
			free(kids);
			return fail_nomem(c);
		}
	}
	free(kids);
	return REPORT_OK;
}

/* Each computes its figures for one column (year). */
static int (*const passes[])(struct ctx *c, int col) = {
	pass_meetings, fig_pilots,  fig_tasks,     fig_gathering, fig_volunteer,
	fig_party,     fig_insurance, fig_support, fig_rating,
};

/* A unit's official code as the report reads it: the unit that held it on some day
 * of the year up to the report date (the latest holder when a reform reused it), so a
 * commune merged mid-year is found by its code. Failing that, the unit that held it
 * last at any time, which fit_to_unit_life then refuses with its dates. */
static const char *find_code(const struct unittree *t, const char *code, const struct period *p)
{
	const char *id = unittree_find_code(t, code, p->from, p->as_of);
	return id ? id : unittree_find_code(t, code, "0000-01-01", "9999-12-31");
}

/* A unit that did not exist during the whole year: refused when it did not exist at
 * all in Y. When it closed during Y its figures cover the part of the year it lived
 * (report.h, "A unit closed during the year"): dated events up to its last day, states
 * as of that day, and no year-end record of Y (those count under its successor). */
static int fit_to_unit_life(struct ctx *c)
{
	struct period *p = &c->per[COL_CUR];
	const char *opened = unittree_opened_on(c->tree, c->root);
	const char *closed = unittree_closed_on(c->tree, c->root);
	if (strcmp(opened, p->as_of) > 0)
		return fail(c, REPORT_BAD_ARGUMENT, "unit", "unit '%s' opened on %s, after %s",
			    c->root, opened, p->as_of);
	if (closed && strcmp(closed, p->from) <= 0)
		return fail(c, REPORT_BAD_ARGUMENT, "unit", "unit '%s' closed on %s, before %d",
			    c->root, closed, p->year);
	if (closed && strcmp(closed, p->as_of) <= 0) {
		unittree_day_before(closed, p->as_of);
		memcpy(p->to, p->as_of, sizeof p->to);
		p->year_end = 0;
	}
	return REPORT_OK;
}

/* The report keeps the owned strings behind its last figure's pointer-free area: a
 * struct report_strings allocated with the report (see report_alloc). */
struct report_box {
	struct report r;
	struct report_strings strings;
};

int report_build(sqlite3 *db, const char *unit_id, int year, const char *today,
		 struct report **out, struct report_error *err)
{
	struct ctx c = { 0 };
	struct report_box *box = NULL;
	char msg[256];
	int today_year = 0, began = 0, rc;
	c.db = db;
	c.err = err;
	if (err)
		memset(err, 0, sizeof *err);
	if (year < REPORT_MIN_YEAR || year > REPORT_MAX_YEAR) {
		rc = fail(&c, REPORT_BAD_ARGUMENT, "year", "year %d out of range %d..%d", year,
			  REPORT_MIN_YEAR, REPORT_MAX_YEAR);
		goto done;
	}
	if (today && parse_date(today, &today_year) != 0) {
		rc = fail(&c, REPORT_BAD_ARGUMENT, "today", "malformed date '%s'", today);
		goto done;
	}
	if (today && year > today_year) {
		rc = fail(&c, REPORT_BAD_ARGUMENT, "year", "year %d is in the future", year);
		goto done;
	}
	period_init(&c.per[COL_CUR], year, today);
	period_init(&c.per[COL_PREV], year - 1, today);
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			rc = fail_db(&c, "report");
			goto done;
		}
		began = 1;
	}
	if (unittree_load(db, &c.tree, msg, sizeof msg) != 0) {
		rc = fail(&c, REPORT_STORAGE, NULL, "%s", msg);
		goto done;
	}
	if (!unit_id || !*unit_id)
		c.root = unittree_root(c.tree, c.per[COL_CUR].as_of);
	else if (!(c.root = unittree_intern(c.tree, unit_id)))
		c.root = find_code(c.tree, unit_id, &c.per[COL_CUR]);
	if (!c.root) {
		rc = fail(&c, REPORT_UNKNOWN_UNIT, "unit", "unknown unit '%s'",
			  unit_id && *unit_id ? unit_id : "(root)");
		goto done;
	}
	if ((rc = fit_to_unit_life(&c)) != REPORT_OK)
		goto done;
	box = calloc(1, sizeof *box);
	c.rolls = calloc(unittree_count(c.tree) ? unittree_count(c.tree) : 1, sizeof *c.rolls);
	if (!box || !c.rolls) {
		rc = fail_nomem(&c);
		goto done;
	}
	c.r = &box->r;
	c.strings = &box->strings;
	c.r->year = year;
	snprintf(c.r->as_of, sizeof c.r->as_of, "%s", c.per[COL_CUR].as_of);
	snprintf(c.r->previous_as_of, sizeof c.r->previous_as_of, "%s", c.per[COL_PREV].as_of);
	if (!c.per[COL_CUR].year_end)
		snprintf(c.r->closed_on, sizeof c.r->closed_on, "%s", unittree_closed_on(c.tree, c.root));
	if ((rc = fill_units(&c, c.root)) != REPORT_OK || (rc = define_figures(&c)) != REPORT_OK)
		goto done;
	for (size_t i = 0; i < ARRAY_LEN(passes); i++)
		for (int col = COL_CUR; col <= COL_PREV; col++)
			if ((rc = passes[i](&c, col)) != REPORT_OK)
				goto done;
	if ((rc = compute_targets(&c)) != REPORT_OK)
		goto done;
	if (began) {
		began = 0;
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			rc = fail_db(&c, "report");
			goto done;
		}
	}
	*out = &box->r;
	box = NULL;
	rc = REPORT_OK;
done:
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	report_free(box ? &box->r : NULL);
	free(c.rolls);
	unittree_free(c.tree);
	return rc;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	struct report_box *box = (struct report_box *)r; /* r is the first member */
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		free(r->figures[i].total);
		free(r->figures[i].rows);
	}
	for (size_t i = 0; i < r->nrows; i++) {
		free(r->rows[i].name);
		free(r->rows[i].code);
	}
	free(r->rows);
	free(r->unit_name);
	free(r->unit_code);
	for (size_t i = 0; i < box->strings.n; i++)
		free(box->strings.v[i]);
	free(box->strings.v);
	free(box);
}

/* ---- rendering ---- */

/* The headline cell of a figure for a row (-1: the total). */
static const struct report_measure *shown(const struct report *r, size_t fig, int row,
					  size_t m)
{
	const struct report_figure *f = &r->figures[fig];
	return row < 0 ? &f->total[m] : &f->rows[(size_t)row * f->nmeasures + m];
}

/* value/of rounded to 1/scale (scale 10, 100, …), with a decimal point whatever the
 * locale (printf's %f would follow LC_NUMERIC and could write a comma into JSON). */
static const char *fmt_ratio(int64_t value, int64_t of, int64_t scale, char buf[48])
{
	int neg = (value < 0) != (of < 0);
	uint64_t v = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	uint64_t o = of < 0 ? (uint64_t)0 - (uint64_t)of : (uint64_t)of;
	uint64_t sc = (uint64_t)scale, q = o ? (v * sc * 2 + o) / (o * 2) : 0;
	char frac[24];
	size_t nf = 0;
	for (uint64_t k = sc, r = q % sc; k > 1 && nf < sizeof frac - 1; k /= 10, r /= 10)
		frac[nf++] = (char)('0' + r % 10); /* least significant first */
	size_t len = (size_t)snprintf(buf, 48, "%s%" PRIu64 ".", neg && q ? "-" : "", q / sc);
	for (size_t i = 0; i < nf && len + 1 < 48; i++)
		buf[len++] = frac[nf - 1 - i];
	buf[len < 48 ? len : 47] = '\0';
	return buf;
}

/* Integer with Vietnamese thousands dots: 6.123. */
static const char *fmt_int(int64_t v, char buf[32])
{
	char tmp[32];
	int neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, out = 0;
	do {
		if (n && n % 3 == 0)
			tmp[out++] = '.';
		tmp[out++] = (char)('0' + u % 10);
		u /= 10;
		n++;
	} while (u);
	if (neg)
		tmp[out++] = '-';
	for (size_t i = 0; i < out; i++)
		buf[i] = tmp[out - 1 - i];
	buf[out] = '\0';
	return buf;
}

/* Share as a percentage with one decimal and a decimal comma: "95,9%". */
static const char *fmt_share(const struct report_cell *c, char buf[32])
{
	if (c->of <= 0) {
		snprintf(buf, 32, "–");
		return buf;
	}
	int64_t tenths = (c->value * 1000 + c->of / 2) / c->of;
	snprintf(buf, 32, "%" PRId64 ",%" PRId64 "%%", tenths / 10, tenths % 10);
	return buf;
}

/* "667 / 695 (96,0%)" or "6.123"; with "(tách)" when split. */
static const char *fmt_cell(const struct report_cell *c, char buf[128])
{
	char a[32], b[32], s[32];
	if (c->of >= 0)
		snprintf(buf, 128, "%s / %s (%s)%s", fmt_int(c->value, a), fmt_int(c->of, b),
			 fmt_share(c, s), c->split ? " (tách)" : "");
	else
		snprintf(buf, 128, "%s%s", fmt_int(c->value, a), c->split ? " (tách)" : "");
	return buf;
}

static int finish(FILE *f)
{
	return ferror(f) ? REPORT_WRITE : REPORT_OK;
}

/* For a unit closed during the year (r->closed_on set): what its figures cover. */
static const char *closed_note(const struct report *r, char buf[REPORT_NOTE_MAX])
{
	snprintf(buf, REPORT_NOTE_MAX,
		 "Đơn vị thôi hoạt động từ ngày %s (sáp nhập, chia tách hoặc giải thể): số liệu "
		 "năm %d tính đến ngày %s; tập hợp thanh niên, đánh giá xếp loại cuối năm %d "
		 "tính ở đơn vị kế thừa.",
		 r->closed_on, r->year, r->as_of, r->year);
	return buf;
}

int report_write_text(const struct report *r, FILE *f)
{
	char a[128], b[128], t[32], buf_note[REPORT_NOTE_MAX];
	fputs("BÁO CÁO MÔ HÌNH “2 GIAO, 1 LIÊN KẾT”\n", f);
	textout_term(f, r->unit_name);
	if (r->unit_code) {
		fputs(" (mã ", f);
		textout_term(f, r->unit_code);
		fputc(')', f);
	}
	fprintf(f, " — năm %d (tính đến %s; so với năm %d)\n", r->year, r->as_of, r->year - 1);
	if (r->closed_on[0])
		fprintf(f, "%s\n", closed_note(r, buf_note));
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		fprintf(f, "\n%d. %s\n", fg->number, fg->label);
		if (fg->target_note)
			fprintf(f, "   Chỉ tiêu: %s\n", fg->target_note);
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms = shown(r, i, -1, m);
			fprintf(f, "   %s: %s", ms->label, fmt_cell(&ms->value, a));
			if (ms->target >= 0)
				fprintf(f, "; chỉ tiêu %s", fmt_int(ms->target, t));
			if (ms->has_previous)
				fprintf(f, "; năm %d: %s", r->year - 1, fmt_cell(&ms->previous, b));
			fprintf(f, "\n");
		}
		for (size_t row = 0; row < r->nrows; row++) {
			const struct report_measure *ms = shown(r, i, (int)row, 0);
			fputs("     - ", f);
			textout_term(f, r->rows[row].name);
			fprintf(f, ": %s", fmt_cell(&ms->value, a));
			if (ms->target >= 0)
				fprintf(f, "; chỉ tiêu %s", fmt_int(ms->target, t));
			if (ms->has_previous)
				fprintf(f, "; năm %d: %s", r->year - 1, fmt_cell(&ms->previous, b));
			fprintf(f, "\n");
		}
	}
	return finish(f);
}

/* ---- JSON ---- */

static void json_cell_fields(FILE *f, const struct report_cell *c)
{
	char buf[48];
	fprintf(f, "\"value\":%" PRId64 ",\"of\":", c->value);
	if (c->of < 0) {
		fputs("null,\"share\":null", f);
	} else {
		fprintf(f, "%" PRId64 ",\"share\":", c->of);
		if (c->of == 0)
			fputs("null", f);
		else
			fputs(fmt_ratio(c->value, c->of, 10000, buf), f);
	}
	fprintf(f, ",\"split\":%s", c->split ? "true" : "false");
}

/* The fields of a measure inside an object (no braces). */
static void json_measure_fields(FILE *f, const struct report_measure *ms)
{
	json_cell_fields(f, &ms->value);
	fputs(",\"target\":", f);
	if (ms->target < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, ms->target);
	fputs(",\"previous\":", f);
	if (ms->has_previous) {
		fputc('{', f);
		json_cell_fields(f, &ms->previous);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
}

static void json_measures(FILE *f, const struct report *r, size_t fig, int row)
{
	const struct report_figure *fg = &r->figures[fig];
	fputs("\"measures\":[", f);
	for (size_t m = 0; m < fg->nmeasures; m++) {
		const struct report_measure *ms = shown(r, fig, row, m);
		fprintf(f, "%s{\"key\":", m ? "," : "");
		textout_json(f, ms->key);
		fputs(",\"label\":", f);
		textout_json(f, ms->label);
		fputc(',', f);
		json_measure_fields(f, ms);
		fputc('}', f);
	}
	fputc(']', f);
}

int report_write_json(const struct report *r, FILE *f)
{
	fputs("{\"v\":1,\"unit\":", f);
	textout_json(f, r->unit_id);
	fputs(",\"unit_name\":", f);
	textout_json(f, r->unit_name);
	fputs(",\"unit_code\":", f);
	textout_json(f, r->unit_code);
	fprintf(f, ",\"year\":%d,\"as_of\":\"%s\",\"previous_year\":%d,\"previous_as_of\":\"%s\"",
		r->year, r->as_of, r->year - 1, r->previous_as_of);
	if (r->closed_on[0])
		fprintf(f, ",\"closed_on\":\"%s\"", r->closed_on);
	else
		fputs(",\"closed_on\":null", f);
	fputs(",\"units\":[", f);
	for (size_t i = 0; i < r->nrows; i++) {
		fprintf(f, "%s{\"unit\":", i ? "," : "");
		textout_json(f, r->rows[i].id);
		fputs(",\"name\":", f);
		textout_json(f, r->rows[i].name);
		fputs(",\"code\":", f);
		textout_json(f, r->rows[i].code);
		fputc('}', f);
	}
	fputs("],\"figures\":[", f);
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		fprintf(f, "%s{\"number\":%d,\"key\":", i ? "," : "", fg->number);
		textout_json(f, fg->key);
		fputs(",\"label\":", f);
		textout_json(f, fg->label);
		fputs(",\"target_note\":", f);
		textout_json(f, fg->target_note);
		fputc(',', f);
		json_measure_fields(f, &fg->total[0]);
		fputc(',', f);
		json_measures(f, r, i, -1);
		fputs(",\"unit_breakdown\":[", f);
		for (size_t row = 0; row < r->nrows; row++) {
			fprintf(f, "%s{\"unit\":", row ? "," : "");
			textout_json(f, r->rows[row].id);
			fputs(",\"name\":", f);
			textout_json(f, r->rows[row].name);
			fputs(",\"code\":", f);
			textout_json(f, r->rows[row].code);
			fputc(',', f);
			json_measure_fields(f, shown(r, i, (int)row, 0));
			fputc(',', f);
			json_measures(f, r, i, (int)row);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
	return finish(f);
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s)
{
	textout_csv(f, s);
	fputc(',', f);
}

static void csv_num_cells(FILE *f, const struct report_cell *c)
{
	fprintf(f, "%" PRId64 ",", c->value);
	char buf[48];
	if (c->of > 0)
		fprintf(f, "%" PRId64 ",%s,", c->of, fmt_ratio(c->value * 100, c->of, 10, buf));
	else if (c->of >= 0)
		fprintf(f, "%" PRId64 ",,", c->of);
	else
		fputs(",,", f);
}

static void csv_line(FILE *f, const struct report *r, size_t fig, size_t m, int row)
{
	const struct report_figure *fg = &r->figures[fig];
	const struct report_measure *ms = shown(r, fig, row, m);
	fprintf(f, "%d,", fg->number);
	csv_field(f, fg->key);
	csv_field(f, fg->label);
	csv_field(f, ms->label);
	csv_field(f, row < 0 ? r->unit_name : r->rows[row].name);
	csv_field(f, row < 0 ? r->unit_code : r->rows[row].code);
	csv_num_cells(f, &ms->value);
	if (ms->target >= 0)
		fprintf(f, "%" PRId64, ms->target);
	fputc(',', f);
	if (ms->has_previous)
		csv_num_cells(f, &ms->previous);
	else
		fputs(",,,", f);
	int split = ms->value.split || ms->previous.split;
	/* figures 8 and 13 are year-end records: a unit closed in the year has none */
	int year_end = r->closed_on[0] && (fg->number == 8 || fg->number == 13);
	fputs(split ? "tách" : "", f);
	fputs(split && year_end ? "; " : "", f);
	fputs(year_end ? "cuối năm: tính ở đơn vị kế thừa" : "", f);
	fputs("\r\n", f);
}

int report_write_csv(const struct report *r, FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
	fprintf(f,
		"STT,Mã chỉ tiêu,Chỉ tiêu,Nội dung,Đơn vị,Mã đơn vị,Năm %d,Trên tổng số,"
		"Tỷ lệ (%%),Chỉ tiêu giao,Năm %d,Trên tổng số (năm %d),Tỷ lệ (%%) (năm %d),"
		"Ghi chú\r\n",
		r->year, r->year - 1, r->year - 1, r->year - 1);
	for (size_t i = 0; i < REPORT_NFIGURES; i++)
		for (size_t m = 0; m < r->figures[i].nmeasures; m++)
			for (int row = -1; row < (int)r->nrows; row++)
				csv_line(f, r, i, m, row);
	return finish(f);
}

/* ---- shared with report_html.c ---- */

const char *report_fmt_int(int64_t v, char buf[32])
{
	return fmt_int(v, buf);
}

const char *report_fmt_share(const struct report_cell *c, char buf[32])
{
	return fmt_share(c, buf);
}

const char *report_fmt_cell(const struct report_cell *c, char buf[128])
{
	return fmt_cell(c, buf);
}

const char *report_closed_note(const struct report *r, char buf[REPORT_NOTE_MAX])
{
	return closed_note(r, buf);
}

/* ---- formats ---- */

static const struct {
	const char *name;
	enum report_format fmt;
	const char *content_type;
} formats[] = {
	{ "text", REPORT_FORMAT_TEXT, "text/plain; charset=utf-8" },
	{ "json", REPORT_FORMAT_JSON, "application/json" },
	{ "csv", REPORT_FORMAT_CSV, "text/csv; charset=utf-8" },
	{ "html", REPORT_FORMAT_HTML, "text/html; charset=utf-8" },
};

int report_format_parse(const char *name, enum report_format *out)
{
	for (size_t i = 0; name && i < ARRAY_LEN(formats); i++)
		if (strcmp(name, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return 0;
		}
	return -1;
}

const char *report_format_content_type(enum report_format fmt)
{
	for (size_t i = 0; i < ARRAY_LEN(formats); i++)
		if (formats[i].fmt == fmt)
			return formats[i].content_type;
	return "application/octet-stream";
}

int report_write(const struct report *r, enum report_format fmt, FILE *f)
{
	switch (fmt) {
	case REPORT_FORMAT_TEXT: return report_write_text(r, f);
	case REPORT_FORMAT_JSON: return report_write_json(r, f);
	case REPORT_FORMAT_CSV: return report_write_csv(r, f);
	case REPORT_FORMAT_HTML: return report_write_html_page(r, f);
	}
	return REPORT_WRITE;
}

int report_http_status(enum report_code code)
{
	switch (code) {
	case REPORT_OK: return 200;
	case REPORT_BAD_ARGUMENT: return 400;
	case REPORT_UNKNOWN_UNIT: return 404;
	default: return 500;
	}
}

const char *report_code_name(enum report_code code)
{
	switch (code) {
	case REPORT_OK: return "ok";
	case REPORT_BAD_ARGUMENT: return "bad_argument";
	case REPORT_UNKNOWN_UNIT: return "unknown_unit";
	default: return "internal";
	}
}
