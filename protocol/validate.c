/*
 * validate.c — checks one change against the schema it was written under
 * (PROTOCOL.md §3 and §7.2).
 *
 * Pure functions over an entry and the static schema: no allocation, no state. Names
 * are checked before values (an unknown name never reaches SQL); the first problem
 * found is reported, with the static schema names of the table and field concerned.
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ids.h"

/* Tables have at most this many natural-key columns (schema.c has 3). */
#define VALIDATE_MAX_KEY 8
/* Longest name given to UUIDv5: table + key values (refs 36, ints 20 digits). */
#define VALIDATE_KEY_NAME_MAX 512

static enum validate_code fail(struct validate_status *st, enum validate_code code,
			       const char *table, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum validate_code fail(struct validate_status *st, enum validate_code code,
			       const char *table, const char *field, const char *fmt, ...)
{
	if (st) {
		va_list ap;
		st->code = code;
		st->table = table;
		st->field = field;
		va_start(ap, fmt);
		vsnprintf(st->message, sizeof st->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *validate_code_str(enum validate_code c)
{
	switch (c) {
	case VALIDATE_OK: return "ok";
	case VALIDATE_UNKNOWN_TABLE: return "unknown_table";
	case VALIDATE_UNKNOWN_COLUMN: return "unknown_column";
	case VALIDATE_BAD_TYPE: return "bad_type";
	case VALIDATE_BAD_ENUM: return "bad_enum";
	case VALIDATE_BAD_RANGE: return "bad_range";
	case VALIDATE_TOO_LONG: return "too_long";
	case VALIDATE_BAD_DATE: return "bad_date";
	case VALIDATE_BAD_ID: return "bad_id";
	case VALIDATE_REQUIRED: return "required";
	case VALIDATE_KEY_CHANGED: return "key_changed";
	case VALIDATE_OWNER_CHANGED: return "owner_changed";
	case VALIDATE_HUB_ONLY: return "hub_only";
	case VALIDATE_OUT_OF_SCOPE: return "out_of_scope";
	case VALIDATE_BAD_OP: return "bad_op";
	}
	return "unknown";
}

int validate_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	if (!s)
		return len == 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* continuation byte, overlong 2-byte lead, or beyond U+10FFFF */
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int validate_date(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !is_digits(s, 4) ||
	    !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
		return 0;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int max = mdays[m - 1] + (m == 2 && leap);
	return d <= max;
}

static const char *kind_name(enum value_kind k)
{
	switch (k) {
	case VALUE_NULL: return "null";
	case VALUE_INT: return "integer";
	case VALUE_TEXT: return "string";
	case VALUE_REAL: return "real number";
	case VALUE_BOOL: return "boolean";
	case VALUE_COMPOUND: return "array or object";
	}
	return "unknown";
}

enum validate_code validate_value(const struct schema_column *c, const struct value *v,
				  int version, struct validate_status *st)
{
	const char *n = c->name;
	if (c->since > version)
		return fail(st, VALIDATE_UNKNOWN_COLUMN, NULL, n,
			    "%s: not a column of schema %d", n, version);
	if (v->kind == VALUE_NULL) {
		if (c->flags & SCHEMA_REQUIRED)
			return fail(st, VALIDATE_REQUIRED, NULL, n, "%s: required", n);
		return VALIDATE_OK;
	}
	int want_text = c->type != SCHEMA_INT && c->type != SCHEMA_BOOL;
	if (v->kind != (want_text ? VALUE_TEXT : VALUE_INT))
		return fail(st, VALIDATE_BAD_TYPE, NULL, n, "%s: %s where %s expected", n,
			    kind_name(v->kind), want_text ? "a string" : "an integer");
	if (want_text && (!v->s || !validate_utf8(v->s, v->len)))
		return fail(st, VALIDATE_BAD_TYPE, NULL, n, "%s: not valid UTF-8 text", n);
	switch (c->type) {
	case SCHEMA_TEXT:
		if (v->len > (size_t)c->max_len)
			return fail(st, VALIDATE_TOO_LONG, NULL, n, "%s: %zu bytes, at most %d", n,
				    v->len, c->max_len);
		return VALIDATE_OK;
	case SCHEMA_INT:
		if (v->i < c->min || v->i > c->max)
			return fail(st, VALIDATE_BAD_RANGE, NULL, n, "%s: out of range", n);
		return VALIDATE_OK;
	case SCHEMA_BOOL:
		if (v->i != 0 && v->i != 1)
			return fail(st, VALIDATE_BAD_RANGE, NULL, n, "%s: not 0 or 1", n);
		return VALIDATE_OK;
	case SCHEMA_DATE:
		if (v->len != strlen(v->s) || !validate_date(v->s))
			return fail(st, VALIDATE_BAD_DATE, NULL, n, "%s: not a date YYYY-MM-DD", n);
		return VALIDATE_OK;
	case SCHEMA_ENUM: {
		const struct schema_enum_value *ev = schema_enum_find(c, v->s);
		if (!ev || ev->since > version || (ev->retired && ev->retired <= version))
			return fail(st, VALIDATE_BAD_ENUM, NULL, n,
				    "%s: not a code of schema %d", n, version);
		return VALIDATE_OK;
	}
	case SCHEMA_REF:
		if (!ids_uuid_valid(v->s))
			return fail(st, VALIDATE_BAD_ID, NULL, n, "%s: not a UUID", n);
		return VALIDATE_OK;
	}
	return fail(st, VALIDATE_BAD_TYPE, NULL, n, "%s: unknown column type", n);
}

enum validate_code validate_names(const struct entry *e, int version, struct validate_status *st)
{
	if (e->skipped)
		return VALIDATE_OK;
	const struct schema_table *t = schema_table_find(e->table, version);
	if (!t)
		return fail(st, VALIDATE_UNKNOWN_TABLE, NULL, NULL,
			    "not a table of schema %d", version);
	for (size_t i = 0; i < e->nfields; i++) {
		const struct schema_column *c = schema_column_find(t, e->fields[i].name, version);
		if (!c || (c->flags & (SCHEMA_ID | SCHEMA_OWNER)))
			return fail(st, VALIDATE_UNKNOWN_COLUMN, t->name, NULL,
				    "%s: unknown column, or id/unit_id inside fields", t->name);
	}
	return VALIDATE_OK;
}

static const struct field *find_field(const struct field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fields[i].name && name && strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int validate_natural_id(const struct schema_table *t, const struct field *fields, size_t nfields,
			char out[37])
{
	char name[VALIDATE_KEY_NAME_MAX];
	size_t len = strlen(t->name);
	if (len >= sizeof name)
		return -1;
	memcpy(name, t->name, len);
	int nkey = 0;
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (!(c->flags & SCHEMA_KEY))
			continue;
		const struct field *f = find_field(fields, nfields, c->name);
		if (!f || f->v.kind == VALUE_NULL)
			return -1;
		char num[24];
		const char *s;
		size_t n;
		if (f->v.kind == VALUE_INT) {
			n = (size_t)snprintf(num, sizeof num, "%lld", (long long)f->v.i);
			s = num;
		} else if (f->v.kind == VALUE_TEXT && f->v.s) {
			s = f->v.s;
			n = f->v.len;
		} else {
			return -1;
		}
		if (n + 1 > sizeof name - len)
			return -1;
		name[len++] = '\x1f';
		memcpy(name + len, s, n);
		len += n;
		nkey++;
	}
	if (nkey == 0)
		return -1;
	ids_uuid5(name, len, out);
	return 0;
}

enum validate_code validate_entry(const struct entry *e, int version, int from_hub,
				  struct validate_status *st)
{
	enum validate_code rc;
	if (e->skipped)
		return VALIDATE_OK;
	if ((rc = validate_names(e, version, st)) != VALIDATE_OK)
		return rc;
	const struct schema_table *t = schema_table_find(e->table, version);
	const char *tn = t->name;
	if (t->hub_only && !from_hub)
		return fail(st, VALIDATE_HUB_ONLY, tn, NULL, "%s: only the hub writes it", tn);
	if (e->op != ENTRY_INSERT && e->op != ENTRY_UPDATE && e->op != ENTRY_DELETE)
		return fail(st, VALIDATE_BAD_OP, tn, NULL, "%s: unknown operation", tn);
	if (!ids_uuid_valid(e->id))
		return fail(st, VALIDATE_BAD_ID, tn, "id", "id: not a UUID");
	if (!ids_uuid_valid(e->owner))
		return fail(st, VALIDATE_BAD_ID, tn, "unit_id", "unit_id: not a UUID");
	if (e->op == ENTRY_DELETE) {
		if (e->nfields)
			return fail(st, VALIDATE_BAD_OP, tn, NULL, "%s: a delete carries fields", tn);
		return VALIDATE_OK;
	}
	for (size_t i = 0; i < e->nfields; i++) {
		const struct schema_column *c = schema_column_find(t, e->fields[i].name, version);
		if (e->op == ENTRY_UPDATE && (c->flags & SCHEMA_KEY))
			return fail(st, VALIDATE_KEY_CHANGED, tn, c->name,
				    "%s: a natural-key column cannot be updated", c->name);
		if ((rc = validate_value(c, &e->fields[i].v, version, st)) != VALIDATE_OK) {
			if (st)
				st->table = tn;
			return rc;
		}
	}
	if (e->op == ENTRY_UPDATE)
		return VALIDATE_OK;
	for (size_t i = 0; i < t->ncolumns; i++) {
		const struct schema_column *c = &t->columns[i];
		if (c->since > version || (c->flags & (SCHEMA_ID | SCHEMA_OWNER)))
			continue;
		if (!find_field(e->fields, e->nfields, c->name))
			return fail(st, VALIDATE_REQUIRED, tn, c->name,
				    "%s: an insert must carry every column", c->name);
	}
	if (schema_table_has_key(t)) {
		/* The owning unit travels as `owner`, not in fields: add it for the key. */
		struct field key[VALIDATE_MAX_KEY];
		size_t nkey = 0;
		for (size_t i = 0; i < t->ncolumns && nkey < VALIDATE_MAX_KEY; i++) {
			const struct schema_column *c = &t->columns[i];
			if (!(c->flags & SCHEMA_KEY))
				continue;
			if (c->flags & SCHEMA_OWNER) {
				key[nkey].name = c->name;
				key[nkey].v = (struct value){ .kind = VALUE_TEXT, .s = e->owner,
							      .len = strlen(e->owner) };
				nkey++;
			} else {
				key[nkey++] = *find_field(e->fields, e->nfields, c->name);
			}
		}
		char want[37];
		if (validate_natural_id(t, key, nkey, want) != 0 || strcmp(want, e->id) != 0)
			return fail(st, VALIDATE_KEY_CHANGED, tn, "id",
				    "id: not the UUIDv5 of the natural key");
	}
	return VALIDATE_OK;
}
