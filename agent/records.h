/*
 * records.h — writing rows of the synced tables exactly as the command line does
 * (`add`, `set`, `rm`: commands_data.c), for another front end: the office app
 * (app_api.h). Same parsing of each value (fieldarg.h), same validation, same checks
 * (natural keys, scope, owner), same INSERT/UPDATE/DELETE and therefore the same
 * journaling triggers (store.h): a row written here syncs exactly as one typed in a
 * shell.
 *
 * What the command line prints on stderr is given to the caller's sink instead, one
 * call per refusal, in Vietnamese whatever the locale, every problem of a row (not
 * only the first) before RECORDS_REJECTED is returned.
 *
 * Transactions are the caller's: several writes inside one BEGIN IMMEDIATE … COMMIT
 * are all or nothing; after RECORDS_REJECTED or RECORDS_FAILED of a delete the caller
 * must roll back. Without a transaction each call is its own (SQLite autocommit).
 * Owns: a records_writer holds prepared statements until records_writer_free; the
 * store and the sink are borrowed and must outlive it.
 */
#ifndef LK_AGENT_RECORDS_H
#define LK_AGENT_RECORDS_H

#include "ids.h"
#include "schema.h"
#include "store.h"

/* Longest refusal text handed to a sink, terminator included (longer is cut). */
#define RECORDS_TEXT_MAX 512

struct records_sink {
	/* One refusal: col is the column it is about (NULL: the row as a whole), text the
	 * Vietnamese sentence (borrowed for the call), line the CSV line or 0. */
	void (*refuse)(void *ctx, unsigned long line, const struct schema_column *col, const char *text);
	void *ctx;
};

enum records_result {
	RECORDS_INSERTED,
	RECORDS_UPDATED,
	RECORDS_UNCHANGED,
	RECORDS_DELETED,
	RECORDS_REJECTED, /* the data's fault; the sink was told why */
	RECORDS_FAILED,   /* SQLite or memory (logged in English on stderr) */
};

struct records_writer;

/* A writer for table t. NULL when out of memory or arguments are wrong. */
struct records_writer *records_writer_new(struct store *s, const struct schema_table *t,
					  const struct records_sink *sink);
void records_writer_free(struct records_writer *w); /* accepts NULL */

/* Inserts (set_id NULL) or updates row set_id. text[i] is the text of column i of t, in
 * the command line's syntax (fieldarg.h; NULL: not given, "": null); text[0] is
 * ignored, text[1] the owning unit (NULL or "": the agent's unit on insert). On
 * success out_id holds the row's id. A hub-only table is refused. */
enum records_result records_write(struct records_writer *w, const char *const *text, const char *set_id,
				  char out_id[IDS_UUID_TEXT]);

/* Deletes row id (the tombstone of `rm`): RECORDS_DELETED, RECORDS_REJECTED (no such
 * row, outside the scope) or RECORDS_FAILED. Must run inside the caller's write
 * transaction (BEGIN IMMEDIATE), rolled back unless RECORDS_DELETED. */
enum records_result records_delete(struct records_writer *w, const char *id);

#endif
