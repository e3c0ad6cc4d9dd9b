/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hub.c — the hub's libev loop: the only file of the scheduler core that
 * includes <ev.h> (fd.c and resolver.c register their own watchers).
 *
 * The loop is made with ev_loop_new, never the default loop, so a program
 * that uses libev itself keeps its default loop, signal and child watchers.
 * Three watchers of our own:
 *  - an ev_async: readies from other OS threads (other hubs, worker pool);
 *  - an ev_io on a timerfd: every deadline of a parked thread (sleeps,
 *    timeouts) lives in one binary heap per hub; the timerfd is set to the
 *    earliest, with nanosecond precision (libev's own timers go through
 *    epoll_wait's millisecond timeout, and its cached "now" may be stale,
 *    so a sleep could end early or overshoot by a millisecond);
 *  - nothing else: fd waits register their ev_io in fd.c.
 * Both watchers are unref'd: ev_run's return value then says whether any
 * waiter (fd, timer while the heap is not empty, resolver) could still wake
 * a thread, which is how an idle hub knows it is stuck (diag.c).
 */
#include <ev.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "green.h"

void gr_sched_drain_remote(struct gr_hub *h) GR_HIDDEN;

struct hub_watchers {
	ev_async async;
	ev_io tfd_io;
	ev_io vc_io; /* GREEN_CLOCK=virtual: the tree moved the clock */
};

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct gr_hub *h = ev_userdata(loop);

	if (atomic_load_explicit(&h->fd_cmds, memory_order_relaxed) != NULL)
		gr_fd_commands(h);
	gr_sched_drain_remote(h);
}

/* ---- the timer heap ---------------------------------------------------- */

static inline void heap_set(struct gr_hub *h, int i, struct gr_thread *t)
{
	h->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct gr_hub *h, int i)
{
	struct gr_thread *t = h->heap[i];

	while (i > 0) {
		int p = (i - 1) / 2;
		if (h->heap[p]->deadline <= t->deadline)
			break;
		heap_set(h, i, h->heap[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct gr_hub *h, int i)
{
	struct gr_thread *t = h->heap[i];

	for (;;) {
		int c = 2 * i + 1;
		if (c >= h->heap_len)
			break;
		if (c + 1 < h->heap_len &&
		    h->heap[c + 1]->deadline < h->heap[c]->deadline)
			c++;
		if (t->deadline <= h->heap[c]->deadline)
			break;
		heap_set(h, i, h->heap[c]);
		i = c;
	}
	heap_set(h, i, t);
}

/* `at` is on the program's clock, virtual under GREEN_CLOCK=virtual; the
 * timerfd is armed at the real instant behind it (vclock.c). */
static void tfd_arm(struct gr_hub *h, int64_t at)
{
	struct itimerspec its = {{0, 0}, gr_ns_ts(gr_vclock_real(at))};

	REAL(timerfd_settime)(h->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	h->tfd_armed = at;
}

void gr_timer_arm(struct gr_hub *h, int64_t at) GR_HIDDEN;
void gr_timer_arm(struct gr_hub *h, int64_t at)
{
	tfd_arm(h, at);
}

void gr_timer_add(struct gr_hub *h, struct gr_thread *t)
{
	struct hub_watchers *w = h->async;

	if (h->heap_len == h->heap_cap) {
		int cap = h->heap_cap ? h->heap_cap * 2 : 64;
		struct gr_thread **n = gr_realloc(h->heap, cap * sizeof(*n));

		if (n == NULL)
			gr_die("out of memory for the timer heap");
		h->heap = n;
		h->heap_cap = cap;
	}
	if (h->heap_len == 0)
		ev_ref(h->loop); /* a pending deadline keeps the loop alive */
	h->heap[h->heap_len] = t;
	heap_up(h, h->heap_len++);
	/* Only a new earliest deadline costs a syscall; a later one rides on
	 * the armed timer, which re-arms for the rest when it fires. */
	if (h->heap[0] == t &&
	    (h->tfd_armed == 0 || t->deadline < h->tfd_armed))
		tfd_arm(h, t->deadline);
	(void)w;
}

void gr_timer_del(struct gr_hub *h, struct gr_thread *t)
{
	int i = t->heap_idx;

	GR_ASSERT(i >= 0 && i < h->heap_len && h->heap[i] == t);
	t->heap_idx = -1;
	h->heap_len--;
	if (i != h->heap_len) {
		heap_set(h, i, h->heap[h->heap_len]);
		heap_down(h, i);
		heap_up(h, h->heap[i]->heap_idx);
	}
	if (h->heap_len == 0)
		ev_unref(h->loop);
	/* The timerfd may stay armed for a deadline that left: it fires,
	 * finds nothing due, and re-arms.  Cheaper than a syscall here. */
}

/* Ready every thread whose deadline passed (an emulated timer of
 * vclock.c fires instead), and arm the timerfd for the rest. */
void gr_timer_fire_due(struct gr_hub *h) GR_HIDDEN;
void gr_timer_fire_due(struct gr_hub *h)
{
	int64_t now = gr_now();

	h->tfd_armed = 0;
	while (h->heap_len > 0 && h->heap[0]->deadline <= now) {
		struct gr_thread *t = h->heap[0];

		gr_timer_del(h, t);
		if (unlikely(t->magic == GR_VTIMER_MAGIC))
			gr_vtimer_fire(h, t);
		else
			gr_ready(t, -ETIMEDOUT);
	}
	if (h->heap_len > 0)
		tfd_arm(h, h->heap[0]->deadline);
}

static void tfd_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct gr_hub *h = ev_userdata(loop);
	uint64_t n;

	(void)!REAL(read)(h->tfd, &n, sizeof(n));
	gr_timer_fire_due(h);
}

static void vc_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	gr_vclock_wake(ev_userdata(loop));
}

/* ---- the loop ------------------------------------------------------- */

void gr_hub_loop_init(struct gr_hub *h)
{
	struct hub_watchers *w = gr_calloc(1, sizeof(*w));
	unsigned flags = EVFLAG_NOENV | EVFLAG_NOSIGMASK | EVFLAG_NOINOTIFY |
			 EVFLAG_NOTIMERFD | gr_conf()->backend;

	if (w == NULL)
		gr_die("out of memory for the hub");
	/* libev's epoll fd and eventfd come out of the program's way
	 * (shimfd.c), and so does the timerfd. */
	gr_tls_shimfd++;
	h->loop = ev_loop_new(flags);
	if (h->loop == NULL && gr_conf()->backend) {
		/* the backend was chosen and cannot start here (seccomp,
		 * a kernel without it): a setting must not kill the program */
		gr_warn("GREEN_BACKEND=%s cannot start here; using the default",
			secure_getenv("GREEN_BACKEND"));
		gr_cfg.backend = 0;
		h->loop = ev_loop_new(flags & ~EVBACKEND_MASK);
	}
	if (h->loop == NULL)
		gr_die("ev_loop_new failed (out of file descriptors?)");
	ev_set_userdata(h->loop, h);
	h->async = w;
	ev_async_init(&w->async, async_cb);
	ev_async_start(h->loop, &w->async);
	ev_unref(h->loop);
	gr_tls_shimfd--;
	h->tfd =
	    REAL(timerfd_create)(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->tfd < 0)
		gr_die("timerfd_create failed");
	h->tfd = gr_shimfd_hide(h->tfd);
	ev_io_init(&w->tfd_io, tfd_cb, h->tfd, EV_READ);
	ev_io_start(h->loop, &w->tfd_io);
	ev_unref(h->loop);
	if (unlikely(gr_vclock_on) && gr_vtree_wakefd() >= 0) {
		ev_io_init(&w->vc_io, vc_cb, gr_vtree_wakefd(), EV_READ);
		ev_io_start(h->loop, &w->vc_io);
		ev_unref(h->loop);
	}
}

void gr_hub_wakeup(struct gr_hub *h)
{
	struct hub_watchers *w = h->async;

	ev_async_send(h->loop, &w->async);
}

/* Several hubs: a hub about to sleep with nothing to run says so, and a
 * busy hub may hand it threads (sched.c, gr_sched_shed).  Only hubs whose
 * index is published take part. */
static void hub_idle(struct gr_hub *h, bool on)
{
	uint64_t bit = 1ULL << h->idx;

	if (gr_hubv[h->idx] != h)
		return;
	if (on)
		atomic_fetch_or(&gr_idle_hubs, bit);
	else if (atomic_load_explicit(&gr_idle_hubs, memory_order_relaxed) &
		 bit)
		atomic_fetch_and(&gr_idle_hubs, ~bit);
}

/* An idle hub whose last sleep was short (under GR_SPIN_WINDOW) spins up
 * to GREEN_SPIN_US before it sleeps, watching for threads another hub
 * hands it and for fd commands.  A wake-up that lands in the spin costs
 * the waker no eventfd write (libev writes only to a loop inside its
 * poll) and this hub no trip through the kernel's wake-up: on these VMs
 * the two are most of a cross-hub hand-off.  A hub that slept long does
 * not spin, so an idle daemon costs no CPU.  Fd readiness and timers are
 * seen after the spin, no later than GREEN_SPIN_US. */
#define GR_SPIN_WINDOW 200000

static bool spin(struct gr_hub *h)
{
	int64_t until;

	if (!h->spin_ok || gr_cfg.spin_us == 0)
		return false;
	until = gr_now() + (int64_t)gr_cfg.spin_us * 1000;
	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(&h->r_head, __ATOMIC_RELAXED) != NULL ||
		    atomic_load_explicit(&h->fd_cmds, memory_order_relaxed) !=
			NULL)
			return true;
		gr_cpu_relax();
		if ((i & 255) != 0)
			continue;
		/* now and then a look at the fds without sleeping: a pipe
		 * written on another CPU is seen in the spin as well */
		ev_run(h->loop, EVRUN_NOWAIT);
		if (h->rq_head != NULL)
			return true;
		if (gr_now() > until)
			return false;
	}
}

/* One round of the loop: block only if nothing is ready to run. */
void gr_hub_poll(struct gr_hub *h, bool block)
{
	struct hub_watchers *w = h->async;
	bool vidle = false, idled = false;
	int64_t slept = 0;
	int alive;

	if (unlikely(h->forked))
		gr_hub_refork(h);
	gr_sched_drain_remote(h);
	if (h->rq_head != NULL)
		block = false;
	else
		h->drains++; /* every thread readied so far has run */
	if (unlikely(gr_vclock_on) && block) {
		/* GREEN_CLOCK=virtual: take what is there, then let the
		 * clock jump if nothing else can happen (vclock.c); the tree
		 * sees us idle until we return (gr_vclock_woke). */
		ev_run(h->loop, EVRUN_NOWAIT);
		gr_sched_drain_remote(h);
		vidle = true;
		if (h->rq_head != NULL || gr_vclock_idle(h))
			block = false;
	}
	if (block && gr_multi()) {
		hub_idle(h, true);
		if (spin(h)) {
			hub_idle(h, false);
			block = false; /* ev_run takes the async at once */
		} else {
			idled = true;
			slept = gr_now();
		}
	}
	alive = ev_run(h->loop, block ? EVRUN_ONCE : EVRUN_NOWAIT);
	if (idled) { /* only several hubs spin: one hub reads no clock */
		hub_idle(h, false);
		h->spin_ok = gr_now() - slept < GR_SPIN_WINDOW;
	}
	gr_sched_drain_remote(h);
	if (!block || h->rq_head != NULL || alive)
		goto out;
	/* Nothing in this loop can wake anyone: only another OS thread, a
	 * worker or a signal can.  Tell diag.c (deadlock report), then wait
	 * for the async watcher with it counted. */
	atomic_fetch_add(&gr_hubs_stuck, 1);
	gr_diag_idle(h);
	if (h->rq_head != NULL) {
		atomic_fetch_sub(&gr_hubs_stuck, 1);
		goto out;
	}
	ev_ref(h->loop);
	if (gr_multi())
		hub_idle(h, true);
	ev_run(h->loop, EVRUN_ONCE);
	if (gr_multi())
		hub_idle(h, false);
	atomic_fetch_sub(&gr_hubs_stuck, 1);
	ev_unref(h->loop);
	(void)w;
	gr_sched_drain_remote(h);
out:
	if (unlikely(vidle))
		gr_vclock_woke();
}

/* In a child after fork (sched.c): the loop, its eventfd and the timerfd
 * are shared with the parent, so they are dropped without touching the
 * kernel state behind them (ev_loop_destroy only closes our copies) and
 * made anew.  Every deadline in the heap was another thread's. */
void gr_hub_loop_after_fork(struct gr_hub *h)
{
	gr_tls_shimfd++;
	ev_loop_destroy(h->loop);
	gr_tls_shimfd--;
	gr_shimfd_close(h->tfd);
	gr_free(h->async);
	h->heap_len = 0;
	h->tfd_armed = 0;
	gr_hub_loop_init(h);
}
