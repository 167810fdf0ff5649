// Package dtlsgen makes DTLS test captures: a pion/dtls client and server
// talk over an in-memory datagram pipe, every datagram delivered is
// logged with a timestamp from a fixed clock, and the log is written as a
// pcap of UDP packets (through testgen.PacketWriter.WriteUDP) with the
// client's key log beside it.
//
// What is fixed: the scenarios, the addresses, the clock (start and step
// per datagram), the certificates (testgen.NewPKI; byte-identical only
// with GODEBUG=cryptocustomrand=1). What is not: pion draws its randoms
// from crypto/rand, and the order of datagrams that two goroutines write
// at the same moment (the retransmission scenario relies on pion's
// real-time timers). Tests check the structure of a capture, never its
// bytes; generated captures are not committed.
package dtlsgen
