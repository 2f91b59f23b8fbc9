/*
 * merge.h — the hub's merge rules on one row's state, with no storage and no I/O.
 *
 * A row's state is its values, one (clock, writer) per column (last-writer-wins by
 * hlc_order), the (clock, writer) of its latest insert and of its latest delete. The
 * rules (PROTOCOL.md §4, issue 4):
 *   - an insert sets every declared column (missing ones as NULL) where its (clock,
 *     writer) wins, and raises the insert clock;
 *   - an update sets the columns it carries where it wins; it never touches existence,
 *     so an update never revives a deleted row and merges into it hidden;
 *   - a delete raises the delete clock;
 *   - the row exists when its insert (clock, writer) is greater than its delete's.
 * Every rule is a maximum, so the result is the same in any delivery order.
 *
 * Field clocks are stored compactly with the row: a row clock (the greatest of the
 * column clocks) plus `_fc`, a JSON object listing only the columns whose clock
 * differs, e.g. {"attendees":[116672147456000002,"0190f3a2-…"]}. The encoding is a
 * function of the state alone (columns in declared order), so equal states give equal
 * bytes.
 *
 * Ownership: a merge_row owns copies of all its strings; merge_row_release frees them.
 */
#ifndef LK_HUB_MERGE_H
#define LK_HUB_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "schema.h"

#define MERGE_WRITER_MAX 37 /* a UUID text + NUL; "" means no writer */

struct merge_cell {
	struct value v;   /* v.s owned (malloc'd) when kind == VALUE_TEXT */
	uint64_t clock;   /* 0 with writer "" when never written */
	char writer[MERGE_WRITER_MAX];
};

struct merge_row {
	const struct schema_table *t; /* static */
	char id[37];
	char owner[37];
	uint64_t ins_clock;
	char ins_writer[MERGE_WRITER_MAX]; /* "" = never inserted */
	uint64_t del_clock;
	char del_writer[MERGE_WRITER_MAX]; /* "" = never deleted */
	struct merge_cell *cells;          /* t->ncolumns; cells[0] (id) unused */
};

/* Initialises an empty row (no insert, no delete, every column NULL and unwritten).
 * 0, or -1 on allocation failure (r left released). */
int merge_row_init(struct merge_row *r, const struct schema_table *t, const char *id,
		   const char *owner);
void merge_row_release(struct merge_row *r); /* accepts a zeroed row */

/* Sets column `col` of r to a copy of v with the given clock and writer, whatever it
 * held (used by the store when loading). 0, or -1 on allocation failure (r unchanged). */
int merge_cell_set(struct merge_row *r, size_t col, const struct value *v, uint64_t clock,
		   const char *writer);

/* 1 when the row has an insert newer than its delete. */
int merge_row_exists(const struct merge_row *r);
/* 1 when some insert of the row has been merged. */
int merge_row_inserted(const struct merge_row *r);

/* Merges entry e written by `writer` into r. The caller has validated e (names and
 * values) and checked that its table and id are r's. *changed is set to 1 when r
 * changed. 0, or -1 on allocation failure (r may be partly merged: discard it). */
int merge_apply(struct merge_row *r, const struct entry *e, const char *writer, int *changed);

/* The row clock and writer: the greatest (clock, writer) over columns 2.. (0/"" if
 * none was written). */
void merge_row_clock(const struct merge_row *r, uint64_t *clock, char writer[MERGE_WRITER_MAX]);

/* Encodes the per-column overrides of r against its row clock as compact JSON (new
 * string, caller frees). NULL on allocation failure. */
char *merge_fc_encode(const struct merge_row *r);

/* Sets every column's clock from a row clock and an `_fc` text (values untouched).
 * 0, or -1 when fc is malformed or names an unknown column. */
int merge_fc_decode(struct merge_row *r, uint64_t row_clock, const char *row_writer,
		    const char *fc);

#endif
