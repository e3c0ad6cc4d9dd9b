/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo_server — a plain thread-per-connection echo server, the kind of
 * legacy daemon libgreen is for. Nothing in it knows about the shim: the
 * main thread accepts, each connection gets its own detached pthread (default
 * attributes) that does blocking read()/write() of small messages until the
 * client closes. Used by scripts/demo and the benchmark, with and without
 * LD_PRELOAD=libgreen.so.
 *
 *   echo_server [-p port] [-b addr] [-n N]
 *     -p port  TCP port (default 7007; 0 picks a free one)
 *     -b addr  IPv4 address to bind (default 127.0.0.1)
 *     -n N     exit after N connections have been served and closed
 *
 * Prints "listening on ADDR:PORT" once at start, nothing per connection, and
 * on SIGTERM/SIGINT or after -n N connections:
 *   connections served: N
 *   peak concurrent: N
 *   threads created: N
 *   connections refused: N   (pthread_create failed)
 *   max rss kB: N
 * A signal thread (sigwait) handles SIGTERM/SIGINT, so no worker is ever
 * interrupted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long served, refused, active, peak, created, exit_after;

static void report_and_exit(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	pthread_mutex_lock(&lock);
	printf("connections served: %ld\n", served);
	printf("peak concurrent: %ld\n", peak);
	printf("threads created: %ld\n", created);
	printf("connections refused: %ld\n", refused);
	printf("max rss kB: %ld\n", ru.ru_maxrss);
	fflush(stdout);
	exit(0);
}

/* A connection is over, served or refused; the -n count includes both. */
static void finished(int was_served)
{
	long done;

	pthread_mutex_lock(&lock);
	active--;
	if (was_served)
		served++;
	else
		refused++;
	done = served + refused;
	pthread_mutex_unlock(&lock);
	if (exit_after > 0 && done == exit_after)
		report_and_exit();
}

static void *connection(void *arg)
{
	int fd = (int)(long)arg;
	char buf[MSG];
	ssize_t n, off, w;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < n; off += w) {
			w = write(fd, buf + off, n - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				goto out;
		}
	}
out:
	close(fd);
	finished(1);
	return NULL;
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	while (sigwait(set, &sig) != 0)
		;
	report_and_exit();
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	const char *bind_addr = "127.0.0.1";
	pthread_attr_t detached;
	static sigset_t set;
	pthread_t t;
	int port = 7007, lfd, fd, opt, one = 1;

	while ((opt = getopt(argc, argv, "p:b:n:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'b': bind_addr = optarg; break;
		case 'n': exit_after = atol(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-p port] [-b addr] [-n N]\n", argv[0]);
			return 2;
		}
	}

	/* Every thread inherits this mask; only signal_thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, signal_thread, &set) != 0) {
		perror("pthread_create");
		return 1;
	}

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		perror("socket/address");
		return 1;
	}
	sa.sin_port = htons(port);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, SOMAXCONN) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		perror("bind/listen");
		return 1;
	}
	printf("listening on %s:%d\n", bind_addr, ntohs(sa.sin_port));
	fflush(stdout);

	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS)
				usleep(10000);	/* out of fds: let some close */
			else if (errno != EINTR && errno != ECONNABORTED)
				perror("accept");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_mutex_lock(&lock);
		if (++active > peak)
			peak = active;
		created++;
		pthread_mutex_unlock(&lock);
		if (pthread_create(&t, &detached, connection, (void *)(long)fd) != 0) {
			/* Out of threads: refuse this one, as such daemons do. */
			close(fd);
			pthread_mutex_lock(&lock);
			created--;
			pthread_mutex_unlock(&lock);
			finished(0);
			usleep(10000);
		}
	}
}
