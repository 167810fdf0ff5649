package flows

import (
	"crypto/x509"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

func TestUnordered(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.conn(), h.conn()
	full12(b, "b.example", []byte{1}).close(reassembly.CloseFIN)
	full12(a, "a.example", []byte{1}).close(reassembly.CloseFIN)
	if len(h.recs) != 2 || h.recs[0].SNI != "b.example" {
		t.Errorf("live mode must emit as connections end")
	}
}

func TestUID(t *testing.T) {
	h1, h2 := newHarness(t, Config{}), newHarness(t, Config{})
	seen := map[string]bool{}
	for range 1000 {
		a, b := h1.conn(), h2.conn()
		if a.c.uid != b.c.uid {
			t.Fatalf("uid not stable: %q %q", a.c.uid, b.c.uid)
		}
		if seen[a.c.uid] {
			t.Fatalf("uid %q repeated", a.c.uid)
		}
		seen[a.c.uid] = true
		if a.c.uid[0] != 'C' || len(a.c.uid) > 12 {
			t.Fatalf("uid %q", a.c.uid)
		}
	}
}

// checkJSON asserts that v, marshalled, has every field of its type and no
// null but failure.
func checkJSON(t *testing.T, r *Record) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	walkJSON(t, "", reflect.TypeOf(Record{}), m)
}

func walkJSON(t *testing.T, path string, typ reflect.Type, v any) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		if typ == reflect.TypeOf(Time{}) {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", path, v)
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue // not part of the contract, not written
			}
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			fv, present := obj[name]
			if !present {
				if opts != "omitempty" {
					t.Errorf("%s.%s missing", path, name)
				}
				continue
			}
			if fv == nil {
				if path+"."+name != ".failure" {
					t.Errorf("%s.%s is null", path, name)
				}
				continue
			}
			walkJSON(t, path+"."+name, f.Type, fv)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", path, v)
			return
		}
		for i, e := range arr {
			walkJSON(t, path+"["+itoa(i)+"]", typ.Elem(), e)
		}
	}
}

func TestRecordJSONComplete(t *testing.T) {
	ca := newPKI(t, "Test Root CA")
	leaf := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 1, 0), "a.example")
	h := newHarness(t, Config{ReportNonTLS: true})
	recs := []*Record{
		h.conn().close(reassembly.CloseFIN), // not TLS
		full12(h.conn(), "a.example", leaf, ca.caDER).app(C, 10).close(reassembly.CloseFIN),
		h.conn().ch(ch12("a.example")).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure).close(reassembly.CloseFIN),
		h.conn().app(S, 10).close(reassembly.CloseEndOfInput),
		h.conn().ch(ch12("")).sh(sh12()).cert(S, leaf).cert(C, leaf).close(reassembly.CloseRST),
	}
	for i, r := range recs {
		if r == nil {
			t.Fatalf("record %d missing", i)
		}
		checkJSON(t, r)
		if r.Schema != Schema || r.UID == "" || r.Close == "" || r.TS.IsZero() || r.EndTS.IsZero() || r.Client.IP == "" {
			t.Errorf("record %d: header fields empty: %+v", i, r)
		}
		if (r.Status == StatusFailed) != (r.Failure != nil) {
			t.Errorf("record %d: status %q with failure %v", i, r.Status, r.Failure)
		}
	}
	r := recs[1]
	if r.Version != "TLS 1.2" || r.Cipher == "" || r.Curve != "secp256r1" || r.ALPN != "h2" ||
		strings.Join(r.ALPNOffered, ",") != "h2,http/1.1" || strings.Join(r.OfferedVersions, ",") != "TLS 1.2" ||
		len(r.Certificates) != 2 {
		t.Errorf("negotiation: %q %q %q %q %v %v certs %d", r.Version, r.Cipher, r.Curve, r.ALPN, r.ALPNOffered, r.OfferedVersions, len(r.Certificates))
	}
}

func TestOfferedVersions(t *testing.T) {
	ch := ch13("a")
	ch.SupportedVersions = []dissect.Version{0x2a2a, dissect.VersionTLS12, dissect.VersionTLS13, 0x7f1c, dissect.VersionTLS12}
	got := strings.Join(offeredVersions(ch), ",")
	if got != "TLS 1.3,TLS 1.3 draft 28,TLS 1.2" {
		t.Errorf("offered %q", got)
	}
}

func TestMessagesFolded(t *testing.T) {
	h := newHarness(t, Config{})
	s := full12(h.conn(), "a.example", []byte{1})
	for range 10 {
		s.app(C, 100)
	}
	s.app(S, 1000).app(S, 500).app(C, 1)
	r := s.close(reassembly.CloseFIN)
	n := len(r.Messages)
	tail := r.Messages[n-3:]
	want := []struct {
		from         string
		count, bytes int
	}{{"client", 10, 1000}, {"server", 2, 1500}, {"client", 1, 1}}
	for i, w := range want {
		m := tail[i]
		if m.Type.String() != "application_data" || m.From.String() != w.from || m.Count != w.count || m.Bytes != w.bytes {
			t.Errorf("message %d: %+v, want %+v", i, m, w)
		}
	}
	for _, m := range r.Messages[:n-3] {
		if m.Count != 1 || m.Bytes != m.Length {
			t.Errorf("unfolded message %+v has count/bytes wrong", m)
		}
	}
}

func TestMessagesBounded(t *testing.T) {
	h := newHarness(t, Config{})
	s := full12(h.conn(), "a.example", []byte{1})
	for range 3000 {
		s.app(C, 1).app(S, 1)
	}
	r := s.close(reassembly.CloseFIN)
	if len(r.Messages) != dissect.MaxMessages || !hasAnomaly(r, "messages_truncated") {
		t.Errorf("%d messages, anomalies %v", len(r.Messages), r.Anomalies)
	}
}

func TestValidation(t *testing.T) {
	ca := newPKI(t, "Test Root CA")
	roots := x509.NewCertPool()
	roots.AddCert(ca.ca)
	good := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 1, 0), "a.example")
	old := ca.leaf(t, base.AddDate(-1, 0, 0), base.AddDate(0, -1, 0), "a.example")
	future := ca.leaf(t, base.AddDate(0, 1, 0), base.AddDate(1, 0, 0), "a.example")
	tests := []struct {
		sni  string
		leaf []byte
		want string
	}{
		{"a.example", good, "ok"},
		{"b.example", good, "hostname_mismatch"},
		{"a.example", old, "expired"},
		{"a.example", future, "not_yet_valid"},
		{"a.example", selfSigned(t, "a.example"), "unknown_authority"},
		{"a.example", []byte{0x30, 0x03, 1, 2, 3}, "invalid"},
	}
	for _, tc := range tests {
		h := newHarness(t, Config{Roots: roots})
		r := full12(h.conn(), tc.sni, tc.leaf).close(reassembly.CloseFIN)
		if r.Validation != tc.want {
			t.Errorf("%s: validation %q, want %q", tc.sni, r.Validation, tc.want)
		}
	}
	h := newHarness(t, Config{})
	if r := full12(h.conn(), "a.example", good).close(reassembly.CloseFIN); r.Validation != "" {
		t.Errorf("validation %q without roots", r.Validation)
	}
}

func TestGapAndMidstreamAnomalies(t *testing.T) {
	h := newHarness(t, Config{})
	info := reassembly.ConnInfo{ID: 1, Client: h.conn().c.info.Client, Server: h.conn().c.info.Server, Start: base, RolesInferred: true}
	c := h.tr.New(info).(*conn)
	c.Anomaly(reassembly.Anomaly{Kind: reassembly.AnomalyMidstream, Timestamp: base})
	c.Gap(packet.FromClient, base.Add(time.Second), 1234)
	c.Anomaly(reassembly.Anomaly{Kind: reassembly.AnomalyRetransmission, Dir: packet.FromServer, Timestamp: base, Bytes: 10})
	c.Data(S, base, tlsRecord(dissect.ContentApplicationData, dissect.VersionTLS12, ciphertext(100)))
	c.Close(reassembly.CloseInfo{Reason: reassembly.CloseFIN, Timestamp: base.Add(2 * time.Second), Missing: [2]uint64{1234, 0}})
	h.tr.Flush()
	r := h.recs[len(h.recs)-1]
	if strings.Join(r.Anomalies, ",") != "midstream,gap,retransmission" {
		t.Errorf("anomalies %v", r.Anomalies)
	}
	if len(r.AnomalyDetails) != 3 || r.AnomalyDetails[1].Bytes != 1234 || r.AnomalyDetails[1].From != "client" {
		t.Errorf("details %+v", r.AnomalyDetails)
	}
	if r.MissingBytes != 1234 || r.Status != StatusIncomplete {
		t.Errorf("missing %d status %q", r.MissingBytes, r.Status)
	}
	if st := h.tr.Stats(); st.Anomalies["gap"] != 1 || st.Incomplete != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestStartTLS(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn()
	s.data(S, []byte("220 mail.example ESMTP\r\n")).data(C, []byte("EHLO x\r\n")).
		data(S, []byte("250-mail.example\r\n250 STARTTLS\r\n")).data(C, []byte("STARTTLS\r\n")).data(S, []byte("220 go ahead\r\n"))
	r := full12(s, "mail.example", []byte{1}).close(reassembly.CloseFIN)
	if r.StartTLS != "smtp" {
		t.Errorf("starttls %q", r.StartTLS)
	}
}

func TestStats(t *testing.T) {
	h := newHarness(t, Config{})
	full12(h.conn(), "a.example", []byte{1}).app(C, 1).close(reassembly.CloseFIN)
	ch := ch12("a.example")
	ch.SessionTicket = []byte("t")
	abbreviated12(h.conn(), ch, sh12()).close(reassembly.CloseFIN)
	h.conn().ch(ch12("a.example")).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure).close(reassembly.CloseFIN)
	h.conn().ch(ch12("a.example")).close(reassembly.CloseEndOfInput)
	h.conn().close(reassembly.CloseFIN) // no TLS
	st := h.tr.Stats()
	want := Stats{Connections: 5, TLS: 4, NotTLS: 1, Established: 2, Resumed: 1, Failed: 1, Incomplete: 1, Records: 4}
	if st.Connections != want.Connections || st.TLS != want.TLS || st.NotTLS != want.NotTLS || st.Established != want.Established ||
		st.Resumed != want.Resumed || st.Failed != want.Failed || st.Incomplete != want.Incomplete || st.Records != want.Records {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if st.Failures[ReasonNoSharedCipher] != 1 || len(st.Failures) != 1 {
		t.Errorf("failures %v", st.Failures)
	}
	// Stats hands out copies.
	st.Failures["x"] = 1
	if h.tr.Stats().Failures["x"] != 0 {
		t.Error("Stats shares its map")
	}
}
