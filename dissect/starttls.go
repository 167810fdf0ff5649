package dissect

import (
	"bytes"
)

// Plaintext preludes before TLS: the STARTTLS-style upgrades of mail,
// directory and database protocols, and the HTTP CONNECT of a proxy. They
// are recognised from what the two directions said before the first TLS
// record; the TLS start itself is found by the record scanner.

// postgresSSLRequest is the 8-byte SSLRequest packet: length 8, then the
// code 80877103 (PostgreSQL protocol, "SSL Session Encryption").
var postgresSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// ldapStartTLSOID is the StartTLS extended operation (RFC 4511 4.14.1).
var ldapStartTLSOID = []byte("1.3.6.1.4.1.1466.20037")

// mysqlClientSSL is the CLIENT_SSL capability flag of the MySQL protocol.
const mysqlClientSSL = 0x0800

// isMySQLGreeting: a MySQL packet header (3-byte length, sequence 0) and
// protocol version 10.
func isMySQLGreeting(b []byte) bool {
	return len(b) >= 5 && b[3] == 0 && b[4] == 0x0a && int(b[0])|int(b[1])<<8|int(b[2])<<16 < 1024
}

// mysqlGreetingHasSSL reads the lower capability flags of a protocol 10
// greeting: after the NUL-terminated server version, a 4-byte thread id, 8
// bytes of auth data and a filler byte.
func mysqlGreetingHasSSL(b []byte) bool {
	if !isMySQLGreeting(b) {
		return false
	}
	rest := b[5:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 || len(rest) < i+1+4+8+1+2 {
		return false
	}
	caps := rest[i+1+4+8+1:]
	return (int(caps[0])|int(caps[1])<<8)&mysqlClientSSL != 0
}

// mysqlSSLRequest: a 32-byte packet with sequence 1 whose capability flags
// ask for SSL.
func mysqlSSLRequest(b []byte) bool {
	return len(b) >= 6 && b[0] == 32 && b[1] == 0 && b[2] == 0 && b[3] == 1 && (int(b[4])|int(b[5])<<8)&mysqlClientSSL != 0
}

// lines splits text into lines without their CR LF.
func hasCommand(text []byte, match func(fields [][]byte) bool) bool {
	for _, line := range bytes.Split(text, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) > 0 && match(f) {
			return true
		}
	}
	return false
}

func eq(a []byte, s string) bool { return bytes.EqualFold(a, []byte(s)) }

// startTLSProtocol names the upgrade that the plaintext preludes of the
// client and server directions show, or "" when they show none.
func startTLSProtocol(client, server []byte) string {
	switch {
	case bytes.HasPrefix(client, postgresSSLRequest):
		return "postgresql"
	case mysqlSSLRequest(client) || isMySQLGreeting(server) && mysqlGreetingHasSSL(server) && len(client) >= 36:
		return "mysql"
	case len(client) > 0 && client[0] == 0x30 && bytes.Contains(client, ldapStartTLSOID):
		return "ldap"
	case bytes.HasPrefix(client, []byte("CONNECT ")):
		return "http-connect"
	case bytes.Contains(client, []byte("<starttls")) || bytes.Contains(server, []byte("<proceed")):
		return "xmpp"
	case hasCommand(client, func(f [][]byte) bool { return eq(f[0], "STLS") }):
		return "pop3"
	case hasCommand(client, func(f [][]byte) bool {
		return len(f) >= 2 && eq(f[0], "AUTH") && (eq(f[1], "TLS") || eq(f[1], "SSL") || eq(f[1], "TLS-C"))
	}):
		return "ftp"
	case hasCommand(client, func(f [][]byte) bool { return len(f) == 1 && eq(f[0], "STARTTLS") }):
		return "smtp"
	case hasCommand(client, func(f [][]byte) bool { return len(f) >= 2 && eq(f[1], "STARTTLS") }):
		return "imap"
	}
	return ""
}
