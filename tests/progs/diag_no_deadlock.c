/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Waits that look hopeless to a hub with nothing to run, but are not:
 * something outside the green threads' locks ends each of them.  The
 * shim must not call any of them a deadlock (diag_deadlock.sh runs this
 * with GREEN_DEADLOCK=abort, which would kill it).
 *  1. main waits on a semaphore that a SIGALRM handler posts (setitimer);
 *  2. main waits on a semaphore that a timer_create(SIGEV_THREAD) thread,
 *     made inside glibc, posts;
 *  3. main joins a thread waiting on a condition variable that another
 *     thread signals after sleeping (a timer is pending);
 *  4. a thread waits for a mutex held by a thread blocked in read() on a
 *     pipe, which a third thread writes after sleeping.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static sem_t sem;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int flag;
static int pfd[2];

static void on_alarm(int sig)
{
	(void)sig;
	sem_post(&sem);		/* async-signal-safe */
}

static void on_timer(union sigval v)
{
	(void)v;
	sem_post(&sem);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	while (!flag)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *cond_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	while (flag != 3)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *cond_signaller(void *arg)
{
	(void)arg;
	usleep(100000);
	pthread_mutex_lock(&m);
	flag = 3;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *reader_holding_lock(void *arg)
{
	char c;

	(void)arg;
	pthread_mutex_lock(&m);
	if (read(pfd[0], &c, 1) != 1 || c != 'x')
		fail("read from the pipe");
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *lock_waiter(void *arg)
{
	(void)arg;
	usleep(10000);		/* the reader holds the lock by now */
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	usleep(100000);
	if (write(pfd[1], "x", 1) != 1)
		fail("write to the pipe");
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	struct sigevent sev;
	struct itimerspec ts = { { 0, 0 }, { 0, 100000000 } };
	timer_t tm;
	pthread_t a, b, c;

	if (sem_init(&sem, 0, 0) != 0)
		fail("sem_init");
	/* A green thread that waits for the end: the hub has one to keep. */
	if (pthread_create(&c, NULL, idle_thread, NULL) != 0)
		fail("pthread_create idle");

	/* 1 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0 ||
	    setitimer(ITIMER_REAL, &it, NULL) != 0)
		fail("SIGALRM setup");
	while (sem_wait(&sem) != 0)
		;		/* EINTR from the handler: wait again */
	printf("1: semaphore posted by a signal handler\n");
	sa.sa_handler = SIG_DFL;	/* case 2 must not lean on a handler */
	sigaction(SIGALRM, &sa, NULL);

	/* 2 */
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_timer;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm) != 0 ||
	    timer_settime(tm, 0, &ts, NULL) != 0)
		fail("timer setup");
	while (sem_wait(&sem) != 0)
		;
	timer_delete(tm);
	printf("2: semaphore posted by a timer thread\n");

	/* 3 */
	if (pthread_create(&a, NULL, cond_waiter, NULL) != 0 ||
	    pthread_create(&b, NULL, cond_signaller, NULL) != 0 ||
	    pthread_join(a, NULL) != 0 || pthread_join(b, NULL) != 0)
		fail("case 3");
	printf("3: condition signalled after a sleep\n");

	/* 4 */
	if (pipe(pfd) != 0)
		fail("pipe");
	if (pthread_create(&a, NULL, reader_holding_lock, NULL) != 0 ||
	    pthread_create(&b, NULL, lock_waiter, NULL) != 0)
		fail("case 4 threads");
	{
		pthread_t w;

		if (pthread_create(&w, NULL, writer, NULL) != 0 ||
		    pthread_join(a, NULL) != 0 || pthread_join(b, NULL) != 0 ||
		    pthread_join(w, NULL) != 0)
			fail("case 4 joins");
	}
	printf("4: lock released after a read\n");

	pthread_mutex_lock(&m);
	flag = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	pthread_join(c, NULL);
	return 0;
}
