/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A signal sent before an event is handled before the program sees the
 * event: a child sends SIGUSR1 to its parent, then writes to a pipe and
 * exits; when the parent's read of that pipe returns EOF the handler has
 * run (natively the kill() interrupts the parent's read at once, the
 * handler runs, and the read restarts).  300 rounds, with a second thread
 * alive so that the shim parks the reader.  Under the shim a signal that
 * reached the hub while it ran its loop's callbacks waited for the next
 * round of the loop, and the reader ran on first: CPython's
 * test_subprocess restores SIG_DFL right after communicate() and was
 * killed by the late SIGUSR1.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 300

static atomic_int got, stop_idle;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&got, 1);
}

static void *idle(void *arg)
{
	while (!atomic_load(&stop_idle))
		msleep(5);
	return arg;
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;
	char what[80];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	check(pthread_create(&t, NULL, idle, NULL) == 0, "create");
	for (int i = 0; i < ROUNDS; i++) {
		int p[2], st;
		char c;
		pid_t pid;

		check(pipe(p) == 0, "pipe");
		pid = fork();
		check(pid >= 0, "fork");
		if (pid == 0) {
			close(p[0]);
			kill(getppid(), SIGUSR1);
			if (write(p[1], "x", 1) != 1)
				_exit(2);
			_exit(0);
		}
		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		snprintf(what, sizeof(what),
			 "round %d: at EOF the handler ran for every kill", i);
		expect_int(atomic_load(&got), i + 1, what);
		close(p[0]);
		check(waitpid(pid, &st, 0) == pid && exited_with(st, 0),
		      "child");
	}
	atomic_store(&stop_idle, 1);
	check(pthread_join(t, NULL) == 0, "join");
	printf("%d rounds: each SIGUSR1 handled before the EOF that followed "
	       "it\n", ROUNDS);
	return 0;
}
