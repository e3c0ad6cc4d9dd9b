/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signal.c — signals under green threads: the program's handlers, a signal
 * mask per green thread, pthread_kill to a green thread, and the waits for
 * signals (sigwait family, sigsuspend, pause).  shim/signal.c holds the
 * wrappers; docs/signals.md the design and its limits.
 *
 * Dispositions.  The program's handlers are kept here as it set them
 * (sigaction(sig, NULL, &old) answers exactly what it installed) and the
 * kernel gets our dispatcher instead, with the program's flags and mask.
 * SIG_IGN and SIG_DFL go to the kernel as they are, so SIGCHLD ignored
 * still auto-reaps.  SIGSEGV/SIGBUS stay diag/overflow.c's (overflow report).
 *
 * Masks.  Each green thread has its own (gr_thread.sigmask).  The OS
 * thread's real mask is the intersection of the masks of every live
 * thread of its hub: a signal some thread accepts reaches us, a signal
 * every thread blocks stays pending in the kernel (where sigwait, signalfd
 * and sigpending find it, and where SIG_DFL cannot kill the process).
 * Counting per signal keeps that cheap: the real mask changes only when
 * the intersection does, never on a context switch.
 *
 * Delivery.  The dispatcher runs in whatever context the kernel picked:
 *  - a synchronous fault, or a signal the running green thread accepts:
 *    the handler runs there and then, as it would on a real thread;
 *  - otherwise (the hub was waiting in epoll_wait, or the running thread
 *    blocks it) the signal is recorded in the hub's inbox and the hub is
 *    woken with ev_async_send, the one thing a handler may do.  The hub
 *    then hands it on: to a thread in sigwait for it; else to a thread that
 *    accepts it (the OS thread's own context first, as Linux prefers the
 *    main thread).  That thread's handler runs when it next runs
 *    (gr_thread.sig_due, checked on every switch-in); if it was parked in
 *    an interruptible wait it is readied with -EINTR, or -GR_ERESTART
 *    when the handler has SA_RESTART (green.h says which calls restart).
 *    A thread parked on a lock, cond or join is readied spuriously (those
 *    waits tolerate it); any other uninterruptible wait has the handler
 *    run on the hub at once.  Nobody accepts it: it stays pending on the
 *    hub until a thread unblocks it or waits for it.
 * pthread_kill of a green thread never reaches the kernel: the signal is
 * made pending on the thread, or its handler due, in the same way.
 *
 * Handlers run with gr_tls_insignal set: every wrapper then goes straight
 * to libc, so nothing parks inside a handler.
 *
 * Waits.  sigwait and co. take a signal pending on the thread, on the hub,
 * or in the kernel (sigtimedwait with a zero timeout), else park; the hub
 * watches a signalfd for the union of the sets being waited for, which
 * finds the signals every thread blocks.  sigsuspend and pause park until
 * a handler ran for the thread.
 */
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "green.h"

#define NSIG64 65
#define B(s)   (1ULL << ((s)-1))
/* Never blocked: SIGKILL, SIGSTOP, and glibc's SIGCANCEL and SIGSETXID. */
#define UNBLOCKABLE (B(SIGKILL) | B(SIGSTOP) | B(32) | B(33))
#define DFL_IGNORED (B(SIGCHLD) | B(SIGCONT) | B(SIGURG) | B(SIGWINCH))

static inline uint64_t m64(const sigset_t *s)
{
	return s->__val[0];
}

static inline void set64(sigset_t *s, uint64_t m)
{
	sigemptyset(s);
	s->__val[0] = m;
}

static inline int lowest(uint64_t m)
{
	return __builtin_ctzll(m) + 1;
}

/* ---- state ------------------------------------------------------------ */

/* Per hub.  The inbox (arrived, tinfo, flags) is written by the dispatcher
 * in handler context and read by the hub; the rest is the hub's own. */
struct sig_hub {
	ev_async async;
	ev_io sfd_io;
	int sfd;
	uint64_t sfd_mask;
	_Atomic uint64_t arrived; /* process-directed, not yet handed on */
	siginfo_t arrived_info[NSIG64];
	siginfo_t tinfo[NSIG64]; /* for gr_thread.sig_inbox */
	_Atomic int targeted;	 /* some thread's sig_inbox is set */
	_Atomic int child_kick;	 /* a SIGCHLD went by */
	uint64_t pending;	 /* process-directed, nobody took it */
	siginfo_t pending_info[NSIG64];
	int n;			 /* threads counted below */
	int nblk[NSIG64];	 /* of those, how many block each signal */
	uint64_t anyblk;	 /* signals with nblk > 0 */
	uint64_t os_mask;	 /* the OS thread's real mask (word 0) */
	struct sig_thr *waiters; /* threads in the sigwait family */
	int nwait;		 /* threads parked only for a signal */
};

/* Per green thread, made on first use. */
struct sig_thr {
	struct gr_thread *t;
	struct sig_thr *wnext, *wprev;
	uint64_t waitset;	/* in sigwait for these, else 0 */
	unsigned handled;	/* handlers run in this thread */
	siginfo_t info[NSIG64]; /* of its pending and due signals */
};

static struct sigaction user_act[NSIG64];  /* the program's view */
static _Atomic unsigned char have[NSIG64]; /* user_act[s] is filled */
static uint64_t intr_set;		   /* siginterrupt() */
static atomic_flag act_lock = ATOMIC_FLAG_INIT;

static struct sig_thr *ext(struct gr_thread *t)
{
	struct sig_thr *x = t->sig;

	if (x == NULL) {
		x = gr_calloc(1, sizeof(*x));
		if (x == NULL)
			return NULL;
		x->t = t;
		t->sig = x;
	}
	return x;
}

/* The program's view of sig's action.  Where the kernel holds one of the
 * shim's own handlers (SIGSEGV and SIGBUS for the overflow report, the
 * watchdog's and the preemption signal), the program sees what it set, or
 * SIG_DFL: never the shim's handler, which a raise() would otherwise run as
 * if it were the program's (and then return). */
static void act_of(int sig, struct sigaction *a)
{
	if (atomic_load(&have[sig]))
		*a = user_act[sig];
	else if (!gr_diag_sigaction(sig, NULL, a) &&
		 !gr_preempt_sigaction(sig, NULL, a))
		REAL(sigaction)(sig, NULL, a);
}

static bool is_handler(const struct sigaction *a)
{
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

/* ---- masks -------------------------------------------------------------- */

static void acc_add(struct sig_hub *s, uint64_t m, int d)
{
	while (m) {
		int sig = lowest(m);

		m &= m - 1;
		s->nblk[sig] += d;
		if (s->nblk[sig] > 0)
			s->anyblk |= B(sig);
		else
			s->anyblk &= ~B(sig);
	}
}

/* Make the OS thread's mask the intersection of its threads' masks. */
static void os_sync(struct sig_hub *s)
{
	uint64_t want = 0, m = s->anyblk;
	sigset_t set;

	while (m) {
		int sig = lowest(m);

		m &= m - 1;
		if (s->nblk[sig] >= s->n)
			want |= B(sig);
	}
	/* The time slice's signal (preempt.c) is the program's to block in
	 * its own masks only: the kernel must always let the tick through. */
	want &= ~gr_preempt_mask;
	if (want == s->os_mask)
		return;
	s->os_mask = want;
	set64(&set, want);
	REAL(pthread_sigmask)(SIG_SETMASK, &set, NULL);
}

/* Set t's mask (t runs on this OS thread's hub). */
static void set_mask(struct gr_thread *t, uint64_t m)
{
	struct sig_hub *s = t->hub ? t->hub->sig_state : NULL;
	uint64_t old = m64(&t->sigmask);

	m &= ~UNBLOCKABLE;
	if (m == old)
		return;
	t->sigmask.__val[0] = m;
	if (s == NULL)
		return;
	acc_add(s, old & ~m, -1);
	acc_add(s, m & ~old, +1);
	os_sync(s);
}

void gr_sig_thread_new(struct gr_hub *h, struct gr_thread *t)
{
	struct sig_hub *s = h->sig_state;
	uint64_t m = m64(&t->sigmask);

	if (s == NULL)
		return;
	s->n++;
	if (m)
		acc_add(s, m, +1);
	if (s->os_mask) /* one more thread can only shrink the intersection */
		os_sync(s);
}

/* t leaves h's count (it ends, or moves to another hub: sched.c). */
void gr_sig_thread_leave(struct gr_hub *h, struct gr_thread *t)
{
	struct sig_hub *s = h->sig_state;
	uint64_t m = m64(&t->sigmask);

	if (s != NULL) {
		s->n--;
		if (m)
			acc_add(s, m, -1);
		if (s->anyblk)
			os_sync(s);
	}
}

/* t moved to h (sched.c's adopt): a pthread_kill that raced with the move
 * may have told its old hub, which no longer lists it; have h look. */
void gr_sig_thread_adopted(struct gr_hub *h, struct gr_thread *t)
{
	struct sig_hub *s = h->sig_state;

	if (s != NULL && atomic_load(&t->sig_inbox) != 0) {
		atomic_store(&s->targeted, 1);
		ev_async_send(h->loop, &s->async);
	}
}

void gr_sig_thread_gone(struct gr_hub *h, struct gr_thread *t)
{
	gr_sig_thread_leave(h, t);
	/* Its pending signals go with it, as with a real thread. */
	gr_free(t->sig);
	t->sig = NULL;
}

/* ---- running handlers --------------------------------------------------- */

/* Take the default action of sig: let the kernel do it, on this thread.
 * The program sees SIG_DFL; if the kernel holds a handler all the same, it
 * is the shim's own (SIGSEGV, SIGBUS, the watchdog's or the preemption
 * signal), whose default action ends the process: give the kernel SIG_DFL
 * first, so that the signal kills as it would natively. */
static void default_action(int sig)
{
	struct sigaction k;
	sigset_t one, old;

	if (DFL_IGNORED & B(sig))
		return;
	if (REAL(sigaction)(sig, NULL, &k) == 0 && is_handler(&k)) {
		if (!(B(sig) & (B(SIGTSTP) | B(SIGTTIN) | B(SIGTTOU))))
			gr_policy_fatal(sig); /* GREEN_SCHED: the seed */
		memset(&k, 0, sizeof(k));
		k.sa_handler = SIG_DFL;
		REAL(sigaction)(sig, &k, NULL);
	}
	set64(&one, B(sig));
	REAL(pthread_sigmask)(SIG_UNBLOCK, &one, &old);
	REAL(pthread_kill)(REAL(pthread_self)(), sig);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* SA_RESETHAND, as the kernel does it: the handler becomes SIG_DFL, the
 * flags and mask stay as they were. */
static void reset_hand(int sig)
{
	struct sigaction dfl = user_act[sig];

	dfl.sa_handler = SIG_DFL;
	user_act[sig].sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
}

/* Call the program's handler for sig.  The caller saved errno. */
static void call_user(int sig, siginfo_t *si, void *uc, bool kernel_reset)
{
	struct sigaction a = user_act[sig];

	if (!is_handler(&a))
		return;
	if (a.sa_flags & SA_RESETHAND) {
		if (kernel_reset) /* the kernel reset its copy already */
			user_act[sig].sa_handler = SIG_DFL;
		else
			reset_hand(sig);
	}
	gr_tls_insignal++;
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
	gr_tls_insignal--;
}

static void deliver_unblocked(struct gr_thread *t);

/* Run sig's handler in green thread t, which is running now: with sig and
 * the handler's sa_mask added to t's mask for the time it runs. */
static void run_green(struct gr_thread *t, int sig, siginfo_t *si)
{
	struct sigaction a;
	struct sig_thr *x = t->sig;
	uint64_t old = m64(&t->sigmask), add;
	int e = errno;

	act_of(sig, &a);
	if (!is_handler(&a)) {
		if (a.sa_handler == SIG_DFL)
			default_action(sig);
		return;
	}
	add = m64(&a.sa_mask) | ((a.sa_flags & SA_NODEFER) ? 0 : B(sig));
	set_mask(t, old | add);
	call_user(sig, si, NULL, false);
	if (x != NULL)
		x->handled++;
	set_mask(t, old);
	errno = e;
	deliver_unblocked(t);
}

/* Signals pending on t or its hub that t's mask now lets through. */
static void deliver_unblocked(struct gr_thread *t)
{
	struct sig_hub *s = t->hub ? t->hub->sig_state : NULL;
	struct sig_thr *x = t->sig;

	for (int guard = 0; guard < 256; guard++) {
		uint64_t open = ~m64(&t->sigmask);
		uint64_t tp = m64(&t->sigpending) & open;
		uint64_t pp = s ? s->pending & open : 0;
		siginfo_t info;
		int sig;

		if ((tp | pp) == 0)
			return;
		sig = lowest(tp | pp);
		if (tp & B(sig)) {
			t->sigpending.__val[0] &= ~B(sig);
			if (x != NULL)
				info = x->info[sig];
			else
				memset(&info, 0, sizeof(info));
		} else {
			s->pending &= ~B(sig);
			info = s->pending_info[sig];
		}
		info.si_signo = sig;
		run_green(t, sig, &info);
	}
}

/* Switch-in path (sched.c): run the handlers made due for t. */
void gr_sig_deliver(struct gr_thread *t)
{
	uint64_t due;

	while ((due = atomic_exchange(&t->sig_due, 0)) != 0) {
		while (due) {
			int sig = lowest(due);
			siginfo_t info;

			due &= due - 1;
			if (t->sig != NULL)
				info = ((struct sig_thr *)t->sig)->info[sig];
			else
				memset(&info, 0, sizeof(info));
			info.si_signo = sig;
			if (m64(&t->sigmask) & B(sig)) {
				/* blocked since it was handed over: pending */
				t->sigpending.__val[0] |= B(sig);
				continue;
			}
			run_green(t, sig, &info);
		}
	}
}

/* ---- handing a signal to a thread (hub or green context, t's hub) ------- */

static bool tolerates_spurious(int why)
{
	return why == GR_WAIT_MUTEX || why == GR_WAIT_COND ||
	       why == GR_WAIT_JOIN || why == GR_WAIT_YIELD;
}

/* t accepts sig (its mask lets it through, the handler is a function). */
static void hand(struct gr_thread *t, int sig, const siginfo_t *si,
		 bool restart, bool on_hub)
{
	struct sig_thr *x = ext(t);

	if (x == NULL) { /* no memory: run it where we are */
		int e = errno;
		call_user(sig, (siginfo_t *)si, NULL, false);
		errno = e;
		return;
	}
	x->info[sig] = *si;
	if (atomic_load(&t->state) == GR_PARKED) {
		if (t->interruptible & GR_PF_EINTR) {
			atomic_fetch_or(&t->sig_due, B(sig));
			gr_ready(t, restart ? -GR_ERESTART : -EINTR);
			return;
		}
		if (tolerates_spurious(t->why)) {
			atomic_fetch_or(&t->sig_due, B(sig));
			gr_ready(t, 0);
			return;
		}
		if (on_hub) {
			int e = errno;
			call_user(sig, (siginfo_t *)si, NULL, false);
			errno = e;
			return;
		}
	}
	atomic_fetch_or(&t->sig_due, B(sig));
}

/* Give sig to t, parked in the sigwait family for it. */
static void give_wait(struct sig_thr *x, int sig, const siginfo_t *si)
{
	x->info[sig] = *si;
	x->t->sigpending.__val[0] |= B(sig);
	x->waitset = 0; /* one signal per wait: the next goes elsewhere */
	gr_ready(x->t, 0);
}

/* A signal sent to green thread t (pthread_kill, raise), on t's hub. */
static void kill_green(struct gr_thread *t, int sig, const siginfo_t *si,
		       bool on_hub)
{
	struct sig_thr *x = ext(t);
	struct sigaction a;
	uint64_t bit = B(sig);

	if (x != NULL && (x->waitset & bit)) {
		give_wait(x, sig, si);
		return;
	}
	if (m64(&t->sigmask) & bit) {
		t->sigpending.__val[0] |= bit;
		if (x != NULL)
			x->info[sig] = *si;
		return;
	}
	act_of(sig, &a);
	if (a.sa_handler == SIG_IGN)
		return;
	if (a.sa_handler == SIG_DFL) {
		default_action(sig);
		return;
	}
	if (!on_hub && gr_tls_hub->cur == t) {
		siginfo_t info = *si;
		run_green(t, sig, &info);
		return;
	}
	hand(t, sig, si, a.sa_flags & SA_RESTART, on_hub);
}

/* Which thread of h takes a process-directed sig: the OS thread's own
 * context if it accepts it, else the first green thread that does. */
static struct gr_thread *pick(struct gr_hub *h, uint64_t bit)
{
	struct gr_thread *t = h->os;

	if (t != NULL && atomic_load(&t->state) != GR_DONE &&
	    !(m64(&t->sigmask) & bit))
		return t;
	for (t = h->all; t != NULL; t = t->all_next)
		if (atomic_load(&t->state) != GR_DONE &&
		    !(m64(&t->sigmask) & bit))
			return t;
	return NULL;
}

/* A process-directed signal reached hub h (hub context). */
static void route(struct gr_hub *h, struct sig_hub *s, int sig,
		  const siginfo_t *si)
{
	struct gr_thread *t;
	struct sigaction a;
	uint64_t bit = B(sig);

	if (sig == SIGCHLD)
		gr_proc_kick(h);
	for (struct sig_thr *w = s->waiters; w != NULL; w = w->wnext)
		if (w->waitset & bit) {
			give_wait(w, sig, si);
			return;
		}
	t = pick(h, bit);
	if (t == NULL) {
		s->pending |= bit;
		s->pending_info[sig] = *si;
		return;
	}
	act_of(sig, &a);
	if (a.sa_handler == SIG_IGN)
		return;
	if (a.sa_handler == SIG_DFL) {
		default_action(sig);
		return;
	}
	hand(t, sig, si, a.sa_flags & SA_RESTART, true);
}

/* ---- the hub's side ------------------------------------------------------ */

/* What a pthread_kill() of this process says in its siginfo. */
static void tkill_info(siginfo_t *info, int sig)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = sig;
	info->si_code = SI_TKILL;
	info->si_pid = getpid();
	info->si_uid = getuid();
}

static void scan_targeted(struct gr_hub *h, struct sig_hub *s,
			  struct gr_thread *t)
{
	uint64_t m = atomic_exchange(&t->sig_inbox, 0);
	/* only the bits taken: a sender sets sig_tkill before sig_inbox */
	uint64_t k = atomic_fetch_and(&t->sig_tkill, ~m) & m;

	while (m) {
		int sig = lowest(m);
		siginfo_t info;

		if (k & B(sig))
			tkill_info(&info, sig);
		else
			info = s->tinfo[sig];
		m &= m - 1;
		info.si_signo = sig;
		kill_green(t, sig, &info, true);
	}
}

static void intake(struct gr_hub *h, struct sig_hub *s)
{
	uint64_t a;

	if (atomic_exchange(&s->child_kick, 0))
		gr_proc_kick(h);
	if (atomic_exchange(&s->targeted, 0)) {
		if (h->os != NULL)
			scan_targeted(h, s, h->os);
		for (struct gr_thread *t = h->all; t != NULL; t = t->all_next)
			scan_targeted(h, s, t);
	}
	while ((a = atomic_exchange(&s->arrived, 0)) != 0) {
		while (a) {
			int sig = lowest(a);
			siginfo_t info = s->arrived_info[sig];

			a &= a - 1;
			info.si_signo = sig;
			route(h, s, sig, &info);
		}
	}
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct gr_hub *h = ev_userdata(loop);

	(void)w;
	(void)revents;
	intake(h, h->sig_state);
}

/* Before the hub switches to a thread (sched.c): a signal the dispatcher
 * deferred while the hub ran (inside ev_run's callbacks, after epoll_wait
 * had returned) would otherwise wait for the next round of the loop, and
 * the thread it is for would run on as if it had not arrived (and see it
 * only after it changed the handler: CPython's test_subprocess restores
 * SIG_DFL right after communicate(), and a late SIGUSR1 then killed it).
 * When the hub blocks instead, the async watcher is still pending and
 * delivers it at once. */
bool gr_sig_hub_pending(struct gr_hub *h)
{
	struct sig_hub *s = h->sig_state;

	return s != NULL &&
	       (atomic_load_explicit(&s->arrived, memory_order_relaxed) |
		(uint64_t)atomic_load_explicit(&s->targeted,
					       memory_order_relaxed) |
		(uint64_t)atomic_load_explicit(&s->child_kick,
					       memory_order_relaxed)) != 0;
}

void gr_sig_hub_intake(struct gr_hub *h)
{
	struct sig_hub *s = h->sig_state;

	if (s != NULL &&
	    (atomic_load_explicit(&s->arrived, memory_order_relaxed) |
	     (uint64_t)atomic_load_explicit(&s->targeted,
					    memory_order_relaxed) |
	     (uint64_t)atomic_load_explicit(&s->child_kick,
					    memory_order_relaxed)) != 0)
		intake(h, s);
}

static void sfd_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct gr_hub *h = ev_userdata(loop);
	struct sig_hub *s = h->sig_state;
	struct signalfd_siginfo ssi;

	(void)io;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		siginfo_t info;

		if (REAL(read)(s->sfd, &ssi, sizeof(ssi)) != sizeof(ssi))
			break;
		memset(&info, 0, sizeof(info));
		info.si_signo = (int)ssi.ssi_signo;
		info.si_errno = ssi.ssi_errno;
		info.si_code = ssi.ssi_code;
		info.si_pid = (pid_t)ssi.ssi_pid;
		info.si_uid = ssi.ssi_uid;
		if (ssi.ssi_signo == SIGCHLD) {
			info.si_status = ssi.ssi_status;
			info.si_utime = (clock_t)ssi.ssi_utime;
			info.si_stime = (clock_t)ssi.ssi_stime;
		} else if (ssi.ssi_code <= 0) { /* kill, sigqueue, timers */
			info.si_value.sival_ptr =
			    (void *)(uintptr_t)ssi.ssi_ptr;
		} else { /* a fault sent on: si_addr shares the pid's place */
			info.si_addr = (void *)(uintptr_t)ssi.ssi_addr;
		}
		if (info.si_signo > 0 && info.si_signo < NSIG64)
			route(h, s, info.si_signo, &info);
	}
}

/* Watch a signalfd for the signals green threads of h wait for. */
static void sfd_update(struct gr_hub *h, struct sig_hub *s)
{
	uint64_t m = 0;
	sigset_t set;

	for (struct sig_thr *w = s->waiters; w != NULL; w = w->wnext)
		m |= w->waitset;
	m &= ~gr_preempt_mask;
	if (m == s->sfd_mask)
		return;
	s->sfd_mask = m;
	if (m == 0) {
		if (ev_is_active(&s->sfd_io))
			ev_io_stop(h->loop, &s->sfd_io);
		return;
	}
	set64(&set, m);
	if (s->sfd < 0) {
		int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

		if (fd < 0)
			return; /* waiters fall back on the kernel checks */
		s->sfd = gr_shimfd_hide(fd);
		ev_io_init(&s->sfd_io, sfd_cb, s->sfd, EV_READ);
	} else {
		signalfd(s->sfd, &set, 0);
	}
	if (!ev_is_active(&s->sfd_io))
		ev_io_start(h->loop, &s->sfd_io);
}

void gr_sig_hub_init(struct gr_hub *h)
{
	struct sig_hub *s = gr_calloc(1, sizeof(*s));

	if (s == NULL)
		gr_die("out of memory for a hub's signal state");
	s->sfd = -1;
	REAL(pthread_sigmask)(SIG_SETMASK, NULL, &h->os->sigmask);
	h->os->sigmask.__val[0] &= ~UNBLOCKABLE;
	s->n = 1;
	acc_add(s, m64(&h->os->sigmask), +1);
	s->os_mask = m64(&h->os->sigmask);
	ev_async_init(&s->async, async_cb);
	ev_async_start(h->loop, &s->async);
	ev_unref(h->loop);
	h->sig_state = s;
}

/* Keep the loop counted as alive while a thread waits only for a signal
 * (the deadlock report must not call sigsuspend or pause stuck). */
static void wait_ref(struct gr_hub *h, struct sig_hub *s, int d)
{
	if (d > 0 && s->nwait++ == 0)
		ev_ref(h->loop);
	if (d < 0 && --s->nwait == 0)
		ev_unref(h->loop);
}

/* In a child after fork, in the atfork handler (or none): only the calling
 * thread exists, nothing is pending, the OS mask is that thread's. */
void gr_sig_after_fork(struct gr_hub *h)
{
	struct gr_thread *self = h ? h->cur : gr_tls_os;
	sigset_t set;

	if (self != NULL) {
		sigemptyset(&self->sigpending);
		atomic_store(&self->sig_due, 0);
		atomic_store(&self->sig_inbox, 0);
		atomic_store(&self->sig_tkill, 0);
		if (self->sig != NULL)
			((struct sig_thr *)self->sig)->waitset = 0;
		set64(&set, m64(&self->sigmask));
		REAL(pthread_sigmask)(SIG_SETMASK, &set, NULL);
	}
}

/* With the child's fresh loop (gr_hub_refork): signal state of its own;
 * the old one watched the parent's loop. */
void gr_sig_after_refork(struct gr_hub *h)
{
	struct gr_thread *self = h->cur;
	struct sig_hub *s;

	h->sig_state = NULL;
	gr_sig_hub_init(h);
	if (self != h->os) { /* recount: self only */
		s = h->sig_state;
		memset(s->nblk, 0, sizeof(s->nblk));
		s->anyblk = 0;
		acc_add(s, m64(&self->sigmask), +1);
		s->os_mask = m64(&self->sigmask);
	}
}

/* ---- the dispatcher (handler context) ----------------------------------- */

static bool synchronous(int sig, const siginfo_t *si)
{
	return si != NULL && si->si_code > 0 &&
	       (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS);
}

/* Signals the dispatcher deferred (vtree.c: one that arrives while the
 * hub decides that the process is idle makes it not idle). */
_Atomic unsigned gr_sig_deferred;

static void defer(struct gr_hub *h, struct sig_hub *s, struct gr_thread *t,
		  int sig, const siginfo_t *si)
{
	atomic_fetch_add_explicit(&gr_sig_deferred, 1, memory_order_relaxed);
	if (t != NULL) {
		s->tinfo[sig] = *si;
		atomic_fetch_or(&t->sig_inbox, B(sig));
		atomic_store(&s->targeted, 1);
	} else {
		s->arrived_info[sig] = *si;
		atomic_fetch_or(&s->arrived, B(sig));
	}
	ev_async_send(h->loop, &s->async);
}

static void dispatch(int sig, siginfo_t *si, void *uc)
{
	struct gr_hub *h = gr_tls_hub;
	struct sig_hub *s;
	struct gr_thread *t;
	int e = errno;
	bool tkill;

	if (h == NULL || gr_tls_passthrough || (s = h->sig_state) == NULL ||
	    synchronous(sig, si) || si == NULL) {
		call_user(sig, si, uc, true);
		goto out;
	}
	if (sig == SIGCHLD) {
		atomic_store(&s->child_kick, 1);
		ev_async_send(h->loop, &s->async);
	}
	t = h->cur;
	/* tgkill (raise, pthread_kill of a real id) is for this OS thread's
	 * running context; kill, timers, children are for the process. */
	tkill = si->si_code == SI_TKILL;
	if (t == h->hub) {
		defer(h, s, tkill ? h->os : NULL, sig, si);
		goto out;
	}
	if (m64(&t->sigmask) & B(sig)) {
		defer(h, s, tkill ? t : NULL, sig, si);
		goto out;
	}
	call_user(sig, si, uc, true);
	if (t->sig != NULL)
		((struct sig_thr *)t->sig)->handled++;
out:
	errno = e;
}

/* ---- the API (shim/signal.c) ------------------------------------------- */

/* sigaction: 0 or -errno. */
int gr_sig_action(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction a, k;
	int r = 0;

	if (sig <= 0 || sig >= NSIG64 || sig == SIGKILL || sig == SIGSTOP ||
	    sig == SIGSEGV || sig == SIGBUS || sig == 32 || sig == 33) {
		if (gr_diag_sigaction(sig, act, old))
			return 0;
		return REAL(sigaction)(sig, act, old) == 0 ? 0 : -errno;
	}
	if (gr_diag_sigaction(sig, act, old))
		return 0;
	if (gr_preempt_sigaction(sig, act, old))
		return 0;
	if (act != NULL)
		a = *act; /* act and old may be the same */
	gr_spin_acquire(&act_lock);
	if (!atomic_load(&have[sig])) {
		REAL(sigaction)(sig, NULL, &user_act[sig]);
		atomic_store(&have[sig], 1);
	}
	if (old != NULL) {
		/* as glibc: the kernel's 64-bit mask, the rest untouched */
		old->sa_sigaction = user_act[sig].sa_sigaction;
		old->sa_flags = user_act[sig].sa_flags;
		old->sa_restorer = user_act[sig].sa_restorer;
		old->sa_mask.__val[0] = user_act[sig].sa_mask.__val[0];
	}
	if (act == NULL)
		goto out;
	if (!is_handler(&a)) {
		if (REAL(sigaction)(sig, &a, NULL) != 0) {
			r = -errno;
			goto out;
		}
		REAL(sigaction)(sig, NULL, &user_act[sig]);
		if (a.sa_handler == SIG_IGN && gr_tls_hub &&
		    gr_tls_hub->sig_state)
			((struct sig_hub *)gr_tls_hub->sig_state)->pending &=
			    ~B(sig);
		goto out;
	}
	k = a;
	k.sa_sigaction = dispatch;
	k.sa_flags |= SA_SIGINFO;
	user_act[sig] = a; /* before the kernel can call us for it */
	if (REAL(sigaction)(sig, &k, NULL) != 0) {
		r = -errno;
		REAL(sigaction)(sig, NULL, &user_act[sig]); /* unchanged */
		goto out;
	}
	/* Report what the kernel keeps (SA_RESTORER, the sanitised mask),
	 * less the SA_SIGINFO we added. */
	REAL(sigaction)(sig, NULL, &k);
	a.sa_flags = (k.sa_flags & ~SA_SIGINFO) | (a.sa_flags & SA_SIGINFO);
	a.sa_restorer = k.sa_restorer;
	sigemptyset(&a.sa_mask);
	a.sa_mask.__val[0] = k.sa_mask.__val[0];
	user_act[sig] = a;
out:
	gr_spin_release(&act_lock);
	return r;
}

/* signal(), as glibc's BSD flavour; sysv: one-shot, no mask, no restart. */
__sighandler_t gr_sig_signal(int sig, __sighandler_t fn, bool sysv)
{
	struct sigaction a, old;
	int r;

	if (fn == SIG_ERR || sig <= 0 || sig >= NSIG64 || sig == 32 ||
	    sig == 33) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&a, 0, sizeof(a));
	a.sa_handler = fn;
	sigemptyset(&a.sa_mask);
	if (sysv) {
		a.sa_flags = SA_RESETHAND | SA_NODEFER;
	} else {
		sigaddset(&a.sa_mask, sig);
		a.sa_flags = (intr_set & B(sig)) ? 0 : SA_RESTART;
	}
	r = gr_sig_action(sig, &a, &old);
	if (r < 0) {
		errno = -r;
		return SIG_ERR;
	}
	return old.sa_handler;
}

int gr_sig_interrupt(int sig, int flag)
{
	struct sigaction a;
	int r;

	if (sig <= 0 || sig >= NSIG64)
		return -EINVAL;
	r = gr_sig_action(sig, NULL, &a);
	if (r < 0)
		return r;
	if (flag) {
		intr_set |= B(sig);
		a.sa_flags &= ~SA_RESTART;
	} else {
		intr_set &= ~B(sig);
		a.sa_flags |= SA_RESTART;
	}
	return gr_sig_action(sig, &a, NULL);
}

/* The green context whose signal state applies, or NULL for libc's. */
static struct gr_thread *sig_self(void)
{
	struct gr_hub *h = gr_tls_hub;

	if (h == NULL || h->cur == h->hub || gr_tls_insignal ||
	    gr_tls_passthrough || h->sig_state == NULL)
		return NULL;
	return h->cur;
}

/* pthread_sigmask: 0 or -errno. */
int gr_sig_mask(int how, const sigset_t *set, sigset_t *old)
{
	struct gr_thread *t = sig_self();
	uint64_t cur, m;

	if (t == NULL) {
		int r = REAL(pthread_sigmask)(how, set, old);

		if (r == 0 && set != NULL && gr_tls_hub == NULL && gr_tls_os)
			REAL(pthread_sigmask)
		(SIG_SETMASK, NULL, &gr_tls_os->sigmask);
		return -r;
	}
	cur = m64(&t->sigmask);
	if (set == NULL) {
		if (old != NULL)
			old->__val[0] = cur;
		return 0;
	}
	m = m64(set);
	switch (how) {
	case SIG_BLOCK:
		m = cur | m;
		break;
	case SIG_UNBLOCK:
		m = cur & ~m;
		break;
	case SIG_SETMASK:
		break;
	default:
		return -EINVAL;
	}
	if (old != NULL)
		old->__val[0] = cur;
	set_mask(t, m);
	if (cur & ~m)
		deliver_unblocked(t);
	return 0;
}

/* sigpending: the thread's, its hub's and the kernel's. */
int gr_sig_pending(sigset_t *set)
{
	struct gr_thread *t = sig_self();
	if (REAL(sigpending)(set) != 0)
		return -errno;
	set->__val[0] &= ~gr_preempt_mask; /* a tick is not the program's */
	if (t != NULL)
		set->__val[0] |= m64(&t->sigpending) |
				 ((struct sig_hub *)t->hub->sig_state)->pending;
	return 0;
}

/* pthread_kill of green thread t (or an OS thread's own context). */
int gr_sig_kill(struct gr_thread *t, int sig)
{
	struct gr_hub *h = gr_tls_hub;
	struct sig_hub *s = t->hub ? t->hub->sig_state : NULL;
	siginfo_t info;

	if (sig < 0 || sig >= NSIG64)
		return -EINVAL;
	if (atomic_load(&t->state) == GR_DONE)
		return sig == 0 ? -ESRCH : 0;
	if (sig == 0)
		return 0;
	if (s == NULL)
		return -REAL(pthread_kill)(
		    t->hub ? t->hub->os->real_id : t->real_id, sig);
	if (gr_tls_insignal || h != t->hub || h->cur == h->hub) {
		/* handler context or another OS thread: the hub sorts it.
		 * Its siginfo is not written to the hub's table: the hub may
		 * be reading it, and t may have moved to another hub. */
		atomic_fetch_or(&t->sig_tkill, B(sig));
		atomic_fetch_or(&t->sig_inbox, B(sig));
		atomic_store(&s->targeted, 1);
		ev_async_send(t->hub->loop, &s->async);
		return 0;
	}
	tkill_info(&info, sig);
	kill_green(t, sig, &info, false);
	return 0;
}

/* Take a signal of `set` pending for t: its own, its hub's, the kernel's. */
static int take(struct gr_thread *t, uint64_t set, const sigset_t *kset,
		siginfo_t *info)
{
	struct sig_hub *s = t->hub->sig_state;
	struct sig_thr *x = t->sig;
	struct timespec zero = {0, 0};
	uint64_t m;
	int sig;

	if ((m = m64(&t->sigpending) & set) != 0) {
		sig = lowest(m);
		t->sigpending.__val[0] &= ~B(sig);
		if (info) {
			if (x != NULL)
				*info = x->info[sig];
			else
				memset(info, 0, sizeof(*info));
			info->si_signo = sig;
		}
		return sig;
	}
	if ((m = s->pending & set) != 0) {
		sig = lowest(m);
		s->pending &= ~B(sig);
		if (info) {
			*info = s->pending_info[sig];
			info->si_signo = sig;
		}
		return sig;
	}
	sig = REAL(sigtimedwait)(kset, info, &zero);
	return sig > 0 ? sig : 0;
}

/* sigwait, sigwaitinfo, sigtimedwait: the signal number or -errno
 * (-EAGAIN on timeout, -EINTR when a handler ran, unless `again`). */
long gr_sig_wait(const sigset_t *kset, siginfo_t *info,
		 const struct timespec *ts, bool again)
{
	struct gr_thread *t = sig_self();
	struct sig_hub *s;
	struct sig_thr *x;
	uint64_t set;
	int64_t dl = 0;
	long r;
	int sig;
	sigset_t kcopy;

	if (ts != NULL &&
	    (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || ts->tv_sec < 0))
		return -EINVAL;
	set = m64(kset) & ~UNBLOCKABLE;
	/* The kernel must not hand a time-slice tick to the program. */
	if (unlikely(gr_preempt_mask & m64(kset))) {
		kcopy = *kset;
		kcopy.__val[0] &= ~gr_preempt_mask;
		kset = &kcopy;
	}
	if (t == NULL) {
		r = REAL(sigtimedwait)(kset, info, ts);
		return r < 0 ? -errno : r;
	}
	if (ts != NULL)
		dl = gr_now() + gr_ts_ns(ts);
	s = t->hub->sig_state;
	for (;;) {
		sig = take(t, set, kset, info);
		if (sig > 0)
			return sig;
		if (ts != NULL && gr_now() >= dl)
			return -EAGAIN;
		if (!gr_park_useful()) {
			struct timespec left;

			if (ts != NULL)
				left = gr_ns_ts(
				    dl - gr_now() > 0 ? dl - gr_now() : 0);
			r = REAL(sigtimedwait)(kset, info, ts ? &left : NULL);
			if (r > 0)
				return r;
			if (errno == EINTR && again)
				continue;
			return -errno;
		}
		x = ext(t);
		if (x == NULL)
			return -ENOMEM;
		gr_park_begin(GR_WAIT_SIGNAL);
		x->waitset = set;
		x->wprev = NULL;
		x->wnext = s->waiters;
		if (s->waiters)
			s->waiters->wprev = x;
		s->waiters = x;
		sfd_update(t->hub, s);
		r = gr_park_end(dl);
		x->waitset = 0;
		if (x->wprev)
			x->wprev->wnext = x->wnext;
		else
			s->waiters = x->wnext;
		if (x->wnext)
			x->wnext->wprev = x->wprev;
		sfd_update(t->hub, s);
		if (r == -ECANCELED)
			gr_testcancel();
		if (r == -EINTR || r == -GR_ERESTART) {
			sig = take(t, set, kset, info);
			if (sig > 0)
				return sig;
			if (!again)
				return -EINTR;
		}
	}
}

/* sigsuspend(mask) or pause() (mask NULL): -EINTR once a handler ran. */
long gr_sig_suspend(const sigset_t *mask)
{
	struct gr_thread *t = sig_self();
	struct sig_hub *s;
	struct sig_thr *x;
	uint64_t old;
	unsigned h0;
	long r;

	if (t == NULL || (x = ext(t)) == NULL) {
		r = mask ? REAL(sigsuspend)(mask) : REAL(pause)();
		return r < 0 ? -errno : r;
	}
	s = t->hub->sig_state;
	old = m64(&t->sigmask);
	h0 = x->handled;
	if (mask != NULL) {
		set_mask(t, m64(mask));
		deliver_unblocked(t);
	}
	while (x->handled == h0) {
		if (!gr_park_useful()) {
			sigset_t m;

			set64(&m, m64(&t->sigmask));
			REAL(sigsuspend)(&m);
			break;
		}
		wait_ref(t->hub, s, +1);
		r = gr_park(GR_WAIT_SIGNAL, 0);
		wait_ref(t->hub, s, -1);
		if (r == -ECANCELED) {
			set_mask(t, old);
			gr_testcancel();
		}
	}
	set_mask(t, old);
	deliver_unblocked(t);
	return -EINTR;
}

/* Does the running green thread's mask differ from the OS thread's (which
 * a child made now would inherit)?  If so, *green is the thread's. */
bool gr_sig_mask_differs(sigset_t *green)
{
	struct gr_thread *t = sig_self();
	struct sig_hub *s;

	if (t == NULL)
		return false;
	s = t->hub->sig_state;
	if (m64(&t->sigmask) == s->os_mask)
		return false;
	set64(green, m64(&t->sigmask));
	return true;
}
