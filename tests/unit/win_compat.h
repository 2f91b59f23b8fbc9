/*
 * win_compat.h — what the unit suites take from POSIX and mingw-w64 lacks, for their
 * Windows builds only (win.mk force-includes it with -include; the Debian builds never
 * see it): mkdtemp, strndup, setenv, POSIX's two-argument mkdir (the mode means nothing
 * on Windows), and the memory streams fmemopen (reading) and open_memstream. Everything
 * else the suites use (unlink, rmdir, opendir, getpid, dup2) mingw-w64 has.
 *
 * The memory streams are temporary files in %TEMP% that Windows deletes when they are
 * closed (_O_TEMPORARY; not msvcrt's tmpfile(), which writes to the drive's root).
 * open_memstream's *buf and *size are set when the stream is closed — by fclose, which
 * this header maps to win_compat_fclose for the suites (not after fflush, as POSIX also
 * does: no suite reads them before fclose).
 *
 * The suites make their folders under "/tmp/…": under Wine, with the suite started from
 * a Unix folder (drive Z:), that is the Unix /tmp.
 */
#ifndef LK_TESTS_WIN_COMPAT_H
#define LK_TESTS_WIN_COMPAT_H

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h> /* not <windows.h>: its macros (far, near, …) clash with the suites' names */

/* mkdtemp(3): replaces the trailing "XXXXXX" of tmpl and creates that folder. */
static inline char *mkdtemp(char *tmpl)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(tmpl);
	if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) {
		errno = EINVAL;
		return NULL;
	}
	static unsigned long long calls;
	unsigned long long v = ((unsigned long long)time(NULL) * 2654435761ULL) ^
			       ((unsigned long long)_getpid() << 20) ^ (++calls << 40);
	for (int attempt = 0; attempt < 1000; attempt++) {
		unsigned long long x = v + (unsigned long long)attempt * 0x9e3779b97f4a7c15ULL;
		for (int i = 0; i < 6; i++, x /= 36)
			tmpl[n - 6 + i] = abc[x % 36];
		if (_mkdir(tmpl) == 0)
			return tmpl;
		if (errno != EEXIST)
			return NULL;
	}
	return NULL;
}

/* After every header that declares mingw's one-argument mkdir. */
#define mkdir(path, mode) ((void)(mode), _mkdir(path))

static inline int setenv(const char *name, const char *value, int overwrite)
{
	if (!overwrite && getenv(name))
		return 0;
	return _putenv_s(name, value) == 0 ? 0 : -1;
}

static inline char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* A new temporary file open for reading and writing, deleted when closed; NULL when
 * none can be made (errno set). */
static inline FILE *win_compat_tempfile(void)
{
	static unsigned calls;
	const char *dir = getenv("TEMP");
	if (!dir || !*dir)
		dir = getenv("TMP");
	if (!dir || !*dir) {
		errno = ENOENT;
		return NULL;
	}
	for (int attempt = 0; attempt < 100; attempt++) {
		char path[1024];
		snprintf(path, sizeof path, "%s\\lk-test-%d-%u.tmp", dir, _getpid(), ++calls);
		int fd = _open(path, _O_CREAT | _O_EXCL | _O_RDWR | _O_BINARY | _O_TEMPORARY, _S_IREAD | _S_IWRITE);
		if (fd >= 0) {
			FILE *f = _fdopen(fd, "w+b");
			if (!f)
				_close(fd);
			return f;
		}
		if (errno != EEXIST)
			return NULL;
	}
	return NULL;
}

/* fmemopen(3) for reading ("r", "rb"): a stream over a copy of the size bytes. */
static inline FILE *fmemopen(void *buf, size_t size, const char *mode)
{
	if (!mode || mode[0] != 'r' || strchr(mode, '+')) {
		errno = EINVAL;
		return NULL;
	}
	FILE *f = win_compat_tempfile();
	if (f && ((size && fwrite(buf, 1, size, f) != size) || fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* The open memory streams: where fclose hands over what was written. */
#define WIN_COMPAT_MEMSTREAMS 16
static struct win_compat_memstream {
	FILE *f;
	char **buf;
	size_t *size;
} win_compat_ms[WIN_COMPAT_MEMSTREAMS];

/* open_memstream(3): a stream writing into memory; see the top for *buf and *size. */
static inline FILE *open_memstream(char **buf, size_t *size)
{
	for (int i = 0; i < WIN_COMPAT_MEMSTREAMS; i++) {
		if (win_compat_ms[i].f)
			continue;
		FILE *f = win_compat_tempfile();
		if (f)
			win_compat_ms[i] = (struct win_compat_memstream){ f, buf, size };
		return f;
	}
	errno = EMFILE;
	return NULL;
}

/* fclose(3); for a memory stream, first *buf (malloc'd, NUL-terminated) and *size. */
static inline int win_compat_fclose(FILE *f)
{
	int rc = 0;
	for (int i = 0; f && i < WIN_COMPAT_MEMSTREAMS; i++) {
		if (win_compat_ms[i].f != f)
			continue;
		struct win_compat_memstream m = win_compat_ms[i];
		win_compat_ms[i].f = NULL;
		long n = -1;
		char *b = NULL;
		if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0 || !(b = malloc((size_t)n + 1)) ||
		    fread(b, 1, (size_t)n, f) != (size_t)n) {
			free(b);
			rc = EOF;
			break;
		}
		b[n] = '\0';
		*m.buf = b;
		*m.size = (size_t)n;
		break;
	}
	return fclose(f) == 0 ? rc : EOF;
}
#define fclose(f) win_compat_fclose(f)

#endif
