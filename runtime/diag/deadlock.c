/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * deadlock.c — Go's "all goroutines are asleep": when every green thread
 * is parked on locks, joins or waits that nothing can ever end, say so
 * once on stderr, naming each thread and what it waits for (the mutex's
 * owner, the thread a join waits for).  GREEN_DEADLOCK=abort ends the
 * process then, =ignore keeps quiet; by default it goes on waiting, as it
 * would without the shim.
 *
 * Who calls it: hub.c calls gr_diag_idle when a hub has nothing to run and
 * no watcher (fd, timer, child, signal, async) that could change that.
 *
 * Invariants:
 *  - A false report is worse than none: it is printed only when no one —
 *    no other hub, OS thread, worker, signal handler, fd or timer — could
 *    ever end the waits it lists; at most once per hub.
 *  - It runs on the hub, which is stuck anyway: it may take its time
 *    (reading /proc, every sigaction); the report is built in a static
 *    buffer and written at once.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "diag.h"

/* pool.c keeps the real (strong) one; this keeps diag linkable alone. */
__attribute__((weak)) _Atomic int gr_pool_inflight;
_Atomic int gr_own_threads;

/* Waits only another green thread of this process could end (green.h). */
static bool wait_is_internal(int why)
{
	return gr_wait_flags[why] & GR_WF_I;
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
		if (gr_diag_overflow_ours(&sa) || gr_diag_wd_ours(&sa))
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

static struct gr_thread *owner_on(struct gr_hub *h, int id)
{
	if (h->os && h->os->owner_id == id)
		return h->os;
	for (struct gr_thread *t = h->all; t; t = t->all_next)
		if (t->owner_id == id)
			return t;
	return NULL;
}

/* The thread that holds a mutex: on this hub, or (several hubs) any. */
static struct gr_thread *thread_by_owner(struct gr_hub *h, int id,
					 struct gr_hub **on)
{
	struct gr_thread *t = owner_on(h, id);

	*on = h;
	for (int i = 0; t == NULL && gr_multi() && i < gr_hubs_n; i++)
		if (gr_hubv[i] != NULL && gr_hubv[i] != h &&
		    (t = owner_on(gr_hubv[i], id)) != NULL)
			*on = gr_hubv[i];
	return t;
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
	gr_diag_thread_label(out, len, t, name);
}

static void deadlock_line(struct gr_diag_buf *b, struct gr_hub *h,
			  struct gr_thread *t)
{
	char label[64], other[64];

	label_of(h, t, label, sizeof(label));
	gr_diag_bput(b, "libgreen:   thread %s waits for ", label);
	switch (t->why) {
	case GR_WAIT_JOIN:
		if (t->wait_obj) {
			label_of(h, (struct gr_thread *)t->wait_obj, other,
				 sizeof(other));
			gr_diag_bput(b, "join of thread %s", other);
		} else {
			gr_diag_bput(b, "join");
		}
		break;
	case GR_WAIT_MUTEX: {
		const pthread_mutex_t *m = t->wait_obj;
		struct gr_hub *oh = h;
		struct gr_thread *o =
		    m ? thread_by_owner(h, m->__data.__owner, &oh) : NULL;

		gr_diag_bput(b, "mutex %p", (void *)m);
		if (o) {
			label_of(oh, o, other, sizeof(other));
			gr_diag_bput(b, " held by thread %s", other);
		}
		break;
	}
	default:
		gr_diag_bput(b, "%s", gr_wait_name[t->why]);
		if (t->wait_obj)
			gr_diag_bput(b, " %p", t->wait_obj);
	}
	if (t->call)
		gr_diag_bput(b, " in %s()", t->call);
	gr_diag_bput(b, "\n");
}

#define DEADLOCK_LIST_MAX 64

/* Hubs that found nothing to run and nothing in their loop that could
 * change that (hub.c counts them around its last wait). */
_Atomic int gr_hubs_stuck;

static uint64_t switches_of(struct gr_hub **hubs, int n)
{
	uint64_t sw = 0;

	for (int i = 0; i < n; i++)
		if (hubs[i] != NULL)
			sw += __atomic_load_n(&hubs[i]->switches,
					      __ATOMIC_RELAXED);
	return sw;
}

/* Can nothing on h wake anyone?  Counts its parked threads. */
static bool hub_hopeless(struct gr_hub *h, int *nthreads, bool *sem)
{
	if (__atomic_load_n(&h->rq_head, __ATOMIC_RELAXED) != NULL ||
	    __atomic_load_n(&h->r_head, __ATOMIC_RELAXED) != NULL ||
	    atomic_load(&h->fd_cmds) != NULL)
		return false;
	/* Every thread, its OS thread's own context included, must be parked
	 * on something only a green thread could end (or be finished). */
	for (struct gr_thread *t = h->all;; t = t->all_next) {
		struct gr_thread *x = t ? t : h->os;
		int st = atomic_load(&x->state);

		if (st == GR_DONE)
			goto next;
		if (st != GR_PARKED || !wait_is_internal(x->why))
			return false;
		if (x->why == GR_WAIT_SEM)
			*sem = true;
		(*nthreads)++;
	next:
		if (t == NULL)
			break;
	}
	return true;
}

static void list_hub(struct gr_diag_buf *b, struct gr_hub *h, int *listed,
		     uint64_t *more)
{
	for (struct gr_thread *t = h->all;; t = t->all_next) {
		struct gr_thread *x = t ? t : h->os;

		if (atomic_load(&x->state) == GR_PARKED) {
			if ((*listed)++ < DEADLOCK_LIST_MAX)
				deadlock_line(b, h, x);
			else
				more[x->why]++;
		}
		if (t == NULL)
			break;
	}
}

/* The hub found nothing to run and no watcher that could change that.
 * With several hubs, the last of them to get stuck looks at all of them,
 * each under its list lock, and reports only if none of them has anything
 * that could wake a thread. */
void gr_diag_idle(struct gr_hub *h)
{
	static char mem[16384];
	static atomic_flag lock = ATOMIC_FLAG_INIT;
	static int reported;
	struct gr_diag_buf b = {mem, 0, sizeof(mem)};
	int mode = gr_conf()->deadlock, nthreads = 0, listed = 0, tasks, n = 1;
	bool sem = false, hopeless = true;
	uint64_t more[GR_WAIT__COUNT] = {0};
	struct gr_hub *one[1] = {h}, **hubs = one;
	uint64_t sw;

	if (h->deadlock_reported || reported || mode == GR_DEADLOCK_IGNORE)
		return;
	/* Cheap tests first: another hub or a worker could ready someone. */
	if (atomic_load(&gr_pool_inflight) != 0)
		return;
	if (gr_multi()) {
		n = gr_hubs_n;
		hubs = gr_hubv;
		if (atomic_load(&gr_hubs_stuck) != n ||
		    atomic_load(&gr_nhubs) != n)
			return;
	} else if (atomic_load(&gr_nhubs) != 1)
		return;
	if (atomic_flag_test_and_set(&lock))
		return; /* another hub is looking */
	sw = switches_of(hubs, n);
	for (int i = 0; i < n && hopeless; i++) {
		if (hubs[i] == NULL) {
			hopeless = false;
			break;
		}
		if (gr_multi())
			gr_spin_acquire(&hubs[i]->alock);
		hopeless = hub_hopeless(hubs[i], &nthreads, &sem);
		if (gr_multi())
			gr_spin_release(&hubs[i]->alock);
	}
	/* Several hubs: no thread on its way between two hubs (it is in
	 * neither's list), and nothing run anywhere while we looked. */
	if (!hopeless || nthreads == 0 || (sem && program_has_handlers()) ||
	    (gr_multi() &&
	     (atomic_load(&gr_hubs_stuck) != n || gr_hubs_in_flight() != 0 ||
	      switches_of(hubs, n) != sw)))
		goto out;
	/* Other OS threads (a glibc timer or aio thread, a thread made by
	 * raw clone) could post, unlock or signal: then it is not hopeless. */
	tasks = os_threads();
	if (tasks < 0 || tasks > 1 + atomic_load(&gr_own_threads))
		goto out;

	h->deadlock_reported = 1;
	reported = 1;
	gr_diag_bput(
	    &b,
	    "libgreen: deadlock: all green threads are asleep and nothing "
	    "can wake them (no fd, timer, child, signal or worker pending):\n");
	for (int i = 0; i < n; i++) {
		if (gr_multi())
			gr_spin_acquire(&hubs[i]->alock);
		list_hub(&b, hubs[i], &listed, more);
		if (gr_multi())
			gr_spin_release(&hubs[i]->alock);
	}
	if (listed > DEADLOCK_LIST_MAX) {
		const char *sep = "";

		gr_diag_bput(&b, "libgreen:   ... and %d more: ",
			     listed - DEADLOCK_LIST_MAX);
		for (int i = 0; i < GR_WAIT__COUNT; i++)
			if (more[i]) {
				gr_diag_bput(&b, "%s%llu %s", sep,
					     (unsigned long long)more[i],
					     gr_wait_name[i]);
				sep = ", ";
			}
		gr_diag_bput(&b, "\n");
	}
	if (mode == GR_DEADLOCK_ABORT)
		gr_diag_bput(&b, "libgreen: aborting (GREEN_DEADLOCK=abort)\n");
	else
		gr_diag_bput(
		    &b, "libgreen: still waiting, as the program would without "
			"the shim (GREEN_DEADLOCK=abort ends it, =ignore is "
			"silent)\n");
	gr_diag_write_all(2, b.p, b.len);
	if (mode == GR_DEADLOCK_ABORT) {
		gr_policy_fatal(SIGABRT);
		REAL(abort)();
	}
out:
	atomic_flag_clear(&lock);
}
