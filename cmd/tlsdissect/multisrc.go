package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/pipeline"
)

// packetSource is what dissectAll needs of its input: one capture file or
// interface (*capture.Source), or several files read as one (mergedSource).
type packetSource interface {
	pipeline.Source
	Close() error
	LinkType() string
	Stats() capture.Stats
	Secrets() [][]byte
	Size() int64
	Offset() int64
}

// maxInputs bounds the files -r reads at once: each holds a read buffer
// of some 300 KiB and a file descriptor.
const maxInputs = 1024

// expandInputs turns the -r arguments into files: a directory stands for
// the captures in it (*.pcap, *.pcapng, *.cap and their .gz), a name with
// glob characters that names no file for the files it matches (quoted
// from the shell, as tcpdump -G and -C rotations are named). "-" stays.
func expandInputs(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		if a == "-" {
			if len(args) > 1 {
				return nil, errors.New(`-r -: standard input cannot be read with other files`)
			}
			return args, nil
		}
		fi, err := os.Stat(a)
		switch {
		case err == nil && fi.IsDir():
			entries, err := os.ReadDir(a)
			if err != nil {
				return nil, fmt.Errorf("-r %s: %w", a, err)
			}
			n := 0
			for _, e := range entries {
				if !e.IsDir() && isCaptureName(e.Name()) {
					files = append(files, filepath.Join(a, e.Name()))
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("-r %s: no capture files (*.pcap, *.pcapng, *.cap) in the directory", a)
			}
		case err != nil && strings.ContainsAny(a, "*?["):
			m, gerr := filepath.Glob(a)
			if gerr != nil {
				return nil, fmt.Errorf("-r %s: %w", a, gerr)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("-r %s: no file matches", a)
			}
			files = append(files, m...)
		default:
			files = append(files, a) // a missing file is reported when opened
		}
	}
	if len(files) > maxInputs {
		return nil, fmt.Errorf("-r: %d files, more than %d", len(files), maxInputs)
	}
	return files, nil
}

func isCaptureName(n string) bool {
	n = strings.TrimSuffix(strings.ToLower(n), ".gz")
	for _, ext := range []string{".pcap", ".pcapng", ".cap"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	// tcpdump -C numbers its files after the name: dump.pcap1, dump.pcap2.
	if i := strings.LastIndex(n, ".pcap"); i >= 0 && strings.Trim(n[i+5:], "0123456789") == "" {
		return true
	}
	return false
}

// mergedSource reads several captures as one, in time order: it holds the
// next segment of each and hands out the earliest (the first file's on a
// tie), so that a connection that spans rotated files is one connection.
// A segment's payload stays valid as its own Source promises: the Source
// it came from is not read again until the following Next.
type mergedSource struct {
	srcs    []*capture.Source
	names   []string
	pending []packet.Packet
	state   []int8 // 0 to read, 1 pending, 2 at its end
	last    int    // source of the segment handed out last; -1 none
	// Retain bookkeeping: the source of every segment handed out and not
	// yet Done, and how many of each source's are Done.
	order    []int
	orderOff uint64 // merged number of order[0]
	doneEach []uint64
	given    []uint64 // segments handed out per source
}

func openMerged(files []string, opts capture.Options) (*mergedSource, error) {
	m := &mergedSource{last: -1}
	for _, f := range files {
		s, err := capture.OpenFile(f, opts)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.srcs = append(m.srcs, s)
		m.names = append(m.names, f)
	}
	n := len(m.srcs)
	m.pending = make([]packet.Packet, n)
	m.state = make([]int8, n)
	m.doneEach = make([]uint64, n)
	m.given = make([]uint64, n)
	return m, nil
}

// NextPacket hands out the earliest pending packet.
func (m *mergedSource) NextPacket(seg *packet.Packet) error {
	for i, s := range m.srcs {
		if m.state[i] != 0 {
			continue
		}
		err := s.NextPacket(&m.pending[i])
		if err == io.EOF {
			m.state[i] = 2
			continue
		}
		if err != nil {
			return err // capture's errors name the file
		}
		m.state[i] = 1
	}
	best := -1
	for i := range m.srcs {
		if m.state[i] == 1 && (best < 0 || m.pending[i].Timestamp().Before(m.pending[best].Timestamp())) {
			best = i
		}
	}
	if best < 0 {
		return io.EOF
	}
	*seg = m.pending[best]
	m.state[best] = 0 // read again on the next call, not before
	m.last = best
	m.given[best]++
	m.order = append(m.order, best)
	return nil
}

func (m *mergedSource) Retain() {
	for _, s := range m.srcs {
		s.Retain()
	}
}

// Retained: the source of the last segment has read nothing since.
func (m *mergedSource) Retained() bool {
	return m.last >= 0 && m.srcs[m.last].Retained()
}

// Done releases the first n segments handed out: each source learns how
// many of its own those were.
func (m *mergedSource) Done(n uint64) {
	if n <= m.orderOff {
		return
	}
	k := min(n-m.orderOff, uint64(len(m.order)))
	touched := map[int]bool{}
	for _, i := range m.order[:k] {
		m.doneEach[i]++
		touched[i] = true
	}
	m.order = m.order[k:]
	m.orderOff += k
	for i := range touched {
		m.srcs[i].Done(m.doneEach[i])
	}
}

func (m *mergedSource) Close() error {
	var first error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// LinkType is the first file's, as a pcapng file's is its first
// interface's.
func (m *mergedSource) LinkType() string { return m.srcs[0].LinkType() }

func (m *mergedSource) Secrets() [][]byte {
	var all [][]byte
	for _, s := range m.srcs {
		all = append(all, s.Secrets()...)
	}
	return all
}

func (m *mergedSource) Size() int64 {
	var n int64
	for _, s := range m.srcs {
		n += s.Size()
	}
	return n
}

func (m *mergedSource) Offset() int64 {
	var n int64
	for _, s := range m.srcs {
		n += s.Offset()
	}
	return n
}

// Stats adds up the sources' counters: every count field is summed
// (arrays element by element), any other field is the first non-zero.
// Reflection keeps it right as capture.Stats grows.
func (m *mergedSource) Stats() capture.Stats {
	var sum capture.Stats
	out := reflect.ValueOf(&sum).Elem()
	for _, s := range m.srcs {
		st := s.Stats()
		addStats(out, reflect.ValueOf(st))
	}
	return sum
}

func addStats(dst, src reflect.Value) {
	switch dst.Kind() {
	case reflect.Struct:
		for i := range dst.NumField() {
			addStats(dst.Field(i), src.Field(i))
		}
	case reflect.Array:
		for i := range dst.Len() {
			addStats(dst.Index(i), src.Index(i))
		}
	case reflect.Uint64, reflect.Int64, reflect.Int:
		if dst.Type().Name() != "uint64" && dst.Type().Name() != "int64" && dst.Type().Name() != "int" {
			// A named type (a link type, an enum) is not a count.
			if dst.IsZero() {
				dst.Set(src)
			}
			return
		}
		if dst.Kind() == reflect.Uint64 {
			dst.SetUint(dst.Uint() + src.Uint())
		} else {
			dst.SetInt(dst.Int() + src.Int())
		}
	default:
		if dst.IsZero() && dst.CanSet() {
			dst.Set(src)
		}
	}
}
