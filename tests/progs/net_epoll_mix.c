/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A program that mixes its own event loop with blocking threads. One thread
 * runs an epoll loop over the non-blocking ends of 64 socketpairs; 64 threads
 * do blocking reads and writes on the other ends, 200 round trips each.
 *
 * Also checked:
 *  - an fd the program made non-blocking gives EAGAIN at once (read, recv,
 *    accept on a non-blocking listener) and connect gives EINPROGRESS;
 *  - while the 64 threads sit in read(), F_GETFL of their fds shows no
 *    O_NONBLOCK and stdout's flags are what they were at start (read with
 *    both fcntl and the raw syscall);
 *  - a child forked meanwhile sees its inherited blocking socket still
 *    blocking (raw F_GETFL) and does a blocking read on it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 64
#define ROUNDS 200
#define MSGLEN 32

static int sp[NTHREADS][2];	/* [0] non-blocking, epoll side; [1] blocking */
static int ctl[2];		/* main -> epoll thread: "start" */
static atomic_int about_to_block;
static atomic_int threads_done;

static int raw_getfl(int fd)
{
	return (int)syscall(SYS_fcntl, fd, F_GETFL);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		fail("fcntl O_NONBLOCK");
}

/* The program's own non-blocking checks, before any thread exists. */
static void check_nonblocking_semantics(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	struct pollfd p;
	int s[2], lfd, cfd, afd, err;
	socklen_t elen = sizeof err;
	char c;
	double t0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	set_nonblock(s[0]);
	t0 = now();
	if (read(s[0], &c, 1) != -1 || errno != EAGAIN)
		fail("read on empty O_NONBLOCK socket is not EAGAIN");
	if (recv(s[0], &c, 1, 0) != -1 || errno != EAGAIN)
		fail("recv on empty O_NONBLOCK socket is not EAGAIN");

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		fail("socket");
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 16) < 0)
		fail("bind/listen");
	if (getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		fail("getsockname");
	set_nonblock(lfd);
	if (accept(lfd, NULL, NULL) != -1 || errno != EAGAIN)
		fail("accept on idle O_NONBLOCK listener is not EAGAIN");
	if (now() - t0 > 0.5)
		fail("EAGAIN did not come at once");

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (cfd < 0)
		fail("socket SOCK_NONBLOCK");
	if (connect(cfd, (struct sockaddr *)&a, sizeof a) != -1 || errno != EINPROGRESS)
		fail("non-blocking connect is not EINPROGRESS");
	p.fd = cfd;
	p.events = POLLOUT;
	if (poll(&p, 1, 2000) != 1 || !(p.revents & POLLOUT))
		fail("connecting socket never became writable");
	if (getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
		fail("SO_ERROR after non-blocking connect");
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, 2000) != 1)
		fail("listener not readable after connect");
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		fail("accept after poll");
	if (fcntl(afd, F_GETFL) & O_NONBLOCK)
		fail("accept()ed fd inherited O_NONBLOCK");
	close(afd);
	close(cfd);
	close(lfd);
	close(s[0]);
	close(s[1]);
	printf("non-blocking fds: EAGAIN and EINPROGRESS ok\n");
}

/* The event loop: level-triggered, echoes whatever arrives. */
static void *epoll_loop(void *arg)
{
	struct epoll_event ev, evs[32];
	char buf[4096];
	int ep, i, n, k, open = NTHREADS, eagains = 0;
	double limit = now() + 30;

	(void)arg;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		fail("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.u32 = NTHREADS;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ctl[0], &ev) < 0)
		fail("epoll_ctl ctl");
	for (i = 0; i < NTHREADS; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sp[i][0], &ev) < 0)
			fail("epoll_ctl");
	}
	while (open > 0) {
		if (now() > limit)
			fail("epoll loop took more than 30 s");
		n = epoll_wait(ep, evs, 32, 5000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("epoll_wait returned nothing in 5 s");
		for (k = 0; k < n; k++) {
			unsigned id = evs[k].data.u32;
			ssize_t r;

			if (id == NTHREADS) {
				if (read(ctl[0], buf, 1) != 1)
					fail("read ctl");
				for (i = 0; i < NTHREADS; i++)
					CHECK(write_full(sp[i][0], "go", 2) == 0, "write go");
				continue;
			}
			/* Drain: the last read of a level-triggered fd must be EAGAIN. */
			for (;;) {
				r = read(sp[id][0], buf, sizeof buf);
				if (r > 0) {
					CHECK(write_full(sp[id][0], buf, r) == 0, "echo write");
					continue;
				}
				if (r == 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, sp[id][0], NULL);
					close(sp[id][0]);
					open--;
					break;
				}
				if (errno == EAGAIN) {
					eagains++;
					break;
				}
				if (errno != EINTR)
					fail("epoll side read");
			}
		}
	}
	close(ep);
	if (eagains == 0)
		fail("a drained non-blocking socket never said EAGAIN");
	return NULL;
}

static void *blocking_peer(void *arg)
{
	int id = (int)(long)arg, fd = sp[id][1], r;
	char go[2], out[MSGLEN], in[MSGLEN];

	atomic_fetch_add(&about_to_block, 1);
	CHECK(read_full(fd, go, 2) == 0, "read go");
	if (memcmp(go, "go", 2) != 0)
		fail("bad go message");
	for (r = 0; r < ROUNDS; r++) {
		memset(out, '.', sizeof out);
		snprintf(out, sizeof out, "thread %d round %d", id, r);
		CHECK(write_full(fd, out, sizeof out) == 0, "peer write");
		CHECK(read_full(fd, in, sizeof in) == 0, "peer read");
		if (memcmp(in, out, sizeof out) != 0)
			fail("echo mismatch");
	}
	close(fd);
	atomic_fetch_add(&threads_done, 1);
	return NULL;
}

/* Fork while 64 threads are parked; the child's inherited socket blocks. */
static void check_fork_child(void)
{
	int fk[2], st;
	char buf[4];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fk) < 0)
		fail("socketpair fork");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		close(fk[0]);
		if (raw_getfl(fk[1]) & O_NONBLOCK)
			_exit(2);
		if (fcntl(fk[1], F_GETFL) & O_NONBLOCK)
			_exit(3);
		if (raw_getfl(sp[0][1]) & O_NONBLOCK)
			_exit(4);
		if (read(fk[1], buf, 4) != 4 || memcmp(buf, "ping", 4) != 0)
			_exit(5);
		if (write(fk[1], "pong", 4) != 4)
			_exit(6);
		_exit(0);
	}
	close(fk[1]);
	usleep(200000);		/* the child is in read() by now, blocking */
	CHECK(write_full(fk[0], "ping", 4) == 0, "write ping");
	CHECK(read_full(fk[0], buf, 4) == 0, "read pong");
	if (memcmp(buf, "pong", 4) != 0)
		fail("bad pong");
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAIL: child status %#x (2,3,4: fd found non-blocking; "
			"5: read)\n", st);
		exit(1);
	}
	close(fk[0]);
	printf("forked child: inherited socket blocking ok\n");
}

int main(void)
{
	pthread_t loop, peers[NTHREADS];
	int out_fl, out_raw, i;
	double limit;

	out_fl = fcntl(1, F_GETFL);
	out_raw = raw_getfl(1);
	if (out_fl < 0 || out_raw < 0)
		fail("F_GETFL stdout");
	setvbuf(stdout, NULL, _IOLBF, 0);

	check_nonblocking_semantics();

	if (pipe(ctl) < 0)
		fail("pipe");
	set_nonblock(ctl[0]);
	for (i = 0; i < NTHREADS; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]) < 0)
			fail("socketpair");
		set_nonblock(sp[i][0]);
	}
	if (pthread_create(&loop, NULL, epoll_loop, NULL) != 0)
		fail("pthread_create loop");
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&peers[i], NULL, blocking_peer, (void *)(long)i) != 0)
			fail("pthread_create peer");

	limit = now() + 10;
	while (atomic_load(&about_to_block) < NTHREADS && now() < limit)
		usleep(1000);
	usleep(200000);		/* let them all enter read() */

	for (i = 0; i < NTHREADS; i++) {
		if (fcntl(sp[i][1], F_GETFL) & O_NONBLOCK)
			fail("blocking fd shows O_NONBLOCK while a thread reads it");
		if (!(fcntl(sp[i][0], F_GETFL) & O_NONBLOCK))
			fail("non-blocking fd lost O_NONBLOCK");
	}
	if (fcntl(1, F_GETFL) != out_fl || raw_getfl(1) != out_raw)
		fail("stdout flags changed");
	printf("blocked fds: flags unchanged\n");

	check_fork_child();

	if (write(ctl[1], "s", 1) != 1)
		fail("write ctl");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(peers[i], NULL);
	pthread_join(loop, NULL);
	if (atomic_load(&threads_done) != NTHREADS)
		fail("not every blocking thread finished");
	if (fcntl(1, F_GETFL) != out_fl || raw_getfl(1) != out_raw)
		fail("stdout flags changed by the end");
	printf("epoll loop + %d blocking threads x %d rounds ok\n", NTHREADS, ROUNDS);
	return 0;
}
