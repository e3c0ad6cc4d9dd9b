/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * stdio streams whose reads glibc makes internally must not stall the other
 * threads. Three streams, each read with fgets() by one thread while two
 * other threads play 2,000 rounds of ping-pong on a socketpair; the
 * ping-pong must finish before the line arrives:
 *  - stdin, made here from a pipe dup2()ed onto fd 0, fed by a child
 *    process after 2 s (two lines, then EOF);
 *  - a socket wrapped with fdopen(), fed by a child after 1 s;
 *  - popen("sleep 1; echo ...").
 * The feeders are processes, not threads, so that a stalled reader shows as
 * a late ping-pong rather than a deadlock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define ROUNDS 2000

struct reader {
	FILE *f;
	int nlines;		/* lines expected before EOF */
	char lines[2][128];
	double got_first;	/* when the first fgets returned */
	int eof_ok;
};

static int pp[2];
static double pingpong_done;

static void *read_lines(void *arg)
{
	struct reader *r = arg;
	char extra[128];
	int i;

	for (i = 0; i < r->nlines; i++) {
		if (!fgets(r->lines[i], sizeof r->lines[i], r->f))
			fail("fgets returned NULL before the expected lines");
		if (i == 0)
			r->got_first = now();
	}
	r->eof_ok = fgets(extra, sizeof extra, r->f) == NULL && feof(r->f);
	return NULL;
}

static void *ping(void *arg)
{
	char c = 'p';
	int i;

	(void)arg;
	usleep(200000);		/* the reader is parked in fgets by now */
	for (i = 0; i < ROUNDS; i++) {
		if (write(pp[0], &c, 1) != 1 || read(pp[0], &c, 1) != 1 || c != 'q')
			fail("ping");
		c = 'p';
	}
	pingpong_done = now();
	return NULL;
}

static void *pong(void *arg)
{
	char c;
	int i;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		if (read(pp[1], &c, 1) != 1 || c != 'p')
			fail("pong");
		c = 'q';
		if (write(pp[1], &c, 1) != 1)
			fail("pong write");
	}
	return NULL;
}

/* fgets on r->f in one thread while two threads ping-pong. */
static void race(struct reader *r, const char *what)
{
	pthread_t tr, t1, t2;

	pingpong_done = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pp) < 0)
		fail("socketpair");
	if (pthread_create(&tr, NULL, read_lines, r) != 0 ||
	    pthread_create(&t1, NULL, ping, NULL) != 0 ||
	    pthread_create(&t2, NULL, pong, NULL) != 0)
		fail("pthread_create");
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(tr, NULL);
	close(pp[0]);
	close(pp[1]);
	if (pingpong_done == 0 || r->got_first == 0)
		fail("a thread did not finish");
	if (pingpong_done >= r->got_first) {
		fprintf(stderr, "FAIL: %s: ping-pong finished %.3f s after the line "
			"arrived: the stream read held up the other threads\n",
			what, pingpong_done - r->got_first);
		exit(1);
	}
	if (!r->eof_ok)
		fail("no EOF after the expected lines");
	fprintf(stderr, "%s: ping-pong done %.3f s before the line\n", what,
		r->got_first - pingpong_done);
}

/* A child that writes its lines to fd after a delay, then exits. */
static pid_t feeder(int fd, double delay, const char *l1, const char *l2)
{
	char buf[128];
	pid_t pid = fork();

	if (pid < 0)
		fail("fork");
	if (pid > 0)
		return pid;
	usleep(delay * 1e6);
	snprintf(buf, sizeof buf, "%s %.6f\n", l1, now());
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		_exit(1);
	if (l2) {
		usleep(300000);
		snprintf(buf, sizeof buf, "%s\n", l2);
		if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
			_exit(1);
	}
	_exit(0);
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("feeder child failed");
}

static void check_stdin(void)
{
	struct reader r = { .f = stdin, .nlines = 2 };
	double sent;
	int p[2];
	pid_t pid;

	if (pipe(p) < 0 || dup2(p[0], 0) != 0)
		fail("pipe onto fd 0");
	close(p[0]);
	pid = feeder(p[1], 2.0, "first line sent at", "second line");
	close(p[1]);
	race(&r, "stdin");
	reap(pid);
	if (sscanf(r.lines[0], "first line sent at %lf", &sent) != 1)
		fail("stdin first line garbled");
	if (strcmp(r.lines[1], "second line\n") != 0)
		fail("stdin second line garbled");
	if (pingpong_done >= sent)
		fail("stdin: ping-pong finished after the line was even sent");
	printf("stdin: fgets read 2 lines and EOF; ping-pong finished first\n");
}

static void check_fdopen_socket(void)
{
	struct reader r = { .nlines = 1 };
	int s[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	r.f = fdopen(s[0], "r");
	if (!r.f)
		fail("fdopen");
	pid = feeder(s[1], 1.0, "socket line", NULL);
	close(s[1]);
	race(&r, "fdopen socket");
	reap(pid);
	if (strncmp(r.lines[0], "socket line ", 12) != 0)
		fail("socket line garbled");
	fclose(r.f);
	printf("fdopen socket: fgets read the line and EOF; ping-pong finished first\n");
}

static void check_popen(void)
{
	struct reader r = { .nlines = 1 };
	int st;

	r.f = popen("sleep 1; echo popen line", "r");
	if (!r.f)
		fail("popen");
	race(&r, "popen");
	if (strcmp(r.lines[0], "popen line\n") != 0)
		fail("popen line garbled");
	st = pclose(r.f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("pclose status");
	printf("popen: fgets read the line and EOF; ping-pong finished first\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_stdin();
	check_fdopen_socket();
	check_popen();
	return 0;
}
