package output

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/flows"
)

// jsonWriter writes one tlsdissect.flow/1 object per line with a
// hand-written appender: no reflection, one reused buffer, so a record
// costs no allocation once the buffer has grown (issue 8). Its output is
// byte for byte what encoding/json writes for the normalised record; a
// test and a fuzz target hold it to that.
type jsonWriter struct {
	w   io.Writer
	buf []byte
}

func newJSON(w io.Writer) *jsonWriter { return &jsonWriter{w: w, buf: make([]byte, 0, 4096)} }

func (j *jsonWriter) Write(r *flows.Record) error {
	j.buf = AppendRecordJSON(j.buf[:0], r)
	j.buf = append(j.buf, '\n')
	if _, err := j.w.Write(j.buf); err != nil {
		return err
	}
	return flush(j.w)
}

func (j *jsonWriter) Close() error { return flush(j.w) }

// normalize returns r as the contract writes it: nil slices as empty ones
// (every field present, [] rather than null), a missing schema filled in,
// and non-finite floats (which JSON cannot carry) as 0. r is not modified.
func normalize(r *flows.Record) *flows.Record {
	n := *r
	if n.Schema == "" {
		n.Schema = flows.Schema
	}
	if n.Transport == "" {
		n.Transport = "tcp" // a Record made by hand, not by a Tracker
	}
	n.ALPNOffered = nonNil(n.ALPNOffered)
	n.OfferedVersions = nonNil(n.OfferedVersions)
	n.Messages = nonNil(n.Messages)
	n.Certificates = normCerts(n.Certificates)
	n.ClientCertificates = normCerts(n.ClientCertificates)
	n.Alerts = nonNil(n.Alerts)
	n.RenegotiationAttempts = nonNil(n.RenegotiationAttempts)
	n.JA4X = nonNil(n.JA4X)
	n.Anomalies = nonNil(n.Anomalies)
	n.AnomalyDetails = nonNil(n.AnomalyDetails)
	n.SessionTicket.RedeemedAfter = finite(n.SessionTicket.RedeemedAfter)
	return &n
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func normCerts(cs []flows.Certificate) []flows.Certificate {
	out := make([]flows.Certificate, len(cs))
	for i, c := range cs {
		c.SAN = nonNil(c.SAN)
		out[i] = c
	}
	return out
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// MarshalRecord is the reference encoding of a record: encoding/json of
// the normalised record, without the trailing newline.
func MarshalRecord(r *flows.Record) ([]byte, error) { return json.Marshal(normalize(r)) }

// AppendRecordJSON appends the JSON object of r (schema tlsdissect.flow/1,
// every field present) to b. It writes what MarshalRecord writes.
func AppendRecordJSON(b []byte, r *flows.Record) []byte {
	schema := r.Schema
	if schema == "" {
		schema = flows.Schema
	}
	// Two caches: a certificate's dates are days apart from each other
	// and from the record's own times.
	var tc, cc timeCache
	b = append(b, `{"schema":`...)
	b = appendString(b, schema)
	b = append(b, `,"ts":`...)
	b = tc.append(b, r.TS)
	b = append(b, `,"end_ts":`...)
	b = tc.append(b, r.EndTS)
	b = append(b, `,"uid":`...)
	b = appendString(b, r.UID)
	b = append(b, `,"community_id":`...)
	b = appendString(b, r.CommunityID)
	b = append(b, `,"transport":`...)
	if r.Transport == "" {
		b = append(b, `"tcp"`...)
	} else {
		b = appendString(b, r.Transport)
	}
	b = append(b, `,"client":`...)
	b = appendEndpoint(b, r.Client)
	b = append(b, `,"server":`...)
	b = appendEndpoint(b, r.Server)
	b = append(b, `,"version":`...)
	b = appendString(b, r.Version)
	b = append(b, `,"cipher":`...)
	b = appendString(b, r.Cipher)
	b = append(b, `,"sni":`...)
	b = appendString(b, r.SNI)
	b = append(b, `,"alpn":`...)
	b = appendString(b, r.ALPN)
	b = append(b, `,"alpn_offered":`...)
	b = appendStrings(b, r.ALPNOffered)
	b = append(b, `,"offered_versions":`...)
	b = appendStrings(b, r.OfferedVersions)
	b = append(b, `,"curve":`...)
	b = appendString(b, r.Curve)
	b = append(b, `,"hello_retry_group":`...)
	b = appendString(b, r.HelloRetryGroup)
	b = append(b, `,"history":`...)
	b = appendString(b, r.History)
	b = append(b, `,"messages":[`...)
	for i := range r.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		m := &r.Messages[i]
		b = append(b, `{"ts":`...)
		b = tc.append(b, m.TS)
		b = append(b, `,"from":`...)
		b = appendString(b, m.From.String())
		b = append(b, `,"type":`...)
		b = appendString(b, m.Type.String())
		b = append(b, `,"length":`...)
		b = strconv.AppendInt(b, int64(m.Length), 10)
		b = append(b, `,"encrypted":`...)
		b = strconv.AppendBool(b, m.Encrypted)
		if m.Decrypted {
			b = append(b, `,"decrypted":true`...)
		}
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(m.Count), 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(m.Bytes), 10)
		b = append(b, '}')
	}
	b = append(b, `],"established":`...)
	b = strconv.AppendBool(b, r.Established)
	b = append(b, `,"resumed":`...)
	b = strconv.AppendBool(b, r.Resumed)
	b = append(b, `,"resumption":`...)
	b = appendString(b, r.Resumption)
	b = append(b, `,"resumed_from":`...)
	b = appendString(b, r.ResumedFrom)
	b = append(b, `,"early_data":`...)
	b = appendString(b, r.EarlyData)
	b = append(b, `,"renegotiations":`...)
	b = strconv.AppendInt(b, int64(r.Renegotiations), 10)
	b = append(b, `,"renegotiation_attempts":[`...)
	for i := range r.RenegotiationAttempts {
		if i > 0 {
			b = append(b, ',')
		}
		rn := &r.RenegotiationAttempts[i]
		b = append(b, `{"ts":`...)
		b = tc.append(b, rn.TS)
		b = append(b, `,"by":`...)
		b = appendString(b, rn.By)
		b = append(b, `,"done":`...)
		b = strconv.AppendBool(b, rn.Done)
		b = append(b, '}')
	}
	b = append(b, ']')
	t := &r.SessionTicket
	b = append(b, `,"session_ticket":{"offered":`...)
	b = strconv.AppendBool(b, t.Offered)
	b = append(b, `,"offered_length":`...)
	b = strconv.AppendInt(b, int64(t.OfferedLength), 10)
	b = append(b, `,"offered_sha256":`...)
	b = appendString(b, t.OfferedSHA256)
	b = append(b, `,"issued":`...)
	b = strconv.AppendBool(b, t.Issued)
	b = append(b, `,"renewed":`...)
	b = strconv.AppendBool(b, t.Renewed)
	b = append(b, `,"lifetime_hint":`...)
	b = strconv.AppendUint(b, uint64(t.LifetimeHint), 10)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, int64(t.Length), 10)
	b = append(b, `,"sha256":`...)
	b = appendString(b, t.SHA256)
	b = append(b, `,"issued_by":`...)
	b = appendString(b, t.IssuedBy)
	b = append(b, `,"redeemed_after":`...)
	b = appendFloat(b, t.RedeemedAfter)
	b = append(b, `,"lifetime_expired":`...)
	b = strconv.AppendBool(b, t.LifetimeExpired)
	b = append(b, `,"reused":`...)
	b = strconv.AppendBool(b, t.Reused)
	b = append(b, `},"certificates":`...)
	b = appendCerts(b, &cc, r.Certificates)
	b = append(b, `,"client_certificates":`...)
	b = appendCerts(b, &cc, r.ClientCertificates)
	b = append(b, `,"alerts":[`...)
	for i := range r.Alerts {
		if i > 0 {
			b = append(b, ',')
		}
		a := &r.Alerts[i]
		b = append(b, `{"ts":`...)
		b = tc.append(b, a.TS)
		b = append(b, `,"from":`...)
		b = appendString(b, a.From.String())
		b = append(b, `,"level":`...)
		b = appendString(b, a.Level)
		b = append(b, `,"description":`...)
		b = appendString(b, a.Description)
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(a.Code), 10)
		b = append(b, `,"encrypted":`...)
		b = strconv.AppendBool(b, a.Encrypted)
		if a.Inferred {
			b = append(b, `,"inferred":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `],"status":`...)
	b = appendString(b, r.Status)
	b = append(b, `,"failure":`...)
	if f := r.Failure; f == nil {
		b = append(b, `null`...)
	} else {
		b = append(b, `{"reason":`...)
		b = appendString(b, f.Reason)
		b = append(b, `,"by":`...)
		b = appendString(b, f.By)
		b = append(b, `,"alert":`...)
		b = appendString(b, f.Alert)
		b = append(b, `,"explanation":`...)
		b = appendString(b, f.Explanation)
		b = append(b, `,"confidence":`...)
		b = appendString(b, f.Confidence)
		b = append(b, `,"evidence":[`...)
		for i, e := range f.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		b = append(b, `],"hint":`...)
		b = appendString(b, f.Hint)
		b = append(b, '}')
	}
	b = append(b, `,"validation":`...)
	b = appendString(b, r.Validation)
	if r.Keys != "" {
		b = append(b, `,"keys":`...)
		b = appendString(b, r.Keys)
	}
	b = append(b, `,"starttls":`...)
	b = appendString(b, r.StartTLS)
	b = append(b, `,"ja3":`...)
	b = appendString(b, r.JA3)
	b = append(b, `,"ja3_string":`...)
	b = appendString(b, r.JA3String)
	b = append(b, `,"ja3s":`...)
	b = appendString(b, r.JA3S)
	b = append(b, `,"ja3s_string":`...)
	b = appendString(b, r.JA3SString)
	b = append(b, `,"ja4":`...)
	b = appendString(b, r.JA4)
	b = append(b, `,"ja4_r":`...)
	b = appendString(b, r.JA4R)
	b = append(b, `,"ja4s":`...)
	b = appendString(b, r.JA4S)
	b = append(b, `,"ja4s_r":`...)
	b = appendString(b, r.JA4SR)
	b = append(b, `,"ja4x":`...)
	b = appendStrings(b, r.JA4X)
	b = append(b, `,"anomalies":`...)
	b = appendStrings(b, r.Anomalies)
	b = append(b, `,"anomaly_details":[`...)
	for i := range r.AnomalyDetails {
		if i > 0 {
			b = append(b, ',')
		}
		a := &r.AnomalyDetails[i]
		b = append(b, `{"kind":`...)
		b = appendString(b, a.Kind)
		b = append(b, `,"from":`...)
		b = appendString(b, a.From)
		b = append(b, `,"ts":`...)
		b = tc.append(b, a.TS)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(a.Bytes), 10)
		b = append(b, `,"detail":`...)
		b = appendString(b, a.Detail)
		b = append(b, '}')
	}
	b = append(b, `],"close":`...)
	b = appendString(b, r.Close)
	b = append(b, `,"client_bytes":`...)
	b = strconv.AppendUint(b, r.ClientBytes, 10)
	b = append(b, `,"server_bytes":`...)
	b = strconv.AppendUint(b, r.ServerBytes, 10)
	b = append(b, `,"missing_bytes":`...)
	b = strconv.AppendUint(b, r.MissingBytes, 10)
	if t := r.TCP; t != nil {
		b = append(b, `,"tcp":{"syn":`...)
		b = tc.append(b, t.SYN)
		b = append(b, `,"syn_ack":`...)
		b = tc.append(b, t.SYNACK)
		b = append(b, `,"client_fin":`...)
		b = tc.append(b, t.ClientFIN)
		b = append(b, `,"server_fin":`...)
		b = tc.append(b, t.ServerFIN)
		b = append(b, `,"rst":`...)
		b = tc.append(b, t.RST)
		b = append(b, `,"rst_from":`...)
		b = appendString(b, t.RSTFrom)
		b = append(b, '}')
	}
	// The transports' own facts are rare next to TCP's records: encoded
	// by reflection, which gives the same bytes as MarshalRecord.
	if r.QUIC != nil {
		b = append(b, `,"quic":`...)
		b = appendMarshal(b, r.QUIC)
	}
	if r.DTLS != nil {
		b = append(b, `,"dtls":`...)
		b = appendMarshal(b, r.DTLS)
	}
	return append(b, '}')
}

// appendMarshal appends v as encoding/json writes it (null if it cannot).
func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func appendEndpoint(b []byte, e flows.Endpoint) []byte {
	b = append(b, `{"ip":`...)
	b = appendString(b, e.IP)
	b = append(b, `,"port":`...)
	b = strconv.AppendUint(b, uint64(e.Port), 10)
	return append(b, '}')
}

func appendCerts(b []byte, tc *timeCache, cs []flows.Certificate) []byte {
	b = append(b, '[')
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		c := &cs[i]
		b = append(b, `{"subject":`...)
		b = appendString(b, c.Subject)
		b = append(b, `,"issuer":`...)
		b = appendString(b, c.Issuer)
		b = append(b, `,"serial":`...)
		b = appendString(b, c.Serial)
		b = append(b, `,"not_before":`...)
		b = tc.append(b, c.NotBefore)
		b = append(b, `,"not_after":`...)
		b = tc.append(b, c.NotAfter)
		b = append(b, `,"san":`...)
		b = appendStrings(b, c.SAN)
		b = append(b, `,"sha256":`...)
		b = appendString(b, c.SHA256)
		b = append(b, `,"sha1":`...)
		b = appendString(b, c.SHA1)
		b = append(b, `,"md5":`...)
		b = appendString(b, c.MD5)
		b = append(b, `,"key":`...)
		b = appendString(b, c.Key)
		b = append(b, `,"key_exponent":`...)
		b = strconv.AppendInt(b, int64(c.KeyExponent), 10)
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(c.Version), 10)
		b = append(b, `,"ca":`...)
		b = strconv.AppendBool(b, c.CA)
		b = append(b, `,"signature_algorithm":`...)
		b = appendString(b, c.SignatureAlgorithm)
		b = append(b, `,"self_signed":`...)
		b = strconv.AppendBool(b, c.SelfSigned)
		if c.ParseError != "" {
			b = append(b, `,"parse_error":`...)
			b = appendString(b, c.ParseError)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendTime writes a flows.Time as its MarshalJSON does, with no cache
// (a timeCache of its own).
func appendTime(b []byte, t flows.Time) []byte {
	var c timeCache
	return c.append(b, t)
}

// timeCache remembers the date part of the last day a time was written on.
// A record's times (its messages, alerts, anomalies and TCP timings) nearly
// all fall on one day, and working out a calendar date is the dear part of
// formatting a time: with the date kept, a time costs a division of its
// Unix seconds and a few digits. The zero value is an empty cache; one is
// made per record, on the stack.
type timeCache struct {
	ok   bool
	day  int64    // Unix day (days since 1970-01-01, UTC) of date
	date [10]byte // "2006-01-02" of day
}

// digits2 holds "00" to "99", two bytes each.
const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// append writes t as flows.Time's MarshalJSON does. Layout is fixed-width,
// so the digits are written directly: time.AppendFormat re-parses the
// layout on every call, and a record has dozens of times.
func (c *timeCache) append(b []byte, t flows.Time) []byte {
	if t.IsZero() {
		return append(b, `""`...)
	}
	sec := t.Unix()
	day := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		day--
		rem += 86400
	}
	if !c.ok || c.day != day {
		year, month, mday := t.UTC().Date()
		if year < 0 || year > 9999 {
			// Outside RFC 3339's four digits: whatever AppendFormat does.
			b = append(b, '"')
			b = t.UTC().AppendFormat(b, flows.Layout)
			return append(b, '"')
		}
		c.ok, c.day = true, day
		d := &c.date
		hi, lo := year/100, year%100
		d[0], d[1] = digits2[2*hi], digits2[2*hi+1]
		d[2], d[3] = digits2[2*lo], digits2[2*lo+1]
		d[4] = '-'
		d[5], d[6] = digits2[2*int(month)], digits2[2*int(month)+1]
		d[7] = '-'
		d[8], d[9] = digits2[2*mday], digits2[2*mday+1]
	}
	hour, min, s := int(rem/3600), int(rem/60%60), int(rem%60)
	ns := t.Nanosecond()
	var d [32]byte // "2006-01-02T15:04:05.000000000Z" in quotes
	d[0] = '"'
	copy(d[1:11], c.date[:])
	d[11] = 'T'
	d[12], d[13] = digits2[2*hour], digits2[2*hour+1]
	d[14] = ':'
	d[15], d[16] = digits2[2*min], digits2[2*min+1]
	d[17] = ':'
	d[18], d[19] = digits2[2*s], digits2[2*s+1]
	d[20] = '.'
	// ns < 1e9: 9 digits as 1 + 4 pairs.
	for k := 29; k > 21; k -= 2 {
		q := ns % 100
		ns /= 100
		d[k-1], d[k] = digits2[2*q], digits2[2*q+1]
	}
	d[21] = byte('0' + ns)
	d[30] = 'Z'
	d[31] = '"'
	return append(b, d[:]...)
}

// appendFloat writes a float64 as encoding/json does (ES6 number
// formatting: 'f' in the usual range, 'e' with a short exponent outside).
func appendFloat(b []byte, f float64) []byte {
	f = finite(f)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsonPlain marks the bytes appendString copies as they are: printable
// ASCII other than the quote, the backslash and <, > and &. A read-only
// table, filled once.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plainPrefix8 returns a multiple of 8, n, such that s[:n] is all
// jsonPlain bytes; it stops at the first 8-byte word holding a byte that
// may not be (or at the last whole word). Each word is tested at once
// (SWAR): a byte is flagged if it is below 0x20, has its top bit set, or
// equals '"' or '&' (x|0x04 == 0x26 holds exactly for those two), '<' or
// '>' (x|0x02 == 0x3e), or '\\'. The tests can flag a good byte above a
// flagged one, never miss a bad one, so a word that passes is plain.
func plainPrefix8(s string) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	// zero reports, in its high bits, whether any byte of v is zero.
	zero := func(v uint64) uint64 { return (v - ones) &^ v & high }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		bad := x | (x-ones*0x20)&^x |
			zero((x|ones*0x04)^ones*0x26) |
			zero((x|ones*0x02)^ones*0x3e) |
			zero(x^ones*0x5c)
		if bad&high != 0 {
			break
		}
	}
	return i
}

// appendString writes s as a JSON string with encoding/json's default
// escaping: quotes and backslashes, control characters (\n, \r, \t, \b,
// \f short, the rest \u00XX), <, > and & as \u003c etc. (so the output is
// safe inside HTML), U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	// Nearly every string of a record is plain ASCII: find that out eight
	// bytes at a time, then one table lookup per byte, and copy it whole.
	i := 0
	if len(s) >= 8 {
		i = plainPrefix8(s)
	}
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
