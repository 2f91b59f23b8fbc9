/*
 * figures_pg.h — the PostgreSQL back end of the figures source (figures_source.h), for
 * a hub whose database is PostgreSQL (store_pg.c). The only figures file that includes
 * libpq-fe.h; it lives in hub/store/ so that the figures library, which the agent
 * links, never needs libpq.
 *
 * Same rows as the SQLite source of a hub (figures_sqlite.h, FIGURES_SQLITE_HUB): only
 * rows that exist (FIGURES_PG_ROW_EXISTS, the rule of FIGURES_SQLITE_ROW_EXISTS), read
 * through one SQL text per slot over subqueries that the planner flattens like views,
 * so that the thirteen figures are the same on both back ends for the same rows. The
 * texts use no SQLite function and no PostgreSQL-only date function (dates are text,
 * PROTOCOL.md), and compare text in byte order (COLLATE "C") wherever order decides:
 * the date ranges, the writers of the existence rule, the smallest branch of a
 * secretary — PostgreSQL's default collation would sort by the locale otherwise.
 *
 * Rows are streamed (libpq's single-row mode): a slot's callback must not use the
 * connection (no figures callback does).
 *
 * Owns: the source; borrows the connection, which must outlive the source and be used
 * by one thread at a time.
 */
#ifndef LK_HUB_FIGURES_PG_H
#define LK_HUB_FIGURES_PG_H

#include <libpq-fe.h>
#include <stddef.h>

#include "figures_source.h"
#include "unittree.h"

/* "A row exists" on the hub (FIGURES_SQLITE_ROW_EXISTS, PROTOCOL.md §4): its latest
 * insert wins over its latest delete, (clock, writer) compared with the writer in byte
 * order; a row with no insert yet (a held update) does not exist. An SQL condition over
 * the metadata columns of store.h, unqualified; also the WHERE of the partial index of
 * FIGURES_PG_INDEX_DDL, word for word (PostgreSQL uses a partial index when it can prove
 * the query's WHERE implies the index's, which it does for the same expression). */
#define FIGURES_PG_ROW_EXISTS                                                             \
	"(COALESCE(_ins_writer, '') <> '' AND (COALESCE(_del_writer, '') = ''"           \
	" OR _ins_clock > _del_clock OR (_ins_clock = _del_clock"                        \
	" AND _ins_writer COLLATE \"C\" > _del_writer COLLATE \"C\")))"

/* The index of the figures' own making, for the back end to create (CREATE INDEX IF NOT
 * EXISTS, idempotent) after the synced tables and their report indexes (store_pg.c
 * REPORT_DDL) exist: meeting_year, so that a year's meetings of the four kinds are one
 * range of a covering index (expression substr(held_on, 1, 4), partial on
 * FIGURES_PG_ROW_EXISTS word for word: the planner proves the subquery's WHERE implies
 * it, and answers meeting_groups by an index-only scan). */
extern const char FIGURES_PG_INDEX_DDL[];

/* A figures source reading the hub's tables on conn. Returns FIGURES_OK and *out (free
 * with figures_source_free), or a code with err filled; *out untouched then. */
int figures_pg_new(PGconn *conn, struct figures_source **out, struct figures_error *err);

/* The unit tree on conn in one read (figures_pg_new, read_begin, unittree_load,
 * read_end, free): 0 and *out (free with unittree_free), or -1 with an English reason
 * in err; *out untouched then. */
int figures_pg_load_tree(PGconn *conn, struct unittree **out, char *err, size_t errlen);

#endif
