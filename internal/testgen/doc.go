// Package testgen makes the project's test captures: a crypto/tls client and
// server talk to each other in memory, and what they said is written as
// TCP/IP packets to a pcap or pcapng file with gopacket.
//
// # Model
//
// A Capture is a file: a Format (pcap, pcapng), a LinkType (Ethernet, 802.1Q,
// Linux SLL, raw IP), a start time and a list of Conns. A Conn is one TCP
// connection: client and server tls.Config templates, addresses (IPv4 or
// IPv6), a start offset At, Timing (RTT, think time, spacing of back-to-back
// segments), the MSS, what the client does after the handshake (write
// ClientSends bytes, read ServerSends bytes), how it ends (close_notify and
// FIN, bare FIN, RST, client abort), an optional plaintext Prelude
// (STARTTLS) or none of TLS at all (Plain), an optional Rewrite of the bytes
// recorded (FragmentHandshake, SetServerSessionID), an optional hand-made
// Script instead of crypto/tls (SessionIDResumption), and an Impairment.
//
//	k, _ := testgen.NewCatalog(testgen.DefaultSeed, testgen.DefaultStart())
//	caps, _ := k.Captures()        // the committed scenarios
//	res, _ := caps[0].Write(f)     // res.Outcomes: what each side saw
//
// # How a conversation is recorded
//
// Both sides run in goroutines over a turn-taking in-memory wire: only the
// side holding the turn runs, and it hands the turn over only when it must
// wait (a Read with nothing to read, too much unread data on Write, or its
// end). Each Write is appended to one ordered log (Event: data, FIN, RST)
// before the peer can read it, so the log is a causal order of the
// conversation and does not depend on the Go scheduler.
//
// The log becomes packets (Conn.Packets, or Conn.Stream without keeping
// them): SYN, SYN-ACK, ACK with MSS options; data cut into MSS-sized
// segments with PSH on the last segment of each write; an ACK from the
// receiver after every second segment; ACKs piggybacked when the direction
// changes; FIN/ACK both ways and a last ACK, or a RST. Times follow the
// capture point at the client: the server's answer comes one RTT after the
// client's packet, the client's answer Think after the server's, segments of
// one flight Step apart.
//
// # Determinism
//
// The same Catalog seed and start give byte-identical files. crypto/tls
// takes its randomness from Config.Rand (a ChaCha8 stream per connection and
// side, see NewRand) and its clock from Config.Time (fixed per connection);
// keys and certificates come from seeded readers with fixed serials and
// validity periods relative to the start (NewPKI). Since Go 1.26, key
// generation and signatures honour a caller's reader only with
// GODEBUG=cryptocustomrand=1: cmd/tlsgen and this package's tests set it
// with a //go:debug directive, and CustomRandEnabled checks it. The one
// random source crypto/tls does not let us seed is the server's ML-KEM
// encapsulation, so the scenario servers accept X25519 and P-256 only
// (clients still offer X25519MLKEM768).
//
// # Benchmarks
//
// Catalog.BenchHandshakes replays a few recorded connections with other
// addresses, ports, sequence numbers and times, merging them by time;
// Catalog.BenchBulk records real TLS downloads. Both stream to the writer.
package testgen
