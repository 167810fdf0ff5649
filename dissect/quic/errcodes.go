package quic

import "strconv"

// transportErrors are the QUIC transport error codes (RFC 9000 20.1,
// RFC 9368 for VERSION_NEGOTIATION_ERROR).
var transportErrors = [...]string{
	"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED", "FLOW_CONTROL_ERROR",
	"STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR", "FINAL_SIZE_ERROR", "FRAME_ENCODING_ERROR",
	"TRANSPORT_PARAMETER_ERROR", "CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION", "INVALID_TOKEN",
	"APPLICATION_ERROR", "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR", "AEAD_LIMIT_REACHED",
	"NO_VIABLE_PATH", "VERSION_NEGOTIATION_ERROR",
}

// TransportErrorName names a transport error code of a CONNECTION_CLOSE of
// type 0x1c: its RFC 9000 name, CRYPTO_ERROR(n) for a TLS alert (0x0100 +
// the alert, RFC 9001 4.8), or its number in hex.
func TransportErrorName(code uint64) string {
	switch {
	case code < uint64(len(transportErrors)):
		return transportErrors[code]
	case code >= 0x100 && code <= 0x1ff:
		return "CRYPTO_ERROR(" + strconv.FormatUint(code-0x100, 10) + ")"
	}
	return "0x" + strconv.FormatUint(code, 16)
}
