/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdio.c — the retry loop behind every blocking call on a descriptor.
 *
 * "Do the speculative call first, wait only after it fails" (libdill), with
 * one refinement for the hot path: after a read came up short the socket or
 * pipe is known to be drained, so the next read parks first instead of
 * paying for a call that would say EAGAIN.  A read that finds data ready
 * costs one syscall; a round trip of an echo server costs the read, the
 * write and its share of the hub's epoll_wait.
 *
 * Called by shim/io.c and shim/net.c.  Returns what the try returned, or
 * -EAGAIN when SO_RCVTIMEO/SO_SNDTIMEO ran out (libc's errno for it),
 * -EINTR/-ECANCELED as the signal and cancel rules say, -EXDEV when this
 * OS thread cannot wait on the fd (the caller then makes the real,
 * blocking call).
 */
#include "green.h"

long gr_io(int fd, struct gr_fd *f, int ev, long (*try)(int, void *, bool),
	   void *arg, enum gr_wait why)
{
	int64_t timeo = ev == GR_EV_READ ? f->rcvtimeo : f->sndtimeo;
	int64_t deadline = 0;
	bool waited = false;
	int saved = errno; /* the tries' EAGAIN is ours, not the caller's */
	long r;

	for (;;) {
		if (!(ev == GR_EV_READ && f->drained && !waited)) {
			r = try(fd, arg, waited);
			if (r != -EAGAIN) {
				/* A read that had to wait marks a ping-pong:
				 * the next one parks first (see the file
				 * comment). */
				if (ev == GR_EV_READ && r >= 0)
					f->drained = waited;
				if (r >= 0)
					errno = saved;
				return r;
			}
		}
		if (timeo && !deadline)
			deadline = gr_now() + timeo;
		r = gr_fd_wait(fd, ev, deadline, why);
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r == -ECANCELED) {
			gr_testcancel();
			continue;
		}
		/* Linux restarts a socket call after an SA_RESTART handler
		 * unless the socket has a timeout set. */
		r = gr_intr(r, timeo == 0);
		if (r < 0)
			return r;
		waited = true;
		f->drained = 0;
	}
}
