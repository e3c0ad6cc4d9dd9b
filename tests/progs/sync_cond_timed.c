/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Condition variables with deadlines: pthread_cond_timedwait on the default
 * (REALTIME) clock and on a CLOCK_MONOTONIC condattr, pthread_cond_clockwait
 * on both clocks. A timeout is ETIMEDOUT, never early against the clock it
 * was given on, and returns with the mutex held. A wait signalled in time
 * returns 0 well before its deadline. Then signal versus broadcast: each
 * signal lets one token-taker through, a broadcast releases everyone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static pthread_mutex_t m;	/* errorcheck: unlock proves ownership */

/* The wait must return with M held by the caller. */
static void holds_mutex(const char *what)
{
	char buf[100];

	snprintf(buf, sizeof buf, "%s: mutex held on return", what);
	expect(pthread_mutex_unlock(&m), 0, buf);
}

enum how { TIMED, CLOCK_MONO, CLOCK_REAL };

/* Waits on C until DL (on CLK) with HOW; nobody signals. */
static void times_out(pthread_cond_t *c, enum how how, clockid_t clk,
		      long ms, const char *what)
{
	struct timespec dl = deadline(clk, ms);
	int rc;

	expect(pthread_mutex_lock(&m), 0, "lock");
	do {
		if (how == TIMED)
			rc = pthread_cond_timedwait(c, &m, &dl);
		else
			rc = pthread_cond_clockwait(c, &m, clk, &dl);
	} while (rc == 0);	/* spurious wake-ups are allowed */
	expect(rc, ETIMEDOUT, what);
	not_early(clk, dl, what);
	holds_mutex(what);
}

static void test_timeouts(void)
{
	pthread_cond_t plain = PTHREAD_COND_INITIALIZER, mono;
	pthread_condattr_t a;
	clockid_t clk;
	struct timespec dl;

	expect(pthread_condattr_init(&a), 0, "condattr_init");
	expect(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0, "condattr_setclock");
	expect(pthread_condattr_getclock(&a, &clk), 0, "condattr_getclock");
	if (clk != CLOCK_MONOTONIC)
		fail("condattr_getclock value");
	expect(pthread_condattr_setclock(&a, CLOCK_PROCESS_CPUTIME_ID), EINVAL,
	       "condattr_setclock(CPU clock)");
	expect(pthread_cond_init(&mono, &a), 0, "cond_init monotonic");
	pthread_condattr_destroy(&a);

	times_out(&plain, TIMED, CLOCK_REALTIME, 50, "timedwait (REALTIME)");
	times_out(&mono, TIMED, CLOCK_MONOTONIC, 50, "timedwait (MONOTONIC attr)");
	times_out(&plain, CLOCK_MONO, CLOCK_MONOTONIC, 50, "clockwait(MONOTONIC)");
	times_out(&plain, CLOCK_REAL, CLOCK_REALTIME, 50, "clockwait(REALTIME)");
	times_out(&mono, CLOCK_REAL, CLOCK_REALTIME, 50,
		  "clockwait(REALTIME) on a MONOTONIC cond");
	times_out(&plain, TIMED, CLOCK_REALTIME, -5, "timedwait in the past");
	times_out(&mono, TIMED, CLOCK_MONOTONIC, -5, "timedwait in the past (MONOTONIC)");
	printf("timeouts: ok\n");

	expect(pthread_mutex_lock(&m), 0, "lock");
	dl = deadline(CLOCK_REALTIME, 10);
	dl.tv_nsec = 1000000000L;
	expect(pthread_cond_timedwait(&plain, &m, &dl), EINVAL,
	       "timedwait bad tv_nsec");
	dl = deadline(CLOCK_MONOTONIC, 10);
	expect(pthread_cond_clockwait(&plain, &m, CLOCK_PROCESS_CPUTIME_ID, &dl),
	       EINVAL, "clockwait bad clock");
	holds_mutex("after EINVAL");
	printf("invalid arguments: ok\n");
	pthread_cond_destroy(&mono);
}

/* --- a signal before the deadline ends the wait with 0 ----------------- */

static pthread_cond_t c_sig;
static int flag;

static void *signaller(void *arg)
{
	usleep(30000);
	pthread_mutex_lock(&m);
	flag = 1;
	pthread_cond_signal(&c_sig);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void test_signalled(clockid_t clk)
{
	pthread_condattr_t a;
	pthread_t t;
	struct timespec dl;
	long long t0 = now_ns(CLOCK_MONOTONIC);
	int rc = 0;

	pthread_condattr_init(&a);
	expect(pthread_condattr_setclock(&a, clk), 0, "condattr_setclock");
	expect(pthread_cond_init(&c_sig, &a), 0, "cond_init");
	pthread_condattr_destroy(&a);
	flag = 0;
	expect(pthread_mutex_lock(&m), 0, "lock");
	if (pthread_create(&t, NULL, signaller, NULL))
		fail("pthread_create");
	dl = deadline(clk, 5000);
	while (!flag && rc == 0)
		rc = pthread_cond_timedwait(&c_sig, &m, &dl);
	expect(rc, 0, "timedwait signalled in time");
	holds_mutex("signalled timedwait");
	pthread_join(t, NULL);
	if (now_ns(CLOCK_MONOTONIC) - t0 > 2500 * 1000000LL)
		fail("signalled timedwait waited for its deadline");
	pthread_cond_destroy(&c_sig);
}

/* --- signal versus broadcast -------------------------------------------- */

#define WAITERS 10

static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static pthread_cond_t c_main = PTHREAD_COND_INITIALIZER;
static int waiting, tokens, released, passed;
static long wakeups;

static void *token_taker(void *arg)
{
	pthread_mutex_lock(&m);
	waiting++;
	pthread_cond_signal(&c_main);
	while (tokens == 0 && !released) {
		pthread_cond_wait(&c, &m);
		wakeups++;
	}
	if (tokens > 0)
		tokens--;
	passed++;
	pthread_cond_signal(&c_main);
	pthread_mutex_unlock(&m);
	return NULL;
}

/* Waits (M held) until passed == N, at most 5 s. */
static void wait_passed(int n, const char *what)
{
	struct timespec dl = deadline(CLOCK_REALTIME, 5000);

	while (passed < n)
		if (pthread_cond_timedwait(&c_main, &m, &dl) == ETIMEDOUT)
			fail(what);
}

static void test_signal_broadcast(void)
{
	pthread_t t[WAITERS];
	struct timespec dl;

	for (int i = 0; i < WAITERS; i++)
		if (pthread_create(&t[i], NULL, token_taker, NULL))
			fail("pthread_create");
	pthread_mutex_lock(&m);
	dl = deadline(CLOCK_REALTIME, 5000);
	while (waiting < WAITERS)
		if (pthread_cond_timedwait(&c_main, &m, &dl) == ETIMEDOUT)
			fail("waiters never arrived");
	/* Three signals, three tokens: three pass, seven stay. */
	for (int i = 0; i < 3; i++) {
		tokens++;
		pthread_cond_signal(&c);
	}
	wait_passed(3, "signals did not let 3 waiters through");
	pthread_mutex_unlock(&m);
	usleep(50000);
	pthread_mutex_lock(&m);
	if (passed != 3 || tokens != 0)
		fail("signal count");
	printf("signal x3: 3 of %d passed\n", WAITERS);
	released = 1;
	pthread_cond_broadcast(&c);
	wait_passed(WAITERS, "broadcast did not release everyone");
	pthread_mutex_unlock(&m);
	for (int i = 0; i < WAITERS; i++)
		pthread_join(t[i], NULL);
	printf("broadcast: %d of %d passed\n", passed, WAITERS);
	fprintf(stderr, "wake-ups seen by waiters: %ld\n", wakeups);
}

int main(void)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	expect(pthread_mutex_init(&m, &ma), 0, "mutex_init");
	pthread_mutexattr_destroy(&ma);

	test_timeouts();
	test_signalled(CLOCK_REALTIME);
	test_signalled(CLOCK_MONOTONIC);
	printf("signalled before deadline: ok\n");
	test_signal_broadcast();
	return 0;
}
