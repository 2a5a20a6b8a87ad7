# SPDX-License-Identifier: MIT
# phasor: plain GNU make with pkg-config.
#
#   make                 build build/phasor
#   make demo            install what is missing, build, run the demo console
#   make check           install what is missing, build, run every test
#   make SANITIZE=1 check  the same under ASan + UBSan (objects in build/san)
#   make bench           benchmarks (never part of check)
#   make soak            SOAK_MINUTES (30) of faults on a running plant (never part of check)
#   make fuzz            every libFuzzer harness for FUZZ_SECONDS (default 60) each
#                        (clang, objects in build/fuzz; never part of check,
#                        which runs each for FUZZ_CHECK_SECONDS instead)
#   make fuzz-cov        the parsers' coverage by the fuzz corpora (llvm-cov)
#   make deps            install the Debian packages
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0

ifeq ($(FUZZ),1)
# The fuzz build (tests/fuzz): clang with libFuzzer's coverage, ASan and
# UBSan; its own objects, so the normal build is never touched.
BUILD    ?= build/fuzz
CC       := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
OPT      ?= -O1 -g
else ifeq ($(FUZZ),cov)
# The harnesses with clang's source-based coverage, to replay a corpus
# (make fuzz-cov): no sanitizer, libFuzzer's main only.
BUILD    ?= build/fuzz-cov
CC       := clang
SANFLAGS := -fprofile-instr-generate -fcoverage-mapping
OPT      ?= -O1 -g
else ifeq ($(SANITIZE),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      ?= -O1 -g
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O2 -g
endif

CC       ?= cc
PKGS     := ncursesw libmodbus sqlite3 inih libpq libcjson libcrypto zlib gsl cairo libprotobuf-c
WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wundef -Werror
CPPFLAGS += -Iinclude -I$(BUILD)/gen -D_GNU_SOURCE -DPHASOR_VERSION='"$(VERSION)"' \
            -DPHASOR_PREFIX='"$(PREFIX)"'
CFLAGS   += -std=c11 -ffp-contract=off $(OPT) $(WARN) $(SANFLAGS) -pthread -MMD -MP
LDFLAGS  += $(SANFLAGS) -pthread
LDLIBS   += -lpaho-mqtt3as -lcrypt -lm

# pkg-config is only asked once the packages are there (make deps first).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS)

# One folder per layer (docs/architecture.md, "Source tree").
SRCS     := $(sort $(wildcard src/*/*.c))
LIBSRCS  := $(filter-out src/cmd/main.c,$(SRCS))
OBJS     := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
# Code generated at build time: the Sparkplug B payload (proto/*.proto,
# protoc-c) in $(BUILD)/gen/, compiled with the same strict flags.
PROTOS   := $(sort $(wildcard proto/*.proto))
GEN      := $(BUILD)/gen
GEN_HDRS := $(PROTOS:proto/%.proto=$(GEN)/%.pb-c.h)
GEN_OBJS := $(PROTOS:proto/%.proto=$(BUILD)/obj/gen/%.pb-c.o)
LIBOBJS  := $(LIBSRCS:src/%.c=$(BUILD)/obj/%.o) $(GEN_OBJS)
LIB      := $(BUILD)/libphasor.a
BIN      := $(BUILD)/phasor

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS  := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS  := $(FUZZ_NAMES:%=$(BUILD)/bin/%)
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 5

.PHONY: all deps demo check unit integration bench soak install clean tools layers fuzz fuzz-bins \
	fuzz-bins-fuzz fuzz-check fuzz-cov

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The samples module as a loadable extension for the sqlite3 shell (tests,
# operators: `.load build/phasor_samples`). Never sanitized: the shell is not.
VTAB_SO   := $(BUILD)/phasor_samples.so
VTAB_SRCS := src/store/samples_vtab.c src/store/codec.c src/base/util.c src/model/utility.c src/model/qty.c

all: $(BIN) $(VTAB_SO)

$(VTAB_SO): $(VTAB_SRCS) include/phasor/samples_vtab.h include/phasor/codec.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  SO      $@")
	$(Q)$(CC) -std=c11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE -DPHASOR_PREFIX='"$(PREFIX)"' -DSAMPLES_VTAB_EXTENSION \
		-shared -fPIC -o $@ $(VTAB_SRCS) -lz -lm

deps:
	@sh scripts/deps.sh

# Installs only when something is missing (a no-op otherwise).
deps-quiet:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	@$(if $(Q),echo "  PROTOC  $<")
	$(Q)protoc-c --proto_path=proto --c_out=$(GEN) $<

$(BUILD)/obj/gen/%.pb-c.o: $(GEN)/%.pb-c.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Whatever includes a generated header waits for it.
$(OBJS) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS) $(FUZZ_BINS): | $(GEN_HDRS)

$(LIB): $(LIBOBJS)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/cmd/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) -DPHASOR_TEST_SRCDIR='"$(CURDIR)"' $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(LIB) | $(BUILD)/tools
	@$(if $(Q),echo "  TOOL    $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB) | $(BUILD)/bench
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# A harness: libFuzzer's main, the library built with FUZZ=1 (make fuzz-bins).
$(BUILD)/bin/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(CPPFLAGS) -DPHASOR_TEST_SRCDIR='"$(CURDIR)"' $(CFLAGS) \
		-fsanitize=fuzzer -o $@ $< $(LIB) $(LDFLAGS) -fsanitize=fuzzer $(LDLIBS)

$(BUILD)/tests $(BUILD)/tools $(BUILD)/bench:
	@mkdir -p $@

tools: $(TOOL_BINS)

demo: deps-quiet
	@$(MAKE) --no-print-directory all
	./$(BIN) --demo

layers:
	@sh tests/layers.sh

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

integration: $(BIN) $(VTAB_SO) $(TOOL_BINS)
	@PHASOR=$(CURDIR)/$(BIN) TOOLS=$(CURDIR)/$(BUILD)/tools SANITIZE=$(SANITIZE) \
		bash tests/run-integration.sh

# Unit and integration tests both run, then one closing line counts them
# (cmocka test cases and integration scripts): "check: N passed, N failed".
check: deps-quiet
	@$(MAKE) --no-print-directory all tools $(UNIT_BINS)
	@counts=$(CURDIR)/$(BUILD)/check.counts; rm -f "$$counts"; rc=0; \
	COUNTS="$$counts" sh tests/layers.sh || rc=1; \
	COUNTS="$$counts" $(MAKE) --no-print-directory unit || rc=1; \
	COUNTS="$$counts" $(MAKE) --no-print-directory integration || rc=1; \
	COUNTS="$$counts" $(MAKE) --no-print-directory fuzz-check || rc=1; \
	awk '{ p += $$1; f += $$2 } END { printf "check: %d passed, %d failed\n", p, f }' "$$counts"; \
	exit $$rc

bench: deps-quiet
	@$(MAKE) --no-print-directory all tools $(BENCH_BINS)
	@PHASOR=$(CURDIR)/$(BIN) TOOLS=$(CURDIR)/$(BUILD)/tools BENCH=$(CURDIR)/$(BUILD)/bench \
		bash bench/run.sh

# The soak (tests/soak/soak.sh, docs/testing.md): SOAK_MINUTES (default 30)
# of a plant's faults; figures in build/figures.md. Never part of check.
soak: deps-quiet
	@$(MAKE) --no-print-directory all tools $(BUILD)/bench/gen_buffer
	@PHASOR=$(CURDIR)/$(BIN) TOOLS=$(CURDIR)/$(BUILD)/tools SOAK_OUT=$(CURDIR)/$(BUILD) \
		bash tests/soak/soak.sh

# Fuzzing (tests/fuzz, docs/testing.md): the harnesses are built by a
# nested make with FUZZ=1 (clang, build/fuzz), whatever SANITIZE says.
fuzz-bins:
	@$(MAKE) --no-print-directory FUZZ=1 SANITIZE= BUILD=build/fuzz fuzz-bins-fuzz

fuzz-bins-fuzz: $(FUZZ_BINS)
	@:

fuzz: deps-quiet fuzz-bins
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Each harness for a few seconds over its committed corpus: any crash fails.
fuzz-check: fuzz-bins
	@sh tests/fuzz/run.sh $(FUZZ_CHECK_SECONDS) $(FUZZ_NAMES)

# Line and branch coverage of the parsers by the corpora make fuzz grew
# (build/fuzz/corpus) and the committed seeds, with llvm-cov (package llvm).
fuzz-cov:
	@$(MAKE) --no-print-directory FUZZ=cov SANITIZE= BUILD=build/fuzz-cov fuzz-bins-fuzz
	@sh tests/fuzz/coverage.sh $(FUZZ_NAMES)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/phasor/profiles \
		$(DESTDIR)$(PREFIX)/share/phasor/themes $(DESTDIR)$(PREFIX)/share/doc/phasor
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/phasor
	install -m 644 conf/profiles/*.ini $(DESTDIR)$(PREFIX)/share/phasor/profiles/
	install -m 644 themes/*.ini $(DESTDIR)$(PREFIX)/share/phasor/themes/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/phasor/

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(GEN_OBJS:.o=.d) $(FUZZ_BINS:=.d)
