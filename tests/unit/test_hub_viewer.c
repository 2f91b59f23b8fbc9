/*
 * test_hub_viewer.c — viewer accounts (viewer.c) and their sessions (session.c) on a
 * real store, with the clock in the test's hands: passwords kept as argon2id with a
 * fresh salt each, a one-time link that works once and not after 72 hours, failed
 * logins throttled per name (5) and per address (20) until the lock lifts, counts that
 * start over after the window, sessions of an account ended by `viewer passwd` and
 * `viewer rm`, and "remember me" sessions that outlive a working day but not a month.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "session.h"
#include "store.h"
#include "viewer.h"

#define T0 1796600000000LL /* December 2026 */
#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

struct fx {
	char dir[64], path[96];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/lk-viewertest-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
	if (store_sqlite_open(f->path, 1, &f->s, err, sizeof err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];
	f->s->close(f->s);
	const char *suffix[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Adds name (unit "" the province) at now and sets its password through its link. */
static void account(struct store *s, const char *name, const char *password, int64_t now)
{
	char invite[IDS_TOKEN_TEXT], enc[STORE_VIEWER_HASH];
	struct store_viewer v;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_add(s, name, "", now, invite), VIEWER_ADDED);
	assert_int_equal(viewer_hash_password(password, strlen(password), enc), 0);
	assert_int_equal(viewer_invite_use(s, invite, enc, now, &v), 0);
	assert_int_equal(s->commit(s), 0);
}

static void fail_login(struct store *s, const char *name, const char *addr, int64_t now)
{
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_failed(s, name, addr, now), 0);
	assert_int_equal(s->commit(s), 0);
}

static void test_viewer__passwords_are_argon2id_with_a_fresh_salt(void **state)
{
	struct fx *f = *state;
	struct store_viewer a, b, out;
	account(f->s, "an", "cung-mot-mat-khau", T0);
	account(f->s, "binh", "cung-mot-mat-khau", T0);
	assert_int_equal(f->s->viewer_get(f->s, "an", &a), 0);
	assert_int_equal(f->s->viewer_get(f->s, "binh", &b), 0);
	assert_memory_equal(a.password, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
	assert_string_not_equal(a.password, b.password); /* salts differ */
	assert_null(strstr(a.password, "cung-mot-mat-khau"));
	assert_int_equal(viewer_check(f->s, "an", "cung-mot-mat-khau", 17, &out), 0);
	assert_string_equal(out.name, "an");
	assert_int_equal(viewer_check(f->s, "an", "cung-mot-mat-khaU", 17, &out), 1);
	assert_int_equal(viewer_check(f->s, "khong-co", "cung-mot-mat-khau", 17, &out), 1);
	assert_int_equal(viewer_check(f->s, "An", "cung-mot-mat-khau", 17, &out), 1);
}

static void test_viewer__a_one_time_link_works_once_and_not_after_72_hours(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char inv1[IDS_TOKEN_TEXT], inv2[IDS_TOKEN_TEXT], enc[STORE_VIEWER_HASH];
	struct store_viewer v;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_add(s, "chi", "", T0, inv1), VIEWER_ADDED);
	assert_int_equal(viewer_add(s, "chi", "", T0, inv2), VIEWER_EXISTS);
	assert_int_equal(s->commit(s), 0);
	/* no password yet: nothing logs in */
	assert_int_equal(viewer_check(s, "chi", "", 0, &v), 1);
	/* expired: 72 hours later */
	assert_int_equal(viewer_invite_check(s, inv1, T0 + 72 * HOUR, &v), 1);
	assert_int_equal(viewer_invite_check(s, inv1, T0 + 72 * HOUR - 1, &v), 0);
	assert_int_equal(viewer_hash_password("mat-khau-chi-1", 14, enc), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_invite_use(s, inv1, enc, T0 + 72 * HOUR, &v), 1);
	assert_int_equal(viewer_invite_use(s, inv1, enc, T0 + HOUR, &v), 0);
	/* used: never again, even within its time */
	assert_int_equal(viewer_invite_use(s, inv1, enc, T0 + 2 * HOUR, &v), 1);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(viewer_invite_check(s, inv1, T0 + 2 * HOUR, &v), 1);
	assert_int_equal(viewer_check(s, "chi", "mat-khau-chi-1", 14, &v), 0);
	/* a malformed or other secret */
	assert_int_equal(viewer_invite_check(s, "li_x", T0, &v), 1);
	assert_int_equal(viewer_invite_check(s, NULL, T0, &v), 1);
}

static void test_viewer__five_failures_lock_the_name_until_the_lock_lifts(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	int64_t wait = 0, t = T0;
	account(s, "dung", "mat-khau-dung", T0);
	for (int i = 0; i < VIEWER_NAME_FAILURES - 1; i++)
		fail_login(s, "dung", "10.0.0.1", t += 1000);
	assert_int_equal(viewer_throttled(s, "dung", "10.0.0.1", t, &wait), 0);
	fail_login(s, "dung", "10.0.0.2", t += 1000);
	assert_int_equal(viewer_throttled(s, "dung", "10.0.0.3", t + 1, &wait), 1);
	assert_true(wait > VIEWER_LOCK_MS - 10 && wait <= VIEWER_LOCK_MS);
	/* another name from the same address is not locked */
	assert_int_equal(viewer_throttled(s, "an", "10.0.0.1", t + 1, &wait), 0);
	/* the lock lifts VIEWER_LOCK_MS after the last failure */
	assert_int_equal(viewer_throttled(s, "dung", NULL, t + VIEWER_LOCK_MS - 1, &wait), 1);
	assert_int_equal(viewer_throttled(s, "dung", NULL, t + VIEWER_LOCK_MS, &wait), 0);
	/* then a new window: one failure does not lock again, five do */
	t += VIEWER_LOCK_MS;
	fail_login(s, "dung", NULL, t += 1000);
	assert_int_equal(viewer_throttled(s, "dung", NULL, t + 1, &wait), 0);
	for (int i = 1; i < VIEWER_NAME_FAILURES; i++)
		fail_login(s, "dung", NULL, t += 1000);
	assert_int_equal(viewer_throttled(s, "dung", NULL, t + 1, &wait), 1);
	/* a success clears the count */
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_succeeded(s, "dung"), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(viewer_throttled(s, "dung", NULL, t + 2, &wait), 0);
}

static void test_viewer__twenty_failures_lock_the_address_and_old_ones_start_over(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	int64_t wait, t = T0;
	char name[32];
	for (int i = 0; i < VIEWER_ADDR_FAILURES - 1; i++) {
		snprintf(name, sizeof name, "doan-%d", i);
		fail_login(s, name, "10.1.1.1", t += 1000);
	}
	assert_int_equal(viewer_throttled(s, "ai-do", "10.1.1.1", t, &wait), 0);
	fail_login(s, NULL, "10.1.1.1", t += 1000); /* a wrong token counts for the address */
	assert_int_equal(viewer_throttled(s, "ai-do", "10.1.1.1", t + 1, &wait), 1);
	assert_int_equal(viewer_throttled(s, "ai-do", "10.1.1.2", t + 1, &wait), 0);
	/* four failures, then a fifth after the window: the count starts over, no lock */
	t += DAY;
	for (int i = 0; i < VIEWER_NAME_FAILURES - 1; i++)
		fail_login(s, "em", NULL, t += 1000);
	fail_login(s, "em", NULL, t + VIEWER_FAIL_WINDOW_MS);
	assert_int_equal(viewer_throttled(s, "em", NULL, t + VIEWER_FAIL_WINDOW_MS + 1, &wait), 0);
}

static void test_session__viewer_passwd_and_rm_end_the_accounts_sessions(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_viewer v;
	struct session_who who;
	char id1[SESSION_ID_TEXT], id2[SESSION_ID_TEXT], inv[IDS_TOKEN_TEXT];
	account(s, "giang", "mat-khau-giang", T0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_add(s, "huyen", "unit-593", T0, inv), VIEWER_ADDED);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->viewer_get(s, "giang", &v), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(session_start(s, v.key, 0, T0, id1), 0);
	assert_int_equal(s->viewer_get(s, "huyen", &v), 0);
	assert_int_equal(session_start(s, v.key, 1, T0, id2), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(session_check(s, id1, T0 + 1, &who), SESSION_LIVE);
	assert_true(who.account);
	assert_string_equal(who.name, "giang");
	assert_string_equal(who.unit_id, "");
	assert_int_equal(session_check(s, id2, T0 + 1, &who), SESSION_LIVE);
	assert_string_equal(who.unit_id, "unit-593");
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_reset(s, "giang", T0 + 2, inv), 0);
	assert_int_equal(viewer_reset(s, "khong-co", T0 + 2, inv), 1);
	assert_int_equal(viewer_remove(s, "huyen"), 0);
	assert_int_equal(viewer_remove(s, "huyen"), 1);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(session_check(s, id1, T0 + 3, &who), SESSION_ENDED);
	assert_int_equal(session_check(s, id2, T0 + 3, &who), SESSION_ENDED);
	/* passwd cleared the password: the old one no longer logs in */
	assert_int_equal(viewer_check(s, "giang", "mat-khau-giang", 14, &v), 1);
}

static void test_session__remember_me_outlives_a_working_day_but_not_a_month(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_viewer v;
	char plain[SESSION_ID_TEXT], kept[SESSION_ID_TEXT];
	account(s, "khanh", "mat-khau-khanh", T0);
	assert_int_equal(s->viewer_get(s, "khanh", &v), 0);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(session_start(s, v.key, 0, T0, plain), 0);
	assert_int_equal(session_start(s, v.key, 1, T0, kept), 0);
	assert_int_equal(s->commit(s), 0);
	/* 3 hours without a page: the plain session is idle, the remembered one lives */
	assert_int_equal(session_check(s, plain, T0 + 3 * HOUR, NULL), SESSION_ENDED);
	assert_int_not_equal(session_check(s, kept, T0 + 3 * HOUR, NULL), SESSION_ENDED);
	/* used every 6 days, it lives 30 days from the login, not a millisecond more */
	for (int64_t t = T0 + 6 * DAY; t < T0 + SESSION_REMEMBER_MAX_AGE_MS; t += 6 * DAY) {
		assert_int_not_equal(session_check(s, kept, t, NULL), SESSION_ENDED);
		assert_int_equal(s->begin(s), 0);
		assert_int_equal(session_touch(s, kept, t), 0);
		assert_int_equal(s->commit(s), 0);
	}
	assert_int_equal(session_check(s, kept, T0 + SESSION_REMEMBER_MAX_AGE_MS, NULL), SESSION_ENDED);
	/* and a week without a page ends it too */
	char again[SESSION_ID_TEXT];
	int64_t t1 = T0 + 40 * DAY;
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(session_start(s, v.key, 1, t1, again), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_not_equal(session_check(s, again, t1 + SESSION_REMEMBER_IDLE_MS - 1, NULL), SESSION_ENDED);
	assert_int_equal(session_check(s, again, t1 + SESSION_REMEMBER_IDLE_MS, NULL), SESSION_ENDED);
	/* starting a session prunes the ended ones: the plain one is gone from the store */
	char h[65];
	struct store_session x;
	ids_token_hash(plain, h);
	assert_int_equal(s->session_get(s, h, &x), 1);
}

static void test_viewer__login_names_are_lower_case_ascii(void **state)
{
	(void)state;
	assert_true(viewer_name_valid("nguyenvana"));
	assert_true(viewer_name_valid("bt.593_le-an"));
	assert_false(viewer_name_valid(""));
	assert_false(viewer_name_valid(".an"));
	assert_false(viewer_name_valid("Nguyen"));
	assert_false(viewer_name_valid("nguyễn"));
	assert_false(viewer_name_valid("a b"));
	assert_false(viewer_name_valid("a23456789012345678901234567890123")); /* 33 */
	assert_true(viewer_name_valid("a2345678901234567890123456789012"));   /* 32 */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_viewer__passwords_are_argon2id_with_a_fresh_salt),
		T(test_viewer__a_one_time_link_works_once_and_not_after_72_hours),
		T(test_viewer__five_failures_lock_the_name_until_the_lock_lifts),
		T(test_viewer__twenty_failures_lock_the_address_and_old_ones_start_over),
		T(test_session__viewer_passwd_and_rm_end_the_accounts_sessions),
		T(test_session__remember_me_outlives_a_working_day_but_not_a_month),
		T(test_viewer__login_names_are_lower_case_ascii),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
