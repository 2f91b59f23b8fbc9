/*
 * report.h — the province report on the hub: the thirteen figures of MODEL.md for a
 * unit subtree and a year (computed by the shared figures library, figures/figures.h,
 * which holds the rules, the figures as computed and the result types), read from the
 * hub's merged records, and rendered.
 *
 * report_build computes them on the hub's database (the store's figures source:
 * store.h `figures`, e.g. figures/figures_sqlite.h on SQLite, over the rows that exist);
 * report_write_{text,json,csv,html} render one result.
 *
 * JSON: the document of GET /v1/report is written by report_write_json, shared with
 * the office (figures/report_text.h, where its shape is documented).
 *
 * Cost on the hub: proportional to the rows of Y and Y−1 (year-indexed ranges), not to the
 * history: 0.47 s on a hub of 10 million meetings, 1 million a year (bench/README.md
 * figure 8; 9.1 s before meeting_year; a real province has ~8,000 a year). Indexes it
 * relies on (SQLite), all created by store_sqlite.c (REPORT_DDL), every query's plan using them
 * without ANALYZE statistics:
 *   meeting_year   meeting(FIGURES_SQLITE_YEAR_OF(held_on), kind, unit_id, host_branch_id,
 *                  commune_secretary_attended, held_on) WHERE FIGURES_SQLITE_ROW_EXISTS:
 *                  partial (live meetings only) and covering the meeting pass, whose
 *                  WHERE says "held in Y" with the same year expression; so a year's
 *                  meetings are one contiguous run of index entries in (kind, unit,
 *                  host) order: the GROUP BY streams without a sort and the table is
 *                  never read. The joins on meeting ids find the year's meetings
 *                  through it too and read those rows: figure 4 the task meetings (a
 *                  few hundred a year), figure 7 every meeting, but only when more than
 *                  32 branches look inactive after the meeting pass;
 *   meeting_branch(meeting_id), meeting_branch(branch_id), task(meeting_id),
 *   volunteer(started_on), volunteer_branch(volunteer_id), pilot(valid_from),
 *   role(person_id, role), role(role, term_from), insurance_card(person_id),
 *   support(on_date), party(on_date), year_record(year), unit_name(of_unit),
 *   unit_parent(of_unit).
 * A database not yet opened by store_sqlite_open since meeting_year was added (it
 * still has meeting(kind, held_on)) gives the same figures at the old speed.
 *
 * Owns: nothing beyond the result of report_build (figures.h: report_free).
 */
#ifndef LK_HUB_REPORT_H
#define LK_HUB_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "figures.h"
#include "report_text.h"

struct store;
/* figures_build (figures.h: arguments, rules, errors) on the hub's store s:
 * the report of unit_id's subtree for year. unit_id is a unit id or an
 * official code: the unit that held the code on some day of the year up to the
 * report date, the latest holder when a reform reused it (a commune merged on 1 July
 * is found by its code in that year's report); NULL or "" means the root of the
 * tree (the province). year is 2000..2100; today is 'YYYY-MM-DD' in Vietnam time and
 * decides the "as of" date of the current year (a future year is refused).
 * Reads in one transaction unless the caller already holds one (the source's
 * read_begin; on SQLite it creates the r_* TEMP views, figures_sqlite.h). Returns REPORT_OK and *out (free with
 * report_free), or a code with err filled (err may be NULL); *out untouched then. */
int report_build(struct store *s, const char *unit_id, int year, const char *today,
		 struct report **out, struct report_error *err);

/* Renderers. Each returns REPORT_OK, or REPORT_WRITE when writing to f failed.
 * text, json: report_text.h (shared with the office).
 * csv:  UTF-8 with a byte-order mark (Excel), CRLF line ends, one line per figure,
 *       measure and unit (the total first): columns "STT, Mã chỉ tiêu, Chỉ tiêu,
 *       Nội dung, Đơn vị, Mã đơn vị, Năm Y, Trên tổng số, Tỷ lệ (%), Chỉ tiêu giao,
 *       Năm Y−1, Trên tổng số (Y−1), Tỷ lệ (%) (Y−1), Ghi chú".
 * html: a self-contained <section class="lk-report"> fragment (inline <style>, no
 *       script, no external asset; every text escaped; readable from 390 px wide,
 *       tables scroll inside their own box): per figure its total, its breakdown and a
 *       bar chart of the headline measure per breakdown row (HTML and CSS bars): a
 *       legend on the chart, bars coloured by the figure's own goal (goal.h), last
 *       year's bar beside in grey, the row's target as a line, the number at the end
 *       of each bar, and the whole chart said in its aria-label (role="img").
 *       report_write_html_page wraps it in a whole page. */
int report_write_csv(const struct report *r, FILE *f);
int report_write_html(const struct report *r, FILE *f);
int report_write_html_page(const struct report *r, FILE *f);

/* What a caller adds to the HTML report (each may be NULL; each escapes what it
 * writes): after each figure's heading, figure(ctx, f, r, fig) writes an HTML fragment
 * about that figure; after a breakdown row's unit name (in its table and its chart),
 * row(ctx, f, r, fig, row) writes a short inline one about that row. */
struct report_html_notes {
	void (*figure)(void *ctx, FILE *f, const struct report *r, size_t fig);
	void (*row)(void *ctx, FILE *f, const struct report *r, size_t fig, size_t row);
	void *ctx;
};
/* report_write_html with notes (NULL: none). */
int report_write_html_notes(const struct report *r, const struct report_html_notes *notes,
			    FILE *f);

/* For the CLI (`--format`) and the HTTP route. */
enum report_format {
	REPORT_FORMAT_TEXT,
	REPORT_FORMAT_JSON,
	REPORT_FORMAT_CSV,
	REPORT_FORMAT_HTML, /* the whole page (report_write_html_page) */
};
/* "text", "json", "csv", "html" → 0 and *out; -1 for anything else (out untouched). */
int report_format_parse(const char *name, enum report_format *out);
/* The Content-Type to send with a format (static string). */
const char *report_format_content_type(enum report_format fmt);
/* Writes r in fmt; REPORT_OK or REPORT_WRITE. */
int report_write(const struct report *r, enum report_format fmt, FILE *f);

#endif
