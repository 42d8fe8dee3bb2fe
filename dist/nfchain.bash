# bash completion for nfchain(8). Install as
#   /usr/share/bash-completion/completions/nfchain
# NF names, types, ports and collections come from the running daemon
# (`nfchain --list ...`), so the completion knows every NF type without
# being told about it.

_nfchain_list() { # WHAT: words from the daemon, using the same connection
	nfchain "${_nfc_conn[@]}" --list "$1" 2>/dev/null
}

_nfchain_netdevs() {
	local d
	for d in /sys/class/net/*; do [ -e "$d" ] && printf '%s\n' "${d##*/}"; done
}

_nfchain() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local words=() i n w0 w1 types
	_nfc_conn=()
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--socket | --url | --token-file)
			_nfc_conn+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}")
			i=$((i + 1))
			;;
		-j | --json) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
	done
	case $prev in
	--socket | --token-file | -f)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--url) return ;;
	esac
	n=${#words[@]}
	if ((n == 0)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-j --json --socket --url --token-file --help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "types show export apply connect disconnect attach detach $(_nfchain_list types) $(_nfchain_list nfs)" -- "$cur")
		fi
		return
	fi
	w0=${words[0]}
	w1=${words[1]:-}
	case $w0 in
	types | show | export) return ;;
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
			mapfile -t COMPREPLY < <(compgen -W "mode=auto mode=xdp mode=xdp-generic mode=tc" -- "$cur")
		fi
		return
	fi
	if ((n == 1)); then # <name> ...
		mapfile -t COMPREPLY < <(compgen -W "show set del ports $(_nfchain_list "colls:$w0")" -- "$cur")
		return
	fi
	case $w1 in
	show)
		((n == 2)) && mapfile -t COMPREPLY < <(compgen -W "ports stats $(_nfchain_list "colls:$w0")" -- "$cur")
		;;
	set)
		mapfile -t COMPREPLY < <(compgen -W "mode=auto mode=xdp mode=xdp-generic mode=tc" -- "$cur")
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
				COMPREPLY=(peer=)
				compopt -o nospace 2>/dev/null
			fi
		fi
		;;
	*) # a collection
		((n == 2)) && mapfile -t COMPREPLY < <(compgen -W "add del" -- "$cur")
		;;
	esac
}
complete -F _nfchain nfchain
