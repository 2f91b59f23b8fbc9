/*
 * report.h — the province report: the thirteen figures of MODEL.md ("The figures,
 * precisely") for a unit subtree and a year, from the merged records of the hub.
 *
 * report_build computes; report_write_{text,json,csv,html} render one result. Every
 * figure is recomputed from the synced tables at build time (never a typed total):
 * a few aggregate queries per year, grouped by owning unit (or branch, or person),
 * then rolled up in memory through the unit tree as of the report date
 * (unittree.h), so reforms are followed at query time and history is never moved.
 *
 * Periods (Vietnam time): "in Y" is 1 January..31 December of Y; "as of Y" is
 * 31 December of Y, or `today` when Y is the current year. The previous-year column
 * (Y−1) uses the same tree (as of Y) for the roll-up, so it covers the same units;
 * its "as of" dates are 31 December of Y−1. A unit closed by the report date counts
 * under its successor; a unit split counts beside each successor, its cells marked
 * `split` ("tách"), and once in the total.
 *
 * A unit closed during Y (merged, split or closed on day E), reported on its own,
 * covers the part of Y it lived, 1 January..E−1, over its subtree as it stood on E−1:
 *   - dated events count when dated in that part (figures 1, 3, 4, 5, 6, 7, 9, 10,
 *     12: meetings and their tasks by held_on, activities by started_on, Party steps
 *     and support by their date; figures 1 and 7 take the units open during it);
 *   - states are read on E−1, its last day (figure 2 pilots, 11 insurance);
 *   - targets per year (giao ban 2, task meetings 12, joint meetings 12 per unit)
 *     are for that part: target × days lived ÷ days of the year, rounded up (6 of 12
 *     for a commune merged on 1 July); the rotation target is at most that joint
 *     target; the pilot target (a state) stays;
 *   - year-end records of Y (figure 8 gathering, 13 evaluation) describe a branch on
 *     31 December, when the unit no longer existed: its branches then stood under the
 *     successor, so they count there and not in the closed unit's report (which
 *     shows none for Y; the Y−1 column is whole). A record of Y owned by a unit
 *     closed in Y itself counts, likewise, under its successor.
 * Everything after E−1 belongs to the successor, whose report (like the province's)
 * counts the closed unit's records of the whole year once, under it: the province
 * totals do not depend on any of this, nothing counted twice, nothing lost. Such a
 * report carries closed_on (E), and every rendering says what it covers (CSV: the
 * "Ghi chú" of figures 8 and 13).
 *
 * Rows that exist only: every query reads the r_* views of unittree_views().
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
 * The figures as computed (MODEL.md "The figures, precisely"; Y and, in the previous
 * column, Y−1; D = the "as of" date of the column):
 *   1 implementing  district/affiliated units open during Y with a giao ban or giao
 *                   nhiệm vụ meeting (owning unit) held in Y / all such units.
 *   2 pilots        distinct branches with a pilot row valid on D; target 2 per
 *                   district open on the report date (the model says 2–3).
 *   3 giao_ban      meetings of kind giao_ban held in Y; target 2 per district.
 *   4 giao_nhiem_vu meetings of kind giao_nhiem_vu in Y (target 12 per district) and
 *                   the tasks whose meeting_id is one of them.
 *   5 branch_meetings_attended  branch meetings in Y with commune_secretary_attended
 *                   = 1 / all branch meetings in Y (counted for host_branch_id, else
 *                   the owning unit).
 *   6 joint         joint meetings in Y (target 12 per commune) and distinct host
 *                   branches (target: per commune, min(12, its branches)).
 *   7 inactive      branches open during Y that held or hosted no meeting, took part
 *                   in none (meeting_branch) and in no volunteer activity overlapping
 *                   Y (owned or via volunteer_branch; activities started in Y−1 or Y
 *                   are read) / branches open during Y; target 0.
 *   8 gathering     Σ youth_gathered / Σ youth_in_area over year records of Y having
 *                   both.
 *   9 volunteer     activities started in Y: participations (headline), teams,
 *                   activities; participations and teams by kind.
 *  10 party         distinct persons who were branch secretaries on the event date,
 *                   introduced in Y; admitted in Y (counted under that branch).
 *  11 insurance     distinct branch secretaries in office on D with a card valid on D
 *                   / all branch secretaries in office on D.
 *  12 support       distinct secretaries (on the support date) supported in Y, by
 *                   kind, and the sum of their loans (amount_vnd).
 *  13 evaluation    year records of Y with a rating: rank >= rank("hoan_thanh") / all
 *                   rated; rank >= rank("tot") / all rated (ranks from schema.c).
 * Dated ranges (valid_to, valid_until, term_until) include their last day.
 *
 * Cost: proportional to the rows of Y and Y−1 (year-indexed ranges), not to the
 * history: 0.47 s on a hub of 10 million meetings, 1 million a year (bench/README.md
 * figure 8; 9.1 s before meeting_year; a real province has ~8,000 a year). Indexes it
 * relies on, all created by store_sqlite.c (REPORT_DDL), every query's plan using them
 * without ANALYZE statistics:
 *   meeting_year   meeting(REPORT_YEAR_OF(held_on), kind, unit_id, host_branch_id,
 *                  commune_secretary_attended, held_on) WHERE UNITTREE_ROW_EXISTS:
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
 * Owns: a struct report and every string in it (freed by report_free). Labels are
 * static Vietnamese strings (schema.c enumeration labels where they exist).
 */
#ifndef LK_HUB_REPORT_H
#define LK_HUB_REPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REPORT_NFIGURES 13

/* The year of a date column as text ('2021'): the leading expression of the store's
 * meeting_year index and of every report query on the meetings of a year (SQLite uses
 * an expression index only for the same expression). */
#define REPORT_YEAR_OF(date_col) "substr(" date_col ", 1, 4)"

enum report_code {
	REPORT_OK = 0,
	REPORT_BAD_ARGUMENT = 1, /* year out of range, malformed date (client's fault) */
	REPORT_UNKNOWN_UNIT = 2, /* no such unit id or code (client's fault) */
	REPORT_STORAGE = 3,      /* SQLite failed (our fault) */
	REPORT_NO_MEMORY = 4,    /* our fault */
	REPORT_WRITE = 5,        /* writing the output failed */
};

struct report_error {
	enum report_code code;
	char field[16];     /* "unit", "year", "today" for argument errors, else "" */
	char message[256];  /* English, for logs: "unknown unit '…'" */
};

/* One number of a measure: a count (of < 0) or a share value/of. */
struct report_cell {
	int64_t value;
	int64_t of;   /* denominator; -1 when the measure is a count */
	int split;    /* 1: includes the figures of a split unit shown whole ("tách") */
};

struct report_measure {
	const char *key;    /* static, ASCII: "meetings", "tasks", … */
	const char *label;  /* static, Vietnamese */
	struct report_cell value;
	struct report_cell previous; /* Y−1 over the same units */
	int has_previous;
	int64_t target;     /* -1: none */
};

/* A breakdown row: a child of the report's unit as of the report date. */
struct report_unit {
	char id[37];
	char *name;
	char *code;   /* NULL when none */
};

struct report_figure {
	int number;               /* 1..13, MODEL.md order */
	const char *key;          /* static, ASCII */
	const char *label;        /* static, Vietnamese */
	const char *target_note;  /* static, Vietnamese, or NULL */
	size_t nmeasures;         /* >= 1; measures[0] is the headline */
	struct report_measure *total;  /* nmeasures: the whole subtree */
	struct report_measure *rows;   /* nrows × nmeasures, row-major */
};

struct report {
	char unit_id[37];
	char *unit_name;
	char *unit_code;          /* NULL when none */
	int year;
	char as_of[11];
	char previous_as_of[11];
	char closed_on[11];       /* the unit closed on this day of the year ("" if not):
				   * the report covers 1 January..as_of, rule above */
	size_t nrows;
	struct report_unit *rows;
	struct report_figure figures[REPORT_NFIGURES];
};

/* Builds the report of unit_id's subtree for year. unit_id is a unit id or an
 * official code: the unit that held the code on some day of the year up to the
 * report date, the latest holder when a reform reused it (a commune merged on 1 July
 * is found by its code in that year's report); NULL or "" means the root of the
 * tree (the province). year is 2000..2100; today is 'YYYY-MM-DD' in Vietnam time and
 * decides the "as of" date of the current year (a future year is refused).
 * Reads in one transaction (BEGIN … COMMIT) unless the caller already holds one, and
 * creates the r_* TEMP views on db. Returns REPORT_OK and *out (free with
 * report_free), or a code with err filled (err may be NULL); *out untouched then. */
int report_build(sqlite3 *db, const char *unit_id, int year, const char *today,
		 struct report **out, struct report_error *err);

void report_free(struct report *r);

/* Renderers. Each returns REPORT_OK, or REPORT_WRITE when writing to f failed.
 * text: aligned plain text (UTF-8) for the terminal.
 * json: the document above, one line, UTF-8.
 * csv:  UTF-8 with a byte-order mark (Excel), CRLF line ends, one line per figure,
 *       measure and unit (the total first): columns "STT, Mã chỉ tiêu, Chỉ tiêu,
 *       Nội dung, Đơn vị, Mã đơn vị, Năm Y, Trên tổng số, Tỷ lệ (%), Chỉ tiêu giao,
 *       Năm Y−1, Trên tổng số (Y−1), Tỷ lệ (%) (Y−1), Ghi chú".
 * html: a self-contained <section class="lk-report"> fragment (inline <style>, one
 *       server-rendered SVG bar chart per figure, no script, no external asset);
 *       every text escaped. report_write_html_page wraps it in a whole page. */
int report_write_text(const struct report *r, FILE *f);
int report_write_json(const struct report *r, FILE *f);
int report_write_csv(const struct report *r, FILE *f);
int report_write_html(const struct report *r, FILE *f);
int report_write_html_page(const struct report *r, FILE *f);

/* Formatters shared by the renderers (report.c, report_html.c); each writes buf and
 * returns it. int: Vietnamese thousands dots ("6.123"); share: one decimal with a
 * decimal comma ("95,9%", "–" when of <= 0); cell: "667 / 695 (96,0%)" or "6.123",
 * with " (tách)" when split; closed note: what the report of a unit closed during the
 * year covers (r->closed_on set). */
#define REPORT_NOTE_MAX 400
const char *report_fmt_int(int64_t v, char buf[32]);
const char *report_fmt_share(const struct report_cell *c, char buf[32]);
const char *report_fmt_cell(const struct report_cell *c, char buf[128]);
const char *report_closed_note(const struct report *r, char buf[REPORT_NOTE_MAX]);

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
/* The HTTP status of a report_build failure: 400 bad argument, 404 unknown unit, 500
 * for our faults. And a stable lower-case name for the JSON error body's code:
 * "bad_argument", "unknown_unit", "internal". */
int report_http_status(enum report_code code);
const char *report_code_name(enum report_code code);

#endif
