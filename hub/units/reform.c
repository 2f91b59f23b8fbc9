/*
 * reform.c — reforms as the hub's own changes (see reform.h for the rules).
 *
 * Every write goes through changes_apply_hub, one entry at a time, so a reform is
 * merged, journaled (hub_seq), flagged and pulled like any other change. Dated rows are
 * found with store->unit_dated_rows and only ever ended (valid_to) or, when they never
 * held, removed. Owns nothing between calls.
 */
#include "reform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"
#include "ids.h"
#include "units.h"
#include "validate.h"

#define REFORM_CSV_LINE 2048   /* longest conversion-file line accepted */
#define REFORM_MAX_LINES 20000 /* a province's conversion has a few thousand lines */
#define REFORM_MAX_PARTS 16    /* parts of one split */

static int bad(struct reform *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct reform *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->code = REFORM_BAD;
	return -1;
}

static int failed(struct reform *r, const char *what)
{
	snprintf(r->err, sizeof r->err, "cannot %s: storage failure", what);
	r->code = REFORM_FAIL;
	return -1;
}

static struct value text(const char *s)
{
	struct value v = { .kind = s ? VALUE_TEXT : VALUE_NULL };
	if (s) {
		v.s = s;
		v.len = strlen(s);
	}
	return v;
}

/* A real calendar date YYYY-MM-DD; the day before it into before. 0 or -1. */
static int date_check(const char *d, char before[11])
{
	struct tm tm = { 0 };
	int y, m, day;
	char tail;
	if (strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &tail) != 3 || d[4] != '-' ||
	    d[7] != '-')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = day;
	tm.tm_hour = 12;
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 ||
	    back.tm_mon != m - 1 || back.tm_mday != day)
		return -1;
	t -= 86400;
	if (!gmtime_r(&t, &back))
		return -1;
	strftime(before, 11, "%Y-%m-%d", &back);
	return 0;
}

/* One hub write; REFORM_BAD when validation refuses it. */
static int put(struct reform *r, const char *table, char op, const char *id, const char *owner,
	       struct field *f, size_t nf)
{
	struct entry e = { .table = table, .id = id, .op = op, .owner = owner, .fields = f,
			   .nfields = nf };
	struct validate_status vs;
	int rc = changes_apply_hub(r->s, &e, r->now_ms, &vs);
	if (rc > 0)
		return bad(r, "%s row refused: %s", table, vs.message);
	if (rc < 0)
		return failed(r, "write the reform");
	return 0;
}

static int new_id(struct reform *r, char id[37])
{
	if (ids_uuid7(r->now_ms, id) != 0) {
		snprintf(r->err, sizeof r->err, "cannot make an id: random source failed");
		r->code = REFORM_FAIL;
		return -1;
	}
	return 0;
}

/* Event ids increase in the order events are written, also within one millisecond
 * (UUIDv7 is random there): "the first recorded" successor (unittree.h) is the
 * smallest id. The last 12 hex digits (random bits) are bumped past the previous id. */
static int event_id(struct reform *r, char id[37])
{
	if (new_id(r, id) != 0)
		return -1;
	if (r->last_event[0] && strcmp(id, r->last_event) <= 0) {
		memcpy(id, r->last_event, 37);
		for (int i = 35; i >= 24; i--) {
			char *c = &id[i];
			if (*c == 'f') {
				*c = '0';
				continue;
			}
			*c = *c == '9' ? 'a' : (char)(*c + 1);
			break;
		}
	}
	memcpy(r->last_event, id, 37);
	return 0;
}

static int event(struct reform *r, const char *kind, const char *unit, const char *other,
		 const char *note)
{
	char id[37];
	struct field f[] = {
		{ "kind", text(kind) },          { "of_unit", text(unit) },
		{ "other_unit", text(other) },   { "effective_on", text(r->on) },
		{ "note", text(note) },
	};
	if (event_id(r, id) != 0 || put(r, "unit_event", 'i', id, r->root, f, 5) != 0)
		return -1;
	r->events++;
	return 0;
}

/* ---- reading the tree ---- */

struct root_find {
	char id[37];
	int province;
};

static int find_root(void *ctx, const struct store_unit_info *u)
{
	struct root_find *R = ctx;
	if (u->parent_id || !u->id || !u->name)
		return 0;
	int prov = u->kind && strcmp(u->kind, "province") == 0;
	if (!R->id[0] || (prov && !R->province) || (prov == R->province && strcmp(u->id, R->id) < 0)) {
		snprintf(R->id, sizeof R->id, "%s", u->id);
		R->province = prov;
	}
	return 0;
}

int reform_init(struct reform *r, struct store *s, const char *on, int64_t now_ms)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->now_ms = now_ms;
	if (!on || date_check(on, r->before) != 0)
		return bad(r, "'%s' is not a date (YYYY-MM-DD)", on ? on : "");
	snprintf(r->on, sizeof r->on, "%s", on);
	struct root_find R = { "", 0 };
	if (s->units_list(s, r->before, find_root, &R) != 0)
		return failed(r, "read the units");
	if (!R.id[0] && s->units_list(s, r->on, find_root, &R) != 0)
		return failed(r, "read the units");
	if (!R.id[0])
		return bad(r, "the hub has no units (run `lienket-hub init --units` or `units import`)");
	snprintf(r->root, sizeof r->root, "%s", R.id);
	return 0;
}

int reform_resolve(struct reform *r, const char *txt, const char *date, char id[37])
{
	if (ids_uuid_valid(txt)) {
		int k = r->s->unit_known(r->s, txt);
		if (k < 0)
			return failed(r, "read the units");
		if (k == 1) {
			snprintf(id, 37, "%s", txt);
			return 0;
		}
		return bad(r, "unknown unit '%s'", txt);
	}
	int k = r->s->unit_by_code(r->s, txt, date, id);
	if (k < 0)
		return failed(r, "read the units");
	if (k == 1)
		return bad(r, "no unit has the code '%s' on %s (see `lienket-hub units list --on %s`)",
			   txt, date, date);
	return 0;
}

/* Dated rows of a unit not ended before r->on. */
struct dated {
	struct { char id[37], from[11], owner[37]; } v[64];
	size_t n;
};

static int collect_dated(void *ctx, const char *id, const char *from, const char *owner)
{
	struct dated *D = ctx;
	if (D->n == sizeof D->v / sizeof D->v[0])
		return 1;
	snprintf(D->v[D->n].id, 37, "%s", id);
	snprintf(D->v[D->n].from, 11, "%s", from);
	snprintf(D->v[D->n].owner, 37, "%s", owner);
	D->n++;
	return 0;
}

static int dated_rows(struct reform *r, const char *table, const char *unit, struct dated *D)
{
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	D->n = 0;
	int rc = t ? r->s->unit_dated_rows(r->s, t, unit, r->on, collect_dated, D) : -1;
	if (rc == 1)
		return bad(r, "unit %s has too many %s rows", unit, table);
	return rc != 0 ? failed(r, "read the units") : 0;
}

/* Ends the unit's rows of `table` that hold on r->on: valid_to = the day before; a
 * row beginning on or after r->on never held and is removed. Writes the owner of the
 * last row ended into owner (when given and one was found). */
static int end_rows(struct reform *r, const char *table, const char *unit, char owner[37])
{
	struct dated D;
	if (dated_rows(r, table, unit, &D) != 0)
		return -1;
	for (size_t i = 0; i < D.n; i++) {
		if (owner)
			snprintf(owner, 37, "%s", D.v[i].owner);
		if (strcmp(D.v[i].from, r->on) >= 0) {
			if (put(r, table, 'd', D.v[i].id, D.v[i].owner, NULL, 0) != 0)
				return -1;
			continue;
		}
		struct field f[] = { { "valid_to", text(r->before) } };
		if (put(r, table, 'u', D.v[i].id, D.v[i].owner, f, 1) != 0)
			return -1;
	}
	return 0;
}

/* The owner of a unit's `unit` row (its name and links follow it). */
static int unit_owner(struct reform *r, const char *unit, char owner[37])
{
	const struct schema_table *t = schema_table_find("unit", SCHEMA_VERSION);
	struct merge_row row;
	if (!t || merge_row_init(&row, t, unit, NULL) != 0)
		return failed(r, "read the units");
	int k = r->s->row_read(r->s, &row);
	if (k == 0)
		snprintf(owner, 37, "%s", row.owner);
	merge_row_release(&row);
	if (k < 0)
		return failed(r, "read the units");
	if (k == 1 || !owner[0])
		return bad(r, "unknown unit '%s'", unit);
	return 0;
}

static int must_be_open(struct reform *r, const char *unit)
{
	char succ[37] = "";
	int k = r->s->unit_closed(r->s, unit, r->on, succ);
	if (k < 0)
		return failed(r, "read the units");
	if (k == 1)
		return bad(r, "unit %s is already closed on %s", unit, r->on);
	return 0;
}

/* The name row of unit that holds on the day before r->on (else the latest one). */
struct name_now {
	char name[201], code[21], kind[16];
	int found;
};

static int current_name(struct reform *r, const char *unit, struct name_now *out)
{
	const struct schema_table *t = schema_table_find("unit_name", SCHEMA_VERSION);
	struct dated D;
	memset(out, 0, sizeof *out);
	if (!t)
		return failed(r, "read the units");
	if (dated_rows(r, "unit_name", unit, &D) != 0)
		return -1;
	if (D.n == 0)
		return 0;
	size_t pick = D.n - 1;
	for (size_t i = D.n; i-- > 0;)
		if (strcmp(D.v[i].from, r->on) < 0) {
			pick = i;
			break;
		}
	struct merge_row row;
	if (merge_row_init(&row, t, D.v[pick].id, NULL) != 0)
		return failed(r, "read the units");
	int k = r->s->row_read(r->s, &row);
	if (k == 0) {
		static const char *const cols[] = { "name", "code", "kind" };
		char *dst[] = { out->name, out->code, out->kind };
		size_t len[] = { sizeof out->name, sizeof out->code, sizeof out->kind };
		for (size_t c = 0; c < 3; c++) {
			const struct schema_column *sc = schema_column_find(t, cols[c], SCHEMA_VERSION);
			const struct value *v = sc ? &row.cells[schema_column_index(t, sc)].v : NULL;
			snprintf(dst[c], len[c], "%s", v && v->kind == VALUE_TEXT ? v->s : "");
		}
		out->found = 1;
	}
	merge_row_release(&row);
	return k < 0 ? failed(r, "read the units") : 0;
}

/* ---- operations ---- */

static int name_row(struct reform *r, const char *unit, const char *owner, const char *name,
		    const char *code, const char *kind)
{
	char id[37];
	struct field f[] = {
		{ "of_unit", text(unit) },  { "name", text(name) },
		{ "code", text(code && *code ? code : NULL) }, { "kind", text(kind) },
		{ "valid_from", text(r->on) }, { "valid_to", text(NULL) },
	};
	return new_id(r, id) != 0 ? -1 : put(r, "unit_name", 'i', id, owner, f, 6);
}

static int link_row(struct reform *r, const char *unit, const char *owner, const char *parent)
{
	char id[37];
	struct field f[] = {
		{ "of_unit", text(unit) }, { "parent_id", text(parent) },
		{ "valid_from", text(r->on) }, { "valid_to", text(NULL) },
	};
	return new_id(r, id) != 0 ? -1 : put(r, "unit_parent", 'i', id, owner, f, 4);
}

int reform_open(struct reform *r, const char *name, const char *code, const char *kind,
		const char *parent, char id[37])
{
	if (!name || !*name || !kind)
		return bad(r, "a new unit needs a name and a kind");
	if (parent && must_be_open(r, parent) != 0)
		return -1;
	if (new_id(r, id) != 0)
		return -1;
	const char *owner = r->root[0] ? r->root : id;
	struct field uf[] = { { "opened_on", text(r->on) } };
	if (put(r, "unit", 'i', id, owner, uf, 1) != 0 || name_row(r, id, owner, name, code, kind) != 0 ||
	    (parent && link_row(r, id, owner, parent) != 0) || event(r, "open", id, parent, NULL) != 0)
		return -1;
	r->units_opened++;
	return 0;
}

int reform_rename(struct reform *r, const char *unit, const char *name, const char *code,
		  const char *kind, const char *note)
{
	struct name_now cur;
	char owner[37] = "";
	if (!name || !*name)
		return bad(r, "rename needs a new name");
	if (must_be_open(r, unit) != 0 || current_name(r, unit, &cur) != 0)
		return -1;
	if (!cur.found && !kind)
		return bad(r, "unit %s has no name to keep the kind from: give --kind", unit);
	if (end_rows(r, "unit_name", unit, owner) != 0)
		return -1;
	if (!owner[0] && unit_owner(r, unit, owner) != 0)
		return -1;
	if (name_row(r, unit, owner, name, code ? code : cur.code, kind ? kind : cur.kind) != 0)
		return -1;
	char auto_note[512];
	if (!note) {
		snprintf(auto_note, sizeof auto_note, "%s%s%s -> %s%s%s", cur.name,
			 cur.code[0] ? " " : "", cur.code, name, (code ? code : cur.code)[0] ? " " : "",
			 code ? code : cur.code);
		note = auto_note;
	}
	return event(r, "rename", unit, NULL, note);
}

int reform_move(struct reform *r, const char *unit, const char *parent)
{
	struct units_scope sc = { 0 };
	char owner[37] = "";
	if (strcmp(unit, parent) == 0)
		return bad(r, "a unit cannot be its own parent");
	if (must_be_open(r, unit) != 0 || must_be_open(r, parent) != 0)
		return -1;
	if (units_scope_compute(r->s, unit, r->on, &sc) != 0)
		return failed(r, "read the units");
	int below = units_scope_contains(&sc, parent);
	units_scope_release(&sc);
	if (below)
		return bad(r, "unit %s is below %s: the move would make a cycle", parent, unit);
	if (end_rows(r, "unit_parent", unit, owner) != 0)
		return -1;
	if (!owner[0] && unit_owner(r, unit, owner) != 0)
		return -1;
	return link_row(r, unit, owner, parent) != 0 ? -1 : event(r, "move", unit, parent, NULL);
}

/* A closed unit's name and links end the day before. */
static int end_unit(struct reform *r, const char *unit)
{
	return end_rows(r, "unit_name", unit, NULL) != 0 || end_rows(r, "unit_parent", unit, NULL) != 0
		       ? -1 : 0;
}

int reform_merge(struct reform *r, const char *unit, const char *into)
{
	if (strcmp(unit, into) == 0)
		return bad(r, "a unit cannot be merged into itself");
	if (must_be_open(r, unit) != 0 || must_be_open(r, into) != 0)
		return -1;
	return event(r, "merge", unit, into, NULL) != 0 ? -1 : end_unit(r, unit);
}

int reform_split(struct reform *r, const char *unit, const char *const *parts, size_t nparts)
{
	int lives_on = 0;
	if (nparts < 2 && !(nparts == 1 && strcmp(parts[0], unit) != 0))
		return bad(r, "a split needs the units it is split into");
	if (must_be_open(r, unit) != 0)
		return -1;
	for (size_t i = 0; i < nparts; i++) {
		if (strcmp(parts[i], unit) == 0) {
			lives_on = 1;
			continue;
		}
		if (must_be_open(r, parts[i]) != 0)
			return -1;
	}
	/* The part that lives on first, so the unit never reads as closed in between. */
	if (lives_on && event(r, "split", unit, unit, NULL) != 0)
		return -1;
	for (size_t i = 0; i < nparts; i++)
		if (strcmp(parts[i], unit) != 0 && event(r, "split", unit, parts[i], NULL) != 0)
			return -1;
	return lives_on ? 0 : end_unit(r, unit);
}

int reform_close(struct reform *r, const char *unit, const char *successor, const char *note)
{
	if (successor && strcmp(successor, unit) == 0)
		return bad(r, "a unit cannot succeed itself");
	if (must_be_open(r, unit) != 0 || (successor && must_be_open(r, successor) != 0))
		return -1;
	return event(r, "close", unit, successor, note) != 0 ? -1 : end_unit(r, unit);
}

/* ---- the conversion file ---- */

enum { F_PROV, F_PROV_CODE, F_NEW, F_NEW_CODE, F_OLD, F_OLD_CODE, F_HOW, F_DIST, F_DIST_CODE, F_N };

static const char *const conv_header[F_N] = {
	"new_province", "new_province_code", "new_commune", "new_commune_code", "old_commune",
	"old_commune_code", "how", "old_district", "old_district_code",
};

struct conv_line {
	char *f[F_N];
	char old_id[37];
	char new_id[37];
};

struct conv {
	struct conv_line *v;
	size_t n;
	char **texts;
};

static void conv_free(struct conv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->texts[i]);
	free(c->texts);
	free(c->v);
}

static int conv_read(struct reform *r, const char *path, struct conv *c)
{
	char line[REFORM_CSV_LINE];
	size_t lineno = 0;
	int rc = -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		/* -1 spelt out: the analyzer does not inline variadic bad(), so it could not
		 * see that a failed open never reaches the caller's use of c->v. */
		bad(r, "cannot open '%s'", path);
		return -1;
	}
	c->v = calloc(REFORM_MAX_LINES, sizeof *c->v);
	c->texts = calloc(REFORM_MAX_LINES, sizeof *c->texts);
	if (!c->v || !c->texts) {
		snprintf(r->err, sizeof r->err, "out of memory");
		r->code = REFORM_FAIL;
		goto done;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f)) {
			bad(r, "'%s' line %zu: line too long", path, lineno);
			goto done;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *p = line;
		if (lineno == 1 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
		    (unsigned char)p[2] == 0xbf)
			p += 3;
		if (!*p)
			continue;
		if (c->n == REFORM_MAX_LINES) {
			bad(r, "'%s': more than %d lines", path, REFORM_MAX_LINES);
			goto done;
		}
		char *copy = strdup(p);
		if (!copy) {
			snprintf(r->err, sizeof r->err, "out of memory");
			r->code = REFORM_FAIL;
			goto done;
		}
		char *fl[F_N + 1];
		size_t n = units_csv_split(copy, fl, F_N + 1);
		if (lineno == 1) {
			int ok = n == F_N;
			for (size_t i = 0; ok && i < F_N; i++)
				ok = strcmp(fl[i], conv_header[i]) == 0;
			free(copy);
			if (!ok) {
				bad(r, "'%s': expected the header new_province,new_province_code,new_commune,"
				       "new_commune_code,old_commune,old_commune_code,how,old_district,"
				       "old_district_code", path);
				goto done;
			}
			continue;
		}
		c->texts[c->n] = copy;
		struct conv_line *L = &c->v[c->n++];
		if (n != F_N || !fl[F_NEW][0] || !fl[F_NEW_CODE][0] || !fl[F_OLD_CODE][0] ||
		    !fl[F_PROV][0] || (strcmp(fl[F_HOW], "whole") != 0 && strcmp(fl[F_HOW], "part") != 0)) {
			bad(r, "'%s' line %zu: expected 9 fields with codes and how = whole or part",
			    path, lineno);
			goto done;
		}
		memcpy(L->f, fl, sizeof L->f);
	}
	if (c->n == 0) {
		bad(r, "'%s' has no lines", path);
		goto done;
	}
	rc = 0;
done:
	fclose(f);
	return rc;
}

/* 1 when id is the old commune of some line. */
static int is_old(const struct conv *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].old_id, id) == 0)
			return 1;
	return 0;
}

int reform_import(struct reform *r, const char *path, struct reform_summary *sum)
{
	struct conv c = { 0 };
	int rc = -1;
	memset(sum, 0, sizeof *sum);
	if (conv_read(r, path, &c) != 0)
		goto done;
	/* Old communes, as they were the day before. */
	for (size_t i = 0; i < c.n; i++) {
		struct conv_line *L = &c.v[i];
		if (reform_resolve(r, L->f[F_OLD_CODE], r->before, L->old_id) != 0) {
			char why[sizeof r->err];
			memcpy(why, r->err, sizeof why);
			bad(r, "old commune %s (%s): %s", L->f[F_OLD_CODE], L->f[F_OLD], why);
			goto done;
		}
		char succ[37];
		int k = r->s->unit_closed(r->s, L->old_id, r->on, succ);
		if (k < 0) {
			failed(r, "read the units");
			goto done;
		}
		if (k == 1) {
			bad(r, "old commune %s (%s) is already closed on %s: was this file applied?",
			    L->f[F_OLD_CODE], L->f[F_OLD], r->on);
			goto done;
		}
	}
	/* New communes: a unit holding the code on the date that is not an old commune is
	 * one made before (reused); otherwise a new unit. */
	for (size_t i = 0; i < c.n; i++) {
		struct conv_line *L = &c.v[i];
		for (size_t j = 0; j < i && !L->new_id[0]; j++)
			if (strcmp(c.v[j].f[F_NEW_CODE], L->f[F_NEW_CODE]) == 0)
				snprintf(L->new_id, sizeof L->new_id, "%s", c.v[j].new_id);
		if (L->new_id[0])
			continue;
		char found[37];
		int k = r->s->unit_by_code(r->s, L->f[F_NEW_CODE], r->on, found);
		if (k < 0) {
			failed(r, "read the units");
			goto done;
		}
		if (k == 0 && !is_old(&c, found)) {
			snprintf(L->new_id, sizeof L->new_id, "%s", found);
			sum->reused_units++;
			continue;
		}
		if (reform_open(r, L->f[F_NEW], L->f[F_NEW_CODE], "commune", r->root, L->new_id) != 0)
			goto done;
		sum->new_units++;
	}
	/* Old communes: whole -> merge; part -> split among every new commune listing it. */
	for (size_t i = 0; i < c.n; i++) {
		struct conv_line *L = &c.v[i];
		int first = 1;
		for (size_t j = 0; j < i && first; j++)
			if (strcmp(c.v[j].old_id, L->old_id) == 0)
				first = 0;
		if (!first)
			continue;
		if (strcmp(L->f[F_HOW], "whole") == 0) {
			if (reform_merge(r, L->old_id, L->new_id) != 0)
				goto done;
			sum->merged++;
			continue;
		}
		const char *parts[REFORM_MAX_PARTS];
		size_t np = 0;
		for (size_t j = i; j < c.n; j++) {
			if (strcmp(c.v[j].old_id, L->old_id) != 0)
				continue;
			if (np == REFORM_MAX_PARTS) {
				bad(r, "old commune %s is split into too many parts", L->f[F_OLD_CODE]);
				goto done;
			}
			parts[np++] = c.v[j].new_id;
		}
		if (reform_split(r, L->old_id, parts, np) != 0)
			goto done;
		sum->split++;
	}
	/* The district level: every old district closed, with no successor. */
	for (size_t i = 0; i < c.n; i++) {
		struct conv_line *L = &c.v[i];
		if (!L->f[F_DIST_CODE][0])
			continue;
		int first = 1;
		for (size_t j = 0; j < i && first; j++)
			if (strcmp(c.v[j].f[F_DIST_CODE], L->f[F_DIST_CODE]) == 0)
				first = 0;
		if (!first)
			continue;
		char dist[37], succ[37];
		if (reform_resolve(r, L->f[F_DIST_CODE], r->before, dist) != 0)
			goto done;
		int k = r->s->unit_closed(r->s, dist, r->on, succ);
		if (k < 0) {
			failed(r, "read the units");
			goto done;
		}
		if (k == 1)
			continue;
		if (reform_close(r, dist, NULL, "district level removed by the reform") != 0)
			goto done;
		sum->districts_closed++;
	}
	/* The province: the hub's root takes the new name and code (it keeps its id). */
	struct name_now cur;
	if (current_name(r, r->root, &cur) != 0)
		goto done;
	if (strcmp(cur.name, c.v[0].f[F_PROV]) != 0 || strcmp(cur.code, c.v[0].f[F_PROV_CODE]) != 0) {
		char note[512];
		snprintf(note, sizeof note, "%s (%s) became part of %s (%s)", cur.name, cur.code,
			 c.v[0].f[F_PROV], c.v[0].f[F_PROV_CODE]);
		if (reform_rename(r, r->root, c.v[0].f[F_PROV], c.v[0].f[F_PROV_CODE], NULL, note) != 0)
			goto done;
		sum->province_renamed = 1;
	}
	rc = 0;
done:
	conv_free(&c);
	return rc;
}
