/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both threads=0 timeout=120 args="15" */
/*
 * execve from a process whose threads are being preempted: the new image
 * must not inherit the time slice's signal.  Each step starts two threads
 * that compute (so ticks arrive), lets them run 30 ms, and execs itself
 * with the count one lower, from the main thread, while they compute.
 * A tick pending across the exec would kill the new image (its
 * disposition is SIG_DFL there).  The last image checks, with raw system
 * calls, that SIGRTMAX-2 is SIG_DFL in the kernel, not blocked and not
 * pending.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static atomic_int stop;

static void *spin(void *arg)
{
	volatile unsigned long x = 0;

	(void)arg;
	while (!atomic_load(&stop))
		x++;
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0, sig = SIGRTMAX - 2;
	struct { void *h; unsigned long flags; void *restorer; unsigned long mask; } k;
	unsigned long mask = 0, pend = 0;
	char num[16];
	pthread_t t[2];

	if (n > 0) {
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, spin, NULL);
		for (long end = now_ms() + 30; now_ms() < end;)
			; /* compute here too: the main thread is preempted */
		snprintf(num, sizeof(num), "%d", n - 1);
		{
			char *args[] = { argv[0], num, NULL };

			execve("/proc/self/exe", args, environ);
		}
		perror("execve");
		return 1;
	}
	memset(&k, 0, sizeof(k));
	if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8) != 0 ||
	    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8) != 0 ||
	    syscall(SYS_rt_sigpending, &pend, 8) != 0) {
		perror("syscalls");
		return 1;
	}
	if (k.h != SIG_DFL || (mask >> (sig - 1) & 1) || (pend >> (sig - 1) & 1)) {
		fprintf(stderr, "FAIL: after exec SIGRTMAX-2: handler %p, blocked "
			"%lu, pending %lu\n", k.h, mask >> (sig - 1) & 1,
			pend >> (sig - 1) & 1);
		return 1;
	}
	printf("after the execs SIGRTMAX-2 is SIG_DFL, unblocked, not pending\n");
	return 0;
}
