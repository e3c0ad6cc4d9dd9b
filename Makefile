# libgreen — build, test, bench.
# make            libgreen.so + the green command + every test program
# make test       the whole suite (scripts/run-tests)
# make bench      scripts/bench, writes BENCHMARKS.md
VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
CXX     ?= g++
B       := build
CFLAGS  ?= -O2 -g
# runtime/ is one folder per area (core, fd, names, proc, diag); each is on
# the include path, so a file names a header without its room.
RTDIRS  := $(sort $(dir $(wildcard runtime/*/*.c)))
RTINC   := $(patsubst %,-I%,$(RTDIRS))
WARN    := -Wall -Wextra -Wno-unused-parameter
LIBCFLAGS := -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
             -fno-omit-frame-pointer -ftls-model=initial-exec $(RTINC)
LIBLDFLAGS := -shared -Wl,-z,now -Wl,--no-undefined -Wl,--exclude-libs,ALL \
             
LIBS    := -lev -l:libcares.a -ldl -lpthread

ARCH    ?= $(shell uname -m)
LIBSRC  := $(wildcard runtime/*/*.c) $(wildcard shim/*.c)
LIBASM  := $(wildcard runtime/core/arch/$(ARCH)/*.S)
LIBOBJ  := $(patsubst %.c,$(B)/%.o,$(LIBSRC)) $(patsubst %.S,$(B)/%.o,$(LIBASM))

TPROGS_C  := $(wildcard tests/progs/*.c)
TPROGS_CC := $(wildcard tests/progs/*.cc)
TBINS := $(patsubst tests/progs/%.c,$(B)/tests/%,$(TPROGS_C)) \
         $(patsubst tests/progs/%.cc,$(B)/tests/%,$(TPROGS_CC))
HBINS := $(patsubst tests/helpers/%.c,$(B)/helpers/%,$(wildcard tests/helpers/*.c))

all: $(B)/libgreen.so $(B)/green tests

$(B)/%.o: %.c $(wildcard runtime/*/*.h shim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIBCFLAGS) -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) -c $< -o $@

$(B)/libgreen.so: $(LIBOBJ)
	$(CC) $(LIBLDFLAGS) -o $@ $(LIBOBJ) $(LIBS)

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
tests: $(TBINS) $(HBINS)
$(B)/tests/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $(call extra_cflags,$<) $< -o $@ -lm $(call extra_libs,$<)
$(B)/tests/%: tests/progs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) -O1 -g -std=gnu++17 -Wall -pthread $(call extra_cflags,$<) $< -o $@ $(call extra_libs,$<)
$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $< -o $@ -lm

test: all
	scripts/run-tests

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

clean:
	rm -rf $(B)

.PHONY: all tests test bench demo cpython-tests clean install uninstall fuzz
