/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * An fd that libc closes inside itself (pclose, fclose, freopen: the
 * close never passes through close()) or that the program closes with
 * syscall(SYS_close) after a thread waited on it must
 * leave nothing behind: when the number comes back as a new pipe, a reader
 * parked on it wakes when data arrives.  Under the shim a readiness watcher
 * left registered on the old number made the new reader wait forever (the
 * kernel had dropped the old registration with the file, and the shim saw
 * the same mask and did not re-register), and with the old description
 * alive in a forked child, libev re-armed the closed number and aborted
 * ("I/O watcher with invalid fd found in epoll_ctl").
 *
 * For each way of closing, 5 rounds: open a stream whose data comes 30 ms
 * later (so that the read waits), read a line, close the stream the libc
 * way, make a pipe (it takes the lowest free number: the one just closed),
 * and read from it in a second thread while this one writes 30 ms later.
 * A sleeping child forked at the start holds a copy of every fd, and a
 * ticker thread runs throughout (so that the shim parks rather than
 * blocking a lone thread in the kernel).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"

static int rfd;
static char got[16];

static void *reader(void *arg)
{
	ssize_t n = read(rfd, got, sizeof(got) - 1);

	got[n > 0 ? n : 0] = 0;
	return arg;
}

/* The number just closed comes back as a pipe, and a read on it waits for
 * data written later. */
static void reuse(int old, const char *how)
{
	pthread_t t;
	int p[2];
	char what[96];

	check(pipe(p) == 0, "pipe");
	snprintf(what, sizeof(what), "%s: pipe reuses the closed number", how);
	expect_int(p[0], old, what);
	rfd = p[0];
	memset(got, 0, sizeof(got));
	check(pthread_create(&t, NULL, reader, NULL) == 0, "pthread_create");
	msleep(30);
	check(write(p[1], "new", 3) == 3, "write");
	check(pthread_join(t, NULL) == 0, "pthread_join");
	snprintf(what, sizeof(what), "%s: reader of the reused number", how);
	check(strcmp(got, "new") == 0, what);
	close(p[0]);
	close(p[1]);
}

/* A stream on the read end of a pipe whose writer sends a line 30 ms
 * later, from a thread. */
static int wpipe;

static void *late_writer(void *arg)
{
	msleep(30);
	check(write(wpipe, "late\n", 5) == 5, "late write");
	close(wpipe);
	return arg;
}

static FILE *late_stream(pthread_t *t)
{
	int p[2];
	FILE *f;

	check(pipe(p) == 0, "pipe");
	wpipe = p[1];
	f = fdopen(p[0], "r");
	check(f != NULL, "fdopen");
	check(pthread_create(t, NULL, late_writer, NULL) == 0, "pthread_create");
	return f;
}

static void read_line(FILE *f, const char *want, const char *how)
{
	char line[32];

	check(fgets(line, sizeof(line), f) != NULL, how);
	check(strcmp(line, want) == 0, how);
}

int main(void)
{
	pthread_t tick;
	pid_t holder;
	char what[64];

	check(pthread_create(&tick, NULL, ticker, NULL) == 0, "ticker");
	holder = fork();
	check(holder >= 0, "fork");
	if (holder == 0) {
		sleep(30);
		_exit(0);
	}
	for (int r = 0; r < 5; r++) {
		FILE *f = popen("sleep 0.03; echo popen", "r");
		int fd;

		check(f != NULL, "popen");
		fd = fileno(f);
		read_line(f, "popen\n", "popen line");
		check(pclose(f) == 0, "pclose");
		reuse(fd, "pclose");
	}
	for (int r = 0; r < 5; r++) {
		pthread_t t;
		FILE *f = late_stream(&t);
		int fd = fileno(f);

		read_line(f, "late\n", "fclose: line");
		check(pthread_join(t, NULL) == 0, "join");
		check(fclose(f) == 0, "fclose");
		/* the writer's number (closed) is above ours: close it first */
		reuse(fd, "fclose");
	}
	for (int r = 0; r < 5; r++) {
		pthread_t t;
		FILE *f = late_stream(&t);
		int fd = fileno(f);

		read_line(f, "late\n", "freopen: line");
		check(pthread_join(t, NULL) == 0, "join");
		/* freopen closes the pipe inside libc and opens /dev/null:
		 * the number comes back at once as a file */
		f = freopen("/dev/null", "r", f);
		check(f != NULL, "freopen");
		snprintf(what, sizeof(what), "freopen round %d", r);
		expect_int(fileno(f), fd, what);
		check(fclose(f) == 0, "fclose after freopen");
		reuse(fd, "freopen");
	}
	for (int r = 0; r < 5; r++) {
		pthread_t w, t;
		int p[2];

		check(pipe(p) == 0, "pipe");
		wpipe = p[1];
		rfd = p[0];
		check(pthread_create(&w, NULL, late_writer, NULL) == 0, "writer");
		check(pthread_create(&t, NULL, reader, NULL) == 0, "reader");
		check(pthread_join(t, NULL) == 0, "join reader");
		check(pthread_join(w, NULL) == 0, "join writer");
		check(strcmp(got, "late\n") == 0, "raw close: line");
		check(syscall(SYS_close, p[0]) == 0, "syscall(SYS_close)");
		reuse(p[0], "syscall(SYS_close)");
	}
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	atomic_store(&stop, 1);
	check(pthread_join(tick, NULL) == 0, "join ticker");
	printf("pclose, fclose, freopen, raw close: 5 rounds each, reused numbers wake\n");
	return 0;
}
