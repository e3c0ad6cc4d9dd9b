/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both threads=0 timeout=60 args="1" shim_args="30" shim_env="GREEN_CLOCK=virtual" */
/*
 * sock_virtual_timeo: the virtual clock jumps over a receive timeout
 * nobody can end, and never over live I/O.
 *  1. A client with a T s SO_RCVTIMEO against a server that accepted and
 *     never answers: recv fails with EAGAIN after at least T s on
 *     CLOCK_MONOTONIC.  Under GREEN_CLOCK=virtual (T = 30) that is at once
 *     in real time (a raw clock_gettime, which the shim does not see, must
 *     show well under T).
 *  2. The same client against a server that answers after 20 ms of real
 *     time (a child process sleeping with a raw nanosleep): it gets the
 *     answer, not a timeout: the clock waits GREEN_CLOCK_IDLE_MS (50 ms)
 *     of quiet before it jumps while a thread waits on a socket.
 *
 * usage: sock_virtual_timeo T
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long raw_mono(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(s, 8) < 0 || getsockname(s, (struct sockaddr *)sa, &len) < 0) {
		perror("listener");
		exit(1);
	}
	return s;
}

static int client(struct sockaddr_in *sa, int secs)
{
	struct timeval tv = { secs, 0 };
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("client");
		exit(1);
	}
	return c;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 1, l, c, a, st;
	struct sockaddr_in sa;
	long long m0, w0, m, w;
	char buf[16];
	ssize_t n;
	pid_t pid;

	/* 1: nobody answers */
	l = listener(&sa);
	c = client(&sa, secs);
	a = accept(l, NULL, NULL);
	m0 = mono();
	w0 = raw_mono();
	n = recv(c, buf, sizeof(buf), 0);
	m = mono() - m0;
	w = raw_mono() - w0;
	printf("silent server: recv %zd, %s\n", n,
	       n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "EAGAIN" : strerror(errno));
	printf("  at least the timeout on CLOCK_MONOTONIC: %s\n",
	       m >= secs * 1000000000LL ? "yes" : "no");
	if (secs >= 10 && w > secs * 1000000000LL / 4)
		printf("  but it took %.2f s of real time\n", w / 1e9);
	close(a);
	close(c);

	/* 2: the answer comes after 20 ms of real time */
	c = client(&sa, secs);
	pid = fork();
	if (pid == 0) {
		struct timespec d = { 0, 20 * 1000000 };

		a = accept(l, NULL, NULL);
		syscall(SYS_nanosleep, &d, NULL);
		(void)!write(a, "hello", 5);
		close(a);
		_exit(0);
	}
	n = recv(c, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	printf("server after 20 ms: recv %zd %s\n", n, n > 0 ? buf : strerror(errno));
	waitpid(pid, &st, 0);
	close(c);
	close(l);
	return 0;
}
