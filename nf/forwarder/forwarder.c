// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* forwarder: two ports, p1 and p2; what enters one leaves the other. Its
 * control plane has nothing to do: the declaration is all there is. */
#include "nfchain/nf.h"
#include "forwarder_xdp.skel.h"
#include "forwarder_tc.skel.h"

static const char *const forwarder_ports[] = {"p1", "p2", NULL};

const struct nfc_nf_type nfc_type_forwarder = {
	.name = "forwarder",
	.summary = "two ports, p1 and p2: what enters one leaves the other",
	.max_ports = 2,
	.port_names = forwarder_ports,
	.elf_xdp = forwarder_xdp__elf_bytes,
	.elf_tc = forwarder_tc__elf_bytes,
};
