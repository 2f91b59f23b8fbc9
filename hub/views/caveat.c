/*
 * caveat.c — the offices a figure may be missing (see caveat.h).
 */
#include "caveat.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "unittree.h"

enum caveat_level caveat_level_of_figure(int number)
{
	return number >= 1 && number <= 4 ? CAVEAT_DISTRICT : CAVEAT_COMMUNE;
}

static int office_level_ok(const struct unittree *t, const struct status_office *o,
			   const char *date, enum caveat_level level)
{
	struct unittree_name nm;
	if (level == CAVEAT_ALL)
		return 1;
	int upper = unittree_name_of(t, o->unit, date, &nm) == 0 && nm.kind &&
		    (strcmp(nm.kind, "district") == 0 || strcmp(nm.kind, "affiliated") == 0 ||
		     strcmp(nm.kind, "province") == 0);
	return level == CAVEAT_DISTRICT ? upper : !upper;
}

void caveat_build(struct caveat *c, const struct status *st, const struct unittree *t,
		  const char *root, const char *as_of, enum caveat_level level)
{
	int64_t day_start = 0;
	memset(c, 0, sizeof *c);
	if (status_vn_ms(as_of, 0, 0, &day_start) != 0)
		day_start = INT64_MAX;
	for (size_t i = 0; i < st->n; i++) {
		const struct status_office *o = &st->offices[i];
		if (o->retired || !unittree_in_subtree(t, root, o->unit, as_of) ||
		    !office_level_ok(t, o, as_of, level))
			continue;
		c->in_scope++;
		if (o->last_changes_ms > c->newest_ms)
			c->newest_ms = o->last_changes_ms;
		int never = o->never, stale = !never && o->last_ms < day_start,
		    waiting = !never && o->waiting > 0;
		if (!never && !stale && !waiting)
			continue;
		c->offices++;
		c->never += (size_t)never;
		c->stale += (size_t)stale;
		if (stale && (!c->oldest_contact_ms || o->last_ms < c->oldest_contact_ms))
			c->oldest_contact_ms = o->last_ms;
		if (waiting) {
			c->waiting++;
			c->waiting_changes += o->waiting;
			if (!c->waiting_since_ms || o->hello_ms < c->waiting_since_ms)
				c->waiting_since_ms = o->hello_ms;
		}
		if (c->nlisted < CAVEAT_MAX_NAMED)
			c->listed[c->nlisted++] = o;
	}
}

void caveat_date_vi(const char *iso, char out[11])
{
	if (iso && strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
		snprintf(out, 11, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
	else
		snprintf(out, 11, "%s", iso ? iso : "");
}

static void time_vi(int64_t ms, char out[20])
{
	char t[17], d[11];
	status_vn_time(ms, t);
	t[10] = '\0';
	caveat_date_vi(t, d);
	snprintf(out, 20, "%.5s %s", t + 11, d);
}

/* Appends with snprintf semantics; *len stays <= n − 1. */
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	if (*len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (w > 0)
		*len = *len + (size_t)w < n ? *len + (size_t)w : n - 1;
}

const char *caveat_text(const struct caveat *c, const char *as_of, char *buf, size_t n)
{
	size_t len = 0;
	char d[11], when[20];
	if (!n)
		return buf;
	buf[0] = '\0';
	if (!c->offices)
		return buf;
	add(buf, n, &len, "Có thể chưa đủ số liệu: %zu/%zu văn phòng", c->offices, c->in_scope);
	for (size_t i = 0; i < c->nlisted; i++) {
		const struct status_office *o = c->listed[i];
		add(buf, n, &len, "%s%s", i ? ", " : " (", o->unit_name ? o->unit_name : o->unit);
	}
	if (c->nlisted)
		add(buf, n, &len, "%s)", c->offices > c->nlisted ? ", …" : "");
	add(buf, n, &len, ":");
	const char *sep = " ";
	if (c->never) {
		add(buf, n, &len, "%s%zu chưa đồng bộ lần nào", sep, c->never);
		sep = "; ";
	}
	if (c->stale) {
		caveat_date_vi(as_of, d);
		time_vi(c->oldest_contact_ms, when);
		add(buf, n, &len, "%s%zu liên lạc lần cuối trước ngày %s (sớm nhất lúc %s)", sep,
		    c->stale, d, when);
		sep = "; ";
	}
	if (c->waiting) {
		time_vi(c->waiting_since_ms, when);
		add(buf, n, &len, "%s%zu còn %" PRId64 " thay đổi chưa gửi lên tỉnh (theo lần liên lạc "
				  "từ lúc %s)", sep, c->waiting, c->waiting_changes, when);
	}
	add(buf, n, &len, ".");
	return buf;
}

const char *caveat_freshness(const struct caveat *c, int64_t now_ms, char *buf, size_t n)
{
	char when[20], today[11], day[11];
	if (!c->newest_ms) {
		snprintf(buf, n, "Chưa nhận dữ liệu nào từ các văn phòng này.");
		return buf;
	}
	time_vi(c->newest_ms, when);
	status_vn_date(now_ms, today);
	status_vn_date(c->newest_ms, day);
	long days = unittree_day_number(today) - unittree_day_number(day);
	if (days <= 0)
		snprintf(buf, n, "Dữ liệu mới nhất nhận lúc %s (hôm nay).", when);
	else
		snprintf(buf, n, "Dữ liệu mới nhất nhận lúc %s (%ld ngày trước).", when, days);
	return buf;
}
