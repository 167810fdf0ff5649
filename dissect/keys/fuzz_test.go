package keys

import (
	"bytes"
	"testing"
)

// fuzzOpeners are the openers FuzzOpen picks from by its first argument:
// the five TLS 1.3 suites and TLS 1.2 GCM, ChaCha20, CCM_8, CBC and
// encrypt-then-MAC, TLS 1.0 chained CBC.
func fuzzOpener(t testing.TB, which uint8) (open, peek Opener, seal func(typ uint8, content []byte, pad int) (hdr, body []byte)) {
	n := int(which) % (len(tls13Suites) + 6)
	if n < len(tls13Suites) {
		suite := tls13Suites[n]
		secret := testSecret(suite, 9)
		o, _ := NewTLS13Opener(suite, secret)
		p, _ := NewTLS13Opener(suite, secret)
		s := newSealer13(t, suite, secret)
		return o, p, s.seal
	}
	tc := []struct {
		suite, version uint16
		etm            bool
	}{
		{0xc02f, VersionTLS12, false}, {0xcca9, VersionTLS12, false}, {0xc0ae, VersionTLS12, false},
		{0xc027, VersionTLS12, false}, {0x0035, VersionTLS11, true}, {0xc013, VersionTLS10, false},
	}[n-len(tls13Suites)]
	p, master := params12(tc.suite, tc.version, tc.etm)
	o, _, _ := NewTLS12Openers(p, master)
	q, _, _ := NewTLS12Openers(p, master)
	w := newSealer12(t, p, master, true)
	return o, q, func(typ uint8, content []byte, _ int) ([]byte, []byte) { return w.seal(typ, content) }
}

// FuzzOpen: arbitrary records never panic; a record sealed from the fuzzed
// content opens back to it; whenever Open succeeds, Peek on an opener at
// the same sequence number tells the same type and length.
func FuzzOpen(f *testing.F) {
	for i := range len(tls13Suites) + 6 {
		_, _, seal := fuzzOpener(f, uint8(i))
		hdr, body := seal(23, []byte("GET / HTTP/1.1\r\n"), 3)
		f.Add(uint8(i), uint8(23), uint8(3), []byte("GET / HTTP/1.1\r\n"), append(hdr, body...))
		hdr, body = seal(21, []byte{1, 0}, 0)
		f.Add(uint8(i), uint8(21), uint8(0), []byte{2, 40}, append(hdr, body...))
	}
	f.Fuzz(func(t *testing.T, which, typ, pad uint8, content, raw []byte) {
		if len(content) > 1<<14 {
			content = content[:1<<14]
		}
		// Arbitrary bytes as a record, header and all.
		o, p, seal := fuzzOpener(t, which)
		if len(raw) >= 5 {
			hdr, body := raw[:5], raw[5:]
			ptyp, pn, perr := p.Peek(hdr, body)
			gtyp, pt, err := o.Open(nil, hdr, body)
			if err == nil && (perr != nil || ptyp != gtyp || pn != len(pt)) {
				t.Fatalf("Open %d, %d; Peek %d, %d, %v", gtyp, len(pt), ptyp, pn, perr)
			}
		}
		// A sealed record opens, in place, to what was sealed.
		if typ == 0 {
			typ = 23 // a zero type would read as padding
		}
		o, p, seal = fuzzOpener(t, which)
		hdr, body := seal(typ, content, int(pad))
		ptyp, pn, perr := p.Peek(hdr, body)
		gtyp, pt, err := o.Open(body[:0], hdr, body)
		if err != nil || gtyp != typ || !bytes.Equal(pt, content) {
			t.Fatalf("sealed record: Open %d, %d bytes, %v", gtyp, len(pt), err)
		}
		if perr != nil || ptyp != typ || pn != len(content) {
			t.Fatalf("sealed record: Peek %d, %d, %v", ptyp, pn, perr)
		}
	})
}
