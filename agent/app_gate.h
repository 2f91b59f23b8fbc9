/*
 * app_gate.h — who may use the office app (docs/app-api.md §1): the single-use start
 * secret, the session cookie, the Host and Origin checks against DNS rebinding and
 * other sites, and the CSRF token every write must carry.
 *
 * Pure decisions over the request's headers: no I/O, no clock; randomness only in
 * app_gate_init (OpenSSL through ids.h). The transport (app_server.c) asks
 * app_gate_check before it reads any body, and answers what the verdict says.
 *
 * Invariants: the secret opens at most one session, once (a second use, even by the
 * same browser, is refused); the session id and the CSRF token are 43 base64url
 * characters from 32 random bytes each and are compared in constant time; a request
 * whose Host is not 127.0.0.1:PORT / localhost:PORT never reaches the session check.
 * Owns: nothing (a struct app_gate is plain data, the caller's).
 */
#ifndef LK_AGENT_APP_GATE_H
#define LK_AGENT_APP_GATE_H

#include "ids.h"

#define APP_GATE_COOKIE "lk_app"
#define APP_GATE_CSRF_HEADER "X-CSRF-Token"
#define APP_GATE_SECRET_PARAM "k"
/* 43 base64url characters (32 random bytes) and the terminator. */
#define APP_GATE_TOKEN_TEXT 44

struct app_gate {
	unsigned port;                     /* the port the server listens on */
	char secret[APP_GATE_TOKEN_TEXT];  /* the start secret (printed in the URL) */
	int secret_used;
	char session[APP_GATE_TOKEN_TEXT]; /* "" until the secret was used */
	char csrf[APP_GATE_TOKEN_TEXT];    /* given to the page by /api/meta */
};

/* What a request carries that the gate looks at. Every string may be NULL (absent). */
struct app_gate_request {
	const char *method;         /* "GET", "POST", … */
	const char *path;           /* without the query */
	const char *secret;         /* the query parameter k */
	const char *host;           /* Host header */
	const char *origin;         /* Origin header */
	const char *sec_fetch_site; /* Sec-Fetch-Site header */
	const char *cookie;         /* the lk_app cookie's value */
	const char *csrf;           /* X-CSRF-Token header */
};

enum app_gate_verdict {
	APP_GATE_PASS = 0,     /* serve it */
	APP_GATE_START,        /* the secret's first use: session made; 303 to / with the cookie */
	APP_GATE_TO_ROOT,      /* a live session followed a start link again: 303 to /, no cookie */
	APP_GATE_MISDIRECTED,  /* Host not ours: 421 */
	APP_GATE_CROSS_SITE,   /* Origin / Sec-Fetch-Site of another site: 403 */
	APP_GATE_NO_SESSION,   /* no (valid) session cookie, or a wrong or used secret: 403 */
	APP_GATE_NO_CSRF,      /* a write without the right X-CSRF-Token: 403 */
};

/* Fresh random secret and CSRF token, no session, port 0 (set it once bound).
 * 0, or -1 when the random source fails. */
int app_gate_init(struct app_gate *g);

/* The verdict for request r. APP_GATE_START also writes the new session into g (so a
 * second START is impossible). */
enum app_gate_verdict app_gate_check(struct app_gate *g, const struct app_gate_request *r);

/* "lk_app=SESSION; HttpOnly; SameSite=Strict; Path=/" into buf (cap bytes). 0, or -1
 * when there is no session yet or buf is too small. */
int app_gate_cookie(const struct app_gate *g, char *buf, size_t cap);

#endif
