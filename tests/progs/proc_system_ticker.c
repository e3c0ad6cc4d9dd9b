/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * system() and popen()/pclose() park only the calling thread: a ticker thread
 * ticking every 10 ms keeps ticking while "sleep 0.5" runs in the child, and
 * the exit statuses come back right.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"


int main(void)
{
	pthread_t th;
	char line[128];
	FILE *p;
	int st, t0, t1, t2;
	double start, dt;

	if (pthread_create(&th, NULL, ticker, NULL) != 0)
		fail("pthread_create");
	usleep(50000);		/* let the ticker get going */

	/* system() */
	t0 = atomic_load(&ticks);
	start = now();
	st = system("sleep 0.5; exit 3");
	dt = now() - start;
	t1 = atomic_load(&ticks);
	fprintf(stderr, "system: %.3f s, %d ticks\n", dt, t1 - t0);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 3) {
		fprintf(stderr, "FAIL: system status 0x%x, want exit 3\n", st);
		return 1;
	}
	if (dt < 0.45)
		fail("system() returned before its child could have finished");
	if (t1 - t0 < 25) {
		fprintf(stderr, "FAIL: only %d ticks during system()\n",
			t1 - t0);
		return 1;
	}
	printf("system: exit 3, ticker kept ticking\n");

	/* popen() + fgets + pclose() */
	t0 = atomic_load(&ticks);
	start = now();
	p = popen("sleep 0.5; echo hello", "r");
	if (!p)
		fail("popen");
	if (!fgets(line, sizeof line, p))
		fail("fgets on popen stream returned nothing");
	t1 = atomic_load(&ticks);
	if (fgets(line + 100, 20, p))
		fail("popen stream has more than one line");
	st = pclose(p);
	dt = now() - start;
	t2 = atomic_load(&ticks);
	fprintf(stderr, "popen: %.3f s, %d ticks during fgets, %d in all\n",
		dt, t1 - t0, t2 - t0);
	if (strcmp(line, "hello\n") != 0)
		fail("popen read something other than \"hello\\n\"");
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAIL: pclose status 0x%x, want 0\n", st);
		return 1;
	}
	if (t1 - t0 < 25) {
		fprintf(stderr, "FAIL: only %d ticks while fgets waited\n",
			t1 - t0);
		return 1;
	}
	printf("popen: read \"hello\", pclose 0, ticker kept ticking\n");

	/* The ticker is still alive afterwards. */
	t0 = atomic_load(&ticks);
	usleep(100000);
	if (atomic_load(&ticks) <= t0)
		fail("ticker stopped after popen");
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	return 0;
}
