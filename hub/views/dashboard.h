/*
 * dashboard.h — what the province reads over HTTP: the dashboard page (`GET /`, and
 * `POST /` for its login form), the report as JSON (`GET /v1/report`) and the sync
 * status as JSON (`GET /v1/status`). api.c routes to these; they know nothing of
 * libmicrohttpd.
 *
 * Logins and sessions are login.h's (viewer accounts: viewer.h). Login (PROTOCOL.md
 * §10, "Dashboard login"): the page takes a viewer token once —
 * from its login form (POST, application/x-www-form-urlencoded, field `token`; the
 * body is plain, never deflated), accepted only as a same-origin post (Origin, else
 * Referer, names this hub), or from a link `/?token=…` that the browser did not follow
 * from another site (Sec-Fetch-Site none or same-origin; without it a same-origin
 * Referer) — checks it, opens a session (session.h) and answers 303 to an address
 * without the token with `lk_session=<session id>; Max-Age=…; HttpOnly;
 * SameSite=Strict; Path=/` (plus `Secure` over TLS). Every later page authenticates by
 * that session; agent tokens get 403, unknown or revoked ones the login form (401), a
 * cross-site login 403 and no cookie. `/?logout=1` ends the session and clears the
 * cookie. HTML answers carry a Content-Security-Policy (no script, never framed) and
 * Referrer-Policy no-referrer (the login form: same-origin, so that the browser sends
 * its Origin). The token is never logged, echoed or put in a cookie.
 *
 * Each request reads through its own store connection (env->rs, from api.c's pool:
 * one thread at a time), so nothing here is shared between threads.
 *
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_DASHBOARD_H
#define LK_HUB_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "store.h"

#define DASHBOARD_MAX_TOKEN 128   /* longer cookie or form values are not tokens or sessions */
#define DASHBOARD_HTML_TYPE "text/html; charset=utf-8"

struct dashboard_env {
	struct store *rs;       /* the request's read connection: tokens, sessions, the views */
	int64_t now_ms;
	int tls;                /* 1: served over HTTPS (cookie gets Secure; the origin is https) */
	const char *client;     /* the client's address (failed logins are counted by it) */
	/* Runs fn(ws, arg) in a write transaction on the writer's store (sessions); returns
	 * fn's result, or -1 when the transaction failed. */
	int (*write)(void *write_ctx, int (*fn)(struct store *ws, void *arg), void *arg);
	void *write_ctx;
};

/* A client's fault or ours, for the JSON routes: status 4xx/5xx, a §7.1 code, the
 * field at fault ("" when none) and an English message. */
struct dashboard_error {
	int status;
	char code[32];
	char field[16];
	char message[256];
};

/* GET / (the page, or the login form) and POST / (login). Always fills resp (HTML,
 * a redirect, or an error page); never logs. */
void dashboard_page(const struct dashboard_env *env, const struct api_request *req,
		    struct api_response *resp);

/* The page itself (after login) is dashpage_write (dashpage.h). */

/* 1 when s is a year "YYYY" / a unit id or code of [A-Za-z0-9_.-] (at most 64). */
int dashboard_year_wellformed(const char *s);
int dashboard_unit_wellformed(const char *s);

/* GET /v1/report?unit=U&year=Y, the caller having checked the viewer token. unit is
 * a unit id or code (NULL: the province root); year NULL means the current year in
 * Vietnam. Returns 0 and *json (malloc'd, report_write_json), or -1 with *e filled. */
int dashboard_report_json(struct store *s, const char *unit, const char *year,
			  int64_t now_ms, char **json, struct dashboard_error *e);

/* GET /v1/status: 0 and *json (malloc'd, status_write_json), or -1 with *e filled. */
int dashboard_status_json(struct store *s, int64_t now_ms, char **json,
			  struct dashboard_error *e);

#endif
