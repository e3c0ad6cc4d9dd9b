/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pool.c — the shim's own OS worker threads, for what cannot be made
 * asynchronous: the thread resolver (GREEN_RESOLVER=thread) and file I/O
 * (GREEN_FILEIO=pool|nowait).
 *
 * A green thread hands a job to the pool and parks (GR_WAIT_POOL); a worker
 * runs it and readies the thread with gr_ready(), which from another OS
 * thread pushes to the hub's remote list and wakes the hub with its
 * ev_async.  Workers are real threads made with the real pthread_create,
 * marked gr_tls_passthrough so that every wrapper they reach goes straight
 * to libc, with every signal blocked so that the program's handlers run on
 * the program's own threads.
 *
 * Invariants:
 *  - nothing exists before the first job (no thread, no allocation);
 *    threads are added one at a time, when a job finds no idle worker,
 *    up to GREEN_POOL_SIZE; a job that may wait without end (an io_uring
 *    completion wait, gr_pool_run_blocking) always finds a worker, past
 *    that size if need be, so it never holds back the jobs queued after it;
 *  - a job lives on its submitter's stack: the submitter cannot leave
 *    before the job completed (the park is neither cancellable nor
 *    interruptible), and the worker touches the job for the last time
 *    before gr_ready(), since the submitter may return at once after it;
 *  - gr_pool_inflight counts jobs queued or running.  It drops only after
 *    the ready is published, so a hub that finds nothing runnable while it
 *    is non-zero knows a worker will wake it (deadlock detection);
 *  - after fork() the child has none of the workers: gr_pool_after_fork
 *    (fork.c's list; registered by the first job) forgets them, empties the
 *    queue (its jobs belong to threads that do not exist in the child) and
 *    re-initialises the lock; the next job starts new workers.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "green.h"

_Atomic int gr_pool_inflight;

struct gr_pool_job {
	long (*fn)(void *);
	void *arg;
	long ret;
	struct gr_thread *waiter;
	struct gr_pool_job *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a job was queued */
	struct gr_pool_job *head, *tail;
	int queued;   /* jobs in the queue */
	int nthreads; /* workers alive */
	int idle;     /* workers waiting for a job */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void gr_pool_after_fork(void)
{
	atomic_fetch_sub(&gr_own_threads, pool.nthreads);
	pool.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	pool.cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	pool.head = pool.tail = NULL;
	pool.queued = pool.nthreads = pool.idle = 0;
	atomic_store(&gr_pool_inflight, 0);
}

/* Run jobs until the process ends.  The queue is FIFO: the oldest waiter
 * is served first. */
static void *worker(void *unused)
{
	struct gr_pool_job *j;
	struct gr_thread *t;

	(void)unused;
	gr_tls_passthrough = 1;
	for (;;) {
		REAL(pthread_mutex_lock)(&pool.lock);
		while ((j = pool.head) == NULL) {
			pool.idle++;
			REAL(pthread_cond_wait)(&pool.cond, &pool.lock);
			pool.idle--;
		}
		pool.head = j->next;
		if (pool.head == NULL)
			pool.tail = NULL;
		pool.queued--;
		REAL(pthread_mutex_unlock)(&pool.lock);

		j->ret = j->fn(j->arg);
		t = j->waiter;
		/* The last touch of j: the submitter may return (and its
		 * stack frame go) as soon as it is readied. */
		if (!gr_ready(t, 0))
			gr_die("pool: a job's submitter was not parked");
		atomic_fetch_sub(&gr_pool_inflight, 1);
	}
	return NULL;
}

/* Called with pool.lock held: one more worker, if allowed and needed
 * (`always`: needed whenever the queue holds more jobs than idle workers,
 * whatever the size). */
static void grow_locked(bool always)
{
	pthread_attr_t a;
	pthread_t id;
	sigset_t all, old;
	int r;

	if (always ? pool.idle >= pool.queued
		   : pool.idle > 0 || pool.nthreads >= gr_conf()->pool_size)
		return;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* The new thread inherits this mask: all blocked from birth. */
	sigfillset(&all);
	REAL(pthread_sigmask)(SIG_SETMASK, &all, &old);
	r = REAL(pthread_create)(&id, &a, worker, NULL);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (r != 0) {
		/* Not fatal while another worker exists to drain the queue. */
		if (pool.nthreads == 0)
			gr_die("pool: cannot start a worker thread (%s)",
			       strerror(r));
		return;
	}
	pool.nthreads++;
	atomic_fetch_add(&gr_own_threads, 1);
}

static long pool_run(long (*fn)(void *), void *arg, bool blocking)
{
	struct gr_pool_job j = {.fn = fn, .arg = arg};

	/* Without a green context that may park (the hub, a signal handler,
	 * an NSS region, one of our own threads) the job runs here: that is
	 * what the program would have done without the shim. */
	if (!gr_may_park())
		return fn(arg);
	gr_fork_register();
	GR_STAT_ADD(GR_ST_POOL_JOBS, 1);
	j.waiter = gr_self();
	atomic_fetch_add(&gr_pool_inflight, 1);
	/* Publish only after park_begin: a worker that finishes before we
	 * switch away finds us parked and its ready is not lost. */
	gr_park_begin(GR_WAIT_POOL);
	REAL(pthread_mutex_lock)(&pool.lock);
	if (pool.tail)
		pool.tail->next = &j;
	else
		pool.head = &j;
	pool.tail = &j;
	pool.queued++;
	grow_locked(blocking);
	REAL(pthread_cond_signal)(&pool.cond);
	REAL(pthread_mutex_unlock)(&pool.lock);
	gr_park_end(0);
	return j.ret;
}

long gr_pool_run(long (*fn)(void *), void *arg)
{
	return pool_run(fn, arg, false);
}

long gr_pool_run_blocking(long (*fn)(void *), void *arg)
{
	return pool_run(fn, arg, true);
}
