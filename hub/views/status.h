/*
 * status.h — the sync status of every office, as the province reads it: who synced
 * when, what each laptop reported pending, its clock offset, how long it has been
 * silent, and what of its data the hub quarantined, set aside or flagged, with the
 * reasons in Vietnamese. Served as JSON by `GET /v1/status`, printed by
 * `lienket-hub status`, shown on the dashboard and in the morning digest.
 *
 * Order (status_build sorts; "what needs a phone call is on top"):
 *   1. silent for more than 3 days (an office that never connected counts from its
 *      enrolment), 2. silent for more than 1 day, 3. enrolled but never connected,
 *   4. has quarantined, held, skipped or flagged data or a clock off by more than
 *   STATUS_CLOCK_WARN_MS, 5. in order, 6. retired agents (replaced by a recovery) and
 *   agents whose tokens were all revoked: nobody to call.
 *   Within a rank: the longest silent first, then by unit name, then agent id.
 *
 * Times: Unix milliseconds; days and clock times shown are Vietnam's (UTC+7, no
 * daylight saving; computed without the machine's time zone).
 *
 * "As of": status_build(…, as_of_ms) reads what the hub knew at that instant where the
 * database keeps history (receipts, quarantine, skipped, held and flags carry their
 * time): contact after as_of_ms falls back to the last receipt before it; pending
 * and clock offset are those of the last hello (the hub keeps no older ones).
 *
 * Reads the hub's bookkeeping (agents, tokens, receipts, quarantined, skipped and held
 * changes, flags) through the store (store.h "what the province reads"), in one read
 * transaction, with a few statements whatever the number of offices.
 *
 * Owns: a struct status and every string in it (status_free). Labels are static.
 */
#ifndef LK_HUB_STATUS_H
#define LK_HUB_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATUS_DAY_MS ((int64_t)86400 * 1000)
#define STATUS_VN_OFFSET_MS ((int64_t)7 * 3600 * 1000) /* Asia/Ho_Chi_Minh: UTC+7, no DST */
/* A laptop clock further off than this is worth a call (HLC_MAX_AHEAD_MS refuses at 24 h). */
#define STATUS_CLOCK_WARN_MS ((int64_t)10 * 60 * 1000)
/* Issues listed per office (the counts stay complete): a page, not a dump. */
#define STATUS_MAX_ISSUES 100

enum status_rank {
	STATUS_RANK_SILENT_3D = 0,
	STATUS_RANK_SILENT_1D = 1,
	STATUS_RANK_NEVER = 2,
	STATUS_RANK_ISSUES = 3,
	STATUS_RANK_OK = 4,
	STATUS_RANK_RETIRED = 5,
};

enum status_issue_kind {
	STATUS_ISSUE_QUARANTINE, /* refused change (PROTOCOL.md §7.2) */
	STATUS_ISSUE_SKIPPED,    /* an entry the laptop could not send */
	STATUS_ISSUE_HELD,       /* kept aside: its unit is not on the hub yet */
	STATUS_ISSUE_FLAG,       /* accepted but flagged (§7.3) */
};

struct status_issue {
	enum status_issue_kind kind;
	uint64_t seq;        /* 0 for flags */
	char *code;          /* quarantine code, skip reason, flag kind ("dangling_ref") */
	char *table;         /* NULL when unknown */
	char *row_id;
	char *field;
	char *detail;        /* English message or flag detail, may be NULL */
	char *reason_vi;     /* what the province reads */
	int64_t at_ms;
};

struct status_office {
	char agent[37];          /* "" for an office that never connected */
	char unit[37];
	char *unit_code;         /* NULL when none */
	char *unit_name;         /* NULL when the unit is unknown */
	char token_prefix[16];   /* for never-connected offices */
	char software[64];
	char retired_to[37];
	uint64_t acked;
	int64_t last_ms;         /* last contact (hello or change set); 0 never */
	int64_t last_changes_ms; /* last accepted change set; 0 none */
	int64_t enrolled_ms;     /* token creation (never-connected offices) or first seen */
	int64_t pending;         /* entries reported unsent at the last hello */
	int64_t hello_ms;        /* hub time of the last hello (before as_of); 0 none */
	int64_t waiting;         /* of those, not received since (pending − entries of the
				  * change sets accepted after that hello; 0 at least): what
				  * may still be missing from the province's figures */
	char group[37];          /* the district-level unit (district or affiliated) directly
				  * under the root of the tree, as of the status date, that the
				  * office's unit counts under; "" when there is none (the
				  * root's own office, a province without districts) */
	char *group_name;        /* its name (NULL when group is "") */
	int64_t offset_ms;       /* hub time − laptop time at the last hello */
	int64_t days_silent;     /* whole days since last contact (or enrolment) */
	int silent_1d, silent_3d, never, clock_off;
	int retired;             /* replaced by a recovery, or every token revoked */
	int revoked;             /* no token of the agent is active (`lienket-hub revoke`) */
	int64_t quarantined, skipped, held, flagged;
	enum status_rank rank;
	const char *state;       /* static ASCII: silent, never, issues, clock, ok, retired, revoked */
	const char *state_vi;    /* static Vietnamese */
	size_t nissues;          /* listed (at most STATUS_MAX_ISSUES) */
	struct status_issue *issues;
};

struct status {
	int64_t as_of_ms;
	char hub_id[37];
	int64_t flags_held, flags_dangling, flags_closed; /* whole hub */
	size_t n;
	struct status_office *offices;   /* sorted (order above) */
	size_t nloose;
	struct status_issue *loose;      /* flags no office wrote (province's own rows) */
};

/* Builds the status as of as_of_ms. Returns 0 and *out (status_free), or -1 with an
 * English reason in err (storage failure or out of memory); *out untouched then. */
struct store;
int status_build(struct store *s, int64_t as_of_ms, struct status **out, char *err,
		 size_t errlen);
void status_free(struct status *st);

struct unittree;
/* Keeps only the offices whose unit counts in root's subtree as of date
 * (unittree_in_subtree: root included, units merged into the subtree included) and
 * drops the loose flags (the province's own rows). Order is kept. */
void status_keep_subtree(struct status *st, const struct unittree *t, const char *root,
			 const char *date);

/* Renderers: 0, or -1 when writing to f failed.
 * json: the `GET /v1/status` document (one line; see status.c for the fields).
 * text: a table in Vietnamese for the terminal, then each office's issues.
 * csv:  UTF-8 with a byte-order mark and CRLF (Excel), one line per office.
 * html: a self-contained <section class="lk-status"> fragment (inline style, cards
 *       below 720 px), every text escaped: the counts, "Cần gọi điện trước" (the
 *       offices status_needs_call, in order, each problem with what to do), then the
 *       offices grouped by district (status_office.group; the group of the most
 *       urgent office first, offices without a district last). */
int status_write_json(const struct status *st, FILE *f);
int status_write_text(const struct status *st, FILE *f);
int status_write_csv(const struct status *st, FILE *f);
int status_write_html(const struct status *st, FILE *f);

/* 1 when the office needs a phone call (silent over a day, or never connected). */
int status_needs_call(const struct status_office *o);
/* Writes o's problems as an HTML list, each with what to do (Vietnamese): never
 * connected, days silent, changes still waiting, clock, refused, held, unsendable,
 * flagged records, then the detailed reasons. Returns how many problems (0: the
 * list is empty; a retired office writes nothing). */
size_t status_problems_html(const struct status_office *o, FILE *f);

/* ---- shared helpers (Vietnam time, escaping), used by dashboard.c and digest.c ---- */

/* 'YYYY-MM-DD' of ms in Vietnam. */
void status_vn_date(int64_t ms, char out[11]);
/* 'YYYY-MM-DD HH:MM' of ms in Vietnam. */
void status_vn_time(int64_t ms, char out[17]);
/* Unix ms of 'YYYY-MM-DD' at hh:mm Vietnam time. 0, or -1 for a malformed or
 * impossible date or time (out untouched). */
int status_vn_ms(const char *date, int hh, int mm, int64_t *out);

#endif
