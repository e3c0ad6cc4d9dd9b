/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stdio.c — input from stdio streams on pipes, sockets and ttys without
 * stalling the hub.
 *
 * glibc's stdio reads internally (underflow → __read), past the shim, and
 * under the FILE's lock, which is recursive and owned by the OS thread —
 * so it is shared by every green thread of a hub.  Two rules follow:
 *  1. never let glibc read an empty fd: before any call that may underflow
 *     a stream whose buffer is empty, the green thread waits for the fd to
 *     be readable (parks), and only then lets glibc read: its single read()
 *     returns what is there without blocking;
 *  2. keep one green owner per FILE while it parks: a green lock per FILE
 *     (a table of owners keyed by the FILE's address, parked waiters on
 *     the wait queue of that address), taken by the shim's stdio input
 *     wrappers before they wait and held until they return.  glibc's own
 *     lock is never held across a park.
 * Line and block readers (fgets, getline, getdelim, fread) are done here
 * character by character on glibc's buffer, so a line that arrives in
 * pieces parks between the pieces instead of blocking in the middle.
 * Limits (docs/stdio.md): scanf-family calls wait only for the first byte;
 * output that fills a pipe still blocks in glibc's write.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include "green.h"

#define SLOTS 256

struct owner {
	FILE *fp;
	struct gr_thread *t;
	int depth;
};

static struct owner owners[SLOTS];
static atomic_flag owners_lock = ATOMIC_FLAG_INIT;

static void lock_table(void)
{
	gr_spin_acquire(&owners_lock);
}

static void unlock_table(void)
{
	gr_spin_release(&owners_lock);
}

static struct owner *find(FILE *fp, bool make)
{
	unsigned h = ((uintptr_t)fp >> 4) % SLOTS;
	struct owner *free_slot = NULL;

	for (unsigned i = 0; i < SLOTS; i++) {
		struct owner *o = &owners[(h + i) % SLOTS];

		if (o->fp == fp)
			return o;
		if (o->fp == NULL && free_slot == NULL)
			free_slot = o;
	}
	if (make && free_slot) {
		free_slot->fp = fp;
		free_slot->depth = 0;
		free_slot->t = NULL;
	}
	return make ? free_slot : NULL;
}

/* Take the green lock of fp.  false: the table is full (then the caller
 * goes on unlocked, as glibc alone would). */
bool gr_stdio_lock(FILE *fp)
{
	struct gr_thread *self = gr_tls_hub->cur;

	for (;;) {
		struct gr_waiter w = {.addr = fp, .t = self};
		struct gr_wq_bucket *b;
		struct owner *o;

		lock_table();
		o = find(fp, true);
		if (o == NULL) {
			unlock_table();
			return false;
		}
		if (o->t == NULL || o->t == self) {
			o->t = self;
			o->depth++;
			unlock_table();
			return true;
		}
		b = gr_wq_lock(fp);
		gr_park_begin(GR_WAIT_STDIO);
		gr_wq_add(b, &w);
		unlock_table();
		gr_wq_park(b, &w, GR_WAIT_STDIO, 0);
	}
}

void gr_stdio_unlock(FILE *fp)
{
	struct owner *o;

	lock_table();
	o = find(fp, false);
	if (o != NULL && --o->depth == 0) {
		o->fp = NULL;
		o->t = NULL;
		unlock_table();
		gr_wq_wake(fp, 1);
		return;
	}
	unlock_table();
}

/* Bytes glibc holds for fp: reading them never touches the fd. */
static inline bool buffered(FILE *fp)
{
	return fp->_IO_read_ptr < fp->_IO_read_end;
}

/* Where this OS thread cannot wait on the fd, glibc's own read blocks. */
static long let_glibc_block(struct gr_fdop *op)
{
	return 0;
}

/* Before glibc may underflow fp: park until its fd is readable.
 * 0, or -EINTR / -EBADF (the caller then lets glibc report it). */
long gr_stdio_wait(FILE *fp)
{
	int fd = fp->_fileno;
	struct gr_fdop op = {
	    .fd = fd, .ev = GR_EV_READ, .block = let_glibc_block};
	long r;

	if (buffered(fp) || fd < 0)
		return 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int n = REAL(poll)(&p, 1, 0);

		if (n != 0)
			return 0; /* readable, EOF, error: glibc reads and
				     reports */
		r = gr_fdop_wait(&op, 0);
		if (op.blocked)
			return r;
		if (r == -ECANCELED)
			gr_testcancel();
		r = gr_intr(r, true);
		if (r == -EBADF)
			return 0;
		if (r < 0)
			return r;
	}
}
