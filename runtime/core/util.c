/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.c — what every module needs: dying loudly, warning once, clocks.
 *
 * Messages are formatted on the stack and written with one write(2) through
 * the real table, so they are safe on any green stack and never park.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include "green.h"

static void gr_vmsg(const char *fmt, va_list ap)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "libgreen: ");

	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!REAL(write)(2, buf, n);
}

void gr_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gr_vmsg(fmt, ap);
	va_end(ap);
	gr_policy_fatal(SIGABRT);
	REAL(abort)();
	__builtin_unreachable();
}

void gr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gr_vmsg(fmt, ap);
	va_end(ap);
}

/* The program's clock: virtual under GREEN_CLOCK=virtual (vclock.c). */
int64_t gr_now(void)
{
	struct timespec ts;

	REAL(clock_gettime)(CLOCK_MONOTONIC, &ts);
	if (unlikely(gr_vclock_on))
		return gr_ts_ns(&ts) +
		       atomic_load_explicit(gr_voffp, memory_order_relaxed);
	return gr_ts_ns(&ts);
}

int64_t gr_clock_ns(clockid_t c)
{
	struct timespec ts;

	if (gr_vclock_gettime(c, &ts) != 0)
		return -1;
	return gr_ts_ns(&ts);
}

/* The deadline is kept on CLOCK_MONOTONIC; a wake-up on another clock is
 * checked again against that clock by the caller (a clock may be set). */
int64_t gr_deadline_from_abs(clockid_t clock, const struct timespec *abs)
{
	int64_t now = gr_now(), other, left;

	if (clock == CLOCK_MONOTONIC)
		left = gr_ts_ns(abs) - now;
	else {
		other = gr_clock_ns(clock);
		left = gr_ts_ns(abs) - other;
	}
	if (left <= 0)
		return 1; /* already passed: a deadline in the past */
	return now + left;
}
