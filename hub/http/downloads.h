/*
 * downloads.h — what a leader takes away from the dashboard: the morning digest as
 * mailed (`GET /digest/DATE[?unit=U]`) and the report as a spreadsheet
 * (`GET /report.xlsx?unit=U&year=Y`). Both authenticate like the page (login.h: the
 * session cookie, else the login form); an account limited to a subtree gets its own
 * unit by default and 403 (a Vietnamese page) for a unit outside it.
 *
 * /digest/DATE serves the digest recorded when it was mailed (digestmail.h: the very
 * HTML body the leaders received); a date never mailed is built now, as `digest`
 * would (cut-off 07:00). api.c routes to these; they know nothing of libmicrohttpd.
 * Owns: per request, its SQLite connection.
 */
#ifndef LK_HUB_DOWNLOADS_H
#define LK_HUB_DOWNLOADS_H

#include "api.h"
#include "dashboard.h"

/* GET /digest/DATE: date is the path after "/digest/" (any text: checked here). */
void dashboard_digest(const struct dashboard_env *env, const struct api_request *req,
		      const char *date, struct api_response *resp);

/* GET /report.xlsx. */
void dashboard_xlsx(const struct dashboard_env *env, const struct api_request *req,
		    struct api_response *resp);

#endif
