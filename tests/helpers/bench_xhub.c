/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_xhub — what it costs two threads on two CPUs (two hubs under the
 * shim) to hand control to each other.  A plain pthread program for
 * `make bench` (scripts/bench, section hubs); it never links or knows about
 * libgreen.  Run natively it measures real threads (with -P, pinned to
 * CPU 0 and CPU 1), under LD_PRELOAD=libgreen.so green threads.
 *
 *   bench_xhub MODE [-t TARGET_MS] [-r REPS] [-w WARM_MS] [-k BATCH] [-P]
 *     cond    two threads take turns over one mutex and two condition
 *             variables (as bench_handoff cond)
 *     pipe    two pipes, one byte each way
 *     create  one thread creates BATCH threads (each records where it ran
 *             and returns), then another thread joins them all: create
 *             on one side, join on the other
 *     -t      wall time of one repetition (default 200 ms)
 *     -r      repetitions (default 5)
 *     -w      before measuring, each of the two sides computes this long
 *             (default 40 ms; 0: no warm-up).  Under the shim with several
 *             hubs this is what places them: the creator's hub gets both,
 *             and when it polls with two CPU-bound threads waiting and an
 *             idle hub beside it, it hands one of them over.  Once a thread
 *             has parked it stays where it is.
 *     -k      threads per batch in create mode (default 256)
 *     -P      pin side 0 to CPU 0 and side 1 to CPU 1 (real threads only:
 *             the shim places green threads itself)
 *
 * Placement is checked, not assumed: each side records its OS thread id
 * (syscall(SYS_gettid), which the shim passes to the kernel) before and
 * after the measurement.  Prints on stdout:
 *   xhub: mode=M reps=R median_ns=X min_ns=Y max_ns=Z apart=A moved=N/K tasks=T
 * ns per hand-off (cond, pipe: a round trip is two) or per create + join
 * (create); apart=1 if the two sides were on two OS threads for the whole
 * measurement; moved (create) how many of the created threads ran on
 * another OS thread than their creator (under the shim: handed to another
 * hub; natively every thread is its own OS thread, so all of them);
 * tasks the OS threads of the process with the CPU time each used
 * (tid:ms, from /proc/self/task).  Every loop is bounded: a repetition
 * runs for its target time, checking the clock every 64 round trips.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { COND, PIPE, CREATE };

static enum mode mode;
static long target_ms = 200, warm_ms = 40;
static int reps = 5, batch = 256, pin;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv[2] = { PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };
static int turn, quit;
static int ab[2], ba[2];
static pthread_barrier_t bar;
static long tids[2][2];	/* [side][before, after] */
static double res_ns[64];
static long moved, made;
static int tries;

static double now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_xhub: FAIL: %s\n", what);
	exit(1);
}

static long os_tid(void)
{
	return syscall(SYS_gettid);
}

static void pin_to(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (pthread_setaffinity_np(pthread_self(), sizeof s, &s) != 0)
		die("pthread_setaffinity_np");
}

/* Compute for ms of this thread's CPU time: preemptible work, no calls. */
static void warm(long ms)
{
	double end = now_ns(CLOCK_THREAD_CPUTIME_ID) + ms * 1e6;
	volatile unsigned long a = 1;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 100000; i++)
			a = a * 6364136223846793005UL + 1442695040888963407UL;
}

/* One repetition of ping-pong: side 0 counts and ends it.  Returns the
 * number of hand-offs side 0 saw (2 per round trip). */
static long cond_rep(int me, double end)
{
	long n = 0;

	pthread_mutex_lock(&m);
	for (;;) {
		while (turn != me && !quit)
			pthread_cond_wait(&cv[me], &m);
		if (quit)
			break;
		if (me == 0 && (++n & 63) == 0 && now_ns(CLOCK_MONOTONIC) >= end) {
			quit = 1;
			pthread_cond_signal(&cv[1]);
			break;
		}
		turn = !me;
		pthread_cond_signal(&cv[!me]);
	}
	pthread_mutex_unlock(&m);
	return 2 * n;
}

static long pipe_rep(int me, double end)
{
	char c = 'x';
	long n = 0;

	for (;;) {
		if (me == 0) {
			if ((++n & 63) == 0 && now_ns(CLOCK_MONOTONIC) >= end)
				c = 'q';
			if (write(ab[1], &c, 1) != 1)
				die("write");
			if (c == 'q')
				return 2 * n;
			if (read(ba[0], &c, 1) != 1)
				die("read");
		} else {
			if (read(ab[0], &c, 1) != 1)
				die("read");
			if (c == 'q')
				return 0;
			if (write(ba[1], &c, 1) != 1)
				die("write");
		}
	}
}

/* create mode: side 0 creates a batch, side 1 joins it. */
static pthread_t kids[4096];
static long kid_tid[4096];
static int batch_ready, batch_done;

static void *kid(void *arg)
{
	kid_tid[(long)arg] = os_tid();
	return arg;
}

static void *side(void *arg)
{
	int me = (int)(long)arg;

	if (pin)
		pin_to(me);
	/* Warm up until the two sides are on two OS threads (or ten tries:
	 * with GREEN_HUBS=1 they never are; apart=0 then says so). */
	int try;

	for (try = 0; try < 10; try++) {
		if (warm_ms > 0)
			warm(warm_ms);
		tids[me][0] = os_tid();
		pthread_barrier_wait(&bar);
		if (warm_ms == 0 || tids[0][0] != tids[1][0])
			break;
		pthread_barrier_wait(&bar);	/* both read before a rewrite */
	}
	if (me == 0)
		tries = try + 1;
	for (int r = 0; r < reps; r++) {
		double t0 = 0, end;
		long n = 0;

		pthread_barrier_wait(&bar);
		t0 = now_ns(CLOCK_MONOTONIC);
		end = t0 + target_ms * 1e6;
		if (mode == COND) {
			if (me == 0)
				turn = 0, quit = 0;
			pthread_barrier_wait(&bar);
			n = cond_rep(me, end);
		} else if (mode == PIPE) {
			n = pipe_rep(me, end);
		} else {
			/* side 0 creates, hands the batch over; side 1 joins
			 * it and says so; until the time is up */
			int rounds = 0;

			for (;;) {
				if (me == 0) {
					int last = now_ns(CLOCK_MONOTONIC) >= end;

					for (long i = 0; i < batch && !last; i++)
						if (pthread_create(&kids[i], NULL, kid, (void *)i) != 0)
							die("pthread_create");
					pthread_mutex_lock(&m);
					batch_ready = last ? -1 : 1;
					pthread_cond_signal(&cv[1]);
					while (!batch_done)
						pthread_cond_wait(&cv[0], &m);
					batch_done = 0;
					pthread_mutex_unlock(&m);
					if (last)
						break;
					n += batch;
				} else {
					int what;

					pthread_mutex_lock(&m);
					while (!batch_ready)
						pthread_cond_wait(&cv[1], &m);
					what = batch_ready;
					batch_ready = 0;
					pthread_mutex_unlock(&m);
					if (what > 0)
						for (long i = 0; i < batch; i++) {
							void *ret;

							if (pthread_join(kids[i], &ret) != 0 || ret != (void *)i)
								die("pthread_join");
							made++;
							if (kid_tid[i] != tids[0][0])
								moved++;
						}
					pthread_mutex_lock(&m);
					batch_done = 1;
					pthread_cond_signal(&cv[0]);
					pthread_mutex_unlock(&m);
					if (what < 0)
						break;
				}
				rounds++;
			}
		}
		if (me == 0)
			res_ns[r] = n > 0 ? (now_ns(CLOCK_MONOTONIC) - t0) / n : 0;
	}
	tids[me][1] = os_tid();
	return NULL;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* tid:ms of CPU for every task of the process. */
static void tasks(char *out, size_t len)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	size_t o = 0;
	long hz = sysconf(_SC_CLK_TCK);

	out[0] = '\0';
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && o + 40 < len) {
		char p[300], buf[1024], *s;
		unsigned long ut = 0, st = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "/proc/self/task/%s/stat", e->d_name);
		f = fopen(p, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) && (s = strrchr(buf, ')')) != NULL &&
		    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			o += snprintf(out + o, len - o, "%s%s:%lu", o ? "," : "", e->d_name,
				      (ut + st) * 1000 / hz);
		fclose(f);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	char tl[2048];
	int opt, apart;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "cond") == 0)
		mode = COND;
	else if (strcmp(argv[1], "pipe") == 0)
		mode = PIPE;
	else if (strcmp(argv[1], "create") == 0)
		mode = CREATE;
	else
		goto usage;
	optind = 2;
	while ((opt = getopt(argc, argv, "t:r:w:k:P")) != -1) {
		switch (opt) {
		case 't': target_ms = atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'w': warm_ms = atol(optarg); break;
		case 'k': batch = atoi(optarg); break;
		case 'P': pin = 1; break;
		default: goto usage;
		}
	}
	if (reps < 1 || reps > 64 || batch < 1 || batch > 4096 || target_ms < 1 || target_ms > 10000)
		goto usage;
	if (pipe(ab) < 0 || pipe(ba) < 0)
		die("pipe");
	pthread_barrier_init(&bar, NULL, 2);
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, side, (void *)i) != 0)
			die("pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tasks(tl, sizeof tl);
	qsort(res_ns, reps, sizeof(double), cmpd);
	apart = tids[0][0] != tids[1][0] && tids[0][1] != tids[1][1] &&
		tids[0][0] == tids[0][1] && tids[1][0] == tids[1][1];
	printf("xhub: mode=%s reps=%d median_ns=%.1f min_ns=%.1f max_ns=%.1f apart=%d "
	       "moved=%ld/%ld warmups=%d tasks=%s\n",
	       argv[1], reps, reps % 2 ? res_ns[reps / 2] : (res_ns[reps / 2 - 1] + res_ns[reps / 2]) / 2,
	       res_ns[0], res_ns[reps - 1], apart, moved, made, tries, tl);
	return 0;
usage:
	fprintf(stderr, "usage: bench_xhub cond|pipe|create [-t ms] [-r reps] [-w ms] [-k batch] [-P]\n");
	return 2;
}
