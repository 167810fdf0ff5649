package output

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// TestSummaryCutTables: a table cut at topN says how many rows it left
// out, and the example of a failure names its uid whole, however long,
// so that it can be searched for in the JSON output.
func TestSummaryCutTables(t *testing.T) {
	var recs []*flows.Record
	for i := range topN + 3 {
		r := fixtures()[0]
		r.UID = fmt.Sprintf("CQ7mYp3x9kLdZsA%02dlonger-than-ten", i)
		r.Status = flows.StatusFailed
		r.Failure = &flows.Failure{Reason: "unknown_ca", Confidence: flows.ConfidenceCertain}
		r.Alerts = []flows.Alert{{From: packet.FromServer, Level: "fatal", Description: fmt.Sprintf("alert_%02d", i), Code: i}}
		recs = append(recs, r)
	}
	out := string(render(t, "summary", Options{Width: 80}, recs))
	if !strings.Contains(out, "(3 more)") {
		t.Errorf("the alerts table cut at %d rows does not say (3 more):\n%s", topN, out)
	}
	if strings.Contains(out, "alert_12") {
		t.Errorf("more than %d alert rows", topN)
	}
	if !strings.Contains(out, "e.g. CQ7mYp3x9kLdZsA00longer-than-ten ") {
		t.Errorf("the example's uid is not whole:\n%s", out)
	}
	for _, opts := range []Options{{}, {NoLegend: true}} {
		has := strings.Contains(string(render(t, "summary", opts, recs)), summaryLegend)
		if has == opts.NoLegend {
			t.Errorf("NoLegend %v: legend printed %v", opts.NoLegend, has)
		}
		for _, stream := range []bool{false, true} {
			opts.Stream = stream
			has := strings.Contains(string(render(t, "table", opts, recs)), tableLegend)
			if has == opts.NoLegend {
				t.Errorf("table, NoLegend %v, stream %v: legend printed %v", opts.NoLegend, stream, has)
			}
		}
	}
}
