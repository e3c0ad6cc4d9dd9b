/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tls.c — a TLS block and thread control block per green thread.
 *
 * glibc lays a thread out as [static TLS | struct pthread] with the thread
 * pointer (%fs base) at the struct pthread (x86-64 is TLS_TCB_AT_TP): every
 * initial-exec and local-exec access is %fs minus a constant, the DTV hangs
 * off the TCB for general-dynamic accesses (__tls_get_addr), and the TCB's
 * first words are the header %fs:0x0..0x48 that compiled code reads
 * (self pointer, stack protector canary, pointer guard).  A green thread
 * gets the same: the block sits in the top of its own stack, just below
 * its gr_thread (coro.c carves it with gr_tls_carve), and ld.so's own
 * _dl_allocate_tls fills the DTV and copies every static module's initial
 * image in, exactly as for pthread_create.  The switch (sched.c) installs
 * the next thread's pointer with wrfsbase, or arch_prctl where the kernel
 * does not allow that.
 *
 * What glibc's start_thread would do is done here: header.self/tcb,
 * the stack and pointer guards copied from the creator (setjmp/longjmp
 * mangling must agree), multiple_threads, __libc_single_threaded cleared,
 * the list node self-linked (fork's reclaim_stacks unlinks the running
 * thread's), tid = the OS thread's (glibc's recursive locks, such as the
 * loader's, compare it; we never park holding one), the rseq area's cpu_id
 * set to "registration failed" so sched_getcpu() asks the kernel (only the
 * OS thread's own area is registered), __ctype_init() on the new thread.
 * At exit: __call_tls_dtors() (C++ thread_local), the key destructors
 * (sched.c), __libc_thread_freeres(); the block is given back with
 * _dl_deallocate_tls(tcb, false) when the stack is freed or cached.
 *
 * The hub coroutine and the OS thread's own context keep the OS thread's
 * original block (they share it, so sched.c still carries errno for them).
 * The shim's own __thread variables are per OS thread by meaning: each
 * green thread has a copy at the same offset from its thread pointer, set
 * from its hub at creation (gr_tls_hub, gr_tls_os) and otherwise zero;
 * the counters (no-park, in-signal, shim fd) never change while a switch
 * can happen.  docs/ARCHITECTURE.md ("TLS layout and the switch").
 *
 * Everything relied on is checked once, at the first green thread; if any
 * of it is off, one stderr line and the old shared TLS.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "green.h"
#include "switchhook.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* tcbhead_t words (sysdeps/x86_64/nptl/tls.h), ABI since the first NPTL:
 * GCC's stack protector reads %fs:0x28 itself. */
#define TCB_SELF			0x10
#define TCB_MULTIPLE			0x18
#define TCB_SYSINFO			0x20
#define TCB_STACK_GUARD			0x28
#define TCB_POINTER_GUARD		0x30
#define TCB_FEATURE_1			0x48
#define RSEQ_CPU_ID_REGISTRATION_FAILED (-2)

/* glibc's static TLS, bounded for sanity; libtsan alone brings 768 KiB
 * (its per-thread state), so a `make tsan` build allows more. */
#ifdef GR_TSAN
#define GR_TLS_STATIC_MAX (4 << 20)
#else
#define GR_TLS_STATIC_MAX (256 << 10)
#endif

struct gr_tls_state gr_tls GR_HIDDEN;

static void *(*dl_allocate_tls)(void *mem);
static void *(*dl_allocate_tls_init)(void *tcb, bool init_tls);
static void (*dl_deallocate_tls)(void *tcb, bool dealloc_tcb);
static void (*ctype_init)(void);
static void (*call_tls_dtors)(void);
static void (*thread_freeres)(void);
static char *single_threaded;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static inline char *fs_self(void)
{
	char *p;

	__asm__("movq %%fs:0, %0" : "=r"(p));
	return p;
}

static inline uint64_t fs_word(unsigned off)
{
	uint64_t v;

	__asm__("movq %%fs:(%1), %0" : "=r"(v) : "r"((uint64_t)off));
	return v;
}

/* A _thread_db_* descriptor: {bits, count, offset}. */
static bool thread_db_field(const char *name, uint32_t bits, uint32_t *off)
{
	const uint32_t *d = dlsym(RTLD_DEFAULT, name);

	if (d == NULL || d[0] != bits)
		return false;
	*off = d[2];
	return true;
}

static int find_self(struct dl_phdr_info *i, size_t size, void *arg)
{
	/* libgreen's own block: the module holding gr_tls_hub */
	for (int k = 0; k < i->dlpi_phnum; k++) {
		const ElfW(Phdr) *p = &i->dlpi_phdr[k];

		if (p->p_type == PT_TLS && i->dlpi_tls_data != NULL &&
		    (char *)&gr_tls_hub >= (char *)i->dlpi_tls_data &&
		    (char *)&gr_tls_hub <
			(char *)i->dlpi_tls_data + p->p_memsz) {
			*(bool *)arg = true;
			return 1;
		}
	}
	return 0;
}

static const char *check(void)
{
	const uint32_t *sizeof_pthread;
	char *tp = fs_self(), *base = NULL;
	const long *rseq_off;
	const unsigned *rseq_size;
	void (*static_info)(size_t *, size_t *);
	uint32_t list_off;
	bool mine = false;
	long r;

	if (gr_conf()->tls == GR_TLS_SHARED)
		return "GREEN_TLS=shared";
	dl_allocate_tls =
	    dlvsym(RTLD_DEFAULT, "_dl_allocate_tls", "GLIBC_PRIVATE");
	dl_deallocate_tls =
	    dlvsym(RTLD_DEFAULT, "_dl_deallocate_tls", "GLIBC_PRIVATE");
	dl_allocate_tls_init =
	    dlvsym(RTLD_DEFAULT, "_dl_allocate_tls_init", "GLIBC_PRIVATE");
	static_info =
	    dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE");
	thread_freeres =
	    dlvsym(RTLD_DEFAULT, "__libc_thread_freeres", "GLIBC_PRIVATE");
	ctype_init = dlsym(RTLD_DEFAULT, "__ctype_init");
	call_tls_dtors = dlsym(RTLD_DEFAULT, "__call_tls_dtors");
	single_threaded = dlsym(RTLD_DEFAULT, "__libc_single_threaded");
	sizeof_pthread = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
	if (!dl_allocate_tls || !dl_deallocate_tls || !dl_allocate_tls_init ||
	    !static_info || !ctype_init || !call_tls_dtors || !sizeof_pthread)
		return "ld.so or libc lacks _dl_allocate_tls(_init), "
		       "_dl_deallocate_tls, "
		       "_dl_get_tls_static_info, __ctype_init, "
		       "__call_tls_dtors "
		       "or _thread_db_sizeof_pthread";
	static_info(&gr_tls.static_size, &gr_tls.align);
	gr_tls.tcb_size = *sizeof_pthread;
	if (gr_tls.tcb_size < 0x100 || gr_tls.tcb_size > 16384 ||
	    gr_tls.static_size <= gr_tls.tcb_size ||
	    gr_tls.static_size > GR_TLS_STATIC_MAX || gr_tls.align < 16 ||
	    gr_tls.align > 4096 || (gr_tls.align & (gr_tls.align - 1)))
		return "unexpected static TLS size, alignment or TCB size";
	/* The thread pointer is the TCB, whose first word and self word
	 * point to itself (TLS_TCB_AT_TP). */
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_arch_prctl), "D"((long)ARCH_GET_FS),
			   "S"(&base)
			 : "rcx", "r11", "memory");
	if (r != 0 || base != tp || *(char **)(tp + TCB_SELF) != tp ||
	    ((uintptr_t)tp & (gr_tls.align - 1)))
		return "the thread pointer is not glibc's self-pointing TCB";
	if (!thread_db_field("_thread_db_pthread_tid", 32, &gr_tls.tid_off) ||
	    gr_tls.tid_off + 4 > gr_tls.tcb_size ||
	    *(pid_t *)(tp + gr_tls.tid_off) != gettid())
		return "struct pthread's tid is not where libc says";
	if (!thread_db_field("_thread_db_pthread_list", 128, &list_off) ||
	    list_off + 16 > gr_tls.tcb_size)
		return "struct pthread's list node is not where libc says";
	gr_tls.list_off = list_off;
	rseq_off = dlsym(RTLD_DEFAULT, "__rseq_offset");
	rseq_size = dlsym(RTLD_DEFAULT, "__rseq_size");
	gr_tls.rseq_cpu_off = -1;
	if (rseq_off != NULL && rseq_size != NULL) {
		if (*rseq_off <= 0 || *rseq_off + 8 > (long)gr_tls.tcb_size)
			return "the rseq area is not inside struct pthread";
		gr_tls.rseq_cpu_off = *rseq_off + 4; /* struct rseq's cpu_id */
	}
	/* libgreen's own variables: initial-exec, so at one offset from
	 * every thread pointer, inside the static block. */
	REAL(dl_iterate_phdr)(find_self, &mine);
	gr_tls.hub_off = (char *)&gr_tls_hub - tp;
	gr_tls.os_off = (char *)&gr_tls_os - tp;
	if (!mine || gr_tls.hub_off >= 0 || gr_tls.os_off >= 0 ||
	    -gr_tls.hub_off > (long)(gr_tls.static_size - gr_tls.tcb_size) ||
	    -gr_tls.os_off > (long)(gr_tls.static_size - gr_tls.tcb_size))
		return "libgreen's own TLS is not in the static block";
	gr_tls.fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) &&
			  gr_conf()->tls != GR_TLS_SYSCALL;
	return NULL;
}

#ifdef GR_TSAN
/* ThreadSanitizer's state of the running thread is a word in libtsan's
 * static TLS (its "current" pointer, which its fiber switch rewrites), so
 * each green thread's block has one: switchhook.h keeps it pointing at
 * the thread's own fiber.  Where the word lies is not public: it is the
 * word of the running OS thread's state that points at that state, found
 * once and checked by a fiber switch that must change it. */
static long tsan_cur_off; /* from the thread pointer */

static GR_NO_TSAN const char *tsan_find_current(void)
{
	char *tp = fs_self();
	void **me = __tsan_get_current_fiber(), *f;
	int k = 0;
	bool ok;

	if ((char *)me >= tp || (char *)me < tp - gr_tls.static_size)
		return "libtsan's thread state is not in the static TLS block";
	while (k < 64 && me[k] != me)
		k++;
	if (k == 64)
		return "no pointer to libtsan's own thread state in it";
	f = __tsan_create_fiber(0);
	__tsan_switch_to_fiber(f, __tsan_switch_to_fiber_no_sync);
	ok = me[k] == f;
	__tsan_switch_to_fiber(me, __tsan_switch_to_fiber_no_sync);
	__tsan_destroy_fiber(f);
	if (!ok || me[k] != me)
		return "libtsan's fiber switch does not change that pointer";
	tsan_cur_off = (char *)&me[k] - tp;
	return NULL;
}

/* Uninstrumented: libtsan's own word, not ours. */
GR_NO_TSAN void gr_tsan_set_current(void *tp, void *state)
{
	*(void **)((char *)tp + tsan_cur_off) = state;
}
#endif

static void init(void)
{
	const char *why = check();

#ifdef GR_TSAN
	if (why == NULL && (why = tsan_find_current()) != NULL)
		gr_die("make tsan: %s", why);
#endif

	if (why != NULL) {
		if (gr_conf()->tls != GR_TLS_SHARED)
			gr_warn(
			    "thread-local storage stays shared by the green "
			    "threads of an OS thread: %s",
			    why);
		return;
	}
	gr_tls.on = 1;
}

bool gr_tls_enabled(void)
{
	REAL(pthread_once)(&init_once, init);
	return gr_tls.on;
}

void *gr_tls_os_tp(void)
{
	return fs_self();
}

/* Room for the block below `top` (the thread object's address): returns
 * where the stack may start and sets *tcb. */
char *gr_tls_carve(char *top, void **tcb)
{
	uintptr_t t =
	    ((uintptr_t)top - gr_tls.tcb_size) & ~(uintptr_t)(gr_tls.align - 1);

	*tcb = (void *)t;
	return (char *)t - (gr_tls.static_size - gr_tls.tcb_size);
}

size_t gr_tls_space(void)
{
	return gr_tls.on ? gr_tls.static_size + gr_tls.align : 0;
}

/* Clear a TCB in pieces below glibc's rep-stosb threshold (2 KiB by
 * default): memset's vector loop clears glibc 2.36's 2,368 bytes in
 * 1 KiB pieces in 12-16 ns where one `rep stosb` takes 24-30 ns (AMD
 * EPYC VM, docs/bench/notes.md). */
static void *(*volatile memset_fn)(void *, int, size_t) = memset;

static void zero_tcb(char *tcb)
{
	size_t n = gr_tls.tcb_size, k;

	/* through a pointer: GCC, seeing k <= 1024, would inline a `rep
	 * stosq`, slower still (coro.c's thread_init says the same) */
	for (; n > 0; tcb += k, n -= k) {
		k = n < 1024 ? n : 1024;
		memset_fn(tcb, 0, k);
	}
}

/* A DTV entry (glibc's dtv_t): the TCB's dtv word points at entry 1;
 * entry -1 holds the length, entry 0 the generation. */
struct dtv_entry {
	void *val, *to_free;
};

int gr_tls_thread_init(struct gr_thread *t, struct gr_hub *h, int mem)
{
	char *tcb = t->tp;
	uint32_t feat;

	if (mem == GR_MEM_DTV) {
		/* The last thread's DTV: free its dynamic blocks and clear it,
		 * as glibc's get_cached_stack does, then the TCB around it. */
		struct dtv_entry *dtv = *(struct dtv_entry **)(tcb + 8);
		size_t n = *(size_t *)&dtv[-1];

		/* to_free is NULL for static modules and unused slots: most of
		 * the 16 or so, and free(NULL) is still a call */
		for (size_t i = 0; i < n; i++)
			if (dtv[1 + i].to_free != NULL)
				free(dtv[1 + i].to_free);
		memset(dtv, 0, (n + 1) * sizeof(*dtv));
		zero_tcb(tcb);
		*(struct dtv_entry **)(tcb + 8) = dtv;
		if (dl_allocate_tls_init(tcb, true) == NULL)
			return -ENOMEM;
	} else {
		if (mem != GR_MEM_ZERO)
			zero_tcb(tcb);
		if (dl_allocate_tls(tcb) == NULL)
			return -ENOMEM;
	}
	*(void **)tcb = tcb;
	*(void **)(tcb + TCB_SELF) = tcb;
	*(int *)(tcb + TCB_MULTIPLE) = 1;
	*(uint64_t *)(tcb + TCB_SYSINFO) = fs_word(TCB_SYSINFO);
	*(uint64_t *)(tcb + TCB_STACK_GUARD) = fs_word(TCB_STACK_GUARD);
	*(uint64_t *)(tcb + TCB_POINTER_GUARD) = fs_word(TCB_POINTER_GUARD);
	feat = (uint32_t)fs_word(TCB_FEATURE_1);
	*(uint32_t *)(tcb + TCB_FEATURE_1) = feat;
	*(pid_t *)(tcb + gr_tls.tid_off) = h->tid;
	((void **)(tcb + gr_tls.list_off))[0] = tcb + gr_tls.list_off;
	((void **)(tcb + gr_tls.list_off))[1] = tcb + gr_tls.list_off;
	if (gr_tls.rseq_cpu_off >= 0)
		*(int32_t *)(tcb + gr_tls.rseq_cpu_off) =
		    RSEQ_CPU_ID_REGISTRATION_FAILED;
	*(struct gr_hub **)(tcb + gr_tls.hub_off) = h;
	*(struct gr_thread **)(tcb + gr_tls.os_off) = h->os;
	if (single_threaded != NULL && *single_threaded)
		*single_threaded = 0;
	t->tls_own = 1;
	return 0;
}

/* First thing on the new thread, its own block installed. */
void gr_tls_thread_start(struct gr_thread *t)
{
	ctype_init();
}

/* On the exiting thread, before the key destructors: C++ thread_local
 * destructors (glibc keeps them in a TLS list). */
void gr_tls_thread_dtors(struct gr_thread *t)
{
	if (gr_tls.on && (t->tls_own || t->os))
		call_tls_dtors();
}

/* On the exiting thread, after the key destructors: what glibc frees per
 * thread (malloc's tcache and arena reference, dlerror, strsignal...). */
void gr_tls_thread_freeres(struct gr_thread *t)
{
	if (t->tls_own && thread_freeres != NULL)
		thread_freeres();
}

/* From any context but t's: the DTV and dynamic blocks go back. */
void gr_tls_thread_free(struct gr_thread *t)
{
	if (t->tls_own) {
		dl_deallocate_tls(t->tp, false);
		t->tls_own = 0;
	}
}

void gr_tls_set_tp_slow(void *tp)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_arch_prctl), "D"((long)ARCH_SET_FS),
			   "S"(tp)
			 : "rcx", "r11", "memory");
	if (r != 0)
		gr_die("arch_prctl(ARCH_SET_FS) failed: %ld", r);
}

long gr_tls_on_os(long (*fn)(void *), void *arg)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *t;
	long r;

	if (h == NULL || !(t = h->cur)->tls_own)
		return fn(arg);
	gr_san_tls_switch(t, h->os);
	gr_tls_set_tp(h->os->tp);
	gr_san_tls_switched(t, h->os);
	r = fn(arg);
	gr_san_tls_switch(h->os, t);
	gr_tls_set_tp(t->tp);
	gr_san_tls_switched(h->os, t);
	return r;
}

/* ---- dlopen of a module with static TLS ----------------------------- */

/* A module dlopen()ed while green threads live and whose TLS is static
 * (initial-exec users: it takes glibc's surplus at load time) is
 * initialised by glibc only in the threads on its own lists; copy its
 * image into every green thread of this hub.  Dynamic TLS needs nothing:
 * __tls_get_addr makes each thread's copy on first use.  The modules are
 * told apart by their module ids before and after the dlopen. */
struct tls_index {
	unsigned long module, offset;
};
static void *(*tls_get_addr)(struct tls_index *);

struct mod_scan {
	struct gr_tls_snap *snap;
	bool after;
	char *tp;
};

static bool static_tls_flag(struct dl_phdr_info *i)
{
	for (int k = 0; k < i->dlpi_phnum; k++) {
		const ElfW(Dyn) * d;

		if (i->dlpi_phdr[k].p_type != PT_DYNAMIC)
			continue;
		d = (const ElfW(Dyn) *)(i->dlpi_addr + i->dlpi_phdr[k].p_vaddr);
		for (; d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_FLAGS)
				return (d->d_un.d_val & DF_STATIC_TLS) != 0;
	}
	return false;
}

/* A module's initial TLS image, into one green thread's block. */
struct image_copy {
	const void *image;
	size_t filesz, memsz;
	long off;
};

static bool copy_image(struct gr_hub *h, struct gr_thread *t, void *arg)
{
	struct image_copy *c = arg;
	char *dest;

	if (!t->tls_own)
		return true;
	dest = (char *)t->tp - c->off;
	memcpy(dest, c->image, c->filesz);
	memset(dest + c->filesz, 0, c->memsz - c->filesz);
	return true;
}

static void copy_static(struct dl_phdr_info *i, const ElfW(Phdr) * p, char *tp)
{
	struct gr_hub *h = gr_tls_hub;
	char *data = i->dlpi_tls_data;
	const char *image = (const char *)(i->dlpi_addr + p->p_vaddr);
	size_t room = gr_tls.static_size - gr_tls.tcb_size;
	long off;

	if (data == NULL) {
		/* Not yet reached from this thread: ask __tls_get_addr,
		 * which answers the static block for a static module, but
		 * only for one that says it needs static TLS (asking about
		 * a dynamic one would allocate its block here). */
		struct tls_index ti = {i->dlpi_tls_modid, 0};

		if (!static_tls_flag(i))
			return;

		if (tls_get_addr == NULL)
			tls_get_addr = dlsym(RTLD_DEFAULT, "__tls_get_addr");
		if (tls_get_addr == NULL)
			return;
		data = tls_get_addr(&ti);
	}
	off = tp - data;
	if (data == NULL || off <= 0 || (size_t)off > room ||
	    p->p_memsz > (size_t)off || p->p_filesz > p->p_memsz)
		return; /* dynamic TLS: nothing to do */
	{
		struct image_copy c = {image, p->p_filesz, p->p_memsz, off};

		if (gr_multi()) /* every hub's threads, under their locks */
			gr_hubs_each(copy_image, &c);
		else
			for (struct gr_thread *t = h->all; t != NULL;
			     t = t->all_next)
				copy_image(h, t, &c);
	}
}

static int scan_mod(struct dl_phdr_info *i, size_t size, void *arg)
{
	struct mod_scan *m = arg;
	size_t id = i->dlpi_tls_modid;

	if (id == 0 || id >= GR_TLS_SNAP_MODS)
		return 0;
	if (!m->after) {
		m->snap->had[id / 64] |= 1ULL << (id % 64);
		return 0;
	}
	if (m->snap->had[id / 64] & (1ULL << (id % 64)))
		return 0;
	for (int k = 0; k < i->dlpi_phnum; k++)
		if (i->dlpi_phdr[k].p_type == PT_TLS)
			copy_static(i, &i->dlpi_phdr[k], m->tp);
	return 0;
}

bool gr_tls_dlopen_begin(struct gr_tls_snap *s)
{
	struct gr_hub *h = gr_tls_hub;
	struct mod_scan m = {s, false, NULL};

	if (!gr_tls.on || h == NULL || (h->all == NULL && !gr_multi()))
		return false;
	if (gr_multi())
		gr_hubs_hold(); /* every thread in some hub's list */
	memset(s, 0, sizeof(*s));
	REAL(dl_iterate_phdr)(scan_mod, &m);
	return true;
}

void gr_tls_dlopen_end(struct gr_tls_snap *s)
{
	struct mod_scan m = {s, true, fs_self()};

	REAL(dl_iterate_phdr)(scan_mod, &m);
	if (gr_multi())
		gr_hubs_release();
}
