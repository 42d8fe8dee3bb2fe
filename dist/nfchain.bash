# bash completion for nfchain(8). Install as
#   /usr/share/bash-completion/completions/nfchain
# NF names, types, ports and collections come from the running daemon
# (`nfchain --list ...`), so the completion knows every NF type without
# being told about it.

_nfchain_list() { # WHAT: words from the daemon, using the same connection
	nfchain "${_nfc_conn[@]}" --list "$1" 2>/dev/null
}

# Completes $cur from WORDS (fixed) and FIELDS (from the daemon); a word
# ending in '=' waits for its value (no space after it).
_nfchain_fields() {
	mapfile -t COMPREPLY < <(compgen -W "$1 $2" -- "$cur")
	[[ ${#COMPREPLY[@]} -ge 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
}

# The config fields of a type, before any NF of it exists.
_nfchain_type_fields() {
	nfchain "${_nfc_conn[@]}" --list "typefields:$1" 2>/dev/null
}

_nfchain_netdevs() {
	local d
	for d in /sys/class/net/*; do [ -e "$d" ] && printf '%s\n' "${d##*/}"; done
}

# Bash splits a word at '=' and ':' (COMP_WORDBREAKS): `peer=va1` and
# `r0:p1` came as three words each, and nothing after an '=' or a ':' was
# ever completed (found by a helper). The words as typed, split at blanks
# only, from the line up to the cursor: _nfc_words and _nfc_cword.
_nfchain_words() {
	local line
	if [ -z "${COMP_LINE+x}" ]; then # called without a line: as given
		_nfc_words=("${COMP_WORDS[@]}") _nfc_cword=$COMP_CWORD
		return
	fi
	line=${COMP_LINE:0:COMP_POINT}
	read -ra _nfc_words <<<"$line"
	[[ $line == *[[:blank:]] || ${#_nfc_words[@]} -eq 0 ]] && _nfc_words+=("")
	_nfc_cword=$((${#_nfc_words[@]} - 1))
}

# COMPREPLY holds whole words; bash replaces only what follows the last
# '=' or ':' of the word: that much is taken off each.
_nfchain_trim() {
	local brk='' pre
	[[ $COMP_WORDBREAKS == *=* ]] && brk+='='
	[[ $COMP_WORDBREAKS == *:* ]] && brk+=':'
	[[ -n $brk && -n ${COMP_LINE+x} && $_nfc_cur == *["$brk"]* ]] || return 0
	pre=${_nfc_cur%"${_nfc_cur##*["$brk"]}"}
	COMPREPLY=("${COMPREPLY[@]#"$pre"}")
}

_nfchain() {
	_nfchain_main
	_nfchain_trim
}

_nfchain_main() {
	local _nfc_words _nfc_cword
	_nfchain_words
	local cur=${_nfc_words[_nfc_cword]} prev=${_nfc_words[_nfc_cword - 1]}
	local words=() i n w0 w1 types
	_nfc_cur=$cur
	_nfc_conn=()
	COMPREPLY=()
	for ((i = 1; i < _nfc_cword; i++)); do
		case ${_nfc_words[i]} in
		--socket | --url | --token-file | --timeout)
			_nfc_conn+=("${_nfc_words[i]}" "${_nfc_words[i + 1]}")
			i=$((i + 1))
			;;
		-j | --json) ;;
		*) words+=("${_nfc_words[i]}") ;;
		esac
	done
	case $prev in
	--socket | --token-file | -f | -r | -w)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--url | --timeout) return ;;
	esac
	n=${#words[@]}
	if ((n == 0)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-j --json --socket --url --token-file --timeout --help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "help types show export apply connect disconnect attach detach filter-test $(_nfchain_list types) $(_nfchain_list nfs)" -- "$cur")
		fi
		return
	fi
	w0=${words[0]}
	w1=${words[1]:-}
	case $w0 in
	show | export | help) return ;;
	types)
		if ((n == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "load unload show" -- "$cur")
		elif ((n == 2)) && [ "$w1" = load ]; then
			mapfile -t COMPREPLY < <(compgen -f -X '!*.o' -- "$cur")
			mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -d -- "$cur")
		elif ((n == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_list types)" -- "$cur")
		elif [ "$w1" = load ]; then
			mapfile -t COMPREPLY < <(compgen -W "name= with= plugin=" -- "$cur")
			compopt -o nospace 2>/dev/null
		fi
		return
		;;
	filter-test)
		((n >= 2)) && mapfile -t COMPREPLY < <(compgen -W "-r -w -j" -- "$cur")
		return
		;;
	apply)
		mapfile -t COMPREPLY < <(compgen -W "--dry-run -f" -- "$cur")
		return
		;;
	connect | disconnect)
		if ((n == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_list endpoints)" -- "$cur")
		elif ((n == 2)) && [ "$w0" = connect ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_netdevs) $(_nfchain_list endpoints)" -- "$cur")
		fi
		return
		;;
	attach | detach)
		if ((n == 1)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_list nfs)" -- "$cur")
		elif ((n == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_netdevs) $(_nfchain_list endpoints)" -- "$cur")
		elif [ "$w0" = attach ]; then
			mapfile -t COMPREPLY < <(compgen -W "direction=ingress direction=egress direction=both position=first position=last position=before= position=after=" -- "$cur")
			compopt -o nospace 2>/dev/null
		fi
		return
		;;
	esac
	types=" $(_nfchain_list types | tr '\n' ' ') "
	if [[ $types == *" $w0 "* ]]; then # <type> add <name> [mode=...]
		if ((n == 1)); then
			COMPREPLY=(add)
		elif ((n >= 3)); then
			_nfchain_fields "mode=auto mode=xdp mode=xdp-generic mode=tc" "$(_nfchain_type_fields "$w0")"
		fi
		return
	fi
	if ((n == 1)); then # <name> ...
		mapfile -t COMPREPLY < <(compgen -W "show set del ports upgrade dump $(_nfchain_list "colls:$w0")" -- "$cur")
		return
	fi
	case $w1 in
	show)
		((n == 2)) && mapfile -t COMPREPLY < <(compgen -W "ports stats $(_nfchain_list "colls:$w0")" -- "$cur")
		;;
	set)
		_nfchain_fields "mode=auto mode=xdp mode=xdp-generic mode=tc" "$(_nfchain_list "fields:$w0")"
		;;
	upgrade)
		mapfile -t COMPREPLY < <(compgen -W "-f migrate=recreate migrate=refuse" -- "$cur")
		;;
	dump)
		_nfchain_fields "count= seconds= format=pcap format=pcapng" ""
		;;
	ports)
		if ((n == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "add del $(_nfchain_list "ports:$w0")" -- "$cur")
		elif ((n == 3)) && [ "${words[2]}" = add ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_list "portnames:$w0")" -- "$cur")
		elif ((n == 3)) && [ "${words[2]}" = del ]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_nfchain_list "ports:$w0")" -- "$cur")
		elif ((n == 3)); then
			COMPREPLY=(set)
		elif [ "${words[2]}" = add ] || [ "${words[3]:-}" = set ]; then
			if [[ $cur == peer=* ]]; then
				mapfile -t COMPREPLY < <(compgen -P peer= -W "$(_nfchain_netdevs) $(_nfchain_list endpoints)" -- "${cur#peer=}")
			else
				_nfchain_fields "peer=" "$(_nfchain_list "portfields:$w0")"
			fi
		fi
		;;
	*) # a collection
		if ((n == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "add del set show flush import" -- "$cur")
		elif ((n >= 4)) && [[ ${words[2]} == add || ${words[2]} == set ]]; then
			_nfchain_fields "" "$(_nfchain_list "collfields:$w0:$w1")"
		elif [ "${words[2]}" = import ]; then
			mapfile -t COMPREPLY < <(compgen -W "-f --replace" -- "$cur")
		fi
		;;
	esac
}
complete -F _nfchain nfchain
