# libgreen — build, test, bench.
# make            libgreen.so + the green command + every test program
# make test       the whole suite (scripts/run-tests)
# make bench      scripts/bench, writes BENCHMARKS.md
CC      ?= gcc
CXX     ?= g++
B       := build
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter
LIBCFLAGS := -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
             -fno-omit-frame-pointer -ftls-model=initial-exec -Iruntime
LIBLDFLAGS := -shared -Wl,-z,now -Wl,--no-undefined -Wl,--exclude-libs,ALL \
             
LIBS    := -lev -lcares -ldl -lpthread

LIBSRC  := $(wildcard runtime/*.c) $(wildcard shim/*.c)
LIBASM  := $(wildcard runtime/*.S)
LIBOBJ  := $(patsubst %.c,$(B)/%.o,$(LIBSRC)) $(patsubst %.S,$(B)/%.o,$(LIBASM))

TPROGS_C  := $(wildcard tests/progs/*.c)
TPROGS_CC := $(wildcard tests/progs/*.cc)
TBINS := $(patsubst tests/progs/%.c,$(B)/tests/%,$(TPROGS_C)) \
         $(patsubst tests/progs/%.cc,$(B)/tests/%,$(TPROGS_CC))
HBINS := $(patsubst tests/helpers/%.c,$(B)/helpers/%,$(wildcard tests/helpers/*.c))

all: $(B)/libgreen.so $(B)/green tests

$(B)/%.o: %.c $(wildcard runtime/*.h shim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIBCFLAGS) -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) -c $< -o $@

$(B)/libgreen.so: $(LIBOBJ)
	$(CC) $(LIBLDFLAGS) -o $@ $(LIBOBJ) $(LIBS)

$(B)/green: scripts/green
	@mkdir -p $(B)
	sed 's|@LIBDIR@|$(abspath $(B))|' $< > $@ && chmod +x $@

# Test programs are plain programs: they never link libgreen.  A line
# /* LIBS: -lfoo */ in a program names what else it links (e.g. -lev).
extra_libs = $(shell sed -n 's|^/\* LIBS: \(.*\) \*/.*|\1|p' $(1))
tests: $(TBINS) $(HBINS)
$(B)/tests/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $< -o $@ -lm $(call extra_libs,$<)
$(B)/tests/%: tests/progs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) -O1 -g -std=gnu++17 -Wall -pthread $< -o $@ $(call extra_libs,$<)
$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -Wall -D_GNU_SOURCE -pthread $< -o $@ -lm

test: all
	scripts/run-tests

bench: all
	scripts/bench

demo: all
	scripts/demo

clean:
	rm -rf $(B)

.PHONY: all tests test bench demo clean
