/*
 * digest.c — the morning report (see digest.h for the files and the day rules).
 *
 * Reads in one transaction: the status as of the cut-off (status_build), the receipts
 * of the day before (the store's arrivals, summed per agent), and the province report
 * (report_build). Writes each file to "<name>.tmp" and renames it into place.
 *
 * Invariant: a file named digest-DATE* is either complete or absent.
 * Owns: its temporary file names while writing.
 */
#include "digest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "status.h"
#include "textout.h"
#include "store.h"
#include "unittree.h"

#define DIGEST_PATH_MAX 4096

/* ---- arrivals ---- */

void digest_arrivals_free(struct digest_arrival *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].unit_name);
		free(a[i].unit_code);
	}
	free(a);
}

static int by_name(const void *x, const void *y)
{
	const struct digest_arrival *a = x, *b = y;
	int c = strcmp(a->unit_name ? a->unit_name : a->unit, b->unit_name ? b->unit_name : b->unit);
	return c ? c : strcmp(a->agent, b->agent);
}

struct arrivals_read {
	struct unittree *tree;
	const char *names_date;
	struct digest_arrival *v;
	size_t n, cap;
};

static int arrival_read(void *ctx, const struct store_arrival *in)
{
	struct arrivals_read *A = ctx;
	if (A->n == A->cap) {
		size_t nc = A->cap ? A->cap * 2 : 32;
		struct digest_arrival *nv = realloc(A->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		A->v = nv;
		A->cap = nc;
	}
	struct digest_arrival *a = &A->v[A->n++];
	memset(a, 0, sizeof *a);
	snprintf(a->agent, sizeof a->agent, "%s", in->agent_id);
	snprintf(a->unit, sizeof a->unit, "%s", in->unit_id);
	a->changesets = in->changesets;
	a->duplicates = in->duplicates;
	a->changes = in->changes;
	a->applied = in->applied;
	a->quarantined = in->quarantined;
	a->held = in->held;
	a->skipped = in->skipped;
	a->first_ms = in->first_ms;
	a->last_ms = in->last_ms;
	struct unittree_name nm;
	if (a->unit[0] && unittree_name_of(A->tree, a->unit, A->names_date, &nm) == 0) {
		a->unit_name = nm.name ? strdup(nm.name) : NULL;
		a->unit_code = nm.code ? strdup(nm.code) : NULL;
		if ((nm.name && !a->unit_name) || (nm.code && !a->unit_code))
			return -1;
	}
	return 0;
}

int digest_arrivals(struct store *s, int64_t from_ms, int64_t to_ms, const char *names_date,
		    struct digest_arrival **out, size_t *n, char *err, size_t errlen)
{
	struct arrivals_read A = { .names_date = names_date };
	int rc = -1;
	if (store_units_tree(s, &A.tree, err, errlen) != 0)
		goto done;
	int r = s->arrivals(s, from_ms, to_ms, arrival_read, &A);
	if (r != 0) {
		snprintf(err, errlen, "%s", r < 0 ? "cannot read the receipts" : "out of memory");
		if (r < 0) {
			size_t k = strlen(err);
			snprintf(err + k, errlen - k, ": %s", s->errmsg(s));
		}
		goto done;
	}
	if (A.n)
		qsort(A.v, A.n, sizeof *A.v, by_name);
	*out = A.v;
	*n = A.n;
	A.v = NULL;
	A.n = 0;
	rc = 0;
done:
	digest_arrivals_free(A.v, A.n);
	unittree_free(A.tree);
	return rc;
}

int digest_write_arrivals_csv(const struct digest_arrival *a, size_t n, FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
	fputs("STT,Đơn vị,Mã đơn vị,Mã máy,Số lần gửi (bộ thay đổi),Số thay đổi,Đã ghi nhận,"
	      "Bị cách ly,Đang chờ,Không gửi được,Gửi lặp lại,Lần đầu (giờ Việt Nam),"
	      "Lần cuối (giờ Việt Nam)\r\n", f);
	for (size_t i = 0; i < n; i++) {
		char first[17], last[17];
		status_vn_time(a[i].first_ms, first);
		status_vn_time(a[i].last_ms, last);
		fprintf(f, "%zu,", i + 1);
		textout_csv(f, a[i].unit_name ? a[i].unit_name : a[i].unit);
		fputc(',', f);
		textout_csv(f, a[i].unit_code);
		fprintf(f, ",%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			   ",%" PRId64 ",%s,%s\r\n",
			a[i].agent, a[i].changesets, a[i].changes, a[i].applied, a[i].quarantined,
			a[i].held, a[i].skipped, a[i].duplicates, first, last);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- files ---- */

/* Opens "<dir>/<name>.tmp" for writing; the final name goes into final. */
static FILE *open_tmp(const char *dir, const char *name, char *final, char *tmp, char *err,
		      size_t errlen)
{
	int k1 = snprintf(final, DIGEST_PATH_MAX, "%s/%s", dir, name);
	int k2 = snprintf(tmp, DIGEST_PATH_MAX, "%s/%s.tmp", dir, name);
	if (k1 < 0 || k2 < 0 || k1 >= DIGEST_PATH_MAX || k2 >= DIGEST_PATH_MAX) {
		snprintf(err, errlen, "output path too long");
		return NULL;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f)
		snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
	return f;
}

/* Closes f and renames tmp to final; wrote_ok is the writer's result. */
static int close_rename(FILE *f, int wrote_ok, const char *tmp, const char *final, char *err,
			size_t errlen)
{
	int bad = !wrote_ok;
	if (fflush(f) != 0 || ferror(f))
		bad = 1;
	if (fclose(f) != 0)
		bad = 1;
	if (bad) {
		snprintf(err, errlen, "cannot write '%s'", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, final) != 0) {
		snprintf(err, errlen, "cannot rename '%s': %s", tmp, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

static void arrivals_html(FILE *f, const struct digest_arrival *a, size_t n, const char *day)
{
	int64_t sets = 0, changes = 0, applied = 0, quarantined = 0;
	for (size_t i = 0; i < n; i++) {
		sets += a[i].changesets;
		changes += a[i].changes;
		applied += a[i].applied;
		quarantined += a[i].quarantined;
	}
	fputs("<section class=\"lk-arrivals\"><h2>Dữ liệu nhận được ngày ", f);
	textout_html(f, day);
	fprintf(f, "</h2><p>%zu văn phòng gửi %" PRId64 " lần (bộ thay đổi), %" PRId64
		   " thay đổi; đã ghi nhận %" PRId64 ", bị cách ly %" PRId64 ".</p>",
		n, sets, changes, applied, quarantined);
	if (!n) {
		fputs("<p>Không có văn phòng nào gửi dữ liệu trong ngày.</p></section>", f);
		return;
	}
	fputs("<table><thead><tr><th>#</th><th>Đơn vị</th><th>Số lần gửi</th><th>Số thay đổi</th>"
	      "<th>Đã ghi nhận</th><th>Bị cách ly</th><th>Đang chờ</th><th>Không gửi được</th>"
	      "<th>Gửi lặp lại</th><th>Lần cuối</th></tr></thead><tbody>", f);
	for (size_t i = 0; i < n; i++) {
		char last[17];
		status_vn_time(a[i].last_ms, last);
		fprintf(f, "<tr><td>%zu</td><td>", i + 1);
		textout_html(f, a[i].unit_name ? a[i].unit_name : a[i].unit);
		fprintf(f, "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
			   "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%s</td></tr>",
			a[i].changesets, a[i].changes, a[i].applied, a[i].quarantined, a[i].held,
			a[i].skipped, a[i].duplicates, last);
	}
	fputs("</tbody></table></section>", f);
}

void digest_texts_release(struct digest_texts *t)
{
	if (!t)
		return;
	free(t->html);
	free(t->status_csv);
	free(t->arrivals_csv);
	free(t->report_csv);
	memset(t, 0, sizeof *t);
}

/* Keeps the arrivals of offices whose unit counts in root's subtree on date. */
static void arrivals_keep_subtree(struct digest_arrival *a, size_t *n, const struct unittree *t,
				  const char *root, const char *date)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (a[i].unit[0] && unittree_in_subtree(t, root, a[i].unit, date)) {
			a[k++] = a[i];
		} else {
			free(a[i].unit_name);
			free(a[i].unit_code);
		}
	}
	*n = k;
}

/* Runs one renderer into a new string: 0 and *out, or -1. */
static int render(char **out, int (*fn)(const void *, FILE *), const void *arg)
{
	size_t len = 0;
	*out = NULL;
	FILE *f = open_memstream(out, &len);
	if (!f)
		return -1;
	int ok = fn(arg, f) == 0;
	if (fclose(f) != 0 || !ok) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int status_csv_fn(const void *st, FILE *f) { return status_write_csv(st, f); }
static int report_csv_fn(const void *r, FILE *f) { return report_write_csv(r, f) == REPORT_OK ? 0 : -1; }

struct arrivals_arg {
	const struct digest_arrival *a;
	size_t n;
};
static int arrivals_csv_fn(const void *arg, FILE *f)
{
	const struct arrivals_arg *A = arg;
	return digest_write_arrivals_csv(A->a, A->n, f);
}

struct page_arg {
	const char *date, *yesterday, *scope_name;
	int64_t cutoff_ms;
	const struct status *st;
	const struct report *r;
	const struct digest_arrival *arr;
	size_t narr;
};

static int page_fn(const void *arg, FILE *f)
{
	const struct page_arg *P = arg;
	char cut[17];
	status_vn_time(P->cutoff_ms, cut);
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<title>Báo cáo buổi sáng ", f);
	textout_html(f, P->date);
	fputs("</title><style>body{font-family:sans-serif;margin:16px;color:#222}"
	      ".lk-arrivals table{border-collapse:collapse}.lk-arrivals th,.lk-arrivals td"
	      "{border:1px solid #ccc;padding:3px 6px}section{margin:16px 0;overflow-x:auto}"
	      "</style></head><body><h1>Liên Kết — báo cáo buổi sáng ngày ", f);
	textout_html(f, P->date);
	if (P->scope_name) {
		fputs(" — ", f);
		textout_html(f, P->scope_name);
	}
	fputs("</h1><p>Tình trạng đồng bộ lúc ", f);
	textout_html(f, cut);
	fputs(" (giờ Việt Nam); dữ liệu nhận được ngày ", f);
	textout_html(f, P->yesterday);
	fputs("; báo cáo năm ", f);
	fprintf(f, "%d tính đến hết ngày ", P->r->year);
	textout_html(f, P->yesterday);
	fputs(".</p>", f);
	int ok = status_write_html(P->st, f) == 0;
	arrivals_html(f, P->arr, P->narr, P->yesterday);
	ok = ok && report_write_html(P->r, f) == REPORT_OK;
	fputs("</body></html>\n", f);
	return ok && !ferror(f) ? 0 : -1;
}

int digest_build(struct store *s, const char *date, int cutoff_hh, int cutoff_mm, const char *unit,
		 struct digest_texts *out, char *err, size_t errlen)
{
	int64_t cutoff_ms, day_ms;
	char yesterday[11];
	struct status *st = NULL;
	struct report *r = NULL;
	struct report_error re = { 0 };
	struct digest_arrival *arr = NULL;
	struct unittree *tree = NULL;
	struct digest_texts t = { 0 };
	size_t narr = 0;
	int rc = -1, reading = 0;
	if (status_vn_ms(date, cutoff_hh, cutoff_mm, &cutoff_ms) != 0 ||
	    status_vn_ms(date, 0, 0, &day_ms) != 0) {
		snprintf(err, errlen, "bad date '%s' or cut-off %02d:%02d", date ? date : "",
			 cutoff_hh % 100, cutoff_mm % 100);
		return 1;
	}
	if (unit && !*unit)
		unit = NULL;
	status_vn_date(day_ms - STATUS_DAY_MS, yesterday);
	if (s->read_begin(s) != 0) {
		snprintf(err, errlen, "cannot begin a read: %s", s->errmsg(s));
		goto done;
	}
	reading = 1;
	if (status_build(s, cutoff_ms, &st, err, errlen) != 0 ||
	    digest_arrivals(s, day_ms - STATUS_DAY_MS, day_ms, yesterday, &arr, &narr, err,
			    errlen) != 0)
		goto done;
	if (report_build(s, unit, atoi(yesterday), yesterday, &r, &re) != REPORT_OK) {
		snprintf(err, errlen, "cannot build the report: %s", re.message);
		if (re.code == REPORT_UNKNOWN_UNIT || re.code == REPORT_BAD_ARGUMENT)
			rc = 1;
		goto done;
	}
	if (unit) {
		if (store_units_tree(s, &tree, err, errlen) != 0)
			goto done;
		status_keep_subtree(st, tree, r->unit_id, yesterday);
		arrivals_keep_subtree(arr, &narr, tree, r->unit_id, yesterday);
	}
	struct arrivals_arg A = { arr, narr };
	struct page_arg P = { date, yesterday, unit ? r->unit_name : NULL, cutoff_ms, st, r, arr, narr };
	if (render(&t.status_csv, status_csv_fn, st) != 0 ||
	    render(&t.arrivals_csv, arrivals_csv_fn, &A) != 0 ||
	    render(&t.report_csv, report_csv_fn, r) != 0 || render(&t.html, page_fn, &P) != 0) {
		snprintf(err, errlen, "cannot write the digest: out of memory");
		goto done;
	}
	snprintf(t.unit_id, sizeof t.unit_id, "%s", unit ? r->unit_id : "");
	snprintf(t.scope_name, sizeof t.scope_name, "%s", r->unit_name ? r->unit_name : "");
	*out = t;
	memset(&t, 0, sizeof t);
	rc = 0;
done:
	if (reading)
		s->read_end(s);
	digest_texts_release(&t);
	unittree_free(tree);
	digest_arrivals_free(arr, narr);
	report_free(r);
	status_free(st);
	return rc;
}

/* Writes text into dir/name through a temporary file. 0, or -1 with err. */
static int write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
	char final[DIGEST_PATH_MAX], tmp[DIGEST_PATH_MAX];
	FILE *f = open_tmp(dir, name, final, tmp, err, errlen);
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return close_rename(f, ok, tmp, final, err, errlen);
}

int digest_write(struct store *s, const char *date, int cutoff_hh, int cutoff_mm, const char *dir,
		 char *err, size_t errlen)
{
	struct digest_texts t;
	char name[64];
	int rc = digest_build(s, date, cutoff_hh, cutoff_mm, NULL, &t, err, errlen);
	if (rc != 0)
		return rc;
	rc = -1;
	snprintf(name, sizeof name, "digest-%s-status.csv", date);
	if (write_file(dir, name, t.status_csv, err, errlen) != 0)
		goto done;
	snprintf(name, sizeof name, "digest-%s-arrivals.csv", date);
	if (write_file(dir, name, t.arrivals_csv, err, errlen) != 0)
		goto done;
	snprintf(name, sizeof name, "digest-%s-report.csv", date);
	if (write_file(dir, name, t.report_csv, err, errlen) != 0)
		goto done;
	snprintf(name, sizeof name, "digest-%s.html", date);
	if (write_file(dir, name, t.html, err, errlen) != 0)
		goto done;
	rc = 0;
done:
	digest_texts_release(&t);
	return rc;
}
