/*
 * dashboard.c — the dashboard page behind its login (login.c), and the JSON of
 * /v1/report and /v1/status (see dashboard.h).
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

#include "dashpage.h"
#include "login.h"
#include "report.h"
#include "status.h"
#include "textout.h"
#include "unittree.h"


/* ---- small helpers ---- */

static void error_set(struct dashboard_error *e, int status, const char *code, const char *field,
		      const char *message)
{
	e->status = status;
	snprintf(e->code, sizeof e->code, "%s", code);
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	snprintf(e->message, sizeof e->message, "%s", message);
}

int dashboard_year_wellformed(const char *s)
{
	int y;
	return s && *s && dashpage_parse_year(s, 0, &y) == 0;
}

int dashboard_unit_wellformed(const char *s)
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

int dashboard_report_json(struct store *s, const char *unit, const char *year,
			  int64_t now_ms, char **json, struct dashboard_error *e)
{
	char today[11];
	int y, rc = -1;
	struct report *r = NULL;
	struct report_error re = { 0 };
	char *text = NULL;
	size_t len = 0;
	int cur = dashpage_current_year(now_ms, today);
	if (dashpage_parse_year(year, cur, &y) != 0) {
		error_set(e, 400, "bad_message", "year", "year is not YYYY");
		goto done;
	}
	if (report_build(s, unit, y, today, &r, &re) != REPORT_OK) {
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
	return rc;
}

int dashboard_status_json(struct store *s, int64_t now_ms, char **json,
			  struct dashboard_error *e)
{
	char err[256];
	int rc = -1;
	struct status *st = NULL;
	char *text = NULL;
	size_t len = 0;
	if (status_build(s, now_ms, &st, err, sizeof err) != 0) {
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
	return rc;
}

/* ---- the page ---- */

/* The digests mailed and not yet accepted by the relay (digestmail.h), for the status
 * section: what failed, how often, and that the next run tries again. */
struct mail_notice {
	FILE *f;
	int n;
	int64_t last_sent_ms;
	char last_sent_date[11];
};

static int mail_notice_one(void *ctx, const struct store_digest_mail *m)
{
	struct mail_notice *N = ctx;
	if (m->sent_ms) {
		if (m->sent_ms > N->last_sent_ms) {
			N->last_sent_ms = m->sent_ms;
			snprintf(N->last_sent_date, sizeof N->last_sent_date, "%s", m->date);
		}
		return 0;
	}
	char when[17];
	status_vn_time(m->last_try_ms, when);
	if (N->n++ == 0)
		fputs("<section class=\"lk-mailfail\" id=\"digest-mail\"><h3>Thư báo cáo buổi sáng "
		      "chưa gửi được</h3><ul>", N->f);
	fputs("<li>Báo cáo ngày ", N->f);
	textout_html(N->f, m->date);
	fprintf(N->f, " (%s): đã thử %lld lần, lần cuối lúc ", m->unit_id[0] ? "một huyện" : "toàn tỉnh",
		(long long)m->attempts);
	textout_html(N->f, when);
	fputs("; lỗi: <code>", N->f);
	textout_html(N->f, m->error);
	fputs("</code>. Lần chạy sau của <code>lienket-hub digest --mail</code> sẽ gửi lại; nếu "
	      "lỗi còn, hãy kiểm tra máy chủ thư (<code>lienket-hub mail list</code>).</li>", N->f);
	return 0;
}

/* The notice HTML (malloc'd; "" when nothing failed), or NULL out of memory. */
static char *mail_notice(struct store *rs)
{
	char *text = NULL;
	size_t len = 0;
	struct mail_notice N = { 0 };
	if (!(N.f = open_memstream(&text, &len)))
		return NULL;
	int rc = rs->digest_mails_list(rs, mail_notice_one, &N);
	if (N.n)
		fputs("</ul></section>", N.f);
	if (rc != 0)
		fputs("<p class=\"err\">Không đọc được tình trạng gửi thư báo cáo.</p>", N.f);
	if (fclose(N.f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void dashboard_page(const struct dashboard_env *env, const struct api_request *req,
		    struct api_response *resp)
{
	struct session_who who = { 0 };
	if (login_admit(env, req, resp, &who) != 0)
		return;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		login_html_answer(resp, 500, NULL);
		return;
	}
	const char *unit = req->query ? req->query(req->query_ctx, "unit") : NULL;
	const char *year = req->query ? req->query(req->query_ctx, "year") : NULL;
	char *notice = mail_notice(env->rs);
	int status = dashpage_write_limited(env->rs, unit, year, who.unit_id, notice, env->now_ms,
					    f);
	free(notice);
	if (fclose(f) != 0 || status == 500) {
		free(text);
		text = strdup("<!DOCTYPE html><html lang=\"vi\"><meta charset=\"utf-8\">"
			      "<p>Lỗi máy chủ: không đọc được cơ sở dữ liệu. Hãy thử lại sau.</p></html>");
		status = 500;
	}
	if (status == 403) {
		free(text);
		login_message_page(resp, 403, "Không được xem",
				   "Tài khoản của bạn chỉ được xem số liệu của đơn vị mình và các đơn "
				   "vị trực thuộc; trang này là của đơn vị khác.");
		return;
	}
	login_html_answer(resp, status, text);
}
