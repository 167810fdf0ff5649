package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManifestEntry is one capture of manifest.json (the fields used here).
type ManifestEntry struct {
	Path            string   `json:"path"`
	Size            int64    `json:"size"`
	TLSConnections  int      `json:"tls_connections"`
	TCPTLS          int      `json:"tcp_tls"`
	DTLS            int      `json:"dtls"`
	QUIC            int      `json:"quic"`
	Features        []string `json:"features"`
	ExpectedOutputs []string `json:"expected_outputs"`
}

// LoadManifest reads capturesDir/manifest.json, sorted by path.
func LoadManifest(capturesDir string) ([]ManifestEntry, error) {
	b, err := os.ReadFile(filepath.Join(capturesDir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m []ManifestEntry
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	sort.Slice(m, func(i, j int) bool { return m[i].Path < m[j].Path })
	return m, nil
}

// siblings lists the files next to a capture whose names start with
// "CAPTURE." and end with one of the suffixes, sorted.
func siblings(capturesDir, capPath string, match func(rest string) bool) []string {
	full := filepath.Join(capturesDir, filepath.FromSlash(capPath))
	dir, base := filepath.Split(full)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, base+".") {
			continue
		}
		if match(n[len(base)+1:]) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

// zeekBaselines lists the Zeek ssl.log baselines of a capture: files
// NAME.zeek.<test>.<file> ending in .log or .cut whose #path is ssl, or, for
// zeek-cut output without #path, whose own name says ssl.
func zeekBaselines(capturesDir, capPath string) []string {
	return siblings(capturesDir, capPath, func(rest string) bool {
		if !strings.HasPrefix(rest, "zeek.") {
			return false
		}
		if !strings.HasSuffix(rest, ".log") && !strings.HasSuffix(rest, ".cut") {
			return false
		}
		// The baseline file name is the last component(s): "ssl.log",
		// "ssl-all.log", "ssl1_2.log", "ssl.cut", "ssl.log.cut".
		parts := strings.Split(rest, ".")
		last := parts[len(parts)-2]
		if last == "log" && len(parts) >= 3 {
			last = parts[len(parts)-3]
		}
		return strings.HasPrefix(last, "ssl")
	})
}
