/*
 * csv.h — RFC 4180 CSV, read and written as a stream.
 *
 * The reader takes UTF-8 with or without a byte-order mark (Excel writes one), fields
 * quoted or not, quotes doubled inside quotes, commas and line breaks inside quoted
 * fields, CRLF, LF or CR line ends (a line break inside a quoted field is read as LF). It never holds more than one record: each field is at
 * most CSV_MAX_FIELD_BYTES and a record at most CSV_MAX_FIELDS fields, so a hostile
 * file costs bounded memory. A malformed record is reported with the line it starts on
 * and skipped; reading goes on with the next record, so every bad line can be listed.
 * The separator is ',' or ';' — whichever comes first in the first record (the header):
 * Excel writes ';' where the list separator of Windows is ';', as in Vietnamese
 * settings. Fields holding either character are quoted on writing, so both read back.
 *
 * The writer quotes a field only when it must, and writes CRLF (and optionally a BOM)
 * so that Excel opens Vietnamese text intact.
 *
 * Formulas: a field a spreadsheet would read as a formula (it starts with = + - @, a
 * tab or a CR, possibly after apostrophes) is written with one leading apostrophe, and
 * the reader drops exactly that apostrophe again (the rule is textsafe.h's), so what
 * the writer wrote reads back byte for byte.
 *
 * Neither side owns the FILE: the caller opens and closes it.
 */
#ifndef LK_AGENT_CSV_H
#define LK_AGENT_CSV_H

#include <stddef.h>
#include <stdio.h>

/* The longest column is 2000 bytes (schema.c); 32 KiB leaves room for any future one
 * while bounding what a hostile file can make us hold. */
#define CSV_MAX_FIELD_BYTES 32768
/* The widest table has 9 columns; a record with more than this is not ours. */
#define CSV_MAX_FIELDS 64

enum csv_status {
	CSV_OK = 0,
	CSV_EOF,              /* no more records */
	CSV_NOMEM,
	CSV_IO,               /* the FILE reported an error */
	CSV_FIELD_TOO_LONG,   /* a field over CSV_MAX_FIELD_BYTES (record skipped) */
	CSV_TOO_MANY_FIELDS,  /* more than CSV_MAX_FIELDS fields (record skipped) */
	CSV_BAD_QUOTE,        /* a character after a closing quote, or a quote inside an
			       * unquoted field (record skipped) */
	CSV_UNTERMINATED,     /* end of file inside a quoted field */
	CSV_NUL_BYTE,         /* a NUL byte in a field (record skipped) */
};

struct csv_reader;

/* A reader over f (borrowed, must outlive the reader). NULL when out of memory. */
struct csv_reader *csv_reader_new(FILE *f);
/* A reader over data[0..len) (borrowed, must outlive the reader). NULL when out of
 * memory. */
struct csv_reader *csv_reader_new_mem(const char *data, size_t len);
void csv_reader_free(struct csv_reader *r); /* accepts NULL */

/* Reads the next record. CSV_OK: csv_reader_nfields/field describe it. CSV_EOF at the
 * end. Any other status describes a malformed record, which has been skipped: call
 * again for the next one (after CSV_UNTERMINATED, CSV_IO or CSV_NOMEM the next call
 * returns CSV_EOF). Lines holding nothing at all are skipped silently. */
enum csv_status csv_reader_next(struct csv_reader *r);

/* The current record's field count and fields: field i is NUL-terminated, *len (if
 * not NULL) its length in bytes. Borrowed until the next csv_reader_next. */
size_t csv_reader_nfields(const struct csv_reader *r);
const char *csv_reader_field(const struct csv_reader *r, size_t i, size_t *len);

/* The 1-based physical line on which the last record (good or bad) started. */
unsigned long csv_reader_line(const struct csv_reader *r);

/* English text of a status, for logs. */
const char *csv_status_str(enum csv_status s);

struct csv_writer {
	FILE *f;           /* borrowed */
	int in_record;     /* a field was written on the current record */
	char sep;          /* ',' (set by csv_writer_init); ';' for Excel in Vietnamese settings */
};

/* Starts writing to f; with bom = 1 writes the UTF-8 byte-order mark first.
 * 0, or -1 on a write error. */
int csv_writer_init(struct csv_writer *w, FILE *f, int bom);

/* Appends one field (s of len bytes; s NULL writes an empty field). 0 or -1 (I/O). */
int csv_write_field(struct csv_writer *w, const char *s, size_t len);

/* Ends the record with CRLF. 0 or -1 (I/O). */
int csv_end_record(struct csv_writer *w);

#endif
