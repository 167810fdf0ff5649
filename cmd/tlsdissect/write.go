package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/pcapout"
	"github.com/tlsdissect/tlsdissect/recfilter"
)

// connOf is what -w needs of a selected record: its endpoints, transport
// and times. A record of a UDP transport says so in "transport" ("quic",
// "dtls"); any other is TCP.
func connOf(r *flows.Record) (pcapout.Conn, bool) {
	c, errC := netip.ParseAddr(r.Client.IP)
	s, errS := netip.ParseAddr(r.Server.IP)
	if errC != nil || errS != nil {
		return pcapout.Conn{}, false
	}
	udp := false
	if m, _, err := recfilter.Fields(r, nil); err == nil {
		switch m["transport"] {
		case "quic", "dtls", "udp":
			udp = true
		}
	}
	return pcapout.Conn{
		Client: netip.AddrPortFrom(c, r.Client.Port), Server: netip.AddrPortFrom(s, r.Server.Port),
		UDP: udp, First: r.TS.Time, Last: r.EndTS.Time,
	}, true
}

// bpfFilter applies the BPF filter of the command line to the frames -w
// copies, as the first reading did (libpcap's compiler and interpreter on
// a dead handle), so that the file holds only packets the filter let in.
// A link type libpcap cannot compile for lets every frame through: the
// first reading already kept out what it could.
func bpfFilter(o *options) pcapout.Filter {
	expr := strings.Join(o.filter, " ")
	if expr == "" {
		return nil
	}
	progs := map[uint32]*pcap.BPF{}
	return func(lt uint32, data []byte, ts time.Time, wireLen int) bool {
		dlt := lt
		switch lt {
		case 12, 14, 101:
			dlt = 12 // LINKTYPE_RAW is DLT_RAW, 12 on Linux
		}
		prog, ok := progs[dlt]
		if !ok {
			if dlt <= 255 {
				prog, _ = pcap.NewBPF(layers.LinkType(dlt), o.snaplen, expr)
			}
			progs[dlt] = prog
		}
		if prog == nil {
			return true
		}
		return prog.Matches(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: wireLen}, data)
	}
}

// spoolStdin copies standard input to a temporary file, so that -w can
// read the capture a second time; the caller removes it.
func spoolStdin(stdin io.Reader) (string, error) {
	f, err := os.CreateTemp("", "tlsdissect-stdin-*")
	if err != nil {
		return "", fmt.Errorf("-w: keeping standard input for a second reading: %w", err)
	}
	_, err = io.Copy(f, stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("-w: keeping standard input for a second reading: %w", err)
	}
	return f.Name(), nil
}

// writePackets reads the input again and writes the selected
// connections' packets to -w's file. It writes beside it and renames, so
// that a failed run does not leave half a capture under the name asked
// for. inputDamaged: the first reading already reported damage, which
// the second meets again and need not report twice.
func writePackets(o *options, inputs []string, conns []pcapout.Conn, inputDamaged bool, stderr io.Writer) error {
	var ins []pcapout.Input
	for _, name := range inputs {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("-w: reading %s again: %w", name, err)
		}
		defer f.Close()
		shown := name
		if o.file == "-" {
			shown = "stdin"
		}
		ins = append(ins, pcapout.Input{Name: shown, R: f})
	}
	dir := filepath.Dir(o.writeFile)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(o.writeFile)+".*")
	if err != nil {
		return fmt.Errorf("-w: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	format := pcapout.FormatFor(o.writeFile)
	st, err := pcapout.Copy(tmp, format, ins, pcapout.NewSelection(conns), bpfFilter(o))
	if err != nil && !(inputDamaged && errors.Is(err, pcapout.ErrCorrupt)) {
		tmp.Close()
		return fmt.Errorf("-w %s: %w", o.writeFile, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("-w %s: %w", o.writeFile, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("-w %s: %w", o.writeFile, err)
	}
	if err := os.Rename(tmp.Name(), o.writeFile); err != nil {
		return fmt.Errorf("-w: %w", err)
	}
	if o.verbose {
		sel := pcapout.NewSelection(conns)
		fmt.Fprintf(stderr, "%s: -w %s: %d of %d packets, %d connections, %s\n", progName, o.writeFile, st.Written, st.Read, sel.Len(), format)
	}
	return nil
}
