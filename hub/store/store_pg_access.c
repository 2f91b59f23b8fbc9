/*
 * store_pg_access.c — the PostgreSQL back end's dashboard sessions, viewer accounts,
 * failed logins, digest mail and flags (store.h; the rest of the back end is
 * store_pg.c, shared helpers in pg_internal.h).
 *
 * Several hub processes write these tables at once, so every read-modify-write that
 * the callers do through get + put (session.c session_touch, viewer.c count_failure,
 * viewer_reset, viewer_invite_use) is made safe here, without changing store.h: inside
 * a write transaction a get first takes the transaction-level advisory lock of the
 * thing it reads (the session's hash, the viewer's name, the failure key), and every
 * put and delete of it takes the same lock. Locks are taken before any row lock, in one
 * order per call, and held to the end of the transaction, so:
 *   - a session touched in one process and ended (logout) in another is either touched
 *     then deleted or found absent: a logout is never undone;
 *   - a one-time link used through two processes at once is used once (the second
 *     finds it gone);
 *   - failures counted for one key by several processes add up (no count is lost).
 * Recipients are added with INSERT … ON CONFLICT DO NOTHING; every put is an upsert
 * (INSERT … ON CONFLICT DO UPDATE), a replace that never meets a duplicate key.
 * Orders the interface promises (names, units, addresses) are byte order (COLLATE
 * "C"), as SQLite gives them.
 *
 * Owns: nothing between calls (the connection and statements are store_pg.c's).
 */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables ---- */

const char STORE_PG_ACCESS_DDL[] =
	"CREATE TABLE IF NOT EXISTS hub_session(hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL, seen_ms BIGINT NOT NULL, remember BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS hub_session_token ON hub_session(token_hash);"
	"CREATE TABLE IF NOT EXISTS hub_viewer(name TEXT COLLATE \"C\" PRIMARY KEY,"
	" unit_id TEXT NOT NULL, password TEXT NOT NULL, key TEXT NOT NULL,"
	" invite_hash TEXT NOT NULL, invite_expires_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL,"
	" changed_ms BIGINT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hub_viewer_key ON hub_viewer(key);"
	"CREATE INDEX IF NOT EXISTS hub_viewer_invite ON hub_viewer(invite_hash);"
	"CREATE TABLE IF NOT EXISTS hub_login_fail(key TEXT PRIMARY KEY, failures BIGINT NOT NULL,"
	" first_ms BIGINT NOT NULL, last_ms BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS hub_mail_to(address TEXT COLLATE \"C\" NOT NULL,"
	" unit_id TEXT COLLATE \"C\" NOT NULL, PRIMARY KEY(unit_id, address));"
	"CREATE TABLE IF NOT EXISTS hub_digest_mail(date TEXT COLLATE \"C\" NOT NULL,"
	" unit_id TEXT COLLATE \"C\" NOT NULL, html TEXT NOT NULL, status_csv TEXT NOT NULL,"
	" arrivals_csv TEXT NOT NULL, report_csv TEXT NOT NULL, subject TEXT NOT NULL,"
	" recipients TEXT NOT NULL, built_ms BIGINT NOT NULL, attempts BIGINT NOT NULL,"
	" last_try_ms BIGINT NOT NULL, sent_ms BIGINT NOT NULL, error TEXT NOT NULL,"
	" PRIMARY KEY(date, unit_id));"
	"CREATE TABLE IF NOT EXISTS hub_flag(tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
	" kind TEXT NOT NULL, field TEXT NOT NULL, detail TEXT, suggestion TEXT,"
	" at_ms BIGINT NOT NULL, PRIMARY KEY(tbl, row_id, kind, field));"
	"CREATE INDEX IF NOT EXISTS hub_flag_detail ON hub_flag(kind, detail);";

/* ---- helpers ---- */

static struct store_pg *P(struct store *s)
{
	return store_pg_of(s);
}

/* Runs a statement whose result is not read: 0, 1 when it changed no row, or a code. */
static int exec_changed(struct store *s, const char *sql, int n, const char *const *v)
{
	PGresult *res = NULL;
	int rc = store_pg_exec(P(s), sql, n, v, &res);
	if (rc < 0)
		return rc;
	rc = store_pg_changed(res) > 0 ? 0 : 1;
	PQclear(res);
	return rc;
}

/* Runs a statement whose result is not read: 0 or a code. */
static int exec_done(struct store *s, const char *sql, int n, const char *const *v)
{
	return store_pg_exec(P(s), sql, n, v, NULL);
}

/* Inside a write transaction, the advisory lock of (kind, key); nothing outside one
 * (a read sees one snapshot and writes nothing). 0 or a code. */
static int lock_if_writing(struct store *s, int kind, const char *key)
{
	return store_pg_in_write(s) ? store_pg_lock(P(s), kind, key) : 0;
}

/* Runs a query for at most one row: 0 and *res (caller PQclear's), 1 no row (res NULL),
 * or a code. */
static int query_one(struct store *s, const char *sql, int n, const char *const *v,
		     PGresult **res)
{
	int rc = store_pg_exec(P(s), sql, n, v, res);
	if (rc < 0)
		return rc;
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return 1;
	}
	return 0;
}

/* ---- dashboard sessions ---- */

static int pg_session_put(struct store *s, const struct store_session *x)
{
	char c[STORE_PG_NUM], e[STORE_PG_NUM];
	int rc = lock_if_writing(s, STORE_PG_LOCK_SESSION, x->hash);
	if (rc != 0)
		return rc;
	const char *v[] = { x->hash, x->token_hash, store_pg_i64(c, x->created_ms),
			    store_pg_i64(e, x->seen_ms), x->remember ? "1" : "0" };
	return exec_done(s, "INSERT INTO hub_session(hash, token_hash, created_ms, seen_ms, remember)"
			 " VALUES($1, $2, $3, $4, $5) ON CONFLICT (hash) DO UPDATE SET"
			 " token_hash = EXCLUDED.token_hash, created_ms = EXCLUDED.created_ms,"
			 " seen_ms = EXCLUDED.seen_ms, remember = EXCLUDED.remember",
			 5, v);
}

static int pg_session_get(struct store *s, const char *hash, struct store_session *out)
{
	PGresult *res;
	int rc = lock_if_writing(s, STORE_PG_LOCK_SESSION, hash);
	if (rc != 0)
		return rc;
	const char *v[] = { hash };
	rc = query_one(s, "SELECT hash, token_hash, created_ms, seen_ms, remember FROM hub_session"
		       " WHERE hash = $1", 1, v, &res);
	if (rc != 0)
		return rc;
	store_pg_text(out->hash, sizeof out->hash, res, 0, 0);
	store_pg_text(out->token_hash, sizeof out->token_hash, res, 0, 1);
	out->created_ms = store_pg_int(res, 0, 2);
	out->seen_ms = store_pg_int(res, 0, 3);
	out->remember = store_pg_int(res, 0, 4) != 0;
	PQclear(res);
	return 0;
}

static int pg_session_delete(struct store *s, const char *hash)
{
	int rc = lock_if_writing(s, STORE_PG_LOCK_SESSION, hash);
	if (rc != 0)
		return rc;
	const char *v[] = { hash };
	return exec_done(s, "DELETE FROM hub_session WHERE hash = $1", 1, v);
}

static int pg_sessions_prune(struct store *s, int64_t made_before_ms, int64_t seen_before_ms)
{
	char m[STORE_PG_NUM], e[STORE_PG_NUM];
	const char *v[] = { store_pg_i64(m, made_before_ms), store_pg_i64(e, seen_before_ms) };
	return exec_done(s, "DELETE FROM hub_session WHERE (remember = 0 AND (created_ms < $1 OR"
			 " seen_ms < $2)) OR (token_hash NOT IN (SELECT hash FROM hub_token WHERE"
			 " revoked_ms = 0) AND token_hash NOT IN (SELECT key FROM hub_viewer))",
			 2, v);
}

static int pg_sessions_prune_long(struct store *s, int64_t made_before_ms,
				  int64_t seen_before_ms)
{
	char m[STORE_PG_NUM], e[STORE_PG_NUM];
	const char *v[] = { store_pg_i64(m, made_before_ms), store_pg_i64(e, seen_before_ms) };
	return exec_done(s, "DELETE FROM hub_session WHERE remember = 1 AND (created_ms < $1 OR"
			 " seen_ms < $2)", 2, v);
}

/* ---- viewer accounts ---- */

#define VIEWER_COLS "name, unit_id, password, key, invite_hash, invite_expires_ms, created_ms," \
	" changed_ms"

static void viewer_load(const PGresult *res, int row, struct store_viewer *v)
{
	memset(v, 0, sizeof *v);
	store_pg_text(v->name, sizeof v->name, res, row, 0);
	store_pg_text(v->unit_id, sizeof v->unit_id, res, row, 1);
	store_pg_text(v->password, sizeof v->password, res, row, 2);
	store_pg_text(v->key, sizeof v->key, res, row, 3);
	store_pg_text(v->invite_hash, sizeof v->invite_hash, res, row, 4);
	v->invite_expires_ms = store_pg_int(res, row, 5);
	v->created_ms = store_pg_int(res, row, 6);
	v->changed_ms = store_pg_int(res, row, 7);
}

static int pg_viewer_get(struct store *s, const char *name, struct store_viewer *out)
{
	PGresult *res;
	if (!name || !*name)
		return 1;
	int rc = lock_if_writing(s, STORE_PG_LOCK_VIEWER, name);
	if (rc != 0)
		return rc;
	const char *v[] = { name };
	rc = query_one(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE name = $1", 1, v, &res);
	if (rc != 0)
		return rc;
	viewer_load(res, 0, out);
	PQclear(res);
	return 0;
}

/* A viewer by its link hash (col "invite_hash") or session key (col "key"): sql_any
 * finds its name, sql_named reads it by name and the same value. Inside a write
 * transaction the viewer's lock is taken between the two, and the second read — after
 * the lock, so it sees what the lock's last holder committed — decides: a link used or
 * a key changed meanwhile by another process is absent. */
static int viewer_by(struct store *s, const char *sql_any, const char *sql_named,
		     const char *value, struct store_viewer *out)
{
	PGresult *res;
	char name[STORE_VIEWER_NAME];
	if (!value || !*value)
		return 1;
	const char *v1[] = { value };
	int rc = query_one(s, sql_any, 1, v1, &res);
	if (rc != 0 || !store_pg_in_write(s)) {
		if (rc == 0) {
			viewer_load(res, 0, out);
			PQclear(res);
		}
		return rc;
	}
	store_pg_text(name, sizeof name, res, 0, 0);
	PQclear(res);
	if ((rc = store_pg_lock(P(s), STORE_PG_LOCK_VIEWER, name)) != 0)
		return rc;
	const char *v2[] = { name, value };
	if ((rc = query_one(s, sql_named, 2, v2, &res)) != 0)
		return rc;
	viewer_load(res, 0, out);
	PQclear(res);
	return 0;
}

static int pg_viewer_by_invite(struct store *s, const char *hash, struct store_viewer *out)
{
	return viewer_by(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE invite_hash = $1",
			 "SELECT " VIEWER_COLS " FROM hub_viewer WHERE name = $1 AND invite_hash = $2",
			 hash, out);
}

static int pg_viewer_by_key(struct store *s, const char *key, struct store_viewer *out)
{
	return viewer_by(s, "SELECT " VIEWER_COLS " FROM hub_viewer WHERE key = $1",
			 "SELECT " VIEWER_COLS " FROM hub_viewer WHERE name = $1 AND key = $2", key,
			 out);
}

static int pg_viewer_put(struct store *s, const struct store_viewer *x)
{
	char a[STORE_PG_NUM], b[STORE_PG_NUM], c[STORE_PG_NUM];
	int rc = lock_if_writing(s, STORE_PG_LOCK_VIEWER, x->name);
	if (rc != 0)
		return rc;
	const char *v[] = { x->name, x->unit_id, x->password, x->key, x->invite_hash,
			    store_pg_i64(a, x->invite_expires_ms), store_pg_i64(b, x->created_ms),
			    store_pg_i64(c, x->changed_ms) };
	return exec_done(s, "INSERT INTO hub_viewer(" VIEWER_COLS ") VALUES($1, $2, $3, $4, $5, $6,"
			 " $7, $8) ON CONFLICT (name) DO UPDATE SET unit_id = EXCLUDED.unit_id,"
			 " password = EXCLUDED.password, key = EXCLUDED.key,"
			 " invite_hash = EXCLUDED.invite_hash,"
			 " invite_expires_ms = EXCLUDED.invite_expires_ms,"
			 " created_ms = EXCLUDED.created_ms, changed_ms = EXCLUDED.changed_ms",
			 8, v);
}

static int pg_viewer_delete(struct store *s, const char *name)
{
	int rc = lock_if_writing(s, STORE_PG_LOCK_VIEWER, name);
	if (rc != 0)
		return rc;
	const char *v[] = { name };
	return exec_changed(s, "DELETE FROM hub_viewer WHERE name = $1", 1, v);
}

static int pg_viewers_list(struct store *s, int (*cb)(void *, const struct store_viewer *),
			   void *ctx)
{
	PGresult *res = NULL;
	int rc = store_pg_exec(P(s), "SELECT " VIEWER_COLS " FROM hub_viewer"
			       " ORDER BY name COLLATE \"C\"", 0, NULL, &res);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(res); i < n && rc == 0; i++) {
		struct store_viewer v;
		viewer_load(res, i, &v);
		rc = cb(ctx, &v);
	}
	PQclear(res);
	return rc;
}

/* ---- failed logins ---- */

static int pg_login_fail_get(struct store *s, const char *key, struct store_login_fail *out)
{
	PGresult *res;
	int rc = lock_if_writing(s, STORE_PG_LOCK_LOGIN, key);
	if (rc != 0)
		return rc;
	const char *v[] = { key };
	rc = query_one(s, "SELECT key, failures, first_ms, last_ms FROM hub_login_fail"
		       " WHERE key = $1", 1, v, &res);
	if (rc != 0)
		return rc;
	store_pg_text(out->key, sizeof out->key, res, 0, 0);
	out->failures = store_pg_int(res, 0, 1);
	out->first_ms = store_pg_int(res, 0, 2);
	out->last_ms = store_pg_int(res, 0, 3);
	PQclear(res);
	return 0;
}

static int pg_login_fail_put(struct store *s, const struct store_login_fail *x)
{
	char f[STORE_PG_NUM], a[STORE_PG_NUM], b[STORE_PG_NUM];
	int rc = lock_if_writing(s, STORE_PG_LOCK_LOGIN, x->key);
	if (rc != 0)
		return rc;
	const char *v[] = { x->key, store_pg_i64(f, x->failures), store_pg_i64(a, x->first_ms),
			    store_pg_i64(b, x->last_ms) };
	return exec_done(s, "INSERT INTO hub_login_fail(key, failures, first_ms, last_ms)"
			 " VALUES($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET"
			 " failures = EXCLUDED.failures, first_ms = EXCLUDED.first_ms,"
			 " last_ms = EXCLUDED.last_ms",
			 4, v);
}

static int pg_login_fail_clear(struct store *s, const char *key)
{
	int rc = lock_if_writing(s, STORE_PG_LOCK_LOGIN, key);
	if (rc != 0)
		return rc;
	const char *v[] = { key };
	return exec_done(s, "DELETE FROM hub_login_fail WHERE key = $1", 1, v);
}

/* ---- digest mail ---- */

static int pg_mail_to_add(struct store *s, const char *address, const char *unit_id)
{
	const char *v[] = { address, unit_id };
	return exec_done(s, "INSERT INTO hub_mail_to(address, unit_id) VALUES($1, $2)"
			 " ON CONFLICT DO NOTHING", 2, v);
}

static int pg_mail_to_remove(struct store *s, const char *address, const char *unit_id)
{
	const char *v[] = { address, unit_id };
	return exec_changed(s, "DELETE FROM hub_mail_to WHERE address = $1 AND unit_id = $2", 2, v);
}

static int pg_mail_to_list(struct store *s, const char *unit_id,
			   int (*cb)(void *, const char *, const char *), void *ctx)
{
	PGresult *res = NULL;
	const char *v[] = { unit_id };
	int rc = unit_id ? store_pg_exec(P(s), "SELECT address, unit_id FROM hub_mail_to"
					 " WHERE unit_id = $1 ORDER BY unit_id COLLATE \"C\","
					 " address COLLATE \"C\"", 1, v, &res)
			 : store_pg_exec(P(s), "SELECT address, unit_id FROM hub_mail_to"
					 " ORDER BY unit_id COLLATE \"C\", address COLLATE \"C\"",
					 0, NULL, &res);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(res); i < n && rc == 0; i++)
		rc = cb(ctx, store_pg_str(res, i, 0), store_pg_str(res, i, 1));
	PQclear(res);
	return rc;
}

#define DIGEST_COLS "date, unit_id, recipients, built_ms, attempts, last_try_ms, sent_ms, error," \
	" subject, html, status_csv, arrivals_csv, report_csv"
#define DIGEST_HEAD "date, unit_id, recipients, built_ms, attempts, last_try_ms, sent_ms, error," \
	" subject"

/* The columns of DIGEST_COLS (DIGEST_HEAD when texts is 0) of one row. 0, or
 * STORE_ERR out of memory. */
static int digest_load(const PGresult *res, int row, struct store_digest_mail *m, int texts)
{
	memset(m, 0, sizeof *m);
	store_pg_text(m->date, sizeof m->date, res, row, 0);
	store_pg_text(m->unit_id, sizeof m->unit_id, res, row, 1);
	store_pg_text(m->recipients, sizeof m->recipients, res, row, 2);
	m->built_ms = store_pg_int(res, row, 3);
	m->attempts = store_pg_int(res, row, 4);
	m->last_try_ms = store_pg_int(res, row, 5);
	m->sent_ms = store_pg_int(res, row, 6);
	store_pg_text(m->error, sizeof m->error, res, row, 7);
	store_pg_text(m->subject, sizeof m->subject, res, row, 8);
	if (!texts)
		return 0;
	char **dst[4] = { &m->html, &m->status_csv, &m->arrivals_csv, &m->report_csv };
	for (int i = 0; i < 4; i++) {
		const char *t = store_pg_str(res, row, 9 + i);
		if (!(*dst[i] = strdup(t ? t : ""))) {
			store_digest_mail_release(m);
			return STORE_ERR;
		}
	}
	return 0;
}

static int pg_digest_mail_get(struct store *s, const char *date, const char *unit_id,
			      struct store_digest_mail *out)
{
	PGresult *res;
	const char *v[] = { date, unit_id };
	int rc = query_one(s, "SELECT " DIGEST_COLS " FROM hub_digest_mail WHERE date = $1"
			   " AND unit_id = $2", 2, v, &res);
	if (rc != 0)
		return rc;
	rc = digest_load(res, 0, out, 1);
	PQclear(res);
	return rc;
}

static int pg_digest_mail_put(struct store *s, const struct store_digest_mail *m)
{
	char a[STORE_PG_NUM], b[STORE_PG_NUM], c[STORE_PG_NUM], d[STORE_PG_NUM];
	const char *v[] = { m->date, m->unit_id, m->recipients, store_pg_i64(a, m->built_ms),
			    store_pg_i64(b, m->attempts), store_pg_i64(c, m->last_try_ms),
			    store_pg_i64(d, m->sent_ms), m->error, m->subject,
			    m->html ? m->html : "", m->status_csv ? m->status_csv : "",
			    m->arrivals_csv ? m->arrivals_csv : "",
			    m->report_csv ? m->report_csv : "" };
	return exec_done(s, "INSERT INTO hub_digest_mail(" DIGEST_COLS ") VALUES($1, $2, $3, $4, $5,"
			 " $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (date, unit_id) DO UPDATE"
			 " SET recipients = EXCLUDED.recipients, built_ms = EXCLUDED.built_ms,"
			 " attempts = EXCLUDED.attempts, last_try_ms = EXCLUDED.last_try_ms,"
			 " sent_ms = EXCLUDED.sent_ms, error = EXCLUDED.error,"
			 " subject = EXCLUDED.subject, html = EXCLUDED.html,"
			 " status_csv = EXCLUDED.status_csv, arrivals_csv = EXCLUDED.arrivals_csv,"
			 " report_csv = EXCLUDED.report_csv",
			 13, v);
}

static int pg_digest_mails_list(struct store *s,
				int (*cb)(void *, const struct store_digest_mail *), void *ctx)
{
	PGresult *res = NULL;
	int rc = store_pg_exec(P(s), "SELECT " DIGEST_HEAD " FROM hub_digest_mail"
			       " ORDER BY date COLLATE \"C\" DESC, unit_id COLLATE \"C\"",
			       0, NULL, &res);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(res); i < n && rc == 0; i++) {
		struct store_digest_mail m;
		digest_load(res, i, &m, 0);
		rc = cb(ctx, &m);
	}
	PQclear(res);
	return rc;
}

/* ---- flags ---- */

static int pg_flag_set(struct store *s, const struct store_flag *f, int64_t at_ms)
{
	char t[STORE_PG_NUM];
	const char *v[] = { f->table, f->row_id, f->kind, f->field ? f->field : "", f->detail,
			    f->suggestion, store_pg_i64(t, at_ms) };
	return exec_done(s, "INSERT INTO hub_flag(tbl, row_id, kind, field, detail, suggestion,"
			 " at_ms) VALUES($1, $2, $3, $4, $5, $6, $7)"
			 " ON CONFLICT (tbl, row_id, kind, field) DO UPDATE SET"
			 " detail = EXCLUDED.detail, suggestion = EXCLUDED.suggestion,"
			 " at_ms = EXCLUDED.at_ms",
			 7, v);
}

static int pg_flag_clear(struct store *s, const char *table, const char *row_id,
			 const char *kind)
{
	const char *v[] = { table, row_id, kind };
	if (kind)
		return exec_done(s, "DELETE FROM hub_flag WHERE tbl = $1 AND row_id = $2"
				 " AND kind = $3", 3, v);
	return exec_done(s, "DELETE FROM hub_flag WHERE tbl = $1 AND row_id = $2", 2, v);
}

static int pg_flag_resolve(struct store *s, const char *kind, const char *detail)
{
	const char *v[] = { kind, detail };
	return exec_done(s, "DELETE FROM hub_flag WHERE kind = $1 AND detail = $2", 2, v);
}

static int pg_flags_count(struct store *s, const char *kind, int64_t *n)
{
	PGresult *res = NULL;
	const char *v[] = { kind };
	int rc = store_pg_exec(P(s), "SELECT count(*) FROM hub_flag WHERE kind = $1", 1, v, &res);
	if (rc < 0)
		return rc;
	*n = store_pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

/* ---- the table ---- */

void store_pg_access_ops(struct store *ops)
{
	ops->session_put = pg_session_put;
	ops->session_get = pg_session_get;
	ops->session_delete = pg_session_delete;
	ops->sessions_prune = pg_sessions_prune;
	ops->sessions_prune_long = pg_sessions_prune_long;
	ops->viewer_get = pg_viewer_get;
	ops->viewer_by_invite = pg_viewer_by_invite;
	ops->viewer_by_key = pg_viewer_by_key;
	ops->viewer_put = pg_viewer_put;
	ops->viewer_delete = pg_viewer_delete;
	ops->viewers_list = pg_viewers_list;
	ops->login_fail_get = pg_login_fail_get;
	ops->login_fail_put = pg_login_fail_put;
	ops->login_fail_clear = pg_login_fail_clear;
	ops->mail_to_add = pg_mail_to_add;
	ops->mail_to_remove = pg_mail_to_remove;
	ops->mail_to_list = pg_mail_to_list;
	ops->digest_mail_get = pg_digest_mail_get;
	ops->digest_mail_put = pg_digest_mail_put;
	ops->digest_mails_list = pg_digest_mails_list;
	ops->flag_set = pg_flag_set;
	ops->flag_clear = pg_flag_clear;
	ops->flag_resolve = pg_flag_resolve;
	ops->flags_count = pg_flags_count;
}
