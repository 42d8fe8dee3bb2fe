# The nfchain CLI. Included by the top Makefile.

NFC_CLI_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard cli/*.c))

$(NFC_CLI_OBJS): $(wildcard cli/*.h)

# filter-test runs the expression compiler here (lib/cbpf*.c): libbpf and
# libpcap, but no more of the library.
NFC_CLI_CBPF := $(OUT)/obj/lib/cbpf.o $(OUT)/obj/lib/cbpf_pcap.o
$(OUT)/bin/nfchain: $(NFC_CLI_OBJS) $(NFC_CLI_CBPF)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -ljansson -ldl -lbpf -lpcap -o $@

all: $(OUT)/bin/nfchain

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
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -o $@

all: $(OUT)/bin/test_grammar
