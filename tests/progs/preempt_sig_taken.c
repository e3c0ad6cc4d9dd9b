/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * The signal the shim borrows for time slices (SIGRTMAX-2) stays the
 * program's: with two threads computing (so that preemption is on),
 * sigaction() reports SIG_DFL for it, pthread_sigmask() can block it and
 * sigpending() shows it pending, and once the program installs its own
 * handler, raise() runs that handler and the threads are still preempted
 * (preemption moved to another signal: tests/scripts/preempt.sh reads
 * GREEN_STATS for it).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop, handled, turns[2];

static void fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (sig == SIGRTMAX - 2)
		atomic_fetch_add(&handled, 1);
}

/* Computes without blocking; counts its turns on the CPU. */
static void *spin(void *arg)
{
	int id = (int)(long)arg;
	volatile unsigned long x = 0;

	while (!atomic_load(&stop)) {
		for (int i = 0; i < 100000; i++)
			x += i;
		atomic_fetch_add(&turns[id], 1);
	}
	return NULL;
}

/* Both spinners must make progress while main sleeps in between. */
static void both_run(const char *when)
{
	int a = atomic_load(&turns[0]), b = atomic_load(&turns[1]);

	for (int i = 0; i < 400; i++) {
		usleep(5000);
		if (atomic_load(&turns[0]) > a + 5 && atomic_load(&turns[1]) > b + 5)
			return;
	}
	fprintf(stderr, "FAIL: %s: a spinner starved (%d -> %d, %d -> %d)\n",
		when, a, atomic_load(&turns[0]), b, atomic_load(&turns[1]));
	exit(1);
}

int main(void)
{
	int sig = SIGRTMAX - 2;
	pthread_t t[2];
	struct sigaction sa, old;
	sigset_t set, cur;

	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, spin, (void *)(long)i) != 0)
			fail("pthread_create");
	both_run("before");
	if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
	    (old.sa_flags & SA_SIGINFO))
		fail("sigaction does not report SIG_DFL for SIGRTMAX-2");
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	if (!sigismember(&cur, sig))
		fail("SIGRTMAX-2 not in the mask after blocking it");
	raise(sig);
	sigpending(&cur);
	if (!sigismember(&cur, sig))
		fail("a raised, blocked SIGRTMAX-2 is not pending");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old) != 0 || old.sa_handler != SIG_DFL)
		fail("sigaction(SIGRTMAX-2, handler)");
	pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* the pending one runs */
	if (atomic_load(&handled) != 1)
		fail("the pending SIGRTMAX-2 did not run the program's handler");
	raise(sig);
	if (atomic_load(&handled) != 2)
		fail("raise(SIGRTMAX-2) did not run the program's handler");
	if (sigaction(sig, NULL, &old) != 0 || old.sa_sigaction != on_sig)
		fail("sigaction does not report the program's handler");
	both_run("after");
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("SIGRTMAX-2 behaves as natively; handler ran %d times\n",
	       atomic_load(&handled));
	return 0;
}
