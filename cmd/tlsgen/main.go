// Deterministic key generation and signatures need crypto to use the seeded
// reader tlsgen passes it; since Go 1.26 it does so only with this setting.
//go:debug cryptocustomrand=1

// Command tlsgen writes the project's test captures: crypto/tls client and
// server talk to each other in memory and what they said is written as
// TCP/IP packets to pcap or pcapng files.
//
//	go run ./cmd/tlsgen -out testdata/captures            # the committed captures
//	go run ./cmd/tlsgen -bench-handshakes 50000 -out DIR  # handshake-heavy benchmark capture
//	go run ./cmd/tlsgen -bench-bulk 1000000000 -out DIR   # bulk-transfer benchmark capture
//
// Output is deterministic: the same invocation writes the same bytes.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/internal/dtlsgen"
	"github.com/tlsdissect/tlsdissect/internal/quicgen"
	"github.com/tlsdissect/tlsdissect/internal/testgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tlsgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "testdata/captures", "output directory")
	only := fs.String("only", "", "write only the captures whose names contain this")
	verbose := fs.Bool("v", false, "print each connection's outcome")
	keylog := fs.Bool("keylog", false, "also write NAME.keys (NSS key log) beside each capture, for decryption (tlsdissect -keylog, Wireshark); a few are committed for the golden tests")
	udp := fs.Bool("udp", false, "write the QUIC (quic-go) and DTLS (pion/dtls) captures instead, each with NAME.pcap.keys; -out defaults to testdata/captures/udp")
	benchHS := fs.Int("bench-handshakes", 0, "write bench-handshakes.pcap with this many connections (and nothing else)")
	benchBulk := fs.Int64("bench-bulk", 0, "write bench-bulk.pcap carrying about this many bytes of TLS over 20 connections (and nothing else)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tlsgen: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if *udp {
		dir := *out
		if !outSet(fs) {
			dir = filepath.Join("testdata", "captures", "udp")
		}
		if err := writeUDP(ctx, dir, stdout); err != nil {
			fmt.Fprintf(stderr, "tlsgen: %v\n", err)
			return 1
		}
		return 0
	}
	if !testgen.CustomRandEnabled() {
		fmt.Fprintln(stderr, "tlsgen: crypto ignores the seeded random source (GODEBUG=cryptocustomrand=1 is not in effect); output would not be reproducible")
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "tlsgen: %v\n", err)
		return 1
	}
	var err error
	switch {
	case *benchHS > 0 || *benchBulk > 0:
		err = writeBench(ctx, *out, *benchHS, *benchBulk, stdout)
	default:
		err = writeCatalog(ctx, *out, *only, *verbose, *keylog, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tlsgen: %v\n", err)
		return 1
	}
	return 0
}

func writeCatalog(ctx context.Context, dir, only string, verbose, keylog bool, stdout io.Writer) error {
	k, err := testgen.NewCatalog(testgen.DefaultSeed, testgen.DefaultStart())
	if err != nil {
		return err
	}
	caps, err := k.Captures()
	if err != nil {
		return err
	}
	for i := range caps {
		c := &caps[i]
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if only != "" && !strings.Contains(c.Name, only) {
			continue
		}
		var buf, keys bytes.Buffer
		if keylog || testgen.KeyLogCommitted[c.Name] {
			c.KeyLog = &keys
		}
		res, err := c.Write(&buf)
		if err != nil {
			return err
		}
		if (keylog || testgen.KeyLogCommitted[c.Name]) && keys.Len() > 0 {
			if err := os.WriteFile(filepath.Join(dir, c.Name+".keys"), keys.Bytes(), 0o644); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, c.Name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-36s %6d bytes %4d packets\n", c.Name, buf.Len(), res.Packets)
		if verbose {
			for j, o := range res.Outcomes {
				fmt.Fprintf(stdout, "    %-32s %s\n", c.Conns[j].Name, testgen.Describe(o))
			}
		}
	}
	return nil
}

func writeBench(ctx context.Context, dir string, handshakes int, bulk int64, stdout io.Writer) error {
	k, err := testgen.NewCatalog(testgen.DefaultSeed, testgen.DefaultStart())
	if err != nil {
		return err
	}
	write := func(name string, gen func(io.Writer) (testgen.BenchStats, error)) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		st, err := gen(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(stdout, "%s: %d connections, %d packets, %d bytes\n", path, st.Conns, st.Packets, st.Bytes)
		return nil
	}
	if handshakes > 0 {
		err := write("bench-handshakes.pcap", func(w io.Writer) (testgen.BenchStats, error) {
			return k.BenchHandshakes(w, testgen.FormatPcap, handshakes, time.Millisecond)
		})
		if err != nil {
			return err
		}
	}
	if bulk > 0 {
		err := write("bench-bulk.pcap", func(w io.Writer) (testgen.BenchStats, error) {
			return k.BenchBulk(w, testgen.FormatPcap, bulk, 20)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// outSet reports whether -out was given.
func outSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
	return set
}

// writeUDP writes the QUIC and DTLS captures. Unlike the TCP catalog they
// are not byte-reproducible (quic-go and pion draw connection IDs, randoms
// and timers from the system); their structure is, and the generators'
// tests check it.
func writeUDP(ctx context.Context, dir string, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "tlsgen-udp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := quicgen.Write(tmp); err != nil {
		return err
	}
	if _, err := dtlsgen.WriteDir(ctx, tmp, testgen.DefaultSeed); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pcaps, err := filepath.Glob(filepath.Join(tmp, "*.pcap"))
	if err != nil {
		return err
	}
	for _, p := range pcaps {
		name := filepath.Base(p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		// The key log goes beside the capture as NAME.pcap.keys, as for
		// the TCP captures; a handshake that failed before any secret
		// leaves none.
		keys, err := os.ReadFile(strings.TrimSuffix(p, ".pcap") + ".keys")
		if err == nil && len(keys) > 0 {
			if err := os.WriteFile(filepath.Join(dir, name+".keys"), keys, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%-36s %6d bytes\n", name, len(b))
	}
	return nil
}
