/*
 * session.c — dashboard sessions (see session.h).
 *
 * Invariant: a session id is never stored or logged; every lookup goes by its SHA-256,
 * compared in constant time. A session is checked against its viewer token on every
 * use, so the token's revocation needs no bookkeeping here.
 */
#include "session.h"

#include <stdio.h>
#include <string.h>

/* The hash of a well-formed session id, or -1 for anything else. */
static int id_hash(const char *id, char hash[65])
{
	if (!id || !ids_session_wellformed(id))
		return -1;
	ids_token_hash(id, hash);
	return 0;
}

int session_start(struct store *ws, const char *token_hash, int remember, int64_t now_ms,
		  char id[SESSION_ID_TEXT])
{
	struct store_session x = { 0 };
	if (ws->sessions_prune(ws, now_ms - SESSION_MAX_AGE_MS, now_ms - SESSION_IDLE_MS) != 0 ||
	    ws->sessions_prune_long(ws, now_ms - SESSION_REMEMBER_MAX_AGE_MS,
				    now_ms - SESSION_REMEMBER_IDLE_MS) != 0)
		return -1;
	if (ids_session_new(id) != 0)
		return -1;
	ids_token_hash(id, x.hash);
	snprintf(x.token_hash, sizeof x.token_hash, "%s", token_hash);
	x.created_ms = now_ms;
	x.seen_ms = now_ms;
	x.remember = remember != 0;
	if (ws->session_put(ws, &x) != 0) {
		memset(id, 0, SESSION_ID_TEXT);
		return -1;
	}
	return 0;
}

enum session_state session_check(struct store *rs, const char *id, int64_t now_ms,
				 struct session_who *who)
{
	char hash[65];
	struct store_session x;
	struct store_token t;
	struct store_viewer v;
	struct session_who w = { 0 };
	if (id_hash(id, hash) != 0)
		return SESSION_ENDED;
	int rc = rs->session_get(rs, hash, &x);
	if (rc < 0)
		return SESSION_FAILED;
	if (rc == 1 || !ids_secure_equal(x.hash, hash, 64))
		return SESSION_ENDED;
	int64_t max_age = x.remember ? SESSION_REMEMBER_MAX_AGE_MS : SESSION_MAX_AGE_MS;
	int64_t idle = x.remember ? SESSION_REMEMBER_IDLE_MS : SESSION_IDLE_MS;
	if (now_ms - x.created_ms >= max_age || now_ms - x.seen_ms >= idle)
		return SESSION_ENDED;
	rc = rs->token_get(rs, x.token_hash, &t);
	if (rc < 0)
		return SESSION_FAILED;
	if (rc == 0 && (t.revoked_ms || t.kind != STORE_TOKEN_VIEWER))
		return SESSION_ENDED;
	if (rc == 1) {
		/* not a token: the session key of an account, or of nothing any more */
		rc = rs->viewer_by_key(rs, x.token_hash, &v);
		if (rc < 0)
			return SESSION_FAILED;
		if (rc == 1 || !ids_secure_equal(v.key, x.token_hash, 64))
			return SESSION_ENDED;
		w.account = 1;
		snprintf(w.name, sizeof w.name, "%s", v.name);
		snprintf(w.unit_id, sizeof w.unit_id, "%s", v.unit_id);
	}
	if (who)
		*who = w;
	return now_ms - x.seen_ms >= SESSION_TOUCH_MS ? SESSION_STALE : SESSION_LIVE;
}

int session_touch(struct store *ws, const char *id, int64_t now_ms)
{
	char hash[65];
	struct store_session x;
	if (id_hash(id, hash) != 0)
		return 0;
	int rc = ws->session_get(ws, hash, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (now_ms <= x.seen_ms)
		return 0;
	x.seen_ms = now_ms;
	return ws->session_put(ws, &x);
}

int session_end(struct store *ws, const char *id)
{
	char hash[65];
	if (id_hash(id, hash) != 0)
		return 0;
	return ws->session_delete(ws, hash);
}
