// Package flows tells each TLS connection's story: the messages that went
// each way, what was negotiated, whether a session was resumed and from
// which earlier connection, the alerts, and when the handshake failed, the
// most likely reason in words. A Tracker is the reassembly.Factory; each
// connection's handler owns a dissect.Conn, gathers what it reports, and on
// Close builds one Record (schema tlsdissect.flow/1).
//
// The Tracker keeps a bounded memory across connections (tickets issued,
// session IDs, ticket and PSK identities presented, the leaf a client
// accepted per server name) so that resumption lineage, ticket reuse and
// interception can be told. Every map is capped and forgets its oldest.
//
// Status rules:
//   - established: both Finished messages were seen or inferred (TLS 1.2:
//     the first encrypted handshake record after each ChangeCipherSpec, or
//     application data both ways); TLS 1.3: the server sent its encrypted
//     flight and the client the record in its Finished's place;
//   - resumed: established, and an earlier session was resumed (an
//     abbreviated handshake after a ticket or an echoed session ID, or a
//     ServerHello carrying pre_shared_key). Record.Resumed says the server
//     agreed to resume, whether or not the handshake then completed;
//   - failed: a fatal alert (or an encrypted one) before the handshake
//     completed, or the connection closed (FIN or RST) before it did;
//   - incomplete: the capture ended first (end of input, idle, evicted), a
//     gap hid the end, the ClientHello was not seen, or only the client's
//     direction was captured.
//
// A probable encrypted alert (dissect.AlertEvent.Probable) becomes an alert
// only if nothing followed it in its direction. In TLS 1.3 it ends the
// handshake when it stands where the client's Finished should be, or when it
// is the server's first record after the client's Finished (a server
// refusing the client's certificate answers so).
//
// The failure reason comes from all the evidence: the alert, who sent it
// and where in the handshake, the versions offered and chosen, the server
// certificate at capture time (validity, names, self-signature, issuer),
// the trust-store verdict when one is configured, the client certificate
// exchange, and, without an alert, who spoke last. The client's verdict
// (its alert) outranks our trust store; memory across connections (the
// server's chain seen in clear, the versions it negotiated, the sites an
// issuer signs for, the intermediates sent) fills in what one connection
// hides. Each Failure carries a confidence (certain, likely, uncertain),
// the facts it rests on and what would settle it (diagnose.go,
// certcheck.go).
package flows
