/*
 * xlsx.c — the report as .xlsx (see xlsx.h): the only libxlsxwriter user.
 *
 * The numbers come from report_build, the same struct the JSON report renders, so a
 * cell and its JSON value cannot disagree (tests/e2e/xlsx.sh reads every cell back
 * with openpyxl and compares).
 * Owns: per call, the workbook and the reports of the levels below.
 */
#include "xlsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report.h"
#include "store.h"
#include "unittree.h"

#define XLSX_MAX_BYTES (64u << 20) /* a province's report is well under a megabyte */

enum col {
	C_UNIT, C_CODE, C_PARENT, C_NUMBER, C_FIGURE, C_MEASURE, C_VALUE, C_OF, C_SHARE, C_TARGET,
	C_PREV, C_PREV_OF, C_PREV_SHARE, C_FIG_KEY, C_MEASURE_KEY, C_UNIT_ID, C_NCOLS
};

struct book {
	lxw_workbook *wb;
	lxw_format *head, *pct;
	int year;
};

struct sheet {
	lxw_worksheet *ws;
	int with_parent;
	lxw_row_t row;
};

static int col_of(const struct sheet *sh, enum col c)
{
	if (sh->with_parent || c < C_PARENT)
		return c;
	return c - 1;
}

static struct sheet sheet_new(struct book *b, const char *name, int with_parent)
{
	struct sheet sh = { workbook_add_worksheet(b->wb, name), with_parent, 1 };
	if (!sh.ws)
		return sh;
	char y[40], y1[48], of1[64], sh1[64];
	snprintf(y, sizeof y, "Năm %d", b->year);
	snprintf(y1, sizeof y1, "Năm %d", b->year - 1);
	snprintf(of1, sizeof of1, "Trên tổng số (%d)", b->year - 1);
	snprintf(sh1, sizeof sh1, "Tỷ lệ (%d)", b->year - 1);
	const char *heads[C_NCOLS] = { "Đơn vị", "Mã đơn vị", "Thuộc", "STT", "Chỉ tiêu", "Nội dung",
				       y, "Trên tổng số", "Tỷ lệ", "Chỉ tiêu giao", y1, of1, sh1,
				       "Mã chỉ tiêu", "Mã nội dung", "Mã định danh" };
	for (int c = 0; c < C_NCOLS; c++) {
		if (c == C_PARENT && !with_parent)
			continue;
		worksheet_write_string(sh.ws, 0, (lxw_col_t)col_of(&sh, (enum col)c), heads[c], b->head);
	}
	worksheet_freeze_panes(sh.ws, 1, 0);
	worksheet_set_column(sh.ws, 0, 0, 28, NULL);
	worksheet_set_column(sh.ws, (lxw_col_t)col_of(&sh, C_FIGURE),
			     (lxw_col_t)col_of(&sh, C_MEASURE), 36, NULL);
	return sh;
}

static void put_text(struct sheet *sh, enum col c, const char *s)
{
	if (s && *s)
		worksheet_write_string(sh->ws, sh->row, (lxw_col_t)col_of(sh, c), s, NULL);
}

static void put_number(struct sheet *sh, enum col c, double v, lxw_format *fmt)
{
	worksheet_write_number(sh->ws, sh->row, (lxw_col_t)col_of(sh, c), v, fmt);
}

/* One cell group: value, of and share (of < 0: a count, of and share left empty). */
static void put_cell(struct book *b, struct sheet *sh, enum col value, const struct report_cell *x)
{
	put_number(sh, value, (double)x->value, NULL);
	if (x->of >= 0) {
		put_number(sh, (enum col)(value + 1), (double)x->of, NULL);
		if (x->of > 0)
			put_number(sh, (enum col)(value + 2), (double)x->value / (double)x->of, b->pct);
	}
}

/* The rows of one unit: one per figure and measure. */
static void put_unit(struct book *b, struct sheet *sh, const struct report *r, size_t row,
		     const char *id, const char *name, const char *code, const char *parent)
{
	for (size_t i = 0; i < REPORT_NFIGURES; i++) {
		const struct report_figure *fg = &r->figures[i];
		for (size_t m = 0; m < fg->nmeasures; m++) {
			const struct report_measure *ms =
				row == (size_t)-1 ? &fg->total[m] : &fg->rows[row * fg->nmeasures + m];
			put_text(sh, C_UNIT, name);
			put_text(sh, C_CODE, code);
			if (sh->with_parent)
				put_text(sh, C_PARENT, parent);
			put_number(sh, C_NUMBER, fg->number, NULL);
			put_text(sh, C_FIGURE, fg->label);
			put_text(sh, C_MEASURE, ms->label);
			put_cell(b, sh, C_VALUE, &ms->value);
			if (ms->target >= 0)
				put_number(sh, C_TARGET, (double)ms->target, NULL);
			if (ms->has_previous)
				put_cell(b, sh, C_PREV, &ms->previous);
			put_text(sh, C_FIG_KEY, fg->key);
			put_text(sh, C_MEASURE_KEY, ms->key);
			put_text(sh, C_UNIT_ID, id);
			sh->row++;
		}
	}
}

/* The sheet name of a level whose first unit is of kind. */
static const char *level_name(const char *kind)
{
	if (!kind)
		return "Cấp dưới";
	return strcmp(kind, "district") == 0 ? "Cấp huyện" : strcmp(kind, "commune") == 0 ? "Cấp xã"
	       : strcmp(kind, "branch") == 0 ? "Chi đoàn" : strcmp(kind, "affiliated") == 0 ? "Trực thuộc"
	       : "Cấp dưới";
}

static const char *kind_of(const struct unittree *t, const char *id, const char *date)
{
	struct unittree_name nm;
	return unittree_name_of(t, id, date, &nm) == 0 ? nm.kind : NULL;
}

static int build_error(const struct report_error *re, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot build the report: %s", re->message);
	return re->code == REPORT_BAD_ARGUMENT || re->code == REPORT_UNKNOWN_UNIT ? 1 : -1;
}

int xlsx_write_report(struct store *s, const char *unit, int year, const char *today,
		      const char *path, char *err, size_t errlen)
{
	struct report *r = NULL, *sub = NULL;
	struct report_error re = { 0 };
	struct unittree *tree = NULL;
	struct book b = { 0 };
	int rc = -1;
	if (report_build(s, unit, year, today, &r, &re) != REPORT_OK)
		return build_error(&re, err, errlen);
	if (store_units_tree(s, &tree, err, errlen) != 0)
		goto done;
	b.year = year;
	b.wb = workbook_new(path);
	if (!b.wb) {
		snprintf(err, errlen, "cannot write '%s'", path);
		goto done;
	}
	b.head = workbook_add_format(b.wb);
	b.pct = workbook_add_format(b.wb);
	if (!b.head || !b.pct)
		goto oom;
	format_set_bold(b.head);
	format_set_num_format(b.pct, "0.0%");
	struct sheet top = sheet_new(&b, "Tổng hợp", 0);
	if (!top.ws)
		goto oom;
	put_unit(&b, &top, r, (size_t)-1, r->unit_id, r->unit_name, r->unit_code, NULL);
	if (r->nrows) {
		const char *kind = kind_of(tree, r->rows[0].id, r->as_of);
		struct sheet kids = sheet_new(&b, level_name(kind), 0);
		struct sheet grand = { 0 };
		if (!kids.ws)
			goto oom;
		for (size_t i = 0; i < r->nrows; i++)
			put_unit(&b, &kids, r, i, r->rows[i].id, r->rows[i].name, r->rows[i].code, NULL);
		for (size_t i = 0; i < r->nrows; i++) {
			if (report_build(s, r->rows[i].id, year, today, &sub, &re) != REPORT_OK) {
				build_error(&re, err, errlen); /* a child failing is our fault */
				goto done;
			}
			if (sub->nrows && !grand.ws) {
				const char *gk = kind_of(tree, sub->rows[0].id, sub->as_of);
				const char *name = level_name(gk);
				grand = sheet_new(&b, strcmp(name, level_name(kind)) == 0 ? "Cấp dưới nữa" : name, 1);
				if (!grand.ws)
					goto oom;
			}
			for (size_t k = 0; k < sub->nrows; k++)
				put_unit(&b, &grand, sub, k, sub->rows[k].id, sub->rows[k].name,
					 sub->rows[k].code, r->rows[i].name);
			report_free(sub);
			sub = NULL;
		}
	}
	lxw_error x = workbook_close(b.wb);
	b.wb = NULL;
	if (x != LXW_NO_ERROR) {
		snprintf(err, errlen, "cannot write '%s': %s", path, lxw_strerror(x));
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	if (b.wb) {
		workbook_close(b.wb); /* frees it; the file is removed below */
		if (rc != 0)
			remove(path);
	}
	report_free(sub);
	report_free(r);
	unittree_free(tree);
	return rc;
}

int xlsx_report_bytes(struct store *s, const char *unit, int year, const char *today,
		      const char *tmpdir, unsigned char **out, size_t *len, char *err,
		      size_t errlen)
{
	char path[4096];
	const char *dir = tmpdir ? tmpdir : getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int k = snprintf(path, sizeof path, "%s/lienket-xlsx-XXXXXX", dir);
	if (k < 0 || (size_t)k >= sizeof path) {
		snprintf(err, errlen, "temporary path too long");
		return -1;
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot make a temporary file in '%s': %s", dir, strerror(errno));
		return -1;
	}
	close(fd);
	int rc = xlsx_write_report(s, unit, year, today, path, err, errlen);
	if (rc != 0) {
		remove(path);
		return rc;
	}
	rc = -1;
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (unsigned long)size <= XLSX_MAX_BYTES && (buf = malloc((size_t)size + 1)) &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size) {
		*out = buf;
		*len = (size_t)size;
		buf = NULL;
		rc = 0;
	} else {
		snprintf(err, errlen, "cannot read back '%s'", path);
	}
	free(buf);
	if (f)
		fclose(f);
	remove(path);
	return rc;
}
