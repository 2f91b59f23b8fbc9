/*
 * report_html.c — the report as HTML (report_write_html and friends; report.h): per
 * figure a table of the total, a table of the breakdown rows, and a bar chart made of
 * HTML and CSS (no SVG, so that it reflows on a phone and its text stays readable).
 *
 * A chart: one row per breakdown unit (the total when there is none), the current
 * year's bar coloured by the figure's own goal (goal.h), last year's bar below it in
 * grey, the row's target as a dashed line, the number at the end of each bar. Shares
 * are drawn against 100 %, counts against the largest value, previous value or target
 * of the chart. The legend on top says what each colour and line means; the chart's
 * aria-label says every number.
 *
 * Owns: nothing (renders a struct report built by report.c).
 */
#include "report.h"

#include <inttypes.h>

#include "goal.h"
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

#define REPORT_CSS                                                                          \
	".lk-report{color:#222}"                                                            \
	".lk-report table{border-collapse:collapse;margin:4px 0 8px;background:#fff}"      \
	".lk-report td,.lk-report th{border:1px solid #ccc;padding:3px 6px;text-align:right}" \
	".lk-report td,.lk-report th{white-space:nowrap}"                                    \
	".lk-report td:first-child,.lk-report th:first-child{text-align:left;"             \
	"white-space:normal;min-width:8em}"                                                  \
	".lk-report .lk-note{color:#555;font-size:90%}"                                      \
	".lk-scroll{overflow-x:auto;max-width:100%}"                                         \
	".lk-figure{border-top:1px solid #ddd;padding-top:4px;break-inside:avoid}"           \
	"td.lk-good{background:#dcefdc}td.lk-att{background:#fff3c4}td.lk-bad{background:#fbd9d6}" \
	".lk-chart{margin:6px 0 12px;max-width:760px}"                                       \
	".lk-legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:13px;margin:0 0 6px}" \
	".lk-key{display:inline-flex;align-items:center;gap:4px}"                            \
	".lk-sw{display:inline-block;width:14px;height:10px;border-radius:2px}"              \
	".lk-sw.lk-tgt{width:0;height:14px;border-left:2px dashed #222;border-radius:0}"     \
	".lk-crow{display:grid;grid-template-columns:minmax(0,220px) minmax(0,1fr);gap:2px 8px;" \
	"align-items:center;margin:3px 0}"                                                   \
	".lk-clabel{font-size:13px;overflow-wrap:anywhere}"                                  \
	".lk-area{position:relative;height:16px;margin-right:5.5em}"                         \
	".lk-area.lk-parea{height:9px;margin-top:2px}"                                       \
	".lk-bar{position:absolute;left:0;top:0;bottom:0;border-radius:0 2px 2px 0;min-width:1px}" \
	".lk-bval{position:absolute;top:50%;transform:translateY(-50%);padding-left:4px;"   \
	"font-size:12px;white-space:nowrap}.lk-parea .lk-bval{font-size:10px;color:#555}"   \
	".lk-tline{position:absolute;top:-3px;bottom:-3px;border-left:2px dashed #222}"     \
	".lk-bar.lk-good,.lk-sw.lk-good{background:#2e7d32}"                                \
	".lk-bar.lk-att,.lk-sw.lk-att{background:#f9a825}"                                   \
	".lk-bar.lk-bad,.lk-sw.lk-bad{background:#c62828}"                                   \
	".lk-bar.lk-none,.lk-sw.lk-none{background:#1565c0}"                                 \
	".lk-bar.lk-prev,.lk-sw.lk-prev{background:#9e9e9e}"                                 \
	"@media (max-width:600px){.lk-crow{grid-template-columns:minmax(0,1fr)}}"           \
	"@media print{.lk-report *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"

/* Position of a value in tenths of a percent of the chart's width (a share against
 * of, a count against max), 0..1000. Written with PCT (a decimal point whatever the
 * locale: CSS needs one). */
static int pct_of(int64_t value, int64_t of, int64_t max)
{
	double x = of >= 0 ? (of > 0 ? (double)value / (double)of : 0.0)
			   : (max > 0 ? (double)value / (double)max : 0.0);
	return x < 0 ? 0 : x > 1 ? 1000 : (int)(x * 1000.0 + 0.5);
}
#define PCT "%d.%d%%"
#define PCT_ARG(t) (t) / 10, (t) % 10

static void cell_short(FILE *f, const struct report_cell *c)
{
	char a[32];
	textout_html(f, c->of >= 0 ? report_fmt_share(c, a) : report_fmt_int(c->value, a));
}

/* The chart's text for screen readers, in its aria-label. */
static void chart_label(FILE *f, const struct report *r, size_t fig, size_t n)
{
	const struct report_figure *fg = &r->figures[fig];
	char a[128], b[128], t[32];
	fprintf(f, "Biểu đồ cột: ");
	textout_html(f, fg->label);
	fprintf(f, ", năm %d so với năm %d.", r->year, r->year - 1);
	for (size_t i = 0; i < n; i++) {
		int row = r->nrows ? (int)i : -1;
		const struct report_measure *ms = shown(r, fig, row, 0);
		fputc(' ', f);
		textout_html(f, row < 0 ? r->unit_name : r->rows[row].name);
		fputs(": ", f);
		textout_html(f, report_fmt_cell(&ms->value, a));
		if (ms->has_previous) {
			fprintf(f, ", năm %d: ", r->year - 1);
			textout_html(f, report_fmt_cell(&ms->previous, b));
		}
		if (ms->target >= 0)
			fprintf(f, ", chỉ tiêu %s", report_fmt_int(ms->target, t));
		enum goal_tone tone = goal_tone_of(fg->key, ms);
		if (tone != GOAL_NONE) {
			fputs(", ", f);
			textout_html(f, goal_label(tone));
		}
		fputc(';', f);
	}
}

static void key(FILE *f, const char *cls, const char *label)
{
	fprintf(f, "<span class=\"lk-key\"><span class=\"lk-sw %s\"></span>", cls);
	textout_html(f, label);
	fputs("</span>", f);
}

static void row_note(FILE *f, const struct report *r, size_t fig, int row,
		     const struct report_html_notes *notes)
{
	if (row >= 0 && notes && notes->row)
		notes->row(notes->ctx, f, r, fig, (size_t)row);
}

static void html_chart(FILE *f, const struct report *r, size_t fig,
		       const struct report_html_notes *notes)
{
	const struct report_figure *fg = &r->figures[fig];
	size_t n = r->nrows ? r->nrows : 1;
	int64_t max = 0;
	int any_target = 0, any_prev = 0;
	enum goal_kind kind = goal_kind_of(fg->key, fg->total[0].key);
	for (size_t i = 0; i < n; i++) {
		const struct report_measure *ms = shown(r, fig, r->nrows ? (int)i : -1, 0);
		int64_t vals[3] = { ms->value.value, ms->has_previous ? ms->previous.value : 0,
				    ms->target };
		for (int k = 0; k < 3; k++)
			if (vals[k] > max)
				max = vals[k];
		any_target |= ms->target > 0 || (ms->target == 0 && kind == GOAL_KIND_ZERO);
		any_prev |= ms->has_previous;
	}
	fprintf(f, "<figure class=\"lk-chart\" role=\"img\" data-chart=\"%s\" aria-label=\"", fg->key);
	chart_label(f, r, fig, n);
	fputs("\"><figcaption class=\"lk-legend\">", f);
	char y[48];
	if (kind == GOAL_KIND_NONE) {
		snprintf(y, sizeof y, "Năm %d", r->year);
		key(f, "lk-none", y);
	} else {
		key(f, "lk-good", goal_label(GOAL_GOOD));
		key(f, "lk-att", goal_label(GOAL_ATTENTION));
		key(f, "lk-bad", goal_label(GOAL_BAD));
	}
	if (any_prev) {
		snprintf(y, sizeof y, "Năm %d", r->year - 1);
		key(f, "lk-prev", y);
	}
	if (any_target)
		key(f, "lk-tgt", "Chỉ tiêu");
	if (kind != GOAL_KIND_NONE) {
		fputs("<span class=\"lk-note\">", f);
		textout_html(f, goal_rule(kind));
		fputs("</span>", f);
	}
	fputs("</figcaption>", f);
	for (size_t i = 0; i < n; i++) {
		int row = r->nrows ? (int)i : -1;
		const struct report_measure *ms = shown(r, fig, row, 0);
		enum goal_tone tone = goal_tone_of(fg->key, ms);
		int cur = pct_of(ms->value.value, ms->value.of, max);
		int has_target = ms->target > 0 || (ms->target == 0 && kind == GOAL_KIND_ZERO);
		int t = has_target ? pct_of(ms->target, ms->value.of, max) : 0;
		fputs("<div class=\"lk-crow\"", f);
		if (row >= 0) {
			fputs(" data-unit=\"", f);
			textout_html(f, r->rows[row].id);
			fputc('"', f);
		}
		fputs("><div class=\"lk-clabel\">", f);
		textout_html(f, row < 0 ? r->unit_name : r->rows[row].name);
		row_note(f, r, fig, row, notes);
		/* the number after the bar, or after the target line when that is further */
		fprintf(f, "</div><div><div class=\"lk-area\"><span class=\"lk-bar %s\" "
			   "style=\"width:" PCT "\"></span><span class=\"lk-bval\" style=\"left:" PCT "\">",
			goal_class(tone), PCT_ARG(cur), PCT_ARG(cur > t ? cur : t));
		cell_short(f, &ms->value);
		fputs("</span>", f);
		if (has_target) {
			char tb[32];
			fprintf(f, "<span class=\"lk-tline\" style=\"left:" PCT "\" title=\"Chỉ tiêu: %s\">"
				   "</span>", PCT_ARG(t), report_fmt_int(ms->target, tb));
		}
		fputs("</div>", f);
		if (ms->has_previous) {
			int p = pct_of(ms->previous.value, ms->previous.of, max);
			fprintf(f, "<div class=\"lk-area lk-parea\"><span class=\"lk-bar lk-prev\" "
				   "style=\"width:" PCT "\"></span><span class=\"lk-bval\" "
				   "style=\"left:" PCT "\">", PCT_ARG(p), PCT_ARG(p));
			cell_short(f, &ms->previous);
			fputs("</span></div>", f);
		}
		fputs("</div></div>", f);
	}
	fputs("</figure>\n", f);
}

static void html_cell(FILE *f, const struct report_cell *c, const char *cls)
{
	char a[128];
	if (cls)
		fprintf(f, "<td class=\"%s\">", cls);
	else
		fputs("<td>", f);
	textout_html(f, report_fmt_cell(c, a));
	fputs("</td>", f);
}

static void html_measure_cells(FILE *f, const char *figure_key, const struct report_measure *ms)
{
	char t[32];
	enum goal_tone tone = goal_tone_of(figure_key, ms);
	html_cell(f, &ms->value, tone == GOAL_NONE ? NULL : goal_class(tone));
	fputs("<td>", f);
	if (ms->target >= 0)
		textout_html(f, report_fmt_int(ms->target, t));
	fputs("</td>", f);
	if (ms->has_previous)
		html_cell(f, &ms->previous, NULL);
	else
		fputs("<td></td>", f);
}

int report_write_html_notes(const struct report *r, const struct report_html_notes *notes,
			    FILE *f)
{
	char d[11], pd[11];
	fputs("<section class=\"lk-report\">\n<style>" REPORT_CSS "</style>\n"
	      "<h2>Báo cáo mô hình “2 giao, 1 liên kết”: ", f);
	textout_html(f, r->unit_name);
	/* dd/mm/yyyy, as leaders write dates */
	snprintf(d, sizeof d, "%.2s/%.2s/%.4s", r->as_of + 8, r->as_of + 5, r->as_of);
	snprintf(pd, sizeof pd, "%.2s/%.2s/%.4s", r->previous_as_of + 8, r->previous_as_of + 5,
		 r->previous_as_of);
	fprintf(f, " — năm %d</h2>\n<p class=\"lk-note\">Tính đến ngày %s; so với năm %d (đến ngày %s). ",
		r->year, d, r->year - 1, pd);
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
		if (notes && notes->figure)
			notes->figure(notes->ctx, f, r, i);
		html_chart(f, r, i, notes);
		fprintf(f, "<div class=\"lk-scroll\"><table><tr><th>Nội dung</th><th>Năm %d</th>"
			   "<th>Chỉ tiêu</th><th>Năm %d</th></tr>\n",
			r->year, r->year - 1);
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms = shown(r, i, -1, m);
			fputs("<tr><td>", f);
			textout_html(f, ms->label);
			fputs("</td>", f);
			html_measure_cells(f, fg->key, ms);
			fputs("</tr>\n", f);
		}
		fputs("</table></div>\n", f);
		if (r->nrows) {
			fprintf(f, "<div class=\"lk-scroll\"><table class=\"lk-breakdown\"><tr>"
				   "<th>Đơn vị</th><th>Năm %d</th><th>Chỉ tiêu</th><th>Năm %d</th></tr>\n",
				r->year, r->year - 1);
			for (size_t row = 0; row < r->nrows; row++) {
				fputs("<tr data-unit=\"", f);
				textout_html(f, r->rows[row].id);
				fputs("\"><td>", f);
				textout_html(f, r->rows[row].name);
				row_note(f, r, i, (int)row, notes);
				fputs("</td>", f);
				html_measure_cells(f, fg->key, shown(r, i, (int)row, 0));
				fputs("</tr>\n", f);
			}
			fputs("</table></div>\n", f);
		}
		fputs("</div>\n", f);
	}
	fputs("</section>\n", f);
	return finish(f);
}

int report_write_html(const struct report *r, FILE *f)
{
	return report_write_html_notes(r, NULL, f);
}

int report_write_html_page(const struct report *r, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>", f);
	textout_html(f, r->unit_name);
	fprintf(f, " — báo cáo năm %d</title><style>body{font-family:sans-serif;margin:8px}"
		   "@page{size:A4;margin:12mm}</style></head><body>\n", r->year);
	int rc = report_write_html(r, f);
	fputs("</body></html>\n", f);
	return rc == REPORT_OK ? finish(f) : rc;
}
