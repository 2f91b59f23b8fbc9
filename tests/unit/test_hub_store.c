/*
 * test_hub_store.c — the store interface itself (store.h): the back-end factory
 * (hub_store_open) picks
 * a back end from the --db value and refuses what it cannot open with a reason, and
 * failures say why (a store_code and the back end's words), not a bare -1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

struct fx {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-storetest-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[160];
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void hub_store_open__a_path_and_sqlite_prefix_open_the_same_sqlite_file(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char err[256], url[160], id1[40] = "", id2[40] = "";
	assert_int_equal(hub_store_open(f->path, 1, &s, err, sizeof err), STORE_OK);
	assert_int_equal(s->version, STORE_VERSION);
	assert_string_equal(s->backend, "sqlite");
	assert_int_equal(s->meta_get(s, "hub_id", id1, sizeof id1), STORE_OK);
	s->close(s);
	snprintf(url, sizeof url, "sqlite:%s", f->path);
	assert_int_equal(hub_store_open(url, 0, &s, err, sizeof err), STORE_OK);
	assert_int_equal(s->meta_get(s, "hub_id", id2, sizeof id2), STORE_OK);
	assert_string_equal(id1, id2);
	s->close(s);
	/* creating over an existing database is refused */
	assert_true(hub_store_open(url, 1, &s, err, sizeof err) < 0);
	assert_non_null(strstr(err, "exists"));
}

static void hub_store_open__postgres_url_goes_to_postgres_never_to_a_file(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char err[256] = "";
	/* port 1: nothing listens; a build without libpq says it has no such back end */
	int rc = hub_store_open("postgresql://lienket@127.0.0.1:1/none?connect_timeout=2", 0, &s, err,
			    sizeof err);
	assert_true(rc < 0);
	if (!store_pg_built())
		assert_non_null(strstr(err, "no PostgreSQL back end"));
	assert_true(store_is_pg("postgres://h/db"));
	assert_false(store_is_pg("postgres.db"));
	/* and no file of that name was made */
	assert_int_equal(access("postgresql:", F_OK), -1);
	(void)f;
}

static void hub_store_open__unknown_scheme_or_nothing_is_refused_with_a_reason(void **state)
{
	struct store *s = NULL;
	char err[256] = "";
	assert_true(hub_store_open("mysql://h/db", 0, &s, err, sizeof err) < 0);
	assert_non_null(strstr(err, "unknown kind of database"));
	assert_true(hub_store_open("", 0, &s, err, sizeof err) < 0);
	assert_non_null(strstr(err, "no database"));
	assert_true(hub_store_open("sqlite:", 0, &s, err, sizeof err) < 0);
	(void)state;
}

static void hub_store_open__a_file_that_is_not_a_database_is_corrupt(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char err[256] = "";
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 256; i++)
		fputs("this is not an SQLite database, only text. ", fp);
	fclose(fp);
	assert_int_equal(hub_store_open(f->path, 0, &s, err, sizeof err), STORE_CORRUPT);
	assert_true(err[0] != 0);
	/* a missing file is an I/O failure that says to run init */
	char missing[128];
	snprintf(missing, sizeof missing, "%s/none.db", f->dir);
	assert_int_equal(hub_store_open(missing, 0, &s, err, sizeof err), STORE_IO);
	assert_non_null(strstr(err, "init"));
}

/* A handle reading an old snapshot cannot write over a newer commit: the caller is told
 * to retry the transaction (STORE_CONFLICT), with SQLite's words in errmsg. */
static void store__write_on_a_stale_snapshot_is_a_conflict(void **state)
{
	struct fx *f = *state;
	struct store *a = NULL, *b = NULL;
	char err[256], v[32];
	assert_int_equal(hub_store_open(f->path, 1, &a, err, sizeof err), STORE_OK);
	assert_int_equal(hub_store_open(f->path, 0, &b, err, sizeof err), STORE_OK);
	assert_int_equal(b->read_begin(b), STORE_OK);
	assert_int_equal(b->meta_get(b, "hs", v, sizeof v), STORE_OK);
	assert_int_equal(a->begin(a), STORE_OK);
	assert_int_equal(a->meta_set(a, "k", "from a"), STORE_OK);
	assert_int_equal(a->commit(a), STORE_OK);
	int rc = b->meta_set(b, "k", "from b");
	assert_int_equal(rc, STORE_CONFLICT);
	assert_string_equal(store_code_name(rc), "conflict");
	assert_true(strlen(b->errmsg(b)) > 0);
	assert_null(strstr(b->errmsg(b), "no failure"));
	b->read_end(b);
	b->close(b);
	a->close(a);
}

static void store_side_path__beside_an_sqlite_file_and_in_the_state_dir_for_postgres(void **state)
{
	char p[STORE_PATH_MAX];
	(void)state;
	assert_int_equal(store_side_path("/srv/tinh.db", "operations", p, sizeof p), 0);
	assert_string_equal(p, "/srv/tinh.db.operations");
	assert_int_equal(store_side_path("sqlite:/srv/tinh.db", "serving", p, sizeof p), 0);
	assert_string_equal(p, "/srv/tinh.db.serving");
	setenv("LK_HUB_STATE_DIR", "/var/lib/lienket", 1);
	assert_int_equal(store_side_path("postgresql://hub:s3cret@db.tinh.vn:5433/lienket?sslmode=require",
					 "operations", p, sizeof p), 0);
	unsetenv("LK_HUB_STATE_DIR");
	assert_string_equal(p, "/var/lib/lienket/lienket-db.tinh.vn-5433-lienket.operations");
	assert_null(strstr(p, "s3cret")); /* never the password in a file name */
	assert_int_equal(store_side_path("/srv/tinh.db", "operations", p, 8), -1);
}

/* 0 when a child process can take db's serving lock, 1 when it cannot (ask = 0); or
 * what store_is_serving says in a child (ask = 1). (A process's own fcntl locks are not
 * seen by it, and closing any descriptor of the file drops them: children ask.) */
static int child_asks(const char *db, int ask)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		if (ask)
			_exit(store_is_serving(db));
		_exit(store_serving_lock(db, err, sizeof err) >= 0 ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void store_serving_lock__one_hub_serves_an_sqlite_file_several_serve_postgres(void **state)
{
	struct fx *f = *state;
	char err[256], url[256], p[STORE_PATH_MAX];
	int fd = store_serving_lock(f->path, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(child_asks(f->path, 1), 1);    /* another process sees it served */
	assert_int_equal(child_asks(f->path, 0), 1);    /* and cannot serve it too */
	close(fd);
	assert_int_equal(child_asks(f->path, 1), 0);
	assert_int_equal(child_asks(f->path, 0), 0);
	/* PostgreSQL: shared, a second hub process serves the same database */
	setenv("LK_HUB_STATE_DIR", f->dir, 1);
	snprintf(url, sizeof url, "postgresql://127.0.0.1:1/lienket");
	fd = store_serving_lock(url, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(child_asks(url, 0), 0);
	close(fd);
	assert_int_equal(store_side_path(url, "serving", p, sizeof p), 0);
	unsetenv("LK_HUB_STATE_DIR");
	unlink(p);
	snprintf(p, sizeof p, "%s.serving", f->path);
	unlink(p);
}

static void store_copy__a_postgres_database_is_for_postgres_tools(void **state)
{
	struct fx *f = *state;
	char err[512] = "", kept[64];
	assert_true(store_copy("postgresql://127.0.0.1:1/lienket", f->path, 0, NULL, err, sizeof err) < 0);
	assert_non_null(strstr(err, "pg_dump"));
	assert_true(store_set_aside("postgres://h/db", "x", kept, sizeof kept, err, sizeof err) < 0);
	assert_non_null(strstr(err, "PostgreSQL's tools"));
	assert_int_equal(access(f->path, F_OK), -1); /* nothing made */
}

/* A restore's file work (ops.c): the copy, the database and its companions set aside,
 * the copy put in place — without ops.c naming a file of SQLite's. */
static void store_set_aside__moves_the_database_with_its_log_and_put_in_place_replaces_it(
	void **state)
{
	struct fx *f = *state;
	struct store *s = NULL, *r = NULL;
	char err[256], copy[160], kept[STORE_PATH_MAX + 64], id1[40], id2[40], p[STORE_PATH_MAX + 80];
	assert_int_equal(hub_store_open(f->path, 1, &s, err, sizeof err), STORE_OK);
	assert_int_equal(s->meta_get(s, "hub_id", id1, sizeof id1), STORE_OK);
	snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
	assert_int_equal(store_copy(f->path, copy, 0, NULL, err, sizeof err), 0);
	/* the live database, open with its log, set aside */
	assert_int_equal(store_set_aside(f->path, "T1", kept, sizeof kept, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s.replaced-T1", f->path);
	assert_string_equal(kept, p);
	assert_int_equal(access(f->path, F_OK), -1);
	snprintf(p, sizeof p, "%s-wal", f->path);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s.replaced-T1-wal", f->path);
	assert_int_equal(access(p, F_OK), 0);
	s->close(s);
	assert_int_equal(store_put_in_place(copy, f->path, err, sizeof err), 0);
	assert_int_equal(hub_store_open(f->path, 0, &r, err, sizeof err), STORE_OK);
	assert_int_equal(r->meta_get(r, "hub_id", id2, sizeof id2), STORE_OK);
	assert_string_equal(id1, id2);
	r->close(r);
	static const char *const left[] = { ".replaced-T1", ".replaced-T1-wal", ".replaced-T1-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, left[i]);
		unlink(p);
	}
	assert_int_equal(store_remove_copy(copy), 0);
}

static void store_code_name__names_every_code(void **state)
{
	(void)state;
	assert_string_equal(store_code_name(STORE_OK), "ok");
	assert_string_equal(store_code_name(STORE_ABSENT), "absent");
	assert_string_equal(store_code_name(STORE_BUSY), "busy");
	assert_string_equal(store_code_name(STORE_FULL), "full");
	assert_string_equal(store_code_name(STORE_CORRUPT), "corrupt");
	assert_string_equal(store_code_name(STORE_CONFLICT), "conflict");
	assert_string_equal(store_code_name(STORE_IO), "io");
	assert_string_equal(store_code_name(STORE_ERR), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hub_store_open__a_path_and_sqlite_prefix_open_the_same_sqlite_file, setup, teardown),
		cmocka_unit_test_setup_teardown(hub_store_open__postgres_url_goes_to_postgres_never_to_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(hub_store_open__unknown_scheme_or_nothing_is_refused_with_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(hub_store_open__a_file_that_is_not_a_database_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(store__write_on_a_stale_snapshot_is_a_conflict, setup, teardown),
		cmocka_unit_test(store_code_name__names_every_code),
		cmocka_unit_test(store_side_path__beside_an_sqlite_file_and_in_the_state_dir_for_postgres),
		cmocka_unit_test_setup_teardown(store_serving_lock__one_hub_serves_an_sqlite_file_several_serve_postgres, setup, teardown),
		cmocka_unit_test_setup_teardown(store_copy__a_postgres_database_is_for_postgres_tools, setup, teardown),
		cmocka_unit_test_setup_teardown(store_set_aside__moves_the_database_with_its_log_and_put_in_place_replaces_it, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
