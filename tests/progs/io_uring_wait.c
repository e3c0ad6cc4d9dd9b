/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/* LIBS: -luring */
/*
 * A thread that waits for io_uring completions (liburing, as MariaDB's
 * InnoDB does from start-up) must not stop the other threads: liburing
 * makes its system calls itself, so under the shim io_uring_wait_cqe()
 * slept in io_uring_enter with the whole hub, and mariadbd never started.
 *
 * A completion thread waits on a ring for reads of a pipe, one at a time
 * (io_uring_wait_cqe, io_uring_submit_and_wait, io_uring_wait_cqe_timeout
 * with a long and a zero timeout); the data is written 40 ms later by the
 * main thread, while a ticker thread must keep ticking (at least 2 ticks of
 * 10 ms during each wait).  A completion already there is taken at once.
 */
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"

static struct io_uring ring;
static int p[2];
static char buf[8];

static void prep_read(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	check(sqe != NULL, "io_uring_get_sqe");
	memset(buf, 0, sizeof(buf));
	io_uring_prep_read(sqe, p[0], buf, sizeof(buf) - 1, -1);
	io_uring_sqe_set_data(sqe, buf);
}

static void take(struct io_uring_cqe *cqe, const char *want, const char *how)
{
	check(cqe != NULL && io_uring_cqe_get_data(cqe) == buf, how);
	check(cqe->res == (int)strlen(want) && strcmp(buf, want) == 0, how);
	io_uring_cqe_seen(&ring, cqe);
}

/* One wait of each kind, data 40 ms later from another thread. */
static void *waiter(void *arg)
{
	struct io_uring_cqe *cqe = NULL;
	struct __kernel_timespec long_ts = {5, 0}, zero = {0, 0};
	int r;

	(void)arg;
	prep_read();
	check(io_uring_submit(&ring) == 1, "submit");
	check(io_uring_wait_cqe(&ring, &cqe) == 0, "io_uring_wait_cqe");
	take(cqe, "one", "io_uring_wait_cqe");

	prep_read();
	check(io_uring_submit_and_wait(&ring, 1) == 1, "submit_and_wait");
	check(io_uring_peek_cqe(&ring, &cqe) == 0, "peek after submit_and_wait");
	take(cqe, "two", "io_uring_submit_and_wait");

	prep_read();
	check(io_uring_submit(&ring) == 1, "submit");
	check(io_uring_wait_cqe_timeout(&ring, &cqe, &long_ts) == 0,
	      "io_uring_wait_cqe_timeout");
	take(cqe, "three", "io_uring_wait_cqe_timeout");

	/* nothing to come: a zero timeout says so at once */
	r = io_uring_wait_cqe_timeout(&ring, &cqe, &zero);
	check(r == -ETIME || r == -EAGAIN, "a zero timeout with nothing there");
	return NULL;
}

static void late_write(const char *s)
{
	int t0 = atomic_load(&ticks);

	msleep(40);
	check(write(p[1], s, strlen(s)) == (ssize_t)strlen(s), "write");
	if (atomic_load(&ticks) - t0 < 2)
		fail("the ticker stopped while a thread waited for a completion");
	msleep(20);
}

int main(void)
{
	pthread_t tick, w;
	struct io_uring_cqe *cqe;

	check(pipe(p) == 0, "pipe");
	if (io_uring_queue_init(8, &ring, 0) != 0) {
		printf("io_uring unavailable here\n");
		return 0;
	}
	check(pthread_create(&tick, NULL, ticker, NULL) == 0, "ticker");
	check(pthread_create(&w, NULL, waiter, NULL) == 0, "waiter");
	late_write("one");
	late_write("two");
	late_write("three");
	check(pthread_join(w, NULL) == 0, "join waiter");

	/* a completion already there: taken without waiting */
	check(write(p[1], "four", 4) == 4, "write");
	prep_read();
	check(io_uring_submit(&ring) == 1, "submit");
	msleep(20);
	check(io_uring_wait_cqe(&ring, &cqe) == 0, "wait with one there");
	take(cqe, "four", "a completion already there");

	atomic_store(&stop, 1);
	check(pthread_join(tick, NULL) == 0, "join ticker");
	io_uring_queue_exit(&ring);
	printf("io_uring waits: wait_cqe, submit_and_wait, wait_cqe_timeout "
	       "(long and zero), and a ready completion; other threads ran\n");
	return 0;
}
