/*
 * fieldarg.c — "field=value" arguments into typed, validated values (see fieldarg.h).
 *
 * The one place where the agent's and the hub's command lines read a value: a second
 * parser beside this one would let a correction hold what an office could not type (or
 * the reverse). Column names reach the schema lookup only through a bounded copy; the
 * value text is never copied.
 */
#include "fieldarg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static enum fieldarg_code status(struct fieldarg_status *st, enum fieldarg_code code)
{
	if (st)
		st->code = code;
	return code;
}

enum fieldarg_code fieldarg_put(const struct schema_table *t, const char *arg, int allow_id,
				const char **text, struct fieldarg_status *st)
{
	char name[FIELDARG_NAME_MAX];
	const char *eq = strchr(arg, '=');
	if (st)
		memset(st, 0, sizeof *st);
	if (!eq || eq == arg)
		return status(st, FIELDARG_NOT_FIELD_VALUE);
	size_t nlen = (size_t)(eq - arg);
	if (nlen >= sizeof name)
		return status(st, FIELDARG_NAME_TOO_LONG);
	memcpy(name, arg, nlen);
	name[nlen] = '\0';
	if (st)
		memcpy(st->name, name, nlen + 1);
	const struct schema_column *c = schema_column_find(t, name, SCHEMA_VERSION);
	if (!c)
		return status(st, FIELDARG_UNKNOWN_FIELD);
	if (st)
		st->column = c;
	size_t i = schema_column_index(t, c);
	if (i == 0 && !allow_id)
		return status(st, FIELDARG_ID_NOT_FIELD);
	if (text[i])
		return status(st, FIELDARG_DUPLICATE);
	text[i] = eq + 1;
	return status(st, FIELDARG_OK);
}

/* Strict decimal over the whole text. VALIDATE_OK, VALIDATE_BAD_TYPE or
 * VALIDATE_BAD_RANGE (beyond 64 bits); *out written only on VALIDATE_OK. */
static enum validate_code parse_decimal(const char *text, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (*end)
		return VALIDATE_BAD_TYPE; /* trailing or leading junk, a lone sign */
	if (errno == ERANGE)
		return VALIDATE_BAD_RANGE;
	if (errno)
		return VALIDATE_BAD_TYPE;
	*out = n;
	return VALIDATE_OK;
}

enum validate_code fieldarg_value(const struct schema_column *c, const char *text, struct value *v)
{
	struct validate_status st;
	memset(v, 0, sizeof *v);
	if (!text || !*text) {
		v->kind = VALUE_NULL;
	} else if (c->type == SCHEMA_INT || c->type == SCHEMA_BOOL) {
		long long n;
		if (c->type == SCHEMA_BOOL && (strcmp(text, "có") == 0 || strcmp(text, "true") == 0)) {
			n = 1;
		} else if (c->type == SCHEMA_BOOL && (strcmp(text, "không") == 0 || strcmp(text, "false") == 0)) {
			n = 0;
		} else {
			enum validate_code pc = parse_decimal(text, &n);
			if (pc != VALIDATE_OK)
				return pc;
		}
		v->kind = VALUE_INT;
		v->i = n;
	} else {
		v->kind = VALUE_TEXT;
		v->s = text;
		v->len = strlen(text);
	}
	return validate_value(c, v, SCHEMA_VERSION, &st);
}
