/*
 * goal.h — what a figure's number means against the figure's own goal (MODEL.md),
 * so that a colour means the same on every chart, card and table of the dashboard:
 * good (đạt), attention (cần chú ý), bad (chưa đạt), or none (the figure has no goal:
 * a count of volunteer participations is neither good nor bad). Never "red = this
 * year".
 *
 * The goals, by figure key and measure key (report.h):
 *   a target to reach (pilots 2–3, giao ban 2, task meetings 12, joint meetings 12
 *   and their rotation; the target of the cell's row, as report_build computed it):
 *     value >= target good; >= 3/4 of it attention; below bad; a target of 0 (no
 *     district or commune in the scope) none;
 *   none to have (inactive branches, target 0): 0 good; at most 5 % of the branches
 *     attention; more bad;
 *   every unit (implementing: every district-level unit; evaluation "completed or
 *     better": every branch, the article's 100 %): 100 % good; >= 80 % attention;
 *     below bad;
 *   not below last year (gathering rate, evaluation excellent + good — the article
 *     compares these with the year before): >= last year's share good; at most 5
 *     points lower attention; lower bad; no share last year: none;
 *   anything else (counts, secretary attendance, insurance, Party, support): none.
 * A share whose denominator is 0 (nothing to count) is none.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef LK_HUB_GOAL_H
#define LK_HUB_GOAL_H

#include "report.h"

enum goal_tone {
	GOAL_NONE = 0,
	GOAL_GOOD = 1,
	GOAL_ATTENTION = 2,
	GOAL_BAD = 3,
};

enum goal_kind {
	GOAL_KIND_NONE,     /* no goal */
	GOAL_KIND_TARGET,   /* reach the row's target */
	GOAL_KIND_ZERO,     /* have none */
	GOAL_KIND_ALL,      /* 100 % */
	GOAL_KIND_NOT_LESS, /* not below last year */
};

/* The goal of a measure of a figure (keys as in report.h; unknown keys: none). */
enum goal_kind goal_kind_of(const char *figure_key, const char *measure_key);

/* The tone of the measure's current value (ms->value against ms->target or
 * ms->previous, by the goal of figure_key/ms->key). */
enum goal_tone goal_tone_of(const char *figure_key, const struct report_measure *ms);

/* Static strings: the CSS class ("lk-none", "lk-good", "lk-att", "lk-bad") and the
 * Vietnamese word ("Không có chỉ tiêu", "Đạt", "Cần chú ý", "Chưa đạt"). */
const char *goal_class(enum goal_tone t);
const char *goal_label(enum goal_tone t);
/* The rule in one Vietnamese sentence, for a chart's legend ("" for none). */
const char *goal_rule(enum goal_kind k);

#endif
