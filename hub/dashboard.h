/*
 * dashboard.h — what the province reads over HTTP: the dashboard page (`GET /`, and
 * `POST /` for its login form), the report as JSON (`GET /v1/report`) and the sync
 * status as JSON (`GET /v1/status`). api.c routes to these; they know nothing of
 * libmicrohttpd.
 *
 * Login (PROTOCOL.md §10, "viewer (cookie)"): the page takes a viewer token once —
 * from its login form (POST, application/x-www-form-urlencoded, field `token`; the
 * body is plain, never deflated) or from a link `/?token=…` — checks it, sets
 * `lk_session=<token>; HttpOnly; SameSite=Strict; Path=/` (plus `Secure` over TLS)
 * and answers 303 to an address without the token. Every later page authenticates by
 * that cookie; agent tokens get 403, unknown or revoked ones the login form (401).
 * `/?logout=1` clears the cookie. The token is never logged and never echoed.
 *
 * Each request opens its own read-only SQLite connection (report_build and
 * status_build read tables directly; a page is rare next to change sets), so
 * nothing here is shared between threads.
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

#define DASHBOARD_COOKIE "lk_session"
#define DASHBOARD_MAX_TOKEN 128   /* longer cookie or form values are not tokens */
#define DASHBOARD_HTML_TYPE "text/html; charset=utf-8"

struct dashboard_env {
	const char *db_path;
	struct store *rs;       /* a read connection, for checking tokens */
	int64_t now_ms;
	int tls;                /* 1: served over HTTPS (cookie gets Secure) */
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

/* Writes the dashboard page of unit (id or code; NULL/"" the province) and year ("YYYY";
 * NULL the current year in Vietnam) into f, as GET / serves it (`lienket-hub
 * dashboard` writes it to a file). Returns 200; 400 or 404 when the year or unit was
 * bad (the page says so and shows the current year or the province); 500 when the
 * database or f failed (f then holds a partial page). */
int dashboard_write(const char *db_path, const char *unit, const char *year, int64_t now_ms,
		    FILE *f);

/* GET /v1/report?unit=U&year=Y, the caller having checked the viewer token. unit is
 * a unit id or code (NULL: the province root); year NULL means the current year in
 * Vietnam. Returns 0 and *json (malloc'd, report_write_json), or -1 with *e filled. */
int dashboard_report_json(const char *db_path, const char *unit, const char *year,
			  int64_t now_ms, char **json, struct dashboard_error *e);

/* GET /v1/status: 0 and *json (malloc'd, status_write_json), or -1 with *e filled. */
int dashboard_status_json(const char *db_path, int64_t now_ms, char **json,
			  struct dashboard_error *e);

#endif
