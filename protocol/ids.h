/*
 * ids.h — UUIDs (v7 for new rows and agents, v5 for natural keys) and tokens.
 * Randomness and hashing come from lkcrypto.h (libcrypto on Debian, bcrypt.dll on Windows).
 */
#ifndef LK_IDS_H
#define LK_IDS_H

#include <stddef.h>
#include <stdint.h>

#define IDS_UUID_TEXT 37  /* 36 chars + NUL */
#define IDS_TOKEN_TEXT 47 /* "lk_" + 43 base64url + NUL */

/* A new UUIDv7 for time `ms` (Unix ms). Returns 0, or -1 if the random source fails. */
int ids_uuid7(int64_t ms, char out[IDS_UUID_TEXT]);

/* UUIDv5 in the Liên Kết namespace of `name` (len bytes). Always succeeds. */
void ids_uuid5(const char *name, size_t len, char out[IDS_UUID_TEXT]);

/* 1 when s is a UUID in canonical lowercase text form (36 chars), else 0. */
int ids_uuid_valid(const char *s);

/* A new token "lk_" + base64url(32 random bytes). 0, or -1 if the random source fails. */
int ids_token_new(char out[IDS_TOKEN_TEXT]);

/* 1 when s has the token's form, else 0 (does not say whether it is enrolled). */
int ids_token_wellformed(const char *s);

/* A new dashboard session id "ls_" + base64url(32 random bytes), the same length as a
 * token (IDS_TOKEN_TEXT); 0, or -1 if the random source fails. ids_session_wellformed:
 * 1 when s has that form. */
int ids_session_new(char out[IDS_TOKEN_TEXT]);
int ids_session_wellformed(const char *s);

/* A new one-time link secret of a viewer account "li_" + base64url(32 random bytes)
 * (IDS_TOKEN_TEXT long); 0, or -1 if the random source fails. ids_invite_wellformed:
 * 1 when s has that form. */
int ids_invite_new(char out[IDS_TOKEN_TEXT]);
int ids_invite_wellformed(const char *s);

/* n random bytes (password salts): 0, or -1 if the random source fails. */
int ids_random(void *buf, size_t n);

/* SHA-256 of the token (or of a session id) as 64 lowercase hex chars + NUL (what the
 * hub stores). */
void ids_token_hash(const char *token, char out[65]);

/* Constant-time equality of two n-byte buffers: 1 equal, 0 different. */
int ids_secure_equal(const void *a, const void *b, size_t n);

#endif
