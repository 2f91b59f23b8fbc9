/*
 * test_pg_harness.c — the unit suites' PostgreSQL server (pg_harness.h over
 * scripts/pg-test-server.sh): one server per binary, a fresh empty database per case,
 * each answering at its own URL on 127.0.0.1; stopped and removed by the tear-down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pg_harness.h"

static struct pg_harness pg;

static int group_setup(void **state)
{
	(void)state;
	return pg_harness_start(&pg);
}

static int group_teardown(void **state)
{
	(void)state;
	pg_harness_stop(&pg);
	return 0;
}

/* psql's one-line answer to SQL on url, in out. */
static int psql_line(const char *url, const char *sql, char *out, size_t cap)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "psql -X -q -A -t -v ON_ERROR_STOP=1 -d '%s' -c \"%s\" 2>&1", url, sql);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	out[0] = '\0';
	if (!fgets(out, (int)cap, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	return pclose(p) == 0 ? 0 : -1;
}

static void test_pg_harness__each_case_gets_a_fresh_empty_database(void **state)
{
	(void)state;
	char a[PG_HARNESS_URL], b[PG_HARNESS_URL], out[256];
	assert_int_equal(pg_harness_fresh_db(&pg, a), 0);
	assert_int_equal(pg_harness_fresh_db(&pg, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, "postgresql://lienket@127.0.0.1:", 31), 0);
	assert_int_equal(psql_line(a, "CREATE TABLE t(x int); INSERT INTO t VALUES (7); SELECT sum(x) FROM t", out, sizeof out), 0);
	assert_string_equal(out, "7");
	/* b is another database: no table t there. */
	assert_int_equal(psql_line(b, "SELECT count(*) FROM pg_tables WHERE tablename = 't'", out, sizeof out), 0);
	assert_string_equal(out, "0");
	assert_int_equal(psql_line(b, "SELECT current_database()", out, sizeof out), 0);
	assert_string_equal(out, strrchr(b, '/') + 1);
}

static void test_pg_harness__refuses_a_database_name_that_is_not_an_identifier(void **state)
{
	(void)state;
	char url[PG_HARNESS_URL];
	assert_int_equal(pg_harness_create_db(&pg, "x; DROP DATABASE lienket", url), -1);
	assert_int_equal(pg_harness_create_db(&pg, "Upper", url), -1);
}

static void test_pg_harness__stop_ends_the_server_and_removes_its_folder(void **state)
{
	(void)state;
	struct pg_harness other;
	assert_int_equal(pg_harness_start(&other), 0);
	char pidfile[192], dir[128], line[32] = "";
	snprintf(dir, sizeof dir, "%s", other.dir);
	snprintf(pidfile, sizeof pidfile, "%s/data/postmaster.pid", other.dir);
	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	pid_t pid = (pid_t)atol(line);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	pg_harness_stop(&other);
	assert_int_equal(kill(pid, 0), -1);
	struct stat st;
	assert_int_equal(stat(dir, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_harness__each_case_gets_a_fresh_empty_database),
		cmocka_unit_test(test_pg_harness__refuses_a_database_name_that_is_not_an_identifier),
		cmocka_unit_test(test_pg_harness__stop_ends_the_server_and_removes_its_folder),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
