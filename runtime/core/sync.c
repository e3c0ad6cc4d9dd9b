/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync.c — mutexes, condition variables, rwlocks, semaphores, barriers,
 * once and spin locks that park green threads instead of blocking the OS
 * thread.
 *
 * Layouts.  Mutexes and semaphores keep glibc's own layout and protocol
 * (the lock word 0/1/2 of lowlevellock, the semaphore's value|nwaiters
 * word), so a mutex locked by glibc before the shim was used, static
 * initialisers, and process-shared objects used by a process without the
 * shim all stay right.  Condition variables, rwlocks and barriers use their
 * own layout inside glibc's sizes: every call reaches the shim (C11's
 * wrappers included), and their all-zero initialisers mean the same here.
 *
 * Owners.  A mutex's __owner holds the green thread's owner id: the kernel
 * tid for an OS thread's own context (so glibc and the shim agree about
 * locks taken before the first green thread), 0x40000000|n for green
 * threads, which no tid can be.
 *
 * Process-shared objects: a waiter in another process cannot ready our
 * green threads, so green waiters on shared objects re-check on a short
 * timer (50 µs doubling to 5 ms) besides being readied by local wakers,
 * and local wakers also FUTEX_WAKE for glibc waiters elsewhere.
 *
 * Contexts that cannot park (the hub, a signal handler, a no-park region)
 * wait in the kernel on the futex word with a short timeout, re-checking.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "green.h"

struct gmutex {
	_Atomic int lock;
	unsigned count;
	int owner;
	unsigned nusers;
	int kind;
	short spins, elision;
	void *prev, *next;
};

/* A recursive or errorcheck lock asks "do I hold it?" before taking the
 * lock, while its holder (on another hub) may be writing the owner: the
 * answer can only be yes if we wrote it ourselves, but the read and the
 * write race all the same, so both are relaxed atomics (plain moves, as
 * compiled).  glibc reads __owner so, too.  rwlock's cur_writer alike. */
#define OWNER(p)	__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define OWNER_SET(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
_Static_assert(sizeof(struct gmutex) <= sizeof(pthread_mutex_t), "mutex");

#define MK_KIND	   3
#define MK_ROBUST  16
#define MK_PI	   32
#define MK_PP	   64
#define MK_PSHARED 128

static long futex(void *addr, int op, int val, const struct timespec *ts)
{
	/* FUTEX_WAKE_BITSET needs a bitset: wake any */
	return REAL(syscall)(SYS_futex, addr, op, val, ts, NULL,
			     op == FUTEX_WAKE_BITSET ? FUTEX_BITSET_MATCH_ANY
						     : 0);
}

/* An add that is not a read-modify-write instruction: for counters that are
 * changed under a lock (or whose lost updates do not matter) but read
 * without it. */
static inline void relaxed_add(_Atomic unsigned *p, int d)
{
	atomic_store_explicit(p,
			      atomic_load_explicit(p, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

static inline int my_id(void)
{
	return gr_self()->owner_id;
}

/* Re-check deadline for a shared object: the sooner of the caller's
 * deadline and a back-off step. */
static int64_t poll_deadline(int64_t deadline, int64_t *step)
{
	int64_t at = gr_now() + *step;

	if (*step < 5000000)
		*step *= 2;
	return deadline && deadline < at ? deadline : at;
}

/* Wait in the kernel, briefly, where parking is impossible. */
static void kernel_wait(_Atomic int *word, int val)
{
	struct timespec ts = {0, 1000000};

	gr_diag_fallback("futex");
	futex(word, FUTEX_WAIT, val, &ts);
}

/* ---- mutex ---------------------------------------------------------- */

int gr_mutex_green(pthread_mutex_t *mm)
{
	struct gmutex *m = (struct gmutex *)mm;

	return (m->kind & (MK_ROBUST | MK_PI | MK_PP)) == 0;
}

/* The lock word: 0 free, 1 held, 2 held with waiters.  A waiter takes it
 * with an exchange to 2, so the holder's unlock knows to wake someone. */
static bool mutex_take(void *m)
{
	return atomic_exchange(&((struct gmutex *)m)->lock, 2) == 0;
}

static int mutex_wait(struct gmutex *m, int64_t deadline)
{
	bool shared = m->kind & MK_PSHARED;
	int64_t step = 50000;

	for (;;) {
		if (mutex_take(m))
			return 0;
		if (deadline && gr_now() >= deadline)
			return -ETIMEDOUT;
		if (!gr_can_park()) {
			kernel_wait(&m->lock, 2);
			continue;
		}
		if (gr_wq_wait(m, 0, GR_WAIT_MUTEX,
			       shared ? poll_deadline(deadline, &step)
				      : deadline,
			       mutex_take, m) == GR_WQ_DONE)
			return 0;
	}
}

int gr_mutex_lock(pthread_mutex_t *mm, int64_t deadline, bool try)
{
	struct gmutex *m = (struct gmutex *)mm;
	int kind = m->kind & MK_KIND, id = my_id(), exp = 0, r;

	if (kind == PTHREAD_MUTEX_RECURSIVE_NP && OWNER(m->owner) == id) {
		if (m->count + 1 == 0)
			return -EAGAIN;
		m->count++;
		return 0;
	}
	/* glibc: trylock of an errorcheck mutex one holds is EBUSY */
	if (kind == PTHREAD_MUTEX_ERRORCHECK_NP && OWNER(m->owner) == id &&
	    !try)
		return -EDEADLK;
	if (!atomic_compare_exchange_strong(&m->lock, &exp, 1)) {
		if (try)
			return -EBUSY;
		r = mutex_wait(m, deadline);
		if (r != 0)
			return r;
	}
	OWNER_SET(m->owner, id);
	m->count = 1;
	m->nusers++;
	return 0;
}

int gr_mutex_unlock(pthread_mutex_t *mm)
{
	struct gmutex *m = (struct gmutex *)mm;
	int kind = m->kind & MK_KIND;

	if (kind == PTHREAD_MUTEX_RECURSIVE_NP ||
	    kind == PTHREAD_MUTEX_ERRORCHECK_NP) {
		if (OWNER(m->owner) != my_id() || atomic_load(&m->lock) == 0)
			return -EPERM;
		if (kind == PTHREAD_MUTEX_RECURSIVE_NP && --m->count != 0)
			return 0;
	}
	OWNER_SET(m->owner, 0);
	m->nusers--;
	if (atomic_exchange(&m->lock, 0) == 2) {
		gr_wq_wake(m, 1);
		if (m->kind & MK_PSHARED)
			futex(&m->lock, FUTEX_WAKE, 1, NULL);
	}
	return 0;
}

/* cond waits also take robust / PI / PP mutexes, which stay glibc's */
static int mtx_unlock(pthread_mutex_t *m)
{
	return gr_mutex_green(m) ? gr_mutex_unlock(m)
				 : -REAL(pthread_mutex_unlock)(m);
}

static void mtx_lock(pthread_mutex_t *m)
{
	if (gr_mutex_green(m))
		gr_mutex_lock(m, 0, false);
	else
		REAL(pthread_mutex_lock)(m);
}

/* ---- condition variable --------------------------------------------- */

struct gcond {
	_Atomic unsigned seq;	/* bumped by every signal/broadcast */
	_Atomic unsigned nwait; /* queued green waiters: changed only under the
				 * bucket lock, read without it to skip it */
	unsigned flags;		/* COND_* below */
};
_Static_assert(sizeof(struct gcond) <= sizeof(pthread_cond_t), "cond");
#define COND_SHARED 1u
#define COND_MONO   2u

int gr_cond_init(pthread_cond_t *cc, const pthread_condattr_t *a)
{
	struct gcond *c = (struct gcond *)cc;
	clockid_t clk = CLOCK_REALTIME;
	int ps = PTHREAD_PROCESS_PRIVATE;

	if (a != NULL) {
		pthread_condattr_getclock(a, &clk);
		pthread_condattr_getpshared(a, &ps);
	}
	*cc = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	c->flags = (clk == CLOCK_MONOTONIC ? COND_MONO : 0) |
		   (ps == PTHREAD_PROCESS_SHARED ? COND_SHARED : 0);
	return 0;
}

int gr_cond_destroy(pthread_cond_t *cc)
{
	struct gcond *c = (struct gcond *)cc;

	return atomic_load(&c->nwait) ? -EBUSY : 0;
}

int gr_cond_wait(pthread_cond_t *cc, pthread_mutex_t *m, clockid_t clk,
		 const struct timespec *abs, bool useclk)
{
	struct gcond *c = (struct gcond *)cc;
	struct gr_waiter w = {.addr = c};
	struct gr_wq_bucket *b;
	bool shared = c->flags & COND_SHARED;
	int64_t deadline = 0, step = 50000;
	unsigned seq0;
	long r;
	int err;

	if (!useclk)
		clk = (c->flags & COND_MONO) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	if (abs != NULL) {
		if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000)
			return -EINVAL;
		deadline = gr_deadline_from_abs(clk, abs);
	}
	if (!gr_can_park()) {
		/* Cannot park: give the lock up briefly and report a
		 * spurious wake-up, which POSIX allows. */
		gr_diag_fallback("pthread_cond_wait");
		seq0 = atomic_load(&c->seq);
		err = mtx_unlock(m);
		if (err)
			return err;
		kernel_wait((_Atomic int *)&c->seq, (int)seq0);
		mtx_lock(m);
		return 0;
	}
	gr_testcancel();
	w.t = gr_tls_hub->cur;
	b = gr_wq_lock(c);
	seq0 = atomic_load(&c->seq);
	gr_park_begin(GR_WAIT_COND);
	gr_wq_add(b, &w);
	relaxed_add(&c->nwait, 1);
	/* Release the bucket before the mutex: they may share a bucket.  We
	 * are queued and PARKED already, so a signal from now on finds us. */
	gr_wq_unlock(b);
	err = mtx_unlock(m);
	if (err) {
		b = gr_wq_lock(c);
		if (w.linked) {
			gr_wq_del(b, &w);
			relaxed_add(&c->nwait, -1);
		}
		gr_wq_unlock(b);
		gr_park_abort();
		return err;
	}
	for (;;) {
		r = gr_park_end(shared ? poll_deadline(deadline, &step)
				       : deadline);
		if (!shared || r != -ETIMEDOUT ||
		    atomic_load(&c->seq) != seq0 ||
		    (deadline && gr_now() >= deadline))
			break;
		/* still waiting on a shared cond: park again, still queued */
		gr_park_begin(GR_WAIT_COND);
		if (!w.linked) { /* readied meanwhile */
			gr_park_abort();
			r = 0;
			break;
		}
	}
	if (w.linked) {
		b = gr_wq_lock(c);
		if (w.linked) {
			gr_wq_del(b, &w);
			relaxed_add(&c->nwait, -1);
		}
		gr_wq_unlock(b);
	}
	mtx_lock(m);
	if (r == -ECANCELED)
		gr_testcancel(); /* runs cleanups with the mutex held, as POSIX
				    says */
	if (r == -ETIMEDOUT && abs != NULL && gr_clock_ns(clk) >= gr_ts_ns(abs))
		return -ETIMEDOUT;
	return 0; /* signalled, or a spurious wake-up */
}

int gr_cond_wake(pthread_cond_t *cc, bool all)
{
	struct gcond *c = (struct gcond *)cc;

	struct gr_wq_bucket *b;

	/* seq is the futex word of waits that cannot park (and what shared
	 * waiters re-check): a process-shared cond needs the atomic add. */
	if (c->flags & COND_SHARED)
		atomic_fetch_add(&c->seq, 1);
	else
		relaxed_add(&c->seq, 1);
	if (atomic_load_explicit(&c->nwait, memory_order_relaxed) == 0)
		return 0;
	b = gr_wq_lock(c);
	relaxed_add(&c->nwait, -gr_wq_wake_locked_count(b, c, all ? -1 : 1));
	gr_wq_unlock(b);
	return 0;
}

/* ---- rwlock --------------------------------------------------------- */

struct grw {
	_Atomic unsigned state; /* RW_WRITER | readers */
	_Atomic unsigned wwait; /* writers waiting (writer preference) */
	_Atomic unsigned nwait; /* all waiters */
	unsigned pad[3];
	int cur_writer; /* owner id, for EDEADLK (glibc's offset) */
	int shared;	/* glibc's __shared */
	unsigned pad2[4];
	unsigned flags; /* glibc's __flags: the kind */
};
_Static_assert(sizeof(struct grw) <= sizeof(pthread_rwlock_t), "rwlock");
_Static_assert(offsetof(struct grw, flags) == 48, "rwlock flags offset");
#define RW_WRITER  0x80000000u
#define RW_READERS 0x3fffffffu
enum { RW_WAIT_READ, RW_WAIT_WRITE };

int gr_rwlock_init(pthread_rwlock_t *ll, const pthread_rwlockattr_t *a)
{
	struct grw *l = (struct grw *)ll;
	int kind = PTHREAD_RWLOCK_PREFER_READER_NP,
	    ps = PTHREAD_PROCESS_PRIVATE;

	if (a != NULL) {
		pthread_rwlockattr_getkind_np(a, &kind);
		pthread_rwlockattr_getpshared(a, &ps);
	}
	*ll = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER;
	l->flags = kind;
	l->shared = ps == PTHREAD_PROCESS_SHARED;
	return 0;
}

int gr_rwlock_destroy(pthread_rwlock_t *ll)
{
	struct grw *l = (struct grw *)ll;

	return atomic_load(&l->state) ? -EBUSY : 0;
}

static bool rw_try(struct grw *l, bool write, int *err)
{
	unsigned s = atomic_load(&l->state);

	*err = 0;
	if (write) {
		while (s == 0)
			if (atomic_compare_exchange_weak(&l->state, &s,
							 RW_WRITER))
				return true;
		return false;
	}
	for (;;) {
		if (s & RW_WRITER)
			return false;
		if (l->flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP &&
		    atomic_load(&l->wwait) != 0)
			return false;
		if ((s & RW_READERS) == RW_READERS) {
			*err = -EAGAIN;
			return false;
		}
		if (atomic_compare_exchange_weak(&l->state, &s, s + 1))
			return true;
	}
}

/* The re-check of a queued rwlock waiter: count it as waiting (so the
 * unlocker looks at the queue, and writer preference sees it), then try
 * once more.  The counts drop again when the wait is over. */
struct rw_wait {
	struct grw *l;
	bool write;
};

static void rw_waiting(struct grw *l, bool write, int d)
{
	atomic_fetch_add(&l->nwait, (unsigned)d);
	if (write)
		atomic_fetch_add(&l->wwait, (unsigned)d);
}

static bool rw_retry(void *ctx)
{
	struct rw_wait *rw = ctx;
	int err;

	rw_waiting(rw->l, rw->write, 1);
	return rw_try(rw->l, rw->write, &err);
}

int gr_rwlock_lock(pthread_rwlock_t *ll, bool write, int64_t deadline, bool try)
{
	struct grw *l = (struct grw *)ll;
	struct rw_wait rw = {l, write};
	int64_t step = 50000;
	int err, id = my_id();

	for (;;) {
		if (rw_try(l, write, &err))
			break;
		if (err)
			return err;
		if (try)
			return -EBUSY;
		if ((atomic_load(&l->state) & RW_WRITER) &&
		    OWNER(l->cur_writer) == id)
			return -EDEADLK;
		if (deadline && gr_now() >= deadline)
			return -ETIMEDOUT;
		if (!gr_can_park()) {
			kernel_wait((_Atomic int *)&l->state,
				    (int)atomic_load(&l->state));
			continue;
		}
		long r = gr_wq_wait(
		    l, write ? RW_WAIT_WRITE : RW_WAIT_READ, GR_WAIT_RWLOCK,
		    l->shared ? poll_deadline(deadline, &step) : deadline,
		    rw_retry, &rw);
		rw_waiting(l, write, -1);
		if (r == GR_WQ_DONE)
			break;
	}
	if (write)
		OWNER_SET(l->cur_writer, id);
	return 0;
}

int gr_rwlock_unlock(pthread_rwlock_t *ll)
{
	struct grw *l = (struct grw *)ll;
	unsigned s = atomic_load(&l->state), n;

	if (s & RW_WRITER) {
		OWNER_SET(l->cur_writer, 0);
		atomic_store(&l->state, 0);
		n = 0;
	} else if ((s & RW_READERS) == 0) {
		return -EPERM;
	} else {
		n = atomic_fetch_sub(&l->state, 1) - 1;
	}
	if (n == 0 && atomic_load(&l->nwait) != 0) {
		struct gr_wq_bucket *b = gr_wq_lock(l);

		/* Writer preference: one writer if any waits, else every
		 * reader; otherwise every reader and one writer.  The losers
		 * of the race queue again. */
		if (l->flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP &&
		    gr_wq_wake_locked(b, l, 1, RW_WAIT_WRITE) > 0)
			;
		else {
			gr_wq_wake_locked(b, l, -1, RW_WAIT_READ);
			gr_wq_wake_locked(b, l, 1, RW_WAIT_WRITE);
		}
		gr_wq_unlock(b);
	}
	if (l->shared)
		futex(&l->state, FUTEX_WAKE, INT_MAX, NULL);
	return 0;
}

/* ---- semaphore (glibc's layout: value | nwaiters << 32) -------------- */

struct gsem {
	_Atomic uint64_t data;
	int private; /* glibc: 0 private, FUTEX_PRIVATE_FLAG (128) shared */
	int pad;
};
#define SEM_VALUE(d) ((unsigned)((d)&0xffffffffu))
#define SEM_W1	     (1ULL << 32)

/* A queued semaphore waiter counts itself in the word's waiter half (a
 * poster then wakes), then looks at the value once more. */
static bool sem_retry(void *ss)
{
	struct gsem *s = ss;

	return SEM_VALUE(atomic_fetch_add(&s->data, SEM_W1) + SEM_W1) > 0;
}

int gr_sem_wait(void *ss, int64_t deadline, bool try)
{
	struct gsem *s = ss;
	bool shared = s->private != 0;
	int64_t step = 50000;

	for (;;) {
		uint64_t d = atomic_load(&s->data);
		long r;

		while (SEM_VALUE(d) > 0)
			if (atomic_compare_exchange_weak(&s->data, &d, d - 1))
				return 0;
		if (try)
			return -EAGAIN;
		if (deadline && gr_now() >= deadline)
			return -ETIMEDOUT;
		if (!gr_can_park()) {
			kernel_wait((_Atomic int *)&s->data, 0);
			continue;
		}
		r = gr_wq_wait(s, 0, GR_WAIT_SEM,
			       shared ? poll_deadline(deadline, &step)
				      : deadline,
			       sem_retry, s);
		atomic_fetch_sub(&s->data, SEM_W1);
		if (gr_intr(r, false) == -EINTR) /* sem_wait never restarts */
			return -EINTR;
		if (r == -ECANCELED)
			gr_testcancel();
	}
}

int gr_sem_post(void *ss)
{
	struct gsem *s = ss;
	uint64_t d = atomic_load(&s->data);

	do {
		if (SEM_VALUE(d) == SEM_VALUE_MAX)
			return -EOVERFLOW;
	} while (!atomic_compare_exchange_weak(&s->data, &d, d + 1));
	if ((d >> 32) != 0) {
		gr_wq_wake(s, 1);
		if (s->private != 0)
			futex(&s->data, FUTEX_WAKE, 1, NULL);
	}
	return 0;
}

/* ---- barrier -------------------------------------------------------- */

struct gbarrier {
	unsigned count;
	_Atomic unsigned arrived;
	_Atomic unsigned gen;
	int shared;
};
_Static_assert(sizeof(struct gbarrier) <= sizeof(pthread_barrier_t), "barrier");

int gr_barrier_init(pthread_barrier_t *bb, const pthread_barrierattr_t *a,
		    unsigned count)
{
	struct gbarrier *br = (struct gbarrier *)bb;
	int ps = PTHREAD_PROCESS_PRIVATE;

	if (count == 0 || count > INT_MAX)
		return -EINVAL;
	if (a != NULL)
		pthread_barrierattr_getpshared(a, &ps);
	br->count = count;
	atomic_store(&br->arrived, 0);
	atomic_store(&br->gen, 0);
	br->shared = ps == PTHREAD_PROCESS_SHARED;
	return 0;
}

int gr_barrier_destroy(pthread_barrier_t *bb)
{
	struct gbarrier *br = (struct gbarrier *)bb;

	return atomic_load(&br->arrived) ? -EBUSY : 0;
}

int gr_barrier_wait(pthread_barrier_t *bb)
{
	struct gbarrier *br = (struct gbarrier *)bb;
	struct gr_waiter w = {.addr = br};
	struct gr_wq_bucket *b;
	int64_t step = 50000;
	unsigned gen;

	bool park = gr_can_park();

	b = gr_wq_lock(br);
	gen = atomic_load(&br->gen);
	if (atomic_fetch_add(&br->arrived, 1) + 1 == br->count) {
		atomic_store(&br->arrived, 0);
		atomic_fetch_add(&br->gen, 1);
		gr_wq_wake_locked(b, br, -1, -1);
		gr_wq_unlock(b);
		if (br->shared)
			futex(&br->gen, FUTEX_WAKE, INT_MAX, NULL);
		return 1; /* the serial thread */
	}
	if (!park) {
		gr_wq_unlock(b);
		while (atomic_load(&br->gen) == gen)
			kernel_wait((_Atomic int *)&br->gen, (int)gen);
		return 0;
	}
	w.t = gr_tls_hub->cur;
	gr_park_begin(GR_WAIT_BARRIER);
	gr_wq_add(b, &w);
	for (;;) {
		gr_wq_park(b, &w, GR_WAIT_BARRIER,
			   br->shared ? poll_deadline(0, &step) : 0);
		if (atomic_load(&br->gen) != gen)
			return 0;
		b = gr_wq_lock(br);
		if (atomic_load(&br->gen) != gen) {
			gr_wq_unlock(b);
			return 0;
		}
		gr_park_begin(GR_WAIT_BARRIER);
		gr_wq_add(b, &w);
	}
}

/* ---- once (glibc's protocol: bit 0 in progress, bit 1 done) ---------- */

#define ONCE_INPROGRESS 1
#define ONCE_DONE	2

struct once_wait {
	_Atomic int *o;
	int seen;
};

static bool once_moved(void *ctx)
{
	struct once_wait *ow = ctx;

	return atomic_load(ow->o) != ow->seen;
}

int gr_once(pthread_once_t *oo, void (*init)(void))
{
	_Atomic int *o = (_Atomic int *)oo;

	for (;;) {
		int v = atomic_load_explicit(o, memory_order_acquire);

		if (v & ONCE_DONE)
			return 0;
		if (!(v & ONCE_INPROGRESS)) {
			if (!atomic_compare_exchange_strong(o, &v,
							    ONCE_INPROGRESS))
				continue;
			init();
			atomic_store_explicit(o, ONCE_DONE,
					      memory_order_release);
			gr_wq_wake(o, -1);
			futex(o, FUTEX_WAKE, INT_MAX, NULL);
			return 0;
		}
		/* Another thread runs init: wait.  It may be glibc's own
		 * pthread_once (futex only), so re-check every 10 ms too. */
		if (!gr_can_park()) {
			kernel_wait(o, v);
			continue;
		}
		struct once_wait ow = {o, v};
		gr_wq_wait(o, 0, GR_WAIT_ONCE, gr_now() + 10000000, once_moved,
			   &ow);
	}
}

/* ---- spin lock: spin a little, then yield to the other green threads - */

int gr_spin_lock(pthread_spinlock_t *ss)
{
	_Atomic int *s = (_Atomic int *)ss;
	/* 0 free, 1 held: our own values (glibc's x86-64 spin locks count
	 * down from 1), so init/trylock/unlock are wrapped as well. */

	for (;;) {
		for (int i = 0; i < 64; i++) {
			if (atomic_load_explicit(s, memory_order_relaxed) ==
				0 &&
			    atomic_exchange_explicit(s, 1,
						     memory_order_acquire) == 0)
				return 0;
			gr_cpu_relax();
		}
		if (gr_may_park())
			gr_yield();
	}
}

/* ---- futex(2) made by the program itself (libstdc++'s futures, atomic
 * waits, C++20 semaphores) ------------------------------------------- */

/* FUTEX_WAIT: park while *addr == val.  0, -EAGAIN, -ETIMEDOUT, -EINTR. */
struct futex_wait {
	const uint32_t *addr;
	uint32_t val;
};

static bool futex_changed(void *ctx)
{
	struct futex_wait *fw = ctx;

	return __atomic_load_n(fw->addr, __ATOMIC_SEQ_CST) != fw->val;
}

long gr_futex_wait(const uint32_t *addr, uint32_t val, int64_t deadline,
		   uint32_t bitset, bool shared)
{
	struct futex_wait fw = {addr, val};
	int64_t step = 1000000, at = deadline;
	long r;

	if (shared) {
		at = gr_now() + step;
		if (deadline && deadline < at)
			at = deadline;
	}
	r = gr_wq_wait(addr, (int)bitset, GR_WAIT_FUTEX, at, futex_changed,
		       &fw);
	if (r == GR_WQ_DONE)
		return -EAGAIN;
	/* A shared word's poll: a spurious wake-up, which futex allows. */
	if (r == -ETIMEDOUT && shared && (!deadline || gr_now() < deadline))
		r = 0;
	if (r == -ECANCELED)
		gr_testcancel();
	return gr_intr(r, false);
}

/* FUTEX_WAKE: green waiters first (bitset-matched), then the kernel's. */
long gr_futex_wake(const uint32_t *addr, int n, uint32_t bitset)
{
	struct gr_wq_bucket *b = gr_wq_lock(addr);
	struct gr_waiter *w, *next;
	int woken = 0;

	for (w = gr_wq_first(b); w && woken < n; w = next) {
		next = w->next;
		if (w->addr != addr || !((uint32_t)w->kind & bitset))
			continue;
		gr_wq_del(b, w);
		if (gr_ready(w->t, 0))
			woken++;
	}
	gr_wq_unlock(b);
	if (woken < n)
		woken +=
		    futex((void *)addr, FUTEX_WAKE_BITSET, n - woken, NULL) > 0;
	return woken;
}
