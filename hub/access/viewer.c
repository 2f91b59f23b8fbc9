/*
 * viewer.c — viewer accounts (see viewer.h): the only libargon2 user.
 *
 * Invariant: a password and a one-time link secret are never stored or logged; the
 * store holds the argon2id encoding of the one and the SHA-256 of the other, compared
 * in constant time (argon2id_verify; ids_secure_equal).
 */
#include "viewer.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#define VIEWER_ENCODED_MAX STORE_VIEWER_HASH

int viewer_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n >= STORE_VIEWER_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

int viewer_hash_password(const char *password, size_t len, char encoded[STORE_VIEWER_HASH])
{
	unsigned char salt[VIEWER_SALT_BYTES];
	if (ids_random(salt, sizeof salt) != 0)
		return -1;
	int rc = argon2id_hash_encoded(VIEWER_ARGON2_PASSES, VIEWER_ARGON2_KIB, 1, password, len, salt,
				       sizeof salt, VIEWER_HASH_BYTES, encoded, VIEWER_ENCODED_MAX);
	return rc == ARGON2_OK ? 0 : -1;
}

/* A new session key: 32 random bytes as hex. */
static int new_key(char key[65])
{
	unsigned char r[32];
	if (ids_random(r, sizeof r) != 0)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(key + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* A new one-time link for v: the secret into invite, its hash and expiry into v. */
static int new_invite(struct store_viewer *v, int64_t now_ms, char invite[IDS_TOKEN_TEXT])
{
	if (ids_invite_new(invite) != 0)
		return -1;
	ids_token_hash(invite, v->invite_hash);
	v->invite_expires_ms = now_ms + VIEWER_INVITE_MS;
	return 0;
}

int viewer_add(struct store *ws, const char *name, const char *unit_id, int64_t now_ms,
	       char invite[IDS_TOKEN_TEXT])
{
	struct store_viewer v;
	int rc = ws->viewer_get(ws, name, &v);
	if (rc <= 0)
		return rc < 0 ? -1 : VIEWER_EXISTS;
	memset(&v, 0, sizeof v);
	snprintf(v.name, sizeof v.name, "%s", name);
	snprintf(v.unit_id, sizeof v.unit_id, "%s", unit_id ? unit_id : "");
	v.created_ms = v.changed_ms = now_ms;
	if (new_key(v.key) != 0 || new_invite(&v, now_ms, invite) != 0)
		return -1;
	return ws->viewer_put(ws, &v) == 0 ? VIEWER_ADDED : -1;
}

int viewer_reset(struct store *ws, const char *name, int64_t now_ms, char invite[IDS_TOKEN_TEXT])
{
	struct store_viewer v;
	int rc = ws->viewer_get(ws, name, &v);
	if (rc != 0)
		return rc;
	v.password[0] = '\0';
	v.changed_ms = now_ms;
	if (new_key(v.key) != 0 || new_invite(&v, now_ms, invite) != 0)
		return -1;
	return ws->viewer_put(ws, &v);
}

int viewer_remove(struct store *ws, const char *name)
{
	return ws->viewer_delete(ws, name);
}

/* "name:<name>" or "addr:<address>": 1 written, or 0 when there is nothing to count —
 * no value, or a name that is not a login name (no account can have it, and its bytes,
 * typed into the form, need not be UTF-8, which PostgreSQL would refuse to store). */
static int fail_key(char key[96], const char *kind, const char *what)
{
	if (!what || !*what || (strcmp(kind, "name") == 0 && !viewer_name_valid(what)))
		return 0;
	snprintf(key, 96, "%s:%.80s", kind, what);
	return 1;
}

/* 1 locked (and *wait_ms), 0 not, -1. */
static int locked(struct store *rs, const char *kind, const char *what, int64_t limit,
		  int64_t now_ms, int64_t *wait_ms)
{
	char key[96];
	struct store_login_fail x;
	if (!fail_key(key, kind, what))
		return 0;
	int rc = rs->login_fail_get(rs, key, &x);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (x.failures < limit || now_ms - x.last_ms >= VIEWER_LOCK_MS)
		return 0;
	int64_t w = x.last_ms + VIEWER_LOCK_MS - now_ms;
	if (w > *wait_ms)
		*wait_ms = w;
	return 1;
}

int viewer_throttled(struct store *rs, const char *name, const char *address, int64_t now_ms,
		     int64_t *wait_ms)
{
	int64_t w = 0;
	int a = locked(rs, "name", name, VIEWER_NAME_FAILURES, now_ms, &w);
	int b = locked(rs, "addr", address, VIEWER_ADDR_FAILURES, now_ms, &w);
	if (a < 0 || b < 0)
		return -1;
	if (wait_ms)
		*wait_ms = w;
	return a || b;
}

int viewer_check(struct store *rs, const char *name, const char *password, size_t len,
		 struct store_viewer *out)
{
	/* An unknown name is hashed against this (the hash of nothing anyone can type in
	 * time), so that it costs what a known one costs. */
	static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$"
				    "bGllbmtldC1kdW1teQ$VGhpcyBpcyBub3QgYSBwYXNzd29yZCBoYXNoIQ";
	struct store_viewer v;
	if (len > VIEWER_PASSWORD_MAX)
		return 1;
	int rc = viewer_name_valid(name) ? rs->viewer_get(rs, name, &v) : 1;
	if (rc < 0)
		return -1;
	const char *enc = rc == 0 && v.password[0] ? v.password : dummy;
	int ok = argon2id_verify(enc, password, len) == ARGON2_OK;
	if (rc != 0 || !v.password[0] || !ok)
		return 1;
	*out = v;
	return 0;
}

/* Adds one failure to the count of key (a new window when the last one is over). */
static int count_failure(struct store *ws, const char *kind, const char *what, int64_t now_ms)
{
	char key[96];
	struct store_login_fail x;
	if (!fail_key(key, kind, what))
		return 0;
	int rc = ws->login_fail_get(ws, key, &x);
	if (rc < 0)
		return -1;
	if (rc == 1 || now_ms - x.first_ms >= VIEWER_FAIL_WINDOW_MS) {
		memset(&x, 0, sizeof x);
		snprintf(x.key, sizeof x.key, "%s", key);
		x.first_ms = now_ms;
	}
	x.failures++;
	x.last_ms = now_ms;
	return ws->login_fail_put(ws, &x);
}

int viewer_failed(struct store *ws, const char *name, const char *address, int64_t now_ms)
{
	if (count_failure(ws, "name", name, now_ms) != 0 ||
	    count_failure(ws, "addr", address, now_ms) != 0)
		return -1;
	return 0;
}

int viewer_succeeded(struct store *ws, const char *name)
{
	char key[96];
	if (!fail_key(key, "name", name))
		return 0;
	return ws->login_fail_clear(ws, key);
}

int viewer_invite_check(struct store *rs, const char *invite, int64_t now_ms,
			struct store_viewer *out)
{
	char hash[65];
	struct store_viewer v;
	if (!invite || !ids_invite_wellformed(invite))
		return 1;
	ids_token_hash(invite, hash);
	int rc = rs->viewer_by_invite(rs, hash, &v);
	if (rc != 0)
		return rc;
	if (!ids_secure_equal(v.invite_hash, hash, 64) || now_ms >= v.invite_expires_ms)
		return 1;
	*out = v;
	return 0;
}

int viewer_invite_use(struct store *ws, const char *invite, const char *encoded, int64_t now_ms,
		      struct store_viewer *out)
{
	struct store_viewer v;
	int rc = viewer_invite_check(ws, invite, now_ms, &v);
	if (rc != 0)
		return rc;
	snprintf(v.password, sizeof v.password, "%s", encoded);
	v.invite_hash[0] = '\0';
	v.invite_expires_ms = 0;
	v.changed_ms = now_ms;
	if (new_key(v.key) != 0 || ws->viewer_put(ws, &v) != 0)
		return -1;
	*out = v;
	return 0;
}
