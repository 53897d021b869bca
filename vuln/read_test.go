package vuln

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var ctx = context.Background()

// shared returns a file of ../shared/data, skipping the test when it is absent (a user's clone).
func shared(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not present (shared test data is not part of a clone)", p)
	}
	return p
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func makeZip(t *testing.T, path string, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Dir(path), filepath.Base(path), buf.Bytes())
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func readAll(t *testing.T, path string, opts ReadOptions) ([]*Advisory, error) {
	t.Helper()
	src, err := Detect(path)
	if err != nil {
		return nil, err
	}
	var out []*Advisory
	err = ReadOSV(ctx, src, opts, func(a *Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func TestDetectAndReadLayouts(t *testing.T) {
	dir := t.TempDir()
	rec := func(id string) []byte {
		return []byte(`{"id":"` + id + `","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"versions":["1.0"]}]}`)
	}
	yamlRec := []byte("id: PYSEC-Y\nmodified: \"2024-01-01T00:00:00Z\"\naffected:\n- package:\n    name: Foo.Bar\n    ecosystem: PyPI\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 0.98.5\n")
	osvDir := filepath.Join(dir, "osvdir")
	writeFile(t, osvDir, "a/A-1.json", rec("A-1"))
	writeFile(t, osvDir, "b/c/A-2.yaml", yamlRec)
	writeFile(t, osvDir, ".git/HEAD.json", []byte("not json"))
	writeFile(t, osvDir, "README.md", []byte("# not a record"))
	cases := []struct {
		path   string
		kind   Kind
		layout string
		ids    string
	}{
		{makeZip(t, filepath.Join(dir, "all.zip"), map[string][]byte{"A-1.json": rec("A-1"), "vulns/x/A-2.yaml": yamlRec, "vulns/.id-allocator": []byte("xyz")}), KindOSV, "zip", "A-1,PYSEC-Y"},
		{osvDir, KindOSV, "dir", "A-1,PYSEC-Y"},
		{writeFile(t, dir, "recs.jsonl", append(append(rec("A-1"), '\n'), rec("A-2")...)), KindOSV, "jsonl", "A-1,A-2"},
		{writeFile(t, dir, "recs.txt", append(append(rec("A-1"), '\n'), rec("A-2")...)), KindOSV, "jsonl", "A-1,A-2"},
		{writeFile(t, dir, "one.json", []byte("{\n  \"id\": \"A-3\",\n  \"modified\": \"2024-01-01T00:00:00Z\"\n}\n")), KindOSV, "json", "A-3"},
		{writeFile(t, dir, "one.json.gz", gz(rec("A-4"))), KindOSV, "json", "A-4"},
		{writeFile(t, dir, "PYSEC-Y.yaml", yamlRec), KindOSV, "yaml", "PYSEC-Y"},
		{writeFile(t, dir, "kev.json", []byte(`{"catalogVersion":"1","vulnerabilities":[]}`)), KindKEV, "json", ""},
		{writeFile(t, dir, "scores.csv.gz", gz([]byte("#model_version:v1,score_date:2025-01-01T00:00:00+0000\ncve,epss,percentile\n"))), KindEPSS, "csv", ""},
	}
	for _, c := range cases {
		src, err := Detect(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if src.Kind != c.kind || src.Layout != c.layout {
			t.Errorf("%s: detected %s/%s, want %s/%s", c.path, src.Kind, src.Layout, c.kind, c.layout)
		}
		if c.kind != KindOSV {
			continue
		}
		recs, err := readAll(t, c.path, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
			if r.ID == "PYSEC-Y" && (r.Affected[0].Name != "foo-bar" || !bytes.HasPrefix(r.Raw, []byte(`{"id":"PYSEC-Y"`))) {
				t.Errorf("YAML record: %+v %s", r.Affected, r.Raw)
			}
		}
		if strings.Join(ids, ",") != c.ids {
			t.Errorf("%s: read %v, want %s", c.path, ids, c.ids)
		}
	}
	for _, bad := range []string{writeFile(t, dir, "notes.txt", []byte("hello")), filepath.Join(dir, "missing.zip")} {
		if _, err := Detect(bad); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Detect(%s) = %v", bad, err)
		}
	}
}

func TestBadRecordsNameFileAndRecord(t *testing.T) {
	dir := t.TempDir()
	good := `{"id":"GO-1","modified":"2024-01-01T00:00:00Z"}`
	cases := map[string]struct{ data, want string }{
		"syntax":       {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z",}`, `all.zip!GO-2.json: record GO-2: not an OSV JSON record: line 1:`},
		"no id":        {`{"modified":"2024-01-01T00:00:00Z"}`, `all.zip!GO-2.json: id: missing`},
		"bad modified": {`{"id":"GO-2","modified":"yesterday"}`, `record GO-2: modified: "yesterday" is not an RFC 3339 time`},
		"no modified":  {`{"id":"GO-2"}`, `record GO-2: modified: missing`},
		"two keys":     {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}`, `record GO-2: affected[0].ranges[0].events[0]: needs exactly one of introduced, fixed, last_affected, limit (has 2)`},
		"no intro":     {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}`, `affected[0].ranges[0].events: no introduced event`},
		"range type":   {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVR","events":[{"introduced":"0"}]}]}]}`, `"SEMVR" is not SEMVER, ECOSYSTEM or GIT`},
		"no package":   {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z","affected":[{"versions":["1.0"]}]}`, `affected[0].package: ecosystem and name required`},
		"wrong type":   {`{"id":"GO-2","modified":"2024-01-01T00:00:00Z","aliases":"CVE-1"}`, `field aliases: expected []string`},
	}
	for name, c := range cases {
		p := makeZip(t, filepath.Join(dir, name, "all.zip"), map[string][]byte{"GO-1.json": []byte(good), "GO-2.json": []byte(c.data)})
		_, err := readAll(t, p, ReadOptions{})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v\nwant it to contain %q", name, err, c.want)
		}
		// With OnInvalid the good record is still read.
		var skipped []error
		recs, err := readAll(t, p, ReadOptions{OnInvalid: func(err error) { skipped = append(skipped, err) }})
		if err != nil || len(recs) != 1 || len(skipped) != 1 {
			t.Errorf("%s: skip-invalid read %d records, %d skipped, err %v", name, len(recs), len(skipped), err)
		}
	}
	jl := writeFile(t, dir, "x.jsonl", []byte(good+"\n\n{\"id\":\"GO-3\"}\n"))
	if _, err := readAll(t, jl, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "x.jsonl:3: record GO-3: modified: missing") {
		t.Errorf("jsonl: %v", err)
	}
	y := writeFile(t, dir, "anchor.yaml", []byte("id: &x PYSEC-1\nmodified: \"2024-01-01T00:00:00Z\"\nsummary: *x\n"))
	if _, err := readAll(t, y, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "anchors and aliases") {
		t.Errorf("yaml anchors: %v", err)
	}
}

func TestLimitsRefuseBombs(t *testing.T) {
	dir := t.TempDir()
	big := []byte(`{"id":"BIG-1","modified":"2024-01-01T00:00:00Z","details":"` + strings.Repeat("A", 1<<20) + `"}`)
	small := []byte(`{"id":"S-1","modified":"2024-01-01T00:00:00Z"}`)
	p := makeZip(t, filepath.Join(dir, "bomb.zip"), map[string][]byte{"BIG-1.json": big})
	if fi, _ := os.Stat(p); fi.Size() > 8<<10 {
		t.Fatalf("test zip is %d bytes; expected a small, highly compressed file", fi.Size())
	}
	_, err := readAll(t, p, ReadOptions{Limits: Limits{RecordBytes: 64 << 10}})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "bomb.zip!BIG-1.json") || !strings.Contains(err.Error(), "per-record limit") {
		t.Errorf("per-record limit: %v", err)
	}
	files := map[string][]byte{}
	for i := range 20 {
		files[string(rune('a'+i))+".json"] = small
	}
	p = makeZip(t, filepath.Join(dir, "many.zip"), files)
	if _, err = readAll(t, p, ReadOptions{Limits: Limits{TotalBytes: 500}}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "limit for one input") {
		t.Errorf("total limit: %v", err)
	}
	if _, err = readAll(t, p, ReadOptions{Limits: Limits{Entries: 10}}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "20 files") {
		t.Errorf("entries limit: %v", err)
	}
	// A gzip bomb: a small .gz that decompresses past the feed limit.
	g := writeFile(t, dir, "bomb.csv.gz", gz(append([]byte("cve,epss,percentile\n"), bytes.Repeat([]byte("CVE-2020-0001,0.1,0.1\n"), 200000)...)))
	if _, err := ReadEPSS(g, Limits{FeedBytes: 1 << 20}, func(EPSSScore) error { return nil }); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("gzip bomb: %v", err)
	}
	// A cancelled context stops a read.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	src, _ := Detect(p)
	if err := ReadOSV(cctx, src, ReadOptions{}, func(*Advisory) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
}

// TestZipHeadersThatLie: entries are read compressed and inflated by Vigil, which checks what
// archive/zip would: a size or CRC-32 that does not match the data is refused, naming the entry.
// A good entry's stored compressed bytes inflate back to the record.
func TestZipHeadersThatLie(t *testing.T) {
	rec := []byte(`{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","summary":"` + strings.Repeat("x", 300) + `"}`)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(rec)
	fw.Close()
	write := func(name string, crc uint32, size uint64) string {
		path := filepath.Join(t.TempDir(), name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "GO-2099-0001.json", Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
		if err := errors.Join(zw.Close(), f.Close()); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := crc32.ChecksumIEEE(rec)
	recs, err := readAll(t, write("good.zip", good, uint64(len(rec))), ReadOptions{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("good zip: %v %v", recs, err)
	}
	a := recs[0]
	inflated, err := io.ReadAll(flate.NewReader(bytes.NewReader(a.RawDeflate)))
	if err != nil || !bytes.Equal(inflated, rec) || !bytes.Equal(a.RawDeflate, comp.Bytes()) {
		t.Errorf("stored compressed record: %d bytes, inflates to %q (%v)", len(a.RawDeflate), inflated, err)
	}
	for name, c := range map[string]struct {
		crc  uint32
		size uint64
		want string
	}{
		"crc.zip":   {good ^ 1, uint64(len(rec)), "checksum error"},
		"short.zip": {good, uint64(len(rec)) - 10, "but the zip says"},
		"long.zip":  {good, uint64(len(rec)) + 10, "but the zip says"},
	} {
		_, err := readAll(t, write(name, c.crc, c.size), ReadOptions{})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), name+"!GO-2099-0001.json") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestReadRealOSV(t *testing.T) {
	for _, c := range []struct {
		file      string
		n         int
		withdrawn int
		eco       string
	}{
		{"osv/golang-vulndb-osv.zip", 4291, 17, EcoGo},
		{"osv/rustsec-advisory-db-osv.zip", 1206, 13, EcoCrates},
		{"osv/pypa-advisory-database-osv-json.zip", 2661, 10, EcoPyPI},
		{"osv/pypa-advisory-database-yaml.zip", 2661, 10, EcoPyPI},
	} {
		recs, err := readAll(t, shared(t, c.file), ReadOptions{Prepare: (*Advisory).Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w, scored, info := 0, 0, 0
		for _, r := range recs {
			if r.Withdrawn != nil {
				w++
			}
			if r.Severity.Score != nil {
				scored++
			}
			if r.Informational != "" {
				info++
			}
			for _, af := range r.Affected {
				if af.Ecosystem != c.eco {
					t.Fatalf("%s: %s has ecosystem %q", c.file, r.ID, af.Ecosystem)
				}
			}
			if len(r.RawDeflate) == 0 || len(r.RawDeflate) > len(r.Raw)+64 {
				t.Fatalf("%s: deflated %d of %d bytes", r.ID, len(r.RawDeflate), len(r.Raw))
			}
		}
		if len(recs) != c.n || w != c.withdrawn {
			t.Errorf("%s: %d records, %d withdrawn; want %d, %d", c.file, len(recs), w, c.n, c.withdrawn)
		}
		t.Logf("%s: %d records, %d withdrawn, %d with a CVSS score, %d informational", c.file, len(recs), w, scored, info)
	}
}

func TestOSVSchemaTestdata(t *testing.T) {
	recs := map[string]*Advisory{}
	src, err := Detect(shared(t, "osv/osv-schema-testdata.zip"))
	if err != nil {
		t.Fatal(err)
	}
	// The zip mixes OSV records with GHSA-format inputs of converters: read what parses.
	var bad []string
	err = ReadOSV(ctx, src, ReadOptions{OnInvalid: func(err error) { bad = append(bad, err.Error()) }}, func(a *Advisory) error {
		recs[a.ID] = a
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := recs["GO-2020-0001"]; a == nil || len(a.Affected) != 1 || a.Affected[0].Name != "github.com/gin-gonic/gin" {
		t.Errorf("GO-2020-0001: %+v", a)
	}
	if a := recs["GHSA-35c4-f3rq-f9g3"]; a == nil || a.Withdrawn == nil {
		t.Errorf("withdrawn GHSA: %+v", a)
	}
	for _, b := range bad {
		if !strings.Contains(b, "osv-schema-testdata.zip!") {
			t.Errorf("error does not name the entry: %s", b)
		}
	}
	t.Logf("%d records read, %d refused", len(recs), len(bad))
}

func TestKEV(t *testing.T) {
	cat, err := ReadKEV(shared(t, "kev/known_exploited_vulnerabilities.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cat.Version != "2025.08.25" || len(cat.Entries) != 1404 {
		t.Errorf("KEV %s: %d entries", cat.Version, len(cat.Entries))
	}
	if e := cat.Entries[0]; e.CVE != "CVE-2025-48384" || e.DateAdded != "2025-08-25" || e.DueDate != "2025-09-15" || e.Ransomware != "Unknown" {
		t.Errorf("first entry %+v", e)
	}
	for doc, want := range map[string]string{
		`{"count":2,"vulnerabilities":[{"cveID":"CVE-2020-0001","dateAdded":"2020-01-01"}]}`: "count says 2 entries but vulnerabilities holds 1",
		`{"vulnerabilities":[{"cveID":"CVE-20-1","dateAdded":"2020-01-01"}]}`:                `record CVE-20-1: vulnerabilities[0]: cveID: "CVE-20-1" is not a CVE ID`,
		`{"vulnerabilities":[{"cveID":"CVE-2020-0001","dateAdded":"01/02/2020"}]}`:           `dateAdded: "01/02/2020" is not a date`,
		`{"catalogVersion":"x"}`: "vulnerabilities: missing",
		`[1,2]`:                  "not the CISA KEV JSON catalog",
	} {
		if _, err := ParseKEV([]byte(doc), "kev.json"); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "kev.json") {
			t.Errorf("%s: %v\nwant %q", doc, err, want)
		}
	}
}

func TestEPSS(t *testing.T) {
	var got []EPSSScore
	meta, err := ReadEPSS("testdata/epss_synthetic.csv", Limits{}, func(s EPSSScore) error {
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if meta.ModelVersion != "v2025.03.14" || meta.ScoreDate != "2025-08-25" || len(got) != 4 {
		t.Fatalf("meta %+v, %d rows", meta, len(got))
	}
	if got[0] != (EPSSScore{CVE: "CVE-2021-44228", Score: 0.94358, Percentile: 0.99958, Date: "2025-08-25"}) {
		t.Errorf("row 0: %+v", got[0])
	}
	for doc, want := range map[string]string{
		"cve,epss\nCVE-2020-0001,0.1\n":                                   `header has no "percentile" column`,
		"cve,epss,percentile\nCVE-2020-0001,1.5,0.1\n":                    `e.csv:2: CVE-2020-0001: epss: "1.5" is not a number between 0 and 1`,
		"cve,epss,percentile\nCVE-X,0.1,0.1\n":                            `e.csv:2: cve: "CVE-X" is not a CVE ID`,
		"#model_version:v1\ncve,epss,percentile\nCVE-2020-0001,NaN,0.1\n": `e.csv:3`,
		"": "no header line",
	} {
		_, err := ParseEPSS(strings.NewReader(doc), "e.csv", func(EPSSScore) error { return nil })
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v\nwant %q", doc, err, want)
		}
	}
}

func TestCVSSBaseScore(t *testing.T) {
	for v, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H":                    9.8,
		"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H":                    8.1,
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N": 9.3,
	} {
		got, err := CVSSBaseScore(v)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, bad := range []string{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS:3.1/AV:X", ""} {
		if _, err := CVSSBaseScore(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseOSV: the OSV reader never panics, and what it accepts is consistent.
func FuzzParseOSV(f *testing.F) {
	f.Add([]byte(goNet))
	f.Add([]byte(ghsaNet))
	f.Add([]byte(withdrawnNet))
	f.Add([]byte(`{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"A_b"},"versions":["1"],"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2"},{"limit":"*"}]}]}],"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}`))
	f.Add([]byte(`{"id":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseOSV(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error does not match ErrBadInput: %v", err)
			}
			return
		}
		if checkID(a.ID) != nil {
			t.Fatalf("accepted bad ID %q", a.ID)
		}
		for _, af := range a.Affected {
			if af.Ecosystem == "" || af.Name == "" && len(af.Ranges)+len(af.Versions) > 0 {
				t.Fatalf("affected without package: %+v", af)
			}
			for _, r := range af.Ranges {
				for _, e := range r.Events {
					n := 0
					for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
						if s != "" {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("event %+v", e)
					}
				}
				// Matching must not panic on whatever was accepted.
				AffectsVersion(af.Ecosystem, "1.0.0", af)
			}
		}
		if err := a.Deflate(); err != nil {
			t.Fatal(err)
		}
	})
}
