/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Edges of the sleep calls, as glibc and Linux give them:
 * - invalid arguments: nanosleep EINVAL (errno), clock_nanosleep EINVAL
 *   returned (errno untouched) for a bad tv_nsec, an unknown clock and
 *   CLOCK_THREAD_CPUTIME_ID; select with a negative timeout EINVAL;
 * - zero sleeps return at once: sleep(0), usleep(0), nanosleep 0, ...;
 * - other clocks: CLOCK_BOOTTIME, CLOCK_TAI (relative and absolute) never
 *   end early, and CLOCK_PROCESS_CPUTIME_ID ends once the process has used
 *   that much CPU (a second thread burns it);
 * - select writes the time not slept back into its timeval;
 * - a SIGALRM handler (setitimer) interrupts the sleeps with EINTR, with or
 *   without SA_RESTART, and the remaining time they report is plausible;
 *   sleep() returns the whole seconds left, as glibc does.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* clock_nanosleep returns the error number and leaves errno alone. */
static void expect_ret(int rc, int want, const char *what)
{
	if (rc != want) {
		fprintf(stderr, "FAIL: %s: returned %d (%s), want %d (%s)\n",
			what, rc, strerror(rc), want, strerror(want));
		exit(1);
	}
	if (errno != 0) {
		fprintf(stderr, "FAIL: %s changed errno to %d (%s)\n", what,
			errno, strerror(errno));
		exit(1);
	}
}

static void test_invalid(void)
{
	struct timespec ts;
	struct timeval tv;

	ts = (struct timespec){ 0, 1000000000L };
	expect_errno(nanosleep(&ts, NULL), EINVAL, "nanosleep tv_nsec 1e9");
	ts = (struct timespec){ 0, -1 };
	expect_errno(nanosleep(&ts, NULL), EINVAL, "nanosleep tv_nsec -1");
	ts = (struct timespec){ -1, 0 };
	expect_errno(nanosleep(&ts, NULL), EINVAL, "nanosleep tv_sec -1");

	errno = 0;
	ts = (struct timespec){ 0, 1000000000L };
	expect_ret(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL), EINVAL,
		   "clock_nanosleep tv_nsec 1e9");
	expect_ret(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL),
		   EINVAL, "clock_nanosleep ABSTIME tv_nsec 1e9");
	ts = (struct timespec){ 0, 1000000 };
	expect_ret(clock_nanosleep(12345, 0, &ts, NULL), EINVAL,
		   "clock_nanosleep unknown clock");
	expect_ret(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL),
		   EINVAL, "clock_nanosleep CLOCK_THREAD_CPUTIME_ID");

	tv = (struct timeval){ -1, 0 };
	expect_errno(select(0, NULL, NULL, NULL, &tv), EINVAL,
		     "select negative timeout");
	printf("invalid arguments: ok\n");
}

static void test_zero(void)
{
	struct timespec ts = { 0, 0 }, past;
	struct timeval tv = { 0, 0 };

	if (sleep(0) != 0)
		fail("sleep(0)");
	expect_errno(usleep(0), 0, "usleep(0)");
	expect_errno(nanosleep(&ts, NULL), 0, "nanosleep 0");
	errno = 0;
	expect_ret(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL), 0,
		   "clock_nanosleep 0");
	clock_gettime(CLOCK_MONOTONIC, &past);
	past.tv_sec -= 1;
	expect_ret(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL),
		   0, "clock_nanosleep ABSTIME in the past");
	expect_ret(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL),
		   0, "clock_nanosleep REALTIME ABSTIME at the epoch");
	expect_errno(poll(NULL, 0, 0), 0, "poll(NULL, 0, 0)");
	expect_errno(select(0, NULL, NULL, NULL, &tv), 0, "select 0");
	printf("zero sleeps: ok\n");
}

/* Relative and absolute sleeps of 20 ms on CLK, never early. */
static void sleep_on(clockid_t clk, const char *name)
{
	struct timespec ts = { 0, 20000000L }, abs;
	long long t0 = now_ns(clk);
	char what[80];

	errno = 0;
	snprintf(what, sizeof what, "clock_nanosleep(%s)", name);
	expect_ret(clock_nanosleep(clk, 0, &ts, NULL), 0, what);
	if (now_ns(clk) - t0 < 20000000LL) {
		fprintf(stderr, "FAIL: %s ended early\n", what);
		exit(1);
	}
	clock_gettime(clk, &abs);
	abs.tv_nsec += 20000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	snprintf(what, sizeof what, "clock_nanosleep(%s, ABSTIME)", name);
	expect_ret(clock_nanosleep(clk, TIMER_ABSTIME, &abs, NULL), 0, what);
	if (now_ns(clk) < ns_of(abs)) {
		fprintf(stderr, "FAIL: %s ended early\n", what);
		exit(1);
	}
}

static int burning;

static void *burner(void *arg)
{
	long long t0 = now_ns(CLOCK_MONOTONIC);
	volatile unsigned long x = 0;

	/* Burn CPU until told to stop, at most 5 s. */
	while (__atomic_load_n(&burning, __ATOMIC_SEQ_CST) &&
	       now_ns(CLOCK_MONOTONIC) - t0 < 5000000000LL)
		for (int i = 0; i < 10000; i++)
			x += i;
	return NULL;
}

static void test_clocks(void)
{
	struct timespec ts = { 0, 30000000L };
	pthread_t t;
	long long cpu0;

	sleep_on(CLOCK_BOOTTIME, "BOOTTIME");
	sleep_on(CLOCK_TAI, "TAI");

	/* The process CPU clock only advances while something runs. */
	burning = 1;
	if (pthread_create(&t, NULL, burner, NULL))
		fail("pthread_create");
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	errno = 0;
	expect_ret(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &ts, NULL), 0,
		   "clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID)");
	if (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 < 30000000LL)
		fail("CPU-time sleep ended before 30 ms of CPU were used");
	__atomic_store_n(&burning, 0, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	printf("BOOTTIME, TAI, PROCESS_CPUTIME sleeps: ok\n");
}

static void test_select_remaining(void)
{
	struct timeval tv = { 0, 30000 };
	long long t0 = now_ns(CLOCK_MONOTONIC);

	expect_errno(select(0, NULL, NULL, NULL, &tv), 0, "select 30 ms");
	if (now_ns(CLOCK_MONOTONIC) - t0 < 30000000LL)
		fail("select ended early");
	if (tv.tv_sec != 0 || tv.tv_usec != 0)
		fail("select did not write back a zero timeval after timing out");
	printf("select timeval write-back: ok\n");
}

/* --- interrupted by SIGALRM ------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

static void handler(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		fail("sigaction");
}

/* SIGALRM in 100 ms. */
static void arm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };

	if (setitimer(ITIMER_REAL, &it, NULL))
		fail("setitimer");
}

/* The remaining time of a 1 s sleep cut at ~100 ms. */
static void plausible(long long rem_ns, const char *what)
{
	if (rem_ns <= 500000000LL || rem_ns >= 950000000LL) {
		fprintf(stderr, "FAIL: %s reported %lld us remaining of 1 s "
			"after ~100 ms\n", what, rem_ns / 1000);
		exit(1);
	}
}

static void interrupted(int flags, const char *label)
{
	struct timespec ts = { 1, 0 }, rem;
	struct timeval tv;
	int before, rc;

	handler(flags);

	before = alarms;
	arm();
	expect_errno(nanosleep(&ts, &rem), EINTR, "nanosleep interrupted");
	plausible(ns_of(rem), "nanosleep");
	if (alarms != before + 1)
		fail("the handler did not run");

	arm();
	errno = 0;
	rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
	expect_ret(rc, EINTR, "clock_nanosleep interrupted");
	plausible(ns_of(rem), "clock_nanosleep");

	/* An absolute sleep has no remaining time: rem is left alone. */
	struct timespec abs;
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 1;
	rem = (struct timespec){ 77, 77 };
	arm();
	rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, &rem);
	expect_ret(rc, EINTR, "clock_nanosleep ABSTIME interrupted");
	if (rem.tv_sec != 77 || rem.tv_nsec != 77)
		fail("clock_nanosleep ABSTIME wrote its rem argument");

	arm();
	expect_errno(usleep(1000000), EINTR, "usleep interrupted");

	arm();
	expect_errno(poll(NULL, 0, 1000), EINTR, "poll(NULL, 0) interrupted");

	tv = (struct timeval){ 1, 0 };
	arm();
	expect_errno(select(0, NULL, NULL, NULL, &tv), EINTR, "select interrupted");
	plausible(tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL,
		  "select's timeval");

	/* 1.9 s left of 2 s: glibc returns the whole seconds left. */
	arm();
	unsigned left = sleep(2);
	if (left != 1) {
		fprintf(stderr, "FAIL: sleep(2) interrupted returned %u, want 1\n",
			left);
		exit(1);
	}
	if (alarms != before + 7)
		fail("handler count");
	printf("interrupted (%s): EINTR and remaining times ok\n", label);
}

int main(void)
{
	test_invalid();
	test_zero();
	test_clocks();
	test_select_remaining();
	interrupted(0, "no SA_RESTART");
	interrupted(SA_RESTART, "SA_RESTART");
	return 0;
}
