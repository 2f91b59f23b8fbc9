/*
 * csvtable.h — a synced table to and from the CSV an office keeps in Excel: the one
 * implementation behind `lienket-agent import/export` and the office app's CSV routes.
 *
 * Export (what Excel opens and what imports back unchanged): UTF-8 with a byte-order
 * mark, CRLF, the separator asked for; a header row of Vietnamese labels ("Label
 * (field)" where two columns of the table share a label); dates dd/mm/yyyy; choices by
 * their Vietnamese label; yes/no as có/không; a link to a person or unit as two
 * columns, the name ("Nguyễn Văn An (1998)", "Thôn Bình Hưng") and beside it
 * "Label (mã)" with the id; other links and the row's own id as ids. Cells a
 * spreadsheet would run as a formula get csv.h's apostrophe.
 *
 * Import: the file's encoding is recognised first (textenc.h): UTF-8 with or without
 * the BOM is read; Windows-1258 (Excel's plain "CSV" on a Vietnamese Windows) is read
 * as its text in NFC; TCVN3 and anything else are refused whole. The separator is ','
 * or ';' (csv.h decides from the header). Headers are field names, labels (case and
 * diacritics ignored), "Label (field)", and "Label (mã)" for a link's id column. When
 * a link has both a name column and an id column, a non-empty id wins. Every value is
 * read by records.h (dd/mm/yyyy or ISO dates, labels, names, NFC); every bad line is
 * told to the sink with its number, and then nothing is imported: the whole file is
 * one transaction (BEGIN IMMEDIATE … COMMIT), so this must not be called inside one.
 */
#ifndef LK_AGENT_CSVTABLE_H
#define LK_AGENT_CSVTABLE_H

#include <stddef.h>
#include <stdio.h>

#include "records.h"
#include "schema.h"
#include "store.h"

/* The largest file imported: far beyond an office's table (a commune's 10,000 people
 * are about 1 MiB), and what an import may hold in memory at once. */
#define CSVTABLE_MAX_BYTES ((size_t)64 << 20)

enum csvtable_code {
	CSVTABLE_OK = 0,
	CSVTABLE_REJECTED, /* the header or some lines are wrong: each told, nothing imported */
	CSVTABLE_EMPTY,    /* not even a header */
	CSVTABLE_TCVN3,    /* the old TCVN3 (ABC) encoding: refused, nothing read */
	CSVTABLE_ENCODING, /* neither UTF-8 nor Windows-1258: refused, nothing read */
	CSVTABLE_BUSY,     /* another program held the database: nothing imported, try later */
	CSVTABLE_FAILED,   /* SQLite or memory (logged in English on stderr) */
	CSVTABLE_IO,       /* export: the file could not be written */
};

struct csvtable_counts {
	unsigned long inserted, updated, unchanged; /* lines, when CSVTABLE_OK */
	unsigned long bad_lines;                    /* lines told to the sink */
	int cp1258;                                 /* 1: the file was read as Windows-1258 */
};

/* How problems are told (NULL: the defaults, zeroes): as records_writer_english and
 * records_writer_detail (records.h). */
struct csvtable_options {
	int english;
	void (*detail)(void *ctx, const struct records_problem *p);
};

/* Imports data[0..len) (a whole file, borrowed) into table t. counts (caller-owned,
 * required) is filled on every return. Problems go to sink (records.h), the header's
 * with its line (1). */
enum csvtable_code csvtable_import(struct store *s, const struct schema_table *t, const char *data, size_t len,
				   const struct records_sink *sink, const struct csvtable_options *options,
				   struct csvtable_counts *counts);

/* Writes every row of t to f (borrowed; not closed) with separator sep (',' or ';').
 * *nrows (if not NULL) receives the rows written. CSVTABLE_OK, CSVTABLE_IO or
 * CSVTABLE_FAILED. */
enum csvtable_code csvtable_export(struct store *s, const struct schema_table *t, FILE *f, char sep,
				   long long *nrows);

#endif
