/*
 * config.c — the GREEN_* environment variables, read once with
 * secure_getenv.  A bad value gets one line on stderr naming the variable,
 * the value and what is accepted; the default is then used.  The host
 * program is never stopped for it.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "green.h"

struct gr_config gr_cfg;

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
	gr_warn("%s=%s is not valid (accepted: %s); using the default", var, v, list);
	return dflt;
}

/* A size in bytes with an optional k/K, m/M, g/G suffix. */
static size_t size_of(const char *var, size_t min, size_t max)
{
	const char *v = secure_getenv(var);
	char *end;
	unsigned long long n;

	if (v == NULL || *v == '\0')
		return 0;
	n = strtoull(v, &end, 10);
	switch (*end) {
	case 'k': case 'K': n <<= 10; end++; break;
	case 'm': case 'M': n <<= 20; end++; break;
	case 'g': case 'G': n <<= 30; end++; break;
	}
	if (end == v || *end != '\0' || n < min || n > max) {
		gr_warn("%s=%s is not valid (accepted: a size from %zuK to %zuG, "
			"e.g. 64K or 8M); using the default", var, v,
			min >> 10, max >> 30);
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
	if (end == v || *end != '\0' || n < min || n > max) {
		gr_warn("%s=%s is not valid (accepted: a whole number from %ld "
			"to %ld); using the default", var, v, min, max);
		return dflt;
	}
	return n;
}

void gr_config_load(void)
{
	static const struct choice threads[] = {
		{ "green", GR_MODE_GREEN }, { "native", GR_MODE_NATIVE }, { 0 } };
	static const struct choice backends[] = {
		{ "epoll", EVBACKEND_EPOLL }, { "poll", EVBACKEND_POLL },
		{ "select", EVBACKEND_SELECT }, { "iouring", EVBACKEND_IOURING },
		{ 0 } };
	static const struct choice fileio[] = {
		{ "inline", GR_FILEIO_INLINE }, { "pool", GR_FILEIO_POOL },
		{ "nowait", GR_FILEIO_NOWAIT }, { 0 } };
	static const struct choice resolver[] = {
		{ "ares", GR_RES_ARES }, { "thread", GR_RES_THREAD },
		{ "block", GR_RES_BLOCK }, { 0 } };
	static const struct choice onoff[] = {
		{ "1", 1 }, { "0", 0 }, { 0 } };
	static const struct choice deadlock[] = {
		{ "report", GR_DEADLOCK_REPORT }, { "abort", GR_DEADLOCK_ABORT },
		{ "ignore", GR_DEADLOCK_IGNORE }, { 0 } };
	struct gr_config c = { 0 };
	const char *v;

	c.threads = pick("GREEN_THREADS", threads, GR_MODE_GREEN);
	c.stack_size = size_of("GREEN_STACK_SIZE", 16 << 10, 1UL << 30);
	c.backend = pick("GREEN_BACKEND", backends, 0);
	if (c.backend && !(ev_supported_backends() & c.backend)) {
		gr_warn("GREEN_BACKEND=%s is not supported by this libev; using "
			"the default", secure_getenv("GREEN_BACKEND"));
		c.backend = 0;
	}
	c.pool_size = number_of("GREEN_POOL_SIZE", 1, 1024, 4);
	c.fileio = pick("GREEN_FILEIO", fileio, GR_FILEIO_INLINE);
	c.resolver = pick("GREEN_RESOLVER", resolver, GR_RES_AUTO);
	c.dns_servers = secure_getenv("GREEN_DNS_SERVERS");
	c.inherit = pick("GREEN_INHERIT", onoff, 1);
	v = secure_getenv("GREEN_STATS");
	c.stats = (v && *v && strcmp(v, "0") != 0) ? v : NULL;
	c.watchdog_ms = (int)number_of("GREEN_WATCHDOG_MS", 0, 3600000, 0);
	c.deadlock = pick("GREEN_DEADLOCK", deadlock, GR_DEADLOCK_REPORT);
	c.loaded = 1;
	gr_cfg = c;
}
