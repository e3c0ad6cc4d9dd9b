/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=40 */
/*
 * io_lfs_names — blocking calls reached through their large-file names.
 *
 * Built with _FILE_OFFSET_BITS=64, as Debian builds CPython and lighttpd,
 * glibc's headers redirect sendfile to sendfile64, preadv2 to preadv64v2
 * and pwritev2 to pwritev64v2: separate symbols that a shim must export
 * too, or these calls go straight to the kernel and block every green
 * thread of the hub.  Found with CPython: socket.sendfile() on a blocking
 * socket (os.sendfile, i.e. sendfile64) while the reader is another thread
 * of the same process hangs test_socket's SendfileUsingSendfileTest.
 *
 * Each part needs another thread to make progress while one is blocked:
 *   sendfile   main sends 8 MiB from a file over loopback TCP with
 *              sendfile (sendfile64); a thread receives it
 *   preadv2    a thread reads an empty pipe (flags 0: it blocks) while
 *              main sleeps 100 ms, then writes
 *   pwritev2   a thread fills a pipe with pwritev2 while main sleeps
 *              100 ms, then drains it
 * A call that blocks the whole process would hang: alarm(15) turns that
 * into "FAIL: ..." and exit 1.
 */
#define _FILE_OFFSET_BITS 64
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define FILE_SIZE (8 << 20)
#define PIPE_BYTES (256 << 10)

static const char *part = "start";

static void on_alarm(int sig)
{
	char msg[128];
	int n = snprintf(msg, sizeof msg,
			 "FAIL: %s: blocked the process for 15 s\n", part);

	(void)sig;
	(void)!write(2, msg, n);
	_exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "FAIL: %s: %s: %s\n", part, what, strerror(errno));
	exit(1);
}

/* ---- sendfile ---- */
static int lfd;

static void *receiver(void *arg)
{
	static char buf[65536];
	long total = 0;
	ssize_t n;
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		die("accept");
	while ((n = recv(c, buf, sizeof buf, 0)) > 0)
		total += n;
	if (n < 0)
		die("recv");
	close(c);
	*(long *)arg = total;
	return NULL;
}

static void part_sendfile(void)
{
	char path[] = "/tmp/io_lfs_names.XXXXXX";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	pthread_t t;
	long got = 0, sent = 0;
	off_t off = 0;
	char *data;
	int fd, s;

	part = "sendfile";
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	data = malloc(FILE_SIZE);
	for (long i = 0; i < FILE_SIZE; i++)
		data[i] = (char)(i * 7);
	if (write(fd, data, FILE_SIZE) != FILE_SIZE)
		die("write file");
	free(data);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) || listen(lfd, 4))
		die("listen");
	pthread_create(&t, NULL, receiver, &got);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa))
		die("connect");
	while (sent < FILE_SIZE) {
		ssize_t n = sendfile(s, fd, &off, FILE_SIZE - sent);

		if (n <= 0)
			die("sendfile");
		sent += n;
	}
	close(s);
	pthread_join(t, NULL);
	close(lfd);
	close(fd);
	if (got != FILE_SIZE || off != FILE_SIZE) {
		fprintf(stderr, "FAIL: sendfile: sent %ld, received %ld\n",
			sent, got);
		exit(1);
	}
	printf("sendfile: %d bytes over TCP ok\n", FILE_SIZE);
}

/* ---- preadv2 / pwritev2 on pipes ---- */
static int pp[2];

static void *pipe_reader(void *arg)
{
	char buf[16] = "";
	struct iovec iov = { buf, sizeof buf - 1 };
	ssize_t n = preadv2(pp[0], &iov, 1, -1, 0);

	if (n != 5 || strcmp(buf, "hello") != 0)
		die("preadv2");
	return NULL;
}

static void *pipe_writer(void *arg)
{
	static char buf[PIPE_BYTES];
	struct iovec iov = { buf, sizeof buf };
	ssize_t n = pwritev2(pp[1], &iov, 1, -1, 0);

	if (n != PIPE_BYTES)
		die("pwritev2");
	return NULL;
}

static void part_pipes(void)
{
	static char buf[PIPE_BYTES];
	long total = 0;
	pthread_t t;

	part = "preadv2";
	if (pipe(pp))
		die("pipe");
	pthread_create(&t, NULL, pipe_reader, NULL);
	usleep(100000);
	if (write(pp[1], "hello", 5) != 5)
		die("write");
	pthread_join(t, NULL);
	printf("preadv2: a blocked pipe read ok\n");

	part = "pwritev2";
	pthread_create(&t, NULL, pipe_writer, NULL);
	usleep(100000);
	while (total < PIPE_BYTES) {
		ssize_t n = read(pp[0], buf, sizeof buf);

		if (n <= 0)
			die("read");
		total += n;
	}
	pthread_join(t, NULL);
	close(pp[0]);
	close(pp[1]);
	printf("pwritev2: a blocked pipe write ok\n");
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	alarm(15);
	part_sendfile();
	part_pipes();
	return 0;
}
