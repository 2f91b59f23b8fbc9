/*
 * correct.c — corrections from the province (see correct.h).
 *
 * Arguments and values are read by protocol/fieldarg.h, the parser the agent's
 * add/set use too ("" is null, booleans accept có/không/true/false, integers are
 * strict decimal, each value checked with validate_value); the entry is then validated
 * again as a whole by changes_apply_hub (validate_entry), so a correction can never
 * hold what an office's change could not. Table and column names come only from schema_tables[].
 */
#include "correct.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "fieldarg.h"
#include "ids.h"
#include "reform.h"
#include "units.h"
#include "validate.h"

#define CORRECT_MAX_COLUMNS 32 /* the widest table has 12 columns */

static int refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CORRECT_REFUSED;
}

static int failed(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "cannot %s: storage failure", what);
	return CORRECT_FAILED;
}

static int same_value(const struct value *a, const struct value *b)
{
	if (a->kind == VALUE_NULL || b->kind == VALUE_NULL)
		return a->kind == b->kind;
	if (a->kind == VALUE_TEXT || b->kind == VALUE_TEXT)
		return a->kind == b->kind && a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	return a->i == b->i;
}

/* The owning unit named by `unit_id=` (an id, or a code valid today). */
static int resolve_owner(struct store *s, const char *text, int64_t now_ms, char owner[37],
			 char *err, size_t errlen)
{
	char today[11];
	units_today(now_ms, today);
	if (ids_uuid_valid(text)) {
		int k = s->unit_known(s, text);
		if (k < 0)
			return failed(err, errlen, "read the units");
		if (k == 0)
			return refuse(err, errlen, "unknown unit '%s'", text);
		snprintf(owner, 37, "%s", text);
		return CORRECT_OK;
	}
	int k = s->unit_by_code(s, text, today, owner);
	if (k < 0)
		return failed(err, errlen, "read the units");
	if (k == 1)
		return refuse(err, errlen, "no unit has the code '%s' today (see `lienket-hub units list`)", text);
	return CORRECT_OK;
}

int correct_apply(struct store *s, enum correct_op op, const char *table, const char *id,
		  const char *const *args, size_t nargs, int64_t now_ms, char out_id[37],
		  int *changed, char *err, size_t errlen)
{
	const char *txt[CORRECT_MAX_COLUMNS] = { 0 };
	struct value v[CORRECT_MAX_COLUMNS];
	struct field f[CORRECT_MAX_COLUMNS];
	struct merge_row row = { 0 };
	char owner[37] = "", rid[37] = "";
	size_t nf = 0;
	int rc = CORRECT_FAILED, have_row = 0;
	*changed = 0;
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	if (!t)
		return refuse(err, errlen, "unknown table '%s' (see `lienket-hub schema`)", table);
	if (t->ncolumns > CORRECT_MAX_COLUMNS)
		return failed(err, errlen, "handle a table this wide");
	if (op == CORRECT_RM && nargs)
		return refuse(err, errlen, "rm takes a table and an id only");
	if (op == CORRECT_SET && nargs == 0)
		return refuse(err, errlen, "nothing to set: give field=value");
	for (size_t k = 0; k < nargs; k++) {
		struct fieldarg_status fs;
		switch (fieldarg_put(t, args[k], 0, txt, &fs)) {
		case FIELDARG_OK:
			break;
		case FIELDARG_UNKNOWN_FIELD:
			return refuse(err, errlen, "table %s has no field '%s'", t->name, fs.name);
		case FIELDARG_ID_NOT_FIELD:
			return refuse(err, errlen, "the id is not a field: it is made for add, given for set");
		case FIELDARG_DUPLICATE:
			return refuse(err, errlen, "field '%s' given twice", fs.name);
		default:
			return refuse(err, errlen, "'%s' is not field=value", args[k]);
		}
	}
	for (size_t i = 2; i < t->ncolumns; i++) {
		if (!txt[i])
			continue;
		enum validate_code vc = fieldarg_value(&t->columns[i], txt[i], &v[i]);
		if (vc != VALIDATE_OK)
			return refuse(err, errlen, "%s (%s): %s", t->columns[i].name, t->columns[i].label_vi,
				      validate_code_str(vc));
	}
	if (txt[1] && *txt[1] && (rc = resolve_owner(s, txt[1], now_ms, owner, err, errlen)) != CORRECT_OK)
		return rc;
	if (txt[1] && !*txt[1])
		return refuse(err, errlen, "unit_id (Đơn vị): required");

	if (op == CORRECT_ADD) {
		if (!owner[0]) {
			struct reform r;
			char today[11];
			units_today(now_ms, today);
			if (reform_init(&r, s, today, now_ms) != 0)
				return r.code == REFORM_FAIL ? failed(err, errlen, "read the units")
							     : refuse(err, errlen, "%s", r.err);
			snprintf(owner, sizeof owner, "%s", r.root);
		}
		for (size_t i = 2; i < t->ncolumns; i++)
			if ((t->columns[i].flags & SCHEMA_REQUIRED) && (!txt[i] || !*txt[i]))
				return refuse(err, errlen, "%s (%s): required", t->columns[i].name,
					      t->columns[i].label_vi);
		if (schema_table_has_key(t)) {
			struct field key[CORRECT_MAX_COLUMNS];
			size_t nk = 0;
			for (size_t i = 1; i < t->ncolumns; i++) {
				if (!(t->columns[i].flags & SCHEMA_KEY))
					continue;
				key[nk].name = t->columns[i].name;
				key[nk++].v = i == 1 ? (struct value){ .kind = VALUE_TEXT, .s = owner,
								      .len = strlen(owner) }
						     : v[i];
			}
			if (validate_natural_id(t, key, nk, rid) != 0)
				return failed(err, errlen, "derive the natural id");
		} else if (ids_uuid7(now_ms, rid) != 0) {
			return failed(err, errlen, "make an id (random source)");
		}
	} else {
		if (!id || !ids_uuid_valid(id))
			return refuse(err, errlen, "'%s' is not a row id", id ? id : "");
		snprintf(rid, sizeof rid, "%s", id);
	}
	if (merge_row_init(&row, t, rid, NULL) != 0)
		return failed(err, errlen, "read the row");
	int k = s->row_read(s, &row);
	if (k < 0) {
		rc = failed(err, errlen, "read the row");
		goto done;
	}
	have_row = k == 0 && merge_row_exists(&row);
	if (op == CORRECT_ADD && have_row) {
		rc = refuse(err, errlen, "%s %s already exists: correct it with set", t->name, rid);
		goto done;
	}
	if (op != CORRECT_ADD && !have_row) {
		rc = refuse(err, errlen, "no row %s in %s", rid, t->name);
		goto done;
	}
	if (op != CORRECT_ADD) {
		if (owner[0] && strcmp(owner, row.owner) != 0) {
			rc = refuse(err, errlen, "unit_id: owner_changed (the owning unit of a row never changes)");
			goto done;
		}
		snprintf(owner, sizeof owner, "%s", row.owner);
	}
	int differs = op != CORRECT_SET;
	for (size_t i = 2; i < t->ncolumns; i++) {
		if (op == CORRECT_RM || (op == CORRECT_SET && !txt[i]))
			continue;
		f[nf].name = t->columns[i].name;
		f[nf].v = txt[i] ? v[i] : (struct value){ .kind = VALUE_NULL };
		if (op == CORRECT_SET && !same_value(&f[nf].v, &row.cells[i].v))
			differs = 1;
		nf++;
	}
	snprintf(out_id, 37, "%s", rid);
	if (!differs) {
		rc = CORRECT_OK;
		goto done;
	}
	struct changes_hub_mark mark;
	struct entry e = { .table = t->name, .id = rid, .owner = owner, .fields = nf ? f : NULL,
			   .nfields = nf };
	e.op = op == CORRECT_ADD ? ENTRY_INSERT : op == CORRECT_SET ? ENTRY_UPDATE : ENTRY_DELETE;
	struct validate_status vs;
	if (changes_hub_mark(s, &mark) != 0) {
		rc = failed(err, errlen, "read the hub's journal");
		goto done;
	}
	int a = changes_apply_hub(s, &e, now_ms, &vs);
	if (a > 0) {
		rc = refuse(err, errlen, "%s%s%s: %s", vs.field ? vs.field : "", vs.field ? " " : "",
			    validate_code_str(vs.code), vs.message);
		goto done;
	}
	if (a < 0 || changes_hub_receipt(s, &mark, now_ms) != 0) {
		rc = failed(err, errlen, "write the correction");
		goto done;
	}
	*changed = 1;
	rc = CORRECT_OK;
done:
	merge_row_release(&row);
	return rc;
}
