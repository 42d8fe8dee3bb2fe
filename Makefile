# nfchain build. Outputs go to .output/ (or .output-asan/ with SAN=1); the
# source tree stays clean. `make V=1` shows the full commands.
#
# An NF is a folder nf/<name>/ holding <name>.bpf.c (data plane, built once
# for XDP and once for TC) and any number of other .c files (its control
# plane, linked into libnfchain); it is registered by one line in nf/list.h.

.DELETE_ON_ERROR:
# Skeletons and objects are not intermediate files to throw away. No
# .SECONDARY with prerequisites anywhere: it would narrow this to those.
.SECONDARY:
.DEFAULT_GOAL := all

SAN ?= 0
ifeq ($(SAN),1)
OUT := .output-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OUT := .output
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m)
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 $(SANFLAGS)
CPPFLAGS += -Iinclude -Ibpf -Ilib -Itests/unit -I$(OUT)/skel -D_GNU_SOURCE
# --as-needed: a library named here that a binary does not use is not
# loaded by it (each costs start-up time and resident pages).
LDFLAGS += $(SANFLAGS) -Wl,--as-needed
# No -lpcap: the library loads it when it compiles an expression
# (lib/cbpf_pcap.c says why); what calls libpcap itself adds it.
LDLIBS += $(shell pkg-config --libs libbpf jansson 2>/dev/null || echo -lbpf -ljansson) -lelf -lz
# -mcpu=v3: 32-bit ALU and jmp32, so no shift pair zero-extends each u32;
# a forwarder hop's image is smaller and ~1.5 ns faster (docs/performance.md).
# -DBPF_NO_PRESERVE_ACCESS_INDEX: our programs read only UAPI structs
# (packet headers, the hook's context), whose layout never changes, so
# vmlinux.h's CO-RE relocations bought nothing. They cost every NF load a
# parse of the kernel's BTF (~50 ms and 13 MB on a cold heap: the
# forwarder loaded in 80 ms, now 9) and kept the compiler from folding
# field offsets (the router's programs: 327k -> 194k verified
# instructions; every NF's image 1-7% smaller).
BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Werror -I$(OUT) -Ibpf \
	-I/usr/include/$(ARCH)-linux-gnu -D__TARGET_ARCH_x86 \
	-DBPF_NO_PRESERVE_ACCESS_INDEX
# Every BPF object depends on this stamp, rewritten (so newer than them)
# only when BPF_CFLAGS differ from those of the last build: objects built
# with other flags would otherwise outlive a change of them.
BPF_STAMP := $(OUT)/.bpf-cflags
$(shell mkdir -p $(OUT) && echo '$(BPF_CFLAGS)' | cmp -s - $(BPF_STAMP) || \
	echo '$(BPF_CFLAGS)' > $(BPF_STAMP))

NFS := $(patsubst nf/%/,%,$(sort $(dir $(wildcard nf/*/*.bpf.c))))
NF_SRCS := $(filter-out %.bpf.c,$(wildcard $(foreach n,$(NFS),nf/$(n)/*.c)))
RUNTIME_BPF := stub inject mapcount
BPF_UNITS := $(RUNTIME_BPF) $(NFS)
SKELS := $(foreach u,$(BPF_UNITS),$(OUT)/skel/$(u)_xdp.skel.h $(OUT)/skel/$(u)_tc.skel.h)

LIB_SRCS := $(wildcard lib/*.c) $(NF_SRCS)
LIB_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))
LIB := $(OUT)/libnfchain.a
LIB_SO := $(OUT)/libnfchain.so
# The export list: the public API (include/nfchain/*.h), nothing else.
LIB_MAP := lib/libnfchain.map

TOOLS := $(patsubst tools/%.c,$(OUT)/bin/%,$(wildcard tools/*.c))
# C tests: tests/unit/*.c and nf/<name>/tests/*.c, one program each.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/bin/%,$(wildcard tests/unit/*.c)) \
	$(foreach f,$(wildcard nf/*/tests/*.c),$(OUT)/bin/$(basename $(notdir $(f))))

.PHONY: all deps clean test install format format-check
all: deps $(LIB) $(LIB_SO) $(TOOLS) $(UNIT_TESTS)

# Only the first build on a machine pays for apt: the stamp keeps later
# `make` runs from asking it again.
deps: $(OUT)/.deps
$(OUT)/.deps: scripts/deps.sh
	$(Q)mkdir -p $(OUT) && bash scripts/deps.sh && touch $@

$(OUT)/vmlinux.h: | $(OUT)/.deps
	$(call msg,VMLINUX,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# The runtime's own BPF programs (bpf/<unit>.bpf.c), built like an NF's.
$(RUNTIME_BPF:%=$(OUT)/bpf/%.xdp.bpf.o): $(OUT)/bpf/%.xdp.bpf.o: bpf/%.bpf.c \
		$(OUT)/vmlinux.h $(BPF_STAMP) $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DNFC_HOOK_XDP -c $< -o $@
$(RUNTIME_BPF:%=$(OUT)/bpf/%.tc.bpf.o): $(OUT)/bpf/%.tc.bpf.o: bpf/%.bpf.c \
		$(OUT)/vmlinux.h $(BPF_STAMP) $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DNFC_HOOK_TC -c $< -o $@

define nf_bpf_rules
$(OUT)/bpf/$(1).xdp.bpf.o: nf/$(1)/$(1).bpf.c $(OUT)/vmlinux.h $(BPF_STAMP) $(wildcard bpf/*.h nf/$(1)/*.h)
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D) && $$(CLANG) $$(BPF_CFLAGS) -Inf/$(1) -DNFC_HOOK_XDP -c $$< -o $$@
$(OUT)/bpf/$(1).tc.bpf.o: nf/$(1)/$(1).bpf.c $(OUT)/vmlinux.h $(BPF_STAMP) $(wildcard bpf/*.h nf/$(1)/*.h)
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D) && $$(CLANG) $$(BPF_CFLAGS) -Inf/$(1) -DNFC_HOOK_TC -c $$< -o $$@
endef
$(foreach n,$(NFS),$(eval $(call nf_bpf_rules,$(n))))

$(OUT)/skel/%_xdp.skel.h: $(OUT)/bpf/%.xdp.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D) && $(BPFTOOL) gen skeleton $< name $*_xdp > $@
$(OUT)/skel/%_tc.skel.h: $(OUT)/bpf/%.tc.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D) && $(BPFTOOL) gen skeleton $< name $*_tc > $@

$(OUT)/obj/%.o: %.c $(SKELS) $(wildcard include/nfchain/*.h bpf/common.h bpf/ct_common.h lib/*.h nf/*.h nf/*/*.h nf/*/tests/*.h tests/unit/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) -Inf $(CFLAGS) -c $< -o $@

# Both libraries export exactly the names in $(LIB_MAP). The shared one
# gets it as a version script: ld refuses a listed name that is not defined
# (--no-undefined-version). The static one is one relocatable object whose
# other symbols are made local, so the internals cannot clash with its
# users' names; the daemon, the CLI and the tools link this one.
# Position-independent: the same objects make both libraries.
$(LIB_OBJS): CFLAGS += -fPIC
$(OUT)/libnfchain.syms: $(LIB_MAP)
	$(Q)mkdir -p $(@D) && sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p' $< > $@
$(LIB): $(LIB_OBJS) $(OUT)/libnfchain.syms
	$(call msg,AR,$@)
	$(Q)rm -f $@ $(OUT)/libnfchain.o && ld -r -o $(OUT)/libnfchain.o $(LIB_OBJS) && \
		objcopy --keep-global-symbols=$(OUT)/libnfchain.syms $(OUT)/libnfchain.o && \
		ar rcs $@ $(OUT)/libnfchain.o
$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--version-script=$(LIB_MAP) \
		-Wl,--no-undefined-version -Wl,-soname,libnfchain.so \
		$(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/bin/%: $(OUT)/obj/tools/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
# Tests (tests/unit/, nf/*/tests/) reach the library's internals, an NF's
# own helpers included (frame builders, the router's FIB builder): linked
# with its objects, not through the export list.
$(OUT)/bin/%: $(OUT)/obj/tests/unit/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

define nf_test_rule
$(OUT)/bin/$(basename $(notdir $(1))): $(OUT)/obj/$(basename $(1)).o $(LIB_OBJS)
	$$(call msg,LINK,$$@)
	$$(Q)mkdir -p $$(@D) && $$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach f,$(wildcard nf/*/tests/*.c),$(eval $(call nf_test_rule,$(f))))
# libpcap is this test's oracle: called directly, linked.
$(OUT)/bin/test_cbpf: LDLIBS += -lpcap

# Sub-makefiles of the daemon, the CLI and the benchmarks.
-include $(wildcard */build.mk)

# Every test: the format check, unit tests in the plain and sanitized
# builds, then the data plane and namespace tests with the sanitized
# userspace.
test:
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory SAN=1 all
	$(Q)bash tests/run.sh

# Install what the unit file and the man pages expect.
PREFIX ?= /usr/local
install: all
	install -D -m 0755 .output/bin/nfchaind $(DESTDIR)$(PREFIX)/sbin/nfchaind
	install -D -m 0755 .output/bin/nfchain $(DESTDIR)$(PREFIX)/bin/nfchain
	install -D -m 0755 .output/bin/nfchain-url $(DESTDIR)$(PREFIX)/libexec/nfchain/nfchain-url
	install -D -m 0644 dist/nfchaind.service $(DESTDIR)/etc/systemd/system/nfchaind.service
	install -D -m 0644 dist/nfchain.bash $(DESTDIR)/etc/bash_completion.d/nfchain
	install -D -m 0644 docs/man/nfchaind.8 $(DESTDIR)$(PREFIX)/share/man/man8/nfchaind.8
	install -D -m 0644 docs/man/nfchain.8 $(DESTDIR)$(PREFIX)/share/man/man8/nfchain.8

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf .output .output-asan
