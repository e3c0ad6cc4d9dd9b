/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=120 args="2000" shim_args="2000 75" */
/*
 * Three threads compute for SPIN ms of CPU each (default 2000) without a
 * single blocking call, with floating point, SSE2 and (when the CPU has
 * it) AVX2 intrinsics, while a fourth sleeps 10 ms at a time.  Each
 * spinner checks its sums against the same computation done first by
 * the main thread alone: registers (general, x87, SSE, AVX) must survive
 * every preemption.
 *
 * With a second argument LATE (ms), the sleeper must wake at least 20
 * times while the spinners run, at most 20 ms (two slices) late on
 * average in CPU time (the CPU the process burned while it waited, less
 * its 10 ms) and at most LATE ms in the worst case:
 * only the shim run is given it (run-tests' shim_args).  A thread that
 * computes holds its hub unless it is preempted (GREEN_PREEMPT_MS=10: a
 * slice is 10 to 15 ms of the hub's CPU time); CPU time, because on this
 * shared 2-core machine the hub's OS thread may get half a CPU, which
 * doubles any wall-clock lateness, natively too.  With several hubs the
 * spinners spread over the CPUs, and the process's CPU time is divided by
 * how many run at once (GREEN_HUBS, one per CPU by default).  The
 * wall-clock figures
 * go to stderr.  Natively nothing timing-dependent is printed, so both
 * runs print the same.
 */
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSPIN 3
#define ROUND 20000	/* iterations between clock reads */

static long spin_ms, late_ms;
static atomic_int running;
static atomic_int stop_sleeper;
static int have_avx2;

struct result {
	double x87;		/* long double accumulation */
	double sse;		/* scalar and packed double */
	unsigned long long ints;/* general registers */
	double avx;		/* 256-bit lanes */
	long rounds;
};

static void fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many CPUs the process computes on at once: under the shim with
 * several hubs (GREEN_HUBS unset or auto: one per CPU) the spinners spread
 * over them, so the process's CPU clock runs that many times faster than
 * the sleeper's hub's. */
static long par = 1;

static long proc_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec * 1000000 + ts.tv_nsec / 1000) / par;
}

static long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((target("avx2,fma"), noinline))
static double avx_round(long r, double *acc)
{
	__m256d a = _mm256_loadu_pd(acc), step = _mm256_set_pd(1e-9, 2e-9, 3e-9, 4e-9);
	__m256d k = _mm256_set1_pd((double)(r & 7) * 0.125);
	double out[4];

	for (int i = 0; i < ROUND; i++) {
		a = _mm256_fmadd_pd(a, _mm256_set1_pd(0.999999), step);
		a = _mm256_add_pd(a, k);
		k = _mm256_permute4x64_pd(k, 0x39);
	}
	_mm256_storeu_pd(acc, a);
	_mm256_storeu_pd(out, a);
	return out[0] + out[1] + out[2] + out[3];
}

/* One round: the same arithmetic whoever runs it. */
static __attribute__((noinline)) void one_round(long r, struct result *res,
						__m128d *pk, double *acc)
{
	long double x = res->x87;
	__m128d p = *pk, m = _mm_set_pd(1.0000001, 0.9999999);
	double s = res->sse;
	unsigned long long a = res->ints, b = (unsigned long long)r * 2654435761u;

	for (int i = 0; i < ROUND; i++) {
		x = x * 0.9999999L + (long double)(i & 15) * 1e-7L;
		s = s * 0.99999 + (double)(i % 7) * 0.5;
		p = _mm_add_pd(_mm_mul_pd(p, m), _mm_set1_pd((double)(i & 3)));
		a = a * 6364136223846793005ULL + b;
		b ^= a >> 29;
	}
	res->x87 = (double)x;
	res->sse = s + _mm_cvtsd_f64(p) * 1e-6;
	res->ints = a ^ b;
	*pk = p;
	if (have_avx2)
		res->avx += avx_round(r, acc);
	res->rounds++;
}

/* The computation of `rounds` rounds, fixed in advance, so that a spinner
 * and the reference do exactly the same work. */
static void compute(long rounds, struct result *res)
{
	__m128d p = _mm_set_pd(1.0, 2.0);
	double acc[4] = { 0, 0, 0, 0 };

	memset(res, 0, sizeof(*res));
	for (long r = 0; r < rounds; r++)
		one_round(r, res, &p, acc);
}

static long rounds_for_spin;
static struct result reference;
static struct result got[NSPIN];

static void *spinner(void *arg)
{
	struct result *res = arg;

	atomic_fetch_add(&running, 1);
	compute(rounds_for_spin, res);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static long worst_late, worst_cpu_late, sum_cpu_late;
static int wakeups;
static long lates[4096];

static void *sleeper(void *arg)
{
	(void)arg;
	/* Wait for the spinners to be under way, then measure. */
	while (atomic_load(&running) < NSPIN && !atomic_load(&stop_sleeper))
		usleep(1000);
	while (!atomic_load(&stop_sleeper) && atomic_load(&running) > 0) {
		long t0 = now_ms(), c0 = proc_cpu_us(), late, cl;

		usleep(10000);
		late = now_ms() - t0 - 10;
		cl = (proc_cpu_us() - c0) / 1000 - 10;
		if (cl > worst_cpu_late)
			worst_cpu_late = cl;
		sum_cpu_late += cl > 0 ? cl : 0;
		if (late > worst_late)
			worst_late = late;
		if (wakeups < 4096)
			lates[wakeups] = late;
		wakeups++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t sp[NSPIN], sl;
	unsigned a, b, c, d;
	long c0, c1, probe = 20;
	struct result tmp;

	spin_ms = argc > 1 ? atol(argv[1]) : 2000;
	late_ms = argc > 2 ? atol(argv[2]) : 0;
	{
		const char *hubs = getenv("GREEN_HUBS");
		cpu_set_t set;
		long cpus = 1, h;

		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			cpus = CPU_COUNT(&set);
		h = hubs == NULL || strcmp(hubs, "auto") == 0 ? cpus
							      : atol(hubs);
		par = h < 1 ? 1 : h > cpus ? cpus : h;
		if (par > NSPIN + 1)
			par = NSPIN + 1;
	}
	if (spin_ms < 10)
		fail("bad arguments");
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2) &&
	    __get_cpuid(1, &a, &b, &c, &d) && (c & bit_FMA) && (c & bit_OSXSAVE))
		have_avx2 = 1;
	/* How many rounds make SPIN ms of CPU here: time a few. */
	do {
		c0 = cpu_ms();
		compute(probe, &tmp);
		c1 = cpu_ms();
		if (c1 - c0 < 50)
			probe *= 2;
	} while (c1 - c0 < 50);
	rounds_for_spin = probe * spin_ms / (c1 - c0 > 0 ? c1 - c0 : 1);
	if (rounds_for_spin < 10)
		rounds_for_spin = 10;
	compute(rounds_for_spin, &reference);

	if (pthread_create(&sl, NULL, sleeper, NULL) != 0)
		fail("pthread_create sleeper");
	for (int i = 0; i < NSPIN; i++)
		if (pthread_create(&sp[i], NULL, spinner, &got[i]) != 0)
			fail("pthread_create spinner");
	for (int i = 0; i < NSPIN; i++)
		if (pthread_join(sp[i], NULL) != 0)
			fail("join spinner");
	atomic_store(&stop_sleeper, 1);
	if (pthread_join(sl, NULL) != 0)
		fail("join sleeper");
	for (int i = 0; i < NSPIN; i++)
		if (memcmp(&got[i], &reference, sizeof(reference)) != 0) {
			fprintf(stderr, "spinner %d: x87 %.17g sse %.17g ints %llx avx %.17g "
				"rounds %ld; reference %.17g %.17g %llx %.17g %ld\n", i,
				got[i].x87, got[i].sse, got[i].ints, got[i].avx, got[i].rounds,
				reference.x87, reference.sse, reference.ints,
				reference.avx, reference.rounds);
			fail("a spinner's sums differ from the single-threaded run");
		}
	{
		int n = wakeups < 4096 ? wakeups : 4096, over = 0;
		long sum = 0;

		for (int i = 0; i < n; i++) {
			sum += lates[i];
			over += lates[i] > 20;
		}
		fprintf(stderr, "preempt_spin: %ld rounds per spinner, avx2 %d, "
			"sleeper woke %d times, lateness mean %.1f ms, worst %ld "
			"ms, %d over 20 ms; CPU-time lateness mean %.1f ms, worst "
			"%ld ms\n", rounds_for_spin, have_avx2, wakeups,
			n ? (double)sum / n : 0.0, worst_late, over,
			wakeups ? (double)sum_cpu_late / wakeups : 0.0, worst_cpu_late);
	}
	if (late_ms > 0 && wakeups < 20) {
		fprintf(stderr, "FAIL: the sleeper woke only %d times while the "
			"spinners ran (starved)\n", wakeups);
		return 1;
	}
	/* Two slices on average; the worst case gets a margin: the kernel
	 * notices a CPU timer's expiry at its scheduler tick, late under
	 * load (51 ms seen with a load average of 14 on 2 cores). */
	if (late_ms > 0 && sum_cpu_late > 20L * wakeups) {
		fprintf(stderr, "FAIL: the sleeper was %.1f ms of CPU time late "
			"on average (bound 20 ms, two slices)\n",
			(double)sum_cpu_late / wakeups);
		return 1;
	}
	if (late_ms > 0 && worst_cpu_late > late_ms) {
		fprintf(stderr, "FAIL: the sleeper was %ld ms of CPU time late "
			"(bound %ld ms)\n", worst_cpu_late, late_ms);
		return 1;
	}
	printf("%d spinners agree with the single-threaded run\n", NSPIN);
	return 0;
}
