/*
 * app_api.c — the office app's JSON API (see app_api.h, docs/app-api.md).
 *
 * Forms. A form is a synced table seen as an office fills it: the table's columns
 * (but `id`), with the owning unit as the field `unit_id`; `meeting` and `volunteer`
 * add the field `branches` (their meeting_branch / volunteer_branch rows); `branch`
 * is three tables in one form (unit, its unit_name of kind branch, its unit_parent).
 * Every table and column name put into SQL comes from the schema's static strings or
 * from this file's form table; every value is bound.
 *
 * Text of a value. A JSON value becomes the text an office would type for its column,
 * and records.h reads and writes it exactly as for the command line (texts to NFC,
 * dates dd/mm/yyyy or ISO, choices by code or label): strings as they are, integers
 * in decimal, true/false as 1/0, links by id (checked to exist first).
 */
#include "app_api.h"

#include "app_search.h"
#include "app_sortkey.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetext.h"
#include "ids.h"
#include "journal.h"
#include "csvtable.h"
#include "msg.h"
#include "office_figures.h"
#include "plat.h"
#include "records.h"
#include "schema.h"
#include "textnorm.h"

#define FORM_LIST_MAX 5        /* columns a list shows */
#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500
#define PICK_LIMIT_DEFAULT 20
#define PICK_LIMIT_MAX 100
#define SORTKEY_BUSY_MS 200     /* a list waits this long to compute people's keys */
#define REFUSED_MAX 50         /* refused changes listed by GET /api/sync */
#define ROW_COLS 32            /* widest table: 9 columns */
#define MULTILINE_MIN 500      /* a text column this long gets a text area */

/* What the office's own unit is called until the first sync brings its name. */
#define OFFICE_UNNAMED "Đơn vị của máy này"
/* Every statement naming units binds the office's unit as ?9. */
#define BIND_OFFICE 9

/* The SQL date of today in Vietnam, as store_in_scope counts it. */
#define SQL_TODAY "date('now', '+7 hours')"

enum form_kind { FORM_TABLE, FORM_BRANCH };

struct form {
	const char *key;
	enum form_kind kind;
	const char *label;            /* NULL: the table's label_vi */
	const char *table;            /* the main table */
	const char *list[FORM_LIST_MAX]; /* list columns, NULL-terminated when fewer */
	const char *unit_label;       /* the label of unit_id in this form */
	int unit_first;               /* unit_id is the first field (the record is about it) */
	const char *link_table;       /* rows for the field `branches`, or NULL */
	const char *link_parent;      /* their column naming this form's row */
	const char *default_sort;     /* field; NULL: the first date field */
};

static const struct form forms[] = {
	{ "branch", FORM_BRANCH, "Chi đoàn", "unit", { "name", "parent_id", "opened_on", "code", NULL },
	  NULL, 0, NULL, NULL, "name" },
	{ "person", FORM_TABLE, "Cán bộ, đoàn viên", "person",
	  { "full_name", "birth_year", "gender", "phone", NULL }, "Đơn vị", 0, NULL, NULL, "full_name" },
	{ "role", FORM_TABLE, "Chức vụ, nhiệm kỳ", "role",
	  { "person_id", "role", "of_unit", "term_from", "term_until" }, "Đơn vị ghi", 0, NULL, NULL, NULL },
	{ "insurance_card", FORM_TABLE, NULL, "insurance_card",
	  { "person_id", "card_no", "valid_from", "valid_until", NULL }, "Đơn vị ghi", 0, NULL, NULL, NULL },
	{ "support", FORM_TABLE, NULL, "support", { "person_id", "kind", "on_date", "amount_vnd", NULL },
	  "Đơn vị ghi", 0, NULL, NULL, NULL },
	{ "party", FORM_TABLE, NULL, "party", { "person_id", "step", "on_date", NULL }, "Đơn vị ghi", 0, NULL,
	  NULL, NULL },
	{ "meeting", FORM_TABLE, NULL, "meeting", { "held_on", "kind", "unit_id", "host_branch_id", "branches" },
	  "Đơn vị tổ chức", 0, "meeting_branch", "meeting_id", NULL },
	{ "volunteer", FORM_TABLE, NULL, "volunteer",
	  { "started_on", "kind", "title", "teams", "participations" }, "Đơn vị tổ chức", 0,
	  "volunteer_branch", "volunteer_id", NULL },
	{ "year_record", FORM_TABLE, NULL, "year_record",
	  { "year", "unit_id", "rating", "youth_gathered", "youth_in_area" }, "Chi đoàn", 1, NULL, NULL, "year" },
	{ "pilot", FORM_TABLE, NULL, "pilot", { "branch_id", "valid_from", "valid_until", NULL }, "Đơn vị ghi",
	  0, NULL, NULL, NULL },
	{ "task", FORM_TABLE, NULL, "task", { "title", "due_on", "done_on", "assignee_person_id", NULL },
	  "Đơn vị giao", 0, NULL, NULL, NULL },
};
#define NFORMS (sizeof forms / sizeof forms[0])

/* The branch form's own fields, in the order of the page. */
static const char *const branch_fields[] = { "name", "code", "parent_id", "opened_on" };
#define BRANCH_LINKS_LABEL "Chi đoàn tham gia"

/* The rank table's content (temp.lk_app_rank): the order of the linked names of one
 * column, kept while nothing in the database changed (sql_rank_fill). */
struct rank_cache {
	const struct schema_table *t; /* NULL: nothing kept */
	const struct schema_column *c;
	long long data_version;       /* PRAGMA data_version: commits of other connections */
	long long changes;            /* sqlite3_total_changes64 of ours, after the fill */
};

/* The number of rows of a table whose person column names no person with a key
 * (person_walk), kept like the ranks. */
struct orphan_cache {
	const struct schema_table *t; /* NULL: nothing kept */
	const char *col;
	long long data_version, changes;
	long long n;
};

struct app_api {
	struct store *s;
	struct app_sync *sync;
	char csrf[64];
	struct rank_cache rank;
	struct orphan_cache orphans;
};

/* ---- small helpers ---- */

static const struct form *form_find(const char *key, size_t len)
{
	for (size_t i = 0; i < NFORMS; i++)
		if (strlen(forms[i].key) == len && memcmp(forms[i].key, key, len) == 0)
			return &forms[i];
	return NULL;
}

static const struct schema_table *form_table(const struct form *f)
{
	return schema_table_find(f->table, SCHEMA_VERSION);
}

static void answer_json(struct app_api_response *resp, unsigned status, json_t *j)
{
	resp->status = status;
	resp->content_type = "application/json; charset=utf-8";
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	if (j && !resp->body) { /* out of memory */
		resp->status = 500;
		resp->content_type = "text/plain; charset=utf-8";
	}
	json_decref(j);
}

static void answer_error(struct app_api_response *resp, unsigned status, const char *text_vi)
{
	answer_json(resp, status, json_pack("{s:s}", "error", text_vi));
}

static void answer_internal(struct app_api *a, struct app_api_response *resp, const char *what)
{
	sqlite3 *db = store_db(a->s);
	int code = sqlite3_errcode(db) & 0xff;
	fprintf(stderr, "lienket-agent app: %s: %s\n", what, sqlite3_errmsg(db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		answer_error(resp, 503, "Cơ sở dữ liệu đang bận (đang đồng bộ). Hãy thử lại sau ít giây.");
	else
		answer_error(resp, 500, "Lỗi trên máy này khi đọc hoặc ghi dữ liệu. Hãy báo cán bộ kỹ thuật.");
}

/* The query parameter name as a number in [lo, hi], dflt when absent or not a number. */
static long long param_int(const struct app_api_request *req, const char *name, long long dflt,
			   long long lo, long long hi)
{
	const char *v = req->param ? req->param(req->param_ctx, name) : NULL;
	if (!v || !*v)
		return dflt;
	char *end = NULL;
	long long n = strtoll(v, &end, 10);
	if (*end)
		return dflt;
	return n < lo ? lo : n > hi ? hi : n;
}

static const char *param_str(const struct app_api_request *req, const char *name)
{
	return req->param ? req->param(req->param_ctx, name) : NULL;
}

/* ---- SQL pieces: names of linked records, labels of choices ---- */

/* CASE expression giving the label of enum column `expr` of c. */
static void sql_enum_label(sqlite3_str *q, const struct schema_column *c, const char *expr)
{
	sqlite3_str_appendf(q, "(CASE %s", expr);
	for (const struct schema_enum_value *v = c->enum_values; v->code; v++)
		sqlite3_str_appendf(q, " WHEN %Q THEN %Q", v->code, v->label_vi);
	sqlite3_str_appendf(q, " ELSE %s END)", expr);
}

/* The expression naming the row of ref_table whose id is `x` (an SQL expression), as
 * the office reads it; depth makes the inner aliases unique. */
static void sql_ref_name(sqlite3_str *q, const char *ref_table, const char *x, int depth)
{
	if (strcmp(ref_table, "unit") == 0) {
		/* the office's own unit has no name before the first sync brings the tree */
		sqlite3_str_appendf(q,
				    "coalesce((SELECT n%d.name FROM unit_name n%d WHERE n%d.of_unit = %s"
				    " ORDER BY (n%d.valid_to IS NULL) DESC, n%d.valid_from DESC LIMIT 1),"
				    " CASE WHEN %s = ?9 THEN %Q END)",
				    depth, depth, depth, x, depth, depth, x, OFFICE_UNNAMED);
	} else if (strcmp(ref_table, "person") == 0) {
		sqlite3_str_appendf(q,
				    "(SELECT p%d.full_name || coalesce(' (' || p%d.birth_year || ')', '')"
				    " FROM person p%d WHERE p%d.id = %s)",
				    depth, depth, depth, depth, x);
	} else if (strcmp(ref_table, "meeting") == 0) {
		const struct schema_table *mt = schema_table_find("meeting", SCHEMA_VERSION);
		char kind[16];
		snprintf(kind, sizeof kind, "m%d.kind", depth);
		sqlite3_str_appendf(q, "(SELECT strftime('%%d/%%m/%%Y', m%d.held_on) || ' · ' || ", depth);
		sql_enum_label(q, schema_column_find(mt, "kind", SCHEMA_VERSION), kind);
		sqlite3_str_appendf(q, " FROM meeting m%d WHERE m%d.id = %s)", depth, depth, x);
	} else if (strcmp(ref_table, "volunteer") == 0) {
		const struct schema_table *vt = schema_table_find("volunteer", SCHEMA_VERSION);
		char kind[16];
		snprintf(kind, sizeof kind, "v%d.kind", depth);
		sqlite3_str_appendf(q, "(SELECT coalesce(v%d.title, ", depth);
		sql_enum_label(q, schema_column_find(vt, "kind", SCHEMA_VERSION), kind);
		sqlite3_str_appendf(q, ") || ' · ' || strftime('%%d/%%m/%%Y', v%d.started_on)"
				       " FROM volunteer v%d WHERE v%d.id = %s)", depth, depth, depth, x);
	} else {
		sqlite3_str_appendf(q, "%s", x);
	}
}

/* The ids of ref_table rows whose name matches the search key bound as ?1, as a
 * subquery, or 0 when rows of that table are not searched by name. */
static int sql_ref_matches(sqlite3_str *q, const char *ref_table)
{
	if (strcmp(ref_table, "unit") == 0)
		sqlite3_str_appendall(q, "(SELECT sn.of_unit FROM unit_name sn WHERE lk_match(?1, sn.name, sn.code))");
	else if (strcmp(ref_table, "person") == 0)
		sqlite3_str_appendall(q, "(SELECT sp.id FROM person sp WHERE lk_match(?1, sp.full_name, sp.birth_year))");
	else
		return 0;
	return 1;
}

/* The subtree of the office as of today: a CTE named `down(u)` walking parent links
 * downwards from the unit bound as ?9. */
#define SQL_DOWN_CTE                                                                  \
	"WITH RECURSIVE down(u) AS (SELECT ?9 UNION SELECT p.of_unit FROM unit_parent p" \
	" JOIN down ON p.parent_id = down.u WHERE p.valid_from <= " SQL_TODAY            \
	" AND (p.valid_to IS NULL OR p.valid_to >= " SQL_TODAY ")) "

/* ---- the fields of a form ---- */

static json_t *field_json_column(const struct schema_column *c, const char *name, const char *label)
{
	static const char *const types[] = { [SCHEMA_TEXT] = "text", [SCHEMA_INT] = "int",
					     [SCHEMA_BOOL] = "bool", [SCHEMA_DATE] = "date",
					     [SCHEMA_ENUM] = "choice", [SCHEMA_REF] = "ref" };
	json_t *f = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "label", label, "type", types[c->type],
			      "required", (c->flags & SCHEMA_REQUIRED) != 0);
	if (!f)
		return NULL;
	if (c->type == SCHEMA_TEXT) {
		json_object_set_new(f, "max", json_integer(c->max_len));
		if (c->max_len >= MULTILINE_MIN)
			json_object_set_new(f, "multiline", json_true());
	} else if (c->type == SCHEMA_INT) {
		json_object_set_new(f, "min", json_integer(c->min));
		json_object_set_new(f, "max", json_integer(c->max));
	} else if (c->type == SCHEMA_ENUM) {
		json_t *ch = json_array();
		for (const struct schema_enum_value *v = c->enum_values; v->code; v++)
			if (!v->retired || v->retired > SCHEMA_VERSION)
				json_array_append_new(ch, json_pack("{s:s, s:s}", "code", v->code, "label", v->label_vi));
		json_object_set_new(f, "choices", ch);
	} else if (c->type == SCHEMA_REF) {
		json_object_set_new(f, "ref", json_string(c->ref_table));
	}
	return f;
}

static json_t *form_fields_json(const struct form *f, const char *office, const char *office_label)
{
	json_t *arr = json_array();
	if (f->kind == FORM_BRANCH) {
		const struct schema_table *un = schema_table_find("unit_name", SCHEMA_VERSION);
		const struct schema_table *up = schema_table_find("unit_parent", SCHEMA_VERSION);
		const struct schema_table *u = schema_table_find("unit", SCHEMA_VERSION);
		json_array_append_new(arr, field_json_column(schema_column_find(un, "name", SCHEMA_VERSION), "name",
							     "Tên chi đoàn"));
		json_array_append_new(arr, field_json_column(schema_column_find(un, "code", SCHEMA_VERSION), "code",
							     "Mã hành chính"));
		json_t *p = field_json_column(schema_column_find(up, "parent_id", SCHEMA_VERSION), "parent_id",
					      "Thuộc đơn vị");
		json_object_set_new(p, "default", json_string(office));
		json_object_set_new(p, "default_label", json_string(office_label));
		json_array_append_new(arr, p);
		json_array_append_new(arr, field_json_column(schema_column_find(u, "opened_on", SCHEMA_VERSION),
							     "opened_on", "Ngày thành lập"));
		return arr;
	}
	const struct schema_table *t = form_table(f);
	json_t *unit = field_json_column(&t->columns[1], "unit_id", f->unit_label);
	json_object_set_new(unit, "default", json_string(office));
	json_object_set_new(unit, "default_label", json_string(office_label));
	if (f->unit_first)
		json_array_append(arr, unit);
	for (size_t i = 2; i < t->ncolumns; i++)
		json_array_append_new(arr, field_json_column(&t->columns[i], t->columns[i].name, t->columns[i].label_vi));
	if (f->link_table)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:s}", "name", "branches", "label",
						     BRANCH_LINKS_LABEL, "type", "refs", "required", 0, "ref", "unit"));
	if (!f->unit_first)
		json_array_append(arr, unit);
	json_decref(unit);
	return arr;
}

/* ---- GET /api/meta ---- */

static int office_name(struct app_api *a, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	sqlite3_str *q = sqlite3_str_new(NULL);
	sql_ref_name(q, "unit", "?1", 0);
	char *expr = sqlite3_str_finish(q);
	char *sql = expr ? sqlite3_mprintf("SELECT %s", expr) : NULL;
	sqlite3_free(expr);
	int ok = sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK;
	sqlite3_free(sql);
	out[0] = '\0';
	if (ok) {
		sqlite3_bind_text(st, 1, store_unit_id(a->s), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
		if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}


static void api_meta(struct app_api *a, struct app_api_response *resp)
{
	char name[256], today[DATETEXT_SIZE];
	if (office_name(a, name, sizeof name) != 0) {
		answer_internal(a, resp, "office name");
		return;
	}
	figures_vn_date(store_wall_ms(), today);
	const char *office = store_unit_id(a->s);
	json_t *fl = json_array();
	for (size_t i = 0; i < NFORMS; i++) {
		const struct form *f = &forms[i];
		json_t *cols = json_array();
		for (size_t k = 0; k < FORM_LIST_MAX && f->list[k]; k++)
			json_array_append_new(cols, json_string(f->list[k]));
		json_array_append_new(fl, json_pack("{s:s, s:s, s:o, s:o}", "key", f->key, "label",
						    f->label ? f->label : form_table(f)->label_vi, "list_columns", cols,
						    "fields", form_fields_json(f, office, name)));
	}
	answer_json(resp, 200,
		    json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "csrf", a->csrf, "office", "unit_id", office,
			      "unit_name", name, "today", today, "forms", fl));
}

/* ---- reading rows ---- */

/* One field of a form as read: where its value and its display sit in the SELECT. */
struct field_read {
	const char *name;
	const struct schema_column *col; /* NULL for `branches` */
	int value_at, display_at;        /* result columns; display_at -1: computed in C */
};

struct form_read {
	struct field_read f[ROW_COLS];
	size_t n;
	char *select; /* "SELECT … FROM … AS t" (sqlite3_free) */
	size_t from;  /* where its " FROM … AS t" starts */
};

static void form_read_release(struct form_read *r)
{
	sqlite3_free(r->select);
	r->select = NULL;
}

/* Builds the SELECT list of a form: column 0 the id, then per field its value and, for
 * links, its display. */
static int form_read_build(const struct form *f, struct form_read *r)
{
	memset(r, 0, sizeof *r);
	sqlite3_str *q = sqlite3_str_new(NULL);
	int at = 1;
	sqlite3_str_appendall(q, "SELECT t.id");
	if (f->kind == FORM_BRANCH) {
		const struct schema_table *un = schema_table_find("unit_name", SCHEMA_VERSION);
		const struct schema_table *up = schema_table_find("unit_parent", SCHEMA_VERSION);
		const struct schema_table *u = schema_table_find("unit", SCHEMA_VERSION);
		sqlite3_str_appendall(q, ", (SELECT b.name FROM unit_name b WHERE b.of_unit = t.id"
					 " ORDER BY (b.valid_to IS NULL) DESC, b.valid_from DESC LIMIT 1) AS c_name");
		sqlite3_str_appendall(q, ", (SELECT b.code FROM unit_name b WHERE b.of_unit = t.id"
					 " ORDER BY (b.valid_to IS NULL) DESC, b.valid_from DESC LIMIT 1) AS c_code");
		sqlite3_str_appendall(q, ", (SELECT b.parent_id FROM unit_parent b WHERE b.of_unit = t.id"
					 " ORDER BY (b.valid_to IS NULL) DESC, b.valid_from DESC LIMIT 1) AS c_parent_id");
		sqlite3_str_appendall(q, ", t.opened_on AS c_opened_on, ");
		sql_ref_name(q, "unit", "(SELECT b.parent_id FROM unit_parent b WHERE b.of_unit = t.id"
					" ORDER BY (b.valid_to IS NULL) DESC, b.valid_from DESC LIMIT 1)", 1);
		sqlite3_str_appendall(q, " AS c_parent_name");
		r->from = (size_t)sqlite3_str_length(q);
		sqlite3_str_appendall(q, " FROM unit AS t");
		r->f[0] = (struct field_read){ "name", schema_column_find(un, "name", SCHEMA_VERSION), 1, -1 };
		r->f[1] = (struct field_read){ "code", schema_column_find(un, "code", SCHEMA_VERSION), 2, -1 };
		r->f[2] = (struct field_read){ "parent_id", schema_column_find(up, "parent_id", SCHEMA_VERSION), 3, 5 };
		r->f[3] = (struct field_read){ "opened_on", schema_column_find(u, "opened_on", SCHEMA_VERSION), 4, -1 };
		r->n = 4;
	} else {
		const struct schema_table *t = form_table(f);
		for (size_t i = 1; i < t->ncolumns; i++) {
			const struct schema_column *c = &t->columns[i];
			sqlite3_str_appendf(q, ", t.\"%w\"", c->name);
			r->f[r->n++] = (struct field_read){ c->name, c, at++, -1 };
		}
		for (size_t k = 0; k < r->n; k++) {
			const struct schema_column *c = r->f[k].col;
			if (c->type != SCHEMA_REF)
				continue;
			char x[80];
			snprintf(x, sizeof x, "t.\"%s\"", c->name);
			sqlite3_str_appendall(q, ", ");
			sql_ref_name(q, c->ref_table, x, 1);
			r->f[k].display_at = at++;
		}
		if (f->link_table) {
			sqlite3_str_appendf(q, ", (SELECT json_group_array(l.branch_id) FROM \"%w\" l WHERE l.\"%w\" = t.id)",
					    f->link_table, f->link_parent);
			sqlite3_str_appendf(q, ", (SELECT group_concat(");
			sql_ref_name(q, "unit", "l.branch_id", 1);
			sqlite3_str_appendf(q, ", ', ') FROM \"%w\" l WHERE l.\"%w\" = t.id)", f->link_table,
					    f->link_parent);
			sqlite3_str_appendf(q, ", (SELECT json_group_array(");
			sql_ref_name(q, "unit", "l.branch_id", 1);
			sqlite3_str_appendf(q, ") FROM \"%w\" l WHERE l.\"%w\" = t.id)", f->link_table, f->link_parent);
			r->f[r->n++] = (struct field_read){ "branches", NULL, at, at + 1 };
			at += 3; /* ids, names joined, names as an array (labels) */
		}
		r->from = (size_t)sqlite3_str_length(q);
		sqlite3_str_appendf(q, " FROM \"%w\" AS t", t->name);
	}
	r->select = sqlite3_str_finish(q);
	return r->select ? 0 : -1;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* The row at the statement's cursor as {id, values, display, labels}: labels holds, for
 * a `refs` field, the names in the order of its ids (a name may hold ", "). */
static json_t *row_json(const struct form_read *r, sqlite3_stmt *st)
{
	json_t *values = json_object(), *display = json_object(), *labels = json_object();
	for (size_t k = 0; k < r->n; k++) {
		const struct field_read *fr = &r->f[k];
		int i = fr->value_at;
		const char *txt = column_text(st, i);
		json_t *v = json_null();
		char shown[DATETEXT_SIZE];
		const char *disp = NULL;
		if (!fr->col) { /* branches: a JSON array of ids */
			json_decref(v);
			v = txt ? json_loads(txt, 0, NULL) : json_array();
			if (!v)
				v = json_array();
			disp = column_text(st, fr->display_at);
			const char *names = column_text(st, fr->display_at + 1);
			json_t *l = names ? json_loads(names, 0, NULL) : NULL;
			json_object_set_new(labels, fr->name, l ? l : json_array());
		} else if (sqlite3_column_type(st, i) == SQLITE_NULL) {
			disp = NULL;
		} else {
			json_decref(v);
			switch (fr->col->type) {
			case SCHEMA_INT:
				v = json_integer(sqlite3_column_int64(st, i));
				disp = txt;
				break;
			case SCHEMA_BOOL:
				v = json_boolean(sqlite3_column_int64(st, i) != 0);
				disp = sqlite3_column_int64(st, i) ? "Có" : "Không";
				break;
			case SCHEMA_DATE:
				v = json_string(txt);
				disp = datetext_format(txt, shown) == 0 ? shown : txt;
				break;
			case SCHEMA_ENUM: {
				const struct schema_enum_value *ev = schema_enum_find(fr->col, txt);
				v = json_string(txt);
				disp = ev ? ev->label_vi : txt;
				break;
			}
			case SCHEMA_REF:
				v = json_string(txt);
				disp = fr->display_at >= 0 && column_text(st, fr->display_at) ? column_text(st, fr->display_at)
											    : txt;
				break;
			case SCHEMA_TEXT:
				v = json_string(txt);
				disp = txt;
				break;
			}
			if (!v)
				v = json_null();
		}
		json_object_set_new(values, fr->name, v);
		json_object_set_new(display, fr->name, disp ? json_string(disp) : json_string(""));
	}
	return json_pack("{s:s, s:o, s:o, s:o}", "id", column_text(st, 0) ? column_text(st, 0) : "", "values", values,
			 "display", display, "labels", labels);
}

/* The WHERE clause common to a form's list and its one-row read: a branch is a unit
 * named of kind branch in the office's subtree. Binds ?9 (the office) when used. */
static void sql_form_where(sqlite3_str *q, const struct form *f)
{
	if (f->kind == FORM_BRANCH)
		sqlite3_str_appendall(q, " WHERE EXISTS (SELECT 1 FROM unit_name k WHERE k.of_unit = t.id AND k.kind = 'branch')"
					 " AND t.id IN (SELECT u FROM down)");
	else
		sqlite3_str_appendall(q, " WHERE 1");
}

/* Reads one row of form f as JSON: *out set (200), or NULL when there is none. 0, or
 * -1 on SQLite failure. */
static int form_read_one(struct app_api *a, const struct form *f, const char *id, json_t **out)
{
	struct form_read r;
	sqlite3_stmt *st = NULL;
	*out = NULL;
	if (form_read_build(f, &r) != 0)
		return -1;
	sqlite3_str *q = sqlite3_str_new(NULL);
	if (f->kind == FORM_BRANCH)
		sqlite3_str_appendall(q, SQL_DOWN_CTE);
	sqlite3_str_appendall(q, r.select);
	sql_form_where(q, f);
	sqlite3_str_appendall(q, " AND t.id = ?2");
	char *sql = sqlite3_str_finish(q);
	int ret = -1;
	if (sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = row_json(&r, st);
		ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	form_read_release(&r);
	return ret;
}

/* The search filter of a list: texts, choice labels, dates and linked names of the
 * row match the search key bound as ?1 (lk_match). */
static void sql_search(sqlite3_str *q, const struct form *f, const struct form_read *r)
{
	if (f->kind == FORM_BRANCH) {
		sqlite3_str_appendall(q, " AND (t.id IN (SELECT sn.of_unit FROM unit_name sn WHERE lk_match(?1, sn.name, sn.code)))");
		return;
	}
	/* the links first: probing a list of ids made once is cheaper than folding the
	 * row's own texts, which then run only for the rows no linked name matched */
	sqlite3_str_appendall(q, " AND (");
	for (size_t k = 0; k < r->n; k++) {
		const struct schema_column *c = r->f[k].col;
		if (!c || c->type != SCHEMA_REF)
			continue;
		sqlite3_str_appendf(q, "t.\"%w\" IN ", c->name);
		if (!sql_ref_matches(q, c->ref_table))
			sqlite3_str_appendall(q, "(SELECT NULL)");
		sqlite3_str_appendall(q, " OR ");
	}
	if (f->link_table) {
		sqlite3_str_appendf(q, "t.id IN (SELECT l.\"%w\" FROM \"%w\" l WHERE l.branch_id IN ", f->link_parent,
				    f->link_table);
		sql_ref_matches(q, "unit");
		sqlite3_str_appendall(q, ") OR ");
	}
	sqlite3_str_appendall(q, "lk_match(?1");
	for (size_t k = 0; k < r->n; k++) {
		const struct schema_column *c = r->f[k].col;
		if (!c || c->flags & (SCHEMA_ID | SCHEMA_OWNER))
			continue;
		char x[80];
		snprintf(x, sizeof x, "t.\"%s\"", c->name);
		if (c->type == SCHEMA_TEXT || c->type == SCHEMA_DATE || c->type == SCHEMA_INT) {
			sqlite3_str_appendf(q, ", %s", x);
		} else if (c->type == SCHEMA_ENUM) {
			sqlite3_str_appendall(q, ", ");
			sql_enum_label(q, c, x);
		}
	}
	sqlite3_str_appendall(q, "))");
}

/* 1 when a list may be sorted by column c's linked names through an index of the
 * column: links to units (sql_rank_fill) and people (person_walk). */
static int rank_sortable(const struct schema_column *c)
{
	return c && c->type == SCHEMA_REF &&
	       (strcmp(c->ref_table, "unit") == 0 || strcmp(c->ref_table, "person") == 0);
}

/* The commits of other connections (PRAGMA data_version) and the changes of ours: a
 * cache made while both are unchanged still holds. 0 or -1. */
static int data_token(struct app_api *a, long long *dv, long long *changes)
{
	sqlite3 *db = store_db(a->s);
	sqlite3_stmt *st = NULL;
	*dv = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*dv = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*changes = (long long)sqlite3_total_changes64(db);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Sorting by a linked name. Folding the name of the linked record once per row and
 * sorting 50,000 rows by it costs more than 100 ms; the rows of a table link to far
 * fewer records (a few dozen branches, or the people of the office). So the distinct
 * values of the column (NULL included) are ranked once — in the folded order of the
 * names they link to, a value naming no record first as an empty name, then by the
 * value — into temp.lk_app_rank(rank INTEGER PRIMARY KEY, v UNIQUE), and a page walks
 * that table in rank order joined to the column's index (APP_INDEXES): SQLite reads the
 * order from the two b-trees and sorts nothing. The ranks are kept while the database
 * is unchanged (no commit by another connection: PRAGMA data_version; none by ours:
 * sqlite3_total_changes64), so paging through a list ranks once. 0, or -1 on SQLite
 * failure.
 */
static int sql_rank_fill(struct app_api *a, const struct schema_table *t, const struct schema_column *c)
{
	sqlite3 *db = store_db(a->s);
	sqlite3_stmt *st = NULL;
	long long dv, changes;
	if (data_token(a, &dv, &changes) != 0)
		return -1;
	if (a->rank.t == t && a->rank.c == c && a->rank.data_version == dv && a->rank.changes == changes)
		return 0;
	a->rank.t = NULL;
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "INSERT INTO temp.lk_app_rank(v) SELECT d.v FROM (SELECT DISTINCT \"%w\" AS v FROM \"%w\") d"
			       " ORDER BY lk_fold(", c->name, t->name);
	sql_ref_name(q, c->ref_table, "d.v", 1);
	sqlite3_str_appendall(q, "), d.v");
	char *sql = sqlite3_str_finish(q);
	int ok = sql && sqlite3_exec(db, "DELETE FROM temp.lk_app_rank", NULL, NULL, NULL) == SQLITE_OK &&
		 sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (!ok)
		return -1;
	if (data_token(a, &dv, &changes) != 0) /* ours grew by the fill */
		return -1;
	a->rank = (struct rank_cache){ t, c, dv, changes };
	return 0;
}

/* The field a list is sorted by: `sort` when the form has it, else the form's default
 * (*desc set for a default that sorts newest first); NULL: by rowid. */
static const struct field_read *sort_field(const struct form *f, const struct form_read *r, const char *sort,
					   int *desc)
{
	const struct field_read *by = NULL;
	for (size_t k = 0; sort && k < r->n; k++)
		if (strcmp(r->f[k].name, sort) == 0)
			by = &r->f[k];
	if (!by && !sort && f->default_sort) {
		for (size_t k = 0; k < r->n; k++)
			if (strcmp(r->f[k].name, f->default_sort) == 0)
				by = &r->f[k];
		*desc = strcmp(f->default_sort, "year") == 0;
	}
	if (!by && !sort) /* newest first by the first date */
		for (size_t k = 0; k < r->n && !by; k++)
			if (r->f[k].col && r->f[k].col->type == SCHEMA_DATE) {
				by = &r->f[k];
				*desc = 1;
			}
	return by;
}

/* How a list is ordered (sort_plan): by the expression of its field (PLAIN), by the
 * ranks of the units a column links to (UNIT_RANK: temp.lk_app_rank), or by the kept
 * keys of people's names (PERSON_KEY: app_sortkey.h) — of the person a column links
 * to, or of the person itself (the column `id`). */
enum sort_kind { SORT_PLAIN, SORT_UNIT_RANK, SORT_PERSON_KEY };

struct sort_plan {
	const struct field_read *by; /* NULL: by rowid */
	enum sort_kind kind;
	const char *col;             /* the column compared (UNIT_RANK, PERSON_KEY) */
	int desc;
};

/* ORDER BY of plan p. */
static void sql_order(sqlite3_str *q, const struct sort_plan *p)
{
	const char *dir = p->desc ? "DESC" : "ASC";
	const struct field_read *by = p->by;
	if (!by || !by->col) {
		sqlite3_str_appendf(q, " ORDER BY t.rowid %s", dir);
		return;
	}
	char x[80];
	snprintf(x, sizeof x, "t.\"%s\"", p->kind == SORT_PLAIN ? by->col->name : p->col);
	sqlite3_str_appendall(q, " ORDER BY ");
	if (p->kind == SORT_UNIT_RANK) {
		sqlite3_str_appendf(q, "(SELECT r.rank FROM temp.lk_app_rank r WHERE r.v IS %s)", x);
	} else if (p->kind == SORT_PERSON_KEY) {
		/* a value naming no person (NULL key) first, as an empty name; then the key,
		 * the person, the row: the order person_walk reads from the indexes */
		sqlite3_str_appendf(q, "(SELECT k.key FROM lk_app_person_key k WHERE k.id = %s) %s, %s", x, dir, x);
	} else if (by->col->type == SCHEMA_TEXT) {
		sqlite3_str_appendf(q, "lk_fold(%s)", x);
	} else if (by->col->type == SCHEMA_ENUM) {
		sql_enum_label(q, by->col, x);
	} else if (by->col->type == SCHEMA_REF) {
		sqlite3_str_appendall(q, "lk_fold(");
		sql_ref_name(q, by->col->ref_table, x, 2);
		sqlite3_str_appendall(q, ")");
	} else {
		sqlite3_str_appendall(q, x);
	}
	sqlite3_str_appendf(q, " %s, t.rowid %s", dir, dir);
}

/* Appends to rids the rowids of `sql` (?1 limit, ?2 offset). The number added, or -1. */
static long long rowids_of(struct app_api *a, const char *sql, long long limit, long long offset, json_t *rids)
{
	sqlite3_stmt *st = NULL;
	if (limit <= 0)
		return 0;
	if (sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, offset);
	long long n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(rids, json_integer(sqlite3_column_int64(st, 0)));
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

/*
 * The rowids of one page of table t ordered by the kept keys of the people column col
 * links to (PERSON_KEY, no search), read from the indexes without sorting the rows:
 * the rows whose value names no person with a key ("orphans": NULL, or a person not on
 * this laptop) by the column's index, NOT EXISTS in the keys; the others walking
 * lk_app_person_key's (key, id) order joined to the column's index. Ascending, the
 * orphans come first (an empty name); descending, last. Their number is kept while the
 * database is unchanged (data_token). total: the rows of t. 0 or -1.
 */
static int person_walk(struct app_api *a, const struct schema_table *t, const char *col, int desc, long long offset,
		       long long limit, long long total, json_t *rids)
{
	const char *dir = desc ? "DESC" : "ASC";
	long long dv, changes;
	if (data_token(a, &dv, &changes) != 0)
		return -1;
	struct orphan_cache *oc = &a->orphans;
	if (!(oc->t == t && oc->col == col && oc->data_version == dv && oc->changes == changes)) {
		char *csql = sqlite3_mprintf("SELECT count(*) FROM \"%w\" t WHERE NOT EXISTS (SELECT 1 FROM"
					     " lk_app_person_key k WHERE k.id = t.\"%w\")", t->name, col);
		sqlite3_stmt *st = NULL;
		int ok = csql && sqlite3_prepare_v2(store_db(a->s), csql, -1, &st, NULL) == SQLITE_OK &&
			 sqlite3_step(st) == SQLITE_ROW;
		long long n = ok ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		sqlite3_free(csql);
		if (!ok)
			return -1;
		*oc = (struct orphan_cache){ t, col, dv, changes, n };
	}
	char *orphans = sqlite3_mprintf("SELECT t.rowid FROM \"%w\" t WHERE NOT EXISTS (SELECT 1 FROM lk_app_person_key k"
					" WHERE k.id = t.\"%w\") ORDER BY t.\"%w\" %s, t.rowid %s LIMIT ?1 OFFSET ?2",
					t->name, col, col, dir, dir);
	char *joined = sqlite3_mprintf("SELECT t.rowid FROM lk_app_person_key k CROSS JOIN \"%w\" t ON t.\"%w\" = k.id"
				       " ORDER BY k.key %s, k.id %s, t.rowid %s LIMIT ?1 OFFSET ?2",
				       t->name, col, dir, dir, dir);
	const char *first = desc ? joined : orphans, *second = desc ? orphans : joined;
	long long nfirst = desc ? total - oc->n : oc->n, got = 0;
	int ret = -1;
	if (!orphans || !joined)
		goto done;
	if (offset < nfirst) {
		if ((got = rowids_of(a, first, limit, offset, rids)) < 0)
			goto done;
		offset = 0;
	} else {
		offset -= nfirst;
	}
	if (rowids_of(a, second, limit - got, offset, rids) < 0)
		goto done;
	ret = 0;
done:
	sqlite3_free(orphans);
	sqlite3_free(joined);
	return ret;
}

/* The plan for a list of form f sorted as asked (sort_field), its ranks or keys made
 * ready. 0, or -1 on SQLite failure. */
static int sort_plan_make(struct app_api *a, const struct form *f, const struct form_read *r, const char *sort,
			  int desc, struct sort_plan *p)
{
	memset(p, 0, sizeof *p);
	p->desc = desc;
	if (f->kind == FORM_BRANCH)
		return 0;
	p->by = sort_field(f, r, sort, &p->desc);
	const struct schema_column *c = p->by ? p->by->col : NULL;
	if (!c)
		return 0;
	if (c->type == SCHEMA_REF && strcmp(c->ref_table, "unit") == 0) {
		p->kind = SORT_UNIT_RANK;
		p->col = c->name;
		return sql_rank_fill(a, form_table(f), c);
	}
	int person_ref = c->type == SCHEMA_REF && strcmp(c->ref_table, "person") == 0;
	if (person_ref || (strcmp(f->table, "person") == 0 && strcmp(c->name, "full_name") == 0)) {
		int rc = app_sortkey_refresh(store_db(a->s), SORTKEY_BUSY_MS, STORE_BUSY_TIMEOUT_MS);
		if (rc < 0)
			return -1;
		if (rc == 0) { /* else busy: by the folded names, row by row */
			p->kind = SORT_PERSON_KEY;
			p->col = person_ref ? c->name : "id";
		}
	}
	return 0;
}

/* The count of a list (f, its search when pat) into *total; csql binds ?1 and ?9. 0/-1. */
static int list_count(struct app_api *a, const struct form *f, const char *csql, const char *pat, long long *total)
{
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(store_db(a->s), csql, -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		if (pat)
			sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
		if (f->kind == FORM_BRANCH)
			sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_ROW;
		if (ok)
			*total = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

static void api_list(struct app_api *a, const struct form *f, const struct app_api_request *req,
		     struct app_api_response *resp)
{
	struct form_read r;
	struct sort_plan plan;
	sqlite3_stmt *st = NULL;
	char *sql = NULL, *csql = NULL, *walked = NULL, *pat = app_search_key(param_str(req, "q"));
	const char *sort = param_str(req, "sort");
	const char *dir = param_str(req, "dir");
	long long offset = param_int(req, "offset", 0, 0, INT32_MAX);
	long long limit = param_int(req, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX);
	json_t *rows = NULL;
	long long total = 0;
	int counted = 0;
	if (form_read_build(f, &r) != 0) {
		answer_internal(a, resp, "list");
		free(pat);
		return;
	}
	/* count */
	sqlite3_str *q = sqlite3_str_new(NULL);
	if (f->kind == FORM_BRANCH)
		sqlite3_str_appendall(q, SQL_DOWN_CTE);
	sqlite3_str_appendf(q, "SELECT count(*) FROM \"%w\" AS t", f->table);
	sql_form_where(q, f);
	if (pat)
		sql_search(q, f, &r);
	csql = sqlite3_str_finish(q);
	if (!csql || sort_plan_make(a, f, &r, sort, dir && strcmp(dir, "desc") == 0, &plan) != 0)
		goto fail;
	/* A plain list is counted first (cheap): its page may be read from the other end. */
	if (!pat) {
		if (list_count(a, f, csql, NULL, &total) != 0)
			goto fail;
		counted = 1;
	}
	/* page */
	q = sqlite3_str_new(NULL);
	if (f->kind == FORM_BRANCH) {
		sqlite3_str_appendall(q, SQL_DOWN_CTE);
		sqlite3_str_appendall(q, r.select);
		sql_form_where(q, f);
		if (pat)
			sql_search(q, f, &r);
	} else if (plan.kind == SORT_PERSON_KEY && !pat) {
		/* the page's rowids read from the indexes (person_walk), then its rows */
		json_t *rids = json_array();
		if (!rids || person_walk(a, form_table(f), plan.col, plan.desc, offset, limit, total, rids) != 0 ||
		    !(walked = json_dumps(rids, JSON_COMPACT))) {
			json_decref(rids);
			sqlite3_free(sqlite3_str_finish(q));
			goto fail;
		}
		json_decref(rids);
		sqlite3_str_appendall(q, r.select);
		sql_form_where(q, f);
		sqlite3_str_appendall(q, " AND t.rowid IN (SELECT value FROM json_each(?4))");
	} else {
		/* The page's rows are chosen first, by rowid, so the names shown (correlated
		 * subqueries) are looked up for them only, not for every row skipped. A search
		 * counts its matches in the same pass (count(*) OVER (): the match is
		 * evaluated once per row). A plain page past the middle is read from the other
		 * end (SQLite's top-N sort costs with the rows it keeps: offset + limit). */
		struct sort_plan page = plan;
		long long po = offset, pl = limit;
		if (!pat && offset > total / 2) {
			long long end_at = offset + limit < total ? offset + limit : total;
			page.desc = !plan.desc;
			po = total - end_at;
			pl = end_at > offset ? end_at - offset : 0;
		}
		/* by the units' ranks, a search too walks the ranks (and is counted apart):
		 * filtering rows in order until the page is full sorts nothing */
		int walk = plan.kind == SORT_UNIT_RANK;
		sqlite3_str_appendf(q, "WITH page(rid, n) AS (SELECT t.rowid, %s FROM ",
				    pat && !walk ? "count(*) OVER ()" : "NULL");
		if (walk) /* the order read from the ranks and the column's index */
			sqlite3_str_appendf(q, "temp.lk_app_rank r JOIN \"%w\" AS t ON t.\"%w\" IS r.v", f->table, plan.col);
		else
			sqlite3_str_appendf(q, "\"%w\" AS t", f->table);
		sql_form_where(q, f);
		if (pat)
			sql_search(q, f, &r);
		if (walk)
			sqlite3_str_appendf(q, " ORDER BY r.rank %s, t.rowid %s", page.desc ? "DESC" : "ASC",
					    page.desc ? "DESC" : "ASC");
		else
			sql_order(q, &page);
		sqlite3_str_appendf(q, " LIMIT %lld OFFSET %lld) ", pl, po);
		/* r.select with the total of the page's query as its last column */
		sqlite3_str_appendf(q, "%.*s, (SELECT n FROM page LIMIT 1)%s", (int)r.from, r.select, r.select + r.from);
		sqlite3_str_appendall(q, " WHERE t.rowid IN (SELECT rid FROM page)");
	}
	if (f->kind == FORM_BRANCH) {
		/* a few hundred rows at most: by the folded text of the chosen column */
		const char *col = "lk_fold(c_name)";
		if (sort && strcmp(sort, "parent_id") == 0)
			col = "lk_fold(c_parent_name)";
		else if (sort && strcmp(sort, "code") == 0)
			col = "c_code";
		else if (sort && strcmp(sort, "opened_on") == 0)
			col = "c_opened_on";
		sqlite3_str_appendf(q, " ORDER BY %s %s, t.rowid", col, plan.desc ? "DESC" : "ASC");
		sqlite3_str_appendall(q, " LIMIT ?2 OFFSET ?3");
	} else {
		sql_order(q, &plan);
	}
	sql = sqlite3_str_finish(q);
	if (!sql || sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (pat)
		sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	if (f->kind == FORM_BRANCH) {
		sqlite3_bind_int64(st, 2, limit);
		sqlite3_bind_int64(st, 3, offset);
	}
	if (walked)
		sqlite3_bind_text(st, 4, walked, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
	rows = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(rows, row_json(&r, st));
		if (f->kind != FORM_BRANCH && pat && !counted && plan.kind != SORT_UNIT_RANK) {
			total = sqlite3_column_int64(st, sqlite3_column_count(st) - 1);
			counted = 1;
		}
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	/* A search's page counted its rows; a branch list or a search's page past the end
	 * is counted on its own. A search with no row at offset 0 has 0. */
	if (!counted && (f->kind == FORM_BRANCH || offset > 0 || plan.kind == SORT_UNIT_RANK) &&
	    list_count(a, f, csql, pat, &total) != 0)
		goto fail;
	answer_json(resp, 200, json_pack("{s:I, s:o}", "total", (json_int_t)total, "rows", rows));
	rows = NULL;
	goto done;
fail:
	answer_internal(a, resp, "list");
done:
	json_decref(rows);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	sqlite3_free(csql);
	free(walked);
	free(pat);
	form_read_release(&r);
}

/* ---- pickers ---- */

static void api_pick(struct app_api *a, const char *key, const struct app_api_request *req,
		     struct app_api_response *resp)
{
	char *pat = app_search_key(param_str(req, "q"));
	long long limit = param_int(req, "limit", PICK_LIMIT_DEFAULT, 1, PICK_LIMIT_MAX);
	sqlite3_str *q = sqlite3_str_new(NULL);
	const struct schema_table *ut = schema_table_find("unit_name", SCHEMA_VERSION);
	if (strcmp(key, "unit") == 0) {
		sqlite3_str_appendall(q, SQL_DOWN_CTE "SELECT d.u, ");
		sql_ref_name(q, "unit", "d.u", 1);
		sqlite3_str_appendall(q, " AS label, (SELECT ");
		sql_enum_label(q, schema_column_find(ut, "kind", SCHEMA_VERSION), "k.kind");
		sqlite3_str_appendall(q, " FROM unit_name k WHERE k.of_unit = d.u ORDER BY (k.valid_to IS NULL) DESC,"
					 " k.valid_from DESC LIMIT 1) || coalesce(' · ' || ");
		sql_ref_name(q, "unit", "(SELECT pp.parent_id FROM unit_parent pp WHERE pp.of_unit = d.u"
					" ORDER BY (pp.valid_to IS NULL) DESC, pp.valid_from DESC LIMIT 1)", 2);
		sqlite3_str_appendall(q, ", '') FROM down d");
		if (pat)
			sqlite3_str_appendall(q, " WHERE d.u IN (SELECT sn.of_unit FROM unit_name sn WHERE lk_match(?1, sn.name, sn.code))");
		sqlite3_str_appendall(q, " ORDER BY (d.u = ?9) DESC, lk_fold(label) LIMIT ?2");
	} else if (strcmp(key, "person") == 0) {
		sqlite3_str_appendall(q, "SELECT p.id, p.full_name, coalesce(p.birth_year, '') || coalesce(' · ' || ");
		sql_ref_name(q, "unit", "p.unit_id", 1);
		sqlite3_str_appendall(q, ", '') FROM person p");
		if (pat)
			sqlite3_str_appendall(q, " WHERE lk_match(?1, p.full_name, p.birth_year)");
		sqlite3_str_appendall(q, " ORDER BY lk_fold(p.full_name), p.birth_year LIMIT ?2");
	} else if (strcmp(key, "meeting") == 0 || strcmp(key, "volunteer") == 0) {
		int m = key[0] == 'm';
		sqlite3_str_appendf(q, "SELECT x.id, ");
		sql_ref_name(q, key, "x.id", 1);
		sqlite3_str_appendall(q, " AS label, ");
		sql_ref_name(q, "unit", "x.unit_id", 2);
		sqlite3_str_appendf(q, " FROM %s x", m ? "meeting" : "volunteer");
		if (pat)
			sqlite3_str_appendall(q, " WHERE lk_match(?1, label)");
		sqlite3_str_appendf(q, " ORDER BY x.%s DESC LIMIT ?2", m ? "held_on" : "started_on");
	} else {
		sqlite3_free(sqlite3_str_finish(q));
		free(pat);
		answer_error(resp, 404, "Không có danh sách chọn này.");
		return;
	}
	char *sql = sqlite3_str_finish(q);
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int rc = SQLITE_ERROR;
	if (sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
		if (pat)
			sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, limit);
		sqlite3_bind_text(st, BIND_OFFICE, store_unit_id(a->s), -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = column_text(st, 0), *label = column_text(st, 1), *detail = column_text(st, 2);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", id ? id : "", "label",
							     label ? label : (id ? id : ""), "detail", detail ? detail : ""));
		}
	}
	if (rc == SQLITE_DONE) {
		answer_json(resp, 200, arr);
		arr = NULL;
	} else {
		answer_internal(a, resp, "pick");
	}
	json_decref(arr);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	free(pat);
}

/* ---- writing ---- */

/* Where refusals of a form's write go: field → first Vietnamese message. */
struct errors {
	json_t *obj;
	const struct form *f;
	const char *forced; /* all refusals go to this field (a link row), or NULL */
};

static void errors_add(struct errors *e, const char *field, const char *text)
{
	if (!json_object_get(e->obj, field))
		json_object_set_new(e->obj, field, json_string(text));
}

/* The form field a refused column belongs to. */
static const char *errors_field(const struct errors *e, const struct schema_column *col)
{
	if (e->forced)
		return e->forced;
	if (!col || col->flags & SCHEMA_ID)
		return "";
	if (e->f->kind == FORM_BRANCH) {
		for (size_t i = 0; i < sizeof branch_fields / sizeof branch_fields[0]; i++)
			if (strcmp(col->name, branch_fields[i]) == 0)
				return branch_fields[i];
		return strcmp(col->name, "valid_from") == 0 ? "opened_on" : "";
	}
	return col->name;
}

static void sink_refuse(void *ctx, unsigned long line, const struct schema_column *col, const char *text)
{
	(void)line;
	struct errors *e = ctx;
	/* A branch's name and parent rows name the unit row written first; when that row
	 * was refused (its opening date wrong) they cannot name it either: the field
	 * already says what to fix, a second "required" with no field would only puzzle. */
	if (e->f->kind == FORM_BRANCH && !e->forced && col && strcmp(col->name, "of_unit") == 0 &&
	    json_object_size(e->obj) > 0)
		return;
	char t[RECORDS_TEXT_MAX];
	snprintf(t, sizeof t, "%s", text);
	if (t[0] >= 'a' && t[0] <= 'z') /* a sentence of its own next to the field */
		t[0] = (char)(t[0] - 'a' + 'A');
	errors_add(e, errors_field(e, col), t);
}

/* 1 when row id exists in table (a schema name). -1 on SQLite failure. */
static int row_exists(struct app_api *a, const char *table, const char *id)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE id = ?1", table);
	int ret = -1;
	if (sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return ret;
}

static const char *missing_ref_text(const char *ref_table)
{
	if (strcmp(ref_table, "person") == 0)
		return "Không có người này trong sổ. Hãy chọn một người trong danh sách (hoặc thêm người đó trước).";
	if (strcmp(ref_table, "unit") == 0)
		return "Không có đơn vị, chi đoàn này. Hãy chọn trong danh sách (hoặc thêm chi đoàn trước).";
	return "Không có bản ghi được chọn. Hãy chọn trong danh sách.";
}

/* The command-line text of JSON value v for column c into buf (cap bytes): *text
 * points at it (or at a string of v). 0, or -1 after adding an error for field. */
static int value_text(struct app_api *a, struct errors *e, const char *field, const struct schema_column *c,
		      json_t *v, char *buf, size_t cap, const char **text, int *failed)
{
	*text = NULL;
	if (json_is_null(v)) {
		*text = "";
		return 0;
	}
	switch (c->type) {
	case SCHEMA_INT:
		if (json_is_integer(v)) {
			snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
			*text = buf;
			return 0;
		}
		if (json_is_string(v)) {
			*text = json_string_value(v);
			return 0;
		}
		break;
	case SCHEMA_BOOL:
		if (json_is_boolean(v)) {
			*text = json_is_true(v) ? "1" : "0";
			return 0;
		}
		if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
			*text = json_integer_value(v) ? "1" : "0";
			return 0;
		}
		break;
	case SCHEMA_REF: {
		if (!json_is_string(v))
			break;
		const char *s = json_string_value(v);
		if (!*s) {
			*text = "";
			return 0;
		}
		int ex = ids_uuid_valid(s) ? row_exists(a, c->ref_table, s) : 0;
		if (ex < 0) {
			*failed = 1;
			return -1;
		}
		if (!ex) {
			errors_add(e, field, missing_ref_text(c->ref_table));
			return -1;
		}
		*text = s;
		return 0;
	}
	case SCHEMA_TEXT:
	case SCHEMA_ENUM:
	case SCHEMA_DATE: /* dd/mm/yyyy or ISO: records.h reads it and says what is wrong */
		if (json_is_string(v)) {
			*text = json_string_value(v);
			return 0;
		}
		break;
	}
	errors_add(e, field, "Giá trị không hợp lệ.");
	return -1;
}

/* The ids of a `branches` value, checked to exist; NULL after an error for the field
 * (or *failed on SQLite failure). The array is borrowed from v. */
static json_t *links_value(struct app_api *a, struct errors *e, json_t *v, int *failed)
{
	if (json_is_null(v))
		return json_array();
	if (!json_is_array(v)) {
		errors_add(e, "branches", "Giá trị không hợp lệ.");
		return NULL;
	}
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		const char *id = json_string_value(x);
		int ex = id && ids_uuid_valid(id) ? row_exists(a, "unit", id) : 0;
		if (ex < 0) {
			*failed = 1;
			return NULL;
		}
		if (!ex) {
			errors_add(e, "branches", missing_ref_text("unit"));
			return NULL;
		}
	}
	return json_incref(v);
}

/* Brings the link rows of row `id` to exactly the ids of `want`. 0, or -1 (refused:
 * errors filled; or *failed). */
static int links_write(struct app_api *a, const struct form *f, struct errors *e, const char *id, json_t *want,
		       int *failed)
{
	const struct schema_table *lt = schema_table_find(f->link_table, SCHEMA_VERSION);
	struct errors le = { e->obj, f, "branches" };
	struct records_sink sink = { .refuse = sink_refuse, .ctx = &le };
	struct records_writer *w = records_writer_new(a->s, lt, &sink);
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (!w) {
		*failed = 1;
		return -1;
	}
	/* existing rows not wanted: delete */
	char *sql = sqlite3_mprintf("SELECT id, branch_id FROM \"%w\" WHERE \"%w\" = ?1", lt->name, f->link_parent);
	json_t *gone = json_array(), *have = json_array();
	if (!sql || sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) != SQLITE_OK) {
		*failed = 1;
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *lid = column_text(st, 0), *b = column_text(st, 1);
		int wanted = 0;
		size_t i;
		json_t *x;
		json_array_foreach(want, i, x)
			if (b && json_string_value(x) && strcmp(json_string_value(x), b) == 0)
				wanted = 1;
		json_array_append_new(wanted ? have : gone, json_string(wanted ? b : lid));
	}
	if (rc != SQLITE_DONE) {
		*failed = 1;
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	size_t i;
	json_t *x;
	json_array_foreach(gone, i, x) {
		enum records_result r = records_delete(w, json_string_value(x));
		if (r == RECORDS_FAILED) {
			*failed = 1;
			goto done;
		}
		if (r != RECORDS_DELETED)
			goto done;
	}
	const struct schema_column *pc = schema_column_find(lt, f->link_parent, SCHEMA_VERSION);
	const struct schema_column *bc = schema_column_find(lt, "branch_id", SCHEMA_VERSION);
	json_array_foreach(want, i, x) {
		const char *b = json_string_value(x);
		int dup = 0;
		size_t j;
		json_t *y;
		json_array_foreach(have, j, y)
			if (strcmp(json_string_value(y), b) == 0)
				dup = 1;
		if (dup)
			continue;
		json_array_append_new(have, json_string(b));
		const char *text[ROW_COLS] = { 0 };
		text[schema_column_index(lt, pc)] = id;
		text[schema_column_index(lt, bc)] = b;
		char lid[IDS_UUID_TEXT];
		enum records_result r = records_write(w, text, NULL, lid);
		if (r == RECORDS_FAILED) {
			*failed = 1;
			goto done;
		}
		if (r == RECORDS_REJECTED)
			goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	json_decref(gone);
	json_decref(have);
	records_writer_free(w);
	return ret;
}

/* The current unit_name / unit_parent row of a branch (id into out). 1, 0 none, -1. */
static int branch_part(struct app_api *a, const char *table, const char *unit, char out[IDS_UUID_TEXT])
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("SELECT id FROM \"%w\" WHERE of_unit = ?1 ORDER BY (valid_to IS NULL) DESC,"
				    " valid_from DESC LIMIT 1", table);
	int ret = -1;
	if (sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			snprintf(out, IDS_UUID_TEXT, "%s", column_text(st, 0));
		ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return ret;
}

/* Writes one table's row of a form: text for the named fields of values (field name
 * = column name unless renamed by `as`), then records_write. */
struct part {
	const char *table;
	const char *set_id;         /* update this row; NULL inserts */
	const char *fixed[ROW_COLS]; /* fixed texts by column index (NULL: from values) */
	const char *as[ROW_COLS];    /* the form field of a column, NULL: none */
};

static int part_write(struct app_api *a, struct errors *e, json_t *values, const struct part *p, int update,
		      char out_id[IDS_UUID_TEXT], int *failed)
{
	const struct schema_table *t = schema_table_find(p->table, SCHEMA_VERSION);
	const char *text[ROW_COLS] = { 0 };
	char bufs[ROW_COLS][32];
	int bad = 0;
	for (size_t i = 1; i < t->ncolumns; i++) {
		if (p->fixed[i]) {
			text[i] = p->fixed[i];
			continue;
		}
		if (!p->as[i])
			continue;
		json_t *v = json_object_get(values, p->as[i]);
		if (!v)
			continue;
		if (value_text(a, e, p->as[i], &t->columns[i], v, bufs[i], sizeof bufs[i], &text[i], failed) != 0)
			bad = 1;
		else if (update && i == 1)
			text[i] = NULL; /* the owner never changes: records.h refuses it */
	}
	if (*failed)
		return -1;
	(void)bad;
	struct records_sink sink = { .refuse = sink_refuse, .ctx = e };
	struct records_writer *w = records_writer_new(a->s, t, &sink);
	if (!w) {
		*failed = 1;
		return -1;
	}
	/* Written even when a field was wrong, so every refusal of the form is collected;
	 * the caller rolls back. A field already refused is left out. */
	for (size_t i = 1; i < t->ncolumns; i++)
		if (p->as[i] && json_object_get(e->obj, p->as[i]) && !p->fixed[i])
			text[i] = NULL;
	enum records_result r = records_write(w, text, p->set_id, out_id);
	records_writer_free(w);
	if (r == RECORDS_FAILED)
		*failed = 1;
	return r == RECORDS_REJECTED || r == RECORDS_FAILED ? -1 : 0;
}

/* Writes a whole form (create when id is NULL) inside the caller's transaction. The
 * row id goes to out_id. 0 ok; -1 refused (errors) or *failed. */
static int form_write(struct app_api *a, const struct form *f, struct errors *e, json_t *values, const char *id,
		      char out_id[IDS_UUID_TEXT], int *failed)
{
	if (f->kind == FORM_BRANCH) {
		struct part u = { .table = "unit", .set_id = id };
		struct part n = { .table = "unit_name" };
		struct part p = { .table = "unit_parent" };
		/* unit(id, unit_id, opened_on) */
		u.as[2] = "opened_on";
		if (part_write(a, e, values, &u, id != NULL, out_id, failed) != 0 && *failed)
			return -1;
		const char *unit = id ? id : out_id;
		char nid[IDS_UUID_TEXT] = "", pid[IDS_UUID_TEXT] = "", pbuf[IDS_UUID_TEXT];
		if (id) {
			if (branch_part(a, "unit_name", id, nid) < 0 || branch_part(a, "unit_parent", id, pid) < 0) {
				*failed = 1;
				return -1;
			}
		}
		/* unit_name(of_unit, name, code, kind, valid_from, valid_to) */
		n.set_id = nid[0] ? nid : NULL;
		if (!n.set_id) {
			n.fixed[2] = unit;
			n.fixed[5] = "branch";
		}
		n.as[3] = "name";
		n.as[4] = "code";
		n.as[6] = "opened_on"; /* the name holds from the opening */
		if (part_write(a, e, values, &n, n.set_id != NULL, pbuf, failed) != 0 && *failed)
			return -1;
		/* unit_parent(of_unit, parent_id, valid_from, valid_to) */
		p.set_id = pid[0] ? pid : NULL;
		if (!p.set_id)
			p.fixed[2] = unit;
		p.as[3] = "parent_id";
		p.as[4] = "opened_on";
		if (!p.set_id && !json_object_get(values, "parent_id"))
			p.fixed[3] = store_unit_id(a->s);
		if (part_write(a, e, values, &p, p.set_id != NULL, pbuf, failed) != 0 && *failed)
			return -1;
		return json_object_size(e->obj) ? -1 : 0;
	}
	const struct schema_table *t = form_table(f);
	struct part m = { .table = t->name, .set_id = id };
	for (size_t i = 1; i < t->ncolumns; i++)
		m.as[i] = t->columns[i].name;
	json_t *links = NULL;
	json_t *bv = f->link_table ? json_object_get(values, "branches") : NULL;
	if (bv && !(links = links_value(a, e, bv, failed)) && *failed)
		return -1;
	if (part_write(a, e, values, &m, id != NULL, out_id, failed) != 0 && *failed) {
		json_decref(links);
		return -1;
	}
	if (links && !json_object_size(e->obj))
		links_write(a, f, e, id ? id : out_id, links, failed);
	json_decref(links);
	if (*failed)
		return -1;
	return json_object_size(e->obj) ? -1 : 0;
}

/* Parses a write's body: {"values": {…}}. NULL after answering 400. */
static json_t *body_values(const struct app_api_request *req, struct app_api_response *resp, json_t **root)
{
	json_error_t jerr;
	*root = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *v = *root ? json_object_get(*root, "values") : NULL;
	if (!json_is_object(v)) {
		answer_error(resp, 400, "Dữ liệu gửi lên không đúng dạng.");
		return NULL;
	}
	/* only the form's fields */
	return v;
}

static int form_has_field(const struct form *f, const char *name)
{
	if (f->kind == FORM_BRANCH) {
		for (size_t i = 0; i < sizeof branch_fields / sizeof branch_fields[0]; i++)
			if (strcmp(branch_fields[i], name) == 0)
				return 1;
		return 0;
	}
	if (f->link_table && strcmp(name, "branches") == 0)
		return 1;
	const struct schema_column *c = schema_column_find(form_table(f), name, SCHEMA_VERSION);
	return c && !(c->flags & SCHEMA_ID);
}

/* 1 when row id of form f exists; else 0 after answering (404, or 500/503). */
static int row_present(struct app_api *a, const struct form *f, const char *id, struct app_api_response *resp)
{
	json_t *cur = NULL;
	if (form_read_one(a, f, id, &cur) != 0) {
		answer_internal(a, resp, "read");
		return 0;
	}
	if (!cur) {
		answer_error(resp, 404, "Không tìm thấy bản ghi này (có thể đã bị xoá).");
		return 0;
	}
	json_decref(cur);
	return 1;
}

/* 422 with every refusal by field. */
static void answer_errors(struct app_api_response *resp, const struct errors *e)
{
	answer_json(resp, 422, json_pack("{s:O}", "errors", e->obj));
}

static int tx(struct app_api *a, const char *what)
{
	return sqlite3_exec(store_db(a->s), what, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Ends a form's write transaction by its outcome r: 0 commits (1 returned, *in_tx
 * cleared); -1 (refused: 422 with e) and -2 (failed: 500/503), or a failed commit,
 * answer and return 0, leaving the rollback to the caller. */
static int tx_finish(struct app_api *a, struct app_api_response *resp, int r, const struct errors *e, int *in_tx)
{
	if (r == -1) {
		answer_errors(resp, e);
		return 0;
	}
	if (r != 0 || tx(a, "COMMIT") != 0) {
		answer_internal(a, resp, r ? "write" : "commit");
		return 0;
	}
	*in_tx = 0;
	return 1;
}

static void api_write(struct app_api *a, const struct form *f, const char *id, const struct app_api_request *req,
		      struct app_api_response *resp)
{
	json_t *root = NULL;
	json_t *values = body_values(req, resp, &root);
	struct errors e = { json_object(), f, NULL };
	char out_id[IDS_UUID_TEXT] = "";
	int failed = 0, in_tx = 0;
	if (!values)
		goto done;
	const char *k;
	json_t *v;
	json_object_foreach(values, k, v)
		if (!form_has_field(f, k))
			errors_add(&e, k, "Biểu mẫu này không có trường này.");
	if (json_object_size(e.obj)) {
		answer_errors(resp, &e);
		goto done;
	}
	if (id && !row_present(a, f, id, resp))
		goto done;
	if (tx(a, "BEGIN IMMEDIATE") != 0) {
		answer_internal(a, resp, "begin");
		goto done;
	}
	in_tx = 1;
	int r = form_write(a, f, &e, values, id, out_id, &failed) != 0 || failed ? (failed ? -2 : -1) : 0;
	if (!tx_finish(a, resp, r, &e, &in_tx))
		goto done;
	json_t *row = NULL;
	if (form_read_one(a, f, id ? id : out_id, &row) != 0 || !row) {
		json_decref(row);
		answer_internal(a, resp, "read back");
		goto done;
	}
	answer_json(resp, id ? 200 : 201, row);
done:
	if (in_tx)
		tx(a, "ROLLBACK");
	json_decref(e.obj);
	json_decref(root);
}

/* How many rows of other records link to row `id` of `table` (leaving out the rows
 * deleted with it: its own link rows; a branch's names and parent links). -1 on
 * failure. The first such table's label goes to *what. */
static long long referrers(struct app_api *a, const struct form *f, const char *id, const char **what)
{
	long long total = 0;
	*what = NULL;
	for (size_t ti = 0; ti < schema_ntables; ti++) {
		const struct schema_table *t = &schema_tables[ti];
		if (f->link_table && strcmp(t->name, f->link_table) == 0)
			continue;
		for (size_t ci = 1; ci < t->ncolumns; ci++) {
			const struct schema_column *c = &t->columns[ci];
			if (c->type != SCHEMA_REF || strcmp(c->ref_table, f->table) != 0)
				continue;
			if (f->kind == FORM_BRANCH && (strcmp(t->name, "unit_name") == 0 || strcmp(t->name, "unit_parent") == 0) &&
			    strcmp(c->name, "of_unit") == 0)
				continue;
			if (f->kind == FORM_TABLE && strcmp(t->name, f->table) == 0 && ci == 0)
				continue;
			sqlite3_stmt *st = NULL;
			char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\" WHERE \"%w\" = ?1", t->name, c->name);
			long long n = -1;
			if (sql && sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
				if (sqlite3_step(st) == SQLITE_ROW)
					n = sqlite3_column_int64(st, 0);
			}
			sqlite3_finalize(st);
			sqlite3_free(sql);
			if (n < 0)
				return -1;
			if (n > 0 && !*what)
				*what = t->label_vi;
			total += n;
		}
	}
	return total;
}

/* Deletes the rows of `table` whose `col` is `id` (a form's parts). 0, -1 refused, -2
 * failed. */
static int delete_where(struct app_api *a, struct errors *e, const char *table, const char *col, const char *id)
{
	const struct schema_table *t = schema_table_find(table, SCHEMA_VERSION);
	struct records_sink sink = { .refuse = sink_refuse, .ctx = e };
	struct records_writer *w = records_writer_new(a->s, t, &sink);
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("SELECT id FROM \"%w\" WHERE \"%w\" = ?1", table, col);
	json_t *ids = json_array();
	int ret = -2, rc;
	if (!w || !sql || sqlite3_prepare_v2(store_db(a->s), sql, -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, json_string(column_text(st, 0)));
	if (rc != SQLITE_DONE)
		goto done;
	size_t i;
	json_t *x;
	ret = 0;
	json_array_foreach(ids, i, x) {
		enum records_result r = records_delete(w, json_string_value(x));
		if (r != RECORDS_DELETED) {
			ret = r == RECORDS_FAILED ? -2 : -1;
			break;
		}
	}
done:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	json_decref(ids);
	records_writer_free(w);
	return ret;
}

static void api_delete(struct app_api *a, const struct form *f, const char *id, struct app_api_response *resp)
{
	struct errors e = { json_object(), f, NULL };
	int in_tx = 0;
	if (!row_present(a, f, id, resp))
		goto done;
	if (tx(a, "BEGIN IMMEDIATE") != 0) {
		answer_internal(a, resp, "begin");
		goto done;
	}
	in_tx = 1;
	const char *what = NULL;
	long long n = referrers(a, f, id, &what);
	if (n < 0) {
		answer_internal(a, resp, "referrers");
		goto done;
	}
	if (n > 0) {
		char m[300];
		snprintf(m, sizeof m, "Còn %lld bản ghi khác dùng bản ghi này (ví dụ: %s). Hãy sửa hoặc xoá chúng trước.", n,
			 what);
		errors_add(&e, "", m);
		answer_errors(resp, &e);
		goto done;
	}
	int r = 0;
	if (f->kind == FORM_BRANCH) {
		r = delete_where(a, &e, "unit_name", "of_unit", id);
		if (!r)
			r = delete_where(a, &e, "unit_parent", "of_unit", id);
		if (!r)
			r = delete_where(a, &e, "unit", "id", id);
	} else {
		if (f->link_table)
			r = delete_where(a, &e, f->link_table, f->link_parent, id);
		if (!r)
			r = delete_where(a, &e, f->table, "id", id);
	}
	if (!tx_finish(a, resp, r, &e, &in_tx))
		goto done;
	answer_json(resp, 200, json_pack("{s:b}", "deleted", 1));
done:
	if (in_tx)
		tx(a, "ROLLBACK");
	json_decref(e.obj);
}

/* ---- sync ---- */

/* The form a table's rows are edited in (a branch's parts: branch). */
static const char *form_of_table(const char *table)
{
	if (!table)
		return NULL;
	if (strcmp(table, "unit") == 0 || strcmp(table, "unit_name") == 0 || strcmp(table, "unit_parent") == 0)
		return "branch";
	if (strcmp(table, "meeting_branch") == 0)
		return "meeting";
	if (strcmp(table, "volunteer_branch") == 0)
		return "volunteer";
	for (size_t i = 0; i < NFORMS; i++)
		if (strcmp(forms[i].table, table) == 0)
			return forms[i].key;
	return NULL;
}

static const char *refused_advice(const char *code)
{
	if (code && (strcmp(code, "out_of_scope") == 0 || strcmp(code, "owner_changed") == 0))
		return "Bản ghi thuộc đơn vị ngoài phạm vi của máy này. Hãy sửa trường Đơn vị, hoặc hỏi Tỉnh đoàn.";
	if (code && strcmp(code, "dangling_ref") == 0)
		return "Bản ghi trỏ tới một người hoặc đơn vị Tỉnh đoàn chưa có. Hãy mở bản ghi và chọn lại.";
	if (code && strcmp(code, "hub_only") == 0)
		return "Chỉ Tỉnh đoàn được ghi loại bản ghi này. Hãy báo Tỉnh đoàn.";
	return "Hãy mở bản ghi, sửa trường được nêu rồi lưu lại; lần đồng bộ sau sẽ gửi lại.";
}

static void api_sync_get(struct app_api *a, struct app_api_response *resp)
{
	struct app_sync_state st;
	uint64_t pending = 0, bytes = 0;
	char *last = NULL;
	json_t *refused = json_array();
	sqlite3_stmt *q = NULL;
	app_sync_get(a->sync, &st);
	if (journal_pending(a->s, &pending, &bytes) != 0 || store_config_get(a->s, "last_sync_ms", &last) < 0)
		goto fail;
	if (sqlite3_prepare_v2(store_db(a->s),
			       "SELECT q.code, q.tbl, q.row_id, q.field, q.message FROM lk_quarantine q"
			       " ORDER BY q.at_ms DESC, q.seq DESC LIMIT ?1",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(q, 1, REFUSED_MAX);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *code = column_text(q, 0), *tbl = column_text(q, 1), *rid = column_text(q, 2),
			   *field = column_text(q, 3);
		const struct schema_table *t = tbl ? schema_table_find(tbl, SCHEMA_VERSION) : NULL;
		const struct schema_column *c = t && field ? schema_column_find(t, field, SCHEMA_VERSION) : NULL;
		const char *form = form_of_table(tbl);
		char m[RECORDS_TEXT_MAX];
		if (c)
			snprintf(m, sizeof m, "%s: %s", c->label_vi, msg_code_lang(code, 0));
		else
			snprintf(m, sizeof m, "%s", msg_code_lang(code, 0));
		json_array_append_new(refused,
				      json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:s}", "form", form, "id", rid, "field", field,
						"label", t ? t->label_vi : "", "message", m, "advice", refused_advice(code)));
	}
	if (rc != SQLITE_DONE)
		goto fail;
	json_t *last_ok = json_null();
	if (last && *last) {
		/* Vietnam's time by arithmetic (no gmtime_r: the Windows build) */
		char iso[40], day[DATETEXT_SIZE];
		int64_t ms = strtoll(last, NULL, 10);
		int64_t sec = ((ms / 1000 + 7 * 3600) % 86400 + 86400) % 86400;
		figures_vn_date(ms, day);
		snprintf(iso, sizeof iso, "%sT%02d:%02d:%02d+07:00", day, (int)(sec / 3600), (int)(sec / 60 % 60),
			 (int)(sec % 60));
		json_decref(last_ok);
		last_ok = json_string(iso);
	}
	answer_json(resp, 200,
		    json_pack("{s:b, s:s, s:I, s:I, s:I, s:o, s:I, s:o, s:s?, s:s?}", "running", st.running, "phase",
			      app_sync_phase_str(st.phase), "sent", (json_int_t)st.sent, "total", (json_int_t)st.total,
			      "received", (json_int_t)st.received, "last_ok", last_ok, "pending", (json_int_t)pending,
			      "refused", refused, "error", st.error_vi[0] ? st.error_vi : NULL, "error_code",
			      st.error_vi[0] && st.error[0] ? st.error : NULL));
	refused = NULL;
	goto done;
fail:
	answer_internal(a, resp, "sync state");
done:
	json_decref(refused);
	sqlite3_finalize(q);
	free(last);
}

static void api_sync_post(struct app_api *a, struct app_api_response *resp)
{
	int r = app_sync_start(a->sync, 0);
	if (r == 0)
		answer_json(resp, 202, json_pack("{s:b}", "started", 1));
	else if (r == 1)
		answer_error(resp, 409, "Đang đồng bộ; hãy đợi lần này xong.");
	else
		answer_error(resp, 500, "Không bắt đầu đồng bộ được trên máy này. Hãy báo cán bộ kỹ thuật.");
}

/* ---- what the province will see ---- */

/* GET /api/figures?year=Y: the office's figures for Y beside Y−1, computed here by the
 * hub's code (office_figures.h): the very JSON of the hub's /v1/report. */
static void api_figures(struct app_api *a, const struct app_api_request *req, struct app_api_response *resp)
{
	char today[DATETEXT_SIZE];
	figures_vn_date(store_wall_ms(), today);
	long long year = param_int(req, "year", atoi(today), 0, 9999);
	char *json = NULL;
	size_t len = 0;
	struct report_error err;
	memset(&err, 0, sizeof err);
	int rc = office_figures_json(a->s, (int)year, today, &json, &len, &err);
	if (rc == REPORT_OK) {
		resp->status = 200;
		resp->content_type = "application/json; charset=utf-8";
		resp->body = json;
		resp->body_len = len;
		return;
	}
	fprintf(stderr, "lienket-agent app: figures: %s\n", err.message);
	if (rc == REPORT_UNKNOWN_UNIT)
		answer_error(resp, 404, "Máy này chưa có cây đơn vị của tỉnh: hãy đồng bộ một lần, rồi xem lại.");
	else if (rc == REPORT_BAD_ARGUMENT)
		answer_error(resp, 400, "Năm không hợp lệ (từ 2000 đến năm nay).");
	else
		answer_error(resp, (unsigned)report_http_status(rc), "Lỗi trên máy này khi tính các chỉ tiêu. Hãy báo cán bộ kỹ thuật.");
}

/* ---- CSV ---- */

#define CSV_ERRORS_MAX 200 /* lines told to the page at most; the rest are counted */

/* The table a form's CSV holds: the form's own (a branch is three tables: none). */
static const struct schema_table *csv_table(const char *key, size_t len)
{
	const struct form *f = form_find(key, len);
	return f && f->kind == FORM_TABLE ? form_table(f) : NULL;
}

/* GET /api/export/KEY.csv: csvtable_export's file (what `lienket-agent export` writes),
 * separator ',' or, with sep=semicolon, ';'. */
static void api_export(struct app_api *a, const char *name, const struct app_api_request *req,
		       struct app_api_response *resp)
{
	size_t n = strlen(name);
	const struct schema_table *t = n > 4 && strcmp(name + n - 4, ".csv") == 0 ? csv_table(name, n - 4) : NULL;
	if (!t) {
		answer_error(resp, 404, "Không xuất được loại bản ghi này ra CSV.");
		return;
	}
	const char *sep = param_str(req, "sep");
	struct plat_memstream *ms = NULL;
	FILE *f = plat_memstream_open(&ms);
	long long nrows = 0;
	enum csvtable_code rc = f ? csvtable_export(a->s, t, f, sep && strcmp(sep, "semicolon") == 0 ? ';' : ',', &nrows)
				  : CSVTABLE_IO;
	char *body = NULL;
	size_t size = 0;
	if (f && plat_memstream_close(ms, rc == CSVTABLE_OK ? &body : NULL, &size) != 0)
		body = NULL;
	if (!body) {
		fprintf(stderr, "lienket-agent app: export of %s failed (%d)\n", t->name, (int)rc);
		answer_error(resp, 500, "Không xuất được tệp CSV trên máy này. Hãy báo cán bộ kỹ thuật.");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/csv; charset=utf-8";
	resp->body = body;
	resp->body_len = (size_t)size;
	snprintf(resp->disposition, sizeof resp->disposition, "attachment; filename=\"%s.csv\"", t->name);
}

/* Where an import's refusals go: [{line, field, message}]. */
struct import_errors {
	json_t *arr;
	unsigned long more; /* beyond CSV_ERRORS_MAX */
};

static void import_refuse(void *ctx, unsigned long line, const struct schema_column *col, const char *text)
{
	struct import_errors *ie = ctx;
	if (json_array_size(ie->arr) >= CSV_ERRORS_MAX) {
		ie->more++;
		return;
	}
	json_array_append_new(ie->arr, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)line, "field",
						 col ? col->name : "", "message", text));
}

/* POST /api/import/KEY: the body is the file as it is; csvtable_import reads it the
 * way `lienket-agent import` does, all or nothing. */
static void api_import(struct app_api *a, const char *key, const struct app_api_request *req,
		       struct app_api_response *resp)
{
	const struct schema_table *t = csv_table(key, strlen(key));
	if (!t) {
		answer_error(resp, 404, "Không nhập được loại bản ghi này từ CSV.");
		return;
	}
	struct import_errors ie = { json_array(), 0 };
	struct records_sink sink = { .refuse = import_refuse, .ctx = &ie };
	struct csvtable_counts counts;
	const char *file = param_str(req, "name");
	if (!file || !*file)
		file = "CSV";
	enum csvtable_code rc =
		csvtable_import(a->s, t, req->body ? req->body : "", req->body_len, &sink, NULL, &counts);
	char m[RECORDS_TEXT_MAX];
	switch (rc) {
	case CSVTABLE_OK:
		answer_json(resp, 200,
			    json_pack("{s:I, s:I, s:I, s:I, s:b, s:o}", "imported",
				      (json_int_t)(counts.inserted + counts.updated + counts.unchanged), "inserted",
				      (json_int_t)counts.inserted, "updated", (json_int_t)counts.updated, "unchanged",
				      (json_int_t)counts.unchanged, "windows_1258", counts.cp1258, "errors", ie.arr));
		return;
	case CSVTABLE_EMPTY:
	case CSVTABLE_TCVN3:
	case CSVTABLE_ENCODING:
		snprintf(m, sizeof m,
			 msg_lang(rc == CSVTABLE_EMPTY ? MSG_ERR_CSV_EMPTY
				  : rc == CSVTABLE_TCVN3 ? MSG_ERR_CSV_TCVN3 : MSG_ERR_CSV_ENCODING, 0),
			 file);
		import_refuse(&ie, 0, NULL, m);
		/* fall through */
	case CSVTABLE_REJECTED:
		if (ie.more) {
			snprintf(m, sizeof m, "Còn %lu lỗi khác không liệt kê ở đây.", ie.more);
			json_array_append_new(ie.arr, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)0, "field", "",
								"message", m));
		}
		answer_json(resp, 422, json_pack("{s:I, s:o}", "imported", (json_int_t)0, "errors", ie.arr));
		return;
	case CSVTABLE_BUSY:
		json_decref(ie.arr);
		answer_error(resp, 503, "Cơ sở dữ liệu đang bận (đang đồng bộ). Hãy nhập lại sau ít giây; chưa có gì được nhập.");
		return;
	case CSVTABLE_FAILED:
	case CSVTABLE_IO:
		break;
	}
	json_decref(ie.arr);
	answer_error(resp, 500, "Lỗi trên máy này khi nhập tệp; chưa có gì được nhập. Hãy báo cán bộ kỹ thuật.");
}

/* ---- routing ---- */

static int is_method(const struct app_api_request *req, const char *m)
{
	return req->method && strcmp(req->method, m) == 0;
}

/* "/api/forms/KEY[/ID]": the form and the id (NULL when none). */
static const struct form *route_form(const char *rest, const char **id)
{
	const char *slash = strchr(rest, '/');
	*id = NULL;
	if (slash) {
		*id = slash + 1;
		if (!**id || strchr(*id, '/'))
			return NULL;
	}
	return form_find(rest, slash ? (size_t)(slash - rest) : strlen(rest));
}

void app_api_handle(struct app_api *a, const struct app_api_request *req, struct app_api_response *resp)
{
	memset(resp, 0, sizeof *resp);
	const char *path = req->path ? req->path : "";
	const char *id = NULL;
	int get = is_method(req, "GET") || is_method(req, "HEAD");
	if (strcmp(path, "/api/meta") == 0) {
		if (get)
			return api_meta(a, resp);
	} else if (strncmp(path, "/api/forms/", 11) == 0) {
		const struct form *f = route_form(path + 11, &id);
		if (!f)
			return answer_error(resp, 404, "Không có loại bản ghi này.");
		if (get && !id)
			return api_list(a, f, req, resp);
		if (get) {
			json_t *row = NULL;
			if (form_read_one(a, f, id, &row) != 0)
				return answer_internal(a, resp, "read");
			if (!row)
				return answer_error(resp, 404, "Không tìm thấy bản ghi này (có thể đã bị xoá).");
			return answer_json(resp, 200, row);
		}
		if (is_method(req, "POST") && !id)
			return api_write(a, f, NULL, req, resp);
		if (is_method(req, "PUT") && id)
			return api_write(a, f, id, req, resp);
		if (is_method(req, "DELETE") && id)
			return api_delete(a, f, id, resp);
	} else if (strncmp(path, "/api/export/", 12) == 0) {
		if (get)
			return api_export(a, path + 12, req, resp);
	} else if (strncmp(path, "/api/import/", 12) == 0) {
		if (is_method(req, "POST"))
			return api_import(a, path + 12, req, resp);
	} else if (strcmp(path, "/api/figures") == 0) {
		if (get)
			return api_figures(a, req, resp);
	} else if (strncmp(path, "/api/pick/", 10) == 0) {
		if (get)
			return api_pick(a, path + 10, req, resp);
	} else if (strcmp(path, "/api/sync") == 0) {
		if (!a->sync)
			return answer_error(resp, 503, "Máy này chưa sẵn sàng đồng bộ.");
		if (get)
			return api_sync_get(a, resp);
		if (is_method(req, "POST"))
			return api_sync_post(a, resp);
	} else {
		return answer_error(resp, 404, "Không có trang này.");
	}
	answer_error(resp, 405, "Thao tác này không được phép ở đây.");
}

void app_api_response_release(struct app_api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

size_t app_api_body_max(const char *path)
{
	return path && strncmp(path, "/api/import/", 12) == 0 ? APP_API_CSV_MAX : APP_API_JSON_MAX;
}

/* content_type without parameters equals one of want (case ignored). */
static int type_is(const char *content_type, const char *const *want)
{
	if (!content_type)
		return 0;
	size_t n = strcspn(content_type, "; \t");
	for (; *want; want++)
		if (strlen(*want) == n && strncasecmp(content_type, *want, n) == 0)
			return 1;
	return 0;
}

int app_api_content_type_ok(const char *path, const char *content_type)
{
	static const char *const json[] = { "application/json", NULL };
	static const char *const csv[] = { "text/csv", "application/octet-stream", "application/vnd.ms-excel",
					   "text/plain", NULL };
	if (path && strncmp(path, "/api/import/", 12) == 0)
		return type_is(content_type, csv);
	return type_is(content_type, json);
}

/* Agent-local indexes for the app's reads (names of units, link rows by their
 * record): not part of the synced schema, made once (IF NOT EXISTS). */
#define APP_INDEXES                                                                           \
	"CREATE INDEX IF NOT EXISTS lk_app_unit_name_of ON unit_name(of_unit);"                \
	"CREATE INDEX IF NOT EXISTS lk_app_meeting_branch_of ON meeting_branch(meeting_id);"   \
	"CREATE INDEX IF NOT EXISTS lk_app_volunteer_branch_of ON volunteer_branch(volunteer_id);" \
	"CREATE INDEX IF NOT EXISTS lk_app_unit_parent_parent ON unit_parent(parent_id);"

/* The index of every link column a list shows (the owner's exists already): a list
 * sorted by a linked name walks it (sql_rank_fill). Agent-local like APP_INDEXES,
 * made once. 0, or -1 (sqlite3_errmsg says why). */
static int app_link_indexes(sqlite3 *db)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	for (size_t i = 0; i < NFORMS; i++) {
		const struct schema_table *t = forms[i].kind == FORM_TABLE ? form_table(&forms[i]) : NULL;
		for (size_t k = 0; t && k < FORM_LIST_MAX && forms[i].list[k]; k++) {
			const struct schema_column *c = schema_column_find(t, forms[i].list[k], SCHEMA_VERSION);
			if (rank_sortable(c) && !(c->flags & SCHEMA_OWNER))
				sqlite3_str_appendf(q, "CREATE INDEX IF NOT EXISTS \"lk_app_%w_%w\" ON \"%w\"(\"%w\");", t->name,
						    c->name, t->name, c->name);
		}
	}
	char *sql = sqlite3_str_finish(q);
	int rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
	sqlite3_free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

struct app_api *app_api_new(struct store *s, const char *csrf, struct app_sync *sync, char *err, size_t errlen)
{
	sqlite3 *db = store_db(s);
	if (!store_unit_id(s)[0]) {
		snprintf(err, errlen, "the database has no unit yet");
		return NULL;
	}
	if (app_search_register(db) != 0 || sqlite3_exec(db, APP_INDEXES, NULL, NULL, NULL) != SQLITE_OK ||
	    app_link_indexes(db) != 0 || app_sortkey_setup(db) != 0 ||
	    app_sortkey_refresh(db, STORE_BUSY_TIMEOUT_MS, STORE_BUSY_TIMEOUT_MS) < 0 ||
	    sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS lk_app_rank(rank INTEGER PRIMARY KEY, v TEXT UNIQUE)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return NULL;
	}
	struct app_api *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}

	a->s = s;
	a->sync = sync;
	snprintf(a->csrf, sizeof a->csrf, "%s", csrf ? csrf : "");
	return a;
}

void app_api_free(struct app_api *a)
{
	free(a);
}

