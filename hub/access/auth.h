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

/* What a token may do with an agent id (PROTOCOL.md §9). */
enum auth_bind_result {
	AUTH_BIND_OK = 0,      /* the id is the token's (bound now or before) */
	AUTH_BIND_REFUSED = 1, /* not the token's: answer token_bound, say nothing else */
	AUTH_BIND_RETIRED = 2, /* an id this token retired by recover: answer retired */
};

/* Checks, and binds when allowed, agent token t to `agent_id`. A token binds once:
 * to an id the hub has never seen (no agent record, not the hub's own id, no other
 * token bound to it), whose agent record (unit = the token's) is created here; or,
 * after a refused fork, once more to a never-seen id, retiring its old id and linking
 * it to the new one (recover). An id bound at enrolment (auth_enroll_agent) is the
 * token's from the start. Any other id is AUTH_BIND_REFUSED, whatever its state.
 * Inside a write transaction. t is first read again from the store (what another hub
 * process bound since the caller read it counts). Returns an enum auth_bind_result (t
 * updated, and stored when it was bound now), or -1 on a storage failure. */
int auth_bind(struct store *s, struct store_token *t, const char *agent_id, int64_t now_ms);

enum auth_enroll_result {
	AUTH_ENROLL_OK = 0,
	AUTH_ENROLL_UNKNOWN_AGENT = 1, /* the hub has never seen that agent id */
	AUTH_ENROLL_RETIRED = 2,       /* retired by recover: it must not send again */
	AUTH_ENROLL_OTHER_UNIT = 3,    /* of a unit neither `unit_id` nor handed to it */
};

/* `enroll --unit U --agent ID` (PROTOCOL.md §9): a new agent token for unit_id bound
 * from the start to the existing agent `agent_id` (a laptop reinstalled with its
 * database), which must not be retired and must be of unit_id or of a unit whose
 * records a reform handed to unit_id (merge, split part or close successor, followed
 * through several reforms). The agent's unit becomes unit_id; every token bound to it
 * before is revoked (*revoked counts them). Inside a write transaction. Returns an
 * enum auth_enroll_result (the token in `token` only on AUTH_ENROLL_OK), or -1. */
int auth_enroll_agent(struct store *s, const char *unit_id, const char *name,
		      const char *agent_id, int64_t now_ms, char token[47], int *revoked);

/* Revokes every token whose prefix starts with `what` (a token prefix such as
 * "lk_AbCdEfGh", or a whole token) or that is bound to agent id `what`. Inside a write
 * transaction. Returns the number revoked, or -1. */
int auth_revoke(struct store *s, const char *what, int64_t now_ms);

#endif
