package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// nDPI's NAME.ndpi.out ends with one line per flow:
//
//	N  TCP a:p <-> b:q [proto: 91.26/TLS.ntop][...][Hostname/SNI: x][TLSv1.2][JA3C: ...]...
//
// Bracketed items are "key: value" or a bare token ([TLSv1.2]). nDPI stops
// inspecting a flow after a few packets, so only the fields it printed are
// compared.

var reNDPIFlow = regexp.MustCompile(`^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+(<->|->)\s+(\S+)\s+(.*)$`)

type ndpiFlow struct {
	transport string
	a, b      string
	fields    map[string]string
	version   string
	proto     string
}

// parseNDPI reads the flow lines of an ndpi.out.
func parseNDPI(src string) []ndpiFlow {
	var out []ndpiFlow
	for _, line := range strings.Split(src, "\n") {
		m := reNDPIFlow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := ndpiFlow{transport: m[1], a: endpointString(m[2]), b: endpointString(m[4]), fields: map[string]string{}}
		for _, item := range brackets(m[5]) {
			k, v, ok := strings.Cut(item, ": ")
			if !ok {
				if reVersion.MatchString(strings.ToLower(item)) {
					f.version = item
				}
				continue
			}
			if _, dup := f.fields[k]; !dup {
				f.fields[k] = strings.TrimSpace(v)
			}
		}
		f.proto = f.fields["proto"]
		out = append(out, f)
	}
	return out
}

// brackets splits "[a][b [c]][d]" into top-level items "a", "b [c]", "d".
func brackets(s string) []string {
	var out []string
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth == 0 {
				start = i + 1
			}
			depth++
		case ']':
			if depth == 0 {
				continue
			}
			depth--
			if depth == 0 && start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		}
	}
	return out
}

// isTLS: nDPI saw TLS (or DTLS/QUIC) in the flow.
func (f *ndpiFlow) isTLS() bool {
	if f.version != "" {
		return true
	}
	for _, k := range []string{"JA3C", "JA4", "JA3S", "Cipher", "Certificate SHA-1", "TLS Supported Versions"} {
		if f.fields[k] != "" {
			return true
		}
	}
	p := strings.ToUpper(f.proto)
	return strings.Contains(p, "TLS") || strings.Contains(p, "QUIC")
}

func (e *capEval) evalNDPI() {
	p := filepath.Join(e.capturesDir, filepath.FromSlash(e.path)) + ".ndpi.out"
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	e.loadTshark()
	m := newMatcher(e.ours)
	for _, f := range parseNDPI(string(b)) {
		if !f.isTLS() || strings.Contains(f.fields["Confidence"], "Match by port") {
			// "Match by port": nDPI guessed from the port number without
			// inspecting TLS; nothing to compare.
			continue
		}
		if f.transport != "TCP" || e.udpKeys[pairKey(f.a, f.b)] {
			e.outOfScope("ndpi")
			continue
		}
		conn := f.a + " -> " + f.b
		o := m.take(f.a, f.b)
		e.count("ndpi.connections", o != nil, conn, "not reported", "TLS flow ("+f.proto+")")
		if o == nil {
			continue
		}
		r := &o.rec
		e.compare("ndpi.sni", conn, r.SNI, f.fields["Hostname/SNI"], false)
		e.compare("ndpi.alpn", conn, r.ALPN, f.fields["(Negotiated) ALPN"], false)
		e.compare("ndpi.alpn_offered", conn, strings.Join(r.ALPNOffered, ";"), strings.TrimSuffix(f.fields["(Advertised) ALPNs"], ";"), false)
		// Without a ServerHello nDPI prints the ClientHello's version, not
		// a negotiated one: compared only where tshark saw a ServerHello.
		if tc := e.tsharkConn(f.a, f.b); tc == nil || strp(tc.NegotiatedVersion) != "" {
			e.compare("ndpi.version", conn, normVersion(r.Version), normVersion(f.version), false)
		}
		e.compare("ndpi.ja3", conn, r.JA3, ndpiHash(f.fields["JA3C"]), false)
		e.compare("ndpi.ja3s", conn, r.JA3S, ndpiHash(f.fields["JA3S"]), false)
		e.compare("ndpi.ja4", conn, r.JA4, ndpiHash(f.fields["JA4"]), false)
		e.compare("ndpi.cipher", conn, normCipher(r.Cipher), normCipher(f.fields["Cipher"]), false)
		var subj, iss, validity, sha1 string
		if len(r.Certificates) > 0 {
			c := r.Certificates[0]
			subj, iss = ndpiDN(c.Subject), ndpiDN(c.Issuer)
			validity = secondUTC(c.NotBefore.Time) + " - " + secondUTC(c.NotAfter.Time)
			sha1 = rawCertSHA1(o.raw, "certificates", 0)
		}
		e.compare("ndpi.issuer", conn, iss, ndpiDN(f.fields["Issuer"]), false)
		e.compare("ndpi.subject", conn, subj, ndpiDN(f.fields["Subject"]), false)
		if v := f.fields["Validity"]; v != "" {
			nb, na, _ := strings.Cut(v, " - ")
			e.compare("ndpi.validity", conn, validity, parseLooseTime(nb)+" - "+parseLooseTime(na), false)
		}
		if sha1 != "" {
			e.compare("ndpi.cert_sha1", conn, sha1, normHexFP(f.fields["Certificate SHA-1"]), false)
		}
	}
}

// ndpiHash drops nDPI's remarks after a fingerprint ("... (INSECURE)").
func ndpiHash(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	return s
}

// ndpiDN canonicalises a distinguished name restricted to the attributes
// nDPI prints (C, ST, L, O, OU, CN), each attribute=value once: nDPI leaves
// out the others (serialNumber, businessCategory, emailAddress, ...) and
// sometimes prints an attribute twice.
func ndpiDN(s string) string {
	n := normDN(s)
	if n == "" {
		return ""
	}
	var keep []string
	for _, a := range strings.Split(n, ", ") {
		k, _, _ := strings.Cut(a, "=")
		switch k {
		case "C", "ST", "L", "O", "OU", "CN":
			keep = appendUnique(keep, a)
		default:
			// A value with ", " inside was split; keep it with its
			// attribute.
			if !strings.Contains(a, "=") && len(keep) > 0 {
				keep[len(keep)-1] += ", " + a
			}
		}
	}
	return strings.Join(keep, ", ")
}
