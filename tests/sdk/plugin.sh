#!/usr/bin/env bash
# A loaded type with a control plane in C (docs/sdk.md, "A plugin"): the
# SDK's example plugin built out of tree with only pkg-config, loaded with
# `types load ttl.bpf.o plugin=ttl_plugin.so`; its declaration (ttl_dec
# 1..16), its validate() and its stats figure at work on real traffic;
# kept in the state dir across kill -9 (the user's .so removed); bad
# plugins (no NFC_PLUGIN symbol, another ABI, a symbol nfchaind lacks, not
# a shared object) refused with nothing changed; delete and unload.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
SDK=$NFD_DIR/sdk
mkdir -p "$SDK/b" "$SDK/bad"

make -s -C "$NFC_TOP" install-sdk PREFIX="$SDK/p" >"$SDK/install.log" 2>&1
check "make install-sdk PREFIX=tmp" [ $? = 0 ]
export PKG_CONFIG_PATH=$SDK/p/lib/pkgconfig
cp "$SDK/p/share/nfchain/examples/ttl/"* "$SDK/b/"
make -s -C "$SDK/b" all plugin >"$SDK/build.log" 2>&1
check "example and its plugin built out of tree" \
	[ -f "$SDK/b/ttl.xdp.bpf.o" ] && check "example and its plugin built out of tree" [ -f "$SDK/b/ttl.tc.bpf.o" ] && check "example and its plugin built out of tree" [ -f "$SDK/b/ttl_plugin.so" ]
# shellcheck disable=SC2046
so() { cc -shared -fPIC -o "$SDK/bad/$1.so" -x c - $(pkg-config --cflags nfchain) 2>>"$SDK/bad/cc.log"; }
echo 'int nothing_here = 1;' | so nosym
printf '%s\n' '#include <nfchain/nf.h>' 'static const struct nfc_nf_type t = {.name = "x"};' \
	'const struct nfc_plugin nfc_plugin = {99, sizeof(struct nfc_nf_type), &t};' | so abi
printf '%s\n' '#include <nfchain/nf.h>' 'int nfc_nf_no_such_call(struct nfc_nf *nf);' \
	'static int v(struct nfc_nf *nf, json_t *c) { (void)c; return nfc_nf_no_such_call(nf); }' \
	'static const struct nfc_nf_type t = {.name = "x", .validate = v};' 'NFC_PLUGIN(t);' | so undef
check "three bad plugins built" [ -f "$SDK/bad/nosym.so" ] && check "three bad plugins built" [ -f "$SDK/bad/abi.so" ] && check "three bad plugins built" [ -f "$SDK/bad/undef.so" ]
# (a helper) ttl_dec 0..1000 over the object's __u8 global: it loaded, and
# every add then failed with "not an integer".
printf '%s\n' '#include <nfchain/nf.h>' \
	'static const struct nfc_field c[] = {{.name = "ttl_dec", .kind = NFC_F_UINT, .flags = NFC_FIELD_RELOAD, .def = "300", .min = 0, .max = 1000}, NFC_FIELDS_END};' \
	'static const struct nfc_nf_type t = {.name = "x", .config = c};' 'NFC_PLUGIN(t);' | so wide
# A figure named as one of the framework's hid the NF's own total (the
# ddos NF's drops by reason did so).
printf '%s\n' '#include <nfchain/nf.h>' \
	'static const struct nfc_stat d[] = {{"drops", NFC_STAT_COUNTER, NULL, "mine"}, {0}};' \
	'static const struct nfc_nf_type t = {.name = "x", .stats_doc = d};' 'NFC_PLUGIN(t);' | so shadow

nfd_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }
pttl() { # the TTL of the reply to a ping from h1 to h2
	ip netns exec "$NFD_H1" ping -c 2 -i 0.2 -W 1 198.51.100.2 2>/dev/null |
		sed -n 's/.*ttl=\([0-9]*\).*/\1/p' | tail -1
}
types_dir() { ls -A "$NFD_STATE/types" 2>/dev/null | tr '\n' ' '; }

# ---- bad plugins first: nothing changed ----------------------------------------
before=$(nfc -j types | md5sum) tb=$(types_dir)
o=$SDK/b/ttl.bpf.o
check "a plugin without NFC_PLUGIN: refused" refused "nosym.so: no symbol 'nfc_plugin'" \
	nfc types load "$o" plugin="$SDK/bad/nosym.so" name=bad1
check "a plugin of another ABI: refused" refused "abi.so: built for nfchain plugin ABI 99.*rebuild it" \
	nfc types load "$o" plugin="$SDK/bad/abi.so" name=bad2
check "a plugin calling what nfchaind lacks: refused" refused "undef.so: cannot load it.*nfc_nf_no_such_call" \
	nfc types load "$o" plugin="$SDK/bad/undef.so" name=bad3
check "a file that is not a shared object: refused" refused "cannot load it as a shared object" \
	nfc types load "$o" plugin="$SDK/b/ttl.xdp.bpf.o" name=bad4
check "a plugin that does not exist: refused" refused "none.so: No such file" \
	nfc types load "$o" plugin="$SDK/bad/none.so" name=bad5
check "a plugin field wider than its global: refused at load" \
	refused "field 'ttl_dec' ranges 0..1000, but the object's 1-byte global 'ttl_dec' holds 0..255" \
	nfc types load "$o" plugin="$SDK/bad/wide.so" name=bad6
check "a plugin stat named as the framework's drops: refused at load" \
	refused "shadow.so: stat 'drops' is a figure of the framework's own" \
	nfc types load "$o" plugin="$SDK/bad/shadow.so" name=bad7
check "... nothing changed (types; state dir: '$(types_dir)')" \
	[ "$(nfc -j types | md5sum)" = "$before" ] && check "... nothing changed (types; state dir: '$(types_dir)')" [ "$(types_dir)" = "$tb" ] &&
	check "... nothing changed (types; state dir: '$(types_dir)')" [ -z "$(ls -A "$NFD_STATE/objects" 2>/dev/null)" ]

# ---- the example plugin ----------------------------------------------------------
check "types load ttl.bpf.o plugin=ttl_plugin.so name=ttlp" \
	nfc types load "$o" plugin="$SDK/b/ttl_plugin.so" name=ttlp
check "types show: the plugin's summary" sh -c \
	"'$NFC_BIN/nfchain' --socket '$NFD_SOCK' types show | grep -q '^ttlp: loaded type (xdp, tc, plugin): TTL rewriter with a C control plane'"
check "its declaration of ttl_dec (max 16) refuses 20" refused "ttl_dec.*16" nfc ttlp add t1 ttl_dec=20
check "its validate() refuses 13" refused "ttl_plugin: ttl_dec 13 is unlucky" nfc ttlp add t1 ttl_dec=13
nfc ttlp add t1 ttl_dec=3 && nfc t1 ports add p1 peer="$NFD_IF1" && nfc t1 ports add p2 peer="$NFD_IF2"
check "ttlp add t1 ttl_dec=3, ports p1 p2" [ $? = 0 ]
t=$(pttl); check "traffic through t1: reply TTL 64 - 3 ($t)" [ "$t" = 61 ]
nfc t1 dst add 203.0.113.0/24 ttl=5 && nfc t1 dst add 198.51.100.1/32 ttl=7
t=$(pttl); check "the object's collection (dst) at work: reply TTL $t" [ "$t" = 7 ]
n=$(nfc -j t1 show stats | jget '["stats"]["dst_entries"]')
check "the plugin's stats(): dst_entries $n" [ "$n" = 2 ]
check "... in /metrics as the gauge it declares" sh -c \
	"curl -s --unix-socket '$NFD_SOCK' http://x/metrics | grep -q 'dst_entries.*nf=\"t1\".* 2\$'"

rm -f "$SDK/b/ttl_plugin.so" # the daemon's copy is what counts
nfd_kill9
nfd_start || not_ok "restart after kill -9"
check "after kill -9 (the user's .so removed): the plugin is back" sh -c \
	"'$NFC_BIN/nfchain' --socket '$NFD_SOCK' types show | grep -q '^ttlp: .*plugin'"
n=$(nfc -j t1 show stats | jget '["stats"]["dst_entries"]')
t=$(pttl)
check "... its stats() ($n) and the traffic (reply TTL $t)" [ "$n" = 2 ] && check "... its stats() ($n) and the traffic (reply TTL $t)" [ "$t" = 7 ]
# (a helper) the plugin's store file lost: the type came back without its
# plugin (its range and validate() gone, nothing said). Now the type waits
# for its file, and a load of it brings t1 back.
plink=$(readlink -f "$NFD_STATE/types/ttlp/plugin.so")
rm -f "$plink"
nfd_kill9
nfd_start || not_ok "restart after kill -9, the plugin's file lost"
check "... the type is not back without its plugin" sh -c \
	"! '$NFC_BIN/nfchain' --socket '$NFD_SOCK' types show | grep -q '^ttlp:'"
check "... the restore waits, saying so" \
	[ -n "$(nfc -j show | jq -r '.restore_pending // empty')" ]
make -s -C "$SDK/b" plugin >>"$SDK/build.log" 2>&1
check "the plugin loaded again: the restore runs, t1 is back" \
	eval 'nfc types load "$o" plugin="$SDK/b/ttl_plugin.so" name=ttlp >/dev/null &&
	[ "$(nfc -j t1 show stats | jget "[\"stats\"][\"dst_entries\"]")" = 2 ]'
nfc t1 dst del 198.51.100.1/32
check "set ttl_dec=5: a reload" nfc t1 set ttl_dec=5
t=$(pttl); check "... reply TTL 64 - 5 ($t)" [ "$t" = 59 ]
check "... and 17 is still refused" refused "ttl_dec.*16" nfc t1 set ttl_dec=17

check "unload while t1 exists: refused" refused "NF t1 is of this type" nfc types unload ttlp
nfc t1 del
check "types unload ttlp after t1 del" nfc types unload ttlp
check "... gone from the types and the state dir" \
	sh -c "! '$NFC_BIN/nfchain' --socket '$NFD_SOCK' -j types | grep -q '\"ttlp\"' && [ ! -e '$NFD_STATE/types/ttlp' ]"
# (a helper) its files are kept a week (0400: an export taken as a backup
# may name them), not deleted at once, also through a refused load of the
# same object, which copied it over with a new file's mode.
kept() { find "$NFD_STATE/objects" -type f -perm 0400 | wc -l; }
check "... its three files kept, retired (0400): $(kept)" [ "$(kept)" = 3 ]
nfc types load "$o" plugin="$SDK/bad/nosym.so" name=bad7 >/dev/null 2>&1
check "a refused load of the same object: still three kept ($(kept))" [ "$(kept)" = 3 ]
nfd_stop
check "nfchaind stops cleanly (exit 0, no leak report)" [ $? = 0 ]
nfc_done
