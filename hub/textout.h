/*
 * textout.h — writing text into the formats the province reads: HTML, JSON and CSV,
 * each escaped so that what an office typed (names, reasons, notes) can never change
 * the document around it. One place for the report, the status, the dashboard and the
 * digest.
 *
 * Each writes to f and cannot fail by itself (a stream error stays in ferror(f), which
 * the caller checks once when it finishes the document).
 */
#ifndef LK_HUB_TEXTOUT_H
#define LK_HUB_TEXTOUT_H

#include <stdio.h>

/* s with & < > " ' escaped as entities; NULL writes nothing. */
void textout_html(FILE *f, const char *s);
/* s as a JSON string (", \ and control characters escaped), or null for NULL. */
void textout_json(FILE *f, const char *s);
/* s as one CSV field, quoted (inner quotes doubled) when it holds , " CR or LF; NULL
 * writes an empty field. No separator is written. */
void textout_csv(FILE *f, const char *s);

#endif
