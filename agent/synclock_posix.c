/*
 * synclock_posix.c — the one-sync-per-database lock on POSIX (see synclock_posix.h).
 *
 * flock(2) rather than fcntl locks: an flock lock belongs to the open file, so two
 * opens in one process exclude each other too (tests run two syncs in one process),
 * and closing the descriptor — or the process ending, however it ends — releases it.
 */
#include "synclock_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define SYNCLOCK_SUFFIX ".sync-lock"
#define SYNCLOCK_POLL_MS 50 /* how often a waiting sync tries again */

static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

enum synclock_result synclock_acquire(const char *db_path, int64_t wait_ms, struct synclock *l,
				      long *holder_pid, char *err, size_t errlen)
{
	char path[4096];
	if (holder_pid)
		*holder_pid = 0;
	if ((size_t)snprintf(path, sizeof path, "%s%s", db_path, SYNCLOCK_SUFFIX) >= sizeof path) {
		snprintf(err, errlen, "database path too long for its lock file");
		return SYNCLOCK_ERROR;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return SYNCLOCK_ERROR;
	}
	for (int64_t waited = 0;; waited += SYNCLOCK_POLL_MS) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "cannot lock '%s': %s", path, strerror(errno));
			close(fd);
			return SYNCLOCK_ERROR;
		}
		if (waited >= wait_ms) {
			if (holder_pid)
				*holder_pid = read_pid(fd);
			close(fd);
			return SYNCLOCK_BUSY;
		}
		struct timespec ts = { 0, SYNCLOCK_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	/* Who holds it, for the message a second sync shows. Failing to write it loses
	 * only that (the holder reads as unknown): the lock is held all the same. */
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	int noted = ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n;
	(void)noted;
	l->os = fd;
	return SYNCLOCK_TAKEN;
}

void synclock_init(struct synclock *l)
{
	l->os = -1;
}

void synclock_release(struct synclock *l)
{
	if (!l || l->os < 0)
		return;
	close((int)l->os); /* releases the flock */
	l->os = -1;
}
