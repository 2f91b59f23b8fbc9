/*
 * report_html.c — the report as HTML (report_write_html, report_write_html_page):
 * per figure a table of the total, a table of the breakdown rows and a server-rendered
 * SVG bar chart. No script and no external asset; every text escaped.
 *
 * Owns: nothing (renders a struct report built by report.c).
 */
#include "report.h"

#include <inttypes.h>

#include "textout.h"

/* The headline cell of a figure for a row (-1: the total). */
static const struct report_measure *shown(const struct report *r, size_t fig, int row,
					  size_t m)
{
	const struct report_figure *f = &r->figures[fig];
	return row < 0 ? &f->total[m] : &f->rows[(size_t)row * f->nmeasures + m];
}

static int finish(FILE *f)
{
	return ferror(f) ? REPORT_WRITE : REPORT_OK;
}

/* ---- HTML ---- */

#define SVG_WIDTH 640
#define SVG_LABEL 200 /* pixels for the unit names */
#define SVG_BAR 10
#define SVG_ROW 30

/* Bar length in pixels of a cell: a share against 100%, a count against max. */
static int bar_px(const struct report_cell *c, int64_t max)
{
	const int span = SVG_WIDTH - SVG_LABEL - 90;
	double x;
	if (c->of >= 0)
		x = c->of > 0 ? (double)c->value / (double)c->of : 0.0;
	else
		x = max > 0 ? (double)c->value / (double)max : 0.0;
	if (x < 0)
		x = 0;
	if (x > 1)
		x = 1;
	return (int)(x * span + 0.5);
}

static void html_chart(FILE *f, const struct report *r, size_t fig)
{
	const struct report_figure *fg = &r->figures[fig];
	int64_t max = 0;
	char a[32];
	size_t n = r->nrows ? r->nrows : 1;
	for (int row = r->nrows ? 0 : -1; row < (int)r->nrows; row++) {
		const struct report_measure *ms = shown(r, fig, row, 0);
		if (ms->value.value > max)
			max = ms->value.value;
		if (ms->previous.value > max)
			max = ms->previous.value;
	}
	fprintf(f,
		"<svg class=\"lk-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
		" height=\"%zu\" viewBox=\"0 0 %d %zu\" role=\"img\" aria-label=\"",
		SVG_WIDTH, n * SVG_ROW + 10, SVG_WIDTH, n * SVG_ROW + 10);
	textout_html(f, fg->label);
	fputs("\">", f);
	for (size_t i = 0; i < n; i++) {
		int row = r->nrows ? (int)i : -1;
		const struct report_measure *ms = shown(r, fig, row, 0);
		int y = (int)i * SVG_ROW + 5;
		int cur = bar_px(&ms->value, max), prev = bar_px(&ms->previous, max);
		fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 14);
		textout_html(f, row < 0 ? r->unit_name : r->rows[row].name);
		fputs("</text>", f);
		fprintf(f,
			"<rect class=\"lk-cur\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
			" fill=\"#c0392b\"><title>%d</title></rect>",
			SVG_LABEL, y + 2, cur, SVG_BAR, r->year);
		fprintf(f,
			"<rect class=\"lk-prev\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
			" fill=\"#95a5a6\"><title>%d</title></rect>",
			SVG_LABEL, y + 2 + SVG_BAR + 2, prev, SVG_BAR, r->year - 1);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">", SVG_LABEL + cur + 4,
			y + 11);
		if (ms->value.of >= 0)
			textout_html(f, report_fmt_share(&ms->value, a));
		else
			textout_html(f, report_fmt_int(ms->value.value, a));
		fputs("</text>", f);
	}
	fputs("</svg>\n", f);
}

static void html_cell(FILE *f, const struct report_cell *c)
{
	char a[128];
	fputs("<td>", f);
	textout_html(f, report_fmt_cell(c, a));
	fputs("</td>", f);
}

static void html_measure_cells(FILE *f, const struct report_measure *ms)
{
	char t[32];
	html_cell(f, &ms->value);
	fputs("<td>", f);
	if (ms->target >= 0)
		textout_html(f, report_fmt_int(ms->target, t));
	fputs("</td>", f);
	if (ms->has_previous)
		html_cell(f, &ms->previous);
	else
		fputs("<td></td>", f);
}

int report_write_html(const struct report *r, FILE *f)
{
	fputs("<section class=\"lk-report\">\n<style>"
	      ".lk-report{font-family:sans-serif;color:#222}"
	      ".lk-report table{border-collapse:collapse;margin:4px 0 8px}"
	      ".lk-report td,.lk-report th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
	      ".lk-report td:first-child,.lk-report th:first-child{text-align:left}"
	      ".lk-report .lk-note{color:#555;font-size:90%}"
	      "</style>\n<h2>Báo cáo mô hình “2 giao, 1 liên kết”: ",
	      f);
	textout_html(f, r->unit_name);
	fprintf(f, " — năm %d</h2>\n<p class=\"lk-note\">Tính đến %s; so với năm %d. ", r->year,
		r->as_of, r->year - 1);
	fputs("“tách”: số liệu của đơn vị đã chia tách, ghi đủ bên cạnh mỗi đơn vị kế thừa và "
	      "chỉ tính một lần trong tổng.",
	      f);
	if (r->closed_on[0]) {
		char note[REPORT_NOTE_MAX];
		fputc(' ', f);
		textout_html(f, report_closed_note(r, note));
	}
	fputs("</p>\n", f);
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		fprintf(f, "<div class=\"lk-figure\" id=\"lk-%s\">\n<h3>%d. ", fg->key, fg->number);
		textout_html(f, fg->label);
		fputs("</h3>\n", f);
		if (fg->target_note) {
			fputs("<p class=\"lk-note\">Chỉ tiêu: ", f);
			textout_html(f, fg->target_note);
			fputs("</p>\n", f);
		}
		fprintf(f, "<table><tr><th>Nội dung</th><th>Năm %d</th><th>Chỉ tiêu</th>"
			   "<th>Năm %d</th></tr>\n",
			r->year, r->year - 1);
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms = shown(r, i, -1, m);
			fputs("<tr><td>", f);
			textout_html(f, ms->label);
			fputs("</td>", f);
			html_measure_cells(f, ms);
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
		if (r->nrows) {
			fprintf(f, "<table class=\"lk-breakdown\"><tr><th>Đơn vị</th><th>Năm %d</th>"
				   "<th>Chỉ tiêu</th><th>Năm %d</th></tr>\n",
				r->year, r->year - 1);
			for (size_t row = 0; row < r->nrows; row++) {
				fputs("<tr data-unit=\"", f);
				textout_html(f, r->rows[row].id);
				fputs("\"><td>", f);
				textout_html(f, r->rows[row].name);
				fputs("</td>", f);
				html_measure_cells(f, shown(r, i, (int)row, 0));
				fputs("</tr>\n", f);
			}
			fputs("</table>\n", f);
		}
		html_chart(f, r, i);
		fputs("</div>\n", f);
	}
	fputs("</section>\n", f);
	return finish(f);
}

int report_write_html_page(const struct report *r, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>", f);
	textout_html(f, r->unit_name);
	fprintf(f, " — báo cáo năm %d</title></head><body>\n", r->year);
	int rc = report_write_html(r, f);
	fputs("</body></html>\n", f);
	return rc == REPORT_OK ? finish(f) : rc;
}
