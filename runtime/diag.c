/*
 * diag.c — what users see of the inside: counters, the fallback count, and
 * the report of a hub where nothing can ever wake anyone.
 */
#include "green.h"

_Atomic uint64_t gr_stats[GR_ST__COUNT];
_Atomic uint64_t gr_stats_park[GR_WAIT__COUNT];

void gr_diag_fallback(const char *call)
{
	(void)call;
	GR_STAT_ADD(GR_ST_FALLBACK, 1);
}

/* The hub found nothing to run and no watcher that could change that. */
void gr_diag_idle(struct gr_hub *h)
{
	(void)h;
}

void gr_diag_start(void)
{
}
