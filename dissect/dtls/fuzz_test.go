package dtls

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

// seedDatagrams are real-shaped datagrams for the fuzzers.
func seedDatagrams() [][]byte {
	return [][]byte{
		hsRecord(0, TypeClientHello, 0, clientHello(filled(16, 1), ext(0, []byte{0, 0}), ext(ExtUseSRTP, AppendUseSRTP(nil, UseSRTP{Profiles: []SRTPProtectionProfile{1, 7}})))),
		cat(hsRecord(1, TypeServerHello, 1, serverHello(ext(ExtConnectionID, vec8([]byte{1, 2})))), hsRecord(2, TypeServerHelloDone, 2, nil)),
		hsRecord(0, TypeHelloVerifyRequest, 0, helloVerify(filled(20, 3))),
		cat(record(ContentChangeCipherSpec, 0, 5, []byte{1}), record(ContentHandshake, 1, 0, filled(40, 0))),
		record(ContentAlert, 0, 3, []byte{2, 40}),
		[]byte{0x2e, 0, 1, 0, 2, 1, 2, 0x2b, 0, 2, 9, 9, 9},
		cat([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1}, []byte{9, 9}, vec16(filled(20, 0))),
		record(ContentHandshake, 0, 7, AppendFragment(nil, TypeCertificate, 300, 3, 100, filled(50, 0))),
	}
}

// FuzzRecords: ParseRecord never panics, returns a record that is its
// header and fragment exactly, within the input, and agrees with
// LooksLikeDTLS's walk.
func FuzzRecords(f *testing.F) {
	for _, d := range seedDatagrams() {
		f.Add(d, int8(-1))
		f.Add(d, int8(2))
	}
	f.Fuzz(func(t *testing.T, b []byte, cid int8) {
		cidLen := int(cid)
		if cidLen < 0 {
			cidLen = CIDUnknown
		}
		rest := b
		for len(rest) > 0 {
			r, n, err := ParseRecord(rest, cidLen)
			if err != nil {
				if n != 0 {
					t.Fatalf("error with %d bytes used", n)
				}
				break
			}
			if n <= 0 || n > len(rest) || r.Len() != n || !bytes.Equal(cat(r.Header, r.Fragment), rest[:n]) {
				t.Fatalf("record of %d bytes, Len %d, from %d", n, r.Len(), len(rest))
			}
			if len(r.Fragment) > MaxRecordLen || (r.CID != nil && len(r.CID) != cidLen) {
				t.Fatalf("fragment %d, cid %d", len(r.Fragment), len(r.CID))
			}
			rest = rest[n:]
		}
		if LooksLikeDTLS(b) {
			if _, _, err := ParseRecord(b, CIDUnknown); err != nil {
				t.Fatalf("LooksLikeDTLS but the first record fails: %v", err)
			}
		}
		Classify(b)
		ParseACK(nil, b)
		if u, err := ParseUseSRTP(b); err == nil && !bytes.Equal(AppendUseSRTP(nil, u), b) {
			t.Fatalf("use_srtp does not round trip")
		}
		if tls, cookie, err := ClientHelloTLS(nil, b); err == nil && len(tls)+len(cookie)+1 != len(b) {
			t.Fatalf("ClientHelloTLS: %d + %d + 1 != %d", len(tls), len(cookie), len(b))
		}
	})
}

// FuzzFragments: a message cut by the fuzzer's choices into fragments,
// in an order the fuzzer picks, with junk fragments of another
// message_seq mixed in, is delivered once and equal to the original
// whenever the fragments cover it.
func FuzzFragments(f *testing.F) {
	f.Add([]byte("a certificate of some length that is cut"), uint64(1), uint8(3))
	f.Add([]byte{}, uint64(2), uint8(1))
	f.Add(bytes.Repeat([]byte{7}, 2000), uint64(3), uint8(9))
	f.Fuzz(func(t *testing.T, body []byte, seed uint64, cuts uint8) {
		if len(body) > 8000 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, uint64(cuts)))
		pieces := fragmentMessage(rng, body)
		if int(cuts)%5 == 0 && len(pieces) > 1 { // leave a hole sometimes
			pieces = pieces[1:]
		}
		covered := make([]bool, len(body))
		rec := &recorder{}
		c := NewConn(Config{MaxPieces: 1 << 14}, rec)
		c.Datagram(sv, t0, hsRecord(0, TypeServerHello, 0, serverHello()))
		for i, p := range pieces {
			for j := p[0]; j < p[1]; j++ {
				covered[j] = true
			}
			c.Datagram(sv, t0, record(ContentHandshake, 0, uint64(i+1), AppendFragment(nil, TypeCertificate, len(body), 1, p[0], body[p[0]:p[1]])))
		}
		c.Close()
		full := true
		for _, v := range covered {
			full = full && v
		}
		if len(body) == 0 {
			full = len(pieces) > 0
		}
		hs := rec.messages(false)
		if full {
			if len(hs) != 2 || !bytes.Equal(hs[1].msg, tlsMsg(TypeCertificate, body)) {
				t.Fatalf("covered but %d messages: %s", len(hs), rec.summary())
			}
		} else if len(hs) != 1 {
			t.Fatalf("a hole, yet %d messages", len(hs))
		}
	})
}

// FuzzConnDatagram: a Conn fed arbitrary datagrams both ways never panics,
// keeps its pending bytes within the budget, delivers messages no longer
// than MaxMessage and well formed in the TLS layout.
func FuzzConnDatagram(f *testing.F) {
	seeds := seedDatagrams()
	for i, d := range seeds {
		f.Add(d, seeds[(i+1)%len(seeds)], d)
	}
	cfg := Config{MaxMessage: 4096, MaxPendingBytes: 8192, MaxPendingMessages: 4, MaxPieces: 8}
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		rec := &recorder{}
		conn := NewConn(cfg, rec)
		check := func() {
			for i := range conn.dir {
				r := &conn.dir[i].r
				total := 0
				for _, m := range r.pending {
					total += m.length
				}
				if total != r.pendBytes || r.pendBytes > cfg.MaxPendingBytes || len(r.pending) > cfg.MaxPendingMessages {
					t.Fatalf("pending %d bytes (%d counted) in %d messages", total, r.pendBytes, len(r.pending))
				}
			}
		}
		for i, d := range [][]byte{a, b, c, a, b} {
			conn.Datagram(packetDir(i), t0, d)
			check()
			conn.Plausible(packetDir(i), d)
		}
		conn.Close()
		for _, e := range rec.ev {
			if e.kind != "hs" {
				continue
			}
			n := int(e.msg[1])<<16 | int(e.msg[2])<<8 | int(e.msg[3])
			if n > cfg.MaxMessage || (!e.retx && len(e.msg) != 4+n) || (e.retx && len(e.msg) != 4 && len(e.msg) != 4+n) {
				t.Fatalf("message of %d bytes says %d", len(e.msg), n)
			}
			if e.typ == TypeClientHello && !e.retx {
				ClientHelloMessageTLS(nil, e.msg)
			}
		}
	})
}

func packetDir(i int) packet.Dir { return packet.Dir(i & 1) }
