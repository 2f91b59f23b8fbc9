/*
 * office_figures.c — the figures of the office's own unit from its own database
 * (office_figures.h): the shared computation over the SQLite figures source in agent
 * mode (every row of the office's tables exists), rendered by the shared writers.
 *
 * Owns: the source during a call; the caller owns the result.
 */
#include "office_figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_sqlite.h"
#include "plat.h"
#include "report_text.h"

static int fail(struct report_error *err, enum report_code code, const char *field,
		const char *message)
{
	if (err) {
		memset(err, 0, sizeof *err);
		err->code = code;
		snprintf(err->field, sizeof err->field, "%s", field);
		snprintf(err->message, sizeof err->message, "%s", message);
	}
	return code;
}

int office_figures_build(struct store *s, int year, const char *today, struct report **out,
			 struct report_error *err)
{
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	char now[11];
	const char *unit = store_unit_id(s);
	int rc;
	if (!unit || !*unit)
		return fail(err, REPORT_UNKNOWN_UNIT, "unit",
			    "this database has no unit yet (it takes it from the first sync)");
	if (!today) {
		figures_vn_date(store_wall_ms(), now);
		today = now;
	}
	if (figures_sqlite_new(store_db(s), FIGURES_SQLITE_AGENT, &src, &fe) != FIGURES_OK) {
		char msg[256];
		snprintf(msg, sizeof msg, "cannot compute report: %.200s", fe.message);
		return fail(err, fe.code == FIGURES_NO_MEMORY ? REPORT_NO_MEMORY : REPORT_STORAGE, "",
			    msg);
	}
	rc = figures_build(src, unit, year, today, out, err);
	figures_source_free(src);
	return rc;
}

int office_figures_json(struct store *s, int year, const char *today, char **json,
			size_t *len, struct report_error *err)
{
	struct report *r = NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = NULL;
	struct plat_memstream *ms = NULL;
	int rc = office_figures_build(s, year, today, &r, err);
	if (rc != REPORT_OK)
		return rc;
	if (!(f = plat_memstream_open(&ms))) {
		rc = fail(err, REPORT_NO_MEMORY, "", "cannot write report: out of memory");
		goto done;
	}
	rc = report_write_json(r, f);
	if (plat_memstream_close(ms, rc == REPORT_OK ? &buf : NULL, &n) != 0 && rc == REPORT_OK)
		rc = REPORT_WRITE;
	f = NULL;
	if (rc != REPORT_OK) {
		fail(err, rc, "", "cannot write report: out of memory");
		goto done;
	}
	*json = buf;
	*len = n;
	buf = NULL;
done:
	free(buf);
	report_free(r);
	return rc;
}
