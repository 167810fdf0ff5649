package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveSoak runs the binary live on loopback for TLSDISSECT_SOAK (e.g.
// "3m") while this test opens TLS connections at a steady rate, and checks
// that the resident memory stays flat: records are emitted and forgotten as
// connections end. Not part of make test; run it by hand:
//
//	TLSDISSECT_SOAK=3m go test ./cmd/tlsdissect -run TestLiveSoak -v
func TestLiveSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("TLSDISSECT_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set TLSDISSECT_SOAK=3m to run the soak test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	out, err := os.CreateTemp(t.TempDir(), "soak-*.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "-i", "lo", "-q", "-F", "json", "-o", out.Name(), "-idle", "1h", "tcp port "+strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(time.Second)

	go serveEcho(ln, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}, 64)
	cache := tls.NewLRUClientSessionCache(64)
	// One connection stays open and quiet for the whole run (-idle 1h), as
	// a websocket would: the connections that come and go after it must
	// not pile up behind it.
	held, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, ServerName: "held.soak.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	const rate = 50 // connections per second, bounded by the test's duration
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	deadline := time.Now().Add(d)
	var samples []int
	nextSample := time.Now()
	conns := 0
	for time.Now().Before(deadline) {
		<-tick.C
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, ClientSessionCache: cache, ServerName: "soak.test"})
		if err == nil {
			c.Write(make([]byte, 64))
			io.ReadFull(c, make([]byte, 64))
			c.Close()
			conns++
		}
		if time.Now().After(nextSample) {
			samples = append(samples, rssKiB(t, cmd.Process.Pid))
			nextSample = time.Now().Add(5 * time.Second)
		}
	}
	held.Close()
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	data, _ := os.ReadFile(out.Name())
	records := strings.Count(string(data), "\n")
	t.Logf("soak: %v, %d connections made, %d records, RSS samples (KiB): %v", d, conns, records, samples)
	if records < conns*9/10 {
		t.Errorf("only %d records for %d connections", records, conns)
	}
	if n := len(samples); n >= 6 {
		early := avg(samples[1 : n/3+1])
		late := avg(samples[2*n/3:])
		t.Logf("soak: RSS early %.0f KiB, late %.0f KiB", early, late)
		if late > early*1.5+4096 {
			t.Errorf("memory grows: early %.0f KiB, late %.0f KiB", early, late)
		}
	}
}

func rssKiB(t *testing.T, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

func avg(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}
