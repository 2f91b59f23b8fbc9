/*
 * changes.h — applying change sets to the store: sequence and chain checks per agent,
 * validation, scope, quarantine, held changes, flags and receipts (PROTOCOL.md §5–§8).
 *
 * No HTTP here: api.c calls these inside its group-commit transaction and
 * `lienket-hub merge-file` calls them directly. Functions that take a store expect to
 * run inside a write transaction (store->begin) unless said otherwise.
 */
#ifndef LK_HUB_CHANGES_H
#define LK_HUB_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "units.h"
#include "validate.h"
#include "wire.h"

/* The outcome of one change set. On status 200, `answer` holds the §6.2 answer (its
 * quarantined array owned: release with changes_result_release); otherwise `error`
 * holds the §7.1 error. */
struct changes_result {
	int status;
	struct wire_error_answer error;
	struct wire_changes_answer answer;
	int64_t held, skipped;
};
void changes_result_release(struct changes_result *r);

/* Checks that need no store: schema version, names (refused whole). Returns 0 when the
 * change set may go on, else fills res (status 400/422) and returns 1. Clocks need the
 * rows they write (PROTOCOL.md §4): changes_apply checks them. */
int changes_precheck(const struct wire_changeset *cs, int64_t hub_time_ms, struct changes_result *res);

/* What applying a change set computes without the store: the chain after each entry
 * and each entry's validation. api.c makes it in the request's thread, so the one
 * writer thread does not (bench/README.md, figure 1). Owns its two arrays. */
struct changes_prep {
	size_t n;                    /* = cs->nentries */
	unsigned char (*chains)[32]; /* chain(seq) after entry i */
	unsigned char chain_end[32]; /* after the last entry (chain_before when none) */
	struct changes_check {
		enum validate_code vc;
		struct validate_status vs;
	} *checks;                   /* validate_entry of entry i (skipped entries: OK) */
};
/* Fills p for cs (after changes_precheck accepted it). 0, or -1 on allocation or hash
 * failure (p left empty). Release with changes_prep_release. */
int changes_prepare(const struct wire_changeset *cs, struct changes_prep *p);
void changes_prep_release(struct changes_prep *p);

/* Held changes (PROTOCOL.md §7.3) kept at most per agent and in all. A change set
 * that would hold more is refused whole with 429 held_full (§7.1): nothing is stored
 * and the agent sends it again later, so nothing is lost. An office's legitimate held
 * changes are rows of a branch another laptop created and has not synced yet: a few
 * thousand at most; the bounds keep the table, and what a unit's arrival settles, small. */
#define CHANGES_HELD_MAX_PER_AGENT 10000
#define CHANGES_HELD_MAX 100000

/* Scopes of enrolled units kept between change sets by one writer (store
 * units_version tells when the unit tree may have changed), and the writer's bounds
 * on held changes (0: the defaults above; tests set small ones). Zero-initialise;
 * release with changes_cache_release. */
#define CHANGES_CACHE_SCOPES 64
struct changes_cache {
	int64_t held_max_per_agent, held_max;
	struct changes_cached_scope {
		char unit[37];
		char today[11];
		uint64_t version;
		struct units_scope scope;
	} slot[CHANGES_CACHE_SCOPES];
	size_t next;
};
void changes_cache_release(struct changes_cache *c);

/* Applies cs from agent cs->agent, sent with a token of `unit_id` (the scope comes
 * from it, never from the agent record: PROTOCOL.md §9), inside the caller's write
 * transaction (a savepoint is taken and undone on refusal). `prep` is changes_prepare
 * of cs, or NULL (made here); `cache` keeps scopes between calls of one writer, or
 * NULL. `token` (may be NULL) is marked fork_refused on a fork. An entry to apply whose
 * clock is beyond now_ms + max_ahead_ms and more than HLC_ROW_CARRY_MS beyond the
 * highest clock the hub holds for its row refuses the whole change set (422
 * clock_ahead, error.seq its sequence; PROTOCOL.md §4). Returns 0 with res filled (200,
 * or 409 gap/fork, 403 agent_retired, 400 bad_message, 422 clock_ahead, 429
 * held_full), or -1 on a storage or allocation failure (the caller rolls back and
 * answers 500). */
int changes_apply(struct store *s, const struct wire_changeset *cs, const struct changes_prep *prep,
		  struct changes_cache *cache, const char *unit_id, struct store_token *token,
		  int64_t now_ms, int64_t max_ahead_ms, struct changes_result *res);

/* Applies one entry written by the hub itself (a correction, a reform, units loaded
 * at init) through the same merge as an agent's: writer = hub_id, clock from the
 * hub's clock (meta hub_clock) raised above every clock the row already holds, so a
 * correction is ordered after what the operator saw (e->clock and e->seq are
 * ignored). Each applied entry advances the hub's own journal (meta hub_seq and
 * hub_chain, chained like an agent's, §5), which changes_hub_receipt records. A
 * unit_event written recomputes the closed_unit flags of its unit's rows. 0 applied,
 * 1 refused by validation or owner changed (vs filled), -1 storage failure. */
int changes_apply_hub(struct store *s, const struct entry *e, int64_t now_ms,
		      struct validate_status *vs);

/* The hub's own journal position, to receipt what a command wrote, and the hub
 * position (store last_hs), to settle the held changes its unit rows release. */
struct changes_hub_mark {
	uint64_t seq;
	char chain[65];
	uint64_t hs;
};
int changes_hub_mark(struct store *s, struct changes_hub_mark *m);
/* Ends a hub command: when hub entries were written since m, settles held changes
 * (changes_retry_held: what the hub wrote may be the unit they wait for) and adds a
 * receipt (agent = hub_id: the province's) for them. 0 or -1. */
int changes_hub_receipt(struct store *s, const struct changes_hub_mark *m, int64_t now_ms);

/* Settles the held changes waiting for units whose unit-table rows (unit, unit_name,
 * unit_parent, unit_event) were written after hub position `since_hs` — those only,
 * read by their unit (store held_of_owner), not every held change. Each is merged once
 * its unit is in its agent's scope, quarantined out_of_scope once the unit has a place
 * in the tree outside that scope, and otherwise stays held: a branch whose `unit` row
 * arrived without its `unit_parent` row has no place yet. Repeats for units that the
 * settled changes themselves wrote. `cache` (may be NULL) as for changes_apply. 0 or -1. */
int changes_retry_held(struct store *s, struct changes_cache *cache, uint64_t since_hs,
		       int64_t now_ms);

/* Fills an error result (helper shared with api.c). */
void changes_error(struct changes_result *res, int status, const char *code, const char *field,
		   int64_t hub_time, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
