/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=30 */
/*
 * pthread_create with stacks that cannot be had fails with the error glibc
 * gives (printed by name, so the shim's must match), never aborts, leaks
 * nothing that stops the next pthread_create. 64 TiB cannot be committed
 * on this machine (overcommit heuristic), so glibc's mmap fails: EAGAIN.
 * A shim that merely reserves stacks must still refuse what glibc refuses.
 * A guard so large that stack + guard overflows is EINVAL.
 * (Not tested: glibc maps a huge guard PROT_NONE, uncharged, so a 64 TiB
 * guard on a normal stack succeeds natively; a quirk, not a contract.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	default: return strerror(e);
	}
}

static void *body(void *arg)
{
	return arg;
}

/* Creates a thread with a stack of SIZE bytes and guard GUARD; returns the
 * pthread_create error (joining the thread if it was made). */
static int try_create(size_t size, size_t guard)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	if (size && pthread_attr_setstacksize(&a, size))
		return -1;
	if (guard && pthread_attr_setguardsize(&a, guard))
		return -2;
	rc = pthread_create(&t, &a, body, (void *)1);
	pthread_attr_destroy(&a);
	if (rc == 0) {
		void *r;
		if (pthread_join(t, &r) || r != (void *)1) {
			fprintf(stderr, "FAIL: join\n");
			exit(1);
		}
	}
	return rc;
}

static void normal_after(const char *after)
{
	int rc = try_create(0, 0);

	if (rc) {
		fprintf(stderr, "FAIL: a normal pthread_create after %s: %s\n",
			after, strerror(rc));
		exit(1);
	}
}

int main(void)
{
	int rc;

	rc = try_create(1UL << 46, 0);
	printf("stack 64 TiB: %s\n", errname(rc));
	normal_after("a 64 TiB stack");

	rc = try_create(1UL << 47, 0);
	printf("stack 128 TiB: %s\n", errname(rc));
	normal_after("a 128 TiB stack");

	rc = try_create(1UL << 20, (size_t)-4096);
	printf("guard SIZE_MAX: %s\n", errname(rc));
	normal_after("a SIZE_MAX guard");

	for (int i = 0; i < 100; i++)
		if (try_create(1UL << 46, 0) == 0) {
			fprintf(stderr, "FAIL: a 64 TiB stack succeeded at try %d\n", i);
			return 1;
		}
	normal_after("100 failed creates");
	printf("normal create after failures: ok\n");
	return 0;
}
