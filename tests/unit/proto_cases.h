/*
 * proto_cases.h — helpers for the protocol's data-driven tests: read a file, list the
 * case folders under a directory, and turn each folder into its own cmocka test so
 * that a failing case is reported by name. Paths are relative to the repository root,
 * where the tests run. Header-only (static functions) so each test binary stays one
 * file; everything allocated here is freed by case_list_free.
 */
#ifndef LK_PROTO_CASES_H
#define LK_PROTO_CASES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into a new NUL-terminated buffer; NULL when it cannot. */
static inline char *case_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		char *nb = realloc(buf, cap * 2 + 1);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* One case: its folder, its name for the report, its input and expectation. */
struct case_item {
	char dir[512];
	char name[256];
	char *input;    /* owned, NUL-terminated */
	size_t len;
	char *expect;   /* owned, NULL when there is no expect.txt */
	const void *arg;/* what the test function needs (borrowed) */
};

struct case_list {
	struct case_item *items;
	size_t n, cap;
};

static inline int case_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds every sub-folder of `dir` (sorted) that holds input.json; returns how many. */
static inline size_t case_list_add_dir(struct case_list *l, const char *dir, const char *label,
				       const void *arg)
{
	DIR *d = opendir(dir);
	size_t added = 0;
	if (!d)
		return 0;
	char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char **tmp = realloc(names, (nn + 1) * sizeof *names);
		if (!tmp)
			break;
		names = tmp;
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	if (nn)
		qsort(names, nn, sizeof *names, case_name_cmp);
	for (size_t i = 0; i < nn; i++) {
		char path[700];
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			struct case_item *it = realloc(l->items, cap * sizeof *it);
			if (!it)
				break;
			l->items = it;
			l->cap = cap;
		}
		struct case_item *c = &l->items[l->n];
		memset(c, 0, sizeof *c);
		snprintf(c->dir, sizeof c->dir, "%s/%s", dir, names[i]);
		snprintf(c->name, sizeof c->name, "%s/%s", label, names[i]);
		snprintf(path, sizeof path, "%s/input.json", c->dir);
		c->input = case_read_file(path, &c->len);
		if (!c->input)
			continue;
		snprintf(path, sizeof path, "%s/expect.txt", c->dir);
		c->expect = case_read_file(path, NULL);
		c->arg = arg;
		l->n++;
		added++;
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return added;
}

static inline void case_list_free(struct case_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].input);
		free(l->items[i].expect);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

/* Copies line `k` (0-based) of text into buf without its newline; "" when absent. */
static inline void case_line(const char *text, int k, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (!text)
		return;
	for (; k > 0 && text; k--) {
		text = strchr(text, '\n');
		if (text)
			text++;
	}
	if (!text || !*text)
		return;
	size_t n = strcspn(text, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}

/* Number of non-empty lines. */
static inline size_t case_nlines(const char *text)
{
	size_t n = 0;
	char line[256];
	if (!text)
		return 0;
	for (int k = 0;; k++) {
		const char *p = text;
		int i;
		for (i = 0; i < k && p; i++) {
			p = strchr(p, '\n');
			if (p)
				p++;
		}
		if (!p || !*p)
			break;
		case_line(text, k, line, sizeof line);
		if (line[0])
			n++;
	}
	return n;
}

#endif
