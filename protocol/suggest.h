/*
 * suggest.h — "did you mean": the candidate nearest to a mistyped word.
 *
 * Words are compared by their search keys (textnorm_fold: case, diacritics and đ
 * ignored) with the Levenshtein distance over those keys; a candidate is near enough
 * when at most a third of the typed key (at least one edit) differs, so "meting"
 * finds "meeting" and "sinh hoat lien chi" finds "Sinh hoạt liên chi đoàn" only if it
 * is that close. Used by the agent for tables, fields and choices.
 *
 * Pure: no I/O, no global state (it allocates its work space).
 */
#ifndef LK_SUGGEST_H
#define LK_SUGGEST_H

#include <stddef.h>

/* Keys longer than this are not compared (a mistyped name is short). */
#define SUGGEST_MAX_KEY 256

/* Index of the candidate nearest to typed (NULL entries are skipped; the first of
 * equally near ones wins), or -1 when none is near enough or on allocation failure. */
long suggest_nearest(const char *typed, const char *const *candidates, size_t n);

#endif
