package conformance

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
)

// suricata-verify test.yaml checks are assertions on eve.json: a filter
// gives the count of events whose fields match. Only filters on
// event_type tls are ours to answer; a filter is evaluated on the fields
// that have an equivalent in our record (suriField) and counted as
// agreeing when exactly `count` of our connections match them all.
// Filters or tests gated to old Suricata versions (requires: lt-version)
// describe behaviour Suricata has since changed and are skipped.

var reIndexed = regexp.MustCompile(`^(.*)\[(\d+)\]$`)

// suriField gives our value for an eve field, canonicalised as
// suriNorm canonicalises the reference's; ok is false when we have no
// equivalent.
func suriField(key string, o *ourConn) (string, bool) {
	r := &o.rec
	idx := -1
	base := key
	if m := reIndexed.FindStringSubmatch(key); m != nil {
		base = m[1]
		idx, _ = strconv.Atoi(m[2])
	}
	at := func(list []string) string {
		if idx >= 0 && idx < len(list) {
			return list[idx]
		}
		return ""
	}
	cert := func(client bool) *certView {
		list := r.Certificates
		name := "certificates"
		if client {
			list, name = r.ClientCertificates, "client_certificates"
		}
		if len(list) == 0 {
			return nil
		}
		return &certView{c: list[0], sha1: rawCertSHA1(o.raw, name, 0)}
	}
	switch base {
	case "tls.sni":
		return r.SNI, true
	case "tls.version":
		return normVersion(r.Version), true
	case "tls.ja3.hash":
		return r.JA3, true
	case "tls.ja3.string":
		return r.JA3String, true
	case "tls.ja3s.hash":
		return r.JA3S, true
	case "tls.ja3s.string":
		return r.JA3SString, true
	case "tls.ja4":
		return r.JA4, true
	case "tls.session_resumed":
		return strconv.FormatBool(r.Resumed), true
	case "tls.client_alpns":
		return at(r.ALPNOffered), idx >= 0
	case "tls.server_alpns":
		if idx == 0 {
			return r.ALPN, true
		}
		return "", idx > 0
	case "tls.from_proto":
		return protoAlias(r.StartTLS), true
	case "community_id":
		return r.CommunityID, true
	case "proto":
		return "TCP", true
	case "app_proto":
		return "tls", true
	}
	for _, client := range []bool{false, true} {
		prefix := "tls."
		if client {
			prefix = "tls.client."
		}
		if !strings.HasPrefix(base, prefix) {
			continue
		}
		c := cert(client)
		f := strings.TrimPrefix(base, prefix)
		switch f {
		case "subject", "issuerdn", "serial", "notbefore", "notafter", "subjectaltname":
			if c == nil {
				return "", true
			}
			switch f {
			case "subject":
				return normDN(c.c.Subject), true
			case "issuerdn":
				return normDN(c.c.Issuer), true
			case "serial":
				return normSerial(c.c.Serial), true
			case "notbefore":
				return secondUTC(c.c.NotBefore.Time), true
			case "notafter":
				return secondUTC(c.c.NotAfter.Time), true
			case "subjectaltname":
				return at(c.c.SAN), idx >= 0
			}
		case "fingerprint":
			if c == nil {
				return "", true
			}
			return c.sha1, c.sha1 != ""
		}
	}
	return "", false
}

// suriNorm canonicalises the reference's value of an eve field.
func suriNorm(key, v string) string {
	base := key
	if m := reIndexed.FindStringSubmatch(key); m != nil {
		base = m[1]
	}
	switch {
	case base == "tls.version":
		return normVersion(v)
	case strings.HasSuffix(base, ".subject"), strings.HasSuffix(base, ".issuerdn"):
		return normDN(v)
	case strings.HasSuffix(base, ".serial"):
		return normSerial(v)
	case strings.HasSuffix(base, ".notbefore"), strings.HasSuffix(base, ".notafter"):
		return parseLooseTime(v)
	case strings.HasSuffix(base, ".fingerprint"):
		return normHexFP(v)
	case base == "tls.from_proto":
		return protoAlias(v)
	case base == "app_proto":
		return strings.ToLower(v)
	case base == "proto":
		return strings.ToUpper(v)
	case base == "tls.session_resumed":
		return strings.ToLower(v)
	}
	return v
}

func (e *capEval) evalSuricata() {
	files := siblings(e.capturesDir, e.path, func(rest string) bool {
		return strings.HasPrefix(rest, "sv.") && strings.HasSuffix(rest, ".test.yaml")
	})
	for _, f := range files {
		name := rel(e.capturesDir, f)
		b, err := os.ReadFile(f)
		if err != nil {
			e.unparsed = append(e.unparsed, name+": "+err.Error())
			continue
		}
		doc, err := parseYAML(string(b))
		if err != nil {
			e.unparsed = append(e.unparsed, name+": "+err.Error())
			continue
		}
		if gatedOld(ypath(doc, "requires")) {
			continue
		}
		checks, _ := ypath(doc, "checks").([]any)
		test := strings.TrimSuffix(name[strings.Index(name, ".sv.")+4:], ".test.yaml")
		for i, c := range checks {
			flt, ok := ypath(c, "filter").(map[string]any)
			if !ok {
				continue
			}
			if gatedOld(flt["requires"]) {
				continue
			}
			match, _ := flt["match"].(map[string]any)
			if ystr(match["event_type"]) != "tls" {
				continue
			}
			want, err := strconv.Atoi(ystr(flt["count"]))
			if err != nil {
				e.unparsed = append(e.unparsed, fmt.Sprintf("%s: check %d: count %q", name, i+1, ystr(flt["count"])))
				continue
			}
			e.suricataFilter(fmt.Sprintf("%s check %d", test, i+1), match, want, communitySeed(f))
		}
	}
}

// gatedOld reports a requires block limited to Suricata versions before
// some release (lt-version).
func gatedOld(req any) bool {
	m, ok := req.(map[string]any)
	return ok && m["lt-version"] != nil
}

// protoAlias names a STARTTLS protocol one way (Suricata says "pgsql").
func protoAlias(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "postgresql", "postgres":
		return "pgsql"
	}
	return s
}

var reSeed = regexp.MustCompile(`(?m)^\s*community-id-seed:\s*(\d+)`)

// communitySeed is the Community ID seed a test configures (0 by default;
// ours is computed with seed 0, so other seeds cannot be compared).
func communitySeed(yamlFile string) int {
	b, err := os.ReadFile(strings.TrimSuffix(yamlFile, ".test.yaml") + ".suricata.yaml")
	if err != nil {
		return 0
	}
	if m := reSeed.FindSubmatch(b); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return 0
}

func (e *capEval) suricataFilter(label string, match map[string]any, want int, seed int) {
	type cond struct{ key, val string }
	var conds []cond
	var unmapped []string
	var src, dst string
	var srcPort, dstPort int
	keys := make([]string, 0, len(match))
	for k := range match {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	probe := &ourConn{}
	for _, k := range keys {
		v := match[k]
		switch k {
		case "event_type", "has-key", "not-has-key":
			continue
		case "src_ip":
			src = ystr(v)
			continue
		case "dest_ip":
			dst = ystr(v)
			continue
		case "src_port":
			srcPort, _ = strconv.Atoi(ystr(v))
			continue
		case "dest_port":
			dstPort, _ = strconv.Atoi(ystr(v))
			continue
		}
		if _, ok := suriField(k, probe); !ok {
			unmapped = append(unmapped, k)
			continue
		}
		if k == "community_id" && seed != 0 {
			unmapped = append(unmapped, fmt.Sprintf("%s (seed %d)", k, seed))
			continue
		}
		if strings.HasSuffix(k, ".fingerprint") && !e.haveSHA1() {
			unmapped = append(unmapped, k+" (our record has no certificate sha1)")
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			unmapped = append(unmapped, k)
			continue
		}
		conds = append(conds, cond{k, suriNorm(k, s)})
	}
	var srcEP, dstEP string
	if src != "" {
		srcEP = endpoint(src, srcPort)
	}
	if dst != "" {
		dstEP = endpoint(dst, dstPort)
	}
	if len(conds) == 0 && srcEP == "" && len(unmapped) > 0 {
		e.unparsed = append(e.unparsed, fmt.Sprintf("%s/%s: no field with an equivalent (%s)", e.path, label, strings.Join(unmapped, ", ")))
		return
	}
	got := 0
	var near []string
	for _, o := range e.ours {
		if srcEP != "" && !(o.client == srcEP && o.server == dstEP) && !(o.server == srcEP && o.client == dstEP) {
			continue
		}
		ok := true
		var diffs []string
		for _, c := range conds {
			v, _ := suriField(c.key, o)
			if v != c.val {
				ok = false
				diffs = append(diffs, fmt.Sprintf("%s=%s", c.key, show(v)))
			}
		}
		if ok {
			got++
		} else if len(near) < 3 {
			near = append(near, o.name()+": "+strings.Join(diffs, "; "))
		}
	}
	var ref []string
	ref = append(ref, fmt.Sprintf("count %d", want))
	if srcEP != "" {
		ref = append(ref, srcEP+" -> "+dstEP)
	}
	for _, c := range conds {
		ref = append(ref, c.key+"="+c.val)
	}
	if len(unmapped) > 0 {
		ref = append(ref, "(not compared: "+strings.Join(unmapped, ", ")+")")
	}
	ours := fmt.Sprintf("%d match", got)
	if got != want && len(near) > 0 {
		ours += "; others: " + strings.Join(near, " | ")
	}
	e.count("suricata.checks", got == want, label, ours, strings.Join(ref, ", "))
}

// certView is a certificate summary with the SHA-1 fingerprint, when our
// record carries one.
type certView struct {
	c    flows.Certificate
	sha1 string
}

// rawCertSHA1 digs a SHA-1 fingerprint out of the raw record: the
// Certificate type has only sha256 today; if a "sha1" (or "sha1_fingerprint")
// member appears, it is used without a change here.
func rawCertSHA1(raw map[string]any, list string, i int) string {
	arr, _ := raw[list].([]any)
	if i >= len(arr) {
		return ""
	}
	m, _ := arr[i].(map[string]any)
	for _, k := range []string{"sha1", "sha1_fingerprint", "fingerprint_sha1"} {
		if s, ok := m[k].(string); ok && s != "" {
			return normHexFP(s)
		}
	}
	return ""
}

// haveSHA1 reports whether our records carry certificate SHA-1
// fingerprints at all (the Certificate of the contract has sha256 only).
func (e *capEval) haveSHA1() bool {
	for _, o := range e.ours {
		for i := range o.rec.Certificates {
			if rawCertSHA1(o.raw, "certificates", i) != "" {
				return true
			}
		}
	}
	return false
}
