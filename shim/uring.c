/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uring.c — liburing's completion waits (runtime/fd/uring.c): not libc's
 * names but the program's liburing's, which makes its system calls itself.
 * Each wrapper hands its arguments on; the runtime decides whether the
 * call can wait, and who waits.
 */
#include "green.h"

/* liburing's declarations (liburing.h is not needed to build the shim) */
int __io_uring_get_cqe(struct io_uring *, struct io_uring_cqe **, unsigned,
		       unsigned, sigset_t *);
int io_uring_wait_cqes(struct io_uring *, struct io_uring_cqe **, unsigned,
		       struct __kernel_timespec *, sigset_t *);
int io_uring_wait_cqe_timeout(struct io_uring *, struct io_uring_cqe **,
			      struct __kernel_timespec *);
int io_uring_submit_and_wait(struct io_uring *, unsigned);
int io_uring_submit_and_wait_timeout(struct io_uring *, struct io_uring_cqe **,
				     unsigned, struct __kernel_timespec *,
				     sigset_t *);
int io_uring_enter(unsigned, unsigned, unsigned, unsigned, sigset_t *);
int io_uring_enter2(unsigned, unsigned, unsigned, unsigned, sigset_t *, size_t);
int __io_uring_sqring_wait(struct io_uring *);

static int run(struct gr_uring_call *c)
{
	GR_CALL("io_uring wait");
	return (int)gr_uring_call(c);
}

GR_EXPORT int __io_uring_get_cqe(struct io_uring *ring,
				 struct io_uring_cqe **cqe, unsigned submit,
				 unsigned wait_nr, sigset_t *sigmask)
{
	struct gr_uring_call c = {.kind = GR_URING_GET_CQE,
				  .ring = ring,
				  .cqe = cqe,
				  .submit = submit,
				  .wait_nr = wait_nr,
				  .sigmask = sigmask};

	return run(&c);
}

GR_EXPORT int io_uring_wait_cqes(struct io_uring *ring,
				 struct io_uring_cqe **cqe, unsigned wait_nr,
				 struct __kernel_timespec *ts,
				 sigset_t *sigmask)
{
	struct gr_uring_call c = {.kind = GR_URING_WAIT_CQES,
				  .ring = ring,
				  .cqe = cqe,
				  .wait_nr = wait_nr,
				  .ts = ts,
				  .sigmask = sigmask};

	return run(&c);
}

GR_EXPORT int io_uring_wait_cqe_timeout(struct io_uring *ring,
					struct io_uring_cqe **cqe,
					struct __kernel_timespec *ts)
{
	struct gr_uring_call c = {.kind = GR_URING_WAIT_CQE_TIMEOUT,
				  .ring = ring,
				  .cqe = cqe,
				  .wait_nr = 1,
				  .ts = ts};

	return run(&c);
}

GR_EXPORT int io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr)
{
	struct gr_uring_call c = {
	    .kind = GR_URING_SUBMIT_AND_WAIT, .ring = ring, .wait_nr = wait_nr};

	return run(&c);
}

GR_EXPORT int io_uring_submit_and_wait_timeout(struct io_uring *ring,
					       struct io_uring_cqe **cqe,
					       unsigned wait_nr,
					       struct __kernel_timespec *ts,
					       sigset_t *sigmask)
{
	struct gr_uring_call c = {.kind = GR_URING_SUBMIT_AND_WAIT_TIMEOUT,
				  .ring = ring,
				  .cqe = cqe,
				  .wait_nr = wait_nr,
				  .ts = ts,
				  .sigmask = sigmask};

	return run(&c);
}

GR_EXPORT int io_uring_enter2(unsigned fd, unsigned submit, unsigned min,
			      unsigned flags, sigset_t *sig, size_t sz)
{
	struct gr_uring_call c = {.kind = GR_URING_ENTER,
				  .fd = fd,
				  .submit = submit,
				  .wait_nr = min,
				  .flags = flags,
				  .sigmask = sig,
				  .sz = sz};

	return run(&c);
}

GR_EXPORT int io_uring_enter(unsigned fd, unsigned submit, unsigned min,
			     unsigned flags, sigset_t *sig)
{
	/* liburing passes the kernel's sigset size, _NSIG / 8 */
	return io_uring_enter2(fd, submit, min, flags, sig, 64 / 8);
}

GR_EXPORT int __io_uring_sqring_wait(struct io_uring *ring)
{
	struct gr_uring_call c = {.kind = GR_URING_SQRING_WAIT, .ring = ring};

	return run(&c);
}
