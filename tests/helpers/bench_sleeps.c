/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_sleeps: a sleep-heavy harness.  T threads each sleep S times for
 * MS milliseconds; prints the wall time (a raw clock_gettime system call,
 * which no shim sees).   bench_sleeps [T [S [MS]]]  (default 1000 10 1000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int sleeps = 10, ms = 1000;

static void *run(void *a)
{
	for (int i = 0; i < sleeps; i++)
		usleep(ms * 1000);
	return NULL;
}

static double raw(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t at;
	double t0 = raw();

	sleeps = argc > 2 ? atoi(argv[2]) : 10;
	ms = argc > 3 ? atoi(argv[3]) : 1000;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], &at, run, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%d threads x %d sleeps of %d ms: %.3f s wall\n", n, sleeps, ms, raw() - t0);
	return 0;
}
