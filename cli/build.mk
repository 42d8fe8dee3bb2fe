# The nfchain CLI. Included by the top Makefile.

NFC_CLI_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard cli/*.c))

$(NFC_CLI_OBJS): $(wildcard cli/*.h)

# filter-test runs the expression compiler here (lib/cbpf*.c): libbpf and
# libpcap, but no more of the library.
# Its libpcap half built to call libpcap directly, not dlopen it: the
# CLI links libpcap anyway (filter-test reads pcap files with it).
NFC_CLI_CBPF := $(OUT)/obj/lib/cbpf.o $(OUT)/obj/cli/cbpf_pcap_linked.o
$(OUT)/obj/cli/cbpf_pcap_linked.o: lib/cbpf_pcap.c lib/cbpf.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) -DNFC_PCAP_LINKED $(CFLAGS) -c $< -o $@
# The CLI is a process per command, so its start-up is part of every
# call's latency: linked dynamically, the loader maps 15 libraries
# (libpcap brings dbus, systemd, gcrypt, lz4, zstd...) and spends ~5 ms of
# CPU a call relocating them, against ~0.5 ms for the rest of it. So it
# takes the static archives when all of them are installed (the -dev
# packages ship them; libc stays shared: --url dlopens libcurl, which a
# static libc cannot host), and the shared libraries otherwise.
#
# Decided when the link runs, not when make reads this file: on a fresh
# machine scripts/deps.sh (the `deps` target) installs libpcap-dev and
# with it libdbus-1-dev during this very build, after a parse-time test
# had found no libdbus-1.a, and the binary stayed dynamic until a clean
# build. The archives are not prerequisites, so nothing relinked it.
NFC_CLI_ARCHIVES := jansson bpf pcap elf z dbus-1
NFC_CLI_LIBDIR := /usr/lib/$(ARCH)-linux-gnu
NFC_CLI_STATIC = $(shell for l in $(NFC_CLI_ARCHIVES); do \
	[ -f $(NFC_CLI_LIBDIR)/lib$$l.a ] || exit 0; done; echo y)
NFC_CLI_LIBS_STATIC := $(OUT)/obj/cli/static/sd_stub.o -Wl,-Bstatic \
	$(NFC_CLI_ARCHIVES:%=-l%) -Wl,-Bdynamic -ldl -lpthread
NFC_CLI_LIBS_SHARED := -Wl,--as-needed -ljansson -ldl -lbpf -lpcap
NFC_CLI_LIBS = $(if $(NFC_CLI_STATIC),$(NFC_CLI_LIBS_STATIC),$(NFC_CLI_LIBS_SHARED))
# With every archive there, and no sanitizer (ASan needs the shared
# libc), `nfchain` goes further: wholly static, no loader and no libc.so,
# 1.0 ms of CPU a start-up against 2.3 (perf stat -r 300 nfchain --help).
# It cannot dlopen libcurl, so for --url it runs its twin nfchain-url,
# linked as above (cli/remote.c). glibc warns at that link that
# getaddrinfo/getpwnam (libpcap's host names, libdbus's users) load NSS
# modules of the same glibc at run time: true, and the CLI reaches neither
# but through `filter-test` with a host name, so those lines are dropped.
NFC_CLI_WHOLE = $(if $(filter 1,$(SAN)),,$(NFC_CLI_STATIC))
NFC_CLI_MODE = $(if $(NFC_CLI_WHOLE),whole,$(if $(NFC_CLI_STATIC),static,shared))
# Which it was, in a file rewritten only when that changes: a tree linked
# dynamically relinks once the archives are there.
$(OUT)/obj/cli/link-mode: nfc-cli-force
	$(Q)mkdir -p $(@D) && m='$(NFC_CLI_MODE)' && \
		[ "$$(cat $@ 2>/dev/null)" = "$$m" ] || echo "$$m" > $@
.PHONY: nfc-cli-force
nfc-cli-force:
NFC_CLI_LINK_OBJS := $(NFC_CLI_OBJS) $(NFC_CLI_CBPF) $(OUT)/obj/cli/static/sd_stub.o
$(OUT)/bin/nfchain-url: $(NFC_CLI_LINK_OBJS) $(OUT)/obj/cli/link-mode
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $(NFC_CLI_OBJS) $(NFC_CLI_CBPF) \
		$(NFC_CLI_LIBS) -o $@
$(OUT)/bin/nfchain: $(NFC_CLI_LINK_OBJS) $(OUT)/obj/cli/static/whole.o \
		$(OUT)/obj/cli/link-mode
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && if [ -n '$(NFC_CLI_WHOLE)' ]; then \
		$(CC) -static $(LDFLAGS) $(NFC_CLI_LINK_OBJS) \
			$(OUT)/obj/cli/static/whole.o \
			$(NFC_CLI_ARCHIVES:%=-l%) -ldl -lpthread -o $@ 2>$@.ld || \
			{ cat $@.ld >&2; rm -f $@.ld; exit 1; }; \
		grep -v -e 'statically linked applications requires' \
			-e ': in function ' $@.ld >&2; rm -f $@.ld; true; \
	else \
		$(CC) $(LDFLAGS) $(NFC_CLI_OBJS) $(NFC_CLI_CBPF) \
			$(NFC_CLI_LIBS) -o $@; \
	fi

all: $(OUT)/bin/nfchain $(OUT)/bin/nfchain-url

# The grammar (cli/grammar.c: libc only) is nfctl's too: it maps the same
# parsed commands to library calls instead of HTTP calls.
$(OUT)/obj/tools/nfctl.o: CPPFLAGS += -Icli
$(OUT)/obj/tools/nfctl.o: cli/grammar.h
$(OUT)/bin/nfctl: $(OUT)/obj/cli/grammar.o

# A unit test of the grammar on argv arrays, run as unit:test_grammar.
$(OUT)/obj/cli/tests/test_grammar.o: CPPFLAGS += -Icli
$(OUT)/obj/cli/tests/test_grammar.o: cli/grammar.h
$(OUT)/bin/test_grammar: $(OUT)/obj/cli/tests/test_grammar.o $(OUT)/obj/cli/grammar.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -ljansson -o $@

all: $(OUT)/bin/test_grammar

# The streamed-listing decoder (cli/jarr.c), run as unit:test_jarr.
$(OUT)/obj/cli/tests/test_jarr.o: CPPFLAGS += -Icli
$(OUT)/obj/cli/tests/test_jarr.o: cli/cli.h
$(OUT)/bin/test_jarr: $(OUT)/obj/cli/tests/test_jarr.o $(OUT)/obj/cli/jarr.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -ljansson -o $@

all: $(OUT)/bin/test_jarr
