/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * diag.h — what the diagnostics files share among themselves; the rest of
 * the runtime sees only green.h's diag section.
 *
 *   stats.c     GREEN_STATS counters and the exit block; the list of hubs
 *               and the formatting helpers below
 *   overflow.c  the SIGSEGV/SIGBUS handler and the stack-overflow line
 *   watchdog.c  GREEN_WATCHDOG_MS: the monitor thread and its backtraces
 *   deadlock.c  the all-threads-asleep report
 */
#ifndef GREEN_DIAG_H
#define GREEN_DIAG_H

#include "green.h"

/* ---- stats.c: the hubs, and text for the reports ---------------------- */

/* Every hub ever made (hubs are never freed), newest first. */
struct gr_diag_hub {
	struct gr_hub *h;
	struct gr_diag_hub *next;
	/* the watchdog's view, touched by the watchdog thread only */
	uint64_t last_sw;
	int64_t since;
	int reported;
};
extern _Atomic(struct gr_diag_hub *) gr_diag_hubs GR_HIDDEN;

/* A report is built in a fixed buffer (no allocation while a hub may be
 * stuck or a handler runs) and written at once; what does not fit is cut. */
struct gr_diag_buf {
	char *p;
	size_t len, cap;
};
void gr_diag_bput(struct gr_diag_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) GR_HIDDEN;
/* REAL(write) until done, retrying EINTR: async-signal-safe. */
void gr_diag_write_all(int fd, const char *p, size_t n) GR_HIDDEN;
/* A thread's name for a report: its own, the OS thread's, or its number. */
void gr_diag_thread_label(char *out, size_t len, const struct gr_thread *t,
			  const char *name) GR_HIDDEN;

/* ---- overflow.c ------------------------------------------------------- */

/* Is this the overflow handler (the deadlock check discounts it)? */
bool gr_diag_overflow_ours(const struct sigaction *sa) GR_HIDDEN;

/* ---- watchdog.c ------------------------------------------------------- */

/* Set in a fork's child whose parent had a watchdog: the child's next green
 * thread starts one again (gr_diag_thread_new). */
extern _Atomic int gr_diag_wd_restart GR_HIDDEN;
void gr_diag_wd_start(void) GR_HIDDEN;	 /* once per process */
void gr_diag_wd_hub_new(void) GR_HIDDEN; /* starts it if configured */
void gr_diag_wd_after_fork(void) GR_HIDDEN;
/* gr_diag_sigaction's part for the signal the watchdog borrows. */
bool gr_diag_wd_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old) GR_HIDDEN;
/* Is this the backtrace handler (the deadlock check discounts it)? */
bool gr_diag_wd_ours(const struct sigaction *sa) GR_HIDDEN;

#endif
