/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.c — the shim's own memory: glibc's allocator, never the program's.
 *
 * A program may bring its own malloc (redis links jemalloc; tcmalloc and
 * mimalloc are preloaded or linked).  That malloc calls pthread_mutex_lock,
 * pthread_once, pthread_key_create/getspecific/setspecific, sched_yield and
 * syscall(SYS_futex) while it initialises — all names the shim defines — so
 * anything the shim allocates on those paths (the OS thread's context in
 * gr_os_self, key blocks, wait-queue nodes...) must not call malloc: it
 * would re-enter an allocator that is half set up and holding its own
 * locks (redis-server died in an endless jemalloc → pthread_mutex_lock →
 * gr_os_self → calloc → jemalloc recursion).
 *
 * So every allocation the shim makes for itself goes to glibc's ptmalloc
 * through its real entry points __libc_malloc and friends, found in
 * libc.so.6 by their symbol version (tcmalloc and mimalloc export
 * unversioned __libc_malloc and friends too, which a plain dlsym would
 * return).  ptmalloc takes only its internal locks (not the
 * exported pthread ones), so it never comes back into the shim, and when
 * the program uses glibc's malloc it is the same heap as before.
 *
 * Memory handed to the program and freed by glibc or by the program stays
 * with the program's allocator: getaddrinfo's list and ai_canonname
 * (glibc's freeaddrinfo frees them), the buffer of getline(), FILEs from
 * fdopen/fopen (fclose frees them).  Those paths are not reachable from
 * inside a malloc.
 */
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <string.h>
#include "green.h"

static struct {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
} lc;

/* glibc's allocator's first version on this architecture. */
#if defined(__x86_64__)
#define LC_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define LC_VERSION "GLIBC_2.17"
#else
#error "name glibc's symbol version of __libc_malloc for this architecture"
#endif

#ifndef GR_TSAN
/* dlvsym asks for the exact version: a definition without one (those of
 * tcmalloc and mimalloc) does not match it, where dlsym would take it. */
static void *lc_sym(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, LC_VERSION);

	if (p == NULL)
		gr_die("cannot find %s@%s in " LIBC_SO, name, LC_VERSION);
	return p;
}

/* Idempotent: two OS threads racing store the same pointers.  A lookup
 * that succeeds allocates nothing (dlopen would, even with RTLD_NOLOAD:
 * it builds libc's search list). */
static void lc_resolve(void)
{
	__atomic_store_n(&lc.calloc, lc_sym("__libc_calloc"), __ATOMIC_RELAXED);
	__atomic_store_n(&lc.realloc, lc_sym("__libc_realloc"),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&lc.free, lc_sym("__libc_free"), __ATOMIC_RELAXED);
	__atomic_store_n(&lc.malloc, lc_sym("__libc_malloc"), __ATOMIC_RELEASE);
}
#else
/* `make tsan`: libtsan's malloc (the next one after us), so that TSan
 * knows when a block is freed and its address handed out again; behind
 * __libc_malloc it would take the new owner's first writes for races with
 * the old one's.  The test programs bring no allocator of their own. */
static void lc_resolve(void)
{
	__atomic_store_n(&lc.calloc, dlsym(RTLD_NEXT, "calloc"),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&lc.realloc, dlsym(RTLD_NEXT, "realloc"),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&lc.free, dlsym(RTLD_NEXT, "free"), __ATOMIC_RELAXED);
	__atomic_store_n(&lc.malloc, dlsym(RTLD_NEXT, "malloc"),
			 __ATOMIC_RELEASE);
}
#endif

static inline void lc_ready(void)
{
	if (unlikely(__atomic_load_n(&lc.malloc, __ATOMIC_ACQUIRE) == NULL))
		lc_resolve();
}

void *gr_malloc(size_t n)
{
	lc_ready();
	return lc.malloc(n);
}

void *gr_calloc(size_t n, size_t size)
{
	lc_ready();
	return lc.calloc(n, size);
}

void *gr_realloc(void *p, size_t n)
{
	lc_ready();
	return lc.realloc(p, n);
}

void gr_free(void *p)
{
	if (p == NULL)
		return;
	lc_ready();
	lc.free(p);
}

char *gr_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = gr_malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}
