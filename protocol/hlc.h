/*
 * hlc.h — hybrid logical clocks (PROTOCOL.md §4). Pure functions, no state.
 *
 * A clock is (ms << 16) | counter; clocks compare as unsigned integers; the write
 * order is (clock, writer id) with the greater winning.
 */
#ifndef LK_HLC_H
#define LK_HLC_H

#include <stddef.h>
#include <stdint.h>

#define HLC_COUNTER_BITS 16
/* Default drift limit: a clock more than this ahead of hub time is refused. */
#define HLC_MAX_AHEAD_MS 300000

static inline uint64_t hlc_from_ms(int64_t ms) { return ms < 0 ? 0 : (uint64_t)ms << HLC_COUNTER_BITS; }
static inline int64_t hlc_ms(uint64_t clock) { return (int64_t)(clock >> HLC_COUNTER_BITS); }

/* The clock of a new entry: max(recorded_ms << 16, last + 1). */
uint64_t hlc_next(uint64_t last, int64_t recorded_ms);

/* After receiving `received`: the new `last` (max of the two). */
uint64_t hlc_receive(uint64_t last, uint64_t received);

/* The lowered clock of one entry after clock_ahead (PROTOCOL.md §4): at most `limit`
 * (hub_time << 16) unless the entry's effective floor holds it up, always above
 * `row_floor`, never above `clock`: min(clock, max(min(clock, limit), row_floor + 1)). A floor
 * at or above the clock (a damaged journal) leaves the clock as it is. */
uint64_t hlc_lower_one(uint64_t clock, uint64_t row_floor, uint64_t limit);

/* Room above the highest clock a hub holds for a row that a clock beyond the drift
 * limit may take: floor + n carries into the next millisecond at most once for any
 * n < 2^16 (PROTOCOL.md §4). */
#define HLC_ROW_CARRY_MS 1

/* 1 when the hub refuses `clock` for a row whose highest held clock is row_max: beyond
 * hub_time_ms + max_ahead_ms and more than HLC_ROW_CARRY_MS beyond row_max's
 * millisecond (0 for a row the hub does not hold). */
int hlc_refused(uint64_t clock, int64_t hub_time_ms, int64_t max_ahead_ms, uint64_t row_max);

/* 1 when clock is beyond hub_time_ms + max_ahead_ms. */
int hlc_too_far_ahead(uint64_t clock, int64_t hub_time_ms, int64_t max_ahead_ms);

/* Write order: >0 when (ca, wa) wins over (cb, wb), <0 when it loses, 0 when equal.
 * Writers are agent ids compared as text (strcmp); NULL sorts lowest. */
int hlc_order(uint64_t ca, const char *wa, uint64_t cb, const char *wb);

#endif
