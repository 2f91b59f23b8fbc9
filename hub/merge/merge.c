/*
 * merge.c — last-writer-wins merge of one row (see merge.h for the rules).
 *
 * Invariant: every operation is a per-column or per-row maximum under hlc_order, so
 * merging the same set of entries in any order yields the same state. Owns nothing
 * beyond the strings inside each merge_row.
 */
#include "merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"

static void cell_clear(struct merge_cell *c)
{
	if (c->v.kind == VALUE_TEXT)
		free((char *)c->v.s);
	memset(&c->v, 0, sizeof c->v);
	c->v.kind = VALUE_NULL;
}

static void copy_writer(char dst[MERGE_WRITER_MAX], const char *src)
{
	snprintf(dst, MERGE_WRITER_MAX, "%s", src ? src : "");
}

int merge_row_init(struct merge_row *r, const struct schema_table *t, const char *id,
		   const char *owner)
{
	memset(r, 0, sizeof *r);
	r->t = t;
	snprintf(r->id, sizeof r->id, "%s", id ? id : "");
	snprintf(r->owner, sizeof r->owner, "%s", owner ? owner : "");
	r->cells = calloc(t->ncolumns, sizeof *r->cells);
	if (!r->cells)
		return -1;
	for (size_t i = 0; i < t->ncolumns; i++)
		r->cells[i].v.kind = VALUE_NULL;
	return 0;
}

void merge_row_release(struct merge_row *r)
{
	if (!r || !r->cells)
		return;
	for (size_t i = 0; i < r->t->ncolumns; i++)
		cell_clear(&r->cells[i]);
	free(r->cells);
	r->cells = NULL;
}

static int value_copy(struct value *dst, const struct value *src)
{
	*dst = *src;
	if (src->kind == VALUE_TEXT) {
		char *s = malloc(src->len + 1);
		if (!s)
			return -1;
		memcpy(s, src->s, src->len);
		s[src->len] = '\0';
		dst->s = s;
	} else {
		dst->s = NULL;
		dst->len = 0;
	}
	return 0;
}

int merge_cell_set(struct merge_row *r, size_t col, const struct value *v, uint64_t clock,
		   const char *writer)
{
	struct value nv;
	struct value null = { .kind = VALUE_NULL };
	if (value_copy(&nv, v ? v : &null) != 0)
		return -1;
	cell_clear(&r->cells[col]);
	r->cells[col].v = nv;
	r->cells[col].clock = clock;
	copy_writer(r->cells[col].writer, writer);
	return 0;
}

int merge_row_inserted(const struct merge_row *r)
{
	return r->ins_writer[0] != '\0';
}

int merge_row_exists(const struct merge_row *r)
{
	if (!merge_row_inserted(r))
		return 0;
	if (r->del_writer[0] == '\0')
		return 1;
	return hlc_order(r->ins_clock, r->ins_writer, r->del_clock, r->del_writer) > 0;
}

/* Sets column col to v when (clock, writer) wins over what it holds. */
static int merge_cell(struct merge_row *r, size_t col, const struct value *v, uint64_t clock,
		      const char *writer, int *changed)
{
	struct merge_cell *c = &r->cells[col];
	if (c->writer[0] != '\0' && hlc_order(clock, writer, c->clock, c->writer) <= 0)
		return 0;
	if (merge_cell_set(r, col, v, clock, writer) != 0)
		return -1;
	*changed = 1;
	return 0;
}

static const struct value *field_of(const struct entry *e, const char *name)
{
	for (size_t i = 0; i < e->nfields; i++)
		if (strcmp(e->fields[i].name, name) == 0)
			return &e->fields[i].v;
	return NULL;
}

int merge_apply(struct merge_row *r, const struct entry *e, const char *writer, int *changed)
{
	static const struct value null = { .kind = VALUE_NULL };
	*changed = 0;
	if (e->skipped)
		return 0;
	switch (e->op) {
	case ENTRY_INSERT:
		/* An insert sets every declared column, NULLs included. */
		for (size_t i = 2; i < r->t->ncolumns; i++) {
			const struct value *v = field_of(e, r->t->columns[i].name);
			if (merge_cell(r, i, v ? v : &null, e->clock, writer, changed) != 0)
				return -1;
		}
		if (!merge_row_inserted(r) ||
		    hlc_order(e->clock, writer, r->ins_clock, r->ins_writer) > 0) {
			r->ins_clock = e->clock;
			copy_writer(r->ins_writer, writer);
			*changed = 1;
		}
		/* A row first seen through an update took the update's owner; the insert
		 * is the authority on it. */
		if (strcmp(r->owner, e->owner ? e->owner : "") != 0) {
			snprintf(r->owner, sizeof r->owner, "%s", e->owner ? e->owner : "");
			*changed = 1;
		}
		return 0;
	case ENTRY_UPDATE:
		for (size_t k = 0; k < e->nfields; k++) {
			for (size_t i = 2; i < r->t->ncolumns; i++) {
				if (strcmp(r->t->columns[i].name, e->fields[k].name) != 0)
					continue;
				if (merge_cell(r, i, &e->fields[k].v, e->clock, writer, changed) != 0)
					return -1;
				break;
			}
		}
		return 0;
	case ENTRY_DELETE:
		if (r->del_writer[0] == '\0' ||
		    hlc_order(e->clock, writer, r->del_clock, r->del_writer) > 0) {
			r->del_clock = e->clock;
			copy_writer(r->del_writer, writer);
			*changed = 1;
		}
		return 0;
	default:
		return 0;
	}
}

void merge_row_clock(const struct merge_row *r, uint64_t *clock, char writer[MERGE_WRITER_MAX])
{
	uint64_t best = 0;
	const char *bw = "";
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const struct merge_cell *c = &r->cells[i];
		if (c->writer[0] == '\0')
			continue;
		if (bw[0] == '\0' || hlc_order(c->clock, c->writer, best, bw) > 0) {
			best = c->clock;
			bw = c->writer;
		}
	}
	*clock = best;
	copy_writer(writer, bw);
}

char *merge_fc_encode(const struct merge_row *r)
{
	uint64_t rc;
	char rw[MERGE_WRITER_MAX];
	merge_row_clock(r, &rc, rw);
	size_t cap = 3;
	for (size_t i = 2; i < r->t->ncolumns; i++)
		cap += strlen(r->t->columns[i].name) + MERGE_WRITER_MAX + 32;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t n = 0;
	out[n++] = '{';
	int first = 1;
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		const struct merge_cell *c = &r->cells[i];
		if (c->clock == rc && strcmp(c->writer, rw) == 0)
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s\"%s\":[%" PRIu64 ",\"%s\"]",
				      first ? "" : ",", r->t->columns[i].name, c->clock, c->writer);
		first = 0;
	}
	out[n++] = '}';
	out[n] = '\0';
	return out;
}

/* Parses `"name":[clock,"writer"]` items; strict about the format merge_fc_encode
 * writes, since only the hub writes these texts. */
int merge_fc_decode(struct merge_row *r, uint64_t row_clock, const char *row_writer,
		    const char *fc)
{
	for (size_t i = 2; i < r->t->ncolumns; i++) {
		r->cells[i].clock = row_clock;
		copy_writer(r->cells[i].writer, row_writer);
	}
	const char *p = fc ? fc : "{}";
	if (*p++ != '{')
		return -1;
	while (*p && *p != '}') {
		if (*p == ',')
			p++;
		if (*p++ != '"')
			return -1;
		const char *name = p;
		const char *q = strchr(p, '"');
		if (!q)
			return -1;
		size_t nlen = (size_t)(q - name);
		p = q + 1;
		if (strncmp(p, ":[", 2) != 0)
			return -1;
		p += 2;
		char *end;
		unsigned long long clock = strtoull(p, &end, 10);
		if (end == p || strncmp(end, ",\"", 2) != 0)
			return -1;
		p = end + 2;
		const char *w = p;
		q = strchr(p, '"');
		if (!q || (size_t)(q - w) >= MERGE_WRITER_MAX)
			return -1;
		p = q + 1;
		if (*p++ != ']')
			return -1;
		size_t col = 0;
		for (size_t i = 2; i < r->t->ncolumns && !col; i++)
			if (strlen(r->t->columns[i].name) == nlen &&
			    memcmp(r->t->columns[i].name, name, nlen) == 0)
				col = i;
		if (!col)
			return -1;
		r->cells[col].clock = (uint64_t)clock;
		memcpy(r->cells[col].writer, w, (size_t)(q - w));
		r->cells[col].writer[q - w] = '\0';
	}
	return *p == '}' ? 0 : -1;
}
