/*
 * fieldarg.h — the command-line syntax for a row's values, shared by the agent's
 * `add|set|list` and the hub's corrections `add|set|rm`: arguments "field=value", one
 * a column of a schema table, and the text of each turned into a value typed by its
 * column and checked with validate_value.
 *
 * Value syntax (both programs must accept exactly the same): "" is null; integer and
 * boolean columns take strict decimal (strtoll base 10, the whole text, no empty
 * string), booleans also có/true (1) and không/false (0); every other column takes the
 * text as is. Names are looked up in the current schema (SCHEMA_VERSION) only.
 *
 * Pure: no I/O, no allocation, no global state. Every pointer written borrows from the
 * caller's argument text or from the schema's static data.
 */
#ifndef LK_FIELDARG_H
#define LK_FIELDARG_H

#include <stddef.h>

#include "entry.h"
#include "schema.h"
#include "validate.h"

/* Longest field name read, terminator included: longer than any column name, so a
 * longer one is refused without a lookup. */
#define FIELDARG_NAME_MAX 64

enum fieldarg_code {
	FIELDARG_OK = 0,
	FIELDARG_NOT_FIELD_VALUE, /* no '=', or nothing before it */
	FIELDARG_NAME_TOO_LONG,   /* the name has FIELDARG_NAME_MAX bytes or more */
	FIELDARG_UNKNOWN_FIELD,   /* no column of that name in the table */
	FIELDARG_ID_NOT_FIELD,    /* `id=` where the id is not given as a field */
	FIELDARG_DUPLICATE,       /* the column was given already */
};

/* What fieldarg_put found; filled on every return (caller-owned, may be NULL). */
struct fieldarg_status {
	enum fieldarg_code code;
	char name[FIELDARG_NAME_MAX]; /* the name as given, terminated; "" for
					 FIELDARG_NOT_FIELD_VALUE and FIELDARG_NAME_TOO_LONG */
	const struct schema_column *column; /* the column named, or NULL when none */
};

/* Reads one "field=value" argument for table t into text[], an array of t->ncolumns
 * entries indexed like t->columns (NULL where no value was given yet): on FIELDARG_OK
 * text[i] of the named column points at the byte after the first '=' of arg (borrowed;
 * "" means null). allow_id: 1 accepts `id=` (a filter), 0 refuses it with
 * FIELDARG_ID_NOT_FIELD. Returns FIELDARG_OK or the code of the first problem, in the
 * order of enum fieldarg_code; text[] is left unchanged on error. */
enum fieldarg_code fieldarg_put(const struct schema_table *t, const char *arg, int allow_id,
				const char **text, struct fieldarg_status *st);

/* Turns text (NULL or "" is null) into a value of column c, borrowing text, and checks
 * it with validate_value. Returns VALIDATE_OK when *v may be stored; otherwise the code
 * (VALIDATE_BAD_TYPE for an integer or boolean column whose text is not a number,
 * VALIDATE_BAD_RANGE for a number beyond 64 bits, or what validate_value says). *v is
 * always written: zeroed (VALUE_NULL) when the text is not a number, else the parsed
 * value even when validate_value refused it (a list filter may still compare it). */
enum validate_code fieldarg_value(const struct schema_column *c, const char *text, struct value *v);

#endif
