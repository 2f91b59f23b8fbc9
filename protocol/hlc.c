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

uint64_t hlc_lower_one(uint64_t clock, uint64_t row_floor, uint64_t limit)
{
	uint64_t target = clock < limit ? clock : limit;
	if (row_floor >= clock)
		return clock;
	if (target <= row_floor)
		target = row_floor + 1; /* row_floor < clock <= UINT64_MAX: no overflow */
	return target;
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

int hlc_refused(uint64_t clock, int64_t hub_time_ms, int64_t max_ahead_ms, uint64_t row_max)
{
	if (!hlc_too_far_ahead(clock, hub_time_ms, max_ahead_ms))
		return 0;
	/* ms values are below 2^48: the sum cannot overflow */
	return hlc_ms(clock) > hlc_ms(row_max) + HLC_ROW_CARRY_MS;
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
