package flows

import (
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
)

// Schema names the JSON contract a Record is written in.
const Schema = "tlsdissect.flow/1"

// Time is a capture timestamp written as RFC 3339 with nine fractional
// digits, in UTC, as the contract asks.
type Time struct{ time.Time }

// Layout is the fixed-width form of Time.
const Layout = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON writes t in Layout; the zero time is written as "".
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	b := make([]byte, 0, len(Layout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, Layout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == `""` || string(b) == "null" {
		*t = Time{}
		return nil
	}
	v, err := time.Parse(`"`+time.RFC3339Nano+`"`, string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// Endpoint is one side of a connection.
type Endpoint struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

// Message is one entry of the message sequence (DESIGN.md, "messages[]").
type Message struct {
	TS        Time            `json:"ts"`
	From      packet.Dir      `json:"from"` // "client" or "server"
	Type      dissect.MsgType `json:"type"` // client_hello, change_cipher_spec, ...
	Length    int             `json:"length"`
	Encrypted bool            `json:"encrypted"`
	// Decrypted marks a message read from a record opened with the key
	// log (-keylog); written only when true.
	Decrypted bool `json:"decrypted,omitempty"`
	// Count and Bytes fold a run of application data in one direction:
	// Count records, Bytes in all. 1 and Length for other entries.
	Count int `json:"count"`
	Bytes int `json:"bytes"`
}

// SessionTicket tells what happened to RFC 5077 tickets and TLS 1.3 PSKs.
type SessionTicket struct {
	Offered       bool   `json:"offered"` // the client presented a ticket (or PSK identity)
	OfferedLength int    `json:"offered_length"`
	OfferedSHA256 string `json:"offered_sha256"` // of the ticket / PSK identity presented
	Issued        bool   `json:"issued"`         // the server sent a (visible) NewSessionTicket
	Renewed       bool   `json:"renewed"`        // issued on a connection that redeemed one
	LifetimeHint  uint32 `json:"lifetime_hint"`  // seconds, of the ticket issued
	Length        int    `json:"length"`         // of the ticket issued
	SHA256        string `json:"sha256"`         // of the ticket issued, hex
	// IssuedBy is the uid of the connection in this capture that was issued
	// the ticket now redeemed; "" when not in the capture.
	IssuedBy string `json:"issued_by"`
	// RedeemedAfter is seconds between that issue and this redemption;
	// 0 when the server did not take the ticket (a full handshake).
	RedeemedAfter float64 `json:"redeemed_after"`
	// LifetimeExpired: the redemption came after the issued lifetime hint.
	LifetimeExpired bool `json:"lifetime_expired"`
	// Reused: the same TLS 1.3 PSK identity was presented by an earlier
	// connection of this capture too (a replay indicator, worse with
	// 0-RTT). TLS 1.2 tickets may be presented again (RFC 5077): no reuse.
	Reused bool `json:"reused"`
}

// Renegotiation is one attempt to renegotiate after the first handshake.
type Renegotiation struct {
	TS Time `json:"ts"`
	// By is who asked: "server" (a HelloRequest) or "client" (a
	// ClientHello); under encryption, the side of the first encrypted
	// handshake record after the first handshake.
	By string `json:"by"`
	// Done: it happened (both sides changed cipher spec again); false
	// when it was refused or not answered.
	Done bool `json:"done"`
}

// Certificate summarises one X.509 certificate of a chain.
type Certificate struct {
	Subject            string   `json:"subject"`
	Issuer             string   `json:"issuer"`
	Serial             string   `json:"serial"` // hex, upper case, no separators
	NotBefore          Time     `json:"not_before"`
	NotAfter           Time     `json:"not_after"`
	SAN                []string `json:"san"`
	SHA256             string   `json:"sha256"`       // of the DER, hex lower case
	SHA1               string   `json:"sha1"`         // of the DER, hex lower case (Suricata, nDPI and Zeek pivot on it)
	MD5                string   `json:"md5"`          // of the DER, hex lower case (ECS tls.*.hash.md5)
	Key                string   `json:"key"`          // e.g. "RSA 2048", "ECDSA P-256", "Ed25519"
	KeyExponent        int      `json:"key_exponent"` // the RSA public exponent; 0 for other keys
	Version            int      `json:"version"`      // X.509 version, 1 to 3; 0 when unread
	CA                 bool     `json:"ca"`           // basic constraints say it is a CA
	SignatureAlgorithm string   `json:"signature_algorithm"`
	SelfSigned         bool     `json:"self_signed"`
	// ParseError is set when crypto/x509 could not parse it; the fields
	// above then hold what could be read.
	ParseError string `json:"parse_error,omitempty"`
}

// Alert is one alert, in clear or encrypted.
type Alert struct {
	TS          Time       `json:"ts"`
	From        packet.Dir `json:"from"`
	Level       string     `json:"level"`       // "warning", "fatal", "" when encrypted
	Description string     `json:"description"` // IANA name, e.g. "handshake_failure"; "" when encrypted
	Code        int        `json:"code"`        // -1 when encrypted
	Encrypted   bool       `json:"encrypted"`
	// Inferred marks an alert no record named: a TLS 1.3 record of an
	// encrypted alert's size where an alert stands (its side's last
	// before its FIN or a reset, or the one that ended a handshake).
	// Written only when true.
	Inferred bool `json:"inferred,omitempty"`
}

// Failure says why a handshake failed, how sure the diagnosis is, and on
// what facts it rests.
type Failure struct {
	Reason      string `json:"reason"` // one of the Reason* constants
	By          string `json:"by"`     // "client", "server" or "" when unknown
	Alert       string `json:"alert"`  // the alert that ended it, "" if none
	Explanation string `json:"explanation"`
	// Confidence is one of the Confidence* constants: certain only when
	// an alert read in clear (or decrypted) names the cause and the other
	// facts agree with it.
	Confidence string `json:"confidence"`
	// Evidence lists the facts the diagnosis used, each a short sentence
	// without a full stop, e.g. "server sent fatal alert protocol_version".
	Evidence []string `json:"evidence"`
	// Hint says what would settle the diagnosis ("give the client's key
	// log with -keylog"); "" when it is certain.
	Hint string `json:"hint"`
}

// Confidence values of Failure.Confidence.
const (
	ConfidenceCertain   = "certain"   // an unambiguous alert and consistent facts
	ConfidenceLikely    = "likely"    // inferred from consistent evidence
	ConfidenceUncertain = "uncertain" // a guess among several causes
)

// Anomaly is one anomaly with where it was seen.
type Anomaly struct {
	Kind   string `json:"kind"`
	From   string `json:"from"`
	TS     Time   `json:"ts"`
	Bytes  int    `json:"bytes"`
	Detail string `json:"detail"`
}

// Record is one connection's story: the JSON object of schema
// tlsdissect.flow/1. Every field is always written.
type Record struct {
	Schema      string `json:"schema"`
	TS          Time   `json:"ts"`
	EndTS       Time   `json:"end_ts"`
	UID         string `json:"uid"`
	CommunityID string `json:"community_id"`
	// Transport is what carried the TLS: "tcp", "quic" or "dtls".
	Transport string   `json:"transport"`
	Client    Endpoint `json:"client"`
	Server    Endpoint `json:"server"`
	// Version negotiated ("TLS 1.3", ..., "SSL 3.0", "SSL 2.0"), "" if unknown.
	Version         string   `json:"version"`
	Cipher          string   `json:"cipher"` // IANA name; "0xHHHH" when unnamed
	SNI             string   `json:"sni"`
	ALPN            string   `json:"alpn"`
	ALPNOffered     []string `json:"alpn_offered"`
	OfferedVersions []string `json:"offered_versions"` // what the client said it supports, highest first
	Curve           string   `json:"curve"`            // key exchange group chosen
	// HelloRetryGroup is the group a HelloRetryRequest asked the client
	// for; "" without one, or when it asked for none (a cookie only).
	HelloRetryGroup string    `json:"hello_retry_group"`
	History         string    `json:"history"` // Zeek ssl_history
	Messages        []Message `json:"messages"`
	Established     bool      `json:"established"`
	Resumed         bool      `json:"resumed"`
	Resumption      string    `json:"resumption"`   // "session_id", "ticket", "psk" or ""
	ResumedFrom     string    `json:"resumed_from"` // uid of the connection whose session was resumed
	EarlyData       string    `json:"early_data"`   // "", "offered", "accepted", "rejected"
	// Renegotiations counts the renegotiations that happened;
	// RenegotiationAttempts lists every attempt, refused ones too.
	Renegotiations        int             `json:"renegotiations"`
	RenegotiationAttempts []Renegotiation `json:"renegotiation_attempts"`
	SessionTicket         SessionTicket   `json:"session_ticket"`
	Certificates          []Certificate   `json:"certificates"`
	ClientCertificates    []Certificate   `json:"client_certificates"`
	Alerts                []Alert         `json:"alerts"`
	Status                string          `json:"status"`  // Status* constants
	Failure               *Failure        `json:"failure"` // null unless Status is "failed"
	// Validation of the server chain against the trust store as of the
	// capture time: "", "ok", or the reason it fails.
	Validation string `json:"validation"`
	// Keys is what the key log did for this connection: "found" (its
	// records were opened), "missing" (no secrets for it), "failed" (a
	// record did not authenticate, or its suite cannot be opened); empty
	// without a key log.
	Keys           string    `json:"keys,omitempty"`
	StartTLS       string    `json:"starttls"` // the plaintext protocol TLS was started from, if any
	JA3            string    `json:"ja3"`
	JA3String      string    `json:"ja3_string"`
	JA3S           string    `json:"ja3s"`
	JA3SString     string    `json:"ja3s_string"`
	JA4            string    `json:"ja4"`
	JA4R           string    `json:"ja4_r"`
	JA4S           string    `json:"ja4s"`
	JA4SR          string    `json:"ja4s_r"`
	JA4X           []string  `json:"ja4x"`
	Anomalies      []string  `json:"anomalies"` // distinct kinds, in order of first sight
	AnomalyDetails []Anomaly `json:"anomaly_details"`
	// Close is why the TCP connection ended: fin, rst, idle, evicted, end_of_input.
	Close string `json:"close"`
	// Bytes carried per direction (TCP payload), and missing (gaps).
	ClientBytes  uint64 `json:"client_bytes"`
	ServerBytes  uint64 `json:"server_bytes"`
	MissingBytes uint64 `json:"missing_bytes"`
	// TCP is how the TCP connection began and ended, as captured; absent
	// over UDP.
	TCP *TCPEnds `json:"tcp,omitempty"`
	// QUIC and DTLS are the facts of those transports; absent over TCP.
	QUIC *QUIC `json:"quic,omitempty"`
	DTLS *DTLS `json:"dtls,omitempty"`

	connID   uint64 // reassembly.ConnInfo.ID; not part of the contract
	closedAt uint64 // place of the close (see ClosedAt)
}

// TCPEnds are the packets that opened and closed a TCP connection: the
// client's SYN, the server's SYN-ACK, each side's first FIN and the reset
// that ended it (times empty when not captured), so that a reader sees who
// closed.
type TCPEnds struct {
	SYN       Time   `json:"syn"`
	SYNACK    Time   `json:"syn_ack"`
	ClientFIN Time   `json:"client_fin"`
	ServerFIN Time   `json:"server_fin"`
	RST       Time   `json:"rst"`
	RSTFrom   string `json:"rst_from"` // "client", "server", or "" without a reset
}

// QUIC is what a QUIC connection's packets told beyond its handshake.
type QUIC struct {
	Version string `json:"version"` // of the connection: "v1", "v2", "draft-29", "0x..."
	// The Source Connection IDs the client and the server chose, and the
	// client's first Destination Connection ID (the Initial keys' salt
	// input), in hex.
	ClientCID    string `json:"client_cid"`
	ServerCID    string `json:"server_cid"`
	OriginalDCID string `json:"original_dcid"`
	Retry        bool   `json:"retry"` // the server asked for address validation
	// VersionNegotiation lists the versions a Version Negotiation packet
	// offered; empty when there was none.
	VersionNegotiation []string `json:"version_negotiation"`
	ClientPackets      int      `json:"client_packets"`
	ServerPackets      int      `json:"server_packets"`
	// Paths counts the address pairs the connection used: more than one
	// after a NAT rebinding or a migration (RFC 9000 9), followed by
	// connection ID; client and server are those of the first.
	Paths int `json:"paths"`
	// The transport parameters (RFC 9000 18.2) each side sent; the
	// server's are in its EncryptedExtensions (with a key log).
	ClientTransportParameters []TransportParameter `json:"client_transport_parameters"`
	ServerTransportParameters []TransportParameter `json:"server_transport_parameters"`
	Close                     *QUICClose           `json:"close"` // the first CONNECTION_CLOSE read, or null
}

// TransportParameter is one QUIC transport parameter: integers in decimal,
// the rest in hex.
type TransportParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// QUICClose is a CONNECTION_CLOSE frame.
type QUICClose struct {
	TS   Time       `json:"ts"`
	From packet.Dir `json:"from"`
	// Application: a close of type 0x1d, whose code is the application's.
	Application bool   `json:"application"`
	ErrorCode   uint64 `json:"error_code"`
	Error       string `json:"error"` // the transport error's name (RFC 9000 20.1), "" for an application close
	FrameType   uint64 `json:"frame_type"`
	Reason      string `json:"reason"`
}

// DTLS is what a DTLS association's datagrams told beyond its handshake.
type DTLS struct {
	// Handshake messages sent again (flights retransmitted after a
	// timeout), folded out of the message sequence.
	ClientRetransmissions int  `json:"client_retransmissions"`
	ServerRetransmissions int  `json:"server_retransmissions"`
	Cookie                bool `json:"cookie"` // a HelloVerifyRequest cookie round
	// SRTP protection profiles (RFC 5764): offered, and chosen ("" if none).
	SRTPProfiles []string `json:"srtp_profiles"`
	SRTPProfile  string   `json:"srtp_profile"`
}

// ConnID returns the connection's reassembly.ConnInfo.ID: the index in
// the capture of the segment that opened it, so that Records sorted by it
// are in connection-start order. It is not written out.
func (r *Record) ConnID() uint64 { return r.connID }

// ClosedAt returns the place in the capture where the connection closed:
// the index of the segment (or Tick) being processed, as given to
// Tracker.At. Records sorted by it, then by ConnID, are in close order.
func (r *Record) ClosedAt() uint64 { return r.closedAt }

// Status values.
const (
	StatusEstablished = "established"
	StatusResumed     = "resumed"
	StatusFailed      = "failed"
	StatusIncomplete  = "incomplete"
	StatusNotTLS      = "not_tls" // only when asked to report non-TLS connections
)

// Failure reasons (DESIGN.md).
const (
	ReasonProtocolVersionMismatch = "protocol_version_mismatch"
	ReasonNoSharedCipher          = "no_shared_cipher"
	ReasonCertificateExpired      = "certificate_expired"
	ReasonCertificateNotYetValid  = "certificate_not_yet_valid"
	ReasonClientClockSkew         = "client_clock_skew"
	ReasonUnknownCA               = "unknown_ca"
	ReasonSelfSignedCertificate   = "self_signed_certificate"
	ReasonHostnameMismatch        = "hostname_mismatch"
	ReasonBadCertificate          = "bad_certificate"
	ReasonInterceptionSuspected   = "interception_suspected"
	ReasonWeakKey                 = "weak_key"         // a key shorter than clients accept (RSA/DSA < 2048 bits, EC < 224)
	ReasonWeakSignature           = "weak_signature"   // a certificate signed with SHA-1 or MD5
	ReasonKeyUsage                = "key_usage"        // KeyUsage / ExtKeyUsage that do not allow serverAuth
	ReasonIncompleteChain         = "incomplete_chain" // the server left out an intermediate certificate
	ReasonClientCertRequired      = "client_certificate_required"
	ReasonClientCertUntrusted     = "client_certificate_untrusted"
	ReasonUnrecognizedName        = "unrecognized_name"
	ReasonNoApplicationProtocol   = "no_application_protocol"
	ReasonInappropriateFallback   = "inappropriate_fallback"
	ReasonDecodeError             = "decode_error"
	ReasonAbortedByClient         = "aborted_by_client"
	ReasonAbortedByServer         = "aborted_by_server"
	ReasonOther                   = "other"
)
