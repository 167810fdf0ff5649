package dissect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// The tests below pin the edges of the framer's rules: each checks both
// sides of a boundary, so that moving the boundary by one fails.

func anomalyKinds(s *logSink) []string {
	var out []string
	for _, a := range s.anomalies {
		out = append(out, a.Kind)
	}
	return out
}

// TestOversizedRecordBoundary: RFC 5246 6.2.3 allows 2^14+2048 bytes of
// ciphertext; one more is reported.
func TestOversizedRecordBoundary(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want bool
	}{{maxRecordLen - 1, false}, {maxRecordLen, false}, {maxRecordLen + 1, true}} {
		ch, sh := helloRecords()
		s := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, sh},
			{packet.FromServer, record(ContentApplicationData, 0x0303, make([]byte, tc.n))}}, 0)
		if got := slices.Contains(anomalyKinds(s), AnomalyOversizedRecord); got != tc.want {
			t.Errorf("record of %d bytes: oversized %v, want %v", tc.n, got, tc.want)
		}
	}
}

// TestPlaintextAlertLengths: before a ChangeCipherSpec an alert record of
// an even length up to 8 holds plaintext alerts (a few may share a
// record); an odd or longer one can only be ciphertext.
func TestPlaintextAlertLengths(t *testing.T) {
	for _, tc := range []struct {
		n         int
		encrypted bool
	}{{2, false}, {3, true}, {4, false}, {6, false}, {7, true}, {8, false}, {9, true}, {10, true}} {
		body := make([]byte, tc.n)
		for i := 0; i+1 < tc.n; i += 2 {
			body[i], body[i+1] = 2, 40 // fatal handshake_failure
		}
		ch, _ := helloRecords()
		s := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, record(ContentAlert, 0x0303, body)}}, 0)
		var alert *Event
		for i := range s.events {
			if s.events[i].Type == MsgAlert {
				alert = &s.events[i]
			}
		}
		if alert == nil {
			t.Fatalf("alert record of %d bytes: no alert event", tc.n)
		}
		if alert.Encrypted != tc.encrypted || !tc.encrypted && (alert.Alert == nil || alert.Alert.Description != AlertHandshakeFailure) {
			t.Errorf("alert record of %d bytes: encrypted %v alert %+v, want encrypted %v", tc.n, alert.Encrypted, alert.Alert, tc.encrypted)
		}
	}
}

// TestResyncHelloLength: after bytes that are not TLS, a handshake record
// carrying a ClientHello of at least 38 bytes (the smallest legal one,
// RFC 5246 7.4.1.2) is taken as the resync point on its own; a shorter
// "hello" needs the next record header to confirm it.
func TestResyncHelloLength(t *testing.T) {
	junk := []byte(strings.Repeat("\x99", 40))
	for _, tc := range []struct {
		hl    int
		found bool
	}{{37, false}, {38, true}, {60, true}} {
		body := append([]byte{byte(TypeClientHello), 0, 0, byte(tc.hl)}, make([]byte, tc.hl)...)
		data := append(append([]byte(nil), junk...), record(ContentHandshake, 0x0301, body)...)
		// No further header follows, and the data does not end at the
		// record's end: only the hello length can decide.
		data = append(data, 0x99, 0x99, 0x99)
		c := NewConn(DefaultConfig(), &logSink{})
		sink := c.sink.(*logSink)
		c.Data(packet.FromClient, time.Unix(1, 0), data)
		found := slices.Contains(anomalyKinds(sink), AnomalyResync)
		if found != tc.found {
			t.Errorf("hello of %d bytes after junk: resync found %v, want %v (%v)", tc.hl, found, tc.found, sink.lines)
		}
	}
}

// TestGapAtRecordEnd: a gap that ends exactly at the end of a record's
// body keeps the framing; one byte more loses it (the next record is not
// found in what is left of it).
func TestGapAtRecordEnd(t *testing.T) {
	for _, tc := range []struct {
		extra  int
		resync bool
	}{{0, false}, {1, true}} {
		ch, sh := helloRecords()
		c := NewConn(DefaultConfig(), &logSink{})
		sink := c.sink.(*logSink)
		ts := time.Unix(1, 0)
		c.Data(packet.FromClient, ts, ch)
		c.Data(packet.FromServer, ts, sh)
		app := record(ContentApplicationData, 0x0303, make([]byte, 100))
		c.Data(packet.FromServer, ts, app[:20]) // header and 15 bytes
		c.Gap(packet.FromServer, ts, 85+tc.extra)
		next := record(ContentApplicationData, 0x0303, make([]byte, 30))
		c.Data(packet.FromServer, ts, next[tc.extra:])
		c.End(ts)
		apps := 0
		for _, e := range sink.events {
			if e.Type == MsgApplicationData && e.Dir == packet.FromServer {
				apps++
			}
		}
		want := 2
		if tc.resync {
			want = 1
		}
		if resync := slices.Contains(anomalyKinds(sink), AnomalyResync); apps != want || !tc.resync && resync {
			t.Errorf("gap of %d past the record: %d application records, want %d; resync %v (%v)", tc.extra, apps, want, resync, sink.lines)
		}
	}
}

// TestAEADTagLengths: CCM_8 has an 8-byte tag (RFC 6655), every other TLS
// 1.3 suite 16 (RFC 8446 B.4), which sets the size of a Finished record.
func TestAEADTagLengths(t *testing.T) {
	for suite, want := range map[CipherSuite]int{0x1301: 16, 0x1302: 16, 0x1303: 16, 0x1304: 16, 0x1305: 8} {
		if got := aeadTagLen(suite); got != want {
			t.Errorf("aeadTagLen(%v) = %d, want %d", suite, got, want)
		}
	}
	for suite, want := range map[CipherSuite]int{0x1301: 4 + 32 + 1 + 16, 0x1302: 4 + 48 + 1 + 16, 0x1305: 4 + 32 + 1 + 8} {
		if got := finishedRecordLen(suite); got != want {
			t.Errorf("finishedRecordLen(%v) = %d, want %d", suite, got, want)
		}
	}
}
