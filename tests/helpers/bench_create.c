/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_create — the cost of pthread_create + pthread_join, one thread at a
 * time, default attributes.  A plain pthread program for `make bench`
 * (scripts/bench): natively it measures real threads, under
 * LD_PRELOAD=libgreen.so green threads.  It never links libgreen.
 *
 *   bench_create [TARGET_MS [REPS]]
 *     TARGET_MS  wall time of one repetition (default 200): the count is
 *                calibrated once (bounded: at most 2^24 threads or 2 s)
 *     REPS       repetitions (default 7)
 *
 * Each thread touches a little of its stack (as any real thread does) and
 * returns its argument, which the joiner checks.  Prints one line per
 * repetition on stderr and on stdout:
 *   create_join: iters=N reps=R median_ns=X min_ns=Y max_ns=Z
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *body(void *arg)
{
	volatile char buf[256];

	buf[0] = (char)(long)arg;
	buf[255] = buf[0];
	return arg;
}

/* n creates+joins; ns per pair. */
static double run(long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;

		if (pthread_create(&t, NULL, body, (void *)i) != 0 ||
		    pthread_join(t, &ret) != 0 || ret != (void *)i) {
			fprintf(stderr, "FAIL: create/join %ld\n", i);
			exit(1);
		}
	}
	return (now_ns() - t0) / n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double target_ms = argc > 1 ? atof(argv[1]) : 200, *r;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	long iters;

	if (target_ms <= 0 || target_ms > 10000 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: %s [TARGET_MS [REPS]]\n", argv[0]);
		return 2;
	}
	run(100);	/* warm: first thread, stack cache */
	for (iters = 100;; iters *= 2) {
		double el = run(iters) * iters;

		if (el >= 20e6 || iters >= (1L << 24) || el >= 2e9) {
			iters = (long)(iters * (target_ms * 1e6 / el));
			break;
		}
	}
	if (iters < 10)
		iters = 10;
	r = calloc(reps, sizeof *r);
	for (int i = 0; i < reps; i++) {
		r[i] = run(iters);
		fprintf(stderr, "create_join rep %d: %.1f ns\n", i + 1, r[i]);
	}
	qsort(r, reps, sizeof *r, cmp);
	printf("create_join: iters=%ld reps=%d median_ns=%.1f min_ns=%.1f max_ns=%.1f\n",
	       iters, reps, r[reps / 2], r[0], r[reps - 1]);
	return 0;
}
