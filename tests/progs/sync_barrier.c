/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * 64 threads meet at one pthread_barrier 100 times. In every round exactly
 * one of them gets PTHREAD_BARRIER_SERIAL_THREAD, and nobody leaves a round
 * before all 64 have arrived. Some threads sleep before arriving, so the
 * barrier must park the early ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

#define THREADS 64
#define ROUNDS 100

static pthread_barrier_t bar;
static int arrived[ROUNDS];
static int serial[ROUNDS];

static void *worker(void *arg)
{
	long id = (long)arg;
	unsigned seed = (unsigned)id + 1;

	for (int r = 0; r < ROUNDS; r++) {
		if (rand_r(&seed) % 16 == 0)
			usleep(rand_r(&seed) % 300);
		__atomic_add_fetch(&arrived[r], 1, __ATOMIC_SEQ_CST);
		int rc = pthread_barrier_wait(&bar);
		if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serial[r], 1, __ATOMIC_SEQ_CST);
		else if (rc != 0)
			fail("pthread_barrier_wait error");
		if (__atomic_load_n(&arrived[r], __ATOMIC_SEQ_CST) != THREADS)
			fail("left the barrier before everyone arrived");
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	pthread_barrier_t b0;

	if (pthread_barrier_init(&b0, NULL, 0) != EINVAL)
		fail("pthread_barrier_init count 0 is not EINVAL");
	if (pthread_barrier_init(&bar, NULL, THREADS))
		fail("pthread_barrier_init");
	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			fail("pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int r = 0; r < ROUNDS; r++) {
		if (serial[r] != 1) {
			fprintf(stderr, "FAIL: round %d had %d serial threads\n",
				r, serial[r]);
			return 1;
		}
		if (arrived[r] != THREADS)
			fail("arrivals");
	}
	if (pthread_barrier_destroy(&bar))
		fail("pthread_barrier_destroy");

	/* A barrier of one never waits and always names its caller serial. */
	if (pthread_barrier_init(&b0, NULL, 1))
		fail("pthread_barrier_init 1");
	for (int i = 0; i < 3; i++)
		if (pthread_barrier_wait(&b0) != PTHREAD_BARRIER_SERIAL_THREAD)
			fail("barrier of one");
	pthread_barrier_destroy(&b0);

	printf("barrier: %d threads, %d rounds, one serial thread per round ok\n",
	       THREADS, ROUNDS);
	return 0;
}
