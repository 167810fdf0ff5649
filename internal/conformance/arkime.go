package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Arkime's NAME.arkime.test: sessions3[].body per session, with tls.*
// arrays and cert[]; "SET" marks values that vary per run.

type arkimeSession struct {
	Body struct {
		IPProtocol int `json:"ipProtocol"`
		Network    struct {
			Packets *int `json:"packets"`
		} `json:"network"`
		Protocol []string `json:"protocol"`
		Source   struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"source"`
		Destination struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"destination"`
		TLS *struct {
			Version []string `json:"version"`
			Cipher  []string `json:"cipher"`
			JA3     []string `json:"ja3"`
			JA3S    []string `json:"ja3s"`
			JA4     []string `json:"ja4"`
		} `json:"tls"`
		Cert []struct {
			Serial    string   `json:"serial"`
			NotBefore any      `json:"notBefore"`
			NotAfter  any      `json:"notAfter"`
			Alt       []string `json:"alt"`
			SubjectCN []string `json:"subjectCN"`
			IssuerCN  []string `json:"issuerCN"`
			Hash      string   `json:"hash"`
		} `json:"cert"`
	} `json:"body"`
}

func (e *capEval) evalArkime() {
	p := filepath.Join(e.capturesDir, filepath.FromSlash(e.path)) + ".arkime.test"
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	var doc struct {
		Sessions []arkimeSession `json:"sessions3"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		e.unparsed = append(e.unparsed, e.path+".arkime.test: "+err.Error())
		return
	}
	e.loadTshark()
	m := newMatcher(e.ours)
	for _, s := range doc.Sessions {
		bd := &s.Body
		isTLS := bd.TLS != nil || len(bd.Cert) > 0
		for _, p := range bd.Protocol {
			switch p {
			case "tls":
				isTLS = true
			case "dtls", "quic":
				if bd.IPProtocol != 6 {
					isTLS = true
				}
			}
		}
		if !isTLS || (bd.Network.Packets != nil && *bd.Network.Packets == 0) {
			// Not TLS, or a session without packets (Arkime's synthetic
			// test lists such placeholders beside the real session).
			continue
		}
		a, z := endpoint(bd.Source.IP, bd.Source.Port), endpoint(bd.Destination.IP, bd.Destination.Port)
		if bd.IPProtocol != 6 || e.udpKeys[pairKey(a, z)] {
			e.outOfScope("arkime")
			continue
		}
		conn := a + " -> " + z
		o := m.take(a, z)
		e.count("arkime.connections", o != nil, conn, "not reported", "TLS session")
		if o == nil {
			continue
		}
		r := &o.rec
		if bd.TLS != nil {
			e.arkimeSet("arkime.version", conn, normVersion(r.Version), bd.TLS.Version, normVersion)
			e.arkimeSet("arkime.cipher", conn, normCipher(r.Cipher), bd.TLS.Cipher, normCipher)
			e.arkimeSet("arkime.ja3", conn, r.JA3, bd.TLS.JA3, nil)
			e.arkimeSet("arkime.ja3s", conn, r.JA3S, bd.TLS.JA3S, nil)
			e.arkimeSet("arkime.ja4", conn, r.JA4, bd.TLS.JA4, nil)
		}
		if len(bd.Cert) > 0 {
			var ref, ours []string
			for _, c := range bd.Cert {
				ref = append(ref, fmt.Sprintf("%s %s..%s subject CN=%s issuer CN=%s alt=%s", normSerial(c.Serial),
					arkimeTime(c.NotBefore), arkimeTime(c.NotAfter), strings.ToLower(strings.Join(c.SubjectCN, ";")),
					strings.ToLower(strings.Join(c.IssuerCN, ";")), strings.ToLower(strings.Join(c.Alt, ";"))))
			}
			for _, c := range r.Certificates {
				ours = append(ours, fmt.Sprintf("%s %s..%s subject CN=%s issuer CN=%s alt=%s", normSerial(c.Serial),
					secondUTC(c.NotBefore.Time), secondUTC(c.NotAfter.Time), strings.ToLower(dnCN(c.Subject)),
					strings.ToLower(dnCN(c.Issuer)), strings.ToLower(strings.Join(c.SAN, ";"))))
			}
			// Arkime does not keep the chain order, and lower-cases alt names
			// (DNS names compare case-insensitively).
			sort.Strings(ref)
			sort.Strings(ours)
			e.count("arkime.cert", same(ours, ref), conn, show(strings.Join(ours, " | ")), strings.Join(ref, " | "))
		}
	}
}

// arkimeSet compares ours with Arkime's array of values (every value it
// saw in the session): agreement when ours is among them.
func (e *capEval) arkimeSet(cat, conn, ours string, ref []string, norm func(string) string) {
	var vals []string
	for _, v := range ref {
		if v == "SET" || v == "" {
			continue
		}
		if norm != nil {
			v = norm(v)
		}
		vals = appendUnique(vals, v)
	}
	if len(vals) == 0 {
		return
	}
	agree := false
	for _, v := range vals {
		agree = agree || v == ours
	}
	e.count(cat, agree, conn, show(ours), strings.Join(vals, " / "))
}

// arkimeTime renders Arkime's milliseconds since the epoch.
func arkimeTime(v any) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	return secondUTC(time.UnixMilli(int64(f)))
}

// dnCN returns the common name(s) of a distinguished name, ";"-joined.
func dnCN(dn string) string {
	var cns []string
	for _, a := range strings.Split(normDN(dn), ", ") {
		if v, ok := strings.CutPrefix(a, "CN="); ok {
			cns = append(cns, v)
		}
	}
	return strings.Join(cns, ";")
}
