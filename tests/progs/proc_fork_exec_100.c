/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * 100 threads each fork+exec `/bin/sh -c 'sleep 0.3; exit K'` and waitpid()
 * their own child. The children must overlap (all done well under 100 * 0.3 s),
 * every exit code must come back to the thread that asked for it, and the
 * program's own SIGCHLD handler (SA_RESTART) must still be called.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 100

static volatile sig_atomic_t sigchld_calls;
static int status_ok[NTHREADS];

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld_calls++;
}

static void *worker(void *arg)
{
	int idx = (int)(long)arg;
	int want = idx % 250 + 1;
	char cmd[64];
	pid_t pid, r;
	int st;

	snprintf(cmd, sizeof cmd, "sleep 0.3; exit %d", want);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return NULL;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* SA_RESTART: Linux restarts wait4, so EINTR here is a failure. */
	r = waitpid(pid, &st, 0);
	if (r != pid) {
		fprintf(stderr, "thread %d: waitpid(%d) = %d: %s\n", idx,
			(int)pid, (int)r, strerror(errno));
		return NULL;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
		fprintf(stderr, "thread %d: status 0x%x, want exit %d\n", idx,
			st, want);
		return NULL;
	}
	status_ok[idx] = 1;
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pthread_t th[NTHREADS];
	double t0, dt;
	int i, ok = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		fail("sigaction(SIGCHLD)");

	t0 = now();
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0)
			fail("pthread_create");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	dt = now() - t0;

	for (i = 0; i < NTHREADS; i++)
		ok += status_ok[i];
	fprintf(stderr, "elapsed %.3f s, SIGCHLD handler calls %d\n", dt,
		(int)sigchld_calls);
	if (ok != NTHREADS) {
		fprintf(stderr, "FAIL: %d of %d exit codes right\n", ok,
			NTHREADS);
		return 1;
	}
	if (dt >= 2.5) {
		fprintf(stderr, "FAIL: %d children of 0.3 s took %.3f s "
			"(no overlap?)\n", NTHREADS, dt);
		return 1;
	}
	if (sigchld_calls <= 0)
		fail("own SIGCHLD handler never called");
	/* No child may be left: every one was reaped by its own thread. */
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		fail("children left after every thread reaped its own");
	printf("fork+exec: %d children, exit codes ok, own SIGCHLD handler ran\n",
	       NTHREADS);
	return 0;
}
