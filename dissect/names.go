package dissect

import "strconv"

// Names of the wire enums. The tables follow the IANA TLS registries
// (TLS Parameters, TLS ExtensionType Values, TLS Supported Groups, TLS
// SignatureScheme, TLS Alerts); they are switch statements or read-only maps,
// never mutated.

// hex4 formats v as "0xHHHH", the fallback name of an unregistered codepoint.
func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	var b [6]byte
	b[0], b[1] = '0', 'x'
	for i := 0; i < 4; i++ {
		b[5-i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// IsGREASE reports whether v is one of the reserved GREASE values of RFC 8701
// (0x0A0A, 0x1A1A, ... 0xFAFA): both bytes equal and of the form 0x?A.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

func (v Version) String() string {
	switch v {
	case VersionSSL2:
		return "SSL 2.0"
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case VersionDTLS10OpenSSL:
		return "DTLS 1.0 (OpenSSL pre 0.9.8f)"
	case VersionDTLS10:
		return "DTLS 1.0"
	case VersionDTLS12:
		return "DTLS 1.2"
	case VersionDTLS13:
		return "DTLS 1.3"
	}
	if v>>8 == 0x7f {
		// draft-ietf-tls-tls13-NN advertised 0x7f00|NN.
		return "TLS 1.3 draft " + strconv.Itoa(int(v&0xff))
	}
	if IsGREASE(uint16(v)) {
		return "GREASE"
	}
	return hex4(uint16(v))
}

// IsTLS13 reports whether v is TLS 1.3 or one of its drafts (0x7fXX).
func (v Version) IsTLS13() bool {
	return v == VersionTLS13 || v>>8 == 0x7f || v == VersionDTLS13
}

// tlsEquivalent is the TLS version whose record and message formats a DTLS
// version uses (RFC 6347 1.1: DTLS 1.0 is TLS 1.1, DTLS 1.2 is TLS 1.2);
// a TLS version is itself.
func (v Version) tlsEquivalent() Version {
	switch v {
	case VersionDTLS10, VersionDTLS10OpenSSL:
		return VersionTLS11
	case VersionDTLS12:
		return VersionTLS12
	case VersionDTLS13:
		return VersionTLS13
	}
	return v
}

func (t ContentType) String() string {
	switch t {
	case ContentChangeCipherSpec:
		return "change_cipher_spec"
	case ContentAlert:
		return "alert"
	case ContentHandshake:
		return "handshake"
	case ContentApplicationData:
		return "application_data"
	case ContentHeartbeat:
		return "heartbeat"
	case ContentTLS12CID:
		return "tls12_cid"
	case 26:
		return "ack" // RFC 9147 (DTLS 1.3)
	}
	return "content_type_" + strconv.Itoa(int(t))
}

func (t HandshakeType) String() string {
	switch t {
	case TypeHelloRequest:
		return "hello_request"
	case TypeClientHello:
		return "client_hello"
	case TypeServerHello:
		return "server_hello"
	case TypeHelloVerifyRequest:
		return "hello_verify_request"
	case TypeNewSessionTicket:
		return "new_session_ticket"
	case TypeEndOfEarlyData:
		return "end_of_early_data"
	case 6:
		return "hello_retry_request" // the TLS 1.3 draft codepoint, reserved since
	case TypeEncryptedExtensions:
		return "encrypted_extensions"
	case 9:
		return "request_connection_id" // RFC 9147
	case 10:
		return "new_connection_id" // RFC 9147
	case TypeCertificate:
		return "certificate"
	case TypeServerKeyExchange:
		return "server_key_exchange"
	case TypeCertificateRequest:
		return "certificate_request"
	case TypeServerHelloDone:
		return "server_hello_done"
	case TypeCertificateVerify:
		return "certificate_verify"
	case TypeClientKeyExchange:
		return "client_key_exchange"
	case 17:
		return "client_certificate_request" // RFC 9261
	case TypeFinished:
		return "finished"
	case TypeCertificateURL:
		return "certificate_url"
	case TypeCertificateStatus:
		return "certificate_status"
	case TypeSupplementalData:
		return "supplemental_data"
	case TypeKeyUpdate:
		return "key_update"
	case TypeCompressedCert:
		return "compressed_certificate"
	case 26:
		return "ekt_key" // RFC 8870
	case TypeNextProtocol:
		return "next_protocol"
	case TypeMessageHash:
		return "message_hash"
	}
	return "handshake_" + strconv.Itoa(int(t))
}

func (m MsgType) String() string {
	if m.IsHandshake() {
		return HandshakeType(m).String()
	}
	switch m {
	case MsgChangeCipherSpec:
		return "change_cipher_spec"
	case MsgAlert:
		return "alert"
	case MsgApplicationData:
		return "application_data"
	case MsgHeartbeat:
		return "heartbeat"
	case MsgEncryptedHandshake:
		return "encrypted_handshake"
	case MsgHelloRetryRequest:
		return "hello_retry_request"
	case MsgSSLv2ClientHello:
		return "sslv2_client_hello"
	case MsgSSLv2ServerHello:
		return "sslv2_server_hello"
	case MsgSSLv2Error:
		return "sslv2_error"
	case MsgSSLv2Other:
		return "sslv2_record"
	case MsgTLS12CID:
		return "tls12_cid"
	case MsgUnknownRecord:
		return "unknown_record"
	case MsgSSLv2ClientMasterKey:
		return "sslv2_client_master_key"
	case MsgConnectionClose:
		return "connection_close"
	case MsgRetry:
		return "retry"
	case MsgVersionNegotiation:
		return "version_negotiation"
	}
	return "msg_" + strconv.Itoa(int(m))
}

// extensionNames is the IANA TLS ExtensionType Values registry, plus the
// widely deployed unregistered codepoints a dissector meets on the wire.
var extensionNames = map[uint16]string{
	0:      "server_name",
	1:      "max_fragment_length",
	2:      "client_certificate_url",
	3:      "trusted_ca_keys",
	4:      "truncated_hmac",
	5:      "status_request",
	6:      "user_mapping",
	7:      "client_authz",
	8:      "server_authz",
	9:      "cert_type",
	10:     "supported_groups",
	11:     "ec_point_formats",
	12:     "srp",
	13:     "signature_algorithms",
	14:     "use_srtp",
	15:     "heartbeat",
	16:     "application_layer_protocol_negotiation",
	17:     "status_request_v2",
	18:     "signed_certificate_timestamp",
	19:     "client_certificate_type",
	20:     "server_certificate_type",
	21:     "padding",
	22:     "encrypt_then_mac",
	23:     "extended_master_secret",
	24:     "token_binding",
	25:     "cached_info",
	26:     "tls_lts",
	27:     "compress_certificate",
	28:     "record_size_limit",
	29:     "pwd_protect",
	30:     "pwd_clear",
	31:     "password_salt",
	32:     "ticket_pinning",
	33:     "tls_cert_with_extern_psk",
	34:     "delegated_credential",
	35:     "session_ticket",
	36:     "TLMSP",
	37:     "TLMSP_proxying",
	38:     "TLMSP_delegate",
	39:     "supported_ekt_ciphers",
	41:     "pre_shared_key",
	42:     "early_data",
	43:     "supported_versions",
	44:     "cookie",
	45:     "psk_key_exchange_modes",
	47:     "certificate_authorities",
	48:     "oid_filters",
	49:     "post_handshake_auth",
	50:     "signature_algorithms_cert",
	51:     "key_share",
	52:     "transparency_info",
	53:     "connection_id_deprecated",
	54:     "connection_id",
	55:     "external_id_hash",
	56:     "external_session_id",
	57:     "quic_transport_parameters",
	58:     "ticket_request",
	59:     "dnssec_chain",
	60:     "sequence_number_encryption_algorithms",
	61:     "rrc",
	62:     "tls_flags",
	13172:  "next_protocol_negotiation",
	17513:  "application_settings_old",
	17613:  "application_settings",
	30031:  "channel_id_old",
	30032:  "channel_id",
	0xfd00: "ech_outer_extensions",
	0xfe0d: "encrypted_client_hello",
	0xff01: "renegotiation_info",
	0xffa5: "quic_transport_parameters_draft",
	0xffce: "encrypted_server_name",
}

// ExtensionName returns the IANA name of an extension type, "GREASE" for the
// RFC 8701 values, else "0xHHHH".
func ExtensionName(t uint16) string {
	if n, ok := extensionNames[t]; ok {
		return n
	}
	if IsGREASE(t) {
		return "GREASE"
	}
	return hex4(t)
}

// groupNames is the IANA TLS Supported Groups registry (formerly EC Named
// Curve), with the post-quantum hybrids in deployment.
var groupNames = map[uint16]string{
	1:      "sect163k1",
	2:      "sect163r1",
	3:      "sect163r2",
	4:      "sect193r1",
	5:      "sect193r2",
	6:      "sect233k1",
	7:      "sect233r1",
	8:      "sect239k1",
	9:      "sect283k1",
	10:     "sect283r1",
	11:     "sect409k1",
	12:     "sect409r1",
	13:     "sect571k1",
	14:     "sect571r1",
	15:     "secp160k1",
	16:     "secp160r1",
	17:     "secp160r2",
	18:     "secp192k1",
	19:     "secp192r1",
	20:     "secp224k1",
	21:     "secp224r1",
	22:     "secp256k1",
	23:     "secp256r1",
	24:     "secp384r1",
	25:     "secp521r1",
	26:     "brainpoolP256r1",
	27:     "brainpoolP384r1",
	28:     "brainpoolP512r1",
	29:     "x25519",
	30:     "x448",
	31:     "brainpoolP256r1tls13",
	32:     "brainpoolP384r1tls13",
	33:     "brainpoolP512r1tls13",
	34:     "GC256A",
	35:     "GC256B",
	36:     "GC256C",
	37:     "GC256D",
	38:     "GC512A",
	39:     "GC512B",
	40:     "GC512C",
	41:     "curveSM2",
	256:    "ffdhe2048",
	257:    "ffdhe3072",
	258:    "ffdhe4096",
	259:    "ffdhe6144",
	260:    "ffdhe8192",
	512:    "MLKEM512",
	513:    "MLKEM768",
	514:    "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x2f3a: "X25519Kyber768Draft00_old",
	0x6399: "X25519Kyber768Draft00",
	0x639a: "SecP256r1Kyber768Draft00",
	0xff01: "arbitrary_explicit_prime_curves",
	0xff02: "arbitrary_explicit_char2_curves",
}

// GroupName returns the IANA name of a supported group as it appears in a
// wire list (supported_groups, key_share).
func GroupName(g uint16) string { return NamedGroup(g).String() }

// String returns the IANA name of the group, "GREASE" for the RFC 8701
// values, else "0xHHHH".
func (g NamedGroup) String() string {
	if n, ok := groupNames[uint16(g)]; ok {
		return n
	}
	if IsGREASE(uint16(g)) {
		return "GREASE"
	}
	return hex4(uint16(g))
}

// signatureSchemeNames is the IANA TLS SignatureScheme registry; the TLS 1.2
// hash/signature pairs (RFC 5246 7.4.1.4.1) that are not schemes get their
// "hash_signature" names.
var signatureSchemeNames = map[uint16]string{
	0x0101: "rsa_pkcs1_md5",
	0x0102: "dsa_md5",
	0x0103: "ecdsa_md5",
	0x0201: "rsa_pkcs1_sha1",
	0x0202: "dsa_sha1",
	0x0203: "ecdsa_sha1",
	0x0301: "rsa_pkcs1_sha224",
	0x0302: "dsa_sha224",
	0x0303: "ecdsa_sha224",
	0x0401: "rsa_pkcs1_sha256",
	0x0402: "dsa_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0420: "rsa_pkcs1_sha256_legacy",
	0x0501: "rsa_pkcs1_sha384",
	0x0502: "dsa_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0520: "rsa_pkcs1_sha384_legacy",
	0x0601: "rsa_pkcs1_sha512",
	0x0602: "dsa_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0620: "rsa_pkcs1_sha512_legacy",
	0x0704: "eccsi_sha256",
	0x0705: "iso_ibs1",
	0x0706: "iso_ibs2",
	0x0707: "iso_chinese_ibs",
	0x0708: "sm2sig_sm3",
	0x0709: "gostr34102012_256a",
	0x070a: "gostr34102012_256b",
	0x070b: "gostr34102012_256c",
	0x070c: "gostr34102012_256d",
	0x070d: "gostr34102012_512a",
	0x070e: "gostr34102012_512b",
	0x070f: "gostr34102012_512c",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080a: "rsa_pss_pss_sha384",
	0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// SignatureSchemeName returns the IANA name of a signature scheme.
func SignatureSchemeName(s uint16) string {
	if n, ok := signatureSchemeNames[s]; ok {
		return n
	}
	if IsGREASE(s) {
		return "GREASE"
	}
	return hex4(s)
}

// String returns the IANA TLS Alert description name, or the number in
// decimal when unassigned.
func (d AlertDescription) String() string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 21:
		return "decryption_failed"
	case 22:
		return "record_overflow"
	case 30:
		return "decompression_failure"
	case 40:
		return "handshake_failure"
	case 41:
		return "no_certificate"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 52:
		return "too_many_cids_requested"
	case 60:
		return "export_restriction"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 100:
		return "no_renegotiation"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 111:
		return "certificate_unobtainable"
	case 112:
		return "unrecognized_name"
	case 113:
		return "bad_certificate_status_response"
	case 114:
		return "bad_certificate_hash_value"
	case 115:
		return "unknown_psk_identity"
	case 116:
		return "certificate_required"
	case 117:
		return "general_error"
	case 120:
		return "no_application_protocol"
	case 121:
		return "ech_required"
	}
	return strconv.Itoa(int(d))
}

// String names an AlertLevel (RFC 5246 7.2).
func (l AlertLevel) String() string {
	switch l {
	case 1:
		return "warning"
	case 2:
		return "fatal"
	}
	return strconv.Itoa(int(l))
}
