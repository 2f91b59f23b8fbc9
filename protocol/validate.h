/*
 * validate.h — checks a change against the schema (PROTOCOL.md §3, §7.2).
 *
 * Validation looks only at the change and the schema version it was written under;
 * the agent's scope is the hub's business. Names are checked first: an unknown table
 * or column makes the whole change set unreadable (validate_names); a value that does
 * not fit its column quarantines only its change (validate_entry).
 */
#ifndef LK_VALIDATE_H
#define LK_VALIDATE_H

#include "entry.h"
#include "schema.h"

enum validate_code {
	VALIDATE_OK = 0,
	VALIDATE_UNKNOWN_TABLE,
	VALIDATE_UNKNOWN_COLUMN,
	VALIDATE_BAD_TYPE,
	VALIDATE_BAD_ENUM,
	VALIDATE_BAD_RANGE,
	VALIDATE_TOO_LONG,
	VALIDATE_BAD_DATE,
	VALIDATE_BAD_ID,
	VALIDATE_REQUIRED,
	VALIDATE_KEY_CHANGED,
	VALIDATE_OWNER_CHANGED,
	VALIDATE_HUB_ONLY,
	VALIDATE_OUT_OF_SCOPE, /* decided by the hub, listed here so codes stay in one place */
	VALIDATE_BAD_OP,
};

struct validate_status {
	enum validate_code code;
	const char *table;  /* static schema name, or NULL */
	const char *field;  /* static schema name, or NULL */
	char message[160];  /* English */
};

/* Stable code string of PROTOCOL.md §7.2 ("bad_enum", …). */
const char *validate_code_str(enum validate_code c);

/* Table and every field name known in schema `version`? VALIDATE_OK or
 * VALIDATE_UNKNOWN_TABLE / VALIDATE_UNKNOWN_COLUMN (st says which). Skipped entries
 * pass. `id` and `unit_id` are not allowed inside fields. */
enum validate_code validate_names(const struct entry *e, int version, struct validate_status *st);

/* Checks op, id, owner and every value. For an insert, required columns must be
 * present and non-null and all columns present; for an update, key and owner columns
 * must not appear; for natural-key tables the id must equal the UUIDv5 of the key.
 * from_hub: 1 when the hub itself writes (hub-only tables allowed). */
enum validate_code validate_entry(const struct entry *e, int version, int from_hub,
				  struct validate_status *st);

/* Checks one value against a column (used by forms and CSV import too). */
enum validate_code validate_value(const struct schema_column *c, const struct value *v,
				  int version, struct validate_status *st);

/* Derives the UUIDv5 id of a natural-key row from its key fields (all must be
 * present; the owning unit is a key column, so `unit_id` must be among `fields`:
 * validate_entry adds it from the entry's owner). The name hashed is
 * "table\x1fvalue1\x1fvalue2…" with key columns in declared order, text as is and
 * integers in decimal. 0 on success, -1 when a key field is missing, null, neither
 * integer nor text, or the table has no natural key. */
int validate_natural_id(const struct schema_table *t, const struct field *fields, size_t nfields,
			char out[37]);

/* 1 when `s` is a real calendar date written YYYY-MM-DD. */
int validate_date(const char *s);

/* 1 when s[0..len) is valid UTF-8 without NUL. */
int validate_utf8(const char *s, size_t len);

#endif
