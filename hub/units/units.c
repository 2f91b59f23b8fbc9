/*
 * units.c — scopes over the unit tree and the CSV loader for `init --units`.
 *
 * A scope is computed from the parent links valid today: breadth-first from the
 * agent's unit over links sorted by parent (binary search), repeated with the merge
 * events until nothing is added, so units merged into the subtree come along with
 * their own children. Owns only the arrays it returns.
 */
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "changes.h"
#include "hlc.h"
#include "ids.h"
#include "validate.h"

#define UNITS_TZ_OFFSET_MS (7LL * 3600 * 1000) /* Asia/Ho_Chi_Minh, no DST */
#define UNITS_CSV_LINE 2048                     /* longest CSV line accepted */
#define UNITS_DATE_FROM "2000-01-01"            /* names and links valid from */

void units_today(int64_t now_ms, char out[11])
{
	time_t t = (time_t)((now_ms + UNITS_TZ_OFFSET_MS) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

struct link { char unit[37], parent[37]; };
struct merge_ev { char unit[37], into[37]; };

struct gather {
	struct link *links;
	size_t nlinks, cap;
	struct merge_ev *merges;
	size_t nmerges, mcap;
};

static int gather_link(void *ctx, const char *unit, const char *parent)
{
	struct gather *g = ctx;
	if (g->nlinks == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		struct link *n = realloc(g->links, nc * sizeof *n);
		if (!n)
			return -1;
		g->links = n;
		g->cap = nc;
	}
	snprintf(g->links[g->nlinks].unit, 37, "%s", unit);
	snprintf(g->links[g->nlinks].parent, 37, "%s", parent);
	g->nlinks++;
	return 0;
}

static int gather_merge(void *ctx, const char *unit, const char *into, const char *on)
{
	struct gather *g = ctx;
	(void)on;
	if (g->nmerges == g->mcap) {
		size_t nc = g->mcap ? g->mcap * 2 : 16;
		struct merge_ev *n = realloc(g->merges, nc * sizeof *n);
		if (!n)
			return -1;
		g->merges = n;
		g->mcap = nc;
	}
	snprintf(g->merges[g->nmerges].unit, 37, "%s", unit);
	snprintf(g->merges[g->nmerges].into, 37, "%s", into);
	g->nmerges++;
	return 0;
}

static int by_parent(const void *a, const void *b)
{
	return strcmp(((const struct link *)a)->parent, ((const struct link *)b)->parent);
}

static int by_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int units_scope_contains(const struct units_scope *sc, const char *unit)
{
	return sc->n && bsearch(unit, sc->ids, sc->n, sizeof sc->ids[0], by_id) != NULL;
}

/* Linear membership while building (the set is not sorted yet). */
static int has(char (*ids)[37], size_t n, const char *u)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], u) == 0)
			return 1;
	return 0;
}

static int push(struct units_scope *sc, size_t *cap, const char *u)
{
	if (sc->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char (*n)[37] = realloc(sc->ids, nc * sizeof *n);
		if (!n)
			return -1;
		sc->ids = n;
		*cap = nc;
	}
	snprintf(sc->ids[sc->n++], 37, "%s", u);
	return 0;
}

int units_scope_compute(struct store *s, const char *unit, const char *today,
			struct units_scope *out)
{
	struct gather g = { 0 };
	struct units_scope sc = { 0 };
	size_t cap = 0;
	int rc = -1;
	if (s->unit_links(s, today, gather_link, &g) != 0 || s->unit_merges(s, gather_merge, &g) != 0)
		goto done;
	qsort(g.links, g.nlinks, sizeof *g.links, by_parent);
	if (push(&sc, &cap, unit) != 0)
		goto done;
	for (;;) {
		/* Breadth-first over children of everything in the set. */
		for (size_t i = 0; i < sc.n; i++) {
			struct link key;
			snprintf(key.parent, sizeof key.parent, "%s", sc.ids[i]);
			struct link *hit = bsearch(&key, g.links, g.nlinks, sizeof *g.links, by_parent);
			if (!hit)
				continue;
			while (hit > g.links && strcmp(hit[-1].parent, key.parent) == 0)
				hit--;
			for (; hit < g.links + g.nlinks && strcmp(hit->parent, key.parent) == 0; hit++)
				if (!has(sc.ids, sc.n, hit->unit) && push(&sc, &cap, hit->unit) != 0)
					goto done;
		}
		size_t before = sc.n;
		for (size_t m = 0; m < g.nmerges; m++)
			if (has(sc.ids, sc.n, g.merges[m].into) && !has(sc.ids, sc.n, g.merges[m].unit) &&
			    push(&sc, &cap, g.merges[m].unit) != 0)
				goto done;
		if (sc.n == before)
			break;
	}
	qsort(sc.ids, sc.n, sizeof sc.ids[0], by_id);
	*out = sc;
	sc.ids = NULL;
	rc = 0;
done:
	free(sc.ids);
	free(g.links);
	free(g.merges);
	return rc;
}

void units_scope_release(struct units_scope *sc)
{
	if (!sc)
		return;
	free(sc->ids);
	sc->ids = NULL;
	sc->n = 0;
}

char *units_scope_json(const struct units_scope *sc)
{
	char *out = malloc(sc->n * 39 + 3);
	if (!out)
		return NULL;
	size_t n = 0;
	out[n++] = '[';
	for (size_t i = 0; i < sc->n; i++) {
		if (i)
			out[n++] = ',';
		out[n++] = '"';
		memcpy(out + n, sc->ids[i], 36);
		n += 36;
		out[n++] = '"';
	}
	out[n++] = ']';
	out[n] = '\0';
	return out;
}

/* ---- CSV ---- */

size_t units_csv_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line, *w;
	while (n < max) {
		fields[n++] = w = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0')
					break;
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		int more = *p == ',';
		if (*p)
			p++;
		*w = '\0';
		if (!more)
			break;
	}
	return n;
}

struct loader {
	struct store *s;
	int64_t now_ms;
	char province[37];
	size_t created;
	char *err;
	size_t errlen;
};

static int hub_write(struct loader *L, const char *table, const char *id, const char *owner,
		     struct field *f, size_t nf)
{
	struct entry e = { 0 };
	e.table = table;
	e.id = id;
	e.op = ENTRY_INSERT;
	e.owner = owner;
	e.fields = f;
	e.nfields = nf;
	struct validate_status vs;
	int rc = changes_apply_hub(L->s, &e, L->now_ms, &vs);
	if (rc > 0)
		snprintf(L->err, L->errlen, "unit row refused: %s", vs.message);
	else if (rc < 0)
		snprintf(L->err, L->errlen, "cannot write unit rows: storage failure");
	return rc ? -1 : 0;
}

static struct value text_value(const char *s)
{
	struct value v = { .kind = s ? VALUE_TEXT : VALUE_NULL };
	if (s) {
		v.s = s;
		v.len = strlen(s);
	}
	return v;
}

/* Finds or creates the unit with `code`; writes its id. */
static int unit_for(struct loader *L, const char *name, const char *code, const char *kind,
		    const char *parent, char id[37])
{
	char today[11];
	units_today(L->now_ms, today);
	int rc = L->s->unit_by_code(L->s, code, today, id);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (ids_uuid7(L->now_ms, id) != 0) {
		snprintf(L->err, L->errlen, "random source failed");
		return -1;
	}
	const char *owner = L->province[0] ? L->province : id;
	char rid[IDS_UUID_TEXT];
	struct field uf[] = { { "opened_on", text_value(UNITS_DATE_FROM) } };
	if (hub_write(L, "unit", id, owner, uf, 1) != 0)
		return -1;
	struct field nf[] = {
		{ "of_unit", text_value(id) },    { "name", text_value(name) },
		{ "code", text_value(code) },     { "kind", text_value(kind) },
		{ "valid_from", text_value(UNITS_DATE_FROM) }, { "valid_to", text_value(NULL) },
	};
	if (ids_uuid7(L->now_ms, rid) != 0 || hub_write(L, "unit_name", rid, owner, nf, 6) != 0)
		return -1;
	if (parent) {
		struct field pf[] = {
			{ "of_unit", text_value(id) }, { "parent_id", text_value(parent) },
			{ "valid_from", text_value(UNITS_DATE_FROM) }, { "valid_to", text_value(NULL) },
		};
		if (ids_uuid7(L->now_ms, rid) != 0 || hub_write(L, "unit_parent", rid, owner, pf, 4) != 0)
			return -1;
	}
	L->created++;
	return 0;
}

int units_load_csv(struct store *s, const char *path, int64_t now_ms, size_t *created, char *err,
		   size_t errlen)
{
	struct loader L = { .s = s, .now_ms = now_ms, .err = err, .errlen = errlen };
	char line[UNITS_CSV_LINE];
	int rc = -1;
	size_t lineno = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s'", path);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "'%s' line %zu: line too long", path, lineno);
			goto done;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		char *fl[8];
		size_t n = units_csv_split(line, fl, 8);
		if (lineno == 1) {
			if (n != 7 || strcmp(fl[0], "province") != 0 || strcmp(fl[5], "commune_code") != 0) {
				snprintf(err, errlen,
					 "'%s': expected the header province,province_code,district,"
					 "district_code,commune,commune_code,commune_kind", path);
				goto done;
			}
			continue;
		}
		if (n != 7 || !fl[1][0] || !fl[3][0] || !fl[5][0]) {
			snprintf(err, errlen, "'%s' line %zu: expected 7 fields with codes", path, lineno);
			goto done;
		}
		char prov[37], dist[37], comm[37];
		if (unit_for(&L, fl[0], fl[1], "province", NULL, prov) != 0)
			goto fail_line;
		if (!L.province[0])
			snprintf(L.province, sizeof L.province, "%s", prov);
		if (unit_for(&L, fl[2], fl[3], "district", prov, dist) != 0 ||
		    unit_for(&L, fl[4], fl[5], "commune", dist, comm) != 0)
			goto fail_line;
		continue;
fail_line:
		{
			char why[200];
			snprintf(why, sizeof why, "%s", err);
			snprintf(err, errlen, "'%s' line %zu: %s", path, lineno, why);
		}
		goto done;
	}
	*created = L.created;
	rc = 0;
done:
	fclose(f);
	return rc;
}
