package pipeline

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// TestQUICRebinding: a client whose NAT gives it a new address and port
// after the handshake goes on with the same connection IDs; the
// connection is followed onto the new path, on one shard or several, and
// reported once.
func TestQUICRebinding(t *testing.T) {
	src, err := capture.OpenFile("../testdata/captures/udp/quic-v1-h3.pcap", capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var pkts []packet.Packet
	for {
		var p packet.Packet
		err := src.NextPacket(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Datagram.Payload = bytes.Clone(p.Datagram.Payload)
		pkts = append(pkts, p)
	}
	client := pkts[0].Datagram.Src
	moved := netip.MustParseAddrPort("203.0.113.77:61000")
	// From the fifth datagram on (after the handshake), the client's
	// address is another: both directions.
	for i := 4; i < len(pkts); i++ {
		d := &pkts[i].Datagram
		if d.Src == client {
			d.Src = moved
		} else if d.Dst == client {
			d.Dst = moved
		}
	}
	for _, n := range []int{1, 3} {
		var out bytes.Buffer
		w, err := output.New("json", &out, output.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine(engineConfig{workers: n, reassembly: reassembly.Config{}, flows: flows.Config{}, ordered: true}, func(r *flows.Record) {
			if err := w.Write(r); err != nil {
				t.Error(err)
			}
		})
		var last time.Time
		for i := range pkts {
			e.AddPacket(&pkts[i], false)
			last = pkts[i].Datagram.Timestamp
		}
		e.Close(last)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%d workers: %d records, want the one connection:\n%s", n, len(lines), out.String())
		}
		var r flows.Record
		if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
			t.Fatal(err)
		}
		if r.QUIC == nil || r.QUIC.Paths != 2 || r.Client.Port != client.Port() {
			t.Fatalf("%d workers: quic %+v, client %v: want 2 paths, the first client", n, r.QUIC, r.Client)
		}
		total := r.QUIC.ClientPackets + r.QUIC.ServerPackets
		if total < len(pkts) {
			t.Errorf("%d workers: %d QUIC packets counted, the capture has %d datagrams", n, total, len(pkts))
		}
		if r.Status != flows.StatusEstablished {
			t.Errorf("%d workers: status %s", n, r.Status)
		}
	}
}
