package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The JA4 family has three upstream implementations (Python over tshark,
// Rust, the Wireshark plugin). Each stream gets the values every tool
// gives; a field is compared with ours only where the tools that give it
// agree with each other, else it counts as a reference conflict.

type ja4Stream struct {
	key       string // "tcp:N" / "udp:N"
	client    string
	server    string
	transport string
	ja4       []string
	ja4s      []string
	ja4x      []string // each a comma-joined chain
	first     int      // order of appearance
}

func (e *capEval) evalJA4() {
	base := filepath.Join(e.capturesDir, filepath.FromSlash(e.path))
	streams := map[string]*ja4Stream{}
	get := func(key, transport, a, b string) *ja4Stream {
		s := streams[key]
		if s == nil {
			s = &ja4Stream{key: key, transport: transport, client: a, server: b, first: len(streams)}
			streams[key] = s
		}
		if s.client == "" {
			s.client, s.server = a, b
		}
		return s
	}
	found := false

	// Python: a JSON list of streams.
	if b, err := os.ReadFile(base + ".ja4-python.json"); err == nil {
		found = true
		var list []map[string]any
		if err := json.Unmarshal(b, &list); err != nil {
			e.unparsed = append(e.unparsed, e.path+".ja4-python.json: "+err.Error())
		}
		for _, m := range list {
			sp, _ := strconv.Atoi(jsonStr(m["srcport"]))
			dp, _ := strconv.Atoi(jsonStr(m["dstport"]))
			a, bb := endpoint(jsonStr(m["src"]), sp), endpoint(jsonStr(m["dst"]), dp)
			ja4 := jsonStr(m["JA4.1"])
			tr := "tcp"
			if strings.HasPrefix(ja4, "q") || strings.HasPrefix(ja4, "d") {
				tr = "udp"
			}
			s := get(tr+":"+jsonStr(m["stream"]), tr, a, bb)
			s.ja4 = append(s.ja4, ja4)
			s.ja4s = append(s.ja4s, jsonStr(m["JA4S"]))
			var xs []string
			for i := 1; ; i++ {
				x := jsonStr(m["JA4X."+strconv.Itoa(i)])
				if x == "" {
					break
				}
				xs = append(xs, x)
			}
			s.ja4x = append(s.ja4x, strings.Join(xs, ","))
		}
	}

	// Rust: an insta snapshot (YAML) listing streams.
	if b, err := os.ReadFile(base + ".ja4-rust.snap"); err == nil {
		found = true
		doc, err := parseYAML(string(b))
		if err != nil {
			e.unparsed = append(e.unparsed, e.path+".ja4-rust.snap: "+err.Error())
		}
		list, _ := doc.([]any)
		for _, it := range list {
			sp, _ := strconv.Atoi(ystr(ypath(it, "src_port")))
			dp, _ := strconv.Atoi(ystr(ypath(it, "dst_port")))
			a, bb := endpoint(ystr(ypath(it, "src")), sp), endpoint(ystr(ypath(it, "dst")), dp)
			tr := ystr(ypath(it, "transport"))
			if tr != "tcp" {
				tr = "udp"
			}
			s := get(tr+":"+ystr(ypath(it, "stream")), tr, a, bb)
			s.ja4 = append(s.ja4, ystr(ypath(it, "ja4")))
			s.ja4s = append(s.ja4s, ystr(ypath(it, "ja4s")))
			var xs []string
			certs, _ := ypath(it, "tls_certs").([]any)
			for _, c := range certs {
				chain, _ := ypath(c, "x509").([]any)
				for _, x := range chain {
					if v := ystr(ypath(x, "ja4x")); v != "" {
						xs = append(xs, v)
					}
				}
			}
			s.ja4x = append(s.ja4x, strings.Join(xs, ","))
		}
	}

	// Wireshark plugin: per frame; frames are placed in streams through
	// the tshark frame table.
	if b, err := os.ReadFile(base + ".ja4-wireshark.json"); err == nil {
		found = true
		frames := loadFrameTable(base + ".tshark.tsv")
		var list []struct {
			Source struct {
				Layers map[string][]string `json:"layers"`
			} `json:"_source"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			e.unparsed = append(e.unparsed, e.path+".ja4-wireshark.json: "+err.Error())
		}
		type acc struct {
			ja4s, ja4 string
			x         []string
		}
		per := map[string]*acc{}
		for _, f := range list {
			L := f.Source.Layers
			num := first(L["frame.number"])
			fr, ok := frames[num]
			if !ok {
				continue
			}
			s := get(fr.key, fr.transport, fr.src, fr.dst)
			a := per[s.key]
			if a == nil {
				a = &acc{}
				per[s.key] = a
			}
			if v := first(L["ja4.ja4s"]); v != "" && a.ja4s == "" {
				a.ja4s = v
			}
			if v := first(L["ja4.ja4"]); v != "" && a.ja4 == "" {
				a.ja4 = v
			}
			if len(L["ja4.ja4x"]) > 0 && a.x == nil {
				a.x = L["ja4.ja4x"]
			}
		}
		for k, a := range per {
			s := streams[k]
			s.ja4 = append(s.ja4, a.ja4)
			s.ja4s = append(s.ja4s, a.ja4s)
			s.ja4x = append(s.ja4x, strings.Join(a.x, ","))
		}
	}
	if !found {
		return
	}
	e.loadTshark()
	list := make([]*ja4Stream, 0, len(streams))
	for _, s := range streams {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].transport != list[j].transport {
			return list[i].transport < list[j].transport
		}
		ni, _ := strconv.Atoi(strings.TrimPrefix(list[i].key, list[i].transport+":"))
		nj, _ := strconv.Atoi(strings.TrimPrefix(list[j].key, list[j].transport+":"))
		return ni < nj
	})
	m := newMatcher(e.ours)
	for _, s := range list {
		if len(nonEmpty(s.ja4)) == 0 && len(nonEmpty(s.ja4s)) == 0 && len(nonEmpty(s.ja4x)) == 0 {
			continue // no TLS fingerprint in this stream (SSH, HTTP, ...)
		}
		o := m.take(s.client, s.server)
		if s.transport != "tcp" || e.udpKeys[pairKey(s.client, s.server)] {
			// QUIC and DTLS: the JA4 tools fingerprint them too (the
			// first letter says the transport); compared in rows of
			// their own.
			if o == nil || o.rec.Transport == "tcp" {
				e.outOfScope("ja4")
				continue
			}
			e.consensus("ja4."+o.rec.Transport+".ja4", s.client+" -> "+s.server, o.rec.JA4, s.ja4)
			e.consensus("ja4."+o.rec.Transport+".ja4s", s.client+" -> "+s.server, o.rec.JA4S, s.ja4s)
			continue
		}
		conn := s.client + " -> " + s.server
		var ours struct{ ja4, ja4s, ja4x string }
		if o != nil {
			ours.ja4, ours.ja4s, ours.ja4x = o.rec.JA4, o.rec.JA4S, strings.Join(o.rec.JA4X, ",")
		}
		e.consensus("ja4.ja4", conn, ours.ja4, s.ja4)
		e.consensus("ja4.ja4s", conn, ours.ja4s, s.ja4s)
		// TLS 1.3 certificates are encrypted: a JA4X there comes from the
		// tools decrypting with the capture's embedded keys, which we do
		// not; not compared.
		if o == nil || !strings.HasPrefix(normVersion(o.rec.Version), "TLS 1.3") {
			e.consensus("ja4.ja4x", conn, ours.ja4x, s.ja4x)
		}
	}
}

func nonEmpty(l []string) []string {
	var out []string
	for _, s := range l {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func jsonStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// frameInfo places one frame of the tshark frame table.
type frameInfo struct {
	key, transport, src, dst string
}

// loadFrameTable reads NAME.tshark.tsv: frame number -> stream and
// endpoints ("|"-separated, header row; tunnelled frames list every
// layer's address, the innermost last).
func loadFrameTable(p string) map[string]frameInfo {
	out := map[string]frameInfo{}
	b, err := os.ReadFile(p)
	if err != nil {
		return out
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) == 0 {
		return out
	}
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], "|") {
		col[h] = i
	}
	last := func(f []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(f) {
			return ""
		}
		v := f[i]
		if j := strings.LastIndexByte(v, ','); j >= 0 {
			v = v[j+1:]
		}
		return v
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, "|")
		num := last(f, "frame.number")
		if num == "" {
			continue
		}
		src := last(f, "ip.src")
		if v := last(f, "ipv6.src"); v != "" {
			src = v
		}
		dst := last(f, "ip.dst")
		if v := last(f, "ipv6.dst"); v != "" {
			dst = v
		}
		fi := frameInfo{}
		if st := last(f, "tcp.stream"); st != "" {
			sp, _ := strconv.Atoi(last(f, "tcp.srcport"))
			dp, _ := strconv.Atoi(last(f, "tcp.dstport"))
			fi = frameInfo{key: "tcp:" + st, transport: "tcp", src: endpoint(src, sp), dst: endpoint(dst, dp)}
		} else if st := last(f, "udp.stream"); st != "" {
			sp, _ := strconv.Atoi(last(f, "udp.srcport"))
			dp, _ := strconv.Atoi(last(f, "udp.dstport"))
			fi = frameInfo{key: "udp:" + st, transport: "udp", src: endpoint(src, sp), dst: endpoint(dst, dp)}
		} else {
			continue
		}
		out[num] = fi
	}
	return out
}
