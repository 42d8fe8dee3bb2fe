// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: the slow path's half of a flood. The data plane floods to netdev
 * ports itself (the br_flood devmap); a port whose hop is another NF cannot
 * be reached that way, so the frame comes here (BR_R_FLOOD) and gets a copy
 * to every such member port (in TC, all but the first, which the data plane
 * reached by tail call).
 */
#include <string.h>
#include <bpf/bpf.h>

#include "br_int.h"

void br_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len)
{
	int ports = nfc_nf_map_fd(nf, "br_ports"),
	    vlans = nfc_nf_map_fd(nf, "br_vlans");
	__u32 sk = BR_STATE_KEY, vid;
	struct br_state st;
	struct br_vlan vl;
	uint8_t frame[NFC_PKTIN_MAX];
	__u64 targets;

	/* Tagged by the data plane with its VLAN (flood()); a frame cut
	 * short by the packet-in size cannot be sent on whole. */
	if (reason != BR_R_FLOOD || len != pkt_len || len < NFC_VLAN_ETH_HLEN ||
	    len > sizeof(frame) ||
	    (data[12] << 8 | data[13]) != NFC_ETH_P_8021Q ||
	    in_port >= NFC_MAX_PORTS)
		return;
	vid = ((data[NFC_ETH_HLEN] << 8) | data[NFC_ETH_HLEN + 1]) &
	      NFC_VLAN_VID_MASK;
	if (bpf_map_lookup_elem(ports, &sk, &st) ||
	    bpf_map_lookup_elem(vlans, &vid, &vl))
		return;
	targets = st.slow_ports & vl.members & ~BIT(in_port);
	/* TC: the data plane sent the frame to the first of them itself. */
	if (!strcmp(nfc_nf_mode(nf), "tc"))
		targets &= targets - 1;
	for (unsigned p = 0; p < NFC_MAX_PORTS && targets >> p; p++) {
		if (!((targets >> p) & 1))
			continue;
		if (vl.untagged & BIT(p)) {
			memcpy(frame, data, 12);
			memcpy(frame + 12, data + 16, len - 16);
			nfc_nf_packet_out(nf, p, frame, len - 4);
		} else {
			nfc_nf_packet_out(nf, p, data, len);
		}
	}
}
