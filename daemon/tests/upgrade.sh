#!/usr/bin/env bash
# nfchain <nf> upgrade: a rebuilt NF object swapped in under ping -i 0.01
# with no loss, its counters kept, its SHA-256 shown; kept by a daemon
# killed -9 and restarted, and by a boot that emptied the pin root. An
# object whose maps differ is refused and changes nothing, unless
# migrate=recreate; an NF that does not exist is a clear 404.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }

nfc forwarder add fw0 mode=xdp &&
	nfc fw0 ports add p1 peer="$NFD_IF1" &&
	nfc fw0 ports add p2 peer="$NFD_IF2" &&
	nfc counter add cnt0 mode=xdp &&
	nfc attach cnt0 fw0:p1 direction=both
check "chain fw0 + cnt0 built" [ $? = 0 ]
check "ping through the chain" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 -q 198.51.100.2

obj=$NFD_DIR/obj
mkdir -p "$obj"
bpfcc() { # out.o [-D...]
	local out=$1
	shift
	clang -target bpf -O2 -g -Wall -I"$NFC_TOP/.output" -I"$NFC_TOP/bpf" \
		-I"$NFC_TOP/nf/counter" -I/usr/include/$(uname -m)-linux-gnu \
		-D__TARGET_ARCH_x86 -DNFC_HOOK_XDP "$@" -c "$src" -o "$out"
}
src=$NFC_TOP/nf/counter/counter.bpf.c
bpfcc "$obj/v2.bpf.o" -DCOUNTER_REBUILD=1
# The same NF with its map's type changed: its contents cannot be kept.
sed 's/BPF_MAP_TYPE_PERCPU_ARRAY/BPF_MAP_TYPE_ARRAY/' "$src" >"$obj/v3.bpf.c"
src=$obj/v3.bpf.c bpfcc "$obj/v3.bpf.o"
check "two rebuilt counter objects" [ -s "$obj/v2.bpf.o" ] && check "two rebuilt counter objects" [ -s "$obj/v3.bpf.o" ]

sha() { nfc -j cnt0 show | jget '["object"]["sha256"]'; }
src_of() { nfc -j cnt0 show | jget '["object"]["source"]'; }
pkts() { nfc -j cnt0 show stats | jget "['attachments'][0]['stats']['ingress_packets']"; }
progid() { bpftool -j prog show pinned "$(echo "$NFC_PIN"/nf/*-cnt0/prog)" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

check "a built-in NF shows its object's SHA-256" [ "$(src_of)" = built-in ] &&
	check "a built-in NF shows its object's SHA-256" [ "$(sha | wc -c)" = 65 ]

# ---- upgrade under ping -i 0.01 ------------------------------------------
old_id=$(progid)
n0=$(pkts)
ip netns exec "$NFD_H1" ping -i 0.01 -c 200 -W 1 198.51.100.2 >"$NFD_DIR/ping" 2>&1 &
pp=$!
sleep 0.5
nfc cnt0 upgrade -f "$obj/v2.bpf.o"
rc=$?
wait $pp
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$NFD_DIR/ping")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$NFD_DIR/ping")
n1=$(pkts)
echo "# upgrade: program $old_id -> $(progid), sent $sent, received $recv, counter $n0 -> $n1"
check "upgrade -f v2.bpf.o accepted" [ $rc = 0 ]
check "the program was replaced" [ "$old_id" != "$(progid)" ]
check "no packet lost during the upgrade ($sent sent, $recv received)" [ -n "$sent" ] && check "no packet lost during the upgrade ($sent sent, $recv received)" [ "$sent" = "$recv" ]
check "its counter map was kept ($n0 -> $n1)" [ "$n1" -ge $((n0 + 200)) ]
want=$(sha256sum "$obj/v2.bpf.o" | cut -d' ' -f1)
check "show names the new object's SHA-256 (sha256sum's)" [ "$(sha)" = "$want" ]
check "... kept as a copy in the state directory" [ -f "$(src_of)" ] &&
	case "$(src_of)" in "$NFD_STATE"/objects/*) true ;; *) false ;; esac
check "export names the object" [ "$(nfc -j export | jget '["nfs"][1].get("object","")')" = "$(src_of)" ]
rm -f "$obj/v2.bpf.o" # the daemon's copy is what counts now

# ---- refused: other map layout -------------------------------------------
before=$(export_state)
id=$(progid)
out=$(nfc cnt0 upgrade -f "$obj/v3.bpf.o" 2>&1)
rc=$?
echo "# $out"
check "an object whose map changed type is refused" [ $rc != 0 ]
check "... saying which map and what to do" grep -q "counter_dir.*type 6 -> 2.*migrate=recreate" <<<"$out"
check "... and nothing changed (program, export, SHA-256)" [ "$id" = "$(progid)" ] &&
	check "... and nothing changed (program, export, SHA-256)" [ "$before" = "$(export_state)" ] && check "... and nothing changed (program, export, SHA-256)" [ "$(sha)" = "$want" ]
check "... no stray copy left in the state directory" [ "$(ls "$NFD_STATE/objects" | wc -l)" = 1 ]
out=$(nfc nosuch upgrade -f "$obj/v3.bpf.o" 2>&1)
check "upgrade of an NF that does not exist: a clear error ($out)" grep -q "no NF named 'nosuch'" <<<"$out"
out=$(nfc cnt0 upgrade -f "$obj/missing.bpf.o" 2>&1)
check "upgrade from a file that does not exist: a clear error ($out)" grep -q "missing.bpf.o: No such file" <<<"$out"
# (a helper) a file that is no BPF object was a 500 "Unknown error 4001"
# naming the daemon's copy of it.
out=$(api POST /v1/nfs/cnt0/upgrade "{\"file\": \"/etc/passwd\"}")
check "upgrade from a file that is no BPF object: a 400 naming it ($out)" \
	grep -q "^400 .*/etc/passwd: not a BPF object libbpf can open" <<<"$out"
: >"$obj/empty.bpf.o"
out=$(nfc cnt0 upgrade -f "$obj/empty.bpf.o" 2>&1)
check "... an empty one: '$out'" grep -q "empty.bpf.o: an empty file" <<<"$out"
out=$(nfc cnt0 upgrade -f "$NFC_TOP/.output/bpf/counter.tc.bpf.o" 2>&1)
check "... the other hook's build, named as given ($out)" \
	grep -q "its object $NFC_TOP/.output/bpf/counter.tc.bpf.o is not a" <<<"$out"
check "... no stray copy left in the state directory" [ "$(ls "$NFD_STATE/objects" | wc -l)" = 1 ]
out=$(api POST /v1/nfs/cnt0/upgrade '{"migrate": "maybe"}')
check "REST: a bad migrate is a 400 ($out)" grep -q "^400 .*migrate must be" <<<"$out"
check "... and nothing changed" [ "$before" = "$(export_state)" ]

# ---- kill -9, restart: the upgraded program stays -------------------------
id=$(progid)
nfd_kill9
# What a kill -9 in the middle of a copy into the store leaves: gone at
# the next start (found by a helper: nothing removed them).
head -c 100000 /dev/zero >"$NFD_STATE/objects/.in-Xk9Zq1"
cp "$NFC_TOP/.output/bpf/counter.tc.bpf.o" "$NFD_STATE/objects/$(printf '%064d' 7).bpf.o"
nfd_start || not_ok "start after kill -9"
check "... the copies cut short or never named are gone ($(ls -A "$NFD_STATE/objects" | wc -l) left)" \
	[ "$(ls -A "$NFD_STATE/objects")" = "$(basename "$(src_of)")" ]
check "after kill -9 and restart: the same program runs" [ "$id" = "$(progid)" ]
check "... and show still names the upgraded object" [ "$(sha)" = "$want" ]
check "... traffic flows" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 -q 198.51.100.2

# ---- a boot: the pin root is gone, state.json rebuilds it ----------------
nfd_stop
"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" reset >/dev/null 2>&1
nfd_start || not_ok "start on an empty pin root"
check "after a boot (pin root emptied): the upgraded object is loaded again" [ "$(sha)" = "$want" ]
check "... traffic flows" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 -q 198.51.100.2

# ---- migrate=recreate, then back to the built-in object --------------------
out=$(nfc cnt0 upgrade -f "$obj/v3.bpf.o" migrate=recreate 2>&1)
check "migrate=recreate takes the other layout ($out)" [ $? = 0 ] &&
	check "migrate=recreate takes the other layout ($out)" [ "$(sha)" = "$(sha256sum "$obj/v3.bpf.o" | cut -d' ' -f1)" ]
m=$(bpftool -j map show pinned "$(echo "$NFC_PIN"/nf/*-cnt0/map/counter_dir)" | jget '["type"]')
check "... its map is the new type ($m)" [ "$m" = array ]
check "... traffic flows" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 -q 198.51.100.2
bk=$(nfc export)
out=$(api POST /v1/nfs/cnt0/upgrade '{"migrate": "recreate"}')
check "REST: upgrade back to the built-in object ($out)" grep -q '^200 .*"source": *"built-in"' <<<"$out"
# Found by a helper: the copy went at once, and an export taken before
# (a backup, naming it) could not be applied after the NF's delete.
check "... the old copy retired, kept a week for backups (mode $(stat -c %a "$NFD_STATE"/objects/* | sort -u | tr '\n' ' '))" \
	[ "$(stat -c %a "$NFD_STATE"/objects/* | sort -u)" = 400 ]
quiet nfc cnt0 del
check "an export taken before, naming that copy, applied after cnt0's delete" quiet nfc apply -f - <<<"$bk"
check "... cnt0 runs the upgraded object again" [ "$(sha)" = "$(sha256sum "$obj/v3.bpf.o" | cut -d' ' -f1)" ]
check "... a copy in use again (modes $(stat -c %a "$NFD_STATE"/objects/* | sort -u | tr '\n' ' '))" \
	grep -qx 444 <<<"$(stat -c %a "$NFD_STATE"/objects/*)"
check "... traffic flows" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 -q 198.51.100.2
nfd_stop
check "nfchaind stops cleanly" [ $? = 0 ]
nfc_done
