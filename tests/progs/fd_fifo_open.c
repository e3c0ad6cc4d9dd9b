/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=30 */
/*
 * fd_fifo_open — open() of a FIFO waits for the other end without
 * stopping the other threads: a reader opens a FIFO (no O_NONBLOCK), a
 * ticker keeps ticking every 10 ms, and a writer opens the other end after
 * 300 ms and sends a line.  Then the same the other way round (the writer
 * first).  Both opens must return, the line must arrive, and the ticker
 * must have ticked while the first open waited.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"

static char path[64];

/* fail() exits: the FIFO goes then too. */
static void remove_fifo(void)
{
	unlink(path);
}

static void *late_writer(void *arg)
{
	int fd;

	usleep(300000);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "fifo line\n", 10) != 10)
		fail("writer open/write");
	close(fd);
	return NULL;
}

static void *late_reader(void *arg)
{
	char buf[16] = "";
	int fd;

	usleep(300000);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, 10) != 10 || memcmp(buf, "fifo line\n", 10))
		fail("reader open/read");
	close(fd);
	return NULL;
}

int main(void)
{
	pthread_t tk, other;
	char buf[16] = "";
	int fd, t0;

	snprintf(path, sizeof path, "/tmp/fd_fifo_open.%d", (int)getpid());
	if (mkfifo(path, 0600) != 0)
		fail("mkfifo");
	atexit(remove_fifo);
	pthread_create(&tk, NULL, ticker, NULL);

	/* reader first */
	pthread_create(&other, NULL, late_writer, NULL);
	t0 = atomic_load(&ticks);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail("open for reading");
	fprintf(stderr, "ticks while the read open waited: %d\n", atomic_load(&ticks) - t0);
	if (atomic_load(&ticks) - t0 < 10)
		fail("the other threads stopped while open() waited for a writer");
	if (read(fd, buf, 10) != 10 || memcmp(buf, "fifo line\n", 10))
		fail("read");
	close(fd);
	pthread_join(other, NULL);
	printf("FIFO opened for reading before the writer: ok\n");

	/* writer first */
	pthread_create(&other, NULL, late_reader, NULL);
	t0 = atomic_load(&ticks);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		fail("open for writing");
	if (atomic_load(&ticks) - t0 < 10)
		fail("the other threads stopped while open() waited for a reader");
	if (write(fd, "fifo line\n", 10) != 10)
		fail("write");
	close(fd);
	pthread_join(other, NULL);
	printf("FIFO opened for writing before the reader: ok\n");

	atomic_store(&stop, 1);
	pthread_join(tk, NULL);
	unlink(path);
	return 0;
}
