/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc.c — child processes under green threads: the waitpid family,
 * system(), popen()/pclose(), the fork hooks, and GREEN_INHERIT.
 * shim/proc.c holds the wrappers.
 *
 * Waiting for children parks only the caller and never reaps a child the
 * program did not ask for: every check is the program's own wait call made
 * with WNOHANG added, and between checks the thread parks until something
 * may have changed:
 *  - waitpid(pid > 0) (and waitid P_PID/P_PIDFD) watch a pidfd, readable
 *    the moment that child exits (opened before the first check, so the
 *    pid cannot be reused under us);
 *  - every other form (pid -1, 0, < -1, P_ALL, P_PGID) and the stop /
 *    continue options, which a pidfd does not report, are re-checked when
 *    a SIGCHLD goes by (signal.c kicks us if the program catches it or
 *    waits for it) and on a timer that backs off from 1 ms to 50 ms.
 * libev's child watchers are never used: they live on the default loop
 * and reap every child (gevent issues #452, #696, #1573).  SIGCHLD set to
 * SIG_IGN keeps its meaning: the kernel reaps, the check ends in ECHILD.
 *
 * glibc's system() and popen()/pclose() wait inside libc, past the shim:
 * both are redone here with posix_spawn and the green wait, with the
 * signal handling POSIX asks of system() (SIGINT/SIGQUIT ignored, SIGCHLD
 * blocked in the caller, both restored in the child).
 *
 * Fork: runtime/proc/fork.c resets the child, this file's part included
 * (gr_proc_after_fork).
 */
#include <ev.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dlfcn.h>
#include <unistd.h>
#include "green.h"

extern char **environ;

#define POLL_MIN 0.001
#define POLL_MAX 0.05

/* ---- parking until a child may have changed ------------------------------ */

struct child_wait {
	ev_io io; /* on the pidfd, if any: first member */
	struct child_wait *next, *prev;
	struct gr_thread *t;
};

struct proc_hub {
	struct child_wait *polled; /* re-checked on SIGCHLD and timer */
	ev_timer poll;
	double interval;
};

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents);

static struct proc_hub *proc_hub(struct gr_hub *h)
{
	struct proc_hub *p = h->proc_state;

	if (p == NULL) {
		p = gr_calloc(1, sizeof(*p));
		if (p == NULL)
			return NULL;
		ev_timer_init(&p->poll, poll_cb, 0., 0.);
		p->interval = POLL_MIN;
		h->proc_state = p;
	}
	return p;
}

static void ready_polled(struct proc_hub *p)
{
	for (struct child_wait *w = p->polled; w != NULL; w = w->next)
		gr_ready(w->t, 0);
}

static void poll_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct gr_hub *h = ev_userdata(loop);
	struct proc_hub *p = h->proc_state;

	(void)tw;
	(void)revents;
	p->interval = p->interval * 2 < POLL_MAX ? p->interval * 2 : POLL_MAX;
	ready_polled(p);
}

/* A SIGCHLD went by (hub context): everyone who polls looks again now. */
void gr_proc_kick(struct gr_hub *h)
{
	struct proc_hub *p = h->proc_state;

	if (p == NULL)
		return;
	p->interval = POLL_MIN;
	ready_polled(p);
}

static void pidfd_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct child_wait *w = (struct child_wait *)io;

	(void)revents;
	ev_io_stop(loop, io);
	gr_ready(w->t, 0);
}

/* Park until pidfd is readable, or (polled) a SIGCHLD or the timer.
 * The polling interval starts short at a wait call's first park (first)
 * and backs off over the parks that follow. */
static long child_park(int pidfd, bool polled, bool first)
{
	struct gr_hub *h = gr_tls_hub;
	struct proc_hub *p = proc_hub(h);
	struct child_wait w;
	long r;

	if (p == NULL)
		return -ENOMEM;
	memset(&w, 0, sizeof(w));
	w.t = h->cur;
	gr_park_begin(GR_WAIT_CHILD);
	if (pidfd >= 0) {
		ev_io_init(&w.io, pidfd_cb, pidfd, EV_READ);
		ev_io_start(h->loop, &w.io);
	}
	if (polled) {
		if (p->polled == NULL && first)
			p->interval = POLL_MIN;
		w.next = p->polled;
		if (p->polled)
			p->polled->prev = &w;
		p->polled = &w;
		if (!ev_is_active(&p->poll)) {
			ev_timer_set(&p->poll, p->interval, 0.);
			ev_timer_start(h->loop, &p->poll);
		}
	}
	if (polled && unlikely(gr_vclock_on))
		gr_vclock_pollchild(1); /* vtree.c: told when one is to reap */
	r = gr_park_end(0);
	if (pidfd >= 0)
		ev_io_stop(h->loop, &w.io);
	if (polled && unlikely(gr_vclock_on))
		gr_vclock_pollchild(-1);
	if (polled) {
		if (w.prev)
			w.prev->next = w.next;
		else
			p->polled = w.next;
		if (w.next)
			w.next->prev = w.prev;
		if (p->polled == NULL)
			ev_timer_stop(h->loop, &p->poll);
	}
	return r;
}

static int pidfd_of(pid_t pid)
{
	int fd = (int)REAL(syscall)(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -1 : gr_shimfd_hide(fd);
}

/* ---- the waits ----------------------------------------------------------- */

/* wait4(pid, status, options, ru): the pid, 0 (WNOHANG), or -errno. */
long gr_proc_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int pidfd = -1;
	bool first = true;
	long r, w;

	if ((options & WNOHANG) || !gr_park_useful()) {
		r = REAL(wait4)(pid, status, options, ru);
		return r < 0 ? -errno : r;
	}
	if (pid > 0)
		pidfd = pidfd_of(pid);
	for (;;) {
		r = REAL(wait4)(pid, status, options | WNOHANG, ru);
		if (r != 0) {
			r = r < 0 ? -errno : r;
			break;
		}
		w = child_park(
		    pidfd, pidfd < 0 || (options & (WUNTRACED | WCONTINUED)),
		    first);
		first = false;
		if (w == -ECANCELED) {
			if (pidfd >= 0)
				gr_shimfd_close(pidfd);
			pidfd = -1;
			gr_testcancel();
		}
		w = gr_intr(w,
			    true); /* Linux restarts wait4 under SA_RESTART */
		if (w == -EINTR || w == -ENOMEM) {
			r = w;
			break;
		}
	}
	if (pidfd >= 0)
		gr_shimfd_close(pidfd);
	return r;
}

/* waitid: 0 or -errno. */
long gr_proc_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	siginfo_t local, *si = info ? info : &local;
	int pidfd = -1;
	bool first = true;
	long r, w;

	if ((options & WNOHANG) || !gr_park_useful())
		return REAL(waitid)(type, id, info, options) < 0 ? -errno : 0;
	if (type == P_PID)
		pidfd = pidfd_of((pid_t)id);
	for (;;) {
		memset(si, 0, sizeof(*si));
		if (REAL(waitid)(type, id, si, options | WNOHANG) < 0) {
			r = -errno;
			break;
		}
		if (si->si_pid != 0) {
			r = 0;
			break;
		}
		w = child_park(type == P_PIDFD ? (int)id : pidfd,
			       (type != P_PID && type != P_PIDFD) ||
				   (type == P_PID && pidfd < 0) ||
				   (options & (WSTOPPED | WCONTINUED)),
			       first);
		first = false;
		if (w == -ECANCELED) {
			if (pidfd >= 0)
				gr_shimfd_close(pidfd);
			pidfd = -1;
			gr_testcancel();
		}
		w = gr_intr(w, true);
		if (w == -EINTR || w == -ENOMEM) {
			r = w;
			break;
		}
	}
	if (pidfd >= 0)
		gr_shimfd_close(pidfd);
	return r;
}

/* ---- spawning --------------------------------------------------------------
 */

/* The spawned child inherits the OS thread's mask, which under green
 * threads is the intersection of all of them: give it the caller's. */
const posix_spawnattr_t *gr_proc_spawn_attr(const posix_spawnattr_t *in,
					    posix_spawnattr_t *tmp)
{
	sigset_t green;
	short fl = 0;

	if (!gr_sig_mask_differs(&green))
		return in;
	if (in != NULL) {
		posix_spawnattr_getflags(in, &fl);
		if (fl & POSIX_SPAWN_SETSIGMASK)
			return in;
		*tmp = *in;
	} else {
		posix_spawnattr_init(tmp);
	}
	posix_spawnattr_setsigmask(tmp, &green);
	posix_spawnattr_setflags(tmp, fl | POSIX_SPAWN_SETSIGMASK);
	return tmp;
}

static atomic_flag sys_lock = ATOMIC_FLAG_INIT;
static int sys_refs;
static struct sigaction sys_int, sys_quit;

static void lock(atomic_flag *l)
{
	gr_spin_acquire(l);
}

static void unlock(atomic_flag *l)
{
	gr_spin_release(l);
}

/* system(cmd) as POSIX and glibc do it, with a green wait: the wait
 * status, or -errno.  A shell that could not be started is status 127<<8
 * with *spawn_err set (glibc sets errno then too). */
int gr_proc_system(const char *cmd, int *spawn_err)
{
	struct sigaction ign;
	posix_spawnattr_t attr;
	sigset_t chld, omask, reset;
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	int status = -1, ret;
	pid_t pid;
	long r;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	lock(&sys_lock);
	if (sys_refs++ == 0) {
		gr_sig_action(SIGINT, &ign, &sys_int);
		gr_sig_action(SIGQUIT, &ign, &sys_quit);
	}
	unlock(&sys_lock);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&omask);
	gr_sig_mask(SIG_BLOCK, &chld, &omask);

	sigemptyset(&reset);
	if (sys_int.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGINT);
	if (sys_quit.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &reset);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETSIGMASK);
	gr_vclock_exec(); /* the time in environ is now */
	ret = REAL(posix_spawn)(&pid, "/bin/sh", NULL, &attr, argv, environ);
	if (ret == 0)
		gr_vclock_forked(pid); /* a process of the tree */
	posix_spawnattr_destroy(&attr);
	if (ret == 0) {
		do
			r = gr_proc_wait4(pid, &status, 0, NULL);
		while (r == -EINTR);
		if (r != pid)
			status = r < 0 ? (int)r : -ECHILD;
	} else {
		status = 127
			 << 8; /* W_EXITCODE(127, 0): the shell could not run */
	}

	lock(&sys_lock);
	if (--sys_refs == 0) {
		gr_sig_action(SIGINT, &sys_int, NULL);
		gr_sig_action(SIGQUIT, &sys_quit, NULL);
	}
	unlock(&sys_lock);
	gr_sig_mask(SIG_SETMASK, &omask, NULL);
	*spawn_err = ret;
	return status;
}

/* popen streams: FILE * → pid. */
struct popen_ent {
	FILE *fp;
	int fd;
	pid_t pid;
	struct popen_ent *next;
};
static struct popen_ent *popen_list;
static atomic_flag popen_lock = ATOMIC_FLAG_INIT;

/* popen: 0 and the stream in *out, or -errno. */
int gr_proc_popen(const char *cmd, const char *mode, FILE **out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t tmp;
	const posix_spawnattr_t *attr;
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	struct popen_ent *e;
	bool rd, cloexec = false;
	int fds[2], parent, child, target, ret;
	FILE *fp;
	pid_t pid;

	if (mode[0] != 'r' && mode[0] != 'w')
		return -EINVAL;
	rd = mode[0] == 'r';
	for (const char *m = mode + 1; *m; m++) {
		if (*m == 'e')
			cloexec = true;
		else
			return -EINVAL;
	}
	e = gr_malloc(sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	if (REAL(pipe2)(fds, O_CLOEXEC) != 0) {
		ret = errno;
		gr_free(e);
		return -ret;
	}
	gr_fd_created(fds[0], GR_FD_PIPE, false);
	gr_fd_created(fds[1], GR_FD_PIPE, false);
	parent = rd ? fds[0] : fds[1];
	child = rd ? fds[1] : fds[0];
	target = rd ? 1 : 0;

	posix_spawn_file_actions_init(&fa);
	/* dup2 onto itself clears close-on-exec (glibc >= 2.29) */
	posix_spawn_file_actions_adddup2(&fa, child, target);
	/* POSIX: streams of earlier popen()s are not the child's */
	lock(&popen_lock);
	for (struct popen_ent *p = popen_list; p != NULL; p = p->next)
		if (p->fd != target)
			posix_spawn_file_actions_addclose(&fa, p->fd);
	unlock(&popen_lock);
	attr = gr_proc_spawn_attr(NULL, &tmp);
	gr_vclock_exec(); /* the time in environ is now */
	ret = REAL(posix_spawn)(&pid, "/bin/sh", &fa, attr, argv, environ);
	if (ret == 0)
		gr_vclock_forked(pid); /* a process of the tree */
	posix_spawn_file_actions_destroy(&fa);
	if (attr == &tmp)
		posix_spawnattr_destroy(&tmp);
	gr_fd_close(child);
	REAL(close)(child);
	if (ret != 0) {
		gr_fd_close(parent);
		REAL(close)(parent);
		gr_free(e);
		return -ret;
	}
	if (!cloexec)
		REAL(fcntl)(parent, F_SETFD, 0);
	fp = fdopen(parent, rd ? "r" : "w");
	if (fp == NULL) {
		ret = errno;
		gr_fd_close(parent);
		REAL(close)(parent);
		gr_proc_wait4(pid, NULL, 0, NULL);
		gr_free(e);
		return -ret;
	}
	e->fp = fp;
	e->fd = parent;
	e->pid = pid;
	lock(&popen_lock);
	e->next = popen_list;
	popen_list = e;
	unlock(&popen_lock);
	*out = fp;
	return 0;
}

/* pclose: 0 and the child's status in *status, -errno, or 1 if fp is not
 * ours (the caller then asks libc). */
int gr_proc_pclose(FILE *fp, int *status)
{
	struct popen_ent **pp, *e = NULL;
	long r;
	int st = -1;

	lock(&popen_lock);
	for (pp = &popen_list; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->fp == fp) {
			e = *pp;
			*pp = e->next;
			break;
		}
	unlock(&popen_lock);
	if (e == NULL)
		return 1;
	gr_fd_close(e->fd); /* glibc closes it inside, past close() */
	REAL(fclose)(fp);
	do
		r = gr_proc_wait4(e->pid, &st, 0, NULL);
	while (r == -EINTR);
	gr_free(e);
	if (r < 0)
		return (int)r;
	*status = st;
	return 0;
}

/* In a forked child the popen table describes the parent's children: the
 * streams are still open here, as with glibc, but their pids are not our
 * children; pclose then reports ECHILD as glibc does. */

/* ---- fork -------------------------------------------------------------------
 */

void gr_proc_after_fork(void)
{
	/* The old loop's watchers and waiters belong to threads that are
	 * not here; the hub's proc state starts again with the new loop. */
	if (gr_tls_hub != NULL)
		gr_tls_hub->proc_state = NULL;
}

/* ---- GREEN_INHERIT=0 --------------------------------------------------------
 */

static bool same_file(const char *a, const struct stat *b)
{
	struct stat s;

	return REAL(stat)(a, &s) == 0 && s.st_dev == b->st_dev &&
	       s.st_ino == b->st_ino;
}

/* Children inherit the preload unless GREEN_INHERIT=0: then our entry is
 * taken out of this process's LD_PRELOAD as the library loads, so every
 * exec and spawn, libc's own included, passes the edited environment on.
 * Edited in place (the string only shrinks): no allocation at load. */
__attribute__((constructor)) static void inherit_init(void)
{
	const char *v = secure_getenv("GREEN_INHERIT");
	char *pre, *r, *w;
	struct stat self;
	Dl_info di;

	if (v == NULL || strcmp(v, "0") != 0)
		return;
	pre = getenv("LD_PRELOAD");
	if (pre == NULL || dladdr((void *)inherit_init, &di) == 0 ||
	    di.dli_fname == NULL || REAL(stat)(di.dli_fname, &self) != 0)
		return;
	for (r = w = pre; *r;) {
		char *start, save;
		size_t len;

		while (*r == ':' || *r == ' ')
			r++;
		if (*r == '\0')
			break;
		start = r;
		while (*r && *r != ':' && *r != ' ')
			r++;
		len = (size_t)(r - start);
		save = *r;
		*r = '\0';
		if (strcmp(start, di.dli_fname) == 0 ||
		    same_file(start, &self)) {
			*r = save;
			continue;
		}
		*r = save;
		if (w != pre)
			*w++ = ':';
		memmove(w, start, len);
		w += len;
	}
	*w = '\0';
	if (*pre == '\0')
		unsetenv("LD_PRELOAD");
}
