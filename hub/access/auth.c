/*
 * auth.c — tokens (see auth.h).
 *
 * Invariant: a token's text is never stored or logged; lookups go by SHA-256 and the
 * stored hash is compared with ids_secure_equal. A token is bound to one agent id,
 * which it created (an id never seen before) or which the province named at
 * enrolment; it never takes over an id another laptop uses. The only re-binding is
 * the one after a refused fork (recover) or after a restore of the hub that the
 * binding predates or that lost acknowledged entries, to a new never-seen id; it
 * retires the old id and links it to the new one (PROTOCOL.md §9).
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The hub_id under which t's binding (or enrolment) was made, kept in hub_meta under
 * "token_era:<hash>" (PROTOCOL.md §9). */
static int era_key(const struct store_token *t, char key[80])
{
	int n = snprintf(key, 80, "token_era:%s", t->hash);
	return n > 0 && n < 80 ? 0 : -1;
}

static int era_set(struct store *s, const struct store_token *t)
{
	char key[80], hub_id[40];
	if (era_key(t, key) != 0 || s->meta_get(s, "hub_id", hub_id, sizeof hub_id) != 0)
		return -1;
	return s->meta_set(s, key, hub_id);
}

/* 1 when t's binding was made under an earlier hub_id (the hub was restored since),
 * 0 not (or not recorded), -1 failure. */
static int era_before(struct store *s, const struct store_token *t)
{
	char key[80], era[40], hub_id[40];
	if (era_key(t, key) != 0 || s->meta_get(s, "hub_id", hub_id, sizeof hub_id) != 0)
		return -1;
	int rc = s->meta_get(s, key, era, sizeof era);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return era[0] && strcmp(era, hub_id) != 0;
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
	return s->token_put(s, &t) == 0 && era_set(s, &t) == 0 ? 0 : -1;
}

/* How many recovers a retired id is followed through to the token's id. */
#define AUTH_MAX_RETIRED_HOPS 16
/* Units followed through reform events at enrolment (a province has ~1000). */
#define AUTH_MAX_HANDED_UNITS 4096

struct bound_ctx {
	const char *agent_id;
	const char *except_hash; /* the asking token */
	int found;
};

static int bound_match(void *ctx, const struct store_token *t)
{
	struct bound_ctx *B = ctx;
	if (strcmp(t->agent_id, B->agent_id) != 0 || strcmp(t->hash, B->except_hash) == 0)
		return 0;
	B->found = 1;
	return 1; /* stop the scan */
}

/* 1 when the hub has seen agent_id: an agent record, its own id, or a token (other
 * than t) bound to it; 0 never seen; -1 failure. */
static int id_seen(struct store *s, const struct store_token *t, const char *agent_id)
{
	struct store_agent a;
	char hub_id[40];
	int rc = s->agent_get(s, agent_id, &a);
	if (rc <= 0)
		return rc < 0 ? -1 : 1;
	rc = s->meta_get(s, "hub_id", hub_id, sizeof hub_id);
	if (rc < 0)
		return -1;
	if (rc == 0 && strcmp(hub_id, agent_id) == 0)
		return 1;
	struct bound_ctx B = { .agent_id = agent_id, .except_hash = t->hash };
	rc = s->tokens_list(s, bound_match, &B);
	if (rc < 0 || (rc != 0 && !B.found))
		return -1;
	return B.found;
}

/* 1 when the retired agent a was retired, through recovers, into t's id. */
static int retired_into(struct store *s, const struct store_token *t, const struct store_agent *a)
{
	struct store_agent cur = *a;
	for (int i = 0; i < AUTH_MAX_RETIRED_HOPS && cur.retired_to[0]; i++) {
		if (strcmp(cur.retired_to, t->agent_id) == 0)
			return 1;
		int rc = s->agent_get(s, cur.retired_to, &cur);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	return 0;
}

/* Binds t to agent_id (never seen) and creates its agent record. 0 or -1. */
static int bind_new(struct store *s, struct store_token *t, const char *agent_id, int64_t now_ms)
{
	struct store_agent a;
	memset(&a, 0, sizeof a);
	snprintf(a.id, sizeof a.id, "%s", agent_id);
	snprintf(a.unit_id, sizeof a.unit_id, "%s", t->unit_id);
	memset(a.chain, '0', 64);
	a.chain[64] = '\0';
	a.first_seen_ms = now_ms;
	snprintf(t->agent_id, sizeof t->agent_id, "%s", agent_id);
	return s->token_put(s, t) == 0 && s->agent_put(s, &a) == 0 && era_set(s, t) == 0 ? 0 : -1;
}

int auth_bind(struct store *s, struct store_token *t, const char *agent_id, int64_t now_ms)
{
	struct store_agent a;
	struct store_token now;
	/* The binding as stored now, not as the request read it: another hub process on
	 * the same database may have bound the token since. Read in the write transaction
	 * (PostgreSQL: under the token's lock, held to the commit), so one binding wins. */
	int k = s->token_get(s, t->hash, &now);
	if (k < 0)
		return -1;
	if (k == 0)
		*t = now;
	int found = s->agent_get(s, agent_id, &a);
	if (found < 0)
		return -1;
	if (found == 0 && a.retired_to[0]) {
		int r = strcmp(t->agent_id, agent_id) == 0 ? 1 : retired_into(s, t, &a);
		if (r < 0)
			return -1;
		return r ? AUTH_BIND_RETIRED : AUTH_BIND_REFUSED;
	}
	if (t->agent_id[0] && strcmp(t->agent_id, agent_id) == 0)
		return AUTH_BIND_OK;
	/* Only an id nobody has used: never one an office saw in pulled rows. */
	int seen = found == 0 ? 1 : id_seen(s, t, agent_id);
	if (seen != 0)
		return seen < 0 ? -1 : AUTH_BIND_REFUSED;
	if (t->agent_id[0] == '\0')
		return bind_new(s, t, agent_id, now_ms) == 0 ? AUTH_BIND_OK : -1;
	/* recover (after a refused fork, or a binding older than the hub's restore):
	 * retire the old id, link it to the new one, bind. */
	int before = t->fork_refused ? 0 : era_before(s, t);
	if (before < 0)
		return -1;
	if (!t->fork_refused && !before)
		return AUTH_BIND_REFUSED;
	struct store_agent old;
	int rc = s->agent_get(s, t->agent_id, &old);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(old.retired_to, sizeof old.retired_to, "%s", agent_id);
		if (s->agent_put(s, &old) != 0)
			return -1;
	}
	t->fork_refused = 0;
	t->rebound = 1;
	return bind_new(s, t, agent_id, now_ms) == 0 ? AUTH_BIND_OK : -1;
}

/* Units whose records reform events handed to one another, followed from one unit. */
struct handed {
	char (*ids)[37];
	size_t n;
	int grew, failed;
};

static int handed_has(const struct handed *H, const char *id)
{
	for (size_t i = 0; i < H->n; i++)
		if (strcmp(H->ids[i], id) == 0)
			return 1;
	return 0;
}

static int handed_step(void *ctx, const char *unit, const char *into, const char *on)
{
	struct handed *H = ctx;
	(void)on;
	if (!handed_has(H, unit) || handed_has(H, into))
		return 0;
	if (H->n == AUTH_MAX_HANDED_UNITS) {
		H->failed = 1;
		return 1;
	}
	snprintf(H->ids[H->n++], sizeof H->ids[0], "%s", into);
	H->grew = 1;
	return 0;
}

/* 1 when `from`'s records reached `to` (the same unit, or through reform events), 0
 * not, -1 failure. */
static int handed_to(struct store *s, const char *from, const char *to)
{
	struct handed H = { 0 };
	int rc = -1;
	if (strcmp(from, to) == 0)
		return 1;
	H.ids = calloc(AUTH_MAX_HANDED_UNITS, sizeof *H.ids);
	if (!H.ids)
		return -1;
	snprintf(H.ids[H.n++], sizeof H.ids[0], "%s", from);
	do {
		H.grew = 0;
		if (s->unit_merges(s, handed_step, &H) < 0 || H.failed)
			goto done;
	} while (H.grew && !handed_has(&H, to));
	rc = handed_has(&H, to);
done:
	free(H.ids);
	return rc;
}

int auth_enroll_agent(struct store *s, const char *unit_id, const char *name,
		      const char *agent_id, int64_t now_ms, char token[47], int *revoked)
{
	struct store_agent a;
	struct store_token t = { 0 };
	char tok[IDS_TOKEN_TEXT];
	int rc = s->agent_get(s, agent_id, &a);
	if (rc != 0)
		return rc < 0 ? -1 : AUTH_ENROLL_UNKNOWN_AGENT;
	if (a.retired_to[0])
		return AUTH_ENROLL_RETIRED;
	rc = handed_to(s, a.unit_id, unit_id);
	if (rc != 1)
		return rc < 0 ? -1 : AUTH_ENROLL_OTHER_UNIT;
	/* A token belongs to one laptop: the reinstalled laptop's new one replaces the old. */
	int n = auth_revoke(s, agent_id, now_ms);
	if (n < 0)
		return -1;
	snprintf(a.unit_id, sizeof a.unit_id, "%s", unit_id);
	if (s->agent_put(s, &a) != 0 || ids_token_new(tok) != 0)
		return -1;
	ids_token_hash(tok, t.hash);
	snprintf(t.prefix, sizeof t.prefix, "%.*s", STORE_TOKEN_PREFIX, tok);
	t.kind = STORE_TOKEN_AGENT;
	snprintf(t.unit_id, sizeof t.unit_id, "%s", unit_id);
	snprintf(t.name, sizeof t.name, "%s", name ? name : "");
	snprintf(t.agent_id, sizeof t.agent_id, "%s", agent_id);
	t.created_ms = now_ms;
	if (s->token_put(s, &t) != 0 || era_set(s, &t) != 0)
		return -1;
	memcpy(token, tok, IDS_TOKEN_TEXT);
	if (revoked)
		*revoked = n;
	return AUTH_ENROLL_OK;
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
