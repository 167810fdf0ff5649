package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTMLReportInChromium renders the HTML report of a capture with mixed
// failures in a real browser (Debian's headless chromium, which make test
// installs): the page must load with its title and paint a non-blank
// screenshot. With TLSDISSECT_SCREENSHOT=FILE the screenshot is kept (the
// README's picture is made so). In CI a missing chromium is a failure.
func TestHTMLReportInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (make test installs it with scripts/setup.sh test)")
		}
		t.Skip("chromium not installed (make test installs it)")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	r := runBin(t, nil, "-q", "-F", "html", "-o", report, "-r", filepath.Join(capturesDir, "multi.pcap"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile")}
	chromium := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(browser, append(append([]string(nil), flags...), args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
			}
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("chromium %v did not finish in 90 s", args)
		}
		return out.Bytes()
	}
	dom := chromium("--dump-dom", "file://"+report)
	if !bytes.Contains(dom, []byte("<title>tlsdissect report")) {
		t.Fatalf("the browser's DOM has no report title; first bytes: %q", firstBytes(dom, 300))
	}
	for _, want := range []string{"protocol_version_mismatch", "certificate_expired", "<svg"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	shot := filepath.Join(dir, "report.png")
	if keep := os.Getenv("TLSDISSECT_SCREENSHOT"); keep != "" {
		shot = keep
	}
	chromium("--screenshot="+shot, "--window-size=1200,1600", "--hide-scrollbars", "file://"+report)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// A blank page is one colour; a rendered report has text and charts.
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	if len(colours) < 8 {
		t.Errorf("screenshot looks blank: %d colours", len(colours))
	}
}

func firstBytes(b []byte, n int) string {
	return strings.ToValidUTF8(string(b[:min(len(b), n)]), "?")
}
