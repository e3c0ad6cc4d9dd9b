/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * getnameinfo.c — getnameinfo as glibc 2.36's inet/getnameinfo.c: names
 * through gethostbyaddr_r (gethostby_r.c), services through
 * getservbyport_r, the NI_* flags, the NRL domain trimming of NI_NOFQDN.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "hosts.h"

static char *nrl_domain;
static bool nrl_done;

/* The local domain for NI_NOFQDN, worked out once as glibc does. */
static const char *nrl_domainname(void)
{
	struct hostent th, *h = NULL;
	char buf[1024], host[256], *c;
	int herr;

	if (nrl_done)
		return nrl_domain;
	nrl_done = true;
	gr_gai_gethostbyname_r("localhost", &th, buf, sizeof(buf), &h, &herr);
	if (h && (c = strchr(h->h_name, '.'))) {
		nrl_domain = gr_strdup(++c);
		return nrl_domain;
	}
	if (gethostname(host, sizeof(host)) != 0)
		return NULL;
	host[sizeof(host) - 1] = '\0';
	if ((c = strchr(host, '.'))) {
		nrl_domain = gr_strdup(++c);
		return nrl_domain;
	}
	h = NULL;
	gr_gai_gethostbyname_r(host, &th, buf, sizeof(buf), &h, &herr);
	if (h && (c = strchr(h->h_name, '.'))) {
		nrl_domain = gr_strdup(++c);
		return nrl_domain;
	}
	{
		struct in_addr lo = {htonl(INADDR_LOOPBACK)};

		h = NULL;
		gr_gai_gethostbyaddr_r(&lo, sizeof(lo), AF_INET, &th, buf,
				       sizeof(buf), &h, &herr);
		if (h && (c = strchr(h->h_name, '.')))
			nrl_domain = gr_strdup(++c);
	}
	return nrl_domain;
}

static int checked_copy(char *dest, size_t destlen, const char *source)
{
	size_t n = strlen(source);

	if (n + 1 > destlen)
		return EAI_OVERFLOW;
	memcpy(dest, source, n + 1);
	return 0;
}

static int checked_snprintf_result(int r, size_t destlen)
{
	if (r < 0)
		return EAI_SYSTEM;
	if ((size_t)r >= destlen)
		return EAI_OVERFLOW;
	return 0;
}

static int gni_host_inet_name(const struct sockaddr *sa, char *host,
			      socklen_t hostlen, int flags)
{
	struct hostent th, *h = NULL;
	struct scratch tmp = {gr_malloc(1024), 1024};
	int herrno = 0, r = EAI_NONAME;
	const void *addr;
	socklen_t alen;
	int af = sa->sa_family;

	if (tmp.data == NULL)
		return EAI_MEMORY;
	if (af == AF_INET6) {
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		alen = sizeof(struct in6_addr);
	} else {
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
		alen = sizeof(struct in_addr);
	}
	while (gr_gai_gethostbyaddr_r(addr, alen, af, &th, tmp.data, tmp.length,
				      &h, &herrno)) {
		if (herrno == NETDB_INTERNAL && errno == ERANGE) {
			if (!gr_scratch_grow(&tmp)) {
				h_errno = herrno;
				gr_free(tmp.data);
				return EAI_MEMORY;
			}
		} else {
			break;
		}
	}
	if (h == NULL) {
		if (herrno == NETDB_INTERNAL) {
			h_errno = herrno;
			r = EAI_SYSTEM;
			goto out;
		}
		if (herrno == TRY_AGAIN) {
			h_errno = herrno;
			r = EAI_AGAIN;
			goto out;
		}
		goto out;
	}
	{
		char *c;
		const char *d;

		if ((flags & NI_NOFQDN) && (d = nrl_domainname()) &&
		    (c = strstr(h->h_name, d)) && c != h->h_name &&
		    *(--c) == '.')
			*c = '\0';
		r = strlen(h->h_name) + 1 > hostlen ? EAI_OVERFLOW : 0;
		if (r == 0)
			memcpy(host, h->h_name, strlen(h->h_name) + 1);
	}
out:
	gr_free(tmp.data);
	return r;
}

static int gni_host_inet_numeric(const struct sockaddr *sa, char *host,
				 socklen_t hostlen, int flags)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		uint32_t scopeid;

		if (inet_ntop(AF_INET6, &s->sin6_addr, host, hostlen) == NULL)
			return EAI_OVERFLOW;
		scopeid = s->sin6_scope_id;
		if (scopeid != 0) {
			size_t used = strnlen(host, hostlen);
			char *start = host + used;
			size_t left = hostlen - used;

			if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) ||
			    IN6_IS_ADDR_MC_LINKLOCAL(&s->sin6_addr)) {
				char scopebuf[IFNAMSIZ];

				if (if_indextoname(scopeid, scopebuf) != NULL)
					return checked_snprintf_result(
					    snprintf(start, left, "%%%s",
						     scopebuf),
					    left);
			}
			return checked_snprintf_result(
			    snprintf(start, left, "%%%u", scopeid), left);
		}
	} else {
		const struct sockaddr_in *s = (const void *)sa;

		if (inet_ntop(AF_INET, &s->sin_addr, host, hostlen) == NULL)
			return EAI_OVERFLOW;
	}
	return 0;
}

static int gni_host(const struct sockaddr *sa, char *host, socklen_t hostlen,
		    int flags)
{
	switch (sa->sa_family) {
	case AF_INET:
	case AF_INET6:
		if (!(flags & NI_NUMERICHOST)) {
			int r = gni_host_inet_name(sa, host, hostlen, flags);

			if (r != EAI_NONAME)
				return r;
		}
		if (flags & NI_NAMEREQD)
			return EAI_NONAME;
		return gni_host_inet_numeric(sa, host, hostlen, flags);
	case AF_LOCAL:
		if (!(flags & NI_NUMERICHOST)) {
			struct utsname u;

			if (uname(&u) == 0)
				return checked_copy(host, hostlen, u.nodename);
		}
		if (flags & NI_NAMEREQD)
			return EAI_NONAME;
		return checked_copy(host, hostlen, "localhost");
	default:
		return EAI_FAMILY;
	}
}

static int gni_serv(const struct sockaddr *sa, char *serv, socklen_t servlen,
		    int flags)
{
	switch (sa->sa_family) {
	case AF_INET:
	case AF_INET6: {
		const struct sockaddr_in *s = (const void *)sa;

		if (!(flags & NI_NUMERICSERV)) {
			struct scratch tmp = {gr_malloc(1024), 1024};
			struct servent ts, *sv = NULL;
			int e, r;

			if (tmp.data == NULL)
				return EAI_MEMORY;
			for (;;) {
				gr_nopark_enter();
				e = REAL(getservbyport_r)(
				    s->sin_port,
				    (flags & NI_DGRAM) ? "udp" : "tcp", &ts,
				    tmp.data, tmp.length, &sv);
				gr_nopark_leave();
				if (e != ERANGE)
					break;
				if (!gr_scratch_grow(&tmp)) {
					gr_free(tmp.data);
					return EAI_MEMORY;
				}
			}
			if (e == 0 && sv) {
				r = checked_copy(serv, servlen, sv->s_name);
				gr_free(tmp.data);
				return r;
			}
			gr_free(tmp.data);
		}
		return checked_snprintf_result(
		    snprintf(serv, servlen, "%d", ntohs(s->sin_port)), servlen);
	}
	case AF_LOCAL:
		return checked_copy(serv, servlen,
				    ((const struct sockaddr_un *)sa)->sun_path);
	default:
		return EAI_FAMILY;
	}
}

int gr_gai_getnameinfo(const struct sockaddr *sa, socklen_t addrlen, char *host,
		       socklen_t hostlen, char *serv, socklen_t servlen,
		       int flags)
{
	if (flags & ~(NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN |
		      NI_NAMEREQD | NI_DGRAM | NI_IDN | 192))
		return EAI_BADFLAGS;
	if (sa == NULL || addrlen < sizeof(sa_family_t))
		return EAI_FAMILY;
	if ((flags & NI_NAMEREQD) && host == NULL && serv == NULL)
		return EAI_NONAME;
	switch (sa->sa_family) {
	case AF_LOCAL:
		if (addrlen < (socklen_t)offsetof(struct sockaddr_un, sun_path))
			return EAI_FAMILY;
		break;
	case AF_INET:
		if (addrlen < sizeof(struct sockaddr_in))
			return EAI_FAMILY;
		break;
	case AF_INET6:
		if (addrlen < sizeof(struct sockaddr_in6))
			return EAI_FAMILY;
		break;
	default:
		return EAI_FAMILY;
	}
	if (host != NULL && hostlen > 0) {
		int r = gni_host(sa, host, hostlen, flags);

		if (r != 0)
			return r;
	}
	if (serv && servlen > 0) {
		int r = gni_serv(sa, serv, servlen, flags);

		if (r != 0)
			return r;
	}
	return 0;
}
