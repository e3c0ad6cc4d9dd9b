/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * setxid.c — setuid() and friends.  glibc applies them to every thread of
 * the process: it signals each thread on its lists but THREAD_SELF and
 * waits until each has run the call.  A green thread's TCB is on none of
 * those lists, so the OS thread's own would be signalled as "another
 * thread" and its flag never cleared: the call is made on the OS thread's
 * TCB instead (runtime/core/tls.c, gr_tls_on_os).
 */
#include <grp.h>
#include <unistd.h>
#include "green.h"

struct ids {
	long a, b, c;
	const gid_t *list;
};

#define ON_OS(name, body)                                                      \
	static long name##_os(void *p)                                         \
	{                                                                      \
		struct ids *v = p;                                             \
		(void)v;                                                       \
		return body < 0 ? -errno : 0;                                  \
	}

ON_OS(setuid, REAL(setuid)((uid_t)v->a))
ON_OS(setgid, REAL(setgid)((gid_t)v->a))
ON_OS(seteuid, REAL(seteuid)((uid_t)v->a))
ON_OS(setegid, REAL(setegid)((gid_t)v->a))
ON_OS(setreuid, REAL(setreuid)((uid_t)v->a, (uid_t)v->b))
ON_OS(setregid, REAL(setregid)((gid_t)v->a, (gid_t)v->b))
ON_OS(setresuid, REAL(setresuid)((uid_t)v->a, (uid_t)v->b, (uid_t)v->c))
ON_OS(setresgid, REAL(setresgid)((gid_t)v->a, (gid_t)v->b, (gid_t)v->c))
ON_OS(setgroups, REAL(setgroups)((size_t)v->a, v->list))

#define WRAP(name, params, ...)                                                \
	GR_EXPORT int name params                                              \
	{                                                                      \
		long a_[] = {__VA_ARGS__, 0, 0};                               \
		struct ids v = {a_[0], a_[1], a_[2], NULL};                    \
		return (int)gr_ret(gr_tls_on_os(name##_os, &v));               \
	}

WRAP(setuid, (uid_t u), u)
WRAP(setgid, (gid_t g), g)
WRAP(seteuid, (uid_t u), u)
WRAP(setegid, (gid_t g), g)
WRAP(setreuid, (uid_t r, uid_t e), r, e)
WRAP(setregid, (gid_t r, gid_t e), r, e)
WRAP(setresuid, (uid_t r, uid_t e, uid_t s), r, e, s)
WRAP(setresgid, (gid_t r, gid_t e, gid_t s), r, e, s)
GR_EXPORT int setgroups(size_t n, const gid_t *l)
{
	struct ids v = {(long)n, 0, 0, l};

	return (int)gr_ret(gr_tls_on_os(setgroups_os, &v));
}
