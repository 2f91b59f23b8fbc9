/*
 * rm_tree.h — removes a suite's own temporary folder (made with mkdtemp) and everything
 * in it, with the C library only (opendir, unlink, rmdir): the same on Debian and on
 * Windows, where the suites run without a shell to call `rm -rf`. 0, or -1 when
 * something is left.
 */
#ifndef LK_TESTS_RM_TREE_H
#define LK_TESTS_RM_TREE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline int rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	char p[512];
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int n = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof p || (unlink(p) != 0 && rm_tree(p) != 0))
			rc = -1;
	}
	closedir(d);
	return rmdir(dir) == 0 ? rc : -1;
}

#endif
