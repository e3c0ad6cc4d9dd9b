/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * The alarm() timeout idiom of old daemons. A SIGALRM handler without
 * SA_RESTART interrupts a read() on an empty pipe with EINTR after ~1 s; with
 * SA_RESTART the read restarts and returns the byte another thread writes at
 * ~1.5 s; setitimer interrupts a recv() on a socket the same way. A ticker
 * thread keeps ticking throughout. The other threads block SIGALRM, so the
 * kernel (and the shim) must deliver it to the reading thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static atomic_int ticks;
static atomic_int stop;
static volatile sig_atomic_t alarms;
static int pfd[2];

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void block_sigalrm(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fail("pthread_sigmask");
}

static void *ticker(void *arg)
{
	(void)arg;
	block_sigalrm();
	for (int i = 0; i < 6000 && !atomic_load(&stop); i++) {
		usleep(10000);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *late_writer(void *arg)
{
	(void)arg;
	block_sigalrm();
	usleep(1500000);
	if (write(pfd[1], "x", 1) != 1)
		fail("write to pipe");
	return NULL;
}

static void set_handler(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		fail("sigaction");
}

int main(void)
{
	pthread_t tick, writer;
	struct itimerval it;
	int sv[2], t0, t1;
	double start, dt;
	ssize_t n;
	char c;

	if (pipe(pfd) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		fail("pipe/socketpair");
	if (pthread_create(&tick, NULL, ticker, NULL) != 0)
		fail("pthread_create");
	usleep(30000);

	/* 1. No SA_RESTART: read() on an empty pipe ends with EINTR. */
	set_handler(0);
	t0 = atomic_load(&ticks);
	start = now();
	alarm(1);
	errno = 0;
	n = read(pfd[0], &c, 1);
	dt = now() - start;
	t1 = atomic_load(&ticks);
	fprintf(stderr, "no restart: read %zd after %.3f s, %d ticks\n", n, dt,
		t1 - t0);
	if (n != -1 || errno != EINTR)
		fail("read without SA_RESTART did not end with EINTR");
	if (dt < 0.8 || dt >= 3)
		fail("read interrupted at the wrong time");
	if (alarms != 1)
		fail("SIGALRM handler did not run exactly once");
	if (t1 - t0 < 40)
		fail("ticker stalled while read waited for the alarm");
	printf("alarm without SA_RESTART: read -> EINTR\n");

	/* 2. SA_RESTART: the read survives the alarm and gets the byte. */
	set_handler(SA_RESTART);
	if (pthread_create(&writer, NULL, late_writer, NULL) != 0)
		fail("pthread_create");
	t0 = atomic_load(&ticks);
	start = now();
	alarm(1);
	n = read(pfd[0], &c, 1);
	dt = now() - start;
	t1 = atomic_load(&ticks);
	fprintf(stderr, "restart: read %zd after %.3f s, %d ticks\n", n, dt,
		t1 - t0);
	if (n != 1 || c != 'x')
		fail("read with SA_RESTART did not return the byte");
	if (alarms != 2)
		fail("SIGALRM handler did not run during the restarted read");
	if (dt < 1.3 || dt >= 4)
		fail("restarted read returned at the wrong time");
	if (t1 - t0 < 60)
		fail("ticker stalled during the restarted read");
	pthread_join(writer, NULL);
	printf("alarm with SA_RESTART: read restarted, got the byte\n");

	/* 3. setitimer, no SA_RESTART: recv() on a socket ends with EINTR. */
	set_handler(0);
	memset(&it, 0, sizeof it);
	it.it_value.tv_usec = 300000;
	start = now();
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		fail("setitimer");
	errno = 0;
	n = recv(sv[0], &c, 1, 0);
	dt = now() - start;
	fprintf(stderr, "setitimer: recv %zd after %.3f s\n", n, dt);
	if (n != -1 || errno != EINTR)
		fail("recv interrupted by setitimer did not end with EINTR");
	if (dt < 0.25 || dt >= 2)
		fail("recv interrupted at the wrong time");
	if (alarms != 3)
		fail("SIGALRM handler did not run for setitimer");
	printf("setitimer without SA_RESTART: recv -> EINTR\n");

	t0 = atomic_load(&ticks);
	usleep(50000);
	if (atomic_load(&ticks) <= t0)
		fail("ticker stopped");
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	return 0;
}
