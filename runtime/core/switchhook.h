/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * switchhook.h — what AddressSanitizer and valgrind must be told about green
 * stacks, and nothing in a normal build.
 *
 * Both tools assume one stack per OS thread, and a green thread switch
 * moves the stack pointer to another mapping.
 *
 * ASan (GR_ASAN).  Under the shim, ASan's own per-thread state follows the
 * green thread, not the OS thread: ASan finds it with pthread_getspecific(),
 * which the shim answers per green thread, and learns its stack from
 * pthread_getattr_np(), which the shim answers with the green stack.  What
 * stays per OS thread is ASan's cache of the current fake stack (a TLS
 * variable) and the OS context's stack.  So, as State Threads and
 * Boost.Context do, __sanitizer_start_switch_fiber() goes just before each
 * switch and __sanitizer_finish_switch_fiber() first thing after it, on the
 * new stack; since the hub's current thread is already the one we switch
 * to when they run (switch_to sets h->cur first), both act on the incoming
 * thread's ASan state: they give it its stack bounds and its own fake stack
 * (saved in and restored from to->san_fake), and the OS-thread cache is
 * reset.  A thread ASan does not know (the hub, a thrd_create()d thread)
 * makes both calls no-ops.  A stack taken again from the cache is
 * unpoisoned: frames of the thread that last used it may never have
 * returned.
 *
 * valgrind (GR_VALGRIND): VALGRIND_STACK_REGISTER for every green stack
 * while it belongs to a thread, VALGRIND_STACK_DEREGISTER when it is given
 * back, so that a switch is not taken for a huge stack frame.
 *
 * `make asan` / `make valgrind` define the macros; otherwise every function
 * here is empty and compiled out.
 *
 * Call sites, one line each: gr_switch_prepare()/gr_switch_done() around
 * gr_switch() in sched.c's switch_to(), gr_switch_done() first in
 * gr_coro_start() (a new thread's first switch-in); gr_stack_registered()
 * in coro.c's thread_init(), gr_stack_gone() in gr_thread_free().
 */
#ifndef GR_SWITCHHOOK_H
#define GR_SWITCHHOOK_H

#include "green.h"

#ifdef GR_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

/* This OS thread's own stack, for a switch back to its OS context. */
static __thread void *gr_san_os_lo __attribute__((unused));
static __thread size_t gr_san_os_size __attribute__((unused));

static inline void gr_san_os_stack(const void **lo, size_t *size)
{
	if (gr_san_os_lo == NULL) {
		pthread_attr_t a;

		if (REAL(pthread_getattr_np)(REAL(pthread_self)(), &a) == 0) {
			pthread_attr_getstack(&a, &gr_san_os_lo,
					      &gr_san_os_size);
			pthread_attr_destroy(&a);
		}
	}
	*lo = gr_san_os_lo;
	*size = gr_san_os_size;
}
#endif

#ifdef GR_VALGRIND
#include <valgrind/valgrind.h>
#endif

/* Just before gr_switch(from -> to), with h->cur already `to`. */
static inline void gr_switch_prepare(struct gr_thread *from,
				     struct gr_thread *to)
{
#ifdef GR_ASAN
	const void *lo = to->stack_lo;
	size_t size = to->stack_size;

	if (to->os)
		gr_san_os_stack(&lo, &size);
	__sanitizer_start_switch_fiber(&to->san_fake, lo, size);
#else
	(void)to;
#endif
	(void)from;
}

/* First thing on `self`'s stack after a switch into it. */
static inline void gr_switch_done(struct gr_thread *self)
{
#ifdef GR_ASAN
	__sanitizer_finish_switch_fiber(self->san_fake, NULL, NULL);
#else
	(void)self;
#endif
}

/* A stack [t->stack_lo, +t->stack_size) now belongs to thread t. */
static inline void gr_stack_registered(struct gr_thread *t)
{
#ifdef GR_ASAN
	__asan_unpoison_memory_region(t->stack_lo, t->stack_size);
	t->san_fake = NULL;
#endif
#ifdef GR_VALGRIND
	t->san_vg_id =
	    VALGRIND_STACK_REGISTER(t->stack_lo, t->stack_lo + t->stack_size);
#endif
	(void)t;
}

/* Thread t's stack is given back (cache, munmap, or the program's own). */
static inline void gr_stack_gone(struct gr_thread *t)
{
#ifdef GR_VALGRIND
	if (t->stack_lo != NULL)
		VALGRIND_STACK_DEREGISTER(t->san_vg_id);
#endif
	(void)t;
}

#endif
