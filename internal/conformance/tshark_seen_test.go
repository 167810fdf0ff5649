package conformance

import (
	"strings"
	"testing"
)

// TestSameSeenByTshark: a run of HS:unparsed (records tshark could not
// dissect) stands for one or more of our handshake messages in that
// direction, and for nothing else.
func TestSameSeenByTshark(t *testing.T) {
	seq := func(s string) []string { return strings.Fields(s) }
	cases := []struct {
		ours, ref string
		want      bool
	}{
		{"C:HS:ClientHello S:HS:ServerHello", "C:HS:ClientHello S:HS:ServerHello", true},
		{"C:HS:ClientHello S:HS:ServerHello S:HS:Certificate S:HS:ServerHelloDone", "C:HS:ClientHello S:HS:ServerHello S:HS:unparsed S:HS:unparsed S:HS:unparsed", true},
		{"C:HS:ClientHello S:HS:ServerHello S:HS:Certificate C:HS:ClientKeyExchange", "C:HS:ClientHello S:HS:ServerHello S:HS:unparsed C:HS:ClientKeyExchange", true},
		// unparsed never stands for nothing, nor for the other direction,
		// nor for records that are not handshake messages.
		{"C:HS:ClientHello S:HS:ServerHello", "C:HS:ClientHello S:HS:ServerHello S:HS:unparsed", false},
		{"C:HS:ClientHello C:HS:Certificate", "C:HS:ClientHello S:HS:unparsed", false},
		{"C:HS:ClientHello S:CCS", "C:HS:ClientHello S:HS:unparsed", false},
		{"C:HS:ClientHello S:HS:ServerHello", "C:HS:ClientHello S:HS:Certificate", false},
	}
	for _, c := range cases {
		if got := sameSeenByTshark(seq(c.ours), seq(c.ref)); got != c.want {
			t.Errorf("ours %q, tshark %q: got %v, want %v", c.ours, c.ref, got, c.want)
		}
	}
}
