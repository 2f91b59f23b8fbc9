/*
 * figures.h — the thirteen figures of MODEL.md ("The figures, precisely") for a unit
 * subtree and a year: the one implementation both programs use. The hub serves them
 * (`GET /v1/report`, `lienket-hub report`, the dashboard, the digest: hub/views/report.h
 * renders them); an office sees its own before any sync (`lienket-agent figures`, the
 * office app: agent/office_figures.h).
 *
 * figures_build computes. Every figure is recomputed from the synced tables at build
 * time (never a typed total): a few aggregate reads per year from a figures source
 * (figures_source.h: the hub's database, an office's, later PostgreSQL), grouped by
 * owning unit (or branch, or person), then rolled up in memory through the unit tree
 * as of the report date (unittree.h), so reforms are followed at query time and
 * history is never moved. Which rows exist is the source's business (on the hub,
 * tombstones and held updates never count).
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
 * Owns: a struct report and every string in it (freed by report_free). Labels are
 * static Vietnamese strings (schema.c enumeration labels where they exist). The result
 * types keep the name `report` they had in the hub (renderers, routes and tests use
 * them); the computation is figures_build.
 */
#ifndef LK_FIGURES_FIGURES_H
#define LK_FIGURES_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "figures_source.h"

#define REPORT_NFIGURES 13

enum report_code {
	REPORT_OK = 0,
	REPORT_BAD_ARGUMENT = 1, /* year out of range, malformed date (client's fault) */
	REPORT_UNKNOWN_UNIT = 2, /* no such unit id or code (client's fault) */
	REPORT_STORAGE = 3,      /* the data source failed (our fault) */
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
 * Reads between src->read_begin and src->read_end (one snapshot); the source stays
 * the caller's. A failure of the source is REPORT_STORAGE, its reason in the message
 * ("cannot compute figure 7: database is locked"). Returns REPORT_OK and *out (free with
 * report_free), or a code with err filled (err may be NULL); *out untouched then. */
int figures_build(struct figures_source *src, const char *unit_id, int year, const char *today,
		  struct report **out, struct report_error *err);

/* Frees a report of figures_build (or report_build); accepts NULL. */
void report_free(struct report *r);

/* The HTTP status of a build failure: 400 bad argument, 404 unknown unit, 500 for our
 * faults. And a stable lower-case name for the JSON error body's code:
 * "bad_argument", "unknown_unit", "internal". (The hub's routes and the office app's.) */
int report_http_status(enum report_code code);
const char *report_code_name(enum report_code code);

/* The date in Vietnam (Asia/Ho_Chi_Minh: UTC+7, no daylight saving) at unix_ms, as
 * 'YYYY-MM-DD': the `today` of figures_build for a report made now. */
void figures_vn_date(int64_t unix_ms, char out[11]);

#endif
