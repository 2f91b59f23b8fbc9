/*
 * synclock_posix.h — one sync per database at a time (issue 12 B): an exclusive lock
 * on a file beside the database, FILE.sync-lock, held by `sync`, `daemon` (during each
 * sync) and `recover` while they talk to the hub. Two syncs of one journal at once
 * would each read `acked` and send or lower entries the other is sending.
 *
 * The operating system releases the lock when its holder exits or is killed, so a
 * crashed sync never leaves the database locked. POSIX (synclock_posix.c): flock(2) on
 * FILE.sync-lock, which also holds the holder's process id (for the message). Windows
 * (synclock_win.c, this same contract): LockFileEx on the same file, opened by its
 * UTF-16 name. The lock file itself is never removed: removing it would let a second
 * process lock a new file while the first holds the old.
 */
#ifndef LK_AGENT_SYNCLOCK_POSIX_H
#define LK_AGENT_SYNCLOCK_POSIX_H

#include <stddef.h>
#include <stdint.h>

struct synclock {
	intptr_t os; /* the open lock file (a descriptor, or a Windows HANDLE); -1 when not held */
};

enum synclock_result {
	SYNCLOCK_TAKEN = 0,
	SYNCLOCK_BUSY = 1,  /* another sync still held it after wait_ms */
	SYNCLOCK_ERROR = -1,
};

/* Takes the lock of the database file db_path, trying again for at most wait_ms while
 * another process (or another open of it) holds it. On SYNCLOCK_BUSY, *holder_pid is
 * the holder's process id when known (else 0); on SYNCLOCK_ERROR, err gets an English
 * reason. `l` is written only when the lock is taken; release with synclock_release. */
enum synclock_result synclock_acquire(const char *db_path, int64_t wait_ms, struct synclock *l,
				      long *holder_pid, char *err, size_t errlen);
/* Marks l as not held (so synclock_release ignores it). */
void synclock_init(struct synclock *l);
/* Releases a lock taken by synclock_acquire (a NULL or unheld lock is ignored). */
void synclock_release(struct synclock *l);

#endif
