package keys

import (
	"strings"
	"testing"
)

// Open against Peek on full 16 KiB application data records: Peek is what
// bulk data costs when only its type and length are wanted.
func BenchmarkRecord(b *testing.B) {
	for _, suite := range []uint16{0x1301, 0x1302, 0x1303, 0x1304} {
		s, _ := LookupSuite(suite)
		secret := testSecret(suite, 7)
		hdr, body := newSealer13(b, suite, secret).seal(23, make([]byte, 1<<14), 0)
		o, _ := NewTLS13Opener(suite, secret)
		dst := make([]byte, 0, len(body))
		b.Run(s.Name+"/Open", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				o.SetSeq(0)
				if _, _, err := o.Open(dst, hdr, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.Name+"/Peek", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				o.SetSeq(0)
				if _, _, err := o.Peek(hdr, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, suite := range []uint16{0xc02f, 0xc013} {
		p, master := params12(suite, VersionTLS12, false)
		hdr, body := newSealer12(b, p, master, true).seal(23, make([]byte, 1<<14))
		o, _, _ := NewTLS12Openers(p, master)
		dst := make([]byte, 0, len(body))
		b.Run(o.Suite().Name+"/Open", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				o.SetSeq(0)
				if _, _, err := o.Open(dst, hdr, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseKeyLog(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString("CLIENT_TRAFFIC_SECRET_0 ")
		sb.WriteString(strings.Repeat("0", 60))
		sb.WriteString(string("0123456789abcdef"[i%16]) + string("0123456789abcdef"[i/16%16]) + string("0123456789abcdef"[i/256%16]) + "0 ")
		sb.WriteString(s32 + "\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Parse(strings.NewReader(text), "bench"); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// The bulk path allocates nothing: Peek and Open into a caller's buffer,
// for the GCM and ChaCha20 suites met in practice.
func TestRecordDoesNotAllocate(t *testing.T) {
	for _, suite := range []uint16{0x1301, 0x1302, 0x1303} {
		secret := testSecret(suite, 7)
		hdr, body := newSealer13(t, suite, secret).seal(23, make([]byte, 1000), 0)
		o, _ := NewTLS13Opener(suite, secret)
		dst := make([]byte, 0, len(body))
		if n := testing.AllocsPerRun(50, func() {
			o.SetSeq(0)
			o.Peek(hdr, body)
			o.SetSeq(0)
			o.Open(dst, hdr, body)
		}); n != 0 {
			t.Errorf("%#04x: %v allocations per record", suite, n)
		}
	}
}
