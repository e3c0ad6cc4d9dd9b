/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/* LIBS: -lev */
/*
 * A program that itself uses libev's DEFAULT loop: a child watcher, a signal
 * watcher (SIGUSR1), a repeating timer and an io watcher on a pipe, while a
 * second thread writes to the pipe and raises the signal. The loop runs to
 * completion and the child watcher sees the child's status. Under the shim
 * the program's loop and the shim's own loop must coexist.
 */
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define NMSG 5

static const char expected[] = "msg 0\nmsg 1\nmsg 2\nmsg 3\nmsg 4\n";

static int pfd[2];
static pid_t child;

static char got[128];
static size_t got_len;
static int io_done, sig_seen, child_seen, child_status = -1, timer_ticks;
static int timed_out;

static void maybe_done(struct ev_loop *loop)
{
	if (io_done && sig_seen && child_seen && timer_ticks >= 5)
		ev_break(loop, EVBREAK_ALL);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n = read(w->fd, got + got_len, sizeof got - 1 - got_len);

	if (n <= 0) {
		/* EOF: the writer closed its end. */
		ev_io_stop(loop, w);
		io_done = 1;
	} else {
		got_len += n;
		got[got_len] = 0;
	}
	maybe_done(loop);
}

static void sig_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	sig_seen++;
	maybe_done(loop);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	ev_child_stop(loop, w);
	if (w->rpid == child) {
		child_seen = 1;
		child_status = w->rstatus;
	}
	maybe_done(loop);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	timer_ticks++;
	maybe_done(loop);
}

static void safety_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	timed_out = 1;
	ev_break(loop, EVBREAK_ALL);
}

static void *writer(void *arg)
{
	char line[16];

	(void)arg;
	for (int i = 0; i < NMSG; i++) {
		usleep(50000);
		snprintf(line, sizeof line, "msg %d\n", i);
		if (write(pfd[1], line, strlen(line)) != (ssize_t)strlen(line))
			fail("write to pipe");
	}
	usleep(50000);
	raise(SIGUSR1);		/* runs libev's handler on this thread */
	usleep(50000);
	close(pfd[1]);
	return NULL;
}

int main(void)
{
	struct ev_loop *loop = EV_DEFAULT;
	ev_io iow;
	ev_signal sigw;
	ev_child cw;
	ev_timer tw, safety;
	pthread_t th;

	if (!loop)
		fail("ev_default_loop");
	fprintf(stderr, "libev %d.%d, backend %u\n", ev_version_major(),
		ev_version_minor(), ev_backend(loop));
	if (pipe(pfd) != 0)
		fail("pipe");

	ev_io_init(&iow, io_cb, pfd[0], EV_READ);
	ev_io_start(loop, &iow);
	ev_signal_init(&sigw, sig_cb, SIGUSR1);
	ev_signal_start(loop, &sigw);
	ev_timer_init(&tw, timer_cb, 0.05, 0.05);
	ev_timer_start(loop, &tw);
	ev_timer_init(&safety, safety_cb, 20., 0.);
	ev_timer_start(loop, &safety);

	child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		usleep(200000);
		_exit(7);
	}
	ev_child_init(&cw, child_cb, child, 0);
	ev_child_start(loop, &cw);

	if (pthread_create(&th, NULL, writer, NULL) != 0)
		fail("pthread_create");
	ev_run(loop, 0);
	pthread_join(th, NULL);

	fprintf(stderr, "timer ticks %d, signals %d\n", timer_ticks, sig_seen);
	if (timed_out)
		fprintf(stderr, "FAIL: loop did not finish: io %d sig %d "
			"child %d ticks %d\n", io_done, sig_seen, child_seen,
			timer_ticks);
	if (timed_out)
		return 1;
	if (strcmp(got, expected) != 0)
		fail("io watcher read the wrong bytes");
	if (sig_seen != 1)
		fail("signal watcher did not see SIGUSR1 exactly once");
	if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 7)
		fail("child watcher: wrong status");
	/* libev's child watcher reaped it. */
	errno = 0;
	if (waitpid(child, NULL, WNOHANG) != -1 || errno != ECHILD)
		fail("child not reaped by libev");
	printf("libev default loop: io %d messages, SIGUSR1 once, child exit 7, "
	       "timer ran\n", NMSG);
	return 0;
}
