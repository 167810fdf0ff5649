package testgen

import (
	"container/heap"
	"crypto/tls"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// BenchStats tells what a benchmark capture holds.
type BenchStats struct {
	Conns   int
	Packets uint64
	Bytes   uint64 // bytes of packet data (without file headers)
}

// benchClient and benchServer spread connections over the benchmarking
// range of RFC 2544 (198.18.0.0/15).
func benchClient(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8 % 256), byte(i)}), uint16(1024+(i*7919)%64000))
}

func benchServer(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, 0, byte(1 + i%50)}), 443)
}

// template is a recorded connection whose packets are replayed with other
// addresses, sequence numbers and times.
type template struct {
	pkts []Packet // times from base
	base time.Time
}

func (k *Catalog) benchTemplates() ([]template, error) {
	c13, c12 := tls.NewLRUClientSessionCache(4), tls.NewLRUClientSessionCache(4)
	conns := []Conn{
		k.tls13Full("bench/tls13", 0, c13),
		k.tls12Ticket("bench/tls12", 1, c12),
		k.tls13Full("bench/tls13-resumed", 2, c13),
		k.tls12Ticket("bench/tls12-resumed", 3, c12),
		k.failCert("bench/untrusted", 4, k.PKI.Untrusted),
		k.failVersion("bench/version", 5),
		k.tls13Small("bench/tls13-small", 6, nil),
		k.clientCert("bench/mtls", 7, true, true),
	}
	// Requests and responses of a few KB, as web traffic has.
	for i := range conns {
		if conns[i].Client.MaxVersion != tls.VersionTLS11 {
			conns[i].ClientSends, conns[i].ServerSends = 500, 4000
		}
	}
	var ts []template
	for i := range conns {
		// Recorded at the catalog's start: certificates are valid then.
		pkts, out, err := conns[i].Packets(k.Start)
		if err != nil {
			return nil, fmt.Errorf("bench template %s: %w", conns[i].Name, err)
		}
		failure := strings.Contains(conns[i].Name, "untrusted") || strings.Contains(conns[i].Name, "version")
		resumed := strings.Contains(conns[i].Name, "resumed")
		if failed := out.ClientErr != nil || out.ServerErr != nil; failed != failure || out.Client.DidResume != resumed {
			return nil, fmt.Errorf("bench template %s: %s", conns[i].Name, Describe(out))
		}
		ts = append(ts, template{pkts: pkts, base: k.Start})
	}
	return ts, nil
}

// replay is one connection of the handshake benchmark in progress.
type replay struct {
	i      int
	t      *template
	next   int
	start  time.Time
	client netip.AddrPort
	server netip.AddrPort
	dseq   [2]uint32 // added to each side's sequence numbers
}

func (r *replay) time() time.Time { return r.start.Add(r.t.pkts[r.next].Time.Sub(r.t.base)) }

type replayHeap []*replay

func (h replayHeap) Len() int { return len(h) }
func (h replayHeap) Less(a, b int) bool {
	ta, tb := h[a].time(), h[b].time()
	if ta.Equal(tb) {
		return h[a].i < h[b].i
	}
	return ta.Before(tb)
}
func (h replayHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *replayHeap) Push(x any)   { *h = append(*h, x.(*replay)) }
func (h *replayHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// BenchHandshakes writes a handshake-heavy capture of n connections: a few
// recorded connections (full and resumed TLS 1.2 and 1.3, mutual TLS,
// failures) replayed with their own addresses, ports, sequence numbers and
// start times (one every interval), overlapping in time. Packets are merged
// by time and streamed to w; memory holds only the connections in progress.
// Replays of one template carry the same TLS bytes (randoms, session IDs,
// tickets), so ticket lineage across connections means nothing here.
func (k *Catalog) BenchHandshakes(w io.Writer, f Format, n int, interval time.Duration) (BenchStats, error) {
	var st BenchStats
	ts, err := k.benchTemplates()
	if err != nil {
		return st, err
	}
	pw, err := NewPacketWriter(w, f, LinkEthernet)
	if err != nil {
		return st, err
	}
	var h replayHeap
	write := func(r *replay) error {
		p := r.t.pkts[r.next]
		p.Time = r.time()
		p.Seq += r.dseq[p.From]
		if p.Flags&FlagACK != 0 {
			p.Ack += r.dseq[p.From.peer()]
		}
		return pw.Write(r.client, r.server, &p)
	}
	for i := 0; i < n || h.Len() > 0; {
		var nextStart time.Time
		if i < n {
			nextStart = k.Start.Add(time.Duration(i) * interval)
		}
		// Write every packet due before the next connection starts.
		for h.Len() > 0 && (i >= n || h[0].time().Before(nextStart)) {
			r := h[0]
			if err := write(r); err != nil {
				return st, err
			}
			r.next++
			if r.next == len(r.t.pkts) {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
		if i < n {
			s := subSeed(k.Seed, fmt.Sprint("bench/", i))
			heap.Push(&h, &replay{
				i: i, t: &ts[i%len(ts)], start: nextStart,
				client: benchClient(i), server: benchServer(i),
				dseq: [2]uint32{uint32(s), uint32(s >> 32)},
			})
			i++
			st.Conns++
		}
	}
	st.Packets, st.Bytes = pw.Packets, pw.Bytes
	return st, pw.Flush()
}

// BenchBulk writes a bulk-transfer capture: conns TLS 1.3 connections, one
// after another, each a download of about total/conns bytes, recorded with
// crypto/tls for real and streamed to w packet by packet.
func (k *Catalog) BenchBulk(w io.Writer, f Format, total int64, conns int) (BenchStats, error) {
	var st BenchStats
	if conns <= 0 {
		conns = 20
	}
	pw, err := NewPacketWriter(w, f, LinkEthernet)
	if err != nil {
		return st, err
	}
	t := k.Start
	for i := range conns {
		cn := k.tls13Small(fmt.Sprint("bulk/", i), 0, nil)
		cn.ClientAddr, cn.ServerAddr = benchClient(i), benchServer(i)
		cn.ClientSends, cn.ServerSends = 200, int(total/int64(conns))
		var werr error
		out, end, err := cn.Stream(t, func(p Packet) {
			if werr == nil {
				werr = pw.Write(cn.ClientAddr, cn.ServerAddr, &p)
			}
		})
		if err == nil {
			err = werr
		}
		if err == nil && (out.ClientErr != nil || out.ServerErr != nil) {
			err = fmt.Errorf("%s", Describe(out))
		}
		if err != nil {
			return st, fmt.Errorf("bulk connection %d: %w", i, err)
		}
		st.Conns++
		t = end.Add(10 * time.Millisecond)
	}
	st.Packets, st.Bytes = pw.Packets, pw.Bytes
	return st, pw.Flush()
}
