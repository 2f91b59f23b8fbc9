/*
 * transport.h — the agent's one way to talk to the hub: a request with a body, an
 * answer with a status and a body. A small table of functions, so the libcurl back end
 * (transport_curl.c), a Windows back end or a test fake are interchangeable.
 *
 * Invariant: a transport never follows a redirect, never accepts an answer larger than
 * TRANSPORT_MAX_ANSWER_BYTES, and (for the curl back end) never sends a byte over
 * plain http to a host that is not loopback. Bodies are passed through untouched: the
 * caller compresses requests and inflates answers (zio.h), the transport only sets the
 * protocol headers (PROTOCOL.md §6) and reports the answer's Content-Encoding.
 */
#ifndef LK_AGENT_TRANSPORT_H
#define LK_AGENT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* The largest answer body accepted, as received (usually compressed). A pull page is at
 * most 4 MiB inflated (PROTOCOL.md §11), so its compressed form is smaller still; a
 * hostile hub sending more is cut off here before it costs memory. */
#define TRANSPORT_MAX_ANSWER_BYTES (4u << 20)

enum transport_result {
	TRANSPORT_OK = 0,      /* an HTTP answer arrived (any status but 3xx) */
	TRANSPORT_NOMEM,
	TRANSPORT_BAD_URL,     /* the hub URL cannot be parsed */
	TRANSPORT_INSECURE,    /* plain http to a host that is not loopback: refused before connecting */
	TRANSPORT_UNREACHABLE, /* DNS, connect, reset, timeout, too slow: try later */
	TRANSPORT_TLS,         /* certificate not verified, TLS handshake failed */
	TRANSPORT_CA_FILE,     /* the configured CA file cannot be read, or does not vouch for
				  the hub's certificate: a set-up error, waiting will not help */
	TRANSPORT_REDIRECT,    /* the hub answered 3xx: never followed */
	TRANSPORT_TOO_LARGE,   /* the answer exceeds TRANSPORT_MAX_ANSWER_BYTES */
	TRANSPORT_CANCELLED,   /* the cancel callback asked to stop */
	TRANSPORT_FAILED,      /* any other local failure */
};

/* An answer. body is owned by the response (NUL-terminated for convenience, len not
 * counting the NUL); release with transport_response_release. */
struct transport_response {
	int status;
	unsigned char *body;
	size_t len;
	int deflated; /* 1 when the answer says Content-Encoding: deflate */
};
void transport_response_release(struct transport_response *r); /* accepts NULL */

struct transport_request {
	const char *method;          /* "GET" or "POST" */
	const char *path;            /* "/v1/hello", "/v1/pull?cursor=0&limit=500", "/healthz" */
	const unsigned char *body;   /* POST: the zlib-compressed JSON; NULL for GET */
	size_t body_len;
	int authenticated;           /* 1: send Authorization: Bearer <token> */
};

struct transport;
struct transport_ops {
	/* One request. On TRANSPORT_OK *resp is filled (release it); on any other result
	 * *resp is untouched and err (may be NULL) holds an English reason. */
	enum transport_result (*request)(struct transport *t, const struct transport_request *req,
					 struct transport_response *resp, char *err, size_t errlen);
	void (*free)(struct transport *t);
};
struct transport {
	const struct transport_ops *ops;
	/* Optional: polled during a transfer; returning nonzero aborts it
	 * (TRANSPORT_CANCELLED). Used by the daemon to stop cleanly on SIGTERM. */
	int (*cancel)(void *ctx);
	void *cancel_ctx;
};

static inline enum transport_result transport_request(struct transport *t,
						      const struct transport_request *req,
						      struct transport_response *resp,
						      char *err, size_t errlen)
{
	return t->ops->request(t, req, resp, err, errlen);
}
static inline void transport_free(struct transport *t)
{
	if (t)
		t->ops->free(t);
}

/* English text for a result (logs). */
const char *transport_result_str(enum transport_result r);

/* 1 when `host` (as it appears in a URL; "[::1]" accepted) is loopback:
 * 127.0.0.0/8, ::1 or localhost. */
int transport_host_is_loopback(const char *host);

/* The libcurl back end. base_url is the hub ("https://hub.example.vn" or
 * "http://127.0.0.1:8443"), token the agent's bearer token (may be NULL: only
 * unauthenticated routes work), ca_file a PEM bundle to verify the hub with instead of
 * the system's (NULL: system store). Refuses http to a non-loopback host here, before
 * any connection. 0 and *out on success; -1 with an English reason in err. */
int transport_curl_new(const char *base_url, const char *token, const char *ca_file,
		       struct transport **out, char *err, size_t errlen);
/* The same, and the hub's certificate must also carry one of the public keys in pins
 * (libcurl's CURLOPT_PINNEDPUBLICKEY: "sha256//…;sha256//…", from a join code,
 * PROTOCOL.md §12); NULL or "": no pinning. A key that matches none: TRANSPORT_TLS,
 * before any byte of the request is sent. */
int transport_curl_new_pinned(const char *base_url, const char *token, const char *ca_file,
			      const char *pins, struct transport **out, char *err, size_t errlen);

#endif
