/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A signal whose action is the default ends the process however it is
 * sent, as natively: raise(), pthread_kill(pthread_self()), kill(getpid())
 * and a fault, from the main thread and from another, for SIGSEGV, SIGBUS,
 * SIGABRT, SIGTERM, SIGUSR1 and every real-time signal (the shim keeps
 * handlers of its own on SIGSEGV, SIGBUS and some real-time signals: a
 * raise() of one of those ran the shim's handler, which returned, and the
 * program went on; CPython's faulthandler._sigsegv() in a forked worker
 * returned instead of crashing, so concurrent.futures never saw its pool
 * break).  Each case runs in a forked child with a second thread alive; the
 * parent checks that the child died by that signal.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

enum how { RAISE, PTHREAD_KILL, KILL, FAULT };
static const char *const how_name[] = {"raise", "pthread_kill", "kill",
				       "fault"};

static void *idle(void *arg)
{
	msleep(2000);
	return arg;
}

static void send(int sig, enum how how)
{
	switch (how) {
	case RAISE:
		raise(sig);
		break;
	case PTHREAD_KILL:
		pthread_kill(pthread_self(), sig);
		break;
	case KILL:
		kill(getpid(), sig);
		msleep(200); /* process-directed: may land a moment later */
		break;
	case FAULT:
		*(volatile int *)(long)sig = 0;
		break;
	}
}

static int sig_of;
static enum how how_of;

static void *sender(void *arg)
{
	send(sig_of, how_of);
	return arg;
}

/* What killed a child that sent sig the given way from the main thread or
 * from a second thread. */
static int run(int sig, enum how how, int from_thread)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	check(pid >= 0, "fork");
	if (pid == 0) {
		pthread_t t, s;
		struct rlimit no_core = {0, 0};

		setrlimit(RLIMIT_CORE, &no_core);
		check(pthread_create(&t, NULL, idle, NULL) == 0, "create");
		msleep(5);
		sig_of = sig;
		how_of = how;
		if (from_thread) {
			check(pthread_create(&s, NULL, sender, NULL) == 0,
			      "create sender");
			pthread_join(s, NULL);
		} else {
			send(sig, how);
		}
		_exit(99); /* survived */
	}
	check(waitpid(pid, &st, 0) == pid, "waitpid");
	if (WIFSIGNALED(st))
		return WTERMSIG(st);
	return -WEXITSTATUS(st);
}

static volatile int parent_done;

static void *parent_idle(void *arg)
{
	while (!parent_done)
		msleep(10);
	return arg;
}

int main(void)
{
	int sigs[64], n = 0, bad = 0;
	pthread_t pt;

	/* the parent runs a thread too: children fork from a green process */
	check(pthread_create(&pt, NULL, parent_idle, NULL) == 0, "create");

	sigs[n++] = SIGSEGV;
	sigs[n++] = SIGBUS;
	sigs[n++] = SIGABRT;
	sigs[n++] = SIGTERM;
	sigs[n++] = SIGUSR1;
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigs[n++] = s;
	for (int i = 0; i < n; i++)
		for (int how = RAISE; how <= KILL; how++)
			for (int th = 0; th < 2; th++) {
				int got = run(sigs[i], (enum how)how, th);

				if (got != sigs[i]) {
					fprintf(stderr,
						"FAIL: %s(%d) from the %s "
						"thread: %s %d\n",
						how_name[how], sigs[i],
						th ? "second" : "main",
						got < 0 ? "exit" : "signal",
						got < 0 ? -got : got);
					bad++;
				}
			}
	for (int th = 0; th < 2; th++) {
		int got = run(SIGSEGV, FAULT, th);

		if (got != SIGSEGV) {
			fprintf(stderr, "FAIL: a fault in the %s thread: %s %d\n",
				th ? "second" : "main",
				got < 0 ? "exit" : "signal", got < 0 ? -got : got);
			bad++;
		}
	}
	parent_done = 1;
	check(pthread_join(pt, NULL) == 0, "join");
	if (bad)
		return 1;
	printf("%d signals x raise, pthread_kill, kill x 2 threads, and a "
	       "fault: each child died by its signal\n", n);
	return 0;
}
