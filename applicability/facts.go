package applicability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-med/vigil/profile"
)

// EU member states (ISO 3166-1 alpha-2; Greece is GR here, EL in EU usage).
var euStates = []string{"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
	"LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}

// EEA states outside the EU, where the GDPR applies through the EEA Agreement.
var eeaOnly = []string{"IS", "LI", "NO"}

func inEU(code string) bool  { return slices.Contains(euStates, code) }
func inEEA(code string) bool { return inEU(code) || slices.Contains(eeaOnly, code) }
func inUK(code string) bool  { return code == "GB" }

func filter(codes []string, keep func(string) bool) []string {
	var out []string
	for _, c := range codes {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// facts are what the rules read off a profile, computed once.
type facts struct {
	p *profile.Profile

	software bool
	// FDA's reading of "ability to connect to the internet" (premarket guidance VII.B).
	internetCapable bool
	internetBasis   string
	cyberDevice     bool

	size       enterpriseSize
	sizeKnown  bool
	sizeBasis  string
	nis2Cat    string // essential | important | "" when NIS2 does not apply
	euEstab    []string
	eeaEstab   []string
	ukEstab    bool
	euSubjects []string
	ukSubjects bool
}

type enterpriseSize int

const (
	micro enterpriseSize = iota
	small
	medium
	large
)

func (s enterpriseSize) String() string {
	return [...]string{"micro", "small", "medium-sized", "large"}[s]
}

// fdaInternetInterfaces are interfaces FDA names as means of connecting to the internet
// (premarket guidance VII.B: RF incl. Wi-Fi, cellular, Bluetooth/BLE; magnetic inductive links;
// USB, Ethernet and serial connectors).
var fdaInternetInterfaces = []string{"wifi", "cellular", "bluetooth", "bluetooth-le", "nfc", "usb", "ethernet", "serial"}

func derive(p *profile.Profile) *facts {
	f := &facts{p: p, software: p.HasSoftware()}
	c := p.Device.Connectivity
	var via []string
	for _, i := range p.PhysicalInterfaces() {
		if slices.Contains(fdaInternetInterfaces, i) {
			via = append(via, i)
		}
	}
	switch {
	case c.Internet:
		f.internetCapable = true
		f.internetBasis = "can connect to the internet (device.connectivity.internet: true)"
	case c.Cloud || c.RemoteUpdates:
		f.internetCapable = true
		f.internetBasis = "declares no internet connection, but relies on cloud services or remote updates, which need one"
	case len(via) > 0:
		f.internetCapable = true
		f.internetBasis = fmt.Sprintf("declares no internet connection, but has %s; FDA reads any such interface (even a brief USB service connection) as an ability to connect to the internet (premarket guidance VII.B)", strings.Join(via, ", "))
	default:
		f.internetBasis = "has no internet connection and no interface FDA counts as one (device.connectivity)"
		if slices.Contains(p.Device.Connectivity.Interfaces, "removable-media") {
			f.internetBasis += "; removable media alone is not listed by FDA as internet connectivity, but the threat-surface evaluation may still find a path"
		}
	}
	f.cyberDevice = f.software && f.internetCapable

	m := p.Manufacturer
	f.euEstab = filter(m.EstablishedIn, inEU)
	f.eeaEstab = filter(m.EstablishedIn, inEEA)
	f.ukEstab = slices.ContainsFunc(m.EstablishedIn, inUK)
	f.euSubjects = filter(p.Device.Data.DataSubjectsIn, inEEA)
	f.ukSubjects = slices.ContainsFunc(p.Device.Data.DataSubjectsIn, inUK)
	f.size, f.sizeKnown, f.sizeBasis = sizeOf(m)
	return f
}

// sizeOf classifies the enterprise under the Annex to Recommendation 2003/361/EC (Art. 2):
// micro < 10 staff and (turnover or balance sheet <= EUR 2 M); small < 50 and (<= EUR 10 M);
// medium < 250 and (turnover <= EUR 50 M or balance sheet <= EUR 43 M); large otherwise.
func sizeOf(m profile.Manufacturer) (enterpriseSize, bool, string) {
	if m.Employees == nil {
		return large, false, "headcount not given (manufacturer.employees)"
	}
	staff := *m.Employees
	finKnown := m.AnnualTurnoverEUR != nil || m.BalanceSheetEUR != nil
	// A financial ceiling is respected when either figure given is within it.
	within := func(turnover, balance int64) bool {
		if !finKnown {
			return false
		}
		ok := false
		if m.AnnualTurnoverEUR != nil && *m.AnnualTurnoverEUR <= turnover {
			ok = true
		}
		if m.BalanceSheetEUR != nil && *m.BalanceSheetEUR <= balance {
			ok = true
		}
		return ok
	}
	fin := "turnover and balance sheet not given"
	if finKnown {
		var parts []string
		if m.AnnualTurnoverEUR != nil {
			parts = append(parts, "turnover "+eur(*m.AnnualTurnoverEUR))
		}
		if m.BalanceSheetEUR != nil {
			parts = append(parts, "balance sheet "+eur(*m.BalanceSheetEUR))
		}
		fin = strings.Join(parts, ", ")
	}
	basis := fmt.Sprintf("%d staff, %s", staff, fin)
	switch {
	case staff < 10 && within(2_000_000, 2_000_000):
		return micro, true, basis
	case staff < 50 && within(10_000_000, 10_000_000):
		return small, true, basis
	case staff < 250 && within(50_000_000, 43_000_000):
		return medium, true, basis
	case staff >= 250:
		return large, true, basis
	case !finKnown:
		// Under 250 staff but no financial figures: the ceilings cannot be checked.
		if staff < 50 {
			return small, false, basis
		}
		return medium, false, basis
	default:
		return large, true, basis
	}
}

func eur(v int64) string {
	switch {
	case v >= 1_000_000 && v%100_000 == 0:
		s := fmt.Sprintf("%.1f", float64(v)/1_000_000)
		return "EUR " + strings.TrimSuffix(s, ".0") + " M"
	default:
		return fmt.Sprintf("EUR %d", v)
	}
}

func yesNo(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
