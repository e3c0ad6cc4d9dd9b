/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check.h — what every test program needs: failing, checking, clocks,
 * sleeping, whole reads and writes.  Header-only (static inline) and
 * plain: a test program never links libgreen, and runs natively and under
 * the shim alike.  C11 and C++17.
 *
 * Failing goes to stderr and exits 1; stdout stays the program's own, for
 * run-tests to compare between the native and the shim run.
 *
 *   fail(what)                    FAIL: what [(errno N: text)], exit 1
 *   CHECK(cond, what), check(ok, what)   fail(what) unless it holds
 *   expect(got, want, what)       equal error numbers (pthread-style returns)
 *   expect_int(got, want, what)   equal numbers
 *   expect_errno(rc, want, what)  rc 0 when want is 0, else -1 with errno want
 *   ns_of(ts), ts_of(ns)          timespec <-> nanoseconds
 *   now_ns(clk), now(), now_ms()  clk's ns; CLOCK_MONOTONIC s and ms (double)
 *   deadline(clk, ms)             clk's time ms from now, as a timespec
 *   not_early(clk, dl, what)      fail if clk has not reached dl yet
 *   msleep(ms)                    sleep ms, to the end despite signals
 *   read_full, write_full         all of len bytes, 0; -1 on error or EOF
 *   exited_with(status, code)     a wait status of exit(code)
 * With CHECK_TICKER defined first:
 *   ticks, stop, ticker()         a thread that counts 10 ms sleeps until
 *                                 stop (60 s at most): the proof that other
 *                                 threads ran while one was blocked
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void fail(const char *what)
{
	int e = errno;

	if (e != 0)
		fprintf(stderr, "FAIL: %s (errno %d: %s)\n", what, e, strerror(e));
	else
		fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

#define CHECK(cond, what) do { if (!(cond)) fail(what); } while (0)

static inline void check(int ok, const char *what)
{
	if (!ok)
		fail(what);
}

static inline void expect(int got, int want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "FAIL: %s: got %d (%s), want %d (%s)\n", what,
			got, strerror(got), want, strerror(want));
		exit(1);
	}
}

static inline void expect_int(long got, long want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "FAIL: %s: got %ld, want %ld\n", what, got, want);
		exit(1);
	}
}

static inline void expect_errno(int rc, int want, const char *what)
{
	int got = rc == 0 ? 0 : errno;

	if ((want == 0 && rc != 0) || (want != 0 && (rc != -1 || got != want))) {
		fprintf(stderr, "FAIL: %s: rc %d errno %d (%s), want errno %d (%s)\n",
			what, rc, got, strerror(got), want, strerror(want));
		exit(1);
	}
}

static inline long long ns_of(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline struct timespec ts_of(long long ns)
{
	struct timespec t;

	t.tv_sec = ns / 1000000000LL;
	t.tv_nsec = ns % 1000000000LL;
	return t;
}

static inline long long now_ns(clockid_t clk)
{
	struct timespec t;

	if (clock_gettime(clk, &t) != 0)
		fail("clock_gettime");
	return ns_of(t);
}

static inline double now(void)
{
	return now_ns(CLOCK_MONOTONIC) / 1e9;
}

static inline double now_ms(void)
{
	return now_ns(CLOCK_MONOTONIC) / 1e6;
}

static inline struct timespec deadline(clockid_t clk, long ms)
{
	return ts_of(now_ns(clk) + ms * 1000000LL);
}

static inline void not_early(clockid_t clk, struct timespec dl, const char *what)
{
	long long t = now_ns(clk);

	if (t < ns_of(dl)) {
		fprintf(stderr, "FAIL: %s returned %lld ns early\n", what,
			ns_of(dl) - t);
		exit(1);
	}
}

static inline void msleep(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static inline int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static inline int write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		put += n;
	}
	return 0;
}

static inline int exited_with(int st, int code)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

#if defined(CHECK_TICKER) && !defined(__cplusplus)
#include <stdatomic.h>

static atomic_int ticks, stop;

static inline void *ticker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 6000 && !atomic_load(&stop); i++) {
		usleep(10000);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}
#endif

#endif
