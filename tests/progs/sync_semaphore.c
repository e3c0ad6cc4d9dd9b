/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Unnamed POSIX semaphores: one bounding a critical section (the largest
 * number of threads seen inside is exactly the limit), sem_trywait EAGAIN,
 * sem_timedwait and sem_clockwait ETIMEDOUT never early, EINVAL cases,
 * sem_getvalue, EOVERFLOW at SEM_VALUE_MAX, and a post waking a waiter.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define LIMIT 4
#define THREADS 32
#define ROUNDS 20

static sem_t gate;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int inside, max_inside, entries;

/* Checks a -1/errno style result. */
static void *worker(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		while (sem_wait(&gate) != 0)
			if (errno != EINTR)
				fail("sem_wait");
		pthread_mutex_lock(&m);
		if (++inside > max_inside)
			max_inside = inside;
		if (inside > LIMIT)
			fail("more threads inside than the semaphore allows");
		entries++;
		pthread_mutex_unlock(&m);
		usleep(1000);	/* sleep inside the bounded section */
		pthread_mutex_lock(&m);
		inside--;
		pthread_mutex_unlock(&m);
		if (sem_post(&gate))
			fail("sem_post");
	}
	return NULL;
}

static void test_bounded(void)
{
	pthread_t t[THREADS];
	int v;

	expect_errno(sem_init(&gate, 0, LIMIT), 0, "sem_init");
	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			fail("pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (max_inside != LIMIT)
		fail("largest concurrency seen is not the semaphore's limit");
	if (entries != THREADS * ROUNDS)
		fail("entries");
	expect_errno(sem_getvalue(&gate, &v), 0, "sem_getvalue");
	if (v != LIMIT)
		fail("semaphore value after the run");
	expect_errno(sem_destroy(&gate), 0, "sem_destroy");
	printf("bounded section: limit %d, max inside %d, entries %d ok\n",
	       LIMIT, max_inside, entries);
}

static void test_timeouts(void)
{
	sem_t s;
	struct timespec dl;
	int v;

	expect_errno(sem_init(&s, 0, 0), 0, "sem_init 0");
	expect_errno(sem_trywait(&s), EAGAIN, "sem_trywait on 0");

	dl = deadline(CLOCK_REALTIME, 60);
	expect_errno(sem_timedwait(&s, &dl), ETIMEDOUT, "sem_timedwait");
	not_early(CLOCK_REALTIME, dl, "sem_timedwait");

	dl = deadline(CLOCK_MONOTONIC, 60);
	expect_errno(sem_clockwait(&s, CLOCK_MONOTONIC, &dl), ETIMEDOUT,
		     "sem_clockwait(MONOTONIC)");
	not_early(CLOCK_MONOTONIC, dl, "sem_clockwait(MONOTONIC)");

	dl = deadline(CLOCK_REALTIME, 60);
	expect_errno(sem_clockwait(&s, CLOCK_REALTIME, &dl), ETIMEDOUT,
		     "sem_clockwait(REALTIME)");
	not_early(CLOCK_REALTIME, dl, "sem_clockwait(REALTIME)");

	dl = deadline(CLOCK_REALTIME, -10);
	expect_errno(sem_timedwait(&s, &dl), ETIMEDOUT, "sem_timedwait in the past");

	dl = deadline(CLOCK_REALTIME, 10);
	dl.tv_nsec = 1000000000L;
	expect_errno(sem_timedwait(&s, &dl), EINVAL, "sem_timedwait bad tv_nsec");

	dl = deadline(CLOCK_MONOTONIC, 10);
	expect_errno(sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &dl), EINVAL,
		     "sem_clockwait bad clock");
	printf("timeouts: ok\n");

	/* A value available means no wait, even with a deadline long past. */
	expect_errno(sem_post(&s), 0, "sem_post");
	expect_errno(sem_post(&s), 0, "sem_post");
	expect_errno(sem_post(&s), 0, "sem_post");
	expect_errno(sem_getvalue(&s, &v), 0, "sem_getvalue");
	if (v != 3)
		fail("sem_getvalue after 3 posts");
	dl = deadline(CLOCK_REALTIME, -1000);
	expect_errno(sem_timedwait(&s, &dl), 0, "sem_timedwait with value");
	expect_errno(sem_trywait(&s), 0, "sem_trywait with value");
	dl = deadline(CLOCK_MONOTONIC, -1000);
	expect_errno(sem_clockwait(&s, CLOCK_MONOTONIC, &dl), 0,
		     "sem_clockwait with value");
	expect_errno(sem_getvalue(&s, &v), 0, "sem_getvalue");
	if (v != 0)
		fail("sem_getvalue after 3 waits");
	expect_errno(sem_destroy(&s), 0, "sem_destroy");
	printf("getvalue: ok\n");

	expect_errno(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), EINVAL,
		     "sem_init above SEM_VALUE_MAX");
	expect_errno(sem_init(&s, 0, SEM_VALUE_MAX), 0, "sem_init SEM_VALUE_MAX");
	expect_errno(sem_post(&s), EOVERFLOW, "sem_post at SEM_VALUE_MAX");
	sem_destroy(&s);
	printf("limits: ok\n");
}

/* --- a post wakes a waiter, before its deadline ------------------------ */

static sem_t wake;
static int woke;

static void *waiter(void *arg)
{
	long timed = (long)arg;
	struct timespec dl = deadline(CLOCK_REALTIME, 5000);
	int rc = timed ? sem_timedwait(&wake, &dl) : sem_wait(&wake);

	expect_errno(rc, 0, timed ? "sem_timedwait woken" : "sem_wait woken");
	__atomic_add_fetch(&woke, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_wake(void)
{
	pthread_t t[2];

	expect_errno(sem_init(&wake, 0, 0), 0, "sem_init");
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, waiter, (void *)i))
			fail("pthread_create");
	usleep(50000);
	if (__atomic_load_n(&woke, __ATOMIC_SEQ_CST) != 0)
		fail("a waiter passed a zero semaphore");
	sem_post(&wake);
	sem_post(&wake);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (woke != 2)
		fail("waiters not woken");
	sem_destroy(&wake);
	printf("post wakes waiters: ok\n");
}

int main(void)
{
	test_bounded();
	test_timeouts();
	test_wake();
	return 0;
}
