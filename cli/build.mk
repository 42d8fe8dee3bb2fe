# The nfchain CLI. Included by the top Makefile.

NFC_CLI_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard cli/*.c))

$(NFC_CLI_OBJS): $(wildcard cli/*.h) daemon/reserved.h

$(OUT)/bin/nfchain: $(NFC_CLI_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(LDFLAGS) $^ -ljansson -ldl -o $@

all: $(OUT)/bin/nfchain
