/*
 * report_text.h — the thirteen figures (figures.h) written for a terminal and as the
 * JSON document of `GET /v1/report`: one implementation for the hub (`lienket-hub
 * report`, the route, the dashboard's JSON) and the office (`lienket-agent figures`,
 * the office app's /api/figures), so both show the same document for the same unit.
 *
 * JSON (what `GET /v1/report?unit=U&year=Y` serves; report_write_json):
 *   {"v":1, "unit":"<uuid>", "unit_name":"Tỉnh Bình Thuận", "unit_code":"60"|null,
 *    "year":2021, "as_of":"2021-12-31", "previous_year":2020,
 *    "previous_as_of":"2020-12-31", "closed_on":null|"2021-07-01",
 *    "units":[{"unit":"<uuid>","name":"…","code":"…"|null}, …],   -- breakdown rows
 *    "figures":[
 *      {"number":1..13, "key":"implementing", "label":"…", "target_note":"…"|null,
 *       -- the headline measure, flattened:
 *       "value":9, "of":10|null, "share":0.9|null, "split":false,
 *       "target":null|n, "previous":{"value":…,"of":…,"share":…,"split":false}|null,
 *       -- every measure of the figure (the headline first):
 *       "measures":[{"key":"…","label":"…","value":…,"of":…,"share":…,"split":…,
 *                    "target":…,"previous":{…}|null}, …],
 *       "unit_breakdown":[{"unit":"<uuid>","name":"…","code":…, <headline cell as
 *                    above: value, of, share, split, target, previous>,
 *                    "measures":[… same shape …]}, …]}, …]}
 *   `of` is null for a count and the denominator for a share; `share` = value/of
 *   rounded to 4 decimals (null when of is 0 or null). `target` is a number of the
 *   same unit as value (for a share: the target count of the numerator), or null.
 *   unit_breakdown lists the children of the unit as of the report date, in the
 *   order of "units"; records of the unit itself count in the totals only.
 *
 * Owns: nothing. Every text an office typed is escaped (textout.h).
 */
#ifndef LK_FIGURES_REPORT_TEXT_H
#define LK_FIGURES_REPORT_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "figures.h"

/* Each returns REPORT_OK, or REPORT_WRITE when writing to f failed.
 * text: aligned plain text (UTF-8, Vietnamese) for the terminal.
 * json: the document above, one line, UTF-8. */
int report_write_text(const struct report *r, FILE *f);
int report_write_json(const struct report *r, FILE *f);

/* Formatters shared by the renderings (these two, the hub's CSV and HTML); each
 * writes buf and returns it. int: Vietnamese thousands dots ("6.123"); share: one
 * decimal with a decimal comma ("95,9%", "–" when of <= 0); cell: "667 / 695 (96,0%)"
 * or "6.123", with " (tách)" when split; closed note: what the report of a unit closed
 * during the year covers (r->closed_on set). */
#define REPORT_NOTE_MAX 400
const char *report_fmt_int(int64_t v, char buf[32]);
const char *report_fmt_share(const struct report_cell *c, char buf[32]);
const char *report_fmt_cell(const struct report_cell *c, char buf[128]);
const char *report_closed_note(const struct report *r, char buf[REPORT_NOTE_MAX]);
/* value/of rounded to 1/scale (scale 10, 100, …) with a decimal point whatever the
 * locale, for JSON and CSV ("0.5714" for 4/7 at 10000; of = 0 writes "0.0000"). */
const char *report_fmt_ratio(int64_t value, int64_t of, int64_t scale, char buf[48]);

#endif
