package main

import (
	"fmt"
	"strings"
)

// manPage renders docs/tlsdissect.1 from flagDocs; TestManPage keeps the
// committed page in step (go test ./cmd/tlsdissect -run TestManPage
// -update rewrites it). No date: the page is the same whenever built.
func manPage() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`.\" Generated from the flags of cmd/tlsdissect (manpage.go); do not edit.`)
	w(`.TH TLSDISSECT 1 "" "tlsdissect" "User Commands"`)
	w(".SH NAME")
	w(`tlsdissect \- tell the story of every TLS connection in a capture`)
	w(".SH SYNOPSIS")
	w(`.B tlsdissect`)
	w(`\fB\-r\fR \fIFILE\fR [\fIflags\fR] [\fIBPF filter\fR]`)
	w(".br")
	w(`.B tlsdissect`)
	w(`\fB\-i\fR \fIIFACE\fR [\fIflags\fR] [\fIBPF filter\fR]`)
	w(".br")
	w(`.B tlsdissect \-D`)
	w(".SH DESCRIPTION")
	w("%s", roff(`tlsdissect reads packets from a pcap or pcapng file or a live interface, rebuilds every TCP connection, dissects the TLS inside and tells each connection's story: the handshake messages both ways, what was negotiated, tickets issued and redeemed, alerts, and why a failed handshake failed. TLS is found by content, on any port.`))
	w(".PP")
	w("%s", roff(`The BPF filter (tcpdump syntax) comes after the flags and applies to files too. Single-letter flags combine as in tcpdump (-nr FILE, -s96).`))
	w(".SH OPTIONS")
	for _, sec := range flagSections {
		w(".SS %s", roff(sec))
		for _, d := range flagDocs {
			if d.section != sec {
				continue
			}
			w(".TP")
			if d.arg != "" {
				w(`.BI \-%s " %s"`, roff(d.name), roff(d.arg))
			} else {
				w(`.B \-%s`, roff(d.name))
			}
			w("%s", roff(d.help))
		}
	}
	w(".SH DISPLAY FILTER")
	w("%s", roff(`The -Y expression is written in the expr language over the fields of the record as -F json writes them (schema tlsdissect.flow/1), nested with dots: status, version, sni, client.ip, server.port, failure.reason, alerts, certificates and so on. A field a record lacks is nil, as is any member of it and any index out of range. A result that is not a boolean means present: -Y sni keeps the records with an SNI. Examples:`))
	for _, ex := range []string{
		`status == "failed" and version == "TLS 1.3"`,
		`sni endsWith ".example.com"`,
		`server.port in [443, 8443] and not resumed`,
		`any(alerts, .description == "bad_certificate")`,
	} {
		w(".IP")
		w(`.B %s`, roff("'"+ex+"'"))
	}
	w(".SH EXIT STATUS")
	w(".TP\n.B 0\nsuccess")
	w(".TP\n.B 1\n%s", roff("runtime error: an input that cannot be read or is damaged (after reporting what came before the damage), a failed write"))
	w(".TP\n.B 2\nusage error")
	w(".TP\n.B 3\n%s", roff("a handshake passing -Y failed, with -fail-exit"))
	w(".TP\n.B 130\n%s", roff("interrupted while reading a file; the output is partial"))
	w(".SH ENVIRONMENT")
	w(".TP\n.B COLUMNS\n%s", roff("the width of the table and summary when stdout is a terminal and -width is not given"))
	w(".TP\n.B NO_COLOR\n%s", roff("when set and not empty, no colour with -color auto"))
	w(".SH EXAMPLES")
	for _, ex := range []string{
		"tlsdissect -r capture.pcap",
		"tlsdissect -nr capture.pcapng -F json -o flows.ndjson",
		"tlsdissect -r capture.pcap -F ladder 'host 192.0.2.1'",
		`tlsdissect -r day.pcap -Y 'status == "failed"' -w failed.pcapng`,
		"tlsdissect -i eth0 -F json 'tcp port 443 or tcp port 8443'",
	} {
		w(".PP\n.nf\n%s\n.fi", roff(ex))
	}
	w(".SH SEE ALSO")
	w(`.BR tcpdump (1),`)
	w(`.BR tshark (1),`)
	w(`.BR pcap-filter (7)`)
	return b.String()
}

// roff escapes text for a man page line: backslashes, hyphens (which
// troff would set as hyphens, not minus signs), and a leading dot or
// quote that would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// bashCompletion renders scripts/completion.bash from flagDocs; the
// test TestCompletion keeps the committed file in step.
func bashCompletion() string {
	var names, files, values []string
	for _, d := range flagDocs {
		names = append(names, "-"+d.name)
		switch d.complete {
		case "":
		case "file":
			files = append(files, "-"+d.name)
		case "iface":
		default:
			values = append(values, fmt.Sprintf("\t-%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;", d.name, d.complete))
		}
	}
	var b strings.Builder
	b.WriteString(`# bash completion for tlsdissect. Generated from the flags of
# cmd/tlsdissect (manpage.go); do not edit. Install it as
# /usr/share/bash-completion/completions/tlsdissect (make install does),
# or source it; zsh can load it after "autoload bashcompinit; bashcompinit".
_tlsdissect() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
`)
	fmt.Fprintf(&b, "\t%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", strings.Join(files, "|"))
	b.WriteString("\t-i) COMPREPLY=($(compgen -W \"$(ls /sys/class/net 2>/dev/null) any\" -- \"$cur\")); return ;;\n")
	for _, v := range values {
		b.WriteString(v + "\n")
	}
	var withArg []string
	for _, d := range flagDocs {
		if d.arg != "" && d.complete == "" {
			withArg = append(withArg, "-"+d.name)
		}
	}
	fmt.Fprintf(&b, "\t%s) return ;;\n", strings.Join(withArg, "|"))
	b.WriteString("\tesac\n")
	fmt.Fprintf(&b, "\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\tfi\n}\n", strings.Join(names, " "))
	b.WriteString("complete -F _tlsdissect tlsdissect\n")
	return b.String()
}

// zshCompletion renders scripts/completion.zsh from flagDocs (a #compdef
// file for a directory of $fpath, named _tlsdissect); TestCompletion
// keeps the committed file in step.
func zshCompletion() string {
	var b strings.Builder
	b.WriteString(`#compdef tlsdissect
# zsh completion for tlsdissect. Generated from the flags of
# cmd/tlsdissect (manpage.go); do not edit. Install it as _tlsdissect in a
# directory of $fpath (make install puts it in share/zsh/site-functions).
_arguments -s \
`)
	for _, d := range flagDocs {
		help := strings.NewReplacer("[", "(", "]", ")", "'", "", ":", " ", `\`, "").Replace(d.help)
		if i := strings.IndexAny(help, ";("); i > 0 {
			help = strings.TrimSpace(help[:i])
		}
		action := ""
		if d.arg != "" {
			switch d.complete {
			case "file":
				action = ":" + strings.ToLower(d.arg) + ":_files"
			case "iface":
				action = ":interface:_net_interfaces"
			case "":
				action = ":" + strings.ToLower(d.arg) + ": "
			default:
				action = ":" + strings.ToLower(d.arg) + ":(" + d.complete + ")"
			}
		}
		rep := ""
		if d.name == "r" || d.name == "keylog" {
			rep = "*"
		}
		fmt.Fprintf(&b, "\t'%s-%s[%s]%s' \\\n", rep, d.name, help, action)
	}
	b.WriteString("\t'*:BPF filter: '\n")
	return b.String()
}
