/*
 * api.h — the hub's HTTP API as plain function calls, independent of any HTTP library.
 *
 * server.c (libmicrohttpd) turns each HTTP request into a `struct api_request`, calls
 * api_handle, and sends the `struct api_response` back. Everything the routes of
 * PROTOCOL.md §10 do — authentication, decoding, merging, pulling, status, metrics —
 * happens behind this call, so the whole API can be tested without sockets.
 *
 * Thread safety: api_handle may be called from many threads at once on one `struct
 * api`; the implementation serialises what must be (group commit).
 */
#ifndef LK_HUB_API_H
#define LK_HUB_API_H

#include <stddef.h>
#include <stdint.h>

struct api;

struct api_options {
	const char *db_path;       /* the provincial database (must exist: `lienket-hub init`) */
	int trust_proxy;           /* 1: take the client address from X-Forwarded-For */
	int64_t max_ahead_ms;      /* drift limit; 0 = HLC_MAX_AHEAD_MS */
	int tls;                   /* 1: served over HTTPS (the dashboard cookie gets Secure) */
};

/* Opens the store and prepares to serve. On success returns 0 and sets *out (free
 * with api_free). On failure returns -1 and writes an English reason into err. */
int api_new(const struct api_options *opt, struct api **out, char *err, size_t errlen);
void api_free(struct api *a);

/* One request. All strings are borrowed for the duration of the call; header values
 * are NULL when absent. */
struct api_request {
	const char *method;            /* "GET", "POST", … */
	const char *path;              /* "/v1/changes" (no query string) */
	const char *(*query)(void *ctx, const char *key); /* a query argument or NULL */
	void *query_ctx;
	const char *authorization;     /* "Authorization" header */
	const char *content_encoding;  /* "Content-Encoding" header */
	const char *accept_encoding;   /* "Accept-Encoding" header */
	const char *cookie;            /* "Cookie" header */
	const char *content_type;      /* "Content-Type" header */
	const unsigned char *body;     /* raw body as received (compressed), may be NULL */
	size_t body_len;
	const char *client;            /* peer address, for logs */
	const char *forwarded_for;     /* "X-Forwarded-For" header, or NULL */
	const char *forwarded_proto;   /* "X-Forwarded-Proto" header, or NULL: with
					* trust_proxy, "https" means the client's link is HTTPS
					* (the dashboard cookie then gets Secure) */
	/* What the dashboard's login checks (PROTOCOL.md §10): where a form post or a
	 * link came from. */
	const char *host;              /* "Host" header */
	const char *origin;            /* "Origin" header */
	const char *referer;           /* "Referer" header */
	const char *sec_fetch_site;    /* "Sec-Fetch-Site" header */
};

/* What to log for the request (one line per request; never a token). */
struct api_log {
	char agent[37];
	char unit[37];
	uint64_t seq_from, seq_to;
	int shape;       /* a change set's shape (PROTOCOL.md §6.2a): 1 or 2 */
	int64_t applied, quarantined;
	char error[32]; /* the error code, if any */
	char client[64]; /* the client's address: with trust_proxy, the last address of
			  * X-Forwarded-For (the one our proxy added), else req->client */
};

/* The answer. body is owned by the response; release with api_response_release. */
struct api_response {
	int status;
	const char *content_type;      /* static string */
	const char *content_encoding;  /* "deflate" or NULL (static) */
	unsigned char *body;           /* malloc'd; may be NULL for an empty body */
	size_t body_len;
	char location[256];            /* Location header when non-empty (redirects) */
	char set_cookie[256];          /* Set-Cookie header when non-empty */
	const char *csp;               /* Content-Security-Policy header, or NULL (static) */
	const char *referrer_policy;   /* Referrer-Policy header, or NULL (static) */
	struct api_log log;
};

/* Handles one request; always fills *resp (an error is an error response, never a
 * failure of this call). */
void api_handle(struct api *a, const struct api_request *req, struct api_response *resp);
void api_response_release(struct api_response *resp);

/* Builds the JSON error body of PROTOCOL.md §7.1 into resp (for errors the server
 * layer detects itself: too large, timeout, busy, bad method). */
void api_error_response(struct api_response *resp, int status, const char *code,
			const char *message);

/* Admission of a request body, decided from the request line and headers alone, before
 * the server reserves memory for the body (PROTOCOL.md §11): a route that needs a token
 * is authenticated first, so a client without a valid token never holds the upload
 * budget; an open route (the dashboard's login form) may send at most
 * API_OPEN_BODY_BYTES. */
#define API_OPEN_BODY_BYTES 4096 /* the login form is `token=lk_…`, under 100 bytes */
struct api_admission {
	int authenticated;  /* 1: a valid token; key names it */
	char key[65];       /* the token's SHA-256 (hex): what the server caps per token */
	size_t max_body;    /* the largest body this request may send */
};
/* Fills *out and returns 0 when the request may send its body; returns 1 after filling
 * resp with the refusal (404, 405, 401 unauthorized/revoked, 403 forbidden, 500, 503)
 * to answer before reading it. */
int api_admit(struct api *a, const char *method, const char *path, const char *authorization,
	      struct api_admission *out, struct api_response *resp);

/* Counts a request the server refused before reaching api_handle (for /metrics). */
void api_count_refused(struct api *a, int status, size_t bytes_in);

#endif
