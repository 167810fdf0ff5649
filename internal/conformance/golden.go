package conformance

import (
	"fmt"
	"sort"
	"strings"
)

// reportLines splits a report into lines, leaving out the run-time line.
func reportLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, RunTimePrefix) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// SameReport reports whether two reports are equal but for the run-time
// line.
func SameReport(a, b string) bool {
	return same(reportLines(a), reportLines(b))
}

// ReportDiff describes the first differences between two reports
// (want is the committed one), at most max lines.
func ReportDiff(want, got string, max int) string {
	w, g := reportLines(want), reportLines(got)
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var lw, lg string
		if i < len(w) {
			lw = w[i]
		}
		if i < len(g) {
			lg = g[i]
		}
		if lw == lg {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n  committed: %s\n  computed:  %s\n", i+1, lw, lg)
		if n++; n >= max {
			b.WriteString("  …\n")
			break
		}
	}
	return b.String()
}

// ThresholdsSource renders the measured agreement counts as the body of
// thresholds.go's map, for a person to paste when raising the thresholds.
func ThresholdsSource(sc *Scorecard) string {
	var keys []string
	for k := range sc.Totals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ci, cj := catIndex(keys[i]), catIndex(keys[j]); ci != cj {
			return ci < cj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteString("var thresholds = map[string]int{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: %d, // of %d\n", k, sc.Totals[k].Agree, sc.Totals[k].Total)
	}
	b.WriteString("}\n")
	return b.String()
}

// BelowThresholds lists the categories whose agreement count fell below
// its threshold.
func (sc *Scorecard) BelowThresholds(th map[string]int) []string {
	var out []string
	for _, c := range Categories {
		min, ok := th[c.Name]
		if !ok {
			continue
		}
		if got := sc.Totals[c.Name].Agree; got < min {
			out = append(out, fmt.Sprintf("%s: %d agreements, threshold %d", c.Name, got, min))
		}
	}
	for k := range th {
		if catIndex(k) == len(Categories) {
			out = append(out, k+": threshold for an unknown category")
		}
	}
	sort.Strings(out)
	return out
}

// Thresholds returns the committed thresholds.
func Thresholds() map[string]int {
	out := make(map[string]int, len(thresholds))
	for k, v := range thresholds {
		out[k] = v
	}
	return out
}
