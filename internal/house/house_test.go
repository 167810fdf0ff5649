// Package house holds the test of the house rules between packages
// (DESIGN.md, "Rules of the house"): data flows one way, each floor
// imports only floors below it, and the lower floors never see gopacket.
package house

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tlsdissect/tlsdissect/"

// floors lists each package tree of the house and the trees of this
// module it may import. Anything not listed here (cmd, internal, scripts)
// is wiring or tooling and may import anything.
var floors = map[string][]string{
	"packet":     {},
	"capture":    {"packet"},
	"reassembly": {"packet"},
	"dissect":    {"packet"},
	"flows":      {"packet", "reassembly", "dissect"},
	"output":     {"packet", "dissect", "flows"},
	"pipeline":   {"packet", "capture", "reassembly", "dissect", "flows"},
	// Beside the floors: -Y reads the JSON of a record, -w copies raw
	// frames (its own reader, so that nothing is decoded), docs holds the
	// schema as data.
	"recfilter": {"flows", "output"},
	"pcapout":   {},
	"docs":      {},
}

// gopacketAllowed are the trees that may import gopacket: the capture
// floor alone turns packets into our types. pcapout decodes with
// gopacket's layers only to find a frame's addresses for -w; it hands
// nothing decoded on (capture's decoder reassembles IP fragments, and -w
// must copy each fragment as it comes).
var gopacketAllowed = map[string]bool{"capture": true, "pcapout": true}

// treeOf returns the house tree of an import path of this module ("dissect"
// for "…/dissect/certs"), or "" for one outside the module.
func treeOf(path string) string {
	rest, ok := strings.CutPrefix(path, module)
	if !ok {
		return ""
	}
	tree, _, _ := strings.Cut(rest, "/")
	return tree
}

func TestHouse(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command(gobin, "list", "-e", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, msg)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		tree := treeOf(pkg)
		allowed, ruled := floors[tree]
		if !ruled {
			continue
		}
		seen[tree] = true
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/google/gopacket") && !gopacketAllowed[tree] {
				t.Errorf("%s imports %s: only capture sees gopacket", pkg, imp)
			}
			to := treeOf(imp)
			if to == "" || to == tree {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == to
			}
			if !ok {
				t.Errorf("%s imports %s: %s may import only %v", pkg, imp, tree, allowed)
			}
		}
	}
	for tree := range floors {
		if !seen[tree] {
			t.Errorf("go list showed no package of %s", tree)
		}
	}
}

// TestTreeOf pins the helper the rules rest on.
func TestTreeOf(t *testing.T) {
	for path, want := range map[string]string{
		module + "dissect/certs": "dissect", module + "flows": "flows", "golang.org/x/crypto/hkdf": "", module + "packet": "packet",
	} {
		if got := treeOf(path); got != want {
			t.Errorf("treeOf(%q) = %q, want %q", path, got, want)
		}
	}
}
