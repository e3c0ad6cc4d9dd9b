/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=240 args="1000 1000" shim_args="1000 20000" */
/* LIBS: -ldl */
/*
 * Thread-local state follows each thread across its waits.  N threads
 * (argv[1], default stacks; then argv[2] more with 256 KiB stacks: 20,000
 * under the shim, where real threads would not fit) each write values of
 * their own into a static __thread long, a __thread char[64], a __thread
 * variable of a module they dlopen (build/tests/mods/tls_gd.so, general-
 * dynamic), errno, h_errno and their locale (uselocale), then wait in
 * sleeps of different lengths, a contended mutex and a read on a shared
 * socketpair, and read every value back after each wait; sched_getcpu,
 * gettid, pthread_self and pthread_getattr_np still answer as they should
 * (a CPU, a tid, the id the creator got, a stack holding a local).  Main checks its
 * own values are untouched.  Under the shim a hub's green threads once
 * shared one OS thread's TLS, so every value but the last writer's was lost.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <netdb.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static __thread long tl_long = 7;
static __thread char tl_buf[64];

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int started;
static long shared_count;
/* Readers share NPAIRS socketpairs: long wait lists on one fd are not
 * what is tested here (fd.c walks them). */
#define NPAIRS 256
static int sp[NPAIRS][2];
static char modpath[PATH_MAX];
static long bad;
static pthread_t *cur_ids;	/* the ids pthread_create gave, this round */

struct mine {
	long id;
	pthread_t self;
	locale_t loc;
	long *modval;
	char *(*modbuf)(void);
};

static void fail(long id, const char *what)
{
	__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&bad, __ATOMIC_RELAXED) < 10)
		fprintf(stderr, "thread %ld: %s lost\n", id, what);
}

static void set_all(struct mine *me)
{
	tl_long = me->id * 3 + 1;
	snprintf(tl_buf, sizeof(tl_buf), "thread-%ld-buffer", me->id);
	*me->modval = me->id * 5 + 2;
	snprintf(me->modbuf(), 48, "mod-%ld", me->id);
	h_errno = (int)(me->id % 1000) + 10;
}

static void check_all(struct mine *me, const char *where, int err)
{
	char want[64];

	if (tl_long != me->id * 3 + 1)
		fail(me->id, "__thread long");
	snprintf(want, sizeof(want), "thread-%ld-buffer", me->id);
	if (strcmp(tl_buf, want) != 0)
		fail(me->id, "__thread char[64]");
	if (*me->modval != me->id * 5 + 2)
		fail(me->id, "module __thread");
	snprintf(want, sizeof(want), "mod-%ld", me->id);
	if (strcmp(me->modbuf(), want) != 0)
		fail(me->id, "module __thread buffer");
	if (h_errno != (int)(me->id % 1000) + 10)
		fail(me->id, "h_errno");
	if (err >= 0 && errno != err)
		fail(me->id, where);
	if (uselocale((locale_t)0) != me->loc)
		fail(me->id, "uselocale");
	if (!isalpha('a') || isalpha('1') || toupper('q') != 'Q')
		fail(me->id, "ctype");
	(void)where;
}

/* What a thread asks about itself still answers as before: a CPU, a tid,
 * its own id, its own stack. */
static void check_identity(struct mine *me)
{
	pthread_attr_t a;
	void *lo;
	size_t size;
	int cpu = sched_getcpu();
	char here;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		fail(me->id, "sched_getcpu");
	if (gettid() <= 0)
		fail(me->id, "gettid");
	if (!pthread_equal(pthread_self(), cur_ids[me->id]) ||
	    !pthread_equal(pthread_self(), me->self))
		fail(me->id, "pthread_self");
	if (pthread_getattr_np(pthread_self(), &a) != 0 ||
	    pthread_attr_getstack(&a, &lo, &size) != 0 ||
	    &here < (char *)lo || &here >= (char *)lo + size)
		fail(me->id, "pthread_getattr_np");
	pthread_attr_destroy(&a);
}

static void *run(void *arg)
{
	struct mine me = { .id = (long)arg, .self = pthread_self() };
	void *h = dlopen(modpath, RTLD_NOW);
	char byte;

	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(1);
	}
	me.modval = ((long *(*)(void))dlsym(h, "tls_gd_addr"))();
	me.modbuf = (char *(*)(void))dlsym(h, "tls_gd_bufp");
	if (tl_long != 7 || tl_buf[0] != 0 || *me.modval != 12345 ||
	    strcmp(me.modbuf(), "fresh") != 0)
		fail(me.id, "fresh initial value");
	me.loc = duplocale(LC_GLOBAL_LOCALE);
	if (me.loc == (locale_t)0 || uselocale(me.loc) == (locale_t)0) {
		perror("duplocale");
		exit(1);
	}
	set_all(&me);
	errno = (int)(me.id % 100) + 1000;

	usleep(1000 + (me.id % 7) * 700);
	check_all(&me, "sleep", (int)(me.id % 100) + 1000);

	pthread_mutex_lock(&m);
	shared_count++;
	if (me.id % 50 == 0)	/* others queue up behind it */
		usleep(200);
	pthread_mutex_unlock(&m);
	check_all(&me, "mutex", -1);

	pthread_mutex_lock(&m);
	started++;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
	errno = (int)(me.id % 100) + 2000;
	if (read(sp[me.id % NPAIRS][0], &byte, 1) != 1) {
		perror("read");
		exit(1);
	}
	check_all(&me, "read", (int)(me.id % 100) + 2000);

	usleep((me.id % 3) * 500);
	check_all(&me, "second sleep", -1);
	check_identity(&me);
	uselocale(LC_GLOBAL_LOCALE);
	freelocale(me.loc);
	dlclose(h);
	return NULL;
}

static void round_of(long n, long kib)
{
	pthread_t *ids = calloc(n, sizeof(*ids));
	pthread_attr_t a;

	started = 0;
	cur_ids = ids;
	pthread_attr_init(&a);
	if (kib > 0)
		pthread_attr_setstacksize(&a, kib << 10);
	for (long i = 0; i < n; i++) {
		if (pthread_create(&ids[i], &a, run, (void *)i) != 0) {
			fprintf(stderr, "pthread_create %ld failed\n", i);
			exit(1);
		}
	}
	/* Every thread is in (or on its way to) its read: feed them. */
	pthread_mutex_lock(&m);
	while (started < n)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	for (long i = 0; i < n; i++)
		if (write(sp[i % NPAIRS][1], "x", 1) != 1)
			exit(1);
	for (long i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
	pthread_attr_destroy(&a);
	free(ids);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	long n2 = argc > 2 ? atol(argv[2]) : 0;
	char *slash;
	locale_t mainloc;

	if (readlink("/proc/self/exe", modpath, sizeof(modpath) - 32) < 0)
		return 1;
	slash = strrchr(modpath, '/');
	strcpy(slash + 1, "mods/tls_gd.so");
	for (int i = 0; i < NPAIRS; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]) != 0)
			return 1;
	mainloc = duplocale(LC_GLOBAL_LOCALE);
	uselocale(mainloc);
	tl_long = -1;
	strcpy(tl_buf, "main");
	h_errno = 3;
	errno = 77;
	round_of(n, 0);
	if (n2 > 0)
		round_of(n2, 256);
	if (tl_long != -1 || strcmp(tl_buf, "main") != 0 || h_errno != 3 ||
	    errno != 77 || uselocale((locale_t)0) != mainloc)
		fail(-1, "main's values");
	printf("tls_threads: %s\n", bad ? "values lost" : "every thread kept its own values");
	if (bad)
		fprintf(stderr, "%ld values lost, %ld mutex entries\n", bad, shared_count);
	return bad != 0;
}
