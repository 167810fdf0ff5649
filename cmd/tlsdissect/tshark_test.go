package main

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
)

// TestAgainstTshark checks, for every committed capture, that each
// connection's handshake messages in clear and its ChangeCipherSpecs, per
// direction and in order, are what tshark sees. It runs where tshark is
// installed (make test installs it).
func TestAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (make test installs it)")
	}
	for _, file := range committedCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			want, err := tsharkSequences(tshark, file)
			if err != nil {
				t.Fatal(err)
			}
			// Only the plain-TCP capture may compare nothing; elsewhere an
			// empty reference would let any output pass.
			if len(want) == 0 && filepath.Base(file) != "nontls.pcap" {
				t.Fatal("tshark saw no TLS connection")
			}
			r := runBin(t, nil, "-q", "-F", "json", "-r", file)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			got := map[string]string{}
			for _, rec := range readRecords(t, r.stdout) {
				c := net.JoinHostPort(rec.Client.IP, strconv.Itoa(int(rec.Client.Port)))
				s := net.JoinHostPort(rec.Server.IP, strconv.Itoa(int(rec.Server.Port)))
				var c2s, s2c []string
				for _, m := range rec.Messages {
					tok := ""
					typ := m.Type.String()
					switch {
					case typ == "change_cipher_spec":
						tok = "CCS"
					case m.Encrypted || typ == "application_data" || typ == "alert" || typ == "heartbeat" || typ == "encrypted_handshake":
						continue
					default:
						n, ok := handshakeNumber(typ)
						if !ok {
							continue
						}
						tok = strconv.Itoa(n)
					}
					if m.From == packet.FromClient {
						c2s = append(c2s, tok)
					} else {
						s2c = append(s2c, tok)
					}
				}
				got[c+" "+s] = canonical(c2s) + " | " + canonical(s2c)
			}
			for conn, w := range want {
				if g, ok := got[conn]; !ok {
					t.Errorf("%s: tshark sees TLS (%s), we report no record", conn, w)
				} else if g != w {
					t.Errorf("%s:\n  tshark: %s\n  ours:   %s", conn, w, g)
				}
			}
		})
	}
}

// handshakeNumber maps our message type names back to HandshakeType.
func handshakeNumber(name string) (int, bool) {
	if name == "hello_retry_request" {
		return int(dissect.TypeServerHello), true
	}
	for i := 0; i < 256; i++ {
		if dissect.MsgType(i).String() == name {
			return i, true
		}
	}
	return 0, false
}

// tsharkSequences returns, per connection "client server", the clear
// handshake types and CCS per direction as tshark dissects them.
func tsharkSequences(tshark, file string) (map[string]string, error) {
	// QUIC carries TLS handshake messages (tls.*) without records; DTLS
	// has fields of its own, per fragment (dtls.handshake.*).
	cmd := exec.Command(tshark, "-n", "-r", file, "-Y", "tls or dtls", "-T", "fields", "-E", "separator=|",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "tls.record.content_type", "-e", "tls.handshake.type", "-e", "tcp.flags.syn",
		"-e", "udp.srcport", "-e", "udp.dstport", "-e", "dtls.record.content_type", "-e", "dtls.handshake.type",
		"-e", "dtls.handshake.message_seq")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v", err)
	}
	type dirs struct {
		c2s, s2c []string
		seqs     [2]map[string]bool // DTLS message_seq seen per direction
	}
	conns := map[string]*dirs{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 14 {
			continue
		}
		f[2], f[5] = first(f[2], f[9]), first(f[5], f[10]) // TCP or UDP ports
		src := net.JoinHostPort(first(f[0], f[1]), f[2])
		dst := net.JoinHostPort(first(f[3], f[4]), f[5])
		hsTypes := splitList(f[7])
		cts := splitList(f[6])
		dtlsSeqs := splitList(f[13])
		if f[11] != "" || f[12] != "" {
			cts, hsTypes = splitList(f[11]), splitList(f[12])
		}
		// The first TLS record of a connection comes from the client (a
		// ClientHello); that fixes the roles as tshark sees them.
		key, rev := src+" "+dst, dst+" "+src
		d, fromClient := conns[key], true
		if d == nil {
			if d = conns[rev]; d != nil {
				fromClient = false
			} else {
				d = &dirs{}
				conns[key] = d
				order = append(order, key)
				if !slices.Contains(hsTypes, "1") {
					// Mid-stream or server first: fall back to ports.
					sp, _ := strconv.Atoi(f[2])
					dp, _ := strconv.Atoi(f[5])
					if sp < dp {
						delete(conns, key)
						conns[rev] = d
						order[len(order)-1] = rev
						fromClient = false
					}
				}
			}
		}
		// Record content types and handshake types are separate lists in
		// tshark's fields, so their interleaving is lost: compare the
		// handshake types in order, and the CCS count.
		toks := append([]string(nil), hsTypes...)
		if len(dtlsSeqs) == len(hsTypes) && len(dtlsSeqs) > 0 {
			// DTLS: a message in fragments, or sent again, is one
			// message (tshark lists every fragment and every copy).
			i := 1
			if fromClient {
				i = 0
			}
			if d.seqs[i] == nil {
				d.seqs[i] = map[string]bool{}
			}
			toks = toks[:0]
			for j, seq := range dtlsSeqs {
				if !d.seqs[i][seq] {
					d.seqs[i][seq] = true
					toks = append(toks, hsTypes[j])
				}
			}
		}
		for _, ct := range cts {
			if ct == "20" {
				toks = append(toks, "CCS")
			}
		}
		if fromClient {
			d.c2s = append(d.c2s, toks...)
		} else {
			d.s2c = append(d.s2c, toks...)
		}
	}
	res := map[string]string{}
	for _, k := range order {
		d := conns[k]
		res[k] = canonical(d.c2s) + " | " + canonical(d.s2c)
	}
	return res, nil
}

// canonical writes handshake types in order, then the CCS count.
func canonical(toks []string) string {
	var hs []string
	ccs := 0
	for _, t := range toks {
		if t == "CCS" {
			ccs++
		} else {
			hs = append(hs, t)
		}
	}
	return strings.Join(hs, ",") + " ccs=" + strconv.Itoa(ccs)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
