/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diag.c — what users see of the inside: the GREEN_STATS block, the
 * watchdog (GREEN_WATCHDOG_MS), the deadlock report (GREEN_DEADLOCK) and the
 * stack overflow line.
 *
 * Who calls it: sched.c tells it of every new hub (gr_diag_start) and green
 * thread (gr_diag_thread_new); hub.c calls gr_diag_idle when a hub has
 * nothing to run and no watcher that could change that; wrappers mark the
 * call they are in with GR_CALL and count a hub-blocking fallback with
 * gr_diag_fallback.
 *
 * Costs: nothing at load time unless a GREEN_ variable is set (a
 * constructor scans environ for the prefix, then reads and checks them all
 * and registers the GREEN_STATS block).  The watchdog thread exists only
 * once a hub does, the SIGSEGV handler once a green thread does.  Per call,
 * GR_CALL's TLS load and three stores.
 *
 * Invariants:
 *  - Hubs are never freed (sched.c), so the hub list below only grows and
 *    the watchdog may read a hub's fields from its own OS thread at any
 *    time; the green thread it finds running may end meanwhile, so its
 *    fields are copied with process_vm_readv, which fails instead of
 *    faulting, and the copy is kept only if the hub did not switch.
 *  - The SIGSEGV handler runs on an alternate stack (a green thread that
 *    overflowed has no stack left) and does only async-signal-safe work.
 *  - The deadlock report is printed at most once per hub, and only when no
 *    one — no other hub, OS thread, worker, signal handler, fd or timer —
 *    could ever end the waits it lists: a false report is worse than none.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>
#include "green.h"

_Atomic uint64_t gr_stats[GR_ST__COUNT];
_Atomic uint64_t gr_stats_park[GR_WAIT__COUNT];
/* pool.c keeps the real (strong) one; this keeps diag linkable alone. */
__attribute__((weak)) _Atomic int gr_pool_inflight;
_Atomic int gr_own_threads;
int gr_diag_counting;

/* ---- counters by call name ------------------------------------------ */

/* A fixed open-addressing table keyed by the call's name.  Names are string
 * literals; the same name from two files may be two addresses, hence the
 * strcmp.  Lock-free (one CAS to claim a slot), so a fallback counted from
 * a signal handler is safe. */
#define NCALLS 128
struct call_stat {
	_Atomic(const char *) name;
	_Atomic uint64_t parks, fallbacks;
};
static struct call_stat calls[NCALLS];

static struct call_stat *call_slot(const char *name)
{
	unsigned hash = 5381;

	if (name == NULL)
		name = "?";
	for (const char *p = name; *p; p++)
		hash = hash * 33 + (unsigned char)*p;
	for (unsigned i = 0; i < NCALLS; i++) {
		struct call_stat *c = &calls[(hash + i) % NCALLS];
		const char *n =
		    atomic_load_explicit(&c->name, memory_order_acquire);

		if (n == NULL) {
			if (atomic_compare_exchange_strong(&c->name, &n, name))
				return c;
		}
		if (n == name || strcmp(n, name) == 0)
			return c;
	}
	return NULL; /* more than NCALLS distinct calls: not counted by name */
}

void gr_diag_parked_in(const char *call)
{
	struct call_stat *c = call_slot(call);

	if (c)
		atomic_fetch_add_explicit(&c->parks, 1, memory_order_relaxed);
}

void gr_diag_fallback(const char *call)
{
	struct call_stat *c;

	GR_STAT_ADD(GR_ST_FALLBACK, 1);
	if (gr_diag_counting && (c = call_slot(call)) != NULL)
		atomic_fetch_add_explicit(&c->fallbacks, 1,
					  memory_order_relaxed);
}

/* ---- the list of hubs ----------------------------------------------- */

struct hub_node {
	struct gr_hub *h;
	struct hub_node *next;
	/* the watchdog's view, touched by the watchdog thread only */
	uint64_t last_sw;
	int64_t since;
	int reported;
};
static _Atomic(struct hub_node *) hubs;

static void hub_register(struct gr_hub *h)
{
	struct hub_node *n = gr_calloc(1, sizeof(*n));

	if (n == NULL)
		return; /* diagnostics only: this hub goes unwatched */
	n->h = h;
	n->next = atomic_load(&hubs);
	while (!atomic_compare_exchange_weak(&hubs, &n->next, n))
		;
}

/* ---- small formatting helpers ----------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void bput(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = b->len + n < b->cap ? b->len + n : b->cap - 1;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = REAL(write)(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= w;
	}
}

/* A thread's name for a report: its own, the OS thread's, or its number. */
static void thread_label(char *out, size_t len, const struct gr_thread *t,
			 const char *name)
{
	if (t->os) {
		char comm[16] = "";

		if (name && *name)
			snprintf(comm, sizeof(comm), "%s", name);
		if ((pid_t)t->owner_id == getpid())
			snprintf(out, len, "'%s' (main thread)",
				 comm[0] ? comm : "main");
		else
			snprintf(out, len, "'%s' (OS thread %d)", comm,
				 t->owner_id);
	} else if (name && *name) {
		snprintf(out, len, "'%s' (#%llu)", name,
			 (unsigned long long)t->seq);
	} else {
		snprintf(out, len, "#%llu", (unsigned long long)t->seq);
	}
}

/* ---- GREEN_STATS ------------------------------------------------------ */

static void stats_print(void)
{
	static char mem[8192];
	struct buf b = {mem, 0, sizeof(mem)};
	const char *where = gr_cfg.stats;
	uint64_t sw = 0, parks = 0, falls = 0;
	int nh = 0, fd = 2;
	const char *sep;

	if (where == NULL)
		return;
	for (struct hub_node *n = atomic_load(&hubs); n; n = n->next) {
		sw += __atomic_load_n(&n->h->switches, __ATOMIC_RELAXED);
		nh++;
	}
	for (int i = 0; i < GR_WAIT__COUNT; i++)
		parks += gr_stats_park[i];
	bput(&b, "--- libgreen stats: pid %d (%s) ---\n", (int)getpid(),
	     program_invocation_short_name);
	bput(&b, "green threads created  %llu\n",
	     (unsigned long long)gr_stats[GR_ST_CREATED]);
	bput(&b,
	     "green threads peak     %llu (most live on one hub at once, "
	     "its OS thread included)\n",
	     (unsigned long long)gr_stats[GR_ST_PEAK]);
	bput(&b, "hubs                   %d (GREEN_THREADS=%s)\n", nh,
	     gr_cfg.threads == GR_MODE_NATIVE ? "native" : "green");
	if (gr_stats[GR_ST_STEALS])
		bput(&b, "moved to idle hubs     %llu\n",
		     (unsigned long long)gr_stats[GR_ST_STEALS]);
	bput(&b, "switches               %llu\n", (unsigned long long)sw);
	bput(&b, "parks                  %llu", (unsigned long long)parks);
	sep = " (";
	for (int i = 0; i < GR_WAIT__COUNT; i++) {
		if (gr_stats_park[i] == 0)
			continue;
		bput(&b, "%s%s %llu", sep, gr_wait_name[i],
		     (unsigned long long)gr_stats_park[i]);
		sep = ", ";
	}
	bput(&b, "%s\n", sep[0] == ',' ? ")" : "");
	bput(&b, "parks by call          ");
	sep = "";
	for (int i = 0; i < NCALLS; i++) {
		const char *n = atomic_load(&calls[i].name);

		if (n && calls[i].parks) {
			bput(&b, "%s%s %llu", sep, n,
			     (unsigned long long)calls[i].parks);
			sep = ", ";
		}
	}
	bput(&b, "%s\n", sep[0] ? "" : "none");
	falls = gr_stats[GR_ST_FALLBACK];
	bput(&b, "hub blocked            %llu (calls that could not park)",
	     (unsigned long long)falls);
	sep = ": ";
	for (int i = 0; i < NCALLS; i++) {
		const char *n = atomic_load(&calls[i].name);

		if (n && calls[i].fallbacks) {
			bput(&b, "%s%s %llu", sep, n,
			     (unsigned long long)calls[i].fallbacks);
			sep = ", ";
		}
	}
	bput(&b, "\n");
	{
		char pre[512];

		gr_preempt_stats(pre, sizeof(pre));
		bput(&b, "%s", pre);
	}
	bput(&b, "pool jobs              %llu\n",
	     (unsigned long long)gr_stats[GR_ST_POOL_JOBS]);
	bput(&b, "dns lookups            %llu\n",
	     (unsigned long long)gr_stats[GR_ST_DNS]);
	{
		unsigned long long kib = gr_stats[GR_ST_STACK_BYTES] >> 10;
		const char *unit = "KiB";

		if (kib >= 10 << 20) {
			kib >>= 20;
			unit = "GiB";
		} else if (kib >= 10 << 10) {
			kib >>= 10;
			unit = "MiB";
		}
		bput(&b,
		     "stacks peak            %llu (%llu %s reserved, not "
		     "committed; hubs' included)\n",
		     (unsigned long long)gr_stats[GR_ST_STACKS_PEAK], kib,
		     unit);
	}
	bput(&b, "---\n");

	if (strcmp(where, "1") != 0 && strcmp(where, "stderr") != 0) {
		/* A path: %p becomes the pid, so that children (which inherit
		 * GREEN_STATS) can write their own files; otherwise blocks
		 * are appended, each headed by its pid. */
		char path[4096];
		size_t o = 0;

		for (const char *p = where; *p && o < sizeof(path) - 16; p++) {
			if (p[0] == '%' && p[1] == 'p') {
				o += snprintf(path + o, sizeof(path) - o, "%d",
					      (int)getpid());
				p++;
			} else {
				path[o++] = *p;
			}
		}
		path[o] = '\0';
		fd = REAL(open)(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				0644);
		if (fd < 0) {
			gr_warn(
			    "GREEN_STATS=%s: cannot open it (%s); the stats "
			    "go to stderr",
			    where, strerror(errno));
			fd = 2;
		}
	}
	write_all(fd, b.p, b.len);
	if (fd != 2)
		REAL(close)(fd);
}

/* At load time, only when the user set a GREEN_ variable: read them all,
 * so that a bad value is reported at start rather than in the middle of the
 * program's output; and register the GREEN_STATS block, which is printed at
 * exit even by a process that never makes a hub.  Registered this early,
 * it runs after the program's own atexit handlers. */
__attribute__((constructor)) static void diag_init(void)
{
	bool any = false;

	for (char **e = environ; e && *e && !any; e++)
		any = strncmp(*e, "GREEN_", 6) == 0;
	if (!any)
		return;
	if (gr_conf()->stats == NULL)
		return;
	gr_diag_counting = 1;
	atexit(stats_print);
}

/* ---- stack overflow --------------------------------------------------- */

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
	write_all(2, line, o);
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

static void wd_start(void);
static _Atomic int wd_restart;

void gr_diag_thread_new(struct gr_thread *t)
{
	(void)t;
	if (unlikely(altstack == NULL))
		altstack_ensure();
	if (unlikely(atomic_load_explicit(&segv_state, memory_order_relaxed) ==
		     0))
		segv_install();
	if (unlikely(atomic_load_explicit(&wd_restart, memory_order_relaxed)) &&
	    atomic_exchange(&wd_restart, 0))
		wd_start();
}

/* ---- watchdog --------------------------------------------------------- */

static int bt_sig; /* 0: no backtraces */
static void bt_handler(int sig, siginfo_t *si, void *ucv);

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
	if (sig == bt_sig && sig != 0) {
		struct sigaction dfl;

		/* The program's view of the signal the watchdog borrowed is
		 * the default it had. */
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

static void wd_report(struct hub_node *node, int64_t held_ns)
{
	static char mem[8192];
	struct buf b = {mem, 0, sizeof(mem)};
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
	thread_label(label, sizeof(label), &copy, name);
	call = copy.call; /* a string literal: always readable */
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", h->tid);
	if (read_small(path, sys, sizeof(sys)) > 0 &&
	    strncmp(sys, "running", 7) != 0) {
		in_kernel = true;
		nr = strtol(sys, NULL, 10);
	}
	bput(&b,
	     "libgreen: watchdog: green thread %s has held its hub for "
	     "%lld ms (GREEN_WATCHDOG_MS=%d), ",
	     label, (long long)(held_ns / 1000000), gr_cfg.watchdog_ms);
	if (call != NULL)
		bput(&b, "in %s(), which could not park", call);
	else if (in_kernel && nr >= 0 && syscall_name(nr))
		bput(&b, "blocked in the kernel in %s() made past the shim",
		     syscall_name(nr));
	else if (in_kernel)
		bput(&b,
		     "blocked in the kernel (system call %ld) past the shim",
		     nr);
	else if (why != NULL)
		bput(&b,
		     "running without a blocking call, and it could not be "
		     "preempted: %s",
		     why);
	else
		bput(&b, "running its own code without a blocking call");
	bput(&b, "; the hub's other green threads wait\n");

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
							bput(
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
							bput(
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
						bput(&b, "libgreen:   #%d %p\n",
						     i - first, pc);
					}
				}
				atomic_store(&bt.state, BT_IDLE);
			}
		}
	}
	write_all(2, b.p, b.len);
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
		for (struct hub_node *n = atomic_load(&hubs); n; n = n->next) {
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

static void wd_start(void)
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

/* In a child after fork: only the calling thread survived, so the watchdog
 * is gone and the other hubs' OS threads too.  Forget them; the watchdog
 * starts again with the child's next green thread or hub, so that a child
 * that only execs never makes one.  A step of fork.c's list. */

void gr_diag_after_fork(void)
{
	struct hub_node *n = atomic_load(&hubs);

	if (atomic_load(&wd_state) == 1 && wd_pid != getpid()) {
		atomic_store(&wd_state, 0);
		atomic_fetch_sub(&gr_own_threads, 1);
		atomic_store(&wd_restart, 1);
	}
	atomic_store(&bt.state, BT_IDLE);
	/* Nodes are not freed (hubs never are); only this thread's counts. */
	while (n && n->h != gr_tls_hub)
		n = n->next;
	if (n) {
		n->next = NULL;
		n->since = 0;
	}
	atomic_store(&hubs, n);
}

void gr_diag_start(struct gr_hub *h)
{
	gr_fork_register();
	hub_register(h);
	if (gr_conf()->watchdog_ms > 0 && atomic_load(&wd_state) == 0)
		wd_start();
}

/* ---- deadlock --------------------------------------------------------- */

/* Waits only another green thread of this process could end. */
static bool wait_is_internal(int why)
{
	switch (why) {
	case GR_WAIT_MUTEX:
	case GR_WAIT_COND:
	case GR_WAIT_RWLOCK:
	case GR_WAIT_SEM:
	case GR_WAIT_BARRIER:
	case GR_WAIT_ONCE:
	case GR_WAIT_JOIN:
	case GR_WAIT_SPIN:
		return true;
	}
	return false;
}

/* Is a signal handler of the program installed?  Then a signal from outside
 * could run it, and sem_post() is async-signal-safe: a semaphore wait is
 * not hopeless.  The shim's own handlers do not count. */
static bool program_has_handlers(void)
{
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;

		if (s == SIGKILL || s == SIGSTOP || (s >= 32 && s < SIGRTMIN))
			continue;
		if (REAL(sigaction)(s, NULL, &sa) != 0)
			continue;
		if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;
		if ((sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_sigaction == segv_handler ||
		     sa.sa_sigaction == bt_handler))
			continue;
		if (gr_preempt_is_ours(&sa))
			continue;
		return true;
	}
	return false;
}

/* How many OS threads does the process have? -1 if unknown. */
static int os_threads(void)
{
	char dents[4096];
	int fd =
	    REAL(open)("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0;
	long got;

	if (fd < 0)
		return -1;
	while ((got = REAL(syscall)(SYS_getdents64, fd, dents, sizeof(dents))) >
	       0) {
		for (long o = 0; o < got;) {
			struct dirent64 *d = (struct dirent64 *)(dents + o);

			if (d->d_name[0] != '.')
				n++;
			o += d->d_reclen;
		}
	}
	REAL(close)(fd);
	return got < 0 ? -1 : n;
}

static struct gr_thread *thread_by_owner(struct gr_hub *h, int id)
{
	if (h->os && h->os->owner_id == id)
		return h->os;
	for (struct gr_thread *t = h->all; t; t = t->all_next)
		if (t->owner_id == id)
			return t;
	return NULL;
}

static void label_of(struct gr_hub *h, struct gr_thread *t, char *out,
		     size_t len)
{
	char name[16] = "";

	if (t->os)
		REAL(pthread_getname_np)(h->os->real_id, name, sizeof(name));
	else
		memcpy(name, t->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	thread_label(out, len, t, name);
}

static void deadlock_line(struct buf *b, struct gr_hub *h, struct gr_thread *t)
{
	char label[64], other[64];

	label_of(h, t, label, sizeof(label));
	bput(b, "libgreen:   thread %s waits for ", label);
	switch (t->why) {
	case GR_WAIT_JOIN:
		if (t->wait_obj) {
			label_of(h, (struct gr_thread *)t->wait_obj, other,
				 sizeof(other));
			bput(b, "join of thread %s", other);
		} else {
			bput(b, "join");
		}
		break;
	case GR_WAIT_MUTEX: {
		const pthread_mutex_t *m = t->wait_obj;
		struct gr_thread *o =
		    m ? thread_by_owner(h, m->__data.__owner) : NULL;

		bput(b, "mutex %p", (void *)m);
		if (o) {
			label_of(h, o, other, sizeof(other));
			bput(b, " held by thread %s", other);
		}
		break;
	}
	default:
		bput(b, "%s", gr_wait_name[t->why]);
		if (t->wait_obj)
			bput(b, " %p", t->wait_obj);
	}
	if (t->call)
		bput(b, " in %s()", t->call);
	bput(b, "\n");
}

#define DEADLOCK_LIST_MAX 64

/* The hub found nothing to run and no watcher that could change that. */
void gr_diag_idle(struct gr_hub *h)
{
	static char mem[16384];
	struct buf b = {mem, 0, sizeof(mem)};
	int mode = gr_conf()->deadlock, nthreads = 0, listed = 0, tasks;
	bool sem = false;
	uint64_t more[GR_WAIT__COUNT] = {0};

	if (h->deadlock_reported || mode == GR_DEADLOCK_IGNORE)
		return;
	/* Cheap tests first: another hub or a worker could ready someone. */
	if (atomic_load(&gr_nhubs) != 1 || atomic_load(&gr_pool_inflight) != 0)
		return;
	if (h->rq_head != NULL || __atomic_load_n(&h->r_head, __ATOMIC_RELAXED))
		return;
	/* Every thread, its OS thread's own context included, must be parked
	 * on something only a green thread could end (or be finished). */
	for (struct gr_thread *t = h->all;; t = t->all_next) {
		struct gr_thread *x = t ? t : h->os;
		int st = atomic_load(&x->state);

		if (st == GR_DONE)
			goto next;
		if (st != GR_PARKED || !wait_is_internal(x->why))
			return;
		if (x->why == GR_WAIT_SEM)
			sem = true;
		nthreads++;
	next:
		if (t == NULL)
			break;
	}
	if (nthreads == 0)
		return;
	if (sem && program_has_handlers())
		return;
	/* Other OS threads (a glibc timer or aio thread, a thread made by
	 * raw clone) could post, unlock or signal: then it is not hopeless. */
	tasks = os_threads();
	if (tasks < 0 || tasks > 1 + atomic_load(&gr_own_threads))
		return;

	h->deadlock_reported = 1;
	bput(
	    &b,
	    "libgreen: deadlock: all green threads are asleep and nothing "
	    "can wake them (no fd, timer, child, signal or worker pending):\n");
	for (struct gr_thread *t = h->all;; t = t->all_next) {
		struct gr_thread *x = t ? t : h->os;

		if (atomic_load(&x->state) == GR_PARKED) {
			if (listed++ < DEADLOCK_LIST_MAX)
				deadlock_line(&b, h, x);
			else
				more[x->why]++;
		}
		if (t == NULL)
			break;
	}
	if (listed > DEADLOCK_LIST_MAX) {
		const char *sep = "";

		bput(&b, "libgreen:   ... and %d more: ",
		     listed - DEADLOCK_LIST_MAX);
		for (int i = 0; i < GR_WAIT__COUNT; i++)
			if (more[i]) {
				bput(&b, "%s%llu %s", sep,
				     (unsigned long long)more[i],
				     gr_wait_name[i]);
				sep = ", ";
			}
		bput(&b, "\n");
	}
	if (mode == GR_DEADLOCK_ABORT)
		bput(&b, "libgreen: aborting (GREEN_DEADLOCK=abort)\n");
	else
		bput(&b,
		     "libgreen: still waiting, as the program would without "
		     "the shim (GREEN_DEADLOCK=abort ends it, =ignore is "
		     "silent)\n");
	write_all(2, b.p, b.len);
	if (mode == GR_DEADLOCK_ABORT) {
		gr_policy_fatal(SIGABRT);
		REAL(abort)();
	}
}
