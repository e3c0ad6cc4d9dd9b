/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=120 args="20 3 0" shim_args="10000 300 2" shim_env="GREEN_CLOCK=virtual" */
/*
 * time_virtual_sleeps: N threads each sleep 1 to MAX seconds (sleep,
 * nanosleep, clock_nanosleep relative and absolute, in turn) and check on
 * every clock they read (CLOCK_MONOTONIC, CLOCK_REALTIME, time()) that at
 * least the requested time passed; time() and CLOCK_REALTIME agree.  Under
 * GREEN_CLOCK=virtual the shim run (10,000 threads, up to 300 s) must end
 * within WALL seconds of real time, read with a raw system call, which the
 * virtual clock does not see.  Natively (20 threads, up to 3 s, no bound)
 * the output is the same.
 *
 * usage: time_virtual_sleeps N MAX WALL
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int maxs;
static atomic_int bad_mono, bad_real, bad_time, bad_agree;

static long long ns_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long raw_mono(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *run(void *arg)
{
	long i = (long)arg;
	int secs = 1 + (int)((i * 7919) % maxs);
	long long m0 = ns_of(CLOCK_MONOTONIC), r0 = ns_of(CLOCK_REALTIME);
	time_t t0 = time(NULL);
	struct timespec req = { secs, 0 }, abs;

	switch (i % 4) {
	case 0:
		sleep(secs);
		break;
	case 1:
		nanosleep(&req, NULL);
		break;
	case 2:
		clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
		break;
	case 3:
		clock_gettime(CLOCK_REALTIME, &abs);
		abs.tv_sec += secs;
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
		break;
	}
	long long m1 = ns_of(CLOCK_MONOTONIC), r1 = ns_of(CLOCK_REALTIME);
	time_t t1 = time(NULL);
	long long r2 = ns_of(CLOCK_REALTIME);

	if (m1 - m0 < secs * 1000000000LL)
		atomic_fetch_add(&bad_mono, 1);
	if (r1 - r0 < secs * 1000000000LL)
		atomic_fetch_add(&bad_real, 1);
	/* time() is whole seconds of a clock that may lag by a tick */
	if (t1 - t0 < secs - 1)
		atomic_fetch_add(&bad_time, 1);
	if (t1 < r1 / 1000000000 - 1 || t1 > r2 / 1000000000)
		atomic_fetch_add(&bad_agree, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	int wall = argc > 3 ? atoi(argv[3]) : 0;
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t a;
	long long w0 = raw_mono(), w;

	maxs = argc > 2 ? atoi(argv[2]) : 3;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], &a, run, (void *)i) != 0) {
			printf("pthread_create %ld failed\n", i);
			return 1;
		}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	w = raw_mono() - w0;
	printf("short sleeps: monotonic %d, realtime %d, time() %d\n",
	       bad_mono, bad_real, bad_time);
	printf("time() and CLOCK_REALTIME disagree: %d\n", bad_agree);
	if (wall && w > wall * 1000000000LL)
		printf("took %.2f s of real time, more than %d s\n", w / 1e9, wall);
	return 0;
}
