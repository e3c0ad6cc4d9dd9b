/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * SO_RCVTIMEO and SO_SNDTIMEO: a call on a socket with a timeout returns -1
 * EAGAIN after at least the timeout (never before; 2 s is the generous upper
 * bound), returns data as soon as it comes, and a zero timeval means "wait
 * forever". Covered: recv and read on a socketpair, recv on TCP, accept on a
 * listener, send and write on a full socket, MSG_DONTWAIT beside a timeout,
 * and 100 threads timing out at once (they must overlap).
 * Connect timeouts are not tested: a full backlog on loopback is not a
 * reliable way to make connect() wait.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NCONC 100

static void set_timeo(int fd, int opt, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 }, back;
	socklen_t len = sizeof back;

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) < 0)
		fail("setsockopt timeout");
	if (getsockopt(fd, SOL_SOCKET, opt, &back, &len) < 0)
		fail("getsockopt timeout");
	/* The kernel keeps it in jiffies: it may come back rounded up a tick. */
	if (back.tv_sec * 1000000L + back.tv_usec < ms * 1000 ||
	    back.tv_sec * 1000000L + back.tv_usec > ms * 1000 + 20000)
		fail("getsockopt does not give back the timeout set");
}

/* A timed-out call: -1 EAGAIN, after at least ms and well under 2 s. */
static void expect_timeout(ssize_t r, int err, double t0, long ms, const char *what)
{
	double el = now() - t0;

	if (r != -1 || err != EAGAIN) {
		fprintf(stderr, "FAIL: %s: returned %zd errno %d, want -1 EAGAIN\n",
			what, r, err);
		exit(1);
	}
	if (el < ms / 1000.0 || el > 2.0) {
		fprintf(stderr, "FAIL: %s: timed out after %.4f s, want %ld ms\n",
			what, el, ms);
		exit(1);
	}
	fprintf(stderr, "%s: %.4f s\n", what, el);
}

struct delayed { int fd; long ms; const char *data; };

static void *write_later(void *arg)
{
	struct delayed *d = arg;

	usleep(d->ms * 1000);
	if (write(d->fd, d->data, strlen(d->data)) != (ssize_t)strlen(d->data))
		fail("delayed write");
	return NULL;
}

static void check_socketpair_recv(void)
{
	struct delayed d;
	pthread_t t;
	char buf[16];
	int s[2];
	ssize_t r;
	double t0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	set_timeo(s[0], SO_RCVTIMEO, 300);

	t0 = now();
	r = recv(s[0], buf, sizeof buf, 0);
	expect_timeout(r, errno, t0, 300, "recv with SO_RCVTIMEO");
	t0 = now();
	r = read(s[0], buf, sizeof buf);
	expect_timeout(r, errno, t0, 300, "read with SO_RCVTIMEO");

	t0 = now();
	r = recv(s[0], buf, sizeof buf, MSG_DONTWAIT);
	if (r != -1 || errno != EAGAIN || now() - t0 > 0.1)
		fail("MSG_DONTWAIT on a socket with SO_RCVTIMEO did not fail at once");

	/* Data before the timeout is returned when it comes. */
	d = (struct delayed){ s[1], 100, "early" };
	pthread_create(&t, NULL, write_later, &d);
	t0 = now();
	r = recv(s[0], buf, sizeof buf, 0);
	pthread_join(t, NULL);
	if (r != 5 || memcmp(buf, "early", 5) != 0)
		fail("recv did not return data that came before the timeout");
	if (now() - t0 < 0.09)
		fail("recv returned before the data was written");

	/* A zero timeval means no timeout at all. */
	set_timeo(s[0], SO_RCVTIMEO, 0);
	d = (struct delayed){ s[1], 500, "late" };
	pthread_create(&t, NULL, write_later, &d);
	t0 = now();
	r = recv(s[0], buf, sizeof buf, 0);
	pthread_join(t, NULL);
	if (r != 4 || memcmp(buf, "late", 4) != 0 || now() - t0 < 0.49)
		fail("recv with a zero SO_RCVTIMEO did not wait for the data");
	close(s[0]);
	close(s[1]);
	printf("socketpair: SO_RCVTIMEO times out with EAGAIN, data in time wins, 0 waits\n");
}

static void check_tcp(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int lfd, c, s;
	char buf[16];
	ssize_t r;
	double t0;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(lfd, 8) < 0 || getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		fail("listener");
	set_timeo(lfd, SO_RCVTIMEO, 300);
	t0 = now();
	r = accept(lfd, NULL, NULL);
	expect_timeout(r, errno, t0, 300, "accept with SO_RCVTIMEO");

	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
		fail("connect");
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		fail("accept of a pending connection with SO_RCVTIMEO");
	set_timeo(s, SO_RCVTIMEO, 250);
	t0 = now();
	r = recv(s, buf, sizeof buf, 0);
	expect_timeout(r, errno, t0, 250, "TCP recv with SO_RCVTIMEO");
	if (write(c, "tcp", 3) != 3 || recv(s, buf, sizeof buf, 0) != 3)
		fail("TCP data after a timeout");
	close(c);
	close(s);
	close(lfd);
	printf("TCP: accept and recv honour SO_RCVTIMEO\n");
}

static void check_sndtimeo(void)
{
	char chunk[4096];
	int s[2], sz = 4096, i;
	ssize_t r;
	double t0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	memset(chunk, 'f', sizeof chunk);
	for (i = 0; i < 100000 && send(s[0], chunk, sizeof chunk, MSG_DONTWAIT) > 0; i++)
		;
	for (i = 0; i < 100000 && send(s[0], chunk, 1, MSG_DONTWAIT) > 0; i++)
		;
	if (send(s[0], chunk, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		fail("could not fill the socket");
	set_timeo(s[0], SO_SNDTIMEO, 300);
	t0 = now();
	r = send(s[0], chunk, sizeof chunk, 0);
	expect_timeout(r, errno, t0, 300, "send on a full socket with SO_SNDTIMEO");
	t0 = now();
	r = write(s[0], chunk, 1);
	expect_timeout(r, errno, t0, 300, "write on a full socket with SO_SNDTIMEO");
	close(s[0]);
	close(s[1]);
	printf("full socket: SO_SNDTIMEO times out with EAGAIN\n");
}

struct conc { int fd; long ms; ssize_t r; int err; double el; };

static void *recv_timeout(void *arg)
{
	struct conc *c = arg;
	char buf[4];
	double t0 = now();

	c->r = recv(c->fd, buf, sizeof buf, 0);
	c->err = errno;
	c->el = now() - t0;
	return NULL;
}

static void check_concurrent(void)
{
	static struct conc c[NCONC];
	static int s[NCONC][2];
	pthread_t t[NCONC];
	double t0, total;
	int i;

	for (i = 0; i < NCONC; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s[i]) < 0)
			fail("socketpair");
		c[i].fd = s[i][0];
		c[i].ms = 150 + (i % 4) * 50;	/* 150, 200, 250, 300 ms */
		set_timeo(s[i][0], SO_RCVTIMEO, c[i].ms);
	}
	t0 = now();
	for (i = 0; i < NCONC; i++)
		if (pthread_create(&t[i], NULL, recv_timeout, &c[i]) != 0)
			fail("pthread_create");
	for (i = 0; i < NCONC; i++)
		pthread_join(t[i], NULL);
	total = now() - t0;
	for (i = 0; i < NCONC; i++) {
		if (c[i].r != -1 || c[i].err != EAGAIN)
			fail("a concurrent recv did not time out with EAGAIN");
		if (c[i].el < c[i].ms / 1000.0)
			fail("a concurrent recv timed out early");
		close(s[i][0]);
		close(s[i][1]);
	}
	if (total > 2.0) {
		fprintf(stderr, "FAIL: %d recv timeouts of <= 300 ms took %.3f s: "
			"they did not overlap\n", NCONC, total);
		exit(1);
	}
	fprintf(stderr, "%d concurrent timeouts: %.3f s\n", NCONC, total);
	printf("%d threads time out together\n", NCONC);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_socketpair_recv();
	check_tcp();
	check_sndtimeo();
	check_concurrent();
	return 0;
}
