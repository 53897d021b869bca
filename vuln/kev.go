package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// KEVEntry is one entry of the CISA Known Exploited Vulnerabilities catalog.
type KEVEntry struct {
	CVE               string `json:"cve"`
	VendorProject     string `json:"vendor_project,omitempty"`
	Product           string `json:"product,omitempty"`
	VulnerabilityName string `json:"vulnerability_name,omitempty"`
	DateAdded         string `json:"date_added"`         // YYYY-MM-DD
	DueDate           string `json:"due_date,omitempty"` // YYYY-MM-DD
	// Ransomware is the catalog's knownRansomwareCampaignUse: "Known" or "Unknown".
	Ransomware     string `json:"ransomware,omitempty"`
	RequiredAction string `json:"required_action,omitempty"`
}

// KEVCatalog is the whole catalog.
type KEVCatalog struct {
	Version  string // catalogVersion, e.g. "2025.08.25"
	Released string // dateReleased
	Entries  []KEVEntry
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// IsCVE reports whether id is a CVE identifier.
func IsCVE(id string) bool { return cveRE.MatchString(id) }

// ReadKEV reads the CISA KEV JSON catalog (known_exploited_vulnerabilities.json, optionally
// gzip-compressed).
func ReadKEV(path string, lim Limits) (*KEVCatalog, error) {
	lim = lim.withDefaults()
	rc, err := openFeed(path, lim.FeedBytes)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := readCapped(rc, lim.FeedBytes, path)
	if err != nil {
		return nil, err
	}
	return ParseKEV(data, path)
}

// ParseKEV parses and checks the KEV catalog; file names it in errors.
func ParseKEV(data []byte, file string) (*KEVCatalog, error) {
	var doc struct {
		CatalogVersion  string `json:"catalogVersion"`
		DateReleased    string `json:"dateReleased"`
		Count           *int   `json:"count"`
		Vulnerabilities []struct {
			CVEID                      string `json:"cveID"`
			VendorProject              string `json:"vendorProject"`
			Product                    string `json:"product"`
			VulnerabilityName          string `json:"vulnerabilityName"`
			DateAdded                  string `json:"dateAdded"`
			DueDate                    string `json:"dueDate"`
			KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
			RequiredAction             string `json:"requiredAction"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, badf("%s: not the CISA KEV JSON catalog: %v", file, jsonErr(data, err))
	}
	if doc.Vulnerabilities == nil {
		return nil, badf("%s: vulnerabilities: missing; expected the CISA KEV JSON catalog", file)
	}
	if doc.Count != nil && *doc.Count != len(doc.Vulnerabilities) {
		return nil, badf("%s: count says %d entries but vulnerabilities holds %d (truncated download?)", file, *doc.Count, len(doc.Vulnerabilities))
	}
	cat := &KEVCatalog{Version: doc.CatalogVersion, Released: doc.DateReleased, Entries: make([]KEVEntry, 0, len(doc.Vulnerabilities))}
	seen := make(map[string]bool, len(doc.Vulnerabilities))
	for i, v := range doc.Vulnerabilities {
		fail := func(format string, args ...any) error {
			return recordErr(file, v.CVEID, fmt.Errorf("vulnerabilities[%d]: "+format, append([]any{i}, args...)...))
		}
		id := strings.TrimSpace(v.CVEID)
		if !IsCVE(id) {
			return nil, fail("cveID: %q is not a CVE ID (CVE-YYYY-NNNN)", v.CVEID)
		}
		if seen[id] {
			return nil, fail("cveID: %s listed twice", id)
		}
		seen[id] = true
		if err := checkDate(v.DateAdded, true); err != nil {
			return nil, fail("dateAdded: %v", err)
		}
		if err := checkDate(v.DueDate, false); err != nil {
			return nil, fail("dueDate: %v", err)
		}
		cat.Entries = append(cat.Entries, KEVEntry{
			CVE: id, VendorProject: v.VendorProject, Product: v.Product, VulnerabilityName: v.VulnerabilityName,
			DateAdded: v.DateAdded, DueDate: v.DueDate, Ransomware: v.KnownRansomwareCampaignUse, RequiredAction: v.RequiredAction,
		})
	}
	return cat, nil
}

func checkDate(s string, required bool) error {
	if s == "" {
		if required {
			return errors.New("missing (YYYY-MM-DD)")
		}
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return nil
}
