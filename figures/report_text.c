/*
 * report_text.c — the thirteen figures as a terminal reads them (report_write_text) and
 * as the JSON document of GET /v1/report (report_write_json), for the hub and for an
 * office alike, and the number formats the other renderings share (report_text.h).
 *
 * Owns: nothing; each writer writes to the caller's stream and checks it once.
 */
#include "report_text.h"

#include <inttypes.h>
#include <stdio.h>

#include "textout.h"

/* ---- rendering ---- */

/* The headline cell of a figure for a row (-1: the total). */
static const struct report_measure *shown(const struct report *r, size_t fig, int row,
					  size_t m)
{
	const struct report_figure *f = &r->figures[fig];
	return row < 0 ? &f->total[m] : &f->rows[(size_t)row * f->nmeasures + m];
}

/* value/of rounded to 1/scale (scale 10, 100, …), with a decimal point whatever the
 * locale (printf's %f would follow LC_NUMERIC and could write a comma into JSON). */
static const char *fmt_ratio(int64_t value, int64_t of, int64_t scale, char buf[48])
{
	int neg = (value < 0) != (of < 0);
	uint64_t v = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	uint64_t o = of < 0 ? (uint64_t)0 - (uint64_t)of : (uint64_t)of;
	uint64_t sc = (uint64_t)scale, q = o ? (v * sc * 2 + o) / (o * 2) : 0;
	char frac[24];
	size_t nf = 0;
	for (uint64_t k = sc, r = q % sc; k > 1 && nf < sizeof frac - 1; k /= 10, r /= 10)
		frac[nf++] = (char)('0' + r % 10); /* least significant first */
	size_t len = (size_t)snprintf(buf, 48, "%s%" PRIu64 ".", neg && q ? "-" : "", q / sc);
	for (size_t i = 0; i < nf && len + 1 < 48; i++)
		buf[len++] = frac[nf - 1 - i];
	buf[len < 48 ? len : 47] = '\0';
	return buf;
}

/* Integer with Vietnamese thousands dots: 6.123. */
static const char *fmt_int(int64_t v, char buf[32])
{
	char tmp[32];
	int neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, out = 0;
	do {
		if (n && n % 3 == 0)
			tmp[out++] = '.';
		tmp[out++] = (char)('0' + u % 10);
		u /= 10;
		n++;
	} while (u);
	if (neg)
		tmp[out++] = '-';
	for (size_t i = 0; i < out; i++)
		buf[i] = tmp[out - 1 - i];
	buf[out] = '\0';
	return buf;
}

/* Share as a percentage with one decimal and a decimal comma: "95,9%". */
static const char *fmt_share(const struct report_cell *c, char buf[32])
{
	if (c->of <= 0) {
		snprintf(buf, 32, "–");
		return buf;
	}
	int64_t tenths = (c->value * 1000 + c->of / 2) / c->of;
	snprintf(buf, 32, "%" PRId64 ",%" PRId64 "%%", tenths / 10, tenths % 10);
	return buf;
}

/* "667 / 695 (96,0%)" or "6.123"; with "(tách)" when split. */
static const char *fmt_cell(const struct report_cell *c, char buf[128])
{
	char a[32], b[32], s[32];
	if (c->of >= 0)
		snprintf(buf, 128, "%s / %s (%s)%s", fmt_int(c->value, a), fmt_int(c->of, b),
			 fmt_share(c, s), c->split ? " (tách)" : "");
	else
		snprintf(buf, 128, "%s%s", fmt_int(c->value, a), c->split ? " (tách)" : "");
	return buf;
}

static int finish(FILE *f)
{
	return ferror(f) ? REPORT_WRITE : REPORT_OK;
}

/* For a unit closed during the year (r->closed_on set): what its figures cover. */
static const char *closed_note(const struct report *r, char buf[REPORT_NOTE_MAX])
{
	snprintf(buf, REPORT_NOTE_MAX,
		 "Đơn vị thôi hoạt động từ ngày %s (sáp nhập, chia tách hoặc giải thể): số liệu "
		 "năm %d tính đến ngày %s; tập hợp thanh niên, đánh giá xếp loại cuối năm %d "
		 "tính ở đơn vị kế thừa.",
		 r->closed_on, r->year, r->as_of, r->year);
	return buf;
}

int report_write_text(const struct report *r, FILE *f)
{
	char a[128], b[128], t[32], buf_note[REPORT_NOTE_MAX];
	fputs("BÁO CÁO MÔ HÌNH “2 GIAO, 1 LIÊN KẾT”\n", f);
	textout_term(f, r->unit_name);
	if (r->unit_code) {
		fputs(" (mã ", f);
		textout_term(f, r->unit_code);
		fputc(')', f);
	}
	fprintf(f, " — năm %d (tính đến %s; so với năm %d)\n", r->year, r->as_of, r->year - 1);
	if (r->closed_on[0])
		fprintf(f, "%s\n", closed_note(r, buf_note));
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		fprintf(f, "\n%d. %s\n", fg->number, fg->label);
		if (fg->target_note)
			fprintf(f, "   Chỉ tiêu: %s\n", fg->target_note);
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms = shown(r, i, -1, m);
			fprintf(f, "   %s: %s", ms->label, fmt_cell(&ms->value, a));
			if (ms->target >= 0)
				fprintf(f, "; chỉ tiêu %s", fmt_int(ms->target, t));
			if (ms->has_previous)
				fprintf(f, "; năm %d: %s", r->year - 1, fmt_cell(&ms->previous, b));
			fprintf(f, "\n");
		}
		for (size_t row = 0; row < r->nrows; row++) {
			const struct report_measure *ms = shown(r, i, (int)row, 0);
			fputs("     - ", f);
			textout_term(f, r->rows[row].name);
			fprintf(f, ": %s", fmt_cell(&ms->value, a));
			if (ms->target >= 0)
				fprintf(f, "; chỉ tiêu %s", fmt_int(ms->target, t));
			if (ms->has_previous)
				fprintf(f, "; năm %d: %s", r->year - 1, fmt_cell(&ms->previous, b));
			fprintf(f, "\n");
		}
	}
	return finish(f);
}

/* ---- JSON ---- */

static void json_cell_fields(FILE *f, const struct report_cell *c)
{
	char buf[48];
	fprintf(f, "\"value\":%" PRId64 ",\"of\":", c->value);
	if (c->of < 0) {
		fputs("null,\"share\":null", f);
	} else {
		fprintf(f, "%" PRId64 ",\"share\":", c->of);
		if (c->of == 0)
			fputs("null", f);
		else
			fputs(fmt_ratio(c->value, c->of, 10000, buf), f);
	}
	fprintf(f, ",\"split\":%s", c->split ? "true" : "false");
}

/* The fields of a measure inside an object (no braces). */
static void json_measure_fields(FILE *f, const struct report_measure *ms)
{
	json_cell_fields(f, &ms->value);
	fputs(",\"target\":", f);
	if (ms->target < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, ms->target);
	fputs(",\"previous\":", f);
	if (ms->has_previous) {
		fputc('{', f);
		json_cell_fields(f, &ms->previous);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
}

static void json_measures(FILE *f, const struct report *r, size_t fig, int row)
{
	const struct report_figure *fg = &r->figures[fig];
	fputs("\"measures\":[", f);
	for (size_t m = 0; m < fg->nmeasures; m++) {
		const struct report_measure *ms = shown(r, fig, row, m);
		fprintf(f, "%s{\"key\":", m ? "," : "");
		textout_json(f, ms->key);
		fputs(",\"label\":", f);
		textout_json(f, ms->label);
		fputc(',', f);
		json_measure_fields(f, ms);
		fputc('}', f);
	}
	fputc(']', f);
}

int report_write_json(const struct report *r, FILE *f)
{
	fputs("{\"v\":1,\"unit\":", f);
	textout_json(f, r->unit_id);
	fputs(",\"unit_name\":", f);
	textout_json(f, r->unit_name);
	fputs(",\"unit_code\":", f);
	textout_json(f, r->unit_code);
	fprintf(f, ",\"year\":%d,\"as_of\":\"%s\",\"previous_year\":%d,\"previous_as_of\":\"%s\"",
		r->year, r->as_of, r->year - 1, r->previous_as_of);
	if (r->closed_on[0])
		fprintf(f, ",\"closed_on\":\"%s\"", r->closed_on);
	else
		fputs(",\"closed_on\":null", f);
	fputs(",\"units\":[", f);
	for (size_t i = 0; i < r->nrows; i++) {
		fprintf(f, "%s{\"unit\":", i ? "," : "");
		textout_json(f, r->rows[i].id);
		fputs(",\"name\":", f);
		textout_json(f, r->rows[i].name);
		fputs(",\"code\":", f);
		textout_json(f, r->rows[i].code);
		fputc('}', f);
	}
	fputs("],\"figures\":[", f);
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		fprintf(f, "%s{\"number\":%d,\"key\":", i ? "," : "", fg->number);
		textout_json(f, fg->key);
		fputs(",\"label\":", f);
		textout_json(f, fg->label);
		fputs(",\"target_note\":", f);
		textout_json(f, fg->target_note);
		fputc(',', f);
		json_measure_fields(f, &fg->total[0]);
		fputc(',', f);
		json_measures(f, r, i, -1);
		fputs(",\"unit_breakdown\":[", f);
		for (size_t row = 0; row < r->nrows; row++) {
			fprintf(f, "%s{\"unit\":", row ? "," : "");
			textout_json(f, r->rows[row].id);
			fputs(",\"name\":", f);
			textout_json(f, r->rows[row].name);
			fputs(",\"code\":", f);
			textout_json(f, r->rows[row].code);
			fputc(',', f);
			json_measure_fields(f, shown(r, i, (int)row, 0));
			fputc(',', f);
			json_measures(f, r, i, (int)row);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
	return finish(f);
}

/* ---- shared with report_html.c ---- */

const char *report_fmt_int(int64_t v, char buf[32])
{
	return fmt_int(v, buf);
}

const char *report_fmt_share(const struct report_cell *c, char buf[32])
{
	return fmt_share(c, buf);
}

const char *report_fmt_cell(const struct report_cell *c, char buf[128])
{
	return fmt_cell(c, buf);
}

const char *report_closed_note(const struct report *r, char buf[REPORT_NOTE_MAX])
{
	return closed_note(r, buf);
}


const char *report_fmt_ratio(int64_t value, int64_t of, int64_t scale, char buf[48])
{
	return fmt_ratio(value, of, scale, buf);
}
