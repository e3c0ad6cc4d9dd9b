/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 args="200" shim_args="10000" */
/*
 * N threads each sleep a pseudo-random 20-300 ms with one of the sleep
 * idioms: nanosleep, usleep, clock_nanosleep (relative and TIMER_ABSTIME,
 * on CLOCK_MONOTONIC and CLOCK_REALTIME), poll(NULL, 0, ms), ppoll with no
 * fds, select and pselect with no fds. No sleep may end early, measured on
 * the clock it was asked on. The sleeps overlap: the whole batch, thread
 * creation included, finishes in under 3 s (10,000 threads under the shim,
 * 200 natively).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

enum { NANOSLEEP, USLEEP, CNS_MONO_REL, CNS_MONO_ABS, CNS_REAL_REL,
       CNS_REAL_ABS, POLL, PPOLL, SELECT, PSELECT, METHODS };

static const char *method_name[METHODS] = {
	"nanosleep", "usleep", "clock_nanosleep(MONOTONIC)",
	"clock_nanosleep(MONOTONIC, ABSTIME)", "clock_nanosleep(REALTIME)",
	"clock_nanosleep(REALTIME, ABSTIME)", "poll(NULL, 0)",
	"ppoll(NULL, 0)", "select(0)", "pselect(0)",
};

static void *sleeper(void *arg)
{
	long i = (long)arg;
	unsigned seed = (unsigned)i * 2654435761u + 17;
	int method = i % METHODS;
	long ms = 20 + rand_r(&seed) % 281;
	clockid_t clk = (method == CNS_REAL_REL || method == CNS_REAL_ABS) ?
			CLOCK_REALTIME : CLOCK_MONOTONIC;
	long long t0 = now_ns(clk), want = t0 + ms * 1000000LL;
	struct timespec ts = ts_of(ms * 1000000LL), abs = ts_of(want);
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
	int rc = 0;

	switch (method) {
	case NANOSLEEP:
		rc = nanosleep(&ts, NULL);
		break;
	case USLEEP:
		rc = usleep(ms * 1000);
		break;
	case CNS_MONO_REL:
	case CNS_REAL_REL:
		rc = clock_nanosleep(clk, 0, &ts, NULL);
		if (rc) {
			errno = rc;
			rc = -1;
		}
		break;
	case CNS_MONO_ABS:
	case CNS_REAL_ABS:
		rc = clock_nanosleep(clk, TIMER_ABSTIME, &abs, NULL);
		if (rc) {
			errno = rc;
			rc = -1;
		}
		break;
	case POLL:
		rc = poll(NULL, 0, ms);
		break;
	case PPOLL:
		rc = ppoll(NULL, 0, &ts, NULL);
		break;
	case SELECT:
		rc = select(0, NULL, NULL, NULL, &tv);
		break;
	case PSELECT:
		rc = pselect(0, NULL, NULL, NULL, &ts, NULL);
		break;
	}
	if (rc != 0) {
		fprintf(stderr, "FAIL: %s(%ld ms) returned %d: %s\n",
			method_name[method], ms, rc, strerror(errno));
		exit(1);
	}
	long long late = now_ns(clk) - want;
	if (late < 0) {
		fprintf(stderr, "FAIL: %s(%ld ms) ended %lld us early\n",
			method_name[method], ms, -late / 1000);
		exit(1);
	}
	return (void *)(long)(late / 1000);	/* overshoot in us */
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200;
	pthread_t *t = calloc(n, sizeof *t);
	long *late = calloc(n, sizeof *late);
	long long t0 = now_ns(CLOCK_MONOTONIC), took;

	if (!t || !late || n < METHODS) {
		fprintf(stderr, "FAIL: bad thread count\n");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int rc = pthread_create(&t[i], NULL, sleeper, (void *)i);
		if (rc) {
			fprintf(stderr, "FAIL: pthread_create #%ld: %s\n", i,
				strerror(rc));
			return 1;
		}
	}
	for (long i = 0; i < n; i++) {
		void *r;

		pthread_join(t[i], &r);
		late[i] = (long)r;
	}
	took = now_ns(CLOCK_MONOTONIC) - t0;
	qsort(late, n, sizeof *late, cmp_long);
	fprintf(stderr, "%ld sleeps of 20-300 ms took %.3f s; overshoot "
		"median %ld us, p99 %ld us, max %ld us\n", n, took / 1e9,
		late[n / 2], late[n * 99 / 100], late[n - 1]);
	if (took >= 3000000000LL) {
		fprintf(stderr, "FAIL: the batch took %.3f s, not < 3 s: the "
			"sleeps did not overlap\n", took / 1e9);
		return 1;
	}
	printf("sleeps: ok\n");
	free(t);
	free(late);
	return 0;
}
