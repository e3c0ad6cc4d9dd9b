/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hosts.h — what the files of names/ that follow glibc 2.36 share: the
 * NSS "hosts" database (nsswitch.c), the kernel's address list
 * (check_pf.c), glibc's scratch buffer.  Internal to runtime/names/;
 * dns.h is the area's header for the rest of the runtime.
 */
#ifndef GREEN_HOSTS_H
#define GREEN_HOSTS_H

#include <netdb.h>
#include <nss.h>
#include "dns.h"

/* glibc's, exported for NSS modules: numeric names for gethostbyname. */
extern int __nss_hostname_digits_dots(const char *name, struct hostent *resbuf,
				      char **buffer, size_t *buffer_size,
				      size_t buflen, struct hostent **result,
				      enum nss_status *status, int af,
				      int *h_errnop);

/* glibc's files module never waits for anything but the disk; if one of
 * the shim's wrappers is reached from inside it, it must not park there. */
static inline void nopark_enter_if(bool c)
{
	if (c)
		gr_nopark_enter();
}

static inline void nopark_leave_if(bool c)
{
	if (c)
		gr_nopark_leave();
}

/* ---- nsswitch.c: the hosts line and its modules --------------------- */

typedef enum nss_status (*ghbn4_fn)(const char *, struct gaih_addrtuple **,
				    char *, size_t, int *, int *, int32_t *);
typedef enum nss_status (*ghbn3_fn)(const char *, int, struct hostent *, char *,
				    size_t, int *, int *, int32_t *, char **);
typedef enum nss_status (*ghbn2_fn)(const char *, int, struct hostent *, char *,
				    size_t, int *, int *);
typedef enum nss_status (*ghbn_fn)(const char *, struct hostent *, char *,
				   size_t, int *, int *);
typedef enum nss_status (*ghba_fn)(const void *, socklen_t, int,
				   struct hostent *, char *, size_t, int *,
				   int *);

struct hosts_module {
	ghbn4_fn byname4;
	ghbn3_fn byname3;
	ghbn2_fn byname2;
	ghbn_fn byname;
	ghba_fn byaddr;
};

enum { ACT_CONTINUE, ACT_RETURN, ACT_MERGE };
struct hosts_svc {
	const struct hosts_module *m;
	unsigned char act[5]; /* by nss_status + 2 */
};
struct hosts_conf {
	int n;
	bool other; /* names a source other than files and dns */
	struct hosts_svc svc[16];
};

extern struct hosts_module gr_nss_files GR_HIDDEN;    /* glibc's files module */
void gr_hosts_conf(struct hosts_conf *out) GR_HIDDEN; /* the hosts line now */
int gr_nss_next_action(const struct hosts_svc *s, enum nss_status st) GR_HIDDEN;

/* ---- gethostby_r.c --------------------------------------------------- */

/* glibc's __resolv_context_get(): resolv.conf (and once host.conf) loaded. */
bool gr_resolv_context(void) GR_HIDDEN;

/* ---- check_pf.c: the kernel's addresses ------------------------------ */

struct in6ai {
	uint8_t flags; /* IN6AI_* */
	uint8_t prefixlen;
	uint16_t pad;
	uint32_t index;
	uint32_t addr[4];
};
enum { IN6AI_DEPRECATED = 1, IN6AI_HOMEADDRESS = 2 };
void gr_check_pf(bool *seen4, bool *seen6, struct in6ai **out,
		 size_t *outlen) GR_HIDDEN;
void gr_check_native(uint32_t i1, int *n1, uint32_t i2, int *n2) GR_HIDDEN;

/* ---- getaddrinfo.c: a growable scratch buffer (glibc's scratch_buffer) */

/* A growable scratch buffer, like glibc's scratch_buffer. */
struct scratch {
	char *data;
	size_t length;
};
bool gr_scratch_grow(struct scratch *s) GR_HIDDEN;

#endif /* GREEN_HOSTS_H */
