/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Waiting for signals parks only the waiting thread, and signal masks are per
 * thread: sigwait / sigwaitinfo / sigtimedwait on a blocked SIGUSR1 sent with
 * pthread_kill (or kill to the process), sigtimedwait timing out with EAGAIN
 * (not early), sigsuspend and pause woken by a handled signal sent with
 * pthread_kill, and a thread with SIGUSR2 blocked keeping it pending while a
 * thread with it unblocked runs the handler. A ticker thread checks that
 * nobody stalls the others.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"


/* Wait (bounded) until *flag is set; returns whether it was. */
static int wait_flag(atomic_int *flag, double secs)
{
	double end = now() + secs;

	while (!atomic_load(flag) && now() < end)
		usleep(1000);
	return atomic_load(flag);
}

static sigset_t usr1_set;

#define SENT_BY_US(si) (((si)->si_code == SI_USER || (si)->si_code == SI_TKILL) \
			&& (si)->si_pid == getpid() && (si)->si_uid == getuid())

/* ---- sigwait, sigwaitinfo, sigtimedwait ---- */

static atomic_int waiting;
static int got_sig;
static siginfo_t got_info;
static double got_after;

static void *sigwait_thread(void *arg)
{
	double t;

	(void)arg;
	atomic_store(&waiting, 1);
	t = now();
	if (sigwait(&usr1_set, &got_sig) != 0)
		got_sig = -1;
	got_after = now() - t;
	return NULL;
}

static void *sigwaitinfo_thread(void *arg)
{
	(void)arg;
	atomic_store(&waiting, 1);
	memset(&got_info, 0, sizeof got_info);
	got_sig = sigwaitinfo(&usr1_set, &got_info);
	return NULL;
}

static void *sigtimedwait_thread(void *arg)
{
	struct timespec ts = { 5, 0 };
	double t;

	(void)arg;
	atomic_store(&waiting, 1);
	t = now();
	memset(&got_info, 0, sizeof got_info);
	got_sig = sigtimedwait(&usr1_set, &got_info, &ts);
	got_after = now() - t;
	return NULL;
}

static void test_sigwait_family(void)
{
	struct timespec ts = { 0, 200000000 };
	pthread_t th;
	int t0;
	double t;

	/* sigwait: woken by pthread_kill to the waiting thread. */
	atomic_store(&waiting, 0);
	CHECK(pthread_create(&th, NULL, sigwait_thread, NULL) == 0, "create");
	CHECK(wait_flag(&waiting, 5), "sigwait thread did not start");
	t0 = atomic_load(&ticks);
	usleep(200000);
	CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
	pthread_join(th, NULL);
	CHECK(got_sig == SIGUSR1, "sigwait did not return SIGUSR1");
	CHECK(got_after >= 0.15, "sigwait returned before the signal");
	CHECK(atomic_load(&ticks) - t0 >= 10, "ticker stalled during sigwait");
	printf("sigwait woken by pthread_kill: ok\n");

	/* sigwaitinfo: woken by pthread_kill, siginfo says who sent it. */
	atomic_store(&waiting, 0);
	CHECK(pthread_create(&th, NULL, sigwaitinfo_thread, NULL) == 0,
	      "create");
	CHECK(wait_flag(&waiting, 5), "sigwaitinfo thread did not start");
	usleep(100000);
	CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
	pthread_join(th, NULL);
	CHECK(got_sig == SIGUSR1 && got_info.si_signo == SIGUSR1,
	      "sigwaitinfo did not return SIGUSR1");
	/* tgkill reports SI_TKILL on older kernels, SI_USER on newer ones. */
	CHECK(SENT_BY_US(&got_info),
	      "sigwaitinfo: siginfo not that of a pthread_kill from us");

	/* sigwaitinfo: a signal sent to the whole process reaches the one
	 * thread waiting for it. */
	atomic_store(&waiting, 0);
	CHECK(pthread_create(&th, NULL, sigwaitinfo_thread, NULL) == 0,
	      "create");
	CHECK(wait_flag(&waiting, 5), "sigwaitinfo thread did not start");
	usleep(100000);
	CHECK(kill(getpid(), SIGUSR1) == 0, "kill");
	pthread_join(th, NULL);
	CHECK(got_sig == SIGUSR1 && SENT_BY_US(&got_info),
	      "sigwaitinfo: process-directed SIGUSR1 not seen");
	printf("sigwaitinfo woken by pthread_kill and kill: ok\n");

	/* sigtimedwait: times out with EAGAIN, never early. */
	t0 = atomic_load(&ticks);
	t = now();
	errno = 0;
	CHECK(sigtimedwait(&usr1_set, NULL, &ts) == -1 && errno == EAGAIN,
	      "sigtimedwait without a signal: not EAGAIN");
	t = now() - t;
	fprintf(stderr, "sigtimedwait timed out after %.4f s\n", t);
	CHECK(t >= 0.2, "sigtimedwait timed out early");
	CHECK(t < 2, "sigtimedwait timed out far too late");
	CHECK(atomic_load(&ticks) - t0 >= 10,
	      "ticker stalled during sigtimedwait");

	/* sigtimedwait: a signal before the timeout ends it at once. */
	atomic_store(&waiting, 0);
	CHECK(pthread_create(&th, NULL, sigtimedwait_thread, NULL) == 0,
	      "create");
	CHECK(wait_flag(&waiting, 5), "sigtimedwait thread did not start");
	usleep(100000);
	CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
	pthread_join(th, NULL);
	CHECK(got_sig == SIGUSR1 && SENT_BY_US(&got_info),
	      "sigtimedwait did not return the SIGUSR1");
	CHECK(got_after < 2, "sigtimedwait waited for its timeout");
	printf("sigtimedwait: EAGAIN on timeout, signal ends it early: ok\n");
}

/* ---- sigsuspend and pause with a handler ---- */

static atomic_int usr1_handled;
static pthread_t usr1_target;
static atomic_int usr1_in_target;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr1_handled, 1);
	if (pthread_equal(pthread_self(), usr1_target))
		atomic_fetch_add(&usr1_in_target, 1);
}

static atomic_int woke;
static int wake_errno;

static void *sigsuspend_thread(void *arg)
{
	sigset_t mask;

	(void)arg;
	atomic_store(&waiting, 1);
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGUSR1);
	errno = 0;
	if (sigsuspend(&mask) == -1)
		wake_errno = errno;
	atomic_store(&woke, 1);
	return NULL;
}

static void *pause_thread(void *arg)
{
	(void)arg;
	pthread_sigmask(SIG_UNBLOCK, &usr1_set, NULL);
	atomic_store(&waiting, 1);
	errno = 0;
	if (pause() == -1)
		wake_errno = errno;
	atomic_store(&woke, 1);
	return NULL;
}

static void test_suspend_pause(void)
{
	struct sigaction sa;
	pthread_t th;
	int tries;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");

	/* sigsuspend: SIGUSR1 stays blocked until sigsuspend unblocks it, so
	 * one signal is enough whenever it is sent. */
	atomic_store(&waiting, 0);
	atomic_store(&woke, 0);
	atomic_store(&usr1_handled, 0);
	atomic_store(&usr1_in_target, 0);
	wake_errno = 0;
	CHECK(pthread_create(&th, NULL, sigsuspend_thread, NULL) == 0,
	      "create");
	usr1_target = th;
	CHECK(wait_flag(&waiting, 5), "sigsuspend thread did not start");
	usleep(100000);
	CHECK(!atomic_load(&woke), "sigsuspend returned without a signal");
	CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
	CHECK(wait_flag(&woke, 5), "sigsuspend not woken by the signal");
	pthread_join(th, NULL);
	CHECK(wake_errno == EINTR, "sigsuspend did not return EINTR");
	CHECK(atomic_load(&usr1_handled) == 1 &&
	      atomic_load(&usr1_in_target) == 1,
	      "handler did not run once, in the sigsuspend thread");
	printf("sigsuspend woken by a handled signal: ok\n");

	/* pause: the signal may come before pause() is reached; resend
	 * until the thread wakes (bounded). */
	atomic_store(&waiting, 0);
	atomic_store(&woke, 0);
	atomic_store(&usr1_handled, 0);
	atomic_store(&usr1_in_target, 0);
	wake_errno = 0;
	CHECK(pthread_create(&th, NULL, pause_thread, NULL) == 0, "create");
	usr1_target = th;
	CHECK(wait_flag(&waiting, 5), "pause thread did not start");
	usleep(100000);
	CHECK(!atomic_load(&woke), "pause returned without a signal");
	for (tries = 0; tries < 50 && !atomic_load(&woke); tries++) {
		CHECK(pthread_kill(th, SIGUSR1) == 0, "pthread_kill");
		wait_flag(&woke, 0.1);
	}
	CHECK(atomic_load(&woke), "pause not woken by the signal");
	pthread_join(th, NULL);
	CHECK(wake_errno == EINTR, "pause did not return EINTR");
	CHECK(atomic_load(&usr1_handled) >= 1 &&
	      atomic_load(&usr1_handled) == atomic_load(&usr1_in_target),
	      "handler for pthread_kill ran outside the pause thread");
	printf("pause woken by a handled signal: ok\n");
}

/* ---- per-thread masks ---- */

static pthread_t th_blocked, th_open;
static atomic_int usr2_blocked, usr2_open, usr2_other;
static atomic_int ready_blocked, ready_open, phase;
static int blocked_result = -1, open_result = -1;

static void on_usr2(int sig)
{
	pthread_t self = pthread_self();

	(void)sig;
	if (pthread_equal(self, th_blocked))
		atomic_fetch_add(&usr2_blocked, 1);
	else if (pthread_equal(self, th_open))
		atomic_fetch_add(&usr2_open, 1);
	else
		atomic_fetch_add(&usr2_other, 1);
}

static void *usr2_blocked_thread(void *arg)
{
	sigset_t set, pend;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	atomic_store(&ready_blocked, 1);
	for (int i = 0; i < 10000 && !atomic_load(&phase); i++)
		usleep(1000);
	/* The signal waits, pending on this thread. */
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR2) || atomic_load(&usr2_blocked) != 0) {
		blocked_result = 1;
		return NULL;
	}
	/* Unblocking delivers it before pthread_sigmask returns. */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	blocked_result = atomic_load(&usr2_blocked) == 1 ? 0 : 2;
	return NULL;
}

static void *usr2_open_thread(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	atomic_store(&ready_open, 1);
	/* usleep is interrupted by the handler (EINTR): keep polling. */
	for (int i = 0; i < 10000 && !atomic_load(&usr2_open); i++)
		usleep(1000);
	open_result = atomic_load(&usr2_open) == 1 ? 0 : 1;
	return NULL;
}

static void test_thread_masks(void)
{
	struct sigaction sa;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "pthread_sigmask");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction SIGUSR2");

	/* Both threads start with SIGUSR2 blocked (inherited mask). */
	CHECK(pthread_create(&th_blocked, NULL, usr2_blocked_thread, NULL) == 0,
	      "create");
	CHECK(pthread_create(&th_open, NULL, usr2_open_thread, NULL) == 0,
	      "create");
	CHECK(wait_flag(&ready_blocked, 5) && wait_flag(&ready_open, 5),
	      "mask threads did not start");
	CHECK(pthread_kill(th_blocked, SIGUSR2) == 0, "pthread_kill");
	CHECK(pthread_kill(th_open, SIGUSR2) == 0, "pthread_kill");
	CHECK(wait_flag(&usr2_open, 5), "unblocked thread never ran handler");
	usleep(100000);
	CHECK(atomic_load(&usr2_blocked) == 0,
	      "handler ran in the thread that blocks SIGUSR2");
	atomic_store(&phase, 1);
	pthread_join(th_blocked, NULL);
	pthread_join(th_open, NULL);
	CHECK(blocked_result != 1,
	      "blocked thread: SIGUSR2 not pending, or handled early");
	CHECK(blocked_result == 0,
	      "blocked thread: unblocking did not run the handler at once");
	CHECK(open_result == 0, "unblocked thread: handler count wrong");
	CHECK(atomic_load(&usr2_other) == 0,
	      "SIGUSR2 handler ran in a thread it was not sent to");
	printf("pthread_sigmask per thread with pthread_kill: ok\n");
}

int main(void)
{
	pthread_t tick;
	sigset_t all;

	/* Every thread, the ticker included, starts with SIGUSR1 blocked. */
	sigemptyset(&usr1_set);
	sigaddset(&usr1_set, SIGUSR1);
	CHECK(pthread_sigmask(SIG_BLOCK, &usr1_set, NULL) == 0,
	      "pthread_sigmask");
	/* The ticker blocks SIGUSR2 as well. */
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0, "pthread_sigmask");
	CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0, "create");
	CHECK(pthread_sigmask(SIG_UNBLOCK, &all, NULL) == 0 &&
	      pthread_sigmask(SIG_BLOCK, &usr1_set, NULL) == 0,
	      "pthread_sigmask");
	usleep(30000);

	test_sigwait_family();
	test_suspend_pause();
	test_thread_masks();

	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	return 0;
}
