/*
 * plat_posix.c — plat.h on POSIX (Debian): paths and arguments are already bytes the
 * kernel takes as they are, so most functions pass through.
 */
#include "plat.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

int plat_write_private(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int ok = fchmod(fd, 0600) == 0 && write(fd, data, len) == (ssize_t)len;
	return close(fd) == 0 && ok ? 0 : -1;
}

long plat_open_url(const char *url)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = 0;
	char *argv[] = { "xdg-open", (char *)url, NULL };
	if (posix_spawn_file_actions_init(&fa) != 0)
		return 0;
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0)
		pid = 0;
	posix_spawn_file_actions_destroy(&fa);
	return (long)pid;
}

void plat_opener_reap(long opener)
{
	if (opener > 0)
		waitpid((pid_t)opener, NULL, WNOHANG);
}
