/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Overflows a stack on purpose, with a recursion that cannot be turned
 * into a loop.  Dies of SIGSEGV, natively and under the shim; under the
 * shim a green thread's overflow is announced first (diag_overflow.sh).
 *   diag_overflow thread   in a thread named "recurser"
 *   diag_overflow main     in the main thread (not a green thread)
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static __attribute__((noinline)) unsigned long deep(unsigned long n)
{
	volatile char frame[1024];

	frame[0] = (char)n;
	frame[sizeof(frame) - 1] = (char)n;
	if (n == ~0UL)	/* never: keeps the compiler from calling it infinite */
		return 0;
	return deep(n + 1) + frame[0] + frame[sizeof(frame) - 1];
}

static void *idler(void *arg)
{
	(void)arg;
	sleep(10);
	return NULL;
}

static void *recurser(void *arg)
{
	(void)arg;
	return (void *)deep(0);
}

int main(int argc, char **argv)
{
	pthread_t t;

	printf("start\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "main") == 0) {
		/* a green thread exists, so the shim's handler is in */
		pthread_create(&t, NULL, idler, NULL);
		deep(0);
	}
	pthread_create(&t, NULL, recurser, NULL);
	pthread_setname_np(t, "recurser");
	pthread_join(t, NULL);
	printf("not reached\n");
	return 1;
}
