package quic

import (
	"bytes"
	"errors"
	"testing"
)

func TestVarint(t *testing.T) {
	// RFC 9000 appendix A.1 examples.
	tests := []struct {
		hex  string
		want uint64
	}{
		{"c2197c5eff14e88c", 151288809941952652},
		{"9d7f3e7d", 494878333},
		{"7bbd", 15293},
		{"25", 37},
		{"4025", 37},
	}
	for _, tt := range tests {
		b := unhex(tt.hex)
		v, n := ReadVarint(b)
		if v != tt.want || n != len(b) {
			t.Errorf("ReadVarint(%s) = %d, %d", tt.hex, v, n)
		}
		for i := 0; i < len(b); i++ {
			if _, n := ReadVarint(b[:i]); n != 0 {
				t.Errorf("ReadVarint(%s[:%d]) read %d bytes", tt.hex, i, n)
			}
		}
		if tt.hex != "4025" && !bytes.Equal(AppendVarint(nil, tt.want), b) {
			t.Errorf("AppendVarint(%d) = %x", tt.want, AppendVarint(nil, tt.want))
		}
	}
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxVarint} {
		if got, n := ReadVarint(AppendVarint(nil, v)); got != v || n == 0 {
			t.Errorf("round trip %d: %d", v, got)
		}
	}
}

func TestVersionNames(t *testing.T) {
	for v, want := range map[Version]string{
		Version1: "v1", Version2: "v2", VersionDraft29: "draft-29", 0: "version_negotiation",
		0x1a2a3a4a: "grease(0x1a2a3a4a)", 0x51303530: "0x51303530",
	} {
		if v.String() != want {
			t.Errorf("%#x: %q, want %q", uint32(v), v.String(), want)
		}
	}
	if !Version1.Known() || !Version2.Known() || !VersionDraft29.Known() || Version(0x51303530).Known() {
		t.Error("Known")
	}
}

func TestParsePacketTypes(t *testing.T) {
	// Long-header type bits by version: v1 Initial 0b00, v2 Initial 0b01.
	mk := func(first byte, v Version) []byte {
		b := []byte{first, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v), 1, 0xaa, 1, 0xbb}
		if first&0x30 == 0x00 && v == Version1 || first&0x30 == 0x10 && v == Version2 {
			b = append(b, 0) // token length
		}
		return append(b, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	tests := []struct {
		first byte
		v     Version
		want  PacketType
	}{
		{0xc0, Version1, PacketInitial}, {0xd0, Version1, Packet0RTT}, {0xe0, Version1, PacketHandshake},
		{0xd0, Version2, PacketInitial}, {0xe0, Version2, Packet0RTT}, {0xf0, Version2, PacketHandshake},
		{0xc0, VersionDraft29, PacketInitial},
	}
	for _, tt := range tests {
		b := mk(tt.first, tt.v)
		if tt.v == VersionDraft29 {
			b = mk(tt.first, Version1)
			b[1], b[2], b[3], b[4] = 0xff, 0, 0, 0x1d
		}
		h, err := ParsePacket(b, 0)
		if err != nil || h.Type != tt.want || h.Len != len(b) || h.PNOffset != len(b)-20 {
			t.Errorf("%#x %v: %v %+v", tt.first, tt.v, err, h)
		}
	}
	// Retry: v1 0b11, v2 0b00.
	for _, pkt := range [][]byte{rfcRetry, rfcV2Retry} {
		if h, err := ParsePacket(pkt, 0); err != nil || h.Type != PacketRetry {
			t.Errorf("retry: %v %v", h.Type, err)
		}
	}
	// Version Negotiation.
	vn := unhex("80000000000008f067a5502a4262b50000000100000002ff00001d")
	h, err := ParsePacket(vn, 0)
	if err != nil || h.Type != PacketVersionNegotiation || len(h.DCID) != 0 {
		t.Fatalf("vn: %v %+v", err, h)
	}
	if vs := h.SupportedVersions(); len(vs) != 3 || vs[0] != Version1 || vs[2] != VersionDraft29 {
		t.Errorf("vn versions %v", vs)
	}
	if _, err := ParsePacket(vn[:len(vn)-1], 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("vn with a partial version: %v", err)
	}
	// Unknown version: the invariant fields, and ErrUnsupportedVersion.
	unk := unhex("c051303530" + "04" + "01020304" + "00" + "ffff")
	h, err = ParsePacket(unk, 0)
	if !errors.Is(err, ErrUnsupportedVersion) || !bytes.Equal(h.DCID, []byte{1, 2, 3, 4}) || h.Len != len(unk) {
		t.Errorf("unknown version: %v %+v", err, h)
	}
	// Connection IDs of 21 bytes are malformed in v1.
	long := append(unhex("c000000001"), 21)
	long = append(long, make([]byte, 40)...)
	if _, err := ParsePacket(long, 0); !errors.Is(err, ErrMalformed) {
		t.Errorf("21-byte dcid: %v", err)
	}
	// Short header.
	h, err = ParsePacket(unhex("41b01fd24a586a9cf33dec094aaec6d6b4b7a5e15f5a3f05"), 8)
	if err != nil || h.Type != Packet1RTT || !bytes.Equal(h.DCID, unhex("b01fd24a586a9cf3")) || h.PNOffset != 9 {
		t.Errorf("short: %v %+v", err, h)
	}
}

// Every strict prefix of a packet fails to parse, or parses as less than
// the whole packet (a long header's Length is then beyond the data).
func TestParsePacketPrefixes(t *testing.T) {
	for _, pkt := range [][]byte{rfcClientInitial, rfcServerInitial, rfcRetry, rfcV2ClientInitial,
		unhex("80000000000008f067a5502a4262b50000000100000002")} {
		full, err := ParsePacket(pkt, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(pkt); i++ {
			h, err := ParsePacket(pkt[:i], 0)
			if err == nil && (h.Type == full.Type && h.Type != PacketRetry && h.Type != PacketVersionNegotiation) {
				t.Fatalf("%v prefix %d parsed: %+v", full.Type, i, h)
			}
			if err == nil && h.Type == PacketRetry && bytes.Equal(h.RetryTag, full.RetryTag) {
				t.Fatalf("retry prefix %d kept the tag", i)
			}
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("prefix %d: %v", i, err)
			}
		}
	}
	// Prefixes of the protected packets never open.
	ck, _, _ := InitialKeys(Version1, rfcDCID)
	for i := 0; i < len(rfcClientInitial); i += 7 {
		p := append([]byte(nil), rfcClientInitial[:i]...)
		if pn, n, err := ck.Unprotect(p, 18, true, -1); err == nil {
			if _, err := ck.Decrypt(nil, p, n, pn); err == nil {
				t.Fatalf("prefix %d decrypted", i)
			}
		}
	}
}

func TestLooksLikeQUIC(t *testing.T) {
	if !LooksLikeQUIC(rfcClientInitial) || !LooksLikeClientInitial(rfcClientInitial) {
		t.Error("client Initial not recognised")
	}
	if !LooksLikeQUIC(rfcServerInitial) || LooksLikeClientInitial(rfcServerInitial) {
		t.Error("server Initial")
	}
	if !LooksLikeQUIC(rfcV2ClientInitial) || !LooksLikeQUIC(rfcRetry) {
		t.Error("v2 / retry")
	}
	for _, b := range [][]byte{nil, {0x16, 3, 1, 0, 5, 1, 0, 0, 1}, unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb"),
		unhex("c051303530040102030400ffff"), rfcClientInitial[:100]} {
		if LooksLikeQUIC(b) {
			t.Errorf("%x looks like QUIC", b)
		}
	}
}

func TestParseFrames(t *testing.T) {
	var b []byte
	b = append(b, 0, 0, 0) // padding
	b = append(b, 1)       // ping
	b = append(b, 3)
	b = AppendVarint(b, 100) // largest
	b = AppendVarint(b, 5)
	b = AppendVarint(b, 1)  // ranges
	b = AppendVarint(b, 10) // first: 90..100
	b = AppendVarint(b, 3)  // gap: next largest 90-3-2=85
	b = AppendVarint(b, 4)  // 81..85
	b = AppendVarint(b, 7)
	b = AppendVarint(b, 8)
	b = AppendVarint(b, 9)
	b = append(b, 6)
	b = AppendVarint(b, 1000)
	b = AppendVarint(b, 3)
	b = append(b, "abc"...)
	b = append(b, 0x0f)
	b = AppendVarint(b, 4)
	b = AppendVarint(b, 16)
	b = AppendVarint(b, 2)
	b = append(b, "hi"...)
	b = append(b, 0x1c)
	b = AppendVarint(b, 0x178)
	b = AppendVarint(b, 6)
	b = AppendVarint(b, 4)
	b = append(b, "nope"...)
	b = append(b, 0x1e)
	b = append(b, 0x1d)
	b = AppendVarint(b, 0x100)
	b = AppendVarint(b, 0)

	var got []Frame
	err := ParseFrames(b, func(f *Frame) error {
		got = append(got, *f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []FrameType{FramePadding, FramePing, FrameAckECN, FrameCrypto, 0x0f, FrameConnectionClose, FrameHandshakeDone, FrameConnectionCloseApp}
	if len(got) != len(want) {
		t.Fatalf("%d frames: %+v", len(got), got)
	}
	for i := range want {
		if got[i].Type != want[i] {
			t.Errorf("frame %d: %v, want %v", i, got[i].Type, want[i])
		}
	}
	if got[0].Padding != 3 || got[2].LargestAcked != 100 || !got[2].ECN || got[2].ECNCE != 9 {
		t.Errorf("padding/ack %+v %+v", got[0], got[2])
	}
	if got[3].Offset != 1000 || string(got[3].Data) != "abc" {
		t.Errorf("crypto %+v", got[3])
	}
	if got[4].StreamID != 4 || got[4].Offset != 16 || string(got[4].Data) != "hi" || !got[4].Fin {
		t.Errorf("stream %+v", got[4])
	}
	if a, ok := got[5].TLSAlert(); !ok || a != 120 || got[5].FrameType != 6 || string(got[5].Reason) != "nope" {
		t.Errorf("close %+v", got[5])
	}
	if _, ok := got[7].TLSAlert(); ok {
		t.Error("an application close is not a TLS alert")
	}
	// Every strict prefix fails or yields fewer frames, never a panic.
	for i := 0; i < len(b); i++ {
		n := 0
		err := ParseFrames(b[:i], func(*Frame) error { n++; return nil })
		if err == nil && n >= len(want) {
			t.Fatalf("prefix %d: all %d frames", i, n)
		}
	}
	// Unknown frame types stop the packet.
	if err := ParseFrames([]byte{1, 0x21, 1}, func(*Frame) error { return nil }); !errors.Is(err, ErrUnsupportedFrame) {
		t.Errorf("unknown: %v", err)
	}
	// Malformed ACKs.
	for _, bad := range []string{"02050001" + "06", "0205000102" + "09", "020500ff"} {
		if err := ParseFrames(unhex(bad), func(*Frame) error { return nil }); err == nil {
			t.Errorf("ack %s parsed", bad)
		}
	}
}

func TestTransportParameters(t *testing.T) {
	// The client's parameters of RFC 9001 A.2 (extension 0x39 body).
	tp := unhex("0408ffffffffffffffff05048000ffff07048000ffff08011001048000753009011" +
		"00f088394c8f03e51570806048000ffff")
	ps, err := ParseTransportParameters(tp)
	if err != nil {
		t.Fatal(err)
	}
	names := ""
	for _, p := range ps {
		names += p.ID.String() + " "
	}
	if names != "initial_max_data initial_max_stream_data_bidi_local initial_max_stream_data_uni initial_max_streams_bidi max_idle_timeout initial_max_streams_uni initial_source_connection_id initial_max_stream_data_bidi_remote " {
		t.Errorf("names %q", names)
	}
	if !ps[0].IsInt || ps[0].Int != 0x3fffffffffffffff || ps[4].Int != 30000 || ps[6].IsInt || !bytes.Equal(ps[6].Value, rfcDCID) {
		t.Errorf("values %+v", ps)
	}
	for i := 0; i < len(tp); i++ {
		if _, err := ParseTransportParameters(tp[:i]); err == nil && i != 0 && !prefixAtBoundary(tp, i) {
			t.Errorf("prefix %d parsed", i)
		}
	}
	for _, bad := range []string{
		"0102", "010140", // integer not a whole varint
		"0c0100", // flag with a value
		"0201aa", // reset token of 1 byte
		"110401020304" + "1103010203",
		"01011e01011e", // duplicate
	} {
		if _, err := ParseTransportParameters(unhex(bad)); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if TransportParameterID(27).String() != "grease(0x1b)" || TPVersionInformation.String() != "version_information" {
		t.Error("names")
	}
	ch, av, ok := VersionInformation(unhex("00000001" + "6b3343cf" + "00000001"))
	if !ok || ch != Version1 || len(av) != 2 || av[0] != Version2 {
		t.Error("version_information")
	}
}

// prefixAtBoundary reports whether tp[:i] ends exactly between parameters.
func prefixAtBoundary(tp []byte, i int) bool {
	for off := 0; off < len(tp); {
		if off == i {
			return true
		}
		_, n := ReadVarint(tp[off:])
		l, m := ReadVarint(tp[off+n:])
		off += n + m + int(l)
	}
	return false
}
