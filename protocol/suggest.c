/*
 * suggest.c — the nearest candidate by edit distance of search keys (suggest.h).
 *
 * Two rows of the Levenshtein table over bytes of the folded keys: folded keys are
 * ASCII for Vietnamese (marks stripped, đ → d), so bytes are letters here.
 */
#include "suggest.h"

#include <stdlib.h>
#include <string.h>

#include "textnorm.h"

static size_t distance(const char *a, size_t na, const char *b, size_t nb, size_t *row)
{
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

long suggest_nearest(const char *typed, const char *const *candidates, size_t n)
{
	char *key = NULL;
	size_t nkey = 0;
	long best = -1;
	size_t best_d = 0;
	size_t *row = NULL;
	if (!typed || textnorm_fold(typed, strlen(typed), &key, &nkey) != TEXTNORM_OK)
		return -1;
	if (nkey == 0 || nkey > SUGGEST_MAX_KEY)
		goto done;
	row = malloc((SUGGEST_MAX_KEY + 1) * sizeof *row);
	if (!row)
		goto done;
	size_t limit = nkey / 3 > 1 ? nkey / 3 : 1;
	for (size_t i = 0; i < n; i++) {
		char *ck = NULL;
		size_t nck = 0;
		if (!candidates[i] || textnorm_fold(candidates[i], strlen(candidates[i]), &ck, &nck) != TEXTNORM_OK)
			continue;
		if (nck <= SUGGEST_MAX_KEY) {
			size_t d = distance(key, nkey, ck, nck, row);
			if (d <= limit && d < nck && (best < 0 || d < best_d)) {
				best = (long)i;
				best_d = d;
			}
		}
		free(ck);
	}
done:
	free(row);
	free(key);
	return best;
}
