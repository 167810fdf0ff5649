package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

// ngDSB writes a Decryption Secrets Block: secrets type, secrets length
// (claimed, normally len(data)), the data padded, and an opt_comment.
func ngDSB(bo binary.AppendByteOrder, typ uint32, claimed int, data []byte) []byte {
	var body []byte
	body = bo.AppendUint32(body, typ)
	body = bo.AppendUint32(body, uint32(claimed))
	body = pad4(append(body, data...))
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 3)
	body = pad4(append(body, "dsb"...))
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, pcapngDSB, body)
}

// keyLog is n lines of NSS key log text.
func keyLog(n int, label string) []byte {
	var b []byte
	for i := range n {
		b = fmt.Appendf(b, "CLIENT_RANDOM %064x %096x\n", i, label)
	}
	return b
}

func TestDecryptionSecrets(t *testing.T) {
	spec := defaultSpec(false, "secret")
	frame := frameFor(t, LinkTypeEthernet, "", spec.ip(t))
	for _, bigEndian := range []bool{false, true} {
		var bo binary.AppendByteOrder = binary.LittleEndian
		if bigEndian {
			bo = binary.BigEndian
		}
		ifc := ngIface{lt: LinkTypeEthernet, tsres: -1}
		first := keyLog(3, "first")      // before the interface
		second := keyLog(2500, "second") // larger than the read buffer
		third := []byte("CLIENT_RANDOM 01 02")
		file := ngSHB(bo)
		file = append(file, ngDSB(bo, pcapngSecretsTLS, len(first), first)...)
		file = append(file, ngIDB(bo, ifc)...)
		file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frame})...)
		file = append(file, ngDSB(bo, 0x57474b4c, 4, []byte("WGKL"))...)           // WireGuard: not ours
		file = append(file, ngDSB(bo, pcapngSecretsTLS, 4000, []byte("short"))...) // overruns its block
		file = append(file, ngDSB(bo, pcapngSecretsTLS, len(second), second)...)
		file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frame})...)
		file = append(file, ngDSB(bo, pcapngSecretsTLS, len(third), third)...) // unpadded length
		if len(second) <= readBufSize {
			t.Fatal("the large key log fits the read buffer: it tests nothing")
		}

		s, err := openReader(bytes.NewReader(file), "dsb", Options{chunk: 4096})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Secrets(); len(got) != 1 || !bytes.Equal(got[0], first) {
			t.Fatalf("after open: %d secrets", len(got))
		}
		segs, st, err := drain(s)
		if err != nil || len(segs) != 2 {
			t.Fatalf("%d segments, %v", len(segs), err)
		}
		got := s.Secrets()
		if len(got) != 3 || !bytes.Equal(got[0], first) || !bytes.Equal(got[1], second) || !bytes.Equal(got[2], third) {
			t.Fatalf("%d secrets", len(got))
		}
		if st.Secrets != 3 || st.SecretsDropped != 1 || st.DecodeErrors != 0 {
			t.Errorf("stats %+v", st)
		}
		got[0][0] = 'X'
		if s.Secrets()[0][0] != 'C' {
			t.Error("Secrets hands out its own buffers")
		}
	}

	// A damaged trailer is damage to the framing.
	bo := binary.LittleEndian
	dsb := ngDSB(bo, pcapngSecretsTLS, 3, []byte("abc"))
	binary.LittleEndian.PutUint32(dsb[len(dsb)-4:], 99)
	file := append(append(ngSHB(bo), ngIDB(bo, ngIface{lt: LinkTypeEthernet, tsres: -1})...), dsb...)
	if _, _, err := readAll(t, file, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad trailer: %v, want ErrCorrupt", err)
	}
	// The memory bound: a key log beyond it is counted, not kept.
	huge := make([]byte, maxSecretsBytes+4)
	file = append(append(ngSHB(bo), ngIDB(bo, ngIface{lt: LinkTypeEthernet, tsres: -1})...), ngDSB(bo, pcapngSecretsTLS, len(huge), huge)...)
	s, err := openReader(bytes.NewReader(file), "huge", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, st, err := drain(s); err != nil || st.Secrets != 0 || st.SecretsDropped != 1 || s.Secrets() != nil {
		t.Errorf("huge key log: %v, stats %+v", err, st)
	}
}

// TestOnSecrets: each Decryption Secrets Block read after OnSecrets is
// handed over as it is read, before the packets that follow it.
func TestOnSecrets(t *testing.T) {
	spec := defaultSpec(false, "secret")
	frame := frameFor(t, LinkTypeEthernet, "", spec.ip(t))
	bo := binary.LittleEndian
	ifc := ngIface{lt: LinkTypeEthernet, tsres: -1}
	first, second, third := keyLog(1, "first"), keyLog(2500, "second"), keyLog(2, "third")
	file := ngSHB(bo)
	file = append(file, ngDSB(bo, pcapngSecretsTLS, len(first), first)...)
	file = append(file, ngIDB(bo, ifc)...)
	file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frame})...)
	file = append(file, ngDSB(bo, pcapngSecretsTLS, len(second), second)...)
	file = append(file, ngDSB(bo, 0x57474b4c, 4, []byte("WGKL"))...) // not TLS: not handed over
	file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frame})...)
	file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frame})...)
	file = append(file, ngDSB(bo, pcapngSecretsTLS, len(third), third)...)

	s, err := openReader(bytes.NewReader(file), "dsb", Options{chunk: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	var at []int // packets returned before each call
	packets := 0
	if !s.OnSecrets(func(text []byte) {
		got = append(got, bytes.Clone(text))
		at = append(at, packets)
	}) {
		t.Fatal("a pcapng file says it cannot carry secrets")
	}
	for {
		var seg packet.Segment
		if err := s.Next(&seg); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		packets++
	}
	if len(got) != 2 || !bytes.Equal(got[0], second) || !bytes.Equal(got[1], third) {
		t.Fatalf("handed %d key logs", len(got))
	}
	if at[0] != 1 || at[1] != 3 {
		t.Errorf("handed after packets %v, want [1 3]", at)
	}
	if n := len(s.Secrets()); n != 3 {
		t.Errorf("Secrets has %d, want 3", n)
	}

	// A classic pcap cannot carry them.
	p, err := openReader(bytes.NewReader(pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame})), "pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.OnSecrets(func([]byte) { t.Error("called") }) {
		t.Error("a pcap file says it can carry secrets")
	}
}
