/*
 * daemon_posix.c — POSIX implementation of daemon_posix.h.
 *
 * Stop signals are blocked and collected with sigtimedwait(), which sleeps in the
 * kernel: no polling, no CPU while idle, and no async-signal-safety concerns because
 * no handler ever runs. A stop seen once is remembered in `stop_seen`.
 * Owns: the saved signal mask.
 */
#include "daemon_posix.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static sigset_t stop_set, saved_mask;
static int initialised, stop_seen;

int daemon_os_init(void)
{
	struct timespec ts;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stop_set, &saved_mask) != 0)
		return -1;
	initialised = 1;
	stop_seen = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	daemon_os_seed(((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40));
	return 0;
}

void daemon_os_release(void)
{
	if (!initialised)
		return;
	/* Consume stop signals still pending, or unblocking would deliver them and kill
	 * the process with the default action instead of letting it return cleanly. */
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&stop_set, NULL, &zero) > 0)
		stop_seen = 1;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	initialised = 0;
}

int daemon_os_stop_requested(void)
{
	sigset_t pending;
	if (stop_seen || !initialised)
		return stop_seen;
	if (sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
	     sigismember(&pending, SIGHUP) == 1))
		stop_seen = 1;
	return stop_seen;
}

int daemon_os_cancel(void *ctx)
{
	(void)ctx;
	return daemon_os_stop_requested();
}

int daemon_os_wait_ms(int64_t ms)
{
	int64_t end = daemon_os_now_ms() + (ms > 0 ? ms : 0);
	if (daemon_os_stop_requested())
		return 1;
	for (;;) {
		int64_t left = end - daemon_os_now_ms();
		if (left <= 0)
			return 0;
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		int sig = sigtimedwait(&stop_set, NULL, &ts);
		if (sig > 0) {
			stop_seen = 1;
			return 1;
		}
		if (errno != EINTR && errno != EAGAIN)
			nanosleep(&ts, NULL); /* cannot wait for signals: still never spin */
	}
}

int64_t daemon_os_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
