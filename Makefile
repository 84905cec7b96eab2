# tcpwave: `make` builds ./tcpwave; `make help` lists the other targets.

CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' -e 's/loongarch64/loongarch/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

# Our own code is warning-free. SANITIZE=1 builds tcpwave and the unit tests
# with ASan and UBSan, apart (build/sanitize/) so that no object of one build
# is linked into the other, and `make test SANITIZE=1` tests that binary.
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE
ifeq ($(SANITIZE),1)
OUTPUT := build/sanitize
BINARY := $(OUTPUT)/tcpwave
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
OUTPUT := build
BINARY := tcpwave
endif
INCLUDES := -I$(OUTPUT) -Ibpf -Iuser

LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz
# SHA-1 and base64 for the Community ID (user/community_id.c).
NETTLE_CFLAGS = $(shell $(PKG_CONFIG) --cflags nettle 2>/dev/null)
NETTLE_LIBS = $(shell $(PKG_CONFIG) --libs nettle 2>/dev/null || echo -lnettle)

# Modules that use libbpf or the BPF skeleton; every other user/*.c is pure
# userspace code (no BPF, no root) that the unit tests link directly.
APP_SRCS := user/main.c user/loader.c $(wildcard user/*_btf.c)
CORE_SRCS := $(filter-out $(APP_SRCS),$(wildcard user/*.c))
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(APP_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%.o,$(UNIT_SRCS))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all bench build-deps clean deps run run-tests test test-deps unit e2e fuzz install vmlinux help check-arch FORCE
.DELETE_ON_ERROR:

all: $(BINARY)

help:
	@echo "make            build ./tcpwave"
	@echo "make deps       install the Debian/Ubuntu packages the build and tests need"
	@echo "make run        build deps + build + trace (as root); ARGS='--json' passes options"
	@echo "make test       unit tests, the fuzz corpus, then end-to-end tests (root)"
	@echo "make test SANITIZE=1  the same with ASan and UBSan (build/sanitize/tcpwave)"
	@echo "make fuzz       fuzz the recording reader for FUZZ_SECONDS (default 60)"
	@echo "make bench      throughput of a connection churn, untraced and traced (root)"
	@echo "make install    install tcpwave to \$$(DESTDIR)\$$(PREFIX)/sbin, its man page to"
	@echo "                \$$(DESTDIR)\$$(MANDIR)/man8 (MANDIR: \$$(PREFIX)/share/man)"
	@echo "make vmlinux    regenerate $(VMLINUX) from this kernel's BTF"
	@echo "make clean      remove build products"
	@echo "V=1 shows commands; SANITIZE=1 builds with ASan and UBSan"

check-arch:
	@test -f $(VMLINUX) || { echo "tcpwave: no $(VMLINUX) for architecture $(ARCH)" \
		"(uname -m: $$(uname -m)); generate one with 'make vmlinux' on a kernel with BTF" >&2; \
		exit 1; }

$(OUTPUT) $(OUTPUT)/unit:
	$(Q)mkdir -p $@

BPF_COMPILE = $(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf \
	$(LIBBPF_CFLAGS) -Wall -Werror -c $< -o $@

$(OUTPUT)/tcpwave.bpf.o: bpf/tcpwave.bpf.c $(wildcard bpf/*.h) | check-arch $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(BPF_COMPILE)

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h) bpf/tcpwave.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LIBBPF_CFLAGS) $(NETTLE_CFLAGS) -c $< -o $@

# The loader embeds the BPF object through the skeleton.
$(OUTPUT)/loader.o: $(OUTPUT)/tcpwave.skel.h

# -V's text: rewritten only when it changes (a commit, an edit), so that
# options.o is rebuilt then and only then.
$(OUTPUT)/version.h: FORCE | $(OUTPUT)
	$(Q)echo '#define TCPWAVE_VERSION "$(VERSION)"' > $@.new; \
	cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

$(OUTPUT)/options.o $(OUTPUT)/fuzz/options.o $(OUTPUT)/fuzz-corpus.d/options.o: $(OUTPUT)/version.h

FORCE:

$(BINARY): $(CORE_OBJS) $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) $(NETTLE_LIBS) -lm -o $@

$(OUTPUT)/unit/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(wildcard user/*.h) bpf/tcpwave.h \
		| $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/unit -c $< -o $@

$(OUTPUT)/unit-tests: $(UNIT_OBJS) $(CORE_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(NETTLE_LIBS) -lm -o $@

unit: $(OUTPUT)/unit-tests

# The fuzz target (tests/fuzz) runs tcpwave's own main(), renamed, on each
# input: every user/ module is built again with the sanitizers, once with
# clang for libFuzzer (make fuzz), once with $(CC) and a plain driver that
# replays the corpus and the crashes found so far (make test).
FUZZ_SECONDS ?= 60
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $(FUZZ_SANITIZE)
FUZZ_SRCS := $(CORE_SRCS) $(APP_SRCS)
FUZZ_LIBFUZZER_OBJS := $(patsubst user/%.c,$(OUTPUT)/fuzz/%.o,$(FUZZ_SRCS))
FUZZ_CORPUS_OBJS := $(patsubst user/%.c,$(OUTPUT)/fuzz-corpus.d/%.o,$(FUZZ_SRCS))

$(OUTPUT)/fuzz $(OUTPUT)/fuzz-corpus.d:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/main.o $(OUTPUT)/fuzz-corpus.d/main.o: FUZZ_DEFINES := -Dmain=tcpwave_main
$(OUTPUT)/fuzz/loader.o $(OUTPUT)/fuzz-corpus.d/loader.o: $(OUTPUT)/tcpwave.skel.h

$(OUTPUT)/fuzz/%.o: user/%.c $(wildcard user/*.h) bpf/tcpwave.h | $(OUTPUT)/fuzz
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_DEFINES) $(INCLUDES) \
		$(LIBBPF_CFLAGS) $(NETTLE_CFLAGS) -c $< -o $@

$(OUTPUT)/fuzz-corpus.d/%.o: user/%.c $(wildcard user/*.h) bpf/tcpwave.h | $(OUTPUT)/fuzz-corpus.d
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CC) $(FUZZ_CFLAGS) $(FUZZ_DEFINES) $(INCLUDES) $(LIBBPF_CFLAGS) $(NETTLE_CFLAGS) \
		-c $< -o $@

$(OUTPUT)/fuzz-recording: tests/fuzz/fuzz_recording.c $(FUZZ_LIBFUZZER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LIBBPF_LIBS) $(NETTLE_LIBS) -lm -o $@

$(OUTPUT)/fuzz-corpus: tests/fuzz/fuzz_recording.c tests/fuzz/run_inputs.c $(FUZZ_CORPUS_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(FUZZ_CFLAGS) $^ $(LIBBPF_LIBS) $(NETTLE_LIBS) -lm -o $@

# New inputs collect in $(OUTPUT)/fuzz-work; crashes land in tests/fuzz/crashes,
# where, once fixed, they stay as regression inputs for make test.
fuzz: $(OUTPUT)/fuzz-recording
	$(Q)mkdir -p $(OUTPUT)/fuzz-work tests/fuzz/crashes
	$(Q)$(OUTPUT)/fuzz-recording -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-close_fd_mask=2 -artifact_prefix=tests/fuzz/crashes/ \
		$(OUTPUT)/fuzz-work tests/fuzz/corpus

# Unit tests need no privileges; the end-to-end tests load BPF and skip
# (with the reason) when they cannot, except under CI=true where they must run.
# As root (sudo make test on a fresh host), first install what is missing;
# without root the unit tests run and the end-to-end tests say why they skip.
test-deps:
	$(Q)if [ "$$(id -u)" -eq 0 ]; then scripts/install-deps; fi

test: test-deps
	$(Q)$(MAKE) --no-print-directory run-tests

run-tests: $(BINARY) $(OUTPUT)/unit-tests $(OUTPUT)/fuzz-corpus
	$(Q)TCPWAVE=$(abspath $(BINARY)) UNIT_TESTS=$(OUTPUT)/unit-tests \
		FUZZ_CORPUS=$(OUTPUT)/fuzz-corpus tests/run

# Benchmarks are not tests: they report numbers. BENCH_ARGS='--rounds 9'.
bench: tcpwave $(OUTPUT)/churn $(OUTPUT)/floor
	$(Q)python3 bench/run.py $(BENCH_ARGS)

$(OUTPUT)/churn: bench/churn.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -pthread $< -o $@

# The floors tcpwave is measured against (bench/floor.bpf.c).
$(OUTPUT)/floor.bpf.o: bench/floor.bpf.c | check-arch $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(BPF_COMPILE)

$(OUTPUT)/floor: bench/floor.c $(OUTPUT)/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT) $(LIBBPF_CFLAGS) $< $(LIBBPF_LIBS) -o $@

# Tracing needs only the build's packages; the tests' (tshark, prometheus, ...) are make deps'.
run: build-deps $(BINARY)
	./$(BINARY) $(ARGS)

deps:
	$(Q)scripts/install-deps

build-deps:
	$(Q)scripts/install-deps build

install: $(BINARY)
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PREFIX)/sbin/tcpwave
	install -D -m 0644 docs/tcpwave.8 $(DESTDIR)$(MANDIR)/man8/tcpwave.8

vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)mkdir -p $(dir $(VMLINUX))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf build tcpwave
