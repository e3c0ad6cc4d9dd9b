/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * preempt.c — time slices: a green thread that computes for longer than
 * GREEN_PREEMPT_MS while other green threads of its hub could run is
 * preempted, at a safe point only, as Go (1.14) preempts goroutines.
 *
 * The tick.  Each hub has a POSIX timer on its OS thread's CPU-time clock
 * (CLOCK_THREAD_CPUTIME_ID), SIGEV_THREAD_ID at that OS thread, firing
 * every half slice on a real-time signal of ours (SIGRTMAX-2 unless
 * GREEN_PREEMPT_SIG says otherwise; the watchdog has SIGRTMAX-1).  CPU
 * time, not wall time: a hub that waits in epoll_wait, or an OS thread the
 * kernel has descheduled, gets no ticks, so idle costs nothing.  The timer
 * is made and armed when a hub first has two live threads and disarmed by
 * the handler when it finds one alone.
 *
 * The handler switches nothing.  A thread that has run for two ticks
 * without a switch (one slice to one and a half) is preempted if the
 * interrupted point is safe: not on the hub, in a signal handler, on an
 * alternate signal stack, in a no-park region, between flockfile and
 * funlockfile, right after a syscall instruction (a restart would use the
 * OS thread's restart block), near the end of its stack, or with its PC in
 * libc, ld.so, libgreen (libev and c-ares are inside it), libgcc_s,
 * libstdc++, the library that provides malloc, or glibc's other libraries
 * — code that may hold a lock, a per-thread cache or a FILE of the OS
 * thread (text ranges from dl_iterate_phdr, computed once and after each
 * dlopen/dlclose).  The program's own code and other libraries (libm,
 * libcrypto, the vDSO, extension modules) are safe.  libstdc++ is counted
 * unsafe to be conservative: most of it holds no OS-thread lock, but its
 * locale and iostream internals do, and the templates a C++ program uses
 * are instantiated in the program's own text anyway.
 * An unsafe point is counted "deferred" and retried at the next tick, and
 * the thread is preempted at its next entry into a shim wrapper that may
 * park (GR_CALL) if that comes first.
 *
 * The redirect.  The handler rewrites the interrupted context: below the
 * 128-byte red zone it pushes the interrupted PC, as if a call had been
 * made, and sets the PC to gr_preempt_tramp (arch/x86_64/preempt.S), which
 * on sigreturn saves the general registers, flags and the whole extended
 * state (xsave, its size from CPUID leaf 0xD; fxsave without XSAVE), calls
 * gr_preempt_run, restores everything and returns to the interrupted PC
 * with the stack pointer as it was.
 *
 * The signal is the program's as natively: sigaction() reports SIG_DFL
 * for it, masks never block it in the kernel (signal.c leaves it out of
 * the OS mask), and a program that installs a handler for it gets it:
 * preemption moves to another free real-time signal, or ends with one
 * line on stderr when none is free.  The shim's own threads block it; the
 * timer targets hub threads only.  fork: the child has no timer until it
 * has two threads.  execve: the timer is deleted and a pending tick taken
 * before the new image starts (its handlers become SIG_DFL: a tick would
 * kill it).
 */
#include <cpuid.h>
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "green.h"

void gr_preempt_tramp(void) GR_HIDDEN;	     /* preempt.S */
void gr_preempt_run(void) GR_HIDDEN;	     /* called by it */
uint32_t gr_xsave_size GR_HIDDEN = 512 + 64; /* read by preempt.S */
uint8_t gr_xsave_ok GR_HIDDEN;		     /* 0: fxsave */
uint64_t gr_preempt_mask;

/* Why a point was not safe; counted for GREEN_STATS, named by the
 * watchdog. */
enum {
	W_LIBC,
	W_LDSO,
	W_SELF,
	W_UNWIND,
	W_CXX,
	W_MALLOC,
	W_HANDLER,
	W_NOPARK,
	W_FLOCK,
	W_HUB,
	W_SYSCALL,
	W_STACK,
	W__COUNT
};
static const char *const why_short[W__COUNT] = {
    "libc",    "ld.so",	  "libgreen",  "libgcc_s", "libstdc++", "malloc",
    "handler", "no-park", "flockfile", "hub",	   "syscall",	"stack",
};
static const char *const why_long[W__COUNT] = {
    "its PC was in libc",
    "its PC was in the dynamic loader",
    "its PC was in libgreen",
    "its PC was in libgcc_s (the unwinder)",
    "its PC was in libstdc++",
    "its PC was in the malloc library",
    "it was in a signal handler",
    "it was in a no-park region (NSS, dlopen)",
    "it held a FILE lock (flockfile)",
    "the hub was running",
    "it was at a system call",
    "its stack was nearly full",
};
static _Atomic uint64_t n_deferred[W__COUNT];
static _Atomic uint64_t n_tick, n_call, n_off;

/* ---- text ranges ------------------------------------------------------ */

struct range {
	uintptr_t lo, hi;
	int why;
};
struct ranges {
	int n;
	struct range r[];
};
static struct ranges *_Atomic cur_ranges;

struct scan {
	struct ranges *out;
	int cap;
	uintptr_t self, mallocp, mallocp2;
	int seen; /* objects so far: the first is the program */
};

static int classify(const char *path, uintptr_t lo, uintptr_t hi,
		    const struct scan *s)
{
	const char *b = strrchr(path, '/');
	static const struct {
		const char *prefix;
		int why;
	} names[] = {
	    {"libc.so", W_LIBC},
	    {"ld-linux", W_LDSO},
	    {"ld64.so", W_LDSO},
	    {"libgcc_s.so", W_UNWIND},
	    {"libstdc++.so", W_CXX},
	    /* glibc's other libraries (stubs since 2.34, or NSS) */
	    {"libpthread.so", W_LIBC},
	    {"libdl.so", W_LIBC},
	    {"librt.so", W_LIBC},
	    {"libanl.so", W_LIBC},
	    {"libresolv.so", W_LIBC},
	    {"libnss_", W_LIBC},
	    {"libutil.so", W_LIBC},
	    {"libthread_db", W_LIBC},
	    {"libev.so", W_SELF},
	    {"libcares.so", W_SELF},
	};

	if (s->self >= lo && s->self < hi)
		return W_SELF;
	b = b ? b + 1 : path;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(b, names[i].prefix, strlen(names[i].prefix)) == 0)
			return names[i].why;
	if (s->seen > 1 && ((s->mallocp >= lo && s->mallocp < hi) ||
			    (s->mallocp2 >= lo && s->mallocp2 < hi)))
		return W_MALLOC;
	return -1;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int why;

	(void)size;
	s->seen++;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	why = classify(info->dlpi_name ? info->dlpi_name : "", lo, hi, s);
	if (why < 0 || s->out->n == s->cap)
		return 0;
	s->out->r[s->out->n++] = (struct range){lo, hi, why};
	return 0;
}

/* Old tables are never freed: a handler may be reading one (dlopen is
 * rare, a table is a few hundred bytes). */
static void ranges_compute(void)
{
	struct scan s = {.cap = 128};

	s.out = calloc(1, sizeof(struct ranges) + s.cap * sizeof(struct range));
	if (s.out == NULL)
		return;
	s.self = (uintptr_t)(void *)ranges_compute;
	/* The object that defines malloc: one preloaded before us or the
	 * first after us.  Never the program itself: a non-PIE program's PLT
	 * stub is malloc's address too (a program that defines malloc itself
	 * is not detected: docs). */
	s.mallocp = (uintptr_t)dlsym(RTLD_DEFAULT, "malloc");
	s.mallocp2 = (uintptr_t)dlsym(RTLD_NEXT, "malloc");
	REAL(dl_iterate_phdr)(scan_cb, &s);
	atomic_store_explicit(&cur_ranges, s.out, memory_order_release);
}

void gr_preempt_libs_changed(void)
{
	if (atomic_load_explicit(&cur_ranges, memory_order_relaxed) != NULL)
		ranges_compute();
}

/* ---- per hub ------------------------------------------------------------- */

struct pstate {
	struct gr_hub *h;
	int timer; /* kernel timer id, -1: none */
	int sig;   /* the signal it was made with */
	int armed;
	unsigned ticks;	  /* ticks since the last switch */
	uint64_t last_sw; /* h->switches at the last tick */
	uint64_t due_sw;  /* h->switches when a preemption was deferred */
	int why;	  /* last deferral: W_* + 1, 0: none */
	uint64_t why_sw;
	struct pstate *next;
};
static struct pstate *all_states; /* every hub's, under state_lock */
static atomic_flag state_lock = ATOMIC_FLAG_INIT;
static int psig;	       /* 0: preemption is off */
static _Atomic int init_state; /* 0 not yet, 1 done */

static void lock(void)
{
	gr_spin_acquire(&state_lock);
}

static void unlock(void)
{
	gr_spin_release(&state_lock);
}

static void arm(struct pstate *p, bool on)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (on) {
		int64_t ns = (int64_t)gr_cfg.preempt_ms * 1000000 / 2;

		its.it_value = its.it_interval = gr_ns_ts(ns);
	}
	if (p->timer >= 0)
		REAL(syscall)(SYS_timer_settime, p->timer, 0, &its, NULL);
	p->armed = on;
}

static void timer_drop(struct pstate *p)
{
	if (p->timer >= 0)
		REAL(syscall)(SYS_timer_delete, p->timer);
	p->timer = -1;
	p->armed = 0;
}

/* Take a tick of `sig` pending on this OS thread, so it cannot reach a
 * handler that is no longer ours. */
static void drain(int sig)
{
	sigset_t one, old;
	struct timespec zero = {0, 0};

	sigemptyset(&one);
	sigaddset(&one, sig);
	REAL(pthread_sigmask)(SIG_BLOCK, &one, &old);
	while (REAL(sigtimedwait)(&one, NULL, &zero) == sig)
		;
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* Make and arm h's timer (on h's own OS thread). */
static void timer_make(struct gr_hub *h, struct pstate *p)
{
	struct sigevent sev;
	sigset_t one;
	int id;

	if (p->timer >= 0 && p->sig != psig)
		timer_drop(p);
	if (p->timer < 0) {
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = psig;
		sev.sigev_value.sival_ptr = p;
		sev._sigev_un._tid = h->tid;
		if (REAL(syscall)(SYS_timer_create, CLOCK_THREAD_CPUTIME_ID,
				  &sev, &id) != 0)
			return;
		p->timer = id;
		p->sig = psig;
	}
	/* signal.c never blocks it in the kernel; it may have been blocked
	 * before this hub existed, or by a fork child's mask. */
	sigemptyset(&one);
	sigaddset(&one, psig);
	REAL(pthread_sigmask)(SIG_UNBLOCK, &one, NULL);
	p->last_sw = h->switches;
	p->ticks = 0;
	arm(p, true);
}

/* ---- the handler ----------------------------------------------------------
 */

#define STACK_ROOM (24 << 10) /* the trampoline, xsave and the yield */

static int unsafe(struct gr_hub *h, const ucontext_t *uc)
{
	struct gr_thread *t = h->cur;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	const struct ranges *r;

	if (t == h->hub)
		return W_HUB;
	if (gr_tls_insignal || (uc->uc_stack.ss_flags & SS_ONSTACK))
		return W_HANDLER;
	if (gr_tls_nopark)
		return W_NOPARK;
	if (t->flocks)
		return W_FLOCK;
	r = atomic_load_explicit(&cur_ranges, memory_order_acquire);
	for (int i = 0; r != NULL && i < r->n; i++)
		if (pc >= r->r[i].lo && pc < r->r[i].hi)
			return r->r[i].why;
	if (!t->os && t->stack_lo != NULL &&
	    sp < (uintptr_t)t->stack_lo + STACK_ROOM)
		return W_STACK;
	/* Just after a syscall instruction: the kernel may have set up a
	 * restart (restart_syscall uses the OS thread's restart block). */
	if ((pc & 4095) >= 2 && ((const unsigned char *)pc)[-2] == 0x0f &&
	    ((const unsigned char *)pc)[-1] == 0x05)
		return W_SYSCALL;
	return -1;
}

/* A kill() or sigqueue() of our signal from outside: natively the
 * program's disposition is SIG_DFL, which ends the process. */
static void foreign(int sig)
{
	struct gr_hub *h = gr_tls_hub;
	struct sigaction dfl;
	sigset_t one;

	if (h != NULL && h->cur != NULL && sigismember(&h->cur->sigmask, sig))
		return; /* blocked by the program: dropped (docs) */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	REAL(pthread_sigmask)(SIG_UNBLOCK, &one, NULL);
	REAL(syscall)
	(SYS_tgkill, getpid(), (pid_t)REAL(syscall)(SYS_gettid), sig);
}

static void on_tick(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct gr_hub *h = gr_tls_hub;
	struct pstate *p;
	greg_t *g;
	uint64_t sw;
	uintptr_t sp;
	int e = errno, why;

	if (si == NULL || si->si_code != SI_TIMER || h == NULL ||
	    (p = h->preempt) == NULL || si->si_value.sival_ptr != p) {
		foreign(sig);
		goto out;
	}
	if (gr_tls_passthrough)
		goto out;
	if (h->nlive <= 1 && h->rq_head == NULL && h->pq_head == NULL) {
		arm(p, false); /* alone: no ticks until a second thread */
		goto out;
	}
	sw = h->switches;
	if (sw != p->last_sw) {
		p->last_sw = sw;
		p->ticks = 0;
		goto out;
	}
	if (++p->ticks < 2)
		goto out;
	why = unsafe(h, uc);
	if (why >= 0) {
		atomic_fetch_add_explicit(&n_deferred[why], 1,
					  memory_order_relaxed);
		p->why = why + 1;
		p->why_sw = sw;
		p->due_sw = sw;
		h->preempt_due = 1;
		goto out;
	}
	/* "Call" the trampoline from the interrupted point, below the red
	 * zone; it returns there with `ret $128`. */
	g = uc->uc_mcontext.gregs;
	sp = (uintptr_t)g[REG_RSP] - 128 - 8;
	*(uintptr_t *)sp = (uintptr_t)g[REG_RIP];
	g[REG_RSP] = (greg_t)sp;
	g[REG_RIP] = (greg_t)(uintptr_t)gr_preempt_tramp;
	p->ticks = 0;
	atomic_fetch_add_explicit(&n_tick, 1, memory_order_relaxed);
out:
	errno = e;
}

/* From the trampoline, on the preempted thread's stack, every register
 * of the interrupted code saved. */
void gr_preempt_run(void)
{
	gr_tls_hub->preempt_due = 0;
	gr_yield_preempted(true);
}

/* GR_CALL at a shim entry, after a deferral (green.h). */
void gr_preempt_at_call(struct gr_hub *h, bool outer)
{
	struct pstate *p = h->preempt;
	int spread = h->spread_asked ? gr_sched_spread(h, outer) : -1;

	if (spread > 0) /* it yielded, maybe to another hub: h is not ours */
		return;
	if (p == NULL || h->switches != p->due_sw) {
		/* it switched since: no preemption is due */
		h->preempt_due = spread == 0;
		return;
	}
	if (!gr_may_park() || h->cur->flocks)
		return;
	h->preempt_due = 0;
	atomic_fetch_add_explicit(&n_call, 1, memory_order_relaxed);
	gr_yield_preempted(false);
}

/* ---- set-up ------------------------------------------------------------- */

static bool sig_free(int s)
{
	struct sigaction sa;

	if (s == SIGRTMAX - 1) /* the watchdog's */
		return false;
	return REAL(sigaction)(s, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	       !(sa.sa_flags & SA_SIGINFO);
}

/* A free real-time signal, trying `first` first, then down from
 * SIGRTMAX-2; 0 if none. */
static int sig_pick(int first, int not )
{
	if (first != 0 && first != not &&sig_free(first))
		return first;
	for (int s = SIGRTMAX - 2; s >= SIGRTMIN; s--)
		if (s != not &&sig_free(s))
			return s;
	return 0;
}

static bool sig_install(int s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return REAL(sigaction)(s, &sa, NULL) == 0;
}

static void xsave_init(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) &&
	    __get_cpuid_max(0, NULL) >= 0xd) {
		__cpuid_count(0xd, 0, a, b, c, d);
		if (b >= 576) {
			gr_xsave_size = b + 64;
			gr_xsave_ok = 1;
		}
	}
}

static void init_once(void)
{
	int want = gr_cfg.preempt_sig ? gr_cfg.preempt_sig : SIGRTMAX - 2;

	xsave_init();
	ranges_compute();
	psig = sig_pick(want, 0);
	if (psig == 0 || !sig_install(psig)) {
		gr_warn(
		    "GREEN_PREEMPT_MS: no free real-time signal for the time "
		    "slice; preemption is off");
		psig = 0;
		return;
	}
	gr_preempt_mask = 1ULL << (psig - 1);
}

bool gr_preempt_is_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_tick;
}

/* A second live thread on h (sched.c, on h's OS thread). */
void gr_preempt_thread_new(struct gr_hub *h)
{
	struct pstate *p = h->preempt;

	if (likely(p != NULL && p->armed && p->sig == psig))
		return;
	if (gr_cfg.preempt_ms <= 0 || h->nlive <= 1 || gr_tls_passthrough)
		return;
	if (atomic_load(&init_state) == 0) {
		lock();
		if (atomic_load(&init_state) == 0) {
			init_once();
			atomic_store(&init_state, 1);
		}
		unlock();
	}
	if (psig == 0)
		return;
	if (p == NULL) {
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			return;
		p->h = h;
		p->timer = -1;
		lock();
		p->next = all_states;
		all_states = p;
		unlock();
		h->preempt = p;
	}
	timer_make(h, p);
}

void gr_preempt_after_fork(struct gr_hub *h)
{
	struct pstate *p = h ? h->preempt : NULL;

	atomic_flag_clear(&state_lock);
	all_states = p;
	if (p != NULL) {
		p->next = NULL;
		p->timer = -1; /* timers are not inherited */
		p->armed = 0;
		p->why = 0;
	}
}

/* execve: no tick may reach the new image (SIG_DFL there); if the exec
 * fails, the timer comes back. */
void gr_preempt_exec(bool before)
{
	struct gr_hub *h = gr_tls_hub;
	struct pstate *p = h ? h->preempt : NULL;

	if (p == NULL || psig == 0)
		return;
	if (before) {
		timer_drop(p);
		drain(psig);
	} else if (h->nlive > 1) {
		timer_make(h, p);
	}
}

bool gr_preempt_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	struct gr_hub *h = gr_tls_hub;
	struct sigaction dfl;
	int was = psig, now;

	if (sig != psig || psig == 0)
		return false;
	if (act == NULL) {
		if (old) {
			memset(old, 0, sizeof(*old));
			old->sa_handler = SIG_DFL;
		}
		return true;
	}
	/* The program takes it: move to another signal, or end. */
	lock();
	now = sig_pick(0, was);
	if (now != 0 && !sig_install(now))
		now = 0;
	for (struct pstate *p = all_states; p != NULL; p = p->next)
		timer_drop(p);
	psig = now;
	gr_preempt_mask = now ? 1ULL << (now - 1) : 0;
	unlock();
	drain(was);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(was, &dfl, NULL);
	if (now == 0) {
		atomic_fetch_add(&n_off, 1);
		gr_warn(
		    "the program uses signal %d, which time-slice preemption "
		    "used, and no other real-time signal is free: preemption "
		    "is off (GREEN_PREEMPT_SIG picks another)",
		    was);
	} else if (h != NULL && h->preempt != NULL && h->nlive > 1) {
		timer_make(h, h->preempt);
	}
	/* Other hubs make theirs again with their next thread. */
	return false;
}

const char *gr_preempt_why(struct gr_hub *h)
{
	struct pstate *p = h->preempt;

	if (psig == 0 || gr_cfg.preempt_ms <= 0 || p == NULL || p->why == 0 ||
	    p->why_sw != __atomic_load_n(&h->switches, __ATOMIC_RELAXED))
		return NULL;
	return why_long[p->why - 1];
}

void gr_preempt_stats(char *out, size_t len)
{
	uint64_t tot = 0;
	size_t o;

	for (int i = 0; i < W__COUNT; i++)
		tot += atomic_load(&n_deferred[i]);
	if (gr_cfg.preempt_ms <= 0) {
		snprintf(out, len,
			 "preemptions            off (GREEN_PREEMPT_MS=0)\n");
		return;
	}
	o = (size_t)snprintf(
	    out, len,
	    "preemptions            %llu (at a tick %llu, "
	    "at a shim call %llu; slice %d ms, signal %d)\n",
	    (unsigned long long)(atomic_load(&n_tick) + atomic_load(&n_call)),
	    (unsigned long long)atomic_load(&n_tick),
	    (unsigned long long)atomic_load(&n_call), gr_cfg.preempt_ms, psig);
	if (o >= len)
		return;
	o += (size_t)snprintf(out + o, len - o, "preemptions deferred   %llu",
			      (unsigned long long)tot);
	for (int i = 0, first = 1; i < W__COUNT && o < len; i++) {
		uint64_t n = atomic_load(&n_deferred[i]);

		if (n == 0)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s %llu",
				      first ? " (" : ", ", why_short[i],
				      (unsigned long long)n);
		first = 0;
	}
	if (o < len)
		snprintf(out + o, len - o, "%s\n", tot ? ")" : "");
}
