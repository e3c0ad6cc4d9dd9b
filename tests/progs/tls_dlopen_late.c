/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/* LIBS: -ldl */
/*
 * A module dlopen()ed while threads exist: 100 threads park (a condition
 * wait), then main dlopens two modules with initialised __thread variables:
 * tls_gd.so (general-dynamic: each thread's copy is made lazily through
 * __tls_get_addr) and tls_ie.so (initial-exec: its TLS is static, taken
 * from glibc's surplus at dlopen time, and glibc copies its initial image
 * into the threads glibc knows of).  Each thread, woken, must see fresh
 * initial values in both, set its own, sleep, and read its own back; then
 * a thread created after the dlopen does the same.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 100

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int parked, loaded;
static long *(*gd_addr)(void), *(*ie_addr)(void);
static int (*ie_sum)(void);
static int bad;

static void fail(long id, const char *what)
{
	if (__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED) < 10)
		fprintf(stderr, "thread %ld: %s\n", id, what);
}

static void use(long id)
{
	long *g = gd_addr(), *i = ie_addr();

	if (*g != 12345)
		fail(id, "general-dynamic module: not a fresh copy");
	if (*i != 4242 || ie_sum() != 10)
		fail(id, "initial-exec module: not a fresh copy");
	*g = id * 10 + 1;
	*i = id * 10 + 2;
	usleep(300 + (id % 9) * 300);
	if (*gd_addr() != id * 10 + 1)
		fail(id, "general-dynamic module: value lost");
	if (*ie_addr() != id * 10 + 2)
		fail(id, "initial-exec module: value lost");
}

static void *run(void *arg)
{
	long id = (long)arg;

	pthread_mutex_lock(&m);
	parked++;
	pthread_cond_broadcast(&c);
	while (!loaded)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	use(id);
	return NULL;
}

static void *open_mod(const char *dir, const char *name)
{
	char path[PATH_MAX];
	void *h;

	snprintf(path, sizeof(path), "%s/mods/%s", dir, name);
	h = dlopen(path, RTLD_NOW);
	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(1);
	}
	return h;
}

int main(void)
{
	pthread_t ids[N + 1];
	char dir[PATH_MAX];
	void *hg, *hi;
	ssize_t len = readlink("/proc/self/exe", dir, sizeof(dir) - 1);

	if (len < 0)
		return 1;
	dir[len] = 0;
	*strrchr(dir, '/') = 0;
	for (long i = 0; i < N; i++)
		if (pthread_create(&ids[i], NULL, run, (void *)i) != 0)
			return 1;
	pthread_mutex_lock(&m);
	while (parked < N)
		pthread_cond_wait(&c, &m);
	hg = open_mod(dir, "tls_gd.so");
	hi = open_mod(dir, "tls_ie.so");
	gd_addr = (long *(*)(void))dlsym(hg, "tls_gd_addr");
	ie_addr = (long *(*)(void))dlsym(hi, "tls_ie_addr");
	ie_sum = (int (*)(void))dlsym(hi, "tls_ie_sum");
	loaded = 1;
	pthread_cond_broadcast(&c);
	pthread_mutex_unlock(&m);
	if (pthread_create(&ids[N], NULL, run, (void *)N) != 0)
		return 1;
	use(-1);
	for (long i = 0; i <= N; i++)
		pthread_join(ids[i], NULL);
	printf("tls_dlopen_late: %s\n",
	       bad ? "FAILED" : "every thread saw fresh copies of both modules' TLS");
	return bad != 0;
}
