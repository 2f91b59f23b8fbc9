/*
 * textsafe.h — what an office typed, made harmless where both programs show it: in a
 * spreadsheet (a CSV cell that would start a formula) and on a terminal (control
 * characters that would move the cursor, retitle the window or hide text).
 *
 * Spreadsheet cells (README "CSV"). A cell whose text starts with `=`, `+`, `-`, `@`,
 * a tab or a carriage return is read by Excel and LibreOffice as a formula; a line
 * feed is treated the same (a CSV reader may turn a CR into one). On writing,
 * such a text gets one leading apostrophe `'`, the spreadsheets' own "this is text"
 * mark; so does a text that starts with one or more apostrophes followed by one of
 * those characters (`'=1` is written `''=1`). On reading, one leading apostrophe is
 * dropped exactly when the cell is an apostrophe followed by zero or more apostrophes
 * and then one of those characters. The two rules are inverse to each other for every
 * text, so export → import gives back the same bytes; a cell that starts with an
 * apostrophe followed by anything else (`'abc`, `'`) is read as it is.
 *
 * Terminals. Shown escaped: the C0 controls and DEL as `\xNN` (tab, line feed and
 * carriage return as `\t`, `\n`, `\r`), the C1 controls U+0080..U+009F and the
 * bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) as
 * `\uNNNN`, and every byte that is not part of valid UTF-8 as `\xNN`. Everything else —
 * Vietnamese with its combining marks, a backslash — passes unchanged.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef LK_TEXTSAFE_H
#define LK_TEXTSAFE_H

#include <stddef.h>

/* 1 when a cell holding s (len bytes) must be written with a leading apostrophe. */
int textsafe_csv_needs_guard(const char *s, size_t len);

/* 1 when the cell s (len bytes) as read starts with an apostrophe written by
 * textsafe_csv_needs_guard's rule: the reader drops that first byte. */
int textsafe_csv_is_guarded(const char *s, size_t len);

/* The longest terminal escape, without a terminator: "\u202e". */
#define TEXTSAFE_TERM_ESC_MAX 6

/* Calls emit(ctx, bytes, n) with s (NUL-terminated; NULL emits nothing) made safe for
 * a terminal, in order, in runs of unchanged text and single escapes. */
void textsafe_term_each(const char *s, void (*emit)(void *ctx, const char *p, size_t n),
			void *ctx);

/* s made safe for a terminal, written into out (cap bytes, cap >= 1, always
 * NUL-terminated; cut before the first character or escape that does not fit).
 * Returns out. */
char *textsafe_term(char *out, size_t cap, const char *s);

#endif
