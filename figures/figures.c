/*
 * figures.c — the thirteen figures of MODEL.md for a unit subtree and a year, computed
 * from any figures source (figures_source.h): the hub's database or an office's.
 *
 * How a figure is made: aggregate reads per year from the source (rows that exist) —
 * one pass over the meetings feeds figures 1, 3–7, one read each the others — grouped by the unit a record counts for (owning unit, branch or secretary's
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
#include "figures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "unittree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A unit split into more than this many breakdown rows is unheard of; beyond it the
 * extra rows are left out of the breakdown (the total still counts it once). */
#define REPORT_MAX_FANOUT 16
#define FIGURES_VN_OFFSET_S (7 * 3600) /* Asia/Ho_Chi_Minh: UTC+7, no DST */
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
	struct figures_source *src;
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

/* A read of the source failed: its reason (and code) in the message. A read stopped
 * by a callback failed in the callback, which set c->code (or ran out of memory). */
static enum report_code fail_source(struct ctx *c, const char *what, int code,
				    const struct figures_error *fe)
{
	if (code == FIGURES_STOPPED)
		return c->code ? c->code : fail(c, REPORT_NO_MEMORY, NULL,
						"cannot build report: out of memory");
	return fail(c, REPORT_STORAGE, NULL, "cannot compute %s: %s", what, fe->message);
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

/* ---- schema ---- */

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
			 *const K_BRANCH = "branch", *const K_JOINT = "joint";

static void mark(const struct ctx *c, unsigned char *set, const char *unit_id)
{
	long i = unittree_index(c->tree, unit_id);
	if (i >= 0)
		set[i] = 1;
}

/* ---- row handlers: each source row counted where its unit counts ---- */

/* What a row handler needs: the build, the figure and measure, the column. */
struct sum_arg {
	struct ctx *c;
	int number;
	size_t m;
	int col;
};

static int row_count(void *arg, const struct figures_unit_count *r)
{
	const struct sum_arg *a = arg;
	add(a->c, a->number, a->m, a->col, r->unit, r->count, 0);
	return 0;
}

static int row_one(void *arg, const struct figures_unit_id *r)
{
	const struct sum_arg *a = arg;
	add(a->c, a->number, a->m, a->col, r->unit, 1, 0);
	return 0;
}

/* One pass over the meetings of a year feeds figures 1, 3, 4, 5, 6 and 7: meetings
 * grouped by (kind, holding unit, host branch) are few (units × hosts), whatever the
 * number of meetings, so the meeting table is read once per year (the source's
 * meeting_groups). */
struct meeting_pass {
	struct ctx *c;
	int col;
	unsigned char *held;       /* per unit: holds a giao ban or task meeting (figure 1) */
	unsigned char *active;     /* per unit: held or hosted any meeting (figure 7) */
	struct dset hosts;         /* figure 6: distinct host branches */
};

static int row_meeting(void *arg, const struct figures_meeting_group *r)
{
	struct meeting_pass *mp = arg;
	struct ctx *c = mp->c;
	const char *kind = r->kind, *unit = r->unit, *host = r->host;
	int64_t n = r->meetings, attended = r->attended;
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

/* Above this many branches left to check, one set read is cheaper than a look-up per
 * branch (each look-up reads that branch's whole history of participations). */
#define INACTIVE_PROBE_MAX 32

struct mark_arg {
	struct ctx *c;
	unsigned char *set;
};

static int row_mark(void *arg, const struct figures_unit_id *r)
{
	const struct mark_arg *a = arg;
	mark(a->c, a->set, r->unit);
	return 0;
}

/* 7. Branches open during Y that neither held nor took part in any meeting and took
 * part in no activity in Y. The meeting pass has marked the branches that held or
 * hosted a meeting; volunteer activities overlapping Y are one bounded set read
 * (campaigns last weeks, so only activities started in Y−1 or Y are read: one that
 * started earlier and still ran in Y is not seen); the branches still unmarked (few
 * in practice: the target is none) are looked up one by one in the participations,
 * or by one set read over the year's meetings when many. */
static int fig_inactive(struct ctx *c, struct meeting_pass *mp)
{
	const struct period *p = &c->per[mp->col];
	struct figures_source *src = c->src;
	struct figures_error fe = { 0 };
	struct mark_arg ma = { c, mp->active };
	char from_before[11];
	size_t n = unittree_count(c->tree), ncand = 0;
	unsigned char *cand = calloc(n ? n : 1, 1);
	int rc = REPORT_OK, s;
	if (!cand)
		return fail_nomem(c);
	snprintf(from_before, sizeof from_before, "%04u-01-01", (unsigned)(p->year - 1) % 10000u);
	if ((s = src->volunteer_units(src, from_before, p->from, p->to, row_mark, &ma, &fe)) !=
	    FIGURES_OK) {
		rc = fail_source(c, "figure 7", s, &fe);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = unittree_id(c->tree, i);
		if (!open_during(c->tree, id, p) || strcmp(kind_in(c->tree, id, p), "branch") != 0 ||
		    roll_of(c, id)->state != 1)
			continue;
		cand[i] = 1;
		ncand += !mp->active[i];
	}
	if (ncand > INACTIVE_PROBE_MAX) {
		if ((s = src->meeting_participants(src, p->year, p->from, p->to, row_mark, &ma,
						   &fe)) != FIGURES_OK) {
			rc = fail_source(c, "figure 7", s, &fe);
			goto done;
		}
	} else if (ncand > 0) {
		for (size_t i = 0; i < n; i++) {
			int found = 0;
			if (!cand[i] || mp->active[i])
				continue;
			if ((s = src->branch_took_part(src, unittree_id(c->tree, i), p->from, p->to,
						       &found, &fe)) != FIGURES_OK) {
				rc = fail_source(c, "figure 7", s, &fe);
				goto done;
			}
			mp->active[i] = (unsigned char)(found != 0);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (cand[i])
			add(c, 7, 0, mp->col, unittree_id(c->tree, i), !mp->active[i], 1);
done:
	free(cand);
	return rc;
}

/* Figures 1, 3, 4 (meetings), 5, 6 and 7 for one year. */
static int pass_meetings(struct ctx *c, int col)
{
	size_t n = unittree_count(c->tree);
	struct meeting_pass mp = { c, col, calloc(n ? n : 1, 1), calloc(n ? n : 1, 1), { 0 } };
	struct figures_error fe = { 0 };
	const struct period *p = &c->per[col];
	int rc, s;
	if (!mp.held || !mp.active) {
		rc = fail_nomem(c);
		goto done;
	}
	if ((s = c->src->meeting_groups(c->src, p->year, p->from, p->to, row_meeting, &mp, &fe)) !=
	    FIGURES_OK) {
		rc = fail_source(c, "meetings", s, &fe);
		goto done;
	}
	dset_store(c, &mp.hosts, 6, 1, col, 0);
	fig_implementing(c, &mp);
	rc = fig_inactive(c, &mp);
done:
	dset_release(&mp.hosts);
	free(mp.held);
	free(mp.active);
	return rc;
}

/* 2. Branches designated pilot as of Y, under their district. */
static int fig_pilots(struct ctx *c, int col)
{
	struct sum_arg a = { c, 2, 0, col };
	struct figures_error fe = { 0 };
	int s = c->src->pilots(c->src, c->per[col].as_of, row_one, &a, &fe);
	return s == FIGURES_OK ? REPORT_OK : fail_source(c, "figure 2", s, &fe);
}

/* 4. The tasks assigned at the task-assignment meetings of Y. */
static int fig_tasks(struct ctx *c, int col)
{
	struct sum_arg a = { c, 4, 1, col };
	struct figures_error fe = { 0 };
	const struct period *p = &c->per[col];
	int s = c->src->meeting_tasks(c->src, p->year, p->from, p->to, row_count, &a, &fe);
	return s == FIGURES_OK ? REPORT_OK : fail_source(c, "figure 4", s, &fe);
}

/* 8. Youth gathered over youth in the area, from the year-end records of Y. */
static int row_gathering(void *arg, const struct figures_gathering_row *r)
{
	const struct sum_arg *a = arg;
	add(a->c, a->number, a->m, a->col, r->unit, r->gathered, r->in_area);
	return 0;
}

static int fig_gathering(struct ctx *c, int col)
{
	struct sum_arg a = { c, 8, 0, col };
	struct figures_error fe = { 0 };
	if (!c->per[col].year_end)
		return REPORT_OK;
	int s = c->src->gathering(c->src, c->per[col].year, row_gathering, &a, &fe);
	return s == FIGURES_OK ? REPORT_OK : fail_source(c, "figure 8", s, &fe);
}

/* 9. Volunteer activities started in Y: participations, teams, activities; by kind. */
static int row_volunteer(void *arg, const struct figures_volunteer_group *r)
{
	const struct sum_arg *a = arg;
	struct ctx *c = a->c;
	int col = a->col;
	int k = enum_index(column("volunteer", "kind"), r->kind);
	add(c, 9, 0, col, r->unit, r->participations, 0);
	add(c, 9, 1, col, r->unit, r->teams, 0);
	add(c, 9, 2, col, r->unit, r->activities, 0);
	if (k >= 0) {
		add(c, 9, 3 + 2 * (size_t)k, col, r->unit, r->participations, 0);
		add(c, 9, 4 + 2 * (size_t)k, col, r->unit, r->teams, 0);
	}
	return 0;
}

static int fig_volunteer(struct ctx *c, int col)
{
	struct sum_arg a = { c, 9, 0, col };
	struct figures_error fe = { 0 };
	int s = c->src->volunteer_groups(c->src, c->per[col].from, c->per[col].to, row_volunteer,
					 &a, &fe);
	return s == FIGURES_OK ? REPORT_OK : fail_source(c, "figure 9", s, &fe);
}

/* 10. Secretaries (on the date) introduced to the Party in Y; admitted in Y. */
struct party_arg {
	struct ctx *c;
	struct dset d[2];
};

static int row_party(void *arg, const struct figures_party_row *r)
{
	struct party_arg *a = arg;
	if (!r->step)
		return 0;
	int k = strcmp(r->step, "introduced") == 0 ? 0 : strcmp(r->step, "admitted") == 0 ? 1 : -1;
	return k < 0 ? 0 : dset_add(a->c, &a->d[k], r->branch, r->person);
}

static int fig_party(struct ctx *c, int col)
{
	struct party_arg a = { c, { { 0 }, { 0 } } };
	struct figures_error fe = { 0 };
	int rc = REPORT_OK,
	    s = c->src->party_steps(c->src, c->per[col].from, c->per[col].to, row_party, &a, &fe);
	if (s != FIGURES_OK)
		rc = fail_source(c, "figure 10", s, &fe);
	if (rc == REPORT_OK) {
		dset_store(c, &a.d[0], 10, 0, col, 0);
		dset_store(c, &a.d[1], 10, 1, col, 0);
	}
	dset_release(&a.d[0]);
	dset_release(&a.d[1]);
	return rc;
}

/* 11. Secretaries in office as of Y with an insurance card valid as of Y. */
struct insured_arg {
	struct ctx *c;
	struct dset d[2]; /* [0] insured, [1] all */
};

static int row_insured(void *arg, const struct figures_secretary_row *r)
{
	struct insured_arg *a = arg;
	if (r->insured && dset_add(a->c, &a->d[0], r->branch, r->person) != 0)
		return -1;
	return dset_add(a->c, &a->d[1], r->branch, r->person);
}

static int fig_insurance(struct ctx *c, int col)
{
	struct insured_arg a = { c, { { 0 }, { 0 } } };
	struct figures_error fe = { 0 };
	int rc = REPORT_OK, s = c->src->secretaries(c->src, c->per[col].as_of, row_insured, &a, &fe);
	if (s != FIGURES_OK)
		rc = fail_source(c, "figure 11", s, &fe);
	if (rc == REPORT_OK) {
		dset_store(c, &a.d[0], 11, 0, col, 0);
		dset_store(c, &a.d[1], 11, 0, col, 1);
	}
	dset_release(&a.d[0]);
	dset_release(&a.d[1]);
	return rc;
}

/* 12. Distinct secretaries supported in Y (any kind, by kind) and loan amounts. */
struct support_arg {
	struct ctx *c;
	int col;
	size_t nkinds;
	struct dset *d; /* [0] any kind, [1 + k] kind k */
};

static int row_support(void *arg, const struct figures_support_row *r)
{
	struct support_arg *a = arg;
	int k = enum_index(column("support", "kind"), r->kind);
	if (dset_add(a->c, &a->d[0], r->branch, r->person) != 0)
		return -1;
	if (k >= 0 && dset_add(a->c, &a->d[1 + k], r->branch, r->person) != 0)
		return -1;
	if (r->kind && strcmp(r->kind, "loan") == 0)
		add(a->c, 12, 1 + a->nkinds, a->col, r->branch, r->amount_vnd, 0);
	return 0;
}

static int fig_support(struct ctx *c, int col)
{
	size_t nk = enum_count(column("support", "kind"));
	struct support_arg a = { c, col, nk, calloc(nk + 1, sizeof(struct dset)) };
	struct figures_error fe = { 0 };
	int rc = REPORT_OK, s;
	if (!a.d)
		return fail_nomem(c);
	s = c->src->support(c->src, c->per[col].from, c->per[col].to, row_support, &a, &fe);
	if (s != FIGURES_OK)
		rc = fail_source(c, "figure 12", s, &fe);
	for (size_t k = 0; k <= nk; k++) {
		if (rc == REPORT_OK)
			dset_store(c, &a.d[k], 12, k, col, 0);
		dset_release(&a.d[k]);
	}
	free(a.d);
	return rc;
}

/* 13. Branches rated for Y: completed or better, excellent or good (by rank). */
static int row_rating(void *arg, const struct figures_rating_row *r)
{
	const struct sum_arg *a = arg;
	const struct schema_column *rc = column("year_record", "rating");
	const struct schema_enum_value *v = schema_enum_find(rc, r->rating);
	const struct schema_enum_value *done = schema_enum_find(rc, "hoan_thanh");
	const struct schema_enum_value *good = schema_enum_find(rc, "tot");
	int rank = v ? v->rank : 0;
	int64_t n = r->count;
	add(a->c, 13, 0, a->col, r->unit, done && rank >= done->rank ? n : 0, n);
	add(a->c, 13, 1, a->col, r->unit, good && rank >= good->rank ? n : 0, n);
	return 0;
}

static int fig_rating(struct ctx *c, int col)
{
	struct sum_arg a = { c, 13, 0, col };
	struct figures_error fe = { 0 };
	if (!c->per[col].year_end)
		return REPORT_OK;
	int s = c->src->ratings(c->src, c->per[col].year, row_rating, &a, &fe);
	return s == FIGURES_OK ? REPORT_OK : fail_source(c, "figure 13", s, &fe);
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

int figures_build(struct figures_source *src, const char *unit_id, int year, const char *today,
		  struct report **out, struct report_error *err)
{
	struct ctx c = { 0 };
	struct report_box *box = NULL;
	struct figures_error fe = { 0 };
	char msg[256];
	int today_year = 0, reading = 0, rc;
	c.src = src;
	c.err = err;
	if (err)
		memset(err, 0, sizeof *err);
	if (figures_source_check(src, &fe) != FIGURES_OK) {
		rc = fail(&c, REPORT_STORAGE, NULL, "cannot compute report: %s", fe.message);
		goto done;
	}
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
	if (src->read_begin(src, &fe) != FIGURES_OK) {
		rc = fail(&c, REPORT_STORAGE, NULL, "cannot compute report: %s", fe.message);
		goto done;
	}
	reading = 1;
	if (unittree_load(src, &c.tree, msg, sizeof msg) != 0) {
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
	*out = &box->r;
	box = NULL;
	rc = REPORT_OK;
done:
	if (reading)
		src->read_end(src);
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

void figures_vn_date(int64_t unix_ms, char out[11])
{
	int64_t s = unix_ms / 1000 + FIGURES_VN_OFFSET_S;
	int64_t day = s / 86400 - (s % 86400 < 0); /* floor, for a clock before 1970 */
	unittree_date_of_day((long)day, out);
}
