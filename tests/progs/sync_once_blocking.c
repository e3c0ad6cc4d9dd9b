/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * pthread_once whose init routine sleeps 50 ms while 50 threads call it at
 * once: the routine runs exactly once, and every caller returns only after
 * it has finished. A second once_control is independent of the first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define CALLERS 50

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t once2 = PTHREAD_ONCE_INIT;
static pthread_barrier_t start;
static int init_runs, init_done, init2_runs;
static long long init_began, init_ended;

static void init(void)
{
	__atomic_add_fetch(&init_runs, 1, __ATOMIC_SEQ_CST);
	init_began = now_ns(CLOCK_MONOTONIC);
	struct timespec ts = { 0, 50 * 1000000L };
	while (nanosleep(&ts, &ts))
		;
	init_ended = now_ns(CLOCK_MONOTONIC);
	__atomic_store_n(&init_done, 1, __ATOMIC_SEQ_CST);
}

static void init2(void)
{
	init2_runs++;
}

static void *caller(void *arg)
{
	int rc = pthread_barrier_wait(&start);

	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		fail("pthread_barrier_wait");
	if (pthread_once(&once, init))
		fail("pthread_once");
	if (!__atomic_load_n(&init_done, __ATOMIC_SEQ_CST))
		fail("pthread_once returned before init finished");
	if (now_ns(CLOCK_MONOTONIC) < init_ended)
		fail("returned before the end of init");
	if (pthread_once(&once2, init2))
		fail("pthread_once 2");
	return NULL;
}

int main(void)
{
	pthread_t t[CALLERS];
	long long t0 = now_ns(CLOCK_MONOTONIC);

	if (pthread_barrier_init(&start, NULL, CALLERS))
		fail("pthread_barrier_init");
	for (int i = 0; i < CALLERS; i++)
		if (pthread_create(&t[i], NULL, caller, NULL))
			fail("pthread_create");
	for (int i = 0; i < CALLERS; i++)
		pthread_join(t[i], NULL);
	if (init_runs != 1)
		fail("init ran more than once");
	if (init2_runs != 1)
		fail("second init did not run exactly once");
	if (init_ended - init_began < 50 * 1000000LL)
		fail("init slept less than 50 ms");
	if (pthread_once(&once, init) || init_runs != 1)
		fail("pthread_once after completion");
	fprintf(stderr, "all callers done after %.1f ms\n",
		(now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	printf("once: init ran 1 time, %d callers returned after it ok\n",
	       CALLERS);
	return 0;
}
