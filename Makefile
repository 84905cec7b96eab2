# tcpwave: `make` builds ./tcpwave; `make help` lists the other targets.

OUTPUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' -e 's/loongarch64/loongarch/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

# Our own code is warning-free; SANITIZE=1 builds with ASan and UBSan.
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DTCPWAVE_VERSION='"$(VERSION)"'
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
INCLUDES := -I$(OUTPUT) -Ibpf -Iuser

LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz

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

.PHONY: all clean deps run test unit e2e install vmlinux help check-arch
.DELETE_ON_ERROR:

all: tcpwave

help:
	@echo "make            build ./tcpwave"
	@echo "make deps       install the Debian/Ubuntu packages the build and tests need"
	@echo "make run        deps + build + trace (as root); ARGS='--json' passes options"
	@echo "make test       unit tests, then end-to-end tests (root)"
	@echo "make install    install tcpwave to \$$(DESTDIR)\$$(PREFIX)/sbin"
	@echo "make vmlinux    regenerate $(VMLINUX) from this kernel's BTF"
	@echo "make clean      remove build products"
	@echo "V=1 shows commands; SANITIZE=1 builds with ASan and UBSan"

check-arch:
	@test -f $(VMLINUX) || { echo "tcpwave: no $(VMLINUX) for architecture $(ARCH)" \
		"(uname -m: $$(uname -m)); generate one with 'make vmlinux' on a kernel with BTF" >&2; \
		exit 1; }

$(OUTPUT) $(OUTPUT)/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/tcpwave.bpf.o: bpf/tcpwave.bpf.c $(wildcard bpf/*.h) | check-arch $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf \
		$(LIBBPF_CFLAGS) -Wall -Werror -c $< -o $@

$(OUTPUT)/tcpwave.skel.h: $(OUTPUT)/tcpwave.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h) bpf/tcpwave.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LIBBPF_CFLAGS) -c $< -o $@

# The loader embeds the BPF object through the skeleton.
$(OUTPUT)/loader.o: $(OUTPUT)/tcpwave.skel.h

tcpwave: $(CORE_OBJS) $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBBPF_LIBS) -lm -o $@

$(OUTPUT)/unit/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(wildcard user/*.h) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/unit -c $< -o $@

$(OUTPUT)/unit-tests: $(UNIT_OBJS) $(CORE_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -lm -o $@

unit: $(OUTPUT)/unit-tests

# Unit tests need no privileges; the end-to-end tests load BPF and skip
# (with the reason) when they cannot, except under CI=true where they must run.
test: tcpwave $(OUTPUT)/unit-tests
	$(Q)tests/run

run: deps tcpwave
	./tcpwave $(ARGS)

deps:
	$(Q)scripts/install-deps

install: tcpwave
	install -D -m 0755 tcpwave $(DESTDIR)$(PREFIX)/sbin/tcpwave

vmlinux:
	$(call msg,GEN,$(VMLINUX))
	$(Q)mkdir -p $(dir $(VMLINUX))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) tcpwave
