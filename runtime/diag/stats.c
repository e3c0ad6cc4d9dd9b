/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stats.c — GREEN_STATS: the counters, and the block printed at exit; with
 * them the list of hubs and the formatting helpers every report shares
 * (diag.h).  The rest of diagnostics is one file per feature: overflow.c
 * (the stack overflow line), watchdog.c (GREEN_WATCHDOG_MS), deadlock.c
 * (the all-threads-asleep report).
 *
 * Who calls it: sched.c tells it of every new hub (gr_diag_start); the
 * runtime counts with GR_STAT_ADD; wrappers mark the call they are in with
 * GR_CALL (green.h), which counts parks by call here, and count a
 * hub-blocking fallback with gr_diag_fallback; fork.c calls
 * gr_diag_after_fork in the child.
 *
 * Costs: nothing at load time unless a GREEN_ variable is set (a
 * constructor scans environ for the prefix, then reads and checks them all
 * and registers the GREEN_STATS block).  Per call, GR_CALL's TLS load and
 * three stores; the table by call name only with GREEN_STATS on.
 *
 * Invariants:
 *  - Hubs are never freed (sched.c), so the hub list only grows (a fork's
 *    child trims it to its own) and the watchdog may read a hub's fields
 *    from its own OS thread at any time.
 *  - Counting is lock-free: a fallback may be counted from a signal
 *    handler.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diag.h"

_Atomic uint64_t gr_stats[GR_ST__COUNT];
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

_Atomic(struct gr_diag_hub *) gr_diag_hubs;

static void hub_register(struct gr_hub *h)
{
	struct gr_diag_hub *n = gr_calloc(1, sizeof(*n));

	if (n == NULL)
		return; /* diagnostics only: this hub goes unwatched */
	n->h = h;
	n->next = atomic_load(&gr_diag_hubs);
	while (!atomic_compare_exchange_weak(&gr_diag_hubs, &n->next, n))
		;
}

/* ---- what the reports share (diag.h) --------------------------------- */

void gr_diag_bput(struct gr_diag_buf *b, const char *fmt, ...)
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

void gr_diag_write_all(int fd, const char *p, size_t n)
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
void gr_diag_thread_label(char *out, size_t len, const struct gr_thread *t,
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
	struct gr_diag_buf b = {mem, 0, sizeof(mem)};
	const char *where = gr_cfg.stats;
	uint64_t sw = 0, parks = 0, falls = 0;
	uint64_t why[GR_WAIT__COUNT] = {0};
	int nh = 0, fd = 2;
	const char *sep;

	if (where == NULL)
		return;
	for (struct gr_diag_hub *n = atomic_load(&gr_diag_hubs); n;
	     n = n->next) {
		sw += __atomic_load_n(&n->h->switches, __ATOMIC_RELAXED);
		for (int i = 0; i < GR_WAIT__COUNT; i++)
			why[i] +=
			    __atomic_load_n(&n->h->parks[i], __ATOMIC_RELAXED);
		nh++;
	}
	for (int i = 0; i < GR_WAIT__COUNT; i++)
		parks += why[i];
	gr_diag_bput(&b, "--- libgreen stats: pid %d (%s) ---\n", (int)getpid(),
		     program_invocation_short_name);
	gr_diag_bput(&b, "green threads created  %llu\n",
		     (unsigned long long)gr_stats[GR_ST_CREATED]);
	gr_diag_bput(
	    &b,
	    "green threads peak     %llu (most live at once on all hubs, "
	    "the main thread included)\n",
	    (unsigned long long)gr_stats[GR_ST_PEAK]);
	gr_diag_bput(&b, "hubs                   %d (GREEN_THREADS=%s)\n", nh,
		     gr_cfg.threads == GR_MODE_NATIVE ? "native" : "green");
	if (gr_stats[GR_ST_STEALS])
		gr_diag_bput(&b, "moved to idle hubs     %llu\n",
			     (unsigned long long)gr_stats[GR_ST_STEALS]);
	gr_diag_bput(&b, "switches               %llu\n",
		     (unsigned long long)sw);
	if (nh > 1) {
		/* the list is newest first: hub 0 is last */
		sep = "per hub                ";
		for (int i = nh - 1; i >= 0; i--) {
			struct gr_diag_hub *n = atomic_load(&gr_diag_hubs);

			for (int j = 0; j < i; j++)
				n = n->next;
			gr_diag_bput(&b, "%sswitches %llu, moved in %llu", sep,
				     (unsigned long long)__atomic_load_n(
					 &n->h->switches, __ATOMIC_RELAXED),
				     (unsigned long long)__atomic_load_n(
					 &n->h->moved_in, __ATOMIC_RELAXED));
			sep = "; ";
		}
		gr_diag_bput(&b, "\n");
	}
	gr_diag_bput(&b, "parks                  %llu",
		     (unsigned long long)parks);
	sep = " (";
	for (int i = 0; i < GR_WAIT__COUNT; i++) {
		if (why[i] == 0)
			continue;
		gr_diag_bput(&b, "%s%s %llu", sep, gr_wait_name[i],
			     (unsigned long long)why[i]);
		sep = ", ";
	}
	gr_diag_bput(&b, "%s\n", sep[0] == ',' ? ")" : "");
	gr_diag_bput(&b, "parks by call          ");
	sep = "";
	for (int i = 0; i < NCALLS; i++) {
		const char *n = atomic_load(&calls[i].name);

		if (n && calls[i].parks) {
			gr_diag_bput(&b, "%s%s %llu", sep, n,
				     (unsigned long long)calls[i].parks);
			sep = ", ";
		}
	}
	gr_diag_bput(&b, "%s\n", sep[0] ? "" : "none");
	falls = gr_stats[GR_ST_FALLBACK];
	gr_diag_bput(&b,
		     "hub blocked            %llu (calls that could not park)",
		     (unsigned long long)falls);
	sep = ": ";
	for (int i = 0; i < NCALLS; i++) {
		const char *n = atomic_load(&calls[i].name);

		if (n && calls[i].fallbacks) {
			gr_diag_bput(&b, "%s%s %llu", sep, n,
				     (unsigned long long)calls[i].fallbacks);
			sep = ", ";
		}
	}
	gr_diag_bput(&b, "\n");
	{
		char pre[512];

		gr_preempt_stats(pre, sizeof(pre));
		gr_diag_bput(&b, "%s", pre);
	}
	gr_diag_bput(&b, "pool jobs              %llu\n",
		     (unsigned long long)gr_stats[GR_ST_POOL_JOBS]);
	gr_diag_bput(&b, "dns lookups            %llu\n",
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
		gr_diag_bput(
		    &b,
		    "stacks peak            %llu (%llu %s reserved, not "
		    "committed; hubs' included)\n",
		    (unsigned long long)gr_stats[GR_ST_STACKS_PEAK], kib, unit);
	}
	gr_diag_bput(&b, "---\n");

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
	gr_diag_write_all(fd, b.p, b.len);
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

/* ---- hubs made, and a fork's child ------------------------------------ */

/* In a child after fork: only the calling thread survived, and with it only
 * its hub.  The watchdog forgets its thread (watchdog.c); the list keeps
 * this thread's hub alone.  A step of fork.c's list. */
void gr_diag_after_fork(void)
{
	struct gr_diag_hub *n = atomic_load(&gr_diag_hubs);

	gr_diag_wd_after_fork();
	/* Nodes are not freed (hubs never are); only this thread's counts. */
	while (n && n->h != gr_tls_hub)
		n = n->next;
	if (n) {
		n->next = NULL;
		n->since = 0;
	}
	atomic_store(&gr_diag_hubs, n);
}

/* A hub was made: list it, and start the watchdog if it is asked for. */
void gr_diag_start(struct gr_hub *h)
{
	gr_fork_register();
	hub_register(h);
	gr_diag_wd_hub_new();
}
