// Package dtls understands DTLS as a passive observer sees it: DTLS 1.0
// and 1.2 records (RFC 4347, RFC 6347), DTLS 1.3 records with the unified
// header and ACKs (RFC 9147), connection IDs (RFC 9146), handshake
// fragments joined per message_seq, retransmitted flights, the
// HelloVerifyRequest cookie round, the use_srtp extension (RFC 5764) and
// the first-byte demultiplexing of a UDP port shared with STUN, ZRTP, TURN,
// RTP and QUIC (RFC 7983, RFC 9443).
//
// One association is a Conn, fed whole datagrams with their direction and
// capture time; what it finds goes to a Sink. The handshake messages it
// delivers are in the TLS layout (msg_type, uint24 length, body: the 8
// DTLS-only header bytes are gone), each once, however it was fragmented
// and however often it was retransmitted; retransmissions are reported as
// such. The ClientHello body still carries its cookie: ClientHelloTLS and
// ClientHelloMessageTLS remove it, so that one TLS hello parser reads
// both.
//
// Records of an epoch above 0, and every tls12_cid and unified-header
// record, are ciphertext: they are reported with their epoch and size.
// Nothing is decrypted here.
//
// The package imports only the standard library, x/crypto/cryptobyte and
// packet, so that dissect can import it.
package dtls
