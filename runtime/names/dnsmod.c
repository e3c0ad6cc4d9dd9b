/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dnsmod.c — glibc's "dns" NSS module for hosts, done again over the
 * shim's own transport (resolver.c), so that a lookup parks its green
 * thread instead of blocking the OS thread in poll().
 *
 * The rules are glibc 2.36's, followed step by step so that the answers,
 * the NSS statuses, errno and h_errno come out the same:
 *  - res_query.c: __res_context_search (HOSTALIASES, ndots, trailing dot,
 *    the search list, which errors stop the search and which h_errno is
 *    left), __res_context_querydomain, __res_context_query (which answers
 *    count as success, h_errno from the rcode, A and AAAA as one
 *    question);
 *  - nss_dns/dns-host.c: name checks (res_hnok), getanswer_r (hostent
 *    from an A, AAAA or PTR answer: CNAME chains, aliases, the owner-name
 *    checks, the buffer layout and so the ERANGE points, sortlist),
 *    gaih_getanswer (the address tuples of getaddrinfo), and the status
 *    each entry point returns.
 * The name handling itself is glibc's: res_mkquery, ns_name_unpack,
 * ns_name_ntop, dn_expand, res_hnok and res_dnok are called, not copied.
 *
 * h_errno and errno are the module's outputs in glibc; here they live in
 * a per-lookup context and reach the caller through *h_errnop / *errnop
 * only, since other green threads share the OS thread's errno while this
 * one is parked.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns.h"

#define MAXPACKET	   65536
#define MAX_NR_ALIASES	   48
#define MAX_NR_ADDRS	   48
#define MAXHOSTNAMELEN_DNS 256 /* RFC 1034: a host name is <= 255 bytes */
#define T_QUERY_A_AND_AAAA 439963904

__thread int gr_dns_canceled;

/* One lookup: the configuration it uses, and what glibc keeps in
 * _res.res_h_errno / h_errno and errno. */
struct ctx {
	struct gr_resconf *conf;
	int herr;
	int err;
	int rcode1; /* rcode of the first answer (hp->rcode) */
};

static bool ctx_open(struct ctx *c, int *errnop, int *herrnop)
{
	memset(c, 0, sizeof(*c));
	c->conf = gr_res_conf_get();
	if (c->conf == NULL) {
		*errnop = ENOMEM;
		*herrnop = NETDB_INTERNAL;
		return false;
	}
	return true;
}

static void ctx_close(struct ctx *c)
{
	gr_res_conf_put(c->conf);
}

/* ---- the query layer (res_query.c) -------------------------------------- */

/* ns_samename: equal as domain names (case, one trailing dot). */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.' && (la < 2 || a[la - 2] != '\\'))
		la--;
	if (lb > 0 && b[lb - 1] == '.' && (lb < 2 || b[lb - 2] != '\\'))
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* __res_context_hostalias: the HOSTALIASES file maps single names. */
static const char *host_alias(struct ctx *c, const char *name, char *dst,
			      size_t siz)
{
	char buf[BUFSIZ], *cp1, *cp2;
	const char *file;
	FILE *fp;

	if (c->conf->options & RES_NOALIASES)
		return NULL;
	file = getenv("HOSTALIASES");
	if (file == NULL || (fp = fopen(file, "rce")) == NULL)
		return NULL;
	setbuf(fp, NULL);
	buf[sizeof(buf) - 1] = '\0';
	while (REAL(fgets)(buf, sizeof(buf), fp)) {
		for (cp1 = buf; *cp1 && !isspace((unsigned char)*cp1); ++cp1)
			;
		if (!*cp1)
			break;
		*cp1 = '\0';
		if (same_name(buf, name)) {
			while (isspace((unsigned char)*++cp1))
				;
			if (!*cp1)
				break;
			for (cp2 = cp1 + 1;
			     *cp2 && !isspace((unsigned char)*cp2); ++cp2)
				;
			*cp2 = '\0';
			strncpy(dst, cp1, siz - 1);
			dst[siz - 1] = '\0';
			REAL(fclose)(fp);
			return dst;
		}
	}
	REAL(fclose)(fp);
	return NULL;
}

/* __res_context_mkquery (+ __res_nopt): glibc encodes the name, so a name
 * it cannot encode fails here exactly as in glibc. */
static int mkquery(struct ctx *c, const char *name, int type,
		   unsigned char *buf, int buflen)
{
	int n;

	gr_nopark_enter();
	n = res_mkquery(ns_o_query, name, ns_c_in, type, NULL, 0, NULL, buf,
			buflen);
	gr_nopark_leave();
	if (n <= 0)
		return -1;
	if (c->conf->options & RES_TRUSTAD)
		((HEADER *)buf)->ad = 1;
	if ((c->conf->options & (RES_USE_EDNS0 | RES_USE_DNSSEC)) &&
	    n + 11 <= buflen) {
		unsigned char *p = buf + n;
		HEADER *h = (HEADER *)buf;

		*p++ = 0; /* root */
		NS_PUT16(ns_t_opt, p);
		NS_PUT16(1200, p); /* UDP payload size */
		*p++ = 0;	   /* extended rcode */
		*p++ = 0;	   /* version */
		NS_PUT16((c->conf->options & RES_USE_DNSSEC) ? NS_OPT_DNSSEC_OK
							     : 0,
			 p);
		NS_PUT16(0, p); /* rdlen */
		h->arcount = htons(ntohs(h->arcount) + 1);
		n = p - buf;
	}
	return n;
}

/* An answer as glibc's buffers hold it: len 0 when none arrived. */
struct answer {
	unsigned char *buf;
	int len;
};

static void answer_free(struct answer *a)
{
	gr_free(a->buf);
	a->buf = NULL;
	a->len = 0;
}

static int hdr_rcode(const struct answer *a)
{
	return ((const HEADER *)a->buf)->rcode;
}

static int hdr_ancount(const struct answer *a)
{
	return ntohs(((const HEADER *)a->buf)->ancount);
}

/*
 * __res_context_query: one name, one type (or A and AAAA together).
 * Returns the length of the first answer (> 0) on success, with a1/a2
 * set; -1 with c->herr (and c->err for transport failures) otherwise.
 */
static int query(struct ctx *c, const char *name, int type, struct answer *a1,
		 struct answer *a2)
{
	unsigned char q[2][NS_PACKETSZ + 16];
	const unsigned char *qp[2] = {q[0], q[1]};
	int qlen[2], nq = 1, n;
	struct gr_dns_msg m[2];
	long r;

	answer_free(a1);
	if (a2)
		answer_free(a2);
	c->rcode1 = ns_r_noerror;
	if (gr_dns_canceled) {
		/* Cancelled earlier in this lookup: no more queries. */
		c->err = ECANCELED;
		c->herr = TRY_AGAIN;
		return -1;
	}
	if (type == T_QUERY_A_AND_AAAA) {
		qlen[0] = mkquery(c, name, ns_t_a, q[0], sizeof(q[0]));
		qlen[1] = qlen[0] > 0
			      ? mkquery(c, name, ns_t_aaaa, q[1], sizeof(q[1]))
			      : -1;
		nq = 2;
		n = qlen[1];
	} else {
		n = qlen[0] = mkquery(c, name, type, q[0], sizeof(q[0]));
	}
	if (n <= 0) {
		c->herr = NO_RECOVERY;
		return -1;
	}
	r = gr_res_send(c->conf, qp, qlen, nq, m);
	if (r == -ECANCELED)
		gr_dns_canceled = 1;
	if (r < 0) {
		c->err = r == -ECONNREFUSED ? ECONNREFUSED
			 : r == -ECANCELED  ? ECANCELED
					    : ETIMEDOUT;
		c->herr = TRY_AGAIN;
		return -1;
	}
	a1->buf = m[0].buf;
	a1->len = m[0].buf ? m[0].len : 0;
	if (m[0].buf == NULL && m[0].rcode >= 0)
		c->rcode1 = m[0].rcode;
	if (nq == 2) {
		a2->buf = m[1].buf;
		a2->len = m[1].buf ? m[1].len : 0;
	}
	/* Every server refused both: glibc's res_send gives up with
	 * ETIMEDOUT, the refusal still in the answer buffer. */
	if (a1->len == 0 && (nq == 1 || a2->len == 0)) {
		if (c->rcode1 == ns_r_noerror && nq == 2 && m[1].rcode >= 0)
			c->rcode1 = m[1].rcode;
		c->err = ETIMEDOUT;
		c->herr = TRY_AGAIN;
		return -1;
	}
	/* Too short to be an answer: treat as absent, as glibc does with
	 * hp = hp2 below. */
	{
		const struct answer *hp = a1, *hp2;

		if (a1->len < (int)sizeof(HEADER) && a1->len > 0)
			answer_free(a1);
		if (nq == 2 && a2->len > 0 && a2->len < (int)sizeof(HEADER))
			answer_free(a2);
		if (nq == 1 || a2->len < (int)sizeof(HEADER)) {
			hp2 = hp;
		} else {
			hp2 = a2;
			if (a1->len < (int)sizeof(HEADER))
				hp = hp2;
		}
		if (hp->len == 0) {
			c->err = ETIMEDOUT;
			c->herr = TRY_AGAIN;
			return -1;
		}
		if ((hdr_rcode(hp) != ns_r_noerror || hdr_ancount(hp) == 0) &&
		    (hdr_rcode(hp2) != ns_r_noerror || hdr_ancount(hp2) == 0)) {
			int rc = hdr_rcode(hp) == ns_r_noerror ? hdr_rcode(hp2)
							       : hdr_rcode(hp);
			bool any = (hdr_rcode(hp) == ns_r_noerror &&
				    hdr_ancount(hp)) ||
				   (hdr_rcode(hp2) == ns_r_noerror &&
				    hdr_ancount(hp2));

			if (a1->len >= (int)sizeof(HEADER))
				c->rcode1 = hdr_rcode(a1);
			switch (rc) {
			case ns_r_nxdomain:
				if (any)
					goto success;
				c->herr = HOST_NOT_FOUND;
				break;
			case ns_r_servfail:
				c->herr = TRY_AGAIN;
				break;
			case ns_r_noerror:
				if (hdr_ancount(hp) || hdr_ancount(hp2))
					goto success;
				c->herr = NO_DATA;
				break;
			case ns_r_formerr:
			case ns_r_notimpl:
				if (any)
					goto success;
				/* fall through */
			default:
				c->herr = NO_RECOVERY;
				break;
			}
			return -1;
		}
	}
success:
	/* glibc returns n, the first answer's length; a missing first
	 * answer (n == 0) with a usable second is still success for
	 * the callers, who look at resplen2. */
	return a1->len > 0 ? a1->len : 0;
}

/* Did this query succeed in the sense of the search loop? */
static bool query_ok(int ret, const struct answer *a2)
{
	return ret > 0 || (ret == 0 && a2 != NULL && a2->len > 0);
}

/* __res_context_querydomain: name, or name.domain. */
static int querydomain(struct ctx *c, const char *name, const char *domain,
		       int type, struct answer *a1, struct answer *a2)
{
	char nbuf[NS_MAXDNAME];
	const char *longname = nbuf;
	size_t n, d;

	if (domain == NULL) {
		n = strlen(name);
		/* glibc decrements first to catch the wrap of "". */
		n--;
		if (n >= NS_MAXDNAME - 1) {
			c->herr = NO_RECOVERY;
			return -1;
		}
		longname = name;
	} else {
		n = strlen(name);
		d = strlen(domain);
		if (n + d + 1 >= NS_MAXDNAME) {
			c->herr = NO_RECOVERY;
			return -1;
		}
		memcpy(nbuf, name, n);
		nbuf[n] = '.';
		memcpy(nbuf + n + 1, domain, d + 1);
	}
	return query(c, longname, type, a1, a2);
}

/* __res_context_search. */
static int search(struct ctx *c, const char *name, int type, struct answer *a1,
		  struct answer *a2)
{
	const struct gr_resconf *conf = c->conf;
	char tmp[NS_MAXDNAME];
	const char *cp;
	unsigned dots = 0;
	int trailing_dot = 0, ret, saved_herrno = -1;
	int got_nodata = 0, got_servfail = 0, root_on_list = 0;
	int tried_as_is = 0, searched = 0;

	c->err = 0;
	c->herr = HOST_NOT_FOUND; /* if we never query */
	for (cp = name; *cp != '\0'; cp++)
		dots += (*cp == '.');
	if (cp > name && *--cp == '.')
		trailing_dot++;

	if (!dots && (cp = host_alias(c, name, tmp, sizeof(tmp))) != NULL)
		return query(c, cp, type, a1, a2);

	if (dots >= (unsigned)conf->ndots || trailing_dot) {
		ret = querydomain(c, name, NULL, type, a1, a2);
		if (ret > 0 || trailing_dot || (ret == 0 && a2 && a2->len > 0))
			return ret;
		saved_herrno = c->herr;
		tried_as_is++;
		if (a2)
			answer_free(a2);
	}

	if ((!dots && (conf->options & RES_DEFNAMES)) ||
	    (dots && !trailing_dot && (conf->options & RES_DNSRCH))) {
		int done = 0;

		for (int i = 0; !done && i < conf->nsearch; i++) {
			const char *dname = conf->search[i];

			searched = 1;
			if (dname[0] == '.')
				dname++;
			if (dname[0] == '\0')
				root_on_list++;
			ret = querydomain(c, name, dname, type, a1, a2);
			if (query_ok(ret, a2))
				return ret;
			if (a2)
				answer_free(a2);
			if (c->err == ECANCELED)
				return -1;
			if (c->err == ECONNREFUSED) {
				c->herr = TRY_AGAIN;
				return -1;
			}
			switch (c->herr) {
			case NO_DATA:
				got_nodata++;
				/* fall through */
			case HOST_NOT_FOUND:
				break;
			case TRY_AGAIN:
				if (c->rcode1 == ns_r_servfail) {
					got_servfail++;
					break;
				}
				/* fall through */
			default:
				done++;
			}
			if (!(conf->options & RES_DNSRCH))
				done++;
		}
	}

	if ((dots || !searched || !(conf->options & RES_NOTLDQUERY)) &&
	    !(tried_as_is || root_on_list)) {
		ret = querydomain(c, name, NULL, type, a1, a2);
		if (query_ok(ret, a2))
			return ret;
	}

	if (a2)
		answer_free(a2);
	if (saved_herrno != -1)
		c->herr = saved_herrno;
	else if (got_nodata)
		c->herr = NO_DATA;
	else if (got_servfail)
		c->herr = TRY_AGAIN;
	return -1;
}

/* ---- answers to hostents (dns-host.c) --------------------------------- */

static int rdata_length(int type)
{
	return type == ns_t_a	   ? NS_INADDRSZ
	       : type == ns_t_aaaa ? NS_IN6ADDRSZ
				   : -1;
}

/* ns_name_unpack + ns_name_ntop into bp; -1 on a bad name, -2 when bp is
 * too small (glibc's EMSGSIZE). */
static int unpack_name(const unsigned char *msg, const unsigned char *eom,
		       const unsigned char *cp, char *bp, int buflen)
{
	unsigned char packtmp[NS_MAXCDNAME];
	int n = ns_name_unpack(msg, eom, cp, packtmp, sizeof(packtmp));

	if (n != -1 &&
	    ns_name_ntop(packtmp, bp, buflen < 0 ? 0 : buflen) == -1) {
		if (errno == EMSGSIZE)
			return -2;
		n = -1;
	}
	return n;
}

static void addrsort(const struct gr_resconf *conf, char **ap, int num)
{
	short aval[MAX_NR_ADDRS];
	int i, j, needsort = 0;
	char **p = ap;

	if (num > MAX_NR_ADDRS)
		num = MAX_NR_ADDRS;
	for (i = 0; i < num; i++, p++) {
		for (j = 0; j < conf->nsort; j++)
			if (conf->sort[j].addr.s_addr ==
			    (((struct in_addr *)(*p))->s_addr &
			     conf->sort[j].mask))
				break;
		aval[i] = j;
		if (needsort == 0 && i > 0 && j < aval[i - 1])
			needsort = i;
	}
	if (!needsort)
		return;
	while (needsort++ < num)
		for (j = needsort - 2; j >= 0; j--)
			if (aval[j] > aval[j + 1]) {
				char *hp;

				i = aval[j];
				aval[j] = aval[j + 1];
				aval[j + 1] = i;
				hp = ap[j];
				ap[j] = ap[j + 1];
				ap[j + 1] = hp;
			} else {
				break;
			}
}

static enum nss_status getanswer_r(struct ctx *c, const struct answer *ans,
				   const char *qname, int qtype,
				   struct hostent *result, char *buffer,
				   size_t buflen, int *errnop, int *h_errnop,
				   int32_t *ttlp, char **canonp)
{
	struct host_data {
		char *aliases[MAX_NR_ALIASES];
		unsigned char host_addr[16];
		char *h_addr_ptrs[0];
	} * host_data;
	const unsigned char *msg = ans->buf, *eom, *cp;
	const HEADER *hp;
	int linebuflen, n, ancount, qdcount, haveanswer, had_error;
	char *bp, **ap, **hap, tbuf[NS_MAXDNAME];
	const char *tname;
	int (*name_ok)(const char *);
	uintptr_t pad = -(uintptr_t)buffer % __alignof__(struct host_data);

	buffer += pad;
	buflen = buflen > pad ? buflen - pad : 0;
	if (buflen < sizeof(struct host_data)) {
	too_small:
		*errnop = ERANGE;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	host_data = (struct host_data *)buffer;
	linebuflen = buflen - sizeof(struct host_data);
	if (buflen - sizeof(struct host_data) != (size_t)linebuflen)
		linebuflen = INT_MAX;

	tname = qname;
	result->h_name = NULL;
	eom = msg + ans->len;
	switch (qtype) {
	case ns_t_a:
	case ns_t_aaaa:
		name_ok = res_hnok;
		break;
	case ns_t_ptr:
		name_ok = res_dnok;
		break;
	default:
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}

	hp = (const HEADER *)msg;
	ancount = ntohs(hp->ancount);
	qdcount = ntohs(hp->qdcount);
	cp = msg + NS_HFIXEDSZ;
	if (qdcount != 1) {
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	if (sizeof(struct host_data) + (ancount + 1) * sizeof(char *) >= buflen)
		goto too_small;
	bp = (char *)&host_data->h_addr_ptrs[ancount + 1];
	linebuflen -= (ancount + 1) * sizeof(char *);

	n = unpack_name(msg, eom, cp, bp, linebuflen);
	if (n == -2)
		goto too_small;
	if (n < 0) {
		*errnop = EMSGSIZE;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	if (name_ok(bp) == 0) {
		*errnop = EBADMSG;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	cp += n + NS_QFIXEDSZ;

	if (qtype == ns_t_a || qtype == ns_t_aaaa) {
		n = strlen(bp) + 1;
		if (n >= MAXHOSTNAMELEN_DNS) {
			*h_errnop = NO_RECOVERY;
			*errnop = ENOENT;
			return NSS_STATUS_TRYAGAIN;
		}
		result->h_name = bp;
		bp += n;
		linebuflen -= n;
		if (linebuflen < 0)
			goto too_small;
		qname = result->h_name;
	}

	ap = host_data->aliases;
	*ap = NULL;
	result->h_aliases = host_data->aliases;
	hap = host_data->h_addr_ptrs;
	*hap = NULL;
	result->h_addr_list = host_data->h_addr_ptrs;
	haveanswer = 0;
	had_error = 0;

	while (ancount-- > 0 && cp < eom && had_error == 0) {
		int type, class;
		int32_t ttl;

		n = unpack_name(msg, eom, cp, bp, linebuflen);
		if (n == -2)
			goto too_small;
		if (n < 0 || name_ok(bp) == 0) {
			++had_error;
			continue;
		}
		cp += n;
		if (cp + 10 > eom) {
			++had_error;
			continue;
		}
		NS_GET16(type, cp);
		NS_GET16(class, cp);
		NS_GET32(ttl, cp);
		NS_GET16(n, cp);
		if (eom - cp < n) {
			++had_error;
			continue;
		}
		if (class != ns_c_in) {
			cp += n;
			continue;
		}
		if ((qtype == ns_t_a || qtype == ns_t_aaaa) &&
		    type == ns_t_cname) {
			if (ttlp != NULL && ttl < *ttlp)
				*ttlp = ttl;
			if (ap >= &host_data->aliases[MAX_NR_ALIASES - 1])
				continue;
			n = dn_expand(msg, eom, cp, tbuf, sizeof(tbuf));
			if (n < 0 || name_ok(tbuf) == 0) {
				++had_error;
				continue;
			}
			cp += n;
			*ap++ = bp;
			n = strlen(bp) + 1;
			if (n >= MAXHOSTNAMELEN_DNS) {
				++had_error;
				continue;
			}
			bp += n;
			linebuflen -= n;
			n = strlen(tbuf) + 1;
			if (n > linebuflen)
				goto too_small;
			if (n >= MAXHOSTNAMELEN_DNS) {
				++had_error;
				continue;
			}
			result->h_name = bp;
			bp = mempcpy(bp, tbuf, n);
			linebuflen -= n;
			continue;
		}
		if (qtype == ns_t_ptr && type == ns_t_cname) {
			if (ttlp != NULL && ttl < *ttlp)
				*ttlp = ttl;
			n = dn_expand(msg, eom, cp, tbuf, sizeof(tbuf));
			if (n < 0 || res_dnok(tbuf) == 0) {
				++had_error;
				continue;
			}
			cp += n;
			n = strlen(tbuf) + 1;
			if (n > linebuflen)
				goto too_small;
			if (n >= MAXHOSTNAMELEN_DNS) {
				++had_error;
				continue;
			}
			tname = bp;
			bp = mempcpy(bp, tbuf, n);
			linebuflen -= n;
			continue;
		}
		if (type != qtype) {
			cp += n;
			continue;
		}
		switch (type) {
		case ns_t_ptr:
			if (strcasecmp(tname, bp) != 0) {
				cp += n;
				continue;
			}
			n = unpack_name(msg, eom, cp, bp, linebuflen);
			if (n == -2)
				goto too_small;
			if (n < 0 || res_hnok(bp) == 0) {
				++had_error;
				break;
			}
			if (ttlp != NULL && ttl < *ttlp)
				*ttlp = ttl;
			/* glibc keeps only the first PTR record. */
			result->h_name = bp;
			*h_errnop = NETDB_SUCCESS;
			return NSS_STATUS_SUCCESS;
		case ns_t_a:
		case ns_t_aaaa:
			if (strcasecmp(result->h_name, bp) != 0) {
				cp += n;
				continue;
			}
			if (n != rdata_length(type)) {
				++had_error;
				break;
			}
			if (n != result->h_length) {
				cp += n;
				continue;
			}
			if (!haveanswer) {
				int nn;

				if (ttlp != NULL && ttl < *ttlp)
					*ttlp = ttl;
				if (canonp != NULL)
					*canonp = bp;
				result->h_name = bp;
				nn = strlen(bp) + 1;
				bp += nn;
				linebuflen -= nn;
			}
			{
				char *new_bp = (char *)(((uintptr_t)bp + 3) &
							~(uintptr_t)3);

				linebuflen -= new_bp - bp;
				bp = new_bp;
			}
			if (n > linebuflen)
				goto too_small;
			*hap++ = bp;
			bp = mempcpy(bp, cp, n);
			cp += n;
			linebuflen -= n;
			break;
		}
		if (had_error == 0)
			++haveanswer;
	}

	if (haveanswer > 0) {
		*ap = NULL;
		*hap = NULL;
		if (haveanswer > 1 && qtype == ns_t_a && c->conf->nsort > 0)
			addrsort(c->conf, host_data->h_addr_ptrs, haveanswer);
		if (result->h_name == NULL) {
			n = strlen(qname) + 1;
			if (n > linebuflen)
				goto too_small;
			if (n >= MAXHOSTNAMELEN_DNS)
				goto no_recovery;
			result->h_name = bp;
			bp = mempcpy(bp, qname, n);
			linebuflen -= n;
		}
		*h_errnop = NETDB_SUCCESS;
		return NSS_STATUS_SUCCESS;
	}
no_recovery:
	*h_errnop = NO_RECOVERY;
	*errnop = ENOENT;
	/* Only a CNAME for an A or AAAA question: NOTFOUND, not TRYAGAIN. */
	return ((qtype == ns_t_a || qtype == ns_t_aaaa) &&
		ap != host_data->aliases)
		   ? NSS_STATUS_NOTFOUND
		   : NSS_STATUS_TRYAGAIN;
}

static enum nss_status gaih_getanswer_slice(const struct answer *ans,
					    struct gaih_addrtuple ***patp,
					    char **bufferp, size_t *buflenp,
					    int *errnop, int *h_errnop,
					    int32_t *ttlp, int *firstp)
{
	char *buffer = *bufferp;
	size_t buflen = *buflenp;
	struct gaih_addrtuple **pat = *patp;
	const unsigned char *msg = ans->buf, *eom = msg + ans->len;
	const HEADER *hp = (const HEADER *)msg;
	int ancount = ntohs(hp->ancount), qdcount = ntohs(hp->qdcount);
	const unsigned char *cp = msg + NS_HFIXEDSZ;
	int n, haveanswer = 0, had_error = 0, h_namelen = 0;
	char *canon = NULL, *h_name = NULL;

	if (qdcount != 1) {
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	n = unpack_name(msg, eom, cp, buffer, buflen);
	if (n == -2) {
	too_small:
		*errnop = ERANGE;
		*h_errnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	if (n < 0) {
		*errnop = EMSGSIZE;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	if (res_hnok(buffer) == 0) {
		*errnop = EBADMSG;
		*h_errnop = NO_RECOVERY;
		return NSS_STATUS_UNAVAIL;
	}
	cp += n + NS_QFIXEDSZ;

	if (ancount == 0) {
		*h_errnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	}

	while (ancount-- > 0 && cp < eom && had_error == 0) {
		unsigned char packtmp[NS_MAXCDNAME];
		uint16_t type, class;
		int32_t ttl;

		n = ns_name_unpack(msg, eom, cp, packtmp, sizeof(packtmp));
		if (n != -1 &&
		    (h_namelen = ns_name_ntop(packtmp, buffer, buflen)) == -1) {
			if (errno == EMSGSIZE)
				goto too_small;
			n = -1;
		}
		if (n < 0 || res_hnok(buffer) == 0) {
			++had_error;
			continue;
		}
		if (*firstp && canon == NULL) {
			h_name = buffer;
			buffer += h_namelen;
			buflen -= h_namelen;
		}
		cp += n;
		if (cp + 10 > eom) {
			++had_error;
			continue;
		}
		NS_GET16(type, cp);
		NS_GET16(class, cp);
		NS_GET32(ttl, cp);
		NS_GET16(n, cp);
		if (eom - cp < n) {
			++had_error;
			continue;
		}
		if (class != ns_c_in) {
			cp += n;
			continue;
		}
		if (type == ns_t_cname) {
			char tbuf[NS_MAXDNAME];

			if (ttlp != NULL && ttl < *ttlp)
				*ttlp = ttl;
			n = dn_expand(msg, eom, cp, tbuf, sizeof(tbuf));
			if (n < 0 || res_hnok(tbuf) == 0) {
				++had_error;
				continue;
			}
			cp += n;
			if (*firstp) {
				/* Reclaim the owner name's space. */
				if (h_name + h_namelen == buffer) {
					buffer = h_name;
					buflen += h_namelen;
				}
				n = strlen(tbuf) + 1;
				if ((size_t)n > buflen)
					goto too_small;
				if (n >= MAXHOSTNAMELEN_DNS) {
					++had_error;
					continue;
				}
				canon = buffer;
				buffer = mempcpy(buffer, tbuf, n);
				buflen -= n;
				h_namelen = 0;
			}
			continue;
		}
		if (type == ns_t_a || type == ns_t_aaaa) {
			if (n != rdata_length(type)) {
				++had_error;
				continue;
			}
		} else {
			cp += n;
			continue;
		}
		if (*pat == NULL) {
			uintptr_t pad = -(uintptr_t)buffer %
					__alignof__(struct gaih_addrtuple);

			buffer += pad;
			buflen = buflen > pad ? buflen - pad : 0;
			if (buflen < sizeof(struct gaih_addrtuple))
				goto too_small;
			*pat = (struct gaih_addrtuple *)buffer;
			buffer += sizeof(struct gaih_addrtuple);
			buflen -= sizeof(struct gaih_addrtuple);
		}
		(*pat)->name = NULL;
		(*pat)->next = NULL;
		if (*firstp) {
			if (ttlp != NULL && ttl < *ttlp)
				*ttlp = ttl;
			(*pat)->name = canon ?: h_name;
			*firstp = 0;
		}
		(*pat)->family = type == ns_t_a ? AF_INET : AF_INET6;
		memcpy((*pat)->addr, cp, n);
		cp += n;
		(*pat)->scopeid = 0;
		pat = &((*pat)->next);
		haveanswer = 1;
	}

	if (haveanswer) {
		*patp = pat;
		*bufferp = buffer;
		*buflenp = buflen;
		*h_errnop = NETDB_SUCCESS;
		return NSS_STATUS_SUCCESS;
	}
	if (canon != NULL) {
		*h_errnop = HOST_NOT_FOUND;
		return NSS_STATUS_NOTFOUND;
	}
	*h_errnop = NETDB_INTERNAL;
	return NSS_STATUS_TRYAGAIN;
}

static enum nss_status gaih_getanswer(const struct answer *a1,
				      const struct answer *a2,
				      struct gaih_addrtuple **pat, char *buffer,
				      size_t buflen, int *errnop, int *h_errnop,
				      int32_t *ttlp)
{
	enum nss_status status = NSS_STATUS_NOTFOUND;
	int first = 1;

	if (a1->len > 0)
		status = gaih_getanswer_slice(a1, &pat, &buffer, &buflen,
					      errnop, h_errnop, ttlp, &first);
	if ((status == NSS_STATUS_SUCCESS || status == NSS_STATUS_NOTFOUND ||
	     (status == NSS_STATUS_TRYAGAIN &&
	      (*errnop != ERANGE || *h_errnop == NO_RECOVERY))) &&
	    a2 != NULL && a2->len > 0) {
		enum nss_status status2 = gaih_getanswer_slice(
		    a2, &pat, &buffer, &buflen, errnop, h_errnop, ttlp, &first);

		if (status != NSS_STATUS_SUCCESS &&
		    status2 != NSS_STATUS_NOTFOUND)
			status = status2;
		if (status == NSS_STATUS_SUCCESS &&
		    (status2 == NSS_STATUS_TRYAGAIN && *errnop == ERANGE &&
		     *h_errnop != NO_RECOVERY))
			status = NSS_STATUS_TRYAGAIN;
	}
	return status;
}

/* ---- the module's entry points --------------------------------------- */

static enum nss_status check_name(const char *name, int *h_errnop)
{
	if (res_hnok(name))
		return NSS_STATUS_SUCCESS;
	*h_errnop = HOST_NOT_FOUND;
	return NSS_STATUS_NOTFOUND;
}

/* What a failed search means to the module (errno switch in glibc). */
static enum nss_status search_failed(struct ctx *c, int *errnop, int *h_errnop)
{
	enum nss_status status;

	switch (c->err) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case ECANCELED:
		status = NSS_STATUS_UNAVAIL;
		break;
	default:
		status = NSS_STATUS_NOTFOUND;
		break;
	}
	*h_errnop = c->herr;
	if (c->herr == TRY_AGAIN)
		*errnop = EAGAIN;
	return status;
}

static enum nss_status gethostbyname3_context(struct ctx *c, const char *name,
					      int af, struct hostent *result,
					      char *buffer, size_t buflen,
					      int *errnop, int *h_errnop,
					      int32_t *ttlp, char **canonp)
{
	struct answer a = {0};
	char tmp[NS_MAXDNAME];
	const char *cp;
	enum nss_status status;
	int size, type, n;

	switch (af) {
	case AF_INET:
		size = NS_INADDRSZ;
		type = ns_t_a;
		break;
	case AF_INET6:
		size = NS_IN6ADDRSZ;
		type = ns_t_aaaa;
		break;
	default:
		*h_errnop = NO_DATA;
		*errnop = EAFNOSUPPORT;
		return NSS_STATUS_UNAVAIL;
	}
	/* no-aaaa: glibc 2.36 sends no AAAA query at all. */
	if (af == AF_INET6 && (c->conf->options & RES_NOAAAA)) {
		*h_errnop = NO_DATA;
		*errnop = 0;
		return NSS_STATUS_NOTFOUND;
	}
	result->h_addrtype = af;
	result->h_length = size;
	if (strchr(name, '.') == NULL &&
	    (cp = host_alias(c, name, tmp, sizeof(tmp))) != NULL)
		name = cp;
	n = search(c, name, type, &a, NULL);
	if (n < 0) {
		answer_free(&a);
		return search_failed(c, errnop, h_errnop);
	}
	status = getanswer_r(c, &a, name, type, result, buffer, buflen, errnop,
			     h_errnop, ttlp, canonp);
	answer_free(&a);
	return status;
}

static enum nss_status mod_gethostbyname3_r(const char *name, int af,
					    struct hostent *result,
					    char *buffer, size_t buflen,
					    int *errnop, int *herrnop,
					    int32_t *ttlp, char **canonp)
{
	struct ctx c;
	enum nss_status s;

	if (!ctx_open(&c, errnop, herrnop))
		return NSS_STATUS_UNAVAIL;
	s = gethostbyname3_context(&c, name, af, result, buffer, buflen, errnop,
				   herrnop, ttlp, canonp);
	ctx_close(&c);
	return s;
}

static enum nss_status mod_gethostbyname2_r(const char *name, int af,
					    struct hostent *result,
					    char *buffer, size_t buflen,
					    int *errnop, int *herrnop)
{
	enum nss_status s = check_name(name, herrnop);

	if (s != NSS_STATUS_SUCCESS)
		return s;
	return mod_gethostbyname3_r(name, af, result, buffer, buflen, errnop,
				    herrnop, NULL, NULL);
}

static enum nss_status mod_gethostbyname_r(const char *name,
					   struct hostent *result, char *buffer,
					   size_t buflen, int *errnop,
					   int *herrnop)
{
	enum nss_status s = check_name(name, herrnop);
	struct ctx c;

	if (s != NSS_STATUS_SUCCESS)
		return s;
	if (!ctx_open(&c, errnop, herrnop))
		return NSS_STATUS_UNAVAIL;
	s = gethostbyname3_context(&c, name, AF_INET, result, buffer, buflen,
				   errnop, herrnop, NULL, NULL);
	ctx_close(&c);
	return s;
}

static enum nss_status mod_gethostbyname4_r(const char *name,
					    struct gaih_addrtuple **pat,
					    char *buffer, size_t buflen,
					    int *errnop, int *herrnop,
					    int32_t *ttlp)
{
	enum nss_status status = check_name(name, herrnop);
	struct answer a1 = {0}, a2 = {0};
	char tmp[NS_MAXDNAME];
	const char *cp;
	struct ctx c;
	int n;

	if (status != NSS_STATUS_SUCCESS)
		return status;
	if (!ctx_open(&c, errnop, herrnop))
		return NSS_STATUS_UNAVAIL;
	if (strchr(name, '.') == NULL &&
	    (cp = host_alias(&c, name, tmp, sizeof(tmp))) != NULL)
		name = cp;
	if (c.conf->options & RES_NOAAAA) {
		n = search(&c, name, ns_t_a, &a1, NULL);
		if (n >= 0)
			status = gaih_getanswer(&a1, NULL, pat, buffer, buflen,
						errnop, herrnop, ttlp);
	} else {
		n = search(&c, name, T_QUERY_A_AND_AAAA, &a1, &a2);
		if (n >= 0)
			status = gaih_getanswer(&a1, &a2, pat, buffer, buflen,
						errnop, herrnop, ttlp);
	}
	if (n < 0)
		status = search_failed(&c, errnop, herrnop);
	answer_free(&a1);
	answer_free(&a2);
	ctx_close(&c);
	return status;
}

static enum nss_status mod_gethostbyaddr2_r(const void *addr, socklen_t len,
					    int af, struct hostent *result,
					    char *buffer, size_t buflen,
					    int *errnop, int *herrnop,
					    int32_t *ttlp)
{
	static const unsigned char mapped[] = {0, 0, 0, 0, 0,	 0,
					       0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char tunnelled[] = {0, 0, 0, 0, 0, 0,
						  0, 0, 0, 0, 0, 0};
	static const unsigned char v6local[] = {0, 0, 0, 1};
	const unsigned char *uaddr = addr;
	struct host_data {
		char *aliases[MAX_NR_ALIASES];
		unsigned char host_addr[16];
		char *h_addr_ptrs[MAX_NR_ADDRS + 1];
		char linebuffer[0];
	} * host_data;
	struct answer a = {0};
	char qbuf[NS_MAXDNAME + 1], *qp;
	enum nss_status status;
	size_t size;
	struct ctx c;
	int n;
	uintptr_t pad = -(uintptr_t)buffer % __alignof__(struct host_data);

	buffer += pad;
	buflen = buflen > pad ? buflen - pad : 0;
	if (buflen < sizeof(struct host_data)) {
		*errnop = ERANGE;
		*herrnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	host_data = (struct host_data *)buffer;
	if (!ctx_open(&c, errnop, herrnop))
		return NSS_STATUS_UNAVAIL;
	if (af == AF_INET6 && len == NS_IN6ADDRSZ &&
	    (memcmp(uaddr, mapped, sizeof(mapped)) == 0 ||
	     (memcmp(uaddr, tunnelled, sizeof(tunnelled)) == 0 &&
	      memcmp(&uaddr[sizeof(tunnelled)], v6local, sizeof(v6local))))) {
		addr = (const char *)addr + sizeof(mapped);
		uaddr += sizeof(mapped);
		af = AF_INET;
		len = NS_INADDRSZ;
	}
	switch (af) {
	case AF_INET:
		size = NS_INADDRSZ;
		break;
	case AF_INET6:
		size = NS_IN6ADDRSZ;
		break;
	default:
		*errnop = EAFNOSUPPORT;
		*herrnop = NETDB_INTERNAL;
		ctx_close(&c);
		return NSS_STATUS_UNAVAIL;
	}
	if (size > len) {
		*errnop = EAFNOSUPPORT;
		*herrnop = NETDB_INTERNAL;
		ctx_close(&c);
		return NSS_STATUS_UNAVAIL;
	}
	if (af == AF_INET) {
		snprintf(qbuf, sizeof(qbuf), "%u.%u.%u.%u.in-addr.arpa",
			 uaddr[3], uaddr[2], uaddr[1], uaddr[0]);
	} else {
		static const char nib[] = "0123456789abcdef";

		qp = qbuf;
		for (n = NS_IN6ADDRSZ - 1; n >= 0; n--) {
			*qp++ = nib[uaddr[n] & 0xf];
			*qp++ = '.';
			*qp++ = nib[(uaddr[n] >> 4) & 0xf];
			*qp++ = '.';
		}
		strcpy(qp, "ip6.arpa");
	}
	n = query(&c, qbuf, ns_t_ptr, &a, NULL);
	if (n < 0) {
		/* glibc restores errno before testing it for ECONNREFUSED:
		 * in effect a failed PTR query is always NOTFOUND. */
		*herrnop = c.herr;
		answer_free(&a);
		ctx_close(&c);
		return NSS_STATUS_NOTFOUND;
	}
	status = getanswer_r(&c, &a, qbuf, ns_t_ptr, result, buffer, buflen,
			     errnop, herrnop, ttlp, NULL);
	answer_free(&a);
	if (status != NSS_STATUS_SUCCESS) {
		ctx_close(&c);
		return status;
	}
	result->h_addrtype = af;
	result->h_length = len;
	memcpy(host_data->host_addr, addr, len);
	host_data->h_addr_ptrs[0] = (char *)host_data->host_addr;
	host_data->h_addr_ptrs[1] = NULL;
	*herrnop = NETDB_SUCCESS;
	ctx_close(&c);
	return NSS_STATUS_SUCCESS;
}

/* ---- errno as glibc's module leaves it -------------------------------- */

/* glibc's module writes errno through errnop and otherwise restores the
 * caller's errno; here c-ares and malloc run in between, so the module
 * works on a private copy and errno is put back before returning. */
#define ERRNO_GUARD(call)                                                      \
	int olderr = errno, e = olderr;                                        \
	enum nss_status s = call;                                              \
	errno = olderr;                                                        \
	*errnop = e;                                                           \
	return s

enum nss_status gr_dns_gethostbyname3_r(const char *name, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop, int32_t *ttlp,
					char **canonp)
{
	ERRNO_GUARD(mod_gethostbyname3_r(name, af, result, buffer, buflen, &e,
					 herrnop, ttlp, canonp));
}

enum nss_status gr_dns_gethostbyname2_r(const char *name, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop)
{
	ERRNO_GUARD(mod_gethostbyname2_r(name, af, result, buffer, buflen, &e,
					 herrnop));
}

enum nss_status gr_dns_gethostbyname_r(const char *name, struct hostent *result,
				       char *buffer, size_t buflen, int *errnop,
				       int *herrnop)
{
	ERRNO_GUARD(
	    mod_gethostbyname_r(name, result, buffer, buflen, &e, herrnop));
}

enum nss_status gr_dns_gethostbyname4_r(const char *name,
					struct gaih_addrtuple **pat,
					char *buffer, size_t buflen,
					int *errnop, int *herrnop,
					int32_t *ttlp)
{
	ERRNO_GUARD(
	    mod_gethostbyname4_r(name, pat, buffer, buflen, &e, herrnop, ttlp));
}

enum nss_status gr_dns_gethostbyaddr2_r(const void *addr, socklen_t len, int af,
					struct hostent *result, char *buffer,
					size_t buflen, int *errnop,
					int *herrnop, int32_t *ttlp)
{
	ERRNO_GUARD(mod_gethostbyaddr2_r(addr, len, af, result, buffer, buflen,
					 &e, herrnop, ttlp));
}
