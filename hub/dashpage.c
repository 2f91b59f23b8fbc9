/*
 * dashpage.c — the dashboard page (see dashpage.h).
 *
 * The page: a unit picker (the province, its districts, their communes, as of today)
 * and a year picker (a plain GET form, no script), a summary table of the thirteen
 * figures whose cells carry data-figure / data-measure / data-value / data-of
 * attributes (what the browser test compares with /v1/report), the sync status of
 * the chosen unit's offices (status_write_html after status_keep_subtree) and the
 * full report with its SVG charts (report_write_html).
 * No external asset: styles are inline, charts are inline SVG.
 *
 * Invariant: every text from the database or the request is HTML-escaped.
 * Owns: per call, its SQLite connection, report, status and unit tree (freed before
 * return).
 */
#include "dashpage.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "status.h"
#include "textout.h"
#include "figures_sqlite.h"
#include "unittree.h"

#define DASHBOARD_YEARS 6 /* years offered in the picker: this one and five before */
#define DASHBOARD_FIRST_YEAR 2000 /* report_build's first year */
#define REFERRER_NONE "no-referrer"

int dashpage_current_year(int64_t now_ms, char today[11])
{
	status_vn_date(now_ms, today);
	return atoi(today);
}

int dashpage_parse_year(const char *s, int def, int *out)
{
	if (!s || !*s) {
		*out = def;
		return 0;
	}
	if (strlen(s) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	*out = atoi(s);
	return 0;
}

void dashpage_head(FILE *f, const char *title, const char *referrer)
{
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<meta name=\"referrer\" content=\"", f);
	fputs(referrer, f);
	fputs("\"><title>", f);
	textout_html(f, title);
	fputs("</title><style>"
	      "body{font-family:sans-serif;margin:0;color:#222;background:#fafafa}"
	      "header{background:#1565c0;color:#fff;padding:10px 16px}"
	      "header h1{margin:0;font-size:20px}header a{color:#fff}"
	      "main{padding:12px 16px;max-width:1240px}"
	      "form.pick{background:#fff;border:1px solid #ddd;padding:8px;margin:8px 0}"
	      "form.pick label{margin-right:12px}"
	      "table.sum{border-collapse:collapse;background:#fff}"
	      "table.sum th,table.sum td{border:1px solid #ccc;padding:3px 6px}"
	      "table.sum td.n{text-align:right}"
	      "section{background:#fff;border:1px solid #ddd;padding:8px 12px;margin:12px 0}"
	      ".err{color:#b71c1c;font-weight:bold}"
	      "</style></head><body>", f);
}

/* ---- the page ---- */

struct picker {
	struct unittree *tree;
	const char *root;
	char today[11];
};

static void option(FILE *f, const struct unittree *t, const char *id, const char *date,
		   const char *selected, int depth)
{
	struct unittree_name nm;
	if (unittree_name_of(t, id, date, &nm) != 0)
		return;
	fputs("<option value=\"", f);
	textout_html(f, id);
	fputc('"', f);
	if (selected && strcmp(selected, id) == 0)
		fputs(" selected", f);
	fputc('>', f);
	for (int i = 0; i < depth; i++)
		fputs("— ", f);
	textout_html(f, nm.name);
	fputs("</option>", f);
}

/* The province, its districts and their communes (or the province's communes where
 * there is no district level), as of today. */
static int unit_options(FILE *f, const struct unittree *t, const char *root, const char *date,
			const char *selected)
{
	const char **kids = NULL, **sub = NULL;
	size_t nk = 0, ns = 0;
	option(f, t, root, date, selected, 0);
	if (unittree_children(t, root, date, &kids, &nk) != 0)
		return -1;
	for (size_t i = 0; i < nk; i++) {
		option(f, t, kids[i], date, selected, 1);
		struct unittree_name nm;
		if (unittree_name_of(t, kids[i], date, &nm) == 0 && nm.kind &&
		    strcmp(nm.kind, "branch") == 0)
			continue;
		if (unittree_children(t, kids[i], date, &sub, &ns) != 0) {
			free(kids);
			return -1;
		}
		for (size_t k = 0; k < ns; k++) {
			struct unittree_name cn;
			if (unittree_name_of(t, sub[k], date, &cn) == 0 && cn.kind &&
			    strcmp(cn.kind, "branch") == 0)
				continue;
			option(f, t, sub[k], date, selected, 2);
		}
		free(sub);
		sub = NULL;
	}
	free(kids);
	return 0;
}

static void fmt_cell(FILE *f, const char *figure, const char *measure, const char *which,
		     const struct report_cell *c)
{
	fputs("<td class=\"n\" data-figure=\"", f);
	textout_html(f, figure);
	fputs("\" data-measure=\"", f);
	textout_html(f, measure);
	fprintf(f, "\" data-column=\"%s\" data-value=\"%lld\"", which, (long long)c->value);
	if (c->of >= 0)
		fprintf(f, " data-of=\"%lld\"", (long long)c->of);
	fprintf(f, ">%lld", (long long)c->value);
	if (c->of >= 0) {
		fprintf(f, " / %lld", (long long)c->of);
		if (c->of > 0) {
			/* Vietnamese writes a decimal comma */
			long long permille = (long long)((double)c->value * 1000.0 / (double)c->of + 0.5);
			fprintf(f, " (%lld,%lld%%)", permille / 10, permille % 10);
		}
	}
	if (c->split)
		fputs(" <small>(tách)</small>", f);
	fputs("</td>", f);
}

static void summary(FILE *f, const struct report *r)
{
	fprintf(f, "<section id=\"summary\"><h2>Các chỉ tiêu — ");
	textout_html(f, r->unit_name);
	fprintf(f, ", năm %d</h2><p>Tính đến %s, so với năm %d.</p>", r->year, r->as_of, r->year - 1);
	fprintf(f, "<table class=\"sum\"><thead><tr><th>STT</th><th>Chỉ tiêu</th><th>Nội dung</th>"
		   "<th>Năm %d</th><th>Chỉ tiêu giao</th><th>Năm %d</th></tr></thead><tbody>",
		r->year, r->year - 1);
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms = &fg->total[m];
			fputs("<tr>", f);
			if (m == 0) {
				fprintf(f, "<td rowspan=\"%zu\">%d</td><td rowspan=\"%zu\">", fg->nmeasures,
					fg->number, fg->nmeasures);
				textout_html(f, fg->label);
				fputs("</td>", f);
			}
			fputs("<td>", f);
			textout_html(f, ms->label);
			fputs("</td>", f);
			fmt_cell(f, fg->key, ms->key, "value", &ms->value);
			if (ms->target >= 0)
				fprintf(f, "<td class=\"n\">%lld</td>", (long long)ms->target);
			else
				fputs("<td></td>", f);
			if (ms->has_previous)
				fmt_cell(f, fg->key, ms->key, "previous", &ms->previous);
			else
				fputs("<td></td>", f);
			fputs("</tr>", f);
		}
	}
	fputs("</tbody></table></section>", f);
}

int dashpage_write(const char *db_path, const char *unit, const char *year_s, int64_t now_ms,
		    FILE *f)
{
	char today[11], err[256];
	int cur = dashpage_current_year(now_ms, today), year = cur, status = 200;
	sqlite3 *db = NULL;
	struct unittree *tree = NULL;
	struct report *r = NULL;
	struct status *st = NULL;
	struct report_error re = { 0 };
	const char *message = NULL;
	if (dashpage_parse_year(year_s, cur, &year) != 0 || year > cur || year < DASHBOARD_FIRST_YEAR) {
		year = cur;
		status = 400;
		message = "Năm không hợp lệ; đang xem năm hiện tại.";
	}
	if (status_db_open(db_path, &db, err, sizeof err) != 0 ||
	    figures_sqlite_load_tree(db, FIGURES_SQLITE_HUB, &tree, err, sizeof err) != 0) {
		status = 500;
		goto done;
	}
	const char *root = unittree_root(tree, today);
	struct unittree_name rn;
	const char *province = root && unittree_name_of(tree, root, today, &rn) == 0 ? rn.name : "Tỉnh";
	if (unit && *unit && report_build(db, unit, year, today, &r, &re) != REPORT_OK) {
		status = report_http_status(re.code);
		message = re.code == REPORT_UNKNOWN_UNIT ? "Không có đơn vị này; đang xem toàn tỉnh."
			  : re.code == REPORT_BAD_ARGUMENT ? "Năm hoặc đơn vị không hợp lệ; đang xem toàn tỉnh."
			  : NULL;
		if (status == 500)
			goto done;
		unit = NULL;
	}
	if (!r && report_build(db, NULL, year, today, &r, &re) != REPORT_OK) {
		status = 500;
		goto done;
	}
	if (status_build(db, now_ms, &st, err, sizeof err) != 0) {
		status = 500;
		goto done;
	}
	char title[300];
	snprintf(title, sizeof title, "Liên Kết — %s, năm %d", r->unit_name ? r->unit_name : "", year);
	dashpage_head(f, title, REFERRER_NONE);
	fputs("<header><h1>Liên Kết — ", f);
	textout_html(f, province);
	fputs("</h1><a href=\"/?logout=1\">Đăng xuất</a></header><main>", f);
	if (message) {
		fputs("<p class=\"err\">", f);
		textout_html(f, message);
		fputs("</p>", f);
	}
	fputs("<form class=\"pick\" method=\"get\" action=\"/\"><label>Đơn vị <select name=\"unit\">", f);
	if (root && unit_options(f, tree, root, today, r->unit_id) != 0) {
		status = 500;
		goto done;
	}
	fputs("</select></label><label>Năm <select name=\"year\">", f);
	for (int y = cur; y > cur - DASHBOARD_YEARS; y--)
		fprintf(f, "<option value=\"%d\"%s>%d</option>", y, y == year ? " selected" : "", y);
	if (year <= cur - DASHBOARD_YEARS)
		fprintf(f, "<option value=\"%d\" selected>%d</option>", year, year);
	fputs("</select></label><button type=\"submit\">Xem</button></form>", f);
	fputs("<p data-report-unit=\"", f);
	textout_html(f, r->unit_id);
	fprintf(f, "\" data-report-year=\"%d\">", r->year);
	fputs("<a href=\"#summary\">Các chỉ tiêu</a> · <a href=\"#status\">Tình trạng đồng bộ</a> · "
	      "<a href=\"#report\">Báo cáo chi tiết và biểu đồ</a></p>", f);
	summary(f, r);
	fputs("<div id=\"status\">", f);
	if (root && strcmp(r->unit_id, root) != 0) {
		status_keep_subtree(st, tree, r->unit_id, today);
		fputs("<p>Tình trạng đồng bộ của các văn phòng thuộc ", f);
		textout_html(f, r->unit_name);
		fputs(".</p>", f);
	}
	if (status_write_html(st, f) != 0)
		status = 500;
	fputs("</div><div id=\"report\">", f);
	if (report_write_html(r, f) != REPORT_OK)
		status = 500;
	fputs("</div></main></body></html>\n", f);
	if (ferror(f))
		status = 500;
done:
	status_free(st);
	report_free(r);
	unittree_free(tree);
	sqlite3_close(db);
	return status;
}

