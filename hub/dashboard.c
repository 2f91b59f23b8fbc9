/*
 * dashboard.c — the dashboard page, its cookie login, and the JSON of /v1/report and
 * /v1/status (see dashboard.h for the login rules).
 *
 * The page: a unit picker (the province, its districts, their communes, as of today)
 * and a year picker (a plain GET form, no script), a summary table of the thirteen
 * figures whose cells carry data-figure / data-measure / data-value / data-of
 * attributes (what the browser test compares with /v1/report), the sync status of
 * the chosen unit's offices (status_write_html after status_keep_subtree) and the
 * full report with its SVG charts (report_write_html).
 * No external asset: styles are inline, charts are inline SVG.
 *
 * Invariant: every text from the database or the request is HTML-escaped; a token is
 * read from the request and handed to auth_check, never written anywhere else except
 * the Set-Cookie header of the login answer.
 * Owns: per request, its SQLite connection, report and status (freed before return).
 */
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "dashpage.h"
#include "ids.h"
#include "report.h"
#include "session.h"
#include "status.h"
#include "textout.h"
#include "unittree.h"

#define DASHBOARD_ORIGIN_MAX 300 /* "https://" + a Host header of at most 255 bytes */

/* No script, nothing from outside (styles are inline, charts inline SVG), forms only to
 * the hub itself, and never inside another site's frame (clickjacking). */
#define DASHBOARD_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
		      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define REFERRER_NONE "no-referrer"
/* The login form's page: its own post must carry an Origin (PROTOCOL.md §10). */
#define REFERRER_LOGIN "same-origin"

/* ---- small helpers ---- */

static void error_set(struct dashboard_error *e, int status, const char *code, const char *field,
		      const char *message)
{
	e->status = status;
	snprintf(e->code, sizeof e->code, "%s", code);
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	snprintf(e->message, sizeof e->message, "%s", message);
}

/* A unit id or code from the query: only [A-Za-z0-9_.-], at most 64 characters. */
static int safe_unit(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* ---- JSON routes ---- */

int dashboard_report_json(const char *db_path, const char *unit, const char *year,
			  int64_t now_ms, char **json, struct dashboard_error *e)
{
	char today[11], err[256];
	int y, rc = -1;
	sqlite3 *db = NULL;
	struct report *r = NULL;
	struct report_error re = { 0 };
	char *text = NULL;
	size_t len = 0;
	int cur = dashpage_current_year(now_ms, today);
	if (dashpage_parse_year(year, cur, &y) != 0) {
		error_set(e, 400, "bad_message", "year", "year is not YYYY");
		goto done;
	}
	if (status_db_open(db_path, &db, err, sizeof err) != 0) {
		error_set(e, 500, "internal", NULL, err);
		goto done;
	}
	if (report_build(db, unit, y, today, &r, &re) != REPORT_OK) {
		int st = report_http_status(re.code);
		error_set(e, st, st == 400 ? "bad_message" : st == 404 ? "not_found" : "internal",
			  re.field, re.message);
		goto done;
	}
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		error_set(e, 500, "internal", NULL, "out of memory");
		goto done;
	}
	int wr = report_write_json(r, f);
	if (fclose(f) != 0 || wr != REPORT_OK) {
		error_set(e, 500, "internal", NULL, "cannot write the report");
		goto done;
	}
	*json = text;
	text = NULL;
	rc = 0;
done:
	free(text);
	report_free(r);
	sqlite3_close(db);
	return rc;
}

int dashboard_status_json(const char *db_path, int64_t now_ms, char **json,
			  struct dashboard_error *e)
{
	char err[256];
	int rc = -1;
	sqlite3 *db = NULL;
	struct status *st = NULL;
	char *text = NULL;
	size_t len = 0;
	if (status_db_open(db_path, &db, err, sizeof err) != 0 ||
	    status_build(db, now_ms, &st, err, sizeof err) != 0) {
		error_set(e, 500, "internal", NULL, err);
		goto done;
	}
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		error_set(e, 500, "internal", NULL, "out of memory");
		goto done;
	}
	int wr = status_write_json(st, f);
	if (fclose(f) != 0 || wr != 0) {
		error_set(e, 500, "internal", NULL, "cannot write the status");
		goto done;
	}
	*json = text;
	text = NULL;
	rc = 0;
done:
	free(text);
	status_free(st);
	sqlite3_close(db);
	return rc;
}

/* ---- responses ---- */

/* Takes ownership of body (malloc'd HTML, may be NULL: out of memory → 500). */
static void html_answer(struct api_response *resp, int status, char *body)
{
	free(resp->body);
	if (!body) {
		static const char oom[] = "<!DOCTYPE html><p>Lỗi máy chủ: hết bộ nhớ.</p>";
		body = strdup(oom);
		status = 500;
	}
	resp->status = status;
	resp->content_type = DASHBOARD_HTML_TYPE;
	resp->content_encoding = NULL;
	resp->csp = DASHBOARD_CSP;
	resp->referrer_policy = REFERRER_NONE;
	resp->body = (unsigned char *)body;
	resp->body_len = body ? strlen(body) : 0;
}

static void login_page(struct api_response *resp, int status, const char *message)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		html_answer(resp, 500, NULL);
		return;
	}
	dashpage_head(f, "Liên Kết — đăng nhập", REFERRER_LOGIN);
	fputs("<header><h1>Liên Kết — Tỉnh đoàn</h1></header><main>", f);
	if (message) {
		fputs("<p class=\"err\">", f);
		textout_html(f, message);
		fputs("</p>", f);
	}
	fputs("<form class=\"pick\" method=\"post\" action=\"/\">"
	      "<p>Nhập mã truy cập dành cho người xem (do quản trị máy chủ tỉnh cấp bằng lệnh "
	      "<code>lienket-hub enroll --viewer</code>).</p>"
	      "<label>Mã truy cập <input type=\"password\" name=\"token\" autocomplete=\"off\" "
	      "size=\"50\"></label> <button type=\"submit\">Đăng nhập</button></form>"
	      "</main></body></html>", f);
	int bad = fclose(f) != 0;
	if (bad) {
		free(text);
		text = NULL;
	}
	html_answer(resp, status, text);
	if (text)
		resp->referrer_policy = REFERRER_LOGIN;
}

static void redirect(struct api_response *resp, const char *location, const char *cookie)
{
	snprintf(resp->location, sizeof resp->location, "%s", location);
	if (cookie)
		snprintf(resp->set_cookie, sizeof resp->set_cookie, "%s", cookie);
	html_answer(resp, 303, strdup("<!DOCTYPE html><p>Đang chuyển trang…</p>"));
}

/* ---- login ---- */

/* The value of cookie `name` from a Cookie header, copied into out. 0, or -1. */
static int cookie_value(const char *header, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl == 0 || vl >= n)
				return -1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p = end;
	}
	return -1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The `token` field of an application/x-www-form-urlencoded body. 0, or -1. */
static int form_token(const unsigned char *body, size_t len, char *out, size_t n)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && body[j] != '&')
			j++;
		if (j - i > 6 && memcmp(body + i, "token=", 6) == 0) {
			size_t o = 0;
			for (size_t k = i + 6; k < j; k++) {
				char c = (char)body[k];
				if (c == '+')
					c = ' ';
				else if (c == '%' && k + 2 < j && hexval((char)body[k + 1]) >= 0 &&
					 hexval((char)body[k + 2]) >= 0) {
					c = (char)(hexval((char)body[k + 1]) * 16 + hexval((char)body[k + 2]));
					k += 2;
				}
				if (o + 1 >= n)
					return -1;
				out[o++] = c;
			}
			out[o] = '\0';
			/* pasted tokens often carry spaces or a newline around them */
			while (o && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\r'))
				out[--o] = '\0';
			size_t lead = strspn(out, " \r\n");
			memmove(out, out + lead, strlen(out + lead) + 1);
			return out[0] ? 0 : -1;
		}
		i = j + 1;
	}
	return -1;
}

/* Checks a token. Returns 0 viewer, 403 agent, 401 unknown/revoked/missing, 500. */
static int check_token(const struct dashboard_env *env, const char *token)
{
	char header[DASHBOARD_MAX_TOKEN + 16];
	struct store_token t;
	if (!token || !*token || strlen(token) > DASHBOARD_MAX_TOKEN)
		return 401;
	snprintf(header, sizeof header, "Bearer %s", token);
	switch (auth_check(env->rs, header, &t)) {
	case AUTH_OK:
		return t.kind == STORE_TOKEN_VIEWER ? 0 : 403;
	case AUTH_FAILED:
		return 500;
	default:
		return 401;
	}
}

/* ---- where a login comes from (PROTOCOL.md §10) ---- */

/* The origin "scheme://host[:port]" of the first len bytes of u, lower-cased, the
 * scheme's default port left out, into out. -1 when it is not http(s) or has user
 * information. */
static int origin_norm(const char *u, size_t len, char out[DASHBOARD_ORIGIN_MAX])
{
	int https = len >= 8 && strncasecmp(u, "https://", 8) == 0;
	if (!https && !(len >= 7 && strncasecmp(u, "http://", 7) == 0))
		return -1;
	if (len >= DASHBOARD_ORIGIN_MAX || memchr(u, '@', len))
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] - 'A' + 'a' : u[i]);
	const char *dflt = https ? ":443" : ":80";
	size_t dl = strlen(dflt);
	if (len > dl && memcmp(out + len - dl, dflt, dl) == 0)
		len -= dl;
	out[len] = '\0';
	return 0;
}

/* The hub's own origin as a browser names it: https when served so (ours or the
 * trusted proxy's), and the Host the browser asked for. -1 without a usable Host. */
static int own_origin(const struct dashboard_env *env, const struct api_request *req,
		      char out[DASHBOARD_ORIGIN_MAX])
{
	char u[DASHBOARD_ORIGIN_MAX + 8];
	if (!req->host || !*req->host || strpbrk(req->host, "/?#\\ \t"))
		return -1;
	int k = snprintf(u, sizeof u, "%s://%s", env->tls ? "https" : "http", req->host);
	if (k < 0 || (size_t)k >= sizeof u)
		return -1;
	return origin_norm(u, (size_t)k, out);
}

/* 1 when the URL u (an Origin: nothing after the authority; a Referer: a path after
 * it) names the origin own. */
static int names_origin(const char *own, const char *u, int referer)
{
	char got[DASHBOARD_ORIGIN_MAX];
	const char *p = strstr(u, "://");
	if (!p)
		return 0;
	size_t end = (size_t)(p + 3 - u) + strcspn(p + 3, "/?#");
	if (referer ? u[end] != '/' : u[end] != '\0')
		return 0;
	return origin_norm(u, end, got) == 0 && strcmp(own, got) == 0;
}

/* 1 when the Referer names this hub (no Referer: 0). */
static int same_origin_referer(const char *own, const struct api_request *req)
{
	return req->referer && names_origin(own, req->referer, 1);
}

/* A login form post: its Origin names this hub, or, with no Origin (or "null"), its
 * Referer does. Both absent or another site's: refused (login CSRF). */
static int post_allowed(const struct dashboard_env *env, const struct api_request *req)
{
	char own[DASHBOARD_ORIGIN_MAX];
	if (own_origin(env, req, own) != 0)
		return 0;
	if (req->origin && strcmp(req->origin, "null") != 0)
		return names_origin(own, req->origin, 0);
	return same_origin_referer(own, req);
}

/* A login link: a navigation the browser says did not come from another site
 * (Sec-Fetch-Site none: typed, pasted, bookmarked, from another program; or
 * same-origin). Without Sec-Fetch-Site, a Referer that names this hub. */
static int link_allowed(const struct dashboard_env *env, const struct api_request *req)
{
	char own[DASHBOARD_ORIGIN_MAX];
	if (req->sec_fetch_site)
		return strcmp(req->sec_fetch_site, "none") == 0 ||
		       strcmp(req->sec_fetch_site, "same-origin") == 0;
	return own_origin(env, req, own) == 0 && same_origin_referer(own, req);
}

/* ---- sessions, through the writer ---- */

struct session_job {
	const char *token_hash; /* start */
	const char *id;         /* touch, end */
	int64_t now_ms;
	char new_id[SESSION_ID_TEXT];
};

static int start_job(struct store *ws, void *arg)
{
	struct session_job *j = arg;
	return session_start(ws, j->token_hash, j->now_ms, j->new_id);
}

static int touch_job(struct store *ws, void *arg)
{
	struct session_job *j = arg;
	return session_touch(ws, j->id, j->now_ms);
}

static int end_job(struct store *ws, void *arg)
{
	struct session_job *j = arg;
	return session_end(ws, j->id);
}

static int run_job(const struct dashboard_env *env, int (*fn)(struct store *, void *),
		   struct session_job *j)
{
	return env->write ? env->write(env->write_ctx, fn, j) : -1;
}

static void login_with(const struct dashboard_env *env, const struct api_request *req,
		       struct api_response *resp, const char *token)
{
	int rc = check_token(env, token);
	if (rc == 403) {
		login_page(resp, 403, "Mã này là của một văn phòng xã (máy đồng bộ), không dùng để xem "
				      "trang của tỉnh. Hãy dùng mã dành cho người xem.");
		return;
	}
	if (rc == 500) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra mã. Hãy thử lại sau.");
		return;
	}
	if (rc != 0) {
		login_page(resp, 401, "Mã truy cập không đúng hoặc đã bị thu hồi.");
		return;
	}
	char token_hash[65];
	struct session_job j = { .token_hash = token_hash, .now_ms = env->now_ms };
	ids_token_hash(token, token_hash);
	if (run_job(env, start_job, &j) != 0) {
		login_page(resp, 500, "Lỗi máy chủ khi mở phiên đăng nhập. Hãy thử lại sau.");
		return;
	}
	char cookie[256], location[160] = "/";
	snprintf(cookie, sizeof cookie,
		 SESSION_COOKIE "=%s; Max-Age=%lld; HttpOnly; SameSite=Strict; Path=/%s", j.new_id,
		 SESSION_MAX_AGE_MS / 1000, env->tls ? "; Secure" : "");
	const char *u = req->query ? req->query(req->query_ctx, "unit") : NULL;
	const char *y = req->query ? req->query(req->query_ctx, "year") : NULL;
	int year;
	int has_u = safe_unit(u), has_y = y && dashpage_parse_year(y, 0, &year) == 0 && *y;
	if (has_u || has_y)
		snprintf(location, sizeof location, "/?%s%s%s%s%s", has_u ? "unit=" : "",
			 has_u ? u : "", has_u && has_y ? "&" : "", has_y ? "year=" : "",
			 has_y ? y : "");
	redirect(resp, location, cookie);
}

void dashboard_page(const struct dashboard_env *env, const struct api_request *req,
		    struct api_response *resp)
{
	static const char cross_site[] =
		"Trang đăng nhập chỉ nhận mã nhập từ chính trang này. Hãy nhập mã truy cập vào "
		"ô dưới đây (hoặc dán liên kết đăng nhập vào thanh địa chỉ của trình duyệt).";
	char token[DASHBOARD_MAX_TOKEN + 1];
	const char *q_token = req->query ? req->query(req->query_ctx, "token") : NULL;
	if (req->method && strcmp(req->method, "POST") == 0) {
		if (!post_allowed(env, req)) {
			login_page(resp, 403, cross_site);
			return;
		}
		if (form_token(req->body, req->body_len, token, sizeof token) != 0) {
			login_page(resp, 400, "Hãy nhập mã truy cập.");
			return;
		}
		login_with(env, req, resp, token);
		return;
	}
	if (q_token) {
		if (!link_allowed(env, req)) {
			login_page(resp, 403, cross_site);
			return;
		}
		login_with(env, req, resp, q_token);
		return;
	}
	int has_cookie = req->cookie &&
			 cookie_value(req->cookie, SESSION_COOKIE, token, sizeof token) == 0;
	struct session_job j = { .id = token, .now_ms = env->now_ms };
	const char *logout = req->query ? req->query(req->query_ctx, "logout") : NULL;
	if (logout) {
		if (has_cookie && run_job(env, end_job, &j) != 0) {
			login_page(resp, 500, "Lỗi máy chủ khi đăng xuất. Hãy thử lại sau.");
			return;
		}
		redirect(resp, "/", SESSION_COOKIE "=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
		return;
	}
	if (!has_cookie) {
		login_page(resp, 401, NULL);
		return;
	}
	enum session_state ss = session_check(env->rs, token, env->now_ms);
	if (ss == SESSION_ENDED) {
		login_page(resp, 401, "Phiên đăng nhập đã hết hiệu lực. Hãy đăng nhập lại.");
		return;
	}
	if (ss == SESSION_FAILED || (ss == SESSION_STALE && run_job(env, touch_job, &j) != 0)) {
		login_page(resp, 500, "Lỗi máy chủ khi kiểm tra phiên đăng nhập. Hãy thử lại sau.");
		return;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		html_answer(resp, 500, NULL);
		return;
	}
	const char *unit = req->query ? req->query(req->query_ctx, "unit") : NULL;
	const char *year = req->query ? req->query(req->query_ctx, "year") : NULL;
	int status = dashpage_write(env->db_path, unit, year, env->now_ms, f);
	if (fclose(f) != 0 || status == 500) {
		free(text);
		text = strdup("<!DOCTYPE html><html lang=\"vi\"><meta charset=\"utf-8\">"
			      "<p>Lỗi máy chủ: không đọc được cơ sở dữ liệu. Hãy thử lại sau.</p></html>");
		status = 500;
	}
	html_answer(resp, status, text);
}
