/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * C11 <threads.h>: thrd_create/join/detach/exit/sleep/yield/current/equal,
 * mtx_init (plain, timed, recursive), mtx_trylock thrd_busy, mtx_timedlock
 * timing out (never early, TIME_UTC), cnd_wait/timedwait/signal/broadcast,
 * call_once with a sleeping init, tss_create with a destructor. glibc
 * implements these with internal calls, so the shim needs its own wrappers
 * for them to park.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include "check.h"

static struct timespec utc_in(long ms)
{
	struct timespec t;
	long long ns;

	if (timespec_get(&t, TIME_UTC) != TIME_UTC)
		fail("timespec_get");
	ns = ns_of(t) + ms * 1000000LL;
	t.tv_sec = ns / 1000000000LL;
	t.tv_nsec = ns % 1000000000LL;
	return t;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L }, rem;

	while (thrd_sleep(&ts, &rem) == -1)
		ts = rem;
}

/* --- threads ----------------------------------------------------------- */

static thrd_t seen;

static void exit_deep(int v)
{
	thrd_exit(v);
}

static int body(void *arg)
{
	seen = thrd_current();
	thrd_yield();
	nap(10);
	if ((long)arg == 3)
		exit_deep(33);
	return (int)(long)arg * 10;
}

static int detached_done;

static int detached_body(void *arg)
{
	nap(10);
	__atomic_store_n(&detached_done, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void test_threads(void)
{
	thrd_t t;
	int res;
	struct timespec ts = { 0, 30000000L }, t0, t1;

	expect_int(thrd_create(&t, body, (void *)2), thrd_success, "thrd_create");
	expect_int(thrd_join(t, &res), thrd_success, "thrd_join");
	expect_int(res, 20, "thrd_join result");
	if (!thrd_equal(t, seen))
		fail("thrd_current differs from the id thrd_create gave");
	if (thrd_equal(t, thrd_current()))
		fail("thrd_equal(other, current)");

	expect_int(thrd_create(&t, body, (void *)3), thrd_success, "thrd_create");
	expect_int(thrd_join(t, &res), thrd_success, "thrd_join");
	expect_int(res, 33, "thrd_exit value");

	expect_int(thrd_create(&t, detached_body, NULL), thrd_success, "thrd_create");
	expect_int(thrd_detach(t), thrd_success, "thrd_detach");
	for (int i = 0; !__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST); i++) {
		if (i == 5000)
			fail("detached thread never ran");
		nap(1);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_int(thrd_sleep(&ts, NULL), 0, "thrd_sleep");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ns_of(t1) - ns_of(t0) < 30000000LL)
		fail("thrd_sleep ended early");
	printf("thrd create/join/exit/detach/sleep/yield/current/equal: ok\n");
}

/* --- mutexes ------------------------------------------------------------ */

static mtx_t held;
static int other_rc;

static int try_other(void *arg)
{
	other_rc = mtx_trylock(&held);
	if (other_rc == thrd_success)
		mtx_unlock(&held);
	return 0;
}

static int timed_other(void *arg)
{
	struct timespec dl = utc_in(50);

	other_rc = mtx_timedlock(&held, &dl);
	if (other_rc == thrd_timedout)
		not_early(CLOCK_REALTIME, dl, "mtx_timedlock");
	if (other_rc == thrd_success)
		mtx_unlock(&held);
	return 0;
}

static int from_other(thrd_start_t fn)
{
	thrd_t t;

	other_rc = -1;
	expect_int(thrd_create(&t, fn, NULL), thrd_success, "thrd_create");
	thrd_join(t, NULL);
	return other_rc;
}

static mtx_t counter_m;
static int counter;

static int count_up(void *arg)
{
	for (int i = 0; i < 500; i++) {
		mtx_lock(&counter_m);
		int v = counter;
		if (i % 100 == 0)
			nap(1);	/* asleep holding the mutex */
		counter = v + 1;
		mtx_unlock(&counter_m);
	}
	return 0;
}

static void test_mutexes(void)
{
	thrd_t t[6];
	struct timespec dl;

	expect_int(mtx_init(&held, mtx_timed), thrd_success, "mtx_init timed");
	expect_int(mtx_lock(&held), thrd_success, "mtx_lock");
	expect_int(from_other(try_other), thrd_busy, "mtx_trylock by other");
	expect_int(from_other(timed_other), thrd_timedout, "mtx_timedlock by other");
	expect_int(mtx_unlock(&held), thrd_success, "mtx_unlock");
	expect_int(from_other(timed_other), thrd_success, "mtx_timedlock free");
	mtx_destroy(&held);

	expect_int(mtx_init(&held, mtx_timed | mtx_recursive), thrd_success,
	       "mtx_init timed|recursive");
	expect_int(mtx_lock(&held), thrd_success, "recursive lock 1");
	expect_int(mtx_lock(&held), thrd_success, "recursive lock 2");
	expect_int(mtx_trylock(&held), thrd_success, "recursive trylock by owner");
	dl = utc_in(50);
	expect_int(mtx_timedlock(&held, &dl), thrd_success, "recursive timedlock by owner");
	expect_int(from_other(try_other), thrd_busy, "recursive trylock by other");
	for (int i = 0; i < 3; i++)
		expect_int(mtx_unlock(&held), thrd_success, "recursive unlock");
	expect_int(from_other(timed_other), thrd_timedout, "recursive held once");
	expect_int(mtx_unlock(&held), thrd_success, "recursive last unlock");
	expect_int(from_other(try_other), thrd_success, "recursive free");
	mtx_destroy(&held);

	expect_int(mtx_init(&held, mtx_plain | mtx_recursive), thrd_success,
	       "mtx_init plain|recursive");
	mtx_lock(&held);
	mtx_lock(&held);
	mtx_unlock(&held);
	expect_int(from_other(try_other), thrd_busy, "plain recursive held");
	mtx_unlock(&held);
	mtx_destroy(&held);

	expect_int(mtx_init(&counter_m, mtx_plain), thrd_success, "mtx_init plain");
	for (int i = 0; i < 6; i++)
		expect_int(thrd_create(&t[i], count_up, NULL), thrd_success, "create");
	for (int i = 0; i < 6; i++)
		thrd_join(t[i], NULL);
	expect_int(counter, 3000, "counter under mtx_plain");
	mtx_destroy(&counter_m);
	printf("mtx plain/timed/recursive: ok\n");
}

/* --- condition variables ----------------------------------------------- */

static mtx_t cm;
static cnd_t cv;
static int tokens, released, passed, waiting;

static int waiter(void *arg)
{
	mtx_lock(&cm);
	waiting++;
	while (tokens == 0 && !released)
		cnd_wait(&cv, &cm);
	if (tokens)
		tokens--;
	passed++;
	mtx_unlock(&cm);
	return 0;
}

static void test_conds(void)
{
	thrd_t t[8];
	struct timespec dl;
	int rc;

	expect_int(mtx_init(&cm, mtx_plain), thrd_success, "mtx_init");
	expect_int(cnd_init(&cv), thrd_success, "cnd_init");

	mtx_lock(&cm);
	dl = utc_in(50);
	do
		rc = cnd_timedwait(&cv, &cm, &dl);
	while (rc == thrd_success);
	expect_int(rc, thrd_timedout, "cnd_timedwait");
	not_early(CLOCK_REALTIME, dl, "cnd_timedwait");
	mtx_unlock(&cm);

	for (int i = 0; i < 8; i++)
		expect_int(thrd_create(&t[i], waiter, NULL), thrd_success, "create");
	for (int i = 0; ; i++) {
		mtx_lock(&cm);
		int w = waiting;
		mtx_unlock(&cm);
		if (w == 8)
			break;
		if (i == 5000)
			fail("waiters never arrived");
		nap(1);
	}
	nap(20);
	mtx_lock(&cm);
	tokens = 2;
	cnd_signal(&cv);
	cnd_signal(&cv);
	mtx_unlock(&cm);
	for (int i = 0; ; i++) {
		mtx_lock(&cm);
		int p = passed;
		mtx_unlock(&cm);
		if (p == 2)
			break;
		if (i == 5000)
			fail("cnd_signal did not wake waiters");
		nap(1);
	}
	nap(30);
	mtx_lock(&cm);
	if (passed != 2)
		fail("more than the signalled waiters passed");
	released = 1;
	cnd_broadcast(&cv);
	mtx_unlock(&cm);
	for (int i = 0; i < 8; i++)
		thrd_join(t[i], NULL);
	expect_int(passed, 8, "cnd_broadcast released everyone");
	cnd_destroy(&cv);
	mtx_destroy(&cm);
	printf("cnd wait/timedwait/signal/broadcast: ok\n");
}

/* --- call_once and tss -------------------------------------------------- */

static once_flag once = ONCE_FLAG_INIT;
static int once_runs, once_done;

static void once_init(void)
{
	once_runs++;
	nap(50);
	__atomic_store_n(&once_done, 1, __ATOMIC_SEQ_CST);
}

static tss_t key;
static int dtor_calls;
static long dtor_sum;

static void dtor(void *v)
{
	__atomic_add_fetch(&dtor_calls, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&dtor_sum, (long)v, __ATOMIC_SEQ_CST);
}

static int once_and_tss(void *arg)
{
	long id = (long)arg;

	call_once(&once, once_init);
	if (!__atomic_load_n(&once_done, __ATOMIC_SEQ_CST))
		fail("call_once returned before init finished");
	if (tss_get(key) != NULL)
		fail("tss value set in a new thread");
	expect_int(tss_set(key, (void *)id), thrd_success, "tss_set");
	nap(5);
	if (tss_get(key) != (void *)id)
		fail("another thread's tss value seen");
	if (id == 4)
		thrd_exit(0);	/* destructors run on thrd_exit too */
	return 0;
}

static void test_once_tss(void)
{
	thrd_t t[10];

	expect_int(tss_create(&key, dtor), thrd_success, "tss_create");
	for (long i = 0; i < 10; i++)
		expect_int(thrd_create(&t[i], once_and_tss, (void *)(i + 1)),
		       thrd_success, "create");
	for (int i = 0; i < 10; i++)
		thrd_join(t[i], NULL);
	expect_int(once_runs, 1, "call_once init runs");
	expect_int(dtor_calls, 10, "tss destructor calls");
	if (dtor_sum != 55)
		fail("tss destructor values");
	tss_delete(key);
	printf("call_once, tss destructors: ok\n");
}

int main(void)
{
	test_threads();
	test_mutexes();
	test_conds();
	test_once_tss();
	return 0;
}
