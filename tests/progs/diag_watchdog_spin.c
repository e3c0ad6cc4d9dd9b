/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 args="300 300" */
/*
 * One thread, named "spinner", keeps the CPU for SPIN ms (default 300) in
 * slices of SLICE ms with sched_yield() between slices, while three
 * "sleeper" threads sleep 10 ms at a time.  With SLICE = SPIN it never
 * yields: under the shim, with GREEN_WATCHDOG_MS=100, diag_watchdog.sh
 * expects exactly one watchdog report naming "spinner"; with short slices,
 * none.  With a third argument "handler" the spinner does its work in a
 * SIGUSR1 handler it raise()s: no preemption there, so with preemption
 * on the watchdog reports it, saying why it could not be preempted.
 */
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long spin_ms, slice_ms;
static volatile unsigned long sink;

/* A plain CPU loop: no call the shim could intercept. */
static __attribute__((noinline)) void burn_until(long end)
{
	while (now_ms() < end)
		for (int i = 0; i < 1000; i++)
			sink += i;
}

static void on_usr1(int sig)
{
	(void)sig;
	burn_until(now_ms() + spin_ms);
}

static int in_handler;

static void *spinner(void *arg)
{
	long end = now_ms() + spin_ms;

	(void)arg;
	if (in_handler) {
		signal(SIGUSR1, on_usr1);
		raise(SIGUSR1);
		return NULL;
	}
	while (now_ms() < end) {
		long s = now_ms() + slice_ms;

		burn_until(s < end ? s : end);
		sched_yield();
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 30; i++)
		usleep(10000);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t sp, sl[3];

	spin_ms = argc > 1 ? atol(argv[1]) : 300;
	slice_ms = argc > 2 ? atol(argv[2]) : spin_ms;
	in_handler = argc > 3 && strcmp(argv[3], "handler") == 0;
	if (spin_ms < 1 || slice_ms < 1)
		fail("bad arguments");
	for (int i = 0; i < 3; i++)
		if (pthread_create(&sl[i], NULL, sleeper, NULL) != 0)
			fail("pthread_create sleeper");
	if (pthread_create(&sp, NULL, spinner, NULL) != 0)
		fail("pthread_create spinner");
	pthread_setname_np(sp, "spinner");
	if (pthread_join(sp, NULL) != 0)
		fail("join spinner");
	for (int i = 0; i < 3; i++)
		if (pthread_join(sl[i], NULL) != 0)
			fail("join sleeper");
	printf("spinner and 3 sleepers done\n");
	return 0;
}
