/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_handoff — what it costs one thread to hand control to another.
 * A plain pthread program for `make bench` (scripts/bench): run natively it
 * measures real threads, under LD_PRELOAD=libgreen.so green threads. It
 * never links or knows about libgreen.
 *
 *   bench_handoff MODE [TARGET_MS [REPS]]
 *     MODE       cond  two threads take turns over one mutex and two
 *                      condition variables (a "turn" variable says whose)
 *                pipe  two pipes, one byte each way, blocking read/write
 *                sock  an AF_UNIX stream socketpair, one byte each way
 *     TARGET_MS  wall time of one repetition (default 200); the iteration
 *                count is calibrated once so that a repetition takes that
 *     REPS       repetitions (default 7)
 *
 * A hand-off is one thread passing the turn to the other, so a round trip
 * (ping and pong) is two.  Prints one line per repetition on stderr and on
 * stdout:
 *   handoff: mode=cond iters=N reps=R median_ns=X min_ns=Y max_ns=Z
 * (ns per hand-off).  Every loop is bounded: the calibration stops at 2^26
 * iterations or 2 s, a repetition runs a fixed count.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "cond_pingpong.h"

enum mode { COND, PIPE, SOCK };

static enum mode mode;
static long iters;			/* round trips per repetition */
static int ab[2], ba[2];		/* ping -> pong, pong -> ping */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static void fd_xfer(int rfd, int wfd, int read_first, long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		if (read_first && read(rfd, &c, 1) != 1)
			die("read");
		if (write(wfd, &c, 1) != 1)
			die("write");
		if (!read_first && read(rfd, &c, 1) != 1)
			die("read");
	}
}

static void *pong(void *arg)
{
	long n = (long)arg;

	if (mode == COND)
		pp_side(1, n);
	else
		fd_xfer(ab[0], ba[1], 1, n);
	return NULL;
}

/* n round trips; returns ns per hand-off. */
static double run(long n)
{
	pthread_t t;
	double t0, t1;

	pp_turn = 0;
	if (pthread_create(&t, NULL, pong, (void *)n) != 0)
		die("pthread_create");
	t0 = now_ns();
	if (mode == COND)
		pp_side(0, n);
	else
		fd_xfer(ba[0], ab[1], 0, n);
	t1 = now_ns();
	pthread_join(t, NULL);
	return (t1 - t0) / (2.0 * n);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *names[] = { "cond", "pipe", "sock" };
	double target_ms = argc > 2 ? atof(argv[2]) : 200, ns, *r;
	int reps = argc > 3 ? atoi(argv[3]) : 7;

	if (argc < 2 || target_ms <= 0 || target_ms > 10000 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: %s cond|pipe|sock [TARGET_MS [REPS]]\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "cond"))
		mode = COND;
	else if (!strcmp(argv[1], "pipe"))
		mode = PIPE;
	else if (!strcmp(argv[1], "sock"))
		mode = SOCK;
	else
		die("unknown mode");
	if (mode == PIPE && (pipe(ab) || pipe(ba)))
		die("pipe");
	if (mode == SOCK) {
		int s[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
			die("socketpair");
		/* Each end both reads and writes: ping holds s[0], pong s[1]. */
		ab[0] = s[1];
		ab[1] = s[0];
		ba[0] = s[0];
		ba[1] = s[1];
	}

	/* Calibrate: double until a run takes 20 ms (bounded), then scale. */
	run(1000);	/* warm: first thread, stacks, lazy set-up */
	for (iters = 1000;; iters *= 2) {
		double t0 = now_ns();

		run(iters);
		double el = now_ns() - t0;
		if (el >= 20e6 || iters >= (1L << 26) || el >= 2e9) {
			iters = (long)(iters * (target_ms * 1e6 / el));
			break;
		}
	}
	if (iters < 100)
		iters = 100;

	r = calloc(reps, sizeof *r);
	for (int i = 0; i < reps; i++) {
		r[i] = run(iters);
		fprintf(stderr, "handoff %s rep %d: %.1f ns\n", names[mode], i + 1, r[i]);
	}
	qsort(r, reps, sizeof *r, cmp);
	ns = r[reps / 2];
	printf("handoff: mode=%s iters=%ld reps=%d median_ns=%.1f min_ns=%.1f max_ns=%.1f\n",
	       names[mode], iters, reps, ns, r[0], r[reps - 1]);
	return 0;
}
