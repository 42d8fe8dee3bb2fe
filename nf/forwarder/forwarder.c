// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* forwarder: two ports, p1 and p2; what enters one leaves the other. */
#include "nfchain/nf.h"
#include "forwarder_xdp.skel.h"
#include "forwarder_tc.skel.h"

static const char *const forwarder_ports[] = {"p1", "p2", NULL};

static const struct nfc_field forwarder_config[] = {
	{.name = "slow_path",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "fwd_slow_path",
	 .def = "false",
	 .doc = "send every frame through userspace (packet-in, then "
		"packet-out on the other port) instead of forwarding it in "
		"the kernel"},
	NFC_FIELDS_END,
};

/* The slow path's half of the forwarder: send the frame on, whole. */
static void forwarder_packet_in(struct nfc_nf *nf, unsigned in_port,
				unsigned reason, const uint8_t *data,
				uint32_t len, uint32_t pkt_len)
{
	(void)reason;
	if (len == pkt_len && in_port < 2)
		nfc_nf_packet_out(nf, in_port ^ 1, data, len);
}

const struct nfc_nf_type nf_type_forwarder = {
	.name = "forwarder",
	.summary = "two ports, p1 and p2: what enters one leaves the other",
	.max_ports = 2,
	.port_names = forwarder_ports,
	.config = forwarder_config,
	.elf_xdp = forwarder_xdp__elf_bytes,
	.elf_tc = forwarder_tc__elf_bytes,
	.packet_in = forwarder_packet_in,
};
