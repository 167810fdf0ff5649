package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/internal/testgen"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// playCapture runs every connection of a generated capture through crypto/tls
// and feeds the recorded byte streams, as reassembly would, to one Tracker.
// It returns the Records by connection name.
func playCapture(t *testing.T, cp testgen.Capture, cfg Config) map[string]*Record {
	t.Helper()
	byID := map[uint64]string{}
	out := map[string]*Record{}
	var ids []uint64
	var pos uint64
	tr := NewTracker(cfg, func(r *Record) {
		for id, name := range byID {
			if r.ConnID() == id {
				out[name] = r
			}
		}
	})
	for i := range cp.Conns {
		cn := &cp.Conns[i]
		id := uint64(i + 1)
		byID[id] = cn.Name
		ids = append(ids, id)
		start := cp.Start.Add(cn.At)
		h := tr.New(reassembly.ConnInfo{ID: id, Client: cn.ClientAddr, Server: cn.ServerAddr, Start: start})
		ts := start
		var delivered [2]uint64
		reason := reassembly.CloseFIN
		_, err := cn.Record(start, func(ev testgen.Event) {
			ts = ts.Add(time.Millisecond)
			pos++
			tr.At(pos)
			switch ev.Kind {
			case testgen.EventData:
				h.Data(packet.Dir(ev.From), ts, ev.Data)
				delivered[ev.From] += uint64(len(ev.Data))
			case testgen.EventRST:
				reason = reassembly.CloseRST
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", cn.Name, err)
		}
		pos++
		tr.At(pos)
		h.Close(reassembly.CloseInfo{Reason: reason, Timestamp: ts, Delivered: delivered})
		tr.Flush()
	}
	return out
}

func connByName(cp testgen.Capture, name string) *testgen.Conn {
	for i := range cp.Conns {
		if cp.Conns[i].Name == name {
			return &cp.Conns[i]
		}
	}
	return nil
}

// TestRealHandshakes dissects real crypto/tls conversations (the
// generator's scenarios) and checks each connection's story.
func TestRealHandshakes(t *testing.T) {
	cat, err := testgen.NewCatalog(testgen.DefaultSeed, testgen.DefaultStart())
	if err != nil {
		t.Fatal(err)
	}
	caps, err := cat.Captures()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status, version, reason, resumption, history string
		resumedFrom                                  string // name of the connection resumed
		issued                                       bool
	}
	wants := map[string]want{
		"tls12-ticket":                   {status: StatusEstablished, version: "TLS 1.2", history: "CsxknGIti", issued: true},
		"tls12-ticket-resumed/1":         {status: StatusEstablished, version: "TLS 1.2", issued: true},
		"tls12-ticket-resumed/2":         {status: StatusResumed, version: "TLS 1.2", resumption: "ticket", resumedFrom: "tls12-ticket-resumed/1"},
		"tls12-sessionid-resumed/1":      {status: StatusEstablished, version: "TLS 1.2"},
		"tls12-sessionid-resumed/2":      {status: StatusResumed, version: "TLS 1.2", resumption: "session_id", resumedFrom: "tls12-sessionid-resumed/1"},
		"tls13-full":                     {status: StatusEstablished, version: "TLS 1.3"},
		"tls13-psk-resumed/1":            {status: StatusEstablished, version: "TLS 1.3"},
		"tls13-psk-resumed/2":            {status: StatusResumed, version: "TLS 1.3", resumption: "psk"},
		"tls13-hrr":                      {status: StatusEstablished, version: "TLS 1.3", history: "Cj"},
		"fail-version":                   {status: StatusFailed, reason: ReasonProtocolVersionMismatch},
		"fail-cipher":                    {status: StatusFailed, reason: ReasonNoSharedCipher},
		"fail-untrusted":                 {status: StatusFailed, version: "TLS 1.2", reason: ReasonBadCertificate},
		"fail-untrusted-tls13":           {status: StatusFailed, version: "TLS 1.3", reason: ReasonBadCertificate},
		"fail-expired":                   {status: StatusFailed, version: "TLS 1.2", reason: ReasonCertificateExpired},
		"fail-notyetvalid":               {status: StatusFailed, version: "TLS 1.2", reason: ReasonCertificateNotYetValid},
		"fail-selfsigned":                {status: StatusFailed, version: "TLS 1.2", reason: ReasonSelfSignedCertificate},
		"fail-hostname":                  {status: StatusFailed, version: "TLS 1.2", reason: ReasonHostnameMismatch},
		"fail-weak-key":                  {status: StatusFailed, version: "TLS 1.2", reason: ReasonWeakKey},
		"fail-sha1":                      {status: StatusFailed, version: "TLS 1.2", reason: ReasonWeakSignature},
		"fail-eku":                       {status: StatusFailed, version: "TLS 1.2", reason: ReasonKeyUsage},
		"fail-incomplete-chain":          {status: StatusFailed, version: "TLS 1.2", reason: ReasonIncompleteChain},
		"fail-after-handshake":           {status: StatusFailed, version: "TLS 1.2", reason: ReasonHostnameMismatch},
		"fail-expired-seen/1":            {status: StatusFailed, version: "TLS 1.2", reason: ReasonCertificateExpired},
		"fail-expired-seen/2":            {status: StatusFailed, version: "TLS 1.3", reason: ReasonCertificateExpired},
		"fail-clientcert-required":       {status: StatusFailed, version: "TLS 1.2", reason: ReasonClientCertRequired},
		"fail-clientcert-required-tls13": {status: StatusFailed, version: "TLS 1.3", reason: ReasonClientCertRequired},
		"fail-alpn":                      {status: StatusFailed, reason: ReasonNoApplicationProtocol},
		"fail-client-abort":              {status: StatusFailed, version: "TLS 1.3", reason: ReasonAbortedByClient},
		"mtls":                           {status: StatusEstablished, version: "TLS 1.2", history: "CsxkrnXGYIi"},
		"record-split":                   {status: StatusEstablished, version: "TLS 1.2"},
		"handshake-split":                {status: StatusEstablished, version: "TLS 1.2"},
		"starttls-smtp":                  {status: StatusEstablished, version: "TLS 1.3"},
		"multi/tls13":                    {status: StatusEstablished, version: "TLS 1.3"},
		"multi/tls12":                    {status: StatusEstablished, version: "TLS 1.2", issued: true},
		// The same name was served a trusted certificate earlier in this
		// capture: a different, rejected one is no interception by
		// itself (two genuine certificates of one service are common).
		"multi/untrusted":     {status: StatusFailed, version: "TLS 1.2", reason: ReasonBadCertificate},
		"multi/version":       {status: StatusFailed, reason: ReasonProtocolVersionMismatch},
		"multi/expired":       {status: StatusFailed, version: "TLS 1.2", reason: ReasonCertificateExpired},
		"multi/alpn":          {status: StatusFailed, reason: ReasonNoApplicationProtocol},
		"multi/mtls":          {status: StatusEstablished, version: "TLS 1.2"},
		"multi/rst":           {status: StatusEstablished, version: "TLS 1.3"},
		"multi/abort":         {status: StatusFailed, version: "TLS 1.3", reason: ReasonAbortedByClient},
		"multi/tls13-resumed": {status: StatusResumed, version: "TLS 1.3", resumption: "psk"},
		"multi/tls12-resumed": {status: StatusResumed, version: "TLS 1.2", resumption: "ticket", resumedFrom: "multi/tls12"},
	}
	seen := map[string]bool{}
	for _, cp := range caps {
		if cp.Conns[0].Impair != (testgen.Impairment{}) {
			continue
		}
		recs := playCapture(t, cp, Config{})
		if strings.HasPrefix(cp.Name, "multi") {
			if _, ok := recs["multi/http"]; ok {
				t.Error("multi/http: a plaintext connection was reported")
			}
		}
		for _, cn := range cp.Conns {
			w, ok := wants[cn.Name]
			if !ok {
				continue
			}
			seen[cn.Name] = true
			r := recs[cn.Name]
			if r == nil {
				t.Errorf("%s: no record", cn.Name)
				continue
			}
			checkJSON(t, r)
			reason := ""
			if r.Failure != nil {
				reason = r.Failure.Reason
			}
			if r.Status != w.status || reason != w.reason || (w.version != "" && r.Version != w.version) || r.Resumption != w.resumption {
				t.Errorf("%s: status %q reason %q version %q resumption %q; want %q %q %q %q (history %q, failure %+v, alerts %+v)",
					cn.Name, r.Status, reason, r.Version, r.Resumption, w.status, w.reason, w.version, w.resumption, r.History, r.Failure, r.Alerts)
			}
			if !strings.HasPrefix(r.History, w.history) || (len(w.history) > 2 && r.History != w.history) {
				t.Errorf("%s: history %q, want %q", cn.Name, r.History, w.history)
			}
			if w.resumedFrom != "" && (recs[w.resumedFrom] == nil || r.ResumedFrom != recs[w.resumedFrom].UID) {
				t.Errorf("%s: resumed_from %q", cn.Name, r.ResumedFrom)
			}
			if w.issued && !r.SessionTicket.Issued {
				t.Errorf("%s: no ticket issued", cn.Name)
			}
			if r.Failure != nil {
				t.Logf("%s: %s: %s", cn.Name, r.Failure.Reason, r.Failure.Explanation)
			}
			if testing.Verbose() {
				for _, m := range r.Messages {
					t.Logf("  %s %s %s len=%d enc=%v n=%d", cn.Name, m.From, m.Type, m.Length, m.Encrypted, m.Count)
				}
			}
		}
	}
	if len(seen) != len(wants) {
		t.Errorf("checked %d connections, want %d", len(seen), len(wants))
	}
}

// TestRealValidation checks the trust-store verdict and its use as evidence.
func TestRealValidation(t *testing.T) {
	cat, err := testgen.NewCatalog(testgen.DefaultSeed, testgen.DefaultStart())
	if err != nil {
		t.Fatal(err)
	}
	caps, err := cat.Captures()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"tls12-ticket":     {"ok", ""},
		"fail-untrusted":   {"unknown_authority", ReasonUnknownCA},
		"fail-expired":     {"expired", ReasonCertificateExpired},
		"fail-notyetvalid": {"not_yet_valid", ReasonCertificateNotYetValid},
		"fail-hostname":    {"hostname_mismatch", ReasonHostnameMismatch},
		// The client's verdict outranks the trust store's.
		"fail-weak-key":         {"ok", ReasonWeakKey},
		"fail-sha1":             {"unknown_authority", ReasonWeakSignature}, // crypto/x509 will not check SHA-1
		"fail-eku":              {"ok", ReasonKeyUsage},
		"fail-incomplete-chain": {"unknown_authority", ReasonIncompleteChain},
	}
	n := 0
	for _, cp := range caps {
		if _, ok := want[cp.Conns[0].Name]; !ok || len(cp.Conns) != 1 || cp.Conns[0].Impair != (testgen.Impairment{}) {
			continue
		}
		name := cp.Conns[0].Name
		r := playCapture(t, cp, Config{Roots: cat.PKI.Roots})[name]
		w := want[name]
		reason := ""
		if r.Failure != nil {
			reason = r.Failure.Reason
		}
		if r.Validation != w[0] || reason != w[1] {
			t.Errorf("%s: validation %q reason %q, want %q %q", name, r.Validation, reason, w[0], w[1])
		}
		n++
	}
	if n != len(want) {
		t.Errorf("checked %d, want %d", n, len(want))
	}
}
