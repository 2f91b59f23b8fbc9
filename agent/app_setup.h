/*
 * app_setup.h — the office app's first screen (docs/app-api.md §9; issue 16: "the
 * office app's first screen sets everything up from that one string").
 *
 * On a laptop with no database yet, `lienket-agent app` serves the page with this API
 * instead of the records': the secretary pastes the join code from the province's
 * sheet; the agent decodes it (commands_join_decode: the code of `init --join`), asks
 * the hub which office it sets up (GET /v1/whoami with the code's token, through its
 * pinned keys: PROTOCOL.md §12; nothing is bound on the hub, nothing is created on the
 * laptop), and the page shows that office. On confirmation the same check runs again
 * and the database is created (commands_init_joined); the server then serves the app
 * itself (app_server.c). Every refusal is a Vietnamese sentence saying what to do: a
 * mistyped, damaged or foreign code, a code the province revoked or replaced, a code
 * already used on another laptop, a hub that does not answer or answers with another
 * certificate.
 *
 * Transport-free like app_api.h (same request and response). Not thread-safe: the
 * server's one thread calls it. The hub is asked synchronously (libcurl's time limits).
 */
#ifndef LK_AGENT_APP_SETUP_H
#define LK_AGENT_APP_SETUP_H

#include "app_api.h"

struct app_setup;

/* 1 when the laptop has no database at db yet (the first screen is needed), else 0. */
int app_setup_needed(const char *db);

/* The first screen for the database to create at db (copied), with the session's
 * CSRF token (copied). NULL when out of memory. */
struct app_setup *app_setup_new(const char *db, const char *csrf);
void app_setup_free(struct app_setup *st); /* accepts NULL */

/*
 *   GET  /api/meta          → 200 {"csrf", "setup": true, "today"}
 *   POST /api/setup/check   {"code"} → 200 {"unit", "unit_name", "unit_code", "unit_kind",
 *                            "parent_name", "hub"} or {"error"} with 422 (the code, or
 *                            the hub refused it: revoked, unknown, a viewer's), 409
 *                            (used on another laptop), 502 (the hub did not answer,
 *                            or not as it should). Never 401/403: those are the
 *                            app's own session (the page would say it ended).
 *   POST /api/setup/join    {"code"} → 201 {"joined": true} once the database exists;
 *                            the refusals of check, or 409 when the database exists
 *   anything else under /api/ → 409 {"error"} (the laptop is not set up yet)
 * Returns 1 when this request created the database (the caller switches to the app),
 * else 0.
 */
int app_setup_handle(struct app_setup *st, const struct app_api_request *req, struct app_api_response *resp);

#endif
