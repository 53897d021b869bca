package cli

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-med/vigil/vuln"
)

type jsonOutMarshaler struct{}

func (jsonOutMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"b":1,"a":[1,2]}`), nil }

// TestWriteJSONMatchesEncodingJSON: writeJSON must write exactly what an indenting encoding/json
// Encoder without HTML escaping writes, as users' scripts and the golden files expect.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	score := 7.5
	ts := time.Date(2026, 12, 6, 10, 0, 0, 123000, time.UTC)
	cases := map[string]any{
		"map keys unsorted": map[string]int{"zeta": 1, "alpha": 2, "Mid": 3},
		"nil slice and map": struct {
			S []string
			M map[string]int
		}{},
		"omitempty": struct {
			A int    `json:"a,omitempty"`
			B bool   `json:"b,omitempty"`
			C string `json:"c,omitempty"`
			D []int  `json:"d,omitempty"`
		}{},
		"html and unicode": []string{"<script>&</script>", "é\u2028\u2029", "tab\tnew\nline"},
		"time and pointer": struct {
			T time.Time
			P *float64
			N *float64
		}{ts, &score, nil},
		"marshaler":           []any{jsonOutMarshaler{}, json.RawMessage(`{"z":true}`)},
		"floats":              []float64{0, 1, 7.5, 1e21, 1e-7, 123456789.125},
		"finding":             vuln.Finding{Advisory: "GO-2023-1571", Aliases: []string{"CVE-2022-41723"}, Severity: vuln.Severity{Score: &score, Rating: "high"}},
		"empty":               []struct{}{},
		"nested empty struct": map[string]any{"a": map[string]any{}, "b": []any{}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if err := writeJSON(&got, v); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("writeJSON differs from encoding/json:\n got: %s\nwant: %s", got.String(), want.String())
			}
		})
	}
}
