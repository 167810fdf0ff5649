package conformance

import (
	"fmt"
	"sort"

	"github.com/tlsdissect/tlsdissect/docs"
)

// maxSchemaReports bounds the violations listed: one broken field in the
// writer would otherwise repeat for every record of every capture.
const maxSchemaReports = 20

// SchemaViolations checks every -F json record of the run against the
// published JSON Schema (docs/schema/tlsdissect.flow-1.schema.json) and
// lists the records it rejects, "capture #N: error", at most
// maxSchemaReports of them, and the number of records checked.
func SchemaViolations(runs map[string]*Run) (bad []string, checked int, err error) {
	v, err := docs.NewFlowValidator()
	if err != nil {
		return nil, 0, err
	}
	paths := make([]string, 0, len(runs))
	for p := range runs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r := runs[p]
		for _, set := range [][]map[string]any{r.Raw} {
			for i, raw := range set {
				checked++
				if verr := v.ValidateValue(raw); verr != nil && len(bad) < maxSchemaReports {
					bad = append(bad, fmt.Sprintf("%s #%d: %v", p, i+1, verr))
				}
			}
		}
	}
	return bad, checked, nil
}
