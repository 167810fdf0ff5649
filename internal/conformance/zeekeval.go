package conformance

import (
	"strconv"
	"strings"
)

// evalZeek compares our -F zeek rows with the capture's ssl.log baselines,
// matched by id.orig_h/p, id.resp_h/p (Zeek's uids are not ours).
func (e *capEval) evalZeek() {
	e.evalX509Log()
	files := zeekBaselines(e.capturesDir, e.path)
	if len(files) == 0 {
		return
	}
	e.loadTshark()
	refs, unp := loadZeekRefs(files, e.capturesDir)
	e.unparsed = append(e.unparsed, unp...)

	type zrow struct {
		orig, resp string
		v          map[string]string
		used       bool
	}
	var rows []*zrow
	for _, v := range e.run.Zeek {
		op, _ := strconv.Atoi(v["id.orig_p"])
		rp, _ := strconv.Atoi(v["id.resp_p"])
		rows = append(rows, &zrow{orig: endpoint(v["id.orig_h"], op), resp: endpoint(v["id.resp_h"], rp), v: v})
	}
	for _, z := range refs {
		ver := ""
		if vs := z.values["version"]; len(vs) > 0 {
			ver = vs[0]
		}
		// DTLS rows (Zeek logs DTLS in ssl.log too) are compared in
		// zeek.dtls.*; QUIC's go to Zeek's quic.log, not compared.
		prefix := "zeek."
		switch {
		case strings.HasPrefix(ver, "DTLS"):
			prefix = "zeek.dtls."
		case (z.orig != "" && e.udpKeys[pairKey(z.orig, z.resp)]) ||
			(z.orig == "" && e.tsharkTCP() == 0 && len(e.udpKeys) > 0):
			e.outOfScope("zeek")
			continue
		}
		var row *zrow
		conn := z.orig + " -> " + z.resp
		if z.orig == "" {
			// A zeek-cut baseline without the id columns: only a single
			// connection on both sides can be paired.
			conn = "(no id columns)"
			if len(refs) == 1 && len(rows) == 1 {
				row = rows[0]
			}
		} else {
			k := pairKey(z.orig, z.resp)
			for _, r := range rows {
				if !r.used && pairKey(r.orig, r.resp) == k {
					row = r
					break
				}
			}
		}
		what := "no ssl.log row"
		switch e.run.ZeekStatus {
		case "ok":
		case "":
			what = "-F zeek not run"
		default:
			what = "no -F zeek output (" + e.run.ZeekStatus + ")"
		}
		e.count(prefix+"connections", row != nil, conn, what, "ssl.log row")
		if row == nil {
			continue
		}
		row.used = true
		for _, f := range zeekFields {
			vals, ok := z.values[f]
			if !ok {
				continue
			}
			cat := prefix + f
			if len(vals) > 1 {
				t := e.tallies[cat]
				t.Conflicts++
				e.tallies[cat] = t
				continue
			}
			v, ok := row.v[f]
			if !ok {
				v = "-"
			}
			ours := normZeek(f, v)
			if f == "resumed" || f == "established" {
				e.count(cat, ours == vals[0], conn, ours, vals[0])
				continue
			}
			e.compare(cat, conn, ours, vals[0], true)
		}
	}
}
