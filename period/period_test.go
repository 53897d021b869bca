package period

import (
	"testing"
	"time"
)

func TestParseAndAdd(t *testing.T) {
	start := time.Date(2026, 1, 31, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		in    string
		want  time.Time
		human string
	}{
		{"PT24H", time.Date(2026, 2, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "24 hours"},
		{"PT72H", time.Date(2026, 2, 3, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "72 hours"},
		{"P10D", time.Date(2026, 2, 10, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "10 days"},
		{"P1M", time.Date(2026, 2, 28, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "1 month"},
		{"P1Y", time.Date(2027, 1, 31, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "1 year"},
		{"P2W", time.Date(2026, 2, 14, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "2 weeks"},
		{"P1DT2H30M", time.Date(2026, 2, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)), "1 day 2 hours 30 minutes"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := p.AddTo(start); !got.Equal(tt.want) {
			t.Errorf("%s added to %s = %s, want %s", tt.in, start, got, tt.want)
		}
		if p.String() != tt.in {
			t.Errorf("String() = %q, want %q", p.String(), tt.in)
		}
		if p.Human() != tt.human {
			t.Errorf("Human() = %q, want %q", p.Human(), tt.human)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "P", "30D", "PT", "P1H", "PT1D", "P-1D", "P1.5D", "PTT1H", "P1X"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted; want error", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"PT24H", "P1M", "P1Y2M3DT4H5M", "P2W"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %v %v", s, q, err)
		}
	})
}
