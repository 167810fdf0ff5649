package dtls

import (
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Version is a DTLS protocol version as on the wire: the ones' complement
// of the TLS version it corresponds to (RFC 6347 4.1).
type Version uint16

const (
	// VersionDTLS10OpenSSL is the pre-standard DTLS 1.0 of OpenSSL before
	// 0.9.8f (DTLS1_BAD_VER); its records have the RFC 4347 layout.
	VersionDTLS10OpenSSL Version = 0x0100
	VersionDTLS10        Version = 0xfeff // RFC 4347
	VersionDTLS12        Version = 0xfefd // RFC 6347
	VersionDTLS13        Version = 0xfefc // RFC 9147; only in supported_versions
)

func (v Version) String() string {
	switch v {
	case VersionDTLS10OpenSSL:
		return "DTLS 1.0 (OpenSSL pre 0.9.8f)"
	case VersionDTLS10:
		return "DTLS 1.0"
	case VersionDTLS12:
		return "DTLS 1.2"
	case VersionDTLS13:
		return "DTLS 1.3"
	}
	return "0x" + hex16(uint16(v))
}

// validRecordVersion reports whether v may stand in a record header: DTLS
// 1.3 keeps 0xfefd (0xfeff in a first ClientHello) there, and 0xfefc is
// accepted for implementations that put it anyway.
func validRecordVersion(v Version) bool {
	switch v {
	case VersionDTLS10OpenSSL, VersionDTLS10, VersionDTLS12, VersionDTLS13:
		return true
	}
	return false
}

// ContentType is the record content type (IANA TLS ContentType).
type ContentType uint8

const (
	ContentChangeCipherSpec ContentType = 20
	ContentAlert            ContentType = 21
	ContentHandshake        ContentType = 22
	ContentApplicationData  ContentType = 23
	ContentHeartbeat        ContentType = 24 // RFC 6520
	ContentTLS12CID         ContentType = 25 // RFC 9146
	ContentACK              ContentType = 26 // RFC 9147 7
)

func (t ContentType) String() string {
	switch t {
	case ContentChangeCipherSpec:
		return "change_cipher_spec"
	case ContentAlert:
		return "alert"
	case ContentHandshake:
		return "handshake"
	case ContentApplicationData:
		return "application_data"
	case ContentHeartbeat:
		return "heartbeat"
	case ContentTLS12CID:
		return "tls12_cid"
	case ContentACK:
		return "ack"
	}
	return "content_type(" + strconv.Itoa(int(t)) + ")"
}

// HandshakeType is the msg_type of a handshake message (IANA TLS
// HandshakeType); the values are those of dissect.HandshakeType.
type HandshakeType uint8

const (
	TypeHelloRequest        HandshakeType = 0
	TypeClientHello         HandshakeType = 1
	TypeServerHello         HandshakeType = 2
	TypeHelloVerifyRequest  HandshakeType = 3 // RFC 6347 4.2.1
	TypeNewSessionTicket    HandshakeType = 4
	TypeEndOfEarlyData      HandshakeType = 5
	TypeHelloRetryRequest   HandshakeType = 6 // TLS 1.3 drafts only
	TypeEncryptedExtensions HandshakeType = 8
	TypeRequestConnectionID HandshakeType = 9  // RFC 9147 9
	TypeNewConnectionID     HandshakeType = 10 // RFC 9147 9
	TypeCertificate         HandshakeType = 11
	TypeServerKeyExchange   HandshakeType = 12
	TypeCertificateRequest  HandshakeType = 13
	TypeServerHelloDone     HandshakeType = 14
	TypeCertificateVerify   HandshakeType = 15
	TypeClientKeyExchange   HandshakeType = 16
	TypeFinished            HandshakeType = 20
	TypeCertificateURL      HandshakeType = 21
	TypeCertificateStatus   HandshakeType = 22
	TypeSupplementalData    HandshakeType = 23
	TypeKeyUpdate           HandshakeType = 24
	TypeCompressedCert      HandshakeType = 25
	TypeEKTKey              HandshakeType = 26 // RFC 8870
	TypeMessageHash         HandshakeType = 254
)

var handshakeNames = [...]string{
	TypeHelloRequest:        "hello_request",
	TypeClientHello:         "client_hello",
	TypeServerHello:         "server_hello",
	TypeHelloVerifyRequest:  "hello_verify_request",
	TypeNewSessionTicket:    "new_session_ticket",
	TypeEndOfEarlyData:      "end_of_early_data",
	TypeHelloRetryRequest:   "hello_retry_request",
	TypeEncryptedExtensions: "encrypted_extensions",
	TypeRequestConnectionID: "request_connection_id",
	TypeNewConnectionID:     "new_connection_id",
	TypeCertificate:         "certificate",
	TypeServerKeyExchange:   "server_key_exchange",
	TypeCertificateRequest:  "certificate_request",
	TypeServerHelloDone:     "server_hello_done",
	TypeCertificateVerify:   "certificate_verify",
	TypeClientKeyExchange:   "client_key_exchange",
	TypeFinished:            "finished",
	TypeCertificateURL:      "certificate_url",
	TypeCertificateStatus:   "certificate_status",
	TypeSupplementalData:    "supplemental_data",
	TypeKeyUpdate:           "key_update",
	TypeCompressedCert:      "compressed_certificate",
	TypeEKTKey:              "ekt_key",
}

func (t HandshakeType) String() string {
	if int(t) < len(handshakeNames) && handshakeNames[t] != "" {
		return handshakeNames[t]
	}
	if t == TypeMessageHash {
		return "message_hash"
	}
	return "handshake_type(" + strconv.Itoa(int(t)) + ")"
}

// Extension codepoints this package decodes.
const (
	ExtUseSRTP           uint16 = 14 // RFC 5764 4.1.1
	ExtConnectionID      uint16 = 54 // RFC 9146 3
	ExtConnectionIDDraft uint16 = 53 // draft-ietf-tls-dtls-connection-id before -08
)

// Anomaly kinds reported by a Conn.
const (
	AnomalyMalformedRecord    = "malformed_record"    // a record header that cannot be right; the rest of the datagram is skipped
	AnomalyTruncated          = "truncated"           // a record or handshake fragment cut short (snap length, or lies)
	AnomalyMalformedHandshake = "malformed_handshake" // a handshake fragment header that cannot be right, or a hello that does not parse
	AnomalyHandshakeTooLarge  = "handshake_too_large" // a message over Config.MaxMessage; skipped
	AnomalyFragmentMismatch   = "fragment_mismatch"   // a fragment whose msg_type or length disagrees with its message_seq's earlier fragments
	AnomalyFragmentConflict   = "overlap_conflict"    // overlapping fragments with different bytes; the first ones are kept
	AnomalyTooManyPending     = "too_many_pending"    // a message that would exceed Config.MaxPendingMessages or MaxPendingBytes; dropped
	AnomalyTooManyPieces      = "too_many_fragments"  // a message in more disjoint pieces than Config.MaxPieces; dropped
	AnomalyHandshakeGap       = "handshake_gap"       // message_seq values skipped when pending messages were delivered (capture loss)
	AnomalyIncompleteMessage  = "incomplete_message"  // a message given up before all its bytes came
	AnomalySeqJump            = "message_seq_jump"    // a fragment too far ahead of the next expected message_seq; dropped
	AnomalyCIDGuessed         = "cid_length_guessed"  // a CID record arrived before the hellos said the CID length; it was inferred from the framing
	AnomalyCookieMismatch     = "cookie_mismatch"     // a second ClientHello whose cookie is not the HelloVerifyRequest's
)

// Anomaly is something a Conn found wrong or skipped.
type Anomaly struct {
	Kind      string
	Dir       packet.Dir
	Timestamp time.Time
	Bytes     int    // bytes concerned, when it says
	Detail    string // what, in words
}

const hexDigits = "0123456789abcdef"

func hex16(v uint16) string {
	b := [4]byte{hexDigits[v>>12], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15]}
	return string(b[:])
}

// RecordOpener is a Sink that can remove the protection of records (with a
// key log's secrets). A Conn whose Sink is one offers it every record of
// an epoch above 0 with a plain header (DTLS 1.0 and 1.2) first: when
// OpenRecord returns true the sink has reported the record itself, and
// the Conn does not report it as ciphertext.
type RecordOpener interface {
	OpenRecord(dir packet.Dir, ts time.Time, epoch uint16, r Record) bool
}
