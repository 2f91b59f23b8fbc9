/*
 * textout.h — writing text into the formats the province reads: HTML, JSON, CSV and a
 * terminal,
 * each escaped so that what an office typed (names, reasons, notes) can never change
 * the document around it. One place for the report, the status, the dashboard and the
 * digest.
 *
 * Each writes to f and cannot fail by itself (a stream error stays in ferror(f), which
 * the caller checks once when it finishes the document).
 */
#ifndef LK_FIGURES_TEXTOUT_H
#define LK_FIGURES_TEXTOUT_H

#include <stddef.h>
#include <stdio.h>

/* s with & < > " ' escaped as entities; NULL writes nothing. */
void textout_html(FILE *f, const char *s);
/* s as a JSON string (", \ and control characters escaped), or null for NULL. */
void textout_json(FILE *f, const char *s);
/* s as one CSV field, quoted (inner quotes doubled) when it holds , " CR or LF, and
 * with a leading apostrophe when a spreadsheet would read it as a formula (the rule
 * of protocol/textsafe.h, which the agent's import undoes); NULL writes an empty
 * field. No separator is written. */
void textout_csv(FILE *f, const char *s);
/* s for a terminal: control characters, C1 and bidi controls and invalid UTF-8
 * escaped as \xNN / \uNNNN (protocol/textsafe.h); NULL writes nothing. */
void textout_term(FILE *f, const char *s);
/* s escaped as textout_term, padded with spaces to `width` display columns (code
 * points, combining marks U+0300..U+036F not counted) on the right, or on the left
 * when right_align; a longer text is written whole. */
void textout_term_cell(FILE *f, const char *s, size_t width, int right_align);

#endif
