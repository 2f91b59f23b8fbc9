/*
 * records.c — the one write path for synced rows (see records.h).
 *
 * A record goes through three steps: each typed text becomes the canonical text of
 * its column (records_value: NFC, ISO date, choice code, linked id); that text becomes
 * a typed value checked against the schema (fieldarg_value, the syntax the hub's
 * corrections share); then the row is inserted or updated by one statement whose
 * triggers journal it. Every table and column name that reaches SQL is the schema's
 * static string; every value is bound.
 *
 * The store's CHECK constraints and triggers (store.c) are the second line of defence
 * and the only one for other programs writing the file; their failures are mapped back
 * to the office's words here (write_failed).
 */
#include "records.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetext.h"
#include "fieldarg.h"
#include "msg.h"
#include "textnorm.h"
#include "validate.h"

/* The write modes: records_write is ADD or SET, records_import IMPORT. */
enum records_mode { RECORDS_ADD, RECORDS_SET, RECORDS_IMPORT };

/* Prepared statements kept across the rows of one import: preparing an INSERT compiles
 * the table's triggers, which is most of the cost of a row. */
enum records_slot { SLOT_OWNER, SLOT_INSERT, SLOT_UPDATE, RECORDS_SLOTS };

struct records_stmt {
	char *sql;        /* sqlite3_malloc'd; the key */
	sqlite3_stmt *st; /* NULL when empty */
};

struct records_writer {
	struct store *s;
	const struct schema_table *t;
	struct records_sink sink;
	void (*detail)(void *ctx, const struct records_problem *p); /* NULL: sink.refuse */
	int english;        /* problem texts in English */
	unsigned long line; /* the CSV line being written, 0 outside an import */
	int errcode;
	struct records_stmt cache[RECORDS_SLOTS];
	char text[RECORDS_TEXT_MAX];
};

struct records_writer *records_writer_new(struct store *s, const struct schema_table *t,
					  const struct records_sink *sink)
{
	if (!s || !t || !sink || !sink->refuse || t->ncolumns > RECORDS_MAX_COLUMNS)
		return NULL;
	struct records_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->s = s;
	w->t = t;
	w->sink = *sink;
	return w;
}

void records_writer_free(struct records_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < RECORDS_SLOTS; i++) {
		sqlite3_finalize(w->cache[i].st);
		sqlite3_free(w->cache[i].sql);
	}
	free(w);
}

void records_writer_detail(struct records_writer *w, void (*detail)(void *ctx, const struct records_problem *p))
{
	w->detail = detail;
}

void records_writer_english(struct records_writer *w, int english)
{
	w->english = english;
}

int records_errcode(const struct records_writer *w)
{
	return w->errcode;
}

/* ---- problems ---- */

static const char *text_of(const struct records_writer *w, enum msg_id id)
{
	return msg_lang(id, w->english);
}

/* Formats message id with its arguments and hands it to the sink as one problem. */
static void report(struct records_writer *w, const struct schema_column *col, const char *code,
		   const struct resolve_match *matches, size_t nmatches, int id, ...)
{
	va_list ap;
	va_start(ap, id);
	vsnprintf(w->text, sizeof w->text, text_of(w, (enum msg_id)id), ap);
	va_end(ap);
	if (w->detail) {
		struct records_problem p = { w->line, col, code, w->text, matches, nmatches };
		w->detail(w->sink.ctx, &p);
	} else {
		w->sink.refuse(w->sink.ctx, w->line, col, w->text);
	}
}

/* A field refused with a code of the shared vocabulary (msg_code phrases it). */
static void report_code(struct records_writer *w, const struct schema_column *col, const char *code)
{
	report(w, col, code, NULL, 0, MSG_ERR_CODE, msg_code_lang(code, w->english));
}

static int failed(struct records_writer *w, const char *what)
{
	w->errcode = sqlite3_errcode(store_db(w->s)) & 0xff;
	fprintf(stderr, "lienket-agent: %s: %s\n", what, sqlite3_errmsg(store_db(w->s)));
	return -1;
}

/* ---- typed text → canonical text ---- */

/* Appends s to buf (cap bytes) after a separator when buf is not empty; cut silently
 * at cap (a message, not data). */
static void append(char *buf, size_t cap, const char *sep, const char *s)
{
	size_t n = strlen(buf);
	if (n + 1 >= cap)
		return;
	snprintf(buf + n, cap - n, "%s%s", n ? sep : "", s);
}

static void choices_text(const struct schema_column *c, char *buf, size_t cap)
{
	char one[RESOLVE_LABEL_MAX];
	buf[0] = '\0';
	for (const struct schema_enum_value *v = c->enum_values; v && v->code; v++) {
		snprintf(one, sizeof one, "%s (%s)", v->label_vi, v->code);
		append(buf, cap, ", ", one);
	}
}

static int date_value(struct records_writer *w, const struct schema_column *c, const char *typed, char **out)
{
	char iso[DATETEXT_SIZE];
	struct datetext_parts p;
	switch (datetext_parse(typed, iso, &p)) {
	case DATETEXT_OK:
		*out = strdup(iso);
		return *out ? 0 : -2;
	case DATETEXT_BAD_DAY:
		report(w, c, "bad_date", NULL, 0, MSG_ERR_DATE_DAY, typed, p.month, p.year,
		       p.month_days);
		return -1;
	case DATETEXT_BAD_MONTH:
		report(w, c, "bad_date", NULL, 0, MSG_ERR_DATE_MONTH, typed, p.month);
		return -1;
	case DATETEXT_BAD_YEAR:
		report(w, c, "bad_date", NULL, 0, MSG_ERR_DATE_YEAR, typed, p.year,
		       DATETEXT_YEAR_MIN, DATETEXT_YEAR_MAX);
		return -1;
	case DATETEXT_SYNTAX:
		break;
	}
	report(w, c, "bad_date", NULL, 0, MSG_ERR_DATE_SYNTAX, typed);
	return -1;
}

static int choice_value(struct records_writer *w, const struct schema_column *c, const char *typed, char **out)
{
	const struct schema_enum_value *near = NULL;
	const struct schema_enum_value *v = resolve_choice(c, typed, &near);
	if (v) {
		*out = strdup(v->code);
		return *out ? 0 : -2;
	}
	char list[RECORDS_TEXT_MAX / 2];
	choices_text(c, list, sizeof list);
	if (near)
		report(w, c, "bad_enum", NULL, 0, MSG_ERR_CHOICE_NEAR, typed, near->label_vi,
		       near->code, list);
	else
		report(w, c, "bad_enum", NULL, 0, MSG_ERR_CHOICE, typed, list);
	return -1;
}

static const char *table_label(const char *name)
{
	const struct schema_table *t = schema_table_find(name, SCHEMA_VERSION);
	return t ? t->label_vi : name;
}

static int link_value(struct records_writer *w, const struct schema_column *c, const char *typed, char **out)
{
	struct resolve_result r;
	char id[IDS_UUID_TEXT];
	switch (resolve_ref(w->s, c, typed, id, &r)) {
	case RESOLVE_OK:
		*out = strdup(id);
		return *out ? 0 : -2;
	case RESOLVE_FAILED:
		return failed(w, "cannot look a name up") - 1;
	case RESOLVE_BY_ID_ONLY:
		report(w, c, "by_id_only", NULL, 0, MSG_ERR_LINK_BY_ID, typed,
		       table_label(c->ref_table));
		return -1;
	case RESOLVE_NONE:
		if (r.has_suggestion)
			report(w, c, "not_found", &r.suggestion, 1, MSG_ERR_LINK_NEAR, typed,
			       table_label(c->ref_table), r.suggestion.label);
		else
			report(w, c, "not_found", NULL, 0, MSG_ERR_LINK_NONE, typed,
			       table_label(c->ref_table));
		return -1;
	case RESOLVE_AMBIGUOUS:
		break;
	}
	/* Several rows: list them, with what tells them apart. */
	char list[RECORDS_TEXT_MAX / 2] = "", one[3 * RESOLVE_LABEL_MAX];
	int person = strcmp(c->ref_table, "person") == 0;
	for (size_t i = 0; i < r.nmatch; i++) {
		const struct resolve_match *m = &r.match[i];
		if (person && m->birth_year)
			snprintf(one, sizeof one, text_of(w, MSG_LINK_PERSON), m->label, m->id);
		else if (person)
			snprintf(one, sizeof one, text_of(w, MSG_LINK_PERSON_NO_YEAR), m->label, m->id);
		else
			snprintf(one, sizeof one, text_of(w, MSG_LINK_UNIT), m->label, m->parent[0] ? m->parent : "-",
				 m->code[0] ? m->code : "-", m->id);
		append(list, sizeof list, "; ", one);
	}
	if (r.total > r.nmatch) {
		snprintf(one, sizeof one, text_of(w, MSG_LINK_MORE), (unsigned long)(r.total - r.nmatch));
		append(list, sizeof list, "; ", one);
	}
	report(w, c, "ambiguous", r.match, r.nmatch, person ? MSG_ERR_LINK_AMBIGUOUS_PERSON : MSG_ERR_LINK_AMBIGUOUS_UNIT,
	       (unsigned long)r.total, typed, list);
	return -1;
}

/* records_value's work: 0 and *out, -1 after a problem was reported; *fail = 1 when
 * the cause is ours (memory, SQLite), not the text's. */
static int value_of(struct records_writer *w, const struct schema_column *c, const char *typed, char **out,
		    int *fail)
{
	int rc = 0;
	*out = NULL;
	if (!typed || !*typed)
		return 0;
	switch (c->type) {
	case SCHEMA_DATE: rc = date_value(w, c, typed, out); break;
	case SCHEMA_ENUM: rc = choice_value(w, c, typed, out); break;
	case SCHEMA_REF:
		if (c->flags & SCHEMA_ID) {
			*out = strdup(typed); /* the row's own id: checked by the write */
			rc = *out ? 0 : -2;
		} else {
			rc = link_value(w, c, typed, out);
		}
		break;
	case SCHEMA_TEXT: {
		enum textnorm_code tc = textnorm_nfc(typed, strlen(typed), out, NULL);
		if (tc == TEXTNORM_BAD_UTF8) {
			report_code(w, c, "bad_type");
			rc = -1;
		} else if (tc != TEXTNORM_OK) {
			rc = -2;
		}
		break;
	}
	case SCHEMA_INT:
	case SCHEMA_BOOL:
		*out = strdup(typed);
		rc = *out ? 0 : -2;
		break;
	}
	if (rc == -2) {
		fprintf(stderr, "lienket-agent: out of memory\n");
		w->errcode = SQLITE_NOMEM;
	}
	if (rc < -1 && fail)
		*fail = 1;
	return rc < 0 ? -1 : 0;
}

/* ---- writing ---- */

/* The statement for sql in slot (takes sql, freed with sqlite3_free), reset and with
 * no bindings; NULL when it cannot be prepared. Every user resets it after stepping, so
 * no statement keeps a transaction open. */
static sqlite3_stmt *slot_stmt(struct records_writer *w, enum records_slot slot, char *sql)
{
	struct records_stmt *r = &w->cache[slot];
	if (!sql)
		return NULL;
	if (r->st && strcmp(r->sql, sql) == 0) {
		sqlite3_free(sql);
		sqlite3_reset(r->st);
		sqlite3_clear_bindings(r->st);
		return r->st;
	}
	sqlite3_finalize(r->st);
	sqlite3_free(r->sql);
	r->st = NULL;
	r->sql = sql;
	if (sqlite3_prepare_v2(store_db(w->s), sql, -1, &r->st, NULL) != SQLITE_OK) {
		sqlite3_finalize(r->st);
		r->st = NULL;
	}
	return r->st;
}


/* Looks up the row's owner. 1 found (owner copied), 0 absent, -1 error. */
static int row_owner(struct records_writer *w, const char *id, char owner[IDS_UUID_TEXT])
{
	int ret = -1;
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "SELECT unit_id FROM \"%w\" WHERE id = ?1", w->t->name);
	sqlite3_stmt *st = slot_stmt(w, SLOT_OWNER, sqlite3_str_finish(q));
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
	} else if (rc == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(st, 0);
		snprintf(owner, IDS_UUID_TEXT, "%s", o ? o : "");
		ret = 1;
	}
	sqlite3_reset(st);
	return ret;
}

static int64_t journal_top(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t top = -1;
	if (sqlite3_prepare_v2(store_db(s), "SELECT coalesce(max(seq), 0) FROM lk_journal", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		top = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return top;
}

/* Maps a failed write to the office's words. RECORDS_REJECTED for the data's fault. */
static enum records_result write_failed(struct records_writer *w, const char *id)
{
	sqlite3 *db = store_db(w->s);
	const char *e = sqlite3_errmsg(db);
	if ((sqlite3_errcode(db) & 0xff) != SQLITE_CONSTRAINT) {
		failed(w, "write failed");
		return RECORDS_FAILED;
	}
	static const char *const raised[] = { "owner_changed", "key_changed", "hub_only" };
	for (size_t i = 0; i < sizeof raised / sizeof raised[0]; i++)
		if (strstr(e, raised[i])) {
			report(w, NULL, raised[i], NULL, 0, MSG_ERR_CODE, msg_code(raised[i]));
			return RECORDS_REJECTED;
		}
	if (strstr(e, "UNIQUE")) {
		report(w, NULL, "exists", NULL, 0, MSG_ERR_EXISTS, id);
		return RECORDS_REJECTED;
	}
	const char *ck = strstr(e, "CHECK constraint failed: ");
	if (ck) {
		const struct schema_column *col =
			schema_column_find(w->t, ck + strlen("CHECK constraint failed: "), SCHEMA_VERSION);
		if (col) {
			report_code(w, col, "bad_type");
			return RECORDS_REJECTED;
		}
	}
	report(w, NULL, "constraint", NULL, 0, MSG_ERR_CODE, e);
	return RECORDS_REJECTED;
}

/* The statement for the write itself: UPDATE of the given columns of an existing row,
 * or INSERT of every column. NULL when out of memory or it cannot be prepared. */
static sqlite3_stmt *write_stmt(struct records_writer *w, const char *const *text, int found, int *nbind)
{
	const struct schema_table *t = w->t;
	sqlite3_str *q = sqlite3_str_new(NULL);
	*nbind = 0;
	if (found) {
		sqlite3_str_appendf(q, "UPDATE \"%w\" SET ", t->name);
		for (size_t i = 2; i < t->ncolumns; i++)
			if (text[i])
				sqlite3_str_appendf(q, "%s\"%w\" = ?%d", (*nbind)++ ? ", " : "", t->columns[i].name,
						    (int)i + 1);
		sqlite3_str_appendall(q, " WHERE id = ?1");
	} else {
		sqlite3_str_appendf(q, "INSERT INTO \"%w\"(", t->name);
		for (size_t i = 0; i < t->ncolumns; i++)
			sqlite3_str_appendf(q, "%s\"%w\"", i ? ", " : "", t->columns[i].name);
		sqlite3_str_appendall(q, ") VALUES (");
		for (size_t i = 0; i < t->ncolumns; i++)
			sqlite3_str_appendf(q, "%s?%d", i ? ", " : "", (int)i + 1);
		sqlite3_str_appendall(q, ")");
		*nbind = 1;
	}
	char *sql = sqlite3_str_finish(q);
	if (*nbind == 0) {
		sqlite3_free(sql);
		return NULL;
	}
	return slot_stmt(w, found ? SLOT_UPDATE : SLOT_INSERT, sql);
}

/* Natural keys: the id follows from the key (PROTOCOL.md §2). Writes id[] (refusing a
 * given id that differs) and looks the row up again. 0, 1 when rejected (reported), -1
 * on error. */
static int natural_id(struct records_writer *w, const char *const *text, const struct value *v, enum records_mode mode,
		      const char *owner, char id[IDS_UUID_TEXT], int *found, char existing_owner[IDS_UUID_TEXT])
{
	const struct schema_table *t = w->t;
	struct field key[RECORDS_MAX_COLUMNS];
	size_t nkey = 0;
	int bad = 0;
	const char *key_owner = owner[0] ? owner : store_unit_id(w->s);
	for (size_t i = 1; i < t->ncolumns; i++) {
		const struct schema_column *col = &t->columns[i];
		if (!(col->flags & SCHEMA_KEY))
			continue;
		key[nkey].name = col->name;
		if (i == 1)
			key[nkey].v = (struct value){ .kind = VALUE_TEXT, .s = key_owner, .len = strlen(key_owner) };
		else if (text[i])
			key[nkey].v = v[i];
		else
			key[nkey].v = (struct value){ .kind = VALUE_NULL };
		if (key[nkey].v.kind == VALUE_NULL && mode != RECORDS_SET) {
			report_code(w, col, "required");
			bad = 1;
		}
		nkey++;
	}
	if (bad)
		return 1;
	if (mode == RECORDS_SET)
		return 0;
	char want[IDS_UUID_TEXT];
	if (validate_natural_id(t, key, nkey, want) != 0) {
		fprintf(stderr, "lienket-agent: cannot derive natural id: %s\n", t->name);
		return -1;
	}
	if (id[0] && strcmp(id, want) != 0) {
		report_code(w, &t->columns[0], "key_changed");
		return 1;
	}
	memcpy(id, want, IDS_UUID_TEXT);
	if ((*found = row_owner(w, id, existing_owner)) < 0)
		return failed(w, "sqlite");
	return 0;
}

/* Writes one row in mode (see records_write and records_import). */
static enum records_result write_row(struct records_writer *w, const char *const *typed, enum records_mode mode,
				     const char *set_id, char out_id[IDS_UUID_TEXT])
{
	const struct schema_table *t = w->t;
	char *canon[RECORDS_MAX_COLUMNS] = { 0 }; /* owned canonical texts */
	const char *text[RECORDS_MAX_COLUMNS] = { 0 };
	struct value v[RECORDS_MAX_COLUMNS] = { 0 };
	int bad = 0, fail = 0;
	char id[IDS_UUID_TEXT] = "";
	char owner[IDS_UUID_TEXT] = "";
	char existing_owner[IDS_UUID_TEXT] = "";
	enum records_result res = RECORDS_FAILED;
	sqlite3_stmt *st = NULL;

	w->errcode = 0;
	for (size_t i = 0; i < t->ncolumns; i++) {
		if (!typed[i])
			continue;
		if (value_of(w, &t->columns[i], typed[i], &canon[i], &fail) != 0) {
			bad = 1;
			continue;
		}
		text[i] = canon[i] ? canon[i] : "";
	}
	if (fail)
		goto done;
	for (size_t i = 2; i < t->ncolumns; i++) {
		if (!text[i])
			continue;
		enum validate_code vc = fieldarg_value(&t->columns[i], text[i], &v[i]);
		if (vc != VALIDATE_OK) {
			report_code(w, &t->columns[i], validate_code_str(vc));
			bad = 1;
		}
	}
	const char *given_id = set_id ? set_id : (text[0] && *text[0] ? text[0] : NULL);
	if (given_id) {
		if (!ids_uuid_valid(given_id)) {
			report_code(w, &t->columns[0], "bad_id");
			bad = 1;
		} else {
			memcpy(id, given_id, IDS_UUID_TEXT);
		}
	}
	if (text[1] && *text[1]) {
		memcpy(owner, text[1], IDS_UUID_TEXT); /* resolved: a UUID */
	} else if (text[1] && mode == RECORDS_SET) {
		report_code(w, &t->columns[1], "required");
		bad = 1;
	}
	if (bad) {
		res = RECORDS_REJECTED;
		goto done;
	}

	int found = 0;
	if (id[0] && (found = row_owner(w, id, existing_owner)) < 0) {
		failed(w, "sqlite");
		goto done;
	}
	if (schema_table_has_key(t) && !found) {
		int k = natural_id(w, text, v, mode, owner, id, &found, existing_owner);
		if (k) {
			res = k > 0 ? RECORDS_REJECTED : RECORDS_FAILED;
			goto done;
		}
	}
	if (found && mode == RECORDS_ADD) {
		report(w, NULL, "exists", NULL, 0, MSG_ERR_EXISTS, id);
		res = RECORDS_REJECTED;
		goto done;
	}
	if (!found && mode == RECORDS_SET) {
		report(w, NULL, "no_record", NULL, 0, MSG_ERR_NOT_FOUND, id, t->name);
		res = RECORDS_REJECTED;
		goto done;
	}
	const char *scope_unit = found ? existing_owner : (owner[0] ? owner : store_unit_id(w->s));
	if (found && owner[0] && strcmp(owner, existing_owner) != 0) {
		report_code(w, &t->columns[1], "owner_changed");
		res = RECORDS_REJECTED;
		goto done;
	}
	int scope = store_in_scope(w->s, scope_unit);
	if (scope < 0) {
		failed(w, "cannot check scope");
		goto done;
	}
	if (!scope) {
		report(w, &t->columns[1], "out_of_scope", NULL, 0, MSG_ERR_NOT_IN_SCOPE, scope_unit);
		bad = 1;
	}
	if (!found) {
		if (!owner[0])
			memcpy(owner, store_unit_id(w->s), IDS_UUID_TEXT);
		for (size_t i = 2; i < t->ncolumns; i++)
			if ((t->columns[i].flags & SCHEMA_REQUIRED) && (!text[i] || !*text[i])) {
				report_code(w, &t->columns[i], "required");
				bad = 1;
			}
	}
	if (bad) {
		res = RECORDS_REJECTED;
		goto done;
	}
	if (!found && !id[0] && ids_uuid7(store_wall_ms(), id) != 0) {
		fprintf(stderr, "lienket-agent: no random source for a new id\n");
		goto done;
	}
	if (out_id)
		memcpy(out_id, id, IDS_UUID_TEXT);
	int nbind;
	st = write_stmt(w, text, found, &nbind);
	if (nbind == 0) {
		res = RECORDS_UNCHANGED; /* an id and nothing else */
		goto done;
	}
	if (!st) {
		failed(w, "cannot prepare the write");
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (!found)
		sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	for (size_t i = 2; i < t->ncolumns; i++)
		if (text[i])
			store_bind_value(st, (int)i + 1, &v[i]);
	int64_t before = found ? journal_top(w->s) : 0;
	if (sqlite3_step(st) != SQLITE_DONE) {
		res = write_failed(w, id);
		goto done;
	}
	sqlite3_reset(st);
	if (!found)
		res = RECORDS_INSERTED;
	else
		res = journal_top(w->s) != before ? RECORDS_UPDATED : RECORDS_UNCHANGED;
done:
	if (st)
		sqlite3_reset(st);
	for (size_t i = 0; i < t->ncolumns; i++)
		free(canon[i]);
	return res;
}

int records_value(struct records_writer *w, const struct schema_column *c, const char *typed, char **out)
{
	int fail = 0;
	w->errcode = 0;
	if (value_of(w, c, typed, out, &fail) == 0)
		return 0;
	return fail ? -1 : 1;
}

/* A hub-only table is the province's: refused before any value is looked at. */
static int refuse_hub_only(struct records_writer *w)
{
	if (!w->t->hub_only)
		return 0;
	report(w, NULL, "hub_only", NULL, 0, MSG_ERR_HUB_ONLY_TABLE, w->t->name, w->t->label_vi);
	return 1;
}

enum records_result records_write(struct records_writer *w, const char *const *text, const char *set_id,
				  char out_id[IDS_UUID_TEXT])
{
	w->line = 0;
	if (refuse_hub_only(w))
		return RECORDS_REJECTED;
	const char *typed[RECORDS_MAX_COLUMNS];
	memcpy(typed, text, w->t->ncolumns * sizeof *typed);
	typed[0] = NULL; /* the id is set_id or made here */
	return write_row(w, typed, set_id ? RECORDS_SET : RECORDS_ADD, set_id, out_id);
}

enum records_result records_import(struct records_writer *w, unsigned long line, const char *const *text,
				   char out_id[IDS_UUID_TEXT])
{
	w->line = line;
	if (refuse_hub_only(w))
		return RECORDS_REJECTED;
	return write_row(w, text, RECORDS_IMPORT, NULL, out_id);
}

enum records_result records_delete(struct records_writer *w, const char *id)
{
	sqlite3 *db = store_db(w->s);
	sqlite3_stmt *st = NULL;
	enum records_result res = RECORDS_FAILED;
	w->errcode = 0;
	w->line = 0;
	if (refuse_hub_only(w))
		return RECORDS_REJECTED;
	if (!ids_uuid_valid(id)) {
		report(w, NULL, "no_record", NULL, 0, MSG_ERR_NOT_FOUND, id, w->t->name);
		return RECORDS_REJECTED;
	}
	/* By the DELETE itself (RETURNING its owner), inside the caller's transaction: a
	 * row that vanished before it (a pull, another command) deletes nothing and
	 * journals nothing, and says so. The journaling trigger writes the tombstone. */
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "DELETE FROM \"%w\" WHERE id = ?1 RETURNING unit_id", w->t->name);
	char *sql = sqlite3_str_finish(q);
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		failed(w, "cannot prepare delete");
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	char owner[IDS_UUID_TEXT] = "";
	int deleted = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(st, 0);
		snprintf(owner, sizeof owner, "%s", o ? o : "");
		deleted++;
	}
	if (step != SQLITE_DONE) {
		res = write_failed(w, id);
		goto done;
	}
	if (deleted != 1) {
		report(w, NULL, "no_record", NULL, 0, MSG_ERR_NOT_FOUND, id, w->t->name);
		res = RECORDS_REJECTED;
		goto done;
	}
	int scope = store_in_scope(w->s, owner);
	if (scope < 0) {
		failed(w, "cannot check scope");
		goto done;
	}
	if (!scope) {
		report(w, NULL, "out_of_scope", NULL, 0, MSG_ERR_NOT_IN_SCOPE, owner);
		res = RECORDS_REJECTED;
		goto done;
	}
	res = RECORDS_DELETED;
done:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return res;
}
