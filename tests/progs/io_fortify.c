/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/* CFLAGS: -O2 -D_FORTIFY_SOURCE=2 */
/*
 * The _FORTIFY_SOURCE forms of blocking calls (Debian builds its daemons
 * with it): with the buffer's size known and the length not a constant,
 * glibc's headers turn poll, ppoll, read, recv, recvfrom, pread, fgets and
 * fread into __poll_chk, __ppoll_chk, __read_chk... (nm -D of the binary
 * lists them).  A reader waits in each on a socketpair (or a pipe stream)
 * that a second thread writes to after 100 ms, while a ticker thread
 * counts 5 ms ticks: the ticker must keep ticking during every wait (under
 * the shim, a fortified name the shim missed went to the kernel and
 * stopped the whole hub: no ticks, and the writer never ran).  pread is on
 * a regular file (it cannot wait on a socket).  alarm(20) ends a hang.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sv[2], pfd[2];
static volatile int stop;
static volatile unsigned ticks;
static volatile size_t len_v = 16;	/* not a constant: the _chk forms */
static volatile nfds_t nfds_v = 1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int want_write; /* 1: to the socket, 2: to the pipe */

static void fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void *ticker(void *arg)
{
	while (!stop) {
		sleep_ms(5);
		ticks++;
	}
	return arg;
}

static void *writer(void *arg)
{
	for (;;) {
		int w;

		pthread_mutex_lock(&mu);
		while (want_write == 0)
			pthread_cond_wait(&cv, &mu);
		w = want_write;
		want_write = 0;
		pthread_mutex_unlock(&mu);
		if (w < 0)
			return arg;
		sleep_ms(100);
		if (write(w == 1 ? sv[1] : pfd[1], "hello-fortify\n", 14) != 14)
			fail("write");
	}
}

static void ask(int w)
{
	pthread_mutex_lock(&mu);
	want_write = w;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* Print what a wait got and whether the ticker ran meanwhile. */
static void report(const char *name, long r, const char *buf, unsigned t0)
{
	unsigned n = ticks - t0;

	printf("%-9s got %ld %.13s, ticker ran during the wait: %s\n", name, r,
	       r > 0 ? buf : "", n >= 5 ? "yes" : "NO");
}

static void drain(void)
{
	char b[32];

	if (recv(sv[0], b, sizeof(b), 0) != 14)
		fail("drain");
}

int main(void)
{
	pthread_t tt, tw;
	char buf[16], line[16], fbuf[16];
	struct pollfd pfds[1];
	struct timespec ts = { 5, 0 };
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	unsigned t0;
	long r;
	FILE *in;
	int fd;

	alarm(20);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(pfd) != 0)
		fail("socketpair/pipe");
	if (pthread_create(&tt, NULL, ticker, NULL) != 0 ||
	    pthread_create(&tw, NULL, writer, NULL) != 0)
		fail("pthread_create");

	pfds[0].fd = sv[0];
	pfds[0].events = POLLIN;
	t0 = ticks;
	ask(1);
	r = poll(pfds, nfds_v, 5000);
	report("poll", r, "", t0);
	drain();

	t0 = ticks;
	ask(1);
	r = ppoll(pfds, nfds_v, &ts, NULL);
	report("ppoll", r, "", t0);
	drain();

	t0 = ticks;
	ask(1);
	r = read(sv[0], buf, len_v);
	report("read", r, buf, t0);

	t0 = ticks;
	ask(1);
	r = recv(sv[0], buf, len_v, 0);
	report("recv", r, buf, t0);

	t0 = ticks;
	ask(1);
	r = recvfrom(sv[0], buf, len_v, 0, (struct sockaddr *)&from, &fromlen);
	report("recvfrom", r, buf, t0);

	in = fdopen(pfd[0], "r");
	if (in == NULL)
		fail("fdopen");
	t0 = ticks;
	ask(2);
	report("fgets", fgets(line, (int)len_v, in) ? (long)strlen(line) : -1,
	       line, t0);
	t0 = ticks;
	ask(2);
	r = (long)fread(fbuf, 1, len_v - 2, in);
	report("fread", r, fbuf, t0);

	/* pread: a regular file never waits; only the result is compared */
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		fail("open");
	r = pread(fd, buf, len_v, 1);
	printf("pread     got %ld %.3s\n", r, buf);
	close(fd);

	ask(-1);
	pthread_join(tw, NULL);
	stop = 1;
	pthread_join(tt, NULL);
	return 0;
}
