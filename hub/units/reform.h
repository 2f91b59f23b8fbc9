/*
 * reform.h — administrative reforms written as the hub's own changes: opening,
 * renaming, moving, merging, splitting and closing units, and applying an official
 * conversion file (the reform of 1 July 2025).
 *
 * A reform never moves or rewrites history (LESSONS.md, units). Each operation writes,
 * through changes_apply_hub (the same merge as an agent's change, so agents learn the
 * new tree by pull):
 *   - one `unit_event` row (kind, unit, other unit, effective date `on`), owned by the
 *     root unit (the province: the hub's own);
 *   - for what changes, the current dated row is ended — `valid_to` = the day before
 *     `on` (the last day it held) — and a new dated row begins on `on`
 *     (`unit_name` for a rename, `unit_parent` for a move). A row that would begin on
 *     or after `on` (an earlier reform with a later date) is removed instead, since it
 *     never held. Name and parent rows keep the owner of the rows they replace.
 *   - a unit closed by a merge, a split (unless it is one of its own parts) or a close
 *     has its name and parent rows ended the same way, so its code resolves to the unit
 *     that holds it after `on` (codes are reused: 22918).
 * Dates follow unittree.h: `valid_to` is the last day; a unit is closed from the
 * event's date on. Records stay with the unit they were made for; reports and scope
 * follow the events (a merged or split unit's rows count under, and may be written by,
 * its successors).
 *
 * Every function runs inside the caller's write transaction and returns 0, or -1
 * with an English reason in r->err (REFORM_BAD: the operator's input; REFORM_FAIL:
 * storage). Nothing here prints.
 */
#ifndef LK_HUB_REFORM_H
#define LK_HUB_REFORM_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum reform_code { REFORM_OK = 0, REFORM_BAD = 1, REFORM_FAIL = 2 };

struct reform {
	struct store *s;
	int64_t now_ms;
	char on[11];       /* effective date, YYYY-MM-DD */
	char before[11];   /* the day before: the last day of what ends */
	char root[37];     /* owner of the hub's own rows (the province as of the day before) */
	size_t events;     /* unit_event rows written */
	size_t units_opened;
	enum reform_code code;
	char err[512];
	char last_event[37]; /* the id of the last event written (ids increase) */
};

/* Prepares r for reforms effective on `on` (YYYY-MM-DD). REFORM_BAD for a bad date or
 * a hub without units. */
int reform_init(struct reform *r, struct store *s, const char *on, int64_t now_ms);

/* A unit given as an id, or as an official code valid on `date`. 0 with id written;
 * -1 (REFORM_BAD: unknown). */
int reform_resolve(struct reform *r, const char *text, const char *date, char id[37]);

/* A new unit opened on `on` under parent (NULL: a root), with its first name. */
int reform_open(struct reform *r, const char *name, const char *code, const char *kind,
		const char *parent, char id[37]);
/* New name from `on`; code and kind NULL keep the current ones ("" clears the code). */
int reform_rename(struct reform *r, const char *unit, const char *name, const char *code,
		  const char *kind, const char *note);
/* New parent from `on`. Refused when the parent is the unit or below it. */
int reform_move(struct reform *r, const char *unit, const char *parent);
/* unit merged whole into `into` on `on`: closed, its records count under into. */
int reform_merge(struct reform *r, const char *unit, const char *into);
/* unit split into parts on `on`; a part equal to unit means it lives on. */
int reform_split(struct reform *r, const char *unit, const char *const *parts, size_t nparts);
/* unit closed on `on`; successor may be NULL (records count under its last parent). */
int reform_close(struct reform *r, const char *unit, const char *successor, const char *note);

/* Applies an official conversion file, header
 *   new_province,new_province_code,new_commune,new_commune_code,old_commune,
 *   old_commune_code,how,old_district,old_district_code
 * effective on `on`: each new commune is a new unit under the province (reused when a
 * unit that is not one of the file's old communes already holds its code on `on`, so a
 * second run finds its work done); each old commune (found by code on the day before)
 * merged into it (`whole`) or split among the new communes that list it (`part`); the
 * old districts closed with no successor (the district level is gone); the province
 * renamed to the file's new name and code (a province merge is recorded as a rename of
 * the hub's root: it keeps its id, so scopes and reports over it go on). Refused whole
 * (REFORM_BAD) when a line is malformed, an old code is unknown, or an old commune is
 * already closed on `on` (the file was applied). */
struct reform_summary {
	size_t new_units, reused_units, merged, split, districts_closed, province_renamed;
};
int reform_import(struct reform *r, const char *path, struct reform_summary *sum);

#endif
