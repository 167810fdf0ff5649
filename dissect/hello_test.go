package dissect

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
	"golang.org/x/crypto/cryptobyte"
)

// checkPrefixes asserts that every strict prefix of msg fails to parse with
// a ParseError naming a field, except the lengths listed in valid (where the
// message legitimately ends early, e.g. before an optional extensions block).
func checkPrefixes(t *testing.T, msg []byte, parse func([]byte) error, valid ...int) {
	t.Helper()
	ok := map[int]bool{}
	for _, v := range valid {
		ok[v] = true
	}
	for i := 0; i < len(msg); i++ {
		err := parse(msg[:i])
		if ok[i] {
			if err != nil {
				t.Errorf("prefix %d/%d: want success, got %v", i, len(msg), err)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("prefix %d/%d: want a *ParseError, got %v", i, len(msg), err)
		}
		if pe.Field == "" || pe.Msg == "" {
			t.Fatalf("prefix %d/%d: error names no field: %v", i, len(msg), err)
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %d/%d: error wraps neither ErrTruncated nor ErrMalformed: %v", i, len(msg), err)
		}
		if pe.Offset < 0 || pe.Offset > i {
			t.Fatalf("prefix %d/%d: offset %d outside the input", i, len(msg), pe.Offset)
		}
	}
}

func TestClientHelloRoundTrip(t *testing.T) {
	spec, want := chromeLikeHello()
	body := buildClientHello(spec)
	got, err := ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The ClientHello owns its memory: scribbling on the input changes nothing.
	for i := range body {
		body[i] ^= 0xff
	}
	if got.ServerName != "example.com" || got.Random[0] != 1 || got.Extensions[1].Data[5] != 'e' {
		t.Error("parsed ClientHello aliases its input")
	}
}

func TestClientHelloPrefixes(t *testing.T) {
	spec, _ := chromeLikeHello()
	body := buildClientHello(spec)
	noExt := len(buildClientHello(helloSpec{version: spec.version, random: spec.random, sid: spec.sid, suites: spec.suites, comp: spec.comp}))
	checkPrefixes(t, body, func(b []byte) error { _, err := ParseClientHello(b); return err }, noExt)
}

func TestClientHelloWithoutExtensions(t *testing.T) {
	body := buildClientHello(helloSpec{version: 0x0301, random: testRandom(9), suites: []uint16{0x002f, 0x0035}, comp: []uint8{1, 0}})
	ch, err := ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	if ch.LegacyVersion != VersionTLS10 || len(ch.CipherSuites) != 2 || ch.Extensions != nil || len(ch.SessionID) != 0 || len(ch.CompressionMethods) != 2 {
		t.Errorf("got %+v", ch)
	}
}

// Each extension alone, round-tripped into its decoded field.
func TestClientHelloExtensions(t *testing.T) {
	cases := []struct {
		name  string
		ext   Extension
		check func(ch *ClientHello) bool
	}{
		{"server_name", extSNI("a.example"), func(ch *ClientHello) bool { return ch.ServerName == "a.example" }},
		{"alpn", extALPNList("h2"), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.ALPN, []string{"h2"}) }},
		{"supported_versions", extVersionsCH(0x0304, 0x7f17), func(ch *ClientHello) bool {
			return reflect.DeepEqual(ch.SupportedVersions, []Version{0x0304, 0x7f17})
		}},
		{"supported_groups", extU16List(extSupportedGroups, 29, 256), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.SupportedGroups, []uint16{29, 256}) }},
		{"ec_point_formats", extU8List(extECPointFormats, 0, 1, 2), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.ECPointFormats, []uint8{0, 1, 2}) }},
		{"signature_algorithms", extU16List(extSignatureAlgorithms, 0x0807), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.SignatureAlgorithms, []uint16{0x0807}) }},
		{"signature_algorithms_cert", extU16List(extSignatureAlgsCert, 0x0401), func(ch *ClientHello) bool {
			return reflect.DeepEqual(ch.SignatureAlgorithmsCert, []uint16{0x0401})
		}},
		{"key_share", extKeyShareCH(29, 23), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.KeyShareGroups, []uint16{29, 23}) }},
		{"key_share empty", extKeyShareCH(), func(ch *ClientHello) bool { return ch.KeyShareGroups != nil && len(ch.KeyShareGroups) == 0 }},
		{"pre_shared_key", extPSKOffer(PSKIdentity{[]byte("ticket-1"), 77}, PSKIdentity{[]byte("t2"), 1}), func(ch *ClientHello) bool {
			return len(ch.PSKIdentities) == 2 && string(ch.PSKIdentities[0].Identity) == "ticket-1" && ch.PSKIdentities[0].ObfuscatedTicketAge == 77
		}},
		{"psk_key_exchange_modes", extU8List(extPSKModes, 1, 0), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.PSKModes, []uint8{1, 0}) }},
		{"early_data", extRaw(extEarlyData, nil), func(ch *ClientHello) bool { return ch.EarlyData }},
		{"session_ticket", extRaw(extSessionTicket, []byte("opaque-ticket")), func(ch *ClientHello) bool {
			return ch.HasSessionTicketExt && string(ch.SessionTicket) == "opaque-ticket"
		}},
		{"renegotiation_info", extRenegotiation(), func(ch *ClientHello) bool { return ch.SecureRenegotiation }},
		{"status_request", extStatusRequestOCSP(), func(ch *ClientHello) bool { return ch.StatusRequest }},
		{"extended_master_secret", extRaw(extExtendedMasterSecret, nil), func(ch *ClientHello) bool { return ch.ExtendedMasterSecret }},
		{"encrypt_then_mac", extRaw(extEncryptThenMAC, nil), func(ch *ClientHello) bool { return ch.EncryptThenMAC }},
		{"signed_certificate_timestamp", extRaw(extSCT, nil), func(ch *ClientHello) bool { return ch.SignedCertTimestamp }},
		{"padding", extRaw(extPadding, make([]byte, 300)), func(ch *ClientHello) bool { return ch.PaddingLength == 300 }},
		{"record_size_limit", ext(extRecordSizeLimit, func(b *cryptobyte.Builder) { b.AddUint16(16385) }), func(ch *ClientHello) bool { return ch.RecordSizeLimit == 16385 }},
		{"compress_certificate", ext(extCompressCertificate, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 1, 2, 3) })
		}), func(ch *ClientHello) bool { return reflect.DeepEqual(ch.CompressCertificate, []uint16{1, 2, 3}) }},
		{"ech outer", extECHOuter(1, 3, 200, 239), func(ch *ClientHello) bool {
			return reflect.DeepEqual(ch.ECH, &ECH{Outer: true, ConfigID: 200, KDF: 1, AEAD: 3, PayloadLength: 239})
		}},
		{"ech inner", extRaw(extECH, []byte{1}), func(ch *ClientHello) bool { return ch.ECH != nil && !ch.ECH.Outer }},
		{"quic_transport_parameters", extRaw(extQUICTransportParams, []byte{1, 2, 3}), func(ch *ClientHello) bool { return ch.QUICTransportParams }},
		{"cookie", extCookieOf(20), func(ch *ClientHello) bool { return ch.Cookie }},
		{"unknown kept", extRaw(0x1234, []byte{9, 9}), func(ch *ClientHello) bool {
			return len(ch.Extensions) == 1 && ch.Extensions[0].Type == 0x1234 && string(ch.Extensions[0].Data) == "\x09\x09"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{tc.ext}})
			ch, err := ParseClientHello(body)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(ch) {
				t.Errorf("extension not decoded: %+v", ch)
			}
			// Cutting the extension's body short must fail and name it,
			// unless the extension's body may be anything (padding, opaque).
			if len(tc.ext.Data) == 0 {
				return
			}
			short := Extension{Type: tc.ext.Type, Data: tc.ext.Data[:len(tc.ext.Data)-1]}
			body = buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{short}})
			ch, err = ParseClientHello(body)
			switch tc.ext.Type {
			case extPadding, extSessionTicket, extQUICTransportParams, 0x1234:
				if err != nil {
					t.Errorf("opaque extension cut short: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("extension cut short parsed: %+v", ch)
			}
			if ch == nil {
				t.Errorf("a bad extension should still return the hello")
			}
			if !strings.Contains(err.Error(), ExtensionName(tc.ext.Type)) {
				t.Errorf("error %q does not name %s", err, ExtensionName(tc.ext.Type))
			}
		})
	}
}

func TestClientHelloDuplicateExtension(t *testing.T) {
	body := buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0},
		exts: []Extension{extSNI("a"), extALPNList("h2"), extSNI("b")}})
	ch, err := ParseClientHello(body)
	if !errors.Is(err, ErrDuplicateExtension) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("want a duplicate extension error, got %v", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "extension server_name" {
		t.Errorf("error does not name the extension: %v", err)
	}
	if ch == nil || ch.ServerName != "a" || len(ch.ALPN) != 1 {
		t.Errorf("the hello before the duplicate should be decoded: %+v", ch)
	}
}

func TestClientHelloMalformed(t *testing.T) {
	base := helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0}}
	cases := []struct {
		name  string
		body  []byte
		field string
	}{
		{"odd cipher suites", func() []byte {
			b := buildClientHello(base)
			// cipher_suites length 2 -> 3 and a byte more.
			i := 2 + 32 + 1
			b[i+1] = 3
			return append(b[:i+2+2], append([]byte{0}, b[i+2+2:]...)...)
		}(), "cipher_suites"},
		{"no compression", buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{}}), "legacy_compression_methods"},
		{"long session id", buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), sid: make([]byte, 33), suites: []uint16{0x1301}, comp: []uint8{0}}), "legacy_session_id"},
		{"trailing bytes", append(buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{}}), 0), "extensions"},
		{"psk binders mismatch", buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0},
			exts: []Extension{ext(extPreSharedKey, func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("id")) })
					b.AddUint32(1)
				})
				b.AddUint16(0)
			})}}), "extension pre_shared_key binders"},
		{"ech bad type", buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301}, comp: []uint8{0},
			exts: []Extension{extRaw(extECH, []byte{7})}}), "extension encrypted_client_hello type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientHello(tc.body)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a ParseError, got %v", err)
			}
			if pe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", pe.Field, tc.field, err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("want ErrMalformed: %v", err)
			}
		})
	}
}

func TestServerHello(t *testing.T) {
	cases := []struct {
		name string
		spec helloSpec
		want *ServerHello
	}{
		{"tls13", helloSpec{version: 0x0303, random: testRandom(5), sid: testRandom(50), suites: []uint16{0x1302}, comp: []uint8{0},
			exts: []Extension{extVersionSH(0x0304), extKeyShareSH(0x11ec), ext(extPreSharedKey, func(b *cryptobyte.Builder) { b.AddUint16(1) })}},
			&ServerHello{LegacyVersion: VersionTLS12, Random: testRandom(5), SessionID: testRandom(50), CipherSuite: 0x1302,
				SupportedVersion: VersionTLS13, KeyShareGroup: 0x11ec, HasPreSharedKey: true, SelectedIdentity: 1}},
		{"tls12", helloSpec{version: 0x0303, random: testRandom(6), sid: []byte{}, suites: []uint16{0xc02f}, comp: []uint8{0},
			exts: []Extension{extRenegotiation(), extRaw(extExtendedMasterSecret, nil), extRaw(extEncryptThenMAC, nil), extRaw(extSessionTicket, nil),
				extU8List(extECPointFormats, 0), extALPNList("http/1.1")}},
			&ServerHello{LegacyVersion: VersionTLS12, Random: testRandom(6), SessionID: []byte{}, CipherSuite: 0xc02f,
				SecureRenegotiation: true, ExtendedMasterSecret: true, EncryptThenMAC: true, HasSessionTicketExt: true, ECPointFormats: []uint8{0}, ALPN: "http/1.1"}},
		{"hrr", helloSpec{version: 0x0303, random: helloRetryRandom[:], sid: testRandom(7), suites: []uint16{0x1301}, comp: []uint8{0},
			exts: []Extension{extVersionSH(0x0304), ext(extKeyShare, func(b *cryptobyte.Builder) { b.AddUint16(23) }), extCookieOf(40)}},
			&ServerHello{LegacyVersion: VersionTLS12, Random: helloRetryRandom[:], SessionID: testRandom(7), CipherSuite: 0x1301, IsHelloRetryRequest: true,
				SupportedVersion: VersionTLS13, KeyShareGroup: 23, Cookie: true}},
		{"ssl3", helloSpec{version: 0x0300, random: testRandom(8), sid: []byte{}, suites: []uint16{0x000a}, comp: []uint8{0}},
			&ServerHello{LegacyVersion: VersionSSL30, Random: testRandom(8), SessionID: []byte{}, CipherSuite: 0x000a}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := buildServerHello(tc.spec)
			got, err := ParseServerHello(body)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Extensions = tc.spec.exts
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			var valid []int
			if tc.spec.exts != nil {
				valid = append(valid, len(buildServerHello(helloSpec{version: tc.spec.version, random: tc.spec.random, sid: tc.spec.sid, suites: tc.spec.suites, comp: tc.spec.comp})))
			}
			checkPrefixes(t, body, func(b []byte) error { _, err := ParseServerHello(b); return err }, valid...)
		})
	}
}

func TestServerHelloVersion(t *testing.T) {
	for _, tc := range []struct {
		sh   ServerHello
		want Version
	}{
		{ServerHello{LegacyVersion: VersionTLS12, SupportedVersion: VersionTLS13}, VersionTLS13},
		{ServerHello{LegacyVersion: VersionTLS11}, VersionTLS11},
	} {
		if got := tc.sh.Version(); got != tc.want {
			t.Errorf("%+v: got %v want %v", tc.sh, got, tc.want)
		}
	}
}

func TestServerHelloALPNMustBeOne(t *testing.T) {
	body := buildServerHello(helloSpec{version: 0x0303, random: testRandom(6), suites: []uint16{0xc02f}, comp: []uint8{0},
		exts: []Extension{extALPNList("h2", "http/1.1")}})
	_, err := ParseServerHello(body)
	if err == nil || !strings.Contains(err.Error(), "application_layer_protocol_negotiation") {
		t.Errorf("want an ALPN error, got %v", err)
	}
}

func ExampleParseClientHello() {
	spec, _ := chromeLikeHello()
	ch, err := ParseClientHello(buildClientHello(spec))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.ServerName, ch.ALPN, ch.SupportedVersions[1], CipherSuiteName(ch.CipherSuites[1]), GroupName(ch.KeyShareGroups[1]))
	_, err = ParseClientHello(buildClientHello(spec)[:60])
	fmt.Println(err)
	// Output:
	// example.com [h2 http/1.1] TLS 1.3 TLS_AES_128_GCM_SHA256 X25519MLKEM768
	// dissect: client_hello: legacy_session_id at offset 34: truncated
}

func TestDraftHelloRetryRequest(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint16(0x7f12)
	addExtensions(&b, []Extension{ext(40, func(b *cryptobyte.Builder) { b.AddUint16(24) }), extCookieOf(8)})
	body := mustBytes(&b)
	hrr, err := ParseDraftHelloRetryRequest(body)
	if err != nil || !hrr.IsHelloRetryRequest || hrr.Version() != 0x7f12 || hrr.KeyShareGroup != 24 || !hrr.Cookie {
		t.Fatalf("%+v %v", hrr, err)
	}
	checkPrefixes(t, body, func(b []byte) error { _, err := ParseDraftHelloRetryRequest(b); return err })
	// In a Conn it is a hello_retry_request.
	rec := record(ContentHandshake, 0x0301, handshake(6, body))
	sink := feed(DefaultConfig(), []segment{{packet.FromServer, rec}}, 0)
	sameLines(t, "draft hrr", sink, []string{"S hello_retry_request"})
}
