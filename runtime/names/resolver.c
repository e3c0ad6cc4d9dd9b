/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * resolver.c — DNS transport: c-ares driven by the hub's libev loop, and
 * the resolver configuration as glibc reads it.  The only file that
 * includes <ares.h>.
 *
 * What it owns:
 *  - the configuration (struct gr_resconf): glibc's own res_ninit() parses
 *    /etc/resolv.conf, LOCALDOMAIN and RES_OPTIONS, so nameservers, search
 *    list, ndots, timeout, attempts, rotate, sortlist and every option are
 *    exactly glibc's.  Like glibc, the file is checked for changes on each
 *    lookup and read again when it changed.  GREEN_DNS_SERVERS replaces
 *    the nameservers (any port);
 *  - one c-ares channel per hub, made on the first lookup.  Its sockets
 *    are watched by ev_io watchers and its timeouts by an ev_timer in the
 *    hub's loop; c-ares reads and writes them from those callbacks (on the
 *    hub) or from inside ares_send() (on the asking green thread).  Its
 *    socket calls are ours (ares_set_socket_functions) and go to the real
 *    libc functions: c-ares never enters the shim's wrappers;
 *  - gr_res_send(): one or two queries (A and AAAA go out together, as
 *    glibc sends them) with glibc's retry rule: `attempts` rounds, each
 *    trying every server once with `timeout` seconds.  c-ares is given the
 *    server list `attempts` times over and one try (its own tries double
 *    the timeout each round, glibc's do not); the query keeps its id
 *    throughout, so a late answer to an earlier send counts, as in glibc.
 *    The caller parks (GR_WAIT_DNS) until every query has an outcome.
 *
 * Invariants and races:
 *  - a request lives on the heap: a thread cancelled while parked leaves
 *    it behind, and the c-ares callbacks still to come free it;
 *  - callbacks run on the hub's OS thread only (the channel belongs to
 *    one hub), either synchronously inside ares_send() or inside the hub's
 *    loop: the waiter publishes itself (gr_park_begin) before sending, so
 *    a callback that fires at once is not lost;
 *  - a channel whose configuration became stale is retired, not
 *    destroyed, until its last query completed (c-ares may not be
 *    destroyed from its own callback); retired channels are reaped at the
 *    next lookup on that hub;
 *  - after fork() the child drops every channel of its hub (their queries
 *    belong to threads that do not exist there) and closes their sockets;
 *    the next lookup makes a new channel.  The parent keeps its own.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "dns.h"

/* ---- configuration ---------------------------------------------------- */

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gr_resconf *conf_cur;
static struct stat conf_st;
static int conf_st_ok;
static unsigned conf_gen;

static void conf_free(struct gr_resconf *c)
{
	for (int i = 0; i < c->nsearch; i++)
		gr_free(c->search[i]);
	gr_free(c);
}

void gr_res_conf_put(struct gr_resconf *c)
{
	if (c != NULL && atomic_fetch_sub(&c->ref, 1) == 1)
		conf_free(c);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static struct gr_resconf *conf_load(void)
{
	struct __res_state st;
	struct gr_resconf *c = gr_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	memset(&st, 0, sizeof(st));
	/* glibc's own parser: resolv.conf, LOCALDOMAIN, RES_OPTIONS. */
	gr_nopark_enter();
	res_ninit(&st);
	gr_nopark_leave();
	c->retrans = st.retrans > 0 ? st.retrans : RES_TIMEOUT;
	c->retry = st.retry > 0 ? st.retry : 1;
	c->ndots = st.ndots;
	c->options = st.options;
	for (int i = 0; i < st.nscount && i < MAXNS; i++) {
		struct sockaddr_in6 *s6 = st._u._ext.nsaddrs[i];

		if (st.nsaddr_list[i].sin_family == AF_INET) {
			memcpy(&c->ns[c->nns++], &st.nsaddr_list[i],
			       sizeof(struct sockaddr_in));
		} else if (s6 != NULL && s6->sin6_family == AF_INET6) {
			memcpy(&c->ns[c->nns++], s6, sizeof(*s6));
		}
	}
	for (int i = 0; i < MAXDNSRCH && st.dnsrch[i] != NULL; i++) {
		c->search[i] = gr_strdup(st.dnsrch[i]);
		if (c->search[i] == NULL)
			break;
		c->nsearch = i + 1;
	}
	c->nsort = st.nsort;
	for (int i = 0; i < st.nsort && i < MAXRESOLVSORT; i++) {
		c->sort[i].addr = st.sort_list[i].addr;
		c->sort[i].mask = st.sort_list[i].mask;
	}
	res_nclose(&st);
	c->ref = 1;
	return c;
}

/* The current configuration, read again if resolv.conf changed.  The
 * caller holds a reference: gr_res_conf_put() when done. */
struct gr_resconf *gr_res_conf_get(void)
{
	struct gr_resconf *c;
	struct stat st;
	int ok = REAL(stat)(_PATH_RESCONF, &st) == 0;

	REAL(pthread_mutex_lock)(&conf_lock);
	if (conf_cur == NULL || ok != conf_st_ok ||
	    (ok && !same_file(&st, &conf_st))) {
		c = conf_load();
		if (c != NULL) {
			c->gen = ++conf_gen;
			gr_res_conf_put(conf_cur);
			conf_cur = c;
			conf_st = st;
			conf_st_ok = ok;
		}
	}
	c = conf_cur;
	if (c != NULL)
		atomic_fetch_add(&c->ref, 1);
	REAL(pthread_mutex_unlock)(&conf_lock);
	return c;
}

/* ---- c-ares's sockets: straight to libc ---------------------------------- */

/* Non-blocking from birth, and every transfer MSG_DONTWAIT: c-ares's own
 * fcntl(O_NONBLOCK) goes through the shim's fcntl, which need not set the
 * flag in the kernel; a blocking recv here would stop the hub. */
/*
 * One UDP socket per server carries every query of the hub, where glibc
 * has one per lookup: a thousand lookups at once means two thousand
 * answers arriving in a burst on one socket, more than the default
 * receive buffer (~200 KiB, about 200 small datagrams) holds while the
 * hub is busy sending.  Ask for 4 MiB, past rmem_max when allowed to.
 */
#define RES_RCVBUF (4 << 20)

static ares_socket_t sock_open(int af, int type, int proto, void *u)
{
	int fd = REAL(socket)(af, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	int want = RES_RCVBUF, got = 0;
	socklen_t len = sizeof(got);

	if (fd >= 0 && type == SOCK_DGRAM) {
		REAL(setsockopt)
		(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
		    got < want)
			REAL(setsockopt)
		(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
	}
	/* out of the program's way: a daemon's close-all spares it */
	return gr_shimfd_hide(fd);
}

static int sock_close(ares_socket_t fd, void *u)
{
	/* c-ares's fcntl(O_NONBLOCK) went through the shim's fcntl, which
	 * noted the fd: forget it before the number can be reused. */
	gr_fd_close(fd);
	return gr_shimfd_close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *sa,
			ares_socklen_t len, void *u)
{
	return REAL(connect)(fd, sa, len);
}

static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len,
				  int flags, struct sockaddr *from,
				  ares_socklen_t *flen, void *u)
{
	return REAL(recvfrom)(fd, buf, len, flags | MSG_DONTWAIT, from, flen);
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov,
			       int cnt, void *u)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = cnt};

	return REAL(sendmsg)(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static const struct ares_socket_functions sock_funcs = {
    sock_open, sock_close, sock_connect, sock_recvfrom, sock_sendv,
};

/* ---- channels on the hub's loop ------------------------------------------ */

struct res_io {
	ev_io w;
	struct res_io *next;
};

/* pacing: see the comment before pump() */
#define RES_WIN0     64
#define RES_WINMIN   16
#define RES_SSTHRESH 240 /* < 256 datagrams of a default buffer */
#define RES_WINMAX   65536
#define RES_LOSS_GAP 100000000LL /* ns: one halving per 100 ms at most */
#define RES_HOLD     50000000LL	 /* ns: a server this slow holds answers */
#define RES_RATE     25000	 /* queries/s to a server without feedback */
#define RES_BURST    240	 /* of them at once */
#define RES_TICK     1e-3	 /* s: the queue's timer */

struct res_req;

struct res_chan {
	ares_channel ch;
	unsigned gen;	/* configuration it was made with */
	int inflight;	/* queries not yet called back */
	int64_t budget; /* ns a lookup may take: timeout x tries */
	struct ev_loop *loop;
	ev_timer tm;
	struct res_io *ios;
	struct res_chan *next; /* retired list */
	/* pacing (see "Pacing" below) */
	int cwnd;	   /* queries that may be out at once */
	int64_t rtt_min;   /* ns, smallest seen; 0: none yet */
	int64_t last_loss; /* of the last halving */
	int acked;	   /* answers since the last +1 */
	bool growing;	   /* slow start: no queueing seen yet */
	bool pumping;
	struct res_req *qhead, *qtail; /* lookups waiting for the window */
	double tokens;		       /* queries that may go out now */
	double rate;		       /* tokens a second, <= rate_max */
	double rate_max, burst;	       /* RES_RATE, RES_BURST: its share */
	int ssthresh;		       /* RES_SSTHRESH: its share */
	int64_t tok_t;		       /* gr_now() when counted */
	ev_timer pace;		       /* pumps the queue */
};

struct res_hub {
	struct res_chan *cur;
	struct res_chan *retired;
};

/* Per OS thread (per hub: the channels' watchers are on its loop), kept in
 * the hub and not in TLS, which is per green thread. */
#define tls_rh (*(struct res_hub **)&gr_tls_hub->res_state)
static void pump(struct res_chan *c);
static void pace_cb(struct ev_loop *loop, ev_timer *w, int revents);
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;

static void timer_arm(struct res_chan *c)
{
	struct timeval tv, *p;

	ev_timer_stop(c->loop, &c->tm);
	if (c->inflight == 0)
		return;
	p = ares_timeout(c->ch, NULL, &tv);
	if (p == NULL)
		return;
	/* libev's "now" may be stale here; an early expiry only makes
	 * c-ares look at the clock and find nothing due. */
	ev_timer_set(&c->tm, p->tv_sec + p->tv_usec * 1e-6, 0.);
	ev_timer_start(c->loop, &c->tm);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct res_chan *c = w->data;

	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	pump(c);
	timer_arm(c);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct res_chan *c = w->data;
	int fd = w->fd;

	ares_process_fd(c->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
			(revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	pump(c);
	timer_arm(c);
}

/* Read whatever has arrived on the channel's sockets (from a green
 * thread; the callbacks ready their waiters as the hub's would). */
static void chan_drain(struct res_chan *c)
{
	int fds[16], n = 0;

	for (struct res_io *io = c->ios; io != NULL && n < 16; io = io->next)
		if (io->w.events & EV_READ)
			fds[n++] = io->w.fd;
	/* ares_process_fd may close sockets: the list was copied first. */
	for (int i = 0; i < n; i++)
		ares_process_fd(c->ch, fds[i], ARES_SOCKET_BAD);
}

/* c-ares opened, changed or is about to close one of its sockets. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct res_chan *c = data;
	struct res_io **pp, *io;

	for (pp = &c->ios; (io = *pp) != NULL; pp = &io->next)
		if (io->w.fd == fd)
			break;
	if (io != NULL)
		ev_io_stop(c->loop, &io->w);
	if (!readable && !writable) {
		if (io != NULL) {
			*pp = io->next;
			gr_free(io);
		}
		return;
	}
	if (io == NULL) {
		io = gr_calloc(1, sizeof(*io));
		if (io == NULL)
			gr_die("resolver: out of memory for a socket watcher");
		io->next = c->ios;
		c->ios = io;
	}
	ev_io_init(&io->w, io_cb, fd,
		   (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	io->w.data = c;
	ev_io_start(c->loop, &io->w);
}

static void lib_init(void)
{
	lib_ok = ares_library_init_mem(ARES_LIB_INIT_ALL, gr_malloc, gr_free,
				       gr_realloc) == ARES_SUCCESS;
	/* The child of a fork must not use its parent's channel
	 * (gr_res_after_fork, in fork.c's list). */
	gr_fork_register();
}

/*
 * The servers, each listed `attempts` times over: c-ares then sends a query
 * to server 1, 2, ..., 1, 2, ... with the same timeout each time, as glibc
 * does (with its own tries, c-ares would double the timeout for each round
 * over the list).  The query stays the same one throughout, so that a late
 * answer to an earlier send is still taken, as glibc takes it.
 */
static int set_servers(struct res_chan *c, const struct gr_resconf *conf)
{
	struct ares_addr_port_node base[MAXNS], *list = NULL, *v;
	const char *env = gr_conf()->dns_servers;
	static _Atomic int warned;
	int n = 0, total, r;

	if (env != NULL && *env != '\0') {
		if (ares_set_servers_ports_csv(c->ch, env) == ARES_SUCCESS &&
		    ares_get_servers_ports(c->ch, &list) == ARES_SUCCESS &&
		    list) {
			for (struct ares_addr_port_node *p = list;
			     p && n < MAXNS; p = p->next)
				base[n++] = *p;
			ares_free_data(list);
		} else if (!atomic_exchange(&warned, 1)) {
			gr_warn("GREEN_DNS_SERVERS=%s is not valid (accepted: "
				"ip[:port],... e.g. 127.0.0.1:5353,[::1]:53); "
				"using resolv.conf's nameservers",
				env);
		}
	}
	if (n == 0) {
		memset(base, 0, sizeof(base));
		for (int i = 0; i < conf->nns; i++) {
			const struct sockaddr *sa = (const void *)&conf->ns[i];

			if (sa->sa_family == AF_INET) {
				const struct sockaddr_in *s = (const void *)sa;

				base[n].family = AF_INET;
				base[n].addr.addr4 = s->sin_addr;
				base[n].udp_port = base[n].tcp_port =
				    ntohs(s->sin_port);
			} else {
				const struct sockaddr_in6 *s = (const void *)sa;

				base[n].family = AF_INET6;
				memcpy(&base[n].addr.addr6, &s->sin6_addr, 16);
				base[n].udp_port = base[n].tcp_port =
				    ntohs(s->sin6_port);
			}
			n++;
		}
	}
	/* No nameserver line: glibc asks the local host. */
	if (n == 0) {
		memset(base, 0, sizeof(base[0]));
		base[0].family = AF_INET;
		base[0].addr.addr4.s_addr = htonl(INADDR_LOOPBACK);
		base[0].udp_port = base[0].tcp_port = NAMESERVER_PORT;
		n = 1;
	}
	total = n * (conf->retry > 0 ? conf->retry : 1);
	v = gr_calloc(total, sizeof(*v));
	if (v == NULL)
		return -1;
	for (int i = 0; i < total; i++) {
		v[i] = base[i % n];
		v[i].next = i + 1 < total ? &v[i + 1] : NULL;
	}
	r = ares_set_servers_ports(c->ch, v);
	gr_free(v);
	return r == ARES_SUCCESS ? 0 : -1;
}

static struct res_chan *chan_new(const struct gr_resconf *conf)
{
	struct res_chan *c = gr_calloc(1, sizeof(*c));
	struct ares_options o;
	int mask;

	if (c == NULL)
		return NULL;
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	if (conf->options & RES_USEVC)
		o.flags |= ARES_FLAG_USEVC;
	if (conf->options & RES_IGNTC)
		o.flags |= ARES_FLAG_IGNTC;
	o.timeout = conf->retrans * 1000;
	o.tries = 1;
	o.lookups = (char *)"b";
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = c;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	       ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB;
	mask |=
	    (conf->options & RES_ROTATE) ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE;
	gr_nopark_enter();
	if (ares_init_options(&c->ch, &o, mask) != ARES_SUCCESS) {
		gr_nopark_leave();
		gr_free(c);
		return NULL;
	}
	gr_nopark_leave();
	ares_set_socket_functions(c->ch, &sock_funcs, c);
	if (set_servers(c, conf) != 0) {
		ares_destroy(c->ch);
		gr_free(c);
		return NULL;
	}
	c->gen = conf->gen;
	c->loop = gr_tls_hub->loop;
	ev_timer_init(&c->tm, timer_cb, 0., 0.);
	c->tm.data = c;
	/* the whole of c-ares's schedule for one query: every server of the
	 * list (nameservers x attempts) for `timeout` seconds each */
	c->budget = (int64_t)conf->retrans * 1000000000LL *
		    (conf->nns > 0 ? conf->nns : 1) *
		    (conf->retry > 0 ? conf->retry : 1);
	/* Each hub has a channel, and the channels of several hubs share
	 * the server's buffer: each starts with its share of the window, the
	 * burst and the rate (one lost query costs resolv.conf's timeout:
	 * 3,000 lookups at once from two hubs' full windows overflowed the
	 * test server's default buffer, and one waited out the 1 s retry). */
	{
		int share = gr_hubs_n > 1 ? gr_hubs_n : 1;

		c->cwnd = RES_WIN0 / share > RES_WINMIN ? RES_WIN0 / share
							: RES_WINMIN;
		c->ssthresh = RES_SSTHRESH / share > RES_WINMIN
				  ? RES_SSTHRESH / share
				  : RES_WINMIN;
		c->burst = (double)RES_BURST / share;
		c->rate_max = (double)RES_RATE / share;
	}
	c->growing = true;
	c->tokens = c->burst;
	c->rate = c->rate_max;
	c->tok_t = gr_now();
	ev_timer_init(&c->pace, pace_cb, 0., 0.);
	c->pace.data = c;
	return c;
}

static void chan_destroy(struct res_chan *c)
{
	ev_timer_stop(c->loop, &c->tm);
	ev_timer_stop(c->loop, &c->pace);
	ares_destroy(c->ch); /* closes its sockets: sock_state stops watchers */
	while (c->ios != NULL) {
		struct res_io *io = c->ios;

		c->ios = io->next;
		ev_io_stop(c->loop, &io->w);
		gr_free(io);
	}
	gr_free(c);
}

static struct res_chan *chan_get(const struct gr_resconf *conf)
{
	struct res_hub *rh = tls_rh;
	struct res_chan **pp, *c;

	REAL(pthread_once)(&lib_once, lib_init);
	if (!lib_ok)
		return NULL;
	if (rh == NULL) {
		rh = tls_rh = gr_calloc(1, sizeof(*rh));
		if (rh == NULL)
			return NULL;
	}
	/* Reap retired channels that have gone quiet. */
	for (pp = &rh->retired; (c = *pp) != NULL;) {
		if (c->inflight == 0 && c->qhead == NULL) {
			*pp = c->next;
			chan_destroy(c);
		} else {
			pp = &c->next;
		}
	}
	if (rh->cur != NULL && rh->cur->gen != conf->gen) {
		c = rh->cur;
		rh->cur = NULL;
		if (c->inflight == 0 && c->qhead == NULL) {
			chan_destroy(c);
		} else {
			c->next = rh->retired;
			rh->retired = c;
		}
	}
	if (rh->cur == NULL)
		rh->cur = chan_new(conf);
	return rh->cur;
}

/* ---- requests ---------------------------------------------------------- */

struct res_slot {
	struct res_req *req;
	int status; /* ARES_* */
	int rcode;  /* of a refusing server's answer */
	unsigned char *buf;
	int len;
	int64_t sent; /* gr_now() when given to c-ares */
};
struct res_req {
	struct gr_thread *waiter; /* NULL: abandoned (cancelled) */
	struct res_chan *chan;
	int pending;
	int n;
	bool queued; /* on chan's queue, not yet sent */
	struct res_req *qnext;
	const unsigned char *const *q; /* the caller's, while queued */
	const int *qlen;
	struct res_slot slot[GR_DNS_MAXQ];
};

static void req_free(struct res_req *r)
{
	for (int i = 0; i < GR_DNS_MAXQ; i++)
		gr_free(r->slot[i].buf);
	gr_free(r);
}

/*
 * Pacing.  c-ares has one UDP socket per server for all of the hub's
 * lookups and sends whatever it is given at once.  A server that keeps
 * the kernel's default receive buffer (net.core.rmem_default, 212,992
 * bytes here: 256 small datagrams) and reads them more slowly than they
 * come drops the rest, and each lost query waits for resolv.conf's
 * timeout.  So the channel has a window of queries that may be out at
 * once; a lookup that does not fit waits in a FIFO queue before c-ares
 * is asked (c-ares's timers start at ares_send; its own retries are not
 * paced, they are counted in the window).  The window:
 *  - starts at RES_WIN0 and grows by one per answer (doubles per round
 *    trip, as TCP's slow start) up to RES_SSTHRESH, or until the round
 *    trip grows past 1.5 x the smallest seen + 2 ms (queries queue at
 *    the server, the sign that comes before a drop); from there by one
 *    per window of answers;
 *  - is halved (at most once per RES_LOSS_GAP) by a loss sign: an answer
 *    that needed a retry, or a query that timed out;
 *  - applies only while the server answers within RES_HOLD.  A server
 *    that holds its answers longer (a recursive server waiting upstream,
 *    the test server's delay), or one that has not answered yet, gives no
 *    feedback for a whole round trip: a window clocked by its answers
 *    would take several round trips to let a burst out (from 64, about
 *    five of them for 2,000 queries).  There they go out at a rate
 *    instead: RES_BURST at once, then RES_RATE a second (a token bucket,
 *    filled as time passes, taken from by each lookup that goes), halved
 *    by a loss sign as the window is.  The rate is a guess no answer can
 *    correct within the first round trip: a server that reads fewer than
 *    about 25,000 queries a second with a default buffer still drops
 *    part of a burst.
 * With several hubs each hub's channel starts with 1/N of the window,
 * ssthresh, burst and rate: their queries meet in one server buffer.
 * A queued lookup keeps its total: from its start, no more than c-ares's
 * whole schedule for one query (timeout x servers x attempts), as glibc's;
 * then it fails as a time-out.
 */
static bool rcode_of_ok(int status)
{
	return status == ARES_ESERVFAIL || status == ARES_ENOTIMP ||
	       status == ARES_EREFUSED || status == ARES_EFORMERR;
}

static int rcode_of(int status)
{
	switch (status) {
	case ARES_ESERVFAIL:
		return ns_r_servfail;
	case ARES_ENOTIMP:
		return ns_r_notimpl;
	case ARES_EREFUSED:
		return ns_r_refused;
	case ARES_EFORMERR:
		return ns_r_formerr;
	}
	return -1;
}

/* May a lookup of n queries go out now?  (It then takes its tokens.) */
static bool win_open(struct res_chan *c, int n)
{
	int64_t now;

	if (c->inflight == 0)
		return true;
	if (c->rtt_min != 0 && c->rtt_min <= RES_HOLD)
		return c->inflight + n <= c->cwnd;
	now = gr_now();
	c->tokens += (double)(now - c->tok_t) * c->rate / 1e9;
	c->tok_t = now;
	if (c->tokens > c->burst)
		c->tokens = c->burst;
	if (c->tokens < n)
		return false;
	c->tokens -= n;
	return true;
}

static void send_req(struct res_chan *c, struct res_req *r);

static void pump(struct res_chan *c)
{
	struct res_req *r;

	if (c->pumping) /* an answer called back inside ares_send */
		return;
	c->pumping = true;
	while ((r = c->qhead) != NULL && win_open(c, r->n)) {
		c->qhead = r->qnext;
		if (c->qhead == NULL)
			c->qtail = NULL;
		r->queued = false;
		r->qnext = NULL;
		send_req(c, r);
	}
	c->pumping = false;
	if (c->qhead != NULL && !ev_is_active(&c->pace)) {
		ev_timer_set(&c->pace, RES_TICK, RES_TICK);
		ev_timer_start(c->loop, &c->pace);
	} else if (c->qhead == NULL && ev_is_active(&c->pace)) {
		ev_timer_stop(c->loop, &c->pace);
	}
}

static void pace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct res_chan *c = w->data;

	pump(c);
	timer_arm(c);
}

static void pace_answer(struct res_chan *c, struct res_slot *s, int status,
			int timeouts)
{
	int64_t now = gr_now(), rtt = now - s->sent;

	if (timeouts > 0 || status == ARES_ETIMEOUT) {
		if (now - c->last_loss >= RES_LOSS_GAP) {
			c->last_loss = now;
			c->cwnd =
			    c->cwnd / 2 > RES_WINMIN ? c->cwnd / 2 : RES_WINMIN;
			c->rate = c->rate / 2 > c->rate_max / 16
				      ? c->rate / 2
				      : c->rate_max / 16;
		}
		c->growing = false;
		return;
	}
	if (status != ARES_SUCCESS && !rcode_of_ok(status))
		return;
	if (c->rtt_min == 0 || rtt < c->rtt_min)
		c->rtt_min = rtt;
	if (c->rate < c->rate_max) /* back to it over ~1,000 answers */
		c->rate += c->rate_max / 1000.;
	if (c->growing && c->cwnd >= c->ssthresh)
		c->growing = false;
	if (c->cwnd >= RES_WINMAX)
		return;
	if (c->growing) {
		c->cwnd++;
	} else if (++c->acked >= c->cwnd) {
		c->acked = 0;
		c->cwnd++;
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
		      int alen)
{
	struct res_slot *s = arg;
	struct res_req *r = s->req;

	r->chan->inflight--;
	pace_answer(r->chan, s, status, timeouts);
	s->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		s->buf = gr_malloc(alen);
		if (s->buf != NULL) {
			memcpy(s->buf, abuf, alen);
			s->len = alen;
		} else {
			s->status = ARES_ENOMEM;
		}
	}
	if (--r->pending > 0)
		return;
	if (r->waiter != NULL)
		gr_ready(r->waiter, 0);
	else
		req_free(r);
}

static void send_req(struct res_chan *c, struct res_req *r)
{
	int n = r->n;

	/* r may be freed by its last callback inside ares_send */
	for (int i = 0; i < n; i++) {
		r->slot[i].sent = gr_now();
		c->inflight++;
		ares_send(c->ch, r->q[i], r->qlen[i], on_answer, &r->slot[i]);
	}
}

/* Take r off its channel's queue (cancelled or out of time there). */
static void unqueue(struct res_chan *c, struct res_req *r)
{
	struct res_req **pp;

	for (pp = &c->qhead; *pp != NULL; pp = &(*pp)->qnext)
		if (*pp == r) {
			*pp = r->qnext;
			break;
		}
	c->qtail = NULL;
	for (struct res_req *p = c->qhead; p != NULL; p = p->qnext)
		c->qtail = p;
	r->queued = false;
}

/*
 * Send n queries (n <= GR_DNS_MAXQ) together and wait for all of them:
 * up to `attempts` rounds, each round re-sending the queries that got no
 * usable answer yet.  out[i] gets the answer (malloc'd, the caller frees
 * buf) or buf NULL with rcode set when every server refused it
 * (SERVFAIL/NOTIMP/REFUSED), or -1.
 * Returns 0 when at least one query got an answer or a refusal,
 * -ETIMEDOUT when none got anything, -ECONNREFUSED when no server could
 * be reached, -ECANCELED if the thread was cancelled meanwhile,
 * -ENOMEM/-EAGAIN when the channel could not be made.
 */
long gr_res_send(const struct gr_resconf *conf, const unsigned char *const *q,
		 const int *qlen, int n, struct gr_dns_msg *out)
{
	struct res_chan *c;
	struct res_req *r;
	int refused = 0, got = 0;
	int64_t deadline = 0;
	long wake;

	GR_ASSERT(n > 0 && n <= GR_DNS_MAXQ);
	for (int i = 0; i < n; i++) {
		out[i].buf = NULL;
		out[i].len = 0;
		out[i].rcode = -1;
	}
	c = chan_get(conf);
	if (c == NULL)
		return -EAGAIN;
	r = gr_calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	GR_STAT_ADD(GR_ST_DNS, n);
	r->chan = c;
	r->waiter = gr_self();
	/* Many queries out and the hub busy running the threads that send
	 * them: take in the answers that are already here first, before the
	 * socket's buffer overflows (see RES_RCVBUF). */
	if (c->inflight >= 32)
		chan_drain(c);
	gr_park_begin(GR_WAIT_DNS);
	r->n = n;
	r->q = q;
	r->qlen = qlen;
	for (int i = 0; i < n; i++) {
		r->slot[i].req = r;
		r->pending++;
	}
	if (c->qhead == NULL && win_open(c, n)) {
		send_req(c, r);
	} else {
		/* behind the others (FIFO), within the total a lookup has */
		r->queued = true;
		if (c->qtail != NULL)
			c->qtail->qnext = r;
		else
			c->qhead = r;
		c->qtail = r;
		deadline = gr_now() + c->budget;
		pump(c); /* the queue moves as lookups come, too */
	}
	timer_arm(c);
	for (;;) {
		if (r->pending == 0) { /* answered inside ares_send */
			gr_park_abort();
			break;
		}
		wake = gr_park_end(deadline);
		if (r->pending == 0)
			break;
		if (wake == -ECANCELED || wake == -ETIMEDOUT) {
			if (r->queued) {
				unqueue(c, r);
				req_free(r);
			} else {
				/* The callbacks still due free the request. */
				r->waiter = NULL;
			}
			if (wake == -ECANCELED)
				return -ECANCELED;
			return -ETIMEDOUT;
		}
		/* Any other early wake-up: wait on, as glibc's poll loop
		 * does after EINTR. */
		gr_park_begin(GR_WAIT_DNS);
	}
	for (int i = 0; i < n; i++) {
		struct res_slot *s = &r->slot[i];

		if (s->status == ARES_SUCCESS && s->buf != NULL) {
			out[i].buf = s->buf;
			out[i].len = s->len;
			s->buf = NULL;
			got++;
		} else if (rcode_of(s->status) >= 0) {
			out[i].rcode = rcode_of(s->status);
			got++;
		} else if (s->status == ARES_ECONNREFUSED) {
			refused++;
		}
	}
	req_free(r);
	if (got > 0)
		return 0;
	return refused ? -ECONNREFUSED : -ETIMEDOUT;
}

/* ---- fork ------------------------------------------------------------------
 */

static void drop_chan(struct res_chan *c)
{
	/* The loop may be gone or remade in the child: do not touch it or
	 * the channel (its queries belong to threads that are not here).
	 * Close the sockets so that the parent's answers are not ours. */
	for (struct res_io *io = c->ios; io != NULL; io = io->next)
		gr_shimfd_close(io->w.fd);
}

void gr_res_after_fork(void)
{
	struct res_hub *rh;

	if (gr_tls_hub == NULL || (rh = tls_rh) == NULL)
		return;
	if (rh->cur != NULL)
		drop_chan(rh->cur);
	for (struct res_chan *c = rh->retired; c != NULL; c = c->next)
		drop_chan(c);
	tls_rh = NULL; /* leaked on purpose: see drop_chan */
}
