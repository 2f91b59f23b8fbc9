/*
 * resolve.h — a linked record named the way an office names it, and a choice given by
 * its Vietnamese label.
 *
 * A link (a SCHEMA_REF column) may be written as:
 *   - an id (a UUID): taken as it is (the row may be one the hub has not sent yet);
 *   - for a person (table `person`): the full name, compared by search key (case,
 *     diacritics, đ and spacing ignored: "nguyen thi hoa" names "Nguyễn Thị Hoa"), with
 *     the birth year in brackets when two people share the name: "Nguyễn Văn An (1998)";
 *   - for a unit (table `unit`): any name it has had (unit_name.name, same comparison)
 *     or its official code (unit_name.code, case ignored). When several units match and
 *     exactly one is this office's (its unit, below it, or a unit row it created — a
 *     branch being set up), that one is meant.
 * Other tables are linked by id only. Several matches are never guessed between: the
 * caller gets them (RESOLVE_AMBIGUOUS) to list; none gives the nearest name, if any is
 * near, for "did you mean".
 *
 * A choice (a SCHEMA_ENUM column) may be written as its code or its label, compared by
 * search key ("sinh hoat lien chi doan" is `joint`).
 *
 * The same code labels a linked row for people to read (export, the app): a person as
 * "Full Name (1998)" — the form resolve_ref reads back — a unit by its current name.
 *
 * Reads the store through prepared statements it keeps in the store's cache; writes
 * nothing. Nothing here prints: callers phrase the messages.
 */
#ifndef LK_AGENT_RESOLVE_H
#define LK_AGENT_RESOLVE_H

#include <stddef.h>

#include "ids.h"
#include "schema.h"
#include "store.h"

/* Matches kept for a message or a picker: more than this many are counted, not kept. */
#define RESOLVE_MAX_MATCHES 10
/* A label's bytes, terminator included: the longest name column is 200 bytes, plus a
 * birth year. */
#define RESOLVE_LABEL_MAX 256

enum resolve_code {
	RESOLVE_OK = 0,
	RESOLVE_NONE,      /* nothing of that name (or the text is neither id nor name) */
	RESOLVE_AMBIGUOUS, /* several rows of that name: see the matches */
	RESOLVE_BY_ID_ONLY,/* the table is linked by id only and the text is not an id */
	RESOLVE_FAILED,    /* SQLite failed or out of memory (sqlite3_errmsg says why) */
};

/* One row a name matched. */
struct resolve_match {
	char id[IDS_UUID_TEXT];
	char label[RESOLVE_LABEL_MAX];  /* person: "Full Name (1998)" or "Full Name"; unit: its
					   current name */
	int birth_year;                 /* person; 0 when unknown (or not a person) */
	char code[24];                  /* unit: official code, "" when none */
	char parent[RESOLVE_LABEL_MAX]; /* unit: the current parent's name, "" when none */
};

struct resolve_result {
	struct resolve_match match[RESOLVE_MAX_MATCHES]; /* RESOLVE_OK: match[0] is the row */
	size_t nmatch;                                   /* kept in match[] */
	size_t total;                                    /* matched in all */
	int has_suggestion;                              /* RESOLVE_NONE: a near name exists */
	struct resolve_match suggestion;
};

/* Finds the row of column c's ref_table that text names. RESOLVE_OK: id[] holds the
 * row's id (and r->match[0] describes it when it was found by name). Every other code
 * leaves id[] unwritten; r (caller-owned, required) is filled on every return. */
enum resolve_code resolve_ref(struct store *s, const struct schema_column *c, const char *text,
			      char id[IDS_UUID_TEXT], struct resolve_result *r);

/* The label of row id of table ref_table ("person", "unit"; others have none):
 * 1 and out[] written, 0 when the row is unknown or the table has no label (out[] is
 * then ""), -1 when SQLite fails. */
int resolve_label(struct store *s, const char *ref_table, const char *id, char out[RESOLVE_LABEL_MAX]);

/* 1 when rows of ref_table can be named (resolve_ref reads names for it), else 0. */
int resolve_by_name(const char *ref_table);

/* Rows of ref_table ("person" or "unit") whose search key contains query's (all of them
 * for ""), in label order: up to cap written to out[], *n how many were written.
 * 0, or -1 when SQLite fails or out of memory. For the app's pickers. */
int resolve_search(struct store *s, const char *ref_table, const char *query, struct resolve_match *out,
		   size_t cap, size_t *n);

/* The enumeration value of column c that text names (its code, exactly, or its label or
 * code by search key), or NULL; then *nearest (if not NULL) is the nearest value for
 * "did you mean", or NULL. Retired values are found too (validate_value refuses them
 * with its own code). */
const struct schema_enum_value *resolve_choice(const struct schema_column *c, const char *text,
					       const struct schema_enum_value **nearest);

/* The column of t a CSV header or a form names: its field name ("held_on"), its label
 * by search key ("Ngày tổ chức", "ngay to chuc"), or "Label (field)". NULL when none,
 * or when a label is shared by two columns and the field is not given. */
const struct schema_column *resolve_column(const struct schema_table *t, const char *typed);

/* The column nearest to a mistyped name or label ("did you mean"), or NULL. */
const struct schema_column *resolve_column_nearest(const struct schema_table *t, const char *typed);

/* "field (Label), …" of the columns an office gives (all but id), for messages. */
void resolve_columns_text(const struct schema_table *t, char *buf, size_t cap);

#endif
