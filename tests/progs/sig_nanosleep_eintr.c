/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A handled signal interrupts sleeps and waits the way Linux does:
 * nanosleep / clock_nanosleep / usleep / sleep end early with the remaining
 * time (never restarted, SA_RESTART or not); poll, select and epoll_wait end
 * with EINTR even under SA_RESTART; recv/read on a socket restart under
 * SA_RESTART unless SO_RCVTIMEO is set, in which case they end with EINTR.
 * Signals come from pthread_kill by another thread or from setitimer. Only
 * the main thread has the signals unblocked, so it is the one interrupted.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"

static pthread_t main_th;
static volatile sig_atomic_t handled;

static double ts_sec(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

static void on_sig(int sig)
{
	(void)sig;
	handled++;
}

static void set_handler(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

/* Threads are created with SIGUSR1 and SIGALRM blocked. */
static void spawn(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	CHECK(pthread_create(th, NULL, fn, arg) == 0, "pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A thread that sends SIGUSR1 to the main thread after ms milliseconds. */
static void *kicker(void *arg)
{
	usleep((long)arg * 1000);
	pthread_kill(main_th, SIGUSR1);
	return NULL;
}

static pthread_t kick_th;

static void kick(long ms)
{
	spawn(&kick_th, kicker, (void *)ms);
}

static void kicked(void)
{
	pthread_join(kick_th, NULL);
}

static void alarm_in(long ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof it);
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = ms % 1000 * 1000;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
}

/* rem must be what was asked minus what passed, within 100 ms. */
static void check_rem(const char *what, double asked, double dt, double rem)
{
	fprintf(stderr, "%s: interrupted after %.3f s, rem %.3f s\n", what, dt,
		rem);
	if (dt > asked - 0.3 || rem <= 0 || rem > asked ||
	    rem < asked - dt - 0.1 || rem > asked - dt + 0.1) {
		fprintf(stderr, "FAIL: %s: remaining time %.3f s implausible "
			"after %.3f s of %.3f s\n", what, rem, dt, asked);
		exit(1);
	}
}

static void test_sleeps(void)
{
	struct timespec req, rem, abs;
	double t, dt;
	int r, h;

	for (int restart = 0; restart <= 1; restart++) {
		set_handler(SIGUSR1, restart ? SA_RESTART : 0);
		h = handled;
		req = (struct timespec){ 2, 0 };
		memset(&rem, 0, sizeof rem);
		kick(300);
		t = now();
		errno = 0;
		r = nanosleep(&req, &rem);
		dt = now() - t;
		kicked();
		CHECK(r == -1 && errno == EINTR, "nanosleep not EINTR");
		CHECK(handled == h + 1, "handler did not run for nanosleep");
		check_rem(restart ? "nanosleep SA_RESTART" : "nanosleep", 2,
			  dt, ts_sec(&rem));
	}
	printf("nanosleep interrupted by pthread_kill: EINTR, rem ok\n");

	/* setitimer + SIGALRM, no SA_RESTART. */
	set_handler(SIGALRM, 0);
	h = handled;
	req = (struct timespec){ 1, 0 };
	alarm_in(200);
	t = now();
	errno = 0;
	r = nanosleep(&req, &rem);
	dt = now() - t;
	CHECK(r == -1 && errno == EINTR, "nanosleep (setitimer) not EINTR");
	CHECK(handled == h + 1, "handler did not run for setitimer");
	check_rem("nanosleep setitimer", 1, dt, ts_sec(&rem));
	printf("nanosleep interrupted by setitimer: EINTR, rem ok\n");

	/* clock_nanosleep returns the error, it does not set errno. */
	set_handler(SIGUSR1, SA_RESTART);
	req = (struct timespec){ 2, 0 };
	kick(300);
	t = now();
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	dt = now() - t;
	kicked();
	CHECK(r == EINTR, "clock_nanosleep relative: not EINTR");
	check_rem("clock_nanosleep", 2, dt, ts_sec(&rem));

	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 2;
	rem = (struct timespec){ 12345, 0 };
	kick(300);
	t = now();
	r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, &rem);
	dt = now() - t;
	kicked();
	CHECK(r == EINTR, "clock_nanosleep TIMER_ABSTIME: not EINTR");
	CHECK(dt < 1.5, "clock_nanosleep TIMER_ABSTIME: not interrupted");
	CHECK(rem.tv_sec == 12345, "clock_nanosleep TIMER_ABSTIME wrote rem");
	printf("clock_nanosleep relative and absolute: EINTR\n");

	kick(200);
	t = now();
	errno = 0;
	r = usleep(2000000);
	dt = now() - t;
	kicked();
	CHECK(r == -1 && errno == EINTR && dt < 1.5, "usleep: not EINTR");

	kick(300);
	r = sleep(3);
	kicked();
	fprintf(stderr, "sleep(3) interrupted: returned %d\n", r);
	CHECK(r == 2 || r == 3, "sleep: wrong unslept seconds");
	printf("usleep and sleep interrupted: ok\n");
}

static void test_polls(void)
{
	struct epoll_event ev;
	struct pollfd pfd;
	struct timeval tv;
	fd_set rd;
	double t, dt;
	int p[2], ep, r;

	CHECK(pipe(p) == 0, "pipe");
	set_handler(SIGUSR1, SA_RESTART);	/* Linux still won't restart */

	pfd.fd = p[0];
	pfd.events = POLLIN;
	kick(200);
	t = now();
	errno = 0;
	r = poll(&pfd, 1, 5000);
	dt = now() - t;
	kicked();
	CHECK(r == -1 && errno == EINTR, "poll under SA_RESTART: not EINTR");
	CHECK(dt < 2.5, "poll waited past the signal");

	kick(200);
	errno = 0;
	r = poll(NULL, 0, 5000);	/* the sleep idiom */
	kicked();
	CHECK(r == -1 && errno == EINTR, "poll(no fds) sleep: not EINTR");

	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv = (struct timeval){ 5, 0 };
	kick(200);
	t = now();
	errno = 0;
	r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	dt = now() - t;
	kicked();
	CHECK(r == -1 && errno == EINTR, "select under SA_RESTART: not EINTR");
	CHECK(dt < 2.5, "select waited past the signal");

	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.fd = p[0];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl");
	kick(200);
	t = now();
	errno = 0;
	r = epoll_wait(ep, &ev, 1, 5000);
	dt = now() - t;
	kicked();
	CHECK(r == -1 && errno == EINTR,
	      "epoll_wait under SA_RESTART: not EINTR");
	CHECK(dt < 2.5, "epoll_wait waited past the signal");
	close(ep);
	close(p[0]);
	close(p[1]);
	printf("poll, select, epoll_wait under SA_RESTART: EINTR\n");
}

static int late_fd;

static void *late_writer(void *arg)
{
	usleep((long)arg * 1000);
	if (write(late_fd, "y", 1) != 1)
		fail("late write");
	return NULL;
}

static void test_sockets(void)
{
	struct timeval tmo = { 5, 0 };
	pthread_t wr;
	double t, dt;
	int sv[2], h;
	ssize_t n;
	char c;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	set_handler(SIGUSR1, SA_RESTART);

	/* No timeout on the socket: recv is restarted and gets the byte. */
	late_fd = sv[1];
	h = handled;
	kick(200);
	spawn(&wr, late_writer, (void *)600L);
	t = now();
	n = recv(sv[0], &c, 1, 0);
	dt = now() - t;
	kicked();
	pthread_join(wr, NULL);
	fprintf(stderr, "recv restarted: %zd after %.3f s\n", n, dt);
	CHECK(n == 1 && c == 'y', "recv under SA_RESTART was not restarted");
	CHECK(handled == h + 1 && dt >= 0.5, "recv: signal did not arrive first");

	/* Same with read(). */
	h = handled;
	kick(200);
	spawn(&wr, late_writer, (void *)600L);
	n = read(sv[0], &c, 1);
	kicked();
	pthread_join(wr, NULL);
	CHECK(n == 1 && c == 'y' && handled == h + 1,
	      "read on a socket under SA_RESTART was not restarted");
	printf("recv and read without SO_RCVTIMEO: restarted under SA_RESTART\n");

	/* SO_RCVTIMEO set: Linux returns EINTR even under SA_RESTART. */
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo) == 0,
	      "setsockopt SO_RCVTIMEO");
	kick(200);
	t = now();
	errno = 0;
	n = recv(sv[0], &c, 1, 0);
	dt = now() - t;
	kicked();
	fprintf(stderr, "recv with SO_RCVTIMEO: %zd (%s) after %.3f s\n", n,
		strerror(errno), dt);
	CHECK(n == -1 && errno == EINTR,
	      "recv with SO_RCVTIMEO under SA_RESTART: not EINTR");
	CHECK(dt < 2.5, "recv with SO_RCVTIMEO: waited past the signal");

	kick(200);
	t = now();
	errno = 0;
	n = read(sv[0], &c, 1);
	dt = now() - t;
	kicked();
	CHECK(n == -1 && errno == EINTR,
	      "read with SO_RCVTIMEO under SA_RESTART: not EINTR");
	CHECK(dt < 2.5, "read with SO_RCVTIMEO: waited past the signal");
	close(sv[0]);
	close(sv[1]);
	printf("recv and read with SO_RCVTIMEO: EINTR under SA_RESTART\n");
}

int main(void)
{
	pthread_t tick;
	int t0;

	main_th = pthread_self();
	spawn(&tick, ticker, NULL);
	usleep(20000);
	t0 = atomic_load(&ticks);

	test_sleeps();
	test_polls();
	test_sockets();

	fprintf(stderr, "ticks %d\n", atomic_load(&ticks) - t0);
	CHECK(atomic_load(&ticks) - t0 >= 100, "ticker stalled");
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	return 0;
}
