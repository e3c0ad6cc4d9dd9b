/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vclock.c — GREEN_CLOCK=virtual: one clock per process that jumps over
 * waits nobody can shorten (docs/testing.md).
 *
 * The virtual clock is the real one plus an offset that only grows, the
 * same offset for every wall and monotonic clock (REALTIME, MONOTONIC,
 * BOOTTIME, TAI and their _COARSE/_RAW/_ALARM forms), so they stay
 * consistent with each other; CPU-time clocks stay real.  The timer heap
 * holds virtual CLOCK_MONOTONIC deadlines and the hub's timerfd is armed at
 * the real instant behind them (gr_vclock_real).
 *
 * The jump: when the hub would block with nothing to run, it asks
 * gr_vclock_idle().  If every parked thread waits only on a deadline or on
 * another green thread (no fd, child, signal, name lookup or pool job:
 * counted by kind as threads park, and only while the clock is virtual),
 * the offset jumps to the earliest deadline at once and the due entries
 * fire.  Otherwise the jump comes after GREEN_CLOCK_IDLE_MS of real time in
 * which no thread ran (trio's autojump threshold): live I/O is never
 * jumped over while it keeps the threads busy.
 *
 * The offset travels to exec'd children in GREEN_CLOCK_OFFSET: a buffer of
 * ours put into environ once and rewritten in place at every jump (no
 * allocation on the hub), and added to an explicit envp by the execve and
 * posix_spawn wrappers.
 *
 * Emulated timers: alarm()/setitimer(ITIMER_REAL) and timerfds on the
 * virtualised clocks are entries of the timer heap that are not threads
 * (magic GR_VTIMER_MAGIC); when one fires, the hub sends SIGALRM to the
 * process or adds one expiry to an eventfd that stands in for the timerfd
 * (an eventfd counts expirations and reads as a timerfd does).
 */
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "green.h"

int gr_vclock_on;
static _Atomic int64_t voff_local; /* before the tree is attached */
_Atomic int64_t *gr_voffp = &voff_local;
struct gr_clock_fast gr_clock_fast;
static _Atomic int vc_ready;

/* "GREEN_CLOCK_OFFSET=" and 20 digits, rewritten in place. */
#define OFF_VAR "GREEN_CLOCK_OFFSET"
static char env_buf[sizeof(OFF_VAR) + 21] = OFF_VAR "=00000000000000000000";

static void env_put(int64_t off)
{
	char *p = env_buf + sizeof(env_buf) - 2;

	for (int i = 0; i < 20; i++, p--) {
		*p = (char)('0' + off % 10);
		off /= 10;
	}
}

void gr_vclock_init(void)
{
	const struct gr_config *c;

	if (atomic_load_explicit(&vc_ready, memory_order_acquire))
		return;
	c = gr_conf();
	if (c->clock == GR_CLOCK_VIRTUAL) {
		const char *o = secure_getenv(OFF_VAR);
		int64_t off = 0;

		for (; o != NULL && *o >= '0' && *o <= '9'; o++)
			off = off * 10 + (*o - '0');
		atomic_store(&voff_local, off);
		/* the tree's clock: shared with the processes around us */
		gr_voffp = gr_vtree_attach(off);
		env_put(atomic_load(gr_voffp));
		putenv(env_buf);
		gr_vclock_on = 1;
	} else {
		gr_vtree_leave(); /* a process of a tree, without its clock */
		gr_clock_fast.time = REAL(time);
		gr_clock_fast.gettimeofday = REAL(gettimeofday);
		atomic_thread_fence(memory_order_release);
		gr_clock_fast.gettime = REAL(clock_gettime);
	}
	atomic_store_explicit(&vc_ready, 1, memory_order_release);
}

/* Early: before main, so the program's first reading already has it. */
__attribute__((constructor)) static void vclock_ctor(void)
{
	gr_vclock_init();
}

static bool virtualised(clockid_t c)
{
	switch (c) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return true;
	}
	return false;
}

long gr_vclock_gettime(clockid_t c, struct timespec *ts)
{
	int64_t ns;

	if (unlikely(!atomic_load_explicit(&vc_ready, memory_order_acquire)))
		gr_vclock_init();
	if (REAL(clock_gettime)(c, ts) != 0)
		return -errno;
	if (gr_vclock_on && virtualised(c)) {
		ns = gr_ts_ns(ts) +
		     atomic_load_explicit(gr_voffp, memory_order_relaxed);
		*ts = gr_ns_ts(ns);
	}
	return 0;
}

int64_t gr_real_now(void)
{
	struct timespec ts;

	REAL(clock_gettime)(CLOCK_MONOTONIC, &ts);
	return gr_ts_ns(&ts);
}

/* ---- the jump ------------------------------------------------------- */

/* Waits that something outside the green threads may end: an fd, a name
 * lookup or a pool job (GR_VT_EXT); a signal (GR_VT_SIG: the tree's own
 * when the tree has other processes).  A child is always the tree's: a
 * process of it, or one that left it (vtree.c). */
static const unsigned char ext_kind[GR_WAIT__COUNT] = {
    [GR_WAIT_READ] = GR_VT_EXT, [GR_WAIT_WRITE] = GR_VT_EXT,
    [GR_WAIT_POLL] = GR_VT_EXT, [GR_WAIT_DNS] = GR_VT_EXT,
    [GR_WAIT_POOL] = GR_VT_EXT, [GR_WAIT_SIGNAL] = GR_VT_SIG,
};
static _Atomic int ext_parked, sig_parked, pollchild_parked;

void gr_vclock_pollchild(int n)
{
	atomic_fetch_add_explicit(&pollchild_parked, n, memory_order_relaxed);
}

void gr_vclock_park(int why, int n)
{
	if (ext_kind[why] == GR_VT_EXT)
		atomic_fetch_add_explicit(&ext_parked, n, memory_order_relaxed);
	else if (ext_kind[why] == GR_VT_SIG)
		atomic_fetch_add_explicit(&sig_parked, n, memory_order_relaxed);
}

void gr_timer_fire_due(struct gr_hub *h) GR_HIDDEN;
void gr_timer_arm(struct gr_hub *h, int64_t at) GR_HIDDEN;

/* The tree decides (vtree.c); here: what this process waits on, and the
 * timers after a jump, ours or another process's. */
bool gr_vclock_idle(struct gr_hub *h)
{
	static uint64_t last_sw;
	static int64_t idle_since;
	int64_t rnow, deadline, before, off, recheck;
	unsigned flags = 0;
	bool kick;

	if (atomic_load(&gr_nhubs) != 1)
		return false;
	/* A signal deferred while the hub ran (a timer of ours that just
	 * fired): its handler has yet to run. */
	if (gr_sig_hub_pending(h)) {
		gr_sig_hub_intake(h);
		if (h->rq_head != NULL)
			return true;
	}
	rnow = gr_real_now();
	/* A thread ran since we last looked: the quiet starts now. */
	if (h->switches != last_sw || idle_since == 0) {
		last_sw = h->switches;
		idle_since = rnow;
	}
	if (atomic_load_explicit(&ext_parked, memory_order_relaxed) != 0 ||
	    atomic_load(&gr_pool_inflight) != 0)
		flags |= GR_VT_EXT;
	if (atomic_load_explicit(&sig_parked, memory_order_relaxed) != 0)
		flags |= GR_VT_SIG;
	if (atomic_load_explicit(&pollchild_parked, memory_order_relaxed))
		flags |= GR_VT_POLLCHILD;
	deadline = h->heap_len ? h->heap[0]->deadline : INT64_MAX;
	before = atomic_load(gr_voffp);
	off = gr_vtree_idle(deadline, flags, idle_since, &recheck, &kick);
	if (kick) { /* a child of ours to reap: look now */
		gr_proc_kick(h);
		return h->rq_head != NULL;
	}
	if (off != before || deadline <= gr_real_now() + off) {
		/* ours is due, or the timerfd's real instant moved */
		env_put(off);
		gr_timer_fire_due(h);
		idle_since = 0;
		return true;
	}
	if (recheck) {
		int64_t at = recheck + off;

		if (h->tfd_armed == 0 || at < h->tfd_armed)
			gr_timer_arm(h, at);
	}
	return false;
}

/* The hub woke up from its idle wait: the tree sees us busy again. */
void gr_vclock_woke(void)
{
	gr_vtree_busy();
}

/* Another process moved the clock: fire what is due, re-arm the rest. */
void gr_vclock_wake(struct gr_hub *h)
{
	gr_vtree_drain();
	gr_proc_kick(h); /* maybe a child to reap (vtree.c) */
	gr_timer_fire_due(h);
}

void gr_vclock_forked(pid_t pid)
{
	if (gr_vclock_on)
		gr_vtree_forked(pid);
}

void gr_vclock_exec(void)
{
	if (!gr_vclock_on)
		return;
	env_put(atomic_load(gr_voffp));
	gr_vtree_exec();
}

/* ---- emulated timers --------------------------------------------------- */

enum { VT_ALARM, VT_TIMERFD, VT_POSIX };
struct vtimer {
	struct gr_thread e; /* the heap entry: magic, deadline, heap_idx */
	int kind;
	int notify, signo; /* POSIX timer: SIGEV_SIGNAL or SIGEV_NONE */
	union sigval value;
	struct vtimer *next; /* POSIX timers: all of ours */
	int fd, efd;	     /* timerfd: the program's fd, our hidden dup */
	clockid_t clock;
	int64_t interval;   /* ns, 0: one shot */
	struct gr_hub *hub; /* whose heap it is in */
	pid_t pid;	    /* the process that armed it */
};

static struct vtimer itimer = {.kind = VT_ALARM, .e.heap_idx = -1};
static struct vtimer **tfds; /* by the program's fd number */
static int ntfds;

/* A child of fork starts with an empty heap and no pending alarm. */
static void vt_check_pid(struct vtimer *v)
{
	pid_t me = getpid();

	if (v->pid != me) {
		v->e.heap_idx = -1;
		v->pid = me;
	}
}

static void vt_disarm(struct vtimer *v)
{
	vt_check_pid(v);
	if (v->e.heap_idx >= 0)
		gr_timer_del(v->hub, &v->e);
}

static void vt_arm(struct vtimer *v, int64_t at, int64_t interval)
{
	vt_disarm(v);
	v->e.magic = GR_VTIMER_MAGIC;
	v->interval = interval;
	if (at == 0)
		return;
	v->hub = gr_hub_get();
	v->e.deadline = at;
	gr_timer_add(v->hub, &v->e);
}

static int64_t vt_left(struct vtimer *v)
{
	int64_t l;

	vt_check_pid(v);
	if (v->e.heap_idx < 0)
		return 0;
	l = v->e.deadline - gr_now();
	return l > 0 ? l : 1;
}

void gr_vtimer_fire(struct gr_hub *h, struct gr_thread *e)
{
	struct vtimer *v =
	    (struct vtimer *)((char *)e - offsetof(struct vtimer, e));
	uint64_t one = 1;

	if (v->interval) {
		e->deadline += v->interval;
		gr_timer_add(h, e);
	}
	if (v->kind == VT_ALARM)
		kill(getpid(), SIGALRM);
	else if (v->kind == VT_POSIX) {
		if (v->notify == SIGEV_SIGNAL)
			sigqueue(getpid(), v->signo, v->value);
	} else
		(void)!REAL(write)(v->efd, &one, sizeof(one));
}

/* May the caller touch the timer heap?  Not from a handler running on
 * the signal's own frame, not from an OS thread of the shim's. */
static bool vt_usable(void)
{
	return gr_vclock_on && !gr_tls_insignal && !gr_tls_passthrough &&
	       gr_hub_get() != NULL;
}

static struct timeval tv_of(int64_t ns)
{
	struct timeval tv = {ns / 1000000000, ns % 1000000000 / 1000};
	return tv;
}

long gr_vtimer_setitimer(int which, const struct itimerval *nv,
			 struct itimerval *ov)
{
	int64_t val, iv;

	if (which != ITIMER_REAL || !vt_usable())
		return REAL(setitimer)(which, nv, ov) < 0 ? -errno : 0;
	if (nv &&
	    (nv->it_value.tv_usec < 0 || nv->it_value.tv_usec >= 1000000 ||
	     nv->it_interval.tv_usec < 0 ||
	     nv->it_interval.tv_usec >= 1000000 || nv->it_value.tv_sec < 0 ||
	     nv->it_interval.tv_sec < 0))
		return -EINVAL;
	if (ov) {
		/* the kernel rounds a remaining fraction up to a microsecond */
		ov->it_value = tv_of(vt_left(&itimer) + 999);
		ov->it_interval = tv_of(itimer.interval);
	}
	if (nv == NULL)
		return 0;
	val = (int64_t)nv->it_value.tv_sec * 1000000000 +
	      nv->it_value.tv_usec * 1000;
	iv = (int64_t)nv->it_interval.tv_sec * 1000000000 +
	     nv->it_interval.tv_usec * 1000;
	vt_arm(&itimer, val ? gr_now() + val : 0, val ? iv : 0);
	return 0;
}

long gr_vtimer_getitimer(int which, struct itimerval *ov)
{
	if (which != ITIMER_REAL || !vt_usable())
		return REAL(getitimer)(which, ov) < 0 ? -errno : 0;
	return gr_vtimer_setitimer(which, NULL, ov);
}

long gr_vtimer_alarm(unsigned secs)
{
	struct itimerval nv = {{0, 0}, {secs, 0}}, ov;

	if (!vt_usable())
		return REAL(alarm)(secs);
	gr_vtimer_setitimer(ITIMER_REAL, &nv, &ov);
	/* as the kernel's alarm: a remaining fraction rounds to the nearest
	 * second, and never to 0 while a timer is pending */
	if ((ov.it_value.tv_sec == 0 && ov.it_value.tv_usec) ||
	    ov.it_value.tv_usec >= 500000)
		ov.it_value.tv_sec++;
	return ov.it_value.tv_sec;
}

bool gr_vtimerfd_is(int fd)
{
	return fd >= 0 && fd < ntfds && tfds[fd] != NULL;
}

long gr_vtimerfd_create(int clock, int flags)
{
	struct vtimer *v;
	int fd, d;

	if (!vt_usable() || !virtualised(clock) ||
	    clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE ||
	    clock == CLOCK_MONOTONIC_COARSE || clock == CLOCK_TAI ||
	    (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC))) {
		int r = REAL(timerfd_create)(clock, flags);

		return r < 0 ? -errno : r;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	/* TFD_NONBLOCK and TFD_CLOEXEC are EFD_NONBLOCK and EFD_CLOEXEC */
	fd = REAL(eventfd)(0, flags);
	if (fd < 0) {
		free(v);
		return -errno;
	}
	d = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0) {
		REAL(close)(fd);
		free(v);
		return -EMFILE;
	}
	if (fd >= ntfds) {
		int n = fd < 64 ? 64 : 2 * fd;
		struct vtimer **t = realloc(tfds, n * sizeof(*t));

		if (t == NULL) {
			REAL(close)(fd);
			REAL(close)(d);
			free(v);
			return -ENOMEM;
		}
		memset(t + ntfds, 0, (n - ntfds) * sizeof(*t));
		tfds = t;
		ntfds = n;
	}
	gr_vtimer_fd_closed(fd); /* a stale entry of a number reused */
	v->kind = VT_TIMERFD;
	v->fd = fd;
	v->efd = gr_shimfd_hide(d);
	v->clock = clock;
	v->e.heap_idx = -1;
	v->pid = getpid();
	tfds[fd] = v;
	gr_fd_created(fd, GR_FD_POLLED, flags & TFD_NONBLOCK);
	return fd;
}

void gr_vtimer_fd_closed(int fd)
{
	struct vtimer *v;

	if (!gr_vtimerfd_is(fd))
		return;
	v = tfds[fd];
	tfds[fd] = NULL;
	vt_disarm(v);
	gr_shimfd_close(v->efd);
	free(v);
}

static void its_of(struct vtimer *v, struct itimerspec *ov)
{
	ov->it_value = gr_ns_ts(vt_left(v));
	ov->it_interval = gr_ns_ts(v->interval);
}

static bool ts_ok(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

long gr_vtimerfd_settime(int fd, int flags, const struct itimerspec *nv,
			 struct itimerspec *ov)
{
	struct vtimer *v = tfds[fd];
	struct pollfd p = {v->efd, POLLIN, 0};
	uint64_t n;
	int64_t at = 0;

	if (!ts_ok(&nv->it_value) || !ts_ok(&nv->it_interval) ||
	    (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)))
		return -EINVAL;
	if (ov)
		its_of(v, ov);
	/* Setting the timer clears the expirations not yet read. */
	if (REAL(poll)(&p, 1, 0) == 1)
		(void)!REAL(read)(v->efd, &n, sizeof(n));
	if (nv->it_value.tv_sec || nv->it_value.tv_nsec) {
		if (flags & TFD_TIMER_ABSTIME)
			at = gr_deadline_from_abs(v->clock, &nv->it_value);
		else
			at = gr_now() + gr_ts_ns(&nv->it_value);
	}
	vt_arm(v, at, at ? gr_ts_ns(&nv->it_interval) : 0);
	return 0;
}

long gr_vtimerfd_gettime(int fd, struct itimerspec *ov)
{
	its_of(tfds[fd], ov);
	return 0;
}

/* ---- POSIX timers ---------------------------------------------------- */

/* Our timer_t values are our vtimers' addresses, told from glibc's (a
 * kernel timer id, or glibc's own allocation for SIGEV_THREAD) by being
 * on this list. */
static struct vtimer *posix_timers;

struct vtimer *gr_vtimer_posix(timer_t id)
{
	for (struct vtimer *v = posix_timers; v; v = v->next)
		if ((timer_t)v == id)
			return v;
	return NULL;
}

long gr_vtimer_create(clockid_t clock, struct sigevent *sev, timer_t *id)
{
	struct vtimer *v;
	int notify = sev ? sev->sigev_notify : SIGEV_SIGNAL;

	if (!vt_usable() || !virtualised(clock) ||
	    clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE ||
	    clock == CLOCK_MONOTONIC_COARSE ||
	    (notify != SIGEV_SIGNAL && notify != SIGEV_NONE))
		return 1; /* not ours: the caller calls libc */
	if (notify == SIGEV_SIGNAL && sev &&
	    (sev->sigev_signo <= 0 || sev->sigev_signo >= NSIG))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -EAGAIN;
	v->kind = VT_POSIX;
	v->clock = clock;
	v->notify = notify;
	v->signo = sev ? sev->sigev_signo : SIGALRM;
	v->e.heap_idx = -1;
	v->pid = getpid();
	if (sev)
		v->value = sev->sigev_value;
	else
		v->value.sival_ptr = v; /* as glibc: the timer's id */
	v->next = posix_timers;
	posix_timers = v;
	*id = (timer_t)v;
	return 0;
}

long gr_vtimer_settime(struct vtimer *v, int flags, const struct itimerspec *nv,
		       struct itimerspec *ov)
{
	int64_t at = 0;

	if (nv == NULL || !ts_ok(&nv->it_value) || !ts_ok(&nv->it_interval))
		return -EINVAL;
	if (ov)
		its_of(v, ov);
	if (nv->it_value.tv_sec || nv->it_value.tv_nsec) {
		if (flags & TIMER_ABSTIME)
			at = gr_deadline_from_abs(v->clock, &nv->it_value);
		else
			at = gr_now() + gr_ts_ns(&nv->it_value);
	}
	vt_arm(v, at, at ? gr_ts_ns(&nv->it_interval) : 0);
	return 0;
}

long gr_vtimer_gettime(struct vtimer *v, struct itimerspec *ov)
{
	its_of(v, ov);
	return 0;
}

long gr_vtimer_delete(struct vtimer *v)
{
	struct vtimer **p;

	for (p = &posix_timers; *p && *p != v; p = &(*p)->next)
		;
	if (*p)
		*p = v->next;
	vt_disarm(v);
	free(v);
	return 0;
}

/* In the child of fork: the only thread is running, none is parked; the
 * child takes a slot of its own in the tree. */
void gr_vclock_after_fork(void)
{
	atomic_store(&ext_parked, 0);
	atomic_store(&sig_parked, 0);
	atomic_store(&pollchild_parked, 0);
	gr_vclock_forked(0);
}

/* ---- exec with an environment of its own ---------------------------- */

char **gr_vclock_env(char *const envp[])
{
	size_t n = 0, i, j = 0;
	char **e;

	const char *tree;

	if (!gr_vclock_on)
		return NULL;
	gr_vclock_exec();
	if (envp == NULL)
		return NULL;
	while (envp[n])
		n++;
	e = malloc((n + 3) * sizeof(*e));
	if (e == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(envp[i], OFF_VAR "=", sizeof(OFF_VAR)) != 0 &&
		    strncmp(envp[i], "GREEN_CLOCK_TREE=", 17) != 0)
			e[j++] = envp[i];
	e[j++] = env_buf;
	if ((tree = gr_vtree_env()) != NULL)
		e[j++] = (char *)tree;
	e[j] = NULL;
	return e;
}
