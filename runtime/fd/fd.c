/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fd.c — what the shim knows of each file descriptor, and waiting on them.
 *
 * The shim never changes a description's O_NONBLOCK flag behind the
 * program's back (another process may share it).  A blocking call is made
 * with per-call non-blocking forms (MSG_DONTWAIT, RWF_NOWAIT) or after a
 * readiness wait; only when it would block does the green thread park on
 * the fd.  So per fd we keep: its kind (which non-blocking form works), the
 * program's own O_NONBLOCK (then we do not interfere at all), the
 * SO_RCVTIMEO/SO_SNDTIMEO it set, whether the description was made by this
 * process and never shared (then connect may use O_NONBLOCK for a moment),
 * and the parked waiters with one libev watcher.
 *
 * Watchers stay registered while waiters come and go: the callback wakes
 * one waiter per ready direction and stops the watcher only when it fires
 * with nobody waiting.  A thread that drains a socket and parks again
 * before the next loop iteration therefore costs no epoll_ctl at all
 * (libev compares masks when it reifies).  Level-triggered readiness
 * guarantees the next waiter is woken on the next iteration if the first
 * one did not consume.
 *
 * Close: gr_fd_close() runs before the real close(): waiters are readied
 * with -EBADF and the watcher is stopped, so libev never watches a closed
 * number and a reused number starts from a clean entry (no stale wake-ups).
 *
 * The table is process-wide, in chunks of 1024 entries made on first use.
 * Several hubs (GREEN_HUBS): an entry's watcher lives in one hub's loop,
 * its owner, and only the owner's OS thread touches it; the waiters of
 * every hub share the entry's list, under the entry's spin lock (taken only
 * once there are several hubs).  A waiter on another hub that needs a
 * direction the owner does not watch yet posts a command to the owner
 * (a lock-free stack drained in the owner's ev_async call), and the
 * owner's callback readies waiters of any hub.  A close on another hub
 * orphans the watcher, posts its stop to the owner and waits for it
 * before the real close: the owner's loop may hold a change for the fd
 * that it makes at its next turn, and an epoll_ctl on a closed fd
 * aborts libev.  A hub that is not
 * one of the green system's (a foreign OS thread's, GREEN_THREADS=native)
 * may not be polling at all: a wait that would need it answers -EXDEV and
 * the caller blocks instead.
 */
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "green.h"

#define CHUNK_BITS 10
#define CHUNK	   (1 << CHUNK_BITS)
#define MAX_FD	   (1 << 20)

struct gr_fd_watch {
	ev_io io;
	struct gr_fd *f;
};

static struct gr_fd *chunks[MAX_FD / CHUNK];
static atomic_flag chunk_lock = ATOMIC_FLAG_INIT;

/* The entry's lock, only once there are several hubs: with one, only its
 * OS thread ever touches waiters and watchers. */
static inline bool fd_lock(struct gr_fd *f)
{
	if (likely(!gr_multi()))
		return false;
	gr_spin_acquire(&f->lock);
	return true;
}

static inline void fd_unlock(struct gr_fd *f, bool locked)
{
	if (locked)
		gr_spin_release(&f->lock);
}

/* One of the green system's hubs: its loop turns whenever it has threads. */
static inline bool hub_green(const struct gr_hub *h)
{
	return h != NULL && h->idx < gr_hubs_n && gr_hubv[h->idx] == h;
}

/* ---- commands to the hub that owns a watcher ------------------------- */

struct fd_cmd {
	struct fd_cmd *next;
	struct gr_fd *f;	    /* watch what its waiters want */
	struct gr_fd_watch *orphan; /* or: stop and free this watcher */
	/* a close waits for the stop (fd_close_wait): the owner's loop may
	 * hold a change for the fd that it makes before it reads commands,
	 * and an epoll_ctl on a closed fd aborts libev */
	int sync;
	/* NULL, the closer parked for the stop, or CMD_DONE (cmd_done) */
	struct gr_thread *_Atomic waiter;
};

static struct fd_cmd *cmd_post(struct gr_hub *to, struct gr_fd *f,
			       struct gr_fd_watch *orphan, int sync)
{
	struct fd_cmd *c = gr_calloc(1, sizeof(*c));
	void *head;

	if (c == NULL)
		gr_die("out of memory for an fd command");
	c->f = f;
	c->orphan = orphan;
	c->sync = sync;
	head = atomic_load_explicit(&to->fd_cmds, memory_order_relaxed);
	do
		c->next = head;
	while (!atomic_compare_exchange_weak(&to->fd_cmds, &head, c));
	gr_hub_wakeup(to);
	return c;
}

#define CMD_DONE ((struct gr_thread *)1)

/* The orphan's owner has stopped it: only now may its fd be closed.  One
 * exchange is the owner's last touch of c: the closer frees c as soon as
 * it sees CMD_DONE (with a flag stored first and the waiter taken after,
 * the closer could see the flag and free c before that exchange, which
 * then wrote into freed memory: TSan, sock_rcvtimeo under two hubs). */
static void cmd_done(struct fd_cmd *c)
{
	struct gr_thread *w = atomic_exchange(&c->waiter, CMD_DONE);

	if (w != NULL)
		gr_ready(w, 0);
}

/* Wait for the owner to have stopped an orphaned watcher (fd_forget). */
static void fd_close_wait(struct fd_cmd *c)
{
	if (c == NULL)
		return;
	if (gr_can_park()) {
		struct gr_thread *self = gr_tls_hub->cur;

		struct gr_thread *w;

		while ((w = atomic_load(&c->waiter)) != CMD_DONE) {
			gr_park_begin(GR_WAIT_FDCLOSE);
			/* fails only if the owner has just said done */
			if (!atomic_compare_exchange_strong(&c->waiter, &w,
							    self)) {
				gr_park_abort();
				break;
			}
			gr_park_end(0);
		}
	} else {
		while (atomic_load(&c->waiter) != CMD_DONE)
			REAL(sched_yield)();
	}
	gr_free(c);
}

static void fd_probe(int fd, struct gr_fd *f)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) != 0) {
		f->kind = GR_FD_UNKNOWN;
		return;
	}
	if (S_ISSOCK(st.st_mode))
		f->kind = GR_FD_SOCK;
	else if (S_ISFIFO(st.st_mode))
		f->kind =
		    GR_FD_PIPE; /* a named FIFO turns POLLED on EOPNOTSUPP */
	else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
		 S_ISDIR(st.st_mode))
		f->kind = GR_FD_FILE;
	else
		f->kind = GR_FD_POLLED; /* ttys, eventfd, timerfd, inotify... */
	fl = REAL(fcntl)(fd, F_GETFL);
	f->nonblock = fl >= 0 && (fl & O_NONBLOCK);
}

struct gr_fd *gr_fd_at(int fd)
{
	struct gr_fd *c;

	if ((unsigned)fd >= MAX_FD)
		return NULL;
	c = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	if (unlikely(c == NULL)) {
		struct gr_fd *n = gr_calloc(CHUNK, sizeof(*n));

		if (n == NULL)
			return NULL;
		gr_spin_acquire(&chunk_lock);
		c = chunks[fd >> CHUNK_BITS];
		if (c == NULL) {
			__atomic_store_n(&chunks[fd >> CHUNK_BITS], n,
					 __ATOMIC_RELEASE);
			c = n;
			n = NULL;
		}
		gr_spin_release(&chunk_lock);
		gr_free(n);
	}
	return &c[fd & (CHUNK - 1)];
}

struct gr_fd *gr_fd_get(int fd)
{
	struct gr_fd *f = gr_fd_at(fd);

	if (f != NULL && f->kind == GR_FD_UNKNOWN)
		fd_probe(fd, f);
	return f;
}

static struct fd_cmd *fd_forget(struct gr_fd *f, long why, int sync);

/* A new file has number fd.  Waiters or a started watcher still on the
 * entry mean the old file was closed where the shim could not see it (a
 * raw syscall, a close inside another library): drop them now, or the
 * watcher's unchanged mask would never be registered for the new file. */
void gr_fd_created(int fd, int kind, bool nonblock)
{
	struct gr_fd *f = gr_fd_at(fd);

	if (f == NULL)
		return;
	if (unlikely(f->wq_head != NULL || f->hub != NULL)) {
		bool l = fd_lock(f);

		fd_forget(f, -EBADF, 0); /* closed already, past us */
		fd_unlock(f, l);
	}
	f->kind = kind;
	f->nonblock = nonblock;
	f->group = 0;
	f->ours = 1;
	f->drained = 0;
	f->rcvtimeo = f->sndtimeo = 0;
}

/* ---- waiting -------------------------------------------------------- */

static void watch_update(struct gr_fd *f, struct gr_hub *h, int want);

static void io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct gr_fd_watch *fw = (struct gr_fd_watch *)io;
	struct gr_fd *f = __atomic_load_n(&fw->f, __ATOMIC_ACQUIRE);
	struct gr_hub *h = ev_userdata(loop);
	struct gr_waiter *w, *next;
	int todo = revents & (EV_READ | EV_WRITE), want = 0;
	long val = 0;
	bool l;

	if (unlikely(f == NULL)) {    /* orphaned by a close on another hub: */
		ev_io_stop(loop, io); /* its stop command frees it */
		return;
	}
	l = fd_lock(f);
	if (unlikely(fw != f->watch || f->hub != h)) {
		fd_unlock(f, l); /* orphaned meanwhile */
		ev_io_stop(loop, io);
		return;
	}

	if (revents & EV_ERROR) { /* libev found the fd closed under it */
		todo = EV_READ | EV_WRITE;
		val = -EBADF;
	}
	int fired = todo, waited = 0;

	for (w = f->wq_head; w; w = next) {
		next = w->next;
		waited |= w->kind;
		if (w->kind & todo) {
			int k = w->kind;

			gr_wq_list_del(&f->wq_head, &f->wq_tail, w);
			/* A poller already readied by another fd loses the
			 * CAS: it does not consume, so wake the next one. */
			if ((f->listener ? gr_ready_first(w->t, val)
					 : gr_ready(w->t, val)) &&
			    !val) {
				todo &= ~k;
				f->woken |= k;
				f->woken_drain = h->drains;
			}
			continue;
		}
		want |= w->kind;
	}
	/* Keep watching a direction whose waiter we just woke: it usually
	 * parks again at once, and a watcher that stays started costs no
	 * epoll_ctl.  A direction that fires with nobody waiting is kept while
	 * the waiter we readied may not have run yet: the hub polls between
	 * runs of a long run queue, and the queue is FIFO, so once it ran dry
	 * (h->drains moved on) that waiter had its turn and went elsewhere;
	 * then the direction is dropped, or level-triggered readiness would
	 * spin the loop. */
	if (val == 0) {
		int idle = fired & ~waited;

		want |= fired & waited;
		if (f->woken_drain == h->drains)
			want |= idle & f->woken;
		else
			f->woken &= ~idle;
	}
	watch_update(f, h, want);
	fd_unlock(f, l);
}

/* Make the watcher watch `want` (0: stop it). */
static void watch_update(struct gr_fd *f, struct gr_hub *h, int want)
{
	struct gr_fd_watch *fw = f->watch;

	if (fw == NULL) {
		if (want == 0)
			return;
		fw = gr_calloc(1, sizeof(*fw));
		if (fw == NULL)
			gr_die("out of memory for an fd watcher");
		fw->f = f;
		f->watch = fw;
		f->fresh = 1;
	}
	if (ev_is_active(&fw->io)) {
		if ((fw->io.events & (EV_READ | EV_WRITE)) == want)
			return;
		ev_io_stop(h->loop, &fw->io);
	}
	f->wmask = (unsigned char)want;
	if (want == 0) {
		f->hub = NULL;
		return;
	}
	if (f->fresh) {
		ev_io_init(&fw->io, io_cb, f->fdnum, want);
		f->fresh = 0;
	} else {
		ev_io_modify(&fw->io, want);
	}
	ev_io_start(h->loop, &fw->io);
	f->hub = h;
}

static int wq_interest(struct gr_fd *f)
{
	int want = 0;

	for (struct gr_waiter *w = f->wq_head; w; w = w->next)
		want |= w->kind;
	return want;
}

/* Queue w on fd for `ev` (GR_EV_READ|GR_EV_WRITE).  The caller has called
 * gr_park_begin; -EXDEV if another hub watches this fd. */
static bool waits_on(struct gr_fd *f, const struct gr_hub *h);

static int fd_enqueue(int fd, struct gr_fd *f, struct gr_waiter *w, int ev)
{
	struct gr_hub *h = gr_tls_hub, *o;
	bool l = fd_lock(f);
	int want;

	o = f->hub;
	if (o != NULL && o != h && !(hub_green(o) && hub_green(h))) {
		fd_unlock(f, l);
		return -EXDEV;
	}
	f->fdnum = fd;
	w->addr = f;
	w->t = h->cur;
	w->kind = ev;
	f->woken &= ~ev; /* its reader or writer is back */
	gr_wq_list_add(&f->wq_head, &f->wq_tail, w);
	if (o == NULL || o == h) {
		want = ev | f->wmask | wq_interest(f);
		watch_update(f, h, want);
	} else if (!f->cmd && ((f->wmask & ev) != ev || !waits_on(f, o))) {
		/* The owner watches, but not this way yet, or for nobody of
		 * its own (its thread moved here): ask it. */
		f->cmd = 1;
		cmd_post(o, f, NULL, 0);
	}
	fd_unlock(f, l);
	return 0;
}

/* Does a thread of hub h wait on f?  (Under f's lock.) */
static bool waits_on(struct gr_fd *f, const struct gr_hub *h)
{
	for (struct gr_waiter *w = f->wq_head; w != NULL; w = w->next)
		if (w->t->hub == h)
			return true;
	return false;
}

static void fd_dequeue(struct gr_fd *f, struct gr_waiter *w)
{
	bool l;

	if (!w->linked)
		return;
	l = fd_lock(f);
	if (w->linked)
		gr_wq_list_del(&f->wq_head, &f->wq_tail, w);
	fd_unlock(f, l);
}

/* On the hub h: what other hubs asked of it. */
void gr_fd_commands(struct gr_hub *h)
{
	struct fd_cmd *c = atomic_exchange(&h->fd_cmds, NULL), *n;

	for (; c != NULL; c = n) {
		struct gr_fd *f = c->f;

		n = c->next;
		if (c->orphan != NULL) {
			ev_io_stop(h->loop, &c->orphan->io);
			gr_free(c->orphan);
			if (c->sync) {
				cmd_done(c); /* the closer frees it */
				continue;
			}
		} else {
			bool l = fd_lock(f);

			f->cmd = 0;
			if (f->hub == h && f->wq_head != NULL &&
			    !waits_on(f, h) && hub_green(f->wq_head->t->hub)) {
				/* Every waiter is another hub's (a thread that
				 * moved): the watcher goes to theirs. */
				struct gr_hub *to = f->wq_head->t->hub;

				watch_update(f, h, 0);
				f->cmd = 1;
				cmd_post(to, f, NULL, 0);
			} else if (f->hub == NULL || f->hub == h) {
				watch_update(f, h, f->wmask | wq_interest(f));
			} else if ((wq_interest(f) & ~f->wmask) != 0) {
				/* it changed hands meanwhile: the new owner */
				f->cmd = 1;
				cmd_post(f->hub, f, NULL, 0);
			}
			fd_unlock(f, l);
		}
		gr_free(c);
	}
}

long gr_fd_wait(int fd, int ev, int64_t deadline, enum gr_wait why)
{
	struct gr_fd *f = gr_fd_at(fd);
	struct gr_waiter w = {0};
	long r;

	if (f == NULL)
		return -EBADF;
	gr_park_begin(why);
	r = fd_enqueue(fd, f, &w, ev);
	if (r < 0) {
		gr_park_abort();
		return r;
	}
	r = gr_park_end(deadline);
	fd_dequeue(f, &w);
	return r;
}

/* poll(2) semantics over many fds: park until any is ready or the
 * deadline.  The caller then asks the kernel with a zero timeout, so what
 * it reports is exactly what a zero-timeout call reports. */
long gr_fd_wait_many(const struct pollfd *p, unsigned long n, int64_t deadline)
{
	struct gr_waiter stackw[16], *w = stackw;
	nfds_t i, queued = 0;
	long r = 0;

	if (n > 16) {
		w = gr_calloc(n, sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
	} else {
		memset(stackw, 0, sizeof(stackw));
	}
	gr_park_begin(GR_WAIT_POLL);
	for (i = 0; i < n; i++) {
		struct gr_fd *f;
		int ev = 0;

		if (p[i].fd < 0)
			continue;
		if (p[i].events & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND))
			ev |= EV_READ;
		if (p[i].events & (POLLOUT | POLLWRNORM | POLLWRBAND))
			ev |= EV_WRITE;
		if (ev == 0)
			ev = EV_READ; /* errors and hang-ups are always reported
				       */
		f = gr_fd_at(p[i].fd);
		if (f == NULL || fd_enqueue(p[i].fd, f, &w[i], ev) < 0) {
			r = -EXDEV;
			break;
		}
		queued++;
	}
	if (r < 0)
		gr_park_abort();
	else
		r = gr_park_end(deadline);
	for (i = 0; i < n; i++)
		if (w[i].linked)
			fd_dequeue(gr_fd_at(p[i].fd), &w[i]);
	if (w != stackw)
		gr_free(w);
	return r;
}

/* ---- lifecycle ------------------------------------------------------ */

/* The entry forgets its file: waiters readied with `why`, the watcher
 * stopped, here or by its owner; with `sync` the owner's stop command is
 * returned, to be waited for (fd_close_wait) once the lock is let go and
 * before the fd is closed. */
static struct fd_cmd *fd_forget(struct gr_fd *f, long why, int sync)
{
	struct gr_waiter *w, *next;
	struct fd_cmd *c = NULL;

	for (w = f->wq_head; w; w = next) {
		next = w->next;
		gr_wq_list_del(&f->wq_head, &f->wq_tail, w);
		gr_ready(w->t, why);
	}
	if (f->watch && f->hub != NULL) {
		if (f->hub == gr_tls_hub) {
			ev_io_stop(f->hub->loop, &f->watch->io);
		} else {
			/* Another OS thread's loop holds it, and only that
			 * thread may touch its loop: orphan the watcher there
			 * (its callback ignores it) and post its stop; the
			 * entry gets a new one. */
			__atomic_store_n(&f->watch->f, NULL, __ATOMIC_RELEASE);
			c = cmd_post(f->hub, NULL, f->watch,
				     sync && hub_green(f->hub));
			if (!c->sync)
				c = NULL; /* freed by the owner */
			f->watch = NULL;
		}
	}
	if (f->watch)
		f->fresh = 1; /* the number may come back as another file */
	f->wmask = 0;
	f->hub = NULL;
	f->woken = 0;
	f->listener = 0;
	f->group = 0;
	f->kind = GR_FD_UNKNOWN;
	f->nonblock = 0;
	f->ours = 0;
	f->drained = 0;
	f->rcvtimeo = f->sndtimeo = 0;
	return c;
}

/* The entry if its chunk was ever made; never makes one. */
static inline struct gr_fd *fd_peek(unsigned fd)
{
	struct gr_fd *c;

	if (fd >= MAX_FD)
		return NULL;
	c = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
	return c != NULL ? &c[fd & (CHUNK - 1)] : NULL;
}

/* Nothing to forget: what fd_forget would leave. */
static inline bool fd_blank(const struct gr_fd *f)
{
	return f->wq_head == NULL && f->watch == NULL && f->hub == NULL &&
	       f->kind == GR_FD_UNKNOWN && !f->nonblock && !f->ours &&
	       !f->drained && !f->woken && !f->listener && !f->wmask &&
	       f->group == 0 && f->rcvtimeo == 0 && f->sndtimeo == 0;
}

void gr_fd_close(int fd)
{
	struct gr_fd *f = fd_peek((unsigned)fd);

	if (unlikely(gr_vclock_on))
		gr_vtimer_fd_closed(fd); /* an emulated timerfd */

	/* A number never seen, or its entry as new: nothing to write (a
	 * forked child's close_range over 20,000 numbers used to make every
	 * chunk of the table, 5 ms before its exec) */
	if (f != NULL && !fd_blank(f)) {
		bool l = fd_lock(f);
		struct fd_cmd *c = fd_forget(f, -EBADF, 1);

		fd_unlock(f, l);
		fd_close_wait(c); /* its owner stopped watching it */
	}
}

/* close_range for the table: every number in [lo, hi] that has an entry
 * and is not one of the shim's own; chunks never made are stepped over
 * whole, so a close of everything up to ~0U costs what the table holds. */
void gr_fd_close_range(unsigned lo, unsigned hi)
{
	if (hi >= MAX_FD)
		hi = MAX_FD - 1;
	for (unsigned fd = lo; fd <= hi && fd >= lo; fd++) {
		if (!gr_vclock_on &&
		    __atomic_load_n(&chunks[fd >> CHUNK_BITS],
				    __ATOMIC_ACQUIRE) == NULL) {
			fd |= CHUNK - 1; /* the chunk's last; then the next */
			continue;
		}
		if (!gr_shimfd_is((int)fd))
			gr_fd_close((int)fd);
	}
}

/* `nfd` now names the same description as `old`. */
void gr_fd_dup(int old, int nfd)
{
	struct gr_fd *o = gr_fd_get(old), *n = gr_fd_at(nfd);

	if (n == NULL || o == NULL || n == o)
		return;
	static _Atomic unsigned groups;
	bool l = fd_lock(n);

	fd_forget(n, -EBADF, 0); /* gr_fd_close(nfd) came first */
	fd_unlock(n, l);
	if (o->group == 0)
		o->group = atomic_fetch_add(&groups, 1) + 1;
	n->group = o->group;
	n->kind = o->kind;
	n->nonblock = o->nonblock;
	n->rcvtimeo = o->rcvtimeo; /* socket options belong to the socket */
	n->sndtimeo = o->sndtimeo;
	o->ours = 0; /* two numbers now: still this process's only, but keep
		      * connect's O_NONBLOCK trick to the simple case */
}

/* O_NONBLOCK belongs to the description: numbers made by dup() share it.
 * Dups are rare, so a change through one of them scans the table. */
void gr_fd_set_nonblock(int fd, bool on)
{
	struct gr_fd *f = gr_fd_at(fd);
	unsigned g;

	if (f == NULL)
		return;
	f->nonblock = on;
	g = f->group;
	if (g == 0)
		return;
	for (unsigned c = 0; c < MAX_FD / CHUNK; c++) {
		struct gr_fd *e = chunks[c];

		if (e == NULL)
			continue;
		for (unsigned i = 0; i < CHUNK; i++)
			if (e[i].group == g)
				e[i].nonblock = on;
	}
}

void gr_fd_set_timeo(int fd, bool snd, int64_t ns)
{
	struct gr_fd *f = gr_fd_get(fd);

	if (f == NULL)
		return;
	if (snd)
		f->sndtimeo = ns;
	else
		f->rcvtimeo = ns;
}

/* After fork: every description is now shared with the parent, and the
 * child's hub is new: forget watchers and waiters (their threads are
 * gone), keep kinds and flags. */
void gr_fd_after_fork(void)
{
	for (unsigned c = 0; c < MAX_FD / CHUNK; c++) {
		struct gr_fd *f = chunks[c];

		if (f == NULL)
			continue;
		for (unsigned i = 0; i < CHUNK; i++) {
			/* Read first, write only what changes: the table is
			 * shared with the parent copy-on-write, and a write to
			 * each of its pages would cost the child a page copy.
			 */
			unsigned char held;

			memcpy(&held, &f[i].lock, 1); /* another hub's, then */
			if (!f[i].ours && !f[i].wq_head && !f[i].hub &&
			    !f[i].watch && !f[i].woken && !held && !f[i].cmd)
				continue;
			atomic_flag_clear(&f[i].lock);
			f[i].cmd = 0;
			f[i].wmask = 0;
			f[i].ours = 0;
			f[i].wq_head = f[i].wq_tail = NULL;
			f[i].hub = NULL;
			f[i].woken = 0;
			if (f[i].watch) {
				memset(&f[i].watch->io, 0, sizeof(ev_io));
				f[i].fresh = 1;
			}
		}
	}
}

/* Every description may have been handed to another process (fork in a
 * library, SCM_RIGHTS): drop the O_NONBLOCK shortcut for one fd. */
void gr_fd_shared(int fd)
{
	struct gr_fd *f = gr_fd_at(fd);

	if (f != NULL)
		f->ours = 0;
}
