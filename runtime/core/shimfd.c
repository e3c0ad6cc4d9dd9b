/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shimfd.c — the shim's own file descriptors, kept out of the program's way.
 *
 * A daemon closes every fd from 3 to the limit, calls closefrom(3), or
 * dup2()s a file onto every number from 3 to 200 (gevent issue #1008: a
 * daemoniser closed the loop's epoll fd).  The shim's fds must survive all
 * of that and never take a number the program expects to get itself.  So:
 *  - each fd the shim makes for itself is moved near the top of the soft
 *    RLIMIT_NOFILE (F_DUPFD_CLOEXEC from there, the low number closed) and
 *    marked in a bitmap: the program's fds come lowest-first and meet ours
 *    only when it has almost the whole table open;
 *  - the close/dup2/dup3/close_range/closefrom wrappers ask
 *    gr_shimfd_guarded(): a marked fd is not the program's, so its close
 *    answers EBADF (as for an fd it never had), close_range and closefrom
 *    step around it, and dup2 onto it answers EBADF (as for a number
 *    beyond the limit);
 *  - fds libev makes inside ev_loop_new (epoll, eventfd) come through the
 *    shim's epoll_create1/eventfd wrappers while gr_tls_shimfd is set
 *    (shim/ownfd.c), which hide them the same way.
 * Nothing here reopens anything by path: a daemon that chroots or drops
 * privileges later keeps every fd it had.
 *
 * Callers: hub.c (timerfd, loop), signal.c (signalfd), proc.c (pidfds),
 * resolver.c (c-ares sockets), shim/ownfd.c and shim/fdops.c.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "green.h"

/* How far below the soft limit our zone starts. */
#define GR_SHIMFD_ZONE 256

_Atomic uint64_t gr_shimfd_bits[GR_SHIMFD_MAX / 64];
__thread int gr_tls_shimfd;

static void mark(int fd, bool on)
{
	uint64_t bit = 1ULL << (fd & 63);

	if ((unsigned)fd >= GR_SHIMFD_MAX)
		return;
	if (on)
		atomic_fetch_or(&gr_shimfd_bits[fd >> 6], bit);
	else
		atomic_fetch_and(&gr_shimfd_bits[fd >> 6], ~bit);
}

static int zone_base(void)
{
	struct rlimit rl;
	rlim_t lim = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		lim = rl.rlim_cur;
	if (lim > GR_SHIMFD_MAX)
		lim = GR_SHIMFD_MAX;
	if (lim > 4 * GR_SHIMFD_ZONE)
		return (int)(lim - GR_SHIMFD_ZONE);
	return (int)(lim * 3 / 4);
}

int gr_shimfd_hide(int fd)
{
	int base, n;

	if (fd < 0)
		return fd;
	base = zone_base();
	if (fd < base) {
		n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, base);
		if (n < 0) /* the zone is full: below it, as high as we can */
			n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC,
					base / 2 > fd ? base / 2 : fd);
		if (n >= 0 && n != fd) {
			REAL(close)(fd);
			fd = n;
		}
	}
	mark(fd, true);
	return fd;
}

int gr_shimfd_close(int fd)
{
	mark(fd, false);
	return REAL(close)(fd);
}

/* The fd stopped being ours (closed by libev with gr_tls_shimfd set). */
void gr_shimfd_forget(int fd)
{
	mark(fd, false);
}
