package dissect

import (
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

func TestVersionString(t *testing.T) {
	for _, tc := range []struct {
		v    Version
		want string
	}{
		{0x0002, "SSL 2.0"}, {0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"},
		{0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"}, {0x7f17, "TLS 1.3 draft 23"}, {0x7f1c, "TLS 1.3 draft 28"},
		{0x0a0a, "GREASE"}, {0xfafa, "GREASE"}, {0x0305, "0x0305"}, {0xfeff, "DTLS 1.0"}, {0xfefd, "DTLS 1.2"}, {0xfefc, "DTLS 1.3"}, {0xfefe, "0xfefe"}, {0x0a1a, "0x0a1a"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("Version(%#04x) = %q, want %q", uint16(tc.v), got, tc.want)
		}
	}
	if !Version(0x7f12).IsTLS13() || !VersionTLS13.IsTLS13() || VersionTLS12.IsTLS13() {
		t.Error("IsTLS13")
	}
}

func TestIsGREASE(t *testing.T) {
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if IsGREASE(uint16(v)) {
			n++
			if v>>8 != v&0xff || v&0x0f != 0x0a {
				t.Errorf("%#04x is not GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16 (RFC 8701)", n)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{ContentChangeCipherSpec.String(), "change_cipher_spec"},
		{ContentAlert.String(), "alert"},
		{ContentHandshake.String(), "handshake"},
		{ContentApplicationData.String(), "application_data"},
		{ContentHeartbeat.String(), "heartbeat"},
		{ContentTLS12CID.String(), "tls12_cid"},
		{ContentType(99).String(), "content_type_99"},
		{TypeHelloRequest.String(), "hello_request"},
		{TypeClientHello.String(), "client_hello"},
		{TypeServerHello.String(), "server_hello"},
		{TypeHelloVerifyRequest.String(), "hello_verify_request"},
		{TypeNewSessionTicket.String(), "new_session_ticket"},
		{TypeEndOfEarlyData.String(), "end_of_early_data"},
		{TypeEncryptedExtensions.String(), "encrypted_extensions"},
		{TypeCertificate.String(), "certificate"},
		{TypeServerKeyExchange.String(), "server_key_exchange"},
		{TypeCertificateRequest.String(), "certificate_request"},
		{TypeServerHelloDone.String(), "server_hello_done"},
		{TypeCertificateVerify.String(), "certificate_verify"},
		{TypeClientKeyExchange.String(), "client_key_exchange"},
		{TypeFinished.String(), "finished"},
		{TypeCertificateURL.String(), "certificate_url"},
		{TypeCertificateStatus.String(), "certificate_status"},
		{TypeSupplementalData.String(), "supplemental_data"},
		{TypeKeyUpdate.String(), "key_update"},
		{TypeCompressedCert.String(), "compressed_certificate"},
		{TypeNextProtocol.String(), "next_protocol"},
		{TypeMessageHash.String(), "message_hash"},
		{HandshakeType(99).String(), "handshake_99"},
		{HandshakeMsg(TypeFinished).String(), "finished"},
		{MsgChangeCipherSpec.String(), "change_cipher_spec"},
		{MsgAlert.String(), "alert"},
		{MsgApplicationData.String(), "application_data"},
		{MsgHeartbeat.String(), "heartbeat"},
		{MsgEncryptedHandshake.String(), "encrypted_handshake"},
		{MsgHelloRetryRequest.String(), "hello_retry_request"},
		{MsgSSLv2ClientHello.String(), "sslv2_client_hello"},
		{MsgSSLv2ServerHello.String(), "sslv2_server_hello"},
		{MsgSSLv2Error.String(), "sslv2_error"},
		{MsgSSLv2Other.String(), "sslv2_record"},
		{MsgTLS12CID.String(), "tls12_cid"},
		{MsgUnknownRecord.String(), "unknown_record"},
		{MsgSSLv2ClientMasterKey.String(), "sslv2_client_master_key"},
		{MsgType(999).String(), "msg_999"},
		{packet.FromClient.String(), "client"},
		{packet.FromServer.String(), "server"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestCipherSuiteName(t *testing.T) {
	for _, tc := range []struct {
		s    uint16
		want string
	}{
		{0x0000, "TLS_NULL_WITH_NULL_NULL"},
		{0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
		{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{0x1301, "TLS_AES_128_GCM_SHA256"},
		{0x1302, "TLS_AES_256_GCM_SHA384"},
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
		{0x1304, "TLS_AES_128_CCM_SHA256"},
		{0x1305, "TLS_AES_128_CCM_8_SHA256"},
		{0x5600, "TLS_FALLBACK_SCSV"},
		{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		{0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"},
		{0x0a0a, "GREASE"},
		{0x1234, "0x1234"},
	} {
		if got := CipherSuiteName(tc.s); got != tc.want {
			t.Errorf("CipherSuiteName(%#04x) = %q, want %q", tc.s, got, tc.want)
		}
	}
	// Every registered name is well-formed and unique.
	seen := map[string]uint16{}
	for v, n := range cipherSuiteNames {
		if len(n) < 8 || (n[:4] != "TLS_" && n[:4] != "SSL_") {
			t.Errorf("%#04x: odd name %q", v, n)
		}
		if w, dup := seen[n]; dup {
			t.Errorf("%q named twice: %#04x and %#04x", n, v, w)
		}
		seen[n] = v
	}
}

func TestSSLv2CipherKindName(t *testing.T) {
	for _, tc := range []struct {
		k    uint32
		want string
	}{
		{0x010080, "SSL_CK_RC4_128_WITH_MD5"},
		{0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"},
		{0x000039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
		{0x00ff00, "0xff00"},
		{0x990000, "0x990000"},
	} {
		if got := SSLv2CipherKindName(tc.k); got != tc.want {
			t.Errorf("SSLv2CipherKindName(%#06x) = %q, want %q", tc.k, got, tc.want)
		}
	}
}

func TestExtensionGroupSchemeNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{ExtensionName(0), "server_name"},
		{ExtensionName(5), "status_request"},
		{ExtensionName(10), "supported_groups"},
		{ExtensionName(16), "application_layer_protocol_negotiation"},
		{ExtensionName(21), "padding"},
		{ExtensionName(35), "session_ticket"},
		{ExtensionName(41), "pre_shared_key"},
		{ExtensionName(43), "supported_versions"},
		{ExtensionName(51), "key_share"},
		{ExtensionName(57), "quic_transport_parameters"},
		{ExtensionName(13172), "next_protocol_negotiation"},
		{ExtensionName(17513), "application_settings_old"},
		{ExtensionName(17613), "application_settings"},
		{ExtensionName(0xfe0d), "encrypted_client_hello"},
		{ExtensionName(0xff01), "renegotiation_info"},
		{ExtensionName(0xdada), "GREASE"},
		{ExtensionName(0x7777), "0x7777"},
		{GroupName(23), "secp256r1"},
		{GroupName(29), "x25519"},
		{GroupName(1), "sect163k1"},
		{GroupName(256), "ffdhe2048"},
		{GroupName(260), "ffdhe8192"},
		{GroupName(0x11eb), "SecP256r1MLKEM768"},
		{GroupName(0x11ec), "X25519MLKEM768"},
		{GroupName(0x11ed), "SecP384r1MLKEM1024"},
		{GroupName(0x6399), "X25519Kyber768Draft00"},
		{GroupName(0x2a2a), "GREASE"},
		{GroupName(0x0999), "0x0999"},
		{SignatureSchemeName(0x0401), "rsa_pkcs1_sha256"},
		{SignatureSchemeName(0x0403), "ecdsa_secp256r1_sha256"},
		{SignatureSchemeName(0x0804), "rsa_pss_rsae_sha256"},
		{SignatureSchemeName(0x0807), "ed25519"},
		{SignatureSchemeName(0x0201), "rsa_pkcs1_sha1"},
		{SignatureSchemeName(0x0905), "mldsa65"},
		{SignatureSchemeName(0xeeee), "0xeeee"},
		{AlertLevel(1).String(), "warning"},
		{AlertLevel(2).String(), "fatal"},
		{AlertLevel(3).String(), "3"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestAlertDescriptionString(t *testing.T) {
	want := map[uint8]string{
		0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
		22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
		42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
		46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
		50: "decode_error", 51: "decrypt_error", 52: "too_many_cids_requested", 60: "export_restriction",
		70: "protocol_version", 71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
		90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
		111: "certificate_unobtainable", 112: "unrecognized_name", 113: "bad_certificate_status_response",
		114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
		117: "general_error", 120: "no_application_protocol", 121: "ech_required",
	}
	for d := 0; d < 256; d++ {
		got := AlertDescription(d).String()
		w, ok := want[uint8(d)]
		if !ok {
			w = itoa(d)
		}
		if got != w {
			t.Errorf("AlertDescription(%d) = %q, want %q", d, got, w)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
