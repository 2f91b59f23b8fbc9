/*
 * unitlabels.h — every unit's label as of a date ("CODE NAME", or "NAME" for a unit
 * without an official code), read once, for listings and printed sheets that name
 * units (`agents list`, `enroll --csv`). Owns its strings; release with
 * unitlabels_release.
 */
#ifndef LK_HUB_UNITLABELS_H
#define LK_HUB_UNITLABELS_H

#include <stddef.h>

#include "store.h"

struct unitlabel {
	char id[37];
	char *label;
};
struct unitlabels {
	struct unitlabel *v; /* sorted by id */
	size_t n, cap;
};

/* Loads the labels valid on `today` (a closed unit keeps its last name). 0, or -1 on a
 * storage or allocation failure (*L is then released). */
int unitlabels_load(struct store *s, const char *today, struct unitlabels *L);
/* The label of unit_id, or NULL. */
const char *unitlabels_find(const struct unitlabels *L, const char *unit_id);
void unitlabels_release(struct unitlabels *L);

#endif
