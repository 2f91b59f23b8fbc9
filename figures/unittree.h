/*
 * unittree.h — the organisation tree as it stood on any date, read once from the
 * unit tables (of the hub, or of an office: figures_source.h) into memory.
 *
 * A unit's names, codes, kinds and parent links are dated rows (`unit_name`,
 * `unit_parent`); reforms are events (`unit_event`). Nothing is ever moved: this module
 * answers "what was the tree on date D" and "where does a unit's history count now"
 * by reading those rows, so reports for past years still add up (LESSONS.md, units).
 *
 * Date rules (all dates 'YYYY-MM-DD', compared as text):
 *   - a dated row (name, parent link) is valid on D when valid_from <= D and
 *     (valid_to IS NULL or valid_to >= D): `valid_to` is the last day. When two rows
 *     of one unit are valid on D (a reform that wrote valid_to = the effective date),
 *     the one that began later wins.
 *   - a unit is open on D when opened_on <= D and D is before its closing date. The
 *     closing date is the earliest effective_on among its `merge` and `close` events,
 *     and its `split` events unless one of them names the unit itself as a successor
 *     (a unit that lives on after a part was split off).
 *   - successors: `merge` → other_unit; `close` → other_unit when given; `split` →
 *     every other_unit of its split events. The primary successor of a split is the
 *     one that carries the unit's last code (Tuy Phong took Phong Phú's code), else the
 *     first recorded.
 *   - `rename`, `move` and `open` events are informational: the dated rows say it.
 *
 * Roll-up (where a unit's records count as of D, unittree_rollup): a unit closed by D
 * is replaced by its successors (all of them for a split: "tách"), then climbs its
 * parent links as of D (as of the day before it closed, for a unit with no
 * successor); a parent closed by D is replaced by its primary successor. So records of
 * a commune merged into another count, once, under the surviving commune.
 *
 * Only existing rows count: the tree is read through a figures source
 * (figures_source.h), whose back end returns only the rows that exist (on the hub:
 * PROTOCOL.md §4, the insert clock wins over the delete clock), so tombstones and rows
 * whose insert has not arrived are never part of the tree or a report. The tree reads
 * nothing else and names no database: the same tree serves the hub and an office.
 *
 * Owns: every string it returns (borrowed, valid until unittree_free). A tree is
 * read-only after load and can be shared by threads.
 */
#ifndef LK_FIGURES_UNITTREE_H
#define LK_FIGURES_UNITTREE_H

#include <stddef.h>

#include "figures_source.h"

struct unittree;

/* The dated attributes of a unit on a date (borrowed from the tree). kind is the
 * enumeration code of schema.c unit_kinds ("province", "district", …). */
struct unittree_name {
	const char *name;
	const char *code; /* NULL when the unit has no official code (village branches) */
	const char *kind;
	const char *valid_from;
	const char *valid_to; /* NULL: open-ended */
};

/* Reads every unit, name record, parent link and reform event from src (its units,
 * unit_names, unit_links and unit_events slots; in the caller's read_begin … read_end
 * when it wants them from one snapshot), in whatever order the source gives them.
 * Returns 0 and *out (free with unittree_free), or -1 with a reason in err ("cannot
 * read units: <the source's words>", or out of memory); *out is untouched on failure.
 * A back end's convenience (figures_sqlite_load_tree) does the same on a database. */
int unittree_load(struct figures_source *src, struct unittree **out, char *err, size_t errlen);
void unittree_free(struct unittree *t);

/* Number of units, and the id of the i-th (sorted by id). */
size_t unittree_count(const struct unittree *t);
const char *unittree_id(const struct unittree *t, size_t i);
/* Index (0..count-1) of a unit, or -1 when unknown. */
long unittree_index(const struct unittree *t, const char *unit_id);
/* The tree's own copy of unit_id (valid until unittree_free), or NULL if unknown. */
const char *unittree_intern(const struct unittree *t, const char *unit_id);

/* 1 when the unit exists and is open on `date`, 0 otherwise. */
int unittree_is_open(const struct unittree *t, const char *unit_id, const char *date);
/* Its opening date, and its closing date (first day it is no longer open) or NULL. */
const char *unittree_opened_on(const struct unittree *t, const char *unit_id);
const char *unittree_closed_on(const struct unittree *t, const char *unit_id);

/* The name record valid on date; for a date outside every record (a closed unit,
 * a date before its first name) the latest record that began on or before date, else
 * the earliest. Returns 0 and fills *out, or 1 when the unit is unknown or unnamed. */
int unittree_name_of(const struct unittree *t, const char *unit_id, const char *date,
		     struct unittree_name *out);

/* The parent on date (link rule above), or NULL for a root or an unknown unit. */
const char *unittree_parent_of(const struct unittree *t, const char *unit_id,
			       const char *date);

/* The unit a unit counts under one level up on date: its parent on date, or, when
 * that parent was closed by then, the parent's successor (repeatedly; its own parent
 * when it has none). NULL for a root or an unknown unit. */
const char *unittree_effective_parent(const struct unittree *t, const char *unit_id,
				      const char *date);

/* Units open on date whose effective parent on date is unit_id (so including units
 * still linked to a unit merged into it), sorted by code then name then id. *out is a malloc'd array of borrowed ids (free the array only); *n its length.
 * Returns 0, or -1 when out of memory (outputs untouched). */
int unittree_children(const struct unittree *t, const char *unit_id, const char *date,
		      const char ***out, size_t *n);

/* The unit that held this official code on some day of [from, to] (dates included;
 * from == to asks for one day) while it was open; when several did (a code is reused
 * after a reform: LESSONS.md), the one that held it on the latest day, and of two
 * name records reaching that day the one that began later. A name record without
 * valid_to counts only up to the day before its unit closed. NULL if none. */
const char *unittree_find_code(const struct unittree *t, const char *code, const char *from,
			       const char *to);

/* The primary successor (rules above), or NULL when the unit has none. */
const char *unittree_successor(const struct unittree *t, const char *unit_id);
/* Every direct successor, in recorded order; *out is a borrowed array inside the tree
 * (valid until unittree_free). Returns the count (0 when none or unknown). */
size_t unittree_successors(const struct unittree *t, const char *unit_id,
			   const char *const **out);

/* Roll-up of unit_id under root as of date (rules above). Returns 1 when the unit's
 * records count in root's subtree, 0 when not (unknown units included). On 1, rows[]
 * receives the distinct children of root (as of date) under which they count — none
 * when they count at root itself, several when a split fans them out — and *nrows
 * their number; at most max_rows are written (*nrows may be larger). */
int unittree_rollup(const struct unittree *t, const char *root, const char *unit_id,
		    const char *date, const char **rows, size_t max_rows, size_t *nrows);

/* 1 when unit_id counts in root's subtree as of date (root itself included; units
 * merged into the subtree included): the scope check of PROTOCOL.md §8. */
int unittree_in_subtree(const struct unittree *t, const char *root, const char *unit_id,
			const char *date);

/* Every unit other than root that counts in root's subtree as of date (open or
 * closed: units merged into the subtree are included), sorted by id. *out is a
 * malloc'd array of borrowed ids (free the array only). Returns 0, or -1 when out of
 * memory (outputs untouched). */
int unittree_descendants_as_of(const struct unittree *t, const char *root, const char *date,
			       const char ***out, size_t *n);

/* Days from 1970-01-01 to date ('YYYY-MM-DD', 1970 or later), or -1 when malformed
 * or earlier. */
long unittree_day_number(const char *date);

/* The date of day number `day` (days from 1970-01-01, as unittree_day_number counts)
 * as 'YYYY-MM-DD' into out. */
void unittree_date_of_day(long day, char out[11]);

/* The day before date ('YYYY-MM-DD') into out; a malformed date is copied as is. */
void unittree_day_before(const char *date, char out[11]);

/* The root of the tree on date: the open unit without a parent, preferring kind
 * "province", then the smallest id. NULL when there is no unit. */
const char *unittree_root(const struct unittree *t, const char *date);

#endif
