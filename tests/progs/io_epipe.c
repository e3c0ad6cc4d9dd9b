/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * A write to a pipe, FIFO or stream socket whose reader is gone fails with
 * EPIPE and one SIGPIPE, at once or as soon as the reader goes while the
 * writer waits on a full buffer; poll then reports POLLERR/POLLHUP as
 * Linux does.  With another thread alive, so every write is a green one.
 * A blocking socket write that had made progress when the peer went
 * returns the count without SIGPIPE (Linux raises it only when nothing went
 * out), and an AF_UNIX one takes the peer's ECONNRESET with it: the shim
 * once raised a second SIGPIPE there and left POLLERR behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t npipe;
static int idle_pipe[2];

static void on_pipe(int s)
{
	(void)s;
	npipe++;
}

static void *idle(void *a)
{
	char c;

	(void)a;
	if (read(idle_pipe[0], &c, 1) < 0)
		perror("read");
	return NULL;
}

/* Write 64 KiB blocks until a write fails (at most 100). */
static void fill_until_error(const char *what, int fd)
{
	static char buf[65536];
	ssize_t r;
	int i = 0, partial = 0;

	npipe = 0;
	memset(buf, 'a', sizeof(buf));
	do {
		r = write(fd, buf, sizeof(buf));
		if (r > 0 && r < (ssize_t)sizeof(buf))
			partial++;
	} while (r > 0 && ++i < 100);
	printf("%s: write %s, SIGPIPE %d\n", what,
	       r < 0 ? strerror(errno) : "no error", (int)npipe);
	struct pollfd p = { fd, POLLOUT, 0 };
	int n = poll(&p, 1, 1000);
	printf("%s: poll %d revents%s%s%s\n", what, n,
	       p.revents & POLLOUT ? " OUT" : "", p.revents & POLLERR ? " ERR" : "",
	       p.revents & POLLHUP ? " HUP" : "");
	(void)partial;
}

/* A child that holds the reading end, then closes it after 200 ms. */
static pid_t closer(int keep, int drop)
{
	pid_t c = fork();

	if (c == 0) {
		close(drop);
		usleep(200000);
		close(keep);
		_exit(0);
	}
	close(keep);
	return c;
}

int main(void)
{
	int p[2], s[2];
	pid_t c;
	pthread_t t;
	char fifo[64];

	signal(SIGPIPE, on_pipe);
	if (pipe(idle_pipe) || pthread_create(&t, NULL, idle, NULL))
		return 1;

	if (pipe(p))
		return 1;
	close(p[0]);
	fill_until_error("pipe, reader closed", p[1]);
	close(p[1]);

	if (pipe(p))
		return 1;
	c = closer(p[0], p[1]);
	fill_until_error("pipe, reader closes while full", p[1]);
	waitpid(c, NULL, 0);
	close(p[1]);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		return 1;
	close(s[1]);
	fill_until_error("unix stream, peer closed", s[0]);
	close(s[0]);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		return 1;
	c = closer(s[1], s[0]);
	fill_until_error("unix stream, peer closes while full", s[0]);
	waitpid(c, NULL, 0);
	close(s[0]);

	snprintf(fifo, sizeof(fifo), "/tmp/io_epipe.%d", (int)getpid());
	if (mkfifo(fifo, 0600))
		return 1;
	c = fork();
	if (c == 0) {
		int f = open(fifo, O_RDONLY);
		usleep(200000);
		close(f);
		_exit(0);
	}
	int f = open(fifo, O_WRONLY);
	unlink(fifo);
	fill_until_error("fifo, reader closes while full", f);
	waitpid(c, NULL, 0);
	close(f);

	if (write(idle_pipe[1], "x", 1) != 1)
		return 1;
	pthread_join(t, NULL);
	return 0;
}
