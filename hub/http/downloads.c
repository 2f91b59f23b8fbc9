/*
 * downloads.c — /digest/DATE and /report.xlsx (see downloads.h).
 *
 * Invariant: the scope is decided before anything is read for it: the unit asked for
 * (id or code), else the account's own unit, else the province; a unit outside an
 * account's subtree is refused before its figures are built.
 * Owns: per request, its unit tree (freed before return); reads through the request's
 * store connection (env->rs).
 */
#include "downloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "login.h"
#include "status.h"
#include "store.h"
#include "unittree.h"
#include "xlsx.h"

#define DIGEST_CUTOFF_HH 7 /* what `lienket-hub digest` uses by default */

static const char *query(const struct api_request *req, const char *key)
{
	return req->query ? req->query(req->query_ctx, key) : NULL;
}

/* The scope of a request into scope (a unit id; "" the province): 0; 403 outside the
 * account's subtree; 404 an unknown unit; 500. */
static int scope_of(struct store *s, const struct session_who *who, const char *asked,
		    const char *today, char scope[37])
{
	struct unittree *t = NULL;
	char err[256];
	int rc = 500;
	if (store_units_tree(s, &t, err, sizeof err) != 0)
		return 500;
	const char *id = NULL;
	if (asked && *asked) {
		id = unittree_intern(t, asked);
		if (!id)
			id = unittree_find_code(t, asked, today, today);
		if (!id) {
			rc = 404;
			goto done;
		}
	} else if (who->unit_id[0]) {
		id = who->unit_id;
	}
	if (who->unit_id[0] && !unittree_in_subtree(t, who->unit_id, id, today)) {
		rc = 403;
		goto done;
	}
	snprintf(scope, 37, "%s", id ? id : "");
	rc = 0;
done:
	unittree_free(t);
	return rc;
}

static void refuse_scope(struct api_response *resp, int status)
{
	if (status == 403)
		login_message_page(resp, 403, "Không được xem",
				   "Tài khoản của bạn chỉ được xem số liệu của đơn vị mình và các đơn "
				   "vị trực thuộc; trang này là của đơn vị khác.");
	else if (status == 404)
		login_message_page(resp, 404, "Không có đơn vị này",
				   "Không có đơn vị với mã này. Hãy chọn đơn vị trên trang chính.");
	else
		login_message_page(resp, 500, "Lỗi máy chủ",
				   "Lỗi máy chủ: không đọc được cơ sở dữ liệu. Hãy thử lại sau.");
}

/* The request's scope (scope_of, unit from the query): 0, or -1 after answering the
 * refusal (500, 403, 404). */
static int scoped(const struct dashboard_env *env, const struct api_request *req,
		  const struct session_who *who, const char *today, char scope[37],
		  struct api_response *resp)
{
	int st = scope_of(env->rs, who, query(req, "unit"), today, scope);
	if (st != 0) {
		refuse_scope(resp, st);
		return -1;
	}
	return 0;
}

/* 1 when date is YYYY-MM-DD. */
static int date_wellformed(const char *d)
{
	int64_t ms;
	return d && strlen(d) == 10 && status_vn_ms(d, 0, 0, &ms) == 0;
}

void dashboard_digest(const struct dashboard_env *env, const struct api_request *req,
		      const char *date, struct api_response *resp)
{
	struct session_who who = { 0 };
	char today[11], scope[37], err[256];
	if (login_admit(env, req, resp, &who) != 0)
		return;
	if (!date_wellformed(date)) {
		login_message_page(resp, 404, "Không có báo cáo này",
				   "Địa chỉ báo cáo buổi sáng là /digest/NĂM-THÁNG-NGÀY, ví dụ "
				   "/digest/2026-12-08.");
		return;
	}
	status_vn_date(env->now_ms, today);
	if (scoped(env, req, &who, today, scope, resp) != 0)
		return;
	struct store_digest_mail m;
	int rc = env->rs->digest_mail_get(env->rs, date, scope, &m);
	if (rc < 0) {
		refuse_scope(resp, 500);
		return;
	}
	if (rc == 0) { /* as mailed */
		login_html_answer(resp, 200, m.html);
		m.html = NULL;
		store_digest_mail_release(&m);
		return;
	}
	struct digest_texts t;
	rc = digest_build(env->rs, date, DIGEST_CUTOFF_HH, 0, scope, &t, err, sizeof err);
	if (rc != 0) {
		refuse_scope(resp, rc > 0 ? 404 : 500);
		return;
	}
	login_html_answer(resp, 200, t.html);
	t.html = NULL;
	digest_texts_release(&t);
}

void dashboard_xlsx(const struct dashboard_env *env, const struct api_request *req,
		    struct api_response *resp)
{
	struct session_who who = { 0 };
	char today[11], scope[37], err[256];
	unsigned char *bytes = NULL;
	size_t len = 0;
	if (login_admit(env, req, resp, &who) != 0)
		return;
	status_vn_date(env->now_ms, today);
	const char *y = query(req, "year");
	int year = atoi(today);
	if (y && *y) {
		if (!dashboard_year_wellformed(y) || atoi(y) > year || atoi(y) < 2000) {
			login_message_page(resp, 400, "Năm không hợp lệ",
					   "Năm phải là một năm từ 2000 đến năm nay, ví dụ 2025.");
			return;
		}
		year = atoi(y);
	}
	if (scoped(env, req, &who, today, scope, resp) != 0)
		return;
	int rc = xlsx_report_bytes(env->rs, scope[0] ? scope : NULL, year, today, NULL, &bytes, &len, err,
				   sizeof err);
	if (rc != 0) {
		refuse_scope(resp, rc > 0 ? 404 : 500);
		return;
	}
	free(resp->body);
	resp->status = 200;
	resp->content_type = XLSX_TYPE;
	resp->content_encoding = NULL;
	resp->body = bytes;
	resp->body_len = len;
	resp->referrer_policy = "no-referrer";
}
