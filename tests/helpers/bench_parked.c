/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_parked — what one idle thread costs while it waits: N threads with
 * default attributes (glibc's 8 MiB stacks) all parked at once in
 * pthread_cond_wait.  A plain pthread program for `make bench`
 * (scripts/bench); under LD_PRELOAD=libgreen.so the threads are green.
 *
 *   bench_parked N
 *
 * Measured around the moment all N are parked, against a baseline taken
 * after one thread was created and joined (so one-time set-up, e.g. the
 * shim's hub, is not charged to the N):
 *   user    resident pages of this process, /proc/self/statm
 *   kernel  KernelStack + PageTables from /proc/meminfo (system-wide: other
 *           processes add noise; the bench keeps the machine otherwise idle)
 *   slab    SUnreclaim from /proc/meminfo, reported apart (task_struct,
 *           VMAs...: noisier, not in the all-in figure)
 * Prints on stdout one line (bytes per thread, times in ms):
 *   parked: n=N user_b=U kstack_b=K ptables_b=P allin_b=A slab_b=S
 *           create_ms=C release_ms=R
 * Exit 1 (FAIL on stderr) if a thread cannot be created or the count is
 * wrong after the joins.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_parked = PTHREAD_COND_INITIALIZER;
static long parked, woke, n;
static int released;

static void fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_bytes(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		fail("reading /proc/self/statm");
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

struct mem {
	long user, kstack, ptables, slab;	/* bytes */
};

static void sample(struct mem *s)
{
	char line[256];
	long kb;
	FILE *f = fopen("/proc/meminfo", "r");

	memset(s, 0, sizeof *s);
	if (!f)
		fail("opening /proc/meminfo");
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "KernelStack: %ld kB", &kb) == 1)
			s->kstack = kb * 1024;
		else if (sscanf(line, "PageTables: %ld kB", &kb) == 1)
			s->ptables = kb * 1024;
		else if (sscanf(line, "SUnreclaim: %ld kB", &kb) == 1)
			s->slab = kb * 1024;
	}
	fclose(f);
	s->user = rss_bytes();
}

static void *parker(void *arg)
{
	pthread_mutex_lock(&m);
	if (++parked == n)
		pthread_cond_signal(&all_parked);
	while (!released)
		pthread_cond_wait(&go, &m);
	woke++;
	pthread_mutex_unlock(&m);
	return arg;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	struct mem a, b;
	pthread_t *t, w;
	double t0, t1, t2;

	n = argc > 1 ? atol(argv[1]) : 10000;
	if (n < 1 || n > 1000000) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 2;
	}
	t = calloc(n, sizeof *t);
	if (!t)
		fail("calloc");
	if (pthread_create(&w, NULL, nothing, NULL) || pthread_join(w, NULL))
		fail("warm-up thread");
	sample(&a);
	t0 = now_ms();
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, parker, NULL) != 0) {
			fprintf(stderr, "FAIL: pthread_create %ld of %ld\n", i, n);
			exit(1);
		}
	pthread_mutex_lock(&m);
	while (parked < n)
		pthread_cond_wait(&all_parked, &m);
	pthread_mutex_unlock(&m);
	t1 = now_ms();
	sample(&b);

	pthread_mutex_lock(&m);
	released = 1;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&m);
	for (long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	t2 = now_ms();
	if (woke != n)
		fail("not every thread woke");

	long user = (b.user - a.user) / n, ks = (b.kstack - a.kstack) / n,
	     pt = (b.ptables - a.ptables) / n, slab = (b.slab - a.slab) / n;
	printf("parked: n=%ld user_b=%ld kstack_b=%ld ptables_b=%ld allin_b=%ld slab_b=%ld "
	       "create_ms=%.1f release_ms=%.1f\n",
	       n, user, ks, pt, user + ks + pt, slab, t1 - t0, t2 - t1);
	return 0;
}
