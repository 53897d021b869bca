// Package applicability decides, for one device profile, which regimes of the catalog apply and
// why, and which of their requirements the manufacturer must meet. Every verdict carries a
// rationale that names the profile facts it used, and the citations it rests on.
package applicability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/profile"
)

// Schema of the JSON output (contract section 3).
const Schema = "vigil/applicability/v1"

// Result is the applicability of the whole catalog to one device.
type Result struct {
	Schema         string              `json:"schema"`
	Device         string              `json:"device"`
	DeviceVersion  string              `json:"device_version,omitempty"`
	Manufacturer   string              `json:"manufacturer"`
	CatalogVersion string              `json:"catalog_version"`
	CyberDevice    bool                `json:"cyber_device"`
	NIS2Category   string              `json:"nis2_category,omitempty"`
	Regimes        []RegimeResult      `json:"regimes"`
	Requirements   []RequirementResult `json:"requirements"`
}

// RegimeResult is the verdict on one regime.
type RegimeResult struct {
	ID           string   `json:"id"`
	Applies      bool     `json:"applies"`
	Rationale    string   `json:"rationale"`
	Citations    []string `json:"citations"`
	Title        string   `json:"title"`
	ShortTitle   string   `json:"short_title"`
	Jurisdiction string   `json:"jurisdiction"`
	Force        string   `json:"force"`
	Unclear      bool     `json:"unclear"`
	DutiesStart  string   `json:"duties_start,omitempty"`
	Requirements int      `json:"requirements_applicable"`
}

// RequirementResult is the verdict on one requirement.
type RequirementResult struct {
	ID         string   `json:"id"`
	Regime     string   `json:"regime"`
	Applies    bool     `json:"applies"`
	Title      string   `json:"title"`
	Citations  []string `json:"citations"`
	Controls   []string `json:"controls"`
	Evidence   []string `json:"evidence"`
	Unverified bool     `json:"unverified"`
	Rationale  string   `json:"rationale,omitempty"`
}

// Evaluate applies the catalog to a validated profile.
func Evaluate(cat *catalog.Catalog, p *profile.Profile) (*Result, error) {
	f := derive(p)
	res := &Result{
		Schema:         Schema,
		Device:         p.Name,
		DeviceVersion:  p.Version,
		Manufacturer:   p.Manufacturer.Name,
		CatalogVersion: cat.Version,
		CyberDevice:    f.cyberDevice && p.IsDevice() && p.Markets.US != nil,
	}
	verdicts := map[string]verdict{}
	// NIS2 first: its category feeds requirement conditions.
	order := slices.Clone(catalog.RegimeIDs)
	slices.SortStableFunc(order, func(a, b string) int {
		return boolInt(b == "eu.nis2") - boolInt(a == "eu.nis2")
	})
	for _, id := range order {
		rule, ok := rules[id]
		if !ok {
			return nil, fmt.Errorf("applicability: no rule for regime %s", id)
		}
		verdicts[id] = rule(f)
	}
	res.NIS2Category = f.nis2Cat
	for _, r := range cat.Regimes {
		v := verdicts[r.ID]
		rr := RegimeResult{
			ID: r.ID, Applies: v.applies, Rationale: sentence(v.why), Citations: v.citations,
			Title: r.Title, ShortTitle: r.ShortTitle, Jurisdiction: r.Jurisdiction, Force: r.Force,
			Unclear: v.unclear, DutiesStart: v.starts,
		}
		if rr.Citations == nil {
			rr.Citations = []string{}
		}
		for _, req := range r.Requirements {
			q := RequirementResult{
				ID: req.ID, Regime: r.ID, Title: req.Title, Citations: req.Citations,
				Controls: req.ControlIDs(), Evidence: req.Evidence, Unverified: req.Unverified(),
			}
			switch {
			case !v.applies:
				q.Rationale = "the regime does not apply"
			default:
				ok, why := conditionsHold(req.When, f)
				q.Applies = ok
				q.Rationale = why
			}
			if q.Applies {
				rr.Requirements++
			}
			res.Requirements = append(res.Requirements, q)
		}
		res.Regimes = append(res.Regimes, rr)
	}
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sentence joins rationale parts into prose: "A; b; c."
func sentence(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// conditionsHold evaluates a requirement's extra conditions. The explanation names the facts when
// a condition is set, and is empty when the requirement applies with its regime.
func conditionsHold(w *catalog.Conditions, f *facts) (bool, string) {
	if w == nil {
		return true, ""
	}
	p := f.p
	var met, unmet []string
	flag := func(want *bool, have bool, what string) {
		if want == nil {
			return
		}
		if *want == have {
			met = append(met, fmt.Sprintf("%s is %s", what, yesNo(have)))
		} else {
			unmet = append(unmet, fmt.Sprintf("requires %s to be %s", what, yesNo(*want)))
		}
	}
	list := func(want []string, have, what string) {
		if want == nil {
			return
		}
		if have != "" && slices.Contains(want, have) {
			met = append(met, fmt.Sprintf("%s %s is one of %s", what, have, strings.Join(want, ", ")))
		} else if have == "" {
			unmet = append(unmet, fmt.Sprintf("requires %s in %s; the profile has none", what, strings.Join(want, ", ")))
		} else {
			unmet = append(unmet, fmt.Sprintf("requires %s in %s; this device is %s", what, strings.Join(want, ", "), have))
		}
	}
	var usSub, usClass, caClass, euClass, ivdrClass, ukClass string
	if m := p.Markets.US; m != nil {
		usSub, usClass = m.Submission, m.Class
	}
	if m := p.Markets.CA; m != nil {
		caClass = m.Class
	}
	if m := p.Markets.EU; m != nil {
		switch m.Regulation {
		case "mdr":
			euClass = m.Class
		case "ivdr":
			ivdrClass = m.Class
		}
	}
	if m := p.Markets.UK; m != nil {
		ukClass = m.Class
	}
	flag(w.Device, p.IsDevice(), "a medical device (device.kind is not non-device)")
	flag(w.CyberDevice, f.cyberDevice, "cyber device (FD&C 524B(c))")
	list(w.USSubmission, usSub, "US submission")
	list(w.USClass, usClass, "US class")
	list(w.CAClass, caClass, "Canadian class")
	list(w.EUClass, euClass, "EU MDR class")
	list(w.IVDRClass, ivdrClass, "EU IVDR class")
	list(w.UKClass, ukClass, "GB class")
	flag(w.Implantable, p.Device.Implantable, "device.implantable")
	flag(w.Software, f.software, "device.software")
	flag(w.Connected, p.Connected(), "connected (any interface, internet or cloud)")
	flag(w.Cloud, p.Device.Connectivity.Cloud, "device.connectivity.cloud")
	flag(w.RemoteUpdates, p.Device.Connectivity.RemoteUpdates, "device.connectivity.remote_updates")
	flag(w.PersonalData, p.Device.Data.Personal, "device.data.personal")
	flag(w.HealthData, p.Device.Data.Health, "device.data.health")
	flag(w.AI, p.Device.AI, "device.ai")
	list(w.NIS2Category, f.nis2Cat, "NIS2 entity category")
	flag(w.LayUser, p.Device.LayUser, "device.lay_user")
	if len(unmet) > 0 {
		return false, sentence(unmet)
	}
	return true, sentence(met)
}

// Applicable returns the requirements that apply, in catalog order.
func (r *Result) Applicable() []RequirementResult {
	var out []RequirementResult
	for _, q := range r.Requirements {
		if q.Applies {
			out = append(out, q)
		}
	}
	return out
}

// Regime returns the verdict on one regime.
func (r *Result) Regime(id string) (RegimeResult, bool) {
	for _, rr := range r.Regimes {
		if rr.ID == id {
			return rr, true
		}
	}
	return RegimeResult{}, false
}
