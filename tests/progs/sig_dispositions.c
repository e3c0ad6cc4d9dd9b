/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * The program sees its own signal dispositions, exactly: sigaction(sig,
 * NULL, &old) returns the handler, flags and mask it installed (whatever
 * the library puts in the kernel); signal() returns the previous handler
 * and installs BSD semantics (SA_RESTART); siginterrupt() clears it;
 * SA_RESETHAND leaves SIG_DFL behind after one delivery; SIG_IGN and
 * SIG_DFL read back as set.  Then who runs a handler: a signal sent to the
 * process while one thread alone accepts it runs in that thread and ends
 * its blocking read with EINTR; a thread that blocks a signal keeps it
 * pending (sigpending) through raise() until it unblocks it; a signal for
 * the main thread parked in pthread_join runs its handler at once (the
 * handler tells the workers to stop, which ends the join).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t hits;
static void h1(int sig) { (void)sig; hits++; }
static void h2(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; hits++; }

/* Print the program's view of sig: deterministic, compared with native. */
static void show(const char *what, int sig)
{
	struct sigaction a;
	const char *h;

	memset(&a, 0, sizeof a);
	CHECK(sigaction(sig, NULL, &a) == 0, "sigaction query");
	if (a.sa_handler == SIG_DFL)
		h = "SIG_DFL";
	else if (a.sa_handler == SIG_IGN)
		h = "SIG_IGN";
	else if (a.sa_handler == h1)
		h = "h1";
	else if ((void *)a.sa_sigaction == (void *)h2)
		h = "h2";
	else
		h = "SOMETHING ELSE";
	printf("%s: %s flags %#x mask %#lx restorer %s\n", what, h,
	       (unsigned)a.sa_flags, a.sa_mask.__val[0],
	       a.sa_restorer ? "set" : "none");
}

static void test_views(void)
{
	struct sigaction a, old;

	show("SIGUSR1 at start", SIGUSR1);
	memset(&a, 0, sizeof a);
	a.sa_handler = h1;
	a.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, SIGTERM);
	sigaddset(&a.sa_mask, SIGKILL);	/* the kernel drops it */
	CHECK(sigaction(SIGUSR1, &a, NULL) == 0, "sigaction h1");
	show("SIGUSR1 h1 restart|nodefer mask TERM", SIGUSR1);

	memset(&a, 0, sizeof a);
	a.sa_sigaction = h2;
	a.sa_flags = SA_SIGINFO;
	sigemptyset(&a.sa_mask);
	memset(&old, 0, sizeof old);
	CHECK(sigaction(SIGUSR1, &a, &old) == 0, "sigaction h2");
	CHECK(old.sa_handler == h1, "old handler is not h1");
	show("SIGUSR1 h2 siginfo", SIGUSR1);

	CHECK(signal(SIGUSR2, h1) == SIG_DFL, "signal() did not return SIG_DFL");
	show("SIGUSR2 signal(h1)", SIGUSR2);
	CHECK(signal(SIGUSR2, SIG_IGN) == h1, "signal() did not return h1");
	show("SIGUSR2 signal(SIG_IGN)", SIGUSR2);
	CHECK(signal(SIGUSR2, h1) == SIG_IGN, "signal() did not return SIG_IGN");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	CHECK(siginterrupt(SIGUSR2, 1) == 0, "siginterrupt");
#pragma GCC diagnostic pop
	show("SIGUSR2 after siginterrupt(1)", SIGUSR2);
	CHECK(signal(SIGUSR2, SIG_DFL) == h1, "signal() back to SIG_DFL");
	show("SIGUSR2 SIG_DFL", SIGUSR2);

	memset(&a, 0, sizeof a);
	a.sa_handler = h1;
	a.sa_flags = SA_RESETHAND;
	sigemptyset(&a.sa_mask);
	CHECK(sigaction(SIGHUP, &a, NULL) == 0, "sigaction SIGHUP");
	show("SIGHUP h1 resethand", SIGHUP);
	hits = 0;
	raise(SIGHUP);
	CHECK(hits == 1, "SA_RESETHAND handler did not run once");
	show("SIGHUP after one delivery", SIGHUP);

	errno = 0;
	CHECK(sigaction(SIGKILL, &a, NULL) == -1 && errno == EINVAL,
	      "sigaction(SIGKILL) not EINVAL");
	errno = 0;
	CHECK(sigaction(0, &a, NULL) == -1 && errno == EINVAL,
	      "sigaction(0) not EINVAL");
	printf("dispositions read back as set\n");
}

/* ---- which thread runs a process-directed handler ---- */

static pthread_t reader_th;
static atomic_int in_reader, ready;
static int rfd[2];
static int read_result, read_errno;

static void on_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), reader_th))
		atomic_fetch_add(&in_reader, 1);
}

static void *reader(void *arg)
{
	sigset_t set;
	char c;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	atomic_store(&ready, 1);
	errno = 0;
	read_result = (int)read(rfd[0], &c, 1);
	read_errno = errno;
	return NULL;
}

static void test_target(void)
{
	struct sigaction a;
	sigset_t set;

	memset(&a, 0, sizeof a);
	a.sa_handler = on_usr1;
	sigemptyset(&a.sa_mask);
	CHECK(sigaction(SIGUSR1, &a, NULL) == 0, "sigaction");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "block in main");
	CHECK(pipe(rfd) == 0, "pipe");
	CHECK(pthread_create(&reader_th, NULL, reader, NULL) == 0, "create");
	for (int i = 0; i < 5000 && !atomic_load(&ready); i++)
		usleep(1000);
	usleep(100000);		/* the reader is in read() now */
	CHECK(kill(getpid(), SIGUSR1) == 0, "kill");
	pthread_join(reader_th, NULL);
	CHECK(read_result == -1 && read_errno == EINTR,
	      "read in the accepting thread did not end with EINTR");
	CHECK(atomic_load(&in_reader) == 1,
	      "handler did not run once in the only thread accepting it");
	CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0, "unblock");
	printf("kill() to the process: handler in the one accepting thread, "
	       "its read EINTR\n");
}

/* ---- raise() in a thread that blocks the signal ---- */

static void *raiser(void *arg)
{
	sigset_t set, pend;
	int before;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	before = hits;
	raise(SIGUSR2);
	usleep(50000);
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR2) || hits != before)
		return (void *)1;
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (hits != before + 1)
		return (void *)2;
	sigpending(&pend);
	if (sigismember(&pend, SIGUSR2))
		return (void *)3;
	return NULL;
}

static void test_raise_blocked(void)
{
	pthread_t th;
	void *res;

	CHECK(signal(SIGUSR2, h1) != SIG_ERR, "signal");
	CHECK(pthread_create(&th, NULL, raiser, NULL) == 0, "create");
	pthread_join(th, &res);
	CHECK(res != (void *)1, "raise() while blocked: not pending, or run");
	CHECK(res != (void *)2, "unblocking did not run the pending handler");
	CHECK(res != (void *)3, "still pending after it ran");
	printf("raise() while blocked: pending until unblocked\n");
}

/* ---- a handler for the main thread parked in pthread_join ---- */

static atomic_int stop_flag;

static void on_term(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static void *worker(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 3000 && !atomic_load(&stop_flag); i++)
		usleep(10000);	/* bounded: 30 s */
	return NULL;
}

static void *killer(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	usleep(200000);
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_join_handler(void)
{
	struct sigaction a;
	pthread_t w[4], k;
	struct timespec t0, t1;
	double dt;

	memset(&a, 0, sizeof a);
	a.sa_handler = on_term;
	sigemptyset(&a.sa_mask);
	CHECK(sigaction(SIGTERM, &a, NULL) == 0, "sigaction SIGTERM");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&w[i], NULL, worker, NULL) == 0, "create");
	CHECK(pthread_create(&k, NULL, killer, NULL) == 0, "create");
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	pthread_join(k, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "join ended %.3f s after start\n", dt);
	CHECK(atomic_load(&stop_flag) == 1, "SIGTERM handler did not run");
	CHECK(dt < 5, "the handler for main in pthread_join came late");
	printf("SIGTERM for the main thread in pthread_join: handled at once\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_views();
	test_target();
	test_raise_blocked();
	test_join_handler();
	return 0;
}
