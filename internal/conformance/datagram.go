package conformance

import (
	"regexp"
	"strings"
)

// Datagram transports against tshark: the QUIC and DTLS connections of its
// reference ("quic", and "udp" for DTLS), in categories of their own,
// quic.* and dtls.*.
//
// Normalisation, on top of the TCP one (tsharkTokens, ourTokens):
//
//   - QUIC: tshark without keys reads the hellos of the Initial packets
//     and nothing else; both sides keep the handshake messages in clear
//     (our encrypted flight labels, application data, CONNECTION_CLOSE,
//     Retry and Version Negotiation are not TLS messages to tshark, and an
//     alert we read from a CONNECTION_CLOSE is a QUIC frame to it).
//   - DTLS: tshark lists a message once per fragment and once per copy
//     sent again ("HS:Certificate[frag 121+203/874]"); a message is its
//     first fragment, and a message a direction already sent is a
//     retransmission, except the ClientHello that answers a
//     HelloVerifyRequest (RFC 6347 4.2.1). DTLS 1.3 (tshark 4.0 reads only
//     its hellos) keeps only what is in clear, as TLS 1.3 does.
var reFrag = regexp.MustCompile(`\[frag (\d+)\+\d+/\d+\]$`)

// evalDatagram compares one QUIC or DTLS connection of tshark's with ours.
func (e *capEval) evalDatagram(c *tsharkConn, m *matcher) {
	cat := "quic."
	if c.Transport != "quic" {
		cat = "dtls."
	}
	cl, sv := endpointString(c.Client), endpointString(c.Server)
	o := m.take(cl, sv)
	if len(c.Timeline) == 0 {
		return
	}
	e.count(cat+"connections", o != nil, c.name(), "not reported", "TLS connection ("+c.Conn+")")
	if o == nil {
		return
	}
	r := &o.rec
	conn := c.name()
	clientIsTs := o.client == cl
	tls13 := cat == "quic." || strings.HasPrefix(normVersion(strp(c.NegotiatedVersion)), "DTLS 1.3") ||
		strings.HasPrefix(normVersion(r.Version), "DTLS 1.3")
	ref := datagramTokens(tsharkTokens(c.Timeline, tls13), cat == "dtls.")
	var ours []string
	for _, t := range ourTokens(r, clientIsTs, tls13) {
		if cat == "quic." && !strings.Contains(t, ":HS:") {
			continue // alerts of CONNECTION_CLOSE frames
		}
		if strings.HasSuffix(t, ":HS:ConnectionClose") || strings.HasSuffix(t, ":HS:Retry") || strings.HasSuffix(t, ":HS:VersionNegotiation") {
			continue
		}
		ours = append(ours, t)
	}
	if cat == "quic." {
		ref = onlyHandshake(ref)
	}
	if same(ours, ref) {
		e.count(cat+"messages", true, conn, "", "")
	} else {
		e.count(cat+"messages", false, conn, seqDiff(ours, ref, true), seqDiff(ref, ours, false))
	}
	e.compare(cat+"version", conn, normVersion(r.Version), normVersion(strp(c.NegotiatedVersion)), true)
	refCipher := normCipher(strp(c.CipherName))
	if refCipher == "" {
		refCipher = normCipher(strp(c.Cipher))
	}
	e.compare(cat+"cipher", conn, normCipher(r.Cipher), refCipher, true)
	refSNI := ""
	if len(c.SNI) > 0 {
		refSNI = c.SNI[0]
	}
	e.compare(cat+"sni", conn, r.SNI, refSNI, true)
	e.compare(cat+"alpn_offered", conn, strings.Join(r.ALPNOffered, ","), strings.Join(c.ALPNOffered, ","), true)
}

// onlyHandshake keeps the handshake messages of a token list.
func onlyHandshake(toks []string) []string {
	var out []string
	for _, t := range toks {
		if strings.Contains(t, ":HS:") {
			out = append(out, t)
		}
	}
	return out
}

// datagramTokens folds tshark's DTLS fragments and retransmissions (see
// the comment on reFrag); QUIC tokens pass as they are.
func datagramTokens(toks []string, dtls bool) []string {
	if !dtls {
		return toks
	}
	var out []string
	seen := map[string]bool{}
	lastHVR := false
	for _, t := range toks {
		if m := reFrag.FindStringSubmatchIndex(t); m != nil {
			if t[m[2]:m[3]] != "0" {
				continue // a later fragment of a message already counted
			}
			t = t[:m[0]]
		}
		if strings.Contains(t, ":HS:") && !strings.HasSuffix(t, ":HS:encrypted") {
			again := seen[t]
			if again && !(lastHVR && strings.HasSuffix(t, ":HS:ClientHello")) {
				continue
			}
			seen[t] = true
		}
		lastHVR = strings.HasSuffix(t, ":HS:HelloVerifyRequest")
		out = append(out, t)
	}
	return out
}
