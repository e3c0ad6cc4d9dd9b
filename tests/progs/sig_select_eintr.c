/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * select() interrupted by a signal leaves the caller's fd sets as they
 * were (the kernel does not touch them on an error) and reports in the
 * timeval the time not slept, so that a caller may retry with the same
 * sets, as CPython's select.select() does after a signal (PEP 475).  The
 * handler writes to a pipe that is in the read set: the retry must see it
 * readable at once.  Under the shim the sets came back cleared, the retry
 * waited on nothing, and asyncio's SelectorEventLoop never saw its
 * signal (test_asyncio.test_events: test_signal_handling_args).  A second
 * thread is parked on a semaphore throughout, as CPython's faulthandler
 * watchdog is.  pselect() the same, five rounds each.  And a select()
 * that finds an fd ready at once leaves nearly the whole timeout in its
 * timeval (Linux reports the time not slept; the shim reported 0, so a
 * loop that passes the same timeval on timed out at its next call).
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int p[2], q[2];
static sem_t sem;

static void on_alarm(int sig)
{
	char c = (char)sig;

	if (write(p[1], &c, 1) != 1)
		_exit(3);
}

static void *watchdog(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	sem_timedwait(&sem, &ts);
	return arg;
}

static void arm(void)
{
	struct itimerval it = {{0, 0}, {0, 50000}};

	check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
}

static void round_of(int use_pselect)
{
	fd_set rs;
	int n = (p[0] > q[0] ? p[0] : q[0]) + 1, r, eintr = 0;
	double t0 = now();
	char c;

	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_SET(q[0], &rs); /* never ready: must still be set after EINTR */
	arm();
	for (;;) {
		if (use_pselect) {
			struct timespec ts = {5, 0};

			r = pselect(n, &rs, NULL, NULL, &ts, NULL);
		} else {
			struct timeval tv = {5, 0};

			r = select(n, &rs, NULL, NULL, &tv);
			if (r < 0 && tv.tv_sec < 4)
				fail("select: EINTR after 50 ms left less "
				     "than 4 s in the timeval");
		}
		if (r >= 0 || errno != EINTR)
			break;
		eintr++;
		check(FD_ISSET(p[0], &rs) && FD_ISSET(q[0], &rs),
		      "the fd sets after EINTR are the caller's");
	}
	check(r == 1, "the retry reports one fd ready");
	check(FD_ISSET(p[0], &rs) && !FD_ISSET(q[0], &rs),
	      "the pipe the handler wrote to is the one ready");
	check(eintr == 1, "exactly one EINTR");
	check(now() - t0 < 2.0, "the retry returned at once");
	check(read(p[0], &c, 1) == 1 && c == SIGALRM, "read the handler's byte");
}

static void ready_at_once(void)
{
	struct timeval tv = {5, 0};
	fd_set rs;
	char c = 'x';

	check(write(p[1], &c, 1) == 1, "write");
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	check(select(p[0] + 1, &rs, NULL, NULL, &tv) == 1, "select, ready");
	check(tv.tv_sec >= 4, "select ready at once: the time not slept is "
			      "nearly all of the timeout");
	check(read(p[0], &c, 1) == 1, "read");
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: select gives EINTR */
	check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
	check(pipe(p) == 0 && pipe(q) == 0, "pipe");
	sem_init(&sem, 0, 0);
	check(pthread_create(&t, NULL, watchdog, NULL) == 0, "create");
	for (int i = 0; i < 5; i++)
		round_of(0);
	for (int i = 0; i < 5; i++)
		round_of(1);
	ready_at_once();
	sem_post(&sem);
	check(pthread_join(t, NULL) == 0, "join");
	printf("select and pselect: EINTR keeps the sets, the retry sees "
	       "the handler's write (5 rounds each); a select ready at once "
	       "keeps its timeout\n");
	return 0;
}
