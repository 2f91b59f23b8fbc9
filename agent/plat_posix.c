/*
 * plat_posix.c — plat.h on POSIX (Debian): paths and arguments are already bytes the
 * kernel takes as they are, so most functions pass through.
 */
#include "plat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files made 0600, folders 0700: the database holds the hub token in clear. */
#define PLAT_UMASK 077

int plat_init(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	umask(PLAT_UMASK);
	return 0;
}

FILE *plat_fopen(const char *path, const char *mode) { return fopen(path, mode); }
int plat_remove(const char *path) { return remove(path); }
const char *plat_getenv(const char *name) { return getenv(name); }
int plat_isatty(FILE *f) { return isatty(fileno(f)); }
long plat_pid(void) { return (long)getpid(); }

int plat_private_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || sb.st_uid != geteuid() || !(sb.st_mode & (S_IWGRP | S_IRWXO)))
		return 0;
	if (chmod(path, sb.st_mode & 07777 & ~(mode_t)(S_IWGRP | S_IRWXO)) != 0) {
		snprintf(err, errlen, "cannot restrict the permissions of '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int plat_sync_file(FILE *f)
{
	if (fflush(f) != 0)
		return -1;
	return fsync(fileno(f));
}

struct plat_memstream {
	FILE *f;
	char *buf;
	size_t len;
};

FILE *plat_memstream_open(struct plat_memstream **ms)
{
	struct plat_memstream *m = calloc(1, sizeof *m);
	if (!m || !(m->f = open_memstream(&m->buf, &m->len))) {
		free(m);
		return NULL;
	}
	*ms = m;
	return m->f;
}

int plat_memstream_close(struct plat_memstream *ms, char **buf, size_t *len)
{
	int rc = fclose(ms->f) == 0 ? 0 : -1;
	if (rc == 0 && buf) {
		*buf = ms->buf;
		*len = ms->len;
	} else {
		free(ms->buf);
	}
	free(ms);
	return rc;
}
