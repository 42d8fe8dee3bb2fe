# Helpers for the bridge's namespace tests (sourced; the runner skips
# lib*.sh). On top of tests/lib.sh:
#   br_ns NAME                       a namespace (its name in BR_NS)
#   br_host NAME PEERNAME [ADDR...]  a host namespace with eth0, its far
#                                    end PEERNAME in the root namespace
#   hmac NAME                        MAC address of a host's eth0
#   pings NAME ADDR                  one ping gets its answer
#   watch_start TYPE [SECONDS]       count frames of ethertype TYPE on every
#                                    host's eth0, in the background
#   watch_end                        wait for the counts
#   seen NAME / seen_all NAME        frames a host counted / with VLANs
#   expect_seen DESC "h1=0 h2=1"     ok if every host counted that many
#   send NAME DST SRC TYPE [N [VID]] crafted frames from a host
#   port_tx NF PORT / br_stat NF KEY counters from nfctl
# Hosts use 198.51.100.0/24 and 203.0.113.0/24 only. BR_KEEP=1 keeps the
# scratch directory (counts, the slow path's log) for a look afterwards.
. "$(dirname "${BASH_SOURCE[0]}")/../../../tests/lib.sh"
BRF=$NFC_BIN/br_frames
declare -A HOSTNS=()
BR_TMP=$(mktemp -d /tmp/nfc-br.XXXXXX)
WATCH_PIDS=()

test_cleanup() {
	[ -n "${BR_KEEP:-}" ] && echo "# kept $BR_TMP" || rm -rf "$BR_TMP"
}

# nfc_ns, registering the namespace for the cleanup: called as $(nfc_ns),
# it would register it in a subshell only. The name is left in BR_NS.
br_ns() {
	nfc_ns "$1" >/dev/null
	BR_NS=${NFC_NSES[${#NFC_NSES[@]} - 1]}
}

br_host() { # name peer [addr...]
	local name=$1 peer=$2 ns a
	shift 2
	br_ns "${BR_TAG:-}$name"
	ns=$BR_NS
	HOSTNS[$name]=$ns
	nfc_host "$ns" eth0 "" "$peer"
	for a in "$@"; do ip -n "$ns" addr add "$a" dev eth0; done
}

hmac() { ip -n "${HOSTNS[$1]}" -j link show eth0 | jq -r '.[0].address'; }
hexec() { local h=$1; shift; ip netns exec "${HOSTNS[$h]}" "$@"; }
pings() { hexec "$1" ping -q -c1 -W2 "$2" >/dev/null 2>&1; }

# Counters of frames of a type at the hosts: started, and waited for until
# each has bound its socket (it writes its pid then); watch_end stops them
# once what the test sent is sent, and each ends when no frame came for a
# second (br_frames QUIET_MS: the slow path's copies come late). No fixed
# window: on a loaded machine a counter started late or a window over
# early lost frames (modes.sh "unicast to static U" saw 1 of 2).
watch_start() { # type [max seconds] [hosts...]
	local type=$1 secs=${2:-30} h hosts i
	shift $(($# < 2 ? $# : 2))
	hosts=("$@")
	[ ${#hosts[@]} = 0 ] && hosts=("${!HOSTNS[@]}")
	WATCH_PIDS=() WATCH_READY=()
	rm -f "$BR_TMP"/seen.* "$BR_TMP"/ready.*
	for h in "${hosts[@]}"; do
		BRF_READY=$BR_TMP/ready.$h hexec "$h" "$BRF" count eth0 "$type" "$secs" >"$BR_TMP/seen.$h" &
		WATCH_PIDS+=($!)
		WATCH_READY+=("$BR_TMP/ready.$h")
	done
	for h in "${WATCH_READY[@]}"; do
		for ((i = 0; i < 600; i++)); do
			[ -s "$h" ] && break
			sleep 0.05
		done
	done
}

watch_end() {
	local f
	for f in "${WATCH_READY[@]}"; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	wait "${WATCH_PIDS[@]}"
}
seen() { local v; v=$(cut -d' ' -f1 "$BR_TMP/seen.$1" 2>/dev/null); echo "${v:-none}"; }
seen_all() { cat "$BR_TMP/seen.$1" 2>/dev/null; }

expect_seen() { # desc "h=n h=n ..."
	local desc=$1 want got=() bad=0 h n
	for want in $2; do
		h=${want%%=*} n=${want#*=}
		got+=("$h=$(seen_all "$h" | tr ' ' ',')")
		case $n in
		*vlan*) [ "$(seen_all "$h")" = "${n//,/ }" ] || bad=1 ;;
		*) [ "$(seen "$h")" = "$n" ] || bad=1 ;;
		esac
	done
	if [ $bad = 0 ]; then ok "$desc"; else not_ok "$desc (want $2, got ${got[*]})"; fi
}

send() { local h=$1; shift; hexec "$h" "$BRF" send eth0 "$@"; }

port_tx() { nfctl "$1" show ports | jq -r ".[] | select(.name == \"$2\") | .stats.tx_packets"; }
br_stat() { nfctl "$1" show stats | jq -r ".$2"; }
br_rx() { nfctl -j "$1" show | jq -r .stats.rx_packets; }
# nfctl has no `set mode=` (nfchaind's is an apply of the export, edited):
# the same here.
set_mode() { # nf mode
	nfctl export | jq --arg n "$1" --arg m "$2" \
		'(.nfs[] | select(.name == $n) | .mode) = $m' >"$BR_TMP/mode.json" &&
		nfctl apply -f "$BR_TMP/mode.json"
}
fdb_port() { # nf mac vlan -> "port type" or empty
	nfctl "$1" show fdb | jq -r ".[] | select(.mac == \"$2\" and .vlan == $3) | \"\(.port) \(.type)\""
}

# TCP across: a short iperf3 from one host to another's address.
tcp_ok() { # client server server-addr
	local pid r
	ip netns exec "${HOSTNS[$2]}" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	pid=$!
	sleep 0.3
	hexec "$1" iperf3 -c "$3" -p 5201 -t 1 >"$BR_TMP/iperf.log" 2>&1
	r=$?
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $r
}
