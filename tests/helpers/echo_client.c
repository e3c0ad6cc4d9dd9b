/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo_client — a load generator for echo servers: one process, one thread,
 * one epoll loop over non-blocking sockets, so that it stays cheap however
 * many connections it holds and the server is what gets measured.
 *
 *   echo_client -p port [-b addr] [-c conns] [-r rounds | -d secs] [-H secs]
 *               [-s size] [-i inflight] [-T limit] [-S sources] [-E secs]
 *               [-W file]
 *     -p port    server port (required)
 *     -b addr    server IPv4 address (default 127.0.0.1)
 *     -c conns   connections, all held open at once (default 100)
 *     -r rounds  round trips per connection (default 100)
 *     -d secs    timed run instead: each connection ping-pongs until then
 *     -H secs    once every connection is open and has made one round trip,
 *                print "all N connections open" and hold them idle this long
 *                (default 0), so an observer can look at the server
 *     -W file    after the hold, wait until FILE exists before the measured
 *                round trips (bounded by -T): an observer that needs time
 *                to set up says when it is ready
 *     -E secs    after the measured round trips, print the summary and
 *                hold every connection open and idle this long before
 *                closing them (default 0), so an observer can stop
 *                counting before the teardown
 *     -s size    message size in bytes (default 64)
 *     -i N       connects in flight at once (default 512)
 *     -T secs    give up after this long (default 300)
 *     -S K       spread the connections over K loopback source addresses,
 *                127.0.0.2 .. 127.0.0.(K+1) (default 0: the kernel picks
 *                127.0.0.1).  Past ~14,000 connections to one address and
 *                port the kernel's ephemeral-port search (connect's
 *                __inet_hash_connect) goes quadratic and the connect phase
 *                takes tens of seconds; with several source addresses
 *                every 4-tuple is new and connect stays fast.
 *
 * Phases: connect (each connection makes its first round trip as soon as it
 * is connected), hold, then the measured round trips with every connection
 * ping-ponging at once. Every echo is checked byte for byte. Prints:
 *   connections: C open: O connect failures: F errors: E
 *   connect phase: S s
 *   round trips: N in S s = R rt/s
 *   elapsed: S s (hold excluded)
 * Exits 0 only if every connection opened and every round trip came back
 * right.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { IDLE, CONNECTING, WAITING_ECHO, PARKED, DONE, FAILED };

struct conn {
	int fd;
	enum state st;
	int id;
	long rounds;
	int got;		/* bytes of the current echo received */
	char *buf;		/* the echo being received */
};

static struct conn *conns;
static int nconns = 100, msgsize = 64, inflight_max = 512, nsources;
static long rounds = 100;
static double duration, hold, end_hold, limit_secs = 300;
static struct sockaddr_in server;
static const char *go_file;
static int ep;
static long connect_failures, errors, opened, finished;
static long rt_measured;
static int measuring, stop_sending;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Message for connection c, round r: recognisable and checkable. */
static void fill(char *buf, int id, long r)
{
	int i, n = snprintf(buf, msgsize, "c%06d r%08ld ", id, r);

	for (i = n < msgsize ? n : msgsize; i < msgsize; i++)
		buf[i] = 'a' + (id + r + i) % 26;
}

static void finish(struct conn *c, enum state st)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (st == FAILED) {
		close(c->fd);
		c->fd = -1;
	}
	c->st = st;
	finished++;
}

static void send_round(struct conn *c)
{
	char buf[msgsize];
	ssize_t n;

	fill(buf, c->id, c->rounds);
	/* A small message into an idle socket: a short write would be a bug. */
	n = send(c->fd, buf, msgsize, MSG_NOSIGNAL);
	if (n != msgsize) {
		errors++;
		finish(c, FAILED);
		return;
	}
	c->got = 0;
	c->st = WAITING_ECHO;
}

static int start_connect(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		perror("socket");
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (nsources > 0) {
		/* The port is still the kernel's choice, made at connect for
		 * the whole 4-tuple (IP_BIND_ADDRESS_NO_PORT). */
		struct sockaddr_in src = { .sin_family = AF_INET };

		src.sin_addr.s_addr = htonl(0x7f000002 + c->id % nsources);
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0) {
			perror("bind source address");
			return -1;
		}
	}
	if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 &&
	    errno != EINPROGRESS) {
		connect_failures++;
		finish(c, FAILED);
		return 0;
	}
	c->st = CONNECTING;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("epoll_ctl");
		return -1;
	}
	return 0;
}

static void on_connected(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		connect_failures++;
		finish(c, FAILED);
		return;
	}
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	send_round(c);
}

static void on_readable(struct conn *c)
{
	char want[msgsize];
	ssize_t n;

	n = recv(c->fd, c->buf + c->got, msgsize - c->got, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		errors++;
		finish(c, FAILED);
		return;
	}
	c->got += n;
	if (c->got < msgsize)
		return;
	fill(want, c->id, c->rounds);
	if (memcmp(c->buf, want, msgsize) != 0) {
		errors++;
		finish(c, FAILED);
		return;
	}
	c->rounds++;
	if (measuring)
		rt_measured++;
	if (c->rounds == 1 && !measuring) {
		opened++;
		c->st = PARKED;		/* wait for the others, then the hold */
		return;
	}
	if (stop_sending || (duration == 0 && c->rounds >= rounds)) {
		finish(c, DONE);
		return;
	}
	send_round(c);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	double t_start, t_open, t_measure, t_end, deadline, give_up;
	int opt, next = 0, i, n;
	const char *addr = "127.0.0.1";
	int port = 0;

	while ((opt = getopt(argc, argv, "p:b:c:r:d:H:s:i:T:S:E:W:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'b': addr = optarg; break;
		case 'c': nconns = atoi(optarg); break;
		case 'r': rounds = atol(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'H': hold = atof(optarg); break;
		case 's': msgsize = atoi(optarg); break;
		case 'i': inflight_max = atoi(optarg); break;
		case 'T': limit_secs = atof(optarg); break;
		case 'S': nsources = atoi(optarg); break;
		case 'E': end_hold = atof(optarg); break;
		case 'W': go_file = optarg; break;
		default:
			fprintf(stderr, "usage: %s -p port [-b addr] [-c conns] "
				"[-r rounds | -d secs] [-H secs] [-s size] [-i N] "
				"[-T secs] [-S sources] [-E secs] [-W file]\n", argv[0]);
			return 2;
		}
	}
	if (port <= 0 || nconns < 1 || rounds < 1 || msgsize < 16 || msgsize > 65536 ||
	    inflight_max < 1 || nsources < 0 || nsources > 250) {
		fprintf(stderr, "echo_client: bad arguments (need -p port)\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	server.sin_family = AF_INET;
	server.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &server.sin_addr) != 1) {
		fprintf(stderr, "echo_client: bad address %s\n", addr);
		return 2;
	}
	conns = calloc(nconns, sizeof *conns);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		perror("setup");
		return 1;
	}
	for (i = 0; i < nconns; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conns[i].buf = malloc(msgsize);
		if (!conns[i].buf) {
			perror("malloc");
			return 1;
		}
	}

	/* Connect phase: at most inflight_max connects (and first trips) at once. */
	t_start = now();
	give_up = t_start + limit_secs;
	/* Until the hold, finished counts only the connections that failed. */
	while (opened + finished < nconns) {
		while (next < nconns && next - opened - finished < inflight_max)
			if (start_connect(&conns[next++]) < 0)
				return 1;
		if (now() > give_up) {
			fprintf(stderr, "echo_client: connect phase over %.0f s\n", limit_secs);
			break;
		}
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == CONNECTING)
				on_connected(c);
			else if (c->st == WAITING_ECHO)
				on_readable(c);
		}
	}
	t_open = now();
	printf("all %ld connections open\n", opened);
	fflush(stdout);
	if (hold > 0)
		usleep(hold * 1e6);
	while (go_file && access(go_file, F_OK) != 0) {
		if (now() > give_up) {
			fprintf(stderr, "echo_client: %s did not appear\n", go_file);
			return 1;
		}
		usleep(10000);
	}

	/* Measured phase: every open connection ping-pongs at once. */
	measuring = 1;
	t_measure = now();
	deadline = duration > 0 ? t_measure + duration : 0;
	for (i = 0; i < nconns; i++)
		if (conns[i].st == PARKED) {
			if (duration == 0 && conns[i].rounds >= rounds)
				finish(&conns[i], DONE);
			else
				send_round(&conns[i]);
		}
	while (finished < nconns) {
		if (deadline && now() >= deadline)
			stop_sending = 1;
		if (now() > give_up) {
			fprintf(stderr, "echo_client: gave up after %.0f s\n", limit_secs);
			errors++;
			break;
		}
		n = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == WAITING_ECHO)
				on_readable(c);
		}
	}
	t_end = now();

	/* The summary first, then (-E) the idle hold, then the closes: an
	 * observer counting the server's system calls can stop between the
	 * last round trip and the teardown. */
	printf("connections: %d open: %ld connect failures: %ld errors: %ld\n",
	       nconns, opened, connect_failures, errors);
	printf("connect phase: %.3f s\n", t_open - t_start);
	printf("round trips: %ld in %.3f s = %.0f rt/s\n", rt_measured,
	       t_end - t_measure, rt_measured / (t_end - t_measure));
	printf("elapsed: %.3f s (hold excluded)\n",
	       (t_open - t_start) + (t_end - t_measure));
	fflush(stdout);
	if (end_hold > 0)
		usleep(end_hold * 1e6);
	for (i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return opened == nconns && connect_failures == 0 && errors == 0 ? 0 : 1;
}
