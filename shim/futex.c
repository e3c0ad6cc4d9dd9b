/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * futex.c — syscall(2), for the one call programs make through it that
 * blocks: futex.  libstdc++ waits for futures, std::atomic::wait and C++20
 * semaphores with syscall(SYS_futex, ...); a green thread there must park
 * instead of putting the whole hub to sleep.  FUTEX_WAIT / WAIT_BITSET park
 * on the address (a shared one re-checks the word on a back-off timer, as
 * another process may wake it); WAKE / WAKE_BITSET ready green waiters
 * first and the kernel's after.  The calls that close or replace an fd
 * (close, close_range, dup2, dup3) go to the shim's wrappers, so that a
 * raw close tells the fd table (no watcher outlives its number) and cannot
 * close the shim's own fds.  Everything else goes to libc unchanged.
 */
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "green.h"

static long do_futex(uint32_t *addr, int op, uint32_t val,
		     const struct timespec *ts, uint32_t val3, bool *handled)
{
	int cmd = op & FUTEX_CMD_MASK;
	int64_t deadline = 0;

	*handled = true;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (!gr_park_useful())
			break;
		if (ts != NULL) {
			if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
				return -EINVAL;
			if (cmd == FUTEX_WAIT) /* relative, monotonic */
				deadline = gr_now() + gr_ts_ns(ts);
			else /* absolute */
				deadline = gr_deadline_from_abs(
				    (op & FUTEX_CLOCK_REALTIME)
					? CLOCK_REALTIME
					: CLOCK_MONOTONIC,
				    ts);
		}
		/* A shared futex (libstdc++ uses them for private memory
		 * too) may be woken by another process: re-check it. */
		return gr_futex_wait(addr, val, deadline,
				     cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY
						       : val3,
				     !(op & FUTEX_PRIVATE_FLAG));
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (gr_tls_hub == NULL)
			break;
		return gr_futex_wake(addr, (int)val,
				     cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY
						       : val3);
	}
	*handled = false;
	return 0;
}

GR_EXPORT long syscall(long n, ...)
{
	va_list ap;
	long a[6];
	bool handled = false;
	long r;

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (n == SYS_futex) {
		r = do_futex((uint32_t *)a[0], (int)a[1], (uint32_t)a[2],
			     (const struct timespec *)a[3], (uint32_t)a[5],
			     &handled);
		if (handled)
			return gr_ret(r);
	}
	switch (n) {
	case SYS_close:
		return close((int)a[0]);
	case SYS_close_range:
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	case SYS_dup2:
		return dup2((int)a[0], (int)a[1]);
	case SYS_dup3:
		return dup3((int)a[0], (int)a[1], (int)a[2]);
	}
	return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
