/*
 * test_hub_digest.c — the morning digest of digest.c: "the day before" is a Vietnam
 * day (receipts one millisecond either side of Vietnam midnight fall on the right
 * day, whatever the machine's zone), change sets and changes are counted per office
 * (duplicates apart), and the files are complete: HTML plus CSV with a byte-order
 * mark and CRLF, no temporary file left, a malformed date refused.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"
#include "hub_test_util.h"
#include "status.h"

#define AG1 "0190f3a2-0000-7000-8000-00000000d001"
#define AG2 "0190f3a2-0000-7000-8000-00000000d002"

struct fx {
	struct th_hub h;
	sqlite3 *db;       /* the SQLite file itself: the rows the tests set up */
	struct store *s;   /* what the digest reads through */
	char out[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	if (!f || th_hub_new(&f->h) != 0 || sqlite3_open(f->h.path, &f->db) != SQLITE_OK ||
	    hub_store_open(f->h.path, 0, &f->s, err, sizeof err) != 0)
		return -1;
	snprintf(f->out, sizeof f->out, "%s/out", f->h.dir);
	if (mkdir(f->out, 0700) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->out);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", f->out, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(f->out);
	f->s->close(f->s);
	sqlite3_close(f->db);
	th_hub_free(&f->h);
	free(f);
	return 0;
}

static void sql(struct fx *f, const char *fmt, ...)
{
	char q[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_exec(f->db, q, NULL, NULL, NULL), SQLITE_OK);
}

static void receipt(struct fx *f, const char *agent, int from, int to, int dup, int64_t at_ms)
{
	sql(f, "INSERT INTO hub_receipt(agent_id, seq_from, seq_to, chain_before, chain_after, applied,"
	       " quarantined, held, skipped, duplicate, received_ms) VALUES('%s',%d,%d,'','',%d,%d,0,0,%d,%lld)",
	    agent, from, to, dup ? 0 : to - from, dup ? 0 : 1, dup, (long long)at_ms);
}

/* Receipts around the Vietnam day 2021-03-14 (UTC 2021-03-13 17:00 .. 03-14 17:00). */
static void load(struct fx *f)
{
	int64_t d14, d15;
	assert_int_equal(status_vn_ms("2021-03-14", 0, 0, &d14), 0);
	assert_int_equal(status_vn_ms("2021-03-15", 0, 0, &d15), 0);
	sql(f, "INSERT INTO hub_agent VALUES('%s','%s',9,'',0,0,0,0,0,0,'x',''),"
	       "('%s','%s',9,'',0,0,0,0,0,0,'x','')", AG1, U_C1, AG2, U_C2);
	receipt(f, AG1, 1, 3, 0, d14 - 1);          /* 13th, 23:59:59.999 */
	receipt(f, AG1, 4, 10, 0, d14);             /* 14th, 00:00 */
	receipt(f, AG1, 4, 10, 1, d14 + 3600000);   /* the same set again: a duplicate */
	receipt(f, AG1, 11, 12, 0, d15 - 1);        /* 14th, 23:59:59.999 */
	receipt(f, AG2, 1, 100, 0, d15);            /* 15th, 00:00 */
}

static void test_hub_digest__the_day_before_is_a_vietnam_day(void **state)
{
	struct fx *f = *state;
	setenv("TZ", "Pacific/Honolulu", 1);
	tzset();
	load(f);
	int64_t d14, d15;
	assert_int_equal(status_vn_ms("2021-03-14", 0, 0, &d14), 0);
	assert_int_equal(status_vn_ms("2021-03-15", 0, 0, &d15), 0);
	struct digest_arrival *a = NULL;
	size_t n = 0;
	char err[256];
	assert_int_equal(digest_arrivals(f->s, d14, d15, "2021-03-14", &a, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].agent, AG1);
	assert_string_equal(a[0].unit_name, "Xã C1");
	assert_int_equal(a[0].changesets, 2);
	assert_int_equal(a[0].duplicates, 1);
	assert_int_equal(a[0].changes, 7 + 2);
	assert_int_equal(a[0].first_ms, d14);
	assert_int_equal(a[0].last_ms, d15 - 1);
	digest_arrivals_free(a, n);
	unsetenv("TZ");
	tzset();
}

static char *slurp(const char *path, size_t *len)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	*len = buf ? fread(buf, 1, (1 << 20) - 1, in) : 0;
	fclose(in);
	return buf;
}

static void csv_ok(const char *path, size_t min_lines)
{
	size_t len = 0, lines = 0;
	char *t = slurp(path, &len);
	if (!t)
		print_error("missing %s\n", path);
	assert_non_null(t);
	assert_true(len > 3);
	assert_memory_equal(t, "\xEF\xBB\xBF", 3);
	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n') {
			assert_true(i > 0 && t[i - 1] == '\r');
			lines++;
		}
	assert_true(lines >= min_lines);
	free(t);
}

static void test_hub_digest__writes_html_and_excel_csv(void **state)
{
	struct fx *f = *state;
	load(f);
	char err[256], p[256];
	int rc = digest_write(f->s, "2021-03-15", 7, 0, f->out, err, sizeof err);
	if (rc != 0)
		print_error("digest_write: %s\n", err);
	assert_int_equal(rc, 0);
	snprintf(p, sizeof p, "%s/digest-2021-03-15-status.csv", f->out);
	csv_ok(p, 3);
	snprintf(p, sizeof p, "%s/digest-2021-03-15-arrivals.csv", f->out);
	csv_ok(p, 2);
	size_t len;
	char *t = slurp(p, &len);
	assert_non_null(strstr(t, "Xã C1"));
	assert_null(strstr(t, "Xã C2")); /* its receipt is of the 15th */
	assert_non_null(strstr(t, ",2,9,"));
	free(t);
	snprintf(p, sizeof p, "%s/digest-2021-03-15-report.csv", f->out);
	csv_ok(p, 14);
	snprintf(p, sizeof p, "%s/digest-2021-03-15.html", f->out);
	t = slurp(p, &len);
	assert_non_null(t);
	assert_non_null(strstr(t, "báo cáo buổi sáng ngày 2021-03-15"));
	assert_non_null(strstr(t, "Tình trạng đồng bộ lúc 2021-03-15 07:00"));
	assert_non_null(strstr(t, "Dữ liệu nhận được ngày 2021-03-14"));
	assert_non_null(strstr(t, "năm 2021"));
	free(t);
	DIR *d = opendir(f->out);
	struct dirent *e;
	size_t files = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			assert_null(strstr(e->d_name, ".tmp"));
			files++;
		}
	closedir(d);
	assert_int_equal(files, 4);
}

static void test_hub_digest__a_malformed_date_is_refused(void **state)
{
	struct fx *f = *state;
	char err[256];
	assert_int_equal(digest_write(f->s, "2021-02-30", 7, 0, f->out, err, sizeof err), 1);
	assert_int_equal(digest_write(f->s, "2021-03-15", 25, 0, f->out, err, sizeof err), 1);
	assert_int_equal(digest_write(f->s, "2021-03-15", 7, 0, "/nonexistent/dir", err, sizeof err), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hub_digest__the_day_before_is_a_vietnam_day),
		T(test_hub_digest__writes_html_and_excel_csv),
		T(test_hub_digest__a_malformed_date_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
