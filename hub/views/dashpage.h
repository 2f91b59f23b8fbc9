/*
 * dashpage.h — the dashboard page a province leader reads (what `GET /` shows after
 * login, and what `lienket-hub dashboard` writes to a file): unit and year pickers,
 * the thirteen figures, the sync status of the unit's offices and the full report
 * with its charts. dashboard.c serves it; this module knows nothing of HTTP, logins
 * or sessions.
 *
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_DASHPAGE_H
#define LK_HUB_DASHPAGE_H

#include <stdint.h>
#include <stdio.h>

struct store;

/* Writes the document's head (doctype, viewport, the shared style sheet) and opens
 * <body>; referrer is the page's referrer policy (a page written to a file has no
 * headers, so the policy is in the page too). Every page of the dashboard, the login
 * form included, starts with it. */
void dashpage_head(FILE *f, const char *title, const char *referrer);

/* The current year in Vietnam at now_ms; today receives 'YYYY-MM-DD'. */
int dashpage_current_year(int64_t now_ms, char today[11]);

/* Parses a year "YYYY" (NULL or "" → def). 0 and *out, or -1 when malformed. */
int dashpage_parse_year(const char *s, int def, int *out);

/* The year a page opens on: asked (a year the request named, 0 none); without one the
 * latest year with data when it is 2000..current; else current. So in January the
 * page shows last year, not an empty new one (issue 14). */
int dashpage_pick_year(int asked, int current, int latest_with_data);

/* The latest year up to current in which a record of the figures is dated (a meeting
 * held, a volunteer activity started, a support or Party step, a year-end record), over
 * the rows that exist (the store's latest_year). 0 and *out (0 when there is none), or
 * -1 when the store failed. */
int dashpage_latest_year(struct store *s, int current, int *out);

/* Writes the dashboard page of unit (id or code; NULL/"" the province) and year ("YYYY";
 * NULL: dashpage_pick_year) into f, as GET / serves it (`lienket-hub dashboard` writes
 * it to a file). The page, top to bottom: pickers; what the figures may miss (caveat.h)
 * and how old the newest data is; the communes as tiles coloured by freshness, grouped
 * by the units under the chosen one as of the year shown, each a link to its figures;
 * the thirteen figures as cards coloured by goal (goal.h), each with its caveat; the
 * sync status (status_write_html); the detailed report with charts. Readable from
 * 390 px wide, printable on A4. Returns 200; 400 or 404 when the year or unit was bad
 * (the page says so and shows the default year or the province); 500 when the
 * database or f failed (f then holds a partial page). */
int dashpage_write(struct store *s, const char *unit, const char *year, int64_t now_ms,
		   FILE *f);

/* dashpage_write for an account limited to the subtree of limit (a unit id; NULL or
 * "": the province; login.h): the page opens on limit, its unit picker offers only
 * that subtree, and a unit outside it returns 403 with nothing written to f. notice
 * (HTML, may be NULL) is written at the top of the status section as it is (the
 * digest mail's failures: dashboard.c). */
int dashpage_write_limited(struct store *s, const char *unit, const char *year,
			   const char *limit, const char *notice, int64_t now_ms, FILE *f);

#endif
