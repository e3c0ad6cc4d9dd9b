/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * waitq.c — wait queues keyed by an address (a mutex, a cond, a sem...).
 *
 * The program's synchronisation objects have glibc's sizes and no room for
 * a queue, so parked green threads hang in a hash table of buckets, each a
 * FIFO list under a spin lock (a bucket is held for a few instructions and
 * never across a park, so spinning is right; it is contended only between
 * OS threads).  A waiter node lives on the parked thread's stack.
 *
 * Protocol (no lost wake-ups): a waiter takes the bucket, calls
 * gr_park_begin, enqueues, re-checks its condition, and only then releases
 * the bucket and switches away.  A waker changes the object's state first,
 * then takes the bucket and readies.  gr_ready's CAS decides between a
 * waker and a timeout: the loser's node is already unlinked by the waker,
 * or unlinked by the resumed waiter itself.
 */
#include <string.h>
#include "green.h"

#define GR_WQ_BUCKETS 4096

struct gr_wq_bucket {
	atomic_flag lock;
	struct gr_waiter *head, *tail;
} __attribute__((aligned(32)));

static struct gr_wq_bucket buckets[GR_WQ_BUCKETS];

static inline struct gr_wq_bucket *bucket_of(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	a ^= a >> 17;
	a *= 0x9e3779b97f4a7c15ULL;
	return &buckets[a >> (64 - 12)];
}

/* A thread readied on another hub under a bucket's lock has that hub
 * woken (an eventfd write, a system call) only once the lock is let go
 * (sched.c, remote_push): the other hub, just woken, would otherwise spin
 * on the same lock while we make the call. */
struct gr_wq_bucket *gr_wq_lock(const void *addr)
{
	struct gr_wq_bucket *b = bucket_of(addr);

	gr_spin_acquire(&b->lock);
	gr_tls_wdefer++;
	return b;
}

void gr_wq_unlock(struct gr_wq_bucket *b)
{
	gr_spin_release(&b->lock);
	if (--gr_tls_wdefer == 0 && unlikely(gr_tls_wpend != 0))
		gr_wake_flush();
}

void gr_wq_add(struct gr_wq_bucket *b, struct gr_waiter *w)
{
	w->next = NULL;
	w->prev = b->tail;
	if (b->tail)
		b->tail->next = w;
	else
		b->head = w;
	b->tail = w;
	w->linked = 1;
	if (w->t) /* what it waits on, for the deadlock report */
		w->t->wait_obj = w->addr;
}

void gr_wq_del(struct gr_wq_bucket *b, struct gr_waiter *w)
{
	if (!w->linked)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		b->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		b->tail = w->prev;
	w->linked = 0;
}

struct gr_waiter *gr_wq_first(struct gr_wq_bucket *b)
{
	return b->head;
}

int gr_wq_wake_locked(struct gr_wq_bucket *b, const void *addr, int n, int kind)
{
	struct gr_waiter *w, *next;
	int woken = 0;

	for (w = b->head; w && n != 0; w = next) {
		next = w->next;
		if (w->addr != addr || (kind >= 0 && w->kind != kind))
			continue;
		gr_wq_del(b, w);
		/* A waiter that already timed out loses the CAS: try the next.
		 */
		if (gr_ready(w->t, 0)) {
			woken++;
			n--;
		}
	}
	return woken;
}

/* As gr_wq_wake_locked for any kind, but returns how many nodes left the
 * queue (readied or not), for callers that count their queued waiters. */
int gr_wq_wake_locked_count(struct gr_wq_bucket *b, const void *addr, int n)
{
	struct gr_waiter *w, *next;
	int removed = 0;

	for (w = b->head; w && n != 0; w = next) {
		next = w->next;
		if (w->addr != addr)
			continue;
		gr_wq_del(b, w);
		removed++;
		if (gr_ready(w->t, 0))
			n--;
	}
	return removed;
}

int gr_wq_wake(const void *addr, int n)
{
	struct gr_wq_bucket *b = gr_wq_lock(addr);
	int r = gr_wq_wake_locked(b, addr, n, -1);

	gr_wq_unlock(b);
	return r;
}

long gr_wq_park(struct gr_wq_bucket *b, struct gr_waiter *w, enum gr_wait why,
		int64_t deadline)
{
	long r;

	(void)why; /* set by the caller's gr_park_begin */
	gr_wq_unlock(b);
	r = gr_park_end(deadline);
	if (w->linked) {
		b = gr_wq_lock(w->addr);
		gr_wq_del(b, w);
		gr_wq_unlock(b);
	}
	return r;
}

/*
 * The protocol of the header comment, written once (as Go's gopark with
 * its unlock function, or musl's __timedwait): queue the running green
 * thread on addr under its bucket, then ask done(ctx) — still under the
 * bucket, with the thread queued and PARKED, so a waker that changes the
 * state from now on finds it.  done() true: the wait is over before it
 * began (GR_WQ_DONE, nothing parked).  Otherwise park until readied, the
 * deadline, or an interruption: the wake value, 0 or -errno.  The node is
 * off the queue when this returns.  The caller may park (gr_can_park).
 */
long gr_wq_wait(const void *addr, int kind, enum gr_wait why, int64_t deadline,
		bool (*done)(void *ctx), void *ctx)
{
	struct gr_waiter w = {.addr = addr, .kind = kind, .t = gr_tls_hub->cur};
	struct gr_wq_bucket *b = gr_wq_lock(addr);

	gr_park_begin(why);
	gr_wq_add(b, &w);
	if (done != NULL && done(ctx)) {
		gr_wq_del(b, &w);
		gr_wq_unlock(b);
		gr_park_abort();
		return GR_WQ_DONE;
	}
	return gr_wq_park(b, &w, why, deadline);
}

/* In a child after fork: the waiters of every queue were other threads,
 * which are not here; a bucket may even be held by one of them. */
void gr_wq_after_fork(void)
{
	/* Only the buckets in use: writing all 128 KiB would copy every page
	 * of them from the parent. */
	static const struct gr_wq_bucket zero;

	for (unsigned i = 0; i < GR_WQ_BUCKETS; i++)
		if (memcmp(&buckets[i], &zero, sizeof(zero)) != 0)
			memset(&buckets[i], 0, sizeof(zero));
}
