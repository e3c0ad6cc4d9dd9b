/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dns.h — the name-service area's header (runtime/names/, shim/dns.c).  Kept
 * apart from green.h because it needs the socket and netdb types, which the
 * rest of the runtime does not.
 *
 * Layers, bottom up:
 *   resolver.c  configuration (glibc's res_ninit) and the DNS transport
 *               (c-ares on the hub): gr_res_send();
 *   dnsmod.c    glibc's "dns" NSS module re-done over gr_res_send():
 *               the search list, query checks and answer parsing of
 *               res_query.c and nss_dns/dns-host.c, with the same NSS
 *               function signatures;
 *   nsswitch.c gethostby_r.c getaddrinfo.c getnameinfo.c check_pf.c
 *               getaddrinfo, gethostbyname*, gethostbyaddr*, getnameinfo
 *               as glibc composes them from the NSS modules named by
 *               /etc/nsswitch.conf: glibc's own "files" module, and
 *               dnsmod.c for "dns" (a file for each glibc file followed;
 *               hosts.h is what they share);
 *   shim/dns.c  the exported functions: picks ares / thread / block.
 * Every function returns what its glibc counterpart returns.
 */
#ifndef GREEN_DNS_H
#define GREEN_DNS_H

#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <resolv.h>
#include <sys/socket.h>
#include "green.h"

/* ===== resolver.c ===================================================== */

#define GR_DNS_MAXQ 2 /* queries sent together: A and AAAA */

/* The resolver configuration as glibc's res_ninit() reads it. */
struct gr_resconf {
	_Atomic int ref;
	unsigned gen; /* changes when resolv.conf changed */
	int retrans;  /* timeout, seconds */
	int retry;    /* attempts */
	int ndots;
	unsigned long options; /* RES_* */
	int nns, nsearch, nsort;
	struct sockaddr_storage ns[MAXNS];
	char *search[MAXDNSRCH + 1];
	struct {
		struct in_addr addr;
		uint32_t mask;
	} sort[MAXRESOLVSORT];
};

/* One answer: buf (malloc'd) and len, or buf NULL and rcode >= 0 when the
 * servers refused (SERVFAIL, NOTIMP, REFUSED), or rcode -1: nothing. */
struct gr_dns_msg {
	unsigned char *buf;
	int len;
	int rcode;
};

struct gr_resconf *gr_res_conf_get(void) GR_HIDDEN;
void gr_res_conf_put(struct gr_resconf *c) GR_HIDDEN;
long gr_res_send(const struct gr_resconf *conf, const unsigned char *const *q,
		 const int *qlen, int n, struct gr_dns_msg *out) GR_HIDDEN;
void gr_res_after_fork(void) GR_HIDDEN;

/* ===== dnsmod.c: the "dns" NSS module over gr_res_send() =============== */

/* glibc's struct gaih_addrtuple (<nss.h> on 2.36 declares it). */
enum nss_status gr_dns_gethostbyname4_r(const char *name,
					struct gaih_addrtuple **pat,
					char *buffer, size_t buflen,
					int *errnop, int *herrnop,
					int32_t *ttlp) GR_HIDDEN;
enum nss_status gr_dns_gethostbyname3_r(const char *name, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop, int32_t *ttlp,
					char **canonp) GR_HIDDEN;
enum nss_status gr_dns_gethostbyname2_r(const char *name, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop) GR_HIDDEN;
enum nss_status gr_dns_gethostbyname_r(const char *name, struct hostent *result,
				       char *buffer, size_t buflen, int *errnop,
				       int *herrnop) GR_HIDDEN;
enum nss_status gr_dns_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop, int32_t *ttlp) GR_HIDDEN;
/* The thread was cancelled while a query was out: the wrappers act on it
 * once they have cleaned up (gr_testcancel). */
extern __thread int gr_dns_canceled GR_HIDDEN;

/* ===== getaddrinfo.c and neighbours: glibc's functions from NSS modules */

int gr_gai_getaddrinfo(const char *name, const char *service,
		       const struct addrinfo *hints,
		       struct addrinfo **pai) GR_HIDDEN;
int gr_gai_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		       socklen_t hostlen, char *serv, socklen_t servlen,
		       int flags) GR_HIDDEN;
/* The reentrant forms: return value, *result and *h_errnop as glibc. */
int gr_gai_gethostbyname2_r(const char *name, int af, struct hostent *ret,
			    char *buf, size_t buflen, struct hostent **result,
			    int *h_errnop) GR_HIDDEN;
int gr_gai_gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			   size_t buflen, struct hostent **result,
			   int *h_errnop) GR_HIDDEN;
int gr_gai_gethostbyaddr_r(const void *addr, socklen_t len, int type,
			   struct hostent *ret, char *buf, size_t buflen,
			   struct hostent **result, int *h_errnop) GR_HIDDEN;
/* May this process's lookups go to c-ares?  nsswitch.conf's hosts line
 * names only files and dns (GREEN_RESOLVER=auto). */
bool gr_gai_ares_capable(void) GR_HIDDEN;

#endif /* GREEN_DNS_H */
