package dtls

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

const (
	cl = packet.FromClient
	sv = packet.FromServer
)

// feeder numbers records per direction, as an endpoint would.
type feeder struct {
	c   *Conn
	seq [2]uint64
	now int
}

func (f *feeder) send(dir packet.Dir, recs ...[]byte) {
	f.now++
	f.c.Datagram(dir, t0.Add(time.Duration(f.now)*time.Millisecond), cat(recs...))
}

// hs builds a plaintext handshake record with the next record number.
func (f *feeder) hs(dir packet.Dir, typ HandshakeType, mseq uint16, body []byte) []byte {
	f.seq[dir]++
	return hsRecord(f.seq[dir]-1, typ, mseq, body)
}

func (f *feeder) frag(dir packet.Dir, typ HandshakeType, mseq uint16, body []byte, from, to int) []byte {
	f.seq[dir]++
	return record(ContentHandshake, 0, f.seq[dir]-1, AppendFragment(nil, typ, len(body), mseq, from, body[from:to]))
}

func (f *feeder) rec(dir packet.Dir, typ ContentType, epoch uint16, body []byte) []byte {
	f.seq[dir]++
	return record(typ, epoch, f.seq[dir]-1, body)
}

func TestConnHandshake12(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	cookie := filled(16, 0xc0)
	ch1 := clientHello(nil, ext(0, []byte{0, 0}))
	ch2 := clientHello(cookie, ext(0, []byte{0, 0}))
	sh := serverHello(ext(ExtUseSRTP, AppendUseSRTP(nil, UseSRTP{Profiles: []SRTPProtectionProfile{1}})))
	cert := hsBody(3000)
	ske := hsBody(150)

	f.send(cl, f.hs(cl, TypeClientHello, 0, ch1))
	f.send(sv, f.hs(sv, TypeHelloVerifyRequest, 0, helloVerify(cookie)))
	f.send(cl, f.hs(cl, TypeClientHello, 1, ch2))
	// The server's flight, the Certificate in three fragments, the
	// datagrams out of order.
	d1 := cat(f.hs(sv, TypeServerHello, 1, sh), f.frag(sv, TypeCertificate, 2, cert, 0, 1000))
	d2 := f.frag(sv, TypeCertificate, 2, cert, 1000, 2000)
	d3 := cat(f.frag(sv, TypeCertificate, 2, cert, 2000, 3000), f.hs(sv, TypeServerKeyExchange, 3, ske), f.hs(sv, TypeServerHelloDone, 4, nil))
	f.send(sv, d1)
	f.send(sv, d3)
	f.send(sv, d2)
	f.send(cl, f.hs(cl, TypeClientKeyExchange, 2, hsBody(66)), f.rec(cl, ContentChangeCipherSpec, 0, []byte{1}),
		record(ContentHandshake, 1, 0, filled(40, 0)))
	f.send(sv, f.rec(sv, ContentChangeCipherSpec, 0, []byte{1}), record(ContentHandshake, 1, 0, filled(40, 0)))
	f.send(cl, record(ContentApplicationData, 1, 1, filled(100, 0)))
	f.send(sv, record(ContentAlert, 1, 1, filled(26, 0)))
	f.c.Close()

	want := `client client_hello
server hello_verify_request
client client_hello
server server_hello
server certificate
server server_key_exchange
server server_hello_done
client client_key_exchange
client change_cipher_spec
client encrypted handshake epoch 1
server change_cipher_spec
server encrypted handshake epoch 1
client application_data epoch 1
server alert encrypted epoch 1
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// The messages are in the TLS layout, byte for byte.
	bodies := map[HandshakeType][]byte{TypeServerHello: sh, TypeCertificate: cert, TypeServerKeyExchange: ske, TypeServerHelloDone: nil}
	for _, e := range rec.messages(false) {
		if b, ok := bodies[e.typ]; ok && !bytes.Equal(e.msg, tlsMsg(e.typ, b)) {
			t.Errorf("%s: % x", e.typ, e.msg[:min(len(e.msg), 16)])
		}
	}
	if hs := rec.messages(false); !bytes.Equal(hs[2].msg, tlsMsg(TypeClientHello, ch2)) {
		t.Errorf("second ClientHello differs")
	}
	if f.c.Version() != VersionDTLS12 || !bytes.Equal(f.c.Cookie(), cookie) || f.c.Epoch(cl) != 1 || f.c.Epoch(sv) != 1 || !f.c.HandshakeSeen() {
		t.Errorf("version %s cookie % x epochs %d %d", f.c.Version(), f.c.Cookie(), f.c.Epoch(cl), f.c.Epoch(sv))
	}
	if s := f.c.Stats(sv); s.Messages != 5 || s.Retransmissions != 0 || s.Fragments != 7 || s.Anomalies != 0 || s.Datagrams != 6 {
		t.Errorf("server stats %+v", s)
	}
}

func TestConnRetransmission(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	ch := clientHello(nil)
	sh, cert := serverHello(), hsBody(500)
	f.send(cl, f.hs(cl, TypeClientHello, 0, ch))
	flight := func() {
		f.send(sv, f.hs(sv, TypeServerHello, 0, sh), f.frag(sv, TypeCertificate, 1, cert, 0, 250))
		f.send(sv, f.frag(sv, TypeCertificate, 1, cert, 250, 500), f.hs(sv, TypeServerHelloDone, 2, nil))
	}
	flight()
	f.send(cl, f.hs(cl, TypeClientHello, 0, ch)) // the client did not hear: it sends again
	flight()
	f.c.Close()
	want := `client client_hello
server server_hello
server certificate
server server_hello_done
client client_hello (retransmission)
server server_hello (retransmission)
server certificate (retransmission)
server server_hello_done (retransmission)
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	retx := rec.messages(true)
	if !bytes.Equal(retx[0].msg, tlsMsg(TypeClientHello, ch)) || !bytes.Equal(retx[2].msg, appendTLSHeader(nil, TypeCertificate, 500)) {
		t.Errorf("retransmitted copies: % x / % x", retx[0].msg[:4], retx[2].msg)
	}
	if s := f.c.Stats(sv); s.Messages != 3 || s.Retransmissions != 3 || s.DupFragments != 4 {
		t.Errorf("server stats %+v", s)
	}
	if s := f.c.Stats(cl); s.Messages != 1 || s.Retransmissions != 1 {
		t.Errorf("client stats %+v", s)
	}
}

// A flight with a datagram lost before the capture point: the later
// messages wait, the retransmitted flight fills the hole, and what was
// held is recognised as seen again.
func TestConnLossThenRetransmission(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	sh, cert, ske := serverHello(), hsBody(200), hsBody(40)
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello(nil)))
	f.send(sv, f.hs(sv, TypeServerHello, 0, sh))
	_ = f.hs(sv, TypeCertificate, 1, cert) // lost
	f.send(sv, f.hs(sv, TypeServerKeyExchange, 2, ske), f.hs(sv, TypeServerHelloDone, 3, nil))
	f.send(sv, f.hs(sv, TypeServerHello, 0, sh), f.hs(sv, TypeCertificate, 1, cert))
	f.send(sv, f.hs(sv, TypeServerKeyExchange, 2, ske), f.hs(sv, TypeServerHelloDone, 3, nil))
	f.c.Close()
	want := `client client_hello
server server_hello
server server_hello (retransmission)
server certificate
server server_key_exchange
server server_hello_done
server server_key_exchange (retransmission)
server server_hello_done (retransmission)
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// The peer's answer flushes a flight the capture did not see whole.
func TestConnGapFlushedByAnswer(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello(nil)))
	f.send(sv, f.hs(sv, TypeServerHello, 0, serverHello()))
	f.send(sv, f.frag(sv, TypeCertificate, 1, hsBody(100), 0, 50)) // the rest lost
	_ = f.hs(sv, TypeServerKeyExchange, 2, hsBody(10))             // lost
	f.send(sv, f.hs(sv, TypeServerHelloDone, 3, nil))
	f.send(cl, f.hs(cl, TypeClientKeyExchange, 1, hsBody(33)))
	want := `client client_hello
server server_hello
client client_key_exchange
server anomaly incomplete_message
server anomaly handshake_gap
server server_hello_done
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestConnCookieMismatch(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello(nil)))
	f.send(sv, f.hs(sv, TypeHelloVerifyRequest, 0, helloVerify([]byte("right"))))
	f.send(cl, f.hs(cl, TypeClientHello, 1, clientHello([]byte("wrong"))))
	if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyCookieMismatch}) {
		t.Fatalf("anomalies %v", got)
	}
}

func TestConnConnectionID(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello(nil, ext(ExtConnectionID, vec8([]byte{1, 2})))))
	f.send(sv, f.hs(sv, TypeServerHello, 0, serverHello(ext(ExtConnectionID, vec8([]byte{7, 7, 7})))))
	if f.c.CIDLen(cl) != 3 || f.c.CIDLen(sv) != 2 {
		t.Fatalf("cid lengths %d %d", f.c.CIDLen(cl), f.c.CIDLen(sv))
	}
	cidRec := func(cid []byte, body []byte) []byte {
		return cat([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1}, cid, vec16(body))
	}
	f.send(cl, cidRec([]byte{7, 7, 7}, filled(30, 0)), cidRec([]byte{7, 7, 7}, filled(20, 0)))
	f.send(sv, cidRec([]byte{1, 2}, filled(30, 0)))
	// A unified header with a CID, as DTLS 1.3 would send it.
	f.send(cl, []byte{0x3f, 7, 7, 7, 0, 9, 0, 3, 1, 2, 3})
	want := `client client_hello
server server_hello
client encrypted tls12_cid epoch 1
client encrypted tls12_cid epoch 1
server encrypted tls12_cid epoch 1
client encrypted content_type(0) epoch 3
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if rec.ev[5].size != 3 {
		t.Errorf("unified size %d", rec.ev[5].size)
	}
}

func TestConnCIDGuessed(t *testing.T) {
	rec := &recorder{}
	c := NewConn(Config{}, rec)
	d := cat([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1}, []byte{9, 9, 9, 9}, vec16(filled(20, 0)))
	c.Datagram(cl, t0, d)
	c.Datagram(cl, t0, d)
	if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyCIDGuessed}) || c.CIDLen(cl) != 4 {
		t.Fatalf("anomalies %v, cid %d", got, c.CIDLen(cl))
	}
}

func TestConnRecords(t *testing.T) {
	rec := &recorder{}
	c := NewConn(Config{}, rec)
	ack := []byte{0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4}
	c.Datagram(sv, t0, cat(record(ContentAlert, 0, 0, []byte{2, 40}), record(ContentACK, 0, 1, ack), record(ContentACK, 2, 1, filled(30, 0))))
	c.Datagram(sv, t0, []byte{0x2e, 0, 1, 0, 2, 1, 2, 0x2b, 0, 2, 9, 9, 9}) // epochs 2 and 3
	c.Datagram(sv, t0, record(ContentHeartbeat, 3, 0, filled(20, 0)))
	c.Datagram(sv, t0, record(ContentApplicationData, 3, 0, filled(20, 0))[:20])
	c.Datagram(sv, t0, []byte{0x16, 3, 3, 0, 1, 0})
	c.Datagram(sv, t0, record(ContentHandshake, 0, 0, []byte{1, 0, 0}))
	want := `server alert 2/40
server ack epoch 0 [{0 4}]
server ack epoch 2 []
server encrypted content_type(0) epoch 2
server encrypted content_type(0) epoch 3
server encrypted heartbeat epoch 3
server anomaly truncated
server anomaly malformed_record
server anomaly truncated
`
	if got := rec.summary(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !rec.ev[2].enc || rec.ev[2].size != 30 || rec.ev[4].size != 3 {
		t.Errorf("encrypted ack %+v, unified %+v", rec.ev[2], rec.ev[4])
	}
}

func TestConnLimits(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{MaxMessage: 100}, rec)}
		f.send(sv, f.frag(sv, TypeCertificate, 0, hsBody(200), 0, 50))
		f.send(sv, f.frag(sv, TypeCertificate, 0, hsBody(200), 50, 100))
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyHandshakeTooLarge}) || f.c.Stats(sv).Dropped != 2 {
			t.Fatalf("%v %+v", got, f.c.Stats(sv))
		}
	})
	t.Run("too many pending", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{MaxPendingMessages: 2}, rec)}
		f.send(sv, f.hs(sv, TypeServerHello, 0, serverHello()))
		for seq := uint16(2); seq < 6; seq++ {
			f.send(sv, f.frag(sv, TypeCertificate, seq, hsBody(100), 0, 10))
		}
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyTooManyPending, AnomalyTooManyPending}) {
			t.Fatalf("%v", got)
		}
	})
	t.Run("pending bytes", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{MaxPendingBytes: 1000}, rec)}
		f.send(sv, f.frag(sv, TypeCertificate, 0, hsBody(800), 0, 10))
		f.send(sv, f.frag(sv, TypeCertificate, 1, hsBody(800), 0, 10))
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyTooManyPending}) {
			t.Fatalf("%v", got)
		}
	})
	t.Run("too many pieces", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{MaxPieces: 4}, rec)}
		body := hsBody(100)
		for off := 0; off < 100; off += 10 {
			f.send(sv, f.frag(sv, TypeCertificate, 0, body, off, off+1))
		}
		if got := rec.anomalies(); len(got) == 0 || got[0] != AnomalyTooManyPieces {
			t.Fatalf("%v", got)
		}
	})
	t.Run("seq jump", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{}, rec)}
		f.send(sv, f.hs(sv, TypeServerHello, 0, serverHello()))
		f.send(sv, f.hs(sv, TypeCertificate, 1000, hsBody(10)))
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalySeqJump}) {
			t.Fatalf("%v", got)
		}
	})
	t.Run("mismatch and conflict", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{}, rec)}
		body := hsBody(100)
		other := slices.Clone(body)
		other[30] ^= 1
		f.send(sv, f.frag(sv, TypeCertificate, 0, body, 0, 40))
		f.send(sv, f.frag(sv, TypeServerKeyExchange, 0, body, 40, 60))
		f.send(sv, f.frag(sv, TypeCertificate, 0, other, 20, 100))
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyFragmentMismatch, AnomalyFragmentConflict}) {
			t.Fatalf("%v", got)
		}
		// The first copy won.
		if hs := rec.messages(false); len(hs) != 1 || !bytes.Equal(hs[0].msg, tlsMsg(TypeCertificate, body)) {
			t.Fatalf("%d messages", len(hs))
		}
	})
	t.Run("incomplete at close", func(t *testing.T) {
		rec := &recorder{}
		f := &feeder{c: NewConn(Config{}, rec)}
		f.send(sv, f.frag(sv, TypeCertificate, 0, hsBody(100), 0, 40))
		f.c.Close()
		if got := rec.anomalies(); !slices.Equal(got, []string{AnomalyIncompleteMessage}) || len(rec.messages(false)) != 0 {
			t.Fatalf("%v", got)
		}
	})
}

// A client that starts over at message_seq 0 with another hello is a new
// handshake, not a retransmission.
func TestConnRestart(t *testing.T) {
	rec := &recorder{}
	f := &feeder{c: NewConn(Config{}, rec)}
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello(nil)))
	f.send(cl, f.hs(cl, TypeClientHello, 0, clientHello([]byte("x"))))
	if hs := rec.messages(false); len(hs) != 2 {
		t.Fatalf("%s", rec.summary())
	}
}

// fragmentMessage cuts body into random, possibly overlapping fragments
// that cover it, duplicates some and shuffles them.
func fragmentMessage(rng *rand.Rand, body []byte) [][2]int {
	var pieces [][2]int
	for pos := 0; pos < len(body); {
		n := 1 + rng.IntN(len(body)-pos)
		if rng.IntN(3) == 0 {
			n = min(n, 1+rng.IntN(20))
		}
		start := pos
		if rng.IntN(4) == 0 && pos > 0 { // overlap backwards
			start = rng.IntN(pos)
		}
		pieces = append(pieces, [2]int{start, pos + n})
		pos += n
	}
	if len(body) == 0 {
		pieces = append(pieces, [2]int{0, 0})
	}
	for range rng.IntN(3) {
		pieces = append(pieces, pieces[rng.IntN(len(pieces))])
	}
	rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
	return pieces
}

// Property: any fragmentation and order of a flight reassembles to the
// original messages, each delivered once, in message_seq order.
func TestReassemblyProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		rec := &recorder{}
		c := NewConn(Config{MaxPieces: 1 << 10}, rec)
		n := 1 + rng.IntN(4)
		bodies := make([][]byte, n)
		type piece struct {
			seq      uint16
			from, to int
		}
		var all []piece
		for i := range bodies {
			bodies[i] = make([]byte, rng.IntN(3000))
			for j := range bodies[i] {
				bodies[i][j] = byte(rng.Uint32())
			}
			for _, p := range fragmentMessage(rng, bodies[i]) {
				all = append(all, piece{uint16(i), p[0], p[1]})
			}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		// Pack fragments into records and records into datagrams.
		var dgram, recBody []byte
		for k, p := range all {
			recBody = AppendFragment(recBody, TypeCertificate, len(bodies[p.seq]), p.seq, p.from, bodies[p.seq][p.from:p.to])
			if rng.IntN(2) == 0 || k == len(all)-1 {
				dgram = append(dgram, record(ContentHandshake, 0, uint64(k), recBody)...)
				recBody = recBody[:0]
			}
			if rng.IntN(2) == 0 || k == len(all)-1 {
				if len(dgram) > 0 {
					c.Datagram(sv, t0, dgram)
				}
				dgram = dgram[:0]
			}
		}
		c.Close()
		got := rec.messages(false)
		if len(got) != n || len(rec.anomalies()) != 0 {
			t.Fatalf("iter %d: %d messages of %d, anomalies %v", iter, len(got), n, rec.anomalies())
		}
		for i, e := range got {
			if !bytes.Equal(e.msg, tlsMsg(TypeCertificate, bodies[i])) {
				t.Fatalf("iter %d: message %d differs", iter, i)
			}
		}
		if s := c.Stats(sv); s.Messages != n || s.Fragments != len(all) {
			t.Fatalf("iter %d: stats %+v, %d fragments", iter, s, len(all))
		}
	}
}

func TestConnPlausible(t *testing.T) {
	c := NewConn(Config{}, nil)
	unified := []byte{0x2f, 0, 1, 0, 3, 9, 9, 9}
	if c.Plausible(cl, unified) {
		t.Fatal("unified before any handshake")
	}
	c.Datagram(cl, t0, hsRecord(0, TypeClientHello, 0, clientHello(nil)))
	if !c.Plausible(cl, unified) || c.Plausible(cl, []byte{0x2f, 0, 1, 0, 9, 9}) || c.Plausible(cl, []byte{0x80, 1}) {
		t.Fatal("Plausible after handshake")
	}
}
