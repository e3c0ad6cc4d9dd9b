/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nsswitch.c — the "hosts" database as glibc 2.36 reads it: the hosts line
 * of /etc/nsswitch.conf with its [STATUS=ACTION] lists (read again when
 * the file changes, as glibc 2.33+ does), and its modules: glibc's own
 * "files" module, called through its NSS entry points so that /etc/hosts
 * is parsed by glibc, and dnsmod.c for "dns", whose queries park.
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

struct hosts_module gr_nss_files;
static bool files_ok;

static enum nss_status dns_byaddr(const void *a, socklen_t l, int af,
				  struct hostent *h, char *b, size_t bl, int *e,
				  int *he)
{
	return gr_dns_gethostbyaddr2_r(a, l, af, h, b, bl, e, he, NULL);
}

static const struct hosts_module dns_mod = {
    gr_dns_gethostbyname4_r,
    gr_dns_gethostbyname3_r,
    gr_dns_gethostbyname2_r,
    gr_dns_gethostbyname_r,
    dns_byaddr,
};

/* glibc's files module: in libc itself since 2.34, a module before. */
static void files_bind(void)
{
	void *h = RTLD_DEFAULT; /* (void *)0 */

	if (dlsym(h, "_nss_files_gethostbyname4_r") == NULL &&
	    (h = REAL(dlopen)("libnss_files.so.2", RTLD_LAZY)) == NULL)
		return;
	gr_nss_files.byname4 =
	    (ghbn4_fn)dlsym(h, "_nss_files_gethostbyname4_r");
	gr_nss_files.byname3 =
	    (ghbn3_fn)dlsym(h, "_nss_files_gethostbyname3_r");
	gr_nss_files.byname2 =
	    (ghbn2_fn)dlsym(h, "_nss_files_gethostbyname2_r");
	gr_nss_files.byname = (ghbn_fn)dlsym(h, "_nss_files_gethostbyname_r");
	gr_nss_files.byaddr = (ghba_fn)dlsym(h, "_nss_files_gethostbyaddr_r");
	files_ok = gr_nss_files.byname4 && gr_nss_files.byname3 &&
		   gr_nss_files.byname2 && gr_nss_files.byname &&
		   gr_nss_files.byaddr;
}

static void svc_defaults(struct hosts_svc *s)
{
	s->act[NSS_STATUS_TRYAGAIN + 2] = ACT_CONTINUE;
	s->act[NSS_STATUS_UNAVAIL + 2] = ACT_CONTINUE;
	s->act[NSS_STATUS_NOTFOUND + 2] = ACT_CONTINUE;
	s->act[NSS_STATUS_SUCCESS + 2] = ACT_RETURN;
	s->act[NSS_STATUS_RETURN + 2] = ACT_RETURN;
}

static int status_of(const char *w, size_t n)
{
	static const struct {
		const char *s;
		int v;
	} t[] = {
	    {"SUCCESS", NSS_STATUS_SUCCESS},
	    {"NOTFOUND", NSS_STATUS_NOTFOUND},
	    {"UNAVAIL", NSS_STATUS_UNAVAIL},
	    {"TRYAGAIN", NSS_STATUS_TRYAGAIN},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].s) == n && strncasecmp(w, t[i].s, n) == 0)
			return t[i].v;
	return 99;
}

static int action_of(const char *w, size_t n)
{
	if (n == 6 && strncasecmp(w, "return", 6) == 0)
		return ACT_RETURN;
	if (n == 8 && strncasecmp(w, "continue", 8) == 0)
		return ACT_CONTINUE;
	if (n == 5 && strncasecmp(w, "merge", 5) == 0)
		return ACT_MERGE;
	return -1;
}

/* One "hosts:" specification, as nss_parse_service_list reads it. */
static void parse_services(struct hosts_conf *hc, const char *p)
{
	struct hosts_svc *last = NULL; /* the service an action list follows */

	hc->n = 0;
	hc->other = false;
	for (;;) {
		const char *w;
		size_t n;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		if (*p == '[') {
			/* Actions for the service just named (dropped with
			 * it when it is one we do not serve). */
			struct hosts_svc *s = last;

			p++;
			for (;;) {
				bool neg = false;
				int st, act;

				while (isspace((unsigned char)*p))
					p++;
				if (*p == ']' || *p == '\0')
					break;
				if (*p == '!') {
					neg = true;
					p++;
				}
				w = p;
				while (isalpha((unsigned char)*p))
					p++;
				st = status_of(w, p - w);
				while (isspace((unsigned char)*p))
					p++;
				if (*p != '=')
					break;
				p++;
				while (isspace((unsigned char)*p))
					p++;
				w = p;
				while (isalpha((unsigned char)*p))
					p++;
				act = action_of(w, p - w);
				if (s == NULL || st == 99 || act < 0)
					continue;
				if (neg) {
					for (int k = NSS_STATUS_TRYAGAIN;
					     k <= NSS_STATUS_SUCCESS; k++)
						if (k != st)
							s->act[k + 2] = act;
				} else {
					s->act[st + 2] = act;
				}
			}
			if (*p == ']')
				p++;
			continue;
		}
		w = p;
		while (*p && !isspace((unsigned char)*p) && *p != '[')
			p++;
		n = p - w;
		last = NULL;
		if (hc->n == (int)(sizeof(hc->svc) / sizeof(hc->svc[0])))
			continue;
		if (n == 5 && strncmp(w, "files", 5) == 0 && files_ok) {
			hc->svc[hc->n].m = &gr_nss_files;
		} else if (n == 3 && strncmp(w, "dns", 3) == 0) {
			hc->svc[hc->n].m = &dns_mod;
		} else {
			hc->other = true;
			continue;
		}
		last = &hc->svc[hc->n];
		svc_defaults(last);
		hc->n++;
	}
}

static pthread_mutex_t nss_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t nss_once = PTHREAD_ONCE_INIT;
static struct hosts_conf nss_cur;
static struct stat nss_st;
static int nss_st_ok = -1;

static void hosts_init(void)
{
	files_bind();
}

/* The hosts line now, read again when nsswitch.conf changed. */
void gr_hosts_conf(struct hosts_conf *out)
{
	struct stat st;
	int ok;

	REAL(pthread_once)(&nss_once, hosts_init);
	ok = REAL(stat)("/etc/nsswitch.conf", &st) == 0;
	REAL(pthread_mutex_lock)(&nss_lock);
	if (ok != nss_st_ok ||
	    (ok && (st.st_ino != nss_st.st_ino || st.st_dev != nss_st.st_dev ||
		    st.st_size != nss_st.st_size ||
		    st.st_mtim.tv_sec != nss_st.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != nss_st.st_mtim.tv_nsec))) {
		char *line = NULL, *spec = NULL;
		size_t cap = 0;
		FILE *f = ok ? fopen("/etc/nsswitch.conf", "rce") : NULL;

		while (f != NULL && REAL(getdelim)(&line, &cap, '\n', f) > 0) {
			char *p = line;

			while (isspace((unsigned char)*p))
				p++;
			if (strncmp(p, "hosts", 5) != 0)
				continue;
			p += 5;
			while (isspace((unsigned char)*p))
				p++;
			if (*p != ':')
				continue;
			gr_free(spec);
			spec = gr_strdup(p + 1);
			break; /* glibc takes the first hosts line */
		}
		if (f != NULL)
			REAL(fclose)(f);
		free(line);
		/* glibc's default without a hosts line. */
		parse_services(&nss_cur,
			       spec ? spec : "dns [!UNAVAIL=return] files");
		gr_free(spec);
		nss_st = st;
		nss_st_ok = ok;
	}
	*out = nss_cur;
	REAL(pthread_mutex_unlock)(&nss_lock);
}

bool gr_gai_ares_capable(void)
{
	struct hosts_conf hc;

	gr_hosts_conf(&hc);
	return files_ok && !hc.other;
}

int gr_nss_next_action(const struct hosts_svc *s, enum nss_status st)
{
	if ((unsigned)(st + 2) > NSS_STATUS_RETURN + 2)
		return ACT_RETURN;
	return s->act[st + 2];
}
