/*
 * units.h — the unit tree as the hub uses it: an agent's scope (its unit and every
 * unit below it today, plus units merged into that subtree) and loading the official
 * unit list from CSV at `init`.
 *
 * A scope owns its array of ids; release with units_scope_release.
 */
#ifndef LK_HUB_UNITS_H
#define LK_HUB_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct units_scope {
	char (*ids)[37]; /* sorted */
	size_t n;
};

/* Computes the scope of `unit` as of `today` (YYYY-MM-DD) from the parent links valid
 * that day and the recorded merges. 0, or -1 on storage or allocation failure. */
int units_scope_compute(struct store *s, const char *unit, const char *today,
			struct units_scope *out);
void units_scope_release(struct units_scope *sc);
int units_scope_contains(const struct units_scope *sc, const char *unit);
/* The scope as a JSON array of ids (new string, caller frees); NULL on failure. */
char *units_scope_json(const struct units_scope *sc);

/* Today's date in Vietnam (UTC+7), YYYY-MM-DD, from Unix ms. */
void units_today(int64_t now_ms, char out[11]);

/* Loads a unit CSV with the header
 *   province,province_code,district,district_code,commune,commune_code,commune_kind
 * creating province, district and commune units (UUIDv7 ids; names and parent links
 * valid from 2000-01-01; every row owned by the province unit) as the hub's own
 * changes. Units whose code already names a unit are reused. Must run inside a write
 * transaction. On success returns 0 and the number of units created in *created;
 * -1 with an English reason (file, line) in err. */
int units_load_csv(struct store *s, const char *path, int64_t now_ms, size_t *created,
		   char *err, size_t errlen);

/* Splits one CSV line in place (RFC 4180 quotes) into at most max fields. Returns
 * the number of fields. */
size_t units_csv_split(char *line, char **fields, size_t max);

#endif
