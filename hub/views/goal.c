/*
 * goal.c — the tone of a figure's number against its goal (see goal.h for the rules).
 */
#include "goal.h"

#include <string.h>

static const struct {
	const char *figure, *measure; /* measure NULL: every measure of the figure */
	enum goal_kind kind;
} goals[] = {
	{ "implementing", "units", GOAL_KIND_ALL },
	{ "pilots", "branches", GOAL_KIND_TARGET },
	{ "giao_ban", "meetings", GOAL_KIND_TARGET },
	{ "giao_nhiem_vu", "meetings", GOAL_KIND_TARGET },
	{ "joint", "meetings", GOAL_KIND_TARGET },
	{ "joint", "hosts", GOAL_KIND_TARGET },
	{ "inactive", "branches", GOAL_KIND_ZERO },
	{ "gathering", "youth", GOAL_KIND_NOT_LESS },
	{ "evaluation", "completed", GOAL_KIND_ALL },
	{ "evaluation", "excellent_good", GOAL_KIND_NOT_LESS },
};

enum goal_kind goal_kind_of(const char *figure_key, const char *measure_key)
{
	for (size_t i = 0; figure_key && measure_key && i < sizeof goals / sizeof goals[0]; i++)
		if (strcmp(goals[i].figure, figure_key) == 0 &&
		    strcmp(goals[i].measure, measure_key) == 0)
			return goals[i].kind;
	return GOAL_KIND_NONE;
}

/* a/b >= c/d without division (b, d > 0; counts far below 2^31). */
static int share_ge(int64_t a, int64_t b, int64_t c, int64_t d)
{
	return a * d >= c * b;
}

enum goal_tone goal_tone_of(const char *figure_key, const struct report_measure *ms)
{
	const struct report_cell *c = &ms->value;
	switch (goal_kind_of(figure_key, ms->key)) {
	case GOAL_KIND_TARGET:
		if (ms->target <= 0)
			return GOAL_NONE;
		if (c->value >= ms->target)
			return GOAL_GOOD;
		return c->value * 4 >= ms->target * 3 ? GOAL_ATTENTION : GOAL_BAD;
	case GOAL_KIND_ZERO:
		if (c->value == 0)
			return c->of == 0 ? GOAL_NONE : GOAL_GOOD;
		if (c->of > 0 && c->value * 20 <= c->of)
			return GOAL_ATTENTION;
		return GOAL_BAD;
	case GOAL_KIND_ALL:
		if (c->of <= 0)
			return GOAL_NONE;
		if (c->value >= c->of)
			return GOAL_GOOD;
		return c->value * 5 >= c->of * 4 ? GOAL_ATTENTION : GOAL_BAD;
	case GOAL_KIND_NOT_LESS: {
		const struct report_cell *p = &ms->previous;
		if (c->of <= 0 || !ms->has_previous || p->of <= 0)
			return GOAL_NONE;
		if (share_ge(c->value, c->of, p->value, p->of))
			return GOAL_GOOD;
		/* value/of >= prev/pof − 5/100  ⇔  100·value·pof >= (100·prev − 5·pof)·of */
		return 100 * c->value * p->of >= (100 * p->value - 5 * p->of) * c->of ? GOAL_ATTENTION
										  : GOAL_BAD;
	}
	case GOAL_KIND_NONE:
		break;
	}
	return GOAL_NONE;
}

const char *goal_class(enum goal_tone t)
{
	switch (t) {
	case GOAL_GOOD: return "lk-good";
	case GOAL_ATTENTION: return "lk-att";
	case GOAL_BAD: return "lk-bad";
	case GOAL_NONE: break;
	}
	return "lk-none";
}

const char *goal_label(enum goal_tone t)
{
	switch (t) {
	case GOAL_GOOD: return "Đạt";
	case GOAL_ATTENTION: return "Cần chú ý";
	case GOAL_BAD: return "Chưa đạt";
	case GOAL_NONE: break;
	}
	return "Không có chỉ tiêu";
}

const char *goal_rule(enum goal_kind k)
{
	switch (k) {
	case GOAL_KIND_TARGET:
		return "Đạt: bằng hoặc vượt chỉ tiêu; cần chú ý: từ 3/4 chỉ tiêu; chưa đạt: dưới 3/4.";
	case GOAL_KIND_ZERO:
		return "Đạt: không có; cần chú ý: không quá 5%; chưa đạt: trên 5%.";
	case GOAL_KIND_ALL:
		return "Đạt: 100%; cần chú ý: từ 80%; chưa đạt: dưới 80%.";
	case GOAL_KIND_NOT_LESS:
		return "Đạt: không thấp hơn năm trước; cần chú ý: thấp hơn không quá 5 điểm %; "
		       "chưa đạt: thấp hơn nhiều hơn.";
	case GOAL_KIND_NONE:
		break;
	}
	return "";
}
