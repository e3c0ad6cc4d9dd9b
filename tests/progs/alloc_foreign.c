/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * Everything a threaded program does that makes the shim allocate, while
 * the program's malloc is busy in every thread: tests/scripts/alloc_preload.sh
 * runs this with jemalloc, tcmalloc and mimalloc preloaded before and after
 * libgreen (those allocators call pthread_mutex_lock, pthread_once, keys and
 * sched_yield from inside malloc while they initialise: the shim must not
 * call back into them there), and plain runs check it natively and under
 * the shim.  Memory handed across must go back to the allocator it came
 * from: getaddrinfo's list (freeaddrinfo), getline's buffer (free), popen's
 * FILE (pclose).
 *
 * 8 threads, each: a key with a destructor, pthread_once, a mutex and a
 * condition passed around a ring, malloc/realloc/free churn, getaddrinfo of
 * "localhost" with AI_CANONNAME, popen + getline + pclose.  Thread 0 also
 * forks in the middle (others hold the allocator's locks, maybe): the
 * child allocates, runs a thread and exits 0 (the shim's child reset must
 * not use the allocator before its own atfork handler has reset it).
 */
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NT 8
#define ROUNDS 200

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, dtors, onces;
static int gai_n[NT], popen_ok[NT];
static char canon[NT][64];
static int fork_ok;

static void fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	exit(1);
}

static void dtor(void *p)
{
	free(p);
	__atomic_fetch_add(&dtors, 1, __ATOMIC_RELAXED);
}

static void init_once(void)
{
	onces++;
	if (pthread_key_create(&key, dtor) != 0)
		fail("pthread_key_create");
}

static void churn(unsigned seed)
{
	void *v[64] = { 0 };

	for (int i = 0; i < 2000; i++) {
		unsigned k = (seed = seed * 1103515245 + 12345) >> 16;
		void **p = &v[k % 64];

		if (*p == NULL)
			*p = malloc(1 + k % 3000);
		else if (k & 1)
			*p = realloc(*p, 1 + k % 9000);
		else {
			free(*p);
			*p = NULL;
		}
		if ((k % 3000 != 0 || *p != NULL) && *p != NULL)
			memset(*p, 0xa5, 1);
	}
	for (int i = 0; i < 64; i++)
		free(v[i]);
}

static void *child_thread(void *arg)
{
	churn(42);
	return arg;
}

static void fork_now(void)
{
	pthread_t t;
	void *ret = NULL;
	int st;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		churn(7);
		if (pthread_create(&t, NULL, child_thread, (void *)1) != 0 ||
		    pthread_join(t, &ret) != 0 || ret != (void *)1)
			_exit(2);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid");
	fork_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!fork_ok)
		fprintf(stderr, "fork child: status 0x%x\n", st);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	struct addrinfo hints = { .ai_flags = AI_CANONNAME,
				  .ai_socktype = SOCK_STREAM }, *res, *p;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	pthread_once(&once, init_once);
	if (pthread_setspecific(key, malloc(100)) != 0)
		fail("pthread_setspecific");
	for (int r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&mu);
		while (turn % NT != id)
			pthread_cond_wait(&cv, &mu);
		turn++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		if (r % 50 == 0)
			churn((unsigned)(id * 7919 + r));
		if (id == 0 && r == ROUNDS / 2)
			fork_now();
		sched_yield();
	}
	if (pthread_getspecific(key) == NULL)
		fail("pthread_getspecific");
	if (getaddrinfo("localhost", "80", &hints, &res) != 0)
		fail("getaddrinfo localhost");
	for (p = res; p != NULL; p = p->ai_next)
		gai_n[id]++;
	snprintf(canon[id], sizeof(canon[id]), "%s",
		 res->ai_canonname ? res->ai_canonname : "(none)");
	freeaddrinfo(res);
	f = popen("echo popen-line", "r");
	if (f == NULL)
		fail("popen");
	if (getline(&line, &cap, f) > 0 && strcmp(line, "popen-line\n") == 0)
		popen_ok[id] = 1;
	free(line);
	if (pclose(f) != 0)
		fail("pclose");
	return NULL;
}

int main(void)
{
	pthread_t t[NT];

	for (long i = 0; i < NT; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			fail("pthread_create");
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (int i = 1; i < NT; i++)
		if (gai_n[i] != gai_n[0] || strcmp(canon[i], canon[0]) != 0)
			fail("threads saw different getaddrinfo results");
	printf("threads %d rounds %d turn %d once %d dtors %d\n", NT, ROUNDS,
	       turn, onces, dtors);
	printf("getaddrinfo localhost: %d results, canonical name %s\n",
	       gai_n[0], canon[0]);
	for (int i = 0; i < NT; i++)
		if (!popen_ok[i])
			fail("popen line");
	printf("popen + getline: %d ok\n", NT);
	printf("fork from a thread, child allocates and runs a thread: %s\n",
	       fork_ok ? "ok" : "FAILED");
	return 0;
}
