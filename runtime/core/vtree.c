/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vtree.c — one virtual clock for a process tree (GREEN_CLOCK=virtual,
 * docs/testing.md, "A clock shared by a process tree").
 *
 * The tree is a 64 KiB file in /dev/shm (/tmp without it), named in the
 * environment by GREEN_CLOCK_TREE, made by the first process of the tree
 * and mapped by every process under the shim that has the variable: after
 * fork the mapping is shared already; after exec (wrapped or not, libc's
 * execvp included) the new image opens it by name.  It holds the clock's
 * offset (virtual - real, ns, only grows) and one slot per process:
 *  - BUSY: it may do something (runs, starts, execs, or is blocked in the
 *    kernel outside its hub); the parent writes the slot of a child it
 *    forked or spawned before it can go idle itself, the child takes it
 *    over; a slot stays BUSY past the process's exit until it is seen dead;
 *  - IDLE: its hub waits with nothing to run, on its earliest deadline
 *    (virtual CLOCK_MONOTONIC) and on waits of kinds given in flags: VT_EXT
 *    (an fd, a name lookup, a pool job: may be a peer outside the tree),
 *    VT_SIG (a signal: the tree's own when another member lives);
 *  - LEFT: under the shim without the virtual clock (native threads).
 * A slot's fields are written by its owner only, between two increments
 * of its gen (odd while writing), so a reader can tell a torn or changed
 * slot.
 *
 * The jump (gr_vtree_idle, by any process whose hub goes idle, under the
 * tree's lock): every live slot IDLE, each idle hub thread asleep in the
 * kernel (/proc/PID/task/TID/stat not 'R': a process the kernel has just
 * woken — a child exited, a pipe filled, a signal came — has not yet said
 * BUSY but is runnable; it will scan again when it goes idle), no slot
 * changed meanwhile; then the offset moves to the earliest deadline of the
 * tree and every idle member with a deadline gets a datagram on its wake
 * socket (abstract AF_UNIX, named by tree and pid), so that its hub fires
 * what is due and re-arms its timerfd at the real instant behind the rest.
 * A deadline that real time reaches needs no jump: its own timerfd fires.
 * With VT_EXT (or VT_SIG in a lone process, or a LEFT member) the jump
 * also waits for GREEN_CLOCK_IDLE_MS of real time since such a member last
 * ran (trio's autojump threshold, per process before).
 *
 * Leaving: a process that is gone (kill(pid, 0) without pidfds) frees
 * its slot.  One that exited and is not reaped (pidfd readable) holds the
 * clock for up to ZOMBIE_NS: its parent is about to run; a parent waiting
 * for any child (GR_VT_POLLCHILD: bash's wait polls) is told to look
 * again, a SIGCHLD it missed must not let the clock jump.  A BUSY slot that has
 * not changed for GREEN_CLOCK_IDLE_MS is checked once for libgreen in
 * /proc/PID/maps: a process that exec'd an image without the shim (a static
 * binary, GREEN_INHERIT=0) counts as LEFT, i.e. as a peer outside the tree.
 *
 * Without a file (no /dev/shm nor /tmp), the tree is private memory: one
 * process, the clock of each process its own, as before.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "green.h"

#define VT_MAGIC  0x3165657274766772ULL /* "grvtree1" */
#define VT_SLOTS  1023
#define VT_NAME	  "libgreen-vclock."
#define TREE_VAR  "GREEN_CLOCK_TREE"
#define SETTLE_NS 200000    /* re-scan after a member was still running */
#define ZOMBIE_NS 100000000 /* an unreaped child holds the clock this long */

enum { VT_FREE, VT_BUSY, VT_IDLE, VT_LEFT };

struct vt_slot {
	_Atomic int32_t pid; /* 0: free */
	_Atomic int32_t tid; /* the hub's OS thread */
	_Atomic uint32_t gen;
	_Atomic uint32_t state;
	_Atomic uint32_t flags;
	_Atomic int32_t ppid;	  /* its parent, to reap it */
	_Atomic int64_t deadline; /* IDLE: INT64_MAX for none */
	_Atomic int64_t since;	  /* real ns: BUSY since, IDLE: last ran */
	_Atomic int64_t zsince;	  /* real ns: seen exited, not reaped */
	char pad[16];
};

struct vt_tree {
	uint64_t magic;
	_Atomic int64_t off;
	_Atomic int32_t lock; /* the holder's pid */
	_Atomic int32_t top;  /* slots in use are below */
	char id[24];	      /* names the wake sockets */
	char pad[16];
	struct vt_slot slot[VT_SLOTS];
};
_Static_assert(sizeof(struct vt_slot) == 64, "a slot per cache line");
_Static_assert(sizeof(struct vt_tree) == 65536, "64 KiB");

static struct vt_tree *tree;
static bool shared; /* a file, not private memory */
static struct vt_slot *me;
static pid_t me_pid;
static int wake_fd = -1;
static char tree_env[sizeof(TREE_VAR) + 256] = TREE_VAR "=";
static char lib_name[64]; /* our file's base name, for the maps check */
/* A scanner's own cache: slot i at gen g was seen with libgreen mapped
 * (g + 1), or without it (left: g + 1 in left_gen). */
static uint32_t ours_gen[VT_SLOTS], left_gen[VT_SLOTS];

static inline int64_t idle_ns(void)
{
	return (int64_t)gr_conf()->clock_idle_ms * 1000000;
}

/* ---- the slot of this process ------------------------------------------ */

static void publish(struct vt_slot *s, int state, int64_t deadline,
		    unsigned flags, int64_t since)
{
	atomic_fetch_add(&s->gen, 1);
	atomic_store(&s->deadline, deadline);
	atomic_store(&s->flags, flags);
	atomic_store(&s->since, since);
	atomic_store(&s->state, (uint32_t)state);
	atomic_fetch_add(&s->gen, 1);
}

static bool dead(pid_t pid);

static void lock(void)
{
	int32_t exp = 0, me = (int32_t)me_pid;

	for (unsigned n = 1;
	     !atomic_compare_exchange_weak(&tree->lock, &exp, me); n++) {
		/* a holder killed in there must not stop the tree */
		if (exp != 0 && n % 64 == 0 && dead(exp))
			atomic_compare_exchange_strong(&tree->lock, &exp, 0);
		exp = 0;
		REAL(sched_yield)();
	}
}

static void unlock(void)
{
	atomic_store(&tree->lock, 0);
}

/* Under the lock: the slot of pid, taken (*fresh) if there is none. */
static struct vt_slot *slot_of(pid_t pid, bool *fresh)
{
	int top = atomic_load(&tree->top), i, fr = -1;

	*fresh = false;
	for (i = 0; i < top; i++) {
		int32_t p = atomic_load(&tree->slot[i].pid);

		if (p == pid)
			return &tree->slot[i];
		if (p == 0 && fr < 0)
			fr = i;
	}
	if (fr < 0) {
		if (top == VT_SLOTS)
			return NULL;
		fr = top;
		atomic_store(&tree->top, top + 1);
	}
	*fresh = true;
	atomic_store(&tree->slot[fr].zsince, 0);
	atomic_store(&tree->slot[fr].pid, pid);
	return &tree->slot[fr];
}

/* A process of the tree: the caller (pid 0) or a child it just made. */
static void join(pid_t pid)
{
	struct vt_slot *s;
	int e = errno;
	bool fresh;

	lock();
	s = slot_of(pid ? pid : me_pid, &fresh);
	if (s != NULL && pid == 0) {
		me = s;
		atomic_store(&s->tid, (int32_t)gettid());
		atomic_store(&s->ppid, (int32_t)getppid());
		publish(s, VT_BUSY, INT64_MAX, 0, gr_real_now());
	} else if (s != NULL && fresh) { /* the child has not taken it yet */
		atomic_store(&s->ppid, (int32_t)me_pid);
		publish(s, VT_BUSY, INT64_MAX, 0, gr_real_now());
	} else if (pid == 0)
		gr_warn("GREEN_CLOCK_TREE: the tree has %d processes; "
			"this one keeps a clock of its own",
			VT_SLOTS);
	unlock();
	errno = e;
}

/* ---- the file ----------------------------------------------------------- */

static const char *tree_dir(void)
{
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static struct vt_tree *map_fd(int fd)
{
	void *p = mmap(NULL, sizeof(struct vt_tree), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static bool all_dead(struct vt_tree *t);

/* Files of trees whose every process is gone (a tree whose last process
 * was killed is not unlinked): cleared when a new tree is made. */
static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		struct vt_tree *t;
		int fd;

		if (strncmp(de->d_name, VT_NAME, sizeof(VT_NAME) - 1) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = REAL(open)(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
		    st.st_size == sizeof(struct vt_tree) &&
		    (t = map_fd(fd)) != NULL) {
			if (t->magic == VT_MAGIC && all_dead(t))
				unlink(path);
			munmap(t, sizeof(*t));
		}
		REAL(close)(fd);
	}
	closedir(d);
}

static int open_tree(const char *path)
{
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(tree_env) - sizeof(TREE_VAR) ||
	    (fd = REAL(open)(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
	    st.st_size != sizeof(struct vt_tree) ||
	    (tree = map_fd(fd)) == NULL) {
		REAL(close)(fd);
		return -1;
	}
	REAL(close)(fd);
	if (tree->magic != VT_MAGIC) {
		munmap(tree, sizeof(*tree));
		tree = NULL;
		return -1;
	}
	snprintf(tree_env + sizeof(TREE_VAR),
		 sizeof(tree_env) - sizeof(TREE_VAR), "%s", path);
	return 0;
}

static int create_tree(int64_t off)
{
	const char *dir = tree_dir();
	char path[128];
	uint64_t r = (uint64_t)gr_real_now() * 0x9e3779b97f4a7c15ULL;
	int fd;

	sweep(dir);
	snprintf(path, sizeof(path), "%s/" VT_NAME "%d.%08x", dir, (int)me_pid,
		 (unsigned)(r >> 32));
	fd = REAL(open)(
	    path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, sizeof(struct vt_tree)) != 0 ||
	    (tree = map_fd(fd)) == NULL) {
		REAL(close)(fd);
		unlink(path);
		return -1;
	}
	REAL(close)(fd);
	snprintf(tree->id, sizeof(tree->id), "%d.%08x", (int)me_pid,
		 (unsigned)(r >> 32));
	atomic_store(&tree->off, off);
	tree->magic = VT_MAGIC;
	snprintf(tree_env + sizeof(TREE_VAR),
		 sizeof(tree_env) - sizeof(TREE_VAR), "%s", path);
	return 0;
}

_Atomic int64_t *gr_vtree_attach(int64_t off)
{
	const char *p = secure_getenv(TREE_VAR);
	Dl_info di;
	int64_t cur;

	me_pid = getpid();
	if (dladdr((void *)gr_vtree_attach, &di) != 0 && di.dli_fname) {
		const char *b = strrchr(di.dli_fname, '/');

		snprintf(lib_name, sizeof(lib_name), "%s",
			 b ? b + 1 : di.dli_fname);
	}
	if ((p != NULL && open_tree(p) == 0) || create_tree(off) == 0) {
		shared = true;
		putenv(tree_env);
	} else {
		tree = mmap(NULL, sizeof(*tree), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (tree == MAP_FAILED)
			gr_die("out of memory for the virtual clock");
		atomic_store(&tree->off, off);
	}
	/* An exec'd image starts no earlier than its parent's time. */
	cur = atomic_load(&tree->off);
	while (cur < off &&
	       !atomic_compare_exchange_weak(&tree->off, &cur, off))
		;
	join(0);
	if (me == NULL && shared) { /* the tree is full: a clock of our own */
		int64_t o = atomic_load(&tree->off);

		munmap(tree, sizeof(*tree));
		shared = false;
		tree = mmap(NULL, sizeof(*tree), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (tree == MAP_FAILED)
			gr_die("out of memory for the virtual clock");
		atomic_store(&tree->off, o);
		join(0);
	}
	return &tree->off;
}

/* Under the shim without the virtual clock (GREEN_THREADS=native): say so
 * in our slot, so that the tree treats us as a peer outside it. */
void gr_vtree_leave(void)
{
	const char *p = secure_getenv(TREE_VAR);
	struct vt_slot *s;
	bool fresh;

	if (p == NULL || open_tree(p) != 0)
		return;
	me_pid = getpid();
	lock();
	s = slot_of(me_pid, &fresh);
	if (s != NULL)
		publish(s, VT_LEFT, INT64_MAX, 0, gr_real_now());
	unlock();
	munmap(tree, sizeof(*tree));
	tree = NULL;
}

const char *gr_vtree_env(void)
{
	return shared ? tree_env : NULL;
}

/* ---- liveness ---------------------------------------------------------- */

enum { ALIVE, ZOMBIE, GONE };

static int life(pid_t pid)
{
	int fd = (int)REAL(syscall)(SYS_pidfd_open, pid, 0);
	struct pollfd p;
	bool exited;

	if (fd < 0) {
		if (errno == ESRCH)
			return GONE;
		return kill(pid, 0) < 0 && errno == ESRCH ? GONE : ALIVE;
	}
	/* readable once it exited: a zombie, its parent not told yet */
	p = (struct pollfd){fd, POLLIN, 0};
	exited = REAL(poll)(&p, 1, 0) == 1;
	REAL(close)(fd);
	return exited ? ZOMBIE : ALIVE;
}

static bool dead(pid_t pid)
{
	return life(pid) != ALIVE;
}

static bool all_dead(struct vt_tree *t)
{
	int top = atomic_load(&t->top);

	if (top < 0 || top > VT_SLOTS)
		return false;
	for (int i = 0; i < top; i++) {
		pid_t p = atomic_load(&t->slot[i].pid);

		if (p != 0 && p != me_pid && !dead(p))
			return false;
	}
	return true;
}

/* Is the OS thread running, runnable, or in a disk wait (an exec reading
 * its image)?  Then it has work the tree does not know about yet. */
static bool running(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *c;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = REAL(read)(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	c = strrchr(buf, ')');
	return c != NULL && c[1] == ' ' && (c[2] == 'R' || c[2] == 'D');
}

/* Is libgreen mapped in pid?  No: it exec'd an image without the shim. */
static bool ours(pid_t pid)
{
	char path[64], buf[4096 + 64];
	size_t keep = 0, ln = strlen(lib_name);
	ssize_t n;
	int fd;
	bool found = false;

	if (ln == 0 || ln >= 64)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (!found &&
	       (n = REAL(read)(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
		size_t len = keep + (size_t)n;

		buf[len] = '\0';
		found = strstr(buf, lib_name) != NULL;
		/* a name cut at the end of the chunk comes again whole */
		keep = len < ln ? len : ln;
		memmove(buf, buf + len - keep, keep);
	}
	REAL(close)(fd);
	return found;
}

/* ---- the jump ---------------------------------------------------------- */

static socklen_t wake_addr(struct sockaddr_un *a, pid_t pid)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
		     "libgreen-vclock/%s/%d", tree->id, (int)pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void wake(pid_t pid)
{
	struct sockaddr_un a;
	socklen_t n = wake_addr(&a, pid);

	if (wake_fd >= 0)
		REAL(sendto)
	(wake_fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, n);
}

int gr_vtree_wakefd(void)
{
	struct sockaddr_un a;
	socklen_t n;
	int fd;

	if (!shared || me == NULL)
		return -1;
	if (getpid() != me_pid)
		gr_vtree_forked(0);
	if (wake_fd >= 0)
		return wake_fd;
	fd =
	    REAL(socket)(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = wake_addr(&a, me_pid);
	if (bind(fd, (struct sockaddr *)&a, n) != 0) {
		REAL(close)(fd);
		return -1;
	}
	wake_fd = gr_shimfd_hide(fd);
	return wake_fd;
}

void gr_vtree_drain(void)
{
	char b[16];

	while (wake_fd >= 0 && REAL(recvfrom)(wake_fd, b, sizeof(b),
					      MSG_DONTWAIT, NULL, NULL) >= 0)
		;
}

void gr_vtree_busy(void)
{
	if (me != NULL && getpid() != me_pid)
		gr_vtree_forked(0);
	if (me != NULL && atomic_load(&me->state) != VT_BUSY)
		publish(me, VT_BUSY, INT64_MAX, 0, gr_real_now());
}

/* What the scan saw of one idle member, to check it again before the
 * jump. */
struct seen {
	int i;
	uint32_t gen;
};
static struct seen seen[VT_SLOTS];

static int32_t zombie_of[VT_SLOTS]; /* their parents */

int64_t gr_vtree_idle(int64_t deadline, unsigned flags, int64_t ran,
		      int64_t *recheck, bool *kick)
{
	int64_t rnow, off, min = deadline, qstart = 0, sigq = 0, again = 0;
	int top, nseen = 0, live = 1, nz = 0;
	unsigned sigs;
	bool blocked = false, quiet = false, sig = flags & GR_VT_SIG;

	*recheck = 0;
	*kick = false;
	if (me == NULL)
		return 0;
	if (getpid() != me_pid)
		gr_vtree_forked(0);
	if (atomic_load(&me->state) != VT_IDLE ||
	    atomic_load(&me->deadline) != deadline ||
	    atomic_load(&me->flags) != flags || atomic_load(&me->since) != ran)
		publish(me, VT_IDLE, deadline, flags, ran);
	if (flags & GR_VT_EXT) {
		quiet = true;
		qstart = ran;
	}
	if (sig)
		sigq = ran;
	sigs = atomic_load(&gr_sig_deferred);
	lock();
	rnow = gr_real_now();
	top = atomic_load(&tree->top);
	for (int i = 0; i < top; i++) {
		struct vt_slot *s = &tree->slot[i];
		pid_t pid = atomic_load(&s->pid);
		uint32_t g = atomic_load(&s->gen);
		int64_t since;

		if (pid == 0 || s == me)
			continue;
		switch (life(pid)) {
		case GONE:
			atomic_compare_exchange_strong(&s->pid, &pid, 0);
			continue;
		case ZOMBIE: {
			/* Exited, not reaped: its parent is about to hear
			 * of it (SIGCHLD, a pidfd, a poll) and run.  Give
			 * it ZOMBIE_NS (a parent that never reaps must not
			 * stop the clock). */
			int64_t z = atomic_load(&s->zsince);

			if (z == 0)
				atomic_store(&s->zsince, z = rnow);
			if (rnow - z < ZOMBIE_NS) {
				zombie_of[nz++] = atomic_load(&s->ppid);
				blocked = true;
				again = again ? again : rnow + SETTLE_NS;
			}
			continue;
		}
		}
		live++;
		if (g & 1) { /* being written: look again soon */
			blocked = true;
			again = again ? again : rnow + SETTLE_NS;
			continue;
		}
		since = atomic_load(&s->since);
		switch (atomic_load(&s->state)) {
		case VT_IDLE:
			if (atomic_load(&s->deadline) < min)
				min = atomic_load(&s->deadline);
			if (atomic_load(&s->flags) & GR_VT_EXT) {
				quiet = true;
				qstart = since > qstart ? since : qstart;
			}
			if (atomic_load(&s->flags) & GR_VT_SIG) {
				sig = true;
				sigq = since > sigq ? since : sigq;
			}
			seen[nseen++] = (struct seen){i, g};
			break;
		case VT_LEFT:
			quiet = true;
			qstart = since > qstart ? since : qstart;
			break;
		default: /* BUSY: unless it left the tree by exec */
			if (left_gen[i] == g + 1) {
				quiet = true;
				qstart = since > qstart ? since : qstart;
				break;
			}
			blocked = true;
			if (ours_gen[i] == g + 1)
				break;
			if (rnow - since < idle_ns()) {
				int64_t at = since + idle_ns();

				again = again == 0 || at < again ? at : again;
			} else if (ours(pid))
				ours_gen[i] = g + 1;
			else if (running(pid, pid)) {
				/* loading an image (ours, maybe), or
				 * computing: not quiet */
				int64_t at = rnow + idle_ns() / 4;

				again = again == 0 || at < again ? at : again;
			} else {
				left_gen[i] = g + 1;
				blocked = false;
				quiet = true;
				qstart = since > qstart ? since : qstart;
			}
		}
	}
	/* A lone process waiting for a signal waits for the outside. */
	if (sig && live == 1) {
		quiet = true;
		qstart = sigq > qstart ? sigq : qstart;
	}
	/* A parent that waits for any child (bash's wait: waitpid(-1) with
	 * WNOHANG, re-checked on SIGCHLD and a timer) and has one to reap
	 * is about to run: a SIGCHLD it missed must not let the clock jump
	 * first.  It is told to look again (gr_proc_kick).  A wait for one
	 * pid is a pidfd, whose exit has woken it already. */
	for (int z = 0; z < nz; z++) {
		if (zombie_of[z] == me_pid) {
			if (flags & GR_VT_POLLCHILD)
				*kick = blocked = true;
			continue;
		}
		for (int k = 0; k < nseen; k++) {
			struct vt_slot *s = &tree->slot[seen[k].i];

			if (atomic_load(&s->pid) == zombie_of[z] &&
			    (atomic_load(&s->flags) & GR_VT_POLLCHILD)) {
				wake(zombie_of[z]);
				blocked = true;
				again = again ? again : rnow + SETTLE_NS;
			}
		}
	}
	off = atomic_load(&tree->off);
	if (blocked || min == INT64_MAX || min <= rnow + off)
		goto out;
	if (quiet && rnow - qstart < idle_ns()) {
		again = qstart + idle_ns();
		goto out;
	}
	/* Everyone says idle: are they asleep, alive, and still as we saw
	 * them?  And did no signal come to us meanwhile? */
	for (int k = 0; k < nseen; k++) {
		struct vt_slot *s = &tree->slot[seen[k].i];

		if (running(atomic_load(&s->pid), atomic_load(&s->tid)) ||
		    life(atomic_load(&s->pid)) != ALIVE ||
		    atomic_load(&s->gen) != seen[k].gen ||
		    atomic_load(&gr_sig_deferred) != sigs) {
			again = rnow + SETTLE_NS + (me_pid % 8) * SETTLE_NS / 4;
			goto out;
		}
	}
	if (atomic_load(&gr_sig_deferred) != sigs) {
		again = rnow + SETTLE_NS;
		goto out;
	}
	rnow = gr_real_now();
	off = atomic_load(&tree->off);
	if (min - rnow > off)
		atomic_store(&tree->off, min - rnow);
	for (int k = 0; k < nseen; k++) {
		struct vt_slot *s = &tree->slot[seen[k].i];

		if (atomic_load(&s->deadline) != INT64_MAX)
			wake(atomic_load(&s->pid));
	}
out:
	unlock();
	*recheck = again;
	return atomic_load(&tree->off);
}

/* After fork: pid > 0 in the parent (the child is BUSY before the parent
 * can go idle), 0 in the child (its own slot, its own wake socket). */
void gr_vtree_forked(pid_t pid)
{
	if (tree == NULL)
		return;
	if (pid > 0) {
		if (shared)
			join(pid);
		return;
	}
	if (getpid() == me_pid)
		return;
	me_pid = getpid();
	memset(ours_gen, 0, sizeof(ours_gen));
	memset(left_gen, 0, sizeof(left_gen));
	if (!shared) { /* a private copy: the parent's slot is not ours */
		atomic_store(&tree->lock, 0);
		for (int i = 0; i < atomic_load(&tree->top); i++)
			atomic_store(&tree->slot[i].pid, 0);
	}
	if (wake_fd >= 0) { /* bound to the parent's name */
		gr_shimfd_close(wake_fd);
		wake_fd = -1;
	}
	me = NULL;
	join(0);
}

/* An exec is coming: the new image gets the BUSY slot, newly dated, so
 * that the maps check does not take it for a process that left. */
void gr_vtree_exec(void)
{
	if (me != NULL && getpid() != me_pid)
		gr_vtree_forked(0);
	if (me != NULL)
		publish(me, VT_BUSY, INT64_MAX, 0, gr_real_now());
}

/* The last process of the tree out takes the file with it. */
__attribute__((destructor)) static void vt_exit(void)
{
	const char *p = tree_env + sizeof(TREE_VAR);

	if (!shared || me == NULL || getpid() != me_pid)
		return;
	lock();
	if (all_dead(tree))
		unlink(p);
	unlock();
}
