package output

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// msgNames maps the contract's snake_case message types to the CamelCase
// names the RFCs draw in their figures, and to the short tokens of the
// table's message notation (see tableLegend).
var msgNames = map[string][2]string{
	"hello_request":              {"HelloRequest", "HR"},
	"client_hello":               {"ClientHello", "CH"},
	"server_hello":               {"ServerHello", "SH"},
	"hello_verify_request":       {"HelloVerifyRequest", "HVR"},
	"new_session_ticket":         {"NewSessionTicket", "NST"},
	"end_of_early_data":          {"EndOfEarlyData", "EOED"},
	"encrypted_extensions":       {"EncryptedExtensions", "EE"},
	"certificate":                {"Certificate", "Crt"},
	"server_key_exchange":        {"ServerKeyExchange", "SKE"},
	"certificate_request":        {"CertificateRequest", "CR"},
	"server_hello_done":          {"ServerHelloDone", "SHD"},
	"certificate_verify":         {"CertificateVerify", "CV"},
	"client_key_exchange":        {"ClientKeyExchange", "CKE"},
	"finished":                   {"Finished", "F"},
	"certificate_url":            {"CertificateURL", "CU"},
	"certificate_status":         {"CertificateStatus", "CS"},
	"supplemental_data":          {"SupplementalData", "SD"},
	"key_update":                 {"KeyUpdate", "KU"},
	"compressed_certificate":     {"CompressedCertificate", "CCrt"},
	"next_protocol":              {"NextProtocol", "NP"},
	"message_hash":               {"MessageHash", "MH"},
	"change_cipher_spec":         {"ChangeCipherSpec", "CCS"},
	"alert":                      {"Alert", "A"},
	"application_data":           {"ApplicationData", "AD"},
	"heartbeat":                  {"Heartbeat", "HB"},
	"encrypted_handshake":        {"EncryptedHandshake", "EH"},
	"connection_close":           {"ConnectionClose", "CC"},
	"retry":                      {"Retry", "Retry"},
	"version_negotiation":        {"VersionNegotiation", "VN"},
	"hello_retry_request":        {"HelloRetryRequest", "HRR"},
	"sslv2_client_hello":         {"SSLv2ClientHello", "CH2"},
	"sslv2_server_hello":         {"SSLv2ServerHello", "SH2"},
	"sslv2_error":                {"SSLv2Error", "E2"},
	"sslv2_record":               {"SSLv2Record", "R2"},
	"tls12_cid":                  {"TLS12CID", "CID"},
	"unknown_record":             {"UnknownRecord", "UR"},
	"request_connection_id":      {"RequestConnectionId", "RCID"},
	"new_connection_id":          {"NewConnectionId", "NCID"},
	"client_certificate_request": {"ClientCertificateRequest", "CCR"},
	"ekt_key":                    {"EktKey", "EKT"},
}

// msgName is the CamelCase name of a message type; unknown types are
// converted word by word (after sanitising, they are ours but be safe).
func msgName(t string) string {
	if n, ok := msgNames[t]; ok {
		return n[0]
	}
	if t == "" {
		return "Unknown"
	}
	var b strings.Builder
	for _, w := range strings.Split(t, "_") {
		if w == "" {
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		b.WriteString(strings.ToUpper(string(r)))
		b.WriteString(w[n:])
	}
	return Sanitize(b.String())
}

// msgAbbrev is the short token of a message type in the table notation.
func msgAbbrev(t string) string {
	if n, ok := msgNames[t]; ok {
		return n[1]
	}
	return "?" + Sanitize(t)
}

// shortCipher shortens an IANA cipher suite name for the table: the "TLS_"
// prefix and "_WITH" go, key sizes join their algorithm (AES_128 → AES128).
// It returns the key exchange/authentication part and the record
// protection part separately so the table can put them on two lines.
func shortCipher(c string) (kx, bulk string) {
	c = strings.TrimPrefix(c, "TLS_")
	c = strings.TrimPrefix(c, "SSL_")
	for _, p := range [...][2]string{{"AES_128", "AES128"}, {"AES_256", "AES256"}, {"CAMELLIA_128", "CAMELLIA128"}, {"CAMELLIA_256", "CAMELLIA256"}, {"ARIA_128", "ARIA128"}, {"ARIA_256", "ARIA256"}, {"3DES_EDE", "3DES"}, {"RC4_128", "RC4"}, {"CHACHA20_POLY1305", "CHACHA20"}} {
		c = strings.ReplaceAll(c, p[0], p[1])
	}
	if k, b, ok := strings.Cut(c, "_WITH_"); ok {
		return k, b
	}
	return "", c
}

// shortHash abbreviates a hex digest for display: its first 8 digits and
// an ellipsis.
func shortHash(h string) string {
	h = Sanitize(h)
	if len(h) <= 8 {
		return h
	}
	return h[:8] + "…"
}

// truncate cuts s to at most n display cells (counting runes, which is
// what sanitised text is made of), marking the cut with '…'.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	i, k := 0, 0
	for i < len(s) && k < n-1 {
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
		k++
	}
	return s[:i] + "…"
}

// endpoint formats ip:port, bracketing IPv6 addresses as URLs do.
func endpoint(e flows.Endpoint) string {
	ip := Sanitize(e.IP)
	if ip == "" {
		ip = "?"
	}
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, e.Port)
	}
	return fmt.Sprintf("%s:%d", ip, e.Port)
}

// clock is HH:MM:SS.mmm of a capture time, in UTC.
func clock(t flows.Time) string {
	if t.IsZero() {
		return "--:--:--.---"
	}
	return t.UTC().Format("15:04:05.000")
}

// since formats d as a relative time for ladders: milliseconds below ten
// seconds, seconds above.
func since(d time.Duration) string {
	if d < 0 {
		return "-" + since(-d)[1:]
	}
	if d < 10*time.Second {
		return fmt.Sprintf("+%.3f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("+%.3f s", d.Seconds())
}

// seconds formats a duration in seconds for prose ("4.2 s").
func seconds(s float64) string {
	switch {
	case s < 0.001:
		return fmt.Sprintf("%.3f ms", s*1000)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1000)
	case s < 100:
		return fmt.Sprintf("%.1f s", s)
	case s < 2*3600:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f h", s/3600)
}

// byteSize formats a byte count with SI units ("48.2 kB").
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// sideLetter is the one-letter sender prefix used in alert summaries.
func sideLetter(from packet.Dir) string {
	if from == packet.FromClient {
		return "C"
	}
	return "S"
}

// alertText is an alert in words: "fatal handshake_failure", or
// "encrypted" when only its record was seen.
func alertText(a flows.Alert) string {
	if a.Encrypted {
		return "encrypted"
	}
	d := Sanitize(a.Description)
	if d == "" {
		d = fmt.Sprintf("alert(%d)", a.Code)
	}
	if a.Level == "" {
		return d
	}
	return Sanitize(a.Level) + " " + d
}

// handshakeDuration is the time from the ClientHello to the last
// handshake message, or to the first application data if that comes
// first; ok is false when the record has no ClientHello time.
func handshakeDuration(r *flows.Record) (time.Duration, bool) {
	var start, end time.Time
	for _, m := range r.Messages {
		if m.TS.IsZero() {
			continue
		}
		switch m.Type {
		case dissect.HandshakeMsg(dissect.TypeClientHello), dissect.MsgSSLv2ClientHello:
			if start.IsZero() {
				start = m.TS.Time
			}
			continue
		case dissect.MsgApplicationData:
			// The handshake is over once data flows; a TLS 1.3
			// NewSessionTicket after it is not part of its duration.
			if !start.IsZero() && !end.IsZero() {
				return end.Sub(start), true
			}
			continue
		case dissect.MsgAlert, dissect.MsgHeartbeat:
			continue
		}
		if !start.IsZero() {
			end = m.TS.Time
		}
	}
	if start.IsZero() || end.IsZero() {
		return 0, false
	}
	return end.Sub(start), true
}
