/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=90 */
/*
 * A daemon(3)-style server, in an explicit test mode: fork, and in the child
 * setsid(), chdir("/"), close every fd from 3 to the soft limit (a loop, then
 * closefrom(3) and close_range(3, ~0U) as well), open a listening socket on
 * 127.0.0.1 and serve 100 concurrent clients, one thread each, with a sleep
 * and getaddrinfo("localhost") per request. stdout is not detached; the port
 * goes back to the parent on fd 0. The clients are 100 threads in the parent,
 * which checks every answer and reaps the daemon.
 * Variant 2 first dup2()s one file onto every fd from 3 to 200, serves, and
 * checks that those fds still all refer to that file afterwards.
 * Both variants run twice: once as above (our own fork and setsid), once
 * made with daemon(0, 0) itself, where the fork happens inside libc (so only
 * the atfork handlers can reset the child's runtime), the parent side exits
 * at once and fds 0-2 become /dev/null; that daemon is not our child, and
 * the answers are the proof.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NCLIENTS 100
#define DUP_TOP 200

/* Read one line (bounded), returns its length or -1. */
static int read_line(int fd, char *buf, int size)
{
	int n = 0;

	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = 0;
	return n;
}

/* ---- the daemon ---- */

static atomic_int in_flight, max_in_flight;

static int localhost_is_loopback(void)
{
	struct addrinfo hints, *res, *ai;
	int ok = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;

		if (sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			ok = 1;
	}
	freeaddrinfo(res);
	return ok;
}

static void *serve_one(void *arg)
{
	int fd = (int)(long)arg, n, id, cur;
	char line[128];

	cur = atomic_fetch_add(&in_flight, 1) + 1;
	for (int m = atomic_load(&max_in_flight); cur > m &&
	     !atomic_compare_exchange_weak(&max_in_flight, &m, cur);)
		;
	if (read_line(fd, line, sizeof line) > 0 &&
	    sscanf(line, "hello %d", &id) == 1) {
		usleep(100000);
		n = snprintf(line, sizeof line, "answer %d %s\n", 2 * id + 1,
			     localhost_is_loopback() ? "loopback" : "bad-dns");
		write_full(fd, line, n);
	}
	atomic_fetch_sub(&in_flight, 1);
	close(fd);
	return NULL;
}

static int same_file(int fd, const struct stat *want)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == want->st_dev &&
	       st.st_ino == want->st_ino;
}

/* How the daemon is made: our fork and setsid(), or daemon(3). */
static int use_daemon3;

/* The daemon's whole life; returns its exit code. fd 0 is the report pipe. */
static int daemon_main(int variant)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	pthread_t th[NCLIENTS];
	struct rlimit rl;
	struct stat fst;
	char buf[64];
	int lfd, n, open_fds = 0;

	alarm(60);		/* failsafe: a stuck daemon dies */
	if (use_daemon3 && getsid(0) != getpid()) {	/* daemon() made it */
		fprintf(stderr, "FAIL: daemon: not a session leader\n");
		return 20;
	}
	if (!use_daemon3 && (setsid() < 0 || getsid(0) != getpid())) {
		fprintf(stderr, "FAIL: daemon: setsid\n");
		return 20;
	}
	if (chdir("/") != 0)
		return 21;
	umask(0);

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 22;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 1 << 20; fd++)
		close((int)fd);
	closefrom(3);
	if (close_range(3, ~0U, 0) != 0) {
		fprintf(stderr, "FAIL: daemon: close_range: %s\n",
			strerror(errno));
		return 23;
	}
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			open_fds++;
	fprintf(stderr, "daemon %d: %d fds open in 3..1023 after closing\n",
		variant, open_fds);

	if (variant == 2) {
		char path[] = "/tmp/proc_daemon.XXXXXX";
		int f = mkstemp(path);

		if (f < 0)
			return 24;
		unlink(path);
		if (fstat(f, &fst) != 0)
			return 25;
		for (int fd = 3; fd <= DUP_TOP; fd++)
			if (fd != f && dup2(f, fd) != fd) {
				fprintf(stderr, "FAIL: daemon: dup2 onto %d\n",
					fd);
				return 26;
			}
		if (f > DUP_TOP)
			close(f);
	}

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return 27;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(lfd, 256) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0)
		return 28;
	if (variant == 2 && lfd <= DUP_TOP) {
		fprintf(stderr, "FAIL: daemon: socket got fd %d, inside the "
			"dup2'd range\n", lfd);
		return 29;
	}

	/* Report the port on fd 0, then make fd 0 /dev/null as daemons do. */
	n = snprintf(buf, sizeof buf, "%d\n", ntohs(sin.sin_port));
	if (write_full(0, buf, n) != 0)
		return 30;
	close(0);
	if (open("/dev/null", O_RDWR) != 0)
		return 31;

	for (int i = 0; i < NCLIENTS; i++) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			fprintf(stderr, "FAIL: daemon: accept: %s\n",
				strerror(errno));
			return 32;
		}
		if (pthread_create(&th[i], NULL, serve_one, (void *)(long)c)) {
			fprintf(stderr, "FAIL: daemon: pthread_create\n");
			return 33;
		}
	}
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(th[i], NULL);
	close(lfd);
	fprintf(stderr, "daemon %d: at most %d requests in flight\n", variant,
		atomic_load(&max_in_flight));

	if (variant == 2)
		for (int fd = 3; fd <= DUP_TOP; fd++)
			if (!same_file(fd, &fst)) {
				fprintf(stderr, "FAIL: daemon: fd %d no longer "
					"the dup2'd file after serving\n", fd);
				return 34;
			}
	return 0;
}

/* ---- the parent and its clients ---- */

static int port;
static int answer_ok[NCLIENTS];

static void *client(void *arg)
{
	int id = (int)(long)arg, fd, n, val;
	struct sockaddr_in sin;
	char line[128], word[32];

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		fprintf(stderr, "client %d: connect: %s\n", id,
			strerror(errno));
		close(fd);
		return NULL;
	}
	n = snprintf(line, sizeof line, "hello %d\n", id);
	if (write_full(fd, line, n) == 0 && read_line(fd, line, sizeof line) > 0
	    && sscanf(line, "answer %d %31s", &val, word) == 2 &&
	    val == 2 * id + 1 && strcmp(word, "loopback") == 0)
		answer_ok[id] = 1;
	else
		fprintf(stderr, "client %d: bad answer \"%s\"\n", id, line);
	close(fd);
	return NULL;
}

static void run_variant(int variant)
{
	pthread_t th[NCLIENTS];
	struct pollfd pfd;
	char buf[32];
	int p[2], st, ok = 0;
	double t;
	pid_t pid;

	memset(answer_ok, 0, sizeof answer_ok);
	if (pipe(p) != 0)
		fail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		if (use_daemon3 && daemon(0, 0) != 0)
			_exit(18);
		if (dup2(p[1], 0) != 0)
			_exit(19);
		_exit(daemon_main(variant));
	}
	close(p[1]);

	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 20000) != 1 || read_line(p[0], buf, sizeof buf) <= 0
	    || (port = atoi(buf)) <= 0) {
		waitpid(pid, &st, 0);
		fprintf(stderr, "FAIL: variant %d: daemon reported no port "
			"(status 0x%x)\n", variant, st);
		exit(1);
	}
	close(p[0]);

	t = now();
	for (long i = 0; i < NCLIENTS; i++)
		if (pthread_create(&th[i], NULL, client, (void *)i) != 0)
			fail("pthread_create");
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	for (int i = 0; i < NCLIENTS; i++)
		ok += answer_ok[i];

	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid(daemon)");
	fprintf(stderr, "variant %d: %d answers ok in %.3f s, daemon status "
		"0x%x\n", variant, ok, t, st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAIL: variant %d: daemon status 0x%x\n",
			variant, st);
		exit(1);
	}
	if (ok != NCLIENTS) {
		fprintf(stderr, "FAIL: variant %d: %d of %d answers right\n",
			variant, ok, NCLIENTS);
		exit(1);
	}
	/* 100 requests of 100 ms each: served one by one would take 10 s. */
	if (t >= 5) {
		fprintf(stderr, "FAIL: variant %d: clients took %.3f s, the "
			"daemon did not serve them concurrently\n", variant, t);
		exit(1);
	}
	printf("%s variant %d: %d concurrent clients served, daemon "
	       "exit 0\n", use_daemon3 ? "daemon(3)" : "fork+setsid", variant,
	       NCLIENTS);
}

int main(void)
{
	for (use_daemon3 = 0; use_daemon3 <= 1; use_daemon3++) {
		run_variant(1);
		run_variant(2);
	}
	return 0;
}
