/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=180 args="2000" shim_args="100000" */
/*
 * N threads with default attributes (8 MiB stacks) all parked at once:
 * half in pthread_cond_wait, a quarter in pthread_cond_timedwait with a far
 * deadline, a quarter in a loop of 250 ms nanosleeps. Main waits until all
 * are parked, prints the resident memory each one costs (to stderr), then
 * releases them all with one broadcast and joins them.
 * Natively N is 2000; under the shim 100,000, which real threads could not
 * do on this machine (pid_max, memory): the shim must keep a parked thread
 * to a few KiB of touched memory and default stacks merely reserved.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* Generous bound: a parked thread must not commit its stack. */
#define MAX_RSS_PER_THREAD (64 * 1024)

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_parked = PTHREAD_COND_INITIALIZER;
static long parked, n;
static int released;

static long rss_bytes(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		fail("reading /proc/self/statm");
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* Counts the caller as parked (M held). */
static void arrive(void)
{
	if (++parked == n)
		pthread_cond_signal(&all_parked);
}

static void *parker(void *arg)
{
	long i = (long)arg;

	pthread_mutex_lock(&m);
	arrive();
	switch (i % 4) {
	case 0:
	case 1:
		/* Cond waiters: counted and waiting without dropping M between. */
		while (!released)
			pthread_cond_wait(&c, &m);
		break;
	case 2: {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 600;
		while (!released)
			if (pthread_cond_timedwait(&c, &m, &dl) == ETIMEDOUT)
				fail("timedwait reached its 600 s deadline");
		break;
	}
	case 3:
		pthread_mutex_unlock(&m);
		/* Sleepers: at most 600 s of 250 ms naps. */
		for (int k = 0; !__atomic_load_n(&released, __ATOMIC_SEQ_CST); k++) {
			struct timespec ts = { 0, 250000000L };

			if (k == 2400)
				fail("sleeper never released");
			nanosleep(&ts, NULL);
		}
		return (void *)(i + 1);
	}
	pthread_mutex_unlock(&m);
	return (void *)(i + 1);
}

int main(int argc, char **argv)
{
	pthread_t *t;
	long rss0, rss1;
	struct timespec dl;

	n = argc > 1 ? atol(argv[1]) : 2000;
	if (n < 4)
		fail("thread count");
	t = calloc(n, sizeof *t);
	if (!t)
		fail("calloc");
	rss0 = rss_bytes();
	for (long i = 0; i < n; i++) {
		int rc = pthread_create(&t[i], NULL, parker, (void *)i);
		if (rc) {
			fprintf(stderr, "FAIL: pthread_create #%ld: %s\n", i,
				strerror(rc));
			return 1;
		}
	}

	pthread_mutex_lock(&m);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 120;
	while (parked < n)
		if (pthread_cond_timedwait(&all_parked, &m, &dl) == ETIMEDOUT)
			fail("threads did not all park within 120 s");
	rss1 = rss_bytes();
	fprintf(stderr, "%ld threads parked; RSS %ld -> %ld KiB, %ld bytes "
		"per parked thread\n", n, rss0 / 1024, rss1 / 1024,
		(rss1 - rss0) / n);
	if ((rss1 - rss0) / n > MAX_RSS_PER_THREAD)
		fail("a parked thread costs more than 64 KiB of resident memory");
	released = 1;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);

	for (long i = 0; i < n; i++) {
		void *r;
		int rc = pthread_join(t[i], &r);

		if (rc || r != (void *)(i + 1)) {
			fprintf(stderr, "FAIL: join #%ld: %s, value %p\n", i,
				strerror(rc), r);
			return 1;
		}
	}
	printf("parked and joined: ok\n");
	free(t);
	return 0;
}
