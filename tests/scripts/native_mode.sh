#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TEST: timeout=200
# GREEN_THREADS=native: real threads, one hub each (gevent's hub-per-thread).
# The programs that do not need 100,000 threads must give the same output
# as without the shim.
set -u
: "${BUILD:?}" "${LIBGREEN:?}"
rc=0
for p in sync_mutex_kinds sync_producer_consumer sync_cond_timed sync_rwlock \
	 sync_semaphore sync_barrier sync_once_blocking thread_api thread_cancel \
	 c11_threads cxx_threads time_sleeps_overlap io_calls poll_select_mix \
	 net_epoll_mix dns_fork; do
	exe=$BUILD/tests/$p
	[ -x "$exe" ] || { echo "FAIL: $p is not built"; rc=1; continue; }
	want=$(timeout 60 "$exe" 2>/dev/null < /dev/null)
	got=$(timeout 60 env LD_PRELOAD="$LIBGREEN" GREEN_THREADS=native "$exe" 2>/tmp/native_mode.$$ < /dev/null)
	st=$?
	if [ $st -ne 0 ] || [ "$want" != "$got" ]; then
		echo "FAIL: $p under GREEN_THREADS=native (exit $st)"
		tail -5 /tmp/native_mode.$$
		rc=1
	else
		echo "ok: $p"
	fi
done
rm -f /tmp/native_mode.$$
exit $rc
