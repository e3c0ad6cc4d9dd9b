/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=120 args="4 400" */
/*
 * Threads that compute use every core, as real threads do.  Main first
 * times a unit of work alone (its own CPU clock), then N threads (argv[1],
 * default 4) each do enough units for MS ms (argv[2], default 400) and
 * print their sums, which must match a single-threaded run.  Before they
 * end, each waits for main to look at /proc/self/task: the process must
 * have spent at least a third of one thread's work in each of min(N,
 * CPUs) tasks.  Natively those are the threads themselves; under the shim
 * they are its hubs: min(N, CPUs, hubs) tasks.  The hubs of a shim run are
 * GREEN_TEST_HUBS, which scripts/run-tests sets for shim runs only (from
 * GREEN_HUBS and the library's default); run by hand, GREEN_HUBS if it is a
 * number, else one per CPU (auto).  With one hub only the sums are checked.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long units;
static unsigned long want_sum;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int done, looked;
static volatile unsigned long sink;

static unsigned long work(long n, unsigned long seed)
{
	unsigned long x = seed;

	for (long i = 0; i < n; i++)
		for (int k = 0; k < 1000; k++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static void *run(void *arg)
{
	unsigned long s = work(units, 42);

	if (s != want_sum)
		fail("a thread's sum differs from main's");
	pthread_mutex_lock(&m);
	done++;
	pthread_cond_broadcast(&c);
	while (!looked)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	return arg;
}

/* CPU ticks of each task of this process, those with at least `min`. */
static int busy_tasks(long min, long *most)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL, "opendir /proc/self/task");
	*most = 0;
	while ((e = readdir(d)) != NULL) {
		char path[320], buf[1024], *p;
		unsigned long ut, st;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) == NULL ||
		    (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				  "%lu %lu",
			   &ut, &st) != 2) {
			fclose(f);
			continue;
		}
		fclose(f);
		if ((long)(ut + st) > *most)
			*most = (long)(ut + st);
		if ((long)(ut + st) >= min)
			n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, ms = argc > 2 ? atoi(argv[2]) : 400;
	long hz = sysconf(_SC_CLK_TCK), most;
	const char *th = getenv("GREEN_TEST_HUBS"), *gh = getenv("GREEN_HUBS");
	int hubs = 0; /* 0: as many as CPUs (natively: no limit) */
	pthread_t *ids = calloc(n, sizeof(*ids));
	struct timespec a, b;
	cpu_set_t set;
	int cpus = 1, want, got;
	double unit_ms;

	CHECK(ids != NULL && n > 0 && ms > 0, "arguments");
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	sink = work(2000, 1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	unit_ms = (ns_of(b) - ns_of(a)) / 1e6 / 2000;
	units = (long)(ms / (unit_ms > 0 ? unit_ms : 1e-3));
	want_sum = work(units, 42);

	for (int i = 0; i < n; i++)
		expect(pthread_create(&ids[i], NULL, run, NULL), 0, "create");
	pthread_mutex_lock(&m);
	while (done < n)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);

	if (th != NULL && atoi(th) > 0)
		hubs = atoi(th);
	else if (gh != NULL && atoi(gh) > 0)
		hubs = atoi(gh);
	want = n < cpus ? n : cpus;
	if (hubs > 0 && hubs < want)
		want = hubs;
	got = busy_tasks((long)ms * hz / 1000 / 3, &most);
	fprintf(stderr,
		"%d threads, %d CPUs, hubs %d: %d tasks busy (most %ld ticks)\n",
		n, cpus, hubs, got, most);
	if (want > 1 && got < want) {
		fprintf(stderr, "FAIL: the work ran on %d cores, not %d\n", got,
			want);
		return 1;
	}

	pthread_mutex_lock(&m);
	looked = 1;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
	for (int i = 0; i < n; i++)
		expect(pthread_join(ids[i], NULL), 0, "join");
	printf("%d threads computed the same sums\n", n);
	return 0;
}
