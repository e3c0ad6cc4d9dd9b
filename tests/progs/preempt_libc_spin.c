/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=120 args="8000" */
/*
 * Eight threads spin in libc without a blocking call for MS ms of wall
 * time in all (default 8000, at most 10 s): malloc/free of random sizes
 * with the blocks filled and checked, snprintf of numbers read back with
 * strtol, qsort of a small array checked for order.  Under the shim a
 * time slice ends in the middle of these calls all the time: a thread is
 * preempted only when its PC is outside libc (tests/scripts/preempt.sh
 * reads GREEN_STATS for preemptions and "libc" deferrals), so nothing may
 * deadlock in malloc's arena lock or the stdio locale lock, and nothing
 * may be corrupted.  Prints the same natively and under the shim; every
 * thread reports how many rounds it did to stderr only.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTHR 8

static long end_ms;
static atomic_int failed;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void bad(int id, const char *what)
{
	fprintf(stderr, "FAIL: thread %d: %s\n", id, what);
	atomic_store(&failed, 1);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	unsigned seed = 12345u + (unsigned)id;
	long rounds = 0;
	char *keep[16] = { 0 };
	size_t keep_len[16] = { 0 };

	while (now_ms() < end_ms && !atomic_load(&failed)) {
		for (int k = 0; k < 64; k++) {
			int slot = rand_r(&seed) % 16;
			size_t len = 1 + rand_r(&seed) % 4000;
			char buf[64];
			int arr[32];
			long v = rand_r(&seed) - RAND_MAX / 2;

			/* malloc/free: the kept block must hold its pattern */
			if (keep[slot]) {
				for (size_t i = 0; i < keep_len[slot]; i++)
					if (keep[slot][i] != (char)(slot + id + i)) {
						bad(id, "a heap block changed under us");
						return NULL;
					}
				free(keep[slot]);
			}
			keep[slot] = malloc(len);
			if (keep[slot] == NULL) {
				bad(id, "malloc failed");
				return NULL;
			}
			keep_len[slot] = len;
			for (size_t i = 0; i < len; i++)
				keep[slot][i] = (char)(slot + id + i);
			/* snprintf and back */
			snprintf(buf, sizeof(buf), "%ld:%d:%s", v, id, "x");
			if (strtol(buf, NULL, 10) != v) {
				bad(id, "snprintf/strtol round trip");
				return NULL;
			}
			/* qsort */
			for (int i = 0; i < 32; i++)
				arr[i] = rand_r(&seed) % 1000;
			qsort(arr, 32, sizeof(int), cmp);
			for (int i = 1; i < 32; i++)
				if (arr[i - 1] > arr[i]) {
					bad(id, "qsort left the array unsorted");
					return NULL;
				}
		}
		rounds++;
	}
	for (int i = 0; i < 16; i++)
		free(keep[i]);
	fprintf(stderr, "thread %d: %ld rounds\n", id, rounds);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NTHR];
	long ms = argc > 1 ? atol(argv[1]) : 8000;

	if (ms < 1 || ms > 10000) {
		fprintf(stderr, "FAIL: bad argument\n");
		return 1;
	}
	end_ms = now_ms() + ms;
	for (int i = 0; i < NTHR; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "FAIL: pthread_create\n");
			return 1;
		}
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&failed))
		return 1;
	printf("%d threads: heap, snprintf and qsort results all correct\n", NTHR);
	return 0;
}
