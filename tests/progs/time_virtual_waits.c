/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both threads=0 timeout=60 args="1" shim_args="100" shim_env="GREEN_CLOCK=virtual" */
/*
 * time_virtual_waits: one thread alone times out S seconds in each call
 * with a timeout that nobody ends: poll, select and epoll_wait on an empty
 * pipe, pthread_cond_timedwait, sem_timedwait, sigtimedwait and
 * pthread_mutex_timedlock.  Each returns its timeout result after at least
 * S s on CLOCK_MONOTONIC.  Natively S = 1; under GREEN_CLOCK=virtual S =
 * 100 and the whole run must take under 10 s of real time (a raw
 * clock_gettime).
 *
 * usage: time_virtual_waits S
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int s;
static double t0;

static double now(int raw)
{
	struct timespec t;

	if (raw)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	else
		clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *call, int r, int want)
{
	printf("%-24s %s, %s\n", call, r == want ? "timed out" : "WRONG RESULT",
	       now(0) - t0 >= s ? "after at least its timeout" : "EARLY");
	t0 = now(0);
}

static struct timespec in(int secs)
{
	struct timespec a;

	clock_gettime(CLOCK_REALTIME, &a);
	a.tv_sec += secs;
	return a;
}

int main(int argc, char **argv)
{
	int p[2], ep, r;
	double w0 = now(1);
	struct pollfd pf;
	struct timeval tv;
	struct epoll_event ev = { .events = EPOLLIN };
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec a, d;
	sem_t sem;
	sigset_t ss;
	fd_set rs;

	s = argc > 1 ? atoi(argv[1]) : 1;
	if (pipe(p) != 0)
		return 1;
	t0 = now(0);
	pf = (struct pollfd){ p[0], POLLIN, 0 };
	report("poll", poll(&pf, 1, s * 1000), 0);
	tv = (struct timeval){ s, 0 };
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	report("select", select(p[0] + 1, &rs, NULL, NULL, &tv), 0);
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	report("epoll_wait", epoll_wait(ep, &ev, 1, s * 1000), 0);
	pthread_mutex_lock(&m);
	a = in(s);
	report("pthread_cond_timedwait", pthread_cond_timedwait(&c, &m, &a), ETIMEDOUT);
	sem_init(&sem, 0, 0);
	a = in(s);
	r = sem_timedwait(&sem, &a);
	report("sem_timedwait", r < 0 ? errno : 0, ETIMEDOUT);
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	d = (struct timespec){ s, 0 };
	r = sigtimedwait(&ss, NULL, &d);
	report("sigtimedwait", r < 0 ? errno : 0, EAGAIN);
	a = in(s);
	report("pthread_mutex_timedlock", pthread_mutex_timedlock(&m, &a), ETIMEDOUT);
	if (s >= 10 && now(1) - w0 > 10)
		printf("took %.1f s of real time\n", now(1) - w0);
	return 0;
}
