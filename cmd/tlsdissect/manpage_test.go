package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestManPage: docs/tlsdissect.1 is what the flags say (go test
// ./cmd/tlsdissect -run 'TestManPage|TestCompletion' -update rewrites it
// and the completion), documents every flag, and man reads it without
// warnings when man is installed.
func TestManPage(t *testing.T) {
	checkGenerated(t, "../../docs/tlsdissect.1", manPage())
	page := manPage()
	for _, d := range flagDocs {
		if !strings.Contains(page, `\-`+roff(d.name)) {
			t.Errorf("man page lacks -%s", d.name)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "../../docs/tlsdissect.1")
		cmd.Env = append(os.Environ(), "MANWIDTH=80")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("man: %v (skipping the rendering check)", err)
		} else if strings.Contains(string(out), "warning") {
			t.Errorf("man warns:\n%s", out)
		}
	}
}

// TestCompletion: scripts/completion.bash is what the flags say, and bash
// parses it.
func TestCompletion(t *testing.T) {
	checkGenerated(t, "../../scripts/completion.bash", bashCompletion())
	checkGenerated(t, "../../scripts/completion.zsh", zshCompletion())
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if out, err := exec.Command(zsh, "-n", "../../scripts/completion.zsh").CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, out)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		out, err := exec.Command(bash, "-n", "../../scripts/completion.bash").CombinedOutput()
		if err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
		script := `source ../../scripts/completion.bash; COMP_WORDS=(tlsdissect -F); COMP_CWORD=2; _tlsdissect; echo "${COMPREPLY[*]}"; COMP_WORDS=(tlsdissect -fa); COMP_CWORD=1; _tlsdissect; echo "${COMPREPLY[*]}"`
		out, err = exec.Command(bash, "-c", script).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "table ladder json") || !strings.Contains(string(out), "-fail-exit") {
			t.Errorf("completing: %v %q", err, out)
		}
	}
}

func checkGenerated(t *testing.T, path, want string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/tlsdissect -run 'TestManPage|TestCompletion' -update writes it)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of step with the flags: go test ./cmd/tlsdissect -run 'TestManPage|TestCompletion' -update\n%s", path, lineDiff(want, string(got)))
	}
}
