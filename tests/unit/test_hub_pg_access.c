/*
 * test_hub_pg_access.c — the PostgreSQL back end's sessions, viewer accounts, failed
 * logins, digest mail and flags (store_pg_access.c) on the suite's own server
 * (pg_harness.h; default collation ICU Vietnamese, so an order not asked in byte order
 * shows): each function as store.h says, the lists in byte order as SQLite gives them,
 * and what several hub processes on one database do at once — each process a store
 * handle of its own in a thread here — through the real callers (session.c, viewer.c):
 * failures counted at once all count, a one-time link used at once works once, a
 * logout is never undone by a touch of the same session in another process. And a
 * login name typed in bytes that are not UTF-8 (which PostgreSQL refuses to store) is
 * a failed login like any other, not a server error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_harness.h"
#include "session.h"
#include "store.h"
#include "viewer.h"

#define T0 1796600000000LL /* December 2026 */
#define HOLD_US 300000     /* how long a racing transaction holds on before it commits */

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

struct fx {
	char url[PG_HARNESS_URL];
	struct store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	if (!f || pg_harness_fresh_db(&pg, f->url) != 0 ||
	    hub_store_open(f->url, 1, &f->s, err, sizeof err) != 0) {
		fprintf(stderr, "cannot make a hub on PostgreSQL: %s\n", f ? err : "no memory");
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->s->close(f->s);
	free(f);
	return 0;
}

/* A second "process": another handle on the same database. */
static struct store *other(const struct fx *f)
{
	struct store *s = NULL;
	char err[256];
	if (hub_store_open(f->url, 0, &s, err, sizeof err) != 0)
		fail_msg("second handle: %s", err);
	return s;
}

/* ---- each function ---- */

static void session(struct store *s, const char *hash, const char *token, int64_t made,
		    int64_t seen, int remember)
{
	struct store_session x = { .created_ms = made, .seen_ms = seen, .remember = remember };
	snprintf(x.hash, sizeof x.hash, "%s", hash);
	snprintf(x.token_hash, sizeof x.token_hash, "%s", token);
	assert_int_equal(s->session_put(s, &x), 0);
}

static void test_pg_access__sessions_are_kept_replaced_ended_and_pruned(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_session x;
	struct store_token t = { .kind = STORE_TOKEN_VIEWER, .created_ms = T0 };
	snprintf(t.hash, sizeof t.hash, "%s", "tok-live");
	snprintf(t.prefix, sizeof t.prefix, "%s", "lk_live0000");
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->token_put(s, &t), 0);
	snprintf(t.hash, sizeof t.hash, "%s", "tok-revoked");
	t.revoked_ms = T0;
	assert_int_equal(s->token_put(s, &t), 0);
	session(s, "s-old", "tok-live", T0 - 100, T0 - 100, 0);      /* made too long ago */
	session(s, "s-idle", "tok-live", T0, T0 - 50, 0);            /* unused too long */
	session(s, "s-live", "tok-live", T0, T0, 0);
	session(s, "s-revoked", "tok-revoked", T0, T0, 0);           /* its token revoked */
	session(s, "s-gone", "tok-none", T0, T0, 0);                 /* no such token */
	session(s, "s-remember", "tok-live", T0 - 100, T0 - 100, 1); /* its own bounds */
	session(s, "s-live", "tok-live", T0, T0 + 7, 0);             /* replaced */
	assert_int_equal(s->sessions_prune(s, T0 - 10, T0 - 10), 0);
	assert_int_equal(s->commit(s), 0);

	assert_int_equal(s->session_get(s, "s-live", &x), 0);
	assert_string_equal(x.token_hash, "tok-live");
	assert_int_equal(x.seen_ms, T0 + 7);
	assert_int_equal(x.remember, 0);
	assert_int_equal(s->session_get(s, "s-remember", &x), 0);
	assert_int_equal(x.remember, 1);
	const char *gone[] = { "s-old", "s-idle", "s-revoked", "s-gone", "nothing" };
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		assert_int_equal(s->session_get(s, gone[i], &x), 1);

	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->sessions_prune_long(s, T0 - 10, T0 - 10), 0);
	assert_int_equal(s->session_delete(s, "s-live"), 0);
	assert_int_equal(s->session_delete(s, "s-live"), 0); /* absent: 0 too */
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->session_get(s, "s-remember", &x), 1);
	assert_int_equal(s->session_get(s, "s-live", &x), 1);
}

static int list_viewer(void *ctx, const struct store_viewer *v)
{
	char *out = ctx;
	strcat(out, v->name);
	strcat(out, " ");
	return 0;
}

static int stop_at_second(void *ctx, const struct store_viewer *v)
{
	(void)v;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_pg_access__viewers_in_byte_order_found_by_name_link_and_key(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	/* byte order: '-' < '.' < digits < '_' < letters; Vietnamese collation differs */
	const char *names[] = { "an_1", "an", "an.1", "an-1", "an1", "binh" };
	char listed[256] = "";
	assert_int_equal(s->begin(s), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct store_viewer v = { .invite_expires_ms = T0 + (int64_t)i, .created_ms = T0,
					  .changed_ms = T0 };
		snprintf(v.name, sizeof v.name, "%s", names[i]);
		snprintf(v.key, sizeof v.key, "key-%zu", i);
		snprintf(v.invite_hash, sizeof v.invite_hash, "inv-%zu", i);
		snprintf(v.unit_id, sizeof v.unit_id, "%s", i == 5 ? "unit-x" : "");
		assert_int_equal(s->viewer_put(s, &v), 0);
	}
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->viewers_list(s, list_viewer, listed), 0);
	assert_string_equal(listed, "an an-1 an.1 an1 an_1 binh ");
	int n = 0;
	assert_int_equal(s->viewers_list(s, stop_at_second, &n), 42);

	struct store_viewer v;
	assert_int_equal(s->viewer_by_invite(s, "inv-5", &v), 0);
	assert_string_equal(v.name, "binh");
	assert_string_equal(v.unit_id, "unit-x");
	assert_int_equal(v.invite_expires_ms, T0 + 5);
	assert_int_equal(s->viewer_by_key(s, "key-3", &v), 0);
	assert_string_equal(v.name, "an-1");
	assert_int_equal(s->viewer_by_key(s, "", &v), 1);
	assert_int_equal(s->viewer_get(s, "nobody", &v), 1);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->viewer_by_invite(s, "inv-2", &v), 0); /* inside a write: locked */
	assert_string_equal(v.name, "an.1");
	assert_int_equal(s->viewer_delete(s, "an.1"), 0);
	assert_int_equal(s->viewer_delete(s, "an.1"), 1);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->viewer_by_invite(s, "inv-2", &v), 1);
}

static int list_mail(void *ctx, const char *address, const char *unit)
{
	char *out = ctx;
	strcat(out, unit);
	strcat(out, ":");
	strcat(out, address);
	strcat(out, " ");
	return 0;
}

static int list_digest(void *ctx, const struct store_digest_mail *m)
{
	char *out = ctx;
	assert_null(m->html);
	strcat(out, m->date);
	strcat(out, "/");
	strcat(out, m->unit_id);
	strcat(out, " ");
	return 0;
}

static void test_pg_access__mail_recipients_and_digests_kept_and_listed_in_byte_order(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char out[512] = "";
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->mail_to_add(s, "an@tinh.vn", "U"), 0);
	assert_int_equal(s->mail_to_add(s, "Binh@tinh.vn", "U"), 0);
	assert_int_equal(s->mail_to_add(s, "an@tinh.vn", "U"), 0); /* there already: 0 */
	assert_int_equal(s->mail_to_add(s, "chi@tinh.vn", "a"), 0);
	assert_int_equal(s->mail_to_remove(s, "chi@tinh.vn", "U"), 1);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->mail_to_list(s, NULL, list_mail, out), 0);
	assert_string_equal(out, "U:Binh@tinh.vn U:an@tinh.vn a:chi@tinh.vn ");
	out[0] = '\0';
	assert_int_equal(s->mail_to_list(s, "a", list_mail, out), 0);
	assert_string_equal(out, "a:chi@tinh.vn ");

	struct store_digest_mail m = { .built_ms = T0, .attempts = 2, .last_try_ms = T0 + 1 };
	const char *dates[] = { "2026-12-01", "2026-12-02", "2026-12-02" };
	const char *units[] = { "U", "a", "U" };
	assert_int_equal(s->begin(s), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(m.date, sizeof m.date, "%s", dates[i]);
		snprintf(m.unit_id, sizeof m.unit_id, "%s", units[i]);
		snprintf(m.subject, sizeof m.subject, "Bản tin sáng %d", i);
		snprintf(m.recipients, sizeof m.recipients, "an@tinh.vn");
		m.html = "<p>Chào buổi sáng</p>";
		m.status_csv = "a,b\n";
		m.arrivals_csv = NULL; /* stored as "" */
		m.report_csv = "1,2\n";
		assert_int_equal(s->digest_mail_put(s, &m), 0);
	}
	m.sent_ms = T0 + 9; /* replaced */
	snprintf(m.error, sizeof m.error, "%s", "");
	assert_int_equal(s->digest_mail_put(s, &m), 0);
	assert_int_equal(s->commit(s), 0);
	out[0] = '\0';
	assert_int_equal(s->digest_mails_list(s, list_digest, out), 0);
	assert_string_equal(out, "2026-12-02/U 2026-12-02/a 2026-12-01/U ");
	struct store_digest_mail g;
	assert_int_equal(s->digest_mail_get(s, "2026-12-02", "U", &g), 0);
	assert_string_equal(g.html, "<p>Chào buổi sáng</p>");
	assert_string_equal(g.arrivals_csv, "");
	assert_string_equal(g.subject, "Bản tin sáng 2");
	assert_int_equal(g.sent_ms, T0 + 9);
	assert_int_equal(g.attempts, 2);
	store_digest_mail_release(&g);
	assert_int_equal(s->digest_mail_get(s, "2026-12-03", "U", &g), 1);
}

static void test_pg_access__flags_set_replaced_cleared_resolved_and_counted(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	int64_t n = -1;
	struct store_flag a = { "person", "r1", "dangling", "unit_id", "u-9", NULL };
	struct store_flag b = { "person", "r1", "dangling", NULL, "u-9", "u-8" };
	struct store_flag c = { "person", "r2", "dangling", "unit_id", "u-7", NULL };
	struct store_flag d = { "person", "r1", "stale", "phone", NULL, NULL };
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->flag_set(s, &a, T0), 0);
	assert_int_equal(s->flag_set(s, &a, T0 + 1), 0); /* replaced, not doubled */
	assert_int_equal(s->flag_set(s, &b, T0), 0);
	assert_int_equal(s->flag_set(s, &c, T0), 0);
	assert_int_equal(s->flag_set(s, &d, T0), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->flags_count(s, "dangling", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->flag_resolve(s, "dangling", "u-9"), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->flags_count(s, "dangling", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->flag_clear(s, "person", "r1", "stale"), 0);
	assert_int_equal(s->flag_clear(s, "person", "r2", NULL), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(s->flags_count(s, "stale", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(s->flags_count(s, "dangling", &n), 0);
	assert_int_equal(n, 0);
}

/* ---- several processes at once ---- */

#define RACERS 3
#define FAILURES_EACH 25

struct racer {
	const struct fx *f;
	pthread_barrier_t *go;
	int id;
	const char *invite;
	int rc;
};

static void *count_failures(void *arg)
{
	struct racer *r = arg;
	struct store *s = other(r->f);
	pthread_barrier_wait(r->go);
	r->rc = 0;
	for (int i = 0; i < FAILURES_EACH && r->rc == 0; i++) {
		if (s->begin(s) != 0 || viewer_failed(s, "dung", "10.0.0.1", T0) != 0 ||
		    s->commit(s) != 0)
			r->rc = -1;
	}
	s->close(s);
	return NULL;
}

static void test_pg_access__failures_counted_by_several_processes_at_once_all_count(void **state)
{
	struct fx *f = *state;
	pthread_t th[RACERS];
	struct racer r[RACERS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .f = f, .go = &go, .id = i };
		pthread_create(&th[i], NULL, count_failures, &r[i]);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, 0);
	}
	pthread_barrier_destroy(&go);
	struct store_login_fail x;
	assert_int_equal(f->s->login_fail_get(f->s, "name:dung", &x), 0);
	assert_int_equal(x.failures, RACERS * FAILURES_EACH);
	assert_int_equal(x.first_ms, T0);
	assert_int_equal(f->s->login_fail_get(f->s, "addr:10.0.0.1", &x), 0);
	assert_int_equal(x.failures, RACERS * FAILURES_EACH);
}

static void *use_link(void *arg)
{
	struct racer *r = arg;
	struct store *s = other(r->f);
	struct store_viewer v;
	char enc[STORE_VIEWER_HASH];
	snprintf(enc, sizeof enc, "$argon2id$v=19$m=19456,t=2,p=1$racer%d$x", r->id);
	int began = s->begin(s);
	pthread_barrier_wait(r->go);
	r->rc = began != 0 ? -1 : viewer_invite_use(s, r->invite, enc, T0 + 1, &v);
	usleep(HOLD_US); /* the other process has read the link meanwhile */
	if (began == 0 && s->commit(s) != 0)
		r->rc = -1;
	s->close(s);
	return NULL;
}

static void test_pg_access__a_one_time_link_used_at_once_through_two_processes_works_once(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char invite[IDS_TOKEN_TEXT];
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(viewer_add(s, "hoa", "", T0, invite), VIEWER_ADDED);
	assert_int_equal(s->commit(s), 0);
	pthread_t th[2];
	struct racer r[2];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){ .f = f, .go = &go, .id = i, .invite = invite };
		pthread_create(&th[i], NULL, use_link, &r[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_true(r[i].rc == 0 || r[i].rc == 1);
	}
	pthread_barrier_destroy(&go);
	int used = (r[0].rc == 0) + (r[1].rc == 0), refused = (r[0].rc == 1) + (r[1].rc == 1);
	assert_int_equal(used, 1);
	assert_int_equal(refused, 1);
	struct store_viewer v;
	assert_int_equal(s->viewer_get(s, "hoa", &v), 0);
	assert_string_equal(v.invite_hash, "");
	char want[64];
	snprintf(want, sizeof want, "$argon2id$v=19$m=19456,t=2,p=1$racer%d$x", r[0].rc == 0 ? 0 : 1);
	assert_string_equal(v.password, want);
}

struct touch_race {
	const struct fx *f;
	pthread_barrier_t *go;
	const char *id;
	int bad; /* a call that failed (checked by the main thread) */
};

/* session_touch as login.c runs it (a write job), holding on between its read and its
 * write, while the other process ends the session. */
static void *touch_slowly(void *arg)
{
	struct touch_race *t = arg;
	struct store *s = other(t->f);
	char hash[65];
	struct store_session x;
	ids_token_hash(t->id, hash);
	int began = s->begin(s);
	if (began != 0 || s->session_get(s, hash, &x) != 0) /* session_touch's read */
		t->bad++;
	pthread_barrier_wait(t->go);
	usleep(HOLD_US);
	x.seen_ms = T0 + SESSION_TOUCH_MS; /* … and its write */
	if (began != 0 || s->session_put(s, &x) != 0 || s->commit(s) != 0)
		t->bad++;
	s->close(s);
	return NULL;
}

static void *log_out(void *arg)
{
	struct touch_race *t = arg;
	struct store *s = other(t->f);
	pthread_barrier_wait(t->go);
	if (s->begin(s) != 0 || session_end(s, t->id) != 0 || s->commit(s) != 0)
		t->bad++;
	s->close(s);
	return NULL;
}

static void test_pg_access__a_logout_is_not_undone_by_a_touch_in_another_process(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	char id[SESSION_ID_TEXT], hash[65];
	struct store_token t = { .kind = STORE_TOKEN_VIEWER, .created_ms = T0 };
	snprintf(t.hash, sizeof t.hash, "%s", "tok-viewer");
	snprintf(t.prefix, sizeof t.prefix, "%s", "lk_viewer00");
	assert_int_equal(s->begin(s), 0);
	assert_int_equal(s->token_put(s, &t), 0);
	assert_int_equal(session_start(s, "tok-viewer", 0, T0, id), 0);
	assert_int_equal(s->commit(s), 0);
	assert_int_equal(session_check(s, id, T0 + 1, NULL), SESSION_LIVE);

	pthread_t a, b;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct touch_race r = { .f = f, .go = &go, .id = id };
	pthread_create(&a, NULL, touch_slowly, &r);
	pthread_create(&b, NULL, log_out, &r);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(r.bad, 0);
	struct store_session x;
	ids_token_hash(id, hash);
	assert_int_equal(s->session_get(s, hash, &x), 1);
	assert_int_equal(session_check(s, id, T0 + 2, NULL), SESSION_ENDED);
}

static void test_pg_access__a_login_name_not_in_utf8_is_a_failed_login_not_an_error(void **state)
{
	struct fx *f = *state;
	struct store *s = f->s;
	struct store_login_fail x;
	int64_t wait = 0;
	/* what a form may carry; and a long name cut at byte 80 inside a letter */
	char longname[128];
	memset(longname, 0, sizeof longname);
	for (size_t i = 0; i + 2 < 100; i += 2)
		memcpy(longname + i, "\xc3\xa0", 2); /* à à à … */
	const char *names[] = { "\xff\xfe" "admin", longname };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(s->begin(s), 0);
		assert_int_equal(viewer_failed(s, names[i], "10.0.0.9", T0), 0);
		assert_int_equal(s->commit(s), 0);
		assert_int_equal(viewer_throttled(s, names[i], "10.0.0.9", T0 + 1, &wait), 0);
	}
	assert_int_equal(s->login_fail_get(s, "addr:10.0.0.9", &x), 0);
	assert_int_equal(x.failures, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pg_access__sessions_are_kept_replaced_ended_and_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__viewers_in_byte_order_found_by_name_link_and_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__mail_recipients_and_digests_kept_and_listed_in_byte_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__flags_set_replaced_cleared_resolved_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__failures_counted_by_several_processes_at_once_all_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__a_one_time_link_used_at_once_through_two_processes_works_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__a_logout_is_not_undone_by_a_touch_in_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_access__a_login_name_not_in_utf8_is_a_failed_login_not_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
