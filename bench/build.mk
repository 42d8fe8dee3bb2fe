# Benchmarks (bench/): included by the top Makefile, which provides OUT,
# CLANG, BPF_CFLAGS, CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, BPFTOOL, Q, msg.
#
#   make bench         full run: throughput + micro tables, JSON, plots, and
#                      docs/performance.md refreshed (BENCH_ARGS="-k 3" etc.)
#   make bench-smoke   the harness's own test (also run by `make test`)
#   make bench-micro   the micro table only (BPF_PROG_TEST_RUN ns/packet)
#
# bench/micro/*.sh are the micro table's cases, one per NF; bench/micro/*.c
# are NFs' own micro benchmarks, run by hand (each says how at its top):
# built with `all` so that they keep compiling, into $(OUT)/bench/.
#
# Everything built goes to $(OUT)/bench/; results to $(OUT)/bench/results/.

BENCH_OUT := $(OUT)/bench
BENCH_BPF := gen sink hop
BENCH_SKELS := $(patsubst %,$(BENCH_OUT)/%.skel.h,$(BENCH_BPF))
BENCH_TOOLS := $(BENCH_OUT)/nfcb
BENCH_MICRO := $(patsubst bench/micro/%.c,$(BENCH_OUT)/%,$(wildcard bench/micro/*.c))
# nfctl drives the nfchain scenarios; the harness skips them, saying so,
# when the runtime is not there to build it.
BENCH_NFCTL := $(if $(wildcard tools/nfctl.c),$(OUT)/bin/nfctl)
BENCH_ARGS ?=

.PHONY: bench bench-smoke bench-micro bench-tools bench-deps
all: bench-tools
bench-tools: $(BENCH_TOOLS) $(BENCH_MICRO)

# The Linux baselines need iptables and nftables, the reports jq.
bench-deps: $(OUT)/.bench-deps
$(OUT)/.bench-deps: bench/deps.sh | $(OUT)/.deps
	$(Q)bash bench/deps.sh && touch $@

$(BENCH_OUT)/%.bpf.o: bench/bpf/%.bpf.c bench/bench.h $(OUT)/vmlinux.h $(BPF_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BENCH_OUT)/nfcb: bench/src/nfcb.c bench/bench.h $(BENCH_SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Ibench -I$(BENCH_OUT) $(CFLAGS) $< $(LDFLAGS) $(LDLIBS) -o $@

# The micro benchmarks drive the runtime through its library, as the NF
# tests do (tests/unit/dptest.h), linked with its objects as they are (the
# router's frame builders are internal to it).
$(BENCH_MICRO): $(BENCH_OUT)/%: $(OUT)/obj/bench/micro/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

bench: bench-deps $(BENCH_TOOLS) $(BENCH_NFCTL)
	$(Q)NFCB_OUT=$(OUT) NFCB_CMD='make bench$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' \
		bash bench/run --docs $(BENCH_ARGS)

bench-micro: bench-deps $(BENCH_TOOLS) $(BENCH_NFCTL)
	$(Q)NFCB_OUT=$(OUT) bash bench/run --micro-only $(BENCH_ARGS)

bench-smoke: bench-deps $(BENCH_TOOLS) $(BENCH_NFCTL)
	$(Q)NFC_BIN=$(OUT)/bin NFCB_OUT=$(OUT) bash bench/tests/smoke.sh

# The objects are kept by the top Makefile's `.SECONDARY:` with no
# prerequisites (every target). Naming some here would narrow it to those
# and make delete the skeletons and objects after every build.
