/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A program that already runs threads (under the shim: a hub with its
 * epoll fd, eventfd and timerfd) then does what daemonisers do without
 * forking: closes every fd from 3 to the soft limit (with close() and
 * with syscall(SYS_close), as code written before glibc had closefrom
 * does), calls closefrom(3) and close_range(3, ~0U), and dup2()s one file onto every number from 3
 * to 200.  Afterwards the lowest free numbers are what they would be
 * without any library (the first pipe gets 3, the next fds after the
 * dup2()s get 201...), and threads still sleep, talk over pipes, time out
 * and reap children.  fds 3..200 still all name the dup2()ed file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define DUP_TOP 200
#define NTHREADS 20

static void *sleeper(void *arg)
{
	(void)arg;
	usleep(100000);
	return NULL;
}

/* Threads that sleep 100 ms each, all at once. */
static void sleep_round(const char *when)
{
	pthread_t th[NTHREADS];
	double t = now();

	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, sleeper, NULL) == 0, "create");
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	fprintf(stderr, "%s: %d sleeps of 0.1 s in %.3f s\n", when, NTHREADS, t);
	if (t > 1.5) {
		fprintf(stderr, "FAIL: %s: sleeps did not overlap\n", when);
		exit(1);
	}
}

static int pfd[2];

static void *writer(void *arg)
{
	(void)arg;
	usleep(50000);
	if (write(pfd[1], "z", 1) != 1)
		fail("write");
	return NULL;
}

/* A read that parks until another thread writes. */
static void pipe_round(void)
{
	pthread_t th;
	char c = 0;

	CHECK(pthread_create(&th, NULL, writer, NULL) == 0, "create");
	CHECK(read(pfd[0], &c, 1) == 1 && c == 'z', "read from the pipe");
	pthread_join(th, NULL);
}

static void *child_waiter(void *arg)
{
	pid_t pid = fork();
	int st;

	(void)arg;
	if (pid == 0) {
		usleep(100000);
		_exit(9);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 9)
		return (void *)1;
	return NULL;
}

static int open_count(void)
{
	int n = 0;

	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

int main(void)
{
	char path[] = "/tmp/proc_close_all.XXXXXX";
	struct rlimit rl;
	struct stat want, st;
	pthread_t th;
	void *res;
	int f, s, n;

	sleep_round("before");
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");

	/* 1. close everything, four ways */
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 1 << 20; fd++)
		syscall(SYS_close, (int)fd);
	sleep_round("after raw closes");
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 1 << 20; fd++)
		close((int)fd);
	closefrom(3);
	CHECK(close_range(3, ~0U, 0) == 0, "close_range");
	CHECK(open_count() == 0, "fds left open in 3..1023");
	CHECK(pipe(pfd) == 0, "pipe");
	printf("after closing every fd: pipe got %d and %d\n", pfd[0], pfd[1]);
	sleep_round("after close-all");
	pipe_round();
	CHECK(pthread_create(&th, NULL, child_waiter, NULL) == 0, "create");
	pthread_join(th, &res);
	CHECK(res == NULL, "waitpid in a thread after close-all");
	printf("after closing every fd: threads sleep, read a pipe, reap a child\n");

	/* 2. dup2 one file onto every number from 3 to 200 */
	close(pfd[0]);
	close(pfd[1]);
	f = mkstemp(path);
	CHECK(f >= 0, "mkstemp");
	unlink(path);
	CHECK(fstat(f, &want) == 0, "fstat");
	for (int fd = 3; fd <= DUP_TOP; fd++)
		if (fd != f)
			CHECK(dup2(f, fd) == fd, "dup2 onto a low fd");
	CHECK(pipe(pfd) == 0, "pipe");
	s = dup(0);
	printf("after dup2 onto 3..%d: pipe got %d and %d, dup got %d\n",
	       DUP_TOP, pfd[0], pfd[1], s);
	close(s);
	sleep_round("after dup2");
	pipe_round();
	CHECK(pthread_create(&th, NULL, child_waiter, NULL) == 0, "create");
	pthread_join(th, &res);
	CHECK(res == NULL, "waitpid in a thread after dup2");
	n = 0;
	for (int fd = 3; fd <= DUP_TOP; fd++)
		if (fstat(fd, &st) == 0 && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino)
			n++;
	CHECK(n == DUP_TOP - 2, "an fd in 3..200 no longer names the file");
	printf("after dup2 onto 3..%d: all still the file, threads work\n",
	       DUP_TOP);
	return 0;
}
