/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sched.c — hubs, run queues, park / ready, and the life of a green thread.
 *
 * One hub per OS thread that needs one, made on first use.  A green thread
 * runs until it parks; parking switches straight to the next ready thread
 * (no detour through the hub) until GR_POLL_EVERY switches have passed
 * without the hub polling, so that I/O is never starved by threads that keep
 * readying each other.  With nothing ready, the hub runs libev.
 *
 * State machine of a green thread (gr_thread.state):
 *   RUNNABLE --switch_to--> RUNNING --gr_park_begin--> PARKED
 *   PARKED --gr_ready (one CAS: exactly one waker wins)--> RUNNABLE
 *   RUNNING --gr_thread_exit--> DONE --join/detach--> freed
 * A thread publishes itself to a wait queue only after gr_park_begin, so a
 * waker that finds it may ready it even before it has switched away: it is
 * then simply found in the run queue (lost wake-ups are impossible).
 * A thread is resumed only by its own hub's OS thread.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "green.h"
#include "switchhook.h"

#define GR_POLL_EVERY 61

__thread struct gr_hub *gr_tls_hub;
__thread struct gr_thread *gr_tls_os;
__thread int gr_tls_passthrough;
__thread int gr_tls_insignal;
_Atomic int gr_nhubs;
_Atomic uint64_t gr_thread_seq;
static _Atomic int next_owner_id = 1;
static pid_t main_pid;

int gr_hubs_n = 1;
struct gr_hub *gr_hubv[GR_HUBS_MAX];
_Atomic uint64_t gr_idle_hubs;
/* The process ends when its last thread does: green threads alive on any
 * hub (glive) and whether the main thread's own context has exited. */
static _Atomic long glive;
static _Atomic int main_gone, exit_claimed, hubs_tried;
/* Threads between two hubs (in no hub's list), and dlopens that need
 * every thread listed (gr_hubs_hold). */
static _Atomic int in_flight, hold;

const char *const gr_wait_name[] = {
#define W(n, s, f) s,
    GR_WAIT_LIST
#undef W
};

const unsigned char gr_wait_flags[] = {
#define W(n, s, f) f,
    GR_WAIT_LIST
#undef W
};

void gr_coro_start(struct gr_thread *t) GR_HIDDEN;

/* ---- run queue ------------------------------------------------------ */

/* Only the hub's own OS thread changes its queue, but with several hubs the
 * deadlock check of another hub reads rq_head (deadlock.c, hub_hopeless):
 * each store of it is a relaxed atomic one (a plain store, as compiled),
 * or that read would race with it. */
static inline void rq_push(struct gr_hub *h, struct gr_thread *t)
{
	t->rq_next = NULL;
	if (h->rq_tail)
		h->rq_tail->rq_next = t;
	else
		__atomic_store_n(&h->rq_head, t, __ATOMIC_RELAXED);
	h->rq_tail = t;
	h->rq_len++;
}

static inline struct gr_thread *rq_pop(struct gr_hub *h)
{
	struct gr_thread *t = h->rq_head;

	if (unlikely(gr_sched_mode)) /* GREEN_SCHED: schedpolicy.c picks */
		return gr_policy_pop(h);

	if (t) {
		__atomic_store_n(&h->rq_head, t->rq_next, __ATOMIC_RELAXED);
		if (h->rq_head == NULL)
			h->rq_tail = NULL;
		h->rq_len--;
	}
	return t;
}

__thread unsigned gr_tls_wdefer;
__thread uint64_t gr_tls_wpend;

/* Wake the hubs whose wake-up waited for a wait-queue lock (waitq.c). */
void gr_wake_flush(void)
{
	uint64_t m = gr_tls_wpend;

	gr_tls_wpend = 0;
	while (m) {
		int i = __builtin_ctzll(m);

		m &= m - 1;
		gr_hub_wakeup(gr_hubv[i]);
	}
}

/* Readies from other OS threads land here; the hub moves them over. */
static void remote_push(struct gr_hub *h, struct gr_thread *t)
{
	t->rq_next = NULL;
	gr_spin_acquire(&h->rlock);
	if (h->r_tail)
		h->r_tail->rq_next = t;
	else /* atomic: read without the lock (gr_sched_drain_remote) */
		__atomic_store_n(&h->r_head, t, __ATOMIC_RELAXED);
	h->r_tail = t;
	gr_spin_release(&h->rlock);
	if (gr_tls_wdefer != 0 && h->idx < gr_hubs_n && gr_hubv[h->idx] == h)
		gr_tls_wpend |= 1ULL << h->idx; /* at the lock's release */
	else
		gr_hub_wakeup(h);
}

static void adopt(struct gr_hub *h, struct gr_thread *t);
static inline void switch_to(struct gr_hub *h, struct gr_thread *from,
			     struct gr_thread *to);
static void multi_last(struct gr_hub *h, struct gr_thread *t);

void gr_sched_drain_remote(struct gr_hub *h) GR_HIDDEN;
void gr_sched_drain_remote(struct gr_hub *h)
{
	struct gr_thread *t, *n;

	if (__atomic_load_n(&h->r_head, __ATOMIC_RELAXED) == NULL)
		return;
	gr_spin_acquire(&h->rlock);
	t = h->r_head;
	__atomic_store_n(&h->r_head, NULL, __ATOMIC_RELAXED);
	h->r_tail = NULL;
	gr_spin_release(&h->rlock);
	for (; t; t = n) {
		n = t->rq_next;
		if (unlikely(t->adopt))
			adopt(h, t);
		rq_push(h, t);
	}
}

/* ---- the list of a hub's live threads --------------------------------- */

/* With several hubs, other OS threads walk it (gr_hubs_each): under the
 * hub's lock then.  nlive counts the os context too, which is not listed. */
static void all_add(struct gr_hub *h, struct gr_thread *t)
{
	bool lock = gr_multi();

	if (lock)
		gr_spin_acquire(&h->alock);
	t->all_prev = NULL;
	t->all_next = h->all;
	if (h->all)
		h->all->all_prev = t;
	h->all = t;
	/* atomic: read without the lock (load_of, the watchdog); only this
	 * hub's OS thread writes it */
	__atomic_store_n(&h->nlive, h->nlive + 1, __ATOMIC_RELAXED);
	if (lock)
		gr_spin_release(&h->alock);
}

static void all_del(struct gr_hub *h, struct gr_thread *t)
{
	bool lock = gr_multi();

	if (lock)
		gr_spin_acquire(&h->alock);
	__atomic_store_n(&h->nlive, h->nlive - 1, __ATOMIC_RELAXED);
	if (!t->os) {
		if (t->all_prev)
			t->all_prev->all_next = t->all_next;
		else
			h->all = t->all_next;
		if (t->all_next)
			t->all_next->all_prev = t->all_prev;
		t->all_next = t->all_prev = NULL;
	}
	if (lock)
		gr_spin_release(&h->alock);
}

bool gr_hubs_each(bool (*fn)(struct gr_hub *, struct gr_thread *, void *),
		  void *ctx)
{
	for (int i = 0; i < gr_hubs_n; i++) {
		struct gr_hub *h =
		    __atomic_load_n(&gr_hubv[i], __ATOMIC_ACQUIRE);
		bool go = true;

		if (h == NULL)
			continue;
		gr_spin_acquire(&h->alock);
		for (struct gr_thread *t = h->all; t != NULL && go;
		     t = t->all_next)
			go = fn(h, t, ctx);
		gr_spin_release(&h->alock);
		if (!go)
			return false;
	}
	return true;
}

/* ---- several hubs ------------------------------------------------------ */

/* A hub thread of the shim's: born with every signal blocked (the program's
 * threads on it open the mask as they need, signal.c), it makes its hub,
 * leaves its own context for good and runs the hub loop.  Its context is
 * DONE from the start: it is nobody the program knows. */
static void *hub_thread(void *arg)
{
	struct gr_hub *h;
	struct gr_thread *os;
	int idx = (int)(intptr_t)arg;

	h = gr_hub_get();
	h->dedicated = 1;
	h->idx = idx;
	os = h->os;
	os->why = GR_WAIT_EXITED;
	atomic_store(&os->state, GR_DONE);
	__atomic_store_n(&gr_hubv[idx], h, __ATOMIC_RELEASE);
	switch_to(h, os, h->hub);
	GR_ASSERT(!"a hub thread's own context resumed");
	return NULL;
}

static int hubs_wanted(void)
{
	cpu_set_t set;
	int n = gr_cfg.hubs;

	if (n == 0) {
		n = 1;
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			n = CPU_COUNT(&set);
	}
	/* Seeded schedules replay on one hub; a thread that moves takes its
	 * TLS block along, so without blocks of their own they stay. */
	if (gr_sched_mode != GR_SCHED_FIFO || gr_cfg.threads != GR_MODE_GREEN ||
	    !gr_tls_enabled())
		n = 1;
	return n < 1 ? 1 : n > GR_HUBS_MAX ? GR_HUBS_MAX : n;
}

/* At the first pthread_create: the creator's hub is hub 0, and N-1 hub
 * threads are made.  Until each has published its hub, gr_hubv[i] is NULL
 * and nobody sheds to it. */
void gr_hubs_start(void)
{
	struct gr_hub *h = gr_hub_get();
	sigset_t all, old;
	pthread_attr_t a;
	int n;

	if (atomic_exchange(&hubs_tried, 1))
		return;
	n = hubs_wanted();
	if (n == 1)
		return;
	h->idx = 0;
	gr_hubv[0] = h;
	/* Set before the hub threads run: a hub that polls before it sees
	 * several hubs would never say it is idle.  gr_hubv[i] stays NULL
	 * until hub i publishes itself, and every reader allows for that. */
	gr_hubs_n = n;
	sigfillset(&all);
	REAL(pthread_sigmask)(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	gr_tls_passthrough++;
	for (int i = 1; i < n; i++) {
		pthread_t id;

		if (REAL(pthread_create)(&id, &a, hub_thread,
					 (void *)(intptr_t)i) != 0) {
			gr_warn("GREEN_HUBS: could only start %d hubs", i);
			gr_hubs_n = i;
			break;
		}
		atomic_fetch_add(&gr_own_threads, 1);
	}
	gr_tls_passthrough--;
	pthread_attr_destroy(&a);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* Point a thread's TLS block at its new hub: the shim's own per-OS-thread
 * words (tls.c) and the tid glibc's recursive locks compare. */
static void retarget_tls(struct gr_thread *t, struct gr_hub *to)
{
	char *tp = t->tp;

	if (!t->tls_own)
		return;
	*(struct gr_hub **)(tp + gr_tls.hub_off) = to;
	*(struct gr_thread **)(tp + gr_tls.os_off) = to->os;
	*(pid_t *)(tp + gr_tls.tid_off) = to->tid;
}

/* On `from`'s OS thread: t leaves it for `to`, which adopts it as it
 * drains its remote list. */
static void move_out(struct gr_hub *from, struct gr_hub *to,
		     struct gr_thread *t)
{
	if (t->heap_idx >= 0) /* readied before its deadline: as park_end */
		gr_timer_del(from, t);
	all_del(from, t);
	gr_sig_thread_leave(from, t);
	t->hub = to;
	retarget_tls(t, to);
	t->adopt = 1;
	remote_push(to, t);
}

static void adopt(struct gr_hub *h, struct gr_thread *t)
{
	if (t->adopt == 2) /* placed here at its creation */
		atomic_fetch_sub_explicit(&h->placed, 1, memory_order_relaxed);
	else {
		GR_STAT_ADD(GR_ST_STEALS, 1);
		__atomic_store_n(&h->moved_in, h->moved_in + 1,
				 __ATOMIC_RELAXED);
	}
	t->adopt = 0;
	all_add(h, t);
	atomic_fetch_sub(&in_flight, 1);
	gr_sig_thread_new(h, t);
	gr_sig_thread_adopted(h, t);
	gr_preempt_thread_new(h);
}

/* May a thread leave its hub now?  Not while a dlopen copies a module's
 * TLS image into every listed thread.  A yes counts it in flight. */
static bool flight_begin(void)
{
	atomic_fetch_add(&in_flight, 1);
	if (atomic_load(&hold) == 0)
		return true;
	atomic_fetch_sub(&in_flight, 1);
	return false;
}

/* dlopen (tls.c): no thread may move from now until gr_hubs_release, and
 * those on their way are let arrive, so that walking every hub's list
 * finds every thread.  A thread on its way here is adopted by us. */
void gr_hubs_hold(void)
{
	int64_t until;

	atomic_fetch_add(&hold, 1);
	if (atomic_load(&in_flight) == 0)
		return;
	until = gr_now() + 200000000;
	while (atomic_load(&in_flight) != 0 && gr_now() < until) {
		if (gr_tls_hub != NULL)
			gr_sched_drain_remote(gr_tls_hub);
		REAL(sched_yield)();
	}
}

/* Threads on their way between hubs (the deadlock report must not miss
 * them: they are in no hub's list). */
int gr_hubs_in_flight(void)
{
	return atomic_load(&in_flight);
}

void gr_hubs_release(void)
{
	int n = atomic_load(&hold);

	/* > 0 but for a fork inside the dlopen, whose child starts at 0 */
	while (n > 0 && !atomic_compare_exchange_weak(&hold, &n, n - 1))
		;
}

/* A hub's load for placement: its live threads and those on their way. */
static inline int load_of(struct gr_hub *g)
{
	return __atomic_load_n(&g->nlive, __ATOMIC_RELAXED) +
	       atomic_load_explicit(&g->placed, memory_order_relaxed);
}

/* Where a new thread goes: its creator's hub (the two will often talk,
 * and a join then costs no cross-hub wake-up), unless another hub has
 * clearly fewer threads, as a thread-per-connection acceptor on one hub
 * would otherwise keep every connection to itself (each runs at once and
 * then parks on its socket, so it never waits to be handed over): then
 * the least loaded.
 * Idle hubs are fed besides (gr_sched_shed). */
static struct gr_hub *place(struct gr_hub *h)
{
	struct gr_hub *best = h;
	int mine = load_of(h), least = mine;

	for (int i = 0; i < gr_hubs_n; i++) {
		struct gr_hub *g =
		    __atomic_load_n(&gr_hubv[i], __ATOMIC_ACQUIRE);
		int l;

		if (g == NULL || g == h)
			continue;
		l = load_of(g);
		if (l < least) {
			least = l;
			best = g;
		}
	}
	/* clearly: no more than 3/4 of ours, and 2 fewer at least (so a
	 * thread that makes one helper and joins it keeps it) */
	if (best != h && (least + 2 > mine || least * 4 > mine * 3))
		best = h;
	return best;
}

static bool may_move(struct gr_thread *t)
{
	/* An OS thread's own context runs on its own stack: never; nor a
	 * thread without a TLS block of its own (it uses its OS thread's),
	 * one that holds a FILE's lock, or one with a signal on its way. */
	if (t->os || !t->tls_own || t->flocks != 0 ||
	    atomic_load_explicit(&t->sig_due, memory_order_relaxed) != 0 ||
	    atomic_load_explicit(&t->sig_inbox, memory_order_relaxed) != 0)
		return false;
	if (t->movable) /* never ran, or preempted in the program's code */
		return t->heap_idx < 0;
	/* readied inside a call: green.h says which waits allow it */
	return gr_wait_flags[t->why] & GR_WF_M;
}

/* Take up to n movable threads out of one queue (head/tail, its length
 * in *len if it keeps one), keeping the order of the rest; they are chained
 * on *out. */
static int take_movable(struct gr_thread **head, struct gr_thread **tail,
			unsigned *len, int n, struct gr_thread **out)
{
	struct gr_thread *t = *head, *prev = NULL, *next;
	int got = 0;

	for (; t != NULL && got < n; t = next) {
		next = t->rq_next;
		if (!may_move(t)) {
			prev = t;
			continue;
		}
		if (prev)
			prev->rq_next = next;
		else
			*head = next;
		if (*tail == t)
			*tail = prev;
		if (len)
			(*len)--;
		t->rq_next = *out;
		*out = t;
		got++;
	}
	return got;
}

/* The hub polls and some other hub sleeps with nothing to run: hand it
 * half of what waits here (threads never run yet, threads preempted in
 * the program's own code, threads readied out of an fd, lock or sleep
 * wait), as Go's idle Ps steal half a run queue.  The
 * busy hub gives rather than the idle one taking, so that only a hub's own
 * OS thread ever touches its queues and timer heap. */
void gr_sched_shed(struct gr_hub *h)
{
	uint64_t idle =
	    atomic_load_explicit(&gr_idle_hubs, memory_order_relaxed) &
	    ~(1ULL << h->idx);
	struct gr_thread *out = NULL, *t, *n;
	struct gr_hub *to;
	int waiting = (int)h->rq_len, give;

	if (idle == 0 || gr_sched_mode != GR_SCHED_FIFO)
		return;
	for (t = h->pq_head; t != NULL; t = t->rq_next)
		waiting++;
	give = waiting / 2;
	if (give == 0)
		return;
	to = __atomic_load_n(&gr_hubv[__builtin_ctzll(idle)], __ATOMIC_ACQUIRE);
	if (to == NULL)
		return;
	/* Claim it, so that two busy hubs do not both feed it. */
	if (!(atomic_fetch_and(&gr_idle_hubs, ~(1ULL << to->idx)) &
	      (1ULL << to->idx)))
		return;
	give -= take_movable(&h->pq_head, &h->pq_tail, NULL, give, &out);
	take_movable(&h->rq_head, &h->rq_tail, &h->rq_len, give, &out);
	for (t = out; t != NULL; t = n) {
		n = t->rq_next;
		if (flight_begin()) {
			move_out(h, to, t);
		} else { /* a dlopen holds them: back to the queue */
			t->rq_next = NULL;
			rq_push(h, t);
		}
	}
}

/* In the child of a fork: one hub, this one, which grows again lazily. */
void gr_hubs_after_fork(struct gr_hub *h)
{
	struct gr_thread *self = h != NULL ? h->cur : NULL;

	/* the parent's hub threads are not the child's */
	if (gr_hubs_n > 1)
		atomic_fetch_sub(&gr_own_threads, gr_hubs_n - 1);

	for (int i = 0; i < GR_HUBS_MAX; i++)
		gr_hubv[i] = NULL;
	gr_hubs_n = 1;
	atomic_store(&hubs_tried, 0);
	atomic_store(&in_flight, 0);
	atomic_store(&hold, 0);
	atomic_store(&gr_idle_hubs, 0);
	atomic_store(&gr_hubs_stuck, 0);
	atomic_store(&exit_claimed, 0);
	if (self != NULL && !self->os) {
		atomic_store(&glive, 1);
		atomic_store(&main_gone, 1);
	} else {
		atomic_store(&glive, 0);
		atomic_store(&main_gone, 0);
	}
	if (h != NULL) {
		h->idx = 0;
		h->dedicated = 0;
		atomic_flag_clear(&h->alock);
	}
}

/* ---- switching ------------------------------------------------------ */

/* Whoever wins frees a finished thread: its joiner, or (detached) the
 * hub that ran it, or pthread_detach of a thread already DONE. */
static void reap(struct gr_thread *t)
{
	unsigned char no = 0;

	if (atomic_compare_exchange_strong(&t->reaped, &no, 1))
		gr_thread_free(t);
}

/* A thread finished on h, and the hub has switched away from it: only now
 * is it DONE.  Its end is one word that the joiner, a detacher and this
 * side each change once: whoever comes second frees the thread, and after
 * its exchange this side touches the thread no more (a joiner on another
 * hub may free it at once). */
static void end_thread(struct gr_hub *h)
{
	struct gr_thread *t = h->ended;
	uintptr_t w;

	h->ended = NULL;
	atomic_store(&t->state, GR_DONE);
	if (t->os) {
		atomic_store(&t->exitw, GR_EXIT_DONE);
		return;
	}
	w = atomic_exchange(&t->exitw, GR_EXIT_DONE);
	if (w == GR_EXIT_DETACHED)
		reap(t);
	else if (w != 0)
		gr_ready((struct gr_thread *)w, 0);
}

/* errno lives in TLS, so it follows a thread with a block of its own; the
 * hub and the OS thread's own context share the OS thread's block, so it
 * is still carried for them (and for everyone under GREEN_TLS=shared). */
static inline void switch_to(struct gr_hub *h, struct gr_thread *from,
			     struct gr_thread *to)
{
	if (!from->tls_own)
		from->err = errno;
	atomic_store_explicit(&to->state, GR_RUNNING, memory_order_relaxed);
	h->cur = to;
	/* atomic: other hubs read it (deadlock check, stats, watchdog); only
	 * this hub's OS thread writes it */
	__atomic_store_n(&h->switches, h->switches + 1, __ATOMIC_RELAXED);
	gr_switch_prepare(from, to);
	if (to->tp != from->tp)
		gr_tls_set_tp(to->tp);
	gr_san_tls_switched(from, to);
	gr_switch(&from->sp, to->sp);
	gr_switch_done(from);
	/* Back in `from`, maybe much later, and maybe on another hub (a
	 * runnable thread may move: from->hub says where it is now). */
	if (!from->tls_own)
		errno = from->err;
	h = from->hub;
	if (unlikely(h->ended != NULL))
		end_thread(h);
}

static inline struct gr_thread *pick_next(struct gr_hub *h)
{
	struct gr_thread *n;

	if (h->tick < h->budget && (n = rq_pop(h)) != NULL) {
		h->tick++;
		return n;
	}
	return h->hub;
}

/* ---- park / ready --------------------------------------------------- */

void gr_park_begin(enum gr_wait why)
{
	struct gr_thread *t = gr_tls_hub->cur;

	t->why = why;
	t->wake = 0;
	t->interruptible = gr_wait_flags[why] & (GR_PF_CANCEL | GR_PF_EINTR);
	if (unlikely(gr_vclock_on))
		gr_vclock_park(why, 1);
	atomic_store_explicit(&t->state, GR_PARKED, memory_order_release);
}

long gr_park_end(int64_t deadline)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *t = h->cur, *next;

	GR_ASSERT(t != h->hub);
	/* the hub's own counter: no lock prefix, no line shared with another
	 * hub (atomic only for the reader at exit) */
	__atomic_store_n(&h->parks[t->why], h->parks[t->why] + 1,
			 __ATOMIC_RELAXED);
	if (deadline) {
		t->deadline = deadline;
		gr_timer_add(h, t);
	}
	next = pick_next(h);
	if (next != t)
		switch_to(h, t, next);
	else
		atomic_store_explicit(&t->state, GR_RUNNING,
				      memory_order_relaxed);
	if (t->heap_idx >= 0)
		gr_timer_del(h, t);
	if (unlikely(gr_vclock_on))
		gr_vclock_park(t->why, -1);
	t->why = GR_WAIT_NONE;
	gr_sig_check(t); /* handlers handed to us while parked */
	return t->wake;
}

/* Undo gr_park_begin when the condition turned true before switching.  If a
 * waker already readied us, the ready must be consumed by a real park. */
void gr_park_abort(void)
{
	struct gr_thread *t = gr_tls_hub->cur;
	int exp = GR_PARKED;

	if (atomic_compare_exchange_strong(&t->state, &exp, GR_RUNNING)) {
		if (unlikely(gr_vclock_on))
			gr_vclock_park(t->why, -1);
		t->why = GR_WAIT_NONE;
	} else
		gr_park_end(0);
}

long gr_park(enum gr_wait why, int64_t deadline)
{
	gr_park_begin(why);
	return gr_park_end(deadline);
}

/* ---- spreading a running hub's work to an idle one ----------------- */

/* How long the running thread may go on (from its first shim call after it
 * readied another on its hub), while some hub sleeps idle, before it
 * yields to that hub.  Go's idle
 * Ps wait ~3 us before taking a just-readied goroutine (most hand-offs
 * park the waker at once); a switch here costs a few us (the TLS pointer
 * is a system call without FSGSBASE), so the window is wider. */
#define GR_SPREAD_NS 50000

static inline bool other_idle(struct gr_hub *h)
{
	return atomic_load_explicit(&gr_idle_hubs, memory_order_relaxed) &
	       ~(1ULL << h->idx);
}

/* A thread was readied on h, its own hub, by the running thread (not by
 * the hub's poll: the hub sheds then, gr_sched_shed).  If another hub
 * sleeps idle, ask the runner (at its next shim call) whether it is still
 * running: if it is, the two could run at once, and one of them moves.
 * As a hand-off (cond ping-pong) parks the waker within microseconds,
 * that pair stays on one hub. */
static inline void want_spread(struct gr_hub *h)
{
	if (h->cur == h->hub ||
	    (h->spread_asked && h->spread_sw == h->switches) || !other_idle(h))
		return;
	h->spread_asked = 1;
	h->spread_ns = 0; /* stamped at the runner's next call: no clock
			   * read on the wake-up path */
	h->spread_sw = h->switches;
	h->preempt_due = 1; /* gr_call_begin's check, shared */
}

/* At a shim call of the running thread, asked by want_spread: 1 if it
 * yielded (movable: the hub's poll hands it to the idle hub, and it may
 * return on another hub), 0 if it is to be asked again at its next call,
 * -1 if nothing is to be done.  outer: the call is not nested in another
 * wrapper of ours, so no frame of ours below it remembers the hub. */
int gr_sched_spread(struct gr_hub *h, bool outer)
{
	struct gr_thread *t = h->cur;
	int64_t now;

	if (h->switches != h->spread_sw || h->rq_head == NULL || !other_idle(h))
		goto no;
	now = gr_now();
	if (h->spread_ns == 0)
		h->spread_ns = now; /* the first call since the wake-up */
	if (now - h->spread_ns < GR_SPREAD_NS)
		return 0;
	if (!outer || !gr_may_park() || t->os || !t->tls_own ||
	    t->flocks != 0 || gr_sched_mode != GR_SCHED_FIFO)
		goto no;
	h->spread_asked = 0;
	gr_yield_preempted(true);
	return 1;
no:
	h->spread_asked = 0;
	return -1;
}

/* Hand a parked thread back to its hub.  From any OS thread, any context
 * but a signal handler.  Exactly one caller wins per park. */
bool gr_ready(struct gr_thread *t, long wake)
{
	int exp = GR_PARKED;
	struct gr_hub *h;

	if (!atomic_compare_exchange_strong(&t->state, &exp, GR_RUNNABLE))
		return false;
	h = t->hub; /* after the CAS: a parked thread does not move */
	t->wake = wake;
	if (h == gr_tls_hub) {
		rq_push(h, t);
		if (unlikely(gr_multi()))
			want_spread(h);
	} else
		remote_push(h, t);
	return true;
}

/* As gr_ready, but at the head of the run queue: for a thread waiting in
 * accept(), so a listener's backlog is drained before the kernel drops
 * SYNs (real threads get the CPU at once; here the acceptor would wait
 * behind a whole batch). */
bool gr_ready_first(struct gr_thread *t, long wake)
{
	int exp = GR_PARKED;
	struct gr_hub *h = gr_tls_hub;

	if (!atomic_compare_exchange_strong(&t->state, &exp, GR_RUNNABLE))
		return false;
	if (t->hub != h) {
		t->wake = wake;
		remote_push(t->hub, t);
		return true;
	}
	t->wake = wake;
	t->rq_next = h->rq_head;
	__atomic_store_n(&h->rq_head, t, __ATOMIC_RELAXED);
	if (h->rq_tail == NULL)
		h->rq_tail = t;
	h->rq_len++;
	if (unlikely(gr_multi()))
		want_spread(h);
	return true;
}

/* The preempted queue: threads that used up a time slice (preempt.c) wait
 * behind everything runnable, so that a thread a timer or an fd readied
 * runs before the CPU-bound ones, as a kernel scheduler favours sleepers.
 * The hub takes one from it per pass when the run queue is empty, or when
 * it has taken none for five slices, so nothing starves behind threads
 * that keep readying each other. */
static inline void pq_push(struct gr_hub *h, struct gr_thread *t)
{
	t->rq_next = NULL;
	if (h->pq_tail)
		h->pq_tail->rq_next = t;
	else
		h->pq_head = t;
	h->pq_tail = t;
}

static void pq_take(struct gr_hub *h)
{
	struct gr_thread *t = h->pq_head;
	int64_t now;

	if (likely(t == NULL))
		return;
	now = gr_now();
	if (h->rq_head != NULL &&
	    now - h->pq_last < (int64_t)gr_cfg.preempt_ms * 5000000)
		return;
	h->pq_last = now;
	h->pq_head = t->rq_next;
	if (h->pq_head == NULL)
		h->pq_tail = NULL;
	rq_push(h, t);
}

/* From preempt.c's trampoline, at a safe point of the running thread:
 * to the back of the preempted queue, and let the hub poll first. */
void gr_yield_preempted(bool movable)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *t = h->cur;

	atomic_store_explicit(&t->state, GR_RUNNABLE, memory_order_relaxed);
	t->movable = movable;
	pq_push(h, t);
	switch_to(h, t, h->hub);
	t->movable = 0;
	gr_sig_check(t);
}

void gr_yield(void)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *t = h->cur, *next;

	atomic_store_explicit(&t->state, GR_RUNNABLE, memory_order_relaxed);
	/* Beside preempted threads, a yield goes behind them too: a thread
	 * spinning on sched_yield() must not starve them. */
	if (unlikely(h->pq_head != NULL)) {
		pq_push(h, t);
		switch_to(h, t, h->hub);
		gr_sig_check(t);
		return;
	}
	rq_push(h, t);
	/* Alone in the queue: let the hub poll once before we go on, so a
	 * thread spinning on sched_yield() still lets I/O in. */
	next = h->rq_head == t ? h->hub : pick_next(h);
	if (next != t)
		switch_to(h, t, next);
	else
		atomic_store_explicit(&t->state, GR_RUNNING,
				      memory_order_relaxed);
	gr_sig_check(t);
}

/* A TLS count, not a hub field: a hub may be made inside the region (a
 * library constructor creating a thread), and the count must balance. */
__thread unsigned gr_tls_nopark;

void gr_nopark_enter(void)
{
	gr_tls_nopark++;
}

void gr_nopark_leave(void)
{
	gr_tls_nopark--;
}

/* ---- the hub -------------------------------------------------------- */

void gr_sched_hub_main(struct gr_hub *h)
{
	struct gr_thread *n;

	for (;;) {
		h->tick = 0;
		gr_hub_poll(h, h->rq_head == NULL && h->pq_head == NULL);
		if (unlikely(gr_multi()) &&
		    atomic_load_explicit(&gr_idle_hubs, memory_order_relaxed))
			gr_sched_shed(h);
		pq_take(h);
		/* Poll again after the whole batch has run once (at least
		 * GR_POLL_EVERY switches), however long it is: every
		 * epoll_wait re-polls each level-triggered fd it reported
		 * last time, and reports again every fd whose reader is
		 * readied but has not run yet.  Polling in the middle of a
		 * long batch costs more than it brings (at 19,000
		 * connections a cap of 1,024 made io_cb run 14 times per
		 * round trip).  The batch is what an epoll server does with
		 * one epoll_wait's events; an acceptor goes to its head
		 * (gr_ready_first), so a long batch does not delay accepts. */
		h->budget =
		    h->rq_len < GR_POLL_EVERY ? GR_POLL_EVERY : h->rq_len;
		n = rq_pop(h);
		if (n != NULL) {
			/* a signal deferred since the poll goes first */
			gr_sig_hub_intake(h);
			switch_to(h, h->hub, n);
		}
	}
}

static void os_thread_gone(void *p);
static pthread_key_t os_key;
static pthread_once_t os_key_once = PTHREAD_ONCE_INIT;

static void os_key_make(void)
{
	REAL(pthread_key_create)(&os_key, os_thread_gone);
}

#ifdef GR_TSAN
/* libtsan's thread start sets a key of its own (pthread_setspecific, ours)
 * before it has set the new OS thread up: making the thread's context
 * there would go through libtsan's calloc and pthread_once, which fault.
 * The value waits here until the context is made. */
static __thread struct {
	pthread_key_t k;
	const void *v;
	bool set;
} tsan_early;
#endif

struct gr_thread *gr_os_self(void)
{
	struct gr_thread *t = gr_tls_os;

	if (t != NULL)
		return t;
	t = gr_calloc(1, sizeof(*t));
	if (t == NULL)
		gr_die("out of memory for the OS thread's context");
	t->os = 1;
	t->heap_idx = -1;
	t->stack_class = -1;
	t->owner_id = (int)REAL(syscall)(SYS_gettid);
	t->real_id = REAL(pthread_self)();
	t->tp = gr_tls_os_tp();
	gr_san_os_thread(t);
	t->state = GR_RUNNING;
	REAL(pthread_sigmask)(SIG_SETMASK, NULL, &t->sigmask);
	gr_tls_os = t;
	if (main_pid == 0)
		main_pid = getpid();
	/* Our keys' destructors must run when a real thread ends. */
	if (t->owner_id != main_pid) {
		REAL(pthread_once)(&os_key_once, os_key_make);
		REAL(pthread_setspecific)(os_key, t);
	}
#ifdef GR_TSAN
	if (tsan_early.set) {
		tsan_early.set = false;
		gr_setspecific(tsan_early.k, tsan_early.v);
	}
#endif
	return t;
}

static void os_thread_gone(void *p)
{
	struct gr_thread *t = p;

	gr_tsd_run_dtors(t);
}

struct gr_hub *gr_hub_get(void)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *os, *hub;
	int mem;

	if (h != NULL) {
		if (unlikely(h->forked))
			gr_hub_refork(h);
		return h;
	}
	/* While the hub is made, nothing on this OS thread may park or make
	 * another: libev allocates with the program's malloc, which may take
	 * a contended lock (jemalloc's, through our pthread_mutex_lock) and
	 * would come back here, re-entering the allocator (a segfault seen
	 * with jemalloc preloaded and a hub thread starting). */
	gr_tls_passthrough++;
	os = gr_os_self();
	h = gr_calloc(1, sizeof(*h));
	if (h == NULL)
		gr_die("out of memory for a hub");
	h->tid = os->owner_id;
	h->os = os;
	os->hub = h;
	h->cur = os;
	h->nlive = 1;
	h->tfd = -1;
	atomic_flag_clear(&h->rlock);
	hub = gr_thread_new(256 << 10, 0, NULL, 0, false, &mem);
	if (hub == NULL)
		gr_die("cannot map the hub's stack");
	hub->tp = os->tp; /* the hub keeps the OS thread's TLS */
	gr_san_os_thread(hub);
	hub->hub = h;
	hub->owner_id = os->owner_id;
	strcpy(hub->name, "hub");
	h->hub = hub;
	gr_hub_loop_init(h);
	atomic_fetch_add(&gr_nhubs, 1);
	gr_tls_hub = h;
	gr_diag_start(h);
	gr_sig_hub_init(h);
	gr_fork_register();
	gr_tls_passthrough--;
	return h;
}

/* The first code a new coroutine runs, from gr_coro_trampoline. */
void gr_coro_start(struct gr_thread *t)
{
	struct gr_hub *h = t->hub;

	gr_switch_done(t);
	if (h->ended != NULL)
		end_thread(h);
	t->movable = 0;
	errno = 0;
	if (t == h->hub)
		gr_sched_hub_main(h);
	if (t->tls_own)
		gr_tls_thread_start(t);
	gr_sig_check(t);
	gr_thread_exit(t->fn(t->arg));
}

/* ---- thread lifecycle ----------------------------------------------- */

int gr_thread_create(struct gr_thread **out, const pthread_attr_t *attr,
		     void *(*fn)(void *), void *arg)
{
	struct gr_hub *h = gr_hub_get(), *to;
	struct gr_thread *t, *self = h->cur;
	size_t stack = 0, guard = 0, dflt, usize = 0;
	void *ustack = NULL;
	int detach = PTHREAD_CREATE_JOINABLE;
	uint64_t live;
	bool tls = gr_tls_enabled();
	int mem;

	if (unlikely(gr_hubs_n == 1 && gr_cfg.hubs != 1 && !hubs_tried))
		gr_hubs_start();
	gr_stack_limits(&dflt, &guard);
	if (attr != NULL) {
		pthread_attr_getdetachstate(attr, &detach);
		pthread_attr_getguardsize(attr, &guard);
		/* glibc reports stackaddr - stacksize: 0 - size when the
		 * program gave no stack of its own. */
		pthread_attr_getstack(attr, &ustack, &usize);
		if ((uintptr_t)ustack + usize == 0)
			ustack = NULL;
		if (ustack == NULL) {
			pthread_attr_getstacksize(attr, &stack);
			/* An attribute nobody sized reports glibc's default:
			 * honour GREEN_STACK_SIZE for it. */
			if (gr_conf()->stack_size && stack == 0)
				stack = dflt;
		}
	}
#ifdef GR_TSAN
	/* libtsan's 768 KiB of static TLS come on top of the stack the
	 * program asked for, as libtsan's own pthread_create makes room */
	if (stack != 0)
		stack += gr_tls_space();
#endif
	/* glibc: a guard or stack that overflows when rounded is EINVAL */
	if (guard > SIZE_MAX / 2 || stack > SIZE_MAX / 2 - guard)
		return -EINVAL;
	t = gr_thread_new(stack, guard, ustack, usize, tls, &mem);
	if (t == NULL)
		return -EAGAIN;
	to = gr_multi() ? place(h) : h;
	if (to != h && !flight_begin())
		to = h;
	if (!tls) {
		t->tp = h->os->tp;
	} else if (gr_tls_thread_init(t, to, mem) != 0) {
		gr_thread_free(t);
		return -EAGAIN;
	}
	gr_san_thread_new(t);
	t->hub = to;
	t->fn = fn;
	t->arg = arg;
	t->detached = detach == PTHREAD_CREATE_DETACHED;
	if (t->detached)
		t->exitw = GR_EXIT_DETACHED;
	t->owner_id =
	    0x40000000 | (atomic_fetch_add(&next_owner_id, 1) & 0x3fffffff);
	t->seq = atomic_fetch_add(&gr_thread_seq, 1) + 1;
	t->sigmask = self->sigmask;
	t->state = GR_RUNNABLE;
	t->movable = 1;
	/* the peak of green threads alive at once, over every hub, the
	 * creating OS thread's own context counted as one */
	live = (uint64_t)atomic_fetch_add(&glive, 1) + 2;
	if (live >
	    atomic_load_explicit(&gr_stats[GR_ST_PEAK], memory_order_relaxed))
		atomic_store_explicit(&gr_stats[GR_ST_PEAK], live,
				      memory_order_relaxed);
	GR_STAT_ADD(GR_ST_CREATED, 1);
	gr_diag_thread_new(t);
	*out = t;
	if (to != h) { /* adopted by `to` as it drains (adopt) */
		atomic_fetch_add_explicit(&to->placed, 1, memory_order_relaxed);
		t->adopt = 2;
		remote_push(to, t);
		return 0;
	}
	all_add(h, t);
	rq_push(h, t);
	gr_sig_thread_new(h, t);
	gr_preempt_thread_new(h);
	return 0;
}

struct gr_unwind_buf { /* glibc's struct pthread_unwind_buf */
	struct {
		long jmp_buf[8];
		int mask_was_saved;
	} cancel_jmp_buf[1];
	struct gr_unwind_buf *prev;
	void *cleanup;
	int canceltype;
};

static void thread_finish(struct gr_thread *t) __attribute__((noreturn));

/* Run the next C cleanup handler (pthread_cleanup_push) by jumping into its
 * frame; the handler ends with __pthread_unwind_next(), which comes back
 * here.  With none left, the thread ends. */
void gr_unwind_continue(struct gr_thread *t) GR_HIDDEN
    __attribute__((noreturn));
void gr_unwind_continue(struct gr_thread *t)
{
	struct gr_unwind_buf *b = t->cleanup;

	if (b != NULL) {
		t->cleanup = b->prev;
		/* The buffer is glibc's short cancel jmp_buf (no signal
		 * mask), which longjmp reads no further than. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
		REAL(longjmp)
		((struct __jmp_buf_tag *)(void *)b->cancel_jmp_buf, 1);
#pragma GCC diagnostic pop
	}
	thread_finish(t);
}

void gr_thread_exit(void *ret)
{
	struct gr_thread *t = gr_self();

	t->ret = ret;
	t->exiting = 1;
	gr_unwind_continue(t);
}

static void thread_finish(struct gr_thread *t)
{
	struct gr_hub *h = t->hub;

	gr_tls_thread_dtors(t); /* C++ thread_local, before the keys' */
	gr_tsd_run_dtors(t);
	h = t->hub; /* a destructor may have parked: it may have moved */
	if (gr_multi() && h != NULL)
		multi_last(h, t);
	else if (h == NULL || h->nlive == 1) {
		/* No green thread left beside this one. */
		if (t->os)
			REAL(pthread_exit)(t->ret);
		/* glibc ends a thread through the OS thread's own TCB
		 * (its cleanup buffer, its lists): go back to it. */
		gr_san_tls_switch(t, h->os);
		if (t->tls_own)
			gr_tls_set_tp(h->os->tp);
		gr_san_tls_switched(t, h->os);
		/* The last green thread of a hub whose OS thread already
		 * exited its own context: end as that OS thread would. */
		if (h->tid == main_pid || main_pid == 0)
			REAL(exit)(0);
		REAL(pthread_exit)(NULL);
	}
	if (!t->os)
		atomic_fetch_sub(&glive, 1);
	all_del(h, t);
	gr_sig_thread_gone(h, t);
	t->why = GR_WAIT_EXITED;
	gr_tls_thread_freeres(t); /* last: it shuts malloc down for t */
	/* DONE, the joiner readied and a detached thread freed once the hub
	 * has switched away from this stack (end_thread).  Never to return:
	 * the os context's stack stays as it is, parked. */
	h->ended = t;
	for (;;) {
		struct gr_thread *next = pick_next(h);
		if (next == t)
			continue;
		switch_to(h, t, next);
	}
}

/* Several hubs: is t the last thread of the process?  Then it ends the
 * process as the last thread does natively (exit(0), atexit handlers
 * run).  The main thread's own context that ends while green threads
 * live stays parked, so its OS thread goes on as hub 0.  The two sides
 * (the last green thread, main's context) each write their word, then
 * read the other's: one of them sees both, and one exit is claimed. */
static void multi_last(struct gr_hub *h, struct gr_thread *t)
{
	bool last;

	if (t->os) {
		if (h->tid != main_pid) {
			if (h->nlive == 1)
				REAL(pthread_exit)(t->ret);
			return;
		}
		atomic_store(&main_gone, 1);
		last = atomic_load(&glive) == 0;
	} else {
		last =
		    atomic_fetch_sub(&glive, 1) == 1 && atomic_load(&main_gone);
		if (!last)
			atomic_fetch_add(&glive, 1); /* thread_finish's */
	}
	if (!last || atomic_exchange(&exit_claimed, 1))
		return;
	gr_san_tls_switch(t, h->os);
	if (t->tls_own)
		gr_tls_set_tp(h->os->tp);
	gr_san_tls_switched(t, h->os);
	if (t->os)
		REAL(pthread_exit)(t->ret);
	REAL(exit)(0);
}

int gr_thread_join(struct gr_thread *t, void **ret, int64_t deadline, bool try)
{
	struct gr_thread *self = gr_self();
	uintptr_t w = 0;
	long r;

	if (t == self)
		return -EDEADLK;
	if (t->detached || t->joined)
		return -EINVAL;
	if (t->joiner != NULL && t->joiner != self)
		return -EINVAL;
	if (self->joiner == t)
		return -EDEADLK;
	t->joiner = self; /* for the checks above */
	while (atomic_load(&t->exitw) != GR_EXIT_DONE) {
		if (try) {
			t->joiner = NULL;
			return -EBUSY;
		}
		if (gr_tls_hub == NULL || gr_tls_hub->cur == gr_tls_hub->hub)
			gr_die("pthread_join of a green thread outside a green "
			       "thread");
		/* Parked first, then our name in its end word: end_thread
		 * (maybe on another hub) readies whoever it finds there. */
		self->wait_obj = t;
		gr_park_begin(GR_WAIT_JOIN);
		w = 0;
		if (!atomic_compare_exchange_strong(&t->exitw, &w,
						    (uintptr_t)self)) {
			gr_park_abort(); /* DONE already */
			break;
		}
		r = gr_park_end(deadline);
		w = (uintptr_t)self;
		if (atomic_compare_exchange_strong(&t->exitw, &w, 0)) {
			/* not done: a timeout, a cancel or a spurious wake */
			if (r == -ETIMEDOUT) {
				t->joiner = NULL;
				return -ETIMEDOUT;
			}
			if (r == -ECANCELED) {
				t->joiner = NULL;
				gr_testcancel();
				t->joiner = self;
			}
		}
	}
	t->joined = 1;
	if (ret)
		*ret = t->ret;
	if (!t->os)
		reap(t);
	return 0;
}

int gr_thread_detach(struct gr_thread *t)
{
	uintptr_t w = 0;

	if (t->detached)
		return -EINVAL;
	t->detached = 1;
	if (!atomic_compare_exchange_strong(&t->exitw, &w, GR_EXIT_DETACHED) &&
	    w == GR_EXIT_DONE && !t->os)
		reap(t);
	return 0;
}

struct gr_thread *gr_thread_from(pthread_t id)
{
	struct gr_thread *t = (struct gr_thread *)id;

	if (t != NULL && ((uintptr_t)t & 7) == 0 && t->magic == GR_MAGIC)
		return t;
	return NULL;
}

/* ---- cancellation (deferred) ---------------------------------------- */

void gr_testcancel(void)
{
	struct gr_thread *t = gr_self();

	if (t->cancel_pending && !t->cancel_disabled && !t->exiting) {
		gr_thread_exit(PTHREAD_CANCELED);
	}
}

int gr_cancel(struct gr_thread *t)
{
	if (atomic_load(&t->state) == GR_DONE)
		return 0;
	t->cancel_pending = 1;
	if (!t->cancel_disabled && atomic_load(&t->state) == GR_PARKED &&
	    (t->interruptible & GR_PF_CANCEL))
		gr_ready(t, -ECANCELED);
	return 0;
}

/* ---- thread-specific data ------------------------------------------- */

#define GR_KEYS_MAX 1024
#define GR_KEY_BLK  32
struct gr_key {
	_Atomic uintptr_t seq; /* odd: in use */
	void (*dtor)(void *);
};
struct gr_tsd_slot {
	uintptr_t seq;
	void *val;
};
static struct gr_key keys[GR_KEYS_MAX];

GR_NO_TSAN int gr_key_create(pthread_key_t *k, void (*dtor)(void *))
{
	for (unsigned i = 0; i < GR_KEYS_MAX; i++) {
		uintptr_t s = atomic_load(&keys[i].seq);

		if ((s & 1) == 0 &&
		    atomic_compare_exchange_strong(&keys[i].seq, &s, s + 1)) {
			keys[i].dtor = dtor;
			*k = i;
			return 0;
		}
	}
	return -EAGAIN;
}

int gr_key_delete(pthread_key_t k)
{
	uintptr_t s;

	if (k >= GR_KEYS_MAX)
		return -EINVAL;
	s = atomic_load(&keys[k].seq);
	if ((s & 1) == 0 ||
	    !atomic_compare_exchange_strong(&keys[k].seq, &s, s + 1))
		return -EINVAL;
	return 0;
}

static struct gr_tsd_slot *tsd_slot(struct gr_thread *t, pthread_key_t k,
				    bool make)
{
	struct gr_tsd_slot **blk;

	if (t->tsd == NULL) {
		if (!make)
			return NULL;
		t->tsd = gr_calloc(GR_KEYS_MAX / GR_KEY_BLK, sizeof(void *));
		if (t->tsd == NULL)
			return NULL;
	}
	blk = (struct gr_tsd_slot **)t->tsd + k / GR_KEY_BLK;
	if (*blk == NULL) {
		if (!make)
			return NULL;
		*blk = gr_calloc(GR_KEY_BLK, sizeof(struct gr_tsd_slot));
		if (*blk == NULL)
			return NULL;
	}
	return *blk + k % GR_KEY_BLK;
}

void *gr_getspecific(pthread_key_t k)
{
	struct gr_tsd_slot *s;

	if (k >= GR_KEYS_MAX)
		return NULL;
	s = tsd_slot(gr_self(), k, false);
	if (s == NULL ||
	    s->seq != atomic_load_explicit(&keys[k].seq, memory_order_relaxed))
		return NULL;
	return s->val;
}

int gr_setspecific(pthread_key_t k, const void *v)
{
	struct gr_tsd_slot *s;
	uintptr_t seq;

	if (k >= GR_KEYS_MAX)
		return -EINVAL;
	seq = atomic_load(&keys[k].seq);
	if ((seq & 1) == 0)
		return -EINVAL;
#ifdef GR_TSAN
	if (gr_tls_hub == NULL && gr_tls_os == NULL) { /* see tsan_early */
		tsan_early.k = k;
		tsan_early.v = v;
		tsan_early.set = true;
		return 0;
	}
#endif
	s = tsd_slot(gr_self(), k, v != NULL);
	if (s == NULL)
		return v == NULL ? 0 : -ENOMEM;
	s->seq = seq;
	s->val = (void *)v;
	return 0;
}

/* POSIX: call each destructor with a non-NULL value, up to
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds while values keep appearing. */
void gr_tsd_run_dtors(struct gr_thread *t)
{
	struct gr_tsd_slot **blks = (struct gr_tsd_slot **)t->tsd;

	if (blks == NULL)
		return;
	for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
		bool again = false;

		for (unsigned k = 0; k < GR_KEYS_MAX; k++) {
			struct gr_tsd_slot *s = blks[k / GR_KEY_BLK];
			void (*d)(void *);
			void *v;

			if (s == NULL) {
				k += GR_KEY_BLK - 1;
				continue;
			}
			s += k % GR_KEY_BLK;
			if (s->val == NULL ||
			    s->seq != atomic_load(&keys[k].seq))
				continue;
			v = s->val;
			s->val = NULL;
			d = keys[k].dtor;
			if (d != NULL) {
				d(v);
				again = true;
			}
		}
		if (!again)
			break;
	}
	/* Unhooked first: free() may itself call pthread_getspecific (ASan's
	 * allocator does, so do jemalloc and tcmalloc). */
	t->tsd = NULL;
	for (unsigned b = 0; b < GR_KEYS_MAX / GR_KEY_BLK; b++)
		gr_free(blks[b]);
	gr_free(blks);
}

/* ---- fork ------------------------------------------------------------ */

/* In the child of fork(), the first step of fork.c's list: only the calling
 * thread exists.  It keeps running where it is, green thread or OS context, on
 * this hub made fresh: a new loop, timerfd and async (the old ones are shared
 * with the parent), empty run queues, timer heap and wait queues, every other
 * thread gone without a trace (their stacks stay mapped, untouched: the
 * parent's copy-on-write pages). The hub coroutine itself is kept: it is always
 * parked at the top of gr_sched_hub_main's loop, which reads h->loop afresh. */
/* The loop is made anew later, in gr_hub_refork: libev allocates with the
 * program's malloc, and this handler runs before the allocator's own child
 * handler (ours is registered first) has reset its locks, which the
 * forking thread's twin in the parent may hold (jemalloc: every child
 * aborted, "epoll_wait: Bad file descriptor", after parking on one). */
void gr_hub_after_fork(void)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *self;

	main_pid = getpid();
	gr_wq_after_fork();
	atomic_store(&gr_nhubs, h != NULL);
	if (h != NULL) {
		self = h->cur;
		GR_ASSERT(self != h->hub);
		h->all = NULL;
		if (!self->os) {
			self->all_next = self->all_prev = NULL;
			h->all = self;
			/* the OS thread's own context is gone with the rest */
			atomic_store(&h->os->state, GR_DONE);
			h->os->why = GR_WAIT_EXITED;
		}
		h->nlive = 1;
		h->rq_head = h->rq_tail = NULL;
		h->pq_head = h->pq_tail = NULL;
		h->preempt_due = 0;
		h->r_head = h->r_tail = NULL;
		atomic_flag_clear(&h->rlock);
		h->ended = NULL;
		h->heap_len = 0;
		h->tfd_armed = 0;
		h->tid = (pid_t)REAL(syscall)(SYS_gettid);
		/* fork() wrote the child's tid into the running TCB only; the
		 * hub's (the OS thread's) must say the same. */
		if (gr_tls.on && h->os->tp != NULL)
			*(pid_t *)((char *)h->os->tp + gr_tls.tid_off) = h->tid;
		h->tick = 0;
		h->rq_len = 0;
		h->deadlock_reported = 0;
		self->joiner = NULL;
		if (atomic_load(&self->exitw) > GR_EXIT_DONE)
			atomic_store(&self->exitw, 0); /* the parent's joiner */
		h->forked = 1;
	}
	gr_hubs_after_fork(h);
}

/* Called by fork() once glibc has run every child handler, by _Fork, and
 * lazily by the hub's poll and gr_hub_get for a fork we did not see. */
void gr_hub_refork(struct gr_hub *h)
{
	if (h == NULL || !h->forked)
		return;
	h->forked = 0;
	gr_hub_loop_after_fork(h);
	gr_sig_after_refork(h);
}
