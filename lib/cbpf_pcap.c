// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The libpcap half of the expression compiler: its own file because pcap's
 * struct bpf_insn (classic) and the kernel's (eBPF) share a name.
 *
 * A dead handle, not a live one: on a live Linux handle libpcap emits
 * ancillary loads (SKF_AD_* offsets such as `ldb [-4048]`) that mean
 * something only to a socket filter (libpcap #461).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "cbpf.h"

int nfci_cbpf_compile(const char *expr, unsigned snaplen,
		      struct nfci_cbpf_prog *out, char *err, size_t errlen)
{
	struct bpf_program bp;
	pcap_t *p;

	memset(out, 0, sizeof(*out));
	if (snaplen < 1 || snaplen > NFCI_CBPF_SNAPLEN_MAX) {
		snprintf(err, errlen, "snaplen %u: outside 1..%u", snaplen,
			 NFCI_CBPF_SNAPLEN_MAX);
		return -EINVAL;
	}
	p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!p) {
		snprintf(err, errlen, "libpcap: cannot open a dead handle");
		return -ENOMEM;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "expression '%s': %s", expr,
			 pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	out->cbpf = calloc(bp.bf_len ? bp.bf_len : 1, sizeof(*out->cbpf));
	if (!out->cbpf) {
		pcap_freecode(&bp);
		pcap_close(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < bp.bf_len; i++) {
		out->cbpf[i].code = bp.bf_insns[i].code;
		out->cbpf[i].jt = bp.bf_insns[i].jt;
		out->cbpf[i].jf = bp.bf_insns[i].jf;
		out->cbpf[i].k = bp.bf_insns[i].k;
	}
	out->ncbpf = bp.bf_len;
	pcap_freecode(&bp);
	pcap_close(p);
	return 0;
}
