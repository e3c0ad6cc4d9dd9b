/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * real.c — the table of next-in-chain libc functions.
 *
 * Each slot is resolved on first use with dlsym(RTLD_NEXT), so a process that
 * never calls a wrapped function pays nothing at start-up.  Resolution is
 * idempotent: two OS threads racing store the same pointer.  Not
 * instrumented by `make tsan`: libtsan's start-up reaches it (GR_NO_TSAN).
 */
#include <dlfcn.h>
#include "green.h"

struct gr_real gr_real_fn;

GR_NO_TSAN void *gr_real_resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL)
		gr_die("cannot find the libc function %s: %s", name, dlerror());
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}
