package dtls

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseRecord(t *testing.T) {
	plain := record(ContentHandshake, 0, 0x010203040506, []byte("abc"))
	cid := cat([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9}, []byte{0xaa, 0xbb}, []byte{0, 2}, []byte("xy"))
	tests := []struct {
		name    string
		in      []byte
		cidLen  int
		want    Record
		used    int
		wantErr error
	}{
		{name: "plain", in: plain, cidLen: CIDUnknown, used: 16,
			want: Record{Form: FormPlain, Type: ContentHandshake, Version: VersionDTLS12, Seq: 0x010203040506, SeqLen: 6, Fragment: []byte("abc")}},
		{name: "plain with another after", in: cat(plain, plain), cidLen: CIDUnknown, used: 16,
			want: Record{Form: FormPlain, Type: ContentHandshake, Version: VersionDTLS12, Seq: 0x010203040506, SeqLen: 6, Fragment: []byte("abc")}},
		{name: "tls12_cid", in: cid, cidLen: 2, used: len(cid),
			want: Record{Form: FormCID, Type: ContentTLS12CID, Version: VersionDTLS12, Epoch: 1, Seq: 9, SeqLen: 6, CID: []byte{0xaa, 0xbb}, Fragment: []byte("xy")}},
		{name: "tls12_cid unknown length", in: cid, cidLen: CIDUnknown, wantErr: ErrCIDLength},
		{name: "unified 16-bit seq with length", in: []byte{0x2e, 0x12, 0x34, 0, 2, 'h', 'i', 'z'}, cidLen: CIDUnknown, used: 7,
			want: Record{Form: FormUnified, Epoch: 2, Seq: 0x1234, SeqLen: 2, Fragment: []byte("hi")}},
		{name: "unified 8-bit seq no length", in: []byte{0x23, 0x07, 'a', 'b', 'c'}, cidLen: CIDUnknown, used: 5,
			want: Record{Form: FormUnified, Epoch: 3, Seq: 7, SeqLen: 1, NoLength: true, Fragment: []byte("abc")}},
		{name: "unified with cid", in: []byte{0x3c, 0xc1, 0xc2, 0xc3, 0, 5, 0, 1, 'q'}, cidLen: 3, used: 9,
			want: Record{Form: FormUnified, Epoch: 0, Seq: 5, SeqLen: 2, CID: []byte{0xc1, 0xc2, 0xc3}, Fragment: []byte("q")}},
		{name: "unified cid unknown", in: []byte{0x3c, 0xc1, 0, 5, 0, 1, 'q'}, cidLen: CIDUnknown, wantErr: ErrCIDLength},
		{name: "empty", in: nil, cidLen: CIDUnknown, wantErr: ErrTruncated},
		{name: "type too low", in: cat([]byte{19}, plain[1:]), cidLen: CIDUnknown, wantErr: ErrMalformed},
		{name: "type stun", in: cat([]byte{0}, plain[1:]), cidLen: CIDUnknown, wantErr: ErrMalformed},
		{name: "tls version", in: cat([]byte{22, 3, 3}, plain[3:]), cidLen: CIDUnknown, wantErr: ErrMalformed},
		{name: "length over max", in: AppendPlainHeader(nil, ContentApplicationData, VersionDTLS12, 1, 0, MaxRecordLen+1), cidLen: CIDUnknown, wantErr: ErrMalformed},
		{name: "length past datagram", in: AppendPlainHeader(nil, ContentApplicationData, VersionDTLS12, 1, 0, 10), cidLen: CIDUnknown, wantErr: ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n, err := ParseRecord(tt.in, tt.cidLen)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Field == "" {
					t.Fatalf("err %v is no ParseError naming a field", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.used {
				t.Errorf("used %d, want %d", n, tt.used)
			}
			if r.Form != tt.want.Form || r.Type != tt.want.Type || r.Version != tt.want.Version || r.Epoch != tt.want.Epoch ||
				r.Seq != tt.want.Seq || r.SeqLen != tt.want.SeqLen || r.NoLength != tt.want.NoLength ||
				!bytes.Equal(r.CID, tt.want.CID) || !bytes.Equal(r.Fragment, tt.want.Fragment) {
				t.Errorf("got %+v\nwant %+v", r, tt.want)
			}
			if r.Len() != n || !bytes.Equal(cat(r.Header, r.Fragment), tt.in[:n]) {
				t.Errorf("header+fragment do not make the record")
			}
			if r.Form == FormPlain && r.Encrypted() != (r.Epoch > 0) || r.Form != FormPlain && !r.Encrypted() {
				t.Errorf("Encrypted() = %v", r.Encrypted())
			}
		})
	}
}

// Every strict prefix of a record with a length field must fail, and
// with ErrTruncated.
func TestParseRecordPrefixes(t *testing.T) {
	for _, tc := range []struct {
		in     []byte
		cidLen int
	}{
		{record(ContentHandshake, 0, 1, hsBody(40)), CIDUnknown},
		{cat([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9}, []byte{0xaa, 0xbb}, []byte{0, 2}, []byte("xy")), 2},
		{[]byte{0x3e, 0xc1, 0xc2, 0x12, 0x34, 0, 3, 1, 2, 3}, 2},
	} {
		for i := range len(tc.in) {
			_, _, err := ParseRecord(tc.in[:i], tc.cidLen)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("prefix %d of % x: err = %v, want truncated", i, tc.in, err)
			}
		}
	}
}

func hsBody(n int) []byte { return filled(n, 0x40) }

func TestParseFragment(t *testing.T) {
	body := hsBody(100)
	whole := AppendFragment(nil, TypeCertificate, 100, 3, 0, body)
	f, n, err := ParseFragment(whole)
	if err != nil || n != len(whole) || f.Type != TypeCertificate || f.Length != 100 || f.MessageSeq != 3 || f.Offset != 0 || !bytes.Equal(f.Data, body) {
		t.Fatalf("whole: %+v %d %v", f, n, err)
	}
	part := AppendFragment(nil, TypeCertificate, 100, 3, 60, body[60:90])
	f, _, err = ParseFragment(part)
	if err != nil || f.Offset != 60 || !bytes.Equal(f.Data, body[60:90]) {
		t.Fatalf("part: %+v %v", f, err)
	}
	for i := range len(part) {
		if _, _, err := ParseFragment(part[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	// A fragment past its message's end.
	bad := AppendFragment(nil, TypeCertificate, 100, 3, 90, body[:20])
	if _, _, err := ParseFragment(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("past end: %v", err)
	}
}

func TestClientHelloTLS(t *testing.T) {
	cookie := filled(20, 0x90)
	sni := ext(0, []byte{0, 6, 0, 0, 3, 'a', '.', 'b'})
	for _, tc := range []struct {
		name   string
		cookie []byte
		exts   [][]byte
	}{
		{"no cookie no extensions", nil, nil},
		{"cookie", cookie, [][]byte{sni}},
		{"empty extensions block", cookie, [][]byte{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dtls := clientHello(tc.cookie, tc.exts...)
			want := clientHello(nil, tc.exts...)
			want = append(want[:34+1], want[34+2:]...) // drop the empty cookie's length byte
			got, ck, err := ClientHelloTLS([]byte("x"), dtls)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], want) || got[0] != 'x' || !bytes.Equal(ck, tc.cookie) {
				t.Fatalf("got % x cookie % x\nwant % x", got, ck, want)
			}
			msg, ck2, err := ClientHelloMessageTLS(nil, tlsMsg(TypeClientHello, dtls))
			if err != nil || !bytes.Equal(msg, tlsMsg(TypeClientHello, want)) || !bytes.Equal(ck2, tc.cookie) {
				t.Fatalf("message: % x %v", msg, err)
			}
			for i := range len(dtls) {
				if len(tc.exts) == 0 && i == len(dtls) { // never: i < len
					continue
				}
				out, _, err := ClientHelloTLS(nil, dtls[:i])
				// A prefix ending just before the extensions block is a
				// valid hello without extensions.
				if i == len(clientHello(tc.cookie)) && err == nil {
					continue
				}
				if err == nil {
					t.Fatalf("prefix %d parsed: % x", i, out)
				}
			}
		})
	}
	bad := map[string][]byte{
		"long session id": cat([]byte{0xfe, 0xfd}, filled(32, 1), vec8(filled(33, 0)), vec8(nil), vec16([]byte{0, 1}), vec8([]byte{0})),
		"odd suites":      cat([]byte{0xfe, 0xfd}, filled(32, 1), vec8(nil), vec8(nil), vec16([]byte{0}), vec8([]byte{0})),
		"no compression":  cat([]byte{0xfe, 0xfd}, filled(32, 1), vec8(nil), vec8(nil), vec16([]byte{0, 1}), vec8(nil)),
		"trailing":        cat(clientHello(nil, sni), []byte{0}),
	}
	for name, b := range bad {
		if _, _, err := ClientHelloTLS(nil, b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := ClientHelloMessageTLS(nil, tlsMsg(TypeServerHello, clientHello(nil))); err == nil {
		t.Error("ServerHello taken for a ClientHello")
	}
}

func TestHelloVerifyRequest(t *testing.T) {
	b := helloVerify([]byte("cookie!"))
	h, err := ParseHelloVerifyRequest(b)
	if err != nil || h.ServerVersion != VersionDTLS10 || string(h.Cookie) != "cookie!" {
		t.Fatalf("%+v %v", h, err)
	}
	for i := range len(b) {
		if _, err := ParseHelloVerifyRequest(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, err := ParseHelloVerifyRequest(append(b, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestUseSRTP(t *testing.T) {
	u := UseSRTP{Profiles: []SRTPProtectionProfile{7, 1, 2, 0x1234}, MKI: []byte{9, 8}}
	b := AppendUseSRTP(nil, u)
	got, err := ParseUseSRTP(b)
	if err != nil || len(got.Profiles) != 4 || got.Profiles[0] != 7 || got.Profiles[3] != 0x1234 || !bytes.Equal(got.MKI, u.MKI) {
		t.Fatalf("%+v %v", got, err)
	}
	names := []string{"SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_HMAC_SHA1_80", "SRTP_AES128_CM_HMAC_SHA1_32", "0x1234"}
	for i, p := range got.Profiles {
		if p.String() != names[i] {
			t.Errorf("%d: %s, want %s", i, p, names[i])
		}
	}
	for i := range len(b) {
		if _, err := ParseUseSRTP(b[:i]); err == nil {
			t.Fatalf("prefix %d parsed", i)
		}
	}
	for name, bad := range map[string][]byte{
		"empty list": {0, 0, 0},
		"odd list":   {0, 3, 0, 1, 0, 0},
		"trailing":   {0, 2, 0, 1, 0, 0},
	} {
		if _, err := ParseUseSRTP(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFindExtension(t *testing.T) {
	srtp := AppendUseSRTP(nil, UseSRTP{Profiles: []SRTPProtectionProfile{1}})
	ch := clientHello([]byte("ck"), ext(0, []byte{0, 0}), ext(ExtUseSRTP, srtp), ext(ExtConnectionID, vec8([]byte{1, 2, 3})))
	data, ok, err := FindExtension(ch, true, ExtUseSRTP)
	if err != nil || !ok || !bytes.Equal(data, srtp) {
		t.Fatalf("use_srtp: % x %v %v", data, ok, err)
	}
	data, ok, err = FindExtension(ch, true, ExtConnectionID)
	if cid, perr := ParseConnectionID(data); err != nil || !ok || perr != nil || len(cid) != 3 {
		t.Fatalf("connection_id: % x %v %v %v", data, ok, err, perr)
	}
	if _, ok, err := FindExtension(ch, true, 99); ok || err != nil {
		t.Fatalf("absent: %v %v", ok, err)
	}
	sh := serverHello(ext(ExtUseSRTP, srtp))
	if data, ok, err := FindExtension(sh, false, ExtUseSRTP); err != nil || !ok || !bytes.Equal(data, srtp) {
		t.Fatalf("server use_srtp: %v %v", ok, err)
	}
	if _, _, err := FindExtension(clientHello(nil, ext(1, []byte{1}))[:60], true, 1); err == nil {
		t.Fatal("cut hello parsed")
	}
}

func TestParseACK(t *testing.T) {
	b := []byte{0, 32, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 0}
	got, err := ParseACK(nil, b)
	if err != nil || len(got) != 2 || got[0] != (RecordNumber{2, 5}) || got[1] != (RecordNumber{3, 256}) {
		t.Fatalf("%v %v", got, err)
	}
	for i := range len(b) {
		if _, err := ParseACK(nil, b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, err := ParseACK(nil, []byte{0, 3, 1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("odd list: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		b    byte
		want PayloadKind
	}{
		{0, KindSTUN}, {3, KindSTUN}, {4, KindUnknown}, {15, KindUnknown}, {16, KindZRTP}, {19, KindZRTP},
		{20, KindDTLS}, {63, KindDTLS}, {64, KindTURNChannel}, {79, KindTURNChannel}, {80, KindQUIC},
		{127, KindQUIC}, {128, KindRTP}, {191, KindRTP}, {192, KindQUIC}, {255, KindQUIC},
	} {
		if got := Classify([]byte{tc.b, 0}); got != tc.want {
			t.Errorf("%d: %s, want %s", tc.b, got, tc.want)
		}
	}
	if Classify(nil) != KindUnknown {
		t.Error("empty")
	}
	stun := cat([]byte{0, 1, 0, 4, 0x21, 0x12, 0xa4, 0x42}, filled(12, 0), []byte{0, 0, 0, 0})
	if !LooksLikeSTUN(stun) || LooksLikeSTUN(stun[:23]) {
		t.Error("LooksLikeSTUN")
	}
}

func TestLooksLikeDTLS(t *testing.T) {
	ch := hsRecord(0, TypeClientHello, 0, clientHello(nil))
	app := record(ContentApplicationData, 1, 5, filled(30, 0))
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"client hello", ch, true},
		{"two records", cat(ch, app), true},
		{"record then unified", cat(hsRecord(0, TypeServerHello, 0, serverHello()), []byte{0x2a, 0, 1, 0, 2, 1, 2}), true},
		{"record then tls12_cid", cat(app, []byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0xaa, 0xbb, 0, 1, 'x'}), true},
		{"dtls 1.0", append(AppendPlainHeader(nil, ContentAlert, VersionDTLS10, 0, 0, 2), 2, 40), true},
		{"trailing byte", cat(ch, []byte{0}), false},
		{"cut", ch[:len(ch)-1], false},
		{"tls record", cat([]byte{22, 3, 1}, ch[3:]), false},
		{"openssl bad version is not claimed", append(AppendPlainHeader(nil, ContentAlert, VersionDTLS10OpenSSL, 0, 0, 2), 2, 40), false},
		{"unified only", []byte{0x2a, 0, 1, 0, 2, 1, 2}, false},
		{"handshake record of junk", record(ContentHandshake, 0, 0, []byte{1, 2, 3}), false},
		{"rtp", cat([]byte{0x80, 0x60}, filled(20, 0)), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := LooksLikeDTLS(tt.in); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{VersionDTLS12.String(), "DTLS 1.2"}, {Version(0x1234).String(), "0x1234"},
		{ContentACK.String(), "ack"}, {ContentType(99).String(), "content_type(99)"},
		{TypeHelloVerifyRequest.String(), "hello_verify_request"}, {HandshakeType(200).String(), "handshake_type(200)"},
		{TypeMessageHash.String(), "message_hash"}, {FormUnified.String(), "unified"}, {KindTURNChannel.String(), "turn_channel"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

func TestReconstructEpoch(t *testing.T) {
	for _, tc := range []struct{ max, bits, want uint16 }{
		{0, 2, 2}, {2, 3, 3}, {3, 0, 4}, {4, 3, 3}, {5, 0, 4}, {7, 1, 9}, {9, 3, 11}, {10, 3, 11}, {10, 1, 9}, {0, 0, 0}, {65535, 0, 65532},
	} {
		if got := reconstructEpoch(tc.max, tc.bits); got != tc.want {
			t.Errorf("max %d bits %d: %d, want %d", tc.max, tc.bits, got, tc.want)
		}
	}
}
