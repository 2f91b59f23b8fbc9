/*
 * hlc.c — hybrid logical clocks (PROTOCOL.md §4).
 *
 * Pure arithmetic on clocks `(ms << 16) | counter`. Nothing here reads the wall clock:
 * callers pass the recorded time in, so every rule can be tested with any history of
 * wall-clock jumps. Arithmetic saturates instead of wrapping at both ends of the
 * 64-bit range, so a corrupt clock can never make the order go backwards.
 */
#include "hlc.h"

#include <string.h>

uint64_t hlc_next(uint64_t last, int64_t recorded_ms)
{
	uint64_t t = hlc_from_ms(recorded_ms);
	uint64_t after = last == UINT64_MAX ? UINT64_MAX : last + 1;
	return t > after ? t : after;
}

uint64_t hlc_receive(uint64_t last, uint64_t received)
{
	return received > last ? received : last;
}

size_t hlc_lower(uint64_t *clocks, size_t n, uint64_t limit)
{
	size_t changed = 0;
	uint64_t bound = limit;
	for (size_t k = n; k-- > 0;) {
		if (clocks[k] > bound) {
			clocks[k] = bound;
			changed++;
		}
		/* Strict order needs room below; at clock 0 there is none and the rest stay 0. */
		bound = clocks[k] > 0 ? clocks[k] - 1 : 0;
	}
	return changed;
}

int hlc_too_far_ahead(uint64_t clock, int64_t hub_time_ms, int64_t max_ahead_ms)
{
	int64_t ms = hlc_ms(clock);
	if (hub_time_ms < 0)
		hub_time_ms = 0;
	if (max_ahead_ms < 0)
		max_ahead_ms = 0;
	/* Both are below 2^62 for any sane input; saturate otherwise. */
	if (hub_time_ms > INT64_MAX - max_ahead_ms)
		return 0;
	return ms > hub_time_ms + max_ahead_ms;
}

int hlc_order(uint64_t ca, const char *wa, uint64_t cb, const char *wb)
{
	if (ca != cb)
		return ca > cb ? 1 : -1;
	if (wa == wb)
		return 0;
	if (!wa)
		return -1;
	if (!wb)
		return 1;
	int c = strcmp(wa, wb);
	return c > 0 ? 1 : c < 0 ? -1 : 0;
}
