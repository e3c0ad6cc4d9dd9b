/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 args="1000" */
/*
 * N threads (default 1,000) are all alive at once: each arrives at one
 * barrier with main, sleeps a moment, and exits; main joins them all.
 * diag_stats.sh runs it with GREEN_STATS and checks the counts the shim
 * reports (N created, a peak of at least N live at once).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

static pthread_barrier_t bar;
static int done[100000];

static void *worker(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&bar);	/* everyone is alive here */
	usleep(1000);
	done[i] = 1;
	return (void *)(i + 1);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	pthread_attr_t a;
	pthread_t *t;

	if (n < 1 || n > 100000)
		fail("thread count out of range");
	t = calloc(n, sizeof(*t));
	if (t == NULL)
		fail("calloc");
	/* Small stacks: 1,000 native threads must fit anywhere. */
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	if (pthread_barrier_init(&bar, NULL, (unsigned)n + 1) != 0)
		fail("barrier init");
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], &a, worker, (void *)i) != 0)
			fail("pthread_create");
	pthread_barrier_wait(&bar);
	for (long i = 0; i < n; i++) {
		void *r;

		if (pthread_join(t[i], &r) != 0)
			fail("pthread_join");
		if ((long)r != i + 1 || !done[i])
			fail("wrong result from a thread");
	}
	printf("threads: all created, alive at once, joined\n");
	return 0;
}
