package conformance

// knownDisagreement classifies disagreements; people maintain this list
// with the reason they found. The first entry that matches wins; what no
// entry matches stays "unclassified" in the report.
type knownDisagreement struct {
	Capture  string // path.Match pattern on the capture path below the captures dir
	Conn     string // substring of the connection (or suricata check label), "" for any
	Category string // path.Match pattern on the category ("tshark.*"), "" for any
	Reason   string // one of the Reason* constants
	Why      string // the evidence, in a few words
}

// Diagnoses of 2026-11-27 (first full run against the real binary).
var knownDisagreements = []knownDisagreement{
	// ---- our bugs -------------------------------------------------------

	{"zeek/tls/heartbleed-encrypted-success.pcap", "", "tshark.messages", ReasonOurBug, "server heartbeat records after the first one lost (anomaly truncated); tshark frames three"},
	{"ndpi/tls_cipher_lens.pcap", ":51588 ", "ndpi.ja*", ReasonOurBug, "ClientHello with an odd cipher-suite list length rejected (malformed_handshake); nDPI and tshark read it"},
	{"ndpi/tls-appdata.pcap", "", "tshark.connections", ReasonByDesign, "bursts 20-45 minutes apart on one 4-tuple: our idle timeout (-idle, default 5m) ends the connection and the next burst is picked up mid-stream, as a sensor must; tshark keeps one stream"},
	{"arkime/arkime_synthetic.pcap", ":49621 ", "tshark.version", ReasonReferenceWrong, "synthetic ServerHello carrying every extension type 0..255: tshark takes the supported_versions bytes 0x002c as the version; Arkime and we report TLS 1.2"},
	{"arkime/arkime_synthetic.pcap", ":56006 ", "arkime.cert", ReasonOurBug, "lenient certificate read stops at subjectPublicKeyInfo: subjectAltName lost"},
	{"wireshark-notes/*/dump.pcapng", "", "keylog.tshark.*", ReasonByDesign, "CAMELLIA, SEED, IDEA and RC2 suites, which Go's standard crypto does not provide (and we write no cipher of our own), and the 40-bit export suites: their records stay ciphertext, and their keys are reported failed"},
	{"wireshark-notes/tls/*/dump.pcapng", "", "keylog.tshark.*", ReasonByDesign, "CAMELLIA, SEED, IDEA and RC2 suites, which Go's standard crypto does not provide, and the 40-bit export suites: their records stay ciphertext"},
	{"zeek/websocket/wstunnel-https.pcap", "", "zeek.*", ReasonOurBug, "TLS inside WebSocket: the client's frames are masked, so we see the server's side only"},

	// ---- references wrong ------------------------------------------------
	{"suricata-verify/tls/tls13-draft14/*", "", "tshark.cipher", ReasonReferenceWrong, "tshark reads the draft-14 ServerHello (no session_id or compression fields) at TLS 1.2 offsets: 0xacad is no registered suite; the bytes after the random say 0xc02b, a suite early drafts used"},
	{"suricata-verify/tcp-fastopen-10-syn-data-ignore/input.pcap", "", "suricata.checks", ReasonReferenceWrong, "the SYN-ACK does not acknowledge the ClientHello sent on the SYN (ack = ISN+1), so the client sends it again on the same connection: one TLS connection, which Suricata logs twice"},
	{"ndpi/tls_multiple_synack_different_seq.pcapng", "", "tshark.*", ReasonReferenceWrong, "several SYN-ACKs of different ISNs: tshark follows the first and loses the server's data; the client acknowledges the other one, whose ServerHello nDPI reads as we do (cipher, JA3S)"},
	{"zeek/websocket/wstunnel-https.pcap", "", "tshark.connections", ReasonReferenceWrong, "tshark does not see TLS inside WebSocket (captures README)"},
	{"zeek/postgresql/psql-aws-ssl-require*.pcap", "", "tshark.messages", ReasonReferenceWrong, "tshark lost the Certificate (lost_segment, out_of_order); an ECDHE_RSA ServerKeyExchange needs one"},
	{"suricata-verify/tls/tls-fingerprint-alert/input.pcap", "", "tshark.*", ReasonReferenceWrong, "tshark lost the server's first flight (lost_segment, out_of_order, spurious_retransmission); the client's CKE/CCS prove it was sent"},
	{"zeek/tls/hrr.pcap", "", "tshark.*", ReasonReferenceWrong, "tshark lost the ServerHello after the HelloRetryRequest (lost_segment, out_of_order)"},
	{"zeek/tls/ssl.v3.pcap", ":58870 ", "tshark.messages", ReasonReferenceWrong, "the server's encrypted alert is in frame 251, which tshark treats as a retransmission and does not dissect"},
	{"ndpi/ja3_lots_of_cipher_suites_2_anon.pcap", "", "tshark.messages", ReasonReferenceWrong, "GTP-U tunnel: the reference's direction test fails on the tunnel's address lists and puts every record on one side"},
	{"zeek/rdp/rdp-x509.pcap", "", "zeek.x509_log", ReasonReferenceWrong, "certificates of RDP Standard Security, not TLS (no TLS in the capture): nothing of ours to compare"},
	{"zeek/rdp/rdp-x509.pcap", "", "zeek.x509", ReasonReferenceWrong, "certificates of RDP Standard Security, not TLS (no TLS in the capture): nothing of ours to compare"},
	{"ndpi/443-opvn.pcap", "", "tshark.*", ReasonReferenceWrong, "TLS in OpenVPN: tshark shows \"Ignored Unknown Record\" for the records split across OpenVPN packets"},
	{"suricata-verify/tls/tls-bypass-missing-event/tor_bl.pcap", "", "tshark.messages", ReasonReferenceWrong, "tshark takes an encrypted TLS 1.3 record for SSLv2 (SSLv2:encrypted after the CCS)"},
	{"ja4/tls3.pcapng", ":8009", "tshark.connections", ReasonReferenceWrong, "mid-stream TLS records on port 8009 (Cast): tshark decodes TLS there only with decode-as, set only for streams with a hello"},
	{"ndpi/*", "", "ndpi.ja4", ReasonReferenceWrong, "nDPI's JA4 differs from the JA4 spec (ALPN chars \"ht\" for http/1.1, \"d\" without SNI extension, \"an\" for anydesk/...); the FoxIO tools agree with us (ja4.ja4 100%)"},
	{"suricata-verify/tls/tls-client-hello-frag-01/dump_mtu300.pcap", "ips-sni-drop", "suricata.checks", ReasonReferenceWrong, "the test's IPS drop rule stops Suricata logging the TLS event: a rule-engine effect, not a TLS fact"},

	// ---- datagram transports (2026-12-02, the UDP path) -------------------
	{"ndpi/dtls.pcap", "", "dtls.messages", ReasonReferenceWrong, "DTLS 1.3 with a HelloRetryRequest: the client's second ClientHello (message_seq 1, after the HRR) is in frame 3; tshark 4.0, which reads DTLS 1.3 only in part (captures README), leaves it out"},
	{"ndpi/dtls_certificate.pcapng", "", "dtls.messages", ReasonByDesign, "one datagram cut by the snap length: the ServerKeyExchange has 58 of its 329 bytes; we report it incomplete (anomaly incomplete_message), tshark names it from its first fragment"},
	{"zeek/tls/webrtc-stun.pcap", "", "zeek.dtls.ssl_history", ReasonByDesign, "Zeek's originator is the first packet's sender, a STUN binding request from the side that is the DTLS server, hence its \"^\"; our originator is the DTLS client"},
	{"ja4/http2-with-cookies.pcapng", "", "tshark.messages", ReasonByDesign, "the pcapng carries its own TLS secrets (a Decryption Secrets Block before the first packet), which we use without being asked: we read the encrypted TLS 1.3 flights (EncryptedExtensions, Certificate, Finished, Chrome's client EncryptedExtensions for ALPS); the plain tshark reference was made without them"},
	{"ja4/http2-with-cookies.pcapng", "", "tshark.alpn", ReasonByDesign, "the pcapng's own secrets give us the ALPN of the encrypted EncryptedExtensions (h2); the plain tshark reference was made without them"},
	{"ndpi/quic-v2.pcapng", "", "quic.messages", ReasonByDesign, "the pcapng carries its own TLS secrets (a Decryption Secrets Block), which we use without being asked: we read the Handshake and 1-RTT levels; the plain tshark reference was made without them"},
}
