package reassembly

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the lower floors clean (DESIGN.md, "Rules of the
// house"): reassembly and dissect never depend on gopacket, flows or
// output, directly or through anything they import.
func TestImports(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	// -e: list what can be listed even while another package of the tree
	// does not build; the dependency edges are still there.
	cmd := exec.Command(gobin, "list", "-e", "-deps", "-f", "{{.ImportPath}}", "./reassembly/...", "./dissect/...")
	cmd.Dir = ".." // the module root
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, msg)
	}
	forbidden := []string{
		"github.com/google/gopacket",
		"github.com/tlsdissect/tlsdissect/flows",
		"github.com/tlsdissect/tlsdissect/output",
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no packages")
	}
	sawSelf := false
	for _, dep := range deps {
		if dep == "github.com/tlsdissect/tlsdissect/reassembly" {
			sawSelf = true
		}
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("reassembly or dissect depends on %s", dep)
			}
		}
	}
	if !sawSelf {
		t.Errorf("go list did not list reassembly itself: %q", deps)
	}
}
