// Package fingerprint computes JA3, JA3S, JA4, JA4S and JA4X from parsed
// hellos and certificates, exactly as their published specifications say.
// CONTRACT STUB: the fingerprint work replaces this file; signatures stay.
package fingerprint

import "github.com/tlsdissect/tlsdissect/dissect"

// JA3 returns the JA3 string of a ClientHello and its MD5 in hex.
func JA3(ch *dissect.ClientHello) (hash, raw string) { return "", "" }

// JA3S returns the JA3S string of a ServerHello and its MD5 in hex.
func JA3S(sh *dissect.ServerHello) (hash, raw string) { return "", "" }

// JA4 returns the JA4 fingerprint and its raw (ja4_r) form. transport is
// 't' for TCP, 'q' for QUIC, 'd' for DTLS.
func JA4(ch *dissect.ClientHello, transport byte) (fp, raw string) { return "", "" }

// JA4S returns the JA4S fingerprint and its raw form.
func JA4S(sh *dissect.ServerHello, transport byte) (fp, raw string) { return "", "" }

// JA4X returns the JA4X fingerprint of one DER certificate ("" when it does
// not parse far enough).
func JA4X(der []byte) string { return "" }
