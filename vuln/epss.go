package vuln

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// EPSSScore is one row of the FIRST EPSS scores file: the probability of exploitation activity
// in the next 30 days, and its percentile among all scored CVEs.
type EPSSScore struct {
	CVE        string  `json:"cve"`
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
	Date       string  `json:"date,omitempty"` // score date, YYYY-MM-DD, from the file's header
}

// EPSSMeta is the file's comment header: "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000".
type EPSSMeta struct {
	ModelVersion string
	ScoreDate    string // YYYY-MM-DD
}

// ReadEPSS reads a FIRST EPSS CSV (epss_scores-YYYY-MM-DD.csv, optionally .gz) and calls fn for
// every row. Columns are found by name (cve, epss, percentile); the comment header is optional.
func ReadEPSS(path string, lim Limits, fn func(EPSSScore) error) (EPSSMeta, error) {
	lim = lim.withDefaults()
	rc, err := openFeed(path, lim.FeedBytes)
	if err != nil {
		return EPSSMeta{}, err
	}
	defer rc.Close()
	return ParseEPSS(rc, path, fn)
}

// ParseEPSS reads EPSS CSV from r; file names it in errors.
func ParseEPSS(r io.Reader, file string, fn func(EPSSScore) error) (EPSSMeta, error) {
	var meta EPSSMeta
	cr := csv.NewReader(r)
	cr.Comment = 0
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	col := map[string]int{}
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, ErrBadInput) {
				return meta, err
			}
			return meta, badf("%s: %v", file, err)
		}
		line, _ = cr.FieldPos(0)
		if len(rec) > 0 && strings.HasPrefix(rec[0], "#") {
			if len(col) == 0 {
				for _, f := range rec {
					k, v, _ := strings.Cut(strings.TrimPrefix(f, "#"), ":")
					switch strings.TrimSpace(k) {
					case "model_version":
						meta.ModelVersion = strings.TrimSpace(v)
					case "score_date":
						v = strings.TrimSpace(v)
						if len(v) >= 10 {
							if _, err := time.Parse("2006-01-02", v[:10]); err == nil {
								meta.ScoreDate = v[:10]
							}
						}
					}
				}
			}
			continue
		}
		if len(col) == 0 {
			for i, f := range rec {
				col[strings.ToLower(strings.TrimSpace(f))] = i
			}
			for _, need := range []string{"cve", "epss", "percentile"} {
				if _, ok := col[need]; !ok {
					return meta, badf("%s:%d: header has no %q column; expected cve,epss,percentile", file, line, need)
				}
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		s := EPSSScore{CVE: get("cve"), Date: meta.ScoreDate}
		if !IsCVE(s.CVE) {
			return meta, badf("%s:%d: cve: %q is not a CVE ID", file, line, s.CVE)
		}
		if s.Score, err = prob(get("epss")); err != nil {
			return meta, badf("%s:%d: %s: epss: %v", file, line, s.CVE, err)
		}
		if s.Percentile, err = prob(get("percentile")); err != nil {
			return meta, badf("%s:%d: %s: percentile: %v", file, line, s.CVE, err)
		}
		if err := fn(s); err != nil {
			return meta, err
		}
	}
	if len(col) == 0 {
		return meta, badf("%s: no header line; expected cve,epss,percentile", file)
	}
	return meta, nil
}

func prob(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1 || f != f {
		return 0, fmt.Errorf("%q is not a number between 0 and 1", s)
	}
	return f, nil
}
