/*
 * schema.h — the one declaration of every synced table, shared by agent and hub.
 *
 * The tables below drive: the agent's local tables (CHECK constraints), its
 * journaling triggers, validation on both sides (validate.h), the hub's tables, and
 * the whitelist every table and column name from the wire is matched against. Nothing
 * here allocates; every pointer returned points into static, read-only data that lives
 * for the whole program.
 *
 * Every table has the implicit columns `id` (TEXT UUID primary key) and `unit_id`
 * (TEXT UUID, the owning unit, immutable). They are listed in `columns` like any other
 * (index 0 is `id`, index 1 is `unit_id`) so that generators can treat all alike.
 */
#ifndef LK_SCHEMA_H
#define LK_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes and reads. An entry written under a higher
 * version is refused whole by the hub (code schema_newer). */
#define SCHEMA_VERSION 1

enum schema_type {
	SCHEMA_TEXT, /* UTF-8 text, at most max_len bytes */
	SCHEMA_INT,  /* 64-bit integer within [min, max] */
	SCHEMA_BOOL, /* 0 or 1 */
	SCHEMA_DATE, /* 'YYYY-MM-DD', a real calendar date */
	SCHEMA_ENUM, /* one of enum_values[].code */
	SCHEMA_REF,  /* a UUID of a row of ref_table */
};

/* Column flags. */
#define SCHEMA_REQUIRED 0x01u /* an insert must give a non-null value */
#define SCHEMA_KEY      0x02u /* part of the natural key (id is UUIDv5 of the key); immutable */
#define SCHEMA_OWNER    0x04u /* the owning-unit column (`unit_id`); immutable */
#define SCHEMA_ID       0x08u /* the primary key column (`id`) */

struct schema_enum_value {
	const char *code;     /* ASCII code stored and sent */
	const char *label_vi; /* what users read */
	int rank;             /* for ordered scales (ratings); 0 when unordered */
	int since;            /* schema version it appeared in */
	int retired;          /* schema version from which new entries may not use it; 0 = never */
};

struct schema_column {
	const char *name;
	enum schema_type type;
	unsigned flags;
	int max_len;                                 /* SCHEMA_TEXT: max bytes */
	int64_t min, max;                            /* SCHEMA_INT */
	const struct schema_enum_value *enum_values; /* SCHEMA_ENUM, terminated by code == NULL */
	const char *ref_table;                       /* SCHEMA_REF */
	const char *label_vi;                        /* Vietnamese label for forms and reports */
	int since;                                   /* schema version it appeared in */
};

/* Who may write a table, and which rows an agent pulls. */
enum schema_pull {
	SCHEMA_PULL_SCOPE,     /* rows whose owning unit is in the agent's subtree */
	SCHEMA_PULL_ALL,       /* reference data: every row (the unit tree) */
	SCHEMA_PULL_ASSIGNEE,  /* scope rows, plus rows whose `assignee_unit_id` is in scope */
};

struct schema_table {
	const char *name;
	const char *label_vi;
	const struct schema_column *columns;
	size_t ncolumns;
	int hub_only;             /* only the hub (province) writes it; agents are quarantined */
	enum schema_pull pull;
	int since;                /* schema version it appeared in */
};

/* All synced tables, in dependency order (a table only references earlier ones or
 * itself). */
extern const struct schema_table schema_tables[];
extern const size_t schema_ntables;

/* Looks a table up by exact name. Returns NULL when the name is not a table of
 * `version` (a name from the wire that is not found must never reach SQL). */
const struct schema_table *schema_table_find(const char *name, int version);

/* Looks a column up by exact name in `t`. Returns NULL when not a column of
 * `version`. */
const struct schema_column *schema_column_find(const struct schema_table *t,
					       const char *name, int version);

/* Index of `c` within t->columns. */
size_t schema_column_index(const struct schema_table *t, const struct schema_column *c);

/* Finds an enumeration value by code (retired values included). NULL if unknown. */
const struct schema_enum_value *schema_enum_find(const struct schema_column *c,
						 const char *code);

/* 1 when the table has a natural key (some column flagged SCHEMA_KEY). */
int schema_table_has_key(const struct schema_table *t);

#endif
