# Fuzzing at length. `make test` runs each fuzzer for a short budget (the
# packet fuzzers, nf/*/tests/test_*_fuzz.c, a quarter of a second a case; fuzz_api
# in daemon/tests/fuzz.sh); these targets run them for FUZZ_SECONDS a case
# and print frames per second and the seed of every violation.
#   make fuzz-packets [FUZZ_SECONDS=30] [FUZZ_SEED=S]   every NF, every hook
#   make fuzz-api [FUZZ_SECONDS=30]                    the REST API
#   make fuzz                                          both
FUZZ_SECONDS ?= 30
FUZZ_PKT := $(patsubst %.c,$(OUT)/bin/%,$(notdir $(wildcard nf/*/tests/test_*_fuzz.c)))

.PHONY: fuzz fuzz-packets fuzz-api
fuzz: fuzz-packets fuzz-api

fuzz-packets: all
	$(Q)rc=0; for t in $(FUZZ_PKT); do \
		$$t --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) \
			> $(OUT)/$$(basename $$t).log 2>&1 || rc=1; \
		grep -E '^not ok|frames/s|frame seed' $(OUT)/$$(basename $$t).log; \
	done; \
	[ $$rc = 0 ] && echo "fuzz-packets: no violation" || \
		echo "fuzz-packets: violations, see $(OUT)/test_*_fuzz.log"; \
	exit $$rc

fuzz-api: all
	$(Q)NFC_TOP=$(CURDIR) NFC_BIN=$(CURDIR)/$(OUT)/bin \
		NFC_FUZZ_SECONDS=$(FUZZ_SECONDS) bash daemon/tests/fuzz.sh

# Connection tracking (bpf/ct.h, lib/conntrack.c) tested outside any NF:
# tests/ct/ct_test.bpf.c wraps the data plane in plain XDP programs that
# tests/ct/test_ct_dp.c runs on crafted frames (BPF_PROG_TEST_RUN).
$(OUT)/bpf/ct_test.bpf.o: tests/ct/ct_test.bpf.c tests/ct/ct_test.h $(OUT)/vmlinux.h $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUT)/skel/ct_test.skel.h: $(OUT)/bpf/ct_test.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D) && $(BPFTOOL) gen skeleton $< name ct_test > $@
$(OUT)/obj/tests/ct/test_ct_dp.o: $(OUT)/skel/ct_test.skel.h
$(OUT)/bin/test_ct_dp: $(OUT)/obj/tests/ct/test_ct_dp.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
all: $(OUT)/bin/test_ct_dp
$(OUT)/obj/tests/ct/test_ct_dp.o: tests/ct/ct_test.h tests/ct/ct_frames.h
