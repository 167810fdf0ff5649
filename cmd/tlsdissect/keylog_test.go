package main

import (
	bo "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pcapToNg rewrites a little-endian microsecond pcap file as pcapng, with
// a Decryption Secrets Block holding keyLog after packet at (0: before the
// first packet; -1: none).
func pcapToNg(t *testing.T, pcap []byte, keyLog []byte, at int) []byte {
	t.Helper()
	le := bo.LittleEndian
	if len(pcap) < 24 || le.Uint32(pcap) != 0xa1b2c3d4 {
		t.Fatal("not a little-endian microsecond pcap")
	}
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		var b []byte
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, uint32(12+len(body)))
		b = append(b, body...)
		return le.AppendUint32(b, uint32(12+len(body)))
	}
	dsb := func() []byte {
		var body []byte
		body = le.AppendUint32(body, 0x544c534b) // TLSK
		body = le.AppendUint32(body, uint32(len(keyLog)))
		return block(0x0a, append(body, keyLog...))
	}
	var shb []byte
	shb = le.AppendUint32(shb, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	out := block(0x0a0d0d0a, shb)
	var idb []byte
	idb = le.AppendUint16(idb, uint16(le.Uint32(pcap[20:])))
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 0)
	out = append(out, block(1, idb)...)
	n := 0
	for p := pcap[24:]; len(p) > 0; n++ {
		if n == at {
			out = append(out, dsb()...)
		}
		if len(p) < 16 {
			t.Fatal("truncated pcap record")
		}
		incl, orig := int(le.Uint32(p[8:])), le.Uint32(p[12:])
		if len(p) < 16+incl {
			t.Fatal("truncated pcap record")
		}
		ts := uint64(le.Uint32(p))*1e6 + uint64(le.Uint32(p[4:]))
		var epb []byte
		epb = le.AppendUint32(epb, 0)
		epb = le.AppendUint32(epb, uint32(ts>>32))
		epb = le.AppendUint32(epb, uint32(ts))
		epb = le.AppendUint32(epb, uint32(incl))
		epb = le.AppendUint32(epb, orig)
		out = append(out, block(6, append(epb, p[16:16+incl]...))...)
		p = p[16+incl:]
	}
	if at >= n {
		t.Fatalf("the capture has %d packets, none after %d", n, at)
	}
	return out
}

// TestSecretsBetweenPackets: a Decryption Secrets Block after the first
// packets decrypts the connections whose ClientHello follows it; one that
// came before it reads as without a key log, whatever the number of
// workers; a pcapng without any secrets reads exactly as the pcap it was
// made from.
func TestSecretsBetweenPackets(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		capture string
		name    string
		at      int
		want    []string // keys of the two connections
		workers []string
	}{
		// Both connections have their secrets in the log; the second
		// starts at packet 16.
		{"tls13-psk-resumed.pcap", "none", -1, []string{"", ""}, []string{"1", "3"}},
		{"tls13-psk-resumed.pcap", "after the SYN", 1, []string{"found", "found"}, []string{"1", "3"}},
		{"tls13-psk-resumed.pcap", "between the connections", 16, []string{"", "found"}, []string{"1", "3"}},
		{"tls13-psk-resumed.pcap", "last", 29, []string{"", ""}, []string{"1", "3"}},
		// Only the first has a line; the second resumes its ticket. The
		// master secret is not carried over from session to session here
		// (keys.KeyLog.CarrySessions is off): with several workers the
		// result would depend on their timing.
		{"tls12-ticket-resumed.pcap", "after the SYN", 1, []string{"found", "missing"}, []string{"1", "3"}},
		{"tls12-ticket-resumed.pcap", "between the connections", 14, []string{"", "missing"}, []string{"1", "3"}},
	} {
		t.Run(tc.capture+"/"+tc.name, func(t *testing.T) {
			name := filepath.Join(capturesDir, tc.capture)
			pcap, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			keyLog, err := os.ReadFile(name + ".keys")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, strings.ReplaceAll(tc.capture+tc.name, " ", "-")+".pcapng")
			if err := os.WriteFile(file, pcapToNg(t, pcap, keyLog, tc.at), 0o644); err != nil {
				t.Fatal(err)
			}
			plain := runBin(t, nil, "-q", "-F", "json", "-r", name)
			for _, workers := range tc.workers {
				r := runBin(t, nil, "-q", "-F", "json", "-workers", workers, "-r", file)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				recs := readRecords(t, r.stdout)
				if len(recs) != 2 {
					t.Fatalf("%d records", len(recs))
				}
				for i, rec := range recs {
					if rec.Keys != tc.want[i] {
						t.Errorf("workers %s: connection %d: keys %q, want %q", workers, i, rec.Keys, tc.want[i])
					}
				}
				if tc.at < 0 && r.stdout != plain.stdout {
					t.Errorf("workers %s: the pcapng without secrets reads differently from its pcap", workers)
				}
			}
		})
	}
}
