/*
 * auth.c — tokens (see auth.h).
 *
 * Invariant: a token's text is never stored or logged; lookups go by SHA-256 and the
 * stored hash is compared with ids_secure_equal. A token is bound to one agent id;
 * the only re-binding is the one after a refused fork (recover), which retires the old
 * id and links it to the new one.
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include "ids.h"

#define AUTH_SCHEME "Bearer "

enum auth_result auth_check(struct store *s, const char *authorization, struct store_token *out)
{
	char hash[65];
	struct store_token t;
	if (!authorization || strncmp(authorization, AUTH_SCHEME, strlen(AUTH_SCHEME)) != 0)
		return AUTH_MISSING;
	const char *tok = authorization + strlen(AUTH_SCHEME);
	while (*tok == ' ')
		tok++;
	if (!ids_token_wellformed(tok))
		return AUTH_MISSING;
	ids_token_hash(tok, hash);
	int rc = s->token_get(s, hash, &t);
	if (rc < 0)
		return AUTH_FAILED;
	if (rc == 1 || !ids_secure_equal(t.hash, hash, 64))
		return AUTH_UNKNOWN;
	if (t.revoked_ms)
		return AUTH_REVOKED;
	*out = t;
	return AUTH_OK;
}

int auth_enroll(struct store *s, const char *unit_id, const char *name, int64_t now_ms,
		char token[47])
{
	struct store_token t = { 0 };
	if (ids_token_new(token) != 0)
		return -1;
	ids_token_hash(token, t.hash);
	snprintf(t.prefix, sizeof t.prefix, "%.*s", STORE_TOKEN_PREFIX, token);
	t.kind = unit_id ? STORE_TOKEN_AGENT : STORE_TOKEN_VIEWER;
	snprintf(t.unit_id, sizeof t.unit_id, "%s", unit_id ? unit_id : "");
	snprintf(t.name, sizeof t.name, "%s", name ? name : "");
	t.created_ms = now_ms;
	return s->token_put(s, &t);
}

int auth_bind(struct store *s, struct store_token *t, const char *agent_id, int64_t now_ms)
{
	if (strcmp(t->agent_id, agent_id) == 0)
		return 0;
	if (t->agent_id[0] == '\0') {
		snprintf(t->agent_id, sizeof t->agent_id, "%s", agent_id);
		return s->token_put(s, t);
	}
	if (!t->fork_refused || t->rebound)
		return 1;
	/* recover: retire the old id, link it to the new one, bind once. */
	struct store_agent old;
	int rc = s->agent_get(s, t->agent_id, &old);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(old.retired_to, sizeof old.retired_to, "%s", agent_id);
		if (s->agent_put(s, &old) != 0)
			return -1;
	}
	(void)now_ms;
	snprintf(t->agent_id, sizeof t->agent_id, "%s", agent_id);
	t->fork_refused = 0;
	t->rebound = 1;
	return s->token_put(s, t);
}

struct revoke_ctx {
	struct store *s;
	const char *what;
	int64_t now_ms;
	int n;
	int failed;
	struct store_token *hits;
	size_t nhits, cap;
};

static int revoke_match(void *ctx, const struct store_token *t)
{
	struct revoke_ctx *R = ctx;
	size_t wl = strlen(R->what);
	int hit = 0;
	if (t->revoked_ms)
		return 0;
	if (strcmp(t->agent_id, R->what) == 0 && t->agent_id[0])
		hit = 1;
	else if (wl >= 7 && wl <= STORE_TOKEN_PREFIX && strncmp(t->prefix, R->what, wl) == 0)
		hit = 1;
	else if (wl > STORE_TOKEN_PREFIX && ids_token_wellformed(R->what)) {
		char h[65];
		ids_token_hash(R->what, h);
		hit = ids_secure_equal(h, t->hash, 64);
	}
	if (!hit)
		return 0;
	struct store_token c = *t;
	c.revoked_ms = R->now_ms;
	if (R->s->token_put(R->s, &c) != 0) {
		R->failed = 1;
		return -1;
	}
	R->n++;
	return 0;
}

int auth_revoke(struct store *s, const char *what, int64_t now_ms)
{
	struct revoke_ctx R = { .s = s, .what = what, .now_ms = now_ms };
	/* Writing while the token scan is open is safe in SQLite (rows are replaced, not
	 * moved in scan order: the scan is by created time). */
	if (s->tokens_list(s, revoke_match, &R) != 0 || R.failed)
		return -1;
	return R.n;
}
