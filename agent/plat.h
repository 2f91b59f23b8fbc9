/*
 * plat.h — the agent's seam to the operating system for files, arguments, the
 * environment and the console, so the core modules never test _WIN32: every path and
 * argument inside the agent is UTF-8, and only the two implementations translate at the
 * edge. plat_posix.c (Debian) passes bytes through; plat_win.c (mingw-w64) converts to
 * and from UTF-16 and calls the wide-character APIs (_wfopen, _wremove, _wgetenv,
 * GetCommandLineW), so paths with Vietnamese letters work whatever the ANSI code page.
 *
 * The agent's other seams: daemon_posix.h (stop requests, idle waits; daemon_win.c on
 * Windows), synclock_posix.h (the one-sync lock; synclock_win.c), protocol/lkcrypto.h
 * (hashes and randomness; lkcrypto_win.c). SQLite takes UTF-8 paths on every system.
 */
#ifndef LK_AGENT_PLAT_H
#define LK_AGENT_PLAT_H

#include <stddef.h>
#include <stdio.h>

/* Sets the process up before any command runs: on POSIX the umask (new files 0600,
 * folders 0700: the database holds the hub token in clear); on Windows the console's
 * code page to UTF-8 (and ANSI escapes on), stdout/stderr in binary mode (a CSV export
 * to stdout is byte for byte the file), and *argc and *argv replaced by the UTF-8 form of
 * the wide command line (owned by plat, valid until the process exits). 0, or -1 when
 * the arguments cannot be converted (out of memory). */
int plat_init(int *argc, char ***argv);

/* fopen / remove / getenv with UTF-8 names. plat_getenv returns a borrowed string
 * valid until the process exits (NULL when unset or not convertible). */
FILE *plat_fopen(const char *path, const char *mode);
int plat_remove(const char *path);
const char *plat_getenv(const char *name);

/* 1 when the stream is a terminal (a console on Windows). */
int plat_isatty(FILE *f);

/* Takes group write and every access of others away from the file at path when it
 * exists, is ours and has them. POSIX: chmod. Windows: nothing to do — files the agent
 * makes live in the user's profile (the installer's %LOCALAPPDATA%\LienKet), whose
 * inherited ACL already grants only the user, SYSTEM and Administrators; mode bits do
 * not exist there. 0, or -1 with an English reason in err. */
int plat_private_file(const char *path, char *err, size_t errlen);

/* Makes what was written to f durable (fflush + fsync; FlushFileBuffers on Windows).
 * 0 or -1 (errno set). */
int plat_sync_file(FILE *f);

/* A stream writing into memory (POSIX open_memstream; Windows has none: a temporary file
 * deleted on close, read back). plat_memstream_open returns the stream and *ms, or NULL
 * (out of memory, no temporary file). plat_memstream_close closes it and, when buf is
 * not NULL, hands over what was written: *buf (malloc'd, NUL-terminated, the caller's to
 * free) and *len; with buf NULL the bytes are dropped. 0, or -1 (a write failed or no
 * memory: *buf untouched). ms is freed either way. */
struct plat_memstream;
FILE *plat_memstream_open(struct plat_memstream **ms);
int plat_memstream_close(struct plat_memstream *ms, char **buf, size_t *len);

/* Writes len bytes to path (replacing it), readable and writable by its owner only
 * (POSIX: 0600, whatever the umask; Windows: the profile folder's ACL, see
 * plat_private_file). 0 or -1. */
int plat_write_private(const char *path, const void *data, size_t len);

/* Opens url in the user's browser without waiting: POSIX `xdg-open` when on PATH
 * (output to /dev/null), Windows ShellExecuteW "open". Returns what plat_opener_reap
 * takes (0 when nothing was started); never fails the caller. */
long plat_open_url(const char *url);
void plat_opener_reap(long opener);

/* The process id, for messages and the sync lock file. */
long plat_pid(void);

#endif
