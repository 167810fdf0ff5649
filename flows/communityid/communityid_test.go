package communityid

import (
	"net/netip"
	"testing"
)

// The expected values were checked against an independent implementation
// (Wireshark's communityid dissector, tshark 4.0, -o communityid.seed:N) on
// packets built for the purpose; the first is the spec's own example.
var vectors = []struct {
	seed     uint16
	proto    uint8
	src, dst string
	want     string
}{
	{0, TCP, "128.232.110.120:34855", "66.35.250.204:80", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
	{1, TCP, "128.232.110.120:34855", "66.35.250.204:80", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
	{65535, TCP, "128.232.110.120:34855", "66.35.250.204:80", "1:/d+eV/2yBj6+sghh46Zm3KWWZCM="},
	// Equal addresses: the port decides the order.
	{0, TCP, "10.0.0.1:443", "10.0.0.1:1234", "1:pN5k0tWSByRHkBesoILrMeWdzdE="},
	{1, TCP, "10.0.0.1:443", "10.0.0.1:1234", "1:OVrqgOn9HSZmyaTNKCwSq/byBcg="},
	{0, UDP, "192.168.1.52:54585", "8.8.8.8:53", "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
	{1, UDP, "192.168.1.52:54585", "8.8.8.8:53", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
	{0, TCP, "[2001:db8::1]:51000", "[2001:db8::2]:443", "1:TZebe/ybIXr8J9lX26/lqPRYGuk="},
	{1, TCP, "[2001:db8::1]:51000", "[2001:db8::2]:443", "1:lQBZvBahtIZWDlE8fq259XuJY9o="},
	{65535, TCP, "[2001:db8::1]:51000", "[2001:db8::2]:443", "1:6ah7l+8MfJRk8/6dbW2oLay5XDA="},
	{0, UDP, "[fe80::1]:1", "[2001:db8::2]:2", "1:joybYDMCK3BJteNdFF4oF8DN61g="},
	{65535, UDP, "[fe80::1]:1", "[2001:db8::2]:2", "1:D6BGTpaEhUZGejACRMGahvxQpTE="},
}

func TestV1(t *testing.T) {
	for _, v := range vectors {
		src, dst := netip.MustParseAddrPort(v.src), netip.MustParseAddrPort(v.dst)
		if got := V1(v.seed, v.proto, src, dst); got != v.want {
			t.Errorf("V1(%d, %d, %s, %s) = %s, want %s", v.seed, v.proto, src, dst, got, v.want)
		}
		// Both directions of a flow share one identifier.
		if got := V1(v.seed, v.proto, dst, src); got != v.want {
			t.Errorf("V1(%d, %d, %s, %s) reversed = %s, want %s", v.seed, v.proto, dst, src, got, v.want)
		}
	}
}

func TestV1Distinguishes(t *testing.T) {
	a := netip.MustParseAddrPort("10.1.1.1:1000")
	b := netip.MustParseAddrPort("10.1.1.2:443")
	c := netip.MustParseAddrPort("10.1.1.2:444")
	if V1(0, TCP, a, b) == V1(0, TCP, a, c) {
		t.Error("different server ports gave the same id")
	}
	if V1(0, TCP, a, b) == V1(0, UDP, a, b) {
		t.Error("different protocols gave the same id")
	}
	// Without ports (a protocol that has none), the ports must not matter.
	if V1(0, 47, a, b) != V1(0, 47, a, c) {
		t.Error("GRE id depends on ports")
	}
}

func TestAppendV1NoAlloc(t *testing.T) {
	src := netip.MustParseAddrPort("[2001:db8::1]:51000")
	dst := netip.MustParseAddrPort("[2001:db8::2]:443")
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendV1(buf[:0], 0, TCP, src, dst)
	})
	if allocs != 0 {
		t.Errorf("AppendV1 allocates %v times, want 0", allocs)
	}
	if string(buf) != "1:TZebe/ybIXr8J9lX26/lqPRYGuk=" {
		t.Errorf("AppendV1 = %s", buf)
	}
	allocs = testing.AllocsPerRun(100, func() { _ = V1(0, TCP, src, dst) })
	if allocs > 1 {
		t.Errorf("V1 allocates %v times, want at most 1 (the string)", allocs)
	}
}

func BenchmarkV1(b *testing.B) {
	src := netip.MustParseAddrPort("128.232.110.120:34855")
	dst := netip.MustParseAddrPort("66.35.250.204:80")
	b.ReportAllocs()
	b.SetBytes(2 + 4 + 4 + 2 + 4)
	for b.Loop() {
		_ = V1(0, TCP, src, dst)
	}
}

func BenchmarkAppendV1IPv6(b *testing.B) {
	src := netip.MustParseAddrPort("[2001:db8::1]:51000")
	dst := netip.MustParseAddrPort("[2001:db8::2]:443")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	b.SetBytes(2 + 16 + 16 + 2 + 4)
	for b.Loop() {
		buf = AppendV1(buf[:0], 0, TCP, src, dst)
	}
}

// FuzzV1Symmetric checks, for arbitrary endpoints, that both directions of a
// flow get one identifier of the right shape.
func FuzzV1Symmetric(f *testing.F) {
	f.Add(uint16(0), uint8(TCP), []byte{128, 232, 110, 120}, uint16(34855), []byte{66, 35, 250, 204}, uint16(80))
	f.Add(uint16(7), uint8(UDP), make([]byte, 16), uint16(1), make([]byte, 16), uint16(1))
	f.Fuzz(func(t *testing.T, seed uint16, proto uint8, a []byte, ap uint16, b []byte, bp uint16) {
		aa, ok1 := netip.AddrFromSlice(a)
		ba, ok2 := netip.AddrFromSlice(b)
		if !ok1 || !ok2 || aa.Is4() != ba.Is4() {
			return
		}
		x, y := netip.AddrPortFrom(aa, ap), netip.AddrPortFrom(ba, bp)
		id := V1(seed, proto, x, y)
		if len(id) != encodedLen || id[:2] != prefix {
			t.Fatalf("malformed id %q", id)
		}
		if rev := V1(seed, proto, y, x); rev != id {
			t.Fatalf("asymmetric: %s vs %s", id, rev)
		}
	})
}
