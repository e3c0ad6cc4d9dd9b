/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A daemon that drops privileges after start: threads already run (under
 * the shim: a hub, its fds), then it chroot()s into an empty directory and
 * setgid()/setuid()s to nobody.  Afterwards threads still sleep in
 * parallel, talk over a pipe, resolve a numeric address, fork a child and
 * reap it: nothing may depend on reopening a file by path or on root.
 * Not root: says so (same line natively and under the shim).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 20

static int pfd[2];

static void *sleeper(void *arg)
{
	(void)arg;
	usleep(100000);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	usleep(50000);
	if (write(pfd[1], "q", 1) != 1)
		fail("write");
	return NULL;
}

static void round_of_work(const char *when)
{
	struct addrinfo hints, *res;
	pthread_t th[NTHREADS], w;
	double t = now();
	pid_t pid;
	char c;
	int st;

	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, sleeper, NULL) == 0, "create");
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	fprintf(stderr, "%s: sleeps took %.3f s\n", when, t);
	CHECK(t < 1.5, "sleeps did not overlap");
	CHECK(pthread_create(&w, NULL, writer, NULL) == 0, "create");
	CHECK(read(pfd[0], &c, 1) == 1 && c == 'q', "read the pipe");
	pthread_join(w, NULL);
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	CHECK(getaddrinfo("127.0.0.1", "80", &hints, &res) == 0, "getaddrinfo");
	freeaddrinfo(res);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		usleep(50000);
		_exit(4);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 4, "waitpid");
}

int main(void)
{
	char dir[] = "/tmp/proc_drop_privs.XXXXXX";

	CHECK(pipe(pfd) == 0, "pipe");
	round_of_work("before");
	if (geteuid() != 0) {
		printf("not root: privileges not dropped\n");
		return 0;
	}
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	/* into it, remove it (nothing left behind), then make it the root */
	CHECK(chdir(dir) == 0 && rmdir(dir) == 0, "chdir/rmdir");
	CHECK(chroot(".") == 0 && chdir("/") == 0, "chroot");
	CHECK(setgid(65534) == 0 && setuid(65534) == 0, "setgid/setuid");
	CHECK(geteuid() == 65534, "still root");
	round_of_work("after");
	printf("after chroot and setuid: threads, pipes, lookups, children work\n");
	return 0;
}
