/*
 * session.h — the dashboard's login sessions (PROTOCOL.md §10, "Dashboard login").
 *
 * A viewer logs in once with a viewer token, or with a viewer account's name and
 * password (viewer.h); the browser then holds a session id, never the token. A session id is "ls_" + 43 base64url characters (32 bytes from OpenSSL's
 * RAND_bytes, ids.h); the store keeps only its SHA-256, with the viewer token's hash,
 * when it was made and when it was last used (store.h, struct store_session).
 *
 * A session is live while all hold: made less than SESSION_MAX_AGE_MS ago (absolute;
 * the cookie's Max-Age says the same), last used less than SESSION_IDLE_MS ago (idle),
 * and its viewer token is enrolled, a viewer's, and not revoked — so revoking the token
 * ends every session opened with it at once. A session of an account is opened with the
 * account's session key instead of a token hash; it lives while an account has that key
 * (`viewer passwd` and `viewer rm` change or remove it: every session ends). A session
 * opened with "remember me" has the longer bounds SESSION_REMEMBER_*: its cookie
 * outlives the browser; any other account session's cookie ends with the browser (no
 * Max-Age) and with the bounds above. Its last use is recorded at most once every
 * SESSION_TOUCH_MS, so reading pages does not make a write each.
 *
 * Writes (session_start, session_touch, session_end) run inside the caller's write
 * transaction on the writer's store; session_check only reads. Nothing here logs.
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_SESSION_H
#define LK_HUB_SESSION_H

#include <stdint.h>

#include "ids.h"
#include "store.h"

#define SESSION_COOKIE "lk_session"
#define SESSION_ID_TEXT IDS_TOKEN_TEXT
/* A working day at the dashboard; the cookie's Max-Age in seconds is this / 1000. */
#define SESSION_MAX_AGE_MS (12 * 3600 * 1000LL)
/* A browser left open and unattended for this long must log in again. */
#define SESSION_IDLE_MS (2 * 3600 * 1000LL)
/* "Remember me": a month at most, a week without a visit. */
#define SESSION_REMEMBER_MAX_AGE_MS (30 * 24 * 3600 * 1000LL)
#define SESSION_REMEMBER_IDLE_MS (7 * 24 * 3600 * 1000LL)
/* The last use is written again only when older than this: one write a minute at most. */
#define SESSION_TOUCH_MS (60 * 1000LL)

enum session_state {
	SESSION_LIVE = 0,  /* live, its last use recorded recently */
	SESSION_STALE,     /* live, but record this use with session_touch */
	SESSION_ENDED,     /* malformed, unknown, expired, or its token revoked or gone */
	SESSION_FAILED,    /* storage failure */
};

/* Opens a session for the viewer token whose hash is token_hash (64 hex), or for the
 * viewer account whose session key it is, at now_ms (remember: 1 for the longer
 * bounds): removes the sessions that have ended (expired, or of a token or key no
 * longer active), stores the new one and writes its id into id. Inside a write
 * transaction. 0, or -1 (random source or storage; nothing usable written). */
int session_start(struct store *ws, const char *token_hash, int remember, int64_t now_ms,
		  char id[SESSION_ID_TEXT]);

/* Who a live session is: a viewer token (account 0), or an account (its name, and the
 * unit whose subtree it may read: "" the province). */
struct session_who {
	int account;
	char name[STORE_VIEWER_NAME];
	char unit_id[37];
};

/* The state of session id (the cookie's value, any text) at now_ms, read on rs; who
 * (may be NULL) is filled for a live or stale one. */
enum session_state session_check(struct store *rs, const char *id, int64_t now_ms,
				 struct session_who *who);

/* Records a use of session id at now_ms. Inside a write transaction. 0 (also when the
 * session is gone meanwhile), or -1. */
int session_touch(struct store *ws, const char *id, int64_t now_ms);

/* Ends session id (logout). Inside a write transaction. 0 (also when there was no such
 * session), or -1. */
int session_end(struct store *ws, const char *id);

#endif
