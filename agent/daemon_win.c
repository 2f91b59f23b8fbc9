/*
 * daemon_win.c — daemon_posix.h on Windows: there is no fork and no signal, so the
 * daemon is an ordinary process (the installer starts it at logon as a per-user
 * scheduled task, docs/windows.md) and a stop request is a console control event —
 * Ctrl+C, Ctrl+Break, the console window closed, logoff, shutdown.
 *
 * The control handler runs on a thread of its own that Windows creates: it only sets a
 * flag and a manual-reset event, so the daemon's loop notices the request between
 * syncs (or cancels the current transfer through daemon_os_cancel) exactly as on POSIX,
 * and the idle wait is WaitForSingleObject on that event: no CPU while idle. For the
 * close, logoff and shutdown events Windows ends the process soon after the handler
 * returns, so the handler waits (a few seconds at most) for daemon_os_release; a process
 * ended anyway (Task Scheduler's "End" is TerminateProcess) loses nothing either — an
 * interrupted sync is an uncommitted SQLite transaction, and the next sync resumes.
 * Owns: the stop event and flag.
 */
#include "daemon_posix.h"

#include <windows.h>

/* How long a close/logoff/shutdown event may hold the process for the loop to finish
 * its sync: below the 5 s Windows grants a console window being closed. */
#define DAEMON_CLOSE_GRACE_MS 4000

static HANDLE stop_event, released_event;
static volatile LONG stop_seen;
static int initialised;

static BOOL WINAPI on_control(DWORD type)
{
	InterlockedExchange(&stop_seen, 1);
	if (stop_event)
		SetEvent(stop_event);
	if ((type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) &&
	    released_event)
		WaitForSingleObject(released_event, DAEMON_CLOSE_GRACE_MS);
	return TRUE; /* handled: no default action (which would end the process at once) */
}

int daemon_os_init(void)
{
	LARGE_INTEGER qpc;
	stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	released_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!stop_event || !released_event || !SetConsoleCtrlHandler(on_control, TRUE)) {
		if (stop_event)
			CloseHandle(stop_event);
		if (released_event)
			CloseHandle(released_event);
		stop_event = released_event = NULL;
		return -1;
	}
	InterlockedExchange(&stop_seen, 0);
	initialised = 1;
	QueryPerformanceCounter(&qpc);
	daemon_os_seed(((uint64_t)qpc.QuadPart << 20) ^ GetTickCount64() ^
		       ((uint64_t)GetCurrentProcessId() << 40));
	return 0;
}

void daemon_os_release(void)
{
	if (!initialised)
		return;
	SetConsoleCtrlHandler(on_control, FALSE);
	SetEvent(released_event); /* a close event's handler may now let Windows go on */
	/* The events stay open: a handler already running may still use them, and the
	 * process is about to end (the daemon command returns to main). */
	initialised = 0;
}

int daemon_os_stop_requested(void)
{
	return InterlockedCompareExchange(&stop_seen, 0, 0) != 0;
}

int daemon_os_cancel(void *ctx)
{
	(void)ctx;
	return daemon_os_stop_requested();
}

int daemon_os_wait_ms(int64_t ms)
{
	int64_t end = daemon_os_now_ms() + (ms > 0 ? ms : 0);
	for (;;) {
		if (daemon_os_stop_requested())
			return 1;
		int64_t left = end - daemon_os_now_ms();
		if (left <= 0)
			return 0;
		DWORD slice = left > 0x7fffffff ? 0x7fffffff : (DWORD)left;
		if (!stop_event) {
			Sleep(slice); /* not initialised: still never spin */
			continue;
		}
		if (WaitForSingleObject(stop_event, slice) == WAIT_FAILED)
			Sleep(slice);
	}
}

int64_t daemon_os_now_ms(void)
{
	return (int64_t)GetTickCount64();
}
