/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coro.c — green thread objects and their stacks.
 *
 * A stack is reserved, never committed: pages appear as the thread touches
 * them.  The thread object lives at the top of its own stack, so a parked
 * thread that used little stack costs one page.  Stacks come from slabs (one
 * mmap for many stacks: one mapping, not one per thread, since
 * vm.max_map_count counts mappings) with a guard below each, installed with
 * MADV_GUARD_INSTALL where the kernel has it (no extra mapping) and with
 * mprotect otherwise.  Freed stacks go to a cache per (size, guard) class;
 * past GR_HOT_STACKS of them, a freed stack's memory is returned with
 * MADV_DONTNEED before it is cached.
 *
 * Called by sched.c only.  Not thread-safe on its own: the cache is guarded
 * by a spin lock because several hubs (native mode) may create threads.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include "green.h"
#include "switchhook.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define GR_CLASSES	8
#define GR_HOT_STACKS	64
#define GR_SLAB_BYTES	(256UL << 20)
#define GR_THREAD_SPACE ((sizeof(struct gr_thread) + 63) & ~(size_t)63)

struct gr_slab {
	char *base;
	size_t len;
	struct gr_slab *next;
};

struct gr_stack_class {
	size_t size, guard;  /* usable bytes (incl. the thread), guard bytes */
	char **free;	     /* slot bases, LIFO */
	unsigned char *cold; /* GR_MEM_* of the slot's memory */
	size_t nfree, cap, nhot;
	char *carve, *carve_end; /* the slab being cut into slots */
	struct gr_slab *slabs;
};

static struct gr_stack_class classes[GR_CLASSES];
static void *(*volatile memset_fn)(void *, int, size_t) = memset;
static atomic_flag cache_lock = ATOMIC_FLAG_INIT;
static int guard_by_mprotect; /* the kernel has no MADV_GUARD_INSTALL */
static size_t page_size;

static void lock_cache(void)
{
	gr_spin_acquire(&cache_lock);
}

static void unlock_cache(void)
{
	gr_spin_release(&cache_lock);
}

/* The default stack size (GREEN_STACK_SIZE, or glibc's: the default
 * attribute, else RLIMIT_STACK) and guard, worked out once.  eff_size is
 * published after dflt_guard: hubs of native mode may ask at once, and
 * all compute the same. */
static size_t dflt_guard, eff_size;

static __attribute__((noinline)) void stack_limits_first(void)
{
	pthread_attr_t a;
	size_t s = 0, gs = 0;

	page_size = sysconf(_SC_PAGESIZE);
	if (pthread_getattr_default_np(&a) == 0) {
		pthread_attr_getstacksize(&a, &s);
		pthread_attr_getguardsize(&a, &gs);
		pthread_attr_destroy(&a);
	}
	if (s == 0) {
		struct rlimit rl;
		s = 8UL << 20;
		if (getrlimit(RLIMIT_STACK, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= 16384)
			s = rl.rlim_cur;
	}
	dflt_guard = gs ? gs : page_size;
	__atomic_store_n(&eff_size,
			 gr_conf()->stack_size ? gr_conf()->stack_size : s,
			 __ATOMIC_RELEASE);
}

/* Every create asks, twice: the answer after the first is two loads (the
 * first in a function of its own, so this one needs no stack frame). */
void gr_stack_limits(size_t *dflt, size_t *guard)
{
	size_t e = __atomic_load_n(&eff_size, __ATOMIC_ACQUIRE);

	if (unlikely(e == 0)) {
		stack_limits_first();
		e = eff_size;
	}
	*dflt = e;
	*guard = dflt_guard;
}

static size_t round_page(size_t n)
{
	return (n + page_size - 1) & ~(page_size - 1);
}

/* Guard the lowest `guard` bytes of a slot.  Returns false if it cannot. */
static bool guard_install(char *slot, size_t guard)
{
	if (guard == 0)
		return true;
	if (!guard_by_mprotect) {
		if (madvise(slot, guard, MADV_GUARD_INSTALL) == 0)
			return true;
		if (errno != EINVAL)
			return false;
		guard_by_mprotect = 1;
	}
	return mprotect(slot, guard, PROT_NONE) == 0;
}

static struct gr_stack_class *class_for(size_t size, size_t guard)
{
	struct gr_stack_class *c;

	for (c = classes; c < classes + GR_CLASSES; c++) {
		if (c->size == size && c->guard == guard)
			return c;
		if (c->size == 0) {
			c->size = size;
			c->guard = guard;
			return c;
		}
	}
	return NULL; /* too many distinct sizes: map this one alone */
}

/* A new slot from the class's slab, or a fresh slab.  Cache lock held. */
static char *slot_carve(struct gr_stack_class *c)
{
	size_t slot = c->size + c->guard;
	char *p;

	if (c->carve == NULL || c->carve + slot > c->carve_end) {
		size_t n = GR_SLAB_BYTES / slot, len;
		struct gr_slab *s;

		if (n < 4)
			n = 4;
		if (n > 4096)
			n = 4096;
		len = n * slot;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			     MAP_STACK,
			 -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		s = gr_malloc(sizeof(*s));
		if (s == NULL) {
			munmap(p, len);
			return NULL;
		}
		s->base = p;
		s->len = len;
		s->next = c->slabs;
		c->slabs = s;
		c->carve = p;
		c->carve_end = p + len;
	}
	p = c->carve;
	if (!guard_install(p, c->guard))
		return NULL;
	c->carve += slot;
	GR_STAT_ADD(GR_ST_STACKS_PEAK, 1);
	GR_STAT_ADD(GR_ST_STACK_BYTES, c->size);
	return p;
}

static int slot_cache_push(struct gr_stack_class *c, char *slot, int mem)
{
	if (c->nfree == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **f = gr_realloc(c->free, cap * sizeof(*f));
		unsigned char *k;

		if (f == NULL)
			return -1;
		c->free = f;
		k = gr_realloc(c->cold, cap);
		if (k == NULL)
			return -1;
		c->cold = k;
		c->cap = cap;
	}
	c->free[c->nfree] = slot;
	c->cold[c->nfree] = mem;
	c->nfree++;
	if (mem != GR_MEM_ZERO)
		c->nhot++;
	return 0;
}

/* Lay out a fresh thread at the top of [lo, lo+size) with a first frame that
 * returns into gr_coro_trampoline.  With tls, the TLS block and TCB go
 * between the thread object and the first frame (tls.c fills them). */
static struct gr_thread *thread_init(char *lo, size_t size, bool tls)
{
	char *top = lo + size, *sp;
	struct gr_thread *t = (struct gr_thread *)(top - GR_THREAD_SPACE);
	void *tcb = NULL;
	uint64_t *f;
	uint32_t mx;
	uint16_t cw;

	t = (struct gr_thread *)((uintptr_t)t & ~(uintptr_t)63);
	sp = (char *)t;
	if (tls)
		sp = gr_tls_carve(sp, &tcb);
	sp = (char *)((uintptr_t)sp & ~(uintptr_t)15);
	/* libc's vector memset: GCC would inline a `rep stosq`, three times
	 * slower for this size on the machines measured (27 vs 6 ns). */
	memset_fn(t, 0, sizeof(*t));
	t->tp = tcb;
	t->magic = GR_MAGIC;
	t->stack_lo = lo;
	t->stack_size = size; /* as glibc reports it: the thread's room too */
	t->heap_idx = -1;
	gr_stack_registered(t);
	/* The new thread starts with its creator's floating-point control
	 * state, as POSIX asks of thread creation. */
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	f = (uint64_t *)(sp - 24);
	f[0] = (uint64_t)gr_coro_trampoline;
	f[-1] = 0;	     /* rbp */
	f[-2] = (uint64_t)t; /* rbx: the thread, for the trampoline */
	f[-3] = f[-4] = f[-5] = f[-6] = 0; /* r12..r15 */
	f[-7] = (uint64_t)mx | ((uint64_t)cw << 32);
	t->sp = &f[-7];
	return t;
}

struct gr_thread *gr_thread_new(size_t stack, size_t guard, void *user_stack,
				size_t user_size, bool tls, int *mem)
{
	struct gr_stack_class *c;
	struct gr_thread *t;
	char *slot = NULL;
	size_t dflt, dguard, tspace = tls ? gr_tls_space() : 0;

	gr_stack_limits(&dflt, &dguard);
	*mem = GR_MEM_DIRTY;
	if (user_stack != NULL) {
		if (user_size < GR_THREAD_SPACE + tspace + 4096)
			return NULL;
		t = thread_init(user_stack, user_size, tls);
		t->stack_class = -1;
		return t;
	}
	stack = round_page(stack ? stack : dflt);
	guard = round_page(guard);
	if (stack < GR_THREAD_SPACE + tspace + page_size ||
	    stack + guard < stack)
		return NULL;
	lock_cache();
	c = class_for(stack, guard);
	if (c != NULL && c->nfree > 0) {
		c->nfree--;
		slot = c->free[c->nfree];
		*mem = c->cold[c->nfree];
		if (*mem != GR_MEM_ZERO)
			c->nhot--;
	} else if (c != NULL) {
		slot = slot_carve(c);
		*mem = GR_MEM_ZERO;
	}
	unlock_cache();
	if (c == NULL) {
		slot = mmap(NULL, stack + guard, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
				MAP_STACK,
			    -1, 0);
		if (slot == MAP_FAILED)
			return NULL;
		if (!guard_install(slot, guard)) {
			munmap(slot, stack + guard);
			return NULL;
		}
		GR_STAT_ADD(GR_ST_STACKS_PEAK, 1);
		GR_STAT_ADD(GR_ST_STACK_BYTES, stack);
		*mem = GR_MEM_ZERO;
	}
	if (slot == NULL)
		return NULL;
	t = thread_init(slot + guard, stack, tls);
	t->guard_size = guard;
	t->stack_class = c ? (int)(c - classes) : -2;
	return t;
}

/* Give a finished thread's stack back.  Never called on that stack. */
void gr_thread_free(struct gr_thread *t)
{
	struct gr_stack_class *c;
	char *lo = t->stack_lo, *slot;
	size_t size;
	int mem = GR_MEM_DIRTY;

	gr_stack_gone(t);
	t->magic = 0;
	if (t->stack_class == -1) { /* the program's own stack */
		gr_tls_thread_free(t);
		return;
	}
	slot = lo - t->guard_size;
	size = round_page(t->stack_size);
	if (t->stack_class == -2) {
		gr_tls_thread_free(t);
		munmap(slot, t->guard_size + size);
		return;
	}
	c = &classes[t->stack_class];
	if (__atomic_load_n(&c->nhot, __ATOMIC_RELAXED) >= GR_HOT_STACKS) {
		/* Return the memory; keep the address range and the guard. */
		gr_tls_thread_free(t);
		madvise(lo, c->size, MADV_DONTNEED);
		mem = GR_MEM_ZERO;
	} else if (t->tls_own) {
		/* A hot stack keeps its DTV for the next thread, as glibc's
		 * stack cache does: no free and calloc per thread. */
		mem = GR_MEM_DTV;
	}
	lock_cache();
	if (slot_cache_push(c, slot, mem) != 0) {
		gr_tls_thread_free(t);
		munmap(slot, c->size + c->guard); /* no room: drop it */
	}
	unlock_cache();
}

/* Which parked-or-running thread's guard holds `addr`?  For the overflow
 * report: the hub's current thread is the usual answer. */
int gr_stack_fault_owner(void *addr, struct gr_thread **out)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *t;
	char *a = addr;

	if (h == NULL)
		return 0;
	t = h->cur;
	if (t && !t->os && a >= t->stack_lo - t->guard_size - 65536 &&
	    a < t->stack_lo) {
		*out = t;
		return 1;
	}
	return 0;
}
