/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * green.h — the one internal header of libgreen, a section per module.
 *
 * Vocabulary (used everywhere): a green thread is *parked* when it waits and
 * *ready* when something hands it back to its hub's run queue.  The hub is a
 * coroutine per OS thread that owns a libev loop and runs when no green
 * thread can.  runtime/ never calls an interposed libc name directly: it goes
 * through gr_real (runtime/core/real.c), or it would re-enter the shim.
 *
 * Errors: runtime functions return 0 or -errno; only shim wrappers set errno,
 * as their last act (gr_ret()).
 */
#ifndef GREEN_H
#define GREEN_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cpu.h" /* arch/<arch>/: gr_cpu_relax() */

#define GR_HIDDEN __attribute__((visibility("hidden")))
#define GR_EXPORT __attribute__((visibility("default")))
/* Another public name glibc gives the same function (__read for read,
 * freopen64 for freopen...): tests/scripts/exports.sh derives the list
 * from libc's nm and fails on one the shim misses. */
#define GR_ALIAS(name, target)                                                 \
	extern __typeof__(target) name __attribute__((                         \
	    alias(#target), copy(target), visibility("default")))
/* `make tsan`: a function ThreadSanitizer's own start-up calls (through
 * our interposed names), before its shadow memory and thread state exist:
 * left uninstrumented, or its first access faults. */
#ifdef GR_TSAN
#define GR_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define GR_NO_TSAN
#endif
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* A broken invariant stops the program loudly; cheap enough to stay on. */
#define GR_ASSERT(c)                                                           \
	do {                                                                   \
		if (unlikely(!(c)))                                            \
			gr_die("%s:%d: invariant broken: %s", __FILE__,        \
			       __LINE__, #c);                                  \
	} while (0)

/* The one spin lock of the runtime, for short sections that never park
 * (run-queue hand-offs, wait-queue buckets, caches). */
static inline void gr_spin_acquire(atomic_flag *l)
{
	while (atomic_flag_test_and_set_explicit(l, memory_order_acquire))
		gr_cpu_relax();
}
static inline void gr_spin_release(atomic_flag *l)
{
	atomic_flag_clear_explicit(l, memory_order_release);
}

/* ===== real.c: the next-in-chain libc functions ===================== */

/* X(name, return type, parameter list) for every function we interpose and
 * must still call.  Each pointer is resolved on first use (dlsym RTLD_NEXT),
 * so a process pays only for the calls it makes. */
struct stat;
struct statx;
#include "real_list.h"

struct gr_real {
#define X(name, ret, params) ret(*name) params;
	GR_REAL_LIST
#undef X
};
extern struct gr_real gr_real_fn GR_HIDDEN;
void *gr_real_resolve(void **slot, const char *name) GR_HIDDEN;
#define REAL(name)                                                             \
	(likely(gr_real_fn.name != NULL)                                       \
	     ? gr_real_fn.name                                                 \
	     : (__typeof__(gr_real_fn.name))gr_real_resolve(                   \
		   (void **)&gr_real_fn.name, #name))

/* ===== util ========================================================== */

void gr_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2))) GR_HIDDEN;
void gr_warn(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))) GR_HIDDEN;
int64_t gr_now(void) GR_HIDDEN;		    /* CLOCK_MONOTONIC, ns */
int64_t gr_clock_ns(clockid_t c) GR_HIDDEN; /* any clock, ns; -1 on error */
static inline int64_t gr_ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}
static inline struct timespec gr_ns_ts(int64_t ns)
{
	struct timespec ts = {ns / 1000000000, ns % 1000000000};
	return ts;
}
/* Absolute deadline on `clock` → absolute CLOCK_MONOTONIC ns (0 if past). */
int64_t gr_deadline_from_abs(clockid_t clock,
			     const struct timespec *abs) GR_HIDDEN;

/* alloc.c: the shim's own memory, from glibc's allocator (__libc_malloc
 * and friends of libc.so.6 itself), never the program's malloc, which may
 * be the caller (jemalloc, tcmalloc... call our pthread names while they
 * initialise).  Memory glibc or the program frees (getaddrinfo lists,
 * getline buffers) uses the program's malloc instead. */
void *gr_malloc(size_t n) GR_HIDDEN;
void *gr_calloc(size_t n, size_t size) GR_HIDDEN;
void *gr_realloc(void *p, size_t n) GR_HIDDEN;
void gr_free(void *p) GR_HIDDEN;
char *gr_strdup(const char *s) GR_HIDDEN;

/* Shim wrappers end with this: set errno only on failure. */
static inline long gr_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Shim wrappers of pthread calls, which return the error number itself. */
static inline int gr_pret(long r)
{
	return (int)-r;
}

/* ===== vclock.c: GREEN_CLOCK=virtual (docs/testing.md) ================= */

struct gr_hub;
struct gr_thread;

/* One virtual clock per process: the real clock plus an offset that only
 * grows.  The hub jumps it to the earliest deadline when nothing else can
 * happen.  Deadlines in the timer heap are virtual CLOCK_MONOTONIC ns. */
extern int gr_vclock_on GR_HIDDEN; /* GREEN_CLOCK=virtual */
/* virtual - real, ns: in the tree's shared page (vtree.c) once attached */
extern _Atomic int64_t *gr_voffp GR_HIDDEN;
/* The wrappers' fast path: the real functions while the clock is real,
 * NULL under the virtual clock or before it is set up (shim/clock.c). */
struct gr_clock_fast {
	int (*gettime)(clockid_t, struct timespec *);
	int (*gettimeofday)(struct timeval *, void *);
	time_t (*time)(time_t *);
};
extern struct gr_clock_fast gr_clock_fast GR_HIDDEN;
void gr_vclock_init(void) GR_HIDDEN;
long gr_vclock_gettime(clockid_t c, struct timespec *ts) GR_HIDDEN;
int64_t gr_real_now(void) GR_HIDDEN; /* real CLOCK_MONOTONIC ns */
/* A virtual CLOCK_MONOTONIC instant → the real one (timerfd arming). */
static inline int64_t gr_vclock_real(int64_t at)
{
	if (likely(!gr_vclock_on))
		return at;
	return at - atomic_load_explicit(gr_voffp, memory_order_relaxed);
}
/* The hub is about to block with nothing to run: jump if it may.  True:
 * threads were readied (hub.c).  Parks counted by kind (sched.c). */
bool gr_vclock_idle(struct gr_hub *h) GR_HIDDEN;
void gr_vclock_park(int why, int n) GR_HIDDEN;
void gr_vclock_woke(void) GR_HIDDEN;	   /* the hub's idle wait ended */
void gr_vclock_pollchild(int n) GR_HIDDEN; /* a wait for any child */
/* signal.c: signals deferred by the dispatcher, and whether some wait
 * for the hub's intake (an idle hub with one is not idle). */
extern _Atomic unsigned gr_sig_deferred GR_HIDDEN;
bool gr_sig_hub_pending(struct gr_hub *h) GR_HIDDEN;
/* Another process of the tree moved the clock (hub.c's watcher on the
 * fd of gr_vtree_wakefd). */
void gr_vclock_wake(struct gr_hub *h) GR_HIDDEN;
/* Emulated timers (alarm, setitimer, timerfd) live in the timer heap as
 * entries that are not threads: magic GR_VTIMER_MAGIC. */
#define GR_VTIMER_MAGIC 0x72656d6974767267ULL /* "grvtimer" */
void gr_vtimer_fire(struct gr_hub *h, struct gr_thread *entry) GR_HIDDEN;
void gr_vtimer_fd_closed(int fd) GR_HIDDEN;
struct itimerval;
struct itimerspec;
long gr_vtimer_alarm(unsigned secs) GR_HIDDEN;
long gr_vtimer_setitimer(int which, const struct itimerval *nv,
			 struct itimerval *ov) GR_HIDDEN;
long gr_vtimer_getitimer(int which, struct itimerval *ov) GR_HIDDEN;
long gr_vtimerfd_create(int clock, int flags) GR_HIDDEN;
long gr_vtimerfd_settime(int fd, int flags, const struct itimerspec *nv,
			 struct itimerspec *ov) GR_HIDDEN;
long gr_vtimerfd_gettime(int fd, struct itimerspec *ov) GR_HIDDEN;
bool gr_vtimerfd_is(int fd) GR_HIDDEN;
struct vtimer; /* POSIX timers: timer_t values of ours */
struct sigevent;
struct vtimer *gr_vtimer_posix(timer_t id) GR_HIDDEN; /* NULL: libc's */
long gr_vtimer_create(clockid_t clock, struct sigevent *sev,
		      timer_t *id) GR_HIDDEN;
long gr_vtimer_settime(struct vtimer *v, int flags, const struct itimerspec *nv,
		       struct itimerspec *ov) GR_HIDDEN;
long gr_vtimer_gettime(struct vtimer *v, struct itimerspec *ov) GR_HIDDEN;
long gr_vtimer_delete(struct vtimer *v) GR_HIDDEN;
/* execve/posix_spawn with an explicit environment: the same array with
 * GREEN_CLOCK_OFFSET set to now (malloc'd; NULL: use envp as it is). */
char **gr_vclock_env(char *const envp[]) GR_HIDDEN;
void gr_vclock_after_fork(void) GR_HIDDEN;
/* The process tree's clock (vtree.c): a child made by fork or spawn
 * (pid > 0, in the parent; 0 in a child of fork), an exec to come. */
void gr_vclock_forked(pid_t pid) GR_HIDDEN;
void gr_vclock_exec(void) GR_HIDDEN;

/* ===== vtree.c: one virtual clock for a process tree =================== */

/* What an idle process waits on: GR_VT_POLLCHILD, any child (proc.c) */
enum { GR_VT_EXT = 1, GR_VT_SIG = 2, GR_VT_POLLCHILD = 4 };
_Atomic int64_t *gr_vtree_attach(int64_t off) GR_HIDDEN; /* the offset */
void gr_vtree_leave(void) GR_HIDDEN;	  /* under the shim, clock real */
const char *gr_vtree_env(void) GR_HIDDEN; /* "GREEN_CLOCK_TREE=...", NULL */
/* The hub has nothing to run: jump the tree's clock if every process is
 * idle; the offset after; *recheck: real ns to look again, 0 none. */
int64_t gr_vtree_idle(int64_t deadline, unsigned flags, int64_t ran,
		      int64_t *recheck, bool *kick) GR_HIDDEN;
void gr_vtree_busy(void) GR_HIDDEN;  /* the hub woke */
int gr_vtree_wakefd(void) GR_HIDDEN; /* hub.c watches it; -1 none */
void gr_vtree_drain(void) GR_HIDDEN; /* it was readable */
void gr_vtree_forked(pid_t pid) GR_HIDDEN;
void gr_vtree_exec(void) GR_HIDDEN;

/* ===== schedpolicy.c: GREEN_SCHED=fifo|random|pct (docs/testing.md) === */

enum { GR_SCHED_FIFO, GR_SCHED_RANDOM, GR_SCHED_PCT };
extern int gr_sched_mode GR_HIDDEN; /* GR_SCHED_*, read once at load */
struct gr_thread *gr_policy_pop(struct gr_hub *h) GR_HIDDEN; /* sched.c */
void gr_policy_point(void) GR_HIDDEN;	 /* a shim entry (GR_CALL) */
void gr_policy_fatal(int sig) GR_HIDDEN; /* print the seed: dying */

/* ===== config.c: GREEN_* variables ===================================== */

enum gr_threads_mode { GR_MODE_GREEN, GR_MODE_NATIVE };
struct gr_config {
	int loaded;
	enum gr_threads_mode threads;
	size_t stack_size; /* 0: as glibc picks it */
	unsigned backend;  /* libev EVBACKEND_* or 0 */
	int pool_size;
	int fileio;   /* GR_FILEIO_* */
	int resolver; /* GR_RES_* */
	const char *dns_servers;
	const char *stats; /* NULL, "1" or a path */
	int watchdog_ms;
	int deadlock;	   /* GR_DEADLOCK_* */
	int preempt_ms;	   /* time slice, 0: no preemption (preempt.c) */
	int spin_us;	   /* several hubs: an idle hub's spin (hub.c) */
	int preempt_sig;   /* its signal, 0: the default (SIGRTMAX-2) */
	int tls;	   /* GR_TLS_* */
	int clock;	   /* GR_CLOCK_* */
	int clock_idle_ms; /* GREEN_CLOCK_IDLE_MS */
	int hubs;	   /* GREEN_HUBS: hubs of green threads, 0: auto */
};
enum { GR_TLS_AUTO, GR_TLS_SYSCALL, GR_TLS_SHARED };
enum { GR_CLOCK_REAL, GR_CLOCK_VIRTUAL };
enum { GR_FILEIO_INLINE, GR_FILEIO_POOL, GR_FILEIO_NOWAIT };
enum { GR_RES_AUTO, GR_RES_ARES, GR_RES_THREAD, GR_RES_BLOCK };
enum { GR_DEADLOCK_REPORT, GR_DEADLOCK_ABORT, GR_DEADLOCK_IGNORE };
extern struct gr_config gr_cfg GR_HIDDEN;
void gr_config_load(void) GR_HIDDEN;
static inline const struct gr_config *gr_conf(void)
{
	if (unlikely(!gr_cfg.loaded))
		gr_config_load();
	return &gr_cfg;
}

/* ===== coro.c: green threads, stacks, context switch ================= */

#define GR_MAGIC 0x6e65657267726700ULL /* "\0grgreen" */

enum gr_state {
	GR_RUNNING,  /* on the CPU of its hub */
	GR_RUNNABLE, /* in a run queue (local or remote) */
	GR_PARKED,   /* waiting; only gr_ready() moves it on */
	GR_DONE,     /* returned or exited; waiting to be joined or freed */
};

/* Wait reasons: unique, shown by diagnostics, each with what it is:
 *  C  a cancellation point: pthread_cancel ends the park (-ECANCELED);
 *  E  a handled signal ends it (EINTR, or a restart: gr_intr);
 *  I  only another green thread of the process can end it (the deadlock
 *     report counts it as hopeless);
 *  M  its code keeps no hub pointer across the park, so a thread readied
 *     out of it may resume on another hub (sched.c, moving).
 * Locks are neither C nor E: POSIX says they are not cancellation points
 * and a handled signal only ever makes them wake spuriously. */
#define GR_WF_C 1 /* == GR_PF_CANCEL */
#define GR_WF_E 2 /* == GR_PF_EINTR */
#define GR_WF_I 4
#define GR_WF_M 8
/* clang-format off */
#define GR_WAIT_LIST \
	W(NONE, "running", 0) \
	W(YIELD, "yield", 0) \
	W(SLEEP, "sleep", GR_WF_C | GR_WF_E | GR_WF_M) \
	W(READ, "fd read", GR_WF_C | GR_WF_E | GR_WF_M) \
	W(WRITE, "fd write", GR_WF_C | GR_WF_E | GR_WF_M) \
	W(POLL, "poll", GR_WF_C | GR_WF_E | GR_WF_M) \
	W(MUTEX, "mutex", GR_WF_I | GR_WF_M) \
	W(COND, "condition variable", GR_WF_C | GR_WF_I | GR_WF_M) \
	W(RWLOCK, "rwlock", GR_WF_I | GR_WF_M) \
	W(SEM, "semaphore", GR_WF_C | GR_WF_E | GR_WF_I | GR_WF_M) \
	W(BARRIER, "barrier", GR_WF_I | GR_WF_M) \
	W(ONCE, "once", GR_WF_I | GR_WF_M) \
	W(JOIN, "join", GR_WF_C | GR_WF_I | GR_WF_M) \
	W(CHILD, "child", GR_WF_C | GR_WF_E) \
	W(SIGNAL, "signal", GR_WF_C | GR_WF_E) \
	W(DNS, "name lookup", GR_WF_C) \
	W(POOL, "worker pool", 0) \
	W(EXITED, "exited", 0) \
	W(SPIN, "spin lock", GR_WF_I) \
	W(FUTEX, "futex", GR_WF_M) \
	W(STDIO, "stdio stream", 0) \
	W(FDCLOSE, "fd close", 0)
/* clang-format on */
enum gr_wait {
#define W(n, s, f) GR_WAIT_##n,
	GR_WAIT_LIST
#undef W
	    GR_WAIT__COUNT
};
extern const unsigned char gr_wait_flags[] GR_HIDDEN; /* GR_WF_* */
extern const char *const gr_wait_name[] GR_HIDDEN;

struct gr_hub;
struct gr_thread {
	uint64_t magic; /* GR_MAGIC: a green pthread_t, not a real one */
	void *sp;	/* saved stack pointer while switched out */
	struct gr_hub *hub;
	_Atomic int state; /* enum gr_state */
	int err;	   /* errno of this green thread while switched out */
	unsigned char why; /* enum gr_wait while parked */
	unsigned char interruptible; /* a signal or cancel may end the park */
	unsigned char os; /* the OS thread's own context (its own stack) */
	unsigned char detached, joined, exiting;
	long wake;	      /* what the waker handed: 0 or -errno */
	const char *call;     /* the shim call it is in (GR_CALL), or NULL */
	const void *wait_obj; /* what it is parked on: lock, cond, thread... */
	struct gr_thread *rq_next; /* run queue / remote list link */
	struct gr_thread *all_next, *all_prev; /* hub's list of live threads */
	int64_t deadline;      /* CLOCK_MONOTONIC ns while in the timer heap */
	int heap_idx;	       /* -1 when not in the heap */
	int owner_id;	       /* mutex owner id: gettid() for os threads */
	void *tp;	       /* its thread pointer (%fs base): its own TCB, or
				* the OS thread's for the os context and hub */
	unsigned char tls_own; /* tp is a block of its own (tls.c) */
	void *(*fn)(void *);
	void *arg, *ret;
	struct gr_thread *joiner;
	/* stack: [stack_lo, stack_lo + stack_size), guard below stack_lo */
	char *stack_lo;
	size_t stack_size, guard_size;
	int stack_class; /* index into the stack cache, -1: not ours */
	/* cancellation (deferred only) */
	unsigned char cancel_disabled, cancel_async, cancel_pending;
	void *cleanup;	     /* __pthread_unwind_buf_t chain (C cleanups) */
	void **tsd;	     /* thread-specific data blocks, lazily made */
	sigset_t sigmask;    /* this green thread's signal mask */
	sigset_t sigpending; /* signals pthread_kill()ed at it, not yet run */
	/* signal.c: handlers to run as soon as it runs again (checked on
	 * every switch-in: one load), signals sent to it from a handler or
	 * another OS thread for its hub to sort, and its lazily made state. */
	_Atomic uint64_t sig_due;
	_Atomic uint64_t sig_inbox;
	/* of sig_inbox, those a pthread_kill() sent (their siginfo is the
	 * process's own SI_TKILL one, made by the hub, not kept per hub) */
	_Atomic uint64_t sig_tkill;
	void *sig;
	uint64_t seq;	   /* creation number */
	pthread_t real_id; /* os contexts: the real pthread_t */
	unsigned flocks;   /* flockfile depth: not preemptible while > 0 */
	/* Several hubs (sched.c, "moving a thread"): it may move to another
	 * hub while runnable (never run yet, or preempted at a safe point);
	 * it is on its way to a new hub, which adopts it as it drains; the
	 * one who frees it once it is DONE (joiner or detacher) has won. */
	unsigned char movable, adopt;
	_Atomic unsigned char reaped;
	/* Its end, joined or detached, in one word (sched.c): 0 joinable,
	 * GR_EXIT_DETACHED, GR_EXIT_DONE, or the joiner waiting for it. */
	_Atomic uintptr_t exitw;
	char name[16];
#if defined(GR_ASAN) || defined(GR_VALGRIND)
	void *san_fake;	    /* switchhook.h: its ASan fake stack */
	unsigned san_vg_id; /* switchhook.h: valgrind's id for the stack */
#endif
#ifdef GR_TSAN
	/* switchhook.h: its ThreadSanitizer state, a fiber of its own
	 * (san_own) or, for an OS thread's context and its hub, the OS
	 * thread's */
	void *san_tsan;
	unsigned char san_own;
#endif
};

/* switch_<arch>.S: save callee-saved state on the current stack, store the
 * stack pointer in *save, load `to` and return into it. */
void gr_switch(void **save, void *to) GR_HIDDEN;
void gr_coro_trampoline(void) GR_HIDDEN;

/* tls: carve a TLS block + TCB below the thread object (tls.c), and say
 * in *mem what that memory holds (GR_MEM_*). */
enum {
	GR_MEM_DIRTY, /* whatever the last thread left */
	GR_MEM_ZERO,  /* fresh or given back: all zero */
	GR_MEM_DTV,   /* dirty, the last thread's DTV still installed */
};
struct gr_thread *gr_thread_new(size_t stack, size_t guard, void *user_stack,
				size_t user_size, bool tls, int *mem) GR_HIDDEN;
void gr_thread_free(struct gr_thread *t) GR_HIDDEN;
void gr_stack_limits(size_t *dflt, size_t *guard) GR_HIDDEN;
int gr_stack_fault_owner(void *addr, struct gr_thread **t) GR_HIDDEN;

/* ===== tls.c: a TLS block and TCB per green thread ==================== */

struct gr_tls_state {
	int on;	      /* green threads get blocks of their own */
	int fsgsbase; /* wrfsbase allowed (else arch_prctl) */
	size_t static_size, align, tcb_size; /* glibc's static TLS + TCB */
	uint32_t tid_off, list_off;	     /* in struct pthread */
	long rseq_cpu_off; /* struct rseq's cpu_id in the TCB, -1: none */
	long hub_off,
	    os_off; /* gr_tls_hub, gr_tls_os from the thread pointer */
};
extern struct gr_tls_state gr_tls GR_HIDDEN;
bool gr_tls_enabled(void) GR_HIDDEN; /* checks once, warns once if off */
void *gr_tls_os_tp(void) GR_HIDDEN;  /* the running thread pointer */
size_t gr_tls_space(void) GR_HIDDEN; /* bytes a block needs, 0 if off */
char *gr_tls_carve(char *top, void **tcb) GR_HIDDEN;
int gr_tls_thread_init(struct gr_thread *t, struct gr_hub *h,
		       int mem) GR_HIDDEN;
void gr_tls_thread_start(struct gr_thread *t) GR_HIDDEN;
void gr_tls_thread_dtors(struct gr_thread *t) GR_HIDDEN;
void gr_tls_thread_freeres(struct gr_thread *t) GR_HIDDEN;
void gr_tls_thread_free(struct gr_thread *t) GR_HIDDEN;
void gr_tls_set_tp_slow(void *tp) GR_HIDDEN;
/* Run fn(arg) (0 or -errno) on the OS thread's own TCB: for glibc calls
 * that walk glibc's thread lists and skip THREAD_SELF (set*id signals
 * every other thread and waits for it). */
long gr_tls_on_os(long (*fn)(void *), void *arg) GR_HIDDEN;
/* Around dlopen (shim/nss.c): a module with static TLS loaded now gets
 * its initial image copied into every green thread of this hub. */
#define GR_TLS_SNAP_MODS 1024
struct gr_tls_snap {
	uint64_t had[GR_TLS_SNAP_MODS / 64]; /* module ids before */
};
bool gr_tls_dlopen_begin(struct gr_tls_snap *s) GR_HIDDEN;
void gr_tls_dlopen_end(struct gr_tls_snap *s) GR_HIDDEN;
/* Install a thread pointer.  No TLS access may come between this and the
 * stack switch that goes with it. */
static inline void gr_tls_set_tp(void *tp)
{
	if (likely(gr_tls.fsgsbase))
		__asm__ volatile("wrfsbase %0" : : "r"(tp) : "memory");
	else
		gr_tls_set_tp_slow(tp);
}

/* ===== sched.c: hubs, run queues, park / ready ======================== */

struct ev_loop;
struct gr_hub {
	struct gr_thread *cur; /* the running green thread (or hub) */
	struct gr_thread *hub; /* the hub coroutine */
	struct gr_thread *os;  /* the OS thread's own context */
	struct gr_thread *rq_head, *rq_tail; /* local run queue */
	struct gr_thread *all;		     /* live green threads */
	struct gr_thread *ended; /* finished; marked DONE after the switch */
	struct ev_loop *loop;
	pid_t tid;
	int nlive;	 /* live green threads incl. the os context */
	unsigned tick;	 /* switches since the hub last polled */
	unsigned budget; /* switches allowed before it polls again */
	unsigned rq_len; /* threads in the local run queue */
	unsigned drains; /* times the run queue ran dry (fd.c) */
	/* readies from other OS threads, drained by the hub */
	atomic_flag rlock;
	struct gr_thread *r_head, *r_tail;
	void *async; /* ev_async, hub.c */
	/* timers: a binary heap of parked threads by deadline, one timerfd */
	struct gr_thread **heap;
	int heap_len, heap_cap;
	int tfd;
	int64_t tfd_armed; /* deadline the timerfd is set to, 0: none */
	void *tfd_io;	   /* ev_io, hub.c */
	void *sig_state;   /* signal.c */
	void *proc_state;  /* proc.c: threads waiting for children */
	void *res_state;   /* resolver.c: this OS thread's channels */
	char *altstack;	   /* diag/overflow.c: this OS thread's sigaltstack */
	uint64_t switches;
	int deadlock_reported;
	/* preempt.c: threads preempted at the end of their slice wait here,
	 * behind the run queue (sched.c); a preemption that found an unsafe
	 * point is due at the thread's next safe shim entry. */
	struct gr_thread *pq_head, *pq_tail;
	int64_t pq_last; /* when the hub last took one from pq */
	unsigned char preempt_due;
	void *preempt; /* preempt.c's per-hub state */
	/* sched.c, several hubs: a thread was readied here while another
	 * runs and a hub sleeps idle (asked), at which switch, and when the
	 * runner's first shim call since came (0: none yet); it yields to
	 * that hub at a call (gr_sched_spread) if it runs on long enough. */
	unsigned char spread_asked;
	int64_t spread_ns;
	uint64_t spread_sw;
	/* hub.c: its last sleep was short, so the next may begin with a
	 * spin (GREEN_SPIN_US) */
	unsigned char spin_ok;
	int forked; /* child: the loop is still the parent's */
	/* Several hubs: its index in gr_hubv, whether it is a hub thread of
	 * the shim's (no program context of its own), and the lock of its
	 * all-list for walkers on other OS threads (diag, dlopen). */
	int idx;
	unsigned char dedicated;
	atomic_flag alock;
	int idle; /* diag: counted in gr_hubs_stuck */
	/* fd.c: commands from other hubs (watch an fd for their waiters,
	 * stop a watcher orphaned by a close), drained in the async call. */
	void *_Atomic fd_cmds;
	_Atomic int placed; /* threads placed here, not adopted yet */
	uint64_t moved_in;  /* stats: threads other hubs handed it */
	/* stats: parks by wait reason on this hub, written by its own OS
	 * thread only (one shared array had two hubs writing one cache line
	 * on every park), summed at exit */
	uint64_t parks[GR_WAIT__COUNT];
};

/* Several hubs (GREEN_HUBS, docs/ARCHITECTURE.md "Several hubs"): the
 * hubs of green threads, gr_hubv[0] the first thread's, the others hub
 * threads of the shim's made at the first pthread_create.  gr_hubs_n is 1
 * until they are made (and for good with GREEN_HUBS=1).  A hub about to
 * sleep with nothing to run sets its bit in gr_idle_hubs; a busy hub hands
 * such a hub half of its movable threads when it next polls. */
#define GR_HUBS_MAX 64
extern int gr_hubs_n GR_HIDDEN;
extern struct gr_hub *gr_hubv[GR_HUBS_MAX] GR_HIDDEN;
extern _Atomic uint64_t gr_idle_hubs GR_HIDDEN;
static inline bool gr_multi(void)
{
	return gr_hubs_n > 1;
}
extern __thread struct gr_hub *gr_tls_hub GR_HIDDEN;
extern __thread struct gr_thread *gr_tls_os GR_HIDDEN;
extern __thread int gr_tls_passthrough GR_HIDDEN; /* shim's own OS threads */
extern __thread int gr_tls_insignal GR_HIDDEN;
extern __thread unsigned gr_tls_nopark GR_HIDDEN; /* NSS, dlopen: no parking */
/* Wait-queue locks held, and hubs to wake once the last is let go. */
extern __thread unsigned gr_tls_wdefer GR_HIDDEN;
extern __thread uint64_t gr_tls_wpend GR_HIDDEN;
void gr_wake_flush(void) GR_HIDDEN;

struct gr_thread *gr_os_self(void) GR_HIDDEN; /* creates the os context */
struct gr_hub *gr_hub_get(void) GR_HIDDEN;    /* creates the hub lazily */

/* The running green thread, creating this OS thread's context if needed. */
static inline struct gr_thread *gr_self(void)
{
	struct gr_hub *h = gr_tls_hub;
	if (likely(h != NULL))
		return h->cur;
	return gr_os_self();
}
/* The running green thread if it is a green thread that may park here. */
static inline struct gr_thread *gr_cur(void)
{
	struct gr_hub *h = gr_tls_hub;
	if (h == NULL || h->cur == h->hub)
		return NULL;
	return h->cur;
}
/* May the running code park?  Not on the hub, not in a signal handler, not
 * in a no-park region (NSS, dlopen, stdio internals), not in a shim thread. */
static inline bool gr_may_park(void)
{
	struct gr_hub *h = gr_tls_hub;
	return h != NULL && h->cur != h->hub && gr_tls_nopark == 0 &&
	       !gr_tls_insignal;
}
/* May the caller park, making this OS thread's hub on first need?  An OS
 * thread's own context gets one; the shim's own threads and a signal
 * handler never do.  Where this says no, a wait blocks in the kernel. */
static inline bool gr_can_park(void)
{
	if (likely(gr_may_park()))
		return true;
	if (gr_tls_hub != NULL || gr_tls_passthrough || gr_tls_insignal)
		return false;
	gr_hub_get();
	return gr_may_park();
}
/* Worth parking for an fd or a timer: someone else could run meanwhile. */
static inline bool gr_park_useful(void)
{
	struct gr_hub *h = gr_tls_hub;
	/* With several hubs a hub's loop must keep turning: its watchers
	 * may serve other hubs' threads (fd.c), and it may be handed some. */
	if (likely(gr_may_park()) &&
	    (h->nlive > 1 || h->rq_head != NULL || gr_multi()))
		return true;
	/* Under the virtual clock only the hub makes time pass: a lone
	 * thread parks too, or its sleeps and timeouts would be real. */
	return unlikely(gr_vclock_on) && gr_can_park();
}

enum { GR_PF_CANCEL = 1, GR_PF_EINTR = 2 };	 /* gr_thread.interruptible */
enum { GR_EXIT_DETACHED = 1, GR_EXIT_DONE = 2 }; /* gr_thread.exitw */
/* Wake values a park may return besides 0 and -ETIMEDOUT:
 *  -ECANCELED     pthread_cancel() at a cancellation point;
 *  -EINTR         a handled signal without SA_RESTART (signal.c);
 *  -GR_ERESTART   a handled signal whose handler has SA_RESTART: calls
 *                 Linux restarts (read, write, accept, connect's wait,
 *                 waitpid...) park again; the others (sleeps, poll, select,
 *                 epoll_wait, sigsuspend, sem_wait, calls with SO_RCVTIMEO)
 *                 report EINTR — gr_intr() says which;
 *  -EBADF         the fd was closed or dup2()ed over (fd.c). */
#define GR_ERESTART 512
static inline long gr_intr(long r, bool restartable)
{
	if (r == -GR_ERESTART)
		return restartable ? 0 : -EINTR;
	return r;
}
void gr_park_begin(enum gr_wait why) GR_HIDDEN;
void gr_park_abort(void) GR_HIDDEN;
long gr_park_end(int64_t deadline) GR_HIDDEN;
long gr_park(enum gr_wait why, int64_t deadline) GR_HIDDEN;
bool gr_ready(struct gr_thread *t, long wake) GR_HIDDEN;
bool gr_ready_first(struct gr_thread *t, long wake) GR_HIDDEN;
void gr_yield(void) GR_HIDDEN;
void gr_sched_hub_main(struct gr_hub *h) GR_HIDDEN;
void gr_nopark_enter(void) GR_HIDDEN;
void gr_nopark_leave(void) GR_HIDDEN;
/* preempt.c's trampoline: the running thread goes behind every runnable
 * one (pq) and the hub polls before anything else runs.  movable: it was
 * stopped in the program's own code (the trampoline), where nothing on its
 * stack remembers the hub, so it may resume on another (sched.c). */
void gr_yield_preempted(bool movable) GR_HIDDEN;

/* Thread lifecycle. */
int gr_thread_create(struct gr_thread **out, const pthread_attr_t *attr,
		     void *(*fn)(void *), void *arg) GR_HIDDEN;
void gr_thread_exit(void *ret) __attribute__((noreturn)) GR_HIDDEN;
int gr_thread_join(struct gr_thread *t, void **ret, int64_t deadline,
		   bool try) GR_HIDDEN;
int gr_thread_detach(struct gr_thread *t) GR_HIDDEN;
struct gr_thread *gr_thread_from(pthread_t id) GR_HIDDEN; /* NULL: not green */
void gr_testcancel(void) GR_HIDDEN;
int gr_cancel(struct gr_thread *t) GR_HIDDEN;
extern _Atomic int gr_nhubs GR_HIDDEN;
extern _Atomic uint64_t gr_thread_seq GR_HIDDEN;

void gr_hubs_start(void) GR_HIDDEN;
void gr_sched_shed(struct gr_hub *h) GR_HIDDEN;
int gr_sched_spread(struct gr_hub *h, bool outer) GR_HIDDEN;
void gr_hubs_after_fork(struct gr_hub *h) GR_HIDDEN;
void gr_hubs_hold(void) GR_HIDDEN; /* no thread moves until released */
void gr_hubs_release(void) GR_HIDDEN;
int gr_hubs_in_flight(void) GR_HIDDEN; /* threads between two hubs */
/* Walk every live green thread of every hub (diag, dlopen): fn under
 * each hub's all-list lock.  Returns false if fn stopped the walk. */
bool gr_hubs_each(bool (*fn)(struct gr_hub *, struct gr_thread *, void *),
		  void *ctx) GR_HIDDEN;

/* Thread-specific data (keys), ours from the first call on. */
int gr_key_create(pthread_key_t *k, void (*dtor)(void *)) GR_HIDDEN;
int gr_key_delete(pthread_key_t k) GR_HIDDEN;
void *gr_getspecific(pthread_key_t k) GR_HIDDEN;
int gr_setspecific(pthread_key_t k, const void *v) GR_HIDDEN;
void gr_tsd_run_dtors(struct gr_thread *t) GR_HIDDEN;

/* ===== hub.c: the libev loop, timers, cross-thread wake-ups ========== */

void gr_hub_loop_init(struct gr_hub *h) GR_HIDDEN;
void gr_hub_poll(struct gr_hub *h, bool block) GR_HIDDEN;
void gr_hub_wakeup(struct gr_hub *h) GR_HIDDEN; /* from any OS thread */
void gr_timer_add(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_timer_del(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_hub_after_fork(void) GR_HIDDEN;
void gr_hub_loop_after_fork(struct gr_hub *h) GR_HIDDEN; /* fresh loop */
/* The second half of the child's reset, once every atfork handler has run
 * (sched.c): a fresh loop and signal watchers.  No-op unless h->forked. */
void gr_hub_refork(struct gr_hub *h) GR_HIDDEN;

/* ===== sleep.c: sleeps on the timer heap =============================== */

/* 0 or -EINTR; never early.  `left` (may be NULL): what was not slept, on
 * -EINTR. */
long gr_sleep_ns(int64_t ns, int64_t *left) GR_HIDDEN;
long gr_sleep_abs(clockid_t clk, const struct timespec *req) GR_HIDDEN;
/* On a CPU-time clock; -EINVAL for a bad clock or request. */
long gr_sleep_cpu(clockid_t clk, int flags, const struct timespec *req,
		  struct timespec *rem) GR_HIDDEN;
/* poll/select with no fds: ns, or with ns < 0 until a signal. */
long gr_sleep_idle(int64_t ns) GR_HIDDEN;

/* ===== waitq.c: wait queues keyed by an address ======================= */

struct gr_waiter {
	struct gr_waiter *next, *prev;
	const void *addr;
	struct gr_thread *t;
	int linked;
	int kind; /* user tag: reader/writer etc. */
};
struct gr_wq_bucket;
struct gr_wq_bucket *gr_wq_lock(const void *addr) GR_HIDDEN;
void gr_wq_unlock(struct gr_wq_bucket *b) GR_HIDDEN;
void gr_wq_add(struct gr_wq_bucket *b, struct gr_waiter *w) GR_HIDDEN;
void gr_wq_del(struct gr_wq_bucket *b, struct gr_waiter *w) GR_HIDDEN;
/* Ready up to n waiters on addr (n < 0: all) whose kind matches `kind`
 * (-1: any); returns how many were readied.  Caller holds b. */
int gr_wq_wake_locked(struct gr_wq_bucket *b, const void *addr, int n,
		      int kind) GR_HIDDEN;
int gr_wq_wake(const void *addr, int n) GR_HIDDEN;
int gr_wq_wake_locked_count(struct gr_wq_bucket *b, const void *addr,
			    int n) GR_HIDDEN;
void gr_wq_after_fork(void) GR_HIDDEN; /* child: every queue empty */
struct gr_waiter *gr_wq_first(struct gr_wq_bucket *b) GR_HIDDEN;
/* Park on addr after the caller enqueued w under b (released here). */
long gr_wq_park(struct gr_wq_bucket *b, struct gr_waiter *w, enum gr_wait why,
		int64_t deadline) GR_HIDDEN;

/* Queue on addr, re-check with done(ctx), park: waitq.c says how. */
#define GR_WQ_DONE 1
long gr_wq_wait(const void *addr, int kind, enum gr_wait why, int64_t deadline,
		bool (*done)(void *ctx), void *ctx) GR_HIDDEN;

/* Plain doubly linked lists of waiters (fd.c keeps one per fd). */
static inline void gr_wq_list_add(struct gr_waiter **head,
				  struct gr_waiter **tail, struct gr_waiter *w)
{
	w->next = NULL;
	w->prev = *tail;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
	w->linked = 1;
}
static inline void gr_wq_list_del(struct gr_waiter **head,
				  struct gr_waiter **tail, struct gr_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		*tail = w->prev;
	w->linked = 0;
}

/* ===== fd.c: descriptors and waiting on them ========================== */

enum gr_fd_kind {
	GR_FD_UNKNOWN, /* not seen yet: fstat on first use */
	GR_FD_SOCK,    /* MSG_DONTWAIT works */
	GR_FD_PIPE,    /* preadv2/pwritev2 RWF_NOWAIT works */
	GR_FD_POLLED,  /* readiness first, then the real call (FIFO, tty...) */
	GR_FD_FILE,    /* regular file: never "blocks" in the poll sense */
};
#define GR_EV_READ  1 /* == EV_READ */
#define GR_EV_WRITE 2 /* == EV_WRITE */
struct gr_fd_watch;
struct gr_fd {
	unsigned char kind;	/* enum gr_fd_kind */
	unsigned char nonblock; /* the program's own O_NONBLOCK */
	unsigned char ours; /* made here, never shared: O_NONBLOCK may flip */
	unsigned char drained; /* last read came up short: wait before trying */
	unsigned char fresh;   /* watcher must be re-set to this fd number */
	unsigned char woken;   /* directions whose readied waiter is not back */
	unsigned char
	    listener;	      /* accept() waits here: ready its waiter first */
	unsigned woken_drain; /* hub->drains when that waiter was readied */
	unsigned group;	      /* numbers dup()ed from one description, or 0 */
	int fdnum;
	/* Several hubs: the entry's lock (its waiters, watcher and hub),
	 * taken only when gr_multi(); the directions its owner's watcher
	 * watches; a command to the owner is on its way. */
	atomic_flag lock;
	unsigned char wmask, cmd;
	int64_t rcvtimeo, sndtimeo; /* ns, 0: none */
	struct gr_hub *hub;	    /* whose loop watches it */
	struct gr_fd_watch *watch;
	struct gr_waiter *wq_head, *wq_tail;
};
struct pollfd;
struct gr_fd *gr_fd_at(int fd) GR_HIDDEN;  /* the entry, as it is */
struct gr_fd *gr_fd_get(int fd) GR_HIDDEN; /* the entry, kind probed */
void gr_fd_created(int fd, int kind, bool nonblock) GR_HIDDEN;
void gr_fd_close(int fd) GR_HIDDEN;
void gr_fd_close_range(unsigned lo, unsigned hi) GR_HIDDEN;
void gr_fd_dup(int old, int nfd) GR_HIDDEN;
void gr_fd_set_nonblock(int fd, bool on) GR_HIDDEN;
void gr_fd_set_timeo(int fd, bool snd, int64_t ns) GR_HIDDEN;
void gr_fd_shared(int fd) GR_HIDDEN;
void gr_fd_after_fork(void) GR_HIDDEN;
void gr_fd_commands(struct gr_hub *h) GR_HIDDEN; /* hub.c's async call */
long gr_fd_wait(int fd, int ev, int64_t deadline, enum gr_wait why) GR_HIDDEN;
long gr_fd_wait_many(const struct pollfd *p, unsigned long n,
		     int64_t deadline) GR_HIDDEN;

/* fdio.c: the retry loop.  A blocking call on a descriptor, as the loop
 * sees it: one attempt that never blocks, try(op, waited) (a result, or
 * -EAGAIN: would block; `waited`: the fd was just reported ready), and the
 * plain blocking call, block(op), made instead when this OS thread cannot
 * wait on the fd.  Calls embed it first in a struct of their arguments. */
struct gr_fdop {
	int fd;
	struct gr_fd *f;
	int ev;	     /* GR_EV_READ or GR_EV_WRITE */
	size_t want; /* a read of fewer bytes leaves the fd drained; 0: no
			telling */
	const struct pollfd *p; /* else: wait on these n (poll.c) */
	unsigned long n;
	long (*try)(struct gr_fdop *op, bool waited);
	long (*block)(struct gr_fdop *op);
	bool blocked; /* set: the answer is block()'s */
};
/* Try, park on op->fd for op->ev between tries (SO_RCVTIMEO/SO_SNDTIMEO),
 * until a result: it, or -EAGAIN (timed out), -EINTR, -ECANCELED... */
long gr_io(struct gr_fdop *op) GR_HIDDEN;
/* Park once on op's fd(s) until ready or `deadline` (0: none); the wake
 * value (0, -ETIMEDOUT, -ECANCELED, -GR_ERESTART, -EINTR, -EBADF), or, if
 * this OS thread cannot wait on them, block()'s result with op->blocked
 * set.  The one place for that fallback. */
long gr_fdop_wait(struct gr_fdop *op, int64_t deadline) GR_HIDDEN;
/* Should a call on fd park (entry in *out), or go to libc? */
bool gr_green_fd(int fd, struct gr_fd **out) GR_HIDDEN;
struct iovec;
long gr_fd_readv(int fd, struct gr_fd *f, const struct iovec *iov,
		 int cnt) GR_HIDDEN;
long gr_fd_writev(int fd, struct gr_fd *f, const struct iovec *iov,
		  int cnt) GR_HIDDEN;
void gr_fd_send_failed_late(int fd, struct gr_fd *f, long err) GR_HIDDEN;
/* sock.c: the blocking socket calls, as libc's but -errno.  accept with
 * f NULL: the plain call (this fd is not one to park on). */
struct sockaddr;
struct msghdr;
struct mmsghdr;
long gr_fd_accept(int fd, struct gr_fd *f, struct sockaddr *addr,
		  socklen_t *len, int flags) GR_HIDDEN;
long gr_fd_connect(int fd, struct gr_fd *f, const struct sockaddr *addr,
		   socklen_t len) GR_HIDDEN;
long gr_fd_recvfrom(int fd, struct gr_fd *f, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen) GR_HIDDEN;
long gr_fd_recvmsg(int fd, struct gr_fd *f, struct msghdr *msg,
		   int flags) GR_HIDDEN;
long gr_fd_recvmmsg(int fd, struct gr_fd *f, struct mmsghdr *mm, unsigned vlen,
		    int flags, struct timespec *tmo) GR_HIDDEN;
long gr_fd_sendto(int fd, struct gr_fd *f, const void *buf, size_t len,
		  int flags, const struct sockaddr *to,
		  socklen_t tolen) GR_HIDDEN;
long gr_fd_sendmsg(int fd, struct gr_fd *f, const struct msghdr *msg,
		   int flags) GR_HIDDEN;
long gr_fd_sendmmsg(int fd, struct gr_fd *f, struct mmsghdr *mm, unsigned vlen,
		    int flags) GR_HIDDEN;
void gr_fd_passed(const struct msghdr *msg) GR_HIDDEN; /* SCM_RIGHTS */
long gr_fd_sendfile(int out, int in, off_t *off, size_t count) GR_HIDDEN;
long gr_fd_splice(int in, loff_t *offin, int out, loff_t *offout, size_t len,
		  unsigned flags) GR_HIDDEN;
/* poll.c: poll/ppoll, select/pselect, the epoll waits, parked; ns > 0 or
 * -1 (none).  select's `left`: the time not slept, as Linux reports it. */
struct epoll_event;
long gr_fd_poll(struct pollfd *p, unsigned long n, int64_t ns,
		const sigset_t *mask) GR_HIDDEN;
long gr_fd_select(int n, fd_set *r, fd_set *w, fd_set *e, int64_t ns,
		  const sigset_t *mask, int64_t *left) GR_HIDDEN;
long gr_fd_epoll(int epfd, struct epoll_event *ev, int max, int64_t ns,
		 const sigset_t *mask) GR_HIDDEN;

/* stdio.c: one green owner per FILE while it parks (docs/stdio.md). */
#include <stdio.h>
bool gr_stdio_lock(FILE *fp) GR_HIDDEN;
void gr_stdio_unlock(FILE *fp) GR_HIDDEN;
long gr_stdio_wait(FILE *fp) GR_HIDDEN;

/* ===== sync.c: mutex, cond, rwlock, sem, barrier, once, spin ========== */

int gr_mutex_lock(pthread_mutex_t *m, int64_t deadline, bool try) GR_HIDDEN;
int gr_mutex_unlock(pthread_mutex_t *m) GR_HIDDEN;
int gr_mutex_green(pthread_mutex_t *m) GR_HIDDEN;
int gr_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) GR_HIDDEN;
int gr_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
		 const struct timespec *abs, bool useclk) GR_HIDDEN;
int gr_cond_wake(pthread_cond_t *c, bool all) GR_HIDDEN;
int gr_cond_destroy(pthread_cond_t *c) GR_HIDDEN;
int gr_rwlock_init(pthread_rwlock_t *l,
		   const pthread_rwlockattr_t *a) GR_HIDDEN;
int gr_rwlock_lock(pthread_rwlock_t *l, bool write, int64_t deadline,
		   bool try) GR_HIDDEN;
int gr_rwlock_unlock(pthread_rwlock_t *l) GR_HIDDEN;
int gr_rwlock_destroy(pthread_rwlock_t *l) GR_HIDDEN;
struct sem_t_;
int gr_sem_wait(void *sem, int64_t deadline, bool try) GR_HIDDEN;
int gr_sem_post(void *sem) GR_HIDDEN;
int gr_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a,
		    unsigned count) GR_HIDDEN;
int gr_barrier_wait(pthread_barrier_t *b) GR_HIDDEN; /* 1: the serial thread */
int gr_barrier_destroy(pthread_barrier_t *b) GR_HIDDEN;
int gr_once(pthread_once_t *o, void (*init)(void)) GR_HIDDEN;
int gr_spin_lock(pthread_spinlock_t *s) GR_HIDDEN;
long gr_futex_wait(const uint32_t *addr, uint32_t val, int64_t deadline,
		   uint32_t bitset, bool shared) GR_HIDDEN;
long gr_futex_wake(const uint32_t *addr, int n, uint32_t bitset) GR_HIDDEN;

/* ===== pool.c: the shim's own worker threads =========================== */

/* Run fn(arg) on a worker thread while the caller parks (GR_WAIT_POOL, not
 * interruptible); inline when the caller may not park.  fn's result. */
long gr_pool_run(long (*fn)(void *), void *arg) GR_HIDDEN;
/* The same for a call that may wait without end: never queued behind. */
long gr_pool_run_blocking(long (*fn)(void *), void *arg) GR_HIDDEN;

/* ===== fd/uring.c: liburing's completion waits ======================== */

enum gr_uring_kind {
	GR_URING_GET_CQE,
	GR_URING_WAIT_CQES,
	GR_URING_WAIT_CQE_TIMEOUT,
	GR_URING_SUBMIT_AND_WAIT,
	GR_URING_SUBMIT_AND_WAIT_TIMEOUT,
	GR_URING_ENTER,
	GR_URING_SQRING_WAIT,
};
struct gr_uring_call {
	enum gr_uring_kind kind;
	struct io_uring *ring;
	struct io_uring_cqe **cqe;
	unsigned submit, wait_nr, flags, fd;
	struct __kernel_timespec *ts;
	sigset_t *sigmask;
	size_t sz;
};
long gr_uring_call(struct gr_uring_call *c) GR_HIDDEN;

/* fileio.c: regular-file I/O under GREEN_FILEIO=pool|nowait.  iov/iovcnt
 * as readv; off < 0: at (and moving) the file position, else positional.
 * Bytes done or -errno.  With GREEN_FILEIO=inline, or where the caller may
 * not park, it is the plain call.  For fd.c/io.c's wrappers, on fds of kind
 * GR_FD_FILE. */
enum gr_file_op {
	GR_FILE_READ,
	GR_FILE_WRITE,
	GR_FILE_FSYNC,
	GR_FILE_FDATASYNC
};
struct iovec;
long gr_file_io(enum gr_file_op op, int fd, const struct iovec *iov, int iovcnt,
		off_t off) GR_HIDDEN;
/* Should a read/write/sync on fd go to gr_file_io?  A regular file,
 * GREEN_FILEIO not inline, another green thread to run.  The wrappers:
 *	if (gr_file_offload(fd))
 *		return gr_ret(gr_file_io(GR_FILE_READ, fd, &v, 1, -1)); */
bool gr_file_offload(int fd) GR_HIDDEN;
/* Path calls under GREEN_FILEIO=pool: an open or a stat walks a path and
 * may wait on the disk or a network filesystem, so with another green
 * thread to run it goes to the pool.  gr_path_offload() says whether to;
 * the calls return what openat / fstatat / statx would, as fd or 0, or
 * -errno.  nowait keeps them inline: no open or stat has a cache-only
 * form that is safe for every path (a FIFO open blocks). */
struct stat;
struct statx;
bool gr_path_offload(void) GR_HIDDEN;
long gr_path_open(int dirfd, const char *path, int flags,
		  mode_t mode) GR_HIDDEN;
long gr_path_stat(int dirfd, const char *path, struct stat *st,
		  int flags) GR_HIDDEN;
long gr_path_statx(int dirfd, const char *path, int flags, unsigned mask,
		   struct statx *stx) GR_HIDDEN;

/* ===== diag/: stats, overflow, watchdog, deadlock report ============= */

/* Counters, printed by GREEN_STATS.  PEAK: most live threads of a hub at
 * once; STACKS_PEAK: stacks ever mapped (coro.c reuses a cached stack
 * first, so this is the peak in use, the hubs' own included) and
 * STACK_BYTES their reserved size; FALLBACK: calls that blocked the hub. */
enum gr_stat {
	GR_ST_CREATED,
	GR_ST_PEAK,
	GR_ST_SWITCHES,
	GR_ST_FALLBACK,
	GR_ST_POOL_JOBS,
	GR_ST_DNS,
	GR_ST_STACKS_PEAK,
	GR_ST_STACK_BYTES,
	GR_ST_STEALS, /* threads moved to an idle hub */
	GR_ST__COUNT
};
extern _Atomic uint64_t gr_stats[GR_ST__COUNT] GR_HIDDEN;
#define GR_STAT_ADD(s, n)                                                      \
	atomic_fetch_add_explicit(&gr_stats[s], (n), memory_order_relaxed)
void gr_diag_idle(struct gr_hub *h) GR_HIDDEN;
extern _Atomic int gr_hubs_stuck GR_HIDDEN;
/* hubs in that state (hub.c) */		/* nothing can wake the hub */
void gr_diag_start(struct gr_hub *h) GR_HIDDEN; /* a hub was made (sched.c) */
void gr_diag_thread_new(
    struct gr_thread *t) GR_HIDDEN; /* a green thread was made */
void gr_diag_after_fork(
    void) GR_HIDDEN; /* in the child, once its hub is fresh */
void gr_diag_fallback(
    const char *call) GR_HIDDEN; /* `call` blocks the hub now */
/* SIGSEGV/SIGBUS: if the fault is the running green thread's stack guard,
 * print the overflow line, restore SIG_DFL and return true: the handler
 * must then return so the fault re-raises.  For a signal dispatcher. */
bool gr_diag_segv(int sig, siginfo_t *si, void *uc) GR_HIDDEN;
/* For the sigaction() wrapper, first thing: while diag's own handlers are
 * in the kernel it keeps the program's view of those signals.  True: done
 * (SIGSEGV/SIGBUS: the program's handler was read/stored here and diag's
 * handler chains to it; the watchdog's signal: read as SIG_DFL).  A
 * program setting the watchdog's signal gets it back: false, carry on. */
bool gr_diag_sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old) GR_HIDDEN;
/* Jobs handed to the worker pool and not yet completed into a hub (pool.c
 * keeps it): while any is in flight, a quiet hub is not deadlocked. */
extern _Atomic int gr_pool_inflight GR_HIDDEN;
/* OS threads the shim made for itself (pool workers, the watchdog), each
 * counted by its creator: the deadlock check discounts them. */
extern _Atomic int gr_own_threads GR_HIDDEN;

/* GR_CALL("read"): at the top of a shim wrapper that may park or block, so
 * that diagnostics name the call a thread is in (watchdog, deadlock report)
 * and count parks by call (GREEN_STATS).  Scoped: the name is dropped when
 * the wrapper returns (a cleanup attribute), so it is never stale.  Costs a
 * TLS load and three stores. */
struct gr_call_scope {
	struct gr_thread *t;
	const char *prev;
	uint64_t sw;
};
extern int gr_diag_counting GR_HIDDEN; /* GREEN_STATS is on */
void gr_preempt_at_call(struct gr_hub *h, bool outer) GR_HIDDEN;
void gr_diag_parked_in(const char *call) GR_HIDDEN;
static inline struct gr_call_scope gr_call_begin(const char *name)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_call_scope s = {NULL, NULL, 0};

	if (h != NULL && h->cur != h->hub) {
		/* GREEN_SCHED=random|pct: a scheduling point */
		if (unlikely(gr_sched_mode) && gr_may_park())
			gr_policy_point();
		s.t = h->cur;
		s.prev = s.t->call;
		s.sw = h->switches;
		if (s.prev == NULL) /* nested (timedlock → clocklock): */
			s.t->call = name; /* the name the program called */
		if (unlikely(h->preempt_due)) {
			gr_preempt_at_call(h, s.prev == NULL);
			/* it may have yielded, and moved to another hub */
			s.sw = s.t->hub->switches;
		}
	}
	return s;
}
static inline void gr_call_end(struct gr_call_scope *s)
{
	if (s->t == NULL)
		return;
	/* The hub switched while we were in the call: it parked. */
	if (unlikely(gr_diag_counting) && s->prev == NULL &&
	    s->t->hub->switches != s->sw)
		gr_diag_parked_in(s->t->call);
	s->t->call = s->prev;
}
#define GR_CALL(name)                                                          \
	struct gr_call_scope gr_call_scope_                                    \
	    __attribute__((cleanup(gr_call_end), unused)) =                    \
		gr_call_begin(name)

/* ===== signal.c: handlers, green masks, sigwait ====================== */

/* The program's handlers run through a dispatcher of ours; a signal for a
 * green thread that is not running is handed to it by its hub and its
 * handler runs when it next runs (docs/signals.md). */
void gr_sig_deliver(struct gr_thread *t) GR_HIDDEN;
static inline void gr_sig_check(struct gr_thread *t)
{
	if (unlikely(atomic_load_explicit(&t->sig_due, memory_order_relaxed)))
		gr_sig_deliver(t);
}
void gr_sig_hub_init(struct gr_hub *h) GR_HIDDEN; /* sched.c, new hub */
void gr_sig_hub_intake(
    struct gr_hub *h) GR_HIDDEN; /* sched.c, before a switch */
void gr_sig_thread_new(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_sig_thread_gone(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_sig_thread_leave(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_sig_thread_adopted(struct gr_hub *h, struct gr_thread *t) GR_HIDDEN;
void gr_sig_after_fork(struct gr_hub *h) GR_HIDDEN; /* child, in the handler */
void gr_sig_after_refork(struct gr_hub *h) GR_HIDDEN; /* child, fresh loop */
/* The program-visible signal calls (shim/signal.c, shim/proc.c). */
int gr_sig_action(int sig, const struct sigaction *act,
		  struct sigaction *old) GR_HIDDEN;
__sighandler_t gr_sig_signal(int sig, __sighandler_t fn, bool sysv) GR_HIDDEN;
int gr_sig_interrupt(int sig, int flag) GR_HIDDEN;
int gr_sig_mask(int how, const sigset_t *set, sigset_t *old) GR_HIDDEN;
int gr_sig_pending(sigset_t *set) GR_HIDDEN;
int gr_sig_kill(struct gr_thread *t, int sig) GR_HIDDEN;
long gr_sig_wait(const sigset_t *set, siginfo_t *info,
		 const struct timespec *ts, bool again) GR_HIDDEN;
long gr_sig_suspend(const sigset_t *mask) GR_HIDDEN;
bool gr_sig_mask_differs(sigset_t *green) GR_HIDDEN;

/* ===== fork.c: the child of a fork, one ordered list =================== */

void gr_fork_register(void) GR_HIDDEN;	 /* idempotent; before first use */
void gr_fork_child(void) GR_HIDDEN;	 /* the child handler (and _Fork's) */
void gr_pool_after_fork(void) GR_HIDDEN; /* pool.c */

/* ===== preempt.c: time slices (GREEN_PREEMPT_MS) ======================= */

/* A per-hub CPU-time timer signals the hub's OS thread every half slice;
 * a thread that ran a whole slice while others could run is sent, at a
 * safe point only, through an asm trampoline that saves every register
 * and yields (docs/ARCHITECTURE.md, "Preemption"). */
extern uint64_t gr_preempt_mask GR_HIDDEN; /* its signal's bit (word 0), or 0 */
void gr_preempt_thread_new(struct gr_hub *h) GR_HIDDEN; /* sched.c */
void gr_preempt_after_fork(struct gr_hub *h) GR_HIDDEN;
void gr_preempt_exec(bool before) GR_HIDDEN;  /* around execve */
void gr_preempt_libs_changed(void) GR_HIDDEN; /* after dlopen/dlclose */
/* For the sigaction() wrapper: the program's view of the signal it
 * borrowed (SIG_DFL).  A program that sets it gets it: preemption moves
 * to another free signal (or ends, one line on stderr); false: carry on. */
bool gr_preempt_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old) GR_HIDDEN;
bool gr_preempt_is_ours(const struct sigaction *sa) GR_HIDDEN;
/* Why the running thread of h could not be preempted lately, or NULL. */
const char *gr_preempt_why(struct gr_hub *h) GR_HIDDEN;
void gr_preempt_stats(char *out, size_t len) GR_HIDDEN;

/* ===== proc.c: children ================================================ */

void gr_proc_kick(struct gr_hub *h) GR_HIDDEN; /* a SIGCHLD: look again */
void gr_proc_after_fork(void) GR_HIDDEN;       /* child, fresh hub */
struct rusage;
#include <spawn.h>
#include <sys/wait.h>
long gr_proc_wait4(pid_t pid, int *status, int options,
		   struct rusage *ru) GR_HIDDEN;
long gr_proc_waitid(idtype_t type, id_t id, siginfo_t *info,
		    int options) GR_HIDDEN;
int gr_proc_system(const char *cmd, int *spawn_err) GR_HIDDEN;
int gr_proc_popen(const char *cmd, const char *mode, FILE **out) GR_HIDDEN;
int gr_proc_pclose(FILE *fp, int *status) GR_HIDDEN;
const posix_spawnattr_t *gr_proc_spawn_attr(const posix_spawnattr_t *in,
					    posix_spawnattr_t *tmp) GR_HIDDEN;

/* ===== shimfd.c: the shim's own descriptors ============================ */

/* Our fds (each hub's epoll fd, eventfd, timerfd, signalfd, pidfds, the
 * resolver's sockets) live near the top of RLIMIT_NOFILE, out of the
 * program's way, and the close/dup2 family refuses to touch them: a
 * daemon that closes every fd or dup2()s over low numbers keeps its hub.
 * gr_tls_shimfd > 0 while the shim (or libev on its behalf) makes or
 * closes its own: such fds are hidden, such closes allowed. */
#define GR_SHIMFD_MAX (1 << 20)
extern _Atomic uint64_t gr_shimfd_bits[GR_SHIMFD_MAX / 64] GR_HIDDEN;
extern __thread int gr_tls_shimfd GR_HIDDEN;
int gr_shimfd_hide(int fd) GR_HIDDEN; /* returns the fd's new number */
int gr_shimfd_close(int fd) GR_HIDDEN;
void gr_shimfd_forget(int fd) GR_HIDDEN; /* closed by libev */
static inline bool gr_shimfd_is(int fd)
{
	return (unsigned)fd < GR_SHIMFD_MAX &&
	       (atomic_load_explicit(&gr_shimfd_bits[fd >> 6],
				     memory_order_relaxed) >>
		(fd & 63)) &
		   1;
}
/* For close/dup2/dup3/close_range: may the program's call touch fd? */
static inline bool gr_shimfd_guarded(int fd)
{
	return unlikely(gr_shimfd_is(fd)) && gr_tls_shimfd == 0;
}

#endif /* GREEN_H */
