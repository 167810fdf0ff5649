package fingerprint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// arkimeKnown lists where Arkime's output departs from the published
// specifications, by capture, client endpoint and field, with the reason;
// these are logged, not failed. (Empty: none found so far.)
var arkimeKnown = map[string]string{}

// TestConformanceArkime compares JA3, JA3S, JA4 and ja4_r with the Arkime
// test suite's expected sessions (arkime/ folder of TLSDISSECT_CONFORMANCE).
// Arkime is a single reference, so a disagreement must be judged against
// the specification and recorded in arkimeKnown.
func TestConformanceArkime(t *testing.T) {
	root := os.Getenv("TLSDISSECT_CONFORMANCE")
	if root == "" {
		t.Skip("TLSDISSECT_CONFORMANCE is not set; set it to the peer captures directory to run")
	}
	dir := filepath.Join(root, "arkime")
	tests, _ := filepath.Glob(filepath.Join(dir, "*.arkime.test"))
	if len(tests) == 0 {
		t.Fatalf("TLSDISSECT_CONFORMANCE=%s: no arkime/*.arkime.test", root)
	}
	compared, agreed := 0, 0
	for _, tf := range tests {
		capName := strings.TrimSuffix(tf, ".arkime.test")
		if _, err := os.Stat(capName); err != nil {
			continue
		}
		base := filepath.Base(capName)
		b, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Sessions []struct {
				Body struct {
					Source struct {
						IP   string
						Port int
					} `json:"source"`
					Destination struct {
						IP   string
						Port int
					} `json:"destination"`
					IPProtocol int                        `json:"ipProtocol"`
					TLS        map[string]json.RawMessage `json:"tls"`
				} `json:"body"`
			} `json:"sessions3"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		var ours map[connKey]*observed
		for _, s := range doc.Sessions {
			tls := s.Body.TLS
			if len(tls) == 0 || s.Body.IPProtocol != 6 {
				continue
			}
			if ours == nil {
				if ours, _, err = fingerprintCapture(capName); err != nil {
					t.Errorf("%s: %v", base, err)
					break
				}
			}
			k := connKey{hostPort(s.Body.Source.IP, strconv.Itoa(s.Body.Source.Port)),
				hostPort(s.Body.Destination.IP, strconv.Itoa(s.Body.Destination.Port))}
			o := ours[k]
			if o == nil {
				t.Errorf("%s %s: Arkime has TLS fingerprints, we found no hello", base, k)
				continue
			}
			for _, p := range o.pipeline {
				// Arkime's synthetic captures hold malformed hellos that
				// dissect may rightly refuse: reported, not failed.
				t.Logf("%s %s: %s", base, k, p)
			}
			list := func(name string) []string {
				var v []string
				json.Unmarshal(tls[name], &v)
				return v
			}
			field := func(vals []string, i int) []string {
				var out []string
				for _, v := range vals {
					out = append(out, strings.SplitN(v, " ", 2)[i])
				}
				return out
			}
			checks := []struct {
				name      string
				want, got []string
			}{
				{"ja3", list("ja3"), field(o.ja3, 0)},
				{"ja3string", list("ja3string"), field(o.ja3, 1)},
				{"ja3s", list("ja3s"), field(o.ja3s, 0)},
				{"ja3sstring", list("ja3sstring"), field(o.ja3s, 1)},
				{"ja4", list("ja4"), o.ja4},
				{"ja4_r", list("ja4_r"), o.ja4r},
			}
			for _, c := range checks {
				if len(c.want) == 0 {
					continue
				}
				compared++
				// Arkime keeps a sorted set of the values of a session.
				got := slices.Clone(c.got)
				slices.Sort(got)
				got = slices.Compact(got)
				want := slices.Clone(c.want)
				slices.Sort(want)
				if slices.Equal(got, want) {
					agreed++
					continue
				}
				id := base + " " + k.cli + " " + c.name
				if why, ok := arkimeKnown[id]; ok {
					t.Logf("%s: Arkime %q, ours %q: %s", id, want, got, why)
					continue
				}
				t.Errorf("%s: got %q, Arkime says %q", id, got, want)
			}
		}
	}
	t.Logf("Arkime conformance: %d values compared, %d agree", compared, agreed)
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}
