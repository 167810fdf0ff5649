package flows

import (
	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
)

// maxHistory bounds the history string, as Zeek bounds ssl_history.
const maxHistory = 100

// historyLetter returns Zeek's ssl_history letter for an event, in upper
// case, or 0 when Zeek would not record it.
//
// Zeek's letters (base/protocols/ssl/main.zeek): H hello_request,
// C client_hello, S server_hello, V hello_verify_request, T
// new_session_ticket, X certificate, K server_key_exchange, R
// certificate_request, N server_hello_done, Y certificate_verify, G
// client_key_exchange, F finished, W certificate_url, U certificate_status,
// A supplemental_data, Z any other handshake type, I change_cipher_spec, B
// heartbeat, D application_data, E end_of_early_data, O
// encrypted_extensions, P key_update, M message_hash, J
// hello_retry_request, L alert, Q a record of an unknown content type.
// The client's letters are written in upper case, the server's in lower
// case, and "^" leads when the roles were found swapped.
//
// Zeek records only what it can read: a message seen only as ciphertext
// (the Finished of TLS 1.2, everything after the ServerHello of TLS 1.3, an
// encrypted alert) adds no letter. Its baselines bear this out: a TLS 1.2
// handshake is "CsxknGIi" with no F, a TLS 1.3 one "CsiI".
func historyLetter(e *dissect.Event) byte {
	if e.Encrypted {
		return 0
	}
	switch e.Type {
	case dissect.MsgChangeCipherSpec:
		return 'I'
	case dissect.MsgAlert:
		return 'L'
	case dissect.MsgHeartbeat:
		return 'B'
	case dissect.MsgApplicationData:
		// Zeek's table has D for application_data, but its baselines
		// show none for the application data every connection carries:
		// it is never recorded for encrypted traffic, which is all of it.
		return 0
	case dissect.MsgHelloRetryRequest:
		return 'J'
	case dissect.MsgSSLv2ClientHello:
		return 'C'
	case dissect.MsgSSLv2ServerHello:
		return 'S'
	case dissect.MsgUnknownRecord:
		return 'Q'
	case dissect.MsgEncryptedHandshake, dissect.MsgSSLv2Error, dissect.MsgSSLv2Other, dissect.MsgTLS12CID:
		return 0
	}
	if !e.Type.IsHandshake() {
		return 0
	}
	switch dissect.HandshakeType(e.Type) {
	case dissect.TypeHelloRequest:
		return 'H'
	case dissect.TypeClientHello:
		return 'C'
	case dissect.TypeServerHello:
		if e.ServerHello != nil && e.ServerHello.IsHelloRetryRequest {
			return 'J'
		}
		return 'S'
	case dissect.TypeHelloVerifyRequest:
		return 'V'
	case dissect.TypeNewSessionTicket:
		return 'T'
	case dissect.TypeEndOfEarlyData:
		return 'E'
	case dissect.TypeEncryptedExtensions:
		return 'O'
	case dissect.TypeCertificate:
		return 'X'
	case dissect.TypeServerKeyExchange:
		return 'K'
	case dissect.TypeCertificateRequest:
		return 'R'
	case dissect.TypeServerHelloDone:
		return 'N'
	case dissect.TypeCertificateVerify:
		return 'Y'
	case dissect.TypeClientKeyExchange:
		return 'G'
	case dissect.TypeFinished:
		return 'F'
	case dissect.TypeCertificateURL:
		return 'W'
	case dissect.TypeCertificateStatus:
		return 'U'
	case dissect.TypeSupplementalData:
		return 'A'
	case dissect.TypeKeyUpdate:
		return 'P'
	case dissect.TypeMessageHash:
		return 'M'
	}
	return 'Z'
}

// appendHistory adds the letter for e to h, lower-cased for the server.
func appendHistory(h []byte, e *dissect.Event) []byte {
	l := historyLetter(e)
	if l == 0 || len(h) >= maxHistory {
		return h
	}
	if e.Dir == packet.FromServer {
		l += 'a' - 'A'
	}
	return append(h, l)
}
