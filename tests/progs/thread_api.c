/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * The pthread thread API: create, join and its value, tryjoin_np (EBUSY
 * while running), timedjoin_np (ETIMEDOUT, never early), detach, join
 * errors (EINVAL on a detached thread, EDEADLK on self), pthread_exit from
 * a nested call, self/equal, sched_yield; attributes: stack size, a user-supplied
 * stack, detach state, guard size, all as pthread_getattr_np reports them
 * (the reported stack contains the thread's locals), also for main;
 * setname_np/getname_np with ERANGE; thread-specific keys with destructors
 * (PTHREAD_DESTRUCTOR_ITERATIONS rounds), key_delete; errno per thread.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* --- create, join, exit values -------------------------------------- */

static int go;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;

static void wait_go(void)
{
	pthread_mutex_lock(&m);
	while (!go)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
}

static void set_go(int v)
{
	pthread_mutex_lock(&m);
	go = v;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
}

static void *ret_arg(void *arg)
{
	return arg;
}

static __attribute__((noinline)) void exit_inner(long v)
{
	pthread_exit((void *)v);
}

static __attribute__((noinline)) void exit_outer(long v)
{
	exit_inner(v + 2);
	fail("pthread_exit returned");
}

static void *exits_nested(void *arg)
{
	exit_outer(40);
	return NULL;
}

static void *waits_go(void *arg)
{
	wait_go();
	return (void *)7;
}

static pthread_t seen_self;

static void *records_self(void *arg)
{
	seen_self = pthread_self();
	if (!pthread_equal(seen_self, pthread_self()))
		fail("pthread_equal(self, self)");
	expect(sched_yield(), 0, "sched_yield");
	return NULL;
}

static void test_create_join(void)
{
	pthread_t t;
	void *r;
	struct timespec dl;

	expect(pthread_create(&t, NULL, ret_arg, (void *)1234), 0, "create");
	expect(pthread_join(t, &r), 0, "join");
	if (r != (void *)1234)
		fail("join value");

	expect(pthread_create(&t, NULL, exits_nested, NULL), 0, "create");
	expect(pthread_join(t, &r), 0, "join");
	if (r != (void *)42)
		fail("pthread_exit value");

	expect(pthread_create(&t, NULL, records_self, NULL), 0, "create");
	expect(pthread_join(t, NULL), 0, "join");
	if (!pthread_equal(t, seen_self))
		fail("pthread_self differs from the id pthread_create gave");
	if (pthread_equal(t, pthread_self()))
		fail("pthread_equal(other, self)");
	expect(pthread_join(pthread_self(), NULL), EDEADLK, "join self");
	printf("create, join, exit value, self, equal, yield: ok\n");

	set_go(0);
	expect(pthread_create(&t, NULL, waits_go, NULL), 0, "create");
	expect(pthread_tryjoin_np(t, &r), EBUSY, "tryjoin_np while running");
	dl = deadline(CLOCK_REALTIME, 50);
	expect(pthread_timedjoin_np(t, &r, &dl), ETIMEDOUT,
	       "timedjoin_np while running");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (ns_of(now) < ns_of(dl))
		fail("timedjoin_np returned early");
	set_go(1);
	dl = deadline(CLOCK_REALTIME, 5000);
	expect(pthread_timedjoin_np(t, &r, &dl), 0, "timedjoin_np after release");
	if (r != (void *)7)
		fail("timedjoin_np value");

	expect(pthread_create(&t, NULL, ret_arg, (void *)9), 0, "create");
	for (int i = 0; pthread_tryjoin_np(t, &r) == EBUSY; i++) {
		if (i == 5000)
			fail("tryjoin_np never succeeded");
		msleep(1);
	}
	if (r != (void *)9)
		fail("tryjoin_np value");
	printf("tryjoin_np, timedjoin_np: ok\n");
}

static int detached_ran;

static void *detached_body(void *arg)
{
	wait_go();
	__atomic_store_n(&detached_ran, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_detach(void)
{
	pthread_t t;
	pthread_attr_t a;
	int st;

	set_go(0);
	expect(pthread_create(&t, NULL, detached_body, NULL), 0, "create");
	expect(pthread_detach(t), 0, "detach");
	expect(pthread_join(t, NULL), EINVAL, "join a detached thread");
	set_go(1);
	for (int i = 0; !__atomic_load_n(&detached_ran, __ATOMIC_SEQ_CST); i++) {
		if (i == 5000)
			fail("detached thread never ran");
		msleep(1);
	}

	set_go(0);
	detached_ran = 0;
	pthread_attr_init(&a);
	expect(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0,
	       "setdetachstate");
	expect(pthread_attr_getdetachstate(&a, &st), 0, "getdetachstate");
	if (st != PTHREAD_CREATE_DETACHED)
		fail("getdetachstate value");
	expect(pthread_create(&t, &a, detached_body, NULL), 0, "create detached");
	pthread_attr_destroy(&a);
	expect(pthread_join(t, NULL), EINVAL, "join a thread created detached");
	set_go(1);
	for (int i = 0; !__atomic_load_n(&detached_ran, __ATOMIC_SEQ_CST); i++) {
		if (i == 5000)
			fail("detached thread never ran");
		msleep(1);
	}
	printf("detach: ok\n");
}

/* --- attributes as getattr_np reports them --------------------------- */

struct stackinfo {
	void *addr;
	size_t size, guard;
	int detach;
	int local_inside;
};

static void describe_self(struct stackinfo *si)
{
	pthread_attr_t a;
	int local;

	expect(pthread_getattr_np(pthread_self(), &a), 0, "getattr_np");
	expect(pthread_attr_getstack(&a, &si->addr, &si->size), 0, "getstack");
	expect(pthread_attr_getguardsize(&a, &si->guard), 0, "getguardsize");
	expect(pthread_attr_getdetachstate(&a, &si->detach), 0,
	       "getdetachstate");
	pthread_attr_destroy(&a);
	si->local_inside = (char *)&local >= (char *)si->addr &&
			   (char *)&local < (char *)si->addr + si->size;
}

static void *describe(void *arg)
{
	describe_self(arg);
	return NULL;
}

static struct stackinfo run_with(pthread_attr_t *a)
{
	struct stackinfo si;
	pthread_t t;

	memset(&si, 0, sizeof si);
	expect(pthread_create(&t, a, describe, &si), 0, "create with attr");
	if (a) {
		int st;

		pthread_attr_getdetachstate(a, &st);
		if (st == PTHREAD_CREATE_DETACHED) {
			msleep(100);
			return si;
		}
	}
	expect(pthread_join(t, NULL), 0, "join");
	return si;
}

static void test_attributes(void)
{
	pthread_attr_t a;
	struct stackinfo si;
	size_t sz, guard;
	void *mem, *addr;

	/* Default: about the 8 MiB glibc picks from RLIMIT_STACK. */
	si = run_with(NULL);
	if (!si.local_inside)
		fail("default thread: a local lies outside the reported stack");
	if (si.size < 4 * 1024 * 1024)
		fail("default thread: reported stack under 4 MiB");
	if (si.detach != PTHREAD_CREATE_JOINABLE)
		fail("default thread: not joinable");
	fprintf(stderr, "default stack: %zu bytes, guard %zu\n", si.size,
		si.guard);
	printf("default stack: ok\n");

	pthread_attr_init(&a);
	expect(pthread_attr_setstacksize(&a, 256 * 1024), 0, "setstacksize");
	expect(pthread_attr_getstacksize(&a, &sz), 0, "getstacksize");
	if (sz != 256 * 1024)
		fail("getstacksize value");
	expect(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1), EINVAL,
	       "setstacksize below PTHREAD_STACK_MIN");
	si = run_with(&a);
	if (!si.local_inside)
		fail("256 KiB thread: a local lies outside the reported stack");
	if (si.size < 256 * 1024 || si.size > 1024 * 1024)
		fail("256 KiB thread: reported stack size");
	pthread_attr_destroy(&a);
	printf("stack size: ok\n");

	pthread_attr_init(&a);
	expect(pthread_attr_setguardsize(&a, 64 * 1024), 0, "setguardsize");
	expect(pthread_attr_getguardsize(&a, &guard), 0, "getguardsize");
	if (guard != 64 * 1024)
		fail("getguardsize value");
	si = run_with(&a);
	if (si.guard != 64 * 1024)
		fail("getattr_np guard size");
	if (!si.local_inside)
		fail("guarded thread: a local lies outside the reported stack");
	pthread_attr_destroy(&a);
	printf("guard size: ok\n");

	/* A user-supplied stack is used, and reported, as given. */
	sz = 1024 * 1024;
	if (posix_memalign(&mem, 4096, sz))
		fail("posix_memalign");
	pthread_attr_init(&a);
	expect(pthread_attr_setstack(&a, mem, sz), 0, "setstack");
	expect(pthread_attr_getstack(&a, &addr, &sz), 0, "getstack");
	if (addr != mem || sz != 1024 * 1024)
		fail("getstack value");
	si = run_with(&a);
	if (!si.local_inside)
		fail("user stack: a local lies outside the reported stack");
	if (si.addr != mem || si.size != sz)
		fail("user stack: getattr_np does not report the given stack");
	pthread_attr_destroy(&a);
	free(mem);
	printf("user stack: ok\n");

	/* Scheduling attributes are accepted. */
	pthread_attr_init(&a);
	expect(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED), 0,
	       "setinheritsched");
	expect(pthread_attr_setschedpolicy(&a, SCHED_OTHER), 0, "setschedpolicy");
	si = run_with(&a);
	if (!si.local_inside)
		fail("sched attrs thread: stack");
	pthread_attr_destroy(&a);

	/* Main's own stack. */
	describe_self(&si);
	if (!si.local_inside)
		fail("main: a local lies outside the reported stack");
	printf("main stack: ok\n");
}

/* --- names ------------------------------------------------------------ */

static sem_t named_ready;

static void *named(void *arg)
{
	char buf[16];

	expect(pthread_setname_np(pthread_self(), "self-named"), 0,
	       "setname_np self");
	expect(pthread_getname_np(pthread_self(), buf, sizeof buf), 0,
	       "getname_np self");
	if (strcmp(buf, "self-named"))
		fail("own name");
	sem_post(&named_ready);
	wait_go();
	return NULL;
}

static void test_names(void)
{
	pthread_t t;
	char buf[32];

	sem_init(&named_ready, 0, 0);
	set_go(0);
	expect(pthread_create(&t, NULL, named, NULL), 0, "create");
	sem_wait(&named_ready);
	expect(pthread_getname_np(t, buf, sizeof buf), 0, "getname_np other");
	if (strcmp(buf, "self-named"))
		fail("name set by the thread, read by main");
	expect(pthread_setname_np(t, "worker-1"), 0, "setname_np other");
	expect(pthread_getname_np(t, buf, sizeof buf), 0, "getname_np other");
	if (strcmp(buf, "worker-1"))
		fail("name set by main");
	expect(pthread_setname_np(t, "fifteen-chars-x"), 0, "setname 15 chars");
	expect(pthread_getname_np(t, buf, sizeof buf), 0, "getname_np");
	if (strcmp(buf, "fifteen-chars-x"))
		fail("15-character name");
	expect(pthread_setname_np(t, "sixteen-chars-xx"), ERANGE,
	       "setname_np of 16 characters");
	expect(pthread_getname_np(t, buf, 15), ERANGE, "getname_np buffer of 15");
	expect(pthread_getname_np(t, buf, sizeof buf), 0, "getname_np");
	if (strcmp(buf, "fifteen-chars-x"))
		fail("name changed by a failed setname_np");
	set_go(1);
	expect(pthread_join(t, NULL), 0, "join");
	printf("names: ok\n");
}

/* --- keys ------------------------------------------------------------- */

static pthread_key_t key_a, key_b, key_again, key_deleted;
static sem_t keys_set;
static int dtor_a_calls, dtor_b_calls, dtor_again_calls, dtor_deleted_calls;
static long dtor_a_sum;

static void dtor_a(void *v)
{
	__atomic_add_fetch(&dtor_a_calls, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&dtor_a_sum, (long)v, __ATOMIC_SEQ_CST);
	if (pthread_getspecific(key_a) != NULL)
		fail("value still set while its destructor runs");
}

static void dtor_b(void *v)
{
	__atomic_add_fetch(&dtor_b_calls, 1, __ATOMIC_SEQ_CST);
}

/* Sets its value again each time: runs PTHREAD_DESTRUCTOR_ITERATIONS times. */
static void dtor_again(void *v)
{
	__atomic_add_fetch(&dtor_again_calls, 1, __ATOMIC_SEQ_CST);
	pthread_setspecific(key_again, (void *)1);
}

static void dtor_deleted(void *v)
{
	__atomic_add_fetch(&dtor_deleted_calls, 1, __ATOMIC_SEQ_CST);
}

static void *uses_keys(void *arg)
{
	long id = (long)arg;

	if (pthread_getspecific(key_a) != NULL)
		fail("a new thread sees a value for key_a");
	expect(pthread_setspecific(key_a, (void *)id), 0, "setspecific");
	msleep(10 + id % 3 * 5);
	if (pthread_getspecific(key_a) != (void *)id)
		fail("another thread's key value seen");
	/* key_b stays NULL: its destructor must not run. */
	if (id == 1) {
		expect(pthread_setspecific(key_again, (void *)1), 0,
		       "setspecific again");
		expect(pthread_setspecific(key_deleted, (void *)1), 0,
		       "setspecific deleted");
		sem_post(&keys_set);
		wait_go();	/* main deletes key_deleted meanwhile */
	}
	if (id == 2)
		pthread_exit(NULL);	/* destructors run on pthread_exit too */
	return NULL;
}

static void test_keys(void)
{
	pthread_t t[4];

	expect(pthread_key_create(&key_a, dtor_a), 0, "key_create a");
	expect(pthread_key_create(&key_b, dtor_b), 0, "key_create b");
	expect(pthread_key_create(&key_again, dtor_again), 0, "key_create again");
	expect(pthread_key_create(&key_deleted, dtor_deleted), 0,
	       "key_create deleted");
	expect(pthread_setspecific(key_a, (void *)100), 0, "main setspecific");

	sem_init(&keys_set, 0, 0);
	set_go(0);
	for (long i = 0; i < 4; i++)
		expect(pthread_create(&t[i], NULL, uses_keys, (void *)(i + 1)), 0,
		       "create");
	sem_wait(&keys_set);	/* thread 1 has set key_deleted */
	expect(pthread_key_delete(key_deleted), 0, "key_delete");
	set_go(1);
	for (int i = 0; i < 4; i++)
		expect(pthread_join(t[i], NULL), 0, "join");

	if (pthread_getspecific(key_a) != (void *)100)
		fail("main's key value changed");
	if (dtor_a_calls != 4 || dtor_a_sum != 1 + 2 + 3 + 4)
		fail("key_a destructor calls");
	if (dtor_b_calls != 0)
		fail("destructor ran for a NULL value");
	if (dtor_deleted_calls != 0)
		fail("destructor of a deleted key ran");
	if (dtor_again_calls != PTHREAD_DESTRUCTOR_ITERATIONS) {
		fprintf(stderr, "FAIL: a destructor that sets its value again "
			"ran %d times, want PTHREAD_DESTRUCTOR_ITERATIONS = %d\n",
			dtor_again_calls, PTHREAD_DESTRUCTOR_ITERATIONS);
		exit(1);
	}
	expect(pthread_key_delete(key_a), 0, "key_delete a");
	expect(pthread_key_delete(key_b), 0, "key_delete b");
	expect(pthread_key_delete(key_again), 0, "key_delete again");
	printf("keys: destructors ok (%d rounds)\n", dtor_again_calls);
}

/* --- errno is per thread ---------------------------------------------- */

static pthread_barrier_t errbar;

static void *errno_thread(void *arg)
{
	int mine = (int)(long)arg;

	errno = mine;
	pthread_barrier_wait(&errbar);	/* both have set theirs */
	msleep(20);
	sched_yield();
	pthread_barrier_wait(&errbar);
	if (errno != mine) {
		fprintf(stderr, "FAIL: errno %d became %d in another thread's "
			"presence\n", mine, errno);
		exit(1);
	}
	/* A failing call sets only this thread's errno. */
	if (close(-1) != -1 || errno != EBADF)
		fail("close(-1)");
	pthread_barrier_wait(&errbar);
	msleep(10);
	if (errno != EBADF)
		fail("errno of a failed call changed");
	return NULL;
}

static void test_errno(void)
{
	pthread_t t[2];

	pthread_barrier_init(&errbar, NULL, 2);
	expect(pthread_create(&t[0], NULL, errno_thread, (void *)1111), 0,
	       "create");
	expect(pthread_create(&t[1], NULL, errno_thread, (void *)2222), 0,
	       "create");
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_barrier_destroy(&errbar);
	printf("errno per thread: ok\n");
}

int main(void)
{
	test_create_join();
	test_detach();
	test_attributes();
	test_names();
	test_keys();
	test_errno();
	return 0;
}
