package conformance

import (
	"encoding/hex"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Every reference spells the same facts differently. These functions bring
// both sides to one canonical spelling before comparing; they never make two
// different facts equal.

// endpoint canonicalises an address and port: IPv6 compressed (suricata
// writes it fully expanded), IPv4-mapped IPv6 unmapped.
func endpoint(ip string, port int) string {
	ip = strings.Trim(strings.TrimSpace(ip), "[]")
	if a, err := netip.ParseAddr(ip); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)).String()
	}
	return ip + ":" + strconv.Itoa(port)
}

// splitHostPort splits "ip:port", "[v6]:port" and tshark's "v6:port"
// (the port after the last colon).
func splitHostPort(s string) (string, int, bool) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, false
	}
	return strings.Trim(s[:i], "[]"), p, true
}

// endpointString canonicalises an "ip:port" string.
func endpointString(s string) string {
	ip, p, ok := splitHostPort(s)
	if !ok {
		return s
	}
	return endpoint(ip, p)
}

// pairKey names a connection regardless of orientation.
func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

var (
	reVersion = regexp.MustCompile(`^(ssl|tls|dtls)\s*v?\s*(\d)(?:\.?(\d))?`)
	reDraft   = regexp.MustCompile(`draft[\s_-]*(\d+)`)
	reHexVer  = regexp.MustCompile(`^(?:0x)?([0-9a-f]{4})$`)
)

// normVersion canonicalises a protocol version: "TLSv12" (Zeek),
// "TLSv1.2" (tshark, Arkime, nDPI), "TLS 1.2" (ours, Suricata), "TLSv1"
// and "TLSv10" all become "TLS 1.2" / "TLS 1.0"; drafts keep their number
// ("TLS 1.3 draft 28"); Facebook's Fizz experiment (0xfb1a) is "TLS 1.3
// fizz"; "UNDETERMINED" and "" become "".
func normVersion(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" || l == "undetermined" || l == "unknown" || l == "-" {
		return ""
	}
	if strings.Contains(l, "fizz") || strings.Contains(l, "fb1a") || strings.Contains(l, "fb17") {
		return "TLS 1.3 fizz"
	}
	if m := reHexVer.FindStringSubmatch(l); m != nil {
		switch m[1] {
		case "0300":
			return "SSL 3.0"
		case "0301":
			return "TLS 1.0"
		case "0302":
			return "TLS 1.1"
		case "0303":
			return "TLS 1.2"
		case "0304":
			return "TLS 1.3"
		case "0002":
			return "SSL 2.0"
		}
		if strings.HasPrefix(m[1], "7f") {
			n, _ := strconv.ParseUint(m[1][2:], 16, 8)
			return "TLS 1.3 draft " + strconv.FormatUint(n, 10)
		}
		return "0x" + m[1]
	}
	m := reVersion.FindStringSubmatch(l)
	if m == nil {
		return l
	}
	fam := strings.ToUpper(m[1])
	major, minor := m[2], m[3]
	if minor == "" {
		minor = "0"
	}
	// SSLv3 and SSLv2 are "3.0" and "2.0"; TLSv1 is 1.0.
	out := fam + " " + major + "." + minor
	if d := reDraft.FindStringSubmatch(l); d != nil {
		n := strings.TrimLeft(d[1], "0")
		if n == "" {
			n = "0" // "draft 0", not "draft " (FuzzNormalizers)
		}
		out += " draft " + n
	}
	return out
}

// normCipher canonicalises a cipher suite name: upper case; a code point
// "0xc02b" stays a lower-case code point.
func normCipher(s string) string {
	s = strings.TrimSpace(s)
	if s == "-" {
		return ""
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "0x") {
		return l
	}
	return strings.ToUpper(s)
}

// normSerial canonicalises a certificate serial number: hex digits only,
// upper case, without the leading zero octets DER adds for the sign.
func normSerial(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'F':
			b.WriteRune(r)
		case r >= 'a' && r <= 'f':
			b.WriteRune(r - 'a' + 'A')
		}
	}
	out := strings.TrimLeft(b.String(), "0")
	if out == "" && b.Len() > 0 {
		return "0"
	}
	return out
}

// normHexFP canonicalises a fingerprint: hex digits only, lower case.
func normHexFP(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dnAttr maps attribute type spellings to one name.
func dnAttr(t string) string {
	u := strings.ToUpper(strings.TrimSpace(t))
	switch u {
	case "EMAIL", "EMAILADDRESS", "E", "1.2.840.113549.1.9.1":
		return "EMAIL"
	case "S", "ST", "STATEORPROVINCENAME", "2.5.4.8":
		return "ST"
	case "CN", "COMMONNAME", "2.5.4.3":
		return "CN"
	case "O", "ORGANIZATIONNAME", "2.5.4.10":
		return "O"
	case "OU", "ORGANIZATIONALUNITNAME", "2.5.4.11":
		return "OU"
	case "C", "COUNTRYNAME", "2.5.4.6":
		return "C"
	case "L", "LOCALITYNAME", "2.5.4.7":
		return "L"
	case "SERIALNUMBER", "2.5.4.5":
		return "SERIALNUMBER"
	case "STREET", "STREETADDRESS", "2.5.4.9":
		return "STREET"
	case "DC", "DOMAINCOMPONENT", "0.9.2342.19200300.100.1.25":
		return "DC"
	case "UID", "USERID", "0.9.2342.19200300.100.1.1":
		return "UID"
	case "POSTALCODE", "2.5.4.17":
		return "POSTALCODE"
	}
	return u
}

var reAttrStart = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=`)

// normDN canonicalises a distinguished name written by OpenSSL
// ("C=US, O=X, CN=y"), RFC 4514 ("CN=y,O=X,C=US", escaped commas, "#hex"
// DER values) or nDPI/Suricata: attribute names unified, values unescaped
// and decoded, and the attributes sorted (the conventions disagree on the
// order of RDNs, not on their content).
func normDN(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return ""
	}
	// Split on unescaped commas (and "/" separated OpenSSL oneline form).
	var parts []string
	var cur strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune('\\')
			cur.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == ',' || r == '+':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	parts = append(parts, cur.String())
	// A piece that does not start with "ATTR=" belongs to the previous
	// value ("O=Example, Inc." written without escaping).
	var attrs []string
	for _, p := range parts {
		if reAttrStart.MatchString(p) || len(attrs) == 0 {
			attrs = append(attrs, p)
			continue
		}
		attrs[len(attrs)-1] += "," + p
	}
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			out = append(out, strings.TrimSpace(a))
			continue
		}
		out = append(out, dnAttr(k)+"="+dnValue(v))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// dnValue unescapes an attribute value and decodes "#hex" DER strings.
func dnValue(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "#") {
		if b, err := hex.DecodeString(v[1:]); err == nil && len(b) >= 2 && int(b[1]) == len(b)-2 {
			return string(b[2:])
		}
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			// \XX hex pair or an escaped character.
			if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
				x, _ := strconv.ParseUint(v[i+1:i+3], 16, 8)
				b.WriteByte(byte(x))
				i += 2
				continue
			}
			i++
		}
		b.WriteByte(v[i])
	}
	return strings.TrimSpace(b.String())
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// secondUTC renders a time at second precision, the precision every
// reference uses.
func secondUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// parseLooseTime reads "2006-01-02T15:04:05", "2006-01-02 15:04:05" and
// RFC 3339 forms into second precision.
func parseLooseTime(s string) string {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return secondUTC(t)
		}
	}
	return s
}

// levelCode maps an alert level name to its code.
func levelCode(s string) int {
	switch strings.ToLower(s) {
	case "warning":
		return 1
	case "fatal":
		return 2
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return 0
}

// camel turns snake_case into CamelCase ("server_hello" -> "ServerHello").
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' || r == '-' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}
