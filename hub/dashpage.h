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

/* Writes the document's head (doctype, viewport, the shared style sheet) and opens
 * <body>; referrer is the page's referrer policy (a page written to a file has no
 * headers, so the policy is in the page too). Every page of the dashboard, the login
 * form included, starts with it. */
void dashpage_head(FILE *f, const char *title, const char *referrer);

/* The current year in Vietnam at now_ms; today receives 'YYYY-MM-DD'. */
int dashpage_current_year(int64_t now_ms, char today[11]);

/* Parses a year "YYYY" (NULL or "" → def). 0 and *out, or -1 when malformed. */
int dashpage_parse_year(const char *s, int def, int *out);

/* Writes the dashboard page of unit (id or code; NULL/"" the province) and year ("YYYY";
 * NULL the current year in Vietnam) into f, as GET / serves it (`lienket-hub
 * dashboard` writes it to a file). Returns 200; 400 or 404 when the year or unit was
 * bad (the page says so and shows the current year or the province); 500 when the
 * database or f failed (f then holds a partial page). */
int dashpage_write(const char *db_path, const char *unit, const char *year, int64_t now_ms,
		   FILE *f);

#endif
