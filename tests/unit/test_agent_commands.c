/*
 * test_agent_commands.c — the data commands as the office uses them: init (by unit id
 * or by official code), config, add/set/rm/show/list with validation and Vietnamese
 * refusals, import (all or nothing, every bad line with its number), export (BOM,
 * CRLF) and an export→import round trip with Vietnamese text, schema, backup.
 *
 * Commands are called as functions with an argv; their stdout and stderr are caught
 * in files (dup2, which Windows has too). LC_ALL is set to Vietnamese so messages are
 * predictable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "ids.h"
#include "rm_tree.h"
#include "store.h"
#include "validate.h"

#define UNIT "0190f3a2-0000-7000-8000-0000000000c1"
#define BRANCH "0190f3a2-0000-7000-8000-0000000000b1"
#define OTHER "0190f3a2-0000-7000-8000-0000000000ff"
#define OUT_MAX 65536
#define MAX_ARGS 32

struct fixture {
	char dir[64];
	char db[128];
	char out[OUT_MAX]; /* stdout of the last command */
	char err[OUT_MAX]; /* stderr of the last command */
};

static struct fixture *fx; /* the current test's fixture, for run() */

#ifndef O_BINARY
/* POSIX has no text mode. Windows: the caught output gets the bytes as written, as the
 * agent's own stdout does (plat_init makes it binary), not "\n" turned into "\r\n". */
#define O_BINARY 0
#endif


static void slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got = 0;
	if (f) {
		got = fread(buf, 1, n - 1, f);
		fclose(f);
	}
	buf[got] = '\0';
}

/* Runs fn with the NULL-terminated arguments (argv[0] = the command name); catches
 * stdout and stderr into fx->out / fx->err. Returns the exit code. */
static int run(int (*fn)(int, char **), ...)
{
	char *argv[MAX_ARGS];
	int argc = 0;
	va_list ap;
	va_start(ap, fn);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < MAX_ARGS - 1)
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	argv[argc] = NULL;

	char po[160], pe[160];
	snprintf(po, sizeof po, "%s/.stdout", fx->dir);
	snprintf(pe, sizeof pe, "%s/.stderr", fx->dir);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC | O_BINARY, 0600);
	int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC | O_BINARY, 0600);
	assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	slurp(po, fx->out, sizeof fx->out);
	slurp(pe, fx->err, sizeof fx->err);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-cmd-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/agent.db", f->dir);
	fx = f;
	*state = f;
	if (run(cmd_init, "init", "--db", f->db, "--unit", UNIT, NULL) != EXIT_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_tree(f->dir);
	free(f);
	fx = NULL;
	return 0;
}

static int64_t query_int(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void query_text(const char *db_path, const char *sql, char *buf, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	buf[0] = '\0';
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The id printed by add (first line of stdout), copied into id. */
static void printed_id(char id[IDS_UUID_TEXT])
{
	assert_true(strlen(fx->out) >= 36);
	memcpy(id, fx->out, 36);
	id[36] = '\0';
	assert_true(ids_uuid_valid(id));
}

/* ---- init, config ---- */

static void test_agent_commands__init_creates_the_database_and_prints_the_agent_id(void **state)
{
	struct fixture *f = *state;
	char other[160];
	snprintf(other, sizeof other, "%s/second.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", other, "--unit", UNIT, "--hub", "https://hub.example",
			     NULL),
			 EXIT_OK);
	assert_non_null(strstr(f->out, "Mã máy: "));
	assert_non_null(strstr(f->out, UNIT));
	struct store *s = NULL;
	char err[256];
	assert_int_equal(store_open(other, &s, err, sizeof err), 0);
	assert_non_null(strstr(f->out, store_agent_id(s)));
	store_close(s);
	/* never over an existing database */
	assert_int_equal(run(cmd_init, "init", "--db", other, "--unit", UNIT, NULL), EXIT_CANTCREAT);
	/* usage errors */
	assert_int_equal(run(cmd_init, "init", "--db", other, NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_init, "init", "--db", other, "--unit", "không phải mã", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_init, "init", "--db", other, "--unit", UNIT, "--hub", "http://hub.example", NULL),
			 EXIT_USAGE);
}

static void test_agent_commands__init_by_code_waits_for_the_unit(void **state)
{
	struct fixture *f = *state;
	char other[160];
	snprintf(other, sizeof other, "%s/bycode.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", other, "--unit", "22918", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "22918"));
	assert_int_equal(run(cmd_add, "add", "--db", other, "person", "full_name=An", NULL), EXIT_CONFIG);
	assert_non_null(strstr(f->err, "22918"));
	assert_int_equal(run(cmd_config, "config", "--db", other, "--unit", UNIT, NULL), EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", other, "person", "full_name=An", NULL), EXIT_OK);
	/* the unit is set once */
	assert_int_equal(run(cmd_config, "config", "--db", other, "--unit", OTHER, NULL), EXIT_DATAERR);
}

static void test_agent_commands__config_sets_values_and_masks_the_token(void **state)
{
	struct fixture *f = *state;
	char token[IDS_TOKEN_TEXT];
	assert_int_equal(ids_token_new(token), 0);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--hub", "https://hub.example/", "--token", token,
			     "--batch-bytes", "16384", "--backup-keep-days", "14", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "https://hub.example/"));
	assert_non_null(strstr(f->out, "16384"));
	assert_null(strstr(f->out, token));
	assert_non_null(strstr(f->out, token + strlen(token) - 4));
	/* KEY VALUE form too */
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "hub_url", "https://other.example", NULL), EXIT_OK);
	char v[128];
	query_text(f->db, "SELECT value FROM lk_config WHERE key = 'hub_url'", v, sizeof v);
	assert_string_equal(v, "https://other.example");
	/* refused values leave the settings alone */
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--hub", "ftp://x", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--token", "secret", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--batch-bytes", "12", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--bogus", "1", NULL), EXIT_USAGE);
	query_text(f->db, "SELECT value FROM lk_config WHERE key = 'hub_url'", v, sizeof v);
	assert_string_equal(v, "https://other.example");
	/* an empty value removes a setting */
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--hub", "", NULL), EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_config WHERE key = 'hub_url'"), 0);
}

static void test_agent_commands__missing_database_is_exit_66(void **state)
{
	struct fixture *f = *state;
	char none[160];
	snprintf(none, sizeof none, "%s/none.db", f->dir);
	assert_int_equal(run(cmd_list, "list", "--db", none, "person", NULL), EXIT_NOINPUT);
	assert_non_null(strstr(f->err, "lienket-agent init"));
}

/* ---- add, set, rm, show, list ---- */

static void test_agent_commands__add_prints_the_new_id_and_journals_it(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], sql[256];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Thị Hoa", "birth_year=1995",
			     "gender=nu", NULL),
			 EXIT_OK);
	printed_id(id);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM lk_journal WHERE row_id = '%s' AND op = 'i' AND owner = '" UNIT "'", id);
	assert_int_equal(query_int(f->db, sql), 1);
	snprintf(sql, sizeof sql, "SELECT birth_year FROM person WHERE id = '%s'", id);
	assert_int_equal(query_int(f->db, sql), 1995);
}

static void test_agent_commands__add_refuses_bad_values_with_every_reason(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=A", "birth_year=1800", "gender=male",
			     "phone=012345678901234567890", NULL),
			 EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Năm sinh (birth_year)"));
	assert_non_null(strstr(f->err, "Giới tính (gender)"));
	assert_non_null(strstr(f->err, "Điện thoại (phone)"));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=joint", "held_on=2021-02-30", NULL),
			 EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Ngày tổ chức (held_on)"));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=joint", NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "held_on"));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "birth_year=nineteen", "full_name=A", NULL),
			 EXIT_DATAERR);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 0);
}

static void test_agent_commands__add_refuses_unknown_names_and_hub_only_tables(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "persons", "full_name=A", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "name=A", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "id=" OTHER, "full_name=A", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=A", "full_name=B", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "unit_event", "kind=close", "of_unit=" UNIT,
			     "effective_on=2025-07-01", NULL),
			 EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Tỉnh đoàn"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 0);
}

static void test_agent_commands__a_mistyped_table_or_field_gets_did_you_mean(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meting", "kind=joint", NULL), EXIT_USAGE);
	assert_non_null(strstr(f->err, "Có phải ý bạn là 'meeting'"));
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "persn", NULL), EXIT_USAGE);
	assert_non_null(strstr(f->err, "Có phải ý bạn là 'person'"));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kinds=joint", NULL), EXIT_USAGE);
	assert_non_null(strstr(f->err, "Có phải ý bạn là 'kind' (Loại cuộc họp)"));
	assert_non_null(strstr(f->err, "held_on (Ngày tổ chức)")); /* the fields are listed */
	/* nothing near: no guess, still the list */
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "zzzzzz=1", NULL), EXIT_USAGE);
	assert_null(strstr(f->err, "Có phải"));
	assert_non_null(strstr(f->err, "held_on (Ngày tổ chức)"));
}

/* The command line's side of record.h: a link by name, a date day first, a choice by
 * label in one add; two people of one name refused with exit 65 and both listed. */
static void test_agent_commands__add_links_by_name_with_dates_and_labels(void **state)
{
	struct fixture *f = *state;
	char a98[IDS_UUID_TEXT], a01[IDS_UUID_TEXT], got[64];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Văn An", "birth_year=1998", NULL),
			 EXIT_OK);
	printed_id(a98);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Văn An", "birth_year=2001", NULL),
			 EXIT_OK);
	printed_id(a01);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "support", "person_id=Nguyễn Văn An", "kind=Vay vốn",
			     "on_date=14/3/2021", NULL),
			 EXIT_DATAERR);
	assert_non_null(strstr(f->err, a98));
	assert_non_null(strstr(f->err, a01));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "support", "person_id=nguyen van an (1998)", "kind=Vay vốn",
			     "on_date=14/3/2021", NULL),
			 EXIT_OK);
	query_text(f->db, "SELECT person_id || ' ' || kind || ' ' || on_date FROM support", got, sizeof got);
	char want[64];
	snprintf(want, sizeof want, "%s loan 2021-03-14", a98);
	assert_string_equal(got, want);
}

/* list filters are written like values: a date day first, a choice by label, a person
 * by name; they compare with what is stored. */
static void test_agent_commands__list_filters_by_dates_labels_and_names(void **state)
{
	struct fixture *f = *state;
	char hoa[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=giao_ban", "held_on=2021-03-14", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=joint", "held_on=2021-03-14", NULL), EXIT_OK);
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "meeting", "held_on=14/3/2021", "kind=Giao ban", NULL),
			 EXIT_OK);
	assert_non_null(strstr(f->out, "1 bản ghi."));
	assert_non_null(strstr(f->out, "giao_ban\t2021-03-14"));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Thị Hoa", NULL), EXIT_OK);
	printed_id(hoa);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "insurance_card", "person_id=" "Nguyễn Thị Hoa",
			     "valid_from=1/1/2021", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "insurance_card", "person_id=nguyen thi hoa", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, hoa));
	assert_non_null(strstr(f->out, "1 bản ghi."));
	/* an impossible date is said, not silently matched by nothing */
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "meeting", "held_on=31/02/2021", NULL), EXIT_USAGE);
	assert_non_null(strstr(f->err, "chỉ có 28 ngày"));
}

static void test_agent_commands__natural_key_rows_get_the_derived_id_once(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], want[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "year_record", "year=2021", "rating=tot", NULL), EXIT_OK);
	printed_id(id);
	const struct schema_table *t = schema_table_find("year_record", SCHEMA_VERSION);
	struct field key[2] = {
		{ "unit_id", { .kind = VALUE_TEXT, .s = UNIT, .len = 36 } },
		{ "year", { .kind = VALUE_INT, .i = 2021 } },
	};
	assert_int_equal(validate_natural_id(t, key, 2, want), 0);
	assert_string_equal(id, want);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "year_record", "year=2021", NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "đã có"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM year_record"), 1);
}

static void test_agent_commands__add_for_a_branch_below_the_unit(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "unit_id=" BRANCH, "kind=branch",
			     "held_on=2021-03-14", NULL),
			 EXIT_DATAERR);
	assert_non_null(strstr(f->err, BRANCH));
	/* the commune office creates the branch and links it under the commune */
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "unit_parent", "of_unit=" BRANCH, "parent_id=" UNIT,
			     "valid_from=2020-01-01", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "unit_id=" BRANCH, "kind=branch",
			     "held_on=2021-03-14", "commune_secretary_attended=1", NULL),
			 EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal WHERE tbl = 'meeting' AND owner = '" BRANCH "'"), 1);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "unit_id=" OTHER, "kind=branch",
			     "held_on=2021-03-14", NULL),
			 EXIT_DATAERR);
}

static void test_agent_commands__set_changes_only_what_is_given(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], sql[256], fields[256];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", "phone=1", NULL), EXIT_OK);
	printed_id(id);
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "person", id, "phone=0912345678", "birth_year=", NULL),
			 EXIT_OK);
	assert_non_null(strstr(f->out, "Đã sửa"));
	query_text(f->db, "SELECT fields FROM lk_journal ORDER BY seq DESC LIMIT 1", fields, sizeof fields);
	assert_string_equal(fields, "{\"phone\":\"0912345678\"}");
	/* the same values again: nothing changes, nothing is journaled */
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "person", id, "phone=0912345678", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "Không có gì thay đổi"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 2);
	/* refusals */
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "person", id, "full_name=", NULL), EXIT_DATAERR);
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "person", id, "unit_id=" OTHER, NULL), EXIT_DATAERR);
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "person", OTHER, "phone=1", NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Không tìm thấy"));
	snprintf(sql, sizeof sql, "SELECT full_name || unit_id FROM person WHERE id = '%s'", id);
	query_text(f->db, sql, fields, sizeof fields);
	assert_string_equal(fields, "An" UNIT);
}

static void test_agent_commands__set_refuses_a_key_change(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "party", "person_id=" OTHER, "step=introduced",
			     "on_date=2021-05-01", NULL),
			 EXIT_OK);
	printed_id(id);
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "party", id, "step=admitted", NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "khóa"));
	assert_int_equal(run(cmd_set, "set", "--db", f->db, "party", id, "on_date=2021-06-01", NULL), EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 2);
}

static void test_agent_commands__rm_removes_and_journals(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", NULL), EXIT_OK);
	printed_id(id);
	assert_int_equal(run(cmd_rm, "rm", "--db", f->db, "person", id, NULL), EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal WHERE op = 'd'"), 1);
	assert_int_equal(run(cmd_rm, "rm", "--db", f->db, "person", id, NULL), EXIT_DATAERR);
	assert_int_equal(run(cmd_rm, "rm", "--db", f->db, "person", "not-an-id", NULL), EXIT_DATAERR);
}

/* ---- a row that vanishes under `rm` (issue 12 C) ----
 * Every connection this process opens gets a statement trace (sqlite3_auto_extension).
 * When `rm` starts its first statement that begins a transaction or deletes from the
 * table, the row is deleted first by another connection, as a pull would (applying = 1:
 * nothing journaled), unless `rm` already holds the write lock. */
static struct {
	const char *db, *id;
	int armed, fired, vanished;
} vanish;

static int vanish_trace(unsigned type, void *ctx, void *p, void *x)
{
	(void)ctx;
	(void)p;
	const char *sql = x;
	if (type != SQLITE_TRACE_STMT || !vanish.armed || vanish.fired || !sql)
		return 0;
	if (strncmp(sql, "BEGIN", 5) != 0 && strncmp(sql, "DELETE FROM \"person\"", 20) != 0)
		return 0;
	vanish.fired = 1;
	sqlite3 *other = NULL;
	char q[256];
	snprintf(q, sizeof q,
		 "BEGIN IMMEDIATE; UPDATE lk_state SET applying = 1; DELETE FROM person WHERE id = '%s';"
		 " UPDATE lk_state SET applying = 0; COMMIT;",
		 vanish.id);
	if (sqlite3_open_v2(vanish.db, &other, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(other, 0) == SQLITE_OK &&
	    sqlite3_exec(other, q, NULL, NULL, NULL) == SQLITE_OK)
		vanish.vanished = 1;
	else
		sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	return 0;
}

static int vanish_init(sqlite3 *db, char **err, const struct sqlite3_api_routines *api)
{
	(void)err;
	(void)api;
	return sqlite3_trace_v2(db, SQLITE_TRACE_STMT, vanish_trace, NULL) == SQLITE_OK ? SQLITE_OK : SQLITE_ERROR;
}

static void test_agent_commands__rm_of_a_row_that_vanished_fails_and_journals_nothing(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", NULL), EXIT_OK);
	printed_id(id);
	int64_t entries = query_int(f->db, "SELECT count(*) FROM lk_journal");
	memset(&vanish, 0, sizeof vanish);
	vanish.db = f->db;
	vanish.id = id;
	assert_int_equal(sqlite3_auto_extension((void (*)(void))vanish_init), SQLITE_OK);
	vanish.armed = 1;
	int rc = run(cmd_rm, "rm", "--db", f->db, "person", id, NULL);
	vanish.armed = 0;
	sqlite3_reset_auto_extension();
	assert_true(vanish.fired);
	assert_true(vanish.vanished); /* before rm held the lock: the row was gone */
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 0);
	/* nothing was deleted by rm: it says so and journals nothing */
	assert_int_equal(rc, EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Không tìm thấy"));
	assert_null(strstr(f->out, "Đã xóa"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), entries);
}

static void test_agent_commands__show_prints_vietnamese_labels(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=joint", "held_on=2021-03-14",
			     "commune_secretary_attended=1", "concerns=Thiếu kinh phí", NULL),
			 EXIT_OK);
	printed_id(id);
	assert_int_equal(run(cmd_show, "show", "--db", f->db, "meeting", id, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "Loại cuộc họp (kind): Sinh hoạt liên chi đoàn (joint)"));
	assert_non_null(strstr(f->out, "Ngày tổ chức (held_on): 2021-03-14"));
	assert_non_null(strstr(f->out, "Bí thư đoàn xã dự (commune_secretary_attended): có"));
	assert_non_null(strstr(f->out, "Tâm tư, kiến nghị (concerns): Thiếu kinh phí"));
	assert_int_equal(run(cmd_show, "show", "--db", f->db, "meeting", OTHER, NULL), EXIT_DATAERR);
}

static void test_agent_commands__list_filters_and_limits(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", "gender=nam", NULL), EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Bình", "gender=nu", NULL), EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Chi", "gender=nu", "birth_year=1999", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "gender=nu", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "Bình"));
	assert_non_null(strstr(f->out, "Chi"));
	assert_null(strstr(f->out, "An\t"));
	assert_non_null(strstr(f->out, "2 bản ghi"));
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "birth_year=1999", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "1 bản ghi"));
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "birth_year=", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "2 bản ghi"));
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "--limit", "1", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "1 bản ghi"));
	assert_non_null(strstr(f->out, "--limit"));
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "--limit", "0", NULL), EXIT_USAGE);
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", "birth_year=abc", NULL), EXIT_USAGE);
}

/* ---- import, export ---- */

static void test_agent_commands__import_inserts_a_whole_excel_file(void **state)
{
	struct fixture *f = *state;
	char csv[160];
	snprintf(csv, sizeof csv, "%s/people.csv", f->dir);
	write_file(csv, "\xEF\xBB\xBF" "full_name,birth_year,gender,phone\r\n"
			"Nguyễn Văn Ánh,1990,nam,\r\n"
			"\"Trần Thị Bé, con\",1995,nu,\"0912\"\r\n"
			"\"Lê \"\"Út\"\"\",,,\r\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "3 thêm mới"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 3);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person WHERE full_name = 'Trần Thị Bé, con' AND phone = '0912'"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person WHERE full_name = 'Lê \"Út\"' AND birth_year IS NULL"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal WHERE op = 'i'"), 3);
}

static void test_agent_commands__import_reports_every_bad_line_and_imports_nothing(void **state)
{
	struct fixture *f = *state;
	char csv[160];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Đã có", NULL), EXIT_OK);
	snprintf(csv, sizeof csv, "%s/bad.csv", f->dir);
	write_file(csv, "full_name,birth_year,gender\n"       /* 1 */
			"Tốt,1990,nam\n"                      /* 2 */
			"\"Hai\ndòng\",1991,nu\n"             /* 3-4: good, spans two lines */
			"Sai giới tính,1992,male\n"           /* 5 */
			"Tốt nữa,1993,\n"                     /* 6 */
			"Sai năm,năm nay,nam\n"               /* 7 */
			"Thiếu cột,1990\n"                    /* 8 */
			"\"ngoặc\"sai,1990,nam\n"             /* 9 */
			",1990,nam\n");                       /* 10: required name missing */
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Dòng 5: Giới tính (gender)"));
	assert_non_null(strstr(f->err, "Dòng 7: Năm sinh (birth_year)"));
	assert_non_null(strstr(f->err, "Dòng 8: có 2 cột"));
	assert_non_null(strstr(f->err, "Dòng 9: "));
	assert_non_null(strstr(f->err, "Dòng 10: Họ và tên (full_name)"));
	assert_null(strstr(f->err, "Dòng 2:"));
	assert_null(strstr(f->err, "Dòng 3:"));
	assert_null(strstr(f->err, "Dòng 6:"));
	assert_non_null(strstr(f->err, "5 dòng có lỗi"));
	/* all or nothing: only the row added before */
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 1);
}

static void test_agent_commands__import_refuses_an_unknown_header(void **state)
{
	struct fixture *f = *state;
	char csv[160];
	snprintf(csv, sizeof csv, "%s/header.csv", f->dir);
	write_file(csv, "full_name,ho_ten\nAn,An\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Dòng 1: "));
	assert_non_null(strstr(f->err, "ho_ten"));
	snprintf(csv, sizeof csv, "%s/none.csv", f->dir);
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_NOINPUT);
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "unit_event", csv, NULL), EXIT_DATAERR);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 0);
}

static void test_agent_commands__import_with_ids_updates_those_rows(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT], csv[160], text[512], fields[128];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", "phone=1", NULL), EXIT_OK);
	printed_id(id);
	snprintf(csv, sizeof csv, "%s/upd.csv", f->dir);
	snprintf(text, sizeof text, "id,full_name,phone\n%s,An,2\n,Mới,\n", id);
	write_file(csv, text);
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "1 thêm mới, 1 sửa"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 2);
	query_text(f->db, "SELECT fields FROM lk_journal WHERE op = 'u'", fields, sizeof fields);
	assert_string_equal(fields, "{\"phone\":\"2\"}");
}

static void test_agent_commands__natural_key_import_twice_does_not_double(void **state)
{
	struct fixture *f = *state;
	char csv[160];
	snprintf(csv, sizeof csv, "%s/years.csv", f->dir);
	write_file(csv, "year,rating,youth_gathered,youth_in_area\n2021,tot,120,200\n2022,xuat_sac,150,210\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "year_record", csv, NULL), EXIT_OK);
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "year_record", csv, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "2 không đổi"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM year_record"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 2);
}

static void test_agent_commands__export_writes_bom_and_crlf(void **state)
{
	struct fixture *f = *state;
	char out[160], text[4096];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Hà, \"Nội\"", NULL), EXIT_OK);
	snprintf(out, sizeof out, "%s/out.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "person", "--out", out, NULL), EXIT_OK);
	slurp(out, text, sizeof text);
	static const char header[] = "\xEF\xBB\xBF" "Mã,Đơn vị,Đơn vị (mã),Họ và tên,Năm sinh,Giới tính,Điện thoại\r\n";
	assert_memory_equal(text, header, sizeof header - 1);
	assert_non_null(strstr(text, ",\"Hà, \"\"Nội\"\"\",,,\r\n"));
	/* to stdout as well */
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "person", NULL), EXIT_OK);
	assert_string_equal(f->out, text);
}

static void test_agent_commands__export_then_import_round_trips_vietnamese_text(void **state)
{
	struct fixture *f = *state;
	char out[160], second[160];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=joint", "held_on=2021-03-14",
			     "attendees=23", "commune_secretary_attended=1",
			     "concerns=Thiếu kinh phí, \"chỗ họp\"\nvà máy chiếu", "follow_up=Đã đề nghị xã hỗ trợ", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "meeting", "kind=giao_ban", "held_on=2021-06-30", NULL),
			 EXIT_OK);
	snprintf(out, sizeof out, "%s/meetings.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "meeting", "--out", out, NULL), EXIT_OK);

	/* into the same database: every row is unchanged, nothing journaled */
	int64_t entries = query_int(f->db, "SELECT count(*) FROM lk_journal");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "meeting", out, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "2 không đổi"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), entries);

	/* into another laptop of the same unit: the same rows, ids included */
	snprintf(second, sizeof second, "%s/second.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", second, "--unit", UNIT, NULL), EXIT_OK);
	assert_int_equal(run(cmd_import, "import", "--db", second, "meeting", out, NULL), EXIT_OK);
	static const char digest[] =
		"SELECT group_concat(id || '|' || kind || '|' || held_on || '|' || coalesce(attendees, '') || '|'"
		" || coalesce(commune_secretary_attended, '') || '|' || coalesce(concerns, '') || '|'"
		" || coalesce(follow_up, ''), '#') FROM (SELECT * FROM meeting ORDER BY id)";
	char a[2048], b[2048];
	query_text(f->db, digest, a, sizeof a);
	query_text(second, digest, b, sizeof b);
	assert_string_equal(a, b);
	assert_non_null(strstr(b, "Thiếu kinh phí, \"chỗ họp\"\nvà máy chiếu"));
}

static void test_agent_commands__semicolon_export_imports_back(void **state)
{
	struct fixture *f = *state;
	char out[160], second[160], text[1024];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Hồ; Thị, Mai", "birth_year=2001", NULL),
			 EXIT_OK);
	snprintf(out, sizeof out, "%s/semi.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "person", "--out", out, "--sep", ";", NULL), EXIT_OK);
	slurp(out, text, sizeof text);
	assert_non_null(strstr(text, "Mã;Đơn vị;Đơn vị (mã);Họ và tên;Năm sinh;Giới tính;Điện thoại\r\n"));
	assert_non_null(strstr(text, ";\"Hồ; Thị, Mai\";2001;;\r\n"));
	snprintf(second, sizeof second, "%s/second.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", second, "--unit", UNIT, NULL), EXIT_OK);
	assert_int_equal(run(cmd_import, "import", "--db", second, "person", out, NULL), EXIT_OK);
	assert_int_equal(query_int(second, "SELECT count(*) FROM person WHERE full_name = 'Hồ; Thị, Mai' AND birth_year = 2001"), 1);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "person", "--sep", "|", NULL), EXIT_USAGE);
}

/* ---- CSV as offices write it (issue 13) ---- */

/* Two people of one name, a branch with a name and an official code; ids into out. */
static void add_people_and_branch(struct fixture *f, char a98[IDS_UUID_TEXT], char a01[IDS_UUID_TEXT],
				  char branch[IDS_UUID_TEXT])
{
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Văn An", "birth_year=1998", NULL),
			 EXIT_OK);
	printed_id(a98);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Nguyễn Văn An", "birth_year=2001", NULL),
			 EXIT_OK);
	printed_id(a01);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "unit", "opened_on=1/1/2019", NULL), EXIT_OK);
	printed_id(branch);
	char of[64];
	snprintf(of, sizeof of, "of_unit=%s", branch);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "unit_name", of, "name=Thôn Bình Hưng", "code=TBH01",
			     "kind=Chi đoàn thôn, khu phố", "valid_from=01/01/2019", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "unit_parent", of, "parent_id=" UNIT, "valid_from=1/1/2019",
			     NULL),
			 EXIT_OK);
}

/* What Excel writes on a Vietnamese Windows with "CSV UTF-8": a BOM, ';', CRLF, the
 * column headings as the office typed them, dates day first, choices and links by
 * name. */
static void test_agent_commands__import_reads_a_csv_as_excel_writes_it(void **state)
{
	struct fixture *f = *state;
	char a98[IDS_UUID_TEXT], a01[IDS_UUID_TEXT], branch[IDS_UUID_TEXT], csv[160], got[512], want[512];
	add_people_and_branch(f, a98, a01, branch);
	snprintf(csv, sizeof csv, "%s/excel.csv", f->dir);
	write_file(csv, "\xEF\xBB\xBF" "Người;Chức vụ;Tại đơn vị;Từ ngày;Đến ngày\r\n"
			"Nguyễn Văn An (1998);Bí thư chi đoàn;Thôn Bình Hưng;14/3/2021;\r\n"
			"nguyen van an (2001);pho bi thu chi doan;tbh01;01/04/2021;31/12/2021\r\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "role", csv, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "2 thêm mới"));
	query_text(f->db,
		   "SELECT group_concat(person_id || '|' || role || '|' || of_unit || '|' || term_from || '|'"
		   " || coalesce(term_until, ''), '#') FROM (SELECT * FROM role ORDER BY term_from)",
		   got, sizeof got);
	snprintf(want, sizeof want, "%s|branch_secretary|%s|2021-03-14|#%s|branch_deputy|%s|2021-04-01|2021-12-31", a98,
		 branch, a01, branch);
	assert_string_equal(got, want);
	/* a meeting file: headings without diacritics, a yes/no column, the host by name */
	write_file(csv, "\xEF\xBB\xBF" "loai cuoc hop;ngay to chuc;Chi đoàn đăng cai;Bí thư đoàn xã dự;Số người dự\r\n"
			"Sinh hoạt liên chi đoàn;14/03/2021;Thôn Bình Hưng;có;23\r\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "meeting", csv, NULL), EXIT_OK);
	query_text(f->db, "SELECT kind || '|' || held_on || '|' || host_branch_id || '|' || commune_secretary_attended"
			  " || '|' || attendees FROM meeting", got, sizeof got);
	snprintf(want, sizeof want, "joint|2021-03-14|%s|1|23", branch);
	assert_string_equal(got, want);
}

/* Two members named "Nguyễn Văn An" are normal: the name alone is a line error that
 * lists both, and nothing of the file is imported. */
static void test_agent_commands__an_ambiguous_name_in_a_csv_is_a_line_error_listing_both(void **state)
{
	struct fixture *f = *state;
	char a98[IDS_UUID_TEXT], a01[IDS_UUID_TEXT], branch[IDS_UUID_TEXT], csv[160];
	add_people_and_branch(f, a98, a01, branch);
	int64_t entries = query_int(f->db, "SELECT count(*) FROM lk_journal");
	snprintf(csv, sizeof csv, "%s/amb.csv", f->dir);
	write_file(csv, "person_id,kind,on_date\n"
			"Nguyễn Văn An (2001),Vay vốn,1/2/2021\n"
			"Nguyễn Văn An,Hội thảo,2/2/2021\n"
			"Nguyễn Văn Anh,Hội thảo,2/2/2021\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "support", csv, NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "Dòng 3: Người (person_id): có 2 người tên 'Nguyễn Văn An'"));
	assert_non_null(strstr(f->err, a98));
	assert_non_null(strstr(f->err, a01));
	assert_non_null(strstr(f->err, "Dòng 4: Người (person_id): không tìm thấy 'Nguyễn Văn Anh'"));
	assert_non_null(strstr(f->err, "Không nhập dòng nào: 2 dòng có lỗi"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM support"), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), entries);
}

/* Excel's plain "CSV" on a Vietnamese Windows writes Windows-1258, tone marks as
 * combining bytes: read as the same text, stored NFC. */
static void test_agent_commands__a_windows_1258_csv_imports_as_its_text(void **state)
{
	struct fixture *f = *state;
	char csv[160], got[256];
	snprintf(csv, sizeof csv, "%s/cp1258.csv", f->dir);
	/* "Họ và tên;Năm sinh;Giới tính\r\nNguyễn Thị Hoa;1999;Nữ\r\nĐỗ Văn Ưng;2000;nam\r\n" as
	 * glibc's `iconv -f UTF-8 -t WINDOWS-1258` writes it (bytes, not converted at run
	 * time: the suite runs on Windows too, which has no iconv) */
	write_file(csv, "Ho\xf2 v\xe0 t\xean;N\xe3m sinh;Gi\xf5\xeci t\xednh\r\n"
			"Nguy\xea\xden Thi\xf2 Hoa;1999;N\xfd\xde\r\n"
			"\xd0\xf4\xde V\xe3n \xddng;2000;nam\r\n");
	/* the bytes are not UTF-8 and carry the tone as a combining byte (ễ = ê + 0xDE) */
	char raw[256];
	slurp(csv, raw, sizeof raw);
	assert_non_null(strstr(raw, "Nguy\xea\xden"));
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_OK);
	assert_non_null(strstr(f->err, "Windows-1258"));
	query_text(f->db, "SELECT group_concat(full_name || '|' || birth_year || '|' || gender, '#') FROM person", got,
		   sizeof got);
	assert_string_equal(got, "Nguyễn Thị Hoa|1999|nu#Đỗ Văn Ưng|2000|nam");
}

/* A file in the old TCVN3 (ABC) encoding is recognised and refused, never read as
 * garbage; bytes in no known encoding are refused the same way. */
static void test_agent_commands__a_tcvn3_csv_is_refused_whole(void **state)
{
	struct fixture *f = *state;
	char csv[160];
	snprintf(csv, sizeof csv, "%s/tcvn3.csv", f->dir);
	/* "full_name,birth_year\nNguyễn Thị Hoa,1999\nTrần Văn Đức,2000\nLê Thị Hồng,2001\n" as
	 * glibc's `iconv -f UTF-8 -t TCVN5712-1` writes it */
	write_file(csv, "full_name,birth_year\nNguy\xd4n Th\xde Hoa,1999\n"
			"Tr\xc7n V\xa8n \xa7\xf8" "c,2000\nL\xaa Th\xde H\xe5ng,2001\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "TCVN3"));
	assert_non_null(strstr(f->err, "CSV UTF-8"));
	write_file(csv, "full_name\n\x81\x8d\x8f\x90\n");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "person", csv, NULL), EXIT_DATAERR);
	assert_non_null(strstr(f->err, "CSV UTF-8"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), 0);
}

/* Export is what Excel opens (labels, dd/mm/yyyy, names with ids beside them) and what
 * imports back unchanged, row by row; exported again it is the same bytes. */
static void test_agent_commands__export_with_names_imports_back_unchanged(void **state)
{
	struct fixture *f = *state;
	char a98[IDS_UUID_TEXT], a01[IDS_UUID_TEXT], branch[IDS_UUID_TEXT], out[160], again[160], second[160];
	static char text[8192], text2[8192];
	add_people_and_branch(f, a98, a01, branch);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "role", "person_id=Nguyễn Văn An (1998)", "role=branch_secretary",
			     "of_unit=Thôn Bình Hưng", "term_from=14/3/2021", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "role", "person_id=Nguyễn Văn An (2001)", "role=member",
			     "of_unit=TBH01", "term_from=1/4/2021", "term_until=31/12/2021", NULL),
			 EXIT_OK);
	snprintf(out, sizeof out, "%s/roles.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "role", "--out", out, "--sep", ";", NULL), EXIT_OK);
	slurp(out, text, sizeof text);
	assert_non_null(strstr(text, "Người;Người (mã);Chức vụ;Tại đơn vị;Tại đơn vị (mã);Từ ngày;Đến ngày\r\n"));
	char row[512];
	snprintf(row, sizeof row, ";Nguyễn Văn An (1998);%s;Bí thư chi đoàn;Thôn Bình Hưng;%s;14/03/2021;\r\n", a98,
		 branch);
	assert_non_null(strstr(text, row));
	snprintf(row, sizeof row, ";Nguyễn Văn An (2001);%s;Đoàn viên;Thôn Bình Hưng;%s;01/04/2021;31/12/2021\r\n", a01,
		 branch);
	assert_non_null(strstr(text, row));

	int64_t entries = query_int(f->db, "SELECT count(*) FROM lk_journal");
	assert_int_equal(run(cmd_import, "import", "--db", f->db, "role", out, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "2 không đổi"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_journal"), entries);
	snprintf(again, sizeof again, "%s/roles2.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "role", "--out", again, "--sep", ";", NULL), EXIT_OK);
	slurp(again, text2, sizeof text2);
	assert_string_equal(text, text2);

	/* into another laptop of the unit: the same rows, field by field */
	snprintf(second, sizeof second, "%s/second.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", second, "--unit", UNIT, NULL), EXIT_OK);
	assert_int_equal(run(cmd_import, "import", "--db", second, "role", out, NULL), EXIT_OK);
	static const char digest[] =
		"SELECT group_concat(id || '|' || unit_id || '|' || person_id || '|' || role || '|' || of_unit || '|'"
		" || term_from || '|' || coalesce(term_until, ''), '#') FROM (SELECT * FROM role ORDER BY id)";
	char a[2048], b[2048];
	query_text(f->db, digest, a, sizeof a);
	query_text(second, digest, b, sizeof b);
	assert_string_equal(a, b);
}

/* ---- what is shown on the terminal ---- */

/* A name holding terminal escapes (retitle the window, clear the screen, a C1 CSI, a
 * right-to-left override) is shown escaped by `list` and `show`; Vietnamese stays. */
static void test_agent_commands__list_and_show_escape_control_characters(void **state)
{
	struct fixture *f = *state;
	char id[IDS_UUID_TEXT];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person",
			     "full_name=Nguyễn\x1b]0;pwned\x07 Văn\x1b[2J\xc2\x9b" "31m\xe2\x80\xae" "A\tB\nC", NULL),
			 EXIT_OK);
	printed_id(id);
	static const char want[] = "Nguyễn\\x1b]0;pwned\\x07 Văn\\x1b[2J\\u009b31m\\u202eA\\tB\\nC";
	assert_int_equal(run(cmd_list, "list", "--db", f->db, "person", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, want));
	assert_null(strchr(f->out, '\x1b'));
	assert_null(strchr(f->out, '\x07'));
	assert_null(strstr(f->out, "\xc2\x9b"));
	assert_null(strstr(f->out, "\xe2\x80\xae"));
	assert_int_equal(run(cmd_show, "show", "--db", f->db, "person", id, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, want));
	assert_null(strchr(f->out, '\x1b'));
	assert_null(strstr(f->out, "\xc2\x9b"));
}

/* What the hub sent back about a quarantined change (table, id, field) is shown
 * escaped by `status`: a hostile hub cannot drive the office's terminal. */
static void test_agent_commands__status_escapes_what_the_hub_sent(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO lk_quarantine(seq, code, tbl, row_id, field, message, at_ms)"
					  " VALUES(1, 'bad_range', 'meeting', 'x', char(27) || '[2Jattendees',"
					  " 'm', 1)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(run(cmd_status, "status", "--db", f->db, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "\\x1b[2Jattendees"));
	assert_null(strchr(f->out, '\x1b'));
}

/* status tells a wrong clock in days and hours, never "187200 seconds"; a laptop
 * whose rows agreed at the last sync but holds a new change is not "the same as the
 * hub". */
static void test_agent_commands__status_tells_the_clock_in_days_and_hours_and_waits_before_matching(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* the hub is 2 days 3 hours ahead of this laptop; the last sync agreed */
	assert_int_equal(sqlite3_exec(db, "UPDATE lk_state SET offset_ms = (2 * 86400 + 3 * 3600 + 59) * 1000;"
					  "INSERT OR REPLACE INTO lk_config(key, value) VALUES ('checksum_ok', '1'),"
					  " ('last_sync_ms', '1700000000000')",
				       NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(run(cmd_status, "status", "--db", f->db, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "Đồng hồ máy này chậm hơn máy chủ tỉnh 2 ngày 3 giờ."));
	assert_null(strstr(f->out, "giây"));
	assert_non_null(strstr(f->out, "Dữ liệu khớp với máy chủ tỉnh."));
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Chi", NULL), EXIT_OK);
	assert_int_equal(run(cmd_status, "status", "--db", f->db, NULL), EXIT_OK);
	assert_null(strstr(f->out, "Dữ liệu khớp với máy chủ tỉnh."));
	assert_non_null(strstr(f->out, "còn 1 thay đổi chờ gửi"));
	/* ahead by 5 hours 20 minutes */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE lk_state SET offset_ms = -(5 * 3600 + 20 * 60) * 1000", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(run(cmd_status, "status", "--db", f->db, NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "Đồng hồ máy này nhanh hơn máy chủ tỉnh 5 giờ 20 phút."));
}

/* Cells a spreadsheet would read as formulas are exported with a leading apostrophe;
 * importing the file undoes exactly that, also for a name that itself starts with an
 * apostrophe, so a second laptop's export of the imported rows is the same file. */
static void test_agent_commands__formula_cells_round_trip_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	char out[160], out2[160], second[160];
	static char a[8192], b[8192];
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person",
			     "full_name==HYPERLINK(\"http://x.example\",\"Xem\")", "phone=+84912345678", NULL),
			 EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name='=1+1", "phone=-1", NULL), EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name='Tuấn", "phone=@x", NULL), EXIT_OK);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=\tTab", NULL), EXIT_OK);
	snprintf(out, sizeof out, "%s/p.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", f->db, "person", "--out", out, NULL), EXIT_OK);
	slurp(out, a, sizeof a);
	assert_non_null(strstr(a, ",\"'=HYPERLINK(\"\"http://x.example\"\",\"\"Xem\"\")\",,,'+84912345678\r\n"));
	assert_non_null(strstr(a, ",''=1+1,,,'-1\r\n"));
	assert_non_null(strstr(a, ",'Tuấn,,,'@x\r\n"));
	assert_non_null(strstr(a, ",\"'\tTab\",,,\r\n"));

	snprintf(second, sizeof second, "%s/second.db", f->dir);
	assert_int_equal(run(cmd_init, "init", "--db", second, "--unit", UNIT, NULL), EXIT_OK);
	assert_int_equal(run(cmd_import, "import", "--db", second, "person", out, NULL), EXIT_OK);
	assert_int_equal(query_int(second, "SELECT count(*) FROM person WHERE full_name = '''=1+1' AND phone = '-1'"), 1);
	assert_int_equal(query_int(second, "SELECT count(*) FROM person WHERE full_name = '''Tuấn' AND phone = '@x'"), 1);
	assert_int_equal(query_int(second, "SELECT count(*) FROM person WHERE full_name LIKE '=HYPERLINK(%'"
					   " AND phone = '+84912345678'"), 1);
	snprintf(out2, sizeof out2, "%s/p2.csv", f->dir);
	assert_int_equal(run(cmd_export, "export", "--db", second, "person", "--out", out2, NULL), EXIT_OK);
	slurp(out2, b, sizeof b);
	assert_string_equal(a, b);
}

/* ---- schema, backup ---- */

static void test_agent_commands__schema_lists_tables_and_prints_ddl(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_schema, "schema", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "meeting — Cuộc họp, sinh hoạt"));
	assert_non_null(strstr(f->out, "giao_nhiem_vu"));
	assert_int_equal(run(cmd_schema, "schema", "year_record", NULL), EXIT_OK);
	assert_null(strstr(f->out, "meeting —"));
	assert_int_equal(run(cmd_schema, "schema", "--sql", NULL), EXIT_OK);
	assert_non_null(strstr(f->out, "CREATE TABLE lk_journal("));
	assert_int_equal(run(cmd_schema, "schema", "nosuch", NULL), EXIT_USAGE);
}

static void test_agent_commands__backup_writes_a_copy_beside_the_database(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", NULL), EXIT_OK);
	assert_int_equal(run(cmd_backup, "backup", "--db", f->db, NULL), EXIT_OK);
	char path[512];
	char *p = strstr(f->out, f->dir);
	assert_non_null(p);
	snprintf(path, sizeof path, "%s", p);
	path[strcspn(path, "\n")] = '\0';
	if (path[strlen(path) - 1] == '.')
		path[strlen(path) - 1] = '\0';
	assert_int_equal(query_int(path, "SELECT count(*) FROM person"), 1);
	char none[160];
	snprintf(none, sizeof none, "%s/no/such/dir", f->dir);
	assert_int_equal(run(cmd_backup, "backup", "--db", f->db, "--dir", none, NULL), EXIT_CANTCREAT);
}

static void test_agent_commands__first_write_of_the_day_makes_a_backup(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=An", NULL), EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_backup"), 1);
	char path[256];
	query_text(f->db, "SELECT path FROM lk_backup", path, sizeof path);
	assert_int_equal(strncmp(path, f->dir, strlen(f->dir)), 0);
	assert_int_equal(query_int(path, "SELECT count(*) FROM person"), 1);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Bình", NULL), EXIT_OK);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM lk_backup"), 1);
	/* a backup that cannot be made warns but never fails the write */
	char sql[256];
	snprintf(sql, sizeof sql, "%s/missing-dir", f->dir);
	assert_int_equal(run(cmd_config, "config", "--db", f->db, "--backup-dir", sql, NULL), EXIT_OK);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE lk_backup SET made_ms = 0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(run(cmd_add, "add", "--db", f->db, "person", "full_name=Chi", NULL), EXIT_OK);
	assert_non_null(strstr(f->err, "Cảnh báo"));
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM person"), 3);
}

int main(void)
{
	setenv("LC_ALL", "vi_VN.UTF-8", 1);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_agent_commands__init_creates_the_database_and_prints_the_agent_id),
		T(test_agent_commands__init_by_code_waits_for_the_unit),
		T(test_agent_commands__config_sets_values_and_masks_the_token),
		T(test_agent_commands__missing_database_is_exit_66),
		T(test_agent_commands__add_prints_the_new_id_and_journals_it),
		T(test_agent_commands__add_refuses_bad_values_with_every_reason),
		T(test_agent_commands__add_refuses_unknown_names_and_hub_only_tables),
		T(test_agent_commands__a_mistyped_table_or_field_gets_did_you_mean),
		T(test_agent_commands__add_links_by_name_with_dates_and_labels),
		T(test_agent_commands__list_filters_by_dates_labels_and_names),
		T(test_agent_commands__natural_key_rows_get_the_derived_id_once),
		T(test_agent_commands__add_for_a_branch_below_the_unit),
		T(test_agent_commands__set_changes_only_what_is_given),
		T(test_agent_commands__set_refuses_a_key_change),
		T(test_agent_commands__rm_removes_and_journals),
		T(test_agent_commands__rm_of_a_row_that_vanished_fails_and_journals_nothing),
		T(test_agent_commands__show_prints_vietnamese_labels),
		T(test_agent_commands__list_filters_and_limits),
		T(test_agent_commands__import_inserts_a_whole_excel_file),
		T(test_agent_commands__import_reports_every_bad_line_and_imports_nothing),
		T(test_agent_commands__import_refuses_an_unknown_header),
		T(test_agent_commands__import_with_ids_updates_those_rows),
		T(test_agent_commands__natural_key_import_twice_does_not_double),
		T(test_agent_commands__export_writes_bom_and_crlf),
		T(test_agent_commands__export_then_import_round_trips_vietnamese_text),
		T(test_agent_commands__semicolon_export_imports_back),
		T(test_agent_commands__import_reads_a_csv_as_excel_writes_it),
		T(test_agent_commands__an_ambiguous_name_in_a_csv_is_a_line_error_listing_both),
		T(test_agent_commands__a_windows_1258_csv_imports_as_its_text),
		T(test_agent_commands__a_tcvn3_csv_is_refused_whole),
		T(test_agent_commands__export_with_names_imports_back_unchanged),
		T(test_agent_commands__list_and_show_escape_control_characters),
		T(test_agent_commands__status_escapes_what_the_hub_sent),
		T(test_agent_commands__status_tells_the_clock_in_days_and_hours_and_waits_before_matching),
		T(test_agent_commands__formula_cells_round_trip_byte_for_byte),
		T(test_agent_commands__schema_lists_tables_and_prints_ddl),
		T(test_agent_commands__backup_writes_a_copy_beside_the_database),
		T(test_agent_commands__first_write_of_the_day_makes_a_backup),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
