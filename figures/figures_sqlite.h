/*
 * figures_sqlite.h — the SQLite back end of the figures source (figures_source.h), for
 * the hub's database and for an office's (agent's) database alike: both hold the
 * synced tables of protocol/schema.h under the same names and columns.
 *
 * What differs is which rows exist. The hub keeps tombstones and held updates beside
 * live rows (store.h metadata columns), and a row exists when FIGURES_SQLITE_ROW_EXISTS
 * holds; an agent deletes rows outright, so every row in its tables exists. Each
 * source creates, on its connection, a TEMP VIEW r_<table> per synced table with the
 * declared columns of the rows that exist (FIGURES_SQLITE_HUB: filtered by
 * FIGURES_SQLITE_ROW_EXISTS; FIGURES_SQLITE_AGENT: every row), and every slot reads
 * those views only, with the same SQL on both. An agent's database holds the unit
 * tree whole (pulled as reference data) and the records of its own scope (PROTOCOL.md
 * §6.3, §8), so the figures of its own unit are complete there.
 *
 * Indexes: on the hub, store_sqlite.c creates the ones the report relies on (hub
 * report.h lists them; meeting_year is a partial covering index whose WHERE is
 * FIGURES_SQLITE_ROW_EXISTS word for word and whose leading expression is
 * FIGURES_SQLITE_YEAR_OF(held_on)). An office's few thousand rows need none beyond the
 * agent's own.
 *
 * Owns: the source and its prepared statements; borrows the connection, which must
 * outlive the source and be used by one thread at a time.
 */
#ifndef LK_FIGURES_SQLITE_H
#define LK_FIGURES_SQLITE_H

#include <sqlite3.h>
#include <stddef.h>

#include "figures_source.h"
#include "unittree.h"

/* "A row exists" on the hub: its latest insert wins over its latest delete in the
 * write order of PROTOCOL.md §4 ((clock, writer), greater wins); a row with no insert
 * yet (a held update) does not exist. An SQL condition over the hub's metadata columns
 * (store.h): the single definition used by every report, as the WHERE of the r_*
 * views, and, word for word, as the WHERE of the partial indexes store_sqlite.c makes
 * for the report (SQLite uses a partial index for a query on a view only when the
 * view's WHERE implies the index's, which it proves for the same expression). */
#define FIGURES_SQLITE_ROW_EXISTS                                                         \
	"COALESCE(_ins_writer, '') <> '' AND (COALESCE(_del_writer, '') = ''"            \
	" OR _ins_clock > _del_clock"                                                     \
	" OR (_ins_clock = _del_clock AND _ins_writer > _del_writer))"

/* The year of a date column as text ('2021'): the leading expression of the hub's
 * meeting_year index and of every query on the meetings of a year (SQLite uses an
 * expression index only for the same expression). */
#define FIGURES_SQLITE_YEAR_OF(date_col) "substr(" date_col ", 1, 4)"

/* Which rows of the tables exist (above). */
enum figures_sqlite_rows {
	FIGURES_SQLITE_HUB,   /* the hub's tables: rows with FIGURES_SQLITE_ROW_EXISTS */
	FIGURES_SQLITE_AGENT, /* an office's tables: every row */
};

/* A figures source reading db. Creates the r_* TEMP views on db (if missing). Returns
 * FIGURES_OK and *out (free with figures_source_free), or a code with err filled
 * (FIGURES_MISSING when a synced table is missing: not a hub or agent database); *out
 * untouched then. */
int figures_sqlite_new(sqlite3 *db, enum figures_sqlite_rows rows, struct figures_source **out,
		       struct figures_error *err);

/* The unit tree of db in one read (figures_sqlite_new, read_begin, unittree_load,
 * read_end, free): 0 and *out (free with unittree_free), or -1 with an English reason
 * in err; *out untouched then. */
int figures_sqlite_load_tree(sqlite3 *db, enum figures_sqlite_rows rows, struct unittree **out,
			     char *err, size_t errlen);

#endif
