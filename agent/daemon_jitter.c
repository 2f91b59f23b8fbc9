/*
 * daemon_jitter.c — the jitter generator of daemon_posix.h, shared by daemon_posix.c and
 * daemon_win.c (which seed it). Owns: the generator's state.
 */
#include "daemon_posix.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

void daemon_os_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ULL; /* xorshift must not start at 0 */
}

uint64_t daemon_os_random(uint64_t n)
{
	/* xorshift64*: enough for spreading retries, never for secrets */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	uint64_t r = rng_state * 0x2545F4914F6CDD1DULL;
	return n ? r % n : 0;
}
