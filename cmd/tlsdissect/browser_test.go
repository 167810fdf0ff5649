package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	checkListLayout(t, chromium, report)
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

// layoutProbe is added to a copy of the report: once the page is laid
// out it writes, into the DOM that --dump-dom prints, the viewport's
// width, how far the connection list's box scrolls sideways, and the
// right edge of each of its headers.
const layoutProbe = `<script>
window.addEventListener("load", function () {
  var t = document.getElementById("conns"), box = t.parentNode;
  var out = ["vw=" + document.documentElement.clientWidth,
    "page=" + document.documentElement.scrollWidth,
    "box=" + box.scrollWidth + "/" + box.clientWidth];
  Array.prototype.forEach.call(t.tHead.rows[0].cells, function (th) {
    out.push(th.textContent + "=" + Math.ceil(th.getBoundingClientRect().right));
  });
  var p = document.createElement("pre");
  p.id = "layout-probe";
  p.textContent = out.join("|");
  document.body.appendChild(p);
});
</script>
</body>`

// checkListLayout: at 1280 and 1920 px the connection list's status,
// reason, confidence and last alert are on screen, and neither the page
// nor the list scrolls sideways.
func checkListLayout(t *testing.T, chromium func(...string) []byte, report string) {
	t.Helper()
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	probed := strings.Replace(string(page), "</body>", layoutProbe, 1)
	if probed == string(page) {
		t.Fatal("the report has no </body>")
	}
	file := strings.TrimSuffix(report, ".html") + "-probe.html"
	if err := os.WriteFile(file, []byte(probed), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1280, 1920} {
		dom := string(chromium("--dump-dom", "--virtual-time-budget=3000", fmt.Sprintf("--window-size=%d,900", width), "file://"+file))
		_, rest, ok := strings.Cut(dom, `<pre id="layout-probe">`)
		text, _, ok2 := strings.Cut(rest, "</pre>")
		if !ok || !ok2 {
			t.Fatalf("%d px: the layout probe did not run; DOM ends %q", width, dom[max(0, len(dom)-300):])
		}
		m := map[string]string{}
		for _, kv := range strings.Split(text, "|") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		vw, _ := strconv.Atoi(m["vw"])
		pageW, _ := strconv.Atoi(m["page"])
		if vw < width-40 || pageW > vw {
			t.Errorf("%d px: the page is %d px wide in a %d px viewport (%s)", width, pageW, vw, text)
		}
		scroll, client, _ := strings.Cut(m["box"], "/")
		if s, c := atoi(scroll), atoi(client); s > c {
			t.Errorf("%d px: the connection list scrolls sideways: %d px in a %d px box (%s)", width, s, c, text)
		}
		for _, col := range []string{"status", "reason", "confidence", "last alert"} {
			right, ok := m[col]
			if !ok {
				t.Errorf("%d px: no %q column (%s)", width, col, text)
				continue
			}
			if r := atoi(right); r <= 0 || r > vw {
				t.Errorf("%d px: %q ends at %d px, off a %d px screen (%s)", width, col, r, vw, text)
			}
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func firstBytes(b []byte, n int) string {
	return strings.ToValidUTF8(string(b[:min(len(b), n)]), "?")
}
