package flows

import "github.com/tlsdissect/tlsdissect/dissect"

// Alert descriptions the diagnosis reasons about (RFC 8446 section 6, RFC
// 5246 section 7.2, IANA TLS Alerts registry).
const (
	alertCloseNotify            = 0
	alertUnexpectedMessage      = 10
	alertBadRecordMAC           = 20
	alertHandshakeFailure       = 40
	alertNoCertificate          = 41 // SSL 3.0
	alertBadCertificate         = 42
	alertUnsupportedCertificate = 43
	alertCertificateRevoked     = 44
	alertCertificateExpired     = 45
	alertCertificateUnknown     = 46
	alertIllegalParameter       = 47
	alertUnknownCA              = 48
	alertAccessDenied           = 49
	alertDecodeError            = 50
	alertDecryptError           = 51
	alertProtocolVersion        = 70
	alertInsufficientSecurity   = 71
	alertInternalError          = 80
	alertInappropriateFallback  = 86
	alertUserCanceled           = 90
	alertNoRenegotiation        = 100
	alertMissingExtension       = 109
	alertUnsupportedExtension   = 110
	alertUnrecognizedName       = 112
	alertBadCertStatusResponse  = 113
	alertUnknownPSKIdentity     = 115
	alertCertificateRequired    = 116
	alertNoApplicationProtocol  = 120
	alertECHRequired            = 121
)

// The names of the record come from dissect's tables; these wrappers only
// add the record's conventions ("" for an absent value).

func alertName(d uint8) string { return dissect.AlertDescriptionName(d) }

func alertLevelName(l uint8) string {
	if l == 0 {
		return ""
	}
	return dissect.AlertLevelName(l)
}

// versionName writes a protocol version as the record contract does.
func versionName(v dissect.Version) string {
	if v == 0 {
		return ""
	}
	return v.String()
}

func isGREASE(v uint16) bool { return dissect.IsGREASE(v) }

func cipherName(s uint16) string { return dissect.CipherSuiteName(s) }

func groupName(g uint16) string {
	if g == 0 {
		return ""
	}
	return dissect.GroupName(g)
}

func msgTypeName(m dissect.MsgType) string { return m.String() }
