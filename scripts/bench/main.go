// Command bench measures the whole tlsdissect binary on the project's own
// benchmark captures and prints a Markdown table: wall time, MB/s,
// packets/s, connections/s and peak RSS, next to the floor (reading and
// decoding the packets, nothing else) and, when installed, tshark.
//
//	go run ./scripts/bench -dir bench            # generates the captures first if missing
//	go run ./scripts/bench -floor FILE           # (internal) the read+decode floor
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/packet"
)

func main() {
	dir := flag.String("dir", "bench", "where the benchmark captures live (generated when missing)")
	bin := flag.String("bin", "bin/tlsdissect", "the tlsdissect binary to measure")
	floor := flag.String("floor", "", "internal: read and decode FILE, print the packet count")
	handshakes := flag.Int("handshakes", 50000, "connections in the handshake-heavy capture")
	bulk := flag.Int64("bulk", 1_000_000_000, "bytes in the bulk capture")
	runs := flag.Int("runs", 3, "runs per measurement; the fastest is kept")
	flag.Parse()
	if *floor != "" {
		os.Exit(readOnly(*floor))
	}
	if err := bench(*dir, *bin, *handshakes, *bulk, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// readOnly is the floor: every packet read and decoded to a TCP segment.
func readOnly(path string) int {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	var seg packet.Segment
	n := 0
	for {
		err := src.Next(&seg)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		n++
	}
	fmt.Println(src.Stats().Packets)
	return 0
}

type measure struct {
	wall   time.Duration
	rssKiB int64
	stdout string
	stderr string
}

// run times one process; the fastest of runs is kept, with the largest RSS.
func run(runs int, name string, args ...string) (measure, error) {
	var best measure
	for i := 0; i < runs; i++ {
		cmd := exec.Command(name, args...)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return best, fmt.Errorf("%s %v: %v: %s", name, args, err, se.String())
		}
		wall := time.Since(start)
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		if i == 0 || wall < best.wall {
			best.wall, best.stdout, best.stderr = wall, so.String(), se.String()
		}
		best.rssKiB = max(best.rssKiB, rss)
	}
	return best, nil
}

var tlsConns = regexp.MustCompile(`(\d+) TLS connections`)

func bench(dir, bin string, handshakes int, bulk int64, runs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct{ name, flag, value string }{
		{"bench-handshakes.pcap", "-bench-handshakes", strconv.Itoa(handshakes)},
		{"bench-bulk.pcap", "-bench-bulk", strconv.FormatInt(bulk, 10)},
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f.name)); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "bench: generating %s\n", f.name)
			gen := exec.Command("go", "run", "./cmd/tlsgen", f.flag, f.value, "-out", dir)
			gen.Stderr = os.Stderr
			if err := gen.Run(); err != nil {
				return fmt.Errorf("generating %s: %w", f.name, err)
			}
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tshark, _ := exec.LookPath("tshark")

	fmt.Printf("Measured %s on %s/%s, %d CPUs, %s; fastest of %d runs, peak RSS of all.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), runs)
	fmt.Println("| capture | size | tool | wall | MB/s | packets/s | TLS conns/s | peak RSS | vs floor | tshark ÷ us |")
	fmt.Println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		mb := float64(fi.Size()) / 1e6
		fl, err := run(runs, self, "-floor", path)
		if err != nil {
			return err
		}
		packets, _ := strconv.ParseFloat(string(bytes.TrimSpace([]byte(fl.stdout))), 64)
		us, err := run(runs, bin, "-F", "json", "-o", os.DevNull, "-r", path)
		if err != nil {
			return err
		}
		one, err := run(runs, bin, "-F", "json", "-workers", "1", "-o", os.DevNull, "-r", path)
		if err != nil {
			return err
		}
		conns := 0.0
		if m := tlsConns.FindStringSubmatch(us.stderr); m != nil {
			conns, _ = strconv.ParseFloat(m[1], 64)
		}
		row := func(tool string, m measure, vsFloor, vsTshark string) {
			s := m.wall.Seconds()
			fmt.Printf("| %s | %.0f MB | %s | %.2f s | %.0f | %.0f | %.0f | %.0f MiB | %s | %s |\n",
				f.name, mb, tool, s, mb/s, packets/s, conns/s, float64(m.rssKiB)/1024, vsFloor, vsTshark)
		}
		row("read+decode (floor)", fl, "1.0×", "")
		tsharkRatio := "—"
		var ts measure
		if tshark != "" {
			ts, err = run(1, tshark, "-n", "-r", path, "-T", "fields", "-e", "tls.handshake.type")
			if err != nil {
				return err
			}
			tsharkRatio = fmt.Sprintf("%.0f×", ts.wall.Seconds()/us.wall.Seconds())
		}
		ratio := func(m measure) string {
			if tshark == "" {
				return "—"
			}
			return fmt.Sprintf("%.0f×", ts.wall.Seconds()/m.wall.Seconds())
		}
		row("tlsdissect -F json -workers 1", one, fmt.Sprintf("%.1f×", one.wall.Seconds()/fl.wall.Seconds()), ratio(one))
		row(fmt.Sprintf("tlsdissect -F json (%d workers)", runtime.NumCPU()), us, fmt.Sprintf("%.1f×", us.wall.Seconds()/fl.wall.Seconds()), tsharkRatio)
		if tshark != "" {
			row("tshark 4.0", ts, fmt.Sprintf("%.1f×", ts.wall.Seconds()/fl.wall.Seconds()), "")
		}
	}
	return nil
}
