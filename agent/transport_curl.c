/*
 * transport_curl.c — the libcurl back end of transport.h; the only file that includes
 * curl.
 *
 * Invariant: every request goes to base_url + path with certificates verified,
 * redirects off (a 3xx is an error), only http/https, and the answer cut off at
 * TRANSPORT_MAX_ANSWER_BYTES. Plain http is refused at construction unless the host is
 * loopback. Timeouts suit a 2G link: connect within TRANSPORT_CONNECT_TIMEOUT_S, and a
 * transfer slower than TRANSPORT_LOW_SPEED_BYTES per second for
 * TRANSPORT_LOW_SPEED_TIME_S seconds is dropped (the sync resumes next time).
 * Owns: one CURL easy handle reused across requests (keeps the TLS session), the URL,
 * token header and CA path.
 */
#include "transport.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* 2G takes a few seconds for DNS + TCP + TLS; a minute is generous but bounded. */
#define TRANSPORT_CONNECT_TIMEOUT_S 60L
/* 2G gives 5–30 KB/s; below 100 B/s for a minute the link is dead. */
#define TRANSPORT_LOW_SPEED_BYTES 100L
#define TRANSPORT_LOW_SPEED_TIME_S 60L
/* A hard ceiling for one request: a 64 KiB batch or a 4 MiB page at 2G speed. */
#define TRANSPORT_TOTAL_TIMEOUT_S 900L
/* URLs and headers we build. */
#define TRANSPORT_URL_MAX 2048
#define TRANSPORT_HEADER_MAX 256

struct transport_curl {
	struct transport base; /* first: the interface */
	CURL *curl;
	char *base_url;        /* without trailing '/' */
	char *auth_header;     /* "Authorization: Bearer …" or NULL */
	char *ca_file;
	char *pins; /* CURLOPT_PINNEDPUBLICKEY, or NULL */
};

struct answer_buf {
	unsigned char *data;
	size_t len, cap;
	int too_large;
	int deflated;
};

const char *transport_result_str(enum transport_result r)
{
	switch (r) {
	case TRANSPORT_OK: return "ok";
	case TRANSPORT_NOMEM: return "out of memory";
	case TRANSPORT_BAD_URL: return "bad hub URL";
	case TRANSPORT_INSECURE: return "plain http refused for a non-loopback host";
	case TRANSPORT_UNREACHABLE: return "hub unreachable";
	case TRANSPORT_TLS: return "TLS or certificate failure";
	case TRANSPORT_CA_FILE: return "CA file unusable or not the hub's";
	case TRANSPORT_REDIRECT: return "hub answered a redirect (never followed)";
	case TRANSPORT_TOO_LARGE: return "answer too large";
	case TRANSPORT_CANCELLED: return "cancelled";
	case TRANSPORT_FAILED: return "transport failure";
	}
	return "unknown";
}

void transport_response_release(struct transport_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int transport_host_is_loopback(const char *host)
{
	if (!host)
		return 0;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return 1;
	if (strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0)
		return 1;
	/* 127.0.0.0/8 written as a dotted quad: four decimal parts, the first 127. */
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	int parts = 1;
	const char *p = host + 4;
	while (*p) {
		int digits = 0;
		long v = 0;
		while (isdigit((unsigned char)*p) && digits < 4) {
			v = v * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return 0;
		parts++;
		if (*p == '.')
			p++;
		else if (*p)
			return 0;
		else
			break;
	}
	return parts == 4;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer_buf *b = userdata;
	size_t n = size * nmemb;
	if (n > TRANSPORT_MAX_ANSWER_BYTES || b->len + n > TRANSPORT_MAX_ANSWER_BYTES) {
		b->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		unsigned char *d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = 0;
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer_buf *b = userdata;
	size_t n = size * nmemb;
	static const char name[] = "content-encoding:";
	if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
		const char *v = ptr + sizeof name - 1;
		size_t vl = n - (sizeof name - 1);
		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		b->deflated = vl >= 7 && strncasecmp(v, "deflate", 7) == 0;
	}
	/* A new response (e.g. after 100-continue) starts with a status line. */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		b->deflated = 0;
	return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct transport_curl *tc = clientp;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return tc->base.cancel && tc->base.cancel(tc->base.cancel_ctx) ? 1 : 0;
}

static enum transport_result curl_request(struct transport *t, const struct transport_request *req,
					  struct transport_response *resp, char *err, size_t errlen)
{
	struct transport_curl *tc = (struct transport_curl *)t;
	struct answer_buf b = { 0 };
	struct curl_slist *hdrs = NULL, *tmp;
	char url[TRANSPORT_URL_MAX];
	char errbuf[CURL_ERROR_SIZE] = "";
	enum transport_result rc = TRANSPORT_FAILED;
	long status = 0;

	if (err && errlen)
		err[0] = 0;
	if ((size_t)snprintf(url, sizeof url, "%s%s", tc->base_url, req->path) >= sizeof url) {
		rc = TRANSPORT_BAD_URL;
		if (err)
			snprintf(err, errlen, "URL too long");
		goto out;
	}
	curl_easy_reset(tc->curl);
	static const char *const fixed[] = {
		"Accept-Encoding: deflate",
		"Expect:", /* no 100-continue round trip on a slow link */
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		tmp = curl_slist_append(hdrs, fixed[i]);
		if (!tmp) {
			rc = TRANSPORT_NOMEM;
			goto out;
		}
		hdrs = tmp;
	}
	if (req->body) {
		static const char *const body_hdrs[] = { "Content-Type: application/json",
							 "Content-Encoding: deflate" };
		for (size_t i = 0; i < 2; i++) {
			tmp = curl_slist_append(hdrs, body_hdrs[i]);
			if (!tmp) {
				rc = TRANSPORT_NOMEM;
				goto out;
			}
			hdrs = tmp;
		}
	}
	if (req->authenticated && tc->auth_header) {
		tmp = curl_slist_append(hdrs, tc->auth_header);
		if (!tmp) {
			rc = TRANSPORT_NOMEM;
			goto out;
		}
		hdrs = tmp;
	}

	CURLcode cc = CURLE_OK;
#define SETOPT(opt, val)                                           \
	do {                                                       \
		if (cc == CURLE_OK)                                \
			cc = curl_easy_setopt(tc->curl, opt, val); \
	} while (0)
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_MAXREDIRS, 0L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (tc->ca_file)
		SETOPT(CURLOPT_CAINFO, tc->ca_file);
	if (tc->pins) /* checked after the usual verification, before any byte is sent */
		SETOPT(CURLOPT_PINNEDPUBLICKEY, tc->pins);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, TRANSPORT_CONNECT_TIMEOUT_S);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, TRANSPORT_LOW_SPEED_BYTES);
	SETOPT(CURLOPT_LOW_SPEED_TIME, TRANSPORT_LOW_SPEED_TIME_S);
	SETOPT(CURLOPT_TIMEOUT, TRANSPORT_TOTAL_TIMEOUT_S);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TRANSPORT_MAX_ANSWER_BYTES);
	SETOPT(CURLOPT_HTTPHEADER, hdrs);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, &b);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, &b);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(CURLOPT_XFERINFODATA, tc);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_USERAGENT, "lienket-agent/" LK_VERSION);
	if (strcmp(req->method, "POST") == 0) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
	} else {
		SETOPT(CURLOPT_HTTPGET, 1L);
	}
#undef SETOPT
	if (cc != CURLE_OK) {
		if (err)
			snprintf(err, errlen, "curl setup: %s", curl_easy_strerror(cc));
		rc = TRANSPORT_FAILED;
		goto out;
	}

	cc = curl_easy_perform(tc->curl);
	if (cc != CURLE_OK) {
		switch (cc) {
		case CURLE_WRITE_ERROR:
			rc = b.too_large ? TRANSPORT_TOO_LARGE : TRANSPORT_NOMEM;
			break;
		case CURLE_FILESIZE_EXCEEDED:
			rc = TRANSPORT_TOO_LARGE;
			break;
		case CURLE_ABORTED_BY_CALLBACK:
			rc = TRANSPORT_CANCELLED;
			break;
		case CURLE_URL_MALFORMAT:
		case CURLE_UNSUPPORTED_PROTOCOL:
			rc = TRANSPORT_BAD_URL;
			break;
		case CURLE_SSL_CACERT_BADFILE:
			rc = TRANSPORT_CA_FILE;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_ISSUER_ERROR:
			/* with the province's CA file configured, a certificate it does not
			 * vouch for means the wrong file was given */
			rc = tc->ca_file ? TRANSPORT_CA_FILE : TRANSPORT_TLS;
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			rc = TRANSPORT_TLS;
			break;
		case CURLE_OUT_OF_MEMORY:
			rc = TRANSPORT_NOMEM;
			break;
		default:
			/* DNS, connect, send/recv, timeouts, empty reply: the link. */
			rc = TRANSPORT_UNREACHABLE;
			break;
		}
		if (err)
			snprintf(err, errlen, "%s: %s", curl_easy_strerror(cc), errbuf);
		goto out;
	}
	curl_easy_getinfo(tc->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300 && status < 400) {
		rc = TRANSPORT_REDIRECT;
		if (err)
			snprintf(err, errlen, "HTTP %ld redirect refused", status);
		goto out;
	}
	/* A 2xx answer must say its length and arrive whole. A link cut inside the answer's
	 * headers can leave curl with a status and no body and no error: that is the link's
	 * fault (try later), not an unusable hub (PROTOCOL.md §6: answers carry
	 * Content-Length). */
	if (status >= 200 && status < 300) {
		curl_off_t expect = -1;
		if (curl_easy_getinfo(tc->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expect) != CURLE_OK ||
		    expect < 0 || (size_t)expect != b.len) {
			rc = TRANSPORT_UNREACHABLE;
			if (err)
				snprintf(err, errlen, "answer cut short: %zu of %lld bytes", b.len,
					 (long long)expect);
			goto out;
		}
	}
	resp->status = (int)status;
	resp->body = b.data;
	resp->len = b.len;
	resp->deflated = b.deflated;
	b.data = NULL;
	rc = TRANSPORT_OK;
out:
	curl_slist_free_all(hdrs);
	free(b.data);
	return rc;
}

static void curl_free_transport(struct transport *t)
{
	struct transport_curl *tc = (struct transport_curl *)t;
	if (!tc)
		return;
	if (tc->curl)
		curl_easy_cleanup(tc->curl);
	free(tc->base_url);
	if (tc->auth_header) {
		/* The token is a secret: do not leave it in freed memory. */
		volatile char *p = tc->auth_header;
		while (*p)
			*p++ = 0;
	}
	free(tc->auth_header);
	free(tc->ca_file);
	free(tc->pins);
	free(tc);
}

static const struct transport_ops curl_ops = { curl_request, curl_free_transport };

/* Checks scheme and host of url with curl's own parser (the one that will connect). */
static int check_url(const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "cannot parse hub URL '%s'", url);
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
	} else if (strcasecmp(scheme, "http") == 0) {
		if (transport_host_is_loopback(host))
			rc = 0;
		else
			snprintf(err, errlen,
				 "hub URL '%s' must use https (plain http only on loopback)", url);
	} else {
		snprintf(err, errlen, "hub URL '%s': scheme '%s' not allowed", url, scheme);
	}
	/* A URL with a query or fragment would mangle our paths. */
	if (rc == 0) {
		char *q = NULL;
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK && q) {
			snprintf(err, errlen, "hub URL '%s' must not have a query", url);
			rc = -1;
		}
		curl_free(q);
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int transport_curl_new(const char *base_url, const char *token, const char *ca_file,
		       struct transport **out, char *err, size_t errlen)
{
	return transport_curl_new_pinned(base_url, token, ca_file, NULL, out, err, errlen);
}

int transport_curl_new_pinned(const char *base_url, const char *token, const char *ca_file,
			      const char *pins, struct transport **out, char *err, size_t errlen)
{
	struct transport_curl *tc = NULL;
	int rc = -1;
	static int global_done;

	if (!base_url || !*base_url) {
		snprintf(err, errlen, "no hub URL configured");
		goto out;
	}
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "cannot initialise libcurl");
			goto out;
		}
		global_done = 1;
	}
	if (check_url(base_url, err, errlen) != 0)
		goto out;
	if (token && (strchr(token, '\r') || strchr(token, '\n') ||
		      strlen(token) > TRANSPORT_HEADER_MAX - 32)) {
		snprintf(err, errlen, "malformed token");
		goto out;
	}
	tc = calloc(1, sizeof *tc);
	if (!tc) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	tc->base.ops = &curl_ops;
	tc->base_url = strdup(base_url);
	if (!tc->base_url) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t n = strlen(tc->base_url);
	while (n && tc->base_url[n - 1] == '/')
		tc->base_url[--n] = 0;
	if (token && *token) {
		tc->auth_header = malloc(TRANSPORT_HEADER_MAX);
		if (!tc->auth_header) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		snprintf(tc->auth_header, TRANSPORT_HEADER_MAX, "Authorization: Bearer %s", token);
	}
	if (ca_file && *ca_file) {
		tc->ca_file = strdup(ca_file);
		if (!tc->ca_file) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (pins && *pins) {
		tc->pins = strdup(pins);
		if (!tc->pins) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	tc->curl = curl_easy_init();
	if (!tc->curl) {
		snprintf(err, errlen, "cannot create a curl handle");
		goto out;
	}
	*out = &tc->base;
	tc = NULL;
	rc = 0;
out:
	curl_free_transport(tc ? &tc->base : NULL);
	return rc;
}
