/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_fixed — bench_handoff's cond ping-pong and bench_create's loop with
 * a fixed count and no clock, for instruction counts (scripts/count-insns
 * runs it under callgrind twice and takes the difference, so start-up and
 * thread set-up cancel out).  A plain pthread program: it never links
 * libgreen.
 *
 *   bench_fixed cond N     main and one thread take turns N times each
 *                          over one mutex and two condition variables
 *                          (2 N hand-offs)
 *   bench_fixed create N   N times pthread_create + pthread_join
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cond_pingpong.h"

static long n;

static void *pong(void *arg)
{
	pp_side(1, n);
	return arg;
}

/* As bench_create's thread: touch a little stack, return the argument. */
static void *child(void *arg)
{
	volatile char buf[256];

	memset((char *)buf, 1, sizeof(buf));
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;
	void *r;

	if (argc != 3 || (n = atol(argv[2])) <= 0)
		return 2;
	if (strcmp(argv[1], "cond") == 0) {
		if (pthread_create(&t, NULL, pong, NULL) != 0)
			return 1;
		pp_side(0, n);
		return pthread_join(t, NULL) != 0;
	}
	if (strcmp(argv[1], "create") != 0)
		return 2;
	for (long i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, child, (void *)i) != 0 ||
		    pthread_join(t, &r) != 0 || r != (void *)i)
			return 1;
	}
	return 0;
}
