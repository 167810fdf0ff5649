package flows

import (
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// FuzzFlowEvents plays arbitrary sequences of TLS messages, raw bytes,
// gaps, anomalies and closes over several connections of one Tracker: no
// panic, and every Record has every field.
func FuzzFlowEvents(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{1, 0, 0x13, 1, 2, 11, 11, 3, 12, 12, 9, 9, 15, 0, 1, 0x13, 1, 7, 3})
	f.Add([]byte{0, 0, 0x11, 10, 2, 40, 15, 1, 0, 0x02, 13, 14})
	f.Add([]byte{1, 0, 0x25, 1, 0x17, 9, 9, 9, 9, 12, 4, 15, 0, 0x25, 1, 0x17, 12})
	// Real-looking seeds: each op is kind|conn<<4, a time step, a
	// direction, a length, then what the kind reads.
	full12 := []byte{
		0x00, 1, 0, 200, 1, 3, 0, 0, 0, 7, // ClientHello, TLS 1.2
		0x01, 1, 1, 80, 3, 0, 0, 9, // ServerHello
		0x02, 1, 1, 100, 1, 3, 0x30, 0x01, 0x00, // Certificate
		0x03, 1, 1, 40, 12, 0, // ServerKeyExchange
		0x03, 1, 1, 0, 14, 0, // ServerHelloDone
		0x03, 1, 0, 33, 16, 0, // ClientKeyExchange
		0x04, 1, 0, 1, 0x05, 1, 0, 40, // CCS, Finished
		0x0a, 1, 1, 50, 60, 5, // NewSessionTicket
		0x04, 1, 1, 1, 0x05, 1, 1, 40, // CCS, Finished
		0x07, 1, 0, 100, 0x07, 1, 1, 200, 0x07, 1, 1, 200,
		0x09, 1, 0, 26, 1, // encrypted alert
		0x0e, 1, 0, 0, 0, // close (FIN)
	}
	f.Add(append([]byte{1}, full12...))
	resumed := []byte{
		0x0f, 1, 0, 0, // a second connection
		0x10, 1, 0, 200, 1, 3, 0, 5, 0, 7, // ClientHello presenting ticket 5
		0x11, 1, 1, 80, 3, 0, 0, 7, // ServerHello echoing the session ID
		0x14, 1, 1, 1, 0x15, 1, 1, 40, 0x14, 1, 0, 1, 0x15, 1, 0, 40,
		0x17, 1, 0, 100, 0x17, 1, 1, 100,
	}
	f.Add(append(append([]byte{0}, full12[:len(full12)-5]...), resumed...))
	tls13 := []byte{
		0x00, 1, 0, 250, 2, 3, 4, 0, 3, 1, // ClientHello, TLS 1.3 with PSK and early data
		0x07, 1, 0, 100, // 0-RTT
		0x01, 1, 1, 90, 3, 1, 1, 1, // ServerHello, TLS 1.3, PSK accepted
		0x04, 1, 1, 1, 0x06, 1, 1, 200, // CCS, encrypted flight
		0x07, 1, 0, 21, 0x05, 1, 0, 53, // EndOfEarlyData-sized, Finished
		0x07, 1, 1, 19, 0x0b, 1, 1, 0, 1, 19, // a probable alert
	}
	f.Add(append([]byte{1}, tls13...))
	seedCert := []byte{0x30, 0x82, 0x01, 0x00}
	f.Add(append([]byte{0, 0, 0, 1, 0, 3, 1}, seedCert...))
	f.Fuzz(fuzzFlow)
}

func fuzzFlow(t *testing.T, data []byte) {
	{
		if len(data) == 0 || len(data) > 4096 {
			return
		}
		late := data[0]&1 == 1 // build closed connections only at the end
		data = data[1:]
		var recs []*Record
		tr := NewTracker(Config{ReportNonTLS: data != nil && len(data)%2 == 0, MaxLineage: 4},
			func(r *Record) { recs = append(recs, r) })
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		var open []*script
		var id uint64
		ts := base
		newConn := func() {
			id++
			c := tr.New(reassembly.ConnInfo{ID: id, Client: netipPort(1, uint16(id)), Server: netipPort(2, 443), Start: ts, RolesInferred: id%3 == 0}).(*conn)
			open = append(open, &script{c: c})
		}
		newConn()
		var pos uint64
		for len(data) > 0 {
			pos++
			tr.At(pos)
			op := next()
			ts = ts.Add(time.Duration(next()) * time.Millisecond)
			if len(open) == 0 {
				newConn()
			}
			s := open[int(op>>4)%len(open)]
			s.ts = ts
			d := packet.Dir(next() & 1)
			length := int(next())
			switch op & 15 {
			case 0:
				ch := ch12(string(rune('a' + next()%4)))
				ch.LegacyVersion = dissect.Version(0x0300 + uint16(next()%5))
				if b := next(); b&1 != 0 {
					ch.SupportedVersions = []dissect.Version{dissect.Version(0x0300 + uint16(b%5)), 0x7f17, 0x1a1a}
				}
				if b := next(); b&1 != 0 {
					ch.SessionTicket = []byte{b}
				}
				if b := next(); b&1 != 0 {
					ch.PSKIdentities = []dissect.PSKIdentity{{Identity: []byte{b}}}
					ch.EarlyData = b&2 != 0
				}
				ch.SessionID = []byte{next()}
				s.ch(ch)
			case 1:
				sh := sh12()
				sh.LegacyVersion = dissect.Version(0x0300 + uint16(next()%5))
				if b := next(); b&1 != 0 {
					sh.SupportedVersion = dissect.VersionTLS13
				}
				b := next()
				sh.HasPreSharedKey = b&1 != 0
				sh.IsHelloRetryRequest = b&2 != 0
				sh.SessionID = []byte{next()}
				sh.SelectedIdentity = uint16(b >> 4)
				s.sh(sh)
			case 2:
				n := int(next() % 4)
				chain := make([][]byte, 0, n)
				for range n {
					l := int(next() % 8)
					der := make([]byte, 0, l)
					for range l {
						der = append(der, next())
					}
					chain = append(chain, der)
				}
				s.cert(d, chain...)
			case 3:
				t := dissect.HandshakeType(next())
				if next()&1 != 0 {
					s.rec(d, dissect.ContentHandshake, ciphertext(length))
				} else {
					s.msg(d, t, ciphertext(length))
				}
			case 4:
				s.ccs(d)
			case 5:
				s.encFin(d)
			case 6, 7, 8:
				s.app(d, length)
			case 9:
				if b := next(); b&1 != 0 {
					s.encAlert(d)
				} else {
					s.alert(d, dissect.AlertLevel(b>>6), dissect.AlertDescription(next()))
				}
			case 10:
				s.nst([]byte{next()}, uint32(length))
			case 11:
				// Raw bytes: whatever the dissector makes of them.
				n := min(length, len(data))
				s.data(d, data[:n])
				data = data[n:]
			case 12:
				s.gap(d, length)
			case 13:
				s.c.Anomaly(reassembly.Anomaly{Kind: reassembly.AnomalyOverlapConflict, Dir: d, Timestamp: ts})
			case 14:
				i := int(op>>4) % len(open)
				open[i].c.Close(reassembly.CloseInfo{Reason: reassembly.CloseReason(1 + next()%5), Timestamp: ts})
				open = append(open[:i], open[i+1:]...)
				if !late {
					tr.Flush()
				}
			case 15:
				newConn()
			}
			if s.ts.After(ts) {
				ts = s.ts
			}
		}
		for _, s := range open {
			s.c.Close(reassembly.CloseInfo{Reason: reassembly.CloseEndOfInput, Timestamp: ts})
		}
		tr.Flush()
		for _, r := range recs {
			checkJSON(t, r)
			if (r.Status == StatusFailed) != (r.Failure != nil) {
				t.Fatalf("status %q failure %+v", r.Status, r.Failure)
			}
			if r.Failure != nil && (r.Failure.Reason == "" || r.Failure.Explanation == "") {
				t.Fatalf("failure without reason or words: %+v", r.Failure)
			}
			if f := r.Failure; f != nil {
				// The calibration contract: a known confidence, facts,
				// a hint unless certain, and certain only on an alert
				// read in clear.
				switch f.Confidence {
				case ConfidenceCertain, ConfidenceLikely, ConfidenceUncertain:
				default:
					t.Fatalf("confidence %q", f.Confidence)
				}
				if len(f.Evidence) == 0 || (f.Hint == "") != (f.Confidence == ConfidenceCertain) {
					t.Fatalf("evidence %q hint %q for %s", f.Evidence, f.Hint, f.Confidence)
				}
				if f.Confidence == ConfidenceCertain && f.Alert == "" {
					t.Fatalf("certain without a readable alert: %+v", f)
				}
			}
			switch r.Status {
			case StatusEstablished, StatusResumed, StatusFailed, StatusIncomplete, StatusNotTLS:
			default:
				t.Fatalf("status %q", r.Status)
			}
		}
		if st := tr.Stats(); st.Records != uint64(len(recs)) || tr.Pending() != 0 {
			t.Fatalf("stats %+v with %d records", st, len(recs))
		}
	}
}
