/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.c — abort() and assert(): under GREEN_SCHED=random|pct the seed
 * of the schedule is printed first, so that the failure can be replayed
 * (runtime/core/schedpolicy.c).  Under fifo they are libc's.
 */
#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include "green.h"

GR_EXPORT void abort(void)
{
	gr_policy_fatal(SIGABRT);
	REAL(abort)();
	__builtin_unreachable();
}

GR_EXPORT void __assert_fail(const char *expr, const char *file, unsigned line,
			     const char *fn)
{
	gr_policy_fatal(SIGABRT);
	REAL(__assert_fail)(expr, file, line, fn);
	__builtin_unreachable();
}
