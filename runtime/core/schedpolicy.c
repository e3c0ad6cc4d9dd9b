/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * schedpolicy.c — GREEN_SCHED=fifo|random[:SEED]|pct:SEED:DEPTH[:STEPS]:
 * seeded, replayable schedules for finding races (docs/testing.md).
 *
 * fifo (the default) is the run queue as sched.c keeps it; nothing here
 * runs.  Under the other two, sched.c asks gr_policy_pop() which runnable
 * thread goes next, and every shim entry that could have blocked (GR_CALL)
 * is a scheduling point (gr_policy_point) where the running thread may be
 * switched out although it need not wait: races between two blocking
 * calls, or between a check and the act after a call, get explored.
 *
 *  random  the next thread is drawn uniformly from the run queue (so the
 *          order in which simultaneous wake-ups were queued is random
 *          too), and at each scheduling point the thread yields with
 *          probability 1/4.
 *  pct     probabilistic concurrency testing (Burckhardt, Kothari,
 *          Musuvathi, Nagarakatte, ASPLOS 2010): each thread gets a random
 *          priority at creation; the runnable thread of highest priority
 *          always runs; DEPTH-1 change points, drawn among the first STEPS
 *          scheduling points (default 1000), each drop the running
 *          thread's priority below every initial one.  A bug of depth d
 *          shows with probability at least 1/(n k^(d-1)) per run.
 *
 * One PRNG (xoshiro256**, seeded through splitmix64) drives everything, on
 * the one hub (GREEN_HUBS=1): with the same inputs and seed, the same
 * interleaving.  The seed is printed on stderr when the program exits
 * non-zero, aborts or dies of a fault, so that the run can be replayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "green.h"

int gr_sched_mode;
static uint64_t seed;
static unsigned depth, steps = 1000;
static uint64_t st[4];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_rand(void)
{
	uint64_t r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;

	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return r;
}

static uint64_t below(uint64_t n) /* uniform in [0, n) */
{
	return n ? (uint64_t)(((__uint128_t)next_rand() * n) >> 64) : 0;
}

/* ---- pct: priorities by creation number ---------------------------- */

static uint64_t *prio; /* by gr_thread.seq; 0: not drawn yet */
static uint64_t nprio;
static uint64_t *change; /* the change points, ascending */
static uint64_t nsteps;	 /* scheduling points so far */
static unsigned nchanged;

static uint64_t *prio_of(struct gr_thread *t)
{
	uint64_t s = t->os ? 0 : t->seq;

	if (s >= nprio) {
		uint64_t n = s < 64 ? 128 : 2 * s;
		uint64_t *p = realloc(prio, n * sizeof(*p));

		if (p == NULL)
			gr_die("out of memory for GREEN_SCHED=pct");
		memset(p + nprio, 0, (n - nprio) * sizeof(*p));
		prio = p;
		nprio = n;
	}
	/* initial priorities sit above the DEPTH low ones change points give */
	if (prio[s] == 0)
		prio[s] = depth + 1 + (next_rand() >> 2);
	return &prio[s];
}

/* ---- the hooks ------------------------------------------------------ */

/* Take one thread off the run queue: drawn at random, or the one of
 * highest priority. */
struct gr_thread *gr_policy_pop(struct gr_hub *h)
{
	struct gr_thread *t, *prev = NULL, *best = NULL, *best_prev = NULL;
	uint64_t i = 0, pick = 0, bp = 0;

	if (h->rq_head == NULL)
		return NULL;
	if (gr_sched_mode == GR_SCHED_RANDOM)
		pick = below(h->rq_len);
	for (t = h->rq_head; t; prev = t, t = t->rq_next, i++) {
		if (gr_sched_mode == GR_SCHED_RANDOM) {
			if (i == pick) {
				best = t;
				best_prev = prev;
				break;
			}
		} else {
			uint64_t p = *prio_of(t);

			if (best == NULL || p > bp) {
				best = t;
				best_prev = prev;
				bp = p;
			}
		}
	}
	if (best == NULL) { /* rq_len out of step: take the head */
		best = h->rq_head;
		best_prev = NULL;
	}
	if (best_prev)
		best_prev->rq_next = best->rq_next;
	else
		h->rq_head = best->rq_next;
	if (h->rq_tail == best)
		h->rq_tail = best_prev;
	h->rq_len--;
	best->rq_next = NULL;
	return best;
}

/* A shim entry: maybe switch away although the call need not wait. */
void gr_policy_point(void)
{
	struct gr_hub *h = gr_tls_hub;
	struct gr_thread *cur = h->cur;

	if (gr_sched_mode == GR_SCHED_RANDOM) {
		if (h->rq_head != NULL && below(4) == 0)
			gr_yield();
		return;
	}
	nsteps++;
	while (nchanged + 1 < depth && change[nchanged] == nsteps)
		*prio_of(cur) =
		    depth - 1 - nchanged++; /* below every initial one */
	/* a runnable thread above us runs first */
	for (struct gr_thread *t = h->rq_head; t; t = t->rq_next)
		if (*prio_of(t) > *prio_of(cur)) {
			gr_yield();
			return;
		}
}

/* ---- set-up and the exit report -------------------------------------- */

static void report(const char *how)
{
	char line[200];
	int n;

	if (gr_sched_mode == GR_SCHED_RANDOM)
		n = snprintf(line, sizeof(line),
			     "libgreen: %s with GREEN_SCHED=random:%llu "
			     "(replay: green replay %llu -- CMD)\n",
			     how, (unsigned long long)seed,
			     (unsigned long long)seed);
	else
		n = snprintf(line, sizeof(line),
			     "libgreen: %s with GREEN_SCHED=pct:%llu:%u:%u "
			     "(replay: green replay --pct %u %llu -- CMD)\n",
			     how, (unsigned long long)seed, depth, steps, depth,
			     (unsigned long long)seed);
	(void)!REAL(write)(2, line, n);
}

static void on_exit_report(int status, void *arg)
{
	char how[40];

	if (status == 0)
		return;
	snprintf(how, sizeof(how), "exit status %d", status);
	report(how);
}

/* A fatal signal is about to end the process (diag/overflow.c's fault
 * handler, the shim's abort and assert wrappers).  Async-signal-safe. */
void gr_policy_fatal(int sig)
{
	char how[40];

	if (gr_sched_mode == GR_SCHED_FIFO)
		return;
	snprintf(how, sizeof(how), "signal %d (%s)", sig,
		 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	report(how);
}

static bool parse_u64(const char **p, uint64_t *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	*out = strtoull(*p, &end, 0);
	*p = end;
	return true;
}

__attribute__((constructor)) static void policy_init(void)
{
	const char *v = secure_getenv("GREEN_SCHED"), *p;
	uint64_t d = 0, k = 1000, x;
	bool ok = true;

	if (v == NULL || *v == '\0' || strcmp(v, "fifo") == 0)
		return;
	if (strncmp(v, "random", 6) == 0 && (v[6] == '\0' || v[6] == ':')) {
		gr_sched_mode = GR_SCHED_RANDOM;
		p = v + 6;
		if (*p == ':') {
			p++;
			ok = parse_u64(&p, &seed) && *p == '\0';
		} else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
			seed = (uint64_t)gr_real_now() ^ (uint64_t)getpid();
		}
	} else if (strncmp(v, "pct:", 4) == 0) {
		gr_sched_mode = GR_SCHED_PCT;
		p = v + 4;
		ok = parse_u64(&p, &seed) && *p++ == ':' && parse_u64(&p, &d) &&
		     d >= 1 && d <= 64;
		if (ok && *p == ':') {
			p++;
			ok = parse_u64(&p, &k) && k >= 1;
		}
		ok = ok && *p == '\0';
	} else {
		ok = false;
	}
	if (!ok) {
		gr_warn(
		    "GREEN_SCHED=%s is not valid (accepted: fifo, random:SEED "
		    "or pct:SEED:DEPTH[:STEPS], e.g. random:42 or pct:42:3); "
		    "using the default (fifo)",
		    v);
		gr_sched_mode = GR_SCHED_FIFO;
		return;
	}
	if (gr_conf()->threads == GR_MODE_NATIVE) {
		gr_warn(
		    "GREEN_SCHED=%s needs green threads (the kernel schedules "
		    "real ones): not with GREEN_THREADS=native; using fifo",
		    v);
		gr_sched_mode = GR_SCHED_FIFO;
		return;
	}
	depth = (unsigned)d;
	steps = (unsigned)k;
	x = seed;
	for (int i = 0; i < 4; i++)
		st[i] = splitmix64(&x);
	if (gr_sched_mode == GR_SCHED_PCT && depth > 1) {
		change = calloc(depth - 1, sizeof(*change));
		if (change == NULL)
			gr_die("out of memory for GREEN_SCHED=pct");
		for (unsigned i = 0; i < depth - 1; i++)
			change[i] = 1 + below(steps);
		/* ascending, so the next one is always change[nchanged] */
		for (unsigned i = 1; i < depth - 1; i++)
			for (unsigned j = i; j > 0 && change[j - 1] > change[j];
			     j--) {
				uint64_t t = change[j];
				change[j] = change[j - 1];
				change[j - 1] = t;
			}
	}
	on_exit(on_exit_report, NULL);
}
