/*
 * csv.c — RFC 4180 reader and writer (see csv.h).
 *
 * The reader is a byte-at-a-time state machine over stdio's buffer. The current record
 * lives in one growing buffer (fields NUL-terminated, back to back) plus an offset per
 * field; both are bounded by CSV_MAX_FIELD_BYTES × CSV_MAX_FIELDS. Invariant: between
 * calls the reader (the FILE plus the few bytes given back in `back`) stands at the
 * start of a record or at the end of the file, so a bad record never takes the next
 * one with it.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "textsafe.h"

/* Bytes we may need to give back at once: the three of a UTF-8 sequence that turned out
 * not to be a byte-order mark. stdio's ungetc guarantees only one. */
#define CSV_PUSHBACK 4

struct csv_reader {
	FILE *f;            /* NULL when reading memory */
	const unsigned char *mem; /* the bytes read, when f is NULL (borrowed) */
	size_t mem_len, mem_pos;
	char *buf;          /* the record's fields, each NUL-terminated */
	size_t len, cap;
	size_t off[CSV_MAX_FIELDS];
	size_t nfields;
	unsigned long line;       /* physical line the reader is on (1-based) */
	unsigned long rec_line;   /* line the current record started on */
	int back[CSV_PUSHBACK];   /* bytes given back, popped before reading on (a stack) */
	size_t nback;
	int started;              /* BOM check done */
	int done;                 /* no more records */
	int sep;                  /* ',' or ';'; 0 until the first record decides */
};

struct csv_reader *csv_reader_new(FILE *f)
{
	struct csv_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->f = f;
	r->line = 1;
	return r;
}

struct csv_reader *csv_reader_new_mem(const char *data, size_t len)
{
	struct csv_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->mem = (const unsigned char *)data;
	r->mem_len = len;
	r->line = 1;
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

size_t csv_reader_nfields(const struct csv_reader *r) { return r->nfields; }

const char *csv_reader_field(const struct csv_reader *r, size_t i, size_t *len)
{
	if (i >= r->nfields)
		return NULL;
	const char *s = r->buf + r->off[i];
	if (len)
		*len = strlen(s); /* NUL bytes are refused, so strlen is the length */
	return s;
}

unsigned long csv_reader_line(const struct csv_reader *r) { return r->rec_line; }

const char *csv_status_str(enum csv_status s)
{
	switch (s) {
	case CSV_OK: return "ok";
	case CSV_EOF: return "end of file";
	case CSV_NOMEM: return "out of memory";
	case CSV_IO: return "read error";
	case CSV_FIELD_TOO_LONG: return "field too long";
	case CSV_TOO_MANY_FIELDS: return "too many fields";
	case CSV_BAD_QUOTE: return "misplaced quote";
	case CSV_UNTERMINATED: return "quoted field not closed before end of file";
	case CSV_NUL_BYTE: return "NUL byte in a field";
	}
	return "unknown";
}

static int push_byte(struct csv_reader *r, char c)
{
	if (r->len == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		char *nb = realloc(r->buf, ncap);
		if (!nb)
			return -1;
		r->buf = nb;
		r->cap = ncap;
	}
	r->buf[r->len++] = c;
	return 0;
}

static int raw_byte(struct csv_reader *r)
{
	if (r->nback)
		return r->back[--r->nback];
	if (r->f)
		return getc(r->f);
	return r->mem_pos < r->mem_len ? r->mem[r->mem_pos++] : EOF;
}

/* Gives c back; callers never give back more than CSV_PUSHBACK bytes in a row. */
static void unget_byte(struct csv_reader *r, int c)
{
	if (c != EOF && r->nback < CSV_PUSHBACK)
		r->back[r->nback++] = c;
}

/* Reads one byte, turning CRLF and lone CR into '\n' and counting lines. */
static int next_byte(struct csv_reader *r)
{
	int c = raw_byte(r);
	if (c == '\r') {
		int d = raw_byte(r);
		if (d != '\n')
			unget_byte(r, d);
		c = '\n';
	}
	if (c == '\n')
		r->line++;
	return c;
}

/* Skips the rest of a bad record: up to the first line end outside quotes. `quoted`
 * says whether we are inside a quoted field right now. */
static void skip_record(struct csv_reader *r, int quoted)
{
	int c;
	while ((c = next_byte(r)) != EOF) {
		if (c == '"')
			quoted = !quoted;
		else if (c == '\n' && !quoted)
			return;
	}
	r->done = 1;
}

/* The current field is over the limit, counting one more byte for the apostrophe a
 * formula-like field carries (end_field drops it and checks the limit exactly). */
static int over_limit(const struct csv_reader *r, size_t field_start)
{
	size_t n = r->len - field_start;
	return n > CSV_MAX_FIELD_BYTES + (size_t)(n && r->buf[field_start] == '\'');
}

/* Closes the current field. */
static enum csv_status end_field(struct csv_reader *r, size_t field_start)
{
	if (r->nfields == CSV_MAX_FIELDS)
		return CSV_TOO_MANY_FIELDS;
	/* the apostrophe the writer put before a formula-like cell (textsafe.h) */
	if (r->len > field_start &&
	    textsafe_csv_is_guarded(r->buf + field_start, r->len - field_start))
		field_start++; /* (an empty field may have no buffer yet) */
	if (r->len - field_start > CSV_MAX_FIELD_BYTES)
		return CSV_FIELD_TOO_LONG;
	if (push_byte(r, '\0'))
		return CSV_NOMEM;
	r->off[r->nfields++] = field_start;
	return CSV_OK;
}

enum csv_status csv_reader_next(struct csv_reader *r)
{
	enum csv_status st = CSV_OK;
	r->nfields = 0;
	r->len = 0;
	if (r->done)
		return CSV_EOF;
	if (!r->started) {
		r->started = 1;
		int a = raw_byte(r);
		int b = a == 0xEF ? raw_byte(r) : EOF;
		int c = b == 0xBB ? raw_byte(r) : EOF;
		if (!(a == 0xEF && b == 0xBB && c == 0xBF)) { /* not a BOM: give it all back */
			unget_byte(r, c);
			unget_byte(r, b);
			unget_byte(r, a);
		}
	}

	for (;;) { /* skip lines that hold nothing */
		int c = next_byte(r);
		if (c == EOF) {
			r->done = 1;
			return r->f && ferror(r->f) ? CSV_IO : CSV_EOF;
		}
		if (c == '\n')
			continue;
		unget_byte(r, c);
		break;
	}
	r->rec_line = r->line;

	size_t field_start = 0;
	int quoted = 0;    /* inside a quoted field */
	int was_quoted = 0;/* the current field was quoted and its quote is closed */
	int at_start = 1;  /* nothing read yet in the current field */
	for (;;) {
		int c = next_byte(r);
		if (c == EOF) {
			if (r->f && ferror(r->f)) {
				r->done = 1;
				return CSV_IO;
			}
			if (quoted) {
				r->done = 1;
				return CSV_UNTERMINATED;
			}
			r->done = 1;
			if (r->sep == 0)
				r->sep = ',';
			return end_field(r, field_start);
		}
		if (quoted) {
			if (c == '"') {
				int d = raw_byte(r);
				if (d == '"') {
					if (push_byte(r, '"'))
						goto nomem;
				} else {
					unget_byte(r, d);
					quoted = 0;
					was_quoted = 1;
				}
				continue;
			}
			if (c == '\0') {
				skip_record(r, 1);
				return CSV_NUL_BYTE;
			}
			if (push_byte(r, (char)c))
				goto nomem;
			if (over_limit(r, field_start)) {
				skip_record(r, 1);
				return CSV_FIELD_TOO_LONG;
			}
			continue;
		}
		if (r->sep == 0 && (c == ',' || c == ';'))
			r->sep = c; /* the first separator of the header decides */
		if (c == r->sep || c == '\n') {
			st = end_field(r, field_start);
			if (st != CSV_OK) {
				if ((st == CSV_TOO_MANY_FIELDS || st == CSV_FIELD_TOO_LONG) && c != '\n')
					skip_record(r, 0);
				return st;
			}
			if (c == '\n') {
				if (r->sep == 0)
					r->sep = ',';
				return CSV_OK;
			}
			field_start = r->len;
			at_start = 1;
			was_quoted = 0;
			continue;
		}
		if (was_quoted || (c == '"' && !at_start)) {
			skip_record(r, 0); /* resume at the end of this physical line */
			return CSV_BAD_QUOTE;
		}
		if (c == '"') {
			quoted = 1;
			at_start = 0;
			continue;
		}
		if (c == '\0') {
			skip_record(r, 0);
			return CSV_NUL_BYTE;
		}
		at_start = 0;
		if (push_byte(r, (char)c))
			goto nomem;
		if (over_limit(r, field_start)) {
			skip_record(r, 0);
			return CSV_FIELD_TOO_LONG;
		}
	}
nomem:
	r->done = 1;
	return CSV_NOMEM;
}

/* ---- writer ---- */

int csv_writer_init(struct csv_writer *w, FILE *f, int bom)
{
	w->f = f;
	w->in_record = 0;
	w->sep = ',';
	if (bom && fputs("\xEF\xBB\xBF", f) == EOF)
		return -1;
	return 0;
}

static int needs_quotes(const char *s, size_t len, char sep)
{
	if (len == 0)
		return 0;
	if (s[0] == ' ' || s[len - 1] == ' ' || s[0] == '\t' || s[len - 1] == '\t')
		return 1; /* spreadsheets trim unquoted edge spaces */
	for (size_t i = 0; i < len; i++)
		if (s[i] == sep || s[i] == ',' || s[i] == ';' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

int csv_write_field(struct csv_writer *w, const char *s, size_t len)
{
	if (w->in_record && putc(w->sep, w->f) == EOF)
		return -1;
	w->in_record = 1;
	if (!s || len == 0)
		return 0;
	int quoted = needs_quotes(s, len, w->sep);
	if (quoted && putc('"', w->f) == EOF)
		return -1;
	if (textsafe_csv_needs_guard(s, len) && putc('\'', w->f) == EOF)
		return -1; /* a spreadsheet would read a formula (textsafe.h) */
	if (!quoted)
		return fwrite(s, 1, len, w->f) == len ? 0 : -1;
	size_t from = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '"')
			continue;
		/* write up to and including the quote, then double it */
		if (fwrite(s + from, 1, i + 1 - from, w->f) != i + 1 - from || putc('"', w->f) == EOF)
			return -1;
		from = i + 1;
	}
	if (fwrite(s + from, 1, len - from, w->f) != len - from)
		return -1;
	return putc('"', w->f) == EOF ? -1 : 0;
}

int csv_end_record(struct csv_writer *w)
{
	w->in_record = 0;
	return fputs("\r\n", w->f) == EOF ? -1 : 0;
}
