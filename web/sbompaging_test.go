package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-med/vigil/auth"
	"github.com/vigil-med/vigil/portfolio"
)

// TestSBOMComponentPaging: the SBOM page shows its component table 100 rows at a time, filters
// it by text and by what is missing, links the "components with gaps" to the right page, and a
// row form brings the editor back to the page and filters it was sent from.
func TestSBOMComponentPaging(t *testing.T) {
	h := vulnHarness(t)
	v, _ := h.firstVersion()
	data, err := os.ReadFile(telegrafSBOM)
	if err != nil {
		t.Fatal(err)
	}
	res, err := portfolio.ImportSBOM(context.Background(), h.st, "test", v.ID, "firmware", "telegraf.cdx.json", data, false)
	if err != nil {
		t.Fatal(err)
	}
	total := res.SBOM.Components
	ed := h.login(auth.Editor)
	base := fmt.Sprintf("/sboms/%d", res.SBOM.ID)
	rowRE := regexp.MustCompile(`<tr id="c-(\d+)"`)
	rows := func(body string) []string {
		var out []string
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	pages := (total + sbomRowsPerPage - 1) / sbomRowsPerPage
	if pages < 3 {
		t.Fatalf("telegraf SBOM has %d components; the test needs at least 3 pages", total)
	}

	p := ed.get(base)
	if got := rows(p.body); p.status != 200 || len(got) != sbomRowsPerPage || got[0] != "0" || !strings.Contains(p.body, fmt.Sprintf("page 1 of %d", pages)) ||
		!strings.Contains(p.body, fmt.Sprintf("· %d · showing 1–100", total)) {
		t.Fatalf("page 1: %d, %d rows from %v", p.status, len(got), got[:min(1, len(got))])
	}
	last := ed.get(fmt.Sprintf("%s?page=%d", base, pages))
	if got := rows(last.body); len(got) != total-(pages-1)*sbomRowsPerPage || got[len(got)-1] != fmt.Sprint(total-1) || strings.Contains(last.body, `rel="next"`) {
		t.Errorf("last page: %d rows, last %v", len(got), got[len(got)-1:])
	}
	if beyond := ed.get(base + "?page=999"); len(rows(beyond.body)) != len(rows(last.body)) {
		t.Errorf("a page past the end does not show the last page")
	}

	// Text filter: one module.
	f := ed.get(base + "?q=" + url.QueryEscape("golang.org/x/crypto"))
	if got := rows(f.body); len(got) == 0 || len(got) > 3 || !strings.Contains(f.body, fmt.Sprintf("%d match", len(got))) || strings.Contains(f.body, "page 1 of") {
		t.Errorf("q filter: %d rows", len(got))
	}
	if none := ed.get(base + "?q=no-such-component"); !strings.Contains(none.body, "No component matches.") || !strings.Contains(none.body, "· 0 match") {
		t.Errorf("q filter with no match: %s", trim(none.body))
	}

	// Gap filter: nothing has support data yet, so every component but the device itself lacks it.
	g := ed.get(base + "?gap=support")
	if !strings.Contains(g.body, fmt.Sprintf("· %d match", total-1)) {
		t.Errorf("gap=support: want %d matches", total-1)
	}

	// "Components with gaps" link to the row's page.
	if !regexp.MustCompile(`href="\?page=\d+#c-\d+"|href="\?#c-\d+"`).MatchString(p.body) {
		t.Errorf("gap links do not name a page")
	}

	// A row form sent from page 3 of a filtered view comes back there, and the change shows.
	row := 2*sbomRowsPerPage + 5
	page3 := ed.get(base + "?page=3")
	ref := regexp.MustCompile(fmt.Sprintf(`<tr id="c-%d">[\s\S]*?name="ref" value="([^"]+)"`, row)).FindStringSubmatch(page3.body)
	if ref == nil {
		t.Fatalf("row %d has no form on page 3", row)
	}
	form := url.Values{"csrf_token": {ed.csrf}, "ref": {ref[1]}, "row": {fmt.Sprint(row)}, "view": {"page=3&gap=eos&evil=1"},
		"support": {"actively-maintained"}, "end_of_support": {"2030-06-30"}}
	r := ed.postForm(base+"/components/support", form)
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"?gap=eos&page=3&flash=") || !strings.HasSuffix(loc, fmt.Sprintf("#c-%d", row)) {
		t.Fatalf("row save: %d %s", r.status, loc)
	}
	if g := ed.get(base + "?gap=support"); !strings.Contains(g.body, fmt.Sprintf("· %d match", total-2)) {
		t.Errorf("gap=support after one save: want %d matches", total-2)
	}
}

// TestNewFindingsBounded: the portfolio's new-findings table shows the newest 200 and says how
// many there are, with the link to all of them.
func TestNewFindingsBounded(t *testing.T) {
	h := vulnHarness(t)
	ctx := context.Background()
	vs, err := h.st.ListAllDeviceVersions(ctx)
	if err != nil || len(vs) < 2 {
		t.Fatalf("the harness has %d versions: %v", len(vs), err)
	}
	data, err := os.ReadFile(telegrafSBOM)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range vs[:2] {
		res, err := portfolio.ImportSBOM(ctx, h.st, "test", v.ID, "firmware", "telegraf.cdx.json", data, false)
		if err != nil {
			t.Fatal(err)
		}
		total += len(res.Findings.New)
	}
	if total <= newFindingsShown {
		t.Fatalf("%d new findings; the test needs more than %d", total, newFindingsShown)
	}
	p := h.login(auth.Viewer).get("/vulnerabilities")
	rows := strings.Count(p.body, `<tr><td>`) // one per new finding (the impact table is not shown)
	if p.status != 200 || rows != newFindingsShown || !strings.Contains(p.body, fmt.Sprintf("· %d in 2 device version(s) · the newest %d shown", total, newFindingsShown)) ||
		!strings.Contains(p.body, "/api/v1/findings/new?since=") {
		t.Errorf("vulnerabilities page: %d, %d rows for %d new findings", p.status, rows, total)
	}
}
