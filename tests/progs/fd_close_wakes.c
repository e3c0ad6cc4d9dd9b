/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=shim timeout=60 */
/*
 * close() or dup2() over an fd on which threads are parked wakes them with
 * EBADF, and the fd number, once reused, never delivers a stale wake-up.
 * Shim only: with real threads Linux leaves such a reader blocked on the old
 * file description (this program would then report a FAIL after 2 s).
 *
 *  A. three readers parked in read() on a pipe; close() wakes all three;
 *  B. the next pipe() gets that fd number; a reader on it blocks until data
 *     is written to the new pipe, and reads exactly that data;
 *  C. same with the old description kept alive by a dup(): data written to
 *     the old socket must not wake (or feed) the reader of the new fd;
 *  D. dup2() and dup3() over a parked reader wake it; the fd then reads its
 *     new description, blocking until that has data;
 *  E. a writer parked on a full pipe and a thread parked in accept() are
 *     woken by close() too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

enum op { OP_READ, OP_WRITE, OP_ACCEPT };

struct waiter {
	pthread_t t;
	int fd;
	enum op op;
	atomic_int started;
	atomic_int done;
	ssize_t ret;
	int err;
	char buf[64];
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	static char big[65536];

	atomic_store(&w->started, 1);
	switch (w->op) {
	case OP_READ:
		w->ret = read(w->fd, w->buf, sizeof w->buf - 1);
		break;
	case OP_WRITE:
		w->ret = write(w->fd, big, sizeof big);
		break;
	case OP_ACCEPT:
		w->ret = accept(w->fd, NULL, NULL);
		break;
	}
	w->err = errno;
	if (w->ret > 0 && w->op == OP_READ)
		w->buf[w->ret] = 0;
	atomic_store(&w->done, 1);
	return NULL;
}

/* Start a thread in the call and give it time to park there. */
static void start(struct waiter *w, int fd, enum op op)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->op = op;
	if (pthread_create(&w->t, NULL, waiter_main, w) != 0)
		fail("pthread_create");
	while (!atomic_load(&w->started))
		usleep(1000);
	usleep(100000);
	if (atomic_load(&w->done))
		fail("a waiter returned before anything happened to its fd");
}

static int finished_within(struct waiter *w, double secs)
{
	double limit = now() + secs;

	while (!atomic_load(&w->done) && now() < limit)
		usleep(1000);
	if (!atomic_load(&w->done))
		return 0;
	pthread_join(w->t, NULL);
	return 1;
}

static void expect_ebadf(struct waiter *w, const char *what)
{
	if (!finished_within(w, 2.0)) {
		fprintf(stderr, "FAIL: %s: still parked 2 s after its fd went away\n", what);
		exit(1);
	}
	if (w->ret != -1 || w->err != EBADF) {
		fprintf(stderr, "FAIL: %s: returned %zd errno %d, want -1 EBADF\n", what,
			w->ret, w->err);
		exit(1);
	}
}

static void expect_still_parked(struct waiter *w, const char *what)
{
	usleep(300000);
	if (atomic_load(&w->done)) {
		fprintf(stderr, "FAIL: %s: returned %zd (errno %d, data \"%s\") with "
			"nothing written to its fd\n", what, w->ret, w->err, w->buf);
		exit(1);
	}
}

static void expect_data(struct waiter *w, const char *data, const char *what)
{
	if (!finished_within(w, 2.0) || w->ret != (ssize_t)strlen(data) ||
	    strcmp(w->buf, data) != 0) {
		fprintf(stderr, "FAIL: %s: want \"%s\"\n", what, data);
		exit(1);
	}
}

static void case_close_and_reuse(void)
{
	struct waiter r[3], fresh;
	int p[2], q[2], old, i;

	if (pipe(p) < 0)
		fail("pipe");
	old = p[0];
	for (i = 0; i < 3; i++)
		start(&r[i], old, OP_READ);
	close(old);
	for (i = 0; i < 3; i++)
		expect_ebadf(&r[i], "reader parked on a closed pipe");
	if (write(p[1], "x", 1) != -1 || errno != EPIPE)
		fail("the closed read end is still alive");
	printf("close wakes 3 parked readers with EBADF\n");

	/* fds here are dense, so the lowest free number is the one just closed. */
	if (pipe(q) < 0)
		fail("pipe");
	if (q[0] != old) {
		fprintf(stderr, "FAIL: new pipe got fd %d, not the reused %d\n", q[0], old);
		exit(1);
	}
	start(&fresh, q[0], OP_READ);
	expect_still_parked(&fresh, "reader of the reused fd number");
	if (write(q[1], "new", 3) != 3)
		fail("write new pipe");
	expect_data(&fresh, "new", "reader of the reused fd number");
	close(p[1]);
	close(q[0]);
	close(q[1]);
	printf("reused fd number: no stale wake-up, reads new data\n");
}

/* The old description outlives the fd number through a dup(). */
static void case_stale_description(void)
{
	struct waiter r, fresh;
	int s[2], d, p[2], old;
	char buf[8];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	d = dup(s[0]);
	if (d < 0)
		fail("dup");
	old = s[0];
	start(&r, old, OP_READ);
	close(old);
	expect_ebadf(&r, "reader parked on a closed (but dup'ed) socket");

	if (pipe(p) < 0)
		fail("pipe");
	if (p[0] != old) {
		fprintf(stderr, "FAIL: new pipe got fd %d, not the reused %d\n", p[0], old);
		exit(1);
	}
	start(&fresh, p[0], OP_READ);
	if (write(s[1], "old", 3) != 3)
		fail("write old socket");
	expect_still_parked(&fresh, "reader of a reused fd, data sent to the old socket");
	if (recv(d, buf, sizeof buf, MSG_DONTWAIT) != 3 || memcmp(buf, "old", 3) != 0)
		fail("the old socket's data is not on its surviving dup");
	if (write(p[1], "fresh", 5) != 5)
		fail("write new pipe");
	expect_data(&fresh, "fresh", "reader of a reused fd");
	close(p[0]);
	close(p[1]);
	close(d);
	close(s[1]);
	printf("old description alive elsewhere: no stale wake-up\n");
}

static void case_dup2_over(void)
{
	struct waiter r, again;
	int a[2], b[2], s[2], t[2];

	if (pipe(a) < 0 || pipe(b) < 0)
		fail("pipe");
	start(&r, a[0], OP_READ);
	if (dup2(b[0], a[0]) != a[0])
		fail("dup2");
	expect_ebadf(&r, "reader parked on an fd replaced by dup2");
	if (write(a[1], "x", 1) != -1 || errno != EPIPE)
		fail("dup2 did not close the old read end");
	start(&again, a[0], OP_READ);
	if (write(b[1], "via dup2", 8) != 8)
		fail("write");
	expect_data(&again, "via dup2", "reader of the fd after dup2");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, t) < 0)
		fail("socketpair");
	start(&r, s[0], OP_READ);
	if (dup3(t[0], s[0], O_CLOEXEC) != s[0])
		fail("dup3");
	expect_ebadf(&r, "reader parked on an fd replaced by dup3");
	start(&again, s[0], OP_READ);
	expect_still_parked(&again, "reader of the fd after dup3");
	if (write(t[1], "via dup3", 8) != 8)
		fail("write");
	expect_data(&again, "via dup3", "reader of the fd after dup3");

	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(s[0]);
	close(s[1]);
	close(t[0]);
	close(t[1]);
	printf("dup2 and dup3 over a parked reader wake it with EBADF\n");
}

static void case_writer_and_acceptor(void)
{
	struct waiter w, a;
	struct sockaddr_in sa;
	int p[2], fl, lfd;
	char chunk[4096];

	if (pipe(p) < 0)
		fail("pipe");
	fl = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	memset(chunk, 'z', sizeof chunk);
	for (int i = 0; i < 1024 && write(p[1], chunk, sizeof chunk) > 0; i++)
		;
	fcntl(p[1], F_SETFL, fl);
	start(&w, p[1], OP_WRITE);
	close(p[1]);
	expect_ebadf(&w, "writer parked on a full pipe");
	close(p[0]);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 8) < 0)
		fail("listener");
	start(&a, lfd, OP_ACCEPT);
	close(lfd);
	expect_ebadf(&a, "thread parked in accept");
	printf("close wakes a parked writer and a parked accept\n");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	case_close_and_reuse();
	case_stale_description();
	case_dup2_over();
	case_writer_and_acceptor();
	return 0;
}
