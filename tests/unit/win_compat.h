/*
 * win_compat.h — what the unit suites take from POSIX and mingw-w64 lacks, for their
 * Windows builds only (win.mk force-includes it with -include; the Debian builds never
 * see it): mkdtemp, strndup, setenv and POSIX's two-argument mkdir (the mode means
 * nothing on Windows). Everything else the suites use (unlink, rmdir, opendir, getpid) mingw-w64
 * has.
 *
 * The suites make their folders under "/tmp/…": under Wine, with the suite started from
 * a Unix folder (drive Z:), that is the Unix /tmp.
 */
#ifndef LK_TESTS_WIN_COMPAT_H
#define LK_TESTS_WIN_COMPAT_H

#include <direct.h>
#include <errno.h>
#include <io.h>
#include <process.h>
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

#endif
