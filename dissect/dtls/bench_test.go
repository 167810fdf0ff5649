package dtls

import "testing"

// flight12 is a DTLS 1.2 handshake with a fragmented Certificate, as
// datagrams by direction.
func flight12() (dirs []int, dgrams [][]byte) {
	f := &feeder{}
	cert := hsBody(3000)
	add := func(d int, recs ...[]byte) { dirs, dgrams = append(dirs, d), append(dgrams, cat(recs...)) }
	add(0, f.hs(cl, TypeClientHello, 0, clientHello(nil, ext(0, []byte{0, 0}))))
	add(1, f.hs(sv, TypeHelloVerifyRequest, 0, helloVerify(filled(16, 0))))
	add(0, f.hs(cl, TypeClientHello, 1, clientHello(filled(16, 0), ext(0, []byte{0, 0}))))
	add(1, f.hs(sv, TypeServerHello, 1, serverHello()), f.frag(sv, TypeCertificate, 2, cert, 0, 1200))
	add(1, f.frag(sv, TypeCertificate, 2, cert, 1200, 2400))
	add(1, f.frag(sv, TypeCertificate, 2, cert, 2400, 3000), f.hs(sv, TypeServerKeyExchange, 3, hsBody(150)), f.hs(sv, TypeServerHelloDone, 4, nil))
	add(0, f.hs(cl, TypeClientKeyExchange, 2, hsBody(66)), f.rec(cl, ContentChangeCipherSpec, 0, []byte{1}), record(ContentHandshake, 1, 0, filled(40, 0)))
	add(1, f.rec(sv, ContentChangeCipherSpec, 0, []byte{1}), record(ContentHandshake, 1, 0, filled(40, 0)))
	for i := range 8 {
		add(i&1, record(ContentApplicationData, 1, uint64(i+1), filled(1000, 0)))
	}
	return dirs, dgrams
}

func BenchmarkParseRecord(b *testing.B) {
	d := cat(record(ContentApplicationData, 1, 1, filled(1200, 0)), record(ContentApplicationData, 1, 2, filled(100, 0)))
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		for rest := d; len(rest) > 0; {
			_, n, err := ParseRecord(rest, CIDUnknown)
			if err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}

func BenchmarkLooksLikeDTLS(b *testing.B) {
	d := hsRecord(0, TypeClientHello, 0, clientHello(nil, ext(0, []byte{0, 0})))
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		if !LooksLikeDTLS(d) {
			b.Fatal("no")
		}
	}
}

// BenchmarkConnHandshake feeds a whole association to a fresh Conn.
func BenchmarkConnHandshake(b *testing.B) {
	dirs, dgrams := flight12()
	n := 0
	for _, d := range dgrams {
		n += len(d)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(Config{}, NopSink{})
		for i, d := range dgrams {
			c.Datagram(packetDir(dirs[i]), t0, d)
		}
		c.Close()
	}
}

// Once a Conn is warm, application data costs no allocation, and neither
// does a handshake message whose buffers are reused.
func TestConnSteadyStateDoesNotAlloc(t *testing.T) {
	c := NewConn(Config{}, NopSink{})
	dirs, dgrams := flight12()
	for i, d := range dgrams {
		c.Datagram(packetDir(dirs[i]), t0, d)
	}
	app := record(ContentApplicationData, 1, 99, filled(1000, 0))
	if n := testing.AllocsPerRun(100, func() { c.Datagram(cl, t0, app) }); n != 0 {
		t.Errorf("application data: %v allocations", n)
	}
	// Retransmissions of a whole message: recognised without allocating.
	retx := hsRecord(50, TypeServerKeyExchange, 3, hsBody(150))
	if n := testing.AllocsPerRun(100, func() { c.Datagram(sv, t0, retx) }); n != 0 {
		t.Errorf("retransmission: %v allocations", n)
	}
}
