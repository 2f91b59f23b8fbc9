/*
 * unittree.c — the organisation tree as of any date (see unittree.h for the rules).
 *
 * Load reads the four unit tables once, through a figures source, into an array of
 * units sorted by id; every lookup is a binary search plus a walk over that unit's few
 * dated rows, so a report can roll thousands of units up without reading again.
 * Invariant: after load the tree is immutable; every string lives in the tree's arena
 * and is freed with it. Owns: the units, their dated rows and the arena.
 */
#include "unittree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_source.h"

/* Reform chains (a merged into b merged into c …) are short; a longer chain can only
 * be a cycle recorded by mistake, which must not hang a report. */
#define UNITTREE_MAX_DEPTH 64
/* Successors a rollup fans out to (a split into more parts is unheard of). */
#define UNITTREE_MAX_FANOUT 64

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

struct tname {
	const char *name, *code, *kind, *from, *to;
	const char *rid; /* the record's id: orders records that begin the same day */
};

struct tlink {
	const char *parent; /* the parent's id as written (may be unknown) */
	const char *from, *to;
	const char *rid;
};

struct tunit {
	const char *id;
	const char *opened_on;
	const char *closed_on; /* NULL: never closed */
	struct tname *names;
	size_t nnames, cap_names;
	struct tlink *links;
	size_t nlinks, cap_links;
	const char **succ; /* successor ids, recorded order */
	size_t nsucc, cap_succ;
	const char *primary; /* primary successor or NULL */
	const char *close_merge, *close_split; /* earliest dates by event kind */
	int lives_on; /* a split named the unit itself: the split does not close it */
};

struct unittree {
	struct tunit *units;
	size_t nunits, cap_units;
	struct arena_block *arena;
};

/* ---- arena ---- */

static const char *arena_strdup(struct unittree *t, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	struct arena_block *b = t->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = t->arena;
		t->arena = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

/* ---- dates ---- */

static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void unittree_day_before(const char *date, char out[11])
{
	int y, m, d;
	if (sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3) {
		snprintf(out, 11, "%s", date);
		return;
	}
	civil_from_days(days_from_civil(y, m, d) - 1, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

void unittree_date_of_day(long day, char out[11])
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

long unittree_day_number(const char *date)
{
	int y, m, d;
	char extra;
	if (!date || strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	return days_from_civil(y, m, d);
}

static int valid_on(const char *from, const char *to, const char *date)
{
	return from && strcmp(from, date) <= 0 && (!to || strcmp(to, date) >= 0);
}

/* ---- lookups ---- */

static int cmp_unit_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tunit *)elem)->id);
}

static struct tunit *find(const struct unittree *t, const char *id)
{
	if (!t || !id || t->nunits == 0) /* an empty tree has no array at all */
		return NULL;
	return bsearch(id, t->units, t->nunits, sizeof *t->units, cmp_unit_id);
}

static int is_closed_by(const struct tunit *u, const char *date)
{
	return u->closed_on && strcmp(u->closed_on, date) <= 0;
}

static const struct tname *name_at(const struct tunit *u, const char *date, int strict)
{
	const struct tname *best = NULL, *before = NULL;
	for (size_t i = 0; i < u->nnames; i++) {
		const struct tname *n = &u->names[i];
		if (valid_on(n->from, n->to, date)) {
			if (!best || strcmp(n->from, best->from) >= 0)
				best = n;
		} else if (strcmp(n->from, date) <= 0) {
			if (!before || strcmp(n->from, before->from) >= 0)
				before = n;
		}
	}
	if (best || strict)
		return best;
	if (before)
		return before;
	return u->nnames ? &u->names[0] : NULL; /* names are loaded in valid_from order */
}

/* The parent link for date: valid on date (later start wins); else the latest that
 * began on or before it; else the earliest. A unit with links is never orphaned by a
 * gap in its dates: its records must land somewhere. */
static const char *link_at(const struct tunit *u, const char *date)
{
	const struct tlink *best = NULL, *before = NULL;
	for (size_t i = 0; i < u->nlinks; i++) {
		const struct tlink *l = &u->links[i];
		if (valid_on(l->from, l->to, date)) {
			if (!best || strcmp(l->from, best->from) >= 0)
				best = l;
		} else if (strcmp(l->from, date) <= 0) {
			if (!before || strcmp(l->from, before->from) >= 0)
				before = l;
		}
	}
	if (!best)
		best = before;
	if (!best && u->nlinks)
		best = &u->links[0];
	return best ? best->parent : NULL;
}

/* Parent on date of a unit, as of its last open day when it closed by then. */
static struct tunit *parent_of_unit(const struct unittree *t, const struct tunit *u,
				    const char *date)
{
	char before[11];
	const char *d = date;
	if (is_closed_by(u, date)) {
		unittree_day_before(u->closed_on, before);
		d = before;
	}
	return find(t, link_at(u, d));
}

/* The unit that stands for u on date when u is a parent: u itself while open; its
 * primary successor (repeatedly) once closed; its own parent when closed without one. */
static struct tunit *stand_in(const struct unittree *t, struct tunit *u, const char *date)
{
	for (int depth = 0; u && depth < UNITTREE_MAX_DEPTH; depth++) {
		if (!is_closed_by(u, date))
			return u;
		struct tunit *next = u->primary ? find(t, u->primary) : NULL;
		if (!next)
			next = parent_of_unit(t, u, date);
		u = next;
	}
	return u;
}

/* The open units (as of date) a unit's records count under: successors for a closed
 * unit (all of them: a split fans out), its last parent when it has none. */
static size_t expand(const struct unittree *t, struct tunit *u, const char *date,
		     struct tunit **out, size_t max)
{
	struct tunit *stack[UNITTREE_MAX_FANOUT];
	int depth[UNITTREE_MAX_FANOUT];
	size_t nstack = 0, nout = 0;
	stack[nstack] = u;
	depth[nstack++] = 0;
	while (nstack > 0) {
		struct tunit *v = stack[--nstack];
		int dv = depth[nstack];
		if (!is_closed_by(v, date) || dv >= UNITTREE_MAX_DEPTH) {
			size_t k;
			for (k = 0; k < nout && out[k] != v; k++)
				;
			if (k == nout && nout < max)
				out[nout++] = v;
			continue;
		}
		if (v->nsucc == 0) {
			struct tunit *p = parent_of_unit(t, v, date);
			if (p && nstack < UNITTREE_MAX_FANOUT) {
				stack[nstack] = p;
				depth[nstack++] = dv + 1;
			}
			continue;
		}
		for (size_t i = v->nsucc; i-- > 0;) {
			struct tunit *s = find(t, v->succ[i]);
			if (s && nstack < UNITTREE_MAX_FANOUT) {
				stack[nstack] = s;
				depth[nstack++] = dv + 1;
			}
		}
	}
	return nout;
}

/* Climbs from an open unit to root; returns 1 with *row = the child of root on the
 * way (NULL when v is root), 0 when root is not above v. */
static int climb(const struct unittree *t, const struct tunit *root, struct tunit *v,
		 const char *date, const struct tunit **row)
{
	const struct tunit *prev = NULL;
	for (int depth = 0; v && depth < UNITTREE_MAX_DEPTH; depth++) {
		if (v == root) {
			*row = prev;
			return 1;
		}
		prev = v;
		v = stand_in(t, find(t, link_at(v, date)), date);
	}
	return 0;
}

/* ---- public lookups ---- */

size_t unittree_count(const struct unittree *t)
{
	return t ? t->nunits : 0;
}

const char *unittree_id(const struct unittree *t, size_t i)
{
	return t && i < t->nunits ? t->units[i].id : NULL;
}

long unittree_index(const struct unittree *t, const char *unit_id)
{
	const struct tunit *u = find(t, unit_id);
	return u ? (long)(u - t->units) : -1;
}

const char *unittree_intern(const struct unittree *t, const char *unit_id)
{
	const struct tunit *u = find(t, unit_id);
	return u ? u->id : NULL;
}

int unittree_is_open(const struct unittree *t, const char *unit_id, const char *date)
{
	const struct tunit *u = find(t, unit_id);
	if (!u || !date)
		return 0;
	return strcmp(u->opened_on, date) <= 0 && !is_closed_by(u, date);
}

const char *unittree_opened_on(const struct unittree *t, const char *unit_id)
{
	const struct tunit *u = find(t, unit_id);
	return u ? u->opened_on : NULL;
}

const char *unittree_closed_on(const struct unittree *t, const char *unit_id)
{
	const struct tunit *u = find(t, unit_id);
	return u ? u->closed_on : NULL;
}

int unittree_name_of(const struct unittree *t, const char *unit_id, const char *date,
		     struct unittree_name *out)
{
	const struct tunit *u = find(t, unit_id);
	if (!u || !date)
		return 1;
	const struct tname *n = name_at(u, date, 0);
	if (!n)
		return 1;
	out->name = n->name;
	out->code = n->code;
	out->kind = n->kind;
	out->valid_from = n->from;
	out->valid_to = n->to;
	return 0;
}

const char *unittree_parent_of(const struct unittree *t, const char *unit_id,
			       const char *date)
{
	const struct tunit *u = find(t, unit_id);
	if (!u || !date)
		return NULL;
	const struct tunit *p = find(t, link_at(u, date));
	return p ? p->id : NULL;
}

const char *unittree_effective_parent(const struct unittree *t, const char *unit_id,
				      const char *date)
{
	const struct tunit *u = find(t, unit_id);
	if (!u || !date)
		return NULL;
	const struct tunit *p = stand_in(t, find(t, link_at(u, date)), date);
	return p ? p->id : NULL;
}

struct child_sort {
	const char *id, *code, *name;
};

static int cmp_child(const void *a, const void *b)
{
	const struct child_sort *x = a, *y = b;
	int c;
	if (x->code && y->code && (c = strcmp(x->code, y->code)) != 0)
		return c;
	if (!x->code != !y->code)
		return x->code ? -1 : 1;
	if (x->name && y->name && (c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

int unittree_children(const struct unittree *t, const char *unit_id, const char *date,
		      const char ***out, size_t *n)
{
	const struct tunit *root = find(t, unit_id);
	struct child_sort *tmp = NULL;
	const char **ids = NULL;
	size_t k = 0;
	int rc = -1;
	tmp = calloc(t && t->nunits ? t->nunits : 1, sizeof *tmp);
	if (!tmp)
		goto done;
	for (size_t i = 0; root && date && i < t->nunits; i++) {
		struct tunit *u = &t->units[i];
		if (u == root || !unittree_is_open(t, u->id, date))
			continue;
		if (stand_in(t, find(t, link_at(u, date)), date) != root)
			continue;
		const struct tname *nm = name_at(u, date, 0);
		tmp[k].id = u->id;
		tmp[k].code = nm ? nm->code : NULL;
		tmp[k].name = nm ? nm->name : NULL;
		k++;
	}
	if (k > 1)
		qsort(tmp, k, sizeof *tmp, cmp_child);
	ids = malloc((k ? k : 1) * sizeof *ids);
	if (!ids)
		goto done;
	for (size_t i = 0; i < k; i++)
		ids[i] = tmp[i].id;
	*out = ids;
	*n = k;
	ids = NULL;
	rc = 0;
done:
	free(ids);
	free(tmp);
	return rc;
}

/* The last day of [from, to] on which unit u held name record n: the record's days,
 * clipped to the range and to the unit's life (open from opened_on, closed from
 * closed_on). Writes it to last and returns 1, or returns 0 when there is none. */
static int held_until(const struct tunit *u, const struct tname *n, const char *from,
		      const char *to, char last[11])
{
	const char *start = n->from;
	char end[11];
	snprintf(end, sizeof end, "%s", n->to && strcmp(n->to, to) < 0 ? n->to : to);
	if (strcmp(u->opened_on, start) > 0)
		start = u->opened_on;
	if (strcmp(from, start) > 0)
		start = from;
	if (u->closed_on && strcmp(u->closed_on, end) <= 0)
		unittree_day_before(u->closed_on, end);
	if (strcmp(start, end) > 0)
		return 0;
	memcpy(last, end, sizeof end);
	return 1;
}

const char *unittree_find_code(const struct unittree *t, const char *code, const char *from,
			       const char *to)
{
	const struct tunit *best = NULL;
	const struct tname *best_name = NULL;
	char best_last[11] = "";
	if (!t || !code || !from || !to)
		return NULL;
	for (size_t i = 0; i < t->nunits; i++) {
		const struct tunit *u = &t->units[i];
		for (size_t k = 0; k < u->nnames; k++) {
			const struct tname *n = &u->names[k];
			char last[11];
			if (!n->code || strcmp(n->code, code) != 0 || !held_until(u, n, from, to, last))
				continue;
			int c = strcmp(last, best_last);
			if (!best || c > 0 || (c == 0 && strcmp(n->from, best_name->from) > 0)) {
				best = u;
				best_name = n;
				memcpy(best_last, last, sizeof last);
			}
		}
	}
	return best ? best->id : NULL;
}

const char *unittree_successor(const struct unittree *t, const char *unit_id)
{
	const struct tunit *u = find(t, unit_id);
	return u ? u->primary : NULL;
}

size_t unittree_successors(const struct unittree *t, const char *unit_id,
			   const char *const **out)
{
	const struct tunit *u = find(t, unit_id);
	if (!u || u->nsucc == 0)
		return 0;
	*out = u->succ;
	return u->nsucc;
}

int unittree_rollup(const struct unittree *t, const char *root, const char *unit_id,
		    const char *date, const char **rows, size_t max_rows, size_t *nrows)
{
	struct tunit *u = find(t, unit_id);
	const struct tunit *r = find(t, root);
	struct tunit *finals[UNITTREE_MAX_FANOUT];
	size_t nfinal, n = 0;
	int in = 0;
	*nrows = 0;
	if (!u || !r || !date)
		return 0;
	nfinal = expand(t, u, date, finals, UNITTREE_MAX_FANOUT);
	for (size_t i = 0; i < nfinal; i++) {
		const struct tunit *row = NULL;
		if (!climb(t, r, finals[i], date, &row))
			continue;
		in = 1;
		if (!row)
			continue;
		size_t k;
		for (k = 0; k < n && k < max_rows && rows[k] != row->id; k++)
			;
		if (k < n && k < max_rows)
			continue; /* already listed */
		if (n < max_rows)
			rows[n] = row->id;
		n++;
	}
	*nrows = n;
	return in;
}

int unittree_in_subtree(const struct unittree *t, const char *root, const char *unit_id,
			const char *date)
{
	size_t n;
	return unittree_rollup(t, root, unit_id, date, NULL, 0, &n);
}

int unittree_descendants_as_of(const struct unittree *t, const char *root, const char *date,
			       const char ***out, size_t *n)
{
	const char **ids = malloc((t && t->nunits ? t->nunits : 1) * sizeof *ids);
	size_t k = 0;
	if (!ids)
		return -1;
	for (size_t i = 0; t && root && i < t->nunits; i++)
		if (strcmp(t->units[i].id, root) != 0 &&
		    unittree_in_subtree(t, root, t->units[i].id, date))
			ids[k++] = t->units[i].id;
	*out = ids;
	*n = k;
	return 0;
}

const char *unittree_root(const struct unittree *t, const char *date)
{
	const char *best = NULL;
	for (size_t i = 0; t && date && i < t->nunits; i++) {
		const struct tunit *u = &t->units[i];
		if (!unittree_is_open(t, u->id, date) || link_at(u, date))
			continue;
		const struct tname *nm = name_at(u, date, 0);
		if (nm && strcmp(nm->kind, "province") == 0)
			return u->id;
		if (!best)
			best = u->id;
	}
	return best;
}

/* ---- loading ---- */

static void tree_free_units(struct unittree *t)
{
	for (size_t i = 0; i < t->nunits; i++) {
		free(t->units[i].names);
		free(t->units[i].links);
		free(t->units[i].succ);
	}
	free(t->units);
}

void unittree_free(struct unittree *t)
{
	if (!t)
		return;
	tree_free_units(t);
	while (t->arena) {
		struct arena_block *b = t->arena;
		t->arena = b->next;
		free(b);
	}
	free(t);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * size);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}


/* Reform events are applied in date order once all are read (struct tevent), and the
 * dated rows of a unit are sorted by start, then record id: the order the rules above
 * assume, whatever order the source gave them in. */
struct tevent {
	const char *kind, *unit, *other, *on, *rid;
};

struct loader {
	struct unittree *t;
	struct tevent *events;
	size_t nevents, cap_events;
};

/* Copies an optional string into the arena: 0, or -1 when out of memory. */
static int dup_opt(struct unittree *t, const char *s, const char **out)
{
	*out = arena_strdup(t, s);
	return s && !*out ? -1 : 0;
}

static int strcmp_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

static int row_unit(void *arg, const struct figures_unit_row *r)
{
	struct unittree *t = ((struct loader *)arg)->t;
	if (!r->id)
		return 0;
	if (grow((void **)&t->units, &t->cap_units, t->nunits + 1, sizeof *t->units) != 0)
		return -1;
	struct tunit *u = &t->units[t->nunits];
	memset(u, 0, sizeof *u);
	u->id = arena_strdup(t, r->id);
	u->opened_on = arena_strdup(t, r->opened_on ? r->opened_on : "0000-01-01");
	if (!u->id || !u->opened_on)
		return -1;
	t->nunits++;
	return 0;
}

static int cmp_unit(const void *a, const void *b)
{
	return strcmp(((const struct tunit *)a)->id, ((const struct tunit *)b)->id);
}

static int row_name(void *arg, const struct figures_name_row *r)
{
	struct unittree *t = ((struct loader *)arg)->t;
	struct tunit *u = find(t, r->unit);
	if (!u || !r->valid_from)
		return 0;
	if (grow((void **)&u->names, &u->cap_names, u->nnames + 1, sizeof *u->names) != 0)
		return -1;
	struct tname *n = &u->names[u->nnames];
	if (dup_opt(t, r->name ? r->name : "", &n->name) != 0 || dup_opt(t, r->code, &n->code) != 0 ||
	    dup_opt(t, r->kind ? r->kind : "", &n->kind) != 0 ||
	    dup_opt(t, r->valid_from, &n->from) != 0 || dup_opt(t, r->valid_to, &n->to) != 0 ||
	    dup_opt(t, r->row_id, &n->rid) != 0)
		return -1;
	u->nnames++;
	return 0;
}

static int row_link(void *arg, const struct figures_link_row *r)
{
	struct unittree *t = ((struct loader *)arg)->t;
	struct tunit *u = find(t, r->unit);
	if (!u || !r->parent || !r->valid_from)
		return 0;
	if (grow((void **)&u->links, &u->cap_links, u->nlinks + 1, sizeof *u->links) != 0)
		return -1;
	struct tlink *l = &u->links[u->nlinks];
	if (dup_opt(t, r->parent, &l->parent) != 0 || dup_opt(t, r->valid_from, &l->from) != 0 ||
	    dup_opt(t, r->valid_to, &l->to) != 0 || dup_opt(t, r->row_id, &l->rid) != 0)
		return -1;
	u->nlinks++;
	return 0;
}

/* Collects the events that can close a unit (merge, close, split); the others are
 * informational (unittree.h). */
static int row_event(void *arg, const struct figures_event_row *r)
{
	struct loader *ld = arg;
	struct unittree *t = ld->t;
	if (!r->kind || !r->effective_on ||
	    (strcmp(r->kind, "merge") != 0 && strcmp(r->kind, "close") != 0 &&
	     strcmp(r->kind, "split") != 0))
		return 0;
	if (grow((void **)&ld->events, &ld->cap_events, ld->nevents + 1, sizeof *ld->events) != 0)
		return -1;
	struct tevent *e = &ld->events[ld->nevents];
	if (dup_opt(t, r->kind, &e->kind) != 0 || dup_opt(t, r->unit, &e->unit) != 0 ||
	    dup_opt(t, r->other, &e->other) != 0 || dup_opt(t, r->effective_on, &e->on) != 0 ||
	    dup_opt(t, r->row_id, &e->rid) != 0)
		return -1;
	ld->nevents++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct tname *x = a, *y = b;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp_null(x->rid, y->rid);
}

static int cmp_link(const void *a, const void *b)
{
	const struct tlink *x = a, *y = b;
	int c = strcmp(x->from, y->from);
	return c ? c : strcmp_null(x->rid, y->rid);
}

static int cmp_event(const void *a, const void *b)
{
	const struct tevent *x = a, *y = b;
	int c = strcmp(x->on, y->on);
	return c ? c : strcmp_null(x->rid, y->rid);
}

static void earliest(const char **slot, const char *date)
{
	if (!*slot || strcmp(date, *slot) < 0)
		*slot = date;
}

/* Applies one event (in date order): closing dates and successors. */
static int apply_event(struct unittree *t, const struct tevent *e)
{
	struct tunit *u = find(t, e->unit);
	const struct tunit *other = find(t, e->other);
	if (!u)
		return 0;
	if (strcmp(e->kind, "split") == 0 && other == u) {
		u->lives_on = 1;
		return 0;
	}
	if (strcmp(e->kind, "split") == 0)
		earliest(&u->close_split, e->on);
	else
		earliest(&u->close_merge, e->on);
	if (!other || other == u)
		return 0;
	for (size_t i = 0; i < u->nsucc; i++)
		if (u->succ[i] == other->id)
			return 0;
	if (grow((void **)&u->succ, &u->cap_succ, u->nsucc + 1, sizeof *u->succ) != 0)
		return -1;
	u->succ[u->nsucc++] = other->id;
	return 0;
}

/* Closing dates and primary successors, once every event is applied. */
static void settle(struct unittree *t)
{
	for (size_t i = 0; i < t->nunits; i++) {
		struct tunit *u = &t->units[i];
		u->closed_on = u->close_merge;
		if (u->close_split && !u->lives_on)
			earliest(&u->closed_on, u->close_split);
		if (u->nsucc == 0)
			continue;
		u->primary = u->succ[0];
		if (!u->closed_on || u->nsucc == 1)
			continue;
		char before[11];
		unittree_day_before(u->closed_on, before);
		const struct tname *mine = name_at(u, before, 0);
		for (size_t k = 0; mine && mine->code && k < u->nsucc; k++) {
			const struct tname *theirs = name_at(find(t, u->succ[k]), u->closed_on, 0);
			if (theirs && theirs->code && strcmp(theirs->code, mine->code) == 0) {
				u->primary = u->succ[k];
				break;
			}
		}
	}
}

/* The source's failure as the tree's reason: "cannot read units: <why>". */
static int load_failed(int code, const struct figures_error *fe, char *err, size_t errlen)
{
	if (code == FIGURES_STOPPED) /* only a callback stops a read here: out of memory */
		snprintf(err, errlen, "cannot read units: out of memory");
	else
		snprintf(err, errlen, "cannot read units: %s", fe->message);
	return -1;
}

int unittree_load(struct figures_source *src, struct unittree **out, char *err, size_t errlen)
{
	struct loader ld = { 0 };
	struct figures_error fe = { 0 };
	int rc = -1, s;
	if (figures_source_check(src, &fe) != FIGURES_OK) {
		snprintf(err, errlen, "cannot read units: %s", fe.message);
		return -1;
	}
	ld.t = calloc(1, sizeof *ld.t);
	if (!ld.t) {
		snprintf(err, errlen, "cannot read units: out of memory");
		goto done;
	}
	if ((s = src->units(src, row_unit, &ld, &fe)) != FIGURES_OK) {
		load_failed(s, &fe, err, errlen);
		goto done;
	}
	if (ld.t->nunits > 1)
		qsort(ld.t->units, ld.t->nunits, sizeof *ld.t->units, cmp_unit);
	/* a unit listed twice (no back end should) is kept once, so lookups stay exact */
	size_t k = 0;
	for (size_t i = 0; i < ld.t->nunits; i++)
		if (k == 0 || strcmp(ld.t->units[k - 1].id, ld.t->units[i].id) != 0)
			ld.t->units[k++] = ld.t->units[i];
	ld.t->nunits = k;
	if ((s = src->unit_names(src, row_name, &ld, &fe)) != FIGURES_OK ||
	    (s = src->unit_links(src, row_link, &ld, &fe)) != FIGURES_OK ||
	    (s = src->unit_events(src, row_event, &ld, &fe)) != FIGURES_OK) {
		load_failed(s, &fe, err, errlen);
		goto done;
	}
	for (size_t i = 0; i < ld.t->nunits; i++) {
		struct tunit *u = &ld.t->units[i];
		if (u->nnames > 1)
			qsort(u->names, u->nnames, sizeof *u->names, cmp_name);
		if (u->nlinks > 1)
			qsort(u->links, u->nlinks, sizeof *u->links, cmp_link);
	}
	if (ld.nevents > 1)
		qsort(ld.events, ld.nevents, sizeof *ld.events, cmp_event);
	for (size_t i = 0; i < ld.nevents; i++)
		if (apply_event(ld.t, &ld.events[i]) != 0) {
			snprintf(err, errlen, "cannot read units: out of memory");
			goto done;
		}
	settle(ld.t);
	*out = ld.t;
	ld.t = NULL;
	rc = 0;
done:
	free(ld.events);
	unittree_free(ld.t);
	return rc;
}
