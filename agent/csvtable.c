/*
 * csvtable.c — a table to and from an office's CSV (see csvtable.h).
 *
 * Import reads the whole file into memory (bounded by CSVTABLE_MAX_BYTES at the
 * caller), recognises its encoding, and then walks the records with csv.h's reader:
 * the header maps each position to a column and a role (the value, or a link's id),
 * each line becomes the text array records_import takes. Export walks the table in
 * rowid order with the same column layout, so export → import finds every header and
 * writes nothing (every row unchanged).
 */
#include "csvtable.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetext.h"
#include "msg.h"
#include "resolve.h"
#include "textenc.h"
#include "textnorm.h"

/* The suffix of a link's id column in the header: "Người (mã)". */
static const char ID_SUFFIX[] = " (mã)";

/* Where a header position goes. */
struct header_col {
	size_t col; /* column index, SIZE_MAX: none */
	int id;     /* 1: the id column of a link (ID_SUFFIX) */
};

/* How problems are told: the caller's sink and options (csvtable.h). */
struct teller {
	const struct records_sink *sink;
	const struct csvtable_options *opt;
};

/* One problem outside records.h (the header, the CSV syntax). */
static void tell(const struct teller *tl, unsigned long line, const char *code, int id, ...)
{
	char text[RECORDS_TEXT_MAX];
	va_list ap;
	va_start(ap, id);
	vsnprintf(text, sizeof text, msg_lang((enum msg_id)id, tl->opt->english), ap);
	va_end(ap);
	if (tl->opt->detail) {
		struct records_problem p = { line, NULL, code, text, NULL, 0 };
		tl->opt->detail(tl->sink->ctx, &p);
	} else {
		tl->sink->refuse(tl->sink->ctx, line, NULL, text);
	}
}

static enum msg_id csv_msg(enum csv_status cs)
{
	switch (cs) {
	case CSV_FIELD_TOO_LONG: return MSG_CSV_TOO_LONG;
	case CSV_TOO_MANY_FIELDS: return MSG_CSV_TOO_MANY;
	case CSV_BAD_QUOTE: return MSG_CSV_BAD_QUOTE;
	case CSV_UNTERMINATED: return MSG_CSV_UNTERMINATED;
	case CSV_NUL_BYTE: return MSG_CSV_NUL;
	default: return MSG_CSV_IO;
	}
}

/* 1 when s ends with the link-id suffix (compared by search key: "(ma)", "(MÃ)"). */
static size_t id_suffix_at(const char *s)
{
	size_t n = strlen(s);
	const char *open = strrchr(s, '(');
	if (!open || open == s || n < 4 || s[n - 1] != ')')
		return 0;
	char *key = NULL;
	int yes = textnorm_fold(open, (size_t)(s + n - open), &key, NULL) == TEXTNORM_OK && strcmp(key, "(ma)") == 0;
	free(key);
	if (!yes)
		return 0;
	size_t at = (size_t)(open - s);
	while (at && s[at - 1] == ' ')
		at--;
	return at;
}

/* Maps header cell h of table t. 0, or -1 when it names no column. */
static int header_map(const struct schema_table *t, const char *h, struct header_col *out)
{
	char buf[RESOLVE_LABEL_MAX];
	const struct schema_column *c = resolve_column(t, h);
	out->id = 0;
	if (!c) {
		size_t at = id_suffix_at(h);
		if (at && at < sizeof buf) {
			memcpy(buf, h, at);
			buf[at] = '\0';
			c = resolve_column(t, buf);
			if (c && c->type == SCHEMA_REF)
				out->id = 1;
			else
				c = NULL;
		}
	}
	if (!c || c->since > SCHEMA_VERSION)
		return -1;
	out->col = schema_column_index(t, c);
	return 0;
}

/* Reads and checks the header; every problem told. 0, or -1 (rejected). */
static int read_header(const struct schema_table *t, struct csv_reader *r, const struct teller *tl,
		       struct header_col *map, size_t *ncols)
{
	int bad = 0;
	unsigned long line = csv_reader_line(r);
	*ncols = csv_reader_nfields(r);
	for (size_t k = 0; k < *ncols; k++) {
		const char *name = csv_reader_field(r, k, NULL);
		if (header_map(t, name, &map[k]) != 0) {
			char list[1024];
			resolve_columns_text(t, list, sizeof list);
			const struct schema_column *near = resolve_column_nearest(t, name);
			if (near)
				tell(tl, line, "unknown_column", MSG_ERR_UNKNOWN_FIELD_NEAR, t->name, name, near->name,
				     near->label_vi, list);
			else
				tell(tl, line, "unknown_column", MSG_ERR_UNKNOWN_FIELD, t->name, name, list);
			map[k].col = SIZE_MAX;
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (map[j].col == map[k].col && map[j].id == map[k].id) {
				tell(tl, line, "duplicate_column", MSG_ERR_CSV_HEADER_DUP, name);
				bad = 1;
			}
	}
	return bad ? -1 : 0;
}

enum csvtable_code csvtable_import(struct store *s, const struct schema_table *t, const char *data, size_t len,
				   const struct records_sink *sink, const struct csvtable_options *options,
				   struct csvtable_counts *counts)
{
	static const struct csvtable_options defaults = { 0, NULL };
	const struct csvtable_options *opt = options ? options : &defaults;
	const struct teller tl = { sink, opt };
	enum csvtable_code rc = CSVTABLE_FAILED;
	struct csv_reader *r = NULL;
	struct records_writer *w = NULL;
	char *utf8 = NULL;
	struct header_col map[CSV_MAX_FIELDS];
	size_t ncols = 0;
	int in_tx = 0;
	memset(counts, 0, sizeof *counts);

	switch (textenc_detect(data, len)) {
	case TEXTENC_UTF8: break;
	case TEXTENC_CP1258: {
		size_t n = 0;
		if (textenc_cp1258_to_utf8(data, len, &utf8, &n) != 0)
			return CSVTABLE_FAILED;
		data = utf8;
		len = n;
		counts->cp1258 = 1;
		break;
	}
	case TEXTENC_TCVN3: return CSVTABLE_TCVN3;
	case TEXTENC_UNKNOWN: return CSVTABLE_ENCODING;
	}
	if (!(r = csv_reader_new_mem(data, len)) || !(w = records_writer_new(s, t, sink)))
		goto done;
	records_writer_english(w, opt->english);
	if (opt->detail)
		records_writer_detail(w, opt->detail);
	enum csv_status cs = csv_reader_next(r);
	if (cs == CSV_EOF) {
		rc = CSVTABLE_EMPTY;
		goto done;
	}
	if (cs == CSV_NOMEM)
		goto done;
	if (cs != CSV_OK) {
		tell(&tl, csv_reader_line(r), "csv_syntax", MSG_ERR_CSV_SYNTAX,
		     msg_lang(csv_msg(cs), opt->english));
		counts->bad_lines = 1;
		rc = CSVTABLE_REJECTED;
		goto done;
	}
	if (read_header(t, r, &tl, map, &ncols) != 0) {
		counts->bad_lines = 1;
		rc = CSVTABLE_REJECTED;
		goto done;
	}
	/* All or nothing: one transaction; every bad line is reported before deciding. */
	if (sqlite3_exec(store_db(s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		int code = sqlite3_errcode(store_db(s)) & 0xff;
		rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? CSVTABLE_BUSY : CSVTABLE_FAILED;
		goto done;
	}
	in_tx = 1;
	while ((cs = csv_reader_next(r)) != CSV_EOF) {
		unsigned long line = csv_reader_line(r);
		if (cs == CSV_NOMEM || cs == CSV_IO)
			goto done;
		if (cs != CSV_OK) {
			tell(&tl, line, "csv_syntax", MSG_ERR_CSV_SYNTAX, msg_lang(csv_msg(cs), opt->english));
			counts->bad_lines++;
			continue;
		}
		if (csv_reader_nfields(r) != ncols) {
			tell(&tl, line, "csv_columns", MSG_ERR_CSV_COLUMNS, (unsigned long)csv_reader_nfields(r),
			     (unsigned long)ncols);
			counts->bad_lines++;
			continue;
		}
		const char *text[RECORDS_MAX_COLUMNS] = { 0 };
		for (size_t k = 0; k < ncols; k++) {
			const char *v = csv_reader_field(r, k, NULL);
			/* a link's id column wins over its name column when it holds an id */
			if (map[k].id ? *v != '\0' : !text[map[k].col])
				text[map[k].col] = v;
		}
		char id[IDS_UUID_TEXT];
		switch (records_import(w, line, text, id)) {
		case RECORDS_INSERTED: counts->inserted++; break;
		case RECORDS_UPDATED: counts->updated++; break;
		case RECORDS_UNCHANGED: counts->unchanged++; break;
		case RECORDS_REJECTED: counts->bad_lines++; break;
		case RECORDS_DELETED:
		case RECORDS_FAILED: {
			int code = records_errcode(w);
			rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? CSVTABLE_BUSY : CSVTABLE_FAILED;
			goto done;
		}
		}
	}
	if (counts->bad_lines) {
		rc = CSVTABLE_REJECTED;
		goto done;
	}
	if (sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "lienket-agent: cannot commit import: %s\n", sqlite3_errmsg(store_db(s)));
		goto done;
	}
	in_tx = 0;
	rc = CSVTABLE_OK;
done:
	if (in_tx)
		sqlite3_exec(store_db(s), "ROLLBACK", NULL, NULL, NULL);
	records_writer_free(w);
	csv_reader_free(r);
	free(utf8);
	return rc;
}

/* ---- export ---- */

/* 1 when another column of t has the same label (the header then names the field). */
static int label_shared(const struct schema_table *t, size_t i)
{
	for (size_t j = 0; j < t->ncolumns; j++)
		if (j != i && strcmp(t->columns[j].label_vi, t->columns[i].label_vi) == 0)
			return 1;
	return 0;
}

/* A link exported as name + id. */
static int named_link(const struct schema_column *c)
{
	return c->type == SCHEMA_REF && !(c->flags & SCHEMA_ID) && resolve_by_name(c->ref_table);
}

static int write_text(struct csv_writer *w, const char *s)
{
	return csv_write_field(w, s, s ? strlen(s) : 0);
}

static int write_header(struct csv_writer *w, const struct schema_table *t)
{
	char h[RESOLVE_LABEL_MAX];
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (label_shared(t, i))
			snprintf(h, sizeof h, "%s (%s)", c->label_vi, c->name);
		else
			snprintf(h, sizeof h, "%s", c->label_vi);
		if (write_text(w, h))
			return -1;
		if (named_link(c)) {
			size_t n = strlen(h);
			snprintf(h + n, sizeof h - n, "%s", ID_SUFFIX);
			if (write_text(w, h))
				return -1;
		}
	}
	return csv_end_record(w);
}

/* One cell (or two, for a named link) of column c from the row's value v. 0, -1 I/O,
 * -2 SQLite. */
static int write_value(struct csv_writer *w, struct store *s, const struct schema_column *c, sqlite3_stmt *st,
		       int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	char buf[RESOLVE_LABEL_MAX];
	if (!v)
		return named_link(c) ? (write_text(w, NULL) || write_text(w, NULL) ? -1 : 0) : write_text(w, NULL);
	switch (c->type) {
	case SCHEMA_DATE:
		if (datetext_format(v, buf) == 0)
			return write_text(w, buf);
		break;
	case SCHEMA_ENUM: {
		const struct schema_enum_value *ev = schema_enum_find(c, v);
		if (ev)
			return write_text(w, ev->label_vi);
		break;
	}
	case SCHEMA_BOOL:
		/* the words fieldarg.h reads back, whatever the locale */
		return write_text(w, sqlite3_column_int(st, i) ? "có" : "không");
	case SCHEMA_REF:
		if (named_link(c)) {
			int found = resolve_label(s, c->ref_table, v, buf);
			if (found < 0)
				return -2;
			return write_text(w, found ? buf : NULL) || write_text(w, v) ? -1 : 0;
		}
		break;
	case SCHEMA_TEXT:
	case SCHEMA_INT: break;
	}
	return csv_write_field(w, v, (size_t)sqlite3_column_bytes(st, i));
}

enum csvtable_code csvtable_export(struct store *s, const struct schema_table *t, FILE *f, char sep,
				   long long *nrows)
{
	sqlite3_stmt *st = NULL;
	struct csv_writer w;
	enum csvtable_code rc = CSVTABLE_FAILED;
	long long n = 0;
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendall(q, "SELECT ");
	for (size_t i = 0; i < t->ncolumns; i++)
		sqlite3_str_appendf(q, "%s\"%w\"", i ? ", " : "", t->columns[i].name);
	sqlite3_str_appendf(q, " FROM \"%w\" ORDER BY rowid", t->name);
	char *sql = sqlite3_str_finish(q);
	if (!sql || sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "lienket-agent: cannot prepare export: %s\n", sqlite3_errmsg(store_db(s)));
		goto done;
	}
	if (csv_writer_init(&w, f, 1) != 0) {
		rc = CSVTABLE_IO;
		goto done;
	}
	w.sep = sep;
	if (write_header(&w, t) != 0) {
		rc = CSVTABLE_IO;
		goto done;
	}
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < t->ncolumns; i++) {
			int e = write_value(&w, s, &t->columns[i], st, (int)i);
			if (e) {
				rc = e == -1 ? CSVTABLE_IO : CSVTABLE_FAILED;
				goto done;
			}
		}
		if (csv_end_record(&w) != 0) {
			rc = CSVTABLE_IO;
			goto done;
		}
		n++;
	}
	if (step != SQLITE_DONE) {
		fprintf(stderr, "lienket-agent: cannot read rows: %s\n", sqlite3_errmsg(store_db(s)));
		goto done;
	}
	rc = fflush(f) == 0 ? CSVTABLE_OK : CSVTABLE_IO;
done:
	if (nrows)
		*nrows = n;
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc;
}
