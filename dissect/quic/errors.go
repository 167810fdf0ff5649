// Package quic dissects QUIC (RFC 9000, RFC 9001, RFC 9369) passively: it
// splits datagrams into packets, removes Initial packet protection with keys
// anyone can derive from the client's first Destination Connection ID,
// decrypts Handshake and 1-RTT packets when given traffic secrets from a key
// log, parses frames, and reassembles the CRYPTO streams that carry the TLS
// handshake. The bytes a CRYPTO stream delivers are TLS handshake messages
// in the same format TLS over TCP carries inside handshake records.
//
// Conn is the entry point: one per UDP flow, fed datagrams in capture order,
// reporting through a Sink. The lower layers (ParsePacket, Keys, ParseFrames,
// CryptoStream, ParseTransportParameters) are exported for tests and tools.
//
// The package imports only the standard library, golang.org/x/crypto and
// packet; package dissect imports it, never the other way round.
package quic

import (
	"errors"
	"strconv"
)

// ErrTruncated says a packet or frame ended before a field it announces.
var ErrTruncated = errors.New("quic: truncated")

// ErrMalformed says a field is present but cannot be right: a connection ID
// longer than 20 bytes, a Length beyond the datagram, a duplicate transport
// parameter.
var ErrMalformed = errors.New("quic: malformed")

// ErrUnsupportedVersion says a long header carries a version whose packet
// layout or keys this package does not know; only the version-independent
// fields (RFC 8999) were parsed.
var ErrUnsupportedVersion = errors.New("quic: unsupported version")

// ErrDecrypt says packet protection could not be removed: the AEAD tag did
// not verify (wrong keys, or a corrupted packet).
var ErrDecrypt = errors.New("quic: decryption failed")

// ErrCryptoOverflow says a CRYPTO frame reaches further ahead of the
// delivered prefix than the stream's buffer allows.
var ErrCryptoOverflow = errors.New("quic: crypto buffer exceeded")

// ParseError says which structure and which field failed, and where.
// Offset counts bytes from the start of the buffer handed to the parser
// (the packet, the frame payload, the transport parameters).
type ParseError struct {
	Msg    string // the structure: "initial", "handshake", "frame ack", "transport_parameters"
	Field  string // the field that failed: "dcid_length", "length", "largest_acknowledged"
	Offset int
	Err    error // ErrTruncated, ErrMalformed, ErrUnsupportedVersion
}

func (e *ParseError) Error() string {
	return "quic: " + e.Msg + ": " + e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + errText(e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func errText(err error) string {
	switch err {
	case ErrTruncated:
		return "truncated"
	case ErrMalformed:
		return "malformed"
	case ErrUnsupportedVersion:
		return "unsupported version"
	case nil:
		return "error"
	}
	return err.Error()
}
