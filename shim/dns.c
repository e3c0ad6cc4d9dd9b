/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dns.c — getaddrinfo, freeaddrinfo, getnameinfo, gethostbyname,
 * gethostbyname2, gethostbyname_r, gethostbyname2_r, gethostbyaddr,
 * gethostbyaddr_r.
 *
 * Each call takes one of three paths:
 *  - libc: where parking is impossible (the hub itself, a signal handler,
 *    a no-park region, the shim's own threads) and with
 *    GREEN_RESOLVER=block;
 *  - ares (runtime/names/getaddrinfo.c and its neighbours over c-ares):
 * GREEN_RESOLVER=ares, or the default when nsswitch.conf's hosts line names
 * only files and dns or GREEN_DNS_SERVERS is set.  Taken even by a thread alone
 * on its hub (the hub is made if need be), so that answers and servers never
 *    depend on the number of threads;
 *  - pool: glibc's own function on a worker thread while the caller
 *    parks: GREEN_RESOLVER=thread, the default when nsswitch.conf names
 *    other sources (mdns, resolve, myhostname...), and calls with IDN
 *    flags, which the ares path does not implement.  A thread alone on
 *    its hub calls glibc directly instead: blocking is then the same.
 * The answers are glibc's in all three (tests/scripts/dns_differential.sh
 * compares them).
 *
 * These wrappers are entry points: no OS-thread lock of glibc is held
 * when they are called, so parking here is safe.  A pthread_cancel()
 * while the ares path waits for an answer acts once the lookup has
 * freed what it held.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "dns.h"

enum { PATH_LIBC, PATH_ARES, PATH_POOL };

static int dns_path(void)
{
	const struct gr_config *c;
	int mode;

	if (gr_tls_passthrough || gr_tls_insignal)
		return PATH_LIBC;
	c = gr_conf();
	mode = c->resolver;
	if (mode == GR_RES_BLOCK)
		return PATH_LIBC;
	/* Servers of its own mean c-ares: glibc cannot be pointed there. */
	if (mode == GR_RES_AUTO)
		mode =
		    (c->dns_servers && *c->dns_servers) || gr_gai_ares_capable()
			? GR_RES_ARES
			: GR_RES_THREAD;
	if (mode == GR_RES_THREAD)
		return gr_park_useful() ? PATH_POOL : PATH_LIBC;
	/* c-ares even for a thread alone on its hub: waiting in the hub's
	 * loop is as good as blocking, and the answers (and the servers
	 * asked) do not depend on how many threads the program has. */
	if (gr_tls_hub == NULL)
		gr_hub_get();
	return gr_may_park() ? PATH_ARES : PATH_LIBC;
}

/* glibc's lookups are cancellation points (its poll() is): a cancel
 * already pending acts before the lookup starts... */
static void dns_start(void)
{
	/* The exported one: a real thread's cancel is glibc's to act on
	 * (GREEN_THREADS=native, the main thread), a green one's ours. */
	pthread_testcancel();
	gr_dns_canceled = 0;
}

/* ...and one that ended a DNS wait, once the lookup has let go of what
 * it held. */
static void dns_done(void)
{
	if (gr_dns_canceled) {
		gr_dns_canceled = 0;
		gr_testcancel();
	}
	pthread_testcancel();
}

/* ---- jobs for the pool: glibc's functions on a worker thread ---------- */

struct gai_job {
	const char *name, *service;
	const struct addrinfo *hints;
	struct addrinfo **res;
	int err;
};

static long gai_job_run(void *arg)
{
	struct gai_job *j = arg;
	long r = REAL(getaddrinfo)(j->name, j->service, j->hints, j->res);

	j->err = errno;
	return r;
}

struct gni_job {
	const struct sockaddr *sa;
	socklen_t salen;
	char *host;
	socklen_t hostlen;
	char *serv;
	socklen_t servlen;
	int flags, err;
};

static long gni_job_run(void *arg)
{
	struct gni_job *j = arg;
	long r = REAL(getnameinfo)(j->sa, j->salen, j->host, j->hostlen,
				   j->serv, j->servlen, j->flags);

	j->err = errno;
	return r;
}

/* The reentrant hostent calls, one job shape for all three. */
enum { HJ_NAME, HJ_NAME2, HJ_ADDR };
struct hent_job {
	int kind;
	const char *name;
	const void *addr;
	socklen_t len;
	int af;
	struct hostent *ret;
	char *buf;
	size_t buflen;
	struct hostent **result;
	int *h_errnop;
	int err;
};

static long hent_job_run(void *arg)
{
	struct hent_job *j = arg;
	long r = 0;

	switch (j->kind) {
	case HJ_NAME:
		r = REAL(gethostbyname_r)(j->name, j->ret, j->buf, j->buflen,
					  j->result, j->h_errnop);
		break;
	case HJ_NAME2:
		r = REAL(gethostbyname2_r)(j->name, j->af, j->ret, j->buf,
					   j->buflen, j->result, j->h_errnop);
		break;
	case HJ_ADDR:
		r = REAL(gethostbyaddr_r)(j->addr, j->len, j->af, j->ret,
					  j->buf, j->buflen, j->result,
					  j->h_errnop);
		break;
	}
	j->err = errno;
	return r;
}

/* One reentrant hostent lookup on the ares or the pool path. */
static int hent_r(int path, struct hent_job *j)
{
	int r;

	dns_start();
	if (path == PATH_POOL) {
		r = (int)gr_pool_run(hent_job_run, j);
		errno = j->err;
		return r;
	}
	switch (j->kind) {
	case HJ_NAME:
		r = gr_gai_gethostbyname_r(j->name, j->ret, j->buf, j->buflen,
					   j->result, j->h_errnop);
		break;
	case HJ_NAME2:
		r = gr_gai_gethostbyname2_r(j->name, j->af, j->ret, j->buf,
					    j->buflen, j->result, j->h_errnop);
		break;
	default:
		r = gr_gai_gethostbyaddr_r(j->addr, j->len, j->af, j->ret,
					   j->buf, j->buflen, j->result,
					   j->h_errnop);
		break;
	}
	dns_done();
	return r;
}

/* ---- getaddrinfo, freeaddrinfo, getnameinfo --------------------------- */

GR_EXPORT int getaddrinfo(const char *name, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res)
{
	int path, r;

	/* No host name to look up: glibc answers without waiting, and a
	 * program that only converts numbers needs no hub for it. */
	if (name == NULL ||
	    (hints != NULL && (hints->ai_flags & AI_NUMERICHOST)))
		return REAL(getaddrinfo)(name, service, hints, res);
	path = dns_path();
	if (path == PATH_LIBC)
		return REAL(getaddrinfo)(name, service, hints, res);
	GR_CALL("getaddrinfo");
	if (hints != NULL && (hints->ai_flags & (AI_IDN | AI_CANONIDN)))
		path = PATH_POOL;
	dns_start();
	if (path == PATH_POOL) {
		struct gai_job j = {name, service, hints, res, 0};

		r = (int)gr_pool_run(gai_job_run, &j);
		errno = j.err;
		return r;
	}
	r = gr_gai_getaddrinfo(name, service, hints, res);
	dns_done();
	return r;
}

/* Lists from glibc and from getaddrinfo.c are made alike (each entry one block,
 * its canonical name another): glibc's freeaddrinfo frees both. */
GR_EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	REAL(freeaddrinfo)(ai);
}

GR_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
			  char *host, socklen_t hostlen, char *serv,
			  socklen_t servlen, int flags)
{
	int path, r;

	/* No host name asked for: nothing to wait for. */
	if ((flags & NI_NUMERICHOST) || host == NULL || hostlen == 0)
		return REAL(getnameinfo)(sa, salen, host, hostlen, serv,
					 servlen, flags);
	path = dns_path();
	if (path == PATH_LIBC)
		return REAL(getnameinfo)(sa, salen, host, hostlen, serv,
					 servlen, flags);
	GR_CALL("getnameinfo");
	if (flags & NI_IDN)
		path = PATH_POOL;
	dns_start();
	if (path == PATH_POOL) {
		struct gni_job j = {sa,	  salen,   host,  hostlen,
				    serv, servlen, flags, 0};

		r = (int)gr_pool_run(gni_job_run, &j);
		errno = j.err;
		return r;
	}
	r = gr_gai_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
	dns_done();
	return r;
}

/* ---- the reentrant hostent functions ---------------------------------- */

GR_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			      size_t buflen, struct hostent **result,
			      int *h_errnop)
{
	int path = dns_path();
	struct hent_job j = {HJ_NAME, name,   NULL,   0,	AF_INET, ret,
			     buf,     buflen, result, h_errnop, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyname_r)(name, ret, buf, buflen, result,
					     h_errnop);
	GR_CALL("gethostbyname_r");
	return hent_r(path, &j);
}

GR_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret,
			       char *buf, size_t buflen,
			       struct hostent **result, int *h_errnop)
{
	int path = dns_path();
	struct hent_job j = {HJ_NAME2, name,   NULL,   0,	 af, ret,
			     buf,      buflen, result, h_errnop, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyname2_r)(name, af, ret, buf, buflen,
					      result, h_errnop);
	GR_CALL("gethostbyname2_r");
	return hent_r(path, &j);
}

GR_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type,
			      struct hostent *ret, char *buf, size_t buflen,
			      struct hostent **result, int *h_errnop)
{
	int path = dns_path();
	struct hent_job j = {HJ_ADDR, NULL,   addr,   len,	type, ret,
			     buf,     buflen, result, h_errnop, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyaddr_r)(addr, len, type, ret, buf, buflen,
					     result, h_errnop);
	GR_CALL("gethostbyaddr_r");
	return hent_r(path, &j);
}

/* ---- the non-reentrant ones ------------------------------------------- */

/*
 * glibc (nss/getXXbyYY.c): the _r function with one static buffer that
 * grows by 1024 bytes while it is too small; h_errno is set only when the
 * lookup left a non-zero value; errno 0 is not passed back.  Here the
 * lookup fills a private buffer (other green threads may call meanwhile),
 * which then replaces the static one: the returned hostent stays valid
 * until the next call, as glibc's does.
 */
struct hent_static {
	pthread_mutex_t lock;
	struct hostent he;
	char *buf;
};
/* One per function, as glibc has: a gethostbyaddr() does not spoil what
 * gethostbyname() returned. */
static struct hent_static st_byname = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct hent_static st_byname2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct hent_static st_byaddr = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct hostent *hent_nonreentrant(int path, struct hent_job *j,
					 struct hent_static *hs)
{
	size_t size = 1024;
	char *buf = gr_malloc(size);
	struct hostent he, *result = NULL;
	int herr = 0, save_errno = errno;

	j->ret = &he;
	j->result = &result;
	j->h_errnop = &herr;
	while (buf != NULL) {
		char *nb;

		j->buf = buf;
		j->buflen = size;
		if (hent_r(path, j) == 0 || herr != NETDB_INTERNAL ||
		    errno != ERANGE)
			break;
		size += 1024;
		errno = 0;
		nb = gr_realloc(buf, size);
		if (nb == NULL)
			gr_free(buf);
		buf = nb;
	}
	if (errno == 0)
		errno = save_errno;
	if (buf == NULL || result == NULL) {
		gr_free(buf);
		result = NULL;
	} else {
		int e = errno;

		/* The hostent's pointers are into buf: it moves as a whole. */
		REAL(pthread_mutex_lock)(&hs->lock);
		gr_free(hs->buf);
		hs->buf = buf;
		hs->he = he;
		result = &hs->he;
		REAL(pthread_mutex_unlock)(&hs->lock);
		errno = e;
	}
	if (herr != 0)
		h_errno = herr;
	return result;
}

GR_EXPORT struct hostent *gethostbyname(const char *name)
{
	int path = dns_path();
	struct hent_job j = {HJ_NAME, name, NULL, 0,	AF_INET, NULL,
			     NULL,    0,    NULL, NULL, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyname)(name);
	GR_CALL("gethostbyname");
	return hent_nonreentrant(path, &j, &st_byname);
}

GR_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	int path = dns_path();
	struct hent_job j = {HJ_NAME2, name, NULL, 0,	 af, NULL,
			     NULL,     0,    NULL, NULL, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyname2)(name, af);
	GR_CALL("gethostbyname2");
	return hent_nonreentrant(path, &j, &st_byname2);
}

GR_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
					int type)
{
	int path = dns_path();
	struct hent_job j = {HJ_ADDR, NULL, addr, len,	type, NULL,
			     NULL,    0,    NULL, NULL, 0};

	if (path == PATH_LIBC)
		return REAL(gethostbyaddr)(addr, len, type);
	GR_CALL("gethostbyaddr");
	return hent_nonreentrant(path, &j, &st_byaddr);
}
