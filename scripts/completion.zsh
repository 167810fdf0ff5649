#compdef tlsdissect
# zsh completion for tlsdissect. Generated from the flags of
# cmd/tlsdissect (manpage.go); do not edit. Install it as _tlsdissect in a
# directory of $fpath (make install puts it in share/zsh/site-functions).
_arguments -s \
	'*-r[read packets from a pcap or pcapng file]:file:_files' \
	'-i[capture live on IFACE, or the Nth of -D]:interface:_net_interfaces' \
	'-D[list the interfaces -i accepts, numbered, then exit]' \
	'-s[bytes captured per packet]:snaplen: ' \
	'-c[stop after COUNT TCP packets]:count: ' \
	'-p[do not put the interface into promiscuous mode]' \
	'-B[live capture buffer size in KiB]:kib: ' \
	'-Z[after opening the interface and the -o file, drop privileges to USER]:user: ' \
	'-n[accepted for tcpdumps sake  addresses are never resolved]' \
	'-Y[display filter over the records fields, before every format, e.g. status == "failed" and sni endsWith ".example.com"]:expr: ' \
	'-F[table]:format:(table ladder json ecs zeek zeek-json summary html)' \
	'-o[write records to FILE instead of stdout]:file:_files' \
	'-zeek-dir[also write ssl.log, x509.log and conn.log in DIR, as a Zeek logs directory holds them]:dir:_files' \
	'-w[write the packets of the connections that pass -Y to FILE  pcapng, or pcap when FILE ends in .pcap]:file:_files' \
	'-w-max-conn[with -i  bytes of packets -w holds per open connection until it closes]:b: ' \
	'-w-max-memory[with -i  bytes of packets -w holds in all]:b: ' \
	'-width[width for table and summary]:n: ' \
	'-color[colour the table and ladder  auto]:when:(auto always never)' \
	'-no-legend[leave out the key under the table and summary formats]' \
	'-q[no summary line and no progress bar on stderr]' \
	'-v[say more on stderr  what -Y and -w kept]' \
	'-stats[print packet/drop/connection counters to stderr every DUR]:dur: ' \
	'-not-tls[also report TCP connections that never carried TLS]' \
	'-fail-exit[exit 3 when a handshake]' \
	'*-keylog[NSS key log]:file:_files' \
	'-ca-bundle[PEM trust store to validate server chains as of the capture time]:file:_files' \
	'-idle[close a connection idle this long in capture time]:dur: ' \
	'-gap-wait[how long a hole in a stream may wait for its data]:dur: ' \
	'-max-conns[connections tracked at once]:n: ' \
	'-max-buffer[out-of-order bytes held per connection]:b: ' \
	'-max-memory[out-of-order bytes held in all]:b: ' \
	'-workers[goroutines connections are sharded over]:n: ' \
	'-version[print the version and exit]' \
	'-cpuprofile[write a CPU profile]:f:_files' \
	'-memprofile[write a heap profile]:f:_files' \
	'-h[print this help and exit]' \
	'*:BPF filter: '
