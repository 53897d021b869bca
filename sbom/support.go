package sbom

import (
	"fmt"
	"strings"
	"time"
)

// Property names that carry the FDA support data in a CycloneDX component's properties.
//
// The cdx:fda and cdx:lifecycle names are registered in the CycloneDX property taxonomy
// (namespaces cdx:fda, "SBOM information for premarket submissions", and cdx:lifecycle:milestone).
// "Level of Support" and "End-of-Support" are what real medical-device SBOMs in our test data
// use. The vigil: names are Vigil's own, for tools that write what Vigil reads.
var (
	levelProperties = []string{"cdx:fda:level-of-support", "vigil:support", "level of support", "level-of-support"}
	eosProperties   = []string{"cdx:fda:end-of-support-date", "cdx:lifecycle:milestone:endOfSupport", "vigil:end-of-support", "end-of-support", "end of support"}
	// cdx:fda:justification values read "<property name>: <why the value cannot be given>".
	justificationProperty = "cdx:fda:justification"
)

// SupportLevels are the values Component.Support may take, in the order they are shown.
var SupportLevels = []string{SupportActive, SupportEnded, SupportAbandoned, SupportUnknown}

// applySupportProperties fills comp's support fields from name/value properties.
func applySupportProperties(comp *Component, props [][2]string) {
	var notes []string
	for _, p := range props {
		name, value := strings.TrimSpace(p[0]), strings.TrimSpace(p[1])
		if value == "" {
			continue
		}
		switch {
		case matchesName(name, levelProperties):
			if comp.Support != "" {
				continue // the first one wins; the taxonomy allows one per component
			}
			level, ok := NormalizeSupport(value)
			comp.Support = level
			if !ok {
				notes = append(notes, fmt.Sprintf("level of support %q", value))
			}
			comp.SupportSource = "sbom"
		case matchesName(name, eosProperties):
			if comp.EndOfSupport != "" {
				continue
			}
			if d, ok := ParseSupportDate(value); ok {
				comp.EndOfSupport = d
			} else {
				notes = append(notes, fmt.Sprintf("end of support %q", value))
			}
			comp.SupportSource = "sbom"
		case strings.EqualFold(name, justificationProperty):
			notes = append(notes, "justification: "+value)
		}
	}
	if len(notes) > 0 {
		comp.SupportNote = strings.Join(notes, "; ")
	}
}

func matchesName(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// NormalizeSupport maps what SBOMs write for the level of support onto the FDA's terms
// (premarket guidance V.A.4: "actively maintained", "no longer maintained", "abandoned"). ok is
// false when the text was not understood; the level is then SupportUnknown.
func NormalizeSupport(text string) (level string, ok bool) {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.NewReplacer("-", " ", "_", " ").Replace(t)
	t = strings.Join(strings.Fields(t), " ")
	switch t {
	case "actively maintained", "active", "maintained", "supported", "active support", "actively supported":
		return SupportActive, true
	case "no longer maintained", "not maintained", "no longer supported", "unsupported", "not supported",
		"deprecated", "end of life", "eol", "end of support", "eos", "retired", "unmaintained":
		return SupportEnded, true
	case "abandoned", "inactive", "dormant":
		return SupportAbandoned, true
	case "unknown", "noassertion", "none", "n/a", "not known":
		return SupportUnknown, true
	}
	return SupportUnknown, false
}

// ParseSupportDate reads an end-of-support date written as YYYY-MM-DD or as an RFC 3339
// timestamp (cdx:lifecycle allows either) and returns it as YYYY-MM-DD.
func ParseSupportDate(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if t, err := time.Parse(time.DateOnly, text); err == nil {
		return t.Format(time.DateOnly), true
	}
	if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
		return t.UTC().Format(time.DateOnly), true
	}
	return "", false
}
