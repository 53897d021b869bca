// Package vuln is Vigil's vulnerability intelligence: readers for the public feeds (OSV advisories
// as osv.dev publishes them, the CISA Known Exploited Vulnerabilities catalog, FIRST EPSS scores)
// and the matcher that turns SBOM components into findings.
//
// The readers check what they read and refuse oversized input and zip bombs (see [Limits]); a bad
// record is reported as a [RecordError] naming the file and the record. The package does not
// store anything: the store package writes what the readers return, and the matcher reads it back
// through the [DB] interface.
package vuln

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// Advisory is one OSV record, reduced to what matching and reporting need, plus the record itself.
type Advisory struct {
	ID        string
	Modified  time.Time
	Published *time.Time
	Withdrawn *time.Time
	Aliases   []string // sorted, without the ID itself
	Summary   string
	Details   string
	// Severity is the record's best CVSS vector with its base score (v3.1/v3.0 preferred, then
	// v4.0), or only Rating when the record gives a qualitative severity (GHSA "MODERATE").
	Severity Severity
	Affected []Affected
	// Informational is set for advisories that name no vulnerability but a maintenance problem
	// (RustSec "unmaintained", "unsound", "notice"). They are matched and reported like others.
	Informational string
	// Raw is the record as JSON, as read (YAML records are converted).
	Raw []byte
	// Hash is a hex SHA-256 of what Vigil reads from the record (not of its bytes, so that the
	// same record in YAML and JSON, or re-serialised, hashes the same): what re-imports compare
	// when `modified` did not change.
	Hash string
	// RawDeflate is Raw compressed by [Advisory.Deflate], or nil.
	RawDeflate []byte
}

// Affected is one package an advisory affects, with the versions it affects.
type Affected struct {
	Ecosystem string `json:"ecosystem"` // as in the record: "Go", "PyPI", "crates.io", "Debian:12"
	Name      string `json:"name"`      // normalised for lookup (see [NormalizeName])
	// Ranges are the SEMVER and ECOSYSTEM ranges; GIT ranges (commit hashes) cannot be matched
	// against SBOM versions and are dropped.
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Range is an OSV range: events in the order the record gives them.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Severity of an advisory or finding.
type Severity struct {
	Vector string   `json:"cvss_vector,omitempty"`
	Score  *float64 `json:"score,omitempty"`
	// Rating is critical, high, medium, low, none or unknown: from the score when there is one,
	// else from the record's qualitative severity.
	Rating string `json:"rating"`
}

// Ratings, most severe first.
const (
	RatingCritical = "critical"
	RatingHigh     = "high"
	RatingMedium   = "medium"
	RatingLow      = "low"
	RatingNone     = "none"
	RatingUnknown  = "unknown"
)

// RecordError is a bad record: File names the input (for a zip, "archive.zip!entry.json"; for
// JSON lines, "file.jsonl:LINE"), Record the record's ID when it could be read.
type RecordError struct {
	File   string
	Record string
	Err    error
}

func (e *RecordError) Error() string {
	if e.Record != "" {
		return fmt.Sprintf("%s: record %s: %v", e.File, e.Record, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ErrBadInput matches every error caused by the input rather than by the machine (bad records,
// oversized files, unknown kinds); test with errors.Is.
var ErrBadInput = errors.New("bad input")

// badInput wraps err so that errors.Is(err, ErrBadInput) holds.
type badInput struct{ err error }

func (e badInput) Error() string        { return e.err.Error() }
func (e badInput) Unwrap() error        { return e.err }
func (e badInput) Is(target error) bool { return target == ErrBadInput }

func badf(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

func recordErr(file, id string, err error) error {
	return badInput{&RecordError{File: file, Record: id, Err: err}}
}

// osvRecord is the OSV schema (1.7) as far as Vigil reads it; unknown fields are ignored, because
// feeds add fields faster than tools update and a new field must not stop an import.
type osvRecord struct {
	ID        string   `json:"id"`
	Modified  string   `json:"modified"`
	Published string   `json:"published"`
	Withdrawn string   `json:"withdrawn"`
	Aliases   []string `json:"aliases"`
	Summary   string   `json:"summary"`
	Details   string   `json:"details"`
	Severity  []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity"`
	Affected []struct {
		Package *struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
			PURL      string `json:"purl"`
		} `json:"package"`
		Severity []struct {
			Type  string `json:"type"`
			Score string `json:"score"`
		} `json:"severity"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced   *string `json:"introduced"`
				Fixed        *string `json:"fixed"`
				LastAffected *string `json:"last_affected"`
				Limit        *string `json:"limit"`
			} `json:"events"`
		} `json:"ranges"`
		Versions         []string        `json:"versions"`
		DatabaseSpecific json.RawMessage `json:"database_specific"`
	} `json:"affected"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

// ParseOSV parses and checks one OSV record in JSON. file names the input in error messages.
func ParseOSV(data []byte, file string) (*Advisory, error) {
	var r osvRecord
	data = bytes.TrimSpace(data)
	if err := jsonv2.Unmarshal(data, &r, decodeOpts); err != nil {
		return nil, recordErr(file, peekID(data), fmt.Errorf("not an OSV JSON record: %v", jsonErr(data, err)))
	}
	if err := checkID(r.ID); err != nil {
		return nil, recordErr(file, "", fmt.Errorf("id: %v", err))
	}
	fail := func(format string, args ...any) error { return recordErr(file, r.ID, fmt.Errorf(format, args...)) }
	a := &Advisory{ID: r.ID, Summary: strings.TrimSpace(r.Summary), Details: r.Details}
	var err error
	if r.Modified == "" {
		return nil, fail("modified: missing (RFC 3339 time required)")
	}
	if a.Modified, err = parseTime(r.Modified); err != nil {
		return nil, fail("modified: %v", err)
	}
	if r.Published != "" {
		t, err := parseTime(r.Published)
		if err != nil {
			return nil, fail("published: %v", err)
		}
		a.Published = &t
	}
	if r.Withdrawn != "" {
		t, err := parseTime(r.Withdrawn)
		if err != nil {
			return nil, fail("withdrawn: %v", err)
		}
		a.Withdrawn = &t
	}
	for i, al := range r.Aliases {
		if err := checkID(al); err != nil {
			return nil, fail("aliases[%d]: %v", i, err)
		}
		if al != r.ID {
			a.Aliases = append(a.Aliases, al)
		}
	}
	slices.Sort(a.Aliases)
	a.Aliases = slices.Compact(a.Aliases)

	var sevs []sevEntry
	for _, s := range r.Severity {
		sevs = append(sevs, sevEntry{s.Type, s.Score})
	}
	for i, af := range r.Affected {
		where := fmt.Sprintf("affected[%d]", i)
		var out Affected
		for j, rg := range af.Ranges {
			rw := fmt.Sprintf("%s.ranges[%d]", where, j)
			switch rg.Type {
			case "SEMVER", "ECOSYSTEM":
			case "GIT":
				continue
			case "":
				return nil, fail("%s.type: missing (SEMVER, ECOSYSTEM or GIT)", rw)
			default:
				return nil, fail("%s.type: %q is not SEMVER, ECOSYSTEM or GIT", rw, rg.Type)
			}
			if len(rg.Events) == 0 {
				return nil, fail("%s.events: empty", rw)
			}
			out1 := Range{Type: rg.Type, Events: make([]Event, 0, len(rg.Events))}
			introduced := false
			for k, ev := range rg.Events {
				var e Event
				n := 0
				for _, f := range []struct {
					p   *string
					dst *string
				}{{ev.Introduced, &e.Introduced}, {ev.Fixed, &e.Fixed}, {ev.LastAffected, &e.LastAffected}, {ev.Limit, &e.Limit}} {
					if f.p != nil {
						n++
						*f.dst = strings.TrimSpace(*f.p)
						if *f.dst == "" {
							return nil, fail("%s.events[%d]: empty version", rw, k)
						}
					}
				}
				if n != 1 {
					return nil, fail("%s.events[%d]: needs exactly one of introduced, fixed, last_affected, limit (has %d)", rw, k, n)
				}
				introduced = introduced || e.Introduced != ""
				out1.Events = append(out1.Events, e)
			}
			if !introduced {
				return nil, fail("%s.events: no introduced event", rw)
			}
			out.Ranges = append(out.Ranges, out1)
		}
		for j, v := range af.Versions {
			if strings.TrimSpace(v) == "" {
				return nil, fail("%s.versions[%d]: empty", where, j)
			}
			out.Versions = append(out.Versions, v)
		}
		if af.Package == nil || af.Package.Ecosystem == "" || af.Package.Name == "" {
			if len(out.Ranges) > 0 || len(out.Versions) > 0 {
				return nil, fail("%s.package: ecosystem and name required with SEMVER/ECOSYSTEM ranges or versions", where)
			}
			continue // only GIT ranges: nothing Vigil can match
		}
		out.Ecosystem = af.Package.Ecosystem
		out.Name = NormalizeName(out.Ecosystem, af.Package.Name)
		if len(out.Ranges) == 0 && len(out.Versions) == 0 {
			// An affected package without ranges or versions affects nothing that can be named;
			// OSV consumers treat it so (osv-scanner too).
			continue
		}
		a.Affected = append(a.Affected, out)
		if len(sevs) == 0 {
			for _, s := range af.Severity {
				sevs = append(sevs, sevEntry{s.Type, s.Score})
			}
		}
		if a.Informational == "" && len(af.DatabaseSpecific) > 0 {
			var ds struct {
				Informational *string `json:"informational"`
			}
			if jsonv2.Unmarshal(af.DatabaseSpecific, &ds, decodeOpts) == nil && ds.Informational != nil {
				a.Informational = *ds.Informational
			}
		}
	}
	var qual string
	if len(r.DatabaseSpecific) > 0 {
		var ds struct {
			Severity any `json:"severity"`
		}
		if jsonv2.Unmarshal(r.DatabaseSpecific, &ds, decodeOpts) == nil {
			if s, ok := ds.Severity.(string); ok {
				qual = s
			}
		}
	}
	a.Severity = chooseSeverity(sevs, qual)

	a.Raw = data
	a.Hash = a.contentHash()
	return a, nil
}

// contentHash hashes the fields Vigil uses, in a fixed encoding.
func (a *Advisory) contentHash() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode(struct {
		ID                   string
		Modified             time.Time
		Published, Withdrawn *time.Time
		Aliases              []string
		Summary, Details     string
		Severity             Severity
		Affected             []Affected
		Informational        string
	}{a.ID, a.Modified, a.Published, a.Withdrawn, a.Aliases, a.Summary, a.Details, a.Severity, a.Affected, a.Informational})
	return hex.EncodeToString(h.Sum(nil))
}

// Deflate sets RawDeflate to Raw compressed with DEFLATE (RFC 1951) at the fastest level.
func (a *Advisory) Deflate() error {
	var buf bytes.Buffer
	buf.Grow(len(a.Raw)/3 + 64)
	zw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(a.Raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	a.RawDeflate = buf.Bytes()
	return nil
}

var flateWriters = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	return zw
}}

type sevEntry struct{ typ, score string }

// chooseSeverity picks the vector to report: CVSS v3.x first (what most advisories and FDA
// submissions use), then v4.0; v2 vectors and other scores are not scored. qual is a qualitative
// severity (GHSA's LOW/MODERATE/HIGH/CRITICAL) used when no vector can be scored.
func chooseSeverity(sevs []sevEntry, qual string) Severity {
	rank := func(s sevEntry) int {
		switch {
		case s.typ == "CVSS_V3" && strings.HasPrefix(s.score, "CVSS:3.1/"):
			return 0
		case s.typ == "CVSS_V3":
			return 1
		case s.typ == "CVSS_V4":
			return 2
		}
		return 9
	}
	sorted := slices.Clone(sevs)
	slices.SortStableFunc(sorted, func(a, b sevEntry) int { return rank(a) - rank(b) })
	for _, s := range sorted {
		if rank(s) == 9 {
			break
		}
		score, err := CVSSBaseScore(s.score)
		if err != nil {
			continue // a malformed vector is not worth refusing the record for
		}
		return Severity{Vector: s.score, Score: &score, Rating: RatingFromScore(score)}
	}
	switch strings.ToUpper(strings.TrimSpace(qual)) {
	case "CRITICAL":
		return Severity{Rating: RatingCritical}
	case "HIGH":
		return Severity{Rating: RatingHigh}
	case "MODERATE", "MEDIUM":
		return Severity{Rating: RatingMedium}
	case "LOW":
		return Severity{Rating: RatingLow}
	}
	return Severity{Rating: RatingUnknown}
}

// RatingFromScore is the CVSS v3.1/v4.0 qualitative rating of a base score.
func RatingFromScore(s float64) string {
	switch {
	case s >= 9.0:
		return RatingCritical
	case s >= 7.0:
		return RatingHigh
	case s >= 4.0:
		return RatingMedium
	case s > 0:
		return RatingLow
	}
	return RatingNone
}

// RatingRank orders ratings: critical 4, high 3, medium 2, low 1, none/unknown 0.
func RatingRank(r string) int {
	switch r {
	case RatingCritical:
		return 4
	case RatingHigh:
		return 3
	case RatingMedium:
		return 2
	case RatingLow:
		return 1
	}
	return 0
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// checkID accepts OSV identifiers: printable, no spaces, at most 256 bytes.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("missing")
	case len(id) > 256:
		return fmt.Errorf("longer than 256 bytes")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%q contains a space or control character", id)
		}
	}
	return nil
}

// peekID finds the "id" of a record that does not parse, for the error message.
func peekID(data []byte) string {
	if m := idRE().FindSubmatch(data[:min(len(data), 4096)]); m != nil && checkID(string(m[1])) == nil {
		return string(m[1])
	}
	return ""
}

// idRE finds a record's ID for an error message; compiled on first use, as every command
// would otherwise pay for it at start-up.
var idRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"id"\s*:\s*"([^"\\]+)"`) })

// jsonErr adds the line number to a JSON syntax error.
func jsonErr(data []byte, err error) error {
	var se *jsontext.SyntacticError
	var te *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %v", lineOf(data, se.ByteOffset), se.Err)
	case errors.As(err, &te):
		line := lineOf(data, te.ByteOffset)
		field := fieldPath(te.JSONPointer)
		if te.GoType != nil && te.JSONKind != 0 {
			if field == "" {
				return fmt.Errorf("line %d: expected a JSON object, found JSON %s", line, kindName(te.JSONKind))
			}
			return fmt.Errorf("line %d: field %s: expected %s, found JSON %s", line, field, te.GoType, kindName(te.JSONKind))
		}
		if field != "" {
			return fmt.Errorf("line %d: field %s: %v", line, field, te.Err)
		}
		return fmt.Errorf("line %d: %v", line, te.Err)
	}
	return err
}

// fieldPath writes a JSON pointer as a field path: /affected/0/ranges is affected[0].ranges.
func fieldPath(p jsontext.Pointer) string { return yamlfile.FieldPath(slices.Collect(p.Tokens())) }

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

// decodeOpts decode OSV records with the JSON v2 decoder (about twice as fast as encoding/json
// on these records), kept as tolerant as encoding/json of what feeds publish: repeated member
// names (the last wins) and invalid UTF-8 (replaced) are read, not refused.
var decodeOpts = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
