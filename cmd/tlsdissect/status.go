package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// outcome is what became of the records, for the summary line.
type outcome struct {
	written     uint64 // records the writer took
	filteredOut uint64 // records -Y left out
	filtering   bool   // -Y was given
	writeFailed bool   // a write failed: written is not a count of records out
}

func (o outcome) String() string {
	var s string
	if o.writeFailed {
		// Some of what the writer took may still have been in a buffer:
		// claim nothing.
		s = fmt.Sprintf("writing failed after at most %d records", o.written)
	} else {
		s = fmt.Sprintf("%d records written", o.written)
	}
	if o.filtering {
		s += fmt.Sprintf(" (%d left out by -Y)", o.filteredOut)
	}
	return s
}

// printSummary writes the one line that closes every run.
func printSummary(w io.Writer, cs capture.Stats, as reassembly.Stats, ds reassembly.DatagramStats, fs flows.Stats, out outcome, elapsed time.Duration) {
	var anomalies uint64
	for _, n := range fs.Anomalies {
		anomalies += n
	}
	udp := ""
	if fs.Datagram > 0 {
		udp = fmt.Sprintf(", %d QUIC/DTLS flows", fs.Datagram)
	}
	fmt.Fprintf(w, "%s: %d packets, %d TCP connections%s, %d TLS connections, %d failed, %d anomalies, %s, %.3fs",
		progName, cs.Packets, as.Connections, udp, fs.TLS, fs.Failed, anomalies, out, elapsed.Seconds())
	var skipped []string
	if cs.DecodeErrors > 0 {
		skipped = append(skipped, fmt.Sprintf("%d undecodable packets", cs.DecodeErrors))
	}
	if n := cs.Skipped[capture.SkipLinkType]; n > 0 {
		skipped = append(skipped, fmt.Sprintf("%d packets of unsupported link type %s", n, cs.UnsupportedLinkType))
	}
	if cs.Truncated > 0 {
		skipped = append(skipped, fmt.Sprintf("%d snaplen-truncated segments", cs.Truncated))
	}
	if cs.FragmentsDropped > 0 {
		skipped = append(skipped, fmt.Sprintf("%d IP fragments dropped (their datagram never completed, or over the fragment budget)", cs.FragmentsDropped))
	}
	// Each kind of loss apart: what the capture lacked, what a budget
	// gave up, and connections ended early (whose records are written).
	if lost := as.GapBytes - as.BudgetGapBytes; lost > 0 {
		skipped = append(skipped, fmt.Sprintf("%d bytes missing from the capture", lost))
	}
	if as.BudgetGapBytes > 0 {
		skipped = append(skipped, fmt.Sprintf("%d bytes given up to the buffer budgets (-max-buffer, -max-memory)", as.BudgetGapBytes))
	}
	if as.DroppedBytes > 0 {
		skipped = append(skipped, fmt.Sprintf("%d bytes ignored (outside the window, after a FIN, or in a reset)", as.DroppedBytes))
	}
	if n := as.Evicted + ds.Evicted; n > 0 {
		skipped = append(skipped, fmt.Sprintf("%d connections ended early by the connection budget (-max-conns; their records are written)", n))
	}
	if cs.PcapReceived > 0 || cs.PcapDropped > 0 {
		skipped = append(skipped, fmt.Sprintf("libpcap: %d received, %d dropped, %d dropped by interface", cs.PcapReceived, cs.PcapDropped, cs.PcapIfDropped))
	}
	for i, s := range skipped {
		if i == 0 {
			fmt.Fprint(w, "; ")
		} else {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprint(w, s)
	}
	fmt.Fprintln(w)
}

// statsPrinter prints counters on stderr every period of wall time
// (-stats). It runs on the reading goroutine, woken by packets or by the
// live read timeout, so it reads the counters without locks.
type statsPrinter struct {
	w     io.Writer
	every time.Duration
	next  time.Time
}

func newStatsPrinter(every time.Duration, w io.Writer) *statsPrinter {
	return &statsPrinter{w: w, every: every, next: time.Now().Add(every)}
}

func (p *statsPrinter) maybePrint(src packetSource, packets uint64, open int, written uint64) {
	if p.every <= 0 {
		return
	}
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(p.every)
	st := src.Stats()
	fmt.Fprintf(p.w, "%s: stats: %d packets, %d dropped, %d open connections, %d records written\n",
		progName, packets, st.PcapDropped+st.PcapIfDropped, open, written)
}

// progress draws a one-line bar on stderr while a file is read, when stderr
// is a terminal and -q was not given.
type progress struct {
	w     io.Writer
	src   packetSource
	size  int64
	start time.Time
	last  time.Time
	on    bool
}

func newProgress(o *options, src packetSource, stderr io.Writer) *progress {
	p := &progress{w: stderr, src: src, start: time.Now()}
	if o.quiet || o.live != "" {
		return p
	}
	f, ok := stderr.(*os.File)
	if !ok {
		return p
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return p
	}
	p.size = src.Size()
	p.on = p.size > 0
	return p
}

// update redraws the bar at most five times a second; the loop calls it
// every 1024 packets.
func (p *progress) update(packets uint64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	off := p.src.Offset()
	pct := float64(off) * 100 / float64(p.size)
	rate := float64(off) / now.Sub(p.start).Seconds() / 1e6
	const width = 30
	n := int(pct / 100 * width)
	bar := make([]byte, width)
	for i := range bar {
		if i < n {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %5.1f%% %7.1f MB/s %d packets", bar, pct, rate, packets)
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
