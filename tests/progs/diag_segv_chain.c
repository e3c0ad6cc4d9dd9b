/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=30 */
/*
 * A program's own SIGSEGV handler keeps working beside the shim's stack
 * overflow handler: a fault that is not a stack overflow reaches it, with
 * the right si_addr, whether it was installed before the first thread or
 * after; and sigaction() reads back the program's own handler.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "check.h"

static sigjmp_buf jb;
static volatile char *page;
static void *volatile fault_addr;
static volatile int hits1, hits2;

static void h1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGSEGV) {
		hits1++;
		fault_addr = si->si_addr;
		siglongjmp(jb, 1);
	}
}

static void h2(int sig)
{
	if (sig == SIGSEGV) {
		hits2++;
		siglongjmp(jb, 2);
	}
}

static void *toucher(void *arg)
{
	long want = (long)arg;

	if (sigsetjmp(jb, 1) == 0) {
		page[16] = 1;	/* PROT_NONE: faults */
		fail("write to a PROT_NONE page did not fault");
	}
	if ((want == 1 && hits1 != 1) || (want == 2 && hits2 != 1))
		fail("the program's handler did not run once");
	return NULL;
}

int main(void)
{
	struct sigaction sa, old;
	pthread_t t;

	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		fail("mmap");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h1;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		fail("sigaction h1");

	/* Installed before the first thread. */
	if (pthread_create(&t, NULL, toucher, (void *)1) != 0 ||
	    pthread_join(t, NULL) != 0)
		fail("thread 1");
	if (fault_addr != (void *)(page + 16))
		fail("si_addr is not the faulting address");
	printf("handler installed before threads: caught, si_addr right\n");
	if (sigaction(SIGSEGV, NULL, &old) != 0 ||
	    !(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != h1)
		fail("sigaction does not read back the program's handler");
	printf("sigaction reads back the program's handler\n");

	/* Installed after threads exist. */
	sa.sa_handler = h2;
	sa.sa_flags = 0;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		fail("sigaction h2");
	if (pthread_create(&t, NULL, toucher, (void *)2) != 0 ||
	    pthread_join(t, NULL) != 0)
		fail("thread 2");
	printf("handler installed after threads: caught\n");
	if (hits1 != 1 || hits2 != 1)
		fail("handler counts");
	return 0;
}
