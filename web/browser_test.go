package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-med/vigil/auth"
)

// browser starts headless Debian chromium, or skips when it is not installed (CI installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("VIGIL_CHROMIUM")
	if path == "" {
		for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if _, err := exec.LookPath("chromium"); err != nil {
			t.Skip("chromium not installed; browser tests skipped (CI installs it)")
		}
		path = "chromium"
	}
	profileDir, err := os.MkdirTemp("", "vigil-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profileDir), chromedp.WindowSize(1360, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(func() {
		cancel()
		// Chromium may still be writing its profile while it exits.
		for i := 0; i < 20 && os.RemoveAll(profileDir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// shot saves a full-page screenshot when VIGIL_SCREENSHOTS names a directory, so people can look
// at what the pages look like.
func shot(dir, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if dir == "" {
			return nil
		}
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// TestBrowserWalk drives the core flow in a real browser: log in, portfolio, device, requirement,
// upload evidence, and see readiness change.
func TestBrowserWalk(t *testing.T) {
	ctx := browser(t)
	h := newHarness(t, "")
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	v, rid := h.firstVersion()
	evidence := filepath.Join(t.TempDir(), "insupump-sbom.cdx.json")
	if err := os.WriteFile(evidence, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after, status, dash, flash string
	err := chromedp.Run(ctx,
		chromedp.Navigate(h.ts.URL+"/"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		shot(dir, "01-login"),
		chromedp.SendKeys(`#email`, string(auth.Approver)+"@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.heatmap`, chromedp.ByQuery),
		chromedp.Text(`main h1`, &dash, chromedp.ByQuery),
		shot(dir, "02-dashboard"),
		chromedp.Click(fmt.Sprintf(`a[href="/versions/%d"]`, v.ID), chromedp.ByQuery),
		chromedp.WaitVisible(`.kpi[data-market="US"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`.kpi[data-market="US"]`, "data-percent", &before, nil, chromedp.ByQuery),
		shot(dir, "03-device"),
		chromedp.Click(fmt.Sprintf(`a[href="/versions/%d/requirements/%s"]`, v.ID, rid), chromedp.ByQuery),
		chromedp.WaitVisible(`#upload`, chromedp.ByQuery),
		shot(dir, "04-requirement"),
		chromedp.SetUploadFiles(`#file`, []string{evidence}, chromedp.ByQuery),
		chromedp.SendKeys(`#title`, "InsuPump SBOM (CycloneDX)", chromedp.ByQuery),
		chromedp.SetValue(`#set_status`, "met", chromedp.ByQuery),
		chromedp.Submit(`#file`, chromedp.ByQuery),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`#status`, &status, chromedp.ByQuery),
		shot(dir, "05-after-upload"),
		chromedp.Navigate(fmt.Sprintf("%s/versions/%d", h.ts.URL, v.ID)),
		chromedp.WaitVisible(`.kpi[data-market="US"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`.kpi[data-market="US"]`, "data-percent", &after, nil, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dash, "Portfolio") {
		t.Errorf("dashboard heading %q", dash)
	}
	if !strings.Contains(flash, "Stored") || strings.TrimSpace(status) != "met" {
		t.Errorf("after upload: flash %q, status %q", flash, status)
	}
	if before == after {
		t.Errorf("US readiness did not change after the upload: %s -> %s", before, after)
	}
	ev, _ := h.st.ListEvidence(context.Background(), v.ID)
	if len(ev) != 1 || ev[0].Title != "InsuPump SBOM (CycloneDX)" {
		t.Errorf("evidence in the database: %+v", ev)
	}
	if dir != "" {
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.ts.URL+"/catalog"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery), shot(dir, "06-catalog"),
			chromedp.Navigate(h.ts.URL+"/catalog/CO-05"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery), shot(dir, "07-control"),
			chromedp.Navigate(h.ts.URL+"/catalog/us.fda-premarket"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery), shot(dir, "08-regime"),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserVulnerabilityScreens renders the vulnerability pages in chromium for people to look
// at; it runs only when VIGIL_SCREENSHOTS names a directory.
func TestBrowserVulnerabilityScreens(t *testing.T) {
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	if dir == "" {
		t.Skip("set VIGIL_SCREENSHOTS=DIR to render the vulnerability pages")
	}
	ctx := browser(t)
	h := vulnHarness(t)
	v, _ := h.firstVersion()
	err := chromedp.Run(ctx,
		chromedp.Navigate(h.ts.URL+"/login"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, "approver@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.heatmap`, chromedp.ByQuery),
		chromedp.Navigate(fmt.Sprintf("%s/versions/%d/findings", h.ts.URL, v.ID)),
		chromedp.WaitVisible(`#findings`, chromedp.ByQuery), shot(dir, "10-findings"),
		chromedp.Navigate(h.ts.URL+"/vulnerabilities?advisory=GO-2022-0969"),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery), shot(dir, "11-impact"),
		chromedp.Navigate(h.ts.URL+"/sboms/1"),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery), shot(dir, "12-sbom"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Set one component's support with its row form (approvers may edit too) and look again.
	comps, err := h.st.SBOMComponents(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	row := -1
	for i, c := range comps {
		if c.Name == "github.com/containerd/containerd" {
			row = i
		}
	}
	if row < 0 {
		t.Fatal("containerd is not in the SBOM")
	}
	sel := fmt.Sprintf("#c-%d", row)
	var flash, coverage string
	err = chromedp.Run(ctx,
		chromedp.SetValue(sel+` select[name=support]`, "actively-maintained", chromedp.ByQuery),
		chromedp.SetValue(sel+` input[name=end_of_support]`, "2027-12-31", chromedp.ByQuery),
		chromedp.Click(sel+` button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`tr[data-element="support"] td.num`, &coverage, chromedp.ByQuery),
		shot(dir, "12b-sbom-support-saved"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "actively maintained until 2027-12-31") || !strings.HasPrefix(strings.TrimSpace(coverage), "1 / ") {
		t.Errorf("after saving containerd's support: flash %q, coverage %q", flash, coverage)
	}
}

// TestBrowserComponentSupport sets one component's level of support and end of support with
// its row form on the SBOM page in a real browser, and sees the row and the quality score change.
func TestBrowserComponentSupport(t *testing.T) {
	ctx := browser(t)
	h, b := pumpHarness(t, "")
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	var before, after, flash, level, date, loc, coverage string
	row := `#c-1` // wolfSSL (row 0 is the device itself)
	err := chromedp.Run(ctx,
		chromedp.Navigate(h.ts.URL+"/login"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, "editor@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.heatmap`, chromedp.ByQuery),
		chromedp.Navigate(fmt.Sprintf("%s/sboms/%d", h.ts.URL, b.ID)),
		chromedp.WaitVisible(row+` .row-form`, chromedp.ByQuery),
		chromedp.Text(`main .card h2`, &before, chromedp.ByQuery),
		shot(dir, "13-sbom-support-before"),
		chromedp.SetValue(row+` select[name=support]`, "actively-maintained", chromedp.ByQuery),
		chromedp.SetValue(row+` input[name=end_of_support]`, "2027-12-31", chromedp.ByQuery),
		chromedp.Click(row+` button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`main .card h2`, &after, chromedp.ByQuery),
		chromedp.Value(row+` select[name=support]`, &level, chromedp.ByQuery),
		chromedp.Value(row+` input[name=end_of_support]`, &date, chromedp.ByQuery),
		chromedp.Text(`tr[data-element="support"] td.num`, &coverage, chromedp.ByQuery),
		chromedp.Location(&loc),
		shot(dir, "14-sbom-support-after"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if before == after || !strings.HasPrefix(after, "Quality: ") {
		t.Errorf("quality did not change: %q -> %q", before, after)
	}
	if !strings.Contains(flash, "wolfSSL 5.6.4: actively maintained until 2027-12-31") || level != "actively-maintained" || date != "2027-12-31" || !strings.HasSuffix(loc, "#c-1") {
		t.Errorf("after saving: flash %q, row %q %q, location %q", flash, level, date, loc)
	}
	if strings.TrimSpace(coverage) != "1 / 3" {
		t.Errorf("level of support coverage %q, want 1 / 3", coverage)
	}
	if sc := sidecarOf(t, h, b.ID); sc == nil || len(sc.Components) != 1 || sc.Components[0].EndOfSupport != "2027-12-31" {
		t.Errorf("stored support file: %+v", sc)
	}
	// Viewers see the values, read-only.
	var forms int
	var cell string
	err = chromedp.Run(ctx,
		chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, "viewer@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.heatmap`, chromedp.ByQuery),
		chromedp.Navigate(fmt.Sprintf("%s/sboms/%d", h.ts.URL, b.ID)),
		chromedp.WaitVisible(row, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("form.row-form, #bulk-support").length`, &forms),
		chromedp.Text(row+` td.support`, &cell, chromedp.ByQuery),
		shot(dir, "15-sbom-support-viewer"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if forms != 0 || !strings.Contains(cell, "actively maintained") || !strings.Contains(cell, "until 2027-12-31") {
		t.Errorf("viewer: %d forms, row %q", forms, cell)
	}
}
