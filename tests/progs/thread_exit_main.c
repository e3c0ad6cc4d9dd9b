/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=30 */
/*
 * main calls pthread_exit while three threads are still sleeping. The
 * process must live on until the last of them ends, print all their lines,
 * run its atexit handler (the last thread's exit is exit(0)) and exit 0.
 * stdout is a file here, fully buffered: the lines only appear if exit
 * flushes stdio.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void at_exit(void)
{
	printf("atexit: ran\n");
}

static void *late(void *arg)
{
	long i = (long)arg;
	struct timespec ts = { 0, (i + 1) * 100000000L };	/* 100, 200, 300 ms */

	while (nanosleep(&ts, &ts))
		;
	printf("thread %ld: done after %ld ms\n", i, (i + 1) * 100);
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (atexit(at_exit))
		return 1;
	for (long i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, late, (void *)i)) {
			fprintf(stderr, "FAIL: pthread_create\n");
			return 1;
		}
	printf("main: pthread_exit\n");
	pthread_exit(NULL);
	fprintf(stderr, "FAIL: pthread_exit returned\n");
	return 1;
}
