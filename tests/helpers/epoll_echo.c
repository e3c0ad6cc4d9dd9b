/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * epoll_echo — a small hand-written echo server: one thread, one
 * level-triggered epoll loop, non-blocking sockets. The baseline that the
 * thread-per-connection echo_server (native and under libgreen) is measured
 * against: what an event loop costs without any threads at all.  With -t N
 * it is the many-core baseline instead: N loop threads, each with its own
 * epoll set and its own SO_REUSEPORT listener on the same port (the kernel
 * spreads the connections over the listeners), no state shared between
 * loops but the counters of the report.
 *
 *   epoll_echo [-p port] [-b addr] [-n N] [-t loops]
 *     -p port  TCP port (default 7008; 0 picks a free one)
 *     -b addr  IPv4 address to bind (default 127.0.0.1)
 *     -n N     exit after N connections have been served and closed
 *              (with one loop only)
 *     -t N     N loop threads (default 1: the loop runs on the main thread;
 *              0: one per CPU of the affinity mask)
 *
 * Prints "listening on ADDR:PORT" at start and, on SIGTERM/SIGINT or after
 * -n N connections, the same report as echo_server:
 *   connections served: N
 *   peak concurrent: N
 *   threads created: 0
 *   connections refused: 0
 *   max rss kB: N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 4096

/* Bytes read but not yet written back; the fd waits for EPOLLOUT meanwhile. */
struct conn {
	int fd;
	int len, off;
	char buf[BUFSZ];
};

static volatile sig_atomic_t stop;
/* Shared by the loops of -t N: relaxed atomics (a report, not a lock). */
static long served, active, peak;

static void count_conn(long d)
{
	long a = __atomic_add_fetch(&active, d, __ATOMIC_RELAXED);
	long p = __atomic_load_n(&peak, __ATOMIC_RELAXED);

	if (d < 0)
		__atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
	while (a > p && !__atomic_compare_exchange_n(&peak, &p, a, 1, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void report(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("connections served: %ld\n", __atomic_load_n(&served, __ATOMIC_RELAXED));
	printf("peak concurrent: %ld\n", __atomic_load_n(&peak, __ATOMIC_RELAXED));
	printf("threads created: 0\n");
	printf("connections refused: 0\n");
	printf("max rss kB: %ld\n", ru.ru_maxrss);
	fflush(stdout);
}

static void drop(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	count_conn(-1);
}

/* Write out what is pending; 1 if all of it went, 0 if the socket is full. */
static int flush_pending(struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->off += n;
	}
	c->off = c->len = 0;
	return 1;
}

static void on_ready(int ep, struct conn *c, unsigned events)
{
	struct epoll_event ev = { .data.ptr = c };
	ssize_t n;
	int r;

	if (c->len > 0) {	/* waiting for room to write */
		r = flush_pending(c);
		if (r < 0) {
			drop(ep, c);
			return;
		}
		if (r == 0)
			return;
		ev.events = EPOLLIN;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return;
	}
	n = recv(c->fd, c->buf, BUFSZ, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(ep, c);
		return;
	}
	c->len = n;
	c->off = 0;
	r = flush_pending(c);
	if (r < 0) {
		drop(ep, c);
	} else if (r == 0) {
		ev.events = EPOLLOUT;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void accept_all(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN, or out of fds: try on the next event */
		c = malloc(sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		c->len = c->off = 0;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		count_conn(1);
	}
}

/* A listener on addr:port (port 0: any), SO_REUSEPORT when shared. */
static int listener(const char *bind_addr, int port, int reuseport, int *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int lfd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		perror("socket/address");
		return -1;
	}
	sa.sin_port = htons(port);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport)
		setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, SOMAXCONN) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		perror("bind/listen");
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return lfd;
}

static long exit_after;

/* One loop over one listener and the connections it accepted. */
static void *serve(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	static int listener_tag;
	int lfd = (int)(long)arg, ep, n, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = &listener_tag;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("epoll");
		exit(1);
	}
	while (!stop && !(exit_after > 0 && served >= exit_after)) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &listener_tag)
				accept_all(ep, lfd);
			else
				on_ready(ep, evs[i].data.ptr, evs[i].events);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1";
	struct sigaction act = { .sa_handler = on_signal };
	int port = 7008, lfd, opt, loops = 1, bound = 0, sig;
	cpu_set_t cpus;
	sigset_t set;
	pthread_t tid;

	while ((opt = getopt(argc, argv, "p:b:n:t:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'b': bind_addr = optarg; break;
		case 'n': exit_after = atol(optarg); break;
		case 't': loops = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-p port] [-b addr] [-n N] [-t loops]\n", argv[0]);
			return 2;
		}
	}
	if (loops == 0)
		loops = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
	if (loops < 1 || loops > 1024) {
		fprintf(stderr, "epoll_echo: -t wants 0..1024\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (loops == 1) {
		sigaction(SIGTERM, &act, NULL);
		sigaction(SIGINT, &act, NULL);
		lfd = listener(bind_addr, port, 0, &bound);
		if (lfd < 0)
			return 1;
		printf("listening on %s:%d\n", bind_addr, bound);
		fflush(stdout);
		serve((void *)(long)lfd);
		report();
		return 0;
	}
	/* Several loops: the main thread only waits for the signal; every
	 * loop thread inherits the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < loops; i++) {
		lfd = listener(bind_addr, i == 0 ? port : bound, 1, &bound);
		if (lfd < 0 || pthread_create(&tid, NULL, serve, (void *)(long)lfd) != 0) {
			fprintf(stderr, "epoll_echo: loop %d failed\n", i);
			return 1;
		}
	}
	printf("listening on %s:%d\n", bind_addr, bound);
	fflush(stdout);
	sigwait(&set, &sig);
	report();
	exit(0);
}
