package output

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
)

// ZeekSSL is one line of Zeek's ssl.log as Zeek's JSON writer prints it:
// the same field names as the TSV log, unset optional fields omitted,
// ts in epoch seconds. Documented in docs/formats.md ("zeek-json"); the
// TSV form (-F zeek, and ssl.log of a Zeek logs directory) is written from
// it by zeektsv.go.
type ZeekSSL struct {
	TS                 zeekTime  `json:"ts"`
	UID                string    `json:"uid"`
	OrigH              string    `json:"id.orig_h"`
	OrigP              uint16    `json:"id.orig_p"`
	RespH              string    `json:"id.resp_h"`
	RespP              uint16    `json:"id.resp_p"`
	Version            string    `json:"version,omitempty"`
	Cipher             string    `json:"cipher,omitempty"`
	Curve              string    `json:"curve,omitempty"`
	ServerName         string    `json:"server_name,omitempty"`
	Resumed            bool      `json:"resumed"`
	LastAlert          string    `json:"last_alert,omitempty"`
	NextProtocol       string    `json:"next_protocol,omitempty"`
	Established        bool      `json:"established"`
	SSLHistory         string    `json:"ssl_history"`
	CertChainFps       *[]string `json:"cert_chain_fps,omitempty"`
	ClientCertChainFps *[]string `json:"client_cert_chain_fps,omitempty"`
	SNIMatchesCert     *bool     `json:"sni_matches_cert,omitempty"`
	ValidationStatus   string    `json:"validation_status,omitempty"`
	// Not Zeek's: the failure diagnosis, for those who join on ssl.log.
	FailureReason     string `json:"failure_reason,omitempty"`
	FailureConfidence string `json:"failure_confidence,omitempty"`
}

// zeekTime is epoch seconds with microseconds, as Zeek writes time values.
type zeekTime float64

func (t zeekTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(t), 'f', 6, 64), nil
}

// ToZeek maps a record to its ssl.log line.
func ToZeek(r *flows.Record) *ZeekSSL {
	z := &ZeekSSL{
		UID:          r.UID,
		OrigH:        r.Client.IP,
		OrigP:        r.Client.Port,
		RespH:        r.Server.IP,
		RespP:        r.Server.Port,
		Version:      zeekVersion(r.Version),
		Cipher:       r.Cipher,
		Curve:        zeekCurve(r.Curve),
		ServerName:   r.SNI,
		Resumed:      r.Resumed,
		NextProtocol: r.ALPN,
		Established:  r.Established,
		SSLHistory:   r.History,
	}
	if !r.TS.IsZero() {
		z.TS = zeekTime(float64(r.TS.UnixNano()) / 1e9)
	}
	// Zeek's last_alert comes from alerts it could read: the encrypted
	// ones of TLS 1.3 never reach it.
	for i := len(r.Alerts) - 1; i >= 0; i-- {
		if a := r.Alerts[i]; !a.Encrypted && a.Description != "" {
			z.LastAlert = a.Description
			break
		}
	}
	// Zeek fills both chains once it has seen a certificate, so a client
	// chain is [] rather than absent when only the server sent one.
	if len(r.Certificates) > 0 || len(r.ClientCertificates) > 0 {
		s, c := fps(r.Certificates), fps(r.ClientCertificates)
		z.CertChainFps, z.ClientCertChainFps = &s, &c
	}
	if r.SNI != "" && len(r.Certificates) > 0 {
		m := certMatches(&r.Certificates[0], r.SNI)
		z.SNIMatchesCert = &m
	}
	z.ValidationStatus = zeekValidation(r)
	if f := r.Failure; f != nil {
		z.FailureReason, z.FailureConfidence = f.Reason, f.Confidence
	}
	return z
}

func fps(cs []flows.Certificate) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, strings.ToLower(c.SHA256))
	}
	return out
}

// zeekVersion spells a version as Zeek's SSL analyzer does.
func zeekVersion(v string) string {
	switch v {
	case "TLS 1.3":
		return "TLSv13"
	case "TLS 1.2":
		return "TLSv12"
	case "TLS 1.1":
		return "TLSv11"
	case "TLS 1.0":
		return "TLSv10"
	case "SSL 3.0":
		return "SSLv3"
	case "SSL 2.0":
		return "SSLv2"
	case "DTLS 1.0":
		return "DTLSv10"
	case "DTLS 1.2":
		return "DTLSv12"
	case "DTLS 1.3":
		return "DTLSv13"
	}
	return v
}

// zeekCurve spells a group name as Zeek does (the IANA names, which are
// what the record carries); aliases some libraries use are mapped back.
func zeekCurve(c string) string {
	switch strings.ToLower(c) {
	case "x25519":
		return "x25519"
	case "x448":
		return "x448"
	case "p-256", "secp256r1", "prime256v1":
		return "secp256r1"
	case "p-384", "secp384r1":
		return "secp384r1"
	case "p-521", "secp521r1":
		return "secp521r1"
	}
	return c
}

// certMatches reports whether host is named by the certificate: one of
// its SANs, or its subject CN when it has none, with RFC 6125 wildcards
// in the left-most label only.
func certMatches(c *flows.Certificate, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	names := c.SAN
	if len(names) == 0 {
		names = commonNames(c.Subject)
	}
	for _, n := range names {
		n = strings.TrimPrefix(n, "DNS:")
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		if n == host {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if _, hr, ok := strings.Cut(host, "."); ok && hr == rest && strings.Contains(rest, ".") {
				return true
			}
		}
	}
	return false
}

// commonNames extracts the CN values of a distinguished name written as
// crypto/x509 prints it ("CN=a,O=b", with \, escapes).
func commonNames(dn string) []string {
	var out []string
	for _, rdn := range splitDN(dn) {
		k, v, ok := strings.Cut(rdn, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "CN") {
			out = append(out, v)
		}
	}
	return out
}

// splitDN splits a DN at unescaped commas (and '+' of multi-valued RDNs)
// and removes the escapes.
func splitDN(dn string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn):
			i++
			cur.WriteByte(dn[i])
		case c == ',' || c == '+':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// zeekJSONWriter writes ssl.log as Zeek's JSON writer does (-F zeek-json).
type zeekJSONWriter struct {
	w   io.Writer
	buf []byte
}

func newZeekJSON(w io.Writer) *zeekJSONWriter { return &zeekJSONWriter{w: w} }

func (z *zeekJSONWriter) Write(r *flows.Record) error {
	b, err := json.Marshal(ToZeek(r))
	if err != nil {
		return err
	}
	z.buf = append(append(z.buf[:0], b...), '\n')
	if _, err := z.w.Write(z.buf); err != nil {
		return err
	}
	return flush(z.w)
}

func (z *zeekJSONWriter) Close() error { return flush(z.w) }

// zeekValidation is ssl.log's validation_status (Zeek's validate-certs
// policy script) in OpenSSL's words, X509_verify_cert_error_string of the
// first error, from Go's verdict in Record.Validation: "" (unset) without
// a trust store, and for the verdicts OpenSSL would word otherwise or that
// do not say what the chain's own fault is (a host name is not checked by
// validate-certs: sni_matches_cert tells it).
func zeekValidation(r *flows.Record) string {
	switch r.Validation {
	case "ok":
		return "ok"
	case "expired":
		return "certificate has expired"
	case "not_yet_valid":
		return "certificate is not yet valid"
	case "unknown_authority":
		// OpenSSL says which end of the chain it could not anchor.
		switch n := len(r.Certificates); {
		case n == 1 && r.Certificates[0].SelfSigned:
			return "self signed certificate"
		case n > 1 && r.Certificates[n-1].SelfSigned:
			return "self signed certificate in certificate chain"
		}
		return "unable to get local issuer certificate"
	}
	return ""
}
