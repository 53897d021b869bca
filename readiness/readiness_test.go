package readiness

import (
	"testing"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/profile"
)

func TestCompute(t *testing.T) {
	cat := catalog.MustDefault()
	p, err := profile.LoadFile("../examples/thermometer-us.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := applicability.Evaluate(cat, p)
	if err != nil {
		t.Fatal(err)
	}
	app := res.Applicable()
	statuses := map[string]string{app[0].ID: Met, app[1].ID: Met, app[2].ID: NotApplicable, app[3].ID: InProgress}
	ms := Compute(cat, res, statuses)
	if len(ms) != 4 || ms[0].Market != "US" {
		t.Fatalf("markets: %+v", ms)
	}
	us := ms[0]
	if !us.OnMarket || us.Applicable != len(app) || us.Met != 2 || us.Excluded != 1 {
		t.Errorf("US readiness %+v (applicable %d)", us, len(app))
	}
	want := 200.0 / float64(len(app)-1)
	if us.Percent != want {
		t.Errorf("percent %v, want %v", us.Percent, want)
	}
	if len(us.Gaps) != len(app)-3 || us.Counts[InProgress] != 1 || us.Counts[NotStarted] != len(app)-4 {
		t.Errorf("gaps %d counts %v", len(us.Gaps), us.Counts)
	}
	for _, m := range ms[1:] {
		if m.OnMarket || m.Applicable != 0 {
			t.Errorf("%s should be empty for a US-only device: %+v", m.Market, m)
		}
	}
	met, denom, pct := Summary(ms)
	if met != 2 || denom != len(app)-1 || pct != want {
		t.Errorf("summary %d/%d %v", met, denom, pct)
	}
}
