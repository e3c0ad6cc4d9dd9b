/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gethostby_r.c — gethostbyname*_r and gethostbyaddr_r over the hosts
 * database, as glibc 2.36's nss/getXXbyYY_r.c: the service loop, numeric
 * names through glibc's own __nss_hostname_digits_dots, and the return
 * value / h_errno rules.
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

enum by_kind { BY_NAME, BY_NAME2, BY_ADDR };
struct by_args {
	enum by_kind kind;
	const char *name;
	int af;
	const void *addr;
	socklen_t len;
};

static enum nss_status call_module(const struct hosts_module *m,
				   const struct by_args *a, struct hostent *ret,
				   char *buf, size_t buflen, int *h_errnop,
				   bool *have)
{
	enum nss_status s = NSS_STATUS_UNAVAIL;

	*have = true;
	nopark_enter_if(m == &gr_nss_files);
	switch (a->kind) {
	case BY_NAME:
		s = m->byname(a->name, ret, buf, buflen, &errno, h_errnop);
		break;
	case BY_NAME2:
		s = m->byname2(a->name, a->af, ret, buf, buflen, &errno,
			       h_errnop);
		break;
	case BY_ADDR:
		s = m->byaddr(a->addr, a->len, a->af, ret, buf, buflen, &errno,
			      h_errnop);
		break;
	}
	nopark_leave_if(m == &gr_nss_files);
	return s;
}

/* glibc's __resolv_context_get(): it loads resolv.conf and, once,
 * host.conf, whose "multi" the files module reads (in _res_hconf).
 * res_ninit (resolver.c) goes the same way. */
bool gr_resolv_context(void)
{
	struct gr_resconf *c = gr_res_conf_get();

	if (c == NULL)
		return false;
	gr_res_conf_put(c);
	return true;
}

static int hosts_lookup_r(const struct by_args *a, struct hostent *resbuf,
			  char *buffer, size_t buflen, struct hostent **result,
			  int *h_errnop)
{
	enum nss_status status = NSS_STATUS_UNAVAIL;
	struct hosts_conf hc;
	bool any_service = false, have;
	int res;

	if (!gr_resolv_context()) {
		*h_errnop = NETDB_INTERNAL;
		*result = NULL;
		return errno;
	}

	if (a->kind == BY_ADDR && a->len == sizeof(struct in6_addr) &&
	    memcmp(&in6addr_any, a->addr, sizeof(struct in6_addr)) == 0) {
		*h_errnop = HOST_NOT_FOUND;
		*result = NULL;
		return ENOENT;
	}
	if (a->kind != BY_ADDR) {
		int r;

		gr_nopark_enter();
		r = __nss_hostname_digits_dots(
		    a->name, resbuf, &buffer, NULL, buflen, result, &status,
		    a->kind == BY_NAME ? AF_INET : a->af, h_errnop);
		gr_nopark_leave();
		if (r == -1)
			return errno;
		if (r == 1) {
			any_service = true;
			goto done;
		}
	}
	gr_hosts_conf(&hc);
	for (int i = 0; i < hc.n; i++) {
		any_service = true;
		status = call_module(hc.svc[i].m, a, resbuf, buffer, buflen,
				     h_errnop, &have);
		if (status == NSS_STATUS_TRYAGAIN &&
		    *h_errnop == NETDB_INTERNAL && errno == ERANGE)
			break;
		if (gr_nss_next_action(&hc.svc[i], status) == ACT_RETURN)
			break;
		if (gr_dns_canceled)
			break;
	}
done:
	*result = status == NSS_STATUS_SUCCESS ? resbuf : NULL;
	if (status == NSS_STATUS_UNAVAIL && !any_service && errno != ENOENT)
		*h_errnop = NETDB_INTERNAL;
	else if (status != NSS_STATUS_SUCCESS && !any_service)
		*h_errnop = NO_RECOVERY;
	if (status == NSS_STATUS_SUCCESS || status == NSS_STATUS_NOTFOUND)
		res = 0;
	else if (errno == ERANGE && status != NSS_STATUS_TRYAGAIN)
		res = EINVAL;
	else if (status == NSS_STATUS_TRYAGAIN && *h_errnop != NETDB_INTERNAL)
		res = EAGAIN;
	else
		return errno;
	errno = res;
	return res;
}

int gr_gai_gethostbyname2_r(const char *name, int af, struct hostent *ret,
			    char *buf, size_t buflen, struct hostent **result,
			    int *h_errnop)
{
	struct by_args a = {BY_NAME2, name, af, NULL, 0};

	return hosts_lookup_r(&a, ret, buf, buflen, result, h_errnop);
}

int gr_gai_gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			   size_t buflen, struct hostent **result,
			   int *h_errnop)
{
	struct by_args a = {BY_NAME, name, AF_INET, NULL, 0};

	return hosts_lookup_r(&a, ret, buf, buflen, result, h_errnop);
}

int gr_gai_gethostbyaddr_r(const void *addr, socklen_t len, int type,
			   struct hostent *ret, char *buf, size_t buflen,
			   struct hostent **result, int *h_errnop)
{
	struct by_args a = {BY_ADDR, NULL, type, addr, len};

	return hosts_lookup_r(&a, ret, buf, buflen, result, h_errnop);
}
