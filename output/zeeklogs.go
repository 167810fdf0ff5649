package output

import (
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Zeek's ASCII log writer, as a Zeek logs directory holds it: a header
// (#separator, #set_separator, #empty_field, #unset_field, #path, #open,
// #fields, #types), one tab-separated row per entry, and #close. A field
// with no value is "-", an empty vector "(empty)"; a string that would be
// read as one of those, a tab, a comma inside a vector element, a
// backslash, control bytes and bytes that are not UTF-8 are escaped as
// \xHH (a backslash as \\), as Zeek does, so zeek-cut and Zeek's own
// readers take the file as it is.
//
// Times are the capture's: #open is the first row's time and #close the
// latest time a row covered, both in UTC, so that the same capture gives
// the same files.

const (
	zeekUnset = "-"
	zeekEmpty = "(empty)"
	// zeekDateLayout is the #open/#close stamp (Zeek's %Y-%m-%d-%H-%M-%S).
	zeekDateLayout = "2006-01-02-15-04-05"
)

// zeekColumn is one column of a log: its name and Zeek type.
type zeekColumn struct{ name, typ string }

// sslColumns are ssl.log's columns (Zeek's base/protocols/ssl, with
// validation_status of policy/protocols/ssl/validate-certs), then ours.
var sslColumns = []zeekColumn{
	{"ts", "time"}, {"uid", "string"},
	{"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"}, {"id.resp_p", "port"},
	{"version", "string"}, {"cipher", "string"}, {"curve", "string"}, {"server_name", "string"},
	{"resumed", "bool"}, {"last_alert", "string"}, {"next_protocol", "string"}, {"established", "bool"},
	{"ssl_history", "string"}, {"cert_chain_fps", "vector[string]"}, {"client_cert_chain_fps", "vector[string]"},
	{"sni_matches_cert", "bool"}, {"validation_status", "string"},
	{"failure_reason", "string"}, {"failure_confidence", "string"},
}

// x509Columns are x509.log's columns (Zeek 5 and later: one row per
// certificate, joined to ssl.log by fingerprint = a cert_chain_fps entry).
var x509Columns = []zeekColumn{
	{"ts", "time"}, {"fingerprint", "string"},
	{"certificate.version", "count"}, {"certificate.serial", "string"},
	{"certificate.subject", "string"}, {"certificate.issuer", "string"},
	{"certificate.not_valid_before", "time"}, {"certificate.not_valid_after", "time"},
	{"certificate.key_alg", "string"}, {"certificate.sig_alg", "string"},
	{"certificate.key_type", "string"}, {"certificate.key_length", "count"},
	{"certificate.exponent", "string"}, {"certificate.curve", "string"},
	{"san.dns", "vector[string]"}, {"san.uri", "vector[string]"}, {"san.email", "vector[string]"}, {"san.ip", "vector[addr]"},
	{"basic_constraints.ca", "bool"}, {"basic_constraints.path_len", "count"},
	{"host_cert", "bool"}, {"client_cert", "bool"},
}

// connColumns are conn.log's columns (base/protocols/conn).
var connColumns = []zeekColumn{
	{"ts", "time"}, {"uid", "string"},
	{"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"}, {"id.resp_p", "port"},
	{"proto", "enum"}, {"service", "string"}, {"duration", "interval"},
	{"orig_bytes", "count"}, {"resp_bytes", "count"}, {"conn_state", "string"},
	{"local_orig", "bool"}, {"local_resp", "bool"}, {"missed_bytes", "count"}, {"history", "string"},
	{"orig_pkts", "count"}, {"orig_ip_bytes", "count"}, {"resp_pkts", "count"}, {"resp_ip_bytes", "count"},
	{"tunnel_parents", "set[string]"}, {"ip_proto", "count"},
}

// zeekLog writes one log file. It owns buf; rows are handed to w whole.
type zeekLog struct {
	w           io.Writer
	path        string
	cols        []zeekColumn
	opened      bool
	last        time.Time // the latest time a row covered, for #close
	buf         []byte
	row         [][]byte // one reusable buffer per column
	wroteHeader bool
}

func newZeekLog(w io.Writer, path string, cols []zeekColumn) *zeekLog {
	return &zeekLog{w: w, path: path, cols: cols, row: make([][]byte, len(cols))}
}

// header writes the lines before the first row, stamped with open.
func (l *zeekLog) header(open time.Time) {
	b := append(l.buf[:0], "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t"...)
	b = append(b, l.path...)
	b = append(b, "\n#open\t"...)
	b = appendZeekDate(b, open)
	b = append(b, "\n#fields"...)
	for _, c := range l.cols {
		b = append(append(b, '\t'), c.name...)
	}
	b = append(b, "\n#types"...)
	for _, c := range l.cols {
		b = append(append(b, '\t'), c.typ...)
	}
	l.buf = append(b, '\n')
	l.wroteHeader = true
}

// set stores the encoded value of column i for the row being built.
func (l *zeekLog) set(i int, v []byte) { l.row[i] = v }

// emit writes the row built with set (columns never set are unset) at
// time ts, covering until end, then clears it.
func (l *zeekLog) emit(ts, end time.Time) error {
	l.buf = l.buf[:0]
	if !l.wroteHeader {
		l.header(ts)
	}
	for i := range l.row {
		if i > 0 {
			l.buf = append(l.buf, '\t')
		}
		if l.row[i] == nil {
			l.buf = append(l.buf, zeekUnset...)
		} else {
			l.buf = append(l.buf, l.row[i]...)
		}
		l.row[i] = nil
	}
	l.buf = append(l.buf, '\n')
	if end.After(l.last) {
		l.last = end
	}
	if ts.After(l.last) {
		l.last = ts
	}
	_, err := l.w.Write(l.buf)
	return err
}

// close writes #close (and the header, if no row came).
func (l *zeekLog) close() error {
	l.buf = l.buf[:0]
	if !l.wroteHeader {
		l.header(time.Time{})
	}
	l.buf = append(l.buf, "#close\t"...)
	l.buf = appendZeekDate(l.buf, l.last)
	l.buf = append(l.buf, '\n')
	_, err := l.w.Write(l.buf)
	return err
}

// appendZeekDate writes t as #open does, or "-" for the zero time (a log
// that saw no row).
func appendZeekDate(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, zeekUnset...)
	}
	return t.UTC().AppendFormat(b, zeekDateLayout)
}

// Value encoders; each returns nil for unset.

func zStr(s string) []byte {
	if s == "" {
		return nil
	}
	return appendZeekString(nil, s, false)
}

func zBool(v bool) []byte {
	if v {
		return []byte("T")
	}
	return []byte("F")
}

func zOptBool(v *bool) []byte {
	if v == nil {
		return nil
	}
	return zBool(*v)
}

func zCount(n uint64) []byte { return strconv.AppendUint(nil, n, 10) }

func zTime(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	return appendZeekTime(nil, t)
}

// appendZeekTime writes epoch seconds with six decimals, as Zeek's time.
func appendZeekTime(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	neg := us < 0
	if neg {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	frac := us % 1e6
	b = append(b, '.')
	s := strconv.AppendInt(nil, frac+1e6, 10) // 1dddddd: zero-padded
	return append(b, s[1:]...)
}

// zInterval writes a duration in seconds with six decimals.
func zInterval(d time.Duration) []byte {
	return appendZeekTime(nil, time.UnixMicro(d.Microseconds()))
}

// zVec writes a vector: nil for unset, "(empty)" for a present empty one.
func zVec(v []string, present bool) []byte {
	if !present {
		return nil
	}
	if len(v) == 0 {
		return []byte(zeekEmpty)
	}
	var b []byte
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendZeekString(b, s, true)
	}
	return b
}

// appendZeekString escapes s for a TSV field; inSet also escapes the set
// separator. A whole value equal to "-" or "(empty)" gets its first byte
// escaped, so that it is not read as unset or empty.
func appendZeekString(b []byte, s string, inSet bool) []byte {
	const hex = "0123456789abcdef"
	if s == zeekUnset || s == zeekEmpty {
		b = append(b, '\\', 'x', hex[s[0]>>4], hex[s[0]&0xf])
		return append(b, s[1:]...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
				i++
				continue
			}
			if invisibleRune(r) {
				// Valid, but it would reorder or hide text where the
				// log is read: its bytes escaped, which readers undo.
				for k := i; k < i+n; k++ {
					b = append(b, '\\', 'x', hex[s[k]>>4], hex[s[k]&0xf])
				}
				i += n
				continue
			}
			b = append(b, s[i:i+n]...)
			i += n
			continue
		}
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c < 0x20 || c == 0x7f || (inSet && c == ','):
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return b
}

// invisibleRune reports the runes escaped beyond Zeek's own rules: C1
// controls, direction marks, embeddings, overrides and isolates, and the
// line and paragraph separators.
func invisibleRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || r == 0x200e || r == 0x200f ||
		(r >= 0x2028 && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// zeekTSVWriter writes ssl.log in Zeek's TSV form (-F zeek).
type zeekTSVWriter struct {
	w   io.Writer
	ssl *zeekLog
}

func newZeekTSV(w io.Writer) *zeekTSVWriter {
	return &zeekTSVWriter{w: w, ssl: newZeekLog(w, "ssl", sslColumns)}
}

func (z *zeekTSVWriter) Write(r *flows.Record) error {
	if err := writeSSLRow(z.ssl, r); err != nil {
		return err
	}
	return flush(z.w)
}

func (z *zeekTSVWriter) Close() error {
	if err := z.ssl.close(); err != nil {
		return err
	}
	return flush(z.w)
}

// writeSSLRow writes r's ssl.log row.
func writeSSLRow(l *zeekLog, r *flows.Record) error {
	z := ToZeek(r)
	l.set(0, zTime(r.TS.Time))
	l.set(1, zStr(z.UID))
	l.set(2, zStr(z.OrigH))
	l.set(3, zCount(uint64(z.OrigP)))
	l.set(4, zStr(z.RespH))
	l.set(5, zCount(uint64(z.RespP)))
	l.set(6, zStr(z.Version))
	l.set(7, zStr(z.Cipher))
	l.set(8, zStr(z.Curve))
	l.set(9, zStr(z.ServerName))
	l.set(10, zBool(z.Resumed))
	l.set(11, zStr(z.LastAlert))
	l.set(12, zStr(z.NextProtocol))
	l.set(13, zBool(z.Established))
	l.set(14, zStr(z.SSLHistory))
	if z.CertChainFps != nil {
		l.set(15, zVec(*z.CertChainFps, true))
		l.set(16, zVec(*z.ClientCertChainFps, true))
	}
	l.set(17, zOptBool(z.SNIMatchesCert))
	l.set(18, zStr(z.ValidationStatus))
	l.set(19, zStr(z.FailureReason))
	l.set(20, zStr(z.FailureConfidence))
	return l.emit(r.TS.Time, r.EndTS.Time)
}

// ZeekLogs writes the three logs of a Zeek logs directory, ssl.log,
// x509.log and conn.log, to the writers given (the caller opens and
// closes the files). Rows are linked as Zeek links them: conn.log and
// ssl.log share the uid, and each fingerprint of ssl.log's
// cert_chain_fps and client_cert_chain_fps is an x509.log row's
// fingerprint. A certificate is logged once per side that sent it
// (server or client), as Zeek 5 and later deduplicate x509.log.
type ZeekLogs struct {
	ssl, x509, conn *zeekLog
	flushers        []io.Writer
	// seen are the certificates logged, by fingerprint and role; bounded
	// by maxSeenCerts, past which it starts over (and a certificate may
	// be logged again, as Zeek does after its deduplication interval).
	seen map[string]bool
}

// maxSeenCerts bounds ZeekLogs' memory of certificates already logged.
const maxSeenCerts = 1 << 18

// NewZeekLogs returns a Writer of ssl.log, x509.log and conn.log.
func NewZeekLogs(ssl, x509, conn io.Writer) *ZeekLogs {
	return &ZeekLogs{
		ssl:      newZeekLog(ssl, "ssl", sslColumns),
		x509:     newZeekLog(x509, "x509", x509Columns),
		conn:     newZeekLog(conn, "conn", connColumns),
		flushers: []io.Writer{ssl, x509, conn},
		seen:     map[string]bool{},
	}
}

// Write logs r in the three logs.
func (z *ZeekLogs) Write(r *flows.Record) error {
	if err := writeConnRow(z.conn, r); err != nil {
		return err
	}
	if r.Status == flows.StatusNotTLS {
		return z.flush() // a connection, but no TLS to log
	}
	if err := z.writeCerts(r, r.Certificates, true); err != nil {
		return err
	}
	if err := z.writeCerts(r, r.ClientCertificates, false); err != nil {
		return err
	}
	if err := writeSSLRow(z.ssl, r); err != nil {
		return err
	}
	return z.flush()
}

func (z *ZeekLogs) flush() error {
	for _, w := range z.flushers {
		if err := flush(w); err != nil {
			return err
		}
	}
	return nil
}

// Close writes each log's #close line.
func (z *ZeekLogs) Close() error {
	for _, l := range []*zeekLog{z.ssl, z.x509, z.conn} {
		if err := l.close(); err != nil {
			return err
		}
	}
	return z.flush()
}

func (z *ZeekLogs) writeCerts(r *flows.Record, chain []flows.Certificate, host bool) error {
	ts := certTime(r, host)
	for i := range chain {
		c := &chain[i]
		fp := strings.ToLower(c.SHA256)
		if fp == "" {
			continue
		}
		key := fp + "/" + strconv.FormatBool(host)
		if z.seen[key] {
			continue
		}
		if len(z.seen) >= maxSeenCerts {
			clear(z.seen)
		}
		z.seen[key] = true
		writeX509Row(z.x509, c, fp, host && i == 0, !host)
		z.x509.set(0, zTime(ts))
		if err := z.x509.emit(ts, ts); err != nil {
			return err
		}
	}
	return nil
}

// certTime is when the chain was seen: its Certificate message, else the
// connection's start.
func certTime(r *flows.Record, host bool) time.Time {
	for _, m := range r.Messages {
		if m.Type.String() == "certificate" && (m.From.String() == "server") == host {
			return m.TS.Time
		}
	}
	return r.TS.Time
}

// writeX509Row fills an x509.log row from what the record keeps of a
// certificate; what it does not keep (the path length constraint) is
// unset.
//
// host_cert marks the server's end-entity certificate (the first of its
// chain), client_cert a certificate the client sent; an intermediate of
// the server chain has neither.
func writeX509Row(l *zeekLog, c *flows.Certificate, fp string, hostCert, clientCert bool) {
	l.set(1, zStr(fp))
	if c.Version > 0 {
		l.set(2, zCount(uint64(c.Version)))
	}
	l.set(3, zStr(strings.ToUpper(c.Serial)))
	l.set(4, zStr(c.Subject))
	l.set(5, zStr(c.Issuer))
	l.set(6, zTime(c.NotBefore.Time))
	l.set(7, zTime(c.NotAfter.Time))
	alg, typ, bits, curve := zeekKey(c.Key)
	l.set(8, zStr(alg))
	l.set(9, zStr(zeekSigAlg(c.SignatureAlgorithm)))
	l.set(10, zStr(typ))
	if bits > 0 {
		l.set(11, zCount(uint64(bits)))
	}
	if c.KeyExponent > 0 {
		l.set(12, zStr(strconv.Itoa(c.KeyExponent)))
	}
	l.set(13, zStr(curve))
	dns, uri, email, ip := splitSAN(c.SAN)
	l.set(14, zVec(dns, len(dns) > 0))
	l.set(15, zVec(uri, len(uri) > 0))
	l.set(16, zVec(email, len(email) > 0))
	l.set(17, zVec(ip, len(ip) > 0))
	if c.Version > 0 {
		l.set(18, zBool(c.CA)) // read from the extension only when it was parsed
	}
	l.set(20, zBool(hostCert))
	l.set(21, zBool(clientCert))
}

// zeekKey maps the record's key ("RSA 2048", "ECDSA P-256", "Ed25519")
// to x509.log's key_alg (OpenSSL's name), key_type, key_length and curve.
// Zeek sets key_type and key_length for RSA, DSA and EC keys only.
func zeekKey(k string) (alg, typ string, bits int, curve string) {
	name, rest, _ := strings.Cut(k, " ")
	switch name {
	case "RSA":
		alg, typ = "rsaEncryption", "rsa"
	case "DSA":
		alg, typ = "dsaEncryption", "dsa"
	case "ECDSA", "EC":
		alg, typ = "id-ecPublicKey", "ecdsa"
		curve = map[string]string{"P-224": "secp224r1", "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1"}[rest]
	case "Ed25519":
		return "ED25519", "", 0, ""
	case "Ed448":
		return "ED448", "", 0, ""
	default:
		return "", "", 0, ""
	}
	_, bits = keyOf(k)
	return alg, typ, bits, curve
}

// zeekSigAlg spells crypto/x509's signature algorithm names as OpenSSL's
// short names, which Zeek's sig_alg carries; unknown ones (dotted OIDs)
// pass through.
func zeekSigAlg(s string) string {
	switch s {
	case "MD2-RSA":
		return "md2WithRSAEncryption"
	case "MD5-RSA":
		return "md5WithRSAEncryption"
	case "SHA1-RSA":
		return "sha1WithRSAEncryption"
	case "SHA256-RSA":
		return "sha256WithRSAEncryption"
	case "SHA384-RSA":
		return "sha384WithRSAEncryption"
	case "SHA512-RSA":
		return "sha512WithRSAEncryption"
	case "SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS":
		return "rsassaPss"
	case "DSA-SHA1":
		return "dsaWithSHA1"
	case "DSA-SHA256":
		return "dsa_with_SHA256"
	case "ECDSA-SHA1":
		return "ecdsa-with-SHA1"
	case "ECDSA-SHA256":
		return "ecdsa-with-SHA256"
	case "ECDSA-SHA384":
		return "ecdsa-with-SHA384"
	case "ECDSA-SHA512":
		return "ecdsa-with-SHA512"
	case "Ed25519":
		return "ED25519"
	}
	return s
}

// splitSAN sorts the record's SAN list (DNS names, IP addresses, e-mail
// addresses and URIs, in that order) back into its kinds.
func splitSAN(san []string) (dns, uri, email, ip []string) {
	for _, s := range san {
		switch {
		case strings.Contains(s, "://"):
			uri = append(uri, s)
		case strings.Contains(s, "@"):
			email = append(email, s)
		default:
			if _, err := netip.ParseAddr(s); err == nil {
				ip = append(ip, s)
			} else {
				dns = append(dns, s)
			}
		}
	}
	return
}

// writeConnRow writes r's conn.log row.
func writeConnRow(l *zeekLog, r *flows.Record) error {
	l.set(0, zTime(r.TS.Time))
	l.set(1, zStr(r.UID))
	l.set(2, zStr(r.Client.IP))
	l.set(3, zCount(uint64(r.Client.Port)))
	l.set(4, zStr(r.Server.IP))
	l.set(5, zCount(uint64(r.Server.Port)))
	proto, ipProto := "tcp", uint64(6)
	if r.Transport == "quic" || r.Transport == "dtls" {
		proto, ipProto = "udp", 17
	}
	l.set(6, []byte(proto))
	l.set(7, zStr(zeekService(r)))
	if !r.TS.IsZero() && !r.EndTS.IsZero() {
		l.set(8, zInterval(r.EndTS.Sub(r.TS.Time)))
	}
	l.set(9, zCount(r.ClientBytes))
	l.set(10, zCount(r.ServerBytes))
	l.set(11, []byte(connState(r)))
	l.set(14, zCount(r.MissingBytes))
	l.set(15, zStr(connHistory(r)))
	l.set(21, zCount(ipProto))
	return l.emit(r.TS.Time, r.EndTS.Time)
}

// zeekService is conn.log's service: the analyzers that took the
// connection, as Zeek names them.
func zeekService(r *flows.Record) string {
	switch {
	case r.Status == flows.StatusNotTLS:
		return ""
	case r.Transport == "quic":
		return "quic,ssl"
	case r.Transport == "dtls":
		return "dtls"
	case r.StartTLS != "":
		return strings.ToLower(r.StartTLS) + ",ssl"
	}
	return "ssl"
}

// connState is Zeek's conn_state from the packets that opened and closed
// the connection (Record.TCP); over UDP, whether both sides sent.
func connState(r *flows.Record) string {
	t := r.TCP
	if t == nil {
		switch {
		case r.ClientBytes > 0 && r.ServerBytes > 0:
			return "SF"
		case r.ClientBytes > 0:
			return "S0"
		}
		return "OTH"
	}
	syn, synack := !t.SYN.IsZero(), !t.SYNACK.IsZero()
	fin, rfin := !t.ClientFIN.IsZero(), !t.ServerFIN.IsZero()
	rst := !t.RST.IsZero()
	switch {
	case !syn:
		return "OTH" // picked up mid-stream
	case !synack && rst && t.RSTFrom == "server":
		return "REJ"
	case !synack:
		return "S0"
	case rst && t.RSTFrom == "client":
		return "RSTO"
	case rst:
		return "RSTR"
	case fin && rfin:
		return "SF"
	case fin:
		return "S2"
	case rfin:
		return "S3"
	}
	return "S1"
}

// connHistory is conn.log's history as far as the record tells it, in
// time order: S the SYN, h the SYN-ACK, D/d the first payload each way,
// F/f each side's FIN, R/r the reset (upper case the originator). Pure
// ACKs (A/a) and the letters of repeated events are not known.
func connHistory(r *flows.Record) string {
	type ev struct {
		at time.Time
		c  byte
	}
	var evs []ev
	add := func(t time.Time, c byte) {
		if !t.IsZero() {
			evs = append(evs, ev{t, c})
		}
	}
	if t := r.TCP; t != nil {
		add(t.SYN.Time, 'S')
		add(t.SYNACK.Time, 'h')
	}
	var cd, sd bool
	for _, m := range r.Messages {
		if m.From.String() == "client" && !cd {
			add(m.TS.Time, 'D')
			cd = true
		}
		if m.From.String() == "server" && !sd {
			add(m.TS.Time, 'd')
			sd = true
		}
	}
	if t := r.TCP; t != nil {
		add(t.ClientFIN.Time, 'F')
		add(t.ServerFIN.Time, 'f')
		if t.RSTFrom == "client" {
			add(t.RST.Time, 'R')
		} else if t.RSTFrom == "server" {
			add(t.RST.Time, 'r')
		}
	}
	// A stable insertion sort: a handful of events, and equal times keep
	// the order above (SYN before data before FIN).
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at.Before(evs[j-1].at); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	b := make([]byte, len(evs))
	for i, e := range evs {
		b[i] = e.c
	}
	return string(b)
}
