package output

import (
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// base is the capture time of the first fixture connection.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func at(ms float64) flows.Time {
	return flows.Time{Time: base.Add(time.Duration(ms * float64(time.Millisecond)))}
}

func msg(ms float64, from, typ string, length int, enc bool) flows.Message {
	return flows.Message{TS: at(ms), From: dirOf(from), Type: typeOf(typ), Length: length, Encrypted: enc, Count: 1, Bytes: length}
}

func appData(ms float64, from string, count, bytes int) flows.Message {
	return flows.Message{TS: at(ms), From: dirOf(from), Type: dissect.MsgApplicationData, Length: bytes / max(count, 1), Encrypted: true, Count: count, Bytes: bytes}
}

// dirOf and typeOf read the contract's words, as a JSON reader does.
func dirOf(s string) packet.Dir {
	var d packet.Dir
	if err := d.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return d
}

func typeOf(s string) dissect.MsgType {
	var t dissect.MsgType
	if err := t.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return t
}

// hostileSNI carries every kind of terminal and HTML trouble: a screen
// clear, a bell, invalid UTF-8, a right-to-left override and a script.
const hostileSNI = "evil\x1b[2J\x07.example\xff\u202egnp.exe<script>alert(1)</script>"

// fixtures returns hand-built records covering the cases every format
// must render: a TLS 1.2 full handshake issuing a ticket, its resumption
// with lineage, a TLS 1.3 connection over IPv6, failures of several
// reasons, an incomplete connection, and hostile strings.
func fixtures() []*flows.Record {
	leaf := flows.Certificate{
		Subject: "CN=www.example.com,O=Example Inc,C=US", Issuer: "CN=Example Issuing CA 1,O=Example Inc,C=US",
		Serial: "0A1B2C3D4E5F", NotBefore: flows.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		NotAfter: flows.Time{Time: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		SAN:      []string{"www.example.com", "example.com"},
		SHA256:   "5f262710f31214ecdb6ffbfe4b45a8d1c7042e7c87c3eae9bc317035dafeb7ac",
		SHA1:     "1c0a5f4b3e2d19a8f7e6d5c4b3a29180f7e6d5c4",
		Key:      "RSA 2048", SignatureAlgorithm: "SHA256-RSA",
	}
	inter := flows.Certificate{
		Subject: "CN=Example Issuing CA 1,O=Example Inc,C=US", Issuer: "CN=Example Root CA,O=Example Inc,C=US",
		Serial: "01", NotBefore: flows.Time{Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		NotAfter: flows.Time{Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		SHA256:   "e3803fed72de6742148784b568c223771e91a6a2720849973d30995d627bc4f0",
		Key:      "ECDSA P-384", SignatureAlgorithm: "ECDSA-SHA384",
	}
	full := &flows.Record{
		Schema: flows.Schema, TS: at(0), EndTS: at(5230.5), UID: "CTk3Vq1yF2hPdA9xe",
		TCP:         &flows.TCPEnds{SYN: at(0), SYNACK: at(12), ClientFIN: at(5230), ServerFIN: at(5230.4)},
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		Client:      flows.Endpoint{IP: "192.0.2.10", Port: 51000}, Server: flows.Endpoint{IP: "198.51.100.20", Port: 443},
		Version: "TLS 1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SNI: "www.example.com",
		ALPN: "h2", ALPNOffered: []string{"h2", "http/1.1"}, OfferedVersions: []string{"TLS 1.2", "TLS 1.1", "TLS 1.0"},
		Curve: "x25519", History: "CsxknGIti",
		Messages: []flows.Message{
			msg(0.412, "client", "client_hello", 512, false),
			msg(12.345, "server", "server_hello", 89, false),
			msg(12.345, "server", "certificate", 2890, false),
			msg(12.346, "server", "server_key_exchange", 333, false),
			msg(12.346, "server", "server_hello_done", 4, false),
			msg(14.101, "client", "client_key_exchange", 37, false),
			msg(14.101, "client", "change_cipher_spec", 1, false),
			msg(14.101, "client", "finished", 40, true),
			msg(26.002, "server", "new_session_ticket", 202, false),
			msg(26.002, "server", "change_cipher_spec", 1, false),
			msg(26.002, "server", "finished", 40, true),
			appData(27.5, "client", 3, 1200),
			appData(40.25, "server", 12, 48200),
			msg(5230.1, "client", "alert", 26, true),
		},
		Established: true,
		SessionTicket: flows.SessionTicket{Issued: true, LifetimeHint: 7200, Length: 192,
			SHA256: "3f2a9c0d8e7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"},
		Certificates: []flows.Certificate{leaf, inter},
		Alerts:       []flows.Alert{{TS: at(5230.1), From: packet.FromClient, Code: -1, Encrypted: true}},
		Status:       flows.StatusEstablished, Validation: "ok",
		JA3: "e7d705a3286e19ea42f587b344ee6865", JA3String: "771,49195-49199,0-23-65281-10-11-35-16,29-23-24,0",
		JA3S: "f4febc55ea12b31ae17cfb7e614afda8", JA3SString: "771,49199,65281-0-11-35-16",
		JA4: "t12d0207h2_a09f3c656075_e42f34c56612", JA4S: "t120400h2_c02f_4d4b5c8a8a0e",
		JA4X:  []string{"a373a9f83c6b_2bab15409345_7bf9a7bf7029", "2bab15409345_2bab15409345_0f1d4a3c5e7b"},
		Close: "fin", ClientBytes: 2016, ServerBytes: 51774,
	}
	resumed := &flows.Record{
		Schema: flows.Schema, TS: at(4200), EndTS: at(4890), UID: "CbX9o2mZ7RqLw4uH1",
		CommunityID: "1:9j2Dzwrw7T9E+IZvPJVjWcAl3mI=",
		Client:      flows.Endpoint{IP: "192.0.2.10", Port: 51002}, Server: flows.Endpoint{IP: "198.51.100.20", Port: 443},
		Version: "TLS 1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SNI: "www.example.com",
		ALPN: "h2", ALPNOffered: []string{"h2", "http/1.1"}, OfferedVersions: []string{"TLS 1.2"},
		History: "CsiItI",
		Messages: []flows.Message{
			msg(4200.3, "client", "client_hello", 720, false),
			msg(4211.9, "server", "server_hello", 85, false),
			msg(4211.9, "server", "new_session_ticket", 202, false),
			msg(4211.9, "server", "change_cipher_spec", 1, false),
			msg(4211.9, "server", "finished", 40, true),
			msg(4213.0, "client", "change_cipher_spec", 1, false),
			msg(4213.0, "client", "finished", 40, true),
			appData(4213.4, "client", 1, 517),
			appData(4225.0, "server", 2, 3900),
		},
		Established: true, Resumed: true, Resumption: "ticket", ResumedFrom: "CTk3Vq1yF2hPdA9xe",
		SessionTicket: flows.SessionTicket{Offered: true, OfferedLength: 192,
			OfferedSHA256: "3f2a9c0d8e7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877",
			Issued:        true, Renewed: true, LifetimeHint: 7200, Length: 192,
			SHA256:   "77aa0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9",
			IssuedBy: "CTk3Vq1yF2hPdA9xe", RedeemedAfter: 4.2},
		Status: flows.StatusResumed, Close: "fin", ClientBytes: 1354, ServerBytes: 4350,
		JA3: "e7d705a3286e19ea42f587b344ee6865",
	}
	tls13 := &flows.Record{
		Schema: flows.Schema, TS: at(6000), EndTS: at(6480.75), UID: "CqR3s5T7u9V1w3X5y",
		CommunityID: "1:Vb3cz6QnBgfwJfT1D0ugyT+Lm1A=",
		Client:      flows.Endpoint{IP: "2001:db8::10", Port: 50443}, Server: flows.Endpoint{IP: "2001:db8:1::443", Port: 443},
		Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "api.example.net",
		ALPN: "http/1.1", ALPNOffered: []string{"http/1.1"}, OfferedVersions: []string{"TLS 1.3", "TLS 1.2"},
		Curve: "x25519", History: "Cs",
		Messages: []flows.Message{
			msg(0.2+6000, "client", "client_hello", 1750, false),
			msg(18.9+6000, "server", "server_hello", 122, false),
			msg(18.9+6000, "server", "change_cipher_spec", 1, false),
			{TS: at(18.95 + 6000), From: packet.FromServer, Type: dissect.MsgEncryptedHandshake, Length: 3410, Encrypted: true, Count: 4, Bytes: 3410},
			msg(21.3+6000, "client", "change_cipher_spec", 1, false),
			msg(21.3+6000, "client", "finished", 53, true),
			appData(21.4+6000, "client", 1, 300),
			appData(39.8+6000, "server", 5, 21000),
		},
		Established: true, Status: flows.StatusEstablished, Close: "fin",
		JA4: "t13d1516h1_8daaf6152771_02713d6af862", JA4R: "t13d1516h1_002f,0035_0005,000a_0403",
		JA4S: "t130200_1301_234ea6891581", ClientBytes: 2100, ServerBytes: 24540,
	}
	unknownCA := &flows.Record{
		Schema: flows.Schema, TS: at(7000), EndTS: at(7044), UID: "CfA1b2C3d4E5f6G7h",
		TCP:    &flows.TCPEnds{SYN: at(7000), SYNACK: at(7010), RST: at(7012), RSTFrom: "client"},
		Client: flows.Endpoint{IP: "192.0.2.33", Port: 40112}, Server: flows.Endpoint{IP: "203.0.113.5", Port: 8443},
		Version: "TLS 1.2", Cipher: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", SNI: "intranet.corp.example",
		Curve: "secp256r1", History: "CsxknA",
		Messages: []flows.Message{
			msg(7000.1, "client", "client_hello", 300, false),
			msg(7010.2, "server", "server_hello", 80, false),
			msg(7010.2, "server", "certificate", 980, false),
			msg(7010.3, "server", "server_key_exchange", 147, false),
			msg(7010.3, "server", "server_hello_done", 4, false),
			msg(7011.7, "client", "alert", 2, false),
		},
		Certificates: []flows.Certificate{{Subject: "CN=intranet.corp.example", Issuer: "CN=intranet.corp.example",
			Serial: "7B", SHA256: "a5b05d2ae076130aa41060f53ecd72bdf864ea0179250e927549c94d5ab2499a",
			SHA1: "9d8c7b6a5f4e3d2c1b0a99887766554433221100",
			Key:  "ECDSA P-256", SignatureAlgorithm: "ECDSA-SHA256", SelfSigned: true,
			NotBefore: flows.Time{Time: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
			NotAfter:  flows.Time{Time: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)}}},
		Alerts: []flows.Alert{{TS: at(7011.7), From: packet.FromClient, Level: "fatal", Description: "unknown_ca", Code: 48}},
		Status: flows.StatusFailed,
		Failure: &flows.Failure{Reason: flows.ReasonSelfSignedCertificate, By: "client", Alert: "unknown_ca",
			Explanation: "The server sent a self-signed certificate (CN=intranet.corp.example) that the client does not trust; the client answered unknown_ca.",
			Confidence:  flows.ConfidenceCertain, Evidence: []string{"client sent fatal alert unknown_ca", "the server certificate is self-signed"}},
		Validation: "self-signed certificate", Close: "rst", ClientBytes: 307, ServerBytes: 1250,
	}
	version := &flows.Record{
		Schema: flows.Schema, TS: at(8000), EndTS: at(8003), UID: "CvE7r8S9i0O1n2M3a",
		Client: flows.Endpoint{IP: "192.0.2.77", Port: 33333}, Server: flows.Endpoint{IP: "198.51.100.20", Port: 443},
		SNI: "www.example.com", OfferedVersions: []string{"TLS 1.0"}, History: "Ca",
		Messages: []flows.Message{
			msg(8000.1, "client", "client_hello", 180, false),
			msg(8002.0, "server", "alert", 2, false),
		},
		Alerts: []flows.Alert{{TS: at(8002), From: packet.FromServer, Level: "fatal", Description: "protocol_version", Code: 70}},
		Status: flows.StatusFailed,
		Failure: &flows.Failure{Reason: flows.ReasonProtocolVersionMismatch, By: "server", Alert: "protocol_version",
			Explanation: "The client offered only TLS 1.0; the server requires TLS 1.2 or later.",
			Confidence:  flows.ConfidenceCertain, Evidence: []string{"server sent fatal alert protocol_version", "client offered at most TLS 1.0"}},
		Close: "fin", ClientBytes: 185, ServerBytes: 7,
	}
	version2 := *version
	version2.TS, version2.EndTS, version2.UID = at(9500), at(9504), "CvE7r8S9i0O1n2M3b"
	version2.Client.Port = 33340
	version2.Messages = []flows.Message{msg(9500.4, "client", "client_hello", 180, false), msg(9502.9, "server", "alert", 2, false)}
	version2.Alerts = []flows.Alert{{TS: at(9502.9), From: packet.FromServer, Level: "fatal", Description: "protocol_version", Code: 70}}
	expired := &flows.Record{
		Schema: flows.Schema, TS: at(10000), EndTS: at(10060), UID: "CeX1p2I3r4E5d6A7b",
		Client: flows.Endpoint{IP: "192.0.2.10", Port: 51010}, Server: flows.Endpoint{IP: "192.0.2.200", Port: 443},
		Version: "TLS 1.2", Cipher: "TLS_RSA_WITH_AES_256_CBC_SHA", SNI: "old.example.org", History: "CsxnA",
		Messages: []flows.Message{
			msg(10000.3, "client", "client_hello", 200, false),
			msg(10020.0, "server", "server_hello", 81, false),
			msg(10020.0, "server", "certificate", 1200, false),
			msg(10020.1, "server", "server_hello_done", 4, false),
			msg(10021.0, "client", "alert", 2, false),
		},
		Certificates: []flows.Certificate{{Subject: "CN=old.example.org", Issuer: "CN=Example Issuing CA 1,O=Example Inc,C=US",
			Serial: "0C", SHA256: "611101252cfd5bd2a7d2a1ffa2751106edeb29a98d1991d41986d39ae1742da9", Key: "RSA 2048",
			SignatureAlgorithm: "SHA256-RSA", SAN: []string{"old.example.org"},
			NotBefore: flows.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			NotAfter:  flows.Time{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		Alerts: []flows.Alert{{TS: at(10021), From: packet.FromClient, Level: "fatal", Description: "bad_certificate", Code: 42}},
		Status: flows.StatusFailed,
		Failure: &flows.Failure{Reason: flows.ReasonCertificateExpired, By: "client", Alert: "bad_certificate",
			Explanation: "The server's certificate expired on 2025-01-01, 437 days before this connection; the client rejected it with bad_certificate.",
			Confidence:  flows.ConfidenceLikely, Evidence: []string{"client sent fatal alert bad_certificate", "the server certificate for www.example.com expired 2025-01-01"},
			Hint: "the client's error message names the check that failed"},
		Validation: "certificate has expired", Close: "fin", ClientBytes: 207, ServerBytes: 1300,
	}
	incomplete := &flows.Record{
		Schema: flows.Schema, TS: at(12000), EndTS: at(42000), UID: "CiN5c6O7m8P9l0E1t",
		Client: flows.Endpoint{IP: "192.0.2.50", Port: 49999}, Server: flows.Endpoint{IP: "198.51.100.99", Port: 443},
		SNI: "slow.example.com", History: "C", OfferedVersions: []string{"TLS 1.3", "TLS 1.2"},
		Messages: []flows.Message{msg(12000.2, "client", "client_hello", 517, false)},
		Status:   flows.StatusIncomplete, Close: "idle", ClientBytes: 517,
		Anomalies: []string{"gap"},
		AnomalyDetails: []flows.Anomaly{{Kind: "gap", From: "server", TS: at(12100), Bytes: 1448,
			Detail: "1448 bytes missing"}},
		MissingBytes: 1448,
	}
	hostile := &flows.Record{
		Schema: flows.Schema, TS: at(13000), EndTS: at(13100), UID: "ChO5t6I7l8E9x0Y1z",
		Client: flows.Endpoint{IP: "192.0.2.66", Port: 6666}, Server: flows.Endpoint{IP: "203.0.113.66", Port: 443},
		Version: "TLS 1.2", Cipher: "0x13ff", SNI: hostileSNI,
		ALPN: "h2\x1b]0;pwned\x07", ALPNOffered: []string{"h2\x1b]0;pwned\x07", "\u2066x\u2069"},
		History: "Csx\x9b", OfferedVersions: []string{"TLS 1.2"},
		Messages: []flows.Message{
			msg(13000.1, "client", "client_hello", 400, false),
			msg(13010.0, "server", "server_hello", 80, false),
			msg(13010.0, "server", "certificate", 700, false),
			msg(13011.0, "client", "alert", 2, false),
		},
		Certificates: []flows.Certificate{{Subject: "CN=\x1b[31mred\u202e,O=<b>bold</b>", Issuer: "CN=\x1b[31mred\u202e",
			Serial: "DEAD", SAN: []string{"\x1b[2J", "<script>alert(2)</script>"},
			SHA256: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", Key: "RSA 1024"}},
		Alerts: []flows.Alert{{TS: at(13011), From: packet.FromClient, Level: "fatal", Description: "certificate_unknown", Code: 46}},
		Status: flows.StatusFailed,
		Failure: &flows.Failure{Reason: flows.ReasonHostnameMismatch, By: "client", Alert: "certificate_unknown",
			Explanation: "The certificate does not name " + hostileSNI + "; it names \x1b[2J.",
			Confidence:  "uncertain\x1b[31m", Evidence: []string{"client asked for " + hostileSNI}, Hint: "<b>hint</b>\x07"},
		Anomalies: []string{"malformed\x1b[0m_record"}, Close: "rst",
	}
	return []*flows.Record{full, resumed, tls13, unknownCA, version, &version2, expired, incomplete, hostile}
}

// datagramFixtures are connections over QUIC and DTLS.
func datagramFixtures() []*flows.Record {
	quicClosed := &flows.Record{
		Schema: flows.Schema, TS: at(14000), EndTS: at(14050), UID: "CqU1i2C3q4U5i6C7x", Transport: "quic",
		CommunityID: "1:r3Ne7jUEoXmqPH0wQEBVh1CdZTQ=",
		Client:      flows.Endpoint{IP: "192.0.2.10", Port: 50123}, Server: flows.Endpoint{IP: "198.51.100.20", Port: 443},
		Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "h3.example.com", ALPNOffered: []string{"h3"},
		OfferedVersions: []string{"TLS 1.3"}, Curve: "x25519", History: "Cs",
		Messages: []flows.Message{
			msg(14000.1, "client", "client_hello", 290, false),
			msg(14020.0, "server", "server_hello", 90, false),
			msg(14020.0, "server", "connection_close", 0, false),
			msg(14020.0, "server", "alert", 2, false),
		},
		Alerts: []flows.Alert{{TS: at(14020), From: packet.FromServer, Level: "fatal", Description: "no_application_protocol", Code: 120}},
		Status: flows.StatusFailed,
		Failure: &flows.Failure{Reason: flows.ReasonNoApplicationProtocol, By: "server", Alert: "no_application_protocol",
			Explanation: "The server supports none of the protocols the client offered (h3)."},
		Close: "idle", ClientBytes: 1252, ServerBytes: 1252,
		QUIC: &flows.QUIC{Version: "v1", ClientCID: "c1c1c1c1", ServerCID: "5e5e5e5e", OriginalDCID: "0d0d0d0d0d0d0d0d",
			VersionNegotiation: []string{}, ClientPackets: 1, ServerPackets: 1, Paths: 1,
			ClientTransportParameters: []flows.TransportParameter{{Name: "max_idle_timeout", Value: "30000"}, {Name: "initial_source_connection_id", Value: "c1c1c1c1"}},
			ServerTransportParameters: []flows.TransportParameter{},
			Close: &flows.QUICClose{TS: at(14020), From: packet.FromServer, ErrorCode: 0x178, Error: "CRYPTO_ERROR(no_application_protocol)",
				FrameType: 6, Reason: "no \x1b[31mALPN"}},
	}
	dtlsRetried := &flows.Record{
		Schema: flows.Schema, TS: at(15000), EndTS: at(15100), UID: "CdT1l2S3d4T5l6S7x", Transport: "dtls",
		CommunityID: "1:8pYd8a6s8bqGaIjbQ1tYqvMnJEk=",
		Client:      flows.Endpoint{IP: "192.0.2.10", Port: 50200}, Server: flows.Endpoint{IP: "198.51.100.20", Port: 4433},
		Version: "DTLS 1.2", Cipher: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", SNI: "media.example.com",
		OfferedVersions: []string{"DTLS 1.2"}, Curve: "x25519", History: "CVCsxknGciI",
		Messages: []flows.Message{
			msg(15000.1, "client", "client_hello", 150, false),
			msg(15010.0, "server", "hello_verify_request", 23, false),
			msg(15011.0, "client", "client_hello", 182, false),
			msg(15020.0, "server", "server_hello", 90, false),
			msg(15020.0, "server", "certificate", 500, false),
			msg(15020.0, "server", "server_key_exchange", 110, false),
			msg(15020.0, "server", "server_hello_done", 0, false),
			msg(15030.0, "client", "client_key_exchange", 33, false),
			msg(15030.0, "client", "change_cipher_spec", 1, false),
			msg(15030.0, "client", "finished", 40, true),
			msg(15040.0, "server", "change_cipher_spec", 1, false),
			msg(15040.0, "server", "finished", 40, true),
		},
		Established: true, Status: flows.StatusEstablished, Close: "end_of_input", ClientBytes: 600, ServerBytes: 900,
		DTLS: &flows.DTLS{ClientRetransmissions: 2, Cookie: true,
			SRTPProfiles: []string{"SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_HMAC_SHA1_80"}, SRTPProfile: "SRTP_AEAD_AES_128_GCM"},
	}
	return []*flows.Record{quicClosed, dtlsRetried}
}
