/*
 * plat_win.c — plat.h on Windows (mingw-w64): UTF-8 inside, UTF-16 at the edge.
 *
 * The C runtime's narrow functions (fopen, remove, getenv, main's argv) speak the ANSI
 * code page, Windows-1258 on a Vietnamese Windows and 1252 elsewhere, and lose every
 * letter it lacks ("Hồ Chí Minh" becomes "H? Chí Minh"). So the arguments are taken
 * from GetCommandLineW and converted to UTF-8 once, and every file name is converted
 * back to UTF-16 for the wide function. Conversions refuse invalid UTF-8 / UTF-16
 * rather than substitute, so a name is never silently changed.
 * Owns: the converted argument vector and the converted environment values (kept for
 * the life of the process, as main's argv and getenv's results are).
 */
#include "plat.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <shellapi.h>

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

/* UTF-8 → UTF-16, malloc'd; NULL (errno EILSEQ or ENOMEM) when it cannot be. */
static wchar_t *wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0) {
		errno = EILSEQ;
		return NULL;
	}
	wchar_t *w = malloc((size_t)n * sizeof *w);
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
	return w;
}

/* UTF-16 → UTF-8, malloc'd; NULL when it cannot be. */
static char *narrow(const wchar_t *w)
{
	int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n);
	if (s)
		WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL, NULL);
	return s;
}

static void console_utf8(DWORD std)
{
	HANDLE h = GetStdHandle(std);
	DWORD mode;
	/* Only a real console has a mode; a pipe or a file keeps its bytes as they are. */
	if (h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode))
		SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

int plat_init(int *argc, char ***argv)
{
	SetConsoleOutputCP(CP_UTF8);
	SetConsoleCP(CP_UTF8);
	console_utf8(STD_OUTPUT_HANDLE);
	console_utf8(STD_ERROR_HANDLE);
	_setmode(_fileno(stdout), _O_BINARY);
	_setmode(_fileno(stderr), _O_BINARY);
	_setmode(_fileno(stdin), _O_BINARY);

	int n = 0;
	wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &n);
	if (!wargv || n < 1)
		return -1;
	char **args = calloc((size_t)n + 1, sizeof *args);
	int ok = args != NULL;
	for (int i = 0; ok && i < n; i++)
		ok = (args[i] = narrow(wargv[i])) != NULL;
	LocalFree(wargv);
	if (!ok) {
		for (int i = 0; args && i < n; i++)
			free(args[i]);
		free(args);
		return -1;
	}
	*argc = n;
	*argv = args; /* lives as long as the process, like main's own argv */
	return 0;
}

FILE *plat_fopen(const char *path, const char *mode)
{
	wchar_t *wp = wide(path), *wm = wide(mode);
	FILE *f = wp && wm ? _wfopen(wp, wm) : NULL;
	free(wp);
	free(wm);
	return f;
}

int plat_remove(const char *path)
{
	wchar_t *wp = wide(path);
	int rc = wp ? _wremove(wp) : -1;
	free(wp);
	return rc;
}

/* Converted values, kept for the process's life (getenv's contract). */
struct env_value {
	struct env_value *next;
	char *name, *value;
};
static struct env_value *env_values;

const char *plat_getenv(const char *name)
{
	for (struct env_value *e = env_values; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e->value;
	wchar_t *wn = wide(name);
	const wchar_t *wv = wn ? _wgetenv(wn) : NULL;
	free(wn);
	if (!wv)
		return NULL;
	struct env_value *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->name = strdup(name);
	e->value = narrow(wv);
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		free(e);
		return NULL;
	}
	e->next = env_values;
	env_values = e;
	return e->value;
}

int plat_isatty(FILE *f) { return _isatty(_fileno(f)) != 0; }
long plat_pid(void) { return (long)GetCurrentProcessId(); }

int plat_private_file(const char *path, char *err, size_t errlen)
{
	/* See plat.h: the profile folder's inherited ACL already keeps others out. */
	(void)path;
	(void)err;
	(void)errlen;
	return 0;
}

int plat_sync_file(FILE *f)
{
	if (fflush(f) != 0)
		return -1;
	HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
	if (h == INVALID_HANDLE_VALUE || !FlushFileBuffers(h)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* A temporary file in the user's temporary folder, deleted by Windows when closed. */
struct plat_memstream {
	FILE *f;
};

FILE *plat_memstream_open(struct plat_memstream **ms)
{
	wchar_t dir[MAX_PATH + 1], path[MAX_PATH + 1];
	struct plat_memstream *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	DWORD n = GetTempPathW(MAX_PATH + 1, dir);
	HANDLE h = INVALID_HANDLE_VALUE;
	if (n > 0 && n <= MAX_PATH && GetTempFileNameW(dir, L"lk", 0, path) != 0)
		h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
				FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
	int fd = h != INVALID_HANDLE_VALUE ? _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY) : -1;
	if (fd < 0 || !(m->f = _fdopen(fd, "w+b"))) {
		if (fd >= 0)
			_close(fd);
		else if (h != INVALID_HANDLE_VALUE)
			CloseHandle(h);
		free(m);
		return NULL;
	}
	*ms = m;
	return m->f;
}

/* Reads the whole stream back into a malloc'd, NUL-terminated buffer: 0 or -1. */
static int read_back(FILE *f, char **buf, size_t *len)
{
	long n;
	if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		return -1;
	char *b = malloc((size_t)n + 1);
	if (!b)
		return -1;
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
}

int plat_memstream_close(struct plat_memstream *ms, char **buf, size_t *len)
{
	int rc = buf ? read_back(ms->f, buf, len) : 0;
	fclose(ms->f); /* deletes the file: what was read back is all that counts */
	free(ms);
	return rc;
}

int plat_write_private(const char *path, const void *data, size_t len)
{
	FILE *f = plat_fopen(path, "wb"); /* the profile's ACL: see plat_private_file */
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

long plat_open_url(const char *url)
{
	wchar_t *w = wide(url);
	if (w) {
		/* Returns at once; the browser is not our child: nothing to reap. */
		ShellExecuteW(NULL, L"open", w, NULL, NULL, SW_SHOWNORMAL);
		free(w);
	}
	return 0;
}

void plat_opener_reap(long opener)
{
	(void)opener;
}
