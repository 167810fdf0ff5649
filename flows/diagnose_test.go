package flows

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// TestFailureReasons plays a failing handshake for every failure reason and
// checks the diagnosis weighs the evidence, not the alert code alone.
func TestFailureReasons(t *testing.T) {
	ca := newPKI(t, "Test Root CA")
	mitm := newPKI(t, "FortiGate CA")
	valid := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), "www.example.com")
	expired := ca.leaf(t, base.AddDate(-1, 0, 0), base.AddDate(0, 0, -268), "www.example.com")
	notYet := ca.leaf(t, base.AddDate(0, 0, 10), base.AddDate(1, 0, 0), "www.example.com")
	self := selfSigned(t, "www.example.com")
	intercepted := mitm.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), "www.example.com")
	clientCert := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), "client.example.com")

	// serverFlight12 plays a TLS 1.2 server's first flight with chain.
	serverFlight12 := func(s *script, sni string, chain []byte) *script {
		return s.ch(ch12(sni)).sh(sh12()).cert(S, chain, ca.caDER).ske().hs(S, dissect.TypeServerHelloDone)
	}
	tests := []struct {
		name    string
		play    func(h *harness) *script
		reason  string
		by      string
		explain string // a fragment the explanation must hold
		close   reassembly.CloseReason
	}{
		{"protocol_version alert", func(h *harness) *script {
			return h.conn().ch(chLegacy(dissect.VersionTLS10)).alert(S, dissect.AlertFatal, dissect.AlertProtocolVersion)
		}, ReasonProtocolVersionMismatch, "server", "at most TLS 1.0", 0},
		{"tls1.0-1.1 client answered internal_error", func(h *harness) *script {
			ch := chLegacy(dissect.VersionTLS11)
			ch.SupportedVersions = []dissect.Version{dissect.VersionTLS11, dissect.VersionTLS10}
			return h.conn().ch(ch).alert(S, dissect.AlertFatal, dissect.AlertInternalError)
		}, ReasonProtocolVersionMismatch, "server", "TLS 1.0–1.1 only", 0},
		{"tls1.1 client answered handshake_failure", func(h *harness) *script {
			return h.conn().ch(chLegacy(dissect.VersionTLS11)).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, ReasonProtocolVersionMismatch, "server", "require TLS 1.2", 0},
		{"client refuses the version chosen", func(h *harness) *script {
			sh := sh12()
			sh.LegacyVersion = dissect.VersionTLS10
			return h.conn().ch(ch12("www.example.com")).sh(sh).alert(C, dissect.AlertFatal, dissect.AlertProtocolVersion)
		}, ReasonProtocolVersionMismatch, "client", "TLS 1.0", 0},
		{"handshake_failure to a modern client", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, ReasonNoSharedCipher, "server", "3 cipher suites", 0},
		{"insufficient_security", func(h *harness) *script {
			return h.conn().ch(ch13("www.example.com")).alert(S, dissect.AlertFatal, dissect.AlertInsufficientSecurity)
		}, ReasonNoSharedCipher, "server", "insufficient_security", 0},
		{"expired certificate", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", expired).alert(C, dissect.AlertFatal, dissect.AlertCertificateExpired)
		}, ReasonCertificateExpired, "client", "268 days before the capture", 0},
		{"expired certificate answered bad_certificate", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", expired).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, ReasonCertificateExpired, "client", "expired", 0},
		{"not yet valid answered bad_certificate (OpenSSL)", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", notYet).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, ReasonCertificateNotYetValid, "client", "10 days after the capture", 0},
		{"valid certificate called expired", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).alert(C, dissect.AlertFatal, dissect.AlertCertificateExpired)
		}, ReasonClientClockSkew, "client", "clock", 0},
		{"unknown ca", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, ReasonUnknownCA, "client", "Test Root CA", 0},
		{"self-signed", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", self).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, ReasonSelfSignedCertificate, "client", "self-signed", 0},
		{"self-signed answered certificate_unknown", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", self).alert(C, dissect.AlertFatal, dissect.AlertCertificateUnknown)
		}, ReasonSelfSignedCertificate, "client", "certificate_unknown", 0},
		{"hostname mismatch answered bad_certificate (OpenSSL)", func(h *harness) *script {
			return serverFlight12(h.conn(), "mail.example.org", valid).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, ReasonHostnameMismatch, "client", "mail.example.org", 0},
		{"bad certificate otherwise fine", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, ReasonBadCertificate, "client", "within its validity", 0},
		{"interception product issuer", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", intercepted).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, ReasonInterceptionSuspected, "client", "FortiGate", 0},
		{"interception: another leaf for the same name", func(h *harness) *script {
			serverFlight12(h.conn(), "www.example.com", valid).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).
				close(reassembly.CloseFIN)
			other := newPKI(t, "Corp Root")
			return serverFlight12(h.conn(), "www.example.com", other.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 1, 0), "www.example.com")).
				alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, ReasonUnknownCA, "client", "Corp Root", 0},
		{"client certificate required, none sent", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).sh(sh12()).cert(S, valid).ske().hs(S, dissect.TypeCertificateRequest).
				hs(S, dissect.TypeServerHelloDone).cert(C).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).
				alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, ReasonClientCertRequired, "server", "sent none", 0},
		{"certificate_required alert", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).sh(sh12()).cert(S, valid).alert(S, dissect.AlertFatal, dissect.AlertCertificateRequired)
		}, ReasonClientCertRequired, "server", "certificate_required", 0},
		{"client certificate untrusted", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).sh(sh12()).cert(S, valid).ske().hs(S, dissect.TypeCertificateRequest).
				hs(S, dissect.TypeServerHelloDone).cert(C, clientCert).hs(C, dissect.TypeClientKeyExchange).
				hs(C, dissect.TypeCertificateVerify).ccs(C).encFin(C).alert(S, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, ReasonClientCertUntrusted, "server", "unknown_ca", 0},
		{"unrecognized name", func(h *harness) *script {
			return h.conn().ch(ch12("nothere.example.com")).alert(S, dissect.AlertFatal, dissect.AlertUnrecognizedName)
		}, ReasonUnrecognizedName, "server", "nothere.example.com", 0},
		{"no application protocol", func(h *harness) *script {
			return h.conn().ch(ch13("www.example.com")).alert(S, dissect.AlertFatal, dissect.AlertNoApplicationProtocol)
		}, ReasonNoApplicationProtocol, "server", "h2, http/1.1", 0},
		{"inappropriate fallback", func(h *harness) *script {
			return h.conn().ch(chLegacy(dissect.VersionTLS11)).alert(S, dissect.AlertFatal, dissect.AlertInappropriateFallback)
		}, ReasonInappropriateFallback, "server", "TLS_FALLBACK_SCSV", 0},
		{"decode_error alert", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).alert(S, dissect.AlertFatal, dissect.AlertDecodeError)
		}, ReasonDecodeError, "server", "decode_error", 0},
		{"our parser found the hello malformed", func(h *harness) *script {
			// A ServerHello cut short after its version and a byte of random.
			return h.conn().ch(ch12("www.example.com")).msg(S, dissect.TypeServerHello, []byte{3, 3, 0}).
				alert(C, dissect.AlertFatal, dissect.AlertIllegalParameter)
		}, ReasonDecodeError, "client", "did not parse", 0},
		{"client closes after the certificate", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid)
		}, ReasonAbortedByClient, "client", "rejected the certificate silently", reassembly.CloseFIN},
		{"client resets after the tls13 flight", func(h *harness) *script {
			return h.conn().ch(ch13("www.example.com")).sh(sh13()).ccs(S).app(S, 3000)
		}, ReasonAbortedByClient, "client", "reset", reassembly.CloseRST},
		{"server answers with bytes that are not TLS", func(h *harness) *script {
			s := h.conn().ch(ch12("www.example.com"))
			s.extra[1] = 7
			return s
		}, ReasonDecodeError, "server", "7 bytes that do not parse as TLS", reassembly.CloseFIN},
		{"heartbleed instead of a key exchange", func(h *harness) *script {
			// heartbeat_request (RFC 6520 4) claiming 16384 payload bytes
			// and carrying none.
			return h.conn().ch(ch12("www.example.com")).sh(sh12()).cert(S, valid).hs(S, dissect.TypeServerHelloDone).
				rec(C, dissect.ContentHeartbeat, []byte{1, 0x40, 0x00})
		}, ReasonOther, "client", "Heartbleed", reassembly.CloseFIN},
		{"client closes with close_notify after the certificate", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).alert(C, dissect.AlertWarning, dissect.AlertCloseNotify)
		}, ReasonAbortedByClient, "client", "close_notify after the server's certificate", reassembly.CloseFIN},
		{"a warning that the handshake went past is no cause", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com")).sh(sh12()).alert(S, dissect.AlertWarning, dissect.AlertUnrecognizedName).cert(S, valid).
				ske().hs(S, dissect.TypeServerHelloDone)
		}, ReasonAbortedByClient, "client", "silently", reassembly.CloseFIN},
		{"server never answers", func(h *harness) *script {
			return h.conn().ch(ch12("www.example.com"))
		}, ReasonAbortedByServer, "server", "no answer from the server", reassembly.CloseFIN},
		{"server drops after the key exchange", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C)
		}, ReasonAbortedByServer, "server", "after the client's key exchange", reassembly.CloseRST},
		{"other alert", func(h *harness) *script {
			return serverFlight12(h.conn(), "www.example.com", valid).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).
				alert(S, dissect.AlertFatal, dissect.AlertBadRecordMAC)
		}, ReasonOther, "server", "bad_record_mac", 0},
		{"tls13 client encrypted alert after the server flight", func(h *harness) *script {
			return h.conn().ch(ch13("www.example.com")).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 19)
		}, ReasonBadCertificate, "client", "the alert is encrypted", reassembly.CloseFIN},
		{"tls13 server encrypted alert after a small client flight", func(h *harness) *script {
			// An empty Certificate (25 bytes), then the Finished.
			return h.conn().ch(ch13("www.example.com")).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 25).encFin(C).app(S, 19)
		}, ReasonClientCertRequired, "server", "probably", reassembly.CloseFIN},
		{"tls13 server encrypted alert after a client certificate", func(h *harness) *script {
			return h.conn().ch(ch13("www.example.com")).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 1400).app(S, 19)
		}, ReasonClientCertUntrusted, "server", "probably", reassembly.CloseFIN},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.reason] = true
	}
	for _, r := range allReasons {
		if !covered[r] {
			t.Errorf("no case diagnoses %q", r)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			s := tc.play(h)
			cr := tc.close
			if cr == 0 {
				cr = reassembly.CloseFIN
			}
			r := s.close(cr)
			if r == nil {
				t.Fatal("no record")
			}
			if r.Status != StatusFailed || r.Failure == nil {
				t.Fatalf("status %q failure %+v, want failed", r.Status, r.Failure)
			}
			f := r.Failure
			if f.Reason != tc.reason || f.By != tc.by {
				t.Errorf("reason %q by %q, want %q by %q (%s)", f.Reason, f.By, tc.reason, tc.by, f.Explanation)
			}
			if !strings.Contains(f.Explanation, tc.explain) {
				t.Errorf("explanation %q lacks %q", f.Explanation, tc.explain)
			}
			if r.Established {
				t.Error("a failed handshake marked established")
			}
			if got := h.tr.Stats().Failures[tc.reason]; got != 1 {
				t.Errorf("stats count %d failures of %q, want 1", got, tc.reason)
			}
			checkCalibrated(t, r)
		})
	}
}

// TestStatus covers the outcomes other than failure.
func TestStatus(t *testing.T) {
	tests := []struct {
		name  string
		play  func(s *script) *script
		close reassembly.CloseReason
		want  string
		est   bool
	}{
		{"tls12 full", func(s *script) *script { return full12(s, "a.example", []byte{1}).app(C, 10).app(S, 10) }, reassembly.CloseFIN, StatusEstablished, true},
		{"tls13", func(s *script) *script {
			return s.ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 53).app(C, 300).app(S, 900)
		}, reassembly.CloseFIN, StatusEstablished, true},
		{"tls13 established then closes with an alert", func(s *script) *script {
			return s.ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 53).app(C, 300).app(S, 900).app(C, 19)
		}, reassembly.CloseFIN, StatusEstablished, true},
		{"capture ended mid handshake", func(s *script) *script { return s.ch(ch12("a.example")).sh(sh12()) }, reassembly.CloseEndOfInput, StatusIncomplete, false},
		{"idle mid handshake", func(s *script) *script { return s.ch(ch12("a.example")) }, reassembly.CloseIdle, StatusIncomplete, false},
		{"a gap hid the end", func(s *script) *script {
			s.ch(ch12("a.example")).sh(sh12())
			return s.gap(S, 1400)
		}, reassembly.CloseFIN, StatusIncomplete, false},
		{"tls13 short last records both ways are data, not failure", func(s *script) *script {
			// The Illustrated TLS 1.3 connection: "ping" and "pong" are
			// alert-sized last records.
			return s.ch(ch13("a.example")).sh(sh13()).ccs(S).app(S, 835).
				ccs(C).app(C, 53).app(C, 21).app(S, 234).app(S, 234).app(S, 21)
		}, reassembly.CloseFIN, StatusEstablished, true},
		{"tls13 server closes after a Finished-only client flight", func(s *script) *script {
			// No Certificate in the client's flight: none was asked
			// for, so the server's short last record is no rejection.
			return s.ch(ch13("a.example")).sh(sh13()).app(S, 500).app(C, 53).app(S, 19)
		}, reassembly.CloseFIN, StatusEstablished, true},
		{"midstream encrypted alert only", func(s *script) *script {
			return s.encAlert(C)
		}, reassembly.CloseFIN, StatusIncomplete, false},
		{"only the client's direction captured", func(s *script) *script {
			return s.ch(ch12("a.example")).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C)
		}, reassembly.CloseRST, StatusIncomplete, false},
		{"midstream application data only", func(s *script) *script { return s.app(C, 100).app(S, 1000) }, reassembly.CloseFIN, StatusEstablished, true},
		{"midstream one way only", func(s *script) *script { return s.app(S, 1000) }, reassembly.CloseFIN, StatusIncomplete, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			r := tc.play(h.conn()).close(tc.close)
			if r.Status != tc.want || r.Established != tc.est {
				t.Errorf("status %q established %v, want %q %v (failure %+v)", r.Status, r.Established, tc.want, tc.est, r.Failure)
			}
			if r.Failure != nil {
				t.Errorf("failure set on %q: %+v", r.Status, r.Failure)
			}
		})
	}
}

func TestNotTLS(t *testing.T) {
	h := newHarness(t, Config{})
	if r := h.conn().close(reassembly.CloseFIN); r != nil {
		t.Errorf("a connection without TLS was reported: %+v", r)
	}
	h = newHarness(t, Config{ReportNonTLS: true})
	r := h.conn().close(reassembly.CloseFIN)
	if r == nil || r.Status != StatusNotTLS || r.Failure != nil {
		t.Fatalf("record %+v, want status not_tls", r)
	}
	if st := h.tr.Stats(); st.NotTLS != 1 || st.TLS != 0 || st.Records != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestProbableAlertNotLast: a short record followed by more data in its
// direction is not an alert.
func TestProbableAlertNotLast(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn().ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 19)
	s.app(C, 400).app(S, 800)
	r := s.close(reassembly.CloseFIN)
	if len(r.Alerts) != 0 || r.Status != StatusEstablished {
		t.Errorf("alerts %+v status %q, want none and established", r.Alerts, r.Status)
	}
	for _, k := range r.Anomalies {
		if strings.Contains(k, "probable") {
			t.Error("probable alert listed as an anomaly")
		}
	}
}

func TestProbableAlertConverted(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn().ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 53).app(C, 300).app(C, 300).app(C, 19).fin(C)
	r := s.close(reassembly.CloseFIN)
	if len(r.Alerts) != 1 || !r.Alerts[0].Encrypted || r.Alerts[0].Description != "" || r.Alerts[0].Code != -1 {
		t.Fatalf("alerts %+v, want one encrypted", r.Alerts)
	}
	last := r.Messages[len(r.Messages)-1]
	if last.Type != dissect.MsgAlert || last.Bytes != 19 || last.Count != 1 {
		t.Errorf("last message %+v, want the alert split from the run", last)
	}
	prev := r.Messages[len(r.Messages)-2]
	if prev.Type != dissect.MsgApplicationData || prev.Count != 2 || prev.Bytes != 600 {
		t.Errorf("run %+v, want the two 300-byte records left", prev)
	}
}

var allReasons = []string{
	ReasonProtocolVersionMismatch, ReasonNoSharedCipher, ReasonCertificateExpired, ReasonCertificateNotYetValid,
	ReasonClientClockSkew, ReasonUnknownCA, ReasonSelfSignedCertificate, ReasonHostnameMismatch,
	ReasonBadCertificate, ReasonInterceptionSuspected, ReasonClientCertRequired, ReasonClientCertUntrusted,
	ReasonUnrecognizedName, ReasonNoApplicationProtocol, ReasonInappropriateFallback, ReasonDecodeError,
	ReasonAbortedByClient, ReasonAbortedByServer, ReasonOther,
}

// TestDiagnoseEvidence decides from evidence built by hand: the cases no
// event sequence of ours reaches easily.
func TestDiagnoseEvidence(t *testing.T) {
	at := base
	alert := func(from packet.Dir, desc dissect.AlertDescription) *dissect.AlertEvent {
		return &dissect.AlertEvent{From: from, Timestamp: at, Level: dissect.AlertFatal, Description: desc}
	}
	tests := []struct {
		name   string
		ev     evidence
		reason string
		alert  string
	}{
		{"certificate alert, certificate not visible (TLS 1.3)",
			evidence{sawCH: true, sawSH: true, tls13: true, serverFlight: true, alert: alert(C, dissect.AlertUnknownCA)}, ReasonUnknownCA, "unknown_ca"},
		{"certificate_expired, certificate not visible",
			evidence{sawCH: true, sawSH: true, serverFlight: true, alert: alert(C, dissect.AlertCertificateExpired)}, ReasonCertificateExpired, "certificate_expired"},
		{"encrypted server alert with no client flight",
			evidence{sawCH: true, sawSH: true, tls13: true, serverFlight: true, alert: &dissect.AlertEvent{From: S, Timestamp: at, Encrypted: true}}, ReasonOther, ""},
		{"tls 1.2 encrypted client alert after its Finished",
			evidence{sawCH: true, sawSH: true, serverFlight: true, clientFlight: true, clientKX: true, alert: &dissect.AlertEvent{From: C, Timestamp: at, Encrypted: true}}, ReasonOther, ""},
		{"sslv2 no-cipher", evidence{sawCH: true, alert: &dissect.AlertEvent{From: S, Timestamp: at, Level: dissect.AlertFatal, SSLv2Error: 1}}, ReasonNoSharedCipher, "sslv2_error"},
		{"sslv2 no-certificate from the server", evidence{sawCH: true, alert: &dissect.AlertEvent{From: S, Timestamp: at, Level: dissect.AlertFatal, SSLv2Error: 2}}, ReasonClientCertRequired, "sslv2_error"},
		{"sslv2 bad-certificate from the client", evidence{sawCH: true, alert: &dissect.AlertEvent{From: C, Timestamp: at, Level: dissect.AlertFatal, SSLv2Error: 4}}, ReasonBadCertificate, "sslv2_error"},
		{"illegal_parameter from the client", evidence{sawCH: true, sawSH: true, serverFlight: true, alert: alert(C, dissect.AlertIllegalParameter)}, ReasonOther, "illegal_parameter"},
		{"no hello at all", evidence{closeReason: reassembly.CloseRST}, ReasonOther, ""},
		{"no hello, our parser failed", evidence{malformed: true, closeReason: reassembly.CloseFIN}, ReasonDecodeError, ""},
		{"server gives up with user_canceled", evidence{sawCH: true, alert: alert(S, dissect.AlertUserCanceled)}, ReasonAbortedByServer, "user_canceled"},
	}
	for _, tc := range tests {
		f := diagnose(&tc.ev)
		if f.Reason != tc.reason || f.Alert != tc.alert || f.Explanation == "" {
			t.Errorf("%s: %+v, want reason %q alert %q", tc.name, f, tc.reason, tc.alert)
		}
	}
}

func TestInterceptionHints(t *testing.T) {
	for name, want := range map[string]bool{
		"www.example.com": true, "api.bank.co.uk.": true, "intranet": false, "printer.local": false,
		"10.0.0.1": false, "2001:db8::1": false, "git.corp": false, "": false,
		// Every private suffix (RFC 6761, RFC 8375, ICANN's .internal and
		// the names home routers use), and public look-alikes.
		"db.internal": false, "nas.lan": false, "tv.home": false, "box.localdomain": false, "app.localhost": false,
		"x.test": false, "x.invalid": false, "www.example": false, "portal.intranet": false, "hub.home.arpa": false,
		"localbank.com": true, "corp.com": true, "my.homes": true, "lan.party.io": true, "example.org": true,
	} {
		if got := publicName(name); got != want {
			t.Errorf("publicName(%q) = %v, want %v", name, got, want)
		}
	}
	for issuer, want := range map[string]string{
		"CN=FortiGate CA,O=Fortinet": "Fortinet", "CN=Zscaler Intermediate Root CA": "Zscaler",
		"CN=mitmproxy,O=mitmproxy": "mitmproxy", "CN=Let's Encrypt R3": "",
	} {
		if got := interceptingIssuer(issuer); got != want {
			t.Errorf("interceptingIssuer(%q) = %q, want %q", issuer, got, want)
		}
	}
	// A private name issued by an inspecting product's CA is no public
	// site intercepted: the client simply does not trust that CA.
	mitm := newPKI(t, "FortiGate CA")
	leaf := mitm.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 1, 0), "fw.corp")
	h := newHarness(t, Config{})
	r := h.conn().ch(ch12("fw.corp")).sh(sh12()).cert(S, leaf).ske().hs(S, dissect.TypeServerHelloDone).
		alert(C, dissect.AlertFatal, dissect.AlertUnknownCA).close(reassembly.CloseFIN)
	if r.Failure == nil || r.Failure.Reason != ReasonUnknownCA {
		t.Errorf("failure %+v, want unknown_ca", r.Failure)
	}
}

func TestNameMatches(t *testing.T) {
	ca := newPKI(t, "Test Root CA")
	sanDER := ca.leaf(t, base, base.AddDate(1, 0, 0), "www.example.com", "*.example.org")
	san := leafOf(sanDER, hexSHA256(sanDER))
	cnDER := cnLeaf(t, ca, "*.example.net")
	cnOnly := leafOf(cnDER, hexSHA256(cnDER))
	tests := []struct {
		lf   *leafFacts
		host string
		want bool
	}{
		{san, "www.example.com", true}, {san, "WWW.Example.com.", true}, {san, "a.example.org", true},
		{san, "a.b.example.org", false}, {san, "example.com", false},
		{cnOnly, "a.example.net", true}, {cnOnly, "example.net", false}, {cnOnly, "a.b.example.net", false},
	}
	for _, tc := range tests {
		if got := nameMatches(tc.host, tc.lf); got != tc.want {
			t.Errorf("%q against %v: %v, want %v", tc.host, tc.lf.names, got, tc.want)
		}
	}
}

// TestDiagnosisRules plays, with real bytes, each rule of the diagnosis
// (issue 19): the client's verdict over our trust store, versions whatever
// the answer, who closed, the failure after a completed handshake,
// interception only on evidence, and TLS 1.3 reading the certificate the
// same server showed elsewhere. Each case says the confidence it earns.
func TestDiagnosisRules(t *testing.T) {
	ca := newPKI(t, "Test Root CA")
	rsaCA := newRSAPKI(t, "RSA Root CA")
	inter := ca.intermediate(t, "Test Issuing CA 1")
	const host = "www.example.com"
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	valid := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), host)
	expired := ca.leaf(t, base.AddDate(-1, 0, 0), base.AddDate(0, 0, -30), host)
	weakKey := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host}}, &rsa1024.PublicKey)
	sha1Leaf := rsaCA.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		SignatureAlgorithm: x509.SHA1WithRSA}, nil)
	clientAuthOnly := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, nil)
	viaInter := inter.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		IssuingCertificateURL: []string{"http://ca.example.com/issuing1.der"}}, nil)
	viaInterNoAIA := inter.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "api.example.com"}, DNSNames: []string{"api.example.com"}}, nil)
	mismatched := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), "other.example.org")
	proxy := newPKI(t, "Acme Proxy CA")

	flight12 := func(s *script, sni string, chain ...[]byte) *script {
		return s.ch(ch12(sni)).sh(sh12()).cert(S, chain...).ske().hs(S, dissect.TypeServerHelloDone)
	}
	established12 := func(h *harness, sni string, chain ...[]byte) {
		flight12(h.conn(), sni, chain...).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).
			app(C, 100).app(S, 100).close(reassembly.CloseFIN)
	}
	legacy := func() *dissect.ClientHello {
		ch := chLegacy(dissect.VersionTLS11)
		ch.SupportedVersions = []dissect.Version{dissect.VersionTLS11, dissect.VersionTLS10}
		return ch
	}
	tests := []struct {
		name       string
		roots      bool // verify against a trust store holding none of these CAs
		play       func(h *harness) *script
		close      reassembly.CloseReason
		status     string // "" for failed
		reason     string
		confidence string
		fact       string // a fragment some evidence line holds
	}{
		// 1. The client's verdict outranks our trust store.
		{name: "1024-bit RSA key", play: func(h *harness) *script {
			return flight12(h.conn(), host, weakKey, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonWeakKey, confidence: ConfidenceLikely, fact: "1024-bit RSA"},
		{name: "SHA-1 signature", play: func(h *harness) *script {
			return flight12(h.conn(), host, sha1Leaf, rsaCA.caDER).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonWeakSignature, confidence: ConfidenceLikely, fact: "SHA1-RSA"},
		{name: "extended key usage without serverAuth", play: func(h *harness) *script {
			return flight12(h.conn(), host, clientAuthOnly, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertUnsupportedCertificate)
		}, reason: ReasonKeyUsage, confidence: ConfidenceLikely, fact: "lacks serverAuth"},
		{name: "missing intermediate (AIA names it)", play: func(h *harness) *script {
			return flight12(h.conn(), host, viaInter).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonIncompleteChain, confidence: ConfidenceLikely, fact: "http://ca.example.com/issuing1.der"},
		{name: "missing intermediate (sent on another connection)", play: func(h *harness) *script {
			established12(h, host, viaInter, inter.caDER)
			return flight12(h.conn(), "api.example.com", viaInterNoAIA).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonIncompleteChain, confidence: ConfidenceLikely, fact: "sent as an intermediate"},
		{name: "missing intermediate under the trust store", roots: true, play: func(h *harness) *script {
			return flight12(h.conn(), host, viaInter).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonIncompleteChain, confidence: ConfidenceLikely, fact: "was not sent"},
		{name: "unknown_ca with the root sent", play: func(h *harness) *script {
			return flight12(h.conn(), host, valid, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonUnknownCA, confidence: ConfidenceCertain, fact: "unknown_ca"},
		{name: "unknown_ca, the chain stops short of a root", play: func(h *harness) *script {
			return flight12(h.conn(), host, viaInterNoAIA).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonUnknownCA, confidence: ConfidenceLikely, fact: "unknown_ca"},
		{name: "only our trust store objects", roots: true, play: func(h *harness) *script {
			return flight12(h.conn(), host, valid, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonUnknownCA, confidence: ConfidenceUncertain, fact: "our trust store: unknown_authority"},
		{name: "certificate_expired alert on an expired certificate", play: func(h *harness) *script {
			return flight12(h.conn(), host, expired, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertCertificateExpired)
		}, reason: ReasonCertificateExpired, confidence: ConfidenceCertain, fact: "expired"},
		{name: "two faults: which one is not said", play: func(h *harness) *script {
			return flight12(h.conn(), "other.example.org", expired, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonCertificateExpired, confidence: ConfidenceUncertain, fact: "client asked for other.example.org"},

		// 2. Versions, whatever the answer.
		{name: "old client, internal_error", play: func(h *harness) *script {
			return h.conn().ch(legacy()).alert(S, dissect.AlertFatal, dissect.AlertInternalError)
		}, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceLikely, fact: "TLS 1.0–1.1 only"},
		{name: "old client, handshake_failure (a cipher could be it too)", play: func(h *harness) *script {
			return h.conn().ch(legacy()).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceUncertain, fact: "no ServerHello"},
		{name: "old client, handshake_failure, the server speaks TLS 1.2 to others", play: func(h *harness) *script {
			established12(h, host, valid, ca.caDER)
			return h.conn().ch(legacy()).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceLikely, fact: "negotiated TLS 1.2"},
		{name: "old client, bare close", play: func(h *harness) *script {
			return h.conn().ch(legacy())
		}, close: reassembly.CloseFIN, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceUncertain, fact: "TLS 1.0–1.1 only"},
		{name: "server chooses a version the client did not offer, client says handshake_failure", play: func(h *harness) *script {
			sh := sh12()
			sh.LegacyVersion = dissect.VersionTLS10
			return h.conn().ch(ch13(host)).sh(sh).alert(C, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceLikely, fact: "server chose TLS 1.0"},
		{name: "server chooses a version the client did not offer, client closes", play: func(h *harness) *script {
			sh := sh12()
			sh.LegacyVersion = dissect.VersionTLS10
			return h.conn().ch(ch13(host)).sh(sh)
		}, close: reassembly.CloseFIN, reason: ReasonProtocolVersionMismatch, confidence: ConfidenceLikely, fact: "server chose TLS 1.0"},

		// 3. Who closed.
		{name: "client gives up on a silent server", play: func(h *harness) *script {
			return h.conn().ch(ch12(host)).wait(10 * time.Second)
		}, close: reassembly.CloseFIN, reason: ReasonAbortedByClient, confidence: ConfidenceUncertain, fact: "the server sent nothing"},
		{name: "server closes at once on the hello", play: func(h *harness) *script {
			return h.conn().ch(ch12(host))
		}, close: reassembly.CloseRST, reason: ReasonAbortedByServer, confidence: ConfidenceUncertain, fact: "reset"},
		{name: "the client's FIN says it gave up, however soon", play: func(h *harness) *script {
			return h.conn().ch(ch12(host)).wait(300 * time.Millisecond).fin(C)
		}, close: reassembly.CloseFIN, reason: ReasonAbortedByClient, confidence: ConfidenceLikely, fact: "the client sent the first FIN"},
		{name: "the server's reset says it refused, however late", play: func(h *harness) *script {
			return h.conn().ch(ch12(host)).wait(10 * time.Second).rst(S)
		}, close: reassembly.CloseRST, reason: ReasonAbortedByServer, confidence: ConfidenceLikely, fact: "the server sent the first RST"},
		{name: "client sent nothing; the server's decode_error answers it", play: func(h *harness) *script {
			return h.conn().alert(S, dissect.AlertFatal, dissect.AlertDecodeError)
		}, reason: ReasonAbortedByClient, confidence: ConfidenceLikely, fact: "client sent no bytes"},

		// 4. After a completed handshake.
		{name: "reset right after the handshake, name mismatch", play: func(h *harness) *script {
			return flight12(h.conn(), host, mismatched, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
		}, close: reassembly.CloseRST, reason: ReasonHostnameMismatch, confidence: ConfidenceLikely, fact: "no application data"},
		{name: "reset right after the handshake, nothing wrong seen", play: func(h *harness) *script {
			return flight12(h.conn(), host, valid, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
		}, close: reassembly.CloseRST, reason: ReasonAbortedByClient, confidence: ConfidenceUncertain, fact: "handshake completed"},
		{name: "closed after the handshake with a FIN: established", play: func(h *harness) *script {
			return flight12(h.conn(), host, mismatched, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
		}, close: reassembly.CloseFIN, status: StatusEstablished},
		{name: "reset after data: established", play: func(h *harness) *script {
			return flight12(h.conn(), host, mismatched, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).app(C, 80)
		}, close: reassembly.CloseRST, status: StatusEstablished},
		{name: "close_notify after the handshake, then a reset: established", play: func(h *harness) *script {
			return flight12(h.conn(), host, mismatched, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).encAlert(C)
		}, close: reassembly.CloseRST, status: StatusEstablished},
		{name: "reset long after the handshake: established", play: func(h *harness) *script {
			return flight12(h.conn(), host, mismatched, ca.caDER).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).wait(30 * time.Second)
		}, close: reassembly.CloseRST, status: StatusEstablished},
		{name: "tls13 reset after the client's Finished", play: func(h *harness) *script {
			return h.conn().ch(ch13(host)).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 53).app(S, 200)
		}, close: reassembly.CloseRST, reason: ReasonAbortedByClient, confidence: ConfidenceUncertain, fact: "no application data"},

		// 5. Interception needs evidence.
		{name: "two genuine leaves for one name", play: func(h *harness) *script {
			established12(h, host, valid, ca.caDER)
			other := newPKI(t, "Other Public CA").leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), host)
			return flight12(h.conn(), host, other).alert(C, dissect.AlertFatal, dissect.AlertBadCertificate)
		}, reason: ReasonBadCertificate, confidence: ConfidenceUncertain, fact: "different certificate was accepted"},
		{name: "known product", play: func(h *harness) *script {
			return flight12(h.conn(), host, newPKI(t, "mitmproxy").leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), host)).
				alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonInterceptionSuspected, confidence: ConfidenceLikely, fact: "mitmproxy"},
		{name: "an unknown issuer signing for many unrelated sites", roots: true, play: func(h *harness) *script {
			for _, n := range []string{"www.bank.example.net", "mail.shop.co.uk", "api.news.org"} {
				flight12(h.conn(), n, proxy.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), n)).
					alert(C, dissect.AlertFatal, dissect.AlertUnknownCA).close(reassembly.CloseFIN)
			}
			return flight12(h.conn(), host, proxy.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), host)).
				alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonInterceptionSuspected, confidence: ConfidenceLikely, fact: "4 unrelated sites"},
		{name: "an unknown issuer for one site only", roots: true, play: func(h *harness) *script {
			return flight12(h.conn(), host, proxy.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), host)).
				alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, reason: ReasonUnknownCA, confidence: ConfidenceLikely, fact: "unknown_authority"},

		// 6. TLS 1.3 without keys reads the certificate seen in clear.
		{name: "tls13 rejection, the same server's expired certificate seen over TLS 1.2", play: func(h *harness) *script {
			flight12(h.conn(), host, expired, ca.caDER).alert(C, dissect.AlertFatal, dissect.AlertCertificateExpired).close(reassembly.CloseFIN)
			return h.conn().ch(ch13(host)).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 19)
		}, close: reassembly.CloseFIN, reason: ReasonCertificateExpired, confidence: ConfidenceLikely, fact: "showed in clear on"},
		{name: "tls13 rejection, nothing seen elsewhere", play: func(h *harness) *script {
			return h.conn().ch(ch13(host)).sh(sh13()).ccs(S).app(S, 3000).ccs(C).app(C, 19)
		}, close: reassembly.CloseFIN, reason: ReasonBadCertificate, confidence: ConfidenceUncertain, fact: "where its Finished should be"},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.reason] = true
	}
	for _, r := range []string{ReasonWeakKey, ReasonWeakSignature, ReasonKeyUsage, ReasonIncompleteChain} {
		if !covered[r] {
			t.Errorf("no case diagnoses %q", r)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			if tc.roots {
				cfg.Roots = newPKI(t, "Unrelated Root").pool()
			}
			h := newHarness(t, cfg)
			cr := tc.close
			if cr == 0 {
				cr = reassembly.CloseFIN
			}
			r := tc.play(h).close(cr)
			if r == nil {
				t.Fatal("no record")
			}
			if tc.status != "" {
				if r.Status != tc.status || r.Failure != nil {
					t.Fatalf("status %q failure %+v, want %q", r.Status, r.Failure, tc.status)
				}
				return
			}
			f := r.Failure
			if r.Status != StatusFailed || f == nil {
				t.Fatalf("status %q, want failed", r.Status)
			}
			if f.Reason != tc.reason || f.Confidence != tc.confidence {
				t.Errorf("%s (%s), want %s (%s): %s %q", f.Reason, f.Confidence, tc.reason, tc.confidence, f.Explanation, f.Evidence)
			}
			if !strings.Contains(strings.Join(f.Evidence, "\n")+"\n"+f.Explanation, tc.fact) {
				t.Errorf("evidence %q and explanation %q lack %q", f.Evidence, f.Explanation, tc.fact)
			}
			checkCalibrated(t, r)
		})
	}
}

// checkCalibrated holds every failure to the contract of its confidence.
func checkCalibrated(t *testing.T, r *Record) {
	t.Helper()
	f := r.Failure
	switch f.Confidence {
	case ConfidenceCertain, ConfidenceLikely, ConfidenceUncertain:
	default:
		t.Fatalf("confidence %q", f.Confidence)
	}
	if len(f.Evidence) == 0 {
		t.Error("no evidence")
	}
	if (f.Hint == "") != (f.Confidence == ConfidenceCertain) {
		t.Errorf("confidence %s with hint %q", f.Confidence, f.Hint)
	}
	if f.Confidence != ConfidenceCertain {
		return
	}
	// Certain rests on an alert read in clear.
	readable := false
	for _, a := range r.Alerts {
		readable = readable || (!a.Encrypted && a.Description == f.Alert && a.Level == "fatal")
	}
	if !readable {
		t.Errorf("certain without a readable fatal alert: %+v", r.Alerts)
	}
	for _, e := range f.Evidence {
		if strings.Contains(e, "showed in clear on") || strings.Contains(e, "trust store") && f.Reason == ReasonUnknownCA && f.Alert != "unknown_ca" {
			t.Errorf("certain on borrowed or trust-store-only evidence: %q", e)
		}
	}
}

// TestWeakByTheRulesOfTheTime: a capture is judged by what clients of its
// time refused.
func TestWeakByTheRulesOfTheTime(t *testing.T) {
	y := func(year int) time.Time { return time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		alg  x509.SignatureAlgorithm
		at   time.Time
		weak bool
	}{
		{x509.SHA1WithRSA, y(2014), false}, {x509.SHA1WithRSA, y(2017), true}, {x509.ECDSAWithSHA1, y(2020), true},
		{x509.MD5WithRSA, y(2008), false}, {x509.MD5WithRSA, y(2010), true}, {x509.SHA256WithRSA, y(2025), false},
	} {
		if got := weakSignature(tc.alg, tc.at); got != tc.weak {
			t.Errorf("%v at %d: weak %v, want %v", tc.alg, tc.at.Year(), got, tc.weak)
		}
	}
	ca := newPKI(t, "Test Root CA")
	for _, tc := range []struct {
		bits int
		at   time.Time
		want string
	}{
		{1024, y(2013), ""}, {1024, y(2014), "1024-bit RSA"}, {2048, y(2025), ""},
	} {
		key, err := rsa.GenerateKey(rand.Reader, tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "a.example"}}, &key.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		if got := weakKey(c, tc.at); got != tc.want {
			t.Errorf("RSA-%d at %d: %q, want %q", tc.bits, tc.at.Year(), got, tc.want)
		}
	}
}
