/*
 * daemon_posix.h — what the daemon needs from the operating system, behind a small
 * interface so a Windows build replaces one file (daemon_posix.c): stop requests
 * (SIGTERM, SIGINT, SIGHUP), an idle wait that costs no CPU and ends early on a stop
 * request, a monotonic clock and a little randomness for jitter.
 *
 * Invariant: after daemon_os_init the stop signals are blocked and only ever consumed
 * by daemon_os_wait_ms / noticed by daemon_os_stop_requested, so a stop that arrives
 * during a sync is kept and honoured as soon as the sync (or its current transfer) ends.
 */
#ifndef LK_AGENT_DAEMON_POSIX_H
#define LK_AGENT_DAEMON_POSIX_H

#include <stdint.h>

/* Blocks the stop signals for the whole process. 0 or -1. */
int daemon_os_init(void);
/* Restores the signal mask saved by daemon_os_init. */
void daemon_os_release(void);
/* Sleeps up to ms milliseconds without CPU. Returns 1 when a stop was requested
 * (before or during the wait), 0 when the time ran out. */
int daemon_os_wait_ms(int64_t ms);
/* 1 when a stop was requested (does not wait). Usable as a transport cancel callback
 * through daemon_os_cancel. */
int daemon_os_stop_requested(void);
int daemon_os_cancel(void *ctx);
/* Monotonic milliseconds. */
int64_t daemon_os_now_ms(void);
/* A pseudo-random number in [0, n) for jitter (not for secrets). Its generator is
 * shared by both implementations (daemon_jitter.c), each seeding it in daemon_os_init
 * with daemon_os_seed from its clock and process id. */
uint64_t daemon_os_random(uint64_t n);
void daemon_os_seed(uint64_t seed);

#endif
