package vex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxSize is the largest VEX document read (CSAF advisories of large vendors reach a few MiB).
const MaxSize = 64 << 20

// ReadFile reads and parses the VEX document at path; see [Parse].
func ReadFile(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads a VEX document named name (for messages), detecting its format from the content:
// OpenVEX (JSON with an openvex.dev @context), CycloneDX (JSON with bomFormat, or XML in a
// CycloneDX namespace; its vulnerabilities that carry an analysis) or CSAF 2.0 (JSON with
// document.csaf_version; any category, csaf_vex being the one for VEX). Statements that break
// the VEX rules are tidied or skipped, each with a warning in Document.Warnings.
func Parse(name string, data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, MaxSize>>20)
	}
	format, err := Detect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var d *Document
	switch format {
	case FormatOpenVEX:
		d, err = parseOpenVEX(name, data)
	case FormatCSAF:
		d, err = parseCSAF(name, data)
	default:
		d, err = parseCycloneDX(name, data, bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")))
	}
	if err != nil {
		return nil, err
	}
	if d.Statements == nil {
		d.Statements = []Statement{}
	}
	return d, nil
}

// Detect names the format of a VEX document.
func Detect(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return "", fmt.Errorf("empty; expected an OpenVEX, CycloneDX or CSAF VEX document")
	}
	if t[0] == '<' {
		if bytes.Contains(t[:min(len(t), 4096)], []byte("http://cyclonedx.org/schema/bom/")) {
			return FormatCycloneDX, nil
		}
		return "", fmt.Errorf("XML that is not a CycloneDX BOM; expected an OpenVEX, CycloneDX or CSAF VEX document")
	}
	var head struct {
		Context     any             `json:"@context"`
		BOMFormat   string          `json:"bomFormat"`
		SpecVersion string          `json:"specVersion"`
		Document    json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal(t, &head); err != nil {
		return "", fmt.Errorf("not JSON (%v); expected an OpenVEX, CycloneDX or CSAF VEX document", err)
	}
	if ctx, ok := head.Context.(string); ok && strings.HasPrefix(ctx, "https://openvex.dev/ns") {
		return FormatOpenVEX, nil
	}
	if head.BOMFormat == "CycloneDX" {
		return FormatCycloneDX, nil
	}
	if len(head.Document) > 0 {
		var doc struct {
			CSAFVersion string `json:"csaf_version"`
		}
		if json.Unmarshal(head.Document, &doc) == nil && doc.CSAFVersion != "" {
			if doc.CSAFVersion != "2.0" {
				return "", fmt.Errorf("CSAF %s is not supported; expected CSAF 2.0", doc.CSAFVersion)
			}
			return FormatCSAF, nil
		}
	}
	return "", fmt.Errorf("neither OpenVEX (no openvex.dev @context), CycloneDX (no bomFormat) nor CSAF (no document.csaf_version)")
}
