/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ownfd.c — the calls through which the shim's own descriptors are made
 * or could be lost: epoll_create/epoll_create1/eventfd (libev makes its
 * loop's fds with them inside ev_loop_new: with gr_tls_shimfd set they are
 * moved out of the program's way) and close_range/closefrom (a daemon's
 * "close everything": they step around the shim's fds).  The policy lives
 * in runtime/core/shimfd.c.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "green.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif

GR_EXPORT int epoll_create1(int flags)
{
	int fd = REAL(epoll_create1)(flags);

	return gr_tls_shimfd ? gr_shimfd_hide(fd) : fd;
}

GR_EXPORT int epoll_create(int size)
{
	int fd = REAL(epoll_create)(size);

	return gr_tls_shimfd ? gr_shimfd_hide(fd) : fd;
}

GR_EXPORT int eventfd(unsigned init, int flags)
{
	int fd = REAL(eventfd)(init, flags);

	return gr_tls_shimfd ? gr_shimfd_hide(fd) : fd;
}

/* Close [lo, hi] for the program: the fd table forgets those numbers
 * (parked users get EBADF), the kernel closes them in pieces that leave
 * the shim's own fds out. */
static int close_span(unsigned lo, unsigned hi, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		gr_fd_close_range(lo, hi);
	return REAL(close_range)(lo, hi, flags);
}

GR_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	unsigned cur = lo, end;

	if (lo > hi || gr_tls_shimfd)
		return REAL(close_range)(lo, hi, flags);
	end = hi < GR_SHIMFD_MAX - 1 ? hi : GR_SHIMFD_MAX - 1;
	for (unsigned w = lo >> 6; lo < GR_SHIMFD_MAX && w <= end >> 6; w++) {
		uint64_t bits = atomic_load_explicit(&gr_shimfd_bits[w],
						     memory_order_relaxed);

		while (bits) {
			unsigned fd = w * 64 + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (fd < cur || fd > end)
				continue;
			if (fd > cur && close_span(cur, fd - 1, flags) != 0)
				return -1;
			cur = fd + 1;
		}
	}
	if (cur > hi)
		return 0;
	return close_span(cur, hi, flags);
}

GR_EXPORT void closefrom(int lo)
{
	int e = errno;

	if (lo < 0)
		lo = 0;
	close_range((unsigned)lo, ~0U, 0);
	errno = e;
}
