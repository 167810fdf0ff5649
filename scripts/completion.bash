# bash completion for tlsdissect. Generated from the flags of
# cmd/tlsdissect (manpage.go); do not edit. Install it as
# /usr/share/bash-completion/completions/tlsdissect (make install does),
# or source it; zsh can load it after "autoload bashcompinit; bashcompinit".
_tlsdissect() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-r|-o|-zeek-dir|-w|-keylog|-ca-bundle|-cpuprofile|-memprofile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	-i) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null) any" -- "$cur")); return ;;
	-F) COMPREPLY=($(compgen -W "table ladder json ecs zeek zeek-json summary html" -- "$cur")); return ;;
	-color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	-s|-c|-B|-Z|-Y|-w-max-conn|-w-max-memory|-width|-stats|-idle|-gap-wait|-max-conns|-max-buffer|-max-memory|-workers) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-r -i -D -s -c -p -B -Z -n -Y -F -o -zeek-dir -w -w-max-conn -w-max-memory -width -color -no-legend -q -v -stats -not-tls -fail-exit -keylog -ca-bundle -idle -gap-wait -max-conns -max-buffer -max-memory -workers -version -cpuprofile -memprofile -h" -- "$cur"))
	fi
}
complete -F _tlsdissect tlsdissect
