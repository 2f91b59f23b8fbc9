/*
 * unitlabels.c — unit labels as of a date, sorted by id for bsearch.
 */
#include "unitlabels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int collect(void *ctx, const struct store_unit_info *u)
{
	struct unitlabels *L = ctx;
	if (!u->name)
		return 0; /* not opened yet on that date */
	if (L->n == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 64;
		struct unitlabel *v = realloc(L->v, cap * sizeof *v);
		if (!v)
			return -1;
		L->v = v;
		L->cap = cap;
	}
	struct unitlabel *e = &L->v[L->n];
	size_t len = strlen(u->name) + (u->code ? strlen(u->code) + 1 : 0) + 1;
	if (!(e->label = malloc(len)))
		return -1;
	snprintf(e->id, sizeof e->id, "%s", u->id);
	snprintf(e->label, len, "%s%s%s", u->code ? u->code : "", u->code ? " " : "", u->name);
	L->n++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct unitlabel *)a)->id, ((const struct unitlabel *)b)->id);
}

int unitlabels_load(struct store *s, const char *today, struct unitlabels *L)
{
	memset(L, 0, sizeof *L);
	if (s->units_list(s, today, collect, L) != 0) {
		unitlabels_release(L);
		return -1;
	}
	if (L->n)
		qsort(L->v, L->n, sizeof *L->v, by_id);
	return 0;
}

const char *unitlabels_find(const struct unitlabels *L, const char *unit_id)
{
	struct unitlabel key;
	if (!L->n || strlen(unit_id) >= sizeof key.id)
		return NULL;
	snprintf(key.id, sizeof key.id, "%s", unit_id);
	const struct unitlabel *e = bsearch(&key, L->v, L->n, sizeof key, by_id);
	return e ? e->label : NULL;
}

void unitlabels_release(struct unitlabels *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->v[i].label);
	free(L->v);
	memset(L, 0, sizeof *L);
}
