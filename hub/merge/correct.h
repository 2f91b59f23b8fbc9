/*
 * correct.h — corrections from the province: `lienket-hub add|set|rm`, with the
 * agent's syntax (`add TABLE field=value …`, `set TABLE ID field=value …`,
 * `rm TABLE ID`) and validation (schema.h types, enumerations, limits, natural keys,
 * required columns, immutable owner and keys).
 *
 * A correction is one entry written by the hub (changes_apply_hub): it carries a hub
 * clock raised above the row's, merges by the same last-writer-wins rule as an office's
 * edit, is receipted as the province's (agent = hub_id) and reaches the owning unit's
 * agents by pull. Runs inside the caller's write transaction; prints nothing.
 */
#ifndef LK_HUB_CORRECT_H
#define LK_HUB_CORRECT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum correct_op { CORRECT_ADD, CORRECT_SET, CORRECT_RM };

enum correct_result {
	CORRECT_OK = 0,
	CORRECT_REFUSED = 1, /* the operator's input: err says why (English) */
	CORRECT_FAILED = -1, /* storage or allocation failure */
};

/* Applies one correction. id is the row for set and rm (NULL for add); args are
 * "field=value" texts ("" means null; `unit_id=` takes a unit id or an official code
 * valid today, and defaults to the province for add). On CORRECT_OK the row's id is
 * written to out_id and *changed says whether anything changed. */
int correct_apply(struct store *s, enum correct_op op, const char *table, const char *id,
		  const char *const *args, size_t nargs, int64_t now_ms, char out_id[37],
		  int *changed, char *err, size_t errlen);

#endif
