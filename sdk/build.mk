# The SDK (docs/sdk.md): headers, libnfchain (static and shared), its
# pkg-config file, the make fragment that builds an NF twice and the
# example NF. `make install` installs it too; DESTDIR and PREFIX apply.
SDK_VERSION := 0.1
SDK_HDRS := include/nfchain/nf.h include/nfchain/nfchain.h \
	bpf/nfchain.bpf.h bpf/common.h $(OUT)/vmlinux.h

.PHONY: install-sdk
install: install-sdk
install-sdk: all
	install -d $(DESTDIR)$(PREFIX)/include/nfchain $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/nfchain/examples/ttl
	install -m 0644 $(SDK_HDRS) $(DESTDIR)$(PREFIX)/include/nfchain/
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libnfchain.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libnfchain.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(SDK_VERSION)|' \
		sdk/nfchain.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nfchain.pc
	install -m 0644 sdk/nfchain-nf.mk $(DESTDIR)$(PREFIX)/share/nfchain/nfchain-nf.mk
	install -m 0644 sdk/examples/ttl/ttl.bpf.c sdk/examples/ttl/ttl_plugin.c sdk/examples/ttl/Makefile \
		$(DESTDIR)$(PREFIX)/share/nfchain/examples/ttl/
