package testgen

import (
	"net"
	"os/exec"
	"testing"
)

// netConn keeps the wire tests short.
type netConn = net.Conn

func lookTshark() (string, error) { return exec.LookPath("tshark") }

func runTshark(t *testing.T, tshark, path string, fields ...string) string {
	t.Helper()
	args := []string{"-r", path, "-Y", "tls", "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	return string(out)
}
