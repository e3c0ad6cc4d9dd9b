/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * overflow.c — the stack overflow line: a green thread that runs off its
 * stack hits the guard below it, and instead of a bare "Segmentation
 * fault" the user reads one line naming the thread, its stack size and
 * GREEN_STACK_SIZE; then the process dies as it would have.
 *
 * Who calls it: sched.c tells it of every new green thread
 * (gr_diag_thread_new), which installs the handler once per process and
 * an alternate signal stack once per OS thread; the sigaction() wrapper
 * asks gr_diag_sigaction first, so that the program still reads and sets
 * its own SIGSEGV/SIGBUS handlers; signal.c's dispatcher may call
 * gr_diag_segv.
 *
 * Invariants:
 *  - The handler runs on an alternate stack (a green thread that
 *    overflowed has no stack left) and does only async-signal-safe work:
 *    no stdio, no allocation, REAL() calls only.
 *  - A fault that is not an overflow of ours goes to the program's handler
 *    as it was when ours went in, or kills the process as SIG_DFL would.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "diag.h"

#define ALTSTACK_SIZE (256 << 10)
/* this OS thread's, once it has green threads: kept in its hub, as TLS is
 * per green thread */
#define altstack (gr_tls_hub->altstack)
static _Atomic int segv_state; /* 0: none, 1: installing, 2: installed */
static struct sigaction segv_prev, bus_prev; /* the program's, at install */

/* Append a string / a number to a fixed buffer, async-signal-safely. */
static size_t sput(char *b, size_t o, size_t cap, const char *s)
{
	while (*s && o < cap)
		b[o++] = *s++;
	return o;
}

static size_t nput(char *b, size_t o, size_t cap, unsigned long long n)
{
	char d[24];
	int i = 0;

	do
		d[i++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	while (i > 0 && o < cap)
		b[o++] = d[--i];
	return o;
}

bool gr_diag_segv(int sig, siginfo_t *si, void *uc)
{
	struct gr_thread *t;
	struct sigaction dfl;
	char line[256];
	size_t o = 0, cap = sizeof(line) - 1;

	(void)uc;
	if ((sig != SIGSEGV && sig != SIGBUS) || si == NULL || si->si_code <= 0)
		return false;
	if (!gr_stack_fault_owner(si->si_addr, &t))
		return false;
	o = sput(line, o, cap, "libgreen: green thread ");
	if (t->name[0]) {
		char name[sizeof(t->name) + 1];

		memcpy(name, t->name, sizeof(t->name));
		name[sizeof(t->name)] = '\0';
		o = sput(line, o, cap, "'");
		o = sput(line, o, cap, name);
		o = sput(line, o, cap, "' (#");
		o = nput(line, o, cap, t->seq);
		o = sput(line, o, cap, ")");
	} else {
		o = sput(line, o, cap, "#");
		o = nput(line, o, cap, t->seq);
	}
	o = sput(line, o, cap, " overflowed its ");
	o = nput(line, o, cap, ((t->stack_size + 4095) & ~(size_t)4095) >> 10);
	o = sput(line, o, cap,
		 " KiB stack; set GREEN_STACK_SIZE to raise it\n");
	gr_diag_write_all(2, line, o);
	/* Die as the program would have: the fault re-raises on return. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
	return true;
}

/* Not an overflow of ours: do what the program's handler (as it was when
 * ours went in) would have done. */
static void segv_chain(int sig, siginfo_t *si, void *uc, struct sigaction *p)
{
	if (p->sa_handler == SIG_DFL || p->sa_handler == SIG_IGN) {
		struct sigaction dfl;

		gr_policy_fatal(sig); /* GREEN_SCHED: the seed, to replay */

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		REAL(sigaction)(sig, &dfl, NULL);
		/* A fault re-raises by itself; a kill() must be sent again
		 * (it stays pending while this handler runs). */
		if (si == NULL || si->si_code <= 0)
			REAL(raise)(sig);
		return;
	}
	if (p->sa_flags & SA_NODEFER || !sigisemptyset(&p->sa_mask)) {
		sigset_t m = p->sa_mask;

		if (!(p->sa_flags & SA_NODEFER))
			sigaddset(&m, sig);
		REAL(pthread_sigmask)(SIG_BLOCK, &m, NULL);
		if (p->sa_flags & SA_NODEFER) {
			sigemptyset(&m);
			sigaddset(&m, sig);
			REAL(pthread_sigmask)(SIG_UNBLOCK, &m, NULL);
		}
	}
	if (p->sa_flags & SA_SIGINFO) {
		void (*f)(int, siginfo_t *, void *) = p->sa_sigaction;

		if (p->sa_flags & SA_RESETHAND)
			p->sa_handler = SIG_DFL;
		f(sig, si, uc);
	} else {
		void (*f)(int) = p->sa_handler;

		if (p->sa_flags & SA_RESETHAND)
			p->sa_handler = SIG_DFL;
		f(sig);
	}
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	if (!gr_diag_segv(sig, si, uc))
		segv_chain(sig, si, uc,
			   sig == SIGSEGV ? &segv_prev : &bus_prev);
	errno = e;
}

/* A green thread that overflows has no stack to run a handler on: each OS
 * thread with green threads gets an alternate signal stack, unless the
 * program gave it one. */
static void altstack_ensure(void)
{
	stack_t cur, ss;
	char *p;

	if (altstack != NULL)
		return;
	altstack = (char *)1; /* tried: once per OS thread either way */
	if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
		return;
	p = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
		 0);
	if (p == MAP_FAILED)
		return;
	ss.ss_sp = p;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) != 0)
		munmap(p, ALTSTACK_SIZE);
	else
		altstack = p;
}

static void segv_install(void)
{
	struct sigaction sa;
	int exp = 0;

	if (!atomic_compare_exchange_strong(&segv_state, &exp, 1))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	REAL(sigaction)(SIGSEGV, &sa, &segv_prev);
	REAL(sigaction)(SIGBUS, &sa, &bus_prev);
	atomic_store(&segv_state, 2);
}

bool gr_diag_overflow_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == segv_handler;
}

/* A green thread was made: its OS thread needs the alternate stack and the
 * process the handler, once; a fork's child starts its watchdog again. */
void gr_diag_thread_new(struct gr_thread *t)
{
	(void)t;
	if (unlikely(altstack == NULL))
		altstack_ensure();
	if (unlikely(atomic_load_explicit(&segv_state, memory_order_relaxed) ==
		     0))
		segv_install();
	if (unlikely(atomic_load_explicit(&gr_diag_wd_restart,
					  memory_order_relaxed)) &&
	    atomic_exchange(&gr_diag_wd_restart, 0))
		gr_diag_wd_start();
}

/* For the sigaction() wrapper: while our handlers are in the kernel, the
 * program's view of SIGSEGV/SIGBUS is kept here (segv_chain runs it); the
 * watchdog's signal is watchdog.c's to answer. */
bool gr_diag_sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old)
{
	if ((sig == SIGSEGV || sig == SIGBUS) &&
	    atomic_load(&segv_state) == 2) {
		struct sigaction *p = sig == SIGSEGV ? &segv_prev : &bus_prev;

		if (old)
			*old = *p;
		if (act)
			*p = *act;
		return true;
	}
	return gr_diag_wd_sigaction(sig, act, old);
}
