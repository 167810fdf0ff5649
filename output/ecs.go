package output

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
)

// ECSVersion is the Elastic Common Schema version the documents follow.
const ECSVersion = "8.11.0"

// ECSSchema names our layout of the tlsdissect.* namespace inside ECS
// documents; it changes when that namespace changes incompatibly.
const ECSSchema = "tlsdissect.ecs/1"

// ECSDoc is one Elastic Common Schema document per connection.
// Documented in docs/formats.md ("ecs"); fields ECS has no name for live
// under "tlsdissect".
type ECSDoc struct {
	Timestamp string `json:"@timestamp"`
	// Message is the failure's explanation, in words (ECS message).
	Message     string       `json:"message,omitempty"`
	ECS         ecsVersion   `json:"ecs"`
	Event       ecsEvent     `json:"event"`
	Source      ecsEndpoint  `json:"source"`
	Destination ecsEndpoint  `json:"destination"`
	Client      ecsEndpoint  `json:"client"`
	Server      ecsEndpoint  `json:"server"`
	Network     ecsNetwork   `json:"network"`
	TLS         ecsTLS       `json:"tls"`
	Related     ecsRelated   `json:"related"`
	TLSDissect  ecsTLSDissec `json:"tlsdissect"`
}

// ecsRelated gathers values to pivot on, as ECS suggests.
type ecsRelated struct {
	IP    []string `json:"ip,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
	Hash  []string `json:"hash,omitempty"`
}

type ecsVersion struct {
	Version string `json:"version"`
}

type ecsEvent struct {
	Kind     string   `json:"kind"`
	Category []string `json:"category"`
	Type     []string `json:"type"`
	Dataset  string   `json:"dataset"`
	Outcome  string   `json:"outcome"`
	Reason   string   `json:"reason,omitempty"` // the failure reason, when it failed
	Start    string   `json:"start,omitempty"`
	End      string   `json:"end,omitempty"`
	Duration *int64   `json:"duration,omitempty"` // nanoseconds
}

type ecsEndpoint struct {
	IP    string  `json:"ip,omitempty"`
	Port  uint16  `json:"port"`
	Bytes *uint64 `json:"bytes,omitempty"`
}

type ecsNetwork struct {
	Transport   string `json:"transport"`
	Type        string `json:"type,omitempty"`
	Protocol    string `json:"protocol"`
	CommunityID string `json:"community_id,omitempty"`
	IANANumber  string `json:"iana_number"` // the IP protocol number: "6", "17"
	Bytes       uint64 `json:"bytes"`
}

type ecsTLS struct {
	Version         string       `json:"version,omitempty"`
	VersionProtocol string       `json:"version_protocol,omitempty"`
	Cipher          string       `json:"cipher,omitempty"`
	Curve           string       `json:"curve,omitempty"`
	Resumed         bool         `json:"resumed"`
	Established     bool         `json:"established"`
	NextProtocol    string       `json:"next_protocol,omitempty"`
	Client          ecsTLSClient `json:"client"`
	Server          ecsTLSServer `json:"server"`
}

type ecsHash struct {
	MD5    string `json:"md5,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

type ecsTLSClient struct {
	JA3              string   `json:"ja3,omitempty"`
	ServerName       string   `json:"server_name,omitempty"`
	SupportedCiphers []string `json:"supported_ciphers,omitempty"`
	Hash             *ecsHash `json:"hash,omitempty"`
	Subject          string   `json:"subject,omitempty"`
	Issuer           string   `json:"issuer,omitempty"`
	NotBefore        string   `json:"not_before,omitempty"`
	NotAfter         string   `json:"not_after,omitempty"`
	X509             *ecsX509 `json:"x509,omitempty"`
}

type ecsTLSServer struct {
	JA3S      string   `json:"ja3s,omitempty"`
	Hash      *ecsHash `json:"hash,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	Issuer    string   `json:"issuer,omitempty"`
	NotBefore string   `json:"not_before,omitempty"`
	NotAfter  string   `json:"not_after,omitempty"`
	X509      *ecsX509 `json:"x509,omitempty"`
}

type ecsX509 struct {
	Subject            ecsDN    `json:"subject"`
	Issuer             ecsDN    `json:"issuer"`
	SerialNumber       string   `json:"serial_number,omitempty"`
	NotBefore          string   `json:"not_before,omitempty"`
	NotAfter           string   `json:"not_after,omitempty"`
	AlternativeNames   []string `json:"alternative_names,omitempty"`
	SignatureAlgorithm string   `json:"signature_algorithm,omitempty"`
	PublicKeyAlgorithm string   `json:"public_key_algorithm,omitempty"`
	PublicKeySize      int      `json:"public_key_size,omitempty"`
	PublicKeyCurve     string   `json:"public_key_curve,omitempty"` // "nistp256", as ECS's example
	PublicKeyExponent  int      `json:"public_key_exponent,omitempty"`
	VersionNumber      string   `json:"version_number,omitempty"` // ECS keyword: "3"
}

type ecsDN struct {
	CommonName         []string `json:"common_name,omitempty"`
	Organization       []string `json:"organization,omitempty"`
	OrganizationalUnit []string `json:"organizational_unit,omitempty"`
	Locality           []string `json:"locality,omitempty"`
	StateOrProvince    []string `json:"state_or_province,omitempty"`
	Country            []string `json:"country,omitempty"`
	Distinguished      string   `json:"distinguished_name,omitempty"`
}

// ecsTLSDissec is everything ECS has no field for.
type ecsTLSDissec struct {
	Schema          string              `json:"schema"`
	UID             string              `json:"uid"`
	Status          string              `json:"status"`
	History         string              `json:"history"`
	Resumption      string              `json:"resumption,omitempty"`
	ResumedFrom     string              `json:"resumed_from,omitempty"`
	EarlyData       string              `json:"early_data,omitempty"`
	Renegotiations  int                 `json:"renegotiations"`
	ALPNOffered     []string            `json:"alpn_offered"`
	OfferedVersions []string            `json:"offered_versions"`
	Messages        []flows.Message     `json:"messages"`
	Alerts          []flows.Alert       `json:"alerts"`
	SessionTicket   flows.SessionTicket `json:"session_ticket"`
	Failure         *flows.Failure      `json:"failure,omitempty"`
	Validation      string              `json:"validation,omitempty"`
	StartTLS        string              `json:"starttls,omitempty"`
	JA3String       string              `json:"ja3_string,omitempty"`
	JA3SString      string              `json:"ja3s_string,omitempty"`
	JA4             string              `json:"ja4,omitempty"`
	JA4R            string              `json:"ja4_r,omitempty"`
	JA4S            string              `json:"ja4s,omitempty"`
	JA4SR           string              `json:"ja4s_r,omitempty"`
	JA4X            []string            `json:"ja4x"`
	CertChain       []string            `json:"cert_chain_sha256"`
	ClientCertChain []string            `json:"client_cert_chain_sha256"`
	Anomalies       []string            `json:"anomalies"`
	AnomalyDetails  []flows.Anomaly     `json:"anomaly_details"`
	Close           string              `json:"close,omitempty"`
	MissingBytes    uint64              `json:"missing_bytes"`
}

// ecsTime is an ECS date: RFC 3339 with nanoseconds, UTC.
func ecsTime(t flows.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(flows.Layout)
}

// ToECS maps a record to its ECS document.
func ToECS(r *flows.Record) *ECSDoc {
	n := normalize(r)
	cb, sb := n.ClientBytes, n.ServerBytes
	d := &ECSDoc{
		Timestamp: ecsTime(n.TS),
		ECS:       ecsVersion{ECSVersion},
		Event: ecsEvent{
			Kind:     "event",
			Category: []string{"network"},
			Type:     ecsTypes(n.Status),
			Dataset:  "tlsdissect.flow",
			Outcome:  ecsOutcome(n.Status),
			Reason:   ecsReason(n.Failure),
			Start:    ecsTime(n.TS),
			End:      ecsTime(n.EndTS),
		},
		Source:      ecsEndpoint{IP: n.Client.IP, Port: n.Client.Port, Bytes: &cb},
		Destination: ecsEndpoint{IP: n.Server.IP, Port: n.Server.Port, Bytes: &sb},
		Client:      ecsEndpoint{IP: n.Client.IP, Port: n.Client.Port, Bytes: &cb},
		Server:      ecsEndpoint{IP: n.Server.IP, Port: n.Server.Port, Bytes: &sb},
		Network: ecsNetwork{
			Transport:   ecsTransport(n.Transport),
			Type:        ipType(n.Client.IP),
			Protocol:    ecsProtocol(n.Transport),
			CommunityID: n.CommunityID,
			IANANumber:  ecsIANANumber(n.Transport),
			Bytes:       cb + sb,
		},
		TLS: ecsTLS{
			Cipher:       n.Cipher,
			Curve:        n.Curve,
			Resumed:      n.Resumed,
			Established:  n.Established,
			NextProtocol: n.ALPN,
			Client:       ecsTLSClient{JA3: n.JA3, ServerName: n.SNI, SupportedCiphers: ja3Ciphers(n.JA3String)},
			Server:       ecsTLSServer{JA3S: n.JA3S},
		},
		TLSDissect: ecsTLSDissec{
			Schema:          ECSSchema,
			UID:             n.UID,
			Status:          n.Status,
			History:         n.History,
			Resumption:      n.Resumption,
			ResumedFrom:     n.ResumedFrom,
			EarlyData:       n.EarlyData,
			Renegotiations:  n.Renegotiations,
			ALPNOffered:     n.ALPNOffered,
			OfferedVersions: n.OfferedVersions,
			Messages:        n.Messages,
			Alerts:          n.Alerts,
			SessionTicket:   n.SessionTicket,
			Failure:         n.Failure,
			Validation:      n.Validation,
			StartTLS:        n.StartTLS,
			JA3String:       n.JA3String,
			JA3SString:      n.JA3SString,
			JA4:             n.JA4,
			JA4R:            n.JA4R,
			JA4S:            n.JA4S,
			JA4SR:           n.JA4SR,
			JA4X:            n.JA4X,
			CertChain:       fps(n.Certificates),
			ClientCertChain: fps(n.ClientCertificates),
			Anomalies:       n.Anomalies,
			AnomalyDetails:  n.AnomalyDetails,
			Close:           n.Close,
			MissingBytes:    n.MissingBytes,
		},
	}
	if n.Failure != nil {
		d.Message = n.Failure.Explanation
	}
	if !n.TS.IsZero() && !n.EndTS.IsZero() {
		ns := n.EndTS.Sub(n.TS.Time).Nanoseconds()
		d.Event.Duration = &ns
	}
	d.TLS.Version, d.TLS.VersionProtocol = ecsVersionOf(n.Version)
	d.Related = related(n)
	if len(n.Certificates) > 0 {
		c := &n.Certificates[0]
		s := &d.TLS.Server
		s.Hash = &ecsHash{MD5: strings.ToUpper(c.MD5), SHA1: strings.ToUpper(c.SHA1), SHA256: strings.ToUpper(c.SHA256)}
		s.Subject, s.Issuer = c.Subject, c.Issuer
		s.NotBefore, s.NotAfter = ecsTime(c.NotBefore), ecsTime(c.NotAfter)
		s.X509 = toX509(c)
	}
	if len(n.ClientCertificates) > 0 {
		c := &n.ClientCertificates[0]
		s := &d.TLS.Client
		s.Hash = &ecsHash{MD5: strings.ToUpper(c.MD5), SHA1: strings.ToUpper(c.SHA1), SHA256: strings.ToUpper(c.SHA256)}
		s.Subject, s.Issuer = c.Subject, c.Issuer
		s.NotBefore, s.NotAfter = ecsTime(c.NotBefore), ecsTime(c.NotAfter)
		s.X509 = toX509(c)
	}
	return d
}

// maxOfferedCiphers bounds the list taken from a JA3 string; a
// ClientHello cannot carry more than 32767 suites, real ones carry dozens.
const maxOfferedCiphers = 512

// ja3Ciphers names the cipher suites of a JA3 string's second field
// (decimal codes, GREASE already removed by the JA3 rules), for ECS
// tls.client.supported_ciphers.
func ja3Ciphers(ja3 string) []string {
	_, rest, ok := strings.Cut(ja3, ",")
	if !ok {
		return nil
	}
	field, _, _ := strings.Cut(rest, ",")
	if field == "" {
		return nil
	}
	var out []string
	for code := range strings.SplitSeq(field, "-") {
		v, err := strconv.ParseUint(code, 10, 16)
		if err != nil {
			return nil // not a JA3 string: say nothing rather than half
		}
		if len(out) == maxOfferedCiphers {
			break
		}
		out = append(out, dissect.CipherSuiteName(uint16(v)))
	}
	return out
}

// related lists the addresses, host name and fingerprints of a record,
// each once, in a fixed order.
func related(r *flows.Record) ecsRelated {
	var rel ecsRelated
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&rel.IP, r.Client.IP)
	add(&rel.IP, r.Server.IP)
	add(&rel.Hosts, r.SNI)
	for _, h := range []string{r.JA3, r.JA3S, r.JA4, r.JA4S} {
		add(&rel.Hash, h)
	}
	for _, c := range r.Certificates {
		add(&rel.Hash, strings.ToUpper(c.SHA256))
	}
	for _, c := range r.ClientCertificates {
		add(&rel.Hash, strings.ToUpper(c.SHA256))
	}
	return rel
}

// ecsReason is ECS's event.reason: the failure reason (its confidence,
// evidence and hint are under tlsdissect.failure).
func ecsReason(f *flows.Failure) string {
	if f == nil {
		return ""
	}
	return f.Reason
}

func ecsOutcome(status string) string {
	switch status {
	case flows.StatusEstablished, flows.StatusResumed:
		return "success"
	case flows.StatusFailed:
		return "failure"
	}
	return "unknown"
}

// ecsVersionOf splits "TLS 1.3" into ECS's tls.version "1.3" and
// tls.version_protocol "tls".
func ecsVersionOf(v string) (version, protocol string) {
	p, num, ok := strings.Cut(v, " ")
	if !ok {
		return v, ""
	}
	return num, strings.ToLower(p)
}

func ipType(ip string) string {
	switch {
	case ip == "":
		return ""
	case strings.Contains(ip, ":"):
		return "ipv6"
	}
	return "ipv4"
}

func toX509(c *flows.Certificate) *ecsX509 {
	x := &ecsX509{
		Subject:            dnOf(c.Subject),
		Issuer:             dnOf(c.Issuer),
		SerialNumber:       strings.ToUpper(c.Serial),
		NotBefore:          ecsTime(c.NotBefore),
		NotAfter:           ecsTime(c.NotAfter),
		AlternativeNames:   c.SAN,
		SignatureAlgorithm: c.SignatureAlgorithm,
	}
	x.PublicKeyAlgorithm, x.PublicKeySize = keyOf(c.Key)
	x.PublicKeyCurve = ecsCurve(c.Key)
	x.PublicKeyExponent = c.KeyExponent
	if c.Version > 0 {
		x.VersionNumber = strconv.Itoa(c.Version)
	}
	return x
}

func dnOf(dn string) ecsDN {
	d := ecsDN{Distinguished: dn}
	for _, rdn := range splitDN(dn) {
		k, v, ok := strings.Cut(rdn, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "CN":
			d.CommonName = append(d.CommonName, v)
		case "O":
			d.Organization = append(d.Organization, v)
		case "OU":
			d.OrganizationalUnit = append(d.OrganizationalUnit, v)
		case "L":
			d.Locality = append(d.Locality, v)
		case "ST", "S":
			d.StateOrProvince = append(d.StateOrProvince, v)
		case "C":
			d.Country = append(d.Country, v)
		}
	}
	return d
}

// keyOf splits the record's key description ("RSA 2048", "ECDSA P-256",
// "Ed25519") into an algorithm and a size in bits.
func keyOf(k string) (alg string, bits int) {
	alg, rest, _ := strings.Cut(k, " ")
	if n, err := strconv.Atoi(rest); err == nil && n > 0 && n < 1<<20 {
		return alg, n
	}
	switch rest {
	case "P-224":
		return alg, 224
	case "P-256":
		return alg, 256
	case "P-384":
		return alg, 384
	case "P-521":
		return alg, 521
	}
	switch alg {
	case "Ed25519", "X25519":
		return alg, 256
	case "Ed448", "X448":
		return alg, 456
	}
	return alg, 0
}

type ecsWriter struct {
	w   io.Writer
	buf []byte
}

func newECS(w io.Writer) *ecsWriter { return &ecsWriter{w: w} }

func (e *ecsWriter) Write(r *flows.Record) error {
	b, err := json.Marshal(ToECS(r))
	if err != nil {
		return err
	}
	e.buf = append(append(e.buf[:0], b...), '\n')
	if _, err := e.w.Write(e.buf); err != nil {
		return err
	}
	return flush(e.w)
}

func (e *ecsWriter) Close() error { return flush(e.w) }

// ecsTransport is network.transport: the IANA name of the IP protocol.
func ecsTransport(t string) string {
	if t == "quic" || t == "dtls" {
		return "udp"
	}
	return "tcp"
}

// ecsProtocol is network.protocol: "tls", or the datagram protocol that
// carries it ("quic", "dtls").
func ecsProtocol(t string) string {
	if t == "quic" || t == "dtls" {
		return t
	}
	return "tls"
}

// ecsTypes is event.type: a connection and its protocol, and an error
// when the handshake failed.
func ecsTypes(status string) []string {
	if status == flows.StatusFailed {
		return []string{"connection", "protocol", "error"}
	}
	return []string{"connection", "protocol"}
}

// ecsIANANumber is network.iana_number, the IP protocol carrying it.
func ecsIANANumber(t string) string {
	if ecsTransport(t) == "udp" {
		return "17"
	}
	return "6"
}

// ecsCurve is x509.public_key_curve of an EC key ("ECDSA P-256"), in the
// spelling of ECS's example ("nistp521"); "" for other keys.
func ecsCurve(k string) string {
	alg, rest, _ := strings.Cut(k, " ")
	if alg != "ECDSA" && alg != "EC" {
		return ""
	}
	switch rest {
	case "P-224":
		return "nistp224"
	case "P-256":
		return "nistp256"
	case "P-384":
		return "nistp384"
	case "P-521":
		return "nistp521"
	}
	return strings.ToLower(rest)
}
