/*
 * office_figures.h — "what the province will see about us" (issue 13): the thirteen
 * figures of MODEL.md for the office's own unit, this year beside last year, computed
 * from the office's own database before any sync, by the code that computes them at
 * the hub (figures/figures.h, through the SQLite figures source in agent mode).
 *
 * Same document as the hub's: once everything this laptop holds has reached the hub,
 * `GET /v1/report?unit=<this unit>&year=Y` at the hub and office_figures_json here
 * give the same figures (tests/unit/test_agent_figures.c, tests/e2e/figures.sh). The
 * agent's database holds the unit tree whole (reference data, pulled) and the records
 * of its own scope (PROTOCOL.md §8), which is what the figures of its unit read. What
 * can differ: changes the hub refused (quarantined) count here until removed, and
 * records other offices wrote since the last pull count at the hub only.
 *
 * Used by `lienket-agent figures` (commands_figures.c) and the office app's
 * `GET /api/figures?year=Y` (docs/app-api.md §7).
 *
 * Owns: nothing beyond its results; borrows the store (one thread at a time).
 */
#ifndef LK_AGENT_OFFICE_FIGURES_H
#define LK_AGENT_OFFICE_FIGURES_H

#include <stddef.h>

#include "figures.h"
#include "store.h"

/* The report of the office's unit (store_unit_id) for year; year−1 is its `previous`
 * column. today is 'YYYY-MM-DD' in Vietnam time, or NULL for now (figures_vn_date).
 * Reads the database in one read transaction (unless the caller holds one) and
 * creates the r_* TEMP views on its connection (figures_sqlite.h). Returns REPORT_OK
 * and *out (free with report_free), or:
 *   REPORT_UNKNOWN_UNIT  the office's unit is not set yet or not in its unit tree (the
 *                        laptop has never synced: the tree comes with the first sync);
 *   REPORT_BAD_ARGUMENT  year outside 2000..2100, in the future, or today malformed;
 *   REPORT_STORAGE, REPORT_NO_MEMORY  our fault;
 * with err filled (English, for logs; may be NULL); *out untouched then. */
int office_figures_build(struct store *s, int year, const char *today, struct report **out,
			 struct report_error *err);

/* office_figures_build written as the JSON document of GET /v1/report
 * (figures/report_text.h, report_write_json): REPORT_OK and *json (malloc'd, NUL
 * terminated, free with free()) with its length in *len, or the codes above (and
 * REPORT_WRITE should the memory stream fail); *json untouched then. For an HTTP
 * answer, report_http_status(code) and report_code_name(code) (figures.h). */
int office_figures_json(struct store *s, int year, const char *today, char **json,
			size_t *len, struct report_error *err);

#endif
