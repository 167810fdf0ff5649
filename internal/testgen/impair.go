package testgen

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Impairment disturbs a connection's packets the way a capture point sees a
// bad network. All choices come from Seed. Reorder, Duplicate, Overlap and
// Retransmit keep both byte streams intact (a reassembler must rebuild
// exactly the bytes of the unimpaired twin); Gap loses data for good.
type Impairment struct {
	Seed uint64
	// Reorder swaps a data segment with the next data segment of the same
	// flight, this many times.
	Reorder int
	// Duplicate repeats a data segment right after itself.
	Duplicate int
	// Overlap inserts a retransmission that straddles two consecutive
	// segments of one direction (the second half of one, the first half of
	// the next), with identical bytes.
	Overlap int
	// Retransmit drops a data segment and sends it again at the end of its
	// flight (hole, then fill).
	Retransmit int
	// Gap drops, never to be sent again, a segment in the middle of the
	// longest run of data segments in one direction (application data in
	// a bulk transfer). Later ACKs are left as they were.
	Gap int
}

func (im Impairment) active() bool {
	return im.Reorder+im.Duplicate+im.Overlap+im.Retransmit+im.Gap > 0
}

func isData(p *Packet) bool { return len(p.Payload) > 0 && p.Flags&(FlagSYN|FlagRST) == 0 }

// flightEnd is the index just past the flight that packet i belongs to: the
// next packet carrying data, FIN or RST from the other side (pure ACKs of
// the other side do not end a flight). Impairments stay inside a flight so
// that the causal order across directions is kept: a reassembler that
// delivers bytes as they become contiguous still sees the client's flight
// before the server's answer.
func flightEnd(pkts []Packet, i int) int {
	for j := i + 1; j < len(pkts); j++ {
		if pkts[j].From != pkts[i].From && (len(pkts[j].Payload) > 0 || pkts[j].Flags&(FlagFIN|FlagRST|FlagSYN) != 0) {
			return j
		}
	}
	return len(pkts)
}

// nextInFlight is the index of the next data packet after i from the same
// side and in the same flight, or -1.
func nextInFlight(pkts []Packet, i int) int {
	end := flightEnd(pkts, i)
	for j := i + 1; j < end; j++ {
		if pkts[j].From == pkts[i].From && isData(&pkts[j]) {
			return j
		}
	}
	return -1
}

func (im Impairment) apply(pkts []Packet, t Timing) []Packet {
	if !im.active() {
		return pkts
	}
	r := rand.New(rand.NewPCG(im.Seed, subSeed(im.Seed, "impair")))
	// The packets keep their time slots; impairments move packets between
	// slots so that time still runs forward in the file.
	slots := make([]time.Time, len(pkts))
	for i := range pkts {
		slots[i] = pkts[i].Time
	}
	// Each segment is disturbed at most once, so that one impairment does
	// not undo another (a swap swapped back).
	touched := map[[2]uint32]bool{}
	key := func(p *Packet) [2]uint32 { return [2]uint32{uint32(p.From), p.Seq} }
	pick := func(ok func(i int) bool) int {
		var cand []int
		for i := range pkts {
			if isData(&pkts[i]) && !touched[key(&pkts[i])] && ok(i) {
				cand = append(cand, i)
			}
		}
		if len(cand) == 0 {
			return -1
		}
		i := cand[r.IntN(len(cand))]
		touched[key(&pkts[i])] = true
		return i
	}
	for range im.Reorder {
		i := pick(func(i int) bool { j := nextInFlight(pkts, i); return j >= 0 && !touched[key(&pkts[j])] })
		if i < 0 {
			break
		}
		j := nextInFlight(pkts, i)
		touched[key(&pkts[j])] = true
		pkts[i], pkts[j] = pkts[j], pkts[i]
	}
	for range im.Retransmit {
		// Lost on the way to the capture point, seen again as the last
		// packet of its flight.
		i := pick(func(i int) bool { return nextInFlight(pkts, i) >= 0 })
		if i < 0 {
			break
		}
		end := flightEnd(pkts, i)
		p := pkts[i]
		pkts = slices.Delete(pkts, i, i+1)
		pkts = slices.Insert(pkts, end-1, p)
	}
	for i := range pkts {
		pkts[i].Time = slots[i]
	}
	for range im.Duplicate {
		i := pick(func(int) bool { return true })
		if i < 0 {
			break
		}
		d := pkts[i]
		d.Time = d.Time.Add(t.Step / 4)
		pkts = slices.Insert(pkts, i+1, d)
	}
	for range im.Overlap {
		// Straddle two contiguous segments of a flight when there are any,
		// else resend the second half of one segment.
		i := pick(func(i int) bool { return len(pkts[i].Payload) > 1 })
		if i < 0 {
			break
		}
		a := pkts[i].Payload
		o := pkts[i]
		o.Seq += uint32(len(a) / 2)
		o.Payload = slices.Clone(a[len(a)/2:])
		at := i
		if j := nextInFlight(pkts, i); j >= 0 && pkts[j].Seq == pkts[i].Seq+uint32(len(a)) && len(pkts[j].Payload) > 1 {
			b := pkts[j].Payload
			o.Payload = append(o.Payload, b[:len(b)/2]...)
			o.Flags = pkts[j].Flags
			at = j
		}
		o.Time = pkts[at].Time.Add(t.Step / 4)
		pkts = slices.Insert(pkts, at+1, o)
	}
	// A receiver acknowledges only what it has in order: once segments are
	// late, ACKs must not cover them before they show up (a reassembler may
	// rightly take an ACK above a hole for data the capture missed).
	fixACKs(pkts)
	for range im.Gap {
		i := longestRunMiddle(pkts)
		if i < 0 {
			break
		}
		pkts = slices.Delete(pkts, i, i+1)
	}
	// Inserted packets took a time just after their original; keep the
	// file's timestamps non-decreasing.
	for i := 1; i < len(pkts); i++ {
		if pkts[i].Time.Before(pkts[i-1].Time) {
			pkts[i].Time = pkts[i-1].Time
		}
	}
	return pkts
}

// longestRunMiddle finds the longest run of data packets of one direction
// (pure ACKs of the peer in between do not break a run) and returns the index
// of its middle packet, or -1 when no run has three packets.
func longestRunMiddle(pkts []Packet) int {
	var best []int
	var run []int
	for i := range pkts {
		p := &pkts[i]
		switch {
		case isData(p) && len(run) > 0 && pkts[run[0]].From == p.From:
			run = append(run, i)
		case isData(p):
			run = []int{i}
		case len(run) > 0 && p.From != pkts[run[0]].From && p.Flags == FlagACK:
			continue // the receiver's ACK
		default:
			run = nil
		}
		if len(run) > len(best) {
			best = slices.Clone(run)
		}
	}
	if len(best) < 3 {
		return -1
	}
	return best[len(best)/2]
}

// fixACKs lowers each ACK to what its sender had received in order at that
// point of the capture. A Gap is applied after it: a segment the capture
// missed was still received, and the ACKs after it say so.
func fixACKs(pkts []Packet) {
	var next [2]uint32               // next in-order sequence number from each side
	var known [2]bool                // the side's SYN was seen
	var pending [2]map[uint32]uint32 // early segments: seq -> end (FIN counts one)
	for i := range pkts {
		p := &pkts[i]
		d := p.From
		end := p.Seq + uint32(len(p.Payload))
		if p.Flags&(FlagSYN|FlagFIN) != 0 {
			end++
		}
		if p.Flags&FlagSYN != 0 {
			next[d], known[d] = end, true
		} else if known[d] && end != p.Seq {
			if pending[d] == nil {
				pending[d] = map[uint32]uint32{}
			}
			if e, ok := pending[d][p.Seq]; !ok || int32(end-e) > 0 {
				pending[d][p.Seq] = end
			}
			// Advance over every segment that now joins the in-order prefix.
			for advanced := true; advanced; {
				advanced = false
				for seq, e := range pending[d] {
					if int32(seq-next[d]) <= 0 {
						if int32(e-next[d]) > 0 {
							next[d] = e
						}
						delete(pending[d], seq)
						advanced = true
					}
				}
			}
		}
		if o := d.peer(); p.Flags&FlagACK != 0 && known[o] && int32(p.Ack-next[o]) > 0 {
			p.Ack = next[o]
		}
	}
}
