package dissect

import (
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
func historyLetter(e *Event) byte {
	if e.Encrypted {
		return 0
	}
	switch e.Type {
	case MsgChangeCipherSpec:
		return 'I'
	case MsgAlert:
		return 'L'
	case MsgHeartbeat:
		return 'B'
	case MsgApplicationData:
		// Zeek's table has D for application_data, but its baselines
		// show none for the application data every connection carries:
		// it is never recorded for encrypted traffic, which is all of it.
		return 0
	case MsgHelloRetryRequest:
		return 'J'
	case MsgSSLv2ClientHello:
		return 'C'
	case MsgSSLv2ServerHello:
		return 'S'
	case MsgUnknownRecord:
		return 'Q'
	case MsgEncryptedHandshake, MsgSSLv2Error, MsgSSLv2Other, MsgTLS12CID, MsgConnectionClose, MsgRetry, MsgVersionNegotiation:
		return 0
	}
	if !e.Type.IsHandshake() {
		return 0
	}
	switch HandshakeType(e.Type) {
	case TypeHelloRequest:
		return 'H'
	case TypeClientHello:
		return 'C'
	case TypeServerHello:
		if e.ServerHello != nil && e.ServerHello.IsHelloRetryRequest {
			return 'J'
		}
		return 'S'
	case TypeHelloVerifyRequest:
		return 'V'
	case TypeNewSessionTicket:
		return 'T'
	case TypeEndOfEarlyData:
		return 'E'
	case TypeEncryptedExtensions:
		return 'O'
	case TypeCertificate:
		return 'X'
	case TypeServerKeyExchange:
		return 'K'
	case TypeCertificateRequest:
		return 'R'
	case TypeServerHelloDone:
		return 'N'
	case TypeCertificateVerify:
		return 'Y'
	case TypeClientKeyExchange:
		return 'G'
	case TypeFinished:
		return 'F'
	case TypeCertificateURL:
		return 'W'
	case TypeCertificateStatus:
		return 'U'
	case TypeSupplementalData:
		return 'A'
	case TypeKeyUpdate:
		return 'P'
	case TypeMessageHash:
		return 'M'
	}
	return 'Z'
}

// appendHistory adds the letter for e to h, lower-cased for the server.
func appendHistory(h []byte, e *Event) []byte {
	l := historyLetter(e)
	if l == 0 || len(h) >= maxHistory {
		return h
	}
	if e.Dir == packet.FromServer {
		l += 'a' - 'A'
	}
	return append(h, l)
}
