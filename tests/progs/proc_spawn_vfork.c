/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEST: mode=both timeout=60 */
/*
 * posix_spawn, posix_spawnp and vfork+exec work, from the main thread and
 * from threads, while a ticker thread keeps ticking: children see the
 * environment they were given (or inherited), file actions and attributes
 * apply, waitpid returns the right statuses, a missing program is reported.
 * exec from a thread of a forked child replaces the whole child.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define CHECK_TICKER
#include "check.h"

extern char **environ;


static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static void test_posix_spawn(void)
{
	char *argv1[] = { "sh", "-c",
		"test \"$PSV_GIVEN\" = given && test -z \"$PSV_INHERITED\" "
		"&& exit 17; exit 1", NULL };
	char *envp[] = { "PSV_GIVEN=given", "PATH=/usr/bin:/bin", NULL };
	char *argv2[] = { "sh", "-c", "echo \"out:$PSV_INHERITED\"; exit 18",
		NULL };
	char *argv3[] = { "sh", "-c", "sleep 0.3; exit 19", NULL };
	char *argv4[] = { "nope", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char buf[64];
	int p[2], n, got, st;
	pid_t pid;

	CHECK(setenv("PSV_INHERITED", "inherited", 1) == 0, "setenv");

	/* posix_spawn with an explicit environment. */
	CHECK(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv1, envp) == 0,
	      "posix_spawn");
	CHECK(exited_with(reap(pid), 17),
	      "posix_spawn: child did not see exactly the given environment");

	/* posix_spawnp, inherited environ, stdout redirected by a file
	 * action into a pipe the parent reads. */
	CHECK(pipe(p) == 0, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	CHECK(posix_spawnp(&pid, "sh", &fa, NULL, argv2, environ) == 0,
	      "posix_spawnp");
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	for (got = 0; got < (int)sizeof buf - 1; got += n) {
		n = read(p[0], buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			break;
	}
	buf[got] = 0;
	close(p[0]);
	CHECK(strcmp(buf, "out:inherited\n") == 0,
	      "posix_spawnp: wrong output through the pipe");
	CHECK(exited_with(reap(pid), 18), "posix_spawnp: wrong status");

	/* Attributes: a new process group and a signal mask. */
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
				 POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	{
		sigset_t none;

		sigemptyset(&none);
		posix_spawnattr_setsigmask(&at, &none);
	}
	CHECK(posix_spawn(&pid, "/bin/sh", NULL, &at, argv3, environ) == 0,
	      "posix_spawn with attributes");
	posix_spawnattr_destroy(&at);
	CHECK(getpgid(pid) == pid, "POSIX_SPAWN_SETPGROUP: no new group");
	CHECK(waitpid(-pid, &st, 0) == pid && exited_with(st, 19),
	      "waitpid(-pgid) of a spawned group leader");

	/* A missing program: glibc reports the exec failure. */
	errno = 0;
	n = posix_spawn(&pid, "/nonexistent/nope", NULL, NULL, argv4, environ);
	CHECK(n == ENOENT, "posix_spawn of a missing program: not ENOENT");
	printf("posix_spawn and posix_spawnp: ok\n");
}

static void test_vfork(void)
{
	char *envp[] = { "PSV_N=41", NULL };
	pid_t pid;

	pid = vfork();
	CHECK(pid >= 0, "vfork");
	if (pid == 0) {
		execle("/bin/sh", "sh", "-c", "exit $((PSV_N + 1))",
		       (char *)NULL, envp);
		_exit(127);
	}
	CHECK(exited_with(reap(pid), 42), "vfork+execle: wrong status");

	pid = vfork();
	CHECK(pid >= 0, "vfork");
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c",
		      "test \"$PSV_INHERITED\" = inherited && exit 43",
		      (char *)NULL);
		_exit(127);
	}
	CHECK(exited_with(reap(pid), 43),
	      "vfork+execl: child did not inherit the environment");

	pid = vfork();
	CHECK(pid >= 0, "vfork");
	if (pid == 0) {
		execl("/nonexistent/nope", "nope", (char *)NULL);
		_exit(127);
	}
	CHECK(exited_with(reap(pid), 127), "vfork, failed exec: not 127");
	printf("vfork+exec: ok\n");
}

#define NSPAWNERS 20

static int spawner_ok[NSPAWNERS];

/* Each thread spawns a child that sleeps, with either call, and reaps it. */
static void *spawner(void *arg)
{
	int idx = (int)(long)arg, want = 50 + idx;
	char cmd[64];
	char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid;

	snprintf(cmd, sizeof cmd, "sleep 0.3; exit %d", want);
	if (idx % 2 == 0) {
		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ))
			return NULL;
	} else {
		pid = vfork();
		if (pid < 0)
			return NULL;
		if (pid == 0) {
			execv("/bin/sh", argv);
			_exit(127);
		}
	}
	spawner_ok[idx] = exited_with(reap(pid), want);
	return NULL;
}

static void test_from_threads(void)
{
	pthread_t th[NSPAWNERS];
	double t = now();
	int ok = 0;

	for (long i = 0; i < NSPAWNERS; i++)
		CHECK(pthread_create(&th[i], NULL, spawner, (void *)i) == 0,
		      "pthread_create");
	for (int i = 0; i < NSPAWNERS; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	for (int i = 0; i < NSPAWNERS; i++)
		ok += spawner_ok[i];
	fprintf(stderr, "%d spawning threads done in %.3f s\n", NSPAWNERS, t);
	CHECK(ok == NSPAWNERS, "spawn/vfork from threads: wrong statuses");
	CHECK(t < 3, "children spawned from threads did not overlap");
	printf("posix_spawn and vfork from %d threads: ok\n", NSPAWNERS);
}

static void *exec_thread(void *arg)
{
	(void)arg;
	usleep(50000);
	execl("/bin/sh", "sh", "-c", "exit 33", (char *)NULL);
	_exit(126);
}

static void *child_sleeper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		usleep(100000);
	return NULL;
}

static void test_exec_from_thread(void)
{
	pid_t pid;

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		pthread_t a, b;

		/* Another thread is busy sleeping; the exec ends it too. */
		if (pthread_create(&b, NULL, child_sleeper, NULL) ||
		    pthread_create(&a, NULL, exec_thread, NULL))
			_exit(125);
		pthread_join(a, NULL);
		_exit(124);	/* not reached: the exec replaced us */
	}
	CHECK(exited_with(reap(pid), 33),
	      "exec from a thread of a forked child: wrong status");
	printf("exec from a thread in a forked child: ok\n");
}

int main(void)
{
	pthread_t tick;
	int t0;

	CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0, "pthread_create");
	usleep(20000);
	t0 = atomic_load(&ticks);

	test_posix_spawn();
	test_vfork();
	test_from_threads();
	test_exec_from_thread();

	fprintf(stderr, "ticks %d\n", atomic_load(&ticks) - t0);
	CHECK(atomic_load(&ticks) - t0 >= 20, "ticker stalled");
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	      "children left over");
	return 0;
}
