/*
 * caveat.h — what a figure may be missing: the offices in its scope whose data may
 * not all be on the hub, said next to every figure and total of the dashboard
 * (issue 14, "honest figures"), and how old the newest data is.
 *
 * An office (status.h, built at "now") may miss part of the year of a report when,
 * by what the hub knows:
 *   - it never connected (enrolled, no hello yet): "never";
 *   - its last contact was before the report's as-of date (31 December of a past
 *     year; today for the current one): "stale" — what it recorded since is not here;
 *   - its last hello reported changes not sent, and fewer arrived since
 *     (status_office.waiting > 0): "waiting".
 * One office can be stale and waiting; it is counted once in `offices`. Retired
 * offices (replaced by a recovery, or revoked) are nobody's data and never count.
 *
 * Scope: offices whose unit counts in the report unit's subtree as of the as-of date
 * (unittree_in_subtree), of a level: the district-level offices record figures 1–4
 * (giao ban, task meetings, pilots: MODEL.md "records are entered where the act
 * happens"), the communes figures 5–13; CAVEAT_ALL takes every office.
 *
 * Owns: a struct caveat holds borrowed pointers into the status it was built from.
 */
#ifndef LK_HUB_CAVEAT_H
#define LK_HUB_CAVEAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

struct unittree;

enum caveat_level {
	CAVEAT_ALL = 0,
	CAVEAT_DISTRICT = 1, /* offices of district-level units (and the province's) */
	CAVEAT_COMMUNE = 2,  /* every other office */
};

#define CAVEAT_MAX_NAMED 3 /* offices named in a one-line caveat; the rest counted */

struct caveat {
	size_t in_scope;        /* offices in the scope (not retired) */
	size_t offices;         /* of them, those that may miss data */
	size_t never, stale, waiting;
	int64_t waiting_changes;  /* Σ waiting */
	int64_t waiting_since_ms; /* the oldest hello among the waiting offices */
	int64_t newest_ms;        /* the latest change set received from the scope; 0 none */
	int64_t oldest_contact_ms; /* the earliest last contact among the stale offices */
	size_t nlisted;
	const struct status_office *listed[CAVEAT_MAX_NAMED]; /* the first offices that may miss */
};

/* The level of figure number 1..13 (CAVEAT_DISTRICT for 1–4, CAVEAT_COMMUNE else). */
enum caveat_level caveat_level_of_figure(int number);

/* Fills *c for the offices of st in root's subtree as of as_of ('YYYY-MM-DD'), of
 * level. The tree is the hub's (unittree_load). Never fails. */
void caveat_build(struct caveat *c, const struct status *st, const struct unittree *t,
		  const char *root, const char *as_of, enum caveat_level level);

/* The caveat in Vietnamese, one sentence, into buf (size it CAVEAT_TEXT_MAX: it names
 * at most CAVEAT_MAX_NAMED offices, so it fits). "" when nothing may be missing.
 * as_of is the report's as-of date. Returns buf. */
#define CAVEAT_TEXT_MAX 1024
const char *caveat_text(const struct caveat *c, const char *as_of, char *buf, size_t n);

/* How old the newest data is: "Dữ liệu mới nhất nhận lúc 14:05 07/12/2026 (hôm nay)."
 * or "Chưa nhận dữ liệu nào từ các văn phòng này." */
const char *caveat_freshness(const struct caveat *c, int64_t now_ms, char *buf, size_t n);

/* 'dd/mm/yyyy' of 'YYYY-MM-DD' (the input again when malformed). */
void caveat_date_vi(const char *iso, char out[11]);

#endif
