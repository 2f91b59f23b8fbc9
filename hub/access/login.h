/*
 * login.h — who is reading the dashboard: its login forms and its sessions
 * (PROTOCOL.md §10, "Dashboard login" and "Viewer accounts").
 *
 * login_admit answers everything about logging in and out on the dashboard's routes:
 *   - POST / with fields `name`, `password` (and `remember=1`): a viewer account
 *     (viewer.h), throttled per name and per client address (429 and a Vietnamese
 *     page saying so and for how long);
 *   - POST / with field `token`, or GET /?token=…: a viewer token (operators; the
 *     rules of PROTOCOL.md §10 on where a login may come from apply to both);
 *   - GET /?invite=li_…: the one-time link of an account: a form to set the password;
 *     POST / with `invite`, `password`, `password2` sets it (once) and logs in;
 *   - /?logout=1 ends the session.
 * Otherwise it checks the session cookie: live, it fills *who and returns 0 (the page
 * is the caller's to write); else it has filled resp (the login form, 401) and
 * returns 1.
 *
 * Pages are Vietnamese, readable at 390 px. Nothing here logs; a password, token or
 * link secret is never written anywhere but into the hash functions.
 * Owns: nothing between calls.
 */
#ifndef LK_HUB_LOGIN_H
#define LK_HUB_LOGIN_H

#include <stdint.h>

#include "api.h"
#include "dashboard.h"
#include "session.h"

#define LOGIN_HTML_TYPE "text/html; charset=utf-8"
#define LOGIN_MAX_FIELD 300 /* longest form value kept: a password of VIEWER_PASSWORD_MAX */

/* 0: a live session, *who filled, resp untouched. 1: resp filled (login form, redirect
 * after a login or logout, a refusal or an error page). */
int login_admit(const struct dashboard_env *env, const struct api_request *req,
		struct api_response *resp, struct session_who *who);

/* Fills resp with a Vietnamese HTML page: title, a message (escaped) and a link back
 * to the dashboard, with the dashboard's security headers. */
void login_message_page(struct api_response *resp, int status, const char *title,
			const char *message);

/* Takes ownership of body (malloc'd HTML; NULL: out of memory → 500) and answers it
 * with the dashboard's headers (CSP, no-referrer). */
void login_html_answer(struct api_response *resp, int status, char *body);

#endif
