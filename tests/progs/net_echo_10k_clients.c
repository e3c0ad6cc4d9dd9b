/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=180 args="500" shim_args="9000" */
/*
 * A thread-per-connection echo server and N client threads in one process,
 * all with plain blocking sockets. The accept loop makes one thread per
 * connection; every client connects, then waits at a barrier until all N are
 * connected at once, then sends 10 messages and checks each echo.
 *
 * Under the shim N is 9,000: each connection costs two fds in this process
 * and the hard RLIMIT_NOFILE here is 20,000. N is clamped (on stderr) if the
 * limit is lower, so the test still means "as many as the fds allow".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define MSGS 10
#define MSGLEN 48

static int nclients;
static int lfd;
static struct sockaddr_in addr;
static pthread_barrier_t all_connected;
static atomic_int served_ok;		/* server threads that saw a clean EOF */
static atomic_long echoed_bytes;
static atomic_int clients_ok;

/* One thread per connection: echo until the client closes. */
static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[256];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write_full(fd, buf, n) < 0)
			fail("server write");
		atomic_fetch_add(&echoed_bytes, n);
	}
	if (n < 0)
		fail("server read");
	atomic_fetch_add(&served_ok, 1);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int i, fd;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < nclients; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (fd < 0)
			fail("accept");
		if (pthread_create(&t, &attr, serve, (void *)(long)fd) != 0)
			fail("pthread_create server thread");
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static void *client(void *arg)
{
	int id = (int)(long)arg;
	char out[MSGLEN], in[MSGLEN];
	int fd, m, r;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fail("client socket");
	while ((r = connect(fd, (struct sockaddr *)&addr, sizeof addr)) < 0 &&
	       errno == EINTR)
		;
	if (r < 0)
		fail("client connect");
	r = pthread_barrier_wait(&all_connected);
	if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
		fail("pthread_barrier_wait");
	for (m = 0; m < MSGS; m++) {
		memset(out, 'a' + (id + m) % 26, sizeof out);
		snprintf(out, sizeof out, "client %d message %d", id, m);
		if (write_full(fd, out, sizeof out) < 0)
			fail("client write");
		if (read_full(fd, in, sizeof in) < 0)
			fail("client read");
		if (memcmp(in, out, sizeof out) != 0) {
			fprintf(stderr, "FAIL: client %d message %d echoed wrong\n", id, m);
			exit(1);
		}
	}
	close(fd);
	atomic_fetch_add(&clients_ok, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	socklen_t alen = sizeof addr;
	pthread_t acceptor, *clients;
	pthread_attr_t attr;
	long max_clients;
	double t0, limit;
	int i;

	nclients = argc > 1 ? atoi(argv[1]) : 500;
	if (nclients < 1)
		fail("bad client count");

	/* Two fds per connection here, plus a few for stdio and the listener. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fail("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fail("setrlimit");
	max_clients = ((long)rl.rlim_cur - 64) / 2;
	if (nclients > max_clients) {
		fprintf(stderr, "note: RLIMIT_NOFILE %ld allows %ld clients, not %d\n",
			(long)rl.rlim_cur, max_clients, nclients);
		nclients = max_clients;
	}

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		fail("socket");
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
		fail("bind");
	if (listen(lfd, SOMAXCONN > 4096 ? 4096 : SOMAXCONN) < 0)
		fail("listen");
	if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
		fail("getsockname");

	if (pthread_barrier_init(&all_connected, NULL, nclients) != 0)
		fail("pthread_barrier_init");
	clients = calloc(nclients, sizeof *clients);
	if (!clients)
		fail("calloc");

	t0 = now();
	if (pthread_create(&acceptor, NULL, accept_loop, NULL) != 0)
		fail("pthread_create acceptor");
	/* Small client stacks: natively 500 threads x 8 MiB is fine, but be kind. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < nclients; i++)
		if (pthread_create(&clients[i], &attr, client, (void *)(long)i) != 0)
			fail("pthread_create client");
	pthread_attr_destroy(&attr);
	for (i = 0; i < nclients; i++)
		pthread_join(clients[i], NULL);
	pthread_join(acceptor, NULL);

	/* Server threads are detached: wait (bounded) for their clean EOFs. */
	limit = now() + 30;
	while (atomic_load(&served_ok) < nclients && now() < limit)
		usleep(10000);

	if (atomic_load(&clients_ok) != nclients)
		fail("not every client finished");
	if (atomic_load(&served_ok) != nclients)
		fail("not every server thread saw its client close");
	if (atomic_load(&echoed_bytes) != (long)nclients * MSGS * MSGLEN)
		fail("server echoed a wrong number of bytes");
	fprintf(stderr, "%d clients, %d messages each, %.3f s\n", nclients, MSGS,
		now() - t0);
	printf("clients ok\n");
	return 0;
}
