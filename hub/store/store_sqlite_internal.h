/*
 * store_sqlite_internal.h — what the files of the SQLite back end share (store_sqlite.c
 * owns the connection; sqlite_views.c holds the SQL of the read side). Not for use
 * outside hub/store/.
 *
 * Owns: nothing; every pointer is the store's.
 */
#ifndef LK_HUB_STORE_SQLITE_INTERNAL_H
#define LK_HUB_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The connection of an SQLite store. */
sqlite3 *store_sqlite_conn(struct store *s);
/* A prepared statement from the store's cache (give it back with store_sqlite_release):
 * 0, or a negative store_code. */
int store_sqlite_prep(struct store *s, const char *sql, sqlite3_stmt **st);
void store_sqlite_release(struct store *s, sqlite3_stmt *st);
/* The store_code of the connection's last failure (and its words kept for errmsg). */
int store_sqlite_fail(struct store *s);
/* Binds text (NULL binds NULL). */
void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);

/* Sets the read side's slots (sqlite_views.c) in a table of functions. */
void store_sqlite_views_ops(struct store *ops);

#endif
