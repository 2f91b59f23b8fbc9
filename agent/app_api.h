/*
 * app_api.h — the office app's JSON API (docs/app-api.md §3–§7): the forms an office
 * keeps, their lists with folded search, pickers, writes, sync, figures, CSV.
 *
 * Transport-free: app_server.c hands each request that passed the gate (app_gate.h)
 * to app_api_handle and sends the response back; tests call it directly.
 *
 * Writes go through records.h — the very code of `lienket-agent add|set|rm` — inside
 * one BEGIN IMMEDIATE per request, so a form's rows (a branch's unit, name and parent
 * link; a meeting and its branches) are all written or none, and every wrong field of
 * a form is reported at once (422) with nothing written. A link to a record that does
 * not exist is refused at entry.
 *
 * Search: lists and pickers match the query's search key (textnorm_fold: case,
 * diacritics and đ ignored) inside the keys of a row's texts, choice labels, dates as
 * dd/mm/yyyy and the names of the records it links to, through an SQLite function
 * lk_match registered on the store's connection (app_search.h; agent-local indexes on
 * the link columns are made at app_api_new; they are not part of the synced schema).
 *
 * Not thread-safe: one thread calls app_api_handle (the server runs one). The store
 * and the sync are borrowed and must outlive the api.
 */
#ifndef LK_AGENT_APP_API_H
#define LK_AGENT_APP_API_H

#include <stddef.h>

#include "app_sync.h"
#include "store.h"

/* Largest JSON body a write takes, and a CSV import (the server refuses larger bodies
 * before reading them: 413). A form is a few KiB; a CSV of a year's records ~ MiB. */
#define APP_API_JSON_MAX (64u << 10)
#define APP_API_CSV_MAX (16u << 20)

struct app_api_request {
	const char *method;       /* "GET", "POST", "PUT", "DELETE" */
	const char *path;         /* "/api/…", without the query */
	/* The query parameter `name`, or NULL when absent. */
	const char *(*param)(void *ctx, const char *name);
	void *param_ctx;
	const char *content_type; /* NULL when absent */
	const char *body;         /* not terminated; NULL when none */
	size_t body_len;
};

struct app_api_response {
	unsigned status;
	const char *content_type; /* static */
	char *body;               /* malloc'd, body_len bytes (NULL: empty) */
	size_t body_len;
	char disposition[160];    /* Content-Disposition, "" for none */
};

struct app_api;

/* An api over store s (borrowed; its unit must be set), with the session's CSRF token
 * (copied) and the sync runner (borrowed; may be NULL: /api/sync answers 503). NULL
 * when out of memory or SQLite refuses the function or indexes (err says why). */
struct app_api *app_api_new(struct store *s, const char *csrf, struct app_sync *sync, char *err,
			    size_t errlen);
void app_api_free(struct app_api *a); /* accepts NULL */

/* Answers one request (path under /api/). Always fills resp; free its body with
 * app_api_response_release. */
void app_api_handle(struct app_api *a, const struct app_api_request *req, struct app_api_response *resp);
void app_api_response_release(struct app_api_response *resp);

/* Which body cap applies to a write to path (APP_API_JSON_MAX or APP_API_CSV_MAX), and
 * whether content_type is one that route accepts (1) or not (0). */
size_t app_api_body_max(const char *path);
int app_api_content_type_ok(const char *path, const char *content_type);

#endif
