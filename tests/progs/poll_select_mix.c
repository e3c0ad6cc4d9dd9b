/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * poll, ppoll, select, pselect, epoll_wait, epoll_pwait and epoll_pwait2 on
 * mixes of ready and idle fds, with zero, finite and infinite timeouts (a
 * writer thread ends the infinite ones). Return values and revents / fd_set
 * bits are checked exactly; a timeout never ends early. Also: POLLNVAL for a
 * closed fd, POLLHUP for a closed peer (at once and while parked), select's
 * remaining-time update and EBADF, pselect leaving its timeout alone, and
 * poll on the program's own epoll fd.
 *
 * Fixture: A = pipe holding one byte (readable), B = empty pipe (read end
 * idle, write end writable), C = socketpair (C[0] writable, not readable),
 * D = idle UDP socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int A[2], B[2], C[2], D;
static struct sockaddr_in daddr;

/* A call with a finite timeout that nothing ends: not early, not very late. */
static void check_slept(double t0, long ms, const char *what)
{
	double el = now() - t0;

	if (el < ms / 1000.0 || el > ms / 1000.0 + 1.5) {
		fprintf(stderr, "FAIL: %s: timeout of %ld ms took %.4f s\n", what, ms, el);
		exit(1);
	}
}

enum act { ACT_WRITE_B, ACT_SEND_D, ACT_CLOSE_FD };

struct later { enum act act; int fd; long ms; pthread_t t; };

static void *do_later(void *arg)
{
	struct later *l = arg;

	usleep(l->ms * 1000);
	switch (l->act) {
	case ACT_WRITE_B:
		if (write(B[1], "b", 1) != 1)
			fail("write B");
		break;
	case ACT_SEND_D: {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || sendto(s, "d", 1, 0, (struct sockaddr *)&daddr,
				    sizeof daddr) != 1)
			fail("sendto D");
		close(s);
		break;
	}
	case ACT_CLOSE_FD:
		close(l->fd);
		break;
	}
	return NULL;
}

static void later(struct later *l, enum act act, int fd, long ms)
{
	l->act = act;
	l->fd = fd;
	l->ms = ms;
	if (pthread_create(&l->t, NULL, do_later, l) != 0)
		fail("pthread_create");
}

static void drain_b(void)
{
	char c;

	if (read(B[0], &c, 1) != 1)
		fail("drain B");
}

static void drain_d(void)
{
	char c;

	if (recv(D, &c, 1, 0) != 1)
		fail("drain D");
}

static void setup(void)
{
	socklen_t len = sizeof daddr;

	if (pipe(A) < 0 || pipe(B) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, C) < 0)
		fail("pipe/socketpair");
	if (write(A[1], "a", 1) != 1)
		fail("write A");
	D = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&daddr, 0, sizeof daddr);
	daddr.sin_family = AF_INET;
	daddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (D < 0 || bind(D, (struct sockaddr *)&daddr, sizeof daddr) < 0 ||
	    getsockname(D, (struct sockaddr *)&daddr, &len) < 0)
		fail("UDP socket");
}

static void test_poll(void)
{
	struct pollfd p[6];
	struct later l;
	double t0;
	int n;

	/* Zero timeout on a mix: exactly the ready ones, negative fd ignored. */
	p[0] = (struct pollfd){ A[0], POLLIN, 0x7f };
	p[1] = (struct pollfd){ B[0], POLLIN, 0x7f };
	p[2] = (struct pollfd){ C[0], POLLIN | POLLOUT, 0x7f };
	p[3] = (struct pollfd){ D, POLLIN, 0x7f };
	p[4] = (struct pollfd){ -1, POLLIN, 0x7f };
	p[5] = (struct pollfd){ B[1], POLLOUT, 0x7f };
	n = poll(p, 6, 0);
	check(n == 3, "poll(0): count");
	check(p[0].revents == POLLIN && p[1].revents == 0 &&
	      p[2].revents == POLLOUT && p[3].revents == 0 && p[4].revents == 0 &&
	      p[5].revents == POLLOUT, "poll(0): revents");

	/* Finite timeout on idle fds. */
	p[0] = (struct pollfd){ B[0], POLLIN, 0 };
	p[1] = (struct pollfd){ D, POLLIN, 0 };
	p[2] = (struct pollfd){ C[0], POLLIN, 0 };
	t0 = now();
	n = poll(p, 3, 200);
	check_slept(t0, 200, "poll(200) on idle fds");
	check(n == 0 && p[0].revents == 0 && p[1].revents == 0 && p[2].revents == 0,
	      "poll(200) on idle fds: result");

	/* Infinite timeout, ended by a writer. */
	later(&l, ACT_WRITE_B, -1, 150);
	t0 = now();
	n = poll(p, 2, -1);
	pthread_join(l.t, NULL);
	check(n == 1 && p[0].revents == POLLIN && p[1].revents == 0,
	      "poll(-1) ended by a writer: result");
	check(now() - t0 >= 0.14, "poll(-1) returned before the write");
	drain_b();

	/* A long finite timeout ended early by a datagram. */
	later(&l, ACT_SEND_D, -1, 100);
	t0 = now();
	n = poll(p, 2, 5000);
	pthread_join(l.t, NULL);
	check(n == 1 && p[0].revents == 0 && p[1].revents == POLLIN,
	      "poll(5000) ended by a datagram: result");
	check(now() - t0 < 2.0, "poll(5000) did not return when the datagram came");
	drain_d();

	/* No fds at all: the sleep idiom. */
	t0 = now();
	check(poll(NULL, 0, 120) == 0, "poll(NULL, 0, 120)");
	check_slept(t0, 120, "poll(NULL, 0, 120)");
	printf("poll: zero, finite, infinite timeouts ok\n");
}

static void test_poll_nval_hup(void)
{
	struct pollfd p[3];
	struct later l;
	int e[2], f[2], g[2], closed;
	double t0;
	int n;

	if (pipe(e) < 0)
		fail("pipe");
	closed = e[0];
	close(e[0]);
	close(e[1]);
	p[0] = (struct pollfd){ closed, POLLIN, 0 };
	p[1] = (struct pollfd){ A[0], POLLIN, 0 };
	n = poll(p, 2, 0);
	check(n == 2 && p[0].revents == POLLNVAL && p[1].revents == POLLIN,
	      "poll: POLLNVAL for a closed fd");
	t0 = now();
	n = poll(p, 1, 2000);
	check(n == 1 && p[0].revents == POLLNVAL && now() - t0 < 0.5,
	      "poll(2000) on a closed fd must return POLLNVAL at once");

	/* Peer already gone. */
	if (pipe(e) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, f) < 0 || pipe(g) < 0)
		fail("pipe/socketpair");
	close(e[1]);
	close(f[1]);
	close(g[0]);
	p[0] = (struct pollfd){ e[0], POLLIN, 0 };
	p[1] = (struct pollfd){ f[0], POLLIN, 0 };
	p[2] = (struct pollfd){ g[1], POLLOUT, 0 };
	n = poll(p, 3, 1000);
	check(n == 3, "poll on closed peers: count");
	check(p[0].revents == POLLHUP, "poll: pipe with writer gone is POLLHUP");
	check(p[1].revents == (POLLIN | POLLHUP),
	      "poll: socket with peer gone is POLLIN|POLLHUP");
	check(p[2].revents == (POLLOUT | POLLERR),
	      "poll: pipe with reader gone is POLLOUT|POLLERR");
	close(e[0]);
	close(f[0]);
	close(g[1]);

	/* Peer goes while we are parked. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, f) < 0)
		fail("socketpair");
	later(&l, ACT_CLOSE_FD, f[1], 150);
	p[0] = (struct pollfd){ f[0], POLLIN | POLLRDHUP, 0 };
	n = poll(p, 1, -1);
	pthread_join(l.t, NULL);
	check(n == 1 && p[0].revents == (POLLIN | POLLHUP | POLLRDHUP),
	      "poll(-1): peer closed while parked");
	close(f[0]);
	printf("poll: POLLNVAL and POLLHUP ok\n");
}

static void test_ppoll(void)
{
	struct timespec ts = { 0, 200 * 1000000L };
	struct pollfd p[2];
	struct later l;
	sigset_t empty;
	double t0;
	int n;

	p[0] = (struct pollfd){ B[0], POLLIN, 0 };
	p[1] = (struct pollfd){ A[0], POLLIN, 0 };
	sigemptyset(&empty);
	n = ppoll(p, 2, &(struct timespec){ 0, 0 }, &empty);
	check(n == 1 && p[0].revents == 0 && p[1].revents == POLLIN, "ppoll zero");
	t0 = now();
	n = ppoll(p, 1, &ts, NULL);
	check_slept(t0, 200, "ppoll 200 ms");
	check(n == 0 && p[0].revents == 0, "ppoll 200 ms: result");
	later(&l, ACT_WRITE_B, -1, 100);
	n = ppoll(p, 1, NULL, &empty);
	pthread_join(l.t, NULL);
	check(n == 1 && p[0].revents == POLLIN, "ppoll infinite ended by a writer");
	drain_b();
	printf("ppoll ok\n");
}

static void test_select(void)
{
	fd_set r, w;
	struct timeval tv;
	struct later l;
	int maxfd = 0, n, fds[] = { A[0], B[0], B[1], C[0], D }, e[2], closed;
	double t0;

	for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] > maxfd)
			maxfd = fds[i];

	/* Zero timeout: C[0] is in both sets and counts once per set it is in. */
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(A[0], &r);
	FD_SET(B[0], &r);
	FD_SET(C[0], &r);
	FD_SET(D, &r);
	FD_SET(C[0], &w);
	FD_SET(B[1], &w);
	tv = (struct timeval){ 0, 0 };
	n = select(maxfd + 1, &r, &w, NULL, &tv);
	check(n == 3, "select(0): count");
	check(FD_ISSET(A[0], &r) && !FD_ISSET(B[0], &r) && !FD_ISSET(C[0], &r) &&
	      !FD_ISSET(D, &r) && FD_ISSET(C[0], &w) && FD_ISSET(B[1], &w),
	      "select(0): bits");

	/* Finite timeout on idle fds: 0, sets cleared, remaining time 0. */
	FD_ZERO(&r);
	FD_SET(B[0], &r);
	FD_SET(D, &r);
	tv = (struct timeval){ 0, 200000 };
	t0 = now();
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	check_slept(t0, 200, "select 200 ms");
	check(n == 0 && !FD_ISSET(B[0], &r) && !FD_ISSET(D, &r),
	      "select 200 ms: result");
	check(tv.tv_sec == 0 && tv.tv_usec == 0,
	      "select 200 ms: timeval not updated to the 0 remaining");

	/* Ended by a writer: the timeval holds the time left. */
	FD_ZERO(&r);
	FD_SET(B[0], &r);
	FD_SET(D, &r);
	tv = (struct timeval){ 5, 0 };
	later(&l, ACT_WRITE_B, -1, 100);
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	pthread_join(l.t, NULL);
	check(n == 1 && FD_ISSET(B[0], &r) && !FD_ISSET(D, &r),
	      "select 5 s ended by a writer: result");
	check(tv.tv_sec >= 3 && (tv.tv_sec < 4 || (tv.tv_sec == 4 && tv.tv_usec <= 950000)),
	      "select: remaining time after an early wake-up");
	drain_b();

	/* Infinite. */
	FD_ZERO(&r);
	FD_SET(D, &r);
	later(&l, ACT_SEND_D, -1, 100);
	n = select(D + 1, &r, NULL, NULL, NULL);
	pthread_join(l.t, NULL);
	check(n == 1 && FD_ISSET(D, &r), "select infinite ended by a datagram");
	drain_d();

	/* A closed fd in a set is EBADF, at once. */
	if (pipe(e) < 0)
		fail("pipe");
	closed = e[0];
	close(e[0]);
	close(e[1]);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	FD_SET(B[0], &r);
	tv = (struct timeval){ 2, 0 };
	t0 = now();
	n = select(maxfd + 1 > closed + 1 ? maxfd + 1 : closed + 1, &r, NULL, NULL, &tv);
	check(n == -1 && errno == EBADF && now() - t0 < 0.5,
	      "select with a closed fd must fail EBADF at once");

	/* No fds: the sleep idiom. */
	tv = (struct timeval){ 0, 120000 };
	t0 = now();
	check(select(0, NULL, NULL, NULL, &tv) == 0, "select(0, NULL...) sleep");
	check_slept(t0, 120, "select(0, NULL...) sleep");
	printf("select: zero, finite, infinite, EBADF ok\n");
}

static void test_pselect(void)
{
	struct timespec ts = { 0, 200 * 1000000L };
	struct later l;
	sigset_t empty;
	fd_set r;
	double t0;
	int n;

	sigemptyset(&empty);
	FD_ZERO(&r);
	FD_SET(A[0], &r);
	FD_SET(B[0], &r);
	n = pselect(B[0] > A[0] ? B[0] + 1 : A[0] + 1, &r, NULL, NULL,
		    &(struct timespec){ 0, 0 }, &empty);
	check(n == 1 && FD_ISSET(A[0], &r) && !FD_ISSET(B[0], &r), "pselect zero");

	FD_ZERO(&r);
	FD_SET(B[0], &r);
	t0 = now();
	n = pselect(B[0] + 1, &r, NULL, NULL, &ts, NULL);
	check_slept(t0, 200, "pselect 200 ms");
	check(n == 0 && !FD_ISSET(B[0], &r), "pselect 200 ms: result");
	check(ts.tv_sec == 0 && ts.tv_nsec == 200 * 1000000L,
	      "pselect changed its timeout argument");

	FD_ZERO(&r);
	FD_SET(B[0], &r);
	later(&l, ACT_WRITE_B, -1, 100);
	n = pselect(B[0] + 1, &r, NULL, NULL, NULL, &empty);
	pthread_join(l.t, NULL);
	check(n == 1 && FD_ISSET(B[0], &r), "pselect infinite ended by a writer");
	drain_b();
	printf("pselect ok\n");
}

static int cmp_ev(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;

	return (x->data.u64 > y->data.u64) - (x->data.u64 < y->data.u64);
}

static void test_epoll(void)
{
	struct epoll_event ev, out[8];
	struct pollfd p;
	struct later l;
	sigset_t empty;
	int ep, idle, n, e[2];
	double t0;

	sigemptyset(&empty);
	ep = epoll_create1(EPOLL_CLOEXEC);
	idle = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || idle < 0)
		fail("epoll_create1");
#define ADD(epfd, fd, evs, tag) do {					\
		ev.events = (evs);					\
		ev.data.u64 = (tag);					\
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)	\
			fail("epoll_ctl");				\
	} while (0)
	ADD(ep, A[0], EPOLLIN, 1);
	ADD(ep, B[0], EPOLLIN, 2);
	ADD(ep, C[0], EPOLLIN | EPOLLOUT, 3);
	ADD(ep, D, EPOLLIN, 4);
	ADD(idle, B[0], EPOLLIN, 2);
	ADD(idle, D, EPOLLIN, 4);

	n = epoll_wait(ep, out, 8, 0);
	check(n == 2, "epoll_wait(0): count");
	qsort(out, n, sizeof out[0], cmp_ev);
	check(out[0].data.u64 == 1 && out[0].events == EPOLLIN &&
	      out[1].data.u64 == 3 && out[1].events == EPOLLOUT,
	      "epoll_wait(0): events");
	check(epoll_wait(ep, out, 1, 0) == 1, "epoll_wait maxevents 1");

	t0 = now();
	n = epoll_wait(idle, out, 8, 200);
	check_slept(t0, 200, "epoll_wait 200 ms");
	check(n == 0, "epoll_wait 200 ms: result");

	later(&l, ACT_WRITE_B, -1, 100);
	n = epoll_wait(idle, out, 8, -1);
	pthread_join(l.t, NULL);
	check(n == 1 && out[0].data.u64 == 2 && out[0].events == EPOLLIN,
	      "epoll_wait infinite ended by a writer");
	drain_b();

	t0 = now();
	n = epoll_pwait(idle, out, 8, 150, &empty);
	check_slept(t0, 150, "epoll_pwait 150 ms");
	check(n == 0, "epoll_pwait 150 ms: result");
	later(&l, ACT_SEND_D, -1, 100);
	n = epoll_pwait(idle, out, 8, -1, &empty);
	pthread_join(l.t, NULL);
	check(n == 1 && out[0].data.u64 == 4 && out[0].events == EPOLLIN,
	      "epoll_pwait infinite ended by a datagram");
	drain_d();

	n = epoll_pwait2(ep, out, 8, &(struct timespec){ 0, 0 }, NULL);
	check(n == 2, "epoll_pwait2 zero");
	t0 = now();
	n = epoll_pwait2(idle, out, 8, &(struct timespec){ 0, 150 * 1000000L }, NULL);
	check_slept(t0, 150, "epoll_pwait2 150 ms");
	check(n == 0, "epoll_pwait2 150 ms: result");
	later(&l, ACT_WRITE_B, -1, 100);
	n = epoll_pwait2(idle, out, 8, NULL, &empty);
	pthread_join(l.t, NULL);
	check(n == 1 && out[0].data.u64 == 2, "epoll_pwait2 infinite ended by a writer");
	drain_b();

	/* EPOLLHUP for a pipe whose writer is gone. */
	if (pipe(e) < 0)
		fail("pipe");
	ADD(idle, e[0], EPOLLIN, 9);
	later(&l, ACT_CLOSE_FD, e[1], 100);
	n = epoll_wait(idle, out, 8, 5000);
	pthread_join(l.t, NULL);
	check(n == 1 && out[0].data.u64 == 9 && out[0].events == EPOLLHUP,
	      "epoll_wait: EPOLLHUP when the writer closes");
	epoll_ctl(idle, EPOLL_CTL_DEL, e[0], NULL);
	close(e[0]);

	/* The program's own epoll fd inside poll(). */
	p = (struct pollfd){ idle, POLLIN, 0 };
	t0 = now();
	check(poll(&p, 1, 150) == 0 && p.revents == 0, "poll on an idle epoll fd");
	check_slept(t0, 150, "poll on an idle epoll fd");
	later(&l, ACT_WRITE_B, -1, 100);
	n = poll(&p, 1, -1);
	pthread_join(l.t, NULL);
	check(n == 1 && p.revents == POLLIN, "poll on an epoll fd that becomes ready");
	drain_b();
	close(ep);
	close(idle);
	printf("epoll_wait, epoll_pwait, epoll_pwait2 ok\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	test_poll();
	test_poll_nval_hup();
	test_ppoll();
	test_select();
	test_pselect();
	test_epoll();
	return 0;
}
