/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nss.c — calls that run glibc's NSS modules or the dynamic loader: their
 * locks belong to the OS thread, shared by every green thread of a hub.
 * While one of these runs, the hub's no-park count is raised, so the
 * socket/connect/poll/read calls an NSS module (libnss_*, sssd, ldap...)
 * or a library constructor makes through the PLT block the OS thread
 * instead of parking inside the lock: correct, just slower, and counted as
 * fallbacks in GREEN_STATS.  Names are resolved by runtime/names/resolver.c,
 * which never runs a module while it can park.
 */
#include <dlfcn.h>
#include <link.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <shadow.h>
#include "green.h"

#define NOPARK(ret, name, params, args)                                        \
	GR_EXPORT ret name params                                              \
	{                                                                      \
		ret r;                                                         \
		gr_nopark_enter();                                             \
		r = REAL(name) args;                                           \
		gr_nopark_leave();                                             \
		return r;                                                      \
	}

NOPARK(struct passwd *, getpwnam, (const char *n), (n))
NOPARK(struct passwd *, getpwuid, (uid_t u), (u))
NOPARK(int, getpwnam_r,
       (const char *n, struct passwd *p, char *b, size_t l,
	struct passwd **res),
       (n, p, b, l, res))
NOPARK(int, getpwuid_r,
       (uid_t u, struct passwd *p, char *b, size_t l, struct passwd **res),
       (u, p, b, l, res))
NOPARK(struct passwd *, getpwent, (void), ())
NOPARK(struct group *, getgrnam, (const char *n), (n))
NOPARK(struct group *, getgrgid, (gid_t g), (g))
NOPARK(int, getgrnam_r,
       (const char *n, struct group *g, char *b, size_t l, struct group **res),
       (n, g, b, l, res))
NOPARK(int, getgrgid_r,
       (gid_t id, struct group *g, char *b, size_t l, struct group **res),
       (id, g, b, l, res))
NOPARK(struct group *, getgrent, (void), ())
NOPARK(int, initgroups, (const char *u, gid_t g), (u, g))
NOPARK(int, getgrouplist, (const char *u, gid_t g, gid_t *gs, int *n),
       (u, g, gs, n))
NOPARK(struct spwd *, getspnam, (const char *n), (n))
NOPARK(struct servent *, getservbyname, (const char *n, const char *p), (n, p))
NOPARK(struct servent *, getservbyport, (int port, const char *p), (port, p))
NOPARK(int, getservbyname_r,
       (const char *n, const char *p, struct servent *s, char *b, size_t l,
	struct servent **res),
       (n, p, s, b, l, res))
NOPARK(int, getservbyport_r,
       (int port, const char *p, struct servent *s, char *b, size_t l,
	struct servent **res),
       (port, p, s, b, l, res))
NOPARK(struct protoent *, getprotobyname, (const char *n), (n))
NOPARK(struct protoent *, getprotobynumber, (int n), (n))
/* dlopen also gives a module that takes static TLS its initial image in
 * every green thread (glibc does it for the threads it knows of), and a
 * library loaded or unloaded moves the text ranges preemption checks the
 * interrupted PC against (runtime/core/preempt.c). */
GR_EXPORT void *dlopen(const char *f, int m)
{
	struct gr_tls_snap s;
	bool track;
	void *r;

	gr_nopark_enter();
	track = gr_tls_dlopen_begin(&s);
	r = REAL(dlopen)(f, m);
	if (r != NULL && track)
		gr_tls_dlopen_end(&s);
	gr_nopark_leave();
	if (r != NULL)
		gr_preempt_libs_changed();
	return r;
}

GR_EXPORT int dlclose(void *h)
{
	int r;

	gr_nopark_enter();
	r = REAL(dlclose)(h);
	gr_nopark_leave();
	gr_preempt_libs_changed();
	return r;
}

/* Its callbacks run under the loader's lock, which belongs to the OS
 * thread: no parking, no preemption there (libgcc's unwinder calls it on
 * every throw: a TLS increment and decrement).  Not in the ASan and TSan
 * builds: libasan and libtsan call it while they initialise, before their
 * shadow memory exists, and our instrumented wrapper would fault there. */
#if !defined(GR_ASAN) && !defined(GR_TSAN)
NOPARK(int, dl_iterate_phdr,
       (int (*cb)(struct dl_phdr_info *, size_t, void *), void *arg), (cb, arg))
#endif
