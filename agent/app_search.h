/*
 * app_search.h — the office app's search in SQL: two functions registered on a
 * connection, over textnorm_fold's search key (case, diacritics and đ ignored):
 *   lk_fold(text)          the key of a text (NULL for NULL), for ordering by name;
 *   lk_match(key, v1, …)   1 when every word of key (a key already) is inside the key
 *                          of some value: NULLs skipped, integers as decimal text,
 *                          ISO dates also as dd/mm/yyyy, as an office types them.
 * Both run once per row of a list of tens of thousands: a fold without allocation
 * covers ASCII and the precomposed Vietnamese letters (its table derived from
 * textnorm_fold itself, so the two agree), anything else goes through textnorm_fold.
 * Owns: a static table filled once (app_search_register; before any thread uses it).
 */
#ifndef LK_AGENT_APP_SEARCH_H
#define LK_AGENT_APP_SEARCH_H

#include <sqlite3.h>
#include <stdint.h>

/* Longest search text taken, bytes (a longer one is cut). */
#define APP_SEARCH_QUERY_MAX 200

/* Registers lk_fold and lk_match on db. 0, or -1 (sqlite3_errmsg says why). */
int app_search_register(sqlite3 *db);

/* The search key of a query text, or NULL when it is NULL, empty or only spaces (no
 * filter) or not UTF-8. Free with free(). */
char *app_search_key(const char *q);

/* For tests: 1 when the fast fold of a text holding character cp equals textnorm_fold. */
int app_search_fold_agrees(int32_t cp);

#endif
