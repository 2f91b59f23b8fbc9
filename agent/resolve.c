/*
 * resolve.c — links by name or code, choices by label (see resolve.h).
 *
 * Names are compared by search key in SQL through lk_fold (store.c registers it on
 * every connection): `lk_fold(full_name) = ?` with the key of what was typed. That is
 * a scan of the table — a commune keeps hundreds of people, thousands at most — and
 * it is only run for a text that is not an id. The statements come from the store's
 * cache (store_stmt_take/give), so an import naming a person on every line prepares
 * them once.
 */
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "textnorm.h"

/* Rows read to find a "did you mean" name: a commune's people and the province's
 * units fit many times over; beyond it no suggestion is made rather than a slow one. */
#define RESOLVE_SUGGEST_ROWS 100000

static const char SQL_PERSON_BY_NAME[] =
	"SELECT id, full_name, birth_year FROM person WHERE lk_fold(full_name) = ?1"
	" AND (?2 IS NULL OR birth_year = ?2) ORDER BY full_name, birth_year, id";
static const char SQL_PERSON_BY_ID[] = "SELECT id, full_name, birth_year FROM person WHERE id = ?1";
static const char SQL_PERSON_SEARCH[] =
	"SELECT id, full_name, birth_year FROM person WHERE instr(lk_fold(full_name), ?1) > 0"
	" ORDER BY lk_fold(full_name), birth_year, id LIMIT ?2";
static const char SQL_PERSON_NAMES[] = "SELECT id, full_name, birth_year FROM person LIMIT ?1";
static const char SQL_UNIT_BY_NAME[] =
	"SELECT DISTINCT of_unit FROM unit_name WHERE lk_fold(name) = ?1"
	" OR (code IS NOT NULL AND code <> '' AND lower(code) = lower(?2)) ORDER BY of_unit";
static const char SQL_UNIT_NAME[] =
	"SELECT name, code FROM unit_name WHERE of_unit = ?1"
	" ORDER BY valid_to IS NULL DESC, valid_from DESC, rowid DESC LIMIT 1";
static const char SQL_UNIT_PARENT[] =
	"SELECT parent_id FROM unit_parent WHERE of_unit = ?1"
	" ORDER BY valid_to IS NULL DESC, valid_from DESC, rowid DESC LIMIT 1";
static const char SQL_UNIT_SEARCH[] =
	"SELECT of_unit FROM unit_name WHERE instr(lk_fold(name), ?1) > 0"
	" OR (code IS NOT NULL AND lower(code) = lower(?3))"
	" GROUP BY of_unit ORDER BY lk_fold(min(name)), of_unit LIMIT ?2";
static const char SQL_UNIT_NAMES[] = "SELECT of_unit, name FROM unit_name LIMIT ?1";
static const char SQL_UNIT_OWNER[] = "SELECT unit_id FROM unit WHERE id = ?1";

int resolve_by_name(const char *ref_table)
{
	return ref_table && (strcmp(ref_table, "person") == 0 || strcmp(ref_table, "unit") == 0);
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* Fills m from a person row (id, full_name, birth_year). */
static void person_match(sqlite3_stmt *st, struct resolve_match *m)
{
	memset(m, 0, sizeof *m);
	copy_text(m->id, sizeof m->id, sqlite3_column_text(st, 0));
	const char *name = (const char *)sqlite3_column_text(st, 1);
	m->birth_year = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 2);
	if (m->birth_year)
		snprintf(m->label, sizeof m->label, "%s (%d)", name ? name : "", m->birth_year);
	else
		copy_text(m->label, sizeof m->label, (const unsigned char *)name);
}

/* A unit's current name and code. 1 found, 0 not, -1 SQLite. */
static int unit_name(struct store *s, const char *id, char label[RESOLVE_LABEL_MAX], char *code, size_t code_cap)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	label[0] = '\0';
	if (code)
		code[0] = '\0';
	if (store_stmt_take(s, SQL_UNIT_NAME, &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(label, RESOLVE_LABEL_MAX, sqlite3_column_text(st, 0));
		if (code)
			copy_text(code, code_cap, sqlite3_column_text(st, 1));
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	store_stmt_give(s, st);
	return ret;
}

/* Fills m for unit id: current name, code, current parent's name. 0 or -1. */
static int unit_match(struct store *s, const char *id, struct resolve_match *m)
{
	sqlite3_stmt *st = NULL;
	char parent[IDS_UUID_TEXT] = "";
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	if (unit_name(s, id, m->label, m->code, sizeof m->code) < 0)
		return -1;
	if (store_stmt_take(s, SQL_UNIT_PARENT, &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(parent, sizeof parent, sqlite3_column_text(st, 0));
	store_stmt_give(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (parent[0] && unit_name(s, parent, m->parent, NULL, 0) < 0)
		return -1;
	return 0;
}

/* Splits "Name (1998)" into the name's length and the year; *year = 0 without one. */
static size_t split_birth_year(const char *text, int *year)
{
	size_t n = strlen(text);
	*year = 0;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n < 7 || text[n - 1] != ')' || text[n - 6] != '(')
		return n;
	int y = 0;
	for (size_t i = n - 5; i < n - 1; i++) {
		if (text[i] < '0' || text[i] > '9')
			return n;
		y = y * 10 + (text[i] - '0');
	}
	*year = y;
	n -= 6;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	return n;
}

/* The nearest name of the table to text (any row), for "did you mean". 0 or -1. */
static int suggest_row(struct store *s, int person, const char *typed, struct resolve_result *r)
{
	sqlite3_stmt *st = NULL;
	char **names = NULL, **ids = NULL;
	size_t n = 0, cap = 0;
	int ret = -1, rc;
	if (store_stmt_take(s, person ? SQL_PERSON_NAMES : SQL_UNIT_NAMES, &st) != 0)
		return -1;
	sqlite3_bind_int(st, 1, RESOLVE_SUGGEST_ROWS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(names, ncap * sizeof *nn);
			if (nn)
				names = nn;
			char **ni = nn ? realloc(ids, ncap * sizeof *ni) : NULL;
			if (!ni)
				goto done;
			ids = ni;
			cap = ncap;
		}
		const char *name = (const char *)sqlite3_column_text(st, 1);
		names[n] = strdup(name ? name : "");
		ids[n] = strdup((const char *)sqlite3_column_text(st, 0));
		if (!names[n] || !ids[n]) {
			free(names[n]);
			free(ids[n]);
			goto done;
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		goto done;
	long k = suggest_nearest(typed, (const char *const *)names, n);
	if (k >= 0) {
		if (person) {
			sqlite3_stmt *one = NULL;
			if (store_stmt_take(s, SQL_PERSON_BY_ID, &one) != 0)
				goto done;
			sqlite3_bind_text(one, 1, ids[k], -1, SQLITE_STATIC);
			if (sqlite3_step(one) == SQLITE_ROW) {
				person_match(one, &r->suggestion);
				r->has_suggestion = 1;
			}
			store_stmt_give(s, one);
		} else {
			if (unit_match(s, ids[k], &r->suggestion) != 0)
				goto done;
			r->has_suggestion = 1;
		}
	}
	ret = 0;
done:
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(ids[i]);
	}
	free(names);
	free(ids);
	store_stmt_give(s, st);
	return ret;
}

static enum resolve_code resolve_person(struct store *s, const char *text, struct resolve_result *r)
{
	sqlite3_stmt *st = NULL;
	char *key = NULL;
	size_t nkey = 0;
	int year;
	size_t nname = split_birth_year(text, &year);
	enum resolve_code ret = RESOLVE_FAILED;
	if (textnorm_fold(text, nname, &key, &nkey) != TEXTNORM_OK)
		return RESOLVE_NONE; /* not UTF-8: no name matches it */
	if (nkey == 0) {
		free(key);
		return RESOLVE_NONE;
	}
	if (store_stmt_take(s, SQL_PERSON_BY_NAME, &st) != 0)
		goto done;
	sqlite3_bind_text(st, 1, key, (int)nkey, SQLITE_STATIC);
	if (year)
		sqlite3_bind_int(st, 2, year);
	else
		sqlite3_bind_null(st, 2);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->nmatch < RESOLVE_MAX_MATCHES)
			person_match(st, &r->match[r->nmatch++]);
		r->total++;
	}
	if (rc != SQLITE_DONE)
		goto done;
	ret = r->total == 1 ? RESOLVE_OK : r->total ? RESOLVE_AMBIGUOUS : RESOLVE_NONE;
done:
	store_stmt_give(s, st);
	free(key);
	return ret;
}

/* 1 when unit id is this office's: in its subtree, or a unit row it (or a unit below
 * it) created — a branch being set up has no parent link yet. 0 not, -1 SQLite. */
static int unit_ours(struct store *s, const char *id)
{
	int sc = store_in_scope(s, id);
	if (sc != 0)
		return sc;
	sqlite3_stmt *st = NULL;
	char owner[IDS_UUID_TEXT] = "";
	if (store_stmt_take(s, SQL_UNIT_OWNER, &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(owner, sizeof owner, sqlite3_column_text(st, 0));
	store_stmt_give(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return owner[0] ? store_in_scope(s, owner) : 0;
}

static enum resolve_code resolve_unit(struct store *s, const char *text, struct resolve_result *r)
{
	sqlite3_stmt *st = NULL;
	char *key = NULL;
	size_t nkey = 0;
	enum resolve_code ret = RESOLVE_FAILED;
	size_t nscope = 0;
	if (textnorm_fold(text, strlen(text), &key, &nkey) != TEXTNORM_OK)
		return RESOLVE_NONE;
	if (nkey == 0) {
		free(key);
		return RESOLVE_NONE;
	}
	if (store_stmt_take(s, SQL_UNIT_BY_NAME, &st) != 0)
		goto done;
	sqlite3_bind_text(st, 1, key, (int)nkey, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	/* The ids first (the statement is cached: describing a unit takes other ones). */
	char (*ids)[IDS_UUID_TEXT] = NULL;
	size_t nids = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char (*more)[IDS_UUID_TEXT] = realloc(ids, (nids + 1) * sizeof *ids);
		if (!more)
			break;
		ids = more;
		copy_text(ids[nids++], IDS_UUID_TEXT, sqlite3_column_text(st, 0));
	}
	store_stmt_give(s, st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto free_ids;
	/* Several units of that name in the province: the office's own are meant (one of
	 * them: that one; several: those are listed). ours[i] is 1 for an own unit. */
	int *ours = calloc(nids ? nids : 1, sizeof *ours);
	if (!ours)
		goto free_ids;
	for (size_t i = 0; i < nids; i++) {
		int sc = unit_ours(s, ids[i]);
		if (sc < 0) {
			free(ours);
			goto free_ids;
		}
		ours[i] = sc;
		nscope += (size_t)sc;
	}
	for (size_t i = 0; i < nids; i++) {
		if (nscope && !ours[i])
			continue;
		if (r->nmatch < RESOLVE_MAX_MATCHES && unit_match(s, ids[i], &r->match[r->nmatch++]) != 0) {
			free(ours);
			goto free_ids;
		}
		r->total++;
	}
	free(ours);
	ret = r->total == 1 ? RESOLVE_OK : r->total ? RESOLVE_AMBIGUOUS : RESOLVE_NONE;
free_ids:
	free(ids);
done:
	store_stmt_give(s, st);
	free(key);
	return ret;
}

enum resolve_code resolve_ref(struct store *s, const struct schema_column *c, const char *text,
			      char id[IDS_UUID_TEXT], struct resolve_result *r)
{
	memset(r, 0, sizeof *r);
	if (ids_uuid_valid(text)) {
		memcpy(id, text, IDS_UUID_TEXT);
		return RESOLVE_OK;
	}
	if (!resolve_by_name(c->ref_table))
		return RESOLVE_BY_ID_ONLY;
	int person = strcmp(c->ref_table, "person") == 0;
	enum resolve_code rc = person ? resolve_person(s, text, r) : resolve_unit(s, text, r);
	if (rc == RESOLVE_OK)
		memcpy(id, r->match[0].id, IDS_UUID_TEXT);
	else if (rc == RESOLVE_NONE && suggest_row(s, person, text, r) != 0)
		rc = RESOLVE_FAILED;
	return rc;
}

int resolve_label(struct store *s, const char *ref_table, const char *id, char out[RESOLVE_LABEL_MAX])
{
	out[0] = '\0';
	if (!ref_table || !id)
		return 0;
	if (strcmp(ref_table, "unit") == 0)
		return unit_name(s, id, out, NULL, 0);
	if (strcmp(ref_table, "person") != 0)
		return 0;
	sqlite3_stmt *st = NULL;
	if (store_stmt_take(s, SQL_PERSON_BY_ID, &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret = -1;
	if (rc == SQLITE_ROW) {
		struct resolve_match m;
		person_match(st, &m);
		memcpy(out, m.label, RESOLVE_LABEL_MAX);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	store_stmt_give(s, st);
	return ret;
}

int resolve_search(struct store *s, const char *ref_table, const char *query, struct resolve_match *out,
		   size_t cap, size_t *n)
{
	sqlite3_stmt *st = NULL;
	char *key = NULL;
	size_t nkey = 0;
	int ret = -1, rc;
	*n = 0;
	if (!resolve_by_name(ref_table) || cap == 0)
		return 0;
	enum textnorm_code tc = textnorm_fold(query ? query : "", query ? strlen(query) : 0, &key, &nkey);
	if (tc == TEXTNORM_BAD_UTF8)
		return 0; /* matches nothing */
	if (tc != TEXTNORM_OK)
		return -1;
	int person = strcmp(ref_table, "person") == 0;
	if (store_stmt_take(s, person ? SQL_PERSON_SEARCH : SQL_UNIT_SEARCH, &st) != 0)
		goto done;
	sqlite3_bind_text(st, 1, key, (int)nkey, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
	if (!person)
		sqlite3_bind_text(st, 3, query ? query : "", -1, SQLITE_STATIC);
	if (person) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap)
			person_match(st, &out[(*n)++]);
	} else {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap)
			copy_text(out[(*n)++].id, IDS_UUID_TEXT, sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto done;
	store_stmt_give(s, st);
	st = NULL;
	if (!person)
		for (size_t i = 0; i < *n; i++) {
			char id[IDS_UUID_TEXT];
			memcpy(id, out[i].id, IDS_UUID_TEXT);
			if (unit_match(s, id, &out[i]) != 0)
				goto done;
		}
	ret = 0;
done:
	store_stmt_give(s, st);
	free(key);
	return ret;
}

/* 1 when a and b have the same search key. */
static int same_key(const char *a, const char *b)
{
	char *ka = NULL, *kb = NULL;
	int same = 0;
	if (textnorm_fold(a, strlen(a), &ka, NULL) == TEXTNORM_OK &&
	    textnorm_fold(b, strlen(b), &kb, NULL) == TEXTNORM_OK)
		same = ka[0] && strcmp(ka, kb) == 0;
	free(ka);
	free(kb);
	return same;
}

const struct schema_enum_value *resolve_choice(const struct schema_column *c, const char *text,
					       const struct schema_enum_value **nearest)
{
	if (nearest)
		*nearest = NULL;
	if (!c->enum_values || !text)
		return NULL;
	const struct schema_enum_value *ev = schema_enum_find(c, text);
	if (ev)
		return ev;
	size_t n = 0;
	for (const struct schema_enum_value *v = c->enum_values; v->code; v++) {
		if (same_key(text, v->label_vi) || same_key(text, v->code))
			return v;
		n++;
	}
	if (nearest && n) {
		const char **cand = calloc(2 * n, sizeof *cand);
		if (!cand)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			cand[2 * i] = c->enum_values[i].label_vi;
			cand[2 * i + 1] = c->enum_values[i].code;
		}
		long k = suggest_nearest(text, cand, 2 * n);
		if (k >= 0)
			*nearest = &c->enum_values[k / 2];
		free(cand);
	}
	return NULL;
}

const struct schema_column *resolve_column(const struct schema_table *t, const char *typed)
{
	const struct schema_column *c = schema_column_find(t, typed, SCHEMA_VERSION);
	if (c)
		return c;
	/* "Label (field)" */
	size_t n = strlen(typed);
	const char *open = strrchr(typed, '(');
	if (n > 2 && typed[n - 1] == ')' && open) {
		char name[64];
		size_t k = (size_t)(typed + n - 1 - (open + 1));
		if (k < sizeof name) {
			memcpy(name, open + 1, k);
			name[k] = '\0';
			if ((c = schema_column_find(t, name, SCHEMA_VERSION)) != NULL)
				return c;
		}
	}
	const struct schema_column *found = NULL;
	for (size_t i = 0; i < t->ncolumns; i++) {
		if (t->columns[i].since > SCHEMA_VERSION || !same_key(typed, t->columns[i].label_vi))
			continue;
		if (found)
			return NULL; /* a label two columns share names neither */
		found = &t->columns[i];
	}
	return found;
}

const struct schema_column *resolve_column_nearest(const struct schema_table *t, const char *typed)
{
	const char **cand = calloc(2 * t->ncolumns + 1, sizeof *cand);
	if (!cand)
		return NULL;
	for (size_t i = 1; i < t->ncolumns; i++)
		if (t->columns[i].since <= SCHEMA_VERSION) {
			cand[2 * i] = t->columns[i].name;
			cand[2 * i + 1] = t->columns[i].label_vi;
		}
	long k = suggest_nearest(typed, cand, 2 * t->ncolumns);
	free(cand);
	return k < 0 ? NULL : &t->columns[k / 2];
}

void resolve_columns_text(const struct schema_table *t, char *buf, size_t cap)
{
	size_t used = 0;
	if (cap)
		buf[0] = '\0';
	for (size_t i = 1; i < t->ncolumns && used + 1 < cap; i++) {
		if (t->columns[i].since > SCHEMA_VERSION)
			continue;
		int n = snprintf(buf + used, cap - used, "%s%s (%s)", used ? ", " : "", t->columns[i].name,
				 t->columns[i].label_vi);
		if (n < 0)
			break;
		used += (size_t)n < cap - used ? (size_t)n : cap - used - 1;
	}
}
