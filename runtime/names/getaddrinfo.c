/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * getaddrinfo.c — getaddrinfo composed from NSS "hosts" modules exactly as
 * glibc 2.36 composes it (this area's other files hold the rest: nsswitch.c,
 * gethostby_r.c, check_pf.c, getnameinfo.c), for GREEN_RESOLVER=ares: the
 * modules are glibc's own "files" module (called through its NSS entry points,
 * so /etc/hosts is parsed by glibc) and dnsmod.c for "dns", whose queries park
 * the calling green thread.
 *
 * Followed from glibc, step by step:
 *  - nsswitch.conf's hosts line with its [STATUS=ACTION] lists (read
 *    again when the file changes, as glibc 2.33+ does);
 *  - nss/getXXbyYY_r.c: the service loop, numeric names through glibc's
 *    own __nss_hostname_digits_dots, and the return value / h_errno rules;
 *  - sysdeps/posix/getaddrinfo.c: flag and family checks, AI_ADDRCONFIG
 *    from the kernel's address list (netlink, like __check_pf), services
 *    and socket type/protocol expansion, numeric hosts (inet_aton forms,
 *    IPv6 scope ids), the gethostbyname4_r / gethostbyname3_r paths and
 *    their error codes, V4MAPPED/ALL, canonical names, and the RFC 3484
 *    sort with /etc/gai.conf (source addresses found by connecting UDP
 *    sockets, as glibc does, through the real libc calls);
 *  - inet/getnameinfo.c.
 * Lists are allocated as glibc allocates them (one malloc per entry with
 * its address, ai_canonname separately), with the program's malloc, so
 * glibc's freeaddrinfo frees them and ours frees glibc's.  Everything else
 * here is the shim's own and comes from gr_malloc (runtime/core/alloc.c).
 *
 * Not here: nscd (glibc asks it first when it runs; we never do), IDN
 * flags (shim/dns.c sends those calls to the thread resolver), host.conf
 * "reorder" and "trim".  See docs/resolver.md.
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

/* ===== RFC 3484 sort and /etc/gai.conf ================================== */

struct prefixentry {
	struct in6_addr prefix;
	unsigned bits;
	int val;
};
struct scopeentry {
	union {
		char addr[4];
		uint32_t addr32;
	};
	uint32_t netmask;
	int32_t scope;
};

#define P6(...)                                                                \
	{                                                                      \
		{                                                              \
			{                                                      \
				__VA_ARGS__                                    \
			}                                                      \
		}                                                              \
	}
static const struct prefixentry default_labels[] = {
    {P6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 128, 0},
    {P6(0x20, 0x02), 16, 2},
    {P6(0), 96, 3},
    {P6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), 96, 4},
    {P6(0xfe, 0xc0), 10, 5},
    {P6(0xfc), 7, 6},
    {P6(0x20, 0x01), 32, 7},
    {P6(0), 0, 1},
};
static const struct prefixentry default_precedence[] = {
    {P6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 128, 50},
    {P6(0x20, 0x02), 16, 30},
    {P6(0), 96, 20},
    {P6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), 96, 10},
    {P6(0), 0, 40},
};
static const struct scopeentry default_scopes[] = {
    {{{169, 254, 0, 0}}, 0x0000ffff, 2}, /* htonl(0xffff0000) */
    {{{127, 0, 0, 0}}, 0x000000ff, 2},	 /* htonl(0xff000000) */
    {{{0, 0, 0, 0}}, 0, 14},
};

static const struct prefixentry *labels = default_labels;
static const struct prefixentry *precedence = default_precedence;
static const struct scopeentry *scopes = default_scopes;
static pthread_once_t gaiconf_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gaiconf_lock = PTHREAD_MUTEX_INITIALIZER;
static int gaiconf_reload_flag, gaiconf_reload_ever;
static struct timespec gaiconf_mtime;

static int prefixcmp(const void *p1, const void *p2)
{
	const struct prefixentry *e1 = p1, *e2 = p2;

	if (e1->bits < e2->bits)
		return 1;
	if (e1->bits == e2->bits)
		return 0;
	return -1;
}

static int scopecmp(const void *p1, const void *p2)
{
	const struct scopeentry *e1 = p1, *e2 = p2;

	if (e1->netmask > e2->netmask)
		return -1;
	if (e1->netmask == e2->netmask)
		return 0;
	return 1;
}

struct plist {
	struct prefixentry e;
	struct plist *next;
};
struct slist {
	struct scopeentry e;
	struct slist *next;
};

static bool add_prefix(struct plist **l, size_t *n, bool *nullbits, char *val1,
		       char *val2)
{
	struct in6_addr prefix;
	unsigned long bits = 128, val;
	char *endp = NULL, *cp = strchr(val1, '/');

	errno = 0;
	if (cp != NULL)
		*cp++ = '\0';
	if (inet_pton(AF_INET6, val1, &prefix) &&
	    (cp == NULL || (bits = strtoul(cp, &endp, 10)) != ULONG_MAX ||
	     errno != ERANGE) &&
	    (cp == NULL || *endp == '\0') && bits <= 128 &&
	    ((val = strtoul(val2, &endp, 10)) != ULONG_MAX ||
	     errno != ERANGE) &&
	    *endp == '\0' && val <= INT_MAX) {
		struct plist *p = gr_malloc(sizeof(*p));

		if (p == NULL)
			return false;
		p->e.prefix = prefix;
		p->e.bits = bits;
		p->e.val = val;
		p->next = *l;
		*l = p;
		++*n;
		*nullbits |= bits == 0;
	}
	return true;
}

static bool add_scope(struct slist **l, size_t *n, bool *nullbits,
		      const struct in6_addr *prefix, unsigned long bits,
		      unsigned long val)
{
	struct slist *p = gr_malloc(sizeof(*p));

	if (p == NULL)
		return false;
	p->e.netmask = htonl(bits != 96 ? (0xffffffff << (128 - bits)) : 0);
	p->e.addr32 = prefix->s6_addr32[3] & p->e.netmask;
	p->e.scope = val;
	p->next = *l;
	*l = p;
	++*n;
	*nullbits |= bits == 96;
	return true;
}

static void *build_prefixes(struct plist *l, size_t n, bool nullbits, int dflt,
			    const struct prefixentry *fallback)
{
	struct prefixentry *v;
	size_t i;

	if (n == 0)
		return (void *)fallback;
	if (!nullbits)
		n++;
	v = gr_malloc(n * sizeof(*v));
	if (v == NULL)
		return NULL;
	i = n;
	if (!nullbits) {
		--i;
		memset(&v[i].prefix, 0, sizeof(v[i].prefix));
		v[i].bits = 0;
		v[i].val = dflt;
	}
	while (i-- > 0) {
		v[i] = l->e;
		l = l->next;
	}
	qsort(v, n, sizeof(*v), prefixcmp);
	return v;
}

static void gaiconf_init(void)
{
	struct plist *ll = NULL, *pl = NULL;
	struct slist *sl = NULL;
	size_t nl = 0, np = 0, ns = 0;
	bool lnull = false, pnull = false, snull = false, ok = true;
	struct stat st;
	char *line = NULL;
	size_t linelen = 0;
	FILE *fp = fopen("/etc/gai.conf", "rce");

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		if (fp)
			REAL(fclose)(fp);
		goto no_file;
	}
	while (ok && !feof(fp)) {
		ssize_t n = REAL(getdelim)(&line, &linelen, '\n', fp);
		char *cp, *cmd, *val1, *val2;
		size_t cmdlen, val1len;

		if (n <= 0)
			break;
		if ((cp = strchr(line, '#')) != NULL)
			*cp = '\0';
		cp = line;
		while (isspace((unsigned char)*cp))
			++cp;
		cmd = cp;
		while (*cp != '\0' && !isspace((unsigned char)*cp))
			++cp;
		cmdlen = cp - cmd;
		if (*cp != '\0')
			*cp++ = '\0';
		while (isspace((unsigned char)*cp))
			++cp;
		val1 = cp;
		while (*cp != '\0' && !isspace((unsigned char)*cp))
			++cp;
		val1len = cp - cmd;
		if (val1len == 0)
			continue;
		if (*cp != '\0')
			*cp++ = '\0';
		while (isspace((unsigned char)*cp))
			++cp;
		val2 = cp;
		while (*cp != '\0' && !isspace((unsigned char)*cp))
			++cp;
		*cp = '\0';
		if (cmdlen == 5 && strcmp(cmd, "label") == 0) {
			ok = add_prefix(&ll, &nl, &lnull, val1, val2);
		} else if (cmdlen == 6 && strcmp(cmd, "reload") == 0) {
			gaiconf_reload_flag = strcmp(val1, "yes") == 0;
			if (gaiconf_reload_flag)
				gaiconf_reload_ever = 1;
		} else if (cmdlen == 10 && strcmp(cmd, "precedence") == 0) {
			ok = add_prefix(&pl, &np, &pnull, val1, val2);
		} else if (cmdlen == 7 && strcmp(cmd, "scopev4") == 0) {
			struct in6_addr prefix;
			unsigned long bits = 32, val;
			char *endp = NULL;

			errno = 0;
			cp = strchr(val1, '/');
			if (cp != NULL)
				*cp++ = '\0';
			if (inet_pton(AF_INET6, val1, &prefix)) {
				bits = 128;
				if (IN6_IS_ADDR_V4MAPPED(&prefix) &&
				    (cp == NULL ||
				     (bits = strtoul(cp, &endp, 10)) !=
					 ULONG_MAX ||
				     errno != ERANGE) &&
				    (cp == NULL || *endp == '\0') &&
				    bits >= 96 && bits <= 128 &&
				    ((val = strtoul(val2, &endp, 10)) !=
					 ULONG_MAX ||
				     errno != ERANGE) &&
				    *endp == '\0' && val <= INT_MAX)
					ok = add_scope(&sl, &ns, &snull,
						       &prefix, bits, val);
			} else if (inet_pton(AF_INET, val1,
					     &prefix.s6_addr32[3]) &&
				   (cp == NULL ||
				    (bits = strtoul(cp, &endp, 10)) !=
					ULONG_MAX ||
				    errno != ERANGE) &&
				   (cp == NULL || *endp == '\0') &&
				   bits <= 32 &&
				   ((val = strtoul(val2, &endp, 10)) !=
					ULONG_MAX ||
				    errno != ERANGE) &&
				   *endp == '\0' && val <= INT_MAX) {
				ok = add_scope(&sl, &ns, &snull, &prefix,
					       bits + 96, val);
			}
		}
	}
	free(line);
	REAL(fclose)(fp);
	if (ok) {
		const struct prefixentry *nlab =
		    build_prefixes(ll, nl, lnull, 1, default_labels);
		const struct prefixentry *nprec =
		    build_prefixes(pl, np, pnull, 40, default_precedence);
		const struct scopeentry *nsc = default_scopes;

		if (ns > 0) {
			struct scopeentry *v;
			size_t i;

			if (!snull)
				ns++;
			v = gr_malloc(ns * sizeof(*v));
			if (v != NULL) {
				struct slist *l = sl;

				i = ns;
				if (!snull) {
					--i;
					v[i].addr32 = 0;
					v[i].netmask = 0;
					v[i].scope = 14;
				}
				while (i-- > 0) {
					v[i] = l->e;
					l = l->next;
				}
				qsort(v, ns, sizeof(*v), scopecmp);
				nsc = v;
			}
		}
		if (nlab != NULL && nprec != NULL) {
			labels = nlab;
			precedence = nprec;
			scopes = nsc;
			gaiconf_mtime = st.st_mtim;
		}
	}
	while (ll) {
		struct plist *x = ll;
		ll = ll->next;
		gr_free(x);
	}
	while (pl) {
		struct plist *x = pl;
		pl = pl->next;
		gr_free(x);
	}
	while (sl) {
		struct slist *x = sl;
		sl = sl->next;
		gr_free(x);
	}
	return;
no_file:
	labels = default_labels;
	precedence = default_precedence;
	scopes = default_scopes;
}

static void gaiconf_reload(void)
{
	struct stat st;

	if (REAL(stat)("/etc/gai.conf", &st) != 0 ||
	    st.st_mtim.tv_sec != gaiconf_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != gaiconf_mtime.tv_nsec)
		gaiconf_init();
}

struct sort_result {
	struct addrinfo *dest_addr;
	struct sockaddr_in6 source_addr;
	uint8_t source_addr_len;
	bool got_source_addr;
	uint8_t source_addr_flags;
	uint8_t prefixlen;
	uint32_t index;
	int32_t native;
};
struct sort_result_combo {
	struct sort_result *results;
	int nresults;
};

static int get_scope(const struct sockaddr_in6 *in6)
{
	if (in6->sin6_family == AF_INET6) {
		if (!IN6_IS_ADDR_MULTICAST(&in6->sin6_addr)) {
			if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ||
			    IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
				return 2;
			if (IN6_IS_ADDR_SITELOCAL(&in6->sin6_addr))
				return 5;
			return 14;
		}
		return in6->sin6_addr.s6_addr[1] & 0xf;
	}
	if (in6->sin6_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)in6;

		for (size_t cnt = 0;; ++cnt)
			if ((in->sin_addr.s_addr & scopes[cnt].netmask) ==
			    scopes[cnt].addr32)
				return scopes[cnt].scope;
	}
	return 15;
}

static int match_prefix(const struct sockaddr_in6 *in6,
			const struct prefixentry *list, int default_val)
{
	struct sockaddr_in6 mem;
	int idx;

	if (in6->sin6_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)in6;

		memset(&mem, 0, sizeof(mem));
		mem.sin6_family = AF_INET6;
		mem.sin6_port = in->sin_port;
		mem.sin6_addr.s6_addr16[5] = 0xffff;
		mem.sin6_addr.s6_addr32[3] = in->sin_addr.s_addr;
		in6 = &mem;
	} else if (in6->sin6_family != AF_INET6) {
		return default_val;
	}
	for (idx = 0;; ++idx) {
		unsigned bits = list[idx].bits;
		const uint8_t *mask = list[idx].prefix.s6_addr;
		const uint8_t *val = in6->sin6_addr.s6_addr;

		while (bits >= 8) {
			if (*mask != *val)
				break;
			++mask;
			++val;
			bits -= 8;
		}
		if (bits < 8 &&
		    (*mask & (0xff00 >> bits)) == (*val & (0xff00 >> bits)))
			break;
	}
	return list[idx].val;
}

static int get_label(const struct sockaddr_in6 *in6)
{
	return match_prefix(in6, labels, INT_MAX);
}

static int get_precedence(const struct sockaddr_in6 *in6)
{
	return match_prefix(in6, precedence, 0);
}

static int fls32(uint32_t a)
{
	int n;

	for (n = 0; n < 32; ++n)
		if (a & (0x80000000u >> n))
			break;
	return n;
}

static int rfc3484_sort(const void *p1, const void *p2, void *arg)
{
	const size_t idx1 = *(const size_t *)p1, idx2 = *(const size_t *)p2;
	struct sort_result_combo *src = arg;
	struct sort_result *a1 = &src->results[idx1], *a2 = &src->results[idx2];
	int a1_dst_scope, a2_dst_scope, a1_prec, a2_prec;

	/* Rule 1: avoid unusable destinations. */
	if (a1->got_source_addr && !a2->got_source_addr)
		return -1;
	if (!a1->got_source_addr && a2->got_source_addr)
		return 1;
	/* Rule 2: prefer matching scope. */
	a1_dst_scope = get_scope((struct sockaddr_in6 *)a1->dest_addr->ai_addr);
	a2_dst_scope = get_scope((struct sockaddr_in6 *)a2->dest_addr->ai_addr);
	if (a1->got_source_addr) {
		int a1_src_scope = get_scope(&a1->source_addr);
		int a2_src_scope = get_scope(&a2->source_addr);

		if (a1_dst_scope == a1_src_scope &&
		    a2_dst_scope != a2_src_scope)
			return -1;
		if (a1_dst_scope != a1_src_scope &&
		    a2_dst_scope == a2_src_scope)
			return 1;
	}
	/* Rule 3: avoid deprecated addresses. */
	if (a1->got_source_addr) {
		if (!(a1->source_addr_flags & IN6AI_DEPRECATED) &&
		    (a2->source_addr_flags & IN6AI_DEPRECATED))
			return -1;
		if ((a1->source_addr_flags & IN6AI_DEPRECATED) &&
		    !(a2->source_addr_flags & IN6AI_DEPRECATED))
			return 1;
	}
	/* Rule 4: prefer home addresses. */
	if (a1->got_source_addr) {
		if (!(a1->source_addr_flags & IN6AI_HOMEADDRESS) &&
		    (a2->source_addr_flags & IN6AI_HOMEADDRESS))
			return 1;
		if ((a1->source_addr_flags & IN6AI_HOMEADDRESS) &&
		    !(a2->source_addr_flags & IN6AI_HOMEADDRESS))
			return -1;
	}
	/* Rule 5: prefer matching label. */
	if (a1->got_source_addr) {
		int a1_dst_label =
		    get_label((struct sockaddr_in6 *)a1->dest_addr->ai_addr);
		int a1_src_label = get_label(&a1->source_addr);
		int a2_dst_label =
		    get_label((struct sockaddr_in6 *)a2->dest_addr->ai_addr);
		int a2_src_label = get_label(&a2->source_addr);

		if (a1_dst_label == a1_src_label &&
		    a2_dst_label != a2_src_label)
			return -1;
		if (a1_dst_label != a1_src_label &&
		    a2_dst_label == a2_src_label)
			return 1;
	}
	/* Rule 6: prefer higher precedence. */
	a1_prec = get_precedence((struct sockaddr_in6 *)a1->dest_addr->ai_addr);
	a2_prec = get_precedence((struct sockaddr_in6 *)a2->dest_addr->ai_addr);
	if (a1_prec > a2_prec)
		return -1;
	if (a1_prec < a2_prec)
		return 1;
	/* Rule 7: prefer native transport. */
	if (a1->got_source_addr && a1->index != a2->index) {
		int a1_native = a1->native, a2_native = a2->native;

		if (a1_native == -1 || a2_native == -1) {
			uint32_t a1_index, a2_index;

			if (a1_native == -1) {
				a1_native = 0;
				a1_index = a1->index;
			} else {
				a1_index = 0xffffffffu;
			}
			if (a2_native == -1) {
				a2_native = 0;
				a2_index = a2->index;
			} else {
				a2_index = 0xffffffffu;
			}
			gr_check_native(a1_index, &a1_native, a2_index,
					&a2_native);
			for (int i = 0; i < src->nresults; ++i)
				if (a1_index != 0xffffffffu &&
				    src->results[i].index == a1_index)
					src->results[i].native = a1_native;
				else if (a2_index != 0xffffffffu &&
					 src->results[i].index == a2_index)
					src->results[i].native = a2_native;
		}
		if (a1_native && !a2_native)
			return -1;
		if (!a1_native && a2_native)
			return 1;
	}
	/* Rule 8: prefer smaller scope. */
	if (a1_dst_scope < a2_dst_scope)
		return -1;
	if (a1_dst_scope > a2_dst_scope)
		return 1;
	/* Rule 9: use longest matching prefix. */
	if (a1->got_source_addr &&
	    a1->dest_addr->ai_family == a2->dest_addr->ai_family) {
		int bit1 = 0, bit2 = 0;

		if (a1->dest_addr->ai_family == AF_INET) {
			const struct sockaddr_in *d1 =
			    (void *)a1->dest_addr->ai_addr;
			const struct sockaddr_in *s1 = (void *)&a1->source_addr;
			const struct sockaddr_in *d2 =
			    (void *)a2->dest_addr->ai_addr;
			const struct sockaddr_in *s2 = (void *)&a2->source_addr;
			in_addr_t d1a = ntohl(d1->sin_addr.s_addr),
				  s1a = ntohl(s1->sin_addr.s_addr);
			in_addr_t d2a = ntohl(d2->sin_addr.s_addr),
				  s2a = ntohl(s2->sin_addr.s_addr);
			/* glibc shifts by 32 for a /0 prefix: x86 keeps the
			 * mask all-ones then, and so do we. */
			in_addr_t m1 = a1->prefixlen
					   ? 0xffffffffu << (32 - a1->prefixlen)
					   : 0xffffffffu;
			in_addr_t m2 = a2->prefixlen
					   ? 0xffffffffu << (32 - a2->prefixlen)
					   : 0xffffffffu;

			if ((s1a & m1) == (d1a & m1))
				bit1 = fls32(d1a ^ s1a);
			if ((s2a & m2) == (d2a & m2))
				bit2 = fls32(d2a ^ s2a);
		} else if (a1->dest_addr->ai_family == AF_INET6) {
			const struct sockaddr_in6 *d1 =
			    (void *)a1->dest_addr->ai_addr;
			const struct sockaddr_in6 *s1 = &a1->source_addr;
			const struct sockaddr_in6 *d2 =
			    (void *)a2->dest_addr->ai_addr;
			const struct sockaddr_in6 *s2 = &a2->source_addr;
			int i;

			for (i = 0; i < 4; ++i)
				if (d1->sin6_addr.s6_addr32[i] !=
					s1->sin6_addr.s6_addr32[i] ||
				    d2->sin6_addr.s6_addr32[i] !=
					s2->sin6_addr.s6_addr32[i])
					break;
			if (i < 4) {
				bit1 = fls32(ntohl(d1->sin6_addr.s6_addr32[i] ^
						   s1->sin6_addr.s6_addr32[i]));
				bit2 = fls32(ntohl(d2->sin6_addr.s6_addr32[i] ^
						   s2->sin6_addr.s6_addr32[i]));
			}
		}
		if (bit1 > bit2)
			return -1;
		if (bit1 < bit2)
			return 1;
	}
	/* Rule 10: leave the order unchanged. */
	return idx1 < idx2 ? -1 : 1;
}

static int in6aicmp(const void *p1, const void *p2)
{
	return memcmp(((const struct in6ai *)p1)->addr,
		      ((const struct in6ai *)p2)->addr, 16);
}

static bool try_connect(int *fdp, int *afp, struct sockaddr_in6 *src,
			const struct sockaddr *addr, socklen_t addrlen,
			int family)
{
	int fd = *fdp, af = *afp;
	socklen_t sl = sizeof(*src);

	for (;;) {
		if (fd != -1 && REAL(connect)(fd, addr, addrlen) == 0 &&
		    getsockname(fd, (struct sockaddr *)src, &sl) == 0)
			return true;
		if (errno == EAFNOSUPPORT && af == AF_INET6 &&
		    family == AF_INET) {
			if (fd != -1)
				REAL(close)(fd);
			*afp = af = AF_INET;
			*fdp = fd = REAL(socket)(
			    AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
			continue;
		}
		return false;
	}
}

/* Sort the list p of nresults entries (getaddrinfo's tail). */
static struct addrinfo *sort_results(struct addrinfo *p, int nresults,
				     struct in6ai *in6ai, size_t in6ailen,
				     bool check_pf_called)
{
	struct sort_result *results;
	size_t *order;
	struct addrinfo *q, *last = NULL;
	char *canonname = NULL;
	bool seen4, seen6;
	int fd = -1, af = AF_UNSPEC, i;
	struct sort_result_combo src;

	REAL(pthread_once)(&gaiconf_once, gaiconf_init);
	results = gr_malloc(nresults * (sizeof(*results) + sizeof(size_t)));
	if (results == NULL)
		return NULL;
	order = (size_t *)(results + nresults);
	if (!check_pf_called)
		gr_check_pf(&seen4, &seen6, &in6ai, &in6ailen);
	if (in6ai != NULL)
		qsort(in6ai, in6ailen, sizeof(*in6ai), in6aicmp);

	for (i = 0, q = p; q != NULL; ++i, last = q, q = q->ai_next) {
		results[i].dest_addr = q;
		results[i].native = -1;
		order[i] = i;
		if (last != NULL && last->ai_addrlen == q->ai_addrlen &&
		    memcmp(last->ai_addr, q->ai_addr, q->ai_addrlen) == 0) {
			memcpy(&results[i].source_addr,
			       &results[i - 1].source_addr,
			       results[i - 1].source_addr_len);
			results[i].source_addr_len =
			    results[i - 1].source_addr_len;
			results[i].got_source_addr =
			    results[i - 1].got_source_addr;
			results[i].source_addr_flags =
			    results[i - 1].source_addr_flags;
			results[i].prefixlen = results[i - 1].prefixlen;
			results[i].index = results[i - 1].index;
		} else {
			results[i].got_source_addr = false;
			results[i].source_addr_flags = 0;
			results[i].prefixlen = 0;
			results[i].index = 0xffffffffu;
			if (fd == -1 ||
			    (af == AF_INET && q->ai_family == AF_INET6)) {
				if (fd != -1)
					REAL(close)(fd);
				af = q->ai_family;
				fd = REAL(socket)(af, SOCK_DGRAM | SOCK_CLOEXEC,
						  IPPROTO_IP);
			} else {
				struct sockaddr sa = {.sa_family = AF_UNSPEC};

				REAL(connect)(fd, &sa, sizeof(sa));
			}
			if (try_connect(&fd, &af, &results[i].source_addr,
					q->ai_addr, q->ai_addrlen,
					q->ai_family)) {
				results[i].source_addr_len =
				    sizeof(results[i].source_addr);
				results[i].got_source_addr = true;
				if (in6ai != NULL) {
					struct in6ai tmp, *found;

					memset(&tmp, 0, sizeof(tmp));
					if (q->ai_family == AF_INET &&
					    af == AF_INET) {
						struct sockaddr_in *sinp =
						    (void *)&results[i]
							.source_addr;

						tmp.addr[2] = htonl(0xffff);
						if ((ntohl(sinp->sin_addr
							       .s_addr) &
						     0xff000000) == 0x7f000000)
							tmp.addr[3] =
							    htonl(0x7f000001);
						else
							tmp.addr[3] =
							    sinp->sin_addr
								.s_addr;
					} else {
						memcpy(
						    tmp.addr,
						    &results[i]
							 .source_addr.sin6_addr,
						    16);
					}
					found =
					    bsearch(&tmp, in6ai, in6ailen,
						    sizeof(*in6ai), in6aicmp);
					if (found != NULL) {
						results[i].source_addr_flags =
						    found->flags;
						results[i].prefixlen =
						    found->prefixlen;
						results[i].index = found->index;
					}
				}
				if (q->ai_family == AF_INET && af == AF_INET6) {
					struct sockaddr_in6 *s6 =
					    &results[i].source_addr;
					struct sockaddr_in *s4 = (void *)s6;
					struct in_addr a4;

					memcpy(&a4, &s6->sin6_addr.s6_addr32[3],
					       4);
					s4->sin_family = AF_INET;
					s4->sin_addr = a4;
					results[i].source_addr_len =
					    sizeof(struct sockaddr_in);
				}
			} else {
				results[i].source_addr_len = 0;
			}
		}
		if (q->ai_canonname != NULL) {
			canonname = q->ai_canonname;
			q->ai_canonname = NULL;
		}
	}
	if (fd != -1)
		REAL(close)(fd);

	src.results = results;
	src.nresults = nresults;
	if (gaiconf_reload_ever) {
		REAL(pthread_mutex_lock)(&gaiconf_lock);
		if (gaiconf_reload_flag)
			gaiconf_reload();
		qsort_r(order, nresults, sizeof(order[0]), rfc3484_sort, &src);
		REAL(pthread_mutex_unlock)(&gaiconf_lock);
	} else {
		qsort_r(order, nresults, sizeof(order[0]), rfc3484_sort, &src);
	}
	q = p = results[order[0]].dest_addr;
	for (i = 1; i < nresults; ++i)
		q = q->ai_next = results[order[i]].dest_addr;
	q->ai_next = NULL;
	p->ai_canonname = canonname;
	gr_free(results);
	if (!check_pf_called)
		gr_free(in6ai);
	return p;
}

/* ===== getaddrinfo (sysdeps/posix/getaddrinfo.c) ======================== */

struct gaih_service {
	const char *name;
	int num;
};
struct gaih_servtuple {
	int socktype, protocol, port;
	bool set;
};
struct gaih_typeproto {
	int socktype, protocol;
	uint8_t protoflag;
	bool defaultflag;
	char name[8];
};
#define GAI_PROTO_NOSERVICE 1
#define GAI_PROTO_PROTOANY  2

static const struct gaih_typeproto gaih_inet_typeproto[] = {
    {0, 0, 0, false, ""},
    {SOCK_STREAM, IPPROTO_TCP, 0, true, "tcp"},
    {SOCK_DGRAM, IPPROTO_UDP, 0, true, "udp"},
    {SOCK_DCCP, IPPROTO_DCCP, 0, false, "dccp"},
    {SOCK_DGRAM, IPPROTO_UDPLITE, 0, false, "udplite"},
    {SOCK_STREAM, IPPROTO_SCTP, 0, false, "sctp"},
    {SOCK_SEQPACKET, IPPROTO_SCTP, 0, false, "sctp"},
    {SOCK_RAW, 0, GAI_PROTO_PROTOANY | GAI_PROTO_NOSERVICE, true, "raw"},
    {0, 0, 0, false, ""},
};
#define NTP (sizeof(gaih_inet_typeproto) / sizeof(gaih_inet_typeproto[0]))

struct gaih_result {
	struct gaih_addrtuple *at; /* malloc'd chain (one block) */
	char *canon;
	bool got_ipv6;
};

static int gaih_inet_serv(const char *servicename,
			  const struct gaih_typeproto *tp,
			  const struct addrinfo *req, struct gaih_servtuple *st,
			  struct scratch *tmp)
{
	struct servent ts, *s;
	int r;

	do {
		gr_nopark_enter();
		r = REAL(getservbyname_r)(servicename, tp->name, &ts, tmp->data,
					  tmp->length, &s);
		gr_nopark_leave();
		if (r != 0 || s == NULL) {
			if (r == ERANGE) {
				if (!gr_scratch_grow(tmp))
					return -EAI_MEMORY;
			} else {
				return -EAI_SERVICE;
			}
		}
	} while (r);
	st->socktype = tp->socktype;
	st->protocol = (tp->protoflag & GAI_PROTO_PROTOANY) ? req->ai_protocol
							    : tp->protocol;
	st->port = s->s_port;
	st->set = true;
	return 0;
}

static int get_servtuples(const struct gaih_service *service,
			  const struct addrinfo *req, struct gaih_servtuple *st,
			  struct scratch *tmp)
{
	const struct gaih_typeproto *tp = gaih_inet_typeproto;
	int i;

	if (req->ai_protocol || req->ai_socktype) {
		++tp;
		while (tp->name[0] && ((req->ai_socktype != 0 &&
					req->ai_socktype != tp->socktype) ||
				       (req->ai_protocol != 0 &&
					!(tp->protoflag & GAI_PROTO_PROTOANY) &&
					req->ai_protocol != tp->protocol)))
			++tp;
		if (!tp->name[0])
			return req->ai_socktype ? -EAI_SOCKTYPE : -EAI_SERVICE;
	}
	if (service != NULL && (tp->protoflag & GAI_PROTO_NOSERVICE))
		return -EAI_SERVICE;
	if (service == NULL || service->num >= 0) {
		int port = service != NULL ? htons(service->num) : 0;

		if (req->ai_socktype || req->ai_protocol) {
			st[0].socktype = tp->socktype;
			st[0].protocol = (tp->protoflag & GAI_PROTO_PROTOANY)
					     ? req->ai_protocol
					     : tp->protocol;
			st[0].port = port;
			st[0].set = true;
			return 0;
		}
		for (i = 0, ++tp; tp->name[0]; ++tp)
			if (tp->defaultflag) {
				st[i].socktype = tp->socktype;
				st[i].protocol = tp->protocol;
				st[i].port = port;
				st[i++].set = true;
			}
		return 0;
	}
	if (tp->name[0])
		return gaih_inet_serv(service->name, tp, req, st, tmp);
	for (i = 0, tp++; tp->name[0]; tp++) {
		if (tp->protoflag & GAI_PROTO_NOSERVICE)
			continue;
		if (req->ai_socktype != 0 && req->ai_socktype != tp->socktype)
			continue;
		if (req->ai_protocol != 0 &&
		    !(tp->protoflag & GAI_PROTO_PROTOANY) &&
		    req->ai_protocol != tp->protocol)
			continue;
		if (gaih_inet_serv(service->name, tp, req, &st[i], tmp) != 0)
			continue;
		i++;
	}
	if (!st[0].set)
		return -EAI_SERVICE;
	return 0;
}

/* inet_aton, all of the string (glibc's __inet_aton_exact): the number,
 * a.b, a.b.c and a.b.c.d forms, each part decimal, 0-octal or 0x-hex. */
static int inet_aton_exact(const char *cp, struct in_addr *addr)
{
	uint32_t parts[4], val;
	int n = 0;

	for (;;) {
		unsigned long long v = 0;
		int base = 10, digits = 0;

		if (!isdigit((unsigned char)*cp))
			return 0;
		if (*cp == '0') {
			base = 8;
			cp++;
			digits = 1;
			if (*cp == 'x' || *cp == 'X') {
				base = 16;
				cp++;
				digits = 0;
			}
		}
		for (;; cp++) {
			int c = (unsigned char)*cp, d;

			if (isdigit(c) && (base != 8 || c < '8'))
				d = c - '0';
			else if (base == 8 && isdigit(c))
				return 0; /* 8 or 9 in an octal part */
			else if (base == 16 && isxdigit(c))
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			v = v * base + d;
			digits++;
			if (v > 0xffffffffULL)
				return 0;
		}
		if (!digits)
			return 0;
		if (*cp == '.') {
			if (n == 3 || v > 0xff)
				return 0;
			parts[n++] = v;
			cp++;
			continue;
		}
		parts[n++] = v;
		break;
	}
	if (*cp != '\0')
		return 0;
	val = parts[n - 1];
	switch (n) {
	case 2:
		if (val > 0xffffff)
			return 0;
		val |= parts[0] << 24;
		break;
	case 3:
		if (val > 0xffff)
			return 0;
		val |= (parts[0] << 24) | (parts[1] << 16);
		break;
	case 4:
		if (val > 0xff)
			return 0;
		val |= (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8);
		break;
	}
	if (addr)
		addr->s_addr = htonl(val);
	return 1;
}

/* __inet6_scopeid_pton. */
static int scopeid_pton(const struct in6_addr *a, const char *scope,
			uint32_t *result)
{
	if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_NODELOCAL(a) ||
	    IN6_IS_ADDR_MC_LINKLOCAL(a)) {
		uint32_t number = if_nametoindex(scope);

		if (number != 0) {
			*result = number;
			return 0;
		}
	}
	if (scope[0] >= '0' && scope[0] <= '9') {
		char *end;
		unsigned long long number = strtoull(scope, &end, 10);

		if (*end == '\0' && number <= UINT32_MAX) {
			*result = number;
			return 0;
		}
	}
	return -1;
}

static struct gaih_addrtuple *tuple_new(struct gaih_result *res)
{
	struct gaih_addrtuple *t = gr_calloc(1, sizeof(*t));

	if (t != NULL)
		res->at = t;
	return t;
}

/* Numeric names.  0 with res->at set: converted; 0 with res->at NULL: not
 * numeric; < 0: an EAI error. */
static int text_to_binary_address(const char *name, const struct addrinfo *req,
				  struct gaih_result *res)
{
	struct gaih_addrtuple at;
	struct in_addr a4;
	const char *scope_delim;
	int e;

	memset(&at, 0, sizeof(at));
	res->at = NULL;
	if (inet_aton_exact(name, &a4)) {
		/* memcpy: at.addr is uint32_t[], not a struct in_addr. */
		memcpy(at.addr, &a4, sizeof(a4));
		if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET) {
			at.family = AF_INET;
		} else if (req->ai_family == AF_INET6 &&
			   (req->ai_flags & AI_V4MAPPED)) {
			at.addr[3] = at.addr[0];
			at.addr[2] = htonl(0xffff);
			at.addr[1] = 0;
			at.addr[0] = 0;
			at.family = AF_INET6;
		} else {
			return -EAI_ADDRFAMILY;
		}
		goto found;
	}
	scope_delim = strchr(name, '%');
	if (scope_delim == NULL) {
		e = inet_pton(AF_INET6, name, at.addr);
	} else {
		char tmp[INET6_ADDRSTRLEN + 1];
		size_t len = scope_delim - name;

		e = 0;
		if (len < sizeof(tmp)) {
			memcpy(tmp, name, len);
			tmp[len] = '\0';
			e = inet_pton(AF_INET6, tmp, at.addr);
		}
	}
	if (e <= 0)
		return (req->ai_flags & AI_NUMERICHOST) ? -EAI_NONAME : 0;
	if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET6) {
		at.family = AF_INET6;
	} else if (req->ai_family == AF_INET &&
		   IN6_IS_ADDR_V4MAPPED((struct in6_addr *)at.addr)) {
		at.addr[0] = at.addr[3];
		at.family = AF_INET;
	} else {
		return -EAI_ADDRFAMILY;
	}
	if (scope_delim != NULL &&
	    scopeid_pton((struct in6_addr *)at.addr, scope_delim + 1,
			 &at.scopeid) != 0)
		return -EAI_NONAME;
found:
	if (req->ai_flags & AI_CANONNAME) {
		res->canon = strdup(name);
		if (res->canon == NULL)
			return -EAI_MEMORY;
	}
	if (tuple_new(res) == NULL)
		return -EAI_MEMORY;
	*res->at = at;
	return 0;
}

/* Append a hostent's addresses (convert_hostent_to_gaih_addrtuple). */
static bool convert_hostent(const struct addrinfo *req, int family,
			    struct hostent *h, struct gaih_result *res)
{
	size_t count = 0, old = 0;
	struct gaih_addrtuple *array;

	for (char **p = h->h_addr_list; *p != NULL; ++p)
		++count;
	if (count == 0 ||
	    h->h_length > (int)sizeof(((struct gaih_addrtuple){0}).addr))
		return true;
	for (array = res->at; array != NULL; array = array->next)
		old++;
	array = gr_realloc(res->at, (old + count) * sizeof(*array));
	if (array == NULL)
		return false;
	/* glibc 2.36's gethosts: got_ipv6 once an AF_INET6 lookup had
	 * addresses. */
	if (family == AF_INET6)
		res->got_ipv6 = true;
	res->at = array;
	for (size_t i = 0; i < old; i++)
		array[i].next = array + i + 1;
	array += old;
	memset(array, 0, count * sizeof(*array));
	for (size_t i = 0; i < count; ++i) {
		if (family == AF_INET && req->ai_family == AF_INET6) {
			array[i].family = AF_INET6;
			memcpy(array[i].addr + 3, h->h_addr_list[i], 4);
			array[i].addr[2] = htonl(0xffff);
		} else {
			array[i].family = family;
			memcpy(array[i].addr, h->h_addr_list[i], h->h_length);
		}
		array[i].next = array + i + 1;
	}
	array[count - 1].next = NULL;
	/* The names point into the module's buffer: not kept. */
	return true;
}

/* AF_INET without AI_CANONNAME: the plain gethostbyname2_r path. */
static int try_simple_gethostbyname(const char *name,
				    const struct addrinfo *req,
				    struct scratch *tmp,
				    struct gaih_result *res)
{
	struct hostent th, *h;
	int rc, herr;

	res->at = NULL;
	if (req->ai_family != AF_INET || (req->ai_flags & AI_CANONNAME))
		return 0;
	for (;;) {
		rc = gr_gai_gethostbyname2_r(name, AF_INET, &th, tmp->data,
					     tmp->length, &h, &herr);
		if (rc != ERANGE || herr != NETDB_INTERNAL)
			break;
		if (!gr_scratch_grow(tmp))
			return -EAI_MEMORY;
	}
	if (rc == 0) {
		if (h != NULL) {
			if (!convert_hostent(req, AF_INET, h, res))
				return -EAI_MEMORY;
			return res->at != NULL ? 0 : -EAI_NONAME;
		}
		if (herr == NO_DATA)
			return -EAI_NODATA;
		return -EAI_NONAME;
	}
	if (herr == NETDB_INTERNAL)
		return -EAI_SYSTEM;
	if (herr == TRY_AGAIN)
		return -EAI_AGAIN;
	return -EAI_NODATA;
}

static void local_addresses(const struct addrinfo *req, struct gaih_result *res)
{
	struct gaih_addrtuple *a = gr_calloc(2, sizeof(*a)), *atr = a;

	if (a == NULL)
		return;
	res->at = a;
	if (req->ai_family == AF_UNSPEC)
		a->next = a + 1;
	if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET6) {
		a->family = AF_INET6;
		if (!(req->ai_flags & AI_PASSIVE))
			memcpy(a->addr, &in6addr_loopback, 16);
		atr = a->next;
	}
	if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET) {
		atr->family = AF_INET;
		if (!(req->ai_flags & AI_PASSIVE))
			atr->addr[0] = htonl(INADDR_LOOPBACK);
	}
}

/* One family through gethostbyname3_r, or gethostbyname2_r when the
 * canonical name is not wanted (glibc calls the latter through a
 * gethostbyname3_r pointer; its extra arguments are ignored). */
static int gethosts(const struct hosts_module *m, bool use3, int family,
		    const char *name, const struct addrinfo *req,
		    struct scratch *tmp, struct gaih_result *res,
		    enum nss_status *statusp, int *no_datap, int *herrp)
{
	bool files = m == &gr_nss_files;
	struct hostent th;
	char *localcanon = NULL;
	enum nss_status status;

	*no_datap = 0;
	for (;;) {
		nopark_enter_if(files);
		if (use3)
			status = m->byname3(name, family, &th, tmp->data,
					    tmp->length, &errno, herrp, NULL,
					    &localcanon);
		else
			status = m->byname2(name, family, &th, tmp->data,
					    tmp->length, &errno, herrp);
		nopark_leave_if(files);
		*statusp = status;
		if (status != NSS_STATUS_TRYAGAIN || *herrp != NETDB_INTERNAL ||
		    errno != ERANGE)
			break;
		if (!gr_scratch_grow(tmp))
			return -EAI_MEMORY;
	}
	if (status == NSS_STATUS_NOTFOUND || status == NSS_STATUS_TRYAGAIN ||
	    status == NSS_STATUS_UNAVAIL) {
		if (*herrp == NETDB_INTERNAL)
			return -EAI_SYSTEM;
		if (*herrp == TRY_AGAIN)
			*no_datap = EAI_AGAIN;
		else
			*no_datap = *herrp == NO_DATA;
	} else if (status == NSS_STATUS_SUCCESS) {
		if (!convert_hostent(req, family, &th, res))
			return -EAI_MEMORY;
		if (localcanon != NULL && res->canon == NULL) {
			res->canon = strdup(localcanon);
			if (res->canon == NULL)
				return -EAI_MEMORY;
		}
	}
	return 0;
}

static void res_reset(struct gaih_result *res)
{
	gr_free(res->at);
	free(res->canon);
	memset(res, 0, sizeof(*res));
}

/* Copy a module's tuple chain (which lives in the scratch buffer) into
 * one malloc'd block, keeping only the entries getaddrinfo keeps. */
static int keep_tuples(struct gaih_addrtuple *in, const struct addrinfo *req,
		       struct gaih_result *res, int *no_data)
{
	size_t n = 0, k = 0;
	struct gaih_addrtuple *v;

	for (struct gaih_addrtuple *p = in; p; p = p->next)
		n++;
	v = gr_calloc(n ? n : 1, sizeof(*v));
	if (v == NULL)
		return -EAI_MEMORY;
	for (struct gaih_addrtuple *p = in; p; p = p->next) {
		if (p->family == AF_INET && req->ai_family == AF_INET6 &&
		    (req->ai_flags & AI_V4MAPPED)) {
			v[k] = *p;
			v[k].family = AF_INET6;
			v[k].addr[3] = p->addr[0];
			v[k].addr[2] = htonl(0xffff);
			v[k].addr[1] = 0;
			v[k].addr[0] = 0;
			k++;
			*no_data = 0;
		} else if (req->ai_family == AF_UNSPEC ||
			   p->family == req->ai_family) {
			v[k++] = *p;
			*no_data = 0;
			if (req->ai_family == AF_INET6)
				res->got_ipv6 = true;
		}
	}
	for (size_t i = 0; i < k; i++) {
		v[i].name = NULL;
		v[i].next = i + 1 < k ? &v[i + 1] : NULL;
	}
	if (k == 0) {
		gr_free(v);
		v = NULL;
	}
	res->at = v;
	return 0;
}

static int get_nss_addresses(const char *name, const struct addrinfo *req,
			     struct scratch *tmp, struct gaih_result *res,
			     int *herrp)
{
	enum nss_status inet6_status = NSS_STATUS_UNAVAIL;
	enum nss_status status = NSS_STATUS_UNAVAIL;
	int no_data = 0, no_inet6_data = 0, result = 0;
	struct hosts_conf hc;

	gr_hosts_conf(&hc);
	*herrp = 0;
	if (!gr_resolv_context())
		hc.n = 0;
	for (int i = 0; i < hc.n; i++) {
		const struct hosts_module *m = hc.svc[i].m;
		bool files = m == &gr_nss_files;

		res_reset(res);
		no_data = 0;
		if (req->ai_family == AF_UNSPEC && m->byname4 != NULL) {
			struct gaih_addrtuple *pat = NULL;

			for (;;) {
				pat = NULL;
				nopark_enter_if(files);
				status = m->byname4(name, &pat, tmp->data,
						    tmp->length, &errno, herrp,
						    NULL);
				nopark_leave_if(files);
				if (status == NSS_STATUS_SUCCESS)
					break;
				if (status != NSS_STATUS_TRYAGAIN ||
				    errno != ERANGE ||
				    *herrp != NETDB_INTERNAL) {
					if (*herrp == TRY_AGAIN)
						no_data = EAI_AGAIN;
					else
						no_data = *herrp == NO_DATA;
					break;
				}
				if (!gr_scratch_grow(tmp))
					return -EAI_MEMORY;
			}
			if (status == NSS_STATUS_SUCCESS) {
				no_data = 1;
				if ((req->ai_flags & AI_CANONNAME) &&
				    res->canon == NULL && pat != NULL &&
				    pat->name != NULL) {
					res->canon = strdup(pat->name);
					if (res->canon == NULL)
						return -EAI_MEMORY;
				}
				if ((result = keep_tuples(pat, req, res,
							  &no_data)) != 0)
					return result;
			}
			no_inet6_data = no_data;
		} else {
			bool use3 =
			    (req->ai_flags & AI_CANONNAME) && m->byname3;
			if (req->ai_family == AF_INET6 ||
			    req->ai_family == AF_UNSPEC) {
				if ((result = gethosts(m, use3, AF_INET6, name,
						       req, tmp, res, &status,
						       &no_data, herrp)) != 0)
					goto out;
				no_inet6_data = no_data;
				inet6_status = status;
			}
			if (req->ai_family == AF_INET ||
			    req->ai_family == AF_UNSPEC ||
			    (req->ai_family == AF_INET6 &&
			     (req->ai_flags & AI_V4MAPPED) &&
			     ((req->ai_flags & AI_ALL) || !res->got_ipv6))) {
				if ((result = gethosts(m, use3, AF_INET, name,
						       req, tmp, res, &status,
						       &no_data, herrp)) != 0)
					goto out;
				if (req->ai_family == AF_INET) {
					no_inet6_data = no_data;
					inet6_status = status;
				}
			}
			if (inet6_status == NSS_STATUS_SUCCESS ||
			    status == NSS_STATUS_SUCCESS) {
				/* Both modules give gethostbyname3_r's
				 * canonical name, so glibc's getcanonname()
				 * fallback is not reached here. */
				if ((req->ai_flags & AI_CANONNAME) &&
				    res->canon == NULL) {
					res->canon = strdup(name);
					if (res->canon == NULL)
						return -EAI_MEMORY;
				}
				status = NSS_STATUS_SUCCESS;
			} else {
				if (inet6_status == NSS_STATUS_TRYAGAIN)
					status = NSS_STATUS_TRYAGAIN;
				else if (status == NSS_STATUS_UNAVAIL &&
					 inet6_status != NSS_STATUS_UNAVAIL)
					status = inet6_status;
			}
		}
		if (gr_dns_canceled)
			break;
		if (gr_nss_next_action(&hc.svc[i], status) == ACT_RETURN)
			break;
	}
	if ((status == NSS_STATUS_TRYAGAIN || status == NSS_STATUS_UNAVAIL) &&
	    *herrp == NETDB_INTERNAL) {
		result = -EAI_SYSTEM;
		goto out;
	}
	if (no_data != 0 && no_inet6_data != 0) {
		if (no_data == EAI_AGAIN && no_inet6_data == EAI_AGAIN)
			result = -EAI_AGAIN;
		else
			result = -EAI_NODATA;
	}
out:
	if (result != 0)
		res_reset(res);
	return result;
}

static int generate_addrinfo(const struct addrinfo *req,
			     struct gaih_result *res,
			     const struct gaih_servtuple *st,
			     struct addrinfo **pai, unsigned *naddrs)
{
	for (struct gaih_addrtuple *at = res->at; at != NULL; at = at->next) {
		int family = at->family;
		size_t socklen;

		if (family == AF_INET6) {
			socklen = sizeof(struct sockaddr_in6);
			if (res->got_ipv6 &&
			    (req->ai_flags & (AI_V4MAPPED | AI_ALL)) ==
				AI_V4MAPPED &&
			    IN6_IS_ADDR_V4MAPPED((struct in6_addr *)at->addr))
				continue;
		} else {
			socklen = sizeof(struct sockaddr_in);
		}
		for (int i = 0; st[i].set; i++) {
			struct addrinfo *ai = *pai =
			    malloc(sizeof(struct addrinfo) + socklen);

			if (ai == NULL)
				return -EAI_MEMORY;
			ai->ai_flags = req->ai_flags;
			ai->ai_family = family;
			ai->ai_socktype = st[i].socktype;
			ai->ai_protocol = st[i].protocol;
			ai->ai_addrlen = socklen;
			ai->ai_addr = (void *)(ai + 1);
			ai->ai_canonname = res->canon;
			res->canon = NULL;
			ai->ai_next = NULL;
			if (family == AF_INET6) {
				struct sockaddr_in6 *s = (void *)ai->ai_addr;

				s->sin6_family = AF_INET6;
				s->sin6_port = st[i].port;
				s->sin6_flowinfo = 0;
				memcpy(&s->sin6_addr, at->addr, 16);
				s->sin6_scope_id = at->scopeid;
			} else {
				struct sockaddr_in *s = (void *)ai->ai_addr;

				s->sin_family = AF_INET;
				s->sin_port = st[i].port;
				memcpy(&s->sin_addr, at->addr, 4);
				memset(s->sin_zero, 0, sizeof(s->sin_zero));
			}
			pai = &ai->ai_next;
		}
		++*naddrs;
	}
	return 0;
}

static int gaih_inet(const char *name, const struct gaih_service *service,
		     const struct addrinfo *req, struct addrinfo **pai,
		     unsigned *naddrs, struct scratch *tmp)
{
	struct gaih_servtuple st[NTP];
	struct gaih_result res = {0};
	const char *orig_name = name;
	int result, herr;

	memset(st, 0, sizeof(st));
	if ((result = get_servtuples(service, req, st, tmp)) != 0)
		return result;
	if (name == NULL) {
		local_addresses(req, &res);
		if (res.at == NULL)
			return -EAI_MEMORY;
		goto process_list;
	}
	if ((result = text_to_binary_address(name, req, &res)) != 0)
		goto free_and_return;
	if (res.at != NULL)
		goto process_list;
	if ((result = try_simple_gethostbyname(name, req, tmp, &res)) != 0)
		goto free_and_return;
	if (res.at != NULL)
		goto process_list;
	if ((result = get_nss_addresses(name, req, tmp, &res, &herr)) != 0)
		goto free_and_return;
	if (res.at != NULL)
		goto process_list;
	result = -EAI_NONAME;
	goto free_and_return;
process_list:
	if ((req->ai_flags & AI_CANONNAME) && res.canon == NULL &&
	    (res.canon = strdup(orig_name)) == NULL) {
		result = -EAI_MEMORY;
		goto free_and_return;
	}
	result = generate_addrinfo(req, &res, st, pai, naddrs);
free_and_return:
	gr_free(res.at);
	free(res.canon);
	return result;
}

static void gr_gai_freeaddrinfo(struct addrinfo *ai)
{
	while (ai != NULL) {
		struct addrinfo *p = ai;

		ai = ai->ai_next;
		free(p->ai_canonname);
		free(p);
	}
}

int gr_gai_getaddrinfo(const char *name, const char *service,
		       const struct addrinfo *hints, struct addrinfo **pai)
{
	static const struct addrinfo default_hints = {
	    .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG,
	    .ai_family = AF_UNSPEC,
	};
	struct addrinfo local_hints, *p = NULL, **end = &p;
	struct gaih_service gs, *ps = NULL;
	struct in6ai *in6ai = NULL;
	size_t in6ailen = 0;
	bool seen4 = false, seen6 = false, check_pf_called = false;
	unsigned naddrs = 0;
	struct scratch tmp;
	int last_i, nresults = 0;

	if (name != NULL && name[0] == '*' && name[1] == 0)
		name = NULL;
	if (service != NULL && service[0] == '*' && service[1] == 0)
		service = NULL;
	if (name == NULL && service == NULL)
		return EAI_NONAME;
	if (hints == NULL)
		hints = &default_hints;
	if (hints->ai_flags & ~(AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST |
				AI_ADDRCONFIG | AI_V4MAPPED | AI_IDN |
				AI_CANONIDN | 0x300 | AI_NUMERICSERV | AI_ALL))
		return EAI_BADFLAGS;
	if ((hints->ai_flags & AI_CANONNAME) && name == NULL)
		return EAI_BADFLAGS;
	if (hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
	    hints->ai_family != AF_INET6)
		return EAI_FAMILY;
	if (hints->ai_flags & AI_ADDRCONFIG) {
		gr_check_pf(&seen4, &seen6, &in6ai, &in6ailen);
		check_pf_called = true;
		if (hints->ai_family == AF_UNSPEC && (seen4 || seen6)) {
			if (seen4 != seen6) {
				local_hints = *hints;
				local_hints.ai_family =
				    seen4 ? AF_INET : AF_INET6;
				hints = &local_hints;
			}
		} else if ((hints->ai_family == AF_INET && !seen4) ||
			   (hints->ai_family == AF_INET6 && !seen6)) {
			gr_free(in6ai);
			return EAI_NONAME;
		}
	}
	if (service && service[0]) {
		char *c;

		gs.name = service;
		gs.num = strtoul(service, &c, 10);
		if (*c != '\0') {
			if (hints->ai_flags & AI_NUMERICSERV) {
				gr_free(in6ai);
				return EAI_NONAME;
			}
			gs.num = -1;
		}
		ps = &gs;
	}
	tmp.length = 1024;
	tmp.data = gr_malloc(tmp.length);
	if (tmp.data == NULL) {
		gr_free(in6ai);
		return EAI_MEMORY;
	}
	last_i = gaih_inet(name, ps, hints, end, &naddrs, &tmp);
	gr_free(tmp.data);
	if (last_i != 0) {
		gr_gai_freeaddrinfo(p);
		gr_free(in6ai);
		return -last_i;
	}
	while (*end) {
		end = &(*end)->ai_next;
		++nresults;
	}
	if (naddrs > 1) {
		struct addrinfo *s =
		    sort_results(p, nresults, in6ai, in6ailen, check_pf_called);

		if (s == NULL) {
			gr_gai_freeaddrinfo(p);
			gr_free(in6ai);
			return EAI_MEMORY;
		}
		p = s;
	}
	gr_free(in6ai);
	if (p) {
		*pai = p;
		return 0;
	}
	return last_i ? -last_i : EAI_NONAME;
}

bool gr_scratch_grow(struct scratch *s)
{
	size_t n = s->length * 2;
	char *d = gr_malloc(n);

	if (d == NULL)
		return false;
	gr_free(s->data);
	s->data = d;
	s->length = n;
	return true;
}
