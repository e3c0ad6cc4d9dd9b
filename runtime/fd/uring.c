/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uring.c — waiting for io_uring completions (liburing).
 *
 * liburing makes its system calls itself (inline `syscall` instructions),
 * so a green thread waiting in io_uring_wait_cqe() would put its whole hub
 * to sleep in io_uring_enter: MariaDB's InnoDB, whose completion thread
 * waits there from start-up, never started under the shim.  Its waits are
 * exported functions, though, and the program reaches them through the
 * PLT, so the shim has them (shim/uring.c).  A wait that has what it wants
 * already returns at once (a peek, on the calling thread); one that would
 * block is the same call made by a worker thread of the pool while the
 * green thread parks (gr_pool_run_blocking: such a wait may last for the
 * life of the ring, so it never holds back other jobs).  The ring is not
 * touched in between: submission and completion from two threads is what
 * io_uring allows (rings made with IORING_SETUP_SINGLE_ISSUER excepted: the
 * worker's call then fails with EEXIST, see green(1)).
 *
 * No liburing header is needed: the ring is passed through as it is.
 */
#include "green.h"

#define IORING_ENTER_GETEVENTS_ (1U << 0) /* linux/io_uring.h */

static long call(void *arg)
{
	struct gr_uring_call *c = arg;

	switch (c->kind) {
	case GR_URING_GET_CQE:
		return REAL(__io_uring_get_cqe)(c->ring, c->cqe, c->submit,
						c->wait_nr, c->sigmask);
	case GR_URING_WAIT_CQES:
		return REAL(io_uring_wait_cqes)(c->ring, c->cqe, c->wait_nr,
						c->ts, c->sigmask);
	case GR_URING_WAIT_CQE_TIMEOUT:
		return REAL(io_uring_wait_cqe_timeout)(c->ring, c->cqe, c->ts);
	case GR_URING_SUBMIT_AND_WAIT:
		return REAL(io_uring_submit_and_wait)(c->ring, c->wait_nr);
	case GR_URING_SUBMIT_AND_WAIT_TIMEOUT:
		return REAL(io_uring_submit_and_wait_timeout)(
		    c->ring, c->cqe, c->wait_nr, c->ts, c->sigmask);
	case GR_URING_ENTER:
		return REAL(io_uring_enter2)(c->fd, c->submit, c->wait_nr,
					     c->flags, c->sigmask, c->sz);
	case GR_URING_SQRING_WAIT:
		return REAL(__io_uring_sqring_wait)(c->ring);
	}
	return -EINVAL;
}

/* Whether the call can wait at all: a wait for no completion, or an
 * io_uring_enter without GETEVENTS, only submits. */
static bool may_wait(const struct gr_uring_call *c)
{
	switch (c->kind) {
	case GR_URING_GET_CQE:
	case GR_URING_SUBMIT_AND_WAIT:
	case GR_URING_SUBMIT_AND_WAIT_TIMEOUT:
		return c->wait_nr > 0;
	case GR_URING_ENTER:
		return c->wait_nr > 0 && (c->flags & IORING_ENTER_GETEVENTS_);
	default:
		return true;
	}
}

/* liburing's return value: what the call returns, made so that only the
 * calling green thread waits.  A call that cannot wait, or a thread with
 * nobody to hand the hub to, is liburing's own.  A wait for at most one
 * completion first asks liburing without waiting (submitting what the call
 * was to submit); only if nothing is there does a worker make the waiting
 * call. */
long gr_uring_call(struct gr_uring_call *c)
{
	bool peek =
	    c->cqe != NULL && c->wait_nr <= 1 &&
	    (c->kind == GR_URING_GET_CQE || c->kind == GR_URING_WAIT_CQES ||
	     c->kind == GR_URING_WAIT_CQE_TIMEOUT);

	if (!may_wait(c) || !gr_park_useful())
		return call(c);
	if (peek) {
		unsigned submit = c->kind == GR_URING_GET_CQE ? c->submit : 0;
		int r =
		    REAL(__io_uring_get_cqe)(c->ring, c->cqe, submit, 0, NULL);

		if (r != -EAGAIN)
			return r;
		c->submit = 0; /* submitted by the peek */
	}
	return gr_pool_run_blocking(call, c);
}
