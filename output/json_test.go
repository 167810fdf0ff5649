package output

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// TestJSONEncodersAgree holds the hand-written appender to the reference
// encoding (encoding/json of the normalised record), byte for byte.
func TestJSONEncodersAgree(t *testing.T) {
	recs := fixtures()
	// An empty record: every slice nil, no schema, no failure.
	recs = append(recs, &flows.Record{})
	// Odd floats and a certificate with a parse error and nil SAN.
	odd := *recs[1]
	odd.SessionTicket.RedeemedAfter = 1e-9
	odd.Certificates = []flows.Certificate{{Subject: "x", ParseError: "asn1: syntax error"}}
	recs = append(recs, &odd)
	for _, f := range []float64{0, 1, -1, 0.1, 4.2, 1e20, 1e21, 123456789.125, 1e-6, 9.99e-7, math.NaN(), math.Inf(1), -math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		r := *recs[1]
		r.SessionTicket.RedeemedAfter = f
		recs = append(recs, &r)
	}
	for i, r := range recs {
		want, err := MarshalRecord(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		got := AppendRecordJSON(nil, r)
		if !bytes.Equal(got, want) {
			t.Errorf("record %d: encoders differ:\n%s", i, diff(string(want), string(got)))
		}
	}
}

// TestJSONEveryFieldPresent checks that nil slices are written as [] and
// that the empty record still has every field of the contract.
func TestJSONEveryFieldPresent(t *testing.T) {
	line := AppendRecordJSON(nil, &flows.Record{})
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"alpn_offered", "offered_versions", "messages", "certificates", "client_certificates", "alerts", "ja4x", "anomalies", "anomaly_details"} {
		v, ok := m[k].([]any)
		if !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", k, m[k])
		}
	}
	if m["schema"] != flows.Schema {
		t.Errorf("schema = %v", m["schema"])
	}
	if m["failure"] != nil {
		t.Errorf("failure = %v, want null", m["failure"])
	}
	if m["ts"] != "" {
		t.Errorf("zero ts = %v, want \"\"", m["ts"])
	}
}

// TestJSONHostile checks every JSON format stays valid JSON that decodes
// back to the (UTF-8 repaired) wire string, with no raw control byte.
func TestJSONHostile(t *testing.T) {
	hostile := []string{hostileSNI, "\x00\x01\x1f\x7f", "\xff\xfe\xfd", "\u2028\u2029", `"quoted" \back\slash`, "</script><script>alert(1)</script>", "\xed\xa0\x80"}
	for _, h := range hostile {
		r := fixtures()[0]
		r.SNI, r.ALPN, r.UID = h, h, h
		r.Certificates[0].Subject = h
		r.Failure = &flows.Failure{Reason: "other", Explanation: h}
		for _, f := range []string{"json", "ecs", "zeek-json"} {
			out := render(t, f, Options{}, []*flows.Record{r})
			if bytes.Count(out, []byte("\n")) != 1 {
				t.Errorf("%s: %q is not one line", f, out)
			}
			for _, c := range out[:len(out)-1] {
				if c < 0x20 {
					t.Errorf("%s: raw control byte %#x in output", f, c)
				}
			}
			if bytes.Contains(out, []byte("<")) {
				t.Errorf("%s: raw '<' in output (not safe to embed in HTML)", f)
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("%s: invalid JSON for %q: %v\n%s", f, h, err, out)
			}
			want := strings.ToValidUTF8(h, "\ufffd")
			var got any
			switch f {
			case "json":
				got = m["sni"]
			case "ecs":
				got = m["tls"].(map[string]any)["client"].(map[string]any)["server_name"]
			case "zeek-json":
				got = m["server_name"]
			}
			// ToValidUTF8 folds a run of bad bytes into one U+FFFD;
			// encoding/json writes one per byte. Compare without them.
			if strings.ReplaceAll(got.(string), "\ufffd", "") != strings.ReplaceAll(want, "\ufffd", "") {
				t.Errorf("%s: server name %q, want %q", f, got, want)
			}
		}
	}
}

func TestAppendTimeMatchesMarshal(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 14, 9, 26, 53, 0, time.FixedZone("x", -7*3600)),
		time.Unix(0, 0),
	} {
		want, err := flows.Time{Time: tm}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := appendTime(nil, flows.Time{Time: tm}); string(got) != string(want) {
			t.Errorf("%v: %s, want %s", tm, got, want)
		}
	}
}

func TestJSONNoAllocs(t *testing.T) {
	r := fixtures()[0]
	var sink discard
	w := newJSON(&sink)
	_ = w.Write(r)
	if n := testing.AllocsPerRun(100, func() { _ = w.Write(r) }); n != 0 {
		t.Errorf("json Write allocates %.0f times per record", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func FuzzJSONAgree(f *testing.F) {
	f.Add("www.example.com", "h2", "CN=x", 4.2, int64(0))
	f.Add(hostileSNI, "\x00\u2028", "\xff<&>", 1e-7, int64(-1))
	f.Add("", "", "", math.Inf(1), int64(1<<62))
	f.Fuzz(func(t *testing.T, sni, alpn, subject string, after float64, ns int64) {
		r := fixtures()[0]
		r.SNI, r.ALPN, r.Certificates[0].Subject, r.Certificates[0].SAN = sni, alpn, subject, nil
		r.SessionTicket.RedeemedAfter = after
		r.Messages[0].TS = flows.Time{Time: time.Unix(0, ns)}
		want, err := MarshalRecord(r)
		if err != nil {
			// Times outside year 0-9999 do not format as RFC 3339;
			// encoding/json then fails and so may we.
			return
		}
		if got := AppendRecordJSON(nil, r); !bytes.Equal(got, want) {
			t.Errorf("encoders differ:\n%s", diff(string(want), string(got)))
		}
	})
}

func BenchmarkJSON(b *testing.B) {
	r := fixtures()[0]
	w := newJSON(discard{})
	b.SetBytes(int64(len(AppendRecordJSON(nil, r)) + 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONReference measures encoding/json on the same record, for
// comparison with BenchmarkJSON.
func BenchmarkJSONReference(b *testing.B) {
	r := fixtures()[0]
	b.SetBytes(int64(len(AppendRecordJSON(nil, r)) + 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalRecord(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTable(b *testing.B) {
	recs := fixtures()
	b.ReportAllocs()
	for b.Loop() {
		w := newTable(discard{}, Options{})
		for _, r := range recs {
			_ = w.Write(r)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlainPrefix8 checks the word-at-a-time test against the table: for
// every byte value at every position of a word of plain bytes, the prefix
// it reports is all plain and stops before the word holding a bad byte.
func TestPlainPrefix8(t *testing.T) {
	base := []byte("abcdefgh01234567ABCDEFGH")
	for c := 0; c < 256; c++ {
		for pos := range base {
			s := bytes.Clone(base)
			s[pos] = byte(c)
			n := plainPrefix8(string(s))
			want := len(s) / 8 * 8
			if !jsonPlain[c] {
				want = pos / 8 * 8
			}
			if n != want {
				t.Fatalf("byte %#x at %d: prefix %d, want %d", c, pos, n, want)
			}
		}
	}
	// A bad byte below a good one must not hide it: pairs of values.
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			s := string([]byte{'x', 'x', 'x', byte(a), byte(b), 'x', 'x', 'x'})
			plain := jsonPlain[a] && jsonPlain[b]
			if got := plainPrefix8(s) == 8; got != plain {
				t.Fatalf("%#x %#x: plain %v, want %v", a, b, got, plain)
			}
		}
	}
}

// TestTimeCacheMatchesMarshal writes a run of times through one cache, as
// a record does: the same day, the next, back again, before 1970 and
// outside four-digit years, each as MarshalJSON writes it.
func TestTimeCacheMatchesMarshal(t *testing.T) {
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	var times []time.Time
	for _, base := range []time.Time{day, day.AddDate(0, 0, 1), day, time.Unix(0, 0), time.Unix(-86400, 0),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)} {
		for _, off := range []time.Duration{0, 1, time.Second + 7, time.Hour*23 + time.Minute*59 + time.Second*59 + 999999999, -1} {
			times = append(times, base.Add(off), base.Add(off).In(time.FixedZone("x", 5*3600)))
		}
	}
	var c timeCache
	for _, tm := range times {
		want, err := flows.Time{Time: tm}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.append(nil, flows.Time{Time: tm}); string(got) != string(want) {
			t.Errorf("%v: %s, want %s", tm, got, want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513,29-23-24,0"
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

func BenchmarkAppendTime(b *testing.B) {
	ts := flows.Time{Time: time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)}
	buf := make([]byte, 0, 64)
	b.SetBytes(32)
	b.ReportAllocs()
	for b.Loop() {
		var c timeCache
		for range 8 { // a record's run of times on one day
			buf = c.append(buf[:0], ts)
		}
	}
}
