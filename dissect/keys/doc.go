// Package keys decrypts TLS records for a passive observer that holds the
// secrets: it reads NSS key log files (SSLKEYLOGFILE, and the same text in a
// pcapng Decryption Secrets Block), derives record keys (the TLS 1.3 key
// schedule from a traffic secret, the TLS 1.0-1.2 key block from a master
// secret), and opens records one direction at a time.
//
// It imports only the standard library and golang.org/x/crypto; package
// dissect imports it, never the reverse. Content types are returned as the
// uint8 of the wire (dissect.ContentType).
//
// # Use from a connection
//
// Look the ClientHello random up in a KeyLog. For TLS 1.3, once the
// ServerHello names the suite, each direction gets
// NewTLS13Opener(suite, Secrets.ServerHandshakeTraffic) (or the client's)
// for its encrypted handshake, then a new opener with
// ServerTraffic0/ClientTraffic0 after its Finished; CLIENT_EARLY_TRAFFIC_SECRET
// covers 0-RTT data up to EndOfEarlyData. A KeyUpdate handshake message
// calls KeyUpdate on the opener of the direction that sent it, after its
// record. The ChangeCipherSpec records of middlebox compatibility mode are
// plaintext and are not handed to an opener. For TLS 1.0-1.2,
// NewTLS12Openers(Params, Secrets.MasterSecret) gives both directions; each
// takes over after that side's ChangeCipherSpec. SSL 3.0 is not supported.
//
// # What is authenticated
//
// Open authenticates (AEAD tag, or HMAC and padding for CBC) and decrypts:
// use it for handshake and alert records, whose content must be trusted.
// Peek only tells the content type and length; in TLS 1.3 it decrypts the
// last keystream block or two without checking the tag, so bulk
// application data costs little. What Peek says about a forged record may
// be wrong. Both advance the sequence number, so a direction's records must
// each go to exactly one of them, in order. A wrong key shows as
// ErrAuthentication from Open on the first record, which a caller reports
// as failed decryption.
//
// # Buffers
//
// Open appends the plaintext to dst and returns it; with dst = body[:0] it
// decrypts in place, and the plaintext then lies inside body (after any
// explicit nonce or IV). On failure a buffer decrypted into may hold
// garbage: an in-place Open destroys the ciphertext either way. Peek never
// writes body. Openers keep no record bytes: nothing of the application
// data outlives the call beyond what the caller's dst holds. A KeyLog owns
// its secrets; the slices of a Secrets value are shared with it, read-only.
// Openers copy what they keep of the secrets they are given.
//
// An Opener is not safe for concurrent use; a KeyLog, once loaded, may be
// read (Lookup) from many goroutines.
package keys
