/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Deferred cancellation at the usual cancellation points: a thread blocked
 * in sleep(), in pthread_cond_wait (its cleanup handler runs with the mutex
 * reacquired), in read() on an empty pipe, in sem_wait, in poll. Joining a
 * cancelled thread gives PTHREAD_CANCELED. With cancellation disabled a
 * pending cancel waits: the sleep is not cut short, and the thread is
 * cancelled at pthread_testcancel once enabled again. Cleanup handlers run
 * in reverse order on pthread_exit; pop(0) drops one, pop(1) runs it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int cleaned;
static sem_t ready;

static void mark_cleaned(void *arg)
{
	__atomic_store_n(&cleaned, (int)(long)arg, __ATOMIC_SEQ_CST);
}

/* Cancels T once it has said it is about to block, and expects it to end
 * cancelled within 5 s, its cleanup handler having run. */
static void cancel_blocked(pthread_t t, const char *what)
{
	long long t0;
	void *r;
	char buf[100];

	sem_wait(&ready);
	msleep(30);	/* let it block */
	cleaned = 0;
	t0 = now_ms();
	snprintf(buf, sizeof buf, "pthread_cancel (%s)", what);
	expect(pthread_cancel(t), 0, buf);
	snprintf(buf, sizeof buf, "join (%s)", what);
	expect(pthread_join(t, &r), 0, buf);
	if (r != PTHREAD_CANCELED) {
		fprintf(stderr, "FAIL: %s: join value is not PTHREAD_CANCELED\n",
			what);
		exit(1);
	}
	if (now_ms() - t0 > 5000) {
		fprintf(stderr, "FAIL: %s: cancel took over 5 s\n", what);
		exit(1);
	}
	if (cleaned != 1) {
		fprintf(stderr, "FAIL: %s: cleanup handler did not run\n", what);
		exit(1);
	}
	printf("cancel in %s: ok\n", what);
}

/* --- sleep ------------------------------------------------------------ */

static void *in_sleep(void *arg)
{
	pthread_cleanup_push(mark_cleaned, (void *)1);
	sem_post(&ready);
	sleep(10);
	fail("sleep(10) was not cancelled");
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- cond_wait: the handler runs with the mutex held ------------------- */

static pthread_mutex_t cm;	/* errorcheck */
static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
static int unlock_rc = -1;

static void unlock_in_cleanup(void *arg)
{
	unlock_rc = pthread_mutex_unlock(&cm);	/* 0 only if we own it */
	mark_cleaned((void *)1);
}

static void *in_cond_wait(void *arg)
{
	pthread_mutex_lock(&cm);
	pthread_cleanup_push(unlock_in_cleanup, NULL);
	sem_post(&ready);
	for (;;)
		pthread_cond_wait(&cc, &cm);
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- read on an empty pipe --------------------------------------------- */

static int pfd[2];

static void *in_read(void *arg)
{
	char c;

	pthread_cleanup_push(mark_cleaned, (void *)1);
	sem_post(&ready);
	if (read(pfd[0], &c, 1) >= 0)
		fail("read on an empty pipe returned");
	fail("read on an empty pipe failed instead of being cancelled");
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- sem_wait, poll ---------------------------------------------------- */

static sem_t never;

static void *in_sem_wait(void *arg)
{
	pthread_cleanup_push(mark_cleaned, (void *)1);
	sem_post(&ready);
	while (sem_wait(&never) == -1 && errno == EINTR)
		;
	fail("sem_wait on a zero semaphore returned");
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_poll(void *arg)
{
	struct pollfd p = { pfd[0], POLLIN, 0 };

	pthread_cleanup_push(mark_cleaned, (void *)1);
	sem_post(&ready);
	poll(&p, 1, 10000);
	fail("poll was not cancelled");
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- disabled cancellation --------------------------------------------- */

static int stage;
static sem_t cancel_sent;

static void *disabled(void *arg)
{
	int old;
	long long t0;

	expect(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old), 0,
	       "setcancelstate");
	if (old != PTHREAD_CANCEL_ENABLE)
		fail("cancel state was not ENABLE at start");
	expect(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old), 0,
	       "setcanceltype");
	if (old != PTHREAD_CANCEL_DEFERRED)
		fail("cancel type was not DEFERRED at start");
	pthread_cleanup_push(mark_cleaned, (void *)1);
	sem_post(&ready);
	/* A cancellation point, but cancellation is off: no effect. */
	while (sem_wait(&cancel_sent) == -1 && errno == EINTR)
		;
	t0 = now_ms();
	msleep(150);	/* a cancel is pending: the sleep must not end early */
	if (now_ms() - t0 < 150)
		fail("a sleep with cancellation disabled was cut short");
	stage = 1;
	expect(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old), 0,
	       "setcancelstate enable");
	if (old != PTHREAD_CANCEL_DISABLE)
		fail("old state was not DISABLE");
	pthread_testcancel();
	stage = 2;
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- cleanup handlers on pthread_exit ---------------------------------- */

static char order[8];
static int order_len;

static void record(void *arg)
{
	order[order_len++] = *(const char *)arg;
}

static void *exits_with_handlers(void *arg)
{
	pthread_cleanup_push(record, "A");
	pthread_cleanup_push(record, "B");
	pthread_cleanup_push(record, "C");
	pthread_cleanup_pop(0);	/* C dropped */
	pthread_cleanup_push(record, "D");
	pthread_cleanup_pop(1);	/* D runs now */
	pthread_exit((void *)5);
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return NULL;
}

int main(void)
{
	pthread_mutexattr_t ma;
	pthread_t t;
	void *r;

	sem_init(&ready, 0, 0);
	sem_init(&never, 0, 0);
	sem_init(&cancel_sent, 0, 0);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&cm, &ma);
	if (pipe(pfd))
		fail("pipe");

	expect(pthread_create(&t, NULL, in_sleep, NULL), 0, "create");
	cancel_blocked(t, "sleep");

	expect(pthread_create(&t, NULL, in_cond_wait, NULL), 0, "create");
	cancel_blocked(t, "pthread_cond_wait");
	if (unlock_rc != 0)
		fail("cond_wait cleanup handler ran without the mutex held");
	expect(pthread_mutex_trylock(&cm), 0, "mutex free after cancel");
	pthread_mutex_unlock(&cm);
	printf("cond_wait cleanup held the mutex: ok\n");

	expect(pthread_create(&t, NULL, in_read, NULL), 0, "create");
	cancel_blocked(t, "read");
	/* The pipe still works and holds nothing the cancelled read took. */
	if (write(pfd[1], "x", 1) != 1)
		fail("write to the pipe");
	char c = 0;
	if (read(pfd[0], &c, 1) != 1 || c != 'x')
		fail("read back from the pipe");

	expect(pthread_create(&t, NULL, in_sem_wait, NULL), 0, "create");
	cancel_blocked(t, "sem_wait");

	expect(pthread_create(&t, NULL, in_poll, NULL), 0, "create");
	cancel_blocked(t, "poll");

	cleaned = 0;
	expect(pthread_create(&t, NULL, disabled, NULL), 0, "create");
	sem_wait(&ready);
	expect(pthread_cancel(t), 0, "cancel (disabled)");
	sem_post(&cancel_sent);
	expect(pthread_join(t, &r), 0, "join (disabled)");
	if (r != PTHREAD_CANCELED || stage != 1 || cleaned != 1)
		fail("disabled cancellation: not cancelled at pthread_testcancel");
	printf("cancel while disabled: deferred to testcancel ok\n");

	expect(pthread_create(&t, NULL, exits_with_handlers, NULL), 0, "create");
	expect(pthread_join(t, &r), 0, "join");
	if (r != (void *)5)
		fail("pthread_exit value with handlers");
	if (strcmp(order, "DBA")) {
		fprintf(stderr, "FAIL: cleanup order %s, want DBA\n", order);
		return 1;
	}
	printf("cleanup handlers on pthread_exit: %s ok\n", order);
	return 0;
}
