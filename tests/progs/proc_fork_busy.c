/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * fork() from one of 8 busy threads while the others sleep and fight over a
 * mutex. The child keeps only the forking thread and must be fully usable:
 * getaddrinfo, 20 new threads sharing a mutex, a grandchild reaped with
 * waitpid. pthread_atfork handlers run exactly once on each side (the prepare
 * handler takes the busy threads' mutex, so the child inherits it unlocked).
 * The parent's threads carry on unaffected.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define NBUSY 8
#define FORKER 3
#define NCHILD_THREADS 20
#define CHILD_ITERS 1000

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static long busy_shared;
static atomic_long progress[NBUSY];
static atomic_int stop;

static int prepare_calls, parent_calls, child_calls;

static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;
static long child_counter;

static void at_prepare(void)
{
	prepare_calls++;
	pthread_mutex_lock(&busy_lock);
}

static void at_parent(void)
{
	parent_calls++;
	pthread_mutex_unlock(&busy_lock);
}

static void at_child(void)
{
	child_calls++;
	pthread_mutex_unlock(&busy_lock);
}

static void *child_thread(void *arg)
{
	for (int i = 0; i < CHILD_ITERS; i++) {
		pthread_mutex_lock(&child_lock);
		child_counter++;
		if (i % 100 == 0)
			usleep(100);	/* sleep holding the lock: others park */
		pthread_mutex_unlock(&child_lock);
		pthread_mutex_lock(&busy_lock);
		busy_shared++;
		pthread_mutex_unlock(&busy_lock);
	}
	return NULL;
}

/* In the child: returns the exit code, 0 when every check passed. */
static int child_main(void)
{
	struct addrinfo hints, *res = NULL, *ai;
	pthread_t th[NCHILD_THREADS];
	int rc, loopback = 0, st;
	pid_t gc;

	if (prepare_calls != 1 || child_calls != 1 || parent_calls != 0) {
		fprintf(stderr, "FAIL: child: atfork prepare %d parent %d "
			"child %d, want 1 0 1\n", prepare_calls, parent_calls,
			child_calls);
		return 10;
	}
	/* The mutex the other threads used is free in the child. */
	if (pthread_mutex_trylock(&busy_lock) != 0) {
		fprintf(stderr, "FAIL: child: busy mutex still locked\n");
		return 11;
	}
	pthread_mutex_unlock(&busy_lock);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo("localhost", "80", &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "FAIL: child: getaddrinfo(localhost): %s\n",
			gai_strerror(rc));
		return 12;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char host[64];

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host,
				NULL, 0, NI_NUMERICHOST) == 0 &&
		    (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0))
			loopback = 1;
	}
	freeaddrinfo(res);
	if (!loopback) {
		fprintf(stderr, "FAIL: child: localhost is not loopback\n");
		return 13;
	}

	for (int i = 0; i < NCHILD_THREADS; i++)
		if (pthread_create(&th[i], NULL, child_thread, NULL) != 0) {
			fprintf(stderr, "FAIL: child: pthread_create\n");
			return 14;
		}
	for (int i = 0; i < NCHILD_THREADS; i++)
		pthread_join(th[i], NULL);
	if (child_counter != NCHILD_THREADS * CHILD_ITERS) {
		fprintf(stderr, "FAIL: child: counter %ld, want %d\n",
			child_counter, NCHILD_THREADS * CHILD_ITERS);
		return 15;
	}

	gc = fork();
	if (gc < 0)
		return 16;
	if (gc == 0) {
		usleep(50000);
		_exit(5);
	}
	if (waitpid(gc, &st, 0) != gc || !WIFEXITED(st) || WEXITSTATUS(st) != 5) {
		fprintf(stderr, "FAIL: child: grandchild not reaped right\n");
		return 17;
	}
	return 0;
}

static void *busy(void *arg)
{
	int idx = (int)(long)arg;

	/* Bounded: at most ~20 s. */
	for (int i = 0; i < 20000 && !atomic_load(&stop); i++) {
		pthread_mutex_lock(&busy_lock);
		busy_shared++;
		if (i % 4 == idx % 4)
			usleep(200);	/* hold the lock across a sleep */
		pthread_mutex_unlock(&busy_lock);
		atomic_fetch_add(&progress[idx], 1);
		usleep(500);
	}
	return NULL;
}

static int fork_status = -1;

static void *forker(void *arg)
{
	pid_t pid;
	int st;

	usleep(100000);		/* everybody is busy by now */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return NULL;
	}
	if (pid == 0)
		_exit(child_main());	/* _exit: no stdio flush twice */
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return NULL;
	}
	fork_status = st;
	return NULL;
}

int main(void)
{
	pthread_t th[NBUSY];
	long before[NBUSY];

	if (pthread_atfork(at_prepare, at_parent, at_child) != 0)
		fail("pthread_atfork");
	for (long i = 0; i < NBUSY; i++)
		if (pthread_create(&th[i], NULL, i == FORKER ? forker : busy,
				   (void *)i) != 0)
			fail("pthread_create");
	pthread_join(th[FORKER], NULL);

	if (fork_status == -1)
		fail("fork or waitpid failed in the forking thread");
	if (!WIFEXITED(fork_status) || WEXITSTATUS(fork_status) != 0) {
		fprintf(stderr, "FAIL: child status 0x%x\n", fork_status);
		return 1;
	}
	if (prepare_calls != 1 || parent_calls != 1 || child_calls != 0) {
		fprintf(stderr, "FAIL: parent: atfork prepare %d parent %d "
			"child %d, want 1 1 0\n", prepare_calls, parent_calls,
			child_calls);
		return 1;
	}

	/* The other threads keep going after the fork. */
	for (int i = 0; i < NBUSY; i++)
		before[i] = atomic_load(&progress[i]);
	usleep(100000);
	for (int i = 0; i < NBUSY; i++)
		if (i != FORKER && atomic_load(&progress[i]) <= before[i]) {
			fprintf(stderr, "FAIL: busy thread %d stalled after "
				"fork\n", i);
			return 1;
		}
	atomic_store(&stop, 1);
	for (int i = 0; i < NBUSY; i++)
		if (i != FORKER)
			pthread_join(th[i], NULL);
	fprintf(stderr, "busy_shared %ld\n", busy_shared);
	printf("fork from a busy thread: child ok, atfork once per side, "
	       "parent threads unaffected\n");
	return 0;
}
