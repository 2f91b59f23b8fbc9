/*
 * records.h — the agent's one write path for rows of the synced tables: the command
 * line (`add`, `set`, `rm`, `import`), CSV and the office app (app_api.h) all write
 * through it, so a row is stored, checked and journaled the same whoever typed it —
 * same INSERT/UPDATE/DELETE, same journaling triggers (store.h): a row written here
 * syncs exactly as one typed in a shell.
 *
 * What an office may type for a column (text[i] for column i of t; NULL: not given,
 * "": empty, stored as null):
 *   text    stored in Unicode NFC (textnorm.h), whatever the keyboard sent
 *   date    dd/mm/yyyy, d/m/yyyy or ISO yyyy-mm-dd (datetext.h); stored ISO
 *   choice  the code or the Vietnamese label, case and diacritics ignored (resolve.h)
 *   link    an id, or a name: a person by full name ("Nguyễn Văn An (1998)" when two
 *           share the name), a unit by name or official code (resolve.h)
 *   yes/no  1/0, có/không, true/false; number: decimal (fieldarg.h)
 * text[0] is the row's id (records_import only: an id updates that row), text[1] the
 * owning unit (NULL or "": the agent's unit on insert).
 *
 * Problems go to the caller's sink, one call per problem, every problem of a row (not
 * only the first) before RECORDS_REJECTED is returned. A problem about one column
 * carries that column and a sentence WITHOUT its label (the page shows it next to the
 * field; the command line prefixes "Label (field): "); one about the row as a whole
 * has no column. Texts are Vietnamese unless the writer is told English
 * (records_writer_english: the command line under an English locale); a caller that
 * wants the stable code and an ambiguous name's candidates sets records_writer_detail.
 *
 * Transactions are the caller's: several writes inside one BEGIN IMMEDIATE … COMMIT
 * are all or nothing (import, the app's branch form: unit + unit_name + unit_parent);
 * after RECORDS_REJECTED or RECORDS_FAILED of a delete the caller must roll back.
 * Without a transaction each write is its own (SQLite autocommit).
 * Owns: a records_writer holds prepared statements until records_writer_free; the
 * store and the sink are borrowed and must outlive it.
 */
#ifndef LK_AGENT_RECORDS_H
#define LK_AGENT_RECORDS_H

#include <stddef.h>

#include "ids.h"
#include "resolve.h"
#include "schema.h"
#include "store.h"

/* Longest refusal text handed to a sink, terminator included (longer is cut): a
 * choice's message lists every allowed value, an ambiguous name every candidate. */
#define RECORDS_TEXT_MAX 2048
/* The widest table has 9 columns; records_writer_new refuses a wider one. */
#define RECORDS_MAX_COLUMNS 32

/* One problem, for a sink that wants more than the sentence. */
struct records_problem {
	unsigned long line;                 /* the CSV line (records_import), else 0 */
	const struct schema_column *column; /* NULL: the row as a whole */
	const char *code; /* stable, static: a validate code ("bad_type", "required",
			     "bad_range", "too_long", "bad_id"…), "bad_date", "bad_enum",
			     "not_found" (a name matching nothing), "ambiguous", "by_id_only",
			     "exists", "no_record", "out_of_scope", "owner_changed",
			     "key_changed", "hub_only" */
	const char *text; /* the sentence (see the top), borrowed for the call */
	const struct resolve_match *matches; /* "ambiguous": the rows it could mean;
						"not_found": the nearest name (0 or 1) */
	size_t nmatches;
};

struct records_sink {
	/* One refusal: col is the column it is about (NULL: the row as a whole), text the
	 * sentence (borrowed for the call), line the CSV line or 0. */
	void (*refuse)(void *ctx, unsigned long line, const struct schema_column *col, const char *text);
	void *ctx;
};

enum records_result {
	RECORDS_INSERTED,
	RECORDS_UPDATED,
	RECORDS_UNCHANGED,
	RECORDS_DELETED,
	RECORDS_REJECTED, /* the data's fault; the sink was told why */
	RECORDS_FAILED,   /* SQLite or memory (logged in English on stderr;
			     records_errcode says which) */
};

struct records_writer;

/* A writer for table t. NULL when out of memory or arguments are wrong (no sink
 * function, t wider than RECORDS_MAX_COLUMNS). */
struct records_writer *records_writer_new(struct store *s, const struct schema_table *t,
					  const struct records_sink *sink);
void records_writer_free(struct records_writer *w); /* accepts NULL */

/* From now on problems go to detail(ctx, problem) — the code and the candidates —
 * instead of the sink's refuse. */
void records_writer_detail(struct records_writer *w, void (*detail)(void *ctx, const struct records_problem *p));

/* english 1: problem texts in English from now on; 0 (the default): Vietnamese. */
void records_writer_english(struct records_writer *w, int english);

/* Inserts (set_id NULL) or updates row set_id. text[0] is ignored. On success out_id
 * holds the row's id. A hub-only table is refused; an insert whose natural key exists
 * is refused ("exists"). */
enum records_result records_write(struct records_writer *w, const char *const *text, const char *set_id,
				  char out_id[IDS_UUID_TEXT]);

/* One CSV line (line: its number, for messages): updates the row that text[0] or the
 * natural key names when it exists, inserts otherwise. RECORDS_INSERTED, _UPDATED,
 * _UNCHANGED, _REJECTED or _FAILED; out_id as records_write. */
enum records_result records_import(struct records_writer *w, unsigned long line, const char *const *text,
				   char out_id[IDS_UUID_TEXT]);

/* Deletes row id (the tombstone of `rm`): RECORDS_DELETED, RECORDS_REJECTED (no such
 * row, outside the scope) or RECORDS_FAILED. Must run inside the caller's write
 * transaction (BEGIN IMMEDIATE), rolled back unless RECORDS_DELETED. */
enum records_result records_delete(struct records_writer *w, const char *id);

/* What one column's typed text is stored as (the rules at the top), for a form that
 * checks a field before the row is saved: 0 and *out (a new string, free with free();
 * NULL for empty), 1 after telling the sink the problem, -1 when SQLite or memory
 * failed. */
int records_value(struct records_writer *w, const struct schema_column *c, const char *typed, char **out);

/* The SQLite error code behind the last RECORDS_FAILED (SQLITE_BUSY or SQLITE_LOCKED
 * when another program held the database: try again later). */
int records_errcode(const struct records_writer *w);

#endif
