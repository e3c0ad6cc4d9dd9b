/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_clock: the cost of reading the clock, as a program pays it.
 *   bench_clock [N]   N calls each of clock_gettime(CLOCK_MONOTONIC),
 *                     clock_gettime(CLOCK_REALTIME), gettimeofday and time;
 *                     prints ns per call (the loop measured with a raw
 *                     clock_gettime system call, which no shim sees).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long raw(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	struct timespec ts;
	struct timeval tv;
	volatile long sink = 0;
	long long t0;

	t0 = raw();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink += ts.tv_nsec;
	}
	printf("clock_gettime(MONOTONIC) %.1f ns\n", (raw() - t0) / (double)n);
	t0 = raw();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		sink += ts.tv_nsec;
	}
	printf("clock_gettime(REALTIME) %.1f ns\n", (raw() - t0) / (double)n);
	t0 = raw();
	for (long i = 0; i < n; i++) {
		gettimeofday(&tv, NULL);
		sink += tv.tv_usec;
	}
	printf("gettimeofday %.1f ns\n", (raw() - t0) / (double)n);
	t0 = raw();
	for (long i = 0; i < n; i++)
		sink += time(NULL);
	printf("time %.1f ns\n", (raw() - t0) / (double)n);
	return sink == 42;
}
