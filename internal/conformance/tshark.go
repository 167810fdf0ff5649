package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// tsharkFile is NAME.tshark-conn.json (the fields used here).
type tsharkFile struct {
	Connections []tsharkConn `json:"connections"`
}

type tsharkConn struct {
	Conn              string          `json:"conn"`
	Transport         string          `json:"transport"`
	Client            string          `json:"client"`
	Server            string          `json:"server"`
	SNI               []string        `json:"sni"`
	NegotiatedVersion *string         `json:"negotiated_version"`
	Cipher            *string         `json:"cipher"`
	CipherName        *string         `json:"cipher_name"`
	ALPNSelected      *string         `json:"alpn_selected"`
	ALPNOffered       []string        `json:"alpn_offered"`
	Timeline          []string        `json:"timeline"`
	Alerts            []tsharkAlert   `json:"alerts"`
	Resumed           json.RawMessage `json:"resumed"`
	ServerHellos      int             `json:"server_hellos"`
}

type tsharkAlert struct {
	Dir       string `json:"dir"`
	Level     *int   `json:"level"`
	Desc      *int   `json:"desc"`
	Encrypted bool   `json:"encrypted"`
}

func (c *tsharkConn) name() string {
	return endpointString(c.Client) + " -> " + endpointString(c.Server)
}

func strp(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// loadTshark reads the tshark reference of a capture and notes which
// connections are DTLS/QUIC.
func (e *capEval) loadTshark() {
	if e.tshark != nil {
		return
	}
	e.tshark = &tsharkFile{}
	ref := e.tsharkRef
	if ref == "" {
		ref = ".tshark-conn.json"
	}
	p := filepath.Join(e.capturesDir, filepath.FromSlash(e.path)) + ref
	b, err := os.ReadFile(p)
	if err != nil {
		e.unparsed = append(e.unparsed, e.path+ref+": "+err.Error())
		return
	}
	if err := json.Unmarshal(b, e.tshark); err != nil {
		e.unparsed = append(e.unparsed, e.path+ref+": "+err.Error())
		return
	}
	// tshark leaves client or server null when it parsed no record of a
	// direction (only continuations, "Ignored Unknown Record"), and the
	// reference mixes outer and inner addresses for tunnelled streams
	// (GTP-U): the frame table, whose addresses are the innermost, places
	// the stream in both cases.
	frames := map[string]frameInfo{}
	for _, f := range loadFrameTable(strings.TrimSuffix(p, "-conn.json") + ".tsv") { // NAME.tshark.tsv, NAME.tshark-decrypted.tsv
		if _, ok := frames[f.key]; !ok {
			frames[f.key] = f
		}
	}
	for i := range e.tshark.Connections {
		c := &e.tshark.Connections[i]
		f, ok := frames[strings.Replace(c.Conn, "quic:", "udp:", 1)]
		if !ok || (c.Client != "" && c.Server != "" &&
			pairKey(endpointString(c.Client), endpointString(c.Server)) == pairKey(f.src, f.dst)) {
			continue
		}
		// Keep tshark's orientation (its C:/S: tokens depend on it): its
		// client's port tells which side is the client.
		_, cport, _ := splitHostPort(c.Client)
		_, sport, _ := splitHostPort(f.src)
		_, dport, _ := splitHostPort(f.dst)
		if c.Client != "" && cport == dport && cport != sport {
			c.Client, c.Server = f.dst, f.src
		} else {
			c.Client, c.Server = f.src, f.dst
		}
	}
	for _, c := range e.tshark.Connections {
		if c.Transport != "tcp" {
			e.udpKeys[pairKey(endpointString(c.Client), endpointString(c.Server))] = true
		}
	}
}

func (e *capEval) tsharkTCP() int {
	e.loadTshark()
	n := 0
	for _, c := range e.tshark.Connections {
		if c.Transport == "tcp" && len(c.Timeline) > 0 {
			n++
		}
	}
	return n
}

func (e *capEval) evalTshark() {
	e.loadTshark()
	m := newMatcher(e.ours)
	for i := range e.tshark.Connections {
		c := &e.tshark.Connections[i]
		if c.Transport != "tcp" {
			e.evalDatagram(c, m)
			continue
		}
		cl, sv := endpointString(c.Client), endpointString(c.Server)
		o := m.take(cl, sv)
		if len(c.Timeline) == 0 {
			// tshark marked a frame TLS but parsed no record in it:
			// nothing to compare (our connection, if any, is not extra).
			continue
		}
		e.count("tshark.connections", o != nil, c.name(), "not reported", "TLS connection ("+c.Conn+")")
		if o == nil {
			continue
		}
		e.compareTshark(c, o, cl)
	}
	for _, o := range m.unused() {
		e.dis = append(e.dis, Disagreement{Capture: e.path, Conn: o.name(), Category: "tshark.connections",
			Ours: "TLS connection " + show(o.rec.Version), Reference: "no TLS seen"})
	}
}

func (e *capEval) compareTshark(c *tsharkConn, o *ourConn, tsClient string) {
	conn := c.name()
	r := &o.rec
	tls13 := strings.HasPrefix(normVersion(strp(c.NegotiatedVersion)), "TLS 1.3") ||
		strings.HasPrefix(normVersion(r.Version), "TLS 1.3")
	inverted := tsharkInverted(c.Timeline)
	if inverted {
		// tshark's C:/S: are the wrong way round (its "client" sent the
		// ServerHello; its addresses are garbled for tunnels): the sender
		// of the ClientHello is the client, and the addresses are ours.
		tsClient = o.client
		conn = o.name()
	}
	ref := tsharkTokens(c.Timeline, tls13)
	if inverted {
		for i, t := range ref {
			ref[i] = swapDir(t)
		}
	}
	ours := ourTokens(r, o.client == tsClient, tls13)
	if sameSeenByTshark(ours, ref) {
		e.count("tshark.messages", true, conn, "", "")
	} else {
		e.count("tshark.messages", false, conn, seqDiff(ours, ref, true), seqDiff(ref, ours, false))
	}

	e.compare("tshark.version", conn, normVersion(r.Version), normVersion(strp(c.NegotiatedVersion)), true)
	refCipher := normCipher(strp(c.CipherName))
	if refCipher == "" {
		refCipher = normCipher(strp(c.Cipher))
	}
	ourCipher := normCipher(r.Cipher)
	if strings.HasPrefix(ourCipher, "0x") && strp(c.Cipher) != "" {
		refCipher = normCipher(strp(c.Cipher))
	}
	e.compare("tshark.cipher", conn, ourCipher, refCipher, true)
	refSNI := ""
	if len(c.SNI) > 0 {
		refSNI = c.SNI[0]
	}
	e.compare("tshark.sni", conn, r.SNI, refSNI, true)
	e.compare("tshark.alpn", conn, r.ALPN, strp(c.ALPNSelected), true)

	// resumed: null when no ServerHello was seen (nothing to compare).
	var res any
	if len(c.Resumed) > 0 {
		_ = json.Unmarshal(c.Resumed, &res)
	}
	if res != nil {
		refRes := "false"
		if b, ok := res.(bool); !ok || b {
			refRes = fmt.Sprint("true (", res, ")")
		}
		ourRes := "false"
		if r.Resumed {
			ourRes = "true (" + r.Resumption + ")"
		}
		e.count("tshark.resumed", strings.HasPrefix(ourRes, "true") == strings.HasPrefix(refRes, "true"), conn, ourRes, refRes)
	}

	// Alerts in clear, in order, with direction.
	var refAl, ourAl []string
	for _, a := range c.Alerts {
		if a.Encrypted || a.Level == nil || a.Desc == nil {
			continue
		}
		d := "C"
		if (a.Dir == "s2c") != inverted {
			d = "S"
		}
		refAl = append(refAl, fmt.Sprintf("%s:Alert(%d,%d)", d, *a.Level, *a.Desc))
	}
	clientIsTs := o.client == tsClient
	for _, a := range r.Alerts {
		if a.Encrypted {
			continue
		}
		d := dirLetter(a.From.String(), clientIsTs)
		ourAl = append(ourAl, fmt.Sprintf("%s:Alert(%d,%d)", d, levelCode(a.Level), a.Code))
	}
	if len(refAl) > 0 || len(ourAl) > 0 {
		e.count("tshark.alerts", same(ourAl, refAl), conn, show(strings.Join(ourAl, " ")), show(strings.Join(refAl, " ")))
	}
}

// dirLetter gives "C" or "S" in the reference's orientation.
func dirLetter(from string, clientIsRefClient bool) string {
	isClient := from == "client"
	if !clientIsRefClient {
		isClient = !isClient
	}
	if isClient {
		return "C"
	}
	return "S"
}

// Message-sequence normalisation (documented in doc.go):
//
//   - application data is left out on both sides (tshark's AppData*N, our
//     application_data runs): its record count is not a handshake fact;
//   - heartbeats become "Heartbeat" (tshark can name the type only in
//     clear);
//   - a record we saw only as ciphertext is "HS:encrypted", whatever type
//     we inferred for it (tshark's token for the same record), an
//     encrypted alert "Alert(encrypted)";
//   - TLS 1.3 (either side says so): tshark shows every record after the
//     ServerHello as AppData (the outer content type), so both sides keep
//     only what is in clear: the hellos, HelloRetryRequest, ChangeCipherSpec
//     and alerts in clear; "HS:encrypted" and "Alert(encrypted)" are left
//     out.
func tsharkTokens(tl []string, tls13 bool) []string {
	var out []string
	for _, t := range tl {
		d, tok, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(tok, "AppData"):
			continue
		case strings.HasPrefix(tok, "Heartbeat"):
			tok = "Heartbeat"
		}
		if tls13 && (tok == "HS:encrypted" || tok == "Alert(encrypted)") {
			continue
		}
		out = append(out, d+":"+tok)
	}
	return out
}

// hsNames maps our message types to tshark's handshake names where
// CamelCase of the snake name is not it.
var hsNames = map[string]string{
	"hello_retry_request": "HelloRetryRequest",
	"next_protocol":       "NextProtocol",
	"certificate_url":     "CertificateURL",
}

// ourTokens renders our message sequence as tshark's timeline tokens;
// clientIsRefClient says whether our client is tshark's client.
func ourTokens(r *flows.Record, clientIsRefClient, tls13 bool) []string {
	// The alerts of each direction, in order, give alert messages their
	// level, code and whether they were read in clear (alerts[] is the
	// detailed account; a message and its alert entry are paired by order).
	alerts := map[packet.Dir][]flows.Alert{}
	for _, a := range r.Alerts {
		alerts[a.From] = append(alerts[a.From], a)
	}
	var out []string
	for _, m := range r.Messages {
		d := dirLetter(m.From.String(), clientIsRefClient)
		var tok string
		switch t := m.Type.String(); {
		case t == "application_data":
			continue
		case t == "change_cipher_spec":
			tok = "CCS"
		case t == "alert":
			enc, known := m.Encrypted, false
			var a flows.Alert
			if q := alerts[m.From]; len(q) > 0 {
				a, alerts[m.From], known = q[0], q[1:], true
				enc = enc || a.Encrypted
			}
			switch {
			case enc:
				tok = "Alert(encrypted)"
			case known:
				tok = fmt.Sprintf("Alert(%d,%d)", levelCode(a.Level), a.Code)
			default:
				tok = "Alert(?)"
			}
		case t == "heartbeat":
			tok = "Heartbeat"
		case strings.HasPrefix(t, "sslv2_"):
			if m.Encrypted {
				tok = "SSLv2:encrypted"
			} else {
				tok = "SSLv2:" + camel(strings.TrimPrefix(t, "sslv2_"))
			}
		case m.Encrypted || t == "encrypted_handshake":
			tok = "HS:encrypted"
		default:
			name := hsNames[t]
			if name == "" {
				name = camel(t)
			}
			tok = "HS:" + name
		}
		if tls13 && (tok == "HS:encrypted" || tok == "Alert(encrypted)") {
			continue
		}
		n := 1
		if m.Count > 1 {
			n = m.Count
		}
		for i := 0; i < n; i++ {
			out = append(out, d+":"+tok)
		}
	}
	return out
}

func same(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameSeenByTshark compares our message sequence with tshark's, leaving
// out what tshark could not see: a run of HS:unparsed in one direction (a
// handshake record tshark did not reassemble or could not dissect) stands
// for one or more handshake messages of ours in that direction. Everything
// else must be equal, token for token.
func sameSeenByTshark(ours, ref []string) bool {
	if same(ours, ref) {
		return true
	}
	// Memoised: each (i, j) is decided once, so several unparsed runs
	// cannot make the search exponential.
	seen := map[[2]int]struct{}{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if j == len(ref) {
			return i == len(ours)
		}
		if _, ok := seen[[2]int{i, j}]; ok {
			return false // decided before: a true would have ended the search
		}
		seen[[2]int{i, j}] = struct{}{}
		dir, isUnparsed := strings.CutSuffix(ref[j], ":HS:unparsed")
		if !isUnparsed {
			return i < len(ours) && ours[i] == ref[j] && match(i+1, j+1)
		}
		k := j
		for k < len(ref) && ref[k] == ref[j] {
			k++
		}
		for m := i; m < len(ours) && strings.HasPrefix(ours[m], dir+":HS:"); m++ {
			if match(m+1, k) {
				return true
			}
		}
		return false
	}
	return match(0, 0)
}

// seqDiff shows a sequence with the first difference from other marked.
func seqDiff(a, other []string, _ bool) string {
	i := 0
	for i < len(a) && i < len(other) && a[i] == other[i] {
		i++
	}
	var b strings.Builder
	start := 0
	if i > 6 {
		start = i - 4
		b.WriteString("… ")
	}
	for j := start; j < len(a); j++ {
		if j > start {
			b.WriteByte(' ')
		}
		if j == i {
			b.WriteString("**")
			b.WriteString(a[j])
			b.WriteString("**")
		} else {
			b.WriteString(a[j])
		}
		if j-start >= 14 && j+1 < len(a) {
			b.WriteString(" … (" + strconv.Itoa(len(a)-j-1) + " more)")
			break
		}
	}
	if i == len(a) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("**(end)**")
	}
	return b.String()
}

// tsharkConn returns the first TCP connection of tshark between a and b.
func (e *capEval) tsharkConn(a, b string) *tsharkConn {
	e.loadTshark()
	k := pairKey(a, b)
	for i := range e.tshark.Connections {
		c := &e.tshark.Connections[i]
		if c.Transport == "tcp" && pairKey(endpointString(c.Client), endpointString(c.Server)) == k {
			return c
		}
	}
	return nil
}

func (e *capEval) tsharkTCPAll() int {
	e.loadTshark()
	n := 0
	for _, c := range e.tshark.Connections {
		if c.Transport == "tcp" {
			n++
		}
	}
	return n
}

// tsharkInverted reports a timeline whose first hello is a ClientHello
// from "S:" (or a ServerHello from "C:"): tshark's roles are inverted.
func tsharkInverted(tl []string) bool {
	for _, t := range tl {
		switch {
		case strings.HasSuffix(t, ":HS:ClientHello"), strings.HasSuffix(t, ":SSLv2:ClientHello"):
			return strings.HasPrefix(t, "S:")
		case strings.HasSuffix(t, ":HS:ServerHello"), strings.HasSuffix(t, ":SSLv2:ServerHello"):
			return strings.HasPrefix(t, "C:")
		}
	}
	return false
}

func swapDir(t string) string {
	switch {
	case strings.HasPrefix(t, "C:"):
		return "S:" + t[2:]
	case strings.HasPrefix(t, "S:"):
		return "C:" + t[2:]
	}
	return t
}
