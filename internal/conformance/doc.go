// Package conformance scores tlsdissect against the peer captures: real
// captures from the test suites of Zeek, Suricata, FoxIO JA4, Arkime and
// nDPI, each with that project's expected output and a tshark 4.0
// reference (see the README.md of the captures directory). The scorecard
// is rendered as testdata/conformance.md and guarded by thresholds that
// only go up (thresholds.go).
//
// # Running
//
// The binary is run once per capture as `tlsdissect -q -r FILE -F json`
// (and `-F zeek` where a Zeek ssl.log baseline exists), two captures at a
// time, 60 s each at most: a hang or a panic is a failure of that capture.
//
// # Matching connections
//
// Every reference connection is paired with one of ours by its 4-tuple in
// either orientation (our roles may be inferred from the hellos where the
// SYN was not captured); connections reusing a 4-tuple pair up in capture
// order. Zeek's uids are not ours: ssl.log rows match by id.orig_h/p,
// id.resp_h/p. Addresses are compared in canonical form (IPv6 compressed,
// IPv4-mapped unmapped).
//
// # What is compared
//
// A field is counted when the reference gives it (tshark and Zeek: when
// either side gives it, since both see the whole handshake); the ratio
// agree/total is per category (Categories). Values are canonicalised
// first: versions ("TLSv12", "TLSv1.2", "TLS 1.2", "TLSv1" = "TLS 1.0",
// drafts keep their number), cipher names upper case, serial numbers as
// hex without leading zero octets, distinguished names as sorted
// attribute=value pairs with attribute names unified (Email,
// emailAddress, 1.2.840.113549.1.9.1), times at second precision, UTC.
//
// # QUIC and DTLS
//
// tshark's QUIC connections and DTLS associations are compared in rows of
// their own (quic.*, dtls.*; datagram.go says how their sequences are
// normalised: QUIC keeps the hellos in clear, DTLS folds fragments and
// retransmitted flights), and the JA4 tools' QUIC fingerprints in
// ja4.quic.*, and Zeek's ssl.log rows of DTLS in zeek.dtls.*. Suricata,
// Arkime and nDPI are compared on TCP only.
//
// # The message sequence against tshark
//
// tshark's `timeline` (NAME.tshark-conn.json) lists every record's content
// in capture order with the sender: HS:<Message>, HS:encrypted, CCS,
// Alert(level,desc), Alert(encrypted), AppData*N, Heartbeat(t),
// SSLv2:<msg>. Our messages[] are rendered in the same tokens, from
// tshark's point of view of who is client:
//
//   - client_hello -> HS:ClientHello, server_hello_done -> HS:ServerHelloDone
//     and so on (CamelCase of the RFC name); change_cipher_spec -> CCS;
//     sslv2_client_hello -> SSLv2:ClientHello;
//   - a message seen only as ciphertext (encrypted: true, or
//     encrypted_handshake) -> HS:encrypted, whatever type we inferred: tshark
//     cannot name it either (a Finished after CCS is HS:encrypted on both
//     sides; with a NULL cipher tshark reads it as HS:Finished);
//   - an alert in clear -> Alert(level,code) (level and code from alerts[],
//     in order per direction), an encrypted one -> Alert(encrypted);
//   - heartbeat -> Heartbeat (tshark's Heartbeat(t) loses its type);
//   - application data is left out on both sides: the number of records
//     is not a handshake fact, and runs are folded differently;
//   - TLS 1.3 (when tshark or we say the version is 1.3 or a draft):
//     without keys tshark shows every record after the ServerHello as
//     AppData (the outer content type), so both sides keep only what is in
//     clear — the hellos, HelloRetryRequest, ChangeCipherSpec and alerts in
//     clear; HS:encrypted and Alert(encrypted) are left out;
//   - a folded entry with count > 1 that is not application data stands
//     for that many records.
//
// The sequences must then be equal, token for token, except for what
// tshark could not see: a run of HS:unparsed in one direction (a record it
// did not reassemble, such as a Certificate in a 16 KiB record, or could
// not dissect) stands for one or more of our handshake messages in that
// direction. The report marks the first difference in bold. tshark's other
// weaknesses (lost segments it does not repair, TLS inside WebSocket or
// OpenVPN, DTLS 1.3) show up as disagreements and are classified in
// knownDisagreements with the evidence.
//
// tshark connections with an empty timeline (a frame marked TLS, no record
// parsed) are not compared. Where tshark left client or server null, or
// mixed a tunnel's outer and inner addresses (GTP-U), the frame table
// (NAME.tshark.tsv, innermost addresses) places the stream. Where tshark's
// roles are inverted (its "client" sent the ServerHello: a capture starting
// with the server's packets), its C:/S: are swapped: the sender of the
// ClientHello is the client.
//
// # Other references
//
//   - Zeek: every ssl.log baseline beside the capture (btest TSV with
//     #fields, or zeek-cut output with a header line; headerless zeek-cut
//     output is "unparsed"). Several baselines of one trace are merged per
//     connection; where they disagree on a field, that field is a reference
//     conflict, not compared.
//   - Zeek x509.log: each certificate row is matched with one of our
//     certificates (any connection, server or client chain) by its SHA-256
//     fingerprint; serial, subject, issuer, validity, DNS alt names and key
//     type/size must all agree (Zeek's TSV escaping undone first).
//   - Suricata: each `filter` on event_type tls of every test.yaml is one
//     check, evaluated on the fields with an equivalent in our record
//     (suriField); it agrees when exactly `count` of our connections match.
//     Checks gated to older Suricata versions (lt-version) are skipped.
//     tls.fingerprint (SHA-1) is compared only when our record carries a
//     certificate sha1; community_id only when the test keeps the default
//     seed 0 (its suricata.yaml may set community-id-seed); from_proto
//     "pgsql" is our "postgresql". A check with only event_type counts our
//     TLS connections.
//   - JA4: the Python, Rust and Wireshark outputs are merged per stream; a
//     field counts only where the tools that give it agree with each other
//     (else a reference conflict). JA4X is not compared on TLS 1.3
//     connections: the certificates are encrypted there, and the tools'
//     values come from decrypting with keys embedded in the capture.
//   - Arkime: tls.version/cipher/ja3/ja3s/ja4 are arrays of what Arkime saw
//     in the session; ours agrees when it is among them. Certificates:
//     serial, validity and alt names (lower case), as a set: Arkime does not
//     keep the chain order. Sessions without packets are skipped.
//   - nDPI: the flow lines of ndpi.out; nDPI stops inspecting after a few
//     packets, so only the fields it printed are compared; flows it
//     classified by port only ("Match by port") are skipped. Its version is
//     compared only where tshark saw a ServerHello (without one nDPI prints
//     the ClientHello's). Subject and issuer are compared on the attributes
//     nDPI prints (C, ST, L, O, OU, CN); remarks after a fingerprint
//     ("(INSECURE)") are dropped.
//
// DTLS and QUIC connections are out of scope: counted per capture and
// source, not compared.
package conformance
