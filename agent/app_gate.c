/*
 * app_gate.c — the office app's gate (see app_gate.h).
 *
 * Order of the checks, each refusing before the next is looked at: Host (421), Origin
 * and Sec-Fetch-Site (403), then the start secret on `/`, the session cookie, and for
 * every method but GET/HEAD the CSRF token.
 */
#include "app_gate.h"

#include <stdio.h>
#include <string.h>

/* A new 43-character base64url token: ids.h makes "lk_" + 43; the prefix is dropped. */
static int token_new(char out[APP_GATE_TOKEN_TEXT])
{
	char t[IDS_TOKEN_TEXT];
	if (ids_token_new(t) != 0)
		return -1;
	memcpy(out, t + 3, APP_GATE_TOKEN_TEXT);
	memset(t, 0, sizeof t);
	return 0;
}

int app_gate_init(struct app_gate *g)
{
	memset(g, 0, sizeof *g);
	if (token_new(g->secret) != 0 || token_new(g->csrf) != 0)
		return -1;
	return 0;
}

/* Equal to the token `want` (a full token, never ""), in constant time over the token. */
static int token_equal(const char *given, const char *want)
{
	size_t n = strlen(want);
	if (!given || n == 0 || strlen(given) != n)
		return 0;
	return ids_secure_equal(given, want, n);
}

/* host is "127.0.0.1:PORT" or "localhost:PORT" (scheme-less authority). */
static int authority_ours(const struct app_gate *g, const char *host, size_t len)
{
	char want[32];
	static const char *const names[] = { "127.0.0.1", "localhost" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		int n = snprintf(want, sizeof want, "%s:%u", names[i], g->port);
		if (n > 0 && (size_t)n == len && memcmp(host, want, len) == 0)
			return 1;
	}
	return 0;
}

static int origin_ours(const struct app_gate *g, const char *origin)
{
	static const char scheme[] = "http://";
	if (strncmp(origin, scheme, sizeof scheme - 1) != 0)
		return 0;
	const char *a = origin + sizeof scheme - 1;
	return authority_ours(g, a, strlen(a));
}

static int is_read(const char *method)
{
	return method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

enum app_gate_verdict app_gate_check(struct app_gate *g, const struct app_gate_request *r)
{
	if (!g->port || !r->host || !authority_ours(g, r->host, strlen(r->host)))
		return APP_GATE_MISDIRECTED;
	if (r->origin && !origin_ours(g, r->origin))
		return APP_GATE_CROSS_SITE;
	if (r->sec_fetch_site && strcmp(r->sec_fetch_site, "same-origin") != 0 &&
	    strcmp(r->sec_fetch_site, "none") != 0)
		return APP_GATE_CROSS_SITE;
	int live = g->session[0] && token_equal(r->cookie, g->session);
	if (r->secret && r->path && strcmp(r->path, "/") == 0 && is_read(r->method)) {
		if (live)
			return APP_GATE_TO_ROOT;
		if (g->secret_used || !token_equal(r->secret, g->secret))
			return APP_GATE_NO_SESSION;
		if (token_new(g->session) != 0)
			return APP_GATE_NO_SESSION;
		g->secret_used = 1;
		return APP_GATE_START;
	}
	if (!live)
		return APP_GATE_NO_SESSION;
	if (!is_read(r->method) && !token_equal(r->csrf, g->csrf))
		return APP_GATE_NO_CSRF;
	return APP_GATE_PASS;
}

int app_gate_cookie(const struct app_gate *g, char *buf, size_t cap)
{
	if (!g->session[0])
		return -1;
	int n = snprintf(buf, cap, "%s=%s; HttpOnly; SameSite=Strict; Path=/", APP_GATE_COOKIE, g->session);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}
