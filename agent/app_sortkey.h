/*
 * app_sortkey.h — the folded order of people's names, kept in the office's database for
 * the app's lists (agent-local, never synced), so that a list sorted by a person's name
 * — the people, or roles, cards, support… by the person they name — reads the order
 * from an index instead of folding and sorting every row (50,000 rows in well under
 * 100 ms):
 *
 *   lk_app_person_key(key, id) PRIMARY KEY (key, id), WITHOUT ROWID; index on id
 *       key = lk_fold("full_name (birth_year)"), '' when that has no key
 *   lk_app_person_dirty(id PRIMARY KEY)   people whose key must be (re)computed
 *
 * Triggers on person, in plain SQL (any program may write person, the sqlite3 shell
 * included: no lk_fold there), mark a person dirty when inserted or when its name or
 * birth year change, and drop its key when it changes or goes. app_sortkey_refresh
 * computes the keys of the dirty people (lk_fold) before a list reads them: after a
 * sync that brought thousands of people, once.
 *
 * app_sortkey_setup (at the app's start) makes the tables and triggers; when the
 * triggers were missing (first start, or a schema upgrade dropped them) or the fold
 * changed (another utf8proc or a new fold revision: the fingerprint in lk_config
 * `app_person_key`), every person is marked dirty. Both take the write lock briefly.
 */
#ifndef LK_AGENT_APP_SORTKEY_H
#define LK_AGENT_APP_SORTKEY_H

#include <sqlite3.h>

/* The tables, triggers and fingerprint (lk_fold must be registered on db). 0, or -1
 * (sqlite3_errmsg says why). */
int app_sortkey_setup(sqlite3 *db);

/* Computes the keys of the dirty people. 0: every person has its key; 1: the database
 * is busy (another program writes): the keys are not ready, sort without them; -1:
 * SQLite failed (sqlite3_errmsg). Waits at most busy_ms for the write lock, then
 * restores the connection's busy timeout to restore_ms. */
int app_sortkey_refresh(sqlite3 *db, int busy_ms, int restore_ms);

#endif
