/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_preempt — what time slices cost and buy: T threads (default 4)
 * each do a fixed amount of integer and floating-point work without a
 * blocking call, beside a ticker that sleeps 10 ms at a time.  Prints the
 * wall and CPU time the work took and the ticker's lateness (mean, p99,
 * worst), so that runs with GREEN_PREEMPT_MS=10, =0 and natively (all
 * pinned to one CPU with taskset, so that the kernel has one CPU to share
 * as the hub does) can be compared: the cost per slice is the extra CPU
 * time divided by the preemptions GREEN_STATS counts.  On a loaded machine
 * wall-clock lateness grows with the load; the CPU time the process ran
 * while the ticker waited does not.
 *
 *   bench_preempt [-t threads] [-w work_ms_per_thread]
 *   bench_preempt -g [-w ms]   one thread spins reading the clock beside
 *       a thread parked for a second: under the shim each slice ends in a
 *       preemption that finds nobody else to run, so the gaps in its
 *       clock readings between 1 us and 1 ms are the cost of one
 *       preemption (signal, trampoline, two switches, one poll); prints
 *       their count and median (the kernel's own interruptions are
 *       mostly shorter or longer).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long work_iters;
static atomic_int done;
static long lates[100000], cpu_waits[100000];
static int nlate;

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double work(long n)
{
	double x = 1.0;
	unsigned long a = 1;

	for (long i = 0; i < n; i++) {
		x = x * 0.9999999 + (double)(i & 7);
		a = a * 6364136223846793005UL + 1442695040888963407UL;
	}
	return x + (double)(a & 1);
}

static void *worker(void *arg)
{
	volatile double r = work(work_iters);

	(void)r;
	(void)arg;
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *ticker(void *arg)
{
	int *nthr = arg;

	while (atomic_load(&done) < *nthr && nlate < 100000) {
		double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);

		usleep(10000);
		/* the process's CPU time while it waited: on one CPU, what the
		 * others ran before the ticker got it back, whatever the load */
		cpu_waits[nlate] = (long)((now_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e6);
		lates[nlate++] = (long)((now_s(CLOCK_MONOTONIC) - t0) * 1e6) - 10000;
	}
	return NULL;
}

static void *parked(void *arg)
{
	(void)arg;
	sleep(1);
	return NULL;
}

static long gaps[200000];

static int cmpl(const void *a, const void *b);

static int gap_mode(long ms)
{
	pthread_t p;
	int n = 0;
	double end, prev, t;

	pthread_create(&p, NULL, parked, NULL);
	usleep(1000);
	prev = now_s(CLOCK_MONOTONIC);
	end = prev + ms / 1000.0;
	while ((t = now_s(CLOCK_MONOTONIC)) < end) {
		double d = t - prev;

		if (d > 1e-6 && d < 1e-3 && n < 200000)
			gaps[n++] = (long)(d * 1e9);
		prev = t;
	}
	qsort(gaps, n, sizeof(long), cmpl);
	printf("gaps of 1 us - 1 ms in %ld ms of spinning: %d, median %.1f us, "
	       "p10 %.1f us, p90 %.1f us\n", ms, n, n ? gaps[n / 2] / 1000.0 : 0.0,
	       n ? gaps[n / 10] / 1000.0 : 0.0, n ? gaps[n * 9 / 10] / 1000.0 : 0.0);
	pthread_join(p, NULL);
	return 0;
}

static int cmpl(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int nthr = 4, opt;
	long work_ms = 1000;
	pthread_t t[64], tk;
	double w0, c0, w1, c1, sum = 0, t0;

	int gap = 0;

	while ((opt = getopt(argc, argv, "gt:w:")) != -1) {
		if (opt == 'g')
			gap = 1;
		else if (opt == 't')
			nthr = atoi(optarg);
		else if (opt == 'w')
			work_ms = atol(optarg);
		else
			return 2;
	}
	if (nthr < 1 || nthr > 64)
		return 2;
	if (gap)
		return gap_mode(work_ms > 900 ? 900 : work_ms);
	/* calibrate: iterations per ms of CPU */
	t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	sum = work(20000000);	/* used, or the call is dropped */
	if (sum < 0)
		return 3;
	sum = 0;
	work_iters = (long)(20000000 / ((now_s(CLOCK_THREAD_CPUTIME_ID) - t0) * 1000) * work_ms);
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	pthread_create(&tk, NULL, ticker, &nthr);
	for (int i = 0; i < nthr; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < nthr; i++)
		pthread_join(t[i], NULL);
	w1 = now_s(CLOCK_MONOTONIC);
	c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	pthread_join(tk, NULL);
	qsort(lates, nlate, sizeof(long), cmpl);
	qsort(cpu_waits, nlate, sizeof(long), cmpl);
	for (int i = 0; i < nlate; i++)
		sum += lates[i];
	printf("threads %d work %ld ms each: wall %.3f s cpu %.3f s; ticker %d "
	       "wake-ups, lateness mean %.1f ms p99 %.1f ms worst %.1f ms\n",
	       nthr, work_ms, w1 - w0, c1 - c0, nlate,
	       nlate ? sum / nlate / 1000 : 0.0,
	       nlate ? lates[nlate * 99 / 100] / 1000.0 : 0.0,
	       nlate ? lates[nlate - 1] / 1000.0 : 0.0);
	printf("  CPU time the others ran while the ticker waited 10 ms: median "
	       "%.1f ms p99 %.1f ms worst %.1f ms\n",
	       nlate ? cpu_waits[nlate / 2] / 1000.0 : 0.0,
	       nlate ? cpu_waits[nlate * 99 / 100] / 1000.0 : 0.0,
	       nlate ? cpu_waits[nlate - 1] / 1000.0 : 0.0);
	return 0;
}
