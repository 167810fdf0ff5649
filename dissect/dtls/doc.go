// Package dtls understands DTLS as a passive observer sees it: DTLS 1.0
// and 1.2 records (RFC 4347, RFC 6347), DTLS 1.3 records with the unified
// header and ACKs (RFC 9147), connection IDs (RFC 9146), handshake
// fragments joined per message_seq, retransmitted flights, the
// HelloVerifyRequest cookie round, the use_srtp extension (RFC 5764) and
// the first-byte demultiplexing of a UDP port shared with STUN, ZRTP, TURN,
// RTP and QUIC (RFC 7983, RFC 9443).
//
// One association is a Conn, fed whole datagrams with their direction and
// capture time; what it finds goes to a Handler. The handshake messages it
// delivers are in the TLS layout after their 12-byte DTLS header, except
// the ClientHello, which carries a cookie: ClientHelloTLS removes it, so
// that one TLS hello parser reads both.
//
// Records of an epoch above 0, and every unified-header record, are
// ciphertext: they are reported with their epoch, sequence number and
// length, and decrypted only when an Opener for their direction and epoch
// was plugged in (SetOpener).
//
// The package imports only the standard library, x/crypto/cryptobyte and
// packet, so that dissect can import it.
package dtls
