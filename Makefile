# SPDX-License-Identifier: LGPL-2.1-or-later
# libgreen — build, test, bench.
# make            libgreen.so + the green command + every test program
# make test       the whole suite, then the programs' shim runs again with
#                 the other hub count (scripts/run-tests --other-hubs)
# make bench      scripts/bench, writes BENCHMARKS.md
VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
CXX     ?= g++
B       := build
CFLAGS  ?= -O2 -g
# SANFLAGS: compile and link flags of a sanitizer build (make asan/ubsan).
SANFLAGS ?=
# runtime/ is one folder per area (core, fd, names, proc, diag); each is on
# the include path, so a file names a header without its room.
RTDIRS  := $(sort $(dir $(wildcard runtime/*/*.c)))
ARCH    ?= $(shell uname -m)
RTINC   := $(patsubst %,-I%,$(RTDIRS)) -Iruntime/core/arch/$(ARCH)
WARN    := -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes
# CI builds (CI=true, as .ci/run runs) turn every warning into an error.
ifneq ($(CI),)
WARN    += -Werror
endif
LIBCFLAGS := -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
             -fno-omit-frame-pointer -ftls-model=initial-exec $(RTINC)
LIBLDFLAGS := -shared -Wl,-z,now -Wl,--no-undefined -Wl,--exclude-libs,ALL \
             
LIBS    := -lev -l:libcares.a -ldl -lpthread

LIBSRC  := $(wildcard runtime/*/*.c) $(wildcard shim/*.c)
LIBASM  := $(wildcard runtime/core/arch/$(ARCH)/*.S)
LIBOBJ  := $(patsubst %.c,$(B)/%.o,$(LIBSRC)) $(patsubst %.S,$(B)/%.o,$(LIBASM))

TPROGS_C  := $(wildcard tests/progs/*.c)
TPROGS_CC := $(wildcard tests/progs/*.cc)
TBINS := $(patsubst tests/progs/%.c,$(B)/tests/%,$(TPROGS_C)) \
         $(patsubst tests/progs/%.cc,$(B)/tests/%,$(TPROGS_CC))
HBINS := $(patsubst tests/helpers/%.c,$(B)/helpers/%,$(wildcard tests/helpers/*.c))
# Shared objects the test programs dlopen (next to them: build/tests/mods/).
TMODS := $(patsubst tests/progs/mods/%.c,$(B)/tests/mods/%.so,$(wildcard tests/progs/mods/*.c))

all: $(B)/libgreen.so $(B)/green tests

$(B)/%.o: %.c $(wildcard runtime/*/*.h runtime/core/arch/*/*.h shim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LIBCFLAGS) -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) -c $< -o $@

$(B)/libgreen.so: $(LIBOBJ)
	$(CC) $(SANFLAGS) $(LIBLDFLAGS) -o $@ $(LIBOBJ) $(LIBS)

$(B)/green: scripts/green Makefile
	@mkdir -p $(B)
	sed -e 's|@LIBDIR@|$(abspath $(B))|' -e 's|@VERSION@|$(VERSION)|' $< > $@ && chmod +x $@

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the library, the
# green command pointing at the installed library, and green(1).
install: $(B)/libgreen.so scripts/green docs/green.1
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(B)/libgreen.so $(DESTDIR)$(PREFIX)/lib/libgreen.so
	sed -e 's|@LIBDIR@|$(PREFIX)/lib|' -e 's|@VERSION@|$(VERSION)|' \
		scripts/green > $(DESTDIR)$(PREFIX)/bin/green
	chmod 755 $(DESTDIR)$(PREFIX)/bin/green
	install -m 644 docs/green.1 $(DESTDIR)$(PREFIX)/share/man/man1/green.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libgreen.so $(DESTDIR)$(PREFIX)/bin/green \
		$(DESTDIR)$(PREFIX)/share/man/man1/green.1

# Test programs are plain programs: they never link libgreen.  A line
# /* LIBS: -lfoo */ in a program names what else it links (e.g. -lev), a
# line /* CFLAGS: ... */ what it is compiled with besides (they come last,
# so -O2 there wins over -O1).
extra_libs = $(shell sed -n 's|^/\* LIBS: \(.*\) \*/.*|\1|p' $(1))
extra_cflags = $(shell sed -n 's|^/\* CFLAGS: \(.*\) \*/.*|\1|p' $(1))
tests: $(TBINS) $(HBINS) $(TMODS)
# A line /* MODFLAGS: ... */ in a module names its extra compiler flags.
mod_flags = $(shell sed -n 's|^/\* MODFLAGS: \(.*\) \*/.*|\1|p' $(1))
$(B)/tests/mods/%.so: tests/progs/mods/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -fPIC -shared $(call mod_flags,$<) $< -o $@
$(B)/tests/%: tests/progs/%.c tests/progs/check.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $(call extra_cflags,$<) $< -o $@ -lm $(call extra_libs,$<)
$(B)/tests/%: tests/progs/%.cc tests/progs/check.h
	@mkdir -p $(dir $@)
	$(CXX) -O1 -g -std=gnu++17 -Wall -pthread $(call extra_cflags,$<) $< -o $@ $(call extra_libs,$<)
$(B)/helpers/%: tests/helpers/%.c $(wildcard tests/helpers/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $< -o $@ -lm

# make check: the rules the code keeps, checked on the build: the layering
# (runtime/ calls no interposed name), the export list both ways, shellcheck.  Warnings
# (-Wmissing-prototypes among them) are errors in CI builds.
check: $(B)/libgreen.so shellcheck format-check
	scripts/check-layering $(B)
	LIBGREEN=$(abspath $(B))/libgreen.so BUILD=$(abspath $(B)) SRC=$(CURDIR) \
		bash tests/scripts/exports.sh

# The whole suite with the default hubs (or GREEN_HUBS from the
# environment), then the programs' shim runs with the other count (1 or 2):
# one hub and several in one `make test`, one summary line.
test: all check
	scripts/run-tests --other-hubs

bench: all
	scripts/bench

demo: all
	scripts/demo

# CPython's own test suite (Debian libpython3.11-testsuite), natively and
# under the shim, module by module; takes minutes, so not in `make test`.
# Prints the counts and rewrites the table in docs/cpython-tests.md.
cpython-tests: $(B)/libgreen.so
	scripts/cpython-tests

# Fuzzing the DNS answer parser (runtime/names/dnsmod.c) with libFuzzer; not part
# of `make test` (tests/scripts/fuzz_dns_answers.sh runs a short standalone
# pass there).  FUZZ_SECONDS=600 make fuzz for a longer run.
FUZZ_SECONDS ?= 60
fuzz: $(B)/fuzz/dns_answers_libfuzzer
	@mkdir -p $(B)/fuzz/corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(B)/fuzz/corpus
$(B)/fuzz/dns_answers_libfuzzer: tests/fuzz/dns_answers.c runtime/names/dnsmod.c runtime/names/dns.h runtime/core/green.h
	@mkdir -p $(dir $@)
	clang -O1 -g -D_GNU_SOURCE -DGR_LIBFUZZER -fsanitize=fuzzer,address,undefined $(RTINC) $< -o $@

# Sanitizer and valgrind runs: libgreen built into its own directory with
# the tool's flags, the test programs plain (uninstrumented, as every
# program the shim meets), and a named subset of the suite run with it.
# switchhook.h tells ASan (GR_ASAN) and valgrind (GR_VALGRIND) about the
# green stacks and every switch between them.  ASan must come first in the
# process, hence libasan preloaded ahead of libgreen.  Any report fails the
# run: ASan and UBSan abort (halt_on_error, -fno-sanitize-recover), valgrind
# exits 99.  docs/HACKING.md says more.
#   threads: create/join/detach/exit/cancel/keys, C11 and C++ threads
#   sync:    mutexes, conds, rwlocks, semaphores, barriers, once, spin
#   fd:      read/write families, poll/select/epoll, close wakes, timeouts
#   sleeps:  every sleep call, EINTR
#   dns:     getaddrinfo and friends through c-ares, around fork
SAN_TESTS := thread_api thread_cancel thread_create_fail thread_exit_main \
	c11_threads cxx_threads sync_ fd_ io_calls poll_select_mix \
	net_epoll_mix sock_rcvtimeo time_sleep_edge sig_nanosleep_eintr dns_fork
# valgrind runs every program some 50 times slower: the same areas, fewer
# (not poll_select_mix: valgrind 3.19 does not know epoll_pwait2), and
# without time slices: valgrind runs one thread at a time and cannot follow
# a signal handler that redirects the interrupted context to the preemption
# trampoline (it reports the trampoline's pops as reads off the stack).
VG_TESTS := thread_api thread_cancel sync_mutex_kinds sync_cond_timed \
	sync_semaphore sync_rwlock sync_producer_consumer io_calls \
	sock_rcvtimeo time_sleep_edge dns_fork
# ThreadSanitizer: the sync area, thread creation, fd waits and closes,
# each test under two hubs, so that green threads run on two OS threads
# and move between them (sync_cross_hub, below, makes sure they do).  libtsan goes
# after libgreen in the preload list: libgreen's calls of the real
# functions (REAL(): the next definition) then reach libtsan's
# interceptors, so TSan sees the hub threads the shim makes and the real
# locks it takes.  -O0: GCC's -O1 merges the loads of neighbouring char
# fields into one word, which TSan reports against a write of another
# field.  Function entry and exit are not instrumented: libtsan calls
# pthread_setspecific (ours) before the thread it starts has its call
# stack.  No time slices: TSan defers a signal to its next interceptor,
# so the preemption handler would not see the interrupted context.  Left
# out: thread_api (a green stack is 768 KiB bigger than asked, for
# libtsan's TLS, and it checks the size), fd_other_hub (glibc's own
# SIGEV_THREAD thread, which TSan does not know), io_calls and
# fd_reuse_libc_close (they time out), net_epoll_mix (one report: a close
# on one hub against libev's lazy epoll_ctl(DEL) on another, for an fd
# whose watcher that hub had stopped: libev removes a stopped fd from its
# epoll set only when an event for it comes, and the close may come
# between; the kernel answers that epoll_ctl with EBADF or ENOENT and libev
# rebuilds that hub's epoll set, so nothing is lost.  The report's
# symbolizing also stalls the program past its 5 s epoll_wait);
# sig_dispositions and sig_raise_default (TSan's own sigaction and fork
# interceptors change what they check); proc_waitpid_forms (under TSan the forked children repeat buffered
# stdout); tls_threads, net_echo_10k_clients, time_sleeps_overlap (more
# threads than TSan's 8,128).  Exit status 66 on any report.
# sync_cross_hub runs apart with 2,000 threads: TSan keeps at most 8,128
# threads alive, and the suite's shim run makes 10,000.
TSAN_TESTS := thread_create_fail c11_threads cxx_threads sync_barrier \
	sync_cond_timed sync_mutex_kinds sync_once_blocking \
	sync_producer_consumer sync_pshared sync_rwlock sync_semaphore sync_spin \
	fd_close_wakes fd_fifo_open poll_select_mix sock_rcvtimeo time_sleep_edge \
	thread_cancel thread_exit_main sig_alarm_read sig_before_eof tls_cxx \
	tls_dlopen_late io_epipe proc_close_all_fds sig_sigwait
TSAN_OPTIONS_RUN := halt_on_error=0:exitcode=66:report_signal_unsafe=0
ASAN_OPTIONS_RUN := detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0:use_sigaltstack=0:intercept_tls_get_addr=0
UBSAN_OPTIONS_RUN := halt_on_error=1:print_stacktrace=1
VALGRIND_RUN := valgrind -q --error-exitcode=99 --trace-children=no

asan:
	$(MAKE) B=build-asan SANFLAGS="-fsanitize=address -fno-omit-frame-pointer -DGR_ASAN" \
		CFLAGS="-O1 -g" build-asan/libgreen.so tests
	BUILD=$(abspath build-asan) ASAN_OPTIONS=$(ASAN_OPTIONS_RUN) \
	GREEN_TEST_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
		scripts/run-tests $(SAN_TESTS)

tsan:
	$(MAKE) B=build-tsan SANFLAGS="-fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -DGR_TSAN" \
		CFLAGS="-O0 -g" build-tsan/libgreen.so tests
	BUILD=$(abspath build-tsan) TSAN_OPTIONS=$(TSAN_OPTIONS_RUN) \
	GREEN_TEST_PRELOAD_AFTER="$$($(CC) -print-file-name=libtsan.so)" \
	GREEN_TEST_SHIM_ENV="GREEN_HUBS=2 GREEN_PREEMPT_MS=0" \
		scripts/run-tests $(TSAN_TESTS)
	GREEN_HUBS=2 GREEN_PREEMPT_MS=0 TSAN_OPTIONS=$(TSAN_OPTIONS_RUN) \
	LD_PRELOAD="$(abspath build-tsan)/libgreen.so $$($(CC) -print-file-name=libtsan.so)" \
		timeout 300 build-tsan/tests/sync_cross_hub 2000 20

ubsan:
	$(MAKE) B=build-ubsan SANFLAGS="-fsanitize=undefined -fno-sanitize-recover=undefined" \
		CFLAGS="-O1 -g" build-ubsan/libgreen.so tests
	BUILD=$(abspath build-ubsan) UBSAN_OPTIONS=$(UBSAN_OPTIONS_RUN) \
		scripts/run-tests $(SAN_TESTS)

valgrind:
	$(MAKE) B=build-valgrind SANFLAGS="-DGR_VALGRIND" build-valgrind/libgreen.so tests
	BUILD=$(abspath build-valgrind) GREEN_TEST_WRAP="$(VALGRIND_RUN)" \
	GREEN_TEST_SHIM_ENV="GREEN_PREEMPT_MS=0" \
		scripts/run-tests $(VG_TESTS)

# shellcheck over every shell script in scripts/ and tests/ (settings in
# .shellcheckrc); standalone, for `make check` to call.
SH_SCRIPTS = $(shell grep -l '^\#!.*\(ba\)\?sh' scripts/*) $(wildcard tests/scripts/*.sh \
	tests/scripts/lib/*.sh tests/helpers/*.sh)
shellcheck:
	shellcheck -x $(SH_SCRIPTS)

# The library's code in the project's style (.clang-format): the format was
# applied once; this keeps it (make check, so CI).  make format applies it.
FMT_SRC = $(wildcard runtime/*/*.[ch] runtime/core/arch/*/*.h shim/*.[ch])
format-check:
	@bad=$$(for f in $(FMT_SRC); do clang-format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not in .clang-format's style (make format):"; echo "$$bad"; exit 1; fi; \
	echo "format-check: $(words $(FMT_SRC)) files in style"
format:
	clang-format -i $(FMT_SRC)

clean:
	rm -rf $(B) build-asan build-tsan build-ubsan build-valgrind

.PHONY: format format-check all check tests test bench demo cpython-tests clean install uninstall fuzz \
	asan tsan ubsan valgrind shellcheck
