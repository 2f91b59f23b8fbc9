/*
 * report.c — the province report on the hub: report_build (the shared figures
 * library, figures.h, on the hub's database through the store's figures source), the
 * CSV rendering, and the formats the CLI and the routes choose from (the text and
 * JSON renderings are report_text.c in figures/, shared with the office; the HTML
 * one is report_html.c).
 *
 * Owns: nothing between calls; report_build hands its result to the caller.
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "figures_source.h"
#include "store.h"
#include "textout.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int report_build(struct store *s, const char *unit_id, int year, const char *today,
		 struct report **out, struct report_error *err)
{
	struct figures_source *src = NULL;
	struct figures_error fe = { 0 };
	int rc;
	if (s->figures(s, &src, &fe) != FIGURES_OK) {
		if (err) {
			memset(err, 0, sizeof *err);
			err->code = fe.code == FIGURES_NO_MEMORY ? REPORT_NO_MEMORY : REPORT_STORAGE;
			snprintf(err->message, sizeof err->message, "cannot compute report: %.200s",
				 fe.message);
		}
		return fe.code == FIGURES_NO_MEMORY ? REPORT_NO_MEMORY : REPORT_STORAGE;
	}
	rc = figures_build(src, unit_id, year, today, out, err);
	figures_source_free(src);
	return rc;
}

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

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s)
{
	textout_csv(f, s);
	fputc(',', f);
}

static void csv_num_cells(FILE *f, const struct report_cell *c)
{
	fprintf(f, "%" PRId64 ",", c->value);
	char buf[48];
	if (c->of > 0)
		fprintf(f, "%" PRId64 ",%s,", c->of, report_fmt_ratio(c->value * 100, c->of, 10, buf));
	else if (c->of >= 0)
		fprintf(f, "%" PRId64 ",,", c->of);
	else
		fputs(",,", f);
}

static void csv_line(FILE *f, const struct report *r, size_t fig, size_t m, int row)
{
	const struct report_figure *fg = &r->figures[fig];
	const struct report_measure *ms = shown(r, fig, row, m);
	fprintf(f, "%d,", fg->number);
	csv_field(f, fg->key);
	csv_field(f, fg->label);
	csv_field(f, ms->label);
	csv_field(f, row < 0 ? r->unit_name : r->rows[row].name);
	csv_field(f, row < 0 ? r->unit_code : r->rows[row].code);
	csv_num_cells(f, &ms->value);
	if (ms->target >= 0)
		fprintf(f, "%" PRId64, ms->target);
	fputc(',', f);
	if (ms->has_previous)
		csv_num_cells(f, &ms->previous);
	else
		fputs(",,,", f);
	int split = ms->value.split || ms->previous.split;
	/* figures 8 and 13 are year-end records: a unit closed in the year has none */
	int year_end = r->closed_on[0] && (fg->number == 8 || fg->number == 13);
	fputs(split ? "tách" : "", f);
	fputs(split && year_end ? "; " : "", f);
	fputs(year_end ? "cuối năm: tính ở đơn vị kế thừa" : "", f);
	fputs("\r\n", f);
}

int report_write_csv(const struct report *r, FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
	fprintf(f,
		"STT,Mã chỉ tiêu,Chỉ tiêu,Nội dung,Đơn vị,Mã đơn vị,Năm %d,Trên tổng số,"
		"Tỷ lệ (%%),Chỉ tiêu giao,Năm %d,Trên tổng số (năm %d),Tỷ lệ (%%) (năm %d),"
		"Ghi chú\r\n",
		r->year, r->year - 1, r->year - 1, r->year - 1);
	for (size_t i = 0; i < REPORT_NFIGURES; i++)
		for (size_t m = 0; m < r->figures[i].nmeasures; m++)
			for (int row = -1; row < (int)r->nrows; row++)
				csv_line(f, r, i, m, row);
	return finish(f);
}

/* ---- formats ---- */

static const struct {
	const char *name;
	enum report_format fmt;
	const char *content_type;
} formats[] = {
	{ "text", REPORT_FORMAT_TEXT, "text/plain; charset=utf-8" },
	{ "json", REPORT_FORMAT_JSON, "application/json" },
	{ "csv", REPORT_FORMAT_CSV, "text/csv; charset=utf-8" },
	{ "html", REPORT_FORMAT_HTML, "text/html; charset=utf-8" },
};

int report_format_parse(const char *name, enum report_format *out)
{
	for (size_t i = 0; name && i < ARRAY_LEN(formats); i++)
		if (strcmp(name, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return 0;
		}
	return -1;
}

const char *report_format_content_type(enum report_format fmt)
{
	for (size_t i = 0; i < ARRAY_LEN(formats); i++)
		if (formats[i].fmt == fmt)
			return formats[i].content_type;
	return "application/octet-stream";
}

int report_write(const struct report *r, enum report_format fmt, FILE *f)
{
	switch (fmt) {
	case REPORT_FORMAT_TEXT: return report_write_text(r, f);
	case REPORT_FORMAT_JSON: return report_write_json(r, f);
	case REPORT_FORMAT_CSV: return report_write_csv(r, f);
	case REPORT_FORMAT_HTML: return report_write_html_page(r, f);
	}
	return REPORT_WRITE;
}
