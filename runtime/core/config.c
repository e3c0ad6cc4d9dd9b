/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.c — the GREEN_* environment variables, read once with
 * secure_getenv.  A bad value gets one line on stderr naming the variable,
 * the value and what is accepted; the default is then used.  The host
 * program is never stopped for it.
 */
#include <arpa/inet.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "green.h"

struct gr_config gr_cfg;

/* GREEN_HUBS's default: 0 (auto, one per CPU) or 1. */
#ifndef GR_SPIN_US_DEFAULT
#define GR_SPIN_US_DEFAULT 20
#endif
#ifndef GR_HUBS_DEFAULT
#define GR_HUBS_DEFAULT 0
#endif

struct choice {
	const char *name;
	int value;
};

static int pick(const char *var, const struct choice *c, int dflt)
{
	const char *v = secure_getenv(var);
	char list[256] = "";

	if (v == NULL || *v == '\0')
		return dflt;
	for (const struct choice *p = c; p->name; p++) {
		if (strcmp(v, p->name) == 0)
			return p->value;
		if (list[0])
			strcat(list, "|");
		strcat(list, p->name);
	}
	gr_warn("%s=%s is not valid (accepted: %s); using the default", var, v,
		list);
	return dflt;
}

/* A size in bytes with an optional k/K, m/M, g/G suffix. */
static size_t size_of(const char *var, size_t min, size_t max)
{
	const char *v = secure_getenv(var);
	char *end;
	unsigned long long n;
	unsigned shift = 0;

	if (v == NULL || *v == '\0')
		return 0;

	n = strtoull(v, &end, 10);
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	/* Digits only (strtoull takes "-1" and " 1"), and no overflow. */
	if (*v < '0' || *v > '9' || n > (max >> shift))
		n = 0;
	else
		n <<= shift;
	if (end == v || *end != '\0' || n < min || n > max) {
		gr_warn(
		    "%s=%s is not valid (accepted: a size from %zuK to %zuG, "
		    "e.g. 64K or 8M); using the default",
		    var, v, min >> 10, max >> 30);
		return 0;
	}
	return n;
}

static long number_of(const char *var, long min, long max, long dflt)
{
	const char *v = secure_getenv(var);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max ||
	    (*v != '-' && (*v < '0' || *v > '9'))) {
		gr_warn("%s=%s is not valid (accepted: a whole number from %ld "
			"to %ld); using the default",
			var, v, min, max);
		return dflt;
	}
	return n;
}

/* GREEN_HUBS: auto (0: the CPUs of the affinity mask, resolved at the
 * first pthread_create) or 1..GR_HUBS_MAX.  One hub is what a reproducible
 * run needs, so the virtual clock and seeded schedules keep to one
 * (sched.c for the latter). */
static int hubs_of(const struct gr_config *c)
{
	const char *v = secure_getenv("GREEN_HUBS");
	int n = GR_HUBS_DEFAULT;

	if (v != NULL && *v != '\0' && strcmp(v, "auto") == 0)
		n = 0;
	else if (v != NULL && *v != '\0') {
		char *end;
		long l = strtol(v, &end, 10);

		if (end == v || *end != '\0' || l < 1 || l > GR_HUBS_MAX ||
		    *v < '0' || *v > '9')
			gr_warn(
			    "GREEN_HUBS=%s is not valid (accepted: auto, or "
			    "a whole number from 1 to %d); using the "
			    "default (%s)",
			    v, GR_HUBS_MAX, GR_HUBS_DEFAULT ? "1" : "auto");
		else
			n = (int)l;
	}
	/* The virtual clock jumps when the one hub is idle (documented:
	 * green(1) says it runs on one hub, whatever GREEN_HUBS says). */
	if (c->clock == GR_CLOCK_VIRTUAL)
		n = 1;
	/* A watcher whose fd another hub closes is stopped by its owner a
	 * moment later (fd.c): epoll forgets a closed fd by itself, libev's
	 * poll and select backends abort on one ("invalid fd in poll set"). */
	if (c->backend == EVBACKEND_POLL || c->backend == EVBACKEND_SELECT)
		n = 1;
	/* GREEN_RESOLVER=block: glibc's own lookups on the hub, in its
	 * resolver state (_res), which green threads share: from two hubs
	 * at once they would run in it together (answers lost). */
	if (c->resolver == GR_RES_BLOCK)
		n = 1;
	return n;
}

/* One server of GREEN_DNS_SERVERS: a.b.c.d[:port], [v6][:port] or a bare
 * v6 address, as c-ares' ares_set_servers_ports_csv takes them. */
static bool dns_server_ok(const char *s, size_t len)
{
	char host[64];
	const char *port = NULL, *h = s;
	size_t hl = len;
	unsigned char addr[16];

	if (len == 0 || len >= sizeof(host))
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return false;
		h = s + 1;
		hl = close - h;
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return false;
			port = close + 2;
		}
	} else {
		const char *c = memchr(s, ':', len);

		if (c && memchr(c + 1, ':', len - (c + 1 - s)) == NULL) {
			hl = c - s; /* one colon: v4 with a port */
			port = c + 1;
		}
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1)
		return false;
	if (port) {
		size_t pl = len - (port - s);
		unsigned long p = 0;

		if (pl == 0 || pl > 5)
			return false;
		for (size_t i = 0; i < pl; i++) {
			if (port[i] < '0' || port[i] > '9')
				return false;
			p = p * 10 + (port[i] - '0');
		}
		if (p == 0 || p > 65535)
			return false;
	}
	return true;
}

static const char *dns_servers(void)
{
	const char *v = secure_getenv("GREEN_DNS_SERVERS");

	if (v == NULL || *v == '\0')
		return NULL;
	for (const char *p = v;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (!dns_server_ok(p, len)) {
			gr_warn("GREEN_DNS_SERVERS=%s is not valid (accepted: "
				"ip[:port],... e.g. 127.0.0.1:5353,[::1]:53); "
				"using resolv.conf's nameservers",
				v);
			return NULL;
		}
		if (comma == NULL)
			return v;
		p = comma + 1;
	}
}

/* GREEN_STATS: 1 (or "stderr") for stderr, 0 for none, or a file: a path
 * has a '/' in it, so a typo such as "yes" is not taken for a file name. */
static const char *stats_dest(void)
{
	const char *v = secure_getenv("GREEN_STATS");

	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0)
		return NULL;
	if (strcmp(v, "1") == 0 || strcmp(v, "stderr") == 0 || strchr(v, '/'))
		return v;
	gr_warn("GREEN_STATS=%s is not valid (accepted: 1 or stderr, 0, or a "
		"file path with a '/', e.g. ./stats.txt or /tmp/stats.%%p); "
		"using the default (no stats)",
		v);
	return NULL;
}

void gr_config_load(void)
{
	static const struct choice threads[] = {
	    {"green", GR_MODE_GREEN}, {"native", GR_MODE_NATIVE}, {0}};
	static const struct choice backends[] = {
	    {"epoll", EVBACKEND_EPOLL},
	    {"poll", EVBACKEND_POLL},
	    {"select", EVBACKEND_SELECT},
	    {"iouring", EVBACKEND_IOURING}, /* known, refused below */
	    {0}};
	static const struct choice fileio[] = {{"inline", GR_FILEIO_INLINE},
					       {"pool", GR_FILEIO_POOL},
					       {"nowait", GR_FILEIO_NOWAIT},
					       {0}};
	static const struct choice resolver[] = {{"ares", GR_RES_ARES},
						 {"thread", GR_RES_THREAD},
						 {"block", GR_RES_BLOCK},
						 {0}};
	static const struct choice onoff[] = {{"1", 1}, {"0", 0}, {0}};
	static const struct choice deadlock[] = {{"report", GR_DEADLOCK_REPORT},
						 {"abort", GR_DEADLOCK_ABORT},
						 {"ignore", GR_DEADLOCK_IGNORE},
						 {0}};
	/* GREEN_TLS: auto (a block per green thread, wrfsbase where the
	 * kernel allows it), syscall (arch_prctl on every switch: for
	 * measuring), shared (the OS thread's block for all, as before
	 * issue 12: for measuring and as a way out). */
	static const struct choice tlsmodes[] = {{"auto", GR_TLS_AUTO},
						 {"syscall", GR_TLS_SYSCALL},
						 {"shared", GR_TLS_SHARED},
						 {0}};
	static const struct choice clocks[] = {
	    {"real", GR_CLOCK_REAL}, {"virtual", GR_CLOCK_VIRTUAL}, {0}};
	struct gr_config c = {0};

	c.threads = pick("GREEN_THREADS", threads, GR_MODE_GREEN);
	c.stack_size = size_of("GREEN_STACK_SIZE", 16 << 10, 1UL << 30);
	c.backend = pick("GREEN_BACKEND", backends, 0);
	/* libev 4.33's io_uring backend asserts that io_uring_enter consumed
	 * every queued sqe, which the kernel does not promise (it may stop
	 * early: -EAGAIN, -EBUSY on a full completion ring), and aborts the
	 * program (ev_iouring.c:240 "did not consume all sqes", seen with an
	 * echo server at 1,000 connections).  A setting must never kill the
	 * program, and this cannot be checked at start, so it is refused. */
	if (c.backend == EVBACKEND_IOURING) {
		gr_warn("GREEN_BACKEND=iouring is not valid (accepted: "
			"epoll|poll|select; libev's io_uring backend can abort "
			"the program under load); using the default");
		c.backend = 0;
	}
	if (c.backend && !(ev_supported_backends() & c.backend)) {
		char ok[64] = "";

		for (const struct choice *p = backends; p->name; p++)
			if (ev_supported_backends() & p->value) {
				if (ok[0])
					strcat(ok, "|");
				strcat(ok, p->name);
			}
		gr_warn("GREEN_BACKEND=%s is not supported by this libev or "
			"kernel (accepted here: %s); using the default",
			secure_getenv("GREEN_BACKEND"), ok);
		c.backend = 0;
	}
	c.pool_size = number_of("GREEN_POOL_SIZE", 1, 1024, 4);
	c.fileio = pick("GREEN_FILEIO", fileio, GR_FILEIO_INLINE);
	c.resolver = pick("GREEN_RESOLVER", resolver, GR_RES_AUTO);
	c.dns_servers = dns_servers();
	/* GREEN_INHERIT is acted on as the library loads (proc.c); here it
	 * is only checked, so a bad value gets its line like the others. */
	(void)pick("GREEN_INHERIT", onoff, 1);
	c.stats = stats_dest();
	c.watchdog_ms = (int)number_of("GREEN_WATCHDOG_MS", 0, 3600000, 0);
	c.deadlock = pick("GREEN_DEADLOCK", deadlock, GR_DEADLOCK_REPORT);
	c.preempt_ms = (int)number_of("GREEN_PREEMPT_MS", 0, 1000, 10);
	c.spin_us =
	    (int)number_of("GREEN_SPIN_US", 0, 1000, GR_SPIN_US_DEFAULT);
	/* glibc keeps SIGRTMIN-3..SIGRTMIN-1 (32..34) for itself; the
	 * watchdog borrows SIGRTMAX-1 for backtraces. */
	c.preempt_sig = (int)number_of("GREEN_PREEMPT_SIG", 0, SIGRTMAX, 0);
	if (c.preempt_sig != 0 &&
	    (c.preempt_sig < SIGRTMIN || c.preempt_sig == SIGRTMAX - 1)) {
		gr_warn(
		    "GREEN_PREEMPT_SIG=%d is not valid (accepted: a real-time "
		    "signal from %d to %d, not %d, which the watchdog uses); "
		    "using the default (%d)",
		    c.preempt_sig, SIGRTMIN, SIGRTMAX, SIGRTMAX - 1,
		    SIGRTMAX - 2);
		c.preempt_sig = 0;
	}
	c.tls = pick("GREEN_TLS", tlsmodes, GR_TLS_AUTO);
	c.clock = pick("GREEN_CLOCK", clocks, GR_CLOCK_REAL);
	c.clock_idle_ms = (int)number_of("GREEN_CLOCK_IDLE_MS", 0, 3600000, 50);
	if (c.clock == GR_CLOCK_VIRTUAL && c.threads == GR_MODE_NATIVE) {
		gr_warn(
		    "GREEN_CLOCK=virtual needs green threads (real threads "
		    "keep the kernel's clock): not with GREEN_THREADS=native; "
		    "using the real clock");
		c.clock = GR_CLOCK_REAL;
	}
	c.hubs = hubs_of(&c);
	c.loaded = 1;
	gr_cfg = c;
}
