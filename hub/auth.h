/*
 * auth.h — bearer tokens: making them at `enroll`, checking them on every request, and
 * binding an agent token to its agent id (PROTOCOL.md §9).
 *
 * The hub stores only SHA-256(token); the stored hash is compared in constant time.
 * Tokens never leave this module except once, printed by `enroll`.
 */
#ifndef LK_HUB_AUTH_H
#define LK_HUB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,   /* no or malformed Authorization header / token form */
	AUTH_UNKNOWN,   /* not enrolled */
	AUTH_REVOKED,
	AUTH_FAILED,    /* storage failure */
};

/* Checks an "Authorization: Bearer <token>" header value. AUTH_OK fills *out. */
enum auth_result auth_check(struct store *s, const char *authorization, struct store_token *out);

/* Makes a new token for `unit_id` (agent) or a viewer (unit_id NULL) and stores its
 * hash. Inside a write transaction. 0 with the token text in `token`, -1 on failure. */
int auth_enroll(struct store *s, const char *unit_id, const char *name, int64_t now_ms,
		char token[47]);

/* Binds agent token t to `agent_id` on first contact; accepts the same id again; after
 * a refused fork binds once to a new id and retires the old one (recover). Inside a
 * write transaction. Returns 0 bound (t updated and stored), 1 bound to another id
 * (token_bound), -1 storage failure. */
int auth_bind(struct store *s, struct store_token *t, const char *agent_id, int64_t now_ms);

/* Revokes every token whose prefix starts with `what` (a token prefix such as
 * "lk_AbCdEfGh", or a whole token) or that is bound to agent id `what`. Inside a write
 * transaction. Returns the number revoked, or -1. */
int auth_revoke(struct store *s, const char *what, int64_t now_ms);

#endif
