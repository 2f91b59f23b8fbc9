/*
 * migrate.h — `lienket-hub migrate --from DB --to DB`: a hub's whole database copied
 * into another back end (an SQLite file into PostgreSQL, or any other pair), through
 * store.h only.
 *
 * What is copied: every table of the source as it is (store.h raw_*): the synced rows
 * with their clocks, _fc, _hs and _recv_ms; tokens, agents, receipts, each agent's
 * chains, quarantine, skipped, held changes, flags, pull scopes, backup_seq, sessions,
 * viewer accounts, failed logins, digest recipients and mailed digests; and hub_meta key
 * by key (the hub id, the hub sequence, the hub's own clock and chain, the schema
 * version, the mail settings…). So the hub keeps its id and every pull position: an
 * office syncs on against the new database as if nothing had happened.
 *
 * The source is read in one snapshot and must not be served meanwhile (an SQLite file:
 * its serving lock is taken, so a running `serve` makes migrate refuse; PostgreSQL:
 * stop the hub processes first, docs/operations.md). The destination must be new — a
 * file that does not exist, or a PostgreSQL database without the hub's tables —, and is
 * written in one transaction. Then both are read again and compared: each table's row
 * count and an order-independent SHA-256 sum of its rows, every meta value, and every
 * agent's acknowledged sequence and chain (its row and chain(acked) from the chain
 * store). The summary goes to out.
 *
 * The checksum of a row: SHA-256 over its cells in column-name order, each as the
 * column name, a NUL, a kind byte, then an integer as 8 bytes big-endian or a text or
 * blob as 8 bytes of length and its bytes; a table's sum adds the row digests as four
 * 64-bit lanes, so it does not depend on the order rows are read in.
 */
#ifndef LK_HUB_MIGRATE_H
#define LK_HUB_MIGRATE_H

#include <stdio.h>

#define MIGRATE_USAGE \
	"lienket-hub migrate --from DB --to DB [--check]   (the hub stopped; DB: FILE or\n" \
	"    postgresql://…; --check: only compare a migrated pair again)"

/* What migrate_run returns. */
enum migrate_result {
	MIGRATE_OK = 0,
	MIGRATE_NO_SOURCE = 1,    /* the source cannot be opened, or is being served */
	MIGRATE_NOT_EMPTY = 2,    /* the destination exists or holds a hub already */
	MIGRATE_FAILED = 3,       /* the copy failed: nothing was committed */
	MIGRATE_MISMATCH = 4,     /* committed, but the check after found a difference */
};

/* Copies from into to, checks, and writes the summary to out; an English reason in err
 * on failure. */
enum migrate_result migrate_run(const char *from, const char *to, FILE *out, char *err,
				size_t errlen);

struct store;
/* The copy and the check between two open stores (what migrate_run does once it has
 * opened them): src not in a transaction, dst new (made by the factory with create=1).
 * For the tests, which open a back end's parts directly. */
enum migrate_result migrate_stores(struct store *src, struct store *dst, FILE *out, char *err,
				   size_t errlen);
enum migrate_result migrate_check_stores(struct store *src, struct store *dst, FILE *out,
					 char *err, size_t errlen);

/* Only the check, of a source and a destination migrated before (neither written):
 * MIGRATE_OK (summary to out), MIGRATE_MISMATCH (the difference in err), or another
 * failure. */
enum migrate_result migrate_check(const char *from, const char *to, FILE *out, char *err,
				  size_t errlen);

/* The `migrate` command (argv[0] is "migrate"): process exit code. */
int migrate_cmd(int argc, char **argv);

#endif
