package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestParseArgs: flags as a tcpdump user types them, and the usage errors
// each bad combination gives.
func TestParseArgs(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string // substring; "" for success
		check   func(t *testing.T, o *options)
	}{
		{args: []string{"-r", "x.pcap"}, check: func(t *testing.T, o *options) {
			if o.file != "x.pcap" || o.format != "table" || o.snaplen != 262144 || o.idleTimeout != 5*time.Minute {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{args: []string{"-i", "eth0", "-F", "json", "-s", "96", "-c", "10", "-p", "-B", "8192", "-Z", "nobody", "-stats", "60s", "tcp", "port", "443"},
			check: func(t *testing.T, o *options) {
				if o.live != "eth0" || o.format != "json" || o.snaplen != 96 || o.count != 10 || !o.noPromisc ||
					o.bufferKiB != 8192 || o.runAs != "nobody" || o.statsEvery != time.Minute {
					t.Errorf("live flags: %+v", o)
				}
				if got := strings.Join(o.filter, " "); got != "tcp port 443" {
					t.Errorf("filter %q", got)
				}
			}},
		{args: []string{"-r", "x.pcap", "tcp port 443 or tcp port 8443"}, check: func(t *testing.T, o *options) {
			if len(o.filter) != 1 || o.filter[0] != "tcp port 443 or tcp port 8443" {
				t.Errorf("quoted filter %q", o.filter)
			}
		}},
		{args: []string{"-D"}, check: func(t *testing.T, o *options) {
			if !o.listDevices {
				t.Error("-D not set")
			}
		}},
		{args: []string{"-r", "x.pcap", "-width", "10"}, check: func(t *testing.T, o *options) {
			if o.width != 40 {
				t.Errorf("width %d, want the 40-column floor", o.width)
			}
		}},
		{args: nil, wantErr: "no input"},
		{args: []string{"-r", "a", "-i", "b"}, wantErr: "exclude each other"},
		{args: []string{"-r", "a", "-F", "xml"}, wantErr: `unknown format "xml"`},
		{args: []string{"-r", "a", "-F", "html"}, wantErr: "-o FILE"},
		{args: []string{"-r", "a", "-s", "0"}, wantErr: "snaplen"},
		{args: []string{"-r", "a", "-s", "300000"}, wantErr: "snaplen"},
		{args: []string{"-i", "a", "-B", "-1"}, wantErr: "buffer size"},
		{args: []string{"-r", "a", "-idle", "-1s"}, wantErr: "-idle"},
		{args: []string{"-r", "a", "-max-conns", "0"}, wantErr: "-max-conns"},
		{args: []string{"-r", "a", "-workers", "0"}, wantErr: "-workers 0: must be positive"},
		{args: []string{"-r", "a", "-c", "many"}, wantErr: "-c"},
		{args: []string{"-bogus"}, wantErr: "bogus"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			o, err := parseArgs(c.args, io.Discard)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			case c.check != nil:
				c.check(t, o)
			}
		})
	}
}

// TestLiveErrors: a live capture that cannot start says why and what to do,
// on one line, exit 1.
func TestLiveErrors(t *testing.T) {
	r := runBin(t, nil, "-i", "nosuchdev0")
	if r.code != 1 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	line := strings.TrimSpace(r.stderr)
	if strings.Count(line, "\n") != 0 || !strings.Contains(line, "nosuchdev0") || !strings.Contains(line, "lo") {
		t.Errorf("want one line naming the device and listing the real ones (lo among them), got %q", r.stderr)
	}
	r = runBin(t, nil, "-i", "lo", "tcp port port")
	if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "filter") {
		t.Errorf("bad filter: exit %d, %q", r.code, r.stderr)
	}
}
