/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Every blocking I/O call of the spec, each once with a thread parked in it
 * before the data comes, and the calls that change what an fd is:
 *  readv/writev on a pipe and a socket; pread/pwrite (and 64), preadv/pwritev,
 *  preadv2/pwritev2 on a file (offsets, file position untouched) and on a
 *  pipe (offset -1); recvfrom/sendto on UDP loopback; recvmsg/sendmsg passing
 *  fds with SCM_RIGHTS; recvmmsg/sendmmsg (blocking until vlen, and
 *  MSG_WAITFORONE); sendfile file -> TCP; splice pipe -> TCP -> pipe;
 *  accept4 flags; socket(SOCK_NONBLOCK); pipe2(O_NONBLOCK|O_CLOEXEC);
 *  ioctl(FIONBIO) both ways; dup/dup3/F_DUPFD_CLOEXEC share the file
 *  description's flags but not FD_CLOEXEC; shutdown wakes a parked reader
 *  with 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define BIG (256 * 1024)

static int is_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		fail("F_GETFL");
	return !!(fl & O_NONBLOCK);
}

static int is_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		fail("F_GETFD");
	return !!(fl & FD_CLOEXEC);
}

static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int l;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		fail("listener");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sa, len) < 0)
		fail("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		fail("accept");
	close(l);
}

static int udp_bound(struct sockaddr_in *sa)
{
	socklen_t len = sizeof *sa;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)sa, len) < 0 ||
	    getsockname(s, (struct sockaddr *)sa, &len) < 0)
		fail("UDP socket");
	return s;
}

/*
 * A call made by a background thread, started before its data exists.
 * Each case fills in fn; the thread records ret, errno and elapsed time.
 */
struct bg {
	pthread_t t;
	ssize_t (*fn)(struct bg *);
	int fd, fd2;
	ssize_t ret;
	int err;
	double el;
	char buf[512];
	void *p;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	double t0 = now();

	b->ret = b->fn(b);
	b->err = errno;
	b->el = now() - t0;
	return NULL;
}

static void bg_start(struct bg *b, ssize_t (*fn)(struct bg *), int fd)
{
	b->fn = fn;
	b->fd = fd;
	b->ret = -2;
	if (pthread_create(&b->t, NULL, bg_main, b) != 0)
		fail("pthread_create");
	usleep(100000);		/* let it park */
}

static void bg_join(struct bg *b, const char *what)
{
	pthread_join(b->t, NULL);
	if (b->ret < 0) {
		fprintf(stderr, "FAIL: %s: returned %zd errno %d (%s)\n", what, b->ret,
			b->err, strerror(b->err));
		exit(1);
	}
	if (b->el < 0.05) {
		fprintf(stderr, "FAIL: %s: returned after %.3f s, before its data came\n",
			what, b->el);
		exit(1);
	}
}

/* ---- vectored reads and writes ---------------------------------------- */

static ssize_t do_readv(struct bg *b)
{
	struct iovec iov[2] = { { b->buf, 5 }, { b->buf + 5, 100 } };

	return readv(b->fd, iov, 2);
}

static ssize_t do_preadv2_pipe(struct bg *b)
{
	struct iovec iov[2] = { { b->buf, 3 }, { b->buf + 3, 100 } };

	return preadv2(b->fd, iov, 2, -1, 0);
}

static void vectored_on(int rfd, int wfd, const char *kind)
{
	struct iovec out[3] = { { "hello", 5 }, { " ", 1 }, { "world", 5 } };
	struct bg b = { 0 };

	bg_start(&b, do_readv, rfd);
	check(writev(wfd, out, 3) == 11, "writev");
	bg_join(&b, "readv");
	check(b.ret == 11 && memcmp(b.buf, "hello world", 11) == 0, "readv data");

	memset(&b, 0, sizeof b);
	bg_start(&b, do_preadv2_pipe, rfd);
	check(pwritev2(wfd, out, 3, -1, 0) == 11, "pwritev2 offset -1");
	bg_join(&b, "preadv2 offset -1");
	check(b.ret == 11 && memcmp(b.buf, "hello world", 11) == 0, "preadv2 data");
	fprintf(stderr, "vectored I/O on %s ok\n", kind);
}

static void test_vectored(void)
{
	int p[2], s[2];

	if (pipe(p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("pipe/socketpair");
	vectored_on(p[0], p[1], "pipe");
	vectored_on(s[0], s[1], "socket");
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	printf("readv/writev, preadv2/pwritev2(-1) on pipe and socket ok\n");
}

/* ---- positioned I/O on a file ------------------------------------------ */

static void test_positioned(void)
{
	char path[] = "/tmp/io_calls.XXXXXX", buf[32];
	struct iovec out[2] = { { "abc", 3 }, { "defg", 4 } };
	struct iovec in[2] = { { buf, 2 }, { buf + 2, 5 } };
	int fd = mkstemp(path), p[2];

	if (fd < 0)
		fail("mkstemp");
	unlink(path);
	check(pwrite(fd, "0123456789", 10, 100) == 10, "pwrite");
	check(lseek(fd, 0, SEEK_CUR) == 0, "pwrite moved the file position");
	check(lseek(fd, 0, SEEK_END) == 110 && lseek(fd, 0, SEEK_SET) == 0, "file size");
	check(pread(fd, buf, 4, 103) == 4 && memcmp(buf, "3456", 4) == 0, "pread");
	check(pwrite64(fd, "XY", 2, 104) == 2, "pwrite64");
	check(pread64(fd, buf, 10, 100) == 10 && memcmp(buf, "0123XY6789", 10) == 0,
	      "pread64");
	check(pwritev(fd, out, 2, 200) == 7, "pwritev");
	memset(buf, 0, sizeof buf);
	check(preadv(fd, in, 2, 200) == 7 && memcmp(buf, "abcdefg", 7) == 0, "preadv");
	check(pread(fd, buf, 32, 205) == 2, "pread at the end is short");
	check(pread(fd, buf, 32, 1000) == 0, "pread past the end is 0");
	check(lseek(fd, 0, SEEK_CUR) == 0, "positioned calls moved the file position");
	/* offset -1: the v2 calls use and advance the file position. */
	check(pwritev2(fd, out, 2, -1, 0) == 7 && lseek(fd, 0, SEEK_CUR) == 7,
	      "pwritev2 -1 advances");
	check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	memset(buf, 0, sizeof buf);
	check(preadv2(fd, in, 2, -1, 0) == 7 && memcmp(buf, "abcdefg", 7) == 0 &&
	      lseek(fd, 0, SEEK_CUR) == 7, "preadv2 -1 advances");
	check(preadv2(fd, in, 2, 202, 0) == 5 && memcmp(buf, "cdefg", 5) == 0 &&
	      lseek(fd, 0, SEEK_CUR) == 7, "preadv2 at an offset");
	close(fd);

	if (pipe(p) < 0)
		fail("pipe");
	check(pread(p[0], buf, 1, 0) == -1 && errno == ESPIPE, "pread on a pipe: ESPIPE");
	check(pwrite(p[1], "x", 1, 0) == -1 && errno == ESPIPE,
	      "pwrite on a pipe: ESPIPE");
	close(p[0]);
	close(p[1]);
	printf("pread/pwrite/preadv/pwritev/preadv2/pwritev2 on a file ok\n");
}

/* ---- datagrams --------------------------------------------------------- */

static ssize_t do_recvfrom(struct bg *b)
{
	socklen_t len = sizeof(struct sockaddr_in);

	return recvfrom(b->fd, b->buf, sizeof b->buf, 0, b->p, &len);
}

static ssize_t do_recvmmsg(struct bg *b)
{
	static char bufs[4][64];
	static struct iovec iov[4];
	struct mmsghdr *m = b->p;

	for (int i = 0; i < 4; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
		memset(&m[i], 0, sizeof m[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	return recvmmsg(b->fd, m, 4, b->fd2, NULL);
}

static int sendmmsg_n(int fd, struct sockaddr_in *to, int first, int n)
{
	struct mmsghdr m[4];
	struct iovec iov[4];
	static char data[8][16];

	for (int i = 0; i < n; i++) {
		snprintf(data[first + i], sizeof data[0], "dgram %d", first + i);
		iov[i] = (struct iovec){ data[first + i], strlen(data[first + i]) };
		memset(&m[i], 0, sizeof m[i]);
		m[i].msg_hdr.msg_name = to;
		m[i].msg_hdr.msg_namelen = sizeof *to;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	return sendmmsg(fd, m, n, 0);
}

static void test_udp(void)
{
	struct sockaddr_in ra, sa, from;
	struct mmsghdr m[4];
	struct bg b = { 0 };
	int r = udp_bound(&ra), s = udp_bound(&sa);

	b.p = &from;
	bg_start(&b, do_recvfrom, r);
	check(sendto(s, "datagram", 8, 0, (struct sockaddr *)&ra, sizeof ra) == 8,
	      "sendto");
	bg_join(&b, "recvfrom");
	check(b.ret == 8 && memcmp(b.buf, "datagram", 8) == 0, "recvfrom data");
	check(from.sin_port == sa.sin_port && from.sin_addr.s_addr == sa.sin_addr.s_addr,
	      "recvfrom source address");

	/* Without MSG_WAITFORONE a blocking recvmmsg waits for all vlen. */
	memset(&b, 0, sizeof b);
	b.p = m;
	b.fd2 = 0;
	bg_start(&b, do_recvmmsg, r);
	check(sendmmsg_n(s, &ra, 0, 2) == 2, "sendmmsg");
	usleep(150000);
	check(sendmmsg_n(s, &ra, 2, 2) == 2, "sendmmsg");
	bg_join(&b, "recvmmsg");
	check(b.ret == 4 && b.el >= 0.24, "recvmmsg did not wait for all 4 datagrams");
	for (int i = 0; i < 4; i++) {
		char want[16];

		snprintf(want, sizeof want, "dgram %d", i);
		check(m[i].msg_len == strlen(want) &&
		      memcmp(m[i].msg_hdr.msg_iov->iov_base, want, strlen(want)) == 0,
		      "recvmmsg data");
	}

	memset(&b, 0, sizeof b);
	b.p = m;
	b.fd2 = MSG_WAITFORONE;
	bg_start(&b, do_recvmmsg, r);
	check(sendmmsg_n(s, &ra, 4, 1) == 1, "sendmmsg");
	bg_join(&b, "recvmmsg MSG_WAITFORONE");
	check(b.ret == 1 && memcmp(m[0].msg_hdr.msg_iov->iov_base, "dgram 4", 7) == 0,
	      "parked recvmmsg MSG_WAITFORONE returns the one datagram");
	check(sendmmsg_n(s, &ra, 5, 2) == 2, "sendmmsg");
	usleep(50000);
	b.fd2 = MSG_WAITFORONE;
	check(do_recvmmsg(&b) == 2 &&
	      memcmp(m[1].msg_hdr.msg_iov->iov_base, "dgram 6", 7) == 0,
	      "recvmmsg MSG_WAITFORONE returns all that is there");
	close(r);
	close(s);
	printf("recvfrom/sendto, recvmmsg/sendmmsg on UDP ok\n");
}

/* ---- SCM_RIGHTS -------------------------------------------------------- */

static ssize_t do_recvmsg_fd(struct bg *b)
{
	union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { b->buf, sizeof b->buf };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.c, .msg_controllen = sizeof ctl.c };
	struct cmsghdr *c;
	ssize_t n = recvmsg(b->fd, &mh, b->fd2);

	if (n < 0)
		return n;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -3;
	memcpy(&b->fd2, CMSG_DATA(c), sizeof(int));
	return n;
}

static void send_fd(int sock, int fd)
{
	union { struct cmsghdr h; char c[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { "fd", 2 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.c, .msg_controllen = sizeof ctl.c };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof ctl);	/* the padding after the fd too */
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sock, &mh, 0) != 2)
		fail("sendmsg SCM_RIGHTS");
}

static ssize_t do_read(struct bg *b)
{
	return read(b->fd, b->buf, sizeof b->buf);
}

static void test_scm_rights(void)
{
	struct bg b = { 0 }, r = { 0 };
	int u[2], x[2], got;
	char buf[16];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, u) < 0 || pipe(x) < 0)
		fail("socketpair/pipe");
	/* Receive the pipe's write end, close-on-exec. */
	b.fd2 = MSG_CMSG_CLOEXEC;
	bg_start(&b, do_recvmsg_fd, u[0]);
	send_fd(u[1], x[1]);
	bg_join(&b, "recvmsg SCM_RIGHTS");
	got = b.fd2;
	check(b.ret == 2 && got != x[1], "recvmsg got a new fd");
	check(is_cloexec(got), "MSG_CMSG_CLOEXEC fd without FD_CLOEXEC");
	check(!is_nonblock(got) && (fcntl(got, F_GETFL) & O_ACCMODE) == O_WRONLY,
	      "received fd flags");
	check(write(got, "scm", 3) == 3 && read(x[0], buf, 3) == 3 &&
	      memcmp(buf, "scm", 3) == 0, "write through the received fd");
	close(got);

	/* Receive the read end and park a reader on it. */
	memset(&b, 0, sizeof b);
	bg_start(&b, do_recvmsg_fd, u[0]);
	send_fd(u[1], x[0]);
	bg_join(&b, "recvmsg SCM_RIGHTS");
	got = b.fd2;
	check(!is_cloexec(got) && !is_nonblock(got), "received read end flags");
	bg_start(&r, do_read, got);
	check(write(x[1], "parked", 6) == 6, "write");
	bg_join(&r, "read on a received fd");
	check(r.ret == 6 && memcmp(r.buf, "parked", 6) == 0, "read on a received fd");
	check(!is_nonblock(x[0]), "the sender's fd became non-blocking");
	close(got);
	close(x[0]);
	close(x[1]);
	close(u[0]);
	close(u[1]);
	printf("recvmsg/sendmsg SCM_RIGHTS ok\n");
}

/* ---- sendfile and splice ----------------------------------------------- */

static ssize_t do_read_all(struct bg *b)
{
	unsigned char *dst = b->p;
	ssize_t got = 0, n;

	while (got < BIG) {
		n = read(b->fd, dst + got, BIG - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return got;
}

static ssize_t do_splice_in(struct bg *b)
{
	return splice(b->fd, NULL, b->fd2, NULL, 4096, 0);
}

static void test_sendfile_splice(void)
{
	static unsigned char data[BIG], back[BIG];
	char path[] = "/tmp/io_calls.XXXXXX";
	struct bg b = { 0 };
	int fd = mkstemp(path), a, s, p[2], q[2], i;
	off_t off = 0;
	ssize_t n;

	if (fd < 0)
		fail("mkstemp");
	unlink(path);
	for (i = 0; i < BIG; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	check(write(fd, data, BIG) == BIG, "write file");
	check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	tcp_pair(&a, &s);
	{
		/* Small buffers: sendfile must wait for the reader many times. */
		int sz = 16384;

		setsockopt(a, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	b.p = back;
	bg_start(&b, do_read_all, s);
	for (i = 0; i < 100000 && off < BIG; i++) {
		n = sendfile(a, fd, &off, BIG - off);
		if (n <= 0)
			fail("sendfile");
	}
	bg_join(&b, "read of sendfile data");
	check(off == BIG && memcmp(data, back, BIG) == 0, "sendfile data");
	check(lseek(fd, 0, SEEK_CUR) == 0, "sendfile with an offset moved the file");
	close(a);
	close(s);
	tcp_pair(&a, &s);

	/* pipe -> socket */
	if (pipe(p) < 0 || pipe(q) < 0)
		fail("pipe");
	check(write(p[1], data, 32768) == 32768, "write pipe");
	n = splice(p[0], NULL, a, NULL, 32768, 0);
	check(n > 0, "splice pipe -> socket");
	for (ssize_t got = 0, k; got < n; got += k) {
		k = read(s, back + got, n - got);
		if (k <= 0)
			fail("read spliced data");
	}
	check(memcmp(back, data, n) == 0, "spliced data (pipe -> socket)");

	/* socket -> pipe, parked before the data comes */
	b = (struct bg){ 0 };
	b.fd2 = q[1];
	bg_start(&b, do_splice_in, s);
	check(write(a, "spliced", 7) == 7, "write socket");
	bg_join(&b, "splice socket -> pipe");
	check(b.ret == 7 && read(q[0], back, 7) == 7 && memcmp(back, "spliced", 7) == 0,
	      "spliced data (socket -> pipe)");
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(a);
	close(s);
	close(fd);
	printf("sendfile file -> TCP, splice pipe <-> TCP ok\n");
}

/* ---- flags: accept4, SOCK_NONBLOCK, pipe2, FIONBIO, dup ---------------- */

static ssize_t do_accept4(struct bg *b)
{
	return accept4(b->fd, NULL, NULL, b->fd2);
}

static void expect_eagain_now(int fd, const char *what)
{
	double t0 = now();
	char c;

	if (read(fd, &c, 1) != -1 || errno != EAGAIN || now() - t0 > 0.1) {
		fprintf(stderr, "FAIL: %s: read on an empty non-blocking fd is not "
			"EAGAIN at once\n", what);
		exit(1);
	}
}

static void test_accept4_socket_flags(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct bg b = { 0 }, r = { 0 };
	int l, c1, c2, u;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		fail("listener");

	b.fd2 = SOCK_NONBLOCK | SOCK_CLOEXEC;
	bg_start(&b, do_accept4, l);
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	if (c1 < 0 || connect(c1, (struct sockaddr *)&sa, len) < 0)
		fail("connect");
	bg_join(&b, "accept4 SOCK_NONBLOCK|SOCK_CLOEXEC");
	check(is_nonblock(b.ret) && is_cloexec(b.ret), "accept4 flags not reported");
	expect_eagain_now(b.ret, "accept4 SOCK_NONBLOCK");
	close(b.ret);

	memset(&b, 0, sizeof b);
	b.fd2 = 0;
	bg_start(&b, do_accept4, l);
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&sa, len) < 0)
		fail("connect");
	bg_join(&b, "accept4 0");
	check(!is_nonblock(b.ret) && !is_cloexec(b.ret), "accept4(0) fd flags");
	bg_start(&r, do_read, b.ret);
	check(write(c2, "blocking", 8) == 8, "write");
	bg_join(&r, "read on an accept4(0) fd");
	check(r.ret == 8, "read on an accept4(0) fd");
	close(b.ret);
	close(c1);
	close(c2);
	close(l);

	u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u < 0)
		fail("socket SOCK_NONBLOCK");
	check(is_nonblock(u) && is_cloexec(u), "socket() flags not reported");
	check(bind(u, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
		   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof sa) == 0, "bind");
	expect_eagain_now(u, "socket SOCK_NONBLOCK");
	{
		char c;
		double t0 = now();
		check(recv(u, &c, 1, 0) == -1 && errno == EAGAIN && now() - t0 < 0.1,
		      "recv on SOCK_NONBLOCK socket is not EAGAIN at once");
	}
	close(u);
	printf("accept4 and socket() flags ok\n");
}

static void test_pipe2_fionbio(void)
{
	struct bg r = { 0 };
	char chunk[4096];
	int p[2], s[2], on, i;
	ssize_t n = 0;

	if (pipe2(p, O_NONBLOCK) < 0)
		fail("pipe2");
	check(is_nonblock(p[0]) && is_nonblock(p[1]) && !is_cloexec(p[0]),
	      "pipe2(O_NONBLOCK) flags");
	expect_eagain_now(p[0], "pipe2 O_NONBLOCK");
	memset(chunk, 'p', sizeof chunk);
	for (i = 0; i < 1000 && (n = write(p[1], chunk, sizeof chunk)) > 0; i++)
		;
	check(n == -1 && errno == EAGAIN, "full O_NONBLOCK pipe write is not EAGAIN");
	close(p[0]);
	close(p[1]);

	if (pipe2(p, O_CLOEXEC) < 0)
		fail("pipe2");
	check(!is_nonblock(p[0]) && is_cloexec(p[0]) && is_cloexec(p[1]),
	      "pipe2(O_CLOEXEC) flags");
	bg_start(&r, do_read, p[0]);
	check(write(p[1], "pipe2", 5) == 5, "write");
	bg_join(&r, "read on a pipe2(O_CLOEXEC) pipe");
	close(p[0]);
	close(p[1]);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	on = 1;
	check(ioctl(s[0], FIONBIO, &on) == 0 && is_nonblock(s[0]), "FIONBIO on");
	expect_eagain_now(s[0], "FIONBIO on");
	on = 0;
	check(ioctl(s[0], FIONBIO, &on) == 0 && !is_nonblock(s[0]), "FIONBIO off");
	memset(&r, 0, sizeof r);
	bg_start(&r, do_read, s[0]);
	check(write(s[1], "fionbio", 7) == 7, "write");
	bg_join(&r, "read after FIONBIO off");
	check(r.ret == 7, "read after FIONBIO off");

	/* The same with fcntl. */
	check(fcntl(s[0], F_SETFL, fcntl(s[0], F_GETFL) | O_NONBLOCK) == 0 &&
	      is_nonblock(s[0]), "F_SETFL O_NONBLOCK");
	expect_eagain_now(s[0], "F_SETFL O_NONBLOCK");
	check(fcntl(s[0], F_SETFL, fcntl(s[0], F_GETFL) & ~O_NONBLOCK) == 0 &&
	      !is_nonblock(s[0]), "F_SETFL clear O_NONBLOCK");
	memset(&r, 0, sizeof r);
	bg_start(&r, do_read, s[0]);
	check(write(s[1], "fcntl", 5) == 5, "write");
	bg_join(&r, "read after clearing O_NONBLOCK");
	close(s[0]);
	close(s[1]);
	printf("pipe2, FIONBIO and F_SETFL ok\n");
}

static void test_dup(void)
{
	struct bg r = { 0 };
	int s[2], d, d3, dc, on = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	d = dup(s[0]);
	check(d >= 0 && !is_nonblock(d) && !is_cloexec(d), "dup flags");
	/* O_NONBLOCK belongs to the description: set through one, seen by both. */
	check(ioctl(d, FIONBIO, &on) == 0, "FIONBIO");
	check(is_nonblock(s[0]), "O_NONBLOCK set on a dup not seen on the original");
	expect_eagain_now(s[0], "original of a non-blocking dup");
	check(fcntl(s[0], F_SETFL, 0) == 0 && !is_nonblock(d), "clearing through the original");
	bg_start(&r, do_read, d);
	check(write(s[1], "dup", 3) == 3, "write");
	bg_join(&r, "read on a dup");
	check(r.ret == 3, "read on a dup");

	d3 = dup3(s[0], 50, O_CLOEXEC);
	check(d3 == 50 && is_cloexec(d3) && !is_cloexec(s[0]), "dup3 O_CLOEXEC");
	check(dup3(s[0], s[0], 0) == -1 && errno == EINVAL, "dup3 onto itself: EINVAL");
	check(dup2(s[0], s[0]) == s[0], "dup2 onto itself");
	dc = fcntl(s[0], F_DUPFD_CLOEXEC, 60);
	check(dc >= 60 && is_cloexec(dc), "F_DUPFD_CLOEXEC");
	memset(&r, 0, sizeof r);
	bg_start(&r, do_read, d3);
	check(write(s[1], "dup3", 4) == 4, "write");
	bg_join(&r, "read on a dup3");
	check(r.ret == 4, "read on a dup3");
	close(d);
	close(d3);
	close(dc);
	close(s[0]);
	close(s[1]);
	printf("dup, dup2, dup3, F_DUPFD_CLOEXEC ok\n");
}

static ssize_t do_recv(struct bg *b)
{
	return recv(b->fd, b->buf, sizeof b->buf, 0);
}

static void test_shutdown(void)
{
	struct bg r = { 0 };
	int a, b, s[2];

	tcp_pair(&a, &b);
	bg_start(&r, do_recv, b);
	check(shutdown(b, SHUT_RD) == 0, "shutdown");
	bg_join(&r, "recv woken by its own SHUT_RD");
	check(r.ret == 0, "recv woken by SHUT_RD must return 0");
	close(a);
	close(b);

	tcp_pair(&a, &b);
	memset(&r, 0, sizeof r);
	bg_start(&r, do_read, b);
	check(shutdown(a, SHUT_WR) == 0, "shutdown");
	bg_join(&r, "read woken by the peer's SHUT_WR");
	check(r.ret == 0, "read woken by the peer's SHUT_WR must return 0");
	close(a);
	close(b);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
		fail("socketpair");
	memset(&r, 0, sizeof r);
	bg_start(&r, do_recv, s[0]);
	check(shutdown(s[0], SHUT_RDWR) == 0, "shutdown");
	bg_join(&r, "recv woken by SHUT_RDWR");
	check(r.ret == 0, "recv woken by SHUT_RDWR must return 0");
	close(s[0]);
	close(s[1]);
	printf("shutdown wakes parked readers with 0\n");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_vectored();
	test_positioned();
	test_udp();
	test_scm_rights();
	test_sendfile_splice();
	test_accept4_socket_flags();
	test_pipe2_fionbio();
	test_dup();
	test_shutdown();
	return 0;
}
