// Package dissect understands the TLS wire format as a passive observer sees
// it: a streaming record framer per direction, handshake messages joined
// across records, every handshake type and extension, alerts, ChangeCipherSpec,
// heartbeat and the SSLv2-compatible hello. It says what it can see and marks
// what is encrypted; it keeps no state beyond one connection.
//
// It imports only the standard library and x/crypto/cryptobyte.
package dissect

import (
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Version is a TLS protocol version as on the wire (RFC 8446 section 4.2.1).
type Version uint16

const (
	VersionSSL2  Version = 0x0002
	VersionSSL30 Version = 0x0300
	VersionTLS10 Version = 0x0301
	VersionTLS11 Version = 0x0302
	VersionTLS12 Version = 0x0303
	VersionTLS13 Version = 0x0304

	// DTLS (RFC 6347, RFC 9147): the ones' complement of the TLS version
	// it is based on (DTLS 1.0 is TLS 1.1); VersionDTLS10OpenSSL is
	// OpenSSL's DTLS 1.0 before 0.9.8f (DTLS1_BAD_VER).
	VersionDTLS10OpenSSL Version = 0x0100
	VersionDTLS10        Version = 0xfeff
	VersionDTLS12        Version = 0xfefd
	VersionDTLS13        Version = 0xfefc
)

// ContentType is the TLS record content type (RFC 8446 section 5.1, IANA).
type ContentType uint8

const (
	ContentChangeCipherSpec ContentType = 20
	ContentAlert            ContentType = 21
	ContentHandshake        ContentType = 22
	ContentApplicationData  ContentType = 23
	ContentHeartbeat        ContentType = 24 // RFC 6520
	ContentTLS12CID         ContentType = 25 // RFC 9146
)

// HandshakeType is the msg_type of a handshake message (IANA TLS HandshakeType).
type HandshakeType uint8

const (
	TypeHelloRequest        HandshakeType = 0
	TypeClientHello         HandshakeType = 1
	TypeServerHello         HandshakeType = 2
	TypeHelloVerifyRequest  HandshakeType = 3
	TypeNewSessionTicket    HandshakeType = 4
	TypeEndOfEarlyData      HandshakeType = 5
	TypeEncryptedExtensions HandshakeType = 8
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
	TypeNextProtocol        HandshakeType = 67
	TypeMessageHash         HandshakeType = 254
)

// MsgType names one entry of a connection's message sequence: either a
// handshake message (values 0-255, the HandshakeType) or a record-level event
// (256 and up). Its String() is the snake_case name of the JSON contract.
type MsgType uint16

const (
	MsgChangeCipherSpec     MsgType = 256 + iota // change_cipher_spec
	MsgAlert                                     // alert
	MsgApplicationData                           // application_data
	MsgHeartbeat                                 // heartbeat
	MsgEncryptedHandshake                        // encrypted_handshake: a handshake record seen only as ciphertext
	MsgHelloRetryRequest                         // hello_retry_request: a ServerHello with the special random (RFC 8446 4.1.3)
	MsgSSLv2ClientHello                          // sslv2_client_hello
	MsgSSLv2ServerHello                          // sslv2_server_hello
	MsgSSLv2Error                                // sslv2_error
	MsgSSLv2Other                                // sslv2_record (another SSLv2 message)
	MsgTLS12CID                                  // tls12_cid record
	MsgUnknownRecord                             // a record of an unknown content type
	MsgSSLv2ClientMasterKey                      // sslv2_client_master_key: the SSLv2 CLIENT-MASTER-KEY, sent in clear
	MsgConnectionClose                           // connection_close: a QUIC CONNECTION_CLOSE frame (RFC 9000 19.19)
	MsgRetry                                     // retry: a QUIC Retry packet (RFC 9000 17.2.5)
	MsgVersionNegotiation                        // version_negotiation: a QUIC Version Negotiation packet (RFC 9000 17.2.1)

	msgTypeEnd // one past the last MsgType
)

// HandshakeMsg makes a MsgType of a handshake type.
func HandshakeMsg(t HandshakeType) MsgType { return MsgType(t) }

// IsHandshake reports whether m is a handshake message type.
func (m MsgType) IsHandshake() bool { return m < 256 }

// CipherSuite is a TLS cipher suite (IANA TLS Cipher Suites registry).
// Lists read off the wire (ClientHello.CipherSuites) stay []uint16: they
// are hashed by the fingerprints as they came, GREASE included.
type CipherSuite uint16

// NamedGroup is a key exchange group (RFC 8446 4.2.7, IANA TLS Supported
// Groups), formerly the EC named curve of RFC 8422.
type NamedGroup uint16

// AlertLevel is an alert's level (RFC 5246 7.2).
type AlertLevel uint8

const (
	AlertWarning AlertLevel = 1
	AlertFatal   AlertLevel = 2
)

// AlertDescription is an alert's description (RFC 8446 6, IANA TLS Alerts).
type AlertDescription uint8

const (
	AlertCloseNotify                  AlertDescription = 0
	AlertUnexpectedMessage            AlertDescription = 10
	AlertBadRecordMAC                 AlertDescription = 20
	AlertDecryptionFailed             AlertDescription = 21
	AlertRecordOverflow               AlertDescription = 22
	AlertDecompressionFailure         AlertDescription = 30
	AlertHandshakeFailure             AlertDescription = 40
	AlertNoCertificate                AlertDescription = 41 // SSL 3.0
	AlertBadCertificate               AlertDescription = 42
	AlertUnsupportedCertificate       AlertDescription = 43
	AlertCertificateRevoked           AlertDescription = 44
	AlertCertificateExpired           AlertDescription = 45
	AlertCertificateUnknown           AlertDescription = 46
	AlertIllegalParameter             AlertDescription = 47
	AlertUnknownCA                    AlertDescription = 48
	AlertAccessDenied                 AlertDescription = 49
	AlertDecodeError                  AlertDescription = 50
	AlertDecryptError                 AlertDescription = 51
	AlertTooManyCIDsRequested         AlertDescription = 52
	AlertExportRestriction            AlertDescription = 60
	AlertProtocolVersion              AlertDescription = 70
	AlertInsufficientSecurity         AlertDescription = 71
	AlertInternalError                AlertDescription = 80
	AlertInappropriateFallback        AlertDescription = 86
	AlertUserCanceled                 AlertDescription = 90
	AlertNoRenegotiation              AlertDescription = 100
	AlertMissingExtension             AlertDescription = 109
	AlertUnsupportedExtension         AlertDescription = 110
	AlertCertificateUnobtainable      AlertDescription = 111
	AlertUnrecognizedName             AlertDescription = 112
	AlertBadCertificateStatusResponse AlertDescription = 113
	AlertBadCertificateHashValue      AlertDescription = 114
	AlertUnknownPSKIdentity           AlertDescription = 115
	AlertCertificateRequired          AlertDescription = 116
	AlertGeneralError                 AlertDescription = 117
	AlertNoApplicationProtocol        AlertDescription = 120
	AlertECHRequired                  AlertDescription = 121
)

// Extension is one extension as it appeared on the wire, in wire order.
type Extension struct {
	Type uint16
	Data []byte
}

// PSKIdentity is one identity of the pre_shared_key extension (RFC 8446 4.2.11).
type PSKIdentity struct {
	Identity            []byte
	ObfuscatedTicketAge uint32
}

// ClientHello is a parsed ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2), or
// an SSLv2-compatible one (RFC 5246 appendix E.2) with FromSSLv2 set.
// Everything it points to is owned by it: a Sink may keep it.
type ClientHello struct {
	LegacyVersion      Version
	Random             []byte
	SessionID          []byte
	CipherSuites       []uint16 // wire order, GREASE included
	CompressionMethods []uint8
	Extensions         []Extension // wire order, GREASE included
	FromSSLv2          bool
	// SSLv2CipherSpecs are the 3-byte cipher specs of an SSLv2 hello, in
	// wire order; those whose first byte is 0 are also in CipherSuites.
	SSLv2CipherSpecs []uint32

	// Decoded extensions; zero when absent.
	ServerName              string   // server_name host_name (RFC 6066 3)
	ALPN                    []string // application_layer_protocol_negotiation (RFC 7301)
	SupportedVersions       []Version
	SupportedGroups         []uint16 // supported_groups, wire order
	ECPointFormats          []uint8
	SignatureAlgorithms     []uint16
	SignatureAlgorithmsCert []uint16
	KeyShareGroups          []uint16 // groups of the key_share entries
	PSKIdentities           []PSKIdentity
	PSKModes                []uint8
	EarlyData               bool
	HasSessionTicketExt     bool
	SessionTicket           []byte // the ticket presented (RFC 5077 3.2); empty when asking for one
	SecureRenegotiation     bool   // renegotiation_info or TLS_EMPTY_RENEGOTIATION_INFO_SCSV
	StatusRequest           bool
	ExtendedMasterSecret    bool
	EncryptThenMAC          bool
	SignedCertTimestamp     bool
	PaddingLength           int
	RecordSizeLimit         uint16
	CompressCertificate     []uint16
	QUICTransportParams     bool
	Cookie                  bool
	// ECH is set when encrypted_client_hello is present.
	ECH *ECH
}

// ECH describes an encrypted_client_hello extension (draft-ietf-tls-esni).
type ECH struct {
	Outer     bool // an outer ClientHello (type 0); false for inner (type 1)
	ConfigID  uint8
	KDF, AEAD uint16
	// PayloadLength is the ciphertext length; GREASE ECH cannot be told from a
	// real one on the wire, so Grease is a guess from the config not matching
	// any retry; it stays false unless the server answered retry_configs.
	PayloadLength int
}

// ServerHello is a parsed ServerHello (RFC 8446 4.1.3), including a
// HelloRetryRequest (IsHelloRetryRequest).
type ServerHello struct {
	LegacyVersion       Version
	Random              []byte
	SessionID           []byte
	CipherSuite         CipherSuite
	CompressionMethod   uint8
	Extensions          []Extension
	IsHelloRetryRequest bool

	SupportedVersion     Version // 0 when the extension is absent
	ALPN                 string
	KeyShareGroup        NamedGroup // the server's key_share group (the requested group in HRR)
	HasPreSharedKey      bool       // pre_shared_key: the server accepted a PSK
	SelectedIdentity     uint16
	HasSessionTicketExt  bool // the server will send a NewSessionTicket (RFC 5077 3.2)
	SecureRenegotiation  bool
	ExtendedMasterSecret bool
	EncryptThenMAC       bool
	ECPointFormats       []uint8
	Cookie               bool
}

// Version returns the negotiated version: supported_versions when present,
// else the legacy version.
func (s *ServerHello) Version() Version {
	if s.SupportedVersion != 0 {
		return s.SupportedVersion
	}
	return s.LegacyVersion
}

// Certificate is a Certificate message (RFC 8446 4.4.2, RFC 5246 7.4.2):
// the chain in wire order, DER each.
type Certificate struct {
	Context []byte // TLS 1.3 certificate_request_context
	Chain   [][]byte
}

// ServerKeyExchange is what a passive observer can read of a
// ServerKeyExchange (RFC 8422 5.4, RFC 5246 7.4.3).
type ServerKeyExchange struct {
	Kind            string     // "ecdhe", "dhe", "rsa", "psk", "unknown"
	NamedCurve      NamedGroup // ECDHE named group
	DHPrimeBits     int        // DHE: bit length of p
	SignatureScheme uint16     // TLS 1.2 signature scheme; 0 if none / not known
}

// CertificateRequest (RFC 8446 4.3.2, RFC 5246 7.4.4).
type CertificateRequest struct {
	CertificateTypes    []uint8
	SignatureAlgorithms []uint16
	CACount             int
}

// NewSessionTicket (RFC 5077 3.3; RFC 8446 4.6.1 when seen in clear).
type NewSessionTicket struct {
	LifetimeHint uint32
	Ticket       []byte
}

// CertificateStatus (RFC 6066 8): an OCSP response stapled by the server.
type CertificateStatus struct {
	StatusType     uint8
	ResponseLength int
}

// Alert is an alert record's content (RFC 8446 6).
type Alert struct {
	Level       AlertLevel
	Description AlertDescription
}

// Heartbeat is a heartbeat message (RFC 6520 4).
type Heartbeat struct {
	Type          uint8 // 1 request, 2 response
	PayloadLength int   // claimed payload_length
	RecordLength  int   // bytes actually in the record
	// Heartbleed: the claimed payload (plus 1+2+16 bytes of type, length and
	// minimum padding) exceeds the record: the CVE-2014-0160 pattern.
	Heartbleed bool
}

// SSLv2ServerHello is an SSL 2.0 SERVER-HELLO (SSL 2.0 specification,
// section on the server-hello message).
type SSLv2ServerHello struct {
	SessionIDHit    bool
	CertificateType uint8
	Version         Version
	Certificate     []byte   // X.509 DER when CertificateType is 1
	CipherSpecs     []uint32 // 3-byte cipher kinds
	ConnectionID    []byte
}

// SSLv2Error is an SSL 2.0 ERROR message.
type SSLv2Error struct {
	Code uint16 // 1 no-cipher, 2 no-certificate, 4 bad-certificate, 6 unsupported-certificate-type
}

// Event is one entry of a connection's message sequence, handed to Sink.Event.
// The Event itself is valid only during the call; the parsed message it points
// to (at most one of the pointers is set) is owned by it and may be kept.
type Event struct {
	Timestamp     time.Time
	Dir           packet.Dir
	Type          MsgType
	Length        int     // handshake: body length; record events: record length
	Encrypted     bool    // seen only as ciphertext; Type is then what it must be
	Decrypted     bool    // read from a record opened with the key log's secrets
	RecordVersion Version // the version field of the record that carried it

	ClientHello        *ClientHello
	ServerHello        *ServerHello
	Certificate        *Certificate
	ServerKeyExchange  *ServerKeyExchange
	CertificateRequest *CertificateRequest
	NewSessionTicket   *NewSessionTicket
	CertificateStatus  *CertificateStatus
	// EncryptedExtensions: TLS 1.3, read with a key log (or in QUIC).
	EncryptedExtensions *EncryptedExtensions
	Alert               *Alert
	Heartbeat           *Heartbeat
	SSLv2ServerHello    *SSLv2ServerHello
	SSLv2Error          *SSLv2Error
	// Raw is the handshake message body for types not decoded above, owned.
	// Empty for application data and encrypted records.
	Raw []byte
}

// Anomaly kinds reported by the dissector.
const (
	AnomalyMalformedRecord    = "malformed_record"    // a record header that cannot be right
	AnomalyMalformedHandshake = "malformed_handshake" // a handshake message that does not parse; Detail names the field
	AnomalyOversizedRecord    = "oversized_record"    // record longer than 2^14+2048
	AnomalyUnknownContentType = "unknown_content_type"
	AnomalyResync             = "resync"              // bytes skipped to find the next record header
	AnomalyHandshakeTooLarge  = "handshake_too_large" // a message over the configured cap; skipped
	AnomalyTruncated          = "truncated"           // the stream ended inside a record
	AnomalyHeartbleed         = "heartbleed"
	AnomalyNotTLS             = "not_tls"
	AnomalyLongChain          = "long_certificate_chain" // a chain longer than MaxChain; the rest was not kept
	AnomalyKeysUnsupported    = "keys_unsupported"       // the key log has the secrets, but this protection is not opened (DTLS 1.3)
	// AnomalyRolesSwapped: the roles were inferred (Config.RolesInferred) and
	// the ClientHello came the other way; from then on Dir is corrected in
	// every Event, and the Sink should swap its client and server endpoints.
	AnomalyRolesSwapped = "roles_swapped"
)

// Anomaly is something the dissector found wrong or skipped.
type Anomaly struct {
	Kind      string
	Dir       packet.Dir
	Timestamp time.Time
	Bytes     int
	// Detail is our words: which field failed and why. Never wire bytes.
	Detail string
}

// Sink receives what a Conn finds, in stream order.
type Sink interface {
	Event(e *Event)
	Anomaly(a Anomaly)
	// StartTLS reports that TLS began after a plaintext prelude of the named
	// protocol ("smtp", "imap", "pop3", "ftp", "xmpp", "ldap", "postgresql",
	// "mysql", "http-connect").
	StartTLS(protocol string)
	// RolesSwapped reports that the roles were inferred (Config.RolesInferred)
	// and the ClientHello came the other way: from then on every Dir is
	// corrected, and the Sink should swap its client and server endpoints.
	RolesSwapped()
}

// Config bounds what a Conn keeps.
type Config struct {
	// MaxHandshake caps a handshake message being joined across records.
	// Larger messages are reported (AnomalyHandshakeTooLarge) and skipped.
	MaxHandshake int
	// MaxPrelude is how many plaintext bytes are searched for a STARTTLS
	// upgrade or a resynchronisation point before a stream is called not TLS.
	MaxPrelude int
	// RolesInferred says the caller only guessed which direction is the
	// client's; the Conn then trusts the ClientHello (AnomalyRolesSwapped).
	RolesInferred bool
	// Keys, when set, holds the secrets of a key log: the records of a
	// connection whose ClientHello random it knows are opened, and what
	// they hold is dissected as if it had been sent in clear
	// (Event.Decrypted).
	Keys KeyLookup
}

// DefaultConfig returns caps large enough for real certificate chains.
func DefaultConfig() Config {
	// 1 MiB: real chains reach a few hundred KiB (a 339 KiB Certificate is
	// in Zeek's test traces); the buffer exists only while one is joined.
	return Config{MaxHandshake: 1 << 20, MaxPrelude: 16 << 10}
}
