/*
 * figures_source.h — where the thirteen figures read their records: a small, versioned
 * table of functions that a storage back end implements (in the spirit of libgit2's
 * refdb_backend). The computation (figures.h) and the unit tree (unittree.h) read
 * through it and through nothing else, so the same code computes the figures on the
 * hub's database, on an office's own database (agent), and, once issue 15 adds it, on
 * PostgreSQL: a back end is one new file implementing the slots below.
 *
 * What "a record" means is the back end's business: the hub's back end reads only the
 * rows that exist (PROTOCOL.md §4: the insert clock wins over the delete clock; a
 * tombstone or a held update is never returned), an agent's reads its own tables as
 * they are (a delete removes the row there). Every slot returns only such rows.
 *
 * Conventions shared by every slot:
 *   - Dates are 'YYYY-MM-DD' text, compared as text (byte order, which is date order);
 *     a range [from, to] includes both days. Dated rows (valid_to, valid_until,
 *     term_until) include their last day; NULL means open-ended.
 *   - A slot that lists rows calls `row(arg, &r)` once per row; the strings in r are
 *     borrowed for the duration of that call only. A non-zero return stops the read:
 *     the slot then returns FIGURES_STOPPED (and the callback knows its own reason).
 *     Row order is unspecified unless the slot says otherwise; NULL columns are NULL
 *     pointers (integers: 0 where the slot says "COALESCE … 0").
 *   - A slot returns FIGURES_OK, or a code below with err->message filled (the back
 *     end's own words, English, for logs; err may be NULL). The state of the source is
 *     unchanged by a failed read: the caller may still call read_end and free.
 *   - Enumeration codes are those of protocol/schema.c (meeting kinds "giao_ban",
 *     "giao_nhiem_vu", "branch", "joint"; role "branch_secretary"; party steps
 *     "introduced", "admitted"; support kind "loan").
 *   - "Secretary's branch on date D" of a person: the smallest of_unit (byte order)
 *     among the person's role rows with role "branch_secretary" whose term covers D
 *     (term_from <= D and (term_until IS NULL or term_until >= D)); a person with none
 *     is not a secretary on D and such rows are not returned.
 *
 * A source is not thread-safe: one thread at a time, like the connection under it.
 * Owns: whatever the back end keeps (a borrowed connection, prepared statements);
 * released by free.
 */
#ifndef LK_FIGURES_SOURCE_H
#define LK_FIGURES_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* The layout of struct figures_source this build knows. A back end sets `version` to
 * the value it was written for; figures_source_check refuses any other, so a table of
 * functions from another build is never called through the wrong slots. */
#define FIGURES_SOURCE_VERSION 1

enum figures_code {
	FIGURES_OK = 0,
	FIGURES_STOPPED = 1,   /* a row callback returned non-zero: the read stopped there */
	FIGURES_BUSY = 2,      /* another process holds the database beyond the wait: retry */
	FIGURES_CORRUPT = 3,   /* the database file is damaged or not a database */
	FIGURES_MISSING = 4,   /* a table or column the figures read is missing (not a
				* hub or agent database, or an unknown layout) */
	FIGURES_IO = 5,        /* reading failed below the database (disk, permission) */
	FIGURES_NO_MEMORY = 6,
	FIGURES_STORAGE = 7,   /* any other failure of the back end */
	FIGURES_VERSION = 8,   /* the table of functions has another version */
};

struct figures_error {
	enum figures_code code;
	char message[256]; /* English, the back end's words: "database is locked" */
};

/* ---- rows ---- */

/* An organisation unit (table `unit`). opened_on may be NULL (then: open since ever). */
struct figures_unit_row {
	const char *id, *opened_on;
};
/* A dated name record (table `unit_name`); row_id orders records that begin the same
 * day. name, kind, valid_from may be NULL in a damaged row (the tree skips it). */
struct figures_name_row {
	const char *row_id, *unit, *name, *code, *kind, *valid_from, *valid_to;
};
/* A dated parent link (table `unit_parent`). */
struct figures_link_row {
	const char *row_id, *unit, *parent, *valid_from, *valid_to;
};
/* A reform event (table `unit_event`), every kind. other may be NULL. */
struct figures_event_row {
	const char *row_id, *kind, *unit, *other, *effective_on;
};

/* Meetings held in a period, grouped by (kind, unit_id, host_branch_id): how many, and
 * how many with commune_secretary_attended = 1. host is NULL when none was recorded. */
struct figures_meeting_group {
	const char *kind, *unit, *host;
	int64_t meetings, attended;
};
/* A count per unit. */
struct figures_unit_count {
	const char *unit;
	int64_t count;
};
/* A unit (or branch) id. */
struct figures_unit_id {
	const char *unit;
};
/* Volunteer activities grouped by (unit_id, kind); teams and participations summed
 * with NULL as 0. */
struct figures_volunteer_group {
	const char *unit, *kind;
	int64_t activities, teams, participations;
};
/* Year-end records of a year summed per unit, over records that have both numbers. */
struct figures_gathering_row {
	const char *unit;
	int64_t gathered, in_area;
};
/* Year-end records of a year with a rating, counted per (unit, rating). */
struct figures_rating_row {
	const char *unit, *rating;
	int64_t count;
};
/* A Party step of a person who was a branch secretary on its date. */
struct figures_party_row {
	const char *branch, *person, *step;
};
/* A branch secretary in office on a date, and whether a card of theirs is valid then. */
struct figures_secretary_row {
	const char *branch, *person;
	int insured;
};
/* Support to secretaries grouped by (branch, person, kind); loans summed (NULL as 0). */
struct figures_support_row {
	const char *branch, *person, *kind;
	int64_t amount_vnd;
};

/* ---- the table of functions ---- */

struct figures_source {
	int version; /* FIGURES_SOURCE_VERSION */

	/* One consistent view of the database for every read until read_end: a read
	 * transaction, unless the caller of the back end already holds one (then that one
	 * is used and read_end leaves it alone). Both may be called again after read_end. */
	int (*read_begin)(struct figures_source *src, struct figures_error *err);
	void (*read_end)(struct figures_source *src);

	/* The unit tree: every unit, name record, parent link and reform event. */
	int (*units)(struct figures_source *src,
		     int (*row)(void *arg, const struct figures_unit_row *r), void *arg,
		     struct figures_error *err);
	int (*unit_names)(struct figures_source *src,
			  int (*row)(void *arg, const struct figures_name_row *r), void *arg,
			  struct figures_error *err);
	int (*unit_links)(struct figures_source *src,
			  int (*row)(void *arg, const struct figures_link_row *r), void *arg,
			  struct figures_error *err);
	int (*unit_events)(struct figures_source *src,
			   int (*row)(void *arg, const struct figures_event_row *r), void *arg,
			   struct figures_error *err);

	/* Meetings of the four kinds held in [from, to] (a range within `year`), grouped
	 * (struct figures_meeting_group). Figures 1, 3, 4, 5, 6, 7. The hub's back end
	 * answers it from one range of a covering index (hub/store/store_sqlite.c meeting_year). */
	int (*meeting_groups)(struct figures_source *src, int year, const char *from,
			      const char *to,
			      int (*row)(void *arg, const struct figures_meeting_group *r),
			      void *arg, struct figures_error *err);
	/* Tasks (table `task`) whose meeting is a giao_nhiem_vu meeting held in [from, to],
	 * counted per the meeting's unit_id. Figure 4. */
	int (*meeting_tasks)(struct figures_source *src, int year, const char *from,
			     const char *to,
			     int (*row)(void *arg, const struct figures_unit_count *r), void *arg,
			     struct figures_error *err);
	/* Distinct branch_id of `meeting_branch` rows of meetings of the four kinds held in
	 * [from, to]. Figure 7, when many branches are left to check. */
	int (*meeting_participants)(struct figures_source *src, int year, const char *from,
				    const char *to,
				    int (*row)(void *arg, const struct figures_unit_id *r),
				    void *arg, struct figures_error *err);
	/* *found = 1 when branch took part (meeting_branch) in a meeting held in [from, to],
	 * else 0. Figure 7, branch by branch when few are left to check. */
	int (*branch_took_part)(struct figures_source *src, const char *branch, const char *from,
				const char *to, int *found, struct figures_error *err);
	/* Distinct units that own, or take part in (volunteer_branch), a volunteer activity
	 * started in [started_from, to] and not ended before from (ended_on NULL: it ended
	 * the day it started). Figure 7. */
	int (*volunteer_units)(struct figures_source *src, const char *started_from,
			       const char *from, const char *to,
			       int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
			       struct figures_error *err);
	/* Volunteer activities started in [from, to], grouped. Figure 9. */
	int (*volunteer_groups)(struct figures_source *src, const char *from, const char *to,
				int (*row)(void *arg, const struct figures_volunteer_group *r),
				void *arg, struct figures_error *err);
	/* Distinct branch_id of pilot rows valid on date (valid_from <= date, valid_until
	 * NULL or >= date). Figure 2. */
	int (*pilots)(struct figures_source *src, const char *date,
		      int (*row)(void *arg, const struct figures_unit_id *r), void *arg,
		      struct figures_error *err);
	/* Year-end records (year_record) of year with youth_gathered and youth_in_area both
	 * given, summed per unit. Figure 8. */
	int (*gathering)(struct figures_source *src, int year,
			 int (*row)(void *arg, const struct figures_gathering_row *r), void *arg,
			 struct figures_error *err);
	/* Year-end records of year with a rating, counted per (unit, rating). Figure 13. */
	int (*ratings)(struct figures_source *src, int year,
		       int (*row)(void *arg, const struct figures_rating_row *r), void *arg,
		       struct figures_error *err);
	/* Party rows dated in [from, to] of persons who were branch secretaries on that
	 * date, with the secretary's branch on that date (rule above). Figure 10. */
	int (*party_steps)(struct figures_source *src, const char *from, const char *to,
			   int (*row)(void *arg, const struct figures_party_row *r), void *arg,
			   struct figures_error *err);
	/* Every branch_secretary role row in office on date (of_unit, person_id), with
	 * insured = 1 when an insurance_card of the person is valid on date. Figure 11. */
	int (*secretaries)(struct figures_source *src, const char *date,
			   int (*row)(void *arg, const struct figures_secretary_row *r), void *arg,
			   struct figures_error *err);
	/* Support rows dated in [from, to] to persons who were branch secretaries on that
	 * date, grouped by (secretary's branch on that date, person, kind). Figure 12. */
	int (*support)(struct figures_source *src, const char *from, const char *to,
		       int (*row)(void *arg, const struct figures_support_row *r), void *arg,
		       struct figures_error *err);

	/* Releases the source (not what it borrowed). */
	void (*free)(struct figures_source *src);
};

/* FIGURES_OK when src is non-NULL and of FIGURES_SOURCE_VERSION with every slot set;
 * FIGURES_VERSION with err filled otherwise. */
int figures_source_check(const struct figures_source *src, struct figures_error *err);

/* A stable lower-case name of a code, for logs: "busy", "corrupt", … */
const char *figures_code_name(enum figures_code code);

/* Calls src->free when src is not NULL. */
void figures_source_free(struct figures_source *src);

#endif
