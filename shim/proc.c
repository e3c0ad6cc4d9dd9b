/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc.c — the process calls: the waitpid family, system, popen/pclose,
 * vfork (a fork under the shim), _Fork, the atfork registry, posix_spawn
 * and execve (the child gets the calling green thread's signal mask).
 * Thin: runtime/proc/proc.c decides.
 */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include "green.h"
#include "libc_abi.h"

static inline bool green_ctx(void)
{
	/* Under the virtual clock a lone thread waits on the hub too: the
	 * tree's clock (vtree.c) moves only while its processes are idle. */
	return gr_may_park() || (unlikely(gr_vclock_on) && gr_can_park());
}

GR_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	GR_CALL("wait4");
	if (!green_ctx())
		return REAL(wait4)(pid, status, options, ru);
	gr_testcancel();
	return (pid_t)gr_ret(gr_proc_wait4(pid, status, options, ru));
}

GR_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	GR_CALL("waitpid");
	if (!green_ctx())
		return REAL(waitpid)(pid, status, options);
	gr_testcancel();
	return (pid_t)gr_ret(gr_proc_wait4(pid, status, options, NULL));
}

GR_EXPORT pid_t wait(int *status)
{
	GR_CALL("wait");
	if (!green_ctx())
		return REAL(wait)(status);
	gr_testcancel();
	return (pid_t)gr_ret(gr_proc_wait4(-1, status, 0, NULL));
}

GR_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	GR_CALL("wait3");
	if (!green_ctx())
		return REAL(wait3)(status, options, ru);
	return (pid_t)gr_ret(gr_proc_wait4(-1, status, options, ru));
}

GR_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	GR_CALL("waitid");
	if (!green_ctx())
		return REAL(waitid)(type, id, info, options);
	gr_testcancel();
	return (int)gr_ret(gr_proc_waitid(type, id, info, options));
}

GR_EXPORT int system(const char *cmd)
{
	GR_CALL("system");
	if (cmd == NULL || !gr_park_useful())
		return REAL(system)(cmd);
	int spawn_err = 0, st = gr_proc_system(cmd, &spawn_err);
	if (spawn_err != 0)
		errno = spawn_err;
	return (int)gr_ret(st);
}

GR_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	FILE *fp = NULL;

	return gr_ret(gr_proc_popen(cmd, mode, &fp)) == 0 ? fp : NULL;
}

GR_EXPORT int pclose(FILE *fp)
{
	int st, r;

	GR_CALL("pclose");
	r = gr_proc_pclose(fp, &st);
	if (r == 1)
		return REAL(pclose)(fp);
	return r < 0 ? (int)gr_ret(r) : st;
}

/* vfork shares the parent's memory, hub included, until the child execs:
 * under the shim it is a fork (POSIX allows it; docs/signals.md). */
GR_EXPORT pid_t vfork(void)
{
	return fork();
}

/* _Fork runs no atfork handlers: reset the child's runtime here. */
GR_EXPORT pid_t _Fork(void)
{
	pid_t pid = REAL(_Fork)();

	if (pid == 0) {
		gr_fork_child();
		gr_hub_refork(gr_tls_hub);
	} else if (pid > 0)
		gr_vclock_forked(pid); /* the tree's before we can go idle */
	return pid;
}

/* Our atfork child handler runs first and leaves the hub's loop to this
 * point, after every other handler (the program's malloc resets its locks
 * in one): libev allocates with that malloc.  __fork is glibc's other
 * name for fork. */
GR_EXPORT pid_t fork(void)
{
	pid_t pid = REAL(fork)();

	if (pid == 0) {
		gr_vclock_forked(0); /* our atfork handler may not be in */
		gr_hub_refork(gr_tls_hub);
	} else if (pid > 0)
		gr_vclock_forked(pid); /* the tree's before we can go idle */
	return pid;
}

GR_EXPORT pid_t __fork(void) __attribute__((alias("fork"), copy(fork)));

/* pthread_atfork (in libc_nonshared) lands here: ours goes in first, so
 * in a child it runs before the program's own child handlers.  libtsan
 * calls it while it initialises (GR_NO_TSAN). */
GR_EXPORT GR_NO_TSAN int __register_atfork(void (*prepare)(void),
					   void (*parent)(void),
					   void (*child)(void), void *dso)
{
	gr_fork_register();
	return REAL(__register_atfork)(prepare, parent, child, dso);
}

GR_EXPORT int posix_spawn(pid_t *pid, const char *path,
			  const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[],
			  char *const envp[])
{
	posix_spawnattr_t tmp;
	const posix_spawnattr_t *a = gr_proc_spawn_attr(attr, &tmp);
	char **e = gr_vclock_env(envp); /* the virtual time travels */
	pid_t child;
	int r = REAL(posix_spawn)(&child, path, fa, a, argv, e ? e : envp);

	free(e);
	if (r == 0) {
		gr_vclock_forked(child); /* a process of the tree */
		if (pid != NULL)
			*pid = child;
	}
	return r;
}

GR_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	posix_spawnattr_t tmp;
	const posix_spawnattr_t *a = gr_proc_spawn_attr(attr, &tmp);
	char **e = gr_vclock_env(envp);
	pid_t child;
	int r = REAL(posix_spawnp)(&child, file, fa, a, argv, e ? e : envp);

	free(e);
	if (r == 0) {
		gr_vclock_forked(child); /* a process of the tree */
		if (pid != NULL)
			*pid = child;
	}
	return r;
}

/* The new image keeps the OS thread's mask: make it the caller's. */
GR_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	sigset_t green, old;
	bool differs = gr_sig_mask_differs(&green);
	char **env;
	int r, e;

	gr_preempt_exec(true); /* no time-slice tick into the new image */
	if (differs)
		REAL(pthread_sigmask)(SIG_SETMASK, &green, &old);
	/* Under the virtual clock the child starts at our time now. */
	env = gr_vclock_env(envp);
	r = REAL(execve)(path, argv, env ? env : envp);
	e = errno;
	free(env);
	if (differs)
		REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	gr_preempt_exec(false);
	errno = e;
	return r;
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__waitpid, waitpid);
GR_ALIAS(__wait, wait);
GR_ALIAS(__vfork, vfork);
