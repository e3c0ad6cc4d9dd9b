/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_pf.c — the kernel's address list by netlink, as glibc 2.36's
 * sysdeps/unix/sysv/linux/check_pf.c and check_native.c: what
 * AI_ADDRCONFIG and the RFC 3484 sort need to know.
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

/* All local addresses by netlink, as __check_pf lists them.  *seen4 and
 * *seen6: an address other than the loopback one exists. */
void gr_check_pf(bool *seen4, bool *seen6, struct in6ai **out, size_t *outlen)
{
	struct {
		struct nlmsghdr nlh;
		struct rtgenmsg g;
		char pad[3];
	} req;
	struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};
	struct in6ai *v = NULL;
	size_t n = 0, cap = 0;
	char buf[8192];
	bool done = false;
	int fd, rounds = 0;

	*seen4 = *seen6 = false;
	*out = NULL;
	*outlen = 0;
	fd = REAL(socket)(PF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		/* glibc then assumes both. */
		*seen4 = *seen6 = true;
		return;
	}
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = RTM_GETADDR;
	req.nlh.nlmsg_flags = NLM_F_ROOT | NLM_F_MATCH | NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 1;
	req.g.rtgen_family = AF_UNSPEC;
	if (REAL(sendto)(fd, &req, sizeof(req), 0, (struct sockaddr *)&nladdr,
			 sizeof(nladdr)) < 0)
		goto fail;
	while (!done && rounds++ < 10000) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr msg = {.msg_name = &nladdr,
				     .msg_namelen = sizeof(nladdr),
				     .msg_iov = &iov,
				     .msg_iovlen = 1};
		ssize_t len = REAL(recvmsg)(fd, &msg, 0);
		struct nlmsghdr *nlh;

		if (len < 0)
			goto fail;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			struct ifaddrmsg *ifam;
			struct rtattr *rta;
			size_t alen;
			const void *local = NULL, *address = NULL;

			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR)
				goto fail;
			if (nlh->nlmsg_type != RTM_NEWADDR)
				continue;
			ifam = NLMSG_DATA(nlh);
			if (ifam->ifa_family != AF_INET &&
			    ifam->ifa_family != AF_INET6)
				continue;
			rta = IFA_RTA(ifam);
			alen = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifam));
			while (RTA_OK(rta, alen)) {
				if (rta->rta_type == IFA_LOCAL)
					local = RTA_DATA(rta);
				else if (rta->rta_type == IFA_ADDRESS) {
					address = RTA_DATA(rta);
					break;
				}
				rta = RTA_NEXT(rta, alen);
			}
			if (address == NULL)
				address = local;
			if (address == NULL)
				continue;
			if (ifam->ifa_family == AF_INET) {
				if (*(const in_addr_t *)address !=
				    htonl(INADDR_LOOPBACK))
					*seen4 = true;
			} else if (!IN6_IS_ADDR_LOOPBACK(
				       (const struct in6_addr *)address)) {
				*seen6 = true;
			}
			if (n == cap) {
				struct in6ai *nv = gr_realloc(
				    v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

				if (nv == NULL)
					goto fail;
				v = nv;
			}
			memset(&v[n], 0, sizeof(v[n]));
			v[n].flags = ((ifam->ifa_flags &
				       (IFA_F_DEPRECATED | IFA_F_OPTIMISTIC))
					  ? IN6AI_DEPRECATED
					  : 0) |
				     ((ifam->ifa_flags & IFA_F_HOMEADDRESS)
					  ? IN6AI_HOMEADDRESS
					  : 0);
			v[n].prefixlen = ifam->ifa_prefixlen;
			v[n].index = ifam->ifa_index;
			if (ifam->ifa_family == AF_INET) {
				v[n].addr[2] = htonl(0xffff);
				v[n].addr[3] = *(const in_addr_t *)address;
			} else {
				memcpy(v[n].addr, address, 16);
			}
			n++;
		}
	}
	REAL(close)(fd);
	*out = v;
	*outlen = n;
	return;
fail:
	REAL(close)(fd);
	gr_free(v);
	*seen4 = *seen6 = true;
}

/* Tunnels are not "native" transport (RFC 3484 rule 7). */
void gr_check_native(uint32_t i1, int *n1, uint32_t i2, int *n2)
{
	int fd = REAL(socket)(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t idx[2] = {i1, i2};
	int *nat[2] = {n1, n2};

	if (fd < 0)
		return;
	for (int k = 0; k < 2; k++) {
		struct ifreq ifr;

		if (idx[k] == 0xffffffffu)
			continue;
		memset(&ifr, 0, sizeof(ifr));
		if (if_indextoname(idx[k], ifr.ifr_name) == NULL)
			continue;
		if (REAL(ioctl)(fd, SIOCGIFHWADDR, &ifr) != 0)
			continue;
		*nat[k] = ifr.ifr_hwaddr.sa_family != ARPHRD_TUNNEL6 &&
			  ifr.ifr_hwaddr.sa_family != ARPHRD_TUNNEL &&
			  ifr.ifr_hwaddr.sa_family != ARPHRD_SIT;
	}
	REAL(close)(fd);
}
