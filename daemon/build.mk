# nfchaind and its tests. Included by the top Makefile, which provides
# OUT, CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, LIB, Q and msg.

NFCD_SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
NFCD_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(NFCD_SRCS))
NFCD_LIBS := -lmicrohttpd -lyaml

$(NFCD_OBJS) $(OUT)/obj/daemon/main.o $(OUT)/obj/daemon/tests/fuzz_api.o: \
	$(wildcard daemon/*.h)

# A plugin (docs/sdk.md) calls libnfchain's public functions: nfchaind
# exports them (and only them) from its own static copy.
$(OUT)/nfchaind.dyn: $(OUT)/libnfchain.syms
	$(Q){ echo '{'; sed 's/.*/  &;/' $<; echo '};'; } > $@
$(OUT)/bin/nfchaind: $(OUT)/obj/daemon/main.o $(NFCD_OBJS) $(LIB) $(OUT)/nfchaind.dyn
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) -Wl,--dynamic-list=$(OUT)/nfchaind.dyn \
		$(filter-out %.dyn,$^) $(LDLIBS) $(NFCD_LIBS) -o $@

# The API fuzzer drives api_handle() directly, no HTTP (daemon/tests).
$(OUT)/bin/fuzz_api: $(OUT)/obj/daemon/tests/fuzz_api.o $(NFCD_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ $(LDLIBS) $(NFCD_LIBS) -o $@

# The control-plane benchmark (bench/control/run.sh runs it).
$(OUT)/bin/nfc_ctlbench: $(OUT)/obj/bench/control/ctlbench.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -ljansson -lcurl -lbpf -o $@

# Its floor row: a process with no loader (static; no sanitizer, which
# has no static runtime).
$(OUT)/bin/nfc_hello_static: bench/control/hello.c
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -static $< -o $@

all: $(OUT)/bin/nfchaind $(OUT)/bin/fuzz_api $(OUT)/bin/nfc_ctlbench \
	$(OUT)/bin/nfc_hello_static

# ---- make demo / make demo-clean (scripts/demo.sh) ----
.PHONY: demo demo-clean
demo:
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/demo.sh run
demo-clean:
	$(Q)bash scripts/demo.sh clean
