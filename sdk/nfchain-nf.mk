# nfchain-nf.mk: builds an NF's one source, $(NF).bpf.c, twice, as the
# built-in NFs are built: $(NF).xdp.bpf.o (modes xdp and xdp-generic) and
# $(NF).tc.bpf.o (mode tc). `nfchain types load $(NF).bpf.o` loads both.
#
#     NF := ttl
#     include $(shell pkg-config --variable=nfchain_mk nfchain)
#
# Set NFCHAIN_CFLAGS to build against headers elsewhere; BPF_CFLAGS adds.
ifndef NF
$(error set NF (the name of your NF's <NF>.bpf.c) before including nfchain-nf.mk)
endif
CLANG ?= clang
NFCHAIN_CFLAGS ?= $(shell pkg-config --cflags nfchain)
NFC_ARCH := $(shell uname -m)
NFC_TARGET_ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(NFC_ARCH)))
NFC_BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Werror $(NFCHAIN_CFLAGS) \
	-I/usr/include/$(NFC_ARCH)-linux-gnu -D__TARGET_ARCH_$(NFC_TARGET_ARCH) \
	$(BPF_CFLAGS)

.PHONY: all clean
all: $(NF).xdp.bpf.o $(NF).tc.bpf.o

$(NF).xdp.bpf.o: $(NF).bpf.c $(wildcard *.h)
	$(CLANG) $(NFC_BPF_CFLAGS) -DNFC_HOOK_XDP -c $< -o $@
$(NF).tc.bpf.o: $(NF).bpf.c $(wildcard *.h)
	$(CLANG) $(NFC_BPF_CFLAGS) -DNFC_HOOK_TC -c $< -o $@

clean:
	rm -f $(NF).xdp.bpf.o $(NF).tc.bpf.o
