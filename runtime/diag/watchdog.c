/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watchdog.c — GREEN_WATCHDOG_MS=N: a monitor thread (gevent's) that
 * reports a green thread that kept its hub for more than N ms, while the
 * hub's other green threads waited: the call it is in and could not park
 * in, or the system call it made past the shim, or why it could not be
 * preempted, and a backtrace when it runs user code.
 *
 * Who calls it: gr_diag_start (stats.c) starts it with the first hub when
 * GREEN_WATCHDOG_MS is set; gr_diag_thread_new (overflow.c) starts it
 * again in a fork's child; gr_diag_sigaction (overflow.c) asks it about
 * the signal it borrows for backtraces (SIGRTMAX-1, while the program
 * leaves it at SIG_DFL).
 *
 * Invariants:
 *  - The monitor is an OS thread of the shim's own, with every signal
 *    blocked; it reads hubs from the list in stats.c (never freed).  The
 *    green thread it finds running may end meanwhile, so its fields are
 *    copied with process_vm_readv, which fails instead of faulting, and
 *    the copy is kept only if the hub did not switch.
 *  - The backtrace signal is sent only while the thread runs user code,
 *    never while it is in a system call (it could fail with EINTR), and
 *    the handler answers only the request it was sent for.
 *  - One report per episode: a switch, or a hub polling, ends it.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>
#include "diag.h"

static int bt_sig; /* 0: no backtraces */
_Atomic int gr_diag_wd_restart;

/* The hub's OS thread is asked for a backtrace with a signal, only while it
 * runs user code (never inside a system call, which the signal could make
 * fail with EINTR).  The handler answers only the request it was sent for:
 * same hub, no switch since. */
enum { BT_IDLE, BT_ASKED, BT_DONE };
#define BT_FRAMES 24
static struct {
	_Atomic int state;
	struct gr_hub *hub;
	uint64_t sw;
	void *pc; /* the interrupted instruction */
	int n;
	void *frames[BT_FRAMES];
} bt;
static _Atomic int wd_state; /* 0: not started, 1: running */
static pid_t wd_pid;

static void bt_handler(int sig, siginfo_t *si, void *ucv)
{
	struct gr_hub *h = gr_tls_hub;
	ucontext_t *uc = ucv;
	int e = errno;

	(void)sig;
	(void)si;
	if (atomic_load(&bt.state) == BT_ASKED && h == bt.hub &&
	    h->switches == bt.sw) {
		bt.pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
		bt.n = backtrace(bt.frames, BT_FRAMES);
		atomic_store(&bt.state, BT_DONE);
	}
	errno = e;
}

static void bt_install(void)
{
	struct sigaction sa, old;
	void *warm[2];
	int sig = SIGRTMAX - 1;

	/* backtrace() loads libgcc_s on first use: not in a handler. */
	backtrace(warm, 2);
	if (REAL(sigaction)(sig, NULL, &old) != 0)
		return;
	if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == bt_handler) {
		bt_sig = sig; /* a fork child: the parent's, still ours */
		return;
	}
	if (old.sa_handler != SIG_DFL)
		return; /* the program's: leave it alone */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = bt_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (REAL(sigaction)(sig, &sa, NULL) == 0)
		bt_sig = sig;
}

/* Our handler, still? The program may have taken the signal since. */
static bool bt_usable(void)
{
	struct sigaction cur;

	return bt_sig != 0 && REAL(sigaction)(bt_sig, NULL, &cur) == 0 &&
	       (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == bt_handler;
}

static int read_small(const char *path, char *out, size_t len)
{
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = REAL(read)(fd, out, len - 1);
	REAL(close)(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static const char *syscall_name(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
	    {SYS_read, "read"},
	    {SYS_write, "write"},
	    {SYS_readv, "readv"},
	    {SYS_writev, "writev"},
	    {SYS_pread64, "pread"},
	    {SYS_pwrite64, "pwrite"},
	    {SYS_poll, "poll"},
	    {SYS_ppoll, "ppoll"},
	    {SYS_select, "select"},
	    {SYS_pselect6, "pselect"},
	    {SYS_epoll_wait, "epoll_wait"},
	    {SYS_epoll_pwait, "epoll_pwait"},
	    {SYS_nanosleep, "nanosleep"},
	    {SYS_clock_nanosleep, "clock_nanosleep"},
	    {SYS_futex, "futex"},
	    {SYS_wait4, "wait4"},
	    {SYS_waitid, "waitid"},
	    {SYS_accept, "accept"},
	    {SYS_accept4, "accept4"},
	    {SYS_connect, "connect"},
	    {SYS_recvfrom, "recvfrom"},
	    {SYS_sendto, "sendto"},
	    {SYS_recvmsg, "recvmsg"},
	    {SYS_sendmsg, "sendmsg"},
	    {SYS_pause, "pause"},
	    {SYS_rt_sigsuspend, "sigsuspend"},
	    {SYS_rt_sigtimedwait, "sigtimedwait"},
	    {SYS_flock, "flock"},
	    {SYS_fcntl, "fcntl"},
	    {SYS_openat, "open"},
	    {SYS_fsync, "fsync"},
	    {SYS_fdatasync, "fdatasync"},
	    {SYS_splice, "splice"},
	    {SYS_tee, "tee"},
	    {SYS_sendfile, "sendfile"},
	    {SYS_recvmmsg, "recvmmsg"},
	    {SYS_sendmmsg, "sendmmsg"},
	    {SYS_preadv, "preadv"},
	    {SYS_pwritev, "pwritev"},
	    {SYS_preadv2, "preadv2"},
	    {SYS_pwritev2, "pwritev2"},
	    {SYS_epoll_pwait2, "epoll_pwait2"},
	    {SYS_io_uring_enter, "io_uring_enter"},
	    {SYS_semtimedop, "semtimedop"},
	    {SYS_msgrcv, "msgrcv"},
	    {SYS_msgsnd, "msgsnd"},
	    {SYS_mq_timedreceive, "mq_timedreceive"},
	    {SYS_mq_timedsend, "mq_timedsend"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/* Copy n bytes of our own memory that may have been unmapped meanwhile. */
static bool peek(void *dst, const void *src, size_t n)
{
	struct iovec l = {dst, n}, r = {(void *)src, n};

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n;
}

/* Is pc in libgreen itself? */
static bool own_frame(void *pc)
{
	static void *base;
	Dl_info di;

	if (base == NULL && dladdr((void *)own_frame, &di))
		base = di.dli_fbase;
	return dladdr(pc, &di) && di.dli_fbase == base;
}

static void wd_report(struct gr_diag_hub *node, int64_t held_ns)
{
	static char mem[8192];
	struct gr_diag_buf b = {mem, 0, sizeof(mem)};
	struct gr_hub *h = node->h;
	struct gr_thread *t = __atomic_load_n(&h->cur, __ATOMIC_RELAXED), copy;
	char label[64], name[17] = "", path[64], sys[128];
	const char *call = NULL, *why = gr_preempt_why(h);
	bool in_kernel = false;
	long nr = -1;

	/* os contexts are calloc'ed, without the magic of a green stack. */
	if (t == NULL || !peek(&copy, t, sizeof(copy)) ||
	    (copy.magic != GR_MAGIC && !copy.os))
		return;
	if (__atomic_load_n(&h->switches, __ATOMIC_RELAXED) != node->last_sw)
		return; /* it moved on while we looked */
	memcpy(name, copy.name, sizeof(copy.name));
	if (copy.os) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", h->tid);
		if (read_small(path, name, sizeof(name)) > 0)
			name[strcspn(name, "\n")] = '\0';
	}
	gr_diag_thread_label(label, sizeof(label), &copy, name);
	call = copy.call; /* a string literal: always readable */
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", h->tid);
	if (read_small(path, sys, sizeof(sys)) > 0 &&
	    strncmp(sys, "running", 7) != 0) {
		in_kernel = true;
		nr = strtol(sys, NULL, 10);
	}
	gr_diag_bput(&b,
		     "libgreen: watchdog: green thread %s has held its hub for "
		     "%lld ms (GREEN_WATCHDOG_MS=%d), ",
		     label, (long long)(held_ns / 1000000), gr_cfg.watchdog_ms);
	if (call != NULL)
		gr_diag_bput(&b, "in %s(), which could not park", call);
	else if (in_kernel && nr >= 0 && syscall_name(nr))
		gr_diag_bput(&b,
			     "blocked in the kernel in %s() made past the shim",
			     syscall_name(nr));
	else if (in_kernel)
		gr_diag_bput(
		    &b, "blocked in the kernel (system call %ld) past the shim",
		    nr);
	else if (why != NULL)
		gr_diag_bput(
		    &b,
		    "running without a blocking call, and it could not be "
		    "preempted: %s",
		    why);
	else
		gr_diag_bput(&b,
			     "running its own code without a blocking call");
	gr_diag_bput(&b, "; the hub's other green threads wait\n");

	/* A backtrace, if the thread is in user code and the signal is ours. */
	if (!in_kernel && bt_usable()) {
		int exp = BT_IDLE;

		bt.hub = h;
		bt.sw = node->last_sw;
		bt.n = 0;
		if (atomic_compare_exchange_strong(&bt.state, &exp, BT_ASKED)) {
			REAL(syscall)(SYS_tgkill, getpid(), h->tid, bt_sig);
			for (int i = 0;
			     i < 200 && atomic_load(&bt.state) != BT_DONE;
			     i++) {
				struct timespec ms = {0, 1000000};
				REAL(nanosleep)(&ms, NULL);
			}
			exp = BT_ASKED;
			if (!atomic_compare_exchange_strong(&bt.state, &exp,
							    BT_IDLE)) {
				int first = 0, last = bt.n;

				/* Skip the handler's own frames. */
				for (int i = 0; i < bt.n; i++)
					if (bt.frames[i] == bt.pc) {
						first = i;
						break;
					}
				if (first == 0 && bt.n > 2)
					first = 2;
				/* The thread's first frames are the shim's
				 * start-up code: not worth a line. */
				while (last > first &&
				       own_frame(bt.frames[last - 1]))
					last--;
				for (int i = first; i < last; i++) {
					Dl_info di;
					void *pc = bt.frames[i];

					if (dladdr(pc, &di) && di.dli_fname) {
						const char *f =
						    strrchr(di.dli_fname, '/');

						f = f ? f + 1 : di.dli_fname;
						/* Without a dynamic symbol, the
						 * file and offset are what
						 * addr2line -f -e takes. */
						if (di.dli_sname)
							gr_diag_bput(
							    &b,
							    "libgreen:   #%d "
							    "%s+0x%lx (%s)\n",
							    i - first,
							    di.dli_sname,
							    (unsigned long)((char
										 *)
										pc -
									    (char
										 *)di
										.dli_saddr),
							    f);
						else
							gr_diag_bput(
							    &b,
							    "libgreen:   #%d "
							    "%s+0x%lx\n",
							    i - first,
							    di.dli_fname[0]
								? di.dli_fname
								: program_invocation_name,
							    (unsigned long)((char
										 *)
										pc -
									    (char
										 *)di
										.dli_fbase));
					} else {
						gr_diag_bput(
						    &b, "libgreen:   #%d %p\n",
						    i - first, pc);
					}
				}
				atomic_store(&bt.state, BT_IDLE);
			}
		}
	}
	gr_diag_write_all(2, b.p, b.len);
}

static void *wd_main(void *arg)
{
	int64_t limit = (int64_t)gr_cfg.watchdog_ms * 1000000;
	int64_t period = limit / 2;
	struct timespec ts;

	(void)arg;
	gr_tls_passthrough = 1;
	if (period < 1000000)
		period = 1000000;
	ts = gr_ns_ts(period);
	bt_install();
	for (;;) {
		int64_t now;

		REAL(nanosleep)(&ts, NULL);
		now = gr_now();
		for (struct gr_diag_hub *n = atomic_load(&gr_diag_hubs); n;
		     n = n->next) {
			struct gr_hub *h = n->h;
			uint64_t sw =
			    __atomic_load_n(&h->switches, __ATOMIC_RELAXED);
			struct gr_thread *cur =
			    __atomic_load_n(&h->cur, __ATOMIC_RELAXED);

			/* A switch ends an episode; so does a hub that is
			 * polling (its own coroutine runs: nobody holds it). */
			if (sw != n->last_sw || cur == h->hub ||
			    n->since == 0) {
				n->last_sw = sw;
				n->since = now;
				n->reported = 0;
				continue;
			}
			if (n->reported || now - n->since < limit)
				continue;
			/* Alone on its hub, a thread starves nobody. */
			if (__atomic_load_n(&h->nlive, __ATOMIC_RELAXED) <= 1 &&
			    __atomic_load_n(&h->rq_head, __ATOMIC_RELAXED) ==
				NULL)
				continue;
			n->reported = 1;
			/* The episode began at most a period before `since`. */
			wd_report(n, now - n->since + period);
		}
	}
	return NULL;
}

void gr_diag_wd_start(void)
{
	pthread_attr_t a;
	pthread_t id;
	sigset_t all, old;
	int exp = 0;

	if (!atomic_compare_exchange_strong(&wd_state, &exp, 1))
		return;
	wd_pid = getpid();
	/* The monitor must never take the program's signals. */
	sigfillset(&all);
	REAL(pthread_sigmask)(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 << 10);
	if (REAL(pthread_create)(&id, &a, wd_main, NULL) == 0)
		atomic_fetch_add(&gr_own_threads, 1);
	else
		gr_warn("GREEN_WATCHDOG_MS: cannot start the watchdog thread");
	pthread_attr_destroy(&a);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* The program's view of the signal the watchdog borrowed is the default it
 * had (gr_diag_sigaction, for the sigaction() wrapper). */
bool gr_diag_wd_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	if (sig == bt_sig && sig != 0) {
		struct sigaction dfl;

		if (act == NULL) {
			if (old) {
				memset(old, 0, sizeof(*old));
				old->sa_handler = SIG_DFL;
			}
			return true;
		}
		/* It wants the signal: give it back as it was, and let the
		 * caller install the program's handler.  Backtraces end. */
		bt_sig = 0;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		REAL(sigaction)(sig, &dfl, NULL);
	}
	return false;
}

bool gr_diag_wd_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == bt_handler;
}

/* A hub was made (gr_diag_start): the watchdog starts with the first. */
void gr_diag_wd_hub_new(void)
{
	if (gr_conf()->watchdog_ms > 0 && atomic_load(&wd_state) == 0)
		gr_diag_wd_start();
}

/* In a child after fork: only the calling thread survived, so the watchdog
 * is gone and the other hubs' OS threads too.  Forget it; the watchdog
 * starts again with the child's next green thread or hub, so that a child
 * that only execs never makes one. */
void gr_diag_wd_after_fork(void)
{
	if (atomic_load(&wd_state) == 1 && wd_pid != getpid()) {
		atomic_store(&wd_state, 0);
		atomic_fetch_sub(&gr_own_threads, 1);
		atomic_store(&gr_diag_wd_restart, 1);
	}
	atomic_store(&bt.state, BT_IDLE);
}
