/*
 * journal.h — the agent's journal (lk_journal) as the sync engine sees it: a stream of
 * entries, their hashes and chain (PROTOCOL.md §5), change sets cut by bytes, clock
 * lowering after clock_ahead by row floors (§4), compaction below the hub's backup, and the
 * "is this row/field still pending?" question the pull merge asks (§6.3).
 *
 * Invariants: the journal is never loaded whole — every walk steps one prepared
 * statement over seq > some bound, and a change set holds at most one batch. The hash
 * and chain of an entry are computed once, in sequence order, and stored; chain(0) is
 * 32 zero bytes, or lk_config compacted_chain at lk_config compacted_seq once
 * acknowledged entries were compacted. An entry once sent skipped stays skipped
 * (lk_journal.skipped), so what the hub saw never changes.
 * Owns: nothing between calls except what a struct journal_reader holds.
 */
#ifndef LK_AGENT_JOURNAL_H
#define LK_AGENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "store.h"

/* Room kept in a batch for the change set's envelope (agent, from, to, two chains). */
#define JOURNAL_ENVELOPE_BYTES 512
/* The smallest batch a 413 can shrink us to: any single entry of schema 1 fits. */
#define JOURNAL_MIN_BATCH_BYTES (8u << 10)

/* One journal row as an entry. Strings and fields are borrowed from the reader and
 * valid until the next journal_reader_next or journal_reader_free. */
struct journal_item {
	struct entry e;
	int schema;            /* schema version the entry was written under */
	int64_t recorded_ms;
	int has_hash, has_chain;
	unsigned char chain[ENTRY_HASH_BYTES]; /* when has_chain */
	const char *skipped;   /* stored skip reason, or NULL */
	int encodable;         /* 0: fields are not canonical values (bad JSON, reals,
				  arrays…); the entry can only travel skipped */
	size_t fields_bytes;   /* length of the stored fields JSON */
};

struct journal_reader;

/* Opens a stream over entries with seq >= from_seq, in sequence order. 0 or -1. */
int journal_reader_open(struct store *s, uint64_t from_seq, struct journal_reader **out);
/* 1 and *item (borrowed) when an entry was read, 0 at the end, -1 on error. */
int journal_reader_next(struct journal_reader *r, struct journal_item **item);
void journal_reader_free(struct journal_reader *r); /* accepts NULL */

/* lk_state.acked_seq. 0 or -1. */
int journal_acked(struct store *s, uint64_t *acked);
int journal_set_acked(struct store *s, uint64_t acked);
/* The highest sequence in the journal (or compacted_seq when it is empty). */
int journal_last_seq(struct store *s, uint64_t *seq);
/* Unacknowledged entries and the bytes of their fields JSON (progress, status). */
int journal_pending(struct store *s, uint64_t *count, uint64_t *bytes);

/* The chain at `seq`: from lk_journal, or compacted_chain, or zeros for 0. Computes
 * and stores missing hashes/chains up to seq first. 0; 1 when seq lies below the
 * compaction point (unknown) or beyond the journal; -1 on error. */
int journal_chain_at(struct store *s, uint64_t seq, unsigned char out[ENTRY_HASH_BYTES]);

/* A change set ready to send. json is owned (free with journal_batch_release). */
struct journal_batch {
	char *json;
	size_t json_len;
	uint64_t from, to;
	size_t count, nskipped;
	size_t entry_bytes; /* fields bytes of the entries (progress) */
	int schema;
};
void journal_batch_release(struct journal_batch *b);

struct journal_batch_limits {
	size_t batch_bytes;     /* cut here (may be shrunk after a 413) */
	size_t entry_max_bytes; /* an entry larger than this alone travels skipped (too_large) */
	size_t max_changes;     /* at most this many entries */
	int changes_v;          /* the change-set shape (PROTOCOL.md §6.2a); 0 or 1: shape 1 */
};

/* Builds the change set starting at `from` (entries of one schema version, at most
 * the limits, in the shape lim->changes_v), computing and storing hashes and chains and
 * recording new skipped entries. Which entries travel skipped, and so the hashes and the
 * chain, do not depend on the shape: `too_large` is measured in shape 1; the cut at
 * batch_bytes counts the shape's own bytes (shape 2 fits more entries). 0 with *out filled; 1 when nothing is pending from `from`; -1 on error
 * (err gets an English reason). */
int journal_build_batch(struct store *s, const char *agent_id, uint64_t from,
			const struct journal_batch_limits *lim, struct journal_batch *out,
			char *err, size_t errlen);

/* After clock_ahead: lowers the clocks of unacknowledged entries, in sequence order,
 * to at most hub_time_ms << 16 unless their row's floor holds them up, never below it:
 * c'(k) = min(c(k), max(min(c(k), hub), F(k) + 1)) with F(k) the recorded floor and the
 * clocks of the row's earlier entries (PROTOCOL.md §4). When that leaves the entry the
 * hub refused (refused_seq, the answer's `seq`; 0 when unknown) unchanged, or changes
 * nothing at all, the floors are ignored (only the row's earlier unacknowledged
 * entries count), so a laptop is never locked out. Lowers lk_state.last_clock to hub
 * time, never below a clock in the journal or in lk_row_clock. One transaction.
 * Returns the number of clock updates, or -1. */
int64_t journal_lower_clocks(struct store *s, int64_t hub_time_ms, uint64_t refused_seq);

/* The pull merge received `clock` for row `id` of `table` (an insert, delete or field
 * stamp): raises lk_row_clock, the floor of the row's later entries. Inside the
 * caller's transaction. 0 or -1. */
int journal_row_seen(struct store *s, const char *table, const char *id, uint64_t clock);

/* Entries with seq <= upto are about to leave the journal (compaction, recover): their
 * clocks go into lk_row_clock and into the recorded floor of the later entries of the
 * same rows, so nothing is ever lowered below them. Inside the caller's transaction.
 * 0 or -1. */
int journal_keep_floors(struct store *s, uint64_t upto);

/* Deletes acknowledged entries with seq <= upto (the caller passes
 * min(acked, backup_seq)), keeping the chain at the new compaction point in lk_config.
 * 0 or -1. */
int journal_compact(struct store *s, uint64_t upto);

/* The hub holds this agent's sequence up to `seq` (chain `chain`) but the journal ends
 * below it and nothing is pending (a laptop restored from a backup before it typed
 * anything new): continue after the hub. Acknowledges up to seq, makes seq the
 * compaction point with the hub's chain, moves the sequence on so the next entry is
 * seq + 1, and restarts pulling from 0 (the rows of the entries this copy lacks come
 * back by pull). One transaction; 0 or -1. */
int journal_fast_forward(struct store *s, uint64_t seq, const unsigned char chain[ENTRY_HASH_BYTES]);

/* For the pull merge: which columns of `table`/`id` unacknowledged entries touch.
 * Sets bit i of *mask for column index i of the schema table (an insert touches all),
 * and *existence to 1 when an unacknowledged insert or delete of the row exists.
 * 0 or -1. */
int journal_pending_touch(struct store *s, uint64_t acked, const char *table, const char *id,
			  uint64_t *mask, int *existence);

/* Records quarantined changes from a hub answer. 0 or -1. */
int journal_quarantine_add(struct store *s, uint64_t seq, const char *code, const char *table,
			   const char *id, const char *field, const char *message, int64_t at_ms);

#endif
