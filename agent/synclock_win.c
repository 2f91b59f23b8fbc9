/*
 * synclock_win.c — the one-sync-per-database lock on Windows (contract:
 * synclock_posix.h).
 *
 * LockFileEx on FILE.sync-lock, opened by its UTF-16 name with sharing for read and
 * write so a second sync can open it to wait and to read the holder's process id. A
 * Windows byte-range lock is mandatory (it blocks others' reads of those bytes), so the
 * lock covers one byte far past the id, which stays readable at offset 0. Like flock,
 * the lock belongs to the open handle: two opens in one process exclude each other,
 * and closing the handle — or the process ending, however it ends — releases it.
 */
#include "synclock_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#define SYNCLOCK_SUFFIX ".sync-lock"
#define SYNCLOCK_POLL_MS 50           /* how often a waiting sync tries again */
#define SYNCLOCK_BYTE_OFFSET 0x40000000u /* the locked byte: far past the process id */

static long read_pid(HANDLE h)
{
	char buf[32];
	DWORD n = 0;
	OVERLAPPED at = { 0 }; /* offset 0 */
	if (!ReadFile(h, buf, sizeof buf - 1, &n, &at) || n == 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* UTF-8 path + suffix → UTF-16, malloc'd, or NULL. */
static wchar_t *lock_path(const char *db_path)
{
	size_t len = strlen(db_path) + sizeof SYNCLOCK_SUFFIX;
	char *p = malloc(len);
	if (!p)
		return NULL;
	snprintf(p, len, "%s%s", db_path, SYNCLOCK_SUFFIX);
	wchar_t *w = NULL;
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, p, -1, NULL, 0);
	if (n > 0 && (w = malloc((size_t)n * sizeof *w)) != NULL)
		MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, p, -1, w, n);
	free(p);
	return w;
}

enum synclock_result synclock_acquire(const char *db_path, int64_t wait_ms, struct synclock *l,
				      long *holder_pid, char *err, size_t errlen)
{
	if (holder_pid)
		*holder_pid = 0;
	wchar_t *path = lock_path(db_path);
	if (!path) {
		snprintf(err, errlen, "cannot name the lock file of '%s' (not UTF-8, or out of memory)", db_path);
		return SYNCLOCK_ERROR;
	}
	HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
			       NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	free(path);
	if (h == INVALID_HANDLE_VALUE) {
		snprintf(err, errlen, "cannot open '%s%s': Windows error %lu", db_path, SYNCLOCK_SUFFIX,
			 (unsigned long)GetLastError());
		return SYNCLOCK_ERROR;
	}
	for (int64_t waited = 0;; waited += SYNCLOCK_POLL_MS) {
		OVERLAPPED at = { 0 };
		at.Offset = SYNCLOCK_BYTE_OFFSET;
		if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at))
			break;
		DWORD e = GetLastError();
		if (e != ERROR_LOCK_VIOLATION && e != ERROR_IO_PENDING) {
			snprintf(err, errlen, "cannot lock '%s%s': Windows error %lu", db_path,
				 SYNCLOCK_SUFFIX, (unsigned long)e);
			CloseHandle(h);
			return SYNCLOCK_ERROR;
		}
		if (waited >= wait_ms) {
			if (holder_pid)
				*holder_pid = read_pid(h);
			CloseHandle(h);
			return SYNCLOCK_BUSY;
		}
		Sleep(SYNCLOCK_POLL_MS);
	}
	/* Who holds it, for the message a second sync shows. Failing to write it loses only
	 * that (the holder reads as unknown): the lock is held all the same. */
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%lu\n", (unsigned long)GetCurrentProcessId());
	DWORD wrote = 0;
	OVERLAPPED at = { 0 };
	if (WriteFile(h, pid, (DWORD)n, &wrote, &at)) {
		LARGE_INTEGER end;
		end.QuadPart = n;
		if (SetFilePointerEx(h, end, NULL, FILE_BEGIN))
			SetEndOfFile(h); /* a shorter id than the last holder's leaves no tail */
	}
	l->os = (intptr_t)h;
	return SYNCLOCK_TAKEN;
}

void synclock_init(struct synclock *l)
{
	l->os = -1;
}

void synclock_release(struct synclock *l)
{
	if (!l || l->os == -1)
		return;
	CloseHandle((HANDLE)l->os); /* releases the lock */
	l->os = -1;
}
