/*
 * dashpage.c — the dashboard page (see dashpage.h).
 *
 * The page: a unit picker (the province, its districts, their communes, as of today)
 * and a year picker (a plain GET form, no script), a summary table of the thirteen
 * figures whose cells carry data-figure / data-measure / data-value / data-of
 * attributes (what the browser test compares with /v1/report), the sync status of
 * the chosen unit's offices (status_write_html after status_keep_subtree) and the
 * full report with its SVG charts (report_write_html).
 * No external asset: styles are inline, charts are inline SVG.
 *
 * Invariant: every text from the database or the request is HTML-escaped.
 * Owns: per call, its SQLite connection, report, status and unit tree (freed before
 * return).
 */
#include "dashpage.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "caveat.h"
#include "goal.h"
#include "report.h"
#include "status.h"
#include "textout.h"
#include "store.h"
#include "unittree.h"

#define DASHBOARD_YEARS 6 /* years offered in the picker: this one and five before (at least) */
#define DASHBOARD_FIRST_YEAR 2000 /* report_build's first year */
#define REFERRER_NONE "no-referrer"

int dashpage_current_year(int64_t now_ms, char today[11])
{
	status_vn_date(now_ms, today);
	return atoi(today);
}

int dashpage_parse_year(const char *s, int def, int *out)
{
	if (!s || !*s) {
		*out = def;
		return 0;
	}
	if (strlen(s) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	*out = atoi(s);
	return 0;
}

#define DASHPAGE_CSS                                                                         \
	"*{box-sizing:border-box}"                                                            \
	"body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f4f5f7;"      \
	"font-size:15px;line-height:1.4}"                                                     \
	"header{background:#1565c0;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;" \
	"gap:6px 16px;align-items:center;justify-content:space-between}"                      \
	"header h1{margin:0;font-size:19px}header a{color:#fff}"                            \
	"main{padding:10px 12px;max-width:1280px;margin:0 auto}"                             \
	"h2{font-size:18px;margin:4px 0 8px}h3{font-size:16px;margin:8px 0 4px}"            \
	"a{color:#0d47a1}"                                                                   \
	"form.pick{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;"     \
	"margin:8px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:end}"                  \
	"form.pick label{display:flex;flex-direction:column;font-size:13px;min-width:0;"    \
	"flex:1 1 160px}form.pick select,form.pick input{font-size:16px;max-width:100%;"     \
	"padding:6px}form.pick button{font-size:16px;padding:7px 18px}"                      \
	"section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;"  \
	"margin:12px 0;max-width:100%;overflow-wrap:break-word}"                               \
	"nav.lk-nav{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0}"                  \
	".err{color:#b71c1c;font-weight:bold}"                                               \
	".lk-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));"  \
	"gap:10px}"                                                                           \
	".lk-card{border:1px solid #ddd;border-left:6px solid #1565c0;border-radius:6px;"    \
	"padding:6px 10px;background:#fff;break-inside:avoid}"                               \
	".lk-card.lk-good{border-left-color:#2e7d32}.lk-card.lk-att{border-left-color:#f9a825}" \
	".lk-card.lk-bad{border-left-color:#c62828}.lk-card h3{margin:2px 0 4px;font-size:15px}" \
	".lk-big{font-size:24px;font-weight:bold;margin:2px 0}"                              \
	".lk-tone{font-size:13px;font-weight:bold;border-radius:10px;padding:1px 8px;"      \
	"vertical-align:middle;color:#fff;white-space:nowrap}.lk-tone.lk-good{background:#2e7d32}"              \
	".lk-tone.lk-att{background:#f9a825;color:#222}.lk-tone.lk-bad{background:#c62828}" \
	".lk-tone.lk-none{background:#e3e3e3;color:#222}"                                    \
	".lk-sub,.lk-ms{font-size:13px;color:#444;margin:2px 0}.lk-ms{padding-left:16px}"   \
	".lk-rowcav{color:#8a5a00;white-space:nowrap}"                                       \
	".lk-caveat{background:#fff6cc;border-radius:4px;padding:4px 6px;font-size:13px;"   \
	"margin:4px 0}.lk-fresh{font-size:12px;color:#555;margin:2px 0}"                    \
	".lk-tgroup{margin:6px 0 10px}.lk-tiles{list-style:none;padding:0;margin:0;"        \
	"display:grid;grid-template-columns:repeat(auto-fill,minmax(76px,1fr));gap:4px}"   \
	".lk-tile{display:block;border-radius:5px;padding:3px 5px;font-size:11.5px;"         \
	"line-height:1.25;text-decoration:none;color:#222;overflow-wrap:anywhere;"           \
	"border:2px solid transparent}.lk-tile small{display:block;font-weight:bold}"       \
	".lk-tile.f-today{background:#cde8cd}.lk-tile.f-late{background:#ffe7a3}"            \
	".lk-tile.f-old{background:#f6b8b1}.lk-tile.f-never{background:#e57373;color:#fff}" \
	".lk-tile.f-none{background:#e6e6e6;color:#555}.lk-tile.f-waiting{border-color:#6a1b9a;" \
	"border-style:dashed}"                                                                \
	".lk-tile.lk-upper{font-weight:bold;box-shadow:inset 3px 0 0 #1565c0}"               \
	".lk-keys{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:13px;margin:4px 0}"    \
	".lk-keys .lk-tile{display:inline-block;min-height:0;padding:0 8px}"                \
	"table.lk-list{border-collapse:collapse;width:100%;font-size:14px}"                 \
	"table.lk-list th,table.lk-list td{border:1px solid #ccc;padding:4px 6px;"           \
	"text-align:left;vertical-align:top}"                                                \
	"@media screen and (max-width:720px){table.lk-list,table.lk-list tbody,table.lk-list tr,"      \
	"table.lk-list td{display:block;width:auto}table.lk-list thead{display:none}"       \
	"table.lk-list tr{border:1px solid #ccc;border-radius:6px;margin:6px 0}"             \
	"table.lk-list td{border:0;padding:2px 8px}"                                         \
	"table.lk-list td[data-label]::before{content:attr(data-label) \": \";color:#555}}" \
	"@media print{@page{size:A4;margin:12mm}body{background:#fff;font-size:11pt}"        \
	"header,form.pick,nav.lk-nav,.lk-noprint{display:none}main{padding:0;max-width:none}" \
	"section{border:0;padding:0;margin:8px 0;break-inside:auto}"                         \
	".lk-cards{grid-template-columns:repeat(2,minmax(0,1fr))}"                           \
	"a{color:inherit;text-decoration:none}"                                              \
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}"

void dashpage_head(FILE *f, const char *title, const char *referrer)
{
	fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<meta name=\"referrer\" content=\"", f);
	fputs(referrer, f);
	fputs("\"><title>", f);
	textout_html(f, title);
	fputs("</title><style>" DASHPAGE_CSS "</style></head><body>", f);
}

/* ---- the page ---- */

static void option(FILE *f, const struct unittree *t, const char *id, const char *date,
		   const char *selected, int depth)
{
	struct unittree_name nm;
	if (unittree_name_of(t, id, date, &nm) != 0)
		return;
	fputs("<option value=\"", f);
	textout_html(f, id);
	fputc('"', f);
	if (selected && strcmp(selected, id) == 0)
		fputs(" selected", f);
	fputc('>', f);
	for (int i = 0; i < depth; i++)
		fputs("— ", f);
	textout_html(f, nm.name);
	fputs("</option>", f);
}

/* The province, its districts and their communes (or the province's communes where
 * there is no district level), as of today. */
static int unit_options(FILE *f, const struct unittree *t, const char *root, const char *date,
			const char *selected)
{
	const char **kids = NULL, **sub = NULL;
	size_t nk = 0, ns = 0;
	option(f, t, root, date, selected, 0);
	if (unittree_children(t, root, date, &kids, &nk) != 0)
		return -1;
	for (size_t i = 0; i < nk; i++) {
		option(f, t, kids[i], date, selected, 1);
		struct unittree_name nm;
		if (unittree_name_of(t, kids[i], date, &nm) == 0 && nm.kind &&
		    strcmp(nm.kind, "branch") == 0)
			continue;
		if (unittree_children(t, kids[i], date, &sub, &ns) != 0) {
			free(kids);
			return -1;
		}
		for (size_t k = 0; k < ns; k++) {
			struct unittree_name cn;
			if (unittree_name_of(t, sub[k], date, &cn) == 0 && cn.kind &&
			    strcmp(cn.kind, "branch") == 0)
				continue;
			option(f, t, sub[k], date, selected, 2);
		}
		free(sub);
		sub = NULL;
	}
	free(kids);
	return 0;
}

/* ---- the year ---- */

int dashpage_pick_year(int asked, int current, int latest_with_data)
{
	if (asked)
		return asked;
	if (latest_with_data >= DASHBOARD_FIRST_YEAR && latest_with_data <= current)
		return latest_with_data;
	return current;
}

int dashpage_latest_year(struct store *s, int current, int *out)
{
	return s->latest_year(s, current, out) == 0 ? 0 : -1;
}

/* ---- the figures as cards ---- */

/* A number of the report, marked for the browser test (data-figure / data-measure /
 * data-column / data-value / data-of: compared with /v1/report). */
static void figure_value(FILE *f, const char *figure, const char *measure, const char *which,
			 const struct report_cell *c)
{
	char a[128];
	fputs("<span data-figure=\"", f);
	textout_html(f, figure);
	fputs("\" data-measure=\"", f);
	textout_html(f, measure);
	fprintf(f, "\" data-column=\"%s\" data-value=\"%" PRId64 "\"", which, c->value);
	if (c->of >= 0)
		fprintf(f, " data-of=\"%" PRId64 "\"", c->of);
	fputc('>', f);
	textout_html(f, report_fmt_cell(c, a));
	fputs("</span>", f);
}

/* What the figures of a page may miss: one caveat per level, and all together. */
struct honesty {
	const struct status *st;
	const struct unittree *tree;
	struct caveat all, district, commune;
	struct caveat *rows; /* per breakdown row: [2 * row] district, [2 * row + 1] commune */
	const char *as_of;
	int64_t now_ms;
};

static const struct caveat *caveat_for(const struct honesty *h, int number)
{
	return caveat_level_of_figure(number) == CAVEAT_DISTRICT ? &h->district : &h->commune;
}

/* The caveat and freshness lines of one scope. */
static void caveat_lines(FILE *f, const struct honesty *h, const struct caveat *c)
{
	char text[CAVEAT_TEXT_MAX], fresh[200];
	caveat_text(c, h->as_of, text, sizeof text);
	if (text[0]) {
		fputs("<p class=\"lk-caveat\" data-caveat=\"1\">⚠ ", f);
		textout_html(f, text);
		fputs(" <a class=\"lk-noprint\" href=\"#lk-honest\">Xem danh sách</a></p>", f);
	} else if (c->in_scope) {
		fprintf(f, "<p class=\"lk-fresh\" data-caveat=\"0\">Cả %zu văn phòng ghi số liệu này "
			   "đã gửi đủ đến ngày tính.</p>", c->in_scope);
	} else {
		fputs("<p class=\"lk-fresh\" data-caveat=\"0\">Không có văn phòng nào ghi số liệu "
		      "này trong phạm vi đã chọn.</p>", f);
	}
	if (c->in_scope) {
		fputs("<p class=\"lk-fresh\">", f);
		textout_html(f, caveat_freshness(c, h->now_ms, fresh, sizeof fresh));
		fputs("</p>", f);
	}
}

static void card(FILE *f, const struct report *r, size_t i, const struct honesty *h)
{
	const struct report_figure *fg = &r->figures[i];
	const struct report_measure *ms = &fg->total[0];
	enum goal_tone tone = goal_tone_of(fg->key, ms);
	char t[32];
	fprintf(f, "<article class=\"lk-card %s\" id=\"f-%s\" data-tone=\"%s\"><h3>%d. ",
		goal_class(tone), fg->key, goal_class(tone), fg->number);
	textout_html(f, fg->label);
	fputs("</h3><p class=\"lk-big\">", f);
	figure_value(f, fg->key, ms->key, "value", &ms->value);
	fprintf(f, " <span class=\"lk-tone %s\">", goal_class(tone));
	textout_html(f, goal_label(tone));
	fputs("</span></p><p class=\"lk-sub\">", f);
	textout_html(f, ms->label);
	if (ms->target >= 0)
		fprintf(f, " · chỉ tiêu %s", report_fmt_int(ms->target, t));
	if (ms->has_previous) {
		fprintf(f, " · năm %d: ", r->year - 1);
		figure_value(f, fg->key, ms->key, "previous", &ms->previous);
	}
	fputs("</p>", f);
	if (fg->nmeasures > 1) {
		fputs("<ul class=\"lk-ms\">", f);
		for (size_t m = 1; m < fg->nmeasures; m++) {
			const struct report_measure *o = &fg->total[m];
			fputs("<li>", f);
			textout_html(f, o->label);
			fputs(": ", f);
			figure_value(f, fg->key, o->key, "value", &o->value);
			if (o->target >= 0)
				fprintf(f, " (chỉ tiêu %s)", report_fmt_int(o->target, t));
			if (o->has_previous) {
				fprintf(f, " · năm %d: ", r->year - 1);
				figure_value(f, fg->key, o->key, "previous", &o->previous);
			}
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	caveat_lines(f, h, caveat_for(h, fg->number));
	fprintf(f, "<a class=\"lk-noprint\" href=\"#lk-%s\">Biểu đồ và chi tiết</a></article>", fg->key);
}

static void summary(FILE *f, const struct report *r, const struct honesty *h)
{
	char d[11];
	caveat_date_vi(r->as_of, d);
	fputs("<section id=\"summary\"><h2>Các chỉ tiêu — ", f);
	textout_html(f, r->unit_name);
	fprintf(f, ", năm %d</h2><p>Tính đến ngày %s, so với năm %d. Màu theo mục tiêu của từng "
		   "chỉ tiêu: <span class=\"lk-tone lk-good\">Đạt</span> <span class=\"lk-tone "
		   "lk-att\">Cần chú ý</span> <span class=\"lk-tone lk-bad\">Chưa đạt</span> <span "
		   "class=\"lk-tone lk-none\">Không có chỉ tiêu</span></p><div class=\"lk-cards\">",
		r->year, d, r->year - 1);
	for (size_t i = 0; i < REPORT_NFIGURES; i++)
		card(f, r, i, h);
	fputs("</div></section>", f);
}

/* The report's notes hook: each figure's caveat in the detailed report too. */
static void figure_note(void *ctx, FILE *f, const struct report *r, size_t fig)
{
	const struct honesty *h = ctx;
	caveat_lines(f, h, caveat_for(h, r->figures[fig].number));
}

/* ... and beside each breakdown row whose offices may miss part of the year. */
static void row_note(void *ctx, FILE *f, const struct report *r, size_t fig, size_t row)
{
	const struct honesty *h = ctx;
	int commune = caveat_level_of_figure(r->figures[fig].number) == CAVEAT_COMMUNE;
	const struct caveat *c = h->rows ? &h->rows[2 * row + (size_t)commune] : NULL;
	if (c && c->offices)
		fprintf(f, " <small class=\"lk-rowcav\" data-caveat-row=\"1\">⚠ có thể thiếu "
			   "(%zu văn phòng)</small>", c->offices);
}

/* The offices that may miss data, each with why, since when and what to do. */
static void honest_section(FILE *f, const struct report *r, const struct honesty *h)
{
	char d[11];
	caveat_date_vi(r->as_of, d);
	fputs("<section id=\"lk-honest\"><h2>Số liệu có đủ không?</h2>", f);
	caveat_lines(f, h, &h->all);
	if (!h->all.offices) {
		fputs("</section>", f);
		return;
	}
	fprintf(f, "<table class=\"lk-list\"><thead><tr><th>Văn phòng</th><th>Thuộc</th>"
		   "<th>Lần liên lạc cuối</th><th>Vì sao có thể thiếu (đến ngày %s)</th></tr></thead>"
		   "<tbody>", d);
	int64_t day_start = 0;
	if (status_vn_ms(r->as_of, 0, 0, &day_start) != 0)
		day_start = INT64_MAX;
	for (size_t i = 0; i < h->st->n; i++) {
		const struct status_office *o = &h->st->offices[i];
		if (o->retired || !unittree_in_subtree(h->tree, r->unit_id, o->unit, r->as_of) ||
		    !(o->never || o->last_ms < day_start || o->waiting > 0))
			continue;
		char last[17] = "chưa bao giờ";
		if (o->last_ms)
			status_vn_time(o->last_ms, last);
		fputs("<tr data-caveat-unit=\"", f);
		textout_html(f, o->unit);
		fputs("\"><td data-label=\"Văn phòng\">", f);
		textout_html(f, o->unit_name ? o->unit_name : o->unit);
		fputs("</td><td data-label=\"Thuộc\">", f);
		textout_html(f, o->group_name ? o->group_name : "—");
		fputs("</td><td data-label=\"Lần liên lạc cuối\">", f);
		textout_html(f, last);
		fputs("</td><td data-label=\"Vì sao\">", f);
		if (!o->never && o->last_ms < day_start && !o->silent_1d) {
			fprintf(f, "Liên lạc lần cuối trước ngày %s: số liệu ghi sau đó chưa có.", d);
		}
		status_problems_html(o, f);
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table></section>", f);
}

/* ---- the province at a glance: communes as tiles ---- */

enum fresh { FRESH_NONE, FRESH_NEVER, FRESH_OLD, FRESH_LATE, FRESH_TODAY };

struct tile_state {
	enum fresh fresh;
	long days;          /* days since the last contact (FRESH_LATE, FRESH_OLD) */
	int64_t waiting;
};

static void tile_state_add(struct tile_state *s, int64_t *best, const struct status_office *o,
			   long today_n)
{
	s->waiting += o->waiting;
	if (o->never) {
		if (*best < 0)
			s->fresh = FRESH_NEVER;
		return;
	}
	if (o->last_ms <= *best)
		return;
	*best = o->last_ms;
	char day[11];
	status_vn_date(o->last_ms, day);
	s->days = today_n - unittree_day_number(day);
	s->fresh = s->days <= 0 ? FRESH_TODAY : s->days <= 3 ? FRESH_LATE : FRESH_OLD;
}

/* The freshness of a unit: its best office (latest contact) among those in its
 * subtree; none enrolled: FRESH_NONE. */
static struct tile_state tile_state_of(const struct status *st, const struct unittree *t,
				       const char *unit, const char *today)
{
	struct tile_state s = { FRESH_NONE, 0, 0 };
	int64_t best = -1;
	long today_n = unittree_day_number(today);
	for (size_t i = 0; i < st->n; i++)
		if (!st->offices[i].retired && unittree_in_subtree(t, unit, st->offices[i].unit, today))
			tile_state_add(&s, &best, &st->offices[i], today_n);
	return s;
}

/* The same for the offices of the unit itself (a district's own office). */
static struct tile_state tile_state_own(const struct status *st, const char *unit,
					const char *today)
{
	struct tile_state s = { FRESH_NONE, 0, 0 };
	int64_t best = -1;
	long today_n = unittree_day_number(today);
	for (size_t i = 0; i < st->n; i++)
		if (!st->offices[i].retired && strcmp(st->offices[i].unit, unit) == 0)
			tile_state_add(&s, &best, &st->offices[i], today_n);
	return s;
}

static const char *fresh_class(enum fresh f)
{
	static const char *const c[] = { "f-none", "f-never", "f-old", "f-late", "f-today" };
	return c[f];
}

static void unit_link(FILE *f, const char *unit, int year)
{
	fputs("/?unit=", f);
	textout_html(f, unit);
	fprintf(f, "&amp;year=%d", year);
}

/* A unit's tile; upper: the district's own office (its communes' tiles follow). */
static void tile(FILE *f, const struct unittree *t, const struct status *st, const char *unit,
		 const char *date, const char *today, int year, int upper)
{
	struct unittree_name nm;
	if (unittree_name_of(t, unit, date, &nm) != 0)
		return;
	/* a district's tile: its own office only, not its communes' */
	struct tile_state s = upper ? tile_state_own(st, unit, today) : tile_state_of(st, t, unit, today);
	fprintf(f, "<li><a class=\"lk-tile %s%s%s\" data-unit=\"", fresh_class(s.fresh),
		s.waiting ? " f-waiting" : "", upper ? " lk-upper" : "");
	textout_html(f, unit);
	fprintf(f, "\" data-fresh=\"%s\" href=\"", fresh_class(s.fresh) + 2);
	unit_link(f, unit, year);
	fputs("\">", f);
	textout_html(f, nm.name);
	fputs("<small>", f);
	switch (s.fresh) {
	case FRESH_TODAY: fputs("hôm nay", f); break;
	case FRESH_LATE:
	case FRESH_OLD: fprintf(f, "%ld ngày trước", s.days); break;
	case FRESH_NEVER: fputs("chưa đồng bộ", f); break;
	case FRESH_NONE: fputs("chưa cấp mã", f); break;
	}
	if (s.waiting)
		fprintf(f, " · %" PRId64 " chờ gửi", s.waiting);
	fputs("</small></a></li>", f);
}

static int is_kind(const struct unittree *t, const char *unit, const char *date, const char *kind)
{
	struct unittree_name nm;
	return unittree_name_of(t, unit, date, &nm) == 0 && nm.kind && strcmp(nm.kind, kind) == 0;
}

/* The communes of root's subtree as tiles, grouped by the units directly under root
 * as of date (the year shown): districts before the 2025 reform, none after it. */
static int overview(FILE *f, const struct report *r, const struct unittree *t,
		    const struct status *st, const char *today)
{
	const char *date = r->as_of, *root = r->unit_id;
	const char **kids = NULL, **sub = NULL;
	size_t nk = 0, ns = 0;
	int rc = -1;
	fputs("<section id=\"overview\"><h2>Toàn cảnh: các xã đã đồng bộ chưa?</h2>"
	      "<p class=\"lk-keys\"><span class=\"lk-tile f-today\">hôm nay</span>"
	      "<span class=\"lk-tile f-late\">trễ 1–3 ngày</span>"
	      "<span class=\"lk-tile f-old\">trễ hơn 3 ngày</span>"
	      "<span class=\"lk-tile f-never\">chưa đồng bộ lần nào</span>"
	      "<span class=\"lk-tile f-none\">chưa cấp mã</span>"
	      "<span class=\"lk-tile f-waiting\">còn thay đổi chờ gửi</span></p>", f);
	fprintf(f, "<p class=\"lk-note\">Đơn vị theo cơ cấu năm %d; bấm vào một xã để xem số liệu "
		   "của xã đó.</p>", r->year);
	if (is_kind(t, root, date, "commune") || is_kind(t, root, date, "branch")) {
		fputs("<div class=\"lk-tgroup\"><ul class=\"lk-tiles\">", f);
		tile(f, t, st, root, date, today, r->year, 0);
		fputs("</ul></div></section>", f);
		return 0;
	}
	if (unittree_children(t, root, date, &kids, &nk) != 0)
		goto done;
	/* communes directly under root (no district level) first, in one group */
	int loose = 0;
	for (size_t i = 0; i < nk; i++) {
		if (!is_kind(t, kids[i], date, "commune"))
			continue;
		if (!loose++)
			fputs("<div class=\"lk-tgroup\" data-group=\"\"><ul class=\"lk-tiles\">", f);
		tile(f, t, st, kids[i], date, today, r->year, 0);
	}
	if (loose)
		fputs("</ul></div>", f);
	for (size_t i = 0; i < nk; i++) {
		struct unittree_name nm;
		if (is_kind(t, kids[i], date, "commune") || is_kind(t, kids[i], date, "branch") ||
		    unittree_name_of(t, kids[i], date, &nm) != 0)
			continue;
		if (unittree_children(t, kids[i], date, &sub, &ns) != 0)
			goto done;
		size_t communes = 0;
		for (size_t k = 0; k < ns; k++)
			communes += (size_t)is_kind(t, sub[k], date, "commune");
		fputs("<div class=\"lk-tgroup\" data-group=\"", f);
		textout_html(f, kids[i]);
		fputs("\"><h3><a href=\"", f);
		unit_link(f, kids[i], r->year);
		fputs("\">", f);
		textout_html(f, nm.name);
		fprintf(f, "</a> <small>(%zu xã)</small></h3><ul class=\"lk-tiles\">", communes);
		tile(f, t, st, kids[i], date, today, r->year, 1);
		for (size_t k = 0; k < ns; k++)
			if (is_kind(t, sub[k], date, "commune"))
				tile(f, t, st, sub[k], date, today, r->year, 0);
		fputs("</ul></div>", f);
		free(sub);
		sub = NULL;
	}
	fputs("</section>", f);
	rc = 0;
done:
	free(sub);
	free(kids);
	return rc;
}

/* ---- the page ---- */

int dashpage_write(struct store *s, const char *unit, const char *year, int64_t now_ms,
		   FILE *f)
{
	return dashpage_write_limited(s, unit, year, NULL, NULL, now_ms, f);
}

int dashpage_write_limited(struct store *s, const char *unit, const char *year_s,
			   const char *limit, const char *notice, int64_t now_ms, FILE *f)
{
	char today[11], err[256];
	int cur = dashpage_current_year(now_ms, today), year = cur, asked = 0, latest = 0;
	int status = 200;
	int reading = 0;
	struct unittree *tree = NULL;
	struct report *r = NULL;
	struct status *st = NULL, *sub = NULL;
	struct report_error re = { 0 };
	const char *message = NULL;
	struct honesty h = { 0 };
	if (dashpage_parse_year(year_s, 0, &asked) != 0 ||
	    (asked && (asked > cur || asked < DASHBOARD_FIRST_YEAR))) {
		asked = 0;
		status = 400;
		message = "Năm không hợp lệ; đang xem năm gần nhất có số liệu.";
	}
	/* one snapshot for the whole page: its figures, tiles and status agree */
	if (s->read_begin(s) != 0) {
		status = 500;
		goto done;
	}
	reading = 1;
	if (store_units_tree(s, &tree, err, sizeof err) != 0 ||
	    dashpage_latest_year(s, cur, &latest) != 0) {
		status = 500;
		goto done;
	}
	year = dashpage_pick_year(asked, cur, latest);
	const char *root = unittree_root(tree, today);
	struct unittree_name rn;
	const char *province = root && unittree_name_of(tree, root, today, &rn) == 0 ? rn.name : "Tỉnh";
	if (limit && *limit) {
		/* an account limited to a subtree (login.h): it is the page's root and default */
		root = limit;
		if (!unit || !*unit)
			unit = limit;
	} else {
		limit = NULL;
	}
	if (unit && *unit && report_build(s, unit, year, today, &r, &re) != REPORT_OK) {
		status = report_http_status(re.code);
		message = re.code == REPORT_UNKNOWN_UNIT ? "Không có đơn vị này; đang xem toàn tỉnh."
			  : re.code == REPORT_BAD_ARGUMENT ? "Năm hoặc đơn vị không hợp lệ; đang xem toàn tỉnh."
			  : NULL;
		if (status == 500)
			goto done;
		unit = NULL;
	}
	if (!r && report_build(s, limit, year, today, &r, &re) != REPORT_OK) {
		status = 500;
		goto done;
	}
	if (limit && !unittree_in_subtree(tree, limit, r->unit_id, today)) {
		status = 403; /* nothing written: the caller answers the refusal */
		goto done;
	}
	if (status_build(s, now_ms, &st, err, sizeof err) != 0) {
		status = 500;
		goto done;
	}
	h.st = st;
	h.tree = tree;
	h.as_of = r->as_of;
	h.now_ms = now_ms;
	caveat_build(&h.all, st, tree, r->unit_id, r->as_of, CAVEAT_ALL);
	caveat_build(&h.district, st, tree, r->unit_id, r->as_of, CAVEAT_DISTRICT);
	caveat_build(&h.commune, st, tree, r->unit_id, r->as_of, CAVEAT_COMMUNE);
	h.rows = r->nrows ? calloc(2 * r->nrows, sizeof *h.rows) : NULL;
	if (r->nrows && !h.rows) {
		status = 500;
		goto done;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		caveat_build(&h.rows[2 * i], st, tree, r->rows[i].id, r->as_of, CAVEAT_DISTRICT);
		caveat_build(&h.rows[2 * i + 1], st, tree, r->rows[i].id, r->as_of, CAVEAT_COMMUNE);
	}
	char title[300];
	snprintf(title, sizeof title, "Liên Kết — %s, năm %d", r->unit_name ? r->unit_name : "", year);
	dashpage_head(f, title, REFERRER_NONE);
	fputs("<header><h1>Liên Kết — ", f);
	textout_html(f, province);
	fputs("</h1><a href=\"/?logout=1\">Đăng xuất</a></header><main>", f);
	if (message) {
		fputs("<p class=\"err\">", f);
		textout_html(f, message);
		fputs("</p>", f);
	}
	fputs("<form class=\"pick\" method=\"get\" action=\"/\"><label>Đơn vị <select name=\"unit\">", f);
	if (root && unit_options(f, tree, root, today, r->unit_id) != 0) {
		status = 500;
		goto done;
	}
	fputs("</select></label><label>Năm <select name=\"year\">", f);
	int shown_year = 0;
	/* this year and five before, and back to two before the latest year with data */
	int first = cur - DASHBOARD_YEARS + 1;
	if (latest && latest - 2 < first)
		first = latest - 2;
	if (first < DASHBOARD_FIRST_YEAR)
		first = DASHBOARD_FIRST_YEAR;
	for (int y = cur; y >= first; y--) {
		fprintf(f, "<option value=\"%d\"%s>%d%s</option>", y, y == year ? " selected" : "", y,
			latest && y > latest ? " (chưa có số liệu)" : y == latest ? " (mới nhất)"
										  : "");
		shown_year |= y == year;
	}
	if (!shown_year)
		fprintf(f, "<option value=\"%d\" selected>%d</option>", year, year);
	fputs("</select></label><button type=\"submit\">Xem</button></form>", f);
	if (!asked && year != cur)
		fprintf(f, "<p class=\"lk-caveat\" data-year-note=\"1\">Đang xem năm %d: năm gần nhất có "
			   "số liệu (năm %d chưa có số liệu nào). Chọn năm khác ở ô “Năm”.</p>", year, cur);
	fputs("<p data-report-unit=\"", f);
	textout_html(f, r->unit_id);
	fprintf(f, "\" data-report-year=\"%d\"></p>", r->year);
	fputs("<nav class=\"lk-nav\"><a href=\"#lk-honest\">Số liệu có đủ không?</a>"
	      "<a href=\"#overview\">Toàn cảnh</a><a href=\"#summary\">Các chỉ tiêu</a>"
	      "<a href=\"#status\">Tình trạng đồng bộ</a>"
	      "<a href=\"#report\">Báo cáo chi tiết và biểu đồ</a><a href=\"/report.xlsx?unit=", f);
	textout_html(f, r->unit_id);
	fprintf(f, "&amp;year=%d\" download=\"bao-cao-%d.xlsx\">Tải bảng tính (.xlsx)</a></nav>", r->year,
		r->year);
	honest_section(f, r, &h);
	if (overview(f, r, tree, st, today) != 0) {
		status = 500;
		goto done;
	}
	summary(f, r, &h);
	fputs("<div id=\"status\">", f);
	if (notice)
		fputs(notice, f);
	if (root && (limit || strcmp(r->unit_id, root) != 0)) {
		/* a status of its own: the caveats keep pointers into st for the report below */
		if (status_build(s, now_ms, &sub, err, sizeof err) != 0) {
			status = 500;
			goto done;
		}
		status_keep_subtree(sub, tree, r->unit_id, today);
		fputs("<p>Tình trạng đồng bộ của các văn phòng thuộc ", f);
		textout_html(f, r->unit_name);
		fputs(".</p>", f);
	}
	if (status_write_html(sub ? sub : st, f) != 0)
		status = 500;
	fputs("</div><div id=\"report\">", f);
	struct report_html_notes notes = { .figure = figure_note, .row = row_note, .ctx = &h };
	if (report_write_html_notes(r, &notes, f) != REPORT_OK)
		status = 500;
	fputs("</div></main></body></html>\n", f);
	if (ferror(f))
		status = 500;
done:
	free(h.rows);
	status_free(sub);
	status_free(st);
	report_free(r);
	unittree_free(tree);
	if (reading)
		s->read_end(s);
	return status;
}
