/*
 * viewer.h — named viewer accounts of the dashboard: the people of the province who
 * read it, each with a login name and a password (PROTOCOL.md §10, "Viewer accounts").
 *
 * A password is stored only as an argon2id hash (libargon2, Debian's libargon2-dev;
 * this file is its only user) with a 16-byte salt from OpenSSL's random source
 * (ids_random). An account is made without a password: `viewer add` prints a one-time
 * link (`/?invite=li_…`, VIEWER_INVITE_MS to use it, once) where the person sets it;
 * `viewer passwd` clears the password and prints a new link. Every password change
 * (and `viewer rm`) gives the account a new session key, so every session opened
 * before ends at once (session.h).
 *
 * Failed logins are throttled per login name and per client address: after
 * VIEWER_NAME_FAILURES (resp. VIEWER_ADDR_FAILURES) failures within
 * VIEWER_FAIL_WINDOW_MS, further logins are refused without checking the password for
 * VIEWER_LOCK_MS after the last failure (even a right password: a guesser learns
 * nothing). A successful login clears the name's count. A name that is not a login
 * name (viewer_name_valid) is counted by address only: no account has it.
 *
 * An account may be limited to a unit's subtree (unit_id): it then reads only that
 * subtree's figures and status (dashboard.c refuses the rest with 403).
 *
 * Hashing takes ~50 ms and VIEWER_ARGON2_KIB of memory: callers check passwords on a
 * read connection, outside the writer's transaction, and write the outcome after.
 * Nothing here logs. Owns: nothing between calls.
 */
#ifndef LK_HUB_VIEWER_H
#define LK_HUB_VIEWER_H

#include <stdint.h>

#include "ids.h"
#include "store.h"

/* OWASP's argon2id recommendation (2023): 19 MiB, 2 passes, 1 lane. */
#define VIEWER_ARGON2_KIB 19456
#define VIEWER_ARGON2_PASSES 2
#define VIEWER_SALT_BYTES 16
#define VIEWER_HASH_BYTES 32
/* A password: at least this many characters (bytes), so that throttled guessing of a
 * random one is hopeless; at most VIEWER_PASSWORD_MAX bytes (what a form carries). */
#define VIEWER_PASSWORD_MIN 10
#define VIEWER_PASSWORD_MAX 256
/* The one-time link is for the first login of the day it is handed over, with room. */
#define VIEWER_INVITE_MS (3 * 24 * 3600 * 1000LL)
#define VIEWER_FAIL_WINDOW_MS (15 * 60 * 1000LL)
#define VIEWER_LOCK_MS (15 * 60 * 1000LL)
/* One person mistyping: 5. One address (an office behind one NAT, or a guesser trying
 * many names): 20. */
#define VIEWER_NAME_FAILURES 5
#define VIEWER_ADDR_FAILURES 20

/* 1 when name is a login name: 1..32 of [a-z0-9._-], starting with a letter or digit. */
int viewer_name_valid(const char *name);

/* Makes the argon2id hash of password (len bytes) with a fresh salt, into encoded.
 * 0, or -1 (random source, memory). */
int viewer_hash_password(const char *password, size_t len, char encoded[STORE_VIEWER_HASH]);

enum viewer_add_result { VIEWER_ADDED = 0, VIEWER_EXISTS = 1 };

/* `viewer add`: account name limited to unit_id ("" or NULL: the province) with no
 * password and a one-time link secret written into invite. Inside a write transaction.
 * VIEWER_ADDED, VIEWER_EXISTS (nothing changed), or -1. */
int viewer_add(struct store *ws, const char *name, const char *unit_id, int64_t now_ms,
	       char invite[IDS_TOKEN_TEXT]);

/* `viewer passwd`: clears name's password, ends its sessions (a new key) and writes a
 * new one-time link into invite. Inside a write transaction. 0, 1 no such account, -1. */
int viewer_reset(struct store *ws, const char *name, int64_t now_ms, char invite[IDS_TOKEN_TEXT]);

/* `viewer rm`: removes the account; its sessions end with it. 0, 1 absent, -1. */
int viewer_remove(struct store *ws, const char *name);

/* 1 when logins for name or from address (either may be NULL) are refused now, with
 * *wait_ms (may be NULL) until the later of the two locks lifts; 0 when allowed; -1. */
int viewer_throttled(struct store *rs, const char *name, const char *address, int64_t now_ms,
		     int64_t *wait_ms);

/* Checks name's password (len bytes). 0 with *out filled when right; 1 when the name
 * is unknown, has no password yet or the password is wrong (the same work is done for
 * an unknown name, so the answer time does not tell); -1 storage or memory. */
int viewer_check(struct store *rs, const char *name, const char *password, size_t len,
		 struct store_viewer *out);

/* Records a failed login for name and address (either may be NULL). Inside a write
 * transaction. 0 or -1. */
int viewer_failed(struct store *ws, const char *name, const char *address, int64_t now_ms);

/* Clears name's failure count after a successful login. Inside a write transaction. */
int viewer_succeeded(struct store *ws, const char *name);

/* The account whose one-time link is invite, if the link is well formed, unused and
 * not expired at now_ms: 0 and *out; 1 otherwise; -1. */
int viewer_invite_check(struct store *rs, const char *invite, int64_t now_ms,
			struct store_viewer *out);

/* Uses the one-time link invite: sets the account's password to encoded
 * (viewer_hash_password), makes the link unusable and gives the account a new session
 * key. Inside a write transaction. 0 with *out (the account now), 1 when the link is
 * no longer valid (used meanwhile, expired, unknown), -1. */
int viewer_invite_use(struct store *ws, const char *invite, const char *encoded, int64_t now_ms,
		      struct store_viewer *out);

#endif
