#!/usr/bin/env bash
# Every line of the CLI grammar (docs/man/nfchain.8), its exit statuses (0 success,
# 1 refused, 2 usage), -j output, and the bash completion.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }

# rc WANT NAME CMD...: the exit status of a CLI call.
rc() {
	local want=$1 name=$2 got
	shift 2
	"$@" >"$NFD_DIR/out" 2>"$NFD_DIR/err"
	got=$?
	if [ "$got" = "$want" ]; then
		ok "$name (exit $got)"
	else
		not_ok "$name: exit $got, want $want; $(head -c 300 "$NFD_DIR/err")"
	fi
}
js() { nfc -j "$@"; }

# ---- global options, types, show ----------------------------------------
rc 0 "types" nfc types
check "types lists forwarder and counter" grep -q '^counter' "$NFD_DIR/out"
rc 0 "-j types" nfc -j types
check "-j types is the API's JSON (array of types with config)" \
	quiet python3 -c "import json; d=json.load(open('$NFD_DIR/out')); assert d[0]['config'] is not None"
rc 0 "--json show (empty)" nfc --json show
rc 2 "no command: usage error" nfc
check "usage error prints the usage line" grep -q '^usage: nfchain' "$NFD_DIR/err"
rc 2 "unknown option: usage error" nfc --bogus show
rc 0 "help" nfc help
check "help prints the usage on stdout" grep -q '^usage: nfchain' "$NFD_DIR/out"
rc 0 "--help" nfc --help
rc 2 "--socket with --url: usage error" "$NFC_BIN/nfchain" --socket x --url http://127.0.0.1:1 --token-file /dev/null show
rc 1 "daemon not running: exit 1" "$NFC_BIN/nfchain" --socket "$NFD_DIR/none.sock" show
check "... saying so" grep -q 'is nfchaind running' "$NFD_DIR/err"

# ---- <type> add ------------------------------------------------------------
rc 0 "forwarder add fw0" nfc forwarder add fw0
rc 0 "forwarder add fwt mode=tc" nfc forwarder add fwt mode=tc
rc 0 "forwarder add fwg mode=xdp-generic" nfc forwarder add fwg mode=xdp-generic
check "mode=tc is kept" [ "$(js fwt show | jget "['mode']")" = tc ]
# (a helper) an empty mode= was "field 'mode' must be a string, not null":
# unset, it is its default, as an unset config value is.
rc 0 "forwarder add fwe mode= (empty)" nfc forwarder add fwe mode=
check "... is mode auto" [ "$(js fwe show | jget "['mode']")" = auto ]
rc 0 "fwe set mode=tc, then mode= (empty)" bash -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' fwe set mode=tc >/dev/null && '$NFC_BIN/nfchain' --socket '$NFD_SOCK' fwe set mode= >/dev/null"
check "... is mode auto again" [ "$(js fwe show | jget "['mode']")" = auto ]
rc 0 "fwe del" nfc fwe del
check "the default mode is auto" [ "$(js fw0 show | jget "['mode']")" = auto ]
check "mode auto without a netdev: tc, saying why" \
	[ "$(js fw0 show | jget "['hook'] + ' ' + d['hook_reason']")" = "tc no netdev yet" ]
rc 0 "counter add cnt0 mark=3 (key=value config)" nfc counter add cnt0 mark=3
check "config mark=3" [ "$(js cnt0 show | jget "['config']['mark']")" = 3 ]
rc 0 "counter add cnt1" nfc counter add cnt1
rc 2 "add of an unknown type: usage error" nfc bogustype add x1
# A word that is not UTF-8 cannot go into a JSON body: it was dropped on
# the way ("field 'port' is required").
rc 2 "a word that is not UTF-8: usage error" nfc forwarder add $'x\xff'
check "... saying so" grep -q "word 3 of the command is not UTF-8" "$NFD_DIR/err"
rc 2 "an NF named like a command: usage error" nfc forwarder add show
rc 2 "an NF named like a type: usage error" nfc forwarder add counter
rc 2 "add without a name: usage error" nfc forwarder add
rc 2 "add with a word that is not key=value" nfc forwarder add x1 bogus
rc 2 "add with a key given twice" nfc counter add x1 mark=1 mark=2
rc 1 "duplicate NF: refused" nfc forwarder add fw0
check "... with the daemon's message on stderr" grep -q 'fw0' "$NFD_DIR/err"
rc 1 "bad config value: refused" nfc counter add x1 mark=lots
rc 1 "unknown mode: refused" nfc forwarder add x1 mode=warp
rc 1 "unknown config key: refused" nfc forwarder add x1 colour=red

# ---- ports, connect, disconnect -------------------------------------------
rc 0 "ports add p1 peer=<netdev>" nfc fw0 ports add p1 peer="$NFD_IF1"
rc 0 "ports add p2 (no peer)" nfc fw0 ports add p2
rc 1 "ports add with a missing peer: refused" nfc fwt ports add p1 peer=nfcnope0
check "... naming the peer" grep -q nfcnope0 "$NFD_DIR/err"
rc 0 "connect <nf>:<port> <netdev>" nfc connect fw0:p2 "$NFD_IF2"
check "ping through fw0" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 198.51.100.2
rc 0 "<name> show (mode auto)" nfc fw0 show
check "show says the hook picked and why: tc (auto: veth)" \
	grep -q '^fw0: forwarder, mode auto, hook tc (auto: veth)' "$NFD_DIR/out"
rc 2 "connect without <nf>:<port>: usage error" nfc connect fw0 "$NFD_IF2"
rc 1 "connect of a connected port: refused" nfc connect fw0:p2 "$NFD_IF1"
rc 0 "disconnect <nf>:<port>" nfc disconnect fw0:p2
check "disconnected: peer is null" [ "$(js fw0 show ports | jget "[1]['peer']")" = None ]
rc 0 "ports <port> set peer=<netdev>" nfc fw0 ports p2 set peer="$NFD_IF2"
check "peer set" [ "$(js fw0 show ports | jget "[1]['peer']")" = "$NFD_IF2" ]
rc 1 "ports <port> set unknown key: refused" nfc fw0 ports p2 set colour=red
rc 2 "ports <port> set without key=value: usage error" nfc fw0 ports p2 set
rc 0 "ports add on fwt (for del)" nfc fwt ports add p1
nfc forwarder add fwu mode=tc >/dev/null && nfc fwu ports add p1 >/dev/null
rc 0 "connect <nf>:<port> <nf>:<port>" nfc connect fwt:p1 fwu:p1
check "NF-to-NF link seen from both sides" [ "$(js fwu show ports | jget "[0]['peer']")" = fwt:p1 ]
# Found by a helper: "set peer=" of an NF-to-NF link answered 0 and left
# the link up (the other end's peer put it back).
rc 0 "ports <port> set peer= on an NF-to-NF link" nfc fwt ports p1 set peer=
check "... unconnected from both sides" \
	[ "$(js fwt show ports | jget "[0]['peer']")" = None -a "$(js fwu show ports | jget "[0]['peer']")" = None ]
rc 0 "ports <port> set peer=<nf>:<port>" nfc fwt ports p1 set peer=fwu:p1
check "... linked, seen from both sides" [ "$(js fwu show ports | jget "[0]['peer']")" = fwt:p1 ]
rc 1 "ports <port> set peer=<missing netdev>: refused" nfc fwt ports p1 set peer=nfcnope0
check "... the link kept" [ "$(js fwu show ports | jget "[0]['peer']")" = fwt:p1 ]
rc 0 "disconnect an NF-to-NF link" nfc disconnect fwt:p1
nfc fwu del >/dev/null
rc 0 "ports del <port>" nfc fwt ports del p1
rc 1 "ports del of a missing port: refused" nfc fwt ports del p1

# ---- show ------------------------------------------------------------------
rc 0 "show" nfc show
check "show is a table with a header" grep -q '^NF  *TYPE  *MODE  *PORT  *PEER' "$NFD_DIR/out"
rc 0 "<name> show" nfc fw0 show
rc 0 "<name> show ports" nfc fw0 show ports
check "ports table" grep -q "^p1  *$NFD_IF1" "$NFD_DIR/out"
rc 0 "<name> show stats" nfc fw0 show stats
check "stats table" grep -q 'rx_packets' "$NFD_DIR/out"
js show >"$NFD_DIR/show.json"
check "-j show: NF objects with name, type, mode, ports (name, peer, stats)" \
	python3 -c "
import json; d = json.load(open('$NFD_DIR/show.json'))
n = [x for x in d['nfs'] if x['name'] == 'fw0'][0]
assert n['type'] == 'forwarder' and n['mode'] == 'auto' and n['hook'] == 'tc'
for p in n['ports']:
    assert 'name' in p and 'peer' in p
    assert set(['rx_packets','rx_bytes','tx_packets','tx_bytes','drops']) <= set(p['stats'])
"
rc 1 "<name> show of an unknown NF: refused" nfc nosuch show
rc 2 "<name> alone: usage error" nfc fw0
rc 2 "<name> show a b: usage error" nfc fw0 show ports stats

# ---- set, attach, detach ------------------------------------------------------
rc 0 "<name> set key=value" nfc cnt0 set mark=5
check "set took effect" [ "$(js cnt0 show | jget "['config']['mark']")" = 5 ]
rc 0 "<name> set mode=xdp-generic" nfc fwg set mode=xdp-generic
rc 0 "<name> set mode=tc (reload in the other hook)" nfc fwg set mode=tc
check "mode changed" [ "$(js fwg show | jget "['mode']")" = tc ]
rc 1 "set of a bad value: refused" nfc cnt0 set mark=-1
rc 2 "set without key=value: usage error" nfc cnt0 set
rc 0 "attach <nf> <nf>:<port> direction=both position=first" \
	nfc attach cnt0 fw0:p1 direction=both position=first
rc 0 "attach <nf> <netdev> direction=ingress position=last" \
	nfc attach cnt1 "$NFD_IF2" direction=ingress position=last
rc 2 "attach with an unknown key: usage error" nfc attach cnt1 fw0:p1 colour=red
rc 1 "attach twice: refused" nfc attach cnt0 fw0:p1
ip netns exec "$NFD_H1" ping -c 4 -i 0.05 -W 1 -q 198.51.100.2 >/dev/null
check "counter on fw0:p1 counted the pings" \
	[ "$(js cnt0 show stats | jget "['attachments'][0]['stats']['ingress_packets']")" -ge 4 ]
rc 0 "cnt0 show stats (table)" nfc cnt0 show stats
check "per-direction columns" grep -q 'IN_PKTS' "$NFD_DIR/out"
rc 0 "detach <nf> <nf>:<port>" nfc detach cnt0 fw0:p1
rc 0 "detach <nf> <netdev>" nfc detach cnt1 "$NFD_IF2"
rc 1 "detach of what is not attached: refused" nfc detach cnt1 "$NFD_IF2"

# ---- collections: generic over what `types` declares ---------------------------
# One candidate per declared collection: "type coll key portcfg fields...",
# with example values chosen by field kind; the first that the NF accepts
# is used for the add/show/del lines.
js types | python3 -c '
import json, sys
ex = {"mac": "02:00:00:00:00:aa", "ipv4": "203.0.113.9", "prefix": "203.0.113.1/24",
      "bool": "true", "string": "x", "uint-list": "10", "port": "p1"}
def val(f):
    if f["kind"] in ex: return ex[f["kind"]]
    if f["kind"] == "uint": return str(f.get("min", 1) or 1)
    return (f.get("choices") or "x").split("|")[0]
for t in json.load(sys.stdin):
    pc = ",".join("%s=%s" % (f["name"], val(f)) for f in t.get("port_config") or []
                  if f.get("required") or f["kind"] in ("prefix", "ipv4")) or "-"
    for c in t.get("collections") or []:
        k = (c.get("key") or "").lower()
        key = "02:00:00:00:00:aa" if "mac" in k else "198.51.100.128/25" if "prefix" in k \
            else "203.0.113.9" if ("ip" in k or "address" in k) else "1"
        kv = ["%s=%s" % (f["name"], val(f)) for f in c.get("fields") or [] if f.get("required")]
        print(t["name"], c["name"], key, pc, " ".join(kv))
' >"$NFD_DIR/colls"
done_coll=
while read -r ctype coll ckey pcfg ckv; do
	nfc "$ctype" add nfcoll >/dev/null 2>&1 || continue
	# shellcheck disable=SC2086
	nfc nfcoll ports add p1 $( [ "$pcfg" = - ] || echo "${pcfg//,/ }") >/dev/null 2>&1
	# shellcheck disable=SC2086
	if nfc nfcoll "$coll" add "$ckey" $ckv 2>"$NFD_DIR/err"; then
		ok "<name> <collection> add <key> [key=value ...] ($ctype $coll $ckey $ckv)"
		rc 0 "<name> show <collection>" nfc nfcoll show "$coll"
		check "the entry is listed" grep -qi "${ckey%%/*}" "$NFD_DIR/out"
		rc 0 "<name> <collection> show (the same)" nfc nfcoll "$coll" show
		check "the entry is listed by <collection> show" grep -qi "${ckey%%/*}" "$NFD_DIR/out"
		rc 0 "<name> <collection> del <key>" nfc nfcoll "$coll" del "$ckey"
		rc 1 "<collection> del of a missing key: refused" nfc nfcoll "$coll" del "$ckey"
		done_coll=1
	else
		echo "# $ctype $coll add $ckey $ckv: $(cat "$NFD_DIR/err")"
	fi
	nfc nfcoll del >/dev/null
	[ -n "$done_coll" ] && break
done <"$NFD_DIR/colls"
[ -n "$done_coll" ] || echo "# no collection accepted an example entry: add/del checked for refusal only"
rc 1 "<collection> add on a type without it: refused" nfc fw0 nocoll add k1
check "... naming the collections there are" grep -q "collection" "$NFD_DIR/err"
rc 2 "<collection> with no verb: usage error" nfc fw0 nocoll
rc 2 "<collection> del without a key: usage error" nfc fw0 nocoll del

# ---- apply, export -----------------------------------------------------------
rc 0 "export" nfc export
check "export is JSON with nfs and attachments" \
	quiet python3 -c "import json; d=json.load(open('$NFD_DIR/out')); d['nfs']; d['attachments']"
cp "$NFD_DIR/out" "$NFD_DIR/state.json"
rc 0 "apply -f - (stdin)" nfc apply -f - <"$NFD_DIR/state.json"
check "... no changes" grep -q '^no changes' "$NFD_DIR/out"
rc 0 "apply -f FILE --dry-run (either order)" nfc apply -f "$NFD_DIR/state.json" --dry-run
rc 2 "apply without -f: usage error" nfc apply
rc 1 "apply of a missing file: exit 1" nfc apply -f "$NFD_DIR/nonexistent.json"
echo '{"nfs": [{"name": "zz", "type": "forwarder", "colour": 1}]}' >"$NFD_DIR/bad.json"
rc 1 "apply of a bad document: refused" nfc apply -f "$NFD_DIR/bad.json"
check "... naming the field" grep -q colour "$NFD_DIR/err"

# ---- del --------------------------------------------------------------------
for n in cnt0 cnt1 fwt fwg fw0; do rc 0 "<name> del ($n)" nfc "$n" del; done
rc 1 "del of an unknown NF: refused" nfc fw0 del
check "nothing left" [ "$(js show | jget "['nfs']")" = "[]" ]

# ---- bash completion -------------------------------------------------------------
comp() { # words... -> COMPREPLY, one a line
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _nfchain; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$NFC_TOP/dist/nfchain.bash" "$@"
}
# As interactive bash calls it: the line, and its words split at '=' and
# ':' too (COMP_WORDBREAKS); the completion reads the line.
compl() { # line -> COMPREPLY, one a line
	bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}
		COMP_WORDBREAKS=$'"'"' \t\n"\x27><=;|&(:'"'"'; COMP_WORDS=(nfchain); COMP_CWORD=0
		_nfchain; printf "%s\n" "${COMPREPLY[@]}"' _ "$NFC_TOP/dist/nfchain.bash" "$1"
}
export PATH="$NFC_BIN:$PATH"
nfc forwarder add fwc >/dev/null
check "completion: commands" grep -qx show <(comp nfchain --socket "$NFD_SOCK" "")
check "completion: types" grep -qx forwarder <(comp nfchain --socket "$NFD_SOCK" "")
check "completion: NF names" grep -qx fwc <(comp nfchain --socket "$NFD_SOCK" "")
check "completion: NF verbs" grep -qx ports <(comp nfchain --socket "$NFD_SOCK" fwc "")
check "completion: ports" grep -qx p1 <(comp nfchain --socket "$NFD_SOCK" fwc ports add "") 
# Found by a helper: the completion offered a part of the grammar only.
check "completion: filter-test" grep -qx filter-test <(comp nfchain --socket "$NFD_SOCK" fi)
check "completion: types load|unload|show" \
	test "$(comp nfchain --socket "$NFD_SOCK" types "" | sort | tr '\n' ' ')" = "load show unload "
check "completion: upgrade and dump after an NF" \
	test "$(comp nfchain --socket "$NFD_SOCK" fwc "" | grep -cxE 'upgrade|dump')" = 2
nfc router add rc >/dev/null
check "completion: a collection's verbs" \
	test "$(comp nfchain --socket "$NFD_SOCK" rc routes "" | sort | tr '\n' ' ')" = "add del flush import set show "
check "completion: a collection's fields" grep -qx nexthop= <(comp nfchain --socket "$NFD_SOCK" rc routes add 203.0.113.0/26 "")
check "completion: the NF's own fields after set" grep -qx rp_filter=on <(comp nfchain --socket "$NFD_SOCK" rc set "")
check "completion: a port's fields" grep -qx mtu= <(comp nfchain --socket "$NFD_SOCK" rc ports p1 set "")
check "completion: a type's fields at add" grep -qx arp_timeout= <(comp nfchain --socket "$NFD_SOCK" router add r5 "")
check "completion: --timeout takes its value" grep -qx ports <(comp nfchain --socket "$NFD_SOCK" --timeout 5 rc "")
# (a helper) in a real bash nothing after an '=' or a ':' was completed.
check "completion in bash: a value after '=' (mode=x -> xdp)" \
	grep -qx xdp <(compl "nfchain --socket $NFD_SOCK router add r9 mode=x")
check "completion in bash: a peer netdev after peer= (lo)" \
	grep -qx lo <(compl "nfchain --socket $NFD_SOCK rc ports add p9 peer=l")
p1add=$(nfc fwc ports add p1 2>&1)
check "completion in bash: a port after 'fwc:' (p1; $p1add)" \
	grep -qx p1 <(compl "nfchain --socket $NFD_SOCK connect fwc:")
check "completion in bash: the word after 'fwc:p1' is the second argument (lo)" \
	grep -qx lo <(compl "nfchain --socket $NFD_SOCK connect fwc:p1 l")
nfc fwc ports del p1 >/dev/null
# Text views a helper found wanting: a router port's mac and ip were in
# -j only; the bridge's stats listed each drop reason twice.
nfc rc ports add p1 ip=203.0.113.1/26 >/dev/null
check "show ports: a DETAILS column with the router port's mac and ip" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' rc show ports | grep -E '^PORT.* DETAILS\$' >/dev/null &&
		'$NFC_BIN/nfchain' --socket '$NFD_SOCK' rc show ports | grep -E '^p1 .* mac=[0-9a-f:]{17} ip=203.0.113.1\$' >/dev/null"
check "show: a bool field as set takes it (ra=off)" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' rc show ports | grep -E '^p1 .* ra=off ' >/dev/null"
# <collection> show <key>: one entry, as the listing shows it.
nfc rc routes add 198.18.0.0/16 nexthop=203.0.113.9 >/dev/null
rc 0 "rc routes show 198.18.0.0/16: one entry" nfc rc routes show 198.18.0.0/16
check "... its row, under the listing's header" \
	sh -c "head -1 '$NFD_DIR/out' | grep -q '^PREFIX' && [ \$(wc -l <'$NFD_DIR/out') = 2 ] && grep -q '^198.18.0.0/16 ' '$NFD_DIR/out'"
check "... -j: the entry's object" \
	test "$(nfc -j rc routes show 198.18.0.0/16 | jq -r '.prefix + " " + .nexthop')" = "198.18.0.0/16 203.0.113.9"
rc 1 "a key with no entry: refused" nfc rc routes show 198.19.0.0/16
check "... naming it" grep -q "routes has no entry '198.19.0.0/16'" "$NFD_DIR/err"
# (a helper) an empty import --replace of the learnt neighbours said it
# emptied them.
check "neighbours import --replace: refused (learnt)" \
	refused "neighbours are learnt, not imported" nfc rc neighbours import --replace -f /dev/null
# (a helper) a connected route, listed, was "no entry" by its key.
check "a connected route by its key" \
	test "$(nfc -j rc routes show 203.0.113.0/26 | jq -r '.prefix + " " + .type')" = "203.0.113.0/26 connected"
rc 2 "stats show with a key: usage error" nfc rc stats show x
rc 2 "show of an empty key: usage error (it listed them all)" nfc rc routes show ""
check "... saying so" grep -q "an empty key" "$NFD_DIR/err"
check "the REST GET of one entry (its '/' percent-encoded): 200" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/rc/routes/198.18.0.0%2F16)" = 200
check "... of a key with no entry: 404" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/rc/routes/198.19.0.0%2F16)" = 404
check "... of an NF that does not exist: 404" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/nosuch/routes/x)" = 404
nfc rc del >/dev/null
nfc bridge add bc >/dev/null
check "bridge show stats: each drop reason once (dropped.<reason>)" \
	test "$(nfc bc show stats | grep -cE '^(drop_|dropped\.)vlan ')" = 1
check "... -j keeps both (the API's readers)" \
	test "$(nfc -j bc show stats | jq '[.stats.drop_vlan, .stats.dropped.vlan] | length')" = 2
nfc bc del >/dev/null
nfd_stop
check "nfchaind stops cleanly" [ $? = 0 ]
nfc_done
