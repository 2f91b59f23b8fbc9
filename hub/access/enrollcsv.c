/*
 * enrollcsv.c — `enroll --csv`: read and check every office, then tokens and sheets
 * in one go.
 */
#include "enrollcsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "ids.h"
#include "joincode.h"
#include "ops.h"
#include "sheet.h"
#include "textsafe.h"
#include "unitlabels.h"
#include "validate.h"
#include "units.h"

#define ENROLLCSV_MAX_ROWS 5000 /* a province has about a thousand units */
#define ENROLLCSV_LINE 1024
#define NAME_MAX_BYTES 63       /* store_token.name */

struct office {
	char unit[37];
	char name[NAME_MAX_BYTES + 1];
	char path[4096];
	int written;
};

struct run {
	const struct enrollcsv_options *o;
	struct store *s;
	char today[11];
	struct office *v;
	size_t n;
	char *err;
	size_t errlen;
};

static int resolve_unit(struct run *R, const char *text, char out[37])
{
	int k = ids_uuid_valid(text) ? R->s->unit_known(R->s, text) : 0;
	if (k == 1) {
		snprintf(out, 37, "%s", text);
		return 0;
	}
	if (k < 0)
		return -1;
	return R->s->unit_by_code(R->s, text, R->today, out) == 0 ? 0 : 1;
}

/* Reads and checks the CSV into R->v. */
static enum enrollcsv_result read_csv(struct run *R)
{
	const char *path = R->o->csv;
	FILE *f = fopen(path, "r");
	char line[ENROLLCSV_LINE];
	size_t lineno = 0, cap = 0;
	int col_unit = -1, col_name = -1;
	enum enrollcsv_result rc = ENROLLCSV_BAD;
	if (!f) {
		snprintf(R->err, R->errlen, "cannot open '%s'", path);
		return ENROLLCSV_BAD;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f)) {
			snprintf(R->err, R->errlen, "'%s' line %zu: line too long", path, lineno);
			goto done;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *p = line;
		if (lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
			p += 3; /* a BOM, as Excel writes UTF-8 */
		if (!*p)
			continue;
		char *fl[8];
		size_t nf = units_csv_split(p, fl, 8);
		if (col_unit < 0) {
			for (size_t i = 0; i < nf; i++) {
				if (strcmp(fl[i], "unit") == 0)
					col_unit = (int)i;
				else if (strcmp(fl[i], "name") == 0)
					col_name = (int)i;
			}
			if (col_unit < 0 || col_name < 0 || nf != 2) {
				snprintf(R->err, R->errlen, "'%s': expected the header unit,name", path);
				goto done;
			}
			continue;
		}
		if (nf != 2 || !*fl[col_unit] || !*fl[col_name]) {
			snprintf(R->err, R->errlen, "'%s' line %zu: expected a unit and a name", path, lineno);
			goto done;
		}
		const char *name = fl[col_name];
		char safe[NAME_MAX_BYTES * TEXTSAFE_TERM_ESC_MAX + 1];
		if (strlen(name) > NAME_MAX_BYTES || !validate_utf8(name, strlen(name)) ||
		    strcmp(textsafe_term(safe, sizeof safe, name), name) != 0) {
			snprintf(R->err, R->errlen, "'%s' line %zu: the name must be valid UTF-8 text without"
				 " control characters, at most %d bytes", path, lineno, NAME_MAX_BYTES);
			goto done;
		}
		if (R->n == ENROLLCSV_MAX_ROWS) {
			snprintf(R->err, R->errlen, "'%s': more than %d offices", path, ENROLLCSV_MAX_ROWS);
			goto done;
		}
		if (R->n == cap) {
			cap = cap ? 2 * cap : 64;
			struct office *v = realloc(R->v, cap * sizeof *v);
			if (!v) {
				snprintf(R->err, R->errlen, "out of memory");
				rc = ENROLLCSV_FAIL;
				goto done;
			}
			R->v = v;
		}
		struct office *of = &R->v[R->n];
		memset(of, 0, sizeof *of);
		int r = resolve_unit(R, fl[col_unit], of->unit);
		if (r != 0) {
			if (r < 0) {
				snprintf(R->err, R->errlen, "cannot read the units");
				rc = ENROLLCSV_FAIL;
			} else {
				snprintf(R->err, R->errlen, "'%s' line %zu: unknown unit '%s' (a unit id or an "
					 "official code valid today; see `lienket-hub units list`)", path, lineno,
					 fl[col_unit]);
			}
			goto done;
		}
		snprintf(of->name, sizeof of->name, "%s", name);
		R->n++;
	}
	if (ferror(f)) {
		snprintf(R->err, R->errlen, "cannot read '%s'", path);
		goto done;
	}
	if (R->n == 0) {
		snprintf(R->err, R->errlen, "'%s' lists no office", path);
		goto done;
	}
	rc = ENROLLCSV_OK;
done:
	fclose(f);
	return rc;
}

/* Sheet file names: NNN-CODE.html (the unit id for a unit without a plain code). */
static enum enrollcsv_result name_sheets(struct run *R, const struct unitlabels *L)
{
	if (mkdir(R->o->out_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(R->err, R->errlen, "cannot make the folder '%s': %s", R->o->out_dir, strerror(errno));
		return ENROLLCSV_FAIL;
	}
	for (size_t i = 0; i < R->n; i++) {
		const char *label = unitlabels_find(L, R->v[i].unit);
		char code[40];
		size_t k = label ? strcspn(label, " ") : 0;
		if (k == 0 || k >= sizeof code || label[k] == '\0' ||
		    strspn(label, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") != k)
			snprintf(code, sizeof code, "%s", R->v[i].unit);
		else
			snprintf(code, sizeof code, "%.*s", (int)k, label);
		int n = snprintf(R->v[i].path, sizeof R->v[i].path, "%s/%03zu-%s.html", R->o->out_dir, i + 1, code);
		if (n < 0 || (size_t)n >= sizeof R->v[i].path) {
			snprintf(R->err, R->errlen, "the folder name '%s' is too long", R->o->out_dir);
			return ENROLLCSV_FAIL;
		}
		struct stat sb;
		if (lstat(R->v[i].path, &sb) == 0) {
			snprintf(R->err, R->errlen, "'%s' exists; a sheet is never replaced: give a new --out folder",
				 R->v[i].path);
			return ENROLLCSV_EXISTS;
		}
	}
	return ENROLLCSV_OK;
}

static int write_sheet(struct run *R, struct office *of, const char *label, const char *code)
{
	char issued[11];
	time_t t = (time_t)(R->o->now_ms / 1000) + 7 * 3600; /* Vietnam's date */
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(issued, sizeof issued, "%d/%m/%Y", &tm);
	FILE *f = fopen(of->path, "wx");
	if (!f) {
		snprintf(R->err, R->errlen, "cannot write '%s': %s", of->path, strerror(errno));
		return -1;
	}
	of->written = 1;
	struct sheet_office so = { of->name, label ? label : of->unit, R->o->hub_url, code, issued };
	int bad = sheet_write(f, &so);
	if (fclose(f) != 0 || bad) {
		snprintf(R->err, R->errlen, "cannot write '%s'", of->path);
		return -1;
	}
	return 0;
}

enum enrollcsv_result enrollcsv_run(struct store *s, const struct enrollcsv_options *o, FILE *report,
				    char *err, size_t errlen)
{
	struct run R = { .o = o, .s = s, .err = err, .errlen = errlen };
	struct unitlabels L = { 0 };
	char (*prefixes)[STORE_TOKEN_PREFIX + 1] = NULL;
	int began = 0;
	units_today(o->now_ms, R.today);
	enum enrollcsv_result rc = read_csv(&R);
	if (rc != ENROLLCSV_OK)
		goto done;
	if (unitlabels_load(s, R.today, &L) != 0) {
		snprintf(err, errlen, "cannot read the units");
		rc = ENROLLCSV_FAIL;
		goto done;
	}
	if ((rc = name_sheets(&R, &L)) != ENROLLCSV_OK)
		goto done;
	rc = ENROLLCSV_FAIL;
	if (!(prefixes = calloc(R.n, sizeof *prefixes))) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (s->begin(s) != 0) {
		snprintf(err, errlen, "cannot start a transaction on '%s'", o->db);
		goto done;
	}
	began = 1;
	for (size_t i = 0; i < R.n; i++) {
		struct joincode j = { 0 };
		char code[JOINCODE_MAX + 1];
		if (auth_enroll(s, R.v[i].unit, R.v[i].name, o->now_ms, j.token) != 0) {
			snprintf(err, errlen, "cannot store a token in '%s'", o->db);
			goto done;
		}
		snprintf(prefixes[i], sizeof prefixes[i], "%.*s", STORE_TOKEN_PREFIX, j.token);
		snprintf(j.url, sizeof j.url, "%s", o->hub_url);
		snprintf(j.unit, sizeof j.unit, "%s", R.v[i].unit);
		snprintf(j.pins, sizeof j.pins, "%s", o->pins);
		int enc = joincode_encode(&j, code, sizeof code);
		memset(j.token, 0, sizeof j.token);
		if (enc != 0) {
			snprintf(err, errlen, "cannot make a join code for '%s' with '%s'", R.v[i].name, o->hub_url);
			goto done;
		}
		int w = write_sheet(&R, &R.v[i], unitlabels_find(&L, R.v[i].unit), code);
		memset(code, 0, sizeof code);
		if (w != 0)
			goto done;
	}
	began = 0;
	if (s->commit(s) != 0) {
		snprintf(err, errlen, "cannot commit the tokens to '%s'", o->db);
		goto done;
	}
	rc = ENROLLCSV_OK;
	for (size_t i = 0; i < R.n; i++) {
		const char *label = unitlabels_find(&L, R.v[i].unit);
		fprintf(report, "%s\t%s\t%s\t%s\n", R.v[i].path, label ? label : R.v[i].unit, R.v[i].name,
			prefixes[i]);
		if (ops_log(o->db, o->now_ms, "enroll", prefixes[i], R.v[i].unit, R.v[i].name, (char *)NULL) != 0)
			fprintf(stderr, "lienket-hub: warning: cannot append to the operations log of '%s'\n", o->db);
	}
done:
	if (began)
		s->rollback(s);
	if (rc != ENROLLCSV_OK)
		for (size_t i = 0; i < R.n; i++)
			if (R.v[i].written)
				unlink(R.v[i].path);
	free(prefixes);
	unitlabels_release(&L);
	free(R.v);
	return rc;
}
